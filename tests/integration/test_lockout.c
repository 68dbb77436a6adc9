/*
 * test_lockout.c - rotation without lockouts, through the real libpam and
 * a real pam_policyd: logins that cannot change a password (SSH keys,
 * cron) are not sent to a change, a change the minimum age refuses is
 * refused before any password is asked for, a change the daemon could not
 * record says so, and the audit lines of a change keep where it came from.
 *
 * Each test starts its own daemon (under libfaketime where the clock
 * moves) and runs the module in this process through pam_start_confdir()
 * with a private service file, or in a child that is the user the way
 * passwd is (real uid alice, effective uid root). A "password login" is
 * pam_authenticate through an auth line that leaves PAM_AUTHTOK, as
 * pam_unix does; a "key login" is pam_acct_mgmt alone, as sshd does after
 * publickey. Users come from nss_wrapper (see run-tests.sh). Nothing
 * sleeps.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "aging.h"
#include "proto.h"
#include "request.h"

#include "harness.h"

#define TIMEOUT_MS 10000
#define POLICY_TEXT "max_age_days = 90\nwarn_days = 14\nmin_age_days = 0\nhistory = 24\n"
#define PW_FIRST "Correct-Horse-7"
#define PW_SECOND "Violet-Anchor-58"
#define PW_THIRD "Brisk-Lantern-31"
#define KEY_INFO "SSH_AUTH_INFO_0=publickey ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey\n"

static char dir[4096];
static char written[4200];
static struct harness_daemon d;

/* Daemons of tests that failed before their teardown: killed after the suite. */
static char registry[4096];

static void setup(void)
{
	harness_tmpdir(dir, sizeof(dir));
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

/* A daemon with the test policy plus extra, its clock faked. */
static void start(const char *extra)
{
	char config[4096], path[4200];

	snprintf(config, sizeof(config), "%s%s", POLICY_TEXT, extra ? extra : "");
	ck_assert_msg(harness_daemon_start(&d, dir, config, true), "pam_policyd did not start");
	snprintf(path, sizeof(path), "%s/%ld", registry, (long)d.pid);
	harness_write(path, "");
}

/*
 * The service file `service`: an auth line leaving PAM_AUTHTOK, the
 * account line (extra arguments account_args), the check line, the
 * writer and the record line.
 */
static void stack_for(const char *service, const char *account_args)
{
	struct harness_stack spec = {
		.config = d.config, .auth_args = "authtok=Typed-At-Login-1",
		.account = true, .account_args = account_args, .check_args = "retry=1",
		.writer_file = written, .record = true,
	};

	harness_stack_write(dir, service, &spec);
}

/* Lines of the audit log holding every one of the needles (NULL-ended). */
static int audit_lines(const char *const *needles)
{
	char *log = harness_read(d.audit);
	int n = 0;

	ck_assert_ptr_nonnull(log);
	for (char *line = log, *end; line != NULL && *line; line = end ? end + 1 : NULL) {
		bool all = true;

		end = strchr(line, '\n');
		if (end != NULL)
			*end = '\0';
		for (int i = 0; needles[i] != NULL; i++)
			if (strstr(line, needles[i]) == NULL)
				all = false;
		n += all;
	}
	free(log);
	return n;
}

/* ---- logins ---- */

static int key_login(const char *service, const char *user, int flags,
		     const char *env, struct harness_conv *c)
{
	const struct harness_login login = { .env = env, .rhost = "198.51.100.4" };

	harness_conv_init(c, NULL);
	return harness_pam_acct_mgmt_with(dir, service, user, flags, &login, c);
}

static int password_login(const char *service, const char *user, struct harness_conv *c)
{
	const struct harness_login login = { .authenticate = true };

	harness_conv_init(c, NULL);
	return harness_pam_acct_mgmt_with(dir, service, user, 0, &login, c);
}

/* Root changes user's password to pw (prompted twice); must succeed. */
static void change_ok(const char *service, const char *user, int flags, const char *pw,
		      const struct harness_login *login)
{
	struct harness_conv c;
	const char *answers[] = { pw, pw, NULL };
	int rc;

	harness_conv_init(&c, answers);
	rc = harness_pam_chauthtok_with(dir, service, user, flags, login, &c);
	ck_assert_msg(rc == PAM_SUCCESS, "change of %s's password: %s; conversation:\n%s",
		      user, pam_strerror(NULL, rc), c.log);
	ck_assert_int_eq(c.errors, 0);
}

/*
 * pam_chauthtok as passwd runs it for alice herself: real uid alice,
 * effective uid root (when this process is root; otherwise the daemon,
 * running as this uid, takes the requests, and getuid() is not 0
 * either). In a child; the result and conversation come back in a file.
 */
static int chauthtok_as_alice(const char *service, int flags,
			      const char *const *answers, struct harness_conv *c)
{
	char path[4300];
	int status, rc = -1;
	pid_t pid;
	char *got;

	snprintf(path, sizeof(path), "%s/conv.out", dir);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		FILE *f;

		if (geteuid() == 0 && setresuid(1001, 0, 0) != 0)
			_exit(2);
		harness_conv_init(c, answers);
		rc = harness_pam_chauthtok(dir, service, "alice", flags, c);
		f = fopen(path, "w");
		if (f == NULL)
			_exit(3);
		fprintf(f, "%d %d %d\n%s", rc, c->errors, c->prompts, c->log);
		_exit(fclose(f) == 0 ? 0 : 4);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "PAM child failed");
	got = harness_read(path);
	ck_assert_ptr_nonnull(got);
	harness_conv_init(c, NULL);
	ck_assert_int_eq(sscanf(got, "%d %d %d", &rc, &c->errors, &c->prompts), 3);
	snprintf(c->log, sizeof(c->log), "%s", strchr(got, '\n') + 1);
	free(got);
	return rc;
}

/* ---- 3. users who never type a password are not forced to change one ---- */

/*
 * Day 91, password expired: a key login (no PAM_AUTHTOK; sshd's
 * SSH_AUTH_INFO_0 says publickey) goes through with a notice and an
 * audit event; a password login of the same user is still sent to a
 * change. (Before: the key login got PAM_NEW_AUTHTOK_REQD.)
 */
START_TEST(test_key_login_of_expired_user_passes)
{
	struct harness_conv c;
	int rc;

	start(NULL);
	stack_for("sshd", NULL);
	change_ok("sshd", "alice", 0, PW_FIRST, NULL);
	harness_daemon_set_clock(&d, "+91d");

	rc = key_login("sshd", "alice", 0, KEY_INFO, &c);
	ck_assert_msg(rc == PAM_SUCCESS, "key login: %s\n%s", pam_strerror(NULL, rc), c.log);
	ck_assert_msg(c.errors == 0 && c.infos == 1 && c.prompts == 0, "conversation:\n%s",
		      c.log);
	ck_assert_ptr_nonnull(strstr(c.log, "I: Your password has expired (last changed "));
	ck_assert_ptr_nonnull(strstr(c.log, "You signed in without it: change it the next "
				     "time you use it."));

	/* Without ExposeAuthInfo: no PAM_AUTHTOK alone tells the same. */
	rc = key_login("sshd", "alice", 0, NULL, &c);
	ck_assert_int_eq(rc, PAM_SUCCESS);
	ck_assert_int_eq(c.infos, 1);

	/* PAM_SILENT: the same answer, no words. */
	rc = key_login("sshd", "alice", PAM_SILENT, KEY_INFO, &c);
	ck_assert_int_eq(rc, PAM_SUCCESS);
	ck_assert_int_eq(c.errors + c.infos + c.prompts, 0);

	/* A password login of the same user must change now. */
	rc = password_login("sshd", "alice", &c);
	ck_assert_msg(rc == PAM_NEW_AUTHTOK_REQD, "password login: %s\n%s",
		      pam_strerror(NULL, rc), c.log);
	ck_assert_ptr_nonnull(strstr(c.log, "E: Your password has expired"));

	/* sshd says keyboard-interactive (its PAM ran in another process). */
	rc = key_login("sshd", "alice", 0, "SSH_AUTH_INFO_0=keyboard-interactive/pam\n", &c);
	ck_assert_int_eq(rc, PAM_NEW_AUTHTOK_REQD);
	/* ...or a key and then the password (AuthenticationMethods). */
	rc = key_login("sshd", "alice", 0,
		       "SSH_AUTH_INFO_0=publickey ssh-ed25519 AAAA\npassword\n", &c);
	ck_assert_int_eq(rc, PAM_NEW_AUTHTOK_REQD);

	ck_assert_int_eq(audit_lines((const char *const[]){
		"\"event\":\"expired_nonpassword_login\"", "\"user\":\"alice\"",
		"\"service\":\"sshd\"", "\"rhost\":\"198.51.100.4\"",
		"\"reasons\":[\"expired\"]", NULL }), 3);
	ck_assert_int_eq(audit_lines((const char *const[]){
		"\"event\":\"password_expired\"", "\"user\":\"alice\"", NULL }), 3);
}
END_TEST

/* An administrator's flag: the key login passes too, saying why. */
START_TEST(test_key_login_of_flagged_user_passes)
{
	struct harness_conv c;
	int rc;

	start(NULL);
	stack_for("sshd", NULL);
	change_ok("sshd", "alice", 0, PW_FIRST, NULL);
	ck_assert_int_eq(request_simple(d.socket, TIMEOUT_MS, PROTO_EXPIRE, "alice", NULL, 0),
			 PP_OK);
	rc = key_login("sshd", "alice", 0, KEY_INFO, &c);
	ck_assert_msg(rc == PAM_SUCCESS, "key login: %s\n%s", pam_strerror(NULL, rc), c.log);
	ck_assert_ptr_nonnull(strstr(c.log, "I: Your password must be changed (required by an "
				     "administrator). You signed in without it"));
	ck_assert_int_eq(password_login("sshd", "alice", &c), PAM_NEW_AUTHTOK_REQD);
	ck_assert_int_eq(audit_lines((const char *const[]){
		"\"event\":\"expired_nonpassword_login\"", "\"user\":\"alice\"",
		"\"reasons\":[\"must_change\"]", NULL }), 1);
}
END_TEST

/* expired_nonpassword = force: every login is sent to the change, as before. */
START_TEST(test_expired_nonpassword_force)
{
	struct harness_conv c;

	start(NULL);
	stack_for("sshd", "expired_nonpassword=force");
	change_ok("sshd", "alice", 0, PW_FIRST, NULL);
	harness_daemon_set_clock(&d, "+91d");
	ck_assert_int_eq(key_login("sshd", "alice", 0, KEY_INFO, &c), PAM_NEW_AUTHTOK_REQD);
	ck_assert_int_eq(audit_lines((const char *const[]){
		"\"event\":\"expired_nonpassword_login\"", NULL }), 0);
}
END_TEST

/*
 * cron's account check of an expired user (a password login would be
 * forced) passes, silently, audited once per user, service and day;
 * atd likewise; a service added with noninteractive_services too.
 * (Before: PAM_NEW_AUTHTOK_REQD, and the job did not run.)
 */
START_TEST(test_noninteractive_services_never_forced)
{
	struct harness_conv c;

	start(NULL);
	stack_for("cron", NULL);
	stack_for("atd", NULL);
	stack_for("batchq", "noninteractive_services=batchq");
	stack_for("login", NULL);
	change_ok("login", "alice", 0, PW_FIRST, NULL);
	harness_daemon_set_clock(&d, "+91d");

	for (int i = 0; i < 3; i++) {
		int rc = password_login("cron", "alice", &c);

		ck_assert_msg(rc == PAM_SUCCESS, "cron run %d: %s\n%s", i,
			      pam_strerror(NULL, rc), c.log);
		ck_assert_msg(c.errors + c.infos + c.prompts == 0, "cron said:\n%s", c.log);
	}
	ck_assert_int_eq(key_login("atd", "alice", 0, NULL, &c), PAM_SUCCESS);
	ck_assert_int_eq(password_login("batchq", "alice", &c), PAM_SUCCESS);
	/* Not in the list: an interactive password login is forced. */
	ck_assert_int_eq(password_login("login", "alice", &c), PAM_NEW_AUTHTOK_REQD);

	ck_assert_int_eq(audit_lines((const char *const[]){
		"\"event\":\"expired_noninteractive\"", "\"user\":\"alice\"",
		"\"service\":\"cron\"", "\"reasons\":[\"expired\"]", NULL }), 1);
	ck_assert_int_eq(audit_lines((const char *const[]){
		"\"event\":\"expired_noninteractive\"", "\"service\":\"atd\"", NULL }), 1);
	ck_assert_int_eq(audit_lines((const char *const[]){
		"\"event\":\"expired_noninteractive\"", "\"service\":\"batchq\"", NULL }), 1);
	/* The next day cron's pass is audited again, once. */
	harness_daemon_set_clock(&d, "+92d");
	ck_assert_int_eq(password_login("cron", "alice", &c), PAM_SUCCESS);
	ck_assert_int_eq(password_login("cron", "alice", &c), PAM_SUCCESS);
	ck_assert_int_eq(audit_lines((const char *const[]){
		"\"event\":\"expired_noninteractive\"", "\"service\":\"cron\"", NULL }), 2);
}
END_TEST

/* ---- 4. a refusal the user cannot avoid comes first ---- */

/*
 * min_age_days = 1, changed a moment ago: the second change is refused
 * before any prompt, once, and audited. (Before: the user typed the new
 * password and only then heard that it was too soon.)
 */
START_TEST(test_min_age_refused_before_any_prompt)
{
	struct harness_conv c;
	struct request_check_result r;
	const char *answers[] = { PW_SECOND, PW_SECOND, NULL };
	const char *again[] = { PW_THIRD, PW_THIRD, NULL };
	char *s;
	int rc;

	start("min_age_days = 1\n");
	stack_for("passwd", NULL);
	rc = chauthtok_as_alice("passwd", 0, answers, &c);
	ck_assert_msg(rc == PAM_SUCCESS, "first change: %s\n%s", pam_strerror(NULL, rc), c.log);

	rc = chauthtok_as_alice("passwd", 0, again, &c);
	ck_assert_msg(rc == PAM_AUTHTOK_ERR, "second change: %s\n%s", pam_strerror(NULL, rc),
		      c.log);
	ck_assert_msg(c.prompts == 0, "asked for a password before refusing:\n%s", c.log);
	ck_assert_int_eq(c.errors, 1);
	ck_assert_msg(strstr(c.log, "E: Your password cannot be changed yet: it was changed "
			     "too recently (passwords may be changed once every 1 day). You "
			     "can change it again in 1 day.") != NULL, "conversation:\n%s", c.log);
	s = harness_read(written);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(strstr(s, PW_THIRD));
	free(s);
	ck_assert_int_eq(audit_lines((const char *const[]){
		"\"event\":\"change_rejected\"", "\"user\":\"alice\"", "\"too_soon\"", NULL }), 1);

	/* The daemon's answer, asked directly. */
	ck_assert_int_eq(request_may_change(d.socket, TIMEOUT_MS, "alice", 0, 1, &r), PP_OK);
	ck_assert(r.too_soon && r.days_left == 1 && !r.reused);
	ck_assert_int_eq(request_may_change(d.socket, TIMEOUT_MS, "alice",
					    PROTO_CHECK_ROOT_FOR_OTHER, 1, &r), PP_OK);
	ck_assert(!r.too_soon);
	ck_assert_int_eq(request_may_change(d.socket, TIMEOUT_MS, "nobody", 0, 1, &r), PP_OK);
	ck_assert(!r.too_soon);

	/* A change the daemon knows to be forced is not refused. */
	ck_assert_int_eq(request_simple(d.socket, TIMEOUT_MS, PROTO_EXPIRE, "alice", NULL, 0),
			 PP_OK);
	rc = chauthtok_as_alice("passwd", PAM_CHANGE_EXPIRED_AUTHTOK, again, &c);
	ck_assert_msg(rc == PAM_SUCCESS, "forced change: %s\n%s", pam_strerror(NULL, rc), c.log);
	ck_assert_int_eq(c.prompts, 2);
}
END_TEST

/* Root setting another user's password is never blocked by the minimum age. */
START_TEST(test_min_age_root_for_other_not_blocked)
{
	if (!harness_is_root())
		HARNESS_SKIP("needs root (root setting another user's password)");
	start("min_age_days = 1\n");
	stack_for("passwd", NULL);
	change_ok("passwd", "alice", 0, PW_FIRST, NULL);
	change_ok("passwd", "alice", 0, PW_SECOND, NULL);
}
END_TEST

/* ---- 5. a change the daemon could not record says so ---- */

/*
 * The record line cannot reach the daemon: the stack still succeeds (the
 * writer changed the password), and the user is told plainly that the
 * change was not recorded. (Before: silence, as if all went well.)
 */
START_TEST(test_record_unreachable_is_told)
{
	struct harness_conv c;
	const char *answers[] = { PW_FIRST, PW_FIRST, NULL };
	char path[4300], *text, *at, fixed[16384], expect[256], *s;
	int rc;

	start(NULL);
	stack_for("passwd", NULL);
	/* The record line talks to a socket nobody listens on. */
	snprintf(path, sizeof(path), "%s/passwd", dir);
	text = harness_read(path);
	ck_assert_ptr_nonnull(text);
	at = strstr(text, " record\n");
	ck_assert_ptr_nonnull(at);
	*at = '\0';
	snprintf(fixed, sizeof(fixed), "%s record socket=%s/none.sock\n", text, dir);
	harness_write(path, fixed);
	free(text);

	harness_conv_init(&c, answers);
	rc = harness_pam_chauthtok(dir, "passwd", "alice", 0, &c);
	ck_assert_msg(rc == PAM_SUCCESS, "chauthtok: %s\n%s", pam_strerror(NULL, rc), c.log);
	ck_assert_int_eq(c.errors, 1);
	ck_assert_msg(strstr(c.log, "E: Your password was changed, but the change could not be "
			     "recorded by the password policy service (it cannot be reached). "
			     "The new password is in effect.") != NULL, "conversation:\n%s", c.log);
	ck_assert_ptr_null(strstr(c.log, PW_FIRST));
	s = harness_read(written);
	ck_assert_ptr_nonnull(s);
	snprintf(expect, sizeof(expect), "alice:%s:passwd\n", PW_FIRST);
	ck_assert_str_eq(s, expect);
	free(s);
	ck_assert_int_eq(audit_lines((const char *const[]){
		"\"event\":\"password_changed\"", NULL }), 0);
}
END_TEST

/* ---- 6. the audit lines of a change keep where it came from ---- */

START_TEST(test_change_audit_carries_rhost_and_tty)
{
	const struct harness_login from = { .rhost = "203.0.113.7", .tty = "pts/3" };

	start(NULL);
	stack_for("sshd", NULL);
	change_ok("sshd", "alice", 0, PW_FIRST, &from);
	ck_assert_int_eq(request_simple(d.socket, TIMEOUT_MS, PROTO_EXPIRE, "alice", NULL, 0),
			 PP_OK);
	change_ok("sshd", "alice", PAM_CHANGE_EXPIRED_AUTHTOK, PW_SECOND, &from);
	ck_assert_int_eq(audit_lines((const char *const[]){
		"\"event\":\"password_changed\"", "\"user\":\"alice\"", "\"service\":\"sshd\"",
		"\"rhost\":\"203.0.113.7\"", "\"tty\":\"pts/3\"", NULL }), 2);
	ck_assert_int_eq(audit_lines((const char *const[]){
		"\"event\":\"forced_change_completed\"", "\"user\":\"alice\"",
		"\"rhost\":\"203.0.113.7\"", "\"tty\":\"pts/3\"", NULL }), 1);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("lockout");
	TCase *tc = tcase_create("lockout");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_key_login_of_expired_user_passes);
	tcase_add_test(tc, test_key_login_of_flagged_user_passes);
	tcase_add_test(tc, test_expired_nonpassword_force);
	tcase_add_test(tc, test_noninteractive_services_never_forced);
	tcase_add_test(tc, test_min_age_refused_before_any_prompt);
	tcase_add_test(tc, test_min_age_root_for_other_not_blocked);
	tcase_add_test(tc, test_record_unreachable_is_told);
	tcase_add_test(tc, test_change_audit_carries_rhost_and_tty);
	suite_add_tcase(s, tc);
	return s;
}
