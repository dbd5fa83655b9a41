#!/usr/bin/env bash
# Keep-alive in the HTTP front of `hopchain socks` (RFC 9112 §9.3), against an origin that counts
# its TCP connections (tests/support/http_origin.py): curl with three URLs of one target uses one
# upstream connection (directly and through danted); targets that alternate get correct bodies
# over a new tunnel each; chunked, HEAD and read-until-close responses keep their framing on one
# client connection; HTTP/1.0 and "Connection: close" clients are closed after the response; a
# POST with Expect: 100-continue goes through, and a response sent before the body ends the
# exchange without waiting for it;
# a reused upstream the origin dropped takes a GET again on a fresh tunnel, never a POST (502).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
# shellcheck source=SCRIPTDIR/../support/lab_socks.sh
source "$HC_SUPPORT/lab_socks.sh"
lab_init
require_hopchain
lab_require curl python3
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

O1=$(free_port)
lab_bg origin-1 python3 "$HC_SUPPORT/http_origin.py" --port "$O1" --log "$LAB/o1.log"
O2=$(free_port)
lab_bg origin-2 python3 "$HC_SUPPORT/http_origin.py" --port "$O2" --log "$LAB/o2.log"
wait_port "$O1" || fail "origin 1 did not start"
wait_port "$O2" || fail "origin 2 did not start"
DA=$(free_port)
start_danted dante-a "$DA"
P0=$(free_port)
start_hopchain_socks hc-direct 127.0.0.1 "$P0" --direct -v socks "$P0"
P1=$(free_port)
start_hopchain_socks hc-hop 127.0.0.1 "$P1" -v -x "socks5://127.0.0.1:$DA" socks "$P1"

connections() { grep -c '^connection$' "$1" || true; }
expect_bodies() { # DESC PROXY-VAR SPECS...: proxy P0 and "O1:text/a" fetch http://127.0.0.1:$O1/text/a via $P0
  local desc=$1 port=${!2} want="" urls=() spec
  shift 2
  for spec in "$@"; do
    local origin=${spec%%:*} path=${spec#*:}
    want+="body of ${path#*/}"$'\n'
    urls+=("http://127.0.0.1:${!origin}/$path")
  done
  printf '%s' "$want" >"$LAB/want.txt"
  fetch_check "$desc" "$LAB/want.txt" curl -sS --max-time 30 -x "http://127.0.0.1:$port" "${urls[@]}"
}

# --- one target, one upstream connection ---------------------------------------------------------
expect_bodies "direct: three URLs of one target" P0 O1:text/a O1:text/b O1:chunked/c
[[ $(connections "$LAB/o1.log") == 1 ]] ||
  fail "three requests to one target took $(connections "$LAB/o1.log") upstream connections"
note "ok: three requests (one chunked) over one upstream connection"
log_has "$LAB/hc-direct.log" "over the kept-alive connection"
expect_bodies "through danted: three URLs of one target" P1 O2:text/a O2:chunked/b O2:text/c
[[ $(connections "$LAB/o2.log") == 1 ]] ||
  fail "through danted: $(connections "$LAB/o2.log") upstream connections for three requests"
note "ok: through a hop, one tunnel for three requests"

# --- alternating targets: a new tunnel each, the right bodies ------------------------------------
: >"$LAB/o1.log"
: >"$LAB/o2.log"
expect_bodies "direct: alternating targets" P0 O1:text/a O2:text/b O1:chunked/c O1:text/d
[[ $(connections "$LAB/o1.log") == 2 && $(connections "$LAB/o2.log") == 1 ]] ||
  fail "alternating targets: $(connections "$LAB/o1.log") + $(connections "$LAB/o2.log") connections, not 2 + 1"
note "ok: alternating targets got their bodies over 3 tunnels"

# --- framing on one client connection: HEAD, chunked, read-until-close; HTTP/1.0; close ----------
: >"$LAB/o1.log"
timeout -k 5 40 python3 - "$P0" "$O1" <<'PY' || fail "framing on one client connection"
import http.client, socket, sys
proxy, origin = int(sys.argv[1]), sys.argv[2]
base = f"http://127.0.0.1:{origin}"
c = http.client.HTTPConnection("127.0.0.1", proxy, timeout=20)
def get(method, path, want):
    c.request(method, base + path)
    r = c.getresponse()
    body = r.read()
    assert r.status == 200 and body == want, (method, path, r.status, body)
    return r
head = get("HEAD", "/text/h", b"")
assert head.getheader("Content-Length") == str(len(b"body of h\n")), head.getheaders()
get("GET", "/chunked/c", b"body of c\n")
get("GET", "/text/t", b"body of t\n")
last = get("GET", "/close/z", b"body of z\n")  # ends with the close: so does the client's
assert last.getheader("Connection") == "close", last.getheaders()
# A client that says close, and an HTTP/1.0 one, see the connection end after the response.
for request in (f"GET {base}/text/x HTTP/1.1\r\nConnection: close\r\n\r\n",
                f"GET {base}/text/y HTTP/1.0\r\n\r\n"):
    s = socket.create_connection(("127.0.0.1", proxy), timeout=15)
    s.sendall(request.encode())
    data = b""
    while chunk := s.recv(4096):  # a connection left open times out here
        data += chunk
    assert data.endswith(b"\r\n\r\nbody of " + request[len(base) + 10].encode() + b"\n"), data
    assert b"\r\nConnection: close\r\n" in data, data
PY
[[ $(connections "$LAB/o1.log") == 3 ]] ||
  fail "HEAD, chunked, plain, until-close on one client connection, then two closing clients: $(connections "$LAB/o1.log") upstream connections, not 3"
note "ok: HEAD, chunked and read-until-close responses kept their framing; HTTP/1.0 and Connection: close ended the connection"

# --- request bodies: Expect: 100-continue, and a response that does not wait for the body -------
head -c 300000 /dev/urandom | base64 -w 0 >"$LAB/post.txt"
fetch_check "POST with Expect: 100-continue, echoed" "$LAB/post.txt" curl -sS --max-time 30 \
  -x "http://127.0.0.1:$P0" -H 'Expect: 100-continue' --data-binary "@$LAB/post.txt" \
  "http://127.0.0.1:$O1/text/echo"
cat >"$LAB/origin_early.py" <<'PY'
import socket, sys, time
srv = socket.create_server(("127.0.0.1", int(sys.argv[1])))
while True:
    c, _ = srv.accept()
    data = b""
    while b"\r\n\r\n" not in data and (chunk := c.recv(4096)):
        data += chunk
    c.sendall(b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 8\r\n\r\ntoo big\n")
    time.sleep(30)  # never reads the body: the proxy must not wait for it
PY
OE=$(free_port)
lab_bg origin-early python3 "$LAB/origin_early.py" "$OE"
wait_port "$OE" || fail "the early-answering origin did not start"
timeout -k 5 30 python3 - "$P0" "$OE" <<'PY' || fail "a response before the request body"
import socket, sys, threading
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
size = 64 << 20
s.sendall(f"POST http://127.0.0.1:{sys.argv[2]}/up HTTP/1.1\r\nContent-Length: {size}\r\n\r\n".encode())
def upload():
    try:
        s.sendall(b"x" * size)
    except OSError:
        pass
threading.Thread(target=upload, daemon=True).start()
data = b""
try:
    while chunk := s.recv(4096):
        data += chunk
except ConnectionResetError:
    pass
assert data.startswith(b"HTTP/1.1 413 ") and data.endswith(b"\r\n\r\ntoo big\n"), data
assert b"\r\nConnection: close\r\n" in data, data
PY
note "ok: POST with Expect: 100-continue; a 413 sent before the body reached the client, which was closed"

# --- a kept-alive upstream the origin dropped ----------------------------------------------------
# This origin answers each connection's first request as if it kept the connection, then closes it.
cat >"$LAB/origin_drop.py" <<'PY'
import socket, sys, threading
srv = socket.create_server(("127.0.0.1", int(sys.argv[1])))
def note(line):
    with open(sys.argv[2], "a") as f:
        f.write(line + "\n")
def serve(c):
    data = b""
    while b"\r\n\r\n" not in data and (chunk := c.recv(4096)):
        data += chunk
    note(data.split(b" ", 2)[0].decode() + " " + data.split(b" ", 2)[1].decode())
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
    c.shutdown(socket.SHUT_RDWR)
    c.close()
    note("dropped")
while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
PY
OD=$(free_port)
lab_bg origin-drop python3 "$LAB/origin_drop.py" "$OD" "$LAB/od.log"
wait_port "$OD" || fail "the dropping origin did not start"
timeout -k 5 40 python3 - "$P0" "$OD" "$LAB/od.log" <<'PY' || fail "a dropped kept-alive upstream"
import http.client, sys, time
proxy, origin, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def dropped(n):
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if open(log).read().count("dropped") >= n:
            return
        time.sleep(0.05)
    raise SystemExit("the origin did not drop its connection")
c = http.client.HTTPConnection("127.0.0.1", proxy, timeout=20)
c.request("GET", f"http://127.0.0.1:{origin}/one")
r = c.getresponse(); assert r.read() == b"ok\n"
dropped(1)
c.request("GET", f"http://127.0.0.1:{origin}/two")  # sent again on a fresh tunnel
r = c.getresponse(); assert r.status == 200 and r.read() == b"ok\n", r.status
dropped(2)
c.request("POST", f"http://127.0.0.1:{origin}/three", body=b"once")  # never sent twice
r = c.getresponse(); body = r.read()
assert r.status == 502 and b"not sent again" in body, (r.status, body)
PY
[[ $(grep -c '^GET /two$' "$LAB/od.log") == 1 ]] || fail "GET /two reached the origin $(grep -c '^GET /two$' "$LAB/od.log") times"
grep -q 'POST' "$LAB/od.log" && fail "the POST went out on the dropped connection"
log_has "$LAB/hc-direct.log" "sending it again"
log_has "$LAB/hc-direct.log" "answered 502"
note "ok: a dropped kept-alive connection: GET sent again on a fresh tunnel, POST answered 502"
note "all keep-alive checks passed"
