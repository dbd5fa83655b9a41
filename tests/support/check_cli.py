"""The command line shared by the lab's client checks (tcp_check.py, udp_check.py).

Each check is a sub-command taking HOST PORT; its function gets the parsed arguments and returns
the exit status, 0 when the check passed and 1 when it failed. A coroutine function runs under
one overall bound, its --timeout; a plain function bounds each of its own waits. An error the
check does not handle fails it (exit 1) with one line on stderr.
"""

import argparse
import asyncio
import sys


class Checks:
    def __init__(self):
        self.parser = argparse.ArgumentParser()
        self._sub = self.parser.add_subparsers(dest="cmd", required=True)
        self._functions = {}

    def command(self, name, function, timeout=None):
        """Adds sub-command NAME HOST PORT [--timeout S]; returns its parser for more options."""
        p = self._sub.add_parser(name)
        p.add_argument("host")
        p.add_argument("port", type=int)
        if timeout is not None:
            p.add_argument("--timeout", type=float, default=timeout)
        self._functions[name] = function
        return p

    def main(self):
        args = self.parser.parse_args()
        function = self._functions[args.cmd]
        if asyncio.iscoroutinefunction(function):
            return _run_bounded(function, args)
        try:
            return function(args)
        except (OSError, EOFError) as e:
            print(f"{args.cmd} check failed: {e!r}", file=sys.stderr)
            return 1


def _run_bounded(function, args):
    async def bounded():
        return await asyncio.wait_for(function(args), args.timeout)

    try:
        return asyncio.run(bounded())
    except asyncio.TimeoutError:
        print(f"{args.cmd} check timed out after {args.timeout} s", file=sys.stderr)
        return 1
    except (OSError, asyncio.IncompleteReadError) as e:
        print(f"{args.cmd} check failed: {e!r}", file=sys.stderr)
        return 1
