/*
 * test_aging.c - unit tests for lib/aging.c: state boundaries, rounding of
 * the days left, state names and dates.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aging.h"
#include "harness.h"

#define DAY ((int64_t)AGING_DAY)
#define START ((int64_t)1700000000)      /* 2023-11-14T22:13:20Z */
#define MAX_AGE 90
#define WARN 14

static struct aging_status eval_at(int64_t last_change, int64_t first_seen,
				   bool must_change, int64_t now, int max_age, int warn)
{
	struct aging_facts f = {
		.last_change = last_change,
		.first_seen = first_seen,
		.must_change = must_change,
	};
	struct aging_status s;

	memset(&s, 0x5a, sizeof(s));         /* nothing may be left unset */
	aging_evaluate(&f, now, max_age, warn, &s);
	return s;
}

/* Changed at START, long after the daemon first saw the user. */
static struct aging_status eval_changed(int64_t now)
{
	return eval_at(START, START - 400 * DAY, false, now, MAX_AGE, WARN);
}

static void assert_state(const struct aging_status *s, enum aging_state want)
{
	ck_assert_msg(s->state == want, "expected %s, got %s", aging_state_name(want),
		      aging_state_name(s->state));
}

START_TEST(test_fresh_password_is_ok)
{
	struct aging_status s = eval_changed(START);

	assert_state(&s, AGING_OK);
	ck_assert_int_eq(s.clock_start, START);
	ck_assert_int_eq(s.expires, START + 90 * DAY);
	ck_assert_int_eq(s.age_days, 0);
	ck_assert_int_eq(s.days_left, 90);
}
END_TEST

START_TEST(test_warning_window_starts_at_day_76)
{
	/* expires = start + 90 days; warning when now >= expires - 14 days. */
	struct aging_status s = eval_changed(START + 75 * DAY);

	assert_state(&s, AGING_OK);
	ck_assert_int_eq(s.age_days, 75);
	ck_assert_int_eq(s.days_left, 15);

	s = eval_changed(START + 76 * DAY - 1);
	assert_state(&s, AGING_OK);
	ck_assert_int_eq(s.age_days, 75);
	ck_assert_int_eq(s.days_left, 15);     /* 14 days and 1 second, rounded up */

	s = eval_changed(START + 76 * DAY);
	assert_state(&s, AGING_WARNING);
	ck_assert_int_eq(s.age_days, 76);
	ck_assert_int_eq(s.days_left, 14);
}
END_TEST

START_TEST(test_day_89_warns_day_90_expires)
{
	struct aging_status s = eval_changed(START + 89 * DAY);

	assert_state(&s, AGING_WARNING);
	ck_assert_int_eq(s.days_left, 1);

	s = eval_changed(START + 90 * DAY - 1);
	assert_state(&s, AGING_WARNING);
	ck_assert_int_eq(s.age_days, 89);
	ck_assert_int_eq(s.days_left, 1);      /* one second left counts as a day */

	s = eval_changed(START + 90 * DAY);
	assert_state(&s, AGING_EXPIRED);
	ck_assert_int_eq(s.age_days, 90);
	ck_assert_int_eq(s.days_left, 0);

	s = eval_changed(START + 91 * DAY + DAY / 2);
	assert_state(&s, AGING_EXPIRED);
	ck_assert_int_eq(s.age_days, 91);
	ck_assert_int_eq(s.days_left, -1);

	s = eval_changed(START + 400 * DAY);
	assert_state(&s, AGING_EXPIRED);
	ck_assert_int_eq(s.days_left, -310);
}
END_TEST

START_TEST(test_must_change_wins)
{
	static const int64_t offsets[] = { 0, 10, 80, 90, 500 };

	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		int64_t now = START + offsets[i] * DAY;
		struct aging_status s = eval_at(START, START, true, now, MAX_AGE, WARN);
		assert_state(&s, AGING_MUST_CHANGE);
		ck_assert_int_eq(s.expires, START + 90 * DAY);     /* still reported */
		s = eval_at(0, START, true, now, MAX_AGE, WARN);    /* over never_set */
		assert_state(&s, AGING_MUST_CHANGE);
		s = eval_at(START, START, true, now, 0, WARN);      /* rotation off */
		assert_state(&s, AGING_MUST_CHANGE);
		ck_assert_int_eq(s.expires, 0);
		s = eval_at(0, 0, true, now, MAX_AGE, WARN);        /* nothing known */
		assert_state(&s, AGING_MUST_CHANGE);
	}
}
END_TEST

START_TEST(test_never_set_ages_from_first_seen)
{
	const int64_t first = START;
	struct aging_status s = eval_at(0, first, false, first + 10 * DAY, MAX_AGE, WARN);

	assert_state(&s, AGING_NEVER_SET);
	ck_assert_int_eq(s.clock_start, first);
	ck_assert_int_eq(s.expires, first + 90 * DAY);
	ck_assert_int_eq(s.age_days, 10);
	ck_assert_int_eq(s.days_left, 80);

	/* A full period is granted, then the usual warning and expiry apply. */
	s = eval_at(0, first, false, first + 75 * DAY, MAX_AGE, WARN);
	assert_state(&s, AGING_NEVER_SET);
	s = eval_at(0, first, false, first + 76 * DAY, MAX_AGE, WARN);
	assert_state(&s, AGING_WARNING);
	s = eval_at(0, first, false, first + 90 * DAY, MAX_AGE, WARN);
	assert_state(&s, AGING_EXPIRED);

	/* Rotation off: never_set forever. */
	s = eval_at(0, first, false, first + 1000 * DAY, 0, WARN);
	assert_state(&s, AGING_NEVER_SET);
	ck_assert_int_eq(s.expires, 0);

	/* Nothing known at all: never_set, no clock, no expiry. */
	s = eval_at(0, 0, false, START, MAX_AGE, WARN);
	assert_state(&s, AGING_NEVER_SET);
	ck_assert_int_eq(s.clock_start, 0);
	ck_assert_int_eq(s.expires, 0);
	ck_assert_int_eq(s.age_days, 0);
	ck_assert_int_eq(s.days_left, 0);
}
END_TEST

START_TEST(test_max_age_zero_never_expires)
{
	struct aging_status s = eval_at(START, START, false, START + 10000 * DAY, 0, WARN);

	assert_state(&s, AGING_OK);
	ck_assert_int_eq(s.expires, 0);
	ck_assert_int_eq(s.days_left, 0);
	ck_assert_int_eq(s.age_days, 10000);
	ck_assert_int_eq(s.clock_start, START);
}
END_TEST

START_TEST(test_warn_zero_and_clock_skew)
{
	struct aging_status s = eval_at(START, START, false, START + 90 * DAY - 1, MAX_AGE, 0);

	assert_state(&s, AGING_OK);                 /* no warning window */

	/* A change "in the future" (clock skew) is aged from now. */
	s = eval_changed(START - DAY);
	assert_state(&s, AGING_OK);
	ck_assert_int_eq(s.age_days, 0);
	ck_assert_int_eq(s.days_left, 90);
}
END_TEST

START_TEST(test_days_until_rounding)
{
	ck_assert_int_eq(aging_days_until(START, START), 0);
	ck_assert_int_eq(aging_days_until(START, START + 1), 1);
	ck_assert_int_eq(aging_days_until(START, START + DAY - 1), 1);
	ck_assert_int_eq(aging_days_until(START, START + DAY), 1);
	ck_assert_int_eq(aging_days_until(START, START + DAY + 1), 2);
	ck_assert_int_eq(aging_days_until(START, START + 90 * DAY), 90);
	/* Passed: 0 or less, whole days overdue. */
	ck_assert_int_eq(aging_days_until(START, START - 1), 0);
	ck_assert_int_eq(aging_days_until(START, START - DAY + 1), 0);
	ck_assert_int_eq(aging_days_until(START, START - DAY), -1);
	ck_assert_int_eq(aging_days_until(START, START - DAY - 1), -1);
	ck_assert_int_eq(aging_days_until(START, START - 2 * DAY), -2);
	/* Far away does not overflow. */
	ck_assert_int_eq(aging_days_until(0, 1000000 * DAY), 1000000);
	ck_assert_int_eq(aging_days_until(1000000 * DAY, 0), -1000000);
}
END_TEST

START_TEST(test_state_names_round_trip)
{
	static const char *const names[AGING_STATE_COUNT] = {
		"ok", "warning", "expired", "must_change", "never_set", "exempt",
		"locked",
	};

	for (int i = 0; i < AGING_STATE_COUNT; i++) {
		enum aging_state st = AGING_STATE_COUNT;
		const char *name = aging_state_name((enum aging_state)i);
		ck_assert_str_eq(name, names[i]);
		ck_assert(aging_state_parse(name, &st));
		ck_assert_int_eq(st, i);
	}
	ck_assert_str_eq(aging_state_name(AGING_STATE_COUNT), "unknown");
	ck_assert_str_eq(aging_state_name((enum aging_state)-1), "unknown");
	{
		enum aging_state st = AGING_OK;
		ck_assert(!aging_state_parse("unknown", &st));
		ck_assert(!aging_state_parse("", &st));
		ck_assert(!aging_state_parse("OK", &st));
		ck_assert(!aging_state_parse("ok ", &st));
		ck_assert(!aging_state_parse("warn", &st));
		ck_assert(!aging_state_parse("expired\n", &st));
	}
}
END_TEST

START_TEST(test_format_date)
{
	char buf[16];

	/* UTC regardless of the local zone (UTC+14 would be the next day). */
	setenv("TZ", "Pacific/Kiritimati", 1);
	aging_format_date(19000 * DAY, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2022-01-08");
	aging_format_date(951782400, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2000-02-29");
	aging_format_date(951782400 + DAY - 1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2000-02-29");
	aging_format_date(START + 90 * DAY, buf, 11);      /* exactly 11 bytes */
	ck_assert_str_eq(buf, "2024-02-12");
	aging_format_date(-DAY, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1969-12-31");
	/* 0 is "no date" (expires == 0 means rotation is off). */
	aging_format_date(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "-");
	/* len 0 writes nothing. */
	buf[0] = 'X';
	aging_format_date(START, buf, 0);
	ck_assert_int_eq(buf[0], 'X');
}
END_TEST

static Suite *aging_suite(void)
{
	Suite *s = suite_create("aging");
	TCase *tc = tcase_create("evaluate");

	tcase_add_test(tc, test_fresh_password_is_ok);
	tcase_add_test(tc, test_warning_window_starts_at_day_76);
	tcase_add_test(tc, test_day_89_warns_day_90_expires);
	tcase_add_test(tc, test_must_change_wins);
	tcase_add_test(tc, test_never_set_ages_from_first_seen);
	tcase_add_test(tc, test_max_age_zero_never_expires);
	tcase_add_test(tc, test_warn_zero_and_clock_skew);
	suite_add_tcase(s, tc);

	tc = tcase_create("helpers");
	tcase_add_test(tc, test_days_until_rounding);
	tcase_add_test(tc, test_state_names_round_trip);
	tcase_add_test(tc, test_format_date);
	suite_add_tcase(s, tc);
	return s;
}

Suite *test_suite(void)
{
	return aging_suite();
}
