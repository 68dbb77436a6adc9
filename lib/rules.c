/*
 * rules.c - the password rules: every violation at once, no I/O of our own.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "rules.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include <pwquality.h>
#include <unicase.h>
#include <unictype.h>

#include "blocklist.h"
#include "guess.h"
#include "i18n.h"
#include "secret.h"
#include "strength.h"
#include "utf8.h"

/* Shortest user name or GECOS word worth looking for: shorter ones match
 * too many innocent passwords. */
#define RULES_MIN_WORD 3

/* Stands for an undecodable byte of a user name or GECOS field: it can
 * never equal a code point of a (validated) password. */
#define RULES_NO_CHAR UINT32_MAX

static const char *const rules_codes[RULE_COUNT] = {
	[RULE_TOO_SHORT] = "too_short",
	[RULE_TOO_LONG] = "too_long",
	[RULE_INVALID_UTF8] = "invalid_utf8",
	[RULE_MISSING_UPPER] = "missing_upper",
	[RULE_MISSING_LOWER] = "missing_lower",
	[RULE_MISSING_DIGIT] = "missing_digit",
	[RULE_MISSING_SPECIAL] = "missing_special",
	[RULE_TOO_FEW_CLASSES] = "too_few_classes",
	[RULE_TOO_MANY_REPEATS] = "too_many_repeats",
	[RULE_SEQUENCE] = "sequence",
	[RULE_CONTAINS_USER] = "contains_user",
	[RULE_CONTAINS_GECOS] = "contains_gecos",
	[RULE_DICTIONARY_WORD] = "dictionary_word",
	[RULE_TOO_SIMILAR] = "too_similar",
	[RULE_SAME_AS_OLD] = "same_as_old",
	[RULE_PALINDROME] = "palindrome",
	[RULE_TOO_SIMPLE] = "too_simple",
	[RULE_REUSED] = "reused",
	[RULE_TOO_SOON] = "too_soon",
	[RULE_HISTORY_UNAVAILABLE] = "history_unavailable",
	[RULE_MISMATCH] = "mismatch",
	[RULE_SIMILAR_TO_RECENT] = "similar_to_recent",
	[RULE_GUESSABLE] = "guessable",
	[RULE_TOO_WEAK] = "too_weak",
	[RULE_BREACHED] = "breached",
};

/* cracklib's FascistCheck uses getpwuid() and static buffers, so the
 * pwquality calls are serialised to keep rules_check() thread-safe. */
static pthread_mutex_t rules_pwquality_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The classes by Unicode properties (libunistring's tables, the same on
 * every host and in every locale), of a code point of the NFC form:
 * digits are ASCII 0-9 only; uppercase is the Uppercase property or a
 * titlecase letter (Lt); lowercase the Lowercase property ("ß", "ª");
 * combining marks (M*) left after NFC belong to no class (they modify the
 * letter before them); everything else is special. Returns 0 for "no
 * class".
 */
static unsigned rules_class_of(uint32_t cp)
{
	if (cp >= '0' && cp <= '9')
		return POLICY_CLASS_DIGIT;
	if (uc_is_property_uppercase(cp) ||
	    uc_is_general_category(cp, UC_TITLECASE_LETTER))
		return POLICY_CLASS_UPPER;
	if (uc_is_property_lowercase(cp))
		return POLICY_CLASS_LOWER;
	if (uc_is_general_category(cp, UC_CATEGORY_M))
		return 0;
	return POLICY_CLASS_SPECIAL;
}

/* Simple (one code point to one) lowercase mapping, for the name rules. */
static uint32_t rules_fold(uint32_t cp)
{
	if (cp == RULES_NO_CHAR)
		return cp;
	return uc_tolower(cp);
}

/* Decodes user-supplied context text (not the password) leniently: an
 * invalid byte becomes RULES_NO_CHAR instead of failing the whole field. */
static size_t rules_decode_lenient(const unsigned char *s, size_t len,
				   uint32_t *cp)
{
	size_t n = utf8_decode(s, len, cp);
	if (n == 0) {
		*cp = RULES_NO_CHAR;
		return 1;
	}
	return n;
}

/* GECOS words are separated by anything that is not a letter or digit
 * (Unicode alphabetic or decimal digit), and by undecodable bytes. */
static bool rules_is_separator(uint32_t cp)
{
	if (cp == RULES_NO_CHAR)
		return true;
	return !uc_is_alnum(cp);
}

/*
 * The NFC form of a user name or GECOS field, to compare with the NFC
 * form of the password; text that is not valid UTF-8 cannot be
 * normalised and is used as it is (its bad bytes never match, see
 * rules_decode_lenient). *copy is NULL then, or the malloc'd NFC copy to
 * give to rules_context_free. Returns the text to use, NULL without
 * memory.
 */
static const char *rules_context_nfc(const char *text, char **copy, size_t *copy_len)
{
	pp_err rc = utf8_nfc(text, strlen(text), copy, copy_len);

	if (rc == PP_OK)
		return *copy;
	return rc == PP_ERR_INVALID ? text : NULL;
}

static void rules_context_free(char **copy, size_t len)
{
	if (*copy != NULL) {
		pp_wipe(*copy, len + 1);
		free(*copy);
		*copy = NULL;
	}
}

/* True when needle (or, with reversed, needle read backwards) occurs in
 * hay. Both are already case-folded. */
static bool rules_contains(const uint32_t *hay, size_t hay_len,
			   const uint32_t *needle, size_t needle_len,
			   bool reversed)
{
	if (needle_len == 0 || needle_len > hay_len)
		return false;
	for (size_t start = 0; start + needle_len <= hay_len; start++) {
		size_t i = 0;
		while (i < needle_len) {
			uint32_t want = reversed ? needle[needle_len - 1 - i]
						 : needle[i];
			if (hay[start + i] != want)
				break;
			i++;
		}
		if (i == needle_len)
			return true;
	}
	return false;
}

static bool rules_contains_word(const uint32_t *hay, size_t hay_len,
				const uint32_t *word, size_t word_len)
{
	return rules_contains(hay, hay_len, word, word_len, false) ||
	       rules_contains(hay, hay_len, word, word_len, true);
}

static void rules_check_classes(const struct policy *p, const uint32_t *cps,
				size_t n, struct rules_result *res)
{
	unsigned found = 0;
	int distinct = 0;

	for (size_t i = 0; i < n; i++)
		found |= rules_class_of(cps[i]);
	for (unsigned bit = POLICY_CLASS_UPPER; bit <= POLICY_CLASS_SPECIAL;
	     bit <<= 1)
		if (found & bit)
			distinct++;
	res->classes_found = distinct;

	if ((p->require & POLICY_CLASS_UPPER) && !(found & POLICY_CLASS_UPPER))
		rules_add(res, RULE_MISSING_UPPER);
	if ((p->require & POLICY_CLASS_LOWER) && !(found & POLICY_CLASS_LOWER))
		rules_add(res, RULE_MISSING_LOWER);
	if ((p->require & POLICY_CLASS_DIGIT) && !(found & POLICY_CLASS_DIGIT))
		rules_add(res, RULE_MISSING_DIGIT);
	if ((p->require & POLICY_CLASS_SPECIAL) &&
	    !(found & POLICY_CLASS_SPECIAL))
		rules_add(res, RULE_MISSING_SPECIAL);
	if (p->minclass > 0 && distinct < p->minclass)
		rules_add(res, RULE_TOO_FEW_CLASSES);
}

/*
 * Repeats: a run of identical code points longer than maxrepeat.
 * Sequences: a run where each code point is exactly one above (or exactly
 * one below) the previous one, longer than maxsequence. Both compare code
 * points as typed (no case folding), so "aaaA" is a run of three.
 */
static void rules_check_runs(const struct policy *p, const uint32_t *cps,
			     size_t n, struct rules_result *res)
{
	long same = 1, up = 1, down = 1;

	for (size_t i = 1; i < n; i++) {
		same = cps[i] == cps[i - 1] ? same + 1 : 1;
		up = cps[i] == cps[i - 1] + 1 ? up + 1 : 1;
		down = cps[i] + 1 == cps[i - 1] ? down + 1 : 1;
		if (p->maxrepeat > 0 && same > p->maxrepeat)
			rules_add(res, RULE_TOO_MANY_REPEATS);
		if (p->maxsequence > 0 &&
		    (up > p->maxsequence || down > p->maxsequence))
			rules_add(res, RULE_SEQUENCE);
	}
}

static void rules_check_user(const char *user, const uint32_t *folded,
			     size_t n, struct rules_result *res)
{
	uint32_t name[RULES_MAX_BYTES];
	const unsigned char *u = (const unsigned char *)user;
	size_t len = strlen(user), pos = 0, count = 0;

	while (pos < len) {
		uint32_t cp;
		/* A name longer than the password cannot be inside it. */
		if (count >= n)
			return;
		pos += rules_decode_lenient(u + pos, len - pos, &cp);
		name[count++] = rules_fold(cp);
	}
	if (count >= RULES_MIN_WORD &&
	    rules_contains_word(folded, n, name, count))
		rules_add(res, RULE_CONTAINS_USER);
}

static void rules_check_gecos(const char *gecos, const uint32_t *folded,
			      size_t n, struct rules_result *res)
{
	uint32_t word[RULES_MAX_BYTES];
	const unsigned char *g = (const unsigned char *)gecos;
	size_t len = strlen(gecos), pos = 0, count = 0;
	bool too_long = false;

	for (;;) {
		uint32_t cp = RULES_NO_CHAR;
		if (pos < len)
			pos += rules_decode_lenient(g + pos, len - pos, &cp);
		if (rules_is_separator(cp)) {
			if (!too_long && count >= RULES_MIN_WORD &&
			    rules_contains_word(folded, n, word, count)) {
				rules_add(res, RULE_CONTAINS_GECOS);
				return;
			}
			count = 0;
			too_long = false;
		} else if (count < n && count < RULES_MAX_BYTES) {
			word[count++] = rules_fold(cp);
		} else {
			too_long = true; /* longer than the password */
		}
		if (pos >= len && cp == RULES_NO_CHAR)
			break;
	}
}

/* Passes auxerror back to libpwquality, which frees it when it owns
 * memory (pwquality.h: not doing so can leak); the text is unused. */
static void rules_pwquality_release(int rc, void *aux)
{
	char discard[PWQ_MAX_ERROR_MESSAGE_LEN];

	if (rc < 0)
		(void)pwquality_strerror(discard, sizeof(discard), rc, aux);
}

/*
 * libpwquality with every check disabled except the ones we delegate to
 * it. Built per call so that nothing is shared between threads, and never
 * from /etc/security/pwquality.conf: pam_policy.conf is the one policy.
 * MIN_LENGTH cannot go below 6 there; our own minlen is authoritative and
 * its MIN_LENGTH error is ignored.
 */
static pwquality_settings_t *rules_pwquality_settings(bool dictcheck,
						      const char *dictpath,
						      int difok)
{
	static const int zero_settings[] = {
		PWQ_SETTING_DIG_CREDIT, PWQ_SETTING_UP_CREDIT,
		PWQ_SETTING_LOW_CREDIT, PWQ_SETTING_OTH_CREDIT,
		PWQ_SETTING_MIN_CLASS, PWQ_SETTING_MAX_REPEAT,
		PWQ_SETTING_MAX_CLASS_REPEAT, PWQ_SETTING_MAX_SEQUENCE,
		PWQ_SETTING_GECOS_CHECK, PWQ_SETTING_USER_CHECK,
	};
	pwquality_settings_t *pwq = pwquality_default_settings();
	int rc = 0;

	if (pwq == NULL)
		return NULL;
	rc |= pwquality_set_int_value(pwq, PWQ_SETTING_MIN_LENGTH, 6);
	for (size_t i = 0; i < sizeof(zero_settings) / sizeof(zero_settings[0]);
	     i++)
		rc |= pwquality_set_int_value(pwq, zero_settings[i], 0);
	rc |= pwquality_set_int_value(pwq, PWQ_SETTING_DICT_CHECK,
				      dictcheck ? 1 : 0);
	rc |= pwquality_set_int_value(pwq, PWQ_SETTING_DIFF_OK,
				      difok > 0 ? difok : 0);
	if (dictcheck && dictpath != NULL && dictpath[0] != '\0')
		rc |= pwquality_set_str_value(pwq, PWQ_SETTING_DICT_PATH, dictpath);
	if (rc != 0) {
		pwquality_free_settings(pwq);
		return NULL;
	}
	return pwq;
}

/* One file of the dictionary: DICTPATH + suffix, readable by the caller. */
static bool rules_dictionary_file(const char *dictpath, const char *suffix)
{
	char path[POLICY_MAX_PATH + 16];
	int n = snprintf(path, sizeof(path), "%s%s", dictpath, suffix);

	return n > 0 && (size_t)n < sizeof(path) &&
	       faccessat(AT_FDCWD, path, R_OK, AT_EACCESS) == 0;
}

/*
 * Without its dictionary cracklib answers "error loading dictionary"
 * (translated in some locales) for every password, which would read as
 * "based on a dictionary word", and prints to the caller's stderr - the
 * user's terminal under passwd. So its files (as PWOpen opens them) are
 * looked for before cracklib is asked.
 */
static bool rules_dictionary_present(const char *dictpath)
{
	if (dictpath == NULL || dictpath[0] == '\0')
		return true; /* cracklib's own default; its answer decides */
	return (rules_dictionary_file(dictpath, ".pwd") ||
		rules_dictionary_file(dictpath, ".pwd.gz")) &&
	       rules_dictionary_file(dictpath, ".pwi");
}

/* Present but not loadable (corrupt, unreadable to cracklib). */
static bool rules_dictionary_failed(const void *aux)
{
	return aux != NULL && strcmp((const char *)aux, "error loading dictionary") == 0;
}

/*
 * cracklib explains itself in English text; only "dictionary" verdicts are
 * dictionary words, the rest ("too simplistic/systematic", "not enough
 * different characters") say the password is too simple.
 */
static pp_err rules_pwquality_map(int rc, const void *aux,
				  bool own_systematic, struct rules_result *res)
{
	if (rc >= 0)
		return PP_OK;
	switch (rc) {
	case PWQ_ERROR_CRACKLIB_CHECK:
		/*
		 * cracklib's "too simplistic/systematic" counts every pair of
		 * neighbouring letters anywhere ("st", "op", "mn"), so it
		 * refuses long passphrases. With guesscheck and maxsequence on,
		 * pam_policy's own sequence, repeat and guessable rules judge
		 * that instead.
		 */
		if (own_systematic && aux != NULL &&
		    strstr((const char *)aux, "systematic") != NULL)
			return PP_OK;
		if (aux != NULL && strstr((const char *)aux, "dictionary") == NULL)
			rules_add(res, RULE_TOO_SIMPLE);
		else
			rules_add(res, RULE_DICTIONARY_WORD);
		return PP_OK;
	case PWQ_ERROR_TOO_SIMILAR:
	case PWQ_ERROR_CASE_CHANGES_ONLY:
	case PWQ_ERROR_ROTATED:
		rules_add(res, RULE_TOO_SIMILAR);
		return PP_OK;
	case PWQ_ERROR_SAME_PASSWORD:
		rules_add(res, RULE_SAME_AS_OLD);
		return PP_OK;
	case PWQ_ERROR_PALINDROME:
		rules_add(res, RULE_PALINDROME);
		return PP_OK;
	case PWQ_ERROR_MIN_LENGTH:
		return PP_OK; /* too_short is ours, counted in code points */
	case PWQ_ERROR_MEM_ALLOC:
		return PP_ERR_NOMEM;
	default:
		return PP_ERR_INTERNAL;
	}
}

/*
 * pwquality_check() stops at its first error, so it runs twice: once
 * without the old password (palindrome, then the dictionary), and once
 * with it and the dictionary off (same, case changes, similarity,
 * rotation). A palindrome still hides the dictionary verdict; the password
 * is rejected either way.
 */
static pp_err rules_check_pwquality(const struct policy *p,
				    const char *password,
				    const char *old_password,
				    struct rules_result *res)
{
	pwquality_settings_t *pwq = NULL;
	void *aux = NULL;
	pp_err err = PP_OK;
	int rc;

	if (p->dictcheck && !rules_dictionary_present(p->dictpath))
		return PP_ERR_CONFIG;
	(void)pthread_mutex_lock(&rules_pwquality_lock);

	pwq = rules_pwquality_settings(p->dictcheck, p->dictpath, p->difok);
	if (pwq == NULL) {
		err = PP_ERR_NOMEM;
		goto out;
	}
	rc = pwquality_check(pwq, password, NULL, NULL, &aux);
	if (rc == PWQ_ERROR_CRACKLIB_CHECK && rules_dictionary_failed(aux))
		err = PP_ERR_CONFIG;
	else
		err = rules_pwquality_map(rc, aux, p->guesscheck && p->maxsequence > 0,
					  res);
	rules_pwquality_release(rc, aux);
	if (err != PP_OK)
		goto out;

	if (old_password != NULL && old_password[0] != '\0') {
		pwquality_free_settings(pwq);
		pwq = rules_pwquality_settings(false, NULL, p->difok);
		if (pwq == NULL) {
			err = PP_ERR_NOMEM;
			goto out;
		}
		aux = NULL;
		rc = pwquality_check(pwq, password, old_password, NULL, &aux);
		err = rules_pwquality_map(rc, aux, p->guesscheck && p->maxsequence > 0,
					  res);
		rules_pwquality_release(rc, aux);
	}
out:
	if (pwq != NULL)
		pwquality_free_settings(pwq);
	(void)pthread_mutex_unlock(&rules_pwquality_lock);
	return err;
}

/* guessable and too_weak (guess.h), on the NFC form. */
static pp_err rules_check_guess(const struct policy *p, const char *nfc,
				const struct rules_context *ctx,
				struct rules_result *res)
{
	struct guess_context gctx = { NULL, NULL, NULL, NULL };
	struct guess_result g;
	pp_err err;

	if (!p->guesscheck && p->min_strength_bits <= 0)
		return PP_OK;
	if (ctx != NULL) {
		gctx.user = ctx->user;
		gctx.gecos = ctx->gecos;
		gctx.host = ctx->host;
		gctx.service = ctx->service;
	}
	err = guess_check(p, nfc, &gctx, &g);
	if (err != PP_OK)
		return err;
	res->guess_found = g.found;
	res->guess_points = g.points;
	res->strength_bits = g.bits;
	if (g.guessable)
		rules_add(res, RULE_GUESSABLE);
	if (g.too_weak)
		rules_add(res, RULE_TOO_WEAK);
	return PP_OK;
}

/* ---- the breach filter ---- */

pp_err rules_blocklist_open(const struct policy *p, struct blocklist **out,
			    char *why, size_t whylen)
{
	bool named;
	pp_err rc;

	if (out == NULL)
		return PP_ERR_INVALID;
	*out = NULL;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (p == NULL)
		return PP_ERR_INVALID;
	if (p->blocklist[0] == '\0')
		return PP_OK;
	named = p->source[POLICY_OPT_BLOCKLIST] != POLICY_SOURCE_DEFAULT;
	rc = blocklist_open(p->blocklist, out, why, whylen);
	if (rc != PP_ERR_NOT_FOUND)
		return rc;
	if (!named) {
		/* Nothing installed at the default path: the check is off. */
		if (why != NULL && whylen > 0)
			why[0] = '\0';
		return PP_OK;
	}
	pp_errorf(why, whylen, "the breach filter %s (blocklist) does not exist: build it "
		  "with \"pam_policyctl blocklist build\" or set blocklist to another file "
		  "(empty for none)", p->blocklist);
	return PP_ERR_CONFIG;
}

/* One lookup; PP_OK with *listed set, PP_ERR_IO when the filter failed. */
static pp_err rules_lookup(struct blocklist *bl, const char *text, size_t len,
			   bool *listed)
{
	int found = blocklist_contains(bl, text, len);

	if (found < 0)
		return PP_ERR_IO;
	if (found > 0)
		*listed = true;
	return PP_OK;
}

/*
 * The forms of rules_breached, on a password known to be valid UTF-8 of
 * at most RULES_MAX_BYTES bytes: as typed, NFC, core (of the NFC form),
 * each looked up only where it differs from the forms before it.
 */
static pp_err rules_breached_forms(struct blocklist *bl, const char *password,
				   size_t bytes, bool *listed)
{
	char *nfc = NULL, *core = NULL;
	size_t nfc_len = 0, core_len;
	int saved;
	pp_err rc;

	rc = rules_lookup(bl, password, bytes, listed);
	if (rc != PP_OK || *listed)
		return rc;
	rc = utf8_nfc(password, bytes, &nfc, &nfc_len);
	if (rc != PP_OK)
		return rc == PP_ERR_INVALID ? PP_ERR_INTERNAL : rc;
	if (nfc_len != bytes || memcmp(nfc, password, bytes) != 0)
		rc = rules_lookup(bl, nfc, nfc_len, listed);
	if (rc != PP_OK || *listed || nfc_len == 0 || nfc_len > STRENGTH_MAX_INPUT)
		goto out;
	core = malloc(STRENGTH_OUT_MAX);
	if (core == NULL) {
		rc = PP_ERR_NOMEM;
		goto out;
	}
	/* A core that cannot be made (nothing to fold) has nothing to add. */
	if (strength_core(nfc, core, STRENGTH_OUT_MAX) == PP_OK) {
		core_len = strlen(core);
		if (core_len > 0 && (core_len != nfc_len || memcmp(core, nfc, nfc_len) != 0) &&
		    (core_len != bytes || memcmp(core, password, bytes) != 0))
			rc = rules_lookup(bl, core, core_len, listed);
	}
out:
	saved = errno;     /* the lookup's, for the caller's log line */
	if (core != NULL) {
		pp_wipe(core, STRENGTH_OUT_MAX);
		free(core);
	}
	rules_context_free(&nfc, nfc_len);
	errno = saved;
	return rc;
}

pp_err rules_breached(struct blocklist *bl, const char *password, bool *listed)
{
	size_t bytes;

	if (listed == NULL)
		return PP_ERR_INVALID;
	*listed = false;
	if (bl == NULL || password == NULL)
		return PP_ERR_INVALID;
	bytes = strnlen(password, RULES_MAX_BYTES + 1);
	if (bytes == 0 || bytes > RULES_MAX_BYTES || !utf8_valid(password, bytes))
		return rules_lookup(bl, password, strlen(password), listed);
	return rules_breached_forms(bl, password, bytes, listed);
}

pp_err rules_check(const struct policy *p, const char *password,
		   const struct rules_context *ctx, struct rules_result *out)
{
	uint32_t cps[RULES_MAX_BYTES];
	uint32_t folded[RULES_MAX_BYTES];
	char *nfc = NULL, *old_nfc = NULL, *name_nfc = NULL;
	size_t bytes, nfc_len = 0, old_len = 0, name_len = 0, n = 0, pos = 0;
	const char *old = ctx != NULL ? ctx->old_password : NULL;
	long length;
	pp_err err = PP_OK;

	if (out == NULL)
		return PP_ERR_INVALID;
	memset(out, 0, sizeof(*out));
	out->length = -1;
	out->guess_points = -1;
	out->strength_bits = -1;
	if (p == NULL || password == NULL)
		return PP_ERR_INVALID;

	bytes = strnlen(password, RULES_MAX_BYTES + 1);
	if (bytes > RULES_MAX_BYTES) {
		rules_add(out, RULE_TOO_LONG);
		return PP_OK;
	}
	/* The other rules would only judge bytes we cannot interpret. */
	if (!utf8_valid(password, bytes)) {
		rules_add(out, RULE_INVALID_UTF8);
		return PP_OK;
	}
	/* Every rule below judges the canonical form (utf8.h). */
	err = utf8_nfc(password, bytes, &nfc, &nfc_len);
	if (err != PP_OK)
		return err == PP_ERR_INVALID ? PP_ERR_INTERNAL : err;
	/* Its history hash, too, must fit what the daemon takes. */
	if (nfc_len > RULES_MAX_BYTES) {
		rules_add(out, RULE_TOO_LONG);
		goto cleanup;
	}
	length = utf8_length(nfc, nfc_len);
	if (length < 0) {
		err = PP_ERR_INTERNAL; /* NFC of valid text is valid */
		goto cleanup;
	}
	out->length = length;

	while (pos < nfc_len && n < RULES_MAX_BYTES) {
		uint32_t cp;
		size_t step = utf8_decode((const unsigned char *)nfc + pos,
					  nfc_len - pos, &cp);
		if (step == 0) {
			err = PP_ERR_INTERNAL; /* utf8_length said valid */
			goto cleanup;
		}
		cps[n] = cp;
		folded[n] = rules_fold(cp);
		n++;
		pos += step;
	}

	if (length < p->minlen)
		rules_add(out, RULE_TOO_SHORT);
	rules_check_classes(p, cps, n, out);
	rules_check_runs(p, cps, n, out);
	if (ctx != NULL && p->usercheck && ctx->user != NULL) {
		const char *user = rules_context_nfc(ctx->user, &name_nfc, &name_len);
		if (user == NULL) {
			err = PP_ERR_NOMEM;
			goto cleanup;
		}
		rules_check_user(user, folded, n, out);
		rules_context_free(&name_nfc, name_len);
	}
	if (ctx != NULL && p->gecoscheck && ctx->gecos != NULL) {
		const char *gecos = rules_context_nfc(ctx->gecos, &name_nfc, &name_len);
		if (gecos == NULL) {
			err = PP_ERR_NOMEM;
			goto cleanup;
		}
		rules_check_gecos(gecos, folded, n, out);
		rules_context_free(&name_nfc, name_len);
	}
	if (old != NULL && old[0] != '\0') {
		old = rules_context_nfc(old, &old_nfc, &old_len);
		if (old == NULL) {
			err = PP_ERR_NOMEM;
			goto cleanup;
		}
	}
	if (nfc_len > 0)
		err = rules_check_pwquality(p, nfc, old, out);
	if (err == PP_OK && nfc_len > 0)
		err = rules_check_guess(p, nfc, ctx, out);
	if (err == PP_OK && nfc_len > 0 && ctx != NULL && ctx->blocklist != NULL) {
		bool listed = false;

		err = rules_breached_forms(ctx->blocklist, password, bytes, &listed);
		if (listed)
			rules_add(out, RULE_BREACHED);
	}
cleanup:
	pp_wipe(cps, sizeof(cps));
	pp_wipe(folded, sizeof(folded));
	rules_context_free(&name_nfc, name_len);
	rules_context_free(&old_nfc, old_len);
	rules_context_free(&nfc, nfc_len);
	return err;
}

bool rules_hard_limit(const struct rules_result *res)
{
	return res != NULL &&
	       (res->failed[RULE_TOO_LONG] || res->failed[RULE_INVALID_UTF8] ||
		res->length == 0);
}

void rules_add(struct rules_result *res, enum rules_reason r)
{
	if (res == NULL || (unsigned)r >= RULE_COUNT || res->failed[r])
		return;
	res->failed[r] = true;
	res->count++;
}

const char *rules_reason_code(enum rules_reason r)
{
	if ((unsigned)r >= RULE_COUNT)
		return "unknown";
	return rules_codes[r];
}

/* A sentence without placeholders into buf (it may contain "%"). */
static void say_one(char *buf, size_t len, const char *text)
{
	snprintf(buf, len, "%s", text);
}

void rules_reason_message(enum rules_reason r, const struct policy *p,
			  const struct rules_result *res, char *buf,
			  size_t len)
{
	struct policy defaults;
	long has = res != NULL ? res->length : -1;
	int days = res != NULL ? res->min_age_days_left : 0;

	if (buf == NULL || len == 0)
		return;
	if (p == NULL) {
		policy_defaults(&defaults);
		p = &defaults;
	}
	switch (r) {
	case RULE_TOO_SHORT:
		if (has >= 0)
			/* TRANSLATORS: %1$d is the minimum length, %2$ld the
			   length of the password typed (both in characters). */
			snprintf(buf, len,
				 P_("It is too short: use at least %1$d character (it has %2$ld).",
				    "It is too short: use at least %1$d characters (it has %2$ld).",
				    p->minlen),
				 p->minlen, has);
		else
			snprintf(buf, len,
				 P_("It is too short: use at least %d character.",
				    "It is too short: use at least %d characters.", p->minlen),
				 p->minlen);
		break;
	case RULE_TOO_LONG:
		snprintf(buf, len,
			 P_("It is too long: use at most %d character (fewer if it has accented letters or symbols).",
			    "It is too long: use at most %d characters (fewer if it has accented letters or symbols).",
			    RULES_MAX_BYTES),
			 RULES_MAX_BYTES);
		break;
	case RULE_INVALID_UTF8:
		say_one(buf, len,
			_("It contains bytes that are not valid UTF-8 text: type it again using only letters, digits and symbols from your keyboard."));
		break;
	case RULE_MISSING_UPPER:
		say_one(buf, len, _("It needs at least one uppercase letter (A-Z)."));
		break;
	case RULE_MISSING_LOWER:
		say_one(buf, len, _("It needs at least one lowercase letter (a-z)."));
		break;
	case RULE_MISSING_DIGIT:
		say_one(buf, len, _("It needs at least one digit (0-9)."));
		break;
	case RULE_MISSING_SPECIAL:
		say_one(buf, len,
			/* xgettext:no-c-format */
			_("It needs at least one special character, such as ! # % or a space."));
		break;
	case RULE_TOO_FEW_CLASSES:
		/* TRANSLATORS: %1$d is how many kinds are required, %2$d how
		   many the password has. */
		snprintf(buf, len,
			 P_("It needs at least %1$d of these kinds of characters: uppercase letters, lowercase letters, digits, special characters (it has %2$d).",
			    "It needs at least %1$d of these kinds of characters: uppercase letters, lowercase letters, digits, special characters (it has %2$d).",
			    p->minclass),
			 p->minclass, res != NULL ? res->classes_found : 0);
		break;
	case RULE_TOO_MANY_REPEATS:
		snprintf(buf, len,
			 P_("It repeats the same character too often: use it at most %d time in a row.",
			    "It repeats the same character too often: use it at most %d times in a row.",
			    p->maxrepeat),
			 p->maxrepeat);
		break;
	case RULE_SEQUENCE:
		snprintf(buf, len,
			 P_("It contains a run of consecutive characters like \"12345\" or \"abcde\": use at most %d in a row.",
			    "It contains a run of consecutive characters like \"12345\" or \"abcde\": use at most %d in a row.",
			    p->maxsequence),
			 p->maxsequence);
		break;
	case RULE_CONTAINS_USER:
		say_one(buf, len, _("It must not contain your user name."));
		break;
	case RULE_CONTAINS_GECOS:
		say_one(buf, len,
			_("It must not contain your name or other words from your account details."));
		break;
	case RULE_DICTIONARY_WORD:
		say_one(buf, len, _("It is based on a dictionary word."));
		break;
	case RULE_TOO_SIMILAR:
		snprintf(buf, len,
			 P_("It is too similar to your current password: change at least %d character.",
			    "It is too similar to your current password: change at least %d characters.",
			    p->difok),
			 p->difok);
		break;
	case RULE_SAME_AS_OLD:
		say_one(buf, len, _("It is the same as your current password."));
		break;
	case RULE_TOO_SIMPLE:
		say_one(buf, len,
			_("It is too simple or systematic (for example a repeated pattern or too few different characters)."));
		break;
	case RULE_PALINDROME:
		say_one(buf, len, _("It reads the same backwards as forwards."));
		break;
	case RULE_REUSED:
		say_one(buf, len,
			_("It was used before: choose a password you have not used recently."));
		break;
	case RULE_SIMILAR_TO_RECENT:
		say_one(buf, len, _("It is too similar to a recent password."));
		break;
	case RULE_TOO_SOON:
		snprintf(buf, len,
			 P_("It was changed too recently: you can change it again in %d day.",
			    "It was changed too recently: you can change it again in %d days.",
			    days),
			 days);
		break;
	case RULE_HISTORY_UNAVAILABLE:
		say_one(buf, len,
			_("The password service is unavailable, so the history check could not run; try again later or contact your administrator."));
		break;
	case RULE_MISMATCH:
		say_one(buf, len, _("The two passwords you typed do not match."));
		break;
	case RULE_GUESSABLE: {
		char found[256];
		unsigned f = res != NULL ? res->guess_found : 0;
		unsigned words = f & ~(unsigned)(GUESS_FOUND_KEYBOARD |
						 GUESS_FOUND_PATTERN |
						 GUESS_FOUND_REPEAT);
		guess_found_text(f, found, sizeof(found));
		/* TRANSLATORS: %s is a list of what was found, such as "a
		   dictionary word, a year, date or digit pattern". */
		snprintf(buf, len,
			 words != 0 || f == 0
				 ? _("It is a common word with small changes (found: %s).")
				 : _("It is made of predictable patterns (found: %s)."),
			 found);
		break;
	}
	case RULE_TOO_WEAK:
		say_one(buf, len,
			_("Add more words or characters: it would be guessed quickly."));
		break;
	case RULE_BREACHED:
		say_one(buf, len,
			_("It appears in a list of passwords exposed in data breaches."));
		break;
	default:
		say_one(buf, len, _("It was not accepted."));
		break;
	}
}

/* Appends to buf without ever overflowing it; on truncation the buffer
 * stays NUL-terminated and later appends are dropped. */
static void rules_append(char *buf, size_t len, const char *text)
{
	size_t used = strnlen(buf, len);

	if (used + 1 >= len)
		return;
	snprintf(buf + used, len - used, "%s", text);
}

void rules_format_message(const struct policy *p,
			  const struct rules_result *res, char *buf,
			  size_t len)
{
	char line[512];

	if (buf == NULL || len == 0)
		return;
	buf[0] = '\0';
	if (res == NULL || res->count == 0)
		return;
	/* TRANSLATORS: the first line of a rejection; each reason follows
	   on a line of its own. */
	rules_append(buf, len, _("The password was not accepted:"));
	for (int r = 0; r < RULE_COUNT; r++) {
		if (!res->failed[r])
			continue;
		rules_reason_message((enum rules_reason)r, p, res, line,
				     sizeof(line));
		rules_append(buf, len, "\n  - ");
		rules_append(buf, len, line);
	}
}

void rules_format_codes(const struct rules_result *res, char *buf,
			size_t len)
{
	bool first = true;

	if (buf == NULL || len == 0)
		return;
	buf[0] = '\0';
	if (res == NULL)
		return;
	for (int r = 0; r < RULE_COUNT; r++) {
		if (!res->failed[r])
			continue;
		if (!first)
			rules_append(buf, len, ",");
		rules_append(buf, len, rules_codes[r]);
		first = false;
	}
}
