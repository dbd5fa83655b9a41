"""echo_once.py PORT: one connection to 127.0.0.1:PORT, 4 KiB of random bytes out, the same 4 KiB
back, within 20 s; exit 0 if they match. No half-close: microsocks and tinyproxy close both ways
on a client's FIN, so the socket stays open until the echo is back."""

import os
import socket
import sys

data = os.urandom(4096)
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(data)
got = b""
while len(got) < len(data):
    d = s.recv(65536)
    if not d:
        break
    got += d
sys.exit(0 if got == data else 1)
