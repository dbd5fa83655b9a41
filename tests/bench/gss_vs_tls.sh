#!/usr/bin/env bash
# A protected hop's cost: GSS-API (Kerberos, RFC 1961) at integrity and confidentiality beside a
# TLS hop and a plain one, all the same server (`hopchain socks`; the TLS hop is stunnel in front
# of it) with a throw-away realm on loopback (tests/support/kdc.sh). hopchain stdio moves
# GSS_BYTES (1G) down (from a source) and up (into a sink) through each hop, best of GSS_REPEAT
# (2). Prints MB/s and CPU per GiB of the client (hopchain alone, by cgroup) and of the hop's
# server side (hopchain socks, plus stunnel for TLS), with ratios to the TLS hop. Nothing is
# asserted (README "Performance").
set -euo pipefail
# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
# shellcheck source=../support/kdc.sh
source "$HC_SUPPORT/kdc.sh"
# shellcheck source=../support/lab_tls.sh
source "$HC_SUPPORT/lab_tls.sh"
bench_init
kdc_init
tls_init_pki
tls_issue proxy "DNS:localhost,IP:127.0.0.1"
BYTES=${GSS_BYTES:-1G}
REPEAT=${GSS_REPEAT:-2}

SRC=$(free_port)
start_hcbench_server source "$SRC" source "$BYTES"
SINK=$(free_port)
start_hcbench_server sink "$SINK" sink

# start_server NAME PORT ARGS...: `hopchain socks` in a cgroup of its own (SERVER_CG[NAME])
declare -A SERVER_CG PORT
start_server() {
  local name=$1 port=$2
  shift 2
  bench_cgroup_new "server-$name"
  SERVER_CG[$name]=$BENCH_CG
  PORT[$name]=$port
  lab_bg "server-$name" "$HCBENCH" cgexec "$BENCH_CG" -- "$HOPCHAIN" -q --direct socks "$@" "$port"
  _lab_wait_up "server-$name" "$LAB_LAST_PID" "$port" 127.0.0.1
}
start_server plain "$(free_port)"
for level in integrity confidentiality; do
  start_server "gss-$level" "$(free_port)" --gssapi-keytab "$KDC_SERVICE_KEYTAB" \
    --gssapi-max-protection "$level"
done
start_server tls-inner "$(free_port)"
TLS_PORT=$(free_port)
start_stunnel tls "$TLS_PORT" "${PORT[tls-inner]}" proxy
# stunnel joins the inner server's cgroup: the TLS hop's server side is both
if [[ -n ${SERVER_CG[tls-inner]} ]]; then
  echo "$LAB_LAST_PID" >"${SERVER_CG[tls-inner]}/cgroup.procs"
fi

declare -A URL=(
  [plain]="socks5h://localhost:${PORT[plain]}"
  [gss-integrity]="socks5h://localhost:${PORT[gss-integrity]}?auth=gssapi&protection=integrity"
  [gss-confidentiality]="socks5h://localhost:${PORT[gss-confidentiality]}?auth=gssapi"
  [tls]="socks5h+tls://localhost:$TLS_PORT?cafile=$TLS_CA"
)
HOPS=(plain tls gss-integrity gss-confidentiality)
server_cg() { if [[ $1 == tls ]]; then echo "${SERVER_CG[tls-inner]}"; else echo "${SERVER_CG[$1]}"; fi; }
cg_cpu() { # CGROUP: user+sys seconds so far
  if [[ -f $1/cpu.stat ]]; then
    awk '$1 == "usage_usec" { printf "%.3f\n", $2 / 1e6 }' "$1/cpu.stat"
  elif [[ -f $1/cpuacct.usage ]]; then
    awk '{ printf "%.3f\n", $1 / 1e9 }' "$1/cpuacct.usage"
  else echo 0; fi
}
gib=$(numfmt --from=iec "$BYTES" | awk '{ print $1 / 2^30 }')

declare -A RES
for hop in "${HOPS[@]}"; do
  for dir in down up; do
    if [[ $dir == down ]]; then t=$SRC; else t=$SINK; fi
    best=
    for ((r = 1; r <= REPEAT; r++)); do
      s0=$(cg_cpu "$(server_cg "$hop")")
      bench_cgroup_new "client-$hop"
      out=$(timeout 600 "$HCBENCH" bulk-stdio --dir "$dir" --bytes "$BYTES" \
        ${BENCH_CG:+--cgroup "$BENCH_CG"} --timeout 400 -- \
        "$HOPCHAIN" -q -x "${URL[$hop]}" stdio 127.0.0.1 "$t" 2>>"$LAB/client.err") || true
      bench_cgroup_kill "$BENCH_CG"
      res=$(grep '^result' <<<"$out" || true)
      [[ $(bench_kv ok "$res") == 1 ]] || fail "$hop $dir: ${res:-no result} (see $LAB/client.err)"
      server=$(awk -v a="$s0" -v b="$(cg_cpu "$(server_cg "$hop")")" -v g="$gib" \
        'BEGIN { printf "%.3f\n", (b - a) / g }')
      note "$hop $dir run $r: $(bench_kv mbps "$res") MB/s, client $(bench_kv cpu_per_gib "$res") CPU s/GiB, server $server"
      best=$(awk -v prev="$best" -v mb="$(bench_kv mbps "$res")" -v c="$(bench_kv cpu_per_gib "$res")" \
        -v s="$server" 'BEGIN { if (prev == "") { print mb, c, s; exit }
          split(prev, p, " "); if (mb > p[1]) p[1] = mb; if (c < p[2]) p[2] = c; if (s < p[3]) p[3] = s
          print p[1], p[2], p[3] }')
    done
    RES[$hop,$dir]=$best
  done
done

bench_header "One protected hop: $BYTES per run, best of $REPEAT (ratios to the TLS hop)"
printf '%-20s %-5s %8s %14s %14s %9s %10s\n' hop dir "MB/s" "client s/GiB" "server s/GiB" "MB/s÷tls" "client÷tls"
for dir in down up; do
  read -r tmb tcpu _ <<<"${RES[tls,$dir]}"
  for hop in "${HOPS[@]}"; do
    read -r mb cpu srv <<<"${RES[$hop,$dir]}"
    printf '%-20s %-5s %8.0f %14.3f %14.3f %9s %10s\n' "$hop" "$dir" "$mb" "$cpu" "$srv" \
      "$(bench_ratio "$mb" "$tmb")" "$(bench_ratio "$cpu" "$tcpu")"
  done
done
cat <<EOF
MB/s = 10^6 bytes/s through one hop on loopback; client s/GiB = user+sys of hopchain stdio per
GiB; server s/GiB = hopchain socks (and stunnel for the TLS hop). TLS: TLS 1.3 as OpenSSL and
stunnel negotiate it (AES-GCM); GSS-API: Kerberos (MIT) with the realm's default enctype,
one gss_wrap per message of at most 64 KiB. load average: $(cut -d' ' -f1-3 /proc/loadavg)
EOF
