/*
 * test_logging.c - pam_policyd's event lines and its talk with the service
 * manager: every event line carries the user's uid and the seq of its
 * audit log line; a refused request and a failed backup are audit events;
 * readiness, STATUS=, WATCHDOG=1 and STOPPING=1 reach $NOTIFY_SOCKET
 * (sd_notify); with a journal socket present the events go to the journal
 * with MESSAGE_ID and their fields (a fake journald socket in a private
 * mount namespace, root only), else to syslog, which the daemon copies to
 * its stderr in the foreground (what the other tests here read); every
 * event type has a MESSAGE_ID, and conf/pam_policy.catalog explains each.
 *
 * The daemon is started here rather than by harness_daemon_start, so that
 * the notify socket stays open for the whole test and the watchdog
 * variables can be set. Nothing sleeps: notify datagrams and the journal
 * socket are polled with deadlines.
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
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "daemon.h"
#include "harness.h"
#include "proto.h"
#include "request.h"

#define TIMEOUT_MS 5000
#define JOURNAL_DIR "/run/systemd/journal"

static char dir[4096];
static char sock[4200], conf[4200], audit_path[4200], log_path[4200], notify_path[4200];
static int notify_fd = -1;
static pid_t daemon_pid;

static void kill_leftover_daemon(void)
{
	int status;

	if (daemon_pid > 0) {
		kill(daemon_pid, SIGKILL);
		waitpid(daemon_pid, &status, 0);
		daemon_pid = 0;
	}
}

static void setup(void)
{
	static bool registered;

	if (!registered) {
		atexit(kill_leftover_daemon);
		registered = true;
	}
	daemon_pid = 0;
	harness_tmpdir(dir, sizeof(dir));
	snprintf(sock, sizeof(sock), "%s/run/pd.sock", dir);
	snprintf(conf, sizeof(conf), "%s/daemon.conf", dir);
	snprintf(audit_path, sizeof(audit_path), "%s/log/audit.log", dir);
	snprintf(log_path, sizeof(log_path), "%s/daemon.log", dir);
	snprintf(notify_path, sizeof(notify_path), "%s/notify.sock", dir);
}

static void teardown(void)
{
	char *log;
	bool report;

	kill_leftover_daemon();
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
	log = harness_read(log_path);
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

/*
 * The next notify datagram that contains needle, within ms; its text in
 * buf. False on timeout (or when the daemon exited meanwhile).
 */
static bool notify_wait_for(const char *needle, int ms, char *buf, size_t cap)
{
	int64_t end = mono_ms() + ms;

	while (mono_ms() < end) {
		struct pollfd p = { .fd = notify_fd, .events = POLLIN };
		if (poll(&p, 1, 100) > 0) {
			ssize_t n = recv(notify_fd, buf, cap - 1, 0);
			if (n > 0) {
				buf[n] = '\0';
				if (strstr(buf, needle))
					return true;
			}
		}
	}
	return false;
}

/*
 * Start build/pam_policyd -f with its stderr in log_path and
 * NOTIFY_SOCKET at our own socket (kept open); wait for READY=1, whose
 * datagram goes into ready (may be NULL). watchdog_usec > 0 sets
 * WATCHDOG_USEC and WATCHDOG_PID as systemd does.
 */
static void start(long watchdog_usec, char *ready, size_t cap)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char text[20000], buf[512];
	int log_fd;

	snprintf(text, sizeof(text),
		 "socket = %s\nstate_dir = %s/state\naudit_log = %s\n"
		 "shadow_file = %s/shadow\n"
		 "argon2_opslimit = 1\nargon2_memlimit_kib = 8192\n",
		 sock, dir, audit_path, dir);
	harness_write(conf, text);
	ck_assert(strlen(notify_path) < sizeof(addr.sun_path));
	memcpy(addr.sun_path, notify_path, strlen(notify_path) + 1);
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert(notify_fd >= 0 && bind(notify_fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert(log_fd >= 0);
	daemon_pid = fork();
	ck_assert(daemon_pid >= 0);
	if (daemon_pid == 0) {
		char pid[24], usec[24];
		dup2(log_fd, STDERR_FILENO);
		unsetenv("JOURNAL_STREAM");    /* else nothing is copied to stderr */
		setenv("NOTIFY_SOCKET", notify_path, 1);
		unsetenv("WATCHDOG_USEC");
		unsetenv("WATCHDOG_PID");
		if (watchdog_usec > 0) {
			snprintf(pid, sizeof(pid), "%ld", (long)getpid());
			snprintf(usec, sizeof(usec), "%ld", watchdog_usec);
			setenv("WATCHDOG_PID", pid, 1);
			setenv("WATCHDOG_USEC", usec, 1);
		}
		execl(harness_build("pam_policyd"), "pam_policyd", "-f", "-c", conf,
		      (char *)NULL);
		_exit(127);
	}
	close(log_fd);
	ck_assert_msg(notify_wait_for("READY=1", 20000, ready ? ready : buf,
				      ready ? cap : sizeof(buf)),
		      "no READY=1 from pam_policyd");
}

/* SIGTERM and wait; the exit status. */
static int stop(void)
{
	int status = -1;

	kill(daemon_pid, SIGTERM);
	while (waitpid(daemon_pid, &status, 0) < 0 && errno == EINTR)
		;
	daemon_pid = 0;
	return status;
}

/* The last line of file holding needle, into line; false if none. */
static bool last_line_with(const char *file, const char *needle, char *line, size_t cap)
{
	char *text = harness_read(file), *p, *save = NULL;
	bool found = false;

	if (text == NULL)
		return false;
	for (p = strtok_r(text, "\n", &save); p; p = strtok_r(NULL, "\n", &save))
		if (strstr(p, needle)) {
			snprintf(line, cap, "%s", p);
			found = true;
		}
	free(text);
	return found;
}

/* The number after key (e.g. " seq=", "\"seq\":") in line; -1 if absent or "-". */
static long long number_after(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	char *end;
	long long v;

	if (p == NULL)
		return -1;
	p += strlen(key);
	v = strtoll(p, &end, 10);
	return end == p ? -1 : v;
}

/*
 * The event line of event in the daemon's log and its audit log line:
 * both exist, and the line's uid= and seq= are those of the audit line.
 * The seq is returned.
 */
static long long check_line_matches_audit(const char *event, long long want_uid)
{
	char needle[128], line[8192], audit_line[8192], want[64];
	long long seq, uid;

	snprintf(needle, sizeof(needle), "event=%s ", event);
	ck_assert_msg(last_line_with(log_path, needle, line, sizeof(line)),
		      "no %s line in the daemon's log", event);
	seq = number_after(line, " seq=");
	uid = number_after(line, " uid=");
	ck_assert_msg(seq > 0, "%s line without a seq: %s", event, line);
	ck_assert_msg(uid == want_uid, "%s line: uid %lld, expected %lld: %s", event, uid,
		      want_uid, line);
	snprintf(want, sizeof(want), "{\"seq\":%lld,", seq);
	ck_assert_msg(last_line_with(audit_path, want, audit_line, sizeof(audit_line)),
		      "no audit line with seq %lld", seq);
	snprintf(needle, sizeof(needle), "\"event\":\"%s\"", event);
	ck_assert_msg(strstr(audit_line, needle) != NULL,
		      "audit line %lld is not %s: %s", seq, event, audit_line);
	ck_assert_int_eq(number_after(audit_line, "\"uid\":"), want_uid);
	return seq;
}

static uid_t uid_of(const char *name)
{
	struct passwd *pw = getpwnam(name);

	ck_assert_msg(pw != NULL, "no user %s (run through tests/run-tests.sh)", name);
	return pw->pw_uid;
}

/* ---- the line and the audit log ---- */

START_TEST(test_event_line_has_uid_and_seq)
{
	char text[256] = "", line[8192];
	long long seq;

	start(0, NULL, 0);
	ck_assert_int_eq(request_simple(sock, TIMEOUT_MS, PROTO_EXPIRE, "alice", text,
					sizeof(text)), PP_OK);
	seq = check_line_matches_audit("admin_expire", (long long)uid_of("alice"));
	/* Events without a user: uid=- there, null in the log; a seq all the same. */
	ck_assert(last_line_with(log_path, "event=daemon_start ", line, sizeof(line)));
	ck_assert_msg(strstr(line, " uid=- ") != NULL, "daemon_start line: %s", line);
	ck_assert_msg(number_after(line, " seq=") > 0 && number_after(line, " seq=") < seq,
		      "daemon_start line: %s", line);
	ck_assert_int_eq(stop(), 0);
	/* The stop is an event too, after the others. */
	ck_assert(last_line_with(log_path, "event=daemon_stop ", line, sizeof(line)));
	ck_assert_int_eq(number_after(line, " seq="), seq + 1);
}
END_TEST

/* ---- refusals and failed admin actions are audit events ---- */

START_TEST(test_refused_request_is_audited)
{
	char line[8192], rundir[4300], want[64];
	struct passwd *pw;
	int status;
	pid_t child;
	long long seq;

	if (!harness_is_root())
		HARNESS_SKIP("needs root (a request from another uid)");
	pw = getpwnam("nobody");
	ck_assert(pw != NULL);
	start(0, NULL, 0);
	snprintf(rundir, sizeof(rundir), "%s/run", dir);
	child = fork();
	ck_assert(child >= 0);
	if (child == 0) {
		char text[256];
		if (chdir(rundir) != 0 || setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 ||
		    setuid(pw->pw_uid) != 0)
			_exit(2);
		/* Root only: expire someone else's password. */
		_exit(request_simple("pd.sock", TIMEOUT_MS, PROTO_EXPIRE, "alice", text,
				     sizeof(text)) == PP_ERR_DENIED ? 0 : 3);
	}
	ck_assert(waitpid(child, &status, 0) == child);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "the refused request was not answered \"denied\" (%d)", status);
	seq = check_line_matches_audit("request_refused", (long long)pw->pw_uid);
	ck_assert(last_line_with(log_path, "event=request_refused ", line, sizeof(line)));
	ck_assert_msg(strstr(line, "msg=\"refused expire request from uid 65534") != NULL,
		      "refusal line: %s", line);
	snprintf(want, sizeof(want), "{\"seq\":%lld,", seq);
	ck_assert(last_line_with(audit_path, want, line, sizeof(line)));
	ck_assert_msg(strstr(line, "\"request=expire\"") != NULL, "audit line: %s", line);
	ck_assert_int_eq(stop(), 0);
}
END_TEST

START_TEST(test_failed_backup_is_audited)
{
	char text[256] = "", target[4300], line[8192];
	pp_err rc;

	start(0, NULL, 0);
	/* A directory that does not exist: the backup cannot be written. */
	snprintf(target, sizeof(target), "%s/no-such-dir/store.db", dir);
	rc = request_simple(sock, TIMEOUT_MS, PROTO_BACKUP, target, text, sizeof(text));
	ck_assert_msg(rc != PP_OK, "a backup into a missing directory succeeded");
	check_line_matches_audit("admin_backup_failed", -1);
	ck_assert(last_line_with(log_path, "event=admin_backup_failed ", line, sizeof(line)));
	ck_assert_msg(strstr(line, "reasons=\"error=") != NULL && strstr(line, target) != NULL,
		      "failed backup line: %s", line);
	/* And a backup that works is audited as such. */
	snprintf(target, sizeof(target), "%s/store-backup.db", dir);
	ck_assert_int_eq(request_simple(sock, TIMEOUT_MS, PROTO_BACKUP, target, text,
					sizeof(text)), PP_OK);
	check_line_matches_audit("admin_backup", -1);
	ck_assert_int_eq(stop(), 0);
}
END_TEST

/* ---- sd_notify: READY, STATUS, WATCHDOG, STOPPING ---- */

START_TEST(test_notify_ready_status_stopping)
{
	char buf[512];
	int fd;

	start(0, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "STATUS=serving ") != NULL, "READY datagram: %s", buf);
	fd = harness_connect(sock);
	ck_assert(fd >= 0);
	ck_assert_msg(notify_wait_for("STATUS=serving", 5000, buf, sizeof(buf)) &&
		      strstr(buf, ", 1 connection") != NULL,
		      "no STATUS= with the open connection (last: %s)", buf);
	close(fd);
	kill(daemon_pid, SIGTERM);
	ck_assert_msg(notify_wait_for("STOPPING=1", 10000, buf, sizeof(buf)),
		      "no STOPPING=1 after SIGTERM");
	ck_assert_int_eq(stop(), 0);
}
END_TEST

START_TEST(test_watchdog_pings)
{
	char buf[512];
	int64_t t0;

	/* WatchdogSec=2s: a WATCHDOG=1 at least every second. */
	start(2000000, NULL, 0);
	t0 = mono_ms();
	ck_assert_msg(notify_wait_for("WATCHDOG=1", 3000, buf, sizeof(buf)),
		      "no WATCHDOG=1 within 3 s");
	ck_assert_msg(notify_wait_for("WATCHDOG=1", 3000, buf, sizeof(buf)),
		      "only one WATCHDOG=1");
	ck_assert(mono_ms() - t0 < 6000);
	ck_assert_int_eq(stop(), 0);
}
END_TEST

START_TEST(test_no_watchdog_unless_asked)
{
	char buf[512];

	start(0, NULL, 0);
	/* Not asked for: nothing but STATUS= arrives (1.5 s: the loop ticks each second). */
	ck_assert(!notify_wait_for("WATCHDOG=1", 1500, buf, sizeof(buf)));
	ck_assert_int_eq(stop(), 0);
}
END_TEST

/* ---- the journal ---- */

/* Field name of a journal native-protocol datagram, into out; false if absent. */
static bool journal_field(const char *d, size_t len, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name), i = 0;

	while (i < len) {
		const char *line = d + i, *eol = memchr(line, '\n', len - i);
		const char *eq;
		size_t vlen;
		if (eol == NULL)
			return false;
		eq = memchr(line, '=', (size_t)(eol - line));
		if (eq != NULL) {                         /* NAME=value\n */
			vlen = (size_t)(eol - eq - 1);
			if ((size_t)(eq - line) == nl && memcmp(line, name, nl) == 0) {
				snprintf(out, cap, "%.*s", (int)vlen, eq + 1);
				return true;
			}
			i = (size_t)(eol - d) + 1;
			continue;
		}
		/* NAME\n, 64-bit little-endian length, value, \n */
		{
			const unsigned char *l = (const unsigned char *)eol + 1;
			uint64_t n = 0;
			if ((size_t)(eol - d) + 9 > len)
				return false;
			for (int b = 7; b >= 0; b--)
				n = (n << 8) | l[b];
			if ((size_t)(eol - line) == nl && memcmp(line, name, nl) == 0) {
				snprintf(out, cap, "%.*s", (int)n, (const char *)l + 8);
				return true;
			}
			i = (size_t)(eol - d) + 1 + 8 + n + 1;
		}
	}
	return false;
}

/* The next journal datagram whose PAM_POLICY_EVENT is event, into d. */
static ssize_t journal_wait_for(int fd, const char *event, char *d, size_t cap)
{
	int64_t end = mono_ms() + 10000;
	char got[128];

	while (mono_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, d, cap, 0);
		if (n > 0 && journal_field(d, (size_t)n, "PAM_POLICY_EVENT", got, sizeof(got)) &&
		    strcmp(got, event) == 0)
			return n;
	}
	return -1;
}

START_TEST(test_journal_fields)
{
	static char d[65536];
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char v[8192], text[256], uid[24];
	const char *ck_fork = getenv("CK_FORK");
	long long seq;
	ssize_t n;
	int fd, size = 1 << 20;

	if (!harness_is_root())
		HARNESS_SKIP("needs root (a fake journald socket in a private mount namespace)");
	if (ck_fork != NULL && strcmp(ck_fork, "no") == 0)
		HARNESS_SKIP("needs Check's fork mode (it unshares its mount namespace)");
	/* This test's process (forked by Check) and the daemon see a journal of our own. */
	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		HARNESS_SKIP("cannot make a private mount namespace here");
	if (mount("tmpfs", access("/run/systemd", F_OK) == 0 ? "/run/systemd" : "/run",
		  "tmpfs", 0, "mode=0755") != 0)
		HARNESS_SKIP("cannot mount a tmpfs over /run");
	ck_assert(mkdir("/run/systemd", 0755) == 0 || errno == EEXIST);
	ck_assert(mkdir(JOURNAL_DIR, 0755) == 0 || errno == EEXIST);
	memcpy(addr.sun_path, JOURNAL_DIR "/socket", sizeof(JOURNAL_DIR "/socket"));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert(fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));

	start(0, NULL, 0);
	n = journal_wait_for(fd, "daemon_start", d, sizeof(d));
	ck_assert_msg(n > 0, "no daemon_start entry on the journal socket");
	ck_assert(journal_field(d, (size_t)n, "MESSAGE_ID", v, sizeof(v)));
	ck_assert_str_eq(v, daemon_event_message_id("daemon_start"));

	ck_assert_int_eq(request_simple(sock, TIMEOUT_MS, PROTO_EXPIRE, "alice", text,
					sizeof(text)), PP_OK);
	n = journal_wait_for(fd, "admin_expire", d, sizeof(d));
	ck_assert_msg(n > 0, "no admin_expire entry on the journal socket");
	ck_assert(journal_field(d, (size_t)n, "MESSAGE_ID", v, sizeof(v)));
	ck_assert_str_eq(v, daemon_event_message_id("admin_expire"));
	ck_assert(journal_field(d, (size_t)n, "USER", v, sizeof(v)));
	ck_assert_str_eq(v, "alice");
	ck_assert(journal_field(d, (size_t)n, "USER_ID", v, sizeof(v)));
	snprintf(uid, sizeof(uid), "%u", (unsigned)uid_of("alice"));
	ck_assert_str_eq(v, uid);
	ck_assert(journal_field(d, (size_t)n, "SYSLOG_IDENTIFIER", v, sizeof(v)));
	ck_assert_str_eq(v, "pam_policyd");
	ck_assert(journal_field(d, (size_t)n, "SYSLOG_FACILITY", v, sizeof(v)));
	ck_assert_str_eq(v, "10");
	ck_assert(journal_field(d, (size_t)n, "PAM_POLICY_ACTOR", v, sizeof(v)));
	/* The MESSAGE is the same key=value line, and its seq is the audit line's. */
	ck_assert(journal_field(d, (size_t)n, "MESSAGE", v, sizeof(v)));
	ck_assert_msg(strncmp(v, "event=admin_expire user=\"alice\" uid=", 36) == 0,
		      "MESSAGE: %s", v);
	/* The foreground copy on stderr is the same line. */
	seq = check_line_matches_audit("admin_expire", (long long)uid_of("alice"));
	ck_assert_int_eq(number_after(v, " seq="), seq);
	ck_assert(journal_field(d, (size_t)n, "PAM_POLICY_SEQ", v, sizeof(v)));
	ck_assert_int_eq(strtoll(v, NULL, 10), seq);
	ck_assert_int_eq(stop(), 0);
	close(fd);
}
END_TEST

/* Without a journal socket (this host, or no journald): syslog, copied to stderr. */
START_TEST(test_syslog_fallback)
{
	char text[256];

	if (access(JOURNAL_DIR "/socket", F_OK) == 0)
		HARNESS_SKIP("journald runs here: the syslog fallback is not in use");
	start(0, NULL, 0);
	ck_assert_int_eq(request_simple(sock, TIMEOUT_MS, PROTO_EXPIRE, "alice", text,
					sizeof(text)), PP_OK);
	check_line_matches_audit("admin_expire", (long long)uid_of("alice"));
	ck_assert_int_eq(stop(), 0);
}
END_TEST

/* ---- the id table and the catalog ---- */

static const char *const all_events[] = {
	"password_changed", "forced_change_completed", "change_rejected", "root_override",
	"change_not_recorded", "history_unavailable", "expiry_warning", "password_expired",
	"expired_nonpassword_login", "expired_noninteractive", "login_refused_inactive",
	"breach_detected",
	"admin_expire", "admin_forget", "admin_backup", "admin_expire_failed",
	"admin_forget_failed", "admin_backup_failed", "access_review", "request_refused",
	"pepper_refused", "pepper_adopted", "pepper_replaced", "daemon_start", "daemon_stop",
};

START_TEST(test_message_ids_and_catalog)
{
	char path[4300], want[64];
	char *catalog;
	size_t n = sizeof(all_events) / sizeof(all_events[0]);

	snprintf(path, sizeof(path), "%s/conf/pam_policy.catalog", harness_top());
	catalog = harness_read(path);
	ck_assert_msg(catalog != NULL, "cannot read %s", path);
	for (size_t i = 0; i < n; i++) {
		const char *id = daemon_event_message_id(all_events[i]);
		ck_assert_msg(id != NULL, "event %s has no MESSAGE_ID", all_events[i]);
		ck_assert_int_eq(strlen(id), 32);
		for (size_t j = 0; j < i; j++)
			ck_assert_msg(strcmp(id, daemon_event_message_id(all_events[j])) != 0,
				      "%s and %s share a MESSAGE_ID", all_events[i],
				      all_events[j]);
		snprintf(want, sizeof(want), "\n-- %s\n", id);
		ck_assert_msg(strstr(catalog, want) != NULL,
			      "the catalog has no entry for %s (%s)", all_events[i], id);
	}
	free(catalog);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("logging");
	TCase *tc = tcase_create("logging");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_event_line_has_uid_and_seq);
	tcase_add_test(tc, test_refused_request_is_audited);
	tcase_add_test(tc, test_failed_backup_is_audited);
	tcase_add_test(tc, test_notify_ready_status_stopping);
	tcase_add_test(tc, test_watchdog_pings);
	tcase_add_test(tc, test_no_watchdog_unless_asked);
	tcase_add_test(tc, test_journal_fields);
	tcase_add_test(tc, test_syslog_fallback);
	tcase_add_test(tc, test_message_ids_and_catalog);
	suite_add_tcase(s, tc);
	return s;
}
