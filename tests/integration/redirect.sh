#!/usr/bin/env bash
# redirect mode (the redsocks role) behind real nftables rules, in a network namespace of its
# own: a user's TCP to an address outside loopback is `redirect`ed, its UDP `tproxy`'d, to
# hopchain redirect, which carries each through the chain to the original destination; the
# targets listen in a second namespace, across a veth pair (10.99.0.2, fd99::2).
#   - danted as hop: curl gets a page, 1 MiB echoes byte-checked, a UDP echo comes back from the
#     destination the program sent to; the same TCP and UDP echoes over IPv6;
#   - microsocks as hop (no UDP): TCP works, datagrams are dropped and the reason logged once
#     per destination; a connection to the listener's own address is refused as a loop;
#   - without CAP_NET_ADMIN, --udp is refused by name; SIGTERM exits 0.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
# shellcheck source=SCRIPTDIR/../support/lab_capture.sh
source "$HC_SUPPORT/lab_capture.sh"
capture_enter_namespace "$@"
lab_init
require_hopchain
lab_require danted microsocks curl
capture_lab_init
T=$CAPTURE_TARGET_IP

# The targets, in their namespace: a web page, a TCP echo and a UDP echo.
mkdir -p "$LAB/www"
make_payload "$LAB/www/page.bin" 65536
H=$(free_port) E=$(free_port) U=$(free_port)
lab_bg target-http nsenter -t "$CAPTURE_TARGETS_PID" -n python3 -m http.server --bind "$T" --directory "$LAB/www" "$H"
lab_bg target-echo nsenter -t "$CAPTURE_TARGETS_PID" -n python3 "$HC_SUPPORT/echo_server.py" --port "$E" --bind "$T" --mode echo
lab_bg target-udp nsenter -t "$CAPTURE_TARGETS_PID" -n python3 "$HC_SUPPORT/udp_echo.py" --port "$U" --bind "$T"
T6=$CAPTURE_TARGET_IP6 E6=$(free_port) U6=$(free_port)
lab_bg target-echo6 nsenter -t "$CAPTURE_TARGETS_PID" -n python3 "$HC_SUPPORT/echo_server.py" --port "$E6" --bind "$T6" --mode echo
lab_bg target-udp6 nsenter -t "$CAPTURE_TARGETS_PID" -n python3 "$HC_SUPPORT/udp_echo.py" --port "$U6" --bind "$T6"
for port in "$H" "$E" "$E6"; do wait_target_port "$port"; done
wait_target_port "$U" udp
wait_target_port "$U6" udp

D=$(free_port); start_danted dante "$D" "external=$CAPTURE_LOCAL_IP" "external=$CAPTURE_LOCAL_IP6"
M=$(free_port); start_microsocks "$M"

# Users 4242 and 4243 are captured, each to its own hopchain; hops run as other users.
RD=$(free_port) RM=$(free_port)
capture_rules "4242:$RD" "4243:$RM"
note "lab up: targets $T (http $H, echo $E, udp $U), danted $D, microsocks $M"

"$HOPCHAIN" -v -x "socks5://127.0.0.1:$D" redirect --udp "*:$RD" 2>"$LAB/hc-dante.err" &
HCD=$!
echo "$HCD hc-dante" >>"$LAB/pids"
"$HOPCHAIN" -x "socks5://127.0.0.1:$M" redirect --udp "*:$RM" 2>"$LAB/hc-micro.err" &
HCM=$!
echo "$HCM hc-micro" >>"$LAB/pids"
for port in "$RD" "$RM"; do
  wait_until 15 sh -c "ss -Hltn 'sport = :$port' | grep -q ." || fail "redirect did not listen on *:$port"
done

# --- through danted -----------------------------------------------------------------------
as_user 4242 curl -sS --max-time 30 "http://$T:$H/page.bin" >"$LAB/page.got" ||
  fail "curl through redirect (danted) failed"
cmp -s "$LAB/page.got" "$LAB/www/page.bin" || fail "curl got other bytes than the page"
wait_log "$LAB/hc-dante.err" "redirect \\*:$RD: tcp 10.99.0.1:[0-9]+ -> $T:$H" 10
note "ok: curl through redirect and danted"

# 1 MiB each way, half-closed and byte-checked (danted and hopchain relay the half-close)
as_user 4242 "$CAPTURE_PYTHON" "$HC_SUPPORT/tcp_check.py" echo "$T" "$E" --count 1 \
  --min-size 1048576 --max-size 1048576 --timeout 60 ||
  fail "1 MiB echo through redirect (danted) failed"
note "ok: 1 MiB echoed byte-checked through redirect and danted"

as_user 4242 "$CAPTURE_PYTHON" "$HC_SUPPORT/udp_check.py" echo "$T" "$U" --count 50 --clients 2 \
  --timeout 30 || fail "UDP echo through redirect --udp (danted) failed"
wait_log "$LAB/hc-dante.err" "udp 10.99.0.1:[0-9]+ -> $T:$U" 5
note "ok: UDP echo through redirect --udp and danted, replies from $T:$U"

as_user 4242 "$CAPTURE_PYTHON" "$HC_SUPPORT/tcp_check.py" echo "$T6" "$E6" --count 2 \
  --min-size 65536 --max-size 65536 --timeout 60 || fail "IPv6 echo through redirect (danted) failed"
wait_log "$LAB/hc-dante.err" "tcp \\[$CAPTURE_LOCAL_IP6\\]:[0-9]+ -> \\[$T6\\]:$E6" 10
as_user 4242 "$CAPTURE_PYTHON" "$HC_SUPPORT/udp_check.py" echo "$T6" "$U6" --count 20 \
  --timeout 30 || fail "IPv6 UDP echo through redirect --udp (danted) failed"
wait_log "$LAB/hc-dante.err" "udp \\[$CAPTURE_LOCAL_IP6\\]:[0-9]+ -> \\[$T6\\]:$U6" 5
note "ok: IPv6 TCP and UDP echoes through redirect and danted"

# --- through microsocks (no UDP) ------------------------------------------------------------
as_user 4243 curl -sS --max-time 30 "http://$T:$H/page.bin" >"$LAB/page2.got" ||
  fail "curl through redirect (microsocks) failed"
cmp -s "$LAB/page2.got" "$LAB/www/page.bin" || fail "curl (microsocks) got other bytes"
note "ok: curl through redirect and microsocks"

udp_send() { # UID HOST PORT COUNT: COUNT datagrams, each from its own socket (its own flow)
  as_user "$1" "$CAPTURE_PYTHON" - "$2" "$3" "$4" <<'PY'
import socket, sys
for i in range(int(sys.argv[3])):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"ping %d" % i, (sys.argv[1], int(sys.argv[2])))
PY
}
udp_send 4243 "$T" "$U" 3
# three flows, each dropped (SIGUSR1 prints the datagram counts), one line for the destination
dropped3() {
  kill -USR1 "$HCM"
  grep -q "stats: .*datagrams: 0 sent, 0 received, 3 dropped" "$LAB/hc-micro.err"
}
wait_until 20 dropped3 || fail "three datagrams were not dropped: $(tail -5 "$LAB/hc-micro.err")"
wait_log "$LAB/hc-micro.err" "udp 10.99.0.1:[0-9]+ -> $T:$U: datagrams dropped: .*UDP" 5
n=$(count_log "$LAB/hc-micro.err" "datagrams dropped: ")
((n == 1)) || fail "$n lines for one destination's drops, not 1: $(grep dropped "$LAB/hc-micro.err")"
note "ok: UDP through a chain without UDP is dropped, the reason logged"

# the listener's own address (it listens on every address): refused as a loop
as_user 4243 curl -sS --max-time 10 -o /dev/null "http://$CAPTURE_LOCAL_IP:$RM/" 2>/dev/null &&
  fail "a connection to the listener itself went through"
wait_log "$LAB/hc-micro.err" "-> $CAPTURE_LOCAL_IP:$RM is this listener itself \(a loop\); refused|the destination $CAPTURE_LOCAL_IP:$RM is this listener itself \(a loop\); refused" 10
note "ok: a connection to the listener itself is refused as a loop"

# --- privileges and signals -----------------------------------------------------------------
expect_fail_with "CAP_NET_ADMIN" setpriv --reuid 4250 --regid 4250 --clear-groups "$HOPCHAIN" -x "socks5://127.0.0.1:$D" \
  redirect --udp "$(free_port)"
note "ok: --udp without CAP_NET_ADMIN is refused by name"

for pid in "$HCD" "$HCM"; do
  kill -TERM "$pid"
  rc=0
  wait "$pid" || rc=$?
  ((rc == 0)) || fail "redirect exited $rc on SIGTERM"
done
note "ok: SIGTERM exits 0"
