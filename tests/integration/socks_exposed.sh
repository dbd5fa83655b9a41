#!/usr/bin/env bash
# Proves that a `hopchain socks` server listening beyond loopback (`--open` on 0.0.0.0 or `*`;
# the tests only ever connect to it over loopback) does not reach this host's own services:
# SOCKS5 CONNECT to 127.x, ::1, 0.0.0.0, localhost (and names under .localhost),
# ::ffff:127.0.0.1, 169.254.x, fe80:: and the legacy form 127.1 is answered REP 0x02 and nothing
# is connected; a SOCKS4 client gets CD 0x5B; with no hop, a name that resolves to a loopback
# address is refused on the resolved address; through a hop, literal addresses and localhost are
# still refused. `--allow-local` reaches the local echo server again. `--allow`/`--deny` CIDR
# rules decide first, in command-line order (the first match wins), on exposed and loopback
# servers alike; a loopback-only server without rules still reaches loopback targets. The same
# rules hold for UDP ASSOCIATE datagrams: an exposed server drops those to a local UDP echo
# server (by address and as localhost), and relays them with --allow-local.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
# shellcheck source=SCRIPTDIR/../support/lab_socks.sh
source "$HC_SUPPORT/lab_socks.sh"
# shellcheck source=SCRIPTDIR/../support/lab_udp.sh
source "$HC_SUPPORT/lab_udp.sh"
lab_init
require_hopchain
lab_require python3 od

hex_of() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
REFUSED="0500 05020001000000000000" # method "no auth", then REP 0x02 and the close

E=$(free_port)
start_echo "$E" 127.0.0.1
start_echo "$E" ::1
EH=$(printf '%04x' "$E")
DNS=$(free_port)
start_dnsmasq "$DNS" web.hc.test=127.0.0.1
MP=$(free_port); start_microsocks "$MP"

# request_hex ATYP-AND-ADDRESS-HEX: a SOCKS5 greeting and CONNECT to that address, port $E.
request_hex() { printf '050100 050100%s%s' "$1" "$EH"; }
name_hex() { printf '03%02x%s' "${#1}" "$(hex_of "$1")"; }
shown() { if [[ $1 == *:* ]]; then echo "[$1]:$E"; else echo "$1:$E"; fi; } # as logs write it

# --- an exposed server refuses every local form ---------------------------------------------------
PX=$(free_port)
start_hopchain_socks hc-exposed 0.0.0.0 "$PX" --direct -v --dns-server "127.0.0.1:$DNS" \
  socks --open "0.0.0.0:$PX"
declare -A TARGETS=(
  [127.0.0.1]=017f000001
  [127.1.2.3]=017f010203
  [::1]=0400000000000000000000000000000001
  [0.0.0.0]=0100000000
  [localhost]=$(name_hex localhost)
  [db.localhost]=$(name_hex db.localhost)
  [::ffff:127.0.0.1]=0400000000000000000000ffff7f000001
  [169.254.169.254]=01a9fea9fe
  [fe80::1]=04fe800000000000000000000000000001
  [127.1]=$(name_hex 127.1)
)
for target in "${!TARGETS[@]}"; do
  socks_raw 127.0.0.1 "$PX" "$(request_hex "${TARGETS[$target]}")" "$REFUSED" >/dev/null
  log_has "$LAB/hc-exposed.log" "CONNECT $(shown "$target"): not allowed: "
  note "ok: exposed server: CONNECT $target -> REP 0x02"
done
log_has "$LAB/hc-exposed.log" "CONNECT 127.0.0.1:$E: not allowed: 127.0.0.1 is a loopback address of this host (--allow-local allows it); answered REP 0x02"
log_has "$LAB/hc-exposed.log" "CONNECT 169.254.169.254:$E: not allowed: 169.254.169.254 is a link-local address"
log_lacks "$LAB/hc-exposed.log" "connected to"

# A name that resolves to loopback: checked on the resolved address, right before connecting.
socks_raw 127.0.0.1 "$PX" "$(request_hex "$(name_hex web.hc.test)")" "$REFUSED" >/dev/null
log_has "$LAB/hc-exposed.log" "target web.hc.test:$E: connect: target not allowed by this server's rules: 127.0.0.1 is a loopback address of this host (--allow-local allows it); answered REP 0x02"
note "ok: exposed server: a name resolving to 127.0.0.1 -> REP 0x02 after resolution"

# SOCKS4 has no REP 0x02: the refusal is CD 0x5B.
socks_raw 127.0.0.1 "$PX" "0401${EH}7f000001 00" "005b000000000000" >/dev/null
log_has "$LAB/hc-exposed.log" "SOCKS4 CONNECT 127.0.0.1:$E: not allowed"
note "ok: exposed server: SOCKS4 CONNECT 127.0.0.1 -> CD 0x5B"

# The same on a dual-stack `*` listener with a hop: literals and localhost are refused before
# the hop is asked; other names go to the hop, which resolves them.
PS=$(free_port)
start_hopchain_socks hc-exposed-hop '*' "$PS" -v -x "socks5h://127.0.0.1:$MP" \
  socks --open "*:$PS"
for target in 127.0.0.1 ::1 localhost fe80::1; do
  socks_raw 127.0.0.1 "$PS" "$(request_hex "${TARGETS[$target]}")" "$REFUSED" >/dev/null
  log_has "$LAB/hc-exposed-hop.log" "CONNECT $(shown "$target"): not allowed: "
done
log_lacks "$LAB/hc-exposed-hop.log" "hop 1/1"
note "ok: exposed server with a hop: literals and localhost refused before the hop is asked"
socks_raw 127.0.0.1 "$PS" "$(request_hex "$(name_hex web.hc.test)")" >/dev/null
log_has "$LAB/hc-exposed-hop.log" "hop 1/1 socks5h://127.0.0.1:$MP"
log_lacks "$LAB/hc-exposed-hop.log" "web.hc.test:$E: not allowed"
note "ok: exposed server with a hop: another name goes to the hop (it resolves names there)"

# --- the same rules for UDP ASSOCIATE datagrams -------------------------------------------------------
UE=$(free_port); start_udp_echo "$UE" 127.0.0.1
for target in "127.0.0.1:$UE" "localhost:$UE"; do
  out=$(timeout 30 python3 "$HC_SUPPORT/udp_check.py" socks 127.0.0.1 "$PX" --target "$target" \
    --expect-dropped 2>&1) || fail "exposed server: UDP to $target: $out"
  note "ok: exposed server: UDP datagrams to $target dropped"
done
log_has "$LAB/hc-exposed.log" "datagram dropped: target 127.0.0.1:$UE is not allowed: "

# --- --allow-local: today's behaviour again ---------------------------------------------------------
PL=$(free_port)
start_hopchain_socks hc-allow-local 0.0.0.0 "$PL" --direct -v socks --open --allow-local "0.0.0.0:$PL"
socks_pipelined_echo "--allow-local: CONNECT 127.0.0.1 echoes" 127.0.0.1 "$PL" \
  "$(request_hex 017f000001)" 12
socks_pipelined_echo "--allow-local: CONNECT ::1 echoes" 127.0.0.1 "$PL" \
  "$(request_hex 0400000000000000000000000000000001)" 24
out=$(timeout 30 python3 "$HC_SUPPORT/udp_check.py" socks 127.0.0.1 "$PL" --target "127.0.0.1:$UE" \
  --count 3 2>&1) || fail "--allow-local: UDP to 127.0.0.1:$UE: $out"
note "ok: --allow-local: $out"

# --- --allow / --deny: the first matching rule wins, then the default -----------------------------
PR=$(free_port)
start_hopchain_socks hc-rules 0.0.0.0 "$PR" --direct -v \
  socks --open --deny 127.0.0.3 --allow 127.0.0.0/8 "0.0.0.0:$PR"
socks_pipelined_echo "--deny 127.0.0.3 --allow 127.0.0.0/8: 127.0.0.1 allowed" 127.0.0.1 "$PR" \
  "$(request_hex 017f000001)" 12
socks_raw 127.0.0.1 "$PR" "$(request_hex 017f000003)" "$REFUSED" >/dev/null
log_has "$LAB/hc-rules.log" "CONNECT 127.0.0.3:$E: not allowed: 127.0.0.3 is --deny 127.0.0.3/32"
socks_raw 127.0.0.1 "$PR" "$(request_hex 0400000000000000000000000000000001)" "$REFUSED" >/dev/null
log_has "$LAB/hc-rules.log" "CONNECT [::1]:$E: not allowed: ::1 is a loopback address of this host"
note "ok: --deny 127.0.0.3 before --allow 127.0.0.0/8: 127.0.0.3 refused, ::1 left to the default"

PO=$(free_port)
start_hopchain_socks hc-rules-order 0.0.0.0 "$PO" --direct -v \
  socks --open --allow 127.0.0.0/8 --deny 127.0.0.1 "0.0.0.0:$PO"
socks_pipelined_echo "--allow 127.0.0.0/8 --deny 127.0.0.1: the earlier --allow wins" \
  127.0.0.1 "$PO" "$(request_hex 017f000001)" 12

# Rules hold on a loopback-only server too; without one, loopback targets are reached as before.
PB=$(free_port)
start_hopchain_socks hc-loopback-rules 127.0.0.1 "$PB" --direct -v --dns-server "127.0.0.1:$DNS" \
  socks --deny 127.0.0.0/8 "$PB"
socks_raw 127.0.0.1 "$PB" "$(request_hex 017f000001)" "$REFUSED" >/dev/null
socks_raw 127.0.0.1 "$PB" "$(request_hex "$(name_hex web.hc.test)")" "$REFUSED" >/dev/null
socks_pipelined_echo "loopback server, --deny 127.0.0.0/8: ::1 still echoes" 127.0.0.1 "$PB" \
  "$(request_hex 0400000000000000000000000000000001)" 24
PN=$(free_port)
start_hopchain_socks hc-loopback 127.0.0.1 "$PN" --direct -v --dns-server "127.0.0.1:$DNS" socks "$PN"
socks_pipelined_echo "loopback server, no rules: 127.0.0.1 echoes as before" 127.0.0.1 "$PN" \
  "$(request_hex 017f000001)" 12
socks_pipelined_echo "loopback server, no rules: a name resolving to 127.0.0.1 echoes" \
  127.0.0.1 "$PN" "$(request_hex "$(name_hex web.hc.test)")" 12

expect_fail_with "bad address block" "$HOPCHAIN" --direct socks --deny 10.0.0.0/33 "$(free_port)"
assert_rc 2
note "ok: a bad --deny block is a usage error (exit 2)"
