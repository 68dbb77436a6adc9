/*
 * utf8.c - strict UTF-8 validation, code-point counting and NFC, with
 * libunistring (u8_check, u8_mbtoucr, u8_mbsnlen, u8_normalize).
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "secret.h"

/* UAX #15: NFC never makes UTF-8 text more than three times longer. */
#define UTF8_NFC_GROWTH 3

/* How much of the stack libunistring's u8_normalize uses for code points
 * (its sort buffer of 128 entries and its decomposition arrays), with a
 * wide margin: cleared after each call (utf8_burn_stack). */
#define UTF8_BURN_BYTES 8192

size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	ucs4_t uc;
	int n;

	if (s == NULL || len == 0 || s[0] == 0x00)
		return 0;
	/* u8_mbtoucr is strict: -1 invalid (overlong, surrogate, above
	 * U+10FFFF), -2 truncated. */
	n = u8_mbtoucr(&uc, s, len);
	if (n <= 0)
		return 0;
	if (cp != NULL)
		*cp = uc;
	return (size_t)n;
}

bool utf8_valid(const char *s, size_t len)
{
	if (s == NULL)
		return len == 0;
	return u8_check((const uint8_t *)s, len) == NULL && memchr(s, '\0', len) == NULL;
}

long utf8_length(const char *s, size_t len)
{
	if (!utf8_valid(s, len))
		return -1;
	if (len == 0)
		return 0;
	return (long)u8_mbsnlen((const uint8_t *)s, len);
}

bool utf8_is_control(uint32_t cp)
{
	return uc_is_general_category(cp, UC_CONTROL);
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

/*
 * u8_normalize keeps the code points it works on in its own stack frame,
 * which it leaves without clearing: overwrite that part of the stack once
 * it has returned. noinline so that this frame lies where its frame was.
 */
static void __attribute__((noinline)) utf8_burn_stack(void)
{
	unsigned char area[UTF8_BURN_BYTES];

	pp_wipe(area, sizeof(area));
	__asm__ __volatile__("" : : "r"(area) : "memory");
}

pp_err utf8_nfc(const char *s, size_t len, char **out, size_t *out_len)
{
	uint8_t *buf, *res;
	size_t cap, got;

	if (out != NULL)
		*out = NULL;
	if (out_len != NULL)
		*out_len = 0;
	if (out == NULL || out_len == NULL || (s == NULL && len > 0) || !utf8_valid(s, len))
		return PP_ERR_INVALID;
	if (len > (SIZE_MAX - 1) / UTF8_NFC_GROWTH)
		return PP_ERR_NOMEM;
	/*
	 * Our own buffer, large enough for any result, so that libunistring
	 * never allocates or reallocates one (a realloc would leave a copy
	 * of the password behind, unwiped); +1 for the NUL.
	 */
	cap = len * UTF8_NFC_GROWTH + 1;
	buf = malloc(cap);
	if (buf == NULL)
		return PP_ERR_NOMEM;
	if (len == 0) {
		buf[0] = '\0';
		*out = (char *)buf;
		return PP_OK;
	}
	got = cap - 1;
	res = u8_normalize(UNINORM_NFC, (const uint8_t *)s, len, buf, &got);
	utf8_burn_stack();
	if (res != buf) {
		/* Never expected (the bound above); wipe whatever it made. */
		if (res != NULL) {
			pp_wipe(res, got);
			free(res);
		}
		pp_wipe(buf, cap);
		free(buf);
		return res == NULL ? PP_ERR_NOMEM : PP_ERR_INTERNAL;
	}
	buf[got] = '\0';
	*out = (char *)buf;
	*out_len = got;
	return PP_OK;
}
