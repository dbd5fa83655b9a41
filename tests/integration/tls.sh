#!/usr/bin/env bash
# Proves TLS-wrapped hops (issue 7): https:// (HTTP CONNECT in TLS) and socks*+tls:// (SOCKS in
# TLS) through stunnel in front of danted and tinyproxy, with a CA and certificates this script
# makes with the openssl command line. Chains put TLS hops first, in the middle and
# consecutively (TLS inside TLS, three deep); with --pipeline=always a TLS hop's ClientHello
# rides with the previous SOCKS hop's request (never behind HTTP CONNECT or with =never); the hop's certificate is verified against
# ?cafile= or --cafile, by IPv4 or IPv6 address or by name (sni=, localhost), and each failure
# names the hop and OpenSSL's reason: expired, unknown CA, IP/host name mismatch, a plain server
# behind a TLS scheme, a TLS handshake that never answers (at hop 1 and inside hop 1's tunnel).
# insecure=1
# works against an untrusted certificate and warns on every connection. stunnel `verify = 2`
# refuses a client without ?cert=&key= (reported as a TLS failure of that hop) and accepts one
# with them. Bad TLS files are usage errors (exit 2) before anything connects. 32 MiB cross two
# TLS hops both ways (exact echo) and as a download through `forward` (sha256). The password of
# an https hop never shows in -vv logs or errors.
#
# stunnel 5.68 (Debian 12) drops bytes still in its socket buffer when the backend closes after
# our half-close (POLLHUP is taken as EOF without reading; fixed upstream with a FIONREAD
# check). Half-close through TLS is therefore checked with small payloads, and the large echo
# holds stdin open until the whole echo is back (stdio_driver.py).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
# shellcheck source=SCRIPTDIR/../support/lab_tls.sh
source "$HC_SUPPORT/lab_tls.sh"
lab_init
require_hopchain
lab_require curl stunnel4 openssl

U=$LAB_USER
P=$LAB_PASS

# --- PKI -------------------------------------------------------------------------------------
tls_init_pki
LOOP_SAN="DNS:proxy.test,DNS:localhost,IP:127.0.0.1,IP:::1"
tls_issue proxy "$LOOP_SAN"
tls_issue expired "$LOOP_SAN" 20200101000000Z 20200102000000Z
tls_issue untrusted "$LOOP_SAN" 20000101000000Z 21000101000000Z rogue
tls_issue elsewhere "DNS:elsewhere.test"
tls_issue client "DNS:client.test"
tls_issue rogue-client "DNS:client.test" 20000101000000Z 21000101000000Z rogue
CA=$TLS_CA

# --- servers ---------------------------------------------------------------------------------
E=$(free_port)
start_echo "$E" 127.0.0.1
start_echo "$E" ::1   # "localhost" targets work whichever family is tried first
Q=$(free_port); start_silent_server "$Q"
mkdir -p "$LAB/www"
BIG=$LAB/www/big.bin
make_payload "$BIG" $((32 * 1024 * 1024))
H=$(free_port); start_http_server "$H" "$LAB/www"

DA=$(free_port); start_danted dante-a "$DA"
DB=$(free_port); start_danted dante-b "$DB"
DC=$(free_port); start_danted dante-c "$DC"
TP=$(free_port); start_tinyproxy "$TP"
TA=$(free_port); start_tinyproxy "$TA" "$U" "$P"

SA=$(free_port); start_stunnel tls-dante-a "$SA" "$DA" proxy
SB=$(free_port); start_stunnel tls-dante-b "$SB" "$DB" proxy
SH=$(free_port); start_stunnel tls-tinyproxy "$SH" "$TP" proxy
SHA=$(free_port); start_stunnel tls-tinyproxy-auth "$SHA" "$TA" proxy
SX=$(free_port); start_stunnel tls-expired "$SX" "$DC" expired
SU=$(free_port); start_stunnel tls-untrusted "$SU" "$DC" untrusted
SW=$(free_port); start_stunnel tls-elsewhere "$SW" "$DC" elsewhere
SM=$(free_port); start_stunnel tls-mtls "$SM" "$DC" proxy "$CA"
S6=$(free_port); TLS_STUNNEL_BIND=::1 start_stunnel tls-v6 "$S6" "$DB" proxy
note "lab up: danted $DA $DB $DC, tinyproxy $TP auth:$TA, stunnel -> a:$SA b:$SB" \
  "tinyproxy:$SH tinyproxy-auth:$SHA expired:$SX untrusted:$SU elsewhere:$SW mtls:$SM [::1]:$S6"

K64=$LAB/p64k
make_payload "$K64" 65536
ONE=$LAB/one
printf 'x' >"$ONE"

# --- TLS hop first ---------------------------------------------------------------------------
stdio_echo_check "socks5h+tls first (only) hop, ?cafile=, half-close" "$K64" 127.0.0.1 "$E" \
  -x "socks5h+tls://127.0.0.1:$SA?cafile=$CA"
stdio_echo_check "socks5+tls (hopchain resolves), --cafile" "$K64" localhost "$E" --cafile "$CA" \
  -x "socks5+tls://127.0.0.1:$SA"
stdio_echo_check "socks4+tls" "$K64" 127.0.0.1 "$E" --cafile "$CA" \
  -x "socks4+tls://127.0.0.1:$SA"
stdio_echo_check "1-byte payload, TLS first then plain" "$ONE" 127.0.0.1 "$E" --cafile "$CA" \
  -x "socks5h+tls://127.0.0.1:$SA" -x "socks5h://127.0.0.1:$DB"
driver_echo_check "https first (only) hop" 65536 127.0.0.1 "$E" --cafile "$CA" \
  -x "https://127.0.0.1:$SH"
driver_echo_check "https hop verified by name (localhost)" 65536 localhost "$E" --cafile "$CA" \
  -x "https://localhost:$SH"
stdio_echo_check "sni= names the certificate for an IP hop" "$K64" 127.0.0.1 "$E" \
  -x "socks5h+tls://127.0.0.1:$SA?cafile=$CA&sni=proxy.test"
stdio_echo_check "IPv6 literal hop, certificate checked for IP ::1" "$K64" 127.0.0.1 "$E" \
  --cafile "$CA" -x "socks5h+tls://[::1]:$S6"

# --- TLS hop in the middle -------------------------------------------------------------------
stdio_echo_check "plain -> TLS -> plain" "$K64" 127.0.0.1 "$E" --cafile "$CA" \
  -x "socks5h://127.0.0.1:$DC" -x "socks5h+tls://127.0.0.1:$SA" -x "socks5://127.0.0.1:$DB"
driver_echo_check "plain -> https -> target by name" 65536 localhost "$E" \
  --cafile "$CA" -x "socks5h://127.0.0.1:$DC" -x "https://127.0.0.1:$SH"

# --- a TLS hop's ClientHello rides with the previous hop's pipelined request ------------------
# tls_v_run DESC ARGS...: a -v stdio run with a full handshake; its stderr in $LAB/v.err
tls_v_run() {
  local desc=$1
  shift
  HOPCHAIN_NO_TLS_CACHE=1 timeout -k 5 "$LAB_CMD_TIMEOUT" "$HOPCHAIN" -v --cafile "$CA" "$@" \
    stdio 127.0.0.1 "$E" <"$ONE" >"$LAB/v.out" 2>"$LAB/v.err" ||
    { cat "$LAB/v.err" >&2; fail "$desc: -v run failed"; }
  cmp -s "$ONE" "$LAB/v.out" || fail "$desc: wrong echo"
}
EARLY=(-x "socks5h://127.0.0.1:$DC" -x "socks5h+tls://127.0.0.1:$SA" -x "socks5://127.0.0.1:$DB")
stdio_echo_check "plain -> TLS -> plain, --pipeline=always" "$K64" 127.0.0.1 "$E" --cafile "$CA" \
  --pipeline=always "${EARLY[@]}"
tls_v_run "hello with hop 1's request" --pipeline=always "${EARLY[@]}"
grep -qF "hop 2/3 socks5h+tls://127.0.0.1:$SA: TLSv1.3" "$LAB/v.err" &&
  grep -qF "(ClientHello sent with hop 1's request)" "$LAB/v.err" ||
  { cat "$LAB/v.err" >&2; fail "--pipeline=always: hop 2's ClientHello did not ride with hop 1's request"; }
tls_v_run "TLS in TLS, hello inside hop 1's TLS" --pipeline=always \
  -x "socks5h+tls://127.0.0.1:$SA" -x "socks5h+tls://127.0.0.1:$SB"
grep -qE "hop 2/2 .*\(ClientHello sent with hop 1's request\)" "$LAB/v.err" ||
  { cat "$LAB/v.err" >&2; fail "TLS in TLS: hop 2's ClientHello did not ride with hop 1's request"; }
tls_v_run "--pipeline=never" --pipeline=never "${EARLY[@]}"
! grep -qF "ClientHello sent with" "$LAB/v.err" || fail "--pipeline=never sent a ClientHello early"
tls_v_run "behind HTTP CONNECT" --pipeline=always -x "https://127.0.0.1:$SH" \
  -x "socks5h+tls://127.0.0.1:$SB"
! grep -qF "ClientHello sent with" "$LAB/v.err" || fail "a ClientHello rode behind HTTP CONNECT"
# The hello's hop is no TLS server, or is not there: each named, at its hop, in bounded time.
expect_fail_with "hop 2/2 socks5h+tls://127.0.0.1:$DB: TLS:" "$HOPCHAIN" --pipeline=always \
  --connect-timeout 3 --cafile "$CA" -x "socks5h://127.0.0.1:$DC" -x "socks5h+tls://127.0.0.1:$DB" \
  stdio 127.0.0.1 "$E"
assert_rc 1
NOBODY=$(free_port)
expect_fail_with "hop 1/2 socks5h://127.0.0.1:$DC: could not reach hop 2" "$HOPCHAIN" \
  --pipeline=always --connect-timeout 3 --cafile "$CA" -x "socks5h://127.0.0.1:$DC" \
  -x "socks5h+tls://127.0.0.1:$NOBODY" stdio 127.0.0.1 "$E"
assert_rc 1
note "ok: with pipelining a TLS hop's ClientHello rides with the previous SOCKS hop's request"

# --- consecutive TLS hops: TLS inside TLS ----------------------------------------------------
stdio_echo_check "TLS in TLS: socks5h+tls -> socks5h+tls" "$K64" 127.0.0.1 "$E" --cafile "$CA" \
  -x "socks5h+tls://127.0.0.1:$SA" -x "socks5h+tls://127.0.0.1:$SB"
driver_echo_check "TLS in TLS: socks5h+tls -> https" 65536 127.0.0.1 "$E" --cafile "$CA" \
  -x "socks5h+tls://127.0.0.1:$SA" -x "https://127.0.0.1:$SH"
driver_echo_check "TLS in TLS in TLS: socks5+tls -> socks5h+tls -> https" 65536 127.0.0.1 "$E" \
  -x "socks5+tls://127.0.0.1:$SA?cafile=$CA" -x "socks5h+tls://127.0.0.1:$SB?cafile=$CA" \
  -x "https://127.0.0.1:$SH?cafile=$CA&sni=proxy.test"

# -v shows each layer being set up, hop by hop (a full handshake: no session from earlier runs)
HOPCHAIN_NO_TLS_CACHE=1 timeout -k 5 "$LAB_CMD_TIMEOUT" "$HOPCHAIN" -v --cafile "$CA" -x "socks5h+tls://127.0.0.1:$SA" \
  -x "socks5h+tls://127.0.0.1:$SB" stdio 127.0.0.1 "$E" <"$ONE" >/dev/null 2>"$LAB/v.err" ||
  { cat "$LAB/v.err" >&2; fail "-v run through two TLS hops failed"; }
for want in "hop 1/2 socks5h+tls://127.0.0.1:$SA: TLSv1." "hop 2/2 socks5h+tls://127.0.0.1:$SB: TLSv1." \
  "verified in"; do
  grep -qF -- "$want" "$LAB/v.err" || { cat "$LAB/v.err" >&2; fail "-v output lacks '$want'"; }
done
note "ok: -v names each TLS layer with its version"

# --- certificate failures: hop, stage and OpenSSL's reason -----------------------------------
expect_fail_with "hop 1/1 socks5h+tls://127.0.0.1:$SX: TLS: certificate verify failed: certificate has expired" \
  "$HOPCHAIN" --cafile "$CA" -x "socks5h+tls://127.0.0.1:$SX" stdio 127.0.0.1 "$E"
assert_rc 1
note "ok: expired certificate (${LAB_LAST_SECS}s)"

expect_fail_with "hop 2/2 socks5h+tls://127.0.0.1:$SX: TLS: certificate verify failed: certificate has expired" \
  "$HOPCHAIN" --cafile "$CA" -x "socks5h+tls://127.0.0.1:$SA" -x "socks5h+tls://127.0.0.1:$SX" \
  stdio 127.0.0.1 "$E"
assert_rc 1
note "ok: expired certificate of hop 2, inside hop 1's TLS"

expect_fail_with "hop 1/1 socks5h+tls://127.0.0.1:$SU: TLS: certificate verify failed: unable to get local issuer certificate" \
  "$HOPCHAIN" --cafile "$CA" -x "socks5h+tls://127.0.0.1:$SU" stdio 127.0.0.1 "$E"
assert_rc 1
note "ok: unknown CA"

expect_fail_with "hop 1/1 https://127.0.0.1:$SH: TLS: certificate verify failed: unable to get local issuer certificate" \
  "$HOPCHAIN" -x "https://127.0.0.1:$SH" stdio 127.0.0.1 "$E"
assert_rc 1
note "ok: the system store does not trust the lab CA (verification is on by default)"

expect_fail_with "hop 3/3 socks5h+tls://127.0.0.1:$SW: TLS: certificate verify failed: IP address mismatch" \
  "$HOPCHAIN" --cafile "$CA" -x "socks5h://127.0.0.1:$DA" -x "socks5h+tls://127.0.0.1:$SB" \
  -x "socks5h+tls://127.0.0.1:$SW" stdio 127.0.0.1 "$E"
assert_rc 1
note "ok: wrong address (certificate for elsewhere.test, hop 3 of 3)"

expect_fail_with "hop 1/1 socks5h+tls://127.0.0.1:$SA: TLS: certificate verify failed: hostname mismatch" \
  "$HOPCHAIN" -x "socks5h+tls://127.0.0.1:$SA?cafile=$CA&sni=wrong.test" stdio 127.0.0.1 "$E"
assert_rc 1
note "ok: wrong host name (sni=wrong.test)"

expect_fail_with "hop 1/1 socks5h+tls://[::1]:$S6: TLS: certificate verify failed: hostname mismatch" \
  "$HOPCHAIN" --cafile "$CA" -x "socks5h+tls://[::1]:$S6?sni=elsewhere.test" stdio 127.0.0.1 "$E"
assert_rc 1
expect_fail_with "hop 1/1 https://localhost:$SW: TLS: certificate verify failed: hostname mismatch" \
  "$HOPCHAIN" --cafile "$CA" -x "https://localhost:$SW" stdio 127.0.0.1 "$E"
assert_rc 1
note "ok: wrong host name (localhost vs elsewhere.test)"

# A ?cafile= on the hop wins over --cafile.
expect_fail_with "unable to get local issuer certificate" \
  "$HOPCHAIN" --cafile "$CA" -x "socks5h+tls://127.0.0.1:$SA?cafile=$TLS_ROGUE_CA" stdio 127.0.0.1 "$E"
note "ok: ?cafile= takes precedence over --cafile"

# A TLS scheme in front of a plain SOCKS server fails in the TLS stage of that hop.
expect_fail_with "hop 1/1 socks5h+tls://127.0.0.1:$DA: TLS: " \
  "$HOPCHAIN" --cafile "$CA" -x "socks5h+tls://127.0.0.1:$DA" stdio 127.0.0.1 "$E"
assert_rc 1
assert_stderr_has "not a TLS server?"
note "ok: plain server behind a TLS scheme: $(head -c 160 "$LAB_LAST_ERR")"

# --- insecure=1 ------------------------------------------------------------------------------
stdio_echo_check "insecure=1 accepts an untrusted certificate" "$K64" 127.0.0.1 "$E" \
  -x "socks5h+tls://127.0.0.1:$SU?insecure=1"
timeout -k 5 "$LAB_CMD_TIMEOUT" "$HOPCHAIN" -x "socks5h+tls://127.0.0.1:$SU?insecure=1" \
  -x "https://127.0.0.1:$SH?insecure=1" stdio 127.0.0.1 "$E" </dev/null >/dev/null 2>"$LAB/insecure.err" ||
  { cat "$LAB/insecure.err" >&2; fail "insecure chain failed"; }
for h in "hop 1/2 socks5h+tls://127.0.0.1:$SU" "hop 2/2 https://127.0.0.1:$SH"; do
  grep -qF "warning: $h: TLS certificate and host name NOT verified (insecure=1)" "$LAB/insecure.err" ||
    { cat "$LAB/insecure.err" >&2; fail "no insecure=1 warning for $h"; }
done
note "ok: insecure=1 warns for each insecure hop"

# forward: the warning comes with every connection, not once per process
LF=$(free_port)
lab_bg hopchain-forward-insecure "$HOPCHAIN" -x "socks5h+tls://127.0.0.1:$SU?insecure=1" \
  forward "$LF:127.0.0.1:$H"
FWD_PID=$LAB_LAST_PID
wait_port "$LF" || { cat "$LAB/hopchain-forward-insecure.log" >&2; fail "forward did not listen on $LF"; }
for i in 1 2 3; do
  timeout -k 5 30 curl -fsS -o /dev/null "http://127.0.0.1:$LF/" || fail "curl #$i through insecure forward failed"
done
lab_kill "$FWD_PID"
n=$(grep -c "warning: hop 1/1 socks5h+tls://127.0.0.1:$SU: TLS certificate and host name NOT verified" \
  "$LAB/hopchain-forward-insecure.log" || true)
[[ $n == 3 ]] || { cat "$LAB/hopchain-forward-insecure.log" >&2; fail "expected 3 insecure warnings, got $n"; }
note "ok: insecure=1 warns on each of 3 forwarded connections"

# --- client certificates (stunnel verify = 2) ------------------------------------------------
expect_fail_with "hop 1/1 socks5h+tls://127.0.0.1:$SM: TLS:" \
  "$HOPCHAIN" --cafile "$CA" -x "socks5h+tls://127.0.0.1:$SM" stdio 127.0.0.1 "$E"
assert_rc 1
assert_stderr_has "certificate required"
note "ok: no client certificate: $(head -c 160 "$LAB_LAST_ERR")"

expect_fail_with "hop 2/2 socks5h+tls://127.0.0.1:$SM: TLS:" \
  "$HOPCHAIN" --cafile "$CA" -x "https://127.0.0.1:$SH" \
  -x "socks5h+tls://127.0.0.1:$SM?cert=$TLS_PKI/rogue-client.pem&key=$TLS_PKI/rogue-client.key" \
  stdio 127.0.0.1 "$E"
assert_rc 1
note "ok: client certificate from an unknown CA refused (hop 2 of 2)"

stdio_echo_check "client certificate accepted (verify = 2)" "$K64" 127.0.0.1 "$E" --cafile "$CA" \
  -x "socks5h+tls://127.0.0.1:$SM?cert=$TLS_PKI/client.pem&key=$TLS_PKI/client.key"
driver_echo_check "client certificate on hop 2, inside https" 65536 127.0.0.1 "$E" --cafile "$CA" \
  -x "https://127.0.0.1:$SH" \
  -x "socks5h+tls://127.0.0.1:$SM?cert=$TLS_PKI/client.pem&key=$TLS_PKI/client.key"

# --- TLS files are usage errors, found before connecting -------------------------------------
expect_fail_with "hop 2/2 socks5h+tls://127.0.0.1:$SB: cannot read CA file $LAB/nonexistent.pem: No such file or directory" \
  "$HOPCHAIN" -x "socks5h+tls://127.0.0.1:$SA?cafile=$CA" \
  -x "socks5h+tls://127.0.0.1:$SB?cafile=$LAB/nonexistent.pem" stdio 127.0.0.1 "$E"
assert_rc 2
expect_fail_with "hop 1/1 https://127.0.0.1:$SH: cannot read CA file $LAB/nonexistent.pem" \
  "$HOPCHAIN" --cafile "$LAB/nonexistent.pem" -x "https://127.0.0.1:$SH" stdio 127.0.0.1 "$E"
assert_rc 2
expect_fail_with "cannot read client key $LAB/nonexistent.key: No such file or directory" \
  "$HOPCHAIN" --cafile "$CA" \
  -x "socks5h+tls://127.0.0.1:$SM?cert=$TLS_PKI/client.pem&key=$LAB/nonexistent.key" stdio 127.0.0.1 "$E"
assert_rc 2
expect_fail_with "cannot load client key $TLS_PKI/proxy.key: key values mismatch" \
  "$HOPCHAIN" --cafile "$CA" \
  -x "socks5h+tls://127.0.0.1:$SM?cert=$TLS_PKI/client.pem&key=$TLS_PKI/proxy.key" stdio 127.0.0.1 "$E"
assert_rc 2
expect_fail_with "bad proxy URL: cert= and key= must be given together" \
  "$HOPCHAIN" -x "https://127.0.0.1:$SH?cert=$TLS_PKI/client.pem" stdio 127.0.0.1 "$E"
assert_rc 2
expect_fail_with "bad proxy URL: cafile, sni, cert, key, insecure and early-data are TLS settings" \
  "$HOPCHAIN" -x "socks5h://127.0.0.1:$DA?cafile=$CA" stdio 127.0.0.1 "$E"
assert_rc 2
note "ok: missing CA file, missing key, mismatched key and bad parameters are usage errors (exit 2)"

# --- deadlines reach TLS handshakes at any depth ---------------------------------------------
expect_fail_with "hop 1/1 https://127.0.0.1:$Q: TLS: timed out: no answer within 1 s" \
  "$HOPCHAIN" --connect-timeout 1 --cafile "$CA" -x "https://127.0.0.1:$Q" stdio 127.0.0.1 "$E"
assert_rc 1
awk -v s="$LAB_LAST_SECS" 'BEGIN { exit !(s < 5) }' || fail "TLS timeout took ${LAB_LAST_SECS}s"
note "ok: silent TLS server times out at hop 1 (${LAB_LAST_SECS}s)"

expect_fail_with "hop 2/2 socks5h+tls://127.0.0.1:$Q: TLS: timed out: no answer within 1 s" \
  "$HOPCHAIN" --connect-timeout 1 --cafile "$CA" -x "https://127.0.0.1:$SH" \
  -x "socks5h+tls://127.0.0.1:$Q" stdio 127.0.0.1 "$E"
assert_rc 1
awk -v s="$LAB_LAST_SECS" 'BEGIN { exit !(s < 5) }' || fail "nested TLS timeout took ${LAB_LAST_SECS}s"
note "ok: silent TLS server inside hop 1's TLS times out at hop 2 (${LAB_LAST_SECS}s)"

# --- passwords stay out of logs and errors ---------------------------------------------------
DRIVER_ERR=$LAB/auth.err
timeout -k 5 "$((LAB_CMD_TIMEOUT + 10))" python3 "$HC_SUPPORT/stdio_driver.py" --size 65536 \
  --timeout "$LAB_CMD_TIMEOUT" --stderr-file "$DRIVER_ERR" -- "$HOPCHAIN" -vv --cafile "$CA" \
  -x "https://$U:$P@127.0.0.1:$SHA" stdio 127.0.0.1 "$E" >"$LAB/driver.out" 2>&1 ||
  { cat "$LAB/driver.out" >&2; fail "https hop with Basic auth failed"; }
grep -qF "https://$U@127.0.0.1:$SHA" "$DRIVER_ERR" || { cat "$DRIVER_ERR" >&2; fail "-vv lacks the hop"; }
! grep -qF "$P" "$DRIVER_ERR" || fail "the password appears in -vv output"
expect_fail_with "hop 1/1 https://$U@127.0.0.1:$SHA: could not reach the target 127.0.0.1:$E: proxy refused CONNECT (HTTP status 401)" \
  "$HOPCHAIN" -vv --cafile "$CA" -x "https://$U:wrong-$P@127.0.0.1:$SHA" stdio 127.0.0.1 "$E"
assert_stderr_lacks "wrong-$P"
note "ok: https + Basic auth works, and the password is never printed"

# --- 32 MiB through two TLS hops -------------------------------------------------------------
driver_echo_check "32 MiB echo through TLS in TLS (stdin held open)" $((32 * 1024 * 1024)) \
  127.0.0.1 "$E" --cafile "$CA" -x "socks5h+tls://127.0.0.1:$SA" -x "socks5h+tls://127.0.0.1:$SB"

LD=$(free_port)
lab_bg hopchain-forward "$HOPCHAIN" --cafile "$CA" -x "https://127.0.0.1:$SH" \
  -x "socks5h+tls://127.0.0.1:$SB" forward "$LD:127.0.0.1:$H"
FWD_PID=$LAB_LAST_PID
wait_port "$LD" || { cat "$LAB/hopchain-forward.log" >&2; fail "forward did not listen on $LD"; }
t0=$(date +%s.%N)
timeout -k 5 "$LAB_CMD_TIMEOUT" curl -fsS -o "$LAB/big.out" "http://127.0.0.1:$LD/big.bin" ||
  { cat "$LAB/hopchain-forward.log" >&2; fail "32 MiB download through two TLS hops failed"; }
secs=$(_lab_secs_since "$t0")
lab_kill "$FWD_PID"
[[ $(sha256_of "$LAB/big.out") == "$(sha256_of "$BIG")" ]] ||
  fail "32 MiB download: sha256 mismatch ($(stat -c %s "$LAB/big.out") bytes received)"
note "ok: 32 MiB download through https -> socks5h+tls via forward, sha256 equal (${secs}s)"
