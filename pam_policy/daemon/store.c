/*
 * store.c - backend-independent half of the store: argument checks and
 * dispatch through struct store_ops.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "store.h"

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
	pp_err rc = check_name(s, name);

	if (rc != PP_OK)
		return rc;
	if (keep < 0 || keep > STORE_MAX_KEEP) {
		store_fail(s, "history depth %d out of range 0..%d", keep,
			   STORE_MAX_KEEP);
		return PP_ERR_INVALID;
	}
	if (keep > 0 && e == NULL) {
		store_fail(s, "store_history_add: no entry");
		return PP_ERR_INVALID;
	}
	if (keep > 0 && (e->opslimit > (unsigned long long)INT64_MAX ||
			 (unsigned long long)e->memlimit > (unsigned long long)INT64_MAX)) {
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
						   keep > 0 ? e : NULL, keep, now,
						   decide, ctx, recorded));
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
						       must_change, now));
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
