#!/usr/bin/env bash
# exec --dns: the command's resolv.conf names hopchain's stub (127.0.0.53 in its namespace).
# Under fake (the default) a name gets a stand-in address, and a connection to it reaches the
# chain as the name, which the last hop (socks5h) resolves: no query for it leaves the program.
# Other query types (MX, TXT) go as DNS over TCP through the chain to --dns-server; under
# --dns chain every query does. The script runs in network and mount namespaces of its own:
# 10.77.0.1 on lo plays the outside world, and a dnsmasq on 127.0.0.1:53 (this namespace's
# resolv.conf) is the resolver of the hops.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab_exec.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab_exec.sh"
exec_enter_namespaces "$0" "$@"
lab_init
require_hopchain
lab_require curl dig getent ip dnsmasq
ip link set lo up
ip addr add 10.77.0.1/32 dev lo
T=10.77.0.1

start_dnsmasq 53 target.hc.test=$T other.hc.test=$T \
  --mx-host=mail.hc.test,mx1.hc.test,10 --txt-record=txt.hc.test,hello-through-the-chain
echo "nameserver 127.0.0.1" >"$LAB/resolv.conf"
mount --bind "$LAB/resolv.conf" /etc/resolv.conf
D=$(free_port)
start_danted d1 "$D"
M=$(free_port)
start_microsocks "$M"
CHAIN=(--dns-server 127.0.0.1 -x "socks5://127.0.0.1:$D" -x "socks5h://127.0.0.1:$M")
mkdir -p "$LAB/www"
echo exec-by-name >"$LAB/www/index.html"
H=$(free_port)
start_http_server "$H" "$LAB/www" "$T"
LOG=$LAB/dnsmasq-53.log

hc_exec() { timeout -k 5 120 "$HOPCHAIN" "$@"; }

note "the command's resolv.conf names the stub; /etc/hosts is left as it is"
out=$(hc_exec "${CHAIN[@]}" exec -- cat /etc/resolv.conf)
grep -qx "nameserver 127.0.0.53" <<<"$out" || fail "resolv.conf under exec: $out"
grep -qx "nameserver 127.0.0.1" /etc/resolv.conf || fail "the caller's resolv.conf changed"

note "fake: curl http://target.hc.test/ reaches the target by name through the chain"
out=$(hc_exec -v "${CHAIN[@]}" exec -- curl -sS --max-time 20 "http://target.hc.test:$H/" \
  2>"$LAB/fake.err") || fail "curl by name under exec failed: $(cat "$LAB/fake.err")"
[[ $out == exec-by-name ]] || fail "curl by name got '$out'"
grep -qE "(198\.1[89]\.[0-9.]+|fd00:6863::[0-9a-f:]+) is the fake address of target\.hc\.test" "$LAB/fake.err" ||
  fail "no fake address logged: $(cat "$LAB/fake.err")"
grep -q -- "-> target.hc.test:$H" "$LAB/fake.err" || fail "the chain was not asked for the name"

note "fake: a lookup alone gets a stand-in address and sends no query out"
out=$(hc_exec "${CHAIN[@]}" exec -- getent ahostsv4 only-here.hc.test) ||
  fail "getent under exec failed"
grep -qE "^198\.1[89]\." <<<"$out" || fail "no fake address for only-here.hc.test: $out"
if dnsmasq_queried 53 only-here.hc.test; then
  fail "a query for only-here.hc.test left the program: $(grep only-here "$LOG")"
fi

note "fake: MX and TXT go through the chain to --dns-server, over UDP and TCP"
out=$(hc_exec "${CHAIN[@]}" exec -- dig +short +time=10 +tries=1 MX mail.hc.test) ||
  fail "dig MX under exec failed"
[[ $out == "10 mx1.hc.test." ]] || fail "dig MX got '$out'"
dnsmasq_queried 53 mail.hc.test MX || fail "the MX query did not reach the resolver"
out=$(hc_exec "${CHAIN[@]}" exec -- dig +tcp +short +time=10 +tries=1 TXT txt.hc.test) ||
  fail "dig +tcp TXT under exec failed"
[[ $out == '"hello-through-the-chain"' ]] || fail "dig TXT got '$out'"

note "chain: A queries go through the chain too, and get the real address"
out=$(hc_exec "${CHAIN[@]}" exec --dns chain -- getent ahostsv4 other.hc.test) ||
  fail "getent under --dns chain failed"
grep -q "^$T " <<<"$out" || fail "--dns chain: other.hc.test is '$out'"
dnsmasq_queried 53 other.hc.test A || fail "--dns chain: the A query did not reach the resolver"
out=$(hc_exec "${CHAIN[@]}" exec --dns chain -- curl -sS --max-time 20 "http://other.hc.test:$H/") ||
  fail "curl under --dns chain failed"
[[ $out == exec-by-name ]] || fail "curl under --dns chain got '$out'"

note "no resolver for the stub (a loopback name server, hops): --dns chain is refused (exit 2)"
rc=0
hc_exec -x "socks5://127.0.0.1:$D" exec --dns chain -- true 2>"$LAB/nodns.err" || rc=$?
[[ $rc == 2 ]] || fail "--dns chain with no usable resolver: exit $rc, expected 2"
grep -q -- "--dns-server" "$LAB/nodns.err" || fail "the error does not name --dns-server"
note "... fake still serves A (and says MX will fail)"
out=$(hc_exec -x "socks5://127.0.0.1:$D" exec -- getent ahostsv4 nodns.hc.test 2>"$LAB/nodns.err") ||
  fail "fake DNS with no resolver for other types failed"
grep -qE "^198\.1[89]\." <<<"$out" || fail "no fake address without a resolver: $out"
grep -q "other than A and AAAA will fail" "$LAB/nodns.err" || fail "no warning: $(cat "$LAB/nodns.err")"
note "exec_dns: all checks passed"
