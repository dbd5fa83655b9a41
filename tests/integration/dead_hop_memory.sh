#!/usr/bin/env bash
# Hop health across runs. Under dynamic, a hop that accepts TCP but never answers costs the first
# stdio run its --connect-timeout (2 s) before the chain goes through the other hop; the hop is
# then remembered dead in $XDG_CACHE_HOME/hopchain/health (mode 600 in a 700 directory, no
# password), so a second run with the same cache goes through at once and says with -v that an
# earlier run found the hop dead. Under strict nothing is written or read.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
lab_init
require_hopchain
lab_require python3

E=$(free_port); start_echo "$E" 127.0.0.1
DA=$(free_port); start_danted dante-a "$DA"
S=$(free_port); start_silent_server "$S"
SILENT=socks5h://$LAB_USER@127.0.0.1:$S
A=socks5://127.0.0.1:$DA
export HOPCHAIN_PASSWORD=$LAB_PASS   # the silent hop's, never to be written anywhere
export XDG_CACHE_HOME=$LAB/cache
HEALTH=$XDG_CACHE_HOME/hopchain/health

# timed_echo DESC HOPCHAIN-OPTIONS... : one line through the chain to the echo server; sets
# ELAPSED (seconds) and leaves -v output in $LAB/echo.err.
timed_echo() {
  local desc=$1 rc=0 start
  shift
  start=$(date +%s.%N)
  timeout -k 5 30 "$HOPCHAIN" -v --connect-timeout 2 "$@" stdio 127.0.0.1 "$E" \
    <<<"ping-$desc" >"$LAB/echo.out" 2>"$LAB/echo.err" || rc=$?
  ELAPSED=$(_lab_secs_since "$start")
  if ((rc != 0)) || [[ $(cat "$LAB/echo.out") != "ping-$desc" ]]; then
    cat "$LAB/echo.err" >&2
    fail "$desc: echo through the chain failed (exit $rc)"
  fi
  note "$desc: ok in $ELAPSED s"
}

# faster_than LIMIT : ELAPSED < LIMIT
faster_than() { awk -v e="$ELAPSED" -v l="$1" 'BEGIN { exit !(e < l) }'; }

# --- the first run pays the silent hop's timeout, then remembers it ---------------------------
timed_echo first-run --strategy dynamic -x "$SILENT" -x "$A"
! faster_than 1.8 || fail "first run took $ELAPSED s: the silent hop's 2 s timeout expected"
grep -q "retrying without" "$LAB/echo.err" || fail "first run: no retry logged"
[[ -s $HEALTH ]] || fail "no $HEALTH written"
grep -qE "^[0-9]+ socks5h://$LAB_USER@127\.0\.0\.1:$S\$" "$HEALTH" || {
  cat "$HEALTH" >&2
  fail "the silent hop is not in $HEALTH"
}
grep -q ":$DA" "$HEALTH" && fail "the live hop is in $HEALTH"
grep -qF "$LAB_PASS" "$HEALTH" && fail "password in $HEALTH"
[[ $(stat -c %a "$HEALTH") == 600 ]] || fail "$HEALTH is mode $(stat -c %a "$HEALTH")"
[[ $(stat -c %a "$XDG_CACHE_HOME/hopchain") == 700 ]] || fail "cache directory not mode 700"

# --- the second run skips it at once -----------------------------------------------------------
timed_echo second-run --strategy dynamic -x "$SILENT" -x "$A"
faster_than 1.5 || fail "second run took $ELAPSED s: the remembered dead hop was tried again"
grep -q "hop 1/2 socks5h://$LAB_USER@127.0.0.1:$S: skipped, found dead by an earlier run (until" \
  "$LAB/echo.err" || {
  cat "$LAB/echo.err" >&2
  fail "second run: the remembered dead hop is not logged"
}
grep -qF "$LAB_PASS" "$LAB/echo.err" && fail "password in the log"

# --- strict neither reads nor writes it --------------------------------------------------------
expect_fail_with "hop 1/2" "$HOPCHAIN" -v --connect-timeout 1 --strategy strict \
  -x "$SILENT" -x "$A" stdio 127.0.0.1 "$E"
assert_rc 1
assert_stderr_lacks "found dead by an earlier run"
export XDG_CACHE_HOME=$LAB/cache-strict
expect_fail_with "hop 1/2" "$HOPCHAIN" --connect-timeout 1 --strategy strict \
  -x "$SILENT" -x "$A" stdio 127.0.0.1 "$E"
assert_rc 1
[[ -e $XDG_CACHE_HOME/hopchain/health ]] && fail "strict wrote a health file"
note "strict: no health file"
