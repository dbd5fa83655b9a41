#!/usr/bin/env bash
# Proves that `hopchain stdio` builds working chains of 1, 2, 3 and 4 hops through real
# servers of every kind and in several orders: Dante (socks4, socks5, socks5h, with and without
# RFC 1929 username auth), microsocks (plain and -u/-P), OpenSSH `ssh -D` (socks4, socks4a,
# socks5, socks5h) and tinyproxy (HTTP CONNECT, plain and Basic auth); that payloads of 1 B,
# 64 KiB, 1 MiB and 64 MiB cross a 3-hop chain intact (sha256 of the echo) with half-close
# semantics (stdin EOF -> FIN to the target, the echo keeps flowing, then exit 0); and that
# bytes the target sends right after the final proxy reply (banner) are not lost. Also: hops
# read from a chain file (-f) come before the -x hops, and -q prints nothing on success.
#
# Server quirks this test works around (see lab_smoke.sh): Dante has no SOCKS4a; ssh -D takes
# NOAUTH only; microsocks and tinyproxy do not relay half-close, so chains containing them are
# checked with stdio_driver.py (stdin held open until the echo is complete). Plain socks4 cannot
# carry IPv6; two Dante instances are used because Dante will not connect to itself.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
lab_init
require_hopchain

U=$LAB_USER
P=$LAB_PASS

E=$(free_port)
start_echo "$E" 127.0.0.1
start_echo "$E" ::1          # "localhost" targets work whichever family a proxy resolves first
BN=$(free_port)
BANNER="220 banner-from-target ready"$'\n'
start_banner_server "$BN" "$BANNER" 127.0.0.1

DA=$(free_port); start_danted dante-a "$DA"
DB=$(free_port); start_danted dante-b "$DB"
DC=$(free_port); start_danted dante-auth "$DC" auth
MP=$(free_port); start_microsocks "$MP"
MA=$(free_port); start_microsocks "$MA" "$U" "$P"
SSHD=$(free_port); start_sshd "$SSHD"
SD=$(free_port); start_ssh_socks "$SD" "$SSHD"
TP=$(free_port); start_tinyproxy "$TP"
TA=$(free_port); start_tinyproxy "$TA" "$U" "$P"
MX=$(free_port); start_microsocks "$MX" "odd user" 'p@ss:w/rd%x#?'   # needs percent-encoding
note "lab up: danted $DA $DB auth:$DC, microsocks $MP auth:$MA, ssh -D $SD, tinyproxy $TP auth:$TA, echo $E"

K64=$LAB/p64k
make_payload "$K64" 65536

# --- 1 hop: every server and scheme ----------------------------------------------------------
stdio_echo_check "1 hop danted socks5" "$K64" 127.0.0.1 "$E" -x "socks5://127.0.0.1:$DA"
stdio_echo_check "1 hop danted socks5h, target by name" "$K64" localhost "$E" -x "socks5h://127.0.0.1:$DA"
stdio_echo_check "1 hop danted socks4" "$K64" 127.0.0.1 "$E" -x "socks4://127.0.0.1:$DB"
stdio_echo_check "1 hop danted socks4 with a user id" "$K64" 127.0.0.1 "$E" -x "socks4://someuser@127.0.0.1:$DB"
stdio_echo_check "1 hop danted socks5 + RFC 1929 auth" "$K64" 127.0.0.1 "$E" -x "socks5://$U:$P@127.0.0.1:$DC"
stdio_echo_check "1 hop danted socks5h + auth, target by name" "$K64" localhost "$E" -x "socks5h://$U:$P@127.0.0.1:$DC"
stdio_echo_check "1 hop ssh -D socks5" "$K64" 127.0.0.1 "$E" -x "socks5://127.0.0.1:$SD"
stdio_echo_check "1 hop ssh -D socks5h" "$K64" localhost "$E" -x "socks5h://127.0.0.1:$SD"
stdio_echo_check "1 hop ssh -D socks4" "$K64" 127.0.0.1 "$E" -x "socks4://127.0.0.1:$SD"
stdio_echo_check "1 hop ssh -D socks4a, target by name" "$K64" localhost "$E" -x "socks4a://127.0.0.1:$SD"
driver_echo_check "1 hop microsocks socks5" 65536 127.0.0.1 "$E" -x "socks5://127.0.0.1:$MP"
driver_echo_check "1 hop microsocks socks5h, target by name" 65536 localhost "$E" -x "socks5h://127.0.0.1:$MP"
driver_echo_check "1 hop microsocks socks5 + auth" 65536 127.0.0.1 "$E" -x "socks5://$U:$P@127.0.0.1:$MA"
driver_echo_check "1 hop microsocks, percent-encoded user and password" 65536 127.0.0.1 "$E" \
  -x "socks5://odd%20user:p%40ss%3Aw%2Frd%25x%23%3F@127.0.0.1:$MX"
driver_echo_check "1 hop tinyproxy CONNECT" 65536 127.0.0.1 "$E" -x "http://127.0.0.1:$TP"
driver_echo_check "1 hop tinyproxy CONNECT, target by name" 65536 localhost "$E" -x "http://127.0.0.1:$TP"
driver_echo_check "1 hop tinyproxy CONNECT + Basic auth" 65536 127.0.0.1 "$E" -x "http://$U:$P@127.0.0.1:$TA"

# --- 2 hops ----------------------------------------------------------------------------------
stdio_echo_check "2 hops danted -> ssh -D" "$K64" localhost "$E" \
  -x "socks5://127.0.0.1:$DA" -x "socks5h://127.0.0.1:$SD"
stdio_echo_check "2 hops ssh -D (socks4) -> danted auth" "$K64" 127.0.0.1 "$E" \
  -x "socks4://127.0.0.1:$SD" -x "socks5://$U:$P@127.0.0.1:$DC"
stdio_echo_check "2 hops danted -> danted (socks4)" "$K64" 127.0.0.1 "$E" \
  -x "socks5h://127.0.0.1:$DA" -x "socks4://127.0.0.1:$DB"
driver_echo_check "2 hops tinyproxy -> microsocks" 65536 127.0.0.1 "$E" \
  -x "http://127.0.0.1:$TP" -x "socks5://127.0.0.1:$MP"
driver_echo_check "2 hops microsocks auth -> danted socks4" 65536 127.0.0.1 "$E" \
  -x "socks5h://$U:$P@127.0.0.1:$MA" -x "socks4://127.0.0.1:$DB"
driver_echo_check "2 hops danted auth -> tinyproxy auth" 65536 localhost "$E" \
  -x "socks5://$U:$P@127.0.0.1:$DC" -x "http://$U:$P@127.0.0.1:$TA"

# --- 3 hops, the payload series (half-close capable chain: danted, ssh -D, danted auth) -------
CHAIN3=(-x "socks5h://127.0.0.1:$DA" -x "socks4a://127.0.0.1:$SD" -x "socks5://$U:$P@127.0.0.1:$DC")
for size in 1 65536 1048576 67108864; do
  make_payload "$LAB/payload" "$size"
  stdio_echo_check "3 hops danted -> ssh -D (socks4a) -> danted auth, payload $size" \
    "$LAB/payload" 127.0.0.1 "$E" "${CHAIN3[@]}"
done
rm -f "$LAB/payload"
: >"$LAB/empty"
stdio_echo_check "3 hops, empty stdin (immediate EOF)" "$LAB/empty" 127.0.0.1 "$E" "${CHAIN3[@]}"

# other orders, through the non-half-closing servers
driver_echo_check "3 hops tinyproxy -> microsocks -> danted socks4" 1048576 127.0.0.1 "$E" \
  -x "http://127.0.0.1:$TP" -x "socks5://127.0.0.1:$MP" -x "socks4://127.0.0.1:$DB"
driver_echo_check "3 hops ssh -D -> tinyproxy auth -> microsocks auth" 1048576 localhost "$E" \
  -x "socks5h://127.0.0.1:$SD" -x "http://$U:$P@127.0.0.1:$TA" -x "socks5h://$U:$P@127.0.0.1:$MA"

# --- 4 hops ----------------------------------------------------------------------------------
stdio_echo_check "4 hops danted -> danted -> ssh -D -> danted auth" "$K64" localhost "$E" \
  -x "socks5://127.0.0.1:$DA" -x "socks5h://127.0.0.1:$DB" -x "socks5h://127.0.0.1:$SD" \
  -x "socks5h://$U:$P@127.0.0.1:$DC"
driver_echo_check "4 hops danted -> microsocks auth -> tinyproxy -> ssh -D (socks4a)" 1048576 localhost "$E" \
  -x "socks5://127.0.0.1:$DA" -x "socks5h://$U:$P@127.0.0.1:$MA" -x "http://127.0.0.1:$TP" \
  -x "socks4a://127.0.0.1:$SD"
driver_echo_check "4 hops ssh -D (socks4) -> danted -> danted auth -> microsocks" 65536 127.0.0.1 "$E" \
  -x "socks4://127.0.0.1:$SD" -x "socks5://127.0.0.1:$DB" -x "socks5h://$U:$P@127.0.0.1:$DC" \
  -x "socks5://127.0.0.1:$MP"

# --- chain file (-f): hops from a file come first, then the -x hops -------------------------
cat >"$LAB/chain.txt" <<EOF
# lab chain file: comments and blank lines are ignored

socks5://127.0.0.1:$DA
  # indented comment
socks5h://127.0.0.1:$SD
EOF
stdio_echo_check "-f chain file (2 hops) + one -x hop" "$K64" localhost "$E" \
  -f "$LAB/chain.txt" -x "socks5h://$U:$P@127.0.0.1:$DC"

# --- -q: a successful run prints nothing on stderr --------------------------------------------
printf 'quiet\n' >"$LAB/quiet.in"
rc=0
timeout 30 "$HOPCHAIN" -q -x "socks5://127.0.0.1:$DA" -x "socks5h://127.0.0.1:$SD" stdio 127.0.0.1 "$E" \
  <"$LAB/quiet.in" >"$LAB/quiet.out" 2>"$LAB/quiet.err" || rc=$?
if ((rc != 0)) || ! cmp -s "$LAB/quiet.in" "$LAB/quiet.out"; then
  cat "$LAB/quiet.err" >&2
  fail "-q run failed (exit $rc)"
fi
[[ ! -s $LAB/quiet.err ]] || fail "-q run printed on stderr: $(head -c 300 "$LAB/quiet.err")"
note "ok: -q prints nothing on success"

# --- bytes glued to the final reply ------------------------------------------------------------
printf 'ping-after-banner\n' >"$LAB/ping"
printf '%sping-after-banner\n' "$BANNER" >"$LAB/banner.want"
for chain in "socks5://127.0.0.1:$DA" "socks5h://127.0.0.1:$SD" "socks4://127.0.0.1:$DB"; do
  rc=0
  timeout 30 "$HOPCHAIN" -x "$chain" stdio 127.0.0.1 "$BN" <"$LAB/ping" >"$LAB/banner.out" 2>"$LAB/banner.err" || rc=$?
  if ((rc != 0)) || ! cmp -s "$LAB/banner.want" "$LAB/banner.out"; then
    cat "$LAB/banner.err" >&2
    fail "banner via $chain: exit $rc, got: $(od -c "$LAB/banner.out" | head -5)"
  fi
  note "ok: banner + echo via ${chain%%:*}"
done
DRIVER_PREFIX=$BANNER driver_echo_check "banner + echo via tinyproxy (HTTP reply glued to data)" 4096 \
  127.0.0.1 "$BN" -x "http://127.0.0.1:$TP"
DRIVER_PREFIX=$BANNER driver_echo_check "banner + echo via microsocks" 4096 \
  127.0.0.1 "$BN" -x "socks5://127.0.0.1:$MP"
DRIVER_PREFIX=$BANNER driver_echo_check "banner + echo via 3 hops" 4096 \
  127.0.0.1 "$BN" -x "http://127.0.0.1:$TP" -x "socks5h://127.0.0.1:$SD" -x "socks5://127.0.0.1:$DA"
