#!/usr/bin/env bash
# hopchain redirect side by side with Debian's redsocks: the same nftables rules (each tool
# takes one user's TCP, `meta skuid`), the same first hop (danted), the same targets across a
# veth pair in a test network namespace (tests/support/lab_capture.sh; needs root).
#   setup:      connect() to the first byte of a banner server, median of BENCH_RUNS (21)
#   throughput: one connection receiving BENCH_BYTES (256 MiB) from a source server
# Prints the figures; nothing is asserted (README "Performance" quotes a run).
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
lab_require danted redsocks
capture_lab_init
RUNS=${BENCH_RUNS:-21}
BYTES=${BENCH_BYTES:-$((256 << 20))}
T=$CAPTURE_TARGET_IP

B=$(free_port) S=$(free_port)
capture_bench_targets "$B" "$S" "$BYTES"
D=$(free_port); start_danted dante "$D" "external=$CAPTURE_LOCAL_IP"

# user 4242 -> hopchain redirect, user 4244 -> redsocks
HC=$(free_port) RS=$(free_port)
capture_rules "4242:$HC" "4244:$RS"
lab_bg hopchain "$HOPCHAIN" -q -x "socks5://127.0.0.1:$D" redirect "$HC"
wait_port "$HC" 127.0.0.1 || fail "hopchain redirect did not listen"
cat >"$LAB/redsocks.conf" <<CONF
base { log_debug = off; log_info = off; log = "file:$LAB/redsocks.out"; daemon = off;
       redirector = iptables; }
redsocks { local_ip = 127.0.0.1; local_port = $RS; ip = 127.0.0.1; port = $D; type = socks5; }
CONF
lab_bg redsocks redsocks -c "$LAB/redsocks.conf"
wait_port "$RS" 127.0.0.1 || fail "redsocks did not listen"
note "danted $D; hopchain redirect $HC (uid 4242), redsocks $RS (uid 4244); targets $T"

client() { # UID ARGS...
  local uid=$1
  shift
  as_user "$uid" "$CAPTURE_PYTHON" "$BENCH_DIR/capture_client.py" "$@"
}
for who in "hopchain redirect:4242" "redsocks:4244"; do
  name=${who%%:*} uid=${who##*:}
  setup=$(client "$uid" first-byte "$T" "$B" --runs "$RUNS") || fail "$name: first-byte failed"
  bulk=$(client "$uid" bulk "$T" "$S" --bytes "$BYTES") || fail "$name: bulk failed"
  printf '%-18s setup (connect to first byte, ms, median of %s): %s   throughput: %s\n' \
    "$name" "$RUNS" "$setup" "$bulk"
done
