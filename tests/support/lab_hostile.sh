# shellcheck shell=bash
# Hostile-server helpers for the hardening tests. Source after lab.sh and lab_init:
#
#   source "$HC_SUPPORT/lab.sh"; source "$HC_SUPPORT/lab_hostile.sh"; lab_init
#
#   start_hostile PORT [CASE]         hostile_server.py on 127.0.0.1:PORT. Without CASE the case
#                                     is chosen per connection by hostile_case; captures go to
#                                     $LAB/hostile-PORT.cap/NNNN-CASE.in
#   hostile_case PORT CASE            the case the next connections to PORT will play
#   hostile_conns PORT                how many connections PORT has accepted so far
#   hostile_wait_conns PORT N [SECS]  wait (bounded) until PORT has accepted N connections
#   hostile_last_capture PORT         path of the newest capture file of PORT (bytes received)
#   hostile_fail PORT CASE WANT HOPCHAIN-ARGS...
#                                     play CASE, run `hopchain ARGS` (stdin /dev/null) and expect
#                                     exit 1, WANT in stderr, and an end within HOSTILE_MAX_SECS
#   hostile_echo PORT CASE DESC [PREFIX] -- HOPCHAIN-ARGS...
#                                     play CASE (a success case that then echoes) and check a
#                                     4 KiB echo through `hopchain ARGS stdio 127.0.0.1 9`,
#                                     expecting PREFIX first (bytes glued to the reply)
#   assert_no_bytes_since PORT N      PORT accepted nothing after its Nth connection, or only
#                                     connections on which nothing arrived
#   assert_file_lacks FILE DESC STR...  none of STR occurs in FILE (fixed strings, binary safe)

HOSTILE_MAX_SECS=${HOSTILE_MAX_SECS:-5}   # bound for a failure that needs no timeout
export HOSTILE_PIPELINE=${HOSTILE_PIPELINE:-never}   # never or always: hopchain's --pipeline
# shellcheck disable=SC2034 # used by the scripts that source this file
HOSTILE_GLUE="GLUED-PAYLOAD-0123456789"$'\n'   # what the *_glued cases send with their reply

# A scripted server plays one case per connection and captures what arrives, so hopchain's
# background probe of a new hop (does it take pipelined handshakes?) would be a stray connection
# here: the hostile tests run hopchain with --pipeline=never, or with HOSTILE_PIPELINE=always
# (read at every run) with every handshake pipelined, which needs no probe either.
_hostile_no_probes() {
  [[ -n ${HOSTILE_NO_PROBES:-} ]] && return
  printf '#!/bin/sh\nexec "%s" --pipeline="${HOSTILE_PIPELINE:-never}" "$@"\n' "$HOPCHAIN" \
    >"$LAB/hopchain-no-probes"
  chmod +x "$LAB/hopchain-no-probes"
  HOPCHAIN="$LAB/hopchain-no-probes"
  HOSTILE_NO_PROBES=1
}

start_hostile() { # PORT [CASE]
  _hostile_no_probes
  local port=$1 case=${2:-}
  local name="hostile-$port"
  local args=(--port "$port" --capture-dir "$LAB/$name.cap")
  if [[ -n $case ]]; then
    args+=(--case "$case")
  else
    : >"$LAB/$name.case"
    args+=(--case-file "$LAB/$name.case")
  fi
  mkdir -p "$LAB/$name.cap"
  lab_bg "$name" python3 "$HC_SUPPORT/hostile_server.py" "${args[@]}"
  _lab_wait_up "$name" "$LAB_LAST_PID" "$port" 127.0.0.1
}

hostile_case() { # PORT CASE
  echo "$2" >"$LAB/hostile-$1.case"
}

hostile_conns() { # PORT
  find "$LAB/hostile-$1.cap" -maxdepth 1 -name '*.in' | wc -l
}

hostile_wait_conns() { # PORT N [SECONDS]
  local port=$1 n=$2 secs=${3:-10} i
  for ((i = 0; i < secs * 10; i++)); do
    (($(hostile_conns "$port") >= n)) && return 0
    sleep 0.1
  done
  fail "hostile server $port did not reach $n connections within ${secs}s"
}

hostile_last_capture() { # PORT
  local f
  f=$(find "$LAB/hostile-$1.cap" -maxdepth 1 -name '*.in' | sort | tail -n 1)
  [[ -n $f ]] || fail "hostile server $1 has no capture yet"
  echo "$f"
}

hostile_fail() { # PORT CASE WANT HOPCHAIN-ARGS...
  local port=$1 case=$2 want=$3
  shift 3
  hostile_case "$port" "$case"
  expect_fail_with "$want" "$HOPCHAIN" "$@"
  assert_rc 1
  awk -v s="$LAB_LAST_SECS" -v m="$HOSTILE_MAX_SECS" 'BEGIN { exit !(s < m) }' ||
    fail "$case: took ${LAB_LAST_SECS}s (bound ${HOSTILE_MAX_SECS}s)"
  note "ok: $case -> exit 1 in ${LAB_LAST_SECS}s: $(tr '\n' ' ' <"$LAB_LAST_ERR" | head -c 220)"
}

hostile_echo() { # PORT CASE DESC [PREFIX] -- HOPCHAIN-ARGS...
  local port=$1 case=$2 desc=$3 prefix=""
  shift 3
  if [[ $1 != -- ]]; then
    prefix=$1
    shift
  fi
  [[ $1 == -- ]] || fail "hostile_echo: missing --"
  shift
  hostile_case "$port" "$case"
  DRIVER_PREFIX=$prefix driver_echo_check "$case: $desc" 4096 127.0.0.1 9 "$@"
}

# _hostile_settled PORT N : nothing waits in PORT's accept queue, and every connection after the
# Nth has had its case played to the end (what arrived on it is recorded).
_hostile_settled() {
  local port=$1 before=$2 queued
  queued=$(ss -Hltn "sport = :$port" 2>/dev/null | awk '{ q += $2 } END { print q + 0 }')
  ((queued == 0)) || return 1
  awk -v n="$before" '
    $2 == "conn" && $4 == "case" { seq = $3 + 0; if (seq <= n) next
      if (NF == 5) open[seq] = 1; else if ($6 == "finished" || $6 == "ended:") delete open[seq] }
    END { for (s in open) exit 1 }' "$LAB/hostile-$port.log"
}

assert_no_bytes_since() { # PORT N
  local port=$1 before=$2 f n=0
  # The client is gone: let the server accept and read to the end whatever the kernel queued.
  wait_until 10 _hostile_settled "$port" "$before" ||
    note "hostile server $port: connections after the ${before}th still open 10 s on; checking what arrived so far"
  while IFS= read -r f; do
    n=$((n + 1))
    ((n > before)) || continue
    [[ ! -s $f ]] || fail "hostile server $port received $(stat -c %s "$f") bytes on $(basename "$f")"
  done < <(find "$LAB/hostile-$port.cap" -maxdepth 1 -name '*.in' | sort)
}

assert_file_lacks() { # FILE DESC STR...
  local file=$1 desc=$2 s
  shift 2
  [[ -f $file ]] || fail "$desc: no capture file $file"
  for s in "$@"; do
    [[ -n $s ]] || continue
    if grep -qaF -- "$s" "$file"; then
      fail "$desc: '$s' found in $(basename "$file")"
    fi
  done
}
