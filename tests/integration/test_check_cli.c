/*
 * test_check_cli.c - "pam_policyctl check [--user USER]" (issue 11, item
 * 6): the real binary, the password on standard input (never in argv),
 * against a pam_policyd on a temp socket and store. Exit codes, the
 * reasons printed (the module's sentences), the name rules with --user,
 * the history (read-only: a check never records), the NFC form sent to
 * the daemon, the 511-byte limit.
 *
 * Users come from nss_wrapper (tests/run-tests.sh): alice 1001 with GECOS
 * "Alice Wonderland,,,". The daemon answers root and its own uid, so the
 * history tests pass as root or as the daemon's user.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"
#include "request.h"

#define TIMEOUT_MS 10000
#define PW_GOOD "Kq7!Vw3#mz"
#define PW_OLD "Tz9@Lp4$wx"
#define CAFE_NFC "Zk9!Caf\xc3\xa9#wQ"
#define CAFE_NFD "Zk9!Cafe\xcc\x81#wQ"

static char dir[4096];
static struct harness_daemon daemon_state;

static void kill_leftover_daemon(void)
{
	if (daemon_state.pid > 0)
		harness_daemon_kill(&daemon_state);
}

static void setup(void)
{
	static bool registered;

	if (!registered) {
		atexit(kill_leftover_daemon);
		registered = true;
	}
	memset(&daemon_state, 0, sizeof(daemon_state));
	harness_tmpdir(dir, sizeof(dir));
	ck_assert_msg(harness_daemon_start(&daemon_state, dir,
					   "history = 5\nmin_age_days = 0\n", false),
		      "pam_policyd did not start");
}

static void teardown(void)
{
	kill_leftover_daemon();
	harness_rmtree(dir);
}

/*
 * Run build/pam_policyctl -c config check [args] with input[0..len) as its
 * standard input (a file: not a terminal). Nothing of the password is on
 * the command line.
 */
static void run_check(struct harness_run *r, const char *config, const char *input, size_t len,
		      const char *const *args)
{
	const char *argv[16];
	int n = 0;

	argv[n++] = "-c";
	argv[n++] = config;
	argv[n++] = "check";
	for (int i = 0; args != NULL && args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	harness_ctl_run(r, dir, input, len, argv);
}

/* A password as one line on stdin; args after "check" (NULL-terminated). */
#define CHECK(r, line, ...) \
	run_check((r), daemon_state.config, line "\n", strlen(line "\n"), \
		  (const char *const[]){ __VA_ARGS__ })

static void assert_contains(const char *hay, const char *needle)
{
	ck_assert_msg(strstr(hay, needle) != NULL, "expected \"%s\" in:\n%s", needle, hay);
}

/* The password appears in neither output. */
static void assert_not_echoed(const struct harness_run *r, const char *password)
{
	ck_assert_msg(strstr(r->out, password) == NULL, "password on stdout:\n%s", r->out);
	ck_assert_msg(strstr(r->err, password) == NULL, "password on stderr:\n%s", r->err);
}

static long history_count(const char *user)
{
	struct request_status_result st;

	ck_assert_int_eq(request_status(daemon_state.socket, TIMEOUT_MS, user, 0, 0, &st),
			 PP_OK);
	return st.found ? st.history_count : 0;
}

START_TEST(test_accepted_exit_0)
{
	struct harness_run r;

	CHECK(&r, PW_GOOD, NULL);
	ck_assert_msg(r.status == 0, "exit %d\n%s%s", r.status, r.out, r.err);
	assert_contains(r.out, "The password would be accepted.");
	assert_contains(r.out, "Length: 10 characters, classes: 4 of 4");
	assert_not_echoed(&r, PW_GOOD);
	harness_run_free(&r);
}
END_TEST

START_TEST(test_rejected_every_reason_exit_1)
{
	struct harness_run r;

	CHECK(&r, "abc", NULL);
	ck_assert_int_eq(r.status, 1);
	/* The module's message: one list with every reason. */
	assert_contains(r.out, "The password was not accepted:");
	assert_contains(r.out, "  - It is too short: use at least 10 characters (it has 3).");
	assert_contains(r.out, "  - It needs at least one uppercase letter (A-Z).");
	assert_contains(r.out, "  - It needs at least one digit (0-9).");
	assert_contains(r.out, "  - It needs at least one special character");
	assert_not_echoed(&r, "abc");
	harness_run_free(&r);

	CHECK(&r, "Password1!", NULL);
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "It is based on a dictionary word.");
	harness_run_free(&r);
}
END_TEST

START_TEST(test_password_never_from_argv)
{
	struct harness_run r;

	/* A password given as an argument is refused, not judged. */
	CHECK(&r, "", PW_GOOD, NULL);
	ck_assert_int_eq(r.status, 2);
	assert_contains(r.err, "never from the command line");
	ck_assert_ptr_null(strstr(r.out, "accepted"));
	assert_not_echoed(&r, PW_GOOD);
	harness_run_free(&r);
	/* No input at all: a usage error, not the empty password. */
	run_check(&r, daemon_state.config, "", 0, (const char *const[]){ NULL });
	ck_assert_int_eq(r.status, 2);
	assert_contains(r.err, "no password on standard input");
	harness_run_free(&r);
	CHECK(&r, PW_GOOD, "--bogus", NULL);
	ck_assert_int_eq(r.status, 2);
	harness_run_free(&r);
	CHECK(&r, PW_GOOD, "--user", NULL);
	ck_assert_int_eq(r.status, 2);
	harness_run_free(&r);
}
END_TEST

START_TEST(test_user_name_rules_and_unknown_user)
{
	struct harness_run r;

	CHECK(&r, "Zk9!wonderLAND#", "--user", "alice", NULL);
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "It must not contain your name or other words from your "
		       "account details.");
	harness_run_free(&r);
	/* Without --user the same password passes: no names to compare. */
	CHECK(&r, "Zk9!wonderLAND#", NULL);
	ck_assert_msg(r.status == 0, "exit %d\n%s", r.status, r.out);
	harness_run_free(&r);
	CHECK(&r, PW_GOOD, "--user", "no-such-user-here", NULL);
	ck_assert_int_eq(r.status, 5);
	assert_contains(r.err, "no such user");
	harness_run_free(&r);
}
END_TEST

START_TEST(test_history_reused_read_only)
{
	struct harness_run r;

	ck_assert_int_eq(request_record(daemon_state.socket, TIMEOUT_MS, "alice", PW_OLD, 5,
					"test"), PP_OK);
	ck_assert_int_eq(history_count("alice"), 1);

	CHECK(&r, PW_OLD, "--user", "alice", NULL);
	ck_assert_msg(r.status == 1, "exit %d\n%s%s", r.status, r.out, r.err);
	assert_contains(r.out, "It was used before");
	assert_contains(r.out, "History: compared with the last 5 passwords of alice");
	assert_not_echoed(&r, PW_OLD);
	harness_run_free(&r);

	/* Without --user the history is not asked: accepted. */
	CHECK(&r, PW_OLD, NULL);
	ck_assert_int_eq(r.status, 0);
	assert_contains(r.out, "History: not checked");
	harness_run_free(&r);

	/* A new password passes, and checking it recorded nothing. */
	CHECK(&r, PW_GOOD, "--user", "alice", NULL);
	ck_assert_msg(r.status == 0, "exit %d\n%s%s", r.status, r.out, r.err);
	harness_run_free(&r);
	ck_assert_int_eq(history_count("alice"), 1);
	CHECK(&r, PW_GOOD, "--user", "alice", NULL);
	ck_assert_int_eq(r.status, 0);
	harness_run_free(&r);
}
END_TEST

START_TEST(test_history_compares_nfc)
{
	struct harness_run r;

	/* What the module records: the NFC form. */
	ck_assert_int_eq(request_record(daemon_state.socket, TIMEOUT_MS, "alice", CAFE_NFC,
					5, "test"), PP_OK);
	CHECK(&r, CAFE_NFD, "--user", "alice", NULL);
	ck_assert_msg(r.status == 1, "exit %d\n%s%s", r.status, r.out, r.err);
	assert_contains(r.out, "It was used before");
	assert_contains(r.out, "Length: 11 characters");
	harness_run_free(&r);
}
END_TEST

START_TEST(test_limit_511_bytes)
{
	char pw[514];
	const char *good = "Zk9!rT4#wQ";
	struct harness_run r;

	for (size_t i = 0; i < 512; i++)
		pw[i] = good[i % 10];
	pw[512] = '\n';
	run_check(&r, daemon_state.config, pw, 513, (const char *const[]){ NULL });
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "It is too long: use at most 511 characters");
	harness_run_free(&r);
	pw[511] = '\n';
	run_check(&r, daemon_state.config, pw, 512, (const char *const[]){ NULL });
	ck_assert_msg(r.status == 0, "exit %d\n%s", r.status, r.out);
	harness_run_free(&r);
	/* A NUL byte can never reach the module: refused as not text. */
	run_check(&r, daemon_state.config, "Zk9!r\0T4#wQ\n", 12, (const char *const[]){ NULL });
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "not valid UTF-8 text");
	harness_run_free(&r);
}
END_TEST

START_TEST(test_daemon_unreachable)
{
	char config[4300];
	struct harness_run r;

	snprintf(config, sizeof(config), "%s/unreachable.conf", dir);
	harness_write(config, "history = 5\nsocket = /nonexistent/pam_policy.sock\n"
		      "timeout_ms = 500\n");
	/* Local rules pass, the history was asked for and cannot be had. */
	run_check(&r, config, PW_GOOD "\n", strlen(PW_GOOD "\n"),
		  (const char *const[]){ "--user", "alice", NULL });
	ck_assert_msg(r.status == 3, "exit %d\n%s%s", r.status, r.out, r.err);
	assert_contains(r.out, "History: not checked (cannot reach pam_policyd");
	harness_run_free(&r);
	/* A local failure is a verdict either way. */
	run_check(&r, config, "abc\n", 4, (const char *const[]){ "--user", "alice", NULL });
	ck_assert_int_eq(r.status, 1);
	harness_run_free(&r);
	/* A broken configuration: exit 6. */
	harness_write(config, "no_such_key = 1\n");
	run_check(&r, config, PW_GOOD "\n", strlen(PW_GOOD "\n"), (const char *const[]){ NULL });
	ck_assert_int_eq(r.status, 6);
	harness_run_free(&r);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("check_cli");
	TCase *tc = tcase_create("cli");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_accepted_exit_0);
	tcase_add_test(tc, test_rejected_every_reason_exit_1);
	tcase_add_test(tc, test_password_never_from_argv);
	tcase_add_test(tc, test_user_name_rules_and_unknown_user);
	tcase_add_test(tc, test_history_reused_read_only);
	tcase_add_test(tc, test_history_compares_nfc);
	tcase_add_test(tc, test_limit_511_bytes);
	tcase_add_test(tc, test_daemon_unreachable);
	suite_add_tcase(s, tc);
	return s;
}
