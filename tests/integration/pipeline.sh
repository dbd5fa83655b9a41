#!/usr/bin/env bash
# Pipelined handshakes (--pipeline): in auto mode hopchain learns per hop whether the server takes
# greeting, auth and request in one write, remembers it in $XDG_CACHE_HOME, and pipelines from the
# next connection on; microsocks, which drops pipelined bytes, is never pipelined in auto mode;
# --pipeline=never never pipelines; --pipeline=always on microsocks times out (why auto is the
# default); a chain through pipelined hops carries data intact.
set -u
. "$HC_SUPPORT/lab.sh"
lab_init

d1=$(free_port); d2=$(free_port); da=$(free_port); ms=$(free_port); echo_port=$(free_port)
start_danted d1 "$d1"
start_danted d2 "$d2"
start_danted da "$da" auth
start_microsocks "$ms"
start_echo "$echo_port"
cache="$XDG_CACHE_HOME/hopchain/pipeline"
chain=(-x "socks5://127.0.0.1:$d1" -x "socks5h://$LAB_USER:$LAB_PASS@127.0.0.1:$da" -x "socks5://127.0.0.1:$d2")

RUN_CHAIN_AWAIT=()
run_chain() { # LOG ARGS... : sends one line through the chain and checks the echo
  local log=$1
  shift
  local out
  # stdin stays open until the echo is back (microsocks drops both directions on a half-close),
  # and until the log has every line of RUN_CHAIN_AWAIT (an array of EREs)
  local await=() ere
  for ere in "${RUN_CHAIN_AWAIT[@]}"; do await+=(--until-stderr "$ere"); done
  out=$(held_stdin --timeout 20 --data $'ping-through-chain\n' --until ping-through-chain \
    --stderr-file "$log" "${await[@]}" -- "$HOPCHAIN" -v "$@" stdio 127.0.0.1 "$echo_port")
  [[ $out == ping-through-chain ]] || { cat "$log"; fail "echo through chain failed: '$out'"; }
}

# 1. First run: sequential, and the hops get probed (a stdio run does not wait for its probes:
# it stays until their verdicts are in).
RUN_CHAIN_AWAIT=("probe hop 1/3 [^ ]*:$d1: accepts pipelining" "probe hop 2/3 [^ ]*:$da: accepts pipelining"
  "probe hop 3/3 [^ ]*:$d2: accepts pipelining")
run_chain "$LAB/first.log" "${chain[@]}"
RUN_CHAIN_AWAIT=()
grep -q '(pipelined)' "$LAB/first.log" && fail "first contact must not pipeline unknown hops"
learnt() { [[ $(grep -c "$1" "$cache" 2>/dev/null) == "$2" ]]; }  # PATTERN COUNT
wait_until 10 learnt '^accepts ' 3 || true
for p in "$d1" "$da" "$d2"; do
  grep -q "^accepts socks5h\?://127.0.0.1:$p\$" "$cache" || { cat "$cache"; fail "hop $p not learnt as accepting"; }
done
grep -q "$LAB_PASS" "$cache" && fail "the cache must not hold a password"

# 2. Second run: every hop pipelined, data intact.
run_chain "$LAB/second.log" "${chain[@]}"
[[ $(grep -c '(pipelined)' "$LAB/second.log") == 3 ]] || { cat "$LAB/second.log"; fail "second run not pipelined"; }

# 3. --pipeline=never.
run_chain "$LAB/never.log" --pipeline=never "${chain[@]}"
grep -q '(pipelined)' "$LAB/never.log" && fail "--pipeline=never pipelined"

# 4. microsocks in auto mode: works, is never pipelined, and a forward learns that it refuses.
fwd=$(free_port)
lab_bg fwd "$HOPCHAIN" -v -x "socks5://127.0.0.1:$ms" forward "$fwd:127.0.0.1:$echo_port"
wait_port "$fwd"
# microsocks drops both directions on a half-close, so this client reads the echo before closing.
echo_once='import socket,sys
s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),timeout=10)
s.sendall(b"through-microsocks\n"); got=b""
while len(got)<19:
    d=s.recv(100)
    if not d: break
    got+=d
sys.exit(0 if got==b"through-microsocks\n" else 1)'
for _ in 1 2; do
  timeout 20 python3 -c "$echo_once" "$fwd" || { cat "$LAB/fwd.log"; fail "forward through microsocks failed"; }
done
wait_until 10 learnt "^refuses socks5://127.0.0.1:$ms\$" 1 || true
grep -q "^refuses socks5://127.0.0.1:$ms\$" "$cache" || { cat "$cache"; fail "microsocks not learnt as refusing"; }
grep -q '(pipelined)' "$LAB/fwd.log" && fail "microsocks was pipelined in auto mode"
run_chain "$LAB/ms.log" -x "socks5://127.0.0.1:$ms"

# 5. --pipeline=always on microsocks: it answers the greeting and drops the rest.
start=$(date +%s%N)
expect_fail_with "timed out" timeout 10 "$HOPCHAIN" --pipeline=always --connect-timeout 1 \
  -x "socks5://127.0.0.1:$ms" stdio 127.0.0.1 "$echo_port" </dev/null
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
(( elapsed < 5000 )) || fail "--pipeline=always failure took ${elapsed} ms"

# 6. A bad value is a usage error.
"$HOPCHAIN" --pipeline=sometimes stdio 127.0.0.1 1 </dev/null 2>/dev/null
[[ $? == 2 ]] || fail "--pipeline=sometimes must exit 2"

