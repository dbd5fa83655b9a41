#!/usr/bin/env bash
# A target that reads a request and closes without answering, through a dynamic or round-robin
# chain of two or three danted hops: it gets the request exactly once (stdio, pipelined or not),
# since hopchain cannot tell that end from a hop's failure and never sends the user's bytes
# twice; only a last hop marked grants-early=1 has them sent again (the documented trade-off).
# And a target that closes early, with or without a request read, marks no hop dead: the next
# client's tunnel still leaves through the intended exit hop (hop 2/2), in socks mode.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
lab_init
require_hopchain
lab_require python3

export XDG_CACHE_HOME=$LAB/cache
M1=$(free_port); start_danted dante-m1 "$M1"
M2=$(free_port); start_danted dante-m2 "$M2"
M3=$(free_port); start_danted dante-m3 "$M3"
E=$(free_port); start_echo "$E"
SINK=$(free_port)
lab_bg sink python3 "$HC_SUPPORT/request_sink.py" --port "$SINK" --count-file "$LAB/sink.count"
wait_port "$SINK"
SHUT=$(free_port)
lab_bg shut python3 "$HC_SUPPORT/request_sink.py" --port "$SHUT" --count-file "$LAB/shut.count" \
  --close-at-once
wait_port "$SHUT"

REQUEST=$'POST /transfer HTTP/1.0\r\nContent-Length: 11\r\n\r\namount=1000'

# copies HOPCHAIN-ARGS... : run the issue's command and print how many copies the sink got.
# stdin stays open until the answer has come (the sink's close ends hopchain's output), as a
# client waiting for the answer would.
copies() {
  : >"$LAB/sink.count"
  held_stdin --timeout 20 --data "$REQUEST" -- \
    "$HOPCHAIN" -v "$@" stdio 127.0.0.1 "$SINK" >/dev/null 2>"$LAB/copies.err" || true
  grep -c request "$LAB/sink.count" || true
}

# --- point 1: no replay --------------------------------------------------------------------------
for pipeline in never always; do
  for strategy in dynamic round-robin; do
    len=(); [[ $strategy == round-robin ]] && len=(--chain-len 3)
    n=$(copies --pipeline=$pipeline --strategy $strategy "${len[@]}" \
      -x "socks5h://127.0.0.1:$M1" -x "socks5h://127.0.0.1:$M2" -x "socks5h://127.0.0.1:$M3")
    ((n == 1)) || { cat "$LAB/copies.err"; fail "$strategy, 3 hops, --pipeline=$pipeline: the target got $n copies"; }
    ! grep -q "retrying" "$LAB/copies.err" || { cat "$LAB/copies.err"; fail "$strategy, $pipeline: retried"; }
    n=$(copies --pipeline=$pipeline --strategy $strategy \
      -x "socks5h://127.0.0.1:$M1" -x "socks5h://127.0.0.1:$M2")
    ((n == 1)) || { cat "$LAB/copies.err"; fail "$strategy, 2 hops, --pipeline=$pipeline: the target got $n copies"; }
    note "$strategy, --pipeline=$pipeline: the target got the request once through 2 and 3 hops"
  done
done

# The opt-in: a last hop marked grants-early=1 is blamed and the request sent again.
n=$(copies --pipeline=never --strategy dynamic -x "socks5h://127.0.0.1:$M1" \
  -x "socks5h://127.0.0.1:$M2?grants-early=1")
((n == 2)) || { cat "$LAB/copies.err"; fail "grants-early=1: the target got $n copies (want 2: resent)"; }
grep -q "retrying without socks5h://127.0.0.1:$M2, sending ${#REQUEST} bytes again (grants-early=1)" \
  "$LAB/copies.err" || { cat "$LAB/copies.err"; fail "grants-early=1: resend not logged"; }
note "grants-early=1 on the last hop: blamed and resent, as documented"

# --- point 2: no blame ---------------------------------------------------------------------------
SOCKS=$(free_port)
# A cache of its own: the grants-early run above left hop M2 remembered dead for this one.
XDG_CACHE_HOME=$LAB/cache-socks lab_bg socks "$HOPCHAIN" -v --pipeline=never --strategy dynamic \
  -x "socks5h://127.0.0.1:$M1" -x "socks5h://127.0.0.1:$M2" socks "$SOCKS"
wait_port "$SOCKS"

# socks_client PORT DATA : CONNECT through our socks server to 127.0.0.1:PORT, send DATA, read
# until the end; prints what came back (or "refused REP" / "reset").
socks_client() {
  python3 - "$SOCKS" "$1" "$2" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"\x05\x01\x00")
assert s.recv(2) == b"\x05\x00"
s.sendall(b"\x05\x01\x00\x01\x7f\x00\x00\x01" + struct.pack("!H", int(sys.argv[2])))
reply = b""
while len(reply) < 10:
    reply += s.recv(10 - len(reply))
if reply[1] != 0:
    print(f"refused {reply[1]}")
    sys.exit(0)
try:
    s.sendall(sys.argv[3].encode())
except (ConnectionResetError, BrokenPipeError):
    print("reset")  # the tunnel failed and was reset before the data went
    sys.exit(0)
if sys.argv[3].endswith("\n"):
    got = b""
    while len(got) < len(sys.argv[3]):
        d = s.recv(100)
        if not d:
            break
        got += d
    print(got.decode().strip())
    sys.exit(0)
try:
    while s.recv(100):
        pass
    print("closed")
except ConnectionResetError:
    print("reset")
PY
}

# exit_hop_of_last_echo : the hop that opened the last tunnel to the echo server, as logged
exit_hop_of_last_echo() {
  grep "tunnel to 127.0.0.1:$E open" "$LAB/socks.log" | tail -1 | grep -o 'hop [0-9]/[0-9] [^ ]*' || true
}

want="hop 2/2 socks5h://127.0.0.1:$M2:"
[[ $(socks_client "$E" $'before\n') == before ]] || fail "socks: first echo failed"
[[ $(exit_hop_of_last_echo) == "$want" ]] || fail "socks: first echo left through '$(exit_hop_of_last_echo)'"

# A target that reads the request and closes: the close is its answer.
: >"$LAB/sink.count"
[[ $(socks_client "$SINK" "$REQUEST") == closed ]] || fail "socks: the sink's close did not reach the client"
(($(grep -c request "$LAB/sink.count") == 1)) || fail "socks: the sink got $(grep -c request "$LAB/sink.count") copies"
[[ $(socks_client "$E" $'after-read\n') == after-read ]] || fail "socks: echo after the sink failed"
[[ $(exit_hop_of_last_echo) == "$want" ]] || fail "after the sink's close the next tunnel left through '$(exit_hop_of_last_echo)'"
note "a target that read the request and closed: one copy, the next client still exits via hop 2/2"

# A target that closes before reading a byte: retried (nothing of the user's went), no blame.
out=$(socks_client "$SHUT" "hello")
[[ $out == reset || $out == closed ]] || fail "socks: close-at-once target gave '$out'"
[[ $(socks_client "$E" $'after-shut\n') == after-shut ]] || fail "socks: echo after the early close failed"
[[ $(exit_hop_of_last_echo) == "$want" ]] || fail "after an early close the next tunnel left through '$(exit_hop_of_last_echo)'"
note "a target that closed at once ($(grep -c closed "$LAB/shut.count") connections): the next client still exits via hop 2/2"
