# shellcheck shell=bash
# shellcheck disable=SC2034  # LAB_* variables are set here for the sourcing scripts
# Real-server test lab for the hopchain integration tests. Source it, then call lab_init.
#
#   source "$HC_SUPPORT/lab.sh"; lab_init
#
# Everything listens on loopback only (127.0.0.1 / ::1). Every process started through this
# library is recorded in $LAB/pids and killed (process group, TERM then KILL) by the EXIT trap
# that lab_init installs; $LAB is removed afterwards (set LAB_KEEP=1 to keep it). When the
# script fails, the tail of every server log in $LAB is printed to help diagnosis.
#
# Servers (each fails the test loudly if its binary is missing or it does not come up):
#   start_danted NAME PORT [auth] [v6] [external=ADDR]
#                                        Dante SOCKS4/SOCKS5 server; `auth` = RFC 1929 username
#                                        method against system accounts ($LAB_USER/$LAB_PASS),
#                                        `v6` = also listen on [::1]:PORT, `external=` = another
#                                        source address for targets beyond loopback. Destination
#                                        $LAB_BLOCKED_IP is blocked by a rule (reply 0x02).
#   start_microsocks [-i ADDR] PORT [USER PASS]
#   start_sshd PORT                      sshd on 127.0.0.1 (public key login as the current user)
#   start_ssh_socks PORT SSHD_PORT       `ssh -N -D 127.0.0.1:PORT` through that sshd
#   start_tinyproxy PORT [USER PASS]     HTTP proxy (CONNECT to any port allowed)
#   start_dnsmasq PORT NAME=IP...        on 127.0.0.1 and ::1, authoritative for the given names
#                                        only, NXDOMAIN for everything else; NAME=::1 gives an
#                                        AAAA record; queries are logged (see dnsmasq_queried)
#   start_echo PORT [BIND]               echo server (python3 asyncio, half-close aware)
#   start_banner_server PORT [BANNER] [BIND]  sends BANNER on accept, then echoes
#   start_silent_server PORT [BIND]      accepts and never answers
#   start_http_server PORT DIR [BIND]    python3 -m http.server (default 127.0.0.1)
#   lab_bg NAME CMD...                   any other background process (tracked and killed)
#
# Waiting: every wait is for an event and bounded; they poll every 0.1 s.
#   wait_port PORT [HOST] [SECONDS]      something listens on HOST:PORT (1 on timeout)
#   wait_until SECONDS CMD...            CMD succeeds (1 on timeout)
#   wait_file FILE [SECONDS]             FILE exists and is not empty (1 on timeout)
#   wait_exit PID [SECONDS]              process PID has exited (1 if still running)
#   wait_group_exit PID [SECONDS]        every process of lab_bg PID's group has exited
#   wait_log FILE ERE [SECONDS]          a line of FILE matches ERE (fails the test, with the tail
#                                        of FILE, on timeout); count_log FILE ERE counts such lines
#   held_stdin [OPTIONS] -- CMD...       CMD with input typed and held open until its answer came
#                                        (held_stdin.py: --data, --until, --write-after, --timeout)
#
# Helpers: free_port, fail MSG, note MSG, make_payload FILE N,
#   sha256_of FILE, expect_fail_with SUBSTR CMD..., run_check RC ARGS..., assert_rc RC, assert_stderr_has SUBSTR,
#   assert_stderr_lacks SUBSTR, stdio_echo_check DESC FILE HOST PORT HOPCHAIN-OPTIONS...,
#   driver_echo_check DESC SIZE HOST PORT HOPCHAIN-OPTIONS... (no half-close needed),
#   require_hopchain, hopchain_sanitized (an ASan build?), lab_require CMD...
#
# Half-close: danted and ssh -D relay a client's EOF as a half-close; microsocks and tinyproxy
# do NOT (they close both directions, losing echo data still in flight). stdio_echo_check
# (`hopchain < file`) therefore needs chains of danted/ssh -D hops only; driver_echo_check
# keeps stdin open until the whole echo is back and works through any chain.
#
# Conventions: LAB_USER/LAB_PASS (hcuser / hc-secret) is the system account used by Dante's
# username method; the same pair is used for microsocks -u/-P and tinyproxy BasicAuth.

LAB_USER=${LAB_USER:-hcuser}
LAB_PASS=${LAB_PASS:-hc-secret}
LAB_BLOCKED_IP=127.0.0.66   # Dante instances refuse this destination by rule
LAB_START_TIMEOUT=${LAB_START_TIMEOUT:-15}   # seconds a server gets to start listening
LAB_CMD_TIMEOUT=${LAB_CMD_TIMEOUT:-60}       # default bound for commands run by helpers

# ---------------------------------------------------------------------------------------------
# basics

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

note() {
  local now
  now=$(date +%s.%N)
  printf '[%6.1fs] %s\n' "$(_lab_secs_since "${LAB_T0:-$now}")" "$*"
}

# seconds (2 decimals) elapsed since T0 (a `date +%s.%N` value)
_lab_secs_since() {
  awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { printf "%.2f", a - b }'
}

lab_require() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || fail "required command '$c' is not installed (or not in PATH=$PATH)"
  done
}

# hopchain_sanitized : true when $HOPCHAIN is an AddressSanitizer build (HC_SANITIZE=ON, as
# tests/run_all.sh builds build-asan/), which runs 2-3 times slower and holds on to freed memory.
hopchain_sanitized() {
  ldd "$HOPCHAIN" 2>/dev/null | grep -q libasan
}

require_hopchain() {
  [[ -n ${HOPCHAIN:-} ]] || fail "HOPCHAIN is not set (path to the hopchain binary)"
  [[ -x $HOPCHAIN ]] || fail "HOPCHAIN=$HOPCHAIN is not an executable file"
}

lab_init() {
  export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
  if [[ -z ${HC_SUPPORT:-} ]]; then
    HC_SUPPORT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  fi
  export HC_SUPPORT
  # the lab talks to its proxies explicitly; proxy variables from the environment must not leak in
  unset http_proxy https_proxy all_proxy no_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY NO_PROXY
  lab_require python3 ss setsid timeout sha256sum mktemp ps awk tac
  [[ -f $HC_SUPPORT/echo_server.py ]] || fail "HC_SUPPORT=$HC_SUPPORT has no echo_server.py"
  LAB=$(mktemp -d "${TMPDIR:-/tmp}/hclab.XXXXXX") || fail "mktemp failed"
  chmod 755 "$LAB"   # servers that drop privileges (tinyproxy, danted) must reach their files
  export LAB
  # hopchain remembers per host:port which hops take pipelined handshakes; ports are reused
  # between scripts by different servers, so every script starts with nothing learnt.
  export XDG_CACHE_HOME="$LAB/cache"
  : >"$LAB/pids"
  : >"$LAB/ports"
  LAB_T0=$(date +%s.%N)
  _lab_start_watchdog
  trap _lab_cleanup EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# Safety net for a script killed with SIGKILL (no EXIT trap runs then, e.g. a harness timeout):
# a small watcher kills every recorded process group and removes $LAB once the script is gone.
# Bounded: polls once a second for at most 2 hours.
_lab_start_watchdog() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  setsid bash -c '
    parent=$1 lab=$2
    for ((i = 0; i < 7200; i++)); do
      kill -0 "$parent" 2>/dev/null || break
      sleep 1
    done
    [[ -f $lab/pids ]] || exit 0
    for pid in $(awk "{print \$1}" "$lab/pids"); do kill -KILL -- "-$pid" 2>/dev/null; done
    rm -rf "$lab"
  ' lab-watchdog "$$" "$LAB" </dev/null >/dev/null 2>&1 &
  LAB_WATCHDOG=$!
}

# Live (non-zombie) members of the process groups given as arguments.
_lab_live_in_groups() {
  ps -e -o pgid=,pid=,stat= 2>/dev/null | awk -v groups=" $* " '
    index(groups, " " $1 " ") && $3 !~ /^Z/ { print $2 }'
}

_lab_cleanup() {
  local rc=$?
  set +e
  trap - EXIT HUP INT TERM
  [[ -n ${LAB_WATCHDOG:-} ]] && kill "$LAB_WATCHDOG" 2>/dev/null
  if [[ -n ${LAB:-} && -f $LAB/pids ]]; then
    local pids pid name i live
    pids=$(awk '{print $1}' "$LAB/pids" | tac | tr '\n' ' ')
    for pid in $pids; do
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    done
    for ((i = 0; i < 40; i++)); do
      # shellcheck disable=SC2086  # one argument per pid
      live=$(_lab_live_in_groups $pids)
      [[ -z $live ]] && break
      sleep 0.1
    done
    if [[ -n $live ]]; then
      for pid in $pids; do kill -KILL -- "-$pid" 2>/dev/null; done
      # shellcheck disable=SC2086
      kill -KILL $live 2>/dev/null
    fi
    wait 2>/dev/null
    if ((rc != 0)); then
      local f
      for f in "$LAB"/*.log; do
        [[ -s $f ]] || continue
        echo "----- $(basename "$f") (last 25 lines) -----" >&2
        tail -n 25 "$f" >&2
      done
    fi
  fi
  if [[ -n ${LAB:-} && -d $LAB ]]; then
    if [[ -n ${LAB_KEEP:-} ]]; then
      echo "lab kept in $LAB" >&2
    else
      rm -rf "$LAB"
    fi
  fi
  if ((rc == 0)); then
    echo "PASS ($(basename "$0"))"
  else
    echo "FAILED ($(basename "$0"), exit $rc)" >&2
  fi
  exit "$rc"
}

# Prints a port free for TCP and UDP on 127.0.0.1 and ::1 (20000-31999, below the ephemeral
# range), never the same twice per lab.
free_port() {
  python3 "$HC_SUPPORT/free_port.py" "$LAB/ports" || fail "free_port failed"
}

# lab_bg NAME CMD... : start CMD in its own session/process group, output to $LAB/NAME.log.
# Sets LAB_LAST_PID. Must be called directly (not inside $(...)) so the variable survives.
lab_bg() {
  local name=$1
  shift
  setsid "$@" >>"$LAB/$name.log" 2>&1 </dev/null &
  LAB_LAST_PID=$!
  echo "$LAB_LAST_PID $name" >>"$LAB/pids"
}

# lab_kill PID : stop one tracked process group now (TERM, then KILL after 2 s).
lab_kill() {
  local pid=$1 i
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 20; i++)); do
    [[ -z $(_lab_live_in_groups "$pid") ]] && return 0
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  return 0
}

_lab_is_listening() { # PORT HOST
  local port=$1 host=$2 want
  if [[ $host == *:* ]]; then want="[$host]:$port"; else want="$host:$port"; fi
  ss -Hltn "sport = :$port" 2>/dev/null | awk '{print $4}' | grep -qxF -- "$want"
}

# wait_port PORT [HOST] [SECONDS]: wait (bounded) until something listens on HOST:PORT.
wait_port() {
  local port=$1 host=${2:-127.0.0.1} secs=${3:-$LAB_START_TIMEOUT} i
  for ((i = 0; i < secs * 10; i++)); do
    _lab_is_listening "$port" "$host" && return 0
    sleep 0.1
  done
  return 1
}

# wait_until SECONDS CMD... : run CMD every 0.1 s until it succeeds; 1 if it still failed once
# SECONDS (whole) of wall time had passed, however long each run of CMD takes.
wait_until() {
  local end=$((${EPOCHREALTIME/./} + $1 * 1000000))
  shift
  until "$@"; do
    ((${EPOCHREALTIME/./} < end)) || return 1
    sleep 0.1
  done
}

_lab_nonempty() { [[ -s $1 ]]; }
_lab_gone() { ! kill -0 "$1" 2>/dev/null; }

# wait_file FILE [SECONDS]: until FILE exists and is not empty.
wait_file() {
  wait_until "${2:-$LAB_START_TIMEOUT}" _lab_nonempty "$1"
}

# wait_exit PID [SECONDS]: until the process PID (a child of this shell, or any process) is gone.
wait_exit() {
  wait_until "${2:-$LAB_CMD_TIMEOUT}" _lab_gone "$1"
}

_lab_group_gone() { [[ -z $(_lab_live_in_groups "$1") ]]; }

# wait_group_exit PID [SECONDS]: until no live process is left in the process group of PID (a
# process started by lab_bg, which leads its own group).
wait_group_exit() {
  wait_until "${2:-$LAB_CMD_TIMEOUT}" _lab_group_gone "$1"
}

# wait_log FILE ERE [SECONDS]: until a line of FILE matches ERE (grep -E); fails the test with the
# tail of FILE otherwise.
wait_log() {
  local file=$1 ere=$2 secs=${3:-10}
  wait_until "$secs" grep -qE -- "$ere" "$file" 2>/dev/null && return 0
  echo "----- $file -----" >&2
  tail -n 30 "$file" >&2
  fail "no line matching '$ere' in $(basename "$file") within ${secs}s"
}

count_log() { # FILE ERE
  grep -cE -- "$2" "$1" 2>/dev/null || true
}

held_stdin() { # [held_stdin.py OPTIONS] -- CMD...
  python3 "$HC_SUPPORT/held_stdin.py" "$@"
}

# _lab_wait_up NAME PID PORT HOST: wait for the listener; fail with the log if the process
# died or did not listen in time.
# _lab_up_or_gone PID PORT HOST: 0 once listening (or still starting at the deadline, for
# _lab_wait_up to report), 1 if the process has already exited.
_lab_up_or_gone() {
  local pid=$1 port=$2 host=$3 i
  for ((i = 0; i < LAB_START_TIMEOUT * 10; i++)); do
    _lab_is_listening "$port" "$host" && return 0
    [[ -z $(_lab_live_in_groups "$pid") ]] && return 1
    sleep 0.1
  done
  return 0
}

_lab_wait_up() {
  local name=$1 pid=$2 port=$3 host=$4 i
  for ((i = 0; i < LAB_START_TIMEOUT * 10; i++)); do
    if _lab_is_listening "$port" "$host"; then
      return 0
    fi
    if [[ -z $(_lab_live_in_groups "$pid") ]]; then
      echo "----- $name.log -----" >&2
      cat "$LAB/$name.log" >&2 2>/dev/null
      fail "$name exited before listening on $host:$port"
    fi
    sleep 0.1
  done
  echo "----- $name.log -----" >&2
  cat "$LAB/$name.log" >&2 2>/dev/null
  fail "$name did not listen on $host:$port within ${LAB_START_TIMEOUT}s"
}

# ---------------------------------------------------------------------------------------------
# Dante

# Creates the system account Dante's username method checks (idempotent).
lab_ensure_user() {
  lab_require useradd chpasswd
  if ! id "$LAB_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$LAB_USER" 2>/dev/null ||
      id "$LAB_USER" >/dev/null 2>&1 || fail "cannot create user $LAB_USER (need root)"
  fi
  echo "$LAB_USER:$LAB_PASS" | chpasswd || fail "cannot set the password of $LAB_USER (need root)"
}

start_danted() { # NAME PORT [auth] [v6] [external=ADDR]...
  local name=$1 port=$2 auth=0 v6=0 opt externals=()
  shift 2
  for opt in "$@"; do
    case $opt in
      auth) auth=1 ;;
      v6) v6=1 ;;
      external=*) externals+=("${opt#external=}") ;;
      *) fail "start_danted: unknown option '$opt'" ;;
    esac
  done
  lab_require danted
  ((auth)) && lab_ensure_user
  local conf=$LAB/$name.conf
  {
    echo "# generated by tests/support/lab.sh"
    echo "logoutput: $LAB/$name.log"
    echo "internal: 127.0.0.1 port = $port"
    if ((v6)); then echo "internal: ::1 port = $port"; fi
    echo "external: 127.0.0.1"
    echo "external: ::1"
    for opt in "${externals[@]}"; do echo "external: $opt"; done
    # pick the source address by route: 127.0.0.1 for IPv4 targets, ::1 for IPv6 targets
    echo "external.rotation: route"
    echo "clientmethod: none"
    if ((auth)); then echo "socksmethod: username"; else echo "socksmethod: none"; fi
    echo "user.privileged: root"
    echo "user.unprivileged: nobody"
    echo "timeout.negotiate: 30"
    echo "timeout.connect: 10"
    cat <<EOF
client pass {
  from: 0/0 to: 0/0
  log: error
}
socks block {
  from: 0/0 to: $LAB_BLOCKED_IP/32
  log: error connect
}
socks pass {
  from: 0/0 to: 0/0
  command: bind connect udpassociate
  log: error connect disconnect
}
socks pass {
  from: 0/0 to: 0/0
  command: bindreply udpreply
  log: error
}
EOF
  } >"$conf"
  danted -V -f "$conf" >>"$LAB/$name.log" 2>&1 || {
    cat "$LAB/$name.log" >&2
    fail "danted rejected its configuration $conf"
  }
  local pid attempt
  for attempt in 1 2 3; do
    lab_bg "$name" danted -f "$conf" -N 1 -p "$LAB/$name.pid"
    pid=$LAB_LAST_PID
    # Dante now and then exits during start-up with an empty log (seen under heavy load): start
    # it again rather than fail the test on the lab's account.
    _lab_up_or_gone "$pid" "$port" 127.0.0.1 && break
    note "$name exited during start-up (attempt $attempt), starting it again"
  done
  _lab_wait_up "$name" "$pid" "$port" 127.0.0.1
  ((v6)) && _lab_wait_up "$name" "$pid" "$port" ::1
  return 0
}

# ---------------------------------------------------------------------------------------------
# microsocks

start_microsocks() { # [-i ADDR] PORT [USER PASS]
  local addr=127.0.0.1
  if [[ ${1:-} == -i ]]; then
    addr=$2
    shift 2
  fi
  local port=$1 user=${2:-} pass=${3:-}
  lab_require microsocks
  local name="microsocks-$port"
  local args=(-i "$addr" -p "$port")
  [[ -n $user ]] && args+=(-u "$user" -P "$pass")
  lab_bg "$name" microsocks "${args[@]}"
  _lab_wait_up "$name" "$LAB_LAST_PID" "$port" "$addr"
}

# ---------------------------------------------------------------------------------------------
# OpenSSH

_lab_ssh_setup() {
  [[ -f $LAB/ssh/client_key ]] && return 0
  lab_require ssh ssh-keygen
  [[ $(id -u) == 0 ]] || fail "sshd needs root (privilege separation)"
  mkdir -p "$LAB/ssh" /run/sshd
  chmod 700 "$LAB/ssh"
  ssh-keygen -q -t ed25519 -N '' -C hclab-host -f "$LAB/ssh/host_key" || fail "ssh-keygen failed"
  ssh-keygen -q -t ed25519 -N '' -C hclab-client -f "$LAB/ssh/client_key" || fail "ssh-keygen failed"
  cp "$LAB/ssh/client_key.pub" "$LAB/ssh/authorized_keys"
  LAB_SSH_USER=$(id -un)
  LAB_SSH_CONFIG=$LAB/ssh/ssh_config
  cat >"$LAB_SSH_CONFIG" <<EOF
Host *
  IdentityFile $LAB/ssh/client_key
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  GlobalKnownHostsFile /dev/null
  BatchMode yes
  LogLevel ERROR
  ConnectTimeout 10
  ServerAliveInterval 10
EOF
  # ssh -F "$LAB_SSH_CONFIG" ... or ssh "${LAB_SSH_OPTS[@]}" ...
  LAB_SSH_OPTS=(-F "$LAB_SSH_CONFIG")
  export LAB_SSH_USER LAB_SSH_CONFIG
}

start_sshd() { # PORT
  local port=$1
  [[ -x /usr/sbin/sshd ]] || fail "required server /usr/sbin/sshd is not installed"
  _lab_ssh_setup
  local name="sshd-$port" conf=$LAB/ssh/sshd_config_$port
  cat >"$conf" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $LAB/ssh/host_key
PidFile $LAB/ssh/sshd_$port.pid
AuthorizedKeysFile $LAB/ssh/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
PermitOpen any
X11Forwarding no
PrintMotd no
UseDNS no
MaxStartups 100:30:200
MaxSessions 100
LogLevel INFO
EOF
  /usr/sbin/sshd -t -f "$conf" >>"$LAB/$name.log" 2>&1 || {
    cat "$LAB/$name.log" >&2
    fail "sshd rejected its configuration"
  }
  lab_bg "$name" /usr/sbin/sshd -D -e -f "$conf"
  _lab_wait_up "$name" "$LAB_LAST_PID" "$port" 127.0.0.1
}

start_ssh_socks() { # PORT SSHD_PORT
  local port=$1 sshd_port=$2
  _lab_ssh_setup
  local name="ssh-D-$port"
  lab_bg "$name" ssh -F "$LAB_SSH_CONFIG" -N -o ExitOnForwardFailure=yes \
    -D "127.0.0.1:$port" -p "$sshd_port" "$LAB_SSH_USER@127.0.0.1"
  _lab_wait_up "$name" "$LAB_LAST_PID" "$port" 127.0.0.1
}

# ---------------------------------------------------------------------------------------------
# tinyproxy

start_tinyproxy() { # PORT [USER PASS]
  local port=$1 user=${2:-} pass=${3:-}
  lab_require tinyproxy
  local name="tinyproxy-$port" conf=$LAB/tinyproxy-$port.conf
  : >"$LAB/$name.log"
  chown nobody:nogroup "$LAB/$name.log" 2>/dev/null
  {
    echo "Port $port"
    echo "Listen 127.0.0.1"
    echo "Timeout 600"
    echo "Allow 127.0.0.1"
    echo "User nobody"
    echo "Group nogroup"
    echo "LogFile \"$LAB/$name.log\""
    echo "LogLevel Info"
    echo "PidFile \"$LAB/tinyproxy-$port.pid\""
    echo "MaxClients 512"
    echo "DisableViaHeader Yes"
    # no ConnectPort line: CONNECT is allowed to every port
    if [[ -n $user ]]; then echo "BasicAuth $user $pass"; fi
  } >"$conf"
  lab_bg "$name" tinyproxy -d -c "$conf"
  _lab_wait_up "$name" "$LAB_LAST_PID" "$port" 127.0.0.1
}

# ---------------------------------------------------------------------------------------------
# dnsmasq

start_dnsmasq() { # PORT NAME=IP... [--dnsmasq-option=VALUE...]
  local port=$1
  shift
  lab_require dnsmasq
  local -A v4=() v6=()
  local -a order=() extra=()
  local pair n ip
  for pair in "$@"; do
    if [[ $pair == --* ]]; then
      extra+=("$pair")
      continue
    fi
    n=${pair%%=*}
    ip=${pair#*=}
    [[ -n $n && -n $ip && $pair == *=* ]] || fail "start_dnsmasq: bad NAME=IP '$pair'"
    [[ -z ${v4[$n]+x} && -z ${v6[$n]+x} ]] && order+=("$n")
    if [[ $ip == *:* ]]; then v6[$n]=$ip; else v4[$n]=$ip; fi
  done
  local name="dnsmasq-$port"
  # --local=/#/: never forward, NXDOMAIN for every name not configured here.
  # --host-record: the name exists, so a missing family is NODATA (not NXDOMAIN).
  # shellcheck disable=SC2054  # the commas belong to dnsmasq's option value
  local args=(-C /dev/null --no-daemon --port="$port" --listen-address=127.0.0.1,::1 --bind-interfaces
    --no-resolv --no-hosts --no-negcache --local='/#/' --log-facility=- --log-queries
    --pid-file="$LAB/$name.pid" --user=root)
  for n in "${order[@]}"; do
    local rec=$n
    [[ -n ${v4[$n]:-} ]] && rec+=",${v4[$n]}"
    [[ -n ${v6[$n]:-} ]] && rec+=",${v6[$n]}"
    args+=(--host-record="$rec")
  done
  lab_bg "$name" dnsmasq "${args[@]}" "${extra[@]}"
  _lab_wait_up "$name" "$LAB_LAST_PID" "$port" 127.0.0.1
  _lab_wait_up "$name" "$LAB_LAST_PID" "$port" ::1
}

# dnsmasq_queried PORT NAME [TYPE] : true when the dnsmasq on PORT logged a query for NAME
dnsmasq_queried() {
  grep -qE "query\[${3:-[A-Z]+}\] $2 from" "$LAB/dnsmasq-$1.log"
}

# ---------------------------------------------------------------------------------------------
# python3 test servers

start_echo() { # PORT [BIND]
  local port=$1 bind=${2:-127.0.0.1}
  local name="echo-$port"
  lab_bg "$name" python3 "$HC_SUPPORT/echo_server.py" --port "$port" --bind "$bind" --mode echo
  _lab_wait_up "$name" "$LAB_LAST_PID" "$port" "$bind"
}

start_banner_server() { # PORT [BANNER] [BIND]
  local port=$1 banner=${2:-HELLO-FROM-TARGET$'\n'} bind=${3:-127.0.0.1}
  local name="banner-$port"
  lab_bg "$name" python3 "$HC_SUPPORT/echo_server.py" --port "$port" --bind "$bind" \
    --mode banner --banner "$banner"
  _lab_wait_up "$name" "$LAB_LAST_PID" "$port" "$bind"
}

start_silent_server() { # PORT [BIND]
  local port=$1 bind=${2:-127.0.0.1}
  local name="silent-$port"
  lab_bg "$name" python3 "$HC_SUPPORT/echo_server.py" --port "$port" --bind "$bind" --mode silent
  _lab_wait_up "$name" "$LAB_LAST_PID" "$port" "$bind"
}

start_http_server() { # PORT DIR [BIND]
  local port=$1 dir=$2 bind=${3:-127.0.0.1}
  local name="http-$port-${bind//:/_}"
  lab_bg "$name" python3 -m http.server --bind "$bind" --directory "$dir" "$port"
  _lab_wait_up "$name" "$LAB_LAST_PID" "$port" "$bind"
}

# ---------------------------------------------------------------------------------------------
# data and assertions

make_payload() { # FILE BYTES
  head -c "$2" /dev/urandom >"$1" || fail "cannot write payload $1"
}

sha256_of() { # FILE
  sha256sum "$1" | awk '{print $1}'
}

# expect_fail_with SUBSTR CMD... : run CMD (stdin /dev/null, bounded by LAB_CMD_TIMEOUT), expect
# a non-zero exit and SUBSTR (case-insensitive) in its stderr. Sets LAB_LAST_RC, LAB_LAST_ERR
# (file with stderr), LAB_LAST_OUT (file with stdout), LAB_LAST_SECS (wall time).
expect_fail_with() {
  local want=$1
  shift
  LAB_LAST_OUT=$LAB/last.out
  LAB_LAST_ERR=$LAB/last.err
  LAB_LAST_RC=0
  local t0
  t0=$(date +%s.%N)
  timeout -k 5 "$LAB_CMD_TIMEOUT" "$@" </dev/null >"$LAB_LAST_OUT" 2>"$LAB_LAST_ERR" || LAB_LAST_RC=$?
  LAB_LAST_SECS=$(_lab_secs_since "$t0")
  if ((LAB_LAST_RC == 0)); then
    echo "--- stderr ---" >&2
    cat "$LAB_LAST_ERR" >&2
    fail "expected failure (stderr containing '$want'), but the command exited 0"
  fi
  if ((LAB_LAST_RC == 124 || LAB_LAST_RC == 137)); then
    echo "--- stderr ---" >&2
    cat "$LAB_LAST_ERR" >&2
    fail "command hung: killed after ${LAB_CMD_TIMEOUT}s (expected a failure with '$want')"
  fi
  if ! grep -qiF -- "$want" "$LAB_LAST_ERR"; then
    echo "--- stderr (exit $LAB_LAST_RC) ---" >&2
    cat "$LAB_LAST_ERR" >&2
    fail "stderr does not contain '$want'"
  fi
  return 0
}

# run_check EXPECTED-RC HOPCHAIN-ARGS... : one bounded hopchain run (a `check`, usually) whose
# exit status must be EXPECTED-RC; stdout in $LAB/check.out, stderr in $LAB/check.err.
run_check() {
  local want=$1 rc=0
  shift
  timeout -k 5 30 "$HOPCHAIN" "$@" >"$LAB/check.out" 2>"$LAB/check.err" || rc=$?
  if ((rc != want)); then
    cat "$LAB/check.out" "$LAB/check.err" >&2
    fail "hopchain $*: exit $rc, expected $want"
  fi
}

assert_rc() { # RC : the last expect_fail_with exit status
  if [[ $LAB_LAST_RC != "$1" ]]; then
    echo "--- stderr ---" >&2
    cat "$LAB_LAST_ERR" >&2
    fail "expected exit status $1, got $LAB_LAST_RC"
  fi
}

assert_stderr_has() { # SUBSTR (case-insensitive) in the last stderr
  if ! grep -qiF -- "$1" "$LAB_LAST_ERR"; then
    echo "--- stderr ---" >&2
    cat "$LAB_LAST_ERR" >&2
    fail "stderr does not contain '$1'"
  fi
}

assert_stderr_lacks() { # SUBSTR (case-sensitive) absent from the last stderr and stdout
  if grep -qF -- "$1" "$LAB_LAST_ERR" "$LAB_LAST_OUT"; then
    echo "--- stderr ---" >&2
    cat "$LAB_LAST_ERR" >&2
    fail "output contains '$1' (it must not)"
  fi
}

# stdio_echo_check DESC FILE HOST PORT HOPCHAIN-OPTIONS... : pipe FILE through
# `hopchain OPTIONS stdio HOST PORT` to an echo server and compare sha256 of what comes back.
stdio_echo_check() {
  local desc=$1 file=$2 host=$3 port=$4
  shift 4
  local out=$LAB/stdio.out err=$LAB/stdio.err rc=0 t0 secs
  t0=$(date +%s.%N)
  timeout -k 5 "$LAB_CMD_TIMEOUT" "$HOPCHAIN" "$@" stdio "$host" "$port" <"$file" >"$out" 2>"$err" || rc=$?
  secs=$(_lab_secs_since "$t0")
  if ((rc != 0)); then
    echo "--- hopchain stderr ---" >&2
    cat "$err" >&2
    if ((rc == 124 || rc == 137)); then
      fail "$desc: hopchain hung (killed after ${LAB_CMD_TIMEOUT}s), got $(stat -c %s "$out") of $(stat -c %s "$file") bytes back"
    fi
    fail "$desc: hopchain exited $rc"
  fi
  local want got
  want=$(sha256_of "$file")
  got=$(sha256_of "$out")
  if [[ $want != "$got" ]]; then
    echo "--- hopchain stderr ---" >&2
    cat "$err" >&2
    fail "$desc: echo mismatch: sent $(stat -c %s "$file") bytes (sha256 $want), got $(stat -c %s "$out") bytes (sha256 $got)"
  fi
  note "ok: $desc ($(stat -c %s "$file") bytes, ${secs}s)"
  rm -f "$out"
}

# driver_echo_check DESC SIZE HOST PORT HOPCHAIN-OPTIONS... : like stdio_echo_check, but stdin
# stays open until the whole echo came back (stdio_driver.py), so it works through proxies that
# do not relay a half-close. Set DRIVER_PREFIX to expect a banner before the echo.
driver_echo_check() {
  local desc=$1 size=$2 host=$3 port=$4
  shift 4
  local rc=0 t0 secs
  t0=$(date +%s.%N)
  timeout -k 5 "$((LAB_CMD_TIMEOUT + 10))" python3 "$HC_SUPPORT/stdio_driver.py" --size "$size" \
    --timeout "$LAB_CMD_TIMEOUT" --prefix "${DRIVER_PREFIX:-}" -- \
    "$HOPCHAIN" "$@" stdio "$host" "$port" >"$LAB/driver.out" 2>&1 || rc=$?
  secs=$(_lab_secs_since "$t0")
  if ((rc != 0)); then
    cat "$LAB/driver.out" >&2
    fail "$desc: stdio echo check failed (exit $rc)"
  fi
  note "ok: $desc ($size bytes, stdin held open, ${secs}s)"
}
