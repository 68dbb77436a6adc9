/*
 * hash.c - argon2id + keyed BLAKE2b password hashing, pepper file.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "hash.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "fsutil.h"
#include "paths.h"
#include "policy.h"
#include "secret.h"

_Static_assert(HASH_PEPPER_BYTES == PATHS_PEPPER_BYTES, "pepper file size");
_Static_assert(HASH_SALT_BYTES == crypto_pwhash_SALTBYTES, "salt size");
_Static_assert(HASH_PEPPER_BYTES >= crypto_generichash_KEYBYTES_MIN &&
	       HASH_PEPPER_BYTES <= crypto_generichash_KEYBYTES_MAX, "pepper size");
_Static_assert(HASH_BYTES >= crypto_generichash_BYTES_MIN &&
	       HASH_BYTES <= crypto_generichash_BYTES_MAX, "hash size");

pp_err hash_init(void)
{
	return sodium_init() < 0 ? PP_ERR_CRYPTO : PP_OK;
}

void hash_params_default(struct hash_params *p)
{
	struct policy d;

	/* The defaults are written once, in the option table. */
	policy_defaults(&d);
	hash_params_from_policy(&d, p);
}

void hash_params_from_policy(const struct policy *pol, struct hash_params *p)
{
	p->opslimit = pol->argon2_opslimit;
	p->memlimit = (size_t)pol->argon2_memlimit_kib * 1024;
}

bool hash_params_valid(const struct hash_params *p)
{
	return p != NULL &&
	       p->opslimit >= crypto_pwhash_OPSLIMIT_MIN &&
	       p->opslimit <= crypto_pwhash_OPSLIMIT_MAX &&
	       p->memlimit >= crypto_pwhash_MEMLIMIT_MIN &&
	       p->memlimit <= crypto_pwhash_MEMLIMIT_MAX;
}

void hash_skeleton_params(const struct hash_params *password,
			  struct hash_params *out)
{
	size_t mem = password->memlimit / HASH_SKELETON_MEMORY_SHARE;

	if (mem < crypto_pwhash_MEMLIMIT_MIN)
		mem = crypto_pwhash_MEMLIMIT_MIN;
	if (mem > password->memlimit)
		mem = password->memlimit;
	out->opslimit = password->opslimit;
	out->memlimit = mem;
}

void hash_salt_new(uint8_t salt[HASH_SALT_BYTES])
{
	randombytes_buf(salt, HASH_SALT_BYTES);
}

/*
 * BLAKE2b-256(key = pepper, context || argon2id13(text, salt, params)):
 * hash_password without a context, hash_skeleton with one.
 */
static pp_err hash_keyed(const char *context, const char *password, size_t len,
			 const uint8_t salt[HASH_SALT_BYTES],
			 const struct hash_params *params,
			 const uint8_t pepper[HASH_PEPPER_BYTES],
			 uint8_t out[HASH_BYTES])
{
	uint8_t inner[HASH_BYTES];
	static const char empty[1] = "";
	crypto_generichash_state st;
	pp_err rc = PP_OK;

	if (out == NULL)
		return PP_ERR_INVALID;
	if ((password == NULL && len != 0) || salt == NULL || pepper == NULL ||
	    !hash_params_valid(params) || len > crypto_pwhash_PASSWD_MAX) {
		rc = PP_ERR_INVALID;
		goto out;
	}
	errno = 0;
	if (crypto_pwhash(inner, sizeof(inner), password ? password : empty,
			  len, salt, params->opslimit, params->memlimit,
			  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		rc = errno == ENOMEM ? PP_ERR_NOMEM : PP_ERR_CRYPTO;
		goto out;
	}
	if (context == NULL) {
		if (crypto_generichash(out, HASH_BYTES, inner, sizeof(inner),
				       pepper, HASH_PEPPER_BYTES) != 0)
			rc = PP_ERR_CRYPTO;
	} else if (crypto_generichash_init(&st, pepper, HASH_PEPPER_BYTES, HASH_BYTES) != 0 ||
		   crypto_generichash_update(&st, (const unsigned char *)context,
					     strlen(context)) != 0 ||
		   crypto_generichash_update(&st, inner, sizeof(inner)) != 0 ||
		   crypto_generichash_final(&st, out, HASH_BYTES) != 0) {
		rc = PP_ERR_CRYPTO;
	}
out:
	pp_wipe(inner, sizeof(inner));
	pp_wipe(&st, sizeof(st));
	if (rc != PP_OK)
		pp_wipe(out, HASH_BYTES);
	return rc;
}

pp_err hash_password(const char *password, size_t len,
		     const uint8_t salt[HASH_SALT_BYTES],
		     const struct hash_params *params,
		     const uint8_t pepper[HASH_PEPPER_BYTES],
		     uint8_t out[HASH_BYTES])
{
	return hash_keyed(NULL, password, len, salt, params, pepper, out);
}

pp_err hash_skeleton(const char *skeleton, size_t len,
		     const uint8_t salt[HASH_SALT_BYTES],
		     const struct hash_params *params,
		     const uint8_t pepper[HASH_PEPPER_BYTES],
		     uint8_t out[HASH_BYTES])
{
	return hash_keyed(HASH_SKELETON_CONTEXT, skeleton, len, salt, params, pepper, out);
}

bool hash_equal(const uint8_t a[HASH_BYTES], const uint8_t b[HASH_BYTES])
{
	return sodium_memcmp(a, b, HASH_BYTES) == 0;
}

pp_err hash_pepper_load(const char *path, uint8_t pepper[HASH_PEPPER_BYTES],
			char *err, size_t errlen)
{
	if (pepper == NULL)
		return PP_ERR_INVALID;
	if (path == NULL || *path == '\0') {
		pp_errorf(err, errlen, "no pepper file path given");
		pp_wipe(pepper, HASH_PEPPER_BYTES);
		return PP_ERR_INVALID;
	}
	return fsutil_read_secret(path, "pepper file", pepper, HASH_PEPPER_BYTES,
				  err, errlen);
}

void hash_pepper_generate(uint8_t pepper[HASH_PEPPER_BYTES])
{
	randombytes_buf(pepper, HASH_PEPPER_BYTES);
}

pp_err hash_pepper_save(const char *path, const uint8_t pepper[HASH_PEPPER_BYTES],
			bool replace, char *err, size_t errlen)
{
	pp_err rc;
	int saved;

	if (pepper == NULL || path == NULL || *path == '\0') {
		pp_errorf(err, errlen, "no pepper file path given");
		return PP_ERR_INVALID;
	}
	rc = replace ? fsutil_replace_file(path, pepper, HASH_PEPPER_BYTES,
					   FSUTIL_SECRET_MODE, true)
		     : fsutil_create_file(path, pepper, HASH_PEPPER_BYTES,
					  FSUTIL_SECRET_MODE);
	if (rc != PP_OK) {
		saved = errno;
		pp_errorf(err, errlen, "cannot %s pepper file %s: %s",
			replace ? "replace" : "create", path, strerror(saved));
		errno = saved;
	}
	return rc;
}

pp_err hash_pepper_check_value(const uint8_t pepper[HASH_PEPPER_BYTES],
			       uint8_t out[HASH_BYTES])
{
	static const char context[] = HASH_PEPPER_CHECK_CONTEXT;

	if (out == NULL)
		return PP_ERR_INVALID;
	if (pepper == NULL ||
	    crypto_generichash(out, HASH_BYTES, (const unsigned char *)context,
			       sizeof(context) - 1, pepper, HASH_PEPPER_BYTES) != 0) {
		pp_wipe(out, HASH_BYTES);
		return pepper == NULL ? PP_ERR_INVALID : PP_ERR_CRYPTO;
	}
	return PP_OK;
}

pp_err hash_pepper_load_or_create(const char *path,
				  uint8_t pepper[HASH_PEPPER_BYTES],
				  char *err, size_t errlen)
{
	pp_err rc;
	int saved;

	/* Two rounds cover another process creating the file between them. */
	for (int round = 0; round < 2; round++) {
		rc = hash_pepper_load(path, pepper, err, errlen);
		if (rc != PP_ERR_NOT_FOUND)
			return rc;
		hash_pepper_generate(pepper);
		rc = hash_pepper_save(path, pepper, false, err, errlen);
		if (rc == PP_OK)
			return PP_OK;
		saved = errno;
		pp_wipe(pepper, HASH_PEPPER_BYTES);
		if (rc != PP_ERR_IO || saved != EEXIST)
			return rc;
		/* EEXIST: another process won the race; load its file. */
	}
	pp_errorf(err, errlen, "pepper file %s appears and disappears; giving up",
		path);
	pp_wipe(pepper, HASH_PEPPER_BYTES);
	return PP_ERR_IO;
}
