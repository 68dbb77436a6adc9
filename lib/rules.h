/*
 * rules.h - the password rules, as pure functions.
 *
 * rules_check() runs every rule and reports every violation at once; it does
 * no I/O of its own beyond libpwquality's read-only dictionary lookup (and,
 * when that fails, looking whether the dictionary's files are there), never
 * prompts and never logs. Callers decide what to show. Each violation has a
 * stable reason code (for logs and audits) and a plain-language message.
 *
 * One canonical form (DESIGN.md section 9): every rule judges the NFC
 * form of the password (utf8_nfc), and compares it with the NFC forms of
 * the user name, the GECOS field and the old password, so "e" + U+0301
 * and "é" get the same verdict. The caller passes the password as typed
 * (and hands exactly that to the writer below); a caller that sends it to
 * the daemon sends its NFC form.
 *
 * Character classes, by Unicode properties (libunistring's tables, the
 * same in every locale; documented in pam_policy.conf(5)):
 *   upper   - the Uppercase property or a titlecase letter: A-Z, "Ä", "Ω"
 *   lower   - the Lowercase property: a-z, "ä", "ß"
 *   digit   - ASCII 0-9 only: other decimal digits ("٣", fullwidth "３")
 *             count as special, as the message "(0-9)" says
 *   special - everything else: ASCII punctuation and space, and characters
 *             that are neither upper nor lower (e.g. "€", "漢")
 *   none    - a combining mark that NFC could not join with the letter
 *             before it ("q" + U+0301) adds to the length, not to a class
 *
 * Length is counted in code points of the NFC form; RULES_MAX_BYTES is
 * counted in bytes, of the password as typed and of its NFC form.
 * repeats: more than maxrepeat identical consecutive code points.
 * sequence: more than maxsequence consecutive code points each exactly one
 * above ("abcde", "12345") or exactly one below ("edcba") the previous one,
 * compared as typed (case-sensitive). The user name (at least 3 code
 * points) and GECOS words (runs of letters/digits, at least 3 code points)
 * match case-insensitively, forwards or reversed.
 *
 * libpwquality (dictionary, similarity, same-as-old, palindrome) is set up
 * per call with only those checks on; /etc/security/pwquality.conf is never
 * read, pam_policy.conf is the one policy. Its dictionary check (cracklib)
 * needs the calling uid to exist in the passwd database, and reads the
 * dictionary at p->dictpath (DICTPATH.pwd or .pwd.gz, and .pwi).
 *
 * guessable and too_weak (guess.h) run on the NFC form after the rules
 * above: the core of the password after undoing the usual mangling is
 * matched against word lists (read once per process, then cached), the
 * account's names, host and service, and the estimate comes from zxcvbn.
 *
 * breached runs last (DESIGN.md section 9: after zxcvbn, before the
 * daemon) when the caller passes an open breach filter (blocklist.h) in
 * ctx->blocklist: the password is looked up as typed, in its NFC form and
 * as its core (strength_core: "P@ssw0rd2024!" -> "password"), each form
 * only where it differs from the ones before, with one pread of one page
 * per lookup. That is the rules' only I/O besides cracklib's; it needs no
 * daemon.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_RULES_H
#define PAM_POLICY_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "policy.h"

struct blocklist;

/* Longest password accepted, in bytes: libxcrypt hashes at most 511
 * (crypt(3): CRYPT_MAX_PASSPHRASE_SIZE 512 includes the NUL). */
#define RULES_MAX_BYTES 511

/* Stable reason codes. Never renumber or rename: logs and audits use them. */
enum rules_reason {
	RULE_TOO_SHORT = 0,       /* "too_short" */
	RULE_TOO_LONG,            /* "too_long": over RULES_MAX_BYTES bytes (typed or NFC) */
	RULE_INVALID_UTF8,        /* "invalid_utf8" (includes NUL bytes) */
	RULE_MISSING_UPPER,       /* "missing_upper" */
	RULE_MISSING_LOWER,       /* "missing_lower" */
	RULE_MISSING_DIGIT,       /* "missing_digit" */
	RULE_MISSING_SPECIAL,     /* "missing_special" */
	RULE_TOO_FEW_CLASSES,     /* "too_few_classes" (minclass) */
	RULE_TOO_MANY_REPEATS,    /* "too_many_repeats" (maxrepeat) */
	RULE_SEQUENCE,            /* "sequence" (maxsequence, e.g. "12345", "abcde") */
	RULE_CONTAINS_USER,       /* "contains_user" */
	RULE_CONTAINS_GECOS,      /* "contains_gecos" */
	RULE_DICTIONARY_WORD,     /* "dictionary_word" */
	RULE_TOO_SIMILAR,         /* "too_similar" to the old password (difok) */
	RULE_SAME_AS_OLD,         /* "same_as_old" */
	RULE_PALINDROME,          /* "palindrome" */
	RULE_TOO_SIMPLE,          /* "too_simple": cracklib finds it systematic */
	RULE_REUSED,              /* "reused": in the history (daemon) */
	RULE_TOO_SOON,            /* "too_soon": min_age_days not reached (daemon) */
	RULE_HISTORY_UNAVAILABLE, /* "history_unavailable": daemon unreachable, deny */
	RULE_MISMATCH,            /* "mismatch": the retyped password differed */
	RULE_SIMILAR_TO_RECENT,   /* "similar_to_recent": its skeleton matches one
				     of the last similar_history (daemon) */
	RULE_GUESSABLE,           /* "guessable": a mangled word or name (guess.h) */
	RULE_TOO_WEAK,            /* "too_weak": estimate below min_strength_bits */
	RULE_BREACHED,            /* "breached": in the breach filter (as typed,
				     NFC or its core; blocklist.h) */
	RULE_COUNT
};

/* What the rules know about the change besides the new password. */
struct rules_context {
	const char *user;          /* login name, may be NULL */
	const char *gecos;         /* GECOS field, may be NULL */
	const char *old_password;  /* current password if known, may be NULL */
	const char *host;          /* host name for guessable; NULL: uname() */
	const char *service;       /* PAM service for guessable, may be NULL */
	struct blocklist *blocklist; /* the open breach filter (rules_blocklist_open),
					NULL: no breach check */
};

/* The outcome: which rules failed, and the facts their messages need. */
struct rules_result {
	bool failed[RULE_COUNT];
	unsigned count;            /* number of true entries in failed[] */
	long length;               /* code points of the NFC form, -1 when
				      invalid UTF-8 or too long */
	int classes_found;         /* how many of the four classes appear */
	int min_age_days_left;     /* for RULE_TOO_SOON, set by the caller */
	unsigned guess_found;      /* for RULE_GUESSABLE: enum guess_found bits */
	int guess_points;          /* guessable score (guess.h), -1 if not run */
	int strength_bits;         /* zxcvbn estimate in bits, -1 if not run */
};

/*
 * rules_check - run every rule of p on the NFC form of password
 * (NUL-terminated as typed, any length: over RULES_MAX_BYTES bytes, as
 * typed or once normalised, is itself a violation and nothing else is
 * checked, out->length -1). Invalid UTF-8 is likewise reported alone as
 * RULE_INVALID_UTF8 (out->length -1): the other rules would only judge
 * bytes that cannot be interpreted. The string ends at its first NUL, so a
 * caller holding a password with an embedded NUL must reject it before
 * calling (PAM strings cannot carry one). ctx may be NULL. Fills *out
 * (cleared first).
 * Returns PP_OK whether or not the password passed (see out->count);
 * PP_ERR_CONFIG when dictcheck is on and the dictionary at p->dictpath
 * cannot be loaded (cracklib would call every password a dictionary word:
 * a configuration error, not a verdict); PP_ERR_NOMEM or PP_ERR_INTERNAL
 * when a check could not run. In each of these cases the caller must
 * reject (fail closed); PP_ERR_IO when ctx->blocklist is set and a
 * lookup failed (errno: EBADMSG for a page whose checksum fails - a
 * corrupt filter -, else pread's): the breach check could not run, and
 * the caller must reject too; PP_ERR_INVALID when p, password or
 * out is NULL. Thread-safe. Copies of the password
 * made internally are wiped before returning.
 */
pp_err rules_check(const struct policy *p, const char *password,
		   const struct rules_context *ctx,
		   struct rules_result *out) PP_WUR;

/*
 * rules_hard_limit - true when res (from rules_check) breaks a limit that
 * holds for everyone, root with enforce_for_root = no included: the
 * password is empty, over RULES_MAX_BYTES bytes (what the writer - libxcrypt
 * - and the history can take), or not valid UTF-8 (NUL bytes included). Such a
 * password is never accepted, not even as a warning. False for NULL.
 */
bool rules_hard_limit(const struct rules_result *res);

/*
 * rules_blocklist_open - open the breach filter p->blocklist names, as
 * the module and pam_policyctl do before rules_check (ctx->blocklist).
 * PP_OK with *out NULL when the breach check is off: blocklist is "", or
 * it is the built-in default (not set in the file or as an argument) and
 * no file is there. PP_OK with *out an open filter (blocklist_close it)
 * otherwise. Errors, with one plain sentence naming the file in why
 * (whylen bytes; never a password): PP_ERR_CONFIG when a file named in
 * the configuration is missing, or any file is truncated, corrupt or not
 * a filter; PP_ERR_IO when it cannot be read (errno set); PP_ERR_NOMEM.
 * Each call opens the file anew, so a filter replaced by "pam_policyctl
 * blocklist build" (an atomic rename) is used by the next call.
 */
pp_err rules_blocklist_open(const struct policy *p, struct blocklist **out,
			    char *why, size_t whylen) PP_WUR;

/*
 * rules_breached - is password (NUL-terminated, as typed) in the breach
 * filter bl? Looked up exactly as rules_check does (as typed, NFC, core;
 * one pread each where they differ). *listed is set. A password that is
 * empty, over RULES_MAX_BYTES or not valid UTF-8 is looked up as typed
 * only. Returns PP_OK; PP_ERR_IO when a lookup failed (errno as for
 * rules_check); PP_ERR_NOMEM; PP_ERR_INVALID for NULL arguments. Every
 * copy of the password is wiped. For the auth line (breachcheck), which
 * checks the password just used to log in.
 */
pp_err rules_breached(struct blocklist *bl, const char *password,
		      bool *listed) PP_WUR;

/* rules_add - mark reason r as failed in res (idempotent). */
void rules_add(struct rules_result *res, enum rules_reason r);

/* rules_reason_code - the stable code, e.g. "too_short". */
const char *rules_reason_code(enum rules_reason r);

/*
 * rules_reason_message - one plain-language sentence for reason r, using
 * the numbers of p and res (e.g. "It is too short: use at least 10
 * characters (it has 7)."), into buf (len bytes, always NUL-terminated).
 */
void rules_reason_message(enum rules_reason r, const struct policy *p,
			  const struct rules_result *res, char *buf,
			  size_t len);

/*
 * rules_format_message - the whole rejection message shown to the user:
 * a first line, then one "  - <message>" line per failed rule, in enum
 * order, joined by newlines (no trailing newline); empty when none failed.
 * Truncated safely to len bytes (always NUL-terminated).
 */
void rules_format_message(const struct policy *p,
			  const struct rules_result *res, char *buf,
			  size_t len);

/*
 * rules_format_codes - the failed codes joined by ',' (e.g.
 * "too_short,missing_digit") into buf, for logs. Empty when none failed.
 */
void rules_format_codes(const struct rules_result *res, char *buf,
			size_t len);

#endif
