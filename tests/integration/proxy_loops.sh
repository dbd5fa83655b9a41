#!/usr/bin/env bash
# Proxy loops: a chain or a target that is one of hopchain's own listening addresses is refused
# with a named error instead of nesting connections until descriptors run out. socks mode with
# itself as hop 1, socks mode without hops asked for itself (also with a burst of nested requests
# behind the first), forward mode forwarding to itself, and a hop on this host (danted) asked for
# our listener by address or as localhost: each ends in "is this process's own listening address
# (a proxy loop)", a SOCKS client gets REP 0x02, and hopchain's descriptor count and log stay
# small. udp mode forwarding a port to itself is refused at start (exit 2).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
lab_init
require_hopchain
lab_require python3

export XDG_CACHE_HOME=$LAB/cache
LOOP="is this process's own listening address (a proxy loop)"
DA=$(free_port); start_danted dante-a "$DA"

# socks_connect PORT HOST DEST_PORT [NESTED] : one SOCKS5 CONNECT to HOST:DEST_PORT through the
# socks server on PORT, with NESTED more greetings and CONNECTs to the same place right behind
# it; prints the REP byte in hex, or "none".
socks_connect() {
  python3 - "$@" <<'PY'
import socket, struct, sys
port, host, dport = int(sys.argv[1]), sys.argv[2].encode(), int(sys.argv[3])
nested = int(sys.argv[4]) if len(sys.argv) > 4 else 0
req = b"\x05\x01\x00\x03" + bytes([len(host)]) + host + struct.pack("!H", dport)
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"\x05\x01\x00" + req + (b"\x05\x01\x00" + req) * nested)
got = b""
while len(got) < 4:
    d = s.recv(12 - len(got))
    if not d:
        break
    got += d
print(got[3:4].hex() if len(got) >= 4 and got[:2] == b"\x05\x00" else "none")
PY
}

# bounded PID DESC : hopchain's descriptors and log lines stayed few
bounded() {
  local fds lines
  fds=$(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l)
  lines=$(wc -l <"$LAB/$2.log")
  ((fds < 40)) || fail "$2: $fds descriptors open"
  ((lines < 20)) || fail "$2: $lines log lines"
  note "$2: $fds descriptors, $lines log lines"
}

# --- socks mode with itself as hop 1 --------------------------------------------------------------
P=$(free_port)
lab_bg self-hop "$HOPCHAIN" -v -x "socks5h://127.0.0.1:$P" socks "$P"
PID=$LAB_LAST_PID
wait_port "$P"
read -r rep < <(socks_connect "$P" example.com 80)
[[ $rep == 02 ]] || fail "self as hop 1: REP '$rep' (want 02)"
grep -q "hop 1/1 socks5h://127.0.0.1:$P: connect: $LOOP; answered REP 0x02" "$LAB/self-hop.log" ||
  fail "self as hop 1: no named error"
bounded "$PID" self-hop

# --- socks mode without hops, asked for itself (and nested requests behind) -----------------------
P=$(free_port)
lab_bg self-target "$HOPCHAIN" --direct socks "$P"
PID=$LAB_LAST_PID
wait_port "$P"
for host in 127.0.0.1 localhost; do
  read -r rep < <(socks_connect "$P" "$host" "$P" 2000)
  [[ $rep == 02 ]] || fail "self as target $host: REP '$rep' (want 02)"
done
grep -q "target 127.0.0.1:$P: connect: $LOOP" "$LAB/self-target.log" || fail "self as target: no named error"
grep -q "target localhost:$P: connect: $LOOP" "$LAB/self-target.log" || fail "localhost as target: no named error"
bounded "$PID" self-target

# --- forward mode to itself -----------------------------------------------------------------------
P=$(free_port)
lab_bg self-forward "$HOPCHAIN" --direct forward "$P:127.0.0.1:$P"
PID=$LAB_LAST_PID
wait_port "$P"
python3 -c 'import socket,sys
s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),timeout=10)
s.sendall(b"x"*100)
try:
    while s.recv(100): pass
except ConnectionResetError: pass' "$P"
grep -q "target 127.0.0.1:$P: connect: $LOOP" "$LAB/self-forward.log" || fail "forward to itself: no named error"
bounded "$PID" self-forward

# --- a hop on this host asked for our listener ----------------------------------------------------
P=$(free_port)
lab_bg via-hop "$HOPCHAIN" -x "socks5h://127.0.0.1:$DA" socks "$P"
PID=$LAB_LAST_PID
wait_port "$P"
for host in 127.0.0.1 localhost; do
  read -r rep < <(socks_connect "$P" "$host" "$P")
  [[ $rep == 02 ]] || fail "via danted to $host: REP '$rep' (want 02)"
  grep -qF "hop 1/1 socks5h://127.0.0.1:$DA: could not reach the target $host:$P: $LOOP" "$LAB/via-hop.log" ||
    fail "via danted to $host: no named error"
done
# Other ports on this host still go through.
E=$(free_port); start_echo "$E"
read -r rep < <(socks_connect "$P" 127.0.0.1 "$E")
[[ $rep == 00 ]] || fail "via danted to the echo server: REP '$rep' (want 00)"
bounded "$PID" via-hop

# --- udp mode to itself ---------------------------------------------------------------------------
U=$(free_port)
for target in "127.0.0.1:$U" "localhost:$U"; do
  expect_fail_with "udp: target $target: $LOOP" "$HOPCHAIN" --direct udp "$U:$target"
  assert_rc 2
done
note "every loop refused by name, REP 0x02 to SOCKS clients, udp to itself a usage error"
