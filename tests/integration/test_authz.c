/*
 * test_authz.c - who may ask the daemon for a status: decided by uid.
 *
 * An unprivileged peer may read the status of its own account only. The
 * daemon resolves the asked name to a uid and compares it with the peer's
 * SO_PEERCRED uid, so a name is never cut to fit a buffer: a peer whose
 * name is 65 bytes cannot read the status of the user named by its 63-byte
 * prefix, and a user with a 70-byte name can read their own status.
 *
 * The users come from nss_wrapper (tests/run-tests.sh): a 70-byte name
 * (uid 1005), a 63-byte name (uid 1006) and that name + "xy" (65 bytes,
 * uid 1007). Each test forks a child that becomes one of them (root only)
 * and reports the step it failed at through its exit status.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "harness.h"
#include "request.h"

#define LONG_UID 1005      /* a 70-byte name */
#define PREFIX_UID 1006    /* a 63-byte name */
#define PLUS_UID 1007      /* the 63-byte name + "xy": 65 bytes */

/* Exit statuses of a child: the step that failed. */
enum {
	CHILD_OK = 0,
	CHILD_CHDIR = 10,
	CHILD_SETUID,
	CHILD_OWN_STATUS_FAILED,
	CHILD_OWN_NOT_FOUND,
	CHILD_OTHER_NOT_DENIED,
};

static char dir[4096];
static struct harness_daemon d;
static char long_name[71], prefix_name[64], plus_name[66];

static void setup(void)
{
	memset(long_name, 'l', 70);
	long_name[70] = '\0';
	memset(prefix_name, 'p', 63);
	prefix_name[63] = '\0';
	snprintf(plus_name, sizeof(plus_name), "%sxy", prefix_name);
	harness_tmpdir(dir, sizeof(dir));
	memset(&d, 0, sizeof(d));
}

static void teardown(void)
{
	if (d.pid > 0)
		(void)harness_daemon_stop(&d);
	harness_rmtree(dir);
}

static void start(void)
{
	ck_assert_msg(harness_daemon_start(&d, dir, NULL, false), "pam_policyd did not start");
}

/*
 * As uid (its group the same number), ask for the status of own (which
 * must succeed and be found) and, when other is not NULL, of other (which
 * must be refused). Connects by a relative path from inside the socket's
 * 0755 directory: the private test directories above stay 0700.
 */
static int child_status(uid_t uid, const char *own, const char *other)
{
	char rundir[4200];
	struct request_status_result st;
	pp_err rc;

	snprintf(rundir, sizeof(rundir), "%s/run", dir);
	if (chdir(rundir) != 0)
		return CHILD_CHDIR;
	if (setgroups(0, NULL) != 0 || setgid((gid_t)uid) != 0 || setuid(uid) != 0 ||
	    geteuid() != uid)
		return CHILD_SETUID;
	rc = request_status("pd.sock", 5000, own, 90, 14, &st);
	if (rc != PP_OK)
		return CHILD_OWN_STATUS_FAILED;
	if (!st.found)
		return CHILD_OWN_NOT_FOUND;
	if (other != NULL &&
	    request_status("pd.sock", 5000, other, 90, 14, &st) != PP_ERR_DENIED)
		return CHILD_OTHER_NOT_DENIED;
	return CHILD_OK;
}

static void run_as(uid_t uid, const char *own, const char *other)
{
	pid_t pid;
	int status;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(child_status(uid, own, other));
	while (waitpid(pid, &status, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	ck_assert(WIFEXITED(status));
	ck_assert_msg(WEXITSTATUS(status) == CHILD_OK, "child as uid %u failed at step %d",
		      (unsigned)uid, WEXITSTATUS(status));
}

/* (a) The 65-byte user may not read the status of its 63-byte prefix. */
START_TEST(test_prefix_name_is_not_own_account)
{
	struct request_status_result st;

	if (!harness_is_root())
		HARNESS_SKIP("needs root");
	start();
	/* The store knows the 63-byte user, so there is a status to leak. */
	ck_assert_int_eq(request_status(d.socket, 5000, prefix_name, 90, 14, &st), PP_OK);
	ck_assert(st.found);
	run_as(PLUS_UID, plus_name, prefix_name);
}
END_TEST

/* (b) A 70-byte name is the peer's own account: its status is readable. */
START_TEST(test_long_name_reads_own_status)
{
	if (!harness_is_root())
		HARNESS_SKIP("needs root");
	start();
	run_as(LONG_UID, long_name, prefix_name);
}
END_TEST

/* (c) The 63-byte user reads its own status, not the 65-byte one's. */
START_TEST(test_prefix_user_reads_own_status)
{
	if (!harness_is_root())
		HARNESS_SKIP("needs root");
	start();
	run_as(PREFIX_UID, prefix_name, plus_name);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("authz");
	TCase *tc = tcase_create("status by uid");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_prefix_name_is_not_own_account);
	tcase_add_test(tc, test_long_name_reads_own_status);
	tcase_add_test(tc, test_prefix_user_reads_own_status);
	suite_add_tcase(s, tc);
	return s;
}
