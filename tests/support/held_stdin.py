#!/usr/bin/env python3
"""Run a command the way a user at a terminal would: type, then wait for the answer with the
input still open, and only then end the input. Every wait is for an event, bounded in time.

  held_stdin.py [--data STR] [--until STR | --until-exit] [--until-stderr ERE] [--write-after ERE]
                [--stderr-file F] [--timeout S] -- CMD...

STR (--data) is waiting on CMD's stdin before CMD starts; with --write-after it is written only
once a line of CMD's stderr matches ERE (bytes typed during the handshake). CMD's stdin then
stays open until its stdout holds the text --until, or (without --until) until its stdout ends;
a CMD that exits first ends the wait too. With --until-stderr (repeatable), lines of its stderr
must also have matched every ERE. Then stdin is closed and CMD must exit. With
--until-exit stdin is only closed once CMD has exited: a CMD that waits for its input to end
instead hangs, and is killed at the timeout.

CMD's stdout is passed through to ours; its stderr is inherited, or with --stderr-file written
there as it arrives. Exit status: CMD's (128 + N for signal N); 124 when the timeout (default 30 s)
ran out and CMD was killed, with the reason on stderr.
"""

import argparse
import os
import re
import subprocess
import sys
import threading
import time


class Watch:
    """Accumulates a stream and signals when a condition on what arrived becomes true."""

    def __init__(self):
        self.data = bytearray()
        self.ended = False
        self.cond = threading.Condition()

    def add(self, chunk):
        with self.cond:
            if chunk:
                self.data.extend(chunk)
            else:
                self.ended = True
            self.cond.notify_all()

    def wait_for(self, pred, deadline):
        with self.cond:
            while not pred(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.5))
            return True


def pump(src, watch, sink):
    while True:
        chunk = os.read(src.fileno(), 65536)
        if sink is not None and chunk:
            sink.write(chunk)
            sink.flush()
        watch.add(chunk)
        if not chunk:
            return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="")
    ap.add_argument("--until")
    ap.add_argument("--until-exit", action="store_true")
    ap.add_argument("--until-stderr", action="append", default=[])
    ap.add_argument("--write-after")
    ap.add_argument("--stderr-file")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        ap.error("missing command")
    if (a.write_after or a.until_stderr) and not a.stderr_file:
        ap.error("--write-after and --until-stderr need --stderr-file")
    deadline = time.monotonic() + a.timeout
    data = a.data.encode()

    stdin_r, stdin_w = os.pipe()
    if a.write_after is None and data:
        os.write(stdin_w, data)  # already waiting when CMD starts (a short line fits the pipe)
    err_sink = open(a.stderr_file, "wb") if a.stderr_file else None
    p = subprocess.Popen(cmd, stdin=stdin_r, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE if err_sink else None)
    os.close(stdin_r)
    out, err = Watch(), Watch()
    threads = [threading.Thread(target=pump, args=(p.stdout, out, sys.stdout.buffer), daemon=True)]
    if err_sink:
        threads.append(threading.Thread(target=pump, args=(p.stderr, err, err_sink), daemon=True))
    for t in threads:
        t.start()
    # CMD's exit ends every wait below, even if a grandchild keeps its pipes open.
    exited = Watch()
    threading.Thread(target=lambda: (p.wait(), exited.add(b""), out.add(b""), err.add(b"")),
                     daemon=True).start()

    def give_up(why):
        print(f"held_stdin: {why}; killing {cmd[0]}", file=sys.stderr)
        p.kill()
        p.wait()
        return 124

    if a.write_after is not None:
        ere = re.compile(a.write_after.encode())
        if not err.wait_for(lambda w: ere.search(w.data) or w.ended, deadline):
            return give_up(f"no stderr line matching {a.write_after!r} within {a.timeout}s")
        if ere.search(err.data):
            try:
                os.write(stdin_w, data)
            except BrokenPipeError:
                pass
    until = a.until.encode() if a.until is not None else None
    if a.until_exit:
        if not exited.wait_for(lambda w: w.ended, deadline):
            return give_up(f"still running after {a.timeout}s with its stdin open")
    elif not out.wait_for(lambda w: w.ended or (until is not None and until in w.data), deadline):
        return give_up(f"{'no ' + repr(a.until) if until else 'stdout still open'} after {a.timeout}s")
    for pattern in a.until_stderr:
        ere = re.compile(pattern.encode(), re.MULTILINE)
        if not err.wait_for(lambda w: w.ended or ere.search(w.data), deadline):
            return give_up(f"no stderr line matching {pattern!r} within {a.timeout}s")
    os.close(stdin_w)
    try:
        rc = p.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return give_up(f"no exit within {a.timeout}s (stdin closed)")
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    if err_sink:
        err_sink.close()
    return 128 - rc if rc < 0 else rc


if __name__ == "__main__":
    sys.exit(main())
