/*
 * test_hash.c - argon2id + keyed BLAKE2b hashing and the pepper file.
 *
 * Fast argon2id parameters (OPSLIMIT_MIN, MEMLIMIT_MIN) everywhere except
 * one test that runs the defaults.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sodium.h>

#include "harness.h"
#include "hash.h"

static char dir[4096];
static char pepper_path[4200];

static const struct hash_params fast = {
	crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN
};

static void setup(void)
{
	ck_assert_int_eq(hash_init(), PP_OK);
	harness_tmpdir(dir, sizeof(dir));
	snprintf(pepper_path, sizeof(pepper_path), "%s/pepper", dir);
}

static void teardown(void)
{
	harness_rmtree(dir);
}

static void fill(uint8_t *buf, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(v + i);
}

static void hash_ok(const char *pw, size_t len, const uint8_t *salt,
		    const struct hash_params *p, const uint8_t *pepper,
		    uint8_t out[HASH_BYTES])
{
	ck_assert_int_eq(hash_password(pw, len, salt, p, pepper, out), PP_OK);
}

START_TEST(test_same_inputs_same_hash)
{
	uint8_t salt[HASH_SALT_BYTES], pepper[HASH_PEPPER_BYTES];
	uint8_t a[HASH_BYTES], b[HASH_BYTES];

	fill(salt, sizeof(salt), 1);
	fill(pepper, sizeof(pepper), 100);
	hash_ok("Correct horse 1!", 16, salt, &fast, pepper, a);
	hash_ok("Correct horse 1!", 16, salt, &fast, pepper, b);
	ck_assert(hash_equal(a, b));
	ck_assert_mem_eq(a, b, HASH_BYTES);
}
END_TEST

START_TEST(test_different_inputs_differ)
{
	uint8_t salt[HASH_SALT_BYTES], salt2[HASH_SALT_BYTES];
	uint8_t pepper[HASH_PEPPER_BYTES], pepper2[HASH_PEPPER_BYTES];
	uint8_t base[HASH_BYTES], h[HASH_BYTES];
	struct hash_params slower = fast;

	fill(salt, sizeof(salt), 1);
	fill(pepper, sizeof(pepper), 100);
	memcpy(salt2, salt, sizeof(salt));
	salt2[HASH_SALT_BYTES - 1] ^= 1;
	memcpy(pepper2, pepper, sizeof(pepper));
	pepper2[0] ^= 0x80;
	hash_ok("Correct horse 1!", 16, salt, &fast, pepper, base);

	hash_ok("Correct horse 1!", 16, salt2, &fast, pepper, h);
	ck_assert(!hash_equal(base, h));
	hash_ok("Correct horse 1!", 16, salt, &fast, pepper2, h);
	ck_assert(!hash_equal(base, h));
	hash_ok("Correct horse 2!", 16, salt, &fast, pepper, h);
	ck_assert(!hash_equal(base, h));
	/* A prefix is a different password. */
	hash_ok("Correct horse 1!", 15, salt, &fast, pepper, h);
	ck_assert(!hash_equal(base, h));
	slower.opslimit++;
	hash_ok("Correct horse 1!", 16, salt, &slower, pepper, h);
	ck_assert(!hash_equal(base, h));
}
END_TEST

START_TEST(test_embedded_nul_and_empty)
{
	uint8_t salt[HASH_SALT_BYTES], pepper[HASH_PEPPER_BYTES];
	uint8_t a[HASH_BYTES], b[HASH_BYTES], c[HASH_BYTES];

	fill(salt, sizeof(salt), 7);
	fill(pepper, sizeof(pepper), 9);
	hash_ok("ab\0cd", 5, salt, &fast, pepper, a);
	hash_ok("ab\0ce", 5, salt, &fast, pepper, b);
	ck_assert(!hash_equal(a, b));
	hash_ok(NULL, 0, salt, &fast, pepper, c);
	hash_ok("", 0, salt, &fast, pepper, b);
	ck_assert(hash_equal(b, c));
}
END_TEST

/*
 * The construction, recomputed step by step, and one pinned vector: a
 * change to either would silently invalidate every stored history. The
 * vector was checked independently with the reference argon2 CLI and
 * Python's hashlib:
 *   printf pam_policy | argon2 "$(salt 0x10..0x1f)" -id -t 1 -k 8 -p 1 -l 32 -r
 *   hashlib.blake2b(inner, key=bytes(range(0x40, 0x60)), digest_size=32)
 */
START_TEST(test_construction_and_known_answer)
{
	static const char expect_hex[] =
		"7c19a65eb78b35a6b47a7efe5fd4ef99bbf40c71aa7cba218ea77c981c016277";
	uint8_t salt[HASH_SALT_BYTES], pepper[HASH_PEPPER_BYTES];
	uint8_t inner[HASH_BYTES], manual[HASH_BYTES], h[HASH_BYTES];
	char hex[2 * HASH_BYTES + 1];

	fill(salt, sizeof(salt), 0x10);
	fill(pepper, sizeof(pepper), 0x40);
	hash_ok("pam_policy", 10, salt, &fast, pepper, h);
	ck_assert_int_eq(crypto_pwhash(inner, sizeof(inner), "pam_policy", 10,
				       salt, fast.opslimit, fast.memlimit,
				       crypto_pwhash_ALG_ARGON2ID13), 0);
	ck_assert_int_eq(crypto_generichash(manual, sizeof(manual), inner,
					    sizeof(inner), pepper,
					    sizeof(pepper)), 0);
	ck_assert_mem_eq(h, manual, HASH_BYTES);
	/* The pepper matters: the bare argon2id output is not the hash. */
	ck_assert(!hash_equal(h, inner));
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	ck_assert_str_eq(hex, expect_hex);
}
END_TEST

START_TEST(test_default_params)
{
	struct hash_params def;
	uint8_t salt[HASH_SALT_BYTES], pepper[HASH_PEPPER_BYTES];
	uint8_t a[HASH_BYTES], b[HASH_BYTES];

	hash_params_default(&def);
	ck_assert_uint_eq(def.opslimit, crypto_pwhash_OPSLIMIT_INTERACTIVE);
	ck_assert_uint_eq(def.memlimit, crypto_pwhash_MEMLIMIT_INTERACTIVE);
	ck_assert(hash_params_valid(&def));
	hash_salt_new(salt);
	randombytes_buf(pepper, sizeof(pepper));
	hash_ok("Tr0ub4dor&3xyz", 14, salt, &def, pepper, a);
	hash_ok("Tr0ub4dor&3xyz", 14, salt, &fast, pepper, b);
	ck_assert(!hash_equal(a, b));
	hash_ok("Tr0ub4dor&3xyz", 14, salt, &def, pepper, b);
	ck_assert(hash_equal(a, b));
}
END_TEST

START_TEST(test_bad_params_rejected)
{
	uint8_t salt[HASH_SALT_BYTES] = {0}, pepper[HASH_PEPPER_BYTES] = {0};
	uint8_t out[HASH_BYTES];
	struct hash_params p = fast;

	p.opslimit = 0;
	memset(out, 0xAA, sizeof(out));
	ck_assert_int_eq(hash_password("x", 1, salt, &p, pepper, out),
			 PP_ERR_INVALID);
	for (size_t i = 0; i < sizeof(out); i++)
		ck_assert_uint_eq(out[i], 0);
	p = fast;
	p.memlimit = 1024;
	ck_assert_int_eq(hash_password("x", 1, salt, &p, pepper, out),
			 PP_ERR_INVALID);
	ck_assert_int_eq(hash_password("x", 1, salt, NULL, pepper, out),
			 PP_ERR_INVALID);
	ck_assert_int_eq(hash_password(NULL, 3, salt, &fast, pepper, out),
			 PP_ERR_INVALID);
	ck_assert_int_eq(hash_password("x", 1, NULL, &fast, pepper, out),
			 PP_ERR_INVALID);
	ck_assert_int_eq(hash_password("x", 1, salt, &fast, NULL, out),
			 PP_ERR_INVALID);
}
END_TEST

START_TEST(test_salt_random)
{
	uint8_t a[HASH_SALT_BYTES], b[HASH_SALT_BYTES];

	hash_salt_new(a);
	hash_salt_new(b);
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
}
END_TEST

START_TEST(test_hash_equal)
{
	uint8_t a[HASH_BYTES], b[HASH_BYTES];

	fill(a, sizeof(a), 3);
	memcpy(b, a, sizeof(a));
	ck_assert(hash_equal(a, b));
	b[HASH_BYTES - 1] ^= 1;
	ck_assert(!hash_equal(a, b));
	b[HASH_BYTES - 1] ^= 1;
	b[0] ^= 1;
	ck_assert(!hash_equal(a, b));
}
END_TEST

START_TEST(test_pepper_created_and_reloaded)
{
	uint8_t p1[HASH_PEPPER_BYTES], p2[HASH_PEPPER_BYTES];
	uint8_t zero[HASH_PEPPER_BYTES] = {0};
	char err[512] = "";
	struct stat st;

	ck_assert_int_eq(hash_pepper_load_or_create(pepper_path, p1, err,
						    sizeof(err)), PP_OK);
	ck_assert_int_eq(lstat(pepper_path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0400);
	ck_assert_int_eq(st.st_size, HASH_PEPPER_BYTES);
	ck_assert(memcmp(p1, zero, sizeof(zero)) != 0);

	ck_assert_int_eq(hash_pepper_load_or_create(pepper_path, p2, err,
						    sizeof(err)), PP_OK);
	ck_assert_mem_eq(p1, p2, HASH_PEPPER_BYTES);
	ck_assert_int_eq(lstat(pepper_path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0400);

	/* 0600 is accepted too (an admin restoring it from a backup). */
	ck_assert_int_eq(chmod(pepper_path, 0600), 0);
	ck_assert_int_eq(hash_pepper_load_or_create(pepper_path, p2, err,
						    sizeof(err)), PP_OK);
	ck_assert_mem_eq(p1, p2, HASH_PEPPER_BYTES);
}
END_TEST

START_TEST(test_pepper_two_files_differ)
{
	uint8_t p1[HASH_PEPPER_BYTES], p2[HASH_PEPPER_BYTES];
	char other[4300];

	snprintf(other, sizeof(other), "%s/pepper2", dir);
	ck_assert_int_eq(hash_pepper_load_or_create(pepper_path, p1, NULL, 0),
			 PP_OK);
	ck_assert_int_eq(hash_pepper_load_or_create(other, p2, NULL, 0), PP_OK);
	ck_assert(memcmp(p1, p2, sizeof(p1)) != 0);
}
END_TEST

static void write_pepper(const char *path, size_t len, mode_t mode)
{
	uint8_t buf[64];
	int fd;

	fill(buf, sizeof(buf), 5);
	/*
	 * A fresh file each time: an earlier write may have left it 0400,
	 * which only root could open for writing again.
	 */
	ck_assert_msg(unlink(path) == 0 || errno == ENOENT, "unlink %s: %s", path,
		      strerror(errno));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void assert_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(p[i], 0);
}

START_TEST(test_pepper_mode_0644_refused)
{
	uint8_t p[HASH_PEPPER_BYTES];
	char err[512] = "";

	write_pepper(pepper_path, HASH_PEPPER_BYTES, 0644);
	ck_assert_int_eq(hash_pepper_load_or_create(pepper_path, p, err,
						    sizeof(err)), PP_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, pepper_path));
	ck_assert_ptr_nonnull(strstr(err, "0644"));
	assert_zero(p, sizeof(p));

	/* Group-readable only is refused as well. */
	ck_assert_int_eq(chmod(pepper_path, 0440), 0);
	ck_assert_int_eq(hash_pepper_load_or_create(pepper_path, p, err,
						    sizeof(err)), PP_ERR_INVALID);
	/* The file is left alone for the admin to inspect. */
	ck_assert_int_eq(access(pepper_path, F_OK), 0);
}
END_TEST

START_TEST(test_pepper_wrong_size_refused)
{
	uint8_t p[HASH_PEPPER_BYTES];
	char err[512] = "";

	write_pepper(pepper_path, HASH_PEPPER_BYTES - 1, 0400);
	ck_assert_int_eq(hash_pepper_load_or_create(pepper_path, p, err,
						    sizeof(err)), PP_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "31 bytes"));
	write_pepper(pepper_path, HASH_PEPPER_BYTES + 1, 0400);
	ck_assert_int_eq(hash_pepper_load_or_create(pepper_path, p, err,
						    sizeof(err)), PP_ERR_INVALID);
	write_pepper(pepper_path, 0, 0400);
	ck_assert_int_eq(hash_pepper_load_or_create(pepper_path, p, err,
						    sizeof(err)), PP_ERR_INVALID);
	assert_zero(p, sizeof(p));
}
END_TEST

START_TEST(test_pepper_symlink_and_dir_refused)
{
	uint8_t p[HASH_PEPPER_BYTES];
	char target[4300], err[512] = "";

	snprintf(target, sizeof(target), "%s/real", dir);
	write_pepper(target, HASH_PEPPER_BYTES, 0400);
	ck_assert_int_eq(symlink(target, pepper_path), 0);
	ck_assert_int_eq(hash_pepper_load_or_create(pepper_path, p, err,
						    sizeof(err)), PP_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "symbolic link"));
	ck_assert_int_eq(unlink(pepper_path), 0);

	ck_assert_int_eq(mkdir(pepper_path, 0700), 0);
	ck_assert_int_eq(hash_pepper_load_or_create(pepper_path, p, err,
						    sizeof(err)), PP_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
}
END_TEST

START_TEST(test_pepper_wrong_owner_refused)
{
	uint8_t p[HASH_PEPPER_BYTES];
	char err[512] = "";

	if (!harness_is_root())
		HARNESS_SKIP("needs root (to chown the pepper file)");
	write_pepper(pepper_path, HASH_PEPPER_BYTES, 0400);
	ck_assert_int_eq(chown(pepper_path, 1001, 1001), 0);
	ck_assert_int_eq(hash_pepper_load_or_create(pepper_path, p, err,
						    sizeof(err)), PP_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "owned by uid 1001"));
}
END_TEST

START_TEST(test_pepper_missing_dir)
{
	uint8_t p[HASH_PEPPER_BYTES];
	char path[4300], err[512] = "";

	snprintf(path, sizeof(path), "%s/nope/pepper", dir);
	ck_assert_int_eq(hash_pepper_load_or_create(path, p, err, sizeof(err)),
			 PP_ERR_IO);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_int_eq(hash_pepper_load_or_create("", p, err, sizeof(err)),
			 PP_ERR_INVALID);
}
END_TEST

static Suite *hash_suite(void)
{
	Suite *s = suite_create("hash");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_same_inputs_same_hash);
	tcase_add_test(tc, test_different_inputs_differ);
	tcase_add_test(tc, test_embedded_nul_and_empty);
	tcase_add_test(tc, test_construction_and_known_answer);
	tcase_add_test(tc, test_default_params);
	tcase_add_test(tc, test_bad_params_rejected);
	tcase_add_test(tc, test_salt_random);
	tcase_add_test(tc, test_hash_equal);
	tcase_add_test(tc, test_pepper_created_and_reloaded);
	tcase_add_test(tc, test_pepper_two_files_differ);
	tcase_add_test(tc, test_pepper_mode_0644_refused);
	tcase_add_test(tc, test_pepper_wrong_size_refused);
	tcase_add_test(tc, test_pepper_symlink_and_dir_refused);
	tcase_add_test(tc, test_pepper_wrong_owner_refused);
	tcase_add_test(tc, test_pepper_missing_dir);
	suite_add_tcase(s, tc);
	return s;
}

Suite *test_suite(void)
{
	return hash_suite();
}
