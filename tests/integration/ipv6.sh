#!/usr/bin/env bash
# Proves IPv6 on both sides of a hop: hops listening on [::1] (danted and microsocks), hop URLs
# with bracketed IPv6 literals, IPv6 targets (::1) carried as SOCKS5 ATYP 4 (socks5://) and
# passed on by socks5h:// and HTTP CONNECT, a hop name and a target name that resolve to ::1
# only (via dnsmasq), mixed-family chains (IPv4 hop -> IPv6 hop -> IPv6 target), and that a
# plain socks4:// hop refuses an IPv6 target with exit 1 instead of sending garbage.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
lab_init
require_hopchain

E6=$(free_port); start_echo "$E6" ::1
E4=$(free_port); start_echo "$E4" 127.0.0.1
D6=$(free_port); start_danted dante-v6 "$D6" v6      # listens on 127.0.0.1 and [::1]
DB=$(free_port); start_danted dante-b "$DB"
M6=$(free_port); start_microsocks -i ::1 "$M6"
SSHD=$(free_port); start_sshd "$SSHD"
SD=$(free_port); start_ssh_socks "$SD" "$SSHD"
TP=$(free_port); start_tinyproxy "$TP"
N=$(free_port)
start_dnsmasq "$N" six-hop.test=::1 six-target.test=::1
K=$LAB/payload
make_payload "$K" 262144

stdio_echo_check "danted on [::1], socks5 -> IPv6 target" "$K" ::1 "$E6" -x "socks5://[::1]:$D6"
stdio_echo_check "danted on [::1], socks5h -> IPv6 target" "$K" ::1 "$E6" -x "socks5h://[::1]:$D6"
stdio_echo_check "danted on [::1] -> IPv4 target" "$K" 127.0.0.1 "$E4" -x "socks5://[::1]:$D6"
stdio_echo_check "IPv4 danted -> IPv6 target" "$K" ::1 "$E6" -x "socks5://127.0.0.1:$DB"
driver_echo_check "microsocks on [::1], socks5h -> IPv6 target" 262144 ::1 "$E6" -x "socks5h://[::1]:$M6"
driver_echo_check "microsocks on [::1], socks5 -> IPv6 target" 262144 ::1 "$E6" -x "socks5://[::1]:$M6"
stdio_echo_check "2 hops: IPv4 danted -> danted on [::1] (socks5h) -> IPv6 target" "$K" ::1 "$E6" \
  -x "socks5://127.0.0.1:$DB" -x "socks5h://[::1]:$D6"
driver_echo_check "2 hops: danted -> microsocks on [::1] (socks5h) -> IPv6 target" 262144 ::1 "$E6" \
  -x "socks5://127.0.0.1:$DB" -x "socks5h://[::1]:$M6"
stdio_echo_check "2 hops: danted on [::1] -> ssh -D (socks5h) -> IPv6 target" "$K" ::1 "$E6" \
  -x "socks5h://[::1]:$D6" -x "socks5h://127.0.0.1:$SD"
driver_echo_check "tinyproxy CONNECT [::1]:port" 262144 ::1 "$E6" -x "http://127.0.0.1:$TP"
driver_echo_check "3 hops ending in HTTP CONNECT to [::1]" 65536 ::1 "$E6" \
  -x "socks5h://[::1]:$M6" -x "socks5://127.0.0.1:$DB" -x "http://127.0.0.1:$TP"

# names that resolve to ::1 only
stdio_echo_check "hop name -> ::1 via dnsmasq" "$K" 127.0.0.1 "$E4" \
  --dns-server "127.0.0.1:$N" -x "socks5://six-hop.test:$D6"
stdio_echo_check "socks5:// target name -> ::1 resolved locally" "$K" six-target.test "$E6" \
  --dns-server "127.0.0.1:$N" -x "socks5://127.0.0.1:$DB"

# plain SOCKS4 carries IPv4 only
expect_fail_with "IPv6" "$HOPCHAIN" -x "socks4://127.0.0.1:$DB" stdio ::1 "$E6"
assert_rc 1
note "ok: socks4 hop + IPv6 target -> exit 1: $(head -c 300 "$LAB_LAST_ERR")"
expect_fail_with "IPv6" "$HOPCHAIN" --dns-server "127.0.0.1:$N" -x "socks4://127.0.0.1:$DB" stdio six-target.test "$E6"
assert_rc 1
note "ok: socks4 hop + target name resolving to ::1 only -> exit 1: $(head -c 300 "$LAB_LAST_ERR")"
