# pooltrace: see README.md. `make` builds build/pooltrace.
#   make demo   install missing dependencies, build, run every strategy, print a summary
#   make scenarios  run every pipe scenario (run --scenario), one line each
#   make test   the layer check, the whole suite, then again under ASan+UBSan, then valgrind over each command
#   make bench  traced/untraced wall-time ratios and ingestion rate
#   make docs   regenerate the README's images in docs/
#   make install  the binary, the man page and bash completion under $(DESTDIR)$(PREFIX) (default /usr/local)

CC ?= cc
BUILD ?= build
PKGS := sqlite3 libgvc libcgraph libdw
# Deferred (=): pkg-config runs only once deps.sh has had its chance to install.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
OPT ?= -O2 -g
SAN :=
CFLAGS_ALL = -std=gnu11 -D_GNU_SOURCE -pthread $(OPT) $(SAN) -Wall -Wextra -Werror -Isrc -I. -I$(BUILD) $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(SAN) -pthread $(LDFLAGS)

# One folder per layer under src/ (docs/design.md#layout); `make check-layers` checks their includes.
SRC := $(wildcard src/*/*.c) $(wildcard viz/*.c)
LIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(filter-out src/cli/main.c,$(SRC)))
TEST_SRC := $(wildcard tests/*.c)
TEST_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(TEST_SRC))
BIN := $(BUILD)/pooltrace
TEST_BIN := $(BUILD)/pooltrace-tests
PROBE := $(BUILD)/leakprobe
# Programs the tests trace with `record`: plain C, nothing of pooltrace in them.
PROGRAMS := $(patsubst tests/programs/%.c,$(BUILD)/programs/%,$(wildcard tests/programs/*.c)) \
	$(patsubst tests/programs/%.cpp,$(BUILD)/programs/%,$(wildcard tests/programs/*.cpp)) \
	$(patsubst tests/programs/%.cpp,$(BUILD)/programs/%-g,$(wildcard tests/programs/*.cpp)) \
	$(BUILD)/programs/libdlpipe.so
CXX ?= c++

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# Every pooltrace process the tests start runs with LeakSanitizer on (exit 23
# on a leak fails the test); Graphviz's own leaks are named in tests/lsan.supp.
# The Criterion runner itself leaks a few blocks from its stripped library, and
# a suppression matching libcriterion would hide every stack that passes
# through a test body, so the runner alone runs without leak detection.
SAN_ENV := ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 \
	POOLTRACE_ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:fast_unwind_on_malloc=0 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

PREFIX ?= /usr/local
.PHONY: all deps deps-test demo scenarios test check-layers check check-asan check-valgrind bench docs install uninstall clean
all: $(BIN)

deps:
	@scripts/deps.sh build
deps-test:
	@scripts/deps.sh test

# Text files compiled in as C string literals: the schema, and the report's script and style.
INC := $(BUILD)/schema.inc $(BUILD)/report_js.inc $(BUILD)/report_css.inc
define to_c_string
	@mkdir -p $(@D)
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< > $@
endef
$(BUILD)/schema.inc: traces/schema.sql
	$(to_c_string)
$(BUILD)/report_js.inc: viz/report.js
	$(to_c_string)
$(BUILD)/report_css.inc: viz/report.css
	$(to_c_string)

$(BUILD)/%.o: %.c $(wildcard src/*/*.h viz/*.h) $(INC)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BIN): $(BUILD)/src/cli/main.o $(LIB_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

$(TEST_BIN): $(TEST_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) -lcriterion

# Renders with libgvc and, when asked, forgets gvRenderData's buffer: proves
# tests/lsan.supp still lets a project leak through (see tests/test_viz.c).
$(PROBE): tests/probe/leakprobe.c $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

$(BUILD)/programs/%: tests/programs/%.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -pthread -Wall -Wextra -Werror -o $@ $<
$(BUILD)/programs/%: tests/programs/%.cpp
	@mkdir -p $(@D)
	$(CXX) -std=c++17 -O2 -Wall -Wextra -Werror -o $@ $<
# The library dlpipe dlopens (tests/test_stacks.c: code mapped after the first stack).
$(BUILD)/programs/libdlpipe.so: tests/programs/dlpipe.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -shared -fPIC -DDLPIPE_LIB -o $@ $<
# The same C++ pool with debug info: record --stacks then names file:line (tests/test_stacks.c).
$(BUILD)/programs/%-g: tests/programs/%.cpp
	@mkdir -p $(@D)
	$(CXX) -std=c++17 -O2 -g -Wall -Wextra -Werror -o $@ $<

$(BUILD)/tests/%.o: tests/%.c $(wildcard tests/*.h src/*/*.h viz/*.h) $(INC)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -Itests -DPOOLTRACE_BIN='"$(CURDIR)/$(BIN)"' -DPOOLTRACE_SRC='"$(CURDIR)"' -DPOOLTRACE_PROBE='"$(CURDIR)/$(PROBE)"' -DPOOLTRACE_PROGRAMS='"$(CURDIR)/$(BUILD)/programs"' -c $< -o $@

# The demo also draws the README's pictures, one of them of a recorded program
# (tests/programs/leakypool.c), so it builds that program too.
demo: deps
	@$(MAKE) --no-print-directory all $(BUILD)/programs/leakypool
	@scripts/demo.sh $(BIN)

scenarios: deps
	@$(MAKE) --no-print-directory all
	@scripts/scenarios.sh $(BIN)

# The Criterion suite (unit and end-to-end) on the normal build, then on the
# sanitizer build, then valgrind. `check` is one leg; `test` is what CI runs.
test: deps-test
	@$(MAKE) --no-print-directory check-layers
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory check-asan
	@$(MAKE) --no-print-directory check-valgrind

# Every #include follows the layer table of docs/design.md#layout.
check-layers:
	@scripts/check-layers.sh

check: $(BIN) $(TEST_BIN) $(PROBE) $(PROGRAMS)
	$(TEST_BIN) --jobs 2 $(TESTFLAGS)

check-asan:
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g" SAN="$(SAN_FLAGS)" build-asan/pooltrace build-asan/pooltrace-tests build-asan/leakprobe $(patsubst $(BUILD)/%,build-asan/%,$(PROGRAMS))
	$(SAN_ENV) POOLTRACE_SANITIZED=1 build-asan/pooltrace-tests --jobs 2 $(TESTFLAGS)

# memcheck over each command on a small trace (tests/valgrind.sh).
check-valgrind: $(BIN) $(PROBE)
	tests/valgrind.sh $(BIN) $(PROBE)

bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/programs/cxxpool-g $(BUILD)/programs/manypipes
	@scripts/bench.sh $(BIN)

docs:
	@scripts/deps.sh docs
	@$(MAKE) --no-print-directory all $(BUILD)/programs/leakypool
	@scripts/docs.sh $(BIN)

# bash-completion loads share/bash-completion/completions/NAME when NAME is first completed.
COMPLETIONS := $(PREFIX)/share/bash-completion/completions
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(COMPLETIONS)
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/pooltrace
	install -m 644 man/pooltrace.1 $(DESTDIR)$(PREFIX)/share/man/man1/pooltrace.1
	install -m 644 completion/pooltrace.bash $(DESTDIR)$(COMPLETIONS)/pooltrace

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/pooltrace $(DESTDIR)$(PREFIX)/share/man/man1/pooltrace.1 $(DESTDIR)$(COMPLETIONS)/pooltrace

clean:
	rm -rf build build-asan
