/*
 * test_proto.c - the wire protocol (lib/proto.c) and the client side
 * (lib/client.c): round trips, strict rejection of malformed bodies, and
 * connection behaviour against peers in threads that answer, stay silent,
 * hang up or cut a frame short; user names refused at the protocol, and
 * the CLI report escaping the names it prints. Waiting is done with poll
 * deadlines only.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "client.h"
#include "harness.h"
#include "proto.h"
#include "report.h"

/* ---- helpers ---- */

/* The schema as the spec states it, independent of proto.c's table. */
static const struct {
	unsigned type;
	const char *name;
	const char *kinds;      /* S = string, U = u64 */
} spec[] = {
	{ PROTO_PING, "ping", "" },
	{ PROTO_CHECK, "check", "SSUUU" },
	{ PROTO_RECORD, "record", "SSUSUSS" },
	{ PROTO_STATUS, "status", "SUU" },
	{ PROTO_EXPIRE, "expire", "S" },
	{ PROTO_FORGET, "forget", "S" },
	{ PROTO_EVENT, "event", "SSSSSSU" },
	{ PROTO_REPORT, "report", "" },
	{ PROTO_BACKUP, "backup", "S" },
	{ PROTO_REOPEN, "reopen", "" },
	{ PROTO_REPLY, "reply", "UUS" },
	{ PROTO_STATUS_REPLY, "status_reply", "UUUUUUUUUU" },
	{ PROTO_REPORT_ROW, "report_row", "SUUUUUUUU" },
	{ PROTO_REPORT_END, "report_end", "UUUUU" },
	{ PROTO_SECRETS, "secrets", "" },
	{ PROTO_MAY_CHANGE, "may_change", "SUU" },
	{ PROTO_LOGIN, "login", "SUUU" },
	{ PROTO_REVIEW, "review", "" },
	{ PROTO_REVIEW_ROW, "review_row", "SUUUUUUUSS" },
	{ PROTO_REVIEW_END, "review_end", "UUSS" },
	{ PROTO_BREACHED, "breached", "SSSS" },
	{ PROTO_FLEET, "fleet", "" },
	{ PROTO_FLEET_REPORT, "fleet_report", "" },
	{ PROTO_FLEET_REPLY, "fleet_reply", "SSUSUU" },
	{ PROTO_FLEET_LOGIN, "fleet_login", "SSU" },
};
#define NSPEC (sizeof(spec) / sizeof(spec[0]))

static const char *const sample_str[] = {
	"alice", "S3cret pass\xc3\xa9!", "passwd", "host.example", "pts/0",
	"too_short,no_digit", "x",
};

/* Fill m per kinds with distinct values: strings from sample_str, u64s. */
static void fill(struct proto_msg *m, unsigned type, const char *kinds)
{
	proto_msg_init(m, (enum proto_type)type);
	for (unsigned i = 0; kinds[i]; i++) {
		if (kinds[i] == 'S')
			ck_assert_int_eq(proto_add_cstr(m, sample_str[i % 7]), PP_OK);
		else
			ck_assert_int_eq(proto_add_u64(m, UINT64_C(0x0123456789abcdef) *
						      (i + 1) + i), PP_OK);
	}
}

/* A byte builder for hand-made (often malformed) bodies. */
struct raw {
	uint8_t b[PROTO_MAX_FRAME + 64];
	size_t n;
};

static void raw_u8(struct raw *r, unsigned v)
{
	r->b[r->n++] = (uint8_t)v;
}

static void raw_u16(struct raw *r, unsigned v)
{
	raw_u8(r, v >> 8);
	raw_u8(r, v & 0xff);
}

static void raw_u64(struct raw *r, uint64_t v)
{
	raw_u8(r, PROTO_KIND_U64);
	for (int i = 7; i >= 0; i--)
		raw_u8(r, (unsigned)(v >> (8 * i)) & 0xff);
}

static void raw_str(struct raw *r, const char *s, size_t len)
{
	raw_u8(r, PROTO_KIND_STR);
	raw_u16(r, (unsigned)len);
	memcpy(r->b + r->n, s, len);
	r->n += len;
}

static void raw_head(struct raw *r, unsigned version, unsigned type,
		     unsigned count)
{
	r->n = 0;
	raw_u8(r, version);
	raw_u8(r, type);
	raw_u8(r, count);
}

/* A valid EXPIRE body for user, the base for many rejection cases. */
static void raw_expire(struct raw *r, const char *user)
{
	raw_head(r, PROTO_VERSION, PROTO_EXPIRE, 1);
	raw_str(r, user, strlen(user));
}

static pp_err decode_raw(const struct raw *r)
{
	struct proto_msg m;
	pp_err err = proto_decode(r->b, r->n, &m);
	if (err != PP_OK)
		ck_assert_uint_eq(m.nfields, 0);
	return err;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- proto: round trips ---- */

START_TEST(test_roundtrip_every_type)
{
	for (size_t t = 0; t < NSPEC; t++) {
		struct proto_msg m, d;
		uint8_t buf[PROTO_MAX_FRAME], again[PROTO_MAX_FRAME];
		size_t len, len2;

		fill(&m, spec[t].type, spec[t].kinds);
		ck_assert_uint_eq(m.nfields, strlen(spec[t].kinds));
		ck_assert_int_eq(proto_encode(&m, buf, sizeof(buf), &len), PP_OK);
		ck_assert_int_eq(proto_decode(buf, len, &d), PP_OK);
		ck_assert_int_eq(d.type, spec[t].type);
		ck_assert_uint_eq(d.nfields, m.nfields);
		for (unsigned i = 0; i < m.nfields; i++) {
			ck_assert_uint_eq(d.f[i].kind, m.f[i].kind);
			if (m.f[i].kind == PROTO_KIND_STR) {
				ck_assert_uint_eq(d.f[i].len, m.f[i].len);
				ck_assert(memcmp(d.f[i].str, m.f[i].str, m.f[i].len) == 0);
				/* zero copy: the string lies inside buf */
				ck_assert((const uint8_t *)d.f[i].str >= buf &&
					  (const uint8_t *)d.f[i].str < buf + len);
			} else {
				ck_assert(d.f[i].u64 == m.f[i].u64);
			}
		}
		ck_assert_int_eq(proto_encode(&d, again, sizeof(again), &len2), PP_OK);
		ck_assert_uint_eq(len2, len);
		ck_assert(memcmp(again, buf, len) == 0);
		ck_assert_str_eq(proto_type_name(spec[t].type), spec[t].name);
		ck_assert(proto_is_request(spec[t].type) != proto_is_reply(spec[t].type));
	}
}
END_TEST

START_TEST(test_roundtrip_wire_layout)
{
	/* CHECK alice/"pw"/flags=1/history=24/min_age=1, byte by byte. */
	struct proto_msg m;
	uint8_t buf[128];
	size_t len;
	static const uint8_t want[] = {
		1, PROTO_CHECK, 5,
		1, 0, 5, 'a', 'l', 'i', 'c', 'e',
		1, 0, 2, 'p', 'w',
		2, 0, 0, 0, 0, 0, 0, 0, 1,
		2, 0, 0, 0, 0, 0, 0, 0, 24,
		2, 0, 0, 0, 0, 0, 0, 0, 1,
	};
	proto_msg_init(&m, PROTO_CHECK);
	ck_assert_int_eq(proto_add_cstr(&m, "alice"), PP_OK);
	ck_assert_int_eq(proto_add_str(&m, "pwXX", 2), PP_OK);
	ck_assert_int_eq(proto_add_u64(&m, PROTO_CHECK_ROOT_FOR_OTHER), PP_OK);
	ck_assert_int_eq(proto_add_u64(&m, 24), PP_OK);
	ck_assert_int_eq(proto_add_u64(&m, 1), PP_OK);
	ck_assert_int_eq(proto_encode(&m, buf, sizeof(buf), &len), PP_OK);
	ck_assert_uint_eq(len, sizeof(want));
	ck_assert(memcmp(buf, want, len) == 0);
}
END_TEST

START_TEST(test_roundtrip_limits)
{
	/* Six strings of the maximum length, u64 extremes, empty strings. */
	static char big[PROTO_MAX_STR];
	struct proto_msg m, d;
	uint8_t buf[PROTO_MAX_FRAME];
	size_t len;

	memset(big, 'a', sizeof(big));
	proto_msg_init(&m, PROTO_EVENT);
	for (int i = 0; i < 6; i++)
		ck_assert_int_eq(proto_add_str(&m, big, sizeof(big)), PP_OK);
	ck_assert_int_eq(proto_add_u64(&m, UINT64_MAX), PP_OK);
	ck_assert_int_eq(proto_encode(&m, buf, sizeof(buf), &len), PP_OK);
	ck_assert_uint_le(len, PROTO_MAX_FRAME);
	ck_assert_int_eq(proto_decode(buf, len, &d), PP_OK);
	ck_assert(d.f[PROTO_EVENT_FLAGS].u64 == UINT64_MAX);
	ck_assert_uint_eq(d.f[PROTO_EVENT_TTY].len, PROTO_MAX_STR);

	/* Optional strings may be empty; a NULL pointer with length 0 too. */
	proto_msg_init(&m, PROTO_REPLY);
	ck_assert_int_eq(proto_add_u64(&m, PROTO_OK), PP_OK);
	ck_assert_int_eq(proto_add_u64(&m, 0), PP_OK);
	ck_assert_int_eq(proto_add_str(&m, NULL, 0), PP_OK);
	ck_assert_int_eq(proto_encode(&m, buf, sizeof(buf), &len), PP_OK);
	ck_assert_int_eq(proto_decode(buf, len, &d), PP_OK);
	ck_assert_uint_eq(d.f[PROTO_REPLY_TEXT].len, 0);
	ck_assert_ptr_nonnull(d.f[PROTO_REPLY_TEXT].str);
}
END_TEST

/* ---- proto: building errors ---- */

START_TEST(test_build_errors)
{
	static char big[PROTO_MAX_STR + 1];
	struct proto_msg m;
	uint8_t buf[PROTO_MAX_FRAME];
	size_t len;

	memset(big, 'b', sizeof(big));
	proto_msg_init(&m, PROTO_CHECK);
	/* wrong kind at this position */
	ck_assert_int_eq(proto_add_u64(&m, 1), PP_ERR_INVALID);
	/* empty user name */
	ck_assert_int_eq(proto_add_str(&m, "", 0), PP_ERR_INVALID);
	ck_assert_int_eq(proto_add_cstr(&m, NULL), PP_ERR_INVALID);
	ck_assert_int_eq(proto_add_str(&m, NULL, 3), PP_ERR_INVALID);
	ck_assert_int_eq(proto_add_str(&m, "al\0ce", 5), PP_ERR_INVALID);
	ck_assert_int_eq(proto_add_str(&m, big, sizeof(big)), PP_ERR_TOO_LONG);
	ck_assert_uint_eq(m.nfields, 0);
	ck_assert_int_eq(proto_add_cstr(&m, "alice"), PP_OK);
	/* a password over the maximum */
	ck_assert_int_eq(proto_add_str(&m, big, sizeof(big)), PP_ERR_TOO_LONG);
	ck_assert_int_eq(proto_add_str(&m, big, PROTO_MAX_STR), PP_OK);
	/* incomplete message */
	ck_assert_int_eq(proto_encode(&m, buf, sizeof(buf), &len), PP_ERR_INVALID);
	ck_assert_int_eq(proto_add_u64(&m, 0), PP_OK);
	ck_assert_int_eq(proto_add_u64(&m, 24), PP_OK);
	ck_assert_int_eq(proto_add_u64(&m, 1), PP_OK);
	/* too many fields */
	ck_assert_int_eq(proto_add_u64(&m, 1), PP_ERR_INVALID);
	ck_assert_int_eq(proto_add_cstr(&m, "x"), PP_ERR_INVALID);
	/* buffer too small */
	ck_assert_int_eq(proto_encode(&m, buf, 10, &len), PP_ERR_TOO_LONG);
	ck_assert_int_eq(proto_encode(&m, buf, sizeof(buf), &len), PP_OK);

	/* unknown type */
	proto_msg_init(&m, (enum proto_type)200);
	ck_assert_int_eq(proto_add_cstr(&m, "x"), PP_ERR_INVALID);
	ck_assert_int_eq(proto_encode(&m, buf, sizeof(buf), &len), PP_ERR_INVALID);

	/* a hand-edited message that no longer matches its schema */
	fill(&m, PROTO_STATUS, "SUU");
	m.f[PROTO_STATUS_USER].len = 0;
	ck_assert_int_eq(proto_encode(&m, buf, sizeof(buf), &len), PP_ERR_INVALID);
	fill(&m, PROTO_STATUS, "SUU");
	m.f[1].kind = PROTO_KIND_STR;
	ck_assert_int_eq(proto_encode(&m, buf, sizeof(buf), &len), PP_ERR_INVALID);
}
END_TEST

/* ---- proto: strict decoding ---- */

START_TEST(test_reject_truncated)
{
	struct proto_msg m;
	uint8_t buf[PROTO_MAX_FRAME];
	size_t len;

	for (size_t t = 0; t < NSPEC; t++) {
		fill(&m, spec[t].type, spec[t].kinds);
		ck_assert_int_eq(proto_encode(&m, buf, sizeof(buf), &len), PP_OK);
		for (size_t cut = 0; cut < len; cut++)
			ck_assert_int_eq(proto_decode(buf, cut, &m), PP_ERR_PROTOCOL);
	}
	ck_assert_int_eq(proto_decode(NULL, 0, &m), PP_ERR_PROTOCOL);
}
END_TEST

START_TEST(test_reject_trailing_byte)
{
	struct proto_msg m;
	uint8_t buf[PROTO_MAX_FRAME];
	size_t len;

	for (size_t t = 0; t < NSPEC; t++) {
		fill(&m, spec[t].type, spec[t].kinds);
		ck_assert_int_eq(proto_encode(&m, buf, sizeof(buf) - 1, &len), PP_OK);
		buf[len] = 0;
		ck_assert_int_eq(proto_decode(buf, len + 1, &m), PP_ERR_PROTOCOL);
	}
}
END_TEST

START_TEST(test_reject_unknown_type_and_version)
{
	struct raw r;
	raw_expire(&r, "alice");
	ck_assert_int_eq(decode_raw(&r), PP_OK);

	for (unsigned v = 0; v < 256; v++) {
		r.b[0] = (uint8_t)v;
		ck_assert_int_eq(decode_raw(&r),
				 v == PROTO_VERSION ? PP_OK : PP_ERR_PROTOCOL);
	}
	r.b[0] = PROTO_VERSION;

	/* Every type number that is not in the spec is refused. */
	raw_head(&r, PROTO_VERSION, 0, 0);
	for (unsigned t = 0; t < 256; t++) {
		bool known = false;
		for (size_t i = 0; i < NSPEC; i++)
			known |= spec[i].type == t;
		r.b[1] = (uint8_t)t;
		if (!known) {
			ck_assert_int_eq(decode_raw(&r), PP_ERR_PROTOCOL);
			ck_assert_str_eq(proto_type_name(t), "unknown");
			ck_assert(!proto_is_request(t) && !proto_is_reply(t));
		}
	}
}
END_TEST

START_TEST(test_reject_wrong_count_and_kind)
{
	struct raw r;

	/* PING has no fields */
	raw_head(&r, PROTO_VERSION, PROTO_PING, 0);
	ck_assert_int_eq(decode_raw(&r), PP_OK);
	raw_head(&r, PROTO_VERSION, PROTO_PING, 1);
	raw_u64(&r, 1);
	ck_assert_int_eq(decode_raw(&r), PP_ERR_PROTOCOL);

	/* STATUS {user, u64, u64}: one field short, one too many */
	raw_head(&r, PROTO_VERSION, PROTO_STATUS, 2);
	raw_str(&r, "alice", 5);
	raw_u64(&r, 90);
	ck_assert_int_eq(decode_raw(&r), PP_ERR_PROTOCOL);
	raw_head(&r, PROTO_VERSION, PROTO_STATUS, 4);
	raw_str(&r, "alice", 5);
	raw_u64(&r, 90);
	raw_u64(&r, 14);
	raw_u64(&r, 0);
	ck_assert_int_eq(decode_raw(&r), PP_ERR_PROTOCOL);
	/* a count that disagrees with the fields present */
	raw_head(&r, PROTO_VERSION, PROTO_STATUS, 2);
	raw_str(&r, "alice", 5);
	raw_u64(&r, 90);
	raw_u64(&r, 14);
	ck_assert_int_eq(decode_raw(&r), PP_ERR_PROTOCOL);
	r.b[2] = 3;
	ck_assert_int_eq(decode_raw(&r), PP_OK);
	/* more fields than PROTO_MAX_FIELDS */
	r.b[2] = PROTO_MAX_FIELDS + 1;
	ck_assert_int_eq(decode_raw(&r), PP_ERR_PROTOCOL);
	r.b[2] = 255;
	ck_assert_int_eq(decode_raw(&r), PP_ERR_PROTOCOL);

	/* wrong kinds: u64 where the user goes, string where a u64 goes */
	raw_head(&r, PROTO_VERSION, PROTO_STATUS, 3);
	raw_u64(&r, 7);
	raw_u64(&r, 90);
	raw_u64(&r, 14);
	ck_assert_int_eq(decode_raw(&r), PP_ERR_PROTOCOL);
	raw_head(&r, PROTO_VERSION, PROTO_STATUS, 3);
	raw_str(&r, "alice", 5);
	raw_str(&r, "90", 2);
	raw_u64(&r, 14);
	ck_assert_int_eq(decode_raw(&r), PP_ERR_PROTOCOL);
	/* unknown field kinds */
	for (unsigned k = 0; k < 256; k++) {
		if (k == PROTO_KIND_STR)
			continue;
		raw_head(&r, PROTO_VERSION, PROTO_EXPIRE, 1);
		raw_str(&r, "alice", 5);
		r.b[3] = (uint8_t)k;
		ck_assert_int_eq(decode_raw(&r), PP_ERR_PROTOCOL);
	}
}
END_TEST

START_TEST(test_reject_bad_strings)
{
	static char big[PROTO_MAX_STR + 1];
	struct raw r;

	/* NUL inside a string, anywhere */
	raw_head(&r, PROTO_VERSION, PROTO_EXPIRE, 1);
	raw_str(&r, "al\0ce", 5);
	ck_assert_int_eq(decode_raw(&r), PP_ERR_PROTOCOL);
	raw_head(&r, PROTO_VERSION, PROTO_EXPIRE, 1);
	raw_str(&r, "alice\0", 6);
	ck_assert_int_eq(decode_raw(&r), PP_ERR_PROTOCOL);
	raw_head(&r, PROTO_VERSION, PROTO_REPLY, 3);
	raw_u64(&r, 0);
	raw_u64(&r, 0);
	raw_str(&r, "\0", 1);
	ck_assert_int_eq(decode_raw(&r), PP_ERR_PROTOCOL);

	/* zero-length user name; an empty optional string is fine */
	raw_expire(&r, "");
	ck_assert_int_eq(decode_raw(&r), PP_ERR_PROTOCOL);
	raw_head(&r, PROTO_VERSION, PROTO_REPLY, 3);
	raw_u64(&r, 0);
	raw_u64(&r, 0);
	raw_str(&r, "", 0);
	ck_assert_int_eq(decode_raw(&r), PP_OK);

	/* string longer than PROTO_MAX_STR, and exactly at it */
	memset(big, 'u', sizeof(big));
	raw_head(&r, PROTO_VERSION, PROTO_EXPIRE, 1);
	raw_str(&r, big, PROTO_MAX_STR + 1);
	ck_assert_int_eq(decode_raw(&r), PP_ERR_TOO_LONG);
	raw_head(&r, PROTO_VERSION, PROTO_EXPIRE, 1);
	raw_str(&r, big, PROTO_MAX_STR);
	ck_assert_int_eq(decode_raw(&r), PP_OK);

	/* a u16 length that runs past the end of the body */
	raw_expire(&r, "alice");
	r.b[5] = 6;
	ck_assert_int_eq(decode_raw(&r), PP_ERR_PROTOCOL);
	r.b[4] = 0xff;
	r.b[5] = 0xff;
	ck_assert_int_eq(decode_raw(&r), PP_ERR_TOO_LONG);
	r.b[4] = 0x03;
	r.b[5] = 0xff;  /* 1023: allowed length, but not there */
	ck_assert_int_eq(decode_raw(&r), PP_ERR_PROTOCOL);
	/* the length itself cut in half */
	raw_head(&r, PROTO_VERSION, PROTO_EXPIRE, 1);
	raw_u8(&r, PROTO_KIND_STR);
	raw_u8(&r, 0);
	ck_assert_int_eq(decode_raw(&r), PP_ERR_PROTOCOL);
}
END_TEST

START_TEST(test_reject_frame_too_big)
{
	static uint8_t body[PROTO_MAX_FRAME + 1];
	struct proto_msg m;
	struct raw r;

	/* a body over the maximum is refused before it is looked at */
	raw_expire(&r, "alice");
	memcpy(body, r.b, r.n);
	ck_assert_int_eq(proto_decode(body, sizeof(body), &m), PP_ERR_TOO_LONG);
	ck_assert_int_eq(proto_decode(body, r.n, &m), PP_OK);
	ck_assert_int_eq(proto_frame_write(-1, body, sizeof(body),
					   PROTO_NO_DEADLINE), PP_ERR_TOO_LONG);
}
END_TEST

START_TEST(test_copy_and_describe)
{
	struct proto_msg m;
	char user[6], small[5], text[512];

	proto_msg_init(&m, PROTO_CHECK);
	ck_assert_int_eq(proto_add_cstr(&m, "alice"), PP_OK);
	ck_assert_int_eq(proto_add_cstr(&m, "Hunter2-secret"), PP_OK);
	ck_assert_int_eq(proto_add_u64(&m, 1), PP_OK);
	ck_assert_int_eq(proto_add_u64(&m, 24), PP_OK);
	ck_assert_int_eq(proto_add_u64(&m, 1), PP_OK);

	ck_assert_int_eq(proto_copy_str(&m, PROTO_CHECK_USER, user, sizeof(user)), PP_OK);
	ck_assert_str_eq(user, "alice");
	ck_assert_int_eq(proto_copy_str(&m, PROTO_CHECK_USER, small, sizeof(small)),
			 PP_ERR_TOO_LONG);
	ck_assert_int_eq(proto_copy_str(&m, PROTO_CHECK_FLAGS, user, sizeof(user)),
			 PP_ERR_INVALID);
	ck_assert_int_eq(proto_copy_str(&m, 9, user, sizeof(user)), PP_ERR_INVALID);

	proto_describe(&m, text, sizeof(text));
	ck_assert_ptr_null(strstr(text, "Hunter2"));
	ck_assert_str_eq(text, "check user=\"alice\" password=<secret 14 bytes> "
			 "flags=1 history=24 min_age_days=1");
	proto_describe(&m, small, sizeof(small));
	ck_assert_str_eq(small, "chec");

	/* non-printable bytes are escaped (a user name cannot hold them) */
	proto_msg_init(&m, PROTO_BACKUP);
	ck_assert_int_eq(proto_add_cstr(&m, "a\"b\n"), PP_OK);
	proto_describe(&m, text, sizeof(text));
	ck_assert_str_eq(text, "backup path=\"a\\x22b\\x0a\"");

	ck_assert_str_eq(proto_status_name(PROTO_OK), "ok");
	ck_assert_str_eq(proto_status_name(PROTO_TOO_SOON), "too_soon");
	ck_assert_str_eq(proto_status_name(PROTO_STATUS_COUNT), "unknown");
	ck_assert_str_eq(proto_status_name(UINT64_MAX), "unknown");
}
END_TEST

/* ---- user names: valid UTF-8 without control characters ---- */

/* Names no request may carry: control characters (C0, DEL, C1), bad UTF-8. */
static const char *const bad_names[] = {
	"al\x1b[2Jice",     /* ESC: a terminal escape sequence */
	"alice\n",          /* LF: a forged log or CSV line */
	"al\tice",          /* TAB */
	"al\x7fice",        /* DEL */
	"al\xc2\x9bice",    /* U+009B, C1 CSI */
	"al\xffice",        /* not UTF-8 */
	"al\xc3",           /* cut sequence */
	"al\xc0\xafice",    /* overlong "/" */
	"\xed\xa0\x80",     /* a surrogate */
};
#define NBAD (sizeof(bad_names) / sizeof(bad_names[0]))

START_TEST(test_reject_bad_user_names)
{
	struct proto_msg m;
	struct raw r;

	for (size_t i = 0; i < NBAD; i++) {
		const char *name = bad_names[i];

		/* the decoder refuses them in every request's user field... */
		raw_expire(&r, name);
		ck_assert_msg(decode_raw(&r) == PP_ERR_PROTOCOL, "expire %zu", i);
		raw_head(&r, PROTO_VERSION, PROTO_STATUS, 3);
		raw_str(&r, name, strlen(name));
		raw_u64(&r, 90);
		raw_u64(&r, 14);
		ck_assert_msg(decode_raw(&r) == PP_ERR_PROTOCOL, "status %zu", i);
		raw_head(&r, PROTO_VERSION, PROTO_CHECK, 5);
		raw_str(&r, name, strlen(name));
		raw_str(&r, "Kq7!Vw3#mz", 10);
		raw_u64(&r, 0);
		raw_u64(&r, 24);
		raw_u64(&r, 1);
		ck_assert_msg(decode_raw(&r) == PP_ERR_PROTOCOL, "check %zu", i);
		raw_head(&r, PROTO_VERSION, PROTO_RECORD, 7);
		raw_str(&r, name, strlen(name));
		raw_str(&r, "Kq7!Vw3#mz", 10);
		raw_u64(&r, 24);
		raw_str(&r, "passwd", 6);
		raw_u64(&r, 0);
		raw_str(&r, "", 0);
		raw_str(&r, "", 0);
		ck_assert_msg(decode_raw(&r) == PP_ERR_PROTOCOL, "record %zu", i);
		raw_head(&r, PROTO_VERSION, PROTO_MAY_CHANGE, 3);
		raw_str(&r, name, strlen(name));
		raw_u64(&r, 0);
		raw_u64(&r, 1);
		ck_assert_msg(decode_raw(&r) == PP_ERR_PROTOCOL, "may_change %zu", i);
		raw_head(&r, PROTO_VERSION, PROTO_EVENT, 7);
		raw_str(&r, "change_rejected", 15);
		raw_str(&r, name, strlen(name));
		for (int k = 0; k < 4; k++)
			raw_str(&r, "", 0);
		raw_u64(&r, 0);
		ck_assert_msg(decode_raw(&r) == PP_ERR_PROTOCOL, "event %zu", i);

		/* ...and the encoder does not build them */
		proto_msg_init(&m, PROTO_FORGET);
		ck_assert_int_eq(proto_add_cstr(&m, name), PP_ERR_INVALID);
		ck_assert_uint_eq(m.nfields, 0);
	}

	/* Names in any script, and DOMAIN\user, are names. */
	raw_expire(&r, "j\xc3\xbcrgen");
	ck_assert_int_eq(decode_raw(&r), PP_OK);
	raw_expire(&r, "\xe5\xb1\xb1\xe7\x94\xb0");
	ck_assert_int_eq(decode_raw(&r), PP_OK);
	raw_expire(&r, "CORP\\alice");
	ck_assert_int_eq(decode_raw(&r), PP_OK);
	/* Other strings are not names: a reply's text may hold a newline. */
	raw_head(&r, PROTO_VERSION, PROTO_REPLY, 3);
	raw_u64(&r, 0);
	raw_u64(&r, 0);
	raw_str(&r, "two\nlines", 9);
	ck_assert_int_eq(decode_raw(&r), PP_OK);
	/* A report row names what NSS enumerates, as it is (the CLI escapes). */
	raw_head(&r, PROTO_VERSION, PROTO_REPORT_ROW, 9);
	raw_str(&r, "al\x1bice", 6);
	for (int k = 0; k < 8; k++)
		raw_u64(&r, 0);
	ck_assert_int_eq(decode_raw(&r), PP_OK);
}
END_TEST

/* ---- the CSV and table reports escape what they print ---- */

static char *report_text(enum report_format fmt, const char *const *users, size_t n)
{
	struct report *rep = report_new();
	struct report_info info = { .now = 1767225600, .max_age_days = 90,
				    .warn_days = 14, .history = 24 };
	struct report_filter all;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	ck_assert_ptr_nonnull(rep);
	for (size_t i = 0; i < n; i++) {
		struct report_row row = { .user = (char *)users[i], .uid_known = true,
					  .uid = 1001 + i, .state = AGING_OK,
					  .last_change = info.now - 86400,
					  .expires = info.now + 89 * 86400 };
		ck_assert_int_eq(report_add(rep, &row), PP_OK);
	}
	ck_assert_int_eq(report_finish(rep, &info), PP_OK);
	report_filter_init(&all);
	out = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(report_write(rep, &all, fmt, out), n);
	ck_assert_int_eq(fclose(out), 0);
	report_free(rep);
	return buf;
}

START_TEST(test_report_csv_escapes_names)
{
	static const char *const users[] = {
		"=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)",
		"evil\x1b[31mred", "c1\xc2\x9bx", "bad\xff" "byte", "two\r\nlines",
		"CORP\\alice", "j\xc3\xbcrgen", "al=ice",
	};
	char *csv = report_text(REPORT_CSV, users, sizeof(users) / sizeof(users[0]));

	/* Formula starters are shown, not run; quotes still doubled. */
	ck_assert_ptr_nonnull(strstr(csv, "\r\n\"'=HYPERLINK(\"\"http://x\"\")\",1001,"));
	ck_assert_ptr_nonnull(strstr(csv, "\r\n'+1+1,1002,"));
	ck_assert_ptr_nonnull(strstr(csv, "\r\n'-2+3,1003,"));
	ck_assert_ptr_nonnull(strstr(csv, "\r\n'@SUM(A1),1004,"));
	/* Control characters and bad bytes are never printed raw. */
	ck_assert_ptr_nonnull(strstr(csv, "\r\nevil?[31mred,1005,"));
	ck_assert_ptr_nonnull(strstr(csv, "\r\nc1?x,1006,"));
	ck_assert_ptr_nonnull(strstr(csv, "\r\nbad?byte,1007,"));
	ck_assert_ptr_nonnull(strstr(csv, "\r\ntwo??lines,1008,"));
	ck_assert_ptr_null(strchr(csv, '\x1b'));
	ck_assert_ptr_null(strstr(csv, "\xc2\x9b"));
	ck_assert_ptr_null(strchr(csv, '\xff'));
	/* Everything else as it is: backslashes, other scripts, '=' inside. */
	ck_assert_ptr_nonnull(strstr(csv, "\r\nCORP\\alice,1009,"));
	ck_assert_ptr_nonnull(strstr(csv, "\r\nj\xc3\xbcrgen,1010,"));
	ck_assert_ptr_nonnull(strstr(csv, "\r\nal=ice,1011,"));
	/* Numbers stay numbers: a negative count is not a formula. */
	ck_assert_ptr_null(strstr(csv, ",'"));
	free(csv);
}
END_TEST

START_TEST(test_report_table_escapes_names)
{
	static const char *const users[] = {
		"evil\x1b[31mred", "c1\xc2\x9bx", "bad\xff" "byte", "j\xc3\xbcrgen",
	};
	char *table = report_text(REPORT_TABLE, users, sizeof(users) / sizeof(users[0]));

	ck_assert_ptr_nonnull(strstr(table, "\nevil?[31mred "));
	ck_assert_ptr_nonnull(strstr(table, "\nc1?x "));
	ck_assert_ptr_nonnull(strstr(table, "\nbad?byte "));
	ck_assert_ptr_nonnull(strstr(table, "\nj\xc3\xbcrgen "));
	ck_assert_ptr_null(strchr(table, '\x1b'));
	ck_assert_ptr_null(strstr(table, "\xc2\x9b"));
	ck_assert_ptr_null(strchr(table, '\xff'));
	free(table);
}
END_TEST

/* ---- frame I/O and client, against a peer thread ---- */

enum peer_mode {
	PEER_ANSWER,        /* reply OK, text = the user, detail = nfields */
	PEER_SILENT,        /* read the request, never answer, wait for EOF */
	PEER_CUT,           /* send half a frame, then close */
	PEER_HANG_UP,       /* read the request, close without answering */
	PEER_STREAM,        /* three report rows and the end */
	PEER_HUGE,          /* announce a frame over the maximum */
	PEER_WRONG_TYPE,    /* answer with a request type */
	PEER_GARBAGE,       /* a well-framed body that does not decode */
};

struct peer {
	int fd;
	int listen_fd;          /* >= 0: accept first, then use that fd */
	enum peer_mode mode;
	pthread_t thread;
	char request[PROTO_MAX_FRAME];
	size_t request_len;
};

static void peer_send(int fd, const struct proto_msg *m)
{
	ck_assert_int_eq(proto_send(fd, m, PROTO_NO_DEADLINE), PP_OK);
}

static void peer_reply(int fd, uint64_t status, uint64_t detail, const char *text,
		       size_t text_len)
{
	struct proto_msg m;
	proto_msg_init(&m, PROTO_REPLY);
	ck_assert_int_eq(proto_add_u64(&m, status), PP_OK);
	ck_assert_int_eq(proto_add_u64(&m, detail), PP_OK);
	ck_assert_int_eq(proto_add_str(&m, text, text_len), PP_OK);
	peer_send(fd, &m);
}

static void *peer_main(void *arg)
{
	struct peer *p = arg;
	uint8_t buf[PROTO_MAX_FRAME];
	size_t len;
	struct proto_msg req;

	if (p->listen_fd >= 0) {
		p->fd = accept(p->listen_fd, NULL, NULL);
		ck_assert_int_ge(p->fd, 0);
	}
	/* Always take the request first, as the daemon does: a peer closing
	 * with it unread would make the client's write fail instead. */
	ck_assert_int_eq(proto_frame_read(p->fd, buf, sizeof(buf), &len,
					  PROTO_NO_DEADLINE), PP_OK);
	memcpy(p->request, buf, len);
	p->request_len = len;
	ck_assert_int_eq(proto_decode(buf, len, &req), PP_OK);
	switch (p->mode) {
	case PEER_ANSWER:
		peer_reply(p->fd, PROTO_OK, req.nfields,
			   req.nfields ? req.f[0].str : "", req.nfields ? req.f[0].len : 0);
		break;
	case PEER_SILENT: {
		/* blocks until the client closes: no timer involved */
		char c;
		while (read(p->fd, &c, 1) > 0)
			;
		break;
	}
	case PEER_CUT: {
		uint8_t half[PROTO_HEADER_SIZE + 10] = { 0, 0, 0, 100, 1, PROTO_REPLY, 3 };
		ck_assert_int_eq(write(p->fd, half, sizeof(half)), (ssize_t)sizeof(half));
		break;
	}
	case PEER_HANG_UP:
		break;
	case PEER_STREAM:
		for (uint64_t i = 0; i < 3; i++) {
			struct proto_msg row;
			proto_msg_init(&row, PROTO_REPORT_ROW);
			ck_assert_int_eq(proto_add_cstr(&row, i == 1 ? "bob" : "alice"), PP_OK);
			ck_assert_int_eq(proto_add_u64(&row, 1001 + i), PP_OK);       /* uid */
			ck_assert_int_eq(proto_add_u64(&row, i), PP_OK);              /* state */
			ck_assert_int_eq(proto_add_u64(&row, 1001 + i), PP_OK);       /* first seen */
			ck_assert_int_eq(proto_add_u64(&row, 1700000000 + i), PP_OK); /* last change */
			ck_assert_int_eq(proto_add_u64(&row, 0), PP_OK);              /* expires */
			ck_assert_int_eq(proto_add_u64(&row, 24), PP_OK);             /* history */
			ck_assert_int_eq(proto_add_u64(&row, PROTO_REPORT_ROW_IN_STORE), PP_OK);
			ck_assert_int_eq(proto_add_u64(&row, 0), PP_OK);              /* last login */
			peer_send(p->fd, &row);
		}
		struct proto_msg end;
		proto_msg_init(&end, PROTO_REPORT_END);
		ck_assert_int_eq(proto_add_u64(&end, 3), PP_OK);
		ck_assert_int_eq(proto_add_u64(&end, 1700000100), PP_OK);
		ck_assert_int_eq(proto_add_u64(&end, 90), PP_OK);
		ck_assert_int_eq(proto_add_u64(&end, 14), PP_OK);
		ck_assert_int_eq(proto_add_u64(&end, 24), PP_OK);
		peer_send(p->fd, &end);
		break;
	case PEER_HUGE: {
		uint8_t hdr[PROTO_HEADER_SIZE] = { 0xff, 0xff, 0xff, 0xff };
		ck_assert_int_eq(write(p->fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
		break;
	}
	case PEER_WRONG_TYPE: {
		struct proto_msg ping;
		proto_msg_init(&ping, PROTO_PING);
		peer_send(p->fd, &ping);
		break;
	}
	case PEER_GARBAGE: {
		static const uint8_t junk[] = { 1, PROTO_REPLY, 3, 9, 9, 9 };
		ck_assert_int_eq(proto_frame_write(p->fd, junk, sizeof(junk),
						   PROTO_NO_DEADLINE), PP_OK);
		break;
	}
	}
	close(p->fd);
	return NULL;
}

/* A connected pair: *client for the test, the other end for the peer. */
static void peer_start(struct peer *p, enum peer_mode mode, int *client)
{
	int sv[2];
	memset(p, 0, sizeof(*p));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	p->fd = sv[1];
	p->listen_fd = -1;
	p->mode = mode;
	*client = sv[0];
	ck_assert_int_eq(pthread_create(&p->thread, NULL, peer_main, p), 0);
}

static void peer_join(struct peer *p)
{
	ck_assert_int_eq(pthread_join(p->thread, NULL), 0);
}

static void make_check(struct proto_msg *m, const char *password)
{
	proto_msg_init(m, PROTO_CHECK);
	ck_assert_int_eq(proto_add_cstr(m, "alice"), PP_OK);
	ck_assert_int_eq(proto_add_cstr(m, password), PP_OK);
	ck_assert_int_eq(proto_add_u64(m, 0), PP_OK);
	ck_assert_int_eq(proto_add_u64(m, 24), PP_OK);
	ck_assert_int_eq(proto_add_u64(m, 1), PP_OK);
}

START_TEST(test_client_call_answered)
{
	struct peer p;
	struct proto_msg req, reply;
	uint8_t buf[PROTO_MAX_FRAME];
	int fd;

	peer_start(&p, PEER_ANSWER, &fd);
	make_check(&req, "correct horse");
	ck_assert_int_eq(client_call(fd, &req, buf, sizeof(buf), &reply, 5000), PP_OK);
	ck_assert_int_eq(reply.type, PROTO_REPLY);
	ck_assert(reply.f[PROTO_REPLY_STATUS].u64 == PROTO_OK);
	ck_assert(reply.f[PROTO_REPLY_DETAIL].u64 == 5);
	ck_assert_uint_eq(reply.f[PROTO_REPLY_TEXT].len, 5);
	ck_assert(memcmp(reply.f[PROTO_REPLY_TEXT].str, "alice", 5) == 0);
	ck_assert(reply.f[PROTO_REPLY_TEXT].str >= (char *)buf &&
		  reply.f[PROTO_REPLY_TEXT].str < (char *)buf + sizeof(buf));
	client_close(&fd);
	ck_assert_int_eq(fd, -1);
	client_close(&fd); /* harmless twice */
	peer_join(&p);
	/* the peer received exactly the canonical encoding */
	uint8_t want[PROTO_MAX_FRAME];
	size_t len;
	ck_assert_int_eq(proto_encode(&req, want, sizeof(want), &len), PP_OK);
	ck_assert_uint_eq(p.request_len, len);
	ck_assert(memcmp(p.request, want, len) == 0);
}
END_TEST

START_TEST(test_client_call_rejects_bad_request)
{
	struct proto_msg req, reply;
	uint8_t buf[PROTO_MAX_FRAME];
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* a reply type is not a request */
	proto_msg_init(&req, PROTO_REPORT_END);
	ck_assert_int_eq(proto_add_u64(&req, 0), PP_OK);
	ck_assert_int_eq(client_call(sv[0], &req, buf, sizeof(buf), &reply, 100),
			 PP_ERR_INVALID);
	/* an incomplete request */
	proto_msg_init(&req, PROTO_CHECK);
	ck_assert_int_eq(proto_add_cstr(&req, "alice"), PP_OK);
	ck_assert_int_eq(client_call(sv[0], &req, buf, sizeof(buf), &reply, 100),
			 PP_ERR_INVALID);
	/* nothing was sent */
	char c;
	ck_assert_int_eq(recv(sv[1], &c, 1, MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_client_call_timeout)
{
	struct peer p;
	struct proto_msg req, reply;
	uint8_t buf[PROTO_MAX_FRAME];
	int fd;

	peer_start(&p, PEER_SILENT, &fd);
	make_check(&req, "correct horse");
	int64_t t0 = mono_ms();
	ck_assert_int_eq(client_call(fd, &req, buf, sizeof(buf), &reply, 300),
			 PP_ERR_TIMEOUT);
	int64_t elapsed = mono_ms() - t0;
	ck_assert_int_ge(elapsed, 299);
	ck_assert_int_lt(elapsed, 2000);
	ck_assert_uint_eq(reply.nfields, 0);
	client_close(&fd); /* the peer sees EOF and ends */
	peer_join(&p);
	/* the request had arrived: the daemon was slow, not absent */
	ck_assert_uint_gt(p.request_len, 0);
}
END_TEST

START_TEST(test_client_peer_cuts_frame)
{
	struct peer p;
	struct proto_msg req, reply;
	uint8_t buf[PROTO_MAX_FRAME];
	int fd;

	peer_start(&p, PEER_CUT, &fd);
	proto_msg_init(&req, PROTO_PING);
	ck_assert_int_eq(client_call(fd, &req, buf, sizeof(buf), &reply, 5000),
			 PP_ERR_PROTOCOL);
	client_close(&fd);
	peer_join(&p);
}
END_TEST

START_TEST(test_client_peer_hangs_up)
{
	struct peer p;
	struct proto_msg req, reply;
	uint8_t buf[PROTO_MAX_FRAME];
	int fd;

	peer_start(&p, PEER_HANG_UP, &fd);
	proto_msg_init(&req, PROTO_PING);
	ck_assert_int_eq(client_call(fd, &req, buf, sizeof(buf), &reply, 5000),
			 PP_ERR_UNREACHABLE);
	client_close(&fd);
	peer_join(&p);
}
END_TEST

START_TEST(test_client_peer_gone_no_sigpipe)
{
	/* Writing to a closed peer must be an error, not a fatal SIGPIPE. */
	struct proto_msg req, reply;
	uint8_t buf[PROTO_MAX_FRAME];
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	make_check(&req, "correct horse");
	ck_assert_int_eq(client_call(sv[0], &req, buf, sizeof(buf), &reply, 1000),
			 PP_ERR_UNREACHABLE);
	close(sv[0]);
}
END_TEST

START_TEST(test_client_bad_replies)
{
	static const struct {
		enum peer_mode mode;
		pp_err want;
	} cases[] = {
		{ PEER_HUGE, PP_ERR_TOO_LONG },
		{ PEER_WRONG_TYPE, PP_ERR_PROTOCOL },
		{ PEER_GARBAGE, PP_ERR_PROTOCOL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct peer p;
		struct proto_msg req, reply;
		uint8_t buf[PROTO_MAX_FRAME];
		int fd;

		peer_start(&p, cases[i].mode, &fd);
		proto_msg_init(&req, PROTO_PING);
		ck_assert_int_eq(client_call(fd, &req, buf, sizeof(buf), &reply, 5000),
				 cases[i].want);
		ck_assert_uint_eq(reply.nfields, 0);
		client_close(&fd);
		peer_join(&p);
	}
}
END_TEST

START_TEST(test_client_small_reply_buffer)
{
	struct peer p;
	struct proto_msg req, reply;
	uint8_t buf[8];
	int fd;

	peer_start(&p, PEER_ANSWER, &fd);
	make_check(&req, "correct horse");
	ck_assert_int_eq(client_call(fd, &req, buf, sizeof(buf), &reply, 5000),
			 PP_ERR_TOO_LONG);
	client_close(&fd);
	peer_join(&p);
}
END_TEST

START_TEST(test_client_streamed_report)
{
	struct peer p;
	struct proto_msg req, msg;
	uint8_t buf[PROTO_MAX_FRAME];
	int fd;
	unsigned rows = 0;

	peer_start(&p, PEER_STREAM, &fd);
	proto_msg_init(&req, PROTO_REPORT);
	ck_assert_int_eq(client_call(fd, &req, buf, sizeof(buf), &msg, 5000), PP_OK);
	while (msg.type == PROTO_REPORT_ROW) {
		ck_assert(msg.f[PROTO_REPORT_ROW_FIRST_SEEN].u64 == 1001 + rows);
		ck_assert(msg.f[PROTO_REPORT_ROW_STATE].u64 == rows);
		rows++;
		ck_assert_int_eq(client_recv(fd, buf, sizeof(buf), &msg, 5000), PP_OK);
	}
	ck_assert_int_eq(msg.type, PROTO_REPORT_END);
	ck_assert(msg.f[PROTO_REPORT_END_COUNT].u64 == 3);
	ck_assert(msg.f[PROTO_REPORT_END_NOW].u64 == 1700000100);
	ck_assert_uint_eq(rows, 3);
	/* after the end the peer closes: a clean end of stream */
	ck_assert_int_eq(client_recv(fd, buf, sizeof(buf), &msg, 5000),
			 PP_ERR_UNREACHABLE);
	client_close(&fd);
	peer_join(&p);
}
END_TEST

START_TEST(test_frame_io_partial_and_empty)
{
	/* A frame fed one byte at a time still arrives whole; len 0 is legal
	 * framing (proto_decode then refuses it). */
	int sv[2];
	uint8_t buf[64];
	size_t len = 99;
	static const uint8_t frame[] = { 0, 0, 0, 3, 1, PROTO_PING, 0 };

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(proto_frame_write(sv[0], NULL, 0, PROTO_NO_DEADLINE), PP_OK);
	ck_assert_int_eq(proto_frame_read(sv[1], buf, sizeof(buf), &len,
					  proto_deadline_after(1000)), PP_OK);
	ck_assert_uint_eq(len, 0);

	/* one byte of a frame and a deadline that has passed: timeout */
	ck_assert_int_eq(write(sv[0], frame, 1), 1);
	ck_assert_int_eq(proto_frame_read(sv[1], buf, sizeof(buf), &len,
					  proto_deadline_after(0)), PP_ERR_TIMEOUT);
	/* the stream position is now lost: start afresh */
	close(sv[0]);
	close(sv[1]);

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	for (size_t i = 0; i < sizeof(frame); i++)
		ck_assert_int_eq(write(sv[0], frame + i, 1), 1);
	ck_assert_int_eq(proto_frame_read(sv[1], buf, sizeof(buf), &len,
					  proto_deadline_after(1000)), PP_OK);
	ck_assert_uint_eq(len, 3);
	struct proto_msg m;
	ck_assert_int_eq(proto_decode(buf, len, &m), PP_OK);
	ck_assert_int_eq(m.type, PROTO_PING);
	/* the writer closes cleanly at a frame boundary */
	close(sv[0]);
	ck_assert_int_eq(proto_frame_read(sv[1], buf, sizeof(buf), &len,
					  proto_deadline_after(1000)), PP_ERR_UNREACHABLE);
	close(sv[1]);

	/* A peer that closes with data of ours unread resets the connection:
	 * the same as a close, at a frame boundary and inside a frame. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(write(sv[1], frame, sizeof(frame)), (ssize_t)sizeof(frame));
	close(sv[0]);
	ck_assert_int_eq(proto_frame_read(sv[1], buf, sizeof(buf), &len,
					  proto_deadline_after(1000)), PP_ERR_UNREACHABLE);
	close(sv[1]);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(write(sv[1], frame, sizeof(frame)), (ssize_t)sizeof(frame));
	ck_assert_int_eq(write(sv[0], frame, 5), 5);
	close(sv[0]);
	ck_assert_int_eq(proto_frame_read(sv[1], buf, sizeof(buf), &len,
					  proto_deadline_after(1000)), PP_ERR_PROTOCOL);
	close(sv[1]);

	/* a cut inside the length header is a protocol error too */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(write(sv[0], frame, 2), 2);
	close(sv[0]);
	ck_assert_int_eq(proto_frame_read(sv[1], buf, sizeof(buf), &len,
					  proto_deadline_after(1000)), PP_ERR_PROTOCOL);
	close(sv[1]);
}
END_TEST

/* ---- client_connect ---- */

static void sock_path(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);
	ck_assert(n > 0 && (size_t)n < cap);
}

static int listen_at(const char *path, int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s, 0);
	ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(s, backlog), 0);
	return s;
}

START_TEST(test_connect_errors)
{
	char dir[4096], path[4200], longpath[200];
	int fd = 123;

	harness_tmpdir(dir, sizeof(dir));
	sock_path(path, sizeof(path), dir, "missing.sock");
	ck_assert_int_eq(client_connect(path, 1000, &fd), PP_ERR_UNREACHABLE);
	ck_assert_int_eq(fd, -1);

	/* a socket file nobody listens on any more */
	sock_path(path, sizeof(path), dir, "dead.sock");
	int s = listen_at(path, 1);
	close(s);
	ck_assert_int_eq(client_connect(path, 1000, &fd), PP_ERR_UNREACHABLE);

	ck_assert_int_eq(client_connect("", 1000, &fd), PP_ERR_INVALID);
	ck_assert_int_eq(client_connect(NULL, 1000, &fd), PP_ERR_INVALID);
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	ck_assert_int_eq(client_connect(longpath, 1000, &fd), PP_ERR_TOO_LONG);
	ck_assert_int_eq(fd, -1);
	harness_rmtree(dir);
}
END_TEST

START_TEST(test_connect_and_call)
{
	char dir[4096], path[4200];
	struct peer p;
	struct proto_msg req, reply;
	uint8_t buf[PROTO_MAX_FRAME];
	int fd;

	harness_tmpdir(dir, sizeof(dir));
	sock_path(path, sizeof(path), dir, "d.sock");
	memset(&p, 0, sizeof(p));
	p.listen_fd = listen_at(path, 4);
	p.mode = PEER_ANSWER;
	ck_assert_int_eq(pthread_create(&p.thread, NULL, peer_main, &p), 0);

	ck_assert_int_eq(client_connect(path, 5000, &fd), PP_OK);
	ck_assert_int_ge(fd, 0);
	proto_msg_init(&req, PROTO_FORGET);
	ck_assert_int_eq(proto_add_cstr(&req, "bob"), PP_OK);
	ck_assert_int_eq(client_call(fd, &req, buf, sizeof(buf), &reply, 5000), PP_OK);
	ck_assert_uint_eq(reply.f[PROTO_REPLY_TEXT].len, 3);
	client_close(&fd);
	peer_join(&p);
	close(p.listen_fd);
	harness_rmtree(dir);
}
END_TEST

START_TEST(test_connect_backlog_full_times_out)
{
	/* A daemon that never accepts: once its backlog is full, connecting
	 * waits for the deadline instead of failing at once or hanging. */
	char dir[4096], path[4200];
	int fds[8], n = 0;
	pp_err err = PP_OK;

	harness_tmpdir(dir, sizeof(dir));
	sock_path(path, sizeof(path), dir, "full.sock");
	int s = listen_at(path, 0);
	int64_t t0 = 0, elapsed = 0;
	while (n < 8) {
		t0 = mono_ms();
		err = client_connect(path, 200, &fds[n]);
		elapsed = mono_ms() - t0;
		if (err != PP_OK)
			break;
		n++;
	}
	ck_assert_int_eq(err, PP_ERR_TIMEOUT);
	ck_assert_int_ge(elapsed, 199);
	ck_assert_int_lt(elapsed, 2000);
	while (n > 0)
		client_close(&fds[--n]);
	close(s);
	harness_rmtree(dir);
}
END_TEST

static Suite *proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_roundtrip_every_type);
	tcase_add_test(tc, test_roundtrip_wire_layout);
	tcase_add_test(tc, test_roundtrip_limits);
	tcase_add_test(tc, test_build_errors);
	tcase_add_test(tc, test_reject_truncated);
	tcase_add_test(tc, test_reject_trailing_byte);
	tcase_add_test(tc, test_reject_unknown_type_and_version);
	tcase_add_test(tc, test_reject_wrong_count_and_kind);
	tcase_add_test(tc, test_reject_bad_strings);
	tcase_add_test(tc, test_reject_frame_too_big);
	tcase_add_test(tc, test_copy_and_describe);
	tcase_add_test(tc, test_frame_io_partial_and_empty);
	tcase_add_test(tc, test_client_call_answered);
	tcase_add_test(tc, test_client_call_rejects_bad_request);
	tcase_add_test(tc, test_client_call_timeout);
	tcase_add_test(tc, test_client_peer_cuts_frame);
	tcase_add_test(tc, test_client_peer_hangs_up);
	tcase_add_test(tc, test_client_peer_gone_no_sigpipe);
	tcase_add_test(tc, test_client_bad_replies);
	tcase_add_test(tc, test_client_small_reply_buffer);
	tcase_add_test(tc, test_client_streamed_report);
	tcase_add_test(tc, test_connect_errors);
	tcase_add_test(tc, test_connect_and_call);
	tcase_add_test(tc, test_connect_backlog_full_times_out);
	suite_add_tcase(s, tc);
	tc = tcase_create("names");
	tcase_add_test(tc, test_reject_bad_user_names);
	tcase_add_test(tc, test_report_csv_escapes_names);
	tcase_add_test(tc, test_report_table_escapes_names);
	suite_add_tcase(s, tc);
	return s;
}

Suite *test_suite(void)
{
	return proto_suite();
}
