#!/usr/bin/env python3
"""exec test client: opens COUNT connections to an echo server one after another (each echoed
once), writes READY, waits (at most 60 s) for the file GO, then echoes once more on each and
prints "alive=A dead=D": a connection whose hop was killed meanwhile ends, the others go on.
Usage: exec_hold.py HOST PORT COUNT READY GO. Exit 0 unless the first round failed."""
import os
import socket
import sys
import time

host, port, count, ready, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]


def echo(s, payload):
    s.sendall(payload)
    got = b""
    while len(got) < len(payload):
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    return got == payload


held = []
for i in range(count):
    s = socket.create_connection((host, port), timeout=20)
    if not echo(s, os.urandom(1024)):
        print(f"connection {i}: first echo failed", file=sys.stderr)
        sys.exit(1)
    held.append(s)
with open(ready, "w") as f:
    f.write("ready\n")
end = time.monotonic() + 60
while not os.path.exists(go) and time.monotonic() < end:
    time.sleep(0.05)
alive = dead = 0
for s in held:
    s.settimeout(10)
    try:
        ok = echo(s, os.urandom(1024))
    except OSError:
        ok = False
    alive, dead = (alive + 1, dead) if ok else (alive, dead + 1)
    s.close()
print(f"alive={alive} dead={dead}", flush=True)
