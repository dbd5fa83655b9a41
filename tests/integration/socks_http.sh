#!/usr/bin/env bash
# Proves the HTTP proxy side of `hopchain socks` ("mixed" mode: SOCKS and HTTP on one port) with
# real clients: curl -x http:// for an http:// URL (absolute-form, forwarded) through a real hop
# (danted) and directly, 1 MiB intact, a POST body carried exactly; curl to an https URL through
# CONNECT (stunnel in front of the lab web server, certificate checked) and --proxytunnel for
# plain http; Basic auth against --users (right, wrong and missing: 407 with a Basic challenge;
# passwords never logged, Proxy-Authorization never forwarded to the target); https:// in
# absolute-form refused with 501; a target refused by --deny answered 403; a closed target
# answered 502; a POST body forwarded exactly with a request pipelined behind it served next
# (keep-alive itself: socks_http_keepalive.sh); an unfinished head closed after --connect-timeout; pip download from a local simple index through the proxy; git clone over https
# through CONNECT (git http-backend as CGI behind stunnel); and SOCKS5 clients on the same port.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
# shellcheck source=SCRIPTDIR/../support/lab_socks.sh
source "$HC_SUPPORT/lab_socks.sh"
# shellcheck source=SCRIPTDIR/../support/lab_tls.sh
source "$HC_SUPPORT/lab_tls.sh"
lab_init
require_hopchain
lab_require curl python3 git
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

# --- the lab -------------------------------------------------------------------------------------
mkdir -p "$LAB/www/cgi-bin"
echo "hopchain mixed mode test page $$-$RANDOM" >"$LAB/www/index.html"
make_payload "$LAB/www/big.bin" 1048576
PAGE=$LAB/www/index.html
BIG=$LAB/www/big.bin
# A small git repository served by git http-backend as a CGI of python's http.server.
git init -q -b main "$LAB/src"
echo "cloned through CONNECT" >"$LAB/src/README"
git -C "$LAB/src" add README
git -C "$LAB/src" -c user.name=t -c user.email=t@t commit -qm one
git clone -q --bare "$LAB/src" "$LAB/git/repo.git"
printf '#!/bin/sh\nexec git http-backend\n' >"$LAB/www/cgi-bin/git"
chmod 755 "$LAB/www/cgi-bin/git"
# A simple index (PEP 503) with one wheel, for pip download.
mkdir -p "$LAB/www/simple/hcdemo"
python3 - "$LAB/www/simple/hcdemo" <<'PY'
import sys, zipfile
d = sys.argv[1]
name = "hcdemo-1.0-py3-none-any.whl"
with zipfile.ZipFile(f"{d}/{name}", "w") as z:
    z.writestr("hcdemo/__init__.py", "")
    z.writestr("hcdemo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: hcdemo\nVersion: 1.0\n")
    z.writestr("hcdemo-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    z.writestr("hcdemo-1.0.dist-info/RECORD", "")
open(f"{d}/index.html", "w").write(f'<html><body><a href="{name}">{name}</a></body></html>\n')
PY
H=$(free_port)
# http.server runs CGIs as nobody when root: the repository is then another user's.
lab_bg "http-$H" env GIT_PROJECT_ROOT="$LAB/git" GIT_HTTP_EXPORT_ALL=1 GIT_CONFIG_COUNT=1 \
  GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*' \
  python3 -m http.server --cgi --bind 127.0.0.1 --directory "$LAB/www" "$H"
wait_port "$H"
tls_init_pki
tls_issue web "IP:127.0.0.1"
T=$(free_port)
start_stunnel tls-web "$T" "$H" web
DA=$(free_port)
start_danted dante-a "$DA"
CLOSED=$(free_port) # nothing listens here

P0=$(free_port)
start_hopchain_socks hc-direct 127.0.0.1 "$P0" --direct -v socks "$P0"
P1=$(free_port)
start_hopchain_socks hc-hop 127.0.0.1 "$P1" -v -x "socks5://127.0.0.1:$DA" socks "$P1"
note "lab up: http $H, https $T, danted $DA; hopchain: direct $P0, through danted $P1"

# --- absolute-form requests, forwarded -----------------------------------------------------------
curl_fetch "direct: curl -x http://, an http:// URL" "$PAGE" -x "http://127.0.0.1:$P0" \
  "http://127.0.0.1:$H/index.html"
curl_fetch "through danted: curl -x http://, 1 MiB" "$BIG" -x "http://127.0.0.1:$P1" \
  "http://127.0.0.1:$H/big.bin"
log_has "$LAB/hc-hop.log" "HTTP GET 127.0.0.1:$H"
# Two URLs on one curl run: one client connection, one tunnel (socks_http_keepalive.sh counts).
cat "$PAGE" "$PAGE" >"$LAB/twice.txt"
fetch_check "two requests in one curl run" "$LAB/twice.txt" curl -sS --max-time 30 \
  -x "http://127.0.0.1:$P1" "http://127.0.0.1:$H/index.html" "http://127.0.0.1:$H/index.html"
# A POST body of known length goes upstream exactly (http.server answers 501 to POST: the body
# must have been consumed in order for the answer to come back intact).
code=$(timeout -k 5 40 curl -sS --max-time 30 -o /dev/null -w '%{http_code}' \
  -x "http://127.0.0.1:$P0" --data-binary "@$PAGE" "http://127.0.0.1:$H/index.html")
[[ $code == 501 ]] || fail "POST through the proxy: HTTP $code, not http.server's 501"
note "ok: POST forwarded, the target's own answer came back ($code)"

# --- CONNECT -------------------------------------------------------------------------------------
curl_fetch "through danted: curl -x http:// to https (CONNECT), certificate checked" "$PAGE" \
  --cacert "$TLS_CA" -x "http://127.0.0.1:$P1" "https://127.0.0.1:$T/index.html"
log_has "$LAB/hc-hop.log" "HTTP CONNECT 127.0.0.1:$T"
curl_fetch "direct: curl --proxytunnel for plain http" "$BIG" --proxytunnel \
  -x "http://127.0.0.1:$P0" "http://127.0.0.1:$H/big.bin"

# --- refusals ------------------------------------------------------------------------------------
http_code() { # CURL-ARGS... -> prints the status the proxy answered
  timeout -k 5 40 curl -s --max-time 30 -o "$LAB/body.out" -w '%{http_code}' "$@" || true
}
code=$(timeout -k 5 40 curl -s --max-time 30 -o /dev/null -w '%{http_connect}' \
  -x "http://127.0.0.1:$P0" --proxytunnel "http://127.0.0.1:$CLOSED/" || true)
[[ $code == 502 ]] || fail "CONNECT to a closed port: $code, not 502"
code=$(http_code -x "http://127.0.0.1:$P0" "http://127.0.0.1:$CLOSED/")
[[ $code == 502 ]] || fail "GET to a closed port: HTTP $code, not 502"
grep -q "Connection refused" "$LAB/body.out" || fail "502 body: $(cat "$LAB/body.out")"
note "ok: closed target answered 502 ($(head -c 100 "$LAB/body.out"))"
out=$(printf 'GET https://127.0.0.1:%s/ HTTP/1.1\r\nHost: x\r\n\r\n' "$T" |
  timeout -k 5 20 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
s.sendall(sys.stdin.buffer.read())
data = b""
while chunk := s.recv(4096):
    data += chunk
print(data.decode(errors="replace").splitlines()[0])' "$P0")
[[ $out == "HTTP/1.1 501 Not Implemented" ]] || fail "https:// in absolute-form: '$out'"
note "ok: https:// in absolute-form answered 501"
PD=$(free_port)
start_hopchain_socks hc-deny 127.0.0.1 "$PD" --direct -v socks --deny 127.0.0.1 "$PD"
code=$(http_code -x "http://127.0.0.1:$PD" "http://127.0.0.1:$H/index.html")
[[ $code == 403 ]] || fail "a denied target: HTTP $code, not 403"
note "ok: --deny answered 403"

# --- Basic auth against --users ------------------------------------------------------------------
printf '%s:%s\n' "$LAB_USER" "$LAB_PASS" >"$LAB/users"
chmod 600 "$LAB/users"
PU=$(free_port)
start_hopchain_socks hc-users 127.0.0.1 "$PU" --direct -vv socks --users "$LAB/users" "$PU"
curl_fetch "users: right credentials (GET)" "$PAGE" -x "http://127.0.0.1:$PU" \
  --proxy-user "$LAB_USER:$LAB_PASS" "http://127.0.0.1:$H/index.html"
curl_fetch "users: right credentials (CONNECT)" "$PAGE" --cacert "$TLS_CA" \
  -x "http://$LAB_USER:$LAB_PASS@127.0.0.1:$PU" "https://127.0.0.1:$T/index.html"
code=$(http_code -D "$LAB/head.out" -x "http://127.0.0.1:$PU" "http://127.0.0.1:$H/index.html")
[[ $code == 407 ]] || fail "users: no credentials: HTTP $code, not 407"
grep -qi '^Proxy-Authenticate: Basic realm="hopchain"' "$LAB/head.out" || fail "no Basic challenge"
code=$(http_code -x "http://127.0.0.1:$PU" --proxy-user "$LAB_USER:wrong-pass-xyz" \
  "http://127.0.0.1:$H/index.html")
[[ $code == 407 ]] || fail "users: wrong password: HTTP $code, not 407"
code=$(timeout -k 5 40 curl -s --max-time 30 -o /dev/null -w '%{http_connect}' \
  -x "http://127.0.0.1:$PU" --proxy-user "$LAB_USER:wrong-pass-xyz" --proxytunnel \
  "http://127.0.0.1:$H/index.html" || true)
[[ $code == 407 ]] || fail "users: wrong password (CONNECT): HTTP $code, not 407"
note "ok: missing and wrong credentials answered 407 with a Basic challenge"
log_has "$LAB/hc-users.log" "authentication failed"
log_lacks "$LAB/hc-users.log" "$LAB_PASS"
log_lacks "$LAB/hc-users.log" "wrong-pass-xyz"
# The target never sees the proxy's credentials (nor a Proxy-Connection).
E=$(free_port)
python3 - "$E" >"$LAB/seen-head.txt" 2>&1 <<'PY' &
import socket, sys
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1]))); srv.listen(1); srv.settimeout(30)
c, _ = srv.accept(); c.settimeout(30)
data = b""
while b"\r\n\r\n" not in data:
    data += c.recv(4096)
print(data.decode(errors="replace"), flush=True)
c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
c.close()
PY
SEEN_PID=$!
wait_port "$E"
code=$(http_code -x "http://127.0.0.1:$PU" --proxy-user "$LAB_USER:$LAB_PASS" \
  -H 'Proxy-Connection: keep-alive' "http://127.0.0.1:$E/seen")
wait "$SEEN_PID" || fail "the header-recording target failed: $(cat "$LAB/seen-head.txt")"
[[ $code == 200 ]] || fail "header check: HTTP $code"
grep -q '^GET /seen HTTP/1.1' "$LAB/seen-head.txt" || fail "not origin-form: $(cat "$LAB/seen-head.txt")"
grep -qi 'proxy-' "$LAB/seen-head.txt" && fail "a Proxy- header reached the target"
grep -qi '^Connection: close' "$LAB/seen-head.txt" && fail "Connection: close upstream for a keep-alive client"
note "ok: the target got origin-form, no Connection: close and no Proxy- header"

# A body of known length goes up exactly; a request pipelined behind it (with its own
# Proxy-Authorization, for another target) waits for the response and is served next.
E2=$(free_port)
python3 - "$E2" >"$LAB/seen-all.txt" 2>&1 <<'PY' &
import socket, sys
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1]))); srv.listen(1); srv.settimeout(30)
c, _ = srv.accept(); c.settimeout(30)
data = b""
while not data.endswith(b"0123456789"):
    chunk = c.recv(4096)
    if not chunk:
        break
    data += chunk
c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
c.shutdown(socket.SHUT_WR)
c.settimeout(5)
try:
    while chunk := c.recv(4096):  # anything more is what must not have come
        data += chunk
except OSError:
    pass
sys.stdout.write(data.decode(errors="replace"))
PY
SEEN2_PID=$!
wait_port "$E2"
AUTH=$(printf '%s:%s' "$LAB_USER" "$LAB_PASS" | base64)
reply=$(timeout -k 5 30 python3 - "$PU" "$E2" "$AUTH" "$CLOSED" <<'PY'
import socket, sys
port, target, auth, closed = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.create_connection(("127.0.0.1", port), timeout=20)
s.sendall((f"POST http://127.0.0.1:{target}/in HTTP/1.1\r\nProxy-Authorization: Basic {auth}\r\n"
           "Content-Length: 10\r\n\r\n0123456789"
           f"GET http://127.0.0.1:{closed}/second HTTP/1.1\r\nProxy-Authorization: Basic {auth}\r\n\r\n").encode())
data = b""
while chunk := s.recv(4096):
    data += chunk
print(data.decode(errors="replace").replace("\r\n", "|"))
PY
)
wait "$SEEN2_PID" || fail "the recording target failed: $(cat "$LAB/seen-all.txt")"
[[ $reply == "HTTP/1.1 200 OK|"*"|ok"$'\n'"HTTP/1.1 502 Bad Gateway|"* ]] ||
  fail "pipelined POST: the client got '$reply'"
grep -q '0123456789$' "$LAB/seen-all.txt" || fail "the body did not arrive: $(cat "$LAB/seen-all.txt")"
grep -q 'second' "$LAB/seen-all.txt" && fail "a pipelined request reached the target"
grep -qi 'authorization' "$LAB/seen-all.txt" && fail "credentials reached the target"
note "ok: a POST body forwarded exactly, the request pipelined behind it served next (502)"
# A request head must be complete within --connect-timeout, like a SOCKS handshake.
PT=$(free_port)
start_hopchain_socks hc-slow 127.0.0.1 "$PT" --direct -v --connect-timeout 1 socks "$PT"
silent_client_closed "an unfinished HTTP request head closed after --connect-timeout" \
  127.0.0.1 "$PT" 0.5 4 "$(printf 'GET http://127.0.0.1/ HTTP/1.1\r\n' | od -An -tx1 | tr -d ' \n')"
log_has "$LAB/hc-slow.log" "HTTP request: timed out: no complete request within 1 s"

# --- real package and VCS clients ----------------------------------------------------------------
if python3 -m pip --version >/dev/null 2>&1; then
  rm -rf "$LAB/pip-out"
  PIP_CONFIG_FILE=/dev/null timeout -k 5 120 python3 -m pip download --no-cache-dir \
    --disable-pip-version-check --no-deps --index-url "http://127.0.0.1:$H/simple/" \
    --proxy "http://$LAB_USER:$LAB_PASS@127.0.0.1:$PU" -d "$LAB/pip-out" hcdemo \
    >"$LAB/pip.log" 2>&1 || { cat "$LAB/pip.log" >&2; fail "pip download through the proxy"; }
  cmp -s "$LAB/pip-out/hcdemo-1.0-py3-none-any.whl" "$LAB/www/simple/hcdemo/hcdemo-1.0-py3-none-any.whl" ||
    fail "pip download: the wheel differs"
  log_has "$LAB/hc-users.log" "HTTP GET 127.0.0.1:$H as '$LAB_USER'"
  note "ok: pip download from a local index through the proxy, with Basic auth"
else
  note "skipped: pip (python3 -m pip is not installed)"
fi
timeout -k 5 120 env GIT_SSL_CAINFO="$TLS_CA" GIT_TERMINAL_PROMPT=0 git \
  -c "http.proxy=http://127.0.0.1:$P1" \
  clone -q "https://127.0.0.1:$T/cgi-bin/git/repo.git" "$LAB/clone" >"$LAB/git.log" 2>&1 ||
  { cat "$LAB/git.log" >&2; fail "git clone over https through CONNECT"; }
cmp -s "$LAB/src/README" "$LAB/clone/README" || fail "git clone: README differs"
note "ok: git clone over https through CONNECT via danted"

# --- SOCKS clients on the same port --------------------------------------------------------------
curl_fetch "SOCKS5 on the mixed port (direct)" "$PAGE" --socks5 "127.0.0.1:$P0" \
  "http://127.0.0.1:$H/index.html"
curl_fetch "SOCKS5 with a login on the mixed port" "$PAGE" \
  -x "socks5h://$LAB_USER:$LAB_PASS@127.0.0.1:$PU" "http://127.0.0.1:$H/index.html"
note "all mixed-mode checks passed"
