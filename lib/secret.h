/*
 * secret.h - the one way secrets are wiped.
 *
 * pp_wipe zeroes len bytes at p with a primitive the compiler may not
 * drop (libsodium's sodium_memzero, which every program links). Passwords,
 * hashes, salts, keys and the buffers that carried them are wiped with it
 * on every path; never with memset.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_SECRET_H
#define PAM_POLICY_SECRET_H

#include <stddef.h>
#include <sodium.h>

static inline void pp_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		sodium_memzero(p, len);
}

#endif
