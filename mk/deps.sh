#!/bin/sh
# mk/deps.sh: makes sure the Debian packages in mk/packages.txt are installed.
# As root it installs what is missing with apt-get; otherwise it prints the exact
# apt-get line and fails. Then the test tooling of tests/contracts (npm packages,
# pinned by its package-lock.json) is installed there with `npm ci`, project-local.
# It is not a general package manager: one list, one job.
set -eu
here=$(dirname "$0")
# npm ci in tests/contracts when node_modules is missing or older than the lock file
contracts_npm() {
  c="$here/../tests/contracts"
  command -v npm >/dev/null 2>&1 || return 0
  if [ ! -d "$c/node_modules" ] || [ "$c/package-lock.json" -nt "$c/node_modules" ]; then
    echo "mk/deps.sh: npm ci in tests/contracts" >&2
    (cd "$c" && npm ci --no-audit --no-fund --loglevel=error >&2) && touch "$c/node_modules"
  fi
}
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
  apt-get update -qq >&2
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >&2
  contracts_npm
  exit 0
fi
echo "mk/deps.sh: missing packages. Install them with:" >&2
echo "  sudo apt-get install -y$missing" >&2
exit 1
