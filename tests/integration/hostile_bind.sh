#!/usr/bin/env bash
# The second BIND reply from a SOCKS server that misbehaves (tests/support/hostile_server.py,
# bind*_second_* cases), through `remote --once`: a second reply with an error code is a named
# accept error (SOCKS5 REP 0x01-0x08 with their meanings, SOCKS4 CD 0x5B); one truncated at any
# offset and then EOF, or that is not a SOCKS5 reply at all, is named too, each within
# HOSTILE_MAX_SECS; one that never comes ends at --accept-timeout with "accept: timed out". Bytes
# glued to a good second reply are the peer's payload: with --stdio they reach stdout first.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
# shellcheck source=SCRIPTDIR/../support/lab_hostile.sh
source "$HC_SUPPORT/lab_hostile.sh"
lab_init
require_hopchain
LAB_CMD_TIMEOUT=20

P=$(free_port); start_hostile "$P"
E=$(free_port); start_echo "$E"
R5=(-x "socks5://127.0.0.1:$P" remote --once "127.0.0.1:$E")
R4=(-x "socks4://127.0.0.1:$P" remote --once "127.0.0.1:$E")

meanings=("" "general SOCKS server failure" "connection not allowed by ruleset" "network unreachable"
  "host unreachable" "connection refused" "TTL expired" "command not supported"
  "address type not supported")
for rep in 1 2 3 4 5 6 7 8; do
  hostile_fail "$P" "bind5_second_rep_0$rep" "hop 1/1 socks5://127.0.0.1:$P: accept: " "${R5[@]}"
  assert_stderr_has "${meanings[$rep]} (SOCKS5 reply 0x0$rep)"
  assert_stderr_has "remote: listening at 127.0.0.1:40000"
done
hostile_fail "$P" bind4_second_cd_5b "hop 1/1 socks4://127.0.0.1:$P: accept: " "${R4[@]}"
assert_stderr_has "0x5B"

for k in $(seq 0 9); do   # VER REP RSV ATYP 4-byte address 2-byte port, then EOF
  hostile_fail "$P" "bind5_second_trunc_$k" "accept: connection closed by the proxy during the handshake" \
    "${R5[@]}"
done
hostile_fail "$P" bind5_second_garbage "accept: " "${R5[@]}"
assert_stderr_has "version byte is not 5"

# No second reply: the --accept-timeout bound, named.
hostile_fail "$P" bind5_second_silent "accept: timed out" "${R5[@]}" --accept-timeout 1
assert_stderr_has "nobody connected to 127.0.0.1:40000 within 1 s"

# Payload glued to the second reply is the peer's first bytes, not part of the reply.
hostile_case "$P" bind5_second_glued
out=$LAB/glued.out
timeout -k 5 20 "$HOPCHAIN" -x "socks5://127.0.0.1:$P" remote --stdio \
  </dev/null >"$out" 2>"$LAB/glued.err" || { cat "$LAB/glued.err" >&2; fail "glued: exit $?"; }
[[ $(cat "$out") == "${HOSTILE_GLUE%$'\n'}" ]] || fail "glued: stdout was '$(head -c 80 "$out")'"
note "ok: bytes glued to the second reply reach --stdio's stdout intact"
