/*
 * fuzz_blocklist.c - libFuzzer target for the breach filter reader.
 *
 * Each input is a filter file image. When its last byte is odd the image's
 * checksums are recomputed first (blocklist_seal), so that the header and
 * directory checks and the page decoder behind them are reached too. The
 * image is opened through a memfd; an image that opens must answer
 * lookups with 1, 0 or -1 (never crash, never read out of bounds), read
 * exactly one page per lookup, and describe itself with blocklist_info.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "blocklist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *image = malloc(size + 1);
	struct blocklist *bl = NULL;
	struct blocklist_info info;
	char path[64], why[256];
	int fd;

	if (image == NULL)
		return 0;
	if (size > 0)
		memcpy(image, data, size);
	if (size > 0 && (data[size - 1] & 1))
		(void)blocklist_seal(image, size);
	fd = memfd_create("fuzz_blocklist", MFD_CLOEXEC);
	if (fd < 0 || (size > 0 && write(fd, image, size) != (ssize_t)size))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	pp_err err = blocklist_open(path, &bl, why, sizeof(why));
	if (err != PP_OK) {
		if (bl != NULL || why[0] == '\0')
			abort();
		if (err != PP_ERR_CONFIG && err != PP_ERR_NOMEM)
			abort();
	} else {
		uint8_t digest[BLOCKLIST_DIGEST_MAX];
		if (blocklist_info(bl, &info, true) != PP_OK)
			abort();
		size_t dlen = info.kind == BLOCKLIST_SHA1 ? BLOCKLIST_SHA1_LEN : BLOCKLIST_NTLM_LEN;
		/* keys from the image itself (likely to land on its pages) and fixed ones */
		for (size_t i = 0; i < 16; i++) {
			for (size_t j = 0; j < dlen; j++)
				digest[j] = size > 0 ? data[(i * 7 + j * 13) % size] : (uint8_t)j;
			if (i == 0)
				memset(digest, 0, dlen);
			if (i == 1)
				memset(digest, 0xff, dlen);
			int rc = blocklist_contains_hash(bl, digest, dlen);
			if (rc < -1 || rc > 1)
				abort();
		}
		if (blocklist_contains(bl, "password", 8) < -1)
			abort();
		if (blocklist_info(bl, &info, false) != PP_OK || info.page_reads != 17)
			abort();
		(void)blocklist_changed(bl);
		blocklist_close(bl);
	}
	close(fd);
	free(image);
	return 0;
}
