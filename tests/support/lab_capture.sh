# shellcheck shell=bash
# Test network namespaces for the capture modes (`redirect`): source after lab.sh.
#
#   capture_enter_namespace "$@"   first line of a script: runs the script again inside a new
#                                  network namespace (as root; an unprivileged user gets a SKIP,
#                                  exit 77), so that its addresses, routes and rules vanish with it
#   capture_lab_init               (after lab_init) loopback up, and a second namespace holding
#                                  the targets, reached over a veth pair: here 10.99.0.1/24 and
#                                  fd99::1/64, the targets' side $CAPTURE_TARGET_IP (10.99.0.2)
#                                  and $CAPTURE_TARGET_IP6 (fd99::2)
#   in_targets CMD...              runs CMD in the targets' namespace
#   wait_target_port PORT [udp]    something listens on $CAPTURE_TARGET_IP:PORT there
#   capture_rules UID:PORT...      nftables rules: TCP of user UID to any address outside
#                                  127.0.0.0/8 and ::1 is redirected to PORT on loopback, its UDP
#                                  tproxy'd there (marked UID on output, so that a rule sends it
#                                  to the local route of table 100, then tproxy'd on its way in),
#                                  IPv4 and IPv6
#   as_user UID CMD...             runs CMD as UID (no such account needed); $CAPTURE_PYTHON is
#                                  a python3 that any user can run (not a shim in root's home)
#   nft_cmd ARGS...                nft, or tests/support/nft.py (libnftables) without it
#
# The rules match the user (meta skuid) so that the hops' own connections to the targets, made
# by other users, are not captured in turn: the README's recipe.

CAPTURE_TARGET_IP=10.99.0.2
CAPTURE_LOCAL_IP=10.99.0.1
CAPTURE_TARGET_IP6=fd99::2
CAPTURE_LOCAL_IP6=fd99::1
CAPTURE_PYTHON=/usr/bin/python3
[[ -x $CAPTURE_PYTHON ]] || CAPTURE_PYTHON=$(command -v python3)

capture_enter_namespace() {
  [[ -n ${HC_CAPTURE_NS:-} ]] && return 0
  if [[ $(id -u) != 0 ]] || ! unshare -n true 2>/dev/null; then
    echo "SKIP: needs root to create network namespaces, nftables rules and tproxy sockets"
    exit 77
  fi
  HC_CAPTURE_NS=1 exec unshare -n -- bash "$0" "$@"
}

nft_cmd() {
  if command -v nft >/dev/null; then nft "$@"; else python3 "$HC_SUPPORT/nft.py" "$@"; fi
}

in_targets() {
  nsenter -t "$CAPTURE_TARGETS_PID" -n "$@"
}

_capture_own_namespace() { # PID: the process has left this network namespace
  [[ $(readlink "/proc/$1/ns/net") != "$(readlink /proc/$$/ns/net)" ]]
}

capture_lab_init() {
  lab_require ip nsenter unshare setpriv
  ip link set lo up
  lab_bg targets-ns unshare -n sleep 3600
  CAPTURE_TARGETS_PID=$LAB_LAST_PID
  wait_until 10 _capture_own_namespace "$CAPTURE_TARGETS_PID" ||
    fail "the targets' namespace did not come up"
  ip link add hcv0 type veth peer name hcv1 netns "$CAPTURE_TARGETS_PID"
  ip addr add "$CAPTURE_LOCAL_IP/24" dev hcv0
  ip -6 addr add "$CAPTURE_LOCAL_IP6/64" dev hcv0 nodad
  ip link set hcv0 up
  in_targets ip link set lo up
  in_targets ip addr add "$CAPTURE_TARGET_IP/24" dev hcv1
  in_targets ip -6 addr add "$CAPTURE_TARGET_IP6/64" dev hcv1 nodad
  in_targets ip link set hcv1 up
  ip route add local 0.0.0.0/0 dev lo table 100
  ip -6 route add local ::/0 dev lo table 100
}

wait_target_port() { # PORT [udp]
  local flag=-Hltn
  [[ ${2:-} == udp ]] && flag=-Hlun
  wait_until "$LAB_START_TIMEOUT" sh -c "nsenter -t $CAPTURE_TARGETS_PID -n ss $flag \
    'sport = :$1' | grep -q ." || fail "nothing listens on $CAPTURE_TARGET_IP:$1"
}

# capture_bench_targets BANNER_PORT SOURCE_PORT BYTES: the benches' two targets on
# $CAPTURE_TARGET_IP, started and waited for: a banner server (its first byte is what a setup
# time is measured to) and a source that sends BYTES to each connection.
capture_bench_targets() {
  local banner=$1 source=$2 bytes=$3
  lab_bg banner nsenter -t "$CAPTURE_TARGETS_PID" -n python3 "$HC_SUPPORT/echo_server.py" \
    --port "$banner" --bind "$CAPTURE_TARGET_IP" --mode banner --banner HELLO
  lab_bg source nsenter -t "$CAPTURE_TARGETS_PID" -n python3 -c '
import socket, sys, threading
chunk = bytes(1 << 20)
def serve(c):
    with c:
        left = int(sys.argv[3])
        while left > 0:
            c.sendall(chunk[:min(left, len(chunk))])
            left -= len(chunk)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
' "$CAPTURE_TARGET_IP" "$source" "$bytes"
  wait_target_port "$banner"
  wait_target_port "$source"
}

capture_rules() { # UID:PORT...
  local rules=$LAB/capture.nft pair uid port
  {
    echo "table inet hc_capture {"
    echo "  chain out_nat { type nat hook output priority -100; policy accept;"
    for pair in "$@"; do
      uid=${pair%%:*} port=${pair##*:}
      echo "    meta skuid $uid ip daddr != 127.0.0.0/8 tcp dport 1-65535 redirect to :$port"
      echo "    meta skuid $uid ip6 daddr != ::1 tcp dport 1-65535 redirect to :$port"
    done
    echo "  }"
    echo "  chain out_route { type route hook output priority -150; policy accept;"
    for pair in "$@"; do
      uid=${pair%%:*}
      echo "    meta skuid $uid ip daddr != 127.0.0.0/8 udp dport 1-65535 meta mark set $uid"
      echo "    meta skuid $uid ip6 daddr != ::1 udp dport 1-65535 meta mark set $uid"
    done
    echo "  }"
    echo "  chain pre { type filter hook prerouting priority -150; policy accept;"
    for pair in "$@"; do
      uid=${pair%%:*} port=${pair##*:}
      echo "    meta mark $uid meta nfproto ipv4 udp dport 1-65535 tproxy ip to 127.0.0.1:$port accept"
      echo "    meta mark $uid meta nfproto ipv6 udp dport 1-65535 tproxy ip6 to [::1]:$port accept"
    done
    echo "  }"
    echo "}"
  } >"$rules"
  nft_cmd -f "$rules" || fail "nftables refused $rules"
  # The marks above pick the port by user; a packet marked so must be delivered here.
  for pair in "$@"; do
    ip rule add fwmark "${pair%%:*}" lookup 100
    ip -6 rule add fwmark "${pair%%:*}" lookup 100
  done
}

as_user() { # UID CMD...
  local uid=$1
  shift
  setpriv --reuid "$uid" --regid "$uid" --clear-groups -- "$@"
}
