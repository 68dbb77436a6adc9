/*
 * test_pam.c - the module's password phase through the real libpam.
 *
 * Each test writes a service file into a private directory and runs
 * pam_chauthtok() through pam_start_confdir(), with pam_policy.so as the
 * check line and tests/pam_test_writer.so as the writer below it. Users
 * come from nss_wrapper (see run-tests.sh).
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "users.h"

static char dir[4096];
static char written[4200];

static void setup(void)
{
	harness_tmpdir(dir, sizeof(dir));
	snprintf(written, sizeof(written), "%s/written", dir);
}

static void teardown(void)
{
	harness_rmtree(dir);
}

/*
 * A "passwd" service: an optional writer line before the check (with the
 * arguments writer_before: "prompt", "old"), the check line with args,
 * the writer. The config file is a private one, so the host's
 * /etc/security is never read; it turns history and minimum age off, as
 * these tests are about the module alone (test_daemon.c adds the daemon).
 */
static void stack(const char *writer_before, const char *args)
{
	char conf[4300];
	struct harness_stack spec = {
		.config = conf, .writer_before = writer_before, .check_args = args,
		.writer_file = written,
	};

	snprintf(conf, sizeof(conf), "%s/pam_policy.conf", dir);
	if (access(conf, F_OK) != 0)
		harness_write(conf, "history = 0\nmin_age_days = 0\n");
	harness_stack_write(dir, "passwd", &spec);
}

static void config(const char *text)
{
	char conf[4300], full[8192];
	snprintf(conf, sizeof(conf), "%s/pam_policy.conf", dir);
	snprintf(full, sizeof(full), "history = 0\nmin_age_days = 0\n%s", text);
	harness_write(conf, full);
}

static int change(const char *user, int flags, struct harness_conv *c,
		  const char *const *answers)
{
	harness_conv_init(c, answers);
	return harness_pam_chauthtok(dir, "passwd", user, flags, c);
}

/* What the writer stored: "" when nothing was written. */
static char *stored(void)
{
	char *s = harness_read(written);
	return s ? s : strdup("");
}

START_TEST(test_nine_characters_rejected_ten_accepted)
{
	struct harness_conv c;
	const char *nine[] = { "Kq7!Vw3#m", NULL };
	const char *ten[] = { "Kq7!Vw3#mz", "Kq7!Vw3#mz", NULL };
	char *s;

	stack(NULL, "retry=1");
	ck_assert_int_eq(change("alice", 0, &c, nine), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "too short"));
	ck_assert_ptr_nonnull(strstr(c.log, "(it has 9)"));
	s = stored();
	ck_assert_str_eq(s, "");
	free(s);

	ck_assert_int_eq(change("alice", 0, &c, ten), PAM_SUCCESS);
	ck_assert_int_eq(c.errors, 0);
	s = stored();
	ck_assert_str_eq(s, "alice:Kq7!Vw3#mz:passwd\n");
	free(s);
}
END_TEST

START_TEST(test_multibyte_characters_count_once)
{
	struct harness_conv c;
	/* 9 code points, 14 bytes: too short although over 10 bytes. */
	const char *nine[] = { "Ünïcödé1!", NULL };
	/*
	 * 10 code points, 14 bytes, no word inside ("Ünïcödé1!X" is now
	 * refused as guessable: "unicode" with two characters added).
	 */
	const char *ten[] = { "Qüvöxé7!Kä", "Qüvöxé7!Kä", NULL };

	stack(NULL, "retry=1");
	ck_assert_int_eq(change("alice", 0, &c, nine), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "(it has 9)"));
	ck_assert_int_eq(change("alice", 0, &c, ten), PAM_SUCCESS);
}
END_TEST

START_TEST(test_every_reason_in_one_message)
{
	struct harness_conv c;
	const char *weak[] = { "aaaa", NULL };

	stack(NULL, "retry=1");
	ck_assert_int_eq(change("alice", 0, &c, weak), PAM_AUTHTOK_ERR);
	/* One error message (and no retype prompt) carrying every reason. */
	ck_assert_int_eq(c.errors, 1);
	ck_assert_int_eq(c.prompts, 1);
	ck_assert_ptr_nonnull(strstr(c.log, "E: The password was not accepted:"));
	ck_assert_ptr_nonnull(strstr(c.log, "too short"));
	ck_assert_ptr_nonnull(strstr(c.log, "uppercase"));
	ck_assert_ptr_nonnull(strstr(c.log, "digit"));
	ck_assert_ptr_nonnull(strstr(c.log, "special"));
	ck_assert_ptr_nonnull(strstr(c.log, "repeat"));
	ck_assert_ptr_null(strstr(c.log, "aaaa"));
}
END_TEST

START_TEST(test_retry_then_accept)
{
	struct harness_conv c;
	const char *answers[] = { "short", "Correct-Horse-7", "Correct-Horse-7", NULL };
	char *s;

	stack(NULL, "retry=3");
	ck_assert_int_eq(change("bob", 0, &c, answers), PAM_SUCCESS);
	ck_assert_int_eq(c.errors, 1);
	ck_assert_int_eq(c.prompts, 3);
	s = stored();
	ck_assert_str_eq(s, "bob:Correct-Horse-7:passwd\n");
	free(s);
}
END_TEST

START_TEST(test_retry_exhausted)
{
	struct harness_conv c;
	const char *answers[] = { "short", "alsoshort", "Correct-Horse-7", NULL };

	stack(NULL, "retry=2");
	ck_assert_int_eq(change("bob", 0, &c, answers), PAM_AUTHTOK_ERR);
	ck_assert_int_eq(c.prompts, 2);
	ck_assert_ptr_nonnull(strstr(c.log, "too many unsuccessful attempts"));
}
END_TEST

START_TEST(test_retype_mismatch)
{
	struct harness_conv c;
	const char *answers[] = { "Correct-Horse-7", "Correct-Horse-8", NULL };

	stack(NULL, "retry=1");
	ck_assert_int_eq(change("bob", 0, &c, answers), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "do not match"));
}
END_TEST

START_TEST(test_use_authtok)
{
	struct harness_conv c;
	const char *weak[] = { "weak", NULL };
	const char *good[] = { "Correct-Horse-7", NULL };
	char *s;

	stack("prompt", "use_authtok retry=3");
	/* The password comes from the earlier module: no prompt of our own. */
	ck_assert_int_eq(change("alice", 0, &c, weak), PAM_AUTHTOK_ERR);
	ck_assert_int_eq(c.prompts, 1);
	ck_assert_ptr_nonnull(strstr(c.log, "P: Writer password:"));
	ck_assert_ptr_nonnull(strstr(c.log, "too short"));
	ck_assert_int_eq(change("alice", 0, &c, good), PAM_SUCCESS);
	ck_assert_int_eq(c.prompts, 1);
	s = stored();
	ck_assert_str_eq(s, "alice:Correct-Horse-7:passwd\n");
	free(s);
}
END_TEST

START_TEST(test_use_authtok_without_token_fails)
{
	struct harness_conv c;
	const char *none[] = { NULL };

	stack(NULL, "use_authtok");
	ck_assert_int_eq(change("alice", 0, &c, none), PAM_AUTHTOK_ERR);
}
END_TEST

START_TEST(test_silent_shows_nothing)
{
	struct harness_conv c;
	const char *weak[] = { "weak", NULL };

	stack(NULL, "retry=1");
	ck_assert_int_eq(change("alice", PAM_SILENT, &c, weak), PAM_AUTHTOK_ERR);
	ck_assert_int_eq(c.errors, 0);
	ck_assert_int_eq(c.infos, 0);
	ck_assert_int_eq(c.prompts, 1);
}
END_TEST

START_TEST(test_bad_config_fails_closed)
{
	struct harness_conv c;
	const char *good[] = { "Correct-Horse-7", "Correct-Horse-7", NULL };
	char *s;

	config("minlen = 12\nminlen = ten\n");
	stack(NULL, NULL);
	ck_assert_int_eq(change("alice", 0, &c, good), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "misconfigured"));
	ck_assert_ptr_nonnull(strstr(c.log, "administrator"));
	ck_assert_int_eq(c.prompts, 0);
	s = stored();
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(test_bad_argument_fails_closed)
{
	struct harness_conv c;
	const char *good[] = { "Correct-Horse-7", "Correct-Horse-7", NULL };

	stack(NULL, "minlen=ten");
	ck_assert_int_eq(change("alice", 0, &c, good), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "misconfigured"));
}
END_TEST

START_TEST(test_missing_config_file_fails_closed)
{
	char conf[4300];
	struct harness_conv c;
	const char *good[] = { "Correct-Horse-7", "Correct-Horse-7", NULL };
	struct harness_stack spec = { .config = conf, .writer_file = written };

	snprintf(conf, sizeof(conf), "%s/nonexistent.conf", dir);
	harness_stack_write(dir, "passwd", &spec);
	ck_assert_int_eq(change("alice", 0, &c, good), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "misconfigured"));
}
END_TEST

START_TEST(test_argument_beats_file)
{
	struct harness_conv c;
	const char *eleven[] = { "Kq7!Vw3#mzp", "Kq7!Vw3#mzp", NULL };

	config("minlen = 14\n");
	stack(NULL, "retry=1");
	ck_assert_int_eq(change("alice", 0, &c, eleven), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "at least 14"));
	stack(NULL, "retry=1 minlen=11");
	ck_assert_int_eq(change("alice", 0, &c, eleven), PAM_SUCCESS);
}
END_TEST

START_TEST(test_root_account_is_bound)
{
	struct harness_conv c;
	const char *weak[] = { "rootroot", NULL };

	/* The root account is covered even though its uid is below min_uid. */
	stack(NULL, "retry=1");
	ck_assert_int_eq(change("root", 0, &c, weak), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "too short"));
}
END_TEST

START_TEST(test_root_caller_bound_by_default)
{
	struct harness_conv c;
	const char *weak[] = { "weak", NULL };

	if (!harness_is_root())
		HARNESS_SKIP("needs root (the caller's real uid must be 0)");
	stack(NULL, "retry=1");
	ck_assert_int_eq(change("alice", 0, &c, weak), PAM_AUTHTOK_ERR);
}
END_TEST

START_TEST(test_root_caller_warned_when_not_enforced)
{
	struct harness_conv c;
	const char *weak[] = { "weakpass", "weakpass", NULL };
	const char *weak_expired[] = { "weakpass", NULL };
	char *s;

	if (!harness_is_root())
		HARNESS_SKIP("needs root (the caller's real uid must be 0)");
	stack(NULL, "retry=1 enforce_for_root=no");
	ck_assert_int_eq(change("alice", 0, &c, weak), PAM_SUCCESS);
	ck_assert_ptr_nonnull(strstr(c.log, "I: The password was not accepted"));
	ck_assert_ptr_nonnull(strstr(c.log, "Accepted anyway"));
	s = stored();
	ck_assert_str_eq(s, "alice:weakpass:passwd\n");
	free(s);
	/* A forced change of an expired password is always enforced. */
	ck_assert_int_eq(change("alice", PAM_CHANGE_EXPIRED_AUTHTOK, &c, weak_expired),
			 PAM_AUTHTOK_ERR);
}
END_TEST

static void expect_ignored(const char *args, const char *user)
{
	struct harness_conv c;
	const char *weak[] = { "weak", "weak", NULL };
	char expect[128], *s;

	/*
	 * The module applies no rule to a user it does not cover, but still
	 * asks for the new password so that the writer below (pam_unix with
	 * use_authtok) gets one: the weak password goes through untouched.
	 */
	stack(NULL, args);
	ck_assert_int_eq(change(user, 0, &c, weak), PAM_SUCCESS);
	ck_assert_int_eq(c.prompts, 2);
	ck_assert_int_eq(c.errors, 0);
	snprintf(expect, sizeof(expect), "%s:weak:passwd\n", user);
	s = stored();
	ck_assert_str_eq(s, expect);
	free(s);
}

START_TEST(test_exempt_user_ignored)
{
	expect_ignored("exempt_users=bob,carol", "carol");
}
END_TEST

START_TEST(test_exempt_group_ignored)
{
	expect_ignored("exempt_groups=pwexempt", "dave");
}
END_TEST

START_TEST(test_system_account_ignored)
{
	expect_ignored(NULL, "svc");
}
END_TEST

START_TEST(test_non_local_user_ignored)
{
	/*
	 * alice exists only in the nss_wrapper passwd. local_users_only reads
	 * the real /etc/passwd (USERS_PASSWD_FILE, as pam_localuser does, and
	 * the module has no option to point it elsewhere): on a host that has
	 * an alice of its own this test cannot show anything.
	 */
	if (users_is_local("alice", USERS_PASSWD_FILE))
		HARNESS_SKIP("this host's " USERS_PASSWD_FILE " has a user alice");
	expect_ignored("local_users_only", "alice");
}
END_TEST

START_TEST(test_covered_user_prompted)
{
	struct harness_conv c;
	const char *none[] = { NULL };

	/* Contrast with the ignored cases: a covered user's weak password fails. */
	const char *weak[] = { "weak", NULL };
	stack(NULL, "exempt_users=carol retry=1");
	ck_assert_int_eq(change("bob", 0, &c, weak), PAM_AUTHTOK_ERR);
	ck_assert_int_eq(c.prompts, 1);
	ck_assert_ptr_nonnull(strstr(c.log, "too short"));
	(void)none;
}
END_TEST

START_TEST(test_over_long_and_invalid_input)
{
	struct harness_conv c;
	char long_pw[700];
	const char *too_long[] = { long_pw, NULL };
	const char *bad_utf8[] = { "Abcdefgh1!\xff\xfe", NULL };

	memset(long_pw, 'x', sizeof(long_pw) - 1);
	long_pw[sizeof(long_pw) - 1] = '\0';
	stack(NULL, "retry=1");
	ck_assert_int_eq(change("alice", 0, &c, too_long), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "too long"));
	ck_assert_int_eq(change("alice", 0, &c, bad_utf8), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "UTF-8"));
}
END_TEST

START_TEST(test_similar_to_old_password)
{
	struct harness_conv c;
	const char *same[] = { "Correct-Horse-7", "Correct-Horse-7", NULL };
	const char *similar[] = { "Correct-Horse-7", "Correct-Horse-8", NULL };

	stack("old", "retry=1");
	ck_assert_int_eq(change("alice", 0, &c, same), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "same as"));
	ck_assert_int_eq(change("alice", 0, &c, similar), PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "similar"));
}
END_TEST

static Suite *pam_suite(void)
{
	Suite *s = suite_create("pam password phase");
	TCase *tc = tcase_create("chauthtok");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_nine_characters_rejected_ten_accepted);
	tcase_add_test(tc, test_multibyte_characters_count_once);
	tcase_add_test(tc, test_every_reason_in_one_message);
	tcase_add_test(tc, test_retry_then_accept);
	tcase_add_test(tc, test_retry_exhausted);
	tcase_add_test(tc, test_retype_mismatch);
	tcase_add_test(tc, test_use_authtok);
	tcase_add_test(tc, test_use_authtok_without_token_fails);
	tcase_add_test(tc, test_silent_shows_nothing);
	tcase_add_test(tc, test_bad_config_fails_closed);
	tcase_add_test(tc, test_bad_argument_fails_closed);
	tcase_add_test(tc, test_missing_config_file_fails_closed);
	tcase_add_test(tc, test_argument_beats_file);
	tcase_add_test(tc, test_root_account_is_bound);
	tcase_add_test(tc, test_root_caller_bound_by_default);
	tcase_add_test(tc, test_root_caller_warned_when_not_enforced);
	tcase_add_test(tc, test_exempt_user_ignored);
	tcase_add_test(tc, test_exempt_group_ignored);
	tcase_add_test(tc, test_system_account_ignored);
	tcase_add_test(tc, test_non_local_user_ignored);
	tcase_add_test(tc, test_covered_user_prompted);
	tcase_add_test(tc, test_over_long_and_invalid_input);
	tcase_add_test(tc, test_similar_to_old_password);
	suite_add_tcase(s, tc);
	return s;
}

Suite *test_suite(void)
{
	return pam_suite();
}
