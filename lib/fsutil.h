/*
 * fsutil.h - the file-system helpers every program shares: exact reads and
 * writes, durable file creation and replacement, and the one rule set for
 * private directories and secret files.
 *
 * The rules (used by the daemon when it starts and by "pam_policyctl
 * doctor" when it reports, so that the two never disagree):
 *
 *   private directory  a directory (a symbolic link is refused), owned by
 *                      the effective uid, no permission bits beyond the
 *                      mode asked for, and never writable by group or
 *                      others. The state directory uses FSUTIL_STATE_DIR_MODE.
 *   secret file        a regular file (a symbolic link is refused), owned by
 *                      the effective uid, no permission bits beyond
 *                      FSUTIL_SECRET_MODE_MAX (0600; 0400 is what the daemon
 *                      creates), and, when a size is given, exactly that
 *                      many bytes long.
 *
 * Errors: functions return a pp_err. PP_ERR_IO means a system call failed;
 * errno then still holds that call's error (saved before any cleanup), so
 * a caller may test it (EEXIST, EACCES, ENOENT) or print strerror(errno)
 * before calling anything else. Functions that take err/errlen write a
 * one-line English message naming the path into err (err may be NULL when
 * errlen is 0); they never write file contents there.
 *
 * Thread safety: every function is safe to call from several threads; none
 * keeps state. None changes the umask or the working directory.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_FSUTIL_H
#define PAM_POLICY_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "error.h"

#define FSUTIL_SECRET_MODE_MAX 0600  /* widest mode a secret file may have */
#define FSUTIL_SECRET_MODE     0400  /* the mode secrets are created with */
#define FSUTIL_STATE_DIR_MODE  0700  /* the daemon's state directory */
#define FSUTIL_ANY_SIZE        ((off_t)-1)

/*
 * fsutil_read_exact - read exactly len bytes from fd into buf, retrying on
 * EINTR and short reads. PP_OK when all len bytes arrived (len 0 reads
 * nothing). PP_ERR_IO when read fails (errno from read; a non-blocking fd
 * that would block fails with EAGAIN) or when end of file comes first
 * (errno = ENODATA). buf's contents are unspecified on failure; a caller
 * reading a secret wipes it.
 */
pp_err fsutil_read_exact(int fd, void *buf, size_t len) PP_WUR;

/*
 * fsutil_write_all - write all len bytes of buf to fd, retrying on EINTR
 * and short writes. PP_OK or PP_ERR_IO (errno from write; EIO if write
 * made no progress). Some bytes may have been written on failure.
 */
pp_err fsutil_write_all(int fd, const void *buf, size_t len) PP_WUR;

/*
 * fsutil_fsync_parent - fsync the directory that holds path ("." for a
 * bare name, "/" for a name in the root), so that a created, renamed or
 * removed entry is durable. PP_OK; PP_ERR_TOO_LONG (errno ENAMETOOLONG)
 * when the directory name does not fit PATH_MAX; PP_ERR_IO with errno from
 * open or fsync.
 */
pp_err fsutil_fsync_parent(const char *path) PP_WUR;

/*
 * fsutil_create_file - publish a new file at path holding len bytes of buf,
 * with exactly the given mode (whatever the umask), atomically: the bytes
 * are written to a temporary file beside path, fsynced, then linked into
 * place (never replacing an existing entry) and the parent directory is
 * fsynced. Readers never see a short file; a crash leaves at most a
 * "path.tmp.XXXXXX" file behind. PP_OK; PP_ERR_TOO_LONG for a path that
 * does not fit; PP_ERR_IO with errno from the failing call, EEXIST when
 * path already exists (another process won a race: load its file instead).
 * The temporary file is removed on every path.
 */
pp_err fsutil_create_file(const char *path, const void *buf, size_t len,
			  mode_t mode) PP_WUR;

/*
 * fsutil_replace_file - like fsutil_create_file, but replaces path if it
 * exists (rename), so that after a crash path holds either the old or the
 * new contents, never a mix. With sync_dir the parent directory is fsynced
 * too, making the new name durable; without it (a file rewritten often,
 * whose older version is still a valid state, like the audit head) a crash
 * may bring back the previous version. Errors as fsutil_create_file
 * (without EEXIST).
 */
pp_err fsutil_replace_file(const char *path, const void *buf, size_t len,
			   mode_t mode, bool sync_dir) PP_WUR;

/*
 * The outcome of a rule check on a struct stat (from lstat or fstat). Pure:
 * no system call; doctor formats its own advice from it.
 */
enum fsutil_problem {
	FSUTIL_OK = 0,
	FSUTIL_WRONG_TYPE,     /* not a directory / not a regular file */
	FSUTIL_WRONG_OWNER,    /* not owned by the effective uid */
	FSUTIL_WRONG_MODE,     /* permission bits beyond those allowed */
	FSUTIL_WRONG_SIZE,     /* not exactly the expected size */
};

/* fsutil_private_dir_stat - the private-directory rule for st and mode. */
enum fsutil_problem fsutil_private_dir_stat(const struct stat *st, mode_t mode);

/*
 * fsutil_secret_file_stat - the secret-file rule for st; size is the
 * exact size required, or FSUTIL_ANY_SIZE.
 */
enum fsutil_problem fsutil_secret_file_stat(const struct stat *st, off_t size);

/*
 * fsutil_private_dir - check (and with create, first make) the private
 * directory path. With create, a missing directory is made with exactly
 * mode (chmod after mkdir, so the umask does not matter); its parent must
 * exist. PP_OK when the directory satisfies the rule; PP_ERR_NOT_FOUND
 * when it is missing and create is false; PP_ERR_INVALID when it breaks
 * the rule (a symlink, not a directory, wrong owner, too wide a mode);
 * PP_ERR_IO (errno set) when mkdir, chmod or lstat fail. err says which
 * and how to fix it.
 */
pp_err fsutil_private_dir(const char *path, bool create, mode_t mode,
			  char *err, size_t errlen) PP_WUR;

/*
 * fsutil_secret_file_check - check the open file fd against the secret-file
 * rule. what names the file in messages ("pepper file"), path is shown
 * with it; size is the exact size required or FSUTIL_ANY_SIZE. PP_OK;
 * PP_ERR_INVALID when the rule is broken; PP_ERR_IO (errno set) when fstat
 * fails. Does not read or close fd.
 */
pp_err fsutil_secret_file_check(int fd, const char *what, const char *path,
				off_t size, char *err, size_t errlen) PP_WUR;

/*
 * fsutil_read_secret - open path (O_NOFOLLOW, never blocking on a FIFO),
 * check it with fsutil_secret_file_check for exactly len bytes, and read
 * them into buf. PP_OK; PP_ERR_NOT_FOUND when path does not exist;
 * PP_ERR_INVALID when it is a symbolic link or breaks the rule; PP_ERR_IO
 * (errno set, e.g. EACCES) when it cannot be opened or read. On failure
 * buf is wiped with pp_wipe. The caller owns buf (sodium_malloc'd for a
 * secret) and wipes it when done.
 */
pp_err fsutil_read_secret(const char *path, const char *what, void *buf,
			  size_t len, char *err, size_t errlen) PP_WUR;

#endif
