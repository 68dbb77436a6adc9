/*
 * proto.c - wire protocol: schema table, encoder, strict decoder, frame I/O.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "proto.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "secret.h"
#include "utf8.h"

/* ---- the schema: one row per message type ---- */

#define FIELD_NONEMPTY 0x1  /* a zero-length string is malformed */
#define FIELD_SECRET 0x2    /* never shown by proto_describe */
#define FIELD_NAME 0x4      /* a user name: valid UTF-8, no control characters */

struct field_schema {
	uint8_t kind;           /* 0 ends the field list */
	uint8_t flags;
	const char *name;
};

struct msg_schema {
	enum proto_type type;
	const char *name;
	struct field_schema f[PROTO_MAX_FIELDS];
};

#define STR(n) { PROTO_KIND_STR, 0, n }
#define NONEMPTY(n) { PROTO_KIND_STR, FIELD_NONEMPTY, n }
#define SECRET(n) { PROTO_KIND_STR, FIELD_SECRET, n }
#define U64(n) { PROTO_KIND_U64, 0, n }
/* A user name in a request: what the daemon may store and log. */
#define USER(n) { PROTO_KIND_STR, FIELD_NONEMPTY | FIELD_NAME, n }
#define OPT_USER(n) { PROTO_KIND_STR, FIELD_NAME, n }

/*
 * Adding a message: a type value and field positions in proto.h, and one
 * row here. Fields are placed by position so the two cannot drift apart.
 */
static const struct msg_schema proto_schemas[] = {
	{ PROTO_PING, "ping", { { 0, 0, NULL } } },
	{ PROTO_CHECK, "check", {
		[PROTO_CHECK_USER] = USER("user"),
		[PROTO_CHECK_PASSWORD] = SECRET("password"),
		[PROTO_CHECK_FLAGS] = U64("flags"),
		[PROTO_CHECK_HISTORY] = U64("history"),
		[PROTO_CHECK_MIN_AGE_DAYS] = U64("min_age_days") } },
	{ PROTO_RECORD, "record", {
		[PROTO_RECORD_USER] = USER("user"),
		[PROTO_RECORD_PASSWORD] = SECRET("password"),
		[PROTO_RECORD_HISTORY] = U64("history"),
		[PROTO_RECORD_SERVICE] = STR("service"),
		[PROTO_RECORD_FLAGS] = U64("flags"),
		[PROTO_RECORD_RHOST] = STR("rhost"),
		[PROTO_RECORD_TTY] = STR("tty") } },
	{ PROTO_STATUS, "status", {
		[PROTO_STATUS_USER] = USER("user"),
		[PROTO_STATUS_MAX_AGE_DAYS] = U64("max_age_days"),
		[PROTO_STATUS_WARN_DAYS] = U64("warn_days") } },
	{ PROTO_EXPIRE, "expire", {
		[PROTO_EXPIRE_USER] = USER("user") } },
	{ PROTO_FORGET, "forget", {
		[PROTO_FORGET_USER] = USER("user") } },
	{ PROTO_EVENT, "event", {
		[PROTO_EVENT_NAME] = NONEMPTY("event"),
		[PROTO_EVENT_USER] = OPT_USER("user"),
		[PROTO_EVENT_SERVICE] = STR("service"),
		[PROTO_EVENT_RHOST] = STR("rhost"),
		[PROTO_EVENT_TTY] = STR("tty"),
		[PROTO_EVENT_REASONS] = STR("reasons"),
		[PROTO_EVENT_FLAGS] = U64("flags") } },
	{ PROTO_REPORT, "report", { { 0, 0, NULL } } },
	{ PROTO_BACKUP, "backup", {
		[PROTO_BACKUP_PATH] = NONEMPTY("path") } },
	{ PROTO_REOPEN, "reopen", { { 0, 0, NULL } } },
	{ PROTO_REPLY, "reply", {
		[PROTO_REPLY_STATUS] = U64("status"),
		[PROTO_REPLY_DETAIL] = U64("detail"),
		[PROTO_REPLY_TEXT] = STR("text") } },
	{ PROTO_STATUS_REPLY, "status_reply", {
		[PROTO_STATUS_REPLY_STATUS] = U64("status"),
		[PROTO_STATUS_REPLY_STATE] = U64("state"),
		[PROTO_STATUS_REPLY_LAST_CHANGE] = U64("last_change"),
		[PROTO_STATUS_REPLY_EXPIRES] = U64("expires"),
		[PROTO_STATUS_REPLY_MUST_CHANGE] = U64("must_change"),
		[PROTO_STATUS_REPLY_HISTORY_COUNT] = U64("history_count"),
		[PROTO_STATUS_REPLY_FIRST_SEEN] = U64("first_seen"),
		[PROTO_STATUS_REPLY_NOW] = U64("now"),
		[PROTO_STATUS_REPLY_LAST_LOGIN] = U64("last_login"),
		[PROTO_STATUS_REPLY_DORMANT] = U64("dormant") } },
	{ PROTO_REPORT_ROW, "report_row", {
		[PROTO_REPORT_ROW_USER] = NONEMPTY("user"),
		[PROTO_REPORT_ROW_UID] = U64("uid"),
		[PROTO_REPORT_ROW_STATE] = U64("state"),
		[PROTO_REPORT_ROW_FIRST_SEEN] = U64("first_seen"),
		[PROTO_REPORT_ROW_LAST_CHANGE] = U64("last_change"),
		[PROTO_REPORT_ROW_EXPIRES] = U64("expires"),
		[PROTO_REPORT_ROW_HISTORY_COUNT] = U64("history_count"),
		[PROTO_REPORT_ROW_FLAGS] = U64("flags"),
		[PROTO_REPORT_ROW_LAST_LOGIN] = U64("last_login") } },
	{ PROTO_REPORT_END, "report_end", {
		[PROTO_REPORT_END_COUNT] = U64("count"),
		[PROTO_REPORT_END_NOW] = U64("now"),
		[PROTO_REPORT_END_MAX_AGE_DAYS] = U64("max_age_days"),
		[PROTO_REPORT_END_WARN_DAYS] = U64("warn_days"),
		[PROTO_REPORT_END_HISTORY] = U64("history") } },
	{ PROTO_SECRETS, "secrets", { { 0, 0, NULL } } },
	{ PROTO_MAY_CHANGE, "may_change", {
		[PROTO_MAY_CHANGE_USER] = USER("user"),
		[PROTO_MAY_CHANGE_FLAGS] = U64("flags"),
		[PROTO_MAY_CHANGE_MIN_AGE_DAYS] = U64("min_age_days") } },
	{ PROTO_LOGIN, "login", {
		[PROTO_LOGIN_USER] = USER("user"),
		[PROTO_LOGIN_MAX_AGE_DAYS] = U64("max_age_days"),
		[PROTO_LOGIN_WARN_DAYS] = U64("warn_days"),
		[PROTO_LOGIN_INACTIVE_DAYS] = U64("inactive_days") } },
	{ PROTO_REVIEW, "review", { { 0, 0, NULL } } },
	{ PROTO_BREACHED, "breached", {
		[PROTO_BREACHED_USER] = USER("user"),
		[PROTO_BREACHED_SERVICE] = STR("service"),
		[PROTO_BREACHED_RHOST] = STR("rhost"),
		[PROTO_BREACHED_TTY] = STR("tty") } },
	{ PROTO_FLEET, "fleet", { { 0, 0, NULL } } },
	{ PROTO_FLEET_REPORT, "fleet_report", { { 0, 0, NULL } } },
	{ PROTO_FLEET_REPLY, "fleet_reply", {
		[PROTO_FLEET_REPLY_BACKEND] = NONEMPTY("backend"),
		[PROTO_FLEET_REPLY_HOST] = STR("host"),
		[PROTO_FLEET_REPLY_DEGRADED_SINCE] = U64("degraded_since"),
		[PROTO_FLEET_REPLY_REASON] = STR("reason"),
		[PROTO_FLEET_REPLY_REPLICA_SEQ] = U64("replica_seq"),
		[PROTO_FLEET_REPLY_OUTBOX] = U64("outbox") } },
	{ PROTO_FLEET_LOGIN, "fleet_login", {
		[PROTO_FLEET_LOGIN_USER] = NONEMPTY("user"),
		[PROTO_FLEET_LOGIN_HOST] = NONEMPTY("host"),
		[PROTO_FLEET_LOGIN_WHEN] = U64("when") } },
	{ PROTO_REVIEW_ROW, "review_row", {
		[PROTO_REVIEW_ROW_USER] = NONEMPTY("user"),
		[PROTO_REVIEW_ROW_UID] = U64("uid"),
		[PROTO_REVIEW_ROW_STATE] = U64("state"),
		[PROTO_REVIEW_ROW_FIRST_SEEN] = U64("first_seen"),
		[PROTO_REVIEW_ROW_LAST_CHANGE] = U64("last_change"),
		[PROTO_REVIEW_ROW_LAST_LOGIN] = U64("last_login"),
		[PROTO_REVIEW_ROW_FLAGS] = U64("flags"),
		[PROTO_REVIEW_ROW_EXEMPTION] = U64("exemption"),
		[PROTO_REVIEW_ROW_EXEMPT_GROUP] = STR("exempt_group"),
		[PROTO_REVIEW_ROW_GROUPS] = STR("groups") } },
	{ PROTO_REVIEW_END, "review_end", {
		[PROTO_REVIEW_END_COUNT] = U64("count"),
		[PROTO_REVIEW_END_NOW] = U64("now"),
		[PROTO_REVIEW_END_HOST] = STR("host"),
		[PROTO_REVIEW_END_POLICY] = STR("policy") } },
};

/* The daemon answers a LOGIN with the STATUS code: the fields line up. */
_Static_assert((int)PROTO_LOGIN_USER == (int)PROTO_STATUS_USER &&
	       (int)PROTO_LOGIN_MAX_AGE_DAYS == (int)PROTO_STATUS_MAX_AGE_DAYS &&
	       (int)PROTO_LOGIN_WARN_DAYS == (int)PROTO_STATUS_WARN_DAYS,
	       "PROTO_LOGIN starts with PROTO_STATUS's fields");

#undef STR
#undef NONEMPTY
#undef SECRET
#undef U64
#undef USER
#undef OPT_USER

static const char *const proto_status_names[PROTO_STATUS_COUNT] = {
	[PROTO_OK] = "ok",
	[PROTO_REUSED] = "reused",
	[PROTO_TOO_SOON] = "too_soon",
	[PROTO_DENIED] = "denied",
	[PROTO_BAD_REQUEST] = "bad_request",
	[PROTO_NOT_FOUND] = "not_found",
	[PROTO_INTERNAL] = "internal",
	[PROTO_BUSY] = "busy",
};

static const struct msg_schema *schema_find(unsigned type)
{
	for (size_t i = 0; i < sizeof(proto_schemas) / sizeof(proto_schemas[0]); i++)
		if ((unsigned)proto_schemas[i].type == type)
			return &proto_schemas[i];
	return NULL;
}

static unsigned schema_nfields(const struct msg_schema *s)
{
	unsigned n = 0;
	while (n < PROTO_MAX_FIELDS && s->f[n].kind != 0)
		n++;
	return n;
}

/* Whether one string value is acceptable for field schema fs. */
static pp_err str_check(const struct field_schema *fs, const char *s, size_t len)
{
	if (len > PROTO_MAX_STR)
		return PP_ERR_TOO_LONG;
	if (len > 0 && memchr(s, '\0', len) != NULL)
		return PP_ERR_INVALID;
	if (len == 0 && (fs->flags & FIELD_NONEMPTY))
		return PP_ERR_INVALID;
	if ((fs->flags & FIELD_NAME) && !utf8_valid_text(s, len))
		return PP_ERR_INVALID;
	return PP_OK;
}

/* The whole message against its schema; PP_ERR_INVALID/TOO_LONG. */
static pp_err schema_check(const struct proto_msg *m)
{
	const struct msg_schema *s = schema_find((unsigned)m->type);
	if (s == NULL || m->nfields != schema_nfields(s))
		return PP_ERR_INVALID;
	for (unsigned i = 0; i < m->nfields; i++) {
		const struct proto_field *f = &m->f[i];
		if (f->kind != s->f[i].kind)
			return PP_ERR_INVALID;
		if (f->kind == PROTO_KIND_STR) {
			if (f->str == NULL && f->len != 0)
				return PP_ERR_INVALID;
			pp_err e = str_check(&s->f[i], f->str, f->len);
			if (e != PP_OK)
				return e;
		}
	}
	return PP_OK;
}

const char *proto_type_name(unsigned type)
{
	const struct msg_schema *s = schema_find(type);
	return s ? s->name : "unknown";
}

const char *proto_status_name(uint64_t status)
{
	if (status >= PROTO_STATUS_COUNT || proto_status_names[status] == NULL)
		return "unknown";
	return proto_status_names[status];
}

bool proto_is_request(unsigned type)
{
	return schema_find(type) != NULL && type < PROTO_REPLY;
}

bool proto_is_reply(unsigned type)
{
	return schema_find(type) != NULL && type >= PROTO_REPLY;
}

/* ---- building ---- */

void proto_msg_init(struct proto_msg *m, enum proto_type type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
}

/* The schema of the next field of m, or NULL with *err set. */
static const struct field_schema *next_field(const struct proto_msg *m,
					     uint8_t kind, pp_err *err)
{
	const struct msg_schema *s = schema_find((unsigned)m->type);
	*err = PP_ERR_INVALID;
	if (s == NULL)
		return NULL;
	if (m->nfields >= PROTO_MAX_FIELDS) {
		*err = PP_ERR_TOO_LONG;
		return NULL;
	}
	if (s->f[m->nfields].kind != kind)
		return NULL;
	*err = PP_OK;
	return &s->f[m->nfields];
}

pp_err proto_add_str(struct proto_msg *m, const char *s, size_t len)
{
	pp_err err;
	const struct field_schema *fs = next_field(m, PROTO_KIND_STR, &err);
	if (fs == NULL)
		return err;
	if (s == NULL) {
		if (len != 0)
			return PP_ERR_INVALID;
		s = "";
	}
	err = str_check(fs, s, len);
	if (err != PP_OK)
		return err;
	struct proto_field *f = &m->f[m->nfields++];
	f->kind = PROTO_KIND_STR;
	f->str = s;
	f->len = len;
	f->u64 = 0;
	return PP_OK;
}

pp_err proto_add_cstr(struct proto_msg *m, const char *s)
{
	if (s == NULL)
		return PP_ERR_INVALID;
	return proto_add_str(m, s, strlen(s));
}

pp_err proto_add_u64(struct proto_msg *m, uint64_t v)
{
	pp_err err;
	if (next_field(m, PROTO_KIND_U64, &err) == NULL)
		return err;
	struct proto_field *f = &m->f[m->nfields++];
	f->kind = PROTO_KIND_U64;
	f->str = NULL;
	f->len = 0;
	f->u64 = v;
	return PP_OK;
}

/* ---- encoding ---- */

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static size_t encoded_size(const struct proto_msg *m)
{
	size_t n = 3;
	for (unsigned i = 0; i < m->nfields; i++)
		n += m->f[i].kind == PROTO_KIND_STR ? 3 + m->f[i].len : 9;
	return n;
}

pp_err proto_encode(const struct proto_msg *m, uint8_t *buf, size_t cap,
		    size_t *len)
{
	pp_err err = schema_check(m);
	if (err != PP_OK)
		return err == PP_ERR_TOO_LONG ? PP_ERR_INVALID : err;
	size_t need = encoded_size(m);
	/* Cannot happen with today's schemas (at most 6 strings of 1 KiB). */
	if (need > PROTO_MAX_FRAME)
		return PP_ERR_INVALID;
	if (need > cap)
		return PP_ERR_TOO_LONG;

	uint8_t *p = buf;
	*p++ = PROTO_VERSION;
	*p++ = (uint8_t)m->type;
	*p++ = (uint8_t)m->nfields;
	for (unsigned i = 0; i < m->nfields; i++) {
		const struct proto_field *f = &m->f[i];
		*p++ = f->kind;
		if (f->kind == PROTO_KIND_STR) {
			put_u16(p, (uint16_t)f->len);
			p += 2;
			if (f->len > 0)
				memcpy(p, f->str, f->len);
			p += f->len;
		} else {
			put_u64(p, f->u64);
			p += 8;
		}
	}
	*len = (size_t)(p - buf);
	return PP_OK;
}

/* ---- decoding ---- */

/*
 * Parse the layout first (every kind byte decides how many bytes follow),
 * then hold the result against the schema with the same check the encoder
 * uses, so that the two directions accept exactly the same messages.
 */
static pp_err decode_fields(const uint8_t *body, size_t len, struct proto_msg *m)
{
	if (len > PROTO_MAX_FRAME)
		return PP_ERR_TOO_LONG;
	if (len < 3 || body[0] != PROTO_VERSION)
		return PP_ERR_PROTOCOL;
	m->type = (enum proto_type)body[1];
	unsigned count = body[2];
	if (count > PROTO_MAX_FIELDS || schema_find(body[1]) == NULL)
		return PP_ERR_PROTOCOL;

	size_t pos = 3;
	for (unsigned i = 0; i < count; i++) {
		struct proto_field *f = &m->f[i];
		if (pos >= len)
			return PP_ERR_PROTOCOL;
		f->kind = body[pos++];
		if (f->kind == PROTO_KIND_STR) {
			if (len - pos < 2)
				return PP_ERR_PROTOCOL;
			size_t slen = get_u16(body + pos);
			pos += 2;
			if (slen > PROTO_MAX_STR)
				return PP_ERR_TOO_LONG;
			if (len - pos < slen)
				return PP_ERR_PROTOCOL;
			f->str = (const char *)body + pos;
			f->len = slen;
			pos += slen;
		} else if (f->kind == PROTO_KIND_U64) {
			if (len - pos < 8)
				return PP_ERR_PROTOCOL;
			f->u64 = get_u64(body + pos);
			pos += 8;
		} else {
			return PP_ERR_PROTOCOL;
		}
	}
	if (pos != len)
		return PP_ERR_PROTOCOL;
	m->nfields = count;

	pp_err err = schema_check(m);
	if (err == PP_ERR_INVALID)
		return PP_ERR_PROTOCOL;
	return err;
}

pp_err proto_decode(const uint8_t *body, size_t len, struct proto_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (body == NULL && len != 0)
		return PP_ERR_PROTOCOL;
	pp_err err = decode_fields(body, len, m);
	if (err != PP_OK)
		memset(m, 0, sizeof(*m));
	return err;
}

pp_err proto_copy_str(const struct proto_msg *m, unsigned idx, char *out,
		      size_t cap)
{
	if (idx >= m->nfields || m->f[idx].kind != PROTO_KIND_STR)
		return PP_ERR_INVALID;
	size_t len = m->f[idx].len;
	if (cap == 0 || len >= cap)
		return PP_ERR_TOO_LONG;
	if (len > 0)
		memcpy(out, m->f[idx].str, len);
	out[len] = '\0';
	return PP_OK;
}

/* ---- describing, for logs ---- */

struct text {
	char *buf;
	size_t cap;
	size_t used;
};

static void text_add(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
	if (t->used + 1 >= t->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(t->buf + t->used, t->cap - t->used, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	t->used += (size_t)n;
	if (t->used >= t->cap)
		t->used = t->cap - 1;
}

void proto_describe(const struct proto_msg *m, char *buf, size_t cap)
{
	if (cap == 0)
		return;
	buf[0] = '\0';
	struct text t = { buf, cap, 0 };
	const struct msg_schema *s = schema_find((unsigned)m->type);
	text_add(&t, "%s", s ? s->name : "unknown");
	for (unsigned i = 0; i < m->nfields && i < PROTO_MAX_FIELDS; i++) {
		const struct proto_field *f = &m->f[i];
		const struct field_schema *fs = s && i < PROTO_MAX_FIELDS &&
			s->f[i].kind ? &s->f[i] : NULL;
		text_add(&t, " %s=", fs ? fs->name : "?");
		if (f->kind == PROTO_KIND_U64) {
			text_add(&t, "%llu", (unsigned long long)f->u64);
		} else if (fs == NULL || (fs->flags & FIELD_SECRET)) {
			/* Unknown position: could be anything, show no bytes. */
			text_add(&t, "<secret %zu bytes>", f->len);
		} else {
			text_add(&t, "\"");
			for (size_t j = 0; j < f->len; j++) {
				unsigned char c = (unsigned char)f->str[j];
				if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
					text_add(&t, "%c", c);
				else
					text_add(&t, "\\x%02x", c);
			}
			text_add(&t, "\"");
		}
	}
}

/* ---- frame I/O ---- */

static int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t proto_deadline_after(int timeout_ms)
{
	if (timeout_ms < 0)
		return PROTO_NO_DEADLINE;
	return monotonic_ms() + timeout_ms;
}

/* Wait until fd is ready for events or the deadline passes. */
static pp_err wait_ready(int fd, short events, int64_t deadline)
{
	for (;;) {
		int timeout = -1;
		if (deadline != PROTO_NO_DEADLINE) {
			int64_t left = deadline - monotonic_ms();
			if (left <= 0)
				return PP_ERR_TIMEOUT;
			timeout = left > INT_MAX ? INT_MAX : (int)left;
		}
		struct pollfd p = { .fd = fd, .events = events };
		int n = poll(&p, 1, timeout);
		if (n > 0) {
			if (p.revents & POLLNVAL) {
				errno = EBADF;
				return PP_ERR_IO;
			}
			/* POLLHUP/POLLERR: the next send/recv reports it. */
			return PP_OK;
		}
		if (n < 0 && errno != EINTR)
			return PP_ERR_IO;
	}
}

pp_err proto_frame_write(int fd, const uint8_t *body, size_t len,
			 int64_t deadline)
{
	if (len > PROTO_MAX_FRAME)
		return PP_ERR_TOO_LONG;
	if (body == NULL && len != 0)
		return PP_ERR_INVALID;
	uint8_t hdr[PROTO_HEADER_SIZE];
	put_u32(hdr, (uint32_t)len);
	struct iovec iov[2] = {
		{ .iov_base = hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)body, .iov_len = len },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };

	while (mh.msg_iovlen > 0) {
		ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				pp_err err = wait_ready(fd, POLLOUT, deadline);
				if (err != PP_OK)
					return err;
				continue;
			}
			if (errno == EPIPE || errno == ECONNRESET)
				return PP_ERR_UNREACHABLE;
			return PP_ERR_IO;
		}
		size_t done = (size_t)n;
		while (mh.msg_iovlen > 0 && done >= mh.msg_iov[0].iov_len) {
			done -= mh.msg_iov[0].iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen > 0) {
			mh.msg_iov[0].iov_base = (uint8_t *)mh.msg_iov[0].iov_base + done;
			mh.msg_iov[0].iov_len -= done;
		}
	}
	return PP_OK;
}

pp_err proto_send(int fd, const struct proto_msg *m, int64_t deadline)
{
	uint8_t body[PROTO_MAX_FRAME];
	size_t len = 0;
	pp_err err = proto_encode(m, body, sizeof(body), &len);
	if (err == PP_OK)
		err = proto_frame_write(fd, body, len, deadline);
	pp_wipe(body, sizeof(body));
	return err;
}

/*
 * Read exactly n bytes. *got counts what arrived, so that the caller can
 * tell a clean end of stream (nothing of the frame read) from a cut frame.
 */
static pp_err read_exact(int fd, uint8_t *p, size_t n, int64_t deadline,
			 size_t *got, bool *eof)
{
	*got = 0;
	*eof = false;
	while (*got < n) {
		ssize_t r = recv(fd, p + *got, n - *got, MSG_DONTWAIT);
		if (r > 0) {
			*got += (size_t)r;
			continue;
		}
		if (r == 0) {
			*eof = true;
			return PP_ERR_UNREACHABLE;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			pp_err err = wait_ready(fd, POLLIN, deadline);
			if (err != PP_OK)
				return err;
			continue;
		}
		/* A peer that closes with our data unread resets instead. */
		if (errno == ECONNRESET) {
			*eof = true;
			return PP_ERR_UNREACHABLE;
		}
		return PP_ERR_IO;
	}
	return PP_OK;
}

pp_err proto_frame_read(int fd, uint8_t *buf, size_t cap, size_t *len,
			int64_t deadline)
{
	uint8_t hdr[PROTO_HEADER_SIZE];
	size_t got;
	bool eof;

	*len = 0;
	pp_err err = read_exact(fd, hdr, sizeof(hdr), deadline, &got, &eof);
	if (err != PP_OK)
		return eof && got > 0 ? PP_ERR_PROTOCOL : err;
	uint32_t n = get_u32(hdr);
	if (n > PROTO_MAX_FRAME || n > cap)
		return PP_ERR_TOO_LONG;
	if (n == 0)
		return PP_OK;
	err = read_exact(fd, buf, n, deadline, &got, &eof);
	if (err != PP_OK)
		return eof ? PP_ERR_PROTOCOL : err;
	*len = n;
	return PP_OK;
}
