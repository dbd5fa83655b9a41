#!/usr/bin/env python3
"""Client-side UDP checks for the hopchain integration lab (a UDP echo server behind the relay).

  udp_check.py echo HOST PORT [--count N] [--clients C] [--min-size B] [--max-size B]
                [--rate R] [--window W] [--expire S] [--timeout S] [--bind-port P]
                [--max-loss K] [--progress-file F]
      C sockets (C local source ports) each send N datagrams: an 8-byte sequence number, a
      4-byte client id, random bytes. At most W wait for their echo at once, at most R are sent
      per second in all. Every echo must come from HOST:PORT to the socket that sent it, carry
      exactly the bytes sent under that sequence number, and come once. A datagram not echoed
      within S seconds (--expire) is lost; exit 0 when at most K were lost (default 0) and
      nothing else went wrong. --bind-port binds the first socket to that local port (to
      come back as the same source later). --progress-file keeps F holding the number of
      datagrams echoed so far (every 25), for a script to wait on.

  udp_check.py silent HOST PORT --size B [--wait S] [--bind-port P]
      Sends one datagram of B bytes and expects NO answer within S seconds (a datagram the
      relay must drop), then a small probe that must be echoed.

  udp_check.py spoof HOST PORT --target IP:PORT --forge NAME:MODE... [--except-port P]...
      Sends a probe through the relay (so the association exists), then forges datagrams to
      every UDP socket of each process NAME (found with `ss -uanp`) except the given ports:
      MODE `headers` = a SOCKS5 UDP header naming --target, then a payload (as if the relay
      had answered for the target); MODE `raw` = a bare payload (as if from the target).
      No forged payload may reach the client; a second probe must come back exactly.

  udp_check.py socks HOST PORT --target HOST:PORT... [--count N] [--expect-rep R]
      A SOCKS5 client of the server at HOST:PORT: UDP ASSOCIATE (DST 0.0.0.0:0), then N
      datagrams to each --target (an echo server; a name goes as ATYP 3) through the relay it
      names, each with its own payload. Every reply must come from that relay, carry a header
      naming the target (for a name: its port), and the payload sent. A datagram to the relay
      from another local socket must go nowhere. Then the TCP connection is closed, and
      within 10 s a datagram to the relay must get no answer. With --expect-rep the ASSOCIATE
      must be refused with that REP instead; with --expect-dropped the server must drop the
      datagrams (a target its rules refuse): nothing comes back.

Every wait is bounded (--timeout, default 60 s for the whole run).
"""

import ipaddress
import os
import random
import re
import selectors
import socket
import struct
import subprocess
import sys
import time

from check_cli import Checks


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def local_address(host):
    """Loopback for a loopback (or named) target; any address for one beyond loopback (a target
    in a test network namespace), which a loopback source could not reach."""
    try:
        beyond = not ipaddress.ip_address(host).is_loopback
    except ValueError:
        beyond = False
    if ":" in host:
        return "::" if beyond else "::1"
    return "0.0.0.0" if beyond else "127.0.0.1"


def new_socket(host, bind_port=0):
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((local_address(host), bind_port))
    return s


def same_peer(a, b):
    return ipaddress.ip_address(a[0]) == ipaddress.ip_address(b[0]) and a[1] == b[1]


def write_progress(path, received):
    """Replaces PATH with the count of datagrams echoed so far (a script waits on it)."""
    with open(path + ".tmp", "w") as f:
        f.write(f"{received}\n")
    os.replace(path + ".tmp", path)


def cmd_echo(a):
    a.min_size = max(a.min_size, 12)  # room for the sequence number and the client id
    a.max_size = max(a.max_size, a.min_size)
    peer = (a.host, a.port)
    socks = [new_socket(a.host, a.bind_port if i == 0 else 0) for i in range(a.clients)]
    sel = selectors.DefaultSelector()
    for i, s in enumerate(socks):
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, i)
    sent = [0] * a.clients
    outstanding = [dict() for _ in range(a.clients)]  # seq -> (payload, time sent)
    errors, lost = [], []
    received = total_bytes = 0
    interval = 1.0 / a.rate if a.rate > 0 else 0.0
    start = time.monotonic()
    deadline = start + a.timeout
    next_send = start
    rng = random.Random(os.getpid())

    def busy():
        return any(sent[i] < a.count or outstanding[i] for i in range(a.clients))

    while busy() and not errors:
        now = time.monotonic()
        if now > deadline:
            errors.append(f"timed out after {a.timeout}s")
            break
        # send, round robin over the clients, within the window and the rate
        progressed = True
        while progressed and now >= next_send:
            progressed = False
            for i, s in enumerate(socks):
                if sent[i] >= a.count or len(outstanding[i]) >= a.window or now < next_send:
                    continue
                seq = sent[i]
                size = rng.randint(a.min_size, a.max_size)
                payload = struct.pack(">QI", seq, i) + os.urandom(size - 12)
                try:
                    s.sendto(payload, peer)
                except BlockingIOError:
                    continue
                outstanding[i][seq] = (payload, now)
                sent[i] += 1
                total_bytes += size
                next_send = max(next_send + interval, now - 1.0) if interval else now
                progressed = True
        # expire
        for i in range(a.clients):
            for seq, (_, t) in list(outstanding[i].items()):
                if now - t > a.expire:
                    lost.append((i, seq))
                    del outstanding[i][seq]
        wait = 0.05
        if interval and now < next_send:
            wait = min(wait, next_send - now)
        for key, _ in sel.select(timeout=max(wait, 0)):
            i = key.data
            s = socks[i]
            while True:
                try:
                    data, src = s.recvfrom(70000)
                except BlockingIOError:
                    break
                if not same_peer(src, peer):
                    errors.append(f"client {i}: datagram from {src}, not from {peer}")
                    continue
                if len(data) < 12:
                    errors.append(f"client {i}: short datagram ({len(data)} bytes)")
                    continue
                seq, cid = struct.unpack(">QI", data[:12])
                if cid != i:
                    errors.append(f"client {i}: got client {cid}'s datagram {seq}")
                elif seq not in outstanding[i]:
                    errors.append(f"client {i}: unexpected or duplicate datagram {seq}")
                elif outstanding[i][seq][0] != data:
                    errors.append(f"client {i}: datagram {seq}: payload differs")
                else:
                    del outstanding[i][seq]
                    received += 1
                    if a.progress_file and received % 25 == 0:
                        write_progress(a.progress_file, received)
    secs = time.monotonic() - start
    total = a.count * a.clients
    print(f"{total} datagrams from {a.clients} source(s), {total_bytes} bytes, "
          f"{received} echoed intact, {len(lost)} lost, {secs:.2f}s "
          f"({received / secs if secs else 0:.0f}/s)")
    if lost:
        print(f"lost (client, seq), first 20: {sorted(lost)[:20]}")
    if len(lost) > a.max_loss:
        errors.append(f"{len(lost)} datagrams lost (at most {a.max_loss} allowed)")
    for e in errors[:20]:
        print("error:", e, file=sys.stderr)
    return 1 if errors else 0


def expect_probe(s, peer, payload, wait):
    s.settimeout(wait)
    s.sendto(payload, peer)
    try:
        data, src = s.recvfrom(70000)
    except socket.timeout:
        return f"probe {payload!r}: no echo within {wait}s"
    if not same_peer(src, peer) or data != payload:
        return f"probe {payload!r}: got {data[:40]!r} from {src}"
    return None


def expect_nothing(s, wait):
    s.settimeout(wait)
    try:
        data, src = s.recvfrom(70000)
    except socket.timeout:
        return None
    return f"got {len(data)} bytes from {src} ({data[:40]!r}); expected nothing"


def cmd_silent(a):
    peer = (a.host, a.port)
    s = new_socket(a.host, a.bind_port)
    s.sendto(os.urandom(a.size), peer)
    err = expect_nothing(s, a.wait) or expect_probe(s, peer, b"probe-after-silence", 10)
    if err:
        print("error:", err, file=sys.stderr)
        return 1
    print(f"ok: {a.size}-byte datagram got no answer in {a.wait}s; the next one was echoed")
    return 0


def udp_sockets_of(names):
    """{name: [(addr, port)]} for the UDP sockets of processes called NAME."""
    out = subprocess.run(["ss", "-Huanp"], capture_output=True, text=True, timeout=10).stdout
    found = {n: [] for n in names}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        m = re.search(r'users:\(\("([^"]+)"', line)
        if not m or m.group(1) not in found:
            continue
        local = fields[3]
        addr, port = local.rsplit(":", 1)
        addr = addr.strip("[]")
        if "%" in addr:
            addr = addr.split("%")[0]
        if addr in ("*", "0.0.0.0"):
            addr = "127.0.0.1"
        elif addr == "::":
            addr = "::1"
        found[m.group(1)].append((addr, int(port)))
    return found


def socks5_udp_header(ip, port):
    a = ipaddress.ip_address(ip)
    atyp = 1 if a.version == 4 else 4
    return bytes([0, 0, 0, atyp]) + a.packed + struct.pack(">H", port)


def cmd_spoof(a):
    peer = (a.host, a.port)
    s = new_socket(a.host)
    err = expect_probe(s, peer, b"probe-before-spoofing", 15)
    if err:
        print("error:", err, file=sys.stderr)
        return 1
    t_ip, t_port = a.target.rsplit(":", 1)
    t_ip = t_ip.strip("[]")
    modes = dict(f.split(":", 1) for f in a.forge)
    found = udp_sockets_of(list(modes))
    forged = 0
    for name, mode in modes.items():
        targets = [t for t in found[name] if t[1] not in a.except_port]
        if not targets:
            print(f"error: no UDP socket of a process named {name} to forge to", file=sys.stderr)
            return 1
        for addr, port in targets:
            payload = b"SPOOFED-" + name.encode()
            if mode == "headers":
                payload = socks5_udp_header(t_ip, int(t_port)) + payload
            f = socket.socket(family_of(addr), socket.SOCK_DGRAM)
            for _ in range(3):
                f.sendto(payload, (addr, port))
                forged += 1
            f.close()
            print(f"forged 3 datagrams ({mode}) to {name} at {addr}:{port}")
    err = expect_nothing(s, a.wait) or expect_probe(s, peer, b"probe-after-spoofing", 10)
    if err:
        print("error:", err, file=sys.stderr)
        return 1
    print(f"ok: {forged} forged datagrams, none delivered; the relay still echoes")
    return 0


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError(f"server closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def read_reply_address(conn):
    atyp = recv_exact(conn, 1)[0]
    if atyp == 1:
        raw = recv_exact(conn, 6)
        return str(ipaddress.ip_address(raw[:4])), struct.unpack(">H", raw[4:])[0]
    if atyp == 4:
        raw = recv_exact(conn, 18)
        return str(ipaddress.ip_address(raw[:16])), struct.unpack(">H", raw[16:])[0]
    n = recv_exact(conn, 1)[0]
    raw = recv_exact(conn, n + 2)
    return raw[:n].decode(), struct.unpack(">H", raw[n:])[0]


def encode_header(host, port):
    try:
        return socks5_udp_header(host, port)
    except ValueError:
        name = host.encode()
        return bytes([0, 0, 0, 3, len(name)]) + name + struct.pack(">H", port)


def decode_header(data):
    """(host, port, payload) of a datagram with one SOCKS5 UDP header, or None."""
    if len(data) < 4 or data[2] != 0:
        return None
    atyp = data[3]
    if atyp == 1 and len(data) >= 10:
        return str(ipaddress.ip_address(data[4:8])), struct.unpack(">H", data[8:10])[0], data[10:]
    if atyp == 4 and len(data) >= 22:
        return str(ipaddress.ip_address(data[4:20])), struct.unpack(">H", data[20:22])[0], data[22:]
    if atyp == 3 and len(data) >= 5 and len(data) >= 5 + data[4] + 2:
        n = data[4]
        return data[5:5 + n].decode(), struct.unpack(">H", data[5 + n:7 + n])[0], data[7 + n:]
    return None


def cmd_socks(a):
    conn = socket.create_connection((a.host, a.port), timeout=a.timeout)
    conn.sendall(b"\x05\x01\x00")
    if recv_exact(conn, 2) != b"\x05\x00":
        print("error: method negotiation failed", file=sys.stderr)
        return 1
    conn.sendall(b"\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00")
    head = recv_exact(conn, 3)
    relay = read_reply_address(conn)
    if a.expect_rep is not None:
        if head[1] != a.expect_rep:
            print(f"error: REP {head[1]:#04x}, expected {a.expect_rep:#04x}", file=sys.stderr)
            return 1
        print(f"ok: UDP ASSOCIATE refused with REP {head[1]:#04x}")
        return 0
    if head[1] != 0:
        print(f"error: UDP ASSOCIATE refused with REP {head[1]:#04x}", file=sys.stderr)
        return 1
    u = socket.socket(family_of(relay[0]), socket.SOCK_DGRAM)
    u.settimeout(5)
    if a.expect_dropped:
        for t in a.target:
            t_host, t_port = t.rsplit(":", 1)
            u.sendto(encode_header(t_host.strip("[]"), int(t_port)) + b"must-not-pass", relay)
        err = expect_nothing(u, 1.5)
        if err:
            print(f"error: a datagram to a refused target came back: {err}", file=sys.stderr)
            return 1
        print(f"ok: datagrams to {', '.join(a.target)} went nowhere")
        return 0
    total = 0
    for t in a.target:
        t_host, t_port = t.rsplit(":", 1)
        t_host, t_port = t_host.strip("[]"), int(t_port)
        for i in range(a.count):
            payload = os.urandom(random.randint(1, 1200))
            u.sendto(encode_header(t_host, t_port) + payload, relay)
            try:
                data, src = u.recvfrom(70000)
            except socket.timeout:
                print(f"error: {t}: datagram {i}: no reply within 5s", file=sys.stderr)
                return 1
            if not same_peer(src, relay):
                print(f"error: {t}: reply from {src}, not from the relay {relay}", file=sys.stderr)
                return 1
            h = decode_header(data)
            if h is None:
                print(f"error: {t}: reply without a valid header: {data[:30]!r}", file=sys.stderr)
                return 1
            o_host, o_port, got = h
            try:
                same = ipaddress.ip_address(o_host) == ipaddress.ip_address(t_host)
            except ValueError:
                same = True  # we sent a name; the origin is whatever address it resolved to
            if not same or o_port != t_port or got != payload:
                print(f"error: {t}: reply from origin {o_host}:{o_port} ({len(got)} bytes), "
                      f"sent {len(payload)} bytes", file=sys.stderr)
                return 1
            total += 1
    # Another source on the same machine: the relay serves the client that asked for it only.
    stranger = socket.socket(family_of(relay[0]), socket.SOCK_DGRAM)
    t_host, t_port = a.target[0].rsplit(":", 1)
    stranger.sendto(encode_header(t_host.strip("[]"), int(t_port)) + b"not-the-client", relay)
    err = expect_nothing(stranger, 1.0) or expect_nothing(u, 0.2)
    if err:
        print(f"error: a datagram from another source was relayed: {err}", file=sys.stderr)
        return 1
    conn.close()
    # The relay learns of the close when it reads the connection: probe until a datagram goes
    # unanswered, for at most 10 s (a relay that outlives its TCP connection fails).
    t_host, t_port = a.target[0].rsplit(":", 1)
    u.settimeout(1.5)
    end = time.monotonic() + 10
    while True:
        try:
            u.sendto(encode_header(t_host.strip("[]"), int(t_port)) + b"after-close", relay)
            data, src = u.recvfrom(70000)
        except (socket.timeout, ConnectionRefusedError):
            break
        if time.monotonic() > end:
            print(f"error: the relay still answers 10 s after the TCP connection closed: "
                  f"{data[:30]!r}", file=sys.stderr)
            return 1
    print(f"ok: {total} datagrams through relay {relay[0]}:{relay[1]} to {len(a.target)} "
          f"target(s); the association ended with the TCP connection")
    return 0


def main():
    checks = Checks()
    e = checks.command("echo", cmd_echo, timeout=60.0)
    e.add_argument("--count", type=int, default=100)
    e.add_argument("--clients", type=int, default=1)
    e.add_argument("--min-size", type=int, default=12)
    e.add_argument("--max-size", type=int, default=1200)
    e.add_argument("--rate", type=float, default=0.0, help="datagrams per second, 0 = no limit")
    e.add_argument("--window", type=int, default=32)
    e.add_argument("--expire", type=float, default=5.0)
    e.add_argument("--bind-port", type=int, default=0)
    e.add_argument("--max-loss", type=int, default=0)
    e.add_argument("--progress-file", help="kept up to date with the count echoed so far")
    si = checks.command("silent", cmd_silent)
    si.add_argument("--size", type=int, required=True)
    si.add_argument("--wait", type=float, default=2.0)
    si.add_argument("--bind-port", type=int, default=0)
    sp = checks.command("spoof", cmd_spoof)
    sp.add_argument("--target", required=True)
    sp.add_argument("--forge", action="append", required=True)
    sp.add_argument("--except-port", type=int, action="append", default=[])
    sp.add_argument("--wait", type=float, default=1.5)
    so = checks.command("socks", cmd_socks, timeout=30.0)
    so.add_argument("--target", action="append", required=True)
    so.add_argument("--count", type=int, default=20)
    so.add_argument("--expect-rep", type=lambda v: int(v, 0))
    so.add_argument("--expect-dropped", action="store_true")
    return checks.main()


if __name__ == "__main__":
    sys.exit(main())
