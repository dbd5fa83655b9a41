#!/usr/bin/env bash
# Runs the whole benchmark suite (not part of the test run) and prints its tables:
#   setup_latency.sh  bulk.sh  concurrency.sh  startup.sh  load.sh  exec_startup.sh
# Installs the peers and servers it needs (apt-get, as root or through sudo), builds hopchain
# in Release mode into build-bench/ (unless HOPCHAIN points to a binary), and keeps every
# script's full output in $BENCH_OUT (default: a new directory under /tmp).
# About 10-20 minutes on 2 cores. Everything runs on loopback.
#
#   tests/bench/run_all.sh                 # everything
#   tests/bench/run_all.sh bulk startup    # a subset
#   HOPCHAIN=/path/to/hopchain tests/bench/run_all.sh
# Each script's own knobs (LAT_RUNS, BULK_BYTES, CONC_N, STARTUP_RUNS, LOAD_CONNS, ...) pass through.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HC_ROOT=$(cd "$BENCH_DIR/../.." && pwd)
cd "$HC_ROOT"

PARTS=("$@")
((${#PARTS[@]})) || PARTS=(setup_latency bulk concurrency startup load exec_startup)
for p in "${PARTS[@]}"; do
  [[ -f $BENCH_DIR/$p.sh ]] || { echo "run_all: no such part: $p (setup_latency bulk concurrency startup load exec_startup)" >&2; exit 2; }
done

# shellcheck source=../deps.sh
. "$HC_ROOT/tests/deps.sh"
# shellcheck disable=SC2086  # a list of package names
hc_install_packages $HC_BUILD_PACKAGES dante-server microsocks proxychains4 socat ncat tcpdump \
  python3 procps iproute2 passwd openssh-server openssh-client

if [[ -z ${HOPCHAIN:-} ]]; then
  echo "building hopchain (Release) in $HC_ROOT/build-bench"
  timeout 1800 cmake -S "$HC_ROOT" -B "$HC_ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
  timeout 1800 cmake --build "$HC_ROOT/build-bench" -j"$(nproc)" --target hopchain >/dev/null
  HOPCHAIN=$HC_ROOT/build-bench/cmd/hopchain
fi
export HOPCHAIN

BENCH_OUT=${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/hcbench-results.XXXXXX")}
mkdir -p "$BENCH_OUT"
{
  src=$(dirname "$(readlink -f "$HOPCHAIN")")   # the source tree the binary was built from, if any
  echo "hopchain: $HOPCHAIN ($("$HOPCHAIN" --version 2>&1 | head -n1)), git $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$src" diff --quiet HEAD -- 2>/dev/null || echo ' + local changes')"
  echo "host: $(uname -sr), $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'peers: '
  for p in socat ncat proxychains4 dante-server microsocks; do
    printf '%s %s  ' "$p" "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo '?')"
  done
  echo
} | tee "$BENCH_OUT/system.txt"

rc=0
t0=$SECONDS
for p in "${PARTS[@]}"; do
  echo "--- $p.sh (log: $BENCH_OUT/$p.log)"
  s=$SECONDS
  if ! timeout 2400 bash "$BENCH_DIR/$p.sh" >"$BENCH_OUT/$p.log" 2>&1; then
    rc=1
    echo "    FAILED; last lines:"
    tail -n 15 "$BENCH_OUT/$p.log" | sed 's/^/    /'
  fi
  echo "    $((SECONDS - s)) s"
done

echo
echo "################ results ($((SECONDS - t0)) s; full logs in $BENCH_OUT) ################"
cat "$BENCH_OUT/system.txt"
for p in "${PARTS[@]}"; do
  # each script prints its table(s) after a '=== title ===' line, before the final PASS line
  awk '/^=== / { on = 1 } on && !/^(PASS|FAILED) \(/ { print }' "$BENCH_OUT/$p.log"
done | tee "$BENCH_OUT/tables.txt"
exit "$rc"
