/*
 * test_stalls.c - pam_policyd under peers that stall it or flood it: 16
 * unprivileged connections that never read their replies do not delay
 * root's check, record and event; a peer that never reads is dropped and
 * the daemon serves on; a flood of refused requests gives a bounded number
 * of log lines and a summary; a removed socket directory is made again on
 * SIGHUP; a burst of 100 simultaneous checks (real argon2id) is answered,
 * "ok" or "busy", without anyone waiting for the client's timeout.
 *
 * The daemon's log is read from its stderr (it runs in the foreground,
 * which copies every syslog line there), redirected to a file for the
 * daemon only. Tests that need another uid fork and setuid to nobody
 * (65534) and skip when not run as root. Nothing sleeps: children report
 * on pipes, and the daemon's SIGHUP is ordered by two pings (see there).
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "client.h"
#include "harness.h"
#include "proto.h"
#include "request.h"

#define BUDGET_MS 5000            /* the client's default timeout_ms */
#define STALLED_PEERS 16          /* MAX_PER_UID: all one uid may open */
#define FLOOD 2000                /* refused requests in the flood */
#define BURST 100                 /* simultaneous checks */

#define PW1 "Kq7!Vw3#mz"
#define PW2 "Tz9@Lp4$wx"

static char dir[4096];
static char daemon_log[4200];
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
	snprintf(daemon_log, sizeof(daemon_log), "%s/daemon.log", dir);
}

/*
 * The daemon's stderr is our log file, so a sanitizer's report (check-tsan,
 * check-san) would land there unseen: show it and fail.
 */
static void teardown(void)
{
	char *log;
	bool report;

	kill_leftover_daemon();
	log = harness_read(daemon_log);
	report = log != NULL && strstr(log, "Sanitizer") != NULL;
	if (report)
		fprintf(stderr, "pam_policyd's log:\n%s", log);
	free(log);
	harness_rmtree(dir);
	ck_assert_msg(!report, "a sanitizer reported on pam_policyd");
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Start the daemon with its stderr (its log, in the foreground) in daemon_log. */
static void start(const char *extra_config)
{
	int saved = dup(STDERR_FILENO);
	int fd = open(daemon_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok;

	ck_assert(saved >= 0 && fd >= 0);
	unsetenv("JOURNAL_STREAM");        /* else the daemon logs to syslog only */
	ck_assert(dup2(fd, STDERR_FILENO) == STDERR_FILENO);
	ok = harness_daemon_start(&daemon_state, dir, extra_config, false);
	ck_assert(dup2(saved, STDERR_FILENO) == STDERR_FILENO);
	close(saved);
	close(fd);
	ck_assert_msg(ok, "pam_policyd did not start");
}

/* Lines of the daemon's log that contain needle; the first one in *first. */
static int log_lines(const char *needle, char *first, size_t cap)
{
	char *text = harness_read(daemon_log);
	int n = 0;

	if (first && cap)
		first[0] = '\0';
	for (char *line = text, *end; line && *line; line = end ? end + 1 : NULL) {
		end = strchr(line, '\n');
		if (end)
			*end = '\0';
		if (strstr(line, needle)) {
			if (n == 0 && first)
				snprintf(first, cap, "%s", line);
			n++;
		}
		if (!end)
			break;
	}
	free(text);
	return n;
}

/* The sum of N over the log's "N more refusals from uid U suppressed" lines. */
static long suppressed_count(const char *uid)
{
	char *text = harness_read(daemon_log), tail[128];
	long sum = 0;

	snprintf(tail, sizeof(tail), " more refusals from uid %s suppressed", uid);
	for (char *p = text; p && (p = strstr(p, tail)) != NULL; p += strlen(tail)) {
		char *q = p;
		while (q > text && q[-1] >= '0' && q[-1] <= '9')
			q--;
		sum += strtol(q, NULL, 10);
	}
	free(text);
	return sum;
}

/*
 * Become nobody in a child (see test_daemon.c): the test directory is
 * private, so chdir to the daemon's run/ directory (0755) and connect by
 * the relative name "pd.sock".
 */
static bool become_nobody(void)
{
	char rundir[4300];
	char *slash;
	struct passwd *pw = getpwnam("nobody");

	if (pw == NULL)
		return false;
	snprintf(rundir, sizeof(rundir), "%s", daemon_state.socket);
	slash = strrchr(rundir, '/');
	if (slash == NULL)
		return false;
	*slash = '\0';
	return chdir(rundir) == 0 && setgroups(0, NULL) == 0 && setgid(pw->pw_gid) == 0 &&
	       setuid(pw->pw_uid) == 0 && getuid() == pw->pw_uid;
}

/* One request frame (header and body) in buf; its length. */
static size_t frame_of(const struct proto_msg *m, uint8_t *buf, size_t cap)
{
	size_t len = 0;

	if (cap < PROTO_HEADER_SIZE || proto_encode(m, buf + PROTO_HEADER_SIZE,
						   cap - PROTO_HEADER_SIZE, &len) != PP_OK)
		return 0;
	buf[0] = (uint8_t)(len >> 24);
	buf[1] = (uint8_t)(len >> 16);
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	return PROTO_HEADER_SIZE + len;
}

static size_t status_frame(const char *user, uint8_t *buf, size_t cap)
{
	struct proto_msg m;

	proto_msg_init(&m, PROTO_STATUS);
	if (proto_add_cstr(&m, user) != PP_OK || proto_add_u64(&m, 0) != PP_OK ||
	    proto_add_u64(&m, 0) != PP_OK)
		return 0;
	return frame_of(&m, buf, cap);
}

/*
 * Pipeline status requests on every fds[0..n) and never read a reply,
 * until the daemon stops reading them all: no socket has taken a request
 * for a whole second (the daemon drains a readable socket in
 * microseconds), or it hung up. Returns false on another error.
 */
static bool pipeline_until_full(const int *fds, int n, const uint8_t *frame, size_t len)
{
	struct pollfd p[STALLED_PEERS];
	bool done[STALLED_PEERS] = { false };
	int64_t give_up = mono_ms() + 30000;

	ck_assert(n <= STALLED_PEERS);
	while (mono_ms() < give_up) {
		int waiting = 0;
		for (int i = 0; i < n; i++) {
			while (!done[i]) {
				ssize_t got = send(fds[i], frame, len, MSG_DONTWAIT | MSG_NOSIGNAL);
				if (got == (ssize_t)len)
					continue;
				if (got >= 0)
					return false;   /* a partial frame: not for 30 bytes */
				if (errno == EINTR)
					continue;
				if (errno == EPIPE || errno == ECONNRESET)
					done[i] = true;
				else if (errno != EAGAIN && errno != EWOULDBLOCK)
					return false;
				break;
			}
			if (!done[i]) {
				p[waiting].fd = fds[i];
				p[waiting].events = POLLOUT;
				waiting++;
			}
		}
		if (waiting == 0 || poll(p, (nfds_t)waiting, 1000) == 0)
			return true;
	}
	return false;
}

/* ---- 1. sixteen non-reading peers do not delay root ---- */

/*
 * The child: nobody opens all STALLED_PEERS connections it may, fills
 * each with pipelined status requests about its own account (they need a
 * directory lookup, so in the daemon they are worker requests), reports
 * "ready" on ready_fd and then holds the connections, unread, until the
 * parent closes hold_fd.
 */
static void stalling_child(int ready_fd, int hold_fd)
{
	uint8_t frame[256];
	size_t len;
	int fds[STALLED_PEERS];
	char c;

	if (!become_nobody())
		_exit(2);
	len = status_frame("nobody", frame, sizeof(frame));
	if (len == 0)
		_exit(3);
	for (int i = 0; i < STALLED_PEERS; i++) {
		fds[i] = harness_connect("pd.sock");
		if (fds[i] < 0)
			_exit(4);
	}
	if (!pipeline_until_full(fds, STALLED_PEERS, frame, len))
		_exit(5);
	if (write(ready_fd, "R", 1) != 1)
		_exit(6);
	while (read(hold_fd, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

START_TEST(test_unread_replies_do_not_delay_root)
{
	int ready[2], hold[2], status;
	struct request_check_result r;
	struct pollfd p;
	int64_t t0, event_ms, check_ms, record_ms;
	pp_err rc;
	pid_t pid;
	char c;

	if (!harness_is_root())
		HARNESS_SKIP("needs root (peers of another uid)");
	start("history = 24\nmin_age_days = 0\n");
	ck_assert(pipe(ready) == 0 && pipe(hold) == 0);
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		stalling_child(ready[1], hold[0]);
	}
	close(ready[1]);
	close(hold[0]);
	p.fd = ready[0];
	p.events = POLLIN;
	ck_assert_msg(poll(&p, 1, 20000) == 1 && read(ready[0], &c, 1) == 1,
		      "the stalling peers did not get ready");

	/* Root's requests, with the client's own budget, while they stall. */
	t0 = mono_ms();
	rc = request_event(daemon_state.socket, BUDGET_MS, "expiry_warning", "alice",
			   "login", "", "", "");
	event_ms = mono_ms() - t0;
	ck_assert_msg(rc == PP_OK, "root's event behind stalled peers: %s after %lld ms",
		      pp_strerror(rc), (long long)event_ms);
	t0 = mono_ms();
	rc = request_check(daemon_state.socket, BUDGET_MS, "alice", PW1, 0, 24, 0, &r);
	check_ms = mono_ms() - t0;
	ck_assert_msg(rc == PP_OK, "root's check: %s", pp_strerror(rc));
	t0 = mono_ms();
	rc = request_record(daemon_state.socket, BUDGET_MS, "alice", PW1, 24, "passwd");
	record_ms = mono_ms() - t0;
	ck_assert_msg(rc == PP_OK, "root's record: %s", pp_strerror(rc));
	/* Generous: "not blocked for seconds", not a benchmark. */
	ck_assert_msg(event_ms < 1500 && check_ms < 1500 && record_ms < 1500,
		      "root waited: event %lld ms, check %lld ms, record %lld ms",
		      (long long)event_ms, (long long)check_ms, (long long)record_ms);
	close(hold[1]);
	ck_assert(waitpid(pid, &status, 0) == pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "stalling child failed at step %d", WEXITSTATUS(status));
	close(ready[0]);
}
END_TEST

/* ---- 2. a peer that never reads is dropped; the daemon serves on ---- */

START_TEST(test_unread_peer_dropped)
{
	uint8_t frame[256];
	size_t len = status_frame(harness_is_root() ? "root" : "alice", frame, sizeof(frame));
	struct request_status_result st;
	struct pollfd p;
	char line[512];
	int64_t t0;
	pp_err rc;
	int fd;

	start("history = 24\n");
	fd = harness_connect(daemon_state.socket);
	ck_assert(fd >= 0 && len > 0);
	ck_assert(pipeline_until_full(&fd, 1, frame, len));

	/* The daemon hangs up once the reply has waited REPLY_TIMEOUT_MS unread. */
	t0 = mono_ms();
	p.fd = fd;
	p.events = 0;             /* POLLHUP is always reported */
	ck_assert_msg(poll(&p, 1, 10000) == 1 && (p.revents & POLLHUP),
		      "the daemon kept a peer that does not read");
	ck_assert_msg(mono_ms() - t0 < 10000, "dropped only after %lld ms",
		      (long long)(mono_ms() - t0));
	close(fd);
	/* ... and says so. */
	ck_assert_msg(log_lines("reply unread", line, sizeof(line)) == 1,
		      "expected one \"reply unread\" line in the daemon's log");
	ck_assert_ptr_nonnull(strstr(line, "connection dropped"));

	rc = request_status(daemon_state.socket, BUDGET_MS, "alice", 0, 0, &st);
	ck_assert_msg(rc == PP_OK, "status after the drop: %s", pp_strerror(rc));
	ck_assert_int_eq(request_simple(daemon_state.socket, BUDGET_MS, PROTO_PING, NULL,
					line, sizeof(line)), PP_OK);
}
END_TEST

/* ---- 3. a flood of refusals: bounded log lines and a summary ---- */

static void flooding_child(void)
{
	uint8_t buf[PROTO_MAX_FRAME];
	struct proto_msg req, reply;

	if (!become_nobody())
		_exit(2);
	proto_msg_init(&req, PROTO_CHECK);
	if (proto_add_cstr(&req, "alice") != PP_OK || proto_add_cstr(&req, PW1) != PP_OK ||
	    proto_add_u64(&req, 0) != PP_OK || proto_add_u64(&req, 24) != PP_OK ||
	    proto_add_u64(&req, 0) != PP_OK)
		_exit(3);
	for (int i = 0; i < FLOOD; i++) {
		int fd = -1;
		pp_err rc = client_connect("pd.sock", BUDGET_MS, &fd);
		if (rc == PP_OK)
			rc = client_call(fd, &req, buf, sizeof(buf), &reply, BUDGET_MS);
		client_close(&fd);
		if (rc != PP_OK || reply.type != PROTO_REPLY ||
		    reply.f[PROTO_REPLY_STATUS].u64 != PROTO_DENIED)
			_exit(4);
	}
	_exit(0);
}

START_TEST(test_refusal_flood_bounded)
{
	char line[512];
	int status, logged;
	long suppressed;
	pid_t pid;

	if (!harness_is_root())
		HARNESS_SKIP("needs root (refusals of another uid)");
	start("history = 24\n");
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0)
		flooding_child();
	ck_assert(waitpid(pid, &status, 0) == pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "flooding child failed at step %d", WEXITSTATUS(status));
	/* Stopping writes the summary of the window still open. */
	ck_assert_int_eq(harness_daemon_stop(&daemon_state), 0);

	logged = log_lines("refused check request from uid 65534", line, sizeof(line));
	suppressed = suppressed_count("65534");
	ck_assert_msg(logged >= 1 && logged <= 20,
		      "%d refusal lines for %d refused requests", logged, FLOOD);
	ck_assert_msg(log_lines("more refusals from uid 65534 suppressed", NULL, 0) >= 1,
		      "no summary line in the daemon's log");
	/* Every refusal is either a line or counted in a summary. */
	ck_assert_int_eq(logged + suppressed, FLOOD);
}
END_TEST

/* ---- 4. socket directory removed: SIGHUP makes it again ---- */

START_TEST(test_socket_dir_removed_sighup)
{
	char rundir[4300], text[256];
	uint8_t buf[PROTO_MAX_FRAME];
	struct proto_msg ping, reply;
	struct stat st;
	int kept = -1, probe = -1;

	start("history = 24\n");
	ck_assert_int_eq(client_connect(daemon_state.socket, BUDGET_MS, &kept), PP_OK);
	snprintf(rundir, sizeof(rundir), "%s", daemon_state.socket);
	*strrchr(rundir, '/') = '\0';
	harness_rmtree(rundir);
	ck_assert_int_eq(client_connect(daemon_state.socket, BUDGET_MS, &probe),
			 PP_ERR_UNREACHABLE);

	ck_assert_int_eq(kill(daemon_state.pid, SIGHUP), 0);
	/*
	 * The signal is pending on the daemon's signalfd before the first
	 * ping is sent, so the loop pass that answers that ping has seen the
	 * signal too (or an earlier pass did); the second ping is read only
	 * in a later pass, after the signal was handled.
	 */
	proto_msg_init(&ping, PROTO_PING);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(client_call(kept, &ping, buf, sizeof(buf), &reply, BUDGET_MS),
				 PP_OK);
	client_close(&kept);

	ck_assert_msg(request_simple(daemon_state.socket, BUDGET_MS, PROTO_PING, NULL, text,
				     sizeof(text)) == PP_OK,
		      "the daemon is unreachable after SIGHUP");
	ck_assert_int_eq(lstat(daemon_state.socket, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0666);
	ck_assert_int_eq(log_lines("no longer leads to our socket", NULL, 0), 1);
	ck_assert_int_eq(log_lines(" again", NULL, 0), 1);
}
END_TEST

/* ---- 5. a burst of simultaneous checks: ok or busy, never a timeout ---- */

struct burst_client {
	pthread_barrier_t *go;
	const char *socket;
	int64_t ms;               /* how long the answer took */
	pp_err rc;
	bool busy;
};

static void *burst_one(void *arg)
{
	struct burst_client *b = arg;
	struct request_check_result r;
	int64_t t0;

	pthread_barrier_wait(b->go);
	t0 = mono_ms();
	b->rc = request_check(b->socket, BUDGET_MS, "alice", PW2, 0, 24, 0, &r);
	b->ms = mono_ms() - t0;
	b->busy = b->rc == PP_ERR_BUSY;
	return NULL;
}

/*
 * With one hashing worker and libsodium's interactive argon2id (2 passes,
 * 64 MiB: about 80 ms here), 100 checks queued first-come-first-served
 * take 8 s: the last ones would hit the client's 5 s budget.
 */
START_TEST(test_burst_of_checks_answered)
{
	static struct burst_client clients[BURST];
	pthread_t threads[BURST];
	pthread_barrier_t go;
	int64_t slowest = 0;
	int busy = 0, ok = 0;

	start("history = 24\nmin_age_days = 0\nworkers = 1\n"
	      "argon2_opslimit = 2\nargon2_memlimit_kib = 65536\n");
	/* A history to compare with: every check costs one argon2id. */
	ck_assert_int_eq(request_record(daemon_state.socket, BUDGET_MS, "alice", PW1, 24,
					"passwd"), PP_OK);
	ck_assert_int_eq(pthread_barrier_init(&go, NULL, BURST), 0);
	for (int i = 0; i < BURST; i++) {
		clients[i] = (struct burst_client){ .go = &go, .socket = daemon_state.socket };
		ck_assert_int_eq(pthread_create(&threads[i], NULL, burst_one, &clients[i]), 0);
	}
	for (int i = 0; i < BURST; i++) {
		pthread_join(threads[i], NULL);
		ck_assert_msg(clients[i].rc == PP_OK || clients[i].busy,
			      "check %d: %s after %lld ms", i, pp_strerror(clients[i].rc),
			      (long long)clients[i].ms);
		ok += clients[i].rc == PP_OK;
		busy += clients[i].busy;
		if (clients[i].ms > slowest)
			slowest = clients[i].ms;
	}
	pthread_barrier_destroy(&go);
	fprintf(stderr, "burst of %d checks: %d ok, %d busy, slowest answer %lld ms\n",
		BURST, ok, busy, (long long)slowest);
	ck_assert_int_gt(ok, 0);
	ck_assert_msg(slowest < BUDGET_MS, "slowest answer %lld ms", (long long)slowest);
	/* Busy is logged, rate-limited. */
	if (busy > 0) {
		ck_assert_int_ge(log_lines("busy:", NULL, 0), 1);
		ck_assert_int_le(log_lines("busy:", NULL, 0), 5);
	}
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("stalls");
	TCase *tc = tcase_create("stalls");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_unread_replies_do_not_delay_root);
	tcase_add_test(tc, test_unread_peer_dropped);
	tcase_add_test(tc, test_refusal_flood_bounded);
	tcase_add_test(tc, test_socket_dir_removed_sighup);
	tcase_add_test(tc, test_burst_of_checks_answered);
	suite_add_tcase(s, tc);
	return s;
}
