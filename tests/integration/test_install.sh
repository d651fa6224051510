#!/bin/sh
# tests/integration/test_install.sh: `make install` into a temporary DESTDIR, then
# the installed tree is checked as a user would use it: every public header compiles
# alone as <mlc/NAME.h>; a small C program builds with `pkg-config --cflags --libs
# mlc` against the shared library (and runs, finding libmlc.so.0 by its soname) and
# statically against libmlc.a with `pkg-config --static` (Requires.private /
# Libs.private complete); `man -M` finds mlc(1) and mlc.yaml(5); the bash completion
# loads and completes a command, an action and profile names, and so does the zsh
# one when zsh is there; the installed mlc runs; `make uninstall` removes every
# file it installed and leaves no directory of its own; PREFIX=/opt/mlc installs
# under it only, with mlc.pc's prefix /opt/mlc.
# DESTDIR and pkg-config: mlc.pc names PREFIX, not DESTDIR (the staged tree is not
# where it will live); the test points pkg-config at the staged .pc and overrides
# its prefix (--define-variable=prefix=DESTDIR/PREFIX). PKG_CONFIG_SYSROOT_DIR would
# also prefix the system libraries' -I/-L (cJSON's -I/usr/include/cjson).
# Not here: the Debian package (test_deb.sh).
. "$(dirname "$0")/lib.sh"
[ -f "$BUILD/libmlc.a" ] && [ -x "$MLC" ] || t_skip_all "no $BUILD/libmlc.a (run make first)"
command -v pkg-config >/dev/null 2>&1 || t_skip_all "no pkg-config"
CC=${CC:-cc}
# make asan installs a sanitized library: programs using it are built the same way
SANFLAGS=""
ldd "$MLC" 2>/dev/null | grep -q libasan && SANFLAGS="-fsanitize=address,undefined"
T=$(mktemp -d "${TMPDIR:-/tmp}/mlc-install.XXXXXX")
trap 'rm -rf "$T"; t_cleanup' EXIT INT TERM
D="$T/dest"; P=/usr/local; R="$D$P"

make -s BUILD="$BUILD" DESTDIR="$D" PREFIX="$P" install >"$T/install.log" 2>&1
check_eq "make install DESTDIR=... PREFIX=$P: exit 0" "0" "$?"
[ -s "$T/install.log" ] && sed 's/^/# /' "$T/install.log" | tail -n 5
(cd "$D" && find . ! -type d | sort) >"$T/installed.txt"
for f in bin/mlc lib/libmlc.a lib/libmlc.so lib/libmlc.so.0 lib/pkgconfig/mlc.pc include/mlc/vault.h \
         share/man/man1/mlc.1 share/man/man5/mlc.yaml.5 share/man/man7/mlc-internals.7 share/bash-completion/completions/mlc \
         share/zsh/site-functions/_mlc share/doc/mlc/examples/mlc.yaml share/doc/mlc/examples/systemd/mlc-receipts.timer; do
  check "installed: $P/$f" test -e "$R/$f"
done
check_eq "libmlc.so.0 -> libmlc.so.VERSION" "libmlc.so.$("$MLC" --version | awk '{print $2}')" "$(readlink "$R/lib/libmlc.so.0")"
check_eq "the shared library's soname is libmlc.so.0" "libmlc.so.0" \
  "$(objdump -p "$R/lib/libmlc.so.0" 2>/dev/null | awk '$1 == "SONAME" {print $2}')"
check_eq "mlc-sim(1) is not installed (the sandbox stays in the tree)" "" "$(grep mlc-sim "$T/installed.txt")"
check_eq "nothing installed outside $P" "" "$(grep -v "^\./${P#/}/" "$T/installed.txt")"
check_eq "the installed mlc runs" "0" "$("$R/bin/mlc" --version >/dev/null 2>&1; echo $?)"

# --- headers: each compiles alone, as <mlc/NAME.h> ---------------------------------
export PKG_CONFIG_PATH="$R/lib/pkgconfig"
PC="pkg-config --define-variable=prefix=$R"
bad=""
for h in "$R"/include/mlc/*.h; do
  n=$(basename "$h")
  printf '#include <mlc/%s>\nint main(void) { return 0; }\n' "$n" >"$T/h.c"
  # shellcheck disable=SC2046
  $CC -std=c11 -Wall -Wextra -Werror -c -o "$T/h.o" "$T/h.c" $($PC --cflags mlc) 2>"$T/h.err" || bad="$bad $n"
done
check_eq "every public header compiles alone as <mlc/NAME.h> ($(ls "$R/include/mlc" | wc -l) headers)" "" "$bad"

# --- a program against the installed library -------------------------------------
cat >"$T/prog.c" <<'C'
#include <mlc/config.h>
#include <mlc/error.h>
#include <mlc/store.h>
#include <mlc/vault.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void)
{
    mlc_error err = {0};
    mlc_config *cfg = NULL;
    const char *y = "profiles:\n  acme:\n    cloudsuite:\n      cono: 100\n";
    if (mlc_config_load_string(y, strlen(y), "prog", "acme", &cfg, &err) != MLC_OK) {
        fprintf(stderr, "config: %s\n", err.msg);
        return 1;
    }
    long long cono = mlc_config_int(cfg, "cloudsuite.cono");
    mlc_config_free(cfg);
    unsigned char *sealed = NULL;
    size_t n = 0;
    if (mlc_vault_seal("{}", 2, "0123456789abcdef0123456789abcdef", MLC_VAULT_KDF_HKDF, 0, &sealed,
                       &n, &err) != MLC_OK)
        return 2;
    free(sealed);
    mlc_store *st = NULL;
    if (mlc_store_open(":memory:", 100, &st, &err) != MLC_OK) {
        fprintf(stderr, "store: %s\n", err.msg);
        return 3;
    }
    mlc_store_close(st);
    printf("cono=%lld vault=%zu bytes %s\n", cono, n, mlc_err_name(MLC_ERR_CONFIG));
    return 0;
}
C
# shellcheck disable=SC2046
$CC -std=c11 $SANFLAGS -o "$T/prog" "$T/prog.c" $($PC --cflags --libs mlc) >"$T/cc.err" 2>&1
check "a program builds with pkg-config --cflags --libs mlc" test -x "$T/prog" || sed 's/^/# /' "$T/cc.err"
out=$(LD_LIBRARY_PATH="$R/lib" "$T/prog" 2>&1)
check_eq "it runs against libmlc.so.0" "cono=100 vault=$((40 + 2 + 16)) bytes config" "$out"
check_eq "it needs libmlc.so.0 (the soname), not libmlc.so" "1" \
  "$(LD_LIBRARY_PATH="$R/lib" ldd "$T/prog" | grep -c 'libmlc\.so\.0 ')"
# static: libmlc.a plus what --static adds (mlc.pc's Requires.private and
# Libs.private). --static also follows libcurl's own private libraries, some of
# which Debian ships without a -dev link (-lldap, -lzstd): those are dropped here,
# as libcurl.so brings them anyway; a missing requirement of mlc's fails the link.
libs=""
for f in $($PC --static --libs mlc); do
  case $f in
    -lmlc) f="$R/lib/libmlc.a" ;;
    -l*) n=${f#-l}
         [ "$($CC -print-file-name="lib$n.so")" = "lib$n.so" ] &&
           [ "$($CC -print-file-name="lib$n.a")" = "lib$n.a" ] && continue ;;
  esac
  libs="$libs $f"
done
# shellcheck disable=SC2086
$CC -std=c11 $SANFLAGS -o "$T/prog-static" "$T/prog.c" $($PC --cflags mlc) $libs >"$T/cc-static.err" 2>&1
check "a program links statically with libmlc.a and pkg-config --static --libs mlc" test -x "$T/prog-static" ||
  sed 's/^/# /' "$T/cc-static.err" | tail -n 5
check_eq "the static program runs without libmlc.so" "cono=100 vault=58 bytes config" "$("$T/prog-static" 2>&1)"

# --- man pages --------------------------------------------------------------------
if command -v man >/dev/null 2>&1; then
  check_eq "man -M finds mlc(1)" "$R/share/man/man1/mlc.1" "$(man -M "$R/share/man" -w 1 mlc 2>&1)"
  check_eq "man -M finds mlc.yaml(5)" "$R/share/man/man5/mlc.yaml.5" "$(man -M "$R/share/man" -w 5 mlc.yaml 2>&1)"
  check_eq "man -M finds mlc-creds(1)" "$R/share/man/man1/mlc-creds.1" "$(man -M "$R/share/man" -w mlc-creds 2>&1)"
fi

# --- completions ------------------------------------------------------------------
cat >"$T/multi.yaml" <<'Y'
default_profile: acme
profiles:
  acme:                 # first customer
    cloudsuite: {cono: 100}
  "globex":
    shipstation:
      api: v2
  # a comment between profiles
  initech: {}
other: 1
Y
comp() { # comp WORD...: what the installed bash completion offers for the last word
  PATH="$R/bin:$PATH" bash --norc --noprofile -c '. "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _mlc
    printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' comp "$R/share/bash-completion/completions/mlc" "$@"
}
check "the bash completion loads in bash" bash --norc --noprofile -c ". '$R/share/bash-completion/completions/mlc' && complete -p mlc"
check_eq "bash completes a command: mlc pu<TAB>" "pull-pos pull-shipments push-shipments " "$(comp mlc pu)"
check_eq "bash completes an action: mlc creds <TAB>" "add list rm rotate-key " "$(comp mlc creds '')"
check_eq "bash completes options: mlc queue --s<TAB>" "--shipment --since --state " "$(comp mlc queue --s)"
check_eq "bash completes profile names from the config" "acme globex initech " \
  "$(comp mlc --config "$T/multi.yaml" --profile '')"
check_eq "bash completes profile names from \$MLC_CONFIG" "globex " "$(MLC_CONFIG="$T/multi.yaml" comp mlc --profile g)"
# zsh: the installed _mlc autoloaded from its fpath directory and called as the
# completion system calls it (words, CURRENT), with compadd and _files captured
# (they exist only inside a completion widget); what it offers is filtered by the
# word's prefix, as zsh's matching does
zcomp() { # zcomp WORD...: what the installed zsh completion offers for the last word
  PATH="$R/bin:$PATH" zsh -f -c '
    compadd() { local -a w; while (( $# )); do case $1 in --) shift; w+=("$@"); break ;; *) w+=("$1"); shift ;; esac; done; reply+=($w) }
    _files() { reply+=("<files>") }
    reply=(); fpath=("$1" $fpath); autoload -Uz _mlc; shift
    words=("$@"); CURRENT=$#
    _mlc
    print -rl -- ${(M)reply:#${words[CURRENT]}*} | sort -u | tr "\n" " "' zcomp "$R/share/zsh/site-functions" "$@"
}
if command -v zsh >/dev/null 2>&1; then
  check "the zsh completion parses (zsh -n)" zsh -n "$R/share/zsh/site-functions/_mlc"
  check_eq "zsh completes a command: mlc pu<TAB>" "pull-pos pull-shipments push-shipments " "$(zcomp mlc pu)"
  check_eq "zsh completes an action: mlc creds <TAB>" "add list rm rotate-key " "$(zcomp mlc creds '')"
  check_eq "zsh completes options: mlc queue --s<TAB>" "--shipment --since --state " "$(zcomp mlc queue --s)"
  check_eq "zsh completes profile names from the config" "acme globex initech " \
    "$(zcomp mlc --config "$T/multi.yaml" --profile '')"
  check_eq "zsh completes profile names from \$MLC_CONFIG" "globex " "$(MLC_CONFIG="$T/multi.yaml" zcomp mlc --profile g)"
  check_eq "zsh completes files after --config" "<files> " "$(zcomp mlc --config '')"
else
  echo "# skip: no zsh (Debian package zsh): the zsh completion is not run"
fi

# --- uninstall ----------------------------------------------------------------------
make -s BUILD="$BUILD" DESTDIR="$D" PREFIX="$P" uninstall >"$T/uninstall.log" 2>&1
check_eq "make uninstall: exit 0" "0" "$?"
check_eq "uninstall removed every file it installed" "" "$(cd "$D" && find . ! -type d)"
check_eq "and the directories only mlc uses" "" \
  "$(cd "$D" && find . -type d \( -name mlc -o -path '*/doc/mlc*' \))"

# --- another prefix: PREFIX=/opt/mlc -------------------------------------------------
D2="$T/dest-opt"; P2=/opt/mlc; R2="$D2$P2"
make -s BUILD="$BUILD" DESTDIR="$D2" PREFIX="$P2" install >"$T/install-opt.log" 2>&1
check_eq "make install PREFIX=$P2: exit 0" "0" "$?"
check_eq "everything under $P2" "" "$(cd "$D2" && find . ! -type d | grep -v "^\./${P2#/}/")"
for f in bin/mlc lib/libmlc.so.0 lib/pkgconfig/mlc.pc include/mlc/store.h share/man/man1/mlc.1 \
         share/zsh/site-functions/_mlc share/doc/mlc/examples/mlc.yaml; do
  check "installed: $P2/$f" test -e "$R2/$f"
done
check_eq "mlc.pc: prefix=$P2, libdir and includedir under it" "prefix=$P2 libdir=\${prefix}/lib includedir=\${prefix}/include" \
  "$(grep -E '^(prefix|libdir|includedir)=' "$R2/lib/pkgconfig/mlc.pc" | tr '\n' ' ' | sed 's/ $//')"
check_eq "pkg-config reads it as $P2 (-I$P2/include, -L$P2/lib)" "-I$P2/include -L$P2/lib -lmlc" \
  "$(PKG_CONFIG_PATH="$R2/lib/pkgconfig" pkg-config --cflags --libs mlc | tr ' ' '\n' | grep -E "^-I$P2|^-L$P2|^-lmlc$" | tr '\n' ' ' | sed 's/ $//')"
check_eq "no staging path (DESTDIR) in the installed files" "" "$(grep -rl -F "$D2" "$D2" 2>/dev/null)"
check_eq "man -M finds mlc(1) under $P2" "$R2/share/man/man1/mlc.1" "$(man -M "$R2/share/man" -w 1 mlc 2>&1)"
make -s BUILD="$BUILD" DESTDIR="$D2" PREFIX="$P2" uninstall >/dev/null 2>&1
check_eq "make uninstall PREFIX=$P2 removes it all" "" "$(cd "$D2" && find . ! -type d)"
t_done
