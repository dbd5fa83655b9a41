# shellcheck shell=bash
# shellcheck disable=SC2034  # LOAD_* variables are set here for the sourcing scripts
# Load through forward mode, shared by tests/integration/load.sh and tests/bench/load.sh. Source
# it after lab.sh and lab_init.
#
#   load_size                sizes the load to this machine: sets LOAD_CONNS and LOAD_BYTES
#                            (HC_LOAD_CONNS / HC_LOAD_BYTES override them) and says why
#   load_build_client        compiles tests/bench/hcbench.cpp with g++ -O2 (not instrumented, so
#                            the client stays fast under a sanitizer build of hopchain); cached
#                            by content in $HCBENCH_DIR (default /tmp/hcbench-UID); sets HCBENCH
#   load_start_chain         raises ulimit -n, starts an hcbench echo target and two microsocks
#                            hops (a thread per client: thousands of clients are cheap; danted
#                            forks a process per few clients and takes far longer to get there),
#                            then hopchain forward through them; sets LOAD_PORT, LOAD_PID
#   load_run CONNS BYTES [TIMEOUT]
#                            hcbench load: CONNS connections at once through the forward, each
#                            sends BYTES of its own pattern and checks the echo byte by byte;
#                            sets LOAD_RESULT (the result line), LOAD_RSS_IDLE, LOAD_RSS_PEAK,
#                            LOAD_RSS_AFTER (KiB: before, high-water mark, and once every
#                            connection has closed), LOAD_CPU_MS (hopchain's CPU during the run)
#   load_kv KEY              value of key=value in LOAD_RESULT
#   load_hop_timeouts        hopchain's log lines for chains that failed because a hop did not
#                            answer within LOAD_HOP_TIMEOUT, counted by hop and stage ("2x hop
#                            2/2 socks5://...: auth"), or nothing; load_hop_timeout_count: how many
#
# Pipelined handshakes stay off (--pipeline=never): microsocks does not take them, and learning
# that costs a failed connection per hop. --connect-timeout LOAD_HOP_TIMEOUT (120 s): with
# thousands of connections arriving at once while the first ones already move data, a
# thread-per-client hop on 2 cores shared with other work took over 60 s to answer a greeting.

LOAD_HOP_TIMEOUT=${LOAD_HOP_TIMEOUT:-120}
# hopchain's error line for a chain whose hop did not answer: "hop 2/2 URL: auth: timed out: ...",
# or for the request, "hop 2/2 URL: could not reach the target HOST:PORT: timed out: ..."
LOAD_HOP_TIMEOUT_ERE='hop [0-9]+/[0-9]+ [^ ]+: ([A-Za-z]+|could not reach .*): timed out'

# load_size : 500 connections per core, at most 2,000 (the full test needs 4 cores), halved for a
# sanitizer build; at most one per 4 MiB of available memory (hopchain, two thread-per-client
# hops, the echo target and the kernel's socket buffers); 1 MiB each (512 KiB under 4 cores, 256 KiB
# under a sanitizer), so that the run takes well under its 200 s on 2 cores shared with other work.
load_size() {
  local cores avail_mib by_cpu by_mem why
  cores=$(nproc)
  avail_mib=$(awk '$1 == "MemAvailable:" { print int($2 / 1024) }' /proc/meminfo)
  by_cpu=$((cores * 500))
  ((by_cpu <= 2000)) || by_cpu=2000
  LOAD_BYTES=1M
  ((cores >= 4)) || LOAD_BYTES=512K
  why="$cores cores"
  if hopchain_sanitized; then
    by_cpu=$((by_cpu / 2))
    LOAD_BYTES=256K
    why+=", sanitizer build"
  fi
  by_mem=$((avail_mib / 4))
  LOAD_CONNS=$((by_cpu < by_mem ? by_cpu : by_mem))
  why+=", $avail_mib MiB available"
  ((LOAD_CONNS >= 200)) || fail "only $LOAD_CONNS connections fit this machine ($why): too small for a load test"
  LOAD_CONNS=${HC_LOAD_CONNS:-$LOAD_CONNS}
  LOAD_BYTES=${HC_LOAD_BYTES:-$LOAD_BYTES}
  note "load: $LOAD_CONNS connections x $LOAD_BYTES ($why; HC_LOAD_CONNS / HC_LOAD_BYTES override)"
}

load_build_client() {
  lab_require g++ sha256sum
  local src=$HC_SUPPORT/../bench/hcbench.cpp digest
  [[ -f $src ]] || fail "no $src"
  digest=$(sha256sum "$src" | cut -c1-16)
  HCBENCH_DIR=${HCBENCH_DIR:-${TMPDIR:-/tmp}/hcbench-$(id -u)}
  mkdir -p "$HCBENCH_DIR"
  HCBENCH=$HCBENCH_DIR/hcbench-$digest
  if [[ ! -x $HCBENCH ]]; then
    note "building $HCBENCH"
    timeout 300 g++ -std=c++20 -O2 -pthread -o "$HCBENCH.$$.tmp" "$src" ||
      fail "cannot build $src"
    mv -f "$HCBENCH.$$.tmp" "$HCBENCH"
  fi
}

# VmRSS or VmHWM (KiB) of PID
_load_status_kib() { # PID FIELD
  awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

load_start_chain() {
  lab_require microsocks
  # 2 descriptors per connection in each of hopchain and the hops; the client needs 1 each
  ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
  local E M1 M2
  E=$(free_port)
  lab_bg "echo-$E" "$HCBENCH" serve --port "$E" --mode echo
  _lab_wait_up "echo-$E" "$LAB_LAST_PID" "$E" 127.0.0.1
  M1=$(free_port); start_microsocks "$M1"
  M2=$(free_port); start_microsocks "$M2"
  LOAD_PORT=$(free_port)
  lab_bg hopchain-load "$HOPCHAIN" --pipeline=never --connect-timeout "$LOAD_HOP_TIMEOUT" -x "socks5://127.0.0.1:$M1" \
    -x "socks5://127.0.0.1:$M2" forward "$LOAD_PORT:127.0.0.1:$E"
  LOAD_PID=$LAB_LAST_PID
  wait_port "$LOAD_PORT" 127.0.0.1 || fail "hopchain did not listen on $LOAD_PORT"
  [[ $(cat "/proc/$LOAD_PID/comm" 2>/dev/null) == hopchain ]] || fail "pid $LOAD_PID is not hopchain"
  # warm up (first use of the resolver, allocator arenas...) before the idle reading
  timeout 60 "$HCBENCH" load --connect "127.0.0.1:$LOAD_PORT" --count 20 --bytes 64K --timeout 30 \
    >"$LAB/warmup.out" || {
    cat "$LAB/warmup.out" >&2
    fail "warm-up through the chain failed"
  }
}

_load_fds() { find "/proc/$LOAD_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }

_load_cpu_ms() {
  awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$LOAD_PID/stat"
}

# True when hopchain has no TCP connection left (its listener aside).
_load_no_conns() {
  ! ss -Htnp 2>/dev/null | grep -q "pid=$LOAD_PID,"
}

# Bounded wait (5 s) for hopchain's RSS to stop falling once the connections have closed (freed
# memory goes back to the system a little after the last close): two readings 0.5 s apart within
# 256 KiB of each other.
_load_wait_rss_settled() {
  local prev now i
  prev=$(_load_status_kib "$LOAD_PID" VmRSS)
  for ((i = 0; i < 10; i++)); do
    sleep 0.5
    now=$(_load_status_kib "$LOAD_PID" VmRSS)
    ((prev - now < 256)) && return 0
    prev=$now
  done
}

load_hop_timeouts() {
  { grep -oE "$LOAD_HOP_TIMEOUT_ERE" "$LAB/hopchain-load.log" 2>/dev/null || true; } |
    sed 's/: timed out$//' | sort | uniq -c | awk '{ c = $1; $1 = ""; printf "%s%dx%s", sep, c, $0; sep = "; " }'
}

# load_hop_timeout_count : how many chains failed because a hop did not answer in time
load_hop_timeout_count() {
  grep -cE "$LOAD_HOP_TIMEOUT_ERE" "$LAB/hopchain-load.log" 2>/dev/null || true
}

# Bounded wait (10 s) for hopchain to hold no connection any more: only its listener, stdio and
# event descriptors stay open.
_load_wait_idle() {
  local base=$1 i
  for ((i = 0; i < 100; i++)); do
    (($(_load_fds) <= base)) && return 0
    sleep 0.1
  done
  return 1
}

load_run() { # CONNS BYTES [TIMEOUT]
  local conns=$1 bytes=$2 limit=${3:-110} rc=0 base cpu0
  # idle: the warm-up's connections have all closed
  wait_until 10 _load_no_conns || note "hopchain still has connections open before the run"
  base=$(_load_fds)
  LOAD_RSS_IDLE=$(_load_status_kib "$LOAD_PID" VmRSS)
  cpu0=$(_load_cpu_ms)
  timeout -k 5 "$((limit + 10))" "$HCBENCH" load --connect "127.0.0.1:$LOAD_PORT" --count "$conns" \
    --bytes "$bytes" --timeout "$limit" >"$LAB/load.out" 2>&1 || rc=$?
  LOAD_RESULT=$(grep '^result ' "$LAB/load.out" || true)
  [[ -n $LOAD_RESULT ]] || {
    cat "$LAB/load.out" >&2
    fail "hcbench load gave no result (exit $rc)"
  }
  LOAD_CPU_MS=$(($(_load_cpu_ms) - cpu0))
  LOAD_RSS_PEAK=$(_load_status_kib "$LOAD_PID" VmHWM)
  _load_wait_idle "$base" || note "hopchain still holds $(_load_fds) descriptors (idle: $base)"
  _load_wait_rss_settled
  LOAD_RSS_AFTER=$(_load_status_kib "$LOAD_PID" VmRSS)
  LOAD_SMAPS_AFTER=$(grep -E '^(Rss|Anonymous|Private_Dirty|Shared_Clean|Private_Clean):' \
    "/proc/$LOAD_PID/smaps_rollup" | tr -s ' ' | tr '\n' ' ')
  LOAD_RC=$rc
}

load_kv() { # KEY
  tr ' ' '\n' <<<"$LOAD_RESULT" | awk -F= -v k="$1" '$1 == k { print $2; exit }'
}
