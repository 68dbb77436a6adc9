/*
 * test_fsutil.c - exact reads and writes, durable small files, and the
 * private-directory and secret-file rules of lib/fsutil.c.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fsutil.h"
#include "harness.h"
#include "paths.h"

static char dir[4096];
static char err[512];

static void setup(void)
{
	harness_tmpdir(dir, sizeof(dir));
	err[0] = '\0';
}

static void teardown(void)
{
	harness_rmtree(dir);
}

/* Path of name in the test directory; four rotating buffers. */
static const char *in_dir(const char *name)
{
	static char path[4][4200];
	static unsigned next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	return p;
}

/* Count the entries of dir whose name starts with prefix. */
static int count_prefix(const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/* ---- exact reads and writes ---- */

START_TEST(test_read_write_exact_pipe)
{
	int fds[2];
	char big[200000], back[200000];
	pid_t pid;
	int status;

	/* More than a pipe holds: both sides see short counts. */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		_exit(fsutil_write_all(fds[1], big, sizeof(big)) == PP_OK ? 0 : 1);
	}
	close(fds[1]);
	ck_assert_int_eq(fsutil_read_exact(fds[0], back, sizeof(back)), PP_OK);
	ck_assert_int_eq(memcmp(big, back, sizeof(big)), 0);
	/* The writer is done: end of file comes before one more byte. */
	errno = 0;
	ck_assert_int_eq(fsutil_read_exact(fds[0], back, 1), PP_ERR_IO);
	ck_assert_int_eq(errno, ENODATA);
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

START_TEST(test_read_write_errors)
{
	char buf[4];

	ck_assert_int_eq(fsutil_read_exact(-1, buf, 0), PP_OK);
	ck_assert_int_eq(fsutil_write_all(-1, buf, 0), PP_OK);
	errno = 0;
	ck_assert_int_eq(fsutil_read_exact(-1, buf, sizeof(buf)), PP_ERR_IO);
	ck_assert_int_eq(errno, EBADF);
	errno = 0;
	ck_assert_int_eq(fsutil_write_all(-1, buf, sizeof(buf)), PP_ERR_IO);
	ck_assert_int_eq(errno, EBADF);
}
END_TEST

static void on_alarm(int sig)
{
	(void)sig;
}

/* A signal without SA_RESTART interrupts read: the helper retries. */
START_TEST(test_read_exact_retries_eintr)
{
	struct sigaction sa;
	int fds[2];
	char got[3];
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		usleep(300000);
		_exit(write(fds[1], "abc", 3) == 3 ? 0 : 1);
	}
	close(fds[1]);
	ualarm(100000, 0);
	ck_assert_int_eq(fsutil_read_exact(fds[0], got, sizeof(got)), PP_OK);
	ck_assert_int_eq(memcmp(got, "abc", 3), 0);
	close(fds[0]);
	waitpid(pid, NULL, 0);
	signal(SIGALRM, SIG_DFL);
}
END_TEST

/* ---- fsync of the parent ---- */

START_TEST(test_fsync_parent)
{
	char longpath[5000];

	harness_write(in_dir("f"), "x");
	ck_assert_int_eq(fsutil_fsync_parent(in_dir("f")), PP_OK);
	ck_assert_int_eq(fsutil_fsync_parent("bare-name"), PP_OK);   /* "." */
	ck_assert_int_eq(fsutil_fsync_parent("/etc"), PP_OK);        /* "/" */
	errno = 0;
	ck_assert_int_eq(fsutil_fsync_parent(in_dir("missing/f")), PP_ERR_IO);
	ck_assert_int_eq(errno, ENOENT);
	memset(longpath, 'a', sizeof(longpath));
	longpath[0] = '/';
	longpath[sizeof(longpath) - 3] = '/';
	longpath[sizeof(longpath) - 2] = 'f';
	longpath[sizeof(longpath) - 1] = '\0';
	ck_assert_int_eq(fsutil_fsync_parent(longpath), PP_ERR_TOO_LONG);
	ck_assert_int_eq(errno, ENAMETOOLONG);
}
END_TEST

/* ---- durable files ---- */

START_TEST(test_create_file)
{
	struct stat st;
	char *text;
	mode_t old = umask(0077);

	ck_assert_int_eq(fsutil_create_file(in_dir("secret"), "0123456789", 10, 0400),
			 PP_OK);
	umask(old);
	ck_assert_int_eq(lstat(in_dir("secret"), &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0400);   /* whatever the umask */
	ck_assert_int_eq(st.st_size, 10);
	text = harness_read(in_dir("secret"));
	ck_assert_str_eq(text, "0123456789");
	free(text);
	ck_assert_int_eq(count_prefix("secret.tmp"), 0);

	/* Never replaces: EEXIST, the first file stays, no temporary is left. */
	errno = 0;
	ck_assert_int_eq(fsutil_create_file(in_dir("secret"), "other", 5, 0400),
			 PP_ERR_IO);
	ck_assert_int_eq(errno, EEXIST);
	text = harness_read(in_dir("secret"));
	ck_assert_str_eq(text, "0123456789");
	free(text);
	ck_assert_int_eq(count_prefix("secret.tmp"), 0);

	errno = 0;
	ck_assert_int_eq(fsutil_create_file(in_dir("nope/secret"), "x", 1, 0400),
			 PP_ERR_IO);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(test_replace_file)
{
	struct stat st;
	char *text;

	for (int sync_dir = 0; sync_dir < 2; sync_dir++) {
		ck_assert_int_eq(fsutil_replace_file(in_dir("head"), "1 aa\n", 5, 0600,
						     sync_dir), PP_OK);
		ck_assert_int_eq(fsutil_replace_file(in_dir("head"), "22 bbb\n", 7, 0600,
						     sync_dir), PP_OK);
		text = harness_read(in_dir("head"));
		ck_assert_str_eq(text, "22 bbb\n");
		free(text);
		ck_assert_int_eq(lstat(in_dir("head"), &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, 0600);
		ck_assert_int_eq(count_prefix("head.tmp"), 0);
	}
	ck_assert_int_eq(fsutil_replace_file(in_dir("nope/head"), "x", 1, 0600, true),
			 PP_ERR_IO);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* ---- the private-directory rule ---- */

START_TEST(test_private_dir)
{
	const char *d = in_dir("state");
	struct stat st;
	mode_t old;

	ck_assert_int_eq(fsutil_private_dir(d, false, 0700, err, sizeof(err)),
			 PP_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(err, d));
	old = umask(0);
	ck_assert_int_eq(fsutil_private_dir(d, true, 0700, err, sizeof(err)), PP_OK);
	umask(old);
	ck_assert_int_eq(lstat(d, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	/* Existing and right: fine with or without create. */
	ck_assert_int_eq(fsutil_private_dir(d, true, 0700, err, sizeof(err)), PP_OK);
	ck_assert_int_eq(fsutil_private_dir(d, false, 0700, err, sizeof(err)), PP_OK);
	/* Narrower than asked is fine. */
	ck_assert_int_eq(chmod(d, 0500), 0);
	ck_assert_int_eq(fsutil_private_dir(d, false, 0700, err, sizeof(err)), PP_OK);
	/* Bits beyond the mode are refused, with the mode in the message. */
	ck_assert_int_eq(chmod(d, 0750), 0);
	ck_assert_int_eq(fsutil_private_dir(d, false, 0700, err, sizeof(err)),
			 PP_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "0750"));
	ck_assert_ptr_nonnull(strstr(err, d));
	/* 0750 asked: group may read, never write. */
	ck_assert_int_eq(fsutil_private_dir(d, false, 0750, err, sizeof(err)), PP_OK);
	ck_assert_int_eq(chmod(d, 0770), 0);
	ck_assert_int_eq(fsutil_private_dir(d, false, 0770, err, sizeof(err)),
			 PP_ERR_INVALID);
	ck_assert_int_eq(chmod(d, 0700), 0);
}
END_TEST

START_TEST(test_private_dir_type)
{
	ck_assert_int_eq(mkdir(in_dir("real"), 0700), 0);
	ck_assert_int_eq(symlink(in_dir("real"), in_dir("link")), 0);
	ck_assert_int_eq(fsutil_private_dir(in_dir("link"), false, 0700, err,
					    sizeof(err)), PP_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "symbolic link"));
	harness_write(in_dir("file"), "x");
	ck_assert_int_eq(fsutil_private_dir(in_dir("file"), true, 0700, err,
					    sizeof(err)), PP_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "not a directory"));
	/* A missing parent: mkdir fails, errno is kept. */
	errno = 0;
	ck_assert_int_eq(fsutil_private_dir(in_dir("a/b"), true, 0700, err,
					    sizeof(err)), PP_ERR_IO);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(test_private_dir_owner)
{
	const char *d = in_dir("other");

	if (!harness_is_root())
		HARNESS_SKIP("needs root");
	ck_assert_int_eq(mkdir(d, 0700), 0);
	ck_assert_int_eq(chown(d, 1001, 1001), 0);
	ck_assert_int_eq(fsutil_private_dir(d, false, 0700, err, sizeof(err)),
			 PP_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "owned by uid 1001"));
}
END_TEST

/* ---- the secret-file rule ---- */

static struct stat stat_of(mode_t type_mode, uid_t uid, off_t size)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = type_mode;
	st.st_uid = uid;
	st.st_size = size;
	return st;
}

START_TEST(test_secret_file_stat_rule)
{
	uid_t me = geteuid();
	struct stat st;

	st = stat_of(S_IFREG | 0400, me, 32);
	ck_assert_int_eq(fsutil_secret_file_stat(&st, 32), FSUTIL_OK);
	ck_assert_int_eq(fsutil_secret_file_stat(&st, FSUTIL_ANY_SIZE), FSUTIL_OK);
	ck_assert_int_eq(fsutil_secret_file_stat(&st, 31), FSUTIL_WRONG_SIZE);
	st = stat_of(S_IFREG | 0600, me, 32);
	ck_assert_int_eq(fsutil_secret_file_stat(&st, 32), FSUTIL_OK);
	for (unsigned m = 0; m < 4; m++) {
		static const mode_t bad[] = { 0640, 0604, 0700, 04600 };
		st = stat_of(S_IFREG | bad[m], me, 32);
		ck_assert_int_eq(fsutil_secret_file_stat(&st, 32), FSUTIL_WRONG_MODE);
	}
	st = stat_of(S_IFREG | 0400, me + 1, 32);
	ck_assert_int_eq(fsutil_secret_file_stat(&st, 32), FSUTIL_WRONG_OWNER);
	st = stat_of(S_IFDIR | 0400, me, 32);
	ck_assert_int_eq(fsutil_secret_file_stat(&st, 32), FSUTIL_WRONG_TYPE);
	st = stat_of(S_IFLNK | 0400, me, 32);
	ck_assert_int_eq(fsutil_secret_file_stat(&st, 32), FSUTIL_WRONG_TYPE);

	st = stat_of(S_IFDIR | 0700, me, 0);
	ck_assert_int_eq(fsutil_private_dir_stat(&st, 0700), FSUTIL_OK);
	st = stat_of(S_IFDIR | 0701, me, 0);
	ck_assert_int_eq(fsutil_private_dir_stat(&st, 0700), FSUTIL_WRONG_MODE);
	st = stat_of(S_IFDIR | 0700, me + 1, 0);
	ck_assert_int_eq(fsutil_private_dir_stat(&st, 0700), FSUTIL_WRONG_OWNER);
	st = stat_of(S_IFREG | 0700, me, 0);
	ck_assert_int_eq(fsutil_private_dir_stat(&st, 0700), FSUTIL_WRONG_TYPE);
}
END_TEST

START_TEST(test_read_secret)
{
	unsigned char key[8], zero[8] = {0};
	const char *path = in_dir(PATHS_AUDIT_KEY);

	ck_assert_int_eq(fsutil_read_secret(path, "audit key", key, sizeof(key), err,
					    sizeof(err)), PP_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_int_eq(fsutil_create_file(path, "ABCDEFGH", 8, 0400), PP_OK);
	ck_assert_int_eq(fsutil_read_secret(path, "audit key", key, sizeof(key), err,
					    sizeof(err)), PP_OK);
	ck_assert_int_eq(memcmp(key, "ABCDEFGH", 8), 0);

	/* Wrong size: refused, named, and the buffer is wiped. */
	ck_assert_int_eq(fsutil_read_secret(path, "audit key", key, 7, err,
					    sizeof(err)), PP_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "8 bytes"));
	ck_assert_ptr_nonnull(strstr(err, "audit key"));
	ck_assert_int_eq(memcmp(key, zero, 7), 0);

	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(fsutil_read_secret(path, "audit key", key, sizeof(key), err,
					    sizeof(err)), PP_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "0644"));
	ck_assert_int_eq(memcmp(key, zero, sizeof(key)), 0);
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_int_eq(fsutil_read_secret(path, "audit key", key, sizeof(key), err,
					    sizeof(err)), PP_OK);
}
END_TEST

START_TEST(test_read_secret_type)
{
	unsigned char key[4];

	harness_write(in_dir("target"), "abcd");
	ck_assert_int_eq(chmod(in_dir("target"), 0400), 0);
	ck_assert_int_eq(symlink(in_dir("target"), in_dir("link")), 0);
	ck_assert_int_eq(fsutil_read_secret(in_dir("link"), "pepper file", key,
					    sizeof(key), err, sizeof(err)),
			 PP_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "symbolic link"));
	/* A FIFO neither hangs the open nor passes the rule. */
	ck_assert_int_eq(mkfifo(in_dir("fifo"), 0600), 0);
	ck_assert_int_eq(fsutil_read_secret(in_dir("fifo"), "pepper file", key,
					    sizeof(key), err, sizeof(err)),
			 PP_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
}
END_TEST

START_TEST(test_read_secret_unreadable)
{
	unsigned char key[4];
	const char *path = in_dir("locked");

	if (harness_is_root())
		HARNESS_SKIP("root reads any file (needs a non-root user)");
	harness_write(path, "abcd");
	ck_assert_int_eq(chmod(path, 0000), 0);
	errno = 0;
	ck_assert_int_eq(fsutil_read_secret(path, "audit key", key, sizeof(key), err,
					    sizeof(err)), PP_ERR_IO);
	ck_assert_int_eq(errno, EACCES);
	ck_assert_int_eq(chmod(path, 0600), 0);
}
END_TEST

START_TEST(test_secret_file_check_owner)
{
	const char *path = in_dir("pepper");
	int fd;

	if (!harness_is_root())
		HARNESS_SKIP("needs root");
	harness_write(path, "abcd");
	ck_assert_int_eq(chmod(path, 0400), 0);
	ck_assert_int_eq(chown(path, 1001, 1001), 0);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fsutil_secret_file_check(fd, "pepper file", path, 4, err,
						  sizeof(err)), PP_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "owned by uid 1001"));
	close(fd);
}
END_TEST

START_TEST(test_paths_state_file)
{
	char buf[16];
	/* Opaque to the compiler, which would warn of the truncation tested. */
	const char *volatile longdir = "/var/lib/pam_policy";

	ck_assert_int_eq(paths_state_file(buf, sizeof(buf), "/var", PATHS_LOCK), PP_OK);
	ck_assert_str_eq(buf, "/var/lock");
	ck_assert_int_eq(paths_state_file(buf, sizeof(buf), longdir, PATHS_PEPPER),
			 PP_ERR_TOO_LONG);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("fsutil");
	TCase *io = tcase_create("io");
	TCase *rules = tcase_create("rules");

	tcase_add_checked_fixture(io, setup, teardown);
	tcase_add_test(io, test_read_write_exact_pipe);
	tcase_add_test(io, test_read_write_errors);
	tcase_add_test(io, test_read_exact_retries_eintr);
	tcase_add_test(io, test_fsync_parent);
	tcase_add_test(io, test_create_file);
	tcase_add_test(io, test_replace_file);
	suite_add_tcase(s, io);

	tcase_add_checked_fixture(rules, setup, teardown);
	tcase_add_test(rules, test_private_dir);
	tcase_add_test(rules, test_private_dir_type);
	tcase_add_test(rules, test_private_dir_owner);
	tcase_add_test(rules, test_secret_file_stat_rule);
	tcase_add_test(rules, test_read_secret);
	tcase_add_test(rules, test_read_secret_type);
	tcase_add_test(rules, test_read_secret_unreadable);
	tcase_add_test(rules, test_secret_file_check_owner);
	tcase_add_test(rules, test_paths_state_file);
	suite_add_tcase(s, rules);
	return s;
}
