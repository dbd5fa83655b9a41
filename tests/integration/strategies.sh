#!/usr/bin/env bash
# Chain strategies, named chains, credentials and `check`, against real Dante servers:
# dynamic skips a dead hop (strict fails on it); random and round-robin build chains of
# --chain-len hops and retry around a dead one; a named chain (-c) under $XDG_CONFIG_HOME with
# its own `strategy` line; a hop's password from the credentials file and from
# HOPCHAIN_PASSWORD (and a usage error without either); `check` text and --json output and exit
# status, and its pipelining column: danted yes, microsocks no, an HTTP hop n/a, probed in auto
# mode and remembered (the next stdio run pipelines the hop at once), not probed with
# --pipeline=never. Forward with two event loops shares one round-robin turn between them.
# Passwords never appear in any output.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
lab_init
require_hopchain
lab_require python3 microsocks tinyproxy

E=$(free_port); start_echo "$E" 127.0.0.1
DA=$(free_port); start_danted dante-a "$DA"
DB=$(free_port); start_danted dante-b "$DB"
DC=$(free_port); start_danted dante-auth "$DC" auth
MS=$(free_port); start_microsocks "$MS"
TP=$(free_port); start_tinyproxy "$TP"
DEAD=$(free_port)   # nothing listens here

A=socks5://127.0.0.1:$DA
B=socks5://127.0.0.1:$DB
X=socks5://127.0.0.1:$DEAD
XDG=$LAB/xdg
mkdir -p "$XDG/hopchain/chains"
export XDG_CONFIG_HOME=$XDG
export XDG_CACHE_HOME=$LAB/cache   # pipelining verdicts stay in the lab
unset HOPCHAIN_PASSWORD

# echo_ok DESC HOPCHAIN-OPTIONS... : one line through the chain to the echo server comes back.
echo_ok() {
  local desc=$1 rc=0
  shift
  timeout -k 5 20 "$HOPCHAIN" -v "$@" stdio 127.0.0.1 "$E" <<<"ping-$desc" >"$LAB/echo.out" \
    2>"$LAB/echo.err" || rc=$?
  if ((rc != 0)) || [[ $(cat "$LAB/echo.out") != "ping-$desc" ]]; then
    cat "$LAB/echo.err" >&2
    fail "$desc: echo through the chain failed (exit $rc)"
  fi
  note "$desc: ok"
}

# --- strategies ------------------------------------------------------------------------------
expect_fail_with "hop 1/3" "$HOPCHAIN" -x "$A" -x "$X" -x "$B" stdio 127.0.0.1 "$E"
assert_rc 1
echo_ok dynamic --strategy dynamic -x "$A" -x "$X" -x "$B"
grep -q "retrying without" "$LAB/echo.err" || fail "dynamic: no retry logged"
echo_ok dynamic-dead-first --strategy dynamic -x "$X" -x "$A"
for i in 1 2 3 4; do
  echo_ok "random-$i" --strategy random --chain-len 2 -x "$A" -x "$X" -x "$B"
  # (a "hop 1/1" line may follow: the pipelining probe runs on its own one-hop chain)
  grep -q "hop 2/2 .*tunnel to 127.0.0.1:$E" "$LAB/echo.err" || fail "random: 2 hops expected"
  # (the dead hop is "hop 2/3" of the list when an earlier run's verdict is logged)
  ! grep -v "found dead by an earlier run" "$LAB/echo.err" | grep -q "hop [0-9]/3" ||
    fail "random: chain of 3 hops"
done
for i in 1 2 3; do
  echo_ok "round-robin-$i" --strategy round-robin --chain-len 1 -x "$X" -x "$A" -x "$B"
done
# All hops dead: tried anyway, then a plain chain failure (exit 1), not a refusal.
expect_fail_with "hop 1/1" "$HOPCHAIN" --strategy random -x "$X" stdio 127.0.0.1 "$E"
assert_rc 1

# --- named chains ----------------------------------------------------------------------------
printf 'strategy dynamic\n%s\n%s  # dead\n%s\n' "$A" "$X" "$B" >"$XDG/hopchain/chains/lab"
chmod 600 "$XDG/hopchain/chains/lab"
echo_ok named-chain -c lab
expect_fail_with "no chain named 'nosuch'" "$HOPCHAIN" -c nosuch stdio 127.0.0.1 "$E"
assert_rc 2

# --- credentials -----------------------------------------------------------------------------
AUTH=socks5h://$LAB_USER@127.0.0.1:$DC
expect_fail_with "HOPCHAIN_PASSWORD" "$HOPCHAIN" -x "$AUTH" stdio 127.0.0.1 "$E"
assert_rc 2
HOPCHAIN_PASSWORD=$LAB_PASS echo_ok env-password -x "$AUTH"
grep -qF "$LAB_PASS" "$LAB/echo.err" && fail "password in output"
printf 'machine 127.0.0.1 port %s login %s password %s\n' "$DC" "$LAB_USER" "$LAB_PASS" \
  >"$XDG/hopchain/credentials"
chmod 600 "$XDG/hopchain/credentials"
echo_ok file-password -x "$AUTH"
[[ -s $LAB/echo.err ]] && grep -q "warning" "$LAB/echo.err" && fail "unexpected warning"
chmod 644 "$XDG/hopchain/credentials"
echo_ok loose-credentials -x "$AUTH"
grep -q "readable by group or others" "$LAB/echo.err" || fail "no permission warning"
rm "$XDG/hopchain/credentials"
HOPCHAIN_PASSWORD=wrong-one expect_fail_with "hop 1/1" "$HOPCHAIN" -x "$AUTH" stdio 127.0.0.1 "$E"
assert_rc 1
assert_stderr_lacks "wrong-one"

# --- a hop killed and restarted under a running forward (passive health) --------------------
DK=$(free_port); start_danted dante-k "$DK"
PID_K=$LAB_LAST_PID
K=socks5://127.0.0.1:$DK
L=$(free_port)
lab_bg fwd "$HOPCHAIN" -v --strategy round-robin --chain-len 1 --fail-timeout 1 -x "$A" -x "$K" \
  forward "127.0.0.1:$L:127.0.0.1:$E"
wait_port "$L"
echo_conns() { # DESC: 4 connections one after another, each must echo
  local i
  for i in 1 2 3 4; do
    timeout 20 python3 "$HC_SUPPORT/tcp_check.py" echo 127.0.0.1 "$L" --count 1 --timeout 15 \
      >/dev/null 2>&1 || { tail -20 "$LAB/fwd.log" >&2; fail "$1: connection $i failed"; }
  done
  note "$1: ok"
}
used_k() { grep -c "$K: connected" "$LAB/fwd.log" || true; }
echo_conns "forward round-robin, both hops up"
((  $(used_k) >= 2 )) || fail "round-robin did not use the second hop"
lab_kill "$PID_K"
echo_conns "forward, second hop killed"
grep -q "retrying without $K" "$LAB/fwd.log" || fail "no retry around the killed hop"
before=$(used_k)
start_danted dante-k2 "$DK"
# The restarted hop is skipped until --fail-timeout (1 s) has run out: keep connecting (each
# connection must echo) until a tunnel goes through it again, for at most 30 s.
one_echo_then_k_used() {
  timeout 20 python3 "$HC_SUPPORT/tcp_check.py" echo 127.0.0.1 "$L" --count 1 --timeout 15 \
    >/dev/null 2>&1 || { tail -20 "$LAB/fwd.log" >&2; fail "forward, second hop restarted: a connection failed"; }
  (($(used_k) > before))
}
wait_until 30 one_echo_then_k_used || fail "the restarted hop was not used again after --fail-timeout"
echo_conns "forward, second hop restarted"

# --- forward with two event loops: one round-robin turn for both ----------------------------
L2=$(free_port)
lab_bg fwd2 "$HOPCHAIN" -v --pipeline=never --strategy round-robin --chain-len 1 -x "$A" -x "$B" \
  forward --workers 2 "127.0.0.1:$L2:127.0.0.1:$E"
wait_port "$L2"
for i in $(seq 1 16); do
  timeout 20 python3 "$HC_SUPPORT/tcp_check.py" echo 127.0.0.1 "$L2" --count 1 --timeout 15 \
    >/dev/null 2>&1 || { tail -20 "$LAB/fwd2.log" >&2; fail "--workers 2: connection $i failed"; }
done
used_a=$(grep -c "$A: connected to" "$LAB/fwd2.log" || true)
used_b=$(grep -c "$B: connected to" "$LAB/fwd2.log" || true)
((used_a == 8 && used_b == 8)) ||
  fail "--workers 2 round-robin: $used_a connections through hop A, $used_b through B (8 each expected)"
note "forward --workers 2 round-robin: 8 connections through each hop"

# --- check -----------------------------------------------------------------------------------
run_check 0 -x "$A" -x "$B" check 127.0.0.1 "$E"
grep -q "^HOP .*CONNECT .*HANDSHAKE .*TOTAL .*PIPELINE .*RESULT" "$LAB/check.out" || fail "check: no header"
grep -q "^1 .* yes  *ok$" "$LAB/check.out" || { cat "$LAB/check.out"; fail "check: danted hop 1 does not pipeline"; }
[[ $(grep -c " ok$" "$LAB/check.out") == 3 ]] || { cat "$LAB/check.out"; fail "check: 3 ok rows expected"; }
run_check 0 -x "$A" -x "$B" check
run_check 1 -x "$A" -x "$X" -x "$B" check 127.0.0.1 "$E"
grep -q "^2 .*failed" "$LAB/check.out" || { cat "$LAB/check.out"; fail "check: hop 2 not failed"; }
HOPCHAIN_PASSWORD=$LAB_PASS run_check 0 -x "$A" -x "$AUTH" check --json 127.0.0.1 "$E"
grep -qF "$LAB_PASS" "$LAB/check.out" "$LAB/check.err" && fail "check: password in output"
python3 - "$LAB/check.out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is True, d
assert [h["hop"] for h in d["hops"]] == [1, 2], d
assert all(h["result"] == "ok" and h["total_ms"] is not None for h in d["hops"]), d
assert all(h["pipelining"] == "yes" and h["pipelining_source"] in ("cache", "probe")
           for h in d["hops"]), d
assert d["target"]["result"] == "ok" and "pipelining" not in d["target"], d
PY
run_check 1 --strategy dynamic -x "$A" -x "$X" check --json
python3 - "$LAB/check.out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is False and d["strategy"] == "dynamic", d
assert [h["result"] for h in d["hops"]] == ["reachable", "failed"], d
assert [h["pipelining"] for h in d["hops"]] == ["yes", "unknown"], d  # a dead hop: no probe
assert d["target"]["result"] == "not tested" and d["target"]["address"] is None, d
PY
note "check: ok"

# --- check: pipelining column, with nothing learnt yet -----------------------------------------
export XDG_CACHE_HOME=$LAB/cache-check
cache=$XDG_CACHE_HOME/hopchain/pipeline
CHK=(--connect-timeout 2 -x "$A" -x "socks5://127.0.0.1:$MS" -x "http://127.0.0.1:$TP")
run_check 0 --pipeline=never "${CHK[@]}" check 127.0.0.1 "$E"
grep -q "^1 .* not probed  *ok$" "$LAB/check.out" || { cat "$LAB/check.out"; fail "check --pipeline=never: hop 1 should be 'not probed'"; }
grep -q "^3 .*http .* n/a  *ok$" "$LAB/check.out" || { cat "$LAB/check.out"; fail "check: the HTTP hop should be n/a"; }
[[ -e $cache ]] && fail "check --pipeline=never wrote the pipelining cache"
run_check 0 -v "${CHK[@]}" check --json 127.0.0.1 "$E"
python3 - "$LAB/check.out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
got = [(h["protocol"], h["pipelining"], h["pipelining_source"]) for h in d["hops"]]
assert got == [("socks5", "yes", "probe"), ("socks5", "no", "probe"), ("http", "n/a", None)], got
assert d["ok"] is True, d
PY
grep -q "pipelined handshake probe: accepts" "$LAB/check.err" || fail "check -v: no probe logged"
grep -q "^accepts socks5://127.0.0.1:$DA\$" "$cache" || { cat "$cache"; fail "check did not remember danted"; }
grep -q "^refuses socks5://127.0.0.1:$MS\$" "$cache" || { cat "$cache"; fail "check did not remember microsocks"; }
run_check 0 "${CHK[@]}" check --json 127.0.0.1 "$E"
python3 - "$LAB/check.out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
got = [(h["pipelining"], h["pipelining_source"]) for h in d["hops"]]
assert got == [("yes", "cache"), ("no", "cache"), ("n/a", None)], got
PY
run_check 0 --pipeline=never "${CHK[@]}" check 127.0.0.1 "$E"
grep -q "^2 .* no  *ok$" "$LAB/check.out" || { cat "$LAB/check.out"; fail "check --pipeline=never: what was learnt is not shown"; }
# the first stdio run after check pipelines the danted hop at once
echo_ok after-check -x "$A"
grep -q "(pipelined)" "$LAB/echo.err" || { cat "$LAB/echo.err"; fail "stdio after check did not pipeline danted"; }
note "check: pipelining column ok"
