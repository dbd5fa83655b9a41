#!/usr/bin/env bash
# Proves hopchain works as an OpenSSH ProxyCommand: a real `ssh` client logs into the lab
# sshd through `hopchain ... stdio %h %p` over 2-hop chains (danted -> ssh -D, and
# microsocks -> tinyproxy with the target passed by name) and runs a remote command; the
# output must come back exactly, and 1 MiB piped through the remote `cat` must be intact.
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

grep -q "Accepted publickey" "$LAB/sshd-$SSHD.log" || fail "sshd never logged a login"
