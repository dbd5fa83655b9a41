#!/usr/bin/env bash
# check --bind: each SOCKS hop is asked for a BIND as the last hop of the hops up to it. Through
# danted, microsocks, danted and an HTTP proxy: yes, no (microsocks answers 0x07), yes, n/a; in
# the table's BIND column and in JSON (bind, bind_detail); the exit status does not change.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
lab_init
require_hopchain

D1=$(free_port); start_danted d1 "$D1"
D2=$(free_port); start_danted d2 "$D2"
M=$(free_port); start_microsocks "$M"
H=$(free_port); start_tinyproxy "$H"
CHAIN=(--pipeline=never -x "socks5://127.0.0.1:$D1" -x "socks5://127.0.0.1:$M"
  -x "socks4://127.0.0.1:$D2" -x "http://127.0.0.1:$H")

out=$LAB/table.out
timeout -k 5 60 "$HOPCHAIN" "${CHAIN[@]}" check --bind >"$out" 2>"$LAB/table.err" ||
  { cat "$out" "$LAB/table.err" >&2; fail "check --bind: exit $?"; }
head -n 1 "$out" | grep -q 'RESULT *BIND$' || fail "no BIND column: $(head -n 1 "$out")"
grep -E "^1 .*yes \(listening at 127\.0\.0\.1:[0-9]+\)$" "$out" >/dev/null || fail "hop 1: $(sed -n 2p "$out")"
grep -E "^2 .* no \(.*command not supported \(SOCKS5 reply 0x07\).*\)$" "$out" >/dev/null ||
  fail "hop 2: $(sed -n 3p "$out")"
grep -E "^3 .*yes \(listening at 127\.0\.0\.1:[0-9]+\)$" "$out" >/dev/null || fail "hop 3: $(sed -n 4p "$out")"
grep -E "^4 .* n/a$" "$out" >/dev/null || fail "hop 4: $(sed -n 5p "$out")"
note "ok: check --bind table:"$'\n'"$(cat "$out")"

timeout -k 5 60 "$HOPCHAIN" "${CHAIN[@]}" check --json --bind >"$LAB/json.out" 2>/dev/null ||
  fail "check --json --bind: exit $?"
python3 - "$LAB/json.out" <<'PY' || fail "JSON: $(cat "$LAB/json.out")"
import json, sys
hops = json.load(open(sys.argv[1]))["hops"]
assert [h["bind"] for h in hops] == ["yes", "no", "yes", "n/a"], hops
assert hops[0]["bind_detail"].startswith("listening at 127.0.0.1:"), hops[0]
assert "0x07" in hops[1]["bind_detail"], hops[1]
assert hops[3]["bind_detail"] is None, hops[3]
PY
# Without --bind: no column, and null in JSON.
timeout -k 5 60 "$HOPCHAIN" "${CHAIN[@]}" check --json >"$LAB/plain.out" 2>/dev/null
python3 -c 'import json,sys; assert all(h["bind"] is None for h in json.load(open(sys.argv[1]))["hops"])' \
  "$LAB/plain.out" || fail "JSON without --bind: $(cat "$LAB/plain.out")"
note "ok: JSON bind/bind_detail; null without --bind"
