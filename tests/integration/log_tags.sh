#!/usr/bin/env bash
# Log tags: in forward and socks mode every line of one connection (hop steps, setup and closed lines)
# starts with the same "[cN]" tag, a tag no other connection has; pipelining probes log as
# "probe hop K/N URL", their verdict once at -v; and a stdio run does not wait for a probe that
# stalls (microsocks answers a pipelined greeting and drops the rest): it exits at once, leaving
# no verdict, so that the next run probes again.
set -u
. "$HC_SUPPORT/lab.sh"
lab_init

d1=$(free_port); d2=$(free_port); ms=$(free_port); echo_port=$(free_port); fwd=$(free_port)
start_danted d1 "$d1"
start_danted d2 "$d2"
start_microsocks "$ms"
start_echo "$echo_port"
cache="$XDG_CACHE_HOME/hopchain/pipeline"

# 1. forward -v, two hops, four concurrent connections.
lab_bg fwd "$HOPCHAIN" -v -x "socks5://127.0.0.1:$d1" -x "socks5://127.0.0.1:$d2" \
  forward "$fwd:127.0.0.1:$echo_port"
wait_port "$fwd"
clients='import socket,sys
port=int(sys.argv[1])
socks=[socket.create_connection(("127.0.0.1",port),timeout=10) for _ in range(4)]
for i,s in enumerate(socks):
    s.sendall(b"line %d\n" % i)
for i,s in enumerate(socks):
    want=b"line %d\n" % i; got=b""
    while len(got)<len(want):
        d=s.recv(100)
        if not d: break
        got+=d
    if got!=want: sys.exit(1)
for s in socks:
    s.close()'
timeout 20 python3 -c "$clients" "$fwd" || { cat "$LAB/fwd.log"; fail "echo through forward failed"; }
# shellcheck disable=SC2317  # called through wait_until
lines_are() { [[ $(grep -c -- "$2" "$1") == "$3" ]]; }  # FILE PATTERN COUNT
wait_until 20 lines_are "$LAB/fwd.log" ': closed: ' 4 || true
log="$LAB/fwd.log"
[[ $(grep -c ': closed: ' "$log") == 4 ]] || { cat "$log"; fail "expected 4 closed lines"; }
# Every line about a hop or a connection is a connection's or a probe's.
untagged=$(grep -E 'hop [0-9]/|target |setup: |closed: |forward [0-9]+ from' "$log" |
  grep -vE '^hopchain: (\[c[0-9]+\] |probe hop [0-9]/[0-9] socks5://)')
[[ -z $untagged ]] || { cat "$log"; fail "untagged lines: $untagged"; }
tags=$(grep -oE '^hopchain: \[c[0-9]+\] forward [0-9]+ from [0-9.:]+: closed: ' "$log" |
  grep -oE '\[c[0-9]+\]' | sort -u)
[[ $(wc -l <<<"$tags") == 4 ]] || { cat "$log"; fail "the 4 connections do not have 4 tags: $tags"; }
for tag in $tags; do
  t=${tag//[/\\[}
  t=${t//]/\\]}
  # Its connections's own lines: one "from" address throughout, 3 setup lines, 1 closed line,
  # and its hop steps.
  [[ $(grep -cE "^hopchain: $t forward $fwd from [0-9.:]+: setup: " "$log") == 3 ]] ||
    { cat "$log"; fail "$tag: expected 3 setup lines"; }
  [[ $(grep -E "^hopchain: $t forward " "$log" | grep -oE 'from [0-9.:]+' | sort -u | wc -l) == 1 ]] ||
    { cat "$log"; fail "$tag: lines of different connections"; }
  grep -qE "^hopchain: $t hop 1/2 socks5://127.0.0.1:$d1: connected to " "$log" ||
    { cat "$log"; fail "$tag: no hop 1 line"; }
  grep -qE "^hopchain: $t hop 2/2 socks5://127.0.0.1:$d2: tunnel to 127.0.0.1:$echo_port open" "$log" ||
    { cat "$log"; fail "$tag: no hop 2 line"; }
done
# The probes of both hops, each verdict once.
wait_until 20 lines_are "$log" 'accepts pipelining$' 2 || true
for k in 1 2; do
  p=$d1; [[ $k == 2 ]] && p=$d2
  [[ $(grep -cx "hopchain: probe hop $k/2 socks5://127.0.0.1:$p: accepts pipelining" "$log") == 1 ]] ||
    { cat "$log"; fail "no single verdict line for the probe of hop $k"; }
done

# 2. socks -v: two concurrent clients, each with its own tag on its own lines.
sp=$(free_port)
lab_bg socks "$HOPCHAIN" -v -x "socks5://127.0.0.1:$d1" socks "$sp"
wait_port "$sp"
socks_clients='import socket,struct,sys
port,target=int(sys.argv[1]),int(sys.argv[2])
socks=[socket.create_connection(("127.0.0.1",port),timeout=10) for _ in range(2)]
def recv_n(s,n):
    got=b""
    while len(got)<n:
        d=s.recv(n-len(got))
        if not d: sys.exit(1)
        got+=d
    return got
for s in socks:
    s.sendall(b"\x05\x01\x00"); recv_n(s,2)
    s.sendall(b"\x05\x01\x00\x01"+socket.inet_aton("127.0.0.1")+struct.pack(">H",target))
for i,s in enumerate(socks):
    if recv_n(s,10)[1]!=0: sys.exit(1)
    s.sendall(b"socks %d\n" % i)
for i,s in enumerate(socks):
    if recv_n(s,8)!=b"socks %d\n" % i: sys.exit(1)
for s in socks:
    s.close()'
timeout 20 python3 -c "$socks_clients" "$sp" "$echo_port" || { cat "$LAB/socks.log"; fail "echo through socks failed"; }
wait_until 20 lines_are "$LAB/socks.log" ': closed: ' 2 || true
[[ $(grep -c ': closed: ' "$LAB/socks.log") == 2 ]] || { cat "$LAB/socks.log"; fail "socks: expected 2 closed lines"; }
untagged=$(grep -E 'hop [0-9]/|socks client' "$LAB/socks.log" | grep -vE '^hopchain: (\[c[0-9]+\] |probe hop )')
[[ -z $untagged ]] || { cat "$LAB/socks.log"; fail "socks: untagged lines: $untagged"; }
stags=$(grep -oE '^hopchain: \[c[0-9]+\] socks client [0-9.:]+: .*: closed: ' "$LAB/socks.log" |
  grep -oE '\[c[0-9]+\]' | sort -u)
[[ $(wc -l <<<"$stags") == 2 ]] || { cat "$LAB/socks.log"; fail "socks: 2 clients, not 2 tags: $stags"; }
for tag in $stags; do
  t=${tag//[/\\[}
  t=${t//]/\\]}
  grep -qE "^hopchain: $t hop 1/1 socks5://127.0.0.1:$d1: tunnel to 127.0.0.1:$echo_port open" "$LAB/socks.log" ||
    { cat "$LAB/socks.log"; fail "socks: $tag has no hop line"; }
done

# 3. stdio through a fresh hop whose probe stalls: exits at once, with no verdict learnt. The
# stalled probe gives up after 3 s with a "does not accept pipelining" verdict: a run that waited
# for it shows that verdict below (no wall-clock bound, which a loaded machine would break).
rm -rf "$XDG_CACHE_HOME"
started=$(date +%s%N)
# stdin stays open until the echo is back and hop 1's probe (which does not stall) has its verdict
held_stdin --timeout 20 --data $'one-shot\n' --until one-shot --stderr-file "$LAB/stdio.log" \
  --until-stderr "probe hop 1/2 socks5://127.0.0.1:$d1: accepts pipelining" -- "$HOPCHAIN" -vv \
  -x "socks5://127.0.0.1:$d1" -x "socks5://127.0.0.1:$ms" stdio 127.0.0.1 "$echo_port" \
  >/dev/null || { cat "$LAB/stdio.log"; fail "the stdio run failed"; }
note "stdio run through a stalling probe: $(( ($(date +%s%N) - started) / 1000000 )) ms"
grep -q "^hopchain: probe hop 1/2 socks5://127.0.0.1:$d1: connected to " "$LAB/stdio.log" ||
  { cat "$LAB/stdio.log"; fail "the probe of hop 2 did not start, or its lines are not tagged"; }
grep -qx "hopchain: probe hop 1/2 socks5://127.0.0.1:$d1: accepts pipelining" "$LAB/stdio.log" ||
  { cat "$LAB/stdio.log"; fail "no verdict for hop 1"; }
grep -q "hop 2/2 socks5://127.0.0.1:$ms: .*pipelining" "$LAB/stdio.log" &&
  { cat "$LAB/stdio.log"; fail "a verdict for the stalled probe"; }
grep -q "127.0.0.1:$ms" "$cache" 2>/dev/null && { cat "$cache"; fail "the abandoned probe left a verdict"; }
grep -qE '^hopchain: (hop|target) ' "$LAB/stdio.log" || { cat "$LAB/stdio.log"; fail "stdio lines must not be tagged"; }
exit 0
