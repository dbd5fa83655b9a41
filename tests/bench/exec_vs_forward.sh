#!/usr/bin/env bash
# hopchain exec side by side with forward mode on the same chain (one danted hop) and the same
# targets across a veth pair in a test network namespace (tests/support/lab_capture.sh; needs
# root). The client is the same Python program in both: under exec it connects to the target's
# own address and is captured; through forward it connects to a local forward port.
#   setup:      connect() to the first byte of a banner server, median of BENCH_RUNS (21)
#   throughput: one connection receiving BENCH_BYTES (256 MiB) from a source server
#   UDP:        one socket to an echo server, its first datagram's round trip (the association
#               opens) and BENCH_UDP_RUNS (2000) more one after the other; through `udp` mode's
#               port for the forward side
# Prints the figures and exec/forward ratios; nothing is asserted (README "Performance").
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HC_SUPPORT=${HC_SUPPORT:-$BENCH_DIR/../support}
# shellcheck source=../support/lab.sh
source "$HC_SUPPORT/lab.sh"
# shellcheck source=../support/lab_capture.sh
source "$HC_SUPPORT/lab_capture.sh"
capture_enter_namespace "$@"
lab_init
HOPCHAIN=${HOPCHAIN:-$BENCH_DIR/../../build/cmd/hopchain}
lab_require danted
capture_lab_init
RUNS=${BENCH_RUNS:-21}
BYTES=${BENCH_BYTES:-$((256 << 20))}
T=$CAPTURE_TARGET_IP

UDP_RUNS=${BENCH_UDP_RUNS:-2000}
B=$(free_port) S=$(free_port) U=$(free_port)
capture_bench_targets "$B" "$S" "$BYTES"
lab_bg udp-echo nsenter -t "$CAPTURE_TARGETS_PID" -n python3 "$HC_SUPPORT/udp_echo.py" --port "$U" --bind "$T"
wait_target_port "$U" udp
D=$(free_port); start_danted dante "$D" "external=$CAPTURE_LOCAL_IP"
HOP=(-x "socks5://127.0.0.1:$D")

FB=$(free_port) FS=$(free_port)
lab_bg forward "$HOPCHAIN" -q "${HOP[@]}" forward "$FB:$T:$B" "$FS:$T:$S"
wait_port "$FB" 127.0.0.1 || fail "hopchain forward did not listen"
wait_port "$FS" 127.0.0.1 || fail "hopchain forward did not listen"
FU=$(free_port)
lab_bg udp-forward "$HOPCHAIN" -q "${HOP[@]}" udp "$FU:$T:$U"
wait_until 15 sh -c "ss -Hlun 'sport = :$FU' | grep -q ." || fail "hopchain udp did not bind"
note "danted $D; forward $FB -> banner, $FS -> source, udp $FU -> echo; targets $T"

client() { python3 "$BENCH_DIR/capture_client.py" "$@"; }
under_exec() { timeout -k 5 300 "$HOPCHAIN" -q "${HOP[@]}" exec -- python3 "$BENCH_DIR/capture_client.py" "$@"; }

f_setup=$(client first-byte 127.0.0.1 "$FB" --runs "$RUNS") || fail "forward: first-byte failed"
e_setup=$(under_exec first-byte "$T" "$B" --runs "$RUNS") || fail "exec: first-byte failed"
f_bulk=$(client bulk 127.0.0.1 "$FS" --bytes "$BYTES") || fail "forward: bulk failed"
e_bulk=$(under_exec bulk "$T" "$S" --bytes "$BYTES") || fail "exec: bulk failed"
f_udp=$(client udp 127.0.0.1 "$FU" --runs "$UDP_RUNS") || fail "udp mode: round trips failed"
e_udp=$(under_exec udp "$T" "$U" --runs "$UDP_RUNS") || fail "exec: UDP round trips failed"

value() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
printf '%-9s setup (connect to first byte, ms, median of %s): %s   throughput: %s\n' \
  forward "$RUNS" "$f_setup" "$f_bulk" exec "$RUNS" "$e_setup" "$e_bulk"
printf '%-9s UDP round trips (ms; first = the association opening): %s\n' \
  forward "$f_udp" exec "$e_udp"
awk -v fs="$(value median "$f_setup")" -v es="$(value median "$e_setup")" \
  -v fb="$(value mib_s "$f_bulk")" -v eb="$(value mib_s "$e_bulk")" \
  'BEGIN { printf "exec/forward: setup %.2fx (lower is better), throughput %.2fx (higher is better)\n", es / fs, eb / fb }'
awk -v ff="$(value first "$f_udp")" -v ef="$(value first "$e_udp")" \
  -v fm="$(value median "$f_udp")" -v em="$(value median "$e_udp")" \
  'BEGIN { printf "exec/udp mode: first datagram %.2fx, round trip %.2fx (lower is better)\n", ef / ff, em / fm }'
