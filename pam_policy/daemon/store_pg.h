/*
 * store_pg.h - the fleet backend: one PostgreSQL database shared by many
 * hosts, seen through a local SQLite replica (store.h).
 *
 * A store opened here is an ordinary struct store: reads (user, history,
 * report walks) are answered from the replica in the state directory and
 * never wait on the database; writes go to PostgreSQL and, once committed
 * there, to the replica. While the database is unreachable, records and
 * first sights are written to the replica together with an outbox item
 * (one durable SQLite transaction) and acknowledged from there; a
 * background thread replays the outbox in order when the database
 * returns (idempotently: each item has a fleet-unique record id) and keeps
 * the replica current from the database's change sequence, woken by
 * LISTEN/NOTIFY and resynchronised after every (re)connection.
 *
 * PostgreSQL schema (created and migrated under pg_advisory_lock, so many
 * daemons may start at once): pam_policy_meta, pam_policy_users,
 * pam_policy_history, pam_policy_changes (seq bigserial; NOTIFY
 * pam_policy_changes with the seq as payload on every committed change),
 * pam_policy_logins (last login per user and host).
 *
 * Thread safety: as store.h (one handle per thread); the handles of one
 * process share one fleet connection state, under its own lock.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_STORE_PG_H
#define PAM_POLICY_STORE_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct store_pg_config {
	const char *conninfo;         /* libpq conninfo, no password */
	const char *passfile;         /* pgpass file, "" or NULL: libpq's own */
	const char *host;             /* this host's name in the fleet */
	const char *state_dir;        /* where the replica lives (store.db) */
	int statement_timeout_ms;
};

/*
 * store_open_postgresql - the first call in a process opens (and checks)
 * the replica, connects to the database, creates or migrates its schema
 * and checks that the replica belongs to this database (else it is
 * emptied and filled again); later calls return one more handle on the
 * same fleet. When the database cannot be reached, a replica that was in
 * contact before is used alone (degraded); a replica that never was fails
 * with PP_ERR_UNREACHABLE. Errors name the cause in err.
 */
pp_err store_open_postgresql(const struct store_pg_config *cfg, struct store **out,
			     char *err, size_t errlen) PP_WUR;

/* store_is_postgresql - does s belong to the fleet backend? */
bool store_is_postgresql(const struct store *s);

/*
 * store_pg_start - start the background thread (replay and replication).
 * Call once, after the pepper was checked. PP_ERR_NOMEM/PP_ERR_INTERNAL.
 */
pp_err store_pg_start(struct store *s) PP_WUR;

struct store_pg_status {
	char host[64];
	int64_t degraded_since;       /* UTC seconds; 0: in contact and caught up */
	char reason[256];             /* why it is degraded, "" otherwise */
	int64_t replica_seq;          /* last change applied to the replica */
	size_t outbox;                /* records waiting for the database */
};

/* store_pg_status - the fleet state of s's process. Thread-safe. */
void store_pg_status(struct store *s, struct store_pg_status *out);

/* One user of the fleet view, with one host's last login (host "" = none). */
struct store_pg_fleet_row {
	struct store_user user;       /* last_login: the host's below */
	char host[64];
};

typedef pp_err (*store_pg_fleet_cb)(const struct store_pg_fleet_row *row, void *ctx);

/*
 * store_pg_fleet_walk - every user of the database in byte order of name,
 * once per host with a login (then once with host ""), on a connection of
 * its own (a long walk never delays writes). PP_ERR_UNREACHABLE when the
 * database cannot be reached (err says why). Report thread.
 */
pp_err store_pg_fleet_walk(struct store *s, store_pg_fleet_cb cb, void *ctx,
			   char *err, size_t errlen) PP_WUR;

#endif
