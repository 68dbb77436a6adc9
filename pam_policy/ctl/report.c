/*
 * report.c - report rows: the daemon's users joined with NSS users.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "report.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "auditlog.h"
#include "users.h"

/* Output is written by one thread under flockfile: skip per-call locking. */
#define putc(c, f) putc_unlocked((c), (f))
#define fputs(s, f) fputs_unlocked((s), (f))
#define fwrite(p, n, m, f) fwrite_unlocked((p), (n), (m), (f))

struct stored_user {
	char *name;
	int64_t first_seen, last_change;
	long history;
	bool must_change;
};

struct nss_user {
	char *name;
	uid_t uid;
	gid_t gid;
	size_t seq;               /* enumeration order: the first entry wins */
};

struct report {
	struct policy policy;
	int64_t now;
	struct stored_user *stored;
	size_t nstored, capstored;
	struct nss_user *nss;
	size_t nnss, capnss;
	gid_t *exempt_gids;
	size_t ngids, capgids;
	char **exempt_members;    /* sorted by report_finish */
	size_t nmembers, capmembers;
	char **local;             /* sorted by report_finish */
	size_t nlocal, caplocal;
	struct report_row *rows;
	size_t nrows, caprows;
	size_t counts[AGING_STATE_COUNT];
	bool finished;
};

/* Make room for one more element of size elem in *arr (count n, capacity *cap). */
static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 64;
	if (ncap > SIZE_MAX / elem)
		return false;
	p = realloc(*arr, ncap * elem);
	if (p == NULL)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

static bool name_ok(const char *name)
{
	return name != NULL && name[0] != '\0' && strlen(name) < REPORT_MAX_NAME;
}

struct report *report_new(const struct policy *p, int64_t now)
{
	struct report *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->policy = *p;
	r->now = now;
	return r;
}

void report_free(struct report *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nstored; i++)
		free(r->stored[i].name);
	for (size_t i = 0; i < r->nnss; i++)
		free(r->nss[i].name);
	for (size_t i = 0; i < r->nmembers; i++)
		free(r->exempt_members[i]);
	for (size_t i = 0; i < r->nlocal; i++)
		free(r->local[i]);
	free(r->stored);
	free(r->nss);
	free(r->exempt_gids);
	free(r->exempt_members);
	free(r->local);
	free(r->rows);
	free(r);
}

pp_err report_add_stored(struct report *r, const char *name, int64_t first_seen,
			 int64_t last_change, uint64_t state, long history,
			 bool must_change)
{
	struct stored_user *u;

	if (!name_ok(name) || state >= AGING_STATE_COUNT)
		return PP_ERR_INVALID;
	if (!grow((void **)&r->stored, &r->capstored, r->nstored, sizeof(*r->stored)))
		return PP_ERR_NOMEM;
	u = &r->stored[r->nstored];
	memset(u, 0, sizeof(*u));
	if ((u->name = strdup(name)) == NULL)
		return PP_ERR_NOMEM;
	r->nstored++;
	u->first_seen = first_seen;
	u->last_change = last_change;
	u->history = history;
	u->must_change = must_change;
	return PP_OK;
}

pp_err report_add_nss(struct report *r, const char *name, uid_t uid, gid_t gid)
{
	struct nss_user *u;

	if (!name_ok(name))
		return PP_ERR_INVALID;
	if (!grow((void **)&r->nss, &r->capnss, r->nnss, sizeof(*r->nss)))
		return PP_ERR_NOMEM;
	u = &r->nss[r->nnss];
	memset(u, 0, sizeof(*u));
	if ((u->name = strdup(name)) == NULL)
		return PP_ERR_NOMEM;
	u->uid = uid;
	u->gid = gid;
	u->seq = r->nnss++;
	return PP_OK;
}

static pp_err add_name(char ***arr, size_t *n, size_t *cap, const char *name)
{
	if (!name_ok(name))
		return PP_OK;       /* too long to be a user we track: cannot match */
	if (!grow((void **)arr, cap, *n, sizeof(char *)))
		return PP_ERR_NOMEM;
	if (((*arr)[*n] = strdup(name)) == NULL)
		return PP_ERR_NOMEM;
	(*n)++;
	return PP_OK;
}

pp_err report_add_group(struct report *r, const char *name, gid_t gid,
			char *const *members)
{
	pp_err rc;

	if (name == NULL || !policy_list_contains(r->policy.exempt_groups, name))
		return PP_OK;
	if (!grow((void **)&r->exempt_gids, &r->capgids, r->ngids, sizeof(gid_t)))
		return PP_ERR_NOMEM;
	r->exempt_gids[r->ngids++] = gid;
	for (size_t i = 0; members != NULL && members[i] != NULL; i++) {
		rc = add_name(&r->exempt_members, &r->nmembers, &r->capmembers, members[i]);
		if (rc != PP_OK)
			return rc;
	}
	return PP_OK;
}

pp_err report_set_local_users(struct report *r, const char *passwd_file)
{
	FILE *f = fopen(passwd_file, "re");
	char *line = NULL, *colon;
	size_t cap = 0;
	pp_err rc = PP_OK;

	r->nlocal = 0;
	if (f == NULL)
		return errno == ENOENT ? PP_OK : PP_ERR_IO;
	while (rc == PP_OK && getline(&line, &cap, f) >= 0) {
		colon = strchr(line, ':');
		if (colon == NULL || colon == line)
			continue;
		*colon = '\0';
		rc = add_name(&r->local, &r->nlocal, &r->caplocal, line);
	}
	free(line);
	fclose(f);
	return rc;
}

pp_err report_load_nss(struct report *r)
{
	struct passwd *pw;
	struct group *gr;
	pp_err rc = PP_OK;

	setpwent();
	errno = 0;
	while (rc == PP_OK && (pw = getpwent()) != NULL) {
		rc = report_add_nss(r, pw->pw_name, pw->pw_uid, pw->pw_gid);
		if (rc == PP_ERR_INVALID)
			rc = PP_OK;     /* a name we could never match: skip it */
	}
	endpwent();
	if (rc != PP_OK)
		return rc;
	if (r->policy.exempt_groups[0] != '\0') {
		setgrent();
		while (rc == PP_OK && (gr = getgrent()) != NULL)
			rc = report_add_group(r, gr->gr_name, gr->gr_gid, gr->gr_mem);
		endgrent();
		if (rc != PP_OK)
			return rc;
	}
	if (r->policy.local_users_only)
		rc = report_set_local_users(r, USERS_PASSWD_FILE);
	return rc;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_stored(const void *a, const void *b)
{
	return strcmp(((const struct stored_user *)a)->name,
		      ((const struct stored_user *)b)->name);
}

static int cmp_nss(const void *a, const void *b)
{
	const struct nss_user *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool in_sorted(char *const *arr, size_t n, const char *name)
{
	return n > 0 && bsearch(&name, arr, n, sizeof(*arr), cmp_name) != NULL;
}

/* users_coverage over the data enumerated once (no per-user NSS call). */
static enum users_coverage coverage(const struct report *r, const struct nss_user *u)
{
	if (policy_list_contains(r->policy.exempt_users, u->name))
		return USERS_EXEMPT_USER;
	for (size_t i = 0; i < r->ngids; i++)
		if (r->exempt_gids[i] == u->gid)
			return USERS_EXEMPT_GROUP;
	if (in_sorted(r->exempt_members, r->nmembers, u->name))
		return USERS_EXEMPT_GROUP;
	if (u->uid != 0 && (long)u->uid < r->policy.min_uid)
		return USERS_SYSTEM_ACCOUNT;
	if (r->policy.local_users_only && !in_sorted(r->local, r->nlocal, u->name))
		return USERS_NOT_LOCAL;
	return USERS_COVERED;
}

/* Append the row for one user; s or n (not both) may be NULL. */
static pp_err add_row(struct report *r, const struct stored_user *s,
		      const struct nss_user *n)
{
	struct aging_facts facts = { 0, 0, false };
	struct aging_status st;
	struct report_row *row;
	bool exempt;

	if (n != NULL) {
		enum users_coverage c = coverage(r, n);
		if (c == USERS_SYSTEM_ACCOUNT || c == USERS_NOT_LOCAL)
			return PP_OK;
		exempt = c == USERS_EXEMPT_USER || c == USERS_EXEMPT_GROUP;
	} else {
		if (r->policy.local_users_only)
			return PP_OK;
		exempt = policy_list_contains(r->policy.exempt_users, s->name);
	}
	if (!grow((void **)&r->rows, &r->caprows, r->nrows, sizeof(*r->rows)))
		return PP_ERR_NOMEM;
	row = &r->rows[r->nrows++];
	memset(row, 0, sizeof(*row));
	row->user = n ? n->name : s->name;
	row->uid = n ? (long long)n->uid : REPORT_NO_UID;
	if (s != NULL) {
		facts.last_change = s->last_change;
		facts.first_seen = s->first_seen;
		facts.must_change = s->must_change;
		row->first_seen = s->first_seen;
		row->last_change = s->last_change;
		row->history = s->history;
		row->must_change = s->must_change;
		row->in_store = true;
	}
	aging_evaluate(&facts, r->now, r->policy.max_age_days, r->policy.warn_days, &st);
	row->state = st.state;
	row->has_age = st.clock_start != 0;
	row->age_days = st.age_days;
	row->expires = st.expires;
	row->days_left = st.days_left;
	if (exempt) {
		row->state = AGING_EXEMPT;
		row->expires = 0;
		row->days_left = 0;
	}
	r->counts[row->state]++;
	return PP_OK;
}

pp_err report_finish(struct report *r)
{
	size_t i = 0, j = 0;
	pp_err rc = PP_OK;

	if (r->finished)
		return PP_ERR_INVALID;
	r->finished = true;
	/* qsort's base may not be NULL, even for zero elements. */
	if (r->nstored > 1)
		qsort(r->stored, r->nstored, sizeof(*r->stored), cmp_stored);
	if (r->nnss > 1)
		qsort(r->nss, r->nnss, sizeof(*r->nss), cmp_nss);
	if (r->nmembers > 1)
		qsort(r->exempt_members, r->nmembers, sizeof(char *), cmp_name);
	if (r->nlocal > 1)
		qsort(r->local, r->nlocal, sizeof(char *), cmp_name);
	while (rc == PP_OK && (i < r->nstored || j < r->nnss)) {
		int c;

		/* Skip later duplicates of an NSS name (files + sss, say). */
		if (j > 0 && j < r->nnss && strcmp(r->nss[j].name, r->nss[j - 1].name) == 0) {
			j++;
			continue;
		}
		if (i >= r->nstored)
			c = 1;
		else if (j >= r->nnss)
			c = -1;
		else
			c = strcmp(r->stored[i].name, r->nss[j].name);
		if (c < 0)
			rc = add_row(r, &r->stored[i++], NULL);
		else if (c > 0)
			rc = add_row(r, NULL, &r->nss[j++]);
		else
			rc = add_row(r, &r->stored[i++], &r->nss[j++]);
	}
	return rc;
}

const struct report_row *report_rows(const struct report *r, size_t *n)
{
	*n = r->nrows;
	return r->rows;
}

size_t report_count(const struct report *r, enum aging_state s)
{
	return (unsigned)s < AGING_STATE_COUNT ? r->counts[s] : 0;
}

void report_filter_init(struct report_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->expiring_within = -1;
	f->state = -1;
}

bool report_row_matches(const struct report_row *row, const struct report_filter *f)
{
	bool overdue = row->state == AGING_EXPIRED || row->state == AGING_MUST_CHANGE;

	if (f->expired && !overdue)
		return false;
	if (f->expiring_within >= 0 &&
	    (overdue || row->state == AGING_EXEMPT || row->expires == 0 ||
	     row->days_left < 0 || row->days_left > f->expiring_within))
		return false;
	if (f->state >= 0 && (int)row->state != f->state)
		return false;
	return true;
}

bool report_format_parse(const char *name, enum report_format *out)
{
	static const char *const names[] = { "table", "csv", "json" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum report_format)i;
			return true;
		}
	}
	return false;
}

enum { COL_USER, COL_UID, COL_LAST, COL_AGE, COL_EXPIRES, COL_LEFT, COL_STATE,
       COL_HISTORY, NCOLS };

static const char *const col_keys[NCOLS] = {
	"user", "uid", "last_change", "age_days", "expires", "days_left", "state",
	"history",
};
static const char *const col_titles[NCOLS] = {
	"USER", "UID", "LAST_CHANGE", "AGE", "EXPIRES", "DAYS_LEFT", "STATE",
	"HISTORY",
};
static const bool col_numeric[NCOLS] = {
	false, true, false, true, false, true, false, true,
};

/* Decimal text of v into buf (>= 24 bytes); faster than snprintf per cell. */
static void format_long(long long v, char *buf)
{
	char tmp[24];
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	int n = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*buf++ = '-';
	while (n > 0)
		*buf++ = tmp[--n];
	*buf = '\0';
}

/*
 * "YYYY-MM-DD" (UTC) of t, the same text as aging_format_date but by
 * arithmetic (days to civil date, H. Hinnant's algorithm), since a report
 * formats two dates per row.
 */
static void format_date(int64_t t, char *buf)
{
	int64_t days = (t >= 0 ? t : t - (AGING_DAY - 1)) / AGING_DAY;
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = yoe + era * 400 + (m <= 2);

	if (y < 0 || y > 9999) {
		aging_format_date(t, buf, 11);
		return;
	}
	buf[0] = (char)('0' + y / 1000);
	buf[1] = (char)('0' + y / 100 % 10);
	buf[2] = (char)('0' + y / 10 % 10);
	buf[3] = (char)('0' + y % 10);
	buf[4] = '-';
	buf[5] = (char)('0' + m / 10);
	buf[6] = (char)('0' + m % 10);
	buf[7] = '-';
	buf[8] = (char)('0' + d / 10);
	buf[9] = (char)('0' + d % 10);
	buf[10] = '\0';
}

/*
 * The text of every cell of a row; unknown values are "" (the table shows
 * them as "-", CSV leaves them empty, JSON writes null).
 */
struct cells {
	const char *v[NCOLS];
	char buf[NCOLS][24];
};

static void row_cells(const struct report_row *row, struct cells *c)
{
	for (int i = 0; i < NCOLS; i++) {
		c->buf[i][0] = '\0';
		c->v[i] = c->buf[i];
	}
	c->v[COL_USER] = row->user;
	if (row->uid != REPORT_NO_UID)
		format_long(row->uid, c->buf[COL_UID]);
	if (row->last_change != 0)
		format_date(row->last_change, c->buf[COL_LAST]);
	if (row->has_age)
		format_long(row->age_days, c->buf[COL_AGE]);
	if (row->expires != 0) {
		format_date(row->expires, c->buf[COL_EXPIRES]);
		format_long(row->days_left, c->buf[COL_LEFT]);
	}
	c->v[COL_STATE] = aging_state_name(row->state);
	format_long(row->history, c->buf[COL_HISTORY]);
}

/* A table shows names as typed; control bytes would garble the terminal. */
static void table_user(FILE *out, const char *s)
{
	for (; *s; s++)
		putc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

/* One cell padded to width: numbers to the right, text to the left. */
static void table_cell(FILE *out, const char *v, int width, bool right, bool last,
		       bool user)
{
	int pad = width - (int)strlen(v);

	if (right)
		for (int i = 0; i < pad; i++)
			putc(' ', out);
	if (user)
		table_user(out, v);
	else
		fputs(v, out);
	if (last) {
		putc('\n', out);
		return;
	}
	if (!right)
		for (int i = 0; i < pad; i++)
			putc(' ', out);
	fputs("  ", out);
}

static size_t write_table(const struct report *r, const struct report_filter *f,
			  FILE *out)
{
	struct cells cells;
	int width[NCOLS];
	size_t shown = 0;

	for (int c = 0; c < NCOLS; c++)
		width[c] = (int)strlen(col_titles[c]);
	for (size_t i = 0; i < r->nrows; i++) {
		if (!report_row_matches(&r->rows[i], f))
			continue;
		row_cells(&r->rows[i], &cells);
		for (int c = 0; c < NCOLS; c++) {
			int len = cells.v[c][0] ? (int)strlen(cells.v[c]) : 1;
			if (len > width[c])
				width[c] = len;
		}
	}
	for (int c = 0; c < NCOLS; c++)
		table_cell(out, col_titles[c], width[c], col_numeric[c], c + 1 == NCOLS, false);
	for (size_t i = 0; i < r->nrows; i++) {
		if (!report_row_matches(&r->rows[i], f))
			continue;
		row_cells(&r->rows[i], &cells);
		for (int c = 0; c < NCOLS; c++)
			table_cell(out, cells.v[c][0] ? cells.v[c] : "-", width[c],
				   col_numeric[c], c + 1 == NCOLS, c == COL_USER);
		shown++;
	}
	return shown;
}

static void csv_field(const char *s, FILE *out);

void report_csv_field(const char *s, FILE *out)
{
	flockfile(out);
	csv_field(s, out);
	funlockfile(out);
}

static void csv_field(const char *s, FILE *out)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, out);
		return;
	}
	putc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			putc('"', out);
		putc(*s, out);
	}
	putc('"', out);
}

static size_t write_csv(const struct report *r, const struct report_filter *f, FILE *out)
{
	struct cells cells;
	size_t shown = 0;

	for (int c = 0; c < NCOLS; c++) {
		fputs(col_keys[c], out);
		fputs(c + 1 < NCOLS ? "," : "\r\n", out);
	}
	for (size_t i = 0; i < r->nrows; i++) {
		if (!report_row_matches(&r->rows[i], f))
			continue;
		row_cells(&r->rows[i], &cells);
		for (int c = 0; c < NCOLS; c++) {
			csv_field(cells.v[c], out);
			fputs(c + 1 < NCOLS ? "," : "\r\n", out);
		}
		shown++;
	}
	return shown;
}

static size_t write_json(const struct report *r, const struct report_filter *f, FILE *out)
{
	struct cells cells;
	char buf[REPORT_MAX_NAME * 8];   /* a name, escaped (at most 6 bytes each) */
	size_t shown = 0, used;

	putc('[', out);
	for (size_t i = 0; i < r->nrows; i++) {
		if (!report_row_matches(&r->rows[i], f))
			continue;
		row_cells(&r->rows[i], &cells);
		fputs(shown ? ",\n {" : "\n {", out);
		for (int c = 0; c < NCOLS; c++) {
			if (c)
				putc(',', out);
			putc('"', out);
			fputs(col_keys[c], out);
			fputs("\":", out);
			if (cells.v[c][0] == '\0') {
				fputs("null", out);
			} else if (col_numeric[c]) {
				fputs(cells.v[c], out);
			} else if (c != COL_USER) {
				/* dates and state names: plain ASCII, nothing to escape */
				putc('"', out);
				fputs(cells.v[c], out);
				putc('"', out);
			} else {
				used = 0;
				if (auditlog_json_string(buf, sizeof(buf), &used, cells.v[c]))
					fwrite(buf, 1, used, out);
				else
					fputs("null", out);
			}
		}
		putc('}', out);
		shown++;
	}
	fputs(shown ? "\n]\n" : "]\n", out);
	return shown;
}

size_t report_write(const struct report *r, const struct report_filter *f,
		    enum report_format fmt, FILE *out)
{
	size_t shown;

	flockfile(out);
	switch (fmt) {
	case REPORT_CSV:
		shown = write_csv(r, f, out);
		break;
	case REPORT_JSON:
		shown = write_json(r, f, out);
		break;
	case REPORT_TABLE:
	default:
		shown = write_table(r, f, out);
		break;
	}
	funlockfile(out);
	return shown;
}

void report_write_summary(const struct report *r, size_t shown, FILE *out)
{
	fprintf(out, "summary: %zu users (", r->nrows);
	for (int s = 0; s < AGING_STATE_COUNT; s++)
		fprintf(out, "%s%s %zu", s ? ", " : "", aging_state_name((enum aging_state)s),
			r->counts[s]);
	fprintf(out, "), %zu shown; policy: max_age_days=%d warn_days=%d history=%d\n",
		shown, r->policy.max_age_days, r->policy.warn_days, r->policy.history);
}
