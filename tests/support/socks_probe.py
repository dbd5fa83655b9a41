#!/usr/bin/env python3
"""Send one raw proxy request and print the server's reply code. Lab self-checks only.

  socks_probe.py socks5 PROXY_HOST PROXY_PORT TARGET TPORT [--user U --password P]
      prints e.g. "reply 0x05"; TARGET may be an IPv4/IPv6 literal or a name (ATYP 3).
      With a rejected RFC 1929 login prints "auth-status 0x01"; with no acceptable
      method prints "method 0xff"; if the server closes without a reply prints "closed".
  socks4 PROXY_HOST PROXY_PORT TARGET TPORT [--user U]
      TARGET an IPv4 literal (SOCKS4) or a name (SOCKS4a); prints e.g. "reply 0x5b".
  http PROXY_HOST PROXY_PORT TARGET TPORT
      prints the CONNECT status line.

With --echo DATA and a successful reply: sends DATA, half-closes (shutdown SHUT_WR), reads
until EOF and prints "echo <what came back>" instead (checks that the proxy relays the
half-close and the data still flowing the other way).

Exit status 0 whenever a reply (of any kind) was read; 1 on I/O errors/timeouts.
"""

import argparse
import ipaddress
import socket
import struct
import sys


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            return None
        buf += d
    return buf


def socks5(a, s):
    methods = [0] if not a.user else [2]
    s.sendall(bytes([5, len(methods)] + methods))
    r = recv_exact(s, 2)
    if r is None:
        return "closed"
    if r[1] == 0xFF:
        return "method 0xff"
    if r[1] == 2:
        u, p = a.user.encode(), a.password.encode()
        s.sendall(bytes([1, len(u)]) + u + bytes([len(p)]) + p)
        r = recv_exact(s, 2)
        if r is None:
            return "closed"
        if r[1] != 0:
            return f"auth-status 0x{r[1]:02x}"
    try:
        ip = ipaddress.ip_address(a.target)
        addr = (b"\x01" if ip.version == 4 else b"\x04") + ip.packed
    except ValueError:
        t = a.target.encode()
        addr = b"\x03" + bytes([len(t)]) + t
    s.sendall(b"\x05\x01\x00" + addr + struct.pack(">H", a.tport))
    r = recv_exact(s, 4)
    if r is None:
        return "closed"
    # consume BND.ADDR and BND.PORT so that what follows is tunnel data
    alen = {1: 4, 4: 16}.get(r[3])
    if alen is None and r[3] == 3:
        n = recv_exact(s, 1)
        alen = n[0] if n else 0
    if alen is not None:
        recv_exact(s, alen + 2)
    return f"reply 0x{r[1]:02x}"


def socks4(a, s):
    user = (a.user or "").encode()
    try:
        ip = ipaddress.IPv4Address(a.target).packed
        tail = b""
    except ValueError:
        ip = b"\x00\x00\x00\x01"
        tail = a.target.encode() + b"\x00"
    s.sendall(b"\x04\x01" + struct.pack(">H", a.tport) + ip + user + b"\x00" + tail)
    r = recv_exact(s, 8)
    if r is None:
        return "closed"
    return f"reply 0x{r[1]:02x}"


def http(a, s):
    hp = f"[{a.target}]:{a.tport}" if ":" in a.target else f"{a.target}:{a.tport}"
    s.sendall(f"CONNECT {hp} HTTP/1.1\r\nHost: {hp}\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:  # byte by byte: nothing after the header block is consumed
        d = s.recv(1)
        if not d:
            return "closed" if not buf else buf.split(b"\r\n", 1)[0].decode(errors="replace")
        buf += d
    return buf.split(b"\r\n", 1)[0].decode(errors="replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("proto", choices=["socks5", "socks4", "http"])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("target")
    ap.add_argument("tport", type=int)
    ap.add_argument("--user")
    ap.add_argument("--password", default="")
    ap.add_argument("--timeout", type=float, default=15)
    ap.add_argument("--echo")
    a = ap.parse_args()
    try:
        with socket.create_connection((a.host, a.port), timeout=a.timeout) as s:
            r = {"socks5": socks5, "socks4": socks4, "http": http}[a.proto](a, s)
            ok = r in ("reply 0x00", "reply 0x5a") or (
                r.startswith("HTTP/1.") and len(r.split()) > 1 and r.split()[1] == "200")
            if a.echo is not None and ok:
                s.sendall(a.echo.encode())
                s.shutdown(socket.SHUT_WR)
                got = b""
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    got += d
                r = "echo " + got.decode(errors="replace")
            print(r)
        return 0
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
