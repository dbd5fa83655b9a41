#!/usr/bin/env bash
# remote's options against danted (1.4) as last hop:
# --json: one JSON line on stdout per listening address, naming the hop by its URL.
# --stdio: the first peer is joined to stdin/stdout, 1 MiB each way byte-checked, exit 0.
# --expect HOST: danted accepts a peer from HOST only; one from another address ends the BIND
#   with a second reply 0x02, named; one from HOST (any port) goes through.
# Port: each new BIND asks for the previous port (DST.ADDR 0.0.0.0, DST.PORT the old port);
#   danted binds it when it is free (after a BIND nobody used), and quietly takes another when
#   it is not (right after an accept the accepted connection holds it); a line says so.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
lab_init
require_hopchain

E=$(free_port); start_echo "$E" 127.0.0.1
D=$(free_port); start_danted d1 "$D"
HOP=(-x "socks5://127.0.0.1:$D")

# peer PORT [SOURCE-ADDR] [SEND-FILE RECV-FILE]: connects to 127.0.0.1:PORT from SOURCE-ADDR;
# sends SEND-FILE while reading into RECV-FILE until EOF (default: 64 KiB echoed back).
peer() {
  python3 - "$@" <<'PY'
import os, socket, sys, threading
port, src = int(sys.argv[1]), (sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1")
s = socket.socket()
s.settimeout(30)
s.bind((src, 0))
s.connect(("127.0.0.1", port))
if len(sys.argv) > 3:
    data, out = open(sys.argv[3], "rb").read(), sys.argv[4]
else:
    data, out = os.urandom(1 << 16), None
def send():
    s.sendall(data)
    if out:
        s.shutdown(socket.SHUT_WR)
threading.Thread(target=send, daemon=True).start()
got = bytearray()
while out or len(got) < len(data):
    chunk = s.recv(65536)
    if not chunk:
        break
    got += chunk
if out:
    open(out, "wb").write(got)
    sys.exit(0)
sys.exit(0 if bytes(got) == data else f"echo mismatch: {len(got)} bytes")
PY
}

listening_port() { # FILE [N]: the port of the Nth "listening at" line
  grep 'remote: listening at ' "$1" | sed -n "${2:-1}s/.*listening at [^ ]*:\([0-9]*\) (.*/\1/p"
}

# --json
out=$LAB/json.out err=$LAB/json.err
timeout -k 5 60 "$HOPCHAIN" "${HOP[@]}" remote --once --json "127.0.0.1:$E" </dev/null \
  >"$out" 2>"$err" &
pid=$!
wait_file "$out" 30 || fail "--json: no line on stdout"
python3 - "$out" "$D" <<'PY' || fail "--json: bad line: $(cat "$out")"
import json, sys
line = json.loads(open(sys.argv[1]).readline())
assert set(line) == {"listening", "hop"}, line
assert line["hop"] == f"socks5://127.0.0.1:{sys.argv[2]}", line
assert line["listening"].startswith("127.0.0.1:"), line
PY
port=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["listening"].rsplit(":",1)[1])' "$out")
peer "$port" || fail "--json: echo through $port failed"
rc=0; wait "$pid" || rc=$?
((rc == 0)) || { cat "$err" >&2; fail "--json: exit $rc"; }
note "ok: --json: $(cat "$out")"

# --stdio: 1 MiB each way.
make_payload "$LAB/up.bin" 1048576
make_payload "$LAB/down.bin" 1048576
err=$LAB/stdio.err
timeout -k 5 60 "$HOPCHAIN" "${HOP[@]}" remote --stdio <"$LAB/up.bin" >"$LAB/stdout.bin" \
  2>"$err" &
pid=$!
wait_log "$err" 'remote: listening at ' 30
peer "$(listening_port "$err")" 127.0.0.1 "$LAB/down.bin" "$LAB/peer-got.bin" ||
  fail "--stdio: peer failed"
rc=0; wait "$pid" || rc=$?
((rc == 0)) || { cat "$err" >&2; fail "--stdio: exit $rc"; }
[[ $(sha256_of "$LAB/peer-got.bin") == $(sha256_of "$LAB/up.bin") ]] || fail "--stdio: stdin -> peer differs"
[[ $(sha256_of "$LAB/stdout.bin") == $(sha256_of "$LAB/down.bin") ]] || {
  cat "$err" >&2
  fail "--stdio: peer -> stdout differs ($(stat -c %s "$LAB/stdout.bin") of 1048576 B;" \
    "$(cmp "$LAB/stdout.bin" "$LAB/down.bin" 2>&1 | head -n 1))"
}
note "ok: --stdio: 1 MiB each way, exit 0"

# --expect: a peer from 127.0.0.1 when 127.0.0.2 is expected is refused by danted (REP 0x02).
err=$LAB/expect-wrong.err
timeout -k 5 60 "$HOPCHAIN" "${HOP[@]}" remote --once --expect 127.0.0.2 "127.0.0.1:$E" \
  </dev/null 2>"$err" &
pid=$!
wait_log "$err" 'remote: listening at ' 30
peer "$(listening_port "$err")" 127.0.0.1 >/dev/null 2>&1 || true
rc=0; wait "$pid" || rc=$?
((rc == 1)) || { cat "$err" >&2; fail "--expect, wrong peer: exit $rc, expected 1"; }
grep -q "hop 1/1 socks5://127.0.0.1:$D: accept: connection not allowed by ruleset (SOCKS5 reply 0x02)" "$err" ||
  { cat "$err" >&2; fail "--expect, wrong peer: not named"; }
note "ok: --expect 127.0.0.2, peer from 127.0.0.1: $(tail -n 1 "$err")"
# ... and one from 127.0.0.2 (any port) goes through.
err=$LAB/expect-right.err
timeout -k 5 60 "$HOPCHAIN" -v "${HOP[@]}" remote --once --expect 127.0.0.2 "127.0.0.1:$E" \
  </dev/null 2>"$err" &
pid=$!
wait_log "$err" 'remote: listening at ' 30
peer "$(listening_port "$err")" 127.0.0.2 || fail "--expect: echo from 127.0.0.2 failed"
rc=0; wait "$pid" || rc=$?
((rc == 0)) || { cat "$err" >&2; fail "--expect, right peer: exit $rc"; }
grep -q "remote: connection from 127.0.0.2:" "$err" || fail "--expect: peer not 127.0.0.2"
note "ok: --expect 127.0.0.2, peer from 127.0.0.2: relayed, exit 0"

# The port: after a BIND nobody used, the next asks for the same port, which danted binds.
err=$LAB/port.err
timeout -k 5 60 "$HOPCHAIN" -v "${HOP[@]}" remote --accept-timeout 1 "127.0.0.1:$E" \
  </dev/null 2>"$err" &
pid=$!
wait_until 30 bash -c "(( \$(grep -c 'remote: listening at ' '$err') >= 3 ))" ||
  fail "port: no third BIND"
p1=$(listening_port "$err" 1); p2=$(listening_port "$err" 2); p3=$(listening_port "$err" 3)
[[ $p1 == "$p2" || $p2 == "$p3" ]] || { cat "$err" >&2; fail "port: $p1, $p2, $p3: never kept"; }
note "ok: after unused BINDs the port was kept: $p1 $p2 $p3"
# After an accept the accepted connection holds the port: the next BIND gets another, said so.
peer "$(listening_port "$err" 3)" || fail "port: echo failed"
wait_log "$err" "remote: the hop did not keep port $p3; the service moved to 127.0.0.1:" 30
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
((rc == 0)) || { cat "$err" >&2; fail "port: exit $rc after SIGTERM"; }
note "ok: after an accepted peer: $(grep 'did not keep port' "$err" | head -n 1)"
