/*
 * users.c - user lookup and policy coverage.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "users.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <shadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

pp_err users_lookup(const char *name, struct users_info *out)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int rc;

	memset(out, 0, sizeof(*out));
	if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof(out->name))
		return PP_ERR_INVALID;
	rc = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
	if (rc != 0 && rc != ENOENT && rc != ESRCH)
		return PP_ERR_IO;
	if (res == NULL)
		return PP_ERR_NOT_FOUND;
	snprintf(out->name, sizeof(out->name), "%s", pw.pw_name);
	out->uid = pw.pw_uid;
	out->gid = pw.pw_gid;
	snprintf(out->gecos, sizeof(out->gecos), "%s", pw.pw_gecos ? pw.pw_gecos : "");
	return PP_OK;
}

bool users_is_local(const char *name, const char *passwd_file)
{
	char *line = NULL;
	size_t cap = 0, n = strlen(name);
	ssize_t got;
	bool found = false;
	FILE *f = fopen(passwd_file, "re");

	if (f == NULL)
		return false;
	/* getline: a long GECOS must not split a line into a fake entry. */
	while ((got = getline(&line, &cap, f)) >= 0) {
		if ((size_t)got > n && strncmp(line, name, n) == 0 && line[n] == ':') {
			found = true;
			break;
		}
	}
	free(line);
	fclose(f);
	return found;
}

bool users_in_group_list(const struct users_info *u, const char *list)
{
	gid_t groups[256];
	int ngroups = (int)(sizeof(groups) / sizeof(groups[0]));
	char buf[65536];

	if (list == NULL || list[0] == '\0')
		return false;
	if (getgrouplist(u->name, u->gid, groups, &ngroups) < 0) {
		/* More groups than we track: check the primary group only. */
		groups[0] = u->gid;
		ngroups = 1;
	}
	for (int i = 0; i < ngroups; i++) {
		struct group gr, *res = NULL;
		if (getgrgid_r(groups[i], &gr, buf, sizeof(buf), &res) == 0 &&
		    res != NULL && policy_list_contains(list, gr.gr_name))
			return true;
	}
	return false;
}

enum users_coverage users_coverage(const struct policy *p,
				   const struct users_info *u,
				   const char *passwd_file)
{
	if (u == NULL)
		return USERS_UNKNOWN;
	if (policy_list_contains(p->exempt_users, u->name))
		return USERS_EXEMPT_USER;
	if (users_in_group_list(u, p->exempt_groups))
		return USERS_EXEMPT_GROUP;
	if (u->uid != 0 && (long)u->uid < p->min_uid)
		return USERS_SYSTEM_ACCOUNT;
	if (p->local_users_only && !users_is_local(u->name, passwd_file))
		return USERS_NOT_LOCAL;
	return USERS_COVERED;
}

const char *users_coverage_text(enum users_coverage c)
{
	switch (c) {
	case USERS_COVERED:
		return "covered";
	case USERS_EXEMPT_USER:
		return "exempt user";
	case USERS_EXEMPT_GROUP:
		return "member of an exempt group";
	case USERS_SYSTEM_ACCOUNT:
		return "system account below min_uid";
	case USERS_NOT_LOCAL:
		return "not a local user";
	case USERS_UNKNOWN:
		break;
	}
	return "unknown user";
}

pp_err users_shadow_last_change(const char *path, const char *name,
				 long *days)
{
	struct spwd sp, *res = NULL;
	char buf[4096];
	pp_err rc = PP_ERR_NOT_FOUND;
	FILE *f = fopen(path, "re");

	if (f == NULL)
		return PP_ERR_IO;
	while (fgetspent_r(f, &sp, buf, sizeof(buf), &res) == 0 && res != NULL) {
		if (strcmp(sp.sp_namp, name) == 0) {
			if (sp.sp_lstchg >= 0) {
				*days = sp.sp_lstchg;
				rc = PP_OK;
			}
			break;
		}
	}
	explicit_bzero(buf, sizeof(buf));
	fclose(f);
	return rc;
}
