#!/usr/bin/env python3
"""TCP proxy that adds a fixed one-way delay in each direction (loopback latency benchmarks).

    delay_proxy.py --listen 127.0.0.1:PORT --target 127.0.0.1:PORT [--delay-ms 10]

Every chunk read from one side is written to the other side DELAY ms after it was read, in
order; EOF (half-close) travels with the same delay, so a link through this proxy has a round
trip of 2 x DELAY. The upstream connection is opened as soon as a client is accepted and is not
delayed: like the reference measurements in issue 4, a hop's TCP connect costs no link round
trip, only bytes do.

One asyncio loop, one timer per direction with a FIFO of (deadline, chunk), so chunks are never
reordered and the proxy sleeps exactly until the next deadline. asyncio's epoll timeout is
rounded up to whole milliseconds, so each traversal costs DELAY to DELAY + ~1 ms. Backpressure:
when the writing side's buffer is full, the reading side is paused.
"""

import argparse
import asyncio
import collections
import signal
import socket
import sys


class Direction:
    """Bytes from `src` (a Side) delivered to `dst` (a Side) after a fixed delay."""

    def __init__(self, loop, delay):
        self.loop = loop
        self.delay = delay
        self.queue = collections.deque()  # (deadline, bytes or None for EOF)
        self.timer = None
        self.dst = None  # Side, set when the destination transport exists
        self.done = False  # EOF delivered

    def push(self, data):
        self.queue.append((self.loop.time() + self.delay, data))
        self._arm()

    def _arm(self):
        if self.timer is None and self.queue and self.dst is not None and self.dst.transport:
            self.timer = self.loop.call_at(self.queue[0][0], self._flush)

    def _flush(self):
        self.timer = None
        dst = self.dst
        if dst is None or dst.transport is None or dst.transport.is_closing():
            self.queue.clear()
            return
        # deliver everything due (1 ms tolerance: the loop wakes with ms granularity)
        now = self.loop.time() + 0.0005
        while self.queue and self.queue[0][0] <= now:
            _, data = self.queue.popleft()
            if data is None:
                self.done = True
                if dst.transport.can_write_eof():
                    dst.transport.write_eof()
                dst.maybe_close()
            else:
                dst.transport.write(data)
        self._arm()

    def pending(self):
        return bool(self.queue)


class Side(asyncio.Protocol):
    def __init__(self, conn, name):
        self.conn = conn
        self.name = name
        self.transport = None
        self.eof_in = False
        self.lost = False

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn.side_ready(self)

    def data_received(self, data):
        self.conn.out_of(self).push(data)

    def eof_received(self):
        self.eof_in = True
        self.conn.out_of(self).push(None)
        self.maybe_close()
        return True  # keep the write side open (half-close)

    def connection_lost(self, exc):
        self.lost = True
        self.conn.side_lost(self, exc)

    # backpressure: our transport's write buffer is full -> stop reading the other side
    def pause_writing(self):
        other = self.conn.other(self)
        if other.transport and not other.transport.is_closing():
            other.transport.pause_reading()

    def resume_writing(self):
        other = self.conn.other(self)
        if other.transport and not other.transport.is_closing():
            other.transport.resume_reading()

    def maybe_close(self):
        self.conn.maybe_close()


class Conn:
    def __init__(self, loop, delay):
        self.client = Side(self, "client")
        self.upstream = Side(self, "upstream")
        self.up = Direction(loop, delay)    # client -> upstream
        self.down = Direction(loop, delay)  # upstream -> client
        self.up_ready = False

    def other(self, side):
        return self.upstream if side is self.client else self.client

    def out_of(self, side):
        return self.up if side is self.client else self.down

    def side_ready(self, side):
        if side is self.client:
            self.down.dst = self.client
            self.down._arm()
        else:
            self.up.dst = self.upstream
            self.up._arm()

    def side_lost(self, side, exc):
        # A reset (a server that closes with our bytes unread) still lets the replies it sent
        # before arrive: forward it as a delayed EOF, like a close, rather than dropping the queue.
        if not side.eof_in:
            # closed without a half-close first: forward it as EOF, then close
            side.eof_in = True
            self.out_of(side).push(None)
        self.maybe_close()

    def maybe_close(self):
        # close both once both directions have delivered their EOF
        if self.up.done and self.down.done:
            for s in (self.client, self.upstream):
                if s.transport and not s.transport.is_closing():
                    s.transport.close()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", required=True, help="HOST:PORT to listen on")
    ap.add_argument("--target", required=True, help="HOST:PORT to forward to")
    ap.add_argument("--delay-ms", type=float, default=10.0, help="one-way delay (default 10)")
    args = ap.parse_args()
    lhost, lport = args.listen.rsplit(":", 1)
    thost, tport = args.target.rsplit(":", 1)
    delay = args.delay_ms / 1000.0
    loop = asyncio.get_running_loop()

    def factory():
        conn = Conn(loop, delay)

        async def open_upstream():
            try:
                await loop.create_connection(lambda: conn.upstream, thost, int(tport))
            except OSError:
                if conn.client.transport:
                    conn.client.transport.abort()

        loop.create_task(open_upstream())
        return conn.client

    server = await loop.create_server(factory, lhost, int(lport), backlog=1024,
                                      reuse_address=True)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    print(f"delay proxy {args.listen} -> {args.target}, {args.delay_ms} ms each way", flush=True)
    async with server:
        await stop
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
