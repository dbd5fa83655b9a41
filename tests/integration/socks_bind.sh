#!/usr/bin/env bash
# BIND in socks mode: a local SOCKS client's BIND is carried to the chain's last hop (danted),
# both replies come back to it, and the peer's connection is relayed. The client is FTP-shaped
# (tests/support/ftp_bind.py): a control connection through the chain, a BIND, the address sent
# to the "server", which connects back; 1 MiB each way, byte-checked, for SOCKS5 and SOCKS4
# clients through 2 hops, and through 3 (socks4, socks5 in TLS, then danted). A last hop that cannot BIND gets the client REP 0x07 and a log line
# naming the hop: microsocks (answers 0x07), ssh -D (hangs up), an HTTP hop (refused at once).
# A client hanging up while its BIND waits ends the wait at once.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
# shellcheck source=SCRIPTDIR/../support/lab_socks.sh
source "$HC_SUPPORT/lab_socks.sh"
# shellcheck source=SCRIPTDIR/../support/lab_tls.sh
source "$HC_SUPPORT/lab_tls.sh"
lab_init
require_hopchain
lab_require stunnel4 openssl
tls_init_pki
tls_issue proxy "DNS:localhost,IP:127.0.0.1"

D1=$(free_port); start_danted d1 "$D1"
D2=$(free_port); start_danted d2 "$D2"
M=$(free_port); start_microsocks "$M"
H=$(free_port); start_tinyproxy "$H"
SSHD=$(free_port); start_sshd "$SSHD"
S=$(free_port); start_ssh_socks "$S" "$SSHD"

P=$(free_port)
start_hopchain_socks hc-danted 127.0.0.1 "$P" -v -x "socks5://127.0.0.1:$D1" \
  -x "socks5://127.0.0.1:$D2" socks "$P"

# ftp_exchange DESC PROXY-PORT [ftp_bind.py client options]: one control server, one client.
ftp_exchange() {
  local desc=$1 proxy=$2 control out=$LAB/ftp.out rc=0
  shift 2
  control=$(free_port)
  lab_bg "ftp-server-$control" python3 "$HC_SUPPORT/ftp_bind.py" server "$control"
  wait_port "$control" 127.0.0.1 15 || fail "$desc: control server did not start"
  timeout -k 5 60 python3 "$HC_SUPPORT/ftp_bind.py" client "$proxy" "$control" "$@" >"$out" 2>&1 ||
    rc=$?
  ((rc == 0)) || { cat "$out" >&2; fail "$desc: client exited $rc"; }
  grep -q '^bound 127.0.0.1:' "$out" || fail "$desc: first reply: $(head -n 1 "$out")"
  grep -q '^peer 127.0.0.1:' "$out" || fail "$desc: second reply: $(sed -n 2p "$out")"
  note "ok: $desc: $(tr '\n' ' ' <"$out")"
}

ftp_exchange "SOCKS5 client, 2 hops" "$P"
ftp_exchange "SOCKS4 client, 2 hops" "$P" --socks4
D3=$(free_port); start_danted d3 "$D3"
T=$(free_port); start_stunnel tls-d2 "$T" "$D2" proxy
P3=$(free_port)
start_hopchain_socks hc-3hops 127.0.0.1 "$P3" -x "socks4://127.0.0.1:$D1" \
  -x "socks5+tls://127.0.0.1:$T?cafile=$TLS_CA" -x "socks5://127.0.0.1:$D3" socks "$P3"
ftp_exchange "SOCKS5 client, 3 hops (socks4, socks5+tls, danted)" "$P3"
wait_log "$LAB/hc-danted.log" 'SOCKS5 BIND 127\.0\.0\.1:0: hop 2/2 socks5://127\.0\.0\.1:[0-9]+ listens at' 10
wait_log "$LAB/hc-danted.log" 'SOCKS4 BIND 127\.0\.0\.1:0: 127\.0\.0\.1:[0-9]+ connected to' 10

# A client that hangs up while its BIND waits for the peer ends the wait at once, not after the
# accept timeout (600 s).
python3 - "$P" <<'PY' || fail "hang-up client failed"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(b"\x05\x01\x00")
assert s.recv(2) == b"\x05\x00"
s.sendall(b"\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x00")
assert s.recv(10)[1] == 0
s.close()
PY
wait_log "$LAB/hc-danted.log" 'SOCKS5 BIND 127\.0\.0\.1:0: the client hung up while waiting for the peer' 10
note "ok: a client hanging up ends its BIND's wait"

# bind_refused NAME DESC LOG-ERE HOPCHAIN-ARGS...: the client hears 0x07 (SOCKS4: 0x5b), the log
# names the hop.
bind_refused() {
  local name=$1 desc=$2 ere=$3 port out=$LAB/refused.out rc=0
  shift 3
  port=$(free_port)
  start_hopchain_socks "$name" 127.0.0.1 "$port" "$@" socks "$port"
  for client in "" --socks4; do
    rc=0
    timeout -k 5 60 python3 "$HC_SUPPORT/ftp_bind.py" client "$port" "$E" $client >"$out" 2>&1 ||
      rc=$?
    local want="bind reply 0x07"
    [[ -z $client ]] || want="bind reply 0x5b"
    if ((rc != 3)) || ! grep -q "^$want\$" "$out"; then
      cat "$out" >&2
      fail "$desc ${client:-socks5}: expected '$want', exit $rc"
    fi
  done
  wait_log "$LAB/$name.log" "$ere" 10
  note "ok: $desc: REP 0x07 / CD 0x5B; $(grep -E "$ere" "$LAB/$name.log" | head -n 1)"
}

E=$(free_port); start_echo "$E"
bind_refused hc-microsocks "microsocks last hop" \
  "hop 2/2 socks5://127\.0\.0\.1:$M: request: .*command not supported.*BIND refused.*answered REP 0x07" \
  -x "socks5://127.0.0.1:$D1" -x "socks5://127.0.0.1:$M"
bind_refused hc-ssh "ssh -D last hop" \
  "hop 1/1 socks5://127\.0\.0\.1:$S: request: .*BIND refused.*answered REP 0x07" \
  -x "socks5://127.0.0.1:$S"
bind_refused hc-http "HTTP last hop" \
  "hop 2/2 http://127\.0\.0\.1:$H: BIND needs a SOCKS4 or SOCKS5 hop; answered REP 0x07" \
  -x "socks5://127.0.0.1:$D1" -x "http://127.0.0.1:$H"
