#!/usr/bin/env bash
# Installs what is missing, builds hopchain, then shows a chain at work: it starts two SOCKS5
# servers and a small web server on loopback, and fetches a page through both hops with -v so
# every step is printed. Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/deps.sh
# shellcheck disable=SC2086
hc_install_packages $HC_BUILD_PACKAGES microsocks python3
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
hopchain=build/cmd/hopchain

lab=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$lab"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "demo: nothing listens on port $1" >&2
  return 1
}

hop_a=$(free_port); hop_b=$(free_port); web=$(free_port)
echo "hello from the far side of a 2-hop chain" > "$lab/index.html"
microsocks -i 127.0.0.1 -p "$hop_a" >/dev/null 2>&1 & pids+=($!)
microsocks -i 127.0.0.1 -p "$hop_b" >/dev/null 2>&1 & pids+=($!)
python3 -m http.server "$web" --bind 127.0.0.1 --directory "$lab" >/dev/null 2>&1 & pids+=($!)
wait_port "$hop_a"; wait_port "$hop_b"; wait_port "$web"

echo "== hop 1: socks5h://127.0.0.1:$hop_a  hop 2: socks5://127.0.0.1:$hop_b  target: 127.0.0.1:$web"
echo "\$ printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | hopchain -v -x socks5h://127.0.0.1:$hop_a -x socks5://127.0.0.1:$hop_b stdio 127.0.0.1 $web"
printf 'GET /index.html HTTP/1.0\r\n\r\n' |
  "$hopchain" -v -x "socks5h://127.0.0.1:$hop_a" -x "socks5://127.0.0.1:$hop_b" stdio 127.0.0.1 "$web"
