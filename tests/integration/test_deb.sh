#!/bin/sh
# tests/integration/test_deb.sh: `make deb` builds mlc_VERSION_ARCH.deb with
# dpkg-deb; the test checks its control fields (name, version, architecture,
# Depends naming the package of every shared library the binary needs, adduser for
# the postinst), its file list (the tool, gzipped man pages, completions, copyright,
# the systemd units and timers in /lib/systemd/system and none enabled), the
# maintainer scripts (the `mlc` system user the units run as, purge), unpacks it
# with dpkg-deb -x and runs `mlc --version` and `mlc help` from it; lintian, when
# installed, must run to the end (exit 0 with --fail-on error, nothing but tags on
# its output) and report no error (E:); without it the skip is shown. With MLC_TEST_DEB_INSTALL=1 (CI, root) it is
# also installed with dpkg -i (user, directories, tool) and purged (all gone).
# Not here: make install (test_install.sh).
. "$(dirname "$0")/lib.sh"
[ -x "$MLC" ] || t_skip_all "no $MLC (run make first)"
# make asan runs every test again with sanitized binaries; the package is built from its
# own unsanitized compile (mk/deb.sh), so that pass would repeat this test unchanged
case "$BUILD" in *asan*) t_skip_all "the package does not use the sanitized build ($BUILD): checked by make check" ;; esac
command -v dpkg-deb >/dev/null 2>&1 && command -v dpkg-shlibdeps >/dev/null 2>&1 ||
  t_skip_all "no dpkg-deb / dpkg-shlibdeps (Debian package dpkg-dev)"
T=$(mktemp -d "${TMPDIR:-/tmp}/mlc-deb.XXXXXX")
trap 'rm -rf "$T"; t_cleanup' EXIT INT TERM
VERSION=$("$MLC" --version | awk '{print $2}')
ARCH=$(dpkg --print-architecture)

deb=$(make -s --no-print-directory BUILD="$BUILD" deb 2>"$T/make.err"); rc=$?
check_eq "make deb: exit 0" "0" "$rc" || sed 's/^/# /' "$T/make.err" | tail -n 10
check_eq "make deb names mlc_<version>_<arch>.deb" "$BUILD/mlc_${VERSION}_${ARCH}.deb" "$deb"
[ -f "$deb" ] || { t_fail "no package"; t_done; exit 1; }

field() { dpkg-deb -f "$deb" "$1"; }
check_eq "Package: mlc" "mlc" "$(field Package)"
check_eq "Version: $VERSION" "$VERSION" "$(field Version)"
check_eq "Architecture: $ARCH" "$ARCH" "$(field Architecture)"
check "Maintainer and Description set" test -n "$(field Maintainer)" -a -n "$(field Description)"
depends=$(field Depends)
check_eq "Depends has adduser (postinst)" "1" "$(printf '%s\n' "$depends" | tr ',' '\n' | grep -c '^ *adduser')"

dpkg-deb -x "$deb" "$T/x"
dpkg-deb -e "$deb" "$T/ctl"
# every shared library the binary needs belongs to a package Depends names
missing=""
for lib in $(objdump -p "$T/x/usr/bin/mlc" | awk '$1 == "NEEDED" {print $2}'); do
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')
  pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -n 1 | cut -d: -f1)
  [ -z "$pkg" ] && pkg=$(dpkg -S "$path" 2>/dev/null | head -n 1 | cut -d: -f1)
  printf '%s\n' "$depends" | tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep -qx "$pkg" || missing="$missing $lib($pkg)"
done
check_eq "Depends covers every NEEDED library of usr/bin/mlc" "" "$missing"
# and the libraries mlc loads with dlopen when a run needs them (not NEEDED)
missing=""
for lib in libpq.so.5 libxml2.so.2; do
  strings "$T/x/usr/bin/mlc" | grep -qx "$lib" || { missing="$missing $lib(not named in the binary)"; continue; }
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')
  pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -n 1 | cut -d: -f1)
  printf '%s\n' "$depends" | tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep -qx "$pkg" || missing="$missing $lib($pkg)"
done
check_eq "Depends covers libpq.so.5 and libxml2.so.2 (dlopen)" "" "$missing"

# --- files -------------------------------------------------------------------------
(cd "$T/x" && find . ! -type d | sed 's|^\./||' | sort) >"$T/files"
for f in usr/bin/mlc usr/share/man/man1/mlc.1.gz usr/share/man/man5/mlc.yaml.5.gz \
         usr/share/bash-completion/completions/mlc usr/share/zsh/vendor-completions/_mlc \
         usr/share/doc/mlc/copyright usr/share/doc/mlc/changelog.gz usr/share/doc/mlc/examples/mlc.yaml; do
  check "package holds /$f" grep -qx "$f" "$T/files"
done
units=""
for u in examples/systemd/*; do
  n=$(basename "$u")
  cmp -s "$u" "$T/x/lib/systemd/system/$n" || units="$units $n"
done
check_eq "every unit and timer of examples/systemd is in /lib/systemd/system" "" "$units"
check_eq "no unit enabled by the package (no .wants links, no /etc files)" "" "$(grep -E '\.wants/|^etc/' "$T/files")"
check_eq "no uncompressed man page" "" "$(grep -E '^usr/share/man/.*\.[0-9]$' "$T/files")"
check_eq "the units run as the mlc user" "$(ls examples/systemd/*.service | wc -l)" \
  "$(grep -l '^User=mlc$' "$T"/x/lib/systemd/system/*.service | wc -l)"
check "postinst creates the mlc system user" grep -q 'adduser --system .*mlc' "$T/ctl/postinst"
check "postinst does not enable or start units" sh -c "! grep -v '^ *#' '$T/ctl/postinst' | grep -Eq 'systemctl .*(enable|start)'"
check "postrm purge removes the user and the state" sh -c "grep -q purge '$T/ctl/postrm' && grep -q 'deluser --system' '$T/ctl/postrm' && grep -q /var/lib/mlc '$T/ctl/postrm'"
check "maintainer scripts parse (sh -n)" sh -c "sh -n '$T/ctl/postinst' && sh -n '$T/ctl/postrm'"
check_eq "md5sums lists every file" "$(wc -l <"$T/files")" "$(wc -l <"$T/ctl/md5sums")"

# --- it runs from the unpacked tree -----------------------------------------------
check_eq "unpacked: mlc --version" "mlc $VERSION" "$("$T/x/usr/bin/mlc" --version 2>&1)"
out=$("$T/x/usr/bin/mlc" help 2>&1); rc=$?
check_eq "unpacked: mlc help exits 0" "0" "$rc"
check "unpacked: mlc help lists the commands" sh -c 'printf "%s\n" "$1" | grep -q "^Commands:"' sh "$out"
check "unpacked: the binary is stripped" sh -c "! objdump -h '$T/x/usr/bin/mlc' | grep -q '\.debug_info'"

# --- installed for real (CI only: it adds a user and files to this machine) ----------
if [ "${MLC_TEST_DEB_INSTALL:-}" = 1 ] && [ "$(id -u)" = 0 ] && ! dpkg -s mlc >/dev/null 2>&1 &&
   ! getent passwd mlc >/dev/null; then
  dpkg -i "$deb" >"$T/dpkg-i.out" 2>&1
  check_eq "dpkg -i installs it" "0" "$?" || sed 's/^/# /' "$T/dpkg-i.out" | tail -n 5
  check_eq "postinst made the mlc system user" "/var/lib/mlc" "$(getent passwd mlc | cut -d: -f6)"
  check_eq "/etc/mlc root:mlc 750, /var/lib/mlc mlc:mlc 750" "root:mlc:750 mlc:mlc:750" \
    "$(stat -c %U:%G:%a /etc/mlc) $(stat -c %U:%G:%a /var/lib/mlc)"
  check_eq "installed: mlc --version" "mlc $VERSION" "$(/usr/bin/mlc --version 2>&1)"
  check_eq "no unit enabled" "" "$(find /etc/systemd/system -name 'mlc-*' 2>/dev/null)"
  dpkg --purge mlc >"$T/dpkg-p.out" 2>&1
  check_eq "dpkg --purge removes it" "0" "$?"
  check_eq "purge removed the user, /etc/mlc, /var/lib/mlc and the tool" "" \
    "$(getent passwd mlc; ls -d /etc/mlc /var/lib/mlc /usr/bin/mlc 2>/dev/null)"
else
  echo "# skip: not installed on this machine (MLC_TEST_DEB_INSTALL=1, as root, without an mlc user or package)"
fi

# --- lintian ------------------------------------------------------------------------
# --fail-on error: exit 2 when it finds an error; any other failure of lintian itself
# (a crash, an unreadable package) is a nonzero exit or a line that is not a tag
# (X: or an N: explanation): each fails the check, not only E: lines
if command -v lintian >/dev/null 2>&1; then
  lintian --allow-root --fail-on error "$deb" >"$T/lintian.out" 2>&1; rc=$?
  check_eq "lintian ran to the end and found no error (exit 0)" "0" "$rc" || sed 's/^/# /' "$T/lintian.out" | tail -n 20
  check_eq "lintian reports no error (E:)" "" "$(grep '^E:' "$T/lintian.out")"
  check_eq "lintian printed nothing but tags (no crash or complaint of its own)" "" \
    "$(grep -Ev '^([EWIPXOC]: [^ ]+: |N:)' "$T/lintian.out")"
  grep -E '^[WI]:' "$T/lintian.out" | sed 's/^/# lintian: /'
else
  echo "# skip: lintian not installed (Debian package lintian): the package is not linted"
fi
t_done
