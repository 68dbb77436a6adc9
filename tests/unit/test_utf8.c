/*
 * test_utf8.c - strict UTF-8 decoding, validation and counting (the same
 * assertions as before lib/utf8.c moved to libunistring), the control
 * category, and the NFC form every comparison uses (issue 11).
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "secret.h"
#include "utf8.h"

/* Decodes s (given with its length, NULs included) and checks one code
 * point of the expected byte length comes out. */
static void utf8_expect(const char *s, size_t len, uint32_t want,
			size_t want_len)
{
	uint32_t cp = 0xDEADBEEF;
	size_t n = utf8_decode((const unsigned char *)s, len, &cp);
	ck_assert_uint_eq(n, want_len);
	ck_assert_uint_eq(cp, want);
}

static void utf8_reject(const char *s, size_t len)
{
	uint32_t cp = 0;
	ck_assert_uint_eq(utf8_decode((const unsigned char *)s, len, &cp), 0);
	ck_assert(!utf8_valid(s, len));
	ck_assert_int_eq(utf8_length(s, len), -1);
}

START_TEST(test_decode_boundaries)
{
	utf8_expect("\x01", 1, 0x01, 1);
	utf8_expect("\x7f", 1, 0x7F, 1);
	utf8_expect("\xc2\x80", 2, 0x80, 2);
	utf8_expect("\xdf\xbf", 2, 0x7FF, 2);
	utf8_expect("\xe0\xa0\x80", 3, 0x800, 3);
	utf8_expect("\xed\x9f\xbf", 3, 0xD7FF, 3);
	utf8_expect("\xee\x80\x80", 3, 0xE000, 3);
	utf8_expect("\xef\xbf\xbf", 3, 0xFFFF, 3);
	utf8_expect("\xf0\x90\x80\x80", 4, 0x10000, 4);
	utf8_expect("\xf4\x8f\xbf\xbf", 4, 0x10FFFF, 4);
	/* Only the first code point is decoded. */
	utf8_expect("a\xc3\xa4", 3, 'a', 1);
}
END_TEST

START_TEST(test_decode_rejects)
{
	utf8_reject("\xf4\x90\x80\x80", 4);       /* U+110000 */
	utf8_reject("\xf5\x80\x80\x80", 4);       /* beyond any plane */
	utf8_reject("\xff", 1);
	utf8_reject("\xc0\xaf", 2);               /* overlong '/' */
	utf8_reject("\xc1\xbf", 2);               /* overlong U+007F */
	utf8_reject("\xe0\x9f\xbf", 3);           /* overlong U+07FF */
	utf8_reject("\xf0\x8f\xbf\xbf", 4);       /* overlong U+FFFF */
	utf8_reject("\xed\xa0\x80", 3);           /* surrogate U+D800 */
	utf8_reject("\xed\xbf\xbf", 3);           /* surrogate U+DFFF */
	utf8_reject("\x80", 1);                   /* lone continuation */
	utf8_reject("\xc3", 1);                   /* truncated */
	utf8_reject("\xe2\x82", 2);               /* truncated */
	utf8_reject("\xf0\x9f\x98", 3);           /* truncated */
	utf8_reject("\xc3\x28", 2);               /* bad continuation */
	utf8_reject("\xe2\x28\xa1", 3);
	utf8_reject("\xe2\x82\x28", 3);
}
END_TEST

START_TEST(test_nul_rejected)
{
	uint32_t cp = 7;
	ck_assert_uint_eq(utf8_decode((const unsigned char *)"", 1, &cp), 0);
	ck_assert(!utf8_valid("ab\0cd", 5));
	ck_assert_int_eq(utf8_length("ab\0cd", 5), -1);
	ck_assert(utf8_valid("ab\0cd", 2));
	/* An overlong NUL is no way around it. */
	utf8_reject("\xc0\x80", 2);
	/* len == 0 decodes nothing. */
	ck_assert_uint_eq(utf8_decode((const unsigned char *)"a", 0, &cp), 0);
}
END_TEST

START_TEST(test_lengths)
{
	const char *uni = "\xc3\x9c" "n\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9"; /* Ünïcödé */
	ck_assert_int_eq(utf8_length("", 0), 0);
	ck_assert(utf8_valid("", 0));
	ck_assert_int_eq(utf8_length("password", 8), 8);
	ck_assert_int_eq(utf8_length(uni, strlen(uni)), 7);
	ck_assert_uint_eq(strlen(uni), 11);
	/* Emoji (4 bytes), euro (3 bytes), a-umlaut (2 bytes), 'x'. */
	ck_assert_int_eq(utf8_length("\xf0\x9f\x98\x80\xe2\x82\xac\xc3\xa4x", 10),
			 4);
	/* A valid prefix does not make the whole valid. */
	ck_assert_int_eq(utf8_length("abc\xc3", 4), -1);
	ck_assert_int_eq(utf8_length("abc\xc3", 3), 3);
}
END_TEST

START_TEST(test_control_category)
{
	ck_assert(utf8_is_control(0x00));
	ck_assert(utf8_is_control(0x1F));
	ck_assert(utf8_is_control(0x7F));
	ck_assert(utf8_is_control(0x80));
	ck_assert(utf8_is_control(0x9F));
	ck_assert(!utf8_is_control(' '));
	ck_assert(!utf8_is_control(0xA0));     /* no-break space: Zs */
	ck_assert(!utf8_is_control(0x200B));   /* zero width space: Cf */
	ck_assert(!utf8_is_control(0x110000));
	ck_assert(utf8_valid_text("j\xc3\xb6rg", 5));
	ck_assert(utf8_valid_text("", 0));
	ck_assert(!utf8_valid_text("a\tb", 3));
	ck_assert(!utf8_valid_text("a\xc2\x85", 3));   /* NEL, C1 */
	ck_assert(!utf8_valid_text("a\xff", 2));
}
END_TEST

/* utf8_nfc into a string the test owns (wiped as the contract says). */
static char *nfc_of(const char *s, size_t len)
{
	char *out = NULL, *copy;
	size_t out_len = 99;

	ck_assert_int_eq(utf8_nfc(s, len, &out, &out_len), PP_OK);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(strlen(out), out_len);
	copy = strdup(out);
	ck_assert_ptr_nonnull(copy);
	pp_wipe(out, out_len + 1);
	free(out);
	return copy;
}

START_TEST(test_nfc_composes)
{
	/* "é" as e + U+0301 and precomposed: one form, one length. */
	const char *nfd = "e\xcc\x81t\xc3\xa9", *nfc = "\xc3\xa9t\xc3\xa9";
	char *a = nfc_of(nfd, strlen(nfd)), *b = nfc_of(nfc, strlen(nfc));

	ck_assert_str_eq(a, nfc);
	ck_assert_str_eq(b, nfc);
	ck_assert_int_eq(utf8_length(nfd, strlen(nfd)), 4);
	ck_assert_int_eq(utf8_length(a, strlen(a)), 3);
	free(a);
	free(b);

	/* Canonical reordering: two marks in either order give one form. */
	a = nfc_of("a\xcc\x81\xcc\xa3", 5);      /* a + acute + dot below */
	b = nfc_of("a\xcc\xa3\xcc\x81", 5);      /* a + dot below + acute */
	ck_assert_str_eq(a, b);
	ck_assert_str_eq(a, "\xe1\xba\xa1\xcc\x81"); /* U+1EA1 + acute */
	free(a);
	free(b);

	/* Hangul: conjoining jamo compose into one syllable (U+D55C). */
	a = nfc_of("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab", 9);
	ck_assert_str_eq(a, "\xed\x95\x9c");
	free(a);

	/* NFC, not NFKC: compatibility characters stay as typed. */
	a = nfc_of("\xef\xac\x81", 3);             /* U+FB01 "fi" ligature */
	ck_assert_str_eq(a, "\xef\xac\x81");
	free(a);
	a = nfc_of("\xef\xbc\x91", 3);             /* fullwidth digit one */
	ck_assert_str_eq(a, "\xef\xbc\x91");
	free(a);
}
END_TEST

START_TEST(test_nfc_edges)
{
	char *out = (char *)"untouched";
	size_t len = 7;
	char *a;

	/* Empty text is its own NFC form. */
	a = nfc_of("", 0);
	ck_assert_str_eq(a, "");
	free(a);
	/* ASCII is unchanged. */
	a = nfc_of("Zk9!rT4#wQ", 10);
	ck_assert_str_eq(a, "Zk9!rT4#wQ");
	free(a);
	/* Growth: U+1D160 (4 bytes) is excluded from composition and
	 * becomes three code points, 12 bytes - the 3x bound of UAX #15. */
	a = nfc_of("\xf0\x9d\x85\xa0", 4);
	ck_assert_uint_eq(strlen(a), 12);
	free(a);
	/* Only valid text is normalised: invalid UTF-8, NUL, NULL. */
	ck_assert_int_eq(utf8_nfc("a\xff", 2, &out, &len), PP_ERR_INVALID);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(utf8_nfc("a\0b", 3, &out, &len), PP_ERR_INVALID);
	ck_assert_int_eq(utf8_nfc("\xed\xa0\x80", 3, &out, &len), PP_ERR_INVALID);
	ck_assert_int_eq(utf8_nfc(NULL, 1, &out, &len), PP_ERR_INVALID);
	ck_assert_int_eq(utf8_nfc("a", 1, NULL, &len), PP_ERR_INVALID);
	ck_assert_int_eq(utf8_nfc("a", 1, &out, NULL), PP_ERR_INVALID);
	/* Many marks (over libunistring's 64-entry sort buffer) still work. */
	{
		char many[1 + 2 * 100 + 1];
		many[0] = 'e';
		for (int i = 0; i < 100; i++)
			memcpy(many + 1 + 2 * i, "\xcc\x81", 2);
		many[sizeof(many) - 1] = '\0';
		a = nfc_of(many, strlen(many));
		ck_assert_uint_eq(strlen(a), 2 + 2 * 99);
		ck_assert(strncmp(a, "\xc3\xa9", 2) == 0);
		free(a);
	}
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("utf8");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_decode_boundaries);
	tcase_add_test(tc, test_decode_rejects);
	tcase_add_test(tc, test_nul_rejected);
	tcase_add_test(tc, test_lengths);
	tcase_add_test(tc, test_control_category);
	tcase_add_test(tc, test_nfc_composes);
	tcase_add_test(tc, test_nfc_edges);
	suite_add_tcase(s, tc);
	return s;
}
