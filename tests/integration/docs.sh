#!/usr/bin/env bash
# Keeps the manual, the shell completions and the install rules in step with the binary:
# - man/hopchain.1 passes `groff -man -ww -z` without a word;
# - every long option that `hopchain --help` and each command's `--help` print (computed here,
#   at test time) appears in man/hopchain.1 and in the bash, zsh and fish completions;
# - the completions pass their shells' syntax checks (zsh and fish only where installed);
# - `cmake --install` into a DESTDIR puts binary, man page and completions in place.
set -euo pipefail

HOPCHAIN=${HOPCHAIN:?HOPCHAIN must point to the hopchain binary}
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(dirname "$(dirname "$HOPCHAIN")")
MAN=$SRC/man/hopchain.1
BASH_COMP=$SRC/completions/hopchain.bash
ZSH_COMP=$SRC/completions/_hopchain
FISH_COMP=$SRC/completions/hopchain.fish
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
pass() { echo "ok: $*"; }

for f in "$MAN" "$BASH_COMP" "$ZSH_COMP" "$FISH_COMP"; do
  [[ -f $f ]] || { echo "FAIL: missing $f" >&2; exit 1; }
done

# --- man page syntax ---------------------------------------------------------------------
if ! command -v groff >/dev/null; then
  echo "FAIL: groff is not installed (apt-get install groff-base)" >&2
  exit 1
fi
groff_out=$(groff -man -ww -z "$MAN" 2>&1) || fail "groff exited non-zero"
if [[ -n $groff_out ]]; then
  fail "groff -man -ww -z reported:"
  printf '%s\n' "$groff_out" >&2
else
  pass "groff -man -ww -z man/hopchain.1 is silent"
fi

# --- options from --help -----------------------------------------------------------------
# help_options TEXT: the long options of the option lines of CLI11 help output, one per line.
# An option line is indented and its first word starts with '-' ("-x,--via", "--open",
# "--pipeline=MODE"); footer lines (examples, URL schemes) start with other words.
help_options() {
  awk '/^[[:space:]]+-/ {
         n = split($1, names, ",")
         for (i = 1; i <= n; i++) {
           name = names[i]
           sub(/[=[].*$/, "", name)
           if (name ~ /^--[a-zA-Z0-9][a-zA-Z0-9-]*$/) print name
         }
       }'
}
# help_commands TEXT: the words listed under "Subcommands:" (or any "...ommands:" heading).
help_commands() {
  awk '/^[A-Za-z ]*[Cc]ommands:[[:space:]]*$/ { in_cmds = 1; next }
       in_cmds && /^[[:space:]]*$/ { in_cmds = 0; next }
       in_cmds && /^[[:space:]]+[a-z]/ { print $1 }
       in_cmds && /^[^[:space:]]/ { in_cmds = 0 }'
}

# (tr: CLI11 may print a NUL inside a transformer's description.)
main_help=$("$HOPCHAIN" --help | tr -d '\000')
commands=$(printf '%s\n' "$main_help" | help_commands | sort -u)
options=$(printf '%s\n' "$main_help" | help_options)
for want in stdio forward socks udp; do
  grep -qx "$want" <<<"$commands" || fail "'$want' not found among the commands of --help"
done
for cmd in $commands; do
  sub_help=$("$HOPCHAIN" "$cmd" --help | tr -d '\000') || fail "hopchain $cmd --help exited non-zero"
  options+=$'\n'$(printf '%s\n' "$sub_help" | help_options)
done
options=$(printf '%s\n' "$options" | grep -v '^$' | sort -u)
count=$(grep -c . <<<"$options")
if ((count < 8)); then
  fail "only $count long options parsed from --help; has the help format changed?"
  printf '%s\n' "$options" >&2
fi
echo "commands from --help: $(echo $commands)"
echo "long options from --help: $(echo $options)"

# has FILE REGEX: the extended regex matches somewhere in FILE (after un-escaping roff's \-).
# (grep reads all its input: with -q, an early exit would fail sed with SIGPIPE under pipefail.)
has() { sed 's/\\-/-/g' "$1" | grep -E -- "$2" >/dev/null; }
word_end='([^a-zA-Z0-9-]|$)'
for opt in $options; do
  re="(^|[^a-zA-Z0-9-])${opt}${word_end}"
  has "$MAN" "$re" || fail "man/hopchain.1 does not document $opt"
  has "$BASH_COMP" "$re" || fail "completions/hopchain.bash does not complete $opt"
  has "$ZSH_COMP" "$re" || fail "completions/_hopchain does not complete $opt"
  has "$FISH_COMP" "(^|[[:space:]])-l ${opt#--}${word_end}" ||
    fail "completions/hopchain.fish does not complete $opt (-l ${opt#--})"
done
for cmd in $commands; do
  has "$MAN" "^\.(B|BI|TP)?.*${cmd}" || fail "man/hopchain.1 does not mention the command $cmd"
  for f in "$BASH_COMP" "$ZSH_COMP" "$FISH_COMP"; do
    grep -Eq -- "(^|[^a-z])${cmd}([^a-z]|$)" "$f" || fail "$(basename "$f") does not complete the command $cmd"
  done
done
((failures == 0)) && pass "man page and completions cover every command and long option"

# --- completion syntax -------------------------------------------------------------------
if bash -n "$BASH_COMP"; then pass "bash -n hopchain.bash"; else fail "bash -n hopchain.bash"; fi
if command -v zsh >/dev/null; then
  if zsh -n "$ZSH_COMP"; then pass "zsh -n _hopchain"; else fail "zsh -n _hopchain"; fi
else
  echo "note: zsh is not installed; skipping the zsh syntax check"
fi
if command -v fish >/dev/null; then
  if fish -n "$FISH_COMP"; then pass "fish -n hopchain.fish"; else fail "fish -n hopchain.fish"; fi
else
  echo "note: fish is not installed; skipping the fish syntax check"
fi

# --- install into a DESTDIR --------------------------------------------------------------
if [[ -f $BUILD/cmake_install.cmake ]]; then
  cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }
  prefix=/usr/local
  bindir=$(cache_value CMAKE_INSTALL_BINDIR); bindir=${bindir:-bin}
  mandir=$(cache_value CMAKE_INSTALL_MANDIR); mandir=${mandir:-share/man}
  [[ $bindir == /* ]] || bindir=$prefix/$bindir
  [[ $mandir == /* ]] || mandir=$prefix/$mandir
  dest=$TMP/destdir
  if DESTDIR=$dest cmake --install "$BUILD" --prefix "$prefix" >"$TMP/install.log" 2>&1; then
    for f in "$bindir/hopchain" \
             "$mandir/man1/hopchain.1.gz" \
             "$prefix/share/doc/hopchain/copyright" \
             "$prefix/share/doc/hopchain/changelog.gz" \
             "$prefix/share/doc/hopchain/examples/chain.txt" \
             "$prefix/lib/systemd/system/hopchain@.service" \
             "$prefix/share/bash-completion/completions/hopchain" \
             "$prefix/share/zsh/vendor-completions/_hopchain" \
             "$prefix/share/fish/vendor_completions.d/hopchain.fish"; do
      [[ -s $dest$f ]] || fail "cmake --install did not install $f"
    done
    [[ -x $dest$bindir/hopchain ]] && "$dest$bindir/hopchain" --version >/dev/null ||
      fail "installed $bindir/hopchain does not run --version"
    zcat "$dest$mandir/man1/hopchain.1.gz" | cmp -s "$MAN" - ||
      fail "installed man page differs from man/hopchain.1"
    # The unit names the binary where this prefix put it, not a fixed /usr/bin.
    grep -qx "ExecStart=$bindir/hopchain -c %i \$HOPCHAIN_ARGS" "$dest$prefix/lib/systemd/system/hopchain@.service" ||
      fail "hopchain@.service does not run $bindir/hopchain"
    ((failures == 0)) && pass "cmake --install into DESTDIR puts binary, man page, completions, docs and unit in place"
  else
    cat "$TMP/install.log" >&2
    fail "cmake --install into DESTDIR failed"
  fi
else
  fail "no cmake_install.cmake in $BUILD (HOPCHAIN is not <build>/cmd/hopchain?)"
fi

if ((failures > 0)); then
  echo "docs: $failures failure(s)" >&2
  exit 1
fi
echo "docs: all checks passed"
