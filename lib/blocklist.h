/*
 * blocklist.h - the breached-password filter: an immutable file of hashed
 * passwords (Have I Been Pwned SHA-1 or NTLM hashes, or plain lists) that
 * answers "is this password listed?" with one pread of one 4 KiB page.
 *
 * The file (format in man/pam_policy.ppbl.5) holds a 64-bit fingerprint
 * of every listed hash, mapped onto a universe just large enough for the
 * false-positive rate chosen at build time (1e-9), sorted, split into
 * 4 KiB pages and Rice coded inside each page. A small page directory, read
 * once by blocklist_open and kept in memory, says which page holds a
 * fingerprint, so a lookup reads exactly one page. Header, directory and
 * every page carry checksums: a truncated or corrupt file is refused at
 * open (header, directory, size) or at the lookup that reads a bad page.
 *
 * A "false positive" is a password that is not in the source lists but
 * whose fingerprint collides with one that is: it is refused as breached.
 * blocklist_info reports the rate the parameters give.
 *
 * Keys: a file has one kind. SHA-1 files hash the password bytes as given;
 * NTLM files hash the UTF-16LE form of the (UTF-8) password with MD4, as
 * Windows does. Callers pass the password exactly as it will be set
 * (normalised by the caller, e.g. to NFC, when that is the policy).
 *
 * Secrets: the password and its digest live only in the caller's buffer
 * and on the stack of these functions, which wipe their copies with
 * pp_wipe before returning. Nothing is logged; error text never holds a
 * password, a hash or file contents beyond offsets and counts.
 *
 * Thread safety: a struct blocklist is read-only after blocklist_open;
 * blocklist_contains, blocklist_contains_hash, blocklist_changed and
 * blocklist_info may be called from several threads at once on one
 * handle (pread does not move a file offset; counters are atomic).
 * blocklist_close must not race with them. The writer is single-threaded.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_BLOCKLIST_H
#define PAM_POLICY_BLOCKLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define BLOCKLIST_PAGE_SIZE   4096      /* bytes per page: one pread per lookup */
#define BLOCKLIST_SOURCES_MAX 512       /* bytes of the sources text, with its NUL */
#define BLOCKLIST_DIGEST_MAX  20        /* the longest key digest (SHA-1) */
#define BLOCKLIST_SHA1_LEN    20
#define BLOCKLIST_NTLM_LEN    16
#define BLOCKLIST_PASSWORD_MAX 4096     /* bytes an NTLM key may have (SHA-1: any) */
#define BLOCKLIST_VERSION     1         /* the format version this code writes and reads */

/* An open filter file (fd + header + page directory). Opaque. */
struct blocklist;

/* What a file's keys are hashes of. */
enum blocklist_kind { BLOCKLIST_SHA1 = 1, BLOCKLIST_NTLM = 2 };

struct blocklist_info {
	uint64_t entries;          /* distinct hashes in the file */
	uint32_t version;          /* format version */
	enum blocklist_kind kind;
	double fp_rate;            /* false-positive rate the parameters give */
	double bits_per_entry;     /* file size in bits / entries (all overhead counted) */
	int64_t built;             /* build time, seconds since the epoch (UTC) */
	char sources[BLOCKLIST_SOURCES_MAX]; /* "name count; name count" as built, NUL-terminated */
	bool checksum_ok;          /* header and directory (and, when asked, every page) verified */
	/* more fields */
	uint64_t file_size;        /* bytes */
	uint32_t pages;            /* data pages */
	uint32_t fingerprint_bits; /* bits of the 64-bit fingerprint kept */
	uint64_t bad_pages;        /* pages whose checksum failed (verify_all_pages only) */
	uint64_t page_reads;       /* preads of a page made by lookups on this handle */
	uint64_t universe;         /* fingerprints are mapped onto [0, universe) */
	uint32_t rice_bits;        /* the Rice parameter k of the pages' codes */
};

/*
 * blocklist_open - open the filter at path, read and check its header
 * (magic, version, kind, parameters, header checksum), its size and its
 * page directory (directory checksum), and keep the directory in memory
 * (8 bytes a page in memory: about 8 MiB for a billion entries). The file is opened O_RDONLY
 * | O_CLOEXEC; the handle keeps the descriptor. Pages are not read.
 * Returns PP_OK and *out (free with blocklist_close); PP_ERR_NOT_FOUND when
 * path does not exist; PP_ERR_IO (errno set) when it cannot be opened or
 * read; PP_ERR_CONFIG when it is not a valid filter file (truncated,
 * corrupt, wrong magic or an unsupported version); PP_ERR_NOMEM. On every
 * error *out is NULL and why (whylen bytes, may be NULL when whylen is 0)
 * holds one plain sentence naming path and what is wrong ("... is
 * truncated: 8192 bytes, the header says 12288").
 */
pp_err blocklist_open(const char *path, struct blocklist **out, char *why,
		      size_t whylen) PP_WUR;

/*
 * blocklist_contains - hash password[0..len) with the file's kind (SHA-1
 * of the bytes, or NTLM: MD4 of their UTF-16LE form) and look it up with
 * exactly one pread of one page. Returns 1 when listed, 0 when not, -1 on
 * an I/O error or a corrupt page (errno set: EBADMSG for a page whose
 * checksum fails, EINVAL for a NULL argument, EILSEQ when an NTLM file is
 * asked about bytes that are not UTF-8, or pread's errno). The digest is
 * wiped.
 */
int blocklist_contains(struct blocklist *bl, const char *password, size_t len);

/*
 * blocklist_contains_hash - look up a digest of the file's kind (dlen 20
 * for SHA-1, 16 for NTLM; else -1 with errno EINVAL). One pread of one
 * page; results as blocklist_contains.
 */
int blocklist_contains_hash(struct blocklist *bl, const uint8_t *digest,
			    size_t dlen);

/*
 * blocklist_changed - true when the path bl was opened from now names
 * another file (st_dev, st_ino, size or mtime differ) or no file (it was
 * removed, or stat fails): the caller opens the new one and closes bl.
 * One stat; no read.
 */
bool blocklist_changed(struct blocklist *bl);

/* blocklist_close - close the file and free bl. NULL is ignored. */
void blocklist_close(struct blocklist *bl);

/*
 * blocklist_info - describe bl into *out. With verify_all_pages every page
 * is read and its checksum checked (a full read of the file; seconds for
 * a large file): checksum_ok is then false when any page is bad, and
 * bad_pages counts them. Returns PP_OK; PP_ERR_IO (errno set) when a read
 * fails.
 */
pp_err blocklist_info(struct blocklist *bl, struct blocklist_info *out,
		      bool verify_all_pages) PP_WUR;

/* blocklist_kind_name - "sha1" or "ntlm" ("unknown" for other values). */
const char *blocklist_kind_name(enum blocklist_kind kind);

/*
 * blocklist_key - the digest a password has in a file of this kind, into
 * digest (BLOCKLIST_DIGEST_MAX bytes); returns its length (20 or 16), or
 * 0 for an unknown kind or, for NTLM, invalid UTF-8 (errno EILSEQ) or an
 * over-long password (errno E2BIG). The caller wipes digest.
 */
size_t blocklist_key(enum blocklist_kind kind, const char *password,
		     size_t len, uint8_t digest[BLOCKLIST_DIGEST_MAX]);

/*
 * blocklist_fingerprint - the 64-bit fingerprint a digest has in every
 * file: its first 8 bytes, big-endian (SHA-1 and MD4 outputs are uniform,
 * and HIBP range files are sorted by this prefix). dlen must be >= 8.
 */
uint64_t blocklist_fingerprint(const uint8_t *digest, size_t dlen);

/*
 * blocklist_seal - recompute the checksums (every page's check, the data,
 * directory and header sums) of a file image in buf[0..len), in place,
 * as far as the image's header and length allow. For tests and the fuzz
 * target: an image changed on purpose then reaches the parsers behind the
 * checksums. Returns false when buf is shorter than a header.
 */
bool blocklist_seal(uint8_t *buf, size_t len);

/* ------------------------------------------------------------------------
 * The writer: builds a file from fingerprints given in ascending order.
 * Used by "pam_policyctl blocklist build", which sorts and dedupes.
 */
struct blocklist_writer;

struct blocklist_params {
	enum blocklist_kind kind;
	uint64_t entries;          /* exact number of distinct fingerprints to come */
	double target_fp;          /* wanted false-positive rate (e.g. 1e-9); 0: default */
	int64_t built;             /* build time to record (seconds since the epoch) */
	const char *sources;       /* text to record (cut to BLOCKLIST_SOURCES_MAX - 1) */
};

#define BLOCKLIST_DEFAULT_FP 1e-9

/*
 * blocklist_writer_open - start writing to the open, empty, seekable file
 * descriptor fd (the caller creates it, renames it into place and closes
 * it). Returns PP_OK; PP_ERR_INVALID for bad params (why says which);
 * PP_ERR_NOMEM.
 */
pp_err blocklist_writer_open(int fd, const struct blocklist_params *params,
			     struct blocklist_writer **out, char *why,
			     size_t whylen) PP_WUR;

/*
 * blocklist_writer_add - add the next fingerprint (a full 64-bit one from
 * blocklist_fingerprint). Fingerprints must come in ascending order;
 * duplicates (also those equal after cutting to the file's fingerprint
 * bits) are dropped. PP_OK; PP_ERR_INVALID when out of order or more than
 * params->entries arrive; PP_ERR_IO (errno set) when a write fails.
 */
pp_err blocklist_writer_add(struct blocklist_writer *w, uint64_t fingerprint) PP_WUR;

/*
 * blocklist_writer_finish - write the last page, the directory and the
 * header, and fsync fd. PP_OK; PP_ERR_IO (errno set). Fewer fingerprints
 * than announced are fine (duplicates after cutting): the header records
 * the count written.
 */
pp_err blocklist_writer_finish(struct blocklist_writer *w, char *why,
			       size_t whylen) PP_WUR;

/* blocklist_writer_free - free w (after finish, or to abandon it). */
void blocklist_writer_free(struct blocklist_writer *w);

#endif
