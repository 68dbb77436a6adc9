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
 * key kept in a file only the daemon can read. The store records a check
 * value of the pepper (hash_pepper_check_value), so that the daemon
 * notices a lost or replaced pepper file instead of silently matching
 * nothing.
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
 * The pepper file. Every function below applies fsutil's secret-file rule
 * to an existing file: a regular file (not a symlink) owned by the
 * effective uid, no mode bits beyond 0600, exactly HASH_PEPPER_BYTES long;
 * otherwise PP_ERR_INVALID (wrong owner, mode, type or size) or PP_ERR_IO
 * (cannot open, read, write; errno kept), with a message naming path in
 * err (errlen bytes; err may be NULL when errlen is 0). They never write
 * the key into err, and on failure pepper is wiped (pp_wipe). Thread-safe.
 *
 * Whether a missing pepper may be created is not decided here: the daemon
 * binds its pepper to the store (hash_pepper_check_value, store_meta_bind)
 * and creates one only for a store that holds nothing yet.
 */

/*
 * hash_pepper_load - fill pepper with the key stored at path.
 * PP_ERR_NOT_FOUND when path does not exist (nothing is created).
 */
pp_err hash_pepper_load(const char *path, uint8_t pepper[HASH_PEPPER_BYTES],
			char *err, size_t errlen) PP_WUR;

/* hash_pepper_generate - fill pepper with HASH_PEPPER_BYTES random bytes. */
void hash_pepper_generate(uint8_t pepper[HASH_PEPPER_BYTES]);

/*
 * hash_pepper_save - write pepper to path, mode 0400, durably and
 * atomically (written aside, fsynced, then put in place, directory
 * fsynced): a reader sees the old file or the whole new one. Without
 * replace an existing path is left alone and PP_ERR_IO is returned with
 * errno EEXIST; with replace it is replaced (rename). pepper is not wiped.
 */
pp_err hash_pepper_save(const char *path, const uint8_t pepper[HASH_PEPPER_BYTES],
			bool replace, char *err, size_t errlen) PP_WUR;

/*
 * hash_pepper_load_or_create - hash_pepper_load, and when path does not
 * exist, create it with hash_pepper_generate + hash_pepper_save (a process
 * that loses a race to create it loads the winner's file). For key files
 * that nothing else depends on; the daemon's pepper goes through the
 * binding described above instead.
 */
pp_err hash_pepper_load_or_create(const char *path,
				  uint8_t pepper[HASH_PEPPER_BYTES],
				  char *err, size_t errlen) PP_WUR;

/*
 * hash_pepper_check_value - out = BLAKE2b-256(key = pepper,
 * HASH_PEPPER_CHECK_CONTEXT): a value the store keeps to recognise its
 * pepper. It reveals nothing about the pepper (a keyed hash of a public
 * constant) yet differs for any other key, so a lost or swapped pepper is
 * found at start instead of every history check silently matching
 * nothing. PP_ERR_CRYPTO if libsodium fails (out is then zeroed).
 */
#define HASH_PEPPER_CHECK_CONTEXT "pam_policy pepper check v1"
pp_err hash_pepper_check_value(const uint8_t pepper[HASH_PEPPER_BYTES],
			       uint8_t out[HASH_BYTES]) PP_WUR;

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

/*
 * hash_skeleton - the hash of a password's skeleton (strength.h) for the
 * similar_history check: out = BLAKE2b-256(key = pepper,
 * HASH_SKELETON_CONTEXT || argon2id13(skeleton[0..len), salt, params)).
 * The same salt and pepper as hash_password, but the context prefix
 * separates the domains: a skeleton hash never equals a password hash,
 * even when a skeleton's text equals some password. Arguments, errors,
 * cost and wiping as for hash_password.
 */
#define HASH_SKELETON_CONTEXT "pam_policy skeleton v1"

/*
 * hash_skeleton_params - the argon2id cost of the skeleton hash recorded
 * beside a password hashed at *password: the same passes over an eighth
 * of the memory (HASH_SKELETON_MEMORY_SHARE; never below libsodium's
 * minimum, never above the password's own), so about an eighth of the
 * time. Pure; both non-NULL.
 *
 * Why a skeleton may cost less than its password:
 *  - it is keyed like the password hash (BLAKE2b with the pepper, a random
 *    32-byte key only the daemon reads): with the store alone no guess
 *    can be tested at any cost, so argon2id's cost only matters once the
 *    pepper is stolen too;
 *  - the skeleton is the weaker secret by construction (its digits and
 *    symbols reduced to their shape, case and look-alikes folded), kept
 *    for the newest similar_history entries only; the password hash keeps
 *    the full cost, so the password itself is no cheaper to find;
 *  - at an eighth it is still memory-hard (8 MiB per guess with the
 *    defaults), while a check costs about one password evaluation instead
 *    of two running side by side on a loaded machine (make bench, part S).
 * The price, once the pepper is stolen: the core and shape of the newest
 * few passwords fall about eight times faster than at full cost, which
 * narrows (not removes) the search for those passwords' hashes.
 *
 * The cost is stored with each skeleton (store_entry.skeleton_opslimit,
 * skeleton_memlimit), so entries made at another cost keep matching.
 */
#define HASH_SKELETON_MEMORY_SHARE 8
void hash_skeleton_params(const struct hash_params *password,
			  struct hash_params *out);
pp_err hash_skeleton(const char *skeleton, size_t len,
		     const uint8_t salt[HASH_SALT_BYTES],
		     const struct hash_params *params,
		     const uint8_t pepper[HASH_PEPPER_BYTES],
		     uint8_t out[HASH_BYTES]) PP_WUR;

/* hash_equal - constant-time comparison of two hashes (sodium_memcmp). */
bool hash_equal(const uint8_t a[HASH_BYTES], const uint8_t b[HASH_BYTES]);

#endif
