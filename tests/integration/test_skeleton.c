/*
 * test_skeleton.c - "Summer2024!" -> "Summer2025!" is a reuse: the
 * similar_history check (issue 11 item 4) through the real libpam stack
 * against a daemon on a private socket, store and audit log.
 *
 *   password requisite pam_policy.so config=<daemon.conf> retry=1
 *   password required  tests/pam_test_writer.so file=<dir>/written
 *   password optional  pam_policy.so config=<daemon.conf> record
 *
 * The daemon keeps, for the last similar_history changes, a peppered
 * argon2id hash of each password's skeleton (strength_skeleton: its core
 * plus the shape of its leading and trailing digits and symbols) and
 * refuses a password whose skeleton matches one: "It is too similar to a
 * recent password." The test passwords pass the local rules and differ
 * only where the skeleton keeps the shape ("-2024!" and "-2025!" are both
 * "#9999#"), or in their core. Covered: the refusal and its message, a
 * really different password, similar_history = 0, the window of
 * similar_history changes, forget, the domain separation of the two
 * hashes, a store from before the skeleton column (schema 3), and the
 * skeleton's lower argon2id cost: stored with each skeleton, while the
 * full-cost skeletons of a schema 4 store keep matching.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include "daemon.h"
#include "harness.h"
#include "hash.h"
#include "proto.h"
#include "request.h"

#define TIMEOUT_MS 10000

/* Same core and shape: one skeleton. Each passes the local rules. */
#define SUMMER_A "Tulip-Harbor-Quartz-2024!"
#define SUMMER_B "Tulip-Harbor-Quartz-2025!"
#define SUMMER_C "Tulip-Harbor-Quartz-1999?"
/* Other cores: other skeletons. */
#define OTHER_1 "Velvet-Comet-Osprey-61#"
#define OTHER_2 "Amber-Glacier-Finch-73%"
#define OTHER_3 "Cobalt-Meadow-Lantern-58&"

#define SIMILAR_TEXT "It is too similar to a recent password."

static char dir[4096];
static char written[4200];
static struct harness_daemon daemon_state;

static void kill_leftover_daemon(void)
{
	if (daemon_state.pid > 0)
		harness_daemon_kill(&daemon_state);
}

static void setup(void)
{
	static bool registered;

	if (!registered) {
		atexit(kill_leftover_daemon);
		registered = true;
	}
	memset(&daemon_state, 0, sizeof(daemon_state));
	harness_tmpdir(dir, sizeof(dir));
	snprintf(written, sizeof(written), "%s/written", dir);
}

static void teardown(void)
{
	kill_leftover_daemon();
	harness_rmtree(dir);
}

/* Start the daemon with extra configuration and write the "passwd" stack. */
static void start(const char *extra_config)
{
	struct harness_stack spec = {
		.config = daemon_state.config, .check_args = "retry=1",
		.writer_file = written, .record = true,
	};

	ck_assert_msg(harness_daemon_start(&daemon_state, dir, extra_config, false),
		      "pam_policyd did not start");
	spec.config = daemon_state.config;
	harness_stack_write(dir, "passwd", &spec);
}

/* A password change through the stack: new password, then its retype. */
static int change(const char *user, const char *password, struct harness_conv *c)
{
	const char *answers[] = { password, password, NULL };

	harness_conv_init(c, answers);
	return harness_pam_chauthtok(dir, "passwd", user, 0, c);
}

static void change_ok(const char *user, const char *password)
{
	struct harness_conv c;

	ck_assert_msg(change(user, password, &c) == PAM_SUCCESS,
		      "change of %s to a new password refused:\n%s", user, c.log);
	ck_assert_int_eq(c.errors, 0);
}

/* Refused for similarity alone, in one message that never shows the password. */
static void change_similar(const char *user, const char *password)
{
	struct harness_conv c;

	ck_assert_msg(change(user, password, &c) == PAM_AUTHTOK_ERR,
		      "a password similar to a recent one was accepted:\n%s", c.log);
	ck_assert_msg(c.errors == 1, "expected one error message, got %d:\n%s",
		      c.errors, c.log);
	ck_assert_msg(strstr(c.log, SIMILAR_TEXT) != NULL, "no \"%s\" in:\n%s",
		      SIMILAR_TEXT, c.log);
	ck_assert_ptr_null(strstr(c.log, "used before"));
	ck_assert_ptr_null(strstr(c.log, password));
}

static int stored_lines(void)
{
	char *s = harness_read(written);
	int n = 0;

	for (const char *p = s ? s : ""; *p; p++)
		n += *p == '\n';
	free(s);
	return n;
}

static struct request_check_result check_of(const char *user, const char *password)
{
	struct request_check_result r;
	pp_err rc = request_check(daemon_state.socket, TIMEOUT_MS, user, password, 0, 24, 0,
				  &r);

	ck_assert_msg(rc == PP_OK, "check for %s: %s", user, pp_strerror(rc));
	return r;
}

/* One integer from the daemon's store (the daemon may be running: WAL). */
static long long store_int(const char *sql)
{
	char path[4300];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -1;

	snprintf(path, sizeof(path), "%s/store.db", daemon_state.state);
	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s",
		      sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static long long skeletons_stored(void)
{
	return store_int("SELECT count(*) FROM history WHERE skeleton IS NOT NULL");
}

/* ---- 1. the same password with a new year ---- */

START_TEST(test_new_year_refused)
{
	struct request_check_result r;

	start("history = 24\nmin_age_days = 0\n");
	change_ok("alice", SUMMER_A);
	ck_assert_int_eq(skeletons_stored(), 1);

	/* Through the stack: refused with the reason, nothing written. */
	change_similar("alice", SUMMER_B);
	ck_assert_int_eq(stored_lines(), 1);

	/* The daemon's own verdict: similar, not reused. */
	r = check_of("alice", SUMMER_B);
	ck_assert(r.similar);
	ck_assert(!r.reused);
	/* Another year and symbol of the same shape, other case: the same skeleton. */
	r = check_of("alice", SUMMER_C);
	ck_assert(r.similar);
	r = check_of("alice", "tulip-harbor-quartz-3141@");
	ck_assert(r.similar);
	/* Another shape (two digits instead of four) is another skeleton. */
	ck_assert(!check_of("alice", "Tulip-Harbor-Quartz-24!").similar);
	/* Another user's skeletons are separate. */
	ck_assert(!check_of("bob", SUMMER_B).similar);

	/* The very same password is a reuse, and only that. */
	{
		struct harness_conv c;

		ck_assert_int_eq(change("alice", SUMMER_A, &c), PAM_AUTHTOK_ERR);
		ck_assert_int_eq(c.errors, 1);
		ck_assert_ptr_nonnull(strstr(c.log, "used before"));
		ck_assert_ptr_null(strstr(c.log, SIMILAR_TEXT));
		r = check_of("alice", SUMMER_A);
		ck_assert(r.reused);
		ck_assert(!r.similar);
	}

	/* A really different password is accepted and remembered. */
	change_ok("alice", OTHER_1);
	ck_assert_int_eq(stored_lines(), 2);
	ck_assert_int_eq(skeletons_stored(), 2);
	change_similar("alice", "Velvet-Comet-Osprey-99$");
}
END_TEST

/* ---- 2. similar_history = 0 turns it off ---- */

START_TEST(test_off)
{
	start("history = 24\nmin_age_days = 0\nsimilar_history = 0\n");
	change_ok("alice", SUMMER_A);
	ck_assert_int_eq(skeletons_stored(), 0);
	ck_assert(!check_of("alice", SUMMER_B).similar);
	change_ok("alice", SUMMER_B);
	ck_assert_int_eq(stored_lines(), 2);
	/* The history itself still applies. */
	ck_assert(check_of("alice", SUMMER_A).reused);
}
END_TEST

/* ---- 3. only the last similar_history changes count ---- */

START_TEST(test_window)
{
	start("history = 24\nmin_age_days = 0\nsimilar_history = 2\n");
	change_ok("alice", SUMMER_A);
	change_ok("alice", OTHER_1);
	/* One change later: still within the last 2. */
	change_similar("alice", SUMMER_B);
	change_ok("alice", OTHER_2);
	/* Two further changes: SUMMER_A's skeleton is gone, only 2 are kept. */
	ck_assert_int_eq(skeletons_stored(), 2);
	ck_assert_int_eq(store_int("SELECT count(*) FROM history"), 3);
	ck_assert(!check_of("alice", SUMMER_B).similar);
	/* ...but the password itself is still in the history. */
	ck_assert(check_of("alice", SUMMER_A).reused);
	change_ok("alice", SUMMER_B);
	ck_assert_int_eq(stored_lines(), 4);
	ck_assert_int_eq(skeletons_stored(), 2);
	/* The new one is remembered by its skeleton in turn. */
	change_similar("alice", SUMMER_C);
}
END_TEST

/* ---- 4. forget clears the skeletons too ---- */

START_TEST(test_forget)
{
	char text[256];

	start("history = 24\nmin_age_days = 0\n");
	change_ok("alice", SUMMER_A);
	ck_assert(check_of("alice", SUMMER_B).similar);
	ck_assert_int_eq(request_simple(daemon_state.socket, TIMEOUT_MS, PROTO_FORGET,
					"alice", text, sizeof(text)), PP_OK);
	ck_assert_int_eq(skeletons_stored(), 0);
	ck_assert_int_eq(store_int("SELECT count(*) FROM history"), 0);
	ck_assert(!check_of("alice", SUMMER_B).similar);
	change_ok("alice", SUMMER_B);
}
END_TEST

/* ---- 5. a skeleton hash never equals a password hash ---- */

START_TEST(test_domains_separated)
{
	static const uint8_t salt[HASH_SALT_BYTES] = { 1, 2, 3 };
	static const uint8_t pepper[HASH_PEPPER_BYTES] = { 9, 8, 7 };
	struct hash_params p = { .opslimit = 1, .memlimit = 8192 * 1024 };
	uint8_t a[HASH_BYTES], b[HASH_BYTES], c[HASH_BYTES];

	ck_assert_int_eq(hash_init(), PP_OK);
	ck_assert_int_eq(hash_password(SUMMER_A, strlen(SUMMER_A), salt, &p, pepper, a), PP_OK);
	ck_assert_int_eq(hash_skeleton(SUMMER_A, strlen(SUMMER_A), salt, &p, pepper, b), PP_OK);
	ck_assert_int_eq(hash_skeleton(SUMMER_A, strlen(SUMMER_A), salt, &p, pepper, c), PP_OK);
	/* The same text: another hash in the skeleton domain, a stable one. */
	ck_assert(!hash_equal(a, b));
	ck_assert(hash_equal(b, c));
}
END_TEST

/* ---- 6. a store from before the skeleton column ---- */

/* Turn the store back into schema 3: no skeleton columns (nor the later
 * must_change_reason). Daemon stopped. */
static void downgrade_store(void)
{
	char path[4300], *emsg = NULL;
	sqlite3 *db = NULL;

	snprintf(path, sizeof(path), "%s/store.db", daemon_state.state);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, "ALTER TABLE users DROP COLUMN must_change_reason;"
				       "ALTER TABLE history DROP COLUMN skeleton_opslimit;"
				       "ALTER TABLE history DROP COLUMN skeleton_memlimit;"
				       "ALTER TABLE history DROP COLUMN skeleton;"
				       "PRAGMA user_version = 3;", NULL, NULL, &emsg) == SQLITE_OK,
		      "downgrade: %s", emsg ? emsg : "?");
	sqlite3_close(db);
}

START_TEST(test_store_before_migration)
{
	const char *extra = "history = 24\nmin_age_days = 0\n";
	int status;
	long long current;

	start(extra);
	change_ok("alice", SUMMER_A);
	change_ok("bob", OTHER_1);
	current = store_int("PRAGMA user_version");     /* this version's schema */
	status = harness_daemon_stop(&daemon_state);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	downgrade_store();
	ck_assert_int_eq(store_int("PRAGMA user_version"), 3);

	/* The same directory, so the same store and pepper: migrated at start. */
	ck_assert_msg(harness_daemon_start(&daemon_state, dir, extra, false),
		      "pam_policyd did not start on a schema 3 store");
	ck_assert_int_eq(store_int("PRAGMA user_version"), current);
	ck_assert_int_eq(store_int("SELECT count(*) FROM history"), 2);
	ck_assert_int_eq(skeletons_stored(), 0);

	/* Old entries keep working as passwords... */
	ck_assert(check_of("alice", SUMMER_A).reused);
	ck_assert(check_of("bob", OTHER_1).reused);
	/* ...and, having no skeleton, never match one. */
	ck_assert(!check_of("alice", SUMMER_B).similar);
	change_ok("alice", SUMMER_B);
	/* What is recorded from now on has its skeleton. */
	ck_assert_int_eq(skeletons_stored(), 1);
	change_similar("alice", SUMMER_C);
	ck_assert(check_of("alice", SUMMER_A).reused);
	ck_assert_int_eq(stored_lines(), 3);
}
END_TEST

/* ---- 7. the skeleton's cost: lower, stored, and older ones still match ---- */

/* The user's salt, from the store (the daemon stopped). */
static void user_salt(const char *user, uint8_t salt[HASH_SALT_BYTES])
{
	char path[4300];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	snprintf(path, sizeof(path), "%s/store.db", daemon_state.state);
	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT salt FROM users WHERE name = ?1",
					    -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_bytes(st, 0), HASH_SALT_BYTES);
	memcpy(salt, sqlite3_column_blob(st, 0), HASH_SALT_BYTES);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/*
 * Make alice's entry what a schema 4 daemon wrote: its skeleton hashed at
 * the entry's own (full) cost, no cost columns. Daemon stopped.
 */
static void rewrite_as_schema_4(const char *password)
{
	char path[4300], perr[256], *emsg = NULL, *sk = NULL;
	uint8_t pepper[HASH_PEPPER_BYTES], salt[HASH_SALT_BYTES], digest[HASH_BYTES];
	struct hash_params full;
	size_t sklen = 0;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	snprintf(path, sizeof(path), "%s/pepper", daemon_state.state);
	ck_assert_msg(hash_pepper_load(path, pepper, perr, sizeof(perr)) == PP_OK, "%s", perr);
	user_salt("alice", salt);
	full.opslimit = (unsigned long long)store_int("SELECT opslimit FROM history");
	full.memlimit = (size_t)store_int("SELECT memlimit FROM history");
	ck_assert_int_eq(skeleton_of(password, strlen(password), &sk, &sklen), PP_OK);
	ck_assert_ptr_nonnull(sk);
	ck_assert_int_eq(hash_skeleton(sk, sklen, salt, &full, pepper, digest), PP_OK);
	skeleton_free(sk);

	snprintf(path, sizeof(path), "%s/store.db", daemon_state.state);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "UPDATE history SET skeleton = ?1", -1, &st,
					    NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, digest, HASH_BYTES, SQLITE_TRANSIENT);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	ck_assert_msg(sqlite3_exec(db, "ALTER TABLE users DROP COLUMN must_change_reason;"
				       "ALTER TABLE history DROP COLUMN skeleton_opslimit;"
				       "ALTER TABLE history DROP COLUMN skeleton_memlimit;"
				       "PRAGMA user_version = 4;", NULL, NULL, &emsg) == SQLITE_OK,
		      "downgrade: %s", emsg ? emsg : "?");
	sqlite3_close(db);
}

START_TEST(test_skeleton_cost)
{
	const char *extra = "history = 24\nmin_age_days = 0\n";
	struct hash_params pw, sk;
	int status;
	long long current;

	ck_assert_int_eq(hash_init(), PP_OK);   /* skeleton_of: sodium_malloc */
	start(extra);
	change_ok("alice", SUMMER_A);
	current = store_int("PRAGMA user_version");     /* this version's schema */
	/* An eighth of the password's memory, the same passes, stored. */
	pw.opslimit = (unsigned long long)store_int("SELECT opslimit FROM history");
	pw.memlimit = (size_t)store_int("SELECT memlimit FROM history");
	hash_skeleton_params(&pw, &sk);
	ck_assert_uint_eq(sk.memlimit, pw.memlimit / HASH_SKELETON_MEMORY_SHARE);
	ck_assert_int_eq(store_int("SELECT skeleton_memlimit FROM history"),
			 (long long)sk.memlimit);
	ck_assert_int_eq(store_int("SELECT skeleton_opslimit FROM history"),
			 (long long)pw.opslimit);
	ck_assert(check_of("alice", SUMMER_B).similar);

	/* A skeleton made at full cost by the previous version still matches. */
	status = harness_daemon_stop(&daemon_state);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	rewrite_as_schema_4(SUMMER_A);
	ck_assert_msg(harness_daemon_start(&daemon_state, dir, extra, false),
		      "pam_policyd did not start on a schema 4 store");
	ck_assert_int_eq(store_int("PRAGMA user_version"), current);
	ck_assert_int_eq(store_int("SELECT count(*) FROM history WHERE skeleton_memlimit "
				   "IS NULL AND skeleton IS NOT NULL"), 1);
	ck_assert(check_of("alice", SUMMER_B).similar);
	ck_assert(!check_of("alice", OTHER_1).similar);
	change_similar("alice", SUMMER_C);
	/* What is recorded from now on carries its lower cost. */
	change_ok("alice", OTHER_1);
	ck_assert_int_eq(store_int("SELECT count(*) FROM history WHERE skeleton_memlimit = "
				   "memlimit / 8"), 1);
	change_similar("alice", "velvet-COMET-osprey-62#");
	ck_assert_int_eq(stored_lines(), 2);
}
END_TEST

static Suite *skeleton_suite(void)
{
	Suite *s = suite_create("skeleton");
	TCase *tc = tcase_create("similar_history");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_new_year_refused);
	tcase_add_test(tc, test_off);
	tcase_add_test(tc, test_window);
	tcase_add_test(tc, test_forget);
	tcase_add_test(tc, test_domains_separated);
	tcase_add_test(tc, test_store_before_migration);
	tcase_add_test(tc, test_skeleton_cost);
	suite_add_tcase(s, tc);
	return s;
}

Suite *test_suite(void)
{
	return skeleton_suite();
}
