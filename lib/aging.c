/*
 * aging.c - password age, expiry and state.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "aging.h"
#include "i18n.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const state_names[AGING_STATE_COUNT] = {
	[AGING_OK] = "ok",
	[AGING_WARNING] = "warning",
	[AGING_EXPIRED] = "expired",
	[AGING_MUST_CHANGE] = "must_change",
	[AGING_NEVER_SET] = "never_set",
	[AGING_EXEMPT] = "exempt",
	[AGING_LOCKED] = "locked",
};

long aging_days_until(int64_t now, int64_t t)
{
	int64_t diff = t - now;

	if (diff > 0)
		return (long)((diff + AGING_DAY - 1) / AGING_DAY);
	return (long)(diff / AGING_DAY);
}

bool aging_in_future(int64_t t, int64_t now)
{
	return t > 0 && t > now && t - now > AGING_FUTURE_SLACK;
}

long aging_min_age_days_left(int64_t last_change, int64_t now, int min_age_days)
{
	int64_t allowed;

	if (min_age_days <= 0 || last_change <= 0 || aging_in_future(last_change, now))
		return 0;
	if (last_change > now)
		last_change = now;
	allowed = last_change + (int64_t)min_age_days * AGING_DAY;
	return now < allowed ? aging_days_until(now, allowed) : 0;
}

void aging_evaluate(const struct aging_facts *f, int64_t now, int max_age_days,
		    int warn_days, struct aging_status *out)
{
	memset(out, 0, sizeof(*out));
	out->clock_start = f->last_change ? f->last_change : f->first_seen;
	out->future = aging_in_future(f->last_change, now) ||
		      aging_in_future(f->first_seen, now);
	/* Never age from a date that has not come yet (nor start the clock later). */
	if (out->clock_start > now)
		out->clock_start = now;
	out->age_days = out->clock_start && now > out->clock_start
				? (long)((now - out->clock_start) / AGING_DAY) : 0;
	if (max_age_days > 0 && out->clock_start)
		out->expires = out->clock_start + (int64_t)max_age_days * AGING_DAY;
	/* Shadow's own maximum age, once passed, when it came first. */
	if (f->shadow_expires > 0 && now >= f->shadow_expires &&
	    (out->expires == 0 || f->shadow_expires < out->expires))
		out->expires = f->shadow_expires;
	if (f->locked)
		out->expires = 0;
	if (out->expires)
		out->days_left = aging_days_until(now, out->expires);
	if (f->locked)
		out->state = AGING_LOCKED;
	else if (f->must_change || f->shadow_must_change)
		out->state = AGING_MUST_CHANGE;
	else if (out->expires && now >= out->expires)
		out->state = AGING_EXPIRED;
	else if (out->expires && now >= out->expires - (int64_t)warn_days * AGING_DAY)
		out->state = AGING_WARNING;
	else if (f->last_change == 0)
		out->state = AGING_NEVER_SET;
	else
		out->state = AGING_OK;
}

const char *aging_state_name(enum aging_state s)
{
	if ((unsigned)s >= AGING_STATE_COUNT)
		return "unknown";
	return state_names[s];
}

const char *aging_state_label(enum aging_state s)
{
	/* TRANSLATORS: a password's state in pam_policyctl's tables and
	   status (English shows the state codes themselves): ok; warning =
	   expires within the warning days; expired; must_change = must be
	   changed at the next login; never_set = no change known; exempt =
	   the policy does not apply; locked = locked password, not aged.
	   Short: a table column. */
	static const char *const labels[AGING_STATE_COUNT] = {
		[AGING_OK] = N_("ok"),
		[AGING_WARNING] = N_("warning"),
		[AGING_EXPIRED] = N_("expired"),
		[AGING_MUST_CHANGE] = N_("must_change"),
		[AGING_NEVER_SET] = N_("never_set"),
		[AGING_EXEMPT] = N_("exempt"),
		[AGING_LOCKED] = N_("locked"),
	};

	if ((unsigned)s >= AGING_STATE_COUNT)
		return _("unknown");
	return _(labels[s]);
}

bool aging_state_parse(const char *name, enum aging_state *out)
{
	for (int i = 0; i < AGING_STATE_COUNT; i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum aging_state)i;
			return true;
		}
	}
	return false;
}

void aging_format_date(int64_t t, char *buf, unsigned long len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (len == 0)
		return;
	if (t == 0 || gmtime_r(&tt, &tm) == NULL) {
		snprintf(buf, len, "-");
		return;
	}
	strftime(buf, len, "%Y-%m-%d", &tm);
}
