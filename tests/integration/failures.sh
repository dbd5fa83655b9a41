#!/usr/bin/env bash
# Proves hopchain's failure behaviour against real servers: exit status 1 for chain/network
# failures and 2 for usage errors; stderr names the failing hop and the cause: refused hop
# ("connect", "refused"), a hop that accepts but never answers (--connect-timeout 2 -> "timed
# out" after ~2 s, not before 1.5 s nor after 5 s), rejected RFC 1929 credentials on danted and
# microsocks ("username/password rejected"), no acceptable method (auth-only danted, no
# credentials), tinyproxy Basic auth (407 without credentials, 401 with wrong ones), Dante replies for an unreachable target (SOCKS5 reply 0x05, SOCKS4 reply 0x5B)
# and a blocked one at hop 2 of 2 (SOCKS5 reply 0x02, "not allowed by ruleset"), ssh -D closing
# without a reply, tinyproxy 500; and that passwords never appear in any output, not
# even with -vv.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
lab_init
require_hopchain

U=$LAB_USER
E=$(free_port); start_echo "$E"
CLOSED=$(free_port)      # nothing listens here
Q=$(free_port); start_silent_server "$Q"
DA=$(free_port); start_danted dante-a "$DA"
DB=$(free_port); start_danted dante-b "$DB"
DC=$(free_port); start_danted dante-auth "$DC" auth
MA=$(free_port); start_microsocks "$MA" "$U" "$LAB_PASS"
SSHD=$(free_port); start_sshd "$SSHD"
SD=$(free_port); start_ssh_socks "$SD" "$SSHD"
TP=$(free_port); start_tinyproxy "$TP"
TA=$(free_port); start_tinyproxy "$TA" "$U" "$LAB_PASS"
BAD_PW=Wr0ngPa55-7731        # distinctive, so any leak is found by grep
show() { note "ok: $1 -> exit $LAB_LAST_RC: $(tr '\n' ' ' <"$LAB_LAST_ERR" | head -c 300)"; }

# --- hop 1 itself fails ---------------------------------------------------------------------
expect_fail_with "refused" "$HOPCHAIN" -x "socks5://127.0.0.1:$CLOSED" stdio 127.0.0.1 "$E"
assert_rc 1
assert_stderr_has "connect"
assert_stderr_has "hop 1/1"
show "refused hop"

expect_fail_with "refused" "$HOPCHAIN" -x "http://127.0.0.1:$CLOSED" -x "socks5://127.0.0.1:$DA" stdio 127.0.0.1 "$E"
assert_rc 1
assert_stderr_has "connect"
assert_stderr_has "hop 1/2"
show "refused first hop of two"

expect_fail_with "timed out" "$HOPCHAIN" --connect-timeout 2 -x "socks5://127.0.0.1:$Q" stdio 127.0.0.1 "$E"
assert_rc 1
assert_stderr_has "hop 1/1"
awk -v s="$LAB_LAST_SECS" 'BEGIN { exit !(s >= 1.5 && s < 5) }' ||
  fail "silent hop with --connect-timeout 2 failed after ${LAB_LAST_SECS}s (want 1.5 s <= t < 5 s)"
show "silent hop, --connect-timeout 2, ${LAB_LAST_SECS}s"

expect_fail_with "timed out" "$HOPCHAIN" --connect-timeout 2 -x "socks5://127.0.0.1:$DA" -x "socks5://127.0.0.1:$Q" \
  stdio 127.0.0.1 "$E"
assert_rc 1
assert_stderr_has "hop 2/2"
awk -v s="$LAB_LAST_SECS" 'BEGIN { exit !(s >= 1.5 && s < 5) }' ||
  fail "silent hop 2 with --connect-timeout 2 failed after ${LAB_LAST_SECS}s (want 1.5 s <= t < 5 s)"
show "silent hop 2 of 2, --connect-timeout 2, ${LAB_LAST_SECS}s"

expect_fail_with "timed out" "$HOPCHAIN" --connect-timeout 2 -x "http://127.0.0.1:$Q" stdio 127.0.0.1 "$E"
assert_rc 1
show "silent HTTP proxy"

# --- authentication --------------------------------------------------------------------------
expect_fail_with "username/password rejected" "$HOPCHAIN" -x "socks5://$U:$BAD_PW@127.0.0.1:$DC" stdio 127.0.0.1 "$E"
assert_rc 1
assert_stderr_has "hop 1/1"
assert_stderr_lacks "$BAD_PW"
show "danted, wrong password"

expect_fail_with "username/password rejected" "$HOPCHAIN" -v -x "socks5://127.0.0.1:$DA" \
  -x "socks5h://$U:$BAD_PW@127.0.0.1:$MA" stdio 127.0.0.1 "$E"
assert_rc 1
assert_stderr_has "hop 2/2"
assert_stderr_lacks "$BAD_PW"
show "microsocks as hop 2, wrong password"

# percent-encoded password: neither the encoded nor the decoded form may leak
expect_fail_with "username/password rejected" "$HOPCHAIN" -vv -x "socks5://$U:Pct%40Leak%3A9931@127.0.0.1:$DC" \
  stdio 127.0.0.1 "$E"
assert_rc 1
assert_stderr_lacks "Pct%40Leak%3A9931"
assert_stderr_lacks "Pct@Leak:9931"
show "danted, wrong percent-encoded password, -vv"

expect_fail_with "no acceptable" "$HOPCHAIN" -x "socks5://127.0.0.1:$DC" stdio 127.0.0.1 "$E"
assert_rc 1
show "danted username-only, no credentials given"

# Quirk: tinyproxy answers 407 without credentials but 401 (not 407) for wrong ones.
expect_fail_with "401" "$HOPCHAIN" -x "http://$U:$BAD_PW@127.0.0.1:$TA" stdio 127.0.0.1 "$E"
assert_rc 1
assert_stderr_lacks "$BAD_PW"
show "tinyproxy BasicAuth, wrong password"

expect_fail_with "407" "$HOPCHAIN" -x "http://127.0.0.1:$TA" stdio 127.0.0.1 "$E"
assert_rc 1
show "tinyproxy BasicAuth, no credentials"

# --- the last hop cannot reach the target ----------------------------------------------------
expect_fail_with "SOCKS5 reply 0x05" "$HOPCHAIN" -x "socks5://127.0.0.1:$DA" stdio 127.0.0.1 "$CLOSED"
assert_rc 1
assert_stderr_has "refused"
assert_stderr_has "hop 1/1"
show "danted socks5 -> closed target"

expect_fail_with "SOCKS5 reply 0x05" "$HOPCHAIN" -x "socks5h://$U:$LAB_PASS@127.0.0.1:$DC" stdio 127.0.0.1 "$CLOSED"
assert_rc 1
assert_stderr_lacks "$LAB_PASS"
show "danted auth socks5h -> closed target"

expect_fail_with "SOCKS4 reply 0x5B" "$HOPCHAIN" -x "socks4://127.0.0.1:$DA" stdio 127.0.0.1 "$CLOSED"
assert_rc 1
show "danted socks4 -> closed target"

expect_fail_with "SOCKS5 reply 0x02" "$HOPCHAIN" -x "socks5://127.0.0.1:$DB" -x "socks5h://127.0.0.1:$DA" \
  stdio "$LAB_BLOCKED_IP" "$E"
assert_rc 1
assert_stderr_has "hop 2/2"
assert_stderr_has "not allowed by ruleset"
show "hop 2/2 danted blocks the destination"

expect_fail_with "SOCKS5 reply 0x05" "$HOPCHAIN" -x "socks5://127.0.0.1:$DA" -x "socks5://127.0.0.1:$CLOSED" \
  stdio 127.0.0.1 "$E"
assert_rc 1
show "danted cannot reach hop 2 (closed port)"

# ssh -D closes the connection without any SOCKS reply when its connect fails
expect_fail_with "hop 1/1" "$HOPCHAIN" -x "socks5://127.0.0.1:$SD" stdio 127.0.0.1 "$CLOSED"
assert_rc 1
show "ssh -D -> closed target (no reply, just EOF)"

expect_fail_with "500" "$HOPCHAIN" -x "http://127.0.0.1:$TP" stdio 127.0.0.1 "$CLOSED"
assert_rc 1
show "tinyproxy -> closed target"

# --- passwords stay secret on success and on failure, at every verbosity ---------------------
for v in -q "" -v -vv; do
  # success through three authenticating hops (driver: microsocks and tinyproxy need stdin open)
  rc=0
  timeout 60 python3 "$HC_SUPPORT/stdio_driver.py" --size 4096 --timeout 40 --stderr-file "$LAB/ok.err" -- \
    "$HOPCHAIN" $v -x "socks5://$U:$LAB_PASS@127.0.0.1:$DC" -x "socks5h://$U:$LAB_PASS@127.0.0.1:$MA" \
    -x "http://$U:$LAB_PASS@127.0.0.1:$TA" stdio 127.0.0.1 "$E" >"$LAB/ok.out" 2>&1 || rc=$?
  ((rc == 0)) || { cat "$LAB/ok.out" >&2; fail "authenticated 3-hop chain ($v) failed"; }
  if grep -qF "$LAB_PASS" "$LAB/ok.err"; then
    cat "$LAB/ok.err" >&2
    fail "the password appears on stderr of a successful run ($v)"
  fi
  # failure after successful authentication at two hops
  expect_fail_with "hop" "$HOPCHAIN" $v -x "socks5://$U:$LAB_PASS@127.0.0.1:$DC" \
    -x "http://$U:$LAB_PASS@127.0.0.1:$TA" stdio 127.0.0.1 "$CLOSED"
  assert_rc 1
  assert_stderr_lacks "$LAB_PASS"
done
note "ok: no password in the output of successful and failing runs at -q, default, -v, -vv"

# --- usage errors: exit 2, and no hanging --------------------------------------------------------
# shellcheck disable=SC2034  # read by expect_fail_with
LAB_CMD_TIMEOUT=10
usage_error() { # DESC ARGS...
  local desc=$1
  shift
  expect_fail_with "" "$HOPCHAIN" "$@"
  assert_rc 2
  [[ -s $LAB_LAST_ERR ]] || fail "usage error '$desc' printed nothing on stderr"
  show "usage error: $desc"
}
usage_error "no arguments"
usage_error "unknown mode" -x "socks5://127.0.0.1:$DA" teleport 127.0.0.1 "$E"
usage_error "unknown scheme" -x "ftp://127.0.0.1:$DA" stdio 127.0.0.1 "$E"
usage_error "stdio without port" -x "socks5://127.0.0.1:$DA" stdio 127.0.0.1
usage_error "bad port in URL" -x "socks5://127.0.0.1:99999" stdio 127.0.0.1 "$E"
usage_error "bad forward spec" -x "socks5://127.0.0.1:$DA" forward "not-a-spec"
usage_error "bad --connect-timeout" --connect-timeout abc -x "socks5://127.0.0.1:$DA" stdio 127.0.0.1 "$E"
