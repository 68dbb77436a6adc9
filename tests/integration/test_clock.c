/*
 * test_clock.c - a clock that jumped never poisons a user: dates in the
 * store that lie in the future (a change recorded while the clock was
 * years ahead, or a clock stepped back since) are treated as now - the
 * minimum age does not block, the rotation state and days left are not
 * counted from them - and the report and "pam_policyctl doctor" flag them.
 *
 * The daemon runs under libfaketime (harness_daemon_start with fake_time;
 * harness_daemon_set_clock moves its clock); this process keeps real time.
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
#include <unistd.h>
#include <sys/wait.h>

#include "aging.h"
#include "bounds.h"
#include "client.h"
#include "proto.h"
#include "request.h"

#include "harness.h"

#define TIMEOUT_MS 10000
#define DAY 86400
#define CONFIG "max_age_days = 90\nwarn_days = 14\nmin_age_days = 1\nhistory = 24\n"
#define PW_AHEAD "Ahead-Of-Time-51!"
#define PW_NEXT "Back-In-Time-62!"

static char dir[4096];
static struct harness_daemon d;
static char registry[4096];   /* pids of daemons a failed test left running */

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

static void start(void)
{
	char path[4200];

	if (harness_faketime_lib() == NULL)
		return;
	ck_assert_msg(harness_daemon_start(&d, dir, CONFIG, true), "pam_policyd did not start");
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
	ck_assert(st.found);
	return st;
}

/* Record pw for user under a minimum age of one day; must be recorded. */
static void record_ok(const char *user, const char *pw)
{
	struct request_record_result r;

	ck_assert_int_eq(request_record_checked(d.socket, TIMEOUT_MS, user, pw, 24, "passwd",
						0, 1, &r), PP_OK);
	ck_assert_msg(r.recorded, "record of %s refused (too_soon %d, %ld days, reused %d)",
		      user, r.too_soon, r.days_left, r.reused);
}

static struct request_check_result check_of(const char *user, const char *pw)
{
	struct request_check_result r;

	ck_assert_int_eq(request_check(d.socket, TIMEOUT_MS, user, pw, 0, 24, 1, &r), PP_OK);
	return r;
}

/* The report row of user: its flags and expiry, and the report's clock. */
static uint64_t report_flags(const char *user, int64_t *expires, int64_t *now)
{
	uint8_t buf[PROTO_MAX_FRAME];
	struct proto_msg req, m;
	uint64_t flags = 0;
	bool seen = false;
	int fd = -1;

	ck_assert_int_eq(client_connect(d.socket, TIMEOUT_MS, &fd), PP_OK);
	proto_msg_init(&req, PROTO_REPORT);
	ck_assert_int_eq(client_call(fd, &req, buf, sizeof(buf), &m, TIMEOUT_MS), PP_OK);
	while (m.type == PROTO_REPORT_ROW) {
		char name[PP_NAME_MAX + 1];

		ck_assert_int_eq(proto_copy_str(&m, PROTO_REPORT_ROW_USER, name, sizeof(name)),
				 PP_OK);
		if (strcmp(name, user) == 0) {
			seen = true;
			flags = m.f[PROTO_REPORT_ROW_FLAGS].u64;
			*expires = (int64_t)m.f[PROTO_REPORT_ROW_EXPIRES].u64;
		}
		ck_assert_int_eq(client_recv(fd, buf, sizeof(buf), &m, TIMEOUT_MS), PP_OK);
	}
	ck_assert_int_eq(m.type, PROTO_REPORT_END);
	*now = (int64_t)m.f[PROTO_REPORT_END_NOW].u64;
	client_close(&fd);
	ck_assert_msg(seen, "no report row for %s", user);
	return flags;
}

/* Run pam_policyctl -c CONFIG args...; returns its stdout (malloc'd). */
static char *ctl(const char *const *args)
{
	char out_path[4300];
	const char *argv[16];
	int n = 0, status, fd;
	pid_t pid;

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
		fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execv(harness_build("pam_policyctl"), (char *const *)argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 126 &&
		      WEXITSTATUS(status) != 127, "pam_policyctl did not run");
	return harness_read(out_path);
}

#define CTL(...) ctl((const char *const[]){ __VA_ARGS__, NULL })

static void assert_contains(const char *hay, const char *needle)
{
	ck_assert_ptr_nonnull(hay);
	ck_assert_msg(strstr(hay, needle) != NULL, "expected \"%s\" in:\n%s", needle, hay);
}

static void assert_lacks(const char *hay, const char *needle)
{
	ck_assert_ptr_nonnull(hay);
	ck_assert_msg(strstr(hay, needle) == NULL, "did not expect \"%s\" in:\n%s", needle, hay);
}

/* ---- the rules, as pure functions ---- */

START_TEST(test_aging_future_dates)
{
	const int64_t now = INT64_C(1800000000);
	struct aging_facts f = { .last_change = now + 1826 * DAY, .first_seen = now - DAY };
	struct aging_status st;

	aging_evaluate(&f, now, 90, 14, &st);
	ck_assert(st.future);
	ck_assert_int_eq(st.state, AGING_OK);
	ck_assert_int_eq(st.clock_start, now);
	ck_assert_int_eq(st.days_left, 90);
	ck_assert_int_eq(st.age_days, 0);
	/* Never-set users age from first sight: the same rule. */
	f.last_change = 0;
	f.first_seen = now + 400 * DAY;
	aging_evaluate(&f, now, 90, 14, &st);
	ck_assert(st.future);
	ck_assert_int_eq(st.state, AGING_NEVER_SET);
	ck_assert_int_eq(st.days_left, 90);
	/* Ordinary skew is not a jump. */
	f.first_seen = now + AGING_FUTURE_SLACK;
	aging_evaluate(&f, now, 90, 14, &st);
	ck_assert(!st.future);
	ck_assert(aging_in_future(now + AGING_FUTURE_SLACK + 1, now));
	ck_assert(!aging_in_future(0, now));

	/* The minimum age: a future change never blocks; skew still counts. */
	ck_assert_int_eq(aging_min_age_days_left(now + 1826 * DAY, now, 1), 0);
	ck_assert_int_eq(aging_min_age_days_left(now + 400 * DAY, now, 1), 0);
	ck_assert_int_eq(aging_min_age_days_left(now + 60, now, 1), 1);
	ck_assert_int_eq(aging_min_age_days_left(now - 3600, now, 1), 1);
	ck_assert_int_eq(aging_min_age_days_left(now - DAY, now, 1), 0);
	ck_assert_int_eq(aging_min_age_days_left(0, now, 1), 0);
	ck_assert_int_eq(aging_min_age_days_left(now - 3600, now, 0), 0);
}
END_TEST

/* ---- through the daemon ---- */

/*
 * A change recorded while the clock was five years ahead, then the clock
 * put right. Before: "too_soon, 1826 days left" and "ok, 1915 days left".
 */
START_TEST(test_change_recorded_five_years_ahead)
{
	struct request_status_result st;
	struct request_check_result chk;
	int64_t expires = 0, now = 0;
	uint64_t flags;
	char *out;

	if (harness_faketime_lib() == NULL)
		HARNESS_SKIP("needs libfaketime (apt-get install faketime)");
	start();
	harness_daemon_set_clock(&d, "+1826d");
	record_ok("alice", PW_AHEAD);
	harness_daemon_set_clock(&d, "+0d");

	/* The rotation clock is not counted from the future date. */
	st = status_of("alice");
	ck_assert_int_gt(st.last_change, st.now + 1800 * DAY);   /* stored as it was */
	ck_assert_int_eq(st.state, AGING_OK);
	ck_assert_int_eq(aging_days_until(st.now, st.expires), 90);

	/* The minimum age does not block the user's own change. */
	chk = check_of("alice", PW_NEXT);
	ck_assert_msg(!chk.too_soon, "too_soon, %ld days left, after a clock jump",
		      chk.days_left);
	ck_assert(check_of("alice", PW_AHEAD).reused);   /* history still holds */

	/* The report flags the row and counts from now. */
	flags = report_flags("alice", &expires, &now);
	ck_assert(flags & PROTO_REPORT_ROW_FUTURE_DATE);
	ck_assert_int_eq(aging_days_until(now, expires), 90);
	out = CTL("report", "--format", "csv");
	assert_contains(out, ",90,ok,1,future,\r\n");   /* no login: last_login empty */
	free(out);
	out = CTL("report", "--format", "json");
	assert_contains(out, "\"days_left\":90,\"state\":\"ok\",\"history\":1,\"clock\":\"future\"");
	free(out);
	out = CTL("report");
	assert_contains(out, "CLOCK");
	assert_contains(out, "future");
	free(out);
	out = CTL("doctor", "--pam-dir", dir);
	assert_contains(out, "problem: 1 user has dates in the future: clock jumped? (alice)");
	free(out);

	/* The next change is recorded and puts the dates right. */
	record_ok("alice", PW_NEXT);
	st = status_of("alice");
	ck_assert_int_le(st.last_change, st.now);
	ck_assert_int_eq(st.history_count, 2);
	flags = report_flags("alice", &expires, &now);
	ck_assert(!(flags & PROTO_REPORT_ROW_FUTURE_DATE));
	out = CTL("doctor", "--pam-dir", dir);
	assert_contains(out, "ok: no user has dates in the future");
	free(out);
	out = CTL("report", "--format", "csv");
	assert_lacks(out, "future");
	free(out);
}
END_TEST

/* The clock stepped back 400 days after a change. Before: blocked 401 days. */
START_TEST(test_clock_stepped_back)
{
	struct request_status_result st;
	struct request_check_result chk;

	if (harness_faketime_lib() == NULL)
		HARNESS_SKIP("needs libfaketime (apt-get install faketime)");
	start();
	record_ok("bob", PW_AHEAD);
	harness_daemon_set_clock(&d, "-400d");

	chk = check_of("bob", PW_NEXT);
	ck_assert_msg(!chk.too_soon, "too_soon, %ld days left, after the clock stepped back",
		      chk.days_left);
	st = status_of("bob");
	ck_assert_int_eq(st.state, AGING_OK);
	ck_assert_int_eq(aging_days_until(st.now, st.expires), 90);
	record_ok("bob", PW_NEXT);
	ck_assert_int_eq(status_of("bob").history_count, 2);
}
END_TEST

/* A clock a minute behind is skew, not a jump: the minimum age holds. */
START_TEST(test_small_skew_keeps_min_age)
{
	struct request_check_result chk;

	if (harness_faketime_lib() == NULL)
		HARNESS_SKIP("needs libfaketime (apt-get install faketime)");
	start();
	record_ok("carol", PW_AHEAD);
	harness_daemon_set_clock(&d, "-60");
	chk = check_of("carol", PW_NEXT);
	ck_assert(chk.too_soon);
	ck_assert_int_eq(chk.days_left, 1);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("clock");
	TCase *tc = tcase_create("clock");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_aging_future_dates);
	tcase_add_test(tc, test_change_recorded_five_years_ahead);
	tcase_add_test(tc, test_clock_stepped_back);
	tcase_add_test(tc, test_small_skew_keeps_min_age);
	suite_add_tcase(s, tc);
	return s;
}
