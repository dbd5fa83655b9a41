#!/usr/bin/env bash
# The user's first bytes. Optimistic data: what the user already wrote travels with the last
# SOCKS request, pipelined, or sequential to a hop known to take pipelining (a scripted hop sees
# it before it replies, --stats shows it; never behind HTTP CONNECT, nor a sequential request to
# a hop not known), in stdio and forward mode, and the echo comes back once; a
# target that speaks first still works; ssh through danted still logs in. A hop that grants and
# then ends the tunnel before any byte (what OpenSSH -D was said to do when its connect fails),
# marked grants-early=1: a dynamic strategy retries without it, resending the user's bytes, which
# arrive exactly once (stdio, forward and socks mode, as first and as last hop); under strict it
# is a named error, exit 1, without waiting for stdin to end. The same hop unmarked: the user's
# bytes, once written through it, are never sent again (the end passes as the target's answer,
# or the open fails with a named error); a retry that resends nothing still happens.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
# shellcheck source=SCRIPTDIR/../support/lab_hostile.sh
source "$HC_SUPPORT/lab_hostile.sh"
lab_init
require_hopchain
lab_require python3 ssh

HC=$HOPCHAIN   # start_hostile wraps $HOPCHAIN with --pipeline=never; these tests choose their own
# Every run here must meet the hops' early ends itself: no hop health may be remembered from
# one run to the next (nothing can be made under /dev/null), and every run names its --pipeline.
export XDG_CACHE_HOME=/dev/null/no-cache

E=$(free_port); start_echo "$E" 127.0.0.1
DA=$(free_port); start_danted dante-a "$DA"
BP=$(free_port); start_banner_server "$BP" "SSH-2.0-lab-banner"
# The scripted hops wait up to 3 s (EARLY) and 20 s (LATE) for bytes behind the request: a bound
# for bytes that are on their way, only waited out in full where none come (--pipeline=never).
EARLY=$(free_port); start_hostile "$EARLY" socks5_early_3
LATE=$(free_port); start_hostile "$LATE" socks5_early_20
GONE=$(free_port); start_hostile "$GONE" socks5_ok_eof

# stdin_then_run CMD... : the line "$LINE" is waiting on stdin before CMD starts, and stdin stays
# open until the answer came (the echo of the line, or the end of CMD's output), as a user who
# typed and waits for the answer would. CMD is killed after 20 s (exit 124).
stdin_then_run() {
  held_stdin --timeout 20 --data "$LINE"$'\n' --until "$LINE" -- "$@"
}
# stdin_until_end CMD... : the same, with stdin held open until CMD's output ends.
stdin_until_end() {
  held_stdin --timeout 20 --data "$LINE"$'\n' -- "$@"
}

# early_bytes [PORT] : how many bytes the scripted hop saw behind the request before its reply,
# last time
early_bytes() {
  grep -o 'early data [0-9]* bytes' "$LAB/hostile-${1:-$EARLY}.log" | tail -1 | awk '{print $3}'
}

# --- optimistic data, stdio ----------------------------------------------------------------------
LINE=early-bird
out=$(stdin_then_run "$HC" -vv --pipeline=always -x "socks5://127.0.0.1:$EARLY" \
  stdio 127.0.0.1 9 2>"$LAB/always.err") || { cat "$LAB/always.err"; fail "stdio always: exit $?"; }
[[ $out == "$LINE" ]] || fail "stdio always: echo '$out'"
[[ $(early_bytes) == $((${#LINE} + 1)) ]] || fail "stdio always: hop saw $(early_bytes) early bytes"
grep -q "of them the user's" "$LAB/always.err" || fail "stdio always: no optimistic data logged"
note "stdio --pipeline=always: the line went with the request ($(early_bytes) bytes), echoed once"

# Sequential handshakes: nothing behind the request of a hop not known to read exactly its
# request (microsocks drops what comes with it)...
out=$(stdin_then_run "$HC" --pipeline=never -x "socks5://127.0.0.1:$EARLY" \
  stdio 127.0.0.1 9) || fail "stdio never: exit $?"
[[ $out == "$LINE" ]] || fail "stdio never: echo '$out'"
[[ $(early_bytes) == 0 ]] || fail "stdio never: hop saw $(early_bytes) bytes before its reply"
note "stdio --pipeline=never, hop not known: nothing before the reply, echoed once"
# ...and the line in the same write as the last request of one seen to take pipelining.
mkdir -p "$LAB/seeded/hopchain"
echo "accepts socks5://127.0.0.1:$EARLY" >"$LAB/seeded/hopchain/pipeline"
out=$(XDG_CACHE_HOME=$LAB/seeded stdin_then_run "$HC" --stats --pipeline=never \
  -x "socks5://127.0.0.1:$EARLY" stdio 127.0.0.1 9 2>"$LAB/never.err") ||
  { cat "$LAB/never.err"; fail "stdio never, known hop: exit $?"; }
[[ $out == "$LINE" ]] || fail "stdio never, known hop: echo '$out'"
[[ $(early_bytes) == $((${#LINE} + 1)) ]] || fail "stdio never, known hop: hop saw $(early_bytes) early bytes"
grep -q "first bytes: $((${#LINE} + 1)) B with the request" "$LAB/never.err" ||
  { cat "$LAB/never.err"; fail "stdio never, known hop: --stats does not show the first bytes"; }
note "stdio --pipeline=never, hop known to take pipelining: the line went with the request, echoed once"

# HTTP CONNECT never takes them: the proxy may drop what it read past the request head.
TP=$(free_port); start_tinyproxy "$TP"
out=$(stdin_then_run "$HC" --stats --pipeline=always -x "http://127.0.0.1:$TP" \
  stdio 127.0.0.1 "$E" 2>"$LAB/http.err") || { cat "$LAB/http.err"; fail "http: exit $?"; }
[[ $out == "$LINE" ]] || fail "http: echo '$out'"
! grep -q "first bytes:" "$LAB/http.err" || { cat "$LAB/http.err"; fail "http: first bytes sent early"; }

# Bytes that come after the pipelined batch went out still go before the last reply: the user
# types once hopchain has logged that the batch is on its way. Hop 1 answers 2 s later (a delay
# proxy, 1 s each way), so the line is waiting when hopchain looks again before hop 2's reply;
# the scripted last hop waits up to 20 s for bytes behind its request.
SLOW=$(free_port)
lab_bg slow python3 "$HC_SUPPORT/../bench/delay_proxy.py" --listen "127.0.0.1:$SLOW" \
  --target "127.0.0.1:$DA" --delay-ms 1000
wait_port "$SLOW"
out=$(held_stdin --timeout 40 --data "$LINE"$'\n' --until "$LINE" --stderr-file "$LAB/late.err" \
  --write-after "writing the handshakes of hops 1-2 in one go" -- "$HC" -vv --pipeline=always \
  -x "socks5://127.0.0.1:$SLOW" -x "socks5://127.0.0.1:$LATE" stdio 127.0.0.1 9) ||
  { cat "$LAB/late.err"; fail "late bytes: exit $?"; }
[[ $out == "$LINE" ]] || { cat "$LAB/late.err"; fail "late bytes: echo '$out'"; }
grep -q "$((${#LINE} + 1)) more bytes of the user's behind the request" "$LAB/late.err" ||
  { cat "$LAB/late.err"; fail "late bytes: not sent after the batch"; }
[[ $(early_bytes "$LATE") == $((${#LINE} + 1)) ]] ||
  { cat "$LAB/late.err"; fail "late bytes: hop saw $(early_bytes "$LATE") early bytes"; }
note "bytes written after the batch went out still went before the last reply"

# socks4 takes optimistic data too (the scripted hop speaks SOCKS5 only: checked through danted).
out=$(stdin_then_run "$HC" --pipeline=always -x "socks4://127.0.0.1:$DA" \
  stdio 127.0.0.1 "$E") || fail "socks4 always: exit $?"
[[ $out == "$LINE" ]] || fail "socks4 always: echo '$out'"

# --- optimistic data, forward ----------------------------------------------------------------------
FWD=$(free_port)
lab_bg fwd "$HC" -v --pipeline=always -x "socks5://127.0.0.1:$EARLY" forward "$FWD:127.0.0.1:9"
wait_port "$FWD"
send_and_read='import socket,sys
s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),timeout=10)
want=sys.argv[2].encode()+b"\n"
s.sendall(want); got=b""
while len(got)<len(want):
    d=s.recv(100)
    if not d: break
    got+=d
sys.exit(0 if got==want else 1)'
python3 -c "$send_and_read" "$FWD" "$LINE" || fail "forward always: echo failed"
# The client writes right after its connect; whether that beats hopchain's connect to the hop on
# loopback is a race, so only the echo is checked here.
note "forward --pipeline=always: echoed once (hop saw $(early_bytes) bytes before its reply)"

# --- a target that speaks first ------------------------------------------------------------------
LINE=hello-after-banner
out=$(stdin_then_run "$HC" --pipeline=always -x "socks5://127.0.0.1:$DA" \
  stdio 127.0.0.1 "$BP") || fail "banner: exit $?"
[[ $out == *SSH-2.0-lab-banner* ]] || fail "banner: no banner in '$out'"
[[ $(grep -c "$LINE" <<<"$out") == 1 ]] || fail "banner: the line came back $(grep -c "$LINE" <<<"$out") times"
note "server speaks first: banner and one echo"

# --- real ssh through danted, its banner as optimistic data --------------------------------------
SSHD=$(free_port); start_sshd "$SSHD"
timeout -k 5 60 ssh -F "$LAB_SSH_CONFIG" \
  -o "ProxyCommand=$HC --pipeline=always -x socks5://127.0.0.1:$DA stdio %h %p" \
  -p "$SSHD" "$LAB_SSH_USER@127.0.0.1" echo hello-through-chain </dev/null >"$LAB/ssh.out" \
  2>"$LAB/ssh.err" || { cat "$LAB/ssh.err"; fail "ssh: exit $?"; }
[[ $(cat "$LAB/ssh.out") == hello-through-chain ]] || fail "ssh: output '$(cat "$LAB/ssh.out")'"
note "ssh ProxyCommand through danted with --pipeline=always: ok"

# --- a hop that grants, then ends the tunnel before any byte -------------------------------------
GONE_SHOWN=socks5://127.0.0.1:$GONE       # as logs name it
GONE_URL="$GONE_SHOWN?grants-early=1"
LINE=exactly-once
for pipeline in always never; do
  for order in last first; do
    if [[ $order == last ]]; then hops=(-x "socks5://127.0.0.1:$DA" -x "$GONE_URL"); else hops=(-x "$GONE_URL" -x "socks5://127.0.0.1:$DA"); fi
    out=$(stdin_then_run "$HC" -v --pipeline=$pipeline --strategy dynamic "${hops[@]}" \
      stdio 127.0.0.1 "$E" 2>"$LAB/gone.err") || { cat "$LAB/gone.err"; fail "dynamic, $order, $pipeline: exit $?"; }
    [[ $out == "$LINE" ]] || { cat "$LAB/gone.err"; fail "dynamic, $order, $pipeline: echo '$out'"; }
    grep -q "ended before anything came through it.*retrying without $GONE_SHOWN" "$LAB/gone.err" ||
      { cat "$LAB/gone.err"; fail "dynamic, $order, $pipeline: the failed hop is not named"; }
    note "dynamic, granting hop $order, --pipeline=$pipeline: retried without it, echoed once"
  done
done

# Unmarked, as last hop: the line went through it, so it is not sent again; the end reaches the
# user as the target's answer (no error, no retry, no failure counted).
out=$(stdin_until_end "$HC" -v --pipeline=always --strategy dynamic \
  -x "socks5://127.0.0.1:$DA" -x "$GONE_SHOWN" stdio 127.0.0.1 "$E" 2>"$LAB/plain.err") ||
  { cat "$LAB/plain.err"; fail "unmarked, last: exit $?"; }
[[ -z $out ]] || fail "unmarked, last: output '$out'"
! grep -q "retrying" "$LAB/plain.err" || { cat "$LAB/plain.err"; fail "unmarked, last: retried"; }
note "unmarked granting hop last: its end passed as the answer, nothing sent again"

# Unmarked, as first hop: sequential handshakes wrote nothing of the user's before hop 1's
# tunnel ended, so the retry without it stays; pipelined, the line went with hop 2's request,
# so the open fails with a named error instead of sending it again.
out=$(stdin_then_run "$HC" -v --pipeline=never --strategy dynamic \
  -x "$GONE_SHOWN" -x "socks5://127.0.0.1:$DA" stdio 127.0.0.1 "$E" 2>"$LAB/plain.err") ||
  { cat "$LAB/plain.err"; fail "unmarked, first, never: exit $?"; }
[[ $out == "$LINE" ]] || { cat "$LAB/plain.err"; fail "unmarked, first, never: echo '$out'"; }
grep -q "retrying without $GONE_SHOWN" "$LAB/plain.err" || fail "unmarked, first, never: no retry"
rc=0
stdin_until_end "$HC" -v --pipeline=always --strategy dynamic \
  -x "$GONE_SHOWN" -x "socks5://127.0.0.1:$DA" stdio 127.0.0.1 "$E" >"$LAB/plain.out" \
  2>"$LAB/plain.err" || rc=$?
((rc == 1)) || { cat "$LAB/plain.err"; fail "unmarked, first, always: exit $rc (want 1)"; }
grep -q "hop 1/2 $GONE_SHOWN: relay: the tunnel ended before anything came through it.*not retrying: $((${#LINE} + 1)) bytes of the user's" \
  "$LAB/plain.err" || { cat "$LAB/plain.err"; fail "unmarked, first, always: no named refusal to resend"; }
[[ ! -s $LAB/plain.out ]] || fail "unmarked, first, always: output '$(cat "$LAB/plain.out")'"
note "unmarked granting hop first: retried while nothing was sent; not once the line had gone"

# strict: a named error and exit 1 while stdin is still open (no hang)
for order in last first; do
  if [[ $order == last ]]; then hops=(-x "socks5://127.0.0.1:$DA" -x "$GONE_URL"); want="hop 2/2 $GONE_SHOWN"; else hops=(-x "$GONE_URL" -x "socks5://127.0.0.1:$DA"); want="hop 1/2 $GONE_SHOWN"; fi
  rc=0
  # stdin stays open until hopchain has exited: only the failure itself can end it (a hang is
  # killed after 20 s, exit 124)
  held_stdin --timeout 20 --data "$LINE"$'\n' --until-exit -- "$HC" --pipeline=never "${hops[@]}" stdio 127.0.0.1 "$E" \
    >/dev/null 2>"$LAB/strict.err" || rc=$?
  ((rc == 1)) || { cat "$LAB/strict.err"; fail "strict, $order: exit $rc (want 1)"; }
  grep -q "$want: relay: the tunnel ended before anything came through it" "$LAB/strict.err" ||
    { cat "$LAB/strict.err"; fail "strict, $order: no named error"; }
  note "strict, granting hop $order: $(head -c 120 "$LAB/strict.err")"
done

# forward and socks mode: the retry is invisible to the client
FWD2=$(free_port)
lab_bg fwd2 "$HC" -v --pipeline=never --strategy dynamic -x "socks5://127.0.0.1:$DA" -x "$GONE_URL" \
  forward "$FWD2:127.0.0.1:$E"
wait_port "$FWD2"
python3 -c "$send_and_read" "$FWD2" "$LINE" || fail "forward dynamic: echo failed"
grep -q "retrying without $GONE_SHOWN" "$LAB/fwd2.log" || fail "forward dynamic: no retry logged"
note "forward, dynamic: retried without the granting hop, echoed once"

SOCKS=$(free_port)
lab_bg socks "$HC" -v --pipeline=never --strategy dynamic -x "socks5://127.0.0.1:$DA" -x "$GONE_URL" \
  socks "$SOCKS"
wait_port "$SOCKS"
python3 - "$SOCKS" "$E" "$LINE" <<'PY' || fail "socks dynamic: echo failed"
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"\x05\x01\x00")
assert s.recv(2) == b"\x05\x00"
s.sendall(b"\x05\x01\x00\x01\x7f\x00\x00\x01" + struct.pack("!H", int(sys.argv[2])))
reply = b""
while len(reply) < 10:
    reply += s.recv(10 - len(reply))
assert reply[1] == 0, reply
want = sys.argv[3].encode() + b"\n"
s.sendall(want)
got = b""
while len(got) < len(want):
    d = s.recv(100)
    if not d:
        break
    got += d
sys.exit(0 if got == want else 1)
PY
grep -q "retrying without $GONE_SHOWN" "$LAB/socks.log" || fail "socks dynamic: no retry logged"
note "socks, dynamic: granted, retried without the granting hop behind the client's back, echoed once"
