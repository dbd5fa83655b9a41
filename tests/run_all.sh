#!/usr/bin/env bash
# Installs what is missing, then builds and runs every test (ctest: unit, fuzz corpus replay,
# integration) twice: the normal build with warnings as errors (build/), and the same under
# AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/). The integration tests take the
# hopchain binary of the tree ctest runs in, so the second pass drives the sanitized binary.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/deps.sh
# shellcheck disable=SC2086
hc_install_packages $HC_BUILD_PACKAGES $HC_TEST_PACKAGES
jobs=$(nproc)
# The integration tests start root-owned servers (sshd, danted): run as root or through sudo.
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -E"
started=$SECONDS

echo "=== normal build (build/) ==="
cmake -S . -B build -DHC_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
$sudo ctest --test-dir build --output-on-failure --timeout 600
echo "=== normal build and tests: $((SECONDS - started)) s ==="

echo "=== sanitizer build (build-asan/: ASan + UBSan) ==="
asan_started=$SECONDS
cmake -S . -B build-asan -DHC_SANITIZE=ON -DHC_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build-asan -j"$jobs"

# Reports go to files as well as failing the process: hopchain runs in the background in forward
# tests, where nobody reads its exit status, so a report there is only seen this way. Exit status
# 86 keeps a sanitizer failure apart from hopchain's own 1 (chain failure) and 2 (usage).
reports=$PWD/build-asan/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
leaks=1
# LeakSanitizer needs ptrace-like access to the process; where the sandbox forbids it, it aborts
# every process at exit. Then leaks cannot be checked here, but everything else still is.
if ASAN_OPTIONS=detect_leaks=1 build-asan/cmd/hopchain --version 2>&1 | grep -q "LeakSanitizer has encountered a fatal error"; then
  leaks=0
  echo "LeakSanitizer does not work in this environment: running with detect_leaks=0"
fi
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:exitcode=86:detect_leaks=$leaks:check_initialization_order=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=86:log_path=$reports/ubsan"
export LSAN_OPTIONS="exitcode=86"
rc=0
$sudo ctest --test-dir build-asan --output-on-failure --timeout 900 || rc=$?
if compgen -G "$reports/*" >/dev/null; then
  for f in "$reports"/*; do
    echo "----- sanitizer report $(basename "$f") -----"
    cat "$f"
  done
  echo "sanitizer reports were written (see above)"
  rc=1
fi
echo "=== sanitizer build and tests: $((SECONDS - asan_started)) s; total $((SECONDS - started)) s ==="
exit "$rc"
