/*
 * check_cmd.h - "pam_policyctl check [--user USER]": would the policy accept
 * this password?
 *
 * The password is read from standard input - never from the command line
 * or the environment, where other users (ps, /proc) could read it - with
 * the terminal's echo off when standard input is a terminal; one line, the
 * newline not included. It is judged by the same rules_check the module
 * runs, with the same options (the policy of -c FILE, else
 * /etc/security/pam_policy.conf), and with --user the user's name and
 * GECOS for the name rules. With --user and history > 0 the daemon is also
 * asked whether the password is in the user's history (one CHECK with the
 * NFC form, as the module sends it; read-only: nothing is recorded, the
 * minimum age is not asked). The daemon answers root (and its own uid)
 * only.
 *
 * Output on stdout: the verdict - "The password would be accepted." or
 * the module's own message, every reason in one list - then the length in
 * characters and the classes found, and what became of the history check.
 * The password itself is never printed.
 *
 * Exit status (the numbers of pam_policyctl(8)): 0 accepted, 1 not
 * accepted, 2 usage error (including no password on standard input),
 * 3/4/6 when the history check was asked for (--user) and could not run
 * (unreachable / denied / failed) while the local rules passed - with a
 * local failure the verdict is 1 either way -, 5 no such user, 6 a bad
 * configuration or a rule that could not run.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_CTL_CHECK_CMD_H
#define PAM_POLICY_CTL_CHECK_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "policy.h"

/* Bytes read from standard input at most; the rest of a longer line is
 * read and dropped (such a password is too long anyway). */
#define CHECK_INPUT_MAX 4096

/*
 * check_read_password - read one line from fd into buf (cap bytes,
 * cap >= 2; NUL-terminated, the newline dropped). When fd is a terminal,
 * prompt is written to stderr first and echo is off while reading (and
 * restored after, also when a signal ends the program). *len is the
 * number of bytes kept; *has_nul is set when the line held a NUL byte
 * (buf then ends at it for C string functions: use *len). Returns PP_OK;
 * PP_ERR_NOT_FOUND when fd was at end of file before any byte (no
 * password given); PP_ERR_IO on a read error; PP_ERR_INVALID for bad
 * arguments. The caller wipes buf (pp_wipe) whatever the result.
 */
pp_err check_read_password(int fd, const char *prompt, char *buf, size_t cap,
			   size_t *len, bool *has_nul) PP_WUR;

/*
 * check_main - the command: argv[0] is "check", then [--user USER].
 * p is the loaded policy; config_err is NULL when it loaded, else why it
 * did not (printed, exit 6, after the arguments were checked). Reads the
 * password from standard input, prints as described above and returns the
 * exit status.
 */
int check_main(const struct policy *p, const char *config_err, int argc,
	       char **argv);

#endif
