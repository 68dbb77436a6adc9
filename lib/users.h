/*
 * users.h - who the policy covers.
 *
 * Looks users up through NSS (so LDAP/SSSD users are seen too) and decides
 * whether the policy applies to them: exempt users and groups, system
 * accounts below min_uid (root, uid 0, is always covered), and, with
 * local_users_only, users missing from /etc/passwd. Also reads what the
 * daemon needs from the shadow file (never the password field itself).
 * Thread-safe (uses the _r NSS interfaces).
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_USERS_H
#define PAM_POLICY_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "aging.h"
#include "bounds.h"
#include "error.h"
#include "policy.h"

#define USERS_PASSWD_FILE "/etc/passwd"
#define USERS_MAX_GECOS 256

struct users_info {
	char name[PP_NAME_MAX + 1];
	uid_t uid;
	gid_t gid;
	char gecos[USERS_MAX_GECOS];
};

enum users_coverage {
	USERS_COVERED = 0,
	USERS_EXEMPT_USER,     /* listed in exempt_users */
	USERS_EXEMPT_GROUP,    /* member of a group in exempt_groups */
	USERS_SYSTEM_ACCOUNT,  /* uid below min_uid (and not root) */
	USERS_NOT_LOCAL,       /* local_users_only and not in /etc/passwd */
	USERS_UNKNOWN,         /* no such user */
};

/*
 * users_lookup - fill *out for the user called name. PP_ERR_NOT_FOUND when
 * NSS does not know the user, PP_ERR_INVALID for an over-long or empty name,
 * PP_ERR_IO when the lookup itself failed.
 */
pp_err users_lookup(const char *name, struct users_info *out) PP_WUR;

/*
 * users_is_local - true when name has an entry in passwd_file (normally
 * USERS_PASSWD_FILE), read directly as pam_localuser does.
 */
bool users_is_local(const char *name, const char *passwd_file);

/*
 * users_in_group_list - true when the user (with primary gid) belongs to a
 * group named in the comma-separated list, by the rule below (primary group
 * or listed member).
 */
bool users_in_group_list(const struct users_info *u, const char *list);

/*
 * The one coverage rule, used by the module for one user and by the
 * daemon's report for every user:
 *   1. listed in exempt_users                      -> USERS_EXEMPT_USER
 *   2. primary group, or a listed member, of a group
 *      named in exempt_groups (the membership rule
 *      pam_succeed_if's "ingroup" uses)            -> USERS_EXEMPT_GROUP
 *   3. uid below min_uid, except root (uid 0)      -> USERS_SYSTEM_ACCOUNT
 *   4. local_users_only and not in passwd_file     -> USERS_NOT_LOCAL
 *   otherwise                                      -> USERS_COVERED
 *
 * A users_scope holds what the rule needs from NSS and the passwd file,
 * resolved once: each exempt group looked up by name (getgrnam_r) and the
 * passwd file read once when local_users_only is set. Checking a user
 * against a scope makes no NSS call, so a report over 100,000 users costs
 * no per-user lookup. A scope is immutable after users_scope_load and may
 * be shared between threads.
 */
struct users_scope;

/*
 * users_scope_load - resolve p's exemptions (p is copied) with passwd_file
 * (normally USERS_PASSWD_FILE) for local_users_only. An exempt group NSS
 * does not know exempts nobody; a missing passwd file makes nobody local.
 * Errors: PP_ERR_NOMEM; PP_ERR_IO when NSS or the file failed (not merely
 * "no such group"). *out is NULL on error.
 */
pp_err users_scope_load(const struct policy *p, const char *passwd_file,
			struct users_scope **out) PP_WUR;

/* users_scope_free - release s; NULL is a no-op. */
void users_scope_free(struct users_scope *s);

/* users_scope_coverage - the rule above for the user (name, uid, gid). */
enum users_coverage users_scope_coverage(const struct users_scope *s,
					 const char *name, uid_t uid, gid_t gid);

/*
 * users_coverage - the rule above for one user u (u NULL: an unknown user,
 * which yields USERS_UNKNOWN): loads a scope, checks, frees it. When the
 * scope cannot be loaded the user is treated as covered (fail closed).
 */
enum users_coverage users_coverage(const struct policy *p,
				   const struct users_info *u,
				   const char *passwd_file);

/*
 * What the daemon needs from one shadow entry. The password field itself
 * (a hash) is never kept: only whether it can match a password at all.
 */
struct users_shadow {
	long last_change;   /* days since the epoch; 0 = must change now (chage
			       -d 0, passwd -e); -1 = field empty (no aging) */
	long max_days;      /* shadow's own maximum age in days; -1 = empty */
	bool usable;        /* false when the password field is locked or
			       unusable: empty, or starting with '!' or '*'
			       ("!", "!!", "*", "!<hash>" after usermod -L) */
};

/*
 * users_shadow_read - name's entry in the shadow file at path, read as
 * getspnam does (the first entry that parses; lines that do not are
 * skipped). Every buffer that held a line is wiped; nothing of the
 * password field but "usable" leaves this function. Thread-safe.
 * Errors: PP_ERR_NOT_FOUND when name has no entry; PP_ERR_IO when the file
 * cannot be read (errno says why: ENOENT when it does not exist);
 * PP_ERR_NOMEM. *out is unchanged on error.
 */
pp_err users_shadow_read(const char *path, const char *name,
			 struct users_shadow *out) PP_WUR;

/*
 * users_shadow_last_change - the last-change field of name's entry
 * (users_shadow_read), in days since the epoch (0 means "must change
 * now"). PP_ERR_NOT_FOUND also when the field is empty.
 */
pp_err users_shadow_last_change(const char *path, const char *name,
				 long *days) PP_WUR;

/*
 * users_shadow_facts - add what shadow demands to f (aging.h): a password
 * that cannot be used is not aged (f->locked); a last change of 0 means
 * must change (f->shadow_must_change); with a last change and a maximum,
 * f->shadow_expires is the first second of the day after last change +
 * maximum, when pam_unix starts to force a change ("lstchg + max <
 * today"). Day counts beyond USERS_SHADOW_DAYS_LIMIT are ignored (no
 * overflow, no expiry in the year 30000).
 */
#define USERS_SHADOW_DAYS_LIMIT 10000000L
void users_shadow_facts(const struct users_shadow *sh, struct aging_facts *f);

/*
 * A whole shadow file, read once (for the daemon's report over many
 * users): each entry's struct users_shadow by name, no password field.
 * Immutable after load; may be shared between threads.
 */
struct users_shadow_table;

/*
 * users_shadow_table_load - read path once. Errors as users_shadow_read
 * (PP_ERR_IO with errno; PP_ERR_NOMEM); *out is NULL on error.
 */
pp_err users_shadow_table_load(const char *path,
			       struct users_shadow_table **out) PP_WUR;

/*
 * users_shadow_table_find - name's entry (the first one in the file) into
 * *out; false when t is NULL or has none.
 */
bool users_shadow_table_find(const struct users_shadow_table *t, const char *name,
			     struct users_shadow *out);

/* users_shadow_table_size - number of distinct names in t (NULL: 0). */
size_t users_shadow_table_size(const struct users_shadow_table *t);

/* users_shadow_table_free - release t; NULL is a no-op. */
void users_shadow_table_free(struct users_shadow_table *t);

/* users_coverage_text - e.g. "exempt user", for logs and reports. */
const char *users_coverage_text(enum users_coverage c);

/*
 * users_coverage_label - the same words for people, in the calling
 * thread's language (pam_policyctl status, check); never for logs or JSON.
 */
const char *users_coverage_label(enum users_coverage c);

#endif
