#!/usr/bin/env bash
# Proves hopchain works as an OpenSSH ProxyCommand: a real `ssh` client logs into the lab
# sshd through `hopchain ... stdio %h %p` over 2-hop chains (danted -> ssh -D, and
# microsocks -> tinyproxy with the target passed by name) and runs a remote command; the
# output must come back exactly, and 1 MiB piped through the remote `cat` must be intact.
# ssh's identification string travels with the last SOCKS request (optimistic data), pipelined
# or (once the hop is known to take pipelining) sequential, as --stats shows, while the hop
# (behind a 30 ms delay) has not answered yet.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
lab_init
require_hopchain

SSHD=$(free_port); start_sshd "$SSHD"
SD=$(free_port); start_ssh_socks "$SD" "$SSHD"
DA=$(free_port); start_danted dante-a "$DA"
MP=$(free_port); start_microsocks "$MP"
TP=$(free_port); start_tinyproxy "$TP"

# run_ssh DESC HOST PROXYCOMMAND REMOTE-COMMAND... (stdin from $SSH_STDIN or /dev/null)
run_ssh() {
  local desc=$1 host=$2 pc=$3 rc=0
  shift 3
  timeout -k 5 60 ssh -F "$LAB_SSH_CONFIG" -o "ProxyCommand=$pc" -p "$SSHD" "$LAB_SSH_USER@$host" "$@" \
    <"${SSH_STDIN:-/dev/null}" >"$LAB/ssh.out" 2>"$LAB/ssh.err" || rc=$?
  if ((rc != 0)); then
    cat "$LAB/ssh.err" >&2
    fail "$desc: ssh exited $rc"
  fi
}

PC1="$HOPCHAIN -x socks5://127.0.0.1:$DA -x socks5h://127.0.0.1:$SD stdio %h %p"
run_ssh "ssh via danted -> ssh -D" 127.0.0.1 "$PC1" echo hello-through-chain
[[ $(cat "$LAB/ssh.out") == hello-through-chain ]] || fail "unexpected ssh output: $(head -c 200 "$LAB/ssh.out")"
note "ok: ssh via danted -> ssh -D: $(cat "$LAB/ssh.out")"

PC2="$HOPCHAIN -x socks5://127.0.0.1:$MP -x http://127.0.0.1:$TP stdio %h %p"
run_ssh "ssh via microsocks -> tinyproxy, host by name" localhost "$PC2" echo hello-through-chain
[[ $(cat "$LAB/ssh.out") == hello-through-chain ]] || fail "unexpected ssh output: $(head -c 200 "$LAB/ssh.out")"
note "ok: ssh via microsocks -> tinyproxy (%h = localhost): $(cat "$LAB/ssh.out")"

make_payload "$LAB/payload" 1048576
for pc in "$PC1" "$PC2"; do
  SSH_STDIN=$LAB/payload run_ssh "1 MiB through remote cat" 127.0.0.1 "$pc" cat
  [[ $(sha256_of "$LAB/ssh.out") == "$(sha256_of "$LAB/payload")" ]] ||
    fail "1 MiB through ssh + cat corrupted ($(stat -c %s "$LAB/ssh.out") bytes back) via: $pc"
  note "ok: 1 MiB through ssh cat via ${pc#"$HOPCHAIN" }"
done

# ssh writes "SSH-2.0-<its release>\r\n" first thing; `ssh -V` prints that release.
release=$(ssh -V 2>&1 | sed 's/,.*//')
IDENT=$((${#release} + 10))
SLOW=$(free_port)
lab_bg slow python3 "$HC_SUPPORT/../bench/delay_proxy.py" --listen "127.0.0.1:$SLOW" \
  --target "127.0.0.1:$DA" --delay-ms 30
wait_port "$SLOW"
# The first run learns, by a background probe, that danted takes pipelining.
for ((i = 0; i < 3; i++)); do
  run_ssh "ssh, learning" 127.0.0.1 "$HOPCHAIN -x socks5://127.0.0.1:$SLOW stdio %h %p" true
  wait_until 5 grep -q "accepts socks5://127.0.0.1:$SLOW" "$XDG_CACHE_HOME/hopchain/pipeline" && break
done
grep -q "accepts socks5://127.0.0.1:$SLOW" "$XDG_CACHE_HOME/hopchain/pipeline" ||
  fail "the delayed danted was never learnt to take pipelining"
for pipeline in never auto; do
  run_ssh "ssh, first bytes, --pipeline=$pipeline" 127.0.0.1 \
    "$HOPCHAIN --stats --pipeline=$pipeline -x socks5://127.0.0.1:$SLOW stdio %h %p" echo first-bytes
  [[ $(cat "$LAB/ssh.out") == first-bytes ]] || fail "first bytes, $pipeline: ssh output '$(cat "$LAB/ssh.out")'"
  line=$(grep -o "first bytes: .*" "$LAB/ssh.err") ||
    { cat "$LAB/ssh.err"; fail "first bytes, $pipeline: ssh's identification did not go with the request"; }
  # Sequential, the request leaves a delayed round trip after start: the string is there. Pipelined,
  # it may come a moment after the batch and then follows before the reply.
  total=$(grep -o '[0-9]* B' <<<"$line" | awk '{ n += $1 } END { print n + 0 }')
  ((total == IDENT)) || fail "first bytes, $pipeline: '$line' (ssh's identification is $IDENT bytes)"
  [[ $pipeline == auto || $line == "first bytes: $IDENT B with the request" ]] ||
    fail "first bytes, $pipeline: '$line'"
  note "ok: ssh through a delayed danted, --pipeline=$pipeline: $line"
done

grep -q "Accepted publickey" "$LAB/sshd-$SSHD.log" || fail "sshd never logged a login"
