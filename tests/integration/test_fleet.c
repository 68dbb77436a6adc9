/*
 * test_fleet.c - two hosts share one history and one rotation clock on a
 * real PostgreSQL server (store = postgresql).
 *
 * Each test starts its own PostgreSQL cluster (tests/pg_harness.h: a
 * temporary directory, an unprivileged server user, a Unix socket only)
 * and two pam_policyd daemons, "host-a" and "host-b", each with its own
 * socket, state directory (its local replica and outbox), audit log and
 * PAM service file, both on the one database and with the one pepper of
 * the fleet (host-a makes it, host-b gets a copy, as an admin would copy
 * it). The module runs in this process through the real libpam
 * (pam_start_confdir), once with each host's service file.
 *
 * What a user or an admin would notice is asserted:
 *   - a password recorded through host-a's stack is refused on host-b,
 *     and so is one similar to it (the same skeleton), also when host-a
 *     recorded it while the database was away;
 *   - a login with a breached password on host-a forces a change on
 *     host-b too, which says why; the change clears it on both;
 *   - a change on host-a resets host-b's rotation clock (host-b stops
 *     asking for a change and its status shows the new last change);
 *   - with the database stopped, both hosts still answer the account
 *     phase from their replica, changes are acknowledged (outbox) and
 *     replayed when the database returns, nothing is lost, also across
 *     a kill -9 of a daemon with a non-empty outbox; doctor and status
 *     say the host is degraded and since when;
 *   - a daemon with another pepper refuses to start, saying why.
 *
 * The daemons run under libfaketime (each its own clock file) so that
 * "90 days later" is a file write; this process keeps real time. Waiting
 * for a change to reach the other host polls what the user would see
 * (the other host's status) with a bounded deadline; nothing sleeps for
 * a fixed time to synchronise.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

#include "harness.h"
#include "pg_harness.h"
#include "request.h"

#define SERVICE "fleet"
#define DAY 86400
#define POLICY_TEXT "max_age_days = 90\nwarn_days = 14\nmin_age_days = 0\nhistory = 5\n"
/* How long a change may take to show on the other host before we give up. */
#define PROPAGATION_DEADLINE_S 60
/* Between two looks at a condition we poll on (not a synchronisation). */
#define POLL_INTERVAL_MS 20
/* A daemon expected to refuse to start must have exited by then. */
#define REFUSAL_DEADLINE_S 60

#define PW1 "Correct-Horse-7"
#define PW2 "Violet-Anchor-58"
#define PW3 "Brisk-Lantern-31"
#define PW4 "Amber-Quill-94"

static const char *const all_passwords[] = { PW1, PW2, PW3, PW4, NULL };

/* One skeleton: the same core and shape, another year (test_skeleton.c). */
#define SUMMER_A "Tulip-Harbor-Quartz-2024!"
#define SUMMER_B "Tulip-Harbor-Quartz-2025!"
/* Another skeleton, and one of its variants. */
#define OTHER_A "Velvet-Comet-Osprey-61#"
#define OTHER_B "velvet-comet-osprey-73%"
#define SIMILAR_TEXT "It is too similar to a recent password."
#define REQUEST_TIMEOUT_MS 10000

struct host {
	const char *name;       /* host_name in its config */
	const char *role;       /* the PostgreSQL role it connects as */
	char dir[4096];         /* its socket, state, audit log, config, PAM service */
	char written[4200];     /* what the test writer module stored */
	char log[4200];         /* the daemon's stderr, last start */
	char pepper[4300];      /* state/pepper */
	struct harness_daemon d;
};

static struct harness_pg pg;
static bool pg_up;
/*
 * host-a connects as the database's owner and creates the schema; host-b
 * as a host role with only the grants pam_policy-fleet(7) lists.
 */
static struct host host_a = { .name = "host-a", .role = HARNESS_PG_OWNER };
static struct host host_b = { .name = "host-b", .role = HARNESS_PG_HOST_ROLE };

/* The host role's privileges, as pam_policy-fleet(7) and README.md give them. */
static const char guide_grants[] =
	"REVOKE ALL ON DATABASE " HARNESS_PG_DB " FROM PUBLIC;\n"
	"GRANT CONNECT ON DATABASE " HARNESS_PG_DB " TO " HARNESS_PG_HOST_ROLE ";\n"
	"GRANT USAGE ON SCHEMA public TO " HARNESS_PG_HOST_ROLE ";\n"
	"GRANT SELECT, INSERT, UPDATE ON pam_policy_users TO " HARNESS_PG_HOST_ROLE ";\n"
	"GRANT SELECT, INSERT, UPDATE, DELETE ON pam_policy_history TO "
	HARNESS_PG_HOST_ROLE ";\n"
	"GRANT SELECT, INSERT ON pam_policy_changes TO " HARNESS_PG_HOST_ROLE ";\n"
	"GRANT SELECT, INSERT, UPDATE ON pam_policy_logins TO " HARNESS_PG_HOST_ROLE ";\n"
	"GRANT SELECT ON pam_policy_meta TO " HARNESS_PG_HOST_ROLE ";\n"
	"GRANT USAGE ON SEQUENCE pam_policy_history_id_seq, pam_policy_changes_seq_seq TO "
	HARNESS_PG_HOST_ROLE ";\n";

/*
 * Daemons still running when a test fails: a failed ck_assert exits the
 * test process at once, so an atexit handler kills what is left (the
 * PostgreSQL server has its own guardian, see pg_harness.h).
 */
static void kill_leftovers(void)
{
	if (host_a.d.pid > 0)
		harness_daemon_kill(&host_a.d);
	if (host_b.d.pid > 0)
		harness_daemon_kill(&host_b.d);
}

/* ---- small helpers ---- */

static void assert_contains(const char *hay, const char *needle)
{
	ck_assert_msg(hay != NULL && strstr(hay, needle) != NULL, "expected \"%s\" in:\n%s",
		      needle, hay ? hay : "(nothing)");
}

static void assert_lacks(const char *hay, const char *needle)
{
	ck_assert_msg(hay == NULL || strstr(hay, needle) == NULL,
		      "did not expect \"%s\" in:\n%s", needle, hay);
}

static double monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void poll_pause(void)
{
	struct timespec ts = { 0, POLL_INTERVAL_MS * 1000000L };

	nanosleep(&ts, NULL);
}

/* "YYYY-MM-DD" (UTC) of now + days, computed here, not by lib/aging.c. */
static void date_in(int days, char *buf, size_t len)
{
	time_t t = time(NULL) + (time_t)days * DAY;
	struct tm tm;

	ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
	ck_assert_uint_ne(strftime(buf, len, "%Y-%m-%d", &tm), 0);
}

/* ---- the fleet ---- */

static void host_prepare(struct host *h)
{
	char state[4200];

	memset(&h->d, 0, sizeof(h->d));
	harness_tmpdir(h->dir, sizeof(h->dir));
	snprintf(h->written, sizeof(h->written), "%s/written", h->dir);
	snprintf(h->log, sizeof(h->log), "%s/daemon.log", h->dir);
	snprintf(state, sizeof(state), "%s/state", h->dir);
	snprintf(h->pepper, sizeof(h->pepper), "%s/pepper", state);
	ck_assert_int_eq(mkdir(state, 0700), 0);
}

/* The host's config after the paths harness_daemon_start writes. */
static void host_config(const struct host *h, char *buf, size_t len)
{
	char conninfo[512];

	harness_pg_conninfo(&pg, h->role, conninfo, sizeof(conninfo));
	snprintf(buf, len, "%sstore = postgresql\npostgresql = \"%s\"\nhost_name = %s\n",
		 POLICY_TEXT, conninfo, h->name);
}

/*
 * Start h's daemon under libfaketime, its stderr in h->log (emptied
 * first). True when it serves, false when it exited during start-up.
 */
static bool host_start(struct host *h)
{
	char config[8192];
	int saved, fd;
	bool ok;

	host_config(h, config, sizeof(config));
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(h->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
	close(fd);
	ok = harness_daemon_start(&h->d, h->dir, config, true);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	return ok;
}

static void host_start_ok(struct host *h)
{
	if (!host_start(h)) {
		char *log = harness_read(h->log);

		ck_abort_msg("%s's pam_policyd did not start:\n%s", h->name, log ? log : "");
	}
}

/* The service file of h: auth (leaves PAM_AUTHTOK), account, check, writer, record. */
static void host_stack(struct host *h)
{
	struct harness_stack spec = {
		.config = h->d.config, .auth_args = "authtok=Typed-At-Login-1",
		.account = true, .check_args = "retry=1",
		.writer_file = h->written, .record = true,
	};

	harness_stack_write(h->dir, SERVICE, &spec);
}

static void host_stop(struct host *h)
{
	int status = harness_daemon_stop(&h->d);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "%s's pam_policyd stopped with status %d", h->name, status);
}

/* The pepper of the fleet, copied from one host to another (mode 0400). */
static void copy_pepper(const struct host *from, const struct host *to)
{
	char *bytes;
	struct stat st;
	int fd;

	ck_assert_int_eq(stat(from->pepper, &st), 0);
	bytes = malloc((size_t)st.st_size);
	ck_assert_ptr_nonnull(bytes);
	fd = open(from->pepper, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, bytes, (size_t)st.st_size), st.st_size);
	close(fd);
	fd = open(to->pepper, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, bytes, (size_t)st.st_size), st.st_size);
	ck_assert_int_eq(close(fd), 0);
	free(bytes);
}

/*
 * A PostgreSQL server and host-a; host-b too when both. Skips (returns
 * false) without a server to run.
 */
static void fleet_up(bool both)
{
	static bool registered;

	if (!registered) {
		atexit(kill_leftovers);
		registered = true;
	}
	/* pam_policyd -f copies its log to stderr only outside the journal. */
	unsetenv("JOURNAL_STREAM");
	ck_assert_msg(harness_faketime_lib() != NULL,
		      "libfaketime not found (run through tests/run-tests.sh)");
	ck_assert_msg(harness_pg_create(&pg, NULL), "the PostgreSQL test server did not start");
	pg_up = true;
	host_prepare(&host_a);
	host_prepare(&host_b);
	host_start_ok(&host_a);
	host_stack(&host_a);
	/* The schema exists now: give the host role what the guide says. */
	ck_assert_msg(harness_pg_sql(&pg, NULL, guide_grants, NULL, 0) == 0,
		      "the guide's GRANT statements failed");
	if (!both)
		return;
	copy_pepper(&host_a, &host_b);
	host_start_ok(&host_b);
	host_stack(&host_b);
}

static void fleet_down(void)
{
	kill_leftovers();
	if (pg_up)
		harness_pg_destroy(&pg);
	pg_up = false;
	if (host_a.dir[0] != '\0')
		harness_rmtree(host_a.dir);
	if (host_b.dir[0] != '\0')
		harness_rmtree(host_b.dir);
	host_a.dir[0] = host_b.dir[0] = '\0';
}

/* Every test: skip without PostgreSQL or libfaketime, else bring the fleet up. */
#define FLEET_BEGIN(both) do {                                              \
		const char *why_ = harness_pg_unavailable();                \
		if (why_ != NULL)                                            \
			HARNESS_SKIP(why_);                                  \
		if (harness_faketime_lib() == NULL)                          \
			HARNESS_SKIP("needs libfaketime (apt-get install faketime)"); \
		fleet_up(both);                                              \
	} while (0)

/*
 * The end of h's daemon log (its stderr since the last start), for
 * failure messages; a static buffer.
 */
static const char *host_log_tail(const struct host *h)
{
	static char tail[3000];
	char *log = harness_read(h->log);
	size_t n = log != NULL ? strlen(log) : 0;

	snprintf(tail, sizeof(tail), "%s", log == NULL ? "(no log)"
		 : log + (n > sizeof(tail) - 1 ? n - (sizeof(tail) - 1) : 0));
	free(log);
	return tail;
}

/* ---- PAM through a host's stack ---- */

static int change(struct host *h, const char *user, const char *pw, struct harness_conv *c)
{
	const char *answers[] = { pw, pw, NULL };

	harness_conv_init(c, answers);
	return harness_pam_chauthtok(h->dir, SERVICE, user, 0, c);
}

static void change_ok(struct host *h, const char *user, const char *pw)
{
	struct harness_conv c;
	int rc = change(h, user, pw, &c);

	ck_assert_msg(rc == PAM_SUCCESS, "%s: change of %s's password: %s; conversation:\n%s"
		      "daemon log:\n%s", h->name, user, pam_strerror(NULL, rc), c.log,
		      host_log_tail(h));
	ck_assert_msg(c.errors == 0, "%s: the change of %s's password said:\n%sdaemon log:\n%s",
		      h->name, user, c.log, host_log_tail(h));
}

static void change_refused_as_reused(struct host *h, const char *user, const char *pw)
{
	struct harness_conv c;
	int rc = change(h, user, pw, &c);

	ck_assert_msg(rc != PAM_SUCCESS, "%s: a reused password was accepted:\n%s",
		      h->name, c.log);
	assert_contains(c.log, "It was used before");
}

/* Refused for its likeness to a recent password alone. */
static void change_refused_as_similar(struct host *h, const char *user, const char *pw)
{
	struct harness_conv c;
	int rc = change(h, user, pw, &c);

	ck_assert_msg(rc == PAM_AUTHTOK_ERR, "%s: a password similar to a recent one was "
		      "accepted (%s):\n%sdaemon log:\n%s", h->name, pam_strerror(NULL, rc),
		      c.log, host_log_tail(h));
	assert_contains(c.log, SIMILAR_TEXT);
	assert_lacks(c.log, "used before");
	assert_lacks(c.log, pw);
}

/* A password login's account phase on h: pam_authenticate, pam_acct_mgmt. */
static int account(struct host *h, const char *user, struct harness_conv *c)
{
	const struct harness_login login = { .authenticate = true };

	harness_conv_init(c, NULL);
	return harness_pam_acct_mgmt_with(h->dir, SERVICE, user, 0, &login, c);
}

static void account_expect(struct host *h, const char *user, int expect)
{
	struct harness_conv c;
	int rc = account(h, user, &c);

	ck_assert_msg(rc == expect, "%s: acct_mgmt(%s): %s, expected %s; conversation:\n%s",
		      h->name, user, pam_strerror(NULL, rc), pam_strerror(NULL, expect), c.log);
}

/* ---- pam_policyctl against a host ---- */

struct run {
	int status;
	char *out;
	char *err;
};

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

/* build/pam_policyctl -c HOST_CONFIG args... (NULL-terminated). */
static void ctl(struct host *h, struct run *r, const char *const *args)
{
	char out_path[4300], err_path[4300];
	const char *argv[16];
	int n = 0, status;
	pid_t pid;

	snprintf(out_path, sizeof(out_path), "%s/ctl.out", h->dir);
	snprintf(err_path, sizeof(err_path), "%s/ctl.err", h->dir);
	argv[n++] = "pam_policyctl";
	argv[n++] = "-c";
	argv[n++] = h->d.config;
	for (int i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
			_exit(126);
		execv(harness_build("pam_policyctl"), (char *const *)argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	r->status = WEXITSTATUS(status);
	r->out = harness_read(out_path);
	r->err = harness_read(err_path);
	ck_assert_ptr_nonnull(r->out);
	ck_assert_ptr_nonnull(r->err);
}

#define CTL(h, r, ...) ctl((h), (r), (const char *const[]){ __VA_ARGS__, NULL })

/* The status of user on h as JSON (malloc'd); exit status 0 asserted. */
static char *status_json(struct host *h, const char *user)
{
	struct run r;
	char *out;

	CTL(h, &r, "status", "--format", "json", user);
	ck_assert_msg(r.status == 0, "%s: status %s exited %d: %s", h->name, user, r.status,
		      r.err);
	out = r.out;
	r.out = NULL;
	run_free(&r);
	return out;
}

/* "\"last_change\":\"DATE\"" and "\"history\":N" both in the status JSON? */
static bool status_is(struct host *h, const char *user, const char *date, int history)
{
	char want_date[64], want_history[32];
	char *json = status_json(h, user);
	const char *at;
	bool ok;

	snprintf(want_date, sizeof(want_date), "\"last_change\":\"%s\"", date);
	snprintf(want_history, sizeof(want_history), "\"history\":%d", history);
	at = strstr(json, want_history);
	/* "history":1 must not match "history":12. */
	ok = strstr(json, want_date) != NULL && at != NULL &&
	     (at[strlen(want_history)] == ',' || at[strlen(want_history)] == '}');
	free(json);
	return ok;
}

/*
 * Wait until user's status on h shows last change date and history
 * entries (what the other host's change must lead to); fails with the
 * last status seen after PROPAGATION_DEADLINE_S.
 */
static void await_status(struct host *h, const char *user, const char *date, int history)
{
	double deadline = monotonic_s() + PROPAGATION_DEADLINE_S;
	char *json;

	while (monotonic_s() < deadline) {
		if (status_is(h, user, date, history))
			return;
		poll_pause();
	}
	json = status_json(h, user);
	ck_abort_msg("%s: %s's status did not become last change %s with %d passwords "
		     "within %d s; it is:\n%s", h->name, user, date, history,
		     PROPAGATION_DEADLINE_S, json);
}

/*
 * Wait until the "store" part of alice's status on h holds both strings
 * (e.g. no longer degraded, the outbox empty), bounded as await_status.
 */
static void await_store(struct host *h, const char *want1, const char *want2)
{
	double deadline = monotonic_s() + PROPAGATION_DEADLINE_S;
	char *json = NULL;

	for (;;) {
		free(json);
		json = status_json(h, "alice");
		if (strstr(json, want1) != NULL && strstr(json, want2) != NULL)
			break;
		ck_assert_msg(monotonic_s() < deadline, "%s: status did not show %s and %s "
			      "within %d s:\n%s", h->name, want1, want2,
			      PROPAGATION_DEADLINE_S, json);
		poll_pause();
	}
	free(json);
}

/* user's forced-change flag on h (request API), and whether it is for a breach. */
static void must_change_of(struct host *h, const char *user, bool *must, bool *breached)
{
	struct request_status_result st;

	ck_assert_int_eq(request_status(h->d.socket, REQUEST_TIMEOUT_MS, user, 90, 14, &st),
			 PP_OK);
	*must = st.must_change;
	*breached = st.must_change_breached;
}

/* Wait until user's flag on h is (must, breached), bounded as await_status. */
static void await_must_change(struct host *h, const char *user, bool must, bool breached)
{
	double deadline = monotonic_s() + PROPAGATION_DEADLINE_S;
	bool m, b;

	for (;;) {
		must_change_of(h, user, &m, &b);
		if (m == must && b == breached)
			return;
		ck_assert_msg(monotonic_s() < deadline, "%s: %s's flag did not become "
			      "must_change=%d breached=%d within %d s (it is %d, %d)", h->name,
			      user, must, breached, PROPAGATION_DEADLINE_S, m, b);
		poll_pause();
	}
}

/* ---- the tests ---- */

/*
 * The harness itself: the server answers on its socket only, keeps its
 * data across an immediate stop, refuses connections while stopped.
 */
START_TEST(test_pg_harness_server)
{
	const char *why = harness_pg_unavailable();
	char out[256];

	if (why != NULL)
		HARNESS_SKIP(why);
	ck_assert(harness_pg_create(&pg, NULL));
	pg_up = true;
	ck_assert_int_eq(harness_pg_sql(&pg, NULL, "SHOW listen_addresses", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(harness_pg_sql(&pg, NULL, "CREATE TABLE t (x int)", NULL, 0), 0);
	ck_assert_int_eq(harness_pg_sql(&pg, NULL, "INSERT INTO t VALUES (7)", NULL, 0), 0);
	ck_assert_int_eq(harness_pg_sql(&pg, NULL, "SELECT rolsuper FROM pg_roles "
					"WHERE rolname = '" HARNESS_PG_HOST_ROLE "'",
					out, sizeof(out)), 0);
	ck_assert_str_eq(out, "f");
	ck_assert(harness_pg_stop(&pg, true));
	ck_assert_int_ne(harness_pg_sql(&pg, NULL, "SELECT 1", NULL, 0), 0);
	ck_assert(harness_pg_start(&pg));
	ck_assert_int_eq(harness_pg_sql(&pg, NULL, "SELECT sum(x) FROM t", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "7");
}
END_TEST

/* A password recorded through host-a's stack is refused on host-b. */
START_TEST(test_reuse_refused_on_other_host)
{
	char today[16];
	char *log_a, *log_b;

	FLEET_BEGIN(true);
	date_in(0, today, sizeof(today));
	change_ok(&host_a, "alice", PW1);
	await_status(&host_b, "alice", today, 1);
	change_refused_as_reused(&host_b, "alice", PW1);
	/* Another password is fine on host-b, and then refused on host-a. */
	change_ok(&host_b, "alice", PW2);
	await_status(&host_a, "alice", today, 2);
	change_refused_as_reused(&host_a, "alice", PW2);
	change_refused_as_reused(&host_a, "alice", PW1);

	/* Each host's audit log is its own and names the host. */
	log_a = harness_read(host_a.d.audit);
	log_b = harness_read(host_b.d.audit);
	ck_assert_ptr_nonnull(log_a);
	ck_assert_ptr_nonnull(log_b);
	assert_contains(log_a, "\"event\":\"password_changed\"");
	assert_contains(log_a, "\"host\":\"host-a\"");
	assert_lacks(log_a, "\"host\":\"host-b\"");
	assert_contains(log_b, "\"host\":\"host-b\"");
	assert_lacks(log_b, "\"host\":\"host-a\"");
	for (int i = 0; all_passwords[i] != NULL; i++) {
		assert_lacks(log_a, all_passwords[i]);
		assert_lacks(log_b, all_passwords[i]);
	}
	free(log_a);
	free(log_b);
}
END_TEST

/*
 * A password similar to one recorded on host-a (its skeleton, made with
 * its own cost) is refused on host-b: recorded while the database was
 * there, and recorded while it was away (the outbox carries the skeleton
 * and its cost).
 */
START_TEST(test_similar_refused_on_other_host)
{
	char today[16];

	FLEET_BEGIN(true);
	date_in(0, today, sizeof(today));
	change_ok(&host_a, "alice", SUMMER_A);
	await_status(&host_b, "alice", today, 1);
	change_refused_as_similar(&host_b, "alice", SUMMER_B);

	/* Recorded on host-a during an outage, replayed when the database returns. */
	ck_assert(harness_pg_stop(&pg, true));
	change_ok(&host_a, "alice", OTHER_A);
	ck_assert(harness_pg_start(&pg));
	await_status(&host_b, "alice", today, 2);
	change_refused_as_similar(&host_b, "alice", OTHER_B);
	/* host-a's replica, rebuilt from the database, still knows both. */
	await_store(&host_a, "\"degraded_since\":null", "\"outbox\":0");
	change_refused_as_similar(&host_a, "alice", OTHER_B);
	change_refused_as_similar(&host_a, "alice", SUMMER_B);
}
END_TEST

/*
 * A login on host-a with a breached password (PROTO_BREACHED, as the
 * module's breachcheck auth line sends it as root) flags the account on
 * the whole fleet: host-b's status says must-change for that reason and
 * its account phase forces the change; the change, made on host-b,
 * clears flag and reason on host-a too. With the database away, the flag
 * is set on host-a at once and reaches host-b when it returns (outbox).
 */
START_TEST(test_breach_flag_on_other_host)
{
	char today[16];
	bool must, breached;
	char *json;

	FLEET_BEGIN(true);
	date_in(0, today, sizeof(today));
	change_ok(&host_a, "alice", PW1);
	await_status(&host_b, "alice", today, 1);
	must_change_of(&host_b, "alice", &must, &breached);
	ck_assert(!must && !breached);

	ck_assert_int_eq(request_breached(host_a.d.socket, REQUEST_TIMEOUT_MS, "alice", "sshd",
					  "203.0.113.9", "pts/1"), PP_OK);
	await_must_change(&host_b, "alice", true, true);
	account_expect(&host_b, "alice", PAM_NEW_AUTHTOK_REQD);
	json = status_json(&host_b, "alice");
	assert_contains(json, "\"must_change\":true");
	free(json);

	change_ok(&host_b, "alice", PW2);
	must_change_of(&host_b, "alice", &must, &breached);
	ck_assert(!must && !breached);
	await_status(&host_a, "alice", today, 2);
	await_must_change(&host_a, "alice", false, false);
	account_expect(&host_a, "alice", PAM_SUCCESS);

	/* With the database away the flag is not lost: set on host-a, replayed later. */
	ck_assert(harness_pg_stop(&pg, true));
	ck_assert_int_eq(request_breached(host_a.d.socket, REQUEST_TIMEOUT_MS, "alice", "sshd",
					  "203.0.113.9", "pts/2"), PP_OK);
	must_change_of(&host_a, "alice", &must, &breached);
	ck_assert(must && breached);
	account_expect(&host_a, "alice", PAM_NEW_AUTHTOK_REQD);
	json = status_json(&host_a, "alice");
	assert_contains(json, "\"outbox\":1");
	free(json);
	ck_assert(harness_pg_start(&pg));
	await_must_change(&host_b, "alice", true, true);
	account_expect(&host_b, "alice", PAM_NEW_AUTHTOK_REQD);
	await_store(&host_a, "\"degraded_since\":null", "\"outbox\":0");
	must_change_of(&host_a, "alice", &must, &breached);
	ck_assert(must && breached);
}
END_TEST

/* A change on host-a resets host-b's rotation clock. */
START_TEST(test_change_resets_other_host_clock)
{
	char today[16], later[16], expires[16], want[64];
	char *json;

	FLEET_BEGIN(true);
	date_in(0, today, sizeof(today));
	date_in(100, later, sizeof(later));
	change_ok(&host_a, "alice", PW1);
	await_status(&host_b, "alice", today, 1);

	/* 100 days on: both hosts want a change at login. */
	harness_daemon_set_clock(&host_a.d, "+100d");
	harness_daemon_set_clock(&host_b.d, "+100d");
	account_expect(&host_a, "alice", PAM_NEW_AUTHTOK_REQD);
	account_expect(&host_b, "alice", PAM_NEW_AUTHTOK_REQD);

	/* Changed on host-a: host-b lets the login through and says why. */
	change_ok(&host_a, "alice", PW2);
	await_status(&host_b, "alice", later, 2);
	account_expect(&host_b, "alice", PAM_SUCCESS);
	/* pam_policyctl runs on real time: check the dates, not days_left. */
	date_in(190, expires, sizeof(expires));
	snprintf(want, sizeof(want), "\"expires\":\"%s\"", expires);
	json = status_json(&host_b, "alice");
	assert_contains(json, "\"state\":\"ok\"");
	assert_contains(json, want);
	assert_contains(json, "\"must_change\":false");
	free(json);
}
END_TEST

/*
 * The database stopped: both hosts answer from their replica, changes on
 * both are acknowledged and replayed when it returns; both end in the
 * history of both hosts, the newer one as the last change.
 */
START_TEST(test_outage_replica_and_outbox)
{
	char today[16], d100[16], d101[16];
	struct run r;
	char *json;

	FLEET_BEGIN(true);
	date_in(0, today, sizeof(today));
	date_in(100, d100, sizeof(d100));
	date_in(101, d101, sizeof(d101));
	change_ok(&host_a, "alice", PW1);
	await_status(&host_b, "alice", today, 1);

	ck_assert(harness_pg_stop(&pg, true));
	/* Each host notices (its listening connection drops): bounded wait. */
	await_store(&host_a, "\"degraded_since\":\"20", "\"outbox\":0");
	await_store(&host_b, "\"degraded_since\":\"20", "\"outbox\":0");
	/* The replica still knows alice's password is 100 days old... */
	harness_daemon_set_clock(&host_a.d, "+100d");
	harness_daemon_set_clock(&host_b.d, "+100d");
	account_expect(&host_a, "alice", PAM_NEW_AUTHTOK_REQD);
	account_expect(&host_b, "alice", PAM_NEW_AUTHTOK_REQD);
	/* ...and that PW1 was used. */
	change_refused_as_reused(&host_b, "alice", PW1);

	/* doctor and status: degraded, and since when. */
	CTL(&host_a, &r, "doctor");
	ck_assert_msg(r.status == 1, "doctor while degraded exited %d:\n%s", r.status, r.out);
	assert_contains(r.out, "problem: fleet host host-a: degraded since 20");
	run_free(&r);
	json = status_json(&host_b, "alice");
	assert_contains(json, "\"backend\":\"postgresql\"");
	assert_contains(json, "\"host\":\"host-b\"");
	assert_contains(json, "\"degraded_since\":\"20");
	assert_contains(json, "\"outbox\":0");
	free(json);

	/* A change on each host while the database is away: both acknowledged. */
	change_ok(&host_a, "alice", PW2);
	json = status_json(&host_a, "alice");
	assert_contains(json, "\"outbox\":1");
	free(json);
	harness_daemon_set_clock(&host_b.d, "+101d");
	change_ok(&host_b, "alice", PW3);
	/* Each host's own change counts at once on that host. */
	account_expect(&host_a, "alice", PAM_SUCCESS);
	account_expect(&host_b, "alice", PAM_SUCCESS);

	ck_assert(harness_pg_start(&pg));
	harness_daemon_set_clock(&host_a.d, "+101d");
	/* Both replayed: three passwords on each host, the newest (B's) last. */
	await_status(&host_a, "alice", d101, 3);
	await_status(&host_b, "alice", d101, 3);
	change_refused_as_reused(&host_a, "alice", PW3);
	change_refused_as_reused(&host_b, "alice", PW2);
	/* Caught up: neither host is degraded any more, nothing waits. */
	for (int i = 0; i < 2; i++) {
		struct host *h = i == 0 ? &host_a : &host_b;

		await_store(h, "\"degraded_since\":null", "\"outbox\":0");
		CTL(h, &r, "doctor");
		assert_lacks(r.out, "degraded");
		assert_contains(r.out, "ok: fleet host ");
		run_free(&r);
	}
	(void)d100;
}
END_TEST

/*
 * kill -9 of a daemon whose outbox holds a change: restarted, it replays
 * it, and the other host learns the password.
 */
START_TEST(test_outbox_survives_kill)
{
	char today[16];
	char *json;

	FLEET_BEGIN(true);
	date_in(0, today, sizeof(today));
	change_ok(&host_a, "alice", PW1);
	await_status(&host_b, "alice", today, 1);

	ck_assert(harness_pg_stop(&pg, true));
	change_ok(&host_a, "alice", PW2);
	harness_daemon_kill(&host_a.d);
	/* Started again while the database is still away: the change waits... */
	host_start_ok(&host_a);
	json = status_json(&host_a, "alice");
	assert_contains(json, "\"outbox\":1");
	assert_contains(json, "\"degraded_since\":\"20");
	free(json);
	change_refused_as_reused(&host_a, "alice", PW2);
	/* ...and when the database returns, replays what it acknowledged. */
	ck_assert(harness_pg_start(&pg));
	await_status(&host_b, "alice", today, 2);
	change_refused_as_reused(&host_b, "alice", PW2);
	host_stop(&host_a);
}
END_TEST

/*
 * Run h's daemon to its end (it must refuse to start): its exit status,
 * its stderr in h->log. Bounded: a daemon that serves is killed and the
 * test fails.
 */
static int run_daemon_expecting_exit(struct host *h)
{
	double deadline = monotonic_s() + REFUSAL_DEADLINE_S;
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(h->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(126);
		execl(harness_build("pam_policyd"), "pam_policyd", "-f", "-c", h->d.config,
		      (char *)NULL);
		_exit(127);
	}
	for (;;) {
		pid_t got = waitpid(pid, &status, WNOHANG);

		if (got == pid)
			break;
		ck_assert_int_eq(got, 0);
		if (monotonic_s() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			ck_abort_msg("%s's pam_policyd kept running with another pepper",
				     h->name);
		}
		poll_pause();
	}
	ck_assert_msg(WIFEXITED(status), "pam_policyd ended by signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

/* A daemon with another pepper than the fleet's refuses to start. */
START_TEST(test_other_pepper_refused)
{
	static const char other[32] = "thirty-two bytes, not the fleet";
	char *log, *pw;
	int fd, status;

	FLEET_BEGIN(false);
	change_ok(&host_a, "alice", PW1);
	fd = open(host_b.pepper, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, other, sizeof(other)), (ssize_t)sizeof(other));
	ck_assert_int_eq(close(fd), 0);

	ck_assert_msg(!host_start(&host_b), "host-b started with another pepper");
	status = run_daemon_expecting_exit(&host_b);
	ck_assert_int_eq(status, 1);
	log = harness_read(host_b.log);
	ck_assert_ptr_nonnull(log);
	assert_contains(log, "does not match the fleet's store");
	assert_contains(log, host_b.pepper);
	assert_contains(log, "every host of a fleet must use the same pepper");
	free(log);
	/* host-a is not disturbed: the history is still there. */
	change_refused_as_reused(&host_a, "alice", PW1);
	/* No password of ours in any log. */
	log = harness_read(host_b.log);
	pw = harness_read(host_a.d.audit);
	for (int i = 0; all_passwords[i] != NULL; i++) {
		assert_lacks(log, all_passwords[i]);
		assert_lacks(pw, all_passwords[i]);
	}
	free(log);
	free(pw);
}
END_TEST

static Suite *fleet_suite(void)
{
	Suite *s = suite_create("fleet");
	TCase *tc = tcase_create("postgresql");

	tcase_add_checked_fixture(tc, NULL, fleet_down);
	/* A cluster per test on a loaded machine: give each time. */
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_pg_harness_server);
	tcase_add_test(tc, test_reuse_refused_on_other_host);
	tcase_add_test(tc, test_change_resets_other_host_clock);
	tcase_add_test(tc, test_similar_refused_on_other_host);
	tcase_add_test(tc, test_breach_flag_on_other_host);
	tcase_add_test(tc, test_outage_replica_and_outbox);
	tcase_add_test(tc, test_outbox_survives_kill);
	tcase_add_test(tc, test_other_pepper_refused);
	suite_add_tcase(s, tc);
	return s;
}

Suite *test_suite(void)
{
	return fleet_suite();
}
