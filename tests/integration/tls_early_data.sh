#!/usr/bin/env bash
# TLS 1.3 early data (`?early-data=1`, off by default) through a real 0-RTT server: HAProxy in
# TCP mode (allow-0rtt) in front of danted, as the middle of three hops. The first stdio run does
# a full handshake and keeps the session (XDG cache); the next runs resume it and send the hop's
# own SOCKS handshake as early data with the ClientHello, behind hop 1's request: -v says
# "accepted", the echo is exact, and the user's bytes never ride in the early data (they follow
# the handshake, before the replies: "0 B with the request, 4096 B more"). Without the parameter, with --pipeline=never, and through stunnel (whose
# sessions allow no early data) nothing goes early. A server that lost its ticket keys
# (restarted) refuses the early data: the handshake follows the full handshake, once.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
# shellcheck source=SCRIPTDIR/../support/lab_tls.sh
source "$HC_SUPPORT/lab_tls.sh"
lab_init
require_hopchain
lab_require haproxy stunnel4 openssl

tls_init_pki
tls_issue proxy "DNS:localhost,IP:127.0.0.1"
E=$(free_port); start_echo "$E"
D1=$(free_port); start_danted dante-1 "$D1"
D2=$(free_port); start_danted dante-2 "$D2"
D3=$(free_port); start_danted dante-3 "$D3"
H=$(free_port); start_haproxy_tls haproxy "$H" "$D2" proxy
HAPROXY_PID=$LAB_LAST_PID
S=$(free_port); start_stunnel stunnel "$S" "$D2" proxy
export XDG_CACHE_HOME=$LAB/xdg-cache
PAYLOAD=$LAB/payload
make_payload "$PAYLOAD" 4096

# run DESC TLS-HOP-URL [OPTIONS...]: a -v stdio run through danted -> the TLS hop -> danted with
# PAYLOAD echoed; its stderr in $LAB/run.err
run() {
  local desc=$1 url=$2
  shift 2
  timeout -k 5 "$LAB_CMD_TIMEOUT" "$HOPCHAIN" -v "$@" -x "socks5://127.0.0.1:$D1" -x "$url" \
    -x "socks5://127.0.0.1:$D3" stdio 127.0.0.1 "$E" <"$PAYLOAD" >"$LAB/run.out" 2>"$LAB/run.err" ||
    { cat "$LAB/run.err" >&2; fail "$desc: hopchain failed"; }
  cmp -s "$PAYLOAD" "$LAB/run.out" || fail "$desc: the echo differs"
}
has() { grep -qF -- "$1" "$LAB/run.err" || { cat "$LAB/run.err" >&2; fail "$2: no '$1' in the log"; }; }
lacks() { ! grep -qF -- "$1" "$LAB/run.err" || { cat "$LAB/run.err" >&2; fail "$2: '$1' in the log"; }; }

EARLY="socks5h+tls://localhost:$H?cafile=$TLS_CA&early-data=1"
run "first run" "$EARLY" --pipeline=always
has "(ClientHello sent with hop 1's request)" "first run"
lacks "resumed" "first run"
for i in 1 2; do
  run "resumed run $i" "$EARLY" --pipeline=always
  has "resumed (ClientHello sent with hop 1's request, hop 2's handshake as early data, accepted)" \
    "resumed run $i"
  # the user's bytes never go as early data: they follow the TLS handshake, before the reply
  has "first bytes: 0 B with the request, 4096 B (4.0 KiB) more before the reply" "resumed run $i"
done
note "ok: hop 2's handshake went as early data with the ClientHello, and HAProxy took it"

run "no early-data=1" "socks5h+tls://localhost:$H?cafile=$TLS_CA" --pipeline=always
has "resumed (ClientHello sent with hop 1's request)" "no early-data=1"
run "--pipeline=never" "$EARLY" --pipeline=never
lacks "early data" "--pipeline=never"
lacks "ClientHello sent" "--pipeline=never"
STUNNEL="socks5h+tls://localhost:$S?cafile=$TLS_CA&early-data=1"
run "stunnel, first" "$STUNNEL" --pipeline=always
run "stunnel, resumed" "$STUNNEL" --pipeline=always
has "resumed (ClientHello sent with hop 1's request)" "stunnel (no 0-RTT)"
lacks "early data" "stunnel (no 0-RTT)"
note "ok: no early data without early-data=1, with --pipeline=never, or to a server that allows none"

# HAProxy restarted: new ticket keys, so the kept session is refused, and its early data with it.
lab_kill "$HAPROXY_PID"
start_haproxy_tls haproxy-again "$H" "$D2" proxy
run "restarted server" "$EARLY" --pipeline=always
has "early data refused: hop 2's handshake follows" "restarted server"
lacks "resumed" "restarted server"
note "ok: refused early data is sent once the handshake is done, and the tunnel works"
