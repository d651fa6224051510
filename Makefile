# mlc: build, test, demo, bench.  `make help` lists the targets.
# Sources are found by glob: lib/*.c -> libmlc, cmd/*.c -> mlc, tests/sim/*.c -> mlc-sim,
# tests/unit/test_*.c -> one check binary each. Adding a file needs no Makefile edit.

VERSION   := 0.1.0
BUILD     ?= build
CC        ?= cc
PKGS      := libcurl libcjson yaml-0.1 openssl sqlite3 libpq libmicrohttpd libxml-2.0
SAN       ?=
DEPS_OK   := $(BUILD)/.deps-ok
# pkg-config runs only after mk/deps.sh made sure the packages exist.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# libpq and libxml2 are loaded at run time by the library (lib/dynlib.c) when a run
# needs them (a PostgreSQL state, BOD receipts), so mlc, libmlc.so and the bench
# harnesses do not link them: linked, they cost every process ~2 MiB of peak RSS
# (libxml2 brings ICU and libstdc++). Their headers still come from PKG_CFLAGS; unit
# tests and mlc-sim, which call them directly, link everything.
DLOPEN_PKGS := libpq libxml-2.0
TOOL_LIBS  = $(shell pkg-config --libs $(filter-out $(DLOPEN_PKGS),$(PKGS)) 2>/dev/null) -ldl
CHECK_LIBS = $(shell pkg-config --cflags --libs check 2>/dev/null)

OPT      ?= -O2 -g
# snprintf truncation is how messages are bounded on purpose: that warning stays off.
CFLAGS   += $(OPT) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-format-truncation -fPIC -Ilib $(SAN)
CPPFLAGS += -DMLC_VERSION=\"$(VERSION)\"
LDFLAGS  += $(SAN)

LIB_SRC  := $(sort $(wildcard lib/*.c))
CMD_SRC  := $(sort $(wildcard cmd/*.c))
SIM_SRC  := $(sort $(wildcard tests/sim/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ  := $(CMD_SRC:%.c=$(BUILD)/%.o)
SIM_OBJ  := $(SIM_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all check unit demo demo-bod bench fuzz clean help asan deps man soak m3-table
all: $(BUILD)/mlc $(BUILD)/libmlc.a $(BUILD)/libmlc.so $(BUILD)/mlc-sim $(BUILD)/mlc.pc

help:
	@echo "make            build build/mlc, build/libmlc.{a,so}, build/mlc-sim"
	@echo "make check      run every test (unit, sim, integration); prints a summary"
	@echo "make unit       unit tests only"
	@echo "make asan       every test (unit and integration) under ASan+UBSan (in build-asan/)"
	@echo "make demo       run the whole job against a local mlc-sim sandbox"
	@echo "make demo-bod   the same with receipts as BODs through ION (receipts.transport: bod)"
	@echo "make bench      benchmarks (bench/), results in bench/results.json"
	@echo "make soak       soak test: all subcommands under 20% faults, SQLite then PostgreSQL (SOAK_ITERATIONS=N)"
	@echo "make install    install mlc, libmlc, headers, mlc.pc, man pages, completions, examples"
	@echo "                (PREFIX=/usr/local, DESTDIR=); make uninstall removes them"
	@echo "make deb        build/mlc_$(VERSION)_<arch>.deb (dpkg-deb; systemd units, mlc user)"
	@echo "make m3-table   regenerate lib/m3_table.c from tests/contracts/m3-transactions.json"
	@echo "make clean      remove build outputs"

deps: $(DEPS_OK)
$(DEPS_OK): mk/deps.sh mk/packages.txt tests/contracts/package-lock.json
	@mkdir -p $(@D)
	@sh mk/deps.sh
	@touch $@

$(BUILD)/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libmlc.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# the shared library carries a soname (major version 0 while the API settles):
# libmlc.so.0.1.0, with libmlc.so.0 (run time) and libmlc.so (link time) beside it
SOMAJOR   := 0
SONAME    := libmlc.so.$(SOMAJOR)
$(BUILD)/libmlc.so.$(VERSION): $(LIB_OBJ)
	$(CC) -shared $(LDFLAGS) -Wl,-soname,$(SONAME) -o $@ $^ $(TOOL_LIBS) -lm
$(BUILD)/libmlc.so: $(BUILD)/libmlc.so.$(VERSION)
	ln -sf libmlc.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf libmlc.so.$(VERSION) $@

$(BUILD)/mlc: $(CMD_OBJ) $(BUILD)/libmlc.a
	$(CC) $(LDFLAGS) -o $@ $(CMD_OBJ) $(BUILD)/libmlc.a $(TOOL_LIBS) -lm

# mlc-sim reads the V2 contract from the repository's copy unless --contract says otherwise
$(BUILD)/tests/sim/sim_main.o: CPPFLAGS += -DSIM_CONTRACT_FILE='"$(abspath tests/contracts/shipstation-v2-openapi.yaml)"'
# mlc-sim shares no code with the client (a misunderstanding of an API shared by both
# sides would pass every test): it is compiled without -Ilib and linked without libmlc.
$(SIM_OBJ): CFLAGS := $(filter-out -Ilib,$(CFLAGS))
$(BUILD)/mlc-sim: $(SIM_OBJ)
	$(CC) $(LDFLAGS) -o $@ $(SIM_OBJ) $(PKG_LIBS) -lm

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libmlc.a | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libmlc.a $(PKG_LIBS) $(CHECK_LIBS) -lm

$(BUILD)/bench/%: bench/%.c $(BUILD)/libmlc.a | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(BUILD)/libmlc.a $(TOOL_LIBS) -lm

unit: all $(TEST_BIN)
	@sh tests/run.sh --unit-only $(BUILD)

check: all $(TEST_BIN)
	@sh tests/run.sh $(BUILD)

asan:
	$(MAKE) BUILD=build-asan SAN="-fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=undefined" OPT="-O1 -g" check

soak: all
	@sh tests/soak/both.sh $(SOAK_ITERATIONS)

demo: all
	@sh examples/demo.sh $(BUILD)

demo-bod: all
	@sh examples/demo-bod.sh $(BUILD)

bench: all $(BENCH_BIN)
	@sh bench/run.sh $(BUILD)

clean:
	rm -rf build build-asan

# lib/m3_table.c is generated from the M3 catalogue and checked in (as SQLite keeps
# mkkeywordhash.c beside its output); tests/integration/test_m3_table.sh (make check)
# fails when the checked-in file is not the generator's output
m3-table:
	sh mk/gen-m3-table.sh tests/contracts/m3-transactions.json >lib/m3_table.c.tmp
	mv lib/m3_table.c.tmp lib/m3_table.c

# ---------------------------------------------------------------- install (issue 19)
# make install / uninstall [PREFIX=/usr/local] [DESTDIR=]: the tool, the library
# (static, and shared with its soname links), every lib/*.h as <mlc/NAME.h> (each
# compiles on its own; the test checks it), mlc.pc, the man pages (mlc-sim(1) is the
# sandbox's and stays in the tree), bash and zsh completions, the examples.
# uninstall removes exactly these files, then the directories only mlc uses.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
DOCDIR      ?= $(DATADIR)/doc/mlc
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR  ?= $(DATADIR)/zsh/site-functions
INSTALL     ?= install
# lib/db_impl.h is internal to libmlc (the two SQL engines share it): not installed
PUB_H     := $(filter-out lib/db_impl.h,$(sort $(wildcard lib/*.h)))
MAN1      := $(filter-out man/mlc-sim.1,$(sort $(wildcard man/*.1)))
MAN5      := $(sort $(wildcard man/*.5))
MAN7      := $(sort $(wildcard man/*.7))
EXAMPLES  := $(filter-out examples/systemd,$(sort $(wildcard examples/*)))
UNITS     := $(sort $(wildcard examples/systemd/*))
D         := $(DESTDIR)

$(BUILD)/mlc.pc: mk/mlc.pc.in Makefile
	@mkdir -p $(@D)
	@sed -e '/^#/d' -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@LIBDIR@|$(patsubst $(PREFIX)%,$${prefix}%,$(LIBDIR))|' \
	    -e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)%,$${prefix}%,$(INCLUDEDIR))|' mk/mlc.pc.in >$@.tmp
	@cmp -s $@.tmp $@ 2>/dev/null && rm -f $@.tmp || mv $@.tmp $@
# regenerated on every make (PREFIX may differ from the last run), rewritten only on a change
.PHONY: $(BUILD)/mlc.pc

.PHONY: install uninstall install-tool
# install-tool: what the Debian package ships (the tool is linked with libmlc.a, so
# it needs neither the shared library nor the headers)
install-tool: $(BUILD)/mlc
	$(INSTALL) -d $(D)$(BINDIR) $(D)$(MANDIR)/man1 $(D)$(MANDIR)/man5 $(D)$(MANDIR)/man7 $(D)$(BASHCOMPDIR) \
	  $(D)$(ZSHCOMPDIR) $(D)$(DOCDIR)/examples/systemd
	$(INSTALL) -m 755 $(BUILD)/mlc $(D)$(BINDIR)/mlc
	$(INSTALL) -m 644 $(MAN1) $(D)$(MANDIR)/man1/
	$(INSTALL) -m 644 $(MAN5) $(D)$(MANDIR)/man5/
	$(INSTALL) -m 644 $(MAN7) $(D)$(MANDIR)/man7/
	$(INSTALL) -m 644 completions/mlc.bash $(D)$(BASHCOMPDIR)/mlc
	$(INSTALL) -m 644 completions/_mlc $(D)$(ZSHCOMPDIR)/_mlc
	$(INSTALL) -m 644 $(EXAMPLES) $(D)$(DOCDIR)/examples/
	$(INSTALL) -m 644 $(UNITS) $(D)$(DOCDIR)/examples/systemd/

install: all install-tool
	$(INSTALL) -d $(D)$(LIBDIR)/pkgconfig $(D)$(INCLUDEDIR)/mlc
	$(INSTALL) -m 644 $(BUILD)/libmlc.a $(D)$(LIBDIR)/libmlc.a
	$(INSTALL) -m 755 $(BUILD)/libmlc.so.$(VERSION) $(D)$(LIBDIR)/libmlc.so.$(VERSION)
	ln -sf libmlc.so.$(VERSION) $(D)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(D)$(LIBDIR)/libmlc.so
	$(INSTALL) -m 644 $(PUB_H) $(D)$(INCLUDEDIR)/mlc/
	$(INSTALL) -m 644 $(BUILD)/mlc.pc $(D)$(LIBDIR)/pkgconfig/mlc.pc

.PHONY: deb
deb: | $(DEPS_OK)
	@sh mk/deb.sh $(BUILD) $(VERSION)

uninstall:
	rm -f $(D)$(BINDIR)/mlc $(D)$(LIBDIR)/libmlc.a $(D)$(LIBDIR)/libmlc.so.$(VERSION) \
	  $(D)$(LIBDIR)/$(SONAME) $(D)$(LIBDIR)/libmlc.so $(D)$(LIBDIR)/pkgconfig/mlc.pc \
	  $(D)$(BASHCOMPDIR)/mlc $(D)$(ZSHCOMPDIR)/_mlc
	rm -f $(addprefix $(D)$(INCLUDEDIR)/mlc/,$(notdir $(PUB_H)))
	rm -f $(addprefix $(D)$(MANDIR)/man1/,$(notdir $(MAN1))) $(addprefix $(D)$(MANDIR)/man5/,$(notdir $(MAN5))) \
	  $(addprefix $(D)$(MANDIR)/man7/,$(notdir $(MAN7)))
	rm -f $(addprefix $(D)$(DOCDIR)/examples/,$(notdir $(EXAMPLES))) \
	  $(addprefix $(D)$(DOCDIR)/examples/systemd/,$(notdir $(UNITS)))
	rmdir $(D)$(INCLUDEDIR)/mlc $(D)$(DOCDIR)/examples/systemd $(D)$(DOCDIR)/examples $(D)$(DOCDIR) 2>/dev/null || true

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(SIM_OBJ:.o=.d)

# ---------------------------------------------------------------- hardening (issue 12)
# fuzz: libFuzzer harnesses fuzz/fuzz_*.c, each linked with the library sources
# compiled by clang (not build/libmlc.a, which is gcc's) into build-fuzz/.
# `make fuzz FUZZ_SECONDS=N` runs each for N seconds from fuzz/corpus/<target>/.
.PHONY: fuzz-build format lint valgrind clean-hardening
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_DIR     := build-fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS   = -O1 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Ilib $(CPPFLAGS) $(PKG_CFLAGS)
FUZZ_SRC     := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BIN     := $(FUZZ_SRC:fuzz/%.c=$(FUZZ_DIR)/%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_DIR)/%.o)

$(FUZZ_DIR)/lib/%.o: lib/%.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(PKG_LIBS) -lm

.SECONDARY: $(FUZZ_LIB_OBJ)
fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	@sh fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_DIR) $(FUZZ_BIN)

clean: clean-hardening
clean-hardening:
	rm -rf $(FUZZ_DIR) $(VG_DIR)

-include $(FUZZ_LIB_OBJ:.o=.d)

# format: clang-format -i (style in .clang-format) over the C sources; generated
# files (tests/sim/sim_catalogue.c, from gen-catalogue.py) are left alone.
CLANG_FORMAT ?= clang-format
FORMAT_SRC = $(filter-out tests/sim/sim_catalogue.c,$(sort $(wildcard lib/*.[ch] cmd/*.[ch] tests/unit/*.[ch] \
             tests/sim/*.[ch] fuzz/*.c)))
format:
	$(CLANG_FORMAT) -i $(FORMAT_SRC)

# lint: cppcheck (data flow) and clang-tidy (bug-prone patterns) over lib, cmd,
# fuzz and tests; configuration in .clang-tidy and mk/lint/ (every suppression
# says why).  tests/ may call system() and build bad inputs by concatenation.
CPPCHECK    ?= cppcheck
CLANG_TIDY  ?= clang-tidy
LINT_SRC     = $(sort $(wildcard lib/*.c cmd/*.c fuzz/*.c bench/*.c))
LINT_TSRC    = $(sort $(wildcard tests/unit/*.c tests/sim/*.c))
LINT_CFLAGS  = -std=c11 -D_GNU_SOURCE $(CPPFLAGS) -Ilib -Itests/unit -Itests/sim $(PKG_CFLAGS) \
               $(shell pkg-config --cflags check 2>/dev/null)
lint: | $(DEPS_OK)
	$(CPPCHECK) -q -j2 --std=c11 -D_GNU_SOURCE -Ilib -Itests/unit -Itests/sim \
	  --enable=warning,portability,performance --library=mk/lint/cppcheck.cfg \
	  --suppressions-list=mk/lint/cppcheck-suppressions.txt --inline-suppr --error-exitcode=1 \
	  lib cmd fuzz bench tests/unit tests/sim
	@echo "clang-tidy: lib cmd fuzz tests"
	@printf '%s\n' $(LINT_SRC) | xargs -r -P2 -n6 sh -c 'sh mk/lint/tidy.sh $(CLANG_TIDY) "$$@" -- $(LINT_CFLAGS)' tidy
	@printf '%s\n' $(LINT_TSRC) | xargs -r -P2 -n6 sh -c \
	  'sh mk/lint/tidy.sh $(CLANG_TIDY) --checks=-cert-env33-c,-bugprone-suspicious-missing-comma "$$@" -- $(LINT_CFLAGS)' tidy

# valgrind: the whole `make check` (unit and integration tests) with every program
# it starts (mlc, mlc-sim, each unit test in one process, CK_FORK=no) under valgrind
# memcheck; fails when a test fails or any process had a memory error or a
# definite/possible leak.  Wrappers and one log per process in $(VG_DIR)/
# (mk/valgrind-wrap.sh, mk/valgrind-scan.sh).  VG_UNIT_ONLY=1: unit tests only.
VALGRIND ?= valgrind
VG_DIR   := build-vg
valgrind: all $(TEST_BIN)
	@rm -rf $(VG_DIR); VALGRIND=$(VALGRIND) sh mk/valgrind-wrap.sh $(BUILD) $(VG_DIR)
	@rc=0; MLC_TEST_SLOW=20 sh tests/run.sh $(if $(VG_UNIT_ONLY),--unit-only) $(VG_DIR) || rc=1; \
	sh mk/valgrind-scan.sh $(VG_DIR) || rc=1; exit $$rc
