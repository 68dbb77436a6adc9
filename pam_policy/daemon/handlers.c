/*
 * handlers.c - the request handlers: ping, check, record, status and the
 * first-sight bootstrap, expire, forget, event, backup, reopen (the report
 * streams from report.c).
 *
 * Every handler replies, or marks the connection close_after, on every
 * path. The daemon alone decides whether a change is forced (expired by
 * its policy, flagged by an administrator, or must-change from the shadow
 * file): only then does the minimum age not apply.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "daemon.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <sodium.h>

#include "aging.h"
#include "auditlog.h"
#include "paths.h"
#include "secret.h"
#include "store_pg.h"
#include "users.h"

/* Copy a user-name field; false (and a reply) when it is not a sane name. */
static bool field_user(struct conn *c, unsigned idx, char *out, size_t len)
{
	if (proto_copy_str(&c->req, idx, out, len) != PP_OK || out[0] == '\0' ||
	    out[0] == '-' || strpbrk(out, "/:\n ") != NULL) {
		reply(c, PROTO_BAD_REQUEST, 0, "invalid user name");
		return false;
	}
	return true;
}

void handle_ping(struct server *s, struct worker *w, struct conn *c)
{
	struct store_pg_status st = { .degraded_since = 0 };

	if (store_is_postgresql(s->store))
		store_pg_status(s->store, &st);
	reply(c, PROTO_OK, st.degraded_since > 0 ? (uint64_t)st.degraded_since : 0,
	      PAM_POLICY_VERSION);
}

void handle_fleet(struct server *s, struct worker *w, struct conn *c)
{
	struct store_pg_status st;
	struct proto_msg m;
	bool fleet = store_is_postgresql(s->store);

	memset(&st, 0, sizeof(st));
	if (fleet)
		store_pg_status(s->store, &st);
	/* libpq's words may name the database's hosts: for root and auditors. */
	if (c->who == WHO_SELF)
		st.reason[0] = '\0';
	proto_msg_init(&m, PROTO_FLEET_REPLY);
	if (proto_add_cstr(&m, store_backend_name(s->store)) != PP_OK ||
	    proto_add_cstr(&m, s->host_name) != PP_OK ||
	    proto_add_u64(&m, st.degraded_since > 0 ? (uint64_t)st.degraded_since : 0) != PP_OK ||
	    proto_add_str(&m, st.reason, strnlen(st.reason, sizeof(st.reason))) != PP_OK ||
	    proto_add_u64(&m, st.replica_seq > 0 ? (uint64_t)st.replica_seq : 0) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)st.outbox) != PP_OK) {
		reply(c, PROTO_INTERNAL, 0, "cannot encode the fleet state");
		return;
	}
	send_msg(c, &m);
}

/* ---- check and record ---- */

static struct hash_params entry_params(const struct store_entry *e)
{
	struct hash_params p = { .opslimit = e->opslimit, .memlimit = e->memlimit };
	return p;
}

/* The cost of e's skeleton hash (store.h: the entry's own before schema 5). */
static struct hash_params entry_skeleton_params(const struct store_entry *e)
{
	struct hash_params p = { .opslimit = e->skeleton_opslimit,
				 .memlimit = e->skeleton_memlimit };

	if (p.opslimit == 0)
		return entry_params(e);
	return p;
}

static bool same_params(const struct hash_params *a, const struct hash_params *b)
{
	return a->opslimit == b->opslimit && a->memlimit == b->memlimit;
}

/* Add a task of that kind for p to tasks[0..*n) unless there is one. */
static void task_add(struct hash_task *tasks, size_t *n, bool skeleton,
		     const struct hash_params *p)
{
	for (size_t i = 0; i < *n; i++)
		if (tasks[i].skeleton == skeleton && same_params(&tasks[i].params, p))
			return;
	memset(&tasks[*n], 0, sizeof(tasks[*n]));
	tasks[*n].skeleton = skeleton;
	tasks[*n].params = *p;
	(*n)++;
}

/*
 * Compare the password against the newest `depth` entries, and its
 * skeleton against the skeletons of the newest `similar` (<= depth). One
 * argon2id evaluation per kind and distinct parameter set (normally one
 * for the password and one for the skeleton, run side by side by
 * hash_batch_run), because all of a user's entries share the user's salt.
 * No skeleton is computed or hashed when none of those entries has one.
 */
static pp_err history_contains(struct server *s, struct worker *w,
			       const struct store_user *u, const char *password,
			       size_t len, int depth, int similar, bool *found,
			       bool *similar_found)
{
	struct store_entry *entries = NULL;
	struct hash_task *tasks = NULL;
	struct hash_batch batch;
	char *skeleton = NULL;
	size_t n = 0, ntasks = 0, npassword;
	pp_err rc;

	*found = false;
	*similar_found = false;
	if (depth <= 0 || u->history_count <= 0)
		return PP_OK;
	entries = calloc((size_t)depth, sizeof(*entries));
	tasks = sodium_malloc(2 * (size_t)depth * sizeof(*tasks));
	if (entries == NULL || tasks == NULL) {
		rc = PP_ERR_NOMEM;
		goto out;
	}
	rc = store_history_get(w->store, u->name, entries, (size_t)depth, &n);
	if (rc != PP_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct hash_params p = entry_params(&entries[i]);
		task_add(tasks, &ntasks, false, &p);
	}
	npassword = ntasks;
	for (size_t i = 0; i < n && i < (size_t)similar; i++) {
		struct hash_params p = entry_skeleton_params(&entries[i]);
		if (entries[i].has_skeleton)
			task_add(tasks, &ntasks, true, &p);
	}
	memset(&batch, 0, sizeof(batch));
	if (ntasks > npassword) {
		rc = skeleton_of(password, len, &skeleton, &batch.skeleton_len);
		if (rc != PP_OK)
			goto out;
		if (skeleton == NULL)
			ntasks = npassword;     /* none to compare: password only */
	}
	batch.password = password;
	batch.password_len = len;
	batch.skeleton = skeleton;
	batch.salt = u->salt;
	batch.pepper = s->pepper;
	batch.tasks = tasks;
	batch.n = ntasks;
	rc = hash_batch_run(&batch);
	if (rc != PP_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct hash_params p = entry_params(&entries[i]);
		struct hash_params sp = entry_skeleton_params(&entries[i]);
		for (size_t t = 0; t < ntasks; t++) {
			if (!tasks[t].skeleton && same_params(&tasks[t].params, &p) &&
			    hash_equal(tasks[t].digest, entries[i].hash))
				*found = true;
			if (tasks[t].skeleton && same_params(&tasks[t].params, &sp) &&
			    i < (size_t)similar && entries[i].has_skeleton &&
			    hash_equal(tasks[t].digest, entries[i].skeleton))
				*similar_found = true;
		}
	}
	/* The same password has the same skeleton: "reused" says it all. */
	if (*found)
		*similar_found = false;
out:
	skeleton_free(skeleton);
	if (tasks != NULL)
		sodium_free(tasks);     /* wipes the digests */
	if (entries != NULL) {
		pp_wipe(entries, (size_t)depth * sizeof(*entries));
		free(entries);
	}
	return rc;
}

/*
 * How many of the newest entries keep (and are compared by) a skeleton:
 * the daemon's similar_history, at most the history depth asked.
 */
static int similar_depth(const struct server *s, uint64_t depth)
{
	int sim = s->policy->similar_history;

	return (uint64_t)sim > depth ? (int)depth : sim;
}

/*
 * A stored date after now means a clock jumped (aging.h): it is treated as
 * now, never as a reason to block anyone, and logged here - at most once
 * per FUTURE_LOG_SECONDS however many requests meet such dates, with the
 * count of the others - so that an admin looks at "pam_policyctl doctor".
 */
#define FUTURE_LOG_SECONDS 60

static void note_future_date(const char *user, const struct store_user *u, int64_t now)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static int64_t logged_at;
	static unsigned long suppressed;
	char date[16], today[16];
	int64_t t = aging_in_future(u->last_change, now) ? u->last_change : u->first_seen;
	unsigned long others;

	if (!aging_in_future(t, now))
		return;
	pthread_mutex_lock(&lock);
	if (logged_at != 0 && now >= logged_at && now - logged_at < FUTURE_LOG_SECONDS) {
		suppressed++;
		pthread_mutex_unlock(&lock);
		return;
	}
	logged_at = now;
	others = suppressed;
	suppressed = 0;
	pthread_mutex_unlock(&lock);
	aging_format_date(t, date, sizeof(date));
	aging_format_date(now, today, sizeof(today));
	log_msg(LOG_WARNING, "%s of %s is in the future (%s, today is %s): the clock "
		"jumped? treated as now; see pam_policyctl doctor (%lu more such "
		"requests in the last %d s)", t == u->last_change ? "last change" : "first sight",
		user, date, today, others, FUTURE_LOG_SECONDS);
}

#define SHADOW_LOG_SECONDS 60

/*
 * The user's shadow entry, read once per request (a stat(2) and a lookup
 * in the cached table, shadow.c) and used for every question asked of it.
 * Read on every request, so that "chage -d 0", "passwd -e" and "usermod
 * -L" count at once. A missing file or entry demands nothing; an
 * unreadable file is logged (at most once a minute) and demands nothing
 * either: the store's facts stand.
 */
struct shadow_view {
	bool found;
	struct users_shadow sh;
};

static void shadow_view_read(const struct server *s, const char *user,
			     struct shadow_view *v)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static int64_t logged_at;
	pp_err rc = shadow_lookup(s, user, &v->sh);
	int e = errno;
	int64_t now;
	bool log_it;

	v->found = rc == PP_OK;
	if (rc == PP_OK || rc == PP_ERR_NOT_FOUND || (rc == PP_ERR_IO && e == ENOENT))
		return;
	now = now_utc();
	pthread_mutex_lock(&lock);
	log_it = logged_at == 0 || now < logged_at || now - logged_at >= SHADOW_LOG_SECONDS;
	if (log_it)
		logged_at = now;
	pthread_mutex_unlock(&lock);
	if (log_it)
		log_msg(LOG_WARNING, "cannot read %s (%s): what it demands (must change, "
			"its maximum age, locked passwords) is not followed", s->policy->shadow_file,
			rc == PP_ERR_IO ? strerror(e) : pp_strerror(rc));
}

/*
 * Add what the shadow file demands of user to f (users_shadow_facts):
 * must change (last change 0), shadow's own maximum age, a locked or
 * unusable password. known: the entry when the caller has read it.
 */
static void add_shadow_facts(const struct server *s, const char *user,
			     const struct shadow_view *known, struct aging_facts *f)
{
	struct shadow_view v;

	if (known == NULL) {
		shadow_view_read(s, user, &v);
		known = &v;
	}
	if (known->found)
		users_shadow_facts(&known->sh, f);
}

/*
 * Must u change now: expired by the daemon's policy or by shadow's maximum
 * age, flagged by an admin, or must-change in shadow? (Not when locked.)
 */
/*
 * Forced changes decided at a check, held for the record that follows: by
 * the time the record line runs, pam_unix has rewritten shadow's last
 * change, so a change that shadow demanded (last change 0, its maximum
 * passed) no longer looks forced. The record takes the hold it finds (and
 * only a change that is then recorded uses it up), so the hold never
 * waives the minimum age for a second change.
 */
#define FORCED_HOLD_SECONDS 900
#define FORCED_HOLD_MAX 256

static struct forced_hold {
	char name[PP_NAME_MAX + 1];
	int64_t at;                 /* 0: free */
} forced_holds[FORCED_HOLD_MAX];
static pthread_mutex_t forced_lock = PTHREAD_MUTEX_INITIALIZER;

static void forced_hold_note(const char *name, int64_t now)
{
	size_t slot = 0;

	pthread_mutex_lock(&forced_lock);
	for (size_t i = 0; i < FORCED_HOLD_MAX; i++) {
		if (forced_holds[i].at != 0 && strcmp(forced_holds[i].name, name) == 0) {
			slot = i;
			break;
		}
		if (forced_holds[i].at < forced_holds[slot].at)
			slot = i;       /* a free slot (0) or the oldest hold */
	}
	snprintf(forced_holds[slot].name, sizeof(forced_holds[slot].name), "%s", name);
	forced_holds[slot].at = now;
	pthread_mutex_unlock(&forced_lock);
}

/* Is a hold for name younger than FORCED_HOLD_SECONDS? take: release it. */
static bool forced_hold_find(const char *name, int64_t now, bool take)
{
	bool found = false;

	pthread_mutex_lock(&forced_lock);
	for (size_t i = 0; i < FORCED_HOLD_MAX; i++) {
		struct forced_hold *h = &forced_holds[i];

		if (h->at == 0 || strcmp(h->name, name) != 0)
			continue;
		found = now >= h->at && now - h->at <= FORCED_HOLD_SECONDS;
		if (take || !found)
			h->at = 0;
		break;
	}
	pthread_mutex_unlock(&forced_lock);
	return found;
}

/* Must u change now, by the daemon's state and shadow's (no side effect). */
static bool forced_now(const struct server *s, const struct store_user *u, int64_t now)
{
	struct aging_facts f = {
		.last_change = u->last_change, .first_seen = u->first_seen,
		.must_change = u->must_change,
	};
	struct aging_status st;

	add_shadow_facts(s, u->name, NULL, &f);
	aging_evaluate(&f, now, s->policy->max_age_days, s->policy->warn_days, &st);
	return st.state == AGING_MUST_CHANGE || st.state == AGING_EXPIRED;
}

/* forced_now, held for the record that follows when it is forced. */
static bool change_is_forced(const struct server *s, const struct store_user *u,
			     int64_t now)
{
	bool forced = forced_now(s, u, now);

	if (forced)
		forced_hold_note(u->name, now);
	return forced;
}

/*
 * The minimum age: waived when root sets another user's password (a fact
 * about the caller the module reports) or when the change is forced (a
 * fact the daemon knows). PROTO_CHECK_EXPIRED_HINT is never enough alone:
 * "passwd -k" sets it for a password that has not expired.
 */
static bool min_age_applies(const struct server *s, bool root_for_other,
			    const struct store_user *u, int64_t now)
{
	if (root_for_other || u->last_change <= 0)
		return false;
	return !change_is_forced(s, u, now);
}

void handle_check(struct server *s, struct worker *w, struct conn *c)
{
	char user[PP_NAME_MAX + 1];
	const struct proto_field *pw = &c->req.f[PROTO_CHECK_PASSWORD];
	uint64_t depth = c->req.f[PROTO_CHECK_HISTORY].u64;
	uint64_t min_age = c->req.f[PROTO_CHECK_MIN_AGE_DAYS].u64;
	uint64_t flags = c->req.f[PROTO_CHECK_FLAGS].u64;
	struct store_user u;
	uint64_t violations = 0, days_left = 0;
	int64_t now = now_utc();
	bool reused = false, similar = false;
	pp_err rc;

	if (!field_user(c, PROTO_CHECK_USER, user, sizeof(user)))
		return;
	if (depth > POLICY_MAX_HISTORY || min_age > PP_DAYS_MAX) {
		reply(c, PROTO_BAD_REQUEST, 0, "history or min_age out of range");
		return;
	}
	rc = store_user_get(w->store, user, &u);
	if (rc == PP_ERR_NOT_FOUND) {
		reply(c, PROTO_OK, 0, "");
		return;
	}
	if (rc != PP_OK)
		goto fail;
	note_future_date(user, &u, now);
	rc = history_contains(s, w, &u, pw->str, pw->len, (int)depth,
			      similar_depth(s, depth), &reused, &similar);
	if (rc != PP_OK)
		goto fail;
	if (reused)
		violations |= PROTO_VIOLATION_REUSED;
	if (similar)
		violations |= PROTO_VIOLATION_SIMILAR;
	if (min_age > 0 &&
	    min_age_applies(s, (flags & PROTO_CHECK_ROOT_FOR_OTHER) != 0, &u, now)) {
		long left = aging_min_age_days_left(u.last_change, now, (int)min_age);
		if (flags & PROTO_CHECK_EXPIRED_HINT)
			log_msg(LOG_INFO, "change of %s asked as expired, but it is not: "
				"the minimum age applies", user);
		if (left > 0) {
			violations |= PROTO_VIOLATION_TOO_SOON;
			days_left = (uint64_t)left;
		}
	}
	reply(c, reused || similar ? PROTO_REUSED : (violations ? PROTO_TOO_SOON : PROTO_OK),
	      violations | (days_left << PROTO_CHECK_DAYS_SHIFT), "");
	return;
fail:
	log_msg(LOG_ERR, "check for %s failed: %s", user, pp_strerror(rc));
	daemon_audit_simple(s, "history_unavailable", user, NULL, NULL);
	reply(c, PROTO_INTERNAL, 0, pp_strerror(rc));
}

/*
 * What the record re-checks in its write transaction: the check may have
 * been answered for several changes of one user at once (each one saw the
 * history before any of them was recorded), so the minimum age and "not
 * already in the history" are decided again here, on the row as it is
 * when the write lock is held. The first change recorded wins.
 */
struct record_rules {
	const struct server *server;
	const uint8_t *hash;        /* the new entry's hash (not a secret
				       alone: keyed with the pepper) */
	const uint8_t *skeleton;    /* its skeleton's hash, NULL for none */
	int similar;                /* compared with the newest this many */
	struct hash_params params;
	struct hash_params skeleton_params; /* hash_skeleton_params(params) */
	bool root_for_other;
	int min_age;
	int64_t now;
	uint64_t violations;        /* PROTO_VIOLATION_* found */
	long days_left;
	bool forced;                /* the recorded change was forced */
	bool breached;              /* ...because the password was breached */
};

static bool record_allowed(const struct store_user *u, const struct store_entry *entries,
			   size_t n, void *ctx)
{
	struct record_rules *r = ctx;
	bool held;

	r->violations = 0;
	r->days_left = 0;
	held = forced_hold_find(u->name, r->now, false);
	r->forced = forced_now(r->server, u, r->now) || held;
	r->breached = u->must_change &&
		      strcmp(u->must_change_reason, STORE_REASON_BREACHED) == 0;
	if (r->min_age > 0 && !r->root_for_other && u->last_change > 0 && !r->forced)
		r->days_left = aging_min_age_days_left(u->last_change, r->now, r->min_age);
	if (r->days_left > 0)
		r->violations |= PROTO_VIOLATION_TOO_SOON;
	/* Same params, same salt: the same password gives the same hash. */
	for (size_t i = 0; i < n; i++)
		if (entries[i].opslimit == r->params.opslimit &&
		    entries[i].memlimit == r->params.memlimit &&
		    hash_equal(entries[i].hash, r->hash))
			r->violations |= PROTO_VIOLATION_REUSED;
	/* ...and the same skeleton the same skeleton hash. */
	for (size_t i = 0; r->skeleton != NULL && i < n && i < (size_t)r->similar; i++) {
		struct hash_params sp = entry_skeleton_params(&entries[i]);
		if (entries[i].has_skeleton && same_params(&sp, &r->skeleton_params) &&
		    hash_equal(entries[i].skeleton, r->skeleton))
			r->violations |= PROTO_VIOLATION_SIMILAR;
	}
	if (r->violations & PROTO_VIOLATION_REUSED)
		r->violations &= ~(uint64_t)PROTO_VIOLATION_SIMILAR;
	if (r->violations == 0 && held)
		forced_hold_find(u->name, r->now, true);   /* used up by this change */
	return r->violations == 0;
}

/*
 * A change the daemon refuses to record: the writer has already stored the
 * password, so the history and the rotation clock keep the change that was
 * recorded first, and the refusal is audited for the reviewer.
 */
static void record_refused(struct server *s, struct conn *c, const char *user,
			   const struct audit_event *origin, const struct record_rules *r)
{
	bool reused = (r->violations & PROTO_VIOLATION_REUSED) != 0;
	bool similar = (r->violations & PROTO_VIOLATION_SIMILAR) != 0;
	bool soon = (r->violations & PROTO_VIOLATION_TOO_SOON) != 0;
	const char *reason = reused ? (soon ? "reused,too_soon" : "reused")
			     : similar ? (soon ? "similar_to_recent,too_soon" : "similar_to_recent")
			     : "too_soon";
	const char *why = reused ? "the password is already in the history"
			  : similar ? "the password is too similar to a recent one"
			  : "another change was recorded within the minimum age";
	char text[128];
	struct audit_event ev = *origin;

	ev.event = "change_not_recorded";
	ev.reasons = reason;

	log_msg(LOG_WARNING, "change of %s not recorded (%s): %s", user, reason, why);
	daemon_audit_emit(s, &ev);
	snprintf(text, sizeof(text), "not recorded: %s", why);
	reply(c, reused || similar ? PROTO_REUSED : PROTO_TOO_SOON,
	      r->violations | ((uint64_t)r->days_left << PROTO_CHECK_DAYS_SHIFT), text);
}

static void field_cut(const struct conn *c, unsigned idx, char *out, size_t cap);

/*
 * The new entry's hashes: the password's into e->hash and, with
 * skeletons on and a skeleton to be had, the skeleton's into e->skeleton
 * (e->has_skeleton, at e->skeleton_opslimit/memlimit: the lower cost of
 * hash_skeleton_params), the two evaluations side by side.
 */
static pp_err record_hashes(struct server *s, const struct store_user *u,
			    const char *password, size_t len, bool skeletons,
			    struct store_entry *e)
{
	struct hash_task *tasks = sodium_malloc(2 * sizeof(*tasks));
	struct hash_batch batch;
	char *skeleton = NULL;
	pp_err rc = PP_OK;

	if (tasks == NULL)
		return PP_ERR_NOMEM;
	memset(tasks, 0, 2 * sizeof(*tasks));
	memset(&batch, 0, sizeof(batch));
	if (skeletons)
		rc = skeleton_of(password, len, &skeleton, &batch.skeleton_len);
	if (rc == PP_OK) {
		tasks[0].params = s->params;
		hash_skeleton_params(&s->params, &tasks[1].params);
		tasks[1].skeleton = true;
		batch.password = password;
		batch.password_len = len;
		batch.skeleton = skeleton;
		batch.salt = u->salt;
		batch.pepper = s->pepper;
		batch.tasks = tasks;
		batch.n = skeleton != NULL ? 2 : 1;
		rc = hash_batch_run(&batch);
	}
	if (rc == PP_OK) {
		memcpy(e->hash, tasks[0].digest, HASH_BYTES);
		e->has_skeleton = skeleton != NULL;
		if (e->has_skeleton) {
			memcpy(e->skeleton, tasks[1].digest, HASH_BYTES);
			e->skeleton_opslimit = tasks[1].params.opslimit;
			e->skeleton_memlimit = tasks[1].params.memlimit;
		}
	}
	skeleton_free(skeleton);
	sodium_free(tasks);
	return rc;
}

void handle_record(struct server *s, struct worker *w, struct conn *c)
{
	char user[PP_NAME_MAX + 1], service[64] = "", rhost[256] = "", tty[128] = "";
	struct audit_event origin;
	const struct proto_field *pw = &c->req.f[PROTO_RECORD_PASSWORD];
	uint64_t depth = c->req.f[PROTO_RECORD_HISTORY].u64;
	uint64_t flags = c->req.f[PROTO_RECORD_FLAGS].u64;
	uint64_t min_age = flags >> PROTO_RECORD_MIN_AGE_SHIFT;
	struct record_rules rules;
	struct store_user u;
	struct store_entry e;
	int64_t now = now_utc();
	bool recorded = false;
	pp_err rc;

	if (!field_user(c, PROTO_RECORD_USER, user, sizeof(user)))
		return;
	if (proto_copy_str(&c->req, PROTO_RECORD_SERVICE, service, sizeof(service)) != PP_OK)
		service[0] = '\0';
	/* Where the change came from, for its audit lines (cut, never refused). */
	field_cut(c, PROTO_RECORD_RHOST, rhost, sizeof(rhost));
	field_cut(c, PROTO_RECORD_TTY, tty, sizeof(tty));
	memset(&origin, 0, sizeof(origin));
	origin.user = user;
	origin.uid = daemon_audit_uid_of(user);
	origin.service = service;
	origin.rhost = rhost;
	origin.tty = tty;
	if (depth > POLICY_MAX_HISTORY || min_age > PP_DAYS_MAX ||
	    (flags & ((1u << PROTO_RECORD_MIN_AGE_SHIFT) - 1) & ~(uint64_t)PROTO_RECORD_ROOT_FOR_OTHER)) {
		reply(c, PROTO_BAD_REQUEST, 0, "history, min_age or flags out of range");
		return;
	}
	rc = store_user_ensure(w->store, user, now, 0, false, &u);
	if (rc != PP_OK)
		goto fail;
	note_future_date(user, &u, now);
	memset(&e, 0, sizeof(e));
	e.opslimit = s->params.opslimit;
	e.memlimit = s->params.memlimit;
	e.created = now;
	memset(&rules, 0, sizeof(rules));
	rules.server = s;
	rules.hash = e.hash;
	rules.params = s->params;
	hash_skeleton_params(&s->params, &rules.skeleton_params);
	rules.root_for_other = (flags & PROTO_RECORD_ROOT_FOR_OTHER) != 0;
	rules.min_age = (int)min_age;
	rules.now = now;
	rules.similar = similar_depth(s, depth);
	rc = record_hashes(s, &u, pw->str, pw->len, rules.similar > 0, &e);
	if (rc == PP_OK) {
		rules.skeleton = e.has_skeleton ? e.skeleton : NULL;
		rc = store_history_record_similar(w->store, user, &e, (int)depth,
						  rules.similar, now, record_allowed,
						  &rules, &recorded);
	}
	pp_wipe(e.hash, sizeof(e.hash));
	pp_wipe(e.skeleton, sizeof(e.skeleton));
	if (rc != PP_OK)
		goto fail;
	if (!recorded) {
		record_refused(s, c, user, &origin, &rules);
		return;
	}
	/*
	 * Audit first: an acknowledged change is in the log too, or, while the
	 * log cannot be written (disk full), held for it and written after an
	 * audit_gap line (audit.c). It is acknowledged either way.
	 */
	origin.event = "password_changed";
	daemon_audit_emit(s, &origin);
	if (rules.forced) {
		origin.event = "forced_change_completed";
		origin.reasons = rules.breached ? STORE_REASON_BREACHED : NULL;
		daemon_audit_emit(s, &origin);
	}
	reply(c, PROTO_OK, 0, "");
	return;
fail:
	log_msg(LOG_ERR, "record for %s failed: %s (%s)", user, pp_strerror(rc),
		store_errmsg(w->store));
	reply(c, PROTO_INTERNAL, 0, pp_strerror(rc));
}

/* ---- status and the first-sight bootstrap ---- */

/*
 * A LOGIN's inactive_days as root sent it (the module's policy); the
 * daemon's own when it is out of range.
 */
static int login_inactive_days(const struct server *s, const struct conn *c)
{
	uint64_t v = c->req.f[PROTO_LOGIN_INACTIVE_DAYS].u64;

	return v <= PP_DAYS_MAX ? (int)v : s->policy->inactive_days;
}

/*
 * The days u has not been used - since its last login, else since the
 * daemon first saw it - when they exceed inactive_days (0 = off), else 0.
 * A date in the future (a clock that jumped) counts as now: never dormant.
 */
static uint64_t dormant_days(int64_t last_login, const struct store_user *u,
			     int64_t now, int inactive_days)
{
	int64_t since = last_login ? last_login : u->first_seen;
	int64_t days;

	if (inactive_days <= 0 || since <= 0 || since >= now)
		return 0;
	days = (now - since) / AGING_DAY;
	return days > inactive_days ? (uint64_t)days : 0;
}

/*
 * A LOGIN (the account phase) counts as the user's login unless the user
 * is dormant: noted in memory only (the writer writes it in a batch), so
 * the account phase costs no disk write. *last_login is the one before.
 */
static uint64_t login_count(struct server *s, const struct conn *c,
			    const struct store_user *u, int64_t now, int64_t *last_login)
{
	uint64_t dormant;

	*last_login = store_logins_last(s->logins, u->name, u->last_login);
	if (c->req.type != PROTO_LOGIN)
		return 0;
	dormant = dormant_days(*last_login, u, now, login_inactive_days(s, c));
	if (dormant == 0 && !store_logins_note(s->logins, u->name, now))
		log_msg(LOG_WARNING, "login of %s not counted: %d logins wait to be written",
			u->name, STORE_LOGINS_MAX);
	return dormant;
}

/* PROTO_STATUS_REPLY_MUST_CHANGE: whether, and why, u must change. */
static uint64_t must_change_value(const struct store_user *u, const struct aging_facts *f)
{
	if (u->must_change && strcmp(u->must_change_reason, STORE_REASON_BREACHED) == 0)
		return PROTO_MUST_CHANGE_BREACHED;
	if (u->must_change || f->shadow_must_change)
		return PROTO_MUST_CHANGE_FLAGGED;
	return PROTO_MUST_CHANGE_NONE;
}

/* sv: the user's shadow entry when the caller has read it, else NULL. */
static void status_reply(struct server *s, struct conn *c, const struct store_user *u,
			 const struct shadow_view *sv, int max_age, int warn)
{
	struct aging_facts f = {
		.last_change = u->last_change, .first_seen = u->first_seen,
		.must_change = u->must_change,
	};
	struct aging_status st;
	struct proto_msg m;
	int64_t now = now_utc(), last_login;
	uint64_t dormant = login_count(s, c, u, now, &last_login);

	add_shadow_facts(s, u->name, sv, &f);
	aging_evaluate(&f, now, max_age, warn, &st);
	if (st.future)
		note_future_date(u->name, u, now);
	proto_msg_init(&m, PROTO_STATUS_REPLY);
	if (proto_add_u64(&m, PROTO_OK) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)st.state) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)u->last_change) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)st.expires) != PP_OK ||
	    proto_add_u64(&m, must_change_value(u, &f)) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)u->history_count) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)u->first_seen) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)now) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)last_login) != PP_OK ||
	    proto_add_u64(&m, dormant) != PP_OK) {
		c->close_after = true;
		return;
	}
	send_msg(c, &m);
}

static void status_not_found(struct conn *c)
{
	struct proto_msg m;

	proto_msg_init(&m, PROTO_STATUS_REPLY);
	if (proto_add_u64(&m, PROTO_NOT_FOUND) != PP_OK) {
		c->close_after = true;
		return;
	}
	for (int i = PROTO_STATUS_REPLY_STATE; i <= PROTO_STATUS_REPLY_DORMANT; i++)
		if (proto_add_u64(&m, 0) != PP_OK)
			c->close_after = true;
	if (!c->close_after)
		send_msg(c, &m);
}

/* Root asks with the module's own policy; everyone else gets the daemon's. */
static void status_limits(const struct server *s, const struct conn *c,
			  int *max_age, int *warn)
{
	uint64_t m = c->req.f[PROTO_STATUS_MAX_AGE_DAYS].u64;
	uint64_t wd = c->req.f[PROTO_STATUS_WARN_DAYS].u64;

	*max_age = s->policy->max_age_days;
	*warn = s->policy->warn_days;
	if (c->privileged && m <= PP_DAYS_MAX && wd <= PP_DAYS_MAX) {
		*max_age = (int)m;
		*warn = (int)wd;
	}
}

/*
 * Where a new user's clock starts: the shadow file's last-change day (0
 * there means "must change now"), else now (*last stays 0).
 */
static void shadow_start(const struct server *s, const char *user, int64_t now,
			 int64_t *last, bool *must, long *days)
{
	pp_err rc = users_shadow_last_change(s->policy->shadow_file, user, days);
	int e = errno;

	*last = 0;
	*must = false;
	if (rc == PP_OK) {
		if (*days == 0)
			*must = true;
		else if (*days > 0 && (int64_t)*days * AGING_DAY <= now)
			*last = (int64_t)*days * AGING_DAY;
	} else if (rc == PP_ERR_IO && e != ENOENT) {
		log_msg(LOG_WARNING, "cannot read %s (%s): the clock of %s starts now",
			s->policy->shadow_file, strerror(e), user);
	}
}

/* A user the store has never seen: start the clock (writer lane). */
void handle_bootstrap(struct server *s, struct worker *w, struct conn *c)
{
	char user[PP_NAME_MAX + 1];
	struct store_user u;
	struct users_info info;
	long days = -1;
	int64_t now = now_utc(), last;
	bool must;
	int max_age, warn;
	pp_err rc;

	if (!field_user(c, PROTO_STATUS_USER, user, sizeof(user)))
		return;
	status_limits(s, c, &max_age, &warn);
	if (users_lookup(user, &info) != PP_OK) {
		status_not_found(c);
		return;
	}
	shadow_start(s, user, now, &last, &must, &days);
	rc = store_user_ensure(w->store, user, now, last, must, &u);
	if (rc != PP_OK) {
		log_msg(LOG_ERR, "status for %s failed: %s", user, pp_strerror(rc));
		reply(c, PROTO_INTERNAL, 0, pp_strerror(rc));
		return;
	}
	log_msg(LOG_INFO, "first sight of %s: clock starts %s", user,
		days > 0 ? "at the shadow file's last change"
			 : (must ? "expired (shadow last change is 0)" : "now"));
	status_reply(s, c, &u, NULL, max_age, warn);
}

/*
 * The time of a change shadow knows and the store does not: shadow's last
 * change (a day) is later than the day of the store's last change (or of
 * first sight), and not in the future. 0 when there is none.
 */
static int64_t unrecorded_change(const struct shadow_view *v, const struct store_user *u,
				 int64_t now)
{
	const struct users_shadow *sh = &v->sh;
	int64_t stored = u->last_change ? u->last_change : u->first_seen;
	int64_t t;

	if (!v->found || sh->last_change <= 0 || sh->last_change > USERS_SHADOW_DAYS_LIMIT)
		return 0;
	t = (int64_t)sh->last_change * AGING_DAY;
	if (t > now || stored >= now || sh->last_change <= stored / AGING_DAY)
		return 0;
	return t;
}

/*
 * Root's STATUS or LOGIN for a user whose change was not recorded (writer
 * lane): adopt shadow's date, so the user is not sent to change again, and
 * say so in the audit log. No history entry can be added: the password is
 * not known.
 */
void handle_adopt(struct server *s, struct worker *w, struct conn *c)
{
	char user[PP_NAME_MAX + 1], date[16];
	struct store_user u;
	struct shadow_view sv = { .found = false };
	int64_t now = now_utc(), t;
	int max_age, warn;
	pp_err rc;

	if (!field_user(c, PROTO_STATUS_USER, user, sizeof(user)))
		return;
	status_limits(s, c, &max_age, &warn);
	rc = store_user_get(w->store, user, &u);
	if (rc == PP_OK)
		shadow_view_read(s, user, &sv);
	if (rc == PP_OK && (t = unrecorded_change(&sv, &u, now)) != 0) {
		rc = store_adopt_last_change(w->store, user, t);
		if (rc == PP_OK) {
			aging_format_date(t, date, sizeof(date));
			log_msg(LOG_WARNING, "%s changed the password on %s without it being "
				"recorded: the date is taken from %s, the password is not in "
				"the history", user, date, s->policy->shadow_file);
			daemon_audit_simple(s, "change_not_recorded", user, "shadow",
					    "pam_policyd");
			rc = store_user_get(w->store, user, &u);
		} else if (rc == PP_ERR_NOT_FOUND) {
			rc = PP_OK;     /* another request adopted it first */
		}
	}
	if (rc != PP_OK) {
		log_msg(LOG_ERR, "status for %s failed: %s", user, pp_strerror(rc));
		reply(c, PROTO_INTERNAL, 0, pp_strerror(rc));
		return;
	}
	status_reply(s, c, &u, &sv, max_age, warn);
}

void handle_status(struct server *s, struct worker *w, struct conn *c)
{
	char user[PP_NAME_MAX + 1];
	struct store_user u;
	int max_age, warn;
	pp_err rc;

	if (!field_user(c, PROTO_STATUS_USER, user, sizeof(user)))
		return;
	status_limits(s, c, &max_age, &warn);
	rc = store_user_get(w ? w->store : s->store, user, &u);
	if (rc == PP_OK) {
		struct shadow_view sv;

		shadow_view_read(s, user, &sv);
		/* Only root's requests (the module) write; auditors just read. */
		if (c->privileged && w == NULL && unrecorded_change(&sv, &u, now_utc()) != 0) {
			dispatch_continue(s, w, c, &dispatch_adopt);
			return;
		}
		status_reply(s, c, &u, &sv, max_age, warn);
		return;
	}
	if (rc != PP_ERR_NOT_FOUND) {
		log_msg(LOG_ERR, "status for %s failed: %s", user, pp_strerror(rc));
		reply(c, PROTO_INTERNAL, 0, pp_strerror(rc));
		return;
	}
	/* Auditors read; they do not start anyone's clock. */
	if (!dispatch_allows(&dispatch_first_sight, c)) {
		status_not_found(c);
		return;
	}
	dispatch_continue(s, w, c, &dispatch_first_sight);
}

/* ---- administration ---- */

void handle_expire(struct server *s, struct worker *w, struct conn *c)
{
	char user[PP_NAME_MAX + 1], actor[PP_NAME_MAX + 1];
	struct users_info info;
	pp_err rc;

	if (!field_user(c, PROTO_EXPIRE_USER, user, sizeof(user)))
		return;
	if (users_lookup(user, &info) != PP_OK) {
		reply(c, PROTO_NOT_FOUND, 0, "no such user");
		return;
	}
	rc = store_set_must_change(w->store, user, true, now_utc());
	if (rc != PP_OK) {
		daemon_audit_failure(s, c, "admin_expire_failed", user, rc, "expire");
		reply(c, PROTO_INTERNAL, 0, store_is_postgresql(w->store)
		      ? store_errmsg(w->store) : pp_strerror(rc));
		return;
	}
	peer_name(c->uid, actor, sizeof(actor));
	daemon_audit_simple(s, "admin_expire", user, "pam_policyctl", actor);
	reply(c, PROTO_OK, 0, "");
}

/*
 * PROTO_BREACHED: the module's auth line found the password user just
 * logged in with in the breach filter. The account is flagged must-change
 * with the reason "breached" (the account line then forces a change at
 * once), and breach_detected is audited - with where the login came from,
 * never the password, which is not sent.
 */
void handle_breached(struct server *s, struct worker *w, struct conn *c)
{
	char user[PP_NAME_MAX + 1], service[128], rhost[256], tty[128];
	struct users_info info;
	struct audit_event ev;
	pp_err rc;

	if (!field_user(c, PROTO_BREACHED_USER, user, sizeof(user)))
		return;
	if (users_lookup(user, &info) != PP_OK) {
		reply(c, PROTO_NOT_FOUND, 0, "no such user");
		return;
	}
	field_cut(c, PROTO_BREACHED_SERVICE, service, sizeof(service));
	field_cut(c, PROTO_BREACHED_RHOST, rhost, sizeof(rhost));
	field_cut(c, PROTO_BREACHED_TTY, tty, sizeof(tty));
	rc = store_flag_must_change(w->store, user, STORE_REASON_BREACHED, now_utc());
	if (rc != PP_OK) {
		log_msg(LOG_ERR, "breached password of %s not flagged: %s", user,
			store_errmsg(w->store));
		reply(c, PROTO_INTERNAL, 0, pp_strerror(rc));
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.event = "breach_detected";
	ev.user = user;
	ev.uid = (long long)info.uid;
	ev.service = service;
	ev.rhost = rhost;
	ev.tty = tty;
	ev.reasons = STORE_REASON_BREACHED;
	daemon_audit_emit(s, &ev);
	reply(c, PROTO_OK, 0, "");
}

void handle_forget(struct server *s, struct worker *w, struct conn *c)
{
	char user[PP_NAME_MAX + 1], actor[PP_NAME_MAX + 1];
	pp_err rc;

	if (!field_user(c, PROTO_FORGET_USER, user, sizeof(user)))
		return;
	rc = store_forget(w->store, user);
	if (rc == PP_ERR_NOT_FOUND) {
		reply(c, PROTO_NOT_FOUND, 0, "the store has nothing for this user");
		return;
	}
	if (rc != PP_OK) {
		daemon_audit_failure(s, c, "admin_forget_failed", user, rc, "forget");
		reply(c, PROTO_INTERNAL, 0, store_is_postgresql(w->store)
		      ? store_errmsg(w->store) : pp_strerror(rc));
		return;
	}
	peer_name(c->uid, actor, sizeof(actor));
	daemon_audit_simple(s, "admin_forget", user, "pam_policyctl", actor);
	reply(c, PROTO_OK, 0, "");
}

/* Events the module may report; the daemon writes the others itself. */
static const char *const module_events[] = {
	"change_rejected", "expiry_warning", "password_expired",
	"root_override", "history_unavailable", "expired_nonpassword_login",
	"expired_noninteractive", "login_refused_inactive", NULL,
};

/* Copy a string field, cut to fit: an event is never lost to a long rhost. */
static void field_cut(const struct conn *c, unsigned idx, char *out, size_t cap)
{
	const struct proto_field *f = &c->req.f[idx];
	size_t n = f->len < cap - 1 ? f->len : cap - 1;

	memcpy(out, f->str ? f->str : "", n);
	out[n] = '\0';
}

static bool module_event(const char *name)
{
	for (int i = 0; module_events[i] != NULL; i++)
		if (strcmp(name, module_events[i]) == 0)
			return true;
	return false;
}

/*
 * A non-interactive service (cron, atd) passing an expired user is audited
 * once per user, service and UTC day: a job every minute would otherwise
 * write 1440 lines a day that say the same. What was written today is
 * kept in a small table keyed by a hash of user and service; a collision
 * only means one more line. A restarted daemon writes the first one again.
 */
#define NONINTERACTIVE_SLOTS 512

static bool noninteractive_audited_today(const char *user, const char *service,
					 int64_t now)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static struct { uint64_t key; int64_t day; } seen[NONINTERACTIVE_SLOTS];
	uint64_t key = 14695981039346656037ULL;     /* FNV-1a, 64 bits */
	int64_t day = now / AGING_DAY;
	size_t slot;
	bool dup;

	for (const char *p = user; *p != '\0'; p++)
		key = (key ^ (unsigned char)*p) * 1099511628211ULL;
	key = (key ^ 0xffu) * 1099511628211ULL;   /* a byte no name holds */
	for (const char *p = service; *p != '\0'; p++)
		key = (key ^ (unsigned char)*p) * 1099511628211ULL;
	slot = (size_t)(key % NONINTERACTIVE_SLOTS);
	pthread_mutex_lock(&lock);
	dup = seen[slot].key == key && seen[slot].day == day;
	seen[slot].key = key;
	seen[slot].day = day;
	pthread_mutex_unlock(&lock);
	return dup;
}

void handle_event(struct server *s, struct worker *w, struct conn *c)
{
	char name[40], user[PP_NAME_MAX + 1] = "", service[128] = "", rhost[256] = "",
	     tty[128] = "", reasons[512] = "";
	struct audit_event ev;

	if (proto_copy_str(&c->req, PROTO_EVENT_NAME, name, sizeof(name)) != PP_OK ||
	    proto_copy_str(&c->req, PROTO_EVENT_USER, user, sizeof(user)) != PP_OK) {
		reply(c, PROTO_BAD_REQUEST, 0, "unknown event or user name too long");
		return;
	}
	if (!module_event(name)) {
		reply(c, PROTO_BAD_REQUEST, 0, "unknown event");
		return;
	}
	field_cut(c, PROTO_EVENT_SERVICE, service, sizeof(service));
	field_cut(c, PROTO_EVENT_RHOST, rhost, sizeof(rhost));
	field_cut(c, PROTO_EVENT_TTY, tty, sizeof(tty));
	field_cut(c, PROTO_EVENT_REASONS, reasons, sizeof(reasons));
	if (strcmp(name, "expired_noninteractive") == 0 &&
	    noninteractive_audited_today(user, service, now_utc())) {
		reply(c, PROTO_OK, 0, "already audited today");
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.event = name;
	ev.user = user;
	ev.uid = daemon_audit_uid_of(user);
	ev.service = service;
	ev.rhost = rhost;
	ev.tty = tty;
	ev.reasons = reasons;
	daemon_audit_emit(s, &ev);
	reply(c, PROTO_OK, 0, "");
}

void handle_backup(struct server *s, struct worker *w, struct conn *c)
{
	char path[PATH_MAX], actor[PP_NAME_MAX + 1];
	pp_err rc;

	if (proto_copy_str(&c->req, PROTO_BACKUP_PATH, path, sizeof(path)) != PP_OK ||
	    path[0] != '/') {
		reply(c, PROTO_BAD_REQUEST, 0, "backup path must be absolute");
		return;
	}
	rc = store_backup(w->store, path);
	if (rc != PP_OK) {
		char what[PATH_MAX + 16];
		snprintf(what, sizeof(what), "backup to %s", path);
		daemon_audit_failure(s, c, "admin_backup_failed", NULL, rc, what);
		reply(c, PROTO_INTERNAL, 0, pp_strerror(rc));
		return;
	}
	peer_name(c->uid, actor, sizeof(actor));
	daemon_audit_simple(s, "admin_backup", NULL, "pam_policyctl", actor);
	reply(c, PROTO_OK, 0, "");
}

void handle_reopen(struct server *s, struct worker *w, struct conn *c)
{
	pp_err rc = daemon_audit_reopen(s);

	reply(c, rc == PP_OK ? PROTO_OK : PROTO_INTERNAL, 0, rc == PP_OK ? "" : pp_strerror(rc));
}

/* ---- secrets bound to the store (for doctor) ---- */

/* Does the pepper at p give the check value bound[0..len)? */
static bool pepper_matches(const uint8_t *p, const uint8_t *bound, size_t len)
{
	uint8_t check[HASH_BYTES];
	bool same = len == HASH_BYTES && hash_pepper_check_value(p, check) == PP_OK &&
		    hash_equal(check, bound);

	pp_wipe(check, sizeof(check));
	return same;
}

void handle_secrets(struct server *s, struct worker *w, struct conn *c)
{
	char path[PATH_MAX], text[PATH_MAX + 512] = "";
	uint8_t bound[STORE_META_VALUE_MAX], *disk;
	size_t len = 0;
	uint64_t detail = 0;
	pp_err rc;

	rc = store_meta_get(w->store, STORE_META_PEPPER_CHECK, bound, sizeof(bound), &len);
	if (rc != PP_OK && rc != PP_ERR_NOT_FOUND) {
		log_msg(LOG_ERR, "secrets: %s", store_errmsg(w->store));
		reply(c, PROTO_INTERNAL, 0, pp_strerror(rc));
		return;
	}
	if (rc == PP_OK)
		detail |= PROTO_SECRETS_PEPPER_BOUND;
	if (rc == PP_OK && pepper_matches(s->pepper, bound, len))
		detail |= PROTO_SECRETS_PEPPER_IN_USE;
	disk = sodium_malloc(HASH_PEPPER_BYTES);
	if (disk == NULL ||
	    paths_state_file(path, sizeof(path), s->policy->state_dir, PATHS_PEPPER) != PP_OK) {
		if (disk != NULL)
			sodium_free(disk);
		reply(c, PROTO_INTERNAL, 0, pp_strerror(disk ? PP_ERR_TOO_LONG : PP_ERR_NOMEM));
		return;
	}
	rc = hash_pepper_load(path, disk, text, sizeof(text));
	if (rc == PP_ERR_NOT_FOUND) {
		detail |= PROTO_SECRETS_PEPPER_FILE_MISSING;
	} else if (rc == PP_OK) {
		detail |= PROTO_SECRETS_PEPPER_FILE;
		if ((detail & PROTO_SECRETS_PEPPER_BOUND) && pepper_matches(disk, bound, len))
			detail |= PROTO_SECRETS_PEPPER_FILE_MATCHES;
		else if (detail & PROTO_SECRETS_PEPPER_BOUND)
			snprintf(text, sizeof(text), "pepper file %s is not the pepper the "
				 "store is bound to", path);
	}
	sodium_free(disk);
	pp_wipe(bound, sizeof(bound));
	/* Cut to what one reply field carries (a longer one would drop the reply). */
	text[PROTO_MAX_STR] = '\0';
	reply(c, PROTO_OK, detail, text);
}

/* ---- may this user change now? (before any password is typed) ---- */

/*
 * PROTO_MAY_CHANGE: the minimum age alone, decided as handle_check decides
 * it, so that the module can refuse a change the user cannot make before
 * asking for a password (proto.h). One read of the user's row: inline.
 */
void handle_may_change(struct server *s, struct worker *w, struct conn *c)
{
	char user[PP_NAME_MAX + 1];
	uint64_t flags = c->req.f[PROTO_MAY_CHANGE_FLAGS].u64;
	uint64_t min_age = c->req.f[PROTO_MAY_CHANGE_MIN_AGE_DAYS].u64;
	struct store_user u;
	int64_t now = now_utc();
	long left = 0;
	pp_err rc;

	if (!field_user(c, PROTO_MAY_CHANGE_USER, user, sizeof(user)))
		return;
	if (min_age > PP_DAYS_MAX) {
		reply(c, PROTO_BAD_REQUEST, 0, "min_age out of range");
		return;
	}
	rc = store_user_get(w ? w->store : s->store, user, &u);
	if (rc == PP_ERR_NOT_FOUND) {
		reply(c, PROTO_OK, 0, "");
		return;
	}
	if (rc != PP_OK) {
		log_msg(LOG_ERR, "may-change for %s failed: %s", user, pp_strerror(rc));
		reply(c, PROTO_INTERNAL, 0, pp_strerror(rc));
		return;
	}
	if (min_age > 0 &&
	    min_age_applies(s, (flags & PROTO_CHECK_ROOT_FOR_OTHER) != 0, &u, now))
		left = aging_min_age_days_left(u.last_change, now, (int)min_age);
	if (left > 0)
		reply(c, PROTO_TOO_SOON,
		      PROTO_VIOLATION_TOO_SOON | ((uint64_t)left << PROTO_CHECK_DAYS_SHIFT), "");
	else
		reply(c, PROTO_OK, 0, "");
}
