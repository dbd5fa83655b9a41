#!/usr/bin/env bash
# Proves hopchain survives SOCKS4 and HTTP CONNECT servers that misbehave (hostile_server.py):
# SOCKS4 reply VN other than 0, CD 0x5B/0x5C/0x5D with their meanings, the reply truncated at every
# offset; HTTP 403, 407 with and without Proxy-Authenticate (the challenge is shown), 502, an
# HTTP/1.0 refusal, a status line without reason, a header block over 16 KiB, no line ending
# within the limit, endless 1xx interim responses past that same limit, a non-HTTP answer and a
# truncated status line: each exit 1 with the named
# error within HOSTILE_MAX_SECS. Legal variants work and keep the tunnel intact: HTTP/1.0 200,
# LF-only line endings, 200 without reason, 100 and 103 interim responses before the 200, and
# payload glued to the 200 or to the SOCKS4 grant.
set -euo pipefail
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
source "$HC_SUPPORT/lab_hostile.sh"
lab_init
require_hopchain
LAB_CMD_TIMEOUT=20

P=$(free_port); start_hostile "$P"
S4=(-x "socks4a://hcuser@127.0.0.1:$P")
S4IP=(-x "socks4://127.0.0.1:$P")
H=(-x "http://127.0.0.1:$P")
T=(stdio 127.0.0.1 9)   # the hostile server plays the target itself

# --- SOCKS4 ----------------------------------------------------------------------------------
hostile_echo "$P" socks4_ok "SOCKS4a grant" -- "${S4[@]}"
hostile_echo "$P" socks4_glued "payload glued to the SOCKS4 grant" "$HOSTILE_GLUE" -- "${S4IP[@]}"
hostile_fail "$P" socks4_vn_04 "version byte is not 0" "${S4[@]}" "${T[@]}"
hostile_fail "$P" socks4_vn_05 "version byte is not 0" "${S4IP[@]}" "${T[@]}"
hostile_fail "$P" socks4_cd_5b "request rejected or failed (SOCKS4 reply 0x5B)" "${S4[@]}" "${T[@]}"
hostile_fail "$P" socks4_cd_5c "identd (SOCKS4 reply 0x5C)" "${S4[@]}" "${T[@]}"
hostile_fail "$P" socks4_cd_5d "different user id (SOCKS4 reply 0x5D)" "${S4[@]}" "${T[@]}"
hostile_fail "$P" socks4_cd_00 "unknown reply code (SOCKS4 reply 0x00)" "${S4[@]}" "${T[@]}"
for k in $(seq 0 7); do
  hostile_fail "$P" "socks4_trunc_$k" "closed by the proxy during the handshake" "${S4[@]}" "${T[@]}"
done

# --- HTTP CONNECT refusals -------------------------------------------------------------------
hostile_fail "$P" http_403 "HTTP status 403" "${H[@]}" "${T[@]}"
assert_stderr_has "HTTP/1.1 403 Forbidden"
hostile_fail "$P" http_407_challenge "HTTP status 407" "${H[@]}" "${T[@]}"
assert_stderr_has 'Proxy-Authenticate: Basic realm="hostile"'
hostile_fail "$P" http_407_bare "HTTP status 407" "${H[@]}" "${T[@]}"
assert_stderr_lacks "Proxy-Authenticate"
hostile_fail "$P" http_502 "HTTP status 502" "${H[@]}" "${T[@]}"
hostile_fail "$P" http_10_403 "HTTP status 403" "${H[@]}" "${T[@]}"
assert_stderr_has "HTTP/1.0 403"
hostile_fail "$P" http_no_reason_403 "HTTP status 403" "${H[@]}" "${T[@]}"
hostile_fail "$P" http_huge_head "larger than 16 KiB" "${H[@]}" "${T[@]}"
hostile_fail "$P" http_no_crlf "larger than 16 KiB" "${H[@]}" "${T[@]}"
hostile_fail "$P" http_1xx_flood "larger than 16 KiB" "${H[@]}" "${T[@]}"
hostile_fail "$P" http_garbage "malformed HTTP status line" "${H[@]}" "${T[@]}"
hostile_fail "$P" http_trunc_status "closed by the proxy during the handshake" "${H[@]}" "${T[@]}"
hostile_fail "$P" close_at_once "closed by the proxy during the handshake" "${H[@]}" "${T[@]}"
# credentials given: a refusal must not echo them
hostile_fail "$P" http_407_challenge "HTTP status 407" -x "http://hcuser:n0t-a-secret@127.0.0.1:$P" "${T[@]}"
assert_stderr_lacks "n0t-a-secret"
assert_stderr_lacks "$(printf '%s' 'hcuser:n0t-a-secret' | base64)"

# --- HTTP CONNECT variants that must work ----------------------------------------------------
hostile_echo "$P" http_ok "plain 200" -- "${H[@]}"
hostile_echo "$P" http_10_200 "HTTP/1.0 200" -- "${H[@]}"
hostile_echo "$P" http_lf_only "LF-only line endings" -- "${H[@]}"
hostile_echo "$P" http_no_reason_200 "status line without reason phrase" -- "${H[@]}"
hostile_echo "$P" http_glued "payload glued to the 200" "$HOSTILE_GLUE" -- "${H[@]}"
hostile_echo "$P" http_100_200 "interim 100 and 103 before the 200" -- "${H[@]}"
