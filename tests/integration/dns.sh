#!/usr/bin/env bash
# Proves hopchain's own name resolution with --dns-server (a local dnsmasq that knows only
# *.test names): hop names are resolved through it (IPv4 and IPv6 server address, with and
# without a port); a socks5:// (local-resolve) hop and a socks4:// hop get their *target* name
# resolved by hopchain through it; a socks5h:// hop gets the name itself (hopchain does not
# query it); and a hop name that does not exist fails with exit 1 and an error that names the
# hop and "resolve", before any proxy is contacted.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
lab_init
require_hopchain

E=$(free_port)
start_echo "$E" 127.0.0.1
start_echo "$E" ::1
DA=$(free_port); start_danted dante-a "$DA"
DB=$(free_port); start_danted dante-b "$DB"
N=$(free_port)
start_dnsmasq "$N" hop-a.test=127.0.0.1 hop-b.test=127.0.0.1 echo.test=127.0.0.1 \
  dual.test=127.0.0.1 dual.test=::1
DNS=(--dns-server "127.0.0.1:$N")
K=$LAB/payload
make_payload "$K" 65536

# hop name through dnsmasq
stdio_echo_check "hop name hop-a.test via --dns-server" "$K" 127.0.0.1 "$E" \
  "${DNS[@]}" -x "socks5://hop-a.test:$DA"
dnsmasq_queried "$N" hop-a.test || fail "hopchain did not ask dnsmasq for hop-a.test"
note "ok: dnsmasq saw the query for hop-a.test"

# the DNS server given as an IPv6 address
stdio_echo_check "hop name via --dns-server [::1]:PORT" "$K" 127.0.0.1 "$E" \
  --dns-server "[::1]:$N" -x "socks5h://hop-b.test:$DB"
dnsmasq_queried "$N" hop-b.test || fail "hopchain did not ask dnsmasq for hop-b.test"

# socks5:// = local resolve: the target name is resolved by hopchain via dnsmasq. Dante's own
# resolver does not know echo.test, so success proves the name was not sent to the proxy.
stdio_echo_check "socks5:// target echo.test resolved locally" "$K" echo.test "$E" \
  "${DNS[@]}" -x "socks5://127.0.0.1:$DA"
dnsmasq_queried "$N" echo.test || fail "hopchain did not ask dnsmasq for echo.test"
note "ok: dnsmasq saw the query for echo.test"

# two local-resolve hops: hop 2's name and the target name both resolved by hopchain
stdio_echo_check "socks5 hop-a.test -> socks4 hop-b.test -> echo.test" "$K" echo.test "$E" \
  "${DNS[@]}" -x "socks5://hop-a.test:$DA" -x "socks4://hop-b.test:$DB"

# a name with both A and AAAA (the echo server listens on both families)
stdio_echo_check "socks5:// target dual.test (A + AAAA) resolved locally" "$K" dual.test "$E" \
  "${DNS[@]}" -x "socks5://hop-a.test:$DA"

# socks5h:// passes the name: hopchain must not resolve the target itself
stdio_echo_check "socks5h:// target localhost passed as a name" "$K" localhost "$E" \
  "${DNS[@]}" -x "socks5h://127.0.0.1:$DA"
if dnsmasq_queried "$N" localhost; then
  fail "hopchain resolved the socks5h target 'localhost' itself (dnsmasq got a query)"
fi
note "ok: no local query for the socks5h target"

# non-existent hop name
expect_fail_with "resolve" "$HOPCHAIN" "${DNS[@]}" -x "socks5://nx.test:$DA" stdio 127.0.0.1 "$E"
assert_rc 1
assert_stderr_has "hop 1/1"
assert_stderr_has "nx.test"
note "ok: unknown hop name -> exit 1: $(head -c 300 "$LAB_LAST_ERR")"

expect_fail_with "resolve" "$HOPCHAIN" "${DNS[@]}" -x "socks5://127.0.0.1:$DA" -x "socks5h://nx-hop2.test:$DB" \
  stdio 127.0.0.1 "$E"
assert_rc 1
assert_stderr_has "nx-hop2.test"
note "ok: unknown name of hop 2 (resolved locally for socks5 hop 1) -> exit 1: $(head -c 300 "$LAB_LAST_ERR")"

# non-existent target name on a local-resolve hop
expect_fail_with "resolve" "$HOPCHAIN" "${DNS[@]}" -x "socks5://127.0.0.1:$DA" stdio nx-target.test "$E"
assert_rc 1
assert_stderr_has "nx-target.test"
note "ok: unknown target name on a socks5:// hop -> exit 1: $(head -c 300 "$LAB_LAST_ERR")"
