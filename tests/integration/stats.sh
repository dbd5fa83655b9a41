#!/usr/bin/env bash
# Proves the statistics (-v, --stats, SIGUSR1) through one real hop (danted):
#   - stdio -v: per-hop setup times and the close line (bytes each way, duration, throughput,
#     relay path each way) on stderr; stdout byte-exact;
#   - a TLS hop reports its TLS time before its tunnel;
#   - stdio --stats (also with -q): only the statistics lines on stderr, stdout byte-exact;
#     cut short by SIGINT, still the close line (marked interrupted) and exit status 130;
#   - forward --stats: a summary per connection, totals on SIGTERM with exit status 0;
#   - SIGUSR1 to forward, socks and udp: one summary line, and the process keeps serving;
#     failed chains are counted against the hop that reported them.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
# shellcheck source=SCRIPTDIR/../support/lab_udp.sh
source "$HC_SUPPORT/lab_udp.sh"
# shellcheck source=SCRIPTDIR/../support/lab_tls.sh
source "$HC_SUPPORT/lab_tls.sh"
lab_init
require_hopchain
lab_require danted stunnel4 openssl
tls_init_pki
tls_issue proxy "IP:127.0.0.1"

E=$(free_port); start_echo "$E" 127.0.0.1
UE=$(free_port); start_udp_echo "$UE" 127.0.0.1
DA=$(free_port); start_danted dante-a "$DA"
CLOSED=$(free_port)   # nothing listens here: danted answers "connection refused"
HOP_URL="socks5://127.0.0.1:$DA"
HOP=(-x "$HOP_URL")
SA=$(free_port); start_stunnel tls-dante "$SA" "$DA" proxy
note "lab up: echo $E, udp echo $UE, danted $DA, stunnel $SA in front of it"

# Regular expressions of the documented line formats.
NUM='[0-9]+(\.[0-9]+)?'
DUR="$NUM (ms|s)"
RATE="$NUM (B|KiB|MiB|GiB)/s"
bytes_re() { # N: exact count, with the readable size from 1 KiB on
  if (($1 < 1024)); then echo "$1 B"; else echo "$1 B \\($NUM (KiB|MiB|GiB)\\)"; fi
}

must_match() { # FILE ERE DESC
  grep -qE -- "$2" "$1" || {
    echo "----- $1 -----" >&2
    cat "$1" >&2
    fail "$3: no line matching '$2'"
  }
}

hc_alive() { # PID NAME
  [[ -n $(_lab_live_in_groups "$1") ]] || {
    cat "$LAB/$2.log" >&2
    fail "$2 exited"
  }
}

# --- stdio -v ------------------------------------------------------------------------------
make_payload "$LAB/in.bin" 5000
stdio_echo_check "stdio -v: 5000 bytes echoed" "$LAB/in.bin" 127.0.0.1 "$E" -v "${HOP[@]}"
cp "$LAB/stdio.err" "$LAB/v.err"
must_match "$LAB/v.err" \
  "^hopchain: stdio: setup: hop 1/1 $HOP_URL: connected $DUR, tunnel $DUR(, pipelined)?\$" \
  "stdio -v: hop setup line"
must_match "$LAB/v.err" "^hopchain: stdio: setup: target 127.0.0.1:$E reached in $DUR\$" \
  "stdio -v: target setup line"
# The close line ends with the relay's path each way.
CLOSE_RE="closed: sent $(bytes_re 5000), received $(bytes_re 5000) in $DUR, up $RATE, down $RATE; up (splice|copy), down (splice|copy)\$"
must_match "$LAB/v.err" "^hopchain: stdio: $CLOSE_RE" "stdio -v: close line"
note "ok: stdio -v: setup per hop and close line; stdout byte-exact"

# --- a TLS hop: its TLS time, then its tunnel ------------------------------------------------
stdio_echo_check "stdio -v, plain hop then TLS hop" "$LAB/in.bin" 127.0.0.1 "$E" -v "${HOP[@]}" \
  -x "socks5h+tls://127.0.0.1:$SA?cafile=$TLS_CA"
must_match "$LAB/stdio.err" \
  "^hopchain: stdio: setup: hop 2/2 socks5h\\+tls://127.0.0.1:${SA}[^ ]*: tls $DUR, tunnel $DUR(, pipelined)?\$" \
  "stdio -v: TLS hop setup line"
must_match "$LAB/stdio.err" "^hopchain: stdio: $CLOSE_RE" "stdio -v through a TLS hop: close line"
must_match "$LAB/stdio.err" "^hopchain: stdio: closed: .*; up copy, down copy\$" \
  "stdio -v through a TLS hop: copied both ways"
note "ok: stdio -v: a TLS hop reports its TLS and tunnel times"

# --- stdio --stats cut short by SIGINT, or by SIGHUP as ssh ends its ProxyCommand: the close
# line still comes, marked interrupted, and the exit status is 128 + the signal ---------------
echoed_13() { [[ -f "$LAB/int.out" && $(wc -c <"$LAB/int.out") -ge 13 ]]; }
interrupted_close_line() { # SIGNAL WANT-RC
  local sig=$1 want=$2 hold hc rc=0
  # The previous run's output goes first: its 13 bytes would let the signal go before this
  # hopchain is relaying (or even running).
  rm -f "$LAB/int.fifo" "$LAB/int.out"
  mkfifo "$LAB/int.fifo"
  # stdin that stays open until this function closes it: the signal, not its end, stops hopchain
  exec {hold}<>"$LAB/int.fifo"
  printf 'interrupt me\n' >&"$hold"
  # (hopchain must not inherit the holding descriptor, or closing it would not end its stdin)
  "$HOPCHAIN" --stats "${HOP[@]}" stdio 127.0.0.1 "$E" <"$LAB/int.fifo" >"$LAB/int.out" \
    2>"$LAB/int.err" {hold}>&- &
  hc=$!
  wait_until 10 echoed_13 || true
  kill "-$sig" "$hc"
  if ! wait_exit "$hc" 10; then
    kill -KILL "$hc" 2>/dev/null || true
    exec {hold}>&-
    fail "stdio --stats: still running 10 s after SIG$sig"
  fi
  wait "$hc" || rc=$?
  exec {hold}>&-
  ((rc == want)) || fail "stdio --stats interrupted by SIG$sig: exit status $rc, want $want"
  must_match "$LAB/int.err" \
    "^hopchain: stdio: closed: sent 13 B, received 13 B in $DUR, up $RATE, down $RATE, interrupted\$" \
    "stdio --stats interrupted by SIG$sig: close line"
  note "ok: stdio --stats interrupted by SIG$sig: close line with what moved, marked interrupted, exit $rc"
}
interrupted_close_line INT 130
interrupted_close_line HUP 129

# --- stdio | head: the local reader going away is not the far side's failure ------------------
# The writer may meet a closed pipe too once hopchain is gone: only hopchain's status counts.
set +e
{ head -c 1000000 /dev/zero 2>/dev/null; } |
  timeout 30 "$HOPCHAIN" -v "${HOP[@]}" stdio 127.0.0.1 "$E" 2>"$LAB/head.err" | head -c 10 >/dev/null
statuses=("${PIPESTATUS[@]}")
set -e
rc=${statuses[1]}
((rc == 0)) || fail "stdio | head: exit status $rc, want 0"
must_match "$LAB/head.err" "the local output was closed" "stdio | head: why the tunnel ended"
if grep -q "lost" "$LAB/head.err"; then
  cat "$LAB/head.err" >&2
  fail "stdio | head: blamed the far side"
fi
note "ok: stdio | head: exit 0, 'the local output was closed'"

# --- stdio --stats: nothing but the statistics ---------------------------------------------
for quiet in "" -q; do
  stdio_echo_check "stdio --stats${quiet:+ $quiet}: 5000 bytes echoed" "$LAB/in.bin" 127.0.0.1 "$E" \
    --stats ${quiet:+"$quiet"} "${HOP[@]}"
  must_match "$LAB/stdio.err" "^hopchain: stdio: setup: hop 1/1 $HOP_URL: connected $DUR" \
    "stdio --stats${quiet:+ $quiet}: hop setup line"
  must_match "$LAB/stdio.err" "^hopchain: stdio: $CLOSE_RE" "stdio --stats${quiet:+ $quiet}: close line"
  if grep -vE '^hopchain: stdio: (setup|closed): ' "$LAB/stdio.err" >"$LAB/other.err"; then
    cat "$LAB/other.err" >&2
    fail "stdio --stats${quiet:+ $quiet} printed more than the statistics lines"
  fi
  # stdin is a file, all there at once: once the hop is known to take pipelining (a background
  # probe learns it), it goes with the request, and a fourth line says so.
  lines=$(wc -l <"$LAB/stdio.err")
  first=$(grep -cE "^hopchain: stdio: setup: first bytes: $(bytes_re 5000) with the request\$" "$LAB/stdio.err" || true)
  ((lines == 3 + first)) || cat "$LAB/stdio.err" >&2
  ((lines == 3 + first)) || fail "stdio --stats${quiet:+ $quiet}: expected $((3 + first)) lines on stderr, got $lines"
  note "ok: stdio --stats${quiet:+ $quiet}: only the 3 statistics lines; stdout byte-exact"
done

# --- forward --stats, SIGUSR1, failures per hop, totals on exit -----------------------------
LF=$(free_port) LC=$(free_port)
lab_bg hopchain-forward "$HOPCHAIN" --stats "${HOP[@]}" forward "$LF:127.0.0.1:$E" \
  "$LC:127.0.0.1:$CLOSED"
FWD=$LAB_LAST_PID
for p in "$LF" "$LC"; do
  wait_port "$p" 127.0.0.1 15 || fail "hopchain forward is not listening on $p"
done
out=$(timeout 60 python3 "$HC_SUPPORT/tcp_check.py" echo 127.0.0.1 "$LF" --count 1 \
  --min-size 3000 --max-size 3000 --timeout 50 2>&1) || fail "echo through forward: $out"
wait_log "$LAB/hopchain-forward.log" \
  "^hopchain: \\[c[0-9]+\\] forward $LF from 127.0.0.1:[0-9]+: closed: sent $(bytes_re 3000), received $(bytes_re 3000) in $DUR, up $RATE, down $RATE; up (splice|copy), down splice\$" 10
must_match "$LAB/hopchain-forward.log" \
  "^hopchain: \\[c[0-9]+\\] forward $LF from 127.0.0.1:[0-9]+: setup: hop 1/1 $HOP_URL: connected $DUR, tunnel $DUR" \
  "forward --stats: hop setup line"
# Two connections whose chain fails at the hop (its target refuses).
for _ in 1 2; do
  timeout 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$LC && cat <&3 >/dev/null" 2>/dev/null || true
done
two_failed() { (($(count_log "$LAB/hopchain-forward.log" "forward $LC from .*: hop 1/1 ") >= 2)); }
wait_until 10 two_failed || fail "forward: the two failed chains were not logged"
if grep -qE "forwarding|connected to" "$LAB/hopchain-forward.log"; then
  cat "$LAB/hopchain-forward.log" >&2
  fail "forward --stats printed -v lines"
fi
note "ok: forward --stats: per-connection setup and close lines, no other -v line"

more_summaries() { (($(count_log "$1" '^hopchain: stats: ') > $2)); }  # LOG COUNT-BEFORE
usr1_check() { # PID LOGNAME ERE DESC: SIGUSR1 prints a summary matching ERE; still alive
  local before
  before=$(count_log "$LAB/$2.log" '^hopchain: stats: ')
  kill -USR1 "$1"
  wait_until 10 more_summaries "$LAB/$2.log" "$before" || true
  tail -n 1 "$LAB/$2.log" | grep -qE -- "$3" || {
    tail -n 20 "$LAB/$2.log" >&2
    fail "$4: SIGUSR1 summary does not match '$3'"
  }
  hc_alive "$1" "$2"
  note "ok: $4: $(tail -n 1 "$LAB/$2.log")"
}

# Both failures are the hop's: hop 1 answered "connection refused" to the request.
usr1_check "$FWD" hopchain-forward \
  "^hopchain: stats: 0 open, 3 total, 2 failed, sent $(bytes_re 3000), received $(bytes_re 3000); hop 1/1 $HOP_URL: 2 failed\$" \
  "forward SIGUSR1"
out=$(timeout 60 python3 "$HC_SUPPORT/tcp_check.py" echo 127.0.0.1 "$LF" --count 1 \
  --min-size 100 --max-size 100 --timeout 50 2>&1) || fail "forward after SIGUSR1: $out"
wait_log "$LAB/hopchain-forward.log" "forward $LF from .*closed: sent 100 B" 10
usr1_check "$FWD" hopchain-forward \
  "^hopchain: stats: 0 open, 4 total, 2 failed, sent $(bytes_re 3100), received $(bytes_re 3100); hop 1/1 $HOP_URL: 2 failed\$" \
  "forward SIGUSR1 again, after one more connection"
# A burst of SIGTERMs, as a group kill gives: the first chooses the exit status (0, a service
# stopped), the later ones must not turn it into a death by signal (143).
for _ in $(seq 50); do kill -TERM "$FWD" 2>/dev/null || break; done
wait_group_exit "$FWD" 5 || fail "forward did not exit on SIGTERM within 5 s"
rc=0
wait "$FWD" || rc=$?
((rc == 0)) || fail "forward: exit $rc after a burst of SIGTERMs, want 0"
must_match "$LAB/hopchain-forward.log" \
  "^hopchain: totals: 0 open, 4 total, 2 failed, sent $(bytes_re 3100), received $(bytes_re 3100); hop 1/1 $HOP_URL: 2 failed, up $DUR\$" \
  "forward --stats: totals on exit"
note "ok: forward --stats: totals and exit 0 on a burst of SIGTERMs"

# --- socks: SIGUSR1 without --stats ----------------------------------------------------------
SP=$(free_port)
lab_bg hopchain-socks "$HOPCHAIN" "${HOP[@]}" socks "$SP"
SOCKS=$LAB_LAST_PID
wait_port "$SP" 127.0.0.1 15 || fail "hopchain socks is not listening on $SP"
make_payload "$LAB/small.bin" 700
stdio_echo_check "stdio through hopchain socks" "$LAB/small.bin" 127.0.0.1 "$E" \
  --pipeline never -x "socks5://127.0.0.1:$SP"
# The client does not probe pipelining (the probe would be a connection of its own).
# The server logs nothing per connection without -v: wait until its side has closed too.
# (ask for a summary, and look at the answer to the previous ask first)
socks_side_closed() {
  tail -n 1 "$LAB/hopchain-socks.log" | grep -q "^hopchain: stats: 0 open, 1 total" && return 0
  kill -USR1 "$SOCKS"
  return 1
}
wait_until 5 socks_side_closed || true
usr1_check "$SOCKS" hopchain-socks \
  "^hopchain: stats: 0 open, 1 total, 0 failed, sent 700 B, received 700 B\$" "socks SIGUSR1"
stdio_echo_check "stdio through hopchain socks after SIGUSR1" "$LAB/small.bin" 127.0.0.1 "$E" \
  --pipeline never -x "socks5://127.0.0.1:$SP"
note "ok: socks keeps serving after SIGUSR1"

# --- udp: SIGUSR1 and --stats per session ----------------------------------------------------
UL=$(free_port)
start_hopchain_udp hopchain-udp --stats "${HOP[@]}" udp --udp-timeout 1 "$UL:127.0.0.1:$UE" -- "$UL"
UDP=$LAB_LAST_PID
udp_echo_check "udp: 20 datagrams" 127.0.0.1 "$UL" --count 20 --max-size 500
usr1_check "$UDP" hopchain-udp \
  "^hopchain: stats: [01] open, 1 total, 0 failed, sent [0-9]+ B.*, datagrams: 20 sent, 20 received, 0 dropped\$" \
  "udp SIGUSR1"
wait_log "$LAB/hopchain-udp.log" \
  "^hopchain: \\[c[0-9]+\\] udp $UL from 127.0.0.1:[0-9]+: closed: sent [0-9]+ B.* in $DUR, up $RATE, down $RATE, datagrams: 20 sent, 20 received, 0 dropped\$" 10
udp_echo_check "udp after SIGUSR1: 5 datagrams" 127.0.0.1 "$UL" --count 5 --max-size 500
usr1_check "$UDP" hopchain-udp \
  "^hopchain: stats: [01] open, 2 total, 0 failed, .*datagrams: 25 sent, 25 received, 0 dropped\$" \
  "udp SIGUSR1 again"
