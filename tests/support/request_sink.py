#!/usr/bin/env python3
"""A target that reads a request and closes without answering, counting what it received.

Usage: request_sink.py --port PORT --count-file FILE [--marker BYTES] [--close-at-once]

Every connection is read until MARKER has arrived (or EOF, or 3 s of silence), then closed
without a byte sent back. Each connection that delivered MARKER appends the line "request" to
FILE before the close, so a client that saw the close can count copies at once. With
--close-at-once the connection is closed right after accept, before anything is read (the
line "closed" is appended instead). Loopback only.
"""

import argparse
import socket
import threading


def serve(conn, marker, count_file, lock, at_once):
    with conn:
        if at_once:
            with lock, open(count_file, "a") as f:
                f.write("closed\n")
            return
        conn.settimeout(3.0)
        got = b""
        try:
            while marker not in got:
                data = conn.recv(65536)
                if not data:
                    break
                got += data
        except OSError:
            pass
        if marker in got:
            with lock, open(count_file, "a") as f:
                f.write("request\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count-file", required=True)
    parser.add_argument("--marker", default="amount=1000")
    parser.add_argument("--close-at-once", action="store_true")
    args = parser.parse_args()
    open(args.count_file, "a").close()
    lock = threading.Lock()
    server = socket.create_server(("127.0.0.1", args.port))
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, daemon=True,
                         args=(conn, args.marker.encode(), args.count_file, lock,
                               args.close_at_once)).start()


if __name__ == "__main__":
    main()
