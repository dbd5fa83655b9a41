#!/usr/bin/env bash
# exec startup: wall time of `hopchain exec -- true` (fork, user/network/mount namespaces, lo
# address and routes over rtnetlink, the nftables ruleset, capture listeners handed over, exec,
# reap) next to `proxychains4 true` (LD_PRELOAD of libproxychains, config read), and plain
# `true` as the floor. Median (and p90) of EXEC_RUNS (default 21) runs each, after 3 warm-ups.
# The goal for hopchain is <= 15 ms on a 2-vCPU machine. As root, and as nobody when
# unprivileged user namespaces are allowed (the user namespace and its id maps add their cost).
#
# Environment: EXEC_RUNS, HOPCHAIN.
set -euo pipefail
# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
RUNS=${EXEC_RUNS:-21}
bench_init
lab_require proxychains4 python3 setpriv

# wall_ms CMD...: median and p90 wall time in ms of RUNS runs (after 3 warm-ups), "MEDIAN P90".
wall_ms() {
  timeout $((RUNS * 10 + 60)) python3 - "$RUNS" "$@" <<'PY'
import statistics, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
for _ in range(3):
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
samples = []
for _ in range(runs):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    samples.append((time.perf_counter() - t0) * 1000)
samples.sort()
print(f"{statistics.median(samples):.2f} {samples[int(0.9 * (len(samples) - 1))]:.2f}")
PY
}

declare -A MED P90
measure() { # NAME CMD...
  local name=$1 out
  shift
  out=$(wall_ms "$@") || fail "$name: a run failed"
  read -r "MED[$name]" "P90[$name]" <<<"$out"
  note "$name: median ${MED[$name]} ms, p90 ${P90[$name]} ms"
}
# One hop that nobody contacts: `true` makes no connection, so this is pure startup cost.
P=$(free_port)
bench_proxychains_conf "$LAB/pc.conf" socks5 "$P"
chmod 644 "$LAB/pc.conf" # nobody reads it too
NOBODY=(setpriv --reuid nobody --regid nogroup --clear-groups env HOME="$LAB" XDG_CACHE_HOME="$LAB/nobody-cache")
NAMES=(true hopchain-exec proxychains4)
measure true true
measure hopchain-exec "$HOPCHAIN" -q -x "socks5://127.0.0.1:$P" exec -- true
measure proxychains4 proxychains4 -q -f "$LAB/pc.conf" true
if [[ $(id -u) == 0 ]] && "${NOBODY[@]}" unshare -rn true 2>/dev/null; then
  NAMES+=(hopchain-exec-nobody proxychains4-nobody)
  measure hopchain-exec-nobody "${NOBODY[@]}" "$HOPCHAIN" -q -x "socks5://127.0.0.1:$P" exec -- true
  measure proxychains4-nobody "${NOBODY[@]}" proxychains4 -q -f "$LAB/pc.conf" true
fi

bench_header "exec startup: wall time of CMD=true, median of $RUNS (ms)"
printf '%-24s %10s %10s\n' command median p90
for name in "${NAMES[@]}"; do
  printf '%-24s %10s %10s\n' "$name" "${MED[$name]}" "${P90[$name]}"
done
