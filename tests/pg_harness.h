/*
 * pg_harness.h - a real PostgreSQL server for one test or one benchmark.
 *
 * harness_pg_create() makes a throwaway cluster with the distribution's
 * own binaries (the highest /usr/lib/postgresql/VERSION/bin, or
 * PAM_POLICY_TEST_PG_BINDIR), starts it and creates the database the
 * daemons share. The server:
 *
 *   - lives in a fresh mkdtemp directory under /tmp (not under $TMPDIR or
 *     the source tree: when the tests run as root, those may be
 *     directories only root can enter), removed again at the end;
 *   - runs as an unprivileged user: PostgreSQL refuses to run as root, so
 *     as root initdb, pg_ctl and postgres run as nobody (uid and gid of
 *     "nobody"/"nogroup", 65534 when NSS does not know them); otherwise as
 *     the calling user;
 *   - listens on a Unix socket in that directory only (listen_addresses
 *     is empty: no TCP port is opened);
 *   - trusts every local connection (initdb -A trust). That is for a
 *     throwaway test cluster only: a production server authenticates
 *     hosts with peer, scram-sha-256 or client certificates (see
 *     pam_policy-fleet(7)).
 *
 * The cluster has a superuser role "pp_owner" (HARNESS_PG_OWNER) that owns
 * the database "pam_policy" (HARNESS_PG_DB), and a login role "pp_host"
 * (HARNESS_PG_HOST_ROLE) without any privilege on the database's objects
 * (the schema public is closed to PUBLIC): a test grants it what a host
 * needs.
 *
 * Clean-up does not depend on the test ending well: a guardian process
 * (its own session, so Check's kill of the test's process group spares it)
 * waits for the test process to go away, however it ends, then stops the
 * server immediately and removes the directory. harness_pg_destroy() is the
 * ordinary way to end; an abort, a failed assertion or a timeout end the
 * same way a moment later.
 *
 * Nothing here sleeps for a fixed time: start and stop wait with pg_ctl -w,
 * which polls the server's own status.
 *
 * Not thread-safe; one process may hold several servers.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_PG_HARNESS_H
#define PAM_POLICY_PG_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define HARNESS_PG_OWNER "pp_owner"
#define HARNESS_PG_HOST_ROLE "pp_host"
#define HARNESS_PG_DB "pam_policy"
#define HARNESS_PG_PORT 5432

struct harness_pg {
	char bindir[4096];   /* initdb, pg_ctl, postgres, psql */
	char dir[128];       /* the mkdtemp directory; also the socket dir */
	char data[160];      /* dir/data: the cluster */
	char log[160];       /* dir/server.log: the server's log */
	uid_t uid;           /* the server's user and group */
	gid_t gid;
	pid_t guardian;      /* removes everything when this process ends */
	int guard_fd;        /* write end of the guardian's pipe */
	bool running;
};

/*
 * harness_pg_unavailable - NULL when a PostgreSQL server can be run here,
 * else the reason why not (a static string: "PostgreSQL server binaries not
 * found under /usr/lib/postgresql/VERSION/bin (make deps installs postgresql)").
 * Tests skip with it (HARNESS_SKIP), never pass.
 */
const char *harness_pg_unavailable(void);

/*
 * harness_pg_create - initdb a new cluster, start it and create the roles
 * and the database described above. settings are extra postgresql.conf
 * lines (NULL: none); the test cluster has fsync off unless settings turn
 * it on again ("fsync = on"). Returns false, with the reason and the tail
 * of the server's log on stderr, when the server did not come up; pg is
 * cleaned up then.
 */
bool harness_pg_create(struct harness_pg *pg, const char *settings);

/*
 * harness_pg_stop - stop the server and wait until it is gone: immediate
 * (pg_ctl -m immediate: the connections are cut as in a crash) or fast
 * (-m fast: sessions are ended cleanly). Returns false when pg_ctl failed.
 */
bool harness_pg_stop(struct harness_pg *pg, bool immediate);

/* harness_pg_start - start the server again after harness_pg_stop. */
bool harness_pg_start(struct harness_pg *pg);

/*
 * harness_pg_destroy - stop the server (immediately) and remove its
 * directory; waits for both. Safe on a pg that failed to create or was
 * already destroyed.
 */
void harness_pg_destroy(struct harness_pg *pg);

/*
 * harness_pg_conninfo - the libpq connection string for role user (NULL:
 * HARNESS_PG_HOST_ROLE) on the test database, over the Unix socket:
 * "host=DIR port=5432 dbname=pam_policy user=pp_host". Returns buf.
 */
char *harness_pg_conninfo(const struct harness_pg *pg, const char *user,
			  char *buf, size_t len);

/*
 * harness_pg_sql - run sql with psql as HARNESS_PG_OWNER on database db
 * (NULL: HARNESS_PG_DB), stopping at the first error. Output is unaligned
 * tuples only (psql -At: "a|b" per row), NUL-terminated in out (truncated
 * to len; out may be NULL), with the trailing newline removed. stderr goes
 * to the test's stderr. Returns psql's exit status (0: every statement
 * succeeded), -1 when psql could not be run.
 */
int harness_pg_sql(const struct harness_pg *pg, const char *db, const char *sql,
		   char *out, size_t len);

#endif
