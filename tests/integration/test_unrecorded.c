/*
 * test_unrecorded.c - a change the record line could not record is
 * recovered: when root's status (the module's account line) finds a newer
 * last change in the shadow file than in the store, the daemon adopts
 * shadow's date, audits change_not_recorded once, and the user is not sent
 * to change again. The history gains nothing (the password is unknown).
 * And a change shadow demanded (chage -d 0) is recorded as forced although
 * pam_unix rewrote shadow between the check and the record.
 *
 * The daemon runs under libfaketime (harness_daemon_set_clock) with its
 * own shadow file; users come from nss_wrapper (run-tests.sh).
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aging.h"
#include "harness.h"
#include "request.h"

#define DAY 86400
#define PW "Correct-Horse-7"
#define HASH "$y$j9T$saltsaltsaltsalt$hashhashhashhashhashhashhashhashhas"

static char dir[4096];
static char shadow[4200];
static struct harness_daemon d;

static void setup(void)
{
	harness_tmpdir(dir, sizeof(dir));
	snprintf(shadow, sizeof(shadow), "%s/shadow", dir);
	memset(&d, 0, sizeof(d));
}

static void teardown(void)
{
	if (d.pid > 0)
		harness_daemon_stop(&d);
	harness_rmtree(dir);
}

static void start_with(int min_age_days)
{
	char config[8192];

	harness_write(shadow, "");
	snprintf(config, sizeof(config),
		 "max_age_days = 90\nwarn_days = 14\nmin_age_days = %d\nhistory = 24\n"
		 "shadow_file = %s\n", min_age_days, shadow);
	ck_assert_msg(harness_daemon_start(&d, dir, config, true), "pam_policyd did not start");
}

static void start(void)
{
	start_with(0);
}

/* alice's shadow entry with the given last-change day. */
static void shadow_alice(int64_t day)
{
	char text[512];

	snprintf(text, sizeof(text), "alice:%s:%lld:0:99999:7:::\n", HASH, (long long)day);
	harness_write(shadow, text);
}

static int count_lines(const char *text, const char *a, const char *b)
{
	int n = 0;

	for (const char *line = text; line && *line; ) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (memmem(line, len, a, strlen(a)) && memmem(line, len, b, strlen(b)))
			n++;
		line = end ? end + 1 : NULL;
	}
	return n;
}

START_TEST(test_newer_shadow_change_is_adopted)
{
	struct request_status_result st;
	int64_t today = (int64_t)time(NULL) / DAY;
	char *log;

	start();
	ck_assert_int_eq(request_record(d.socket, 5000, "alice", PW, 24, "test"), PP_OK);
	shadow_alice(today);

	/* 100 days on, alice changed on day 95 without the record line. */
	harness_daemon_set_clock(&d, "+100d");
	shadow_alice(today + 95);
	ck_assert_int_eq(request_status(d.socket, 5000, "alice", 90, 14, &st), PP_OK);
	ck_assert(st.found);
	ck_assert_int_eq(st.last_change, (today + 95) * DAY);
	ck_assert_msg(st.state == AGING_OK, "state %s, not ok", aging_state_name(st.state));
	ck_assert_int_eq(st.history_count, 1);   /* nothing was added */

	/* Once: a second status finds nothing newer. */
	ck_assert_int_eq(request_status(d.socket, 5000, "alice", 90, 14, &st), PP_OK);
	ck_assert_int_eq(harness_daemon_stop(&d), 0);
	log = harness_read(d.audit);
	ck_assert_ptr_nonnull(log);
	ck_assert_int_eq(count_lines(log, "\"event\":\"change_not_recorded\"",
				     "\"user\":\"alice\""), 1);
	free(log);
}
END_TEST

START_TEST(test_same_day_or_older_shadow_is_ignored)
{
	struct request_status_result st;
	int64_t today = (int64_t)time(NULL) / DAY, recorded;
	char *log;

	start();
	ck_assert_int_eq(request_record(d.socket, 5000, "alice", PW, 24, "test"), PP_OK);
	ck_assert_int_eq(request_status(d.socket, 5000, "alice", 90, 14, &st), PP_OK);
	recorded = st.last_change;

	/* The day of the recorded change, then an older day: nothing to adopt. */
	shadow_alice(today);
	ck_assert_int_eq(request_status(d.socket, 5000, "alice", 90, 14, &st), PP_OK);
	ck_assert_int_eq(st.last_change, recorded);
	shadow_alice(today - 30);
	ck_assert_int_eq(request_status(d.socket, 5000, "alice", 90, 14, &st), PP_OK);
	ck_assert_int_eq(st.last_change, recorded);
	/* A date in the future (a clock that jumped) is not adopted either. */
	shadow_alice(today + 400);
	ck_assert_int_eq(request_status(d.socket, 5000, "alice", 90, 14, &st), PP_OK);
	ck_assert_int_eq(st.last_change, recorded);

	ck_assert_int_eq(harness_daemon_stop(&d), 0);
	log = harness_read(d.audit);
	ck_assert_ptr_nonnull(log);
	ck_assert_int_eq(count_lines(log, "\"event\":\"change_not_recorded\"", "alice"), 0);
	free(log);
}
END_TEST

/*
 * chage -d 0 after a recorded change: the user's own change is forced by
 * shadow. By the time the record line runs, pam_unix has rewritten shadow's
 * last change, so the record must keep the check's decision - and only for
 * that one change.
 */
START_TEST(test_shadow_forced_change_recorded_after_shadow_rewrite)
{
	struct request_check_result chk;
	struct request_record_result rec;
	int64_t today = (int64_t)time(NULL) / DAY;
	char *log;

	start_with(1);
	ck_assert_int_eq(request_record(d.socket, 5000, "alice", PW, 24, "chpasswd"), PP_OK);
	shadow_alice(0);                                   /* chage -d 0 alice */
	ck_assert_int_eq(request_check(d.socket, 5000, "alice", "Violet-Anchor-58", 0, 24, 1,
				       &chk), PP_OK);
	ck_assert_msg(!chk.too_soon, "a change shadow demands was refused by the minimum age");
	shadow_alice(today);                               /* pam_unix wrote the change */
	ck_assert_int_eq(request_record_checked(d.socket, 5000, "alice", "Violet-Anchor-58", 24,
						"passwd", 0, 1, &rec), PP_OK);
	ck_assert_msg(rec.recorded, "the forced change was not recorded (too_soon %d)",
		      rec.too_soon);
	/* The hold is used up: a second change the same day is too soon. */
	ck_assert_int_eq(request_record_checked(d.socket, 5000, "alice", "Brisk-Lantern-31", 24,
						"passwd", 0, 1, &rec), PP_OK);
	ck_assert(!rec.recorded);
	ck_assert(rec.too_soon);

	ck_assert_int_eq(harness_daemon_stop(&d), 0);
	log = harness_read(d.audit);
	ck_assert_ptr_nonnull(log);
	ck_assert_int_eq(count_lines(log, "\"event\":\"forced_change_completed\"",
				     "\"user\":\"alice\""), 1);
	free(log);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("unrecorded");
	TCase *tc = tcase_create("adopt");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_newer_shadow_change_is_adopted);
	tcase_add_test(tc, test_same_day_or_older_shadow_is_ignored);
	tcase_add_test(tc, test_shadow_forced_change_recorded_after_shadow_rewrite);
	suite_add_tcase(s, tc);
	return s;
}
