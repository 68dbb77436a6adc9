/*
 * aging.h - password age, expiry and state, as pure functions of the
 * stored facts and the time. Used by the daemon for status and reports.
 * Times are UTC seconds since the epoch; a "day" is 86400 seconds.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_AGING_H
#define PAM_POLICY_AGING_H

#include <stdbool.h>
#include <stdint.h>

#define AGING_DAY 86400

/*
 * A stored date more than this many seconds after now is "in the future":
 * the clock jumped (forward when the date was written, or back since).
 * Below it, a date ahead of now is ordinary skew between clocks.
 */
#define AGING_FUTURE_SLACK 300

/* Stable state names: reports and the protocol use them. */
enum aging_state {
	AGING_OK = 0,       /* "ok" */
	AGING_WARNING,      /* "warning": within warn_days of expiry */
	AGING_EXPIRED,      /* "expired": older than max_age_days, or past
			       shadow's own maximum age */
	AGING_MUST_CHANGE,  /* "must_change": flagged by an admin, or shadow's
			       last change is 0 (chage -d 0, passwd -e) */
	AGING_NEVER_SET,    /* "never_set": no change known to the store */
	AGING_EXEMPT,       /* "exempt": not covered by the policy */
	AGING_LOCKED,       /* "locked": the password is locked or unusable
			       (shadow), so it is not aged; after the others
			       so that their wire values stay the same */
	AGING_STATE_COUNT
};

struct aging_facts {
	int64_t last_change;    /* 0 = never recorded */
	int64_t first_seen;     /* when the daemon first saw the user */
	bool must_change;       /* flagged in the store */
	/* What the shadow file demands (users_shadow_facts); all 0 = nothing. */
	bool locked;            /* the password cannot be used: not aged */
	bool shadow_must_change; /* shadow's last change is 0 */
	int64_t shadow_expires; /* shadow's maximum age ends here (0 = none) */
};

struct aging_status {
	enum aging_state state;
	int64_t clock_start;    /* last_change, or first_seen when never set */
	int64_t expires;        /* 0 when rotation is off */
	long age_days;          /* whole days since clock_start */
	long days_left;         /* whole days until expires (negative: overdue) */
	bool future;            /* last_change or first_seen is in the future
				   (aging_in_future): clock_start is now */
};

/*
 * aging_evaluate - the state of one user at time now, given max_age_days
 * (0 = rotation off) and warn_days. A user never recorded is "never_set"
 * but still ages from first_seen, so a first deployment grants a full
 * period before anyone is forced to change. A start date after now (a
 * clock that jumped) is treated as now, so that it never postpones
 * rotation by more than one period: out->future says so, and callers log
 * and flag it.
 *
 * Where shadow demands more, shadow wins: a locked password is "locked"
 * (whatever else holds: it is not aged, and expires is 0); shadow's
 * must-change is "must_change"; a shadow_expires that has passed and is
 * earlier than the policy's expiry becomes out->expires, so "expired".
 * A shadow expiry still to come changes nothing (the policy's own
 * warning and expiry stand).
 */
void aging_evaluate(const struct aging_facts *f, int64_t now, int max_age_days,
		    int warn_days, struct aging_status *out);

/*
 * aging_in_future - is the stored date t (0 = never) more than
 * AGING_FUTURE_SLACK seconds after now?
 */
bool aging_in_future(int64_t t, int64_t now);

/*
 * aging_min_age_days_left - whole days until a user whose password was
 * last changed at last_change (0 = never) may change it again under a
 * minimum age of min_age_days (0 = none); 0 when a change is allowed now.
 * A last_change in the future (aging_in_future) never blocks: how long
 * ago that change really was is unknown, and treating it as now on every
 * call would block the user until the clock reaches it. A date within
 * the slack counts as now.
 */
long aging_min_age_days_left(int64_t last_change, int64_t now, int min_age_days);

/* aging_state_name - "ok", "warning", ...; "unknown" for bad values. */
const char *aging_state_name(enum aging_state s);

/*
 * aging_state_label - the state in words for people, in the calling
 * thread's language ("expiring soon", "abgelaufen"); never for JSON, CSV,
 * logs or the protocol (aging_state_name). Static storage.
 */
const char *aging_state_label(enum aging_state s);

/* aging_state_parse - the inverse of aging_state_name; false if unknown. */
bool aging_state_parse(const char *name, enum aging_state *out);

/* aging_format_date - "YYYY-MM-DD" (UTC) of t into buf (>= 11 bytes). */
void aging_format_date(int64_t t, char *buf, unsigned long len);

/*
 * aging_days_until - whole days from now until t, rounded up so that an
 * expiry later today counts as "1 day" and an expiry that passed counts
 * as 0 or less.
 */
long aging_days_until(int64_t now, int64_t t);

#endif
