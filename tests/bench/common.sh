# shellcheck shell=bash
# Shared by the benchmark scripts in tests/bench/ (not part of the test run). Source it, then
# call bench_init. It sources tests/support/lab.sh (servers on loopback, process tracking,
# cleanup by trap) and adds:
#   HOPCHAIN     the binary under test: $HOPCHAIN, else $HC_ROOT/build-bench/cmd/hopchain
#   HCBENCH      tests/bench/hcbench.cpp compiled with g++ (cached in $HCBENCH_DIR)
#   HC_PIPELINE  1 when `hopchain --help` mentions --pipeline, else 0
#   bench_cgroup_new NAME   sets BENCH_CG to a fresh cgroup directory for CPU accounting
#   bench_kv KEY LINE       value of key=value in a result line
#   start_delay_proxy LISTEN_PORT TARGET_PORT [DELAY_MS]
#   start_hcbench_server NAME PORT MODE [BYTES]
#   bench_proxychains_conf FILE TYPE PORT...   strict chain of TYPE hops on 127.0.0.1
#   bench_delayed_hops NAME COUNT DELAY_MS      danted hops behind delay proxies (P[k], D[k])
# Every process is started through lab_bg (killed by the EXIT trap); every wait is bounded.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HC_ROOT=$(cd "$BENCH_DIR/../.." && pwd)
HC_SUPPORT=${HC_SUPPORT:-$HC_ROOT/tests/support}
# shellcheck source=../support/lab.sh
source "$HC_SUPPORT/lab.sh"

BENCH_CGROUPS=()

bench_init() {
  lab_init
  trap _bench_cleanup EXIT
  # the concurrency bench needs tens of thousands of descriptors; try to raise the limits
  if [[ $(id -u) == 0 ]]; then
    ulimit -Hn 1048576 2>/dev/null || true
  fi
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
  lab_require g++ timeout awk
  _bench_find_hopchain
  _bench_build_helper
  # Capture first: grep -q exiting early would kill hopchain with SIGPIPE under pipefail.
  local help_text
  help_text=$("$HOPCHAIN" --help 2>&1)
  if grep -q -- "--pipeline" <<<"$help_text"; then HC_PIPELINE=1; else HC_PIPELINE=0; fi
  # hopchain may learn per-hop facts in the XDG cache: keep the bench's own, apart from the user's
  export XDG_CACHE_HOME="$LAB/xdg-cache"
  mkdir -p "$XDG_CACHE_HOME"
  _bench_cgroup_root
  note "hopchain: $HOPCHAIN ($("$HOPCHAIN" --version 2>&1 | head -n1)); --pipeline: $([[ $HC_PIPELINE == 1 ]] && echo yes || echo 'not available')"
  note "cpu accounting: ${BENCH_CG_ROOT:-none (cgroups unavailable, falling back to rusage)}; nproc $(nproc); ulimit -n $(ulimit -n)"
}

_bench_find_hopchain() {
  if [[ -z ${HOPCHAIN:-} ]]; then
    HOPCHAIN=$HC_ROOT/build-bench/cmd/hopchain
  fi
  [[ -x $HOPCHAIN ]] || fail "hopchain binary not found at $HOPCHAIN: set HOPCHAIN=/path/to/hopchain, or run tests/bench/run_all.sh (it builds one)"
  export HOPCHAIN
}

_bench_build_helper() {
  HCBENCH_DIR=${HCBENCH_DIR:-${TMPDIR:-/tmp}/hcbench-$(id -u)}
  mkdir -p "$HCBENCH_DIR"
  HCBENCH=$HCBENCH_DIR/hcbench
  if [[ ! -x $HCBENCH || $BENCH_DIR/hcbench.cpp -nt $HCBENCH ]]; then
    note "building $HCBENCH"
    timeout 300 g++ -std=c++20 -O2 -Wall -pthread -o "$HCBENCH.tmp" "$BENCH_DIR/hcbench.cpp" ||
      fail "cannot build tests/bench/hcbench.cpp"
    mv "$HCBENCH.tmp" "$HCBENCH"
  fi
  export HCBENCH
}

# CPU accounting by cgroup, so that a client's children (proxychains' socat, ncat --sh-exec,
# chained socat forwarders) are all counted: cgroup v1 cpuacct, else v2.
_bench_cgroup_root() {
  BENCH_CG_ROOT=
  [[ ${BENCH_NO_CGROUP:-} == 1 ]] && return 0
  local base
  for base in /sys/fs/cgroup/cpuacct /sys/fs/cgroup/cpu,cpuacct /sys/fs/cgroup/unified /sys/fs/cgroup; do
    [[ -d $base ]] || continue
    if [[ -f $base/cpuacct.usage_user || -f $base/cgroup.controllers ]]; then
      if mkdir "$base/hcbench-$$" 2>/dev/null; then
        BENCH_CG_ROOT=$base/hcbench-$$
        BENCH_CGROUPS+=("$BENCH_CG_ROOT")
        return 0
      fi
    fi
  done
}

# bench_cgroup_new NAME: sets BENCH_CG to a new, empty cgroup directory under BENCH_CG_ROOT
# ("" when cgroups are unavailable). Every one is removed at exit.
bench_cgroup_new() {
  BENCH_CG=
  [[ -n $BENCH_CG_ROOT ]] || return 0
  local seq
  seq=$(($(cat "$LAB/cg-seq" 2>/dev/null || echo 0) + 1))
  echo "$seq" >"$LAB/cg-seq"
  BENCH_CG=$BENCH_CG_ROOT/$seq-$1
  mkdir "$BENCH_CG" || fail "cannot create cgroup $BENCH_CG"
}

# bench_cgroup_kill DIR: kill every process left in the cgroup (TERM, then KILL), bounded.
bench_cgroup_kill() {
  local cg=$1 i pids
  [[ -n $cg && -d $cg ]] || return 0
  for ((i = 0; i < 30; i++)); do
    pids=$(tr '\n' ' ' <"$cg/cgroup.procs" 2>/dev/null)
    [[ -z ${pids// /} ]] && return 0
    # shellcheck disable=SC2086
    if ((i < 20)); then kill -TERM $pids 2>/dev/null; else kill -KILL $pids 2>/dev/null; fi
    sleep 0.1
  done
}

_bench_cleanup() {
  local rc=$? cg d
  set +e
  trap - EXIT
  for cg in "${BENCH_CGROUPS[@]}"; do
    [[ -d $cg ]] || continue
    for d in "$cg"/*/ "$cg"; do
      [[ -d $d ]] || continue
      bench_cgroup_kill "${d%/}"
    done
    for d in "$cg"/*/; do [[ -d $d ]] && rmdir "${d%/}" 2>/dev/null; done
    rmdir "$cg" 2>/dev/null
  done
  (exit "$rc")
  _lab_cleanup
}

# bench_kv KEY LINE: the value of KEY=... in LINE (key=value words)
bench_kv() {
  awk -v k="$1" '{ for (i = 1; i <= NF; i++) { n = index($i, "="); if (n && substr($i, 1, n - 1) == k) { print substr($i, n + 1); exit } } }' <<<"$2"
}

# bench_ratio A B [DIGITS]: A / B, or "-" when either is missing or B is 0
bench_ratio() {
  awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN {
    if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) { print "-"; exit }
    printf "%.*f\n", d, a / b }'
}

start_delay_proxy() { # LISTEN_PORT TARGET_PORT [DELAY_MS]
  local lp=$1 tp=$2 d=${3:-10}
  lab_bg "delay-$lp" python3 "$BENCH_DIR/delay_proxy.py" --listen "127.0.0.1:$lp" \
    --target "127.0.0.1:$tp" --delay-ms "$d"
  _lab_wait_up "delay-$lp" "$LAB_LAST_PID" "$lp" 127.0.0.1
}

start_hcbench_server() { # NAME PORT MODE [BYTES]
  local name=$1 port=$2 mode=$3 bytes=${4:-0}
  lab_bg "$name" "$HCBENCH" serve --port "$port" --mode "$mode" --bytes "$bytes"
  _lab_wait_up "$name" "$LAB_LAST_PID" "$port" 127.0.0.1
}

bench_proxychains_conf() { # FILE TYPE PORT...
  local file=$1 type=$2 p
  shift 2
  {
    echo "# generated by tests/bench/common.sh"
    echo "strict_chain"
    echo "quiet_mode"
    echo "tcp_read_time_out 15000"
    echo "tcp_connect_time_out 8000"
    echo "[ProxyList]"
    for p in "$@"; do echo "$type 127.0.0.1 $p"; done
  } >"$file"
}

# bench_delayed_hops NAME COUNT DELAY_MS: COUNT danted hops, each behind a delay proxy; sets
# P[k] (danted's port) and D[k] (the delay proxy's, what clients use), k = 1..COUNT
bench_delayed_hops() {
  local name=$1 count=$2 delay=$3 k
  P=() D=()
  for ((k = 1; k <= count; k++)); do
    P[k]=$(free_port)
    start_danted "$name-$k" "${P[k]}"
    D[k]=$(free_port)
    start_delay_proxy "${D[k]}" "${P[k]}" "$delay"
  done
}

# bench_hop_args PORT...: -x socks5://127.0.0.1:PORT for each
bench_hop_args() {
  local p
  BENCH_CHAIN=()
  for p in "$@"; do BENCH_CHAIN+=(-x "socks5://127.0.0.1:$p"); done
  [[ $# -gt 0 ]] || BENCH_CHAIN=(--direct)
}

# bench_header TITLE: a banner before a table
bench_header() {
  printf '\n=== %s ===\n' "$1"
}
