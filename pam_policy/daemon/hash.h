/*
 * hash.h - password hashing for the history store (libsodium).
 *
 * Each history entry is
 *
 *     BLAKE2b-256(key = pepper, argon2id(password, user_salt, params))
 *
 * One user's entries share the user's salt, so checking a new password
 * against the whole history costs one argon2id evaluation; the keyed
 * BLAKE2b makes a stolen store useless without the pepper, a random 32-byte
 * key kept in a file only the daemon can read.
 *
 * Call hash_init() once, before any other function here and before threads
 * are started. After that every function is thread-safe: none keeps state
 * between calls (libsodium's random generator is thread-safe).
 *
 * Secrets: the caller owns the password and pepper buffers and should keep
 * them in sodium_malloc'd memory; these functions never copy them anywhere
 * else, never log them, and wipe their own intermediate values.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_HASH_H
#define PAM_POLICY_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define HASH_SALT_BYTES 16     /* crypto_pwhash_SALTBYTES */
#define HASH_BYTES 32          /* argon2id output and final hash length */
#define HASH_PEPPER_BYTES 32   /* BLAKE2b key */

/*
 * argon2id cost. opslimit: passes over memory; memlimit: bytes.
 * Stored with each history entry so that the defaults can be raised later.
 */
struct hash_params {
	unsigned long long opslimit;
	size_t memlimit;
};

/*
 * hash_init - initialise libsodium. Returns PP_ERR_CRYPTO if it cannot
 * (no usable random source). Safe to call more than once.
 */
pp_err hash_init(void) PP_WUR;

/*
 * hash_params_default - the argon2_opslimit and argon2_memlimit_kib
 * defaults of the option table (policy.c; libsodium's INTERACTIVE values).
 * Never fails; p non-NULL.
 */
void hash_params_default(struct hash_params *p);

/*
 * hash_params_from_policy - the argon2id cost configured in pol
 * (argon2_opslimit passes, argon2_memlimit_kib KiB). Pure; both non-NULL.
 */
struct policy;
void hash_params_from_policy(const struct policy *pol, struct hash_params *p);

/*
 * hash_params_valid - true when p is within libsodium's argon2id limits
 * (opslimit >= crypto_pwhash_OPSLIMIT_MIN, memlimit >= _MEMLIMIT_MIN, ...).
 */
bool hash_params_valid(const struct hash_params *p);

/*
 * hash_pepper_load_or_create - fill pepper with the key stored at path.
 *
 * When path does not exist, create it with 32 random bytes, mode 0400,
 * atomically (fsutil_create_file: written aside, fsynced, linked into
 * place, directory fsynced; a process that loses a race to create it loads
 * the winner's file) and return them. An existing file is used only if it
 * passes fsutil's secret-file rule: a regular file (not a symlink) owned by
 * the effective uid, no mode bits beyond 0600, exactly HASH_PEPPER_BYTES
 * long; otherwise PP_ERR_INVALID (wrong owner, mode, type or size) or
 * PP_ERR_IO (cannot open, read, write), with a message naming path in err
 * (errlen bytes; err may be NULL when errlen is 0). On failure pepper is
 * wiped (pp_wipe). Never writes the key into err. Thread-safe.
 */
pp_err hash_pepper_load_or_create(const char *path,
				  uint8_t pepper[HASH_PEPPER_BYTES],
				  char *err, size_t errlen) PP_WUR;

/* hash_salt_new - fill salt with HASH_SALT_BYTES random bytes. */
void hash_salt_new(uint8_t salt[HASH_SALT_BYTES]);

/*
 * hash_password - out = BLAKE2b-256(key = pepper, argon2id13(password[0..len),
 * salt, params, 32 bytes)). password may contain any bytes (NUL included)
 * and may be NULL only when len is 0. The argon2id output lives on the
 * stack and is wiped with pp_wipe on every path; on failure out is
 * zeroed too.
 *
 * Returns PP_ERR_INVALID for out-of-range params, PP_ERR_NOMEM when
 * argon2id cannot get params->memlimit bytes, PP_ERR_CRYPTO otherwise.
 * Thread-safe; each call allocates (and frees) params->memlimit bytes.
 */
pp_err hash_password(const char *password, size_t len,
		     const uint8_t salt[HASH_SALT_BYTES],
		     const struct hash_params *params,
		     const uint8_t pepper[HASH_PEPPER_BYTES],
		     uint8_t out[HASH_BYTES]) PP_WUR;

/* hash_equal - constant-time comparison of two hashes (sodium_memcmp). */
bool hash_equal(const uint8_t a[HASH_BYTES], const uint8_t b[HASH_BYTES]);

#endif
