#!/bin/sh
# tests/soak/both.sh: what `make soak` runs: the soak test (tests/soak/soak.sh) on
# the SQLite state, then once more on PostgreSQL (MLC_TEST_STATE=postgresql) in a
# private cluster started with tests/pg.sh and stopped afterwards. Without the
# server binaries (Debian package postgresql) the second run is skipped and says
# so; MLC_TEST_NO_PG=1 skips it on purpose. An already running cluster
# (MLC_TEST_PG_DIR, as tests/run.sh exports it) is used as it is.
# Exit status: 1 if either run failed, else 0 (a skip is printed, not a failure).
# Usage: sh tests/soak/both.sh [ITERATIONS]
# Not here: the soak itself (tests/soak/soak.sh), the cluster (tests/pg.sh).
set -u
rc=0
echo "# soak on SQLite"
MLC_TEST_STATE=sqlite sh tests/soak/soak.sh "$@" || rc=1

if [ -n "${MLC_TEST_NO_PG:-}" ]; then
  echo "skip soak on PostgreSQL: MLC_TEST_NO_PG is set"
  exit $rc
fi
if [ -n "${MLC_TEST_PG_DIR:-}" ]; then
  echo "# soak on PostgreSQL (the running cluster in $MLC_TEST_PG_DIR)"
  MLC_TEST_STATE=postgresql sh tests/soak/soak.sh "$@" || rc=1
  exit $rc
fi
if ! sh tests/pg.sh bin >/dev/null 2>&1; then
  echo "skip soak on PostgreSQL: no PostgreSQL server binaries (Debian package postgresql)"
  exit $rc
fi
# in TMPDIR: the server may run as another user, which must reach it (root: tests/pg.sh)
pgdir=$(mktemp -d "${TMPDIR:-/tmp}/mlc-pg.XXXXXX")
trap 'sh tests/pg.sh stop "$pgdir" >/dev/null 2>&1; rm -rf "$pgdir"' EXIT
trap 'exit 130' INT TERM
if ! sh tests/pg.sh start "$pgdir" >"$pgdir.start.log" 2>&1; then
  echo "not ok soak on PostgreSQL: the test cluster did not start"
  sed 's/^/    /' "$pgdir.start.log" | tail -n 20; rm -f "$pgdir.start.log"
  exit 1
fi
rm -f "$pgdir.start.log"
echo "# soak on PostgreSQL"
MLC_TEST_PG_DIR=$pgdir MLC_TEST_PG_HOST=$pgdir/sock MLC_TEST_PG_PWFILE=$pgdir/mlc_pw.password \
  MLC_TEST_STATE=postgresql sh tests/soak/soak.sh "$@" || rc=1
exit $rc
