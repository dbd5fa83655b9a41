"""SOCKS5 GSS-API (RFC 1961) cases of hostile_server.py.

The client needs a real Kerberos ticket to send its first context token, so these cases run in a
lab with a KDC (kdc.sh). Cases that misbehave during context establishment answer the client's
first token themselves; the gss_mitm_* cases sit between the client and a real GSS-API SOCKS
server on loopback port U (`hopchain socks --gssapi-keytab`, protection integrity or
confidentiality), relay the whole negotiation unchanged, and tamper with the first per-message
(MTYP 3) frame the server sends, which carries the wrapped SOCKS reply:

  gss_ctx_ver               context reply with VER 2
  gss_ctx_mtyp              context reply with MTYP 2 (a protection level message)
  gss_ctx_abort             the abort message (VER 1 MTYP 0xFF, section 3.6), then close
  gss_ctx_empty             context reply with LEN 0
  gss_ctx_huge              context reply with LEN 65535 and 65535 bytes that are no token
  gss_ctx_trunc_K           first K bytes of a context reply announcing 16 bytes, then EOF
  gss_ctx_silent            method 1, then nothing after the client's token
  gss_mitm_flip_U           one bit of the first MTYP 3 token flipped
  gss_mitm_mtyp_U           the first MTYP 3 frame relabelled MTYP 1
  gss_mitm_trunc_U          half of the first MTYP 3 frame, then EOF
  gss_mitm_replay_U         the first MTYP 3 frame sent twice
"""

import socket
import struct
import threading

GSS_METHOD = 0x01
PER_MESSAGE = 0x03
ABORT = 0xFF


def read_context_message(p):
    """The client's greeting (method 1 must be offered), the method reply, its first token."""
    ver, n = p.recv_exact(2)
    methods = set(p.recv_exact(n))
    if ver != 5 or GSS_METHOD not in methods:
        raise ValueError(f"greeting VER {ver} without GSS-API (methods {sorted(methods)})")
    p.send(bytes([5, GSS_METHOD]))
    ver, mtyp, length = struct.unpack("!BBH", p.recv_exact(4))
    p.recv_exact(length)
    return ver, mtyp, length


def play_context(p, name, intarg):
    read_context_message(p)
    if name == "gss_ctx_ver":
        p.send(b"\x02\x01\x00\x04GSS!")
    elif name == "gss_ctx_mtyp":
        p.send(b"\x01\x02\x00\x04GSS!")
    elif name == "gss_ctx_abort":
        p.send(bytes([1, ABORT]))
        return
    elif name == "gss_ctx_empty":
        p.send(b"\x01\x01\x00\x00")
    elif name == "gss_ctx_huge":
        p.send(b"\x01\x01\xff\xff" + bytes(range(256)) * 255 + bytes(range(255)))
    elif name == "gss_ctx_trunc":
        p.send((b"\x01\x01\x00\x10" + b"x" * 16)[:intarg])
        return
    elif name != "gss_ctx_silent":
        raise ValueError(f"unknown GSS-API case {name!r}")
    p.drain()


def read_frame(sock):
    """One RFC 1961 message from `sock` as bytes (an abort has no LEN), or b"" at EOF."""
    head = _recv_exact(sock, 2)
    if not head or head[1] == ABORT:
        return head
    length = _recv_exact(sock, 2)
    (n,) = struct.unpack("!H", length)
    return head + length + _recv_exact(sock, n)


def _recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        d = sock.recv(n - len(buf))
        if not d:
            if buf:
                raise EOFError(f"EOF after {len(buf)} of {n} bytes")
            return b""
        buf.extend(d)
    return bytes(buf)


def tamper(name, frame):
    """What reaches the client instead of the first MTYP 3 frame, and whether to stop there."""
    if name == "gss_mitm_flip":
        return frame[:-1] + bytes([frame[-1] ^ 0x01]), False
    if name == "gss_mitm_mtyp":
        return frame[:1] + b"\x01" + frame[2:], False
    if name == "gss_mitm_trunc":
        return frame[: len(frame) // 2], True
    if name == "gss_mitm_replay":
        return frame + frame, False
    raise ValueError(f"unknown GSS-API case {name!r}")


def play_mitm(p, name, upstream_port, log):
    up = socket.create_connection(("127.0.0.1", upstream_port), timeout=10)
    up.settimeout(p.sock.gettimeout())
    threading.Thread(target=p.relay_to, args=(up,), daemon=True).start()
    try:
        p.send(_recv_exact(up, 2))  # the method reply
        while True:
            frame = read_frame(up)
            if not frame:
                break
            if frame[1] == PER_MESSAGE:
                sent, stop = tamper(name, frame)
                log(f"  tampered with a {len(frame)}-byte MTYP 3 frame ({name})")
                p.send(sent)
                if stop:  # a FIN now: a close would wait for the other thread's recv
                    p.sock.shutdown(socket.SHUT_RDWR)
                    return
                break
            p.send(frame)
        while True:  # the rest unchanged
            d = up.recv(65536)
            if not d:
                break
            p.send(d)
        p.sock.shutdown(socket.SHUT_WR)
    finally:
        up.close()


def play(p, name, intarg, log):
    """Plays case `name` (its numeric argument split off into `intarg`)."""
    if name.startswith("gss_mitm"):
        play_mitm(p, name, intarg, log)
    else:
        play_context(p, name, intarg)
