/*
 * hash.c - argon2id + keyed BLAKE2b password hashing, pepper file.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sodium.h>

_Static_assert(HASH_SALT_BYTES == crypto_pwhash_SALTBYTES, "salt size");
_Static_assert(HASH_PEPPER_BYTES >= crypto_generichash_KEYBYTES_MIN &&
	       HASH_PEPPER_BYTES <= crypto_generichash_KEYBYTES_MAX, "pepper size");
_Static_assert(HASH_BYTES >= crypto_generichash_BYTES_MIN &&
	       HASH_BYTES <= crypto_generichash_BYTES_MAX, "hash size");

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

pp_err hash_init(void)
{
	return sodium_init() < 0 ? PP_ERR_CRYPTO : PP_OK;
}

void hash_params_default(struct hash_params *p)
{
	p->opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	p->memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
}

bool hash_params_valid(const struct hash_params *p)
{
	return p != NULL &&
	       p->opslimit >= crypto_pwhash_OPSLIMIT_MIN &&
	       p->opslimit <= crypto_pwhash_OPSLIMIT_MAX &&
	       p->memlimit >= crypto_pwhash_MEMLIMIT_MIN &&
	       p->memlimit <= crypto_pwhash_MEMLIMIT_MAX;
}

void hash_salt_new(uint8_t salt[HASH_SALT_BYTES])
{
	randombytes_buf(salt, HASH_SALT_BYTES);
}

pp_err hash_password(const char *password, size_t len,
		     const uint8_t salt[HASH_SALT_BYTES],
		     const struct hash_params *params,
		     const uint8_t pepper[HASH_PEPPER_BYTES],
		     uint8_t out[HASH_BYTES])
{
	uint8_t inner[HASH_BYTES];
	static const char empty[1] = "";
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
	if (crypto_generichash(out, HASH_BYTES, inner, sizeof(inner),
			       pepper, HASH_PEPPER_BYTES) != 0)
		rc = PP_ERR_CRYPTO;
out:
	sodium_memzero(inner, sizeof(inner));
	if (rc != PP_OK)
		sodium_memzero(out, HASH_BYTES);
	return rc;
}

bool hash_equal(const uint8_t a[HASH_BYTES], const uint8_t b[HASH_BYTES])
{
	return sodium_memcmp(a, b, HASH_BYTES) == 0;
}

/* Make the new directory entry durable: fsync the directory holding path. */
static int fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL) {
		snprintf(dir, sizeof(dir), ".");
	} else if (slash == path) {
		snprintf(dir, sizeof(dir), "/");
	} else {
		if ((size_t)(slash - path) >= sizeof(dir)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static pp_err pepper_create(const char *path, uint8_t pepper[HASH_PEPPER_BYTES],
			    char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		      0400);
	size_t done = 0;

	if (fd < 0) {
		if (errno == EEXIST)
			return PP_ERR_NOT_FOUND;   /* raced: load the winner's */
		set_err(err, errlen, "cannot create pepper file %s: %s", path,
			strerror(errno));
		return PP_ERR_IO;
	}
	/* 0400 whatever the umask said. */
	if (fchmod(fd, 0400) != 0)
		goto fail;
	randombytes_buf(pepper, HASH_PEPPER_BYTES);
	while (done < HASH_PEPPER_BYTES) {
		ssize_t n = write(fd, pepper + done, HASH_PEPPER_BYTES - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (fsync_parent(path) != 0)
		goto fail;
	return PP_OK;
fail:
	set_err(err, errlen, "cannot write pepper file %s: %s", path,
		strerror(errno));
	if (fd >= 0)
		close(fd);
	/* A short file would refuse every later start: remove it. */
	unlink(path);
	sodium_memzero(pepper, HASH_PEPPER_BYTES);
	return PP_ERR_IO;
}

static pp_err pepper_load(const char *path, uint8_t pepper[HASH_PEPPER_BYTES],
			  char *err, size_t errlen)
{
	struct stat st;
	size_t done = 0;
	pp_err rc = PP_ERR_INVALID;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		if (errno == ENOENT)
			return PP_ERR_NOT_FOUND;
		if (errno == ELOOP)
			set_err(err, errlen, "pepper file %s is a symbolic link; "
				"it must be a regular file", path);
		else
			set_err(err, errlen, "cannot open pepper file %s: %s",
				path, strerror(errno));
		return errno == ELOOP ? PP_ERR_INVALID : PP_ERR_IO;
	}
	if (fstat(fd, &st) != 0) {
		set_err(err, errlen, "cannot stat pepper file %s: %s", path,
			strerror(errno));
		rc = PP_ERR_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, "pepper file %s is not a regular file", path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		set_err(err, errlen, "pepper file %s is owned by uid %lu, not by "
			"uid %lu that runs the daemon", path,
			(unsigned long)st.st_uid, (unsigned long)geteuid());
		goto out;
	}
	if ((st.st_mode & 07777 & ~(mode_t)0600) != 0) {
		set_err(err, errlen, "pepper file %s has mode %04o; it must be 0400 "
			"or 0600 (readable by its owner only)", path,
			(unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_size != HASH_PEPPER_BYTES) {
		set_err(err, errlen, "pepper file %s is %lld bytes long; it must "
			"be exactly %d", path, (long long)st.st_size,
			HASH_PEPPER_BYTES);
		goto out;
	}
	while (done < HASH_PEPPER_BYTES) {
		ssize_t n = read(fd, pepper + done, HASH_PEPPER_BYTES - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			set_err(err, errlen, "cannot read pepper file %s: %s", path,
				n == 0 ? "file shrank while reading" : strerror(errno));
			rc = PP_ERR_IO;
			goto out;
		}
		done += (size_t)n;
	}
	rc = PP_OK;
out:
	close(fd);
	if (rc != PP_OK)
		sodium_memzero(pepper, HASH_PEPPER_BYTES);
	return rc;
}

pp_err hash_pepper_load_or_create(const char *path,
				  uint8_t pepper[HASH_PEPPER_BYTES],
				  char *err, size_t errlen)
{
	pp_err rc;

	if (pepper == NULL)
		return PP_ERR_INVALID;
	if (path == NULL || *path == '\0') {
		set_err(err, errlen, "no pepper file path given");
		sodium_memzero(pepper, HASH_PEPPER_BYTES);
		return PP_ERR_INVALID;
	}
	/* Two rounds cover another process creating the file between them. */
	for (int round = 0; round < 2; round++) {
		rc = pepper_load(path, pepper, err, errlen);
		if (rc != PP_ERR_NOT_FOUND)
			return rc;
		rc = pepper_create(path, pepper, err, errlen);
		if (rc != PP_ERR_NOT_FOUND)
			return rc;
	}
	set_err(err, errlen, "pepper file %s appears and disappears; giving up",
		path);
	sodium_memzero(pepper, HASH_PEPPER_BYTES);
	return PP_ERR_IO;
}
