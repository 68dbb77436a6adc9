/*
 * test_store.c - the store interface over its SQLite backend.
 *
 * Each test gets a private 0700 directory. Where a test needs to reach
 * under the interface (a foreign schema version, a bulk load, a writer
 * holding a transaction) it opens DIR/store.db with SQLite directly.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include "harness.h"
#include "hash.h"
#include "store.h"

#define T0 1700000000   /* a fixed "now" */

static char dir[4096];
static char db_path[4200];
static char err[1024];

static void setup(void)
{
	ck_assert_int_eq(hash_init(), PP_OK);
	harness_tmpdir(dir, sizeof(dir));
	ck_assert_int_eq(chmod(dir, 0700), 0);
	snprintf(db_path, sizeof(db_path), "%s/store.db", dir);
	err[0] = '\0';
}

static void teardown(void)
{
	harness_rmtree(dir);
}

static struct store *open_dir_ok(const char *d)
{
	struct store *s = NULL;
	pp_err rc = store_open_sqlite(d, &s, err, sizeof(err));

	ck_assert_msg(rc == PP_OK, "store_open_sqlite: %s: %s", pp_strerror(rc),
		      err);
	ck_assert_ptr_nonnull(s);
	return s;
}

static struct store *open_ok(void)
{
	return open_dir_ok(dir);
}

/* An entry whose hash encodes n, so that order and identity can be checked. */
static struct store_entry entry(unsigned n, int64_t created)
{
	struct store_entry e;

	memset(&e, 0, sizeof(e));
	for (int i = 0; i < HASH_BYTES; i++)
		e.hash[i] = (uint8_t)(n * 31 + (unsigned)i);
	memcpy(e.hash, &n, sizeof(n));
	e.opslimit = 2;
	e.memlimit = 67108864;
	e.created = created;
	return e;
}

static unsigned entry_number(const struct store_entry *e)
{
	unsigned n;

	memcpy(&n, e->hash, sizeof(n));
	return n;
}

/* Run one SQL script on DIR/store.db outside the store interface. */
static void raw_exec(const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK,
		      "%s: %s", sql, msg ? msg : "?");
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}

START_TEST(test_ensure_get_round_trip)
{
	struct store *s = open_ok();
	struct store_user u, again;

	ck_assert_str_eq(store_backend_name(s), "sqlite");
	ck_assert_int_eq(store_user_get(s, "alice", &u), PP_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(store_errmsg(s), "alice"));

	ck_assert_int_eq(store_user_ensure(s, "alice", T0, T0 - 86400, false, &u),
			 PP_OK);
	ck_assert_str_eq(u.name, "alice");
	ck_assert_int_eq(u.last_change, T0 - 86400);
	ck_assert_int_eq(u.first_seen, T0);
	ck_assert(!u.must_change);
	ck_assert_int_eq(u.history_count, 0);

	ck_assert_int_eq(store_user_get(s, "alice", &again), PP_OK);
	ck_assert_mem_eq(&u, &again, sizeof(u));

	/* An existing row comes back unchanged: same salt, same clock. */
	ck_assert_int_eq(store_user_ensure(s, "alice", T0 + 500, 0, true, &again),
			 PP_OK);
	ck_assert_mem_eq(u.salt, again.salt, HASH_SALT_BYTES);
	ck_assert_int_eq(again.first_seen, T0);
	ck_assert_int_eq(again.last_change, T0 - 86400);
	ck_assert(!again.must_change);

	/* Each user gets its own random salt. */
	ck_assert_int_eq(store_user_ensure(s, "bob", T0, 0, true, &again), PP_OK);
	ck_assert(memcmp(u.salt, again.salt, HASH_SALT_BYTES) != 0);
	ck_assert(again.must_change);
	ck_assert_int_eq(again.last_change, 0);
	ck_assert_int_eq(store_user_ensure(s, "carol", T0, 0, false, NULL), PP_OK);
	store_close(s);
}
END_TEST

START_TEST(test_names_checked)
{
	struct store *s = open_ok();
	struct store_user u;
	char longname[STORE_MAX_NAME + 2];

	memset(longname, 'x', sizeof(longname));
	longname[STORE_MAX_NAME + 1] = '\0';
	ck_assert_int_eq(store_user_ensure(s, "", T0, 0, false, &u), PP_ERR_INVALID);
	ck_assert_int_eq(store_user_ensure(s, NULL, T0, 0, false, &u), PP_ERR_INVALID);
	ck_assert_int_eq(store_user_ensure(s, longname, T0, 0, false, &u),
			 PP_ERR_TOO_LONG);
	longname[STORE_MAX_NAME] = '\0';
	ck_assert_int_eq(store_user_ensure(s, longname, T0, 0, false, &u), PP_OK);
	ck_assert_str_eq(u.name, longname);
	ck_assert_int_eq(store_user_ensure(s, "neg", T0, -1, false, &u),
			 PP_ERR_INVALID);
	ck_assert_int_eq(store_history_add(s, longname, NULL, 5, T0), PP_ERR_INVALID);
	ck_assert_int_eq(store_history_add(s, longname, NULL, -1, T0), PP_ERR_INVALID);
	store_close(s);
}
END_TEST

START_TEST(test_history_prune_and_order)
{
	struct store *s = open_ok();
	struct store_entry got[40];
	struct store_user u;
	size_t n = 99;

	ck_assert_int_eq(store_user_ensure(s, "alice", T0, 0, true, &u), PP_OK);
	ck_assert_int_eq(store_history_get(s, "alice", got, 40, &n), PP_OK);
	ck_assert_uint_eq(n, 0);

	for (unsigned i = 0; i < 30; i++) {
		struct store_entry e = entry(i, T0 + i);
		ck_assert_int_eq(store_history_add(s, "alice", &e, 24, T0 + i), PP_OK);
	}
	ck_assert_int_eq(store_history_get(s, "alice", got, 40, &n), PP_OK);
	ck_assert_uint_eq(n, 24);
	for (size_t k = 0; k < n; k++) {
		struct store_entry want = entry(29 - (unsigned)k, T0 + 29 - (int)k);
		ck_assert_uint_eq(entry_number(&got[k]), 29 - k);
		ck_assert_mem_eq(got[k].hash, want.hash, HASH_BYTES);
		ck_assert_uint_eq(got[k].opslimit, 2);
		ck_assert_uint_eq(got[k].memlimit, 67108864);
		ck_assert_int_eq(got[k].created, want.created);
	}
	/* A smaller buffer gets the newest. */
	ck_assert_int_eq(store_history_get(s, "alice", got, 3, &n), PP_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(entry_number(&got[0]), 29);
	ck_assert_uint_eq(entry_number(&got[2]), 27);
	ck_assert_int_eq(store_history_get(s, "alice", NULL, 0, &n), PP_OK);
	ck_assert_uint_eq(n, 0);

	ck_assert_int_eq(store_user_get(s, "alice", &u), PP_OK);
	ck_assert_int_eq(u.last_change, T0 + 29);
	ck_assert(!u.must_change);
	ck_assert_int_eq(u.history_count, 24);

	/* A lower depth prunes at the next change. */
	struct store_entry e = entry(30, T0 + 30);
	ck_assert_int_eq(store_history_add(s, "alice", &e, 5, T0 + 30), PP_OK);
	ck_assert_int_eq(store_history_get(s, "alice", got, 40, &n), PP_OK);
	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(entry_number(&got[0]), 30);
	ck_assert_uint_eq(entry_number(&got[4]), 26);
	ck_assert_int_eq(store_user_get(s, "alice", &u), PP_OK);
	ck_assert_int_eq(u.history_count, 5);

	/* Other users' histories are untouched. */
	ck_assert_int_eq(store_user_ensure(s, "bob", T0, 0, false, NULL), PP_OK);
	e = entry(1000, T0);
	ck_assert_int_eq(store_history_add(s, "bob", &e, 24, T0 + 40), PP_OK);
	ck_assert_int_eq(store_history_get(s, "alice", got, 40, &n), PP_OK);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(store_history_get(s, "bob", got, 40, &n), PP_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(entry_number(&got[0]), 1000);
	store_close(s);
}
END_TEST

START_TEST(test_history_keep_zero_resets_clock)
{
	struct store *s = open_ok();
	struct store_entry got[4];
	struct store_user u;
	size_t n;

	ck_assert_int_eq(store_user_ensure(s, "alice", T0, 0, false, NULL), PP_OK);
	for (unsigned i = 0; i < 3; i++) {
		struct store_entry e = entry(i, T0);
		ck_assert_int_eq(store_history_add(s, "alice", &e, 24, T0), PP_OK);
	}
	ck_assert_int_eq(store_set_must_change(s, "alice", true, T0), PP_OK);
	ck_assert_int_eq(store_history_add(s, "alice", NULL, 0, T0 + 99), PP_OK);
	ck_assert_int_eq(store_history_get(s, "alice", got, 4, &n), PP_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(store_user_get(s, "alice", &u), PP_OK);
	ck_assert_int_eq(u.last_change, T0 + 99);
	ck_assert(!u.must_change);
	ck_assert_int_eq(u.history_count, 0);
	store_close(s);
}
END_TEST

START_TEST(test_history_unknown_user)
{
	struct store *s = open_ok();
	struct store_entry e = entry(1, T0), got[2];
	struct store_user u;
	size_t n = 7;

	ck_assert_int_eq(store_history_add(s, "ghost", &e, 24, T0), PP_ERR_NOT_FOUND);
	ck_assert_int_eq(store_user_get(s, "ghost", &u), PP_ERR_NOT_FOUND);
	ck_assert_int_eq(store_history_get(s, "ghost", got, 2, &n), PP_ERR_NOT_FOUND);
	ck_assert_uint_eq(n, 0);
	/* The failed transaction left the handle usable. */
	ck_assert_int_eq(store_user_ensure(s, "ghost", T0, 0, false, NULL), PP_OK);
	ck_assert_int_eq(store_history_add(s, "ghost", &e, 24, T0), PP_OK);
	store_close(s);
}
END_TEST

START_TEST(test_must_change)
{
	struct store *s = open_ok();
	struct store_user u;

	/* Creates a user never seen, with the clock unset. */
	ck_assert_int_eq(store_set_must_change(s, "dave", true, T0), PP_OK);
	ck_assert_int_eq(store_user_get(s, "dave", &u), PP_OK);
	ck_assert(u.must_change);
	ck_assert_int_eq(u.first_seen, T0);
	ck_assert_int_eq(u.last_change, 0);

	uint8_t salt[HASH_SALT_BYTES];
	memcpy(salt, u.salt, sizeof(salt));
	ck_assert_int_eq(store_set_must_change(s, "dave", false, T0 + 10), PP_OK);
	ck_assert_int_eq(store_user_get(s, "dave", &u), PP_OK);
	ck_assert(!u.must_change);
	ck_assert_int_eq(u.first_seen, T0);
	ck_assert_mem_eq(u.salt, salt, sizeof(salt));

	struct store_entry e = entry(5, T0);
	ck_assert_int_eq(store_history_add(s, "dave", &e, 24, T0 + 20), PP_OK);
	ck_assert_int_eq(store_set_must_change(s, "dave", true, T0 + 30), PP_OK);
	ck_assert_int_eq(store_user_get(s, "dave", &u), PP_OK);
	ck_assert(u.must_change);
	ck_assert_int_eq(u.last_change, T0 + 20);
	ck_assert_int_eq(u.history_count, 1);
	store_close(s);
}
END_TEST

START_TEST(test_forget)
{
	struct store *s = open_ok();
	struct store_entry got[30];
	struct store_user before, after;
	size_t n;

	ck_assert_int_eq(store_user_ensure(s, "alice", T0, 0, false, &before), PP_OK);
	ck_assert_int_eq(store_user_ensure(s, "bob", T0, 0, false, NULL), PP_OK);
	for (unsigned i = 0; i < 10; i++) {
		struct store_entry e = entry(i, T0);
		ck_assert_int_eq(store_history_add(s, "alice", &e, 24, T0 + 100), PP_OK);
		ck_assert_int_eq(store_history_add(s, "bob", &e, 24, T0 + 100), PP_OK);
	}
	ck_assert_int_eq(store_set_must_change(s, "alice", true, T0), PP_OK);

	ck_assert_int_eq(store_forget(s, "alice"), PP_OK);
	ck_assert_int_eq(store_history_get(s, "alice", got, 30, &n), PP_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(store_user_get(s, "alice", &after), PP_OK);
	ck_assert_int_eq(after.last_change, 0);
	ck_assert_int_eq(after.history_count, 0);
	ck_assert(!after.must_change);
	ck_assert_int_eq(after.first_seen, before.first_seen);
	ck_assert(memcmp(after.salt, before.salt, HASH_SALT_BYTES) != 0);

	/* Nothing of the history is left in the file's tables either. */
	sqlite3 *db;
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM history "
					    "WHERE user = 'alice'", -1, &st, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	sqlite3_close(db);

	ck_assert_int_eq(store_history_get(s, "bob", got, 30, &n), PP_OK);
	ck_assert_uint_eq(n, 10);
	ck_assert_int_eq(store_forget(s, "ghost"), PP_ERR_NOT_FOUND);
	ck_assert_int_eq(store_user_get(s, "ghost", &after), PP_ERR_NOT_FOUND);
	store_close(s);
}
END_TEST

struct walk {
	int seen;
	int stop_after;
	char last[STORE_MAX_NAME + 1];
	bool ordered;
	long histories;
};

static pp_err walk_cb(const struct store_user *u, void *ctx)
{
	struct walk *w = ctx;

	if (w->seen > 0 && strcmp(w->last, u->name) >= 0)
		w->ordered = false;
	snprintf(w->last, sizeof(w->last), "%s", u->name);
	w->histories += u->history_count;
	if (++w->seen == w->stop_after)
		return PP_ERR_INTERNAL;
	return PP_OK;
}

START_TEST(test_foreach_users)
{
	struct store *s = open_ok();
	struct walk w = { .ordered = true };
	size_t count = 99;
	char name[16];

	ck_assert_int_eq(store_user_count(s, &count), PP_OK);
	ck_assert_uint_eq(count, 0);
	ck_assert_int_eq(store_foreach_user(s, walk_cb, &w), PP_OK);
	ck_assert_int_eq(w.seen, 0);

	/* Inserted out of order. */
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "user%03d", (i * 7) % 300);
		ck_assert_int_eq(store_user_ensure(s, name, T0, 0, false, NULL), PP_OK);
	}
	struct store_entry e = entry(1, T0);
	ck_assert_int_eq(store_history_add(s, "user007", &e, 24, T0), PP_OK);
	ck_assert_int_eq(store_history_add(s, "user007", &e, 24, T0), PP_OK);
	ck_assert_int_eq(store_history_add(s, "user100", &e, 24, T0), PP_OK);

	ck_assert_int_eq(store_user_count(s, &count), PP_OK);
	ck_assert_uint_eq(count, 300);
	ck_assert_int_eq(store_foreach_user(s, walk_cb, &w), PP_OK);
	ck_assert_int_eq(w.seen, 300);
	ck_assert(w.ordered);
	ck_assert_str_eq(w.last, "user299");
	ck_assert_int_eq(w.histories, 3);

	/* The callback can stop the walk; its code comes back. */
	memset(&w, 0, sizeof(w));
	w.ordered = true;
	w.stop_after = 10;
	ck_assert_int_eq(store_foreach_user(s, walk_cb, &w), PP_ERR_INTERNAL);
	ck_assert_int_eq(w.seen, 10);
	ck_assert_str_eq(w.last, "user009");
	/* ...and the handle still works. */
	ck_assert_int_eq(store_user_count(s, &count), PP_OK);
	store_close(s);
}
END_TEST

/*
 * §7: a report walks 100,000 users, in name order, none missed. (How fast:
 * make bench, part C, times the same walk.)
 */
START_TEST(test_foreach_100k_users)
{
	struct store *s = open_ok();
	struct walk w = { .ordered = true };

	store_close(s);
	raw_exec("BEGIN;"
		 "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n"
		 " WHERE i < 99999)"
		 " INSERT INTO users (name, salt, last_change, first_seen,"
		 "  must_change, history_count)"
		 " SELECT printf('u%06d', i), randomblob(16), 1690000000 + i,"
		 "  1680000000, i % 2, 0 FROM n;"
		 "COMMIT;");
	s = open_ok();
	ck_assert_int_eq(store_foreach_user(s, walk_cb, &w), PP_OK);
	ck_assert_int_eq(w.seen, 100000);
	ck_assert(w.ordered);
	ck_assert_str_eq(w.last, "u099999");
	store_close(s);
}
END_TEST

START_TEST(test_reopen_keeps_data)
{
	struct store *s = open_ok();
	struct store_entry e = entry(42, T0), got[2];
	struct store_user u1, u2;
	size_t n;
	struct stat st;

	ck_assert_int_eq(store_user_ensure(s, "alice", T0, 0, false, &u1), PP_OK);
	ck_assert_int_eq(store_history_add(s, "alice", &e, 24, T0 + 5), PP_OK);
	store_close(s);

	ck_assert_int_eq(stat(db_path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);

	s = open_ok();
	ck_assert_int_eq(store_user_get(s, "alice", &u2), PP_OK);
	ck_assert_mem_eq(u1.salt, u2.salt, HASH_SALT_BYTES);
	ck_assert_int_eq(u2.last_change, T0 + 5);
	ck_assert_int_eq(store_history_get(s, "alice", got, 2, &n), PP_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_mem_eq(got[0].hash, e.hash, HASH_BYTES);
	store_close(s);
}
END_TEST

START_TEST(test_two_handles_share_store)
{
	struct store *a = open_ok(), *b = open_ok();
	struct store_entry e = entry(9, T0), got[2];
	size_t n;

	ck_assert_int_eq(store_user_ensure(a, "alice", T0, 0, false, NULL), PP_OK);
	ck_assert_int_eq(store_history_add(a, "alice", &e, 24, T0), PP_OK);
	ck_assert_int_eq(store_history_get(b, "alice", got, 2, &n), PP_OK);
	ck_assert_uint_eq(n, 1);
	store_close(a);
	store_close(b);
}
END_TEST

START_TEST(test_backup)
{
	struct store *s = open_ok();
	struct store_entry e = entry(77, T0), got[4];
	struct store_user u, bu;
	char backup[4300], restore[4300], wal[4400];
	sqlite3 *writer;
	struct stat st;
	size_t n;

	ck_assert_int_eq(store_user_ensure(s, "alice", T0, 0, false, &u), PP_OK);
	ck_assert_int_eq(store_history_add(s, "alice", &e, 24, T0 + 1), PP_OK);

	/* Another writer holds an open transaction: the backup goes on, and
	 * takes only committed data. */
	ck_assert_int_eq(sqlite3_open(db_path, &writer), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(writer, "BEGIN IMMEDIATE;"
				      "INSERT INTO users (name, salt, first_seen)"
				      " VALUES ('uncommitted', randomblob(16), 1);",
				      NULL, NULL, NULL), SQLITE_OK);
	snprintf(backup, sizeof(backup), "%s/backup.db", dir);
	harness_write(backup, "an older backup\n");
	ck_assert_msg(store_backup(s, backup) == PP_OK, "%s", store_errmsg(s));
	ck_assert_int_eq(sqlite3_exec(writer, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(writer);
	store_close(s);

	ck_assert_int_eq(stat(backup, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	snprintf(wal, sizeof(wal), "%s-wal", backup);
	ck_assert_int_ne(access(wal, F_OK), 0);

	/* The copy opens as a store of its own. */
	snprintf(restore, sizeof(restore), "%s/restore", dir);
	ck_assert_int_eq(mkdir(restore, 0700), 0);
	snprintf(wal, sizeof(wal), "%s/store.db", restore);
	ck_assert_int_eq(rename(backup, wal), 0);
	s = open_dir_ok(restore);
	ck_assert_int_eq(store_user_get(s, "alice", &bu), PP_OK);
	ck_assert_mem_eq(u.salt, bu.salt, HASH_SALT_BYTES);
	ck_assert_int_eq(bu.last_change, T0 + 1);
	ck_assert_int_eq(store_history_get(s, "alice", got, 4, &n), PP_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_mem_eq(got[0].hash, e.hash, HASH_BYTES);
	ck_assert_int_eq(store_user_get(s, "uncommitted", &bu), PP_ERR_NOT_FOUND);
	store_close(s);
}
END_TEST

START_TEST(test_backup_bad_path)
{
	struct store *s = open_ok();
	char path[4300];

	snprintf(path, sizeof(path), "%s/no/such/dir/backup.db", dir);
	ck_assert_int_eq(store_backup(s, path), PP_ERR_IO);
	ck_assert_ptr_nonnull(strstr(store_errmsg(s), path));
	ck_assert_int_eq(store_backup(s, ""), PP_ERR_INVALID);
	store_close(s);
}
END_TEST

START_TEST(test_garbage_file_refused)
{
	struct store *s = (struct store *)1;
	char junk[8192];
	pp_err rc;

	for (size_t i = 0; i < sizeof(junk) - 1; i++)
		junk[i] = (char)('A' + i % 26);
	junk[sizeof(junk) - 1] = '\0';
	harness_write(db_path, junk);
	ck_assert_int_eq(chmod(db_path, 0600), 0);
	rc = store_open_sqlite(dir, &s, err, sizeof(err));
	ck_assert_int_eq(rc, PP_ERR_STORE);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err, db_path));
	ck_assert_ptr_nonnull(strstr(err, "integrity check"));
	ck_assert_ptr_nonnull(strstr(err, "backup"));
}
END_TEST

/* A valid SQLite file whose pages were damaged after the header. */
START_TEST(test_corrupt_pages_refused)
{
	struct store *s = open_ok();
	char name[16];
	int fd;

	for (int i = 0; i < 400; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		ck_assert_int_eq(store_user_ensure(s, name, T0, 0, false, NULL), PP_OK);
	}
	store_close(s);    /* checkpoints the WAL into store.db */
	fd = open(db_path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	char junk[4096];
	memset(junk, 0x5a, sizeof(junk));
	ck_assert_int_eq(pwrite(fd, junk, sizeof(junk), 4096 * 2), (ssize_t)sizeof(junk));
	close(fd);
	s = (struct store *)1;
	ck_assert_int_ne(store_open_sqlite(dir, &s, err, sizeof(err)), PP_OK);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err, db_path));
	ck_assert_ptr_nonnull(strstr(err, "integrity check"));
}
END_TEST

START_TEST(test_newer_schema_refused)
{
	struct store *s = open_ok();

	store_close(s);
	raw_exec("PRAGMA user_version = 99");
	s = (struct store *)1;
	ck_assert_int_eq(store_open_sqlite(dir, &s, err, sizeof(err)),
			 PP_ERR_INVALID);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err, db_path));
	ck_assert_ptr_nonnull(strstr(err, "version 99"));
}
END_TEST

START_TEST(test_foreign_database_refused)
{
	struct store *s = NULL;

	raw_exec("CREATE TABLE t (x); INSERT INTO t VALUES (1);");
	ck_assert_int_eq(chmod(db_path, 0600), 0);
	ck_assert_int_eq(store_open_sqlite(dir, &s, err, sizeof(err)), PP_ERR_STORE);
	ck_assert_ptr_nonnull(strstr(err, "not a pam_policy store"));
}
END_TEST

START_TEST(test_dir_mode_refused)
{
	struct store *s = (struct store *)1;
	char mode[8];

	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(store_open_sqlite(dir, &s, err, sizeof(err)),
			 PP_ERR_INVALID);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err, dir));
	ck_assert_ptr_nonnull(strstr(err, "0755"));
	ck_assert_int_ne(access(db_path, F_OK), 0);   /* nothing created */

	for (int m = 0; m < 2; m++) {
		int bits = m == 0 ? 0750 : 0701;
		ck_assert_int_eq(chmod(dir, (mode_t)bits), 0);
		snprintf(mode, sizeof(mode), "%04o", bits);
		ck_assert_int_eq(store_open_sqlite(dir, &s, err, sizeof(err)),
				 PP_ERR_INVALID);
		ck_assert_ptr_nonnull(strstr(err, mode));
	}
	ck_assert_int_eq(chmod(dir, 0700), 0);
}
END_TEST

START_TEST(test_file_mode_and_missing_dir_refused)
{
	struct store *s = open_ok();
	char missing[4300];

	store_close(s);
	ck_assert_int_eq(chmod(db_path, 0644), 0);
	ck_assert_int_eq(store_open_sqlite(dir, &s, err, sizeof(err)),
			 PP_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "0644"));
	ck_assert_int_eq(chmod(db_path, 0600), 0);
	s = open_ok();
	store_close(s);

	snprintf(missing, sizeof(missing), "%s/absent", dir);
	ck_assert_int_eq(store_open_sqlite(missing, &s, err, sizeof(err)),
			 PP_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(err, missing));
}
END_TEST

START_TEST(test_symlinked_db_refused)
{
	struct store *s = NULL;
	char target[4300];

	snprintf(target, sizeof(target), "%s/elsewhere.db", dir);
	ck_assert_int_eq(symlink(target, db_path), 0);
	ck_assert_int_eq(store_open_sqlite(dir, &s, err, sizeof(err)),
			 PP_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "symbolic link"));
	ck_assert_int_ne(access(target, F_OK), 0);
}
END_TEST

/* Read exactly len bytes; false at EOF (the writer died). */
static bool read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = read(fd, (char *)buf + done, len - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		done += (size_t)r;
	}
	return true;
}

/*
 * The child adds entries to user and reports each acknowledged one through
 * ack_fd. In lockstep mode it then waits for a byte on go_fd, so that the
 * SIGKILL lands right after store_history_add returned; otherwise it writes
 * on and the SIGKILL lands wherever the child happens to be.
 */
static void crash_child(const char *user, int ack_fd, int go_fd)
{
	struct store *s = NULL;
	char c;

	if (store_open_sqlite(dir, &s, NULL, 0) != PP_OK ||
	    store_user_ensure(s, user, T0, 0, false, NULL) != PP_OK)
		_exit(2);
	for (unsigned i = 0;; i++) {
		struct store_entry e = entry(i, T0 + i);
		if (store_history_add(s, user, &e, STORE_MAX_KEEP, T0 + i) != PP_OK)
			_exit(3);
		if (write(ack_fd, &i, sizeof(i)) != (ssize_t)sizeof(i))
			_exit(4);
		if (go_fd >= 0 && read(go_fd, &c, 1) != 1)
			_exit(5);
	}
}

static void crash_round(const char *user, unsigned target, bool lockstep)
{
	int ack[2], go[2] = { -1, -1 };
	unsigned acked = 0, idx;
	int status;
	pid_t pid;

	ck_assert_int_eq(pipe(ack), 0);
	if (lockstep)
		ck_assert_int_eq(pipe(go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(ack[0]);
		if (lockstep)
			close(go[1]);
		crash_child(user, ack[1], go[0]);
	}
	close(ack[1]);
	if (lockstep)
		close(go[0]);

	while (read_full(ack[0], &idx, sizeof(idx))) {
		ck_assert_uint_eq(idx, acked);
		acked++;
		if (acked == target) {
			ck_assert_int_eq(kill(pid, SIGKILL), 0);
		} else if (lockstep) {
			ck_assert_int_eq(write(go[1], "g", 1), 1);
		}
	}
	/* EOF: the child is dead; acks it sent before dying were drained. */
	close(ack[0]);
	if (lockstep)
		close(go[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "child ended with status %d", status);
	ck_assert_uint_ge(acked, target);

	/* Every acknowledged record survives; the store opens cleanly. */
	struct store *s = open_ok();
	size_t max = acked + 2, n;
	struct store_entry *got = calloc(max, sizeof(*got));
	struct store_user u;

	ck_assert_ptr_nonnull(got);
	ck_assert_int_eq(store_history_get(s, user, got, max, &n), PP_OK);
	/* At most one more: the entry in flight may have committed. */
	ck_assert_msg(n == acked || n == acked + 1, "%zu stored, %u acknowledged",
		      n, acked);
	for (size_t k = 0; k < n; k++)
		ck_assert_uint_eq(entry_number(&got[k]), n - 1 - k);
	ck_assert_int_eq(store_user_get(s, user, &u), PP_OK);
	ck_assert_int_eq(u.history_count, (int)n);
	ck_assert_int_eq(u.last_change, T0 + (int64_t)n - 1);
	free(got);
	store_close(s);
}

START_TEST(test_survives_sigkill_after_ack)
{
	static const unsigned targets[] = { 1, 2, 5, 17, 40 };
	char user[16];

	for (size_t r = 0; r < sizeof(targets) / sizeof(targets[0]); r++) {
		snprintf(user, sizeof(user), "lock%zu", r);
		crash_round(user, targets[r], true);
	}
}
END_TEST

START_TEST(test_survives_sigkill_mid_write)
{
	static const unsigned targets[] = { 1, 3, 10, 33, 100, 250 };
	char user[16];

	for (size_t r = 0; r < sizeof(targets) / sizeof(targets[0]); r++) {
		snprintf(user, sizeof(user), "free%zu", r);
		crash_round(user, targets[r], false);
	}
}
END_TEST

/*
 * The fleet's replica (store_replica_*, store_outbox_*): what the database
 * gives - a breach flag with its reason, skeletons with their own cost -
 * is kept as given; an outbox record carries its skeleton's cost, clears
 * the flag and its reason, and is applied again on top of the database's
 * older rows; an outbox from before skeleton costs gets the columns.
 */
static struct store_entry skeleton_entry(unsigned n, int64_t created, size_t skel_mem)
{
	struct store_entry e = entry(n, created);

	e.has_skeleton = true;
	memset(e.skeleton, (int)(0x40 + n), sizeof(e.skeleton));
	e.skeleton_opslimit = 1;
	e.skeleton_memlimit = skel_mem;
	return e;
}

START_TEST(test_replica_reason_and_skeleton_cost)
{
	struct store *s = open_ok();
	struct store_user u, got;
	struct store_entry e1 = skeleton_entry(1, T0, 8388608), e2, out[4];
	struct store_outbox_item ob, first;
	bool recorded = false;
	size_t n = 0;

	ck_assert_int_eq(store_replica_prepare(s), PP_OK);
	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "alice");
	memset(u.salt, 0x5a, sizeof(u.salt));
	u.last_change = T0;
	u.first_seen = T0 - 10;
	u.must_change = true;
	snprintf(u.must_change_reason, sizeof(u.must_change_reason), STORE_REASON_BREACHED);
	ck_assert_int_eq(store_replica_put(s, &u, &e1, 1, 7), PP_OK);
	ck_assert_int_eq(store_user_get(s, "alice", &got), PP_OK);
	ck_assert(got.must_change);
	ck_assert_str_eq(got.must_change_reason, STORE_REASON_BREACHED);
	ck_assert_int_eq(store_history_get(s, "alice", out, 4, &n), PP_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert(out[0].has_skeleton);
	ck_assert_uint_eq(out[0].skeleton_opslimit, 1);
	ck_assert_uint_eq(out[0].skeleton_memlimit, 8388608);

	/* A change during an outage: recorded here, queued with its skeleton's cost. */
	e2 = skeleton_entry(2, T0 + 100, 16777216);
	memset(&ob, 0, sizeof(ob));
	snprintf(ob.rid, sizeof(ob.rid), "host-a:0001");
	ob.kind = STORE_OUTBOX_RECORD;
	snprintf(ob.user, sizeof(ob.user), "alice");
	ob.when = T0 + 100;
	memcpy(ob.salt, u.salt, sizeof(ob.salt));
	ob.keep = 5;
	ob.keep_skeletons = 5;
	ob.has_entry = true;
	ob.entry = e2;
	ck_assert_int_eq(store_replica_record(s, "alice", &e2, 5, 5, T0 + 100, NULL, NULL,
					      &ob, &recorded), PP_OK);
	ck_assert(recorded);
	ck_assert_int_eq(store_user_get(s, "alice", &got), PP_OK);
	ck_assert(!got.must_change);
	ck_assert_str_eq(got.must_change_reason, "");
	ck_assert_int_eq(store_outbox_first(s, &first), PP_OK);
	ck_assert(first.has_entry && first.entry.has_skeleton);
	ck_assert_uint_eq(first.entry.skeleton_opslimit, 1);
	ck_assert_uint_eq(first.entry.skeleton_memlimit, 16777216);

	/* The database's older rows again (the record not yet replayed): it stays on top. */
	ck_assert_int_eq(store_replica_put(s, &u, &e1, 1, 8), PP_OK);
	ck_assert_int_eq(store_user_get(s, "alice", &got), PP_OK);
	ck_assert(!got.must_change);
	ck_assert_str_eq(got.must_change_reason, "");
	ck_assert_int_eq(store_history_get(s, "alice", out, 4, &n), PP_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(out[0].skeleton_memlimit, 16777216);
	ck_assert_uint_eq(out[1].skeleton_memlimit, 8388608);

	/* A breach flag during an outage: set here, queued with its reason... */
	ck_assert_int_eq(store_outbox_delete(s, first.id), PP_OK);
	memset(&ob, 0, sizeof(ob));
	snprintf(ob.rid, sizeof(ob.rid), "host-a:0002");
	ob.kind = STORE_OUTBOX_FLAG;
	snprintf(ob.user, sizeof(ob.user), "alice");
	ob.when = T0 + 200;
	memcpy(ob.salt, u.salt, sizeof(ob.salt));
	snprintf(ob.reason, sizeof(ob.reason), STORE_REASON_BREACHED);
	ck_assert_int_eq(store_replica_flag(s, "alice", STORE_REASON_BREACHED, T0 + 200, u.salt,
					    &ob), PP_OK);
	ck_assert_int_eq(store_user_get(s, "alice", &got), PP_OK);
	ck_assert(got.must_change);
	ck_assert_str_eq(got.must_change_reason, STORE_REASON_BREACHED);
	ck_assert_int_eq(store_outbox_first(s, &first), PP_OK);
	ck_assert_int_eq(first.kind, STORE_OUTBOX_FLAG);
	ck_assert_str_eq(first.reason, STORE_REASON_BREACHED);
	/* ...kept on top of the database's unflagged row until replayed... */
	u.must_change = false;
	u.must_change_reason[0] = '\0';
	u.last_change = T0 + 100;
	ck_assert_int_eq(store_replica_put(s, &u, &e1, 1, 9), PP_OK);
	ck_assert_int_eq(store_user_get(s, "alice", &got), PP_OK);
	ck_assert(got.must_change);
	ck_assert_str_eq(got.must_change_reason, STORE_REASON_BREACHED);
	/* ...but not over a change the database recorded after it. */
	u.last_change = T0 + 300;
	ck_assert_int_eq(store_replica_put(s, &u, &e1, 1, 10), PP_OK);
	ck_assert_int_eq(store_user_get(s, "alice", &got), PP_OK);
	ck_assert(!got.must_change);
	ck_assert_str_eq(got.must_change_reason, "");
	store_close(s);

	/* An outbox made before skeleton costs: prepare adds them; its items: the entry's. */
	raw_exec("DROP TABLE outbox;"
		 "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT,"
		 " rid TEXT NOT NULL UNIQUE, kind INTEGER NOT NULL CHECK (kind IN (1, 2)),"
		 " user TEXT NOT NULL, created INTEGER NOT NULL,"
		 " initial_last_change INTEGER NOT NULL DEFAULT 0,"
		 " must_change INTEGER NOT NULL DEFAULT 0,"
		 " salt BLOB NOT NULL CHECK (length(salt) = 16),"
		 " keep INTEGER NOT NULL DEFAULT 0, keep_skeletons INTEGER NOT NULL DEFAULT 0,"
		 " hash BLOB, opslimit INTEGER NOT NULL DEFAULT 0,"
		 " memlimit INTEGER NOT NULL DEFAULT 0, skeleton BLOB);"
		 "INSERT INTO outbox (rid, kind, user, created, salt, keep, keep_skeletons,"
		 " hash, opslimit, memlimit, skeleton) VALUES ('old:1', 2, 'alice', 1700000200,"
		 " zeroblob(16), 5, 5, zeroblob(32), 2, 67108864, zeroblob(32));");
	s = open_ok();
	ck_assert_int_eq(store_replica_prepare(s), PP_OK);
	ck_assert_int_eq(store_outbox_first(s, &first), PP_OK);
	ck_assert_str_eq(first.rid, "old:1");
	ck_assert(first.entry.has_skeleton);
	ck_assert_uint_eq(first.entry.skeleton_opslimit, 0);
	ck_assert_uint_eq(first.entry.skeleton_memlimit, 0);
	/* ...and flags now go in too. */
	memset(&ob, 0, sizeof(ob));
	snprintf(ob.rid, sizeof(ob.rid), "host-a:0003");
	ob.kind = STORE_OUTBOX_FLAG;
	snprintf(ob.user, sizeof(ob.user), "alice");
	ob.when = T0 + 400;
	snprintf(ob.reason, sizeof(ob.reason), STORE_REASON_BREACHED);
	ck_assert_int_eq(store_replica_flag(s, "alice", STORE_REASON_BREACHED, T0 + 400, u.salt,
					    &ob), PP_OK);
	ck_assert_int_eq(store_outbox_count(s, &n), PP_OK);
	ck_assert_uint_eq(n, 2);
	store_close(s);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("sqlite");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ensure_get_round_trip);
	tcase_add_test(tc, test_names_checked);
	tcase_add_test(tc, test_history_prune_and_order);
	tcase_add_test(tc, test_history_keep_zero_resets_clock);
	tcase_add_test(tc, test_history_unknown_user);
	tcase_add_test(tc, test_must_change);
	tcase_add_test(tc, test_forget);
	tcase_add_test(tc, test_foreach_users);
	tcase_add_test(tc, test_foreach_100k_users);
	tcase_add_test(tc, test_reopen_keeps_data);
	tcase_add_test(tc, test_two_handles_share_store);
	tcase_add_test(tc, test_backup);
	tcase_add_test(tc, test_backup_bad_path);
	tcase_add_test(tc, test_garbage_file_refused);
	tcase_add_test(tc, test_corrupt_pages_refused);
	tcase_add_test(tc, test_newer_schema_refused);
	tcase_add_test(tc, test_foreign_database_refused);
	tcase_add_test(tc, test_dir_mode_refused);
	tcase_add_test(tc, test_file_mode_and_missing_dir_refused);
	tcase_add_test(tc, test_symlinked_db_refused);
	tcase_add_test(tc, test_survives_sigkill_after_ack);
	tcase_add_test(tc, test_survives_sigkill_mid_write);
	tcase_add_test(tc, test_replica_reason_and_skeleton_cost);
	suite_add_tcase(s, tc);
	return s;
}

Suite *test_suite(void)
{
	return store_suite();
}
