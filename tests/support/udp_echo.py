#!/usr/bin/env python3
"""UDP echo server for the hopchain integration lab.

  udp_echo.py --port PORT [--bind ADDR]

Sends every datagram back to its sender, unchanged. Runs until killed. Prints one line,
"listening on ADDR PORT", once it is bound.
"""

import argparse
import socket
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", default="127.0.0.1")
    args = ap.parse_args()
    family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    # A burst of thousands of datagrams must not overflow the default buffer.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((args.bind, args.port))
    print(f"listening on {args.bind} {args.port}", flush=True)
    while True:
        data, peer = s.recvfrom(65536)
        try:
            s.sendto(data, peer)
        except OSError as e:  # e.g. a datagram too large to send back: report, keep serving
            print(f"echo to {peer} failed: {e}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
