#!/bin/sh
# test_ci_gates.sh (issue 16): a contract check that cannot run must not pass CI.
#  - mk/deps.sh's npm step (`sh mk/deps.sh npm`): a failed `npm ci` in tests/contracts
#    fails under CI (CI=true) and leaves no half-installed node_modules; without CI
#    (or CI=false) it warns that the check will be skipped and exits 0;
#  - tests/run.sh: test_contracts skipped (exit 77) is a failure under CI, and for a
#    developer a skip shown as such, with a NOTE, never a pass.
# Both run on copies in a temporary tree (a fake npm on PATH, a stub test_contracts
# that skips): nothing here installs anything or runs the real suite.
# Not here: the contract check itself (test_contracts.sh).
. tests/integration/lib.sh
T=$(mktemp -d "${TMPDIR:-/tmp}/mlc-ci.XXXXXX")
trap 'rm -rf "$T"' EXIT

# ---- mk/deps.sh: the npm step
mkdir -p "$T/d/mk" "$T/d/tests/contracts" "$T/bin"
cp mk/deps.sh mk/packages.txt "$T/d/mk/"
cp tests/contracts/package.json tests/contracts/package-lock.json "$T/d/tests/contracts/"
# a failing npm ci that leaves a half-made node_modules, as an interrupted download does
cat >"$T/bin/npm" <<'EOF'
#!/bin/sh
mkdir -p node_modules/ajv
echo "npm ERR! network request to https://registry.npmjs.org/ajv failed" >&2
exit 1
EOF
chmod +x "$T/bin/npm"
deps() { (cd "$T/d" && PATH="$T/bin:$PATH" sh mk/deps.sh npm) >"$T/deps.out" 2>&1; }
CI=true deps; rc=$?
check "deps.sh, CI=true: a failed npm ci fails (exit $rc)" test "$rc" -ne 0
check "deps.sh, CI=true: the message says the contract check cannot run" \
  grep -q "npm ci failed in tests/contracts: the contract check .* cannot run" "$T/deps.out"
check "deps.sh: no half-installed node_modules left behind" test ! -e "$T/d/tests/contracts/node_modules"
env -u CI sh -c "cd '$T/d' && PATH='$T/bin:$PATH' sh mk/deps.sh npm" >"$T/deps.out" 2>&1; rc=$?
check_eq "deps.sh, no CI: a developer goes on (exit 0)" 0 "$rc"
check "deps.sh, no CI: warned that test_contracts will be SKIPPED" grep -q "test_contracts as SKIPPED" "$T/deps.out"
CI=false deps; rc=$?
check_eq "deps.sh, CI=false: as without CI (exit 0)" 0 "$rc"
printf '#!/bin/sh\nmkdir -p node_modules/ajv\n' >"$T/bin/npm"
CI=true deps; rc=$?
check_eq "deps.sh, CI=true: a working npm ci passes (exit 0)" 0 "$rc"
check "deps.sh: and node_modules is there" test -d "$T/d/tests/contracts/node_modules/ajv"

# ---- tests/run.sh: test_contracts skipped
mkdir -p "$T/r/tests/integration" "$T/r/build/tests"
cp tests/run.sh tests/run-one.sh tests/pg.sh "$T/r/tests/"
printf '#!/bin/sh\necho "ok 1 - something else"\n' >"$T/r/tests/integration/test_other.sh"
printf '#!/bin/sh\necho "skip: SKIP: node is not installed: the contract check did NOT run"\nexit 77\n' \
  >"$T/r/tests/integration/test_contracts.sh"
run() { (cd "$T/r" && MLC_TEST_NO_PG=1 sh tests/run.sh build) >"$T/run.out" 2>&1; }
CI=true run; rc=$?
check "run.sh, CI=true: a skipped contract check fails the run (exit $rc)" test "$rc" -ne 0
check "run.sh, CI=true: it says so" grep -q "^FAIL test_contracts: skipped under CI" "$T/run.out"
check "run.sh, CI=true: counted as failed" grep -q "^1 passed, 1 failed" "$T/run.out"
env -u CI sh -c "cd '$T/r' && MLC_TEST_NO_PG=1 sh tests/run.sh build" >"$T/run.out" 2>&1; rc=$?
check_eq "run.sh, no CI: a developer's make check passes (exit 0)" 0 "$rc"
check "run.sh, no CI: test_contracts shown as skipped, not passed" grep -q "^skip test_contracts: " "$T/run.out"
check "run.sh, no CI: a NOTE says the contract check did NOT run" \
  grep -q "^NOTE: the contract check (test_contracts) did NOT run" "$T/run.out"
check "run.sh, no CI: the summary counts the skip (with the two PostgreSQL skips)" grep -q "^1 passed, 0 failed, 3 skipped" "$T/run.out"
t_done
