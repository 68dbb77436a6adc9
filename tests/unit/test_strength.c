/*
 * test_strength.c - the core and skeleton (lib/strength.c), the
 * guessable rule and the estimate (lib/guess.c), and their reasons in
 * rules_check.
 *
 * Hermetic: the word list and banned_words are small files written under
 * a temporary directory, so the verdicts do not depend on which Debian
 * word lists the host has; so is the word list's index (wordindex.h),
 * built from them by the same function "pam_policyctl wordlist build"
 * calls.
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
#include <sys/stat.h>

#include <zxcvbn.h>

#include "guess.h"
#include "policy.h"
#include "rules.h"
#include "strength.h"
#include "wordindex.h"
#include "harness.h"

static char dir[256], words_path[300], banned_path[300];
static struct policy pol;

static void write_lines(const char *path, const char *const *lines)
{
	FILE *f = fopen(path, "w");

	/* before any test runs: Check's asserts are not available yet */
	if (f == NULL)
		abort();
	for (size_t i = 0; lines[i] != NULL; i++)
		fprintf(f, "%s\n", lines[i]);
	if (fclose(f) != 0)
		abort();
}

void test_before_all(void)
{
	static const char *const words[] = {
		"monkey", "driver", "patriot", "philology", "collapsing",
		"tulip", "harbor", "correct", "horse", "battery", "staple",
		"sunflower", "elephant", "abalone's", "Chicago", "# a comment",
		"", NULL,
	};
	static const char *const banned[] = {
		"# company, products, city", "acmecorp", "springfield",
		"widgetpro", NULL,
	};

	snprintf(dir, sizeof(dir), "%s/pp-strength.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(words_path, sizeof(words_path), "%s/words", dir);
	snprintf(banned_path, sizeof(banned_path), "%s/banned", dir);
	write_lines(words_path, words);
	write_lines(banned_path, banned);
}

void test_after_all(void)
{
	harness_rmtree(dir);
	unlink(words_path);
	unlink(banned_path);
	rmdir(dir);
}

static void setup(void)
{
	char err[POLICY_ERR_LEN];

	policy_defaults(&pol);
	ck_assert_int_eq(policy_set(&pol, "wordlist", words_path,
				    POLICY_SOURCE_FILE, err, sizeof(err)), PP_OK);
	ck_assert_int_eq(policy_set(&pol, "banned_words", banned_path,
				    POLICY_SOURCE_FILE, err, sizeof(err)), PP_OK);
}

static const struct guess_context ctx = {
	.user = "jsmith", .gecos = "John Smithers,Room 12,,",
	.host = "gandalf.example.org", .service = "sshd",
};

static struct guess_result judge(const char *pw)
{
	struct guess_result r;
	ck_assert_int_eq(guess_check(&pol, pw, &ctx, &r), PP_OK);
	return r;
}

static void assert_guessable(const char *pw, unsigned found)
{
	struct guess_result r = judge(pw);
	char text[256];

	guess_found_text(r.found, text, sizeof(text));
	ck_assert_msg(r.guessable, "%s: not guessable (%d points, found %s)", pw,
		      r.points, text);
	if (found != 0)
		ck_assert_msg((r.found & found) != 0, "%s: found %s (0x%x)", pw,
			      text, r.found);
}

static void assert_strong(const char *pw)
{
	struct guess_result r = judge(pw);
	char text[256];

	guess_found_text(r.found, text, sizeof(text));
	ck_assert_msg(!r.guessable && !r.too_weak,
		      "%s: refused (%d points, %d bits, found %s)", pw, r.points,
		      r.bits, text);
}

START_TEST(test_core)
{
	static const struct { const char *in, *core; } cases[] = {
		{ "P@tr10t$2024!", "patriot" },
		{ "!!Summer2024!", "summer" },
		{ "Monkey@2024", "monkey" },
		{ "Passsssword1", "password" },
		{ "ÉTÉ2024!", "été" },
		{ "Straße#99", "strasse" },
		{ "1234567890!", "1234567890!" },
		{ "Tulip-Harbor-84!", "tulip-harbor" },
	};
	char out[STRENGTH_OUT_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(strength_core(cases[i].in, out, sizeof(out)), PP_OK);
		ck_assert_str_eq(out, cases[i].core);
	}
	ck_assert_int_eq(strength_core("\xff", out, sizeof(out)), PP_ERR_INVALID);
	ck_assert_int_eq(strength_core(NULL, out, sizeof(out)), PP_ERR_INVALID);
	ck_assert_int_eq(strength_core("Monkey@2024", out, 4), PP_ERR_TOO_LONG);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_skeleton)
{
	char a[STRENGTH_OUT_MAX], b[STRENGTH_OUT_MAX];

	ck_assert_int_eq(strength_skeleton("Summer2024!", a, sizeof(a)), PP_OK);
	ck_assert_int_eq(strength_skeleton("Summer2025!", b, sizeof(b)), PP_OK);
	ck_assert_str_eq(a, b);
	ck_assert_str_eq(a, "|6:summer|9999#");
	/* case, look-alikes and the symbol's choice do not matter ... */
	ck_assert_int_eq(strength_skeleton("SUMM3R1999?", b, sizeof(b)), PP_OK);
	ck_assert_str_eq(a, b);
	/* ... the core and the affixes' shape do */
	ck_assert_int_eq(strength_skeleton("Winter2024!", b, sizeof(b)), PP_OK);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(strength_skeleton("Summer24!", b, sizeof(b)), PP_OK);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(strength_skeleton("!Summer2024", b, sizeof(b)), PP_OK);
	ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(test_patterns)
{
	uint32_t walk[] = { 'q', 'w', 'e', 'r', 't', 'y', '1' };
	uint32_t col[] = { '1', 'q', 'a', 'z' };
	uint32_t sym[] = { '!', '@', '#', '$' };
	uint32_t word[] = { 'w', 'o', 'r', 'd' };
	uint32_t year[] = { '1', '9', '8', '4', 'x' };
	uint32_t date[] = { '2', '4', '1', '2', '1', '9', '9', '9' };
	uint32_t seq[] = { '9', '8', '7', '6' };
	uint32_t rnd[] = { '8', '3', '6' };

	ck_assert_uint_eq(strength_keyboard_walk(walk, 7), 6);
	ck_assert_uint_eq(strength_keyboard_walk(col, 4), 4);
	ck_assert_uint_eq(strength_keyboard_walk(sym, 4), 4);
	ck_assert_uint_eq(strength_keyboard_walk(word, 4), 0);
	ck_assert_uint_eq(strength_digit_pattern(year, 5), 4);
	ck_assert_uint_eq(strength_digit_pattern(date, 8), 8);
	ck_assert_uint_eq(strength_digit_pattern(seq, 4), 4);
	ck_assert_uint_eq(strength_digit_pattern(rnd, 3), 0);
	ck_assert_uint_eq(strength_unleet('$', false), 's');
	ck_assert_uint_eq(strength_unleet('1', true), 'l');
	ck_assert_uint_eq(strength_unleet('x', false), 0);
}
END_TEST

/* Every way users meet composition rules with a word is refused. */
START_TEST(test_guessable_transforms)
{
	static const char *const weak[] = {
		"Monkey@2024",      /* capitalised, symbol, year */
		"Monkey2024!",      /* year then symbol */
		"!Monkey2024",      /* symbol in front */
		"2024Monkey!",      /* year in front */
		"M0nk3y@1234",      /* 0->o 3->e, a sequence */
		"P@tr10t$2024!",    /* @->a 1->i 0->o 7->t $->s */
		"Ph11o10gy123!",    /* "1" read as l and as i in one word */
		"C011@psing#77",    /* 1->l 1->l @->a */
		"Dr1v3r@1234",      /* 1->i 3->e */
		"D4!v3r#1970x",     /* 4->a !->i, one letter off: "daiver" */
		"Driver@12121212",  /* repeated digit block */
		"Driver@24121999",  /* a date */
		"Driver!!!!!!2",    /* repeated symbols */
		"Driver!wertyu9",   /* a keyboard walk */
		"Monkkey#2024",     /* edit distance 1: one letter added */
		"Mnkey#2024!!",     /* edit distance 1: one letter removed */
		"Monkye#2024!",     /* edit distance 1: two letters swapped */
		"P@ssw0rd2024!",    /* a common password (built-in list) */
		"Summer2024!",      /* a season (built-in list) */
		"Dezember#2024",    /* a month, German */
		"Qwerty123456!",    /* keyboard walk + sequence */
		"Sunflower1984!?",  /* a long word, two symbols */
	};

	for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++)
		assert_guessable(weak[i], 0);
	assert_guessable("Ph11o10gy123!", GUESS_FOUND_DICTIONARY);
	assert_guessable("P@tr10t$2024!", GUESS_FOUND_DICTIONARY | GUESS_FOUND_COMMON);
	assert_guessable("P@ssw0rd2024!", GUESS_FOUND_COMMON);
	assert_guessable("Driver!wertyu9", GUESS_FOUND_KEYBOARD);
}
END_TEST

/* Words with real entropy beyond them, and random passwords, pass. */
START_TEST(test_strong_passes)
{
	static const char *const strong[] = {
		"Tulip-Harbor-84!",                 /* two words, entropy besides */
		"correct horse battery staple 42",  /* four words */
		"Correct.Horse.Battery.Staple7",
		"xK7#mP2$qL9!",                     /* pwgen -sy 12 style */
		"8QzT:/B?5AO;",
		"rVAhuBlOm4raq",                    /* pwmake 72 style */
		"By\"l6e$\\%FlK",
		"Elephant-Quarry9-Velvet#",         /* words not all listed */
	};

	for (size_t i = 0; i < sizeof(strong) / sizeof(strong[0]); i++)
		assert_strong(strong[i]);
}
END_TEST

START_TEST(test_banned_words)
{
	char err[POLICY_ERR_LEN];
	struct guess_result r;

	assert_guessable("Acmecorp2024!", GUESS_FOUND_BANNED);
	assert_guessable("Acmecrop#2024", GUESS_FOUND_BANNED);   /* swapped */
	assert_guessable("Acmcorp!2024x", GUESS_FOUND_BANNED);   /* one removed */
	assert_guessable("4cm3c0rpp#99", GUESS_FOUND_BANNED);    /* leet + added */
	assert_guessable("Springfield#1", GUESS_FOUND_BANNED);
	/* without the list, the same password is not a banned word */
	ck_assert_int_eq(policy_set(&pol, "banned_words", "", POLICY_SOURCE_FILE, err,
				    sizeof(err)), PP_OK);
	r = judge("Acmecrop#2024");
	ck_assert(!(r.found & GUESS_FOUND_BANNED));
	/* a list the admin names must be readable: fail closed */
	ck_assert_int_eq(policy_set(&pol, "banned_words", "/nonexistent/banned",
				    POLICY_SOURCE_FILE, err, sizeof(err)), PP_OK);
	ck_assert_int_eq(guess_check(&pol, "Tulip-Harbor-84!", &ctx, &r), PP_ERR_CONFIG);
}
END_TEST

START_TEST(test_wordlist_option)
{
	char err[POLICY_ERR_LEN];
	struct guess_result r;

	/* the default list is optional ... */
	policy_defaults(&pol);
	snprintf(pol.wordlist, sizeof(pol.wordlist), "/nonexistent/words");
	ck_assert_int_eq(guess_check(&pol, "Tulip-Harbor-84!", &ctx, &r), PP_OK);
	/* ... one set in the configuration is not */
	ck_assert_int_eq(policy_set(&pol, "wordlist", "/nonexistent/words",
				    POLICY_SOURCE_FILE, err, sizeof(err)), PP_OK);
	ck_assert_int_eq(guess_check(&pol, "Tulip-Harbor-84!", &ctx, &r), PP_ERR_CONFIG);
	/* and "" turns it off */
	ck_assert_int_eq(policy_set(&pol, "wordlist", "", POLICY_SOURCE_FILE, err,
				    sizeof(err)), PP_OK);
	ck_assert_int_eq(guess_check(&pol, "Tulip-Harbor-84!", &ctx, &r), PP_OK);
	ck_assert(policy_set(&pol, "min_strength_bits", "300", POLICY_SOURCE_FILE, err,
			     sizeof(err)) == PP_ERR_CONFIG);
}
END_TEST

/* ---- the word list's index ---- */

/* The index of lists[0..n) written to path (as pam_policyctl does). */
static void build_index(const char *const *lists, size_t n, const char *path)
{
	char err[600];
	void *buf = NULL;
	size_t len = 0;
	uint64_t words = 0;
	FILE *f;

	ck_assert_msg(guess_wordlist_index(lists, n, &buf, &len, &words, err,
					   sizeof(err)) == PP_OK, "%s", err);
	ck_assert_uint_gt(words, 5);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, 0644), 0);   /* whatever the umask */
	free(buf);
}

/* A path option set in place (policy_set would mark its source). */
static void set_path(char field[POLICY_MAX_PATH], const char *value)
{
	size_t n = strlen(value);

	ck_assert_uint_lt(n, POLICY_MAX_PATH);
	memcpy(field, value, n + 1);
}

static void index_file(char *out, size_t len, const char *name)
{
	ck_assert_uint_lt((size_t)snprintf(out, len, "%s/%s", dir, name), len);
}

/* Weak and strong passwords whose verdicts lean on the word list. */
static const char *const index_sample[] = {
	"Monkey@2024", "P@tr10t$2024!", "Driver@1234", "Ph11o10gy123!",
	"Elephant#1999", "Sunfl0wer!2020", "Collapsing99!", "Abalones#2021",
	"Chicag0!1990", "Eleph4nt-Sunflower-Harbor-62!", "Tulip-Harbor-84!",
	"Correct-Horse-Battery-Staple-7", "Kq9#Ωzλ7mP!x", "Elephnat#2024!",
	"Qz8$Lwm3-Tpe!", NULL,
};

/* Every verdict and score of a equals b's. */
static void assert_same_verdicts(const struct policy *a, const struct policy *b)
{
	for (size_t i = 0; index_sample[i] != NULL; i++) {
		struct guess_result x, y;
		ck_assert_int_eq(guess_check(a, index_sample[i], &ctx, &x), PP_OK);
		ck_assert_int_eq(guess_check(b, index_sample[i], &ctx, &y), PP_OK);
		ck_assert_msg(x.guessable == y.guessable && x.too_weak == y.too_weak &&
			      x.found == y.found && x.points == y.points && x.bits == y.bits,
			      "%s: %d/%d/0x%x/%d vs %d/%d/0x%x/%d", index_sample[i],
			      x.guessable, x.too_weak, x.found, x.points, y.guessable,
			      y.too_weak, y.found, y.points);
	}
}

START_TEST(test_index_same_verdicts)
{
	const char *lists[] = { words_path };
	struct policy plain = pol, indexed = pol, direct = pol;
	char idx[400], why[1024];

	index_file(idx, sizeof(idx), "same.idx");
	build_index(lists, 1, idx);
	plain.wordlist_index[0] = '\0';
	set_path(indexed.wordlist_index, idx);
	ck_assert_int_eq(wordindex_verify(&indexed, GUESS_HASH_SCHEME, why, sizeof(why)),
			 WORDINDEX_USED);
	ck_assert_msg(strstr(why, "is current") != NULL, "%s", why);
	assert_same_verdicts(&plain, &indexed);
	/* The index named as the wordlist: the list comes from it alone. */
	set_path(direct.wordlist, idx);
	direct.wordlist_index[0] = '\0';
	ck_assert_int_eq(wordindex_verify(&direct, GUESS_HASH_SCHEME, why, sizeof(why)),
			 WORDINDEX_IS_LIST);
	assert_same_verdicts(&plain, &direct);
	assert_guessable("Eleph4nt#2024!", GUESS_FOUND_DICTIONARY);
}
END_TEST

/* Several lists in one index: their union, used as the wordlist. */
START_TEST(test_index_of_two_lists)
{
	static const char *const extra[] = { "quokka", "marmalade", NULL };
	char more[400], idx[400];
	const char *lists[] = { words_path, more };
	struct guess_result r;

	index_file(more, sizeof(more), "more");
	write_lines(more, extra);
	index_file(idx, sizeof(idx), "two.idx");
	build_index(lists, 2, idx);
	set_path(pol.wordlist, idx);
	ck_assert_int_eq(guess_check(&pol, "Marmalade#2024!", &ctx, &r), PP_OK);
	ck_assert(r.guessable && (r.found & GUESS_FOUND_DICTIONARY));
	ck_assert_int_eq(guess_check(&pol, "Elephant#2024!", &ctx, &r), PP_OK);
	ck_assert(r.guessable && (r.found & GUESS_FOUND_DICTIONARY));
	/* An index is not a list to build from; relative paths are refused. */
	{
		const char *bad[] = { idx }, *rel[] = { "words" };
		char err[600];
		void *buf = NULL;
		size_t len;
		uint64_t words;
		ck_assert_int_eq(guess_wordlist_index(bad, 1, &buf, &len, &words, err,
						      sizeof(err)), PP_ERR_INVALID);
		ck_assert_msg(strstr(err, "is an index") != NULL, "%s", err);
		ck_assert_int_eq(guess_wordlist_index(rel, 1, &buf, &len, &words, err,
						      sizeof(err)), PP_ERR_INVALID);
		ck_assert_ptr_null(buf);
	}
}
END_TEST

/* A list changed after its index was built is read again: new words count. */
START_TEST(test_index_stale)
{
	static const char *const words[] = { "monkey", "driver", "patriot", "elephant",
					     "sunflower", "tulip", "harbor", NULL };
	char list[400], idx[400], why[1024];
	const char *lists[] = { list };
	struct guess_result r;
	FILE *f;

	index_file(list, sizeof(list), "stale-words");
	write_lines(list, words);
	index_file(idx, sizeof(idx), "stale.idx");
	build_index(lists, 1, idx);
	f = fopen(list, "a");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "quokka\n");
	ck_assert_int_eq(fclose(f), 0);
	set_path(pol.wordlist, list);
	set_path(pol.wordlist_index, idx);
	ck_assert_int_eq(wordindex_verify(&pol, GUESS_HASH_SCHEME, why, sizeof(why)),
			 WORDINDEX_STALE);
	ck_assert_msg(strstr(why, "stale") != NULL, "%s", why);
	ck_assert_int_eq(guess_check(&pol, "Quokka#2024!", &ctx, &r), PP_OK);
	ck_assert(r.guessable && (r.found & GUESS_FOUND_DICTIONARY));
	/* An index of another list is not used for this one either. */
	set_path(pol.wordlist, words_path);
	ck_assert_int_eq(wordindex_verify(&pol, GUESS_HASH_SCHEME, why, sizeof(why)),
			 WORDINDEX_OTHER);
	/* Missing: said so. */
	index_file(idx, sizeof(idx), "none.idx");
	set_path(pol.wordlist_index, idx);
	ck_assert_int_eq(wordindex_verify(&pol, GUESS_HASH_SCHEME, why, sizeof(why)),
			 WORDINDEX_MISSING);
	ck_assert_msg(strstr(why, "pam_policyctl wordlist build") != NULL, "%s", why);
}
END_TEST

/* Copy src to dst with its size cut to len (len < 0: keep) and the byte at
 * flip (if >= 0) inverted. */
static void damaged_copy(const char *src, const char *dst, long len, long flip)
{
	char *data = harness_read(src);
	struct stat st;
	FILE *f;
	size_t n;

	ck_assert_ptr_nonnull(data);
	ck_assert_int_eq(stat(src, &st), 0);
	n = len >= 0 ? (size_t)len : (size_t)st.st_size;
	if (flip >= 0)
		data[flip] = (char)~data[flip];
	f = fopen(dst, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(dst, 0644), 0);
	free(data);
}

/*
 * A damaged index is refused with a reason. As wordlist_index it is a
 * cache: the plain list is read instead (the same verdicts; doctor reports
 * it). Named as the wordlist itself there is nothing else to read: the
 * check fails closed, like any unreadable list the admin names.
 */
START_TEST(test_index_damaged)
{
	const char *lists[] = { words_path };
	struct policy plain = pol;
	char good[400], bad[400], why[1024];
	struct wordindex ix;
	struct guess_result r;
	size_t header = sizeof(struct wordindex_header);
	static const struct {
		long len, flip;
		const char *why;
	} cases[] = {
		{ 100, -1, "truncated" },
		{ -1, 3, "not a word-list index" },
		{ -1, 40, "header is corrupt" },
		{ -1, -2, "table is corrupt" },     /* -2: a byte of the table */
		{ -3, -1, "truncated" },            /* -3: the last slot cut off */
	};

	index_file(good, sizeof(good), "good.idx");
	build_index(lists, 1, good);
	index_file(bad, sizeof(bad), "bad.idx");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct stat st;
		long len = cases[i].len, flip = cases[i].flip;
		ck_assert_int_eq(stat(good, &st), 0);
		if (flip == -2)
			flip = (long)header + 17;
		if (len == -3)
			len = (long)st.st_size - 8;
		damaged_copy(good, bad, len, flip);
		ck_assert_int_eq(wordindex_open(bad, GUESS_HASH_SCHEME, &ix, why, sizeof(why)),
				 PP_ERR_INVALID);
		ck_assert_msg(strstr(why, cases[i].why) != NULL && strstr(why, bad) != NULL,
			      "case %zu: %s", i, why);
		ck_assert_ptr_null(ix.map);
	}
	/* Anyone who may rewrite it could choose the words: refused. */
	ck_assert_int_eq(chmod(good, 0666), 0);
	ck_assert_int_eq(wordindex_open(good, GUESS_HASH_SCHEME, &ix, why, sizeof(why)),
			 PP_ERR_INVALID);
	ck_assert_msg(strstr(why, "writable by group or others") != NULL, "%s", why);
	ck_assert_int_eq(chmod(good, 0644), 0);
	/* Another hash scheme (a newer pam_policy's index) is refused too. */
	ck_assert_int_eq(wordindex_open(good, GUESS_HASH_SCHEME + 1, &ix, why, sizeof(why)),
			 PP_ERR_INVALID);
	ck_assert_msg(strstr(why, "another word hash") != NULL, "%s", why);
	ck_assert_int_eq(wordindex_open(good, GUESS_HASH_SCHEME, &ix, why, sizeof(why)), PP_OK);
	wordindex_close(&ix);

	/* As the cache of the list: refused, the list read, verdicts unchanged. */
	damaged_copy(good, bad, -1, (long)header + 17);
	plain.wordlist_index[0] = '\0';
	set_path(pol.wordlist_index, bad);
	ck_assert_int_eq(wordindex_verify(&pol, GUESS_HASH_SCHEME, why, sizeof(why)),
			 WORDINDEX_BAD);
	ck_assert_msg(strstr(why, "table is corrupt") != NULL &&
		      strstr(why, "is read instead") != NULL, "%s", why);
	assert_same_verdicts(&plain, &pol);
	/* As the wordlist itself: the check cannot run, so it refuses. */
	set_path(pol.wordlist, bad);
	pol.wordlist_index[0] = '\0';
	ck_assert_int_eq(wordindex_verify(&pol, GUESS_HASH_SCHEME, why, sizeof(why)),
			 WORDINDEX_LIST_BAD);
	ck_assert_int_eq(guess_check(&pol, "Tulip-Harbor-84!", &ctx, &r), PP_ERR_CONFIG);
}
END_TEST

START_TEST(test_names)
{
	assert_guessable("Jsmith#2024!", GUESS_FOUND_USER);
	assert_guessable("Jsmiht#2024!", GUESS_FOUND_USER);      /* swapped */
	assert_guessable("Smithers@1999", GUESS_FOUND_GECOS);
	assert_guessable("Gandalf#2024!", GUESS_FOUND_HOST);
	assert_guessable("Sshd@2024!", GUESS_FOUND_SERVICE);
	/* a name is one term: a long passphrase around it still passes */
	assert_strong("Tulip-Harbor-Smithers-84!");
}
END_TEST

/* zxcvbn credits each UTF-8 byte; the transliterated estimate does not. */
START_TEST(test_non_ascii)
{
	struct rules_result res;
	struct rules_context rctx = { .user = "jsmith" };
	double raw = ZxcvbnMatch("пароль123", NULL, NULL);

	ck_assert_msg(raw > 60, "zxcvbn itself now gives %.1f bits", raw);
	ck_assert_double_lt(guess_estimate_bits("пароль123", NULL), 40);
	assert_guessable("Пароль123!", GUESS_FOUND_COMMON);
	ck_assert(judge("Пароль123!").too_weak);
	ck_assert_int_eq(rules_check(&pol, "Пароль2024!", &rctx, &res), PP_OK);
	ck_assert(res.failed[RULE_GUESSABLE]);
	ck_assert(res.failed[RULE_TOO_WEAK]);
	/* not every non-ASCII password is weak */
	assert_strong("Сирень-Гавань-Кедр-84!");
	assert_strong("Kq9#Ωzλ7mP!x");
}
END_TEST

START_TEST(test_rules_reasons)
{
	struct rules_result res;
	struct rules_context rctx = { .user = "jsmith", .gecos = "John Smithers" };
	char msg[4096];

	ck_assert_int_eq(rules_check(&pol, "Ph11o10gy123!", &rctx, &res), PP_OK);
	ck_assert(res.failed[RULE_GUESSABLE]);
	ck_assert_int_ge(res.guess_points, 0);
	ck_assert_int_lt(res.guess_points, pol.min_guess_points);
	ck_assert_str_eq(rules_reason_code(RULE_GUESSABLE), "guessable");
	ck_assert_str_eq(rules_reason_code(RULE_TOO_WEAK), "too_weak");
	rules_format_message(&pol, &res, msg, sizeof(msg));
	ck_assert_msg(strstr(msg, "It is a common word with small changes (found: a dictionary word") !=
		      NULL, "%s", msg);
	ck_assert(strstr(msg, "o10gy") == NULL && strstr(msg, "philology") == NULL);
	ck_assert_int_eq(rules_check(&pol, "P@tr10t$2024!", &rctx, &res), PP_OK);
	ck_assert(res.failed[RULE_GUESSABLE] && res.failed[RULE_TOO_WEAK]);
	ck_assert_int_lt(res.strength_bits, pol.min_strength_bits);
	rules_format_message(&pol, &res, msg, sizeof(msg));
	ck_assert(strstr(msg, "Add more words or characters: it would be guessed quickly.") != NULL);

	ck_assert_int_eq(rules_check(&pol, "Tulip-Harbor-84!", &rctx, &res), PP_OK);
	ck_assert(!res.failed[RULE_GUESSABLE] && !res.failed[RULE_TOO_WEAK]);

	/* both rules can be turned off */
	pol.guesscheck = false;
	pol.min_strength_bits = 0;
	ck_assert_int_eq(rules_check(&pol, "P@tr10t$2024!", &rctx, &res), PP_OK);
	ck_assert(!res.failed[RULE_GUESSABLE] && !res.failed[RULE_TOO_WEAK]);
	ck_assert_int_eq(res.guess_points, -1);
}
END_TEST

START_TEST(test_found_text)
{
	char buf[256];

	guess_found_text(GUESS_FOUND_DICTIONARY, buf, sizeof(buf));
	ck_assert_str_eq(buf, "a dictionary word");
	guess_found_text(GUESS_FOUND_BANNED | GUESS_FOUND_PATTERN, buf, sizeof(buf));
	ck_assert_str_eq(buf, "a word your administrator banned, a year, date or digit pattern");
	guess_found_text(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "a predictable pattern");
	guess_found_text(GUESS_FOUND_DICTIONARY | GUESS_FOUND_USER, buf, 8);
	ck_assert_uint_lt(strlen(buf), 8);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("strength");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_core);
	tcase_add_test(tc, test_skeleton);
	tcase_add_test(tc, test_patterns);
	tcase_add_test(tc, test_guessable_transforms);
	tcase_add_test(tc, test_strong_passes);
	tcase_add_test(tc, test_banned_words);
	tcase_add_test(tc, test_wordlist_option);
	tcase_add_test(tc, test_index_same_verdicts);
	tcase_add_test(tc, test_index_of_two_lists);
	tcase_add_test(tc, test_index_stale);
	tcase_add_test(tc, test_index_damaged);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_non_ascii);
	tcase_add_test(tc, test_rules_reasons);
	tcase_add_test(tc, test_found_text);
	suite_add_tcase(s, tc);
	return s;
}
