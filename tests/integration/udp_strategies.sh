#!/usr/bin/env bash
# `hopchain udp` (and the SOCKS server's UDP ASSOCIATE) under --strategy, against real danted
# and microsocks servers:
#   - dynamic over [dead hop, danted]: the dead hop is blamed and left out, datagrams flow, the
#     log names the hop; the same through `hopchain socks`;
#   - hops that cannot carry UDP (HTTP and SOCKS4 by scheme, microsocks by its refusal) are left
#     out with one log line each instead of failing the run; a list with no hop that carries UDP
#     is a clear error;
#   - round-robin over two danted hops spreads the associations of several local sources;
#   - the hop in use killed: the next datagram rebuilds the association through the other hop;
#   - -v names every hop out of the whole chain (no "hop 1/1" for a 2-hop association).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
# shellcheck source=SCRIPTDIR/../support/lab_udp.sh
source "$HC_SUPPORT/lab_udp.sh"
lab_init
require_hopchain
lab_require danted microsocks

E=$(free_port); start_udp_echo "$E" 127.0.0.1
DA=$(free_port); start_danted dante-a "$DA"
DB=$(free_port); start_danted dante-b "$DB"
MS=$(free_port); start_microsocks "$MS"
DEAD=$(free_port)   # nothing listens here
A=socks5://127.0.0.1:$DA
B=socks5://127.0.0.1:$DB
X=socks5://127.0.0.1:$DEAD
note "lab up: udp echo $E, danted $DA $DB, microsocks $MS, dead $DEAD"

# --- dynamic: a dead hop is skipped -------------------------------------------------------------
L=$(free_port)
start_hopchain_udp hc-dyn -v --strategy dynamic -x "$X" -x "$A" udp "$L:127.0.0.1:$E" -- "$L"
udp_echo_check "dynamic over [dead, danted]" 127.0.0.1 "$L" --count 100 --clients 2
grep -q "hop 1/2 $X: connect: .*; retrying without $X" "$LAB/hc-dyn.log" ||
  fail "dynamic: the dead hop is not named in the log"
grep -q "hop 1/1 $A: UDP relay" "$LAB/hc-dyn.log" || fail "dynamic: no association through danted"
lab_kill "$LAB_LAST_PID"

# --- hops that cannot carry UDP are left out -----------------------------------------------------
L=$(free_port)
start_hopchain_udp hc-unfit -v --strategy dynamic -x "http://127.0.0.1:$DA" \
  -x "socks5://127.0.0.1:$MS" -x "socks4://127.0.0.1:$DB" -x "$A" udp "$L:127.0.0.1:$E" -- "$L"
udp_echo_check "dynamic over [http, microsocks, socks4, danted]" 127.0.0.1 "$L" --count 50 --clients 3
for hop in "http://127.0.0.1:$DA" "socks5://127.0.0.1:$MS" "socks4://127.0.0.1:$DB"; do
  n=$(count_log "$LAB/hc-unfit.log" "^hopchain: $hop: .*; left out of UDP associations$")
  ((n == 1)) || { cat "$LAB/hc-unfit.log" >&2; fail "$hop: expected one 'left out' line, found $n"; }
done
grep -q "socks5://127.0.0.1:$MS: command not supported" "$LAB/hc-unfit.log" ||
  fail "microsocks: the reason it was left out is not logged"
lab_kill "$LAB_LAST_PID"
note "ok: HTTP, microsocks and SOCKS4 hops left out, one line each"

L=$(free_port)
expect_fail_with "no other hop of the list carries UDP either" "$HOPCHAIN" --strategy random \
  -x "socks4://127.0.0.1:$DA" -x "socks5://127.0.0.1:$MS" udp "$L:127.0.0.1:$E"
assert_rc 1
assert_stderr_has "socks5://127.0.0.1:$MS: request: command not supported"
note "ok: no hop that carries UDP: $(tail -1 "$LAB_LAST_ERR")"
expect_fail_with "no other hop of the list carries UDP either" "$HOPCHAIN" --strategy dynamic \
  -x "http://127.0.0.1:$DA" -x "socks5+tls://127.0.0.1:$DB" udp "$L:127.0.0.1:$E"
assert_rc 1
if _lab_udp_is_bound "$L" 127.0.0.1; then fail "a refused list left UDP port $L bound"; fi

# --- round-robin spreads the associations ---------------------------------------------------------
L=$(free_port)
start_hopchain_udp hc-rr -v --strategy round-robin --chain-len 1 -x "$A" -x "$B" \
  udp "$L:127.0.0.1:$E" -- "$L"
udp_echo_check "round-robin over 2 danted hops, 4 local sources" 127.0.0.1 "$L" --count 50 --clients 4
na=$(count_log "$LAB/hc-rr.log" "hop 1/1 $A: UDP relay")
nb=$(count_log "$LAB/hc-rr.log" "hop 1/1 $B: UDP relay")
# 5 associations (the start-up check and one per source), alternating
((na >= 2 && nb >= 2)) || { cat "$LAB/hc-rr.log" >&2; fail "round-robin: danted a $na, danted b $nb associations"; }
note "ok: round-robin: $na associations through danted a, $nb through danted b"
lab_kill "$LAB_LAST_PID"

# --- the hop in use killed: rebuilt through the other one ---------------------------------------
DK=$(free_port); start_danted dante-k "$DK"
PID_K=$LAB_LAST_PID
K=socks5://127.0.0.1:$DK
L=$(free_port) SRC=$(free_port)
start_hopchain_udp hc-kill -v --strategy dynamic -x "$K" -x "$B" udp "$L:127.0.0.1:$E" -- "$L"
udp_echo_check "dynamic [danted k, danted b], before the kill" 127.0.0.1 "$L" --count 20 --bind-port "$SRC"
grep -q "hop 2/2 $B: UDP relay" "$LAB/hc-kill.log" || fail "dynamic: both live hops expected in the chain"
# -v numbers hops out of the whole chain: hop 2's control connection runs through hop 1
grep -qE "^hopchain: \[c[0-9]+\] hop 1/2 $K: connected" "$LAB/hc-kill.log" || fail "hop 1's control connection is not labelled hop 1/2 with its URL and the session tag"
grep -q "hop 1/2 $K: tunnel to 127.0.0.1:$DB open" "$LAB/hc-kill.log" ||
  fail "hop 2's control connection is not labelled out of the whole chain"
grep -q "hop 1/1 " "$LAB/hc-kill.log" && { cat "$LAB/hc-kill.log" >&2; fail "a 2-hop association logged 'hop 1/1'"; }
lab_kill "$PID_K"
wait_log "$LAB/hc-kill.log" "association lost" 10
udp_echo_check "after the kill, same source: rebuilt through danted b" 127.0.0.1 "$L" --count 20 \
  --bind-port "$SRC" --expire 8
grep -q "retrying without $K" "$LAB/hc-kill.log" || fail "the killed hop is not named"
grep -q "hop 1/1 $B: UDP relay" "$LAB/hc-kill.log" || fail "no association through danted b alone"
lab_kill "$LAB_LAST_PID"

# --- the SOCKS server's UDP ASSOCIATE follows the strategy ---------------------------------------
P=$(free_port)
# A cache of its own: the runs above remembered the dead hop, which would be skipped unnamed.
XDG_CACHE_HOME=$LAB/cache-socks lab_bg hc-socks "$HOPCHAIN" -v --strategy dynamic -x "$X" \
  -x "socks5://127.0.0.1:$MS" -x "$A" socks "$P"
_lab_wait_up hc-socks "$LAB_LAST_PID" "$P" 127.0.0.1
out=$(timeout 60 python3 "$HC_SUPPORT/udp_check.py" socks 127.0.0.1 "$P" --target "127.0.0.1:$E" \
  --count 20 2>&1) || { echo "$out" >&2; fail "socks server UDP ASSOCIATE under dynamic"; }
grep -q "retrying without $X" "$LAB/hc-socks.log" || fail "socks: the dead hop is not named"
grep -q "socks5://127.0.0.1:$MS: .*left out of UDP associations" "$LAB/hc-socks.log" ||
  fail "socks: microsocks not left out"
note "ok: socks server UDP ASSOCIATE under dynamic over [dead, microsocks, danted]: $out"
lab_kill "$LAB_LAST_PID"
