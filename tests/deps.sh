# Sourced by tests/run_all.sh and examples/demo.sh: installs what a fresh Debian 12 lacks.
# Build dependencies, then the real servers and clients the integration tests run on loopback.
HC_BUILD_PACKAGES="cmake g++ make pkg-config libasio-dev libssl-dev libcli11-dev libboost-test-dev libc-ares-dev libnftables-dev libmnl-dev libkrb5-dev"
HC_TEST_PACKAGES="dante-server microsocks openssh-server openssh-client tinyproxy dnsmasq-base curl bind9-dnsutils python3 netcat-openbsd procps iproute2 passwd proxychains4 stunnel4 openssl shadowsocks-libev dante-client groff-base zsh fish lintian binutils git python3-pip busybox-static redsocks krb5-kdc krb5-admin-server krb5-user haproxy"
# Only for building the libFuzzer targets (README "Fuzzing"); CI does not install these.
HC_FUZZ_PACKAGES="clang libclang-rt-14-dev libfuzzer-14-dev"

hc_install_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
