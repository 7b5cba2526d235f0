# Corral build. `make run` builds and starts a standalone server;
# `make test` builds and runs every test (unit, integration, ASan, fuzz).
CC      ?= cc
PKGS    := libuv zlib libcrypto libmicrohttpd libcjson
CFLAGS  ?= -O2 -g
GIT_SHA := $(shell git rev-parse --short HEAD 2>/dev/null || echo dev)
BUILD_DATE := $(shell date -u "+%Y-%m-%d %H:%M UTC")
WFLAGS  := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
           -Isrc $(shell pkg-config --cflags $(PKGS) 2>/dev/null) \
           '-DCORRAL_GIT_SHA="$(GIT_SHA)"' '-DCORRAL_BUILD_DATE="$(BUILD_DATE)"'
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
BUILD   ?= build

# libcorral: everything but the three programs' own folders and main files.
LIB_DIRS := base proto tree auth txn session store server admin
LIB_SRC  := $(filter-out src/server/main.c,$(foreach d,$(LIB_DIRS),$(wildcard src/$(d)/*.c)))
# libcorralclient: the ZooKeeper client library (the shell, the bench, tests).
CLIENT_SRC := $(wildcard src/client/*.c)
CLIENT_OBJ := $(CLIENT_SRC:src/%.c=$(BUILD)/obj/%.o)
CLI_SRC  := $(wildcard src/cli/*.c)
CLI_OBJ  := $(CLI_SRC:src/%.c=$(BUILD)/obj/%.o)
BENCH_SRC := $(wildcard src/bench/*.c)
BENCH_OBJ := $(BENCH_SRC:src/%.c=$(BUILD)/obj/%.o)
PROGRAMS := $(BUILD)/corrald $(if $(CLI_SRC),$(BUILD)/corral) $(if $(BENCH_SRC),$(BUILD)/corral-bench)
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all run test unit integration asan fuzz bench deps test-deps clean format
all: $(PROGRAMS)

deps:
	@sh scripts/deps.sh
test-deps:
	@sh scripts/deps.sh test

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libcorral.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libcorralclient.a: $(CLIENT_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/corrald: $(BUILD)/obj/server/main.o $(BUILD)/libcorral.a
	$(CC) $(CFLAGS) $(WFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/corral: $(CLI_OBJ) $(BUILD)/libcorralclient.a $(BUILD)/libcorral.a
	$(CC) $(CFLAGS) $(WFLAGS) -o $@ $^ $(LDLIBS) -ledit

$(BUILD)/corral-bench: $(BENCH_OBJ) $(BUILD)/libcorral.a
	$(CC) $(CFLAGS) $(WFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/test_client%: tests/unit/test_client%.c $(wildcard tests/unit/*.h) $(BUILD)/libcorralclient.a $(BUILD)/libcorral.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WFLAGS) -o $@ $< $(BUILD)/libcorralclient.a $(BUILD)/libcorral.a $(LDLIBS) -lcmocka

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libcorral.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WFLAGS) -o $@ $< $(BUILD)/libcorral.a $(LDLIBS) -lcmocka

run: deps
	@$(MAKE) --no-print-directory all
	./$(BUILD)/corrald

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

integration: all
	CORRALD=$(abspath $(BUILD)/corrald) /usr/bin/python3 -m pytest -q tests/integration

# The unit tests and the whole integration suite again against an ASan+UBSan
# build.
asan:
	ASAN_OPTIONS=detect_leaks=1 $(MAKE) --no-print-directory BUILD=build/asan CC=clang \
	  CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	  build/asan/corrald unit
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  CORRALD=$(abspath build/asan/corrald) CORRAL_SANITIZED=1 /usr/bin/python3 -m pytest -q tests/integration

fuzz:
	@sh tests/fuzz/run.sh

# Side-by-side with Apache ZooKeeper 3.8 (about 30 minutes; BENCH_ARGS=--quick for a smoke run).
bench: test-deps
	@$(MAKE) --no-print-directory all
	bench/compare --corrald $(abspath $(BUILD)/corrald) --bench $(abspath $(BUILD)/corral-bench) $(BENCH_ARGS)

test: test-deps
	@$(MAKE) --no-print-directory all unit
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory fuzz

format:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c')

clean:
	rm -rf build

# make install [PREFIX=/usr/local] [DESTDIR=] [SYSCONFDIR=/etc]: the programs
# built (corrald; corral and corral-bench when built), the systemd unit with
# its paths set to PREFIX and SYSCONFDIR, a sample zoo.cfg (an existing one is
# kept) and the man pages corrald(8) and corral(1).
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
BINDIR     := $(PREFIX)/bin
MANDIR     := $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
INSTALL    ?= install

.PHONY: install check-man
install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/corral
	@for p in corrald corral corral-bench; do \
	  if [ -f $(BUILD)/$$p ]; then \
	    echo "$(INSTALL) -m 0755 $(BUILD)/$$p $(DESTDIR)$(BINDIR)/$$p"; \
	    $(INSTALL) -m 0755 $(BUILD)/$$p $(DESTDIR)$(BINDIR)/$$p || exit 1; \
	  fi; done
	$(INSTALL) -m 0644 man/corrald.8 $(DESTDIR)$(MANDIR)/man8/corrald.8
	$(INSTALL) -m 0644 man/corral.1 $(DESTDIR)$(MANDIR)/man1/corral.1
	sed -e 's|/usr/local/bin/|$(BINDIR)/|g' -e 's|/etc/corral/|$(SYSCONFDIR)/corral/|g' \
	  contrib/corrald.service > $(DESTDIR)$(UNITDIR)/corrald.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/corrald.service
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/corral/zoo.cfg ]; then \
	  echo "keeping $(DESTDIR)$(SYSCONFDIR)/corral/zoo.cfg"; \
	else \
	  echo "$(INSTALL) -m 0644 contrib/zoo.cfg $(DESTDIR)$(SYSCONFDIR)/corral/zoo.cfg"; \
	  $(INSTALL) -m 0644 contrib/zoo.cfg $(DESTDIR)$(SYSCONFDIR)/corral/zoo.cfg; \
	fi

# The man pages format without a warning.
check-man:
	@for f in man/corrald.8 man/corral.1; do \
	  LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z $$f 2>&1 | grep . && exit 1; done; true

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
