#!/usr/bin/env bash
# Proves passwords never reach hopchain's output, whatever the mode and however the password was
# given, and that listeners bind to loopback by default. (failures.sh covers stdio mode with URL
# passwords; socks_server.sh the --users log of the SOCKS server.)
#
# Every password is distinct, so a leak names its source:
#   danted (RFC 1929)      socks5://hcuser:PASS@      in the URL
#   microsocks A           socks5://msuser@           from the credentials file ($XDG_CONFIG_HOME)
#   microsocks B           socks5h://envuser@         from HOPCHAIN_PASSWORD
#   tinyproxy (Basic)      http://tpuser:%54p...@     percent-encoded in the URL
#   hopchain socks --users                            the server's users file (and a wrong one)
#   wrong / unreachable / TLS hops                    in their URLs
# Runs stdio, forward, socks, check and check --json at the default verbosity, -v and -vv, through
# success and failure paths (wrong password, unreachable hop, request refused by the hop, TLS
# handshake failure), keeps every stdout and stderr, then greps all of it for every password:
# raw, percent-encoded, the base64 of HTTP Basic's user:password, and as hex (a byte dump).
set -euo pipefail
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
lab_init
require_hopchain
lab_require danted microsocks tinyproxy base64 xxd

MS_PW='Ms-CredFile-6071'
ENV_PW='Env-Var-Pw-3307'
TP_PW='TpBasic-5518'
TP_PW_URL='%54p%42asic-5518' # percent-encoded (tinyproxy takes no special characters)
BAD_PW='Wrong-Pw-7730'
UNREACH_PW='Unreach-Pw-4162'
TLS_PW='Tls-Hop-Pw-9054'
USERS_PW='Users-File-Pw-8843'
USERS_BAD='Users-Wrong-1290'
SECRETS=("$LAB_PASS" "$MS_PW" "$ENV_PW" "$TP_PW" "$TP_PW_URL" "$BAD_PW" "$UNREACH_PW" "$TLS_PW"
  "$USERS_PW" "$USERS_BAD")

E=$(free_port); start_echo "$E"
CLOSED=$(free_port) # nothing listens here
DC=$(free_port); start_danted dante-auth "$DC" auth
MA=$(free_port); start_microsocks "$MA" msuser "$MS_PW"
MB=$(free_port); start_microsocks "$MB" envuser "$ENV_PW"
TA=$(free_port); start_tinyproxy "$TA" tpuser "$TP_PW"

export XDG_CONFIG_HOME=$LAB/config
mkdir -p "$XDG_CONFIG_HOME/hopchain"
echo "machine 127.0.0.1 port $MA login msuser password $MS_PW" >"$XDG_CONFIG_HOME/hopchain/credentials"
chmod 600 "$XDG_CONFIG_HOME/hopchain/credentials"
export HOPCHAIN_PASSWORD=$ENV_PW

HOP_D="socks5://$LAB_USER:$LAB_PASS@127.0.0.1:$DC"
HOP_MA="socks5://msuser@127.0.0.1:$MA"
HOP_MB="socks5h://envuser@127.0.0.1:$MB"
HOP_T="http://tpuser:$TP_PW_URL@127.0.0.1:$TA"
CHAIN=(--pipeline=never -x "$HOP_D" -x "$HOP_MA" -x "$HOP_MB" -x "$HOP_T")
BAD_CHAIN=(--pipeline=never -x "socks5://$LAB_USER:$BAD_PW@127.0.0.1:$DC" -x "$HOP_MA")
UNREACH_CHAIN=("${CHAIN[@]}" -x "socks5://ghost:$UNREACH_PW@127.0.0.1:$CLOSED")
TLS_CHAIN=(--pipeline=never -x "$HOP_D" -x "https://tlsuser:$TLS_PW@127.0.0.1:$E")

OUT=$LAB/out
mkdir -p "$OUT"
RUN=0


# run_expect RC DESC HOPCHAIN-ARGS... : one bounded run, output kept in $OUT, exit status checked
run_expect() {
  local want=$1 desc=$2 rc=0
  shift 2
  RUN=$((RUN + 1))
  timeout -k 5 60 "$HOPCHAIN" "$@" </dev/null >"$OUT/$RUN.out" 2>"$OUT/$RUN.err" || rc=$?
  if ((rc != want)); then
    cat "$OUT/$RUN.err" >&2
    fail "$desc: exit $rc, want $want"
  fi
}

# stdio_ok DESC HOPCHAIN-ARGS... : an echo through stdio mode, stdin held open until it is back
stdio_ok() {
  local desc=$1 rc=0
  shift
  RUN=$((RUN + 1))
  timeout -k 5 60 python3 "$HC_SUPPORT/stdio_driver.py" --size 4096 --timeout 40 \
    --stderr-file "$OUT/$RUN.err" -- "$HOPCHAIN" "$@" >"$OUT/$RUN.out" 2>&1 || rc=$?
  ((rc == 0)) || {
    cat "$OUT/$RUN.out" "$OUT/$RUN.err" >&2
    fail "$desc: exit $rc"
  }
}

for v in "" -v -vv; do
  tag="verbosity '${v:-default}'"
  # shellcheck disable=SC2206  # empty $v must vanish
  V=($v)

  # --- stdio -------------------------------------------------------------------------------------
  stdio_ok "stdio, 4 authenticated hops, $tag" "${V[@]}" "${CHAIN[@]}" stdio 127.0.0.1 "$E"
  run_expect 1 "stdio, wrong password, $tag" "${V[@]}" "${BAD_CHAIN[@]}" stdio 127.0.0.1 "$E"
  grep -q "rejected" "$OUT/$RUN.err" || fail "stdio, wrong password: no 'rejected' in the error"
  run_expect 1 "stdio, unreachable hop 5, $tag" "${V[@]}" "${UNREACH_CHAIN[@]}" stdio 127.0.0.1 "$E"
  run_expect 1 "stdio, request refused by the hop, $tag" "${V[@]}" -x "$HOP_D" stdio "$LAB_BLOCKED_IP" "$E"
  run_expect 1 "stdio, TLS handshake fails at hop 2, $tag" "${V[@]}" "${TLS_CHAIN[@]}" stdio 127.0.0.1 "$E"
  grep -qi "TLS" "$OUT/$RUN.err" || fail "TLS failure: no 'TLS' in the error"

  # --- check, table and JSON ---------------------------------------------------------------------
  run_expect 0 "check, $tag" "${V[@]}" "${CHAIN[@]}" check 127.0.0.1 "$E"
  run_expect 0 "check --json, $tag" "${V[@]}" "${CHAIN[@]}" check --json 127.0.0.1 "$E"
  grep -q "tpuser@" "$OUT/$RUN.out" || fail "check --json does not show the (redacted) hop URL"
  run_expect 1 "check, wrong password, $tag" "${V[@]}" "${BAD_CHAIN[@]}" check 127.0.0.1 "$E"
  run_expect 1 "check --json, wrong password, $tag" "${V[@]}" "${BAD_CHAIN[@]}" check --json 127.0.0.1 "$E"
  run_expect 1 "check --json, unreachable hop, $tag" "${V[@]}" "${UNREACH_CHAIN[@]}" check --json 127.0.0.1 "$E"
  run_expect 1 "check, TLS failure, $tag" "${V[@]}" "${TLS_CHAIN[@]}" check 127.0.0.1 "$E"

  # --- forward: a working spec, a refused target, a blocked destination; a wrong password --------
  L1=$(free_port) L2=$(free_port) L3=$(free_port) L4=$(free_port)
  RUN=$((RUN + 1))
  lab_bg "fwd-$RUN" "$HOPCHAIN" "${V[@]}" "${CHAIN[@]}" forward "$L1:127.0.0.1:$E" \
    "$L2:127.0.0.1:$CLOSED" "$L3:$LAB_BLOCKED_IP:$E"
  FWD=$LAB_LAST_PID
  wait_port "$L3" || fail "forward did not listen"
  lab_bg "fwd-bad-$RUN" "$HOPCHAIN" "${V[@]}" "${BAD_CHAIN[@]}" forward "$L4:127.0.0.1:$E"
  FWD_BAD=$LAB_LAST_PID
  wait_port "$L4" || fail "forward (wrong password) did not listen"
  timeout 30 python3 "$HC_SUPPORT/echo_once.py" "$L1" || fail "forward through 4 authenticated hops, $tag"
  for port in "$L2" "$L3" "$L4"; do
    timeout 30 python3 "$HC_SUPPORT/tcp_check.py" closed 127.0.0.1 "$port" --timeout 20 >/dev/null ||
      fail "forward: a failing chain did not close the connection ($port, $tag)"
  done
  lab_kill "$FWD"
  lab_kill "$FWD_BAD"

  # --- socks server with --users, through the chain ----------------------------------------------
  printf '%s:%s\n' "$LAB_USER" "$USERS_PW" >"$LAB/users"
  chmod 600 "$LAB/users"
  P=$(free_port)
  lab_bg "socks-$RUN" "$HOPCHAIN" "${V[@]}" "${CHAIN[@]}" socks --users "$LAB/users" "$P"
  SOCKS=$LAB_LAST_PID
  wait_port "$P" || fail "socks did not listen"
  probe() { timeout 30 python3 "$HC_SUPPORT/socks_probe.py" socks5 127.0.0.1 "$P" "$@" --timeout 20; }
  [[ $(probe 127.0.0.1 "$E" --user "$LAB_USER" --password "$USERS_PW") == "reply 0x00" ]] ||
    fail "socks: the right password through the chain did not succeed ($tag)"
  [[ $(probe 127.0.0.1 "$E" --user "$LAB_USER" --password "$USERS_BAD") == "auth-status 0x01" ]] ||
    fail "socks: a wrong client password was not refused ($tag)"
  [[ $(probe 127.0.0.1 "$CLOSED" --user "$LAB_USER" --password "$USERS_PW") != "reply 0x00" ]] ||
    fail "socks: a closed target was not refused ($tag)"
  [[ $(probe "$LAB_BLOCKED_IP" "$E" --user "$LAB_USER" --password "$USERS_PW") != "reply 0x00" ]] ||
    fail "socks: a blocked destination was not refused ($tag)"
  lab_kill "$SOCKS"
  note "ok: stdio, check, check --json, forward, socks at $tag"
done

# The -vv runs must have said something about the hops, or the grep below proves little.
grep -q "hop" "$LAB"/fwd-*.log "$OUT"/*.err || fail "no hop ever mentioned in the output"

# --- the grep: every output of every run, in every form a password could take --------------------
forms=()
for s in "${SECRETS[@]}"; do
  forms+=("$s" "$(printf '%s' "$s" | xxd -p | tr -d '\n')")
done
forms+=("$(printf '%s' "tpuser:$TP_PW" | base64)" "$(printf '%s' "tlsuser:$TLS_PW" | base64)")
files=("$OUT"/* "$LAB"/fwd-*.log "$LAB"/socks-*.log)
for f in "${forms[@]}"; do
  if grep -rqiF -- "$f" "${files[@]}"; then
    grep -iF -- "$f" "${files[@]}" | head -5 >&2
    fail "a password appears in hopchain's output (form: $f)"
  fi
done
note "ok: no password (raw, percent-encoded, base64 Basic, hex) in ${#files[@]} outputs"

# --- listeners default to loopback ---------------------------------------------------------------
LF=$(free_port) LS=$(free_port) LU=$(free_port)
lab_bg fwd-default "$HOPCHAIN" --direct forward "$LF:127.0.0.1:$E"
F_PID=$LAB_LAST_PID
lab_bg socks-default "$HOPCHAIN" --direct socks "$LS"
S_PID=$LAB_LAST_PID
lab_bg udp-default "$HOPCHAIN" --direct udp "$LU:127.0.0.1:$E"
U_PID=$LAB_LAST_PID
wait_port "$LF" || fail "forward did not listen on 127.0.0.1"
wait_port "$LS" || fail "socks did not listen on 127.0.0.1"
udp_bound() { [[ -n $(ss -Hlun "sport = :$1") ]]; }
wait_until 10 udp_bound "$LU" || true
only_loopback() { # DESC PORT SS-FLAGS PID
  local addrs
  addrs=$(ss -H "$3" "sport = :$2" | awk '{print $4}' | sort -u | tr '\n' ' ')
  [[ $addrs == "127.0.0.1:$2 " ]] || fail "$1: bound to '$addrs', want only 127.0.0.1:$2"
  ss -H "$3"p "sport = :$2" | grep -q "pid=$4," || fail "$1: the socket on $2 is not hopchain's"
  note "ok: $1 binds $addrs"
}
only_loopback "forward LPORT:HOST:PORT" "$LF" -ltn "$F_PID"
only_loopback "socks PORT" "$LS" -ltn "$S_PID"
only_loopback "udp LPORT:HOST:PORT" "$LU" -lun "$U_PID"
