/*
 * guess.h - how fast would an attacker guess it: mangled words, names,
 * the admin's banned words, and the zxcvbn estimate.
 *
 * The guessable rule follows the method Microsoft Entra Password
 * Protection publishes, adapted:
 *   1. normalise: case-fold (strength_fold), and read look-alikes as the
 *      letters they stand for (0->o 1->i or l 3->e 4->a 5->s 7->t @->a
 *      $->s !->i or l); non-ASCII letters are also tried transliterated
 *      (Cyrillic, Greek, Latin with diacritics: "пароль" -> "parol");
 *   2. find every term in the password: dictionary words (the word list,
 *      at least 3 code points), common passwords and words (a list built
 *      into guess.c, written for this project), the user name, GECOS
 *      words of 3+ code points, the host and the service name, and the
 *      admin's banned_words - exactly, and for terms of 5+ code points
 *      also at edit distance 1 (one letter added, removed, changed, or
 *      two swapped);
 *   3. score the cheapest reading of the whole password: 1 point per
 *      term, 1 per predictable run (a year or date, a digit sequence or
 *      repeated digits, a keyboard walk of 4+ keys, a character repeated
 *      3+ times), 1 per two other digits, 1 per any other character;
 *   4. guessable when the score is below min_guess_points, or when the
 *      password's core (strength_core) is itself a term (also at edit
 *      distance 1): "Summer2024!" (summer + year + symbol = 3 points) is
 *      guessable, "Tulip-Harbor-84!" (tulip - harbor - 84 ! = 6) is not.
 *
 * The estimate is zxcvbn-c's, in bits (log2 of the guesses). zxcvbn
 * credits every byte of a multibyte character as if it were random
 * ("пароль123" ~85 bits), so a password with non-ASCII characters is also
 * estimated transliterated, each character zxcvbn cannot read (CJK, ...)
 * standing for one lowercase ASCII letter, and the lower estimate counts.
 *
 * Word lists are read once per process and path and kept (read-only, so
 * concurrent checks share them); nothing else is read per check. The
 * module lives for one PAM transaction only, so the dictionary comes from
 * its prebuilt index (wordlist_index, wordindex.h: one mapped file, no
 * parsing) when that index was built from the wordlist as it is now, and
 * from the plain list otherwise (the same verdicts, slower). Pure
 * otherwise: no prompts, no logs. Thread-safe.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_GUESS_H
#define PAM_POLICY_GUESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "policy.h"

/*
 * The word hash and table layout an index holds (guess_hash, guess_home,
 * linear probing, the word normalisation). Raise it whenever any of them
 * changes: older indexes are then refused and the plain list is read.
 */
#define GUESS_HASH_SCHEME 1

/* What the cheapest reading used, as a bit set (guess_result.found). */
enum guess_found {
	GUESS_FOUND_DICTIONARY = 1u << 0, /* "a dictionary word" */
	GUESS_FOUND_COMMON = 1u << 1,     /* "a common password" */
	GUESS_FOUND_USER = 1u << 2,       /* "your user name" */
	GUESS_FOUND_GECOS = 1u << 3,      /* "your name" */
	GUESS_FOUND_HOST = 1u << 4,       /* "the computer's name" */
	GUESS_FOUND_SERVICE = 1u << 5,    /* "the service's name" */
	GUESS_FOUND_BANNED = 1u << 6,     /* "a word your administrator banned" */
	GUESS_FOUND_KEYBOARD = 1u << 7,   /* "a keyboard pattern" */
	GUESS_FOUND_PATTERN = 1u << 8,    /* "a year, date or digit pattern" */
	GUESS_FOUND_REPEAT = 1u << 9,     /* "repeated characters" */
	GUESS_FOUND_COUNT = 10
};

/* The account and where the change happens; every field may be NULL. */
struct guess_context {
	const char *user;
	const char *gecos;
	const char *host;     /* NULL: this host's uname() node name */
	const char *service;  /* the PAM service, e.g. "passwd", "sshd" */
};

struct guess_result {
	bool guessable;       /* below min_guess_points, or the core is a term */
	bool too_weak;        /* estimate below min_strength_bits */
	unsigned found;       /* enum guess_found bits of the cheapest reading */
	int points;           /* the score (step 3 above) */
	int bits;             /* the estimate, rounded down */
};

/*
 * guess_check - run the guessable rule (when p->guesscheck) and the
 * estimate (when p->min_strength_bits > 0) on password (valid UTF-8,
 * NFC, at most 512 bytes, NUL-terminated). ctx may be NULL. Fills *out
 * (cleared first; points and bits are computed even when the rule they
 * feed is off).
 * Returns PP_OK whatever the verdict; PP_ERR_INVALID for NULL arguments
 * or a password that is not valid UTF-8; PP_ERR_TOO_LONG over 512 bytes;
 * PP_ERR_CONFIG when banned_words or a wordlist set in the configuration
 * cannot be read (the default wordlist may be missing: it is then
 * skipped); PP_ERR_NOMEM. The caller rejects on any error. Every copy of
 * the password is wiped before returning.
 */
pp_err guess_check(const struct policy *p, const char *password,
		   const struct guess_context *ctx,
		   struct guess_result *out) PP_WUR;

/*
 * guess_estimate_bits - the estimate alone (see above), in bits; 0 for
 * NULL or invalid input. user_words: NULL-terminated list of words that
 * zxcvbn should treat as known (names), may be NULL.
 */
double guess_estimate_bits(const char *password,
			   const char *const *user_words);

/*
 * guess_found_text - the words for the kinds in found, joined with ", "
 * (e.g. "a dictionary word, a year, date or digit pattern") into buf (len
 * bytes, NUL-terminated); "a predictable pattern" when found is 0. Never
 * contains any part of the password.
 */
void guess_found_text(unsigned found, char *buf, size_t len);

/*
 * guess_wordlist_index - the index file (wordindex.h) of the plain word
 * lists paths[0..n) (absolute paths, 1..WORDINDEX_MAX_SOURCES, read as
 * guess_check reads a wordlist), in a malloc'd buffer *out of *outlen
 * bytes for the caller to write and free; *words gets the distinct word
 * count. Each list's size, mtime and inode go into the header; a list
 * that changes while it is read is an error. PP_ERR_INVALID (bad
 * arguments, a relative path, an input that is itself an index),
 * PP_ERR_NOT_FOUND, PP_ERR_IO (errno), PP_ERR_TOO_LONG, PP_ERR_NOMEM;
 * err (errlen bytes) names the list.
 */
pp_err guess_wordlist_index(const char *const *paths, size_t n, void **out,
			    size_t *outlen, uint64_t *words, char *err,
			    size_t errlen) PP_WUR;

#endif
