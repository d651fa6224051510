#!/bin/sh
# tests/run.sh: runs mlc's tests and prints one summary line "N passed, N failed".
#   unit tests:        build/tests/test_*   (check; counts come from check's summary)
#   integration tests: tests/integration/test_*.sh (TAP-like "ok"/"not ok" lines;
#                      exit 77 means skipped as a whole, which is counted and shown;
#                      a part skipped for a missing tool is a "# skip: ..." line in
#                      the test's log, shown under its "ok" line);
#                      test_contracts.sh runs last: it checks the traffic the others
#                      recorded (MLC_CONTRACT_DIR) against the published contracts;
#                      its skip (no node or npm packages) is a failure under CI (CI
#                      set, not "false"/"0"), else shown as skipped with a NOTE
#   PostgreSQL:        when the server binaries are there (tests/pg.sh), one private
#                      cluster for the run: the unit tests get MLC_TEST_PG_HOST (the
#                      store's cases run on both backends), and the exactly-once
#                      integration tests in PG_TESTS run a second time with
#                      MLC_TEST_STATE=postgresql (shown as NAME[pg]). Without the
#                      binaries both are counted and shown as skipped, never as passed.
#                      The sanitized pass (a BUILD_DIR named *asan*) skips the re-runs
#                      (shown as skipped; its unit cases and test_state still use it).
#                      MLC_TEST_NO_PG=1 skips them on purpose.
# Usage: tests/run.sh [--unit-only] [BUILD_DIR]   (MLC_TEST_JOBS=N: integration tests
#        run N at a time, default 2; tests/run-one.sh runs one)
# Not here: building (make check builds first), benchmarks (bench/).
set -u
unit_only=0
[ "${1:-}" = "--unit-only" ] && { unit_only=1; shift; }
BUILD=${1:-build}
export MLC_BUILD="$BUILD"
passed=0 failed=0 skipped=0 contracts_skipped=0
# CI set and not "false"/"0" (CI services set CI=true; so does .ci/run)
in_ci() { case "${CI:-}" in '' | false | 0) return 1 ;; *) return 0 ;; esac; }
logdir=$(mktemp -d "${TMPDIR:-/tmp}/mlc-tests.XXXXXX")
pgdir=
cleanup() {
  [ -n "$pgdir" ] && { sh tests/pg.sh stop "$pgdir"; rm -rf "$pgdir"; }
  rm -rf "$logdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# the exactly-once suites (kill -9, faults, the sim's books) re-run on PostgreSQL,
# and test_status (on a shared state the ION token is cached in the state)
PG_TESTS="test_post_receipts test_in_doubt test_stop test_bod test_push_shipments test_operator test_pull_shipments test_redeliver test_redeliver_pos test_status"
pg_skip=
if [ -n "${MLC_TEST_NO_PG:-}" ]; then
  pg_skip="MLC_TEST_NO_PG is set"
elif ! sh tests/pg.sh bin >/dev/null 2>&1; then
  pg_skip="no PostgreSQL server binaries (Debian package postgresql)"
else
  # not under $logdir: the server may run as another user (root: tests/pg.sh)
  pgdir=$(mktemp -d "${TMPDIR:-/tmp}/mlc-pg.XXXXXX")
  if sh tests/pg.sh start "$pgdir" >"$logdir/pg-start.log" 2>&1; then
    MLC_TEST_PG_DIR=$pgdir MLC_TEST_PG_HOST=$pgdir/sock MLC_TEST_PG_PWFILE=$pgdir/mlc_pw.password
    export MLC_TEST_PG_DIR MLC_TEST_PG_HOST MLC_TEST_PG_PWFILE
  else
    echo "FAIL postgresql: the test cluster did not start"; sed 's/^/    /' "$logdir/pg-start.log" | tail -n 20
    failed=$((failed + 1)); rm -rf "$pgdir"; pgdir=
    pg_skip="the test cluster did not start"
  fi
fi
if [ -n "$pg_skip" ]; then
  echo "skip postgresql unit cases (test_store tcase postgresql): $pg_skip"; skipped=$((skipped + 1))
fi

for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  "$t" >"$logdir/$name.log" 2>&1
  rc=$?
  summary=$(grep -E '^[0-9]+%: Checks: ' "$logdir/$name.log" | tail -n 1)
  checks=$(echo "$summary" | sed -n 's/.*Checks: \([0-9]*\).*/\1/p')
  fails=$(echo "$summary" | sed -n 's/.*Failures: \([0-9]*\).*/\1/p')
  errs=$(echo "$summary" | sed -n 's/.*Errors: \([0-9]*\).*/\1/p')
  if [ -z "$checks" ]; then
    echo "FAIL $name (exit $rc, no check summary)"; sed 's/^/    /' "$logdir/$name.log" | tail -n 30
    failed=$((failed + 1)); continue
  fi
  bad=$((fails + errs))
  passed=$((passed + checks - bad)); failed=$((failed + bad))
  if [ "$bad" -gt 0 ] || [ "$rc" -ne 0 ]; then
    [ "$bad" -eq 0 ] && failed=$((failed + 1))
    echo "FAIL $name: $summary"; grep -E ':[EF]:' "$logdir/$name.log" | sed 's/^/    /' | head -n 30
  else
    echo "ok   $name: $summary"
  fi
done

if [ "$unit_only" = 0 ]; then
  # every test's sim traffic is kept here; test_contracts.sh (last) checks it all
  MLC_CONTRACT_DIR="$logdir/contracts"; export MLC_CONTRACT_DIR
  pg_runs=
  if [ -n "$pg_skip" ]; then
    echo "skip postgresql integration re-runs ($PG_TESTS): $pg_skip"; skipped=$((skipped + 1))
  elif case "$BUILD" in *asan*) true ;; *) false ;; esac; then
    # about 3 minutes more under the sanitizers for the same protocol: the sanitized
    # pass keeps the PostgreSQL unit cases and test_state; make check runs these
    echo "skip postgresql integration re-runs ($PG_TESTS): the sanitized pass ($BUILD); make check runs them"
    skipped=$((skipped + 1))
  else
    for n in $PG_TESTS; do pg_runs="$pg_runs tests/integration/$n.sh@pg"; done
  fi
  # run in a pool of MLC_TEST_JOBS (default 2) at once: the tests mostly wait (on
  # backoffs, settle windows, kill timing), each has its own sim, port and
  # directories, so two at a time halve the wall time; reported in order below
  list=
  for t in $(ls tests/integration/test_*.sh | grep -v '/test_contracts\.sh$') $pg_runs; do list="$list $t"; done
  printf '%s\n' $list | xargs -P "${MLC_TEST_JOBS:-2}" -n 1 sh tests/run-one.sh "$logdir"
  sh tests/run-one.sh "$logdir" tests/integration/test_contracts.sh
  for t in $list tests/integration/test_contracts.sh; do
    backend=sqlite
    case "$t" in *@pg) t=${t%@pg}; backend=postgresql ;; esac
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    [ "$backend" = postgresql ] && name="$name[pg]"
    rc=$(cat "$logdir/$name.rc" 2>/dev/null || echo 255)
    secs=$(cat "$logdir/$name.secs" 2>/dev/null || echo '?')
    ok=$(grep -c '^ok ' "$logdir/$name.log")
    notok=$(grep -c '^not ok ' "$logdir/$name.log")
    if [ "$rc" = 77 ] && [ "$name" = test_contracts ] && in_ci; then
      # under CI the contract check must run: a skip would let traffic off the
      # published contracts pass unseen (mk/deps.sh installs node and its packages)
      echo "FAIL $name: skipped under CI (CI=$CI): $(tail -n 1 "$logdir/$name.log")"
      failed=$((failed + 1)); continue
    fi
    if [ "$rc" = 77 ]; then
      echo "skip $name: $(tail -n 1 "$logdir/$name.log")"; skipped=$((skipped + 1))
      [ "$name" = test_contracts ] && contracts_skipped=1
      continue
    fi
    passed=$((passed + ok)); failed=$((failed + notok))
    if [ "$rc" -ne 0 ] || [ "$notok" -gt 0 ] || [ "$ok" -eq 0 ]; then
      [ "$notok" -eq 0 ] && failed=$((failed + 1))
      echo "FAIL $name: $ok ok, $notok not ok, exit $rc (${secs} s)"; grep -v '^ok ' "$logdir/$name.log" | sed 's/^/    /' | tail -n 40
    else
      echo "ok   $name: $ok checks (${secs} s)"
      # the parts a test skipped (a tool missing): shown, never counted as passed
      grep '^# skip' "$logdir/$name.log" | sed 's/^# /     /'
    fi
  done
fi

[ "$contracts_skipped" = 1 ] &&
  echo "NOTE: the contract check (test_contracts) did NOT run: sh mk/deps.sh installs node and its npm packages; under CI this is a failure"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
