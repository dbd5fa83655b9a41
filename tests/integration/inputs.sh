#!/usr/bin/env bash
# Proves that inputs hopchain cannot use are refused at startup, promptly, with exit 2 and a
# message naming them, and that odd standard descriptors and '#' in passwords behave as
# documented:
#   - every seconds option (--connect-timeout, --fail-timeout, --udp-timeout) refuses nan, inf,
#     negative, zero where meaningless and absurd values, naming the option and its range;
#   - chain files (-f, -c), the credentials file and socks --users files that are /dev/zero, a
#     FIFO (no writer: must not block), a directory or over 1 MiB are refused;
#   - stdio with stdin closed (<&-) reads it as empty: nothing reaches the target, the target's
#     bytes still arrive, and hopchain exits when the target closes; with stdout or stderr
#     closed, neither data nor log lines land on another descriptor (a socket, an eventfd);
#   - a '#' inside a password works in the credentials file and in a users file, and a
#     trailing comment in the credentials file is a named error (comments are whole lines).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
lab_init
require_hopchain
lab_require microsocks mkfifo truncate
LAB_CMD_TIMEOUT=20 # a refusal is immediate; a hang is caught long before the harness timeout

# refused SUBSTR CMD... : exit 2, SUBSTR in stderr, within 10 s even on a loaded machine
refused() {
  local want=$1
  shift
  expect_fail_with "$want" "$@"
  assert_rc 2
  awk -v s="$LAB_LAST_SECS" 'BEGIN { exit !(s < 10) }' ||
    fail "refusing took ${LAB_LAST_SECS}s: $*"
}

# --- seconds options -----------------------------------------------------------------------------
for v in nan NaN inf -inf -1 0 1e10 1e16 1e400 abc; do
  refused "hopchain: --connect-timeout: expected seconds more than 0 and at most 3600" \
    "$HOPCHAIN" --direct --connect-timeout "$v" stdio 127.0.0.1 9
  refused "hopchain: --udp-timeout: expected seconds more than 0 and at most 86400" \
    "$HOPCHAIN" --direct udp --udp-timeout "$v" 9:127.0.0.1:9
done
for v in nan inf -1 -0.5 1e10 1e16; do
  refused "hopchain: --fail-timeout: expected seconds from 0 to 86400" \
    "$HOPCHAIN" --direct --fail-timeout "$v" stdio 127.0.0.1 9
done
note "ok: seconds options refuse nan, inf, negative, zero (where meaningless) and absurd values"

# --- files that are not small regular files ------------------------------------------------------
export XDG_CONFIG_HOME=$LAB/config
CFG=$XDG_CONFIG_HOME/hopchain
mkdir -p "$CFG/chains"
mkfifo "$LAB/fifo"
mkdir "$LAB/dir"
truncate -s $((1024 * 1024 + 1)) "$LAB/big"
chmod 600 "$LAB/big"
declare -A WHY=([/dev/zero]="character device" [$LAB/fifo]="FIFO" [$LAB/dir]="directory"
  [$LAB/big]="larger than 1 MiB")
for path in /dev/zero "$LAB/fifo" "$LAB/dir" "$LAB/big"; do
  why=${WHY[$path]}
  refused "cannot read chain file $path: " "$HOPCHAIN" -f "$path" check
  assert_stderr_has "$why"
  ln -sfn "$path" "$CFG/chains/odd"
  refused "cannot read chain file $CFG/chains/odd: " "$HOPCHAIN" -c odd check
  assert_stderr_has "$why"
  ln -sfn "$path" "$CFG/credentials"
  refused "cannot read $CFG/credentials: " "$HOPCHAIN" -x socks5://u@127.0.0.1:9 check
  assert_stderr_has "$why"
  refused "--users $path: " "$HOPCHAIN" --direct socks --users "$path" 127.0.0.1:9
  assert_stderr_has "$why"
done
rm -f "$CFG/credentials" "$CFG/chains/odd"
note "ok: /dev/zero, a FIFO, a directory and a 1 MiB + 1 file refused as -f, -c, credentials, --users"

# --- stdio with a standard descriptor closed -----------------------------------------------------
# recorder.py PORT LOG: per connection, sends a banner, reads until EOF (20 s at most), then
# appends what it received (repr) to LOG and closes.
cat >"$LAB/recorder.py" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
while True:
    c, _ = s.accept()
    c.settimeout(20)
    c.sendall(b"banner-from-target\n")
    got = b""
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            got += d
    except OSError as e:
        got += b"<" + str(e).encode() + b">"
    with open(sys.argv[2], "a") as f:
        f.write(repr(got) + "\n")
    c.close()
EOF
R=$(free_port)
lab_bg recorder python3 "$LAB/recorder.py" "$R" "$LAB/received"
wait_port "$R" || fail "recorder did not listen"
printf 'ping\n' >"$LAB/ping"

# last_received WANT DESC : the recorder's latest connection got exactly WANT (a Python repr)
received_all() { [[ $(wc -l <"$LAB/received" 2>/dev/null || echo 0) -ge $RUNS ]]; }
last_received() {
  wait_until 10 received_all || true
  [[ $(tail -n 1 "$LAB/received") == "$1" ]] ||
    fail "$2: the target received $(tail -n 1 "$LAB/received"), want $1"
}
RUNS=0
# hc_stdio : one bounded stdio run with -v; the caller's redirections open or close 0, 1 and 2
hc_stdio() {
  RUNS=$((RUNS + 1))
  timeout -k 5 30 "$HOPCHAIN" --direct -v stdio 127.0.0.1 "$R"
}

hc_stdio <&- >"$LAB/out" 2>"$LAB/err" || fail "stdin closed: exit $?"
last_received "b''" "stdin closed"
[[ $(cat "$LAB/out") == banner-from-target ]] || fail "stdin closed: stdout is '$(cat "$LAB/out")'"
note "ok: stdio <&- sends nothing, delivers the target's bytes and exits when the target closes"

hc_stdio <"$LAB/ping" >&- 2>"$LAB/err" || fail "stdout closed: exit $?"
last_received "b'ping\\n'" "stdout closed"
grep -q "hopchain" "$LAB/err" || fail "stdout closed: no log line on stderr"
grep -q "banner-from-target" "$LAB/err" && fail "stdout closed: the target's bytes went to stderr"

hc_stdio <"$LAB/ping" >"$LAB/out" 2>&- || fail "stderr closed: exit $?"
last_received "b'ping\\n'" "stderr closed"
[[ $(cat "$LAB/out") == banner-from-target ]] || fail "stderr closed: stdout is '$(cat "$LAB/out")'"

hc_stdio <&- >"$LAB/out" 2>&- || fail "stdin and stderr closed: exit $?"
last_received "b''" "stdin and stderr closed"
[[ $(cat "$LAB/out") == banner-from-target ]] || fail "stdin, stderr closed: stdout '$(cat "$LAB/out")'"
note "ok: with stdout or stderr closed, data and log lines stay on their own descriptors"

# --- '#' in passwords ----------------------------------------------------------------------------
HASH_PW='Pa#ss-4417'
E=$(free_port)
start_echo "$E"
M=$(free_port)
start_microsocks "$M" hashuser "$HASH_PW"
printf '# my proxies\nmachine 127.0.0.1 port %s login hashuser password %s\n' "$M" "$HASH_PW" \
  >"$CFG/credentials"
chmod 600 "$CFG/credentials"
timeout -k 5 30 "$HOPCHAIN" -x "socks5://hashuser@127.0.0.1:$M" check 127.0.0.1 "$E" \
  >"$LAB/out" 2>&1 || { cat "$LAB/out" >&2; fail "a credentials password with '#' did not work"; }

printf 'machine 127.0.0.1 port %s login hashuser password %s  # trailing\n' "$M" "$HASH_PW" \
  >"$CFG/credentials"
refused "a comment must be a line of its own" \
  "$HOPCHAIN" -x "socks5://hashuser@127.0.0.1:$M" check 127.0.0.1 "$E"
assert_stderr_lacks "$HASH_PW"

printf '# accounts\nalice:%s\n' "$HASH_PW" >"$LAB/users"
chmod 600 "$LAB/users"
S=$(free_port)
lab_bg socks "$HOPCHAIN" --direct socks --users "$LAB/users" "$S"
wait_port "$S" || fail "socks --users did not listen"
probe() { timeout 30 python3 "$HC_SUPPORT/socks_probe.py" socks5 127.0.0.1 "$S" 127.0.0.1 "$E" "$@" --timeout 20; }
[[ $(probe --user alice --password "$HASH_PW") == "reply 0x00" ]] ||
  fail "a users-file password with '#' was refused"
[[ $(probe --user alice --password "${HASH_PW%%#*}") == "auth-status 0x01" ]] ||
  fail "the part of a users-file password before '#' was accepted"
note "ok: '#' inside a password works in the credentials and users files; a trailing comment is named"
