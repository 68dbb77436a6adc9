/*
 * test_atomic.c - rules that span a check and a record hold atomically per
 * user: of changes of one user made at the same moment, the minimum age
 * lets exactly one be recorded, the same password is stored once, and the
 * losers are told (a distinct reply status, the record line's message, a
 * change_not_recorded audit event), with history and last change left as
 * the winner wrote them.
 *
 * The records race for real: threads released together by a barrier, each
 * with its own connection, against a daemon whose hashing pool runs them in
 * parallel on separate store handles. Nothing sleeps.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "proto.h"
#include "request.h"

#include "harness.h"

#define TIMEOUT_MS 20000
#define RACERS 12
#define SERVICE "atomic"

static char dir[4096];
static struct harness_daemon d;

/*
 * Daemons still running when a test fails (a failing test exits without
 * its teardown): their pids are files here, killed after the suite.
 */
static char registry[4096];

static void setup(void)
{
	harness_tmpdir(dir, sizeof(dir));
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

static void start(const char *config)
{
	char path[4200];

	ck_assert_msg(harness_daemon_start(&d, dir, config, false), "pam_policyd did not start");
	snprintf(path, sizeof(path), "%s/%ld", registry, (long)d.pid);
	harness_write(path, "");
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

static struct request_status_result status_of(const char *user)
{
	struct request_status_result st;

	ck_assert_int_eq(request_status(d.socket, TIMEOUT_MS, user, 90, 14, &st), PP_OK);
	return st;
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

/* ---- racing records ---- */

struct racer {
	pthread_barrier_t *start;
	const char *user;
	char password[64];
	int min_age;
	pp_err rc;
	struct request_record_result r;
};

static void *race(void *arg)
{
	struct racer *x = arg;

	pthread_barrier_wait(x->start);
	x->rc = request_record_checked(d.socket, TIMEOUT_MS, x->user, x->password, 24,
				       "passwd", 0, x->min_age, &x->r);
	return NULL;
}

/* RACERS records of user at once; same_password: all with one password. */
static void run_race(struct racer *racers, const char *user, int min_age,
		     bool same_password)
{
	pthread_t threads[RACERS];
	pthread_barrier_t start_line;

	ck_assert_int_eq(pthread_barrier_init(&start_line, NULL, RACERS), 0);
	for (int i = 0; i < RACERS; i++) {
		racers[i].start = &start_line;
		racers[i].user = user;
		racers[i].min_age = min_age;
		snprintf(racers[i].password, sizeof(racers[i].password), "Racing-Pw-%02d!q",
			 same_password ? 0 : i);
		ck_assert_int_eq(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
	}
	for (int i = 0; i < RACERS; i++)
		ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
	pthread_barrier_destroy(&start_line);
	for (int i = 0; i < RACERS; i++)
		ck_assert_msg(racers[i].rc == PP_OK, "record %d: %s", i,
			      pp_strerror(racers[i].rc));
}

/*
 * min_age_days = 1: of RACERS changes of one user at once, one is recorded
 * and every other is refused as too soon, with the days left. (Before, the
 * record did not re-check anything: all RACERS were recorded, flushing
 * the history.)
 */
START_TEST(test_concurrent_changes_min_age_one_wins)
{
	struct racer racers[RACERS];
	struct request_status_result before, after;
	struct request_check_result chk;
	int recorded = 0, too_soon = 0, winner = -1;

	start("history = 24\nmin_age_days = 1\n");
	/* Known to the store, never recorded: the minimum age allows one. */
	before = status_of("alice");
	ck_assert(before.found);
	ck_assert_int_eq(before.last_change, 0);

	memset(racers, 0, sizeof(racers));
	run_race(racers, "alice", 1, false);
	for (int i = 0; i < RACERS; i++) {
		if (racers[i].r.recorded) {
			recorded++;
			winner = i;
		} else if (racers[i].r.too_soon) {
			too_soon++;
			ck_assert_int_eq(racers[i].r.days_left, 1);
			ck_assert(!racers[i].r.reused);
		}
	}
	ck_assert_msg(recorded == 1, "%d of %d concurrent changes recorded with "
		      "min_age_days = 1", recorded, RACERS);
	ck_assert_int_eq(too_soon, RACERS - 1);

	/* The store holds the winner's change only. */
	after = status_of("alice");
	ck_assert_int_eq(after.history_count, 1);
	ck_assert_int_gt(after.last_change, 0);
	ck_assert_int_eq(request_check(d.socket, TIMEOUT_MS, "alice", racers[winner].password,
				       0, 24, 0, &chk), PP_OK);
	ck_assert(chk.reused);
	for (int i = 0; i < RACERS; i++) {
		if (i == winner)
			continue;
		ck_assert_int_eq(request_check(d.socket, TIMEOUT_MS, "alice",
					       racers[i].password, 0, 24, 0, &chk), PP_OK);
		ck_assert_msg(!chk.reused, "refused change %d is in the history", i);
	}

	/* The reviewer sees one change and every refusal, with its reason. */
	ck_assert_int_eq(audit_lines((const char *const[]){
		"\"event\":\"password_changed\"", "\"user\":\"alice\"", NULL }), 1);
	ck_assert_int_eq(audit_lines((const char *const[]){
		"\"event\":\"change_not_recorded\"", "\"user\":\"alice\"", "too_soon",
		NULL }), RACERS - 1);
}
END_TEST

/*
 * The same password recorded RACERS times at once (no minimum age): one
 * history row, the others refused as already in the history. (Before:
 * RACERS identical rows.)
 */
START_TEST(test_concurrent_same_password_one_row)
{
	struct racer racers[RACERS];
	int recorded = 0, reused = 0;

	start("history = 24\nmin_age_days = 0\n");
	memset(racers, 0, sizeof(racers));
	run_race(racers, "bob", 0, true);
	for (int i = 0; i < RACERS; i++) {
		recorded += racers[i].r.recorded;
		reused += racers[i].r.reused && !racers[i].r.recorded;
	}
	ck_assert_msg(recorded == 1, "%d identical concurrent records stored", recorded);
	ck_assert_int_eq(reused, RACERS - 1);
	ck_assert_int_eq(status_of("bob").history_count, 1);
	ck_assert_int_eq(audit_lines((const char *const[]){
		"\"event\":\"change_not_recorded\"", "\"user\":\"bob\"", "reused", NULL }),
		RACERS - 1);
}
END_TEST

/* A duplicate is refused one after the other too; request_record says so. */
START_TEST(test_sequential_duplicate_not_stored)
{
	start("history = 24\nmin_age_days = 0\n");
	ck_assert_int_eq(request_record(d.socket, TIMEOUT_MS, "carol", "Same-Pw-77!x", 24,
					"passwd"), PP_OK);
	ck_assert_int_eq(request_record(d.socket, TIMEOUT_MS, "carol", "Same-Pw-77!x", 24,
					"passwd"), PP_ERR_DENIED);
	ck_assert_int_eq(status_of("carol").history_count, 1);
	/* A different password is recorded as usual. */
	ck_assert_int_eq(request_record(d.socket, TIMEOUT_MS, "carol", "Other-Pw-78!x", 24,
					"passwd"), PP_OK);
	ck_assert_int_eq(status_of("carol").history_count, 2);
}
END_TEST

/*
 * Root setting another user's password is not held to the minimum age in
 * the record either, nor is a change the daemon knows to be forced.
 */
START_TEST(test_record_waivers)
{
	struct request_record_result r;
	char text[128];

	start("history = 24\nmin_age_days = 1\n");
	ck_assert_int_eq(request_record_checked(d.socket, TIMEOUT_MS, "dave", "Dave-Pw-1!abc",
						24, "passwd", 0, 1, &r), PP_OK);
	ck_assert(r.recorded);
	ck_assert_int_eq(request_record_checked(d.socket, TIMEOUT_MS, "dave", "Dave-Pw-2!abc",
						24, "passwd", 0, 1, &r), PP_OK);
	ck_assert(!r.recorded && r.too_soon);
	ck_assert_int_eq(request_record_checked(d.socket, TIMEOUT_MS, "dave", "Dave-Pw-3!abc",
						24, "passwd", PROTO_RECORD_ROOT_FOR_OTHER, 1, &r),
			 PP_OK);
	ck_assert_msg(r.recorded, "root's change of another user held to the minimum age");
	/* Flagged by an administrator: forced, so the minimum age is waived. */
	ck_assert_int_eq(request_simple(d.socket, TIMEOUT_MS, PROTO_EXPIRE, "dave", text,
					sizeof(text)), PP_OK);
	ck_assert_int_eq(request_record_checked(d.socket, TIMEOUT_MS, "dave", "Dave-Pw-4!abc",
						24, "passwd", 0, 1, &r), PP_OK);
	ck_assert_msg(r.recorded, "forced change held to the minimum age");
	ck_assert_int_eq(status_of("dave").history_count, 3);
	ck_assert(!status_of("dave").must_change);
	/* Out-of-range arguments never reach the daemon. */
	ck_assert_int_eq(request_record_checked(d.socket, TIMEOUT_MS, "dave", "Dave-Pw-5!abc",
						24, "passwd", 0, 100000, &r), PP_ERR_INVALID);
}
END_TEST

/*
 * Run the change as passwd does for alice herself: real uid alice,
 * effective uid root (so the daemon takes the record from root, and the
 * module does not take it for root setting another user's password). In a
 * child, whose result and conversation come back through a file.
 */
static int chauthtok_as_alice(const char *const *answers, struct harness_conv *c)
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
		rc = harness_pam_chauthtok(dir, SERVICE, "alice", 0, c);
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

/*
 * Through PAM: a change recorded just before this one (here: a second
 * record line, the same as a concurrent change winning the race). The
 * user is told that the password was changed but not recorded; the stack
 * still succeeds (the record line is optional and the writer has run).
 */
static int change_with_two_record_lines(const char *config, const char *pw,
					struct harness_conv *c)
{
	char path[4300], written[4300];
	struct harness_stack spec;
	char *text, *more;
	const char *answers[] = { pw, pw, NULL };

	snprintf(written, sizeof(written), "%s/written", dir);
	memset(&spec, 0, sizeof(spec));
	spec.config = config;
	spec.check_args = "retry=1";
	spec.writer_file = written;
	spec.record = true;
	harness_stack_write(dir, SERVICE, &spec);
	snprintf(path, sizeof(path), "%s/%s", dir, SERVICE);
	text = harness_read(path);
	ck_assert_ptr_nonnull(text);
	more = strstr(text, "password optional");
	ck_assert_ptr_nonnull(more);
	{
		size_t len = strlen(text) + strlen(more) + 1;
		char *twice = malloc(len);

		ck_assert_ptr_nonnull(twice);
		snprintf(twice, len, "%s%s", text, more);
		harness_write(path, twice);
		free(twice);
	}
	free(text);
	return chauthtok_as_alice(answers, c);
}

START_TEST(test_record_line_tells_user_too_soon)
{
	struct harness_conv c;
	struct request_status_result st;
	int rc;

	/* history = 0: nothing remembered, so only the minimum age can refuse. */
	start("history = 0\nmin_age_days = 1\n");
	rc = change_with_two_record_lines(d.config, "Lantern-Brisk-31", &c);
	ck_assert_msg(rc == PAM_SUCCESS, "chauthtok: %s\n%s", pam_strerror(NULL, rc), c.log);
	ck_assert_msg(strstr(c.log, "E: Your password was changed, but the change was not "
			     "recorded: another change of your password was recorded just "
			     "before it, and the password may be changed only once every "
			     "1 day.") != NULL, "conversation:\n%s", c.log);
	ck_assert_int_eq(c.errors, 1);
	st = status_of("alice");
	ck_assert_int_gt(st.last_change, 0);
	ck_assert_int_eq(st.history_count, 0);
	ck_assert_int_eq(audit_lines((const char *const[]){
		"\"event\":\"change_not_recorded\"", "\"user\":\"alice\"", "too_soon",
		"\"service\":\"" SERVICE "\"", NULL }), 1);
	/* Never the password in the log. */
	ck_assert_int_eq(audit_lines((const char *const[]){ "Lantern-Brisk-31", NULL }), 0);
}
END_TEST

START_TEST(test_record_line_tells_user_reused)
{
	struct harness_conv c;
	int rc;

	start("history = 24\nmin_age_days = 0\n");
	rc = change_with_two_record_lines(d.config, "Anchor-Violet-58", &c);
	ck_assert_msg(rc == PAM_SUCCESS, "chauthtok: %s\n%s", pam_strerror(NULL, rc), c.log);
	ck_assert_msg(strstr(c.log, "E: Your password was changed, but the change was not "
			     "recorded: this password is already in your password "
			     "history.") != NULL, "conversation:\n%s", c.log);
	ck_assert_int_eq(status_of("alice").history_count, 1);
	ck_assert_int_eq(audit_lines((const char *const[]){
		"\"event\":\"change_not_recorded\"", "\"user\":\"alice\"", "reused", NULL }), 1);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("atomic");
	TCase *tc = tcase_create("atomic");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_concurrent_changes_min_age_one_wins);
	tcase_add_test(tc, test_concurrent_same_password_one_row);
	tcase_add_test(tc, test_sequential_duplicate_not_stored);
	tcase_add_test(tc, test_record_waivers);
	tcase_add_test(tc, test_record_line_tells_user_too_soon);
	tcase_add_test(tc, test_record_line_tells_user_reused);
	suite_add_tcase(s, tc);
	return s;
}
