#!/usr/bin/env python3
"""Client side of tests/bench/redirect_vs_redsocks.sh: runs as the captured user, so that its
connections go through whichever redirector the rules send that user's traffic to.

  capture_client.py first-byte HOST PORT --runs N
      N connections to a banner server, one after the other: the time from connect() to the
      first byte received, in ms; prints "median=M min=A max=B" (after one warm-up).
  capture_client.py bulk HOST PORT --bytes N
      One connection to a source server that sends N bytes: prints "mib_s=R seconds=S".
  capture_client.py udp HOST PORT --runs N
      One UDP socket to an echo server: the first datagram's round trip (it opens the relay's
      association), then N more one after the other; prints "first=F median=M min=A max=B" (ms),
      and the datagrams per second of the N: "dgram_s=R". Every echo must carry what was sent.
"""

import argparse
import socket
import statistics
import sys
import time


def first_byte(host, port, runs):
    times = []
    for i in range(runs + 1):
        t0 = time.perf_counter()
        with socket.create_connection((host, port), timeout=30) as s:
            if not s.recv(1):
                sys.exit("the server closed before its first byte")
            if i > 0:  # the first is a warm-up
                times.append((time.perf_counter() - t0) * 1000)
    print(f"median={statistics.median(times):.2f} min={min(times):.2f} max={max(times):.2f}")


def bulk(host, port, size):
    buffer = bytearray(1 << 20)
    got = 0
    t0 = time.perf_counter()
    with socket.create_connection((host, port), timeout=60) as s:
        while got < size:
            n = s.recv_into(buffer)
            if n == 0:
                break
            got += n
    seconds = time.perf_counter() - t0
    if got != size:
        sys.exit(f"{got} bytes received, {size} expected")
    print(f"mib_s={size / seconds / (1 << 20):.1f} seconds={seconds:.3f}")


def udp_round_trips(host, port, runs):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(10)
        times = []
        t_all = time.perf_counter()
        for i in range(runs + 1):
            payload = b"round trip %d " % i + bytes(100)
            t0 = time.perf_counter()
            s.sendto(payload, (host, port))
            data, _ = s.recvfrom(2048)
            if data != payload:
                sys.exit(f"datagram {i}: another payload came back")
            times.append((time.perf_counter() - t0) * 1000)
            if i == 0:
                t_all = time.perf_counter()
        rate = runs / (time.perf_counter() - t_all)
    rest = times[1:]
    print(f"first={times[0]:.2f} median={statistics.median(rest):.3f} min={min(rest):.3f} "
          f"max={max(rest):.3f} dgram_s={rate:.0f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["first-byte", "bulk", "udp"])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--bytes", type=int, default=256 << 20)
    args = ap.parse_args()
    if args.mode == "first-byte":
        first_byte(args.host, args.port, args.runs)
    elif args.mode == "udp":
        udp_round_trips(args.host, args.port, args.runs)
    else:
        bulk(args.host, args.port, args.bytes)


if __name__ == "__main__":
    main()
