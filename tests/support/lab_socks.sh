# shellcheck shell=bash
# Helpers for testing `hopchain socks` (the local SOCKS server). Source after lab.sh and
# lab_init. Every command is bounded by a timeout; every process goes through lab_bg.
#
#   start_hopchain_socks NAME HOST PORT HOPCHAIN-ARGS...
#       runs `$HOPCHAIN HOPCHAIN-ARGS...` in the background (log $LAB/NAME.log) and waits until
#       it listens on HOST:PORT. Sets LAB_LAST_PID.
#   fetch_check DESC WANT-FILE CMD...
#       CMD (bounded) must exit 0 and print exactly the content of WANT-FILE on stdout.
#   curl_fetch DESC WANT-FILE CURL-ARGS...
#       fetch_check with `curl -sS --max-time 30 CURL-ARGS...`.
#   curl_fails DESC SUBSTR CURL-ARGS...
#       curl must fail (not hang) with SUBSTR in its stderr; sets CURL_ERR (the stderr file).
#   socks_raw HOST PORT SEND-HEX [EXPECT-HEX]
#       sends the bytes in one write, reads until the server closes (bounded), prints
#       "got <hex> eof|reset|timeout <seconds>"; with EXPECT-HEX (may be "") fails unless exactly
#       that came back and the server closed with a FIN.
#   socks_pipelined_echo DESC HOST PORT PREFIX-HEX REPLY-LEN
#       one write: PREFIX (greeting, auth, request) and a payload right behind it; expects
#       REPLY-LEN bytes of answers and then the payload echoed: the payload must not have been
#       eaten by the server's handshake.
#   silent_client_closed DESC HOST PORT MIN MAX [SEND-HEX]
#       connects, sends SEND-HEX (default nothing) and waits: the server must close between
#       MIN and MAX seconds later.
#   log_lacks FILE STRING   fail if STRING (case-sensitive) appears in FILE.
#   log_has FILE STRING     fail unless STRING (case-insensitive) appears in FILE.

start_hopchain_socks() { # NAME HOST PORT HOPCHAIN-ARGS...
  local name=$1 host=$2 port=$3
  shift 3
  lab_bg "$name" "$HOPCHAIN" "$@"
  _lab_wait_up "$name" "$LAB_LAST_PID" "$port" "$host"
}

fetch_check() { # DESC WANT-FILE CMD...
  local desc=$1 want=$2 rc=0 t0
  shift 2
  t0=$(date +%s.%N)
  timeout -k 5 40 "$@" >"$LAB/fetch.out" 2>"$LAB/fetch.err" </dev/null || rc=$?
  if ((rc != 0)); then
    cat "$LAB/fetch.err" >&2
    fail "$desc: exit $rc from: $*"
  fi
  if ! cmp -s "$want" "$LAB/fetch.out"; then
    cat "$LAB/fetch.err" >&2
    fail "$desc: got $(stat -c %s "$LAB/fetch.out") bytes, not the $(stat -c %s "$want") of $want"
  fi
  note "ok: $desc ($(stat -c %s "$want") bytes, $(_lab_secs_since "$t0")s)"
}

curl_fetch() { # DESC WANT-FILE CURL-ARGS...
  local desc=$1 want=$2
  shift 2
  fetch_check "$desc" "$want" curl -sS --max-time 30 "$@"
}

curl_fails() { # DESC SUBSTR CURL-ARGS...
  local desc=$1 want=$2 rc=0 t0
  shift 2
  CURL_ERR=$LAB/curl.err
  t0=$(date +%s.%N)
  timeout -k 5 40 curl -sS --max-time 30 -o /dev/null "$@" 2>"$CURL_ERR" || rc=$?
  ((rc != 0)) || fail "$desc: curl succeeded but should have failed"
  ((rc != 124 && rc != 137 && rc != 28)) || fail "$desc: curl timed out (exit $rc)"
  if ! grep -qF -- "$want" "$CURL_ERR"; then
    cat "$CURL_ERR" >&2
    fail "$desc: curl's error does not contain '$want'"
  fi
  note "ok: $desc -> curl exit $rc: $(tr '\n' ' ' <"$CURL_ERR" | head -c 200)"
}

socks_raw() { # HOST PORT SEND-HEX [EXPECT-HEX]
  local out
  out=$(timeout -k 2 15 python3 - "$1" "$2" "$3" <<'EOF'
import socket, sys, time
host, port, send = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
s = socket.create_connection((host, port), timeout=10)
s.sendall(send)
t0 = time.monotonic()
got = b""
closed = "no"
try:
    while True:
        d = s.recv(65536)
        if not d:
            closed = "eof"
            break
        got += d
except ConnectionResetError:
    closed = "reset"
except socket.timeout:
    closed = "timeout"
print(f"got {got.hex()} {closed} {time.monotonic() - t0:.2f}")
EOF
  ) || fail "socks_raw $*: the probe failed"
  echo "$out"
  if (($# >= 4)); then
    local want
    want=$(tr -d ' ' <<<"$4")
    [[ $out == "got $want eof "* ]] || fail "socks_raw: sent $3, expected '$want' then EOF, got: $out"
  fi
}

socks_pipelined_echo() { # DESC HOST PORT PREFIX-HEX REPLY-LEN
  local desc=$1 out
  out=$(timeout -k 2 20 python3 - "$2" "$3" "$4" "$5" <<'EOF'
import os, socket, sys
host, port, prefix, reply_len = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3]), int(sys.argv[4])
payload = os.urandom(4096)
s = socket.create_connection((host, port), timeout=10)
s.sendall(prefix + payload)          # one write: the server sees it all at once
want = reply_len + len(payload)
got = b""
while len(got) < want:
    d = s.recv(65536)
    if not d:
        break
    got += d
if len(got) != want or got[reply_len:] != payload:
    print(f"FAIL answers {got[:reply_len].hex()} then {len(got) - reply_len} of {len(payload)} payload bytes")
    sys.exit(1)
print(f"answers {got[:reply_len].hex()}, payload echoed")
EOF
  ) || fail "$desc: $out"
  note "ok: $desc: $out"
}

silent_client_closed() { # DESC HOST PORT MIN MAX [SEND-HEX]
  local desc=$1 out
  out=$(timeout -k 2 $(($5 + 10)) python3 - "$2" "$3" "$4" "$5" "${6:-}" <<'EOF'
import socket, sys, time
host, port, lo, hi, send = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), bytes.fromhex(sys.argv[5])
s = socket.create_connection((host, port), timeout=hi + 5)
if send:
    s.sendall(send)
t0 = time.monotonic()
try:
    d = s.recv(1)
except ConnectionResetError:
    d = b""
dt = time.monotonic() - t0
if d or not (lo <= dt <= hi):
    print(f"FAIL got {d!r} after {dt:.2f}s (expected a close between {lo} and {hi}s)")
    sys.exit(1)
print(f"closed after {dt:.2f}s")
EOF
  ) || fail "$desc: $out"
  note "ok: $desc: $out"
}

log_lacks() { # FILE STRING
  if grep -qF -- "$2" "$1"; then
    fail "$(basename "$1") contains '$2' (it must not)"
  fi
}

log_has() { # FILE STRING
  if ! grep -qiF -- "$2" "$1"; then
    echo "----- $(basename "$1") -----" >&2
    tail -n 30 "$1" >&2
    fail "$(basename "$1") does not contain '$2'"
  fi
}
