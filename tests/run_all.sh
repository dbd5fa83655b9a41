#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors, and runs every test (ctest).
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/deps.sh
# shellcheck disable=SC2086
hc_install_packages $HC_BUILD_PACKAGES $HC_TEST_PACKAGES
jobs=$(nproc)
cmake -S . -B build -DHC_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
# The integration tests start root-owned servers (sshd, danted): run as root or through sudo.
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -E"
$sudo ctest --test-dir build --output-on-failure --timeout 600
