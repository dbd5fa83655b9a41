#!/usr/bin/env python3
"""Drive `hopchain ... stdio HOST ECHOPORT` without relying on half-close.

  stdio_driver.py [--size N] [--prefix STR] [--timeout S] [--stderr-file F] -- CMD...

Starts CMD with pipes, writes N random bytes to its stdin while reading its stdout, waits
until the same N bytes came back, and only then closes stdin. Then CMD must exit 0 within
the timeout, with nothing more on stdout. Needed for chains through proxies that do not
relay a half-close (microsocks, tinyproxy close both directions on the client's EOF, which
would cut the echo short with `hopchain < file`).

With --prefix, the target is expected to send STR first (banner server): the expected output
is STR followed by the echo.

With --stderr-file, CMD's stderr is also saved to F (for checks on what it printed).

Exit 0 on success; 1 with a message otherwise (CMD's stderr is shown).
"""

import argparse
import os
import subprocess
import sys
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=65536)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--prefix", default="")
    ap.add_argument("--stderr-file")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        ap.error("missing command")

    payload = os.urandom(a.size)
    expected = a.prefix.encode() + payload
    deadline = time.monotonic() + a.timeout
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    got = bytearray()
    done = threading.Event()
    errors = []

    def writer():
        try:
            p.stdin.write(payload)
            p.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            errors.append(f"writing stdin: {e}")

    def reader():
        while len(got) < len(expected):
            d = p.stdout.read1(262144)
            if not d:
                break
            got.extend(d)
        done.set()

    stderr_buf = []
    t_err = threading.Thread(target=lambda: stderr_buf.append(p.stderr.read()), daemon=True)
    t_w = threading.Thread(target=writer, daemon=True)
    t_r = threading.Thread(target=reader, daemon=True)
    for t in (t_err, t_w, t_r):
        t.start()

    def save_stderr():
        if a.stderr_file:
            with open(a.stderr_file, "wb") as f:
                f.write(stderr_buf[0] if stderr_buf else b"")

    def finish(msg):
        if p.poll() is None:
            p.kill()
        p.wait()
        t_err.join(2)
        save_stderr()
        err = stderr_buf[0].decode(errors="replace") if stderr_buf else ""
        print(f"stdio_driver: {msg}", file=sys.stderr)
        if err:
            print(f"--- command stderr ---\n{err}", file=sys.stderr)
        return 1

    if not done.wait(max(0.0, deadline - time.monotonic())):
        return finish(f"timed out: got {len(got)} of {len(expected)} expected bytes")
    if bytes(got) != expected:
        where = next((i for i in range(min(len(got), len(expected))) if got[i] != expected[i]),
                     min(len(got), len(expected)))
        return finish(f"output mismatch: expected {len(expected)} bytes, got {len(got)}, "
                      f"first difference at offset {where}"
                      + (" (EOF before the echo was complete)" if len(got) < len(expected) else ""))
    # everything echoed: now close stdin and expect a clean exit
    try:
        p.stdin.close()
    except OSError:
        pass
    rest_buf = []
    t_rest = threading.Thread(target=lambda: rest_buf.append(p.stdout.read()), daemon=True)
    t_rest.start()
    t_rest.join(max(0.1, deadline - time.monotonic()))
    if t_rest.is_alive():
        return finish("stdout not closed after stdin was closed (command did not finish)")
    rest = rest_buf[0] if rest_buf else b""
    try:
        rc = p.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return finish("command did not exit after stdin was closed")
    t_err.join(2)
    save_stderr()
    if rest:
        return finish(f"{len(rest)} unexpected extra bytes on stdout after the echo")
    if rc != 0:
        return finish(f"command exited {rc}")
    if errors:
        return finish("; ".join(errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
