#!/usr/bin/env bash
# ssh through a chain: time from `ssh` start to the server's banner and to the server's KEXINIT,
# through 1 and 3 SOCKS5 (danted) hops, each link behind a delay proxy (10 ms each way), the
# lab sshd as target. The server sends its KEXINIT only once ssh's identification string has
# arrived, so that figure drops by a whole chain round trip when the string rides with the last
# request (optimistic data). ProxyCommands (median of SSH_RUNS runs after a warm-up run):
#   hopchain       hopchain -q -x socks5://D1 [...] stdio %h %p (pipelined: the hops are learnt
#                  in the warm-up run)
#   hc never       the same with --pipeline=never (sequential handshakes; the hops, learnt by
#                  the runs above, take the string behind the last request)
#   baseline       SSH_BASELINE=/path/to/an/older/hopchain, when set: the same as "hopchain"
#   proxychains4   proxychains4 -q -f CONF hcbench nc %h %p   (strict chain of the same hops)
#   ncat           ncat --proxy 127.0.0.1:D1 --proxy-type socks5 %h %p   (1 hop only)
# Environment: SSH_HOPS ("1 3"), SSH_RUNS (11), SSH_DELAY_MS (10), HOPCHAIN, SSH_BASELINE.
set -euo pipefail
# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
bench_init
lab_require danted proxychains4 ncat python3 ssh

HOPS_LIST=${SSH_HOPS:-1 3}
RUNS=${SSH_RUNS:-11}
DELAY=${SSH_DELAY_MS:-10}
max_hops=0
for n in $HOPS_LIST; do ((n > max_hops)) && max_hops=$n; done

SSHD=$(free_port)
start_sshd "$SSHD"
bench_delayed_hops ssh-dante "$max_hops" "$DELAY"

# measure NAME PROXYCOMMAND: sets B (banner ms) and K (KEXINIT ms)
measure() {
  local name=$1 pc=$2 out res
  local cmd=(ssh -v -F "$LAB_SSH_CONFIG" -o "ProxyCommand=$pc" -p "$SSHD" "$LAB_SSH_USER@127.0.0.1" true)
  python3 "$BENCH_DIR/ssh_timing.py" --runs 1 -- "${cmd[@]}" >/dev/null || fail "$name: warm-up failed"
  out=$(timeout $((RUNS * 40 + 60)) python3 "$BENCH_DIR/ssh_timing.py" --runs "$RUNS" -- "${cmd[@]}") ||
    fail "$name: a run failed"
  res=$(grep '^result' <<<"$out")
  B=$(bench_kv banner_median_ms "$res")
  K=$(bench_kv kexinit_median_ms "$res")
  note "$name: banner $B ms, server KEXINIT $K ms"
}

declare -A R
for n in $HOPS_LIST; do
  ports=()
  for ((k = 1; k <= n; k++)); do ports+=("${D[k]}"); done
  bench_hop_args "${ports[@]}"
  measure "$n hops hopchain" "$HOPCHAIN -q ${BENCH_CHAIN[*]} stdio %h %p"
  R[$n,hc]="$B $K"
  measure "$n hops hopchain never" "$HOPCHAIN -q --pipeline=never ${BENCH_CHAIN[*]} stdio %h %p"
  R[$n,never]="$B $K"
  R[$n,base]="- -"
  if [[ -n ${SSH_BASELINE:-} ]]; then
    measure "$n hops baseline" "$SSH_BASELINE -q ${BENCH_CHAIN[*]} stdio %h %p"
    R[$n,base]="$B $K"
  fi
  bench_proxychains_conf "$LAB/pc-$n.conf" socks5 "${ports[@]}"
  measure "$n hops proxychains4" "proxychains4 -q -f $LAB/pc-$n.conf $HCBENCH nc %h %p"
  R[$n,pc]="$B $K"
  if ((n == 1)); then
    measure "1 hop ncat" "ncat --proxy 127.0.0.1:${D[1]} --proxy-type socks5 %h %p"
    R[$n,ncat]="$B $K"
  else
    R[$n,ncat]="- -"
  fi
done

bench_header "ssh start to the server's banner / KEXINIT, SOCKS5 (danted) hops, ${DELAY} ms each way per link (median of $RUNS)"
printf '%-5s %16s %16s %16s %16s %16s\n' hops "hopchain" "hc never" "baseline" "proxychains4" "ncat"
for n in $HOPS_LIST; do
  row=()
  for t in hc never base pc ncat; do
    read -r b k <<<"${R[$n,$t]}"
    row+=("$b / $k")
  done
  printf '%-5s %16s %16s %16s %16s %16s\n' "$n" "${row[@]}"
done
echo "each cell: ms to the server's banner / ms to the server's KEXINIT (ssh -v), process start included"
