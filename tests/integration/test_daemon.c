/*
 * test_daemon.c - pam_policyd end to end: the real libpam stack (check line,
 * writer, record line) against a daemon started on a private socket, store
 * and audit log, plus raw protocol traffic from root and non-root peers.
 *
 * Every test starts its own daemon (harness_daemon_start) in a fresh
 * directory and writes a "passwd" service there:
 *
 *   password requisite pam_policy.so config=<daemon.conf> retry=1 [args]
 *   password required  tests/pam_test_writer.so file=<dir>/written
 *   password optional  pam_policy.so config=<daemon.conf> record
 *
 * The module and the daemon read the same configuration file, so both see
 * the same socket, history depth and minimum age. Users come from
 * nss_wrapper (see run-tests.sh). Nothing sleeps: the harness waits for the
 * daemon's readiness notification, and kills are followed by waitpid.
 *
 * The daemon treats uid 0 and its own uid as privileged, so the suite runs
 * as root or as a normal user; tests that need another uid (setuid in a
 * child) skip with HARNESS_SKIP when not run as root.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "auditlog.h"
#include "client.h"
#include "harness.h"
#include "hash.h"
#include "proto.h"
#include "request.h"

#define TIMEOUT_MS 10000          /* per request: generous for slow CI */
#define CRASH_USERS 20            /* records acknowledged before a kill -9 */

/* Passwords that satisfy every local rule (length, classes, pwquality). */
#define PW1 "Kq7!Vw3#mz"
#define PW2 "Tz9@Lp4$wx"
#define PW3 "Hb2%Rn8&qs"
#define PW4 "Md5^Gc1*vy"
#define PW5 "Xf6(Ju0)ek"

/* ---- per-test environment ---- */

static char dir[4096];
static char written[4200];
static struct harness_daemon daemon_state;

/*
 * A failed ck_assert ends the forked test process with exit(), which skips
 * the teardown but runs atexit handlers: never leave a daemon behind.
 */
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
	snprintf(written, sizeof(written), "%s/written", dir);
}

static void teardown(void)
{
	kill_leftover_daemon();
	harness_rmtree(dir);
}

/* Write the "passwd" service; check_args go on the check line. */
static void stack(const char *check_args)
{
	char args[4096];
	struct harness_stack spec = {
		.config = daemon_state.config, .check_args = args,
		.writer_file = written, .record = true,
	};

	snprintf(args, sizeof(args), "retry=1 %s", check_args ? check_args : "");
	harness_stack_write(dir, "passwd", &spec);
}

/* Start the daemon with extra configuration and write the default stack. */
static void start(const char *extra_config)
{
	ck_assert_msg(harness_daemon_start(&daemon_state, dir, extra_config, false),
		      "pam_policyd did not start");
	stack(NULL);
}

/* A password change through the stack: new password, then its retype. */
static int change(const char *user, const char *password, struct harness_conv *c)
{
	const char *answers[] = { password, password, NULL };

	harness_conv_init(c, answers);
	return harness_pam_chauthtok(dir, "passwd", user, 0, c);
}

/* What the writer stored: "" when nothing was written. */
static char *stored(void)
{
	char *s = harness_read(written);
	return s ? s : strdup("");
}

/* Number of lines the writer appended. */
static int stored_lines(void)
{
	char *s = stored();
	int n = 0;

	for (const char *p = s; *p; p++)
		if (*p == '\n')
			n++;
	free(s);
	return n;
}

static void assert_stored_last(const char *user, const char *password)
{
	char expect[2048], *s = stored();
	size_t sl = strlen(s), el;

	snprintf(expect, sizeof(expect), "%s:%s:passwd\n", user, password);
	el = strlen(expect);
	ck_assert_msg(sl >= el && strcmp(s + sl - el, expect) == 0,
		      "writer file ends with \"%s\", expected \"%s\"", s, expect);
	free(s);
}

static struct request_status_result status_of(const char *user)
{
	struct request_status_result st;
	pp_err rc = request_status(daemon_state.socket, TIMEOUT_MS, user, 0, 0, &st);

	ck_assert_msg(rc == PP_OK, "status of %s: %s", user, pp_strerror(rc));
	return st;
}

static struct request_check_result check_of(const char *user, const char *password,
					    uint64_t flags, int history, int min_age)
{
	struct request_check_result r;
	pp_err rc = request_check(daemon_state.socket, TIMEOUT_MS, user, password,
				  flags, history, min_age, &r);

	ck_assert_msg(rc == PP_OK, "check for %s: %s", user, pp_strerror(rc));
	return r;
}

/* The daemon answers a ping on a new connection and is still our child. */
static void assert_daemon_serving(const char *after)
{
	char text[256];
	int status;
	pp_err rc;

	ck_assert_int_gt(daemon_state.pid, 0);
	ck_assert_msg(kill(daemon_state.pid, 0) == 0, "daemon gone after %s", after);
	/* kill(pid, 0) also succeeds on a zombie: ask waitpid too. */
	ck_assert_msg(waitpid(daemon_state.pid, &status, WNOHANG) == 0,
		      "daemon exited after %s (status %d)", after, status);
	rc = request_simple(daemon_state.socket, TIMEOUT_MS, PROTO_PING, NULL, text,
			    sizeof(text));
	ck_assert_msg(rc == PP_OK, "ping after %s: %s", after, pp_strerror(rc));
}

/*
 * The user whose own password this process may change with the minimum
 * age in force: as root, changing another user's password sets
 * PROTO_CHECK_ROOT_FOR_OTHER (root may always reset a password), so root
 * changes its own; a normal user is not root, so alice's change is a
 * plain one.
 */
static const char *self_user(void)
{
	return getuid() == 0 ? "root" : "alice";
}

/* The audit log verifies with the daemon's key (the test runs as its uid). */
static void assert_audit_chain_clean(void)
{
	char key_path[4300], head_path[4300], err[512] = "";
	const char *files[1] = { daemon_state.audit };
	uint8_t key[AUDIT_KEY_BYTES];
	struct audit_verdict v;

	snprintf(key_path, sizeof(key_path), "%s/audit.key", daemon_state.state);
	snprintf(head_path, sizeof(head_path), "%s/audit.head", daemon_state.state);
	ck_assert_msg(access(key_path, F_OK) == 0, "no audit key at %s", key_path);
	ck_assert_msg(hash_pepper_load_or_create(key_path, key, err, sizeof(err)) == PP_OK,
		      "audit key: %s", err);
	ck_assert_int_eq(auditlog_verify(files, 1, head_path, key, &v), PP_OK);
	explicit_bzero(key, sizeof(key));
	ck_assert_msg(v.problem == AUDIT_CLEAN, "audit log %s at line %lu: %s",
		      auditlog_problem_name(v.problem), v.line, v.detail);
	ck_assert_uint_gt(v.lines, 0);
}

/* ---- 1. history through the real stack ---- */

START_TEST(test_stack_reuse_rejected_new_accepted)
{
	struct harness_conv c;
	struct request_status_result st;

	start("history = 24\nmin_age_days = 0\n");

	ck_assert_int_eq(change("alice", PW1, &c), PAM_SUCCESS);
	ck_assert_int_eq(c.errors, 0);
	assert_stored_last("alice", PW1);
	st = status_of("alice");
	ck_assert(st.found);
	ck_assert_int_eq(st.history_count, 1);
	ck_assert_int_gt(st.last_change, 0);

	/* The same password again: refused for reuse, nothing written. */
	ck_assert_int_eq(change("alice", PW1, &c), PAM_AUTHTOK_ERR);
	ck_assert_int_eq(c.errors, 1);
	ck_assert_ptr_nonnull(strstr(c.log, "used before"));
	ck_assert_ptr_null(strstr(c.log, "too recently"));
	ck_assert_ptr_null(strstr(c.log, PW1));
	ck_assert_int_eq(stored_lines(), 1);
	ck_assert_int_eq(status_of("alice").history_count, 1);

	/* A new one is fine and is remembered too. */
	ck_assert_int_eq(change("alice", PW2, &c), PAM_SUCCESS);
	ck_assert_int_eq(c.errors, 0);
	assert_stored_last("alice", PW2);
	ck_assert_int_eq(stored_lines(), 2);
	ck_assert_int_eq(status_of("alice").history_count, 2);
	ck_assert(check_of("alice", PW1, 0, 24, 0).reused);
	ck_assert(check_of("alice", PW2, 0, 24, 0).reused);
	ck_assert(!check_of("alice", PW3, 0, 24, 0).reused);
	/* Another user's history is separate. */
	ck_assert(!check_of("bob", PW1, 0, 24, 0).reused);
}
END_TEST

/* ---- 2. reuse shown together with the other violations ---- */

START_TEST(test_reuse_and_min_age_in_one_message)
{
	struct harness_conv c;
	const char *user = self_user();

	start("history = 24\nmin_age_days = 1\n");
	ck_assert_int_eq(change(user, PW1, &c), PAM_SUCCESS);
	ck_assert_int_eq(c.errors, 0);

	ck_assert_int_eq(change(user, PW1, &c), PAM_AUTHTOK_ERR);
	/*
	 * One error message. The minimum age is a refusal the user cannot
	 * avoid: it comes before any prompt (issue 10), so no password is
	 * typed and only that reason can be shown.
	 */
	ck_assert_msg(c.errors == 1, "expected one error message, got %d:\n%s",
		      c.errors, c.log);
	ck_assert_int_eq(c.prompts, 0);
	ck_assert_ptr_nonnull(strstr(c.log, "changed too recently"));
	ck_assert_int_eq(stored_lines(), 1);

	/* The daemon's own answer carries both bits as well. */
	{
		struct request_check_result r = check_of(user, PW1, 0, 24, 1);
		ck_assert(r.reused);
		ck_assert(r.too_soon);
		ck_assert_int_eq(r.days_left, 1);
	}
}
END_TEST

/* ---- 3. history depth ---- */

START_TEST(test_history_depth_pruned)
{
	struct harness_conv c;
	const char *pw[] = { PW1, PW2, PW3, PW4 };

	start("history = 3\nmin_age_days = 0\n");
	for (int i = 0; i < 4; i++) {
		ck_assert_msg(change("alice", pw[i], &c) == PAM_SUCCESS,
			      "change %d failed:\n%s", i + 1, c.log);
		ck_assert_int_eq(status_of("alice").history_count, i < 3 ? i + 1 : 3);
	}
	/* Exactly 3 kept: P2, P3, P4. */
	ck_assert_int_eq(status_of("alice").history_count, 3);

	/* P2 (3 changes ago) is still remembered. */
	ck_assert_int_eq(change("alice", PW2, &c), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "used before"));
	ck_assert_int_eq(stored_lines(), 4);

	/*
	 * P1 was pruned: even a deeper question finds only 3 entries, so it
	 * is accepted again.
	 */
	ck_assert(!check_of("alice", PW1, 0, 24, 0).reused);
	ck_assert_int_eq(change("alice", PW1, &c), PAM_SUCCESS);
	ck_assert_int_eq(c.errors, 0);
	assert_stored_last("alice", PW1);
	ck_assert_int_eq(status_of("alice").history_count, 3);
	/* ...which pushed P2 out in turn; P3, P4, P1 remain. */
	ck_assert(!check_of("alice", PW2, 0, 24, 0).reused);
	ck_assert(check_of("alice", PW3, 0, 24, 0).reused);
	ck_assert(check_of("alice", PW4, 0, 24, 0).reused);
	ck_assert(check_of("alice", PW1, 0, 24, 0).reused);
}
END_TEST

/* ---- 4. minimum age ---- */

START_TEST(test_min_age)
{
	struct harness_conv c;
	const char *user = self_user();
	struct request_check_result r;

	start("history = 24\nmin_age_days = 1\n");
	ck_assert_int_eq(change(user, PW1, &c), PAM_SUCCESS);

	/* A fresh password right after a change: too soon, nothing else. */
	ck_assert_int_eq(change(user, PW2, &c), PAM_AUTHTOK_ERR);
	ck_assert_int_eq(c.errors, 1);
	ck_assert_ptr_nonnull(strstr(c.log, "changed too recently"));
	ck_assert_ptr_nonnull(strstr(c.log, "1 day"));
	ck_assert_ptr_null(strstr(c.log, "used before"));
	ck_assert_int_eq(stored_lines(), 1);
	ck_assert_int_eq(status_of(user).history_count, 1);

	/* The daemon: too soon for a plain check, not for root-for-other. */
	r = check_of(user, PW2, 0, 24, 1);
	ck_assert(r.too_soon);
	ck_assert(!r.reused);
	ck_assert_int_eq(r.days_left, 1);
	r = check_of(user, PW2, PROTO_CHECK_ROOT_FOR_OTHER, 24, 1);
	ck_assert(!r.too_soon);
	/* min_age 0 in the request: no minimum age at all. */
	ck_assert(!check_of(user, PW2, 0, 24, 0).too_soon);

	if (getuid() != 0)
		HARNESS_SKIP("needs root (root changing another user's password)");
	/*
	 * Root changing alice's password: the module sees getuid() == 0 and
	 * a target uid != 0, sends PROTO_CHECK_ROOT_FOR_OTHER, and the daemon
	 * skips the minimum age (an administrator resetting a password must
	 * not be told to wait a day). The history still applies.
	 */
	ck_assert_int_eq(change("alice", PW1, &c), PAM_SUCCESS);
	ck_assert_int_eq(change("alice", PW2, &c), PAM_SUCCESS);
	ck_assert_int_eq(c.errors, 0);
	assert_stored_last("alice", PW2);
	ck_assert_int_eq(status_of("alice").history_count, 2);
	ck_assert_int_eq(change("alice", PW1, &c), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "used before"));
	ck_assert_ptr_null(strstr(c.log, "too recently"));
}
END_TEST

/* ---- 5. daemon unreachable ---- */

START_TEST(test_daemon_down)
{
	struct harness_conv c;
	int status;

	start("history = 24\nmin_age_days = 0\n");
	status = harness_daemon_stop(&daemon_state);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* on_unreachable = deny (default): refused with a clear reason. */
	ck_assert_int_eq(change("alice", PW1, &c), PAM_AUTHTOK_ERR);
	ck_assert_int_eq(c.errors, 1);
	ck_assert_ptr_nonnull(strstr(c.log, "unavailable"));
	ck_assert_int_eq(stored_lines(), 0);

	/*
	 * on_unreachable = allow: the change goes through; the record line
	 * cannot reach the daemon either, and says so (issue 10).
	 */
	stack("on_unreachable=allow");
	ck_assert_int_eq(change("alice", PW1, &c), PAM_SUCCESS);
	ck_assert_int_eq(c.errors, 1);
	ck_assert_ptr_nonnull(strstr(c.log, "the change could not be recorded"));
	assert_stored_last("alice", PW1);
	/* Local rules still run while the daemon is down. */
	ck_assert_int_eq(change("alice", "weak", &c), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "too short"));
}
END_TEST

/* ---- 6. non-root peers ---- */

/* One request, one reply on a fresh connection (for the child processes). */
static pp_err call_once(const char *socket_path, const struct proto_msg *req,
			uint8_t *buf, struct proto_msg *reply)
{
	int fd = -1;
	pp_err rc = client_connect(socket_path, TIMEOUT_MS, &fd);

	if (rc != PP_OK)
		return rc;
	rc = client_call(fd, req, buf, PROTO_MAX_FRAME, reply, TIMEOUT_MS);
	client_close(&fd);
	return rc;
}

/*
 * Become user name in a child, with the groups a login would give it
 * (the daemon reads the peer's groups with SO_PEERGROUPS). The test
 * directory is private (0700), but the daemon's run/ directory is 0755
 * and the socket 0666: chdir there first and connect by the relative name
 * "pd.sock", which needs search permission on run/ only. SO_PEERCRED is
 * taken at connect time, so the connection is made after the switch.
 */
static bool become(const char *name)
{
	char rundir[4300];
	char *slash;
	gid_t groups[64];
	int ngroups = (int)(sizeof(groups) / sizeof(groups[0]));
	struct passwd *pw = getpwnam(name);

	if (pw == NULL)
		return false;
	snprintf(rundir, sizeof(rundir), "%s", daemon_state.socket);
	slash = strrchr(rundir, '/');
	if (slash == NULL)
		return false;
	*slash = '\0';
	if (getgrouplist(name, pw->pw_gid, groups, &ngroups) < 0)
		return false;
	return chdir(rundir) == 0 && setgroups((size_t)ngroups, groups) == 0 &&
	       setgid(pw->pw_gid) == 0 && setuid(pw->pw_uid) == 0 &&
	       getuid() == pw->pw_uid && geteuid() == pw->pw_uid;
}

#define CHILD_FAIL(step, ...) do { \
	fprintf(stderr, "child uid %u step %d: ", (unsigned)getuid(), step); \
	fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); \
	_exit(step); \
} while (0)

/* Expect a PROTO_REPLY with status want; returns false on anything else. */
static bool reply_is(pp_err rc, const struct proto_msg *reply, uint64_t want)
{
	return rc == PP_OK && reply->type == PROTO_REPLY &&
	       reply->f[PROTO_REPLY_STATUS].u64 == want;
}

static void nobody_child(void)
{
	uint8_t buf[PROTO_MAX_FRAME];
	struct proto_msg req, reply;
	pp_err rc;

	if (!become("nobody"))
		CHILD_FAIL(1, "cannot become nobody: %s", strerror(errno));

	proto_msg_init(&req, PROTO_CHECK);
	if (proto_add_cstr(&req, "alice") != PP_OK || proto_add_cstr(&req, PW1) != PP_OK ||
	    proto_add_u64(&req, 0) != PP_OK || proto_add_u64(&req, 24) != PP_OK ||
	    proto_add_u64(&req, 0) != PP_OK)
		CHILD_FAIL(2, "cannot build check");
	rc = call_once("pd.sock", &req, buf, &reply);
	if (!reply_is(rc, &reply, PROTO_DENIED))
		CHILD_FAIL(3, "check: rc %s type %d status %llu, expected denied",
			   pp_strerror(rc), (int)reply.type,
			   (unsigned long long)reply.f[0].u64);

	proto_msg_init(&req, PROTO_RECORD);
	if (proto_add_cstr(&req, "alice") != PP_OK || proto_add_cstr(&req, PW1) != PP_OK ||
	    proto_add_u64(&req, 24) != PP_OK || proto_add_cstr(&req, "passwd") != PP_OK ||
	    proto_add_u64(&req, 0) != PP_OK || proto_add_cstr(&req, "") != PP_OK ||
	    proto_add_cstr(&req, "") != PP_OK)
		CHILD_FAIL(4, "cannot build record");
	rc = call_once("pd.sock", &req, buf, &reply);
	if (!reply_is(rc, &reply, PROTO_DENIED))
		CHILD_FAIL(5, "record: rc %s type %d status %llu, expected denied",
			   pp_strerror(rc), (int)reply.type,
			   (unsigned long long)reply.f[0].u64);

	/* Recording for itself is a root-only request too. */
	proto_msg_init(&req, PROTO_RECORD);
	if (proto_add_cstr(&req, "nobody") != PP_OK || proto_add_cstr(&req, PW1) != PP_OK ||
	    proto_add_u64(&req, 24) != PP_OK || proto_add_cstr(&req, "passwd") != PP_OK ||
	    proto_add_u64(&req, 0) != PP_OK || proto_add_cstr(&req, "") != PP_OK ||
	    proto_add_cstr(&req, "") != PP_OK)
		CHILD_FAIL(6, "cannot build record");
	rc = call_once("pd.sock", &req, buf, &reply);
	if (!reply_is(rc, &reply, PROTO_DENIED))
		CHILD_FAIL(7, "own record: rc %s, expected denied", pp_strerror(rc));

	proto_msg_init(&req, PROTO_STATUS);
	if (proto_add_cstr(&req, "alice") != PP_OK || proto_add_u64(&req, 90) != PP_OK ||
	    proto_add_u64(&req, 14) != PP_OK)
		CHILD_FAIL(8, "cannot build status");
	rc = call_once("pd.sock", &req, buf, &reply);
	if (!reply_is(rc, &reply, PROTO_DENIED))
		CHILD_FAIL(9, "status of alice: rc %s type %d, expected denied",
			   pp_strerror(rc), (int)reply.type);

	proto_msg_init(&req, PROTO_STATUS);
	if (proto_add_cstr(&req, "nobody") != PP_OK || proto_add_u64(&req, 90) != PP_OK ||
	    proto_add_u64(&req, 14) != PP_OK)
		CHILD_FAIL(10, "cannot build status");
	rc = call_once("pd.sock", &req, buf, &reply);
	if (rc != PP_OK || reply.type != PROTO_STATUS_REPLY ||
	    reply.f[PROTO_STATUS_REPLY_STATUS].u64 == PROTO_DENIED)
		CHILD_FAIL(11, "own status: rc %s type %d status %llu, expected a status reply",
			   pp_strerror(rc), (int)reply.type,
			   (unsigned long long)reply.f[0].u64);

	proto_msg_init(&req, PROTO_EXPIRE);
	if (proto_add_cstr(&req, "alice") != PP_OK)
		CHILD_FAIL(12, "cannot build expire");
	rc = call_once("pd.sock", &req, buf, &reply);
	if (!reply_is(rc, &reply, PROTO_DENIED))
		CHILD_FAIL(13, "expire: rc %s, expected denied", pp_strerror(rc));

	proto_msg_init(&req, PROTO_FORGET);
	if (proto_add_cstr(&req, "alice") != PP_OK)
		CHILD_FAIL(14, "cannot build forget");
	rc = call_once("pd.sock", &req, buf, &reply);
	if (!reply_is(rc, &reply, PROTO_DENIED))
		CHILD_FAIL(15, "forget: rc %s, expected denied", pp_strerror(rc));

	/* Ping is for everyone. */
	proto_msg_init(&req, PROTO_PING);
	rc = call_once("pd.sock", &req, buf, &reply);
	if (!reply_is(rc, &reply, PROTO_OK))
		CHILD_FAIL(16, "ping: rc %s, expected ok", pp_strerror(rc));
	_exit(0);
}

static void alice_child(void)
{
	struct request_status_result st;
	pp_err rc;

	if (!become("alice"))
		CHILD_FAIL(1, "cannot become alice: %s", strerror(errno));
	rc = request_status("pd.sock", TIMEOUT_MS, "alice", 90, 14, &st);
	if (rc != PP_OK || !st.found)
		CHILD_FAIL(2, "own status: %s, found %d", pp_strerror(rc), (int)st.found);
	if (st.history_count != 1 || st.last_change <= 0)
		CHILD_FAIL(3, "own status: history_count %ld last_change %lld",
			   st.history_count, (long long)st.last_change);
	rc = request_status("pd.sock", TIMEOUT_MS, "bob", 90, 14, &st);
	if (rc != PP_ERR_DENIED)
		CHILD_FAIL(4, "status of bob: %s, expected denied", pp_strerror(rc));
	_exit(0);
}

/* bob is in pampolicy-audit: reports and status, never passwords. */
static void bob_child(void)
{
	uint8_t buf[PROTO_MAX_FRAME];
	struct proto_msg req, reply;
	struct request_status_result st;
	pp_err rc;

	if (!become("bob"))
		CHILD_FAIL(1, "cannot become bob: %s", strerror(errno));
	proto_msg_init(&req, PROTO_CHECK);
	if (proto_add_cstr(&req, "alice") != PP_OK || proto_add_cstr(&req, PW2) != PP_OK ||
	    proto_add_u64(&req, 0) != PP_OK || proto_add_u64(&req, 24) != PP_OK ||
	    proto_add_u64(&req, 0) != PP_OK)
		CHILD_FAIL(2, "cannot build check");
	rc = call_once("pd.sock", &req, buf, &reply);
	if (!reply_is(rc, &reply, PROTO_DENIED))
		CHILD_FAIL(3, "check from the audit group: rc %s, expected denied",
			   pp_strerror(rc));
	proto_msg_init(&req, PROTO_EXPIRE);
	if (proto_add_cstr(&req, "alice") != PP_OK)
		CHILD_FAIL(4, "cannot build expire");
	rc = call_once("pd.sock", &req, buf, &reply);
	if (!reply_is(rc, &reply, PROTO_DENIED))
		CHILD_FAIL(5, "expire from the audit group: rc %s, expected denied",
			   pp_strerror(rc));
	rc = request_status("pd.sock", TIMEOUT_MS, "alice", 90, 14, &st);
	if (rc != PP_OK || !st.found || st.history_count != 1)
		CHILD_FAIL(6, "status of alice from the audit group: %s", pp_strerror(rc));
	_exit(0);
}

static void run_child(void (*body)(void), const char *who)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		body();
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "%s child failed at step %d (see stderr)", who,
		      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

START_TEST(test_non_root_peers)
{
	struct request_status_result st;

	if (!harness_is_root())
		HARNESS_SKIP("needs root (to become nobody and bob)");
	start("history = 24\nmin_age_days = 0\n");
	ck_assert_int_eq(request_record(daemon_state.socket, TIMEOUT_MS, "alice", PW2,
					24, "passwd"), PP_OK);

	run_child(nobody_child, "nobody");
	/* The denied record left nothing behind: only PW2 is in the history. */
	st = status_of("alice");
	ck_assert_int_eq(st.history_count, 1);
	ck_assert(!check_of("alice", PW1, 0, 24, 0).reused);
	ck_assert(check_of("alice", PW2, 0, 24, 0).reused);
	ck_assert(!status_of("alice").must_change);

	run_child(alice_child, "alice");
	run_child(bob_child, "bob");
	ck_assert(!status_of("alice").must_change);
	assert_daemon_serving("non-root peers");
}
END_TEST

/* ---- 7. malformed frames ---- */

static size_t put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return 4;
}

static void send_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		/* The daemon may drop us before it has read everything. */
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return;
		ck_assert_msg(n > 0, "send: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

/*
 * Send raw bytes (a length header is added when with_header), then expect
 * the daemon to close the connection without a reply.
 */
static void expect_dropped(const char *what, const uint8_t *body, size_t len,
			   bool with_header)
{
	uint8_t frame[PROTO_HEADER_SIZE + 4096];
	size_t used = 0;
	struct pollfd p;
	char got[64];
	ssize_t n;
	int fd = harness_connect(daemon_state.socket);

	ck_assert_msg(fd >= 0, "%s: connect: %s", what, strerror(errno));
	ck_assert_uint_le(len, 4096);
	if (with_header)
		used = put_u32(frame, (uint32_t)len);
	memcpy(frame + used, body, len);
	used += len;
	send_all(fd, frame, used);
	p.fd = fd;
	p.events = POLLIN;
	ck_assert_msg(poll(&p, 1, TIMEOUT_MS) == 1,
		      "%s: the daemon neither answered nor closed", what);
	n = recv(fd, got, sizeof(got), 0);
	ck_assert_msg(n == 0 || (n < 0 && errno == ECONNRESET),
		      "%s: expected the connection dropped, got %zd bytes", what, n);
	close(fd);
	assert_daemon_serving(what);
}

START_TEST(test_malformed_frames)
{
	uint8_t b[4096];
	size_t n;
	char *audit_before, *audit_after;
	int fd;

	start("history = 24\nmin_age_days = 0\n");
	/*
	 * Only daemon_start is in the log now (written before READY=1); a
	 * record here would race with its own audit line, which the daemon
	 * writes after replying.
	 */
	audit_before = harness_read(daemon_state.audit);
	ck_assert_ptr_nonnull(audit_before);

	/* A header announcing 1 GB: refused before any body is read. */
	put_u32(b, 1u << 30);
	expect_dropped("1 GB header", b, 4, false);
	/* One byte over the limit. */
	put_u32(b, PROTO_MAX_FRAME + 1);
	expect_dropped("PROTO_MAX_FRAME + 1 header", b, 4, false);

	/* Garbage bodies. */
	for (size_t i = 0; i < 64; i++)
		b[i] = (uint8_t)(0xa5 ^ (i * 37));
	expect_dropped("garbage body", b, 64, true);
	{
		const uint8_t looks_right[] = { 1, PROTO_CHECK, 200, 1, 0xff, 0xff, 'x' };
		expect_dropped("garbage with a valid version", looks_right,
			       sizeof(looks_right), true);
	}
	expect_dropped("empty body", b, 0, true);

	/* A valid header and a truncated body, then close. */
	fd = harness_connect(daemon_state.socket);
	ck_assert_int_ge(fd, 0);
	n = put_u32(b, 40);
	b[n++] = 1;
	b[n++] = PROTO_STATUS;
	b[n++] = 3;
	send_all(fd, b, n);
	close(fd);
	assert_daemon_serving("truncated body");

	/* Trailing bytes after a complete ping body. */
	{
		const uint8_t ping_plus[] = { 1, PROTO_PING, 0, 0 };
		expect_dropped("trailing bytes", ping_plus, sizeof(ping_plus), true);
	}
	/* A field count that differs from the schema. */
	{
		const uint8_t ping_field[] = { 1, PROTO_PING, 1, PROTO_KIND_U64,
					       0, 0, 0, 0, 0, 0, 0, 0 };
		expect_dropped("extra field", ping_field, sizeof(ping_field), true);
	}
	/* An embedded NUL in the user name of a status request. */
	{
		const uint8_t nul_user[] = {
			1, PROTO_STATUS, 3,
			PROTO_KIND_STR, 0, 6, 'a', 'l', 'i', 0, 'c', 'e',
			PROTO_KIND_U64, 0, 0, 0, 0, 0, 0, 0, 90,
			PROTO_KIND_U64, 0, 0, 0, 0, 0, 0, 0, 14,
		};
		expect_dropped("NUL in user name", nul_user, sizeof(nul_user), true);
	}
	/* An unknown type, a reply type sent as a request, a wrong version. */
	{
		const uint8_t unknown[] = { 1, 99, 0 };
		const uint8_t reply_type[] = {
			1, PROTO_REPLY, 3,
			PROTO_KIND_U64, 0, 0, 0, 0, 0, 0, 0, 0,
			PROTO_KIND_U64, 0, 0, 0, 0, 0, 0, 0, 0,
			PROTO_KIND_STR, 0, 0,
		};
		const uint8_t version2[] = { 2, PROTO_PING, 0 };
		const uint8_t version0[] = { 0, PROTO_PING, 0 };
		expect_dropped("unknown type", unknown, sizeof(unknown), true);
		expect_dropped("reply type as request", reply_type, sizeof(reply_type), true);
		expect_dropped("version 2", version2, sizeof(version2), true);
		expect_dropped("version 0", version0, sizeof(version0), true);
	}
	/* A password string over PROTO_MAX_STR inside a frame under the limit. */
	n = 0;
	b[n++] = 1;
	b[n++] = PROTO_CHECK;
	b[n++] = 5;
	b[n++] = PROTO_KIND_STR;
	b[n++] = 0;
	b[n++] = 5;
	memcpy(b + n, "alice", 5);
	n += 5;
	b[n++] = PROTO_KIND_STR;
	b[n++] = (uint8_t)((PROTO_MAX_STR + 1) >> 8);
	b[n++] = (uint8_t)(PROTO_MAX_STR + 1);
	memset(b + n, 'P', PROTO_MAX_STR + 1);
	n += PROTO_MAX_STR + 1;
	for (int i = 0; i < 3; i++) {
		b[n++] = PROTO_KIND_U64;
		memset(b + n, 0, 8);
		n += 8;
	}
	expect_dropped("over-long password field", b, n, true);

	/* Nothing above reached a handler: the audit log did not change. */
	audit_after = harness_read(daemon_state.audit);
	ck_assert_ptr_nonnull(audit_after);
	ck_assert_str_eq(audit_after, audit_before);
	free(audit_before);
	free(audit_after);

	/* Real requests are still answered correctly. */
	ck_assert_int_eq(request_record(daemon_state.socket, TIMEOUT_MS, "alice", PW1,
					24, "passwd"), PP_OK);
	ck_assert(check_of("alice", PW1, 0, 24, 0).reused);
	ck_assert_int_eq(status_of("alice").history_count, 1);
}
END_TEST

START_TEST(test_stalled_client_does_not_block_others)
{
	uint8_t b[16];
	int half_header, half_body;
	struct request_check_result r;

	start("history = 24\nmin_age_days = 0\n");
	ck_assert_int_eq(request_record(daemon_state.socket, TIMEOUT_MS, "alice", PW1,
					24, "passwd"), PP_OK);

	/* Half a length header, then silence with the connection open. */
	half_header = harness_connect(daemon_state.socket);
	ck_assert_int_ge(half_header, 0);
	b[0] = 0;
	b[1] = 0;
	send_all(half_header, b, 2);
	/* A whole header and part of the body, also left hanging. */
	half_body = harness_connect(daemon_state.socket);
	ck_assert_int_ge(half_body, 0);
	put_u32(b, 30);
	b[4] = 1;
	b[5] = PROTO_CHECK;
	send_all(half_body, b, 6);

	/* Others are served meanwhile: ping, status (inline), check (pool). */
	{
		char text[256];
		ck_assert_int_eq(request_simple(daemon_state.socket, 3000, PROTO_PING, NULL,
						text, sizeof(text)), PP_OK);
		ck_assert_str_eq(text, PAM_POLICY_VERSION);
	}
	ck_assert_int_eq(status_of("alice").history_count, 1);
	ck_assert_int_eq(request_check(daemon_state.socket, 3000, "alice", PW1, 0, 24, 0,
				       &r), PP_OK);
	ck_assert(r.reused);
	assert_daemon_serving("stalled clients");
	close(half_header);
	close(half_body);
	assert_daemon_serving("stalled clients closing");
}
END_TEST

/* Two requests in one write: both answered, in order. */
START_TEST(test_pipelined_requests)
{
	uint8_t out[64], in[PROTO_MAX_FRAME];
	struct proto_msg ping, reply;
	size_t n = 0, len;
	int fd;

	start("history = 24\nmin_age_days = 0\n");
	proto_msg_init(&ping, PROTO_PING);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(proto_encode(&ping, out + n + PROTO_HEADER_SIZE,
					      sizeof(out) - n - PROTO_HEADER_SIZE, &len), PP_OK);
		put_u32(out + n, (uint32_t)len);
		n += PROTO_HEADER_SIZE + len;
	}
	fd = harness_connect(daemon_state.socket);
	ck_assert_int_ge(fd, 0);
	send_all(fd, out, n);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(proto_frame_read(fd, in, sizeof(in), &len,
						  proto_deadline_after(TIMEOUT_MS)), PP_OK);
		ck_assert_int_eq(proto_decode(in, len, &reply), PP_OK);
		ck_assert_int_eq(reply.type, PROTO_REPLY);
		ck_assert_int_eq(reply.f[PROTO_REPLY_STATUS].u64, PROTO_OK);
	}
	close(fd);
	assert_daemon_serving("pipelined requests");
}
END_TEST

/* A second daemon on the same socket refuses to start; the first serves on. */
START_TEST(test_second_daemon_refused)
{
	struct harness_daemon second;

	start("history = 24\nmin_age_days = 0\n");
	ck_assert_int_eq(request_record(daemon_state.socket, TIMEOUT_MS, "alice", PW1,
					24, "passwd"), PP_OK);
	ck_assert_msg(!harness_daemon_start(&second, dir,
					    "history = 24\nmin_age_days = 0\n", false),
		      "a second pam_policyd started on a socket in use");
	assert_daemon_serving("a second daemon");
	ck_assert(check_of("alice", PW1, 0, 24, 0).reused);
}
END_TEST

/*
 * An acknowledged change is in the audit log: a compliance reviewer must
 * find every change the module was told succeeded, even if the daemon is
 * killed right after answering. (lib/server.c handle_record once replied
 * before writing password_changed; this failed then.)
 */
START_TEST(test_audit_written_before_acknowledgement)
{
	char user[32], needle[128];

	start("history = 24\nmin_age_days = 0\n");
	for (int i = 0; i < CRASH_USERS; i++) {
		char *audit;

		snprintf(user, sizeof(user), "audit%02d", i);
		ck_assert_int_eq(request_record(daemon_state.socket, TIMEOUT_MS, user, PW1,
						24, "passwd"), PP_OK);
		audit = harness_read(daemon_state.audit);
		ck_assert_ptr_nonnull(audit);
		snprintf(needle, sizeof(needle), "\"event\":\"password_changed\",\"user\":\"%s\"",
			 user);
		ck_assert_msg(strstr(audit, needle) != NULL,
			      "record for %s was acknowledged before its password_changed "
			      "audit line was written: a kill -9 now would lose it", user);
		free(audit);
	}
}
END_TEST

/* ---- 8. kill -9 after acknowledged records ---- */

START_TEST(test_kill9_keeps_acknowledged_records)
{
	const char *extra = "history = 24\nmin_age_days = 0\n";
	char user[32], pw[64];

	start(extra);
	for (int i = 0; i < CRASH_USERS; i++) {
		snprintf(user, sizeof(user), "crash%02d", i);
		snprintf(pw, sizeof(pw), "Crash-Pw-%02d!x", i);
		ck_assert_msg(request_record(daemon_state.socket, TIMEOUT_MS, user, pw, 24,
					     "passwd") == PP_OK,
			      "record %s not acknowledged", user);
	}
	/* Straight after the last acknowledgement: no clean shutdown. */
	harness_daemon_kill(&daemon_state);
	ck_assert_int_eq(daemon_state.pid, 0);

	/* The same directory: store, pepper and audit key are reused. */
	ck_assert_msg(harness_daemon_start(&daemon_state, dir, extra, false),
		      "pam_policyd did not restart after kill -9");
	for (int i = 0; i < CRASH_USERS; i++) {
		struct request_status_result st;
		struct request_check_result r;

		snprintf(user, sizeof(user), "crash%02d", i);
		snprintf(pw, sizeof(pw), "Crash-Pw-%02d!x", i);
		st = status_of(user);
		ck_assert_msg(st.found, "%s lost after kill -9", user);
		ck_assert_msg(st.history_count == 1, "%s: history_count %ld", user,
			      st.history_count);
		ck_assert_int_gt(st.last_change, 0);
		r = check_of(user, pw, 0, 24, 0);
		ck_assert_msg(r.reused, "%s: recorded password not found after kill -9", user);
		/* And the entry belongs to that user only. */
		snprintf(pw, sizeof(pw), "Crash-Pw-%02d!x", (i + 1) % CRASH_USERS);
		ck_assert(!check_of(user, pw, 0, 24, 0).reused);
	}
	/* The restarted daemon keeps recording. */
	ck_assert_int_eq(request_record(daemon_state.socket, TIMEOUT_MS, "crash00", PW1,
					24, "passwd"), PP_OK);
	ck_assert_int_eq(status_of("crash00").history_count, 2);
	/* And its audit chain survived the kill. */
	{
		int status = harness_daemon_stop(&daemon_state);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_audit_chain_clean();
}
END_TEST

/*
 * The audit log survives a crash between its two writes. auditlog_write
 * appends and fdatasyncs the line, then replaces the head file (sequence
 * number and mac of the last line). A kill -9 between the two leaves the
 * head one line behind the log. We build exactly that state (kill -9, then
 * put back the head file as it was before the last line) and restart: the
 * chain must go on from the log's real last line, not from the stale head,
 * or the verifier reports tampering that never happened.
 */
START_TEST(test_audit_chain_survives_crash_between_line_and_head)
{
	const char *extra = "history = 24\nmin_age_days = 0\n";
	char head[4300], *saved, *audit;
	int status;

	start(extra);
	snprintf(head, sizeof(head), "%s/audit.head", daemon_state.state);
	/* Events are written before they are acknowledged. */
	ck_assert_int_eq(request_event(daemon_state.socket, TIMEOUT_MS, "change_rejected",
				       "alice", "passwd", "", "", "too_short"), PP_OK);
	saved = harness_read(head);
	ck_assert_ptr_nonnull(saved);
	ck_assert_int_eq(request_event(daemon_state.socket, TIMEOUT_MS, "change_rejected",
				       "alice", "passwd", "", "", "reused"), PP_OK);
	harness_daemon_kill(&daemon_state);
	/* The state a kill between the line's fdatasync and the head's rename leaves. */
	harness_write(head, saved);
	free(saved);

	ck_assert(harness_daemon_start(&daemon_state, dir, extra, false));
	status = harness_daemon_stop(&daemon_state);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	audit = harness_read(daemon_state.audit);
	ck_assert_ptr_nonnull(audit);
	ck_assert_ptr_nonnull(strstr(audit, "\"reasons\":[\"reused\"]"));
	free(audit);
	assert_audit_chain_clean();
}
END_TEST

/* ---- 9. over-long and invalid passwords ---- */

START_TEST(test_oversized_and_invalid_passwords)
{
	struct harness_conv c;
	char long_pw[601];
	char max_pw[PROTO_MAX_STR + 1];
	const char *bad_utf8 = "Abcdefgh1!\xff\xfe";
	struct proto_msg m;
	int status;

	memset(long_pw, 'x', sizeof(long_pw) - 1);
	long_pw[sizeof(long_pw) - 1] = '\0';
	start("history = 24\nmin_age_days = 0\n");

	ck_assert_int_eq(change("alice", long_pw, &c), PAM_AUTHTOK_ERR);
	ck_assert_int_eq(c.errors, 1);
	ck_assert_ptr_nonnull(strstr(c.log, "too long"));
	ck_assert_ptr_null(strstr(c.log, "unavailable"));
	ck_assert_int_eq(change("alice", bad_utf8, &c), PAM_AUTHTOK_ERR);
	ck_assert_int_eq(c.errors, 1);
	ck_assert_ptr_nonnull(strstr(c.log, "UTF-8"));
	ck_assert_int_eq(stored_lines(), 0);
	assert_daemon_serving("over-long and invalid passwords");

	/* The largest password the protocol carries: hashed, answered. */
	memset(max_pw, 'y', sizeof(max_pw) - 1);
	max_pw[sizeof(max_pw) - 1] = '\0';
	ck_assert(!check_of("alice", max_pw, 0, 24, 0).reused);
	ck_assert(!check_of("alice", bad_utf8, 0, 24, 0).reused);
	/* A password with a NUL cannot even be put into a request. */
	proto_msg_init(&m, PROTO_CHECK);
	ck_assert_int_eq(proto_add_cstr(&m, "alice"), PP_OK);
	ck_assert_int_eq(proto_add_str(&m, "Abc\0defgh1!", 11), PP_ERR_INVALID);
	assert_daemon_serving("maximal password");

	/*
	 * The module must not ask the daemon about passwords it already
	 * refused: with the daemon down, those refusals do not mention it.
	 */
	status = harness_daemon_stop(&daemon_state);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(change("alice", long_pw, &c), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "too long"));
	ck_assert_ptr_null(strstr(c.log, "unavailable"));
	ck_assert_int_eq(change("alice", bad_utf8, &c), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "UTF-8"));
	ck_assert_ptr_null(strstr(c.log, "unavailable"));
	/* Control: a valid password does need the daemon. */
	ck_assert_int_eq(change("alice", PW1, &c), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "unavailable"));
}
END_TEST

/* ---- 10. SIGTERM ---- */

START_TEST(test_sigterm_clean_shutdown)
{
	char *audit;
	int status, idle;
	struct stat st;

	start("history = 24\nmin_age_days = 0\n");
	ck_assert_int_eq(lstat(daemon_state.socket, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(request_record(daemon_state.socket, TIMEOUT_MS, "alice", PW1,
					24, "passwd"), PP_OK);
	/*
	 * An event is written before its reply (unlike password_changed, see
	 * test_audit_written_before_acknowledgement), so once it is answered
	 * everything before it is in the log.
	 */
	ck_assert_int_eq(request_event(daemon_state.socket, TIMEOUT_MS, "change_rejected",
				       "alice", "passwd", "", "", "reused"), PP_OK);
	/* An idle client connection must not hold the shutdown up. */
	idle = harness_connect(daemon_state.socket);
	ck_assert_int_ge(idle, 0);

	status = harness_daemon_stop(&daemon_state);
	ck_assert_msg(WIFEXITED(status), "daemon did not exit (status %d)", status);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	errno = 0;
	ck_assert_msg(lstat(daemon_state.socket, &st) != 0 && errno == ENOENT,
		      "socket %s left behind", daemon_state.socket);
	close(idle);

	audit = harness_read(daemon_state.audit);
	ck_assert_ptr_nonnull(audit);
	ck_assert_ptr_nonnull(strstr(audit, "\"event\":\"daemon_start\""));
	ck_assert_ptr_nonnull(strstr(audit, "\"event\":\"daemon_stop\""));
	ck_assert_ptr_nonnull(strstr(audit, "\"event\":\"change_rejected\""));
	/* daemon_stop is the last line. */
	{
		size_t len = strlen(audit);
		char *last;
		ck_assert(len > 0 && audit[len - 1] == '\n');
		audit[len - 1] = '\0';
		last = strrchr(audit, '\n');
		last = last ? last + 1 : audit;
		ck_assert_ptr_nonnull(strstr(last, "\"event\":\"daemon_stop\""));
	}
	free(audit);
	assert_audit_chain_clean();

	/* The same state starts again. */
	ck_assert(harness_daemon_start(&daemon_state, dir,
				       "history = 24\nmin_age_days = 0\n", false));
	ck_assert(check_of("alice", PW1, 0, 24, 0).reused);
}
END_TEST

/* ---- 11. no secrets in the audit log or the store ---- */

/* Does the file at path contain needle (binary-safe)? */
static bool file_contains(const char *path, const char *needle)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 1 << 16, used = 0;
	char *buf;
	bool found;
	ssize_t n;

	if (fd < 0)
		return false;
	buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	while ((n = read(fd, buf + used, cap - used)) > 0) {
		used += (size_t)n;
		if (used == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
	}
	close(fd);
	found = memmem(buf, used, needle, strlen(needle)) != NULL;
	free(buf);
	return found;
}

/* No file in the state directory or the audit log holds needle. */
static void assert_nowhere(const char *needle)
{
	char path[8400];
	struct dirent *e;
	DIR *d = opendir(daemon_state.state);

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", daemon_state.state, e->d_name);
		ck_assert_msg(!file_contains(path, needle), "\"%s\" found in %s", needle,
			      path);
	}
	closedir(d);
	ck_assert_msg(!file_contains(daemon_state.audit, needle),
		      "\"%s\" found in the audit log", needle);
}

START_TEST(test_no_secrets_in_audit_or_store)
{
	struct harness_conv c;
	const char *weak = "Sunshine99";
	char long_pw[601];
	char *audit;
	int status;

	memset(long_pw, 'Z', sizeof(long_pw) - 1);
	long_pw[sizeof(long_pw) - 1] = '\0';
	start("history = 24\nmin_age_days = 0\n");

	ck_assert_int_eq(change("alice", PW1, &c), PAM_SUCCESS);      /* recorded */
	ck_assert_int_eq(change("alice", PW1, &c), PAM_AUTHTOK_ERR);  /* reused */
	ck_assert_int_eq(change("alice", weak, &c), PAM_AUTHTOK_ERR); /* local rules */
	ck_assert_int_eq(change("alice", long_pw, &c), PAM_AUTHTOK_ERR);
	ck_assert_int_eq(change("bob", PW2, &c), PAM_SUCCESS);
	ck_assert_int_eq(request_record(daemon_state.socket, TIMEOUT_MS, "carol", PW3, 24,
					"passwd"), PP_OK);
	ck_assert(!check_of("carol", PW4, 0, 24, 0).reused);
	/* Stop, so that everything is flushed and daemon_stop is logged. */
	status = harness_daemon_stop(&daemon_state);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	audit = harness_read(daemon_state.audit);
	ck_assert_ptr_nonnull(audit);
	/* Not vacuous: the flows above were logged. */
	ck_assert_ptr_nonnull(strstr(audit, "\"event\":\"password_changed\""));
	ck_assert_ptr_nonnull(strstr(audit, "\"event\":\"change_rejected\""));
	ck_assert_ptr_nonnull(strstr(audit, "\"user\":\"alice\""));
	/* No key that would hold hashing material. */
	ck_assert_ptr_null(strstr(audit, "\"hash\""));
	ck_assert_ptr_null(strstr(audit, "\"salt\""));
	ck_assert_ptr_null(strstr(audit, "\"pepper\""));
	ck_assert_ptr_null(strstr(audit, "\"password\""));
	free(audit);

	/* No password in the clear in the audit log or the store files. */
	assert_nowhere(PW1);
	assert_nowhere(PW2);
	assert_nowhere(PW3);
	assert_nowhere(PW4);
	assert_nowhere(weak);
	assert_nowhere("ZZZZZZZZZZZZZZZZ");
}
END_TEST

static Suite *daemon_suite(void)
{
	Suite *s = suite_create("pam_policyd");
	TCase *tc = tcase_create("daemon");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_stack_reuse_rejected_new_accepted);
	tcase_add_test(tc, test_reuse_and_min_age_in_one_message);
	tcase_add_test(tc, test_history_depth_pruned);
	tcase_add_test(tc, test_min_age);
	tcase_add_test(tc, test_daemon_down);
	tcase_add_test(tc, test_non_root_peers);
	tcase_add_test(tc, test_malformed_frames);
	tcase_add_test(tc, test_stalled_client_does_not_block_others);
	tcase_add_test(tc, test_pipelined_requests);
	tcase_add_test(tc, test_second_daemon_refused);
	tcase_add_test(tc, test_kill9_keeps_acknowledged_records);
	tcase_add_test(tc, test_audit_written_before_acknowledgement);
	tcase_add_test(tc, test_audit_chain_survives_crash_between_line_and_head);
	tcase_add_test(tc, test_oversized_and_invalid_passwords);
	tcase_add_test(tc, test_sigterm_clean_shutdown);
	tcase_add_test(tc, test_no_secrets_in_audit_or_store);
	suite_add_tcase(s, tc);
	return s;
}

Suite *test_suite(void)
{
	return daemon_suite();
}
