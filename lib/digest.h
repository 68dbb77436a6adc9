/*
 * digest.h - SHA-1 (FIPS 180-4) and MD4 (RFC 1320), for the breach filter
 * only: Have I Been Pwned publishes SHA-1 hashes of passwords and NTLM
 * hashes (MD4 of the UTF-16LE password). Neither is used for anything that
 * needs a secure hash; libsodium (which has neither) does that elsewhere.
 *
 * One-shot functions: the input and the output are the caller's; the
 * internal state is wiped before returning (it is derived from a
 * password). Pure, thread-safe, no allocation.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_DIGEST_H
#define PAM_POLICY_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_SHA1_LEN 20
#define DIGEST_MD4_LEN  16

/* digest_sha1 - SHA-1 of data[0..len) into out. */
void digest_sha1(const void *data, size_t len, uint8_t out[DIGEST_SHA1_LEN]);

/* digest_md4 - MD4 of data[0..len) into out. */
void digest_md4(const void *data, size_t len, uint8_t out[DIGEST_MD4_LEN]);

#endif
