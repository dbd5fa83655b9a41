#!/usr/bin/env bash
# Process start: time from fork of the client to its first SYN to hop 1.
#
# hcbench startup listens on 127.0.0.1:P (hop 1 of every client), then per run forks the client
# (stdin/stdout /dev/null) and waits for accept(); the client is killed right after. Two clocks:
#   accept  fork -> accept() returns in the listener (SYN + SYN-ACK + ACK on loopback, ~20 us)
#   SYN     fork -> the SYN's kernel timestamp, captured with tcpdump on lo (when available;
#           both sides use CLOCK_REALTIME)
# Clients (target 127.0.0.1:9 behind the hop; the hop never answers):
#   floor        hcbench connect-idle 127.0.0.1 P (a minimal dynamically linked C++ program)
#   hopchain     hopchain -q -x socks5://127.0.0.1:P stdio 127.0.0.1 9
#   ncat         ncat --proxy-type socks5 --proxy 127.0.0.1:P 127.0.0.1 9
#   socat        socat - SOCKS4:127.0.0.1:127.0.0.1:9,socksport=P
#   proxychains4 proxychains4 -q -f CONF hcbench nc 127.0.0.1 9
# Median of STARTUP_RUNS (default 50) runs each, after 3 warm-up runs (page cache).
#
# Environment: STARTUP_RUNS, HOPCHAIN.
set -euo pipefail
# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
bench_init
lab_require ncat socat proxychains4

RUNS=${STARTUP_RUNS:-50}
P=$(free_port)
bench_proxychains_conf "$LAB/pc.conf" socks5 "$P"

TCPDUMP=0
if command -v tcpdump >/dev/null 2>&1; then
  lab_bg tcpdump tcpdump -i lo -n -l -tt --time-stamp-precision=nano \
    "tcp dst port $P and tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0"
  for ((i = 0; i < 100; i++)); do
    grep -q 'listening on' "$LAB/tcpdump.log" 2>/dev/null && TCPDUMP=1 && break
    sleep 0.1
  done
  ((TCPDUMP)) || note "tcpdump did not start; SYN column omitted"
else
  note "tcpdump not installed; SYN column omitted (accept() times only)"
fi

NAMES=(floor hopchain ncat socat proxychains4)
run_startup() { # NAME CMD...
  local name=$1 out
  shift
  timeout 120 "$HCBENCH" startup --port "$P" --runs 3 --timeout 5 -- "$@" >/dev/null 2>&1 || true
  out=$(timeout $((RUNS * 6 + 60)) "$HCBENCH" startup --port "$P" --runs "$RUNS" --timeout 5 -- "$@") ||
    fail "$name: a run failed: $(tail -n 3 <<<"$out")"
  grep '^sample' <<<"$out" | sed "s/^/$name /" >>"$LAB/startup-samples.txt"
  ACC[$name]=$(bench_kv median_ms "$(grep '^result' <<<"$out")")
  ACC90[$name]=$(bench_kv p90_ms "$(grep '^result' <<<"$out")")
  note "$name: accept median ${ACC[$name]} ms, p90 ${ACC90[$name]} ms"
}
declare -A ACC ACC90 SYN
run_startup floor "$HCBENCH" connect-idle 127.0.0.1 "$P"
run_startup hopchain "$HOPCHAIN" -q -x "socks5://127.0.0.1:$P" stdio 127.0.0.1 9
run_startup ncat ncat --proxy-type socks5 --proxy "127.0.0.1:$P" 127.0.0.1 9
run_startup socat socat - SOCKS4:127.0.0.1:127.0.0.1:9,socksport="$P"
run_startup proxychains4 proxychains4 -q -f "$LAB/pc.conf" "$HCBENCH" nc 127.0.0.1 9

if ((TCPDUMP)); then
  sleep 0.5
  grep -E '^[0-9]+\.[0-9]+ IP ' "$LAB/tcpdump.log" | awk '{ print $1 }' >"$LAB/syn-times.txt" || true
  # For each sample (in time order), the first SYN at or after its fork and before the next fork.
  for name in "${NAMES[@]}"; do
    SYN[$name]=$(awk -v want="$name" '
      FNR == NR { syn[++ns] = $1; next }
      { for (i = 1; i <= NF; i++) if ($i ~ /^t0_real=/) { t = substr($i, 9) } ; name[++nt] = $1; t0[nt] = t }
      END {
        j = 1; n = 0
        for (i = 1; i <= nt; i++) {
          while (j <= ns && syn[j] < t0[i]) j++
          if (j <= ns && (i == nt || syn[j] < t0[i + 1]) && name[i] == want) d[++n] = (syn[j] - t0[i]) * 1000
        }
        if (n == 0) { print "-"; exit }
        # median
        for (a = 1; a <= n; a++) for (b = a + 1; b <= n; b++) if (d[b] < d[a]) { x = d[a]; d[a] = d[b]; d[b] = x }
        if (n % 2) printf "%.3f\n", d[(n + 1) / 2]; else printf "%.3f\n", (d[n / 2] + d[n / 2 + 1]) / 2
      }' "$LAB/syn-times.txt" "$LAB/startup-samples.txt")
  done
fi

bench_header "Process start to first SYN on hop 1 (median of $RUNS; ms)"
printf '%-14s %10s %10s %10s %12s\n' client "SYN" "accept" "accept p90" "vs hopchain"
for name in "${NAMES[@]}"; do
  printf '%-14s %10s %10s %10s %12s\n' "$name" "${SYN[$name]:--}" "${ACC[$name]}" "${ACC90[$name]}" \
    "$(bench_ratio "${ACC[$name]}" "${ACC[hopchain]}")"
done
echo "floor = hcbench connect-idle (exec + dynamic linking + connect of a minimal C++ program)."
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
