/*
 * bench.c - the performance targets of DESIGN.md §7, measured beside the
 * Debian modules they replace. Run through tests/bench.sh (make bench),
 * which supplies users with nss_wrapper and a scratch directory.
 *
 *   bench history BUILD WORK RESULTS   A: check latency at history depth
 *                                      1/24/100, pam_policy vs pam_pwhistory
 *   bench skeleton BUILD WORK RESULTS  S: check at depth 24 with and
 *                                      without the skeleton history
 *   bench status  BUILD WORK RESULTS   B: account-phase status p50/p99, q/s,
 *                                      beside pam_unix's account phase
 *   bench report  BUILD WORK RESULTS [CTL]
 *                                      C: report over 100,000 users
 *   bench quality BUILD WORK RESULTS CORPUS SECUREDIR
 *                                      Q: weak/strong corpora (corpus.sh)
 *                                      through pam_policy, pam_pwquality
 *                                      and pam_passwdqc, accepted/total
 *   bench filter BUILD WORK RESULTS FILTERDIR SECUREDIR
 *                                      F: the whole PAM check with a breach
 *                                      filter, pam_passwdqc filter= beside
 *                                      pam_policy blocklist = (FILTERDIR
 *                                      from tests/bench/blocklist.sh)
 *
 * Each part starts its own pam_policyd (real default argon2id parameters)
 * on a socket and state directory under WORK, prints one table and appends
 * "PASS|FAIL|SKIP <tab> target <tab> numbers" lines to RESULTS.
 *
 * pam_pwhistory (Linux-PAM 1.5.2) has no file= option: it always uses
 * /etc/security/opasswd. The history part therefore enters a private mount
 * namespace and bind-mounts WORK/security (a copy of /etc/security made by
 * bench.sh) over /etc/security; the opasswd it writes is checked to be that
 * mount before anything is written. The host's /etc is never touched.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <security/pam_appl.h>
#include <sqlite3.h>
#include <sodium.h>

#include "blocklist.h"
#include "client.h"
#include "guess.h"
#include "policy.h"
#include "proto.h"
#include "request.h"
#include "rules.h"
#include "store.h"

#define TIMEOUT_MS 30000

static const char *build_dir, *work_dir, *results_path;

/* snprintf into an array, refusing to truncate (paths, names). */
#define PATHF(buf, ...) \
	do { \
		if ((size_t)snprintf(buf, sizeof(buf), __VA_ARGS__) >= sizeof(buf)) \
			die("%s: string too long", #buf); \
	} while (0)

/* ---- small helpers ---- */

__attribute__((noreturn, format(printf, 1, 2)))
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Median of v[0..n) (sorts v). */
static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Nearest-rank percentile of sorted v[0..n). */
static uint32_t pct_u32(const uint32_t *v, size_t n, double p)
{
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

__attribute__((format(printf, 2, 3)))
static void write_file(const char *path, const char *fmt, ...)
{
	va_list ap;
	FILE *f = fopen(path, "w");

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

static void make_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) != 0 && errno != EEXIST)
		die("mkdir %s: %s", path, strerror(errno));
	chmod(path, mode);
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

/* ---- the daemon ---- */

struct daemon {
	char dir[512], config[600], socket[600], state[600];
	pid_t pid;
};

/*
 * Start pam_policyd -f on dir/run/pd.sock with state in dir/state and wait
 * for its READY=1 on NOTIFY_SOCKET. Its log goes to dir/daemon.log.
 */
static void daemon_start(struct daemon *d, const char *dir, const char *extra)
{
	char ready_path[700], logpath[700], buf[64];
	struct sockaddr_un addr;
	struct pollfd pfd;
	int ready;

	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "%s", dir);
	snprintf(d->config, sizeof(d->config), "%s/daemon.conf", dir);
	snprintf(d->socket, sizeof(d->socket), "%s/run/pd.sock", dir);
	snprintf(d->state, sizeof(d->state), "%s/state", dir);
	/* No argon2_* lines: the real defaults (opslimit 2, 64 MiB). */
	write_file(d->config,
		   "socket = %s\nstate_dir = %s\naudit_log = %s/log/audit.log\n"
		   "shadow_file = %s/no-shadow\n%s",
		   d->socket, d->state, dir, dir, extra ? extra : "");

	PATHF(ready_path, "%s/ready.sock", dir);
	unlink(ready_path);
	ready = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	if (strlen(ready_path) >= sizeof(addr.sun_path))
		die("%s: path too long", ready_path);
	memcpy(addr.sun_path, ready_path, strlen(ready_path) + 1);
	if (ready < 0 || bind(ready, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		die("ready socket: %s", strerror(errno));
	PATHF(logpath, "%s/daemon.log", dir);

	d->pid = fork();
	if (d->pid < 0)
		die("fork: %s", strerror(errno));
	if (d->pid == 0) {
		char exe[700];
		int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		setenv("NOTIFY_SOCKET", ready_path, 1);
		PATHF(exe, "%s/pam_policyd", build_dir);
		execl(exe, "pam_policyd", "-f", "-c", d->config, (char *)NULL);
		_exit(127);
	}
	pfd.fd = ready;
	pfd.events = POLLIN;
	for (;;) {
		int status;
		if (poll(&pfd, 1, 200) > 0) {
			ssize_t got = recv(ready, buf, sizeof(buf) - 1, 0);
			if (got > 0) {
				buf[got] = '\0';
				if (strstr(buf, "READY=1"))
					break;
			}
		}
		if (waitpid(d->pid, &status, WNOHANG) == d->pid)
			die("pam_policyd exited during start-up (status %d); see %s",
			    status, logpath);
	}
	close(ready);
	unlink(ready_path);
}

static void daemon_stop(struct daemon *d)
{
	int status;

	if (d->pid <= 0)
		return;
	kill(d->pid, SIGTERM);
	while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
		;
	d->pid = 0;
}

static struct daemon *current_daemon;

static void stop_on_exit(void)
{
	if (current_daemon)
		daemon_stop(current_daemon);
}

/* ---- PAM ---- */

struct conv_data {
	const char *answer;
	int prompts, errors;
	char last_error[256];
};

static int conv_fn(int n, const struct pam_message **msg,
		   struct pam_response **resp, void *appdata)
{
	struct conv_data *c = appdata;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			c->prompts++;
			r[i].resp = strdup(c->answer ? c->answer : "");
			break;
		case PAM_ERROR_MSG:
			c->errors++;
			snprintf(c->last_error, sizeof(c->last_error), "%s", msg[i]->msg);
			break;
		default:
			break;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* One whole PAM transaction; returns the PAM result, *ms its wall time. */
static int pam_once(const char *confdir, const char *service, const char *user,
		    const char *password, bool chauthtok, double *ms,
		    struct conv_data *cd)
{
	struct pam_conv pc = { conv_fn, cd };
	pam_handle_t *pamh = NULL;
	double t0 = now_ms();
	int rc;

	memset(cd, 0, sizeof(*cd));
	cd->answer = password;
	rc = pam_start_confdir(service, user, &pc, confdir, &pamh);
	if (rc == PAM_SUCCESS) {
		rc = chauthtok ? pam_chauthtok(pamh, 0) : pam_acct_mgmt(pamh, 0);
		pam_end(pamh, rc);
	}
	*ms = now_ms() - t0;
	return rc;
}

/* ======================= A: history check latency ======================= */

#define NDEPTHS 3
static const int depths[NDEPTHS] = { 1, 24, 100 };
static const char new_password[] = "Tz4!Qarnel-Kw9q";

static void old_password(char *buf, size_t len, int k)
{
	snprintf(buf, len, "Hq7#Vintry-%dx-Zw", k);
}

struct seed_job {
	const char *socket, *user;
	int depth;
	pp_err rc;
};

static void *seed_history(void *arg)
{
	struct seed_job *j = arg;
	char pw[64];

	for (int k = 0; k < j->depth; k++) {
		old_password(pw, sizeof(pw), k);
		j->rc = request_record(j->socket, TIMEOUT_MS, j->user, pw, j->depth, "bench");
		if (j->rc != PP_OK)
			break;
	}
	return NULL;
}

/*
 * Private /etc/security for pam_pwhistory: true when /etc/security is now
 * (in this process's own mount namespace) the directory sec.
 */
static bool private_etc_security(const char *sec)
{
	struct stat a, b;

	if (unshare(CLONE_NEWNS) != 0) {
		fprintf(stderr, "bench: unshare(CLONE_NEWNS): %s\n", strerror(errno));
		return false;
	}
	if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount(sec, "/etc/security", NULL, MS_BIND, NULL) != 0) {
		fprintf(stderr, "bench: private mount of %s: %s\n", sec, strerror(errno));
		return false;
	}
	return stat(sec, &a) == 0 && stat("/etc/security", &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * opasswd line for user with depth yescrypt entries, oldest first; the
 * newest is also returned in current (the user's present hash, which
 * bench.sh cannot know: it goes into the wrapped passwd file so that
 * pam_pwhistory's save step finds it already remembered and keeps depth).
 */
static void yescrypt_history(FILE *opw, const char *user, unsigned uid,
			     int depth, char *current, size_t curlen)
{
	fprintf(opw, "%s:%u:%d:", user, uid, depth);
	for (int k = 0; k < depth; k++) {
		char setting[CRYPT_GENSALT_OUTPUT_SIZE], pw[64];
		struct crypt_data cd;
		const char *h;

		if (crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof(setting)) == NULL)
			die("crypt_gensalt_rn(yescrypt): %s", strerror(errno));
		old_password(pw, sizeof(pw), k);
		memset(&cd, 0, sizeof(cd));
		h = crypt_r(pw, setting, &cd);
		if (h == NULL || h[0] == '*')
			die("crypt_r(yescrypt) failed");
		fprintf(opw, "%s%s", k ? "," : "", h);
		if (k == depth - 1)
			snprintf(current, curlen, "%s", h);
	}
	fputc('\n', opw);
}

struct row_a {
	const char *tool;
	int depth;
	double med, min, max;
	bool have;
};

static void time_pam(const char *confdir, const char *service, const char *user,
		     int runs, struct row_a *row)
{
	double *t = calloc((size_t)runs, sizeof(double)), ms;
	struct conv_data cd;
	int rc;

	if (t == NULL)
		die("out of memory");
	/* Warm-up (module loading, page cache, the daemon's pool). */
	for (int i = 0; i < 2; i++) {
		rc = pam_once(confdir, service, user, new_password, true, &ms, &cd);
		if (rc != PAM_SUCCESS)
			die("%s for %s: %s (%s)", service, user, pam_strerror(NULL, rc),
			    cd.last_error);
	}
	for (int i = 0; i < runs; i++) {
		rc = pam_once(confdir, service, user, new_password, true, &t[i], &cd);
		if (rc != PAM_SUCCESS || cd.prompts != 1)
			die("%s for %s: %s (%d prompts)", service, user,
			    pam_strerror(NULL, rc), cd.prompts);
	}
	row->med = median(t, (size_t)runs);
	row->min = t[0];
	row->max = t[runs - 1];
	row->have = true;
	free(t);
}

/* A reused (oldest remembered) password must be refused: the depth is real. */
static void expect_reuse_refused(const char *confdir, const char *service,
				 const char *user)
{
	struct conv_data cd;
	char pw[64];
	double ms;
	int rc;

	old_password(pw, sizeof(pw), 0);
	rc = pam_once(confdir, service, user, pw, true, &ms, &cd);
	if (rc == PAM_SUCCESS)
		die("%s accepted %s's oldest remembered password: history not in effect",
		    service, user);
}

static int cmd_history(int runs)
{
	char dir[600], pamdir[700], path[800], conf[800], sec[700];
	struct daemon d;
	struct row_a rows[3 * NDEPTHS];
	struct seed_job jobs[NDEPTHS];
	pthread_t th[NDEPTHS];
	bool pwh;
	const char *passwd = getenv("NSS_WRAPPER_PASSWD");

	memset(rows, 0, sizeof(rows));
	PATHF(dir, "%s/a", work_dir);
	make_dir(dir, 0700);
	PATHF(pamdir, "%s/pam.d", dir);
	make_dir(pamdir, 0755);

	/* pam_pwhistory's opasswd, in a private /etc/security. */
	PATHF(sec, "%s/security", work_dir);
	pwh = access(sec, F_OK) == 0 && private_etc_security(sec);
	if (pwh) {
		FILE *opw, *pwf;
		double t0 = now_ms();

		if (passwd == NULL)
			die("NSS_WRAPPER_PASSWD is not set (run through bench.sh)");
		PATHF(path, "%s/opasswd", sec);
		opw = fopen(path, "w");
		pwf = fopen(passwd, "a");   /* before any NSS lookup in this process */
		if (opw == NULL || pwf == NULL)
			die("%s or %s: %s", path, passwd, strerror(errno));
		fchmod(fileno(opw), 0600);
		for (int i = 0; i < NDEPTHS; i++) {
			char user[32], current[CRYPT_OUTPUT_SIZE];
			unsigned uid = 1200u + (unsigned)i;
			PATHF(user, "pwh%d", depths[i]);
			yescrypt_history(opw, user, uid, depths[i], current, sizeof(current));
			fprintf(pwf, "%s:%s:%u:%u:History %d:/tmp:/bin/sh\n", user, current,
				uid, uid, depths[i]);
		}
		if (fclose(opw) != 0 || fclose(pwf) != 0)
			die("writing opasswd/passwd: %s", strerror(errno));
		printf("  (yescrypt opasswd, %d entries: %.1f s)\n",
		       depths[0] + depths[1] + depths[2], (now_ms() - t0) / 1e3);
	} else {
		printf("  (pam_pwhistory skipped: no private /etc/security; needs root)\n");
	}

	daemon_start(&d, dir, NULL);
	current_daemon = &d;

	/* PAM stacks: the writer's prompt mode sets PAM_AUTHTOK, then the check. */
	for (int i = 0; i < NDEPTHS; i++) {
		PATHF(conf, "%s/policy-%d.conf", dir, depths[i]);
		write_file(conf, "socket = %s\nhistory = %d\nmin_age_days = 0\n"
			   "timeout_ms = %d\n", d.socket, depths[i], TIMEOUT_MS);
		PATHF(path, "%s/pp%d", pamdir, depths[i]);
		write_file(path,
			   "password requisite %s/tests/pam_test_writer.so prompt\n"
			   "password requisite %s/pam_policy.so config=%s use_authtok\n",
			   build_dir, build_dir, conf);
		PATHF(path, "%s/pwh%d", pamdir, depths[i]);
		write_file(path,
			   "password requisite %s/tests/pam_test_writer.so prompt\n"
			   "password requisite pam_pwhistory.so remember=%d "
			   "enforce_for_root use_authtok\n",
			   build_dir, depths[i]);
	}

	/* Seed hist1/hist24/hist100 through the daemon (one thread each). */
	{
		double t0 = now_ms();
		for (int i = 0; i < NDEPTHS; i++) {
			static char names[NDEPTHS][32];
			snprintf(names[i], sizeof(names[i]), "hist%d", depths[i]);
			jobs[i] = (struct seed_job){ d.socket, names[i], depths[i], PP_OK };
			if (pthread_create(&th[i], NULL, seed_history, &jobs[i]) != 0)
				die("pthread_create");
		}
		for (int i = 0; i < NDEPTHS; i++) {
			pthread_join(th[i], NULL);
			if (jobs[i].rc != PP_OK)
				die("request_record for %s: %s", jobs[i].user,
				    pp_strerror(jobs[i].rc));
		}
		printf("  (argon2id history via request_record, %d entries: %.1f s)\n",
		       depths[0] + depths[1] + depths[2], (now_ms() - t0) / 1e3);
	}

	for (int i = 0; i < NDEPTHS; i++) {
		char user[32], service[32];
		struct request_check_result cr;
		double *t = calloc((size_t)runs, sizeof(double));
		pp_err rc;

		if (t == NULL)
			die("out of memory");
		PATHF(user, "hist%d", depths[i]);
		PATHF(service, "pp%d", depths[i]);
		expect_reuse_refused(pamdir, service, user);
		rows[i].tool = "pam_policy.so (PAM stack)";
		rows[i].depth = depths[i];
		time_pam(pamdir, service, user, runs, &rows[i]);

		/* The daemon alone: one request_check, connection included. */
		rows[2 * NDEPTHS + i].tool = "pam_policyd request_check";
		rows[2 * NDEPTHS + i].depth = depths[i];
		for (int k = -1; k < runs; k++) {
			double t0 = now_ms();
			rc = request_check(d.socket, TIMEOUT_MS, user, new_password, 0,
					   depths[i], 0, &cr);
			if (rc != PP_OK || cr.reused)
				die("request_check %s: %s", user, pp_strerror(rc));
			if (k >= 0)
				t[k] = now_ms() - t0;
		}
		rows[2 * NDEPTHS + i].med = median(t, (size_t)runs);
		rows[2 * NDEPTHS + i].min = t[0];
		rows[2 * NDEPTHS + i].max = t[runs - 1];
		rows[2 * NDEPTHS + i].have = true;
		free(t);
	}
	daemon_stop(&d);
	current_daemon = NULL;

	for (int i = 0; i < NDEPTHS; i++) {
		char user[32];
		rows[NDEPTHS + i].tool = "pam_pwhistory.so (PAM stack)";
		rows[NDEPTHS + i].depth = depths[i];
		if (!pwh)
			continue;
		PATHF(user, "pwh%d", depths[i]);
		expect_reuse_refused(pamdir, user, user);
		time_pam(pamdir, user, user, runs, &rows[NDEPTHS + i]);
	}

	printf("\nPart A - password check latency by history depth "
	       "(median of %d runs, whole PAM transaction)\n", runs);
	printf("  pam_policy: argon2id opslimit 2, memlimit 65536 KiB; "
	       "pam_pwhistory: yescrypt (libxcrypt default cost)\n\n");
	printf("  %-30s %6s %10s %9s %9s %12s %14s\n", "tool", "depth", "median ms",
	       "min ms", "max ms", "vs pp d1", "pwhist/pp");
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		const struct row_a *x = &rows[r];
		char ratio[32] = "-";
		if (r % NDEPTHS == 0)
			printf("  %s\n", "----------------------------------------"
			       "---------------------------------------------------");
		if (!x->have) {
			printf("  %-30s %6d %10s\n", x->tool, x->depth, "skipped");
			continue;
		}
		if (r >= NDEPTHS && r < 2 * NDEPTHS)
			PATHF(ratio, "%.2fx", x->med / rows[r - NDEPTHS].med);
		printf("  %-30s %6d %10.1f %9.1f %9.1f %11.2fx %14s\n", x->tool, x->depth,
		       x->med, x->min, x->max, x->med / rows[0].med, ratio);
	}
	printf("  (pam_pwhistory rows include its per-call opasswd rewrite: temp file,\n"
	       "   fsync, rename; pam_policy rows include its local rules and cracklib)\n");

	{
		double r24 = rows[1].med / rows[0].med;
		result(r24 <= 1.5 ? "PASS" : "FAIL", "A: check depth 24 within 1.5x of depth 1",
		       "%.1f ms vs %.1f ms = %.2fx (limit 1.50x)", rows[1].med, rows[0].med, r24);
		if (rows[NDEPTHS + 1].have)
			result(rows[1].med < rows[NDEPTHS + 1].med ? "PASS" : "FAIL",
			       "A: faster than pam_pwhistory at depth 24",
			       "pam_policy %.1f ms vs pam_pwhistory %.1f ms (%.2fx faster)",
			       rows[1].med, rows[NDEPTHS + 1].med,
			       rows[NDEPTHS + 1].med / rows[1].med);
		else
			result("SKIP", "A: faster than pam_pwhistory at depth 24",
			       "pam_pwhistory not measured (needs root for a private /etc/security)");
	}
	return 0;
}

/* ================= S: the skeleton history's cost at depth 24 ================= */

#define S_DEPTH 24

/* Seed user with S_DEPTH changes through the daemon at socket. */
static void seed_user(const char *socket, const char *user)
{
	struct seed_job j = { socket, user, S_DEPTH, PP_OK };

	seed_history(&j);
	if (j.rc != PP_OK)
		die("request_record for %s: %s", user, pp_strerror(j.rc));
}

/* One request_check of new_password for user; its wall time in ms. */
static double time_check(const char *socket, const char *user)
{
	struct request_check_result cr;
	double t0 = now_ms();
	pp_err rc = request_check(socket, TIMEOUT_MS, user, new_password, 0, S_DEPTH, 0, &cr);

	if (rc != PP_OK || cr.reused || cr.similar)
		die("request_check %s: %s", user, pp_strerror(rc));
	return now_ms() - t0;
}

/*
 * A check at depth 24 with the skeleton history (similar_history = 5: one
 * argon2id of the password and one of its skeleton) against one without
 * (entries recorded while similar_history was 0 carry no skeleton, so the
 * check hashes the password only). Both users live in one daemon with the
 * default policy and are checked alternately, so that the load of a
 * shared machine falls on both alike; the ratio is of the medians.
 */
static int cmd_skeleton(int runs)
{
	char dir[600];
	struct daemon d;
	double *with = calloc((size_t)runs, sizeof(double));
	double *without = calloc((size_t)runs, sizeof(double));
	double *pair = calloc((size_t)runs, sizeof(double));
	double mw, mo, ratio, mp;
	struct request_check_result cr;
	char similar[64];

	if (with == NULL || without == NULL || pair == NULL)
		die("out of memory");
	PATHF(dir, "%s/s", work_dir);
	make_dir(dir, 0700);
	daemon_start(&d, dir, "similar_history = 0\n");
	current_daemon = &d;
	seed_user(d.socket, "noskel24");
	daemon_stop(&d);
	daemon_start(&d, dir, NULL);
	seed_user(d.socket, "skel24");

	/* The skeleton history is in effect: the newest password, case swapped. */
	old_password(similar, sizeof(similar), S_DEPTH - 1);
	for (char *q = similar; *q != '\0'; q++)
		if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z'))
			*q ^= 0x20;
	if (request_check(d.socket, TIMEOUT_MS, "skel24", similar, 0, S_DEPTH, 0, &cr) != PP_OK ||
	    !cr.similar)
		die("skel24: a password of the newest one's skeleton was not refused");
	if (request_check(d.socket, TIMEOUT_MS, "noskel24", similar, 0, S_DEPTH, 0, &cr) != PP_OK ||
	    cr.similar || cr.reused)
		die("noskel24: entries without skeletons matched one");

	for (int i = 0; i < 2; i++) {   /* warm-up: pool, memory, page cache */
		(void)time_check(d.socket, "noskel24");
		(void)time_check(d.socket, "skel24");
	}
	for (int i = 0; i < runs; i++) {
		if (i % 2 == 0) {
			without[i] = time_check(d.socket, "noskel24");
			with[i] = time_check(d.socket, "skel24");
		} else {
			with[i] = time_check(d.socket, "skel24");
			without[i] = time_check(d.socket, "noskel24");
		}
		pair[i] = with[i] / without[i];
	}
	daemon_stop(&d);
	current_daemon = NULL;
	mw = median(with, (size_t)runs);
	mo = median(without, (size_t)runs);
	mp = median(pair, (size_t)runs);
	ratio = mw / mo;
	printf("\nPart S - request_check at depth %d with and without the skeleton history\n"
	       "  (median of %d alternated runs, connection included; default argon2id)\n\n",
	       S_DEPTH, runs);
	printf("  %-44s %10s %9s %9s\n", "check", "median ms", "min ms", "max ms");
	printf("  %-44s %10.1f %9.1f %9.1f\n", "without skeletons (password hash only)", mo,
	       without[0], without[runs - 1]);
	printf("  %-44s %10.1f %9.1f %9.1f\n", "with skeletons (similar_history = 5)", mw,
	       with[0], with[runs - 1]);
	printf("  ratio of the medians: %.2fx; median of the %d paired ratios "
	       "(each check beside its neighbour): %.2fx\n", ratio, runs, mp);
	result(ratio <= 1.2 ? "PASS" : "FAIL",
	       "S: check with skeletons within 1.2x of without (depth 24)",
	       "%.1f ms vs %.1f ms = %.2fx (limit 1.20x)", mw, mo, ratio);
	free(with);
	free(without);
	free(pair);
	return 0;
}

/* ======================= B: account-phase status ======================= */

#define STATUS_USERS 1000

struct status_job {
	const char *socket;
	int first, count;           /* queries of this thread */
	bool persistent;
	uint64_t interval_ns;       /* 0: closed loop; else one query per interval */
	uint64_t phase_ns;          /* this client's offset within an interval */
	uint64_t start_ns;          /* set once all clients are ready */
	uint32_t *lat_ns;           /* count entries */
	pthread_barrier_t *go;
	int failures;
};

static void status_user(char *buf, size_t len, int i)
{
	snprintf(buf, len, "st%04d", i % STATUS_USERS);
}

static void *status_worker(void *arg)
{
	struct status_job *j = arg;
	uint8_t buf[PROTO_MAX_FRAME];
	struct proto_msg req, rep;
	char user[32];
	int fd = -1;

	if (j->persistent && client_connect(j->socket, TIMEOUT_MS, &fd) != PP_OK)
		j->failures++;
	pthread_barrier_wait(j->go);
	for (int i = 0; i < j->count; i++) {
		uint64_t t0, dt;
		bool ok;

		status_user(user, sizeof(user), j->first + i * 7);
		if (j->interval_ns) {
			/*
			 * Open loop: the query is due at its scheduled time and its
			 * latency counts from then, so a late answer also delays
			 * (and is charged to) the queries queued behind it.
			 */
			struct timespec due;
			t0 = j->start_ns + j->phase_ns + (uint64_t)i * j->interval_ns;
			due.tv_sec = (time_t)(t0 / 1000000000u);
			due.tv_nsec = (long)(t0 % 1000000000u);
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
				;
		} else {
			t0 = now_ns();
		}
		if (j->persistent) {
			proto_msg_init(&req, PROTO_STATUS);
			ok = proto_add_cstr(&req, user) == PP_OK &&
			     proto_add_u64(&req, 90) == PP_OK &&
			     proto_add_u64(&req, 14) == PP_OK &&
			     fd >= 0 &&
			     client_call(fd, &req, buf, sizeof(buf), &rep, TIMEOUT_MS) == PP_OK &&
			     rep.type == PROTO_STATUS_REPLY &&
			     rep.f[PROTO_STATUS_REPLY_STATUS].u64 == PROTO_OK;
		} else {
			struct request_status_result st;
			ok = request_status(j->socket, TIMEOUT_MS, user, 90, 14, &st) == PP_OK &&
			     st.found;
		}
		dt = now_ns() - t0;
		j->lat_ns[i] = dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
		if (!ok) {
			j->failures++;
			if (j->persistent) {
				client_close(&fd);
				if (client_connect(j->socket, TIMEOUT_MS, &fd) != PP_OK)
					fd = -1;
			}
		}
	}
	client_close(&fd);
	return NULL;
}

struct row_b {
	char mode[64];
	int clients, queries, failures;
	double p50_us, p99_us, max_us, qps;
};

static void run_status(const char *socket, int clients, int total, bool persistent,
		       double rate, struct row_b *row)
{
	uint64_t interval = rate > 0 ? (uint64_t)(1e9 * clients / rate) : 0;
	struct status_job *jobs = calloc((size_t)clients, sizeof(*jobs));
	pthread_t *th = calloc((size_t)clients, sizeof(*th));
	uint32_t *lat = calloc((size_t)total, sizeof(*lat));
	pthread_barrier_t go;
	int per = total / clients, failures = 0;
	double t0, secs;

	if (jobs == NULL || th == NULL || lat == NULL)
		die("out of memory");
	total = per * clients;
	pthread_barrier_init(&go, NULL, (unsigned)clients + 1);
	/* Threads read start_ns only after the barrier. */
	for (int i = 0; i < clients; i++) {
		jobs[i] = (struct status_job){ socket, i * per, per, persistent, interval,
					       interval * (uint64_t)i / (uint64_t)clients, 0,
					       lat + (size_t)i * (size_t)per, &go, 0 };
		if (pthread_create(&th[i], NULL, status_worker, &jobs[i]) != 0)
			die("pthread_create");
	}
	for (int i = 0; i < clients; i++)
		jobs[i].start_ns = now_ns() + 20000000u;
	pthread_barrier_wait(&go);
	t0 = now_ms();
	for (int i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	secs = (now_ms() - t0) / 1e3;
	for (int i = 0; i < clients; i++)
		failures += jobs[i].failures;
	qsort(lat, (size_t)total, sizeof(*lat), cmp_u32);
	if (rate > 0)
		snprintf(row->mode, sizeof(row->mode), "status, %s, paced %.0f/s",
			 persistent ? "persistent/thread" : "conn per query", rate);
	else
		snprintf(row->mode, sizeof(row->mode), "status, %s, flat out",
			 persistent ? "persistent/thread" : "conn per query");
	row->clients = clients;
	row->queries = total;
	row->failures = failures;
	row->p50_us = pct_u32(lat, (size_t)total, 50) / 1e3;
	row->p99_us = pct_u32(lat, (size_t)total, 99) / 1e3;
	row->max_us = lat[total - 1] / 1e3;
	row->qps = total / secs;
	pthread_barrier_destroy(&go);
	free(jobs);
	free(th);
	free(lat);
}

/*
 * 64 concurrent clients without 64 client threads: one thread drives nconn
 * persistent connections with epoll, so that on a 2-CPU machine the load
 * generator does not take the CPU the daemon is measured on. With rate > 0
 * connection c sends its i-th query at start + (i + c/nconn) * nconn/rate
 * (open loop: timed from that due time, so a slow answer is charged to the
 * queries behind it); with rate 0 each connection sends again as soon as
 * its answer arrives.
 */
struct ev_conn {
	int fd;
	int sent, done;
	bool busy;
	uint64_t next_due, cur_due;
};

static void run_status_ev(const char *socket, int nconn, int total, double rate,
			  struct row_b *row)
{
	struct ev_conn *cs = calloc((size_t)nconn, sizeof(*cs));
	uint32_t *lat = calloc((size_t)total, sizeof(*lat));
	uint64_t interval = rate > 0 ? (uint64_t)(1e9 * nconn / rate) : 0, start;
	int per = total / nconn, ndone = 0, failures = 0, ep = epoll_create1(EPOLL_CLOEXEC);
	uint8_t buf[PROTO_MAX_FRAME];
	double t0;

	if (cs == NULL || lat == NULL || ep < 0)
		die("out of memory");
	total = per * nconn;
	for (int c = 0; c < nconn; c++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)c };
		if (client_connect(socket, TIMEOUT_MS, &cs[c].fd) != PP_OK ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, cs[c].fd, &ev) != 0)
			die("connect %s", socket);
	}
	start = now_ns() + 10000000u;
	for (int c = 0; c < nconn; c++)
		cs[c].next_due = start + interval * (uint64_t)c / (uint64_t)nconn;
	t0 = now_ms();
	while (ndone < total) {
		struct epoll_event evs[64];
		uint64_t now = now_ns(), wake = UINT64_MAX;
		struct timespec to;
		int n;

		for (int c = 0; c < nconn; c++) {
			struct ev_conn *x = &cs[c];
			struct proto_msg req;
			char user[32];
			if (x->busy || x->sent >= per)
				continue;
			if (interval && x->next_due > now) {
				if (x->next_due < wake)
					wake = x->next_due;
				continue;
			}
			status_user(user, sizeof(user), c * per + x->sent * 7);
			proto_msg_init(&req, PROTO_STATUS);
			if (proto_add_cstr(&req, user) != PP_OK || proto_add_u64(&req, 90) != PP_OK ||
			    proto_add_u64(&req, 14) != PP_OK ||
			    proto_send(x->fd, &req, proto_deadline_after(TIMEOUT_MS)) != PP_OK)
				die("status send failed");
			x->cur_due = interval ? x->next_due : now;
			x->next_due += interval;
			x->sent++;
			x->busy = true;
		}
		now = now_ns();
		if (wake == UINT64_MAX || wake <= now) {
			to.tv_sec = wake == UINT64_MAX ? 5 : 0;
			to.tv_nsec = 0;
		} else {
			to.tv_sec = (time_t)((wake - now) / 1000000000u);
			to.tv_nsec = (long)((wake - now) % 1000000000u);
		}
		n = epoll_pwait2(ep, evs, 64, &to, NULL);
		if (n < 0 && errno != EINTR)
			die("epoll_pwait2: %s", strerror(errno));
		for (int k = 0; k < n; k++) {
			struct ev_conn *x = &cs[evs[k].data.u32];
			struct proto_msg rep;
			size_t len;
			uint64_t dt;
			if (!x->busy ||
			    proto_frame_read(x->fd, buf, sizeof(buf), &len,
					     proto_deadline_after(TIMEOUT_MS)) != PP_OK)
				die("status reply read failed");
			dt = now_ns() - x->cur_due;
			if (proto_decode(buf, len, &rep) != PP_OK || rep.type != PROTO_STATUS_REPLY ||
			    rep.f[PROTO_STATUS_REPLY_STATUS].u64 != PROTO_OK)
				failures++;
			lat[ndone++] = dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
			x->busy = false;
		}
	}
	row->qps = total / ((now_ms() - t0) / 1e3);
	for (int c = 0; c < nconn; c++)
		client_close(&cs[c].fd);
	close(ep);
	qsort(lat, (size_t)total, sizeof(*lat), cmp_u32);
	if (rate > 0)
		snprintf(row->mode, sizeof(row->mode), "status, 64 conns/1 thread, paced %.0f/s",
			 rate);
	else
		snprintf(row->mode, sizeof(row->mode), "status, 64 conns/1 thread, flat out");
	row->clients = nconn;
	row->queries = total;
	row->failures = failures;
	row->p50_us = pct_u32(lat, (size_t)total, 50) / 1e3;
	row->p99_us = pct_u32(lat, (size_t)total, 99) / 1e3;
	row->max_us = lat[total - 1] / 1e3;
	free(cs);
	free(lat);
}

static void run_pam_account(const char *confdir, const char *service,
			    const char *user, int n, const char *label,
			    struct row_b *row)
{
	uint32_t *lat = calloc((size_t)n, sizeof(*lat));
	struct conv_data cd;
	double t0, ms;
	int rc, failures = 0;

	if (lat == NULL)
		die("out of memory");
	rc = pam_once(confdir, service, user, NULL, false, &ms, &cd);
	if (rc != PAM_SUCCESS)
		die("%s account phase for %s: %s", service, user, pam_strerror(NULL, rc));
	t0 = now_ms();
	for (int i = 0; i < n; i++) {
		if (pam_once(confdir, service, user, NULL, false, &ms, &cd) != PAM_SUCCESS)
			failures++;
		lat[i] = (uint32_t)(ms * 1e6);
	}
	row->qps = n / ((now_ms() - t0) / 1e3);
	qsort(lat, (size_t)n, sizeof(*lat), cmp_u32);
	snprintf(row->mode, sizeof(row->mode), "%s", label);
	row->clients = 1;
	row->queries = n;
	row->failures = failures;
	row->p50_us = pct_u32(lat, (size_t)n, 50) / 1e3;
	row->p99_us = pct_u32(lat, (size_t)n, 99) / 1e3;
	row->max_us = lat[n - 1] / 1e3;
	free(lat);
}

/*
 * The machine's CPU time so far, from /proc/stat's "cpu" line: all of it
 * and what the hypervisor took away (steal). A guest's vCPU that the host
 * deschedules stalls whatever runs on it for milliseconds: latency tails
 * are read beside it.
 */
static bool cpu_times(unsigned long long *all, unsigned long long *steal)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (f == NULL)
		return false;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 8)
		return false;
	*all = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
	*steal = v[7];
	return true;
}

static int cmd_status(int total, int total_conn, int pam_calls)
{
	char dir[600], pamdir[700], path[800], conf[800];
	struct daemon d;
	struct row_b rows[10];
	const int nrows = (int)(sizeof(rows) / sizeof(rows[0]));
	double steal_pct = -1;
	double t0;

	memset(rows, 0, sizeof(rows));
	PATHF(dir, "%s/b", work_dir);
	make_dir(dir, 0700);
	PATHF(pamdir, "%s/pam.d", dir);
	make_dir(pamdir, 0755);
	daemon_start(&d, dir, NULL);
	current_daemon = &d;

	/* First sight of each user (a write on the daemon's writer thread). */
	t0 = now_ms();
	for (int i = 0; i < STATUS_USERS; i++) {
		struct request_status_result st;
		char user[32];
		status_user(user, sizeof(user), i);
		if (request_status(d.socket, TIMEOUT_MS, user, 90, 14, &st) != PP_OK || !st.found)
			die("seeding status of %s failed", user);
	}
	printf("  (%d users seeded by a first status each: %.1f s)\n", STATUS_USERS,
	       (now_ms() - t0) / 1e3);

	/* Warm-up, then the measured runs. */
	run_status(d.socket, 4, 20000, true, 0, &rows[0]);
	run_status(d.socket, 1, total, true, 0, &rows[0]);
	run_status(d.socket, 64, total, true, 0, &rows[1]);
	run_status(d.socket, 64, total, true, 20000, &rows[2]);
	run_status_ev(d.socket, 64, total, 0, &rows[3]);
	{
		unsigned long long a0 = 0, s0 = 0, a1 = 0, s1 = 0;
		bool have = cpu_times(&a0, &s0);

		run_status_ev(d.socket, 64, total, 20000, &rows[4]);
		have = have && cpu_times(&a1, &s1) && a1 > a0;
		steal_pct = have ? 100.0 * (double)(s1 - s0) / (double)(a1 - a0) : -1;
	}
	run_status(d.socket, 1, total_conn, false, 0, &rows[5]);
	run_status(d.socket, 64, total_conn, false, 0, &rows[6]);
	run_status(d.socket, 64, total_conn, false, 10000, &rows[7]);

	PATHF(conf, "%s/policy.conf", dir);
	write_file(conf, "socket = %s\nmax_age_days = 90\nwarn_days = 14\n"
		   "timeout_ms = %d\n", d.socket, TIMEOUT_MS);
	PATHF(path, "%s/pp-account", pamdir);
	write_file(path, "account required %s/pam_policy.so config=%s\n", build_dir, conf);
	PATHF(path, "%s/unix-account", pamdir);
	write_file(path, "account required pam_unix.so\n");
	run_pam_account(pamdir, "pp-account", "st0001", pam_calls,
			"pam_policy.so account (PAM stack)", &rows[8]);
	run_pam_account(pamdir, "unix-account", "root", pam_calls,
			"pam_unix.so account (PAM stack, root)", &rows[9]);
	daemon_stop(&d);
	current_daemon = NULL;

	printf("\nPart B - account-phase status (%d users queried, %ld CPUs online)\n\n",
	       STATUS_USERS, sysconf(_SC_NPROCESSORS_ONLN));
	printf("  %-44s %7s %8s %9s %9s %9s %10s %5s\n", "mode", "clients", "queries",
	       "p50 us", "p99 us", "max us", "queries/s", "fail");
	printf("  %s\n", "-----------------------------------------------------------"
	       "--------------------------------------------------");
	for (int i = 0; i < nrows; i++)
		printf("  %-44s %7d %8d %9.1f %9.1f %9.1f %10.0f %5d\n", rows[i].mode,
		       rows[i].clients, rows[i].queries, rows[i].p50_us, rows[i].p99_us,
		       rows[i].max_us, rows[i].qps, rows[i].failures);
	printf("  (flat out: every client sends its next query as soon as the answer\n"
	       "   arrives, so with 64 clients latency is queueing: 64 / throughput.\n"
	       "   paced: 64 clients share the stated rate, each query due on a fixed\n"
	       "   schedule and timed from then. PAM rows: pam_start_confdir +\n"
	       "   pam_acct_mgmt + pam_end per call; pam_policy.so opens one\n"
	       "   connection per call, as in production.)\n");

	result(rows[4].p99_us < 1000 && rows[4].failures == 0 &&
	       rows[4].qps >= 0.98 * 20000 ? "PASS" : "FAIL",
	       "B: status p99 under 1 ms, 64 clients at 20,000 q/s",
	       "p99 %.1f us, p50 %.1f us at %.0f q/s (64 conns, 1 client thread; "
	       "host steal %.1f%% of CPU time)",
	       rows[4].p99_us, rows[4].p50_us, rows[4].qps, steal_pct);
	result(rows[3].qps >= 20000 ? "PASS" : "FAIL", "B: at least 20,000 status queries/s",
	       "%.0f q/s flat out, 64 conns (64 threads: %.0f q/s)", rows[3].qps, rows[1].qps);
	result("INFO", "B: 64 client threads paced 20,000/s",
	       "p99 %.1f us at %.0f q/s (load generator shares the 2 CPUs)",
	       rows[2].p99_us, rows[2].qps);
	result("INFO", "B: connection per query (the module's way), 64",
	       "flat out %.0f q/s p99 %.1f us; paced 10,000/s p99 %.1f us",
	       rows[6].qps, rows[6].p99_us, rows[7].p99_us);
	result("INFO", "B: account phase, whole PAM transaction",
	       "pam_policy.so p50 %.1f us vs pam_unix.so p50 %.1f us (%.2fx)",
	       rows[8].p50_us, rows[9].p50_us, rows[8].p50_us / rows[9].p50_us);
	return 0;
}

/* ======================= C: report over 100,000 users ======================= */

static void sql_ok(sqlite3 *db, int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
		die("seeding: %s: %s", what, sqlite3_errmsg(db));
}

/*
 * The store API commits (synchronous=FULL) per call; 100,000 users that way
 * take minutes. So: let store_open_sqlite create the schema, then fill it
 * with the SQLite API in one transaction. States spread over ok, warning,
 * expired, never set and must change.
 */
static void seed_store(const char *state, int nusers)
{
	char err[512], dbpath[700];
	struct store *s = NULL;
	sqlite3 *db;
	sqlite3_stmt *ins_user, *ins_hist;
	int64_t now = (int64_t)time(NULL);

	make_dir(state, 0700);
	if (store_open_sqlite(state, &s, err, sizeof(err)) != PP_OK)
		die("store_open_sqlite: %s", err);
	store_close(s);
	/* A store with users has its pepper: the daemon never makes one over data. */
	{
		uint8_t pepper[HASH_PEPPER_BYTES];

		PATHF(dbpath, "%s/pepper", state);
		hash_pepper_generate(pepper);
		if (hash_pepper_save(dbpath, pepper, false, err, sizeof(err)) != PP_OK)
			die("%s", err);
	}
	PATHF(dbpath, "%s/store.db", state);
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		die("sqlite3_open %s: %s", dbpath, sqlite3_errmsg(db));
	sql_ok(db, sqlite3_exec(db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = OFF;"
				"BEGIN IMMEDIATE", NULL, NULL, NULL), "begin");
	sql_ok(db, sqlite3_prepare_v2(db,
		"INSERT INTO users (name, salt, last_change, first_seen, must_change,"
		" history_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &ins_user, NULL),
	       "prepare users");
	sql_ok(db, sqlite3_prepare_v2(db,
		"INSERT INTO history (user, hash, opslimit, memlimit, created)"
		" VALUES (?1, ?2, 2, 67108864, ?3)", -1, &ins_hist, NULL), "prepare history");
	for (int i = 0; i < nusers; i++) {
		char name[32];
		uint8_t salt[16], hash[32];
		int64_t last = i % 50 == 0 ? 0 : now - (int64_t)(i % 120) * 86400 - 3600;
		int must = i % 97 == 0;
		int hist = last ? 1 : 0;

		PATHF(name, "u%06d", i);
		randombytes_buf(salt, sizeof(salt));
		randombytes_buf(hash, sizeof(hash));
		sqlite3_reset(ins_user);
		sqlite3_bind_text(ins_user, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(ins_user, 2, salt, sizeof(salt), SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins_user, 3, last);
		sqlite3_bind_int64(ins_user, 4, now - 200 * 86400);
		sqlite3_bind_int(ins_user, 5, must);
		sqlite3_bind_int(ins_user, 6, hist);
		sql_ok(db, sqlite3_step(ins_user), "insert user");
		if (hist) {
			sqlite3_reset(ins_hist);
			sqlite3_bind_text(ins_hist, 1, name, -1, SQLITE_TRANSIENT);
			sqlite3_bind_blob(ins_hist, 2, hash, sizeof(hash), SQLITE_TRANSIENT);
			sqlite3_bind_int64(ins_hist, 3, last);
			sql_ok(db, sqlite3_step(ins_hist), "insert history");
		}
	}
	sqlite3_finalize(ins_user);
	sqlite3_finalize(ins_hist);
	sql_ok(db, sqlite3_exec(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);", NULL, NULL,
				NULL), "commit");
	sqlite3_close(db);
}

static pp_err count_user(const struct store_user *u, void *ctx)
{
	(void)u;
	++*(long *)ctx;
	return PP_OK;
}

/*
 * The walk a report makes over the store, in this process (no daemon, no
 * protocol): store_foreach_user over every user, runs times. Returns the
 * median in ms; *open_ms is the one store_open_sqlite (integrity check
 * included), *users what the walk saw.
 */
static double store_walk(const char *state, int runs, double *open_ms, long *users)
{
	char err[512];
	struct store *s = NULL;
	double t0 = now_ms(), *t = calloc((size_t)runs, sizeof(double)), med;

	if (t == NULL)
		die("out of memory");
	if (store_open_sqlite(state, &s, err, sizeof(err)) != PP_OK)
		die("store_open_sqlite: %s", err);
	*open_ms = now_ms() - t0;
	for (int k = 0; k < runs; k++) {
		*users = 0;
		t0 = now_ms();
		if (store_foreach_user(s, count_user, users) != PP_OK)
			die("store_foreach_user failed");
		t[k] = now_ms() - t0;
	}
	store_close(s);
	med = median(t, (size_t)runs);
	free(t);
	return med;
}

/* One PROTO_REPORT stream, all rows read and decoded; returns the row count. */
static long report_stream(const char *socket, double *ms)
{
	uint8_t buf[PROTO_MAX_FRAME];
	struct proto_msg req, rep;
	double t0 = now_ms();
	long rows = 0;
	int fd;

	if (client_connect(socket, TIMEOUT_MS, &fd) != PP_OK)
		die("connect %s", socket);
	proto_msg_init(&req, PROTO_REPORT);
	if (client_call(fd, &req, buf, sizeof(buf), &rep, TIMEOUT_MS) != PP_OK)
		die("PROTO_REPORT request failed");
	while (rep.type == PROTO_REPORT_ROW) {
		rows++;
		if (client_recv(fd, buf, sizeof(buf), &rep, TIMEOUT_MS) != PP_OK)
			die("report stream cut after %ld rows", rows);
	}
	if (rep.type != PROTO_REPORT_END || rep.f[PROTO_REPORT_END_COUNT].u64 != (uint64_t)rows)
		die("report ended with %s after %ld rows", proto_type_name(rep.type), rows);
	client_close(&fd);
	*ms = now_ms() - t0;
	return rows;
}

/* Run ctl -c conf report --format csv >out; returns the wall time in ms. */
static double run_ctl(const char *ctl, const char *conf, const char *out,
		      const char *err_path, int *status)
{
	double t0 = now_ms();
	pid_t pid = fork();

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int efd = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || efd < 0 || dup2(efd, 2) < 0)
			_exit(127);
		execl(ctl, "pam_policyctl", "-c", conf, "report", "--format", "csv",
		      (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return now_ms() - t0;
}

static int cmd_report(int nusers, const char *ctl, int runs)
{
	char dir[600], state[700], conf[800], csv[800], cerr[800];
	struct daemon d;
	double t0, seed_s, *t = calloc((size_t)runs, sizeof(double));
	double stream_med, stream_min, ctl_med = 0, ctl_min = 0, walk_med, open_ms;
	long rows = 0, lines = -1, walked = 0;
	int status = 0;

	if (t == NULL)
		die("out of memory");
	PATHF(dir, "%s/c", work_dir);
	make_dir(dir, 0700);
	PATHF(state, "%s/state", dir);
	t0 = now_ms();
	seed_store(state, nusers);
	seed_s = (now_ms() - t0) / 1e3;
	walk_med = store_walk(state, runs, &open_ms, &walked);
	if (walked != nusers)
		die("store walk saw %ld users, expected %d", walked, nusers);

	daemon_start(&d, dir, NULL);
	current_daemon = &d;
	for (int k = -1; k < runs; k++) {
		double ms;
		rows = report_stream(d.socket, &ms);
		/*
		 * The stored users, plus the NSS users the store does not
		 * know that the policy covers: root, and the runner when it
		 * is not root (bench.sh lists both in passwd.report).
		 */
		if (rows < nusers || rows > (long)nusers + 2)
			die("report returned %ld rows, expected %d to %d", rows, nusers,
			    nusers + 2);
		if (k >= 0)
			t[k] = ms;
	}
	stream_med = median(t, (size_t)runs);
	stream_min = t[0];

	if (ctl) {
		PATHF(conf, "%s/ctl.conf", dir);
		write_file(conf, "socket = %s\nstate_dir = %s\naudit_log = %s/log/audit.log\n"
			   "max_age_days = 90\nwarn_days = 14\ntimeout_ms = %d\n",
			   d.socket, d.state, dir, TIMEOUT_MS);
		/* One run into a file to check it, then the timed runs to /dev/null. */
		PATHF(csv, "%s/report.csv", dir);
		PATHF(cerr, "%s/ctl.stderr", dir);
		run_ctl(ctl, conf, csv, cerr, &status);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "bench: %s report failed (status %d); see %s\n", ctl,
				status, cerr);
			ctl = NULL;
		} else {
			FILE *f = fopen(csv, "r");
			int ch;
			lines = 0;
			while (f && (ch = getc(f)) != EOF)
				lines += ch == '\n';
			if (f)
				fclose(f);
			for (int k = 0; k < runs; k++)
				t[k] = run_ctl(ctl, conf, "/dev/null", cerr, &status);
			ctl_med = median(t, (size_t)runs);
			ctl_min = t[0];
		}
	}
	daemon_stop(&d);
	current_daemon = NULL;

	printf("\nPart C - report over %d users (median of %d runs; store seeded in %.1f s)\n\n",
	       nusers, runs, seed_s);
	printf("  %-52s %10s %9s %10s\n", "what", "median ms", "min ms", "rows");
	printf("  %s\n", "------------------------------------------------------------"
	       "----------------------------");
	printf("  %-52s %10.1f %9s %10ld\n", "store_foreach_user walk, in-process (no daemon)",
	       walk_med, "", walked);
	printf("  %-52s %10.1f %9s %10s\n", "store_open_sqlite (integrity check included)",
	       open_ms, "", "");
	printf("  %-52s %10.1f %9.1f %10ld\n", "PROTO_REPORT stream, in-process (decode only)",
	       stream_med, stream_min, rows);
	if (ctl)
		printf("  %-52s %10.1f %9.1f %10ld\n",
		       "pam_policyctl report --format csv >/dev/null", ctl_med, ctl_min,
		       lines);
	else
		printf("  %-52s %10s\n", "pam_policyctl report --format csv >/dev/null",
		       "not built");
	if (ctl)
		printf("  (pam_policyctl rows column: lines of its CSV output, header included)\n");

	result(walk_med < 1000 ? "PASS" : "FAIL", "C: store walk of 100,000 users under 1 s",
	       "%.1f ms for %ld users (store_foreach_user; open %.1f ms)", walk_med, walked,
	       open_ms);
	result(stream_med < 1000 ? "PASS" : "FAIL", "C: report stream over 100,000 users under 1 s",
	       "%.1f ms for %ld rows (in-process PROTO_REPORT)", stream_med, rows);
	if (ctl)
		result(ctl_med < 1000 ? "PASS" : "FAIL",
		       "C: pam_policyctl report under 1 s",
		       "%.1f ms end to end, %ld CSV lines", ctl_med, lines);
	else
		result("SKIP", "C: pam_policyctl report under 1 s",
		       "build/pam_policyctl not built (or it failed); stream timed instead");
	free(t);
	return 0;
}

/* ======================= main ======================= */

/* ======================= Q: quality of the verdicts ======================= */

#define Q_TOOLS 3
#define Q_PLAIN 250   /* passwords per corpus also checked without the index */
#define Q_CORPORA 4
static const char *const q_tool_names[Q_TOOLS] = { "pam_policy", "pam_pwquality", "pam_passwdqc" };
static const char *const q_corpus_names[Q_CORPORA] = { "weak", "strong-pwgen", "strong-pwmake",
						      "strong-xkcdpass" };

struct q_corpus {
	char **pw;
	size_t n;
};

static void q_load(struct q_corpus *c, const char *path)
{
	char line[1024];
	size_t cap = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	memset(c, 0, sizeof(*c));
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if (c->n == cap) {
			cap = cap ? cap * 2 : 1024;
			c->pw = realloc(c->pw, cap * sizeof(*c->pw));
			if (c->pw == NULL)
				die("out of memory");
		}
		if ((c->pw[c->n++] = strdup(line)) == NULL)
			die("out of memory");
	}
	fclose(f);
	if (c->n == 0)
		die("%s is empty", path);
}

/* The index of the default wordlist at path (see guess_wordlist_index). */
static void build_wordlist_index(const char *path)
{
	struct policy d;
	const char *lists[1];
	char err[600];
	void *buf = NULL;
	size_t len = 0;
	uint64_t words = 0;
	FILE *f;

	policy_defaults(&d);
	lists[0] = d.wordlist;
	if (guess_wordlist_index(lists, 1, &buf, &len, &words, err, sizeof(err)) != PP_OK)
		die("word list index: %s", err);
	f = fopen(path, "w");
	if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0 ||
	    chmod(path, 0644) != 0)   /* an index others may write is refused */
		die("%s: %s", path, strerror(errno));
	free(buf);
	printf("  (word list index of %s: %llu words)\n", d.wordlist,
	       (unsigned long long)words);
}

static int cmd_quality(const char *corpus_dir, const char *securedir)
{
	char dir[600], pamdir[700], conf[800], path[800], index_path[700];
	char plain_conf[800];
	double plain_ms = 0;
	long plain_calls = 0, plain_differ = 0;
	struct q_corpus corpus[Q_CORPORA];
	long accepted[Q_TOOLS][Q_CORPORA];
	double ms[Q_TOOLS];
	long calls[Q_TOOLS];
	bool have[Q_TOOLS];
	const char *user = "zqx1";

	PATHF(dir, "%s/q", work_dir);
	make_dir(dir, 0700);
	PATHF(pamdir, "%s/pam.d", dir);
	make_dir(pamdir, 0755);
	/*
	 * The default policy, without the daemon: no history, no minimum age;
	 * the word list's index built here as "pam_policyctl wordlist build"
	 * builds it (the installed one is in /var/cache, which is not ours).
	 */
	PATHF(index_path, "%s/wordlist.idx", dir);
	build_wordlist_index(index_path);
	PATHF(conf, "%s/policy.conf", dir);
	write_file(conf, "history = 0\nsimilar_history = 0\nmin_age_days = 0\n"
		   "socket = %s/none.sock\nwordlist_index = %s\n", dir, index_path);
	PATHF(path, "%s/pam_policy", pamdir);
	write_file(path,
		   "password requisite %s/tests/pam_test_writer.so prompt\n"
		   "password requisite %s/pam_policy.so config=%s use_authtok\n",
		   build_dir, build_dir, conf);
	/* For reference: the same policy reading the plain list every time. */
	PATHF(plain_conf, "%s/policy-plain.conf", dir);
	write_file(plain_conf, "history = 0\nsimilar_history = 0\nmin_age_days = 0\n"
		   "socket = %s/none.sock\nwordlist_index =\n", dir);
	PATHF(path, "%s/pam_policy_plain", pamdir);
	write_file(path,
		   "password requisite %s/tests/pam_test_writer.so prompt\n"
		   "password requisite %s/pam_policy.so config=%s use_authtok\n",
		   build_dir, build_dir, plain_conf);
	/* The same composition for the others: 10 characters, 4 classes. */
	PATHF(path, "%s/pam_pwquality", pamdir);
	write_file(path,
		   "password requisite %s/tests/pam_test_writer.so prompt\n"
		   "password requisite %s/pam_pwquality.so use_authtok enforce_for_root "
		   "retry=1 minlen=10 dcredit=-1 ucredit=-1 lcredit=-1 ocredit=-1\n",
		   build_dir, securedir);
	PATHF(path, "%s/pam_passwdqc", pamdir);
	write_file(path,
		   "password requisite %s/tests/pam_test_writer.so prompt\n"
		   "password requisite %s/pam_passwdqc.so use_authtok enforce=everyone "
		   "retry=1\n",
		   build_dir, securedir);
	for (int t = 0; t < Q_TOOLS; t++) {
		char so[800];
		PATHF(so, "%s/%s.so", t == 0 ? build_dir : securedir, q_tool_names[t]);
		have[t] = access(so, R_OK) == 0;
		ms[t] = 0;
		calls[t] = 0;
	}
	for (int c = 0; c < Q_CORPORA; c++) {
		PATHF(path, "%s/%s.txt", corpus_dir, q_corpus_names[c]);
		q_load(&corpus[c], path);
	}

	for (int t = 0; t < Q_TOOLS; t++) {
		if (!have[t])
			continue;
		for (int c = 0; c < Q_CORPORA; c++) {
			accepted[t][c] = 0;
			for (size_t i = 0; i < corpus[c].n; i++) {
				struct conv_data cd;
				double one;
				int rc = pam_once(pamdir, q_tool_names[t], user, corpus[c].pw[i],
						  true, &one, &cd);
				if (rc == PAM_SUCCESS)
					accepted[t][c]++;
				ms[t] += one;
				calls[t]++;
				/* The first Q_PLAIN of each corpus again without the index. */
				if (t == 0 && i < Q_PLAIN) {
					int rp = pam_once(pamdir, "pam_policy_plain", user,
							  corpus[c].pw[i], true, &one, &cd);
					plain_differ += (rp == PAM_SUCCESS) != (rc == PAM_SUCCESS);
					plain_ms += one;
					plain_calls++;
				}
			}
		}
	}

	/* The library's own cost, in process: rules_check with the default
	 * policy (word lists already cached after the first call). */
	struct policy pol;
	double lib_ms = 0, first_ms;
	long lib_calls = 0;
	policy_defaults(&pol);
	PATHF(pol.wordlist_index, "%s", index_path);
	{
		struct rules_result res;
		struct rules_context ctx = { user, "Zqx Ytw", NULL, NULL, NULL, NULL };
		double t0 = now_ms();
		if (rules_check(&pol, corpus[0].pw[0], &ctx, &res) != PP_OK)
			die("rules_check failed on the first password");
		first_ms = now_ms() - t0;
		t0 = now_ms();
		for (int c = 0; c < Q_CORPORA; c++)
			for (size_t i = 0; i < corpus[c].n; i++) {
				if (rules_check(&pol, corpus[c].pw[i], &ctx, &res) != PP_OK)
					die("rules_check failed");
				lib_calls++;
			}
		lib_ms = (now_ms() - t0) / (double)lib_calls;
	}

	printf("  %-14s", "accepted");
	for (int c = 0; c < Q_CORPORA; c++)
		printf(" %18s", q_corpus_names[c]);
	printf(" %18s %10s\n", "strong (all)", "ms/check");
	for (int t = 0; t < Q_TOOLS; t++) {
		long sa = 0, sn = 0;
		if (!have[t]) {
			printf("  %-14s (not installed: %s/%s.so)\n", q_tool_names[t],
			       securedir, q_tool_names[t]);
			continue;
		}
		printf("  %-14s", q_tool_names[t]);
		for (int c = 0; c < Q_CORPORA; c++) {
			char cell[48];
			snprintf(cell, sizeof(cell), "%ld/%zu %5.1f%%", accepted[t][c], corpus[c].n,
				 100.0 * (double)accepted[t][c] / (double)corpus[c].n);
			printf(" %18s", cell);
			if (c > 0) {
				sa += accepted[t][c];
				sn += (long)corpus[c].n;
			}
		}
		{
			char cell[48];
			snprintf(cell, sizeof(cell), "%ld/%ld %5.1f%%", sa, sn,
				 100.0 * (double)sa / (double)sn);
			printf(" %18s %10.3f\n", cell, ms[t] / (double)calls[t]);
		}
	}
	printf("  (ms/check: one whole PAM transaction, pam_start_confdir to pam_end,\n"
	       "   the test writer's prompt included; no daemon. pam_policy's rules_check\n"
	       "   in process: %.3f ms per password, %.1f ms for the first, which reads\n"
	       "   the word lists)\n", lib_ms, first_ms);
	if (have[0] && plain_calls > 0)
		printf("  (pam_policy without its word list index, reading %s on every\n"
		       "   transaction: %.3f ms/check over %ld passwords, %ld verdict%s differing\n"
		       "   from the indexed run)\n", pol.wordlist, plain_ms / (double)plain_calls,
		       plain_calls, plain_differ, plain_differ == 1 ? "" : "s");

	if (have[0]) {
		long sa = 0, sn = 0;
		double weak = 100.0 * (double)accepted[0][0] / (double)corpus[0].n, strong;
		for (int c = 1; c < Q_CORPORA; c++) {
			sa += accepted[0][c];
			sn += (long)corpus[c].n;
		}
		strong = 100.0 * (double)sa / (double)sn;
		result(weak <= 1.0 ? "PASS" : "FAIL", "Q pam_policy accepts <= 1% of the weak corpus",
		       "%ld/%zu (%.2f%%)", accepted[0][0], corpus[0].n, weak);
		result(strong >= 99.5 ? "PASS" : "FAIL",
		       "Q pam_policy accepts >= 99.5% of the strong corpus", "%ld/%ld (%.2f%%)",
		       sa, sn, strong);
		result(plain_differ == 0 ? "PASS" : "FAIL",
		       "Q pam_policy verdicts identical with and without the index",
		       "%ld of %ld differ", plain_differ, plain_calls);
		result(ms[0] / (double)calls[0] <= 5.0 ? "PASS" : "FAIL",
		       "Q pam_policy check without the daemon <= 5 ms", "%.3f ms per PAM "
		       "transaction, %.3f ms in rules_check", ms[0] / (double)calls[0], lib_ms);
	}
	for (int c = 0; c < Q_CORPORA; c++) {
		for (size_t i = 0; i < corpus[c].n; i++)
			free(corpus[c].pw[i]);
		free(corpus[c].pw);
	}
	return 0;
}

/* =================== F: the whole PAM check with a filter =================== */

/*
 * The breach filters of part F (tests/bench/blocklist.sh) behind the real
 * modules: FILTERDIR/ours.ppbl for pam_policy (blocklist =) and
 * FILTERDIR/pwq_pam.pwq for pam_passwdqc (filter=), both holding the same
 * synthetic entries and one known password, FILTERDIR/member.txt (SHA-1 in
 * ours; MD4 in passwdqc's, the only plaintext hashes pam_passwdqc 2.0 has).
 * Each stack must refuse the member and accept a password outside the
 * filter; a stack without the filter must accept the member (the refusal
 * is the filter's). Then every stack runs BENCH_FILTER_PAM_CALLS whole
 * transactions, one new non-member password each, the stacks taking turns
 * so that a load spike on the shared machine falls on all of them alike.
 */
#define F_STACKS 4

struct f_stack {
	const char *service;    /* file name under pam.d */
	const char *label;      /* row heading */
	const char *refusal;    /* a word of the module's breach message; NULL: no filter */
	bool have;
	double *ms;             /* one transaction each */
	double p50, p99;
};

static double pct_double(const double *sorted, size_t n, double p)
{
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

/* Password i of a deterministic series: 16 characters, four classes. */
static void f_password(char *buf, size_t len, uint64_t i)
{
	static const char *const classes[4] = {
		"abcdefghijkmnopqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789", "!#%+-.:=?@^_~"
	};
	uint64_t s = 0x5eedf11e7ULL + i * 0x9e3779b97f4a7c15ULL;

	if (len < 17)
		die("f_password: buffer too small");
	for (int k = 0; k < 16; k++) {
		uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		z ^= z >> 31;
		const char *c = classes[(k + (int)(i & 3)) % 4];
		buf[k] = c[z % strlen(c)];
	}
	buf[16] = '\0';
}

static void f_expect(const char *pamdir, const struct f_stack *st, const char *user,
		     const char *password, bool accept, const char *what)
{
	struct conv_data cd;
	double ms;
	int rc = pam_once(pamdir, st->service, user, password, true, &ms, &cd);

	if (accept && rc != PAM_SUCCESS) {
		result("FAIL", "F PAM stacks refuse a listed password, accept others",
		       "%s refused %s: %s", st->label, what, cd.last_error);
		die("%s refused %s: %s (%s)", st->label, what, pam_strerror(NULL, rc),
		    cd.last_error);
	}
	if (!accept && (rc == PAM_SUCCESS || st->refusal == NULL ||
			strstr(cd.last_error, st->refusal) == NULL)) {
		result("FAIL", "F PAM stacks refuse a listed password, accept others",
		       "%s %s %s (message \"%s\")", st->label,
		       rc == PAM_SUCCESS ? "accepted" : "refused, without its breach message,", what,
		       cd.last_error);
		die("%s did not refuse %s as breached: %s (\"%s\")", st->label, what,
		    pam_strerror(NULL, rc), cd.last_error);
	}
}

static int cmd_filter(const char *filterdir, const char *securedir, int calls)
{
	char dir[600], pamdir[700], conf_bl[800], conf_none[800], path[900];
	char ours[700], pwq[700], member[128] = "", index_path[800];
	struct f_stack st[F_STACKS] = {
		{ "f_passwdqc_filter", "pam_passwdqc filter=", "database", false, NULL, 0, 0 },
		{ "f_passwdqc", "pam_passwdqc, no filter", NULL, false, NULL, 0, 0 },
		{ "f_policy_blocklist", "pam_policy blocklist =", "breaches", false, NULL, 0, 0 },
		{ "f_policy", "pam_policy, no blocklist", NULL, false, NULL, 0, 0 },
	};
	const char *user = "zqx1";
	char (*pw)[24] = calloc((size_t)calls, sizeof(*pw));
	struct blocklist *bl = NULL;
	char why[512];
	double load[1];
	FILE *f;

	if (pw == NULL)
		die("out of memory");
	PATHF(path, "%s/member.txt", filterdir);
	if ((f = fopen(path, "r")) == NULL || fgets(member, sizeof(member), f) == NULL)
		die("%s: cannot read the member password", path);
	fclose(f);
	member[strcspn(member, "\n")] = '\0';
	PATHF(ours, "%s/ours.ppbl", filterdir);
	PATHF(pwq, "%s/pwq_pam.pwq", filterdir);

	PATHF(dir, "%s/fpam", work_dir);
	make_dir(dir, 0700);
	PATHF(pamdir, "%s/pam.d", dir);
	make_dir(pamdir, 0755);
	/* As part Q: no history, so no daemon is asked (the socket is absent). */
	/* As in part Q: the word list's index, as installed. */
	PATHF(index_path, "%s/wordlist.idx", dir);
	build_wordlist_index(index_path);
	PATHF(conf_bl, "%s/blocklist.conf", dir);
	write_file(conf_bl, "history = 0\nsimilar_history = 0\nmin_age_days = 0\n"
		   "socket = %s/none.sock\nblocklist = %s\nwordlist_index = %s\n", dir, ours,
		   index_path);
	PATHF(conf_none, "%s/none.conf", dir);
	write_file(conf_none, "history = 0\nsimilar_history = 0\nmin_age_days = 0\n"
		   "socket = %s/none.sock\nblocklist =\nwordlist_index = %s\n", dir, index_path);
	for (int t = 0; t < F_STACKS; t++) {
		char line[2400];
		if (t < 2) {
			PATHF(line, "password requisite %s/pam_passwdqc.so use_authtok "
			      "enforce=everyone retry=1%s%s\n", securedir, t == 0 ? " filter=" : "",
			      t == 0 ? pwq : "");
			PATHF(path, "%s/pam_passwdqc.so", securedir);
			st[t].have = access(path, R_OK) == 0 && (t == 1 || access(pwq, R_OK) == 0);
		} else {
			PATHF(line, "password requisite %s/pam_policy.so config=%s use_authtok\n",
			      build_dir, t == 2 ? conf_bl : conf_none);
			st[t].have = true;
		}
		PATHF(path, "%s/%s", pamdir, st[t].service);
		write_file(path, "password requisite %s/tests/pam_test_writer.so prompt\n%s",
			   build_dir, line);
		if ((st[t].ms = calloc((size_t)calls, sizeof(double))) == NULL)
			die("out of memory");
	}

	/* Non-members: a series with every password outside our filter (the
	 * passwdqc stack proves it for its own in the timed runs: each must pass). */
	if (blocklist_open(ours, &bl, why, sizeof(why)) != PP_OK)
		die("%s", why);
	for (uint64_t i = 0, k = 0; k < (uint64_t)calls; i++) {
		f_password(pw[k], sizeof(pw[k]), i);
		int listed = blocklist_contains(bl, pw[k], strlen(pw[k]));
		if (listed < 0)
			die("%s: lookup failed: %s", ours, strerror(errno));
		if (listed == 0)
			k++;
	}
	if (blocklist_contains(bl, member, strlen(member)) != 1)
		die("%s does not hold the member password", ours);
	blocklist_close(bl);

	for (int t = 0; t < F_STACKS; t++) {
		if (!st[t].have)
			continue;
		f_expect(pamdir, &st[t], user, member, st[t].refusal == NULL, "the member password");
		f_expect(pamdir, &st[t], user, pw[0], true, "a non-member");
	}
	result(st[0].have ? "PASS" : "SKIP", "F PAM stacks refuse a listed password, accept others",
	       "%s", st[0].have ? "pam_passwdqc filter= and pam_policy blocklist = refuse it; "
	       "without the filter both accept it" : "pam_passwdqc or pwqfilter missing; "
	       "pam_policy refuses it, accepts it without blocklist");

	/* Warm-up: module loading, the filters' pages, the word lists. */
	for (int i = 0; i < 20; i++)
		for (int t = 0; t < F_STACKS; t++) {
			struct conv_data cd;
			double ms;
			if (st[t].have && pam_once(pamdir, st[t].service, user, pw[i % calls], true,
						   &ms, &cd) != PAM_SUCCESS)
				die("%s refused a non-member in the warm-up: %s", st[t].label,
				    cd.last_error);
		}
	for (int i = 0; i < calls; i++)
		for (int t = 0; t < F_STACKS; t++) {
			struct conv_data cd;
			if (!st[t].have)
				continue;
			if (pam_once(pamdir, st[t].service, user, pw[i], true, &st[t].ms[i], &cd) !=
			    PAM_SUCCESS || cd.prompts != 1)
				die("%s refused non-member %d: %s", st[t].label, i, cd.last_error);
		}
	for (int t = 0; t < F_STACKS; t++) {
		if (!st[t].have)
			continue;
		qsort(st[t].ms, (size_t)calls, sizeof(double), cmp_double);
		st[t].p50 = pct_double(st[t].ms, (size_t)calls, 50);
		st[t].p99 = pct_double(st[t].ms, (size_t)calls, 99);
	}

	printf("  whole PAM check, %d transactions per stack, each a new non-member\n"
	       "  (pam_start_confdir + pam_chauthtok + pam_end, the test writer's prompt first):\n",
	       calls);
	printf("  %-40s %12s %12s\n", "stack", "p50 (ms)", "p99 (ms)");
	for (int t = 0; t < F_STACKS; t++) {
		if (st[t].have)
			printf("  %-40s %12.3f %12.3f\n", st[t].label, st[t].p50, st[t].p99);
		else
			printf("  %-40s %12s %12s  (not installed)\n", st[t].label, "-", "-");
	}
	printf("  filter adds, p50: pam_policy %.3f ms", st[2].p50 - st[3].p50);
	if (st[0].have && st[1].have)
		printf(", pam_passwdqc %.3f ms", st[0].p50 - st[1].p50);
	printf("\n");
	if (st[0].have)
		printf("  pam_policy blocklist = / pam_passwdqc filter=: p50 %.2fx, p99 %.2fx\n",
		       st[2].p50 / st[0].p50, st[2].p99 / st[0].p99);
	printf("  (pam_policy also runs its other rules, zxcvbn and pwquality among them;\n"
	       "   both modules open their filter on every call)\n");

	/* The load beside the numbers: the machine may be shared. */
	if (getloadavg(load, 1) != 1)
		load[0] = -1;
	printf("  load average after the runs: %.2f on %ld CPUs\n", load[0],
	       sysconf(_SC_NPROCESSORS_ONLN));
	if (st[0].have)
		result("INFO", "F whole PAM check with the filter (p50/p99)",
		       "pam_policy %.3f/%.3f ms (%.3f/%.3f without), pam_passwdqc %.3f/%.3f ms "
		       "(%.3f/%.3f without), ratio p50 %.2fx p99 %.2fx, %d calls, load %.2f",
		       st[2].p50, st[2].p99, st[3].p50, st[3].p99, st[0].p50, st[0].p99,
		       st[1].p50, st[1].p99, st[2].p50 / st[0].p50, st[2].p99 / st[0].p99, calls,
		       load[0]);
	else
		result("INFO", "F whole PAM check with the filter (p50/p99)",
		       "pam_policy %.3f/%.3f ms (%.3f/%.3f without); pam_passwdqc not measured, "
		       "load %.2f", st[2].p50, st[2].p99, st[3].p50, st[3].p99, load[0]);
	for (int t = 0; t < F_STACKS; t++)
		free(st[t].ms);
	free(pw);
	return 0;
}

static int env_int(const char *name, int def)
{
	const char *v = getenv(name);
	int n = v ? atoi(v) : 0;
	return n > 0 ? n : def;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 5) {
		fprintf(stderr, "usage: bench history|skeleton|status|report|quality|filter BUILD WORK "
			"RESULTS [CTL | CORPUS SECUREDIR | FILTERDIR SECUREDIR]\n");
		return 2;
	}
	build_dir = argv[2];
	work_dir = argv[3];
	results_path = argv[4];
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0)
		die("sodium_init failed");
	atexit(stop_on_exit);
	if (strcmp(argv[1], "history") == 0)
		return cmd_history(env_int("BENCH_RUNS", 15));
	if (strcmp(argv[1], "skeleton") == 0)
		return cmd_skeleton(env_int("BENCH_SKELETON_RUNS", 31));
	if (strcmp(argv[1], "status") == 0)
		return cmd_status(env_int("BENCH_STATUS_QUERIES", 200000),
				  env_int("BENCH_STATUS_CONN_QUERIES", 50000),
				  env_int("BENCH_PAM_CALLS", 2000));
	if (strcmp(argv[1], "report") == 0)
		return cmd_report(env_int("BENCH_REPORT_USERS", 100000),
				  argc > 5 && argv[5][0] ? argv[5] : NULL,
				  env_int("BENCH_REPORT_RUNS", 5));
	if (strcmp(argv[1], "quality") == 0) {
		if (argc < 7)
			die("usage: bench quality BUILD WORK RESULTS CORPUS SECUREDIR");
		return cmd_quality(argv[5], argv[6]);
	}
	if (strcmp(argv[1], "filter") == 0) {
		if (argc < 7)
			die("usage: bench filter BUILD WORK RESULTS FILTERDIR SECUREDIR");
		return cmd_filter(argv[5], argv[6], env_int("BENCH_FILTER_PAM_CALLS", 2000));
	}
	fprintf(stderr, "bench: unknown part %s\n", argv[1]);
	return 2;
}
