/*
 * test_secrets.c - the pepper is bound to the store.
 *
 * Every history entry is keyed with the pepper (state_dir/pepper), so a
 * lost or swapped pepper would make every remembered password silently
 * unmatchable and let reused passwords through. The store records the
 * pepper's check value; these tests start a real pam_policyd on a private
 * state directory and show that
 *
 *   - an empty store gets a new pepper, bound at once;
 *   - over existing data a missing pepper, or 32 other bytes in its place,
 *     is a fatal start error that names the pepper file and the way back,
 *     and no new pepper is made;
 *   - with the right pepper restored the daemon starts and a reused
 *     password is still refused (request_check and the real PAM stack);
 *   - a store from before the binding adopts the pepper it finds;
 *   - "pam_policyd --new-pepper" starts over on purpose: the history is
 *     forgotten with it (nothing silently matches nothing), aging state is
 *     kept, an audit event is written, and it refuses to run beside a
 *     running daemon;
 *   - "pam_policyctl doctor" reports a pepper file lost or replaced while
 *     the daemon runs, and says what it can when the daemon is stopped.
 *
 * The daemon's start-up messages are read from its standard error
 * (pam_policyd -f copies syslog there), captured into a file in the
 * test directory.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <sodium.h>
#include <sqlite3.h>

#include "auditlog.h"
#include "client.h"
#include "harness.h"
#include "hash.h"
#include "proto.h"
#include "request.h"
#include "store.h"

#define TIMEOUT_MS 10000
#define CONFIG "history = 24\nmin_age_days = 0\n"

/* Passwords that satisfy every local rule (length, classes, pwquality). */
#define PW1 "Kq7!Vw3#mz"
#define PW2 "Tz9@Lp4$wx"
#define PW3 "Hb2%Rn8&qs"

static char dir[4096];
static char state[4200], pepper_path[4300], store_path[4300], log_path[4200];
static char written[4200];
static struct harness_daemon d;

/* ---- fixture ---- */

/* A failed ck_assert exits the test process: never leave a daemon behind. */
static void kill_leftover_daemon(void)
{
	if (d.pid > 0)
		harness_daemon_kill(&d);
}

static void setup(void)
{
	static bool registered;

	if (!registered) {
		atexit(kill_leftover_daemon);
		registered = true;
	}
	/* pam_policyd -f copies its log to stderr only outside the journal. */
	unsetenv("JOURNAL_STREAM");
	ck_assert_int_eq(hash_init(), PP_OK);
	memset(&d, 0, sizeof(d));
	harness_tmpdir(dir, sizeof(dir));
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(pepper_path, sizeof(pepper_path), "%s/pepper", state);
	snprintf(store_path, sizeof(store_path), "%s/store.db", state);
	snprintf(log_path, sizeof(log_path), "%s/daemon.log", dir);
	snprintf(written, sizeof(written), "%s/written", dir);
}

static void teardown(void)
{
	kill_leftover_daemon();
	harness_rmtree(dir);
}

/* ---- helpers ---- */

/*
 * Start pam_policyd on dir with its stderr in log_path (emptied first).
 * True when it serves; false when it exited during start-up.
 */
static bool start(void)
{
	int saved, fd;
	bool ok;

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
	close(fd);
	ok = harness_daemon_start(&d, dir, CONFIG, false);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	return ok;
}

static void start_ok(void)
{
	if (!start()) {
		char *log = harness_read(log_path);
		ck_abort_msg("pam_policyd did not start:\n%s", log ? log : "");
	}
}

static void stop(void)
{
	int status = harness_daemon_stop(&d);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "pam_policyd stopped with status %d", status);
}

/* What the daemon wrote to stderr during the last start (malloc'd). */
static char *daemon_log(void)
{
	char *s = harness_read(log_path);

	ck_assert_ptr_nonnull(s);
	return s;
}

static void assert_contains(const char *hay, const char *needle)
{
	ck_assert_msg(strstr(hay, needle) != NULL, "expected \"%s\" in:\n%s", needle, hay);
}

static void assert_lacks(const char *hay, const char *needle)
{
	ck_assert_msg(strstr(hay, needle) == NULL, "did not expect \"%s\" in:\n%s",
		      needle, hay);
}

/* The daemon refuses to start; its message names the pepper file. */
static char *assert_refused(void)
{
	char *log;

	ck_assert_msg(!start(), "pam_policyd started with a pepper it must refuse");
	ck_assert_int_eq(d.pid, 0);
	log = daemon_log();
	assert_contains(log, pepper_path);
	assert_contains(log, "BACKUP in pam_policyd(8)");
	assert_contains(log, "pam_policyd --new-pepper");
	return log;
}

static void read_pepper(uint8_t p[HASH_PEPPER_BYTES])
{
	char err[512] = "";

	ck_assert_msg(hash_pepper_load(pepper_path, p, err, sizeof(err)) == PP_OK,
		      "pepper: %s", err);
}

/* Put these 32 bytes in the pepper file, mode 0400, as an admin would. */
static void write_pepper(const uint8_t p[HASH_PEPPER_BYTES])
{
	int fd;

	unlink(pepper_path);
	fd = open(pepper_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, p, HASH_PEPPER_BYTES), HASH_PEPPER_BYTES);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(chmod(pepper_path, 0400), 0);
}

static bool pepper_exists(void)
{
	struct stat st;

	return lstat(pepper_path, &st) == 0;
}

static void record(const char *user, const char *password)
{
	pp_err rc = request_record(d.socket, TIMEOUT_MS, user, password, 24, "passwd");

	ck_assert_msg(rc == PP_OK, "record %s: %s", user, pp_strerror(rc));
}

static bool reused(const char *user, const char *password)
{
	struct request_check_result r;
	pp_err rc = request_check(d.socket, TIMEOUT_MS, user, password, 0, 24, 0, &r);

	ck_assert_msg(rc == PP_OK, "check %s: %s", user, pp_strerror(rc));
	return r.reused;
}

static struct request_status_result status_of(const char *user)
{
	struct request_status_result st;
	pp_err rc = request_status(d.socket, TIMEOUT_MS, user, 0, 0, &st);

	ck_assert_msg(rc == PP_OK, "status %s: %s", user, pp_strerror(rc));
	return st;
}

/* A password change through the real libpam stack (check, writer, record). */
static int change(const char *user, const char *password, struct harness_conv *c)
{
	const char *answers[] = { password, password, NULL };
	struct harness_stack spec = {
		.config = d.config, .check_args = "retry=1",
		.writer_file = written, .record = true,
	};

	harness_stack_write(dir, "passwd", &spec);
	harness_conv_init(c, answers);
	return harness_pam_chauthtok(dir, "passwd", user, 0, c);
}

/* A store with data: alice and bob have remembered passwords. */
static void store_with_history(void)
{
	start_ok();
	record("alice", PW1);
	record("alice", PW2);
	record("bob", PW1);
	ck_assert(reused("alice", PW1));
	stop();
}

/* Make the store look like one from before the binding (schema 1). */
static void make_legacy_store(void)
{
	sqlite3 *db = NULL;
	char *emsg = NULL;

	ck_assert_int_eq(sqlite3_open(store_path, &db), SQLITE_OK);
	/*
	 * Schema 1 had neither the meta table nor users.last_login (2 -> 3)
	 * nor history.skeleton (3 -> 4) nor its cost columns (4 -> 5).
	 */
	ck_assert_msg(sqlite3_exec(db, "DROP TABLE meta; ALTER TABLE users DROP COLUMN "
				   "last_login; ALTER TABLE history DROP COLUMN skeleton_opslimit;"
				   " ALTER TABLE history DROP COLUMN skeleton_memlimit;"
				   " ALTER TABLE history DROP COLUMN skeleton;"
				   " PRAGMA user_version = 1;",
				   NULL, NULL, &emsg) == SQLITE_OK, "sqlite: %s", emsg);
	sqlite3_close(db);
}

/* Run a program from the build directory; its output lands in out/err. */
struct run {
	int status;
	char *out, *err;
};

static void run_prog(struct run *r, const char *prog, const char *const *args)
{
	char out_path[4300], err_path[4300];
	const char *argv[16];
	int n = 0, status;
	pid_t pid;

	snprintf(out_path, sizeof(out_path), "%s/run.out", dir);
	snprintf(err_path, sizeof(err_path), "%s/run.err", dir);
	argv[n++] = prog;
	argv[n++] = "-c";
	argv[n++] = d.config;
	for (int i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
			_exit(126);
		execv(harness_build(prog), (char *const *)argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->out = harness_read(out_path);
	r->err = harness_read(err_path);
	ck_assert_ptr_nonnull(r->out);
	ck_assert_ptr_nonnull(r->err);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

#define DAEMON(r, ...) run_prog((r), "pam_policyd", (const char *const[]){ __VA_ARGS__, NULL })
#define CTL(r, ...) run_prog((r), "pam_policyctl", (const char *const[]){ __VA_ARGS__, NULL })

/* pam_policyctl doctor, with an empty PAM directory (those checks are elsewhere). */
static void doctor(struct run *r)
{
	char pam[4300];

	snprintf(pam, sizeof(pam), "%s/pam.d", dir);
	if (mkdir(pam, 0755) != 0)
		ck_assert_int_eq(errno, EEXIST);
	CTL(r, "doctor", "--pam-dir", pam);
}

/* The audit log verifies with the daemon's key (we run as its uid). */
static void assert_audit_chain_clean(void)
{
	char key_path[4300], head_path[4300], err[512] = "";
	const char *files[1] = { d.audit };
	uint8_t key[AUDIT_KEY_BYTES];
	struct audit_verdict v;

	snprintf(key_path, sizeof(key_path), "%s/audit.key", state);
	snprintf(head_path, sizeof(head_path), "%s/audit.head", state);
	ck_assert_msg(hash_pepper_load(key_path, key, err, sizeof(err)) == PP_OK,
		      "audit key: %s", err);
	ck_assert_int_eq(auditlog_verify(files, 1, head_path, key, &v), PP_OK);
	sodium_memzero(key, sizeof(key));
	ck_assert_msg(v.problem == AUDIT_CLEAN, "audit log %s at line %lu: %s",
		      auditlog_problem_name(v.problem), v.line, v.detail);
}

/* The check value the store is bound to (the daemon stopped). */
static bool store_check_value(uint8_t out[HASH_BYTES])
{
	struct store *s = NULL;
	char err[512] = "";
	size_t len = 0;
	pp_err rc;

	ck_assert_msg(store_open_sqlite(state, &s, err, sizeof(err)) == PP_OK,
		      "store: %s", err);
	rc = store_meta_get(s, STORE_META_PEPPER_CHECK, out, HASH_BYTES, &len);
	store_close(s);
	ck_assert(rc == PP_OK || rc == PP_ERR_NOT_FOUND);
	return rc == PP_OK && len == HASH_BYTES;
}

/* ---- the check value (hash.c) ---- */

START_TEST(test_check_value_is_keyed_hash_of_context)
{
	uint8_t p[HASH_PEPPER_BYTES], q[HASH_PEPPER_BYTES];
	uint8_t a[HASH_BYTES], b[HASH_BYTES], want[HASH_BYTES];
	static const char ctx[] = HASH_PEPPER_CHECK_CONTEXT;

	for (size_t i = 0; i < sizeof(p); i++)
		p[i] = (uint8_t)(i * 7 + 1);
	memcpy(q, p, sizeof(q));
	q[31] ^= 1;
	ck_assert_int_eq(hash_pepper_check_value(p, a), PP_OK);
	ck_assert_int_eq(crypto_generichash(want, sizeof(want), (const uint8_t *)ctx,
					    sizeof(ctx) - 1, p, sizeof(p)), 0);
	ck_assert_mem_eq(a, want, HASH_BYTES);
	/* Deterministic, and any other pepper gives another value. */
	ck_assert_int_eq(hash_pepper_check_value(p, b), PP_OK);
	ck_assert(hash_equal(a, b));
	ck_assert_int_eq(hash_pepper_check_value(q, b), PP_OK);
	ck_assert(!hash_equal(a, b));
	/* It is not the pepper itself. */
	ck_assert(memcmp(a, p, HASH_BYTES) != 0);
	ck_assert_int_eq(hash_pepper_check_value(NULL, b), PP_ERR_INVALID);
}
END_TEST

START_TEST(test_pepper_load_never_creates)
{
	uint8_t p[HASH_PEPPER_BYTES], q[HASH_PEPPER_BYTES];
	char path[4300], err[512] = "";

	snprintf(path, sizeof(path), "%s/pepper", dir);
	ck_assert_int_eq(hash_pepper_load(path, p, err, sizeof(err)), PP_ERR_NOT_FOUND);
	assert_contains(err, path);
	ck_assert_int_eq(access(path, F_OK), -1);
	hash_pepper_generate(p);
	ck_assert_int_eq(hash_pepper_save(path, p, false, err, sizeof(err)), PP_OK);
	ck_assert_int_eq(hash_pepper_load(path, q, err, sizeof(err)), PP_OK);
	ck_assert_mem_eq(p, q, HASH_PEPPER_BYTES);
	/* Without replace an existing pepper is never overwritten. */
	q[0] ^= 0xff;
	ck_assert_int_eq(hash_pepper_save(path, q, false, err, sizeof(err)), PP_ERR_IO);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(hash_pepper_load(path, q, err, sizeof(err)), PP_OK);
	ck_assert_mem_eq(p, q, HASH_PEPPER_BYTES);
	/* With replace it is, atomically, mode 0400. */
	hash_pepper_generate(q);
	ck_assert_int_eq(hash_pepper_save(path, q, true, err, sizeof(err)), PP_OK);
	{
		uint8_t r[HASH_PEPPER_BYTES];
		struct stat st;

		ck_assert_int_eq(hash_pepper_load(path, r, err, sizeof(err)), PP_OK);
		ck_assert_mem_eq(q, r, HASH_PEPPER_BYTES);
		ck_assert_int_eq(lstat(path, &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, 0400);
	}
}
END_TEST

/* ---- metadata in the store (store.c, store_sqlite.c) ---- */

static struct store *open_store(void)
{
	struct store *s = NULL;
	char err[512] = "";

	if (mkdir(state, 0700) != 0)
		ck_assert_int_eq(errno, EEXIST);
	ck_assert_msg(store_open_sqlite(state, &s, err, sizeof(err)) == PP_OK,
		      "store: %s", err);
	return s;
}

START_TEST(test_store_meta_get_set_bind)
{
	struct store *s = open_store();
	uint8_t v1[HASH_BYTES], v2[HASH_BYTES], out[STORE_META_VALUE_MAX];
	uint8_t big[STORE_META_VALUE_MAX + 1] = { 1 };
	char name[STORE_META_NAME_MAX + 2];
	enum store_bind b;
	bool holds = true;
	size_t len = 99;

	memset(v1, 0x11, sizeof(v1));
	memset(v2, 0x22, sizeof(v2));
	ck_assert_int_eq(store_holds_data(s, &holds), PP_OK);
	ck_assert(!holds);
	ck_assert_int_eq(store_meta_get(s, "x", out, sizeof(out), &len), PP_ERR_NOT_FOUND);
	ck_assert_uint_eq(len, 0);

	/* An empty store: recorded; then the same value matches, another does not. */
	ck_assert_int_eq(store_meta_bind(s, "check", v1, sizeof(v1), &b), PP_OK);
	ck_assert_int_eq(b, STORE_BIND_RECORDED);
	ck_assert_int_eq(store_holds_data(s, &holds), PP_OK);
	ck_assert(holds);
	ck_assert_int_eq(store_meta_bind(s, "check", v1, sizeof(v1), &b), PP_OK);
	ck_assert_int_eq(b, STORE_BIND_MATCH);
	ck_assert_int_eq(store_meta_bind(s, "check", v2, sizeof(v2), &b), PP_OK);
	ck_assert_int_eq(b, STORE_BIND_MISMATCH);
	ck_assert_int_eq(store_meta_bind(s, "check", v1, 16, &b), PP_OK);
	ck_assert_int_eq(b, STORE_BIND_MISMATCH);
	ck_assert_int_eq(store_meta_get(s, "check", out, sizeof(out), &len), PP_OK);
	ck_assert_uint_eq(len, sizeof(v1));
	ck_assert_mem_eq(out, v1, sizeof(v1));
	ck_assert_int_eq(store_meta_get(s, "check", out, 8, &len), PP_ERR_TOO_LONG);

	/* set replaces. */
	ck_assert_int_eq(store_meta_set(s, "check", v2, sizeof(v2)), PP_OK);
	ck_assert_int_eq(store_meta_get(s, "check", out, sizeof(out), &len), PP_OK);
	ck_assert_mem_eq(out, v2, sizeof(v2));

	/* A store with users but no value under a name: adopted. */
	ck_assert_int_eq(store_user_ensure(s, "alice", 1000, 0, false, NULL), PP_OK);
	ck_assert_int_eq(store_meta_bind(s, "other", v1, sizeof(v1), &b), PP_OK);
	ck_assert_int_eq(b, STORE_BIND_ADOPTED);

	/* Bounds. */
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ck_assert_int_eq(store_meta_set(s, name, v1, sizeof(v1)), PP_ERR_TOO_LONG);
	ck_assert_int_eq(store_meta_set(s, "", v1, sizeof(v1)), PP_ERR_INVALID);
	ck_assert_int_eq(store_meta_set(s, NULL, v1, sizeof(v1)), PP_ERR_INVALID);
	ck_assert_int_eq(store_meta_set(s, "x", v1, 0), PP_ERR_INVALID);
	ck_assert_int_eq(store_meta_set(s, "x", big, sizeof(big)), PP_ERR_TOO_LONG);
	ck_assert_int_eq(store_meta_bind(s, "x", v1, sizeof(v1), NULL), PP_ERR_INVALID);
	store_close(s);
}
END_TEST

START_TEST(test_store_forget_all_keeps_aging)
{
	struct store *s = open_store();
	struct store_entry e;
	struct store_user u;
	struct store_forgotten gone;
	uint8_t v[HASH_BYTES], out[HASH_BYTES];
	size_t n = 0, len = 0;

	memset(&e, 0, sizeof(e));
	memset(e.hash, 0x5a, sizeof(e.hash));
	e.opslimit = 1;
	e.memlimit = 8192 * 1024;
	e.created = 5000;
	memset(v, 0x33, sizeof(v));
	ck_assert_int_eq(store_user_ensure(s, "alice", 1000, 0, false, NULL), PP_OK);
	ck_assert_int_eq(store_user_ensure(s, "bob", 1000, 0, false, NULL), PP_OK);
	ck_assert_int_eq(store_user_ensure(s, "carol", 1000, 0, false, NULL), PP_OK);
	ck_assert_int_eq(store_history_add(s, "alice", &e, 24, 5000), PP_OK);
	ck_assert_int_eq(store_history_add(s, "alice", &e, 24, 6000), PP_OK);
	ck_assert_int_eq(store_history_add(s, "bob", &e, 24, 7000), PP_OK);
	ck_assert_int_eq(store_set_must_change(s, "carol", true, 8000), PP_OK);

	ck_assert_int_eq(store_history_forget_all(s, STORE_META_PEPPER_CHECK, v,
						  sizeof(v), &gone), PP_OK);
	ck_assert_uint_eq(gone.entries, 3);
	ck_assert_uint_eq(gone.users, 2);
	ck_assert_int_eq(store_history_get(s, "alice", &e, 1, &n), PP_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(store_user_get(s, "alice", &u), PP_OK);
	ck_assert_int_eq(u.history_count, 0);
	ck_assert_int_eq(u.last_change, 6000);          /* aging state kept */
	ck_assert_int_eq(u.first_seen, 1000);
	ck_assert_int_eq(store_user_get(s, "carol", &u), PP_OK);
	ck_assert(u.must_change);
	ck_assert_int_eq(store_meta_get(s, STORE_META_PEPPER_CHECK, out, sizeof(out),
					&len), PP_OK);
	ck_assert_mem_eq(out, v, sizeof(v));
	/* Again: nothing left to forget; the value is replaced. */
	v[0] ^= 1;
	ck_assert_int_eq(store_history_forget_all(s, STORE_META_PEPPER_CHECK, v,
						  sizeof(v), NULL), PP_OK);
	ck_assert_int_eq(store_meta_get(s, STORE_META_PEPPER_CHECK, out, sizeof(out),
					&len), PP_OK);
	ck_assert_mem_eq(out, v, sizeof(v));
	store_close(s);
}
END_TEST

/* ---- the daemon's start ---- */

START_TEST(test_empty_store_creates_and_binds_pepper)
{
	uint8_t p[HASH_PEPPER_BYTES], want[HASH_BYTES], got[HASH_BYTES];
	struct stat st;
	char *log;

	ck_assert(!pepper_exists());
	start_ok();
	log = daemon_log();
	assert_contains(log, "new pepper file");
	assert_contains(log, pepper_path);
	free(log);
	ck_assert_int_eq(lstat(pepper_path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0400);
	ck_assert_int_eq(st.st_size, HASH_PEPPER_BYTES);
	stop();

	/* The store records the pepper's check value. */
	read_pepper(p);
	ck_assert_int_eq(hash_pepper_check_value(p, want), PP_OK);
	ck_assert(store_check_value(got));
	ck_assert(hash_equal(want, got));

	/* And the next start matches it, quietly. */
	start_ok();
	log = daemon_log();
	assert_lacks(log, "pepper file");
	assert_lacks(log, "adopted");
	free(log);
}
END_TEST

START_TEST(test_missing_pepper_refused)
{
	char *log, *audit;

	store_with_history();
	ck_assert_int_eq(unlink(pepper_path), 0);
	log = assert_refused();
	assert_contains(log, "is missing");
	free(log);
	/* No silent new pepper, however often it is tried. */
	ck_assert(!pepper_exists());
	free(assert_refused());
	ck_assert(!pepper_exists());
	/* The refusal is in the audit log, and the chain is intact. */
	audit = harness_read(d.audit);
	ck_assert_ptr_nonnull(audit);
	assert_contains(audit, "\"event\":\"pepper_refused\"");
	assert_contains(audit, "pepper_missing");
	free(audit);
	assert_audit_chain_clean();
}
END_TEST

START_TEST(test_swapped_pepper_refused)
{
	uint8_t good[HASH_PEPPER_BYTES], other[HASH_PEPPER_BYTES], now[HASH_PEPPER_BYTES];
	char *log, *audit;

	store_with_history();
	read_pepper(good);
	do
		hash_pepper_generate(other);
	while (memcmp(other, good, sizeof(good)) == 0);
	write_pepper(other);
	log = assert_refused();
	assert_contains(log, "is not the pepper the store");
	free(log);
	/* The file is left as it was: the admin's to fix. */
	read_pepper(now);
	ck_assert_mem_eq(now, other, HASH_PEPPER_BYTES);
	audit = harness_read(d.audit);
	ck_assert_ptr_nonnull(audit);
	assert_contains(audit, "pepper_mismatch");
	free(audit);
}
END_TEST

START_TEST(test_restored_pepper_still_refuses_reuse)
{
	uint8_t good[HASH_PEPPER_BYTES], other[HASH_PEPPER_BYTES];
	struct harness_conv c;

	store_with_history();
	read_pepper(good);
	/* Lost, then a wrong one put in: both refused. */
	ck_assert_int_eq(unlink(pepper_path), 0);
	free(assert_refused());
	hash_pepper_generate(other);
	write_pepper(other);
	free(assert_refused());

	/* The right one back from the backup: serves, history intact. */
	write_pepper(good);
	start_ok();
	ck_assert(reused("alice", PW1));
	ck_assert(reused("alice", PW2));
	ck_assert(reused("bob", PW1));
	ck_assert(!reused("alice", PW3));
	ck_assert_int_eq(status_of("alice").history_count, 2);
	/* And through the real PAM stack: the reused password is refused. */
	ck_assert_int_eq(change("alice", PW1, &c), PAM_AUTHTOK_ERR);
	assert_contains(c.log, "used before");
	ck_assert_int_eq(change("alice", PW3, &c), PAM_SUCCESS);
	ck_assert_int_eq(change("alice", PW3, &c), PAM_AUTHTOK_ERR);
}
END_TEST

/* Once bound, always bound: a store with no users yet still keeps its pepper. */
START_TEST(test_bound_store_without_users_refuses_missing_pepper)
{
	start_ok();
	stop();
	ck_assert_int_eq(unlink(pepper_path), 0);
	free(assert_refused());
	ck_assert(!pepper_exists());
}
END_TEST

/* A store from before the binding adopts the pepper present (and says so). */
START_TEST(test_legacy_store_adopts_pepper)
{
	uint8_t good[HASH_PEPPER_BYTES], other[HASH_PEPPER_BYTES];
	uint8_t want[HASH_BYTES], got[HASH_BYTES];
	char *log, *audit;

	store_with_history();
	make_legacy_store();
	ck_assert(!store_check_value(got));
	read_pepper(good);
	start_ok();
	log = daemon_log();
	assert_contains(log, "adopted");
	assert_contains(log, pepper_path);
	free(log);
	ck_assert(reused("alice", PW1));
	audit = harness_read(d.audit);
	ck_assert_ptr_nonnull(audit);
	assert_contains(audit, "\"event\":\"pepper_adopted\"");
	free(audit);
	stop();
	ck_assert_int_eq(hash_pepper_check_value(good, want), PP_OK);
	ck_assert(store_check_value(got));
	ck_assert(hash_equal(want, got));

	/* From now on it is bound like any other. */
	hash_pepper_generate(other);
	write_pepper(other);
	free(assert_refused());
	write_pepper(good);
	start_ok();
	log = daemon_log();
	assert_lacks(log, "adopted");
	free(log);
}
END_TEST

/* ...but a store from before the binding with its pepper gone is refused too. */
START_TEST(test_legacy_store_missing_pepper_refused)
{
	store_with_history();
	make_legacy_store();
	ck_assert_int_eq(unlink(pepper_path), 0);
	free(assert_refused());
	ck_assert(!pepper_exists());
}
END_TEST

/* ---- starting over on purpose: pam_policyd --new-pepper ---- */

START_TEST(test_new_pepper_forgets_history)
{
	uint8_t old[HASH_PEPPER_BYTES], fresh[HASH_PEPPER_BYTES];
	uint8_t want[HASH_BYTES], got[HASH_BYTES];
	struct request_status_result st;
	struct stat sb;
	int64_t last_change;
	struct run r;
	char *audit;

	store_with_history();
	start_ok();
	last_change = status_of("alice").last_change;
	ck_assert_int_gt(last_change, 0);
	ck_assert_int_eq(request_simple(d.socket, TIMEOUT_MS, PROTO_EXPIRE, "bob", NULL, 0),
			 PP_OK);
	stop();
	read_pepper(old);

	DAEMON(&r, "--new-pepper");
	ck_assert_msg(r.status == 0, "--new-pepper: %d\n%s%s", r.status, r.out, r.err);
	assert_contains(r.err, pepper_path);
	assert_contains(r.err, "could never match again");
	assert_contains(r.err, "3 password(s) of 2 user(s)");
	run_free(&r);
	read_pepper(fresh);
	ck_assert(memcmp(old, fresh, sizeof(old)) != 0);
	ck_assert_int_eq(lstat(pepper_path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0400);
	ck_assert_int_eq(hash_pepper_check_value(fresh, want), PP_OK);
	ck_assert(store_check_value(got));
	ck_assert(hash_equal(want, got));

	/* It serves with the new pepper; the history is gone, aging kept. */
	start_ok();
	st = status_of("alice");
	ck_assert_int_eq(st.history_count, 0);
	ck_assert_int_eq(st.last_change, last_change);
	ck_assert(status_of("bob").must_change);
	ck_assert(!reused("alice", PW1));
	/* The new pepper works: a new record is remembered and matched. */
	record("alice", PW3);
	ck_assert(reused("alice", PW3));
	stop();

	/* Audited, with who did it; the chain stays intact across the tool. */
	audit = harness_read(d.audit);
	ck_assert_ptr_nonnull(audit);
	assert_contains(audit, "\"event\":\"pepper_replaced\"");
	assert_contains(audit, "history_forgotten");
	free(audit);
	assert_audit_chain_clean();
}
END_TEST

/* The way out of a refused start: --new-pepper over a lost pepper. */
START_TEST(test_new_pepper_after_lost_pepper)
{
	struct run r;

	store_with_history();
	ck_assert_int_eq(unlink(pepper_path), 0);
	free(assert_refused());
	DAEMON(&r, "--new-pepper");
	ck_assert_msg(r.status == 0, "--new-pepper: %d\n%s%s", r.status, r.out, r.err);
	run_free(&r);
	ck_assert(pepper_exists());
	start_ok();
	ck_assert_int_eq(status_of("alice").history_count, 0);
	ck_assert(!reused("alice", PW1));
}
END_TEST

START_TEST(test_new_pepper_refused_while_running)
{
	uint8_t before[HASH_PEPPER_BYTES], after[HASH_PEPPER_BYTES];
	struct run r;

	store_with_history();
	start_ok();
	read_pepper(before);
	DAEMON(&r, "--new-pepper");
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.err, "stop pam_policyd");
	run_free(&r);
	read_pepper(after);
	ck_assert_mem_eq(before, after, HASH_PEPPER_BYTES);
	ck_assert(reused("alice", PW1));
	ck_assert_int_eq(status_of("alice").history_count, 2);
}
END_TEST

/* ---- doctor ---- */

START_TEST(test_doctor_checks_pepper_binding)
{
	uint8_t good[HASH_PEPPER_BYTES], other[HASH_PEPPER_BYTES];
	char want[4600];
	struct run r;

	store_with_history();
	start_ok();
	read_pepper(good);
	doctor(&r);
	snprintf(want, sizeof(want), "ok: pepper %s is the pepper the store is bound to",
		 pepper_path);
	assert_contains(r.out, want);
	snprintf(want, sizeof(want), "ok: pepper %s present, mode 0400, 32 bytes",
		 pepper_path);
	assert_contains(r.out, want);
	run_free(&r);

	/* Replaced while the daemon runs: a problem, with the fix. */
	do
		hash_pepper_generate(other);
	while (memcmp(other, good, sizeof(good)) == 0);
	write_pepper(other);
	doctor(&r);
	ck_assert_int_eq(r.status, 1);
	snprintf(want, sizeof(want), "problem: pepper %s is not the pepper the store is "
		 "bound to", pepper_path);
	assert_contains(r.out, want);
	assert_contains(r.out, "BACKUP in pam_policyd(8)");
	run_free(&r);

	/* Deleted while it runs: a problem too. */
	ck_assert_int_eq(unlink(pepper_path), 0);
	doctor(&r);
	ck_assert_int_eq(r.status, 1);
	snprintf(want, sizeof(want), "problem: pepper %s is missing", pepper_path);
	assert_contains(r.out, want);
	run_free(&r);

	/* Back in place: fine again; the daemon served all along. */
	write_pepper(good);
	doctor(&r);
	snprintf(want, sizeof(want), "ok: pepper %s is the pepper the store is bound to",
		 pepper_path);
	assert_contains(r.out, want);
	run_free(&r);
	ck_assert(reused("alice", PW1));

	/* Stopped: what the files say, and that the start checks the rest. */
	stop();
	doctor(&r);
	snprintf(want, sizeof(want), "ok: pepper %s present, mode 0400, 32 bytes",
		 pepper_path);
	assert_contains(r.out, want);
	assert_contains(r.out, "pam_policyd is not running - pam_policyd checks it every "
			"time it starts");
	run_free(&r);
	ck_assert_int_eq(unlink(pepper_path), 0);
	doctor(&r);
	ck_assert_int_eq(r.status, 1);
	snprintf(want, sizeof(want), "problem: pepper %s: No such file", pepper_path);
	assert_contains(r.out, want);
	assert_contains(r.out, "over existing data pam_policyd does not start without it");
	run_free(&r);
}
END_TEST

/* The binding check is for root: another uid is refused. */
START_TEST(test_secrets_request_root_only)
{
	struct proto_msg req, rep;
	uint8_t buf[PROTO_MAX_FRAME];
	const char *tmp = getenv("TMPDIR");
	int fd = -1, status;
	pid_t pid;

	if (!harness_is_root())
		HARNESS_SKIP("needs root (to ask as another uid)");
	start_ok();
	/* nobody must reach the socket under the test directory. */
	if (tmp != NULL)
		ck_assert_int_eq(chmod(tmp, 0711), 0);
	ck_assert_int_eq(chmod(dir, 0711), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pp_err rc;

		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(10);
		proto_msg_init(&req, PROTO_SECRETS);
		if (client_connect(d.socket, TIMEOUT_MS, &fd) != PP_OK)
			_exit(11);
		rc = client_call(fd, &req, buf, sizeof(buf), &rep, TIMEOUT_MS);
		client_close(&fd);
		if (rc != PP_OK || rep.type != PROTO_REPLY)
			_exit(12);
		_exit(rep.f[PROTO_REPLY_STATUS].u64 == PROTO_DENIED ? 0 : 13);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "nobody's secrets request: exit %d", WEXITSTATUS(status));
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("secrets");
	TCase *unit = tcase_create("unit");
	TCase *tc = tcase_create("daemon");

	tcase_add_checked_fixture(unit, setup, teardown);
	tcase_add_test(unit, test_check_value_is_keyed_hash_of_context);
	tcase_add_test(unit, test_pepper_load_never_creates);
	tcase_add_test(unit, test_store_meta_get_set_bind);
	tcase_add_test(unit, test_store_forget_all_keeps_aging);
	suite_add_tcase(s, unit);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_empty_store_creates_and_binds_pepper);
	tcase_add_test(tc, test_missing_pepper_refused);
	tcase_add_test(tc, test_swapped_pepper_refused);
	tcase_add_test(tc, test_restored_pepper_still_refuses_reuse);
	tcase_add_test(tc, test_bound_store_without_users_refuses_missing_pepper);
	tcase_add_test(tc, test_legacy_store_adopts_pepper);
	tcase_add_test(tc, test_legacy_store_missing_pepper_refused);
	tcase_add_test(tc, test_new_pepper_forgets_history);
	tcase_add_test(tc, test_new_pepper_after_lost_pepper);
	tcase_add_test(tc, test_new_pepper_refused_while_running);
	tcase_add_test(tc, test_doctor_checks_pepper_binding);
	tcase_add_test(tc, test_secrets_request_root_only);
	suite_add_tcase(s, tc);
	return s;
}
