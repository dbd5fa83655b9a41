#!/usr/bin/env python3
"""Times one ssh connection's early milestones from ssh's own -v output.

    ssh_timing.py --runs N -- ssh -v ... HOST true

Starts the command N times; for each run, timestamps (from process start) the first stderr line
showing the server's banner ("Remote protocol version") and the server's KEXINIT
("SSH2_MSG_KEXINIT received"), then lets ssh finish (bounded by 30 s). Prints one line:
    result banner_median_ms=.. kexinit_median_ms=.. runs=N
The server's banner leaves on connect; its KEXINIT leaves only once the client's identification
string has arrived, so the second figure is the one optimistic data moves.
"""

import argparse
import statistics
import subprocess
import sys
import time

MARKS = {"banner": "Remote protocol version", "kexinit": "SSH2_MSG_KEXINIT received"}


def one_run(cmd):
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    seen = {}
    try:
        for line in proc.stderr:
            for name, text in MARKS.items():
                if name not in seen and text in line:
                    seen[name] = (time.monotonic() - start) * 1e3
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if len(seen) != len(MARKS) or proc.returncode != 0:
        sys.exit(f"ssh run failed (exit {proc.returncode}, saw {sorted(seen)})")
    return seen


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    runs = [one_run(cmd) for _ in range(args.runs)]
    fields = " ".join(f"{name}_median_ms={statistics.median(r[name] for r in runs):.1f}"
                      for name in MARKS)
    print(f"result {fields} runs={args.runs}")


if __name__ == "__main__":
    main()
