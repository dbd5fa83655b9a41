#!/usr/bin/env bash
# Passwords from the netrc, where people keep them for curl and ftp: a hop that names its user
# without a password takes it from ~/.netrc ($HOME) or $NETRC, after hopchain's own credentials
# file and before HOPCHAIN_PASSWORD; a netrc group or others may read is refused (exit 2).
# Then ports given as service names (/etc/services) in stdio's PORT, a forward spec and a URL.
set -euo pipefail
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
lab_init
require_hopchain
lab_require microsocks getent

NETRC_PW='Netrc-Pw-4471'
WRONG_PW='Wrong-Netrc-Pw-8120'

E=$(free_port); start_echo "$E"
M=$(free_port); start_microsocks "$M" nuser "$NETRC_PW"
HOP="socks5://nuser@127.0.0.1:$M"

export HOME=$LAB/home XDG_CONFIG_HOME=$LAB/config
unset NETRC HOPCHAIN_PASSWORD
mkdir -p "$HOME" "$XDG_CONFIG_HOME/hopchain"
CREDS=$XDG_CONFIG_HOME/hopchain/credentials

write_private() { # FILE TEXT
  printf '%s' "$2" >"$1"
  chmod 600 "$1"
}

# The entry for the hop sits among what real netrc files hold: comments, a macro, quoting, an
# entry for another user of the same host, and a default entry for another login.
write_private "$HOME/.netrc" "# curl and ftp read this file too
machine ftp.example login anonymous password guest
macdef init
machine 127.0.0.1 login nuser password $WRONG_PW

machine 127.0.0.1 login other password \"$WRONG_PW\"
machine 127.0.0.1
  login nuser
  password \"$NETRC_PW\" # the hop's
default login someone password $WRONG_PW
"
driver_echo_check "password from ~/.netrc" 4096 127.0.0.1 "$E" -x "$HOP"
note "ok: a hop's password from \$HOME/.netrc"

# The credentials file comes first: a wrong password there is the one used.
write_private "$CREDS" "machine 127.0.0.1 port $M login nuser password $WRONG_PW
"
expect_fail_with "hop 1" "$HOPCHAIN" -x "$HOP" stdio 127.0.0.1 "$E"
assert_rc 1
write_private "$CREDS" "machine 127.0.0.1 port $M login nuser password $NETRC_PW
"
write_private "$HOME/.netrc" "machine 127.0.0.1 login nuser password $WRONG_PW
"
driver_echo_check "the credentials file before the netrc" 4096 127.0.0.1 "$E" -x "$HOP"
rm "$CREDS"
note "ok: the credentials file takes precedence over the netrc"

# NETRC names the file instead of ~/.netrc (which holds a wrong password by now).
write_private "$LAB/other-netrc" "machine 127.0.0.1 login nuser password $NETRC_PW
"
NETRC=$LAB/other-netrc driver_echo_check "password from \$NETRC" 4096 127.0.0.1 "$E" -x "$HOP"
note "ok: \$NETRC honoured"

# A netrc others may read is refused, naming the file and never the password.
chmod 644 "$LAB/other-netrc"
NETRC=$LAB/other-netrc expect_fail_with "permissions are too open" \
  "$HOPCHAIN" -x "$HOP" stdio 127.0.0.1 "$E"
assert_rc 2
assert_stderr_has "$LAB/other-netrc"
assert_stderr_lacks "$NETRC_PW"
chmod 660 "$LAB/other-netrc"
NETRC=$LAB/other-netrc expect_fail_with "chmod 600" "$HOPCHAIN" -x "$HOP" check
assert_rc 2
note "ok: a netrc readable or writable by group or others is refused (exit 2)"

# A syntax error names the file and line, not the token.
write_private "$LAB/bad-netrc" "machine 127.0.0.1 login nuser
password \"$NETRC_PW
"
NETRC=$LAB/bad-netrc expect_fail_with "bad-netrc: line 2" "$HOPCHAIN" -x "$HOP" stdio 127.0.0.1 "$E"
assert_rc 2
assert_stderr_lacks "$NETRC_PW"

# No netrc at all is fine, and the error says where a password could come from.
rm "$HOME/.netrc"
expect_fail_with "has a user but no password" "$HOPCHAIN" -x "$HOP" stdio 127.0.0.1 "$E"
assert_rc 2
assert_stderr_has "$HOME/.netrc"
HOPCHAIN_PASSWORD=$NETRC_PW driver_echo_check "no netrc, HOPCHAIN_PASSWORD" 4096 127.0.0.1 "$E" \
  -x "$HOP"
note "ok: a missing netrc is no error; bad netrc syntax is (exit 2)"

# --- service names --------------------------------------------------------------------------
expect_fail_with "unknown service name 'htp' (not in /etc/services)" \
  "$HOPCHAIN" --direct stdio 127.0.0.1 htp
assert_rc 2
expect_fail_with "unknown service name" "$HOPCHAIN" -x socks5://127.0.0.1:htp stdio 127.0.0.1 "$E"
assert_rc 2

# A service whose port is above 1024 and free here, so that a test server can take it.
port_free() {
  python3 -c 'import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)' "$1"
}
SVC='' SP=''
for name in tproxy omniorb http-alt sip; do
  port=$(getent services "$name/tcp" | awk '{split($2, a, "/"); print a[1]}') || continue
  if [[ -n $port ]] && ((port > 1024)) && port_free "$port"; then
    SVC=$name SP=$port
    break
  fi
done
if [[ -z $SVC ]]; then
  note "SKIP: no service name with a free port above 1024 (tried tproxy omniorb http-alt sip)"
  exit 0
fi
note "service '$SVC' is port $SP"

export NETRC=$LAB/svc-netrc
write_private "$NETRC" "machine 127.0.0.1 login nuser password $NETRC_PW
"
start_echo "$SP"
ECHO_PID=$LAB_LAST_PID
driver_echo_check "stdio HOST $SVC" 4096 127.0.0.1 "$SVC" -x "$HOP"
L=$(free_port)
lab_bg fwd-svc "$HOPCHAIN" -x "$HOP" forward "$L:127.0.0.1:$SVC"
FWD=$LAB_LAST_PID
wait_port "$L" || fail "forward LPORT:127.0.0.1:$SVC did not listen"
timeout 30 python3 "$HC_SUPPORT/echo_once.py" "$L" || fail "forward to a service-name port: no echo"
lab_kill "$FWD"
lab_kill "$ECHO_PID"
note "ok: stdio 127.0.0.1 $SVC and forward $L:127.0.0.1:$SVC"

wait_until 5 port_free "$SP" || true
start_microsocks "$SP" nuser "$NETRC_PW"
driver_echo_check "hop URL socks5://nuser@127.0.0.1:$SVC" 4096 127.0.0.1 "$E" \
  -x "socks5://nuser@127.0.0.1:$SVC"
note "ok: a hop URL with the port as '$SVC', its password from \$NETRC"
