#!/usr/bin/env bash
# Who may use hopchain's UDP relays, against scripted intruders (tests/support/udp_intruders.py):
#   - `socks` UDP ASSOCIATE on loopback: an intruder running as another user (nobody) that
#     sends to the relay before the client does (DST.PORT 0, on an open loopback server and on
#     a --users server where the intruder has no credentials; and with the client's port named)
#     gets nothing, and the real client keeps working; hopchain says why at -v;
#   - the direct association (no hop): datagrams from a third party to its upstream socket,
#     which listens on every interface, never reach the client;
#   - `udp` mode: 300 spoofed sources (other 127.x addresses and ports) do not lock a real one
#     out: the idlest source is evicted (--udp-max-sources, default 256, and a smaller one).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
# shellcheck source=SCRIPTDIR/../support/lab_udp.sh
source "$HC_SUPPORT/lab_udp.sh"
lab_init
require_hopchain
lab_require setpriv ss

# The intruder runs as nobody: it needs a python it may execute (not one under /root).
INTRUDER_PY=/usr/bin/python3
[[ -x $INTRUDER_PY ]] || fail "$INTRUDER_PY is needed to run the intruder as another user"
((EUID == 0)) || fail "this test runs the intruder as another user: run it as root"
INTRUDER="setpriv --reuid nobody --regid nogroup --clear-groups $INTRUDER_PY"
NOBODY_UID=$(id -u nobody)

E=$(free_port); start_udp_echo "$E" 127.0.0.1

intruders() { # DESC CMD-ARGS...
  local desc=$1 out
  shift
  out=$(timeout -k 5 90 python3 "$HC_SUPPORT/udp_intruders.py" "$@" 2>&1) ||
    { echo "$out" >&2; fail "$desc"; }
  note "ok: $desc: ${out//$'\n'/; }"
}

# --- socks UDP ASSOCIATE on loopback: another user's datagrams --------------------------------
P=$(free_port)
lab_bg hc-socks "$HOPCHAIN" --direct -v socks "$P"
_lab_wait_up hc-socks "$LAB_LAST_PID" "$P" 127.0.0.1
intruders "open loopback server, DST.PORT 0: the intruder (uid $NOBODY_UID) sends first" \
  hijack 127.0.0.1 "$P" --target "127.0.0.1:$E" --intruder-prefix "$INTRUDER"
wait_log "$LAB/hc-socks.log" "UDP: datagrams from 127\.0\.0\.1:[0-9]+ dropped: its socket belongs to uid $NOBODY_UID, the client is uid 0" 5
n=$(count_log "$LAB/hc-socks.log" "belongs to uid $NOBODY_UID")
((n == 1)) || fail "the intruder's first datagrams should be logged once, the log shows $n lines"
intruders "open loopback server, the client names its port" \
  hijack 127.0.0.1 "$P" --target "127.0.0.1:$E" --declare-port --intruder-prefix "$INTRUDER"
lab_kill "$LAB_LAST_PID"

printf '%s:%s\n' "$LAB_USER" "$LAB_PASS" >"$LAB/users"
chmod 600 "$LAB/users"
PU=$(free_port)
lab_bg hc-users "$HOPCHAIN" --direct -v socks --users "$LAB/users" "$PU"
_lab_wait_up hc-users "$LAB_LAST_PID" "$PU" 127.0.0.1
HC_TEST_PASSWORD=$LAB_PASS intruders \
  "--users server, DST.PORT 0: an intruder without credentials sends first" \
  hijack 127.0.0.1 "$PU" --target "127.0.0.1:$E" --user "$LAB_USER" --intruder-prefix "$INTRUDER"
wait_log "$LAB/hc-users.log" "dropped: its socket belongs to uid $NOBODY_UID, the client is uid 0" 5
wait_log "$LAB/hc-users.log" "SOCKS5 UDP ASSOCIATE: closed: 11 sent, 11 received, [1-9][0-9]* dropped" 5
lab_kill "$LAB_LAST_PID"

# --- the direct association's upstream socket -------------------------------------------------
P=$(free_port)
lab_bg hc-direct "$HOPCHAIN" --direct -v socks "$P"
_lab_wait_up hc-direct "$LAB_LAST_PID" "$P" 127.0.0.1
intruders "no hop: a third party's datagrams to the upstream socket" \
  direct-forge 127.0.0.1 "$P" --target "127.0.0.1:$E"
wait_log "$LAB/hc-direct.log" "UDP: datagram dropped: it came from 127\.0\.0\.1:[0-9]+, not from a destination sent to" 5
lab_kill "$LAB_LAST_PID"

# --- udp mode: spoofed sources do not lock a real one out --------------------------------------
L=$(free_port)
start_hopchain_udp hc-udp --direct -v udp "$L:127.0.0.1:$E" -- "$L"
intruders "udp mode, default limit: 300 spoofed sources, then a new real one" \
  sources 127.0.0.1 "$L" --spoofed 300
n=$(count_log "$LAB/hc-udp.log" "evicted for 127\.0\.0\.1:[0-9]+ after [0-9]+ ms idle: 256 sources served")
((n == 1)) || fail "the real source should have evicted one spoofed source, the log shows $n"
intruders "udp mode, default limit: a real source active before 300 spoofed ones" \
  sources 127.0.0.1 "$L" --spoofed 300 --real-first
lab_kill "$LAB_LAST_PID"

L=$(free_port)
start_hopchain_udp hc-udp8 --direct -v udp --udp-max-sources 8 "$L:127.0.0.1:$E" -- "$L"
intruders "udp --udp-max-sources 8: 30 spoofed sources around a real one" \
  sources 127.0.0.1 "$L" --spoofed 30 --real-first
n=$(count_log "$LAB/hc-udp8.log" "evicted for .*: 8 sources served \(--udp-max-sources\)")
((n >= 23)) || fail "expected at least 23 evictions with --udp-max-sources 8, the log shows $n"
wait_log "$LAB/hc-udp8.log" ": evicted for a new source, closed: " 5
lab_kill "$LAB_LAST_PID"
