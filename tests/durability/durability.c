/*
 * durability.c - kill -9 pam_policyd again and again while several writers
 * record passwords, then prove that nothing acknowledged was lost
 * (make check-durability; not part of make check: it takes minutes).
 *
 *   durability BUILD_DIR
 *
 * A real BUILD_DIR/pam_policyd -f runs on a private directory (its own
 * socket, state, audit log and configuration, written by
 * harness_daemon_start). DURABILITY_WRITERS threads loop on
 * request_record() with a password never used before; only after PP_OK
 * came back does a writer append "user password" to its own journal file
 * and fdatasync it. Meanwhile the main thread waits (on a condition
 * variable, no sleeping) until the current daemon has acknowledged a
 * record, waits a random 0..DURABILITY_MAX_MS more, sends SIGKILL, reaps it
 * and restarts it, waiting for its readiness notification; DURABILITY_KILLS
 * times. Then, with the writers stopped and the daemon started once more
 * over the last crash:
 *
 *   - every journalled (user, password) is checked with request_check():
 *     the daemon must answer "reused" (and a never-recorded password must
 *     not be, so the check is not vacuous);
 *   - the daemon is stopped with SIGTERM and must exit 0;
 *   - the store must open with store_open_sqlite() (PRAGMA integrity_check)
 *     and each user's history must hold at least the acknowledged records;
 *   - BUILD_DIR/pam_policyctl audit verify must say the chain is intact,
 *     and the log must hold a password_changed event for every
 *     acknowledged record (the record handler audits before it replies).
 *
 * It prints one summary line and exits 0 when all of that holds, 1 when
 * anything was lost or broken (the directory is kept for inspection), 2
 * on a set-up error. Knobs: DURABILITY_KILLS (100), DURABILITY_WRITERS (8),
 * DURABILITY_MAX_MS (500), DURABILITY_SEED (random; printed), and
 * DURABILITY_KEEP=1 to keep the directory after a clean run. Test
 * passwords never appear in argv or in the environment; the daemon's own
 * output goes to DIR/daemon.log.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <sodium.h>

#include "harness.h"
#include "proto.h"
#include "request.h"
#include "store.h"

#define TIMEOUT_MS 10000
#define HISTORY 400              /* POLICY_MAX_HISTORY: deepest check allowed */
/*
 * Attempts (not acknowledgements) per user: an unacknowledged record may
 * still have been committed, and must not push an acknowledged one out of
 * the HISTORY newest entries.
 */
#define PER_USER_ATTEMPTS 300
#define MAX_USERS_PER_WRITER 4096
#define MAX_WRITERS 64
#define START_ACK_WAIT_S 60      /* a restarted daemon must ack within this */

static const char *prog = "durability";

__attribute__((noreturn, format(printf, 1, 2)))
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static long env_long(const char *name, long dflt, long min, long max)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || v[0] == '\0')
		return dflt;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		die("%s=%s: expected a number in %ld..%ld", name, v, min, max);
	return n;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*: reproducible from DURABILITY_SEED. */
static uint64_t rnd_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* ---- shared state ---- */

static char dir[4096];
static char sock_path[4200];     /* copied once: the harness rewrites its struct */
static struct harness_daemon daemon_state;
static int daemon_log_fd = -1;

static atomic_bool stop_writers;
static atomic_int in_flight;     /* requests sent and not yet answered */

static pthread_mutex_t ack_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ack_cond = PTHREAD_COND_INITIALIZER;
static unsigned long acked_total;  /* under ack_lock */

enum err_kind { E_UNREACHABLE, E_PROTOCOL, E_TIMEOUT, E_BUSY, E_OTHER, E_KINDS };

struct writer {
	int id;
	pthread_t thread;
	int journal_fd;
	char journal[4300];
	uint64_t seed;
	unsigned long attempts, acked;
	unsigned long errors[E_KINDS];
	pp_err first_other;          /* first error of kind E_OTHER */
};

static struct writer writers[MAX_WRITERS];
static int n_writers;

static enum err_kind classify(pp_err rc)
{
	switch (rc) {
	case PP_ERR_UNREACHABLE: return E_UNREACHABLE;
	case PP_ERR_PROTOCOL:
	case PP_ERR_IO:          return E_PROTOCOL;
	case PP_ERR_TIMEOUT:     return E_TIMEOUT;
	case PP_ERR_BUSY:        return E_BUSY;
	default:                 return E_OTHER;
	}
}

static void user_name(char *buf, size_t len, int w, unsigned long u)
{
	snprintf(buf, len, "dur%02du%04lu", w, u);
}

/* Append one acknowledged record to the writer's journal, durably. */
static void journal_append(struct writer *w, const char *user, const char *pw)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "%s %s\n", user, pw);
	ssize_t put;

	put = write(w->journal_fd, line, (size_t)n);
	if (put != n || fdatasync(w->journal_fd) != 0)
		die("journal %s: %s", w->journal, strerror(errno));
	sodium_memzero(line, sizeof(line));
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char user[64], pw[128];

	while (!atomic_load(&stop_writers)) {
		unsigned long u = w->attempts / PER_USER_ATTEMPTS;
		pp_err rc;

		if (u >= MAX_USERS_PER_WRITER)
			die("writer %d: more than %d users", w->id, MAX_USERS_PER_WRITER);
		user_name(user, sizeof(user), w->id, u);
		/* Unique per (writer, attempt): no other record can match it. */
		snprintf(pw, sizeof(pw), "Dur-%02d-%07lu-%016" PRIx64, w->id, w->attempts,
			 rnd_next(&w->seed));
		w->attempts++;
		atomic_fetch_add(&in_flight, 1);
		rc = request_record(sock_path, TIMEOUT_MS, user, pw, HISTORY, "durability");
		atomic_fetch_sub(&in_flight, 1);
		if (rc == PP_OK) {
			journal_append(w, user, pw);
			w->acked++;
			pthread_mutex_lock(&ack_lock);
			acked_total++;
			pthread_cond_broadcast(&ack_cond);
			pthread_mutex_unlock(&ack_lock);
		} else {
			enum err_kind k = classify(rc);
			if (k == E_OTHER && w->errors[E_OTHER] == 0)
				w->first_other = rc;
			w->errors[k]++;
			if (k == E_UNREACHABLE) {
				/* The daemon is down: do not spin while it restarts. */
				struct timespec ts = { 0, 1000000 };
				nanosleep(&ts, NULL);
			}
		}
	}
	sodium_memzero(pw, sizeof(pw));
	return NULL;
}

/* ---- the daemon ---- */

static const char *daemon_extra_config =
	"history = 400\n"
	"min_age_days = 0\n"
	"max_age_days = 0\n";

/* Start (or restart) the daemon with its stdout/stderr in DIR/daemon.log. */
static bool daemon_start(void)
{
	int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
	bool ok;

	if (saved_out < 0 || saved_err < 0)
		die("dup: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	if (dup2(daemon_log_fd, STDOUT_FILENO) < 0 || dup2(daemon_log_fd, STDERR_FILENO) < 0)
		die("dup2: %s", strerror(errno));
	ok = harness_daemon_start(&daemon_state, dir, daemon_extra_config, false);
	fflush(stderr);
	if (dup2(saved_out, STDOUT_FILENO) < 0 || dup2(saved_err, STDERR_FILENO) < 0)
		abort();
	close(saved_out);
	close(saved_err);
	return ok;
}

static void show_daemon_log_tail(void)
{
	char path[4300], *text;
	size_t len;

	snprintf(path, sizeof(path), "%s/daemon.log", dir);
	text = harness_read(path);
	if (text == NULL)
		return;
	len = strlen(text);
	fprintf(stderr, "%s: last lines of %s:\n%s", prog, path,
		len > 2000 ? text + len - 2000 : text);
	free(text);
}

/* Wait until acked_total > since, or the timeout; true when it did. */
static bool wait_for_ack(unsigned long since, int timeout_s)
{
	struct timespec deadline;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_s;
	pthread_mutex_lock(&ack_lock);
	while (acked_total <= since) {
		if (pthread_cond_timedwait(&ack_cond, &ack_lock, &deadline) == ETIMEDOUT)
			break;
	}
	ok = acked_total > since;
	pthread_mutex_unlock(&ack_lock);
	return ok;
}

static unsigned long acked_now(void)
{
	unsigned long n;

	pthread_mutex_lock(&ack_lock);
	n = acked_total;
	pthread_mutex_unlock(&ack_lock);
	return n;
}

/* ---- the journal, read back ---- */

struct record {
	int writer;
	unsigned long user;
	char *password;
};

struct user_tally {
	unsigned long acked;          /* journalled records */
	unsigned long audited;        /* password_changed events in the log */
	bool seen;
};

static struct user_tally *tally;  /* [writer * MAX_USERS_PER_WRITER + user] */
static struct record *records;
static size_t n_records;

static struct user_tally *tally_of(int w, unsigned long u)
{
	return &tally[(size_t)w * MAX_USERS_PER_WRITER + u];
}

static void journals_read(void)
{
	size_t cap = 1024;

	records = calloc(cap, sizeof(*records));
	tally = calloc((size_t)n_writers * MAX_USERS_PER_WRITER, sizeof(*tally));
	if (records == NULL || tally == NULL)
		die("out of memory");
	for (int i = 0; i < n_writers; i++) {
		FILE *f = fopen(writers[i].journal, "re");
		char *line = NULL;
		size_t linecap = 0;
		ssize_t got;
		size_t lines = 0;

		if (f == NULL)
			die("%s: %s", writers[i].journal, strerror(errno));
		while ((got = getline(&line, &linecap, f)) > 0) {
			int w;
			unsigned long u;
			char pw[128];

			if (sscanf(line, "dur%2du%4lu %127s", &w, &u, pw) != 3 || w != i ||
			    u >= MAX_USERS_PER_WRITER)
				die("%s: bad line", writers[i].journal);
			if (n_records == cap) {
				struct record *more = realloc(records, 2 * cap * sizeof(*records));
				if (more == NULL)
					die("out of memory");
				records = more;
				cap *= 2;
			}
			records[n_records].writer = w;
			records[n_records].user = u;
			records[n_records].password = strdup(pw);
			if (records[n_records].password == NULL)
				die("out of memory");
			n_records++;
			lines++;
			tally_of(w, u)->acked++;
			tally_of(w, u)->seen = true;
			sodium_memzero(pw, sizeof(pw));
		}
		free(line);
		fclose(f);
		if (lines != writers[i].acked)
			die("%s: %zu lines for %lu acknowledgements", writers[i].journal,
			    lines, writers[i].acked);
	}
}

/* ---- verification through the daemon ---- */

struct checker {
	pthread_t thread;
	size_t from, to;             /* records[from..to) */
	unsigned long lost, unverifiable, false_positive;
	pp_err first_error;
};

static void *checker_main(void *arg)
{
	struct checker *c = arg;
	char user[64];

	for (size_t i = c->from; i < c->to; i++) {
		struct request_check_result res;
		pp_err rc = PP_ERR_INTERNAL;

		user_name(user, sizeof(user), records[i].writer, records[i].user);
		for (int attempt = 0; attempt < 3; attempt++) {
			memset(&res, 0, sizeof(res));
			rc = request_check(sock_path, TIMEOUT_MS, user, records[i].password, 0,
					   HISTORY, 0, &res);
			if (rc == PP_OK)
				break;
		}
		if (rc != PP_OK) {
			if (c->unverifiable++ == 0)
				c->first_error = rc;
		} else if (!res.reused) {
			if (c->lost++ < 10)
				fprintf(stderr, "%s: LOST: %s's record %zu (acknowledged, not "
					"in the history)\n", prog, user, i);
		}
	}
	return NULL;
}

/* A password nobody recorded must not look reused (one per writer's first user). */
static unsigned long negative_checks(unsigned long *done)
{
	unsigned long bad = 0;
	char user[64];

	*done = 0;
	for (int w = 0; w < n_writers; w++) {
		struct request_check_result res;

		if (!tally_of(w, 0)->seen)
			continue;
		user_name(user, sizeof(user), w, 0);
		memset(&res, 0, sizeof(res));
		if (request_check(sock_path, TIMEOUT_MS, user, "Never-recorded-0", 0, HISTORY,
				  0, &res) != PP_OK || res.reused)
			bad++;
		(*done)++;
	}
	return bad;
}

/* ---- the store, with the daemon stopped ---- */

static bool store_verify(unsigned long *users, unsigned long *short_users)
{
	char err[1024] = "";
	struct store *st = NULL;
	size_t count = 0;
	pp_err rc;

	*users = 0;
	*short_users = 0;
	rc = store_open_sqlite(daemon_state.state, &st, err, sizeof(err));
	if (rc != PP_OK) {
		fprintf(stderr, "%s: STORE: does not open: %s\n", prog,
			err[0] ? err : pp_strerror(rc));
		return false;
	}
	if (store_user_count(st, &count) != PP_OK) {
		fprintf(stderr, "%s: STORE: user count: %s\n", prog, store_errmsg(st));
		store_close(st);
		return false;
	}
	*users = count;
	for (int w = 0; w < n_writers; w++) {
		for (unsigned long u = 0; u < MAX_USERS_PER_WRITER; u++) {
			struct store_user su;
			char name[64];

			if (!tally_of(w, u)->seen)
				continue;
			user_name(name, sizeof(name), w, u);
			if (store_user_get(st, name, &su) != PP_OK ||
			    (unsigned long)su.history_count < tally_of(w, u)->acked) {
				if ((*short_users)++ < 10)
					fprintf(stderr, "%s: STORE: %s holds fewer entries than "
						"its %lu acknowledged records\n", prog, name,
						tally_of(w, u)->acked);
			}
			sodium_memzero(&su, sizeof(su));
		}
	}
	store_close(st);
	return *short_users == 0;
}

/* ---- the audit log ---- */

/*
 * Run BUILD/pam_policyctl -c CONFIG audit verify; true when it exits 0.
 * *lines gets N from its "clean: N lines, chain intact"; *out its first line.
 */
static bool audit_verify(const char *build, unsigned long *lines, char *out, size_t outlen)
{
	char ctl[4300];
	int pfd[2], status;
	ssize_t got;
	size_t used = 0;
	pid_t pid;

	snprintf(ctl, sizeof(ctl), "%s/pam_policyctl", build);
	if (pipe2(pfd, O_CLOEXEC) != 0)
		die("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		execl(ctl, "pam_policyctl", "-c", daemon_state.config, "audit", "verify",
		      (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	out[0] = '\0';
	while (used + 1 < outlen &&
	       (got = read(pfd[0], out + used, outlen - used - 1)) > 0)
		used += (size_t)got;
	out[used] = '\0';
	out[strcspn(out, "\n")] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*lines = 0;
	if (sscanf(out, "clean: %lu lines", lines) != 1)
		*lines = 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	       strstr(out, "chain intact") != NULL;
}

/* Count password_changed events per user; records beyond them are unaudited. */
static unsigned long audit_count_events(unsigned long *events)
{
	FILE *f = fopen(daemon_state.audit, "re");
	char *line = NULL;
	size_t cap = 0;
	unsigned long missing = 0;

	*events = 0;
	if (f == NULL) {
		fprintf(stderr, "%s: AUDIT: %s: %s\n", prog, daemon_state.audit,
			strerror(errno));
		return n_records ? n_records : 1;
	}
	while (getline(&line, &cap, f) > 0) {
		const char *u;
		int w;
		unsigned long n;

		if (strstr(line, "\"event\":\"password_changed\"") == NULL)
			continue;
		u = strstr(line, "\"user\":\"");
		if (u == NULL || sscanf(u, "\"user\":\"dur%2du%4lu\"", &w, &n) != 2 ||
		    w < 0 || w >= n_writers || n >= MAX_USERS_PER_WRITER)
			continue;
		tally_of(w, n)->audited++;
		(*events)++;
	}
	free(line);
	fclose(f);
	for (int w = 0; w < n_writers; w++)
		for (unsigned long n = 0; n < MAX_USERS_PER_WRITER; n++) {
			struct user_tally *t = tally_of(w, n);
			if (t->seen && t->audited < t->acked) {
				if (missing == 0)
					fprintf(stderr, "%s: AUDIT: dur%02du%04lu has %lu acknowledged "
						"records but %lu password_changed events\n", prog, w,
						n, t->acked, t->audited);
				missing += t->acked - t->audited;
			}
		}
	return missing;
}

/* ---- main ---- */

int main(int argc, char **argv)
{
	char path[4300], verify_out[512];
	long kills, max_ms;
	uint64_t seed, rng;
	double t0, restart_max = 0, restart_sum = 0;
	unsigned long kills_in_flight = 0, lost = 0, unverifiable = 0;
	unsigned long store_users = 0, short_users = 0, audit_lines = 0, audit_events = 0;
	unsigned long unaudited, neg_done = 0, neg_bad, errors[E_KINDS] = { 0 };
	unsigned long attempts = 0;
	pp_err first_other = PP_OK, first_check_error = PP_OK;
	bool store_ok, chain_ok, term_ok, failed;
	struct checker *checkers;
	int status;

	if (argc != 2)
		die("usage: %s BUILD_DIR", prog);
	t0 = now_s();
	kills = env_long("DURABILITY_KILLS", 100, 1, 1000000);
	n_writers = (int)env_long("DURABILITY_WRITERS", 8, 1, MAX_WRITERS);
	max_ms = env_long("DURABILITY_MAX_MS", 500, 0, 60000);
	if (sodium_init() < 0)
		die("libsodium failed to start");
	seed = (uint64_t)env_long("DURABILITY_SEED", 0, 0, LONG_MAX);
	if (seed == 0)
		seed = (randombytes_random() & 0x7fffffffu) | 1u;
	rng = seed;
	signal(SIGPIPE, SIG_IGN);
	setenv("PAM_POLICY_TEST_BUILD", argv[1], 1);
	umask(077);

	harness_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/daemon.log", dir);
	daemon_log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (daemon_log_fd < 0)
		die("%s: %s", path, strerror(errno));
	printf("durability: %ld kills, %d writers, seed %" PRIu64 ", in %s\n", kills,
	       n_writers, seed, dir);
	fflush(stdout);

	if (!daemon_start()) {
		show_daemon_log_tail();
		die("pam_policyd did not start (directory %s kept)", dir);
	}
	snprintf(sock_path, sizeof(sock_path), "%s", daemon_state.socket);

	for (int i = 0; i < n_writers; i++) {
		struct writer *w = &writers[i];

		w->id = i;
		w->seed = rnd_next(&rng) | 1u;
		snprintf(w->journal, sizeof(w->journal), "%s/journal.%02d", dir, i);
		w->journal_fd = open(w->journal, O_WRONLY | O_CREAT | O_EXCL | O_APPEND |
				     O_CLOEXEC, 0600);
		if (w->journal_fd < 0)
			die("%s: %s", w->journal, strerror(errno));
		if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
			die("pthread_create failed");
	}

	for (long k = 1; k <= kills; k++) {
		unsigned long before = acked_now();
		struct timespec delay;
		uint64_t ns;
		double t;

		/* Kill only a daemon that is serving the writers. */
		if (!wait_for_ack(before, START_ACK_WAIT_S)) {
			atomic_store(&stop_writers, true);
			fprintf(stderr, "%s: DAEMON: no record acknowledged within %d s after "
				"start %ld (pid %d)\n", prog, START_ACK_WAIT_S, k,
				(int)daemon_state.pid);
			show_daemon_log_tail();
			harness_daemon_kill(&daemon_state);
			fprintf(stderr, "%s: directory %s kept\n", prog, dir);
			return 1;
		}
		ns = max_ms > 0 ? rnd_next(&rng) % ((uint64_t)max_ms * 1000000u) : 0;
		delay.tv_sec = (time_t)(ns / 1000000000u);
		delay.tv_nsec = (long)(ns % 1000000000u);
		nanosleep(&delay, NULL);   /* a random moment, not synchronisation */
		if (atomic_load(&in_flight) > 0)
			kills_in_flight++;
		if (waitpid(daemon_state.pid, &status, WNOHANG) == daemon_state.pid) {
			atomic_store(&stop_writers, true);
			fprintf(stderr, "%s: DAEMON: exited by itself before kill %ld "
				"(status 0x%x)\n", prog, k, (unsigned)status);
			show_daemon_log_tail();
			fprintf(stderr, "%s: directory %s kept\n", prog, dir);
			return 1;
		}
		harness_daemon_kill(&daemon_state);
		if (k == kills)
			atomic_store(&stop_writers, true);
		t = now_s();
		if (!daemon_start()) {
			atomic_store(&stop_writers, true);
			fprintf(stderr, "%s: DAEMON: did not restart after kill %ld\n", prog, k);
			show_daemon_log_tail();
			fprintf(stderr, "%s: directory %s kept\n", prog, dir);
			for (int i = 0; i < n_writers; i++)
				pthread_join(writers[i].thread, NULL);
			return 1;
		}
		t = now_s() - t;
		restart_sum += t;
		if (t > restart_max)
			restart_max = t;
	}
	for (int i = 0; i < n_writers; i++) {
		pthread_join(writers[i].thread, NULL);
		close(writers[i].journal_fd);
		for (int e = 0; e < E_KINDS; e++)
			errors[e] += writers[i].errors[e];
		if (writers[i].errors[E_OTHER] && first_other == PP_OK)
			first_other = writers[i].first_other;
	}

	/* The daemon now runs over the state the last kill left. */
	journals_read();
	checkers = calloc((size_t)n_writers, sizeof(*checkers));
	if (checkers == NULL)
		die("out of memory");
	for (int i = 0; i < n_writers; i++) {
		checkers[i].from = n_records * (size_t)i / (size_t)n_writers;
		checkers[i].to = n_records * (size_t)(i + 1) / (size_t)n_writers;
		if (pthread_create(&checkers[i].thread, NULL, checker_main, &checkers[i]) != 0)
			die("pthread_create failed");
	}
	for (int i = 0; i < n_writers; i++) {
		pthread_join(checkers[i].thread, NULL);
		lost += checkers[i].lost;
		unverifiable += checkers[i].unverifiable;
		if (checkers[i].unverifiable && first_check_error == PP_OK)
			first_check_error = checkers[i].first_error;
	}
	neg_bad = negative_checks(&neg_done);

	status = harness_daemon_stop(&daemon_state);
	term_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (!term_ok)
		fprintf(stderr, "%s: DAEMON: SIGTERM ended it with status 0x%x\n", prog,
			(unsigned)status);
	store_ok = store_verify(&store_users, &short_users);
	chain_ok = audit_verify(argv[1], &audit_lines, verify_out, sizeof(verify_out));
	if (!chain_ok)
		fprintf(stderr, "%s: AUDIT: pam_policyctl audit verify: %s\n", prog,
			verify_out[0] ? verify_out : "(no output)");
	unaudited = audit_count_events(&audit_events);

	if (unverifiable)
		fprintf(stderr, "%s: CHECK: %lu records could not be checked (first: %s)\n",
			prog, unverifiable, pp_strerror(first_check_error));
	if (neg_bad)
		fprintf(stderr, "%s: CHECK: %lu of %lu never-recorded passwords came back "
			"as reused or failed\n", prog, neg_bad, neg_done);
	for (int i = 0; i < n_writers; i++)
		attempts += writers[i].attempts;
	printf("durability: %lu record attempts (%lu password_changed events); failed "
	       "while the daemon was down or killed: %lu unreachable or cut, %lu malformed "
	       "reply, %lu timeout, %lu busy, %lu other%s%s%s; restart %.3f s mean, "
	       "%.3f s max; %lu of %ld kills with requests in flight\n",
	       attempts, audit_events, errors[E_UNREACHABLE], errors[E_PROTOCOL],
	       errors[E_TIMEOUT], errors[E_BUSY], errors[E_OTHER],
	       errors[E_OTHER] ? " (first: " : "",
	       errors[E_OTHER] ? pp_strerror(first_other) : "",
	       errors[E_OTHER] ? ")" : "",
	       restart_sum / (double)kills, restart_max, kills_in_flight, kills);

	failed = lost || unverifiable || neg_bad || !term_ok || !store_ok || !chain_ok ||
		 unaudited || n_records == 0;
	printf("durability: %ld kills, %d writers, %zu acknowledged records, %lu lost, "
	       "%s (%lu lines, %lu unaudited), store %s (%lu users), %.0f s%s\n",
	       kills, n_writers, n_records, lost + unverifiable,
	       chain_ok ? "audit chain intact" : "AUDIT CHAIN BROKEN", audit_lines,
	       unaudited, store_ok ? "intact" : "DAMAGED", store_users, now_s() - t0,
	       failed ? ": FAIL" : "");

	for (size_t i = 0; i < n_records; i++) {
		sodium_memzero(records[i].password, strlen(records[i].password));
		free(records[i].password);
	}
	free(records);
	free(tally);
	free(checkers);
	close(daemon_log_fd);
	if (failed) {
		fprintf(stderr, "%s: directory %s kept (daemon.log, journal.*)\n", prog, dir);
		return 1;
	}
	if (getenv("DURABILITY_KEEP") == NULL)
		harness_rmtree(dir);
	return 0;
}
