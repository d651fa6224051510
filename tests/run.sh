#!/bin/sh
# tests/run.sh: runs mlc's tests and prints one summary line "N passed, N failed".
#   unit tests:        build/tests/test_*   (check; counts come from check's summary)
#   integration tests: tests/integration/test_*.sh (TAP-like "ok"/"not ok" lines;
#                      exit 77 means skipped as a whole, which is counted and shown);
#                      test_contracts.sh runs last: it checks the traffic the others
#                      recorded (MLC_CONTRACT_DIR) against the published contracts
# Usage: tests/run.sh [--unit-only] [BUILD_DIR]
# Not here: building (make check builds first), benchmarks (bench/).
set -u
unit_only=0
[ "${1:-}" = "--unit-only" ] && { unit_only=1; shift; }
BUILD=${1:-build}
export MLC_BUILD="$BUILD"
passed=0 failed=0 skipped=0
logdir=$(mktemp -d "${TMPDIR:-/tmp}/mlc-tests.XXXXXX")
trap 'rm -rf "$logdir"' EXIT

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
  for t in $(ls tests/integration/test_*.sh | grep -v '/test_contracts\.sh$') tests/integration/test_contracts.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    sh "$t" >"$logdir/$name.log" 2>&1
    rc=$?
    ok=$(grep -c '^ok ' "$logdir/$name.log")
    notok=$(grep -c '^not ok ' "$logdir/$name.log")
    if [ "$rc" = 77 ]; then
      echo "skip $name: $(tail -n 1 "$logdir/$name.log")"; skipped=$((skipped + 1)); continue
    fi
    passed=$((passed + ok)); failed=$((failed + notok))
    if [ "$rc" -ne 0 ] || [ "$notok" -gt 0 ] || [ "$ok" -eq 0 ]; then
      [ "$notok" -eq 0 ] && failed=$((failed + 1))
      echo "FAIL $name: $ok ok, $notok not ok, exit $rc"; grep -v '^ok ' "$logdir/$name.log" | sed 's/^/    /' | tail -n 40
    else
      echo "ok   $name: $ok checks"
    fi
  done
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
