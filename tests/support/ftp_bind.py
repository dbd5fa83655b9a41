#!/usr/bin/env python3
"""Active-FTP-shaped exchange through a SOCKS proxy's BIND, for the integration tests.

  ftp_bind.py server PORT
      A "control server" on 127.0.0.1:PORT for one client: reads "PORT HOST:PORT" on the
      control connection, connects there (as an FTP server opens an active data connection),
      sends 1 MiB and reads 1 MiB on that data connection, then answers on the control
      connection with "DONE <sha256 of what it got> <sha256 of what it sent>".
  ftp_bind.py client PROXY_PORT CONTROL_PORT [--socks4] [--expect HOST]
      Through the SOCKS5 (or SOCKS4) proxy on 127.0.0.1:PROXY_PORT: CONNECT to the control
      server, BIND (DST = --expect, default 127.0.0.1, port 0), tell the control server the
      address of the first reply, wait for the second reply, then 1 MiB each way on the data
      connection, byte-checked by the digests. Prints "bound HOST:PORT", "peer HOST:PORT", "ok".
      A refused BIND prints "bind reply 0xNN" (first or second reply) and exits 3.

Every socket operation has a timeout (30 s); exit 1 on any mismatch or I/O error.
"""

import hashlib
import ipaddress
import os
import socket
import struct
import sys
import threading

SIZE = 1 << 20
TIMEOUT = 30


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            raise EOFError(f"closed after {len(buf)} of {n} bytes")
        buf += d
    return buf


def recv_line(s):
    line = b""
    while not line.endswith(b"\n"):
        d = s.recv(1)
        if not d:
            raise EOFError("control connection closed")
        line += d
    return line.decode().strip()


def exchange(s, payload):
    """Sends `payload` from a thread while reading as many bytes: neither side can stall."""
    sender = threading.Thread(target=s.sendall, args=(payload,), daemon=True)
    sender.start()
    got = recv_exact(s, len(payload))
    sender.join(TIMEOUT)
    return got


def server(port):
    lsock = socket.create_server(("127.0.0.1", port))
    lsock.settimeout(TIMEOUT)
    control, _ = lsock.accept()
    control.settimeout(TIMEOUT)
    words = recv_line(control).split()
    host, _, dport = words[1].rpartition(":")
    data = socket.create_connection((host.strip("[]"), int(dport)), timeout=TIMEOUT)
    payload = os.urandom(SIZE)
    got = exchange(data, payload)
    data.close()
    digest = hashlib.sha256
    control.sendall(f"DONE {digest(got).hexdigest()} {digest(payload).hexdigest()}\n".encode())
    control.close()


def address_bytes(host):
    ip = ipaddress.ip_address(host)
    return (b"\x01" if ip.version == 4 else b"\x04") + ip.packed


def socks5_request(s, cmd, host, port):
    """Greeting (no auth) and a request; returns the reply's (REP, "HOST:PORT")."""
    s.sendall(b"\x05\x01\x00")
    if recv_exact(s, 2) != b"\x05\x00":
        raise ValueError("method negotiation failed")
    s.sendall(bytes([5, cmd, 0]) + address_bytes(host) + struct.pack(">H", port))
    return socks5_reply(s)


def socks5_reply(s):
    ver, rep, _, atyp = recv_exact(s, 4)
    if atyp == 1:
        host = str(ipaddress.ip_address(recv_exact(s, 4)))
    elif atyp == 4:
        host = "[" + str(ipaddress.ip_address(recv_exact(s, 16))) + "]"
    elif atyp == 3:
        host = recv_exact(s, recv_exact(s, 1)[0]).decode()
    else:
        raise ValueError(f"reply ATYP {atyp}")
    (port,) = struct.unpack(">H", recv_exact(s, 2))
    return rep, f"{host}:{port}"


def socks4_request(s, cd, host, port):
    s.sendall(bytes([4, cd]) + struct.pack(">H", port) + ipaddress.ip_address(host).packed + b"\0")
    return socks4_reply(s)


def socks4_reply(s):
    reply = recv_exact(s, 8)
    rep = 0 if reply[1] == 0x5A else reply[1]
    return rep, f"{ipaddress.ip_address(reply[4:8])}:{struct.unpack('>H', reply[2:4])[0]}"


def client(proxy_port, control_port, socks4, expect):
    request = socks4_request if socks4 else socks5_request
    second = socks4_reply if socks4 else socks5_reply
    connect, bind = (1, 2)
    control = socket.create_connection(("127.0.0.1", proxy_port), timeout=TIMEOUT)
    rep, _ = request(control, connect, "127.0.0.1", control_port)
    if rep != 0:
        sys.exit(f"CONNECT to the control server refused: 0x{rep:02x}")
    data = socket.create_connection(("127.0.0.1", proxy_port), timeout=TIMEOUT)
    rep, bound = request(data, bind, expect, 0)
    if rep != 0:
        print(f"bind reply 0x{rep:02x}", flush=True)
        sys.exit(3)
    print(f"bound {bound}", flush=True)
    control.sendall(f"PORT {bound}\n".encode())
    rep, peer = second(data)
    if rep != 0:
        print(f"bind reply 0x{rep:02x}", flush=True)
        sys.exit(3)
    print(f"peer {peer}", flush=True)
    payload = os.urandom(SIZE)
    got = exchange(data, payload)
    words = recv_line(control).split()
    digest = hashlib.sha256
    if words != ["DONE", digest(payload).hexdigest(), digest(got).hexdigest()]:
        sys.exit(f"data mismatch: {words}")
    data.close()
    print("ok", flush=True)


def main():
    args = sys.argv[1:]
    if args[0] == "server":
        server(int(args[1]))
    else:
        expect = args[args.index("--expect") + 1] if "--expect" in args else "127.0.0.1"
        client(int(args[1]), int(args[2]), "--socks4" in args, expect)


if __name__ == "__main__":
    main()
