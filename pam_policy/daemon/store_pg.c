/*
 * store_pg.c - the fleet backend (store_pg.h): PostgreSQL through libpq,
 * a local SQLite replica, a durable outbox and the replication thread.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "store_pg.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <syslog.h>
#include <sys/stat.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "policy.h"
#include "secret.h"

#define PG_CHANNEL "pam_policy_changes"
#define PG_MIGRATION_LOCK 0x70706f6c0001LL   /* pg_advisory_lock key: schema */
#define PG_CHANGE_LOCK "123628207996930"    /* pg_advisory_xact_lock: seq order */
#define PG_CONNECT_TIMEOUT "5"               /* seconds, unless the conninfo says */
#define PG_TCP_USER_TIMEOUT_MS "4000"        /* unacknowledged data: the link is gone */
#define PG_BACKOFF_MIN_MS 250
#define PG_BACKOFF_MAX_MS 8000
#define PG_RESYNC_MS 30000          /* catch up this often even without NOTIFY */
#define PG_CHANGES_BATCH 500
#define PG_MAX_PARAMS 10
#define FLEET_ID_BYTES 32
/* Entries copied per user: the deepest history a policy can keep. */
#define PG_SYNC_ENTRIES (POLICY_MAX_HISTORY + 1)
_Static_assert(PG_SYNC_ENTRIES <= STORE_MAX_KEEP, "replica copies fit a store");

/*
 * Schema migrations, as for the SQLite store: step i takes schema_version
 * i to i+1, each run under the migration lock. Never edit a released step.
 */
static const char *const pg_migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE pam_policy_users ("
	"  name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 255),"
	"  salt bytea NOT NULL CHECK (length(salt) = 16),"
	"  last_change bigint NOT NULL DEFAULT 0,"
	"  first_seen bigint NOT NULL,"
	"  must_change boolean NOT NULL DEFAULT false,"
	"  history_count integer NOT NULL DEFAULT 0);"
	"CREATE TABLE pam_policy_history ("
	"  id bigserial PRIMARY KEY,"
	"  rid text NOT NULL UNIQUE,"
	"  user_name text NOT NULL REFERENCES pam_policy_users(name) ON DELETE CASCADE,"
	"  hash bytea NOT NULL CHECK (length(hash) = 32),"
	"  opslimit bigint NOT NULL,"
	"  memlimit bigint NOT NULL,"
	"  created bigint NOT NULL,"
	"  skeleton bytea CHECK (skeleton IS NULL OR length(skeleton) = 32),"
	"  host text NOT NULL);"
	"CREATE INDEX pam_policy_history_by_user ON pam_policy_history(user_name, created, id);"
	"CREATE TABLE pam_policy_changes ("
	"  seq bigserial PRIMARY KEY,"
	"  user_name text NOT NULL,"
	"  host text NOT NULL,"
	"  at bigint NOT NULL,"
	"  kind text NOT NULL);"
	"CREATE TABLE pam_policy_logins ("
	"  user_name text NOT NULL REFERENCES pam_policy_users(name) ON DELETE CASCADE,"
	"  host text NOT NULL,"
	"  last_login bigint NOT NULL,"
	"  PRIMARY KEY (user_name, host));",
	/*
	 * 1 -> 2: why a user must change ("" for an administrator's expire and
	 * every flag from before this step, "breached" from the breach check;
	 * cleared with the flag by the next recorded change), and the argon2id
	 * cost of each skeleton hash (NULL: the entry's own, as every skeleton
	 * from before this step was made). The SQLite store's steps 4 -> 6.
	 */
	"ALTER TABLE pam_policy_users ADD COLUMN must_change_reason text NOT NULL"
	"  DEFAULT '' CHECK (length(must_change_reason) <= 32);"
	"ALTER TABLE pam_policy_history"
	"  ADD COLUMN skeleton_opslimit bigint CHECK (skeleton_opslimit > 0),"
	"  ADD COLUMN skeleton_memlimit bigint CHECK (skeleton_memlimit > 0);",
};
/* Step 1 -> 2 fixed the reason bound in SQL; changing it needs a new step. */
_Static_assert(STORE_REASON_MAX == 32, "must_change_reason CHECK in migration 1 -> 2");
#define PG_SCHEMA_VERSION ((int)(sizeof(pg_migrations) / sizeof(pg_migrations[0])))

enum pg_stmt {
	Q_USER_GET,
	Q_USER_LOCK,
	Q_USER_INSERT,
	Q_HISTORY_GET,
	Q_HISTORY_INSERT,
	Q_HISTORY_PRUNE,
	Q_SKELETON_PRUNE,
	Q_USER_RECORDED,
	Q_CHANGE_LOCK,
	Q_CHANGE,
	Q_SET_MUST,
	Q_FLAG_REPLAYED,
	Q_ADOPT,
	Q_FORGET_USER,
	Q_FORGET_HISTORY,
	Q_CHANGES_SINCE,
	Q_LOGIN,
	Q_META_GET,
	Q_META_INSERT,
	Q_META_UPSERT,
	Q_HOLDS,
	Q_COUNT
};

#define PG_USER_COLS "salt, last_change, first_seen, must_change, history_count," \
	" must_change_reason"
/* Newest first: by change time, then by arrival. */
#define PG_NEWEST "ORDER BY created DESC, id DESC"

static const char *const pg_sql[Q_COUNT] = {
	[Q_USER_GET] = "SELECT " PG_USER_COLS " FROM pam_policy_users WHERE name = $1",
	[Q_USER_LOCK] = "SELECT " PG_USER_COLS " FROM pam_policy_users WHERE name = $1"
			" FOR UPDATE",
	[Q_USER_INSERT] =
		"INSERT INTO pam_policy_users (name, salt, last_change, first_seen,"
		" must_change, must_change_reason) VALUES ($1, $2, $3, $4, $5, $6)"
		" ON CONFLICT (name) DO NOTHING",
	[Q_HISTORY_GET] =
		"SELECT hash, opslimit, memlimit, created, skeleton, skeleton_opslimit,"
		" skeleton_memlimit FROM pam_policy_history WHERE user_name = $1 " PG_NEWEST " LIMIT $2",
	[Q_HISTORY_INSERT] =
		"INSERT INTO pam_policy_history (rid, user_name, hash, opslimit, memlimit,"
		" created, skeleton, host, skeleton_opslimit, skeleton_memlimit)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
		" ON CONFLICT (rid) DO NOTHING",
	[Q_HISTORY_PRUNE] =
		"DELETE FROM pam_policy_history WHERE user_name = $1 AND id NOT IN"
		" (SELECT id FROM pam_policy_history WHERE user_name = $1 " PG_NEWEST
		" LIMIT $2)",
	[Q_SKELETON_PRUNE] =
		"UPDATE pam_policy_history SET skeleton = NULL WHERE user_name = $1 AND"
		" skeleton IS NOT NULL AND id NOT IN (SELECT id FROM pam_policy_history"
		" WHERE user_name = $1 " PG_NEWEST " LIMIT $2)",
	/*
	 * The newest change wins, whichever host replays last; a flag (and its
	 * reason) set after the change replayed stays.
	 */
	[Q_USER_RECORDED] =
		"UPDATE pam_policy_users SET must_change = (must_change AND last_change > $2),"
		" must_change_reason = CASE WHEN must_change AND last_change > $2"
		" THEN must_change_reason ELSE '' END,"
		" last_change = GREATEST(last_change, $2), first_seen = LEAST(first_seen, $2),"
		" history_count = (SELECT count(*) FROM pam_policy_history WHERE"
		" user_name = $1) WHERE name = $1",
	[Q_CHANGE_LOCK] = "SELECT pg_advisory_xact_lock(" PG_CHANGE_LOCK ")",
	[Q_CHANGE] =
		"WITH c AS (INSERT INTO pam_policy_changes (user_name, host, at, kind)"
		" VALUES ($1, $2, $3, $4) RETURNING seq)"
		" SELECT seq, pg_notify('" PG_CHANNEL "', seq::text) FROM c",
	[Q_SET_MUST] =
		"INSERT INTO pam_policy_users (name, salt, last_change, first_seen,"
		" must_change, must_change_reason) VALUES ($1, $2, 0, $3, $4, $5)"
		" ON CONFLICT (name) DO UPDATE SET must_change = excluded.must_change,"
		" must_change_reason = excluded.must_change_reason",
	/* A flag queued during an outage, unless a change was recorded after it. */
	[Q_FLAG_REPLAYED] =
		"UPDATE pam_policy_users SET must_change = true, must_change_reason = $2"
		" WHERE name = $1 AND last_change <= $3",
	[Q_ADOPT] = "UPDATE pam_policy_users SET last_change = $2 WHERE name = $1"
		    " AND last_change < $2",
	[Q_FORGET_USER] =
		"UPDATE pam_policy_users SET salt = $2, last_change = 0, must_change = false,"
		" must_change_reason = '', history_count = 0 WHERE name = $1",
	[Q_FORGET_HISTORY] = "DELETE FROM pam_policy_history WHERE user_name = $1",
	[Q_CHANGES_SINCE] =
		"SELECT seq, user_name FROM pam_policy_changes WHERE seq > $1 ORDER BY seq"
		" LIMIT 500",
	[Q_LOGIN] =
		"INSERT INTO pam_policy_logins (user_name, host, last_login)"
		" SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM pam_policy_users WHERE"
		" name = $1) ON CONFLICT (user_name, host) DO UPDATE SET last_login ="
		" GREATEST(pam_policy_logins.last_login, excluded.last_login)",
	[Q_META_GET] = "SELECT value FROM pam_policy_meta WHERE name = $1",
	[Q_META_INSERT] = "INSERT INTO pam_policy_meta (name, value) VALUES ($1, $2)"
			  " ON CONFLICT (name) DO NOTHING",
	[Q_META_UPSERT] = "INSERT INTO pam_policy_meta (name, value) VALUES ($1, $2)"
			  " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
	[Q_HOLDS] = "SELECT (SELECT count(*) FROM pam_policy_users) +"
		    " (SELECT count(*) FROM pam_policy_meta WHERE name = '"
		    STORE_META_PEPPER_CHECK "')",
};
_Static_assert(PG_CHANGES_BATCH == 500, "LIMIT in Q_CHANGES_SINCE");

/* The fleet state one process shares between its handles. */
struct fleet {
	pthread_mutex_t lock;
	int refs;                        /* under g_lock */
	char conninfo[1024];
	char passfile[PATH_MAX];
	char host[64];
	char state_dir[PATH_MAX];
	int statement_timeout_ms;
	uint8_t fleet_id[FLEET_ID_BYTES];
	/* under lock */
	PGconn *wconn;                   /* the writers' connection */
	int64_t retry_at_ms;             /* no new writer connection before */
	int backoff_ms;
	int64_t degraded_since;          /* UTC seconds; 0 = in sync */
	char reason[256];
	int64_t replica_seq;
	size_t outbox;
	bool stop;
	/* the replication thread */
	struct store *sync_replica;      /* its own replica handle */
	pthread_t thread;
	bool started;
	int wake_fd;
	uint64_t rid_counter;            /* under lock */
	uint8_t rid_prefix[8];           /* random per process */
};

struct pg_store {
	struct fleet *f;
	struct store *replica;           /* this handle's own */
	char msg[512];
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fleet *g_fleet;        /* under g_lock */

static const struct store_ops pg_ops;

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libpq's message without its trailing newline. */
static void pq_reason(PGconn *c, const PGresult *r, char *out, size_t len)
{
	const char *m = r ? PQresultErrorMessage(r) : "";
	size_t n;

	if (m == NULL || *m == '\0')
		m = c ? PQerrorMessage(c) : "no connection";
	snprintf(out, len, "%s", m && *m ? m : "unknown error");
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
}

/*
 * Is this failure the database going away (so the write goes to the
 * outbox) rather than a refusal of the write itself? A lost connection,
 * a server shutting down or starting, a statement that ran out of time.
 */
static bool pq_lost(PGconn *c, const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (c == NULL || PQstatus(c) != CONNECTION_OK)
		return true;
	if (state == NULL)
		return r == NULL;
	return strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
	       strcmp(state, "57014") == 0 || strcmp(state, "53300") == 0;
}

/* ---- parameters and results ---- */

struct params {
	const char *v[PG_MAX_PARAMS];
	int len[PG_MAX_PARAMS];
	int fmt[PG_MAX_PARAMS];
	char num[PG_MAX_PARAMS][24];
	int n;
};

static void p_text(struct params *p, const char *s)
{
	p->v[p->n] = s;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

static void p_int(struct params *p, int64_t v)
{
	snprintf(p->num[p->n], sizeof(p->num[p->n]), "%lld", (long long)v);
	p_text(p, p->num[p->n]);
}

/* A bigint, or SQL NULL when v is 0 (a skeleton cost: "the entry's own"). */
static void p_int_or_null(struct params *p, int64_t v)
{
	if (v != 0) {
		p_int(p, v);
		return;
	}
	p->v[p->n] = NULL;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

static void p_bool(struct params *p, bool v)
{
	p_text(p, v ? "t" : "f");
}

/* The skeleton hash's cost of e, NULL twice when there is no skeleton to keep. */
static void p_skeleton_cost(struct params *p, const struct store_entry *e, bool kept)
{
	p_int_or_null(p, kept ? (int64_t)e->skeleton_opslimit : 0);
	p_int_or_null(p, kept && e->skeleton_opslimit > 0 ? (int64_t)e->skeleton_memlimit : 0);
}

/* bytea, sent binary (no escaping). NULL data: SQL NULL. */
static void p_bytes(struct params *p, const void *data, int len)
{
	p->v[p->n] = data;
	p->len[p->n] = len;
	p->fmt[p->n] = 1;
	p->n++;
}

static int64_t r_int(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static bool r_bool(const PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

/* A bytea column of exactly len bytes into out (text result, hex form). */
static bool r_bytes(const PGresult *r, int row, int col, uint8_t *out, size_t len)
{
	size_t n = 0;
	unsigned char *v;
	bool ok;

	if (PQgetisnull(r, row, col))
		return false;
	v = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &n);
	if (v == NULL)
		return false;
	ok = n == len;
	if (ok)
		memcpy(out, v, len);
	pp_wipe(v, n);
	PQfreemem(v);
	return ok;
}

/* ---- connections ---- */

static pp_err pq_exec_simple(PGconn *c, const char *sql, char *why, size_t whylen)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	pp_err rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? PP_OK : PP_ERR_STORE;

	if (rc != PP_OK)
		pq_reason(c, r, why, whylen);
	PQclear(r);
	return rc;
}

/* Connect with the fleet's settings; NULL with why set on failure. */
static PGconn *pq_connect(const struct fleet *f, char *why, size_t whylen)
{
	/*
	 * expand_dbname: the conninfo is parsed in place of dbname; keywords
	 * before it are defaults it may override.
	 */
	/*
	 * tcp_user_timeout and keepalives: a database host that vanished from
	 * the network fails a statement in seconds instead of hanging it.
	 */
	const char *keys[] = { "connect_timeout", "application_name", "tcp_user_timeout",
			       "keepalives_idle", "keepalives_interval", "keepalives_count",
			       "passfile", "dbname", NULL };
	const char *vals[] = { PG_CONNECT_TIMEOUT, "pam_policyd", PG_TCP_USER_TIMEOUT_MS,
			       "10", "5", "2",
			       f->passfile[0] ? f->passfile : NULL, f->conninfo, NULL };
	char sql[96];
	PGconn *c;

	if (f->passfile[0] == '\0') {
		keys[6] = "dbname";
		vals[6] = f->conninfo;
		keys[7] = NULL;
		vals[7] = NULL;
	}
	c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		pq_reason(c, NULL, why, whylen);
		PQfinish(c);
		return NULL;
	}
	snprintf(sql, sizeof(sql), "SET client_min_messages = warning; SET statement_timeout = %d",
		 f->statement_timeout_ms);
	if (pq_exec_simple(c, sql, why, whylen) != PP_OK) {
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* Prepare every statement of pg_sql on c. */
static pp_err pq_prepare_all(PGconn *c, char *why, size_t whylen)
{
	for (int i = 0; i < Q_COUNT; i++) {
		char name[16];
		PGresult *r;

		snprintf(name, sizeof(name), "pp%d", i);
		r = PQprepare(c, name, pg_sql[i], 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			pq_reason(c, r, why, whylen);
			PQclear(r);
			return PP_ERR_STORE;
		}
		PQclear(r);
	}
	return PP_OK;
}

static PGresult *pq_run(PGconn *c, enum pg_stmt id, const struct params *p)
{
	char name[16];

	snprintf(name, sizeof(name), "pp%d", (int)id);
	return PQexecPrepared(c, name, p ? p->n : 0, p ? p->v : NULL,
			      p ? p->len : NULL, p ? p->fmt : NULL, 0);
}

/*
 * One statement of a write: PP_OK, PP_ERR_UNREACHABLE (the database went
 * away: why says how) or PP_ERR_STORE. *out (may be NULL) keeps the
 * result of a query; the caller PQclears it.
 */
static pp_err pq_step(PGconn *c, enum pg_stmt id, const struct params *p,
		      PGresult **out, char *why, size_t whylen)
{
	PGresult *r = pq_run(c, id, p);
	ExecStatusType st = PQresultStatus(r);

	if (out)
		*out = NULL;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (out)
			*out = r;
		else
			PQclear(r);
		return PP_OK;
	}
	pq_reason(c, r, why, whylen);
	{
		bool lost = pq_lost(c, r);
		PQclear(r);
		return lost ? PP_ERR_UNREACHABLE : PP_ERR_STORE;
	}
}

static void pq_rollback(PGconn *c)
{
	if (c != NULL && PQstatus(c) == CONNECTION_OK &&
	    PQtransactionStatus(c) != PQTRANS_IDLE)
		PQclear(PQexec(c, "ROLLBACK"));
}

static pp_err pq_begin(PGconn *c, char *why, size_t whylen)
{
	pp_err rc = pq_exec_simple(c, "BEGIN", why, whylen);

	if (rc != PP_OK && pq_lost(c, NULL))
		return PP_ERR_UNREACHABLE;
	return rc;
}

static pp_err pq_commit(PGconn *c, char *why, size_t whylen)
{
	PGresult *r = PQexec(c, "COMMIT");
	pp_err rc = PP_OK;

	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		pq_reason(c, r, why, whylen);
		rc = pq_lost(c, r) ? PP_ERR_UNREACHABLE : PP_ERR_STORE;
	}
	PQclear(r);
	return rc;
}

/* ---- the schema ---- */

static pp_err meta_value(PGconn *c, const char *name, uint8_t *out, size_t cap,
			 size_t *len, char *why, size_t whylen)
{
	struct params p = { .n = 0 };
	PGresult *r;
	pp_err rc;

	*len = 0;
	p_text(&p, name);
	if ((rc = pq_step(c, Q_META_GET, &p, &r, why, whylen)) != PP_OK)
		return rc;
	if (PQntuples(r) == 0) {
		rc = PP_ERR_NOT_FOUND;
	} else {
		size_t n = 0;
		unsigned char *v = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &n);

		if (v == NULL) {
			rc = PP_ERR_NOMEM;
		} else if (n > cap || n == 0) {
			snprintf(why, whylen, "malformed metadata value %s", name);
			rc = PP_ERR_STORE;
		} else {
			memcpy(out, v, n);
			*len = n;
		}
		if (v != NULL)
			PQfreemem(v);
	}
	PQclear(r);
	return rc;
}

/* The schema version; 0 when there is no schema yet (no meta table). */
static pp_err schema_version(PGconn *c, int *version, char *why, size_t whylen)
{
	PGresult *r = PQexec(c, "SELECT convert_from(value, 'UTF8') FROM pam_policy_meta"
			     " WHERE name = 'schema_version'");
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	pp_err rc = PP_OK;

	*version = 0;
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		if (PQntuples(r) == 1)
			*version = atoi(PQgetvalue(r, 0, 0));
	} else if (state == NULL || strcmp(state, "42P01") != 0) {   /* undefined_table */
		pq_reason(c, r, why, whylen);
		rc = PP_ERR_STORE;
	}
	PQclear(r);
	return rc;
}

/*
 * Create or migrate the schema. A current schema is only read, so a host
 * role without CREATE runs once an owner has made it. Otherwise the
 * session advisory lock makes daemons that start together take turns,
 * each step in its own transaction.
 */
static pp_err migrate(PGconn *c, char *why, size_t whylen)
{
	char sql[256];
	int version = 0;
	pp_err rc = schema_version(c, &version, why, whylen);

	if (rc != PP_OK || version == PG_SCHEMA_VERSION)
		return rc;
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%lld)", PG_MIGRATION_LOCK);
	if ((rc = pq_exec_simple(c, sql, why, whylen)) != PP_OK)
		return rc;
	rc = pq_exec_simple(c, "CREATE TABLE IF NOT EXISTS pam_policy_meta ("
			    " name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),"
			    " value bytea NOT NULL CHECK (length(value) BETWEEN 1 AND 256))",
			    why, whylen);
	if (rc == PP_OK)
		rc = schema_version(c, &version, why, whylen);
	if (rc == PP_OK && version > PG_SCHEMA_VERSION) {
		snprintf(why, whylen, "the fleet database has schema version %d, newer "
			 "than the %d this pam_policyd knows; upgrade pam_policy on this "
			 "host", version, PG_SCHEMA_VERSION);
		rc = PP_ERR_INVALID;
	}
	for (int v = version; rc == PP_OK && v < PG_SCHEMA_VERSION; v++) {
		snprintf(sql, sizeof(sql), "INSERT INTO pam_policy_meta (name, value) VALUES"
			 " ('schema_version', convert_to('%d', 'UTF8')) ON CONFLICT (name)"
			 " DO UPDATE SET value = excluded.value", v + 1);
		if ((rc = pq_exec_simple(c, "BEGIN", why, whylen)) == PP_OK &&
		    (rc = pq_exec_simple(c, pg_migrations[v], why, whylen)) == PP_OK &&
		    (rc = pq_exec_simple(c, sql, why, whylen)) == PP_OK)
			rc = pq_exec_simple(c, "COMMIT", why, whylen);
		if (rc != PP_OK) {
			char inner[256];
			snprintf(inner, sizeof(inner), "%s", why);
			snprintf(why, whylen, "schema %d to %d: %.200s", v, v + 1, inner);
			pq_rollback(c);
		}
	}
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%lld)", PG_MIGRATION_LOCK);
	PQclear(PQexec(c, sql));
	return rc;
}

/* The database's identity: made by the first daemon, read by the others. */
static pp_err fleet_identity(PGconn *c, uint8_t id[FLEET_ID_BYTES], char *why,
			     size_t whylen)
{
	struct params p = { .n = 0 };
	uint8_t fresh[FLEET_ID_BYTES];
	size_t len = 0;
	pp_err rc;

	/* Read first: a host role may lack INSERT on pam_policy_meta. */
	rc = meta_value(c, STORE_META_FLEET_ID, id, FLEET_ID_BYTES, &len, why, whylen);
	if (rc == PP_ERR_NOT_FOUND) {
		randombytes_buf(fresh, sizeof(fresh));
		p_text(&p, STORE_META_FLEET_ID);
		p_bytes(&p, fresh, sizeof(fresh));
		rc = pq_step(c, Q_META_INSERT, &p, NULL, why, whylen);
		if (rc == PP_OK)
			rc = meta_value(c, STORE_META_FLEET_ID, id, FLEET_ID_BYTES, &len,
					why, whylen);
	}
	if (rc == PP_OK && len != FLEET_ID_BYTES) {
		snprintf(why, whylen, "malformed fleet identity in pam_policy_meta");
		rc = PP_ERR_STORE;
	}
	return rc;
}

/* A new connection ready for statements (schema known to be current). */
static PGconn *pq_open_ready(struct fleet *f, char *why, size_t whylen)
{
	PGconn *c = pq_connect(f, why, whylen);

	if (c != NULL && pq_prepare_all(c, why, whylen) != PP_OK) {
		PQfinish(c);
		c = NULL;
	}
	return c;
}

/* ---- degraded state ---- */

static void fleet_degraded(struct fleet *f, const char *why)
{
	bool first;

	pthread_mutex_lock(&f->lock);
	first = f->degraded_since == 0;
	if (first)
		f->degraded_since = (int64_t)time(NULL);
	snprintf(f->reason, sizeof(f->reason), "%s", why);
	pthread_mutex_unlock(&f->lock);
	if (first)
		syslog(LOG_WARNING, "fleet database unreachable, serving from the local "
		       "replica (degraded): %s", why);
}

static void fleet_wake(struct fleet *f)
{
	uint64_t one = 1;

	if (f->wake_fd >= 0 && write(f->wake_fd, &one, sizeof(one)) < 0) {
		/* a full counter already wakes the thread */
	}
}

/*
 * The writers' connection, under f->lock, or NULL: the database is away
 * (and not retried before the back-off ends) or, with an outbox still
 * waiting, writes must queue behind it to keep their order.
 */
static PGconn *writer_conn(struct fleet *f, char *why, size_t whylen)
{
	int64_t now = mono_ms();

	if (f->outbox > 0) {
		snprintf(why, whylen, "earlier writes still wait in the outbox");
		return NULL;
	}
	if (f->wconn != NULL && PQstatus(f->wconn) == CONNECTION_OK)
		return f->wconn;
	if (f->wconn != NULL) {
		PQfinish(f->wconn);
		f->wconn = NULL;
	}
	/*
	 * While degraded, only the replication thread reconnects (and clears
	 * the state): a write never waits for a connection attempt.
	 */
	if ((f->started && f->degraded_since != 0) || now < f->retry_at_ms) {
		snprintf(why, whylen, "%s", f->reason[0] ? f->reason
							  : "the database is unreachable");
		return NULL;
	}
	f->wconn = pq_open_ready(f, why, whylen);
	if (f->wconn == NULL) {
		f->backoff_ms = f->backoff_ms == 0 ? PG_BACKOFF_MIN_MS
			       : (f->backoff_ms * 2 > PG_BACKOFF_MAX_MS ? PG_BACKOFF_MAX_MS
								       : f->backoff_ms * 2);
		f->retry_at_ms = now + f->backoff_ms;
		if (f->degraded_since == 0)
			f->degraded_since = (int64_t)time(NULL);
		snprintf(f->reason, sizeof(f->reason), "%s", why);
		return NULL;
	}
	f->backoff_ms = 0;
	return f->wconn;
}

/* The writer connection broke during a write: drop it, note the outage. */
static void writer_lost(struct fleet *f, const char *why)
{
	if (f->wconn != NULL) {
		PQfinish(f->wconn);
		f->wconn = NULL;
	}
	f->backoff_ms = PG_BACKOFF_MIN_MS;
	f->retry_at_ms = mono_ms() + f->backoff_ms;
	if (f->degraded_since == 0)
		f->degraded_since = (int64_t)time(NULL);
	snprintf(f->reason, sizeof(f->reason), "%s", why);
}

/* ---- rows ---- */

/* A forced-change reason (STORE_REASON_MAX bytes of [a-z_] at most) into out. */
static bool r_reason(const PGresult *r, int row, int col,
		     char out[STORE_REASON_MAX + 1])
{
	const char *v = PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
	size_t n = strlen(v);

	memset(out, 0, STORE_REASON_MAX + 1);
	if (n > STORE_REASON_MAX || strspn(v, "abcdefghijklmnopqrstuvwxyz_") != n)
		return false;
	memcpy(out, v, n);
	return true;
}

static pp_err read_user_row(const PGresult *r, int row, const char *name,
			    struct store_user *u)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", name);
	if (!r_bytes(r, row, 0, u->salt, HASH_SALT_BYTES))
		return PP_ERR_STORE;
	u->last_change = r_int(r, row, 1);
	u->first_seen = r_int(r, row, 2);
	u->must_change = r_bool(r, row, 3);
	u->history_count = (int)r_int(r, row, 4);
	return r_reason(r, row, 5, u->must_change_reason) ? PP_OK : PP_ERR_STORE;
}

/* The user's row (FOR UPDATE when lock) and newest max entries from c. */
static pp_err fetch_user(PGconn *c, const char *name, bool lock, size_t max,
			 struct store_user *u, struct store_entry *entries, size_t *n,
			 char *why, size_t whylen)
{
	struct params p = { .n = 0 };
	PGresult *r;
	pp_err rc;

	if (n)
		*n = 0;
	p_text(&p, name);
	if ((rc = pq_step(c, lock ? Q_USER_LOCK : Q_USER_GET, &p, &r, why, whylen)) != PP_OK)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return PP_ERR_NOT_FOUND;
	}
	rc = read_user_row(r, 0, name, u);
	PQclear(r);
	if (rc != PP_OK) {
		snprintf(why, whylen, "malformed row of user %s in the fleet database", name);
		return rc;
	}
	if (max == 0 || entries == NULL)
		return PP_OK;
	p_int(&p, (int64_t)max);
	if ((rc = pq_step(c, Q_HISTORY_GET, &p, &r, why, whylen)) != PP_OK)
		return rc;
	for (int i = 0; i < PQntuples(r) && (size_t)i < max; i++) {
		struct store_entry *e = &entries[*n];

		memset(e, 0, sizeof(*e));
		if (!r_bytes(r, i, 0, e->hash, HASH_BYTES)) {
			snprintf(why, whylen, "malformed history entry of user %s in the "
				 "fleet database", name);
			rc = PP_ERR_STORE;
			break;
		}
		e->opslimit = (unsigned long long)r_int(r, i, 1);
		e->memlimit = (size_t)r_int(r, i, 2);
		e->created = r_int(r, i, 3);
		e->has_skeleton = r_bytes(r, i, 4, e->skeleton, HASH_BYTES);
		/* NULL (before schema 2): made with the entry's own cost. */
		e->skeleton_opslimit = e->opslimit;
		e->skeleton_memlimit = e->memlimit;
		if (!PQgetisnull(r, i, 5) || !PQgetisnull(r, i, 6)) {
			int64_t sops = r_int(r, i, 5), smem = r_int(r, i, 6);

			if (sops <= 0 || smem <= 0 || (uint64_t)smem > SIZE_MAX) {
				snprintf(why, whylen, "malformed skeleton cost in the history "
					 "of user %s in the fleet database", name);
				rc = PP_ERR_STORE;
				break;
			}
			e->skeleton_opslimit = (unsigned long long)sops;
			e->skeleton_memlimit = (size_t)smem;
		}
		(*n)++;
	}
	PQclear(r);
	return rc;
}

/* Copy the database's state of name into replica (seq: see store_replica_put). */
static pp_err sync_user(PGconn *c, struct store *replica, const char *name,
			int64_t seq, char *why, size_t whylen)
{
	struct store_entry *entries = calloc(PG_SYNC_ENTRIES, sizeof(*entries));
	struct store_user u;
	size_t n = 0;
	pp_err rc;

	if (entries == NULL)
		return PP_ERR_NOMEM;
	rc = fetch_user(c, name, false, PG_SYNC_ENTRIES, &u, entries, &n, why, whylen);
	if (rc == PP_OK) {
		rc = store_replica_put(replica, &u, entries, n, seq);
		if (rc != PP_OK)
			snprintf(why, whylen, "replica: %s", store_backend_errmsg(replica));
	} else if (rc == PP_ERR_NOT_FOUND) {
		rc = PP_OK;     /* nothing to copy (a change row without a user) */
	}
	pp_wipe(entries, PG_SYNC_ENTRIES * sizeof(*entries));
	free(entries);
	pp_wipe(&u, sizeof(u));
	return rc;
}

/* The change row of a write (and its NOTIFY); inside the write's transaction. */
static pp_err note_change(PGconn *c, const struct fleet *f, const char *name,
			  int64_t at, const char *kind, int64_t *seq, char *why,
			  size_t whylen)
{
	struct params p = { .n = 0 };
	PGresult *r;
	pp_err rc;

	/* Sequence numbers become visible in order: see the replication loop. */
	if ((rc = pq_step(c, Q_CHANGE_LOCK, NULL, NULL, why, whylen)) != PP_OK)
		return rc;
	p_text(&p, name);
	p_text(&p, f->host);
	p_int(&p, at);
	p_text(&p, kind);
	if ((rc = pq_step(c, Q_CHANGE, &p, &r, why, whylen)) != PP_OK)
		return rc;
	if (seq)
		*seq = PQntuples(r) > 0 ? r_int(r, 0, 0) : 0;
	PQclear(r);
	return PP_OK;
}

/* A fleet-unique record id: host, a per-process random prefix, a counter. */
static void make_rid(struct fleet *f, char *out, size_t len)
{
	uint8_t tail[8];
	char hex[2 * 16 + 1];
	uint64_t n;

	pthread_mutex_lock(&f->lock);
	n = ++f->rid_counter;
	pthread_mutex_unlock(&f->lock);
	for (int i = 0; i < 8; i++)
		tail[i] = (uint8_t)(n >> (56 - 8 * i));
	sodium_bin2hex(hex, 17, f->rid_prefix, 8);
	sodium_bin2hex(hex + 16, 17, tail, 8);
	snprintf(out, len, "%s:%s", f->host, hex);
}

/*
 * A user's first salt in the fleet is derived from the database's
 * identity and the name, so that hosts which meet a user during an outage
 * all pick the same one (their outbox records then hash alike).
 */
static void fleet_salt(const struct fleet *f, const char *name,
		       uint8_t salt[HASH_SALT_BYTES])
{
	crypto_generichash_state st;
	static const char domain[] = "pam_policy fleet user salt";

	crypto_generichash_init(&st, f->fleet_id, FLEET_ID_BYTES, HASH_SALT_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)domain, sizeof(domain));
	crypto_generichash_update(&st, (const unsigned char *)name, strlen(name));
	crypto_generichash_final(&st, salt, HASH_SALT_BYTES);
}

/* ---- store_ops: reads go to the replica ---- */

static pp_err from_replica(struct pg_store *q, pp_err rc)
{
	if (rc != PP_OK)
		snprintf(q->msg, sizeof(q->msg), "%s", store_errmsg(q->replica));
	return rc;
}

/* The same for the replica functions of store.h, which bypass store.c. */
static pp_err from_replica_direct(struct pg_store *q, pp_err rc)
{
	if (rc != PP_OK)
		snprintf(q->msg, sizeof(q->msg), "replica: %s",
			 store_backend_errmsg(q->replica));
	return rc;
}

static pp_err pg_user_get(void *impl, const char *name, struct store_user *u)
{
	struct pg_store *q = impl;

	return from_replica(q, store_user_get(q->replica, name, u));
}

static pp_err pg_history_get(void *impl, const char *name, struct store_entry *entries,
			     size_t max, size_t *n)
{
	struct pg_store *q = impl;

	return from_replica(q, store_history_get(q->replica, name, entries, max, n));
}

static pp_err pg_foreach_user(void *impl, store_user_cb cb, void *ctx)
{
	struct pg_store *q = impl;

	return from_replica(q, store_foreach_user(q->replica, cb, ctx));
}

static pp_err pg_user_count(void *impl, size_t *count)
{
	struct pg_store *q = impl;

	return from_replica(q, store_user_count(q->replica, count));
}

static pp_err pg_backup(void *impl, const char *path)
{
	struct pg_store *q = impl;

	return from_replica(q, store_backup(q->replica, path));
}

static pp_err pg_meta_get(void *impl, const char *name, uint8_t *value, size_t cap,
			  size_t *len)
{
	struct pg_store *q = impl;

	return from_replica(q, store_meta_get(q->replica, name, value, cap, len));
}

/* ---- store_ops: writes ---- */

static void outbox_add_count(struct fleet *f)
{
	pthread_mutex_lock(&f->lock);
	f->outbox++;
	pthread_mutex_unlock(&f->lock);
	fleet_wake(f);
}

static pp_err pg_user_ensure(void *impl, const char *name, int64_t now,
			     int64_t initial_last_change, bool must_change,
			     struct store_user *u)
{
	struct pg_store *q = impl;
	struct fleet *f = q->f;
	struct store_outbox_item ob;
	char why[256] = "";
	PGconn *c;
	pp_err rc = store_user_get(q->replica, name, u);

	if (rc != PP_ERR_NOT_FOUND)
		return from_replica(q, rc);
	memset(&ob, 0, sizeof(ob));
	fleet_salt(f, name, ob.salt);
	pthread_mutex_lock(&f->lock);
	c = writer_conn(f, why, sizeof(why));
	if (c != NULL) {
		struct params p = { .n = 0 };
		PGresult *r = NULL;

		p_text(&p, name);
		p_bytes(&p, ob.salt, HASH_SALT_BYTES);
		p_int(&p, initial_last_change);
		p_int(&p, now);
		p_bool(&p, must_change);
		p_text(&p, "");
		if ((rc = pq_begin(c, why, sizeof(why))) == PP_OK &&
		    (rc = pq_step(c, Q_USER_INSERT, &p, &r, why, sizeof(why))) == PP_OK) {
			bool inserted = atoi(PQcmdTuples(r)) > 0;
			PQclear(r);
			if (inserted)
				rc = note_change(c, f, name, now, "user", NULL, why, sizeof(why));
			if (rc == PP_OK)
				rc = pq_commit(c, why, sizeof(why));
		}
		if (rc != PP_OK)
			pq_rollback(c);
		if (rc == PP_OK)
			rc = sync_user(c, q->replica, name, 0, why, sizeof(why));
		if (rc == PP_ERR_UNREACHABLE)
			writer_lost(f, why);
	} else {
		rc = PP_ERR_UNREACHABLE;
	}
	pthread_mutex_unlock(&f->lock);
	if (rc == PP_OK)
		return from_replica(q, store_user_get(q->replica, name, u));
	if (rc != PP_ERR_UNREACHABLE) {
		snprintf(q->msg, sizeof(q->msg), "fleet database: %s", why);
		return rc;
	}
	/* The database is away: the user starts here, the outbox tells it later. */
	make_rid(f, ob.rid, sizeof(ob.rid));
	ob.kind = STORE_OUTBOX_ENSURE;
	snprintf(ob.user, sizeof(ob.user), "%s", name);
	ob.when = now;
	ob.initial_last_change = initial_last_change;
	ob.must_change = must_change;
	rc = store_replica_ensure(q->replica, name, now, initial_last_change, must_change,
				  ob.salt, &ob, u);
	pp_wipe(&ob, sizeof(ob));
	if (rc == PP_OK)
		outbox_add_count(f);
	return from_replica_direct(q, rc);
}

/* Record in the database: decide under FOR UPDATE, then write, in one transaction. */
static pp_err record_in_db(struct pg_store *q, PGconn *c, const char *name,
			   const struct store_entry *e, int keep, int keep_skeletons,
			   int64_t now, store_record_decide decide, void *ctx,
			   const char *rid, bool *recorded, char *why, size_t whylen)
{
	struct fleet *f = q->f;
	struct store_user u, local;
	struct store_entry *entries = NULL;
	size_t n = 0;
	struct params p = { .n = 0 };
	pp_err rc = pq_begin(c, why, whylen);

	if (rc != PP_OK)
		return rc;
	if (keep > 0 && (entries = calloc((size_t)keep, sizeof(*entries))) == NULL) {
		rc = PP_ERR_NOMEM;
		goto out;
	}
	rc = fetch_user(c, name, true, decide ? (size_t)keep : 0, &u, entries, &n, why,
			whylen);
	if (rc == PP_ERR_NOT_FOUND) {
		/* Known here but not yet there (met during an outage): add it. */
		if ((rc = store_user_get(q->replica, name, &local)) != PP_OK) {
			snprintf(why, whylen, "%s", store_errmsg(q->replica));
			goto out;
		}
		p_text(&p, name);
		p_bytes(&p, local.salt, HASH_SALT_BYTES);
		p_int(&p, local.last_change);
		p_int(&p, local.first_seen);
		p_bool(&p, local.must_change);
		p_text(&p, local.must_change ? local.must_change_reason : "");
		rc = pq_step(c, Q_USER_INSERT, &p, NULL, why, whylen);
		pp_wipe(&local, sizeof(local));
		p.n = 0;
		if (rc == PP_OK)
			rc = fetch_user(c, name, true, decide ? (size_t)keep : 0, &u, entries,
					&n, why, whylen);
	}
	if (rc != PP_OK)
		goto out;
	if (decide != NULL && !decide(&u, n > 0 ? entries : NULL, n, ctx))
		goto out;       /* refused: nothing written, rolled back below */
	if (e != NULL) {
		p_text(&p, rid);
		p_text(&p, name);
		p_bytes(&p, e->hash, HASH_BYTES);
		p_int(&p, (int64_t)e->opslimit);
		p_int(&p, (int64_t)e->memlimit);
		p_int(&p, e->created);
		p_bytes(&p, e->has_skeleton && keep_skeletons > 0 ? e->skeleton : NULL,
			e->has_skeleton && keep_skeletons > 0 ? HASH_BYTES : 0);
		p_text(&p, f->host);
		p_skeleton_cost(&p, e, e->has_skeleton && keep_skeletons > 0);
		if ((rc = pq_step(c, Q_HISTORY_INSERT, &p, NULL, why, whylen)) != PP_OK)
			goto out;
	}
	p.n = 0;
	p_text(&p, name);
	p_int(&p, keep);
	if ((rc = pq_step(c, Q_HISTORY_PRUNE, &p, NULL, why, whylen)) != PP_OK)
		goto out;
	p.n = 1;
	p_int(&p, keep_skeletons);
	if ((rc = pq_step(c, Q_SKELETON_PRUNE, &p, NULL, why, whylen)) != PP_OK)
		goto out;
	p.n = 1;
	p_int(&p, now);
	if ((rc = pq_step(c, Q_USER_RECORDED, &p, NULL, why, whylen)) != PP_OK ||
	    (rc = note_change(c, f, name, now, "record", NULL, why, whylen)) != PP_OK ||
	    (rc = pq_commit(c, why, whylen)) != PP_OK)
		goto out;
	*recorded = true;
out:
	pq_rollback(c);
	if (entries != NULL) {
		pp_wipe(entries, (size_t)keep * sizeof(*entries));
		free(entries);
	}
	pp_wipe(&u, sizeof(u));
	return rc;
}

static pp_err pg_history_add(void *impl, const char *name, const struct store_entry *e,
			     int keep, int keep_skeletons, int64_t now,
			     store_record_decide decide, void *ctx, bool *recorded)
{
	struct pg_store *q = impl;
	struct fleet *f = q->f;
	struct store_outbox_item ob;
	struct store_user local;
	char why[256] = "";
	PGconn *c;
	pp_err rc;

	memset(&ob, 0, sizeof(ob));
	make_rid(f, ob.rid, sizeof(ob.rid));
	pthread_mutex_lock(&f->lock);
	c = writer_conn(f, why, sizeof(why));
	if (c != NULL) {
		rc = record_in_db(q, c, name, e, keep, keep_skeletons, now, decide, ctx,
				  ob.rid, recorded, why, sizeof(why));
		/*
		 * Committed, or refused: the replica follows the database. A
		 * connection lost after COMMIT was sent leaves the outcome
		 * unknown: the outbox below replays it under the same rid,
		 * which the database ignores if it had it.
		 */
		if (rc == PP_OK) {
			pp_err sync = sync_user(c, q->replica, name, 0, why, sizeof(why));
			if (sync == PP_ERR_UNREACHABLE)
				writer_lost(f, why);
			else if (sync != PP_OK)
				syslog(LOG_ERR, "replica of user %s not updated: %s", name, why);
		} else if (rc == PP_ERR_UNREACHABLE) {
			writer_lost(f, why);
			*recorded = false;
		}
	} else {
		rc = PP_ERR_UNREACHABLE;
	}
	pthread_mutex_unlock(&f->lock);
	if (rc != PP_ERR_UNREACHABLE) {
		if (rc != PP_OK)
			snprintf(q->msg, sizeof(q->msg), "fleet database: %s", why);
		pp_wipe(&ob, sizeof(ob));
		return rc;
	}
	/* The outage path: the replica decides, the outbox keeps the record. */
	if ((rc = store_user_get(q->replica, name, &local)) != PP_OK) {
		pp_wipe(&ob, sizeof(ob));
		return from_replica(q, rc);
	}
	ob.kind = STORE_OUTBOX_RECORD;
	snprintf(ob.user, sizeof(ob.user), "%s", name);
	ob.when = now;
	memcpy(ob.salt, local.salt, HASH_SALT_BYTES);
	ob.keep = keep;
	ob.keep_skeletons = keep_skeletons;
	ob.has_entry = e != NULL;
	if (e != NULL) {
		ob.entry = *e;
		if (keep_skeletons == 0)
			ob.entry.has_skeleton = false;
	}
	rc = store_replica_record(q->replica, name, e, keep, keep_skeletons, now, decide,
				  ctx, &ob, recorded);
	pp_wipe(&ob, sizeof(ob));
	pp_wipe(&local, sizeof(local));
	if (rc == PP_OK && *recorded)
		outbox_add_count(f);
	return from_replica_direct(q, rc);
}

/*
 * An admin write that needs the database (expire, forget): run fn in one
 * transaction with the change row, then copy the user into the replica.
 */
typedef pp_err (*db_write_fn)(PGconn *c, const char *name, void *arg, bool *changed,
			      char *why, size_t whylen);

static pp_err admin_write(struct pg_store *q, const char *name, const char *kind,
			  db_write_fn fn, void *arg, bool *away)
{
	struct fleet *f = q->f;
	char why[256] = "";
	bool changed = true;
	PGconn *c;
	pp_err rc;

	if (away != NULL)
		*away = false;
	pthread_mutex_lock(&f->lock);
	c = writer_conn(f, why, sizeof(why));
	if (c == NULL) {
		pthread_mutex_unlock(&f->lock);
		if (away != NULL)
			*away = true;
		snprintf(q->msg, sizeof(q->msg), "the fleet database is unreachable (%s); "
			 "try again when it is back", why);
		return PP_ERR_STORE;
	}
	if ((rc = pq_begin(c, why, sizeof(why))) == PP_OK &&
	    (rc = fn(c, name, arg, &changed, why, sizeof(why))) == PP_OK &&
	    (!changed || (rc = note_change(c, f, name, (int64_t)time(NULL), kind, NULL, why,
					   sizeof(why))) == PP_OK) &&
	    (rc = pq_commit(c, why, sizeof(why))) == PP_OK)
		rc = sync_user(c, q->replica, name, 0, why, sizeof(why));
	pq_rollback(c);
	if (rc == PP_ERR_UNREACHABLE) {
		writer_lost(f, why);
		if (away != NULL)
			*away = true;
	}
	pthread_mutex_unlock(&f->lock);
	if (rc == PP_OK && !changed)
		return PP_ERR_NOT_FOUND;
	if (rc != PP_OK)
		snprintf(q->msg, sizeof(q->msg), "fleet database: %s", why);
	return rc;
}

struct must_arg {
	const struct fleet *f;
	bool must_change;
	const char *reason;     /* "" unless must_change */
	int64_t now;
};

static pp_err db_set_must(PGconn *c, const char *name, void *arg, bool *changed,
			  char *why, size_t whylen)
{
	struct must_arg *a = arg;
	struct params p = { .n = 0 };
	uint8_t salt[HASH_SALT_BYTES];
	pp_err rc;

	(void)changed;
	fleet_salt(a->f, name, salt);
	p_text(&p, name);
	p_bytes(&p, salt, HASH_SALT_BYTES);
	p_int(&p, a->now);
	p_bool(&p, a->must_change);
	p_text(&p, a->reason);
	rc = pq_step(c, Q_SET_MUST, &p, NULL, why, whylen);
	pp_wipe(salt, sizeof(salt));
	return rc;
}

static pp_err pg_set_must_change(void *impl, const char *name, bool must_change,
				 const char *reason, int64_t now)
{
	struct pg_store *q = impl;
	struct must_arg a = { q->f, must_change,
			      must_change && reason != NULL ? reason : "", now };

	struct store_outbox_item ob;
	struct store_user local;
	bool away = false;
	pp_err rc = admin_write(q, name, "must_change", db_set_must, &a, &away);

	/*
	 * An administrator's expire needs the database (it is told to try
	 * again); a flag with a reason comes from the breach check at a login
	 * and must not be lost to an outage: set here and queued.
	 */
	if (rc == PP_OK || !away || a.reason[0] == '\0')
		return rc;
	memset(&ob, 0, sizeof(ob));
	if (store_user_get(q->replica, name, &local) == PP_OK)
		memcpy(ob.salt, local.salt, HASH_SALT_BYTES);
	else
		fleet_salt(q->f, name, ob.salt);
	pp_wipe(&local, sizeof(local));
	make_rid(q->f, ob.rid, sizeof(ob.rid));
	ob.kind = STORE_OUTBOX_FLAG;
	snprintf(ob.user, sizeof(ob.user), "%s", name);
	ob.when = now;
	ob.must_change = true;
	snprintf(ob.reason, sizeof(ob.reason), "%s", a.reason);
	rc = store_replica_flag(q->replica, name, a.reason, now, ob.salt, &ob);
	pp_wipe(&ob, sizeof(ob));
	if (rc == PP_OK)
		outbox_add_count(q->f);
	return from_replica_direct(q, rc);
}

static pp_err db_adopt(PGconn *c, const char *name, void *arg, bool *changed,
		       char *why, size_t whylen)
{
	struct params p = { .n = 0 };
	PGresult *r;
	pp_err rc;

	p_text(&p, name);
	p_int(&p, *(const int64_t *)arg);
	if ((rc = pq_step(c, Q_ADOPT, &p, &r, why, whylen)) != PP_OK)
		return rc;
	*changed = atoi(PQcmdTuples(r)) > 0;
	PQclear(r);
	return PP_OK;
}

static pp_err pg_adopt_last_change(void *impl, const char *name, int64_t t)
{
	struct pg_store *q = impl;
	pp_err rc = admin_write(q, name, "adopt", db_adopt, &t, NULL);

	/*
	 * The database cannot take it now (away, or an outbox still waiting):
	 * the replica adopts alone; a later status, once the replica follows
	 * the database again, finds shadow newer and tells the database.
	 */
	if (rc == PP_ERR_STORE)
		rc = from_replica(q, store_adopt_last_change(q->replica, name, t));
	return rc;
}

static pp_err db_forget(PGconn *c, const char *name, void *arg, bool *changed,
			char *why, size_t whylen)
{
	struct params p = { .n = 0 };
	uint8_t salt[HASH_SALT_BYTES];
	PGresult *r;
	pp_err rc;

	(void)arg;
	hash_salt_new(salt);
	p_text(&p, name);
	p_bytes(&p, salt, HASH_SALT_BYTES);
	rc = pq_step(c, Q_FORGET_USER, &p, &r, why, whylen);
	pp_wipe(salt, sizeof(salt));
	if (rc != PP_OK)
		return rc;
	*changed = atoi(PQcmdTuples(r)) > 0;
	PQclear(r);
	if (!*changed)
		return PP_OK;
	p.n = 1;
	return pq_step(c, Q_FORGET_HISTORY, &p, NULL, why, whylen);
}

static pp_err pg_forget(void *impl, const char *name)
{
	struct pg_store *q = impl;
	pp_err rc = admin_write(q, name, "forget", db_forget, NULL, NULL);

	if (rc == PP_ERR_NOT_FOUND)
		snprintf(q->msg, sizeof(q->msg), "user %s is not in the store", name);
	return rc;
}

/* Logins: this host's replica first (never lost), then the fleet if it is there. */
static pp_err pg_last_login_set(void *impl, const struct store_login *v, size_t n)
{
	struct pg_store *q = impl;
	struct fleet *f = q->f;
	char why[256] = "";
	PGconn *c;
	pp_err rc = from_replica(q, store_last_login_set(q->replica, v, n));

	if (rc != PP_OK || n == 0)
		return rc;
	pthread_mutex_lock(&f->lock);
	c = f->degraded_since == 0 ? writer_conn(f, why, sizeof(why)) : NULL;
	if (c != NULL && pq_begin(c, why, sizeof(why)) == PP_OK) {
		pp_err step = PP_OK;

		for (size_t i = 0; step == PP_OK && i < n; i++) {
			struct params p = { .n = 0 };
			p_text(&p, v[i].name);
			p_text(&p, f->host);
			p_int(&p, v[i].when);
			step = pq_step(c, Q_LOGIN, &p, NULL, why, sizeof(why));
		}
		if (step == PP_OK)
			step = pq_commit(c, why, sizeof(why));
		pq_rollback(c);
		if (step == PP_ERR_UNREACHABLE)
			writer_lost(f, why);
	}
	pthread_mutex_unlock(&f->lock);
	return PP_OK;
}

/* ---- metadata: the pepper's check value lives in the database ---- */

static pp_err pg_meta_set(void *impl, const char *name, const uint8_t *value, size_t len)
{
	struct pg_store *q = impl;
	struct fleet *f = q->f;
	struct params p = { .n = 0 };
	char why[256] = "";
	PGconn *c;
	pp_err rc;

	pthread_mutex_lock(&f->lock);
	c = writer_conn(f, why, sizeof(why));
	rc = PP_ERR_UNREACHABLE;
	if (c != NULL) {
		p_text(&p, name);
		p_bytes(&p, value, (int)len);
		rc = pq_step(c, Q_META_UPSERT, &p, NULL, why, sizeof(why));
		if (rc == PP_ERR_UNREACHABLE)
			writer_lost(f, why);
	}
	pthread_mutex_unlock(&f->lock);
	if (rc != PP_OK) {
		snprintf(q->msg, sizeof(q->msg), "fleet database: %s", why);
		return PP_ERR_STORE;
	}
	return from_replica(q, store_meta_set(q->replica, name, value, len));
}

static pp_err pg_meta_bind(void *impl, const char *name, const uint8_t *value,
			   size_t len, enum store_bind *out)
{
	struct pg_store *q = impl;
	struct fleet *f = q->f;
	struct params p = { .n = 0 };
	uint8_t have[STORE_META_VALUE_MAX];
	size_t have_len = 0;
	char why[256] = "";
	bool users = false;
	PGconn *c;
	pp_err rc;

	pthread_mutex_lock(&f->lock);
	c = writer_conn(f, why, sizeof(why));
	if (c == NULL) {
		pthread_mutex_unlock(&f->lock);
		/* Away: the copy the replica keeps from its last contact decides. */
		rc = store_meta_get(q->replica, name, have, sizeof(have), &have_len);
		if (rc == PP_ERR_NOT_FOUND) {
			snprintf(q->msg, sizeof(q->msg), "the fleet database is unreachable "
				 "(%s) and this host never saw its %s", why, name);
			return PP_ERR_STORE;
		}
		if (rc != PP_OK)
			return from_replica(q, rc);
		*out = have_len == len && sodium_memcmp(have, value, len) == 0
			       ? STORE_BIND_MATCH : STORE_BIND_MISMATCH;
		pp_wipe(have, sizeof(have));
		return PP_OK;
	}
	{
		PGresult *r;
		if ((rc = pq_step(c, Q_HOLDS, NULL, &r, why, sizeof(why))) == PP_OK) {
			users = PQntuples(r) > 0 && r_int(r, 0, 0) > 0;
			PQclear(r);
		}
	}
	p_text(&p, name);
	p_bytes(&p, value, (int)len);
	if (rc == PP_OK)
		rc = meta_value(c, name, have, sizeof(have), &have_len, why, sizeof(why));
	if (rc == PP_ERR_NOT_FOUND) {
		rc = pq_step(c, Q_META_INSERT, &p, NULL, why, sizeof(why));
		if (rc == PP_OK)
			rc = meta_value(c, name, have, sizeof(have), &have_len, why,
					sizeof(why));
	}
	if (rc == PP_ERR_UNREACHABLE)
		writer_lost(f, why);
	pthread_mutex_unlock(&f->lock);
	if (rc != PP_OK) {
		snprintf(q->msg, sizeof(q->msg), "fleet database: %s", why);
		return PP_ERR_STORE;
	}
	if (have_len == len && sodium_memcmp(have, value, len) == 0) {
		*out = STORE_BIND_MATCH;
		if (!users)
			*out = STORE_BIND_RECORDED;
		/* The replica keeps a copy for a start while the database is away. */
		rc = from_replica(q, store_meta_set(q->replica, name, value, len));
	} else {
		*out = STORE_BIND_MISMATCH;
	}
	pp_wipe(have, sizeof(have));
	return rc;
}

static pp_err pg_holds_data(void *impl, bool *holds)
{
	struct pg_store *q = impl;
	struct fleet *f = q->f;
	char why[256] = "";
	PGconn *c;
	pp_err rc = PP_ERR_UNREACHABLE;

	pthread_mutex_lock(&f->lock);
	c = writer_conn(f, why, sizeof(why));
	if (c != NULL) {
		PGresult *r;
		rc = pq_step(c, Q_HOLDS, NULL, &r, why, sizeof(why));
		if (rc == PP_OK) {
			*holds = PQntuples(r) > 0 && r_int(r, 0, 0) > 0;
			PQclear(r);
		} else if (rc == PP_ERR_UNREACHABLE) {
			writer_lost(f, why);
		}
	}
	pthread_mutex_unlock(&f->lock);
	if (rc == PP_OK)
		return PP_OK;
	return from_replica(q, store_holds_data(q->replica, holds));
}

static pp_err pg_history_forget_all(void *impl, const char *name, const uint8_t *value,
				    size_t len, struct store_forgotten *out)
{
	struct pg_store *q = impl;

	(void)name;
	(void)value;
	(void)len;
	(void)out;
	snprintf(q->msg, sizeof(q->msg), "with store = postgresql a new pepper would "
		 "make the whole fleet's history unmatchable; pam_policyd --new-pepper "
		 "refuses it (see FLEET in pam_policyd(8))");
	return PP_ERR_INVALID;
}

static const char *pg_errmsg(void *impl)
{
	struct pg_store *q = impl;

	return q->msg;
}

static void fleet_release(struct fleet *f);

static void pg_close(void *impl)
{
	struct pg_store *q = impl;

	if (q == NULL)
		return;
	store_close(q->replica);
	fleet_release(q->f);
	free(q);
}

static const struct store_ops pg_ops = {
	.name = "postgresql",
	.user_get = pg_user_get,
	.user_ensure = pg_user_ensure,
	.history_get = pg_history_get,
	.history_add = pg_history_add,
	.set_must_change = pg_set_must_change,
	.adopt_last_change = pg_adopt_last_change,
	.forget = pg_forget,
	.foreach_user = pg_foreach_user,
	.user_count = pg_user_count,
	.backup = pg_backup,
	.meta_get = pg_meta_get,
	.meta_set = pg_meta_set,
	.meta_bind = pg_meta_bind,
	.holds_data = pg_holds_data,
	.history_forget_all = pg_history_forget_all,
	.last_login_set = pg_last_login_set,
	.errmsg = pg_errmsg,
	.close = pg_close,
};

/* ---- the replication thread ---- */

/* Replay one outbox item in one transaction (idempotent by its rid). */
static pp_err replay_item(struct fleet *f, PGconn *c, const struct store_outbox_item *it,
			  char *why, size_t whylen)
{
	struct params p = { .n = 0 };
	struct store_user u;
	pp_err rc = pq_begin(c, why, whylen);

	if (rc != PP_OK)
		return rc;
	p_text(&p, it->user);
	p_bytes(&p, it->salt, HASH_SALT_BYTES);
	p_int(&p, it->kind == STORE_OUTBOX_ENSURE ? it->initial_last_change : 0);
	p_int(&p, it->when);
	/* An ENSURE's flag is shadow's (an expire, no reason); a FLAG's has one. */
	p_bool(&p, (it->kind == STORE_OUTBOX_ENSURE && it->must_change) ||
		   it->kind == STORE_OUTBOX_FLAG);
	p_text(&p, it->kind == STORE_OUTBOX_FLAG ? it->reason : "");
	if ((rc = pq_step(c, Q_USER_INSERT, &p, NULL, why, whylen)) != PP_OK)
		goto out;
	if (it->kind == STORE_OUTBOX_FLAG) {
		p.n = 0;
		p_text(&p, it->user);
		p_text(&p, it->reason);
		p_int(&p, it->when);
		if ((rc = pq_step(c, Q_FLAG_REPLAYED, &p, NULL, why, whylen)) != PP_OK)
			goto out;
	}
	if (it->kind == STORE_OUTBOX_RECORD) {
		if ((rc = fetch_user(c, it->user, true, 0, &u, NULL, NULL, why,
				     whylen)) != PP_OK)
			goto out;
		/*
		 * The hash was made with the salt this host knew; under another
		 * (the user was forgotten meanwhile) it could never match, so
		 * only the change itself counts.
		 */
		if (it->has_entry && it->keep > 0 &&
		    sodium_memcmp(u.salt, it->salt, HASH_SALT_BYTES) == 0) {
			const struct store_entry *e = &it->entry;
			p.n = 0;
			p_text(&p, it->rid);
			p_text(&p, it->user);
			p_bytes(&p, e->hash, HASH_BYTES);
			p_int(&p, (int64_t)e->opslimit);
			p_int(&p, (int64_t)e->memlimit);
			p_int(&p, it->when);
			p_bytes(&p, e->has_skeleton ? e->skeleton : NULL,
				e->has_skeleton ? HASH_BYTES : 0);
			p_text(&p, f->host);
			p_skeleton_cost(&p, e, e->has_skeleton);
			if ((rc = pq_step(c, Q_HISTORY_INSERT, &p, NULL, why, whylen)) != PP_OK)
				goto out;
		}
		pp_wipe(&u, sizeof(u));
		p.n = 0;
		p_text(&p, it->user);
		p_int(&p, it->keep);
		if ((rc = pq_step(c, Q_HISTORY_PRUNE, &p, NULL, why, whylen)) != PP_OK)
			goto out;
		p.n = 1;
		p_int(&p, it->keep_skeletons);
		if ((rc = pq_step(c, Q_SKELETON_PRUNE, &p, NULL, why, whylen)) != PP_OK)
			goto out;
		p.n = 1;
		p_int(&p, it->when);
		if ((rc = pq_step(c, Q_USER_RECORDED, &p, NULL, why, whylen)) != PP_OK)
			goto out;
	}
	if ((rc = note_change(c, f, it->user, it->when,
			      it->kind == STORE_OUTBOX_RECORD ? "record"
			      : it->kind == STORE_OUTBOX_FLAG ? "must_change" : "user", NULL, why,
			      whylen)) != PP_OK)
		goto out;
	rc = pq_commit(c, why, whylen);
out:
	pq_rollback(c);
	return rc;
}

/* Replay the whole outbox, oldest first. */
static pp_err replay_outbox(struct fleet *f, PGconn *c, char *why, size_t whylen)
{
	struct store_outbox_item it;
	size_t left = 0;
	pp_err rc;

	for (;;) {
		rc = store_outbox_first(f->sync_replica, &it);
		if (rc == PP_ERR_NOT_FOUND) {
			rc = PP_OK;
			break;
		}
		if (rc != PP_OK) {
			snprintf(why, whylen, "outbox: %s", store_backend_errmsg(f->sync_replica));
			break;
		}
		rc = replay_item(f, c, &it, why, whylen);
		if (rc == PP_OK && store_outbox_delete(f->sync_replica, it.id) != PP_OK) {
			snprintf(why, whylen, "outbox: %s", store_backend_errmsg(f->sync_replica));
			rc = PP_ERR_STORE;
		}
		pp_wipe(&it, sizeof(it));
		if (rc != PP_OK)
			break;
	}
	if (store_outbox_count(f->sync_replica, &left) == PP_OK) {
		pthread_mutex_lock(&f->lock);
		f->outbox = left;
		pthread_mutex_unlock(&f->lock);
	}
	return rc;
}

/* Apply every change after the replica's sequence. */
static pp_err catch_up(struct fleet *f, PGconn *c, char *why, size_t whylen)
{
	int64_t seq = 0;
	pp_err rc = store_replica_seq(f->sync_replica, &seq);

	while (rc == PP_OK) {
		struct params p = { .n = 0 };
		PGresult *r;
		int rows;

		p_int(&p, seq);
		if ((rc = pq_step(c, Q_CHANGES_SINCE, &p, &r, why, whylen)) != PP_OK)
			break;
		rows = PQntuples(r);
		for (int i = 0; rc == PP_OK && i < rows; i++) {
			int64_t s = r_int(r, i, 0);
			const char *name = PQgetvalue(r, i, 1);

			/* A name seen again later in the batch is copied then. */
			bool later = false;
			for (int j = i + 1; j < rows && !later; j++)
				later = strcmp(PQgetvalue(r, j, 1), name) == 0;
			if (!later && strlen(name) >= 1 && strlen(name) <= PP_NAME_MAX)
				rc = sync_user(c, f->sync_replica, name, s, why, whylen);
			if (rc == PP_OK)
				seq = s;
		}
		PQclear(r);
		if (rc == PP_OK && rows > 0 && store_replica_set_seq(f->sync_replica, seq) != PP_OK) {
			snprintf(why, whylen, "replica: %s", store_backend_errmsg(f->sync_replica));
			rc = PP_ERR_STORE;
		}
		pthread_mutex_lock(&f->lock);
		f->replica_seq = seq;
		pthread_mutex_unlock(&f->lock);
		if (rows < PG_CHANGES_BATCH)
			break;
	}
	return rc;
}

/* Wait for the database's socket, the wake-up descriptor or ms. */
static bool wait_events(struct fleet *f, PGconn *c, int ms)
{
	struct pollfd pfd[2] = {
		{ .fd = f->wake_fd, .events = POLLIN },
		{ .fd = c ? PQsocket(c) : -1, .events = POLLIN },
	};
	int n = poll(pfd, c ? 2 : 1, ms);
	uint64_t count;

	if (n > 0 && (pfd[0].revents & POLLIN) &&
	    read(f->wake_fd, &count, sizeof(count)) < 0) {
		/* nothing to drain */
	}
	return n > 0;
}

/* Take the notifications libpq has queued; true if there were any. */
static bool take_notifies(PGconn *c)
{
	bool any = false;

	for (PGnotify *n; (n = PQnotifies(c)) != NULL;) {
		any = true;
		PQfreemem(n);
	}
	return any;
}

static bool fleet_stopping(struct fleet *f)
{
	bool stop;

	pthread_mutex_lock(&f->lock);
	stop = f->stop;
	pthread_mutex_unlock(&f->lock);
	return stop;
}

static void fleet_in_sync(struct fleet *f)
{
	bool was;

	pthread_mutex_lock(&f->lock);
	was = f->degraded_since != 0;
	f->degraded_since = 0;
	f->reason[0] = '\0';
	f->retry_at_ms = 0;
	f->backoff_ms = 0;
	pthread_mutex_unlock(&f->lock);
	if (was)
		syslog(LOG_NOTICE, "fleet database reachable again; outbox replayed, "
		       "replica caught up");
}

/*
 * Connect (with back-off), LISTEN, replay the outbox, catch up; then wait
 * for a notification, a wake-up (a write went to the outbox) or the
 * periodic resynchronisation. Every (re)connection starts with a full
 * catch-up from the replica's sequence: notifications sent while we were
 * away are lost.
 */
static void *fleet_thread(void *arg)
{
	struct fleet *f = arg;
	PGconn *c = NULL;
	int backoff = 0;
	int64_t last_sync = 0;
	bool need_sync = true;

	while (!fleet_stopping(f)) {
		char why[256] = "";
		size_t waiting;
		pp_err rc = PP_OK;

		if (c == NULL) {
			c = pq_open_ready(f, why, sizeof(why));
			if (c != NULL && pq_exec_simple(c, "LISTEN " PG_CHANNEL, why,
							sizeof(why)) != PP_OK) {
				PQfinish(c);
				c = NULL;
			}
			if (c == NULL) {
				fleet_degraded(f, why);
				backoff = backoff == 0 ? PG_BACKOFF_MIN_MS
					  : (backoff * 2 > PG_BACKOFF_MAX_MS ? PG_BACKOFF_MAX_MS
									    : backoff * 2);
				wait_events(f, NULL, backoff);
				continue;
			}
			backoff = 0;
			need_sync = true;
		}
		pthread_mutex_lock(&f->lock);
		waiting = f->outbox;
		pthread_mutex_unlock(&f->lock);
		if (waiting > 0) {
			rc = replay_outbox(f, c, why, sizeof(why));
			need_sync = true;
		}
		if (rc == PP_OK && (need_sync || mono_ms() - last_sync >= PG_RESYNC_MS)) {
			rc = catch_up(f, c, why, sizeof(why));
			last_sync = mono_ms();
			need_sync = false;
		}
		if (rc == PP_OK) {
			pthread_mutex_lock(&f->lock);
			waiting = f->outbox;
			pthread_mutex_unlock(&f->lock);
			if (waiting == 0)
				fleet_in_sync(f);
		}
		if (rc != PP_OK) {
			fleet_degraded(f, why);
			PQfinish(c);
			c = NULL;
			wait_events(f, NULL, PG_BACKOFF_MIN_MS);
			continue;
		}
		/*
		 * A notification that came while the queries above ran is
		 * already in libpq's queue, not on the socket: poll would not
		 * wake for it, and the change would wait out the timeout.
		 */
		if (take_notifies(c)) {
			need_sync = true;
			continue;
		}
		wait_events(f, c, 1000);
		if (PQconsumeInput(c) == 0) {
			pq_reason(c, NULL, why, sizeof(why));
			fleet_degraded(f, why);
			PQfinish(c);
			c = NULL;
			continue;
		}
		if (take_notifies(c))
			need_sync = true;
	}
	if (c != NULL)
		PQfinish(c);
	return NULL;
}

/* ---- opening and closing ---- */

static void fleet_free(struct fleet *f)
{
	if (f == NULL)
		return;
	if (f->wconn)
		PQfinish(f->wconn);
	store_close(f->sync_replica);
	if (f->wake_fd >= 0)
		close(f->wake_fd);
	pthread_mutex_destroy(&f->lock);
	sodium_memzero(f, sizeof(*f));
	free(f);
}

static void fleet_release(struct fleet *f)
{
	bool last;

	pthread_mutex_lock(&g_lock);
	last = --f->refs == 0;
	if (last)
		g_fleet = NULL;
	pthread_mutex_unlock(&g_lock);
	if (!last)
		return;
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	last = f->started;
	pthread_mutex_unlock(&f->lock);
	if (last) {
		fleet_wake(f);
		pthread_join(f->thread, NULL);
	}
	fleet_free(f);
}

/* The passfile holds a password: root's alone, like the pepper. */
static pp_err check_passfile(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (path == NULL || *path == '\0')
		return PP_OK;
	if (lstat(path, &st) != 0) {
		pp_errorf(err, errlen, "postgresql_passfile %s: %s", path, strerror(errno));
		return PP_ERR_CONFIG;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		pp_errorf(err, errlen, "postgresql_passfile %s must be a regular file owned "
			"by uid %u with mode 0600 or tighter (it is mode %04o, uid %u)",
			path, (unsigned)geteuid(), (unsigned)(st.st_mode & 07777),
			(unsigned)st.st_uid);
		return PP_ERR_CONFIG;
	}
	return PP_OK;
}

/*
 * The replica must belong to this database: a replica filled from another
 * one (the database was recreated, the state directory copied from another
 * fleet) is emptied and filled again.
 */
static pp_err replica_bind(struct fleet *f, struct store *replica, bool reached,
			   char *err, size_t errlen)
{
	uint8_t have[FLEET_ID_BYTES];
	size_t len = 0;
	pp_err rc = store_meta_get(replica, STORE_META_FLEET_ID, have, sizeof(have), &len);

	if (!reached) {
		if (rc != PP_OK || len != FLEET_ID_BYTES) {
			pp_errorf(err, errlen, "the fleet database is unreachable (%s) and this "
				"host has never been in contact with it, so it has no replica "
				"to serve from", f->reason);
			return PP_ERR_UNREACHABLE;
		}
		memcpy(f->fleet_id, have, FLEET_ID_BYTES);
		return PP_OK;
	}
	if (rc == PP_OK && len == FLEET_ID_BYTES &&
	    sodium_memcmp(have, f->fleet_id, FLEET_ID_BYTES) == 0)
		return PP_OK;
	if (rc == PP_OK || rc == PP_ERR_NOT_FOUND) {
		/* A fresh replica, or another database's: start it over. */
		if ((rc = store_replica_reset(replica)) == PP_OK)
			rc = store_meta_set(replica, STORE_META_FLEET_ID, f->fleet_id,
					    FLEET_ID_BYTES);
	}
	if (rc != PP_OK)
		pp_errorf(err, errlen, "replica: %s", store_backend_errmsg(replica));
	return rc;
}

static pp_err fleet_open(const struct store_pg_config *cfg, struct fleet **out,
			 char *err, size_t errlen)
{
	struct fleet *f = calloc(1, sizeof(*f));
	char why[256] = "";
	bool reached;
	size_t waiting = 0;
	pp_err rc;

	*out = NULL;
	if (f == NULL)
		return PP_ERR_NOMEM;
	pthread_mutex_init(&f->lock, NULL);
	f->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	snprintf(f->conninfo, sizeof(f->conninfo), "%s", cfg->conninfo);
	snprintf(f->passfile, sizeof(f->passfile), "%s", cfg->passfile ? cfg->passfile : "");
	snprintf(f->host, sizeof(f->host), "%s", cfg->host);
	snprintf(f->state_dir, sizeof(f->state_dir), "%s", cfg->state_dir);
	f->statement_timeout_ms = cfg->statement_timeout_ms;
	randombytes_buf(f->rid_prefix, sizeof(f->rid_prefix));
	f->refs = 1;
	if (f->wake_fd < 0) {
		pp_errorf(err, errlen, "eventfd: %s", strerror(errno));
		fleet_free(f);
		return PP_ERR_IO;
	}
	if (cfg->conninfo == NULL || cfg->conninfo[0] == '\0') {
		pp_errorf(err, errlen, "store = postgresql needs the postgresql key "
			"(a libpq connection string)");
		fleet_free(f);
		return PP_ERR_CONFIG;
	}
	if ((rc = check_passfile(f->passfile, err, errlen)) != PP_OK) {
		fleet_free(f);
		return rc;
	}
	rc = store_open_sqlite(cfg->state_dir, &f->sync_replica, err, errlen);
	if (rc == PP_OK && ((rc = store_replica_prepare(f->sync_replica)) != PP_OK ||
			    (rc = store_replica_relaxed(f->sync_replica)) != PP_OK))
		pp_errorf(err, errlen, "replica: %s", store_backend_errmsg(f->sync_replica));
	if (rc != PP_OK) {
		fleet_free(f);
		return rc;
	}
	f->wconn = pq_connect(f, why, sizeof(why));
	if (f->wconn != NULL && ((rc = migrate(f->wconn, why, sizeof(why))) != PP_OK ||
				 (rc = pq_prepare_all(f->wconn, why, sizeof(why))) != PP_OK ||
				 (rc = fleet_identity(f->wconn, f->fleet_id, why,
						      sizeof(why))) != PP_OK)) {
		if (!pq_lost(f->wconn, NULL)) {
			pp_errorf(err, errlen, "fleet database: %s", why);
			fleet_free(f);
			return rc == PP_ERR_UNREACHABLE ? PP_ERR_STORE : rc;
		}
		PQfinish(f->wconn);
		f->wconn = NULL;
	}
	reached = f->wconn != NULL;
	if (!reached) {
		f->degraded_since = (int64_t)time(NULL);
		snprintf(f->reason, sizeof(f->reason), "%s", why);
		f->retry_at_ms = mono_ms() + PG_BACKOFF_MIN_MS;
	}
	if ((rc = replica_bind(f, f->sync_replica, reached, err, errlen)) != PP_OK) {
		fleet_free(f);
		return rc;
	}
	if (store_outbox_count(f->sync_replica, &waiting) == PP_OK)
		f->outbox = waiting;
	if (store_replica_seq(f->sync_replica, &f->replica_seq) != PP_OK)
		f->replica_seq = 0;
	*out = f;
	return PP_OK;
}

pp_err store_open_postgresql(const struct store_pg_config *cfg, struct store **out,
			     char *err, size_t errlen)
{
	struct pg_store *q;
	struct fleet *f;
	pp_err rc = PP_OK;

	*out = NULL;
	pp_errorf(err, errlen, "%s", "");
	pthread_mutex_lock(&g_lock);
	f = g_fleet;
	if (f != NULL)
		f->refs++;
	else if ((rc = fleet_open(cfg, &f, err, errlen)) == PP_OK)
		g_fleet = f;
	pthread_mutex_unlock(&g_lock);
	if (rc != PP_OK)
		return rc;
	q = calloc(1, sizeof(*q));
	if (q == NULL) {
		fleet_release(f);
		return PP_ERR_NOMEM;
	}
	q->f = f;
	rc = store_open_sqlite_shared(f->state_dir, &q->replica, err, errlen);
	if (rc != PP_OK) {
		fleet_release(f);
		free(q);
		return rc;
	}
	rc = store_create(&pg_ops, q, out);
	if (rc != PP_OK)
		pp_errorf(err, errlen, "out of memory");
	return rc;
}

bool store_is_postgresql(const struct store *s)
{
	return s != NULL && strcmp(store_backend_name(s), pg_ops.name) == 0;
}

static struct fleet *fleet_of(struct store *s)
{
	struct pg_store *q = store_backend_impl(s, &pg_ops);

	return q ? q->f : NULL;
}

pp_err store_pg_start(struct store *s)
{
	struct fleet *f = fleet_of(s);

	pp_err rc = PP_OK;

	if (f == NULL)
		return PP_ERR_INTERNAL;
	/* Under the lock: writers read started (writer_conn). */
	pthread_mutex_lock(&f->lock);
	if (f->started)
		rc = PP_ERR_INTERNAL;
	else if (pthread_create(&f->thread, NULL, fleet_thread, f) != 0)
		rc = PP_ERR_NOMEM;
	else
		f->started = true;
	pthread_mutex_unlock(&f->lock);
	return rc;
}

void store_pg_status(struct store *s, struct store_pg_status *out)
{
	struct fleet *f = fleet_of(s);

	memset(out, 0, sizeof(*out));
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->lock);
	snprintf(out->host, sizeof(out->host), "%s", f->host);
	out->degraded_since = f->degraded_since;
	snprintf(out->reason, sizeof(out->reason), "%s", f->degraded_since ? f->reason : "");
	out->replica_seq = f->replica_seq;
	out->outbox = f->outbox;
	pthread_mutex_unlock(&f->lock);
}

pp_err store_pg_fleet_walk(struct store *s, store_pg_fleet_cb cb, void *ctx,
			   char *err, size_t errlen)
{
	struct fleet *f = fleet_of(s);
	char why[256] = "";
	PGconn *c;
	PGresult *r;
	pp_err rc = PP_OK;

	if (f == NULL)
		return PP_ERR_INVALID;
	c = pq_connect(f, why, sizeof(why));
	if (c == NULL) {
		pp_errorf(err, errlen, "%s", why);
		return PP_ERR_UNREACHABLE;
	}
	/* One snapshot, read in pieces: a cursor keeps the memory bounded. */
	if (pq_exec_simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", why,
			   sizeof(why)) != PP_OK ||
	    pq_exec_simple(c, "DECLARE fleet CURSOR FOR SELECT u.name, " PG_USER_COLS
			   ", coalesce(l.host, ''), coalesce(l.last_login, 0) FROM"
			   " pam_policy_users u LEFT JOIN pam_policy_logins l ON"
			   " l.user_name = u.name ORDER BY u.name COLLATE \"C\", l.host"
			   " COLLATE \"C\"", why, sizeof(why)) != PP_OK) {
		pp_errorf(err, errlen, "%s", why);
		rc = pq_lost(c, NULL) ? PP_ERR_UNREACHABLE : PP_ERR_STORE;
		PQfinish(c);
		return rc;
	}
	for (;;) {
		int rows;

		r = PQexec(c, "FETCH 2000 FROM fleet");
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			pq_reason(c, r, why, sizeof(why));
			pp_errorf(err, errlen, "%s", why);
			rc = pq_lost(c, r) ? PP_ERR_UNREACHABLE : PP_ERR_STORE;
			PQclear(r);
			break;
		}
		rows = PQntuples(r);
		for (int i = 0; rc == PP_OK && i < rows; i++) {
			struct store_pg_fleet_row row;
			const char *name = PQgetvalue(r, i, 0);

			if (strlen(name) < 1 || strlen(name) > PP_NAME_MAX)
				continue;
			memset(&row, 0, sizeof(row));
			snprintf(row.user.name, sizeof(row.user.name), "%s", name);
			row.user.last_change = r_int(r, i, 2);
			row.user.first_seen = r_int(r, i, 3);
			row.user.must_change = r_bool(r, i, 4);
			row.user.history_count = (int)r_int(r, i, 5);
			if (!r_reason(r, i, 6, row.user.must_change_reason))
				row.user.must_change_reason[0] = '\0';
			snprintf(row.host, sizeof(row.host), "%s", PQgetvalue(r, i, 7));
			row.user.last_login = r_int(r, i, 8);
			rc = cb(&row, ctx);
		}
		PQclear(r);
		if (rc != PP_OK || rows == 0)
			break;
	}
	PQfinish(c);
	return rc;
}
