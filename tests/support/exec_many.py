#!/usr/bin/env python3
"""exec test client: N concurrent connections to an echo server, each byte-checked; with
--refused HOST:PORT, one connection there first must fail while the others go on.
Usage: exec_many.py HOST PORT COUNT [--refused HOST:PORT]. Exit 0 when every check passed."""
import os
import socket
import sys
import threading

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
refused = sys.argv[5] if len(sys.argv) > 5 and sys.argv[4] == "--refused" else None
errors = []


def one(index):
    payload = os.urandom(4096 + index)
    try:
        with socket.create_connection((host, port), timeout=30) as s:
            s.sendall(payload)
            got = b""
            while len(got) < len(payload):
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            if got != payload:
                errors.append(f"connection {index}: {len(got)} of {len(payload)} bytes back")
    except OSError as e:
        errors.append(f"connection {index}: {e}")


held = None
if refused:
    # One long-lived connection stays open across the failure of another.
    held = socket.create_connection((host, port), timeout=30)
    rhost, rport = refused.rsplit(":", 1)
    try:
        with socket.create_connection((rhost, int(rport)), timeout=30) as s:
            s.sendall(b"x")
            if s.recv(1):
                errors.append("the refused destination answered")
    except OSError as e:
        print(f"refused connection failed as expected: {e}")
threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
for t in threads:
    t.start()
for t in threads:
    t.join(60)
if held is not None:
    held.sendall(b"still-here")
    if held.recv(64) != b"still-here":
        errors.append("the held connection did not survive the other's failure")
for e in errors[:10]:
    print(e, file=sys.stderr)
print(f"{count - len(errors)}/{count} connections byte-checked")
sys.exit(1 if errors else 0)
