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

# chain_fails DESC WANT [CHECK...] -- HOPCHAIN-ARGS... : hopchain exits 1 with WANT on stderr.
# A CHECK +TEXT must be on stderr (any case); -TEXT must be in no output (a secret).
chain_fails() {
  local desc=$1 want=$2 check
  local -a checks=()
  shift 2
  while [[ $1 != -- ]]; do
    checks+=("$1")
    shift
  done
  shift
  expect_fail_with "$want" "$HOPCHAIN" "$@"
  assert_rc 1
  for check in "${checks[@]}"; do
    case $check in
      +*) assert_stderr_has "${check:1}" ;;
      -*) assert_stderr_lacks "${check:1}" ;;
      *) fail "chain_fails: check '$check' is neither +TEXT nor -TEXT" ;;
    esac
  done
  show "$desc"
}

# --- hop 1 itself fails ---------------------------------------------------------------------
chain_fails "refused hop" "refused" +connect "+hop 1/1" -- \
  -x "socks5://127.0.0.1:$CLOSED" stdio 127.0.0.1 "$E"
chain_fails "refused first hop of two" "refused" +connect "+hop 1/2" -- \
  -x "http://127.0.0.1:$CLOSED" -x "socks5://127.0.0.1:$DA" stdio 127.0.0.1 "$E"

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

chain_fails "silent HTTP proxy" "timed out" -- \
  --connect-timeout 2 -x "http://127.0.0.1:$Q" stdio 127.0.0.1 "$E"

# --- authentication --------------------------------------------------------------------------
chain_fails "danted, wrong password" "username/password rejected" "+hop 1/1" "-$BAD_PW" -- \
  -x "socks5://$U:$BAD_PW@127.0.0.1:$DC" stdio 127.0.0.1 "$E"
chain_fails "microsocks as hop 2, wrong password" "username/password rejected" "+hop 2/2" "-$BAD_PW" -- \
  -v -x "socks5://127.0.0.1:$DA" -x "socks5h://$U:$BAD_PW@127.0.0.1:$MA" stdio 127.0.0.1 "$E"
# percent-encoded password: neither the encoded nor the decoded form may leak
chain_fails "danted, wrong percent-encoded password, -vv" "username/password rejected" \
  "-Pct%40Leak%3A9931" "-Pct@Leak:9931" -- \
  -vv -x "socks5://$U:Pct%40Leak%3A9931@127.0.0.1:$DC" stdio 127.0.0.1 "$E"
chain_fails "danted username-only, no credentials given" "no acceptable" -- \
  -x "socks5://127.0.0.1:$DC" stdio 127.0.0.1 "$E"
# Quirk: tinyproxy answers 407 without credentials but 401 (not 407) for wrong ones.
chain_fails "tinyproxy BasicAuth, wrong password" "401" "-$BAD_PW" -- \
  -x "http://$U:$BAD_PW@127.0.0.1:$TA" stdio 127.0.0.1 "$E"
chain_fails "tinyproxy BasicAuth, no credentials" "407" -- \
  -x "http://127.0.0.1:$TA" stdio 127.0.0.1 "$E"

# --- the last hop cannot reach the target ----------------------------------------------------
chain_fails "danted socks5 -> closed target" "SOCKS5 reply 0x05" +refused "+hop 1/1" -- \
  -x "socks5://127.0.0.1:$DA" stdio 127.0.0.1 "$CLOSED"
chain_fails "danted auth socks5h -> closed target" "SOCKS5 reply 0x05" "-$LAB_PASS" -- \
  -x "socks5h://$U:$LAB_PASS@127.0.0.1:$DC" stdio 127.0.0.1 "$CLOSED"
chain_fails "danted socks4 -> closed target" "SOCKS4 reply 0x5B" -- \
  -x "socks4://127.0.0.1:$DA" stdio 127.0.0.1 "$CLOSED"
chain_fails "hop 2/2 danted blocks the destination" "SOCKS5 reply 0x02" "+hop 2/2" \
  "+not allowed by ruleset" -- \
  -x "socks5://127.0.0.1:$DB" -x "socks5h://127.0.0.1:$DA" stdio "$LAB_BLOCKED_IP" "$E"
chain_fails "danted cannot reach hop 2 (closed port)" "SOCKS5 reply 0x05" -- \
  -x "socks5://127.0.0.1:$DA" -x "socks5://127.0.0.1:$CLOSED" stdio 127.0.0.1 "$E"
# ssh -D closes the connection without any SOCKS reply when its connect fails
chain_fails "ssh -D -> closed target (no reply, just EOF)" "hop 1/1" -- \
  -x "socks5://127.0.0.1:$SD" stdio 127.0.0.1 "$CLOSED"
# the status line and what the page says, in one line
chain_fails "tinyproxy -> closed target" \
  "hop 1/1 http://127.0.0.1:$TP: could not reach the target 127.0.0.1:$CLOSED: proxy refused CONNECT (HTTP status 500): HTTP/1.1 500 Unable to connect: tinyproxy was unable to connect to the remote web server." -- \
  -x "http://127.0.0.1:$TP" stdio 127.0.0.1 "$CLOSED"

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
