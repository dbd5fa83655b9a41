#!/usr/bin/env bash
# Installs what is missing, builds hopchain, then shows a chain at work: it starts two SOCKS5
# servers and a small web server on loopback, forwards a local port through both hops with -v,
# and fetches a page through it with curl, then pipes a request through the same chain in stdio
# mode. Every chain step is printed with its timing. Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/deps.sh
# shellcheck disable=SC2086
hc_install_packages $HC_BUILD_PACKAGES microsocks python3 curl iproute2
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
hopchain=build/cmd/hopchain

lab=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$lab"; }
trap cleanup EXIT
# N distinct free ports: all sockets stay bound until every port is chosen.
free_ports() {
  python3 -c 'import socket,sys
socks=[socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1",0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}
wait_port() {
  for _ in $(seq 50); do
    ss -Hltn "sport = :$1" 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  echo "demo: nothing listens on port $1" >&2
  return 1
}

read -r hop_a hop_b web local_port < <(free_ports 4)
echo "hello from the far side of a 2-hop chain" > "$lab/index.html"
microsocks -i 127.0.0.1 -p "$hop_a" >/dev/null 2>&1 & pids+=($!)
microsocks -i 127.0.0.1 -p "$hop_b" >/dev/null 2>&1 & pids+=($!)
python3 -m http.server "$web" --bind 127.0.0.1 --directory "$lab" >/dev/null 2>&1 & pids+=($!)
wait_port "$hop_a"; wait_port "$hop_b"; wait_port "$web"

chain=(-x "socks5h://127.0.0.1:$hop_a" -x "socks5://127.0.0.1:$hop_b")
echo "== hop 1: socks5h://127.0.0.1:$hop_a (gets names)  hop 2: socks5://127.0.0.1:$hop_b (gets addresses)"
echo
echo "\$ hopchain -v ${chain[*]} forward $local_port:localhost:$web &"
"$hopchain" -v "${chain[@]}" forward "$local_port:localhost:$web" & pids+=($!)
wait_port "$local_port"
echo "\$ curl -s http://127.0.0.1:$local_port/index.html"
curl -s --max-time 10 "http://127.0.0.1:$local_port/index.html"
sleep 0.2
echo
echo "\$ printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | hopchain -v ${chain[*]} stdio 127.0.0.1 $web"
# microsocks closes both directions on the first EOF, so keep our side open until the reply.
{ printf 'GET /index.html HTTP/1.0\r\n\r\n'; sleep 1; } |
  "$hopchain" -v "${chain[@]}" stdio 127.0.0.1 "$web"
