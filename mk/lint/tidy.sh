#!/bin/sh
# mk/lint/tidy.sh CLANG_TIDY [OPTIONS] FILES... -- FLAGS: runs clang-tidy quietly
# for make lint: findings on stdout, its stderr minus the "N warnings generated"
# counts (what .clang-tidy filters out), its exit status.  Not a general wrapper.
err=$(mktemp) || exit 2
tidy=$1
shift
"$tidy" --quiet "$@" 2>"$err"
rc=$?
grep -v 'warnings\{0,1\} generated' "$err" >&2
rm -f "$err"
exit $rc
