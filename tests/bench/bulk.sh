#!/usr/bin/env bash
# Bulk transfer: BULK_BYTES (default 2 GiB) through 1 and 3 danted SOCKS hops, stdio and forward
# mode, download ("down": the target is a source server, the client reads) and upload ("up":
# the client writes into a sink server, which answers the byte count at EOF).
#
# Clients (all on the same danted chain; CPU = user+sys of the client side only, measured with a
# cgroup per run so that helper processes are counted too; falls back to rusage without cgroups):
#   hopchain splice  hopchain -q -x socks5://H1 [...] stdio T | forward 127.0.0.1:L:T
#   hopchain copy    the same with HOPCHAIN_RELAY=copy
#   socat            1 hop:  socat - SOCKS4:127.0.0.1:TARGET:PORT,socksport=H1
#                    3 hops: socat has no chaining; two extra single-shot socat forwarders
#                    (TCP-LISTEN -> SOCKS4 via the previous one) build the chain; all three
#                    socat processes are counted
#                    forward: socat TCP-LISTEN:L,bind=127.0.0.1,reuseaddr SOCKS4:...
#   ncat             1 hop only (no chaining): ncat --proxy-type socks5 --proxy H1 TARGET PORT
#                    forward: n/a. ncat cannot forward a port through a proxy by itself, and
#                    `ncat -l L --sh-exec 'ncat --proxy ...'` does not pass EOF on (a download
#                    never ends, an upload loses the reply), so it cannot be measured
#   proxychains4     proxychains4 -q -f CONF socat - TCP:TARGET:PORT (forward: TCP-LISTEN:L)
# Data sources and sinks are hcbench (C++, 1 MiB writes / 256 KiB reads); the client side of
# stdio mode talks to the client over ordinary 64 KiB pipes.
#
# Environment: BULK_BYTES (2G), BULK_HOPS ("1 3"), BULK_DIRS ("down up"),
#   BULK_MODES ("stdio forward"), BULK_TOOLS ("hc-splice hc-copy socat ncat pc-socat"),
#   BULK_REPEAT (2: each cell is the best of that many transfers, best MB/s and lowest CPU
#   separately, to damp interference from other load on the machine), HOPCHAIN.
set -euo pipefail
# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
bench_init
lab_require danted socat ncat proxychains4

BYTES=${BULK_BYTES:-2G}
HOPS_LIST=${BULK_HOPS:-1 3}
DIRS=${BULK_DIRS:-down up}
MODES=${BULK_MODES:-stdio forward}
TOOLS=${BULK_TOOLS:-hc-splice hc-copy socat ncat pc-socat}
REPEAT=${BULK_REPEAT:-2}
max_hops=0
for n in $HOPS_LIST; do ((n > max_hops)) && max_hops=$n; done

SRC=$(free_port)
start_hcbench_server source "$SRC" source "$BYTES"
SINK=$(free_port)
start_hcbench_server sink "$SINK" sink
H=()
for ((k = 1; k <= max_hops; k++)); do
  H[k]=$(free_port)
  start_danted "bulk-dante-$k" "${H[k]}"
done
note "source $SRC, sink $SINK, danted hops ${H[*]}; $BYTES per transfer; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# socat_chain N TARGET_PORT: start single-shot socat forwarders (in $BENCH_CG) so that a SOCKS4
# request to 127.0.0.1:$SOCAT_LAST reaches the last hop; sets SOCAT_LAST
socat_chain() {
  local n=$1 k prev=${H[1]} l
  for ((k = 2; k <= n; k++)); do
    l=$(free_port)
    lab_bg "socat-fwd-$l" "$HCBENCH" cgexec "$BENCH_CG" -- socat TCP-LISTEN:"$l",bind=127.0.0.1,reuseaddr \
      SOCKS4:127.0.0.1:127.0.0.1:"${H[k]}",socksport="$prev"
    _lab_wait_up "socat-fwd-$l" "$LAB_LAST_PID" "$l" 127.0.0.1
    prev=$l
  done
  SOCAT_LAST=$prev
}

# stdio_cmd TOOL HOPS TARGET_PORT: sets CMD (stdio client) and ENVV (environment to add)
# shellcheck disable=SC2054  # commas belong to socat's address options
stdio_cmd() {
  local tool=$1 n=$2 t=$3 k ports=()
  for ((k = 1; k <= n; k++)); do ports+=("${H[k]}"); done
  bench_hop_args "${ports[@]}"
  ENVV=()
  case $tool in
    hc-splice) CMD=("$HOPCHAIN" -q "${BENCH_CHAIN[@]}" stdio 127.0.0.1 "$t") ;;
    hc-copy) CMD=("$HOPCHAIN" -q "${BENCH_CHAIN[@]}" stdio 127.0.0.1 "$t"); ENVV=(HOPCHAIN_RELAY=copy) ;;
    socat)
      socat_chain "$n" "$t"
      CMD=(socat - SOCKS4:127.0.0.1:127.0.0.1:"$t",socksport="$SOCAT_LAST") ;;
    ncat) CMD=(ncat --proxy-type socks5 --proxy 127.0.0.1:"${H[1]}" 127.0.0.1 "$t") ;;
    pc-socat)
      bench_proxychains_conf "$LAB/pc-$n.conf" socks5 "${ports[@]}"
      CMD=(proxychains4 -q -f "$LAB/pc-$n.conf" socat - TCP:127.0.0.1:"$t") ;;
  esac
}

# forward_start TOOL HOPS TARGET_PORT LPORT: start the forwarder in $BENCH_CG, wait for LPORT
# shellcheck disable=SC2054  # commas belong to socat's address options
forward_start() {
  local tool=$1 n=$2 t=$3 l=$4 k ports=() cmd=() env=()
  for ((k = 1; k <= n; k++)); do ports+=("${H[k]}"); done
  bench_hop_args "${ports[@]}"
  case $tool in
    hc-splice) cmd=("$HOPCHAIN" -q "${BENCH_CHAIN[@]}" forward "127.0.0.1:$l:127.0.0.1:$t") ;;
    hc-copy) cmd=("$HOPCHAIN" -q "${BENCH_CHAIN[@]}" forward "127.0.0.1:$l:127.0.0.1:$t"); env=(HOPCHAIN_RELAY=copy) ;;
    socat)
      socat_chain "$n" "$t"
      cmd=(socat TCP-LISTEN:"$l",bind=127.0.0.1,reuseaddr SOCKS4:127.0.0.1:127.0.0.1:"$t",socksport="$SOCAT_LAST") ;;
    pc-socat)
      bench_proxychains_conf "$LAB/pc-$n.conf" socks5 "${ports[@]}"
      cmd=(proxychains4 -q -f "$LAB/pc-$n.conf" socat TCP-LISTEN:"$l",bind=127.0.0.1,reuseaddr TCP:127.0.0.1:"$t") ;;
  esac
  lab_bg "fwd-$tool-$l" env "${env[@]}" "$HCBENCH" cgexec "$BENCH_CG" -- "${cmd[@]}"
  FWD_PID=$LAB_LAST_PID
  _lab_wait_up "fwd-$tool-$l" "$FWD_PID" "$l" 127.0.0.1
}

declare -A RES
# measure_once MODE HOPS DIR TOOL: one transfer; sets M_RES to the hcbench result line (or "")
measure_once() {
  local mode=$1 n=$2 dir=$3 tool=$4 t out
  if [[ $dir == down ]]; then t=$SRC; else t=$SINK; fi
  bench_cgroup_new "$tool"
  if [[ $mode == stdio ]]; then
    stdio_cmd "$tool" "$n" "$t"
    out=$(env "${ENVV[@]}" timeout 600 "$HCBENCH" bulk-stdio --dir "$dir" --bytes "$BYTES" \
      ${BENCH_CG:+--cgroup "$BENCH_CG"} --timeout 400 -- "${CMD[@]}" 2>>"$LAB/bulk-client.err") || true
  else
    local l
    l=$(free_port)
    forward_start "$tool" "$n" "$t" "$l"
    out=$(timeout 600 "$HCBENCH" bulk-tcp --connect 127.0.0.1:"$l" --dir "$dir" --bytes "$BYTES" \
      ${BENCH_CG:+--cgroup "$BENCH_CG"} --timeout 400 2>>"$LAB/bulk-client.err") || true
  fi
  bench_cgroup_kill "$BENCH_CG"
  M_RES=$(grep '^result' <<<"$out" || true)
}

# run_one MODE HOPS DIR TOOL: REPEAT transfers; keeps the best MB/s and the lowest CPU/GiB
run_one() {
  local mode=$1 n=$2 dir=$3 tool=$4 r res best=
  if [[ $tool == ncat && ($n != 1 || $mode == forward) ]]; then
    RES[$mode,$n,$dir,$tool]="n/a"
    return 0
  fi
  for ((r = 1; r <= REPEAT; r++)); do
    measure_once "$mode" "$n" "$dir" "$tool"
    res=$M_RES
    echo "$mode $n $dir $tool run $r: $res" >>"$LAB/bulk-raw.txt"
    if [[ $(bench_kv ok "$res") != 1 ]]; then
      note "FAILED: $mode, $n hop(s), $dir, $tool: ${res:-no result} (see $LAB/bulk-client.err)"
      tail -n 5 "$LAB/bulk-client.err" >&2 || true
      RES[$mode,$n,$dir,$tool]="fail"
      return 0
    fi
    note "$mode, $n hop(s), $dir, $tool, run $r: $(bench_kv mbps "$res") MB/s, $(bench_kv cpu_per_gib "$res") CPU s/GiB (user $(bench_kv user "$res"), sys $(bench_kv sys "$res"), $(bench_kv cpu_src "$res"))"
    best=$(awk -v prev="$best" -v mb="$(bench_kv mbps "$res")" -v cpu="$(bench_kv cpu_per_gib "$res")" \
      -v us="$(bench_kv user "$res")" -v sy="$(bench_kv sys "$res")" -v se="$(bench_kv self_per_gib "$res")" 'BEGIN {
        if (prev == "") { print mb, cpu, us, sy, se; exit }
        split(prev, p, " ")
        if (mb > p[1]) p[1] = mb
        if (cpu < p[2]) { p[2] = cpu; p[3] = us; p[4] = sy; p[5] = se }
        print p[1], p[2], p[3], p[4], p[5] }')
  done
  RES[$mode,$n,$dir,$tool]=$best
}

for n in $HOPS_LIST; do
  for mode in $MODES; do
    for dir in $DIRS; do
      for tool in $TOOLS; do
        run_one "$mode" "$n" "$dir" "$tool"
      done
    done
  done
done

bench_header "Bulk transfer: $BYTES per run through danted hops, best of $REPEAT (client-side CPU only; ratios vs socat)"
printf '%-8s %-4s %-5s %-10s %9s %11s %8s %8s %9s %10s %10s\n' mode hops dir tool "MB/s" "CPU s/GiB" user sys "MB/s÷socat" "CPU÷socat" "feeder s/GiB"
for n in $HOPS_LIST; do
  for mode in $MODES; do
    for dir in $DIRS; do
      base=${RES[$mode,$n,$dir,socat]:-}
      read -r bmb bcpu _ _ _ <<<"${base:-- -}" || true
      for tool in $TOOLS; do
        r=${RES[$mode,$n,$dir,$tool]:-}
        case $r in
          "" | n/a | fail) printf '%-8s %-4s %-5s %-10s %9s\n' "$mode" "$n" "$dir" "$tool" "${r:-skipped}" ;;
          *)
            read -r mb cpu us sy se <<<"$r"
            printf '%-8s %-4s %-5s %-10s %9.0f %11.3f %8.2f %8.2f %9s %10s %10.3f\n' "$mode" "$n" "$dir" "$tool" "$mb" "$cpu" "$us" "$sy" \
              "$(bench_ratio "$mb" "$bmb")" "$(bench_ratio "$cpu" "$bcpu")" "$se" ;;
        esac
      done
    done
  done
done
cat <<EOF
MB/s = 10^6 bytes/s, wall time from client start (stdio) or connect (forward) to the last byte.
CPU s/GiB = (user+sys) of every client-side process of that tool / GiB moved (not the hops,
not the source/sink). socat with 3 hops is three chained socat processes (no native chaining).
ncat: one proxy only, and no forward mode through a proxy (n/a). user/sys: seconds for the whole
transfer. feeder s/GiB: CPU of the hcbench process at the client's other end (its pipes in stdio
mode, its socket in forward mode), for context: with splice part of the cost moves there (a pipe
writer whose pages were spliced away must allocate new ones). Goal (issue 4):
hopchain CPU/GiB <= 0.5 x socat's, MB/s >= socat's. load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)
EOF
