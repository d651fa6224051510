#!/bin/sh
# mk/deps.sh: makes sure the Debian packages in mk/packages.txt are installed.
# As root it installs what is missing with apt-get; otherwise it prints the exact
# apt-get line and fails. Then the test tooling of tests/contracts (npm packages,
# pinned by its package-lock.json) is installed there with `npm ci`, project-local;
# if that fails, CI fails (CI set), a developer gets a warning and a skipped check.
# As root, before installing the PostgreSQL server, it turns off the system cluster
# that package would create and start (see below).
# It is not a general package manager: one list, one job.
set -eu
here=$(dirname "$0")
# Under CI (the CI variable set and not "false" or "0": CI services set CI=true, and
# .ci/run does) every step must succeed; a developer's machine may go without the npm
# step (tests/run.sh then shows the contract check as skipped, never as passed).
in_ci() { case "${CI:-}" in '' | false | 0) return 1 ;; *) return 0 ;; esac; }
contracts_fail() {
  echo "mk/deps.sh: $1: the contract check (tests/integration/test_contracts.sh) cannot run" >&2
  if in_ci; then
    echo "mk/deps.sh: CI is set: a contract check that cannot run fails the build" >&2
    exit 1
  fi
  echo "mk/deps.sh: make check will show test_contracts as SKIPPED (CI would fail)" >&2
}
# npm ci in tests/contracts when node_modules is missing or older than the lock file;
# a failed npm ci leaves no node_modules behind (the next run tries again, and the
# check says SKIP rather than half-run)
contracts_npm() {
  c="$here/../tests/contracts"
  if ! command -v npm >/dev/null 2>&1; then
    contracts_fail "npm is not installed"
    return 0
  fi
  if [ ! -d "$c/node_modules" ] || [ "$c/package-lock.json" -nt "$c/node_modules" ]; then
    echo "mk/deps.sh: npm ci in tests/contracts" >&2
    if (cd "$c" && npm ci --no-audit --no-fund --loglevel=error >&2); then
      touch "$c/node_modules"
    else
      rm -rf "$c/node_modules"
      contracts_fail "npm ci failed in tests/contracts"
    fi
  fi
}
# `sh mk/deps.sh npm`: the npm step alone (tests/integration/test_ci_gates.sh)
[ "${1:-}" = npm ] && { contracts_npm; exit 0; }
missing=""
while read -r mod pkg; do
  case "$mod" in ''|'#'*) continue ;; esac
  case "$mod" in
    -:*) command -v "${mod#-:}" >/dev/null 2>&1 || missing="$missing $pkg" ;;
    *)   { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$mod"; } || missing="$missing $pkg" ;;
  esac
done < "$here/packages.txt"
[ -z "$missing" ] && { contracts_npm; exit 0; }
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "mk/deps.sh: installing:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Debian's postgresql package creates and starts a system cluster "main" in its
  # postinst unless createcluster.conf says create_main_cluster = false. The tests
  # start their own private cluster (tests/pg.sh), so that one would cost install
  # time and a running server nobody uses. The file is written only when it is
  # absent (a machine that has it, has its own setting: left alone, so this stays
  # idempotent); postgresql-common then finds it in place and keeps it (ucf keeps
  # the old file: UCF_FORCE_CONFFOLD, the template lands as .ucf-dist).
  cc=/etc/postgresql-common/createcluster.conf
  case " $missing " in
    *" postgresql "*)
      if [ ! -e "$cc" ]; then
        mkdir -p "${cc%/*}"
        printf '%s\n' "# written by mlc's mk/deps.sh: no system cluster; the tests start their own" \
          "create_main_cluster = false" >"$cc"
        export UCF_FORCE_CONFFOLD=1
      fi ;;
  esac
  apt-get update -qq >&2
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >&2
  contracts_npm
  exit 0
fi
echo "mk/deps.sh: missing packages. Install them with:" >&2
echo "  sudo apt-get install -y$missing" >&2
exit 1
