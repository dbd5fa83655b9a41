#!/usr/bin/env bash
# Setup latency with a TLS hop in the middle: time from process start to the first byte back
# through 3 SOCKS5 hops, each behind a delay proxy adding TLS_DELAY_MS (10) each way, the middle
# one plain (danted) or socks5h+tls (stunnel in front of another danted):
#
#   client -> delay -> danted 1 -> delay -> [stunnel ->] danted 2 -> delay -> danted 3 -> target
#
# Two targets: an echo server (the client speaks first: its bytes ride with the last request),
# and a server that speaks first (an SSH server's banner).
# hopchain runs with --pipeline=always (every hop here takes it), median of TLS_RUNS (21) after a
# warm-up run (tests/bench/setup_latency.sh's method):
#   all plain            the reference, 3 link round trips
#   tls, full            HOPCHAIN_NO_TLS_CACHE=1: a full TLS 1.3 handshake on every run
#   tls, resumed         the stdio TLS session cache of earlier runs: a resumed handshake
#   0-rtt, resumed       the middle hop through HAProxy (allow-0rtt) instead of stunnel, with
#                        ?early-data=1: hop 2's handshake goes as TLS 1.3 early data
#   baseline full        TLS_BASELINE=/path/to/an/older/hopchain, the same as "tls, full"
# A TLS hop needs one round trip of its own to its server (client -> hop 2 is two links), so the
# floor for the TLS chain is the plain chain plus 2 link round trips. Nothing is asserted.
set -euo pipefail
# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
# shellcheck source=../support/lab_tls.sh
source "$HC_SUPPORT/lab_tls.sh"
bench_init
lab_require danted stunnel4 haproxy
tls_init_pki
tls_issue proxy "DNS:localhost,IP:127.0.0.1"
RUNS=${TLS_RUNS:-21}
DELAY=${TLS_DELAY_MS:-10}

E=$(free_port)
start_hcbench_server echo "$E" echo
B=$(free_port)
start_hcbench_server banner "$B" source 64
bench_delayed_hops tls-lat "3" "$DELAY" # P[k] danted, D[k] its delay proxy
S2=$(free_port)
start_stunnel tls-hop2 "$S2" "${P[2]}" proxy
DS2=$(free_port)
start_delay_proxy "$DS2" "$S2" "$DELAY"
H2=$(free_port)
start_haproxy_tls haproxy-hop2 "$H2" "${P[2]}" proxy
DH2=$(free_port)
start_delay_proxy "$DH2" "$H2" "$DELAY"
DE=$(free_port)
start_delay_proxy "$DE" "$E" "$DELAY"

# measure NAME CMD...: warm-up run, then RUNS runs; sets M (median ms). EXPECT=any for a server
# that speaks first.
measure() {
  local name=$1 out res
  shift
  timeout 120 "$HCBENCH" first-byte --runs 1 --timeout 15 --expect "${EXPECT:-echo}" -- "$@" \
    >/dev/null 2>>"$LAB/first-byte.err" || { cat "$LAB/first-byte.err" >&2; fail "$name: warm-up run failed"; }
  out=$(timeout $((RUNS * 20 + 60)) "$HCBENCH" first-byte --runs "$RUNS" --timeout 15 \
    --expect "${EXPECT:-echo}" -- "$@" \
    2>>"$LAB/first-byte.err") || { cat "$LAB/first-byte.err" >&2; fail "$name: a run failed"; }
  res=$(grep '^result' <<<"$out")
  M=$(bench_kv median_ms "$res")
  note "$name: median $M ms (p10 $(bench_kv p10_ms "$res"), p90 $(bench_kv p90_ms "$res"))"
}

measure "client alone" "$HCBENCH" nc 127.0.0.1 "$E"
CLIENT=$M
measure "one delayed link" "$HCBENCH" nc 127.0.0.1 "$DE"
LINK=$(awk -v a="$M" -v b="$CLIENT" 'BEGIN { printf "%.2f", a - b }')

PLAIN=(-x "socks5://127.0.0.1:${D[1]}" -x "socks5://127.0.0.1:${D[2]}" -x "socks5://127.0.0.1:${D[3]}")
TLS=(-x "socks5://127.0.0.1:${D[1]}" -x "socks5h+tls://127.0.0.1:$DS2?cafile=$TLS_CA"
  -x "socks5://127.0.0.1:${D[3]}")
hc() { # BINARY TARGET-PORT ARGS...: sets CMD to the stdio client command
  local bin=$1 port=$2
  shift 2
  CMD=("$bin" -q --pipeline=always "$@" stdio 127.0.0.1 "$port")
}
ZERO_RTT=(-x "socks5://127.0.0.1:${D[1]}" -x "socks5h+tls://127.0.0.1:$DH2?cafile=$TLS_CA&early-data=1"
  -x "socks5://127.0.0.1:${D[3]}")
declare -A R
for target in echo banner; do
  if [[ $target == echo ]]; then t=$E EXPECT=echo; else t=$B EXPECT=any; fi
  hc "$HOPCHAIN" "$t" "${PLAIN[@]}"
  measure "$target: all plain" "${CMD[@]}"
  R[$target,plain]=$M
  hc "$HOPCHAIN" "$t" "${TLS[@]}"
  measure "$target: tls, full" env HOPCHAIN_NO_TLS_CACHE=1 "${CMD[@]}"
  R[$target,full]=$M
  measure "$target: tls, resumed" "${CMD[@]}"
  R[$target,resumed]=$M
  hc "$HOPCHAIN" "$t" "${ZERO_RTT[@]}"
  measure "$target: 0-rtt, resumed" "${CMD[@]}"
  R[$target,0-rtt]=$M
  if [[ -n ${TLS_BASELINE:-} ]]; then
    hc "$TLS_BASELINE" "$t" "${TLS[@]}"
    measure "$target: baseline, tls, full" env HOPCHAIN_NO_TLS_CACHE=1 "${CMD[@]}"
    R[$target,baseline]=$M
  fi
done

bench_header "3 hops, the middle one plain or socks5h+tls, ${DELAY} ms each way per link (median of $RUNS)"
printf 'link RTT measured %s ms; floor with TLS = all plain + 2 link RTTs\n' "$LINK"
printf '%-8s %-10s %10s %12s %14s %10s\n' target chain "ms" "- all plain" "in link RTTs" "÷ plain"
for target in echo banner; do
  for k in plain full resumed 0-rtt baseline; do
    v=${R[$target,$k]:-}
    [[ -n $v ]] || continue
    p=${R[$target,plain]}
    printf '%-8s %-10s %10.1f %12.1f %14.2f %10s\n' "$target" "$k" "$v" \
      "$(awk -v a="$v" -v b="$p" 'BEGIN { print a - b }')" \
      "$(awk -v a="$v" -v b="$p" -v l="$LINK" 'BEGIN { print (a - b) / l }')" "$(bench_ratio "$v" "$p")"
  done
done
cat <<EOF
echo: the client speaks first; banner: the server speaks first (64 bytes on accept). full: a
fresh TLS session each run; resumed: the session kept by the previous run; 0-rtt: HAProxy
(allow-0rtt) instead of stunnel, with ?early-data=1 (hop 2's handshake as early data).
EOF
