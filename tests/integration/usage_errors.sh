#!/usr/bin/env bash
# Proves that command-line mistakes get two lines, each starting "hopchain: " (under ssh a
# ProxyCommand's stderr reads like ssh's own): what was wrong, then what to do, and exit 2. The
# slips seen in use: no command, a misspelt one, HOST:PORT as one argument, -x before HOST and
# PORT, a command's option before the command, a misspelt -c chain name.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
lab_init
require_hopchain
export XDG_CONFIG_HOME=$LAB/config
mkdir -p "$XDG_CONFIG_HOME/hopchain/chains"
echo "socks5h://127.0.0.1:1" >"$XDG_CONFIG_HOME/hopchain/chains/work"
HOP=(-x socks5h://127.0.0.1:1)

usage_error() { # WANT HOPCHAIN-ARGS... : exit 2, WANT on stderr, two lines each "hopchain: "
  local want=$1
  shift
  expect_fail_with "$want" "$HOPCHAIN" "$@"
  assert_rc 2
  local lines
  lines=$(wc -l <"$LAB_LAST_ERR")
  if ((lines != 2)) || grep -qv '^hopchain: ' "$LAB_LAST_ERR"; then
    cat "$LAB_LAST_ERR" >&2
    fail "hopchain $*: want two lines, each starting 'hopchain: '"
  fi
  note "ok: hopchain $*: $(head -n 1 "$LAB_LAST_ERR")"
}
usage_error "no command given" "${HOP[@]}"
usage_error "unknown command 'stdo' (did you mean stdio?)" "${HOP[@]}" stdo example.org 22
usage_error "HOST and PORT are two arguments, not 'example.org:22'" "${HOP[@]}" stdio example.org:22
usage_error "--workers is an option of 'forward'" "${HOP[@]}" --workers 1 forward 8080:h:80
usage_error "no chain named 'wrok' in $XDG_CONFIG_HOME/hopchain/chains (did you mean work?)" \
  -c wrok stdio example.org 22
assert_stderr_has "the chains there: work"
usage_error "--connect-timeout: expected seconds" --connect-timeout nan "${HOP[@]}" stdio h 22

# -x takes one URL, as curl's: HOST and PORT after it are the command's, not more hops.
E=$(free_port); start_echo "$E" 127.0.0.1
D=$(free_port); start_danted dante "$D"
out=$(printf 'one-url\n' | timeout 20 "$HOPCHAIN" stdio -x "socks5://127.0.0.1:$D" 127.0.0.1 "$E")
[[ $out == one-url ]] || fail "stdio -x URL HOST PORT: got '$out'"
note "ok: stdio -x URL HOST PORT: -x took the URL only"
