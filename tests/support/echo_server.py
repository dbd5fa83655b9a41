#!/usr/bin/env python3
"""TCP test servers for the hopchain integration lab (loopback only).

Modes:
  echo    echo every byte back; half-close aware: after the client's EOF, finish
          echoing what is buffered, then shut down the write side (FIN).
  banner  send BANNER immediately on accept (before reading anything), then echo.
          Used to check that bytes sent by the target right after the final proxy
          reply (glued to it in the same segment) are not lost.
  silent  accept, read and discard everything, never write; close on client EOF.
          Used as a "hop that never answers" for timeout tests.

Handles many concurrent connections (asyncio). Runs until killed.
"""

import argparse
import asyncio
import signal
import socket
import sys


async def handle(reader, writer, mode, banner):
    try:
        if mode == "banner":
            writer.write(banner)
            await writer.drain()
        while True:
            data = await reader.read(256 * 1024)
            if not data:
                break
            if mode != "silent":
                writer.write(data)
                await writer.drain()
        if mode != "silent" and writer.can_write_eof():
            writer.write_eof()
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
            await writer.wait_closed()
        except (ConnectionError, OSError):
            pass


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--mode", choices=["echo", "banner", "silent"], default="echo")
    ap.add_argument("--banner", default="HELLO-FROM-TARGET\n")
    args = ap.parse_args()

    banner = args.banner.encode()
    family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, args.mode, banner),
        host=args.bind,
        port=args.port,
        family=family,
        backlog=1024,
        reuse_address=True,
    )
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    print(f"{args.mode} server listening on {args.bind} port {args.port}", flush=True)
    async with server:
        await stop
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
