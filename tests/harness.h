/*
 * harness.h - shared helpers for the Check test programs.
 *
 * The tests run under tests/run-tests.sh, which supplies test users through
 * nss_wrapper and points PAM_POLICY_TEST_BUILD at the build directory.
 * Nothing here is used by production code.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_HARNESS_H
#define PAM_POLICY_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <security/pam_appl.h>
#include <check.h>

/*
 * Every test program defines test_suite(); tests/runner.c holds the one
 * main(). test_before_all() and test_after_all(), when a file defines
 * them, run once around the whole suite (in the parent process).
 */
Suite *test_suite(void);
void test_before_all(void);
void test_after_all(void);

/*
 * HARNESS_SKIP - end the current test as skipped, saying why (e.g. "needs
 * root"). The runner counts it as a skip, not as a pass.
 */
#define HARNESS_SKIP(why) do { harness_skip(__func__, (why)); return; } while (0)
void harness_skip(const char *test, const char *why);

#define HARNESS_MAX_ANSWERS 32
#define HARNESS_LOG_SIZE 16384

/* A scripted PAM conversation: answers prompts in order, records messages. */
struct harness_conv {
	const char *answers[HARNESS_MAX_ANSWERS];
	int n_answers;
	int next;                     /* index of the next answer */
	int prompts;                  /* prompts seen (echo off + echo on) */
	int errors;                   /* PAM_ERROR_MSG seen */
	int infos;                    /* PAM_TEXT_INFO seen */
	char log[HARNESS_LOG_SIZE];   /* "E: text\n", "I: text\n", "P: text\n" */
};

/* harness_conv_function - the pam_conv callback; appdata is a harness_conv. */
int harness_conv_function(int n, const struct pam_message **msg,
			  struct pam_response **resp, void *appdata);

/* harness_conv_init - reset c and load a NULL-terminated list of answers. */
void harness_conv_init(struct harness_conv *c, const char *const *answers);

/* harness_build - path of a file in the build dir (one of 4 rotating buffers). */
const char *harness_build(const char *name);

/* harness_top - the source tree's top directory. */
const char *harness_top(void);

/* harness_tmpdir - a fresh private directory under $TMPDIR; aborts on error. */
void harness_tmpdir(char *buf, size_t len);

/* harness_write - write text to path (mode 0644); aborts on error. */
void harness_write(const char *path, const char *text);

/* harness_read - read a whole file into a malloc'd string, NULL if absent. */
char *harness_read(const char *path);

/* What a program run by harness_ctl_run did. */
struct harness_run {
	int status;           /* exit code, or 128 + signal */
	char *out, *err;      /* its standard output and error (malloc'd) */
};

/*
 * harness_ctl_run - run build/pam_policyctl with args (NULL-ended, without
 * argv[0]), the len bytes of input as its standard input (a file, not a
 * terminal; input NULL: empty), and its output captured through files in
 * dir. Aborts when it cannot be run. harness_run_free releases r.
 */
void harness_ctl_run(struct harness_run *r, const char *dir, const char *input,
		     size_t len, const char *const *args);
void harness_run_free(struct harness_run *r);

/* harness_rmtree - remove a directory tree (best effort). */
void harness_rmtree(const char *path);

/* harness_is_root - true when running as uid 0. */
bool harness_is_root(void);

/*
 * harness_pam_module - the path of a host PAM module (e.g. "pam_permit.so")
 * in the module directory tests/paths.sh found (PAM_POLICY_TEST_SECUREDIR,
 * never a hard-coded /lib/<arch>/security). Without it, the bare name:
 * libpam resolves that against its own module directory. One of 4
 * rotating buffers.
 */
const char *harness_pam_module(const char *name);

/* harness_faketime_lib - libfaketimeMT.so.1 as tests/paths.sh found it, or NULL. */
const char *harness_faketime_lib(void);

/*
 * A PAM service file built around pam_policy.so (build/pam_policy.so) and
 * the test writer (build/tests/pam_test_writer.so), in this order:
 *
 *   auth     required  pam_test_writer.so <auth_args>           if auth_args
 *   account  required  pam_policy.so config=C <account_args>    if account
 *   <after_account, verbatim>
 *   password required  pam_test_writer.so <writer_before>       if writer_before
 *   password requisite pam_policy.so config=C <check_args>      the check line
 *   password required  pam_test_writer.so file=<writer_file>    the writer
 *   password optional  pam_policy.so config=C record            if record
 *
 * config NULL leaves config= out (the module's default file). Every string
 * may be NULL.
 */
struct harness_stack {
	const char *config;          /* config= of every pam_policy.so line */
	const char *auth_args;       /* an auth line: "authtok=X" leaves PAM_AUTHTOK
					as a password login does */
	bool account;                /* start with the account line */
	const char *account_args;    /* extra arguments of the account line */
	const char *after_account;   /* lines after it, e.g. another module */
	const char *writer_before;   /* a writer line above the check: "prompt", "old" */
	const char *check_args;      /* extra arguments of the check line */
	const char *writer_file;     /* where the writer below the check stores */
	bool record;                 /* end with the record line */
};

/* harness_stack_write - write dir/service from spec; aborts on error. */
void harness_stack_write(const char *dir, const char *service,
			 const struct harness_stack *spec);

/*
 * harness_pam_run - start the service stack found in confdir, run
 * pam_chauthtok (chauthtok=true) or pam_acct_mgmt with flags, end the
 * transaction, and return the PAM code of the call. conv collects messages.
 */
int harness_pam_chauthtok(const char *confdir, const char *service,
			  const char *user, int flags,
			  struct harness_conv *conv);
int harness_pam_acct_mgmt(const char *confdir, const char *service,
			  const char *user, int flags,
			  struct harness_conv *conv);

/*
 * How a login reached the call, for harness_pam_*_with: PAM_RHOST and
 * PAM_TTY set by the application (NULL: unset), env a "NAME=value" put
 * into the PAM environment (e.g. sshd's SSH_AUTH_INFO_0), and with
 * authenticate, pam_authenticate first in the same transaction (the
 * stack's auth line, see harness_stack.auth_args), as login and sshd do.
 */
struct harness_login {
	bool authenticate;
	const char *rhost;
	const char *tty;
	const char *env;
};

/* harness_pam_chauthtok/acct_mgmt in a transaction set up as login says. */
int harness_pam_chauthtok_with(const char *confdir, const char *service,
			       const char *user, int flags,
			       const struct harness_login *login,
			       struct harness_conv *conv);
int harness_pam_acct_mgmt_with(const char *confdir, const char *service,
			       const char *user, int flags,
			       const struct harness_login *login,
			       struct harness_conv *conv);

/*
 * A pam_policyd started for one test: its own socket, state dir, audit log
 * and config file, all under dir. Readiness is signalled by the daemon on
 * a NOTIFY_SOCKET datagram, so nothing sleeps.
 */
struct harness_daemon {
	char dir[4096];
	char config[4200];
	char socket[4200];
	char state[4200];
	char audit[4200];
	char clock[4200];        /* faketime spec file ("" = real time) */
	pid_t pid;
};

/*
 * harness_daemon_start - write d->config (extra_config appended to the
 * paths it sets) and start build/pam_policyd -f on it. With fake_time
 * true the daemon runs under libfaketime, reading its offset from
 * d->clock (see harness_daemon_set_clock); the test process keeps real
 * time. Returns false (with a message on stderr) when it did not start.
 */
bool harness_daemon_start(struct harness_daemon *d, const char *dir,
			  const char *extra_config, bool fake_time);

/* harness_daemon_set_clock - e.g. "+91d": the daemon's clock from now on. */
void harness_daemon_set_clock(struct harness_daemon *d, const char *spec);

/* harness_daemon_stop - SIGTERM and wait; returns the exit status. */
int harness_daemon_stop(struct harness_daemon *d);

/* harness_daemon_kill - SIGKILL and wait. */
void harness_daemon_kill(struct harness_daemon *d);

/* harness_connect - a connected socket to path, or -1. */
int harness_connect(const char *path);

#endif
