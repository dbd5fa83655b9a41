#!/usr/bin/env bash
# Proves that an empty chain never becomes a direct connection: with no hop given, an empty -f
# file or a named chain whose hops are all commented out, every command exits 2 before it
# connects anywhere, naming the empty source and --direct; --direct connects without a hop, and
# --direct together with hops is refused.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
lab_init
require_hopchain

E=$(free_port); start_echo "$E" 127.0.0.1
export XDG_CONFIG_HOME=$LAB/config
mkdir -p "$XDG_CONFIG_HOME/hopchain/chains"
printf '# socks5h://127.0.0.1:1\n\n   # strategy dynamic\n' >"$XDG_CONFIG_HOME/hopchain/chains/empty"
: >"$LAB/empty.chain"

# refused DESC WANT HOPCHAIN-ARGS... : exit 2, WANT and the hint on stderr
refused() {
  local desc=$1 want=$2
  shift 2
  expect_fail_with "$want" "$HOPCHAIN" "$@"
  assert_rc 2
  assert_stderr_has "pass --direct to connect without a proxy"
  note "ok: $desc: exit 2, '$want'"
}
refused "stdio, no hop" "no hop given" stdio 127.0.0.1 "$E"
refused "forward, no hop" "no hop given" forward "$(free_port):127.0.0.1:$E"
refused "socks, no hop" "no hop given" socks "$(free_port)"
refused "udp, no hop" "no hop given" udp "$(free_port):127.0.0.1:$E"
refused "check, no hop" "no hop given" check 127.0.0.1 "$E"
refused "empty -f file" "chain file $LAB/empty.chain has no hop" -f "$LAB/empty.chain" stdio 127.0.0.1 "$E"
refused "named chain of comments" "chain 'empty' ($XDG_CONFIG_HOME/hopchain/chains/empty) has no hop" \
  -c empty stdio 127.0.0.1 "$E"

expect_fail_with "--direct means no hop" "$HOPCHAIN" --direct -x "socks5h://127.0.0.1:1" stdio 127.0.0.1 "$E"
assert_rc 2
note "ok: --direct with a hop is a usage error"

out=$(printf 'direct-ping\n' | timeout 20 "$HOPCHAIN" --direct stdio 127.0.0.1 "$E")
[[ $out == direct-ping ]] || fail "--direct stdio echo: got '$out'"
note "ok: --direct connects without a hop"
