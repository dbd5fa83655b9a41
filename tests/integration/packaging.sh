#!/usr/bin/env bash
# Proves the Debian package: `cpack -G DEB` from this build tree gives a .deb whose binary is
# stripped and runs, with the man page gzipped, the copyright and changelog in
# /usr/share/doc/hopchain, the examples beside them, and hopchain@.service naming /usr/bin; lintian
# finds no error in it, and systemd-analyze (where systemd is installed) accepts the unit.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../support/lab.sh
source "${HC_SUPPORT:?HC_SUPPORT must point to tests/support}/lab.sh"
lab_init
require_hopchain
lab_require cpack dpkg-deb lintian readelf

BUILD=$(dirname "$(dirname "$HOPCHAIN")")
[[ -f $BUILD/CPackConfig.cmake ]] || fail "no CPackConfig.cmake in $BUILD"
# A package of its own, in the lab, so that nothing lands in the build tree.
timeout -k 5 300 cpack --config "$BUILD/CPackConfig.cmake" -G DEB -B "$LAB/pkg" >"$LAB/cpack.log" 2>&1 || {
  cat "$LAB/cpack.log" >&2
  fail "cpack -G DEB failed"
}
deb=$(find "$LAB/pkg" -maxdepth 1 -name 'hopchain_*.deb' | head -n 1)
[[ -n $deb ]] || fail "cpack made no hopchain_*.deb"
note "package: $(basename "$deb"), $(stat -c %s "$deb") bytes"

dpkg-deb -c "$deb" >"$LAB/contents"
for f in ./usr/bin/hopchain ./usr/share/man/man1/hopchain.1.gz ./usr/share/doc/hopchain/copyright \
  ./usr/share/doc/hopchain/changelog.gz ./usr/share/doc/hopchain/examples/chain.txt \
  ./usr/share/doc/hopchain/examples/hopchain@.service.in ./usr/lib/systemd/system/hopchain@.service \
  ./usr/share/bash-completion/completions/hopchain ./usr/share/zsh/vendor-completions/_hopchain \
  ./usr/share/fish/vendor_completions.d/hopchain.fish; do
  grep -q " $f\$" "$LAB/contents" || {
    cat "$LAB/contents" >&2
    fail "the package lacks $f"
  }
done
if grep -q ' ./usr/share/man/man1/hopchain.1$' "$LAB/contents"; then
  fail "the man page is not gzipped"
fi
note "ok: dpkg-deb -c lists binary, gzipped man page, copyright, changelog, examples, unit, completions"

dpkg-deb -x "$deb" "$LAB/root"
if readelf -S "$LAB/root/usr/bin/hopchain" | grep -q '\.debug_info'; then
  fail "the packaged binary carries debug info"
fi
"$LAB/root/usr/bin/hopchain" --version >/dev/null || fail "the packaged binary does not run"
size=$(stat -c %s "$LAB/root/usr/bin/hopchain")
note "ok: the packaged binary is stripped ($size bytes) and runs"
zcat "$LAB/root/usr/share/man/man1/hopchain.1.gz" | cmp -s - "$HC_SUPPORT/../../man/hopchain.1" ||
  fail "the packaged man page differs from man/hopchain.1"
grep -qx 'ExecStart=/usr/bin/hopchain -c %i $HOPCHAIN_ARGS' "$LAB/root/usr/lib/systemd/system/hopchain@.service" ||
  fail "hopchain@.service does not run /usr/bin/hopchain"
note "ok: man page and unit as built"

timeout -k 5 300 lintian --no-tag-display-limit "$deb" >"$LAB/lintian.out" 2>&1 || true
if grep -E '^E: ' "$LAB/lintian.out"; then
  fail "lintian reports errors"
fi
note "ok: lintian: no error ($(grep -c '^[WI]: ' "$LAB/lintian.out" || true) warnings or notes)"

if command -v systemd-analyze >/dev/null; then
  unit=$LAB/root/usr/lib/systemd/system/hopchain@work.service
  cp "$LAB/root/usr/lib/systemd/system/hopchain@.service" "$unit"
  systemd-analyze verify --root="$LAB/root" --man=no "$unit" >"$LAB/verify.out" 2>&1 || true
  # A root without systemd's own units cannot resolve the targets; anything else is the unit's.
  if grep -v -e 'sysinit.target' -e 'network-online.target' -e 'multi-user.target' "$LAB/verify.out" |
    grep -q .; then
    cat "$LAB/verify.out" >&2
    fail "systemd-analyze verify complains about hopchain@.service"
  fi
  note "ok: systemd-analyze verify accepts hopchain@.service"
else
  note "systemd-analyze is not installed: the unit's syntax was not verified"
fi
