/*
 * test_report.c - the report's rows as pam_policyd decides them, and the
 * CLI's side (pam_policy/ctl/report.c), which only derives day counts,
 * filters and formats.
 *
 * Users come from nss_wrapper (tests/run-tests.sh): root 0, alice 1001,
 * bob 1002, carol 1003, dave 1004 (member of pwexempt, gid 2000), svc 500,
 * nobody 65534, and three users with long names. The daemon is seeded with
 * RECORD requests for alice, dave, svc and "ghost" (whom NSS does not know).
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
#include "client.h"
#include "harness.h"
#include "proto.h"
#include "report.h"
#include "request.h"

#define PW "Aardvark-Quill-739"
#define CONFIG "max_age_days = 90\nwarn_days = 14\nhistory = 5\n" \
	"exempt_users = carol\nexempt_groups = pwexempt\n"
#define MAX_ROWS 64

struct got_row {
	char user[300];
	uint64_t uid, state, first_seen, last_change, expires, history, flags;
};

struct got {
	struct got_row rows[MAX_ROWS];
	int n;
	uint64_t now, max_age, warn, history;
};

static char dir[4096];
static struct harness_daemon d;

static void seed(const char *user)
{
	pp_err rc = request_record(d.socket, 5000, user, PW, 5, "test");

	ck_assert_msg(rc == PP_OK, "record %s: %s", user, pp_strerror(rc));
}

static void setup(void)
{
	harness_tmpdir(dir, sizeof(dir));
	ck_assert_msg(harness_daemon_start(&d, dir, CONFIG, false), "pam_policyd did not start");
	seed("alice");
	seed("dave");
	seed("svc");
	seed("ghost");
}

static void teardown(void)
{
	harness_daemon_stop(&d);
	harness_rmtree(dir);
}

/* One PROTO_REPORT, every row decoded into g. */
static void fetch(struct got *g)
{
	uint8_t buf[PROTO_MAX_FRAME];
	struct proto_msg req, m;
	int fd = -1;

	memset(g, 0, sizeof(*g));
	ck_assert_int_eq(client_connect(d.socket, 5000, &fd), PP_OK);
	proto_msg_init(&req, PROTO_REPORT);
	ck_assert_int_eq(client_call(fd, &req, buf, sizeof(buf), &m, 5000), PP_OK);
	while (m.type == PROTO_REPORT_ROW) {
		struct got_row *r = &g->rows[g->n++];

		ck_assert_int_lt(g->n, MAX_ROWS);
		ck_assert_int_eq(proto_copy_str(&m, PROTO_REPORT_ROW_USER, r->user,
						sizeof(r->user)), PP_OK);
		r->uid = m.f[PROTO_REPORT_ROW_UID].u64;
		r->state = m.f[PROTO_REPORT_ROW_STATE].u64;
		r->first_seen = m.f[PROTO_REPORT_ROW_FIRST_SEEN].u64;
		r->last_change = m.f[PROTO_REPORT_ROW_LAST_CHANGE].u64;
		r->expires = m.f[PROTO_REPORT_ROW_EXPIRES].u64;
		r->history = m.f[PROTO_REPORT_ROW_HISTORY_COUNT].u64;
		r->flags = m.f[PROTO_REPORT_ROW_FLAGS].u64;
		ck_assert_int_eq(client_recv(fd, buf, sizeof(buf), &m, 5000), PP_OK);
	}
	ck_assert_int_eq(m.type, PROTO_REPORT_END);
	ck_assert_uint_eq(m.f[PROTO_REPORT_END_COUNT].u64, (uint64_t)g->n);
	g->now = m.f[PROTO_REPORT_END_NOW].u64;
	g->max_age = m.f[PROTO_REPORT_END_MAX_AGE_DAYS].u64;
	g->warn = m.f[PROTO_REPORT_END_WARN_DAYS].u64;
	g->history = m.f[PROTO_REPORT_END_HISTORY].u64;
	client_close(&fd);
}

static const struct got_row *row_of(const struct got *g, const char *user)
{
	for (int i = 0; i < g->n; i++)
		if (strcmp(g->rows[i].user, user) == 0)
			return &g->rows[i];
	return NULL;
}

START_TEST(test_daemon_decides_every_row)
{
	struct got g;
	const struct got_row *r;
	int64_t before = (int64_t)time(NULL);

	fetch(&g);
	/* The policy and the clock the rows were computed with. */
	ck_assert_uint_eq(g.max_age, 90);
	ck_assert_uint_eq(g.warn, 14);
	ck_assert_uint_eq(g.history, 5);
	ck_assert_int_ge((int64_t)g.now, before - 5);

	r = row_of(&g, "alice");
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->state, AGING_OK);
	ck_assert_uint_eq(r->uid, 1001);
	ck_assert_uint_eq(r->flags, PROTO_REPORT_ROW_IN_STORE | PROTO_REPORT_ROW_KNOWN_UID);
	ck_assert_uint_eq(r->history, 1);
	ck_assert_uint_eq(r->expires, r->last_change + 90 * (uint64_t)AGING_DAY);

	/* Known to NSS, never recorded. */
	r = row_of(&g, "bob");
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->state, AGING_NEVER_SET);
	ck_assert_uint_eq(r->flags, PROTO_REPORT_ROW_KNOWN_UID);
	ck_assert_uint_eq(r->last_change, 0);

	/* Exempt by name, and by group membership (dave is a listed member). */
	r = row_of(&g, "carol");
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->state, AGING_EXEMPT);
	r = row_of(&g, "dave");
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->state, AGING_EXEMPT);
	ck_assert_uint_eq(r->expires, 0);
	ck_assert(r->flags & PROTO_REPORT_ROW_IN_STORE);

	/* In the store, unknown to NSS: kept, without a uid. */
	r = row_of(&g, "ghost");
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->state, AGING_OK);
	ck_assert_uint_eq(r->flags, PROTO_REPORT_ROW_IN_STORE);

	/* A system account is left out even when stored; root is covered. */
	ck_assert_ptr_null(row_of(&g, "svc"));
	r = row_of(&g, "root");
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->uid, 0);

	/* Rows come sorted by name, each user once. */
	for (int i = 1; i < g.n; i++)
		ck_assert_msg(strcmp(g.rows[i - 1].user, g.rows[i].user) < 0,
			      "rows out of order: %s before %s", g.rows[i - 1].user,
			      g.rows[i].user);
}
END_TEST

START_TEST(test_expire_shows_must_change)
{
	struct got g;
	const struct got_row *r;

	ck_assert_int_eq(request_simple(d.socket, 5000, PROTO_EXPIRE, "alice", NULL, 0), PP_OK);
	fetch(&g);
	r = row_of(&g, "alice");
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->state, AGING_MUST_CHANGE);
	ck_assert(r->flags & PROTO_REPORT_ROW_MUST_CHANGE);
}
END_TEST

/* ---- the CLI's side: rows in, day counts derived, filters ---- */

static struct report_row mkrow(const char *user, enum aging_state st, int64_t last,
			       int64_t first, int64_t expires)
{
	struct report_row r;

	memset(&r, 0, sizeof(r));
	r.user = (char *)user;
	r.uid_known = true;
	r.uid = 1000;
	r.state = st;
	r.last_change = last;
	r.first_seen = first;
	r.expires = expires;
	return r;
}

START_TEST(test_cli_derives_days_from_daemon_clock)
{
	const int64_t now = 1700000000;
	struct report_info info = { now, 90, 14, 24 };
	struct report *r = report_new();
	struct report_row row;
	struct report_filter f;
	const struct report_row *rows;
	size_t n;

	ck_assert_ptr_nonnull(r);
	row = mkrow("amy", AGING_OK, now - AGING_DAY, now - AGING_DAY, now + 89 * AGING_DAY);
	ck_assert_int_eq(report_add(r, &row), PP_OK);
	row = mkrow("newbie", AGING_NEVER_SET, 0, 0, 0);
	ck_assert_int_eq(report_add(r, &row), PP_OK);
	row = mkrow("zed", AGING_WARNING, now - 80 * AGING_DAY, now - 100 * AGING_DAY,
		    now + 10 * AGING_DAY);
	ck_assert_int_eq(report_add(r, &row), PP_OK);
	row = mkrow("bad", (enum aging_state)99, 0, 0, 0);
	ck_assert_int_eq(report_add(r, &row), PP_ERR_INVALID);
	row = mkrow("", AGING_OK, 0, 0, 0);
	ck_assert_int_eq(report_add(r, &row), PP_ERR_INVALID);
	ck_assert_int_eq(report_finish(r, &info), PP_OK);
	ck_assert_int_eq(report_finish(r, &info), PP_ERR_INVALID);

	rows = report_rows(r, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(rows[0].user, "amy");
	ck_assert_int_eq(rows[0].age_days, 1);
	ck_assert_int_eq(rows[0].days_left, 89);
	ck_assert(!rows[1].has_age);
	ck_assert_int_eq(rows[2].age_days, 80);
	ck_assert_int_eq(rows[2].days_left, 10);
	ck_assert_uint_eq(report_count(r, AGING_WARNING), 1);
	ck_assert_uint_eq(report_count(r, AGING_NEVER_SET), 1);

	report_filter_init(&f);
	f.expiring_within = 10;
	ck_assert(report_row_matches(&rows[2], &f));
	ck_assert(!report_row_matches(&rows[0], &f));
	f.expiring_within = 9;
	ck_assert(!report_row_matches(&rows[2], &f));
	report_free(r);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("daemon rows");
	TCase *cli = tcase_create("cli");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_daemon_decides_every_row);
	tcase_add_test(tc, test_expire_shows_must_change);
	suite_add_tcase(s, tc);
	tcase_add_test(cli, test_cli_derives_days_from_daemon_clock);
	suite_add_tcase(s, cli);
	return s;
}
