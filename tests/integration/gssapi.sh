#!/usr/bin/env bash
# SOCKS5 GSS-API (RFC 1961) end to end with a real Kerberos realm on loopback (kdc.sh: a KDC,
# the service keytab for rcmd/localhost, a user ticket from kinit): curl --socks5-gssapi (an
# independent client) through `hopchain socks --gssapi-keytab` at protection none (all curl
# implements); hopchain's client through hopchain's server at each protection level as the only
# hop, as the middle and last hops behind danted (username): danted -> hopchain-gss ->
# hopchain-gss, and inside a TLS hop (stunnel), echoed and byte-checked; the level and principal
# in the -v log, no token; failures named: no ticket ("run kinit"), an expired ticket, an unknown
# service principal, a server that selects less than `require`, a client without GSS-API refused
# by a GSS-API-only server. Transfers are 64 MiB each way (GSS_TEST_BYTES to change it).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
# shellcheck source=SCRIPTDIR/../support/lab_socks.sh
source "$HC_SUPPORT/lab_socks.sh"
# shellcheck source=SCRIPTDIR/../support/lab_tls.sh
source "$HC_SUPPORT/lab_tls.sh"
# shellcheck source=SCRIPTDIR/../support/kdc.sh
source "$HC_SUPPORT/kdc.sh"
lab_init
require_hopchain
lab_require curl
kdc_init
tls_init_pki
tls_issue proxy "DNS:localhost,IP:127.0.0.1"
LAB_CMD_TIMEOUT=30
SIZE=${GSS_TEST_BYTES:-67108864}
PRINCIPAL="rcmd/localhost"

# --- the lab -------------------------------------------------------------------------------------
mkdir -p "$LAB/www"
echo "hopchain gssapi test page $$-$RANDOM" >"$LAB/www/index.html"
PAGE=$LAB/www/index.html
H=$(free_port)
start_http_server "$H" "$LAB/www" 127.0.0.1
E=$(free_port)
start_echo "$E" 127.0.0.1
DA=$(free_port)
start_danted dante-auth "$DA" auth
declare -A GSS
for level in none integrity confidentiality; do
  GSS[$level]=$(free_port)
  start_hopchain_socks "gss-$level" 127.0.0.1 "${GSS[$level]}" --direct -v socks \
    --gssapi-keytab "$KDC_SERVICE_KEYTAB" --gssapi-max-protection "$level" "${GSS[$level]}"
done
note "lab up: kdc $KDC_PORT, http $H, echo $E, danted $DA," \
  "hopchain-gss none ${GSS[none]} integrity ${GSS[integrity]} confidentiality ${GSS[confidentiality]}"

gss_url() { # LEVEL [QUERY]
  echo "socks5h://localhost:${GSS[$1]}?auth=gssapi${2:+&$2}"
}

# --- curl, the independent RFC 1961 client -------------------------------------------------------
# curl 7.88 (Debian 12) has two bugs here: allow_gssapi is set only in the state that sends its
# greeting, so when the method reply is not there in that same call it reports "per-message
# authentication is not supported" without trying; and when it does negotiate, it then fails
# with "Undocumented SOCKS5 mode" instead of sending its request. Both are fixed in later curl.
# With such a curl this step proves what it can: the context and level negotiation with an
# independent client, from the server's log. (Debian's hpsockd, the other candidate peer, has no
# GSS-API method: none, userPass and v4 are built in, and it links no Kerberos library.)
CURL_GSS=(curl -sS --max-time 20 --socks5-gssapi --socks5-gssapi-service rcmd
  -x "socks5h://localhost:${GSS[none]}" "http://127.0.0.1:$H/index.html")
authenticated="GSS-API: authenticated $KDC_USER@$KDC_REALM, protection none"
for ((try = 1; try <= 5; try++)); do
  rc=0
  timeout -k 5 30 "${CURL_GSS[@]}" >"$LAB/curl.out" 2>"$LAB/curl.err" || rc=$?
  if ((rc == 0)); then
    cmp -s "$PAGE" "$LAB/curl.out" || fail "curl --socks5-gssapi: wrong page"
    wait_log "$LAB/gss-none.log" "SOCKS5 CONNECT 127.0.0.1:$H as '$KDC_USER@$KDC_REALM'"
    note "ok: curl --socks5-gssapi through hopchain socks (protection none)"
    break
  elif grep -qF "Undocumented SOCKS5 mode" "$LAB/curl.err" &&
    grep -qF "$authenticated" "$LAB/gss-none.log"; then
    note "ok (curl bug): curl negotiated GSS-API, then never sent its request"
    break
  elif ! grep -qF "per-message authentication is not supported" "$LAB/curl.err"; then
    cat "$LAB/curl.err" >&2
    fail "curl --socks5-gssapi through hopchain socks failed (exit $rc)"
  fi
done
((try <= 5)) || note "SKIPPED: this curl never started its GSS-API exchange in 5 tries (its bug)"

# --- hopchain -> hopchain, each level ------------------------------------------------------------
# client_log ARGS...: hopchain -v ARGS... stdio to the echo server with no input; its stderr in
# $LAB/client.err (the level and principal it logged).
client_log() {
  timeout -k 5 "$LAB_CMD_TIMEOUT" "$HOPCHAIN" -v "$@" stdio 127.0.0.1 "$E" </dev/null \
    >/dev/null 2>"$LAB/client.err" || { cat "$LAB/client.err" >&2; fail "hopchain $* failed"; }
}
for level in none integrity confidentiality; do
  driver_echo_check "1 GSS-API hop, server max $level" "$SIZE" 127.0.0.1 "$E" -x "$(gss_url "$level")"
  client_log -x "$(gss_url "$level")"
  grep -qF "GSS-API authenticated to $PRINCIPAL, protection $level" "$LAB/client.err" ||
    fail "1 hop $level: no 'protection $level' in the client's log: $(cat "$LAB/client.err")"
  wait_log "$LAB/gss-$level.log" "authenticated $KDC_USER@$KDC_REALM, protection $level"
done
driver_echo_check "GSS-API integrity asked for, confidentiality server" "$SIZE" 127.0.0.1 "$E" \
  -x "$(gss_url confidentiality "protection=integrity&require=integrity")"
wait_log "$LAB/gss-confidentiality.log" "authenticated $KDC_USER@$KDC_REALM, protection integrity"

# danted (username) -> hopchain-gss (integrity) -> hopchain-gss (confidentiality): GSS-API as the
# middle hop (its layer carries the last hop's whole negotiation) and as the last.
THREE=(-x "socks5h://$LAB_USER:$LAB_PASS@127.0.0.1:$DA" -x "$(gss_url integrity)"
  -x "$(gss_url confidentiality "require=confidentiality")")
driver_echo_check "danted -> gss integrity -> gss confidentiality" "$SIZE" 127.0.0.1 "$E" "${THREE[@]}"
client_log "${THREE[@]}"
for want in "hop 2/3 .*protection integrity" "hop 3/3 .*protection confidentiality"; do
  grep -qE "$want" "$LAB/client.err" || fail "3 hops: no '$want' in: $(cat "$LAB/client.err")"
done
# GSS-API inside TLS (stunnel in front of the confidentiality server), then a plain GSS-API hop
# through that: the protection layers stack on TLS and on each other.
TS=$(free_port)
start_stunnel tls-gss "$TS" "${GSS[confidentiality]}" proxy
TLS_GSS=(-x "socks5h+tls://localhost:$TS?cafile=$TLS_CA&auth=gssapi&require=confidentiality"
  -x "$(gss_url integrity require=integrity)")
driver_echo_check "gss inside TLS -> gss integrity" "$SIZE" 127.0.0.1 "$E" "${TLS_GSS[@]}"
client_log "${TLS_GSS[@]}"
grep -qE "hop 1/2 .*TLS.*verified" "$LAB/client.err" || fail "TLS+GSS: $(cat "$LAB/client.err")"
grep -qE "hop 1/2 .*protection confidentiality" "$LAB/client.err" ||
  fail "TLS+GSS: no level: $(cat "$LAB/client.err")"
if grep -qiE "token|$LAB_PASS" "$LAB/client.err" "$LAB"/gss-*.log; then
  fail "a token or the password was logged"
fi

# check shows the level each GSS-API hop negotiated.
timeout -k 5 "$LAB_CMD_TIMEOUT" "$HOPCHAIN" -x "$(gss_url integrity)" check 127.0.0.1 "$E" \
  >"$LAB/check.out" 2>&1 || { cat "$LAB/check.out" >&2; fail "check through a GSS-API hop failed"; }
grep -qF "gss:krb5/integrity" "$LAB/check.out" || fail "check: no level: $(cat "$LAB/check.out")"

# --- failures ------------------------------------------------------------------------------------
: >"$LAB/empty.ccache"
expect_fail_with "run kinit" env KRB5CCNAME="FILE:$LAB/empty.ccache" \
  "$HOPCHAIN" -x "$(gss_url integrity)" stdio 127.0.0.1 "$E"
assert_stderr_has "hop 1/1 socks5h://localhost:${GSS[integrity]}: auth:"
expect_fail_with "run kinit" env KRB5CCNAME="FILE:$LAB/none.ccache" \
  "$HOPCHAIN" -x "$(gss_url integrity)" stdio 127.0.0.1 "$E"
# An expired ticket: a 3-second one, waited out. Kerberos accepts a ticket up to its clock skew
# allowance (5 minutes by default) past its end, so this client's krb5.conf allows 1 second.
SHORT_CC=FILE:$LAB/short.ccache
KRB5CCNAME=$SHORT_CC timeout 10 kinit -l 3s -k -t "$KDC_USER_KEYTAB" "$KDC_USER" \
  >>"$LAB/kdc/kinit.log" 2>&1 || fail "kinit -l 3s failed"
sed 's/^\[libdefaults\]$/&\n  clockskew = 1/' "$KRB5_CONFIG" >"$LAB/kdc/skew1.conf"
ticket_end=$(KRB5CCNAME=$SHORT_CC klist | awk '/krbtgt/ {print $3 " " $4; exit}')
[[ -n $ticket_end ]] || fail "no ticket end in klist's output"
ticket_end=$(date -d "$ticket_end" +%s)
past_skew() { (($(date +%s) >= ticket_end + 2)); }
wait_until 30 past_skew || fail "the 3-second ticket did not end"
expect_fail_with "the Kerberos ticket has expired (run kinit)" \
  env KRB5CCNAME="$SHORT_CC" KRB5_CONFIG="$LAB/kdc/skew1.conf" \
  "$HOPCHAIN" -x "$(gss_url integrity)" stdio 127.0.0.1 "$E"
assert_stderr_has "hop 1/1 socks5h://localhost:${GSS[integrity]}: auth:"
expect_fail_with "unknown GSS-API service principal" \
  "$HOPCHAIN" -x "$(gss_url integrity service=nosuch)" stdio 127.0.0.1 "$E"
assert_stderr_has "auth:"
expect_fail_with "weaker GSS-API protection than required" \
  "$HOPCHAIN" -x "$(gss_url integrity require=confidentiality)" stdio 127.0.0.1 "$E"
assert_stderr_has "hop 1/1"
# Without GSS-API, a GSS-API-only server has no method to offer.
expect_fail_with "no acceptable authentication method" \
  "$HOPCHAIN" -x "socks5h://localhost:${GSS[integrity]}" stdio 127.0.0.1 "$E"
curl_fails "an HTTP proxy client of a GSS-API-only server" "403" -f \
  -x "http://127.0.0.1:${GSS[none]}" "http://127.0.0.1:$H/index.html"
expect_fail_with "need --gssapi-keytab" "$HOPCHAIN" --direct socks --gssapi-service rcmd 1080
assert_rc 2
note "gssapi: all checks passed"
