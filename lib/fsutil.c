/*
 * fsutil.c - exact reads and writes, durable small files, and the one rule
 * set for private directories and secret files.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secret.h"

pp_err fsutil_read_exact(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return PP_ERR_IO;
		if (n == 0) {
			errno = ENODATA;
			return PP_ERR_IO;
		}
		done += (size_t)n;
	}
	return PP_OK;
}

pp_err fsutil_write_all(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return PP_ERR_IO;
		if (n == 0) {
			errno = EIO;
			return PP_ERR_IO;
		}
		done += (size_t)n;
	}
	return PP_OK;
}

pp_err fsutil_fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, saved;

	if (slash == NULL) {
		snprintf(dir, sizeof(dir), ".");
	} else if (slash == path) {
		snprintf(dir, sizeof(dir), "/");
	} else {
		if ((size_t)(slash - path) >= sizeof(dir)) {
			errno = ENAMETOOLONG;
			return PP_ERR_TOO_LONG;
		}
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return PP_ERR_IO;
	if (fsync(fd) != 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return PP_ERR_IO;
	}
	close(fd);
	return PP_OK;
}

/*
 * Write buf to a fresh temporary file beside path and fsync it. On PP_OK
 * tmp names the file (closed); on failure it has been removed and errno
 * holds the failing call's error.
 */
static pp_err write_aside(const char *path, const void *buf, size_t len,
			  mode_t mode, char *tmp, size_t tmplen)
{
	int fd, saved;

	if (snprintf(tmp, tmplen, "%s.tmp.XXXXXX", path) >= (int)tmplen) {
		errno = ENAMETOOLONG;
		return PP_ERR_TOO_LONG;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return PP_ERR_IO;
	/* Exactly mode, whatever the umask said. */
	if (fchmod(fd, mode) != 0 || fsutil_write_all(fd, buf, len) != PP_OK ||
	    fsync(fd) != 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return PP_ERR_IO;
	}
	if (close(fd) != 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return PP_ERR_IO;
	}
	return PP_OK;
}

pp_err fsutil_create_file(const char *path, const void *buf, size_t len,
			  mode_t mode)
{
	char tmp[PATH_MAX];
	pp_err rc = write_aside(path, buf, len, mode, tmp, sizeof(tmp));
	int saved;

	if (rc != PP_OK)
		return rc;
	/* link, unlike rename, never replaces: EEXIST tells of a race. */
	if (link(tmp, path) != 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return PP_ERR_IO;
	}
	unlink(tmp);
	return fsutil_fsync_parent(path);
}

pp_err fsutil_replace_file(const char *path, const void *buf, size_t len,
			   mode_t mode, bool sync_dir)
{
	char tmp[PATH_MAX];
	pp_err rc = write_aside(path, buf, len, mode, tmp, sizeof(tmp));
	int saved;

	if (rc != PP_OK)
		return rc;
	if (rename(tmp, path) != 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return PP_ERR_IO;
	}
	return sync_dir ? fsutil_fsync_parent(path) : PP_OK;
}

enum fsutil_problem fsutil_private_dir_stat(const struct stat *st, mode_t mode)
{
	if (!S_ISDIR(st->st_mode))
		return FSUTIL_WRONG_TYPE;
	if (st->st_uid != geteuid())
		return FSUTIL_WRONG_OWNER;
	if ((st->st_mode & 07777 & ~mode) != 0 || (st->st_mode & 022) != 0)
		return FSUTIL_WRONG_MODE;
	return FSUTIL_OK;
}

enum fsutil_problem fsutil_secret_file_stat(const struct stat *st, off_t size)
{
	if (!S_ISREG(st->st_mode))
		return FSUTIL_WRONG_TYPE;
	if (st->st_uid != geteuid())
		return FSUTIL_WRONG_OWNER;
	if ((st->st_mode & 07777 & ~(mode_t)FSUTIL_SECRET_MODE_MAX) != 0)
		return FSUTIL_WRONG_MODE;
	if (size != FSUTIL_ANY_SIZE && st->st_size != size)
		return FSUTIL_WRONG_SIZE;
	return FSUTIL_OK;
}

pp_err fsutil_private_dir(const char *path, bool create, mode_t mode,
			  char *err, size_t errlen)
{
	struct stat st;
	int saved;

	if (create) {
		if (mkdir(path, mode) == 0) {
			if (chmod(path, mode) != 0) {
				saved = errno;
				pp_errorf(err, errlen, "cannot chmod directory %s: %s",
					path, strerror(saved));
				errno = saved;
				return PP_ERR_IO;
			}
		} else if (errno != EEXIST) {
			saved = errno;
			pp_errorf(err, errlen, "cannot create directory %s: %s", path,
				strerror(saved));
			errno = saved;
			return PP_ERR_IO;
		}
	}
	if (lstat(path, &st) != 0) {
		saved = errno;
		pp_errorf(err, errlen, "directory %s: %s", path, strerror(saved));
		errno = saved;
		return saved == ENOENT ? PP_ERR_NOT_FOUND : PP_ERR_IO;
	}
	switch (fsutil_private_dir_stat(&st, mode)) {
	case FSUTIL_OK:
		return PP_OK;
	case FSUTIL_WRONG_TYPE:
		pp_errorf(err, errlen, "%s is %s, not a directory", path,
			S_ISLNK(st.st_mode) ? "a symbolic link" : "not a directory");
		break;
	case FSUTIL_WRONG_OWNER:
		pp_errorf(err, errlen, "directory %s is owned by uid %lu, not by uid %lu "
			"that runs this program: chown %lu %s", path,
			(unsigned long)st.st_uid, (unsigned long)geteuid(),
			(unsigned long)geteuid(), path);
		break;
	case FSUTIL_WRONG_MODE:
	case FSUTIL_WRONG_SIZE:
		pp_errorf(err, errlen, "directory %s has mode %04o; it must be %04o "
			"at most: chmod %04o %s", path, (unsigned)(st.st_mode & 07777),
			(unsigned)mode, (unsigned)mode, path);
		break;
	}
	return PP_ERR_INVALID;
}

pp_err fsutil_secret_file_check(int fd, const char *what, const char *path,
				off_t size, char *err, size_t errlen)
{
	struct stat st;
	int saved;

	if (fstat(fd, &st) != 0) {
		saved = errno;
		pp_errorf(err, errlen, "cannot stat %s %s: %s", what, path,
			strerror(saved));
		errno = saved;
		return PP_ERR_IO;
	}
	switch (fsutil_secret_file_stat(&st, size)) {
	case FSUTIL_OK:
		return PP_OK;
	case FSUTIL_WRONG_TYPE:
		pp_errorf(err, errlen, "%s %s is not a regular file", what, path);
		break;
	case FSUTIL_WRONG_OWNER:
		pp_errorf(err, errlen, "%s %s is owned by uid %lu, not by uid %lu that "
			"runs this program", what, path, (unsigned long)st.st_uid,
			(unsigned long)geteuid());
		break;
	case FSUTIL_WRONG_MODE:
		pp_errorf(err, errlen, "%s %s has mode %04o; it must be 0400 or 0600 "
			"(readable by its owner only): chmod 0400 %s", what, path,
			(unsigned)(st.st_mode & 07777), path);
		break;
	case FSUTIL_WRONG_SIZE:
		pp_errorf(err, errlen, "%s %s is %lld bytes long; it must be exactly "
			"%lld", what, path, (long long)st.st_size, (long long)size);
		break;
	}
	return PP_ERR_INVALID;
}

pp_err fsutil_read_secret(const char *path, const char *what, void *buf,
			  size_t len, char *err, size_t errlen)
{
	int fd, saved;
	pp_err rc;

	if (len > (size_t)LLONG_MAX) {
		errno = EINVAL;
		return PP_ERR_INVALID;
	}
	/* O_NONBLOCK: a FIFO planted at path must not hang the open. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		saved = errno;
		if (saved == ENOENT) {
			pp_errorf(err, errlen, "%s %s does not exist", what, path);
			rc = PP_ERR_NOT_FOUND;
		} else if (saved == ELOOP) {
			pp_errorf(err, errlen, "%s %s is a symbolic link; it must be a "
				"regular file", what, path);
			rc = PP_ERR_INVALID;
		} else {
			pp_errorf(err, errlen, "cannot open %s %s: %s", what, path,
				strerror(saved));
			rc = PP_ERR_IO;
		}
		pp_wipe(buf, len);
		errno = saved;
		return rc;
	}
	rc = fsutil_secret_file_check(fd, what, path, (off_t)len, err, errlen);
	if (rc == PP_OK) {
		rc = fsutil_read_exact(fd, buf, len);
		if (rc != PP_OK) {
			saved = errno;
			pp_errorf(err, errlen, "cannot read %s %s: %s", what, path,
				saved == ENODATA ? "file shrank while reading" :
				strerror(saved));
			errno = saved;
		}
	}
	saved = errno;
	close(fd);
	if (rc != PP_OK)
		pp_wipe(buf, len);
	errno = saved;
	return rc;
}
