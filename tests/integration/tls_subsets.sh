#!/usr/bin/env bash
# Proves that TLS hops keep their --cafile in every chain built from part of the list: a hop
# picked alone by --strategy random, the hop left after dynamic drops a dead one, and `check`
# under a non-strict strategy, which walks each hop on its own. Each hop's TLS context is
# compiled once at startup (chain/hop.hpp); these chains used to verify against the system
# store instead and fail "certificate verify failed".
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
# shellcheck source=SCRIPTDIR/../support/lab_tls.sh
source "$HC_SUPPORT/lab_tls.sh"
lab_init
require_hopchain
lab_require stunnel4 openssl

tls_init_pki
tls_issue proxy "DNS:localhost,IP:127.0.0.1"
CA=$TLS_CA

E=$(free_port); start_echo "$E" 127.0.0.1
DA=$(free_port); start_danted dante-a "$DA"
DB=$(free_port); start_danted dante-b "$DB"
SA=$(free_port); start_stunnel tls-a "$SA" "$DA" proxy
SB=$(free_port); start_stunnel tls-b "$SB" "$DB" proxy
DEAD=$(free_port)  # nothing listens there
A="socks5h+tls://127.0.0.1:$SA"
B="socks5h+tls://127.0.0.1:$SB"
note "lab up: danted $DA $DB behind stunnel $SA $SB"

PAYLOAD=$LAB/payload
make_payload "$PAYLOAD" 4096

# Random picks one hop of two per run: a handful of runs uses each of them alone.
for run in 1 2 3 4; do
  stdio_echo_check "random, chain-len 1, run $run" "$PAYLOAD" 127.0.0.1 "$E" \
    --cafile "$CA" --strategy random --chain-len 1 -x "$A" -x "$B"
done
stdio_echo_check "round-robin, chain-len 1" "$PAYLOAD" 127.0.0.1 "$E" \
  --cafile "$CA" --strategy round-robin --chain-len 1 -x "$A" -x "$B"
# The whole list fails at its dead first hop; the retry runs through hop 2 alone.
stdio_echo_check "dynamic, dead hop 1 left out" "$PAYLOAD" 127.0.0.1 "$E" \
  --cafile "$CA" --strategy dynamic -x "socks5h+tls://127.0.0.1:$DEAD" -x "$B"

run_check 0 --cafile "$CA" --strategy dynamic -x "$A" -x "$B" check 127.0.0.1 "$E"
grep -q "^target .* ok (via socks5h+tls" "$LAB/check.out" || {
  cat "$LAB/check.out" "$LAB/check.err" >&2
  fail "check --strategy dynamic: the target row is not ok"
}
if grep -qi "certificate verify failed" "$LAB/check.out" "$LAB/check.err"; then
  cat "$LAB/check.out" >&2
  fail "check --strategy dynamic: a hop checked alone lost --cafile"
fi
note "ok: check --strategy dynamic verifies each hop alone against --cafile"
