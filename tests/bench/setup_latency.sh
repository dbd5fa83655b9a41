#!/usr/bin/env bash
# Setup latency: time from process start to the first echoed byte through 1..4 SOCKS5 hops
# (danted), each hop behind a delay proxy adding 10 ms each way (20 ms link round trip).
#
#   client -> delay -> danted 1 -> delay -> danted 2 -> ... -> danted N -> echo server
#
# Per run, hcbench first-byte puts a 20-byte payload on the client's stdin, forks the client and
# measures until the first echoed byte arrives on its stdout (median of LAT_RUNS runs, after
# one warm-up run). Clients:
#   hopchain -q -x socks5://... stdio 127.0.0.1 ECHO      (default, and with --pipeline=always /
#                                                            never when the binary has --pipeline)
#   proxychains4 -q -f CONF hcbench nc 127.0.0.1 ECHO      (strict_chain of the same hops)
# hcbench nc is a small C++ netcat; its own cost (process start, connect, one loopback echo) is
# measured directly against the echo server ("client alone") and subtracted from proxychains4's
# figure ("net"), which favours proxychains4. hopchain's figure is raw: nothing subtracted.
# The link round trip is measured as hcbench nc through one delay proxy minus "client alone".
#
# Environment: LAT_HOPS (default "1 2 3 4"), LAT_RUNS (21), LAT_DELAY_MS (10), HOPCHAIN.
set -euo pipefail
# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
bench_init
lab_require danted proxychains4 python3

HOPS_LIST=${LAT_HOPS:-1 2 3 4}
RUNS=${LAT_RUNS:-21}
DELAY=${LAT_DELAY_MS:-10}
max_hops=0
for n in $HOPS_LIST; do ((n > max_hops)) && max_hops=$n; done

E=$(free_port)
start_hcbench_server echo "$E" echo
bench_delayed_hops lat-dante "$max_hops" "$DELAY"
DE=$(free_port)
start_delay_proxy "$DE" "$E" "$DELAY"   # calibration: one delayed link straight to the echo server
note "echo on $E; hops (danted port <- delay port): $(for ((k = 1; k <= max_hops; k++)); do printf '%s<-%s ' "${P[k]}" "${D[k]}"; done)"

# measure NAME CMD... : warm-up run, then RUNS runs; sets M (median ms) and M_FIRST (warm-up ms)
measure() {
  local name=$1 out
  shift
  out=$(timeout 120 "$HCBENCH" first-byte --runs 1 --timeout 15 -- "$@" 2>>"$LAB/first-byte.err") || {
    echo "$out" >&2
    cat "$LAB/first-byte.err" >&2
    fail "$name: warm-up run failed: $*"
  }
  M_FIRST=$(bench_kv median_ms "$(grep '^result' <<<"$out")")
  out=$(timeout $((RUNS * 20 + 60)) "$HCBENCH" first-byte --runs "$RUNS" --timeout 15 -- "$@" 2>>"$LAB/first-byte.err") || {
    echo "$out" >&2
    cat "$LAB/first-byte.err" >&2
    fail "$name: a run failed: $*"
  }
  local res
  res=$(grep '^result' <<<"$out")
  M=$(bench_kv median_ms "$res")
  echo "$name: $res" >>"$LAB/latency-raw.txt"
  note "$name: median $M ms (p10 $(bench_kv p10_ms "$res"), p90 $(bench_kv p90_ms "$res"), first run $M_FIRST)"
}

measure "client alone" "$HCBENCH" nc 127.0.0.1 "$E"
CLIENT=$M
measure "one delayed link" "$HCBENCH" nc 127.0.0.1 "$DE"
LINK=$(awk -v a="$M" -v b="$CLIENT" 'BEGIN { printf "%.2f", a - b }')
note "link round trip measured: $LINK ms (nominal $((2 * DELAY)) ms)"

declare -A R
VARIANTS=(default)
if [[ $HC_PIPELINE == 1 ]]; then VARIANTS=(default always never); fi
for n in $HOPS_LIST; do
  ports=()
  for ((k = 1; k <= n; k++)); do ports+=("${D[k]}"); done
  bench_hop_args "${ports[@]}"
  for v in "${VARIANTS[@]}"; do
    opt=()
    [[ $v != default ]] && opt=("--pipeline=$v")
    measure "$n hops hopchain ${v}" "$HOPCHAIN" -q "${opt[@]}" "${BENCH_CHAIN[@]}" stdio 127.0.0.1 "$E"
    R[$n,$v]=$M
    R[$n,$v,first]=$M_FIRST
  done
  bench_proxychains_conf "$LAB/pc-$n.conf" socks5 "${ports[@]}"
  measure "$n hops proxychains4" proxychains4 -q -f "$LAB/pc-$n.conf" "$HCBENCH" nc 127.0.0.1 "$E"
  R[$n,pc]=$M
done

bench_header "Setup latency: start to first echoed byte, SOCKS5 (danted) hops, ${DELAY} ms each way per link (median of $RUNS)"
printf 'link RTT measured %s ms; client alone (hcbench nc, subtracted from proxychains4) %s ms\n' "$LINK" "$CLIENT"
if [[ $HC_PIPELINE == 1 ]]; then
  printf '%-5s %9s %12s %12s %12s %12s %14s %8s %10s\n' hops "floor ms" "hc auto" "hc 1st run" "hc always" "hc never" "proxychains4" "pc/hc" "hc/floor"
else
  printf '%-5s %9s %12s %12s %14s %14s %8s %10s\n' hops "floor ms" "hopchain" "hc 1st run" "proxychains4" "pc net" "pc/hc" "hc/floor"
fi
for n in $HOPS_LIST; do
  floor=$(awk -v n="$n" -v l="$LINK" 'BEGIN { printf "%.1f", n * l }')
  pcnet=$(awk -v a="${R[$n,pc]}" -v b="$CLIENT" 'BEGIN { printf "%.1f", a - b }')
  best=${R[$n,default]}
  if [[ $HC_PIPELINE == 1 ]]; then
    printf '%-5s %9s %12.1f %12.1f %12.1f %12.1f %14s %8s %10s\n' "$n" "$floor" "${R[$n,default]}" "${R[$n,default,first]}" \
      "${R[$n,always]}" "${R[$n,never]}" "$pcnet" "$(bench_ratio "$pcnet" "$best")" "$(bench_ratio "$best" "$floor")"
  else
    printf '%-5s %9s %12.1f %12.1f %14.1f %14s %8s %10s\n' "$n" "$floor" "$best" "${R[$n,default,first]}" "${R[$n,pc]}" \
      "$pcnet" "$(bench_ratio "$pcnet" "$best")" "$(bench_ratio "$best" "$floor")"
  fi
done
cat <<EOF
floor = hops x measured link RTT (pipelined handshakes: the bytes cross each link once each way).
pc/hc = proxychains4 net (minus client alone) / hopchain default; goal at 3 hops: >= 4.5, and
hc/floor <= 1.1. "1st run" is the warm-up run (fresh XDG cache for the first hop count).
EOF
if [[ $HC_PIPELINE == 1 ]]; then echo "proxychains4 column is net (raw minus client alone)."; fi
