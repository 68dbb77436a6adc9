/*
 * test_shadow.c - the daemon follows the shadow file where it demands
 * more, through the real libpam and a real pam_policyd: a change shadow
 * demands (last change 0 after "chage -d 0" or "passwd -e", or shadow's
 * own maximum age passed) is never blocked by the minimum age; status,
 * the account line and the report say must_change or expired where shadow
 * does; and a locked or unusable password ("!", "*", "!!", "!<hash>",
 * empty) is not aged: state "locked", the account line says nothing and
 * succeeds, and unlocking ages it again. Also the shadow reader itself
 * (lib/users.c) and the state rule (lib/aging.c).
 *
 * Each test writes its own shadow file (the daemon's shadow_file is
 * DIR/shadow, tests/harness.c). Users come from nss_wrapper: alice 1001,
 * bob 1002, carol 1003, dave 1004 (tests/run-tests.sh). A user's own
 * change runs as passwd does: real uid alice, effective uid root.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "aging.h"
#include "request.h"
#include "users.h"

#include "harness.h"

#define SERVICE "shadowtest"  /* not "shadow": DIR/shadow is the shadow file */
#define DAY 86400
#define TIMEOUT_MS 5000
#define POLICY_TEXT "max_age_days = 90\nwarn_days = 14\nhistory = 24\n" \
	"expired_nonpassword = force\n"
#define HASH "$y$j9T$saltsaltsaltsalt$hashhashhashhashhashhashhashhashhas"

#define PW_FIRST "Correct-Horse-7"
#define PW_SECOND "Violet-Anchor-58"
#define PW_THIRD "Brisk-Lantern-31"

static char dir[4096];
static char shadow[4200];
static char written[4200];
static struct harness_daemon d;

/* Daemons of tests that failed before their teardown: killed after the suite. */
static char registry[4096];

static void setup(void)
{
	harness_tmpdir(dir, sizeof(dir));
	snprintf(shadow, sizeof(shadow), "%s/shadow", dir);
	snprintf(written, sizeof(written), "%s/written", dir);
	memset(&d, 0, sizeof(d));
}

static void teardown(void)
{
	char path[4200];

	if (d.pid > 0) {
		snprintf(path, sizeof(path), "%s/%ld", registry, (long)d.pid);
		harness_daemon_stop(&d);
		unlink(path);
	}
	harness_rmtree(dir);
}

/* A daemon under faketime with the test policy plus extra, and the stack. */
static void start(const char *extra)
{
	char config[4096], path[4200];
	struct harness_stack spec;

	snprintf(config, sizeof(config), "%s%s", POLICY_TEXT, extra ? extra : "");
	ck_assert_msg(harness_daemon_start(&d, dir, config, true), "pam_policyd did not start");
	snprintf(path, sizeof(path), "%s/%ld", registry, (long)d.pid);
	harness_write(path, "");
	memset(&spec, 0, sizeof(spec));
	spec.config = d.config;
	spec.account = true;
	spec.check_args = "retry=1";
	spec.writer_file = written;
	spec.record = true;
	harness_stack_write(dir, SERVICE, &spec);
}

static int64_t today(void)
{
	return (int64_t)time(NULL) / DAY;
}

/* One shadow line: name:field:last_change:0:max:7::: ("" for an empty field). */
static void shadow_line(char *buf, size_t len, const char *name, const char *field,
			const char *last_change, const char *max)
{
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, "%s:%s:%s:0:%s:7:::\n", name, field, last_change, max);
}

static const char *days(long long n)
{
	static char buf[4][32];
	static int next;
	char *b = buf[next++ % 4];

	snprintf(b, sizeof(buf[0]), "%lld", n);
	return b;
}

/* ---- PAM calls ---- */

/*
 * The account phase of a login. With expired_nonpassword = force (the
 * test policy) every login is held to its expiry as a password login is,
 * however the module tells them apart; a locked password still passes.
 */
static int account(const char *user, struct harness_conv *c)
{
	harness_conv_init(c, NULL);
	return harness_pam_acct_mgmt(dir, SERVICE, user, 0, c);
}

/* Root sets user's password through the stack: recorded by the daemon. */
static void change_as_root(const char *user, const char *pw)
{
	struct harness_conv c;
	const char *answers[] = { pw, pw, NULL };
	int rc;

	harness_conv_init(&c, answers);
	rc = harness_pam_chauthtok(dir, SERVICE, user, 0, &c);
	ck_assert_msg(rc == PAM_SUCCESS, "change of %s: %s\n%s", user, pam_strerror(NULL, rc),
		      c.log);
	ck_assert_int_eq(c.errors, 0);
}

/*
 * alice changes her own password as passwd (flags 0, as OpenSSH runs it)
 * or su (PAM_CHANGE_EXPIRED_AUTHTOK) do: real uid alice, effective uid
 * root. In a child, whose result and conversation come back in a file.
 */
static int change_as_alice(const char *pw, int flags, struct harness_conv *c)
{
	const char *answers[] = { pw, pw, NULL };
	char path[4300], *got;
	int status, rc = -1;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/conv.out", dir);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		FILE *f;

		if (setresuid(1001, 0, 0) != 0)
			_exit(2);
		harness_conv_init(c, answers);
		rc = harness_pam_chauthtok(dir, SERVICE, "alice", flags, c);
		f = fopen(path, "w");
		if (f == NULL)
			_exit(3);
		fprintf(f, "%d %d\n%s", rc, c->errors, c->log);
		_exit(fclose(f) == 0 ? 0 : 4);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "PAM child failed");
	got = harness_read(path);
	ck_assert_ptr_nonnull(got);
	harness_conv_init(c, NULL);
	ck_assert_int_eq(sscanf(got, "%d %d", &rc, &c->errors), 2);
	snprintf(c->log, sizeof(c->log), "%s", strchr(got, '\n') + 1);
	free(got);
	return rc;
}

static struct request_status_result status_of(const char *user)
{
	struct request_status_result st;

	ck_assert_int_eq(request_status(d.socket, TIMEOUT_MS, user, 90, 14, &st), PP_OK);
	ck_assert_msg(st.found, "no status for %s", user);
	return st;
}

static int audit_lines(const char *needle1, const char *needle2)
{
	char *log = harness_read(d.audit);
	const char *line = log;
	int n = 0;

	while (line != NULL && *line != '\0') {
		const char *end = strchr(line, '\n');
		char *copy = strndup(line, end ? (size_t)(end - line) : strlen(line));

		ck_assert_ptr_nonnull(copy);
		if (strstr(copy, needle1) != NULL && (needle2 == NULL || strstr(copy, needle2)))
			n++;
		free(copy);
		line = end ? end + 1 : NULL;
	}
	free(log);
	return n;
}

/* ---- pam_policyctl ---- */

/* Run build/pam_policyctl -c CONFIG args...; its stdout (malloc'd). */
static char *ctl(const char *const *args, int *status_out)
{
	char out_path[4300];
	const char *argv[16];
	int n = 0, status;
	pid_t pid;
	char *out;

	snprintf(out_path, sizeof(out_path), "%s/ctl.out", dir);
	argv[n++] = "pam_policyctl";
	argv[n++] = "-c";
	argv[n++] = d.config;
	for (int i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fo < 0 || dup2(fo, 1) < 0)
			_exit(126);
		execv(harness_build("pam_policyctl"), (char *const *)argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	*status_out = WEXITSTATUS(status);
	out = harness_read(out_path);
	ck_assert_ptr_nonnull(out);
	return out;
}

/* The STATE column of user's row in "pam_policyctl report --format csv". */
static void report_state(const char *user, char *state, size_t len)
{
	int status, col = -1, i = 0;
	char *out = ctl((const char *const[]){ "report", "--format", "csv", NULL }, &status);
	char *save = NULL, *line, *cell, *save2;

	ck_assert_msg(status == 0, "report exited %d:\n%s", status, out);
	state[0] = '\0';
	line = strtok_r(out, "\r\n", &save);
	ck_assert_ptr_nonnull(line);
	for (cell = strtok_r(line, ",", &save2); cell != NULL; cell = strtok_r(NULL, ",", &save2), i++)
		if (strcmp(cell, "state") == 0)
			col = i;
	ck_assert_int_ge(col, 0);
	while ((line = strtok_r(NULL, "\r\n", &save)) != NULL) {
		/* Empty cells matter here: split by hand, not with strtok. */
		char *p = line;

		if (strncmp(line, user, strlen(user)) != 0 || line[strlen(user)] != ',')
			continue;
		for (i = 0; i < col && p != NULL; i++) {
			p = strchr(p, ',');
			p = p ? p + 1 : NULL;
		}
		ck_assert_ptr_nonnull(p);
		snprintf(state, len, "%.*s", (int)strcspn(p, ","), p);
	}
	free(out);
	ck_assert_msg(state[0] != '\0', "no report row for %s", user);
}

static void assert_report_state(const char *user, const char *want)
{
	char got[64];

	report_state(user, got, sizeof(got));
	ck_assert_msg(strcmp(got, want) == 0, "report: %s is %s, expected %s", user, got, want);
}

/* ---- 1. a change shadow demands is never blocked by the minimum age ---- */

START_TEST(test_chage_d0_waives_min_age)
{
	struct harness_conv c;
	char text[1024] = "";
	int rc;

	if (!harness_is_root())
		HARNESS_SKIP("needs root (to run the change as alice, real uid 1001)");
	shadow_line(text, sizeof(text), "alice", HASH, days(today()), "99999");
	harness_write(shadow, text);
	start("min_age_days = 1\n");
	change_as_root("alice", PW_FIRST);

	/* Not demanded: alice's own change an hour later is too soon. */
	rc = change_as_alice(PW_SECOND, 0, &c);
	ck_assert_msg(rc != PAM_SUCCESS, "own change: %s\n%s", pam_strerror(NULL, rc), c.log);
	ck_assert_ptr_nonnull(strstr(c.log, "changed too recently"));

	/* chage -d 0 alice: she must change now, and she can. */
	text[0] = '\0';
	shadow_line(text, sizeof(text), "alice", HASH, "0", "99999");
	harness_write(shadow, text);
	rc = account("alice", &c);
	ck_assert_msg(rc == PAM_NEW_AUTHTOK_REQD, "acct_mgmt: %s\n%s", pam_strerror(NULL, rc),
		      c.log);
	rc = change_as_alice(PW_SECOND, 0, &c);
	ck_assert_msg(rc == PAM_SUCCESS, "passwd as alice after chage -d 0: %s\n%s",
		      pam_strerror(NULL, rc), c.log);
	ck_assert_msg(c.errors == 0, "conversation:\n%s", c.log);
	/* su's path (PAM_CHANGE_EXPIRED_AUTHTOK) too, while shadow still says 0. */
	rc = change_as_alice(PW_THIRD, PAM_CHANGE_EXPIRED_AUTHTOK, &c);
	ck_assert_msg(rc == PAM_SUCCESS, "su's change as alice: %s\n%s",
		      pam_strerror(NULL, rc), c.log);
	ck_assert_int_eq(status_of("alice").history_count, 3);
	ck_assert_int_eq(audit_lines("\"event\":\"forced_change_completed\"",
				     "\"user\":\"alice\""), 2);
	ck_assert_int_eq(audit_lines("\"event\":\"change_not_recorded\"", NULL), 0);
}
END_TEST

START_TEST(test_shadow_max_age_waives_min_age)
{
	struct harness_conv c;
	struct request_status_result st;
	char text[1024] = "";
	int64_t t = today();
	int rc;

	if (!harness_is_root())
		HARNESS_SKIP("needs root (to run the change as alice, real uid 1001)");
	shadow_line(text, sizeof(text), "alice", HASH, days(t), "5");
	harness_write(shadow, text);
	start("min_age_days = 1\n");
	change_as_root("alice", PW_FIRST);
	ck_assert_int_eq(status_of("alice").state, AGING_OK);

	/* Shadow's own maximum (5 days) passed: 10 days ago + 5 < today. */
	text[0] = '\0';
	shadow_line(text, sizeof(text), "alice", HASH, days(t - 10), "5");
	harness_write(shadow, text);
	st = status_of("alice");
	ck_assert_int_eq(st.state, AGING_EXPIRED);
	ck_assert_int_eq(st.expires, (t - 10 + 5 + 1) * DAY);
	rc = change_as_alice(PW_SECOND, 0, &c);
	ck_assert_msg(rc == PAM_SUCCESS, "own change after shadow expiry: %s\n%s",
		      pam_strerror(NULL, rc), c.log);
	ck_assert_int_eq(c.errors, 0);

	/* The day it ends is not yet past it (pam_unix: lstchg + max < today). */
	text[0] = '\0';
	shadow_line(text, sizeof(text), "alice", HASH, days(t - 5), "5");
	harness_write(shadow, text);
	ck_assert_int_ne(status_of("alice").state, AGING_EXPIRED);
}
END_TEST

/* ---- 2. state and report follow shadow's "must change" ---- */

START_TEST(test_report_follows_shadow)
{
	struct harness_conv c;
	struct request_status_result st;
	char text[1024] = "", *out;
	int64_t t = today();
	int rc, status;

	start(NULL);
	change_as_root("alice", PW_FIRST);
	change_as_root("bob", PW_FIRST);
	assert_report_state("alice", "ok");
	assert_report_state("bob", "ok");

	/* passwd -e alice; bob's shadow maximum of 20 days ran out 10 days ago. */
	shadow_line(text, sizeof(text), "alice", HASH, "0", "99999");
	shadow_line(text, sizeof(text), "bob", HASH, days(t - 30), "20");
	harness_write(shadow, text);

	st = status_of("alice");
	ck_assert_int_eq(st.state, AGING_MUST_CHANGE);
	ck_assert(st.must_change);
	st = status_of("bob");
	ck_assert_int_eq(st.state, AGING_EXPIRED);
	ck_assert_int_eq(st.expires, (t - 30 + 20 + 1) * DAY);
	assert_report_state("alice", "must_change");
	assert_report_state("bob", "expired");
	out = ctl((const char *const[]){ "status", "alice", NULL }, &status);
	ck_assert_int_eq(status, 0);
	ck_assert_msg(strstr(out, "must_change") && strstr(out, "Must change at next login: yes"),
		      "status:\n%s", out);
	free(out);

	rc = account("alice", &c);
	ck_assert_msg(rc == PAM_NEW_AUTHTOK_REQD, "alice: %s\n%s", pam_strerror(NULL, rc), c.log);
	rc = account("bob", &c);
	ck_assert_msg(rc == PAM_NEW_AUTHTOK_REQD, "bob: %s\n%s", pam_strerror(NULL, rc), c.log);
}
END_TEST

/* ---- 3. a locked or unusable password is not aged ---- */

START_TEST(test_locked_not_aged)
{
	static const char *const unusable[] = { "*", "!!", "", "!" HASH, "!", NULL };
	struct harness_conv c;
	char text[2048] = "", *out;
	const char *t = days(today());
	int rc, status;

	shadow_line(text, sizeof(text), "alice", "!" HASH, t, "99999");
	harness_write(shadow, text);
	start(NULL);
	change_as_root("alice", PW_FIRST);

	/* Day 100: rotation (90 days) would force a change; the password is locked. */
	harness_daemon_set_clock(&d, "+100d");
	ck_assert_int_eq(status_of("alice").state, AGING_LOCKED);
	ck_assert_int_eq(status_of("alice").expires, 0);
	rc = account("alice", &c);
	ck_assert_msg(rc == PAM_SUCCESS, "acct_mgmt of a locked user: %s\n%s",
		      pam_strerror(NULL, rc), c.log);
	ck_assert_msg(c.errors == 0 && c.infos == 0 && c.prompts == 0, "said:\n%s", c.log);
	assert_report_state("alice", "locked");
	out = ctl((const char *const[]){ "status", "alice", NULL }, &status);
	ck_assert_msg(status == 0 && strstr(out, "locked") != NULL, "status:\n%s", out);
	free(out);
	out = ctl((const char *const[]){ "report", "--state", "locked", NULL }, &status);
	ck_assert_msg(status == 0 && strstr(out, "locked 1") != NULL, "report:\n%s", out);
	free(out);

	/* Every unusable field, also for users the daemon sees first now. */
	for (int i = 0; unusable[i] != NULL; i++) {
		text[0] = '\0';
		shadow_line(text, sizeof(text), "alice", unusable[i], t, "99999");
		shadow_line(text, sizeof(text), "bob", unusable[i], "0", "99999");
		harness_write(shadow, text);
		ck_assert_msg(status_of("alice").state == AGING_LOCKED, "field \"%s\"",
			      unusable[i]);
		ck_assert_msg(status_of("bob").state == AGING_LOCKED, "bob, field \"%s\"",
			      unusable[i]);
		ck_assert_int_eq(account("bob", &c), PAM_SUCCESS);
	}

	/* usermod -U: aged again, 100 days old. */
	text[0] = '\0';
	shadow_line(text, sizeof(text), "alice", HASH, t, "99999");
	harness_write(shadow, text);
	ck_assert_int_eq(status_of("alice").state, AGING_EXPIRED);
	rc = account("alice", &c);
	ck_assert_msg(rc == PAM_NEW_AUTHTOK_REQD, "acct_mgmt after unlock: %s\n%s",
		      pam_strerror(NULL, rc), c.log);
	assert_report_state("alice", "expired");
}
END_TEST

/* ---- the reader and the rule ---- */

START_TEST(test_shadow_reader)
{
	struct users_shadow sh;
	struct users_shadow_table *tab = NULL;
	char text[2048] = "";

	snprintf(text, sizeof(text),
		 "# comment\nnot a shadow line\n"
		 "alice:" HASH ":19000:1:90:7:::\n"
		 "alice:!" HASH ":1:1:1:7:::\n"           /* a second entry: ignored */
		 "bob:!" HASH ":0::::::\n"
		 "carol:*:::::::\n"
		 "dave::19000:0:99999:7:::\n"
		 "erin:abJnggxhB/yWI:19000:0:99999:7:::\n");
	harness_write(shadow, text);

	ck_assert_int_eq(users_shadow_read(shadow, "alice", &sh), PP_OK);
	ck_assert_int_eq(sh.last_change, 19000);
	ck_assert_int_eq(sh.max_days, 90);
	ck_assert(sh.usable);
	ck_assert_int_eq(users_shadow_read(shadow, "bob", &sh), PP_OK);
	ck_assert(!sh.usable);
	ck_assert_int_eq(sh.last_change, 0);
	ck_assert_int_eq(sh.max_days, -1);
	ck_assert_int_eq(users_shadow_read(shadow, "carol", &sh), PP_OK);
	ck_assert(!sh.usable);
	ck_assert_int_eq(sh.last_change, -1);
	ck_assert_int_eq(users_shadow_read(shadow, "dave", &sh), PP_OK);
	ck_assert(!sh.usable);
	/* Any other string is a hash (here a traditional DES one). */
	ck_assert_int_eq(users_shadow_read(shadow, "erin", &sh), PP_OK);
	ck_assert(sh.usable);
	ck_assert_int_eq(users_shadow_read(shadow, "ali", &sh), PP_ERR_NOT_FOUND);

	/* The table says the same for every name, read once. */
	ck_assert_int_eq(users_shadow_table_load(shadow, &tab), PP_OK);
	ck_assert_uint_eq(users_shadow_table_size(tab), 5);
	ck_assert(users_shadow_table_find(tab, "alice", &sh));
	ck_assert(sh.usable && sh.last_change == 19000 && sh.max_days == 90);
	ck_assert(users_shadow_table_find(tab, "bob", &sh) && !sh.usable);
	ck_assert(users_shadow_table_find(tab, "erin", &sh) && sh.usable);
	ck_assert(!users_shadow_table_find(tab, "ali", &sh));
	ck_assert(!users_shadow_table_find(NULL, "alice", &sh));
	users_shadow_table_free(tab);

	errno = 0;
	ck_assert_int_eq(users_shadow_read("/nonexistent/shadow", "alice", &sh), PP_ERR_IO);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(users_shadow_table_load("/nonexistent/shadow", &tab), PP_ERR_IO);
	ck_assert_ptr_null(tab);
}
END_TEST

START_TEST(test_shadow_state_rule)
{
	struct users_shadow sh = { 19000, 30, true };
	struct aging_facts f;
	struct aging_status st;
	int64_t now = (int64_t)19040 * DAY + 3600;

	memset(&f, 0, sizeof(f));
	f.last_change = (int64_t)19030 * DAY;
	users_shadow_facts(&sh, &f);
	ck_assert_int_eq(f.shadow_expires, (int64_t)19031 * DAY);
	aging_evaluate(&f, now, 90, 14, &st);
	ck_assert_int_eq(st.state, AGING_EXPIRED);
	ck_assert_int_eq(st.expires, (int64_t)19031 * DAY);
	ck_assert_int_lt(st.days_left, 0);
	/* Not yet past: the policy's own expiry stands. */
	aging_evaluate(&f, (int64_t)19031 * DAY - 1, 90, 14, &st);
	ck_assert_int_eq(st.state, AGING_OK);
	/* Locked wins over everything, also an admin's flag. */
	sh.usable = false;
	f.must_change = true;
	users_shadow_facts(&sh, &f);
	aging_evaluate(&f, now, 90, 14, &st);
	ck_assert_int_eq(st.state, AGING_LOCKED);
	ck_assert_int_eq(st.expires, 0);
	ck_assert_str_eq(aging_state_name(AGING_LOCKED), "locked");
	/* The wire values of the older states did not move. */
	ck_assert_int_eq(AGING_EXEMPT, 5);
	ck_assert_int_eq(AGING_LOCKED, 6);
	/* An absurd day count is no expiry (and no overflow). */
	sh.usable = true;
	sh.max_days = USERS_SHADOW_DAYS_LIMIT;
	users_shadow_facts(&sh, &f);
	ck_assert_int_eq(f.shadow_expires, 0);
	sh.last_change = 0;
	users_shadow_facts(&sh, &f);
	ck_assert(f.shadow_must_change);
}
END_TEST

void test_before_all(void)
{
	harness_tmpdir(registry, sizeof(registry));
}

void test_after_all(void)
{
	DIR *dp = opendir(registry);
	struct dirent *e;

	while (dp != NULL && (e = readdir(dp)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (e->d_name[0] != '.' && *end == '\0' && pid > 1)
			kill((pid_t)pid, SIGKILL);
	}
	if (dp != NULL)
		closedir(dp);
	harness_rmtree(registry);
}

Suite *test_suite(void)
{
	Suite *s = suite_create("shadow");
	TCase *tc = tcase_create("shadow");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_chage_d0_waives_min_age);
	tcase_add_test(tc, test_shadow_max_age_waives_min_age);
	tcase_add_test(tc, test_report_follows_shadow);
	tcase_add_test(tc, test_locked_not_aged);
	tcase_add_test(tc, test_shadow_reader);
	tcase_add_test(tc, test_shadow_state_rule);
	suite_add_tcase(s, tc);
	return s;
}
