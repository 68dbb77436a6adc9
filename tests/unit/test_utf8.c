/*
 * test_utf8.c - strict UTF-8 decoding, validation and counting.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
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

Suite *test_suite(void)
{
	Suite *s = suite_create("utf8");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_decode_boundaries);
	tcase_add_test(tc, test_decode_rejects);
	tcase_add_test(tc, test_nul_rejected);
	tcase_add_test(tc, test_lengths);
	suite_add_tcase(s, tc);
	return s;
}
