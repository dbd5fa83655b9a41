#!/usr/bin/env python3
"""A proxy that misbehaves on purpose, one scripted case per connection (loopback only).

  hostile_server.py --port P (--case NAME | --case-file FILE) [--bind ADDR] [--capture-dir DIR]

With --case-file the case is read from FILE at each accept, so one server serves a whole test
script: write the next case name to the file, then connect. With --capture-dir every byte
received on connection N is appended (as it arrives) to DIR/NNNN-CASE.in, so a test can check
what a client sent, or that it sent nothing. Events are logged on stdout.

Cases (read the client's request first, as a real server would, then):
  socks5_ok                 method 2 + RFC 1929 if offered (any credentials pass), else method
                            0; reply success, then echo (the server is its own target)
  socks5_forward            like socks5_ok, but really connects to the requested loopback
                            address and relays (a capturing hop inside a chain)
  socks5_badver_method      method reply VER 4
  socks5_method_ff          method 0xFF
  socks5_method_XX          method XX (hex) whatever was offered (e.g. 01, 02)
  socks5_auth_v1_ok         insist on method 2, RFC 1929 reply VER 1 STATUS 0, success, echo
  socks5_auth_v5            RFC 1929 reply VER 5 STATUS 0
  socks5_auth_status_XX     RFC 1929 reply VER 1 STATUS XX
  socks5_rep_XX             command reply REP XX (ATYP 1)
  socks5_badver_reply       command reply VER 4
  socks5_atyp_XX            success with ATYP XX and 6 more bytes
  socks5_domain_0           success with a domain BND.ADDR of length 0
  socks5_domain_255         success with a domain BND.ADDR of 255 bytes, then echo
  socks5_trunc_method_K     first K bytes of the method reply, then EOF
  socks5_trunc_auth_K       first K bytes of the RFC 1929 reply (method 2), then EOF
  socks5_trunc_reply_K      first K bytes of a 10-byte IPv4 reply, then EOF
  socks5_trunc_dreply_K     first K bytes of an 18-byte domain reply, then EOF
  socks5_dribble            every reply byte in its own write, 0.1 s apart, then echo
  socks5_glued              success reply and GLUE in one write, then echo
  socks5_ok_eof             success reply, then EOF at once (OpenSSH -D when its connect fails)
  socks5_early              before its success reply, wait up to 1 s for bytes behind the
                            request and log "early data N bytes"; then reply and echo them all
  socks5_early_K            the same, waiting up to K seconds
  socks5_drip               method reply, then a 262-byte reply at one byte per second
  bind5_second_rep_XX       BIND: a first reply (listening at 127.0.0.1:40000), then a second
                            reply REP XX
  bind5_second_trunc_K      BIND: a first reply, then the first K bytes of a 10-byte second
                            reply, then EOF
  bind5_second_garbage      BIND: a first reply, then bytes that are no SOCKS5 reply (VER 0x48)
  bind5_second_silent       BIND: a first reply, then nothing (no peer ever comes)
  bind5_second_glued        BIND: a first reply, then the second (peer 127.0.0.1:40001) and GLUE
                            in one write, then echo
  bind4_second_cd_XX        SOCKS4 BIND: a first reply 0x5A, then a second reply CD XX
  socks4_ok                 reply 0x5A, then echo
  socks4_vn_XX              reply VN XX (CD 0x5A)
  socks4_cd_XX              reply CD XX
  socks4_trunc_K            first K bytes of the 8-byte reply, then EOF
  socks4_glued              reply 0x5A and GLUE in one write, then echo
  http_ok                   "HTTP/1.1 200 Connection established", then echo
  http_forward              like http_ok, but really connects (loopback only) and relays
  http_403, http_502, http_407_challenge, http_407_bare, http_10_200, http_10_403,
  http_lf_only, http_no_reason_200, http_no_reason_403, http_huge_head, http_no_crlf,
  http_garbage, http_glued, http_trunc_status, http_drip
  http_100_200              "100 Continue" and "103 Early Hints" (separate writes), then 200
                            and echo: interim responses a client must skip (RFC 9110 §15.2)
  http_1xx_flood            "100 Continue" heads past the 16 KiB header limit, no final status
  silent                    read everything, never send a byte
  close_at_once             close right after accept (EOF before any reply)
  reset_at_once             reset right after accept (RST)
  target_echo               no handshake: echo (a capturing target)
  target_echo_reset_K       no handshake: echo the first K KiB, then reset (RST)
  target_stream             no handshake: send 64 KiB every 5 ms, discard what arrives
  gss_*                     SOCKS5 GSS-API (RFC 1961) cases: see hostile_gss.py

Failure replies are followed by reading until the client closes: a client that waits for more
after a refusal hangs visibly instead of being rescued by our close.
"""

import argparse
import os
import re
import socket
import struct
import sys
import threading
import time

import hostile_gss

GLUE = b"GLUED-PAYLOAD-0123456789\n"
IO_TIMEOUT = 60  # seconds any single read or write may block
DRIP_LIMIT = 300  # seconds a "forever" drip lasts at most, so the server always ends a case
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class Peer:
    """The accepted connection, with exact reads and an optional capture of what arrives."""

    def __init__(self, sock, capture_path):
        self.sock = sock
        self.sock.settimeout(IO_TIMEOUT)
        self.capture = open(capture_path, "ab", buffering=0) if capture_path else None

    def _record(self, data):
        if self.capture and data:
            self.capture.write(data)

    def recv_some(self, n=65536):
        data = self.sock.recv(n)
        self._record(data)
        return data

    def recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            d = self.recv_some(n - len(buf))
            if not d:
                raise EOFError(f"EOF after {len(buf)} of {n} bytes")
            buf.extend(d)
        return bytes(buf)

    def recv_head(self, limit=65536):
        buf = bytearray()
        while b"\r\n\r\n" not in buf:
            d = self.recv_some(1)  # byte by byte: never swallow what follows the head
            if not d:
                raise EOFError("EOF inside the request head")
            buf.extend(d)
            if len(buf) > limit:
                raise ValueError("request head too large")
        return bytes(buf)

    def send(self, data):
        self.sock.sendall(data)

    def send_slowly(self, data, pause):
        for b in data:
            self.sock.sendall(bytes([b]))
            time.sleep(pause)

    def drain(self):
        """Reads until the client closes."""
        while self.recv_some():
            pass

    def echo(self):
        while True:
            d = self.recv_some()
            if not d:
                break
            self.sock.sendall(d)
        self.sock.shutdown(socket.SHUT_WR)

    def relay_to(self, sock):
        """Sends what the client sends on to `sock` until its EOF, then half-closes `sock`."""
        try:
            while True:
                d = self.recv_some()
                if not d:
                    break
                sock.sendall(d)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def reset(self):
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self):
        try:
            self.sock.close()
        finally:
            if self.capture:
                self.capture.close()


# --- SOCKS5 ------------------------------------------------------------------------------------


def s5_greeting(p):
    ver, n = p.recv_exact(2)
    if ver != 5:
        raise ValueError(f"greeting VER {ver}")
    return set(p.recv_exact(n))


def s5_auth(p):
    ver, ulen = p.recv_exact(2)
    user = p.recv_exact(ulen)
    (plen,) = p.recv_exact(1)
    password = p.recv_exact(plen)
    return ver, user, password


def s5_request(p):
    ver, cmd, _rsv, atyp = p.recv_exact(4)
    if atyp == 1:
        host = socket.inet_ntop(socket.AF_INET, p.recv_exact(4))
    elif atyp == 4:
        host = socket.inet_ntop(socket.AF_INET6, p.recv_exact(16))
    elif atyp == 3:
        (n,) = p.recv_exact(1)
        host = p.recv_exact(n).decode("latin-1")
    else:
        raise ValueError(f"request ATYP {atyp}")
    (port,) = struct.unpack("!H", p.recv_exact(2))
    log(f"  request VER {ver} CMD {cmd} ATYP {atyp} host {len(host)} bytes port {port}")
    return host, port


def s5_reply(rep=0, ver=5, atyp=1, addr=b"\x7f\x00\x00\x01", port=1080):
    body = bytes([atyp]) + (bytes([len(addr)]) + addr if atyp == 3 else addr)
    return bytes([ver, rep, 0]) + body + struct.pack("!H", port)


def s5_negotiate(p):
    """Method 2 with RFC 1929 (accepting any credentials) if offered, else method 0."""
    methods = s5_greeting(p)
    if 2 in methods:
        p.send(b"\x05\x02")
        s5_auth(p)
        p.send(b"\x01\x00")
    elif 0 in methods:
        p.send(b"\x05\x00")
    else:
        p.send(b"\x05\xff")
        raise ValueError("no method we take")


def s5_to_request(p):
    s5_negotiate(p)
    return s5_request(p)


# --- SOCKS4 ------------------------------------------------------------------------------------


def read_cstring(p, limit=1024):
    buf = bytearray()
    while True:
        (b,) = p.recv_exact(1)
        if b == 0:
            return bytes(buf)
        buf.append(b)
        if len(buf) > limit:
            raise ValueError("SOCKS4 string too long")


def s4_request(p):
    vn, cd = p.recv_exact(2)
    (port,) = struct.unpack("!H", p.recv_exact(2))
    ip = p.recv_exact(4)
    read_cstring(p)  # USERID
    host = socket.inet_ntoa(ip)
    if ip[:3] == b"\x00\x00\x00" and ip[3] != 0:
        host = read_cstring(p).decode("latin-1")
    log(f"  request VN {vn} CD {cd} host {host[:60]} port {port}")
    return host, port


def s4_reply(cd=0x5A, vn=0):
    return bytes([vn, cd]) + b"\x00\x00\x00\x00\x00\x00"


# --- HTTP --------------------------------------------------------------------------------------


def http_request(p):
    head = p.recv_head()
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    m = re.match(r"CONNECT (\S+):(\d+) HTTP/1\.[01]$", line)
    if not m:
        raise ValueError(f"bad request line {line[:80]!r}")
    host = m.group(1)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(m.group(2))


# --- relaying for the forwarding cases ---------------------------------------------------------


def forward(p, host, port):
    """Connects to host:port (loopback only) and relays both ways; the capture keeps seeing
    everything the client sends."""
    if host not in LOOPBACK:
        raise ValueError(f"refusing to connect to non-loopback {host!r}")
    up = socket.create_connection((host, port), timeout=10)
    up.settimeout(IO_TIMEOUT)

    def downstream():
        try:
            while True:
                d = up.recv(65536)
                if not d:
                    break
                p.send(d)
            p.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    t = threading.Thread(target=downstream, daemon=True)
    t.start()
    p.relay_to(up)
    t.join(IO_TIMEOUT)
    up.close()


def target_stream(p):
    """Sends 64 KiB every 5 ms (about 12 MB/s) until the client goes away or DRIP_LIMIT seconds
    pass, while discarding whatever the client sends."""
    threading.Thread(target=lambda: _drain_quietly(p), daemon=True).start()
    chunk = bytes(range(256)) * 256
    end = time.monotonic() + DRIP_LIMIT
    while time.monotonic() < end:
        p.send(chunk)
        time.sleep(0.005)


def _drain_quietly(p):
    try:
        p.drain()
    except OSError:
        pass


# --- the cases ---------------------------------------------------------------------------------


def play(p, case):
    m = re.fullmatch(r"([a-z0-9]+(?:_[a-z]+)*?)_([0-9a-f]{2}|\d+)", case)
    name, arg = (m.group(1), m.group(2)) if m else (case, None)
    hexarg = int(arg, 16) if arg is not None and len(arg) == 2 else None
    intarg = int(arg) if arg is not None and arg.isdigit() else None

    if case == "silent":
        p.drain()
    elif case == "close_at_once":
        pass
    elif case == "reset_at_once":
        p.reset()
    elif case == "target_echo":
        p.echo()
    elif case == "target_stream":
        target_stream(p)
    elif name == "target_echo_reset":
        # echo the first K KiB, then reset the connection (RST, not FIN)
        left = intarg * 1024
        while left > 0:
            d = p.recv_some(min(left, 65536))
            if not d:
                break
            p.send(d)
            left -= len(d)
        p.reset()

    # SOCKS5: method negotiation
    elif case == "socks5_badver_method":
        s5_greeting(p)
        p.send(b"\x04\x00")
        p.drain()
    elif name == "socks5_method" or case == "socks5_method_ff":
        s5_greeting(p)
        p.send(bytes([5, 0xFF if case == "socks5_method_ff" else hexarg]))
        p.drain()
    elif name == "socks5_trunc_method":
        s5_greeting(p)
        p.send(b"\x05\x00"[:intarg])
    # SOCKS5: RFC 1929
    elif case in ("socks5_auth_v1_ok", "socks5_auth_v5") or name in (
            "socks5_auth_status", "socks5_trunc_auth"):
        s5_greeting(p)
        p.send(b"\x05\x02")
        s5_auth(p)
        if case == "socks5_auth_v1_ok":
            p.send(b"\x01\x00")
            s5_request(p)
            p.send(s5_reply())
            p.echo()
        elif case == "socks5_auth_v5":
            p.send(b"\x05\x00")
            p.drain()
        elif name == "socks5_auth_status":
            p.send(bytes([1, hexarg]))
            p.drain()
        else:
            p.send(b"\x01\x00"[:intarg])
    # SOCKS5: command reply
    elif case in ("socks5_ok", "socks5_glued"):
        s5_to_request(p)
        p.send(s5_reply() + (GLUE if case == "socks5_glued" else b""))
        p.echo()
    elif case == "socks5_ok_eof":
        s5_to_request(p)
        p.send(s5_reply())
        p.sock.shutdown(socket.SHUT_WR)
        _drain_quietly(p)
    elif case == "socks5_early" or name == "socks5_early":
        s5_to_request(p)
        p.sock.settimeout(float(intarg) if intarg else 1.0)
        try:
            early = p.recv_some()
        except socket.timeout:
            early = b""
        p.sock.settimeout(IO_TIMEOUT)
        log(f"  early data {len(early)} bytes")
        p.send(s5_reply() + early)
        p.echo()
    elif case == "socks5_forward":
        host, port = s5_to_request(p)
        p.send(s5_reply())
        forward(p, host, port)
    elif name == "socks5_rep":
        s5_to_request(p)
        p.send(s5_reply(rep=hexarg))
        p.drain()
    elif case == "socks5_badver_reply":
        s5_to_request(p)
        p.send(s5_reply(ver=4))
        p.drain()
    elif name == "socks5_atyp":
        s5_to_request(p)
        p.send(bytes([5, 0, 0, hexarg]) + b"\x7f\x00\x00\x01\x04\x38")
        p.drain()
    elif case == "socks5_domain_0":
        s5_to_request(p)
        p.send(s5_reply(atyp=3, addr=b""))
        p.drain()
    elif case == "socks5_domain_255":
        s5_to_request(p)
        p.send(s5_reply(atyp=3, addr=b"b" * 255))
        p.echo()
    elif name == "socks5_trunc_reply":
        s5_to_request(p)
        p.send(s5_reply()[:intarg])
    elif name == "socks5_trunc_dreply":
        s5_to_request(p)
        p.send(s5_reply(atyp=3, addr=b"bnd.example")[:intarg])
    elif case == "socks5_dribble":
        methods = s5_greeting(p)
        if 0 not in methods:
            raise ValueError("socks5_dribble needs method 0")
        p.send_slowly(b"\x05\x00", 0.1)
        s5_request(p)
        p.send_slowly(s5_reply(), 0.1)
        p.echo()
    elif case == "socks5_drip":
        s5_to_request(p)
        p.send_slowly(s5_reply(atyp=3, addr=b"d" * 255)[:DRIP_LIMIT], 1.0)
        p.drain()

    # BIND: the first reply is fine, the second is the case
    elif case.startswith("bind5_"):
        s5_to_request(p)
        p.send(s5_reply(port=40000))
        play_second_reply(p, case, name, hexarg, intarg)
    elif name == "bind4_second_cd":
        s4_request(p)
        p.send(bytes([0, 0x5A, 0x9C, 0x40, 127, 0, 0, 1]))
        p.send(s4_reply(cd=hexarg))
        p.drain()

    # SOCKS4
    elif case in ("socks4_ok", "socks4_glued"):
        s4_request(p)
        p.send(s4_reply() + (GLUE if case == "socks4_glued" else b""))
        p.echo()
    elif name == "socks4_vn":
        s4_request(p)
        p.send(s4_reply(vn=hexarg))
        p.drain()
    elif name == "socks4_cd":
        s4_request(p)
        p.send(s4_reply(cd=hexarg))
        p.drain()
    elif name == "socks4_trunc":
        s4_request(p)
        p.send(s4_reply()[:intarg])

    # SOCKS5 GSS-API (RFC 1961), in hostile_gss.py
    elif case.startswith("gss_"):
        hostile_gss.play(p, name, intarg, log)

    # HTTP CONNECT
    elif case.startswith("http_"):
        host, port = http_request(p)
        play_http(p, case, host, port)
    else:
        raise ValueError(f"unknown case {case!r}")


def play_second_reply(p, case, name, hexarg, intarg):
    second = s5_reply(port=40001)
    if name == "bind5_second_rep":
        p.send(s5_reply(rep=hexarg))
        p.drain()
    elif name == "bind5_second_trunc":
        p.send(second[:intarg])
    elif case == "bind5_second_garbage":
        p.send(b"HTTP/1.1 2")
        p.drain()
    elif case == "bind5_second_silent":
        p.drain()
    elif case == "bind5_second_glued":
        p.send(second + GLUE)
        p.echo()
    else:
        raise ValueError(f"unknown case {case!r}")


HTTP_REFUSALS = {
    "http_403": b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
    "http_502": b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nbad",
    "http_407_challenge": b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                          b"Proxy-Authenticate: Basic realm=\"hostile\"\r\nContent-Length: 0\r\n\r\n",
    "http_407_bare": b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n",
    "http_10_403": b"HTTP/1.0 403 Forbidden\r\n\r\n",
    "http_no_reason_403": b"HTTP/1.1 403\r\n\r\n",
    # a 200 whose head ends only after 20,000 bytes
    "http_huge_head": b"HTTP/1.1 200 OK\r\n"
                      + b"".join(b"X-Pad-%05d: %s\r\n" % (i, b"p" * 100) for i in range(170))
                      + b"\r\n",
    # a plausible status start, then 20,000 bytes without any line ending
    "http_no_crlf": b"HTTP/1.1 200 OK" + b"x" * 20000,
    "http_garbage": b"A" * 20000,
    "http_trunc_status": b"HTTP/1.1 200 Connection est",
    "http_1xx_flood": b"HTTP/1.1 100 Continue\r\n\r\n" * 700,
}

HTTP_SUCCESSES = {
    "http_ok": b"HTTP/1.1 200 Connection established\r\n\r\n",
    "http_10_200": b"HTTP/1.0 200 Connection established\r\nProxy-Agent: hostile\r\n\r\n",
    "http_lf_only": b"HTTP/1.1 200 Connection established\nProxy-Agent: hostile\n\n",
    "http_no_reason_200": b"HTTP/1.1 200\r\n\r\n",
    "http_glued": b"HTTP/1.1 200 Connection established\r\n\r\n" + GLUE,
}


def play_http(p, case, host, port):
    if case in HTTP_SUCCESSES:
        p.send(HTTP_SUCCESSES[case])
        p.echo()
    elif case == "http_100_200":
        p.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        p.send(b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n")
        p.send(HTTP_SUCCESSES["http_ok"])
        p.echo()
    elif case == "http_forward":
        p.send(HTTP_SUCCESSES["http_ok"])
        forward(p, host, port)
    elif case == "http_trunc_status":
        p.send(HTTP_REFUSALS[case])  # then EOF
    elif case in HTTP_REFUSALS:
        try:
            p.send(HTTP_REFUSALS[case])
        except OSError:
            return  # a client that stopped reading at its limit and closed: fine
        p.drain()
    elif case == "http_drip":
        p.send(b"HTTP/1.1 200 OK\r\nX-Drip: ")
        p.send_slowly(b"d" * DRIP_LIMIT, 1.0)
    else:
        raise ValueError(f"unknown case {case!r}")


# --- server ------------------------------------------------------------------------------------

_log_lock = threading.Lock()


def log(msg):
    with _log_lock:
        print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)


def serve(conn, seq, case, capture_dir):
    capture = None
    if capture_dir:
        capture = os.path.join(capture_dir, f"{seq:04d}-{case}.in")
    p = Peer(conn, capture)
    log(f"conn {seq}: case {case}")
    try:
        play(p, case)
        log(f"conn {seq}: case {case} finished")
    except (OSError, EOFError, ValueError) as e:
        log(f"conn {seq}: case {case} ended: {e}")
    finally:
        p.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--case")
    ap.add_argument("--case-file")
    ap.add_argument("--capture-dir")
    a = ap.parse_args()
    if not a.case and not a.case_file:
        ap.error("--case or --case-file is required")
    if a.bind not in LOOPBACK:
        ap.error("loopback addresses only")
    if a.capture_dir:
        os.makedirs(a.capture_dir, exist_ok=True)

    family = socket.AF_INET6 if ":" in a.bind else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.bind, a.port))
    srv.listen(128)
    log(f"hostile server listening on {a.bind} port {a.port}")
    seq = 0
    while True:
        conn, _ = srv.accept()
        seq += 1
        case = a.case
        if a.case_file:
            try:
                with open(a.case_file) as f:
                    case = f.read().strip()
            except OSError as e:
                log(f"conn {seq}: cannot read the case file: {e}")
                conn.close()
                continue
        threading.Thread(target=serve, args=(conn, seq, case, a.capture_dir), daemon=True).start()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
