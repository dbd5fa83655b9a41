#!/usr/bin/env python3
"""Print a TCP port that is free on 127.0.0.1 (and on ::1 when IPv6 is available).

Ports come from 20000-32000, below Linux's default ephemeral range (32768-60999), so an
outgoing connection made by a test cannot grab a port between this check and the server's
bind. Ports listed (one per line) in the optional EXCLUDE_FILE are never returned; the
chosen port is appended to it, so one lab never hands out the same port twice.
Also checks UDP on 127.0.0.1 and ::1 (dnsmasq listens on TCP and UDP).
"""

import random
import socket
import sys


def bindable(family, kind, addr, port):
    try:
        s = socket.socket(family, kind)
    except OSError:
        return family == socket.AF_INET6  # no IPv6 at all: do not block the port on it
    try:
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, port))
        return True
    except OSError as e:
        # EADDRNOTAVAIL on ::1 means no IPv6 loopback: not a conflict
        return family == socket.AF_INET6 and e.errno == 99
    finally:
        s.close()


def main():
    exclude_file = sys.argv[1] if len(sys.argv) > 1 else None
    used = set()
    if exclude_file:
        try:
            with open(exclude_file) as f:
                used = {int(x) for x in f.read().split() if x.isdigit()}
        except FileNotFoundError:
            pass
    rng = random.SystemRandom()
    for _ in range(500):
        port = rng.randrange(20000, 32000)
        if port in used:
            continue
        if (bindable(socket.AF_INET, socket.SOCK_STREAM, "127.0.0.1", port)
                and bindable(socket.AF_INET6, socket.SOCK_STREAM, "::1", port)
                and bindable(socket.AF_INET, socket.SOCK_DGRAM, "127.0.0.1", port)
                and bindable(socket.AF_INET6, socket.SOCK_DGRAM, "::1", port)):
            if exclude_file:
                with open(exclude_file, "a") as f:
                    f.write(f"{port}\n")
            print(port)
            return 0
    print("free_port: no free port found in 500 attempts", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
