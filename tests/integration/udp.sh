#!/usr/bin/env bash
# Proves `hopchain udp`: UDP through chains of real SOCKS5 servers that carry UDP (danted, and
# ss-local in front of ss-server), by nested UDP ASSOCIATE.
#   - chains of 1, 2 and 3 hops mixing both, several SPECs in one process, several local
#     sources at once (each gets its own replies), an IPv6 target, and no hop at all;
#   - a real DNS query (dig) through the relay to dnsmasq;
#   - 10,000 sequence-numbered datagrams at a moderate rate: zero loss, every payload checked;
#   - a datagram too large once the headers are added is dropped (and logged), not truncated;
#   - forged datagrams (to hopchain's relay socket, and to the last hop's outside socket from a
#     source that is not the target) never reach the client;
#   - a control connection killed mid-stream (ss -K): the association is rebuilt and the
#     stream goes on; the idle timeout closes an association and its control connections;
#   - refusal, naming the hop, of microsocks (REP 0x07), ssh -D (closes), SOCKS4, HTTP and TLS
#     hops; counters printed on SIGTERM with exit status 0;
#   - `hopchain socks` answers UDP ASSOCIATE: a raw SOCKS5 client (several targets, a name, a
#     stranger's datagram dropped, the relay gone with the TCP connection), Dante's socksify
#     running dig, hopchain udp through hopchain socks, no hop at all, and REP 0x07 when the
#     chain cannot carry UDP.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
# shellcheck source=SCRIPTDIR/../support/lab_udp.sh
source "$HC_SUPPORT/lab_udp.sh"
lab_init
require_hopchain
lab_require ss-server ss-local dig danted microsocks socksify

E=$(free_port); start_udp_echo "$E" 127.0.0.1
E6=$(free_port); start_udp_echo "$E6" ::1
DNS=$(free_port); start_dnsmasq "$DNS" hc-udp.test=192.0.2.53 echo.hc-udp.test=127.0.0.1
DA=$(free_port); start_danted dante-a "$DA"
DB=$(free_port); start_danted dante-b "$DB"
DC=$(free_port); start_danted dante-c "$DC"
SS=$(free_port) SL=$(free_port); start_shadowsocks shadow "$SS" "$SL"
MS=$(free_port); start_microsocks "$MS"
SSHD=$(free_port); start_sshd "$SSHD"
SD=$(free_port); start_ssh_socks "$SD" "$SSHD"
note "lab up: udp echo $E and [::1]:$E6, dnsmasq $DNS, danted $DA $DB $DC, ss-local $SL -> ss-server $SS"

A=(-x "socks5://127.0.0.1:$DA")
B=(-x "socks5://127.0.0.1:$DB")
C=(-x "socks5://127.0.0.1:$DC")
S=(-x "socks5h://127.0.0.1:$SL")

# --- chains of 1, 2 and 3 hops ------------------------------------------------------------------
# each process serves two SPECs: the echo server and dnsmasq
chain_check() { # NAME DESC HOP-ARGS...
  local name=$1 desc=$2 l1 l2
  shift 2
  l1=$(free_port) l2=$(free_port)
  start_hopchain_udp "$name" -v "$@" udp "$l1:127.0.0.1:$E" "127.0.0.1:$l2:127.0.0.1:$DNS" -- "$l1" "$l2"
  local pid=$LAB_LAST_PID
  udp_echo_check "$desc: 300 datagrams" 127.0.0.1 "$l1" --count 300 --max-size 1400
  local answer
  answer=$(timeout 20 dig +short +tries=1 +time=5 -p "$l2" @127.0.0.1 hc-udp.test A 2>&1) ||
    fail "$desc: dig through the relay failed: $answer"
  [[ $answer == 192.0.2.53 ]] || fail "$desc: dig answered '$answer', expected 192.0.2.53"
  note "ok: $desc: dig hc-udp.test through the relay -> $answer"
  lab_kill "$pid"
}
chain_check hc-1d "1 hop, danted" "${A[@]}"
chain_check hc-1s "1 hop, ss-local" "${S[@]}"
chain_check hc-2ds "2 hops, danted -> ss-local" "${A[@]}" "${S[@]}"
chain_check hc-2sd "2 hops, ss-local -> danted" "${S[@]}" "${A[@]}"
chain_check hc-3dds "3 hops, danted -> danted -> ss-local" "${A[@]}" "${B[@]}" "${S[@]}"
chain_check hc-3sdd "3 hops, ss-local -> danted -> danted" "${S[@]}" "${A[@]}" "${B[@]}"
chain_check hc-3dsd "3 hops, danted -> ss-local -> danted" "${A[@]}" "${S[@]}" "${C[@]}"
grep -q "hop 3/3 socks5://127.0.0.1:$DC: UDP relay" "$LAB/hc-3dsd.log" ||
  fail "3-hop chain: no UDP relay logged for hop 3"

# --- no hop, IPv6 target, several sources ---------------------------------------------------------
L=$(free_port) L6=$(free_port)
start_hopchain_udp hc-direct --direct -v udp "$L:127.0.0.1:$E" -- "$L"
udp_echo_check "no hop (plain UDP forward)" 127.0.0.1 "$L" --count 200
lab_kill "$LAB_LAST_PID"
L=$(free_port)
start_hopchain_udp hc-v6 -v "${A[@]}" "${B[@]}" udp "$L:127.0.0.1:$E" "[::1]:$L6:[::1]:$E6" -- "$L" "[::1]:$L6"
udp_echo_check "2 danted hops, [::1] bind and IPv6 target" ::1 "$L6" --count 200
udp_echo_check "2 danted hops, 8 local sources at once, each its own association" 127.0.0.1 "$L" \
  --clients 8 --count 150 --max-size 1000
n=$(count_log "$LAB/hc-v6.log" "association open in")
((n >= 9)) || fail "expected an association per local source (9), the log shows $n"
lab_kill "$LAB_LAST_PID"

# --- 10,000 datagrams, zero loss ----------------------------------------------------------------
L=$(free_port)
start_hopchain_udp hc-bulk "${A[@]}" "${B[@]}" "${S[@]}" udp "$L:127.0.0.1:$E" -- "$L"
BULK_PID=$LAB_LAST_PID
udp_echo_check "3 hops, 10,000 datagrams at 2,000/s, every payload checked, zero loss" \
  127.0.0.1 "$L" --count 10000 --rate 2000 --window 64 --min-size 12 --max-size 1400 --expire 10
# counters on exit: SIGTERM, then the totals line and status 0
kill -TERM "$BULK_PID"
wait_group_exit "$BULK_PID" 5 || true
grep -qE "udp: 10000 sent, 10000 received, 0 dropped" "$LAB/hc-bulk.log" || {
  cat "$LAB/hc-bulk.log" >&2
  fail "no totals line '10000 sent, 10000 received, 0 dropped' after SIGTERM"
}
note "ok: SIGTERM printed the totals: $(grep 'udp: 10000' "$LAB/hc-bulk.log")"
L=$(free_port)
rc=0
timeout -k 5 --preserve-status -s TERM 3 "$HOPCHAIN" "${A[@]}" udp "$L:127.0.0.1:$E" \
  >"$LAB/hc-term.out" 2>"$LAB/hc-term.err" || rc=$?
((rc == 0)) || { cat "$LAB/hc-term.err" >&2; fail "hopchain udp exited $rc on SIGTERM, expected 0"; }
grep -q "udp: 0 sent, 0 received, 0 dropped" "$LAB/hc-term.err" || {
  cat "$LAB/hc-term.err" >&2
  fail "no totals line on SIGTERM"
}
note "ok: exit status 0 on SIGTERM"

# --- too large once wrapped ---------------------------------------------------------------------
L=$(free_port)
start_hopchain_udp hc-big -v "${A[@]}" udp "$L:127.0.0.1:$E" -- "$L"
udp_echo_check "1 hop, 30,000-byte datagrams pass whole" 127.0.0.1 "$L" --count 5 --min-size 30000 --max-size 30000
out=$(timeout 30 python3 "$HC_SUPPORT/udp_check.py" silent 127.0.0.1 "$L" --size 65500 --wait 2 2>&1) ||
  { echo "$out" >&2; fail "a 65,500-byte datagram (65,510 with its header) was not dropped"; }
wait_log "$LAB/hc-big.log" "datagram dropped: 65500 bytes are 65510 with the chain's headers, over the 65507-byte UDP limit" 5
note "ok: 65,500 bytes + 10-byte header dropped and logged; $out"
lab_kill "$LAB_LAST_PID"

# --- forged datagrams ---------------------------------------------------------------------------
# ss-server's outside socket relays whatever reaches it back to ss-local, which wraps it with the
# real sender's address: hopchain must see that the sender is not the target and drop it.
L=$(free_port)
start_hopchain_udp hc-spoof -v "${S[@]}" udp "$L:127.0.0.1:$E" -- "$L"
out=$(timeout 60 python3 "$HC_SUPPORT/udp_check.py" spoof 127.0.0.1 "$L" --target "127.0.0.1:$E" \
  --forge hopchain:headers --forge ss-server:raw --except-port "$L" --except-port "$SS" 2>&1) ||
  { echo "$out" >&2; fail "forged datagrams"; }
wait_log "$LAB/hc-spoof.log" "datagram dropped: it came from 127\.0\.0\.1:[0-9]+, not from the relay" 5
wait_log "$LAB/hc-spoof.log" "datagram dropped: it came from 127\.0\.0\.1:[0-9]+, not from 127\.0\.0\.1:$E" 5
note "ok: forged datagrams dropped (wrong relay, wrong origin): ${out//$'\n'/; }"
lab_kill "$LAB_LAST_PID"

# --- a control connection killed mid-stream -----------------------------------------------------
L=$(free_port) SRC=$(free_port)
start_hopchain_udp hc-kill -v "${A[@]}" "${B[@]}" udp "$L:127.0.0.1:$E" -- "$L"
udp_echo_check "2 hops, before the kill" 127.0.0.1 "$L" --count 50 --bind-port "$SRC"
timeout -k 5 60 python3 "$HC_SUPPORT/udp_check.py" echo 127.0.0.1 "$L" --bind-port "$SRC" \
  --count 2400 --rate 300 --window 16 --expire 2 --max-loss 200 --timeout 50 \
  --progress-file "$LAB/stream.progress" >"$LAB/stream.out" 2>&1 &
stream=$!
# echoed_past N : the stream has had more than N datagrams echoed (it runs 8 s at 300/s)
echoed_past() { (($(cat "$LAB/stream.progress" 2>/dev/null || echo 0) > $1)); }
wait_until 20 echoed_past 50 || fail "the stream did not get going: $(cat "$LAB/stream.out")"
# hop 2's control connection runs dante-a -> dante-b: kill that TCP connection (dante-a then
# closes hopchain's end); ss -K needs CONFIG_INET_DIAG_DESTROY
ss -K dst 127.0.0.1 dport = ":$DB" >/dev/null 2>&1 || true
wait_log "$LAB/hc-kill.log" "association lost \(a control connection closed\)" 10
# the association is rebuilt and carries the stream again before the next kill
opened_twice() { (($(count_log "$LAB/hc-kill.log" "from 127\.0\.0\.1:$SRC: association open in") >= 2)); }
wait_until 20 opened_twice ||
  fail "the association was not rebuilt after hop 2's control connection was killed"
rebuilt_at=$(cat "$LAB/stream.progress")
wait_until 20 echoed_past "$((rebuilt_at + 50))" || fail "no datagram came back through the rebuilt association"
# and hop 1's: hopchain's own connections to dante-a
ss -K dst 127.0.0.1 dport = ":$DA" >/dev/null 2>&1 || true
src_rc=0
wait "$stream" || src_rc=$?
cat "$LAB/stream.out"
((src_rc == 0)) || fail "the stream did not survive the killed control connections"
n=$(count_log "$LAB/hc-kill.log" "association lost")
((n >= 2)) || fail "expected 2 lost associations, the log shows $n"
n=$(count_log "$LAB/hc-kill.log" "from 127.0.0.1:$SRC: association open in")
((n >= 3)) || fail "expected the association to be opened 3 times, the log shows $n"
udp_echo_check "2 hops, after two rebuilt associations, zero loss" 127.0.0.1 "$L" --count 300 --bind-port "$SRC"
lab_kill "$LAB_LAST_PID"

# --- idle timeout -------------------------------------------------------------------------------
L=$(free_port)
start_hopchain_udp hc-idle -v "${A[@]}" udp --udp-timeout 1 "$L:127.0.0.1:$E" -- "$L"
IDLE_PID=$LAB_LAST_PID
udp_echo_check "1 hop, before going idle" 127.0.0.1 "$L" --count 5
wait_log "$LAB/hc-idle.log" "idle for 1000 ms, closed: 5 sent, 5 received, 0 dropped" 5
control_closed() { ! ss -Htnp state established "dport = :$DA" 2>/dev/null | grep -q "pid=$IDLE_PID,"; }
if ! wait_until 5 control_closed; then
  ss -Htnp state established "dport = :$DA" >&2
  fail "the idle association's control connection is still open 5 s after it was closed"
fi
note "ok: the idle association and its control connection were closed after 1 s"
udp_echo_check "1 hop, after the idle timeout" 127.0.0.1 "$L" --count 5
lab_kill "$IDLE_PID"

# --- refusals -----------------------------------------------------------------------------------
L=$(free_port)
expect_fail_with "hop 2/2 socks5://127.0.0.1:$MS: request: command not supported (SOCKS5 reply 0x07)" \
  "$HOPCHAIN" "${A[@]}" -x "socks5://127.0.0.1:$MS" udp "$L:127.0.0.1:$E"
assert_rc 1
assert_stderr_has "does not carry UDP"
note "ok: microsocks as hop 2 refused: $(cat "$LAB_LAST_ERR")"
expect_fail_with "hop 1/1 socks5h://127.0.0.1:$SD: request:" "$HOPCHAIN" -x "socks5h://127.0.0.1:$SD" udp "$L:127.0.0.1:$E"
assert_rc 1
assert_stderr_has "does not seem to carry UDP"
note "ok: ssh -D refused: $(cat "$LAB_LAST_ERR")"
expect_fail_with "hop 2/3 socks4://127.0.0.1:$DB: request: cannot carry UDP" \
  "$HOPCHAIN" "${A[@]}" -x "socks4://127.0.0.1:$DB" "${S[@]}" udp "$L:127.0.0.1:$E"
assert_rc 1
note "ok: SOCKS4 hop refused: $(cat "$LAB_LAST_ERR")"
expect_fail_with "hop 1/1 http://127.0.0.1:$DA: request: cannot carry UDP" \
  "$HOPCHAIN" -x "http://127.0.0.1:$DA" udp "$L:127.0.0.1:$E"
assert_rc 1
expect_fail_with "hop 2/2 socks5+tls://127.0.0.1:$DB: request: cannot carry UDP: datagrams" \
  "$HOPCHAIN" "${A[@]}" -x "socks5+tls://127.0.0.1:$DB" udp "$L:127.0.0.1:$E"
assert_rc 1
note "ok: HTTP and TLS hops refused before connecting"
if _lab_udp_is_bound "$L" 127.0.0.1; then fail "a refused chain left UDP port $L bound"; fi

# --- UDP ASSOCIATE in the local SOCKS server ----------------------------------------------------
P=$(free_port)
lab_bg hc-socks "$HOPCHAIN" -v --dns-server "127.0.0.1:$DNS" "${A[@]}" "${B[@]}" socks "$P"
_lab_wait_up hc-socks "$LAB_LAST_PID" "$P" 127.0.0.1
SOCKS_PID=$LAB_LAST_PID
socks_udp() { # DESC PORT UDP_CHECK-ARGS...
  local desc=$1 port=$2 out
  shift 2
  out=$(timeout 60 python3 "$HC_SUPPORT/udp_check.py" socks 127.0.0.1 "$port" "$@" 2>&1) ||
    { echo "$out" >&2; fail "$desc"; }
  note "ok: $desc: $out"
}
# the last hop takes addresses (socks5://): hopchain resolves the name (dnsmasq), the hops see IPs
socks_udp "socks server over 2 danted hops, 3 targets (IPv4, IPv6, a name)" "$P" \
  --target "127.0.0.1:$E" --target "[::1]:$E6" --target "echo.hc-udp.test:$E" --count 30
wait_log "$LAB/hc-socks.log" "UDP: datagram dropped: it came from 127\.0\.0\.1:[0-9]+, not from the client" 5
wait_log "$LAB/hc-socks.log" "SOCKS5 UDP ASSOCIATE: closed: 90 sent, 90 received, 1 dropped" 5

# a real client: Dante's socksify sends dig's query through UDP ASSOCIATE
cat >"$LAB/socks.conf" <<EOF
route {
  from: 0.0.0.0/0 to: 0.0.0.0/0 via: 127.0.0.1 port = $P
  proxyprotocol: socks_v5
  method: none
  command: udpassociate connect
}
EOF
answer=$(SOCKS_CONF=$LAB/socks.conf timeout 30 socksify dig +short +tries=1 +time=5 -p "$DNS" \
  @127.0.0.1 hc-udp.test A 2>&1) || fail "socksify dig through hopchain socks: $answer"
[[ $answer == 192.0.2.53 ]] || fail "socksify dig answered '$answer', expected 192.0.2.53"
wait_log "$LAB/hc-socks.log" "SOCKS5 UDP ASSOCIATE from" 5
note "ok: socksify dig through hopchain socks (UDP ASSOCIATE over 2 hops) -> $answer"

# hopchain udp, whose only hop is hopchain socks: the association runs through our own SOCKS
# server, which nests it again over the two danted hops
L=$(free_port)
start_hopchain_udp hc-over-socks -v -x "socks5h://127.0.0.1:$P" udp "$L:127.0.0.1:$E" -- "$L"
udp_echo_check "hopchain udp -> hopchain socks -> 2 danted hops: 2,000 datagrams" 127.0.0.1 "$L" \
  --count 2000 --rate 2000 --window 32 --max-size 1200
lab_kill "$LAB_LAST_PID"
lab_kill "$SOCKS_PID"

P=$(free_port)
lab_bg hc-socks-direct "$HOPCHAIN" --direct -v socks "$P"
_lab_wait_up hc-socks-direct "$LAB_LAST_PID" "$P" 127.0.0.1
socks_udp "socks server with no hop, 2 targets" "$P" --target "127.0.0.1:$E" --target "[::1]:$E6"
lab_kill "$LAB_LAST_PID"

P=$(free_port)
lab_bg hc-socks-ms "$HOPCHAIN" "${A[@]}" -x "socks5://127.0.0.1:$MS" socks "$P"
_lab_wait_up hc-socks-ms "$LAB_LAST_PID" "$P" 127.0.0.1
socks_udp "socks server whose hop 2 is microsocks refuses UDP ASSOCIATE" "$P" \
  --target "127.0.0.1:$E" --expect-rep 0x07
wait_log "$LAB/hc-socks-ms.log" "SOCKS5 UDP ASSOCIATE: hop 2/2 socks5://127\.0\.0\.1:$MS: request: command not supported .*answered REP 0x07" 5
lab_kill "$LAB_LAST_PID"
