/*
 * report.c - pam_policyctl report: the rows the daemon computed, filtered
 * and written as a table, CSV or JSON.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "auditlog.h"
#include "bounds.h"
#include "i18n.h"
#include "utf8.h"

/* Output is written by one thread under flockfile: skip per-call locking. */
#define putc(c, f) putc_unlocked((c), (f))
#define fputs(s, f) fputs_unlocked((s), (f))
#define fwrite(p, n, m, f) fwrite_unlocked((p), (n), (m), (f))

struct report {
	struct report_info info;
	struct report_row *rows;
	size_t nrows, caprows;
	size_t counts[AGING_STATE_COUNT];
	bool finished;
	bool fleet;
};

void report_set_fleet(struct report *r)
{
	r->fleet = true;
}

struct report *report_new(void)
{
	return calloc(1, sizeof(struct report));
}

void report_free(struct report *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nrows; i++) {
		free(r->rows[i].user);
		free(r->rows[i].host_logins);
	}
	free(r->rows);
	free(r);
}

pp_err report_add(struct report *r, const struct report_row *row)
{
	struct report_row *copy;

	if (r->finished || row->user == NULL || row->user[0] == '\0' ||
	    strlen(row->user) > PP_NAME_MAX || (unsigned)row->state >= AGING_STATE_COUNT)
		return PP_ERR_INVALID;
	if (r->nrows == r->caprows) {
		size_t cap = r->caprows ? r->caprows * 2 : 256;
		struct report_row *v;

		if (cap > SIZE_MAX / sizeof(*v) || (v = realloc(r->rows, cap * sizeof(*v))) == NULL)
			return PP_ERR_NOMEM;
		r->rows = v;
		r->caprows = cap;
	}
	copy = &r->rows[r->nrows];
	*copy = *row;
	copy->host_logins = NULL;
	if ((copy->user = strdup(row->user)) == NULL)
		return PP_ERR_NOMEM;
	if (row->host_logins != NULL && (copy->host_logins = strdup(row->host_logins)) == NULL) {
		free(copy->user);
		return PP_ERR_NOMEM;
	}
	r->nrows++;
	r->counts[copy->state]++;
	return PP_OK;
}

/* Whole days from a to b, rounded toward a (as aging_evaluate counts age). */
static long days_since(int64_t from, int64_t now)
{
	return now > from ? (long)((now - from) / AGING_DAY) : 0;
}

pp_err report_finish(struct report *r, const struct report_info *info)
{
	if (r->finished)
		return PP_ERR_INVALID;
	r->finished = true;
	r->info = *info;
	/* The dates are the daemon's; only the day counts are derived here. */
	for (size_t i = 0; i < r->nrows; i++) {
		struct report_row *row = &r->rows[i];
		int64_t start = row->last_change ? row->last_change : row->first_seen;

		row->has_age = start != 0;
		row->age_days = days_since(start, info->now);
		row->days_left = row->expires ? aging_days_until(info->now, row->expires) : 0;
		start = row->last_login ? row->last_login : row->first_seen;
		row->idle_days = start ? days_since(start, info->now) : -1;
	}
	return PP_OK;
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
	f->inactive = -1;
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
	if (f->inactive >= 0 && row->idle_days >= 0 && row->idle_days <= f->inactive)
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
       COL_HISTORY, COL_CLOCK, COL_LOGIN, NCOLS };

static const char *const col_keys[NCOLS] = {
	"user", "uid", "last_change", "age_days", "expires", "days_left", "state",
	"history", "clock", "last_login",
};
/* TRANSLATORS: the column titles of "pam_policyctl report" (a table):
   upper case, short, no spaces (an underscore joins words). */
static const char *const col_titles[NCOLS] = {
	N_("USER"), N_("UID"), N_("LAST_CHANGE"), N_("AGE"), N_("EXPIRES"),
	N_("DAYS_LEFT"), N_("STATE"), N_("HISTORY"), N_("CLOCK"), N_("LAST_LOGIN"),
};
static const bool col_numeric[NCOLS] = {
	false, true, false, true, false, true, false, true, false, false,
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
	if (row->uid_known)
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
	/* A date after the daemon's clock: the clock jumped (see doctor). */
	if (row->future_date)
		c->v[COL_CLOCK] = "future";
	if (row->last_login != 0)
		format_date(row->last_login, c->buf[COL_LOGIN]);
}

/* Room for one text cell made printable: a name, and a CSV guard before it. */
#define PRINTABLE_MAX (PP_NAME_MAX + 2)

/*
 * s as it may be printed: every control character (C0, DEL, C1) and every
 * byte that is not strict UTF-8 becomes '?', so that a name can neither
 * drive the terminal nor split a row. Into out (cap bytes, truncated).
 */
const char *report_printable(const char *s, char *out, size_t cap)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), pos = 0, used = 0;

	while (pos < len && used + 1 < cap) {
		uint32_t cp;
		size_t n = utf8_decode(u + pos, len - pos, &cp);

		if (n == 0 || utf8_is_control(cp)) {
			out[used++] = '?';
			pos += n == 0 ? 1 : n;
			continue;
		}
		if (used + n >= cap)
			break;
		memcpy(out + used, s + pos, n);
		used += n;
		pos += n;
	}
	out[used] = '\0';
	return out;
}

/* A table shows names as typed, made printable (printable_text). */
static void table_user(FILE *out, const char *s)
{
	char text[PRINTABLE_MAX];

	fputs(report_printable(s, text, sizeof(text)), out);
}

int report_text_width(const char *s)
{
	wchar_t w[256];
	size_t n = mbstowcs(w, s, sizeof(w) / sizeof(w[0]));
	int cols;

	if (n == (size_t)-1 || n >= sizeof(w) / sizeof(w[0]))
		return (int)strlen(s);
	cols = wcswidth(w, n);
	return cols < 0 ? (int)n : cols;
}

/*
 * The words a table shows in the user's language (titles, states, the
 * clock's "future"), with their widths on a terminal, looked up once per
 * table rather than once per row.
 */
struct table_words {
	const char *title[NCOLS];
	int title_width[NCOLS];
	const char *state[AGING_STATE_COUNT];
	int state_width[AGING_STATE_COUNT];
	const char *future;
	int future_width;
};

static void table_words_init(struct table_words *t)
{
	for (int c = 0; c < NCOLS; c++) {
		t->title[c] = _(col_titles[c]);
		t->title_width[c] = report_text_width(t->title[c]);
	}
	for (int i = 0; i < AGING_STATE_COUNT; i++) {
		t->state[i] = aging_state_label((enum aging_state)i);
		t->state_width[i] = report_text_width(t->state[i]);
	}
	/* TRANSLATORS: the CLOCK column of a report: a stored date lies
	   after the daemon's clock (the clock jumped). */
	t->future = _("future");
	t->future_width = report_text_width(t->future);
}

/* The width a cell of the table takes (its words translated in t). */
static int cell_width(const struct table_words *t, const struct report_row *row,
		      const struct cells *cells, int c)
{
	if (c == COL_STATE && (unsigned)row->state < AGING_STATE_COUNT)
		return t->state_width[row->state];
	if (c == COL_CLOCK && cells->v[c][0] != '\0')
		return t->future_width;
	return cells->v[c][0] ? (int)strlen(cells->v[c]) : 1;
}

/* A cell's text in the table: the translated state and clock words. */
static const char *cell_text(const struct table_words *t, const struct report_row *row,
			     const struct cells *cells, int c)
{
	if (c == COL_STATE && (unsigned)row->state < AGING_STATE_COUNT)
		return t->state[row->state];
	if (c == COL_CLOCK && cells->v[c][0] != '\0')
		return t->future;
	return cells->v[c][0] ? cells->v[c] : "-";
}

/*
 * One cell padded to width: numbers to the right, text to the left; vw
 * is the columns v takes.
 */
static void table_cell(FILE *out, const char *v, int vw, int width, bool right,
		       bool last, bool user)
{
	int pad = width - vw;

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

/* report --fleet, table: "Last login per host", one line per user and host. */
static void write_host_logins(const struct report *r, const struct report_filter *f,
			      FILE *out)
{
	/* TRANSLATORS: report --fleet, the heading of its second table (user, host,
	   time of the last login there). */
	fprintf(out, "\n%s\n", _("Last login per host:"));
	for (size_t i = 0; i < r->nrows; i++) {
		const char *p = r->rows[i].host_logins;

		if (!report_row_matches(&r->rows[i], f) || p == NULL)
			continue;
		while (*p != '\0') {
			size_t n = strcspn(p, " ");
			const char *eq = memchr(p, '=', n);

			if (eq != NULL) {
				fputs("  ", out);
				table_user(out, r->rows[i].user);
				fprintf(out, "  %.*s  %.*s\n", (int)(eq - p), p,
					(int)(n - (size_t)(eq - p) - 1), eq + 1);
			}
			p += n;
			while (*p == ' ')
				p++;
		}
	}
}

static size_t write_table(const struct report *r, const struct report_filter *f,
			  FILE *out)
{
	struct table_words words;
	struct cells cells;
	int width[NCOLS];
	size_t shown = 0;

	table_words_init(&words);
	for (int c = 0; c < NCOLS; c++)
		width[c] = words.title_width[c];
	for (size_t i = 0; i < r->nrows; i++) {
		if (!report_row_matches(&r->rows[i], f))
			continue;
		row_cells(&r->rows[i], &cells);
		for (int c = 0; c < NCOLS; c++) {
			int len = cell_width(&words, &r->rows[i], &cells, c);
			if (len > width[c])
				width[c] = len;
		}
	}
	for (int c = 0; c < NCOLS; c++)
		table_cell(out, words.title[c], words.title_width[c], width[c], col_numeric[c],
			   c + 1 == NCOLS, false);
	for (size_t i = 0; i < r->nrows; i++) {
		const struct report_row *row = &r->rows[i];

		if (!report_row_matches(row, f))
			continue;
		row_cells(row, &cells);
		for (int c = 0; c < NCOLS; c++)
			table_cell(out, cell_text(&words, row, &cells, c),
				   cell_width(&words, row, &cells, c), width[c],
				   col_numeric[c], c + 1 == NCOLS, c == COL_USER);
		shown++;
	}
	if (r->fleet)
		write_host_logins(r, f, out);
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

/*
 * A text cell of the CSV report: printable (printable_text), and a cell
 * that starts with '=', '+', '-' or '@' gets a leading "'" so that a
 * spreadsheet shows it instead of running it as a formula.
 */
static void csv_text(const char *s, FILE *out)
{
	char text[PRINTABLE_MAX + 1];

	if (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		text[0] = '\'';
		report_printable(s, text + 1, sizeof(text) - 1);
	} else {
		report_printable(s, text, sizeof(text));
	}
	csv_field(text, out);
}

static size_t write_csv(const struct report *r, const struct report_filter *f, FILE *out)
{
	struct cells cells;
	size_t shown = 0;

	for (int c = 0; c < NCOLS; c++) {
		fputs(col_keys[c], out);
		fputs(c + 1 < NCOLS || r->fleet ? "," : "\r\n", out);
	}
	if (r->fleet)
		fputs("host_logins\r\n", out);
	for (size_t i = 0; i < r->nrows; i++) {
		if (!report_row_matches(&r->rows[i], f))
			continue;
		row_cells(&r->rows[i], &cells);
		for (int c = 0; c < NCOLS; c++) {
			if (col_numeric[c])
				csv_field(cells.v[c], out);
			else
				csv_text(cells.v[c], out);
			fputs(c + 1 < NCOLS || r->fleet ? "," : "\r\n", out);
		}
		if (r->fleet) {
			csv_text(r->rows[i].host_logins ? r->rows[i].host_logins : "", out);
			fputs("\r\n", out);
		}
		shown++;
	}
	return shown;
}

void report_json_string(const char *s, FILE *out)
{
	char small[512], *buf = small;
	size_t n = s ? strlen(s) : 0, len, used = 0;

	/* A byte takes at most 6 (an escaped control byte, U+FFFD), + quotes, NUL. */
	if (n > (SIZE_MAX - 3) / 6) {
		fputs("null", out);
		return;
	}
	len = 6 * n + 3;
	if (len > sizeof(small) && (buf = malloc(len)) == NULL) {
		fputs("null", out);
		return;
	}
	if (auditlog_json_string(buf, len, &used, s))
		fwrite(buf, 1, used, out);
	else
		fputs("null", out);
	if (buf != small)
		free(buf);
}

/* ,"host_logins":{"HOST":"TIME",...} from "HOST=TIME ..." (host names are [A-Za-z0-9._-]). */
static void json_host_logins(const char *p, FILE *out)
{
	bool first = true;

	fputs(",\"host_logins\":{", out);
	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, " ");
		const char *eq = memchr(p, '=', n);

		if (eq != NULL) {
			fprintf(out, "%s\"%.*s\":\"%.*s\"", first ? "" : ",", (int)(eq - p), p,
				(int)(n - (size_t)(eq - p) - 1), eq + 1);
			first = false;
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	putc('}', out);
}

static size_t write_json(const struct report *r, const struct report_filter *f, FILE *out)
{
	struct cells cells;
	char buf[(PP_NAME_MAX + 1) * 8];   /* a name, escaped (at most 6 bytes each) */
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
		if (r->fleet)
			json_host_logins(r->rows[i].host_logins, out);
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
	/* Reading order, not wire order: "exempt" stays last. */
	static const enum aging_state order[AGING_STATE_COUNT] = {
		AGING_OK, AGING_WARNING, AGING_EXPIRED, AGING_MUST_CHANGE,
		AGING_NEVER_SET, AGING_LOCKED, AGING_EXEMPT,
	};

	/* TRANSLATORS: the report's last line: "summary: 3 users (ok 1,
	   warning 1, ...), 3 shown; policy: max_age_days=90 ..."; the state
	   words are the table's; max_age_days, warn_days and history are
	   settings: keep them. */
	fprintf(out, P_("summary: %zu user (", "summary: %zu users (", r->nrows), r->nrows);
	for (int i = 0; i < AGING_STATE_COUNT; i++)
		fprintf(out, "%s%s %zu", i ? ", " : "", aging_state_label(order[i]),
			r->counts[order[i]]);
	fprintf(out, _("), %1$zu shown; policy: max_age_days=%2$d warn_days=%3$d "
		       "history=%4$d\n"),
		shown, r->info.max_age_days, r->info.warn_days, r->info.history);
}
