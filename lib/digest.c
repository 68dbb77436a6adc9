/*
 * digest.c - SHA-1 and MD4, written from their specifications (FIPS 180-4
 * section 6.1, RFC 1320). Both pad the message with a 1 bit, zeros and
 * the bit length to a multiple of 64 bytes; SHA-1 is big-endian, MD4
 * little-endian.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <string.h>

#include "digest.h"
#include "secret.h"

static inline uint32_t rotl32(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[80];
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

	for (int t = 0; t < 16; t++)
		w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
		       (uint32_t)p[4 * t + 2] << 8 | p[4 * t + 3];
	for (int t = 16; t < 80; t++)
		w[t] = rotl32(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
	for (int t = 0; t < 80; t++) {
		uint32_t f, k;
		if (t < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (t < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (t < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		uint32_t tmp = rotl32(a, 5) + f + e + k + w[t];
		e = d;
		d = c;
		c = rotl32(b, 30);
		b = a;
		a = tmp;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	pp_wipe(w, sizeof(w));
}

/*
 * Feed data through block() in 64-byte blocks, then the padding: 0x80,
 * zeros, and the message length in bits as 8 bytes (big- or little-endian).
 */
static void md_run(uint32_t *h, void (*block)(uint32_t *, const uint8_t *),
		   const uint8_t *data, size_t len, int big_endian)
{
	uint8_t tail[128];
	size_t full = len - len % 64, rest = len % 64, tail_len;
	uint64_t bits = (uint64_t)len * 8;

	for (size_t i = 0; i < full; i += 64)
		block(h, data + i);
	memset(tail, 0, sizeof(tail));
	if (rest > 0)
		memcpy(tail, data + full, rest);
	tail[rest] = 0x80;
	tail_len = rest + 1 + 8 <= 64 ? 64 : 128;
	for (int i = 0; i < 8; i++) {
		uint8_t byte = (uint8_t)(bits >> (8 * i));
		if (big_endian)
			tail[tail_len - 1 - i] = byte;
		else
			tail[tail_len - 8 + i] = byte;
	}
	for (size_t i = 0; i < tail_len; i += 64)
		block(h, tail + i);
	pp_wipe(tail, sizeof(tail));
}

void digest_sha1(const void *data, size_t len, uint8_t out[DIGEST_SHA1_LEN])
{
	uint32_t h[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };

	md_run(h, sha1_block, data, len, 1);
	for (int i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(h[i] >> 8);
		out[4 * i + 3] = (uint8_t)h[i];
	}
	pp_wipe(h, sizeof(h));
}

/* MD4's three rounds (RFC 1320 section 3.4). */
#define MD4_F(x, y, z) (((x) & (y)) | (~(x) & (z)))
#define MD4_G(x, y, z) (((x) & (y)) | ((x) & (z)) | ((y) & (z)))
#define MD4_H(x, y, z) ((x) ^ (y) ^ (z))

static void md4_block(uint32_t h[4], const uint8_t *p)
{
	static const unsigned order2[16] = { 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15 };
	static const unsigned order3[16] = { 0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15 };
	static const unsigned shift1[4] = { 3, 7, 11, 19 };
	static const unsigned shift2[4] = { 3, 5, 9, 13 };
	static const unsigned shift3[4] = { 3, 9, 11, 15 };
	uint32_t x[16], s[4] = { h[0], h[1], h[2], h[3] };

	for (int i = 0; i < 16; i++)
		x[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
		       (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
	/* Each step updates one of a, b, c, d in turn: a, d, c, b, a, ... */
	for (int i = 0; i < 16; i++) {
		uint32_t *a = &s[(4 - i % 4) % 4], b = s[(5 - i % 4) % 4],
			 c = s[(6 - i % 4) % 4], d = s[(7 - i % 4) % 4];
		*a = rotl32(*a + MD4_F(b, c, d) + x[i], shift1[i % 4]);
	}
	for (int i = 0; i < 16; i++) {
		uint32_t *a = &s[(4 - i % 4) % 4], b = s[(5 - i % 4) % 4],
			 c = s[(6 - i % 4) % 4], d = s[(7 - i % 4) % 4];
		*a = rotl32(*a + MD4_G(b, c, d) + x[order2[i]] + 0x5a827999, shift2[i % 4]);
	}
	for (int i = 0; i < 16; i++) {
		uint32_t *a = &s[(4 - i % 4) % 4], b = s[(5 - i % 4) % 4],
			 c = s[(6 - i % 4) % 4], d = s[(7 - i % 4) % 4];
		*a = rotl32(*a + MD4_H(b, c, d) + x[order3[i]] + 0x6ed9eba1, shift3[i % 4]);
	}
	for (int i = 0; i < 4; i++)
		h[i] += s[i];
	pp_wipe(x, sizeof(x));
	pp_wipe(s, sizeof(s));
}

void digest_md4(const void *data, size_t len, uint8_t out[DIGEST_MD4_LEN])
{
	uint32_t h[4] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 };

	md_run(h, md4_block, data, len, 0);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (uint8_t)(h[i] >> (8 * j));
	pp_wipe(h, sizeof(h));
}
