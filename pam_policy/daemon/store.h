/*
 * store.h - the daemon's state: per-user salt, aging facts, password history.
 *
 * A small backend-independent interface: callers hold an opaque struct
 * store and never see SQL. The default backend is SQLite (store_sqlite.c);
 * the fleet backend (store_pg.c, store_pg.h) shares one PostgreSQL
 * database between hosts through a local SQLite replica, by implementing
 * struct store_ops (at the end of this file) and store_open_postgresql,
 * without touching any caller.
 *
 * Common contract of every function below:
 * - Times are UTC seconds since the epoch (int64_t); 0 means "never".
 * - User names are 1..PP_NAME_MAX bytes without NUL (bounds.h); others give
 *   PP_ERR_INVALID (empty, NULL) or PP_ERR_TOO_LONG.
 * - A handle is used by one thread at a time (the caller serialises, or
 *   opens one handle per thread: several handles, also in several
 *   processes, may share one store).
 * - A write that returns PP_OK is committed and on disk (durable across a
 *   crash of the process or of the machine).
 * - On failure nothing was changed (each write is one transaction), and
 *   store_errmsg() tells why. Hashes and salts never appear in messages.
 * - PP_ERR_STORE: the backend failed (I/O, corruption, busy beyond the
 *   timeout); PP_ERR_NOT_FOUND: no such user; PP_ERR_NOMEM.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_STORE_H
#define PAM_POLICY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "error.h"
#include "hash.h"

/* Old name of PP_NAME_MAX, kept for tests/unit/test_store.c. */
#define STORE_MAX_NAME PP_NAME_MAX
#define STORE_MAX_KEEP 10000    /* upper bound for store_history_add's keep */
/* Longest reason of a forced-change flag (store_flag_must_change), bytes. */
#define STORE_REASON_MAX 32
/* The reason the breach check gives (the module's auth line, breachcheck). */
#define STORE_REASON_BREACHED "breached"

struct store;

struct store_user {
	char name[PP_NAME_MAX + 1];
	uint8_t salt[HASH_SALT_BYTES];  /* shared by all of the user's entries */
	int64_t last_change;            /* 0 = never recorded */
	int64_t first_seen;             /* when the store first saw the user */
	bool must_change;               /* forced change at next login */
	char must_change_reason[STORE_REASON_MAX + 1]; /* why, when must_change:
					   "" (an administrator's expire), or
					   STORE_REASON_BREACHED */
	int history_count;              /* entries currently remembered */
	int64_t last_login;             /* last login counted (store_logins), 0 = none */
};

struct store_entry {
	uint8_t hash[HASH_BYTES];       /* hash_password() output */
	unsigned long long opslimit;    /* params the hash was made with */
	size_t memlimit;
	int64_t created;                /* when it was recorded */
	/*
	 * The hash of the password's skeleton (hash_skeleton, same params),
	 * for the similar_history check; kept only on the newest
	 * keep_skeletons entries (store_history_record_similar). Entries from
	 * before skeletons, and older ones, have none: they never match one.
	 */
	bool has_skeleton;
	uint8_t skeleton[HASH_BYTES];
	/*
	 * The argon2id cost the skeleton hash was made with: since schema 5
	 * hash_skeleton_params of the entry's own (lower, see hash.h); 0 when
	 * written means "the entry's own" (opslimit, memlimit), which is also
	 * what skeletons from before schema 5 were made with and what
	 * store_history_get reports for them.
	 */
	unsigned long long skeleton_opslimit;
	size_t skeleton_memlimit;
};

/*
 * store_open_sqlite - open (creating if needed) the SQLite store DIR/store.db.
 *
 * dir must pass fsutil's private-directory rule with FSUTIL_STATE_DIR_MODE
 * (a directory, not a symlink, owned by the effective uid, no bits beyond
 * 0700); the daemon creates it. A missing store.db (PATHS_STORE_SQLITE) is
 * created with mode 0600; an existing one must pass fsutil's secret-file
 * rule (regular, owned by the effective uid, no bits beyond 0600). The
 * database runs in WAL mode
 * with synchronous=FULL and foreign keys on; it must pass PRAGMA
 * integrity_check; an older schema is migrated step by step to the current
 * version, a newer one is refused.
 *
 * On success *out is a new handle (free it with store_close). On failure
 * *out is NULL and err (errlen bytes; may be NULL if errlen is 0) says what
 * is wrong and names the path: PP_ERR_INVALID for permissions, ownership or
 * a newer schema, PP_ERR_STORE for a corrupt or foreign file, PP_ERR_IO,
 * PP_ERR_NOT_FOUND when dir does not exist, PP_ERR_NOMEM.
 */
pp_err store_open_sqlite(const char *dir, struct store **out,
			 char *err, size_t errlen) PP_WUR;

/*
 * store_open_sqlite_shared - one more handle on a store this process has
 * already opened (and so checked) with store_open_sqlite: everything as
 * there but the integrity check, which on a large store takes seconds,
 * and the file check (its open(2) and close(2) would drop the process's
 * locks on the database, see store_sqlite.c).
 */
pp_err store_open_sqlite_shared(const char *dir, struct store **out,
				char *err, size_t errlen) PP_WUR;

/* store_close - close the handle and free it; NULL is a no-op. */
void store_close(struct store *s);

/* store_backend_name - "sqlite", ...; static string. */
const char *store_backend_name(const struct store *s);

/*
 * store_errmsg - a description of the last failure on this handle (static
 * until the next call on the handle), "" if none.
 */
const char *store_errmsg(const struct store *s);

/* store_user_get - copy the user's row into *user; PP_ERR_NOT_FOUND if absent. */
pp_err store_user_get(struct store *s, const char *name,
		      struct store_user *user) PP_WUR;

/*
 * store_user_ensure - return the user's row, creating it first when absent
 * with a fresh random salt (hash_salt_new), first_seen = now, last_change =
 * initial_last_change (0 = never; e.g. /etc/shadow's last change) and
 * must_change. An existing row is returned unchanged. user may be NULL.
 * initial_last_change must be >= 0.
 */
pp_err store_user_ensure(struct store *s, const char *name, int64_t now,
			 int64_t initial_last_change, bool must_change,
			 struct store_user *user) PP_WUR;

/*
 * store_history_get - copy up to max of the user's entries, newest (last
 * added) first, into entries[0..*n). max may be 0 (entries may then be
 * NULL). PP_ERR_NOT_FOUND if the user is absent (*n = 0).
 */
pp_err store_history_get(struct store *s, const char *name,
			 struct store_entry *entries, size_t max,
			 size_t *n) PP_WUR;

/*
 * store_history_add - record a password change, in ONE transaction: add e,
 * drop all but the newest keep entries, set last_change = now, clear
 * must_change (and its reason) and bring a first_seen later than now back to now (a clock
 * that jumped). keep is 0..STORE_MAX_KEEP; with keep 0 nothing is
 * remembered (e is not stored and may be NULL) but the clock is still
 * reset. The user must exist (its salt made e->hash): PP_ERR_NOT_FOUND
 * otherwise. e->opslimit must fit in int64_t.
 */
pp_err store_history_add(struct store *s, const char *name,
			 const struct store_entry *e, int keep,
			 int64_t now) PP_WUR;

/*
 * store_record_decide - asked by store_history_record inside its write
 * transaction, with the user's row and the user's newest entries (at most
 * keep, newest first; entries is NULL when n is 0) as they are at that
 * moment: no other writer, in this process or another, can change them
 * before the transaction ends. Returns true to record the change, false
 * to leave everything as it is. It must not use the store; it runs on
 * the caller's thread. The entries are wiped after the call.
 */
typedef bool (*store_record_decide)(const struct store_user *user,
				    const struct store_entry *entries, size_t n,
				    void *ctx);

/*
 * store_history_record - store_history_add, but decide (NULL: always
 * record) is consulted first in the same transaction, so that a rule
 * spanning a check and a record (minimum age, duplicates) holds
 * atomically per user. *recorded (not NULL) says whether the change was
 * written; when decide refused, nothing was changed and the result is
 * PP_OK. Arguments and errors as for store_history_add.
 */
pp_err store_history_record(struct store *s, const char *name,
			    const struct store_entry *e, int keep, int64_t now,
			    store_record_decide decide, void *ctx,
			    bool *recorded) PP_WUR;

/*
 * store_history_record_similar - store_history_record, and in the same
 * transaction the skeleton hash of every entry but the newest
 * keep_skeletons (0..keep) is dropped: skeletons are kept for the last
 * keep_skeletons changes only (similar_history), the entries themselves
 * for the last keep. e->has_skeleton says whether e carries one.
 * store_history_record is this with keep_skeletons = keep.
 */
pp_err store_history_record_similar(struct store *s, const char *name,
				    const struct store_entry *e, int keep,
				    int keep_skeletons, int64_t now,
				    store_record_decide decide, void *ctx,
				    bool *recorded) PP_WUR;

/*
 * store_set_must_change - set or clear the forced-change flag. A user not
 * yet in the store is created (fresh salt, first_seen = now, last_change =
 * 0) so that "expire" works before the user's first login.
 */
pp_err store_set_must_change(struct store *s, const char *name,
			     bool must_change, int64_t now) PP_WUR;

/*
 * store_flag_must_change - set the forced-change flag with a reason
 * (1..STORE_REASON_MAX bytes of [a-z_], e.g. STORE_REASON_BREACHED; else
 * PP_ERR_INVALID), kept until the next recorded change clears both. A
 * user not yet in the store is created, as for store_set_must_change
 * (whose flag has the reason "").
 */
pp_err store_flag_must_change(struct store *s, const char *name, const char *reason,
			      int64_t now) PP_WUR;

/*
 * store_adopt_last_change - set the user's last change to t when the
 * store's is older (a change made without the record line: shadow knows a
 * newer date). No history entry is added (there is no password) and the
 * forced-change flag is left as it is. PP_ERR_NOT_FOUND when the user is
 * absent or the stored date is already t or newer (nothing changed).
 */
pp_err store_adopt_last_change(struct store *s, const char *name, int64_t t) PP_WUR;

/*
 * store_forget - erase the user's password history: every entry is
 * deleted, last_change becomes 0 (never recorded), must_change false, and
 * the salt is replaced by a fresh one. The row itself stays, keeping
 * first_seen, so that forgetting does not grant a new grace period.
 * PP_ERR_NOT_FOUND if the user is absent.
 */
pp_err store_forget(struct store *s, const char *name) PP_WUR;

/*
 * store_foreach_user - call cb once per user in byte order of name, from
 * one consistent snapshot, with one query (100,000 users in a few tens of
 * milliseconds). *user is valid only during the call. cb must not use s.
 * A cb result other than PP_OK stops the walk and is returned.
 */
typedef pp_err (*store_user_cb)(const struct store_user *user, void *ctx);
pp_err store_foreach_user(struct store *s, store_user_cb cb, void *ctx) PP_WUR;

/* store_user_count - number of users in the store. */
pp_err store_user_count(struct store *s, size_t *count) PP_WUR;

/*
 * store_backup - write a consistent copy of the store to path while it is
 * in use (other handles may keep writing). The copy is written beside path
 * under a temporary name with mode 0600, synced, then renamed over path,
 * so path is either the old file or a complete backup. The copy is a
 * self-contained database (rollback-journal mode) that store_open can
 * read once placed as DIR/store.db.
 */
pp_err store_backup(struct store *s, const char *path) PP_WUR;

/*
 * ---- Metadata: values bound to the store --------------------------------
 *
 * A small table of named values that belong to the store as a whole, not
 * to a user: the check values of the secrets the data depends on (the
 * pepper's: hash_pepper_check_value), so that a daemon started with a
 * lost or different secret refuses the store instead of silently matching
 * nothing. Names are 1..STORE_META_NAME_MAX bytes, values
 * 1..STORE_META_VALUE_MAX bytes; others give PP_ERR_INVALID /
 * PP_ERR_TOO_LONG. Values are check values, never secrets themselves.
 */
#define STORE_META_NAME_MAX 64
#define STORE_META_VALUE_MAX 256
#define STORE_META_PEPPER_CHECK "pepper_check"  /* hash_pepper_check_value */

/*
 * store_meta_get - copy the value stored under name into value[0..*len)
 * (cap bytes). PP_ERR_NOT_FOUND when there is none (*len = 0);
 * PP_ERR_TOO_LONG when it does not fit in cap (*len = its length).
 */
pp_err store_meta_get(struct store *s, const char *name, uint8_t *value,
		      size_t cap, size_t *len) PP_WUR;

/* store_meta_set - store value[0..len) under name, replacing any other. */
pp_err store_meta_set(struct store *s, const char *name, const uint8_t *value,
		      size_t len) PP_WUR;

/* What store_meta_bind found. */
enum store_bind {
	STORE_BIND_MATCH,     /* the store holds this value under name */
	STORE_BIND_MISMATCH,  /* it holds another value: nothing was written */
	STORE_BIND_RECORDED,  /* it held none and no users: value recorded */
	STORE_BIND_ADOPTED,   /* it held none but has users (a store from
				 before binding): value recorded */
};

/*
 * store_meta_bind - in one transaction: compare value with the one stored
 * under name (constant time), or, when there is none, record it. *out says
 * which (see enum store_bind). Several daemons binding one (shared) store
 * at once agree on the first value recorded.
 */
pp_err store_meta_bind(struct store *s, const char *name, const uint8_t *value,
		       size_t len, enum store_bind *out) PP_WUR;

/*
 * store_holds_data - *holds = the store has a user or a metadata value:
 * something a lost secret would make useless.
 */
pp_err store_holds_data(struct store *s, bool *holds) PP_WUR;

struct store_forgotten {
	size_t users;     /* users who had at least one remembered password */
	size_t entries;   /* history entries deleted */
};

/*
 * store_history_forget_all - in ONE transaction: delete every user's
 * password history (history_count becomes 0) and store value under name
 * (replacing any other). Every user's row and aging state (salt,
 * last_change, first_seen, must_change) stays: only the hashes go. For a
 * new pepper, which makes every remembered hash unmatchable: the history
 * is forgotten together with the new pepper's check value, so that the
 * store never holds entries that silently match nothing. out (may be
 * NULL) receives what was deleted.
 */
pp_err store_history_forget_all(struct store *s, const char *name,
				const uint8_t *value, size_t len,
				struct store_forgotten *out) PP_WUR;

/*
 * ---- Last logins: counted in memory, written in batches ----------------
 *
 * A login must cost no disk write in the account phase, so logins are
 * noted in a store_logins buffer (memory, one lock) and written by
 * store_logins_flush, one transaction per flush; what is read back
 * (store_logins_last) is the later of the buffer and the store.
 */
struct store_login {
	char name[PP_NAME_MAX + 1];
	int64_t when;
};

/*
 * store_last_login_set - in ONE transaction, set each named user's
 * last_login to the later of its stored value and v[i].when. Users not in
 * the store are skipped (a login is noted only for known users). n may be
 * 0 (v may then be NULL).
 */
pp_err store_last_login_set(struct store *s, const struct store_login *v,
			    size_t n) PP_WUR;

#define STORE_LOGINS_MAX 65536  /* users with a login not yet written */

struct store_logins;

/* store_logins_new - an empty buffer; NULL when out of memory. */
struct store_logins *store_logins_new(void);

/* store_logins_free - release l (pending logins are lost); NULL is a no-op. */
void store_logins_free(struct store_logins *l);

/*
 * store_logins_note - name (1..PP_NAME_MAX bytes) logged in at when. False
 * when the buffer already holds STORE_LOGINS_MAX other users (the login is
 * not counted: flush sooner) or memory ran out. Thread-safe.
 */
bool store_logins_note(struct store_logins *l, const char *name, int64_t when);

/*
 * store_logins_last - the later of stored (the store's last_login) and the
 * login of name the buffer holds, 0 when neither knows one. Thread-safe.
 */
int64_t store_logins_last(struct store_logins *l, const char *name, int64_t stored);

/*
 * store_logins_flush - write every login in l to s (store_last_login_set,
 * one transaction) and drop from l those that did not change meanwhile;
 * on failure they stay for the next flush. *written (may be NULL)
 * receives how many were written. Thread-safe against note and last; one
 * flush at a time (the writer thread).
 */
pp_err store_logins_flush(struct store_logins *l, struct store *s,
			  size_t *written) PP_WUR;

/*
 * ---- For backends only -------------------------------------------------
 *
 * A backend implements these operations on its own handle (impl). store.c
 * validates every argument (names, NULLs, ranges) before dispatching, so
 * backends receive only well-formed input. After a failure, errmsg(impl)
 * describes it (never with secrets); close(impl) frees the handle.
 */
struct store_ops {
	const char *name;
	pp_err (*user_get)(void *impl, const char *name, struct store_user *u);
	pp_err (*user_ensure)(void *impl, const char *name, int64_t now,
			      int64_t initial_last_change, bool must_change,
			      struct store_user *u);
	pp_err (*history_get)(void *impl, const char *name,
			      struct store_entry *entries, size_t max, size_t *n);
	pp_err (*history_add)(void *impl, const char *name,
			      const struct store_entry *e, int keep,
			      int keep_skeletons, int64_t now,
			      store_record_decide decide, void *ctx, bool *recorded);
	pp_err (*set_must_change)(void *impl, const char *name, bool must_change,
				  const char *reason, int64_t now);
	pp_err (*adopt_last_change)(void *impl, const char *name, int64_t t);
	pp_err (*forget)(void *impl, const char *name);
	pp_err (*foreach_user)(void *impl, store_user_cb cb, void *ctx);
	pp_err (*user_count)(void *impl, size_t *count);
	pp_err (*backup)(void *impl, const char *path);
	pp_err (*meta_get)(void *impl, const char *name, uint8_t *value,
			   size_t cap, size_t *len);
	pp_err (*meta_set)(void *impl, const char *name, const uint8_t *value,
			   size_t len);
	pp_err (*meta_bind)(void *impl, const char *name, const uint8_t *value,
			    size_t len, enum store_bind *out);
	pp_err (*holds_data)(void *impl, bool *holds);
	pp_err (*history_forget_all)(void *impl, const char *name,
				     const uint8_t *value, size_t len,
				     struct store_forgotten *out);
	pp_err (*last_login_set)(void *impl, const struct store_login *v, size_t n);
	const char *(*errmsg)(void *impl);
	void (*close)(void *impl);
};

/*
 * store_create - wrap a backend handle into a store. On success the store
 * owns impl and *out is set; on failure (PP_ERR_NOMEM) impl is closed.
 */
pp_err store_create(const struct store_ops *ops, void *impl,
		    struct store **out) PP_WUR;

/*
 * store_backend_errmsg - the backend's own description of its last
 * failure: for the functions below, which reach the backend directly
 * (store_errmsg describes calls made through this file).
 */
const char *store_backend_errmsg(const struct store *s);

/* store_backend_impl - s's backend handle when s runs on ops, else NULL. */
void *store_backend_impl(struct store *s, const struct store_ops *ops);

/*
 * ---- The fleet's local replica (SQLite, used by store_pg.c) ------------
 *
 * With store = postgresql every host keeps a SQLite store in its state
 * directory as a replica of the rows it needs (users and their history),
 * plus an outbox: the writes accepted while the fleet's database was
 * unreachable, in order, replayed when it returns. The functions below
 * take a handle from store_open_sqlite(_shared) and give PP_ERR_INVALID
 * for any other. Each is one transaction, durable on return
 * (synchronous=FULL).
 */
#define STORE_RID_MAX 96          /* bytes of a record id, NUL excluded */
#define STORE_META_FLEET_SEQ "fleet_seq"  /* last change applied, decimal */
#define STORE_META_FLEET_ID "fleet_id"    /* the fleet database's identity */

enum store_outbox_kind {
	STORE_OUTBOX_ENSURE = 1,    /* a user first seen during the outage */
	STORE_OUTBOX_RECORD = 2,    /* a password change */
	STORE_OUTBOX_FLAG = 3,      /* a forced change with a reason (the breach
				       check at login), unless a later change */
};

struct store_outbox_item {
	int64_t id;                         /* local order (set on read) */
	char rid[STORE_RID_MAX + 1];        /* unique across the fleet */
	enum store_outbox_kind kind;
	char user[PP_NAME_MAX + 1];
	int64_t when;                       /* the write's time */
	int64_t initial_last_change;        /* ENSURE */
	bool must_change;                   /* ENSURE */
	uint8_t salt[HASH_SALT_BYTES];      /* the user's salt the write saw */
	int keep, keep_skeletons;           /* RECORD */
	bool has_entry;                     /* RECORD: entry is set */
	struct store_entry entry;
	char reason[STORE_REASON_MAX + 1];  /* FLAG */
};

/*
 * store_replica_prepare - create the outbox table if the store has none
 * (a SQLite store becomes a replica the first time the daemon runs with
 * store = postgresql).
 */
pp_err store_replica_prepare(struct store *r) PP_WUR;

/*
 * store_replica_relaxed - this handle commits without waiting for the disk
 * (synchronous=NORMAL; still atomic, and in order): for the replication
 * thread, whose writes the database can always give again (the applied
 * sequence is in the same transactions, so a lost commit is re-applied)
 * and whose outbox deletions, if lost, only replay an item again, which
 * the database ignores. Never for a handle that acknowledges records.
 */
pp_err store_replica_relaxed(struct store *r) PP_WUR;

/*
 * store_replica_ensure - store_user_ensure with the given salt, and, when
 * the user was created and ob is not NULL, ob queued in the outbox, in one
 * transaction.
 */
pp_err store_replica_ensure(struct store *r, const char *name, int64_t now,
			    int64_t initial_last_change, bool must_change,
			    const uint8_t salt[HASH_SALT_BYTES],
			    const struct store_outbox_item *ob,
			    struct store_user *user) PP_WUR;

/*
 * store_replica_record - store_history_record_similar on the replica and,
 * when the change is recorded, ob queued in the outbox, in one transaction.
 */
pp_err store_replica_record(struct store *r, const char *name,
			    const struct store_entry *e, int keep, int keep_skeletons,
			    int64_t now, store_record_decide decide, void *ctx,
			    const struct store_outbox_item *ob, bool *recorded) PP_WUR;

/*
 * store_replica_flag - store_flag_must_change on the replica (a user not
 * yet there is created with salt) and ob queued in the outbox, in one
 * transaction.
 */
pp_err store_replica_flag(struct store *r, const char *name, const char *reason,
			  int64_t now, const uint8_t salt[HASH_SALT_BYTES],
			  const struct store_outbox_item *ob) PP_WUR;

/*
 * store_replica_put - make the replica's row and history of u->name what
 * the fleet's database holds (entries[0..n), newest first; u's
 * history_count and last_login are ignored: the count follows the
 * entries, the last login stays this host's), then apply on top the
 * outbox's records and flags of the user not yet replayed; and raise the applied
 * change sequence (STORE_META_FLEET_SEQ) to seq when seq is larger.
 * seq 0 leaves it.
 */
pp_err store_replica_put(struct store *r, const struct store_user *u,
			 const struct store_entry *entries, size_t n,
			 int64_t seq) PP_WUR;

/* store_replica_seq - the applied change sequence (0: none yet). */
pp_err store_replica_seq(struct store *r, int64_t *seq) PP_WUR;

/* store_replica_set_seq - set it (also lower: a resynchronisation). */
pp_err store_replica_set_seq(struct store *r, int64_t seq) PP_WUR;

/*
 * store_replica_reset - forget every user, history entry, outbox item and
 * the applied sequence: the replica of another fleet database.
 */
pp_err store_replica_reset(struct store *r) PP_WUR;

/* store_outbox_first - the oldest outbox item; PP_ERR_NOT_FOUND when empty. */
pp_err store_outbox_first(struct store *r, struct store_outbox_item *out) PP_WUR;

/* store_outbox_delete - drop the item with that id (replayed). */
pp_err store_outbox_delete(struct store *r, int64_t id) PP_WUR;

/* store_outbox_count - items waiting. */
pp_err store_outbox_count(struct store *r, size_t *n) PP_WUR;

#endif
