#!/usr/bin/env bash
# Proves the pre-authentication limits of `hopchain socks --users`, with hopchain under
# `ulimit -n 64` (soft and hard): 120 idle unauthenticated connections from one source
# (127.0.0.2) are capped at 16 in handshake, the rest closed at accept with one log line, and a
# real client from another source (127.0.0.1) logs in and echoes within 1 s; 120 more from
# 127.0.0.4 fill the total (24 under this limit): the busiest source's oldest handshakes make
# room, so the real client is still served within 1 s; a password guesser
# (127.0.0.3) is answered for its first 5 wrong passwords, then closed at accept (no answer) with
# one cooldown line, while the real client is still served.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
# shellcheck source=SCRIPTDIR/../support/lab_socks.sh
source "$HC_SUPPORT/lab_socks.sh"
lab_init
require_hopchain
lab_require python3

E=$(free_port)
start_echo "$E" 127.0.0.1
printf '%s:%s\n' "$LAB_USER" "$LAB_PASS" >"$LAB/users"
chmod 600 "$LAB/users"
P=$(free_port)
lab_bg hc-limits bash -c 'ulimit -n 64 && exec "$@"' limit \
  "$HOPCHAIN" --direct -v socks --users "$LAB/users" "127.0.0.1:$P"
HC_PID=$LAB_LAST_PID
wait_port "$P" 127.0.0.1 || fail "hopchain did not listen on $P"
LOG=$LAB/hc-limits.log
grep -q '^Max open files *64 *64 ' "/proc/$HC_PID/limits" || fail "hopchain does not run under ulimit -n 64"
log_has "$LOG" "at most 24 connections in handshake (16 per source)"

# client.py: `real SECONDS` logs in from 127.0.0.1 and echoes, failing if that takes longer;
# `idle SOURCE COUNT RELEASE` holds COUNT unauthenticated connections from SOURCE until RELEASE
# exists (at most 60 s); `guess COUNT` tries COUNT wrong passwords from 127.0.0.3, one
# connection each, and prints how many were answered and how many closed unanswered.
cat >"$LAB/client.py" <<'PY'
import os, socket, sys, time
port, echo, user, password = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode(), sys.argv[4].encode()
mode = sys.argv[5]

def connect(source):
    s = socket.socket()
    s.settimeout(10)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s

def recv_exact(s, n):
    got = b""
    while len(got) < n:
        d = s.recv(n - len(got))
        if not d:
            break
        got += d
    return got

def login(s, pw):
    s.sendall(b"\x05\x01\x02" + b"\x01" + bytes([len(user)]) + user + bytes([len(pw)]) + pw)
    return recv_exact(s, 4)  # method reply, then the RFC 1929 status

if mode == "real":
    t0 = time.monotonic()
    s = connect("127.0.0.1")
    assert login(s, password) == b"\x05\x02\x01\x00", "login refused"
    s.sendall(b"\x05\x01\x00\x01\x7f\x00\x00\x01" + echo.to_bytes(2, "big"))
    reply = recv_exact(s, 10)
    assert reply[:2] == b"\x05\x00", f"CONNECT refused: {reply.hex()}"
    s.sendall(b"ping")
    assert recv_exact(s, 4) == b"ping", "no echo"
    took = time.monotonic() - t0
    print(f"served in {took:.3f}s")
    sys.exit(0 if took <= float(sys.argv[6]) else 1)
elif mode == "idle":
    source, count, release = sys.argv[6], int(sys.argv[7]), sys.argv[8]
    held = [connect(source) for _ in range(count)]
    print(f"holding {len(held)}", flush=True)
    end = time.monotonic() + 60
    while not os.path.exists(release) and time.monotonic() < end:
        time.sleep(0.05)
elif mode == "guess":
    answered = unanswered = 0
    for i in range(int(sys.argv[6])):
        s = connect("127.0.0.3")
        try:
            got = login(s, b"wrong-%d" % i)
        except (ConnectionResetError, BrokenPipeError):
            got = b""
        if got == b"\x05\x02\x01\x01":
            answered += 1
        elif got == b"":
            unanswered += 1
        else:
            print(f"unexpected answer {got.hex()}")
            sys.exit(1)
        s.close()
    print(f"answered {answered} unanswered {unanswered}")
PY
client() { timeout -k 2 70 python3 "$LAB/client.py" "$P" "$E" "$LAB_USER" "$LAB_PASS" "$@"; }

out=$(client real 1) || fail "the real client before the flood: $out"
note "ok: before the flood, a real client is $out"

# --- 120 idle unauthenticated connections from 127.0.0.2 --------------------------------------
idle_flood() { # SOURCE: 120 idle connections from SOURCE, until $LAB/release
  lab_bg "idle-$1" timeout -k 2 70 python3 "$LAB/client.py" "$P" "$E" "$LAB_USER" "$LAB_PASS" \
    idle "$1" 120 "$LAB/release"
  wait_until 20 grep -qs "holding 120" "$LAB/idle-$1.log" || true
  grep -q "holding 120" "$LAB/idle-$1.log" || fail "the idle connections from $1 could not all connect"
}
idle_flood 127.0.0.2
wait_until 10 grep -q "127.0.0.2: 16 connections already in handshake" "$LOG" || true
log_has "$LOG" "127.0.0.2: 16 connections already in handshake (the limit per source); closing its new ones"
lines=$(grep -c "127.0.0.2: .* already in handshake" "$LOG" || true)
((lines == 1)) || fail "the per-source limit was logged $lines times (want once per 10 s)"
note "ok: $(grep -m1 "already in handshake" "$LOG" | cut -c1-150)"
out=$(client real 1) || fail "a real client during the flood was not served within 1 s: $out"
note "ok: during the flood (hopchain under ulimit -n 64), a real client from 127.0.0.1 is $out"
held=$(find "/proc/$HC_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
((held < 40)) || fail "hopchain holds $held descriptors during the flood (the cap is 16 per source)"
note "ok: hopchain holds $held descriptors during the flood"

idle_flood 127.0.0.4
wait_until 10 grep -q "connections in handshake (the limit for all sources" "$LOG" || true
log_has "$LOG" "24 connections in handshake (the limit for all sources, from the descriptor limit); closing the oldest of 127.0.0.2"
note "ok: $(grep -m1 "the limit for all sources" "$LOG" | cut -c1-170)"
out=$(client real 1) || fail "a real client with the total full was not served within 1 s: $out"
note "ok: with 24 idle handshakes from 2 sources, a real client from 127.0.0.1 is $out"
held=$(find "/proc/$HC_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
((held < 48)) || fail "hopchain holds $held descriptors during the 2-source flood (the total cap is 24)"
touch "$LAB/release"

# --- a password guesser from 127.0.0.3 --------------------------------------------------------
out=$(client guess 40) || fail "the guesser: $out"
[[ $out == "answered 5 unanswered 35" ]] || fail "the guesser got: $out (want 5 answered, then closed)"
note "ok: 40 guesses from 127.0.0.3: $out"
log_has "$LOG" "127.0.0.3: 5 authentication failures within 60 s; closing its connections for 60 s"
lines=$(grep -c "127.0.0.3: .* authentication failures" "$LOG" || true)
((lines == 1)) || fail "the cooldown was logged $lines times (want once)"
log_lacks "$LOG" "wrong-"
out=$(client real 1) || fail "the real client after the guesser: $out"
note "ok: the real client from 127.0.0.1 is still $out"
kill -0 "$HC_PID" 2>/dev/null || fail "hopchain died"
