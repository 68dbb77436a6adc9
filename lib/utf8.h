/*
 * utf8.h - strict UTF-8 validation and code-point counting.
 *
 * Strict means RFC 3629: no overlong forms, no surrogates (U+D800..U+DFFF),
 * nothing above U+10FFFF, no truncated sequences. NUL is never valid inside
 * a password, so the functions take an explicit length and treat an embedded
 * NUL byte as invalid. Pure functions, thread-safe.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_UTF8_H
#define PAM_POLICY_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
 * valid (see utf8_valid). "Ünïcödé" (precomposed) counts 7.
 */
long utf8_length(const char *s, size_t len);

/*
 * utf8_is_control - true for the Unicode control characters: C0
 * (U+0000..U+001F), DEL (U+007F) and C1 (U+0080..U+009F).
 */
bool utf8_is_control(uint32_t cp);

/*
 * utf8_valid_text - true when s[0..len) is strict UTF-8 (see utf8_valid)
 * without any control character (utf8_is_control): what a user name must
 * be to travel on the wire, be stored or be logged. An empty string is
 * valid text.
 */
bool utf8_valid_text(const char *s, size_t len);

#endif
