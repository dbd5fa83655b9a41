#!/usr/bin/env python3
"""An HTTP/1.1 origin server with persistent connections that counts its TCP connections.

Usage: http_origin.py --port PORT --log FILE

Each accepted connection appends "connection" to FILE; each request appends "METHOD PATH".
Paths: /text/NAME answers "body of NAME\\n" with a Content-Length; /chunked/NAME the same body
in three chunks (Transfer-Encoding: chunked) and a trailer; /close/NAME the same body with
"Connection: close" and no length (read until the close); POST echoes its body back. HEAD
answers the GET head without the body. Loopback only; idle connections time out after 20 s.
"""

import argparse
import http.server
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 20

    def setup(self):
        super().setup()
        self.server.note("connection")

    def log_message(self, *args):
        pass

    def answer(self, with_body):
        self.server.note(f"{self.command} {self.path}")
        kind, _, name = self.path.strip("/").partition("/")
        body = f"body of {name}\n".encode()
        if self.command == "POST":
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        if kind == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "X-Done")
            self.end_headers()
            if with_body:
                third = max(1, len(body) // 3)
                for piece in (body[:third], body[third:2 * third], body[2 * third:]):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\nX-Done: yes\r\n\r\n")
            return
        if kind == "close":
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self):
        self.answer(True)

    def do_POST(self):
        self.answer(True)

    def do_HEAD(self):
        self.answer(False)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, log):
        super().__init__(address, Handler)
        self.log = log
        self.lock = threading.Lock()

    def note(self, line):
        with self.lock, open(self.log, "a") as f:
            f.write(line + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    open(args.log, "a").close()
    Server(("127.0.0.1", args.port), args.log).serve_forever()


if __name__ == "__main__":
    main()
