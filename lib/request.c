/*
 * request.c - typed requests to pam_policyd.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "request.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "client.h"
#include "secret.h"

pp_err request_status_to_error(uint64_t status)
{
	switch (status) {
	case PROTO_OK:
	case PROTO_REUSED:
	case PROTO_TOO_SOON:
		return PP_OK;
	case PROTO_DENIED:
		return PP_ERR_DENIED;
	case PROTO_NOT_FOUND:
		return PP_ERR_NOT_FOUND;
	case PROTO_BAD_REQUEST:
		return PP_ERR_INVALID;
	case PROTO_BUSY:
		return PP_ERR_BUSY;
	default:
		return PP_ERR_STORE;
	}
}

/* One request, one reply; the reply is decoded into *reply over buf. */
static pp_err call(const char *socket_path, int timeout_ms,
		   const struct proto_msg *req, uint8_t *buf,
		   struct proto_msg *reply)
{
	int fd = -1;
	/* One budget for the whole exchange: connecting spends from it. */
	int64_t deadline = proto_deadline_after(timeout_ms);
	int64_t left;
	pp_err rc = client_connect(socket_path, timeout_ms, &fd);

	if (rc != PP_OK)
		return rc;
	left = deadline - proto_deadline_after(0);
	if (left < 1) {
		client_close(&fd);
		return PP_ERR_TIMEOUT;
	}
	rc = client_call(fd, req, buf, PROTO_MAX_FRAME, reply, (int)left);
	client_close(&fd);
	return rc;
}

static pp_err expect_reply(const struct proto_msg *reply)
{
	if (reply->type != PROTO_REPLY)
		return PP_ERR_PROTOCOL;
	return request_status_to_error(reply->f[PROTO_REPLY_STATUS].u64);
}

pp_err request_check(const char *socket_path, int timeout_ms, const char *user,
		     const char *password, uint64_t flags, int history,
		     int min_age_days, struct request_check_result *out)
{
	uint8_t buf[PROTO_MAX_FRAME];
	struct proto_msg req, reply;
	uint64_t detail;
	pp_err rc;

	memset(out, 0, sizeof(*out));
	proto_msg_init(&req, PROTO_CHECK);
	if ((rc = proto_add_cstr(&req, user)) != PP_OK ||
	    (rc = proto_add_cstr(&req, password)) != PP_OK ||
	    (rc = proto_add_u64(&req, flags)) != PP_OK ||
	    (rc = proto_add_u64(&req, (uint64_t)history)) != PP_OK ||
	    (rc = proto_add_u64(&req, (uint64_t)min_age_days)) != PP_OK)
		goto out;
	rc = call(socket_path, timeout_ms, &req, buf, &reply);
	if (rc == PP_OK)
		rc = expect_reply(&reply);
	if (rc == PP_OK) {
		detail = reply.f[PROTO_REPLY_DETAIL].u64;
		out->reused = (detail & PROTO_VIOLATION_REUSED) != 0;
		out->similar = !out->reused && (detail & PROTO_VIOLATION_SIMILAR) != 0;
		out->too_soon = (detail & PROTO_VIOLATION_TOO_SOON) != 0;
		out->days_left = (long)(detail >> PROTO_CHECK_DAYS_SHIFT);
	}
out:
	pp_wipe(&req, sizeof(req));
	pp_wipe(buf, sizeof(buf));
	return rc;
}

/* Trim to the protocol's string limit rather than fail on a long rhost. */
static pp_err add_bounded(struct proto_msg *m, const char *s);

pp_err request_record_checked(const char *socket_path, int timeout_ms,
			      const char *user, const char *password, int history,
			      const char *service, uint64_t flags, int min_age_days,
			      struct request_record_result *out)
{
	return request_record_from(socket_path, timeout_ms, user, password, history,
				   service, NULL, NULL, flags, min_age_days, out);
}

pp_err request_record_from(const char *socket_path, int timeout_ms,
			   const char *user, const char *password, int history,
			   const char *service, const char *rhost, const char *tty,
			   uint64_t flags, int min_age_days,
			   struct request_record_result *out)
{
	uint8_t buf[PROTO_MAX_FRAME];
	struct proto_msg req, reply;
	uint64_t status = PROTO_INTERNAL, detail = 0;
	pp_err rc;

	memset(out, 0, sizeof(*out));
	if (min_age_days < 0 || min_age_days > PP_DAYS_MAX ||
	    flags >= (1u << PROTO_RECORD_MIN_AGE_SHIFT))
		return PP_ERR_INVALID;
	flags |= (uint64_t)min_age_days << PROTO_RECORD_MIN_AGE_SHIFT;
	proto_msg_init(&req, PROTO_RECORD);
	if ((rc = proto_add_cstr(&req, user)) != PP_OK ||
	    (rc = proto_add_cstr(&req, password)) != PP_OK ||
	    (rc = proto_add_u64(&req, (uint64_t)history)) != PP_OK ||
	    (rc = proto_add_cstr(&req, service ? service : "")) != PP_OK ||
	    (rc = proto_add_u64(&req, flags)) != PP_OK ||
	    (rc = add_bounded(&req, rhost)) != PP_OK ||
	    (rc = add_bounded(&req, tty)) != PP_OK)
		goto out;
	rc = call(socket_path, timeout_ms, &req, buf, &reply);
	if (rc == PP_OK)
		rc = expect_reply(&reply);
	if (rc == PP_OK) {
		status = reply.f[PROTO_REPLY_STATUS].u64;
		detail = reply.f[PROTO_REPLY_DETAIL].u64;
		out->recorded = status == PROTO_OK;
		out->similar = status == PROTO_REUSED &&
			       (detail & (PROTO_VIOLATION_REUSED | PROTO_VIOLATION_SIMILAR)) ==
			       PROTO_VIOLATION_SIMILAR;
		out->reused = status == PROTO_REUSED && !out->similar;
		out->too_soon = status == PROTO_TOO_SOON;
		if (out->too_soon)
			out->days_left = (long)(detail >> PROTO_CHECK_DAYS_SHIFT);
	}
out:
	pp_wipe(&req, sizeof(req));
	pp_wipe(buf, sizeof(buf));
	return rc;
}

pp_err request_record(const char *socket_path, int timeout_ms, const char *user,
		      const char *password, int history, const char *service)
{
	struct request_record_result r;
	pp_err rc = request_record_checked(socket_path, timeout_ms, user, password,
					   history, service, 0, 0, &r);

	return rc == PP_OK && !r.recorded ? PP_ERR_DENIED : rc;
}

pp_err request_may_change(const char *socket_path, int timeout_ms, const char *user,
			  uint64_t flags, int min_age_days,
			  struct request_check_result *out)
{
	uint8_t buf[PROTO_MAX_FRAME];
	struct proto_msg req, reply;
	uint64_t detail;
	pp_err rc;

	memset(out, 0, sizeof(*out));
	if (min_age_days < 0 || min_age_days > PP_DAYS_MAX)
		return PP_ERR_INVALID;
	proto_msg_init(&req, PROTO_MAY_CHANGE);
	if ((rc = proto_add_cstr(&req, user)) != PP_OK ||
	    (rc = proto_add_u64(&req, flags)) != PP_OK ||
	    (rc = proto_add_u64(&req, (uint64_t)min_age_days)) != PP_OK)
		return rc;
	rc = call(socket_path, timeout_ms, &req, buf, &reply);
	if (rc == PP_OK)
		rc = expect_reply(&reply);
	if (rc == PP_OK) {
		detail = reply.f[PROTO_REPLY_DETAIL].u64;
		out->too_soon = (detail & PROTO_VIOLATION_TOO_SOON) != 0;
		if (out->too_soon)
			out->days_left = (long)(detail >> PROTO_CHECK_DAYS_SHIFT);
	}
	return rc;
}

/* A STATUS (inactive_days < 0) or a LOGIN, answered by a STATUS_REPLY. */
static pp_err status_call(const char *socket_path, int timeout_ms, const char *user,
			  int max_age_days, int warn_days, int inactive_days,
			  struct request_status_result *out)
{
	uint8_t buf[PROTO_MAX_FRAME];
	struct proto_msg req, reply;
	uint64_t status;
	pp_err rc;

	memset(out, 0, sizeof(*out));
	proto_msg_init(&req, inactive_days < 0 ? PROTO_STATUS : PROTO_LOGIN);
	if ((rc = proto_add_cstr(&req, user)) != PP_OK ||
	    (rc = proto_add_u64(&req, (uint64_t)max_age_days)) != PP_OK ||
	    (rc = proto_add_u64(&req, (uint64_t)warn_days)) != PP_OK ||
	    (inactive_days >= 0 &&
	     (rc = proto_add_u64(&req, (uint64_t)inactive_days)) != PP_OK))
		return rc;
	rc = call(socket_path, timeout_ms, &req, buf, &reply);
	if (rc != PP_OK)
		return rc;
	if (reply.type == PROTO_REPLY) {
		/* A plain reply to a status request can only be an error. */
		rc = expect_reply(&reply);
		return rc == PP_OK ? PP_ERR_PROTOCOL : rc;
	}
	if (reply.type != PROTO_STATUS_REPLY)
		return PP_ERR_PROTOCOL;
	status = reply.f[PROTO_STATUS_REPLY_STATUS].u64;
	if (status == PROTO_NOT_FOUND)
		return PP_OK;
	if (status != PROTO_OK)
		return request_status_to_error(status);
	if (reply.f[PROTO_STATUS_REPLY_STATE].u64 >= AGING_STATE_COUNT)
		return PP_ERR_PROTOCOL;
	out->found = true;
	out->state = (enum aging_state)reply.f[PROTO_STATUS_REPLY_STATE].u64;
	out->last_change = (int64_t)reply.f[PROTO_STATUS_REPLY_LAST_CHANGE].u64;
	out->expires = (int64_t)reply.f[PROTO_STATUS_REPLY_EXPIRES].u64;
	out->must_change = reply.f[PROTO_STATUS_REPLY_MUST_CHANGE].u64 != 0;
	out->must_change_breached =
		reply.f[PROTO_STATUS_REPLY_MUST_CHANGE].u64 == PROTO_MUST_CHANGE_BREACHED;
	out->history_count = (long)reply.f[PROTO_STATUS_REPLY_HISTORY_COUNT].u64;
	out->first_seen = (int64_t)reply.f[PROTO_STATUS_REPLY_FIRST_SEEN].u64;
	out->now = (int64_t)reply.f[PROTO_STATUS_REPLY_NOW].u64;
	out->last_login = (int64_t)reply.f[PROTO_STATUS_REPLY_LAST_LOGIN].u64;
	if (reply.f[PROTO_STATUS_REPLY_DORMANT].u64 > (uint64_t)LONG_MAX)
		return PP_ERR_PROTOCOL;
	out->dormant_days = (long)reply.f[PROTO_STATUS_REPLY_DORMANT].u64;
	return PP_OK;
}

pp_err request_status(const char *socket_path, int timeout_ms, const char *user,
		      int max_age_days, int warn_days,
		      struct request_status_result *out)
{
	return status_call(socket_path, timeout_ms, user, max_age_days, warn_days, -1, out);
}

pp_err request_login(const char *socket_path, int timeout_ms, const char *user,
		     int max_age_days, int warn_days, int inactive_days,
		     struct request_status_result *out)
{
	if (inactive_days < 0)
		return PP_ERR_INVALID;
	return status_call(socket_path, timeout_ms, user, max_age_days, warn_days,
			   inactive_days, out);
}

static pp_err add_bounded(struct proto_msg *m, const char *s)
{
	size_t n = s ? strnlen(s, PROTO_MAX_STR) : 0;
	return proto_add_str(m, s ? s : "", n);
}

pp_err request_event(const char *socket_path, int timeout_ms, const char *event,
		     const char *user, const char *service, const char *rhost,
		     const char *tty, const char *reasons)
{
	uint8_t buf[PROTO_MAX_FRAME];
	struct proto_msg req, reply;
	pp_err rc;

	proto_msg_init(&req, PROTO_EVENT);
	if ((rc = proto_add_cstr(&req, event)) != PP_OK ||
	    (rc = add_bounded(&req, user)) != PP_OK ||
	    (rc = add_bounded(&req, service)) != PP_OK ||
	    (rc = add_bounded(&req, rhost)) != PP_OK ||
	    (rc = add_bounded(&req, tty)) != PP_OK ||
	    (rc = add_bounded(&req, reasons)) != PP_OK ||
	    (rc = proto_add_u64(&req, 0)) != PP_OK)
		return rc;
	rc = call(socket_path, timeout_ms, &req, buf, &reply);
	return rc == PP_OK ? expect_reply(&reply) : rc;
}

pp_err request_breached(const char *socket_path, int timeout_ms, const char *user,
			const char *service, const char *rhost, const char *tty)
{
	uint8_t buf[PROTO_MAX_FRAME];
	struct proto_msg req, reply;
	pp_err rc;

	proto_msg_init(&req, PROTO_BREACHED);
	if ((rc = proto_add_cstr(&req, user)) != PP_OK ||
	    (rc = add_bounded(&req, service)) != PP_OK ||
	    (rc = add_bounded(&req, rhost)) != PP_OK ||
	    (rc = add_bounded(&req, tty)) != PP_OK)
		return rc;
	rc = call(socket_path, timeout_ms, &req, buf, &reply);
	return rc == PP_OK ? expect_reply(&reply) : rc;
}

pp_err request_simple(const char *socket_path, int timeout_ms,
		      enum proto_type type, const char *arg, char *text,
		      size_t textlen)
{
	uint8_t buf[PROTO_MAX_FRAME];
	struct proto_msg req, reply;
	pp_err rc;

	if (text != NULL && textlen > 0)
		text[0] = '\0';
	proto_msg_init(&req, type);
	if (arg != NULL && (rc = proto_add_cstr(&req, arg)) != PP_OK)
		return rc;
	rc = call(socket_path, timeout_ms, &req, buf, &reply);
	if (rc != PP_OK)
		return rc;
	if (reply.type != PROTO_REPLY)
		return PP_ERR_PROTOCOL;
	if (text != NULL && textlen > 0 &&
	    proto_copy_str(&reply, PROTO_REPLY_TEXT, text, textlen) != PP_OK)
		text[0] = '\0';
	return expect_reply(&reply);
}

void request_budget_init(struct request_budget *b, int timeout_ms)
{
	b->timeout_ms = timeout_ms < 0 ? 0 : timeout_ms;
	b->spent_ms = 0;
	b->failure = PP_OK;
}

pp_err request_budget_begin(struct request_budget *b, int *timeout_ms,
			    int64_t *started)
{
	int64_t left = (int64_t)b->timeout_ms - b->spent_ms;

	*timeout_ms = 0;
	*started = proto_deadline_after(0);
	if (b->failure != PP_OK)
		return b->failure;
	if (left < 1) {
		b->failure = PP_ERR_TIMEOUT;
		return b->failure;
	}
	*timeout_ms = (int)left;
	return PP_OK;
}

void request_budget_end(struct request_budget *b, int64_t started, pp_err rc)
{
	int64_t now = proto_deadline_after(0);

	if (now > started)
		b->spent_ms += now - started;
	switch (rc) {
	case PP_ERR_UNREACHABLE:
	case PP_ERR_TIMEOUT:
	case PP_ERR_PROTOCOL:
	case PP_ERR_IO:
		if (b->failure == PP_OK)
			b->failure = rc;
		break;
	default:
		break;
	}
}
