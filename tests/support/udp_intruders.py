#!/usr/bin/env python3
"""Scripted intruders against hopchain's UDP relays (loopback only; every wait bounded).

  udp_intruders.py hijack HOST PORT --target IP:PORT [--user U] [--declare-port]
                   [--intruder-prefix CMD]
      A SOCKS5 client of `hopchain socks` at HOST:PORT (RFC 1929 with --user, the password in
      $HC_TEST_PASSWORD) asks for UDP ASSOCIATE, naming DST.PORT 0 or, with --declare-port, the
      port of its UDP socket. Before it sends anything, an intruder (run through
      --intruder-prefix, e.g. setpriv to another uid) sends datagrams to the relay from its own
      socket: it must get nothing. Then the client's datagrams must be echoed, the intruder must
      still get nothing, and no intruder payload may ever reach the client.

  udp_intruders.py intrude RELAY_HOST RELAY_PORT --target IP:PORT [--wait S]
      The intruder: three datagrams (a SOCKS5 UDP header naming the target, then a payload) to
      the relay from a fresh socket; exit 0 when nothing comes back within S seconds.

  udp_intruders.py direct-forge HOST PORT --target IP:PORT
      A SOCKS5 client of `hopchain socks` with no hop: after one echoed datagram, a third party
      sends bare datagrams to every UDP socket of the hopchain process except the relay (so to
      the direct association's upstream socket, which listens on every interface): none may
      reach the client, and the next datagram must still be echoed.

  udp_intruders.py sources HOST PORT --spoofed N [--real-first]
      Against `hopchain udp` to an echo server: N sockets on 127.0.0.2.. (each its own source
      address and port) send one datagram each, then a real source must still be echoed. With
      --real-first the real source is echoed once before the flood as well.
"""

import ipaddress
import os
import socket
import struct
import subprocess
import sys

from check_cli import Checks
from udp_check import (decode_header, encode_header, expect_nothing, family_of, recv_exact,
                       read_reply_address, same_peer, udp_sockets_of)

INTRUDER_PAYLOAD = b"INTRUDER-DATAGRAM"


def split_target(text):
    host, port = text.rsplit(":", 1)
    return host.strip("[]"), int(port)


def socks_associate(host, port, user, dst, timeout):
    """(TCP connection, relay address) of a granted UDP ASSOCIATE naming `dst`."""
    conn = socket.create_connection((host, port), timeout=timeout)
    if user:
        conn.sendall(b"\x05\x01\x02")
        if recv_exact(conn, 2) != b"\x05\x02":
            raise OSError("the server did not pick username/password")
        pw = os.environ["HC_TEST_PASSWORD"].encode()
        conn.sendall(bytes([1, len(user)]) + user.encode() + bytes([len(pw)]) + pw)
        if recv_exact(conn, 2) != b"\x01\x00":
            raise OSError("authentication failed")
    else:
        conn.sendall(b"\x05\x01\x00")
        if recv_exact(conn, 2) != b"\x05\x00":
            raise OSError("method negotiation failed")
    ip = ipaddress.ip_address(dst[0])
    atyp = b"\x01" if ip.version == 4 else b"\x04"
    conn.sendall(b"\x05\x03\x00" + atyp + ip.packed + struct.pack(">H", dst[1]))
    head = recv_exact(conn, 3)
    relay = read_reply_address(conn)
    if head[1] != 0:
        raise OSError(f"UDP ASSOCIATE refused with REP {head[1]:#04x}")
    return conn, relay


def echo_through(u, relay, target, payload, wait=5.0):
    """Sends `payload` to `target` through the relay; None once it comes back, else an error."""
    u.settimeout(wait)
    u.sendto(encode_header(*target) + payload, relay)
    while True:
        try:
            data, src = u.recvfrom(70000)
        except socket.timeout:
            return f"no echo of {payload[:24]!r} within {wait}s"
        h = decode_header(data) if same_peer(src, relay) else None
        if h is None:
            return f"a datagram from {src} that is not a relay reply: {data[:40]!r}"
        if INTRUDER_PAYLOAD in h[2]:
            return "the intruder's datagram reached the client"
        if h[2] == payload:
            return None
        # an older echo (a retry's twin): keep reading


def run_intruder(a, relay):
    cmd = (a.intruder_prefix.split() if a.intruder_prefix else [sys.executable]) + [
        os.path.abspath(__file__), "intrude", relay[0], str(relay[1]), "--target", a.target]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    text = (out.stdout + out.stderr).strip()
    return None if out.returncode == 0 else f"intruder: {text} (exit {out.returncode})", text


def cmd_hijack(a):
    target = split_target(a.target)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    dst = ("127.0.0.1", u.getsockname()[1]) if a.declare_port else ("0.0.0.0", 0)
    conn, relay = socks_associate(a.host, a.port, a.user, dst, a.timeout)
    err, said = run_intruder(a, relay)  # first, before the client has sent anything
    if err:
        print("error:", err, file=sys.stderr)
        return 1
    print(f"intruder before the client: {said}")
    for i in range(a.count):
        err = echo_through(u, relay, target, b"client-%d" % i)
        if err:
            print(f"error: client datagram {i}: {err}", file=sys.stderr)
            return 1
    err, said = run_intruder(a, relay)  # and once the client's port is known
    if err:
        print("error:", err, file=sys.stderr)
        return 1
    err = expect_nothing(u, 0.3) or echo_through(u, relay, target, b"client-after")
    if err:
        print(f"error: after the second intruder: {err}", file=sys.stderr)
        return 1
    conn.close()
    print(f"ok: relay {relay[0]}:{relay[1]} (DST.PORT {dst[1]}): the intruder got nothing, twice; "
          f"{a.count + 1} client datagrams echoed")
    return 0


def cmd_intrude(a):
    relay = (a.host, a.port)
    s = socket.socket(family_of(a.host), socket.SOCK_DGRAM)
    for _ in range(3):
        s.sendto(encode_header(*split_target(a.target)) + INTRUDER_PAYLOAD, relay)
    err = expect_nothing(s, a.wait)
    if err:
        print(err)
        return 1
    print(f"uid {os.getuid()} from port {s.getsockname()[1]}: 3 datagrams, nothing back")
    return 0


def cmd_direct_forge(a):
    target = split_target(a.target)
    conn, relay = socks_associate(a.host, a.port, None, ("0.0.0.0", 0), a.timeout)
    u = socket.socket(family_of(relay[0]), socket.SOCK_DGRAM)
    err = echo_through(u, relay, target, b"probe-before")
    if err:
        print("error:", err, file=sys.stderr)
        return 1
    upstream = [s for s in udp_sockets_of(["hopchain"])["hopchain"] if s[1] != relay[1]]
    if not upstream:
        print("error: no UDP socket of hopchain besides the relay", file=sys.stderr)
        return 1
    third = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    third.bind(("127.0.0.1", 0))
    for addr, port in upstream:
        f = third if family_of(addr) == socket.AF_INET else socket.socket(socket.AF_INET6,
                                                                           socket.SOCK_DGRAM)
        for _ in range(3):
            f.sendto(INTRUDER_PAYLOAD, (addr, port))
    err = expect_nothing(u, 1.5) or echo_through(u, relay, target, b"probe-after")
    if err:
        print("error:", err, file=sys.stderr)
        return 1
    conn.close()
    print(f"ok: 3 forged datagrams to each of {len(upstream)} upstream socket(s) "
          f"{sorted(p for _, p in upstream)}: none reached the client; it still gets its echoes")
    return 0


def echo_probe(s, peer, payload, wait):
    s.settimeout(wait)
    s.sendto(payload, peer)
    while True:
        try:
            data, src = s.recvfrom(70000)
        except socket.timeout:
            return f"no echo of {payload!r} within {wait}s"
        if same_peer(src, peer) and data == payload:
            return None


def cmd_sources(a):
    peer = (a.host, a.port)
    real = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    real.bind(("127.0.0.1", 0))
    if a.real_first:
        err = echo_probe(real, peer, b"real-before", 10)
        if err:
            print("error:", err, file=sys.stderr)
            return 1
    spoofed = []
    for i in range(a.spoofed):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((f"127.0.0.{2 + i % 200}", 0))
        s.sendto(b"spoofed-%d" % i, peer)
        spoofed.append(s)
    # Queued behind every spoofed datagram, so hopchain has seen them all first.
    err = echo_probe(real, peer, b"real-after", 15)
    for s in spoofed:
        s.close()
    if err:
        print("error: the real source after the flood:", err, file=sys.stderr)
        return 1
    print(f"ok: {a.spoofed} spoofed sources, then the real one "
          f"{real.getsockname()[0]}:{real.getsockname()[1]} was still echoed")
    return 0


def main():
    checks = Checks()
    h = checks.command("hijack", cmd_hijack, timeout=60.0)
    h.add_argument("--target", required=True)
    h.add_argument("--user")
    h.add_argument("--declare-port", action="store_true")
    h.add_argument("--intruder-prefix", default="")
    h.add_argument("--count", type=int, default=10)
    i = checks.command("intrude", cmd_intrude)
    i.add_argument("--target", required=True)
    i.add_argument("--wait", type=float, default=1.5)
    d = checks.command("direct-forge", cmd_direct_forge, timeout=30.0)
    d.add_argument("--target", required=True)
    s = checks.command("sources", cmd_sources)
    s.add_argument("--spoofed", type=int, required=True)
    s.add_argument("--real-first", action="store_true")
    return checks.main()


if __name__ == "__main__":
    sys.exit(main())
