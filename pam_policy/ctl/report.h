/*
 * report.h - the rows of "pam_policyctl report": the daemon's users joined
 * with the users NSS can enumerate, their aging state, filters, and the
 * table / CSV / JSON / summary output.
 *
 * Building a report never looks a user up one at a time: NSS users are
 * enumerated once (setpwent/getpwent), exempt groups once (setgrent/
 * getgrent), /etc/passwd is read once when local_users_only is set, and
 * the two lists are joined by sorting both by name and merging. 100,000
 * users cost a few sorts, not 100,000 NSS calls.
 *
 * Usage:
 *   struct report *r = report_new(&policy, time(NULL));
 *   report_add_stored(r, ...)          for every PROTO_REPORT_ROW
 *   report_add_nss(r, name, uid, gid)  or report_load_nss(r) for getpwent
 *   report_finish(r)                   join, coverage, states, counts
 *   report_write_*(r, &filter, stdout)
 *   report_free(r)
 *
 * Not thread-safe per report (report_load_nss uses the non-reentrant
 * enumeration API); distinct reports may be built one after another.
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

#define REPORT_MAX_NAME POLICY_MAX_NAME  /* bytes of a user name, NUL included */
#define REPORT_NO_UID (-1LL)

enum report_format {
	REPORT_TABLE = 0,
	REPORT_CSV,
	REPORT_JSON,
};

/* One output row. Times are UTC seconds, 0 = unknown/never. */
struct report_row {
	const char *user;         /* owned by the report, valid until report_free */
	long long uid;            /* REPORT_NO_UID: not known to NSS */
	enum aging_state state;
	int64_t last_change;      /* 0 = never */
	int64_t first_seen;       /* 0 = not in the store */
	int64_t expires;          /* 0 = no expiry (rotation off, exempt, never seen) */
	bool has_age;             /* age_days is meaningful */
	long age_days;            /* days since last change (or first sight) */
	long days_left;           /* meaningful when expires != 0 */
	long history;             /* remembered passwords */
	bool must_change;
	bool in_store;
};

/* Filters; a zeroed struct (with expiring_within = -1, state = -1) passes all. */
struct report_filter {
	bool expired;             /* state expired or must_change */
	long expiring_within;     /* >= 0: 0 <= days_left <= N and not expired */
	int state;                /* >= 0: this enum aging_state only */
};

struct report;

/*
 * report_new - an empty report evaluated at time now with p's max_age_days,
 * warn_days, history, exemptions and min_uid (p is copied). NULL when out
 * of memory.
 */
struct report *report_new(const struct policy *p, int64_t now);

/* report_free - release r; NULL is a no-op. */
void report_free(struct report *r);

/*
 * report_add_stored - one user as the daemon reported it (PROTO_REPORT_ROW).
 * name is NUL-terminated. Errors: PP_ERR_NOMEM, PP_ERR_INVALID (empty or
 * over-long name, state out of range).
 */
pp_err report_add_stored(struct report *r, const char *name, int64_t first_seen,
			 int64_t last_change, uint64_t state, long history,
			 bool must_change) PP_WUR;

/* report_add_nss - one user known to NSS. Errors as report_add_stored. */
pp_err report_add_nss(struct report *r, const char *name, uid_t uid,
		      gid_t gid) PP_WUR;

/*
 * report_add_group - a group of the system with its gid and NULL-terminated
 * member list; only groups named in the policy's exempt_groups are kept.
 * report_load_nss calls it for every group getgrent returns.
 */
pp_err report_add_group(struct report *r, const char *name, gid_t gid,
			char *const *members) PP_WUR;

/*
 * report_set_local_users - the contents of the passwd file that decides
 * local_users_only (normally USERS_PASSWD_FILE), read once. A missing file
 * means nobody is local. Only needed when the policy sets local_users_only;
 * report_load_nss calls it then.
 */
pp_err report_set_local_users(struct report *r, const char *passwd_file) PP_WUR;

/*
 * report_load_nss - enumerate every NSS user (setpwent/getpwent) and, when
 * exempt_groups is set, every group, then report_set_local_users when
 * local_users_only is set. Errors: PP_ERR_NOMEM, PP_ERR_IO.
 */
pp_err report_load_nss(struct report *r) PP_WUR;

/*
 * report_finish - join the two lists (by name) and compute every row:
 *   - NSS users that the policy does not cover (system accounts below
 *     min_uid other than root, not local with local_users_only) are left
 *     out, stored or not;
 *   - exempt users (exempt_users, or a member of an exempt group) are kept
 *     with state "exempt";
 *   - covered NSS users absent from the store are "never_set";
 *   - stored users unknown to NSS (e.g. LDAP users that cannot be
 *     enumerated) are kept with uid REPORT_NO_UID, except with
 *     local_users_only (they cannot be local).
 * Rows end up sorted by user name; a user listed twice by NSS counts once.
 * Call once, after every report_add_*. Errors: PP_ERR_NOMEM.
 */
pp_err report_finish(struct report *r) PP_WUR;

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
 * state, history. Returns the number of rows written.
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

/* report_format_parse - "table", "csv", "json"; false if unknown. */
bool report_format_parse(const char *name, enum report_format *out);

/*
 * report_csv_field - write s to out as one RFC 4180 field (quoted only when
 * it holds a comma, quote, CR or LF).
 */
void report_csv_field(const char *s, FILE *out);

#endif
