#!/usr/bin/env bash
# Proves `hopchain forward`: several SPECs served at once by one process over a 2-hop chain
# (danted -> ssh -D), with the default bind (127.0.0.1), an explicit IPv4 bind, an IPv6 bind
# ([::1]) and an IPv6 target in brackets; 100 concurrent connections on one listener, each
# with its own random payload and its own chain, all echoed back intact; and that a
# connection whose chain fails (target port closed) is closed on its own while the process
# and every listener keep serving. Runs with two event loops (--workers 2), each listening on
# every port, so the kernel spreads the connections across both.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
lab_init
require_hopchain

E=$(free_port); start_echo "$E" 127.0.0.1
E6=$(free_port); start_echo "$E6" ::1
BN=$(free_port); start_banner_server "$BN" "FWD-BANNER"$'\n' 127.0.0.1
CLOSED=$(free_port)   # nothing listens here
DA=$(free_port); start_danted dante-a "$DA"
SSHD=$(free_port); start_sshd "$SSHD"
SD=$(free_port); start_ssh_socks "$SD" "$SSHD"

L1=$(free_port) L2=$(free_port) L3=$(free_port) L4=$(free_port) L5=$(free_port)
CHAIN=(-x "socks5://127.0.0.1:$DA" -x "socks5h://127.0.0.1:$SD")
lab_bg hopchain-forward "$HOPCHAIN" "${CHAIN[@]}" forward --workers 2 \
  "$L1:127.0.0.1:$E" \
  "127.0.0.1:$L2:[::1]:$E6" \
  "$L3:127.0.0.1:$CLOSED" \
  "[::1]:$L4:localhost:$E" \
  "$L5:127.0.0.1:$BN"
HC_PID=$LAB_LAST_PID
# Each event loop has its own listening socket per port (SO_REUSEPORT).
listeners() { ss -Hltn "sport = :$1" | wc -l; }
two_listeners() { (($(listeners "$1") >= 2)); }
for port in "$L1" "$L3"; do
  wait_until 10 two_listeners "$port" || true
  n=$(listeners "$port")
  ((n == 2)) || fail "port $port: $n listening sockets, want 2 (one per event loop)"
done
note "ok: two event loops listen on each port"
for spec in "$L1 127.0.0.1" "$L2 127.0.0.1" "$L3 127.0.0.1" "$L4 ::1" "$L5 127.0.0.1"; do
  read -r port host <<<"$spec"
  if ! wait_port "$port" "$host" 15; then
    cat "$LAB/hopchain-forward.log" >&2
    fail "hopchain forward is not listening on $host:$port"
  fi
done
note "hopchain forward listening on $L1 $L2 $L3 [::1]:$L4 $L5"

hc_alive() {
  [[ -n $(_lab_live_in_groups "$HC_PID") ]] || {
    cat "$LAB/hopchain-forward.log" >&2
    fail "hopchain forward exited ($1)"
  }
}

# check_echo DESC HOST PORT tcp_check-ARGS...
check_echo() {
  local desc=$1 host=$2 port=$3 out
  shift 3
  out=$(timeout 120 python3 "$HC_SUPPORT/tcp_check.py" echo "$host" "$port" --timeout 100 "$@" 2>&1) || {
    echo "$out" >&2
    fail "$desc"
  }
  note "ok: $desc: $out"
}

check_echo "single connection, spec 1" 127.0.0.1 "$L1" --count 1 --max-size 100000
check_echo "single connection, spec 2 (IPv6 target)" 127.0.0.1 "$L2" --count 1 --max-size 100000
check_echo "single connection, spec 4 ([::1] bind, target by name)" ::1 "$L4" --count 1 --max-size 100000
out=$(timeout 30 python3 "$HC_SUPPORT/tcp_check.py" banner 127.0.0.1 "$L5" "FWD-BANNER"$'\n' 2>&1) ||
  fail "banner through forward: $out"
note "ok: banner target through forward"

check_echo "100 concurrent connections on spec 1" 127.0.0.1 "$L1" --count 100 --min-size 1 --max-size 262144
hc_alive "after 100 concurrent connections"
# both listeners busy at the same time
timeout 120 python3 "$HC_SUPPORT/tcp_check.py" echo 127.0.0.1 "$L1" --count 30 --max-size 65536 --timeout 100 >"$LAB/par1.out" 2>&1 &
p1=$!
timeout 120 python3 "$HC_SUPPORT/tcp_check.py" echo 127.0.0.1 "$L2" --count 30 --max-size 65536 --timeout 100 >"$LAB/par2.out" 2>&1 &
p2=$!
r1=0 r2=0
wait "$p1" || r1=$?
wait "$p2" || r2=$?
((r1 == 0 && r2 == 0)) || {
  cat "$LAB/par1.out" "$LAB/par2.out" >&2
  fail "30+30 concurrent connections on two listeners"
}
note "ok: 30 + 30 concurrent connections on two listeners at once"

# a failing chain closes that connection only
for i in 1 2 3; do
  out=$(timeout 30 python3 "$HC_SUPPORT/tcp_check.py" closed 127.0.0.1 "$L3" 2>&1) ||
    fail "connection $i to the spec with a closed target: $out"
done
note "ok: 3 connections to a closed target were closed"
hc_alive "after failed chains"
check_echo "spec 1 still serving after failed chains" 127.0.0.1 "$L1" --count 10 --max-size 65536
out=$(timeout 30 python3 "$HC_SUPPORT/tcp_check.py" closed 127.0.0.1 "$L3" 2>&1) ||
  fail "listener of the failing spec stopped accepting: $out"
note "ok: the failing spec's listener still accepts (and closes) connections"

# failed and good connections interleaved
timeout 60 python3 "$HC_SUPPORT/tcp_check.py" echo 127.0.0.1 "$L1" --count 20 --max-size 65536 --timeout 50 >"$LAB/mix.out" 2>&1 &
pm=$!
for i in 1 2 3 4 5; do
  timeout 30 python3 "$HC_SUPPORT/tcp_check.py" closed 127.0.0.1 "$L3" >/dev/null 2>&1 || fail "closed-target connection $i (interleaved)"
done
rm_rc=0
wait "$pm" || rm_rc=$?
((rm_rc == 0)) || {
  cat "$LAB/mix.out" >&2
  fail "echo connections interleaved with failing ones"
}
note "ok: 20 echo connections interleaved with 5 failing ones"
hc_alive "at the end"

# A second process on a port this one serves must fail, not quietly take a share of its
# connections (SO_REUSEPORT lets any process of the same user join a shared port).
for workers in 1 2; do
  expect_fail_with "address already in use" "$HOPCHAIN" "${CHAIN[@]}" forward \
    --workers "$workers" "$L1:127.0.0.1:$E"
done
note "ok: a second forward on a busy port fails with 'address already in use'"
check_echo "spec 1 still serving every connection after the refused second process" \
  127.0.0.1 "$L1" --count 20 --max-size 65536
hc_alive "after the refused second process"
