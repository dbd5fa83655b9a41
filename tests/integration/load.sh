#!/usr/bin/env bash
# Load through forward mode and a 2-hop chain of real servers (microsocks -> microsocks) to an
# echo target: 2,000 connections open at once, each sends 1 MiB of its own pseudo-random pattern
# and checks byte by byte that the same 1 MiB comes back (hcbench load). Zero lost, zero
# corrupted, and hopchain's memory returns to near its idle level once they have all closed.
# HC_LOAD_CONNS / HC_LOAD_BYTES scale it (default 2000 and 1M).
set -euo pipefail
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
source "$HC_SUPPORT/lab_load.sh"
lab_init
require_hopchain

CONNS=${HC_LOAD_CONNS:-2000}
BYTES=${HC_LOAD_BYTES:-1M}
load_build_client
load_start_chain
load_run "$CONNS" "$BYTES" 100
note "$LOAD_RESULT"
note "hopchain: CPU $LOAD_CPU_MS ms; RSS idle $((LOAD_RSS_IDLE / 1024)) MiB, peak $((LOAD_RSS_PEAK / 1024)) MiB, after $((LOAD_RSS_AFTER / 1024)) MiB"
[[ $(load_kv ok) == "$CONNS" && $(load_kv corrupt) == 0 && $(load_kv lost) == 0 ]] ||
  fail "not every connection echoed intact: $LOAD_RESULT"
[[ $(load_kv peak_concurrent) == "$CONNS" ]] || fail "not all $CONNS connections were open at once"
kill -0 "$LOAD_PID" 2>/dev/null || fail "hopchain died"
# "Near idle": within 16 MiB (or a quarter of the peak's growth, if larger) of the idle level.
# Not under AddressSanitizer, whose quarantine keeps freed memory on purpose.
slack=$(((LOAD_RSS_PEAK - LOAD_RSS_IDLE) / 4))
((slack > 16384)) || slack=16384
if ldd "$HOPCHAIN" 2>/dev/null | grep -q libasan; then
  note "ok: $CONNS x $BYTES echoed intact (AddressSanitizer build: memory reported, not checked)"
elif ((LOAD_RSS_AFTER > LOAD_RSS_IDLE + slack)); then
  fail "hopchain's RSS did not return near idle ($LOAD_SMAPS_AFTER): idle $LOAD_RSS_IDLE KiB, peak $LOAD_RSS_PEAK KiB, after $LOAD_RSS_AFTER KiB"
else
  note "ok: $CONNS x $BYTES echoed intact, memory back near idle ($LOAD_SMAPS_AFTER)"
fi
