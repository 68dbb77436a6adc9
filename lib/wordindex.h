/*
 * wordindex.h - the word-list index: a prebuilt, read-only hash table of
 * a plain word list, so that a PAM transaction maps one file instead of
 * reading and hashing 100,000 lines.
 *
 * The module is loaded and unloaded with every PAM transaction, so a word
 * list kept in memory does not outlive one password change: parsing
 * wamerican's list cost about 8 ms of each. "pam_policyctl wordlist
 * build" writes the table guess.c would build (the same 64-bit word
 * hashes in the same open-addressing layout) into a file; guess.c maps
 * it and looks words up in place. Verdicts are identical by
 * construction: the lookups see the very table the plain list gives.
 *
 * File layout (host byte order: the index is a per-host cache, like
 * cracklib's; a file from another byte order is refused):
 *
 *     struct wordindex_header   magic "PPWORDIX", layout version, byte
 *                               order mark, the word hash's scheme, word
 *                               and slot counts, file size, a checksum of
 *                               the table, the source lists (path, size,
 *                               mtime, inode) and a checksum of all this
 *     uint64_t slot[slots]      the table (0 = empty), slots a power of 2
 *
 * An index is used in place of its source list only when it was built
 * from exactly that one file as it is now (same path, size, mtime and
 * inode): a list changed since (a wamerican upgrade) is read as plain
 * text until the index is rebuilt. An index may also be named directly as
 * the wordlist (several lists merged into one); it is then the list.
 *
 * Pure apart from the reads of wordindex_open/wordindex_verify; no
 * logging. Thread-safe (an opened index is read-only).
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_WORDINDEX_H
#define PAM_POLICY_WORDINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "policy.h"

#define WORDINDEX_MAGIC "PPWORDIX"     /* 8 bytes, no NUL */
#define WORDINDEX_VERSION 1            /* the layout below */
#define WORDINDEX_BYTE_ORDER 0x01020304u
#define WORDINDEX_MAX_SOURCES 16       /* lists merged into one index */
/* Largest table accepted, in slots (2^24: 128 MiB, 13 million words). */
#define WORDINDEX_MAX_SLOTS (1ull << 24)

struct wordindex_source {
	char path[POLICY_MAX_PATH];    /* absolute, NUL-terminated */
	uint64_t size;                 /* bytes, when the index was built */
	int64_t mtime_sec;
	int64_t mtime_nsec;
	uint64_t inode;
};

struct wordindex_header {
	char magic[8];
	uint32_t version;
	uint32_t byte_order;
	uint32_t scheme;               /* guess.c's GUESS_HASH_SCHEME */
	uint32_t nsources;
	uint64_t words;                /* distinct words in the table */
	uint64_t slots;
	uint64_t file_bytes;           /* header + table */
	uint64_t table_check;          /* wordindex_checksum of the table */
	struct wordindex_source sources[WORDINDEX_MAX_SOURCES];
	uint64_t header_check;         /* wordindex_checksum of the bytes above */
};

/* An opened index (wordindex_open); read-only until wordindex_close. */
struct wordindex {
	struct wordindex_header header; /* a copy */
	const uint64_t *slot;          /* header.slots entries, in the mapping */
	void *map;
	size_t map_bytes;
};

/*
 * wordindex_checksum - a 64-bit checksum of data[0..len) (not a MAC: it
 * finds truncation, torn writes and flipped bits, fast enough to run on
 * every open). Pure.
 */
uint64_t wordindex_checksum(const void *data, size_t len);

/*
 * wordindex_source_stat - fill *src for the file at path (absolute, fits
 * POLICY_MAX_PATH): PP_OK, PP_ERR_NOT_FOUND when it does not exist,
 * PP_ERR_TOO_LONG, PP_ERR_IO (errno kept; also for a non-regular file).
 */
pp_err wordindex_source_stat(const char *path,
			     struct wordindex_source *src) PP_WUR;

/*
 * wordindex_encode - the whole index file for the table slot[0..slots)
 * (slots a power of two, words distinct entries) built from src[0..nsrc)
 * with hash scheme `scheme`, in a malloc'd buffer (*out, *outlen bytes;
 * the caller frees it). PP_ERR_INVALID for bad arguments (more than
 * WORDINDEX_MAX_SOURCES, slots not a power of two), PP_ERR_NOMEM.
 */
pp_err wordindex_encode(const uint64_t *slot, uint64_t slots, uint64_t words,
			const struct wordindex_source *src, size_t nsrc,
			uint32_t scheme, void **out, size_t *outlen) PP_WUR;

/*
 * wordindex_open - map the index at path and check it whole: a regular
 * file owned by root (or the effective uid) and writable by nobody else,
 * magic, version, byte order, scheme, sizes (the file must be exactly as
 * long as its header says), both checksums, at most WORDINDEX_MAX_SLOTS.
 * Returns PP_OK (*out filled; wordindex_close it), PP_ERR_NOT_FOUND when
 * path does not exist, PP_ERR_INVALID when it is not a usable index (not
 * one at all, truncated, corrupt, another version, byte order or scheme),
 * PP_ERR_IO (errno kept). On error why (whylen bytes) says what was
 * wrong, naming path; *out is cleared.
 */
pp_err wordindex_open(const char *path, uint32_t scheme, struct wordindex *out,
		      char *why, size_t whylen) PP_WUR;

/*
 * wordindex_has_magic - true when the file at path starts with
 * WORDINDEX_MAGIC (an index, valid or not; a plain list does not).
 */
bool wordindex_has_magic(const char *path);

/* wordindex_close - unmap ix (cleared; NULL or a cleared one: no-op). */
void wordindex_close(struct wordindex *ix);

/*
 * wordindex_matches - true when ix was built from the single file
 * wordlist and that file is unchanged since (size, mtime, inode equal to
 * *now, which the caller took with wordindex_source_stat).
 */
bool wordindex_matches(const struct wordindex *ix, const char *wordlist,
		       const struct wordindex_source *now);

/* What wordindex_verify found. */
enum wordindex_state {
	WORDINDEX_USED,         /* valid, built from wordlist as it is now */
	WORDINDEX_OFF,          /* no index path configured, or no wordlist */
	WORDINDEX_MISSING,      /* no file at the index path */
	WORDINDEX_STALE,        /* the list changed after the index was built */
	WORDINDEX_OTHER,        /* built from other lists than wordlist */
	WORDINDEX_BAD,          /* refused by wordindex_open (see why) */
	WORDINDEX_IS_LIST,      /* wordlist itself names a valid index */
	WORDINDEX_LIST_BAD      /* wordlist names an index that is refused */
};

/*
 * wordindex_verify - would the checks of p use an index, and if not why:
 * looks at p->wordlist (an index itself?) and p->wordlist_index. why
 * (whylen bytes) gets a sentence for doctor. Reads the files; never
 * fails otherwise.
 */
enum wordindex_state wordindex_verify(const struct policy *p, uint32_t scheme,
				      char *why, size_t whylen);

#endif
