# pam_policy - password-policy enforcement for Linux-PAM
#
#   make deps       install build/test dependencies (apt-get, as root)
#   make            build pam_policy.so, pam_policyd, pam_policyctl
#   make demo       show a password change through the real libpam
#   make check      unit + PAM integration tests (no root, no system change)
#   make check-san  the same suite built with ASan + UBSan
#   make check-e2e  end-to-end tier: useradd, passwd, sshd (root only)
#   make bench      benchmarks beside pam_pwhistory / pam_unix
#   make fuzz       libFuzzer targets (clang)
#   make install    honours DESTDIR and PREFIX
#   make clean

VERSION    = 0.1.0
PREFIX    ?= /usr
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
SECUREDIR ?= $(if $(MULTIARCH),/lib/$(MULTIARCH)/security,/lib64/security)
UNITDIR   ?= /lib/systemd/system
TMPFILESDIR ?= /usr/lib/tmpfiles.d
SYSUSERSDIR ?= /usr/lib/sysusers.d
PAMCONFIGDIR ?= /usr/share/pam-configs
DOCDIR    ?= $(PREFIX)/share/doc/pam_policy

B         ?= build
CC        ?= cc
PKG_CONFIG ?= pkg-config

# pkg-config is evaluated lazily, so "make deps" works before they exist.
MODULE_PKGS = pam pwquality libsodium
DAEMON_PKGS = pwquality libsodium sqlite3
TEST_PKGS   = check pam pam_misc pwquality libsodium sqlite3
pc_cflags   = $(shell $(PKG_CONFIG) --cflags $(1))
pc_libs     = $(shell $(PKG_CONFIG) --libs $(1))

CFLAGS   ?= -O2 -g
WERROR   ?= -Werror
WARN      = -Wall -Wextra $(WERROR) -Wshadow -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-unused-parameter
HARDEN    = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection \
            -fPIC
ALL_CFLAGS = -std=gnu11 $(WARN) $(HARDEN) $(CFLAGS) $(SAN) -Ilib \
            -DPAM_POLICY_VERSION=\"$(VERSION)\" \
            -DPAM_POLICY_SBINDIR=\"$(SBINDIR)\"
HARDEN_LD = -Wl,-z,relro -Wl,-z,now -Wl,-z,defs -Wl,--as-needed
ALL_LDFLAGS = $(HARDEN_LD) $(LDFLAGS) $(SAN)

LIB_SRCS  = $(sort $(wildcard lib/*.c))
LIB_OBJS  = $(LIB_SRCS:lib/%.c=$(B)/lib/%.o)
LIB_A     = $(B)/libpampolicy.a
MODULE    = $(B)/pam_policy.so
DAEMON    = $(B)/pam_policyd
CTL       = $(B)/pam_policyctl
WRITER    = $(B)/tests/pam_test_writer.so
TEST_SRCS = $(sort $(wildcard tests/test_*.c))
TESTS     = $(TEST_SRCS:tests/%.c=$(B)/tests/%)
HELPERS   = $(B)/tests/pam_run $(B)/tests/notify_wait

PROGRAMS  = $(MODULE) $(DAEMON) $(CTL)

.PHONY: all deps demo check test check-san check-e2e bench fuzz install clean
all: $(PROGRAMS)

deps:
	@sh tests/deps.sh

$(B)/lib/%.o: lib/%.c lib/*.h | $(B)/lib
	$(CC) $(ALL_CFLAGS) $(call pc_cflags,$(MODULE_PKGS) sqlite3) -c -o $@ $<

$(LIB_A): $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

# The module links libpam, libpwquality and libsodium; never SQLite.
$(MODULE): pam_policy/pam_policy.c pam_policy/pam_policy.map $(LIB_A) | $(B)
	$(CC) $(ALL_CFLAGS) $(call pc_cflags,$(MODULE_PKGS)) -shared -o $@ $< $(LIB_A) \
	    $(ALL_LDFLAGS) -Wl,--version-script=pam_policy/pam_policy.map \
	    $(call pc_libs,$(MODULE_PKGS))

$(DAEMON): pam_policy/pam_policyd.c $(LIB_A) | $(B)
	$(CC) $(ALL_CFLAGS) -fPIE -pie -o $@ $< $(LIB_A) $(ALL_LDFLAGS) \
	    $(call pc_libs,$(DAEMON_PKGS)) -lpthread

$(CTL): pam_policy/pam_policyctl.c $(LIB_A) | $(B)
	$(CC) $(ALL_CFLAGS) -fPIE -pie -o $@ $< $(LIB_A) $(ALL_LDFLAGS) \
	    $(call pc_libs,$(DAEMON_PKGS))

$(WRITER): tests/pam_test_writer.c | $(B)/tests
	$(CC) $(ALL_CFLAGS) -shared -o $@ $< $(ALL_LDFLAGS) $(call pc_libs,pam)

$(B)/tests/pam_run: tests/pam_run.c | $(B)/tests
	$(CC) $(ALL_CFLAGS) -fPIE -pie -o $@ $< $(ALL_LDFLAGS) $(call pc_libs,pam pam_misc)

$(B)/tests/notify_wait: tests/notify_wait.c | $(B)/tests
	$(CC) $(ALL_CFLAGS) -fPIE -pie -o $@ $< $(ALL_LDFLAGS)

$(B)/tests/test_%: tests/test_%.c tests/harness.h tests/harness.c $(LIB_A) | $(B)/tests
	$(CC) $(ALL_CFLAGS) $(call pc_cflags,$(TEST_PKGS)) -fPIE -pie -o $@ $< tests/harness.c \
	    $(LIB_A) $(ALL_LDFLAGS) $(call pc_libs,$(TEST_PKGS)) -lpthread

$(B) $(B)/lib $(B)/tests:
	mkdir -p $@

# Everything the tests need, built before any test runs.
test-build: $(PROGRAMS) $(WRITER) $(HELPERS) $(TESTS)

demo: deps
	@$(MAKE) --no-print-directory test-build
	@sh tests/demo.sh $(B)

check: deps
	@$(MAKE) --no-print-directory test

test: test-build
	@sh tests/run-tests.sh $(B) $(TESTS)

check-san:
	@$(MAKE) --no-print-directory B=build-san \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    CFLAGS="-O1 -g" test

check-e2e: deps
	@$(MAKE) --no-print-directory test-build
	@sh tests/e2e.sh $(B)

bench: deps
	@$(MAKE) --no-print-directory $(MODULE) $(DAEMON) $(WRITER) $(B)/tests/bench
	@$(if $(wildcard pam_policy/pam_policyctl.c),$(MAKE) --no-print-directory $(CTL) || \
	    echo "bench: pam_policyctl does not build: its report timing is skipped",:)
	@sh tests/bench.sh $(B)

$(B)/tests/bench: tests/bench.c $(LIB_A) | $(B)/tests
	$(CC) $(ALL_CFLAGS) $(call pc_cflags,$(TEST_PKGS)) -fPIE -pie -o $@ $< \
	    $(LIB_A) $(ALL_LDFLAGS) $(call pc_libs,pam pam_misc pwquality libsodium sqlite3) \
	    -lcrypt -lpthread

FUZZ_SRCS = $(sort $(wildcard tests/fuzz_*.c))
FUZZ_BINS = $(FUZZ_SRCS:tests/%.c=build-fuzz/%)
FUZZ_SECONDS ?= 60
fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
	    echo "== $$f for $(FUZZ_SECONDS)s"; \
	    mkdir -p build-fuzz/corpus-$${f##*/}; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        build-fuzz/corpus-$${f##*/} || exit 1; \
	done

build-fuzz/fuzz_%: tests/fuzz_%.c $(LIB_SRCS) lib/*.h
	mkdir -p build-fuzz
	clang -g -O1 -fsanitize=fuzzer,address,undefined -Ilib \
	    -DPAM_POLICY_VERSION=\"$(VERSION)\" -DPAM_POLICY_SBINDIR=\"$(SBINDIR)\" \
	    $(call pc_cflags,$(MODULE_PKGS) sqlite3) -o $@ $< $(LIB_SRCS) \
	    $(call pc_libs,$(MODULE_PKGS) sqlite3) -lpthread

install: all
	install -d $(DESTDIR)$(SECUREDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/security $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(MODULE) $(DESTDIR)$(SECUREDIR)/pam_policy.so
	install -m 0755 $(DAEMON) $(CTL) $(DESTDIR)$(SBINDIR)/
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/security/pam_policy.conf ]; then \
	    echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/security/pam_policy.conf"; \
	    install -m 0644 conf/pam_policy.conf $(DESTDIR)$(SYSCONFDIR)/security/pam_policy.conf.new; \
	else \
	    install -m 0644 conf/pam_policy.conf $(DESTDIR)$(SYSCONFDIR)/security/pam_policy.conf; \
	fi
	install -m 0644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(TMPFILESDIR)
	install -m 0644 conf/pam_policyd.service $(DESTDIR)$(UNITDIR)/
	install -m 0644 conf/tmpfiles-pam_policy.conf $(DESTDIR)$(TMPFILESDIR)/pam_policy.conf
	install -d $(DESTDIR)$(SYSCONFDIR)/logrotate.d $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(PAMCONFIGDIR) $(DESTDIR)$(DOCDIR)/examples
	install -m 0644 conf/logrotate.d/pam_policy $(DESTDIR)$(SYSCONFDIR)/logrotate.d/pam_policy
	install -m 0644 conf/sysusers-pam_policy.conf $(DESTDIR)$(SYSUSERSDIR)/pam_policy.conf
	install -m 0644 conf/pam-configs/pam_policy conf/pam-configs/pam_policy-record \
	    $(DESTDIR)$(PAMCONFIGDIR)/
	install -m 0644 conf/examples/* $(DESTDIR)$(DOCDIR)/examples/

clean:
	rm -rf build build-san build-fuzz
