/*
 * test_nfc.c - one canonical form for every comparison (issue 11, item 1):
 * a password typed precomposed ("é", U+00E9) or decomposed ("e" + U+0301)
 * gets the same verdict - length, classes, names - and is the same entry
 * of the history, through the real libpam stack and a real pam_policyd;
 * the writer still receives the password exactly as typed; and the byte
 * limit is libxcrypt's 511.
 *
 * Every PAM test starts its own daemon (harness_daemon_start) in a fresh
 * directory and writes a "passwd" service there:
 *
 *   password requisite pam_policy.so config=<daemon.conf> retry=1
 *   password required  tests/pam_test_writer.so file=<dir>/written
 *   password optional  pam_policy.so config=<daemon.conf> record
 *
 * Users come from nss_wrapper (tests/run-tests.sh): alice 1001, GECOS
 * "Alice Wonderland,,,".
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "policy.h"
#include "request.h"
#include "rules.h"

#define TIMEOUT_MS 10000

/* "Zk9!Café#wQ" in both forms: 11 characters, 12 or 13 bytes. */
#define CAFE_NFC "Zk9!Caf\xc3\xa9#wQ"
#define CAFE_NFD "Zk9!Cafe\xcc\x81#wQ"
/* "Éq7#Zv2!ém": 10 characters composed, 12 code points decomposed;
 * upper and lower only from the accented letters' base forms. */
#define TEN_NFC "\xc3\x89q7#zv2!\xc3\xa9m"
#define TEN_NFD "E\xcc\x81q7#zv2!e\xcc\x81m"
/* Nine characters composed ("Zk9!rTé#w"), ten code points decomposed. */
#define NINE_NFC "Zk9!rT\xc3\xa9#w"
#define NINE_NFD "Zk9!rTe\xcc\x81#w"

static char dir[4096];
static char written[4200];
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
	snprintf(written, sizeof(written), "%s/written", dir);
}

static void teardown(void)
{
	kill_leftover_daemon();
	harness_rmtree(dir);
}

static void start(void)
{
	struct harness_stack spec = {
		.config = daemon_state.config, .check_args = "retry=1",
		.writer_file = written, .record = true,
	};

	ck_assert_msg(harness_daemon_start(&daemon_state, dir,
					   "history = 5\nmin_age_days = 0\n", false),
		      "pam_policyd did not start");
	spec.config = daemon_state.config;
	harness_stack_write(dir, "passwd", &spec);
}

static int change(const char *user, const char *password, struct harness_conv *c)
{
	const char *answers[] = { password, password, NULL };

	harness_conv_init(c, answers);
	return harness_pam_chauthtok(dir, "passwd", user, 0, c);
}

/* The writer's file ends with user:password:passwd - the bytes as typed. */
static void assert_stored_last(const char *user, const char *password)
{
	char expect[2048], *s = harness_read(written);
	size_t sl, el;

	ck_assert_ptr_nonnull(s);
	snprintf(expect, sizeof(expect), "%s:%s:passwd\n", user, password);
	sl = strlen(s);
	el = strlen(expect);
	ck_assert_msg(sl >= el && strcmp(s + sl - el, expect) == 0,
		      "writer file does not end with the password as typed");
	free(s);
}

/* ---- the rules (lib/rules.c) on both forms ---- */

static void verdict(const char *password, const struct rules_context *ctx,
		    struct rules_result *res, char *codes, size_t len)
{
	struct policy p;

	policy_defaults(&p);
	ck_assert_int_eq(rules_check(&p, password, ctx, res), PP_OK);
	rules_format_codes(res, codes, len);
}

/* Same verdict, same length, same classes for the two forms. */
static void assert_same_verdict(const char *nfc, const char *nfd,
				const struct rules_context *ctx)
{
	struct rules_result a, b;
	char ca[512], cb[512];

	ck_assert(strcmp(nfc, nfd) != 0);
	verdict(nfc, ctx, &a, ca, sizeof(ca));
	verdict(nfd, ctx, &b, cb, sizeof(cb));
	ck_assert_msg(strcmp(ca, cb) == 0, "composed \"%s\", decomposed \"%s\"", ca, cb);
	ck_assert_int_eq(a.length, b.length);
	ck_assert_int_eq(a.classes_found, b.classes_found);
	ck_assert_uint_eq(a.count, b.count);
}

START_TEST(test_rules_same_verdict_both_forms)
{
	struct rules_result res;
	char codes[512];

	/* Passes in both forms: 11 characters, four classes. */
	assert_same_verdict(CAFE_NFC, CAFE_NFD, NULL);
	verdict(CAFE_NFD, NULL, &res, codes, sizeof(codes));
	ck_assert_msg(res.count == 0, "decomposed refused: %s", codes);
	ck_assert_int_eq(res.length, 11);

	/* Nine characters: too short in both forms (decomposed it used to
	 * count ten code points and pass). */
	assert_same_verdict(NINE_NFC, NINE_NFD, NULL);
	verdict(NINE_NFD, NULL, &res, codes, sizeof(codes));
	ck_assert(res.failed[RULE_TOO_SHORT]);
	ck_assert_int_eq(res.length, 9);

	/* The classes of "É" and "é" come from the composed letter; the
	 * combining mark is never a "special character". */
	assert_same_verdict(TEN_NFC, TEN_NFD, NULL);
	verdict(TEN_NFD, NULL, &res, codes, sizeof(codes));
	ck_assert_int_eq(res.length, 10);
	ck_assert_int_eq(res.classes_found, 4);
	verdict("Zk9qrTe\xcc\x81wQm", NULL, &res, codes, sizeof(codes));
	ck_assert_msg(res.failed[RULE_MISSING_SPECIAL], "the mark counted as special: %s",
		      codes);
}
END_TEST

START_TEST(test_rules_names_compared_in_nfc)
{
	/* A user name typed one way, the password the other: still found. */
	struct rules_context composed = { .user = "jos\xc3\xa9" };
	struct rules_context decomposed = { .user = "jose\xcc\x81" };
	struct rules_context gecos = { .user = "alice", .gecos = "Rene\xcc\x81 Dupont,,," };
	struct rules_result res;
	char codes[512];

	verdict("Zk9!JOSE\xcc\x81#wQ", &composed, &res, codes, sizeof(codes));
	ck_assert_msg(res.failed[RULE_CONTAINS_USER], "got \"%s\"", codes);
	verdict("Zk9!Jos\xc3\xa9#wQ", &decomposed, &res, codes, sizeof(codes));
	ck_assert_msg(res.failed[RULE_CONTAINS_USER], "got \"%s\"", codes);
	assert_same_verdict("Zk9!Ren\xc3\xa9#wQ", "Zk9!Rene\xcc\x81#wQ", &gecos);
	verdict("Zk9!Ren\xc3\xa9#wQ", &gecos, &res, codes, sizeof(codes));
	ck_assert_msg(res.failed[RULE_CONTAINS_GECOS], "got \"%s\"", codes);
}
END_TEST

START_TEST(test_rules_limit_counts_the_nfc_form_too)
{
	/* U+1D160 (4 bytes) is 12 bytes once normalised: 100 of them fit as
	 * typed (400 bytes) but not as the daemon would hash them (1200). */
	char pw[512];
	struct rules_result res;
	char codes[512];
	size_t n = 0;

	memcpy(pw, "Zk9!rT4#wQ", 10);
	n = 10;
	for (int i = 0; i < 100; i++, n += 4)
		memcpy(pw + n, "\xf0\x9d\x85\xa0", 4);
	pw[n] = '\0';
	ck_assert_uint_le(strlen(pw), RULES_MAX_BYTES);
	verdict(pw, NULL, &res, codes, sizeof(codes));
	ck_assert_msg(res.count == 1 && res.failed[RULE_TOO_LONG], "got \"%s\"", codes);
	ck_assert(rules_hard_limit(&res));
}
END_TEST

/* ---- through the PAM stack and the daemon ---- */

START_TEST(test_pam_decomposed_nine_is_too_short)
{
	struct harness_conv c;

	start();
	ck_assert_int_eq(change("alice", NINE_NFD, &c), PAM_AUTHTOK_ERR);
	ck_assert_msg(strstr(c.log, "(it has 9)") != NULL, "log: %s", c.log);
	ck_assert_int_eq(change("alice", TEN_NFD, &c), PAM_SUCCESS);
	ck_assert_int_eq(c.errors, 0);
	/* The writer got the bytes as typed, not the NFC form. */
	assert_stored_last("alice", TEN_NFD);
}
END_TEST

START_TEST(test_pam_reuse_across_forms)
{
	struct harness_conv c;
	struct request_check_result r;

	start();
	/* Changed to "é" composed ... */
	ck_assert_int_eq(change("alice", CAFE_NFC, &c), PAM_SUCCESS);
	ck_assert_int_eq(c.errors, 0);
	assert_stored_last("alice", CAFE_NFC);
	/* ... the decomposed form is the same password: reused. */
	ck_assert_int_eq(change("alice", CAFE_NFD, &c), PAM_AUTHTOK_ERR);
	ck_assert_msg(strstr(c.log, "used before") != NULL, "log: %s", c.log);
	assert_stored_last("alice", CAFE_NFC);
	/* The daemon holds the NFC form's hash (what the module sends). */
	ck_assert_int_eq(request_check(daemon_state.socket, TIMEOUT_MS, "alice", CAFE_NFC,
				       0, 5, 0, &r), PP_OK);
	ck_assert(r.reused);
	ck_assert_int_eq(request_check(daemon_state.socket, TIMEOUT_MS, "alice", CAFE_NFD,
				       0, 5, 0, &r), PP_OK);
	ck_assert(!r.reused);

	/* The other way round: recorded decomposed, refused composed. */
	ck_assert_int_eq(change("alice", TEN_NFD, &c), PAM_SUCCESS);
	assert_stored_last("alice", TEN_NFD);
	ck_assert_int_eq(change("alice", TEN_NFC, &c), PAM_AUTHTOK_ERR);
	ck_assert_msg(strstr(c.log, "used before") != NULL, "log: %s", c.log);
}
END_TEST

START_TEST(test_pam_511_bytes_accepted_512_refused)
{
	struct harness_conv c;
	char pw[513];
	const char *good = "Zk9!rT4#wQ";

	start();
	for (size_t i = 0; i < 512; i++)
		pw[i] = good[i % 10];
	pw[512] = '\0';
	ck_assert_int_eq(change("alice", pw, &c), PAM_AUTHTOK_ERR);
	ck_assert_msg(strstr(c.log, "at most 511 characters") != NULL, "log: %s", c.log);
	pw[511] = '\0';
	ck_assert_int_eq(change("alice", pw, &c), PAM_SUCCESS);
	ck_assert_int_eq(c.errors, 0);
	assert_stored_last("alice", pw);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("nfc");
	TCase *rules = tcase_create("rules");
	TCase *pam = tcase_create("pam");

	tcase_add_test(rules, test_rules_same_verdict_both_forms);
	tcase_add_test(rules, test_rules_names_compared_in_nfc);
	tcase_add_test(rules, test_rules_limit_counts_the_nfc_form_too);
	suite_add_tcase(s, rules);

	tcase_add_checked_fixture(pam, setup, teardown);
	tcase_set_timeout(pam, 60);
	tcase_add_test(pam, test_pam_decomposed_nine_is_too_short);
	tcase_add_test(pam, test_pam_reuse_across_forms);
	tcase_add_test(pam, test_pam_511_bytes_accepted_512_refused);
	suite_add_tcase(s, pam);
	return s;
}
