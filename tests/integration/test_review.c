/*
 * test_review.c - last logins, inactivity and the access review, as an
 * auditor sees them: pam_policyctl report / review output, PAM results
 * and messages of the account line, and the audit log.
 *
 * Users come from nss_wrapper (tests/run-tests.sh): root 0, alice 1001
 * (in sudo), bob 1002 (in pampolicy-audit), carol 1003 (exempt_users),
 * dave 1004 (in pwexempt), svc 500 (a system account), nobody 65534.
 * Logins go through the real libpam stack (the module's account line).
 * The daemon writes logins in batches; a stop (SIGTERM) writes the last
 * batch, so persistence is checked across a restart, never by sleeping.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"
#include "request.h"

#define CONFIG "max_age_days = 90\nwarn_days = 14\nhistory = 5\n" \
	"exempt_users = carol\nexempt_groups = pwexempt\n" \
	"privileged_groups = pampolicy-audit\n"
#define INACTIVE_CONFIG CONFIG "inactive_days = 30\n"
#define DORMANT_TEXT "Your account has not been used for 31 days and is locked for " \
	"inactivity; contact your administrator."

static char dir[4096];
static struct harness_daemon d;

struct run {
	int status;
	char *out, *err;
};

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* build/pam_policyctl -c CONFIG args..., as uid (-1: ourselves). */
static void run_as(struct run *r, uid_t uid, gid_t gid, const char *const *args)
{
	char out_path[4200], err_path[4200];
	const char *argv[16];
	int n = 0, status;
	pid_t pid;

	snprintf(out_path, sizeof(out_path), "%s/ctl.out", dir);
	snprintf(err_path, sizeof(err_path), "%s/ctl.err", dir);
	argv[n++] = "pam_policyctl";
	argv[n++] = "-c";
	argv[n++] = d.config;
	for (int i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
		int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
		int exe = open(harness_build("pam_policyctl"), O_PATH | O_CLOEXEC);

		if (fo < 0 || fe < 0 || exe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
			_exit(126);
		if (uid != (uid_t)-1 &&
		    (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0))
			_exit(125);
		fexecve(exe, (char *const *)argv, environ);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->out = harness_read(out_path);
	r->err = harness_read(err_path);
	ck_assert_ptr_nonnull(r->out);
	ck_assert_ptr_nonnull(r->err);
}

#define RUN(r, ...) run_as((r), (uid_t)-1, 0, (const char *const[]){ __VA_ARGS__, NULL })

static void assert_contains(const char *hay, const char *needle)
{
	ck_assert_msg(strstr(hay, needle) != NULL, "expected \"%s\" in:\n%s", needle, hay);
}

static void assert_lacks(const char *hay, const char *needle)
{
	ck_assert_msg(strstr(hay, needle) == NULL, "did not expect \"%s\" in:\n%s", needle, hay);
}

/* The line of text that starts with prefix (copied into buf), or NULL. */
static const char *line_of(const char *text, const char *prefix, char *buf, size_t cap)
{
	size_t plen = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, prefix, plen) == 0) {
			size_t n = strcspn(p, "\r\n");
			snprintf(buf, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
			return buf;
		}
	}
	return NULL;
}

/* The last CSV cell of user's row in a report (last_login is appended last). */
static void report_last_login(const char *user, char *out, size_t cap)
{
	char prefix[64], line[1024];
	struct run r;
	const char *comma;

	RUN(&r, "report", "--format", "csv");
	ck_assert_msg(r.status == 0, "report: %d %s", r.status, r.err);
	snprintf(prefix, sizeof(prefix), "%s,", user);
	ck_assert_msg(line_of(r.out, prefix, line, sizeof(line)) != NULL, "no row for %s:\n%s",
		      user, r.out);
	comma = strrchr(line, ',');
	snprintf(out, cap, "%s", comma + 1);
	run_free(&r);
}

static void today(char *buf, size_t cap, long offset_days)
{
	time_t t = time(NULL) + offset_days * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%d", &tm);
}

static void stack_write(void)
{
	struct harness_stack st = { .config = d.config, .account = true };

	harness_stack_write(dir, "login", &st);
}

static int login(const char *user, struct harness_conv *conv)
{
	harness_conv_init(conv, NULL);
	return harness_pam_acct_mgmt(dir, "login", user, 0, conv);
}

static bool start(const char *config)
{
	const char *tmp = getenv("TMPDIR");

	if (harness_faketime_lib() == NULL)
		return false;
	harness_tmpdir(dir, sizeof(dir));
	/* Other uids (alice, bob) must reach the config and the socket. */
	if (tmp != NULL)
		ck_assert_int_eq(chmod(tmp, 0711), 0);
	ck_assert_int_eq(chmod(dir, 0711), 0);
	ck_assert_msg(harness_daemon_start(&d, dir, config, true), "pam_policyd did not start");
	ck_assert_int_eq(chmod(d.config, 0644), 0);
	stack_write();
	return true;
}

static void finish(void)
{
	if (d.pid > 0)
		harness_daemon_stop(&d);
	harness_rmtree(dir);
}

/* A STATUS sent by the user itself (an unprivileged peer, own account). */
static void self_status(uid_t uid, gid_t gid, const char *user)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct request_status_result st;

		if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
			_exit(125);
		_exit(request_status(d.socket, 5000, user, 90, 14, &st) == PP_OK && st.found
		      ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "self status of %s", user);
}

/* ---- item 7: last logins ---- */

START_TEST(test_account_phase_counts_login)
{
	struct harness_conv conv;
	struct request_status_result st;
	char day[16], got[64];

	if (!harness_is_root())
		HARNESS_SKIP("needs root");
	if (!start(CONFIG))
		HARNESS_SKIP("needs libfaketime");
	today(day, sizeof(day), 0);
	ck_assert_int_eq(login("alice", &conv), PAM_SUCCESS);
	/* bob asks about himself, root asks about carol: neither is a login. */
	self_status(1002, 1002, "bob");
	ck_assert_int_eq(request_status(d.socket, 5000, "alice", 90, 14, &st), PP_OK);
	ck_assert_int_ne(st.last_login, 0);

	/* Counted in memory, visible at once. */
	report_last_login("alice", got, sizeof(got));
	ck_assert_str_eq(got, day);
	report_last_login("bob", got, sizeof(got));
	ck_assert_str_eq(got, "");

	/* Written at shutdown (the last batch): still there after a restart. */
	ck_assert_int_eq(harness_daemon_stop(&d), 0);
	ck_assert(harness_daemon_start(&d, dir, CONFIG, true));
	report_last_login("alice", got, sizeof(got));
	ck_assert_str_eq(got, day);
	report_last_login("bob", got, sizeof(got));
	ck_assert_str_eq(got, "");
	finish();
}
END_TEST

START_TEST(test_report_inactive_filter)
{
	struct harness_conv conv;
	struct run r;

	if (!harness_is_root())
		HARNESS_SKIP("needs root");
	if (!start(CONFIG))
		HARNESS_SKIP("needs libfaketime");
	ck_assert_int_eq(login("alice", &conv), PAM_SUCCESS);
	ck_assert_int_eq(login("bob", &conv), PAM_SUCCESS);
	harness_daemon_set_clock(&d, "+40d");
	ck_assert_int_eq(login("alice", &conv), PAM_SUCCESS);   /* alice is back */

	RUN(&r, "report", "--inactive", "30", "--format", "csv");
	ck_assert_int_eq(r.status, 0);
	assert_contains(r.out, "\r\nbob,");
	assert_lacks(r.out, "\r\nalice,");
	/* Never seen by the daemon at all: no login known, listed too. */
	assert_contains(r.out, "\r\nnobody,");
	run_free(&r);

	RUN(&r, "report", "--inactive", "45", "--format", "csv");
	assert_lacks(r.out, "\r\nbob,");
	run_free(&r);

	RUN(&r, "report", "--inactive", "ten");
	ck_assert_int_eq(r.status, 2);
	assert_contains(r.err, "--inactive");
	run_free(&r);
	finish();
}
END_TEST

START_TEST(test_inactive_days_refuses_dormant)
{
	struct harness_conv conv;
	char *audit, day[16], got[64];

	if (!harness_is_root())
		HARNESS_SKIP("needs root");
	if (!start(INACTIVE_CONFIG))
		HARNESS_SKIP("needs libfaketime");
	today(day, sizeof(day), 0);
	ck_assert_int_eq(login("alice", &conv), PAM_SUCCESS);
	ck_assert_int_eq(login("root", &conv), PAM_SUCCESS);
	self_status(1002, 1002, "bob");          /* first sight, never a login */
	harness_daemon_set_clock(&d, "+31d");

	ck_assert_int_eq(login("alice", &conv), PAM_ACCT_EXPIRED);
	assert_contains(conv.log, DORMANT_TEXT);
	ck_assert_int_eq(login("bob", &conv), PAM_ACCT_EXPIRED);
	assert_contains(conv.log, DORMANT_TEXT);
	/* Never root. */
	ck_assert_int_eq(login("root", &conv), PAM_SUCCESS);
	assert_lacks(conv.log, "inactivity");

	/* A refused login is not a login. */
	report_last_login("alice", got, sizeof(got));
	ck_assert_str_eq(got, day);
	audit = harness_read(d.audit);
	ck_assert_ptr_nonnull(audit);
	assert_contains(audit, "\"event\":\"login_refused_inactive\"");
	assert_contains(audit, "unused_days=31");
	ck_assert_ptr_nonnull(strstr(strstr(audit, "login_refused_inactive"), "\"user\":"));
	free(audit);

	/* Never when the daemon is unreachable (on_unreachable_account = allow). */
	ck_assert_int_eq(harness_daemon_stop(&d), 0);
	d.pid = 0;
	ck_assert_int_eq(login("alice", &conv), PAM_SUCCESS);
	assert_lacks(conv.log, "inactivity");
	finish();
}
END_TEST

/* ---- item 8: the access review ---- */

/* A CSV row that starts with head and holds each further piece, in order. */
static void assert_row(const char *line, const char *head, const char *mid,
		       const char *tail)
{
	const char *p;

	ck_assert_msg(strncmp(line, head, strlen(head)) == 0, "row \"%s\" should start "
		      "\"%s\"", line, head);
	p = strstr(line + strlen(head) - 1, mid);
	ck_assert_msg(p != NULL, "row \"%s\" lacks \"%s\"", line, mid);
	ck_assert_msg(strstr(p, tail) != NULL, "row \"%s\" lacks \"%s\"", line, tail);
}

START_TEST(test_review_table_csv_json)
{
	struct harness_conv conv;
	struct run r;
	char line[1024], day[16], host[256] = "";
	char *audit;

	if (!harness_is_root())
		HARNESS_SKIP("needs root");
	if (!start(CONFIG))
		HARNESS_SKIP("needs libfaketime");
	today(day, sizeof(day), 0);
	gethostname(host, sizeof(host) - 1);
	ck_assert_int_eq(login("alice", &conv), PAM_SUCCESS);

	RUN(&r, "review", "--format", "csv");
	ck_assert_msg(r.status == 0, "review: %d %s", r.status, r.err);
	snprintf(line, sizeof(line), "# access review of %s\r\n", host);
	ck_assert_msg(strncmp(r.out, line, strlen(line)) == 0, "header:\n%s", r.out);
	assert_contains(r.out, "\r\n# generated: 20");
	assert_contains(r.out, "Z\r\n# policy: file=");
	assert_contains(r.out, " inactive_days=0 ");
	assert_contains(r.out, "privileged_groups=pampolicy-audit");
	assert_contains(r.out, "\r\nuser,uid,privileged_groups,last_login,last_change,state,"
			"exempt,exempt_reason\r\n");
	/* Privileged groups: built in (sudo, root) and from the configuration. */
	ck_assert_ptr_nonnull(line_of(r.out, "alice,", line, sizeof(line)));
	assert_row(line, "alice,1001,sudo,", day, ",no,");
	ck_assert_ptr_nonnull(line_of(r.out, "bob,", line, sizeof(line)));
	assert_row(line, "bob,1002,pampolicy-audit,", ",", ",no,");
	ck_assert_ptr_nonnull(line_of(r.out, "root,", line, sizeof(line)));
	assert_row(line, "root,0,root,", ",", ",no,");
	/* Every account, with why it is exempt. */
	ck_assert_ptr_nonnull(line_of(r.out, "carol,", line, sizeof(line)));
	assert_row(line, "carol,1003,,", ",exempt,", ",yes,exempt user");
	ck_assert_ptr_nonnull(line_of(r.out, "dave,", line, sizeof(line)));
	assert_row(line, "dave,1004,,", ",exempt,", ",yes,exempt group pwexempt");
	ck_assert_ptr_nonnull(line_of(r.out, "svc,", line, sizeof(line)));
	assert_row(line, "svc,500,,", ",exempt,", ",yes,system account");
	run_free(&r);

	/* The review is an audit event, with who ran it. */
	audit = harness_read(d.audit);
	ck_assert_ptr_nonnull(audit);
	assert_contains(audit, "\"event\":\"access_review\"");
	assert_contains(strstr(audit, "access_review"), "\"actor\":\"root\"");
	free(audit);

	RUN(&r, "review");
	ck_assert_int_eq(r.status, 0);
	snprintf(line, sizeof(line), "# access review of %s\n# generated: ", host);
	ck_assert_msg(strncmp(r.out, line, strlen(line)) == 0, "header:\n%s", r.out);
	assert_contains(r.out, "\nUSER ");
	assert_contains(r.out, "PRIVILEGED_GROUPS");
	assert_contains(r.out, "exempt group pwexempt\n");
	run_free(&r);

	RUN(&r, "review", "--format", "json");
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strncmp(r.out, "{\"host\":\"", 9) == 0, "json:\n%s", r.out);
	assert_contains(r.out, "\"generated\":\"20");
	assert_contains(r.out, "\"accounts\":[");
	assert_contains(r.out, "{\"user\":\"alice\",\"uid\":1001,\"privileged_groups\":\"sudo\","
			"\"last_login\":\"");
	assert_contains(r.out, "\"exempt\":true,\"exempt_reason\":\"exempt group pwexempt\"}");
	run_free(&r);
	finish();
}
END_TEST

START_TEST(test_review_denied_to_others)
{
	struct run r;
	char *audit;

	if (!harness_is_root())
		HARNESS_SKIP("needs root");
	if (!start(CONFIG))
		HARNESS_SKIP("needs libfaketime");
	run_as(&r, 1001, 1001, (const char *const[]){ "review", NULL });
	ck_assert_int_eq(r.status, 4);
	assert_contains(r.err, "reviews are for root and members of the");
	run_free(&r);
	audit = harness_read(d.audit);
	if (audit != NULL)
		assert_lacks(audit, "access_review");
	free(audit);
	finish();
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("review");
	TCase *tc = tcase_create("review");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_account_phase_counts_login);
	tcase_add_test(tc, test_report_inactive_filter);
	tcase_add_test(tc, test_inactive_days_refuses_dormant);
	tcase_add_test(tc, test_review_table_csv_json);
	tcase_add_test(tc, test_review_denied_to_others);
	suite_add_tcase(s, tc);
	return s;
}
