/*
 * shadow.c - the shadow file as the daemon reads it for every status,
 * check and record: one copy in memory, read again only when the file
 * changed (another inode, size or modification time), so that a status
 * costs one stat(2) and a lookup, not a read of a 100,000-line file.
 *
 * No password field is kept: the table holds each entry's aging fields
 * and whether its password is usable (lib/users.h).
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "daemon.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "users.h"

static pthread_mutex_t shadow_lock = PTHREAD_MUTEX_INITIALIZER;
static struct users_shadow_table *shadow_table;
static char shadow_path[POLICY_MAX_PATH];
static struct stat shadow_seen;       /* the file the table was read from */

/* Is st the same file, unchanged, as the one the table was read from? */
static bool same_file(const struct stat *st)
{
	return st->st_ino == shadow_seen.st_ino && st->st_dev == shadow_seen.st_dev &&
	       st->st_size == shadow_seen.st_size &&
	       st->st_mtim.tv_sec == shadow_seen.st_mtim.tv_sec &&
	       st->st_mtim.tv_nsec == shadow_seen.st_mtim.tv_nsec;
}

/* Bring the table up to date with path; called with shadow_lock held. */
static pp_err refresh(const char *path)
{
	struct users_shadow_table *t = NULL;
	struct stat st;
	pp_err rc;
	int e;

	if (stat(path, &st) != 0) {
		e = errno;
		users_shadow_table_free(shadow_table);
		shadow_table = NULL;
		errno = e;
		return PP_ERR_IO;
	}
	if (shadow_table != NULL && strcmp(path, shadow_path) == 0 && same_file(&st))
		return PP_OK;
	rc = users_shadow_table_load(path, &t);
	if (rc != PP_OK)
		return rc;
	users_shadow_table_free(shadow_table);
	shadow_table = t;
	shadow_seen = st;
	snprintf(shadow_path, sizeof(shadow_path), "%s", path);
	return PP_OK;
}

pp_err shadow_lookup(const struct server *s, const char *name, struct users_shadow *out)
{
	pp_err rc;
	int e;

	pthread_mutex_lock(&shadow_lock);
	rc = refresh(s->policy->shadow_file);
	e = errno;
	if (rc == PP_OK && !users_shadow_table_find(shadow_table, name, out))
		rc = PP_ERR_NOT_FOUND;
	pthread_mutex_unlock(&shadow_lock);
	errno = e;
	return rc;
}

void shadow_forget(void)
{
	pthread_mutex_lock(&shadow_lock);
	users_shadow_table_free(shadow_table);
	shadow_table = NULL;
	shadow_path[0] = '\0';
	pthread_mutex_unlock(&shadow_lock);
}
