/*
 * paths.h - the names of pam_policy's files, written once.
 *
 * The default locations (each overridable by its option in
 * pam_policy.conf or on the command line) and the names of the files the
 * daemon keeps in its state directory. Programs join a state-file name to
 * the configured state_dir with paths_state_file().
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_PATHS_H
#define PAM_POLICY_PATHS_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"

/*
 * Default locations; the option table in policy.c uses these. The Makefile
 * passes the configured ones with -D (CONFIG_FILE, SOCKET, STATE_DIR,
 * AUDIT_LOG, LOCALEDIR from SYSCONFDIR, RUNSTATEDIR, LOCALSTATEDIR, ...);
 * the values here are what a build without them gets.
 */
#ifndef PATHS_CONFIG_FILE
#define PATHS_CONFIG_FILE   "/etc/security/pam_policy.conf"
#endif
#ifndef PATHS_SOCKET
#define PATHS_SOCKET        "/run/pam_policy/pam_policyd.sock"
#endif
#ifndef PATHS_STATE_DIR
#define PATHS_STATE_DIR     "/var/lib/pam_policy"
#endif
#ifndef PATHS_AUDIT_LOG
#define PATHS_AUDIT_LOG     "/var/log/pam_policy/audit.log"
#endif
/*
 * The breach filter (pam_policyctl blocklist build). No file here means
 * the breach check is off; "blocklist = FILE" names another one.
 */
#ifndef PATHS_BLOCKLIST
#define PATHS_BLOCKLIST     "/var/lib/pam_policy/breached.ppbl"
#endif
#ifndef PATHS_SHADOW_FILE
#define PATHS_SHADOW_FILE   "/etc/shadow"
#endif
/* The word list's prebuilt index (wordindex.h): a cache anyone may read. */
#ifndef PATHS_WORDLIST_INDEX
#define PATHS_WORDLIST_INDEX "/var/cache/pam_policy/wordlist.idx"
#endif
/* Message catalogs (bindtextdomain), for translations. */
#ifndef PATHS_LOCALEDIR
#define PATHS_LOCALEDIR     "/usr/share/locale"
#endif

/* Files in the state directory (names, not paths). */
#define PATHS_PEPPER        "pepper"       /* hash key, 0400, PATHS_PEPPER_BYTES */
#define PATHS_PEPPER_BYTES  32             /* its exact size (hash.h HASH_PEPPER_BYTES) */
#define PATHS_AUDIT_KEY     "audit.key"    /* audit MAC key, 0400, AUDIT_KEY_BYTES */
#define PATHS_AUDIT_HEAD    "audit.head"   /* last audit seq and mac, 0600 */
#define PATHS_LOCK          "lock"         /* one daemon per state directory */
#define PATHS_STORE_SQLITE  "store.db"     /* the SQLite store, 0600 */

/*
 * paths_state_file - write "dir/name" into out (len bytes). PP_OK, or
 * PP_ERR_TOO_LONG when it does not fit (out then holds a truncated,
 * NUL-terminated string that must not be used). Pure; thread-safe.
 */
static inline pp_err paths_state_file(char *out, size_t len, const char *dir,
				      const char *name)
{
	int n = snprintf(out, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? PP_ERR_TOO_LONG : PP_OK;
}

#endif
