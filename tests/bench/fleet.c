/*
 * fleet.c - make bench, part P: the fleet on PostgreSQL (DESIGN.md §7, §12).
 *
 * usage: bench_fleet BUILD WORK RESULTS   (run by tests/bench/bench.sh under
 *        nss_wrapper, with the st0000..st0999 users of its passwd file)
 *
 * One PostgreSQL server (tests/pg_harness.h, fsync on) and, in one run:
 *
 *   1. the same daemon twice, store = sqlite and store = postgresql: the
 *      latency of a record (a password change, sequential, one user each)
 *      and of status queries from 64 concurrent clients on each (a
 *      connection per query, as the module does, paced open loop), both
 *      stores at the same time so that the load of the machine falls on
 *      both alike;
 *   2. a simulated fleet of BENCH_FLEET_HOSTS (20) daemons on this machine
 *      on that one database, under a login load (the account phase's
 *      request, sent to random hosts at BENCH_FLEET_LOGIN_RATE per
 *      second), while BENCH_FLEET_CHANGES changes are recorded on host 1:
 *      for each, the time until every other host answers with it (its
 *      status shows the new password in the history), p50 and p99; and
 *      the database's connections (pg_stat_activity) and transactions
 *      per second (pg_stat_database.xact_commit over a window of
 *      BENCH_FLEET_SECONDS, 20, at least the time the changes take).
 *
 * The daemons hash with the test parameters (argon2id ops 1, 8 MiB; see
 * tests/harness.c) so that the store's share of a record shows.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "pg_harness.h"
#include "request.h"

#define TIMEOUT_MS 30000
#define STATUS_CLIENTS 64
#define POLICY "max_age_days = 90\nwarn_days = 14\nmin_age_days = 0\nhistory = 5\n"
/* A change not visible everywhere by then is reported as lost. */
#define VISIBLE_DEADLINE_S 30
/* The hosts wait this long to catch up with host 1 before the load starts. */
#define CATCH_UP_DEADLINE_S 120
#define MAX_HOSTS 64
/* Longer than PostgreSQL's 10 s idle interval for reporting statistics. */
#define PG_STATS_SETTLE_MS 11000

static const char *results_path;
static char work[4096];

static struct harness_pg pg;
static struct harness_daemon sqlite_d;
static struct harness_daemon hosts[MAX_HOSTS];
static int nhosts;

__attribute__((noreturn, format(printf, 1, 2)))
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("bench fleet: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void stop_everything(void)
{
	for (int i = 0; i < nhosts; i++)
		if (hosts[i].pid > 0)
			harness_daemon_kill(&hosts[i]);
	if (sqlite_d.pid > 0)
		harness_daemon_kill(&sqlite_d);
	harness_pg_destroy(&pg);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int env_int(const char *name, int def)
{
	const char *v = getenv(name);
	int n = v ? atoi(v) : 0;

	return n > 0 ? n : def;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n). */
static uint64_t pct(const uint64_t *v, size_t n, double p)
{
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);

	if (n == 0)
		return 0;
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

__attribute__((format(printf, 3, 4)))
static void result(const char *verdict, const char *target, const char *fmt, ...)
{
	va_list ap;
	FILE *f = fopen(results_path, "a");

	if (f == NULL)
		die("%s: %s", results_path, strerror(errno));
	fprintf(f, "%s\t%s\t", verdict, target);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* /proc/loadavg's first three fields and a newline: the machine is shared. */
static const char *loadavg(void)
{
	static char buf[128];
	FILE *f = fopen("/proc/loadavg", "r");
	double a, b, c;

	if (f == NULL || fscanf(f, "%lf %lf %lf", &a, &b, &c) != 3)
		snprintf(buf, sizeof(buf), "unknown\n");
	else
		snprintf(buf, sizeof(buf), "%.2f %.2f %.2f\n", a, b, c);
	if (f != NULL)
		fclose(f);
	return buf;
}

static void user_name(char *buf, size_t len, int i)
{
	snprintf(buf, len, "st%04d", i);
}

static void password_for(char *buf, size_t len, int i)
{
	snprintf(buf, len, "Fleet-Bench-%05d-Qz", i);
}

/* ---- the daemons ---- */

/*
 * Start a daemon in WORK/name with extra config; its log goes to
 * WORK/name.log (the bench prints tables, not daemon chatter).
 */
static void daemon_up(struct harness_daemon *d, const char *name, const char *extra,
		      const char *pepper_from)
{
	char dir[4300], log[4400], config[8192], state[4400];
	int saved, fd;
	bool ok;

	snprintf(dir, sizeof(dir), "%s/%s", work, name);
	snprintf(log, sizeof(log), "%s/%s.log", work, name);
	snprintf(state, sizeof(state), "%s/state", dir);
	if (mkdir(dir, 0700) != 0 || mkdir(state, 0700) != 0)
		die("mkdir %s: %s", dir, strerror(errno));
	if (pepper_from != NULL) {
		char to[4500], *bytes;
		struct stat st;
		int in = open(pepper_from, O_RDONLY | O_CLOEXEC), out;

		snprintf(to, sizeof(to), "%s/pepper", state);
		if (in < 0 || fstat(in, &st) != 0)
			die("%s: %s", pepper_from, strerror(errno));
		bytes = malloc((size_t)st.st_size);
		out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
		if (bytes == NULL || out < 0 ||
		    read(in, bytes, (size_t)st.st_size) != st.st_size ||
		    write(out, bytes, (size_t)st.st_size) != st.st_size || close(out) != 0)
			die("copy the pepper to %s: %s", to, strerror(errno));
		close(in);
		free(bytes);
	}
	snprintf(config, sizeof(config), "%s%s", POLICY, extra);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (saved < 0 || fd < 0 || dup2(fd, STDERR_FILENO) < 0)
		die("%s: %s", log, strerror(errno));
	close(fd);
	ok = harness_daemon_start(d, dir, config, false);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	if (!ok)
		die("the daemon %s did not start; see %s", name, log);
}

static void pg_host_up(int i)
{
	char name[32], extra[1024], conninfo[512], pepper[4400];

	harness_pg_conninfo(&pg, HARNESS_PG_OWNER, conninfo, sizeof(conninfo));
	snprintf(name, sizeof(name), "host%02d", i + 1);
	snprintf(extra, sizeof(extra),
		 "store = postgresql\npostgresql = \"%s\"\nhost_name = %s\n", conninfo, name);
	snprintf(pepper, sizeof(pepper), "%s/pepper", hosts[0].state);
	daemon_up(&hosts[i], name, extra, i == 0 ? NULL : pepper);
	nhosts = i + 1;
}

/* ---- 1. records and status, SQLite beside PostgreSQL ---- */

/* n records (users first..first+n), sequential; latencies into lat_ns. */
static void time_records(const char *socket, int first, int n, uint64_t *lat_ns)
{
	for (int i = 0; i < n; i++) {
		char user[32], pw[64];
		uint64_t t0;
		pp_err rc;

		user_name(user, sizeof(user), first + i);
		password_for(pw, sizeof(pw), first + i);
		t0 = now_ns();
		rc = request_record(socket, TIMEOUT_MS, user, pw, 5, "bench");
		lat_ns[i] = now_ns() - t0;
		if (rc != PP_OK)
			die("record of %s on %s: %s", user, socket, pp_strerror(rc));
	}
}

struct status_job {
	const char *socket;
	int users, count, client;
	uint64_t start_ns, interval_ns;   /* open loop: query i due at start + i*interval */
	uint64_t *lat_ns;
	int failures;
};

static void *status_worker(void *arg)
{
	struct status_job *j = arg;

	for (int i = 0; i < j->count; i++) {
		uint64_t due = j->start_ns + (uint64_t)i * j->interval_ns;
		struct timespec ts = { (time_t)(due / 1000000000u), (long)(due % 1000000000u) };
		struct request_status_result st;
		char user[32];

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		user_name(user, sizeof(user), (j->client * 31 + i * 7) % j->users);
		if (request_status(j->socket, TIMEOUT_MS, user, 90, 14, &st) != PP_OK || !st.found)
			j->failures++;
		/* From the due time: a late answer is charged to those behind it. */
		j->lat_ns[i] = now_ns() - due;
	}
	return NULL;
}

/*
 * Both stores at once: 64 clients on each, each store at rate/s, total
 * queries each; p50/p99 in µs per store. Run side by side, the two see
 * the same machine (a shared, loaded one), which rounds one after the
 * other do not.
 */
static void time_status_both(const char *const sockets[2], int users, int total, int rate,
			     double p50_us[2], double p99_us[2], int failures[2])
{
	int per = total / STATUS_CLIENTS;
	uint64_t interval = (uint64_t)(1e9 * STATUS_CLIENTS / rate);
	uint64_t *lat[2];
	struct status_job jobs[2][STATUS_CLIENTS];
	pthread_t th[2][STATUS_CLIENTS];
	uint64_t start = now_ns() + 100000000u;

	for (int b = 0; b < 2; b++) {
		lat[b] = calloc((size_t)per * STATUS_CLIENTS, sizeof(uint64_t));
		if (lat[b] == NULL)
			die("out of memory");
		failures[b] = 0;
	}
	for (int c = 0; c < STATUS_CLIENTS; c++)
		for (int b = 0; b < 2; b++) {
			/* The two stores' clients interleave within an interval. */
			uint64_t phase = interval * (uint64_t)(2 * c + b) / (2 * STATUS_CLIENTS);

			jobs[b][c] = (struct status_job){ sockets[b], users, per, c, start + phase,
							  interval, lat[b] + (size_t)c * (size_t)per,
							  0 };
			if (pthread_create(&th[b][c], NULL, status_worker, &jobs[b][c]) != 0)
				die("pthread_create");
		}
	for (int c = 0; c < STATUS_CLIENTS; c++)
		for (int b = 0; b < 2; b++) {
			pthread_join(th[b][c], NULL);
			failures[b] += jobs[b][c].failures;
		}
	for (int b = 0; b < 2; b++) {
		qsort(lat[b], (size_t)per * STATUS_CLIENTS, sizeof(uint64_t), cmp_u64);
		p50_us[b] = (double)pct(lat[b], (size_t)per * STATUS_CLIENTS, 50) / 1e3;
		p99_us[b] = (double)pct(lat[b], (size_t)per * STATUS_CLIENTS, 99) / 1e3;
		free(lat[b]);
	}
}

#define STATUS_ROUNDS 5

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_of(const double *v, size_t n)
{
	double s[STATUS_ROUNDS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void part_backends(int users, int queries, int rate)
{
	uint64_t *rec_sq = calloc((size_t)users, sizeof(uint64_t));
	uint64_t *rec_pg = calloc((size_t)users, sizeof(uint64_t));
	double p50[2][STATUS_ROUNDS], p99[2][STATUS_ROUNDS];
	int fails[2][STATUS_ROUNDS];
	const char *names[2] = { "sqlite", "postgresql" };
	const char *const sockets[2] = { sqlite_d.socket, hosts[0].socket };
	double m99[2], m50[2];

	if (rec_sq == NULL || rec_pg == NULL)
		die("out of memory");
	/* Records: the same users on each store, one at a time, alternating halves. */
	time_records(sqlite_d.socket, 0, users / 2, rec_sq);
	time_records(hosts[0].socket, 0, users / 2, rec_pg);
	time_records(hosts[0].socket, users / 2, users - users / 2, rec_pg + users / 2);
	time_records(sqlite_d.socket, users / 2, users - users / 2, rec_sq + users / 2);
	qsort(rec_sq, (size_t)users, sizeof(uint64_t), cmp_u64);
	qsort(rec_pg, (size_t)users, sizeof(uint64_t), cmp_u64);

	printf("  %-34s %10s %10s\n", "record (one change, sequential)", "p50 ms", "p99 ms");
	printf("  %-34s %10.2f %10.2f\n", "  store = sqlite", pct(rec_sq, (size_t)users, 50) / 1e6,
	       pct(rec_sq, (size_t)users, 99) / 1e6);
	printf("  %-34s %10.2f %10.2f\n", "  store = postgresql",
	       pct(rec_pg, (size_t)users, 50) / 1e6, pct(rec_pg, (size_t)users, 99) / 1e6);

	/* Status: both stores side by side, 64 clients each, a few rounds. */
	for (int round = 0; round < STATUS_ROUNDS; round++) {
		double r50[2], r99[2];
		int rf[2];

		time_status_both(sockets, users, queries, rate, r50, r99, rf);
		for (int b = 0; b < 2; b++) {
			p50[b][round] = r50[b];
			p99[b][round] = r99[b];
			fails[b][round] = rf[b];
		}
	}
	printf("\n  status, %d clients on each store at once, conn per query, paced %d/s each, "
	       "%d queries a round each, %d rounds\n", STATUS_CLIENTS, rate, queries,
	       STATUS_ROUNDS);
	for (int b = 0; b < 2; b++) {
		int failed = 0;

		printf("  %-12s p50 µs:", names[b]);
		for (int r = 0; r < STATUS_ROUNDS; r++)
			printf(" %6.0f", p50[b][r]);
		printf("   p99 µs:");
		for (int r = 0; r < STATUS_ROUNDS; r++) {
			printf(" %6.0f", p99[b][r]);
			failed += fails[b][r];
		}
		printf("   failures %d\n", failed);
		m50[b] = median_of(p50[b], STATUS_ROUNDS);
		m99[b] = median_of(p99[b], STATUS_ROUNDS);
	}
	printf("  median of the rounds: p50 sqlite %.0f µs, postgresql %.0f µs; "
	       "p99 sqlite %.0f µs, postgresql %.0f µs (%.2fx)\n", m50[0], m50[1], m99[0],
	       m99[1], m99[1] / m99[0]);
	result(m99[1] <= 1.2 * m99[0] ? "PASS" : "FAIL",
	       "status p99, postgresql <= 1.2x sqlite",
	       "%.0f vs %.0f us (%.2fx), 64 clients each at %d/s", m99[1], m99[0],
	       m99[1] / m99[0], rate);
	free(rec_sq);
	free(rec_pg);
}

/* ---- 2. the fleet ---- */

/* Does host h answer user's status with at least n passwords? */
static bool host_has(const struct harness_daemon *h, const char *user, long n)
{
	struct request_status_result st;

	return request_status(h->socket, TIMEOUT_MS, user, 90, 14, &st) == PP_OK &&
	       st.found && st.history_count >= n;
}

struct load_job {
	int client, clients, users, rate;
	volatile bool *stop;
	long sent, failures;
};

/* The login load: the account phase's request to random hosts, paced. */
static void *login_worker(void *arg)
{
	struct load_job *j = arg;
	uint64_t interval = (uint64_t)(1e9 * j->clients / j->rate);
	uint64_t due = now_ns() + interval * (uint64_t)j->client / (uint64_t)j->clients;
	unsigned seed = (unsigned)j->client * 2654435761u;

	while (!*j->stop) {
		struct timespec ts = { (time_t)(due / 1000000000u), (long)(due % 1000000000u) };
		struct request_status_result st;
		const struct harness_daemon *h = &hosts[rand_r(&seed) % nhosts];
		char user[32];
		pp_err rc;

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		user_name(user, sizeof(user), (int)(rand_r(&seed) % (unsigned)j->users));
		rc = geteuid() == 0
		     ? request_login(h->socket, TIMEOUT_MS, user, 90, 14, 0, &st)
		     : request_status(h->socket, TIMEOUT_MS, user, 90, 14, &st);
		if (rc != PP_OK)
			__atomic_fetch_add(&j->failures, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&j->sent, 1, __ATOMIC_RELAXED);
		due += interval;
	}
	return NULL;
}

/* How many of v[0..n) (ns) lie in [lo_ms, hi_ms). */
static size_t count_between(const uint64_t *v, size_t n, uint64_t lo_ms, uint64_t hi_ms)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i] >= lo_ms * 1000000u && v[i] < hi_ms * 1000000u)
			k++;
	return k;
}

static long logins_sent(struct load_job *jobs, int n)
{
	long sum = 0;

	for (int c = 0; c < n; c++)
		sum += __atomic_load_n(&jobs[c].sent, __ATOMIC_RELAXED);
	return sum;
}

static long pg_number(const char *sql)
{
	char out[64];

	if (harness_pg_sql(&pg, NULL, sql, out, sizeof(out)) != 0)
		die("psql: %s", sql);
	return atol(out);
}

static void part_fleet(int want_hosts, int users, int changes, int login_rate, int window_s)
{
	const int clients = 8;
	struct load_job jobs[8];
	pthread_t th[8];
	volatile bool stop = false;
	uint64_t *every = calloc((size_t)changes, sizeof(uint64_t));
	uint64_t *each = calloc((size_t)changes * (size_t)want_hosts, sizeof(uint64_t));
	size_t neach = 0;
	long commits0, commits1, conns, conns_all, sent0, sent, failures = 0, lost = 0;
	uint64_t t0, t1;
	char last[32];

	if (every == NULL || each == NULL)
		die("out of memory");
	for (int i = nhosts; i < want_hosts; i++)
		pg_host_up(i);
	/* Every host has caught up with host 1 (resynchronised at its start). */
	user_name(last, sizeof(last), users - 1);
	for (int i = 1; i < nhosts; i++) {
		uint64_t deadline = now_ns() + (uint64_t)CATCH_UP_DEADLINE_S * 1000000000u;

		while (!host_has(&hosts[i], last, 1)) {
			if (now_ns() > deadline)
				die("host%02d did not catch up within %d s", i + 1,
				    CATCH_UP_DEADLINE_S);
			pause_ms(10);
		}
	}

	for (int c = 0; c < clients; c++) {
		jobs[c] = (struct load_job){ c, clients, users, login_rate, &stop, 0, 0 };
		if (pthread_create(&th[c], NULL, login_worker, &jobs[c]) != 0)
			die("pthread_create");
	}
	/*
	 * Warm up under the load before the first snapshot: a backend that
	 * went idle reports its counters only up to 10 s later (PostgreSQL's
	 * idle stats interval), so the catch-up of the hosts that just started
	 * would otherwise land in the window. In the steady state both
	 * snapshots lag alike.
	 */
	pause_ms(PG_STATS_SETTLE_MS);
	commits0 = pg_number("SELECT xact_commit FROM pg_stat_database WHERE datname = '"
			     HARNESS_PG_DB "'");
	t0 = now_ns();
	sent0 = logins_sent(jobs, clients);
	for (int k = 0; k < changes; k++) {
		char user[32], pw[64];
		uint64_t start, seen_all = 0, deadline;
		bool pending[MAX_HOSTS];
		int left = nhosts - 1;

		/* Fresh users: a change shows as the user's first password. */
		user_name(user, sizeof(user), users + k);
		password_for(pw, sizeof(pw), users + k);
		for (int i = 1; i < nhosts; i++)
			pending[i] = true;
		start = now_ns();
		if (request_record(hosts[0].socket, TIMEOUT_MS, user, pw, 5, "bench") != PP_OK)
			die("record of %s on host01", user);
		deadline = start + (uint64_t)VISIBLE_DEADLINE_S * 1000000000u;
		while (left > 0 && now_ns() < deadline) {
			for (int i = 1; i < nhosts; i++) {
				if (!pending[i] || !host_has(&hosts[i], user, 1))
					continue;
				pending[i] = false;
				left--;
				seen_all = now_ns() - start;
				each[neach++] = seen_all;
			}
			if (left > 0)
				pause_ms(1);
		}
		if (left > 0) {
			lost++;
			seen_all = (uint64_t)VISIBLE_DEADLINE_S * 1000000000u;
		}
		every[k] = seen_all;
		pause_ms(50);
	}
	/* The load goes on for the whole window (the counters need a long one). */
	while (now_ns() - t0 < (uint64_t)window_s * 1000000000u)
		pause_ms(20);
	conns = pg_number("SELECT count(*) FROM pg_stat_activity WHERE datname = '"
			  HARNESS_PG_DB "' AND pid <> pg_backend_pid()");
	conns_all = pg_number("SELECT count(*) FROM pg_stat_activity "
			      "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()");
	/*
	 * Both snapshots lag by what the backends have not reported yet (they
	 * flush their counters about once a second): over a long window the
	 * error is small.
	 */
	commits1 = pg_number("SELECT xact_commit FROM pg_stat_database WHERE datname = '"
			     HARNESS_PG_DB "'");
	t1 = now_ns();
	sent = logins_sent(jobs, clients) - sent0;
	stop = true;
	for (int c = 0; c < clients; c++) {
		pthread_join(th[c], NULL);
		failures += jobs[c].failures;
	}
	qsort(every, (size_t)changes, sizeof(uint64_t), cmp_u64);
	qsort(each, neach, sizeof(uint64_t), cmp_u64);

	double secs = (double)(t1 - t0) / 1e9;
	printf("  %d daemons on one PostgreSQL, %d users; login load %d/s to random hosts "
	       "(%s), %ld sent in the window, %ld failed in all\n", nhosts, users, login_rate,
	       geteuid() == 0 ? "account-phase login requests" : "status queries, not root",
	       sent, failures);
	printf("  database connections (pg_stat_activity): %ld on %s, %ld client backends "
	       "in all\n", conns, HARNESS_PG_DB, conns_all);
	printf("  database transactions: %.0f commits/s over %.1f s (pg_stat_database), "
	       "%.2f per login sent\n", (double)(commits1 - commits0) / secs, secs,
	       sent > 0 ? (double)(commits1 - commits0) / (double)sent : 0.0);
	printf("  propagation of a change recorded on host01 (%d changes):\n", changes);
	printf("    until every other host answers with it: p50 %.1f ms, p99 %.1f ms, max "
	       "%.1f ms; not everywhere within %d s: %ld\n",
	       pct(every, (size_t)changes, 50) / 1e6, pct(every, (size_t)changes, 99) / 1e6,
	       every[changes - 1] / 1e6, VISIBLE_DEADLINE_S, lost);
	printf("    per host: p50 %.1f ms, p99 %.1f ms (%zu host-changes); %zu took 0.5-1 s, "
	       "%zu 1-1.5 s, %zu longer\n", pct(each, neach, 50) / 1e6,
	       pct(each, neach, 99) / 1e6, neach, count_between(each, neach, 500, 1000),
	       count_between(each, neach, 1000, 1500),
	       count_between(each, neach, 1500, VISIBLE_DEADLINE_S * 1000 + 1));
	result(lost == 0 && pct(every, (size_t)changes, 99) <= 1000000000u ? "PASS" : "FAIL",
	       "fleet: a change on every host within 1 s (p99)",
	       "%.1f ms p99 over %d changes, %d hosts",
	       pct(every, (size_t)changes, 99) / 1e6, changes, nhosts);
	free(every);
	free(each);
}

int main(int argc, char **argv)
{
	const char *why;
	int users, want_hosts;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 4) {
		fprintf(stderr, "usage: bench_fleet BUILD WORK RESULTS\n");
		return 2;
	}
	results_path = argv[3];
	signal(SIGPIPE, SIG_IGN);
	if (setenv("PAM_POLICY_TEST_BUILD", argv[1], 1) != 0)
		die("setenv");
	/* The daemons' logs go to files; keep the journal out of it. */
	unsetenv("JOURNAL_STREAM");
	why = harness_pg_unavailable();
	if (why != NULL) {
		printf("  skipped: %s\n", why);
		result("SKIP", "fleet", "%s", why);
		return 0;
	}
	snprintf(work, sizeof(work), "%s/fleet", argv[2]);
	if (mkdir(work, 0700) != 0 && errno != EEXIST)
		die("mkdir %s: %s", work, strerror(errno));
	users = env_int("BENCH_FLEET_USERS", 200);
	want_hosts = env_int("BENCH_FLEET_HOSTS", 20);
	if (want_hosts > MAX_HOSTS || want_hosts < 2)
		die("BENCH_FLEET_HOSTS must be 2..%d", MAX_HOSTS);
	if (users + env_int("BENCH_FLEET_CHANGES", 100) > 1000)
		die("BENCH_FLEET_USERS + BENCH_FLEET_CHANGES must stay within the 1000 st users");
	atexit(stop_everything);
	if (!harness_pg_create(&pg, "fsync = on\nmax_connections = 300\n"))
		die("the PostgreSQL server did not start");
	printf("  PostgreSQL from %s, fsync on, Unix socket; load average %s", pg.bindir,
	       loadavg());
	daemon_up(&sqlite_d, "sqlite", "store = sqlite\n", NULL);
	pg_host_up(0);

	part_backends(users, env_int("BENCH_FLEET_STATUS_QUERIES", 20000),
		      env_int("BENCH_FLEET_STATUS_RATE", 2000));
	printf("\n");
	part_fleet(want_hosts, users, env_int("BENCH_FLEET_CHANGES", 100),
		   env_int("BENCH_FLEET_LOGIN_RATE", 1000), env_int("BENCH_FLEET_SECONDS", 20));
	return 0;
}
