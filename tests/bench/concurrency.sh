#!/usr/bin/env bash
# Concurrency through a 1-hop chain in forward mode:
#  1. RSS per idle tunnel, for the default (splice) relay and for HOPCHAIN_RELAY=copy: VmRSS of
#     the hopchain process after a warm-up (20 tunnels opened, held 2 s, closed), then with
#     CONC_N (default 10,000) idle tunnels open at once; each tunnel is proven up by echoing one
#     byte through it (hcbench hold: epoll, 128 connects in flight).
#     per tunnel = (VmRSS with N open - VmRSS before) / N. Also: after they close again.
#     Descriptors: the warm-up counts hopchain's descriptors per tunnel; when N tunnels would
#     not fit in `ulimit -n` (raised to the hard limit; root without CAP_SYS_RESOURCE cannot go
#     beyond it), N is lowered to what fits, and the table says so.
#  2. Connections per second: CONC_CPS_THREADS (16) client threads loop connect, echo 1 byte,
#     close, for CONC_CPS_SECONDS (3 s): direct to the echo server (ceiling of the lab), through
#     hopchain forward (one event loop per core, and --workers 1), and through `proxychains4 socat TCP-LISTEN:L,fork TCP:TARGET` (the usual
#     way to get a forward through a SOCKS5 chain with standard tools). With CONC_HOP=danted also
#     socat's own SOCKS4 forwarder (fork).
#
# The hop is microsocks by default (CONC_HOP=microsocks|danted|ssh): it is a thread per client
# with small stacks and takes 10,000 clients easily; danted runs a process per few clients and
# ssh -D multiplexes everything over one SSH connection, both far slower to reach 10k. The target
# is hcbench's echo server (a thread per connection). ulimit -n is raised for every process.
#
# Environment: CONC_N, CONC_HOP, CONC_RELAYS (default "splice copy"), CONC_CPS_SECONDS,
#   CONC_CPS_THREADS, HOPCHAIN.
set -euo pipefail
# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
bench_init

N=${CONC_N:-10000}
HOP=${CONC_HOP:-microsocks}
CPS_SECS=${CONC_CPS_SECONDS:-3}
CPS_THREADS=${CONC_CPS_THREADS:-16}

E=$(free_port)
start_hcbench_server echo "$E" echo
H=$(free_port)
case $HOP in
  microsocks) start_microsocks "$H" ;;
  danted) start_danted conc-dante "$H" ;;
  ssh)
    S=$(free_port)
    start_sshd "$S"
    start_ssh_socks "$H" "$S"
    ;;
  *) fail "CONC_HOP must be microsocks, danted or ssh" ;;
esac
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
# Sockets only: an idle tunnel holds no pipe (idle splice pipes go back to a pool of at most 32).
socket_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 -lname 'socket:*' 2>/dev/null | wc -l; }
threads() { awk '/^Threads:/ { print $2 }' "/proc/$1/status"; }

# wait_result LOGNAME PID: the hcbench result line in $LAB/LOGNAME.log (bounded: 620 s)
wait_result() {
  local i res=
  for ((i = 0; i < 6200; i++)); do
    res=$(grep '^result' "$LAB/$1.log" 2>/dev/null || true)
    [[ -n $res ]] && break
    [[ -z $(_lab_live_in_groups "$2") ]] && break
    sleep 0.1
  done
  [[ -n $res ]] || fail "hcbench $1 gave no result: $(cat "$LAB/$1.log")"
  echo "$res"
}

# rss_bench splice|copy: hopchain forward with the default relay (splice) or HOPCHAIN_RELAY=copy,
# warm-up, then as many idle tunnels as the descriptor limit allows (up to N). Fills R[TAG,...].
declare -A R
rss_bench() {
  local tag=$1 l hc res hold fds0 fdsw per_fd n_eff env=()
  [[ $tag == copy ]] && env=(HOPCHAIN_RELAY=copy)
  l=$(free_port)
  lab_bg "hc-forward-$tag" env "${env[@]}" "$HOPCHAIN" -q -x "socks5://127.0.0.1:$H" \
    forward "127.0.0.1:$l:127.0.0.1:$E"
  hc=$LAB_LAST_PID
  _lab_wait_up "hc-forward-$tag" "$hc" "$l" 127.0.0.1
  # warm-up (code paths, allocator arenas): 20 tunnels, held 2 s to count descriptors per tunnel
  fds0=$(fd_count "$hc")
  local socks0 socksw
  socks0=$(socket_count "$hc")
  lab_bg "warm-$tag" "$HCBENCH" hold --connect "127.0.0.1:$l" --count 20 --hold 2 --timeout 30
  res=$(wait_result "warm-$tag" "$LAB_LAST_PID")
  grep -q 'opened=20 ' <<<"$res" || fail "warm-up through the chain failed: $res"
  fdsw=$(fd_count "$hc")
  socksw=$(socket_count "$hc")
  per_fd=$(((socksw - socks0 + 10) / 20))  # nearest: the chain may hold a stray socket
  note "warm-up: $((fdsw - fds0)) more descriptors for 20 tunnels, $((socksw - socks0)) of them sockets"
  ((per_fd < 2)) && per_fd=2
  sleep 3
  R[$tag,rss0]=$(rss_kib "$hc")
  # every process on the path needs descriptors: hopchain per_fd, the hop 2, echo and client 1
  n_eff=$((($(ulimit -n) - 264) / per_fd))
  ((n_eff > (($(ulimit -n) - 200) / 2))) && n_eff=$((($(ulimit -n) - 200) / 2))
  ((n_eff > N)) && n_eff=$N
  R[$tag,fdper]=$per_fd
  R[$tag,n]=$n_eff
  note "hopchain ($tag relay) after warm-up: VmRSS ${R[$tag,rss0]} KiB; $per_fd fds per tunnel -> $n_eff tunnels fit in ulimit -n $(ulimit -n)"
  lab_bg "hold-$tag" "$HCBENCH" hold --connect "127.0.0.1:$l" --count "$n_eff" --timeout 600 --hold 900
  hold=$LAB_LAST_PID
  res=$(wait_result "hold-$tag" "$hold")
  R[$tag,opened]=$(bench_kv opened "$res")
  R[$tag,rate]=$(bench_kv rate "$res")
  sleep 1
  R[$tag,rss1]=$(rss_kib "$hc")
  R[$tag,fds1]=$(fd_count "$hc")
  R[$tag,thr]=$(threads "$hc")
  R[$tag,hoprss]=-
  if [[ $HOP == microsocks ]]; then
    local mpid
    mpid=$(pgrep -n -f "microsocks -i 127.0.0.1 -p $H\$" || true)
    [[ -n $mpid ]] && R[$tag,hoprss]=$(rss_kib "$mpid")
  fi
  note "$res"
  note "hopchain ($tag) with ${R[$tag,opened]} idle tunnels: VmRSS ${R[$tag,rss1]} KiB, ${R[$tag,fds1]} fds, ${R[$tag,thr]} threads"
  R[$tag,per]=$(awk -v a="${R[$tag,rss1]}" -v b="${R[$tag,rss0]}" -v n="${R[$tag,opened]}" \
    'BEGIN { if (n > 0) printf "%.2f", (a - b) / n; else print "-" }')
  lab_kill "$hold"
  local i
  for ((i = 0; i < 600; i++)); do
    (($(fd_count "$hc") < fds0 + 8)) && break
    sleep 0.1
  done
  sleep 1
  R[$tag,rss2]=$(rss_kib "$hc")
  note "after closing them: VmRSS ${R[$tag,rss2]} KiB, $(fd_count "$hc") fds"
  lab_kill "$hc"
  sleep 2
}

note "echo $E, $HOP hop $H; load average $(cut -d' ' -f1-3 /proc/loadavg)"
read -r -a RELAYS <<<"${CONC_RELAYS:-splice copy}"
for relay in "${RELAYS[@]}"; do
  [[ $relay == splice || $relay == copy ]] || fail "CONC_RELAYS: splice and/or copy, not '$relay'"
  rss_bench "$relay"
done

L=$(free_port)
lab_bg hc-forward "$HOPCHAIN" -q -x "socks5://127.0.0.1:$H" forward "127.0.0.1:$L:127.0.0.1:$E"
_lab_wait_up hc-forward "$LAB_LAST_PID" "$L" 127.0.0.1

# --- connections per second
declare -A CPS P50
cps() { # NAME PORT
  local out
  out=$(timeout $((CPS_SECS + 60)) "$HCBENCH" cps --connect "127.0.0.1:$2" --seconds "$CPS_SECS" --threads "$CPS_THREADS")
  CPS[$1]=$(bench_kv cps "$out")
  P50[$1]=$(bench_kv p50_ms "$out")
  note "cps $1: $out"
  sleep 2
}
L1=$(free_port)
lab_bg hc-forward-1 "$HOPCHAIN" -q -x "socks5://127.0.0.1:$H" forward --workers 1 "127.0.0.1:$L1:127.0.0.1:$E"
_lab_wait_up hc-forward-1 "$LAB_LAST_PID" "$L1" 127.0.0.1
cps direct "$E"
cps hopchain "$L"
cps "hopchain --workers 1" "$L1"
PL=$(free_port)
bench_proxychains_conf "$LAB/pc.conf" socks5 "$H"
lab_bg pc-socat proxychains4 -q -f "$LAB/pc.conf" socat TCP-LISTEN:"$PL",bind=127.0.0.1,reuseaddr,fork,backlog=1024 TCP:127.0.0.1:"$E"
_lab_wait_up pc-socat "$LAB_LAST_PID" "$PL" 127.0.0.1
cps "proxychains4+socat" "$PL"
CPS_NAMES=(direct hopchain "hopchain --workers 1" "proxychains4+socat")
if [[ $HOP == danted ]]; then
  SL=$(free_port)
  lab_bg socat-fwd socat TCP-LISTEN:"$SL",bind=127.0.0.1,reuseaddr,fork,backlog=1024 SOCKS4:127.0.0.1:127.0.0.1:"$E",socksport="$H"
  _lab_wait_up socat-fwd "$LAB_LAST_PID" "$SL" 127.0.0.1
  cps "socat (SOCKS4)" "$SL"
  CPS_NAMES+=("socat (SOCKS4)")
fi

bench_header "Concurrency: 1-hop chain ($HOP), hopchain forward, idle tunnels (goal: $N tunnels, <= 24 KiB each)"
printf '%-8s %9s %9s %10s %10s %10s %10s %9s %12s\n' relay tunnels "fds/tun" "RSS0 KiB" "RSS@N KiB" "after KiB" "KiB/tun" "open/s" "hop RSS KiB"
for t in "${RELAYS[@]}"; do
  printf '%-8s %9s %9s %10s %10s %10s %10s %9s %12s\n' "$t" "${R[$t,opened]}/${R[$t,n]}" "${R[$t,fdper]}" "${R[$t,rss0]}" \
    "${R[$t,rss1]}" "${R[$t,rss2]}" "${R[$t,per]}" "${R[$t,rate]}" "${R[$t,hoprss]}"
done
echo "tunnels = opened / attempted; attempted = min($N, what ulimit -n $(ulimit -n) allows at fds/tun)."
printf '\n%-22s %12s %12s %10s\n' "connections/s ($CPS_THREADS clients)" "conn/s" "p50 ms" "vs hopchain"
for k in "${CPS_NAMES[@]}"; do
  printf '%-22s %12s %12s %10s\n' "$k" "${CPS[$k]}" "${P50[$k]}" "$(bench_ratio "${CPS[$k]}" "${CPS[hopchain]}")"
done
echo "direct = straight to the echo server, no chain (the lab's ceiling). load average: $(cut -d' ' -f1-3 /proc/loadavg)"
