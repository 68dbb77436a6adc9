/*
 * wordindex.c - the word-list index file (see wordindex.h).
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "wordindex.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

_Static_assert(sizeof(struct wordindex_header) % sizeof(uint64_t) == 0,
	       "the table after the header is 8-byte aligned");

/* Four independent multiply-xor lanes over 8-byte words (one lane would
 * wait for each multiplication), folded together at the end. */
uint64_t wordindex_checksum(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t lane[4] = { 0x243f6a8885a308d3ull, 0x13198a2e03707344ull,
			     0xa4093822299f31d0ull, 0x082efa98ec4e6c89ull };
	uint64_t v, h;
	size_t i = 0;

	for (; i + 32 <= len; i += 32)
		for (int k = 0; k < 4; k++) {
			memcpy(&v, p + i + 8 * (size_t)k, 8);
			lane[k] = (lane[k] ^ v) * 0x9e3779b97f4a7c15ull;
			lane[k] ^= lane[k] >> 31;
		}
	h = (uint64_t)len;
	for (int k = 0; k < 4; k++)
		h = (h ^ lane[k]) * 0xff51afd7ed558ccdull;
	for (; i < len; i++)
		h = (h ^ p[i]) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 29;
	return h;
}

pp_err wordindex_source_stat(const char *path, struct wordindex_source *src)
{
	struct stat st;
	size_t len;

	memset(src, 0, sizeof(*src));
	len = strlen(path);
	if (len >= sizeof(src->path))
		return PP_ERR_TOO_LONG;
	if (stat(path, &st) != 0)
		return errno == ENOENT ? PP_ERR_NOT_FOUND : PP_ERR_IO;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return PP_ERR_IO;
	}
	memcpy(src->path, path, len + 1);
	src->size = (uint64_t)st.st_size;
	src->mtime_sec = (int64_t)st.st_mtim.tv_sec;
	src->mtime_nsec = (int64_t)st.st_mtim.tv_nsec;
	src->inode = (uint64_t)st.st_ino;
	return PP_OK;
}

static uint64_t header_check(const struct wordindex_header *h)
{
	return wordindex_checksum(h, offsetof(struct wordindex_header, header_check));
}

pp_err wordindex_encode(const uint64_t *slot, uint64_t slots, uint64_t words,
			const struct wordindex_source *src, size_t nsrc,
			uint32_t scheme, void **out, size_t *outlen)
{
	struct wordindex_header h;
	size_t table, total;
	unsigned char *buf;

	*out = NULL;
	*outlen = 0;
	if (slot == NULL || slots == 0 || (slots & (slots - 1)) != 0 ||
	    slots > WORDINDEX_MAX_SLOTS || words > slots ||
	    nsrc > WORDINDEX_MAX_SOURCES || (nsrc > 0 && src == NULL))
		return PP_ERR_INVALID;
	table = (size_t)slots * sizeof(uint64_t);
	total = sizeof(h) + table;
	buf = malloc(total);
	if (buf == NULL)
		return PP_ERR_NOMEM;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, WORDINDEX_MAGIC, sizeof(h.magic));
	h.version = WORDINDEX_VERSION;
	h.byte_order = WORDINDEX_BYTE_ORDER;
	h.scheme = scheme;
	h.nsources = (uint32_t)nsrc;
	h.words = words;
	h.slots = slots;
	h.file_bytes = total;
	h.table_check = wordindex_checksum(slot, table);
	for (size_t i = 0; i < nsrc; i++)
		h.sources[i] = src[i];
	h.header_check = header_check(&h);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), slot, table);
	*out = buf;
	*outlen = total;
	return PP_OK;
}

bool wordindex_has_magic(const char *path)
{
	char magic[sizeof(((struct wordindex_header *)0)->magic)];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	ssize_t got;

	if (fd < 0)
		return false;
	got = read(fd, magic, sizeof(magic));
	(void)close(fd);
	return got == (ssize_t)sizeof(magic) &&
	       memcmp(magic, WORDINDEX_MAGIC, sizeof(magic)) == 0;
}

/* The header's own checks, before the table is looked at. */
static const char *header_problem(const struct wordindex_header *h, uint32_t scheme,
				  uint64_t file_bytes)
{
	if (memcmp(h->magic, WORDINDEX_MAGIC, sizeof(h->magic)) != 0)
		return "not a word-list index (no PPWORDIX header)";
	if (h->byte_order != WORDINDEX_BYTE_ORDER)
		return "written on a machine of another byte order";
	if (h->version != WORDINDEX_VERSION)
		return "another index format version";
	if (h->header_check != header_check(h))
		return "its header is corrupt (checksum mismatch)";
	if (h->scheme != scheme)
		return "built for another word hash (another pam_policy version)";
	if (h->slots == 0 || (h->slots & (h->slots - 1)) != 0 ||
	    h->slots > WORDINDEX_MAX_SLOTS || h->words > h->slots ||
	    h->nsources > WORDINDEX_MAX_SOURCES ||
	    h->file_bytes != sizeof(*h) + h->slots * sizeof(uint64_t))
		return "its header is inconsistent";
	if (file_bytes < h->file_bytes)
		return "truncated (shorter than its header says)";
	if (file_bytes > h->file_bytes)
		return "longer than its header says";
	for (uint32_t i = 0; i < h->nsources; i++)
		if (memchr(h->sources[i].path, '\0', sizeof(h->sources[i].path)) == NULL)
			return "its header is inconsistent";
	return NULL;
}

pp_err wordindex_open(const char *path, uint32_t scheme, struct wordindex *out,
		      char *why, size_t whylen)
{
	const char *problem = NULL;
	struct stat st;
	void *map;
	int fd, saved;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		saved = errno;
		pp_errorf(why, whylen, "%s: %s", path, strerror(saved));
		errno = saved;
		return saved == ENOENT ? PP_ERR_NOT_FOUND : PP_ERR_IO;
	}
	if (fstat(fd, &st) != 0) {
		saved = errno;
		(void)close(fd);
		pp_errorf(why, whylen, "%s: %s", path, strerror(saved));
		errno = saved;
		return PP_ERR_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		(void)close(fd);
		pp_errorf(why, whylen, "%s: not a regular file", path);
		errno = EINVAL;
		return PP_ERR_IO;
	}
	/* Whoever may rewrite the index decides which words count. */
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022) != 0) {
		(void)close(fd);
		pp_errorf(why, whylen, "%s: %s", path, (st.st_mode & 022) != 0
			  ? "writable by group or others" : "owned by another user than root");
		return PP_ERR_INVALID;
	}
	if ((uint64_t)st.st_size < sizeof(struct wordindex_header)) {
		(void)close(fd);
		pp_errorf(why, whylen, "%s: truncated (%lld bytes, shorter than "
			  "an index header)", path, (long long)st.st_size);
		return PP_ERR_INVALID;
	}
	if ((uint64_t)st.st_size > sizeof(struct wordindex_header) +
				    WORDINDEX_MAX_SLOTS * sizeof(uint64_t)) {
		(void)close(fd);
		pp_errorf(why, whylen, "%s: larger than any index", path);
		return PP_ERR_INVALID;
	}
	/* Populated at once: the checksum below reads every page anyway. */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
		   fd, 0);
	saved = errno;
	(void)close(fd);
	if (map == MAP_FAILED) {
		pp_errorf(why, whylen, "%s: %s", path, strerror(saved));
		errno = saved;
		return PP_ERR_IO;
	}
	memcpy(&out->header, map, sizeof(out->header));
	problem = header_problem(&out->header, scheme, (uint64_t)st.st_size);
	if (problem == NULL &&
	    wordindex_checksum((const unsigned char *)map + sizeof(out->header),
			       (size_t)out->header.slots * sizeof(uint64_t)) !=
		    out->header.table_check)
		problem = "its table is corrupt (checksum mismatch)";
	if (problem != NULL) {
		(void)munmap(map, (size_t)st.st_size);
		memset(out, 0, sizeof(*out));
		pp_errorf(why, whylen, "%s: %s", path, problem);
		return PP_ERR_INVALID;
	}
	out->map = map;
	out->map_bytes = (size_t)st.st_size;
	out->slot = (const uint64_t *)((const unsigned char *)map + sizeof(out->header));
	return PP_OK;
}

void wordindex_close(struct wordindex *ix)
{
	if (ix == NULL)
		return;
	if (ix->map != NULL)
		(void)munmap(ix->map, ix->map_bytes);
	memset(ix, 0, sizeof(*ix));
}

bool wordindex_matches(const struct wordindex *ix, const char *wordlist,
		       const struct wordindex_source *now)
{
	const struct wordindex_source *s = &ix->header.sources[0];

	return ix->header.nsources == 1 && strcmp(s->path, wordlist) == 0 &&
	       strcmp(now->path, wordlist) == 0 && s->size == now->size &&
	       s->mtime_sec == now->mtime_sec && s->mtime_nsec == now->mtime_nsec &&
	       s->inode == now->inode;
}

enum wordindex_state wordindex_verify(const struct policy *p, uint32_t scheme,
				      char *why, size_t whylen)
{
	struct wordindex ix;
	struct wordindex_source now;
	enum wordindex_state state;
	char detail[512];
	pp_err rc;

	pp_errorf(why, whylen, "no word list index is used");
	if (p->wordlist[0] == '\0')
		return WORDINDEX_OFF;
	if (wordindex_has_magic(p->wordlist)) {
		rc = wordindex_open(p->wordlist, scheme, &ix, detail, sizeof(detail));
		if (rc != PP_OK) {
			pp_errorf(why, whylen, "wordlist names an index that is refused: %s",
				  detail);
			return WORDINDEX_LIST_BAD;
		}
		pp_errorf(why, whylen, "wordlist %s is an index of %u list(s), %llu words",
			  p->wordlist, ix.header.nsources,
			  (unsigned long long)ix.header.words);
		wordindex_close(&ix);
		return WORDINDEX_IS_LIST;
	}
	if (p->wordlist_index[0] == '\0')
		return WORDINDEX_OFF;
	rc = wordindex_open(p->wordlist_index, scheme, &ix, detail, sizeof(detail));
	if (rc == PP_ERR_NOT_FOUND) {
		pp_errorf(why, whylen, "no word list index %s: every check reads %s "
			  "whole (slower); build it with \"pam_policyctl wordlist build\"",
			  p->wordlist_index, p->wordlist);
		return WORDINDEX_MISSING;
	}
	if (rc != PP_OK) {
		pp_errorf(why, whylen, "word list index refused, %s is read instead: %s; "
			  "rebuild it with \"pam_policyctl wordlist build\"",
			  p->wordlist, detail);
		return WORDINDEX_BAD;
	}
	if (wordindex_source_stat(p->wordlist, &now) != PP_OK) {
		state = WORDINDEX_OFF;
		pp_errorf(why, whylen, "word list %s cannot be read: index %s unused",
			  p->wordlist, p->wordlist_index);
	} else if (wordindex_matches(&ix, p->wordlist, &now)) {
		state = WORDINDEX_USED;
		pp_errorf(why, whylen, "word list index %s is current (%llu words of %s)",
			  p->wordlist_index, (unsigned long long)ix.header.words,
			  p->wordlist);
	} else if (ix.header.nsources == 1 &&
		   strcmp(ix.header.sources[0].path, p->wordlist) == 0) {
		state = WORDINDEX_STALE;
		pp_errorf(why, whylen, "word list index %s is stale: %s changed after "
			  "it was built, so every check reads the list whole (slower); "
			  "run \"pam_policyctl wordlist build\"",
			  p->wordlist_index, p->wordlist);
	} else {
		state = WORDINDEX_OTHER;
		pp_errorf(why, whylen, "word list index %s was built from %s, not from "
			  "wordlist %s: unused; run \"pam_policyctl wordlist build\"",
			  p->wordlist_index,
			  ix.header.nsources > 0 ? ix.header.sources[0].path : "no list",
			  p->wordlist);
	}
	wordindex_close(&ix);
	return state;
}
