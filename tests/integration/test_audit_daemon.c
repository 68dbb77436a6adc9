/*
 * test_audit_daemon.c - the audit log as the daemon keeps it, seen the way
 * an auditor sees it: pam_policyd's start messages, the log's lines, and
 * "pam_policyctl audit verify" (its output and exit code).
 *
 *   - the audit key is bound to the log it signs: a missing or different
 *     key over an existing log (or over audit.head alone, after logrotate)
 *     stops the daemon at start with a message naming audit.key;
 *   - a line torn by a crash is sealed at start with an
 *     audit_tail_repaired line, and verify reports it as torn and goes on;
 *   - with the log's file system full, events are acknowledged, held, and
 *     written after an audit_gap line once space returns (root only: a
 *     small tmpfs in a private mount namespace).
 *
 * The daemon's stderr (it runs with -f, so its syslog lines go there too)
 * is captured in a file per start. Nothing sleeps: the daemon signals
 * readiness, or exits.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sodium.h>

#include "auditlog.h"
#include "harness.h"
#include "request.h"

#define TIMEOUT_MS 5000

static char dir[4096];
static char key_path[4300], head_path[4300], saved_key[4300], daemon_err[4300];
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
	unsetenv("JOURNAL_STREAM");     /* the daemon then logs to stderr too */
	memset(&daemon_state, 0, sizeof(daemon_state));
	harness_tmpdir(dir, sizeof(dir));
	snprintf(key_path, sizeof(key_path), "%s/state/audit.key", dir);
	snprintf(head_path, sizeof(head_path), "%s/state/audit.head", dir);
	snprintf(saved_key, sizeof(saved_key), "%s/audit.key.backup", dir);
	snprintf(daemon_err, sizeof(daemon_err), "%s/daemon.err", dir);
}

static void teardown(void)
{
	kill_leftover_daemon();
	harness_rmtree(dir);
}

/* Start pam_policyd with its stderr going to daemon_err; true if it serves. */
static bool start_captured(void)
{
	int saved = dup(STDERR_FILENO);
	int fd = open(daemon_err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok;

	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	ok = harness_daemon_start(&daemon_state, dir, NULL, false);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	return ok;
}

static void start(void)
{
	ck_assert_msg(start_captured(), "pam_policyd did not start:\n%s",
		      harness_read(daemon_err));
}

static void stop(void)
{
	int status = harness_daemon_stop(&daemon_state);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "pam_policyd stopped with status %d", status);
}

/* The daemon must refuse to start; its messages are returned (malloc'd). */
static char *start_refused(void)
{
	char *err;

	if (start_captured()) {
		stop();
		ck_abort_msg("pam_policyd started but should have refused");
	}
	err = harness_read(daemon_err);
	ck_assert_ptr_nonnull(err);
	return err;
}

/* Check caps its messages: show at most the last 2000 bytes of hay. */
static void assert_contains(const char *hay, const char *needle)
{
	size_t len = hay ? strlen(hay) : 0;

	ck_assert_msg(hay != NULL && strstr(hay, needle) != NULL,
		      "expected \"%s\" in:\n%s", needle,
		      hay == NULL ? "(null)" : len > 2000 ? hay + len - 2000 : hay);
}

/* An event the module may send; acknowledged with PP_OK. */
static void event(const char *user)
{
	pp_err rc = request_event(daemon_state.socket, TIMEOUT_MS, "change_rejected",
				  user, "passwd", "", "pts/0", "too_short");

	ck_assert_msg(rc == PP_OK, "event for %s: %s", user, pp_strerror(rc));
}

struct run {
	int status;
	char *out;
};

/* pam_policyctl -c CONFIG audit verify [files...]; stdout and stderr together. */
static void verify(struct run *r, const char *const *files)
{
	char out_path[4300];
	const char *argv[16];
	int n = 0, status;
	pid_t pid;

	snprintf(out_path, sizeof(out_path), "%s/verify.out", dir);
	argv[n++] = "pam_policyctl";
	argv[n++] = "-c";
	argv[n++] = daemon_state.config;
	argv[n++] = "audit";
	argv[n++] = "verify";
	for (int i = 0; files != NULL && files[i] != NULL && n < 15; i++)
		argv[n++] = files[i];
	argv[n] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execv(harness_build("pam_policyctl"), (char *const *)argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->out = harness_read(out_path);
	ck_assert_ptr_nonnull(r->out);
}

static unsigned count_lines(const char *path)
{
	char *text = harness_read(path);
	unsigned n = 0;

	ck_assert_ptr_nonnull(text);
	for (const char *p = text; *p != '\0'; p++)
		n += *p == '\n';
	free(text);
	return n;
}

static unsigned count_of(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
	char *text = harness_read(from);
	struct stat st;
	int fd;

	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(stat(from, &st), 0);
	unlink(to);
	fd = open(to, O_WRONLY | O_CREAT | O_EXCL, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, (size_t)st.st_size), st.st_size);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
	free(text);
}

/* A log with a few events, the daemon stopped, the key backed up. */
static void seed(void)
{
	start();
	event("alice");
	event("bob");
	stop();
	copy_file(key_path, saved_key, 0400);
}

/* ---- the audit key is bound to its log ---- */

START_TEST(test_missing_key_refuses_start)
{
	char *before, *after, *err;
	struct run r;

	seed();
	before = harness_read(daemon_state.audit);
	ck_assert_int_eq(unlink(key_path), 0);
	err = start_refused();
	assert_contains(err, "audit.key");
	assert_contains(err, "is missing");
	assert_contains(err, "restore audit.key from backup");
	/* No new key was made, and the log was not touched. */
	ck_assert_int_eq(access(key_path, F_OK), -1);
	after = harness_read(daemon_state.audit);
	ck_assert_str_eq(after, before);
	free(err);

	/* Restored from the backup: it starts, and the log verifies. */
	copy_file(saved_key, key_path, 0400);
	start();
	stop();
	verify(&r, NULL);
	ck_assert_msg(r.status == 0, "verify: %d\n%s", r.status, r.out);
	assert_contains(r.out, "clean: ");
	free(r.out);
	free(before);
	free(after);
}
END_TEST

START_TEST(test_other_key_refuses_start)
{
	uint8_t other[AUDIT_KEY_BYTES];
	char *err;
	int fd;

	seed();
	randombytes_buf(other, sizeof(other));
	ck_assert_int_eq(unlink(key_path), 0);
	fd = open(key_path, O_WRONLY | O_CREAT | O_EXCL, 0400);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, other, sizeof(other)), (ssize_t)sizeof(other));
	close(fd);
	err = start_refused();
	assert_contains(err, "audit.key");
	assert_contains(err, "does not match the audit log");
	assert_contains(err, "restore the original audit.key from backup");
	free(err);
}
END_TEST

/*
 * After logrotate the live log is gone, but audit.head still binds the key:
 * the rotated files need it and the new file continues their chain.
 */
START_TEST(test_rotated_log_still_needs_its_key)
{
	char rotated[4300];
	const char *both[3];
	struct run r;
	char *err;

	seed();
	snprintf(rotated, sizeof(rotated), "%s.1", daemon_state.audit);
	ck_assert_int_eq(rename(daemon_state.audit, rotated), 0);
	ck_assert_int_eq(unlink(key_path), 0);
	err = start_refused();
	assert_contains(err, "audit.key");
	assert_contains(err, "restore audit.key from backup");
	free(err);

	copy_file(saved_key, key_path, 0400);
	start();
	event("carol");
	stop();
	both[0] = rotated;
	both[1] = daemon_state.audit;
	both[2] = NULL;
	verify(&r, both);
	ck_assert_msg(r.status == 0, "verify: %d\n%s", r.status, r.out);
	assert_contains(r.out, "clean: ");
	free(r.out);

	/* Starting a new chain on purpose: log and head archived with the key. */
	ck_assert_int_eq(unlink(daemon_state.audit), 0);
	ck_assert_int_eq(unlink(head_path), 0);
	ck_assert_int_eq(unlink(key_path), 0);
	start();
	stop();
	err = harness_read(daemon_err);
	assert_contains(err, "created audit key");
	free(err);
	ck_assert_int_eq(access(key_path, F_OK), 0);
}
END_TEST

/* ---- a line torn by a crash ---- */

START_TEST(test_torn_tail_sealed_at_start)
{
	char fragment[64], where[4400], *err, *log;
	unsigned lines;
	struct run r;
	FILE *f;

	seed();
	lines = count_lines(daemon_state.audit);
	/* Power lost while line N+1 was being written. */
	snprintf(fragment, sizeof(fragment), "{\"seq\":%u,\"ts\":\"2026-0", lines + 1);
	f = fopen(daemon_state.audit, "a");
	ck_assert_ptr_nonnull(f);
	fputs(fragment, f);
	ck_assert_int_eq(fclose(f), 0);

	/* Before the restart, verify already knows it for a crash. */
	verify(&r, NULL);
	ck_assert_msg(r.status == 0, "verify before restart: %d\n%s", r.status, r.out);
	snprintf(where, sizeof(where), "%s:%u: torn: ", daemon_state.audit, lines + 1);
	assert_contains(r.out, where);
	free(r.out);

	start();
	event("dave");
	stop();
	err = harness_read(daemon_err);
	assert_contains(err, "torn by a crash");
	assert_contains(err, "sealed it");
	free(err);
	log = harness_read(daemon_state.audit);
	ck_assert_ptr_nonnull(log);
	assert_contains(log, fragment);          /* the bytes are kept */
	{
		char marker[128];
		snprintf(marker, sizeof(marker), "\"reasons\":[\"torn_bytes=%zu\"]",
			 strlen(fragment));
		assert_contains(log, "\"event\":\"audit_tail_repaired\"");
		assert_contains(log, marker);
	}
	free(log);

	verify(&r, NULL);
	ck_assert_msg(r.status == 0, "verify: %d\n%s", r.status, r.out);
	assert_contains(r.out, where);
	assert_contains(r.out, "sealed by the daemon at restart");
	assert_contains(r.out, "clean: ");
	free(r.out);

	/* The lines after the torn one are still checked. */
	log = harness_read(daemon_state.audit);
	{
		char *p = strstr(log, "\"user\":\"dave\"");
		char copy[4300];
		const char *one[2] = { copy, NULL };
		ck_assert_ptr_nonnull(p);
		p[strlen("\"user\":\"")] = 'D';
		snprintf(copy, sizeof(copy), "%s/copy.log", dir);
		harness_write(copy, log);
		verify(&r, one);
		ck_assert_int_eq(r.status, 1);
		assert_contains(r.out, ": edited: ");
		free(r.out);
	}
	free(log);
}
END_TEST

/* ---- the log's file system full ---- */

START_TEST(test_gap_marker_after_disk_full)
{
	char logdir[4300], filler[4400], *err, *log;
	const int n_full = 40;
	struct run r;
	int fd;

	if (!harness_is_root())
		HARNESS_SKIP("needs root (a small tmpfs in a private mount namespace)");
	/* This test process alone sees a 64 KiB file system for the log. */
	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	snprintf(logdir, sizeof(logdir), "%s/log", dir);
	ck_assert_int_eq(mkdir(logdir, 0750), 0);
	ck_assert_int_eq(mount("tmpfs", logdir, "tmpfs", 0, "size=64k,mode=0750"), 0);
	start();
	event("alice");

	/* Fill it. The log's own last page may take a few more lines. */
	snprintf(filler, sizeof(filler), "%s/filler", logdir);
	fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	{
		char block[4096];
		memset(block, 'x', sizeof(block));
		while (write(fd, block, sizeof(block)) > 0)
			;
		ck_assert_int_eq(errno, ENOSPC);
	}
	close(fd);
	/* Every change is acknowledged: the log full refuses nobody. */
	for (int i = 0; i < n_full; i++)
		event("bob");
	ck_assert_int_eq(unlink(filler), 0);
	event("carol");                /* space is back: the backlog goes first */
	stop();

	err = harness_read(daemon_err);
	assert_contains(err, "not written");
	assert_contains(err, "held for the log");
	assert_contains(err, "can be written again");
	free(err);
	log = harness_read(daemon_state.audit);
	ck_assert_ptr_nonnull(log);
	assert_contains(log, "\"event\":\"audit_gap\"");
	assert_contains(log, "\"events_lost=0\"");
	/* No event is missing: every one of them is in the log. */
	ck_assert_uint_eq(count_of(log, "\"user\":\"bob\""), (unsigned)n_full);
	ck_assert_ptr_nonnull(strstr(strstr(log, "\"event\":\"audit_gap\""),
				     "\"user\":\"carol\""));
	free(log);

	verify(&r, NULL);
	ck_assert_msg(r.status == 0, "verify: %d\n%s", r.status, r.out);
	assert_contains(r.out, ": gap: the log could not be written from ");
	assert_contains(r.out, "none missing");
	assert_contains(r.out, "clean: ");
	free(r.out);
	ck_assert_int_eq(umount2(logdir, MNT_DETACH), 0);
}
END_TEST

static Suite *audit_daemon_suite(void)
{
	Suite *s = suite_create("audit_daemon");
	TCase *tc;

	tc = tcase_create("key");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_missing_key_refuses_start);
	tcase_add_test(tc, test_other_key_refuses_start);
	tcase_add_test(tc, test_rotated_log_still_needs_its_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("torn");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_torn_tail_sealed_at_start);
	suite_add_tcase(s, tc);

	tc = tcase_create("disk_full");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_gap_marker_after_disk_full);
	suite_add_tcase(s, tc);
	return s;
}

void test_before_all(void)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "sodium_init failed\n");
		exit(1);
	}
}

Suite *test_suite(void)
{
	return audit_daemon_suite();
}
