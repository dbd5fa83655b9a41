#!/usr/bin/env bash
# Checked load through forward mode and a 2-hop chain (microsocks -> microsocks) to hcbench's
# echo server: LOAD_CONNS connections (default 5,000) open at once, each sends LOAD_BYTES
# (default 4M) of its own pseudo-random pattern and checks the echo byte by byte. Prints
# connections, MiB moved (both ways, at the client), seconds, MB/s, hopchain's CPU, and its RSS
# before, at its peak and after every connection closed. tests/integration/load.sh is the same
# at test size (2,000 x 1 MiB).
#
# Environment: LOAD_CONNS, LOAD_BYTES, LOAD_TIMEOUT (default 600 s), HOPCHAIN.
set -euo pipefail
# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
# shellcheck source=../support/lab_load.sh
source "$HC_SUPPORT/lab_load.sh"
bench_init
load_build_client   # this tree's hcbench (with `load`), cached by content

CONNS=${LOAD_CONNS:-5000}
BYTES=${LOAD_BYTES:-4M}
LIMIT=${LOAD_TIMEOUT:-600}
load_start_chain
note "load: $CONNS connections x $BYTES through forward -> microsocks -> microsocks -> echo"
load_run "$CONNS" "$BYTES" "$LIMIT"
note "$LOAD_RESULT"
mib=$(load_kv mib_moved) secs=$(load_kv secs)
printf '\n%-12s %-10s %-10s %-8s %-8s %-8s %-12s %-12s %-12s\n' connections ok MiB seconds MB/s "CPU s" \
  "RSS before" "RSS peak" "RSS after"
printf '%-12s %-10s %-10s %-8s %-8s %-8s %-12s %-12s %-12s\n' "$CONNS" "$(load_kv ok)" "$mib" "$secs" \
  "$(load_kv mb_per_s)" "$(awk -v m="$LOAD_CPU_MS" 'BEGIN { printf "%.1f", m / 1000 }')" \
  "$((LOAD_RSS_IDLE / 1024)) MiB" "$((LOAD_RSS_PEAK / 1024)) MiB" "$((LOAD_RSS_AFTER / 1024)) MiB"
echo "(MiB and MB/s count bytes sent plus bytes received by the client; corrupt=$(load_kv corrupt) lost=$(load_kv lost))"
[[ $(load_kv ok) == "$CONNS" ]] || fail "not every connection echoed intact: $LOAD_RESULT"
