/*
 * test_audit.c - unit tests for lib/auditlog.c: the JSON-lines format, its
 * escaping, the keyed hash chain, every verdict of the verifier, torn
 * lines left by a crash, gap markers after a full disk (/dev/full, no
 * root needed) and the binding of the key to the data it signs.
 *
 * Lines are checked with a small strict JSON parser below rather than with
 * the library's own code, and each mac is recomputed independently, so the
 * writer cannot pass by agreeing with itself.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "auditlog.h"
#include "harness.h"

#define BASE_TIME 1700000000LL       /* 2023-11-14T22:13:20Z */
#define MAX_LINES 64

static uint8_t test_key[AUDIT_KEY_BYTES];
static uint8_t other_key[AUDIT_KEY_BYTES];

static char dir[PATH_MAX - 64];
static char log_path[PATH_MAX];
static char head_path[PATH_MAX];
static char copy_path[PATH_MAX];

static void setup(void)
{
	for (int i = 0; i < AUDIT_KEY_BYTES; i++) {
		test_key[i] = (uint8_t)(i * 7 + 1);
		other_key[i] = test_key[i];
	}
	other_key[AUDIT_KEY_BYTES - 1] ^= 0x01;
	harness_tmpdir(dir, sizeof(dir));
	snprintf(log_path, sizeof(log_path), "%s/audit.log", dir);
	snprintf(head_path, sizeof(head_path), "%s/audit.head", dir);
	snprintf(copy_path, sizeof(copy_path), "%s/copy.log", dir);
}

static void teardown(void)
{
	harness_rmtree(dir);
}

/* ---- a small strict JSON reader, enough for one audit line ---- */

enum jtype { J_STRING, J_NUMBER, J_NULL, J_ARRAY };

struct jfield {
	char key[32];
	enum jtype type;
	char str[1024];             /* decoded string, or the number's text */
	size_t str_len;
	int nelems;                 /* array of strings only */
	char elems[8][128];
};

struct jobject {
	struct jfield f[16];
	int n;
};

struct jparser {
	const char *p, *end;
};

static void j_ws(struct jparser *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t'))
		j->p++;
}

static bool j_put(char *out, size_t outlen, size_t *used, uint32_t cp)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xF0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	if (*used + n + 1 > outlen)
		return false;
	memcpy(out + *used, b, n);
	*used += n;
	out[*used] = '\0';
	return true;
}

static bool j_hex4(struct jparser *j, uint32_t *cp)
{
	*cp = 0;
	if (j->end - j->p < 4)
		return false;
	for (int i = 0; i < 4; i++) {
		char c = *j->p++;
		*cp <<= 4;
		if (c >= '0' && c <= '9')
			*cp |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*cp |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*cp |= (uint32_t)(c - 'A' + 10);
		else
			return false;
	}
	return true;
}

static bool j_string(struct jparser *j, char *out, size_t outlen, size_t *len)
{
	size_t used = 0;

	out[0] = '\0';
	if (j->p >= j->end || *j->p != '"')
		return false;
	j->p++;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p++;
		uint32_t cp;

		if (c == '"') {
			if (len)
				*len = used;
			return true;
		}
		if (c < 0x20)
			return false;         /* raw control characters are invalid */
		if (c != '\\') {
			if (used + 2 > outlen)
				return false;
			out[used++] = (char)c;
			out[used] = '\0';
			continue;
		}
		if (j->p >= j->end)
			return false;
		c = (unsigned char)*j->p++;
		switch (c) {
		case '"': cp = '"'; break;
		case '\\': cp = '\\'; break;
		case '/': cp = '/'; break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			if (!j_hex4(j, &cp))
				return false;
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				return false;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				uint32_t lo;
				if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
					return false;
				j->p += 2;
				if (!j_hex4(j, &lo) || lo < 0xDC00 || lo > 0xDFFF)
					return false;
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			}
			break;
		default:
			return false;
		}
		if (!j_put(out, outlen, &used, cp))
			return false;
	}
	return false;
}

static bool j_number(struct jparser *j, char *out, size_t outlen)
{
	const char *start = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return false;
	if (*j->p == '0')
		j->p++;
	else
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	if ((size_t)(j->p - start) + 1 > outlen)
		return false;
	memcpy(out, start, (size_t)(j->p - start));
	out[j->p - start] = '\0';
	return true;
}

static bool j_value(struct jparser *j, struct jfield *f)
{
	j_ws(j);
	if (j->p >= j->end)
		return false;
	if (*j->p == '"') {
		f->type = J_STRING;
		return j_string(j, f->str, sizeof(f->str), &f->str_len);
	}
	if (*j->p == '[') {
		f->type = J_ARRAY;
		j->p++;
		j_ws(j);
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return true;
		}
		for (;;) {
			j_ws(j);
			if (f->nelems >= 8 ||
			    !j_string(j, f->elems[f->nelems], sizeof(f->elems[0]), NULL))
				return false;
			f->nelems++;
			j_ws(j);
			if (j->p >= j->end)
				return false;
			if (*j->p == ']') {
				j->p++;
				return true;
			}
			if (*j->p++ != ',')
				return false;
		}
	}
	if (j->end - j->p >= 4 && memcmp(j->p, "null", 4) == 0) {
		f->type = J_NULL;
		j->p += 4;
		return true;
	}
	f->type = J_NUMBER;
	return j_number(j, f->str, sizeof(f->str));
}

/* Parse text[0..len) as exactly one JSON object, nothing before or after. */
static bool json_parse_object(const char *text, size_t len, struct jobject *o)
{
	struct jparser j = { text, text + len };

	memset(o, 0, sizeof(*o));
	if (j.p >= j.end || *j.p++ != '{')
		return false;
	j_ws(&j);
	if (j.p < j.end && *j.p == '}')
		return ++j.p == j.end;
	for (;;) {
		struct jfield *f;

		if (o->n >= 16)
			return false;
		f = &o->f[o->n++];
		j_ws(&j);
		if (!j_string(&j, f->key, sizeof(f->key), NULL))
			return false;
		j_ws(&j);
		if (j.p >= j.end || *j.p++ != ':')
			return false;
		if (!j_value(&j, f))
			return false;
		j_ws(&j);
		if (j.p >= j.end)
			return false;
		if (*j.p == '}') {
			j.p++;
			return j.p == j.end;
		}
		if (*j.p++ != ',')
			return false;
	}
}

static const struct jfield *jget(const struct jobject *o, const char *key)
{
	for (int i = 0; i < o->n; i++)
		if (strcmp(o->f[i].key, key) == 0)
			return &o->f[i];
	return NULL;
}

/* Strict UTF-8 (RFC 3629), written here independently of lib/utf8.c. */
static bool valid_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char b = s[i];
		size_t need;
		uint32_t cp, min;

		if (b < 0x80) {
			i++;
			continue;
		} else if ((b & 0xE0) == 0xC0) {
			need = 2; cp = b & 0x1F; min = 0x80;
		} else if ((b & 0xF0) == 0xE0) {
			need = 3; cp = b & 0x0F; min = 0x800;
		} else if ((b & 0xF8) == 0xF0) {
			need = 4; cp = b & 0x07; min = 0x10000;
		} else {
			return false;
		}
		if (i + need > len)
			return false;
		for (size_t k = 1; k < need; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += need;
	}
	return true;
}

/* ---- file helpers ---- */

struct lines {
	char *buf;
	char *v[MAX_LINES];
	size_t n;
	bool final_newline;
};

static void lines_read(const char *path, struct lines *l)
{
	char *s;

	memset(l, 0, sizeof(*l));
	l->buf = harness_read(path);
	ck_assert_msg(l->buf != NULL, "cannot read %s", path);
	s = l->buf;
	l->final_newline = true;
	while (*s != '\0') {
		char *nl = strchr(s, '\n');
		ck_assert_uint_lt(l->n, MAX_LINES);
		l->v[l->n++] = s;
		if (nl == NULL) {
			l->final_newline = false;
			break;
		}
		*nl = '\0';
		s = nl + 1;
	}
}

static void lines_free(struct lines *l)
{
	free(l->buf);
	l->buf = NULL;
}

/* Write lines v[0..n), each followed by a newline. */
static void lines_write(const char *path, char *const *v, size_t n)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "cannot write %s", path);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", v[i]);
	ck_assert_int_eq(fclose(f), 0);
}

/* ---- writing events ---- */

static void event_for(int seq, struct audit_event *ev, char *user, size_t len)
{
	snprintf(user, len, "user%d", seq);
	memset(ev, 0, sizeof(*ev));
	ev->event = seq % 3 == 0 ? "password_rejected" : "password_changed";
	ev->user = user;
	ev->uid = seq % 4 == 0 ? -1 : 1000 + seq;
	ev->service = "passwd";
	ev->rhost = seq % 2 ? "" : "10.0.0.1";
	ev->tty = "pts/0";
	ev->reasons = seq % 3 == 0 ? "too_short,no_digit" : NULL;
	ev->actor = seq % 5 == 0 ? "root" : NULL;
}

static struct audit_log *open_log(const char *path, const char *head)
{
	struct audit_log *log = NULL;
	char err[512] = "";
	pp_err rc = auditlog_open(path, head, test_key, (gid_t)-1, &log, err, sizeof(err));

	ck_assert_msg(rc == PP_OK, "auditlog_open(%s): %d %s", path, rc, err);
	ck_assert_ptr_nonnull(log);
	return log;
}

/* Append events numbered first..first+count-1 (the number is the user's). */
static void append_events(struct audit_log *log, int first, int count)
{
	for (int i = first; i < first + count; i++) {
		struct audit_event ev;
		char user[32];

		event_for(i, &ev, user, sizeof(user));
		ck_assert_int_eq(auditlog_write(log, &ev, BASE_TIME + 60LL * (i - 1)), PP_OK);
	}
}

static void write_log(const char *path, const char *head, int count)
{
	struct audit_log *log = open_log(path, head);

	append_events(log, 1, count);
	auditlog_close(log);
}

static void verify(const char *const *files, size_t n, const char *head,
		   const uint8_t *key, struct audit_verdict *v)
{
	pp_err rc = auditlog_verify(files, n, head, key, v);

	ck_assert_msg(rc == PP_OK, "auditlog_verify returned %d", rc);
}

static void verify_one(const char *path, const char *head, struct audit_verdict *v)
{
	const char *files[] = { path };

	verify(files, 1, head, test_key, v);
}

static void assert_verdict(const struct audit_verdict *v, enum audit_problem p,
			   const char *file, unsigned long line)
{
	ck_assert_msg(v->problem == p, "expected %s, got %s at %s:%lu (%s)",
		      auditlog_problem_name(p), auditlog_problem_name(v->problem),
		      v->file ? v->file : "(null)", v->line, v->detail);
	ck_assert_uint_eq(v->line, line);
	ck_assert_ptr_nonnull(v->file);
	ck_assert_str_eq(v->file, file);
	ck_assert_msg(v->detail[0] != '\0', "empty detail");
}

static void assert_clean(const struct audit_verdict *v, unsigned long lines)
{
	ck_assert_msg(v->problem == AUDIT_CLEAN, "expected clean, got %s at %s:%lu (%s)",
		      auditlog_problem_name(v->problem), v->file ? v->file : "(null)",
		      v->line, v->detail);
	ck_assert_uint_eq(v->lines, lines);
}

/* The mac a line should carry, computed here from the documented rule. */
static void expected_mac(const uint8_t *key, const char *line, char out[AUDIT_MAC_HEX + 1])
{
	const char *at = strstr(line, ",\"mac\":\"");
	uint8_t mac[32];

	ck_assert_ptr_nonnull(at);
	crypto_generichash(mac, sizeof(mac), (const unsigned char *)line,
			   (size_t)(at - line), key, AUDIT_KEY_BYTES);
	sodium_bin2hex(out, AUDIT_MAC_HEX + 1, mac, sizeof(mac));
}

static bool is_lower_hex64(const char *s, size_t len)
{
	if (len != AUDIT_MAC_HEX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool is_rfc3339_utc(const char *s)
{
	static const char pattern[] = "dddd-dd-ddTdd:dd:ddZ";

	if (strlen(s) != sizeof(pattern) - 1)
		return false;
	for (size_t i = 0; pattern[i] != '\0'; i++) {
		if (pattern[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pattern[i])
			return false;
	}
	return true;
}

static const char *const field_order[] = {
	"seq", "ts", "event", "user", "uid", "service", "rhost", "tty",
	"reasons", "actor", "prev", "mac",
};

/* Parse one written line and check everything that does not depend on it. */
static void check_line_shape(const char *line, struct jobject *o)
{
	const struct jfield *f;

	ck_assert_msg(valid_utf8((const unsigned char *)line, strlen(line)),
		      "line is not valid UTF-8: %s", line);
	ck_assert_msg(json_parse_object(line, strlen(line), o), "not one JSON object: %s",
		      line);
	ck_assert_int_eq(o->n, (int)(sizeof(field_order) / sizeof(field_order[0])));
	for (int i = 0; i < o->n; i++)
		ck_assert_str_eq(o->f[i].key, field_order[i]);
	ck_assert_int_eq(jget(o, "seq")->type, J_NUMBER);
	ck_assert_int_eq(jget(o, "ts")->type, J_STRING);
	ck_assert_msg(is_rfc3339_utc(jget(o, "ts")->str), "bad ts %s", jget(o, "ts")->str);
	ck_assert_int_eq(jget(o, "event")->type, J_STRING);
	ck_assert_int_eq(jget(o, "user")->type, J_STRING);
	f = jget(o, "uid");
	ck_assert_msg(f->type == J_NUMBER || f->type == J_NULL, "uid neither number nor null");
	for (size_t i = 0; i < 3; i++)
		ck_assert_int_eq(jget(o, (const char *[]){ "service", "rhost", "tty" }[i])->type,
				 J_STRING);
	ck_assert_int_eq(jget(o, "reasons")->type, J_ARRAY);
	ck_assert_int_eq(jget(o, "actor")->type, J_STRING);
	f = jget(o, "prev");
	ck_assert_int_eq(f->type, J_STRING);
	ck_assert_msg(is_lower_hex64(f->str, f->str_len), "bad prev %s", f->str);
	f = jget(o, "mac");
	ck_assert_int_eq(f->type, J_STRING);
	ck_assert_msg(is_lower_hex64(f->str, f->str_len), "bad mac %s", f->str);
}

/* ---- format ---- */

START_TEST(test_lines_are_json_with_all_fields)
{
	const int n = 6;
	struct lines l;
	char prev[AUDIT_MAC_HEX + 1];

	write_log(log_path, head_path, n);
	lines_read(log_path, &l);
	ck_assert_uint_eq(l.n, (size_t)n);
	ck_assert(l.final_newline);
	memset(prev, '0', AUDIT_MAC_HEX);
	prev[AUDIT_MAC_HEX] = '\0';
	for (int i = 1; i <= n; i++) {
		const char *line = l.v[i - 1];
		struct jobject o;
		struct audit_event ev;
		char user[32], seq[16], mac[AUDIT_MAC_HEX + 1];
		const struct jfield *f;

		check_line_shape(line, &o);
		event_for(i, &ev, user, sizeof(user));
		snprintf(seq, sizeof(seq), "%d", i);
		ck_assert_str_eq(jget(&o, "seq")->str, seq);
		ck_assert_msg(strncmp(line, "{\"seq\":", 7) == 0, "line must start with seq");
		ck_assert_str_eq(jget(&o, "event")->str, ev.event);
		ck_assert_str_eq(jget(&o, "user")->str, user);
		f = jget(&o, "uid");
		if (ev.uid < 0) {
			ck_assert_int_eq(f->type, J_NULL);
		} else {
			ck_assert_int_eq(f->type, J_NUMBER);
			ck_assert_int_eq(strtoll(f->str, NULL, 10), ev.uid);
		}
		ck_assert_str_eq(jget(&o, "service")->str, "passwd");
		ck_assert_str_eq(jget(&o, "rhost")->str, ev.rhost);
		ck_assert_str_eq(jget(&o, "tty")->str, "pts/0");
		ck_assert_str_eq(jget(&o, "actor")->str, ev.actor ? ev.actor : "");
		f = jget(&o, "reasons");
		if (ev.reasons) {
			ck_assert_int_eq(f->nelems, 2);
			ck_assert_str_eq(f->elems[0], "too_short");
			ck_assert_str_eq(f->elems[1], "no_digit");
		} else {
			ck_assert_int_eq(f->nelems, 0);
		}
		/* The chain: line 1 starts from zeros, each line names the last. */
		ck_assert_str_eq(jget(&o, "prev")->str, prev);
		expected_mac(test_key, line, mac);
		ck_assert_str_eq(jget(&o, "mac")->str, mac);
		/* The mac must not verify under another key. */
		expected_mac(other_key, line, mac);
		ck_assert_str_ne(jget(&o, "mac")->str, mac);
		memcpy(prev, jget(&o, "mac")->str, sizeof(prev));
	}
	lines_free(&l);
}
END_TEST

START_TEST(test_timestamps_are_rfc3339_utc)
{
	static const struct { int64_t t; const char *text; } cases[] = {
		{ BASE_TIME, "2023-11-14T22:13:20Z" },
		{ 951782400, "2000-02-29T00:00:00Z" },
		{ 0, "1970-01-01T00:00:00Z" },
		{ 4102444799LL, "2099-12-31T23:59:59Z" },
	};
	const size_t n = sizeof(cases) / sizeof(cases[0]);
	struct audit_log *log;
	struct lines l;

	/* A non-UTC local zone must not leak into the timestamps. */
	setenv("TZ", "America/New_York", 1);
	log = open_log(log_path, head_path);
	for (size_t i = 0; i < n; i++) {
		struct audit_event ev = { .event = "test", .uid = -1 };
		ck_assert_int_eq(auditlog_write(log, &ev, cases[i].t), PP_OK);
	}
	auditlog_close(log);
	lines_read(log_path, &l);
	ck_assert_uint_eq(l.n, n);
	for (size_t i = 0; i < n; i++) {
		struct jobject o;
		check_line_shape(l.v[i], &o);
		ck_assert_str_eq(jget(&o, "ts")->str, cases[i].text);
		/* NULL optional fields are empty strings, uid -1 is null. */
		ck_assert_str_eq(jget(&o, "user")->str, "");
		ck_assert_int_eq(jget(&o, "uid")->type, J_NULL);
		ck_assert_int_eq(jget(&o, "reasons")->nelems, 0);
	}
	lines_free(&l);
}
END_TEST

START_TEST(test_json_escaping)
{
	/* user: quote, backslash, controls, DEL; all valid UTF-8. */
	const char user[] = "a\"b\\c\nd\te\x01" "f\x1f" "g\x7f" "h/";
	/* service: invalid UTF-8 of several kinds around a valid "é". */
	const char service[] = "s\xff" "v\xc3\xa9" "c\xc0\xaf" "x\xed\xa0\x80" "y\xe2\x82";
	const char service_decoded[] =
		"s\xef\xbf\xbd" "v\xc3\xa9" "c\xef\xbf\xbd\xef\xbf\xbd"
		"x\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "y\xef\xbf\xbd\xef\xbf\xbd";
	struct audit_event ev = {
		.event = "ev\"ent",
		.user = user,
		.uid = 0,
		.service = service,
		.rhost = "\xf0\x9f\x94\x91host",      /* U+1F511, valid 4-byte */
		.tty = "\r\b\f",
		.reasons = "a\"b,c\\d,,\x80",
		.actor = "\xe2\x80\xa8",             /* U+2028, valid */
	};
	struct audit_log *log = open_log(log_path, head_path);
	struct lines l;
	struct jobject o;
	const struct jfield *f;
	struct audit_verdict v;

	ck_assert_int_eq(auditlog_write(log, &ev, BASE_TIME), PP_OK);
	auditlog_close(log);
	lines_read(log_path, &l);
	ck_assert_uint_eq(l.n, 1);
	/* No raw control byte and no invalid byte reaches the file. */
	for (const unsigned char *p = (const unsigned char *)l.v[0]; *p; p++)
		ck_assert_msg(*p >= 0x20 && *p != 0x7f, "raw byte 0x%02x in line", *p);
	check_line_shape(l.v[0], &o);
	ck_assert_str_eq(jget(&o, "event")->str, "ev\"ent");
	f = jget(&o, "user");
	ck_assert_uint_eq(f->str_len, strlen(user));
	ck_assert_mem_eq(f->str, user, strlen(user));
	ck_assert_str_eq(jget(&o, "uid")->str, "0");
	ck_assert_str_eq(jget(&o, "service")->str, service_decoded);
	ck_assert_str_eq(jget(&o, "rhost")->str, "\xf0\x9f\x94\x91host");
	ck_assert_str_eq(jget(&o, "tty")->str, "\r\b\f");
	ck_assert_str_eq(jget(&o, "actor")->str, "\xe2\x80\xa8");
	f = jget(&o, "reasons");
	ck_assert_int_eq(f->nelems, 3);
	ck_assert_str_eq(f->elems[0], "a\"b");
	ck_assert_str_eq(f->elems[1], "c\\d");
	ck_assert_str_eq(f->elems[2], "\xef\xbf\xbd");
	/* Escaped content still chains. */
	verify_one(log_path, head_path, &v);
	assert_clean(&v, 1);
	lines_free(&l);
}
END_TEST

START_TEST(test_json_string_bounds)
{
	char buf[16];
	size_t used;

	/* "ab" needs 2 quotes + 2 chars + NUL = 5 bytes. */
	memset(buf, 'X', sizeof(buf));
	used = 0;
	ck_assert(auditlog_json_string(buf, 5, &used, "ab"));
	ck_assert_uint_eq(used, 4);
	ck_assert_str_eq(buf, "\"ab\"");
	memset(buf, 'X', sizeof(buf));
	used = 0;
	ck_assert(!auditlog_json_string(buf, 4, &used, "ab"));
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(buf[4], 'X');

	/* Appends at *used. */
	memcpy(buf, "[", 2);
	used = 1;
	ck_assert(auditlog_json_string(buf, sizeof(buf), &used, "\\"));
	ck_assert_str_eq(buf, "[\"\\\\\"");
	ck_assert_uint_eq(used, 5);

	/* NULL is the empty string. */
	used = 0;
	ck_assert(auditlog_json_string(buf, sizeof(buf), &used, NULL));
	ck_assert_str_eq(buf, "\"\"");

	/* An empty string needs 3 bytes; with 3 it fits exactly. */
	memset(buf, 'X', sizeof(buf));
	used = 0;
	ck_assert(auditlog_json_string(buf, 3, &used, ""));
	ck_assert_str_eq(buf, "\"\"");
	ck_assert_int_eq(buf[3], 'X');

	/*
	 * With only 2 bytes it does not fit (no room for the NUL): it must
	 * say so and never write buf[2].
	 */
	memset(buf, 'X', sizeof(buf));
	used = 0;
	ck_assert_msg(!auditlog_json_string(buf, 2, &used, ""),
		      "empty string reported as fitting in 2 bytes");
	ck_assert_msg(buf[2] == 'X', "auditlog_json_string wrote past len (buf[2]=0x%02x)",
		      (unsigned char)buf[2]);
	memset(buf, 'X', sizeof(buf));
	used = 4;
	ck_assert(!auditlog_json_string(buf, 6, &used, NULL));
	ck_assert_msg(buf[6] == 'X', "auditlog_json_string wrote past len");
}
END_TEST

START_TEST(test_file_mode_0640)
{
	struct stat st;
	mode_t old = umask(0);

	write_log(log_path, head_path, 1);
	ck_assert_int_eq(stat(log_path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);

	/* A tight umask does not make it narrower, a loose one not wider. */
	umask(0077);
	unlink(log_path);
	write_log(log_path, head_path, 1);
	ck_assert_int_eq(stat(log_path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);

	/* An existing world-readable log is tightened on open. */
	umask(0);
	ck_assert_int_eq(chmod(log_path, 0666), 0);
	write_log(log_path, head_path, 1);
	ck_assert_int_eq(stat(log_path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	umask(old);

	/* The head file is not world-readable either. */
	ck_assert_int_eq(stat(head_path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0007, 0);
}
END_TEST

START_TEST(test_write_rejects_bad_events)
{
	struct audit_log *log = open_log(log_path, head_path);
	struct audit_event ev = { .event = NULL, .uid = -1 };
	char big[AUDIT_MAX_LINE + 16];
	struct lines l;
	struct audit_verdict v;
	struct jobject o;

	append_events(log, 1, 2);
	ck_assert_int_eq(auditlog_write(log, &ev, BASE_TIME), PP_ERR_INVALID);
	ck_assert_int_eq(auditlog_write(log, NULL, BASE_TIME), PP_ERR_INVALID);
	ck_assert_int_eq(auditlog_write(NULL, &ev, BASE_TIME), PP_ERR_INVALID);
	memset(big, 'u', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ev.event = "x";
	ev.user = big;
	ck_assert_int_eq(auditlog_write(log, &ev, BASE_TIME), PP_ERR_TOO_LONG);
	/* Nothing was written and the chain goes on at seq 3. */
	append_events(log, 3, 1);
	auditlog_close(log);
	lines_read(log_path, &l);
	ck_assert_uint_eq(l.n, 3);
	check_line_shape(l.v[2], &o);
	ck_assert_str_eq(jget(&o, "seq")->str, "3");
	lines_free(&l);
	verify_one(log_path, head_path, &v);
	assert_clean(&v, 3);
	auditlog_close(NULL);
}
END_TEST

START_TEST(test_problem_names)
{
	ck_assert_str_eq(auditlog_problem_name(AUDIT_CLEAN), "clean");
	ck_assert_str_eq(auditlog_problem_name(AUDIT_EDITED), "edited");
	ck_assert_str_eq(auditlog_problem_name(AUDIT_DELETED), "deleted");
	ck_assert_str_eq(auditlog_problem_name(AUDIT_INSERTED), "inserted");
	ck_assert_str_eq(auditlog_problem_name(AUDIT_REORDERED), "reordered");
	ck_assert_str_eq(auditlog_problem_name(AUDIT_TRUNCATED), "truncated");
	ck_assert_str_eq(auditlog_problem_name(AUDIT_MALFORMED), "malformed");
	ck_assert_str_eq(auditlog_problem_name(AUDIT_TORN), "torn");
	ck_assert_str_eq(auditlog_problem_name(AUDIT_GAP), "gap");
	ck_assert_str_eq(auditlog_problem_name((enum audit_problem)99), "unknown");
}
END_TEST

/* ---- verification ---- */

#define N_EVENTS 8

START_TEST(test_verify_clean_needs_right_key)
{
	struct audit_verdict v;
	const char *files[] = { log_path };

	write_log(log_path, head_path, N_EVENTS);
	verify_one(log_path, head_path, &v);
	assert_clean(&v, N_EVENTS);
	verify_one(log_path, NULL, &v);
	assert_clean(&v, N_EVENTS);

	/* A key differing in one bit finds the very first line bad. */
	verify(files, 1, head_path, other_key, &v);
	ck_assert_int_ne(v.problem, AUDIT_CLEAN);
	ck_assert_uint_eq(v.line, 1);
	verify(files, 1, NULL, other_key, &v);
	ck_assert_int_ne(v.problem, AUDIT_CLEAN);

	/* An unreadable file is an I/O error, not a verdict. */
	{
		char missing[PATH_MAX + 16];
		const char *mf[] = { missing };
		snprintf(missing, sizeof(missing), "%s/missing.log", dir);
		ck_assert_int_eq(auditlog_verify(mf, 1, NULL, test_key, &v), PP_ERR_IO);
	}
}
END_TEST

START_TEST(test_verify_edited)
{
	struct lines l;
	struct audit_verdict v;
	char *p;

	write_log(log_path, head_path, N_EVENTS);
	lines_read(log_path, &l);
	p = strstr(l.v[2], "\"user\":\"user3\"");
	ck_assert_ptr_nonnull(p);
	p[strlen("\"user\":\"user")] = '9';
	lines_write(copy_path, l.v, l.n);
	verify_one(copy_path, head_path, &v);
	assert_verdict(&v, AUDIT_EDITED, copy_path, 3);
	verify_one(copy_path, NULL, &v);
	assert_verdict(&v, AUDIT_EDITED, copy_path, 3);
	lines_free(&l);

	/* Editing the stored mac itself is an edit too. */
	lines_read(log_path, &l);
	p = strstr(l.v[2], ",\"mac\":\"");
	ck_assert_ptr_nonnull(p);
	p += strlen(",\"mac\":\"");
	*p = *p == 'a' ? 'b' : 'a';
	lines_write(copy_path, l.v, l.n);
	verify_one(copy_path, head_path, &v);
	assert_verdict(&v, AUDIT_EDITED, copy_path, 3);
	lines_free(&l);

	/* And so is editing the last line (the head file knows its mac). */
	lines_read(log_path, &l);
	p = strstr(l.v[N_EVENTS - 1], "\"tty\":\"pts/0\"");
	ck_assert_ptr_nonnull(p);
	p[strlen("\"tty\":\"pts/")] = '7';
	lines_write(copy_path, l.v, l.n);
	verify_one(copy_path, head_path, &v);
	assert_verdict(&v, AUDIT_EDITED, copy_path, N_EVENTS);
	lines_free(&l);
}
END_TEST

START_TEST(test_verify_deleted)
{
	struct lines l;
	struct audit_verdict v;
	char *rest[MAX_LINES];
	size_t n = 0;

	write_log(log_path, head_path, N_EVENTS);
	lines_read(log_path, &l);
	for (size_t i = 0; i < l.n; i++)
		if (i != 2)
			rest[n++] = l.v[i];
	lines_write(copy_path, rest, n);
	verify_one(copy_path, head_path, &v);
	assert_verdict(&v, AUDIT_DELETED, copy_path, 3);
	verify_one(copy_path, NULL, &v);
	assert_verdict(&v, AUDIT_DELETED, copy_path, 3);

	/* Two consecutive lines (3 and 4) gone: still shows at line 3. */
	n = 0;
	for (size_t i = 0; i < l.n; i++)
		if (i != 2 && i != 3)
			rest[n++] = l.v[i];
	lines_write(copy_path, rest, n);
	verify_one(copy_path, head_path, &v);
	assert_verdict(&v, AUDIT_DELETED, copy_path, 3);
	lines_free(&l);
}
END_TEST

/* A line as a forger without the key would make it: right shape, own mac. */
static void forge_line(const char *model, const uint8_t *key, char *out, size_t len)
{
	const char *at = strstr(model, ",\"mac\":\"");
	char mac[AUDIT_MAC_HEX + 1];
	uint8_t bin[32];
	char body[AUDIT_MAX_LINE];
	char *u;

	ck_assert_ptr_nonnull(at);
	ck_assert_uint_lt((size_t)(at - model), sizeof(body));
	memcpy(body, model, (size_t)(at - model));
	body[at - model] = '\0';
	u = strstr(body, "\"user\":\"");
	ck_assert_ptr_nonnull(u);
	u[strlen("\"user\":\"")] = 'X';
	crypto_generichash(bin, sizeof(bin), (const unsigned char *)body, strlen(body),
			   key, AUDIT_KEY_BYTES);
	sodium_bin2hex(mac, sizeof(mac), bin, sizeof(bin));
	snprintf(out, len, "%s,\"mac\":\"%s\"}", body, mac);
}

START_TEST(test_verify_inserted)
{
	struct lines l;
	struct audit_verdict v;
	char forged[AUDIT_MAX_LINE + 128];
	char *rows[MAX_LINES];
	size_t n = 0;

	write_log(log_path, head_path, N_EVENTS);
	lines_read(log_path, &l);
	/* Modelled on line 3 (seq 3, prev = mac of line 2), signed with the wrong key. */
	forge_line(l.v[2], other_key, forged, sizeof(forged));
	for (size_t i = 0; i < l.n; i++) {
		if (i == 2)
			rows[n++] = forged;
		rows[n++] = l.v[i];
	}
	lines_write(copy_path, rows, n);
	verify_one(copy_path, head_path, &v);
	assert_verdict(&v, AUDIT_INSERTED, copy_path, 3);
	verify_one(copy_path, NULL, &v);
	assert_verdict(&v, AUDIT_INSERTED, copy_path, 3);

	/* The same forgery signed with the real key would be accepted: the
	 * test above fails only for the missing key, not for its shape. */
	forge_line(l.v[2], test_key, forged, sizeof(forged));
	{
		char *one[MAX_LINES];
		size_t m = 0;
		for (size_t i = 0; i < l.n; i++)
			one[m++] = i == 2 ? forged : l.v[i];
		lines_write(copy_path, one, m);
		verify_one(copy_path, NULL, &v);
		/* Line 4 still names the real line 3, so the chain breaks at 4. */
		ck_assert_int_ne(v.problem, AUDIT_CLEAN);
		ck_assert_uint_eq(v.line, 4);
	}
	lines_free(&l);
}
END_TEST

START_TEST(test_verify_reordered)
{
	struct lines l;
	struct audit_verdict v;
	char *tmp;

	write_log(log_path, head_path, N_EVENTS);
	lines_read(log_path, &l);
	tmp = l.v[2];
	l.v[2] = l.v[3];
	l.v[3] = tmp;
	lines_write(copy_path, l.v, l.n);
	verify_one(copy_path, head_path, &v);
	assert_verdict(&v, AUDIT_REORDERED, copy_path, 3);
	verify_one(copy_path, NULL, &v);
	assert_verdict(&v, AUDIT_REORDERED, copy_path, 3);
	lines_free(&l);
}
END_TEST

START_TEST(test_verify_truncated_mid_line)
{
	struct lines l;
	struct audit_verdict v;
	FILE *f;

	write_log(log_path, head_path, N_EVENTS);
	lines_read(log_path, &l);
	f = fopen(copy_path, "w");
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i + 1 < l.n; i++)
		fprintf(f, "%s\n", l.v[i]);
	fwrite(l.v[l.n - 1], 1, strlen(l.v[l.n - 1]) / 2, f);
	ck_assert_int_eq(fclose(f), 0);
	verify_one(copy_path, head_path, &v);
	assert_verdict(&v, AUDIT_TRUNCATED, copy_path, N_EVENTS);
	verify_one(copy_path, NULL, &v);
	assert_verdict(&v, AUDIT_TRUNCATED, copy_path, N_EVENTS);

	/* Only the final newline missing. */
	f = fopen(copy_path, "w");
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < l.n; i++)
		fprintf(f, i + 1 < l.n ? "%s\n" : "%s", l.v[i]);
	ck_assert_int_eq(fclose(f), 0);
	verify_one(copy_path, head_path, &v);
	assert_verdict(&v, AUDIT_TRUNCATED, copy_path, N_EVENTS);
	lines_free(&l);
}
END_TEST

START_TEST(test_verify_truncated_whole_lines)
{
	struct lines l;
	struct audit_verdict v;

	write_log(log_path, head_path, N_EVENTS);
	lines_read(log_path, &l);
	lines_write(copy_path, l.v, l.n - 2);
	/* The head knows seq N was written: the gap shows after the last line. */
	verify_one(copy_path, head_path, &v);
	assert_verdict(&v, AUDIT_TRUNCATED, copy_path, N_EVENTS - 1);
	ck_assert_uint_eq(v.lines, N_EVENTS - 2);
	/* Without the head this cannot be seen (documented). */
	verify_one(copy_path, NULL, &v);
	assert_clean(&v, N_EVENTS - 2);
	/* Everything gone. */
	lines_write(copy_path, l.v, 0);
	verify_one(copy_path, head_path, &v);
	assert_verdict(&v, AUDIT_TRUNCATED, copy_path, 1);
	lines_free(&l);
}
END_TEST

START_TEST(test_verify_malformed)
{
	struct lines l;
	struct audit_verdict v;
	char *rows[MAX_LINES];
	char garbage[] = "this is not an audit line";
	char empty[] = "";
	size_t n = 0;

	write_log(log_path, head_path, N_EVENTS);
	lines_read(log_path, &l);
	for (size_t i = 0; i < l.n; i++) {
		if (i == 2)
			rows[n++] = garbage;
		rows[n++] = l.v[i];
	}
	lines_write(copy_path, rows, n);
	verify_one(copy_path, head_path, &v);
	assert_verdict(&v, AUDIT_MALFORMED, copy_path, 3);

	/* An empty line in place of line 3. */
	lines_write(copy_path, l.v, 2);
	{
		FILE *f = fopen(copy_path, "a");
		ck_assert_ptr_nonnull(f);
		fprintf(f, "%s\n", empty);
		for (size_t i = 3; i < l.n; i++)
			fprintf(f, "%s\n", l.v[i]);
		ck_assert_int_eq(fclose(f), 0);
	}
	verify_one(copy_path, NULL, &v);
	assert_verdict(&v, AUDIT_MALFORMED, copy_path, 3);
	lines_free(&l);
}
END_TEST

/* ---- rotation and resume ---- */

START_TEST(test_rotation_chains_across_files)
{
	char rotated[PATH_MAX + 8];
	struct audit_log *log;
	struct audit_verdict v;
	struct lines old, cur;
	struct jobject o_last, o_first;

	snprintf(rotated, sizeof(rotated), "%s.1", log_path);
	log = open_log(log_path, head_path);
	append_events(log, 1, 5);
	ck_assert_int_eq(rename(log_path, rotated), 0);
	ck_assert_int_eq(auditlog_reopen(log), PP_OK);
	append_events(log, 6, 5);
	auditlog_close(log);

	lines_read(rotated, &old);
	lines_read(log_path, &cur);
	ck_assert_uint_eq(old.n, 5);
	ck_assert_uint_eq(cur.n, 5);
	check_line_shape(old.v[4], &o_last);
	check_line_shape(cur.v[0], &o_first);
	ck_assert_str_eq(jget(&o_first, "seq")->str, "6");
	ck_assert_str_eq(jget(&o_first, "prev")->str, jget(&o_last, "mac")->str);

	{
		const char *pair[] = { rotated, log_path };
		verify(pair, 2, head_path, test_key, &v);
		assert_clean(&v, 10);
		verify(pair, 2, head_path, other_key, &v);
		ck_assert_int_ne(v.problem, AUDIT_CLEAN);
	}
	/* The new file alone is a valid continuation. */
	verify_one(log_path, head_path, &v);
	assert_clean(&v, 5);
	/* The rotated file alone ends before what the head recorded. */
	verify_one(rotated, head_path, &v);
	assert_verdict(&v, AUDIT_TRUNCATED, rotated, 6);
	{
		const char *wrong[] = { log_path, rotated };
		verify(wrong, 2, head_path, test_key, &v);
		ck_assert_int_ne(v.problem, AUDIT_CLEAN);
		ck_assert_int_eq(v.problem, AUDIT_REORDERED);
		ck_assert_str_eq(v.file, rotated);
		ck_assert_uint_eq(v.line, 1);
	}
	lines_free(&old);
	lines_free(&cur);
}
END_TEST

static void assert_seqs(const char *path, int n)
{
	struct lines l;

	lines_read(path, &l);
	ck_assert_uint_eq(l.n, (size_t)n);
	for (int i = 0; i < n; i++) {
		struct jobject o;
		char seq[16];
		check_line_shape(l.v[i], &o);
		snprintf(seq, sizeof(seq), "%d", i + 1);
		ck_assert_str_eq(jget(&o, "seq")->str, seq);
	}
	lines_free(&l);
}

START_TEST(test_resume_with_head)
{
	struct audit_log *log;
	struct audit_verdict v;

	write_log(log_path, head_path, 3);
	log = open_log(log_path, head_path);
	append_events(log, 4, 3);
	auditlog_close(log);
	assert_seqs(log_path, 6);
	verify_one(log_path, head_path, &v);
	assert_clean(&v, 6);
}
END_TEST

START_TEST(test_resume_without_head)
{
	struct audit_log *log;
	struct audit_verdict v;

	write_log(log_path, head_path, 3);
	ck_assert_int_eq(unlink(head_path), 0);
	log = open_log(log_path, head_path);
	append_events(log, 4, 3);
	auditlog_close(log);
	assert_seqs(log_path, 6);
	verify_one(log_path, head_path, &v);
	assert_clean(&v, 6);
	verify_one(log_path, NULL, &v);
	assert_clean(&v, 6);
}
END_TEST

START_TEST(test_resume_after_torn_last_line)
{
	struct audit_log *log;
	struct audit_verdict v;
	struct lines l;
	struct jobject o;
	FILE *f;

	/* A crash left half a line and no head: resume from the last whole line. */
	write_log(log_path, head_path, 3);
	ck_assert_int_eq(unlink(head_path), 0);
	f = fopen(log_path, "a");
	ck_assert_ptr_nonnull(f);
	fputs("{\"seq\":4,\"ts\":\"20", f);
	ck_assert_int_eq(fclose(f), 0);
	log = open_log(log_path, head_path);
	ck_assert_uint_eq(auditlog_torn_sealed(log), 17);
	append_events(log, 4, 1);
	auditlog_close(log);
	/* The torn bytes stay, sealed; a marker follows, then the event. */
	lines_read(log_path, &l);
	ck_assert_uint_eq(l.n, 6);
	ck_assert_str_eq(l.v[3], "{\"seq\":4,\"ts\":\"20");
	check_line_shape(l.v[4], &o);
	ck_assert_str_eq(jget(&o, "seq")->str, "4");
	ck_assert_str_eq(jget(&o, "event")->str, "audit_tail_repaired");
	ck_assert_int_eq(jget(&o, "reasons")->nelems, 1);
	ck_assert_str_eq(jget(&o, "reasons")->elems[0], "torn_bytes=17");
	check_line_shape(l.v[5], &o);
	ck_assert_str_eq(jget(&o, "seq")->str, "5");
	ck_assert_str_eq(jget(&o, "user")->str, "user4");
	lines_free(&l);
	/* verify names the torn line and checks every line after it. */
	verify_one(log_path, head_path, &v);
	assert_clean(&v, 6);
	ck_assert_uint_eq(v.torn, 1);
	ck_assert_uint_eq(v.nnotices, 1);
	ck_assert_int_eq(v.notices[0].problem, AUDIT_TORN);
	ck_assert_uint_eq(v.notices[0].line, 4);
	ck_assert_ptr_nonnull(strstr(v.notices[0].detail, "sealed by the daemon at restart"));
}
END_TEST

/* A torn line sealed by an older daemon (no marker): verify goes on past it. */
START_TEST(test_verify_goes_on_after_torn_line)
{
	struct audit_log *log;
	struct audit_verdict v;
	struct lines l;
	char *p;
	FILE *f;

	write_log(log_path, head_path, 3);
	f = fopen(log_path, "a");
	ck_assert_ptr_nonnull(f);
	fputs("{\"seq\":4,\"ts\":\"2023-11-14T22:1\n", f);   /* sealed, no marker */
	ck_assert_int_eq(fclose(f), 0);
	log = open_log(log_path, head_path);
	ck_assert_uint_eq(auditlog_torn_sealed(log), 0);
	append_events(log, 4, 4);
	auditlog_close(log);
	verify_one(log_path, head_path, &v);
	assert_clean(&v, 8);
	ck_assert_uint_eq(v.torn, 1);
	ck_assert_uint_eq(v.notices[0].line, 4);

	/* An edit after the torn line is still found, at its own line. */
	lines_read(log_path, &l);
	p = strstr(l.v[6], "\"user\":\"user");
	ck_assert_ptr_nonnull(p);
	p[strlen("\"user\":\"user")] = '9';
	lines_write(copy_path, l.v, l.n);
	lines_free(&l);
	verify_one(copy_path, head_path, &v);
	assert_verdict(&v, AUDIT_EDITED, copy_path, 7);
	ck_assert_uint_eq(v.torn, 1);

	/* A fragment with another seq than the chain needs is not a crash. */
	lines_read(log_path, &l);
	{
		char bogus[] = "{\"seq\":9,\"ts\":\"20";
		l.v[3] = bogus;
		lines_write(copy_path, l.v, l.n);
	}
	lines_free(&l);
	verify_one(copy_path, head_path, &v);
	assert_verdict(&v, AUDIT_MALFORMED, copy_path, 4);
}
END_TEST

/* Copied right after a crash, before the daemon restarted. */
START_TEST(test_verify_torn_tail_before_restart)
{
	struct audit_verdict v;
	FILE *f;
	char *text;

	write_log(log_path, head_path, 3);
	text = harness_read(log_path);
	ck_assert_ptr_nonnull(text);
	f = fopen(copy_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fputs("{\"seq\":4,\"ts\":\"2023", f);
	ck_assert_int_eq(fclose(f), 0);
	/* The head says seq 4 was never completed: torn, not truncated. */
	verify_one(copy_path, head_path, &v);
	assert_clean(&v, 4);
	ck_assert_uint_eq(v.torn, 1);
	ck_assert_uint_eq(v.notices[0].line, 4);
	/* Without the head it cannot be told from a cut: truncated. */
	verify_one(copy_path, NULL, &v);
	assert_verdict(&v, AUDIT_TRUNCATED, copy_path, 4);
	free(text);
}
END_TEST

/* A whole line that lost only its newline stays in the chain. */
START_TEST(test_resume_keeps_whole_line_without_newline)
{
	struct audit_log *log;
	struct audit_verdict v;
	struct lines l;
	struct jobject o;
	char head_text[1100];

	write_log(log_path, head_path, 3);
	lines_read(log_path, &l);
	check_line_shape(l.v[1], &o);
	/* The head one line behind, as after a crash before its rename. */
	snprintf(head_text, sizeof(head_text), "2 %s\n", jget(&o, "mac")->str);
	{
		FILE *f = fopen(log_path, "w");
		ck_assert_ptr_nonnull(f);
		fprintf(f, "%s\n%s\n%s", l.v[0], l.v[1], l.v[2]);
		ck_assert_int_eq(fclose(f), 0);
	}
	lines_free(&l);
	harness_write(head_path, head_text);
	ck_assert_int_eq(chmod(head_path, 0600), 0);
	log = open_log(log_path, head_path);
	ck_assert_uint_eq(auditlog_torn_sealed(log), 0);
	append_events(log, 4, 1);
	auditlog_close(log);
	assert_seqs(log_path, 4);
	verify_one(log_path, head_path, &v);
	assert_clean(&v, 4);
	ck_assert_uint_eq(v.torn, 0);
}
END_TEST

/* ---- a full disk: /dev/full fails every write with ENOSPC ---- */

/* The descriptor the open log writes to, found through /proc. */
static int log_fd(const char *path)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = -1;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL && found < 0) {
		char link[300], target[PATH_MAX];
		ssize_t n;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			if (strcmp(target, path) == 0)
				found = atoi(e->d_name);
		}
	}
	closedir(d);
	ck_assert_msg(found >= 0, "no descriptor open on %s", path);
	return found;
}

/* Point fd at /dev/full ("disk full") or back at the log ("space returns"). */
static void disk_full(int fd, bool full)
{
	int other = full ? open("/dev/full", O_WRONLY | O_CLOEXEC)
			 : open(log_path, O_RDWR | O_APPEND | O_CLOEXEC);

	ck_assert_int_ge(other, 0);
	ck_assert_int_eq(dup2(other, fd), fd);
	close(other);
}

static void write_failing(struct audit_log *log, int first, int count)
{
	for (int i = first; i < first + count; i++) {
		struct audit_event ev;
		char user[32];
		event_for(i, &ev, user, sizeof(user));
		ck_assert_int_eq(auditlog_write(log, &ev, BASE_TIME + 60LL * (i - 1)),
				 PP_ERR_IO);
	}
}

START_TEST(test_gap_marker_when_space_returns)
{
	struct audit_log *log = open_log(log_path, head_path);
	struct audit_verdict v;
	struct lines l;
	struct jobject o;
	size_t held;
	uint64_t lost;
	int fd;

	append_events(log, 1, 2);
	fd = log_fd(log_path);
	disk_full(fd, true);
	write_failing(log, 3, 3);
	auditlog_backlog(log, &held, &lost);
	ck_assert_uint_eq(held, 3);
	ck_assert_uint_eq(lost, 0);
	ck_assert_int_eq(auditlog_flush(log, BASE_TIME + 3600), PP_ERR_IO);
	disk_full(fd, false);
	append_events(log, 6, 1);
	auditlog_backlog(log, &held, &lost);
	ck_assert_uint_eq(held + lost, 0);
	auditlog_close(log);

	/* 1, 2, the gap marker (3), the held events 3..5 (4..6), event 6 (7). */
	lines_read(log_path, &l);
	ck_assert_uint_eq(l.n, 7);
	check_line_shape(l.v[2], &o);
	ck_assert_str_eq(jget(&o, "seq")->str, "3");
	ck_assert_str_eq(jget(&o, "event")->str, "audit_gap");
	ck_assert_int_eq(jget(&o, "reasons")->nelems, 4);
	ck_assert_str_eq(jget(&o, "reasons")->elems[0], "events_held=3");
	ck_assert_str_eq(jget(&o, "reasons")->elems[1], "events_lost=0");
	ck_assert_str_eq(jget(&o, "reasons")->elems[2], "from=2023-11-14T22:15:20Z");
	ck_assert_str_eq(jget(&o, "reasons")->elems[3], "to=2023-11-14T22:17:20Z");
	for (int i = 3; i <= 5; i++) {
		char user[16];
		check_line_shape(l.v[i], &o);
		snprintf(user, sizeof(user), "user%d", i);
		ck_assert_str_eq(jget(&o, "user")->str, user);
	}
	/* A held event keeps the time it happened. */
	check_line_shape(l.v[3], &o);
	ck_assert_str_eq(jget(&o, "ts")->str, "2023-11-14T22:15:20Z");
	lines_free(&l);

	/* verify reports the gap; nothing is missing, so the verdict is clean. */
	verify_one(log_path, head_path, &v);
	assert_clean(&v, 7);
	ck_assert_uint_eq(v.gaps, 1);
	ck_assert_uint_eq(v.events_held, 3);
	ck_assert_uint_eq(v.events_lost, 0);
	ck_assert_uint_eq(v.nnotices, 1);
	ck_assert_int_eq(v.notices[0].problem, AUDIT_GAP);
	ck_assert_uint_eq(v.notices[0].line, 3);
	ck_assert_ptr_nonnull(strstr(v.notices[0].detail, "3 event(s) held"));
}
END_TEST

START_TEST(test_gap_counts_events_beyond_memory)
{
	struct audit_log *log = open_log(log_path, head_path);
	struct audit_verdict v;
	size_t held;
	uint64_t lost;
	int fd;

	append_events(log, 1, 2);
	fd = log_fd(log_path);
	disk_full(fd, true);
	write_failing(log, 3, AUDIT_MAX_HELD + 4);
	auditlog_backlog(log, &held, &lost);
	ck_assert_uint_eq(held, AUDIT_MAX_HELD);
	ck_assert_uint_eq(lost, 4);
	disk_full(fd, false);
	ck_assert_int_eq(auditlog_flush(log, BASE_TIME + 86400), PP_OK);
	auditlog_close(log);

	verify_one(log_path, head_path, &v);
	assert_verdict(&v, AUDIT_GAP, log_path, 3);
	ck_assert_uint_eq(v.lines, 2 + 1 + AUDIT_MAX_HELD);
	ck_assert_uint_eq(v.events_lost, 4);
	ck_assert_uint_eq(v.events_held, AUDIT_MAX_HELD);
	ck_assert_uint_eq(v.nnotices, 1);
	ck_assert_msg(strstr(v.notices[0].detail,
			     "4 event(s) missing between seq 2 and 3") != NULL,
		      "detail: %s", v.notices[0].detail);
}
END_TEST

/* Failed writes leave the chain whole, also across a close and reopen. */
START_TEST(test_chain_whole_after_failed_writes)
{
	struct audit_log *log = open_log(log_path, head_path);
	struct audit_verdict v;
	int fd;

	append_events(log, 1, 1);
	fd = log_fd(log_path);
	disk_full(fd, true);
	write_failing(log, 2, 1);
	disk_full(fd, false);
	append_events(log, 3, 2);
	auditlog_close(log);
	/* Reopened: the file ends cleanly, nothing to seal. */
	log = open_log(log_path, head_path);
	ck_assert_uint_eq(auditlog_torn_sealed(log), 0);
	append_events(log, 5, 1);
	auditlog_close(log);
	verify_one(log_path, head_path, &v);
	assert_clean(&v, 6);
	ck_assert_uint_eq(v.gaps, 1);
}
END_TEST

/* ---- the key belongs to its data ---- */

START_TEST(test_key_bound_to_log_and_head)
{
	char rotated[PATH_MAX + 8];
	struct audit_log *log;
	bool has = true;

	/* Nothing yet: no data, any key is fine. */
	ck_assert_int_eq(auditlog_has_data(log_path, head_path, &has), PP_OK);
	ck_assert(!has);
	ck_assert_int_eq(auditlog_key_matches(log_path, head_path, other_key),
			 AUDITLOG_KEY_NO_DATA);

	write_log(log_path, head_path, 3);
	ck_assert_int_eq(auditlog_has_data(log_path, head_path, &has), PP_OK);
	ck_assert(has);
	ck_assert_int_eq(auditlog_key_matches(log_path, head_path, test_key),
			 AUDITLOG_KEY_MATCHES);
	ck_assert_int_eq(auditlog_key_matches(log_path, head_path, other_key),
			 AUDITLOG_KEY_DIFFERS);
	/* The log alone (head lost) binds the key too. */
	ck_assert_int_eq(auditlog_key_matches(log_path, "/nonexistent", other_key),
			 AUDITLOG_KEY_DIFFERS);

	/* Rotated away: the head alone still knows the key. */
	snprintf(rotated, sizeof(rotated), "%s.1", log_path);
	ck_assert_int_eq(rename(log_path, rotated), 0);
	ck_assert_int_eq(auditlog_has_data(log_path, head_path, &has), PP_OK);
	ck_assert(has);
	ck_assert_int_eq(auditlog_key_matches(log_path, head_path, test_key),
			 AUDITLOG_KEY_MATCHES);
	ck_assert_int_eq(auditlog_key_matches(log_path, head_path, other_key),
			 AUDITLOG_KEY_DIFFERS);
	/* And the new file chains on under it. */
	log = open_log(log_path, head_path);
	append_events(log, 4, 1);
	auditlog_close(log);
	ck_assert_int_eq(auditlog_key_matches(log_path, head_path, other_key),
			 AUDITLOG_KEY_DIFFERS);

	/* A head from before check values, and no line: cannot be proven. */
	ck_assert_int_eq(unlink(log_path), 0);
	harness_write(head_path, "4 00000000000000000000000000000000"
		      "00000000000000000000000000000000\n");
	ck_assert_int_eq(chmod(head_path, 0600), 0);
	ck_assert_int_eq(auditlog_key_matches(log_path, head_path, other_key),
			 AUDITLOG_KEY_UNPROVEN);
}
END_TEST

/* The head's third field is the documented keyed check value. */
START_TEST(test_head_carries_check_value)
{
	char *text, seq[32], mac[80], check[80], body[256], want[AUDIT_MAC_HEX + 1];
	uint8_t bin[32];

	write_log(log_path, head_path, 2);
	text = harness_read(head_path);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(sscanf(text, "%31s %79s %79s", seq, mac, check), 3);
	ck_assert_str_eq(seq, "2");
	snprintf(body, sizeof(body), "pam_policy audit head v1 %s %s", seq, mac);
	crypto_generichash(bin, sizeof(bin), (const unsigned char *)body, strlen(body),
			   test_key, AUDIT_KEY_BYTES);
	sodium_bin2hex(want, sizeof(want), bin, sizeof(bin));
	ck_assert_str_eq(check, want);
	free(text);
}
END_TEST

START_TEST(test_resume_with_corrupt_head_and_empty_log)
{
	struct audit_log *log;
	struct audit_verdict v;
	struct lines l;
	struct jobject o;

	/*
	 * The head is unreadable (a bad mac) and the log is empty, e.g. right
	 * after a rotation. The writer must still produce well-formed lines
	 * (a 64-hex-digit prev) that verify.
	 */
	harness_write(head_path, "5 abc\n");
	log = open_log(log_path, head_path);
	append_events(log, 1, 2);
	auditlog_close(log);
	lines_read(log_path, &l);
	ck_assert_uint_eq(l.n, 2);
	check_line_shape(l.v[0], &o);
	lines_free(&l);
	verify_one(log_path, NULL, &v);
	assert_clean(&v, 2);
}
END_TEST

static Suite *audit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *tc;

	tc = tcase_create("format");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lines_are_json_with_all_fields);
	tcase_add_test(tc, test_timestamps_are_rfc3339_utc);
	tcase_add_test(tc, test_json_escaping);
	tcase_add_test(tc, test_json_string_bounds);
	tcase_add_test(tc, test_file_mode_0640);
	tcase_add_test(tc, test_write_rejects_bad_events);
	tcase_add_test(tc, test_problem_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("verify");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_verify_clean_needs_right_key);
	tcase_add_test(tc, test_verify_edited);
	tcase_add_test(tc, test_verify_deleted);
	tcase_add_test(tc, test_verify_inserted);
	tcase_add_test(tc, test_verify_reordered);
	tcase_add_test(tc, test_verify_truncated_mid_line);
	tcase_add_test(tc, test_verify_truncated_whole_lines);
	tcase_add_test(tc, test_verify_malformed);
	suite_add_tcase(s, tc);

	tc = tcase_create("rotation");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_rotation_chains_across_files);
	tcase_add_test(tc, test_resume_with_head);
	tcase_add_test(tc, test_resume_without_head);
	tcase_add_test(tc, test_resume_after_torn_last_line);
	tcase_add_test(tc, test_resume_with_corrupt_head_and_empty_log);
	tcase_add_test(tc, test_verify_goes_on_after_torn_line);
	tcase_add_test(tc, test_verify_torn_tail_before_restart);
	tcase_add_test(tc, test_resume_keeps_whole_line_without_newline);
	suite_add_tcase(s, tc);

	tc = tcase_create("disk_full");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_gap_marker_when_space_returns);
	tcase_add_test(tc, test_gap_counts_events_beyond_memory);
	tcase_add_test(tc, test_chain_whole_after_failed_writes);
	suite_add_tcase(s, tc);

	tc = tcase_create("key");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_key_bound_to_log_and_head);
	tcase_add_test(tc, test_head_carries_check_value);
	suite_add_tcase(s, tc);
	return s;
}

void test_before_all(void)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "sodium_init failed\n");
		exit(1);
	}
}

Suite *test_suite(void)
{
	return audit_suite();
}
