#!/usr/bin/env bash
# Load through forward mode and a 2-hop chain of real servers (microsocks -> microsocks) to an
# echo target: many connections open at once (2,000 on 4 cores or more; sized to the machine by
# load_size: cores, available memory, sanitizer build), each sends 1 MiB of its own pseudo-random
# pattern and checks byte by byte that the same bytes come back (hcbench load). Zero corrupted,
# none lost by hopchain, and hopchain's memory returns to near its idle level once they have all
# closed. HC_LOAD_CONNS / HC_LOAD_BYTES override the size.
#
# The hops' handshakes are bounded by --connect-timeout (LOAD_HOP_TIMEOUT, 120 s) and the whole
# run by 200 s. A chain that failed because a hop did not answer in time is the lab's hop being
# starved on a busy machine, not a connection hopchain lost: such failures are counted from
# hopchain's log and reported, and tolerated as long as every failed connection is one of them
# and at least 3/4 of the connections came through intact. Anything else that did not come back
# whole is a loss and fails the test.
set -euo pipefail
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
source "$HC_SUPPORT/lab_load.sh"
lab_init
require_hopchain

load_size
CONNS=$LOAD_CONNS
BYTES=$LOAD_BYTES
load_build_client
load_start_chain
load_run "$CONNS" "$BYTES" 200
note "$LOAD_RESULT"
note "hopchain: CPU $LOAD_CPU_MS ms; RSS idle $((LOAD_RSS_IDLE / 1024)) MiB, peak $((LOAD_RSS_PEAK / 1024)) MiB, after $((LOAD_RSS_AFTER / 1024)) MiB"
timeouts=$(load_hop_timeouts)
timed_out=$(load_hop_timeout_count)
note "hops that did not answer within ${LOAD_HOP_TIMEOUT}s: ${timeouts:-none} (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
ok=$(load_kv ok)
corrupt=$(load_kv corrupt)
lost=$(load_kv lost)
((corrupt == 0)) || fail "$corrupt connections came back corrupted: $LOAD_RESULT"
[[ $(load_kv peak_concurrent) == "$CONNS" ]] || fail "not all $CONNS connections were open at once: $LOAD_RESULT"
if ((lost > 0)); then
  ((lost <= timed_out)) ||
    fail "$((lost - timed_out)) of $lost failed connections are not explained by a hop timeout: $LOAD_RESULT"
  ((ok * 4 >= CONNS * 3)) ||
    fail "only $ok of $CONNS connections came through: $lost hops' handshakes timed out after ${LOAD_HOP_TIMEOUT}s, too many to judge the load (the machine is overloaded)"
  note "WARNING: $lost connections failed because a hop did not answer within ${LOAD_HOP_TIMEOUT}s (named by hopchain, not lost by it)"
fi
((ok + lost == CONNS)) || fail "connections unaccounted for: $LOAD_RESULT"
kill -0 "$LOAD_PID" 2>/dev/null || fail "hopchain died"
# "Near idle": within 16 MiB (or a quarter of the peak's growth, if larger) of the idle level.
# Not under AddressSanitizer, whose quarantine keeps freed memory on purpose.
slack=$(((LOAD_RSS_PEAK - LOAD_RSS_IDLE) / 4))
((slack > 16384)) || slack=16384
if hopchain_sanitized; then
  note "ok: $ok of $CONNS x $BYTES echoed intact (AddressSanitizer build: memory reported, not checked)"
elif ((LOAD_RSS_AFTER > LOAD_RSS_IDLE + slack)); then
  fail "hopchain's RSS did not return near idle ($LOAD_SMAPS_AFTER): idle $LOAD_RSS_IDLE KiB, peak $LOAD_RSS_PEAK KiB, after $LOAD_RSS_AFTER KiB"
else
  note "ok: $ok of $CONNS x $BYTES echoed intact, memory back near idle ($LOAD_SMAPS_AFTER)"
fi
