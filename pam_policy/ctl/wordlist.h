/*
 * wordlist.h - "pam_policyctl wordlist build|status": the word list's
 * prebuilt index (wordindex.h).
 *
 *   wordlist build [-o FILE] [INPUT...]
 *       Reads the plain lists INPUT (default: the policy's wordlist) as
 *       the strength rules read them and writes their index to FILE
 *       (default: the policy's wordlist_index), mode 0644, atomically
 *       (readers see the old index or the new one). The directory of FILE
 *       is created (0755) when missing. Relative INPUTs are taken from the
 *       current directory; the index records absolute paths.
 *   wordlist status
 *       Says whether password checks use the index, and if not why
 *       (missing, stale, built from other lists, corrupt).
 *
 * Exit status: 0 done (status: the index is used, or wordlist is itself
 * a valid index), 1 status found the index unused, 2 usage error, 6 the
 * configuration, a list or the output could not be read or written.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_CTL_WORDLIST_H
#define PAM_POLICY_CTL_WORDLIST_H

#include "policy.h"

/*
 * wordlist_main - the command: argv[0] is "wordlist". p is the loaded
 * policy; config_err is NULL when it loaded, else why not (exit 6).
 * Returns the exit status.
 */
int wordlist_main(const struct policy *p, const char *config_err, int argc,
		  char **argv);

#endif
