#!/usr/bin/env bash
# Proves what `check` reports: per-hop times that add up (each hop reached no sooner than the one
# before it answered, handshakes never negative, the target after the last hop) in 5 of 5 runs
# through 3 hops; a target row under every strategy (with the hops the strategy picked); a dead
# hop's row that speaks of the hop, never of a "target"; and a JSON target object saying
# "not tested" when no HOST PORT is given.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
lab_init
require_hopchain
export XDG_CACHE_HOME=$LAB/cache

E=$(free_port); start_echo "$E" 127.0.0.1
DA=$(free_port); start_danted dante-a "$DA"
DB=$(free_port); start_danted dante-b "$DB"
MS=$(free_port); start_microsocks "$MS"
DEAD=$(free_port)   # nothing listens here
A="socks5://127.0.0.1:$DA" B="socks5h://127.0.0.1:$DB" M="socks5://127.0.0.1:$MS"
X="socks5://127.0.0.1:$DEAD"


for run in 1 2 3 4 5; do
  run_check 0 -x "$A" -x "$M" -x "$B" check --json 127.0.0.1 "$E"
  python3 - "$LAB/check.out" <<'PY' || fail "run $run: the times do not add up: $(cat "$LAB/check.out")"
import json, sys
d = json.load(open(sys.argv[1]))
hops = d["hops"]
assert d["ok"] is True and len(hops) == 3, d
for h in hops:
    assert h["handshake_ms"] >= 0, h
    assert h["connect_ms"] <= h["total_ms"], h
for a, b in zip(hops, hops[1:]):
    assert a["total_ms"] <= b["connect_ms"] <= b["total_ms"], (a, b)
assert d["target"]["result"] == "ok" and d["target"]["total_ms"] >= hops[-1]["total_ms"], d
PY
done
note "ok: 5 of 5 runs through 3 hops: every hop's times add up, the target's after them"

for strategy in dynamic random round-robin; do
  run_check 0 --strategy "$strategy" -x "$A" -x "$B" check --json 127.0.0.1 "$E"
  python3 - "$LAB/check.out" "$strategy" <<'PY' || fail "--strategy $strategy: $(cat "$LAB/check.out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["strategy"] == sys.argv[2], d
assert d["target"]["address"].endswith(":" + d["target"]["address"].rsplit(":", 1)[1]), d
assert d["target"]["result"] == "ok" and d["target"]["via"].startswith("via socks5"), d
PY
  run_check 0 --strategy "$strategy" -x "$A" -x "$B" check 127.0.0.1 "$E"
  grep -q "^target .* ok (via socks5" "$LAB/check.out" || {
    cat "$LAB/check.out"
    fail "--strategy $strategy: no target row in the table"
  }
done
note "ok: a target row, with the hops picked, under dynamic, random and round-robin"

run_check 1 --strategy dynamic -x "$X" -x "$A" check --json 127.0.0.1 "$E"
python3 - "$LAB/check.out" <<'PY' || fail "a dead hop's row: $(cat "$LAB/check.out")"
import json, sys
d = json.load(open(sys.argv[1]))
dead = d["hops"][0]
assert dead["result"] == "failed" and "target" not in dead["error"].lower(), dead
assert dead["error"].startswith("connect:"), dead
assert d["target"]["result"] == "ok" and "127.0.0.1:" in d["target"]["via"], d
PY
run_check 1 -x "$X" -x "$A" check 127.0.0.1 "$E"
if grep -i "^1 .*target" "$LAB/check.out"; then
  fail "strict: the dead hop's row speaks of a target"
fi
note "ok: a dead hop's row names the connect failure, not a target; dynamic reaches the target past it"

run_check 0 -x "$A" check --json
python3 - "$LAB/check.out" <<'PY' || fail "no HOST PORT: $(cat "$LAB/check.out")"
import json, sys
d = json.load(open(sys.argv[1]))
t = d["target"]
assert isinstance(t, dict) and t["result"] == "not tested" and t["address"] is None, d
PY
run_check 0 -x "$A" check
if grep -q "^target" "$LAB/check.out"; then
  fail "no HOST PORT: the table has a target row"
fi
note "ok: without HOST PORT the JSON target says 'not tested' and the table has no target row"
