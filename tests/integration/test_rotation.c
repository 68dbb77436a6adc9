/*
 * test_rotation.c - password rotation through the real libpam and a real
 * pam_policyd: the account phase (warning, expiry, forced change), admin
 * expiry, bootstrap from the shadow file, an unreachable daemon, who may
 * ask for a status, and the audit trail all of this leaves.
 *
 * Each test starts its own daemon under libfaketime (harness_daemon_start
 * with fake_time) and moves the daemon's clock with
 * harness_daemon_set_clock; this process keeps real time. The module runs
 * in this process through pam_start_confdir() with a private service file.
 * Users come from nss_wrapper (see run-tests.sh).
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "aging.h"
#include "auditlog.h"
#include "request.h"

#include "harness.h"

#define SERVICE "rotation"
#define DAY 86400
#define POLICY_TEXT "max_age_days = 90\nwarn_days = 14\nmin_age_days = 0\nhistory = 24\n"

/* Passwords used anywhere in this file: none may reach the audit log. */
#define PW_FIRST "Correct-Horse-7"
#define PW_SECOND "Violet-Anchor-58"
#define PW_THIRD "Brisk-Lantern-31"
#define PW_WEAK "Wqz7"

static const char *const all_passwords[] = {
	PW_FIRST, PW_SECOND, PW_THIRD, PW_WEAK, NULL,
};

/*
 * Daemons still running when a test fails: a failing Check test exits at
 * once, without its teardown, so main() kills whatever is left here.
 */
static char registry[4096];

static char dir[4096];
static char written[4200];
static struct harness_daemon d;

/* ---- fixture and daemon bookkeeping ---- */

static void registry_path(pid_t pid, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%ld", registry, (long)pid);
}

static void start_daemon(const char *extra_config)
{
	char path[4200];

	ck_assert_msg(harness_daemon_start(&d, dir, extra_config, true),
		      "pam_policyd did not start");
	registry_path(d.pid, path, sizeof(path));
	harness_write(path, "");
}

static int stop_daemon(void)
{
	char path[4200];
	pid_t pid = d.pid;
	int status;

	if (pid <= 0)
		return -1;
	status = harness_daemon_stop(&d);
	registry_path(pid, path, sizeof(path));
	unlink(path);
	return status;
}

static void setup(void)
{
	harness_tmpdir(dir, sizeof(dir));
	snprintf(written, sizeof(written), "%s/written", dir);
	memset(&d, 0, sizeof(d));
}

static void teardown(void)
{
	stop_daemon();
	harness_rmtree(dir);
}

/*
 * The service file: the account line (with extra arguments, then any
 * further account lines), the check line, the writer, the record line.
 */
static void stack_with(const char *account_args, const char *account_after)
{
	/* The auth line leaves PAM_AUTHTOK: every login here used the password. */
	struct harness_stack spec = {
		.config = d.config, .auth_args = "authtok=Typed-At-Login-1",
		.account = true, .account_args = account_args,
		.after_account = account_after, .check_args = "retry=1",
		.writer_file = written, .record = true,
	};

	harness_stack_write(dir, SERVICE, &spec);
}

static void stack(void)
{
	stack_with(NULL, NULL);
}

/* A fresh daemon with the test policy (plus extra) and the usual stack. */
static void start(const char *extra)
{
	char config[4096];

	snprintf(config, sizeof(config), "%s%s", POLICY_TEXT, extra ? extra : "");
	start_daemon(config);
	stack();
}

/* ---- PAM calls ---- */

static int change(const char *user, int flags, struct harness_conv *c,
		  const char *const *answers)
{
	harness_conv_init(c, answers);
	return harness_pam_chauthtok(dir, SERVICE, user, flags, c);
}

/* A password login: pam_authenticate, then pam_acct_mgmt, in one transaction. */
static int account(const char *user, int flags, struct harness_conv *c)
{
	const struct harness_login login = { .authenticate = true };

	harness_conv_init(c, NULL);
	return harness_pam_acct_mgmt_with(dir, SERVICE, user, flags, &login, c);
}

/* Change user's password to pw (prompted twice); must succeed. */
static void change_ok(const char *user, int flags, const char *pw)
{
	struct harness_conv c;
	const char *answers[] = { pw, pw, NULL };
	int rc = change(user, flags, &c, answers);

	ck_assert_msg(rc == PAM_SUCCESS, "change of %s's password: %s; conversation:\n%s",
		      user, pam_strerror(NULL, rc), c.log);
	ck_assert_int_eq(c.errors, 0);
}

static void account_quiet_success(const char *user, int flags)
{
	struct harness_conv c;
	int rc = account(user, flags, &c);

	ck_assert_msg(rc == PAM_SUCCESS, "acct_mgmt(%s): %s; conversation:\n%s", user,
		      pam_strerror(NULL, rc), c.log);
	ck_assert_msg(c.errors == 0 && c.infos == 0 && c.prompts == 0,
		      "acct_mgmt(%s) said something:\n%s", user, c.log);
}

/* ---- dates ---- */

/* "YYYY-MM-DD" (UTC) of t, computed here independently of lib/aging.c. */
static void date_of(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	ck_assert_ptr_nonnull(gmtime_r(&tt, &tm));
	ck_assert_uint_ne(strftime(buf, len, "%Y-%m-%d", &tm), 0);
}

/*
 * Does text contain the expected string with the date of a or of b? Two
 * candidates cover an event whose exact second is only known to lie
 * between a and b (a midnight UTC in between changes the date).
 */
static bool has_dated(const char *text, const char *before, int64_t a, int64_t b,
		      const char *after, char *expect, size_t len)
{
	char date[32];

	date_of(b, date, sizeof(date));
	snprintf(expect, len, "%s%s%s", before, date, after);
	if (strstr(text, expect) != NULL)
		return true;
	date_of(a, date, sizeof(date));
	snprintf(expect, len, "%s%s%s", before, date, after);
	return strstr(text, expect) != NULL;
}

static int64_t now_utc(void)
{
	return (int64_t)time(NULL);
}

/* ---- audit log ---- */

/*
 * How many lines of the audit log contain every one of the given
 * substrings (a NULL-terminated list).
 */
static int audit_count(const char *log, const char *const *needles)
{
	int n = 0;
	const char *line = log;

	while (line != NULL && *line != '\0') {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, len);
		bool all = true;

		ck_assert_ptr_nonnull(copy);
		for (int i = 0; needles[i] != NULL; i++)
			if (strstr(copy, needles[i]) == NULL)
				all = false;
		if (all)
			n++;
		free(copy);
		line = end ? end + 1 : NULL;
	}
	return n;
}

static int audit_event_count(const char *log, const char *event, const char *user,
			     const char *also, const char *also2)
{
	char ev[128], us[128];
	const char *needles[5];
	int k = 0;

	snprintf(ev, sizeof(ev), "\"event\":\"%s\"", event);
	needles[k++] = ev;
	if (user != NULL) {
		snprintf(us, sizeof(us), "\"user\":\"%s\"", user);
		needles[k++] = us;
	}
	if (also != NULL)
		needles[k++] = also;
	if (also2 != NULL)
		needles[k++] = also2;
	needles[k] = NULL;
	return audit_count(log, needles);
}

static char *read_audit(void)
{
	char *log = harness_read(d.audit);

	ck_assert_msg(log != NULL, "no audit log at %s", d.audit);
	return log;
}

/* Is "ts":"YYYY-MM-DDTHH:MM:SSZ" on this line (RFC 3339, UTC)? */
static bool line_has_rfc3339_ts(const char *line, size_t len)
{
	static const char pattern[] = "dddd-dd-ddTdd:dd:ddZ";
	const char *ts = memmem(line, len, "\"ts\":\"", 6);

	if (ts == NULL)
		return false;
	ts += 6;
	if ((size_t)(line + len - ts) < sizeof(pattern))
		return false;
	for (size_t i = 0; i + 1 < sizeof(pattern); i++) {
		if (pattern[i] == 'd' ? (ts[i] < '0' || ts[i] > '9') : ts[i] != pattern[i])
			return false;
	}
	return ts[sizeof(pattern) - 1] == '"';
}

/* Every line has a timestamp and no line carries a password of ours. */
static void audit_lines_sane(const char *log)
{
	const char *line = log;
	int lines = 0;

	while (line != NULL && *line != '\0') {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		lines++;
		ck_assert_msg(line_has_rfc3339_ts(line, len),
			      "audit line %d has no RFC 3339 UTC ts: %.*s", lines, (int)len, line);
		for (int i = 0; all_passwords[i] != NULL; i++)
			ck_assert_msg(memmem(line, len, all_passwords[i],
					     strlen(all_passwords[i])) == NULL,
				      "audit line %d carries a password: %.*s", lines,
				      (int)len, line);
		line = end ? end + 1 : NULL;
	}
	ck_assert_int_gt(lines, 0);
}

/* Every line about alice carries her uid, 1001. */
static void audit_alice_lines_consistent(const char *log)
{
	const char *alice[] = { "\"user\":\"alice\"", NULL };
	const char *alice_uid[] = { "\"user\":\"alice\"", "\"uid\":1001,", NULL };

	ck_assert_int_gt(audit_count(log, alice), 0);
	ck_assert_int_eq(audit_count(log, alice), audit_count(log, alice_uid));
}

static void read_key(uint8_t key[AUDIT_KEY_BYTES])
{
	char path[4300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/audit.key", d.state);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
	ck_assert_uint_eq(fread(key, 1, AUDIT_KEY_BYTES, f), AUDIT_KEY_BYTES);
	ck_assert_int_eq(fgetc(f), EOF);
	fclose(f);
}

static void audit_verify_clean(void)
{
	char head[4300];
	uint8_t key[AUDIT_KEY_BYTES];
	const char *files[] = { d.audit };
	struct audit_verdict v;

	snprintf(head, sizeof(head), "%s/audit.head", d.state);
	read_key(key);
	ck_assert_int_eq(auditlog_verify(files, 1, head, key, &v), PP_OK);
	ck_assert_msg(v.problem == AUDIT_CLEAN, "audit log not clean: %s at line %lu: %s",
		      auditlog_problem_name(v.problem), v.line, v.detail);
	ck_assert_uint_gt(v.lines, 0);
}

/* ---- 1. a fresh change ---- */

START_TEST(test_day0_change_then_account_silent)
{
	char *s, expect[256];

	start(NULL);
	change_ok("alice", 0, PW_FIRST);
	s = harness_read(written);
	ck_assert_ptr_nonnull(s);
	snprintf(expect, sizeof(expect), "alice:%s:%s\n", PW_FIRST, SERVICE);
	ck_assert_str_eq(s, expect);
	free(s);
	account_quiet_success("alice", 0);
}
END_TEST

/* ---- 2. the warning window ---- */

START_TEST(test_day77_warns_once)
{
	struct harness_conv loud, silent;
	struct request_status_result st;
	char date[32], expect[256];
	int64_t t0, t1;
	int rc_loud, rc_silent;

	start(NULL);
	t0 = now_utc();
	change_ok("alice", 0, PW_FIRST);
	t1 = now_utc();
	harness_daemon_set_clock(&d, "+77d");

	rc_loud = account("alice", 0, &loud);
	rc_silent = account("alice", PAM_SILENT, &silent);

	/* The daemon's view: warning, expiring 90 days after the change. */
	ck_assert_int_eq(request_status(d.socket, 5000, "alice", 90, 14, &st), PP_OK);
	ck_assert(st.found);
	ck_assert_int_eq(st.state, AGING_WARNING);
	ck_assert(st.last_change >= t0 && st.last_change <= t1);
	ck_assert_int_eq(st.expires, st.last_change + 90 * (int64_t)DAY);

	ck_assert_int_eq(rc_silent, PAM_SUCCESS);
	ck_assert_msg(silent.errors == 0 && silent.infos == 0 && silent.prompts == 0,
		      "PAM_SILENT but:\n%s", silent.log);

	ck_assert_int_eq(rc_loud, PAM_SUCCESS);
	ck_assert_msg(loud.infos == 1 && loud.errors == 0 && loud.prompts == 0,
		      "expected exactly one info message:\n%s", loud.log);
	/* The date is the change day + 90 (UTC); the daemon's clock is +77d. */
	date_of(st.expires, date, sizeof(date));
	snprintf(expect, sizeof(expect), "(on %s).", date);
	ck_assert_msg(strstr(loud.log, expect) != NULL, "no \"%s\" in:\n%s", expect,
		      loud.log);
	/*
	 * 13 days: expires = t0 + 90d, the daemon's now = t + 77d with t a
	 * few seconds after t0, so 13 days minus seconds, rounded up.
	 */
	snprintf(expect, sizeof(expect), "I: Your password expires in 13 days (on %s).\n",
		 date);
	ck_assert_msg(strcmp(loud.log, expect) == 0,
		      "expected\n  %s(the daemon's clock is at day 77 of 90)\ngot\n  %s",
		      expect, loud.log);
}
END_TEST

/* ---- 3. expiry and the forced change ---- */

START_TEST(test_day91_expired_then_forced_change)
{
	struct harness_conv c;
	const char *weak[] = { PW_WEAK, NULL };
	const char *reused[] = { PW_FIRST, NULL };
	char expect[512], *s;
	int64_t t0, t1;
	int rc;

	start(NULL);
	t0 = now_utc();
	change_ok("alice", 0, PW_FIRST);
	t1 = now_utc();
	harness_daemon_set_clock(&d, "+91d");

	rc = account("alice", 0, &c);
	ck_assert_msg(rc == PAM_NEW_AUTHTOK_REQD, "acct_mgmt: %s\n%s",
		      pam_strerror(NULL, rc), c.log);
	ck_assert_int_eq(c.errors, 1);
	ck_assert_int_eq(c.infos, 0);
	ck_assert_msg(has_dated(c.log, "E: Your password has expired (last changed ", t0, t1,
				"; passwords must be changed every 90 days)",
				expect, sizeof(expect)),
		      "no \"%s\" in:\n%s", expect, c.log);

	/* A weak password: every reason, nothing written. */
	rc = change("alice", PAM_CHANGE_EXPIRED_AUTHTOK, &c, weak);
	ck_assert_int_eq(rc, PAM_AUTHTOK_ERR);
	ck_assert_int_eq(c.errors, 1);
	ck_assert_ptr_nonnull(strstr(c.log, "E: The password was not accepted:"));
	ck_assert_ptr_nonnull(strstr(c.log, "too short"));
	ck_assert_ptr_null(strstr(c.log, PW_WEAK));

	/* The old password again: refused by the history. */
	rc = change("alice", PAM_CHANGE_EXPIRED_AUTHTOK, &c, reused);
	ck_assert_int_eq(rc, PAM_AUTHTOK_ERR);
	ck_assert_msg(strstr(c.log, "used before") != NULL, "no \"used before\" in:\n%s",
		      c.log);
	ck_assert_ptr_null(strstr(c.log, "too short"));

	/* Still expired: nothing was recorded. */
	rc = account("alice", 0, &c);
	ck_assert_int_eq(rc, PAM_NEW_AUTHTOK_REQD);

	change_ok("alice", PAM_CHANGE_EXPIRED_AUTHTOK, PW_SECOND);
	s = harness_read(written);
	ck_assert_ptr_nonnull(s);
	snprintf(expect, sizeof(expect), "alice:%s:%s\nalice:%s:%s\n", PW_FIRST, SERVICE,
		 PW_SECOND, SERVICE);
	ck_assert_str_eq(s, expect);
	free(s);

	/* The record line restarted the clock at the daemon's day 91. */
	account_quiet_success("alice", 0);
}
END_TEST

/* ---- 4. administrator expiry ---- */

START_TEST(test_admin_expire_forces_change)
{
	struct harness_conv c;
	struct request_status_result st;
	int rc;

	start(NULL);
	change_ok("alice", 0, PW_FIRST);
	account_quiet_success("alice", 0);

	ck_assert_int_eq(request_simple(d.socket, 5000, PROTO_EXPIRE, "alice", NULL, 0),
			 PP_OK);
	ck_assert_int_eq(request_status(d.socket, 5000, "alice", 90, 14, &st), PP_OK);
	ck_assert(st.must_change);
	ck_assert_int_eq(st.state, AGING_MUST_CHANGE);

	rc = account("alice", 0, &c);
	ck_assert_msg(rc == PAM_NEW_AUTHTOK_REQD, "acct_mgmt: %s\n%s",
		      pam_strerror(NULL, rc), c.log);
	ck_assert_int_eq(c.errors, 1);
	ck_assert_ptr_nonnull(strstr(c.log, "required by an administrator"));

	/* Silent: same answer, no words. */
	rc = account("alice", PAM_SILENT, &c);
	ck_assert_int_eq(rc, PAM_NEW_AUTHTOK_REQD);
	ck_assert_int_eq(c.errors + c.infos + c.prompts, 0);

	change_ok("alice", PAM_CHANGE_EXPIRED_AUTHTOK, PW_SECOND);
	ck_assert_int_eq(request_status(d.socket, 5000, "alice", 90, 14, &st), PP_OK);
	ck_assert(!st.must_change);
	ck_assert_int_eq(st.state, AGING_OK);
	account_quiet_success("alice", 0);

	/* An unknown user cannot be expired. */
	ck_assert_int_eq(request_simple(d.socket, 5000, PROTO_EXPIRE, "nosuchuser", NULL, 0),
			 PP_ERR_NOT_FOUND);
}
END_TEST

START_TEST(test_min_age_does_not_block_forced_change)
{
	struct harness_conv c;
	struct request_check_result r;
	const char *again[] = { PW_SECOND, PW_SECOND, NULL };
	int rc;

	start("min_age_days = 1\n");
	change_ok("alice", 0, PW_FIRST);

	/* The daemon's verdict for a self-service change: too soon. */
	ck_assert_int_eq(request_check(d.socket, 5000, "alice", PW_SECOND, 0, 24, 1, &r),
			 PP_OK);
	ck_assert(!r.reused);
	ck_assert(r.too_soon);
	ck_assert_int_eq(r.days_left, 1);
	if (!harness_is_root()) {
		/* Through PAM too (as root the module waives min age for others). */
		rc = change("alice", 0, &c, again);
		ck_assert_int_eq(rc, PAM_AUTHTOK_ERR);
		ck_assert_ptr_nonnull(strstr(c.log, "changed too recently"));
	}

	ck_assert_int_eq(request_simple(d.socket, 5000, PROTO_EXPIRE, "alice", NULL, 0),
			 PP_OK);
	ck_assert_int_eq(request_check(d.socket, 5000, "alice", PW_SECOND, 0, 24, 1, &r),
			 PP_OK);
	ck_assert(!r.too_soon);

	rc = account("alice", 0, &c);
	ck_assert_int_eq(rc, PAM_NEW_AUTHTOK_REQD);
	change_ok("alice", PAM_CHANGE_EXPIRED_AUTHTOK, PW_SECOND);
	account_quiet_success("alice", 0);
}
END_TEST

/* ---- 5. bootstrap from the shadow file ---- */

/*
 * "passwd -k" passes PAM_CHANGE_EXPIRED_AUTHTOK for a password that has not
 * expired: that must not be a way around the minimum age. The target is
 * root itself, so the root-changes-another-user waiver does not apply
 * whoever runs the test.
 */
START_TEST(test_expired_flag_alone_keeps_min_age)
{
	struct harness_conv c;
	const char *again[] = { PW_SECOND, PW_SECOND, NULL };

	start("min_age_days = 1\n");
	change_ok("root", 0, PW_FIRST);
	ck_assert_int_eq(change("root", PAM_CHANGE_EXPIRED_AUTHTOK, &c, again),
			 PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "changed too recently"));
}
END_TEST

START_TEST(test_bootstrap_from_shadow)
{
	struct harness_conv c;
	struct request_status_result st;
	char shadow[4300], text[1024], expect[512], date[32];
	int64_t now = now_utc(), today = now / DAY, first_seen;
	int rc;

	snprintf(shadow, sizeof(shadow), "%s/shadow", dir);
	snprintf(text, sizeof(text),
		 "root:*:%lld:0:99999:7:::\n"
		 "bob:$y$j9T$x$y:%lld:0:99999:7:::\n"
		 "carol:$y$j9T$x$y:%lld:0:99999:7:::\n"
		 "dave:$y$j9T$x$y:0:0:99999:7:::\n",
		 (long long)today, (long long)(today - 100), (long long)(today - 80));
	harness_write(shadow, text);
	start(NULL);

	/* bob changed 100 days ago: expired. */
	rc = account("bob", 0, &c);
	ck_assert_msg(rc == PAM_NEW_AUTHTOK_REQD, "bob: %s\n%s", pam_strerror(NULL, rc),
		      c.log);
	ck_assert_int_eq(c.errors, 1);
	date_of((today - 100) * DAY, date, sizeof(date));
	snprintf(expect, sizeof(expect),
		 "E: Your password has expired (last changed %s; passwords must be "
		 "changed every 90 days)", date);
	ck_assert_msg(strstr(c.log, expect) != NULL, "no \"%s\" in:\n%s", expect, c.log);

	/* carol changed 80 days ago: expires at midnight UTC in 10 days. */
	rc = account("carol", 0, &c);
	ck_assert_int_eq(rc, PAM_SUCCESS);
	date_of((today + 10) * DAY, date, sizeof(date));
	snprintf(expect, sizeof(expect), "I: Your password expires in 10 days (on %s).\n",
		 date);
	ck_assert_str_eq(c.log, expect);

	/* dave's last change is 0 (chage -d 0): must change. */
	rc = account("dave", 0, &c);
	ck_assert_int_eq(rc, PAM_NEW_AUTHTOK_REQD);
	ck_assert_int_eq(c.errors, 1);
	ck_assert_ptr_nonnull(strstr(c.log, "You must choose a new one now."));

	/* nobody is not in the shadow file: a full period from first sight. */
	account_quiet_success("nobody", 0);
	ck_assert_int_eq(request_status(d.socket, 5000, "nobody", 90, 14, &st), PP_OK);
	ck_assert(st.found);
	ck_assert_int_eq(st.last_change, 0);
	ck_assert_int_eq(st.state, AGING_NEVER_SET);
	ck_assert(st.first_seen >= now && st.first_seen <= now_utc());
	first_seen = st.first_seen;

	/* The store now holds bob and carol; their clocks keep the shadow days. */
	ck_assert_int_eq(request_status(d.socket, 5000, "carol", 90, 14, &st), PP_OK);
	ck_assert_int_eq(st.last_change, (today - 80) * DAY);
	ck_assert_int_eq(request_status(d.socket, 5000, "dave", 90, 14, &st), PP_OK);
	ck_assert(st.must_change);

	harness_daemon_set_clock(&d, "+91d");
	rc = account("nobody", 0, &c);
	ck_assert_msg(rc == PAM_NEW_AUTHTOK_REQD, "nobody at +91d: %s\n%s",
		      pam_strerror(NULL, rc), c.log);
	ck_assert_int_eq(c.errors, 1);
	ck_assert_ptr_nonnull(strstr(c.log, "E: Your password has expired ("));
	ck_assert_ptr_nonnull(strstr(c.log, "passwords must be changed every 90 days)"));
	/* The clock started at first sight: that is the date to name. */
	date_of(first_seen, date, sizeof(date));
	snprintf(expect, sizeof(expect), "(no change recorded since %s;", date);
	ck_assert_msg(strstr(c.log, expect) != NULL,
		      "expected \"%s\" (first seen %s) in:\n%s", expect, date, c.log);
}
END_TEST

/* ---- 6. the daemon is down ---- */

START_TEST(test_daemon_down_account)
{
	struct harness_conv c;
	char *log;
	int rc;

	start(NULL);
	change_ok("alice", 0, PW_FIRST);
	ck_assert_int_eq(stop_daemon(), 0);
	log = read_audit();
	ck_assert_int_eq(audit_event_count(log, "daemon_stop", NULL, NULL, NULL), 1);
	free(log);

	/* Default on_unreachable_account = allow: the login goes through. */
	account_quiet_success("alice", 0);

	stack_with("on_unreachable_account=deny", NULL);
	rc = account("alice", 0, &c);
	ck_assert_msg(rc == PAM_AUTHINFO_UNAVAIL, "acct_mgmt: %s\n%s",
		      pam_strerror(NULL, rc), c.log);
	ck_assert_int_eq(c.errors, 1);
	ck_assert_ptr_nonnull(strstr(c.log, "unavailable"));

	rc = account("alice", PAM_SILENT, &c);
	ck_assert_int_eq(rc, PAM_AUTHINFO_UNAVAIL);
	ck_assert_int_eq(c.errors + c.infos, 0);
}
END_TEST

/* ---- 7. status for non-root peers ---- */

enum status_child_result {
	CHILD_OK = 0,
	CHILD_CHDIR = 10,
	CHILD_SETUID,
	CHILD_OWN_STATUS_FAILED,
	CHILD_OWN_NOT_FOUND,
	CHILD_OWN_WRONG,
	CHILD_OTHER_NOT_DENIED,
};

START_TEST(test_status_own_account_only)
{
	char rundir[4300];
	pid_t pid;
	int status;

	if (!harness_is_root())
		HARNESS_SKIP("needs root (to become uid 1001)");
	start(NULL);
	change_ok("alice", 0, PW_FIRST);
	snprintf(rundir, sizeof(rundir), "%s/run", dir);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct request_status_result st;
		pp_err rc;

		/*
		 * Connect by a relative path from inside the socket's 0755
		 * directory: the private test directories above stay 0700.
		 */
		if (chdir(rundir) != 0)
			_exit(CHILD_CHDIR);
		if (setgroups(0, NULL) != 0 || setgid(1001) != 0 || setuid(1001) != 0 ||
		    geteuid() != 1001)
			_exit(CHILD_SETUID);
		rc = request_status("pd.sock", 5000, "alice", 90, 14, &st);
		if (rc != PP_OK)
			_exit(CHILD_OWN_STATUS_FAILED);
		if (!st.found)
			_exit(CHILD_OWN_NOT_FOUND);
		if (st.state != AGING_OK || st.last_change == 0)
			_exit(CHILD_OWN_WRONG);
		rc = request_status("pd.sock", 5000, "bob", 90, 14, &st);
		if (rc != PP_ERR_DENIED)
			_exit(CHILD_OTHER_NOT_DENIED);
		_exit(CHILD_OK);
	}
	while (waitpid(pid, &status, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	ck_assert(WIFEXITED(status));
	ck_assert_msg(WEXITSTATUS(status) == CHILD_OK,
		      "child as uid 1001 failed at step %d", WEXITSTATUS(status));
}
END_TEST

/* ---- 8. the audit trail ---- */

START_TEST(test_audit_trail)
{
	struct harness_conv c;
	const char *weak[] = { PW_WEAK, NULL };
	const char *reused[] = { PW_FIRST, NULL };
	const char svc[] = "\"service\":\"" SERVICE "\"";
	char *log;
	const char *needles_actor[] = { "\"event\":\"admin_expire\"", "\"user\":\"alice\"",
					"\"actor\":\"", NULL };
	const char *empty_actor[] = { "\"event\":\"admin_expire\"", "\"actor\":\"\"", NULL };

	start(NULL);
	change_ok("alice", 0, PW_FIRST);                             /* password_changed */
	harness_daemon_set_clock(&d, "+77d");
	ck_assert_int_eq(account("alice", 0, &c), PAM_SUCCESS);      /* expiry_warning */
	harness_daemon_set_clock(&d, "+91d");
	ck_assert_int_eq(account("alice", 0, &c), PAM_NEW_AUTHTOK_REQD); /* password_expired */
	ck_assert_int_eq(change("alice", PAM_CHANGE_EXPIRED_AUTHTOK, &c, weak),
			 PAM_AUTHTOK_ERR);                           /* change_rejected */
	ck_assert_int_eq(change("alice", PAM_CHANGE_EXPIRED_AUTHTOK, &c, reused),
			 PAM_AUTHTOK_ERR);                           /* change_rejected */
	change_ok("alice", PAM_CHANGE_EXPIRED_AUTHTOK, PW_SECOND);   /* + forced_change_completed */
	ck_assert_int_eq(request_simple(d.socket, 5000, PROTO_EXPIRE, "alice", NULL, 0),
			 PP_OK);                                     /* admin_expire */
	ck_assert_int_eq(account("alice", 0, &c), PAM_NEW_AUTHTOK_REQD);
	change_ok("alice", PAM_CHANGE_EXPIRED_AUTHTOK, PW_THIRD);
	account_quiet_success("alice", 0);
	ck_assert_int_eq(stop_daemon(), 0);

	log = read_audit();
	audit_lines_sane(log);
	audit_alice_lines_consistent(log);

	ck_assert_int_eq(audit_event_count(log, "daemon_start", NULL, NULL, NULL), 1);
	ck_assert_int_eq(audit_event_count(log, "daemon_stop", NULL, NULL, NULL), 1);
	ck_assert_int_eq(audit_event_count(log, "password_changed", "alice", svc, NULL), 3);
	ck_assert_int_eq(audit_event_count(log, "expiry_warning", "alice", svc, NULL), 1);
	ck_assert_int_eq(audit_event_count(log, "password_expired", "alice", svc,
					   "\"reasons\":[\"expired\"]"), 1);
	ck_assert_int_eq(audit_event_count(log, "password_expired", "alice", svc,
					   "\"reasons\":[\"must_change\"]"), 1);
	ck_assert_int_eq(audit_event_count(log, "change_rejected", "alice", svc,
					   "\"too_short\""), 1);
	ck_assert_int_eq(audit_event_count(log, "change_rejected", "alice", svc,
					   "\"reused\""), 1);
	ck_assert_int_eq(audit_event_count(log, "change_rejected", "alice", NULL, NULL), 2);
	ck_assert_int_eq(audit_event_count(log, "forced_change_completed", "alice", svc,
					   NULL), 2);
	ck_assert_int_eq(audit_event_count(log, "admin_expire", "alice", NULL, NULL), 1);
	ck_assert_int_eq(audit_count(log, needles_actor), 1);
	ck_assert_int_eq(audit_count(log, empty_actor), 0);
	/* The first forced change came after the expiry, not before. */
	ck_assert_ptr_nonnull(strstr(strstr(log, "\"event\":\"password_expired\""),
				     "\"event\":\"forced_change_completed\""));
	/* The log opens with the start and closes with the stop. */
	ck_assert_ptr_nonnull(strstr(log, "{\"seq\":1,"));
	ck_assert_ptr_eq(strstr(log, "\"event\":\"daemon_start\""), strstr(log, "\"event\":"));
	{
		size_t len = strlen(log);
		const char *last;

		ck_assert_uint_gt(len, 1);
		ck_assert_int_eq(log[len - 1], '\n');
		last = memrchr(log, '\n', len - 1);
		last = last ? last + 1 : log;
		ck_assert_msg(strstr(last, "\"event\":\"daemon_stop\"") != NULL,
			      "last audit line is not daemon_stop: %s", last);
	}
	free(log);

	audit_verify_clean();
}
END_TEST

/* ---- 9. users outside the policy ---- */

START_TEST(test_system_account_ignored)
{
	char after[4200], *log;
	const char *svc_user[] = { "\"user\":\"svc\"", NULL };

	start(NULL);
	snprintf(after, sizeof(after), "account required %s\n",
		 harness_pam_module("pam_permit.so"));
	stack_with(NULL, after);
	account_quiet_success("svc", 0);
	harness_daemon_set_clock(&d, "+91d");
	account_quiet_success("svc", 0);
	harness_daemon_set_clock(&d, "+400d");
	account_quiet_success("svc", 0);
	/* Covered users in the same stack are still checked. */
	account_quiet_success("alice", 0);

	ck_assert_int_eq(stop_daemon(), 0);
	log = read_audit();
	ck_assert_int_eq(audit_count(log, svc_user), 0);
	free(log);
}
END_TEST

/* ---- the suite ---- */

static Suite *rotation_suite(void)
{
	Suite *s = suite_create("rotation");
	TCase *tc = tcase_create("account phase");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_day0_change_then_account_silent);
	tcase_add_test(tc, test_day77_warns_once);
	tcase_add_test(tc, test_day91_expired_then_forced_change);
	tcase_add_test(tc, test_admin_expire_forces_change);
	tcase_add_test(tc, test_min_age_does_not_block_forced_change);
	tcase_add_test(tc, test_expired_flag_alone_keeps_min_age);
	tcase_add_test(tc, test_bootstrap_from_shadow);
	tcase_add_test(tc, test_daemon_down_account);
	tcase_add_test(tc, test_status_own_account_only);
	tcase_add_test(tc, test_audit_trail);
	tcase_add_test(tc, test_system_account_ignored);
	suite_add_tcase(s, tc);
	return s;
}

/* Kill the daemons of tests that failed before they could stop them. */
static void reap_leftover_daemons(void)
{
	DIR *dp = opendir(registry);
	struct dirent *e;

	if (dp == NULL)
		return;
	while ((e = readdir(dp)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (e->d_name[0] == '.' || *end != '\0' || pid <= 1)
			continue;
		kill((pid_t)pid, SIGKILL);
	}
	closedir(dp);
	harness_rmtree(registry);
}

void test_before_all(void)
{
	harness_tmpdir(registry, sizeof(registry));
}

void test_after_all(void)
{
	reap_leftover_daemons();
}

Suite *test_suite(void)
{
	return rotation_suite();
}
