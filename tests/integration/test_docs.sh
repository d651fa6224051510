#!/bin/sh
# test_docs.sh: the documentation keeps up with the code. For every command that
# `mlc --help` lists: a page man/mlc-COMMAND.1 exists (`version`, which has no
# options, is documented in mlc(1) instead), mlc(1) names it, every long option of
# `mlc COMMAND --help` appears in its page (roff escapes such as \-\-since allowed),
# and the page renders with `man -l` without warnings (so do mlc(1) and mlc.yaml(5)).
# mlc(1) documents the shared options that `mlc --help` lists. No sim needed.
# Not here: whether what a page says is true (the other integration tests).
. tests/integration/lib.sh
[ -x "$MLC" ] || t_skip_all "no $MLC (run make first)"
MAN_DIR=${MAN_DIR:-man}

# roff source -> plain text good enough for grep: \- and \(hy to -, font changes,
# \& \% \: and \c dropped.
plain() {
  sed -e 's/\\-/-/g' -e 's/\\(hy/-/g' -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\f\[[^]]*\]//g' \
      -e 's/\\&//g' -e 's/\\%//g' -e 's/\\://g' -e 's/\\c//g' "$1"
}

# has_option PAGE OPTION: the page mentions OPTION as a whole word.
has_option() { plain "$1" | grep -Eq -- "$2([^A-Za-z0-9_-]|\$)"; }

# renders PAGE: man -l renders it, and man --warnings says nothing.
renders() {
  MANWIDTH=80 man -l "$1" >/dev/null 2>&1 || { echo "man -l $1 failed"; return 1; }
  _w=$(MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null)
  [ -z "$_w" ] || { printf '%s\n' "$_w"; return 1; }
}
HAVE_MAN=0
command -v man >/dev/null 2>&1 && HAVE_MAN=1
[ "$HAVE_MAN" = 1 ] || echo "# man not found: rendering is not checked"

help=$("$MLC" --help 2>&1)
cmds=$(printf '%s\n' "$help" | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z0-9-]*\)  .*/\1/p')
check "mlc --help lists commands" test -n "$cmds"

top="$MAN_DIR/mlc.1"
check "mlc(1) exists" test -f "$top"
for opt in $(printf '%s\n' "$help" | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
  check "mlc(1) documents the shared option $opt" has_option "$top" "$opt"
done

for cmd in $cmds; do
  page="$MAN_DIR/mlc-$cmd.1"
  usage=$("$MLC" "$cmd" --help 2>&1); rc=$?
  check_eq "mlc $cmd --help exits 0" 0 "$rc"
  if [ ! -f "$page" ] && [ "$cmd" = version ]; then
    # no options of its own: mlc(1) is its page
    check "mlc(1) documents mlc version" sh -c "sed -n '/^\.SH COMMANDS/,/^\.SH /p' '$top' | grep -q '^\.B version\$'"
    continue
  fi
  check "mlc $cmd has a man page ($page)" test -f "$page"
  [ -f "$page" ] || continue
  check "mlc(1) names mlc-$cmd(1)" sh -c "sed -e 's/\\\\-/-/g' -e 's/\\\\f[BIRP]//g' '$top' | grep -Eq 'mlc-$cmd ?\\(1\\)'"
  check "mlc-$cmd(1) has NAME, SYNOPSIS, DESCRIPTION, OPTIONS, EXIT STATUS" sh -c \
    "for s in NAME SYNOPSIS DESCRIPTION OPTIONS 'EXIT STATUS'; do grep -q \"^\\.SH \$s\\\$\" '$page' || exit 1; done"
  for opt in $(printf '%s\n' "$usage" | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
    check "mlc-$cmd(1) documents $opt" has_option "$page" "$opt"
  done
done

# the pages of mlc itself (mlc-sim(1), the test sandbox's, is not one of them)
if [ "$HAVE_MAN" = 1 ]; then
  for page in "$top" "$MAN_DIR/mlc.yaml.5" "$MAN_DIR/mlc-internals.7" $(for c in $cmds; do echo "$MAN_DIR/mlc-$c.1"; done); do
    [ -f "$page" ] && check "$page renders without warnings" renders "$page"
  done
fi
t_done
