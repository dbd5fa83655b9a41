#!/usr/bin/env bash
# Proves hopchain's behaviour when the network fails under it, with real hops
# (danted -> microsocks -> danted; microsocks is the middle hop that gets killed):
# - SIGKILL of the middle hop during a large two-way transfer: stdio mode exits 1 within 5 s with
#   "connection to HOST:PORT lost: ..."; in a one-way download the loss reaches hopchain as an
#   end of stream (hop 1 relays it as a FIN, which nobody can tell from the target's), and then
#   stdout is closed at once even though stdin stays open, so the consumer is not left hanging;
# - the same kill under forward mode: that connection is closed within 5 s, the listener stays
#   up, connections made while the hop is down are closed, and once the hop is restarted on its
#   port new connections succeed through the same hopchain process;
# - the target resets the connection: with no hop, and behind danted (which relays the reset),
#   stdio mode exits 1 naming the reset, and forward mode passes the reset to the client (RST,
#   not a FIN that would make a cut transfer look complete); no case hangs.
set -euo pipefail
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
source "$HC_SUPPORT/lab_hostile.sh"
lab_init
require_hopchain
lab_require danted microsocks

E=$(free_port); start_hostile "$E" target_echo          # capture size = bytes uploaded so far
S=$(free_port); start_hostile "$S" target_stream        # sends about 12 MB/s until the client goes
R=$(free_port); start_hostile "$R" target_echo_reset_64  # echoes 64 KiB, then RST
DA=$(free_port); start_danted dante-a "$DA"
DB=$(free_port); start_danted dante-b "$DB"
M=$(free_port); start_microsocks "$M"
M_PID=$LAB_LAST_PID
CHAIN=(-x "socks5://127.0.0.1:$DA" -x "socks5://127.0.0.1:$M" -x "socks5://127.0.0.1:$DB")

# paced.py stdio: writes 64 KiB every 10 ms to stdout (for at most 60 s), to feed hopchain.
# paced.py tcp PORT: the same over a connection while reading the echo; reports how it ended.
# paced.py echo PORT COUNT SIZE: COUNT connections at once, each sends SIZE random bytes and reads
#   them back before closing (no half-close: microsocks closes both ways on a client's FIN).
cat >"$LAB/paced.py" <<'EOF'
import os, socket, sys, threading, time
end = time.monotonic() + 60
chunk = os.urandom(65536)
if sys.argv[1] == "echo":
    port, count, size = (int(x) for x in sys.argv[2:5])
    bad = []
    def one(i):
        data = os.urandom(size)
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=20)
            threading.Thread(target=c.sendall, args=(data,), daemon=True).start()
            got = bytearray()
            while len(got) < size:
                d = c.recv(262144)
                if not d:
                    break
                got += d
            c.close()
            if got != data:
                bad.append(f"conn {i}: {len(got)} of {size} bytes came back intact={got == data}")
        except OSError as e:
            bad.append(f"conn {i}: {e}")
    ts = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    print("; ".join(bad) if bad else f"{count} x {size} bytes echoed intact")
    sys.exit(1 if bad else 0)
if sys.argv[1] == "stdio":
    try:
        while time.monotonic() < end:
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
            time.sleep(0.01)
    except (BrokenPipeError, OSError):
        pass
    sys.exit(0)
s = socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=60)
got = 0
def sender():
    try:
        while time.monotonic() < end:
            s.sendall(chunk)
            time.sleep(0.01)
    except OSError:
        pass
threading.Thread(target=sender, daemon=True).start()
how = "timeout"
try:
    while True:
        d = s.recv(262144)
        if not d:
            how = "eof"
            break
        got += len(d)
except ConnectionResetError:
    how = "reset"
except OSError as e:
    how = f"error {e}"
print(f"{how} after {got} bytes echoed", flush=True)
sys.exit(0 if how in ("eof", "reset") else 1)
EOF

size_at_least() { (($(stat -c %s "$1" 2>/dev/null || echo 0) >= $2)); }
wait_growth() { # FILE BYTES : until FILE holds BYTES (bounded: 20 s)
  wait_until 20 size_at_least "$1" "$2" && return 0
  fail "transfer did not get going: $(stat -c %s "$1" 2>/dev/null || echo 0) bytes in $1"
}

bounded_wait() { # PID SECONDS DESC : wait for PID, fail if it outlives SECONDS; sets WAIT_RC
  local pid=$1 secs=$2 desc=$3
  if ! wait_exit "$pid" "$secs"; then
    kill -KILL "$pid" 2>/dev/null
    fail "$desc: still running ${secs}s later"
  fi
  WAIT_RC=0
  wait "$pid" || WAIT_RC=$?
}

restart_middle_hop() {
  start_microsocks "$M"
  M_PID=$LAB_LAST_PID
}

# --- stdio: kill the middle hop during a two-way transfer --------------------------------------
python3 "$LAB/paced.py" stdio | "$HOPCHAIN" "${CHAIN[@]}" stdio 127.0.0.1 "$E" >"$LAB/kill.out" 2>"$LAB/kill.err" &
hc=$!
wait_growth "$LAB/kill.out" 2000000
kill -KILL -- "-$M_PID" 2>/dev/null || kill -KILL "$M_PID"
t0=$(date +%s.%N)
bounded_wait "$hc" 5 "stdio after the middle hop was killed"
secs=$(_lab_secs_since "$t0")
((WAIT_RC == 1)) || { cat "$LAB/kill.err" >&2; fail "stdio: exit $WAIT_RC after the middle hop died, want 1"; }
grep -qE "connection to 127\.0\.0\.1:$E lost: " "$LAB/kill.err" || { cat "$LAB/kill.err" >&2; fail "stdio: no 'connection ... lost' message"; }
note "ok: stdio, middle hop killed mid-transfer after $(stat -c %s "$LAB/kill.out") bytes: exit 1 in ${secs}s: $(cat "$LAB/kill.err")"
restart_middle_hop

# --- stdio: kill the middle hop during a one-way download --------------------------------------
mkfifo "$LAB/stdin.fifo"
exec {hold}<>"$LAB/stdin.fifo"   # stdin that stays open and silent
# (children must not inherit the holding descriptor, or closing it would not end stdin)
{ "$HOPCHAIN" "${CHAIN[@]}" stdio 127.0.0.1 "$S" <"$LAB/stdin.fifo" 2>"$LAB/dl.err" | {
  cat >"$LAB/dl.out"
  date +%s.%N >"$LAB/dl.eof"
}; } {hold}>&- &
dl=$!
wait_growth "$LAB/dl.out" 2000000
kill -KILL -- "-$M_PID" 2>/dev/null || kill -KILL "$M_PID"
t0=$(date +%s.%N)
wait_file "$LAB/dl.eof" 5 || fail "download: stdout still open 5 s after the middle hop died"
note "ok: stdio download, middle hop killed: stdout closed after $(awk -v a="$(cat "$LAB/dl.eof")" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')s with stdin still open"
exec {hold}>&-   # stdin EOF: hopchain must now finish
bounded_wait "$dl" 5 "download after stdin closed"
restart_middle_hop

# --- forward: kill the middle hop, keep serving, restart it --------------------------------------
L=$(free_port)
lab_bg hopchain-forward "$HOPCHAIN" "${CHAIN[@]}" forward "$L:127.0.0.1:$E"
HC_PID=$LAB_LAST_PID
wait_port "$L" 127.0.0.1 15 || fail "hopchain forward is not listening on $L"
hc_alive() {
  [[ -n $(_lab_live_in_groups "$HC_PID") ]] || {
    cat "$LAB/hopchain-forward.log" >&2
    fail "hopchain forward exited ($1)"
  }
}
out=$(timeout 40 python3 "$LAB/paced.py" echo "$L" 3 100000 2>&1) || fail "forward before the kill: $out"
before=$(hostile_conns "$E")
timeout 70 python3 "$LAB/paced.py" tcp "$L" >"$LAB/paced.out" 2>&1 &
pc=$!
hostile_wait_conns "$E" $((before + 1))
cap=$(hostile_last_capture "$E")
wait_growth "$cap" 2000000
kill -KILL -- "-$M_PID" 2>/dev/null || kill -KILL "$M_PID"
t0=$(date +%s.%N)
bounded_wait "$pc" 5 "forward connection after the middle hop was killed"
((WAIT_RC == 0)) || { cat "$LAB/paced.out" >&2; fail "forward: the cut connection did not end cleanly"; }
note "ok: forward, middle hop killed: that connection ended in $(_lab_secs_since "$t0")s ($(cat "$LAB/paced.out"))"
hc_alive "after the middle hop died"
for i in 1 2; do
  out=$(timeout 20 python3 "$HC_SUPPORT/tcp_check.py" closed 127.0.0.1 "$L" --timeout 15 2>&1) ||
    fail "forward while the middle hop is down, connection $i: $out"
done
# hop 1 cannot reach hop 2 and says so
grep -qF "hop 1/3 socks5://127.0.0.1:$DA: could not reach hop 2 (127.0.0.1:$M): connection refused (SOCKS5 reply 0x05)" \
  "$LAB/hopchain-forward.log" || fail "forward: the refusal is not logged"
note "ok: forward, middle hop down: new connections are closed, the listener stays up"
restart_middle_hop
out=$(timeout 40 python3 "$LAB/paced.py" echo "$L" 5 262144 2>&1) || fail "forward after the middle hop came back: $out"
hc_alive "after the middle hop came back"
note "ok: forward, middle hop restarted: same hopchain process serves again: $out"

# --- the target resets the connection ---------------------------------------------------------
# stdio: 64 KiB goes out and comes back, then the RST; stdin stays open meanwhile
for via in direct danted; do
  args=(--direct)
  [[ $via == danted ]] && args=(-x "socks5://127.0.0.1:$DA")
  rm -f "$LAB/rst.fifo"
  mkfifo "$LAB/rst.fifo"
  exec {hold}<>"$LAB/rst.fifo"
  head -c 65536 /dev/zero >"$LAB/rst.fifo" {hold}>&- &
  "$HOPCHAIN" "${args[@]}" stdio 127.0.0.1 "$R" <"$LAB/rst.fifo" >"$LAB/rst.out" 2>"$LAB/rst.err" {hold}>&- &
  hc=$!
  bounded_wait "$hc" 5 "stdio ($via) after the target's reset"
  exec {hold}>&-
  ((WAIT_RC == 1)) || { cat "$LAB/rst.err" >&2; fail "stdio ($via): exit $WAIT_RC after the target's reset, want 1"; }
  grep -qiE "lost: .*reset" "$LAB/rst.err" || { cat "$LAB/rst.err" >&2; fail "stdio ($via): the reset is not named"; }
  note "ok: stdio ($via), target reset: exit 1: $(cat "$LAB/rst.err")"
done
# forward: the client sends exactly 64 KiB, reads the echo, then must see a reset, not an EOF
cat >"$LAB/rst_client.py" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"r" * 65536)
got = 0
try:
    while True:
        d = s.recv(65536)
        if not d:
            print(f"EOF after {got} bytes")
            sys.exit(1)
        got += len(d)
except ConnectionResetError:
    print(f"reset after {got} bytes")
except socket.timeout:
    print(f"no end after {got} bytes within 10 s")
    sys.exit(1)
EOF
LD=$(free_port) LR=$(free_port)
lab_bg hopchain-fwd-direct "$HOPCHAIN" --direct forward "$LD:127.0.0.1:$R"
lab_bg hopchain-fwd-danted "$HOPCHAIN" -x "socks5://127.0.0.1:$DA" forward "$LR:127.0.0.1:$R"
wait_port "$LD" 127.0.0.1 15 || fail "forward (direct) is not listening"
wait_port "$LR" 127.0.0.1 15 || fail "forward (danted) is not listening"
for spec in "direct $LD" "danted $LR"; do
  read -r via port <<<"$spec"
  out=$(timeout 20 python3 "$LAB/rst_client.py" "$port" 2>&1) || fail "forward ($via), target reset: $out"
  note "ok: forward ($via), target reset: the client saw a $out"
done
