# StateChannel — build, test, run.
#
#   make            build everything into build/
#   make test       install what is missing, then run every test plain and
#                   under AddressSanitizer + UndefinedBehaviorSanitizer
#   make run        the demo app behind lighttpd on 127.0.0.1:$(PORT)
#   make bench      the benchmarks under bench/, printing figures
#   make CC=clang   the same with clang;  make WERROR=1  warnings fail
#   make SANITIZER=address,undefined   a sanitizer build (in build-san/)
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

ALL_CFLAGS := -std=c17 -D_GNU_SOURCE $(OPT) -g $(WARN) -I. $(PKG_CFLAGS) \
	-MMD -MP $(CFLAGS)
ALL_LDFLAGS := $(LDFLAGS)
LIBS := $(PKG_LIBS) -lfcgi -lpthread -lm
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
	bench fuzz fuzz-seeds clean format

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

$(B)/tests/%: tests/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) -lcmocka $(LIBS)

$(B)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

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
client-test:
	cd client && { [ -d node_modules ] || npm ci --no-audit --no-fund \
		--loglevel=error; } && npm test

browser: all
	tests/browser/run.sh $(B)

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
	$(MAKE) client-test
	$(MAKE) browser

FUZZ_SRC := $(wildcard fuzz/*.c)
FUZZERS := $(FUZZ_SRC:fuzz/%.c=build-fuzz/%)
FUZZ_LIB_SRC := $(LIB_SRC)

build-fuzz/%: fuzz/%.c $(FUZZ_LIB_SRC) store/schema_blob.S schema.sql schema_pg.sql
	@mkdir -p $(@D)
	clang -std=c17 -D_GNU_SOURCE -O1 -g -I. $(PKG_CFLAGS) \
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
