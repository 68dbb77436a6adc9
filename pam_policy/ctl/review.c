/*
 * review.c - pam_policyctl review: receive the access-review rows the
 * daemon computed and write them as a table, CSV or JSON with a header.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "review.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aging.h"
#include "auditlog.h"
#include "bounds.h"
#include "client.h"
#include "i18n.h"
#include "proto.h"
#include "report.h"
#include "request.h"
#include "utf8.h"

struct review_row {
	char *user;
	bool uid_known;
	unsigned long long uid;
	enum aging_state state;
	int64_t last_change, last_login;
	unsigned exemption;          /* enum proto_exemption */
	char *exempt_group;          /* "" unless PROTO_EXEMPTION_GROUP */
	char *groups;                /* privileged groups, comma-separated */
};

struct review {
	struct review_row *rows;
	size_t n, cap;
	int64_t now;
	char host[PROTO_MAX_STR + 1];
	char policy[PROTO_MAX_STR + 1];
};

void review_free(struct review *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++) {
		free(v->rows[i].user);
		free(v->rows[i].exempt_group);
		free(v->rows[i].groups);
	}
	free(v->rows);
	free(v);
}

size_t review_count(const struct review *v)
{
	return v->n;
}

/* A string field as a new NUL-terminated string (NULL: no memory / bad). */
static char *field_dup(const struct proto_msg *m, unsigned idx)
{
	char *s = malloc(m->f[idx].len + 1);

	if (s != NULL && proto_copy_str(m, idx, s, m->f[idx].len + 1) != PP_OK) {
		free(s);
		return NULL;
	}
	return s;
}

/* One PROTO_REVIEW_ROW into v, checked. */
static pp_err review_add(struct review *v, const struct proto_msg *m)
{
	uint64_t flags = m->f[PROTO_REVIEW_ROW_FLAGS].u64;
	struct review_row *row;

	if (m->f[PROTO_REVIEW_ROW_STATE].u64 >= AGING_STATE_COUNT ||
	    m->f[PROTO_REVIEW_ROW_EXEMPTION].u64 >= PROTO_EXEMPTION_COUNT ||
	    (flags & ~(uint64_t)PROTO_REPORT_ROW_FLAGS_ALL) != 0 ||
	    m->f[PROTO_REVIEW_ROW_USER].len > PP_NAME_MAX ||
	    m->f[PROTO_REVIEW_ROW_LAST_CHANGE].u64 > INT64_MAX ||
	    m->f[PROTO_REVIEW_ROW_LAST_LOGIN].u64 > INT64_MAX)
		return PP_ERR_PROTOCOL;
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 256;
		struct review_row *nv = realloc(v->rows, cap * sizeof(*nv));

		if (nv == NULL)
			return PP_ERR_NOMEM;
		v->rows = nv;
		v->cap = cap;
	}
	row = &v->rows[v->n];
	memset(row, 0, sizeof(*row));
	row->user = field_dup(m, PROTO_REVIEW_ROW_USER);
	row->exempt_group = field_dup(m, PROTO_REVIEW_ROW_EXEMPT_GROUP);
	row->groups = field_dup(m, PROTO_REVIEW_ROW_GROUPS);
	v->n++;               /* freed with v from here on, even when incomplete */
	if (row->user == NULL || row->exempt_group == NULL || row->groups == NULL)
		return PP_ERR_NOMEM;
	row->uid_known = (flags & PROTO_REPORT_ROW_KNOWN_UID) != 0;
	row->uid = m->f[PROTO_REVIEW_ROW_UID].u64;
	row->state = (enum aging_state)m->f[PROTO_REVIEW_ROW_STATE].u64;
	row->last_change = (int64_t)m->f[PROTO_REVIEW_ROW_LAST_CHANGE].u64;
	row->last_login = (int64_t)m->f[PROTO_REVIEW_ROW_LAST_LOGIN].u64;
	row->exemption = (unsigned)m->f[PROTO_REVIEW_ROW_EXEMPTION].u64;
	return PP_OK;
}

static pp_err review_end(struct review *v, const struct proto_msg *m)
{
	if (m->f[PROTO_REVIEW_END_COUNT].u64 != v->n ||
	    m->f[PROTO_REVIEW_END_NOW].u64 > INT64_MAX ||
	    proto_copy_str(m, PROTO_REVIEW_END_HOST, v->host, sizeof(v->host)) != PP_OK ||
	    proto_copy_str(m, PROTO_REVIEW_END_POLICY, v->policy, sizeof(v->policy)) != PP_OK)
		return PP_ERR_PROTOCOL;
	v->now = (int64_t)m->f[PROTO_REVIEW_END_NOW].u64;
	return PP_OK;
}

pp_err review_fetch(const struct policy *p, struct review **out)
{
	uint8_t buf[PROTO_MAX_FRAME];
	struct proto_msg req, msg;
	struct review *v = calloc(1, sizeof(*v));
	int fd = -1;
	pp_err rc;

	*out = NULL;
	if (v == NULL)
		return PP_ERR_NOMEM;
	proto_msg_init(&req, PROTO_REVIEW);
	rc = client_connect(p->socket, p->timeout_ms, &fd);
	if (rc == PP_OK)
		rc = client_call(fd, &req, buf, sizeof(buf), &msg, p->timeout_ms);
	while (rc == PP_OK) {
		if (msg.type == PROTO_REPLY) {
			rc = request_status_to_error(msg.f[PROTO_REPLY_STATUS].u64);
			if (rc == PP_OK)
				rc = PP_ERR_PROTOCOL;
			break;
		}
		if (msg.type == PROTO_REVIEW_END) {
			rc = review_end(v, &msg);
			break;
		}
		rc = msg.type == PROTO_REVIEW_ROW ? review_add(v, &msg) : PP_ERR_PROTOCOL;
		if (rc == PP_OK)
			rc = client_recv(fd, buf, sizeof(buf), &msg, p->timeout_ms);
	}
	client_close(&fd);
	if (rc != PP_OK) {
		review_free(v);
		return rc;
	}
	*out = v;
	return PP_OK;
}

/* ---- output ---- */

enum { COL_USER, COL_UID, COL_GROUPS, COL_LOGIN, COL_CHANGE, COL_STATE, COL_EXEMPT,
       COL_REASON, NCOLS };

static const char *const col_keys[NCOLS] = {
	"user", "uid", "privileged_groups", "last_login", "last_change", "state",
	"exempt", "exempt_reason",
};
/* TRANSLATORS: the column titles of "pam_policyctl review" (a table):
   upper case, short, no spaces (an underscore joins words). */
static const char *const col_titles[NCOLS] = {
	N_("USER"), N_("UID"), N_("PRIVILEGED_GROUPS"), N_("LAST_LOGIN"),
	N_("LAST_CHANGE"), N_("STATE"), N_("EXEMPT"), N_("EXEMPT_REASON"),
};

/* Room for a cell: a name made printable, or "exempt group NAME". */
#define CELL_MAX (PROTO_MAX_STR + 32)

struct cells {
	char v[NCOLS][CELL_MAX];
};

static void date_cell(int64_t t, char *buf)
{
	if (t != 0)
		aging_format_date(t, buf, CELL_MAX);
	else
		buf[0] = '\0';
}

/* Why an account is exempt: N_() words, translated for the table only. */
static const char *reason_text(unsigned exemption)
{
	switch (exemption) {
	case PROTO_EXEMPTION_USER:
		return N_("exempt user");
	case PROTO_EXEMPTION_GROUP:
		return N_("exempt group");
	case PROTO_EXEMPTION_SYSTEM:
		return N_("system account");
	case PROTO_EXEMPTION_NOT_LOCAL:
		return N_("not a local user");
	default:
		return "";
	}
}

/* msgid in the user's language when human (the table), else as it is. */
static const char *cell_word(const char *msgid, bool human)
{
	return human && msgid[0] != '\0' ? _(msgid) : msgid;
}

/*
 * Every cell of a row as text; "" is unknown or empty. human: the table's
 * words in the user's language; CSV and JSON keep the English codes.
 */
static void row_cells(const struct review_row *row, struct cells *c, bool human)
{
	char group[PP_NAME_MAX + 1];

	(void)report_printable(row->user, c->v[COL_USER], CELL_MAX);
	if (row->uid_known)
		snprintf(c->v[COL_UID], CELL_MAX, "%llu", row->uid);
	else
		c->v[COL_UID][0] = '\0';
	(void)report_printable(row->groups, c->v[COL_GROUPS], CELL_MAX);
	date_cell(row->last_login, c->v[COL_LOGIN]);
	date_cell(row->last_change, c->v[COL_CHANGE]);
	snprintf(c->v[COL_STATE], CELL_MAX, "%s",
		 human ? aging_state_label(row->state) : aging_state_name(row->state));
	snprintf(c->v[COL_EXEMPT], CELL_MAX, "%s",
		 cell_word(row->exemption != PROTO_EXEMPTION_NONE ? N_("yes") : N_("no"),
			   human));
	if (row->exemption == PROTO_EXEMPTION_GROUP && row->exempt_group[0] != '\0') {
		(void)report_printable(row->exempt_group, group, sizeof(group));
		snprintf(c->v[COL_REASON], CELL_MAX,
			 /* TRANSLATORS: %s is a group name. */
			 human ? _("exempt group %s") : "exempt group %s", group);
	} else {
		snprintf(c->v[COL_REASON], CELL_MAX, "%s",
			 cell_word(reason_text(row->exemption), human));
	}
}

/* "2026-01-31T12:00:00Z": the daemon's clock, UTC, RFC 3339. */
static void rfc3339(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "unknown");
}

/*
 * The header lines, each behind "# " (the table and CSV); human: in the
 * user's language (the table).
 */
static void write_header(const struct review *v, const char *eol, bool human, FILE *out)
{
	char when[40], host[sizeof(v->host)], policy[sizeof(v->policy)];

	rfc3339(v->now, when, sizeof(when));
	(void)report_printable(v->host, host, sizeof(host));
	(void)report_printable(v->policy, policy, sizeof(policy));
	if (!human) {
		fprintf(out, "# access review of %s%s", host, eol);
		fprintf(out, "# generated: %s%s", when, eol);
		fprintf(out, "# policy: %s%s", policy, eol);
		fprintf(out, "# accounts: %zu%s", v->n, eol);
		return;
	}
	/* TRANSLATORS: the header lines of "pam_policyctl review"; %s is the
	   host name, a time (RFC 3339), the policy's settings. */
	fprintf(out, _("# access review of %s"), host);
	fputs(eol, out);
	fprintf(out, _("# generated: %s"), when);
	fputs(eol, out);
	fprintf(out, _("# policy: %s"), policy);
	fputs(eol, out);
	fprintf(out, _("# accounts: %zu"), v->n);
	fputs(eol, out);
}

static void write_table(const struct review *v, FILE *out)
{
	struct cells *cells = malloc(sizeof(*cells));
	int width[NCOLS];

	if (cells == NULL)
		return;
	write_header(v, "\n", true, out);
	for (int c = 0; c < NCOLS; c++)
		width[c] = report_text_width(_(col_titles[c]));
	for (size_t i = 0; i < v->n; i++) {
		row_cells(&v->rows[i], cells, true);
		for (int c = 0; c < NCOLS; c++) {
			int len = cells->v[c][0] ? (int)utf8_length(cells->v[c], strlen(cells->v[c])) : 1;
			if (len > width[c])
				width[c] = len;
		}
	}
	for (int c = 0; c < NCOLS; c++) {
		const char *title = _(col_titles[c]);
		int pad = width[c] - report_text_width(title);

		fputs(title, out);
		if (c + 1 < NCOLS)
			fprintf(out, "%*s  ", pad > 0 ? pad : 0, "");
		else
			putc('\n', out);
	}
	for (size_t i = 0; i < v->n; i++) {
		row_cells(&v->rows[i], cells, true);
		for (int c = 0; c < NCOLS; c++) {
			const char *s = cells->v[c][0] ? cells->v[c] : "-";
			int pad = width[c] - (int)utf8_length(s, strlen(s));

			fputs(s, out);
			if (c + 1 == NCOLS) {
				putc('\n', out);
				break;
			}
			fprintf(out, "%*s  ", pad > 0 ? pad : 0, "");
		}
	}
	free(cells);
}

/* A CSV text cell: a leading =, +, - or @ is guarded (spreadsheet formulas). */
static void csv_text(const char *s, FILE *out)
{
	char guarded[CELL_MAX + 1];

	if (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		snprintf(guarded, sizeof(guarded), "'%s", s);
		report_csv_field(guarded, out);
	} else {
		report_csv_field(s, out);
	}
}

static void write_csv(const struct review *v, FILE *out)
{
	struct cells *cells = malloc(sizeof(*cells));

	if (cells == NULL)
		return;
	write_header(v, "\r\n", false, out);
	for (int c = 0; c < NCOLS; c++)
		fprintf(out, "%s%s", col_keys[c], c + 1 < NCOLS ? "," : "\r\n");
	for (size_t i = 0; i < v->n; i++) {
		row_cells(&v->rows[i], cells, false);
		for (int c = 0; c < NCOLS; c++) {
			csv_text(cells->v[c], out);
			fputs(c + 1 < NCOLS ? "," : "\r\n", out);
		}
	}
	free(cells);
}

static void write_json(const struct review *v, FILE *out)
{
	struct cells *cells = malloc(sizeof(*cells));
	char when[40];

	if (cells == NULL)
		return;
	rfc3339(v->now, when, sizeof(when));
	fputs("{\"host\":", out);
	report_json_string(v->host, out);
	fprintf(out, ",\"generated\":\"%s\",\"policy\":", when);
	report_json_string(v->policy, out);
	fputs(",\"accounts\":[", out);
	for (size_t i = 0; i < v->n; i++) {
		const struct review_row *row = &v->rows[i];

		row_cells(row, cells, false);
		fputs(i ? ",\n {" : "\n {", out);
		for (int c = 0; c < NCOLS; c++) {
			fprintf(out, "%s\"%s\":", c ? "," : "", col_keys[c]);
			if (c == COL_UID)
				fputs(cells->v[c][0] ? cells->v[c] : "null", out);
			else if (c == COL_EXEMPT)
				fputs(row->exemption != PROTO_EXEMPTION_NONE ? "true" : "false", out);
			else if (c == COL_USER)
				report_json_string(row->user, out);
			else if (cells->v[c][0] == '\0' && c != COL_GROUPS)
				fputs("null", out);
			else
				report_json_string(cells->v[c], out);
		}
		putc('}', out);
	}
	fputs(v->n ? "\n]}\n" : "]}\n", out);
	free(cells);
}

void review_write(const struct review *v, enum report_format fmt, FILE *out)
{
	switch (fmt) {
	case REPORT_CSV:
		write_csv(v, out);
		break;
	case REPORT_JSON:
		write_json(v, out);
		break;
	case REPORT_TABLE:
	default:
		write_table(v, out);
		break;
	}
}
