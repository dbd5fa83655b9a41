#!/usr/bin/env bash
# Proves that a password given in a -x URL is not left in the process's command line: the raw
# bytes of /proc/PID/cmdline of a running `forward` and `socks` (every way of writing -x: -x URL,
# -xURL, --via URL, --via=URL; plain and percent-encoded passwords) hold no form of it, the URL
# keeps its shape as user:***@host:port, and the chain still works with the real passwords.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
lab_init
require_hopchain
lab_require microsocks xxd

PW_A='Argv-Pw-A-5823'
PW_B='Argv-Pw-B-1946'
PW_B_URL='%41rgv-Pw-B-1946' # the same password, percent-encoded in the URL
E=$(free_port)
start_echo "$E"
MA=$(free_port)
start_microsocks "$MA" usera "$PW_A"
MB=$(free_port)
start_microsocks "$MB" userb "$PW_B"
HOP_A="socks5://usera:$PW_A@127.0.0.1:$MA"
HOP_B="socks5h://userb:$PW_B_URL@127.0.0.1:$MB"

# hopchain_pid PID : the hopchain process itself (lab_bg's setsid may have forked it)
hopchain_pid() {
  local pid=$1 child
  if [[ $(readlink "/proc/$pid/exe") != "$(readlink -f "$HOPCHAIN")" ]]; then
    child=$(awk '{print $1}' "/proc/$pid/task/$pid/children" 2>/dev/null)
    [[ -n $child ]] && pid=$child
  fi
  echo "$pid"
}

# check_cmdline DESC PID : no form of either password in the raw command line; shapes kept
check_cmdline() {
  local desc=$1 pid raw form
  pid=$(hopchain_pid "$2")
  raw=$(xxd -p "/proc/$pid/cmdline" | tr -d '\n')
  [[ -n $raw ]] || fail "$desc: empty /proc/$pid/cmdline"
  for form in "$PW_A" "$PW_B" "$PW_B_URL" "${PW_A:0:8}" "${PW_B_URL:0:8}"; do
    if [[ $raw == *"$(printf '%s' "$form" | xxd -p | tr -d '\n')"* ]]; then
      tr '\0' ' ' <"/proc/$pid/cmdline" | sed "s/$form/<HERE>/" >&2
      fail "$desc: /proc/$pid/cmdline holds a password ($form)"
    fi
  done
  tr '\0' '\n' <"/proc/$pid/cmdline" >"$LAB/cmdline"
  grep -q "usera:\*\*\*@127.0.0.1:$MA" "$LAB/cmdline" || fail "$desc: hop A lost its shape"
  grep -q "userb:\*\*\*@127.0.0.1:$MB" "$LAB/cmdline" || fail "$desc: hop B lost its shape"
  note "ok: $desc: $(tr '\n' ' ' <"$LAB/cmdline" | tr -s ' ')"
}


for form in separate attached long long-equals; do
  case $form in
  separate) VIA=(-x "$HOP_A" -x "$HOP_B") ;;
  attached) VIA=("-x$HOP_A" "-x$HOP_B") ;;
  long) VIA=(--via "$HOP_A" --via "$HOP_B") ;;
  long-equals) VIA=("--via=$HOP_A" "--via=$HOP_B") ;;
  esac
  F=$(free_port)
  lab_bg "forward-$form" "$HOPCHAIN" --pipeline=never "${VIA[@]}" forward "$F:127.0.0.1:$E"
  FWD=$LAB_LAST_PID
  wait_port "$F" || fail "forward ($form) did not listen"
  timeout 30 python3 "$HC_SUPPORT/echo_once.py" "$F" || fail "forward ($form): the chain did not work"
  check_cmdline "forward, $form" "$FWD"
  lab_kill "$FWD"
done

S=$(free_port)
lab_bg socks "$HOPCHAIN" --pipeline=never -x "$HOP_A" --via="$HOP_B" socks "$S"
SOCKS=$LAB_LAST_PID
wait_port "$S" || fail "socks did not listen"
[[ $(timeout 30 python3 "$HC_SUPPORT/socks_probe.py" socks5 127.0.0.1 "$S" 127.0.0.1 "$E" \
  --timeout 20) == "reply 0x00" ]] || fail "socks: the chain did not work"
check_cmdline "socks" "$SOCKS"
