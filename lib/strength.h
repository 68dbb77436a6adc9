/*
 * strength.h - a password's core and skeleton: the word a cracker starts
 * from, and the shape a user keeps from one change to the next.
 *
 * Crackers do not guess "P@tr10t$2024!" character by character: they take
 * a word ("patriot"), apply the usual mangling rules (capitalise, swap in
 * look-alikes, append a year, a symbol) and try those first. These
 * functions undo that mangling so the rules (guess.h) can compare what is
 * left with word lists and names, and so the daemon can recognise
 * "Summer2024!" -> "Summer2025!" as the same password with a new year.
 *
 * Input: NUL-terminated, valid UTF-8, already NFC-normalised (the caller
 * normalises; rules.c does). Output: NUL-terminated UTF-8.
 *
 * The core of a password, step by step (code points, not bytes):
 *   1. case-folded (Unicode full case folding, NFC result: "Straße" ->
 *      "strasse", "ÉTÉ" -> "été");
 *   2. affixes removed: the leading and the trailing run of characters
 *      that are not letters (digits, years, dates, symbols, spaces) -
 *      "!!Summer2024!" -> "summer";
 *   3. look-alikes undone inside what remains: 0->o 1->i 3->e 4->a 5->s
 *      7->t @->a $->s !->i ("p@tr10t" -> "patriot"; "1" is read as "i",
 *      the matcher in guess.c also tries "l");
 *   4. repeats collapsed: a run of 3 or more identical code points
 *      becomes two ("passsssword" -> "password", "mooooon" -> "moon");
 *   5. a core that would be empty (no letter at all: "1234567890!", or
 *      only a keyboard walk of symbols) is instead the case-folded
 *      password itself, so that it still says something.
 * Keyboard walks (strength_keyboard_walk) and digit patterns
 * (strength_digit_pattern) are recognised by the helpers below; the scorer
 * in guess.c counts each such run as one guess.
 *
 * The skeleton is the core plus the shape of the affixes: every digit of
 * the leading and trailing runs becomes '9', every other character of
 * them '#'. Written unambiguously as "<prefix shape>|<core length in
 * bytes>:<core>|<suffix shape>" so that distinct (prefix, core, suffix)
 * triples never collide. "Summer2024!" and "Summer2025!" both give
 * "|6:summer|9999#"; "summer2024?" gives the same; "Summer24!" does not.
 *
 * These functions are pure (no I/O, no allocation beyond the stack), do
 * not depend on zxcvbn or any word list, and link with libunistring only,
 * so the daemon can call them. Thread-safe. Every internal copy of the
 * password or of a transform of it is wiped (pp_wipe) before returning;
 * the caller wipes out.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_STRENGTH_H
#define PAM_POLICY_STRENGTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Longest password the functions take, in bytes (the rules' hard limit). */
#define STRENGTH_MAX_INPUT 512
/* Longest password in code points the functions take. */
#define STRENGTH_MAX_CP STRENGTH_MAX_INPUT
/*
 * An out buffer of this many bytes always suffices for a password of at
 * most STRENGTH_MAX_INPUT bytes (case folding can expand text up to three
 * times; the skeleton adds its shapes and a length).
 */
#define STRENGTH_OUT_MAX (3 * STRENGTH_MAX_INPUT + 2 * STRENGTH_MAX_INPUT + 32)

/*
 * strength_core - the core of password (see above) into out (outlen
 * bytes, NUL-terminated). Returns PP_OK; PP_ERR_INVALID when an argument
 * is NULL or password is not valid UTF-8 (or contains no code point);
 * PP_ERR_TOO_LONG when password is over STRENGTH_MAX_INPUT bytes or the
 * result does not fit in outlen (out is then ""); PP_ERR_NOMEM when
 * libunistring could not fold. On error out is "" (when outlen > 0).
 */
pp_err strength_core(const char *password, char *out, size_t outlen) PP_WUR;

/*
 * strength_skeleton - the skeleton of password (see above) into out
 * (outlen bytes, NUL-terminated). Two passwords that differ only in the
 * digits and symbols around the same core (same count and kind, i.e.
 * digit versus other), in case, or in look-alike substitutions give the
 * same skeleton. Errors as strength_core. The daemon hashes the result
 * (peppered argon2id) for the similar_history check; it is as secret as
 * the password itself.
 */
pp_err strength_skeleton(const char *password, char *out,
			 size_t outlen) PP_WUR;

/* ----- helpers shared with the scorer (guess.c) and the tests ----- */

/*
 * strength_fold - decode password (valid UTF-8, at most STRENGTH_MAX_INPUT
 * bytes) and case-fold it into cp[0..*n) (at most cap code points).
 * Returns PP_OK, PP_ERR_INVALID (NULL or not UTF-8), PP_ERR_TOO_LONG
 * (more than cap code points after folding) or PP_ERR_NOMEM. Wipes its
 * internal buffers; the caller wipes cp.
 */
pp_err strength_fold(const char *password, uint32_t *cp, size_t cap,
		     size_t *n) PP_WUR;

/*
 * strength_unleet - the letter a look-alike character stands for, or 0
 * when c is not one: '0'->'o', '1'->'i' (alt true: 'l'), '3'->'e',
 * '4'->'a', '5'->'s', '7'->'t', '@'->'a', '$'->'s', '!'->'i' (alt: 'l').
 */
uint32_t strength_unleet(uint32_t c, bool alt);

/* strength_is_letter - true when c is a letter (Unicode category L). */
bool strength_is_letter(uint32_t c);

/*
 * strength_keyboard_walk - how many code points from cp[0..n) form a walk
 * on a US QWERTY keyboard (or its digit row): each key next to the
 * previous one, or the same key shifted ("qwerty", "asdf", "1qaz",
 * "zxcvbn", "!@#$"), compared case-insensitively (cp already folded).
 * Returns the walk's length if it is at least 4, else 0 (three-key walks
 * such as "wer" or "sdf" are too common inside words and random text).
 */
size_t strength_keyboard_walk(const uint32_t *cp, size_t n);

/*
 * strength_digit_pattern - how many leading code points of cp[0..n) are a
 * digit run a person picks rather than a random one: a year 1900-2099,
 * a date (DDMM, MMDD, DDMMYY, MMDDYY, DDMMYYYY, YYYYMMDD, MMDDYYYY), a
 * run of one digit repeated, or an ascending or descending sequence
 * ("123", "9876", also "7890"), or a short block repeated ("1212",
 * "123123"). The longest match is returned (2 or more digits; 0 when none
 * applies). Only ASCII digits count.
 */
size_t strength_digit_pattern(const uint32_t *cp, size_t n);

#endif
