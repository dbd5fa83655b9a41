#!/usr/bin/env bash
# Proves `hopchain socks` with real clients: curl --socks5, --socks5-hostname, --socks4 and
# --socks4a through the local server with no hop (direct; names resolved by hopchain's c-ares
# against a lab dnsmasq, so a name the client could not resolve proves it was passed on) and
# through 2-hop chains of real servers (danted -> microsocks, microsocks -> danted) to a local
# HTTP server, 1 MiB intact; proxychains4 (proxy_dns) running curl; ssh with
# ProxyCommand='nc -X 5 -x ...' logging into the lab sshd; RFC 1929 users (curl -U right and
# wrong, no credentials, SOCKS4 refused, bad sub-negotiations, passwords never logged, a
# group-readable users file refused); the --open refusal for non-loopback binds (exit 2, nothing
# listens); a hop's REP reaching curl (0x02 by rule and 0x05 at hop 2/2, direct 0x05 and 0x04,
# SOCKS4 91); hopchain as a hop of hopchain (stdio echo with half-close; the same server twice
# is a proxy loop, refused with REP 0x02); payload pipelined
# behind the request; malformed clients refused with the right bytes; silent clients closed
# after --connect-timeout; an IPv6 listener; SIGTERM ends the server with status 0.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
# shellcheck source=SCRIPTDIR/../support/lab_socks.sh
source "$HC_SUPPORT/lab_socks.sh"
lab_init
require_hopchain
lab_require curl proxychains4 nc ssh od

hex_of() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }

# --- the lab -------------------------------------------------------------------------------------
mkdir -p "$LAB/www"
echo "hopchain socks test page $$-$RANDOM" >"$LAB/www/index.html"
make_payload "$LAB/www/big.bin" 1048576
PAGE=$LAB/www/index.html
BIG=$LAB/www/big.bin
H=$(free_port)
start_http_server "$H" "$LAB/www" 127.0.0.1
start_http_server "$H" "$LAB/www" ::1 # names like localhost work whichever family comes first
E=$(free_port)
start_echo "$E" 127.0.0.1
start_echo "$E" ::1
E_HEX=$(printf '%04x' "$E")
DNS=$(free_port)
start_dnsmasq "$DNS" web.hc.test=127.0.0.1
DA=$(free_port); start_danted dante-a "$DA"
MP=$(free_port); start_microsocks "$MP"
SSHD=$(free_port); start_sshd "$SSHD"
CLOSED=$(free_port) # nothing listens here

# Local SOCKS servers: direct (names resolved by hopchain with the lab DNS), and two 2-hop chains.
P0=$(free_port)
start_hopchain_socks hc-direct 127.0.0.1 "$P0" --direct -v --dns-server "127.0.0.1:$DNS" socks "$P0"
P2=$(free_port)
start_hopchain_socks hc-2hop 127.0.0.1 "$P2" -v -x "socks5://127.0.0.1:$DA" \
  -x "socks5h://127.0.0.1:$MP" socks "127.0.0.1:$P2"
P2B=$(free_port)
start_hopchain_socks hc-2hop-b 127.0.0.1 "$P2B" -v -x "socks5h://127.0.0.1:$MP" \
  -x "socks5h://127.0.0.1:$DA" socks "localhost:$P2B"
note "lab up: http $H, echo $E, dns $DNS, danted $DA, microsocks $MP, sshd $SSHD;" \
  "hopchain socks: direct $P0, danted->microsocks $P2, microsocks->danted $P2B"

# --- curl, every SOCKS flavour -------------------------------------------------------------------
curl_fetch "direct: curl --socks5" "$PAGE" --socks5 "127.0.0.1:$P0" "http://127.0.0.1:$H/index.html"
curl_fetch "direct: curl --socks5-hostname, a name only hopchain can resolve" "$PAGE" \
  --socks5-hostname "127.0.0.1:$P0" "http://web.hc.test:$H/index.html"
curl_fetch "direct: curl --socks4" "$PAGE" --socks4 "127.0.0.1:$P0" "http://127.0.0.1:$H/index.html"
curl_fetch "direct: curl --socks4a, a name only hopchain can resolve" "$PAGE" \
  --socks4a "127.0.0.1:$P0" "http://web.hc.test:$H/index.html"
log_has "$LAB/hc-direct.log" "SOCKS5 CONNECT web.hc.test:$H"
log_has "$LAB/hc-direct.log" "SOCKS4a CONNECT web.hc.test:$H"
dnsmasq_queried "$DNS" web.hc.test || fail "hopchain did not resolve web.hc.test with its resolver"
curl_fetch "direct: 1 MiB via -x socks5h://" "$BIG" -x "socks5h://127.0.0.1:$P0" \
  "http://web.hc.test:$H/big.bin"

for p in "$P2" "$P2B"; do
  if [[ $p == "$P2" ]]; then chain="danted->microsocks"; else chain="microsocks->danted"; fi
  curl_fetch "$chain: curl --socks5" "$PAGE" --socks5 "127.0.0.1:$p" \
    "http://127.0.0.1:$H/index.html"
  curl_fetch "$chain: curl --socks5-hostname" "$PAGE" --socks5-hostname "127.0.0.1:$p" \
    "http://localhost:$H/index.html"
  curl_fetch "$chain: curl --socks4" "$PAGE" --socks4 "127.0.0.1:$p" \
    "http://127.0.0.1:$H/index.html"
  curl_fetch "$chain: curl --socks4a" "$PAGE" --socks4a "127.0.0.1:$p" \
    "http://localhost:$H/index.html"
  curl_fetch "$chain: 1 MiB" "$BIG" -x "socks5h://127.0.0.1:$p" "http://localhost:$H/big.bin"
done
# The last hop is socks5h: the name went on to it; hopchain resolved nothing itself.
log_has "$LAB/hc-2hop.log" "SOCKS4a CONNECT localhost:$H"
log_has "$LAB/hc-2hop.log" "tunnel to localhost:$H open"
log_lacks "$LAB/hc-2hop.log" "resolved localhost"

# --- proxychains4 --------------------------------------------------------------------------------
for p in "$P0" "$P2"; do
  printf '%s\n' strict_chain quiet_mode proxy_dns 'tcp_read_time_out 15000' \
    'tcp_connect_time_out 8000' '[ProxyList]' "socks5 127.0.0.1 $p" >"$LAB/proxychains-$p.conf"
done
before=$(grep -c "SOCKS5 CONNECT" "$LAB/hc-direct.log" || true)
fetch_check "proxychains4 curl -> hopchain socks (direct), name via proxy_dns" "$PAGE" \
  proxychains4 -q -f "$LAB/proxychains-$P0.conf" curl -sS --max-time 30 \
  "http://web.hc.test:$H/index.html"
after=$(grep -c "SOCKS5 CONNECT" "$LAB/hc-direct.log" || true)
((after > before)) || fail "proxychains4 did not go through the hopchain SOCKS server"
fetch_check "proxychains4 curl -> hopchain socks -> danted -> microsocks" "$BIG" \
  proxychains4 -q -f "$LAB/proxychains-$P2.conf" curl -sS --max-time 30 \
  "http://127.0.0.1:$H/big.bin"
log_has "$LAB/hc-2hop.log" "SOCKS5 CONNECT 127.0.0.1:$H"

# --- ssh through nc -X 5 -------------------------------------------------------------------------
run_ssh() { # DESC HOST PROXYCOMMAND
  local desc=$1 host=$2 pc=$3 rc=0 t0
  t0=$(date +%s.%N)
  timeout -k 5 60 ssh -F "$LAB_SSH_CONFIG" -o "ProxyCommand=$pc" -p "$SSHD" \
    "$LAB_SSH_USER@$host" echo hello-through-socks </dev/null >"$LAB/ssh.out" 2>"$LAB/ssh.err" ||
    rc=$?
  if ((rc != 0)) || [[ $(cat "$LAB/ssh.out") != hello-through-socks ]]; then
    cat "$LAB/ssh.err" >&2
    fail "$desc: ssh exited $rc, output: $(head -c 200 "$LAB/ssh.out")"
  fi
  note "ok: $desc ($(_lab_secs_since "$t0")s)"
}
run_ssh "ssh, nc -X 5 -> hopchain socks -> danted -> microsocks" 127.0.0.1 \
  "nc -X 5 -x 127.0.0.1:$P2 %h %p"
run_ssh "ssh, nc -X 5 -> hopchain socks (direct), host by name" web.hc.test \
  "nc -X 5 -x 127.0.0.1:$P0 %h %p"
log_has "$LAB/hc-direct.log" "SOCKS5 CONNECT web.hc.test:$SSHD"
grep -q "Accepted publickey" "$LAB/sshd-$SSHD.log" || fail "sshd never logged a login"

# --- RFC 1929 users ------------------------------------------------------------------------------
BAD_PW=Wr0ngPa55-4417 # distinctive, so a leak is found by grep
printf '# test accounts\n%s:%s\nother:pw-other\n' "$LAB_USER" "$LAB_PASS" >"$LAB/users"
chmod 600 "$LAB/users"
PU=$(free_port)
start_hopchain_socks hc-users 127.0.0.1 "$PU" --direct -vv socks --users "$LAB/users" "$PU"
curl_fetch "users: curl --socks5 -U, right password" "$PAGE" --socks5 "127.0.0.1:$PU" \
  -U "$LAB_USER:$LAB_PASS" "http://127.0.0.1:$H/index.html"
curl_fetch "users: curl -x socks5h://user:pass@" "$PAGE" \
  -x "socks5h://other:pw-other@127.0.0.1:$PU" "http://localhost:$H/index.html"
curl_fails "users: wrong password" "rejected" --socks5 "127.0.0.1:$PU" -U "$LAB_USER:$BAD_PW" \
  "http://127.0.0.1:$H/index.html"
log_has "$LAB/hc-users.log" "auth: user '$LAB_USER': authentication failed (unknown user or wrong password)"
curl_fails "users: no credentials" "No authentication method was acceptable" \
  --socks5 "127.0.0.1:$PU" "http://127.0.0.1:$H/index.html"
curl_fails "users: SOCKS4 refused (SOCKS4 has no password)" "(91)" \
  --socks4 "127.0.0.1:$PU" "http://127.0.0.1:$H/index.html"
log_has "$LAB/hc-users.log" "SOCKS4 client refused"
for secret in "$BAD_PW" "$LAB_PASS" pw-other; do
  log_lacks "$LAB/hc-users.log" "$secret"
done
auth_hex=$(printf '01%02x%s%02x%s' "${#LAB_USER}" "$(hex_of "$LAB_USER")" "${#LAB_PASS}" \
  "$(hex_of "$LAB_PASS")")
socks_pipelined_echo "users: greeting + RFC 1929 + request + payload in one write" \
  127.0.0.1 "$PU" "050102${auth_hex}050100017f000001$E_HEX" 14
# Bad sub-negotiations get the RFC 1929 failure status, then the close.
socks_raw 127.0.0.1 "$PU" "050102 0505$(hex_of alice)05$(hex_of pass1)" "0502 0101" >/dev/null
socks_raw 127.0.0.1 "$PU" "050102 0100 05$(hex_of pass1)" "0502 0101" >/dev/null
socks_raw 127.0.0.1 "$PU" "050100 050100017f0000010050" "05ff" >/dev/null
note "ok: users: sub-negotiation VER 5, ULEN 0, method not offered -> refused with the right bytes"

cp "$LAB/users" "$LAB/users-open"
chmod 644 "$LAB/users-open"
expect_fail_with "too open" "$HOPCHAIN" --direct socks --users "$LAB/users-open" "$(free_port)"
assert_rc 2
assert_stderr_has "chmod 600"
assert_stderr_lacks "$LAB_PASS"
note "ok: group/other-readable users file refused (exit 2): $(head -c 150 "$LAB_LAST_ERR")"

# --- the --open refusal (nothing ever listens beyond loopback) -----------------------------------
for bind in '*' 0.0.0.0 '[::]'; do
  PX=$(free_port)
  expect_fail_with "open proxy" "$HOPCHAIN" --direct socks "$bind:$PX"
  assert_rc 2
  assert_stderr_has "--open"
  [[ -z $(ss -Hltn "sport = :$PX") ]] || fail "something listens on $PX after the refusal"
  note "ok: socks $bind:$PX without --users refused in ${LAB_LAST_SECS}s (exit 2)"
done

# --- failures reach the client with the hop's reply code -----------------------------------------
curl_fails "2 hops, hop 2 (danted) refuses by rule -> REP 0x02" "(2)" \
  --socks5 "127.0.0.1:$P2B" "http://$LAB_BLOCKED_IP:$H/"
log_has "$LAB/hc-2hop-b.log" "hop 2/2 socks5h://127.0.0.1:$DA: could not reach the target $LAB_BLOCKED_IP:$H: connection not allowed by ruleset (SOCKS5 reply 0x02); answered REP 0x02"
curl_fails "2 hops, hop 2 (microsocks) cannot connect -> REP 0x05" "(5)" \
  --socks5-hostname "127.0.0.1:$P2" "http://127.0.0.1:$CLOSED/"
log_has "$LAB/hc-2hop.log" "hop 2/2 socks5h://127.0.0.1:$MP: could not reach the target 127.0.0.1:$CLOSED: connection refused (SOCKS5 reply 0x05)"
curl_fails "direct, connection refused -> REP 0x05" "(5)" \
  --socks5 "127.0.0.1:$P0" "http://127.0.0.1:$CLOSED/"
log_has "$LAB/hc-direct.log" "target 127.0.0.1:$CLOSED: connect: Connection refused; answered REP 0x05"
curl_fails "direct, unknown name -> REP 0x04" "(4)" \
  --socks5-hostname "127.0.0.1:$P0" "http://nonexistent.hc.test:$H/"
curl_fails "SOCKS4a client, chain failure -> CD 0x5B" "(91)" \
  --socks4a "127.0.0.1:$P2B" "http://$LAB_BLOCKED_IP:$H/"

# --- hopchain as a hop of hopchain ---------------------------------------------------------------
make_payload "$LAB/payload" 1048576
stdio_echo_check "hopchain stdio -> hopchain socks (socks5h, a name), half-close" \
  "$LAB/payload" web.hc.test "$E" -x "socks5h://127.0.0.1:$P0"
stdio_echo_check "hopchain stdio -> hopchain socks (socks4a)" "$LAB/payload" \
  web.hc.test "$E" -x "socks4a://127.0.0.1:$P0"
# The same server as both hops asks it for its own address: a proxy loop, refused by rule.
expect_fail_with "hop 1/2 socks5://127.0.0.1:$P0: could not reach hop 2 (127.0.0.1:$P0): connection not allowed by ruleset (SOCKS5 reply 0x02)" \
  "$HOPCHAIN" -x "socks5://127.0.0.1:$P0" -x "socks5h://127.0.0.1:$P0" stdio 127.0.0.1 "$E"
log_has "$LAB/hc-direct.log" "target 127.0.0.1:$P0: connect: is this process's own listening address (a proxy loop); answered REP 0x02"
driver_echo_check "hopchain stdio -> hopchain socks -> danted -> microsocks" 1048576 \
  localhost "$E" -x "socks5h://127.0.0.1:$P2"
driver_echo_check "hopchain stdio -> hopchain socks with RFC 1929" 65536 127.0.0.1 "$E" \
  -x "socks5://$LAB_USER:$LAB_PASS@127.0.0.1:$PU"

# --- bytes behind the request; malformed and silent clients --------------------------------------
socks_pipelined_echo "SOCKS5 greeting + request + payload in one write" 127.0.0.1 "$P0" \
  "050100 050100017f000001$E_HEX" 12
socks_pipelined_echo "SOCKS4a request + payload in one write" 127.0.0.1 "$P0" \
  "0401${E_HEX}00000001 00 $(hex_of web.hc.test)00" 8
socks_pipelined_echo "SOCKS4 through 2 hops + payload in one write" 127.0.0.1 "$P2" \
  "0401${E_HEX}7f000001 $(hex_of someuser)00" 8
socks_raw 127.0.0.1 "$P0" "0401${E_HEX}7f000001$(printf '41%.0s' {1..300})00" \
  "005b000000000000" >/dev/null
socks_raw 127.0.0.1 "$P0" "050100 050200017f0000010050" "0500 05070001000000000000" >/dev/null
socks_raw 127.0.0.1 "$P0" "050100 050100057f0000010050" "0500 05080001000000000000" >/dev/null
# Not SOCKS: a letter first is an HTTP proxy client (mixed mode), and a request for a server
# rather than a proxy gets a 400 (tests/integration/socks_http.sh has the rest).
got=$(socks_raw 127.0.0.1 "$P0" "$(printf 'GET / HTTP/1.1\r\n\r\n' | od -An -tx1 | tr -d ' \n')")
[[ $got == "got $(printf 'HTTP/1.1 400' | od -An -tx1 | tr -d ' \n')"* ]] ||
  fail "an origin-form HTTP request: $got"
note "ok: a 300-byte USERID, BIND, an unknown ATYP and a non-proxy HTTP request: refused with the right bytes"
curl_fetch "the server still serves after the bad clients" "$PAGE" --socks5 "127.0.0.1:$P0" \
  "http://127.0.0.1:$H/index.html"

PT=$(free_port)
start_hopchain_socks hc-timeout 127.0.0.1 "$PT" --direct --connect-timeout 1 socks "$PT"
silent_client_closed "a client that sends nothing is closed after --connect-timeout 1" \
  127.0.0.1 "$PT" 0.8 4
silent_client_closed "a client that stops after its first byte too" 127.0.0.1 "$PT" 0.8 4 05
log_has "$LAB/hc-timeout.log" "timed out: no complete request within 1 s"

# --- IPv6 listener, and SIGTERM ------------------------------------------------------------------
P6=$(free_port)
start_hopchain_socks hc-v6 ::1 "$P6" --direct socks "[::1]:$P6"
pid6=$LAB_LAST_PID
curl_fetch "IPv6 listener [::1]" "$PAGE" -x "socks5h://[::1]:$P6" "http://127.0.0.1:$H/index.html"
kill -TERM "$pid6"
rc=0
timeout 10 tail --pid="$pid6" -f /dev/null || fail "hopchain socks did not stop on SIGTERM"
wait "$pid6" || rc=$?
((rc == 0)) || fail "hopchain socks exited $rc on SIGTERM (expected 0)"
note "ok: SIGTERM stops the SOCKS server with status 0"
