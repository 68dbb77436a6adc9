/*
 * test_rules.c - every password rule at its boundary, and the messages.
 *
 * Runs under tests/run-tests.sh: cracklib looks the running uid up with
 * getpwuid(), which nss_wrapper answers.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "rules.h"
#include "harness.h"

/* A password that passes every default rule (checked in test_passes). */
#define GOOD "Zk9!rT4#wQ"

static struct policy rules_test_policy;
static struct rules_result res;

/* The classic rules alone: guessable and too_weak (guess.h) would add
 * themselves to most of the deliberately weak passwords below; they have
 * their own tests in test_strength.c, and test_strength_reasons_too shows
 * them reported with these. */
static void setup(void)
{
	policy_defaults(&rules_test_policy);
	rules_test_policy.guesscheck = false;
	rules_test_policy.min_strength_bits = 0;
	memset(&res, 0, sizeof(res));
}

/* Runs the rules with ctx and asserts that they could run. */
static void check_ctx(const char *password, const struct rules_context *ctx)
{
	pp_err err = rules_check(&rules_test_policy, password, ctx, &res);
	ck_assert_int_eq(err, PP_OK);
}

static void check_pw(const char *password)
{
	check_ctx(password, NULL);
}

/* Asserts that exactly the one reason r failed. */
static void assert_only(enum rules_reason r)
{
	char codes[512];
	rules_format_codes(&res, codes, sizeof(codes));
	ck_assert_msg(res.count == 1 && res.failed[r],
		      "expected only %s, got \"%s\"", rules_reason_code(r),
		      codes);
}

static void assert_passes(void)
{
	char codes[512];
	rules_format_codes(&res, codes, sizeof(codes));
	ck_assert_msg(res.count == 0, "expected no violation, got \"%s\"",
		      codes);
}

START_TEST(test_passes)
{
	check_pw(GOOD);
	assert_passes();
	ck_assert_int_eq(res.length, 10);
	ck_assert_int_eq(res.classes_found, 4);
}
END_TEST

START_TEST(test_length_boundary)
{
	check_pw("Zk9!rT4#w");
	assert_only(RULE_TOO_SHORT);
	ck_assert_int_eq(res.length, 9);
	check_pw("Zk9!rT4#wQ");
	assert_passes();

	rules_test_policy.minlen = 12;
	check_pw("Zk9!rT4#wQx");
	assert_only(RULE_TOO_SHORT);
	check_pw("Zk9!rT4#wQxm");
	assert_passes();
}
END_TEST

START_TEST(test_length_counts_code_points)
{
	/* Z k 9 ! a-umlaut euro emoji r T: 9 code points in 15 bytes. */
	const char *nine = "Zk9!\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80rT";
	const char *ten = "Zk9!\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80rTq";
	char msg[256];

	ck_assert_uint_gt(strlen(nine), 10);
	check_pw(nine);
	ck_assert_int_eq(res.length, 9);
	ck_assert(res.failed[RULE_TOO_SHORT]);
	rules_reason_message(RULE_TOO_SHORT, &rules_test_policy, &res, msg,
			     sizeof(msg));
	ck_assert_str_eq(msg,
			 "It is too short: use at least 10 characters (it has 9).");

	check_pw(ten);
	ck_assert_int_eq(res.length, 10);
	ck_assert(!res.failed[RULE_TOO_SHORT]);

	/* "Ünïcödé", precomposed, is seven characters. */
	check_pw("\xc3\x9c" "n\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9");
	ck_assert_int_eq(res.length, 7);
	rules_reason_message(RULE_TOO_SHORT, &rules_test_policy, &res, msg,
			     sizeof(msg));
	ck_assert_str_eq(msg,
			 "It is too short: use at least 10 characters (it has 7).");
}
END_TEST

START_TEST(test_each_missing_class)
{
	rules_test_policy.dictcheck = false;
	check_pw("zk9!rt4#wq");
	assert_only(RULE_MISSING_UPPER);
	check_pw("ZK9!RT4#WQ");
	assert_only(RULE_MISSING_LOWER);
	check_pw("Zk!?rT#%wQ");
	assert_only(RULE_MISSING_DIGIT);
	check_pw("Zk92rT47wQ");
	assert_only(RULE_MISSING_SPECIAL);
	ck_assert_int_eq(res.classes_found, 3);
	/* A space is special. */
	check_pw("Zk92rT 7wQ");
	assert_passes();

	/* Nothing required, nothing missing. */
	rules_test_policy.require = 0;
	check_pw("zkqwrtmxvb");
	assert_passes();
	ck_assert_int_eq(res.classes_found, 1);
}
END_TEST

/* Classifies one character: the classes it does not supply are missing. */
static unsigned class_of(const char *c)
{
	unsigned found = 0;

	rules_test_policy.minlen = 1;
	rules_test_policy.dictcheck = false;
	check_pw(c);
	ck_assert_int_eq(res.length, 1);
	ck_assert_int_eq(res.classes_found, 1);
	if (!res.failed[RULE_MISSING_UPPER])
		found |= POLICY_CLASS_UPPER;
	if (!res.failed[RULE_MISSING_LOWER])
		found |= POLICY_CLASS_LOWER;
	if (!res.failed[RULE_MISSING_DIGIT])
		found |= POLICY_CLASS_DIGIT;
	if (!res.failed[RULE_MISSING_SPECIAL])
		found |= POLICY_CLASS_SPECIAL;
	return found;
}

START_TEST(test_non_ascii_classes)
{
	ck_assert_uint_eq(class_of("A"), POLICY_CLASS_UPPER);
	ck_assert_uint_eq(class_of("z"), POLICY_CLASS_LOWER);
	ck_assert_uint_eq(class_of("5"), POLICY_CLASS_DIGIT);
	ck_assert_uint_eq(class_of("~"), POLICY_CLASS_SPECIAL);
	ck_assert_uint_eq(class_of("\xc3\x84"), POLICY_CLASS_UPPER);      /* Ä */
	ck_assert_uint_eq(class_of("\xc3\xa4"), POLICY_CLASS_LOWER);      /* ä */
	ck_assert_uint_eq(class_of("\xc3\x9f"), POLICY_CLASS_LOWER);      /* ß */
	ck_assert_uint_eq(class_of("\xce\xa9"), POLICY_CLASS_UPPER);      /* Ω */
	ck_assert_uint_eq(class_of("\xe2\x82\xac"), POLICY_CLASS_SPECIAL); /* € */
	ck_assert_uint_eq(class_of("\xe6\xbc\xa2"), POLICY_CLASS_SPECIAL); /* 漢 */
	/* Non-ASCII digits are not digits (only 0-9 are). */
	ck_assert_uint_eq(class_of("\xd9\xa3"), POLICY_CLASS_SPECIAL);    /* ٣ */
}
END_TEST

START_TEST(test_non_ascii_password_passes)
{
	/* Ä for upper, ö for lower, € for special. */
	check_pw("\xc3\x84qm7\xe2\x82\xac\xc3\xb6wzr2");
	assert_passes();
	ck_assert_int_eq(res.classes_found, 4);
}
END_TEST

START_TEST(test_minclass)
{
	rules_test_policy.require = 0;
	rules_test_policy.minclass = 3;
	rules_test_policy.dictcheck = false;
	check_pw("zkqwrtZKQW");
	assert_only(RULE_TOO_FEW_CLASSES);
	ck_assert_int_eq(res.classes_found, 2);
	check_pw("zkqwrtZKQ7");
	assert_passes();
	ck_assert_int_eq(res.classes_found, 3);
	rules_test_policy.minclass = 4;
	check_pw("zkqwrtZKQ7");
	assert_only(RULE_TOO_FEW_CLASSES);
	check_pw("zkqwrtZK!7");
	assert_passes();
}
END_TEST

START_TEST(test_maxrepeat)
{
	rules_test_policy.dictcheck = false;
	check_pw("Zk9!aaa#wQ");
	assert_passes();
	check_pw("Zk9!aaaa#wQ");
	assert_only(RULE_TOO_MANY_REPEATS);
	/* At the very start and end. */
	check_pw("aaaaZk9!wQ");
	assert_only(RULE_TOO_MANY_REPEATS);
	check_pw("Zk9!wQ####");
	assert_only(RULE_TOO_MANY_REPEATS);
	/* Case differs: not identical code points. */
	check_pw("Zk9!aaAa#wQ");
	assert_passes();
	/* A multibyte character repeated counts per character. */
	check_pw("Zk9!\xc3\xa4\xc3\xa4\xc3\xa4#wQ");
	assert_passes();
	check_pw("Zk9!\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4#wQ");
	assert_only(RULE_TOO_MANY_REPEATS);

	rules_test_policy.maxrepeat = 1;
	check_pw("Zk9!aa#wQm");
	assert_only(RULE_TOO_MANY_REPEATS);
	rules_test_policy.maxrepeat = 0;
	check_pw("Zk9!aaaaaaa#wQ");
	assert_passes();
}
END_TEST

START_TEST(test_maxsequence)
{
	rules_test_policy.dictcheck = false;
	check_pw("Zk!1234#wQ");
	assert_passes();
	check_pw("Zk!12345#wQ");
	assert_only(RULE_SEQUENCE);
	check_pw("Zk9!abcd#wQ");
	assert_passes();
	check_pw("Zk9!abcde#wQ");
	assert_only(RULE_SEQUENCE);
	check_pw("Zk9!edcb#wQ");
	assert_passes();
	check_pw("Zk9!edcba#wQ");
	assert_only(RULE_SEQUENCE);
	/* Up then down shares the turning point but neither run exceeds 4. */
	check_pw("Zk!1234321#wQ");
	assert_passes();
	/* Case-sensitive: "abCde" is not a run of five. */
	check_pw("Zk9!abCde#wQ");
	assert_passes();
	/* Code points, not bytes: Greek alpha..epsilon. */
	check_pw("Zk9!\xce\xb1\xce\xb2\xce\xb3\xce\xb4\xce\xb5#wQ");
	assert_only(RULE_SEQUENCE);

	rules_test_policy.maxsequence = 2;
	check_pw("Zk!12#wQmx");
	assert_passes();
	check_pw("Zk!123#wQm");
	assert_only(RULE_SEQUENCE);
	rules_test_policy.maxsequence = 0;
	check_pw("Zk!123456789#wQ");
	assert_passes();
}
END_TEST

START_TEST(test_contains_user)
{
	struct rules_context ctx = { .user = "alice" };

	rules_test_policy.dictcheck = false;
	check_ctx("Zk9!alice#wQ", &ctx);
	assert_only(RULE_CONTAINS_USER);
	check_ctx("Zk9!ALiCe#wQ", &ctx);
	assert_only(RULE_CONTAINS_USER);
	check_ctx("Zk9!ecila#wQ", &ctx);
	assert_only(RULE_CONTAINS_USER);
	check_ctx("Zk9!alic#wQm", &ctx);
	assert_passes();
	check_ctx(GOOD, &ctx);
	assert_passes();

	/* Names shorter than three characters are not looked for. */
	ctx.user = "al";
	check_ctx("Zk9!al#wQm", &ctx);
	assert_passes();
	ctx.user = "bob";
	check_ctx("Zk9!BOB#wQ", &ctx);
	assert_only(RULE_CONTAINS_USER);

	/* Non-ASCII names fold case too. */
	ctx.user = "j\xc3\xb6rg";
	check_ctx("Zk9!J\xc3\x96RG#wQ", &ctx);
	assert_only(RULE_CONTAINS_USER);

	rules_test_policy.usercheck = false;
	ctx.user = "alice";
	check_ctx("Zk9!alice#wQ", &ctx);
	assert_passes();
}
END_TEST

START_TEST(test_contains_gecos)
{
	struct rules_context ctx = { .user = "alice",
				     .gecos = "Alice Wonderland,,," };

	rules_test_policy.dictcheck = false;
	check_ctx("Zk9!wonderLAND#", &ctx);
	assert_only(RULE_CONTAINS_GECOS);
	check_ctx("Zk9!dnalrednow#", &ctx);
	assert_only(RULE_CONTAINS_GECOS);
	/* The first name is also the user name: both rules fire. */
	check_ctx("Zk9!Alice#wQ", &ctx);
	ck_assert(res.failed[RULE_CONTAINS_GECOS]);
	ck_assert(res.failed[RULE_CONTAINS_USER]);
	check_ctx("Zk9!wonder#wQ", &ctx);
	assert_passes();

	/* Words split on commas and other punctuation; short words ignored. */
	ctx.gecos = "Al Bo,Room 42,+49-555-Kiwi";
	check_ctx("Zk9!al#bo#wQ", &ctx);
	assert_passes();
	check_ctx("Zk9!kiwi#wQ", &ctx);
	assert_only(RULE_CONTAINS_GECOS);
	check_ctx("Zk9!x555#wQ", &ctx);
	assert_only(RULE_CONTAINS_GECOS);
	check_ctx("Zk9!room#wQ", &ctx);
	assert_only(RULE_CONTAINS_GECOS);

	/* Invalid bytes in GECOS split words instead of failing. */
	ctx.gecos = "Zo\xff\xfe""Mango";
	check_ctx("Zk9!mango#wQ", &ctx);
	assert_only(RULE_CONTAINS_GECOS);

	rules_test_policy.gecoscheck = false;
	ctx.gecos = "Alice Wonderland,,,";
	check_ctx("Zk9!wonderLAND#", &ctx);
	assert_passes();
}
END_TEST

START_TEST(test_dictionary)
{
	check_pw("Password1!");
	assert_only(RULE_DICTIONARY_WORD);
	check_pw("Sunshine7!");
	assert_only(RULE_DICTIONARY_WORD);
	rules_test_policy.dictcheck = false;
	check_pw("Password1!");
	assert_passes();
}
END_TEST

START_TEST(test_old_password)
{
	struct rules_context ctx = { .old_password = "Xq7#mK2$vL9p" };

	check_ctx("Xq7#mK2$vL9p", &ctx);
	assert_only(RULE_SAME_AS_OLD);
	check_ctx("xQ7#Mk2$Vl9P", &ctx);
	assert_only(RULE_TOO_SIMILAR);
	/* Rotated. */
	check_ctx("$vL9pXq7#mK2", &ctx);
	assert_only(RULE_TOO_SIMILAR);
	/* difok 5: four changed characters are too few, five are enough. */
	check_ctx("Wq7#nK3$vM9p", &ctx);
	assert_only(RULE_TOO_SIMILAR);
	check_ctx("Wq7#nK3$wM9p", &ctx);
	assert_passes();
	check_ctx(GOOD, &ctx);
	assert_passes();

	/* difok 0 turns similarity off, but never allows the same one. */
	rules_test_policy.difok = 0;
	check_ctx("Wq7#nK3$vM9p", &ctx);
	assert_passes();
	check_ctx("Xq7#mK2$vL9p", &ctx);
	assert_only(RULE_SAME_AS_OLD);

	/* Both the dictionary and the similarity verdicts are reported. */
	rules_test_policy.difok = 5;
	ctx.old_password = "Password1?";
	check_ctx("Password1!", &ctx);
	ck_assert(res.failed[RULE_DICTIONARY_WORD]);
	ck_assert(res.failed[RULE_TOO_SIMILAR]);
	ck_assert_uint_eq(res.count, 2);

	/* An empty old password is no old password. */
	ctx.old_password = "";
	check_ctx(GOOD, &ctx);
	assert_passes();
}
END_TEST

START_TEST(test_palindrome)
{
	check_pw("Ab1!xyx!1bA");
	assert_only(RULE_PALINDROME);
}
END_TEST

START_TEST(test_invalid_utf8)
{
	static const char *const bad[] = {
		"Zk9!rT4#wQ\xc0\xaf",          /* overlong '/' */
		"Zk9!rT4#wQ\xed\xa0\x80",      /* surrogate U+D800 */
		"Zk9!rT4#wQ\xf4\x90\x80\x80",  /* U+110000 */
		"Zk9!rT4#wQ\xe2\x82",          /* truncated euro */
		"\x80Zk9!rT4#wQ",              /* lone continuation */
		"abc\xff",                     /* also short: only one reason */
	};
	char msg[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		check_pw(bad[i]);
		assert_only(RULE_INVALID_UTF8);
		ck_assert_int_eq(res.length, -1);
	}
	rules_reason_message(RULE_INVALID_UTF8, &rules_test_policy, &res, msg,
			     sizeof(msg));
	ck_assert(strlen(msg) > 0);
}
END_TEST

START_TEST(test_too_long)
{
	char pw[RULES_MAX_BYTES + 2];

	/* GOOD repeated: passes every rule but length. */
	for (size_t i = 0; i < sizeof(pw) - 1; i++)
		pw[i] = GOOD[i % 10];
	pw[RULES_MAX_BYTES + 1] = '\0';
	check_pw(pw);
	assert_only(RULE_TOO_LONG);
	pw[RULES_MAX_BYTES] = '\0';
	check_pw(pw);
	ck_assert(!res.failed[RULE_TOO_LONG]);
	ck_assert_int_eq(res.length, RULES_MAX_BYTES);
	/* Invalid and too long: only too long. */
	pw[0] = '\xff';
	pw[RULES_MAX_BYTES] = 'x';
	check_pw(pw);
	assert_only(RULE_TOO_LONG);
	/* 510 bytes of two-byte characters and "x" are 256 code points in
	 * 511 bytes (the limit, issue 11: libxcrypt's), accepted. */
	for (size_t i = 0; i + 1 < RULES_MAX_BYTES; i += 2)
		memcpy(pw + i, "\xc3\xa4", 2);
	pw[RULES_MAX_BYTES - 1] = 'x';
	pw[RULES_MAX_BYTES] = '\0';
	check_pw(pw);
	ck_assert(!res.failed[RULE_TOO_LONG]);
	ck_assert_int_eq(res.length, RULES_MAX_BYTES / 2 + 1);
}
END_TEST

/* Issue 11: libxcrypt hashes at most 511 bytes; 512 is refused here,
 * with its reason, instead of failing later in pam_unix without one. */
START_TEST(test_limit_is_libxcrypt_511)
{
	char pw[513];

	ck_assert_int_eq(RULES_MAX_BYTES, 511);
	for (size_t i = 0; i < 512; i++)
		pw[i] = GOOD[i % 10];
	pw[511] = '\0';
	check_pw(pw);
	ck_assert(!res.failed[RULE_TOO_LONG]);
	ck_assert_int_eq(res.length, 511);
	pw[511] = GOOD[511 % 10];
	pw[512] = '\0';
	check_pw(pw);
	assert_only(RULE_TOO_LONG);
	ck_assert(rules_hard_limit(&res));
}
END_TEST

START_TEST(test_empty_and_bad_arguments)
{
	struct rules_result r;

	check_pw("");
	ck_assert(res.failed[RULE_TOO_SHORT]);
	ck_assert_int_eq(res.length, 0);
	ck_assert_int_eq(res.classes_found, 0);
	ck_assert_int_eq(rules_check(&rules_test_policy, NULL, NULL, &r),
			 PP_ERR_INVALID);
	ck_assert_uint_eq(r.count, 0);
	ck_assert_int_eq(rules_check(NULL, GOOD, NULL, &r), PP_ERR_INVALID);
	ck_assert_int_eq(rules_check(&rules_test_policy, GOOD, NULL, NULL),
			 PP_ERR_INVALID);
}
END_TEST

/* With the default policy the strength reasons come in the same message
 * as the others, after them. */
START_TEST(test_strength_reasons_too)
{
	struct rules_context ctx = { .user = "alice",
				     .gecos = "Alice Wonderland,,," };
	char codes[512], msg[4096];

	policy_defaults(&rules_test_policy);
	rules_test_policy.dictcheck = false;
	check_ctx("alicexxxx1234", &ctx);
	rules_format_codes(&res, codes, sizeof(codes));
	ck_assert_str_eq(codes,
			 "missing_upper,missing_special,too_many_repeats,contains_user,"
			 "contains_gecos,guessable,too_weak");
	rules_format_message(&rules_test_policy, &res, msg, sizeof(msg));
	ck_assert(strstr(msg, "\n  - It is a common word with small changes (found: ") != NULL);
	ck_assert(strstr(msg, "your user name") != NULL);
	ck_assert(strstr(msg, "\n  - Add more words or characters: it would be guessed quickly.") !=
		  NULL);
	ck_assert(strstr(msg, "alice") == NULL); /* never the password */
	ck_assert_int_ge(res.guess_points, 0);
	ck_assert_int_ge(res.strength_bits, 0);
	/* The default policy accepts GOOD with the strength rules on. */
	check_pw(GOOD);
	assert_passes();
}
END_TEST

START_TEST(test_many_reasons_at_once)
{
	struct rules_context ctx = { .user = "alice",
				     .gecos = "Alice Wonderland,,," };
	char msg[4096], codes[512];

	rules_test_policy.dictcheck = false;
	/* Short, lowercase only, repeats, a sequence and the user name. */
	check_ctx("alicexxxx1234", &ctx);
	rules_format_codes(&res, codes, sizeof(codes));
	ck_assert_str_eq(codes,
			 "missing_upper,missing_special,too_many_repeats,contains_user,contains_gecos");
	rules_test_policy.minlen = 14;
	rules_test_policy.maxsequence = 3;
	check_ctx("alicexxxx1234", &ctx);
	rules_format_codes(&res, codes, sizeof(codes));
	ck_assert_str_eq(codes,
			 "too_short,missing_upper,missing_special,too_many_repeats,sequence,contains_user,contains_gecos");
	ck_assert_uint_eq(res.count, 7);
	rules_format_message(&rules_test_policy, &res, msg, sizeof(msg));
	ck_assert_str_eq(msg,
			 "The password was not accepted:\n"
			 "  - It is too short: use at least 14 characters (it has 13).\n"
			 "  - It needs at least one uppercase letter (A-Z).\n"
			 "  - It needs at least one special character, such as ! # % or a space.\n"
			 "  - It repeats the same character too often: use it at most 3 times in a row.\n"
			 "  - It contains a run of consecutive characters like \"12345\" or \"abcde\": use at most 3 in a row.\n"
			 "  - It must not contain your user name.\n"
			 "  - It must not contain your name or other words from your account details.");
}
END_TEST

START_TEST(test_every_reason_formatted)
{
	char msg[8192], codes[1024], line[512];
	const char *at = NULL;

	for (int r = 0; r < RULE_COUNT; r++)
		rules_add(&res, (enum rules_reason)r);
	rules_add(&res, RULE_TOO_SHORT); /* idempotent */
	ck_assert_uint_eq(res.count, RULE_COUNT);
	res.length = 7;
	res.min_age_days_left = 3;

	rules_format_message(&rules_test_policy, &res, msg, sizeof(msg));
	ck_assert(strncmp(msg, "The password was not accepted:\n", 31) == 0);
	at = msg;
	for (int r = 0; r < RULE_COUNT; r++) {
		char expect[600];
		const char *found;
		rules_reason_message((enum rules_reason)r, &rules_test_policy,
				     &res, line, sizeof(line));
		ck_assert(strlen(line) > 0);
		snprintf(expect, sizeof(expect), "\n  - %s", line);
		found = strstr(at, expect);
		ck_assert_msg(found != NULL, "missing or out of order: %s",
			      line);
		at = found + 1;
	}

	rules_format_codes(&res, codes, sizeof(codes));
	ck_assert_str_eq(codes,
			 "too_short,too_long,invalid_utf8,missing_upper,missing_lower,"
			 "missing_digit,missing_special,too_few_classes,too_many_repeats,"
			 "sequence,contains_user,contains_gecos,dictionary_word,too_similar,"
			 "same_as_old,palindrome,too_simple,reused,too_soon,history_unavailable,mismatch,"
			 "similar_to_recent,guessable,too_weak,breached");
}
END_TEST

START_TEST(test_messages)
{
	char msg[512];

	memset(&res, 0, sizeof(res));
	res.min_age_days_left = 3;
	rules_reason_message(RULE_TOO_SOON, &rules_test_policy, &res, msg,
			     sizeof(msg));
	ck_assert_str_eq(msg,
			 "It was changed too recently: you can change it again in 3 days.");
	rules_reason_message(RULE_REUSED, &rules_test_policy, &res, msg,
			     sizeof(msg));
	ck_assert_str_eq(msg,
			 "It was used before: choose a password you have not used recently.");
	rules_reason_message(RULE_HISTORY_UNAVAILABLE, &rules_test_policy, &res,
			     msg, sizeof(msg));
	ck_assert_str_eq(msg,
			 "The password service is unavailable, so the history check could not run; try again later or contact your administrator.");
	rules_reason_message(RULE_MISMATCH, &rules_test_policy, &res, msg,
			     sizeof(msg));
	ck_assert_str_eq(msg, "The two passwords you typed do not match.");
	rules_reason_message(RULE_MISSING_DIGIT, &rules_test_policy, &res, msg,
			     sizeof(msg));
	ck_assert_str_eq(msg, "It needs at least one digit (0-9).");
	rules_reason_message(RULE_CONTAINS_USER, NULL, NULL, msg, sizeof(msg));
	ck_assert_str_eq(msg, "It must not contain your user name.");
	rules_reason_message(RULE_DICTIONARY_WORD, NULL, NULL, msg, sizeof(msg));
	ck_assert_str_eq(msg, "It is based on a dictionary word.");
	rules_test_policy.difok = 7;
	rules_reason_message(RULE_TOO_SIMILAR, &rules_test_policy, &res, msg,
			     sizeof(msg));
	ck_assert(strstr(msg, "7") != NULL);

	ck_assert_str_eq(rules_reason_code(RULE_TOO_SHORT), "too_short");
	ck_assert_str_eq(rules_reason_code(RULE_MISMATCH), "mismatch");
	ck_assert_str_eq(rules_reason_code(RULE_COUNT), "unknown");
}
END_TEST

START_TEST(test_format_truncates)
{
	char small[12];

	rules_add(&res, RULE_TOO_SHORT);
	rules_add(&res, RULE_MISSING_DIGIT);
	memset(small, 'x', sizeof(small));
	rules_format_message(&rules_test_policy, &res, small, sizeof(small));
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	memset(small, 'x', sizeof(small));
	rules_format_codes(&res, small, sizeof(small));
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ck_assert(strncmp(small, "too_short,", 10) == 0);

	memset(&res, 0, sizeof(res));
	rules_format_codes(&res, small, sizeof(small));
	ck_assert_str_eq(small, "");
	rules_format_message(&rules_test_policy, &res, small, sizeof(small));
	ck_assert_str_eq(small, "");
}
END_TEST

static void *rules_thread(void *arg)
{
	struct policy *p = arg;
	struct rules_context ctx = { .user = "alice",
				     .old_password = "Xq7#mK2$vL9p" };
	for (int i = 0; i < 50; i++) {
		struct rules_result r;
		if (rules_check(p, "Password1!", &ctx, &r) != PP_OK ||
		    !r.failed[RULE_DICTIONARY_WORD] || r.count != 1)
			return (void *)1;
		if (rules_check(p, GOOD, &ctx, &r) != PP_OK || r.count != 0)
			return (void *)1;
	}
	return NULL;
}

START_TEST(test_threads)
{
	pthread_t t[4];

	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, rules_thread,
						&rules_test_policy), 0);
	for (int i = 0; i < 4; i++) {
		void *ret = (void *)1;
		ck_assert_int_eq(pthread_join(t[i], &ret), 0);
		ck_assert_ptr_null(ret);
	}
}
END_TEST

static Suite *rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_passes);
	tcase_add_test(tc, test_length_boundary);
	tcase_add_test(tc, test_length_counts_code_points);
	tcase_add_test(tc, test_each_missing_class);
	tcase_add_test(tc, test_non_ascii_classes);
	tcase_add_test(tc, test_limit_is_libxcrypt_511);
	tcase_add_test(tc, test_non_ascii_password_passes);
	tcase_add_test(tc, test_minclass);
	tcase_add_test(tc, test_maxrepeat);
	tcase_add_test(tc, test_maxsequence);
	tcase_add_test(tc, test_contains_user);
	tcase_add_test(tc, test_contains_gecos);
	tcase_add_test(tc, test_dictionary);
	tcase_add_test(tc, test_old_password);
	tcase_add_test(tc, test_palindrome);
	tcase_add_test(tc, test_invalid_utf8);
	tcase_add_test(tc, test_too_long);
	tcase_add_test(tc, test_empty_and_bad_arguments);
	tcase_add_test(tc, test_many_reasons_at_once);
	tcase_add_test(tc, test_strength_reasons_too);
	tcase_add_test(tc, test_every_reason_formatted);
	tcase_add_test(tc, test_messages);
	tcase_add_test(tc, test_format_truncates);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	return s;
}

Suite *test_suite(void)
{
	return rules_suite();
}
