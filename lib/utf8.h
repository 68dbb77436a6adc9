/*
 * utf8.h - strict UTF-8 validation, code-point counting and the canonical
 * (NFC) form, on top of libunistring.
 *
 * Strict means RFC 3629: no overlong forms, no surrogates (U+D800..U+DFFF),
 * nothing above U+10FFFF, no truncated sequences (libunistring's u8_check
 * and u8_mbtoucr). NUL is never valid inside a password, so the functions
 * take an explicit length and treat an embedded NUL byte as invalid.
 *
 * NFC (DESIGN.md section 9): every comparison of a password - its length,
 * its classes, the dictionary, the account's names, the history hashes the
 * daemon computes - is made on its NFC form (u8_normalize(UNINORM_NFC)),
 * so "e" + U+0301 and the precomposed "é" are the same password. The
 * writer below the module still receives the password exactly as typed.
 * Pure functions, thread-safe.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_UTF8_H
#define PAM_POLICY_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * utf8_decode - decode one code point from s (len bytes available, len > 0).
 * On success stores the code point in *cp and returns its length in bytes
 * (1..4). Returns 0 for an invalid or truncated sequence or a NUL byte.
 */
size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/* utf8_valid - true when s[0..len) is strict UTF-8 without NUL bytes. */
bool utf8_valid(const char *s, size_t len);

/*
 * utf8_length - the number of code points in s[0..len), or -1 when s is not
 * valid (see utf8_valid). "Ünïcödé" (precomposed) counts 7; the same word
 * decomposed counts 11: count the NFC form (utf8_nfc) to get 7 for both.
 */
long utf8_length(const char *s, size_t len);

/*
 * utf8_is_control - true for the Unicode control characters (general
 * category Cc): C0 (U+0000..U+001F), DEL (U+007F) and C1 (U+0080..U+009F).
 */
bool utf8_is_control(uint32_t cp);

/*
 * utf8_valid_text - true when s[0..len) is strict UTF-8 (see utf8_valid)
 * without any control character (utf8_is_control): what a user name must
 * be to travel on the wire, be stored or be logged. An empty string is
 * valid text.
 */
bool utf8_valid_text(const char *s, size_t len);

/*
 * utf8_nfc - the NFC form of s[0..len) as a new NUL-terminated string in
 * *out (malloc'd) and its length in bytes (without the NUL) in *out_len.
 * The result may be shorter or longer than s (at most 3 times as long, the
 * Unicode bound for NFC in UTF-8). It holds a password: the caller wipes
 * it with pp_wipe(*out, *out_len + 1) before free(*out). The only copies
 * made on the way are in that buffer (libunistring writes into it; a
 * run of more than 64 combining marks makes libunistring sort them in a
 * scratch buffer of its own, which it frees without wiping).
 * Returns PP_OK; PP_ERR_INVALID when s is not valid (see utf8_valid) or an
 * argument is NULL; PP_ERR_NOMEM. On error *out is NULL and *out_len 0.
 */
pp_err utf8_nfc(const char *s, size_t len, char **out, size_t *out_len) PP_WUR;

#endif
