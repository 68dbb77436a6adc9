/*
 * report.h - "pam_policyctl report": the rows pam_policyd computed (one per
 * user its policy covers or exempts, with the state it decided), filters,
 * and the table / CSV / JSON / summary output.
 *
 * The CLI decides nothing about a user: coverage, exemptions and states
 * come from the daemon (pam_policy/daemon/report.c). Only the day counts
 * are derived here, from the daemon's dates and the daemon's clock.
 *
 * Usage:
 *   struct report *r = report_new();
 *   report_add(r, &row)                for every PROTO_REPORT_ROW
 *   report_finish(r, &info)            with PROTO_REPORT_END's clock and policy
 *   report_write(r, &filter, fmt, stdout); report_write_summary(...)
 *   report_free(r)
 *
 * Not thread-safe per report.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_REPORT_H
#define PAM_POLICY_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "aging.h"
#include "error.h"
#include "policy.h"


enum report_format {
	REPORT_TABLE = 0,
	REPORT_CSV,
	REPORT_JSON,
};

/* One output row. Times are UTC seconds, 0 = unknown/never. */
struct report_row {
	char *user;               /* owned by the report after report_add */
	bool uid_known;           /* false: not known to NSS */
	unsigned long long uid;
	enum aging_state state;
	int64_t last_change;      /* 0 = never */
	int64_t first_seen;       /* 0 = not in the store */
	int64_t expires;          /* 0 = no expiry (rotation off, exempt, never seen) */
	bool has_age;             /* age_days is meaningful (set by report_finish) */
	long age_days;            /* days since last change (or first sight) */
	long days_left;           /* meaningful when expires != 0 (report_finish) */
	long history;             /* remembered passwords */
	bool must_change;
	bool in_store;
	bool future_date;         /* last change or first sight after the daemon's
				     clock (a clock that jumped): aged from now */
	int64_t last_login;       /* the last login the daemon counted, 0 = none */
	long idle_days;           /* days since last_login, else since first_seen;
				     -1 when neither is known (report_finish) */
	char *host_logins;        /* report --fleet: "HOST=TIME HOST=TIME ..." (TIME
				     RFC 3339), NULL for none; owned by the
				     report after report_add */
};

/* Filters; a zeroed struct (with expiring_within, state, inactive = -1) passes all. */
struct report_filter {
	bool expired;             /* state expired or must_change */
	long expiring_within;     /* >= 0: 0 <= days_left <= N and not expired */
	int state;                /* >= 0: this enum aging_state only */
	long inactive;            /* >= 0: idle_days > N, or unknown (no login
				     and no first sight) */
};

/* The daemon's clock and policy for the rows (PROTO_REPORT_END). */
struct report_info {
	int64_t now;
	int max_age_days, warn_days, history;
};

struct report;

/* report_new - an empty report; NULL when out of memory. */
struct report *report_new(void);

/*
 * report_set_fleet - the rows are the whole fleet's (report --fleet): the
 * writers add each row's last login per host (a second table, a CSV
 * column host_logins, a JSON object host_logins).
 */
void report_set_fleet(struct report *r);

/* report_free - release r; NULL is a no-op. */
void report_free(struct report *r);

/*
 * report_add - append a copy of row (its user string is copied; the day
 * counts are filled in by report_finish). Rows are shown in the order they
 * were added (the daemon sends them sorted by name). Errors: PP_ERR_NOMEM;
 * PP_ERR_INVALID for an empty or over-long name, a state out of range, or
 * a call after report_finish.
 */
pp_err report_add(struct report *r, const struct report_row *row) PP_WUR;

/*
 * report_finish - record the daemon's clock and policy and derive each
 * row's age and days left from them. Call once, after every report_add.
 * Errors: PP_ERR_INVALID when called twice.
 */
pp_err report_finish(struct report *r, const struct report_info *info) PP_WUR;

/* report_rows - the rows after report_finish; *n receives their count. */
const struct report_row *report_rows(const struct report *r, size_t *n);

/* report_count - how many rows (all of them, no filter) are in state s. */
size_t report_count(const struct report *r, enum aging_state s);

/* report_filter_init - a filter that passes every row. */
void report_filter_init(struct report_filter *f);

/* report_row_matches - does row pass every filter set in f? */
bool report_row_matches(const struct report_row *row, const struct report_filter *f);

/*
 * report_write - the rows passing f in format fmt to out:
 *   REPORT_TABLE: a header line and one aligned line per row (control
 *     characters in names shown as '?');
 *   REPORT_CSV: RFC 4180, header line, CRLF line ends, fields with a comma,
 *     quote, CR or LF quoted with inner quotes doubled;
 *   REPORT_JSON: one array of objects, numbers as numbers, null for
 *     unknown values, a newline at the end.
 * Columns/keys: user, uid, last_change, age_days, expires, days_left,
 * state, history, clock ("future" when future_date, else unknown),
 * last_login (a date, unknown when none).
 * Returns the number of rows written.
 */
size_t report_write(const struct report *r, const struct report_filter *f,
		    enum report_format fmt, FILE *out);

/*
 * report_write_summary - one line: counts per state over all rows, how many
 * rows were shown, and the policy in force, e.g.
 * "summary: 5 users (ok 1, warning 0, expired 0, must_change 1,
 *  never_set 2, exempt 1), 5 shown; policy: max_age_days=90 warn_days=14
 *  history=24"  (one line).
 */
void report_write_summary(const struct report *r, size_t shown, FILE *out);

/*
 * report_json_string - write s (NULL as "") to out as one JSON string
 * literal, escaped by auditlog_json_string (invalid UTF-8 becomes U+FFFD);
 * null when out of memory. Shared by every JSON writer of the CLI.
 */
void report_json_string(const char *s, FILE *out);

/*
 * report_printable - s for a table or CSV cell: control characters and
 * bytes that are not strict UTF-8 become '?', so that a name can neither
 * drive the terminal nor split a row. Into out (cap bytes, cut to fit);
 * returns out. Used by the report and the review alike.
 */
const char *report_printable(const char *s, char *out, size_t cap);

/*
 * report_text_width - the columns s takes on a terminal in the current
 * locale (a translated title is wider or narrower than its bytes); strlen
 * when s cannot be converted.
 */
int report_text_width(const char *s);

/* report_format_parse - "table", "csv", "json"; false if unknown. */
bool report_format_parse(const char *name, enum report_format *out);

/*
 * report_csv_field - write s to out as one RFC 4180 field (quoted only when
 * it holds a comma, quote, CR or LF).
 */
void report_csv_field(const char *s, FILE *out);

#endif
