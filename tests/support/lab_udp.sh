# shellcheck shell=bash
# UDP helpers for the hopchain integration lab. Source after lab.sh and lab_init. Every wait is
# bounded; every process goes through lab_bg (so lab.sh's EXIT trap stops it).
#
#   start_udp_echo PORT [BIND]           UDP echo server (python3), default 127.0.0.1
#   start_shadowsocks NAME SERVER_PORT LOCAL_PORT
#                                        ss-server and ss-local (shadowsocks-libev) with UDP
#                                        relay on (-u), both on 127.0.0.1: ss-local is a SOCKS5
#                                        server with UDP ASSOCIATE whose upstream is ss-server
#   start_hopchain_udp NAME HOPCHAIN-ARGS... -- PORT...
#                                        runs `$HOPCHAIN HOPCHAIN-ARGS...` (log $LAB/NAME.log)
#                                        and waits until it has bound every UDP PORT on
#                                        127.0.0.1 (or ::1 for a port given as [::1]:PORT)
#   udp_echo_check DESC HOST PORT UDP_CHECK-ARGS...   udp_check.py echo, bounded
#   (wait_log and count_log, which these scripts use, are lab.sh's)
#
# Dante needs nothing more than lab.sh's start_danted: its rules already pass udpassociate and
# udpreply, and `external: 127.0.0.1` / `::1` with `external.rotation: route` lets it send
# datagrams to loopback targets. One danted instance per hop: Dante refuses to connect to its own
# port.

LAB_UDP_SS_PASSWORD=hc-udp-secret
LAB_UDP_SS_METHOD=chacha20-ietf-poly1305

_lab_udp_is_bound() { # PORT HOST
  local port=$1 host=$2 want
  if [[ $host == *:* ]]; then want="[$host]:$port"; else want="$host:$port"; fi
  ss -Huan "sport = :$port" 2>/dev/null | awk '{print $4}' | grep -qxF -- "$want"
}

# _lab_udp_wait_up NAME PID PORT HOST: like _lab_wait_up, for a UDP socket.
_lab_udp_wait_up() {
  local name=$1 pid=$2 port=$3 host=$4 i
  for ((i = 0; i < LAB_START_TIMEOUT * 10; i++)); do
    _lab_udp_is_bound "$port" "$host" && return 0
    if [[ -z $(_lab_live_in_groups "$pid") ]]; then
      echo "----- $name.log -----" >&2
      cat "$LAB/$name.log" >&2 2>/dev/null
      fail "$name exited before binding UDP $host:$port"
    fi
    sleep 0.1
  done
  echo "----- $name.log -----" >&2
  cat "$LAB/$name.log" >&2 2>/dev/null
  fail "$name did not bind UDP $host:$port within ${LAB_START_TIMEOUT}s"
}

start_udp_echo() { # PORT [BIND]
  local port=$1 bind=${2:-127.0.0.1}
  local name="udp-echo-$port"
  lab_bg "$name" python3 "$HC_SUPPORT/udp_echo.py" --port "$port" --bind "$bind"
  _lab_udp_wait_up "$name" "$LAB_LAST_PID" "$port" "$bind"
}

start_shadowsocks() { # NAME SERVER_PORT LOCAL_PORT
  local name=$1 sport=$2 lport=$3
  lab_require ss-server ss-local
  local common=(-k "$LAB_UDP_SS_PASSWORD" -m "$LAB_UDP_SS_METHOD" -u -t 60)
  lab_bg "$name-server" ss-server -s 127.0.0.1 -p "$sport" "${common[@]}" -v
  _lab_wait_up "$name-server" "$LAB_LAST_PID" "$sport" 127.0.0.1
  _lab_udp_wait_up "$name-server" "$LAB_LAST_PID" "$sport" 127.0.0.1
  lab_bg "$name-local" ss-local -s 127.0.0.1 -p "$sport" -b 127.0.0.1 -l "$lport" "${common[@]}" -v
  _lab_wait_up "$name-local" "$LAB_LAST_PID" "$lport" 127.0.0.1
  _lab_udp_wait_up "$name-local" "$LAB_LAST_PID" "$lport" 127.0.0.1
}

start_hopchain_udp() { # NAME HOPCHAIN-ARGS... -- PORT...
  local name=$1
  shift
  local args=()
  while (($#)) && [[ $1 != -- ]]; do
    args+=("$1")
    shift
  done
  [[ ${1:-} == -- ]] || fail "start_hopchain_udp: missing -- before the ports"
  shift
  lab_bg "$name" "$HOPCHAIN" "${args[@]}"
  local pid=$LAB_LAST_PID p
  for p in "$@"; do
    if [[ $p == "[::1]:"* ]]; then
      _lab_udp_wait_up "$name" "$pid" "${p#\[::1\]:}" ::1
    else
      _lab_udp_wait_up "$name" "$pid" "$p" 127.0.0.1
    fi
  done
  LAB_LAST_PID=$pid
}

udp_echo_check() { # DESC HOST PORT UDP_CHECK-ARGS...
  local desc=$1 host=$2 port=$3 out rc=0
  shift 3
  out=$(timeout -k 5 "$LAB_CMD_TIMEOUT" python3 "$HC_SUPPORT/udp_check.py" echo "$host" "$port" \
    --timeout $((LAB_CMD_TIMEOUT - 5)) "$@" 2>&1) || rc=$?
  if ((rc != 0)); then
    echo "$out" >&2
    fail "$desc (udp_check exit $rc)"
  fi
  note "ok: $desc: $out"
}
