# shellcheck shell=bash
# For the exec tests; sources lab.sh too:
#
#   exec_enter_namespaces "$0" "$@"  first thing: runs the script again in network and mount
#                                    namespaces of its own (root; otherwise a SKIP, exit 0), so
#                                    that its addresses and mounts vanish with it
#   exec_outside_world               (after lab_init) lo up with 10.77.0.1 and fd77::1, the
#                                    "outside world" the command reaches through the chain
#   nobody_has_userns                true when user nobody may create a user namespace
#   as_nobody CMD...                 runs CMD as nobody (nogroup), with a HOME and cache of its own

# shellcheck source=SCRIPTDIR/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"

exec_enter_namespaces() { # SCRIPT ARGS...
  [[ -n ${HC_EXEC_TEST_NETNS:-} ]] && return 0
  if ! unshare --net --mount true 2>/dev/null; then
    echo "SKIP: this test needs to create network and mount namespaces (root)"
    exit 0
  fi
  exec env HC_EXEC_TEST_NETNS=1 unshare --net --mount -- bash "$@"
}

exec_outside_world() {
  ip link set lo up
  ip addr add 10.77.0.1/32 dev lo
  ip -6 addr add fd77::1/128 dev lo nodad
}

nobody_has_userns() {
  setpriv --reuid nobody --regid nogroup --clear-groups unshare -rn true 2>/dev/null
}

as_nobody() { # CMD...
  local home
  home=$(mktemp -d "$LAB/nobody.XXXX")
  chmod 777 "$home"
  setpriv --reuid nobody --regid nogroup --clear-groups env HOME="$home" \
    XDG_CACHE_HOME="$home/cache" "$@"
}
