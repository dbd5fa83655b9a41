#!/usr/bin/env bash
# Proves hopchain survives a SOCKS5 server that misbehaves (tests/support/hostile_server.py, one
# scripted case per connection): every bad method, RFC 1929 and command reply ends in exit 1 with
# the named error within HOSTILE_MAX_SECS: wrong VER, method 0xFF, a method not offered, RFC 1929
# VER 5 and non-zero status, REP 0x01-0x08 with their RFC 1928 meanings and an unassigned REP,
# unknown ATYP, an empty domain BND.ADDR, and the method, auth and command replies truncated at
# every offset and followed by EOF. The cases that are legal must work and carry the tunnel intact:
# RFC 1929 VER 1 success, a 255-byte domain BND.ADDR, a reply delivered one byte per write with
# pauses, and a reply glued to payload in one write (the payload reaches stdout first).
# Every case runs twice: with each handshake step waiting for its reply (--pipeline=never), and
# with greeting, credentials and request sent in one go before any reply (--pipeline=always).
set -euo pipefail
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
source "$HC_SUPPORT/lab_hostile.sh"
lab_init
require_hopchain
LAB_CMD_TIMEOUT=20

P=$(free_port); start_hostile "$P"
HOP=(-x "socks5h://127.0.0.1:$P")
AUTH=(-x "socks5h://fuzzy:n0t-a-secret@127.0.0.1:$P")
T=(stdio 127.0.0.1 9)   # the hostile server plays the target itself
lab_require danted
DA=$(free_port); start_danted dante-a "$DA"

socks5_cases() {
  # --- method negotiation ----------------------------------------------------------------------
  hostile_fail "$P" socks5_badver_method "version byte is not 5" "${HOP[@]}" "${T[@]}"
  assert_stderr_has "hop 1/1"
  assert_stderr_has "auth"
  hostile_fail "$P" socks5_method_ff "no acceptable authentication method" "${HOP[@]}" "${T[@]}"
  # the mode took effect: only the greeting (05 01 00) before the method reply, or the request too
  cap_size=$(stat -c %s "$(hostile_last_capture "$P")")
  if [[ $HOSTILE_PIPELINE == always ]]; then
    ((cap_size > 3)) || fail "--pipeline=always: only $cap_size bytes before the method reply"
  else
    ((cap_size == 3)) || fail "--pipeline=never: $cap_size bytes before the method reply"
  fi
  hostile_fail "$P" socks5_method_02 "method that was not offered" "${HOP[@]}" "${T[@]}"
  hostile_fail "$P" socks5_method_01 "method that was not offered" "${AUTH[@]}" "${T[@]}"
  hostile_fail "$P" socks5_method_80 "method that was not offered" "${HOP[@]}" "${T[@]}"

  # --- RFC 1929 --------------------------------------------------------------------------------
  hostile_echo "$P" socks5_auth_v1_ok "RFC 1929 VER 1 STATUS 0 accepted" -- "${AUTH[@]}"
  hostile_fail "$P" socks5_auth_v5 "RFC 1929 version byte is not 1" "${AUTH[@]}" "${T[@]}"
  hostile_fail "$P" socks5_auth_status_01 "username/password rejected" "${AUTH[@]}" "${T[@]}"
  hostile_fail "$P" socks5_auth_status_ff "username/password rejected" "${AUTH[@]}" "${T[@]}"
  assert_stderr_lacks "n0t-a-secret"

  # --- command reply codes ---------------------------------------------------------------------
  meanings=("" "general SOCKS server failure" "connection not allowed by ruleset" "network unreachable"
    "host unreachable" "connection refused" "TTL expired" "command not supported"
    "address type not supported")
  for rep in 1 2 3 4 5 6 7 8; do
    hostile_fail "$P" "socks5_rep_0$rep" "(SOCKS5 reply 0x0$rep)" "${HOP[@]}" "${T[@]}"
    assert_stderr_has "${meanings[$rep]}"
    assert_stderr_has "could not reach the target"
  done
  hostile_fail "$P" socks5_rep_09 "unassigned reply code 0x09" "${HOP[@]}" "${T[@]}"
  hostile_fail "$P" socks5_rep_ff "(SOCKS5 reply 0xFF)" "${HOP[@]}" "${T[@]}"
  hostile_fail "$P" socks5_badver_reply "version byte is not 5" "${HOP[@]}" "${T[@]}"

  # --- BND.ADDR --------------------------------------------------------------------------------
  hostile_fail "$P" socks5_atyp_05 "unknown address type" "${HOP[@]}" "${T[@]}"
  hostile_fail "$P" socks5_atyp_00 "unknown address type" "${HOP[@]}" "${T[@]}"
  hostile_fail "$P" socks5_domain_0 "empty domain name" "${HOP[@]}" "${T[@]}"
  hostile_echo "$P" socks5_domain_255 "255-byte domain BND.ADDR accepted" -- "${HOP[@]}"

  # --- truncated replies: every offset, then EOF -----------------------------------------------
  for k in 0 1; do
    hostile_fail "$P" "socks5_trunc_method_$k" "closed by the proxy during the handshake" "${HOP[@]}" "${T[@]}"
    hostile_fail "$P" "socks5_trunc_auth_$k" "closed by the proxy during the handshake" "${AUTH[@]}" "${T[@]}"
  done
  for k in $(seq 0 9); do   # VER REP RSV ATYP 4-byte address 2-byte port
    hostile_fail "$P" "socks5_trunc_reply_$k" "closed by the proxy during the handshake" "${HOP[@]}" "${T[@]}"
  done
  for k in $(seq 0 17); do  # VER REP RSV ATYP LEN 11-byte name 2-byte port
    hostile_fail "$P" "socks5_trunc_dreply_$k" "closed by the proxy during the handshake" "${HOP[@]}" "${T[@]}"
  done
  hostile_fail "$P" close_at_once "closed by the proxy during the handshake" "${HOP[@]}" "${T[@]}"
  hostile_fail "$P" reset_at_once "hop 1/1" "${HOP[@]}" "${T[@]}"

  # --- framing ---------------------------------------------------------------------------------
  hostile_echo "$P" socks5_dribble "replies one byte per write, 0.1 s apart" -- "${HOP[@]}"
  hostile_echo "$P" socks5_glued "payload glued to the reply arrives first and intact" "$HOSTILE_GLUE" -- "${HOP[@]}"
  # the same through a real first hop: the glued bytes cross a relay before reaching us
  hostile_echo "$P" socks5_glued "glued payload behind danted" "$HOSTILE_GLUE" -- -x "socks5://127.0.0.1:$DA" "${HOP[@]}"
  hostile_fail "$P" socks5_rep_05 "hop 2/2" -x "socks5://127.0.0.1:$DA" "${HOP[@]}" "${T[@]}"
  assert_stderr_has "(SOCKS5 reply 0x05)"
}

for HOSTILE_PIPELINE in never always; do
  note "=== --pipeline=$HOSTILE_PIPELINE"
  socks5_cases
done
