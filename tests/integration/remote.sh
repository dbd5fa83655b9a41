#!/usr/bin/env bash
# remote mode: the chain's last hop listens (SOCKS BIND) and a connection to it reaches a local
# echo server. Through 1, 2 and 3 hops (danted last; SOCKS5, SOCKS4 and SOCKS5 in TLS, mixed
# before it in the 3-hop chain): the announced address is parsed from stderr, 1 MiB goes each
# way through it byte-checked, and `--once` exits 0 after the relay; without --once each peer
# gets its own BIND. Nobody connecting within --accept-timeout is a named accept error; a last
# hop without BIND (microsocks) is named, and so is a danted whose rules refuse BIND (0x02); an
# HTTP last hop is refused before anything connects.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
# shellcheck source=SCRIPTDIR/../support/lab_tls.sh
source "$HC_SUPPORT/lab_tls.sh"
lab_init
require_hopchain
lab_require stunnel4 openssl
tls_init_pki
tls_issue proxy "DNS:localhost,IP:127.0.0.1"

E=$(free_port); start_echo "$E" 127.0.0.1
D1=$(free_port); start_danted d1 "$D1"
D2=$(free_port); start_danted d2 "$D2"
M=$(free_port); start_microsocks "$M"
T=$(free_port); start_stunnel tls-d2 "$T" "$D2" proxy
D3=$(free_port); start_danted d3 "$D3"

# echo_client PORT: 1 MiB to 127.0.0.1:PORT, the same bytes back, and only then a close: no
# half-close, which microsocks (a first hop here) would turn into a full close.
echo_client() {
  python3 - "$1" <<'PY'
import os, socket, sys, threading
payload = os.urandom(1 << 20)
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30) as s:
    # Sent from a thread while this one reads, so full buffers cannot stall both ends.
    threading.Thread(target=s.sendall, args=(payload,), daemon=True).start()
    got = bytearray()
    while len(got) < len(payload):
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
sys.exit(0 if bytes(got) == payload else f"echo mismatch: {len(got)} bytes back")
PY
}

# remote_echo DESC HOPCHAIN-OPTIONS... : `remote --once` to the echo server, 1 MiB through the
# announced address, then exit 0.
remote_echo() {
  local desc=$1 err=$LAB/remote.err pid rc=0 addr
  shift
  : >"$err"
  timeout -k 5 60 "$HOPCHAIN" "$@" remote --once "127.0.0.1:$E" </dev/null 2>"$err" &
  pid=$!
  wait_log "$err" 'remote: listening at ' 30
  addr=$(sed -n 's/.*remote: listening at \([^ ]*\) (.*/\1/p' "$err" | head -n 1)
  [[ $addr == 127.0.0.1:* ]] || fail "$desc: unexpected listening address '$addr'"
  echo_client "${addr##*:}" || fail "$desc: echo through $addr failed"
  wait "$pid" || rc=$?
  ((rc == 0)) || { cat "$err" >&2; fail "$desc: hopchain exited $rc after the relay"; }
  note "ok: $desc: 1 MiB through $addr, exit 0"
}

remote_echo "1 hop socks5" -x "socks5://127.0.0.1:$D1"
remote_echo "1 hop socks4" -x "socks4://127.0.0.1:$D1"
remote_echo "2 hops, danted last" -x "socks5://127.0.0.1:$D1" -x "socks5://127.0.0.1:$D2"
remote_echo "2 hops, microsocks first" -x "socks5://127.0.0.1:$M" -x "socks5://127.0.0.1:$D2"
remote_echo "2 hops, socks5+tls last" -x "socks5://127.0.0.1:$D1" \
  -x "socks5+tls://127.0.0.1:$T?cafile=$TLS_CA"
remote_echo "3 hops: socks4, socks5+tls, danted last" -x "socks4://127.0.0.1:$D1" \
  -x "socks5+tls://127.0.0.1:$T?cafile=$TLS_CA" -x "socks5://127.0.0.1:$D3"

# Without --once: after each peer a new BIND at a new address; SIGTERM ends the service with 0.
err=$LAB/persistent.err
timeout -k 5 60 "$HOPCHAIN" -x "socks5://127.0.0.1:$D1" remote "127.0.0.1:$E" </dev/null 2>"$err" &
pid=$!
for n in 1 2; do
  wait_until 30 bash -c "(( \$(grep -c 'remote: listening at ' '$err') >= $n ))" ||
    fail "persistent: listening line $n never came"
  addr=$(grep 'remote: listening at ' "$err" | sed -n "${n}s/.*listening at \([^ ]*\) (.*/\1/p")
  echo_client "${addr##*:}" || fail "persistent: echo $n through $addr failed"
done
wait_until 30 bash -c "(( \$(grep -c 'remote: listening at ' '$err') >= 3 ))" ||
  fail "persistent: no third BIND"
# A burst, as a group kill gives (timeout signals hopchain and then its whole group): the first
# one chooses the exit status, the later ones must not turn it into a death by signal.
for _ in $(seq 20); do kill -TERM "$pid" 2>/dev/null || break; done
rc=0; wait "$pid" || rc=$?
((rc == 0)) || { cat "$err" >&2; fail "persistent: exit $rc after SIGTERM"; }
note "ok: without --once: two peers through two BINDs, a third waiting, exit 0 on a burst of SIGTERMs"

# `--once` interrupted before its connection: a failed transfer, 128 + SIGTERM.
err=$LAB/once-term.err
timeout -k 5 60 "$HOPCHAIN" -x "socks5://127.0.0.1:$D1" remote --once "127.0.0.1:$E" \
  </dev/null 2>"$err" &
pid=$!
wait_log "$err" 'remote: listening at ' 30
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
((rc == 143)) || { cat "$err" >&2; fail "--once: exit $rc after SIGTERM, expected 143"; }
note "ok: --once interrupted while waiting: exit 143"

# Nobody connects: a named accept error, well within a bound.
expect_fail_with "accept: timed out" "$HOPCHAIN" -x "socks5://127.0.0.1:$M" \
  -x "socks5://127.0.0.1:$D2" remote --once --accept-timeout 1 "127.0.0.1:$E"
assert_rc 1
assert_stderr_has "hop 2/2 socks5://127.0.0.1:$D2: accept: timed out"
assert_stderr_has "remote: listening at 127.0.0.1:"
awk -v s="$LAB_LAST_SECS" 'BEGIN { exit !(s < 20) }' || fail "accept timeout took ${LAB_LAST_SECS}s"
note "ok: --accept-timeout 1 after ${LAB_LAST_SECS}s: $(tail -n 1 "$LAB_LAST_ERR")"

# An HTTP last hop cannot BIND: refused before connecting (the port has no listener at all).
H=$(free_port)
expect_fail_with "hop 2/2 http://127.0.0.1:$H: BIND needs a SOCKS4 or SOCKS5 hop" "$HOPCHAIN" \
  -x "socks5://127.0.0.1:$D1" -x "http://127.0.0.1:$H" remote --once "127.0.0.1:$E"
assert_rc 2
assert_stderr_lacks "connect"
note "ok: HTTP last hop refused before connecting"

# microsocks does CONNECT only: its refusal is named with the reply code's meaning.
expect_fail_with "command not supported (SOCKS5 reply 0x07): BIND refused" "$HOPCHAIN" \
  -x "socks5://127.0.0.1:$D1" -x "socks5://127.0.0.1:$M" remote --once "127.0.0.1:$E"
assert_rc 1
assert_stderr_has "hop 2/2 socks5://127.0.0.1:$M: request:"
note "ok: a last hop without BIND: $(tail -n 1 "$LAB_LAST_ERR")"

# A danted whose rules do not allow BIND refuses it by rule (0x02): named, with the hop.
NB=$(free_port)
sed -e 's/command: bind connect udpassociate/command: connect udpassociate/' \
  -e "s/port = $D1\$/port = $NB/" -e "s#$LAB/d1.log#$LAB/nobind.log#" "$LAB/d1.conf" >"$LAB/nobind.conf"
grep -q "port = $NB" "$LAB/nobind.conf" || fail "nobind.conf: port not replaced"
lab_bg nobind danted -f "$LAB/nobind.conf" -N 1 -p "$LAB/nobind.pid"
wait_port "$NB" 127.0.0.1 15 || fail "danted without bind did not start"
expect_fail_with "connection not allowed by ruleset (SOCKS5 reply 0x02)" "$HOPCHAIN" \
  -x "socks5://127.0.0.1:$D1" -x "socks5://127.0.0.1:$NB" remote --once "127.0.0.1:$E"
assert_rc 1
assert_stderr_has "hop 2/2 socks5://127.0.0.1:$NB: request:"
assert_stderr_has "the hop refused this BIND"
note "ok: a danted that does not allow BIND: $(tail -n 1 "$LAB_LAST_ERR")"

# A target that is not HOST:PORT is a usage error.
expect_fail_with "remote: bad target 'nowhere'" "$HOPCHAIN" -x "socks5://127.0.0.1:$D1" \
  remote nowhere
assert_rc 2
note "ok: bad target refused"
