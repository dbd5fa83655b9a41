#!/usr/bin/env bash
# hopchain exec side by side with forward mode on the same chain (one danted hop) and the same
# targets across a veth pair in a test network namespace (tests/support/lab_capture.sh; needs
# root). The client is the same Python program in both: under exec it connects to the target's
# own address and is captured; through forward it connects to a local forward port.
#   setup:      connect() to the first byte of a banner server, median of BENCH_RUNS (21)
#   throughput: one connection receiving BENCH_BYTES (256 MiB) from a source server
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

B=$(free_port) S=$(free_port)
capture_bench_targets "$B" "$S" "$BYTES"
D=$(free_port); start_danted dante "$D" "external=$CAPTURE_LOCAL_IP"
HOP=(-x "socks5://127.0.0.1:$D")

FB=$(free_port) FS=$(free_port)
lab_bg forward "$HOPCHAIN" -q "${HOP[@]}" forward "$FB:$T:$B" "$FS:$T:$S"
wait_port "$FB" 127.0.0.1 || fail "hopchain forward did not listen"
wait_port "$FS" 127.0.0.1 || fail "hopchain forward did not listen"
note "danted $D; forward $FB -> banner, $FS -> source; targets $T"

client() { python3 "$BENCH_DIR/capture_client.py" "$@"; }
under_exec() { timeout -k 5 300 "$HOPCHAIN" -q "${HOP[@]}" exec -- python3 "$BENCH_DIR/capture_client.py" "$@"; }

f_setup=$(client first-byte 127.0.0.1 "$FB" --runs "$RUNS") || fail "forward: first-byte failed"
e_setup=$(under_exec first-byte "$T" "$B" --runs "$RUNS") || fail "exec: first-byte failed"
f_bulk=$(client bulk 127.0.0.1 "$FS" --bytes "$BYTES") || fail "forward: bulk failed"
e_bulk=$(under_exec bulk "$T" "$S" --bytes "$BYTES") || fail "exec: bulk failed"

value() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
printf '%-9s setup (connect to first byte, ms, median of %s): %s   throughput: %s\n' \
  forward "$RUNS" "$f_setup" "$f_bulk" exec "$RUNS" "$e_setup" "$e_bulk"
awk -v fs="$(value median "$f_setup")" -v es="$(value median "$e_setup")" \
  -v fb="$(value mib_s "$f_bulk")" -v eb="$(value mib_s "$e_bulk")" \
  'BEGIN { printf "exec/forward: setup %.2fx (lower is better), throughput %.2fx (higher is better)\n", es / fs, eb / fb }'
