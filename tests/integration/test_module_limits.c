/*
 * test_module_limits.c - the module's limits through the real libpam: one
 * time budget per PAM call against a daemon that accepts and never
 * answers, a missing cracklib dictionary as a configuration error (module
 * and doctor), and the hard password limits root cannot override.
 *
 * The "stuck daemon" is a listening Unix socket in the test process that
 * is never accept()ed: connect() and the request's write succeed (the
 * kernel queues both), and the reply never comes. Times are measured with
 * CLOCK_MONOTONIC around one pam_chauthtok and asserted generously (well
 * under two budgets); nothing sleeps.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "doctor.h"
#include "harness.h"
#include "policy.h"
#include "rules.h"

#define BUDGET_MS 300              /* timeout_ms of these tests */
#define PW1 "Kq7!Vw3#mz"           /* passes every local rule */
#define PW2 "Tz9@Lp4$wx"
#define PW3 "Hb2%Rn8&qs"
#define MISSING_DICT "/nonexistent/pam_policy-test/cracklib_dict"

static char dir[4096];
static char written[4200];
static char conf[4200];
static char stuck_path[4200];
static int stuck_fd = -1;

static void setup(void)
{
	harness_tmpdir(dir, sizeof(dir));
	snprintf(written, sizeof(written), "%s/written", dir);
	snprintf(conf, sizeof(conf), "%s/pam_policy.conf", dir);
	snprintf(stuck_path, sizeof(stuck_path), "%s/stuck.sock", dir);
	stuck_fd = -1;
}

static void teardown(void)
{
	if (stuck_fd >= 0)
		close(stuck_fd);
	harness_rmtree(dir);
}

/* A daemon that is "running" but never answers: listen, never accept. */
/*
 * How many connections reached the stuck daemon: they wait, never
 * accepted, in its backlog; take them now without blocking. One budget per
 * PAM call means one connection: once the daemon failed to answer, later
 * requests of the call are not sent. (A count, not a time: a loaded
 * machine cannot make it flaky.)
 */
static int stuck_connections(void)
{
	int n = 0, fd;

	while ((fd = accept4(stuck_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		close(fd);
		n++;
	}
	ck_assert_msg(errno == EAGAIN || errno == EWOULDBLOCK, "accept: %s", strerror(errno));
	return n;
}

static void stuck_daemon_start(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	ck_assert_uint_lt(strlen(stuck_path), sizeof(sa.sun_path));
	strcpy(sa.sun_path, stuck_path);
	stuck_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(stuck_fd, 0);
	ck_assert_int_eq(bind(stuck_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(stuck_fd, 128), 0);
	ck_assert_int_eq(fcntl(stuck_fd, F_SETFL, O_NONBLOCK), 0);
}

/* The check line (with check_args), the writer, and the record line. */
static void stack(const char *config_text, const char *check_args, bool record)
{
	struct harness_stack spec = {
		.config = conf, .check_args = check_args, .writer_file = written,
		.record = record,
	};

	harness_write(conf, config_text);
	harness_stack_write(dir, "passwd", &spec);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int change(const char *user, int flags, struct harness_conv *c,
		  const char *const *answers, int64_t *elapsed_ms)
{
	int64_t start = mono_ms();
	int rc;

	harness_conv_init(c, answers);
	rc = harness_pam_chauthtok(dir, "passwd", user, flags, c);
	if (elapsed_ms != NULL)
		*elapsed_ms = mono_ms() - start;
	return rc;
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *at = strstr(hay, needle); at; at = strstr(at + 1, needle))
		n++;
	return n;
}

/* What the writer stored: "" when nothing was written. */
static char *stored(void)
{
	char *s = harness_read(written);
	return s ? s : strdup("");
}

/* ---- 9: one time budget per PAM call ---- */

START_TEST(test_stuck_daemon_retry_waits_once)
{
	struct harness_conv c;
	const char *answers[] = { PW1, PW2, PW3, NULL };
	char text[8192];
	int64_t ms;
	char *s;

	stuck_daemon_start();
	snprintf(text, sizeof(text), "socket = %s\ntimeout_ms = %d\nretry = 3\n"
		 "on_unreachable = deny\n", stuck_path, BUDGET_MS);
	stack(text, NULL, false);
	ck_assert_int_eq(change("alice", 0, &c, answers, &ms), PAM_AUTHTOK_ERR);
	/* Every attempt is refused for the history, as on_unreachable says... */
	ck_assert_int_eq(c.prompts, 3);
	ck_assert_uint_eq(count_of(c.log, "history check could not run"), 3);
	ck_assert_ptr_nonnull(strstr(c.log, "too many unsuccessful attempts"));
	/* ...but only the first one waited: one budget, not three. */
	ck_assert_msg(ms >= BUDGET_MS - 50, "did not wait for the daemon: %lld ms",
		      (long long)ms);
	ck_assert_int_eq(stuck_connections(), 1);
	s = stored();
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(test_stuck_daemon_check_and_record_share_budget)
{
	struct harness_conv c;
	const char *answers[] = { PW1, PW1, NULL };
	char text[8192];
	int64_t ms;
	char *s;

	/* An expired user's change: check line, writer, record line. */
	stuck_daemon_start();
	snprintf(text, sizeof(text), "socket = %s\ntimeout_ms = %d\nretry = 1\n"
		 "on_unreachable = allow\n", stuck_path, BUDGET_MS);
	stack(text, NULL, true);
	ck_assert_int_eq(change("alice", PAM_CHANGE_EXPIRED_AUTHTOK, &c, answers, &ms),
			 PAM_SUCCESS);
	s = stored();
	ck_assert_str_eq(s, "alice:" PW1 ":passwd\n");
	free(s);
	ck_assert_msg(ms >= BUDGET_MS - 50, "did not wait for the daemon: %lld ms",
		      (long long)ms);
	ck_assert_int_eq(stuck_connections(), 1);
}
END_TEST

/* ---- 10c: a missing cracklib dictionary ---- */

START_TEST(test_missing_dictionary_is_a_configuration_error)
{
	struct harness_conv c;
	const char *answers[] = { PW1, PW1, PW2, PW2, NULL };
	char *s;
	int rc;

	char errfile[4300];
	int saved_stderr, errfd;

	stack("history = 0\nmin_age_days = 0\nretry = 2\n"
	      "dictpath = " MISSING_DICT "\n", NULL, false);
	/* What passwd's user would see on the terminal besides the messages. */
	snprintf(errfile, sizeof(errfile), "%s/stderr", dir);
	errfd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(errfd, 0);
	fflush(stderr);
	saved_stderr = dup(2);
	ck_assert_int_ge(saved_stderr, 0);
	ck_assert_int_eq(dup2(errfd, 2), 2);
	rc = change("alice", 0, &c, answers, NULL);
	fflush(stderr);
	ck_assert_int_eq(dup2(saved_stderr, 2), 2);
	close(saved_stderr);
	close(errfd);
	ck_assert_int_eq(rc, PAM_AUTHTOK_ERR);
	s = harness_read(errfile);
	ck_assert_str_eq(s ? s : "", "");   /* cracklib was not let loose on it */
	free(s);
	ck_assert_ptr_nonnull(strstr(c.log, "E: The password dictionary is missing"));
	ck_assert_ptr_nonnull(strstr(c.log, "system administrator"));
	/* Not a verdict on the password, and no pointless re-prompt. */
	ck_assert_ptr_null(strstr(c.log, "dictionary word"));
	ck_assert_int_eq(c.prompts, 1);
	s = stored();
	ck_assert_str_eq(s, "");
	free(s);

	/* An expired user is told the same, not "based on a dictionary word". */
	ck_assert_int_eq(change("alice", PAM_CHANGE_EXPIRED_AUTHTOK, &c, answers, NULL),
			 PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "dictionary is missing"));

	/* With the dictionary where dictpath says, the same password passes. */
	stack("history = 0\nmin_age_days = 0\nretry = 2\n", NULL, false);
	ck_assert_int_eq(change("alice", 0, &c, answers, NULL), PAM_SUCCESS);
}
END_TEST

START_TEST(test_missing_dictionary_rules_say_config)
{
	struct policy p;
	struct rules_result res;

	policy_defaults(&p);
	ck_assert_int_eq(rules_check(&p, PW1, NULL, &res), PP_OK);
	ck_assert_uint_eq(res.count, 0);
	snprintf(p.dictpath, sizeof(p.dictpath), "%s", MISSING_DICT);
	ck_assert_int_eq(rules_check(&p, PW1, NULL, &res), PP_ERR_CONFIG);
	/* dictcheck off: the dictionary is not needed. */
	p.dictcheck = false;
	ck_assert_int_eq(rules_check(&p, PW1, NULL, &res), PP_OK);
}
END_TEST

static bool finding(const struct doctor_findings *f, enum doctor_level level,
		    const char *text)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->items[i].level == level && strstr(f->items[i].text, text))
			return true;
	return false;
}

/* The test's own directory as state_dir (doctor_state looks at it). */
static void set_state_dir(struct policy *p)
{
	ck_assert_uint_lt(strlen(dir), sizeof(p->state_dir));
	memcpy(p->state_dir, dir, strlen(dir) + 1);
}

START_TEST(test_doctor_checks_dictionary)
{
	struct doctor_findings f;
	struct policy p;

	policy_defaults(&p);
	set_state_dir(&p);
	snprintf(p.dictpath, sizeof(p.dictpath), "%s", MISSING_DICT);
	doctor_findings_init(&f);
	doctor_state(&p, &f);
	ck_assert(finding(&f, DOCTOR_PROBLEM, "cracklib dictionary " MISSING_DICT
			  " is missing"));
	doctor_findings_free(&f);

	policy_defaults(&p);
	set_state_dir(&p);
	doctor_findings_init(&f);
	doctor_state(&p, &f);
	ck_assert(finding(&f, DOCTOR_OK, "cracklib dictionary"));
	ck_assert(!finding(&f, DOCTOR_PROBLEM, "cracklib dictionary"));
	doctor_findings_free(&f);
}
END_TEST

/* ---- 10d: limits root cannot override ---- */

START_TEST(test_root_cannot_override_hard_limits)
{
	struct harness_conv c;
	char *huge = malloc(100 * 1024 + 1);
	const char *empty[] = { "", "", NULL };
	const char *bad_utf8[] = { "Abcdefgh1!\xff\xfe", "Abcdefgh1!\xff\xfe", NULL };
	const char *too_long[] = { huge, huge, NULL };
	const char *weak[] = { "weakpass", "weakpass", NULL };
	char *s;

	if (!harness_is_root())
		HARNESS_SKIP("needs root (the caller's real uid must be 0)");
	ck_assert_ptr_nonnull(huge);
	memset(huge, 'x', 100 * 1024);
	huge[100 * 1024] = '\0';
	stack("history = 0\nmin_age_days = 0\n", "retry=1 enforce_for_root=no", false);

	ck_assert_int_eq(change("alice", 0, &c, empty, NULL), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "E: The password was not accepted"));
	ck_assert_ptr_nonnull(strstr(c.log, "E: Root cannot override this"));
	ck_assert_ptr_null(strstr(c.log, "Accepted anyway"));

	ck_assert_int_eq(change("alice", 0, &c, bad_utf8, NULL), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "UTF-8"));
	ck_assert_ptr_nonnull(strstr(c.log, "E: Root cannot override this"));

	ck_assert_int_eq(change("alice", 0, &c, too_long, NULL), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "too long"));
	ck_assert_ptr_nonnull(strstr(c.log, "E: Root cannot override this"));

	/* None of them reached the writer. */
	s = stored();
	ck_assert_str_eq(s, "");
	free(s);

	/* The soft rules stay warnings for root, as documented. */
	ck_assert_int_eq(change("alice", 0, &c, weak, NULL), PAM_SUCCESS);
	ck_assert_ptr_nonnull(strstr(c.log, "Accepted anyway"));
	s = stored();
	ck_assert_str_eq(s, "alice:weakpass:passwd\n");
	free(s);
	free(huge);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("module limits");
	TCase *tc = tcase_create("limits");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_stuck_daemon_retry_waits_once);
	tcase_add_test(tc, test_stuck_daemon_check_and_record_share_budget);
	tcase_add_test(tc, test_missing_dictionary_is_a_configuration_error);
	tcase_add_test(tc, test_missing_dictionary_rules_say_config);
	tcase_add_test(tc, test_doctor_checks_dictionary);
	tcase_add_test(tc, test_root_cannot_override_hard_limits);
	suite_add_tcase(s, tc);
	return s;
}
