#!/bin/sh
# tests/run-one.sh: runs one integration test for tests/run.sh (which runs several
# at once through xargs -P): its output to LOGDIR/NAME.log, its exit code to
# NAME.rc and its wall time in seconds to NAME.secs. TEST ending in "@pg" runs on
# PostgreSQL (MLC_TEST_STATE=postgresql) and is named NAME[pg].
# Usage: sh tests/run-one.sh LOGDIR TEST
# Not here: counting or reporting (tests/run.sh reads the files, in order).
logdir=$1 t=$2
backend=sqlite
case "$t" in *@pg) t=${t%@pg}; backend=postgresql ;; esac
[ -f "$t" ] || exit 0
name=$(basename "$t" .sh)
[ "$backend" = postgresql ] && name="$name[pg]"
start=$(date +%s)
MLC_TEST_STATE=$backend sh "$t" >"$logdir/$name.log" 2>&1
echo $? >"$logdir/$name.rc"
echo $(($(date +%s) - start)) >"$logdir/$name.secs"
exit 0
