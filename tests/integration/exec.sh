#!/usr/bin/env bash
# exec mode: a program that knows nothing about proxies, in its own network namespace, reaches
# targets through a 2-hop chain (danted -> microsocks): curl and a statically linked busybox
# wget (proxychains4 cannot hook the static one: measured with a dead hop and noted), ssh with
# no ProxyCommand, 200 concurrent connections byte-checked, one refused connection failing
# alone. Exit status and signals pass through; CMD not found is 127; CMD has no capabilities;
# and the same works as user nobody (an unprivileged user namespace).
# Targets must be off loopback (exec carries what leaves its namespace; the namespace's own
# loopback stays local), so the whole script runs in a network namespace of its own where
# 10.77.0.1 on lo plays the outside world. The product itself spawns no `ip` or `nft`.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab_exec.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab_exec.sh"
exec_enter_namespaces "$0" "$@"
lab_init
require_hopchain
lab_require curl busybox ip setpriv proxychains4
exec_outside_world
T=10.77.0.1

D=$(free_port)
start_danted d1 "$D"
M=$(free_port)
start_microsocks "$M"
CHAIN=(-x "socks5://127.0.0.1:$D" -x "socks5://127.0.0.1:$M")
DEAD=$(free_port) # nothing listens there
mkdir -p "$LAB/www"
echo exec-through-chain >"$LAB/www/index.html"
H=$(free_port)
start_http_server "$H" "$LAB/www" "$T"
E=$(free_port)
start_echo "$E" "$T"
URL=http://$T:$H/

hc_exec() { timeout -k 5 120 "$HOPCHAIN" "$@"; }

note "curl (dynamic) and busybox wget (static) through danted -> microsocks"
out=$(hc_exec "${CHAIN[@]}" exec -- curl -sS --max-time 20 "$URL") || fail "curl under exec failed"
[[ $out == exec-through-chain ]] || fail "curl under exec got '$out'"
out=$(hc_exec "${CHAIN[@]}" exec -- busybox wget -q -O - "$URL") || fail "busybox wget under exec failed"
[[ $out == exec-through-chain ]] || fail "busybox wget under exec got '$out'"

# (no -T for busybox wget: this build's wget crashes with it, exit 139, whatever the network does)
note "IPv6: an echo on [fd77::1] through the chain"
E6=$(free_port)
start_echo "$E6" fd77::1
hc_exec "${CHAIN[@]}" exec -- python3 "$HC_SUPPORT/exec_many.py" fd77::1 "$E6" 3 ||
  fail "IPv6 connections under exec"

note "a dead hop: both fail under exec (nothing goes around the chain)"
for cmd in "curl -sS --max-time 10 $URL" "busybox wget -q -O - $URL"; do
  # shellcheck disable=SC2086  # the command's words
  if hc_exec -x "socks5://127.0.0.1:$DEAD" exec -- $cmd >/dev/null 2>"$LAB/dead.err"; then
    fail "'$cmd' succeeded under exec with a dead hop: it went around the chain"
  fi
done
grep -q "hop 1/1 socks5://127.0.0.1:$DEAD: connect: Connection refused" "$LAB/dead.err" || fail "no chain failure logged: $(cat "$LAB/dead.err")"

note "the same dead hop under proxychains4 (measured, not asserted)"
printf 'strict_chain\ntcp_read_time_out 5000\ntcp_connect_time_out 3000\n[ProxyList]\nsocks5 127.0.0.1 %s\n' \
  "$DEAD" >"$LAB/proxychains.conf"
pc_curl=0 pc_wget=0
timeout 30 proxychains4 -q -f "$LAB/proxychains.conf" curl -sS --max-time 10 "$URL" >/dev/null 2>&1 ||
  pc_curl=$?
timeout 30 proxychains4 -q -f "$LAB/proxychains.conf" busybox wget -q -O - "$URL" >/dev/null 2>&1 ||
  pc_wget=$?
note "measured: proxychains4 + dead hop: curl exit $pc_curl, static busybox wget exit $pc_wget" \
  "(0 = it reached the target around the chain)"

note "exit status and signals pass through"
rc=0
hc_exec --direct exec -- sh -c 'exit 3' || rc=$?
[[ $rc == 3 ]] || fail "exit 3 came back as $rc"
"$HOPCHAIN" --direct exec -- sh -c "echo \$\$ >$LAB/cmd.pid; trap 'exit 42' USR2; exec sleep 60" &
hpid=$!
wait_file "$LAB/cmd.pid" 20 || fail "the command did not start"
kill -TERM "$hpid"
rc=0
wait "$hpid" || rc=$?
[[ $rc == 143 ]] || fail "SIGTERM to hopchain: exit $rc, expected 143 (the command killed by TERM)"
rc=0
hc_exec --direct exec -- no-such-command-hc 2>"$LAB/nf.err" || rc=$?
[[ $rc == 127 ]] || fail "command not found: exit $rc, expected 127"
grep -q "no-such-command-hc: command not found" "$LAB/nf.err" || fail "no clear error: $(cat "$LAB/nf.err")"
rc=0
hc_exec --direct exec -- "$LAB/www/index.html" 2>/dev/null || rc=$?
[[ $rc == 126 ]] || fail "not executable: exit $rc, expected 126"

note "the command has no capabilities (run as root)"
caps=$(hc_exec --direct exec -- grep -E '^Cap(Eff|Prm|Bnd|Amb)' /proc/self/status)
if grep -v ':\s*0000000000000000$' <<<"$caps"; then
  fail "the command kept capabilities"
fi

note "200 concurrent connections byte-checked; a refused one fails alone"
hc_exec "${CHAIN[@]}" exec -- python3 "$HC_SUPPORT/exec_many.py" "$T" "$E" 200 ||
  fail "200 concurrent connections under exec"
hc_exec "${CHAIN[@]}" exec -- python3 "$HC_SUPPORT/exec_many.py" "$T" "$E" 5 --refused "$T:$DEAD" \
  2>"$LAB/refused.err" || fail "a refused connection under exec broke the others"
grep -q "could not reach the target $T:$DEAD" "$LAB/refused.err" ||
  fail "the refused connection was not logged: $(cat "$LAB/refused.err")"

note "a hop killed mid-run fails only the connections through it"
# Round-robin over two one-hop chains: connections alternate between the first microsocks and a
# second one; once the second is killed, its connections end and the others go on, and the
# program and hopchain both carry on to a normal exit.
M2=$(free_port)
start_microsocks "$M2"
M2_PID=$LAB_LAST_PID
lab_bg exec-hold timeout -k 5 120 "$HOPCHAIN" --strategy round-robin --chain-len 1 \
  -x "socks5://127.0.0.1:$M" -x "socks5://127.0.0.1:$M2" \
  exec -- python3 "$HC_SUPPORT/exec_hold.py" "$T" "$E" 6 "$LAB/hold.ready" "$LAB/hold.go"
HOLD_PID=$LAB_LAST_PID
wait_file "$LAB/hold.ready" 30 || fail "the connections under exec did not open: $(cat "$LAB/exec-hold.log")"
lab_kill "$M2_PID"
touch "$LAB/hold.go"
rc=0
wait "$HOLD_PID" || rc=$?
((rc == 0)) || fail "a killed hop ended the program or hopchain (exit $rc): $(cat "$LAB/exec-hold.log")"
grep -qx "alive=3 dead=3" "$LAB/exec-hold.log" ||
  fail "want 3 connections alive and 3 ended (through the killed hop): $(cat "$LAB/exec-hold.log")"

note "ssh with no ProxyCommand reaches the lab sshd"
S=$(free_port)
start_sshd "$S"
S2=$(free_port)
lab_bg ssh-relay "$HOPCHAIN" -q --direct forward "$T:$S2:127.0.0.1:$S"
wait_port "$S2" "$T" || fail "the relay to sshd did not come up"
out=$(hc_exec "${CHAIN[@]}" exec -- ssh -F "$LAB_SSH_CONFIG" -p "$S2" "$LAB_SSH_USER@$T" \
  echo hello-through-exec </dev/null) || fail "ssh under exec failed"
[[ $out == hello-through-exec ]] || fail "ssh under exec said '$out'"

note "as user nobody: an unprivileged user namespace"
if ! nobody_has_userns; then
  note "SKIPPED: unprivileged user namespaces are forbidden here"
else
  out=$(as_nobody timeout -k 5 60 "$HOPCHAIN" "${CHAIN[@]}" exec -- \
    sh -c "id -un; grep ^CapEff /proc/self/status; busybox wget -q -O - $URL") ||
    fail "exec as nobody failed"
  grep -qx nobody <<<"$out" || fail "the command did not run as nobody: $out"
  grep -q "CapEff:.*0000000000000000" <<<"$out" || fail "capabilities as nobody: $out"
  grep -qx exec-through-chain <<<"$out" || fail "as nobody the target was not reached: $out"
fi
note "exec: all checks passed"
