# StateChannel — build, test, run.
#
#   make            build everything into build/
#   make test       install what is missing, then run every test plain and
#                   under AddressSanitizer + UndefinedBehaviorSanitizer
#   make run        the demo app behind lighttpd on 127.0.0.1:$(PORT)
#   make bench      the benchmarks under bench/, printing figures
#   make CC=clang   the same with clang;  make WERROR=1  warnings fail
#   make SANITIZER=address,undefined   a sanitizer build (in build-san/)
#   make install [PREFIX=/usr/local] [DESTDIR=]   the library (static and
#                   shared), headers, statechannel.pc, the command, the
#                   apps, man pages, deploy templates, client; make uninstall
#
# Layout: every *.c of common/ json/ store/ fcgi/ goes into
# $(B)/libstatechannel.a; cli/*.c is build/statechannel; each
# examples/NAME/ is $(B)/NAME.fcgi; each tests/DIR/test_*.c is a test
# program (cmocka) and each tests/DIR/helper_*.c a program the tests
# start; each bench/*.c is a benchmark program; fuzz/*.c are libFuzzer
# drivers (clang).  Benchmarks are named bench/MODULE_*.c.

SHELL := /bin/bash
CC ?= cc
SANITIZER ?=
WERROR ?=
PORT ?= 8080

ifeq ($(SANITIZER),)
B ?= build
OPT ?= -O2
else
B ?= build-san
OPT ?= -O1
endif

WARN := -Wall -Wextra -Wmissing-prototypes -Wstrict-prototypes \
	-Wwrite-strings -Wshadow
# libpq: the store's PostgreSQL backend (and its tests and benchmarks).
# Asked one by one, so that a package still missing (before `make deps`)
# does not blank the flags of the others.
PKGS := json-c sqlite3 libpq
PKG_CFLAGS := $(foreach p,$(PKGS),$(shell pkg-config --cflags $(p) 2>/dev/null))
PKG_LIBS := $(foreach p,$(PKGS),$(shell pkg-config --libs $(p) 2>/dev/null))

ALL_CFLAGS := -std=c17 -D_GNU_SOURCE $(OPT) -g $(WARN) -I. -Iinclude \
	$(PKG_CFLAGS) \
	-MMD -MP $(CFLAGS)
ALL_LDFLAGS := $(LDFLAGS)
LIBS := $(PKG_LIBS) -lpthread -lm
ifneq ($(SANITIZER),)
ALL_CFLAGS += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZER)
endif
ifeq ($(WERROR),1)
ALL_CFLAGS += -Werror
endif

# MODULES lets a partial tree build (e.g. make MODULES="common json").
MODULES ?= common json store fcgi
LIB_SRC := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o) $(B)/store/schema_blob.o
LIB := $(B)/libstatechannel.a

CLI_SRC := $(wildcard cli/*.c)
CLI := $(B)/statechannel

ifneq ($(filter fcgi,$(MODULES)),)
EXAMPLES := $(sort $(patsubst examples/%/,%,$(dir $(wildcard examples/*/*.c))))
endif
APPS := $(sort $(EXAMPLES:%=$(B)/%.fcgi))

TEST_SRC := $(foreach m,$(MODULES) cli,$(wildcard tests/$(m)/test_*.c))
TESTS := $(TEST_SRC:%.c=$(B)/%)
HELPER_SRC := $(foreach m,$(MODULES) cli,$(wildcard tests/$(m)/helper_*.c))
HELPERS := $(HELPER_SRC:%.c=$(B)/%)

BENCH_SRC := $(foreach m,$(MODULES),$(wildcard bench/$(m)_*.c))
BENCHES := $(BENCH_SRC:%.c=$(B)/%)

.PHONY: all deps test check check-pg integration client-test browser run \
	bench fuzz fuzz-seeds clean format install uninstall shared \
	install-check client-pack

all: $(LIB) $(CLI) $(APPS) $(TESTS) $(HELPERS) $(BENCHES)

deps:
	@scripts/deps.sh

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# schema.sql is compiled in: the assembler includes its bytes (no
# generated file is committed).
$(B)/store/schema_blob.o: store/schema_blob.S schema.sql schema_pg.sql
	@mkdir -p $(@D)
	$(CC) -I. -c -o $@ store/schema_blob.S

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(CLI): $(CLI_SRC:%.c=$(B)/%.o) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LIBS)

define example_rule
$(B)/$(1).fcgi: $(patsubst %.c,$(B)/%.o,$(wildcard examples/$(1)/*.c)) $(LIB)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$(filter %.o,$$^) $(LIB) $$(LIBS)
endef
$(foreach e,$(EXAMPLES),$(eval $(call example_rule,$(e))))

# The test build of the allocation wrappers (fault injection), linked
# ahead of the library so its definitions are the ones used.
FAULTS_OBJ := $(B)/common/alloc_faults.o
$(FAULTS_OBJ): common/alloc.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DSC_ALLOC_FAULTS -c -o $@ $<

$(B)/tests/%: tests/%.c $(LIB) $(FAULTS_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(FAULTS_OBJ) $(LIB) \
		-lcmocka $(LIBS)

$(B)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

# The bare libfcgi responder (the benchmark's baseline) is the only
# program that links libfcgi: the library speaks FastCGI itself.
$(B)/bench/fcgi_bare: LIBS += -lfcgi

# --- install -----------------------------------------------------------
# make install PREFIX=/usr DESTDIR=/tmp/pkg: DESTDIR is prepended to every
# path written, PREFIX is the one the installed files name.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
APPDIR ?= $(LIBDIR)/statechannel
SHAREDIR ?= $(DATADIR)/statechannel
DOCDIR ?= $(DATADIR)/doc/statechannel
UNITDIR ?= $(LIBDIR)/systemd/system
INSTALL ?= install

VERSION := $(shell sed -n 's/^\#define SC_VERSION "\(.*\)"/\1/p' \
	include/statechannel/version.h)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
HEADERS := $(wildcard include/statechannel/*.h)

# The shared library: the same sources compiled position-independent,
# exporting only the functions of the public headers.
SHLIB := $(B)/libstatechannel.so.$(VERSION)
PIC_OBJ := $(LIB_SRC:%.c=$(B)/pic/%.o) $(B)/store/schema_blob.o

$(B)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<

$(B)/libstatechannel.map: $(HEADERS)
	@mkdir -p $(@D)
	{ echo '{ global:'; sed -n 's/^[a-z0-9_ ]*[ *]\(sc_[a-z_]*\)(.*/\1;/p' \
		$(HEADERS); echo 'local: *; };'; } >$@

$(SHLIB): $(PIC_OBJ) $(B)/libstatechannel.map
	$(CC) $(ALL_LDFLAGS) -shared -Wl,-soname,libstatechannel.so.$(SOMAJOR) \
		-Wl,--version-script,$(B)/libstatechannel.map -Wl,--no-undefined \
		-o $@ $(PIC_OBJ) $(LIBS)

shared: $(SHLIB)

$(B)/statechannel.pc: statechannel.pc.in include/statechannel/version.h
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' $< >$@

# Files that name installed paths: /usr/local becomes $(PREFIX).
define install_sub
	sed 's|/usr/local|$(PREFIX)|g' $(1) >$(DESTDIR)$(2) && chmod $(3) $(DESTDIR)$(2)
endef

install: $(LIB) $(SHLIB) $(CLI) $(APPS) $(B)/statechannel.pc
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(INCLUDEDIR)/statechannel $(DESTDIR)$(APPDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 \
		$(DESTDIR)$(SHAREDIR)/client/src $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(UNITDIR)
	$(INSTALL) -m 755 $(CLI) $(DESTDIR)$(BINDIR)/statechannel
	$(INSTALL) -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/libstatechannel.a
	$(INSTALL) -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf libstatechannel.so.$(VERSION) \
		$(DESTDIR)$(LIBDIR)/libstatechannel.so.$(SOMAJOR)
	ln -sf libstatechannel.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/libstatechannel.so
	$(INSTALL) -m 644 $(HEADERS) $(DESTDIR)$(INCLUDEDIR)/statechannel/
	$(INSTALL) -m 644 $(B)/statechannel.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	$(INSTALL) -m 755 $(APPS) $(DESTDIR)$(APPDIR)/
	$(call install_sub,docs/statechannel.1,$(MANDIR)/man1/statechannel.1,644)
	$(call install_sub,docs/statechannel.3,$(MANDIR)/man3/statechannel.3,644)
	$(INSTALL) -m 644 README.md CHANGELOG.md LICENSE docs/protocol.md \
		docs/deploy.md $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 644 client/package.json client/README.md client/*.d.ts \
		$(DESTDIR)$(SHAREDIR)/client/
	$(INSTALL) -m 644 client/src/*.js $(DESTDIR)$(SHAREDIR)/client/src/
	set -e; for e in $(EXAMPLES); do [ -d examples/$$e/www ] || continue; \
		$(INSTALL) -d $(DESTDIR)$(SHAREDIR)/examples/$$e/www; \
		$(INSTALL) -m 644 examples/$$e/www/* \
			$(DESTDIR)$(SHAREDIR)/examples/$$e/www/; done
	set -e; for f in $$(cd deploy && find . -type f); do \
		$(INSTALL) -d $(DESTDIR)$(SHAREDIR)/deploy/$$(dirname $$f); \
		m=644; [ -x deploy/$$f ] && m=755; \
		$(call install_sub,deploy/$$f,$(SHAREDIR)/deploy/$$f,$$m); done
	$(call install_sub,deploy/systemd/statechannel.service,$(UNITDIR)/statechannel.service,644)

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/statechannel \
		$(DESTDIR)$(LIBDIR)/libstatechannel.a \
		$(DESTDIR)$(LIBDIR)/libstatechannel.so* \
		$(DESTDIR)$(LIBDIR)/pkgconfig/statechannel.pc \
		$(DESTDIR)$(MANDIR)/man1/statechannel.1 \
		$(DESTDIR)$(MANDIR)/man3/statechannel.3 \
		$(DESTDIR)$(UNITDIR)/statechannel.service
	rm -rf $(DESTDIR)$(INCLUDEDIR)/statechannel $(DESTDIR)$(APPDIR) \
		$(DESTDIR)$(SHAREDIR) $(DESTDIR)$(DOCDIR)

# Installs into a temporary DESTDIR, builds README's example against it
# with pkg-config outside the tree and runs it behind the installed
# lighttpd template; then uninstalls and checks nothing is left.
install-check:
	tests/install/run.sh $(B)

# The unit and process-level tests of one build ($(B)); those that need
# PostgreSQL run on a server the run starts (scripts/pg-test.sh) unless
# SC_TEST_PG names one.
check: all
	@scripts/run-tests.sh $(B)

# The store's suite on PostgreSQL: the programs of tests/store again, each
# with SC_TEST_DB holding the URI of a fresh database of the run's server
# (the store's tests open databases of that server instead of SQLite
# files: tests/support.h).  In `make test` unless STORE_ON_PG=0.
STORE_ON_PG ?= 1
check-pg: all
	@SC_TEST_DB=postgresql scripts/run-tests.sh $(B) store

# Integration tests: real lighttpd / Apache / nginx on 127.0.0.1.
integration: all
	@if [ -x tests/integration/run.sh ]; then \
		tests/integration/run.sh $(B); \
	else echo "integration: no tests/integration/run.sh yet"; fi

# The browser side: the client's unit tests (node's test runner), then
# the real-browser tests (Debian's chromium driven by playwright-core)
# against the apps behind lighttpd.
# (npm ci again whenever package-lock.json is newer than the install.)
client-test:
	cd client && { [ node_modules/.package-lock.json -nt package-lock.json ] || \
		npm ci --no-audit --no-fund --loglevel=error; } && npm test

browser: all
	tests/browser/run.sh $(B)

# The client as users get it: npm pack, installed into empty projects
# with and without React, every subpath imported in node and tsc.
client-pack:
	tests/client-pack/run.sh

# Everything: deps, gcc and clang clean at -Werror, the suite plain and
# under ASan+UBSan (unit, process-level and integration; the store's
# suite on PostgreSQL too unless STORE_ON_PG=0), the fuzz
# drivers on their seed corpus, the client and the browser tests.
test: deps
	$(MAKE) WERROR=1 all
	$(MAKE) CC=clang WERROR=1 B=build-clang all
	$(MAKE) check
	$(MAKE) SANITIZER=address,undefined check
	if [ "$(STORE_ON_PG)" = 1 ]; then $(MAKE) check-pg && \
		$(MAKE) SANITIZER=address,undefined check-pg; fi
	$(MAKE) fuzz-seeds
	$(MAKE) integration
	$(MAKE) SANITIZER=address,undefined integration
	$(MAKE) install-check
	$(MAKE) client-test
	$(MAKE) client-pack
	$(MAKE) browser

FUZZ_SRC := $(wildcard fuzz/*.c)
FUZZERS := $(FUZZ_SRC:fuzz/%.c=build-fuzz/%)
FUZZ_LIB_SRC := $(LIB_SRC)

build-fuzz/%: fuzz/%.c $(FUZZ_LIB_SRC) store/schema_blob.S schema.sql schema_pg.sql
	@mkdir -p $(@D)
	clang -std=c17 -D_GNU_SOURCE -O1 -g -I. -Iinclude $(PKG_CFLAGS) \
		-fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_LIB_SRC) \
		store/schema_blob.S $(LIBS)

fuzz: $(FUZZERS)

# Run every fuzz driver over its seed corpus (fuzz/corpus/NAME/) once.
fuzz-seeds: $(FUZZERS)
	@set -e; for f in $(FUZZERS); do n=$$(basename $$f); \
		echo "fuzz-seeds: $$n"; \
		$$f -runs=0 fuzz/corpus/$$n >/dev/null 2>build-fuzz/$$n.log \
		|| { cat build-fuzz/$$n.log; exit 1; }; done

bench: deps all
	@scripts/run-bench.sh $(B)

run: deps all
	@scripts/run-demo.sh $(B) $(PORT)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san build-clang build-fuzz

-include $(shell find $(B) -name '*.d' 2>/dev/null)
