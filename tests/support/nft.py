#!/usr/bin/env python3
"""Runs nftables commands through libnftables (the library the `nft` tool wraps), for test
machines that have the library but not the tool.

  nft.py -f FILE      the commands of FILE
  nft.py COMMAND...   one command, e.g. `nft.py list ruleset`

Prints the output; exits 1 with nftables' error text when a command fails.
"""

import ctypes
import sys


def main():
    lib = ctypes.CDLL("libnftables.so.1")
    lib.nft_ctx_new.restype = ctypes.c_void_p
    lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
    for name in ("nft_ctx_buffer_output", "nft_ctx_buffer_error"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.nft_run_cmd_from_filename.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    for name in ("nft_ctx_get_output_buffer", "nft_ctx_get_error_buffer"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
        getattr(lib, name).restype = ctypes.c_char_p
    ctx = lib.nft_ctx_new(0)
    lib.nft_ctx_buffer_output(ctx)
    lib.nft_ctx_buffer_error(ctx)
    if len(sys.argv) == 3 and sys.argv[1] == "-f":
        rc = lib.nft_run_cmd_from_filename(ctx, sys.argv[2].encode())
    else:
        rc = lib.nft_run_cmd_from_buffer(ctx, " ".join(sys.argv[1:]).encode())
    sys.stdout.write((lib.nft_ctx_get_output_buffer(ctx) or b"").decode())
    sys.stderr.write((lib.nft_ctx_get_error_buffer(ctx) or b"").decode())
    sys.exit(1 if rc != 0 else 0)


if __name__ == "__main__":
    main()
