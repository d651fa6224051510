#!/bin/sh
# mk/deb.sh BUILD VERSION: builds BUILD/mlc_VERSION_ARCH.deb with Debian's own tools
# (behind `make deb`). The tool is compiled again with dpkg-buildflags (hardening)
# into BUILD/deb/obj, staged with `make install-tool PREFIX=/usr`, stripped; the
# man pages gzipped; the systemd units and timers of examples/systemd go to
# /lib/systemd/system (installed, not enabled); mk/debian/postinst creates the
# `mlc` system user (adduser) and /etc/mlc, postrm purges the state and the user.
# Depends comes from dpkg-shlibdeps on the binary and on a probe linked with the
# libraries mlc loads with dlopen (libpq, libxml2), plus adduser for postinst.
# Prints the path of the .deb on stdout.
# Not here: the shared library and headers (they would be libmlc0 / libmlc-dev;
# the tool is linked with libmlc.a), signing, uploading.
set -eu
BUILD=${1:-build}
VERSION=${2:?version}
for t in dpkg-deb dpkg-shlibdeps dpkg-architecture dpkg-buildflags; do
  command -v $t >/dev/null 2>&1 || { echo "deb: needs $t (Debian package dpkg-dev)" >&2; exit 69; }
done
ARCH=$(dpkg --print-architecture)
W="$BUILD/deb"
OBJ="$W/obj"
ROOT="$W/root"
rm -rf "$W"   # a fresh compile: make does not track the flags
mkdir -p "$ROOT/DEBIAN" "$W/shlibs/debian"

# the binary, with Debian's hardening flags (the env values are appended to by the
# Makefile's own flags)
DEB_BUILD_MAINT_OPTIONS=hardening=+all; export DEB_BUILD_MAINT_OPTIONS
CFLAGS_D=$(dpkg-buildflags --get CFLAGS)
# (the outer make's MAKEFLAGS would pass SAN=, OPT= of an asan or valgrind run: dropped)
unset MAKEFLAGS MFLAGS MAKELEVEL
CPPFLAGS=$(dpkg-buildflags --get CPPFLAGS) LDFLAGS=$(dpkg-buildflags --get LDFLAGS) \
  make -s BUILD="$OBJ" OPT="$CFLAGS_D" "$OBJ/mlc" >&2

make -s BUILD="$OBJ" DESTDIR="$ROOT" PREFIX=/usr ZSHCOMPDIR=/usr/share/zsh/vendor-completions \
  install-tool >&2
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$ROOT/usr/bin/mlc"
gzip -9n "$ROOT"/usr/share/man/man1/*.1 "$ROOT"/usr/share/man/man5/*.5 "$ROOT"/usr/share/man/man7/*.7
install -d "$ROOT/lib/systemd/system"
install -m 644 examples/systemd/* "$ROOT/lib/systemd/system/"
install -m 644 mk/debian/copyright "$ROOT/usr/share/doc/mlc/copyright"
{
  printf 'mlc (%s) unstable; urgency=medium\n\n' "$VERSION"
  printf '  * Built from the mlc source tree (%s).\n\n' "$(git log -1 --format=%h 2>/dev/null || echo unknown)"
  printf ' -- mlc maintainers <maintainers@users.noreply.github.com>  %s\n' \
    "$(date -R -u -d "@$(git log -1 --format=%ct 2>/dev/null || date +%s)")"
} | gzip -9n >"$ROOT/usr/share/doc/mlc/changelog.gz"
install -m 755 mk/debian/postinst mk/debian/postrm "$ROOT/DEBIAN/"

# Depends: the shared libraries the binary links, as dpkg-shlibdeps resolves them
printf 'Source: mlc\n\nPackage: mlc\nArchitecture: any\n' >"$W/shlibs/debian/control"
abs_root=$(cd "$ROOT" && pwd)
# libpq and libxml2 are loaded with dlopen (lib/dynlib.c), so the binary does not
# name them: a probe linked with both, calling what mlc resolves, brings their packages
cat >"$W/shlibs/dlopen-probe.c" <<'PROBE'
#include <libpq-fe.h>
#include <libxml/parser.h>
int main(int argc, char **argv)
{
    (void)argv;
    if (argc > 99) { /* never run: the references are what dpkg-shlibdeps reads */
        PQfinish(PQconnectdbParams(0, 0, 0));
        xmlFreeDoc(xmlReadMemory("", 0, "", 0, 0));
    }
    return 0;
}
PROBE
${CC:-cc} $(pkg-config --cflags libpq libxml-2.0) -o "$W/shlibs/dlopen-probe" "$W/shlibs/dlopen-probe.c" \
  $(pkg-config --libs libpq libxml-2.0)
shlibs=$(cd "$W/shlibs" && dpkg-shlibdeps -O "$abs_root/usr/bin/mlc" dlopen-probe 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

(cd "$ROOT" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) >"$ROOT/DEBIAN/md5sums"
size=$(du -k -s --exclude=DEBIAN "$ROOT" | cut -f1)
cat >"$ROOT/DEBIAN/control" <<CONTROL
Package: mlc
Version: $VERSION
Architecture: $ARCH
Maintainer: mlc maintainers <maintainers@users.noreply.github.com>
Installed-Size: $size
Depends: $shlibs, adduser
Section: net
Priority: optional
Description: Infor CloudSuite M3 <-> ShipStation connector
 mlc connects Infor CloudSuite (M3, through the ION API gateway) with
 ShipStation: purchase orders become inbound shipments, shipments become
 goods receipts posted exactly once, items and stock are kept aligned.
 Commands read and write JSON lines and are scheduled with the systemd
 timers shipped here (installed, not enabled) or cron.
CONTROL
deb="$BUILD/mlc_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$ROOT" "$deb" >&2
echo "$deb"
