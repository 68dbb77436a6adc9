/*
 * strength.c - a password's core and skeleton (see strength.h).
 *
 * Only libunistring and libsodium (pp_wipe): the daemon links this file.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "strength.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "secret.h"

/* Folding can expand up to three code points per input code point. */
#define STRENGTH_FOLD_CAP (3 * STRENGTH_MAX_CP)

pp_err strength_fold(const char *password, uint32_t *cp, size_t cap,
		     size_t *n)
{
	uint8_t buf[4 * STRENGTH_FOLD_CAP];
	size_t len, outlen = sizeof(buf), pos = 0, count = 0;
	uint8_t *folded;
	pp_err err = PP_OK;

	if (password == NULL || cp == NULL || n == NULL)
		return PP_ERR_INVALID;
	*n = 0;
	len = strnlen(password, STRENGTH_MAX_INPUT + 1);
	if (len > STRENGTH_MAX_INPUT)
		return PP_ERR_TOO_LONG;
	if (u8_check((const uint8_t *)password, len) != NULL)
		return PP_ERR_INVALID;
	folded = u8_casefold((const uint8_t *)password, len, NULL, UNINORM_NFC,
			     buf, &outlen);
	if (folded == NULL)
		return PP_ERR_NOMEM;
	while (pos < outlen) {
		ucs4_t uc;
		int step = u8_mbtouc(&uc, folded + pos, outlen - pos);
		if (step <= 0) {
			err = PP_ERR_INTERNAL;
			break;
		}
		if (count >= cap) {
			err = PP_ERR_TOO_LONG;
			break;
		}
		cp[count++] = uc;
		pos += (size_t)step;
	}
	if (folded != buf) {
		pp_wipe(folded, outlen);
		free(folded);
	}
	pp_wipe(buf, sizeof(buf));
	if (err != PP_OK) {
		pp_wipe(cp, count * sizeof(*cp));
		return err;
	}
	*n = count;
	return PP_OK;
}

uint32_t strength_unleet(uint32_t c, bool alt)
{
	switch (c) {
	case '0': return 'o';
	case '1': return alt ? 'l' : 'i';
	case '3': return 'e';
	case '4': return 'a';
	case '5': return 's';
	case '7': return 't';
	case '@': return 'a';
	case '$': return 's';
	case '!': return alt ? 'l' : 'i';
	default: return 0;
	}
}

bool strength_is_letter(uint32_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
	return uc_is_general_category(c, UC_CATEGORY_L);
}

/* US QWERTY, shifted and unshifted, as (row, column); rows are staggered
 * so that key (r, c) touches (r + 1, c - 1) and (r + 1, c). */
static bool strength_key(uint32_t c, int *row, int *col)
{
	static const char *const rows[4][2] = {
		{ "1234567890-=", "!@#$%^&*()_+" },
		{ "qwertyuiop[]", "QWERTYUIOP{}" },
		{ "asdfghjkl;'", "ASDFGHJKL:\"" },
		{ "zxcvbnm,./", "ZXCVBNM<>?" },
	};

	if (c == 0 || c >= 0x80)
		return false;
	for (int r = 0; r < 4; r++)
		for (int s = 0; s < 2; s++) {
			const char *hit = strchr(rows[r][s], (int)c);
			if (hit != NULL) {
				*row = r;
				*col = (int)(hit - rows[r][s]);
				return true;
			}
		}
	return false;
}

static bool strength_keys_adjacent(uint32_t a, uint32_t b)
{
	int ra, ca, rb, cb;

	if (!strength_key(a, &ra, &ca) || !strength_key(b, &rb, &cb))
		return false;
	if (ra == rb)
		return ca - cb == 1 || cb - ca == 1;
	if (rb == ra + 1)
		return cb == ca || cb == ca - 1;
	if (ra == rb + 1)
		return ca == cb || ca == cb - 1;
	return false;
}

size_t strength_keyboard_walk(const uint32_t *cp, size_t n)
{
	size_t len = 1;

	if (cp == NULL || n == 0)
		return 0;
	while (len < n && strength_keys_adjacent(cp[len - 1], cp[len]))
		len++;
	return len >= 4 ? len : 0;
}

static bool strength_digits_value(const uint32_t *cp, size_t k, int *v)
{
	int x = 0;

	for (size_t i = 0; i < k; i++) {
		if (cp[i] < '0' || cp[i] > '9')
			return false;
		x = x * 10 + (int)(cp[i] - '0');
	}
	*v = x;
	return true;
}

static bool strength_is_year(const uint32_t *cp)
{
	int y;
	return strength_digits_value(cp, 4, &y) && y >= 1900 && y <= 2099;
}

static bool strength_day_month(const uint32_t *cp, bool month_first)
{
	int a, b;

	if (!strength_digits_value(cp, 2, &a) ||
	    !strength_digits_value(cp + 2, 2, &b))
		return false;
	if (month_first) {
		int t = a;
		a = b;
		b = t;
	}
	return a >= 1 && a <= 31 && b >= 1 && b <= 12;
}

static bool strength_is_date(const uint32_t *cp, size_t k)
{
	int yy;

	switch (k) {
	case 4:
		return strength_day_month(cp, false) ||
		       strength_day_month(cp, true);
	case 6:
		return (strength_digits_value(cp + 4, 2, &yy) &&
			(strength_day_month(cp, false) ||
			 strength_day_month(cp, true))) ||
		       (strength_digits_value(cp, 2, &yy) &&
			(strength_day_month(cp + 2, false) ||
			 strength_day_month(cp + 2, true)));
	case 8:
		return (strength_is_year(cp + 4) &&
			(strength_day_month(cp, false) ||
			 strength_day_month(cp, true))) ||
		       (strength_is_year(cp) &&
			strength_day_month(cp + 4, true));
	default:
		return false;
	}
}

static bool strength_is_run(const uint32_t *cp, size_t k)
{
	bool same = true, up = true, down = true;

	for (size_t i = 1; i < k; i++) {
		uint32_t a = cp[i - 1] - '0', b = cp[i] - '0';
		same = same && a == b;
		up = up && (b == (a + 1) % 10);
		down = down && (a == (b + 1) % 10);
	}
	return same || ((up || down) && k >= 3);
}

static bool strength_is_repeated_block(const uint32_t *cp, size_t k)
{
	for (size_t period = 1; period <= k / 2; period++) {
		bool ok = k % period == 0;
		for (size_t i = period; ok && i < k; i++)
			ok = cp[i] == cp[i - period];
		if (ok)
			return true;
	}
	return false;
}

size_t strength_digit_pattern(const uint32_t *cp, size_t n)
{
	size_t digits = 0, best = 0;

	if (cp == NULL)
		return 0;
	while (digits < n && cp[digits] >= '0' && cp[digits] <= '9')
		digits++;
	for (size_t k = 2; k <= digits; k++) {
		if ((k == 4 && strength_is_year(cp)) || strength_is_date(cp, k) ||
		    strength_is_run(cp, k) || strength_is_repeated_block(cp, k))
			best = k;
	}
	return best;
}

/* Appends the UTF-8 of cp[0..n) to out at *used; false when it does not
 * fit (with room for the final NUL). */
static bool strength_put(char *out, size_t outlen, size_t *used,
			 const uint32_t *cp, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t tmp[6];
		int k = u8_uctomb(tmp, cp[i], (ptrdiff_t)sizeof(tmp));
		if (k <= 0 || *used + (size_t)k + 1 > outlen) {
			pp_wipe(tmp, sizeof(tmp));
			return false;
		}
		memcpy(out + *used, tmp, (size_t)k);
		*used += (size_t)k;
		pp_wipe(tmp, sizeof(tmp));
	}
	out[*used] = '\0';
	return true;
}

static bool strength_put_text(char *out, size_t outlen, size_t *used,
			      const char *text)
{
	size_t k = strlen(text);

	if (*used + k + 1 > outlen)
		return false;
	memcpy(out + *used, text, k + 1);
	*used += k;
	return true;
}

/*
 * The core as code points, in place: cp[0..*n) is the folded password on
 * entry. *pre and *suf receive the lengths of the affixes (0 and 0 when
 * there is no letter and the core is the folded password itself).
 */
static void strength_core_cp(uint32_t *cp, size_t *n, size_t *pre,
			     size_t *suf)
{
	size_t first = 0, last, out = 0, total = *n;

	*pre = *suf = 0;
	while (first < total && !strength_is_letter(cp[first]))
		first++;
	if (first == total)
		return; /* no letter: the folded password itself */
	last = total;
	while (!strength_is_letter(cp[last - 1]))
		last--;
	*pre = first;
	*suf = total - last;
	for (size_t i = first; i < last; i++) {
		uint32_t u = strength_unleet(cp[i], false);
		cp[out++] = u != 0 ? u : cp[i];
	}
	/* A run of three or more identical code points collapses to two
	 * (English doubles letters: "passsssword" -> "password"). */
	{
		size_t w = 0;
		for (size_t r = 0; r < out;) {
			size_t e = r;
			while (e < out && cp[e] == cp[r])
				e++;
			if (e - r >= 3) {
				cp[w++] = cp[r];
				cp[w++] = cp[r];
			} else {
				for (size_t k = r; k < e; k++)
					cp[w++] = cp[k];
			}
			r = e;
		}
		out = w;
	}
	*n = out;
}

static pp_err strength_core_common(const char *password, char *out,
				   size_t outlen, bool skeleton)
{
	uint32_t cp[STRENGTH_FOLD_CAP];
	uint32_t shape[STRENGTH_FOLD_CAP];
	size_t n = 0, pre = 0, suf = 0, used = 0, core_start;
	char head[32];
	pp_err err;

	if (out == NULL || outlen == 0)
		return PP_ERR_INVALID;
	out[0] = '\0';
	err = strength_fold(password, cp, STRENGTH_FOLD_CAP, &n);
	if (err != PP_OK)
		return err;
	if (n == 0) {
		err = PP_ERR_INVALID;
		goto done;
	}
	/* The affixes' shapes, taken before the core is made in place. */
	for (size_t i = 0; i < n; i++)
		shape[i] = (cp[i] >= '0' && cp[i] <= '9') ? '9' : '#';
	{
		size_t total = n;
		strength_core_cp(cp, &n, &pre, &suf);
		if (skeleton) {
			/* prefix shape | core length : core | suffix shape */
			if (!strength_put(out, outlen, &used, shape, pre) ||
			    !strength_put_text(out, outlen, &used, "|")) {
				err = PP_ERR_TOO_LONG;
				goto done;
			}
			core_start = used;
			if (!strength_put(out, outlen, &used, cp, n)) {
				err = PP_ERR_TOO_LONG;
				goto done;
			}
			/* Insert "<bytes>:" before the core. */
			{
				size_t core_bytes = used - core_start;
				int k = snprintf(head, sizeof(head), "%zu:",
						 core_bytes);
				if (k <= 0 || used + (size_t)k + 1 > outlen) {
					err = PP_ERR_TOO_LONG;
					goto done;
				}
				memmove(out + core_start + k, out + core_start,
					core_bytes + 1);
				memcpy(out + core_start, head, (size_t)k);
				used += (size_t)k;
			}
			if (!strength_put_text(out, outlen, &used, "|") ||
			    !strength_put(out, outlen, &used,
					  shape + (total - suf), suf)) {
				err = PP_ERR_TOO_LONG;
				goto done;
			}
		} else if (!strength_put(out, outlen, &used, cp, n)) {
			err = PP_ERR_TOO_LONG;
		}
	}
done:
	if (err != PP_OK) {
		pp_wipe(out, outlen);
		out[0] = '\0';
	}
	pp_wipe(cp, sizeof(cp));
	pp_wipe(shape, sizeof(shape));
	return err;
}

pp_err strength_core(const char *password, char *out, size_t outlen)
{
	return strength_core_common(password, out, outlen, false);
}

pp_err strength_skeleton(const char *password, char *out, size_t outlen)
{
	return strength_core_common(password, out, outlen, true);
}
