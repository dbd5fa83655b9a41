#!/usr/bin/env bash
# exec mode's UDP: a program's datagrams to addresses outside its namespace go through the
# chain's UDP associations (danted), and the replies come back from the address it sent to:
# an echo over IPv4 and IPv6, one source to two destinations by one association, a DNS query
# to an outside server (dig @SERVER), a datagram to a fake DNS address going to the chain as its
# name; a chain that cannot carry UDP drops them and says why once; --no-udp carries none. The
# reply helper is hopchain's child (not the command's), holds only the network capabilities,
# outlives a ^C to the process group, and is gone when hopchain exits. As root and as nobody.
# The script runs in network and mount namespaces of its own: 10.77.0.1 (and fd77::1) on lo
# play the outside world, a dnsmasq on 127.0.0.1:53 is the hops' resolver.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab_exec.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab_exec.sh"
exec_enter_namespaces "$0" "$@"
lab_init
require_hopchain
lab_require dig ip dnsmasq setpriv
exec_outside_world
T=10.77.0.1

start_dnsmasq 53 target.hc.test=$T --listen-address=$T
echo "nameserver 127.0.0.1" >"$LAB/resolv.conf"
mount --bind "$LAB/resolv.conf" /etc/resolv.conf
D=$(free_port)
start_danted d1 "$D" v6 external=$T external=fd77::1
M=$(free_port)
start_microsocks "$M"
U=$(free_port)
lab_bg udp-echo python3 "$HC_SUPPORT/udp_echo.py" --port "$U" --bind "$T"
U6=$(free_port)
lab_bg udp-echo6 python3 "$HC_SUPPORT/udp_echo.py" --port "$U6" --bind fd77::1
DANTE=(-x "socks5h://127.0.0.1:$D")
CHECK=("$HC_SUPPORT/udp_check.py")

hc_exec() { timeout -k 5 120 "$HOPCHAIN" "$@"; }

note "an echo through danted: 2 sources x 50 datagrams, byte-checked, replies from $T:$U"
started=$SECONDS
hc_exec -v "${DANTE[@]}" exec -- python3 "${CHECK[@]}" echo "$T" "$U" --count 50 --clients 2 \
  --timeout 30 2>"$LAB/echo.err" || fail "UDP echo under exec: $(cat "$LAB/echo.err")"
grep -qE "exec: udp 10\.255\.255\.1:[0-9]+ -> $T:$U" "$LAB/echo.err" ||
  fail "the flow was not logged: $(cat "$LAB/echo.err")"
# The flows idle for a minute; hopchain leaves with the command, not with them.
((SECONDS - started < 30)) || fail "hopchain waited for the UDP flows after the command exited"

note "one source, two destinations: one association, each reply from where it was sent"
U2=$(free_port)
lab_bg udp-echo2 python3 "$HC_SUPPORT/udp_echo.py" --port "$U2" --bind "$T"
wait_until 10 sh -c "ss -Hlun 'sport = :$U2' | grep -q ." || fail "the second UDP echo did not start"
hc_exec -v "${DANTE[@]}" exec -- python3 - "$T" "$U" "$U2" 2>"$LAB/two.err" <<'PY' ||
import socket, sys
host, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
for i in range(20):
    port = ports[i % 2]
    s.sendto(b"to %d #%d" % (port, i), (host, port))
    data, peer = s.recvfrom(100)
    if peer != (host, port) or data != b"to %d #%d" % (port, i):
        sys.exit("datagram %d: %r from %r" % (i, data, peer))
PY
  fail "one source to two destinations under exec: $(cat "$LAB/two.err")"
n=$(count_log "$LAB/two.err" "association open")
((n == 1)) || fail "$n associations for one source, not 1: $(cat "$LAB/two.err")"
for port in "$U" "$U2"; do
  grep -qE "exec: udp 10\.255\.255\.1:[0-9]+ -> $T:$port" "$LAB/two.err" ||
    fail "no route to $T:$port logged: $(cat "$LAB/two.err")"
done

note "IPv6: an echo on [fd77::1]:$U6"
hc_exec "${DANTE[@]}" exec -- python3 "${CHECK[@]}" echo fd77::1 "$U6" --count 20 --timeout 30 ||
  fail "IPv6 UDP echo under exec"

note "a DNS query to an outside server (dig @$T) goes through the chain"
out=$(hc_exec "${DANTE[@]}" exec -- dig @"$T" +short +time=10 +tries=1 A target.hc.test) ||
  fail "dig @$T under exec failed"
[[ $out == "$T" ]] || fail "dig @$T got '$out'"
grep -qE "query\[A\] target\.hc\.test from $T" "$LAB/dnsmasq-53.log" ||
  fail "the query did not come from danted: $(grep target "$LAB/dnsmasq-53.log")"

note "a datagram to a fake DNS address goes to the chain as the name"
hc_exec -v "${DANTE[@]}" exec -- sh -c \
  "a=\$(getent ahostsv4 target.hc.test | head -n 1 | cut -d ' ' -f 1) &&
   python3 ${CHECK[*]} echo \"\$a\" $U --count 10 --timeout 30" 2>"$LAB/fake.err" ||
  fail "UDP echo by name under exec: $(cat "$LAB/fake.err")"
grep -qE "exec: udp 10\.255\.255\.1:[0-9]+ -> 198\.1[89]\.[0-9.]+:$U \(target\.hc\.test:$U\)" \
  "$LAB/fake.err" || fail "the flow did not go as the name: $(cat "$LAB/fake.err")"

# hold_then_send FILE: the command for a run that sends one datagram to $T:$U, says so in FILE,
# and waits (bounded) for FILE.go before it exits, so that hopchain's log can be read first.
hold_then_send() {
  echo "import os, socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b'dropped?', ('$T', $U))
s.settimeout(0.5)
try:
    print('answered', s.recv(100), flush=True)
except OSError:
    pass
open('$1', 'w').write('sent')
end = time.monotonic() + 60
while not os.path.exists('$1.go') and time.monotonic() < end:
    time.sleep(0.05)"
}

note "a chain that cannot carry UDP (microsocks): dropped, the reason logged once"
lab_bg exec-micro "$HOPCHAIN" -x "socks5://127.0.0.1:$M" exec -- python3 -c "$(hold_then_send "$LAB/micro")"
MICRO=$LAB_LAST_PID
wait_file "$LAB/micro" 30 || fail "the sender did not run: $(cat "$LAB/exec-micro.log")"
wait_log "$LAB/exec-micro.log" "exec: udp 10\.255\.255\.1:[0-9]+ -> $T:$U: datagrams dropped: .*UDP" 20 ||
  fail "no drop logged: $(cat "$LAB/exec-micro.log")"
touch "$LAB/micro.go"
wait_exit "$MICRO" 30 || fail "hopchain did not exit with its command"
if grep -q answered "$LAB/exec-micro.log"; then
  fail "a datagram came back through a chain without UDP"
fi

note "--no-udp: no datagram leaves the namespace"
lab_bg exec-noudp "$HOPCHAIN" -v "${DANTE[@]}" exec --no-udp -- python3 -c "$(hold_then_send "$LAB/noudp")"
NOUDP=$LAB_LAST_PID
wait_file "$LAB/noudp" 30 || fail "the sender did not run: $(cat "$LAB/exec-noudp.log")"
touch "$LAB/noudp.go"
wait_exit "$NOUDP" 30 || fail "hopchain did not exit with its command"
if grep -qE "answered|exec: udp" "$LAB/exec-noudp.log"; then
  fail "a datagram was carried under --no-udp: $(cat "$LAB/exec-noudp.log")"
fi

note "the reply helper: hopchain's child, network capabilities only, gone with hopchain"
lab_bg exec-helper "$HOPCHAIN" "${DANTE[@]}" exec -- python3 -c "$(hold_then_send "$LAB/helper")"
HELPER_RUN=$LAB_LAST_PID
wait_file "$LAB/helper" 30 || fail "the sender did not run: $(cat "$LAB/exec-helper.log")"
helper=$(pgrep -P "$HELPER_RUN" -x hopchain-udp) || fail "no hopchain-udp child of hopchain"
caps=$(grep -E '^Cap(Eff|Prm|Bnd)' "/proc/$helper/status")
if grep -v ':\s*0000000000003400$' <<<"$caps"; then
  fail "the helper holds more than CAP_NET_ADMIN, CAP_NET_RAW and CAP_NET_BIND_SERVICE"
fi
if [[ $(find "/proc/$helper/fd" -mindepth 1 | wc -l) -gt 4 ]]; then
  fail "the helper keeps descriptors it does not need: $(ls -l "/proc/$helper/fd")"
fi
touch "$LAB/helper.go"
wait_exit "$HELPER_RUN" 30 || fail "hopchain did not exit with its command"
wait_exit "$helper" 10 || fail "the helper outlived hopchain"

note "^C at the terminal (SIGINT to the process group) spares the helper: UDP works after it"
lab_bg exec-sigint "$HOPCHAIN" "${DANTE[@]}" exec -- python3 -c "
import os, signal, socket, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
open('$LAB/sigint', 'w').write('ready')
end = time.monotonic() + 60
while not os.path.exists('$LAB/sigint.go') and time.monotonic() < end:
    time.sleep(0.05)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
s.sendto(b'after ^C', ('$T', $U))
print('echo:', s.recvfrom(100)[0].decode(), flush=True)"
SIGINT_RUN=$LAB_LAST_PID
wait_file "$LAB/sigint" 30 || fail "the command did not start: $(cat "$LAB/exec-sigint.log")"
kill -INT -- "-$SIGINT_RUN"
touch "$LAB/sigint.go"
wait_exit "$SIGINT_RUN" 30 || fail "hopchain did not exit with its command"
grep -q "echo: after ^C" "$LAB/exec-sigint.log" ||
  fail "no UDP after a SIGINT to the process group: $(cat "$LAB/exec-sigint.log")"

note "as user nobody: an unprivileged user namespace"
if ! nobody_has_userns; then
  note "SKIPPED: unprivileged user namespaces are forbidden here"
else
  as_nobody timeout -k 5 60 "$HOPCHAIN" "${DANTE[@]}" exec -- \
    python3 "${CHECK[@]}" echo "$T" "$U" --count 20 --timeout 30 || fail "UDP under exec as nobody"
fi
note "exec_udp: all checks passed"
