# SPDX-License-Identifier: GPL-2.0-or-later
#
# hvis: Hyper-V integration services for Linux guests.
#
#   make                  build everything into build/
#   make check            run every test (add SANITIZE=1 for ASan+UBSan)
#   make demo             run the daemons against the host simulator
#   make bench            benchmarks (not tests)
#   make fuzz             run each libFuzzer target FUZZ_SECONDS (clang)
#   make soak             the load tests at full size (100,000 KVP operations)
#   make valgrind         the integration tests with the daemons under memcheck
#   make deps             install build and test dependencies (Debian)
#   make install          DESTDIR=, PREFIX= as usual
#   make deb              Debian package into DEBDIR (default build/deb)
#
# Conventions (so a new file needs no Makefile edit):
#   lib/*.c                      -> libhvis.a
#   tests/hvsim/*.c              -> libhvsim.a (hvsim-cli.c -> hvsim)
#   <daemon>/*.c                 -> lib<daemon>.a, except the programs
#                                   named in <daemon>_PROGS
#   <dir>/test-*.c               -> a cmocka test program
#   <dir>/fuzz-*.c               -> a libFuzzer target (make fuzz) and a
#                                   corpus replay test (make check)
#   tests/helpers/*.c            -> small programs the tests drive
#   tools/*.c                    -> helper programs the units run
#                                   (installed in LIBEXECDIR/hvis)

PREFIX ?= /usr/local
EXEC_PREFIX ?= $(PREFIX)
SBINDIR ?= $(EXEC_PREFIX)/sbin
BINDIR ?= $(EXEC_PREFIX)/bin
LIBEXECDIR ?= $(EXEC_PREFIX)/libexec
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
SYSCONFDIR ?= /etc
# Units and udev rules go where systemd looks for them, not under PREFIX.
UNITDIR ?= /lib/systemd/system
UDEVRULESDIR ?= /lib/udev/rules.d
DESTDIR ?=

SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
else
BUILD ?= build
SANFLAGS :=
endif
B := $(BUILD)

CC ?= gcc
CFLAGS ?= -O2 -g
WARNFLAGS := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla \
	-Wmissing-prototypes -Wstrict-prototypes -Wno-unused-parameter
override CFLAGS += -std=gnu11 $(WARNFLAGS) $(SANFLAGS) -Iinclude -Itests \
	-D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -DHVIS_VERSION='"$(VERSION)"'
override LDFLAGS += $(SANFLAGS) -pthread
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.1.0)

# Missing build dependencies stop the build with the package to install
# (tests/ensure-deps.sh; as root on Debian it installs them itself unless
# HVIS_NO_AUTO_DEPS=1).
PKGS := libnl-3.0 libnl-route-3.0 libsystemd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)
override CFLAGS += $(PKG_CFLAGS)

DAEMONS := kvp fcopy vss shutdown
kvp_PROGS := hv_kvp_daemon:kvp/main.c hv-kvp:kvp/hv-kvp.c
fcopy_PROGS := hv_fcopy_daemon:fcopy/main.c
vss_PROGS := hv_vss_daemon:vss/main.c
shutdown_PROGS := hv_shutdown_daemon:shutdown/main.c

prog_name = $(word 1,$(subst :, ,$(1)))
prog_src = $(word 2,$(subst :, ,$(1)))
not_module = $(wildcard $(1)/test-*.c $(1)/fuzz-*.c) \
	$(foreach p,$($(1)_PROGS),$(call prog_src,$(p)))

LIB_SRCS := $(filter-out $(call not_module,lib),$(wildcard lib/*.c))
HVSIM_MAIN := tests/hvsim/hvsim-cli.c
HVSIM_SRCS := $(filter-out $(call not_module,tests/hvsim) $(HVSIM_MAIN),\
	$(wildcard tests/hvsim/*.c))
define daemon_vars
$(1)_SRCS := $$(filter-out $$(call not_module,$(1)),$$(wildcard $(1)/*.c))
$(1)_LIB := $$(if $$($(1)_SRCS),$(B)/$(1)/lib$(1).a)
$(1)_BINS := $$(foreach p,$$($(1)_PROGS),$$(if $$(wildcard $$(call prog_src,$$(p))),$(B)/$$(call prog_name,$$(p))))
endef
$(foreach d,$(DAEMONS),$(eval $(call daemon_vars,$(d))))

LIBHVIS := $(B)/lib/libhvis.a
LIBHVSIM := $(B)/tests/hvsim/libhvsim.a
PROGS := $(foreach d,$(DAEMONS),$($(d)_BINS))
HVSIM := $(if $(wildcard $(HVSIM_MAIN)),$(B)/hvsim)
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPERS := $(patsubst %.c,$(B)/%,$(HELPER_SRCS))
TOOLS := $(patsubst tools/%.c,$(B)/tools/%,$(wildcard tools/*.c))
TEST_SRCS := $(wildcard lib/test-*.c tests/hvsim/test-*.c tests/test-*.c \
	$(foreach d,$(DAEMONS),$(d)/test-*.c))
TESTS := $(patsubst %.c,$(B)/%,$(TEST_SRCS))
FUZZ_SRCS := $(wildcard lib/fuzz-*.c tests/hvsim/fuzz-*.c \
	$(foreach d,$(DAEMONS),$(d)/fuzz-*.c))
FUZZ_REPLAY := $(patsubst %.c,$(B)/%-replay,$(FUZZ_SRCS))

.SECONDARY:
deps-ok:
	@tests/ensure-deps.sh build

.PHONY: deps-ok all check demo bench fuzz deps install uninstall clean format help \
	check-format
all: $(PROGS) $(TOOLS) $(HVSIM) $(HELPERS) $(TESTS) $(FUZZ_REPLAY)

$(B)/%.o: %.c | deps-ok
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIBHVIS): $(patsubst %.c,$(B)/%.o,$(LIB_SRCS))
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^
$(LIBHVSIM): $(patsubst %.c,$(B)/%.o,$(HVSIM_SRCS))
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^
define daemon_rules
$$($(1)_LIB): $$(patsubst %.c,$(B)/%.o,$$($(1)_SRCS))
	@mkdir -p $$(@D)
	rm -f $$@ && $$(AR) rcs $$@ $$^
$$(foreach p,$$($(1)_PROGS),$$(eval $(B)/$$(call prog_name,$$(p)): $(B)/$$(basename $$(call prog_src,$$(p))).o $$($(1)_LIB) $$(LIBHVIS)))
$(B)/$(1)/test-%: $(B)/$(1)/test-%.o $$($(1)_LIB) $$(LIBHVIS)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(CMOCKA_LIBS) $$(PKG_LIBS)
$(B)/$(1)/fuzz-%-replay: $(B)/$(1)/fuzz-%.o $(B)/tests/fuzz-replay.o $$($(1)_LIB) $$(LIBHVIS)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(PKG_LIBS)
endef
$(foreach d,$(DAEMONS),$(eval $(call daemon_rules,$(d))))

$(PROGS):
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
$(HVSIM): $(B)/tests/hvsim/hvsim-cli.o $(LIBHVSIM)
	$(CC) $(LDFLAGS) -o $@ $^
$(B)/tests/helpers/%: $(B)/tests/helpers/%.o $(LIBHVIS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
$(B)/tools/%: $(B)/tools/%.o $(LIBHVIS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
$(B)/lib/test-%: $(B)/lib/test-%.o $(LIBHVIS)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS)
$(B)/tests/hvsim/test-%: $(B)/tests/hvsim/test-%.o $(LIBHVSIM)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS)
# Integration tests drive real binaries through the simulator.
$(B)/tests/test-%: $(B)/tests/test-%.o $(LIBHVSIM) $(LIBHVIS)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS)
$(B)/lib/fuzz-%-replay: $(B)/lib/fuzz-%.o $(B)/tests/fuzz-replay.o $(LIBHVIS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
$(B)/tests/hvsim/fuzz-%-replay: $(B)/tests/hvsim/fuzz-%.o $(B)/tests/fuzz-replay.o $(LIBHVSIM)
	$(CC) $(LDFLAGS) -o $@ $^

# Every test program and script, TAP out, one summary line at the end.
check: all
	@BUILD=$(B) tests/run-tests.sh $(TESTS) $(FUZZ_REPLAY)

# The load tests at full size (make check runs them short): 100,000 KVP
# operations, 50 copies per fcopy transport.
SOAK_OPS ?= 100000
SOAK_COPIES ?= 50
# Run directly, so that their figures (time, records checked, RSS and fd
# samples) are printed.
soak: all
	@export BUILD=$(B) HVIS_SRCDIR=$(CURDIR) CMOCKA_MESSAGE_OUTPUT=TAP \
		HVIS_SOAK_OPS=$(SOAK_OPS) HVIS_SOAK_COPIES=$(SOAK_COPIES) && \
		$(B)/tests/test-kvp-soak && $(B)/tests/test-fcopy-soak

# The integration tests with every daemon under valgrind's memcheck.
valgrind: all
	@BUILD=$(B) SANITIZE=$(SANITIZE) tests/valgrind.sh \
		$(filter $(B)/tests/test-%,$(TESTS))
.PHONY: soak valgrind

demo: all
	@BUILD=$(B) tests/demo.sh

# bench/*.c -> $(B)/bench/<name>; bench/preload-*.c -> an LD_PRELOAD shim
# (.so), loaded into programs built without sanitizers, hence no SANFLAGS.
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_SHIMS := $(patsubst %.c,$(B)/%.so,$(filter bench/preload-%.c,$(BENCH_SRCS)))
BENCH_BINS := $(patsubst %.c,$(B)/%,$(filter-out bench/preload-%.c,$(BENCH_SRCS)))
$(B)/bench/%: $(B)/bench/%.o $(LIBHVSIM) $(LIBHVIS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
$(B)/bench/%.so: bench/%.c | deps-ok
	@mkdir -p $(@D)
	$(CC) $(filter-out $(SANFLAGS),$(CFLAGS)) -fPIC -shared -o $@ $< -ldl

bench: all $(BENCH_BINS) $(BENCH_SHIMS)
	@BUILD=$(B) bench/run.sh

# libFuzzer needs clang; its builds live apart from the gcc build.
FUZZ_SECONDS ?= 60
fuzz: | deps-ok
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_SRCS="$(FUZZ_SRCS)" \
		LIB_SRCS="$(LIB_SRCS)" HVSIM_SRCS="$(HVSIM_SRCS)" \
		kvp_SRCS="$(kvp_SRCS)" fcopy_SRCS="$(fcopy_SRCS)" \
		vss_SRCS="$(vss_SRCS)" shutdown_SRCS="$(shutdown_SRCS)" \
		PKG_CFLAGS="$(PKG_CFLAGS)" PKG_LIBS="$(PKG_LIBS)" tests/fuzz.sh

deps:
	@tests/ensure-deps.sh install

# What make install installs, and all the package build compiles. The
# units get the programs' paths under this PREFIX (written for /usr).
programs: $(PROGS) $(TOOLS)

install: programs
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	for p in $(filter-out $(B)/hv-kvp,$(PROGS)); do install -m 0755 $$p $(DESTDIR)$(SBINDIR)/; done
	$(if $(filter $(B)/hv-kvp,$(PROGS)),install -m 0755 $(B)/hv-kvp $(DESTDIR)$(BINDIR)/)
	$(if $(TOOLS),install -d $(DESTDIR)$(LIBEXECDIR)/hvis && \
		install -m 0755 $(TOOLS) $(DESTDIR)$(LIBEXECDIR)/hvis/)
	for m in $(wildcard man/*.[158]); do \
		s=$${m##*.}; install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	$(if $(wildcard */*.service),install -d $(DESTDIR)$(UNITDIR) && \
		for u in $(wildcard */*.service); do \
		sed -e 's|/usr/sbin/hv_|$(SBINDIR)/hv_|g' \
		-e 's|/usr/libexec/hvis/|$(LIBEXECDIR)/hvis/|g' $$u \
		>$(DESTDIR)$(UNITDIR)/$${u##*/} && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; done)
	$(if $(wildcard */*.rules),install -d $(DESTDIR)$(UDEVRULESDIR) && \
		install -m 0644 $(wildcard */*.rules) $(DESTDIR)$(UDEVRULESDIR)/)

uninstall:
	rm -f $(foreach p,$(filter-out $(B)/hv-kvp,$(PROGS)),$(DESTDIR)$(SBINDIR)/$(notdir $(p)))
	rm -f $(DESTDIR)$(BINDIR)/hv-kvp
	rm -f $(foreach t,$(TOOLS),$(DESTDIR)$(LIBEXECDIR)/hvis/$(notdir $(t)))
	-rmdir $(DESTDIR)$(LIBEXECDIR)/hvis 2>/dev/null
	rm -f $(foreach m,$(wildcard man/*.[158]),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
	rm -f $(foreach u,$(wildcard */*.service),$(DESTDIR)$(UNITDIR)/$(notdir $(u)))
	rm -f $(foreach u,$(wildcard */*.rules),$(DESTDIR)$(UDEVRULESDIR)/$(notdir $(u)))

# A binary .deb built from a scratch copy of this tree (debian/build-deb.sh).
DEBDIR ?= $(B)/deb
deb:
	@debian/build-deb.sh $(DEBDIR)

.PHONY: programs deb
FORMAT_SRCS = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_SRCS)
check-format:
	@clang-format --dry-run --Werror $(FORMAT_SRCS)

clean:
	rm -rf build build-san build-fuzz

help:
	@sed -n '3,15p' Makefile | sed 's/^# \{0,1\}//'

-include $(shell find $(B) -name '*.d' 2>/dev/null)
