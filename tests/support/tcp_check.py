#!/usr/bin/env python3
"""Client-side checks for the hopchain integration lab.

  tcp_check.py echo HOST PORT [--count N] [--min-size B] [--max-size B] [--timeout S]
      Opens N connections at once (all connected before any is finished), each
      sends its own random payload, half-closes, reads until EOF and compares
      the echo. Exit 0 when every connection got its own bytes back.

  tcp_check.py closed HOST PORT [--timeout S]
      Connects (the connect itself must succeed: a listener is expected), sends
      a few bytes and expects the peer to close (EOF or reset) without echoing
      anything, within the timeout. Exit 0 when that happens.

  tcp_check.py banner HOST PORT BANNER [--timeout S]
      Connects, expects BANNER first, then checks an echo round trip.

Every wait is bounded by --timeout (default 60 s for the whole run).
"""

import asyncio
import os
import random
import sys

from check_cli import Checks


async def one_echo(host, port, size, idx, results, started, go):
    payload = os.urandom(size)
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as e:
        results[idx] = f"conn {idx}: connect failed: {e}"
        started.release()
        return
    started.release()
    await go.wait()  # every connection is open before any payload is sent

    async def send():
        writer.write(payload)
        await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()

    async def recv():
        chunks = []
        while True:
            d = await reader.read(256 * 1024)
            if not d:
                break
            chunks.append(d)
        return b"".join(chunks)

    try:
        _, got = await asyncio.gather(send(), recv())
    except OSError as e:
        results[idx] = f"conn {idx}: I/O error: {e}"
        writer.close()
        return
    writer.close()
    if got != payload:
        # find first mismatch for the message
        n = min(len(got), len(payload))
        first = next((i for i in range(n) if got[i] != payload[i]), n)
        results[idx] = (f"conn {idx}: echo mismatch: sent {len(payload)} bytes, "
                        f"got {len(got)}, first difference at offset {first}")
    else:
        results[idx] = None


async def cmd_echo(args):
    sizes = [random.randint(args.min_size, args.max_size) for _ in range(args.count)]
    results = [f"conn {i}: did not finish" for i in range(args.count)]
    started = asyncio.Semaphore(0)
    go = asyncio.Event()
    tasks = [asyncio.create_task(one_echo(args.host, args.port, sizes[i], i, results, started, go))
             for i in range(args.count)]
    for _ in range(args.count):
        await started.acquire()
    go.set()
    await asyncio.gather(*tasks)
    bad = [r for r in results if r]
    for r in bad[:20]:
        print(r, file=sys.stderr)
    ok = args.count - len(bad)
    print(f"{ok}/{args.count} connections echoed correctly "
          f"({sum(sizes)} bytes total)")
    return 0 if not bad else 1


async def cmd_closed(args):
    try:
        reader, writer = await asyncio.open_connection(args.host, args.port)
    except OSError as e:
        print(f"connect to {args.host}:{args.port} failed: {e} (expected a listener)", file=sys.stderr)
        return 1
    try:
        writer.write(b"probe-should-not-echo\n")
        await writer.drain()
    except OSError:
        pass  # already reset: fine
    try:
        d = await reader.read(65536)
    except OSError:
        d = b""  # reset counts as closed
    writer.close()
    if d:
        print(f"expected the connection to be closed, got {len(d)} bytes: {d[:80]!r}", file=sys.stderr)
        return 1
    print("connection closed by peer, as expected")
    return 0


async def cmd_banner(args):
    reader, writer = await asyncio.open_connection(args.host, args.port)
    want = args.banner.encode()
    got = await reader.readexactly(len(want))
    if got != want:
        print(f"banner mismatch: want {want!r}, got {got!r}", file=sys.stderr)
        return 1
    probe = b"after-banner-echo\n"
    writer.write(probe)
    await writer.drain()
    writer.write_eof()
    rest = await reader.read(-1)
    writer.close()
    if rest != probe:
        print(f"echo after banner mismatch: got {rest!r}", file=sys.stderr)
        return 1
    print("banner and echo ok")
    return 0


def main():
    checks = Checks()
    e = checks.command("echo", cmd_echo, timeout=60)
    e.add_argument("--count", type=int, default=1)
    e.add_argument("--min-size", type=int, default=1)
    e.add_argument("--max-size", type=int, default=65536)
    checks.command("closed", cmd_closed, timeout=20)
    b = checks.command("banner", cmd_banner, timeout=20)
    b.add_argument("banner")
    return checks.main()


if __name__ == "__main__":
    sys.exit(main())
