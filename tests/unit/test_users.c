/*
 * test_users.c - unit tests for lib/users.c: NSS lookup, policy coverage
 * and the shadow last-change field. The users come from nss_wrapper (see
 * tests/run-tests.sh): alice 1001, bob 1002 (in pampolicy-audit), carol
 * 1003, dave 1004 (in pwexempt), svc 500, nobody 65534, root 0.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "policy.h"
#include "users.h"

static char dir[PATH_MAX - 64];
static char passwd_path[PATH_MAX];
static char shadow_path[PATH_MAX];

static void setup(void)
{
	harness_tmpdir(dir, sizeof(dir));
	snprintf(passwd_path, sizeof(passwd_path), "%s/passwd", dir);
	snprintf(shadow_path, sizeof(shadow_path), "%s/shadow", dir);
}

static void teardown(void)
{
	harness_rmtree(dir);
}

static struct users_info lookup(const char *name)
{
	struct users_info u;
	pp_err rc = users_lookup(name, &u);

	ck_assert_msg(rc == PP_OK, "users_lookup(%s) = %s; is run-tests.sh's "
		      "nss_wrapper active?", name, pp_strerror(rc));
	return u;
}

static enum users_coverage coverage_of(const struct policy *p, const char *name)
{
	struct users_info u = lookup(name);

	return users_coverage(p, &u, passwd_path);
}

static void assert_coverage(const struct policy *p, const char *name,
			    enum users_coverage want)
{
	enum users_coverage got = coverage_of(p, name);

	ck_assert_msg(got == want, "%s: expected \"%s\", got \"%s\"", name,
		      users_coverage_text(want), users_coverage_text(got));
}

/* ---- lookup ---- */

START_TEST(test_lookup_alice)
{
	struct users_info u = lookup("alice");

	ck_assert_str_eq(u.name, "alice");
	ck_assert_uint_eq(u.uid, 1001);
	ck_assert_uint_eq(u.gid, 1001);
	ck_assert_str_eq(u.gecos, "Alice Wonderland,,,");

	u = lookup("svc");
	ck_assert_uint_eq(u.uid, 500);
	u = lookup("root");
	ck_assert_uint_eq(u.uid, 0);
}
END_TEST

START_TEST(test_lookup_unknown_user)
{
	struct users_info u;

	memset(&u, 'Z', sizeof(u));
	ck_assert_int_eq(users_lookup("nosuchuser", &u), PP_ERR_NOT_FOUND);
	ck_assert_str_eq(u.name, "");
	/* Case matters: "Alice" is not alice. */
	ck_assert_int_eq(users_lookup("Alice", &u), PP_ERR_NOT_FOUND);
}
END_TEST

START_TEST(test_lookup_invalid_names)
{
	struct users_info u;
	char name[POLICY_MAX_NAME + 8];

	ck_assert_int_eq(users_lookup("", &u), PP_ERR_INVALID);
	ck_assert_int_eq(users_lookup(NULL, &u), PP_ERR_INVALID);
	/* POLICY_MAX_NAME includes the NUL: 31 bytes is the longest name. */
	memset(name, 'a', sizeof(name));
	name[POLICY_MAX_NAME] = '\0';
	ck_assert_int_eq(users_lookup(name, &u), PP_ERR_INVALID);
	name[sizeof(name) - 1] = '\0';
	ck_assert_int_eq(users_lookup(name, &u), PP_ERR_INVALID);
	name[POLICY_MAX_NAME - 1] = '\0';
	ck_assert_int_eq(users_lookup(name, &u), PP_ERR_NOT_FOUND);
}
END_TEST

/* ---- coverage ---- */

START_TEST(test_coverage_defaults)
{
	struct policy p;

	policy_defaults(&p);
	ck_assert_int_eq(p.min_uid, 1000);
	assert_coverage(&p, "alice", USERS_COVERED);
	assert_coverage(&p, "dave", USERS_COVERED);
	assert_coverage(&p, "root", USERS_COVERED);
	assert_coverage(&p, "svc", USERS_SYSTEM_ACCOUNT);
	ck_assert_int_eq(users_coverage(&p, NULL, passwd_path), USERS_UNKNOWN);

	/* root is covered whatever min_uid says; the threshold is inclusive. */
	p.min_uid = 1002;
	assert_coverage(&p, "root", USERS_COVERED);
	assert_coverage(&p, "alice", USERS_SYSTEM_ACCOUNT);
	assert_coverage(&p, "bob", USERS_COVERED);
	p.min_uid = 0;
	assert_coverage(&p, "svc", USERS_COVERED);
	p.min_uid = 501;
	assert_coverage(&p, "svc", USERS_SYSTEM_ACCOUNT);
	p.min_uid = 500;
	assert_coverage(&p, "svc", USERS_COVERED);
}
END_TEST

START_TEST(test_coverage_exempt_users)
{
	struct policy p;

	policy_defaults(&p);
	snprintf(p.exempt_users, sizeof(p.exempt_users), "carol, bob ,root");
	assert_coverage(&p, "carol", USERS_EXEMPT_USER);
	assert_coverage(&p, "bob", USERS_EXEMPT_USER);
	assert_coverage(&p, "root", USERS_EXEMPT_USER);
	assert_coverage(&p, "alice", USERS_COVERED);

	/* Whole names only. */
	snprintf(p.exempt_users, sizeof(p.exempt_users), "caro,carol2,ali");
	assert_coverage(&p, "carol", USERS_COVERED);
	assert_coverage(&p, "alice", USERS_COVERED);
}
END_TEST

START_TEST(test_coverage_exempt_groups_supplementary)
{
	struct policy p;
	struct users_info u;

	policy_defaults(&p);
	snprintf(p.exempt_groups, sizeof(p.exempt_groups), "pwexempt");
	assert_coverage(&p, "dave", USERS_EXEMPT_GROUP);
	assert_coverage(&p, "alice", USERS_COVERED);
	assert_coverage(&p, "bob", USERS_COVERED);
	assert_coverage(&p, "carol", USERS_COVERED);

	snprintf(p.exempt_groups, sizeof(p.exempt_groups), "wheel , pampolicy-audit");
	assert_coverage(&p, "bob", USERS_EXEMPT_GROUP);
	assert_coverage(&p, "dave", USERS_COVERED);

	u = lookup("dave");
	ck_assert(users_in_group_list(&u, "pwexempt"));
	ck_assert(!users_in_group_list(&u, "pwexemp"));
	ck_assert(!users_in_group_list(&u, ""));
	ck_assert(!users_in_group_list(&u, NULL));
}
END_TEST

START_TEST(test_coverage_exempt_groups_primary)
{
	struct policy p;
	struct users_info ghost;

	policy_defaults(&p);
	/* alice's primary group "alice" lists no members. */
	snprintf(p.exempt_groups, sizeof(p.exempt_groups), "alice");
	assert_coverage(&p, "alice", USERS_EXEMPT_GROUP);
	assert_coverage(&p, "bob", USERS_COVERED);

	/* Only the primary gid ties this user to pwexempt. */
	memset(&ghost, 0, sizeof(ghost));
	snprintf(ghost.name, sizeof(ghost.name), "ghost");
	ghost.uid = 4000;
	ghost.gid = 2000;                        /* pwexempt */
	snprintf(p.exempt_groups, sizeof(p.exempt_groups), "pwexempt");
	ck_assert_int_eq(users_coverage(&p, &ghost, passwd_path), USERS_EXEMPT_GROUP);
	ghost.gid = 2001;                        /* pampolicy-audit */
	ck_assert_int_eq(users_coverage(&p, &ghost, passwd_path), USERS_COVERED);
}
END_TEST

START_TEST(test_coverage_local_users_only)
{
	struct policy p;

	harness_write(passwd_path,
		      "root:x:0:0:root:/root:/bin/sh\n"
		      "alice:x:1001:1001:Alice Wonderland,,,:/home/alice:/bin/sh\n"
		      "bobby:x:1005:1005::/home/bobby:/bin/sh\n"
		      "#bob:x:1002:1002::/home/bob:/bin/sh\n"
		      " bob:x:1002:1002::/home/bob:/bin/sh\n");
	policy_defaults(&p);
	assert_coverage(&p, "bob", USERS_COVERED);      /* option off */
	p.local_users_only = true;
	assert_coverage(&p, "alice", USERS_COVERED);
	assert_coverage(&p, "root", USERS_COVERED);
	assert_coverage(&p, "bob", USERS_NOT_LOCAL);
	assert_coverage(&p, "carol", USERS_NOT_LOCAL);

	ck_assert(users_is_local("alice", passwd_path));
	ck_assert(!users_is_local("ali", passwd_path));
	ck_assert(!users_is_local("bob", passwd_path));
	ck_assert(users_is_local("bobby", passwd_path));

	/* An unreadable passwd file makes nobody local. */
	snprintf(passwd_path, sizeof(passwd_path), "%s/missing", dir);
	assert_coverage(&p, "alice", USERS_NOT_LOCAL);
	ck_assert(!users_is_local("alice", passwd_path));
}
END_TEST

START_TEST(test_is_local_long_line)
{
	/*
	 * A line longer than the reader's buffer (a long GECOS, which users
	 * can set with chfn) must not let its tail be read as the start of
	 * another entry.
	 */
	const char *head = "zed:x:1010:1010:";
	const char *tail = "bob:x:1:1::/:/bin/sh\n";
	size_t pad = 4095 - strlen(head);
	size_t len = strlen(head) + pad + strlen(tail) + 64;
	char *text = malloc(len);

	ck_assert_ptr_nonnull(text);
	snprintf(text, len, "%s", head);
	memset(text + strlen(head), 'G', pad);
	snprintf(text + strlen(head) + pad, len - strlen(head) - pad, "%s", tail);
	harness_write(passwd_path, text);
	free(text);
	ck_assert_msg(!users_is_local("bob", passwd_path),
		      "the tail of a long line was taken for bob's entry");
}
END_TEST

START_TEST(test_coverage_text)
{
	ck_assert_str_eq(users_coverage_text(USERS_COVERED), "covered");
	ck_assert_str_eq(users_coverage_text(USERS_EXEMPT_USER), "exempt user");
	ck_assert_str_eq(users_coverage_text(USERS_EXEMPT_GROUP), "member of an exempt group");
	ck_assert_str_eq(users_coverage_text(USERS_SYSTEM_ACCOUNT),
			 "system account below min_uid");
	ck_assert_str_eq(users_coverage_text(USERS_NOT_LOCAL), "not a local user");
	ck_assert_str_eq(users_coverage_text(USERS_UNKNOWN), "unknown user");
}
END_TEST

/* ---- shadow ---- */

static const char shadow_text[] =
	"root:*:19100:0:99999:7:::\n"
	"alicex:$y$j9T$other$hash:12345:0:99999:7:::\n"
	"alice:$y$j9T$saltsaltsalt$hashhashhashhash:19000:0:99999:7:::\n"
	"bob:!:0:0:99999:7:::\n"
	"carol:*::0:99999:7:::\n";

START_TEST(test_shadow_last_change)
{
	long days = -7;

	harness_write(shadow_path, shadow_text);
	ck_assert_int_eq(users_shadow_last_change(shadow_path, "alice", &days), PP_OK);
	ck_assert_int_eq(days, 19000);
	days = -7;
	ck_assert_int_eq(users_shadow_last_change(shadow_path, "bob", &days), PP_OK);
	ck_assert_int_eq(days, 0);
	ck_assert_int_eq(users_shadow_last_change(shadow_path, "root", &days), PP_OK);
	ck_assert_int_eq(days, 19100);
	ck_assert_int_eq(users_shadow_last_change(shadow_path, "alicex", &days), PP_OK);
	ck_assert_int_eq(days, 12345);
}
END_TEST

START_TEST(test_shadow_not_found)
{
	long days = -7;

	harness_write(shadow_path, shadow_text);
	/* Empty field: no change known. */
	ck_assert_int_eq(users_shadow_last_change(shadow_path, "carol", &days),
			 PP_ERR_NOT_FOUND);
	ck_assert_int_eq(users_shadow_last_change(shadow_path, "dave", &days),
			 PP_ERR_NOT_FOUND);
	ck_assert_int_eq(users_shadow_last_change(shadow_path, "ali", &days),
			 PP_ERR_NOT_FOUND);
	ck_assert_int_eq(days, -7);
	harness_write(shadow_path, "");
	ck_assert_int_eq(users_shadow_last_change(shadow_path, "alice", &days),
			 PP_ERR_NOT_FOUND);
}
END_TEST

START_TEST(test_shadow_skips_bad_lines)
{
	long days = 0;

	harness_write(shadow_path,
		      "# comment\n"
		      "\n"
		      "this is not a shadow line\n"
		      "alice:$y$hash:19000:0:99999:7:::\n");
	ck_assert_int_eq(users_shadow_last_change(shadow_path, "alice", &days), PP_OK);
	ck_assert_int_eq(days, 19000);
}
END_TEST

START_TEST(test_shadow_missing_file)
{
	long days = 0;
	char missing[PATH_MAX + 16];

	snprintf(missing, sizeof(missing), "%s/no-such-shadow", dir);
	ck_assert_int_eq(users_shadow_last_change(missing, "alice", &days), PP_ERR_IO);
}
END_TEST

static Suite *users_suite(void)
{
	Suite *s = suite_create("users");
	TCase *tc;

	tc = tcase_create("lookup");
	tcase_add_test(tc, test_lookup_alice);
	tcase_add_test(tc, test_lookup_unknown_user);
	tcase_add_test(tc, test_lookup_invalid_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("coverage");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_coverage_defaults);
	tcase_add_test(tc, test_coverage_exempt_users);
	tcase_add_test(tc, test_coverage_exempt_groups_supplementary);
	tcase_add_test(tc, test_coverage_exempt_groups_primary);
	tcase_add_test(tc, test_coverage_local_users_only);
	tcase_add_test(tc, test_is_local_long_line);
	tcase_add_test(tc, test_coverage_text);
	suite_add_tcase(s, tc);

	tc = tcase_create("shadow");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_shadow_last_change);
	tcase_add_test(tc, test_shadow_not_found);
	tcase_add_test(tc, test_shadow_skips_bad_lines);
	tcase_add_test(tc, test_shadow_missing_file);
	suite_add_tcase(s, tc);
	return s;
}

Suite *test_suite(void)
{
	return users_suite();
}
