/*
 * store_sqlite.c - the default store backend: one SQLite file, DIR/store.db.
 *
 * WAL mode lets readers (status, reports, backups) run beside the writer;
 * synchronous=FULL makes every committed transaction durable before the
 * call returns. Each public write is one transaction. Statements are
 * prepared once per handle.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sodium.h>
#include <sqlite3.h>

#include "bounds.h"
#include "fsutil.h"
#include "paths.h"
#include "secret.h"

#define STORE_APPLICATION_ID 0x70706f6c   /* "ppol" in the file header */
#define STORE_BUSY_TIMEOUT_MS 5000

/*
 * Schema migrations: step i takes the database from user_version i to i+1.
 * Never edit a released step; append a new one.
 */
static const char *const migrations[] = {
	/* 0 -> 1: initial schema */
	"CREATE TABLE users ("
	"  name TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 255),"
	"  salt BLOB NOT NULL CHECK (length(salt) = 16),"
	"  last_change INTEGER NOT NULL DEFAULT 0,"
	"  first_seen INTEGER NOT NULL,"
	"  must_change INTEGER NOT NULL DEFAULT 0 CHECK (must_change IN (0, 1)),"
	"  history_count INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE history ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
	"  hash BLOB NOT NULL CHECK (length(hash) = 32),"
	"  opslimit INTEGER NOT NULL,"
	"  memlimit INTEGER NOT NULL,"
	"  created INTEGER NOT NULL"
	");"
	"CREATE INDEX history_by_user ON history(user, id);",
	/*
	 * 1 -> 2: values bound to the store as a whole (store.h, metadata):
	 * the pepper's check value. A store migrated from 1 has users but no
	 * check value yet; the daemon adopts the pepper it finds (logged).
	 */
	"CREATE TABLE meta ("
	"  name TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 64),"
	"  value BLOB NOT NULL CHECK (length(value) BETWEEN 1 AND 256)"
	") WITHOUT ROWID;",
	/*
	 * 2 -> 3: each user's last login (the account phase), written in
	 * batches (store.h, last logins); 0 = none counted yet.
	 */
	"ALTER TABLE users ADD COLUMN last_login INTEGER NOT NULL DEFAULT 0;",
	/*
	 * 3 -> 4: the skeleton hash of an entry (hash_skeleton), kept on the
	 * newest similar_history entries only; NULL on the others and on
	 * every entry from before this step (they never match a skeleton).
	 */
	"ALTER TABLE history ADD COLUMN skeleton BLOB"
	"  CHECK (skeleton IS NULL OR length(skeleton) = 32);",
	/*
	 * 4 -> 5: the argon2id cost of each skeleton hash (hash.h,
	 * hash_skeleton_params: lower than the password's). NULL on the
	 * skeletons from before this step: they were made with the entry's own
	 * opslimit and memlimit, and keep matching with those.
	 */
	"ALTER TABLE history ADD COLUMN skeleton_opslimit INTEGER;"
	"ALTER TABLE history ADD COLUMN skeleton_memlimit INTEGER;",
	/*
	 * 5 -> 6: why a user must change (store_flag_must_change): "" for an
	 * administrator's expire and every flag from before this step,
	 * "breached" when the breach check found the login password.
	 * Cleared with the flag by the next recorded change.
	 */
	"ALTER TABLE users ADD COLUMN must_change_reason TEXT NOT NULL DEFAULT ''"
	"  CHECK (length(must_change_reason) <= 32);",
};
/* Step 0 -> 1 fixed the name bound in SQL; changing it needs a new step. */
_Static_assert(PP_NAME_MAX == 255, "users.name CHECK in migration 0 -> 1");
/* Step 1 -> 2 fixed the metadata bounds in SQL, likewise. */
_Static_assert(STORE_META_NAME_MAX == 64 && STORE_META_VALUE_MAX == 256,
	       "meta CHECKs in migration 1 -> 2");
/* Step 5 -> 6 fixed the reason bound, likewise. */
_Static_assert(STORE_REASON_MAX == 32, "users.must_change_reason CHECK in migration 5 -> 6");
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_USER_GET,
	ST_USER_INSERT,
	ST_USER_EXISTS,
	ST_HISTORY_GET,
	ST_HISTORY_INSERT,
	ST_HISTORY_PRUNE,
	ST_USER_RECORDED,
	ST_USER_SET_MUST,
	ST_HISTORY_DELETE,
	ST_USER_RESET,
	ST_USERS_ALL,
	ST_USER_COUNT,
	ST_USER_LAST_LOGIN,
	ST_USER_ADOPT,
	ST_SKELETON_PRUNE,
	ST_COUNT
};

#define USER_COLUMNS "name, salt, last_change, first_seen, must_change, history_count," \
	" last_login, must_change_reason"

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_USER_GET] = "SELECT " USER_COLUMNS " FROM users WHERE name = ?1",
	[ST_USER_INSERT] =
		"INSERT INTO users (name, salt, last_change, first_seen, must_change)"
		" VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO NOTHING",
	[ST_USER_EXISTS] = "SELECT 1 FROM users WHERE name = ?1",
	[ST_HISTORY_GET] =
		"SELECT hash, opslimit, memlimit, created, skeleton, skeleton_opslimit,"
		" skeleton_memlimit FROM history"
		" WHERE user = ?1 ORDER BY id DESC LIMIT ?2",
	[ST_HISTORY_INSERT] =
		"INSERT INTO history (user, hash, opslimit, memlimit, created, skeleton,"
		" skeleton_opslimit, skeleton_memlimit) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	/* Skeletons at or below the (keep_skeletons+1)-th newest id go. */
	[ST_SKELETON_PRUNE] =
		"UPDATE history SET skeleton = NULL WHERE user = ?1 AND skeleton IS NOT NULL"
		" AND id <= (SELECT id FROM history WHERE user = ?1 ORDER BY id DESC"
		" LIMIT 1 OFFSET ?2)",
	/* Everything at or below the (keep+1)-th newest id goes. */
	[ST_HISTORY_PRUNE] =
		"DELETE FROM history WHERE user = ?1 AND id <= (SELECT id FROM"
		" history WHERE user = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
	/* A first sight dated after the change (a clock that jumped) is put right. */
	[ST_USER_RECORDED] =
		"UPDATE users SET last_change = ?2, must_change = 0, must_change_reason = '',"
		" first_seen = min(first_seen, ?2), history_count ="
		" (SELECT count(*) FROM history WHERE user = ?1) WHERE name = ?1",
	[ST_USER_SET_MUST] =
		"INSERT INTO users (name, salt, last_change, first_seen, must_change,"
		" must_change_reason) VALUES (?1, ?2, 0, ?3, ?4, ?5)"
		" ON CONFLICT (name) DO UPDATE SET must_change = excluded.must_change,"
		" must_change_reason = excluded.must_change_reason",
	[ST_HISTORY_DELETE] = "DELETE FROM history WHERE user = ?1",
	[ST_USER_ADOPT] =
		"UPDATE users SET last_change = ?2 WHERE name = ?1 AND last_change < ?2",
	[ST_USER_RESET] =
		"UPDATE users SET salt = ?2, last_change = 0, must_change = 0,"
		" must_change_reason = '', history_count = 0 WHERE name = ?1",
	[ST_USERS_ALL] = "SELECT " USER_COLUMNS " FROM users ORDER BY name",
	[ST_USER_COUNT] = "SELECT count(*) FROM users",
	[ST_USER_LAST_LOGIN] =
		"UPDATE users SET last_login = max(last_login, ?2) WHERE name = ?1",
};

struct sqlite_store {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	char path[PATH_MAX];
	char msg[512];
};

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A failed SQLite call: message "store PATH: WHAT: sqlite's reason". */
static pp_err db_fail(struct sqlite_store *q, const char *what)
{
	int code = sqlite3_errcode(q->db);

	set_err(q->msg, sizeof(q->msg), "store %s: %s: %s", q->path, what,
		sqlite3_errmsg(q->db));
	return code == SQLITE_NOMEM ? PP_ERR_NOMEM : PP_ERR_STORE;
}

static sqlite3_stmt *stmt(struct sqlite_store *q, enum stmt_id id)
{
	sqlite3_stmt *s = q->st[id];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Step a statement that returns no rows; reset it. */
static pp_err step_done(struct sqlite_store *q, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	pp_err err = rc == SQLITE_DONE ? PP_OK : db_fail(q, what);

	sqlite3_reset(s);
	return err;
}

static pp_err tx_begin(struct sqlite_store *q)
{
	return step_done(q, stmt(q, ST_BEGIN), "cannot start a transaction");
}

static pp_err tx_commit(struct sqlite_store *q)
{
	return step_done(q, stmt(q, ST_COMMIT), "cannot commit");
}

/* Undo an open transaction; keeps the message of the failure that led here. */
static void tx_rollback(struct sqlite_store *q)
{
	sqlite3_stmt *s = stmt(q, ST_ROLLBACK);

	if (!sqlite3_get_autocommit(q->db))
		sqlite3_step(s);
	sqlite3_reset(s);
}

static pp_err bind_text(struct sqlite_store *q, sqlite3_stmt *s, int i,
			const char *text)
{
	if (sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC) != SQLITE_OK)
		return db_fail(q, "bind");
	return PP_OK;
}

static pp_err bind_blob(struct sqlite_store *q, sqlite3_stmt *s, int i,
			const void *data, int len)
{
	if (sqlite3_bind_blob(s, i, data, len, SQLITE_STATIC) != SQLITE_OK)
		return db_fail(q, "bind");
	return PP_OK;
}

static pp_err bind_int(struct sqlite_store *q, sqlite3_stmt *s, int i,
		       int64_t v)
{
	if (sqlite3_bind_int64(s, i, v) != SQLITE_OK)
		return db_fail(q, "bind");
	return PP_OK;
}

/* Copy one row of USER_COLUMNS into u; PP_ERR_STORE on a malformed row. */
static pp_err read_user(struct sqlite_store *q, sqlite3_stmt *s,
			struct store_user *u)
{
	const unsigned char *name = sqlite3_column_text(s, 0);
	int name_len = sqlite3_column_bytes(s, 0);
	const void *salt = sqlite3_column_blob(s, 1);
	int salt_len = sqlite3_column_bytes(s, 1);
	int64_t count = sqlite3_column_int64(s, 5);
	const unsigned char *reason;
	int reason_len;

	if (name == NULL || name_len < 1 || name_len > PP_NAME_MAX ||
	    salt == NULL || salt_len != HASH_SALT_BYTES ||
	    count < 0 || count > INT_MAX) {
		set_err(q->msg, sizeof(q->msg),
			"store %s: malformed user row; run pam_policyctl doctor "
			"or restore from backup", q->path);
		return PP_ERR_STORE;
	}
	memset(u, 0, sizeof(*u));
	memcpy(u->name, name, (size_t)name_len);
	memcpy(u->salt, salt, HASH_SALT_BYTES);
	u->last_change = sqlite3_column_int64(s, 2);
	u->first_seen = sqlite3_column_int64(s, 3);
	u->must_change = sqlite3_column_int(s, 4) != 0;
	u->history_count = (int)count;
	u->last_login = sqlite3_column_int64(s, 6);
	reason = sqlite3_column_text(s, 7);
	reason_len = sqlite3_column_bytes(s, 7);
	if (reason != NULL && reason_len > 0 && reason_len <= STORE_REASON_MAX)
		memcpy(u->must_change_reason, reason, (size_t)reason_len);
	return PP_OK;
}

static pp_err sq_user_get(void *impl, const char *name, struct store_user *u)
{
	struct sqlite_store *q = impl;
	sqlite3_stmt *s = stmt(q, ST_USER_GET);
	pp_err rc = bind_text(q, s, 1, name);
	int step;

	if (rc != PP_OK)
		return rc;
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		rc = read_user(q, s, u);
	} else if (step == SQLITE_DONE) {
		set_err(q->msg, sizeof(q->msg), "user %s is not in the store", name);
		rc = PP_ERR_NOT_FOUND;
	} else {
		rc = db_fail(q, "cannot read user");
	}
	sqlite3_reset(s);
	return rc;
}

static pp_err sq_user_ensure(void *impl, const char *name, int64_t now,
			     int64_t initial_last_change, bool must_change,
			     struct store_user *u)
{
	struct sqlite_store *q = impl;
	uint8_t salt[HASH_SALT_BYTES];
	sqlite3_stmt *s = stmt(q, ST_USER_INSERT);
	pp_err rc;

	hash_salt_new(salt);
	if ((rc = bind_text(q, s, 1, name)) != PP_OK ||
	    (rc = bind_blob(q, s, 2, salt, sizeof(salt))) != PP_OK ||
	    (rc = bind_int(q, s, 3, initial_last_change)) != PP_OK ||
	    (rc = bind_int(q, s, 4, now)) != PP_OK ||
	    (rc = bind_int(q, s, 5, must_change)) != PP_OK)
		goto out;
	/* One statement, so it commits (durably) on its own. */
	rc = step_done(q, s, "cannot add user");
	if (rc == PP_OK)
		rc = sq_user_get(q, name, u);
out:
	sqlite3_clear_bindings(s);
	pp_wipe(salt, sizeof(salt));
	return rc;
}

static pp_err user_exists(struct sqlite_store *q, const char *name)
{
	sqlite3_stmt *s = stmt(q, ST_USER_EXISTS);
	pp_err rc = bind_text(q, s, 1, name);
	int step;

	if (rc != PP_OK)
		return rc;
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		rc = PP_OK;
	} else if (step == SQLITE_DONE) {
		set_err(q->msg, sizeof(q->msg), "user %s is not in the store", name);
		rc = PP_ERR_NOT_FOUND;
	} else {
		rc = db_fail(q, "cannot read user");
	}
	sqlite3_reset(s);
	return rc;
}

static pp_err sq_history_get(void *impl, const char *name,
			     struct store_entry *entries, size_t max, size_t *n)
{
	struct sqlite_store *q = impl;
	sqlite3_stmt *s = stmt(q, ST_HISTORY_GET);
	size_t got = 0;
	pp_err rc;
	int step = SQLITE_DONE;

	*n = 0;
	if ((rc = bind_text(q, s, 1, name)) != PP_OK ||
	    (rc = bind_int(q, s, 2, max > INT64_MAX ? INT64_MAX : (int64_t)max)) != PP_OK)
		return rc;
	while (got < max && (step = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_entry *e = &entries[got];
		const void *hash = sqlite3_column_blob(s, 0);
		int64_t ops = sqlite3_column_int64(s, 1);
		int64_t mem = sqlite3_column_int64(s, 2);

		if (hash == NULL || sqlite3_column_bytes(s, 0) != HASH_BYTES ||
		    ops < 0 || mem < 0 || (uint64_t)mem > SIZE_MAX) {
			set_err(q->msg, sizeof(q->msg),
				"store %s: malformed history entry for user %s; "
				"restore from backup or forget the user",
				q->path, name);
			rc = PP_ERR_STORE;
			goto out;
		}
		memcpy(e->hash, hash, HASH_BYTES);
		e->opslimit = (unsigned long long)ops;
		e->memlimit = (size_t)mem;
		e->created = sqlite3_column_int64(s, 3);
		/* A skeleton is there or not (the CHECK holds its length). */
		e->has_skeleton = sqlite3_column_type(s, 4) == SQLITE_BLOB &&
				  sqlite3_column_bytes(s, 4) == HASH_BYTES;
		if (e->has_skeleton)
			memcpy(e->skeleton, sqlite3_column_blob(s, 4), HASH_BYTES);
		else
			memset(e->skeleton, 0, HASH_BYTES);
		/* NULL (before schema 5): made with the entry's own cost. */
		e->skeleton_opslimit = e->opslimit;
		e->skeleton_memlimit = e->memlimit;
		if (sqlite3_column_type(s, 5) != SQLITE_NULL ||
		    sqlite3_column_type(s, 6) != SQLITE_NULL) {
			int64_t sops = sqlite3_column_int64(s, 5);
			int64_t smem = sqlite3_column_int64(s, 6);
			if (sops <= 0 || smem <= 0 || (uint64_t)smem > SIZE_MAX) {
				set_err(q->msg, sizeof(q->msg),
					"store %s: malformed skeleton cost in the history "
					"of user %s; restore from backup or forget the user",
					q->path, name);
				rc = PP_ERR_STORE;
				goto out;
			}
			e->skeleton_opslimit = (unsigned long long)sops;
			e->skeleton_memlimit = (size_t)smem;
		}
		got++;
	}
	if (got < max && step != SQLITE_DONE) {
		rc = db_fail(q, "cannot read history");
		goto out;
	}
	sqlite3_reset(s);
	/* No rows may mean no user: tell the caller which. */
	if (got == 0)
		rc = user_exists(q, name);
out:
	sqlite3_reset(s);
	if (rc == PP_OK)
		*n = got;
	else if (got > 0)
		pp_wipe(entries, got * sizeof(*entries));
	return rc;
}

/*
 * Ask decide with the row and newest entries read inside the transaction
 * that BEGIN IMMEDIATE opened: the write lock is held, so what it sees is
 * what the record will change.
 */
static pp_err history_decide(struct sqlite_store *q, const char *name, int keep,
			     store_record_decide decide, void *ctx, bool *ok)
{
	struct store_user u;
	struct store_entry *entries = NULL;
	size_t n = 0;
	pp_err rc = sq_user_get(q, name, &u);

	*ok = false;
	if (rc != PP_OK)
		return rc;
	if (keep > 0) {
		entries = calloc((size_t)keep, sizeof(*entries));
		if (entries == NULL)
			return PP_ERR_NOMEM;
		rc = sq_history_get(q, name, entries, (size_t)keep, &n);
	}
	if (rc == PP_OK)
		*ok = decide(&u, n > 0 ? entries : NULL, n, ctx);
	if (entries != NULL) {
		pp_wipe(entries, (size_t)keep * sizeof(*entries));
		free(entries);
	}
	pp_wipe(u.salt, sizeof(u.salt));
	return rc;
}

static pp_err outbox_insert(struct sqlite_store *q, const struct store_outbox_item *ob);

/* The record, and ob (may be NULL) queued in the outbox, in one transaction. */
static pp_err history_add_tx(struct sqlite_store *q, const char *name,
			     const struct store_entry *e, int keep,
			     int keep_skeletons, int64_t now,
			     store_record_decide decide, void *ctx,
			     const struct store_outbox_item *ob, bool *recorded)
{
	sqlite3_stmt *s;
	bool ok = true;
	pp_err rc = tx_begin(q);

	if (rc != PP_OK)
		return rc;
	if ((rc = user_exists(q, name)) != PP_OK)
		goto fail;
	if (decide != NULL &&
	    (rc = history_decide(q, name, keep, decide, ctx, &ok)) != PP_OK)
		goto fail;
	if (!ok) {
		/* Refused: nothing to write, the lock is given back. */
		tx_rollback(q);
		return PP_OK;
	}
	if (e != NULL) {
		s = stmt(q, ST_HISTORY_INSERT);
		if ((rc = bind_text(q, s, 1, name)) != PP_OK ||
		    (rc = bind_blob(q, s, 2, e->hash, HASH_BYTES)) != PP_OK ||
		    (rc = bind_int(q, s, 3, (int64_t)e->opslimit)) != PP_OK ||
		    (rc = bind_int(q, s, 4, (int64_t)e->memlimit)) != PP_OK ||
		    (rc = bind_int(q, s, 5, e->created)) != PP_OK ||
		    (e->has_skeleton && keep_skeletons > 0 &&
		     (rc = bind_blob(q, s, 6, e->skeleton, HASH_BYTES)) != PP_OK) ||
		    (e->has_skeleton && keep_skeletons > 0 && e->skeleton_opslimit > 0 &&
		     ((rc = bind_int(q, s, 7, (int64_t)e->skeleton_opslimit)) != PP_OK ||
		      (rc = bind_int(q, s, 8, (int64_t)e->skeleton_memlimit)) != PP_OK)) ||
		    (rc = step_done(q, s, "cannot add history entry")) != PP_OK)
			goto fail;
		sqlite3_clear_bindings(s);
	}
	s = stmt(q, ST_HISTORY_PRUNE);
	if ((rc = bind_text(q, s, 1, name)) != PP_OK ||
	    (rc = bind_int(q, s, 2, keep)) != PP_OK ||
	    (rc = step_done(q, s, "cannot prune history")) != PP_OK)
		goto fail;
	s = stmt(q, ST_SKELETON_PRUNE);
	if ((rc = bind_text(q, s, 1, name)) != PP_OK ||
	    (rc = bind_int(q, s, 2, keep_skeletons)) != PP_OK ||
	    (rc = step_done(q, s, "cannot prune skeletons")) != PP_OK)
		goto fail;
	s = stmt(q, ST_USER_RECORDED);
	if ((rc = bind_text(q, s, 1, name)) != PP_OK ||
	    (rc = bind_int(q, s, 2, now)) != PP_OK ||
	    (rc = step_done(q, s, "cannot update user")) != PP_OK)
		goto fail;
	if (ob != NULL && (rc = outbox_insert(q, ob)) != PP_OK)
		goto fail;
	if ((rc = tx_commit(q)) != PP_OK)
		goto fail;
	*recorded = true;
	return PP_OK;
fail:
	tx_rollback(q);
	return rc;
}

static pp_err sq_history_add(void *impl, const char *name,
			     const struct store_entry *e, int keep,
			     int keep_skeletons, int64_t now,
			     store_record_decide decide, void *ctx, bool *recorded)
{
	return history_add_tx(impl, name, e, keep, keep_skeletons, now, decide, ctx,
			      NULL, recorded);
}

static pp_err sq_set_must_change(void *impl, const char *name,
				 bool must_change, const char *reason, int64_t now)
{
	struct sqlite_store *q = impl;
	uint8_t salt[HASH_SALT_BYTES];
	sqlite3_stmt *s = stmt(q, ST_USER_SET_MUST);
	pp_err rc;

	hash_salt_new(salt);
	if ((rc = bind_text(q, s, 1, name)) == PP_OK &&
	    (rc = bind_blob(q, s, 2, salt, sizeof(salt))) == PP_OK &&
	    (rc = bind_int(q, s, 3, now)) == PP_OK &&
	    (rc = bind_int(q, s, 4, must_change)) == PP_OK &&
	    (rc = bind_text(q, s, 5, must_change && reason != NULL ? reason : "")) == PP_OK)
		rc = step_done(q, s, "cannot set the forced-change flag");
	sqlite3_clear_bindings(s);
	pp_wipe(salt, sizeof(salt));
	return rc;
}

static pp_err sq_adopt_last_change(void *impl, const char *name, int64_t t)
{
	struct sqlite_store *q = impl;
	sqlite3_stmt *s = stmt(q, ST_USER_ADOPT);
	pp_err rc;

	if ((rc = bind_text(q, s, 1, name)) == PP_OK &&
	    (rc = bind_int(q, s, 2, t)) == PP_OK)
		rc = step_done(q, s, "cannot adopt the last change");
	sqlite3_clear_bindings(s);
	if (rc == PP_OK && sqlite3_changes(q->db) == 0)
		rc = PP_ERR_NOT_FOUND;
	return rc;
}

static pp_err sq_forget(void *impl, const char *name)
{
	struct sqlite_store *q = impl;
	uint8_t salt[HASH_SALT_BYTES];
	sqlite3_stmt *s;
	pp_err rc = tx_begin(q);

	if (rc != PP_OK)
		return rc;
	hash_salt_new(salt);
	s = stmt(q, ST_USER_RESET);
	if ((rc = bind_text(q, s, 1, name)) != PP_OK ||
	    (rc = bind_blob(q, s, 2, salt, sizeof(salt))) != PP_OK ||
	    (rc = step_done(q, s, "cannot reset user")) != PP_OK)
		goto fail;
	sqlite3_clear_bindings(s);
	if (sqlite3_changes(q->db) == 0) {
		set_err(q->msg, sizeof(q->msg), "user %s is not in the store", name);
		rc = PP_ERR_NOT_FOUND;
		goto fail;
	}
	s = stmt(q, ST_HISTORY_DELETE);
	if ((rc = bind_text(q, s, 1, name)) != PP_OK ||
	    (rc = step_done(q, s, "cannot delete history")) != PP_OK)
		goto fail;
	if ((rc = tx_commit(q)) != PP_OK)
		goto fail;
	pp_wipe(salt, sizeof(salt));
	return PP_OK;
fail:
	sqlite3_clear_bindings(q->st[ST_USER_RESET]);
	tx_rollback(q);
	pp_wipe(salt, sizeof(salt));
	return rc;
}

static pp_err sq_foreach_user(void *impl, store_user_cb cb, void *ctx)
{
	struct sqlite_store *q = impl;
	sqlite3_stmt *s = stmt(q, ST_USERS_ALL);
	struct store_user u;
	pp_err rc = PP_OK;
	int step;

	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = read_user(q, s, &u)) != PP_OK)
			break;
		if ((rc = cb(&u, ctx)) != PP_OK) {
			set_err(q->msg, sizeof(q->msg), "walk over users stopped: %s",
				pp_strerror(rc));
			break;
		}
	}
	if (rc == PP_OK && step != SQLITE_DONE)
		rc = db_fail(q, "cannot list users");
	sqlite3_reset(s);
	pp_wipe(u.salt, sizeof(u.salt));
	return rc;
}

static pp_err sq_user_count(void *impl, size_t *count)
{
	struct sqlite_store *q = impl;
	sqlite3_stmt *s = stmt(q, ST_USER_COUNT);
	pp_err rc = PP_OK;

	if (sqlite3_step(s) == SQLITE_ROW)
		*count = (size_t)sqlite3_column_int64(s, 0);
	else
		rc = db_fail(q, "cannot count users");
	sqlite3_reset(s);
	return rc;
}

/* Every login of the batch in one transaction (one fsync per flush). */
static pp_err sq_last_login_set(void *impl, const struct store_login *v, size_t n)
{
	struct sqlite_store *q = impl;
	pp_err rc = tx_begin(q);

	for (size_t i = 0; rc == PP_OK && i < n; i++) {
		sqlite3_stmt *s = stmt(q, ST_USER_LAST_LOGIN);

		if ((rc = bind_text(q, s, 1, v[i].name)) == PP_OK &&
		    (rc = bind_int(q, s, 2, v[i].when)) == PP_OK)
			rc = step_done(q, s, "cannot record last logins");
	}
	if (rc == PP_OK)
		rc = tx_commit(q);
	if (rc != PP_OK)
		tx_rollback(q);
	return rc;
}

static void unlink_db_files(const char *path)
{
	char side[PATH_MAX + 8];

	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-journal", path);
	unlink(side);
}

/*
 * The online backup API copies pages from a read snapshot, so writers on
 * other handles go on (WAL). The copy is then switched out of WAL mode so
 * that it is one self-contained file.
 */
static pp_err sq_backup(void *impl, const char *path)
{
	struct sqlite_store *q = impl;
	char tmp[PATH_MAX];
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	const char *why = NULL;
	char *emsg = NULL;
	pp_err rc = PP_ERR_STORE;
	int fd, step;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp)) {
		set_err(q->msg, sizeof(q->msg), "backup path %s is too long", path);
		return PP_ERR_TOO_LONG;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		set_err(q->msg, sizeof(q->msg), "cannot create backup file beside "
			"%s: %s", path, strerror(errno));
		return PP_ERR_IO;
	}
	if (fchmod(fd, 0600) != 0) {
		why = strerror(errno);
		rc = PP_ERR_IO;
		goto fail;
	}
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		why = dst ? sqlite3_errmsg(dst) : "out of memory";
		goto fail;
	}
	b = sqlite3_backup_init(dst, "main", q->db, "main");
	if (b == NULL) {
		why = sqlite3_errmsg(dst);
		goto fail;
	}
	step = sqlite3_backup_step(b, -1);
	if (sqlite3_backup_finish(b) != SQLITE_OK || step != SQLITE_DONE) {
		why = sqlite3_errmsg(dst);
		goto fail;
	}
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL,
			 &emsg) != SQLITE_OK) {
		why = emsg ? emsg : sqlite3_errmsg(dst);
		goto fail;
	}
	if (sqlite3_close(dst) != SQLITE_OK) {
		why = "cannot close the copy";
		goto fail;
	}
	dst = NULL;
	if (fsync(fd) != 0) {
		why = strerror(errno);
		rc = PP_ERR_IO;
		goto fail;
	}
	step = close(fd);
	fd = -1;
	if (step != 0 || rename(tmp, path) != 0 ||
	    fsutil_fsync_parent(path) != PP_OK) {
		why = strerror(errno);
		rc = PP_ERR_IO;
		goto fail;
	}
	return PP_OK;
fail:
	set_err(q->msg, sizeof(q->msg), "cannot back up store %s to %s: %s",
		q->path, path, why ? why : "unknown error");
	sqlite3_free(emsg);
	if (dst != NULL)
		sqlite3_close(dst);
	if (fd >= 0)
		close(fd);
	unlink_db_files(tmp);
	return rc;
}

/*
 * ---- metadata ----
 *
 * Used at start-up and by doctor, never per login: each query is prepared
 * on the spot rather than kept with the per-request statements.
 */

static int64_t query_int(struct sqlite_store *q, const char *sql);

/* Prepare sql and bind ?1 = name (and ?2 = value when value is non-NULL). */
static pp_err meta_prepare(struct sqlite_store *q, const char *sql,
			   const char *name, const uint8_t *value, size_t len,
			   sqlite3_stmt **out)
{
	pp_err rc;

	*out = NULL;
	if (sqlite3_prepare_v2(q->db, sql, -1, out, NULL) != SQLITE_OK) {
		rc = db_fail(q, "cannot prepare a metadata query");
		sqlite3_finalize(*out);
		*out = NULL;
		return rc;
	}
	if ((name != NULL && (rc = bind_text(q, *out, 1, name)) != PP_OK) ||
	    (value != NULL && (rc = bind_blob(q, *out, 2, value, (int)len)) != PP_OK)) {
		sqlite3_finalize(*out);
		*out = NULL;
		return rc;
	}
	return PP_OK;
}

/* One metadata value into value[0..*len); PP_ERR_NOT_FOUND when absent. */
static pp_err meta_read(struct sqlite_store *q, const char *name, uint8_t *value,
			size_t cap, size_t *len)
{
	sqlite3_stmt *s;
	pp_err rc = meta_prepare(q, "SELECT value FROM meta WHERE name = ?1", name,
				 NULL, 0, &s);
	int step;

	*len = 0;
	if (rc != PP_OK)
		return rc;
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		const void *v = sqlite3_column_blob(s, 0);
		int n = sqlite3_column_bytes(s, 0);

		if (v == NULL || n < 1 || n > STORE_META_VALUE_MAX) {
			set_err(q->msg, sizeof(q->msg), "store %s: malformed metadata "
				"value %s; restore from backup", q->path, name);
			rc = PP_ERR_STORE;
		} else if ((size_t)n > cap) {
			*len = (size_t)n;
			set_err(q->msg, sizeof(q->msg), "metadata value %s is %d bytes, "
				"more than the %zu asked for", name, n, cap);
			rc = PP_ERR_TOO_LONG;
		} else {
			memcpy(value, v, (size_t)n);
			*len = (size_t)n;
		}
	} else if (step == SQLITE_DONE) {
		set_err(q->msg, sizeof(q->msg), "store %s holds no %s", q->path, name);
		rc = PP_ERR_NOT_FOUND;
	} else {
		rc = db_fail(q, "cannot read metadata");
	}
	sqlite3_finalize(s);
	return rc;
}

/* Run one metadata write (no rows returned). */
static pp_err meta_write(struct sqlite_store *q, const char *sql, const char *name,
			 const uint8_t *value, size_t len, const char *what)
{
	sqlite3_stmt *s;
	pp_err rc = meta_prepare(q, sql, name, value, len, &s);

	if (rc != PP_OK)
		return rc;
	rc = sqlite3_step(s) == SQLITE_DONE ? PP_OK : db_fail(q, what);
	sqlite3_finalize(s);
	return rc;
}

#define META_UPSERT "INSERT INTO meta (name, value) VALUES (?1, ?2)" \
		    " ON CONFLICT (name) DO UPDATE SET value = excluded.value"

static pp_err sq_meta_get(void *impl, const char *name, uint8_t *value,
			  size_t cap, size_t *len)
{
	return meta_read(impl, name, value, cap, len);
}

static pp_err sq_meta_set(void *impl, const char *name, const uint8_t *value,
			  size_t len)
{
	/* One statement: it commits (durably) on its own. */
	return meta_write(impl, META_UPSERT, name, value, len,
			  "cannot write metadata");
}

static pp_err sq_meta_bind(void *impl, const char *name, const uint8_t *value,
			   size_t len, enum store_bind *out)
{
	struct sqlite_store *q = impl;
	uint8_t have[STORE_META_VALUE_MAX];
	size_t have_len = 0;
	int64_t users;
	pp_err rc = tx_begin(q);

	if (rc != PP_OK)
		return rc;
	rc = meta_read(q, name, have, sizeof(have), &have_len);
	if (rc == PP_OK) {
		*out = have_len == len && sodium_memcmp(have, value, len) == 0
			       ? STORE_BIND_MATCH : STORE_BIND_MISMATCH;
		rc = tx_commit(q);
		goto done;
	}
	if (rc != PP_ERR_NOT_FOUND)
		goto done;
	users = query_int(q, "SELECT count(*) FROM users");
	if (users < 0) {
		rc = PP_ERR_STORE;
		goto done;
	}
	rc = meta_write(q, "INSERT INTO meta (name, value) VALUES (?1, ?2)", name,
			value, len, "cannot record metadata");
	if (rc == PP_OK)
		rc = tx_commit(q);
	if (rc == PP_OK)
		*out = users > 0 ? STORE_BIND_ADOPTED : STORE_BIND_RECORDED;
done:
	if (rc != PP_OK)
		tx_rollback(q);
	pp_wipe(have, sizeof(have));
	return rc;
}

static pp_err sq_holds_data(void *impl, bool *holds)
{
	struct sqlite_store *q = impl;
	int64_t n = query_int(q, "SELECT (SELECT count(*) FROM users) +"
			      " (SELECT count(*) FROM meta)");

	if (n < 0)
		return PP_ERR_STORE;
	*holds = n > 0;
	return PP_OK;
}

static pp_err sq_history_forget_all(void *impl, const char *name,
				    const uint8_t *value, size_t len,
				    struct store_forgotten *out)
{
	struct sqlite_store *q = impl;
	int64_t entries, users;
	pp_err rc = tx_begin(q);

	if (rc != PP_OK)
		return rc;
	entries = query_int(q, "SELECT count(*) FROM history");
	users = query_int(q, "SELECT count(DISTINCT user) FROM history");
	if (entries < 0 || users < 0) {
		rc = PP_ERR_STORE;
		goto fail;
	}
	if (sqlite3_exec(q->db, "DELETE FROM history;"
			 " UPDATE users SET history_count = 0;", NULL, NULL,
			 NULL) != SQLITE_OK) {
		rc = db_fail(q, "cannot forget the password history");
		goto fail;
	}
	if ((rc = meta_write(q, META_UPSERT, name, value, len,
			     "cannot write metadata")) != PP_OK ||
	    (rc = tx_commit(q)) != PP_OK)
		goto fail;
	out->users = (size_t)users;
	out->entries = (size_t)entries;
	return PP_OK;
fail:
	tx_rollback(q);
	return rc;
}

static const char *sq_errmsg(void *impl)
{
	struct sqlite_store *q = impl;

	return q->msg;
}

static void sq_close(void *impl)
{
	struct sqlite_store *q = impl;

	if (q == NULL)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(q->st[i]);
	sqlite3_close(q->db);
	free(q);
}

static const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.user_get = sq_user_get,
	.user_ensure = sq_user_ensure,
	.history_get = sq_history_get,
	.history_add = sq_history_add,
	.set_must_change = sq_set_must_change,
	.adopt_last_change = sq_adopt_last_change,
	.forget = sq_forget,
	.foreach_user = sq_foreach_user,
	.user_count = sq_user_count,
	.last_login_set = sq_last_login_set,
	.backup = sq_backup,
	.meta_get = sq_meta_get,
	.meta_set = sq_meta_set,
	.meta_bind = sq_meta_bind,
	.holds_data = sq_holds_data,
	.history_forget_all = sq_history_forget_all,
	.errmsg = sq_errmsg,
	.close = sq_close,
};

/* ---- opening ------------------------------------------------------------ */

/*
 * Create the store file 0600 if absent; an existing one must pass the
 * secret-file rule (fsutil.h) like the pepper does.
 */
static pp_err check_file(const char *path, char *err, size_t errlen)
{
	bool created = true;
	int saved;
	pp_err rc;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		      0600);

	if (fd < 0 && errno == EEXIST) {
		created = false;
		fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	}
	if (fd < 0) {
		saved = errno;
		set_err(err, errlen, "cannot open store %s: %s%s", path,
			strerror(saved), saved == ELOOP ?
			" (a symbolic link is not accepted)" : "");
		return saved == ELOOP ? PP_ERR_INVALID : PP_ERR_IO;
	}
	/* 0600 whatever the umask said. */
	if (created && fchmod(fd, 0600) != 0) {
		saved = errno;
		set_err(err, errlen, "cannot chmod store %s: %s", path,
			strerror(saved));
		close(fd);
		return PP_ERR_IO;
	}
	rc = fsutil_secret_file_check(fd, "store", path, FSUTIL_ANY_SIZE, err,
				      errlen);
	close(fd);
	if (rc != PP_OK)
		return rc;
	if (created && fsutil_fsync_parent(path) != PP_OK) {
		saved = errno;
		set_err(err, errlen, "cannot sync the directory of %s: %s", path,
			strerror(saved));
		return PP_ERR_IO;
	}
	return PP_OK;
}

/* Run a query that yields one integer; -1 with err set on failure. */
static int64_t query_int(struct sqlite_store *q, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(q->db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	else
		db_fail(q, sql);
	sqlite3_finalize(s);
	return v;
}

static pp_err check_integrity(struct sqlite_store *q, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char found[256] = "";
	int step, rows = 0;

	if (sqlite3_prepare_v2(q->db, "PRAGMA integrity_check(5)", -1, &s,
			       NULL) != SQLITE_OK) {
		snprintf(found, sizeof(found), "%s", sqlite3_errmsg(q->db));
		sqlite3_finalize(s);
		goto bad;
	}
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(s, 0);
		if (rows++ == 0 && line && strcmp(line, "ok") == 0)
			continue;
		size_t used = strlen(found);
		snprintf(found + used, sizeof(found) - used, "%s%s",
			 used ? "; " : "", line ? line : "?");
	}
	if (step != SQLITE_DONE)
		snprintf(found, sizeof(found), "%s", sqlite3_errmsg(q->db));
	sqlite3_finalize(s);
	if (found[0] == '\0')
		return PP_OK;
bad:
	set_err(err, errlen, "store %s failed its integrity check: %s; restore "
		"it from a backup (or move it away to start with an empty store)",
		q->path, found);
	return PP_ERR_STORE;
}

static pp_err migrate(struct sqlite_store *q, int from, char *err, size_t errlen)
{
	char app_sql[64];

	snprintf(app_sql, sizeof(app_sql), "PRAGMA application_id = %d",
		 STORE_APPLICATION_ID);
	for (int v = from; v < SCHEMA_VERSION; v++) {
		char sql[64];
		char *emsg = NULL;
		int64_t now_version;

		if (sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, &emsg) != SQLITE_OK)
			goto fail;
		/* Another daemon may have migrated meanwhile. */
		now_version = query_int(q, "PRAGMA user_version");
		if (now_version < 0)
			goto fail;
		if (now_version > v) {
			v = (int)now_version - 1;
			if (sqlite3_exec(q->db, "COMMIT", NULL, NULL, &emsg) != SQLITE_OK)
				goto fail;
			continue;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (sqlite3_exec(q->db, migrations[v], NULL, NULL, &emsg) != SQLITE_OK ||
		    sqlite3_exec(q->db, sql, NULL, NULL, &emsg) != SQLITE_OK ||
		    (v == 0 && sqlite3_exec(q->db, app_sql, NULL, NULL,
					    &emsg) != SQLITE_OK) ||
		    sqlite3_exec(q->db, "COMMIT", NULL, NULL, &emsg) != SQLITE_OK)
			goto fail;
		continue;
fail:
		set_err(err, errlen, "store %s: cannot migrate the schema from "
			"version %d to %d: %s", q->path, v, v + 1,
			emsg ? emsg : sqlite3_errmsg(q->db));
		sqlite3_free(emsg);
		if (!sqlite3_get_autocommit(q->db))
			sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		return PP_ERR_STORE;
	}
	return PP_OK;
}

static pp_err exec_pragma(struct sqlite_store *q, const char *sql,
			  const char *expect, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int step;
	pp_err rc = PP_OK;

	if (sqlite3_prepare_v2(q->db, sql, -1, &s, NULL) != SQLITE_OK) {
		step = SQLITE_ERROR;
	} else {
		while ((step = sqlite3_step(s)) == SQLITE_ROW)
			if (expect && strcasecmp((const char *)sqlite3_column_text(s, 0)
						 ? (const char *)sqlite3_column_text(s, 0)
						 : "", expect) != 0)
				step = SQLITE_MISMATCH;
	}
	if (step != SQLITE_DONE) {
		set_err(err, errlen, "store %s: %s failed: %s", q->path, sql,
			step == SQLITE_MISMATCH ? "setting not accepted"
						: sqlite3_errmsg(q->db));
		rc = PP_ERR_STORE;
	}
	sqlite3_finalize(s);
	return rc;
}

static pp_err open_db(struct sqlite_store *q, bool verify, char *err,
		      size_t errlen)
{
	int64_t version, app_id, tables;
	pp_err rc;

	if (sqlite3_open_v2(q->path, &q->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
			    SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		set_err(err, errlen, "cannot open store %s: %s", q->path,
			q->db ? sqlite3_errmsg(q->db) : "out of memory");
		return q->db ? PP_ERR_STORE : PP_ERR_NOMEM;
	}
	sqlite3_extended_result_codes(q->db, 1);
	sqlite3_busy_timeout(q->db, STORE_BUSY_TIMEOUT_MS);
	sqlite3_db_config(q->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(q->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);

	if (verify && (rc = check_integrity(q, err, errlen)) != PP_OK)
		return rc;
	version = query_int(q, "PRAGMA user_version");
	app_id = query_int(q, "PRAGMA application_id");
	tables = query_int(q, "SELECT count(*) FROM sqlite_schema");
	if (version < 0 || app_id < 0 || tables < 0) {
		set_err(err, errlen, "%s", q->msg);
		return PP_ERR_STORE;
	}
	if ((app_id != 0 && app_id != STORE_APPLICATION_ID) ||
	    (version == 0 && tables != 0)) {
		set_err(err, errlen, "%s is not a pam_policy store (it holds "
			"other data); move it away", q->path);
		return PP_ERR_STORE;
	}
	if (version > SCHEMA_VERSION) {
		set_err(err, errlen, "store %s has schema version %lld, newer than "
			"the %d this pam_policyd knows; install the newer "
			"pam_policy or restore an older backup", q->path,
			(long long)version, SCHEMA_VERSION);
		return PP_ERR_INVALID;
	}
	if ((rc = exec_pragma(q, "PRAGMA journal_mode = WAL", "wal", err,
			      errlen)) != PP_OK ||
	    (rc = exec_pragma(q, "PRAGMA synchronous = FULL", NULL, err,
			      errlen)) != PP_OK ||
	    (rc = exec_pragma(q, "PRAGMA foreign_keys = ON", NULL, err,
			      errlen)) != PP_OK)
		return rc;
	if ((rc = migrate(q, (int)version, err, errlen)) != PP_OK)
		return rc;
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(q->db, stmt_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &q->st[i],
				       NULL) != SQLITE_OK) {
			set_err(err, errlen, "store %s: cannot prepare a query: %s",
				q->path, sqlite3_errmsg(q->db));
			return PP_ERR_STORE;
		}
	}
	return PP_OK;
}

static pp_err open_sqlite(const char *dir, bool verify, struct store **out,
			  char *err, size_t errlen)
{
	struct sqlite_store *q;
	pp_err rc;

	if (out == NULL)
		return PP_ERR_INVALID;
	*out = NULL;
	if (dir == NULL || *dir == '\0') {
		set_err(err, errlen, "no store directory given");
		return PP_ERR_INVALID;
	}
	set_err(err, errlen, "%s", "");
	q = calloc(1, sizeof(*q));
	if (q == NULL) {
		set_err(err, errlen, "out of memory");
		return PP_ERR_NOMEM;
	}
	if (paths_state_file(q->path, sizeof(q->path), dir,
			     PATHS_STORE_SQLITE) != PP_OK) {
		set_err(err, errlen, "store directory %s: path too long", dir);
		free(q);
		return PP_ERR_TOO_LONG;
	}
	/*
	 * A shared handle skips the file check: the first open made it, and
	 * an open(2)+close(2) of a database file this process holds open
	 * drops all of the process's POSIX locks on it, so that another
	 * process closing the database could delete the WAL under us.
	 */
	if ((rc = fsutil_private_dir(dir, false, FSUTIL_STATE_DIR_MODE, err,
				     errlen)) != PP_OK ||
	    (verify && (rc = check_file(q->path, err, errlen)) != PP_OK) ||
	    (rc = open_db(q, verify, err, errlen)) != PP_OK) {
		sq_close(q);
		return rc;
	}
	rc = store_create(&sqlite_ops, q, out);
	if (rc != PP_OK)
		set_err(err, errlen, "out of memory");
	return rc;
}

pp_err store_open_sqlite(const char *dir, struct store **out,
			 char *err, size_t errlen)
{
	return open_sqlite(dir, true, out, err, errlen);
}

pp_err store_open_sqlite_shared(const char *dir, struct store **out,
				char *err, size_t errlen)
{
	return open_sqlite(dir, false, out, err, errlen);
}

/*
 * ---- the fleet's replica and outbox (store.h; store_pg.c) ----
 *
 * Not on the path of a status: the statements are prepared on the spot.
 */

static struct sqlite_store *replica_of(struct store *r)
{
	return store_backend_impl(r, &sqlite_ops);
}

/* Prepare sql on q; PP_ERR_STORE (message set) on failure. */
static pp_err prepare(struct sqlite_store *q, const char *sql, sqlite3_stmt **out)
{
	*out = NULL;
	if (sqlite3_prepare_v2(q->db, sql, -1, out, NULL) != SQLITE_OK) {
		pp_err rc = db_fail(q, "cannot prepare a replica query");
		sqlite3_finalize(*out);
		*out = NULL;
		return rc;
	}
	return PP_OK;
}

/* Step a statement prepared by prepare() that returns no rows; finalize it. */
static pp_err run_once(struct sqlite_store *q, sqlite3_stmt *s, const char *what)
{
	pp_err rc = sqlite3_step(s) == SQLITE_DONE ? PP_OK : db_fail(q, what);

	sqlite3_finalize(s);
	return rc;
}

pp_err store_replica_relaxed(struct store *r)
{
	struct sqlite_store *q = replica_of(r);

	if (q == NULL)
		return PP_ERR_INVALID;
	if (sqlite3_exec(q->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(q, "cannot relax synchronous");
	return PP_OK;
}

/* The outbox's columns; an old outbox is copied into them (in this order). */
#define OUTBOX_COLUMNS "("						\
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"			\
	"  rid TEXT NOT NULL UNIQUE,"					\
	"  kind INTEGER NOT NULL CHECK (kind IN (1, 2, 3)),"		\
	"  user TEXT NOT NULL,"						\
	"  created INTEGER NOT NULL,"					\
	"  initial_last_change INTEGER NOT NULL DEFAULT 0,"		\
	"  must_change INTEGER NOT NULL DEFAULT 0,"			\
	"  salt BLOB NOT NULL CHECK (length(salt) = 16),"		\
	"  keep INTEGER NOT NULL DEFAULT 0,"				\
	"  keep_skeletons INTEGER NOT NULL DEFAULT 0,"			\
	"  hash BLOB CHECK (hash IS NULL OR length(hash) = 32),"	\
	"  opslimit INTEGER NOT NULL DEFAULT 0,"			\
	"  memlimit INTEGER NOT NULL DEFAULT 0,"			\
	"  skeleton BLOB CHECK (skeleton IS NULL OR length(skeleton) = 32)," \
	"  skeleton_opslimit INTEGER NOT NULL DEFAULT 0,"		\
	"  skeleton_memlimit INTEGER NOT NULL DEFAULT 0,"		\
	"  reason TEXT NOT NULL DEFAULT '' CHECK (length(reason) <= 32)" \
	")"
#define OUTBOX_OLD_COLUMNS "id, rid, kind, user, created, initial_last_change," \
	" must_change, salt, keep, keep_skeletons, hash, opslimit, memlimit, skeleton," \
	" skeleton_opslimit, skeleton_memlimit"

pp_err store_replica_prepare(struct store *r)
{
	struct sqlite_store *q = replica_of(r);

	if (q == NULL)
		return PP_ERR_INVALID;
	if (sqlite3_exec(q->db, "CREATE TABLE IF NOT EXISTS outbox " OUTBOX_COLUMNS ";",
			 NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(q, "cannot create the outbox");
	/*
	 * An outbox made before skeletons had their own cost: its items'
	 * skeletons were made with the entry's (0 below says so).
	 */
	if (query_int(q, "SELECT count(*) FROM pragma_table_info('outbox')"
		      " WHERE name = 'skeleton_opslimit'") == 0 &&
	    sqlite3_exec(q->db,
			 "BEGIN IMMEDIATE;"
			 "ALTER TABLE outbox ADD COLUMN skeleton_opslimit INTEGER NOT NULL"
			 "  DEFAULT 0;"
			 "ALTER TABLE outbox ADD COLUMN skeleton_memlimit INTEGER NOT NULL"
			 "  DEFAULT 0;"
			 "COMMIT;", NULL, NULL, NULL) != SQLITE_OK) {
		pp_err rc = db_fail(q, "cannot add the skeleton cost to the outbox");
		tx_rollback(q);
		return rc;
	}
	/*
	 * An outbox made before flags were queued (kind 3): its CHECK takes
	 * kinds 1 and 2 only, so its items move into a new table.
	 */
	if (query_int(q, "SELECT count(*) FROM pragma_table_info('outbox')"
		      " WHERE name = 'reason'") == 0 &&
	    sqlite3_exec(q->db,
			 "BEGIN IMMEDIATE;"
			 "ALTER TABLE outbox RENAME TO outbox_before_flags;"
			 "CREATE TABLE outbox " OUTBOX_COLUMNS ";"
			 "INSERT INTO outbox (" OUTBOX_OLD_COLUMNS ") SELECT "
			 OUTBOX_OLD_COLUMNS " FROM outbox_before_flags ORDER BY id;"
			 "DROP TABLE outbox_before_flags;"
			 "COMMIT;", NULL, NULL, NULL) != SQLITE_OK) {
		pp_err rc = db_fail(q, "cannot make the outbox take flags");
		tx_rollback(q);
		return rc;
	}
	return PP_OK;
}

static pp_err outbox_insert(struct sqlite_store *q, const struct store_outbox_item *ob)
{
	sqlite3_stmt *s;
	const struct store_entry *e = ob->has_entry ? &ob->entry : NULL;
	pp_err rc = prepare(q, "INSERT INTO outbox (rid, kind, user, created,"
			    " initial_last_change, must_change, salt, keep, keep_skeletons,"
			    " hash, opslimit, memlimit, skeleton, skeleton_opslimit,"
			    " skeleton_memlimit, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
			    " ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)", &s);
	bool skel = e != NULL && e->has_skeleton;

	if (rc != PP_OK)
		return rc;
	if ((rc = bind_text(q, s, 1, ob->rid)) != PP_OK ||
	    (rc = bind_int(q, s, 2, ob->kind)) != PP_OK ||
	    (rc = bind_text(q, s, 3, ob->user)) != PP_OK ||
	    (rc = bind_int(q, s, 4, ob->when)) != PP_OK ||
	    (rc = bind_int(q, s, 5, ob->initial_last_change)) != PP_OK ||
	    (rc = bind_int(q, s, 6, ob->must_change)) != PP_OK ||
	    (rc = bind_blob(q, s, 7, ob->salt, HASH_SALT_BYTES)) != PP_OK ||
	    (rc = bind_int(q, s, 8, ob->keep)) != PP_OK ||
	    (rc = bind_int(q, s, 9, ob->keep_skeletons)) != PP_OK ||
	    (e != NULL && (rc = bind_blob(q, s, 10, e->hash, HASH_BYTES)) != PP_OK) ||
	    (rc = bind_int(q, s, 11, e != NULL ? (int64_t)e->opslimit : 0)) != PP_OK ||
	    (rc = bind_int(q, s, 12, e != NULL ? (int64_t)e->memlimit : 0)) != PP_OK ||
	    (skel && (rc = bind_blob(q, s, 13, e->skeleton, HASH_BYTES)) != PP_OK) ||
	    (rc = bind_int(q, s, 14, skel ? (int64_t)e->skeleton_opslimit : 0)) != PP_OK ||
	    (rc = bind_int(q, s, 15, skel ? (int64_t)e->skeleton_memlimit : 0)) != PP_OK ||
	    (rc = bind_text(q, s, 16, ob->kind == STORE_OUTBOX_FLAG ? ob->reason : "")) != PP_OK) {
		sqlite3_finalize(s);
		return rc;
	}
	return run_once(q, s, "cannot queue in the outbox");
}

pp_err store_replica_ensure(struct store *r, const char *name, int64_t now,
			    int64_t initial_last_change, bool must_change,
			    const uint8_t salt[HASH_SALT_BYTES],
			    const struct store_outbox_item *ob,
			    struct store_user *user)
{
	struct sqlite_store *q = replica_of(r);
	sqlite3_stmt *s;
	pp_err rc;

	if (q == NULL)
		return PP_ERR_INVALID;
	if ((rc = tx_begin(q)) != PP_OK)
		return rc;
	s = stmt(q, ST_USER_INSERT);
	if ((rc = bind_text(q, s, 1, name)) != PP_OK ||
	    (rc = bind_blob(q, s, 2, salt, HASH_SALT_BYTES)) != PP_OK ||
	    (rc = bind_int(q, s, 3, initial_last_change)) != PP_OK ||
	    (rc = bind_int(q, s, 4, now)) != PP_OK ||
	    (rc = bind_int(q, s, 5, must_change)) != PP_OK ||
	    (rc = step_done(q, s, "cannot add user")) != PP_OK)
		goto fail;
	sqlite3_clear_bindings(s);
	if (ob != NULL && sqlite3_changes(q->db) > 0 &&
	    (rc = outbox_insert(q, ob)) != PP_OK)
		goto fail;
	if ((rc = tx_commit(q)) != PP_OK)
		goto fail;
	return user != NULL ? sq_user_get(q, name, user) : PP_OK;
fail:
	sqlite3_clear_bindings(q->st[ST_USER_INSERT]);
	tx_rollback(q);
	return rc;
}

pp_err store_replica_record(struct store *r, const char *name,
			    const struct store_entry *e, int keep, int keep_skeletons,
			    int64_t now, store_record_decide decide, void *ctx,
			    const struct store_outbox_item *ob, bool *recorded)
{
	struct sqlite_store *q = replica_of(r);

	*recorded = false;
	if (q == NULL)
		return PP_ERR_INVALID;
	return history_add_tx(q, name, keep > 0 ? e : NULL, keep, keep_skeletons, now,
			      decide, ctx, ob, recorded);
}

pp_err store_replica_flag(struct store *r, const char *name, const char *reason,
			  int64_t now, const uint8_t salt[HASH_SALT_BYTES],
			  const struct store_outbox_item *ob)
{
	struct sqlite_store *q = replica_of(r);
	sqlite3_stmt *s;
	pp_err rc;

	if (q == NULL)
		return PP_ERR_INVALID;
	if ((rc = tx_begin(q)) != PP_OK)
		return rc;
	s = stmt(q, ST_USER_SET_MUST);
	if ((rc = bind_text(q, s, 1, name)) != PP_OK ||
	    (rc = bind_blob(q, s, 2, salt, HASH_SALT_BYTES)) != PP_OK ||
	    (rc = bind_int(q, s, 3, now)) != PP_OK ||
	    (rc = bind_int(q, s, 4, 1)) != PP_OK ||
	    (rc = bind_text(q, s, 5, reason)) != PP_OK ||
	    (rc = step_done(q, s, "cannot set the forced-change flag")) != PP_OK)
		goto fail;
	sqlite3_clear_bindings(s);
	if ((rc = outbox_insert(q, ob)) != PP_OK || (rc = tx_commit(q)) != PP_OK)
		goto fail;
	return PP_OK;
fail:
	sqlite3_clear_bindings(q->st[ST_USER_SET_MUST]);
	tx_rollback(q);
	return rc;
}

static pp_err put_entry(struct sqlite_store *q, const char *name,
			const struct store_entry *e)
{
	sqlite3_stmt *s = stmt(q, ST_HISTORY_INSERT);
	pp_err rc;

	if ((rc = bind_text(q, s, 1, name)) != PP_OK ||
	    (rc = bind_blob(q, s, 2, e->hash, HASH_BYTES)) != PP_OK ||
	    (rc = bind_int(q, s, 3, (int64_t)e->opslimit)) != PP_OK ||
	    (rc = bind_int(q, s, 4, (int64_t)e->memlimit)) != PP_OK ||
	    (rc = bind_int(q, s, 5, e->created)) != PP_OK ||
	    (e->has_skeleton && (rc = bind_blob(q, s, 6, e->skeleton, HASH_BYTES)) != PP_OK) ||
	    (e->has_skeleton && e->skeleton_opslimit > 0 &&
	     ((rc = bind_int(q, s, 7, (int64_t)e->skeleton_opslimit)) != PP_OK ||
	      (rc = bind_int(q, s, 8, (int64_t)e->skeleton_memlimit)) != PP_OK))) {
		sqlite3_clear_bindings(s);
		return rc;
	}
	rc = step_done(q, s, "cannot add history entry");
	sqlite3_clear_bindings(s);
	return rc;
}

/*
 * The skeleton cost of an outbox item's entry from columns col, col + 1;
 * 0 (the entry's own) when absent or not a cost.
 */
static void outbox_skeleton_cost(sqlite3_stmt *s, int col, struct store_entry *e)
{
	int64_t ops = sqlite3_column_int64(s, col), mem = sqlite3_column_int64(s, col + 1);

	if (e->has_skeleton && ops > 0 && mem > 0 && (uint64_t)mem <= SIZE_MAX) {
		e->skeleton_opslimit = (unsigned long long)ops;
		e->skeleton_memlimit = (size_t)mem;
	} else {
		e->skeleton_opslimit = 0;
		e->skeleton_memlimit = 0;
	}
}

/*
 * The user's outbox records and flags not yet replayed, in order, on top
 * of the database's rows.
 */
static pp_err reapply_outbox(struct sqlite_store *q, const struct store_user *u)
{
	sqlite3_stmt *s;
	pp_err rc = prepare(q, "SELECT created, hash, opslimit, memlimit, skeleton,"
			    " skeleton_opslimit, skeleton_memlimit, kind, reason FROM outbox"
			    " WHERE user = ?1 AND kind IN (2, 3) AND salt = ?2 ORDER BY id", &s);
	int step;

	if (rc != PP_OK)
		return rc;
	if ((rc = bind_text(q, s, 1, u->name)) != PP_OK ||
	    (rc = bind_blob(q, s, 2, u->salt, HASH_SALT_BYTES)) != PP_OK) {
		sqlite3_finalize(s);
		return rc;
	}
	while (rc == PP_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_entry e;
		int64_t when = sqlite3_column_int64(s, 0);
		sqlite3_stmt *up;

		if (sqlite3_column_int(s, 7) == STORE_OUTBOX_FLAG) {
			/* A flag stays unless a change was recorded after it. */
			if ((rc = prepare(q, "UPDATE users SET must_change = 1,"
					  " must_change_reason = ?3 WHERE name = ?1 AND"
					  " last_change <= ?2", &up)) != PP_OK)
				break;
			if ((rc = bind_text(q, up, 1, u->name)) != PP_OK ||
			    (rc = bind_int(q, up, 2, when)) != PP_OK ||
			    (rc = bind_text(q, up, 3, sqlite3_column_text(s, 8) != NULL
					    ? (const char *)sqlite3_column_text(s, 8)
					    : STORE_REASON_BREACHED)) != PP_OK)
				sqlite3_finalize(up);
			else
				rc = run_once(q, up, "cannot apply an outbox flag");
			continue;
		}
		if (sqlite3_column_type(s, 1) == SQLITE_BLOB &&
		    sqlite3_column_bytes(s, 1) == HASH_BYTES) {
			memset(&e, 0, sizeof(e));
			memcpy(e.hash, sqlite3_column_blob(s, 1), HASH_BYTES);
			e.opslimit = (unsigned long long)sqlite3_column_int64(s, 2);
			e.memlimit = (size_t)sqlite3_column_int64(s, 3);
			e.created = when;
			e.has_skeleton = sqlite3_column_type(s, 4) == SQLITE_BLOB &&
					 sqlite3_column_bytes(s, 4) == HASH_BYTES;
			if (e.has_skeleton)
				memcpy(e.skeleton, sqlite3_column_blob(s, 4), HASH_BYTES);
			outbox_skeleton_cost(s, 5, &e);
			rc = put_entry(q, u->name, &e);
			pp_wipe(&e, sizeof(e));
		}
		if (rc == PP_OK &&
		    (rc = prepare(q, "UPDATE users SET last_change = max(last_change, ?2),"
				  " must_change = 0, must_change_reason = '' WHERE name = ?1",
				  &up)) == PP_OK) {
			if ((rc = bind_text(q, up, 1, u->name)) != PP_OK ||
			    (rc = bind_int(q, up, 2, when)) != PP_OK)
				sqlite3_finalize(up);
			else
				rc = run_once(q, up, "cannot apply an outbox record");
		}
	}
	if (rc == PP_OK && step != SQLITE_DONE)
		rc = db_fail(q, "cannot read the outbox");
	sqlite3_finalize(s);
	return rc;
}

static pp_err seq_write(struct sqlite_store *q, int64_t seq)
{
	char text[24];
	int n = snprintf(text, sizeof(text), "%lld", (long long)seq);

	return meta_write(q, META_UPSERT, STORE_META_FLEET_SEQ, (const uint8_t *)text,
			  (size_t)n, "cannot record the applied change");
}

static pp_err seq_read(struct sqlite_store *q, int64_t *seq)
{
	uint8_t v[32];
	size_t len = 0;
	char text[33];
	pp_err rc = meta_read(q, STORE_META_FLEET_SEQ, v, sizeof(v) - 1, &len);

	*seq = 0;
	if (rc == PP_ERR_NOT_FOUND)
		return PP_OK;
	if (rc != PP_OK)
		return rc;
	memcpy(text, v, len);
	text[len] = '\0';
	*seq = strtoll(text, NULL, 10);
	return PP_OK;
}

pp_err store_replica_put(struct store *r, const struct store_user *u,
			 const struct store_entry *entries, size_t n, int64_t seq)
{
	struct sqlite_store *q = replica_of(r);
	sqlite3_stmt *s;
	int64_t have = 0;
	pp_err rc;

	if (q == NULL)
		return PP_ERR_INVALID;
	if ((rc = tx_begin(q)) != PP_OK)
		return rc;
	if ((rc = prepare(q, "INSERT INTO users (name, salt, last_change, first_seen,"
			  " must_change, must_change_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
			  " ON CONFLICT (name) DO UPDATE SET salt = excluded.salt,"
			  " last_change = excluded.last_change, first_seen ="
			  " excluded.first_seen, must_change = excluded.must_change,"
			  " must_change_reason = excluded.must_change_reason", &s)) != PP_OK)
		goto fail;
	if ((rc = bind_text(q, s, 1, u->name)) != PP_OK ||
	    (rc = bind_blob(q, s, 2, u->salt, HASH_SALT_BYTES)) != PP_OK ||
	    (rc = bind_int(q, s, 3, u->last_change)) != PP_OK ||
	    (rc = bind_int(q, s, 4, u->first_seen)) != PP_OK ||
	    (rc = bind_int(q, s, 5, u->must_change)) != PP_OK ||
	    (rc = bind_text(q, s, 6, u->must_change ? u->must_change_reason : "")) != PP_OK) {
		sqlite3_finalize(s);
		goto fail;
	}
	if ((rc = run_once(q, s, "cannot replicate a user")) != PP_OK)
		goto fail;
	s = stmt(q, ST_HISTORY_DELETE);
	if ((rc = bind_text(q, s, 1, u->name)) != PP_OK ||
	    (rc = step_done(q, s, "cannot replace history")) != PP_OK)
		goto fail;
	/* Oldest first, so that the local order (id) is newest last. */
	for (size_t i = n; i-- > 0;)
		if ((rc = put_entry(q, u->name, &entries[i])) != PP_OK)
			goto fail;
	if ((rc = reapply_outbox(q, u)) != PP_OK)
		goto fail;
	if ((rc = prepare(q, "UPDATE users SET history_count = (SELECT count(*) FROM"
			  " history WHERE user = ?1) WHERE name = ?1", &s)) != PP_OK)
		goto fail;
	if ((rc = bind_text(q, s, 1, u->name)) != PP_OK) {
		sqlite3_finalize(s);
		goto fail;
	}
	if ((rc = run_once(q, s, "cannot count history")) != PP_OK)
		goto fail;
	if (seq > 0 && ((rc = seq_read(q, &have)) != PP_OK ||
			(seq > have && (rc = seq_write(q, seq)) != PP_OK)))
		goto fail;
	if ((rc = tx_commit(q)) != PP_OK)
		goto fail;
	return PP_OK;
fail:
	sqlite3_clear_bindings(q->st[ST_HISTORY_DELETE]);
	tx_rollback(q);
	return rc;
}

pp_err store_replica_seq(struct store *r, int64_t *seq)
{
	struct sqlite_store *q = replica_of(r);

	*seq = 0;
	return q == NULL ? PP_ERR_INVALID : seq_read(q, seq);
}

pp_err store_replica_set_seq(struct store *r, int64_t seq)
{
	struct sqlite_store *q = replica_of(r);

	return q == NULL ? PP_ERR_INVALID : seq_write(q, seq);
}

pp_err store_replica_reset(struct store *r)
{
	struct sqlite_store *q = replica_of(r);

	if (q == NULL)
		return PP_ERR_INVALID;
	if (sqlite3_exec(q->db, "BEGIN IMMEDIATE; DELETE FROM history; DELETE FROM users;"
			 " DELETE FROM outbox; DELETE FROM meta WHERE name IN"
			 " ('" STORE_META_FLEET_SEQ "', '" STORE_META_FLEET_ID "',"
			 " '" STORE_META_PEPPER_CHECK "'); COMMIT;",
			 NULL, NULL, NULL) != SQLITE_OK) {
		pp_err rc = db_fail(q, "cannot reset the replica");
		tx_rollback(q);
		return rc;
	}
	return PP_OK;
}

pp_err store_outbox_first(struct store *r, struct store_outbox_item *out)
{
	struct sqlite_store *q = replica_of(r);
	sqlite3_stmt *s;
	pp_err rc;
	int step;

	if (q == NULL)
		return PP_ERR_INVALID;
	rc = prepare(q, "SELECT id, rid, kind, user, created, initial_last_change,"
		     " must_change, salt, keep, keep_skeletons, hash, opslimit, memlimit,"
		     " skeleton, skeleton_opslimit, skeleton_memlimit, reason FROM outbox"
		     " ORDER BY id LIMIT 1", &s);
	if (rc != PP_OK)
		return rc;
	memset(out, 0, sizeof(*out));
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		const char *rid = (const char *)sqlite3_column_text(s, 1);
		const char *user = (const char *)sqlite3_column_text(s, 3);
		const char *reason;

		if (rid == NULL || user == NULL || strlen(rid) > STORE_RID_MAX ||
		    strlen(user) > PP_NAME_MAX ||
		    sqlite3_column_bytes(s, 7) != HASH_SALT_BYTES) {
			set_err(q->msg, sizeof(q->msg), "store %s: malformed outbox item",
				q->path);
			rc = PP_ERR_STORE;
		} else {
			out->id = sqlite3_column_int64(s, 0);
			snprintf(out->rid, sizeof(out->rid), "%s", rid);
			out->kind = (enum store_outbox_kind)sqlite3_column_int(s, 2);
			snprintf(out->user, sizeof(out->user), "%s", user);
			out->when = sqlite3_column_int64(s, 4);
			out->initial_last_change = sqlite3_column_int64(s, 5);
			out->must_change = sqlite3_column_int(s, 6) != 0;
			memcpy(out->salt, sqlite3_column_blob(s, 7), HASH_SALT_BYTES);
			out->keep = sqlite3_column_int(s, 8);
			out->keep_skeletons = sqlite3_column_int(s, 9);
			out->has_entry = sqlite3_column_type(s, 10) == SQLITE_BLOB &&
					 sqlite3_column_bytes(s, 10) == HASH_BYTES;
			if (out->has_entry) {
				memcpy(out->entry.hash, sqlite3_column_blob(s, 10), HASH_BYTES);
				out->entry.opslimit = (unsigned long long)sqlite3_column_int64(s, 11);
				out->entry.memlimit = (size_t)sqlite3_column_int64(s, 12);
				out->entry.created = out->when;
				out->entry.has_skeleton = sqlite3_column_type(s, 13) == SQLITE_BLOB &&
							  sqlite3_column_bytes(s, 13) == HASH_BYTES;
				if (out->entry.has_skeleton)
					memcpy(out->entry.skeleton, sqlite3_column_blob(s, 13),
					       HASH_BYTES);
				outbox_skeleton_cost(s, 14, &out->entry);
			}
			reason = (const char *)sqlite3_column_text(s, 16);
			if (out->kind == STORE_OUTBOX_FLAG && reason != NULL &&
			    strlen(reason) <= STORE_REASON_MAX)
				snprintf(out->reason, sizeof(out->reason), "%s", reason);
		}
	} else if (step == SQLITE_DONE) {
		rc = PP_ERR_NOT_FOUND;
	} else {
		rc = db_fail(q, "cannot read the outbox");
	}
	sqlite3_finalize(s);
	return rc;
}

pp_err store_outbox_delete(struct store *r, int64_t id)
{
	struct sqlite_store *q = replica_of(r);
	sqlite3_stmt *s;
	pp_err rc;

	if (q == NULL)
		return PP_ERR_INVALID;
	if ((rc = prepare(q, "DELETE FROM outbox WHERE id = ?1", &s)) != PP_OK)
		return rc;
	if ((rc = bind_int(q, s, 1, id)) != PP_OK) {
		sqlite3_finalize(s);
		return rc;
	}
	return run_once(q, s, "cannot drop a replayed outbox item");
}

pp_err store_outbox_count(struct store *r, size_t *n)
{
	struct sqlite_store *q = replica_of(r);
	int64_t v;

	*n = 0;
	if (q == NULL)
		return PP_ERR_INVALID;
	v = query_int(q, "SELECT count(*) FROM outbox");
	if (v < 0)
		return PP_ERR_STORE;
	*n = (size_t)v;
	return PP_OK;
}
