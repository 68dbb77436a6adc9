/*
 * users.c - user lookup and the one coverage rule.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "users.h"

#include "bounds.h"
#include "i18n.h"
#include "secret.h"

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

/* A growable array of names, sorted once filled. */
struct name_set {
	char **v;
	size_t n, cap;
};

struct users_scope {
	char exempt_users[POLICY_MAX_LIST];
	long min_uid;
	bool local_users_only;
	gid_t *exempt_gids;
	size_t ngids;
	struct name_set members;    /* members of exempt groups */
	struct name_set local;      /* names in the passwd file */
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool set_add(struct name_set *s, const char *name, size_t len)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return false;
		s->v = v;
		s->cap = cap;
	}
	if ((s->v[s->n] = strndup(name, len)) == NULL)
		return false;
	s->n++;
	return true;
}

static void set_sort(struct name_set *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp_name);
}

static bool set_has(const struct name_set *s, const char *name)
{
	return s->n > 0 && bsearch(&name, s->v, s->n, sizeof(*s->v), cmp_name) != NULL;
}

static void set_free(struct name_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/*
 * Every user name in passwd_file (the text before the first ':' of each
 * line), read with getline so that a long GECOS cannot split a line into
 * a fake entry. A missing file names nobody.
 */
static pp_err read_local_names(const char *passwd_file, struct name_set *out)
{
	char *line = NULL, *colon;
	size_t cap = 0;
	pp_err rc = PP_OK;
	FILE *f = fopen(passwd_file, "re");

	if (f == NULL)
		return errno == ENOENT ? PP_OK : PP_ERR_IO;
	while (rc == PP_OK && getline(&line, &cap, f) >= 0) {
		colon = strchr(line, ':');
		if (colon != NULL && colon != line && !set_add(out, line, (size_t)(colon - line)))
			rc = PP_ERR_NOMEM;
	}
	if (rc == PP_OK && ferror(f))
		rc = PP_ERR_IO;
	free(line);
	fclose(f);
	set_sort(out);
	return rc;
}

/* Look one group up by name, growing the buffer for large groups. */
static pp_err group_by_name(const char *name, struct group *gr, char **buf,
			    struct group **res)
{
	size_t len = 16384;

	for (;;) {
		char *b = realloc(*buf, len);
		int err;

		if (b == NULL)
			return PP_ERR_NOMEM;
		*buf = b;
		err = getgrnam_r(name, gr, b, len, res);
		if (err == ERANGE && len < ((size_t)1 << 24)) {
			len *= 2;
			continue;
		}
		if (err == 0 || err == ENOENT || err == ESRCH)
			return PP_OK;       /* *res NULL: no such group */
		return PP_ERR_IO;
	}
}

/* Resolve every group named in list: its gid and its members. */
static pp_err resolve_groups(const char *list, struct users_scope *s)
{
	char name[PP_NAME_MAX + 1], *buf = NULL;
	pp_err rc = PP_OK;
	const char *p = list;

	while (rc == PP_OK && *p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		struct group gr, *res = NULL;

		/* The same trimming as policy_list_contains. */
		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len > 0 && len < sizeof(name)) {
			memcpy(name, p, len);
			name[len] = '\0';
			rc = group_by_name(name, &gr, &buf, &res);
			if (rc == PP_OK && res != NULL) {
				gid_t *g = realloc(s->exempt_gids, (s->ngids + 1) * sizeof(*g));

				if (g == NULL) {
					rc = PP_ERR_NOMEM;
					break;
				}
				s->exempt_gids = g;
				g[s->ngids++] = gr.gr_gid;
				for (size_t i = 0; gr.gr_mem != NULL && gr.gr_mem[i] != NULL; i++)
					if (!set_add(&s->members, gr.gr_mem[i], strlen(gr.gr_mem[i])))
						rc = PP_ERR_NOMEM;
			}
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	free(buf);
	set_sort(&s->members);
	return rc;
}

pp_err users_scope_load(const struct policy *p, const char *passwd_file,
			struct users_scope **out)
{
	struct users_scope *s = calloc(1, sizeof(*s));
	pp_err rc;

	*out = NULL;
	if (s == NULL)
		return PP_ERR_NOMEM;
	snprintf(s->exempt_users, sizeof(s->exempt_users), "%s", p->exempt_users);
	s->min_uid = p->min_uid;
	s->local_users_only = p->local_users_only;
	rc = resolve_groups(p->exempt_groups, s);
	if (rc == PP_OK && s->local_users_only)
		rc = read_local_names(passwd_file, &s->local);
	if (rc != PP_OK) {
		users_scope_free(s);
		return rc;
	}
	*out = s;
	return PP_OK;
}

void users_scope_free(struct users_scope *s)
{
	if (s == NULL)
		return;
	set_free(&s->members);
	set_free(&s->local);
	free(s->exempt_gids);
	free(s);
}

enum users_coverage users_scope_coverage(const struct users_scope *s,
					 const char *name, uid_t uid, gid_t gid)
{
	if (policy_list_contains(s->exempt_users, name))
		return USERS_EXEMPT_USER;
	for (size_t i = 0; i < s->ngids; i++)
		if (s->exempt_gids[i] == gid)
			return USERS_EXEMPT_GROUP;
	if (set_has(&s->members, name))
		return USERS_EXEMPT_GROUP;
	if (uid != 0 && (long)uid < s->min_uid)
		return USERS_SYSTEM_ACCOUNT;
	if (s->local_users_only && !set_has(&s->local, name))
		return USERS_NOT_LOCAL;
	return USERS_COVERED;
}

enum users_coverage users_coverage(const struct policy *p,
				   const struct users_info *u,
				   const char *passwd_file)
{
	struct users_scope *s = NULL;
	enum users_coverage c;

	if (u == NULL)
		return USERS_UNKNOWN;
	if (users_scope_load(p, passwd_file, &s) != PP_OK)
		return USERS_COVERED;
	c = users_scope_coverage(s, u->name, u->uid, u->gid);
	users_scope_free(s);
	return c;
}

bool users_is_local(const char *name, const char *passwd_file)
{
	struct name_set local = { NULL, 0, 0 };
	bool found;

	if (read_local_names(passwd_file, &local) != PP_OK) {
		set_free(&local);
		return false;
	}
	found = set_has(&local, name);
	set_free(&local);
	return found;
}

bool users_in_group_list(const struct users_info *u, const char *list)
{
	struct users_scope s;
	bool in;

	memset(&s, 0, sizeof(s));
	if (list == NULL || list[0] == '\0')
		return false;
	in = resolve_groups(list, &s) == PP_OK &&
	     users_scope_coverage(&s, u->name, 1, u->gid) == USERS_EXEMPT_GROUP;
	set_free(&s.members);
	free(s.exempt_gids);
	return in;
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

const char *users_coverage_label(enum users_coverage c)
{
	switch (c) {
	case USERS_COVERED:
		return _("covered");
	case USERS_EXEMPT_USER:
		return _("exempt user");
	case USERS_EXEMPT_GROUP:
		return _("member of an exempt group");
	case USERS_SYSTEM_ACCOUNT:
		/* TRANSLATORS: min_uid is a setting of pam_policy.conf. */
		return _("system account below min_uid");
	case USERS_NOT_LOCAL:
		return _("not a local user");
	case USERS_UNKNOWN:
		break;
	}
	return _("unknown user");
}

/* ---- shadow ---- */

/*
 * Can the password field be used? Not when it is empty, locked ("!...",
 * as usermod -L and passwd -l leave it) or "*" (never set). Other strings
 * are taken as hashes: the daemon does not judge crypt formats.
 */
static bool shadow_usable(const char *field)
{
	return field != NULL && field[0] != '\0' && field[0] != '!' && field[0] != '*';
}

/*
 * Parse one line as getspent does; false for a line that does not parse.
 * *buf (wiped by the caller) grows to hold the line.
 */
static bool shadow_parse(const char *line, size_t len, char **buf, size_t *cap,
			 struct spwd *sp)
{
	struct spwd *res = NULL;

	if (*cap < len + 1) {
		char *b = malloc(len + 1);

		if (b == NULL)
			return false;
		if (*buf != NULL) {
			pp_wipe(*buf, *cap);
			free(*buf);
		}
		*buf = b;
		*cap = len + 1;
	}
	return sgetspent_r(line, sp, *buf, *cap, &res) == 0 && res != NULL;
}

static void shadow_fill(const struct spwd *sp, struct users_shadow *out)
{
	out->last_change = sp->sp_lstchg;
	out->max_days = sp->sp_max;
	out->usable = shadow_usable(sp->sp_pwdp);
}

static void shadow_wipe_free(char *p, size_t cap)
{
	if (p != NULL) {
		pp_wipe(p, cap);
		free(p);
	}
}

pp_err users_shadow_read(const char *path, const char *name,
			 struct users_shadow *out)
{
	char *line = NULL, *buf = NULL;
	size_t cap = 0, bufcap = 0, nlen = strlen(name);
	ssize_t len;
	pp_err rc = PP_ERR_NOT_FOUND;
	struct spwd sp;
	FILE *f = fopen(path, "re");
	int e;

	if (f == NULL)
		return PP_ERR_IO;
	while ((len = getline(&line, &cap, f)) >= 0) {
		if ((size_t)len <= nlen || strncmp(line, name, nlen) != 0 || line[nlen] != ':')
			continue;
		if (shadow_parse(line, (size_t)len, &buf, &bufcap, &sp) &&
		    strcmp(sp.sp_namp, name) == 0) {
			shadow_fill(&sp, out);
			rc = PP_OK;
			break;
		}
	}
	e = errno;
	if (rc != PP_OK && ferror(f))
		rc = PP_ERR_IO;
	shadow_wipe_free(buf, bufcap);
	shadow_wipe_free(line, cap);
	fclose(f);
	errno = e;
	return rc;
}

pp_err users_shadow_last_change(const char *path, const char *name,
				 long *days)
{
	struct users_shadow sh;
	pp_err rc = users_shadow_read(path, name, &sh);

	if (rc != PP_OK)
		return rc;
	if (sh.last_change < 0)
		return PP_ERR_NOT_FOUND;
	*days = sh.last_change;
	return PP_OK;
}

void users_shadow_facts(const struct users_shadow *sh, struct aging_facts *f)
{
	f->locked = !sh->usable;
	f->shadow_must_change = sh->last_change == 0;
	f->shadow_expires = 0;
	if (sh->last_change > 0 && sh->max_days >= 0 &&
	    sh->last_change < USERS_SHADOW_DAYS_LIMIT && sh->max_days < USERS_SHADOW_DAYS_LIMIT)
		f->shadow_expires = ((int64_t)sh->last_change + sh->max_days + 1) * AGING_DAY;
}

struct shadow_row {
	char *name;
	size_t seq;                 /* file order: the first entry wins */
	struct users_shadow sh;
};

struct users_shadow_table {
	struct shadow_row *rows;
	size_t n;
};

static int cmp_shadow_row(const void *a, const void *b)
{
	const struct shadow_row *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool table_add(struct users_shadow_table *t, size_t *cap, const struct spwd *sp)
{
	if (t->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct shadow_row *v = realloc(t->rows, ncap * sizeof(*v));

		if (v == NULL)
			return false;
		t->rows = v;
		*cap = ncap;
	}
	if ((t->rows[t->n].name = strdup(sp->sp_namp)) == NULL)
		return false;
	t->rows[t->n].seq = t->n;
	shadow_fill(sp, &t->rows[t->n].sh);
	t->n++;
	return true;
}

/* Sort by name and keep the first entry of a name listed twice. */
static void table_index(struct users_shadow_table *t)
{
	size_t kept = 0;

	if (t->n > 1)
		qsort(t->rows, t->n, sizeof(*t->rows), cmp_shadow_row);
	for (size_t i = 0; i < t->n; i++) {
		if (kept > 0 && strcmp(t->rows[i].name, t->rows[kept - 1].name) == 0) {
			free(t->rows[i].name);
			continue;
		}
		t->rows[kept++] = t->rows[i];
	}
	t->n = kept;
}

pp_err users_shadow_table_load(const char *path, struct users_shadow_table **out)
{
	struct users_shadow_table *t;
	char *line = NULL, *buf = NULL;
	size_t cap = 0, bufcap = 0, rows_cap = 0;
	ssize_t len;
	pp_err rc = PP_OK;
	struct spwd sp;
	FILE *f;
	int e;

	*out = NULL;
	if ((f = fopen(path, "re")) == NULL)
		return PP_ERR_IO;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		fclose(f);
		return PP_ERR_NOMEM;
	}
	while (rc == PP_OK && (len = getline(&line, &cap, f)) >= 0)
		if (shadow_parse(line, (size_t)len, &buf, &bufcap, &sp) &&
		    !table_add(t, &rows_cap, &sp))
			rc = PP_ERR_NOMEM;
	e = errno;
	if (rc == PP_OK && ferror(f))
		rc = PP_ERR_IO;
	shadow_wipe_free(buf, bufcap);
	shadow_wipe_free(line, cap);
	fclose(f);
	if (rc != PP_OK) {
		users_shadow_table_free(t);
		errno = e;
		return rc;
	}
	table_index(t);
	*out = t;
	return PP_OK;
}

bool users_shadow_table_find(const struct users_shadow_table *t, const char *name,
			     struct users_shadow *out)
{
	size_t lo = 0, hi = t != NULL ? t->n : 0;

	/* The rows are unique by name after table_index: a plain bisection. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->rows[mid].name, name);

		if (c == 0) {
			*out = t->rows[mid].sh;
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

size_t users_shadow_table_size(const struct users_shadow_table *t)
{
	return t != NULL ? t->n : 0;
}

void users_shadow_table_free(struct users_shadow_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->rows[i].name);
	free(t->rows);
	free(t);
}
