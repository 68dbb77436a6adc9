/*
 * store.c - backend-independent half of the store: argument checks and
 * dispatch through struct store_ops.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "store.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store {
	const struct store_ops *ops;
	void *impl;
	char msg[512];
};

__attribute__((format(printf, 2, 3)))
static void store_fail(struct store *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
	va_end(ap);
}

/* Record the outcome of a backend call in s->msg and pass it on. */
static pp_err store_result(struct store *s, pp_err rc)
{
	if (rc == PP_OK) {
		s->msg[0] = '\0';
	} else {
		const char *m = s->ops->errmsg(s->impl);
		snprintf(s->msg, sizeof(s->msg), "%s",
			 m && *m ? m : pp_strerror(rc));
	}
	return rc;
}

static pp_err check_name(struct store *s, const char *name)
{
	size_t len;

	if (name == NULL || *name == '\0') {
		store_fail(s, "empty user name");
		return PP_ERR_INVALID;
	}
	len = strnlen(name, PP_NAME_MAX + 1);
	if (len > PP_NAME_MAX) {
		store_fail(s, "user name longer than %d bytes", PP_NAME_MAX);
		return PP_ERR_TOO_LONG;
	}
	return PP_OK;
}

pp_err store_create(const struct store_ops *ops, void *impl, struct store **out)
{
	struct store *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		ops->close(impl);
		*out = NULL;
		return PP_ERR_NOMEM;
	}
	s->ops = ops;
	s->impl = impl;
	*out = s;
	return PP_OK;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	s->ops->close(s->impl);
	free(s);
}

const char *store_backend_name(const struct store *s)
{
	return s->ops->name;
}

const char *store_errmsg(const struct store *s)
{
	return s ? s->msg : "no store";
}

pp_err store_user_get(struct store *s, const char *name, struct store_user *user)
{
	pp_err rc = check_name(s, name);

	if (rc != PP_OK)
		return rc;
	if (user == NULL) {
		store_fail(s, "store_user_get: no output");
		return PP_ERR_INVALID;
	}
	return store_result(s, s->ops->user_get(s->impl, name, user));
}

pp_err store_user_ensure(struct store *s, const char *name, int64_t now,
			 int64_t initial_last_change, bool must_change,
			 struct store_user *user)
{
	struct store_user scratch;
	pp_err rc = check_name(s, name);

	if (rc != PP_OK)
		return rc;
	if (initial_last_change < 0 || now < 0) {
		store_fail(s, "negative time for user %s", name);
		return PP_ERR_INVALID;
	}
	return store_result(s, s->ops->user_ensure(s->impl, name, now,
						   initial_last_change, must_change,
						   user ? user : &scratch));
}

pp_err store_history_get(struct store *s, const char *name,
			 struct store_entry *entries, size_t max, size_t *n)
{
	pp_err rc = check_name(s, name);

	if (n != NULL)
		*n = 0;
	if (rc != PP_OK)
		return rc;
	if (n == NULL || (entries == NULL && max != 0)) {
		store_fail(s, "store_history_get: no output");
		return PP_ERR_INVALID;
	}
	return store_result(s, s->ops->history_get(s->impl, name, entries, max, n));
}

pp_err store_history_add(struct store *s, const char *name,
			 const struct store_entry *e, int keep, int64_t now)
{
	bool recorded;

	return store_history_record(s, name, e, keep, now, NULL, NULL, &recorded);
}

pp_err store_history_record(struct store *s, const char *name,
			    const struct store_entry *e, int keep, int64_t now,
			    store_record_decide decide, void *ctx, bool *recorded)
{
	return store_history_record_similar(s, name, e, keep, keep, now, decide, ctx,
					    recorded);
}

pp_err store_history_record_similar(struct store *s, const char *name,
				    const struct store_entry *e, int keep,
				    int keep_skeletons, int64_t now,
				    store_record_decide decide, void *ctx,
				    bool *recorded)
{
	pp_err rc = check_name(s, name);

	if (rc != PP_OK)
		return rc;
	if (keep < 0 || keep > STORE_MAX_KEEP) {
		store_fail(s, "history depth %d out of range 0..%d", keep,
			   STORE_MAX_KEEP);
		return PP_ERR_INVALID;
	}
	if (keep_skeletons < 0 || keep_skeletons > keep) {
		store_fail(s, "skeleton depth %d out of range 0..%d", keep_skeletons, keep);
		return PP_ERR_INVALID;
	}
	if (keep > 0 && e == NULL) {
		store_fail(s, "store_history_add: no entry");
		return PP_ERR_INVALID;
	}
	if (keep > 0 && (e->opslimit > (unsigned long long)INT64_MAX ||
			 (unsigned long long)e->memlimit > (unsigned long long)INT64_MAX ||
			 e->skeleton_opslimit > (unsigned long long)INT64_MAX ||
			 (unsigned long long)e->skeleton_memlimit > (unsigned long long)INT64_MAX ||
			 (e->skeleton_opslimit == 0) != (e->skeleton_memlimit == 0))) {
		store_fail(s, "hash parameters out of range");
		return PP_ERR_INVALID;
	}
	if (now < 0) {
		store_fail(s, "negative time for user %s", name);
		return PP_ERR_INVALID;
	}
	if (recorded == NULL) {
		store_fail(s, "store_history_record: no output");
		return PP_ERR_INVALID;
	}
	*recorded = false;
	return store_result(s, s->ops->history_add(s->impl, name,
						   keep > 0 ? e : NULL, keep,
						   keep_skeletons, now,
						   decide, ctx, recorded));
}

pp_err store_adopt_last_change(struct store *s, const char *name, int64_t t)
{
	pp_err rc = check_name(s, name);

	if (rc != PP_OK)
		return rc;
	if (t <= 0) {
		store_fail(s, "adopted last change of %s is not a time", name);
		return PP_ERR_INVALID;
	}
	rc = s->ops->adopt_last_change(s->impl, name, t);
	return rc == PP_ERR_NOT_FOUND ? rc : store_result(s, rc);
}

pp_err store_set_must_change(struct store *s, const char *name,
			     bool must_change, int64_t now)
{
	pp_err rc = check_name(s, name);

	if (rc != PP_OK)
		return rc;
	if (now < 0) {
		store_fail(s, "negative time for user %s", name);
		return PP_ERR_INVALID;
	}
	return store_result(s, s->ops->set_must_change(s->impl, name,
						       must_change, "", now));
}

pp_err store_flag_must_change(struct store *s, const char *name, const char *reason,
			      int64_t now)
{
	pp_err rc = check_name(s, name);
	size_t n = reason != NULL ? strnlen(reason, STORE_REASON_MAX + 1) : 0;

	if (rc != PP_OK)
		return rc;
	if (n == 0 || n > STORE_REASON_MAX || strspn(reason, "abcdefghijklmnopqrstuvwxyz_") != n) {
		store_fail(s, "invalid forced-change reason for user %s", name);
		return PP_ERR_INVALID;
	}
	if (now < 0) {
		store_fail(s, "negative time for user %s", name);
		return PP_ERR_INVALID;
	}
	return store_result(s, s->ops->set_must_change(s->impl, name, true, reason, now));
}

pp_err store_forget(struct store *s, const char *name)
{
	pp_err rc = check_name(s, name);

	if (rc != PP_OK)
		return rc;
	return store_result(s, s->ops->forget(s->impl, name));
}

pp_err store_foreach_user(struct store *s, store_user_cb cb, void *ctx)
{
	if (cb == NULL) {
		store_fail(s, "store_foreach_user: no callback");
		return PP_ERR_INVALID;
	}
	return store_result(s, s->ops->foreach_user(s->impl, cb, ctx));
}

pp_err store_user_count(struct store *s, size_t *count)
{
	if (count == NULL) {
		store_fail(s, "store_user_count: no output");
		return PP_ERR_INVALID;
	}
	return store_result(s, s->ops->user_count(s->impl, count));
}

pp_err store_backup(struct store *s, const char *path)
{
	if (path == NULL || *path == '\0') {
		store_fail(s, "no backup file given");
		return PP_ERR_INVALID;
	}
	return store_result(s, s->ops->backup(s->impl, path));
}

/* ---- metadata ---- */

static pp_err check_meta_name(struct store *s, const char *name)
{
	size_t len;

	if (name == NULL || *name == '\0') {
		store_fail(s, "empty metadata name");
		return PP_ERR_INVALID;
	}
	len = strnlen(name, STORE_META_NAME_MAX + 1);
	if (len > STORE_META_NAME_MAX) {
		store_fail(s, "metadata name longer than %d bytes", STORE_META_NAME_MAX);
		return PP_ERR_TOO_LONG;
	}
	return PP_OK;
}

static pp_err check_meta_value(struct store *s, const uint8_t *value, size_t len)
{
	if (value == NULL || len == 0) {
		store_fail(s, "empty metadata value");
		return PP_ERR_INVALID;
	}
	if (len > STORE_META_VALUE_MAX) {
		store_fail(s, "metadata value longer than %d bytes", STORE_META_VALUE_MAX);
		return PP_ERR_TOO_LONG;
	}
	return PP_OK;
}

pp_err store_meta_get(struct store *s, const char *name, uint8_t *value,
		      size_t cap, size_t *len)
{
	pp_err rc = check_meta_name(s, name);

	if (len != NULL)
		*len = 0;
	if (rc != PP_OK)
		return rc;
	if (len == NULL || (value == NULL && cap != 0)) {
		store_fail(s, "store_meta_get: no output");
		return PP_ERR_INVALID;
	}
	return store_result(s, s->ops->meta_get(s->impl, name, value, cap, len));
}

pp_err store_meta_set(struct store *s, const char *name, const uint8_t *value,
		      size_t len)
{
	pp_err rc = check_meta_name(s, name);

	if (rc == PP_OK)
		rc = check_meta_value(s, value, len);
	if (rc != PP_OK)
		return rc;
	return store_result(s, s->ops->meta_set(s->impl, name, value, len));
}

pp_err store_meta_bind(struct store *s, const char *name, const uint8_t *value,
		       size_t len, enum store_bind *out)
{
	pp_err rc = check_meta_name(s, name);

	if (rc == PP_OK)
		rc = check_meta_value(s, value, len);
	if (rc != PP_OK)
		return rc;
	if (out == NULL) {
		store_fail(s, "store_meta_bind: no output");
		return PP_ERR_INVALID;
	}
	return store_result(s, s->ops->meta_bind(s->impl, name, value, len, out));
}

pp_err store_holds_data(struct store *s, bool *holds)
{
	if (holds == NULL) {
		store_fail(s, "store_holds_data: no output");
		return PP_ERR_INVALID;
	}
	*holds = true;      /* the safe answer should a caller ignore the error */
	return store_result(s, s->ops->holds_data(s->impl, holds));
}

pp_err store_history_forget_all(struct store *s, const char *name,
				const uint8_t *value, size_t len,
				struct store_forgotten *out)
{
	struct store_forgotten scratch;
	pp_err rc = check_meta_name(s, name);

	if (rc == PP_OK)
		rc = check_meta_value(s, value, len);
	if (rc != PP_OK)
		return rc;
	memset(out ? out : &scratch, 0, sizeof(scratch));
	return store_result(s, s->ops->history_forget_all(s->impl, name, value, len,
							  out ? out : &scratch));
}

/* ---- last logins ---- */

pp_err store_last_login_set(struct store *s, const struct store_login *v, size_t n)
{
	if (n > 0 && v == NULL) {
		store_fail(s, "store_last_login_set: no logins");
		return PP_ERR_INVALID;
	}
	for (size_t i = 0; i < n; i++) {
		pp_err rc = check_name(s, v[i].name);
		if (rc != PP_OK)
			return rc;
		if (v[i].when < 0) {
			store_fail(s, "negative login time for %s", v[i].name);
			return PP_ERR_INVALID;
		}
	}
	if (n == 0)
		return PP_OK;
	return store_result(s, s->ops->last_login_set(s->impl, v, n));
}

/*
 * The buffer: a chained hash table of names. Logins are noted by the
 * event loop, read by the event loop and the report thread, and flushed
 * by the writer, all under one mutex held only for memory operations.
 */
#define LOGINS_BUCKETS 4096

struct login_node {
	struct login_node *next;
	int64_t when;
	char name[];
};

struct store_logins {
	pthread_mutex_t lock;
	struct login_node *bucket[LOGINS_BUCKETS];
	size_t count;
};

static size_t login_hash(const char *name)
{
	uint32_t h = 2166136261u;          /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % LOGINS_BUCKETS;
}

/* The node of name in its bucket, or NULL; under l->lock. */
static struct login_node **login_find(struct store_logins *l, const char *name)
{
	struct login_node **pp = &l->bucket[login_hash(name)];

	while (*pp != NULL && strcmp((*pp)->name, name) != 0)
		pp = &(*pp)->next;
	return pp;
}

struct store_logins *store_logins_new(void)
{
	struct store_logins *l = calloc(1, sizeof(*l));

	if (l != NULL && pthread_mutex_init(&l->lock, NULL) != 0) {
		free(l);
		return NULL;
	}
	return l;
}

void store_logins_free(struct store_logins *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < LOGINS_BUCKETS; i++) {
		struct login_node *n = l->bucket[i];
		while (n != NULL) {
			struct login_node *next = n->next;
			free(n);
			n = next;
		}
	}
	pthread_mutex_destroy(&l->lock);
	free(l);
}

bool store_logins_note(struct store_logins *l, const char *name, int64_t when)
{
	size_t len = name ? strnlen(name, PP_NAME_MAX + 1) : 0;
	struct login_node **pp, *n;
	bool ok = true;

	if (len == 0 || len > PP_NAME_MAX)
		return false;
	pthread_mutex_lock(&l->lock);
	pp = login_find(l, name);
	if (*pp != NULL) {
		if (when > (*pp)->when)
			(*pp)->when = when;
	} else if (l->count >= STORE_LOGINS_MAX ||
		   (n = malloc(sizeof(*n) + len + 1)) == NULL) {
		ok = false;
	} else {
		n->next = NULL;
		n->when = when;
		memcpy(n->name, name, len + 1);
		*pp = n;
		l->count++;
	}
	pthread_mutex_unlock(&l->lock);
	return ok;
}

int64_t store_logins_last(struct store_logins *l, const char *name, int64_t stored)
{
	int64_t when = stored;
	struct login_node **pp;

	if (l == NULL || name == NULL)
		return when;
	pthread_mutex_lock(&l->lock);
	pp = login_find(l, name);
	if (*pp != NULL && (*pp)->when > when)
		when = (*pp)->when;
	pthread_mutex_unlock(&l->lock);
	return when;
}

/* Copy every pending login into a new array (*v, *n); under l->lock. */
static pp_err logins_snapshot(struct store_logins *l, struct store_login **v, size_t *n)
{
	size_t k = 0;

	*v = NULL;
	*n = 0;
	if (l->count == 0)
		return PP_OK;
	if ((*v = malloc(l->count * sizeof(**v))) == NULL)
		return PP_ERR_NOMEM;
	for (size_t i = 0; i < LOGINS_BUCKETS; i++)
		for (struct login_node *p = l->bucket[i]; p != NULL; p = p->next) {
			snprintf((*v)[k].name, sizeof((*v)[k].name), "%s", p->name);
			(*v)[k++].when = p->when;
		}
	*n = k;
	return PP_OK;
}

pp_err store_logins_flush(struct store_logins *l, struct store *s, size_t *written)
{
	struct store_login *v;
	size_t n;
	pp_err rc;

	if (written != NULL)
		*written = 0;
	pthread_mutex_lock(&l->lock);
	rc = logins_snapshot(l, &v, &n);
	pthread_mutex_unlock(&l->lock);
	if (rc != PP_OK || n == 0)
		return rc;
	/* Written outside the lock: the account phase never waits for the disk. */
	rc = store_last_login_set(s, v, n);
	if (rc == PP_OK) {
		pthread_mutex_lock(&l->lock);
		for (size_t i = 0; i < n; i++) {
			struct login_node **pp = login_find(l, v[i].name), *gone = *pp;
			/* A later login came meanwhile: it waits for the next flush. */
			if (gone != NULL && gone->when == v[i].when) {
				*pp = gone->next;
				free(gone);
				l->count--;
			}
		}
		pthread_mutex_unlock(&l->lock);
		if (written != NULL)
			*written = n;
	}
	free(v);
	return rc;
}

void *store_backend_impl(struct store *s, const struct store_ops *ops)
{
	return s != NULL && s->ops == ops ? s->impl : NULL;
}

const char *store_backend_errmsg(const struct store *s)
{
	const char *m = s ? s->ops->errmsg(s->impl) : NULL;

	return m ? m : "";
}
