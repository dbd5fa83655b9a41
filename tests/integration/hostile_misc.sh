#!/usr/bin/env bash
# Proves the hostile cases that are not about one protocol's reply bytes:
# - timeouts: a hop that accepts and never sends, and hops that send a byte every second forever
#   (SOCKS5 reply dribbled, HTTP header that never ends) fail with "timed out" after
#   --connect-timeout 2 (1.5 s <= t < 5 s), exit 1;
# - names: a 255-byte host works with socks5h (and goes out as ATYP 3, length 255); 256 and
#   65,535 bytes are refused with a clear error before anything is sent (the hop receives
#   nothing); CR, LF and space in the host of an HTTP CONNECT target, and NUL/CR in a chain-file
#   host, are refused the same way;
# - credentials of hop k never reach hop k+1 or the target: a chain microsocks(user1) ->
#   capturing HTTP hop(user2) -> capturing SOCKS5 hop(user3) -> capturing target, where each
#   capture must lack every earlier hop's password (plain and Basic-encoded);
# - forward mode: a connection whose hop misbehaves (REP 0x05, or a silent hop) is closed alone
#   while the listener keeps serving other connections, including during the hung handshake.
set -euo pipefail
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
source "$HC_SUPPORT/lab_hostile.sh"
lab_init
require_hopchain
LAB_CMD_TIMEOUT=20

P=$(free_port); start_hostile "$P"
T=(stdio 127.0.0.1 9)

timed_out_ok() { # CASE HOPCHAIN-ARGS... : --connect-timeout 2 must fire
  local case=$1
  shift
  hostile_case "$P" "$case"
  expect_fail_with "timed out" "$HOPCHAIN" --connect-timeout 2 "$@"
  assert_rc 1
  assert_stderr_has "no answer within 2 s"
  awk -v s="$LAB_LAST_SECS" 'BEGIN { exit !(s >= 1.5 && s < 5) }' ||
    fail "$case: timed out after ${LAB_LAST_SECS}s (want 1.5 s <= t < 5 s)"
  note "ok: $case -> timed out after ${LAB_LAST_SECS}s"
}

# --- handshake timeouts ----------------------------------------------------------------------
timed_out_ok silent -x "socks5h://127.0.0.1:$P" "${T[@]}"
timed_out_ok silent -x "http://127.0.0.1:$P" "${T[@]}"
timed_out_ok silent -x "socks4a://127.0.0.1:$P" "${T[@]}"
timed_out_ok socks5_drip -x "socks5h://127.0.0.1:$P" "${T[@]}"
timed_out_ok http_drip -x "http://127.0.0.1:$P" "${T[@]}"

# --- names -----------------------------------------------------------------------------------
label=$(printf 'a%.0s' {1..63})
name255="$label.$label.$label.$label"   # 4 x 63 + 3 dots = 255 bytes
((${#name255} == 255)) || fail "test bug: name is ${#name255} bytes"
hostile_case "$P" socks5_ok
DRIVER_PREFIX="" driver_echo_check "255-byte host through socks5h" 4096 "$name255" 443 -x "socks5h://127.0.0.1:$P"
cap=$(hostile_last_capture "$P")
# greeting 05 01 00, then VER CMD RSV ATYP=3 LEN=255 NAME PORT
want=$(printf '050100''05010003ff%s01bb' "$(printf '%s' "$name255" | od -An -tx1 -v | tr -d ' \n')")
got=$(head -c $((3 + 5 + 255 + 2)) "$cap" | od -An -tx1 -v | tr -d ' \n')
[[ $got == "$want" ]] || fail "255-byte name: request bytes differ: $got"
note "ok: the 255-byte name went out as ATYP 3, length 255"

n256="a$name255"
n65535=$(head -c 65535 /dev/zero | tr '\0' 'b')
for scheme in socks5h socks5 socks4a http; do
  for name in "$n256" "$n65535"; do
    before=$(hostile_conns "$P")
    hostile_case "$P" socks5_ok
    expect_fail_with "longer than 255 bytes" "$HOPCHAIN" -x "$scheme://127.0.0.1:$P" stdio "$name" 443
    assert_rc 2
    assert_no_bytes_since "$P" "$before"
  done
  note "ok: $scheme: 256- and 65,535-byte hosts refused before anything was sent"
done
before=$(hostile_conns "$P")
expect_fail_with "longer than 255 bytes" "$HOPCHAIN" -x "socks5h://127.0.0.1:$P" forward "40000:$n256:443"
assert_rc 2
assert_no_bytes_since "$P" "$before"
note "ok: forward spec with a 256-byte host refused"

for bad in $'evil.example\r\nX-Injected: 1' $'evil.example\nX' 'evil example' $'evil\texample'; do
  before=$(hostile_conns "$P")
  hostile_case "$P" http_ok
  expect_fail_with "host" "$HOPCHAIN" -x "http://127.0.0.1:$P" stdio "$bad" 443
  assert_rc 2
  assert_no_bytes_since "$P" "$before"
done
note "ok: CR, LF, space and TAB in the CONNECT host refused before anything was sent"
# the next hop's host is what an HTTP hop is asked to CONNECT to: NUL and CR there too
printf 'http://127.0.0.1:%s\nsocks5h://ev\0il.example:1080\n' "$P" >"$LAB/nul.chain"
printf 'http://127.0.0.1:%s\nsocks5h://ev\ril.example:1080\n' "$P" >"$LAB/cr.chain"
for f in nul cr; do
  before=$(hostile_conns "$P")
  expect_fail_with "forbidden character" "$HOPCHAIN" -f "$LAB/$f.chain" "${T[@]}"
  assert_rc 2
  assert_stderr_has "$f.chain:2"
  assert_no_bytes_since "$P" "$before"
done
note "ok: NUL and CR in a chain-file host refused before anything was sent"

# --- credentials stay with their hop ---------------------------------------------------------
lab_require microsocks
M=$(free_port); start_microsocks "$M" hop1user Hop1-Pass-5150
HH=$(free_port); start_hostile "$HH" http_forward
HS=$(free_port); start_hostile "$HS" socks5_forward
TG=$(free_port); start_hostile "$TG" target_echo
DRIVER_PREFIX="" driver_echo_check "3 authenticated hops to a capturing target" 65536 127.0.0.1 "$TG" \
  -x "socks5://hop1user:Hop1-Pass-5150@127.0.0.1:$M" \
  -x "http://hop2user:Hop2-Pass-6160@127.0.0.1:$HH" \
  -x "socks5h://hop3user:Hop3-Pass-7170@127.0.0.1:$HS"
b64() { printf '%s' "$1" | base64 -w0; }
B1=$(b64 hop1user:Hop1-Pass-5150) B2=$(b64 hop2user:Hop2-Pass-6160) B3=$(b64 hop3user:Hop3-Pass-7170)
cap2=$(hostile_last_capture "$HH") cap3=$(hostile_last_capture "$HS") capt=$(hostile_last_capture "$TG")
# sanity: each hop did get its own credentials, so the captures are the right ones
grep -qaF "Proxy-Authorization: Basic $B2" "$cap2" || fail "hop 2 capture lacks its own Basic credentials"
grep -qaF "Hop3-Pass-7170" "$cap3" || fail "hop 3 capture lacks its own RFC 1929 password"
assert_file_lacks "$cap2" "bytes sent to hop 2" Hop1-Pass-5150 hop1user "$B1"
assert_file_lacks "$cap3" "bytes sent to hop 3" Hop1-Pass-5150 Hop2-Pass-6160 "$B1" "$B2" hop1user hop2user
assert_file_lacks "$capt" "bytes sent to the target" Hop1-Pass-5150 Hop2-Pass-6160 Hop3-Pass-7170 \
  "$B1" "$B2" "$B3" hop1user hop2user hop3user Proxy-Authorization
[[ $(stat -c %s "$capt") == 65536 ]] || fail "the target received $(stat -c %s "$capt") bytes, want exactly the 65536 payload bytes"
note "ok: hop k's credentials appear neither at hop k+1 nor at the target (which got the payload only)"

# --- forward mode: one bad connection, the listener keeps serving ------------------------------
L=$(free_port)
lab_bg hopchain-forward "$HOPCHAIN" --connect-timeout 3 -x "socks5h://127.0.0.1:$P" forward "$L:127.0.0.1:9"
HC_PID=$LAB_LAST_PID
wait_port "$L" 127.0.0.1 15 || fail "hopchain forward is not listening on $L"
hc_alive() {
  [[ -n $(_lab_live_in_groups "$HC_PID") ]] || {
    cat "$LAB/hopchain-forward.log" >&2
    fail "hopchain forward exited ($1)"
  }
}
hostile_case "$P" socks5_rep_05
out=$(timeout 20 python3 "$HC_SUPPORT/tcp_check.py" closed 127.0.0.1 "$L" --timeout 15 2>&1) ||
  fail "forward, REP 0x05: $out"
hc_alive "after a refused connection"
grep -qF "(SOCKS5 reply 0x05)" "$LAB/hopchain-forward.log" || fail "forward mode did not log the reply code"
hostile_case "$P" socks5_ok
out=$(timeout 30 python3 "$HC_SUPPORT/tcp_check.py" echo 127.0.0.1 "$L" --count 5 --timeout 25 2>&1) ||
  fail "forward, echo after a refused connection: $out"
note "ok: forward: a REP 0x05 connection was closed alone, then: $out"
# a handshake that hangs does not hold up the listener, and ends at the timeout
hostile_case "$P" silent
before=$(hostile_conns "$P")
timeout 20 python3 "$HC_SUPPORT/tcp_check.py" closed 127.0.0.1 "$L" --timeout 15 >"$LAB/hung.out" 2>&1 &
hung=$!
hostile_wait_conns "$P" $((before + 1))   # the silent case is playing for it
hostile_case "$P" socks5_ok
t0=$(date +%s.%N)
out=$(timeout 30 python3 "$HC_SUPPORT/tcp_check.py" echo 127.0.0.1 "$L" --count 3 --timeout 25 2>&1) ||
  fail "forward, echo while another handshake hangs: $out"
secs=$(_lab_secs_since "$t0")
awk -v s="$secs" 'BEGIN { exit !(s < 2) }' || fail "echo waited ${secs}s behind a hung handshake"
rc=0
wait "$hung" || rc=$?
((rc == 0)) || { cat "$LAB/hung.out" >&2; fail "the hung connection was not closed at the timeout"; }
grep -qF "timed out" "$LAB/hopchain-forward.log" || fail "forward mode did not log the timeout"
hc_alive "at the end"
note "ok: forward: echo served in ${secs}s while another handshake hung; that one closed at its timeout"
