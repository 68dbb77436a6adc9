/*
 * blocklist.c - the breach filter file: reader and writer.
 *
 * Layout (all integers little-endian; man/pam_policy.ppbl.5 is the
 * reference):
 *
 *   page 0            the header (BLOCKLIST_PAGE_SIZE bytes, zero-padded)
 *   pages 1..P        data pages, BLOCKLIST_PAGE_SIZE bytes each
 *   directory         P 16-bit key deltas, one per data page
 *
 * Every key's digest gives a 64-bit fingerprint f (its first 8 bytes,
 * big-endian), mapped onto the universe [0, U) by x = floor(f * U / 2^64)
 * with U = entries / fp_rate: a password that is not listed meets a listed
 * x with probability entries / U. The sorted distinct x are cut into runs
 * that fill a page each. Page i holds the x in [key[i] << shift,
 * key[i+1] << shift) (the last page: up to U); the directory stores
 * key[i] - key[i-1] (key[0] = 0), which blocklist_open sums into the page
 * bounds it keeps in memory, so a lookup knows the one page to read.
 *
 * Inside a page, the range is cut into four equal parts, and bits 16 ..
 * 16 + 3c - 1 hold, c bits each, how many entries lie below the start of
 * parts 1, 2 and 3 (c = bits for the most entries a page can hold: 11 for
 * k = 29). Each entry is the distance d from the one before (the first of
 * a part: from the part's start), Rice coded with the file's parameter k:
 * the low k bits of d at fixed places from the front (entry j's at bit
 * 16 + 3c + j * k, most significant bit first), the quotient d >> k in
 * unary (that many 0 bits, then a 1) in a stream that runs from the end of
 * the page towards the front (stream bit t is bit t % 8, counted from the
 * least significant, of byte 4095 - t / 8). The two regions grow towards
 * each other; the page is full when the next entry would make them meet,
 * and the bits between stay zero. A reader picks x's part, finds where
 * that part's quotients start by counting 1 bits a word at a time, walks
 * the 1 bits
 * (a few cycles an entry, no bit-by-bit decoding) and reads each remainder
 * by its index. Entry j exists while its 1 bit lies beyond the remainders
 * of j + 1 entries; the first 1 bit that does not is a remainder bit, which
 * ends the page. Bytes 0-1 are the page's check (page_sum folded to 16
 * bits, over the page with those bytes zero, seeded with the page number);
 * the header holds the sum of all pages' 64-bit sums, which "blocklist
 * info" checks.
 *
 * For a mean gap m = U / entries a code costs k + 1 + 1/(e^(2^k/m) - 1)
 * bits (31.41 at m = 1e9, k = 29); pages add 16 bits of check, 33 of
 * counts, 16 of directory and the unused gap (about half a code): 31.49
 * bits an entry in all, and a lookup decodes a quarter of a page.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "blocklist.h"
#include "digest.h"
#include "secret.h"

#define BL_MAGIC        "\x89PPBL\r\n\x1a"
#define BL_MAGIC_LEN    8
#define BL_PAGE         BLOCKLIST_PAGE_SIZE
#define BL_PAGE_BITS    (BL_PAGE * 8)
#define BL_CHECK_BITS   16            /* the page's check, bytes 0-1 */
#define BL_SPAN_MAX     65535         /* directory entries are 16-bit key deltas */
#define BL_PARTS        4             /* a page's range is searched in quarters */
#define BL_SLACK        8             /* zero bytes after a page buffer, for 64-bit loads */
#define BL_RICE_MAX     47            /* remainders are read with one 64-bit load */
#define BL_MAX_PAGES    UINT32_MAX    /* page numbers are 32-bit */
#define BL_FP_MIN       1e-12
#define BL_FP_MAX       1e-3
#define BL_OUT_PAGES    256           /* pages the writer buffers per write */

/* Header field offsets. */
enum {
	H_MAGIC = 0,
	H_VERSION = 8,
	H_KIND = 12,
	H_PAGE_SIZE = 16,
	H_SHIFT = 20,
	H_RICE = 24,
	H_RESERVED = 28,
	H_ENTRIES = 32,
	H_UNIVERSE = 40,
	H_PAGES = 48,
	H_BUILT = 56,
	H_FILE_SIZE = 64,
	H_DIR_SUM = 72,
	H_DATA_SUM = 80,
	H_SOURCES = 88,
	H_SUM = H_SOURCES + BLOCKLIST_SOURCES_MAX, /* covers bytes 0 .. H_SUM-1 */
	H_END = H_SUM + 8,
};

struct blocklist {
	int fd;
	char *path;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	enum blocklist_kind kind;
	uint32_t version;
	unsigned shift;
	unsigned rice;
	uint64_t entries;
	uint64_t universe;
	uint64_t pages;
	uint64_t data_sum;
	int64_t built;
	uint64_t *bases;         /* each page's lower bound (key << shift) */
	char sources[BLOCKLIST_SOURCES_MAX];
	uint64_t page_reads;     /* atomic */
};

/* ---- small helpers ---- */

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return le64toh(v);
}

static inline uint32_t load_le32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return le32toh(v);
}

static inline uint16_t load_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline void store_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static inline void store_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static inline uint64_t load_be64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return be64toh(v);
}

static inline uint64_t rotl64(uint64_t x, unsigned n)
{
	return (x << n) | (x >> (64 - n));
}

#define SUM_K1 0x9e3779b97f4a7c15ULL
#define SUM_K2 0xbf58476d1ce4e5b9ULL
#define SUM_K3 0x94d049bb133111ebULL

static inline uint64_t mix64(uint64_t h)
{
	h ^= h >> 31;
	h *= SUM_K2;
	h ^= h >> 29;
	h *= SUM_K3;
	h ^= h >> 32;
	return h;
}

/*
 * A 64-bit checksum for the header and the directory (not a cryptographic
 * hash: it catches truncation, bit rot and misplaced data, not a forger).
 * Four lanes of multiply-rotate-multiply over 8-byte words, folded with
 * the length and a final avalanche.
 */
static inline uint64_t sum_lane(uint64_t acc, uint64_t w)
{
	return rotl64(acc + w * SUM_K2, 31) * SUM_K1;
}

static uint64_t blocklist_sum(const uint8_t *p, size_t len, uint64_t seed)
{
	uint64_t l0 = seed ^ SUM_K1, l1 = seed + SUM_K2, l2 = seed - SUM_K3,
		 l3 = ~seed * SUM_K1;
	size_t i = 0;

	for (; i + 32 <= len; i += 32) {
		l0 = sum_lane(l0, load_le64(p + i));
		l1 = sum_lane(l1, load_le64(p + i + 8));
		l2 = sum_lane(l2, load_le64(p + i + 16));
		l3 = sum_lane(l3, load_le64(p + i + 24));
	}
	for (; i + 8 <= len; i += 8)
		l0 = sum_lane(l0, load_le64(p + i));
	if (i < len) {
		uint8_t tail[8] = { 0 };
		memcpy(tail, p + i, len - i);
		l1 = sum_lane(l1, load_le64(tail));
	}
	return mix64(rotl64(l0, 1) + rotl64(l1, 7) + rotl64(l2, 12) +
		     rotl64(l3, 18) + (uint64_t)len * SUM_K3);
}

/*
 * A page's 64-bit sum, cheap enough for every lookup (a Fletcher-style
 * pair of running sums in four lanes: additions only, a few hundred
 * cycles a page), over the page with its check bytes (0-1) as zero and
 * seeded with the page number, so that a page read from the wrong place
 * fails too. The caller zeroes bytes 0-1 first.
 */
static uint64_t page_sum(const uint8_t *page, uint64_t index)
{
	uint64_t a0 = index, a1 = index ^ SUM_K1, a2 = index + SUM_K2, a3 = ~index;
	uint64_t b0 = 0, b1 = 0, b2 = 0, b3 = 0;

	for (size_t i = 0; i < BL_PAGE; i += 32) {
		a0 += load_le64(page + i);
		a1 += load_le64(page + i + 8);
		a2 += load_le64(page + i + 16);
		a3 += load_le64(page + i + 24);
		b0 += a0;
		b1 += a1;
		b2 += a2;
		b3 += a3;
	}
	return mix64(mix64(a0 + rotl64(b0, 7)) ^ mix64(a1 + rotl64(b1, 13)) ^
		     (a2 + rotl64(b2, 23)) * SUM_K1 ^ (a3 + rotl64(b3, 41)) * SUM_K3);
}

static inline uint16_t page_check(uint64_t sum)
{
	return (uint16_t)(sum ^ (sum >> 16) ^ (sum >> 32) ^ (sum >> 48));
}

static unsigned bit_length(uint64_t v)
{
	return v == 0 ? 0 : 64 - (unsigned)__builtin_clzll(v);
}

static inline uint64_t map_universe(uint64_t f, uint64_t universe)
{
	return (uint64_t)(((unsigned __int128)f * universe) >> 64);
}

/*
 * The directory's key unit: 2^shift, about a sixteenth of the mean gap m,
 * so that a page (about a thousand gaps) spans some 16,000 units, well
 * inside a 16-bit delta, and a page boundary seldom falls in the unit of
 * the entry before it.
 */
static unsigned dir_shift(uint64_t universe, uint64_t entries)
{
	uint64_t mean = universe / (entries > 0 ? entries : 1);
	unsigned bits = bit_length(mean);
	return bits > 5 ? bits - 5 : 0;
}

/* Bits of each of a page's counts of entries below its parts (after the check). */
static unsigned count_bits(unsigned k)
{
	return bit_length((BL_PAGE_BITS - BL_CHECK_BITS) / (k + 1));
}

/* n (<= 57) bits at bit p of page (most significant first). */
static inline uint64_t peek_bits(const uint8_t *page, unsigned p, unsigned n)
{
	return n == 0 ? 0 : (load_be64(page + (p >> 3)) << (p & 7)) >> (64 - n);
}

/* ---- keys ---- */

const char *blocklist_kind_name(enum blocklist_kind kind)
{
	switch (kind) {
	case BLOCKLIST_SHA1:
		return "sha1";
	case BLOCKLIST_NTLM:
		return "ntlm";
	}
	return "unknown";
}

uint64_t blocklist_fingerprint(const uint8_t *digest, size_t dlen)
{
	return dlen >= 8 ? load_be64(digest) : 0;
}

/*
 * UTF-8 to UTF-16LE, strictly (no overlong forms, surrogates or values
 * above U+10FFFF). Returns the number of bytes written, or SIZE_MAX with
 * errno EILSEQ.
 */
static size_t utf8_to_utf16le(const uint8_t *s, size_t len, uint8_t *out)
{
	size_t i = 0, o = 0;

	while (i < len) {
		uint32_t cp;
		unsigned n;
		uint8_t c = s[i];
		if (c < 0x80) {
			cp = c;
			n = 1;
		} else if (c >= 0xc2 && c <= 0xdf) {
			cp = c & 0x1f;
			n = 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			cp = c & 0x0f;
			n = 3;
		} else if (c >= 0xf0 && c <= 0xf4) {
			cp = c & 0x07;
			n = 4;
		} else {
			goto bad;
		}
		if (len - i < n)
			goto bad;
		for (unsigned k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		i += n;
		if (cp >= 0x10000) {
			uint32_t v = cp - 0x10000;
			uint32_t hi = 0xd800 | (v >> 10), lo = 0xdc00 | (v & 0x3ff);
			out[o++] = (uint8_t)hi;
			out[o++] = (uint8_t)(hi >> 8);
			out[o++] = (uint8_t)lo;
			out[o++] = (uint8_t)(lo >> 8);
		} else {
			out[o++] = (uint8_t)cp;
			out[o++] = (uint8_t)(cp >> 8);
		}
	}
	return o;
bad:
	errno = EILSEQ;
	return SIZE_MAX;
}

size_t blocklist_key(enum blocklist_kind kind, const char *password,
		     size_t len, uint8_t digest[BLOCKLIST_DIGEST_MAX])
{
	if (password == NULL && len > 0) {
		errno = EINVAL;
		return 0;
	}
	if (kind == BLOCKLIST_SHA1) {
		digest_sha1(password, len, digest);
		return BLOCKLIST_SHA1_LEN;
	}
	if (kind == BLOCKLIST_NTLM) {
		/* UTF-16 takes at most 2 bytes per UTF-8 byte. */
		uint8_t wide[2 * BLOCKLIST_PASSWORD_MAX];
		size_t n;
		if (len > BLOCKLIST_PASSWORD_MAX) {
			errno = E2BIG;
			return 0;
		}
		wide[0] = 0;
		n = utf8_to_utf16le((const uint8_t *)password, len, wide);
		if (n == SIZE_MAX) {
			pp_wipe(wide, 2 * len);
			errno = EILSEQ;
			return 0;
		}
		digest_md4(wide, n, digest);
		pp_wipe(wide, n);
		return BLOCKLIST_NTLM_LEN;
	}
	errno = EINVAL;
	return 0;
}

/* ---- reader ---- */

static pp_err read_at(int fd, void *buf, size_t len, off_t off)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return PP_ERR_IO;
		}
		if (n == 0) {
			errno = ENODATA;
			return PP_ERR_IO;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return PP_OK;
}

/* Check the header's fields (after magic, version and checksum). */
static pp_err check_header(struct blocklist *bl, const uint8_t *h, const char *path,
			   char *why, size_t whylen)
{
	uint32_t kind = load_le32(h + H_KIND), page_size = load_le32(h + H_PAGE_SIZE);
	uint64_t want;

	bl->shift = load_le32(h + H_SHIFT);
	bl->rice = load_le32(h + H_RICE);
	bl->entries = load_le64(h + H_ENTRIES);
	bl->universe = load_le64(h + H_UNIVERSE);
	bl->pages = load_le64(h + H_PAGES);
	bl->built = (int64_t)load_le64(h + H_BUILT);
	bl->data_sum = load_le64(h + H_DATA_SUM);
	if (kind != BLOCKLIST_SHA1 && kind != BLOCKLIST_NTLM) {
		pp_errorf(why, whylen, "%s: unknown key kind %u", path, kind);
		return PP_ERR_CONFIG;
	}
	bl->kind = (enum blocklist_kind)kind;
	if (page_size != BL_PAGE) {
		pp_errorf(why, whylen, "%s: page size %u, expected %u", path,
			  page_size, (unsigned)BL_PAGE);
		return PP_ERR_CONFIG;
	}
	if (bl->universe < 2 || bl->rice < 1 || bl->rice > BL_RICE_MAX ||
	    bl->shift > 63 ||
	    bl->pages < 1 || bl->pages > BL_MAX_PAGES ||
	    bl->entries > bl->universe ||
	    bl->entries > bl->pages * (uint64_t)BL_PAGE_BITS ||
	    load_le32(h + H_RESERVED) != 0) {
		pp_errorf(why, whylen, "%s: the header's parameters are inconsistent "
			  "(a damaged or foreign file)", path);
		return PP_ERR_CONFIG;
	}
	want = BL_PAGE * (1 + bl->pages) + 2 * bl->pages;
	if (load_le64(h + H_FILE_SIZE) != want) {
		pp_errorf(why, whylen, "%s: the header's file size does not match its "
			  "page count", path);
		return PP_ERR_CONFIG;
	}
	if ((uint64_t)bl->size < want) {
		pp_errorf(why, whylen, "%s is truncated: %llu bytes, the header says %llu",
			  path, (unsigned long long)bl->size, (unsigned long long)want);
		return PP_ERR_CONFIG;
	}
	if ((uint64_t)bl->size > want) {
		pp_errorf(why, whylen, "%s has %llu bytes, the header says %llu "
			  "(appended to or damaged)", path,
			  (unsigned long long)bl->size, (unsigned long long)want);
		return PP_ERR_CONFIG;
	}
	memcpy(bl->sources, h + H_SOURCES, BLOCKLIST_SOURCES_MAX);
	if (memchr(bl->sources, '\0', BLOCKLIST_SOURCES_MAX) == NULL) {
		pp_errorf(why, whylen, "%s: the header's sources text is not terminated", path);
		return PP_ERR_CONFIG;
	}
	return PP_OK;
}

static pp_err load_directory(struct blocklist *bl, const uint8_t *h, const char *path,
			     char *why, size_t whylen)
{
	size_t len = (size_t)bl->pages * 2;
	uint8_t *raw = malloc(len);
	uint64_t limit = (bl->universe - 1) >> bl->shift, key = 0;
	pp_err err;

	bl->bases = malloc((size_t)bl->pages * sizeof(*bl->bases));
	if (raw == NULL || bl->bases == NULL) {
		free(raw);
		pp_errorf(why, whylen, "out of memory reading %s", path);
		return PP_ERR_NOMEM;
	}
	err = read_at(bl->fd, raw, len, (off_t)(BL_PAGE * (1 + bl->pages)));
	if (err != PP_OK) {
		int saved = errno;
		pp_errorf(why, whylen, "%s: cannot read the page directory: %s", path,
			  strerror(saved));
		free(raw);
		errno = saved;
		return err;
	}
	if (blocklist_sum(raw, len, bl->pages) != load_le64(h + H_DIR_SUM)) {
		pp_errorf(why, whylen, "%s: the page directory is corrupt (checksum mismatch)",
			  path);
		free(raw);
		return PP_ERR_CONFIG;
	}
	for (uint64_t i = 0; i < bl->pages; i++) {
		uint16_t delta = load_le16(raw + 2 * i);
		key += delta;
		if ((i == 0) != (delta == 0) || key > limit) {
			pp_errorf(why, whylen, "%s: the page directory is out of order at "
				  "page %llu", path, (unsigned long long)i + 1);
			free(raw);
			return PP_ERR_CONFIG;
		}
		bl->bases[i] = key << bl->shift;
	}
	free(raw);
	return PP_OK;
}

pp_err blocklist_open(const char *path, struct blocklist **out, char *why,
		      size_t whylen)
{
	struct blocklist *bl;
	struct stat st;
	uint8_t h[BL_PAGE];
	pp_err err = PP_ERR_CONFIG;
	uint32_t version;
	int saved;

	if (out != NULL)
		*out = NULL;
	if (path == NULL || out == NULL) {
		pp_errorf(why, whylen, "no breach filter file given");
		return PP_ERR_INVALID;
	}
	bl = calloc(1, sizeof(*bl));
	if (bl == NULL || (bl->path = strdup(path)) == NULL) {
		free(bl);
		pp_errorf(why, whylen, "out of memory opening %s", path);
		return PP_ERR_NOMEM;
	}
	bl->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (bl->fd < 0) {
		saved = errno;
		err = saved == ENOENT ? PP_ERR_NOT_FOUND : PP_ERR_IO;
		pp_errorf(why, whylen, "cannot open %s: %s", path, strerror(saved));
		goto fail_errno;
	}
	if (fstat(bl->fd, &st) != 0) {
		saved = errno;
		err = PP_ERR_IO;
		pp_errorf(why, whylen, "cannot stat %s: %s", path, strerror(saved));
		goto fail_errno;
	}
	if (!S_ISREG(st.st_mode)) {
		pp_errorf(why, whylen, "%s is not a regular file", path);
		goto fail;
	}
	/* Lookups read one page at a random place: no readahead around it. */
	(void)posix_fadvise(bl->fd, 0, 0, POSIX_FADV_RANDOM);
	bl->dev = st.st_dev;
	bl->ino = st.st_ino;
	bl->size = st.st_size;
	bl->mtime = st.st_mtim;
	if (read_at(bl->fd, h, st.st_size < BL_PAGE ? (size_t)st.st_size : sizeof(h), 0) != PP_OK) {
		saved = errno;
		err = PP_ERR_IO;
		pp_errorf(why, whylen, "cannot read %s: %s", path, strerror(saved));
		goto fail_errno;
	}
	if (st.st_size >= BL_MAGIC_LEN && memcmp(h + H_MAGIC, BL_MAGIC, BL_MAGIC_LEN) != 0) {
		pp_errorf(why, whylen, "%s is not a breach filter file (wrong magic); "
			  "build one with \"pam_policyctl blocklist build\"", path);
		goto fail;
	}
	if (st.st_size < BL_PAGE) {
		pp_errorf(why, whylen, "%s is truncated: %lld bytes, shorter than its "
			  "%d-byte header", path, (long long)st.st_size, BL_PAGE);
		goto fail;
	}
	version = load_le32(h + H_VERSION);
	if (version != BLOCKLIST_VERSION) {
		pp_errorf(why, whylen, "%s has format version %u; this pam_policy reads "
			  "version %u: rebuild it", path, version, BLOCKLIST_VERSION);
		goto fail;
	}
	bl->version = version;
	if (blocklist_sum(h, H_SUM, 0) != load_le64(h + H_SUM)) {
		pp_errorf(why, whylen, "%s: the header is corrupt (checksum mismatch)", path);
		goto fail;
	}
	err = check_header(bl, h, path, why, whylen);
	if (err == PP_OK)
		err = load_directory(bl, h, path, why, whylen);
	if (err != PP_OK)
		goto fail;
	*out = bl;
	return PP_OK;
fail_errno:
	blocklist_close(bl);
	errno = saved;
	return err;
fail:
	blocklist_close(bl);
	return err;
}

void blocklist_close(struct blocklist *bl)
{
	if (bl == NULL)
		return;
	if (bl->fd >= 0)
		close(bl->fd);
	free(bl->bases);
	free(bl->path);
	free(bl);
}

bool blocklist_changed(struct blocklist *bl)
{
	struct stat st;

	if (bl == NULL || stat(bl->path, &st) != 0)
		return true;
	return st.st_dev != bl->dev || st.st_ino != bl->ino ||
	       st.st_size != bl->size || st.st_mtim.tv_sec != bl->mtime.tv_sec ||
	       st.st_mtim.tv_nsec != bl->mtime.tv_nsec;
}

/*
 * The page whose range holds x: the last base <= x. Values are spread
 * evenly, so the page at x's share of the universe is a close guess; a few
 * steps from it, else a binary search (a file that is not spread evenly).
 */
static uint64_t find_page(const struct blocklist *bl, uint64_t x)
{
	uint64_t lo = 0, hi = bl->pages;   /* bases[lo] <= x < bases[hi] */
	uint64_t guess = (uint64_t)(((unsigned __int128)x * bl->pages) / bl->universe);

	if (guess < bl->pages) {
		for (int step = 0; step < 4; step++) {
			if (bl->bases[guess] > x) {
				hi = guess;
				guess--;
			} else if (guess + 1 < bl->pages && bl->bases[guess + 1] <= x) {
				lo = guess + 1;
				guess++;
			} else {
				return guess;
			}
		}
	}
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (bl->bases[mid] <= x)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Search one part of a page (BL_PAGE + BL_SLACK bytes, check verified) for
 * x: the entries j0 .. j_end - 1 (j_end UINT64_MAX: up to the last), whose 1 bits
 * start at stream bit t0, the first coded from base. 1 found, 0 not, -1
 * when the codes are inconsistent (errno EBADMSG).
 *
 * Entry j's quotients since t0 sum to t_j - t0 - (j - j0) (t_j: the stream
 * bit of its 1), so v_j = base + ((t_j - t0 - (j - j0)) << k) + (the sum of
 * the remainders j0..j): no chain through the previous entry's position.
 * The walk does not test each 1 bit for being a quotient's: it runs on
 * until a value reaches x, then tests that entry (the entries before it
 * lie further from the remainders, so they pass when it does). A constant
 * k lets the compiler use plain shifts.
 */
static inline __attribute__((always_inline)) int
part_search_k(const uint8_t *page, const unsigned k, unsigned start, uint64_t j0,
	      uint64_t j_end, uint64_t t0, uint64_t base, uint64_t hi, uint64_t x)
{
	uint64_t sum_r = 0, j = j0, skew = t0 - j0;
	unsigned rpos = start + (unsigned)j0 * k;

	if (j0 >= j_end)
		return 0;
	for (uint64_t a = t0 / 64; a < BL_PAGE / 8; a++) {
		uint64_t w = load_be64(page + BL_PAGE - 8 - 8 * a);
		if (a == t0 / 64)
			w &= ~0ULL << (t0 % 64);
		while (w != 0) {
			uint64_t t = 64 * a + (uint64_t)__builtin_ctzll(w);
			uint64_t v;
			w &= w - 1;
			if (rpos > BL_PAGE_BITS - k)
				return 0;
			sum_r += (load_be64(page + (rpos >> 3)) << (rpos & 7)) >> (64 - k);
			v = base + ((t - j - skew) << k) + sum_r;
			if (v >= x) {
				/* its 1 bit must lie beyond the remainders of j + 1 entries */
				if ((int64_t)t > (int64_t)BL_PAGE_BITS - 1 - (int64_t)rpos - (int64_t)k)
					return 0;
				if (v >= hi || v < base)
					goto corrupt;
				return v == x;
			}
			j++;
			if (j == j_end)
				return 0;
			rpos += k;
		}
	}
	return 0;
corrupt:
	errno = EBADMSG;
	return -1;
}

/* The stream bit just after the n-th 1 bit (0 for n 0), or UINT64_MAX. */
static uint64_t after_ones(const uint8_t *page, uint64_t n)
{
	for (uint64_t a = 0; a < BL_PAGE / 8 && n > 0; a++) {
		uint64_t w = load_be64(page + BL_PAGE - 8 - 8 * a);
		uint64_t c = (uint64_t)__builtin_popcountll(w);
		if (c < n) {
			n -= c;
			continue;
		}
		while (--n > 0)
			w &= w - 1;
		return 64 * a + (uint64_t)__builtin_ctzll(w) + 1;
	}
	return n == 0 ? 0 : UINT64_MAX;
}

/* The page's range [lo, hi) is cut into BL_PARTS parts; part q starts here. */
static inline uint64_t part_start(uint64_t lo, uint64_t hi, unsigned q)
{
	return lo + (uint64_t)(((unsigned __int128)(hi - lo) * q) / BL_PARTS);
}

/*
 * Search a page for x; its range is [lo, hi). The range is cut into
 * BL_PARTS equal parts; the page says how many entries lie below the start
 * of parts 1, 2, 3, and the first entry of each part is coded from the
 * part's start: a lookup walks only the part x falls in.
 */
static inline __attribute__((always_inline)) int
page_search_k(const uint8_t *page, const unsigned k, uint64_t lo, uint64_t hi,
	      uint64_t x)
{
	unsigned cbits = count_bits(k), start = BL_CHECK_BITS + (BL_PARTS - 1) * cbits;
	uint64_t head = load_be64(page) << BL_CHECK_BITS;
	uint64_t j0 = 0, j_end = UINT64_MAX, base = lo, end = hi, t0;
	unsigned q = 1;

	while (q < BL_PARTS && x >= part_start(lo, hi, q))
		q++;
	/* x is in part q - 1 */
	if (q > 1) {
		j0 = (head << ((q - 2) * cbits)) >> (64 - cbits);
		base = part_start(lo, hi, q - 1);
	}
	if (q < BL_PARTS) {
		j_end = (head << ((q - 1) * cbits)) >> (64 - cbits);
		end = part_start(lo, hi, q);
	}
	if (j0 >= j_end)
		return 0;
	t0 = after_ones(page, j0);
	if (t0 == UINT64_MAX) {
		errno = EBADMSG;
		return -1;
	}
	return part_search_k(page, k, start, j0, j_end, t0, base, end, x);
}

static int page_search(const uint8_t *page, unsigned k, uint64_t lo, uint64_t hi,
		       uint64_t x)
{
	switch (k) {
	case 28:
		return page_search_k(page, 28, lo, hi, x);
	case 29:
		return page_search_k(page, 29, lo, hi, x);
	case 30:
		return page_search_k(page, 30, lo, hi, x);
	case 31:
		return page_search_k(page, 31, lo, hi, x);
	default:
		return page_search_k(page, k, lo, hi, x);
	}
}

static int lookup_x(struct blocklist *bl, uint64_t x)
{
	uint8_t page[BL_PAGE + BL_SLACK];
	uint64_t i = find_page(bl, x), lo, hi;
	uint16_t check;
	ssize_t n;

	lo = bl->bases[i];
	hi = i + 1 < bl->pages ? bl->bases[i + 1] : bl->universe;
	__atomic_add_fetch(&bl->page_reads, 1, __ATOMIC_RELAXED);
	do
		n = pread(bl->fd, page, BL_PAGE, (off_t)(BL_PAGE * (1 + i)));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n != BL_PAGE) {
		errno = EIO;   /* the file shrank under us */
		return -1;
	}
	memset(page + BL_PAGE, 0, BL_SLACK);
	check = load_le16(page);
	page[0] = page[1] = 0;
	if (page_check(page_sum(page, i + 1)) != check) {
		errno = EBADMSG;
		return -1;
	}
	return page_search(page, bl->rice, lo, hi, x);
}

int blocklist_contains_hash(struct blocklist *bl, const uint8_t *digest, size_t dlen)
{
	size_t want;
	uint64_t x;
	int rc;

	if (bl == NULL || digest == NULL) {
		errno = EINVAL;
		return -1;
	}
	want = bl->kind == BLOCKLIST_SHA1 ? BLOCKLIST_SHA1_LEN : BLOCKLIST_NTLM_LEN;
	if (dlen != want) {
		errno = EINVAL;
		return -1;
	}
	x = map_universe(blocklist_fingerprint(digest, dlen), bl->universe);
	rc = lookup_x(bl, x);
	pp_wipe(&x, sizeof(x));
	return rc;
}

int blocklist_contains(struct blocklist *bl, const char *password, size_t len)
{
	uint8_t digest[BLOCKLIST_DIGEST_MAX];
	size_t dlen;
	int rc;

	if (bl == NULL || (password == NULL && len > 0)) {
		errno = EINVAL;
		return -1;
	}
	dlen = blocklist_key(bl->kind, password, len, digest);
	if (dlen == 0) {
		int saved = errno;
		pp_wipe(digest, sizeof(digest));
		errno = saved;
		return -1;
	}
	rc = blocklist_contains_hash(bl, digest, dlen);
	pp_wipe(digest, sizeof(digest));
	return rc;
}

pp_err blocklist_info(struct blocklist *bl, struct blocklist_info *out,
		      bool verify_all_pages)
{
	if (bl == NULL || out == NULL)
		return PP_ERR_INVALID;
	memset(out, 0, sizeof(*out));
	out->entries = bl->entries;
	out->version = bl->version;
	out->kind = bl->kind;
	out->fp_rate = (double)bl->entries / (double)bl->universe;
	out->file_size = (uint64_t)bl->size;
	out->bits_per_entry = bl->entries > 0 ?
		(double)bl->size * 8.0 / (double)bl->entries : 0.0;
	out->built = bl->built;
	memcpy(out->sources, bl->sources, sizeof(out->sources));
	out->pages = (uint32_t)bl->pages;
	out->fingerprint_bits = bit_length(bl->universe - 1);
	out->universe = bl->universe;
	out->rice_bits = bl->rice;
	out->checksum_ok = true;   /* header and directory: checked by open */
	if (verify_all_pages) {
		enum { CHUNK = 256 };
		uint8_t *buf = malloc((size_t)CHUNK * BL_PAGE);
		uint64_t total = 0;
		if (buf == NULL)
			return PP_ERR_NOMEM;
		for (uint64_t i = 0; i < bl->pages; i += CHUNK) {
			uint64_t n = bl->pages - i < CHUNK ? bl->pages - i : CHUNK;
			if (read_at(bl->fd, buf, n * BL_PAGE, (off_t)(BL_PAGE * (1 + i))) != PP_OK) {
				int saved = errno;
				free(buf);
				errno = saved;
				return PP_ERR_IO;
			}
			for (uint64_t j = 0; j < n; j++) {
				uint8_t *page = buf + j * BL_PAGE;
				uint16_t check = load_le16(page);
				uint64_t sum;
				page[0] = page[1] = 0;
				sum = page_sum(page, i + j + 1);
				total += sum;
				if (page_check(sum) != check)
					out->bad_pages++;
			}
		}
		free(buf);
		out->checksum_ok = out->bad_pages == 0 && total == bl->data_sum;
	}
	out->page_reads = __atomic_load_n(&bl->page_reads, __ATOMIC_RELAXED);
	return PP_OK;
}

bool blocklist_seal(uint8_t *buf, size_t len)
{
	uint64_t pages, total = 0, have;

	if (buf == NULL || len < BL_PAGE)
		return false;
	pages = load_le64(buf + H_PAGES);
	have = (len - BL_PAGE) / BL_PAGE;
	if (pages > have)
		pages = have;
	for (uint64_t i = 0; i < pages; i++) {
		uint8_t *page = buf + BL_PAGE * (1 + i);
		uint64_t sum;
		page[0] = page[1] = 0;
		sum = page_sum(page, i + 1);
		page[0] = (uint8_t)page_check(sum);
		page[1] = (uint8_t)(page_check(sum) >> 8);
		total += sum;
	}
	store_le64(buf + H_DATA_SUM, total);
	if (len >= BL_PAGE * (1 + pages) + 2 * pages)
		store_le64(buf + H_DIR_SUM, blocklist_sum(buf + BL_PAGE * (1 + pages),
							  2 * pages, pages));
	store_le64(buf + H_SUM, blocklist_sum(buf, H_SUM, 0));
	return true;
}

/* ---- writer ---- */

struct blocklist_writer {
	int fd;
	enum blocklist_kind kind;
	uint64_t announced;
	uint64_t universe;
	unsigned shift;
	unsigned rice;
	unsigned start;          /* first remainder bit of a page */
	int64_t built;
	char sources[BLOCKLIST_SOURCES_MAX];
	/* the page being filled: its values, and the quotient stream's length
	 * after each when coded one after the other */
	uint8_t page[BL_PAGE + BL_SLACK];
	uint64_t key;            /* its directory key */
	uint64_t *vals;
	unsigned *ends;
	unsigned count;
	/* output */
	uint8_t *out;            /* BL_OUT_PAGES pages waiting to be written */
	unsigned out_pages;
	uint64_t pages;          /* pages finished */
	uint64_t data_sum;
	uint64_t *keys;
	size_t keys_cap;
	uint64_t written;        /* distinct values added */
	uint64_t last_f;
	uint64_t last_x;
	bool failed;
};

/* e^y for 0 <= y <= 64 (halve until small, a Taylor series, square back):
 * enough to rank Rice parameters without linking libm into the module. */
static double exp_small(double y)
{
	int halvings = 0;
	double r = 1.0, term = 1.0;

	while (y > 1.0 / 64) {
		y /= 2;
		halvings++;
	}
	for (int i = 1; i < 12; i++) {
		term *= y / i;
		r += term;
	}
	while (halvings-- > 0)
		r *= r;
	return r;
}

/* The Rice parameter that codes gaps of mean `mean` in the fewest bits:
 * a code costs k + 1 + 1/(e^(2^k/mean) - 1) on average. */
static unsigned best_rice(double mean)
{
	double best_cost = 1e300;
	unsigned best = 1;

	for (unsigned k = 1; k <= BL_RICE_MAX; k++) {
		double y = (double)(1ULL << k) / mean;
		if (y > 64)
			break;
		double cost = k + 1.0 + 1.0 / (exp_small(y) - 1.0);
		if (cost < best_cost) {
			best_cost = cost;
			best = k;
		}
	}
	return best;
}

pp_err blocklist_writer_open(int fd, const struct blocklist_params *params,
			     struct blocklist_writer **out, char *why, size_t whylen)
{
	struct blocklist_writer *w;
	double fp;
	long double universe;
	uint64_t n;

	*out = NULL;
	if (params == NULL || (params->kind != BLOCKLIST_SHA1 && params->kind != BLOCKLIST_NTLM)) {
		pp_errorf(why, whylen, "unknown key kind");
		return PP_ERR_INVALID;
	}
	fp = params->target_fp == 0 ? BLOCKLIST_DEFAULT_FP : params->target_fp;
	if (!(fp >= BL_FP_MIN && fp <= BL_FP_MAX)) {
		pp_errorf(why, whylen, "false-positive rate %g is outside %g to %g", fp,
			  BL_FP_MIN, BL_FP_MAX);
		return PP_ERR_INVALID;
	}
	n = params->entries > 0 ? params->entries : 1;
	universe = (long double)n / (long double)fp;
	if (universe >= 18446744073709551615.0L) {
		pp_errorf(why, whylen, "%llu entries are too many for a false-positive "
			  "rate of %g", (unsigned long long)params->entries, fp);
		return PP_ERR_INVALID;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return PP_ERR_NOMEM;
	w->fd = fd;
	w->kind = params->kind;
	w->announced = params->entries;
	w->universe = (uint64_t)universe;
	if ((long double)w->universe * (long double)fp < (long double)n)
		w->universe++;   /* round up: entries / universe <= fp */
	w->shift = dir_shift(w->universe, params->entries);
	w->rice = best_rice((double)w->universe / (double)n);
	w->start = BL_CHECK_BITS + (BL_PARTS - 1) * count_bits(w->rice);
	w->built = params->built;
	if (params->sources != NULL)
		snprintf(w->sources, sizeof(w->sources), "%s", params->sources);
	w->vals = malloc(BL_PAGE_BITS * sizeof(*w->vals));
	w->ends = malloc(BL_PAGE_BITS * sizeof(*w->ends));
	w->out = malloc((size_t)BL_OUT_PAGES * BL_PAGE);
	w->keys_cap = 1024;
	w->keys = malloc(w->keys_cap * sizeof(*w->keys));
	if (w->vals == NULL || w->ends == NULL || w->out == NULL || w->keys == NULL) {
		blocklist_writer_free(w);
		return PP_ERR_NOMEM;
	}
	*out = w;
	return PP_OK;
}

void blocklist_writer_free(struct blocklist_writer *w)
{
	if (w == NULL)
		return;
	free(w->vals);
	free(w->ends);
	free(w->out);
	free(w->keys);
	free(w);
}

static pp_err write_at(int fd, const void *buf, size_t len, off_t off)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return PP_ERR_IO;
		}
		if (n == 0) {
			errno = EIO;
			return PP_ERR_IO;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return PP_OK;
}

static pp_err flush_out(struct blocklist_writer *w)
{
	uint64_t first = w->pages - w->out_pages;
	pp_err err;

	if (w->out_pages == 0)
		return PP_OK;
	err = write_at(w->fd, w->out, (size_t)w->out_pages * BL_PAGE,
		       (off_t)(BL_PAGE * (1 + first)));
	w->out_pages = 0;
	return err;
}

/* Write the n (<= 57) low bits of v at bit pos of the page (zero there). */
static inline void put_bits(uint8_t *page, unsigned pos, uint64_t v, unsigned n)
{
	uint64_t word = load_be64(page + (pos >> 3));

	word |= (v << (64 - n)) >> (pos & 7);
	word = htobe64(word);
	memcpy(page + (pos >> 3), &word, 8);
}

static inline void set_stream_bit(uint8_t *page, unsigned t)
{
	page[BL_PAGE - 1 - t / 8] |= (uint8_t)(1u << (t % 8));
}

/*
 * Code the page's values (its range ending at hi) in BL_PARTS parts, then
 * its check, and queue it for output with its directory key. Coding the
 * first value of a part from the part's start instead of from the value
 * before never lengthens it, so the page still fits.
 */
static pp_err finish_page(struct blocklist_writer *w, uint64_t hi)
{
	uint64_t lo = w->key << w->shift, bound[BL_PARTS], sum;
	unsigned below[BL_PARTS], t = 0, k = w->rice, cbits = count_bits(w->rice);

	if (w->pages >= BL_MAX_PAGES) {
		errno = EFBIG;
		return PP_ERR_IO;
	}
	if (w->pages == w->keys_cap) {
		uint64_t *keys = realloc(w->keys, 2 * w->keys_cap * sizeof(*keys));
		if (keys == NULL)
			return PP_ERR_NOMEM;
		w->keys = keys;
		w->keys_cap *= 2;
	}
	w->keys[w->pages++] = w->key;
	memset(w->page, 0, sizeof(w->page));
	/* below[q]: the entries under the start of part q (q >= 1) */
	below[0] = 0;
	bound[0] = lo;
	for (unsigned q = 1; q < BL_PARTS; q++) {
		bound[q] = part_start(lo, hi, q);
		below[q] = below[q - 1];
		while (below[q] < w->count && w->vals[below[q]] < bound[q])
			below[q]++;
		put_bits(w->page, BL_CHECK_BITS + (q - 1) * cbits, below[q], cbits);
	}
	for (unsigned j = 0, q = 0; j < w->count; j++) {
		uint64_t from = j == 0 ? lo : w->vals[j - 1], d;
		/* the first entry of a part is coded from the part's start (of
		 * the last part starting here, when parts before it are empty) */
		while (q + 1 < BL_PARTS && below[q + 1] == j) {
			q++;
			from = bound[q];
		}
		d = w->vals[j] - from;
		put_bits(w->page, w->start + j * k, d & ((1ULL << k) - 1), k);
		t += (unsigned)(d >> k);
		set_stream_bit(w->page, t);
		t++;
	}
	sum = page_sum(w->page, w->pages);
	w->data_sum += sum;
	w->page[0] = (uint8_t)page_check(sum);
	w->page[1] = (uint8_t)(page_check(sum) >> 8);
	memcpy(w->out + (size_t)w->out_pages * BL_PAGE, w->page, BL_PAGE);
	w->out_pages++;
	w->count = 0;
	if (w->out_pages == BL_OUT_PAGES)
		return flush_out(w);
	return PP_OK;
}

/* Try to add x to the page (coded after the value before); false when it
 * would not fit, or would stretch the page beyond a directory delta. */
static bool page_append(struct blocklist_writer *w, uint64_t x)
{
	uint64_t base = w->key << w->shift;
	uint64_t d = x - (w->count == 0 ? base : w->vals[w->count - 1]);
	unsigned ulen = w->count == 0 ? 0 : w->ends[w->count - 1];
	uint64_t need = w->start + (uint64_t)(w->count + 1) * w->rice + ulen +
			(d >> w->rice) + 1;

	if (need > BL_PAGE_BITS || (x >> w->shift) - w->key >= BL_SPAN_MAX)
		return false;
	w->vals[w->count] = x;
	w->ends[w->count] = (unsigned)(need - w->start - (uint64_t)(w->count + 1) * w->rice);
	w->count++;
	return true;
}

/* Start the page of key, finishing the current one (and empty pages
 * between them when they lie more than a directory delta apart). */
static pp_err next_page(struct blocklist_writer *w, uint64_t key)
{
	pp_err err;

	for (;;) {
		uint64_t next = key - w->key > BL_SPAN_MAX ? w->key + BL_SPAN_MAX : key;
		err = finish_page(w, next << w->shift);
		if (err != PP_OK)
			return err;
		w->key = next;
		if (next == key)
			return PP_OK;
	}
}

static pp_err add_x(struct blocklist_writer *w, uint64_t x)
{
	uint64_t carry[64];
	unsigned ncarry = 0;
	uint64_t key = x >> w->shift;
	pp_err err;

	if (page_append(w, x))
		return PP_OK;
	/*
	 * The page is full. The next page starts at x's key; values of the
	 * same key must move with x, since a key names one page.
	 */
	while (w->count > 0 && (w->vals[w->count - 1] >> w->shift) == key) {
		if (ncarry == sizeof(carry) / sizeof(carry[0]))
			goto crowded;
		carry[ncarry++] = w->vals[--w->count];
	}
	if (w->count == 0 && key == w->key)
		goto crowded;
	err = next_page(w, key);
	if (err != PP_OK)
		return err;
	while (ncarry > 0)
		if (!page_append(w, carry[--ncarry]))
			goto crowded;
	if (!page_append(w, x))
		goto crowded;
	return PP_OK;
crowded:
	/* Only hashes chosen to crowd one range can do this, not real ones. */
	errno = ERANGE;
	return PP_ERR_INVALID;
}

pp_err blocklist_writer_add(struct blocklist_writer *w, uint64_t fingerprint)
{
	uint64_t x;
	pp_err err;

	if (w->failed)
		return PP_ERR_INVALID;
	if (w->written > 0 && fingerprint <= w->last_f) {
		if (fingerprint == w->last_f)
			return PP_OK;
		w->failed = true;
		errno = EDOM;
		return PP_ERR_INVALID;
	}
	x = map_universe(fingerprint, w->universe);
	if (w->written > 0 && x == w->last_x) {
		w->last_f = fingerprint;
		return PP_OK;
	}
	if (w->written >= w->announced) {
		w->failed = true;
		errno = EOVERFLOW;
		return PP_ERR_INVALID;
	}
	err = add_x(w, x);
	if (err != PP_OK) {
		w->failed = true;
		return err;
	}
	w->last_f = fingerprint;
	w->last_x = x;
	w->written++;
	return PP_OK;
}

pp_err blocklist_writer_finish(struct blocklist_writer *w, char *why, size_t whylen)
{
	uint8_t h[BL_PAGE];
	uint8_t *dir;
	size_t dir_len;
	pp_err err;

	if (w->failed) {
		pp_errorf(why, whylen, "the filter could not be built");
		return PP_ERR_INVALID;
	}
	err = finish_page(w, w->universe);
	if (err == PP_OK)
		err = flush_out(w);
	if (err != PP_OK)
		goto io;
	dir_len = (size_t)w->pages * 2;
	dir = malloc(dir_len);
	if (dir == NULL)
		return PP_ERR_NOMEM;
	for (uint64_t i = 0; i < w->pages; i++) {
		uint64_t delta = i == 0 ? 0 : w->keys[i] - w->keys[i - 1];
		dir[2 * i] = (uint8_t)delta;
		dir[2 * i + 1] = (uint8_t)(delta >> 8);
	}
	memset(h, 0, sizeof(h));
	memcpy(h + H_MAGIC, BL_MAGIC, BL_MAGIC_LEN);
	store_le32(h + H_VERSION, BLOCKLIST_VERSION);
	store_le32(h + H_KIND, (uint32_t)w->kind);
	store_le32(h + H_PAGE_SIZE, BL_PAGE);
	store_le32(h + H_SHIFT, w->shift);
	store_le32(h + H_RICE, w->rice);
	store_le64(h + H_ENTRIES, w->written);
	store_le64(h + H_UNIVERSE, w->universe);
	store_le64(h + H_PAGES, w->pages);
	store_le64(h + H_BUILT, (uint64_t)w->built);
	store_le64(h + H_FILE_SIZE, BL_PAGE * (1 + w->pages) + dir_len);
	store_le64(h + H_DIR_SUM, blocklist_sum(dir, dir_len, w->pages));
	store_le64(h + H_DATA_SUM, w->data_sum);
	memcpy(h + H_SOURCES, w->sources, BLOCKLIST_SOURCES_MAX);
	store_le64(h + H_SUM, blocklist_sum(h, H_SUM, 0));
	err = write_at(w->fd, dir, dir_len, (off_t)(BL_PAGE * (1 + w->pages)));
	free(dir);
	if (err == PP_OK)
		err = write_at(w->fd, h, sizeof(h), 0);
	if (err == PP_OK && fsync(w->fd) != 0)
		err = PP_ERR_IO;
	if (err != PP_OK)
		goto io;
	return PP_OK;
io:
	{
		int saved = errno;
		pp_errorf(why, whylen, "cannot write the filter: %s", strerror(saved));
		errno = saved;
	}
	return err;
}
