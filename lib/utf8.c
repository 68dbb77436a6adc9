/*
 * utf8.c - strict UTF-8 validation and code-point counting (RFC 3629).
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "utf8.h"

static bool utf8_is_continuation(unsigned char b)
{
	return (b & 0xC0u) == 0x80u;
}

size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char b0;
	unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the 2nd byte */
	size_t need;
	uint32_t value;

	if (s == NULL || len == 0)
		return 0;
	b0 = s[0];
	if (b0 == 0x00)
		return 0;
	if (b0 < 0x80) {
		if (cp != NULL)
			*cp = b0;
		return 1;
	}
	/*
	 * The second-byte ranges below are what make the decoder strict: they
	 * exclude overlong forms (C0, C1, E0 80..9F, F0 80..8F), surrogates
	 * (ED A0..BF) and code points above U+10FFFF (F4 90.., F5..FF).
	 */
	if (b0 >= 0xC2 && b0 <= 0xDF) {
		need = 2;
		value = b0 & 0x1Fu;
	} else if (b0 >= 0xE0 && b0 <= 0xEF) {
		need = 3;
		value = b0 & 0x0Fu;
		if (b0 == 0xE0)
			lo = 0xA0;
		else if (b0 == 0xED)
			hi = 0x9F;
	} else if (b0 >= 0xF0 && b0 <= 0xF4) {
		need = 4;
		value = b0 & 0x07u;
		if (b0 == 0xF0)
			lo = 0x90;
		else if (b0 == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (len < need)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if (!utf8_is_continuation(s[i]))
			return 0;
		value = (value << 6) | (s[i] & 0x3Fu);
	}
	if (cp != NULL)
		*cp = value;
	return need;
}

bool utf8_valid(const char *s, size_t len)
{
	return utf8_length(s, len) >= 0;
}

long utf8_length(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t pos = 0;
	long count = 0;

	if (s == NULL)
		return len == 0 ? 0 : -1;
	while (pos < len) {
		uint32_t cp;
		size_t n = utf8_decode(u + pos, len - pos, &cp);
		if (n == 0)
			return -1;
		pos += n;
		count++;
	}
	return count;
}

bool utf8_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

bool utf8_valid_text(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t pos = 0;

	if (s == NULL)
		return len == 0;
	while (pos < len) {
		uint32_t cp;
		size_t n = utf8_decode(u + pos, len - pos, &cp);
		if (n == 0 || utf8_is_control(cp))
			return false;
		pos += n;
	}
	return true;
}
