#!/usr/bin/env bash
# TLS session resumption: a forward process keeps the session a socks5+tls hop (stunnel in
# front of danted) gave on its first connection and offers it on the next: the first handshake
# is full, the later ones say "resumed" at -v, and each 4 KiB echo is exact. Across stdio runs
# the session is kept in $XDG_CACHE_HOME/hopchain/tls-sessions (mode 0600) and offered by the
# next run; a file open to others is ignored; HOPCHAIN_NO_TLS_CACHE writes no file.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
# shellcheck source=SCRIPTDIR/../support/lab_tls.sh
source "$HC_SUPPORT/lab_tls.sh"
lab_init
require_hopchain
lab_require stunnel4 openssl python3

tls_init_pki
tls_issue proxy "DNS:localhost,IP:127.0.0.1"
E=$(free_port); start_echo "$E"
DA=$(free_port); start_danted dante-a "$DA"
SA=$(free_port); start_stunnel tls-dante-a "$SA" "$DA" proxy

# run_forward NAME HOP-URL: a forward process through HOP-URL; three connections, one at a time;
# leaves the log in $LAB/NAME.log
run_forward() {
  local name=$1 url=$2 port i
  port=$(free_port)
  lab_bg "$name" "$HOPCHAIN" -v -x "$url" forward "$port:127.0.0.1:$E"
  wait_port "$port" || fail "$name: forward did not listen on $port"
  for i in 1 2 3; do
    timeout 30 python3 "$HC_SUPPORT/echo_once.py" "$port" || fail "$name: echo $i failed"
    wait_log "$LAB/$name.log" "\\[c$i\\] .*closed: " 10
  done
}

run_forward verified "socks5+tls://127.0.0.1:$SA?cafile=$TLS_CA"
tls_lines=$(grep -E "hop 1/1 .*: TLSv1\\.[23] .* verified" "$LAB/verified.log")
[[ $(grep -c . <<<"$tls_lines") == 3 ]] || { cat "$LAB/verified.log"; fail "expected 3 TLS handshakes"; }
grep -q "\\[c1\\].*resumed" <<<"$tls_lines" && fail "the first handshake cannot be resumed"
[[ $(grep -c "\\[c[23]\\].*verified, resumed in" <<<"$tls_lines") == 2 ]] ||
  { cat "$LAB/verified.log"; fail "the second and third handshakes were not resumed"; }
note "ok: forward through socks5+tls: first handshake full, the next two resumed"

# --- across stdio runs: the cache file ----------------------------------------------------------
URL="socks5+tls://127.0.0.1:$SA?cafile=$TLS_CA"
export XDG_CACHE_HOME="$LAB/cache"
FILE="$XDG_CACHE_HOME/hopchain/tls-sessions"
printf 'ping\n' >"$LAB/ping"

# run NAME: one stdio run through the hop, echoing "ping"; its -v log in $LAB/NAME.log
run() {
  timeout -k 5 30 "$HOPCHAIN" -v -x "$URL" stdio 127.0.0.1 "$E" <"$LAB/ping" >"$LAB/$1.out" \
    2>"$LAB/$1.log" || { cat "$LAB/$1.log"; fail "$1: stdio run failed"; }
  [[ $(cat "$LAB/$1.out") == ping ]] || fail "$1: echo differs"
}

run first
grep -E "hop 1/1 .*: TLSv1\\.[23] .* verified" "$LAB/first.log" | grep -q resumed &&
  fail "the first run cannot resume"
[[ -f $FILE ]] || fail "no session file written"
[[ $(stat -c %a "$FILE") == 600 ]] || fail "session file mode is $(stat -c %a "$FILE")"
[[ $(stat -c %a "$XDG_CACHE_HOME/hopchain") == 700 ]] || fail "cache dir is not 0700"
run second
grep -E "hop 1/1 .*verified, resumed in" "$LAB/second.log" ||
  { cat "$LAB/second.log"; fail "the second run did not resume"; }
note "ok: the second stdio run resumed the first run's session"

chmod 666 "$FILE"
run open
grep -q "ignoring the session cache .*readable or writable by others" "$LAB/open.log" ||
  { cat "$LAB/open.log"; fail "a mode 0666 file was not refused"; }
grep -q "resumed" "$LAB/open.log" && fail "resumed from a file open to others"
note "ok: a session file open to others is ignored, full handshake"

rm -rf "$XDG_CACHE_HOME"
HOPCHAIN_NO_TLS_CACHE=1 run off
[[ ! -e $FILE ]] || fail "HOPCHAIN_NO_TLS_CACHE still wrote $FILE"
note "ok: HOPCHAIN_NO_TLS_CACHE writes no session file"
