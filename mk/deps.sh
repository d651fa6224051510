#!/bin/sh
# mk/deps.sh: makes sure the Debian packages in mk/packages.txt are installed.
# As root it installs what is missing with apt-get; otherwise it prints the exact
# apt-get line and fails. It is not a general package manager: one list, one job.
set -eu
here=$(dirname "$0")
missing=""
while read -r mod pkg; do
  case "$mod" in ''|'#'*) continue ;; esac
  case "$mod" in
    -:*) command -v "${mod#-:}" >/dev/null 2>&1 || missing="$missing $pkg" ;;
    *)   { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$mod"; } || missing="$missing $pkg" ;;
  esac
done < "$here/packages.txt"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "mk/deps.sh: installing:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >&2
  exit 0
fi
echo "mk/deps.sh: missing packages. Install them with:" >&2
echo "  sudo apt-get install -y$missing" >&2
exit 1
