# Copyright (c) 2026 The pam_policy authors
# SPDX-License-Identifier: BSD-3-Clause
#
# pam_policy - password-policy enforcement for Linux-PAM
#
#   make deps       install build/test dependencies (apt-get, as root);
#                   demo, check, check-e2e and bench install only their own
#   make            build pam_policy.so, pam_policyd, pam_policyctl
#   make demo       show a password change through the real libpam
#   make check      unit + integration tests (no root, no system change)
#   make test       the same, without installing dependencies first
#   make check-san  the same suite built with ASan + UBSan
#   make check-tsan the daemon's tests with ThreadSanitizer
#   make check-e2e  end-to-end tier: useradd, passwd, sshd (root only)
#   make bench      benchmarks beside pam_pwhistory / pam_unix
#   make check-durability  100 kill -9 under concurrent records: nothing lost
#   make fuzz       libFuzzer targets (clang)
#   make pot        regenerate po/pam_policy.pot from the sources
#   make check-po   every po/LANG.po complete: no untranslated, fuzzy or
#                   missing message (part of make check)
#   make install    honours DESTDIR, PREFIX, SYSCONFDIR, ...; make uninstall undoes it
#   make deb        Debian packages (debian/) into build/deb, checked by lintian
#   make clean

# The one place the version is written: the programs (--version, the
# daemon's ping) take it from here; debian/changelog must agree (debian/rules
# and "make deb" refuse to build otherwise).
VERSION    = 0.1.0

# Where things go. Each is a make variable ("make PREFIX=/usr/local",
# "make SYSCONFDIR=/usr/local/etc"); the paths the programs need at run
# time are compiled in (lib/paths.h) and written into the installed unit,
# tmpfiles.d and logrotate files, so build and install with the same ones.
# pam_policyctl is in BINDIR: users run "pam_policyctl status" (like chage).
PREFIX    ?= /usr
EXEC_PREFIX ?= $(PREFIX)
BINDIR    ?= $(EXEC_PREFIX)/bin
SBINDIR   ?= $(EXEC_PREFIX)/sbin
DATAROOTDIR ?= $(PREFIX)/share
MANDIR    ?= $(DATAROOTDIR)/man
LOCALEDIR ?= $(DATAROOTDIR)/locale
SYSCONFDIR ?= /etc
CONFIG_FILE ?= $(SYSCONFDIR)/security/pam_policy.conf
SOCKET_PATH ?= /run/pam_policy/pam_policyd.sock
SOCKET_DIR = $(patsubst %/,%,$(dir $(SOCKET_PATH)))
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
SECUREDIR ?= $(if $(MULTIARCH),/lib/$(MULTIARCH)/security,/lib64/security)
# systemd's own directories when systemd.pc says where they are. They do not
# follow PREFIX: systemd, systemd-tmpfiles and systemd-sysusers read only them.
pc_systemd = $(or $(shell $(PKG_CONFIG) --variable=$(1) systemd 2>/dev/null),$(2))
UNITDIR   ?= $(call pc_systemd,systemdsystemunitdir,/lib/systemd/system)
TMPFILESDIR ?= $(call pc_systemd,tmpfilesdir,/usr/lib/tmpfiles.d)
SYSUSERSDIR ?= $(call pc_systemd,sysusersdir,/usr/lib/sysusers.d)
# journalctl -x explains the daemon's events from this catalog.
CATALOGDIR ?= $(call pc_systemd,catalogdir,/usr/lib/systemd/catalog)
# logrotate and pam-auth-update read only these.
LOGROTATEDIR ?= /etc/logrotate.d
PAMCONFIGDIR ?= /usr/share/pam-configs
DOCDIR    ?= $(DATAROOTDIR)/doc/pam_policy
# bash-completion's directory: pkg-config's for PREFIX=/usr, else under
# DATAROOTDIR (bash-completion also looks in $XDG_DATA_DIRS/bash-completion).
BASHCOMP_DEFAULT = $(DATAROOTDIR)/bash-completion/completions
BASHCOMPDIR ?= $(if $(filter /usr,$(PREFIX)),$(or $(shell $(PKG_CONFIG) \
    --variable=completionsdir bash-completion 2>/dev/null),$(BASHCOMP_DEFAULT)),$(BASHCOMP_DEFAULT))

B         ?= build
CC        ?= cc
PKG_CONFIG ?= pkg-config

# ---------------------------------------------------------------------------
# What each program is made of. lib/ is shared; everything else belongs to
# one program. The module's list is the proof that it never loads the store.

LIB_NAMES    = error i18n utf8 policy users aging rules proto client wordindex \
               request auditlog fsutil strength guess blocklist digest
MODULE_NAMES = module/pam_policy
DAEMON_NAMES = daemon/main daemon/server daemon/conn daemon/dispatch daemon/workers \
               daemon/handlers daemon/report daemon/audit daemon/hash daemon/store \
               daemon/store_sqlite daemon/store_pg daemon/shadow daemon/skeleton
CTL_NAMES    = ctl/main ctl/ctl ctl/report ctl/doctor ctl/review ctl/check ctl/wordlist \
               ctl/blocklist

# The lib/ objects each program links (a subset of LIB_NAMES).
MODULE_LIB   = error i18n utf8 policy users aging rules proto client request \
               strength guess wordindex blocklist digest
DAEMON_LIB   = error i18n utf8 policy users aging proto auditlog fsutil strength
CTL_LIB      = error i18n utf8 policy users aging rules proto client request \
               auditlog fsutil strength guess wordindex blocklist digest

MODULE_PKGS  = pam pwquality libsodium
DAEMON_PKGS  = libsodium sqlite3 libsystemd libpq
CTL_PKGS     = libsodium pwquality
TEST_PKGS    = check pam pam_misc pwquality libsodium sqlite3 libsystemd libpq
# libunistring (lib/utf8.c: NFC, UTF-8, Unicode properties) has no
# pkg-config file; every program links lib/utf8.o.
UNISTRING_LIBS = -lunistring
# zxcvbn-c (lib/guess.c: the strength estimate) has no pkg-config file
# either; the daemon does not link lib/guess.o.
ZXCVBN_LIBS  = -lzxcvbn
# The breach filter's reader (lib/blocklist.o, linked beside lib/rules.o)
# needs libm.
BLOCKLIST_LIBS = -lm

lib_objs     = $(patsubst %,$(B)/lib/%.o,$(1))
prog_objs    = $(patsubst %,$(B)/pam_policy/%.o,$(1))

MODULE_OBJS  = $(call prog_objs,$(MODULE_NAMES)) $(call lib_objs,$(MODULE_LIB))
DAEMON_OBJS  = $(call prog_objs,$(DAEMON_NAMES)) $(call lib_objs,$(DAEMON_LIB))
CTL_OBJS     = $(call prog_objs,$(CTL_NAMES)) $(call lib_objs,$(CTL_LIB))
# Daemon and CLI code without their main(), for the tests that drive it.
DAEMON_PARTS = $(filter-out $(B)/pam_policy/daemon/main.o,$(call prog_objs,$(DAEMON_NAMES)))
CTL_PARTS    = $(filter-out $(B)/pam_policy/ctl/main.o,$(call prog_objs,$(CTL_NAMES)))

# ---------------------------------------------------------------------------
# Translations (gettext domain "pam_policy", DESIGN.md section 11). The
# languages are listed in po/LINGUAS; each po/LANG.po becomes
# $(B)/locale/LANG/LC_MESSAGES/pam_policy.mo, installed under LOCALEDIR.
# The template po/pam_policy.pot is regenerated by "make pot" from the
# files that show text to people (the daemon logs only, in English).

PO_DOMAIN = pam_policy
PO_LANGS  = $(shell sed -e 's/\#.*//' po/LINGUAS 2>/dev/null)
POT       = po/$(PO_DOMAIN).pot
POT_SRCS  = $(sort $(wildcard lib/*.c pam_policy/module/*.c pam_policy/ctl/*.c))
MO_FILES  = $(PO_LANGS:%=$(B)/locale/%/LC_MESSAGES/$(PO_DOMAIN).mo)
XGETTEXT  = xgettext
MSGFMT    = msgfmt
XGETTEXT_FLAGS = --language=C --from-code=UTF-8 --keyword=_ --keyword=N_ \
    --keyword=P_:1,2 --add-comments=TRANSLATORS --add-location=file \
    --package-name=pam_policy --package-version=$(VERSION) \
    --msgid-bugs-address="The pam_policy authors" \
    --copyright-holder="The pam_policy authors"

MODULE    = $(B)/pam_policy.so
DAEMON    = $(B)/pam_policyd
CTL       = $(B)/pam_policyctl
PROGRAMS  = $(MODULE) $(DAEMON) $(CTL)

# ---------------------------------------------------------------------------
# Flags. CPPFLAGS, CFLAGS and LDFLAGS from the environment are honoured;
# _FORTIFY_SOURCE is set only when the packager has not chosen a level.

# pkg-config is evaluated lazily, so "make deps" works before they exist.
pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pc_libs   = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)

CFLAGS   ?= -O2 -g
WERROR   ?= -Werror
WARN      = -Wall -Wextra $(WERROR) -Wshadow -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-unused-parameter
FORTIFY   = $(if $(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),,-D_FORTIFY_SOURCE=2)
HARDEN    = -fstack-protector-strong -fstack-clash-protection -fPIC
DEFINES   = -DPAM_POLICY_VERSION=\"$(VERSION)\" -DPAM_POLICY_SBINDIR=\"$(SBINDIR)\" \
            -DPAM_POLICY_BINDIR=\"$(BINDIR)\" -DPATHS_CONFIG_FILE=\"$(CONFIG_FILE)\" \
            -DPATHS_SOCKET=\"$(SOCKET_PATH)\" -DPATHS_LOCALEDIR=\"$(LOCALEDIR)\"
INCLUDES  = -Ilib
ALL_CPPFLAGS = $(FORTIFY) $(DEFINES) $(INCLUDES) $(CPPFLAGS)
ALL_CFLAGS = -std=gnu11 $(WARN) $(HARDEN) $(CFLAGS) $(SAN)
HARDEN_LD = -Wl,-z,relro -Wl,-z,now -Wl,-z,defs -Wl,--as-needed
ALL_LDFLAGS = $(HARDEN_LD) $(LDFLAGS) $(SAN)
PIE       = -fPIE -pie

COMPILE   = $(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP

.PHONY: all deps depcheck demo check test test-build check-san check-tsan \
        check-e2e check-durability bench fuzz install uninstall clean deb \
        version pot check-po
.DELETE_ON_ERROR:
.SECONDARY:
all: $(PROGRAMS) $(MO_FILES)

# "make deps" installs everything make check, check-e2e, bench and fuzz
# need; each of those targets (and demo) installs only its own set
# (tests/deps.sh SET: build, demo, check, e2e, bench, fuzz, deb).
deps:
	@sh tests/deps.sh all

version:
	@echo $(VERSION)

# One short message instead of pages of compiler errors when the -dev
# packages are missing.
BUILD_PKGS = pam:libpam0g-dev pwquality:libpwquality-dev \
             libsodium:libsodium-dev sqlite3:libsqlite3-dev \
             libsystemd:libsystemd-dev
depcheck:
	@command -v $(PKG_CONFIG) >/dev/null 2>&1 || { \
	    echo "pam_policy: pkg-config is missing; run 'make deps' as root" \
	         "(or: apt-get install pkg-config)" >&2; exit 1; }; \
	missing=""; for p in $(BUILD_PKGS); do \
	    $(PKG_CONFIG) --exists $${p%%:*} 2>/dev/null || missing="$$missing $${p#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "pam_policy: missing build dependencies:$$missing" >&2; \
	    echo "pam_policy: run 'make deps' as root (or: apt-get install$$missing)" >&2; \
	    exit 1; fi

# lib/ and the module's own code see only lib/ headers; the daemon's and
# the CLI's files also see their own directory.
$(B)/lib/%.o: lib/%.c | depcheck
	@mkdir -p $(@D)
	$(COMPILE) $(call pc_cflags,$(MODULE_PKGS)) -c -o $@ $<

$(B)/pam_policy/module/%.o: pam_policy/module/%.c | depcheck
	@mkdir -p $(@D)
	$(COMPILE) $(call pc_cflags,$(MODULE_PKGS)) -c -o $@ $<

$(B)/pam_policy/daemon/%.o: pam_policy/daemon/%.c | depcheck
	@mkdir -p $(@D)
	$(COMPILE) -Ipam_policy/daemon $(call pc_cflags,$(DAEMON_PKGS)) -c -o $@ $<

$(B)/pam_policy/ctl/%.o: pam_policy/ctl/%.c | depcheck
	@mkdir -p $(@D)
	$(COMPILE) -Ipam_policy/ctl $(call pc_cflags,$(CTL_PKGS)) -c -o $@ $<

# The module links libpam, libpwquality and libsodium; never SQLite or libpq.
$(MODULE): $(MODULE_OBJS) pam_policy/module/pam_policy.map
	$(CC) $(ALL_CFLAGS) -shared -o $@ $(MODULE_OBJS) $(ALL_LDFLAGS) \
	    -Wl,--version-script=pam_policy/module/pam_policy.map \
	    $(call pc_libs,$(MODULE_PKGS)) $(UNISTRING_LIBS) $(ZXCVBN_LIBS) $(BLOCKLIST_LIBS)

$(DAEMON): $(DAEMON_OBJS)
	$(CC) $(ALL_CFLAGS) $(PIE) -o $@ $(DAEMON_OBJS) $(ALL_LDFLAGS) \
	    $(call pc_libs,$(DAEMON_PKGS)) $(UNISTRING_LIBS) -lpthread

$(CTL): $(CTL_OBJS)
	$(CC) $(ALL_CFLAGS) $(PIE) -o $@ $(CTL_OBJS) $(ALL_LDFLAGS) \
	    $(call pc_libs,$(CTL_PKGS)) $(UNISTRING_LIBS) $(ZXCVBN_LIBS) $(BLOCKLIST_LIBS)

# The template, rewritten only when a message changed: a new creation date
# alone is not a change (translators merge from it).
FRESH_POT = $(B)/po/$(PO_DOMAIN).pot
$(FRESH_POT): $(POT_SRCS)
	@mkdir -p $(@D)
	$(XGETTEXT) $(XGETTEXT_FLAGS) -o $@ $(POT_SRCS)

pot: $(FRESH_POT)
	@if [ -f $(POT) ] && sed '/^"POT-Creation-Date:/d' $(POT) >$(B)/po/old.cmp && \
	    sed '/^"POT-Creation-Date:/d' $(B)/po/$(PO_DOMAIN).pot >$(B)/po/new.cmp && \
	    cmp -s $(B)/po/old.cmp $(B)/po/new.cmp; then \
	    echo "$(POT) is up to date"; \
	else cp $(B)/po/$(PO_DOMAIN).pot $(POT); echo "wrote $(POT)"; fi

# msgfmt --check: format strings, plural forms and the header agree.
$(B)/locale/%/LC_MESSAGES/$(PO_DOMAIN).mo: po/%.po
	@mkdir -p $(@D)
	$(MSGFMT) --check -o $@ $<

# Every language complete against the sources as they are now.
check-po: $(FRESH_POT)
	@sh tests/po-check.sh $(FRESH_POT) $(POT) $(PO_LANGS)

# ---------------------------------------------------------------------------
# Tests: one binary per test file, every one linked with the shared runner
# and harness. Unit tests drive one file's code; integration tests drive
# the real libpam stack and a real daemon.

TEST_SRCS   = $(sort $(wildcard tests/unit/test_*.c tests/integration/test_*.c))
TESTS       = $(patsubst %.c,$(B)/tests/%,$(notdir $(TEST_SRCS)))
TEST_COMMON = $(B)/tests/harness.o $(B)/tests/pg_harness.o $(B)/tests/runner.o
WRITER      = $(B)/tests/pam_test_writer.so
HELPERS     = $(B)/tests/pam_run $(B)/tests/notify_wait
# Every lib/ object plus the daemon's and CLI's parts (tests reach inside).
TEST_LINK   = $(TEST_COMMON) $(call lib_objs,$(LIB_NAMES)) $(DAEMON_PARTS) $(CTL_PARTS)
TEST_INCLUDES = -Itests -Ipam_policy/daemon -Ipam_policy/ctl

$(B)/tests/%.o: tests/%.c | depcheck
	@mkdir -p $(@D)
	$(COMPILE) $(TEST_INCLUDES) $(call pc_cflags,$(TEST_PKGS)) -c -o $@ $<

$(B)/tests/test_%.o: tests/unit/test_%.c | depcheck
	@mkdir -p $(@D)
	$(COMPILE) $(TEST_INCLUDES) $(call pc_cflags,$(TEST_PKGS)) -c -o $@ $<

$(B)/tests/test_%.o: tests/integration/test_%.c | depcheck
	@mkdir -p $(@D)
	$(COMPILE) $(TEST_INCLUDES) $(call pc_cflags,$(TEST_PKGS)) -c -o $@ $<

$(B)/tests/test_%: $(B)/tests/test_%.o $(TEST_LINK)
	$(CC) $(ALL_CFLAGS) $(PIE) -o $@ $< $(TEST_LINK) $(ALL_LDFLAGS) \
	    $(call pc_libs,$(TEST_PKGS)) $(UNISTRING_LIBS) $(ZXCVBN_LIBS) $(BLOCKLIST_LIBS) \
	    -ldl -lpthread

$(WRITER): tests/integration/pam_test_writer.c | depcheck
	@mkdir -p $(@D)
	$(COMPILE) -shared -o $@ $< $(ALL_LDFLAGS) $(call pc_libs,pam)

$(B)/tests/pam_run: tests/integration/pam_run.c | depcheck
	@mkdir -p $(@D)
	$(COMPILE) $(PIE) -o $@ $< $(ALL_LDFLAGS) $(call pc_libs,pam pam_misc)

$(B)/tests/notify_wait: tests/integration/notify_wait.c | depcheck
	@mkdir -p $(@D)
	$(COMPILE) $(PIE) -o $@ $< $(ALL_LDFLAGS)

# pam_policyctl reading the build's catalogues (test_i18n runs it in
# German, Spanish and French); the installed one reads LOCALEDIR's.
CTL_LOCALE = $(B)/tests/pam_policyctl-locale
$(B)/tests/ctl_main_locale.o: pam_policy/ctl/main.c | depcheck
	@mkdir -p $(@D)
	$(COMPILE) -UPATHS_LOCALEDIR -DPATHS_LOCALEDIR=\"$(abspath $(B))/locale\" \
	    -Ipam_policy/ctl $(call pc_cflags,$(CTL_PKGS)) -c -o $@ $<

$(CTL_LOCALE): $(B)/tests/ctl_main_locale.o $(CTL_PARTS) $(call lib_objs,$(CTL_LIB))
	$(CC) $(ALL_CFLAGS) $(PIE) -o $@ $^ $(ALL_LDFLAGS) \
	    $(call pc_libs,$(CTL_PKGS)) $(UNISTRING_LIBS) $(ZXCVBN_LIBS)

# Everything the tests need, built before any test runs.
test-build: $(PROGRAMS) $(MO_FILES) $(WRITER) $(HELPERS) $(CTL_LOCALE) $(TESTS)

# The demo needs the programs and two test helpers, not the test suite.
demo:
	@sh tests/deps.sh demo
	@$(MAKE) --no-print-directory $(PROGRAMS) $(WRITER) $(HELPERS)
	@sh tests/demo.sh $(B)

check:
	@sh tests/deps.sh check
	@$(MAKE) --no-print-directory test

test: test-build $(FRESH_POT)
	@sh tests/run-tests.sh $(B) $(TESTS)
	@sh tests/po-check.sh $(FRESH_POT) $(POT) $(PO_LANGS)

# nss_wrapper's RTLD_DEEPBIND dlopen of libc cannot run under ASan (nor
# TSan, below).
check-san:
	@NSS_WRAPPER_DISABLE_DEEPBIND=1 $(MAKE) --no-print-directory B=build-san \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    CFLAGS="-O1 -g" test

# The daemon's tests under ThreadSanitizer (the daemon is the threaded
# program; the module and the CLI are single-threaded). Tests whose daemon
# runs under libfaketime (test_rotation, test_shadow, test_clock, ...) are
# left out: libfaketime wraps pthread_cond_timedwait, so TSan does not see
# the mutex taken again and reports accesses made under that same mutex as
# races. The queues and workers are covered here without faketime.
TSAN_TESTS = test_daemon test_ctl test_store test_authz test_report test_stalls test_atomic test_secrets test_audit_daemon test_logging
# Suppressions (third-party libraries only) from a copy every uid can read:
# test_ctl runs pam_policyctl as nobody, and the tree may sit under /root.
# TSan runs code 5-15 times slower: Check's timeouts are scaled to match.
check-tsan:
	@supp=$$(mktemp "$${TMPDIR:-/tmp}/pam_policy-tsan.XXXXXX") && \
	cp tests/tsan.supp "$$supp" && chmod 0644 "$$supp" && \
	TSAN_OPTIONS="suppressions=$$supp $${TSAN_OPTIONS:-}" \
	NSS_WRAPPER_DISABLE_DEEPBIND=1 \
	CK_TIMEOUT_MULTIPLIER="$${CK_TIMEOUT_MULTIPLIER:-5}" \
	    $(MAKE) --no-print-directory B=build-tsan SAN="-fsanitize=thread" \
	    CFLAGS="-O1 -g" TESTS="$(TSAN_TESTS:%=build-tsan/tests/%)" test; \
	rc=$$?; rm -f "$$supp"; exit $$rc

check-e2e:
	@sh tests/deps.sh check e2e
	@$(MAKE) --no-print-directory test-build
	@sh tests/e2e/run.sh $(B)

bench:
	@sh tests/deps.sh check bench
	@$(MAKE) --no-print-directory $(PROGRAMS) $(WRITER) $(B)/tests/bench $(B)/tests/bench_blocklist \
	    $(B)/tests/bench_fleet
	@sh tests/bench/bench.sh $(B)

# Part F's helper (tests/bench/blocklist.sh): the breach filter's reader only.
$(B)/tests/bench_blocklist: tests/bench/bench_blocklist.c $(call lib_objs,error blocklist digest) | depcheck
	@mkdir -p $(@D)
	$(COMPILE) $(PIE) -o $@ $< $(call lib_objs,error blocklist digest) $(ALL_LDFLAGS) \
	    $(call pc_libs,libsodium)

$(B)/tests/bench: tests/bench/bench.c $(call lib_objs,$(LIB_NAMES)) $(DAEMON_PARTS) | depcheck
	@mkdir -p $(@D)
	$(COMPILE) $(TEST_INCLUDES) $(call pc_cflags,$(TEST_PKGS)) $(PIE) -o $@ $< \
	    $(call lib_objs,$(LIB_NAMES)) $(DAEMON_PARTS) $(ALL_LDFLAGS) \
	    $(call pc_libs,pam pam_misc pwquality libsodium sqlite3 libsystemd libpq) $(UNISTRING_LIBS) $(ZXCVBN_LIBS) $(BLOCKLIST_LIBS) \
	    -lcrypt -lpthread

# Part F: the fleet on a real PostgreSQL server (tests/pg_harness.c).
$(B)/tests/bench_fleet: tests/bench/fleet.c $(B)/tests/harness.o $(B)/tests/pg_harness.o \
    $(call lib_objs,$(LIB_NAMES)) | depcheck
	@mkdir -p $(@D)
	$(COMPILE) $(TEST_INCLUDES) $(call pc_cflags,$(TEST_PKGS)) $(PIE) -o $@ $< \
	    $(B)/tests/harness.o $(B)/tests/pg_harness.o $(call lib_objs,$(LIB_NAMES)) \
	    $(ALL_LDFLAGS) $(call pc_libs,pam pwquality libsodium) $(UNISTRING_LIBS) $(ZXCVBN_LIBS) -lpthread

# kill -9 the daemon DURABILITY_KILLS (100) times under concurrent records,
# then check every acknowledged one and the audit chain. Takes minutes: not
# part of make check.
check-durability: depcheck
	@$(MAKE) --no-print-directory $(PROGRAMS) $(B)/tests/durability
	@$(B)/tests/durability $(B)

$(B)/tests/durability: tests/durability/durability.c $(B)/tests/harness.o \
    $(call lib_objs,$(LIB_NAMES)) $(DAEMON_PARTS) | depcheck
	@mkdir -p $(@D)
	$(COMPILE) $(TEST_INCLUDES) $(call pc_cflags,$(TEST_PKGS)) $(PIE) -o $@ $< \
	    $(B)/tests/harness.o $(call lib_objs,$(LIB_NAMES)) $(DAEMON_PARTS) \
	    $(ALL_LDFLAGS) $(call pc_libs,pam pwquality libsodium sqlite3 libsystemd libpq) \
	    $(UNISTRING_LIBS) $(ZXCVBN_LIBS) $(BLOCKLIST_LIBS) -lpthread

FUZZ_SRCS = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS = $(FUZZ_SRCS:tests/fuzz/%.c=build-fuzz/%)
FUZZ_SECONDS ?= 60
fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
	    echo "== $$f for $(FUZZ_SECONDS)s"; \
	    mkdir -p build-fuzz/corpus-$${f##*/}; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        build-fuzz/corpus-$${f##*/} || exit 1; \
	done

FUZZ_LIB = $(patsubst %,lib/%.c,$(LIB_NAMES))
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB) | depcheck
	@mkdir -p build-fuzz
	clang -g -O1 -fsanitize=fuzzer,address,undefined $(DEFINES) $(INCLUDES) \
	    $(call pc_cflags,$(MODULE_PKGS)) -o $@ $< $(FUZZ_LIB) \
	    $(call pc_libs,$(MODULE_PKGS)) $(UNISTRING_LIBS) $(ZXCVBN_LIBS) $(BLOCKLIST_LIBS) -lpthread

-include $(shell find $(B) build-san build-tsan -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------------------
# Install and uninstall.

INSTALLED_FILES = $(SECUREDIR)/pam_policy.so $(SBINDIR)/pam_policyd \
    $(BINDIR)/pam_policyctl $(MANDIR)/man5/pam_policy.conf.5 \
    $(MANDIR)/man8/pam_policy.8 $(MANDIR)/man8/pam_policyd.8 \
    $(MANDIR)/man8/pam_policyctl.8 $(MANDIR)/man7/pam_policy-fleet.7 \
    $(UNITDIR)/pam_policyd.service \
    $(TMPFILESDIR)/pam_policy.conf $(SYSUSERSDIR)/pam_policy.conf \
    $(LOGROTATEDIR)/pam_policy $(PAMCONFIGDIR)/pam_policy \
    $(PAMCONFIGDIR)/pam_policy-record $(CATALOGDIR)/pam_policy.catalog \
    $(PO_LANGS:%=$(LOCALEDIR)/%/LC_MESSAGES/$(PO_DOMAIN).mo)
# Where releases before 0.2 put the CLI; uninstall removes it too.
OLD_FILES = $(SBINDIR)/pam_policyctl

# The sources name the default paths; the installed unit, tmpfiles.d,
# logrotate and configuration files and the man pages name this install's.
RUNDIR_NAME = $(patsubst /run/%,%,$(filter /run/%,$(SOCKET_DIR)))
SUBST = sed -e 's|/usr/sbin/pam_policyd|$(SBINDIR)/pam_policyd|g' \
    -e 's|/usr/s\{0,1\}bin/pam_policyctl|$(BINDIR)/pam_policyctl|g' \
    -e 's|\([ (]\)/lib/systemd/system/pam_policyd\.service|\1$(UNITDIR)/pam_policyd.service|g' \
    -e 's|/etc/security/pam_policy\.conf|$(CONFIG_FILE)|g' \
    -e 's|/run/pam_policy/pam_policyd\.sock|$(SOCKET_PATH)|g' \
    -e 's|/run/pam_policy\b|$(SOCKET_DIR)|g' \
    $(if $(RUNDIR_NAME),-e 's|^RuntimeDirectory=pam_policy$$|RuntimeDirectory=$(RUNDIR_NAME)|')

install: all
	install -d $(DESTDIR)$(SECUREDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(dir $(CONFIG_FILE)) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(MODULE) $(DESTDIR)$(SECUREDIR)/pam_policy.so
	install -m 0755 $(DAEMON) $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(CTL) $(DESTDIR)$(BINDIR)/
	@if [ -e $(DESTDIR)$(CONFIG_FILE) ]; then \
	    echo "keeping existing $(DESTDIR)$(CONFIG_FILE)"; \
	    $(SUBST) conf/pam_policy.conf > $(DESTDIR)$(CONFIG_FILE).new; \
	    chmod 0644 $(DESTDIR)$(CONFIG_FILE).new; \
	else \
	    $(SUBST) conf/pam_policy.conf > $(DESTDIR)$(CONFIG_FILE); \
	    chmod 0644 $(DESTDIR)$(CONFIG_FILE); \
	fi
	for f in man/*.5; do $(SUBST) $$f > $(DESTDIR)$(MANDIR)/man5/$${f#man/}; done
	for f in man/*.7; do $(SUBST) $$f > $(DESTDIR)$(MANDIR)/man7/$${f#man/}; done
	for f in man/*.8; do $(SUBST) $$f > $(DESTDIR)$(MANDIR)/man8/$${f#man/}; done
	chmod 0644 $(DESTDIR)$(MANDIR)/man5/*.5 $(DESTDIR)$(MANDIR)/man7/pam_policy*.7 \
	    $(DESTDIR)$(MANDIR)/man8/pam_policy*.8
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(TMPFILESDIR)
	$(SUBST) conf/pam_policyd.service > $(DESTDIR)$(UNITDIR)/pam_policyd.service
	$(SUBST) conf/tmpfiles-pam_policy.conf > $(DESTDIR)$(TMPFILESDIR)/pam_policy.conf
	chmod 0644 $(DESTDIR)$(UNITDIR)/pam_policyd.service $(DESTDIR)$(TMPFILESDIR)/pam_policy.conf
	install -d $(DESTDIR)$(LOGROTATEDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(PAMCONFIGDIR) $(DESTDIR)$(DOCDIR)/examples
	$(SUBST) conf/logrotate.d/pam_policy > $(DESTDIR)$(LOGROTATEDIR)/pam_policy
	chmod 0644 $(DESTDIR)$(LOGROTATEDIR)/pam_policy
	install -m 0644 conf/sysusers-pam_policy.conf $(DESTDIR)$(SYSUSERSDIR)/pam_policy.conf
	install -d $(DESTDIR)$(CATALOGDIR)
	install -m 0644 conf/pam_policy.catalog $(DESTDIR)$(CATALOGDIR)/pam_policy.catalog
	install -m 0644 conf/pam-configs/pam_policy conf/pam-configs/pam_policy-record \
	    $(DESTDIR)$(PAMCONFIGDIR)/
	install -m 0644 conf/examples/* $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 LICENSE $(DESTDIR)$(DOCDIR)/
	install -m 0644 conf/banned-words.example $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 conf/bash-completion/pam_policyctl $(DESTDIR)$(BASHCOMPDIR)/pam_policyctl
	for l in $(PO_LANGS); do \
	    install -d $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES && \
	    install -m 0644 $(B)/locale/$$l/LC_MESSAGES/$(PO_DOMAIN).mo \
	        $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES/$(PO_DOMAIN).mo || exit 1; \
	done
	@# The word list's index, on this machine only (a package build has a DESTDIR).
	@if [ -z "$(DESTDIR)" ]; then $(BINDIR)/pam_policyctl wordlist build || \
	    echo "install: no word list index; checks read the list itself" \
	         "(pam_policyctl wordlist status)"; fi

# The configuration file is the admin's: uninstall leaves it (and any
# .new beside it), like the state and the audit log.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED_FILES) $(OLD_FILES))
	rm -rf $(DESTDIR)$(DOCDIR)
	rm -f $(DESTDIR)$(BASHCOMPDIR)/pam_policyctl
	@echo "kept $(DESTDIR)$(CONFIG_FILE), the state and the audit log"

# ---------------------------------------------------------------------------
# Debian packages (debian/): libpam-policy and pam-policyd. Built by
# dpkg-buildpackage in a copy of the tree (DEB_WORK), so that no debian/
# build output lands here; the .deb files and lintian's verdict end up in
# DEB_OUT. Needs debhelper, fakeroot and lintian (tests/deps.sh deb).
DEB_WORK ?= $(or $(TMPDIR),/tmp)/pam_policy-deb
DEB_OUT  ?= $(B)/deb
deb:
	@sh tests/deps.sh deb
	@v=$$(dpkg-parsechangelog -l debian/changelog -S Version) && \
	[ "$$v" = "$(VERSION)" ] || { echo "deb: debian/changelog is at $$v," \
	    "the Makefile at $(VERSION): add a changelog entry (dch -v $(VERSION))" >&2; \
	    exit 1; }
	rm -rf $(DEB_WORK)
	mkdir -p $(DEB_WORK)/pam-policy-$(VERSION) $(DEB_OUT)
	tar -c --exclude=./.git --exclude='./build' --exclude='./build-*' \
	    --exclude=./debian/.debhelper --exclude=./debian/tmp . | \
	    tar -x -C $(DEB_WORK)/pam-policy-$(VERSION)
	cd $(DEB_WORK)/pam-policy-$(VERSION) && dpkg-buildpackage -us -uc -b -rfakeroot
	cp $(DEB_WORK)/*.deb $(DEB_WORK)/*.changes $(DEB_WORK)/*.buildinfo $(DEB_OUT)/
	lintian -EvIL +pedantic --fail-on error,warning $(DEB_OUT)/*_$(VERSION)_*.changes
	@ls -l $(DEB_OUT)/*_$(VERSION)_*.deb

clean:
	rm -rf build build-san build-tsan build-fuzz
