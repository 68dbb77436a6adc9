/*
 * report.c - the PROTO_REPORT handler: the report's rows, decided here.
 *
 * The daemon is the one process that decides a user's state, so the rows
 * of "pam_policyctl report" are computed here, with the daemon's policy and
 * clock: the store (walked in byte order of name) is merged with the users
 * NSS enumerates (one getpwent pass, sorted the same way), every user goes
 * through the one coverage rule (users_scope_coverage) and aging_evaluate,
 * and each row is streamed with its state. The CLI only filters and
 * formats. No per-user NSS call is made except for stored users that the
 * enumeration did not list (directory users when enumeration is off).
 *
 * Runs on the report thread only (getpwent is not reentrant; nothing else
 * enumerates), so a slow reader delays only other reports, never root's
 * writes.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "daemon.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/socket.h>

#include "aging.h"
#include "bounds.h"
#include "users.h"

#define REPORT_BATCH 65536

/* One user NSS enumerated. */
struct nss_user {
	char *name;
	uid_t uid;
	gid_t gid;
	size_t seq;                 /* enumeration order, to keep the first */
};

struct report_ctx {
	struct conn *conn;
	const struct policy *policy;
	const struct users_scope *scope;
	int64_t now;
	uint64_t rows;
	uint64_t future;            /* rows with PROTO_REPORT_ROW_FUTURE_DATE */
	uint8_t *batch;
	size_t used;
	bool failed;
	struct nss_user *nss;       /* sorted by name, duplicates removed */
	size_t nnss, next;          /* next: first NSS user not yet merged */
};

static bool report_flush(struct report_ctx *r)
{
	size_t off = 0;
	int64_t deadline = now_ms() + REPLY_TIMEOUT_MS * 5;

	while (off < r->used) {
		ssize_t n = send(r->conn->fd, r->batch + off, r->used - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = { .fd = r->conn->fd, .events = POLLOUT };
			if (now_ms() > deadline || poll(&p, 1, 1000) < 0)
				return false;
			continue;
		}
		return false;
	}
	r->used = 0;
	return true;
}

/* Append one frame to the batch, sending the batch when it is full. */
static bool report_frame(struct report_ctx *r, const struct proto_msg *m)
{
	size_t len = 0;
	const size_t batch_size = REPORT_BATCH;

	if (r->used + PROTO_HEADER_SIZE + PROTO_MAX_FRAME > batch_size && !report_flush(r))
		return false;
	if (proto_encode(m, r->batch + r->used + PROTO_HEADER_SIZE, PROTO_MAX_FRAME, &len) != PP_OK)
		return false;
	r->batch[r->used] = (uint8_t)(len >> 24);
	r->batch[r->used + 1] = (uint8_t)(len >> 16);
	r->batch[r->used + 2] = (uint8_t)(len >> 8);
	r->batch[r->used + 3] = (uint8_t)len;
	r->used += PROTO_HEADER_SIZE + len;
	return true;
}

/* What one row says, before it is encoded. */
struct row {
	const char *name;
	const struct store_user *stored;   /* NULL: not in the store */
	bool known;                        /* NSS knows the user: uid/gid set */
	uid_t uid;
	gid_t gid;
};

/* Decide and send one row; users the policy does not cover are left out. */
static pp_err send_row(struct report_ctx *r, const struct row *w)
{
	struct aging_facts f = { 0, 0, false };
	struct aging_status st;
	struct proto_msg m;
	enum users_coverage cov;
	uint64_t flags = 0;

	/*
	 * A user NSS does not know has no uid or group to judge: as uid 0
	 * (never a system account) with no primary group, only the name
	 * rules apply (exempt_users, exempt group member lists, local).
	 */
	cov = users_scope_coverage(r->scope, w->name, w->known ? w->uid : 0,
				   w->known ? w->gid : (gid_t)-1);
	if (cov == USERS_SYSTEM_ACCOUNT || cov == USERS_NOT_LOCAL)
		return PP_OK;
	if (w->stored != NULL) {
		f.last_change = w->stored->last_change;
		f.first_seen = w->stored->first_seen;
		f.must_change = w->stored->must_change;
		flags |= PROTO_REPORT_ROW_IN_STORE;
		if (w->stored->must_change)
			flags |= PROTO_REPORT_ROW_MUST_CHANGE;
	}
	if (w->known)
		flags |= PROTO_REPORT_ROW_KNOWN_UID;
	aging_evaluate(&f, r->now, r->policy->max_age_days, r->policy->warn_days, &st);
	if (st.future) {
		/* A clock jumped: aged from now, and flagged for the admin. */
		flags |= PROTO_REPORT_ROW_FUTURE_DATE;
		r->future++;
	}
	if (cov == USERS_EXEMPT_USER || cov == USERS_EXEMPT_GROUP) {
		st.state = AGING_EXEMPT;
		st.expires = 0;
	}
	proto_msg_init(&m, PROTO_REPORT_ROW);
	if (proto_add_cstr(&m, w->name) != PP_OK ||
	    proto_add_u64(&m, w->known ? (uint64_t)w->uid : 0) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)st.state) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)f.first_seen) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)f.last_change) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)st.expires) != PP_OK ||
	    proto_add_u64(&m, w->stored ? (uint64_t)w->stored->history_count : 0) != PP_OK ||
	    proto_add_u64(&m, flags) != PP_OK ||
	    !report_frame(r, &m)) {
		r->failed = true;
		return PP_ERR_IO;
	}
	r->rows++;
	return PP_OK;
}

/* Send every enumerated user whose name sorts before limit (NULL: all). */
static pp_err send_nss_before(struct report_ctx *r, const char *limit)
{
	pp_err rc = PP_OK;

	while (rc == PP_OK && r->next < r->nnss &&
	       (limit == NULL || strcmp(r->nss[r->next].name, limit) < 0)) {
		const struct nss_user *n = &r->nss[r->next++];
		struct row w = { n->name, NULL, true, n->uid, n->gid };

		rc = send_row(r, &w);
	}
	return rc;
}

/* The store walk's callback: merge, then the stored user's own row. */
static pp_err report_stored(const struct store_user *u, void *arg)
{
	struct report_ctx *r = arg;
	struct row w = { u->name, u, false, 0, 0 };
	pp_err rc = send_nss_before(r, u->name);

	if (rc != PP_OK)
		return rc;
	if (r->next < r->nnss && strcmp(r->nss[r->next].name, u->name) == 0) {
		w.known = true;
		w.uid = r->nss[r->next].uid;
		w.gid = r->nss[r->next].gid;
		r->next++;
	} else {
		struct users_info info;

		/* Not enumerated (a directory user, say): one lookup. */
		if (users_lookup(u->name, &info) == PP_OK) {
			w.known = true;
			w.uid = info.uid;
			w.gid = info.gid;
		}
	}
	return send_row(r, &w);
}

static int cmp_nss(const void *a, const void *b)
{
	const struct nss_user *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void nss_free(struct report_ctx *r)
{
	for (size_t i = 0; i < r->nnss; i++)
		free(r->nss[i].name);
	free(r->nss);
	r->nss = NULL;
	r->nnss = 0;
}

/*
 * Enumerate NSS once, sorted by name (byte order, as the store walks),
 * keeping the first entry of a name listed twice (files + sss, say).
 */
static pp_err nss_load(struct report_ctx *r)
{
	struct passwd *pw;
	size_t cap = 0, kept = 0;
	pp_err rc = PP_OK;

	setpwent();
	while (rc == PP_OK && (pw = getpwent()) != NULL) {
		if (pw->pw_name == NULL || pw->pw_name[0] == '\0' ||
		    strlen(pw->pw_name) > PP_NAME_MAX)
			continue;           /* a name no request could carry */
		if (r->nnss == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			struct nss_user *v = realloc(r->nss, ncap * sizeof(*v));

			if (v == NULL) {
				rc = PP_ERR_NOMEM;
				break;
			}
			r->nss = v;
			cap = ncap;
		}
		r->nss[r->nnss].uid = pw->pw_uid;
		r->nss[r->nnss].gid = pw->pw_gid;
		r->nss[r->nnss].seq = r->nnss;
		if ((r->nss[r->nnss].name = strdup(pw->pw_name)) == NULL)
			rc = PP_ERR_NOMEM;
		else
			r->nnss++;
	}
	endpwent();
	if (rc != PP_OK)
		return rc;
	/* Ties sort by enumeration order: the first source's entry wins. */
	if (r->nnss > 1)
		qsort(r->nss, r->nnss, sizeof(*r->nss), cmp_nss);
	for (size_t i = 0; i < r->nnss; i++) {
		if (kept > 0 && strcmp(r->nss[i].name, r->nss[kept - 1].name) == 0) {
			free(r->nss[i].name);
			continue;
		}
		r->nss[kept++] = r->nss[i];
	}
	r->nnss = kept;
	return PP_OK;
}

static bool send_end(struct report_ctx *r)
{
	struct proto_msg m;

	proto_msg_init(&m, PROTO_REPORT_END);
	return proto_add_u64(&m, r->rows) == PP_OK &&
	       proto_add_u64(&m, (uint64_t)r->now) == PP_OK &&
	       proto_add_u64(&m, (uint64_t)r->policy->max_age_days) == PP_OK &&
	       proto_add_u64(&m, (uint64_t)r->policy->warn_days) == PP_OK &&
	       proto_add_u64(&m, (uint64_t)r->policy->history) == PP_OK &&
	       report_frame(r, &m) && report_flush(r);
}

void handle_report(struct server *s, struct worker *w, struct conn *c)
{
	struct report_ctx r;
	struct users_scope *scope = NULL;
	pp_err rc;

	memset(&r, 0, sizeof(r));
	r.conn = c;
	r.policy = s->policy;
	r.now = now_utc();
	r.batch = malloc(REPORT_BATCH);
	rc = r.batch == NULL ? PP_ERR_NOMEM : users_scope_load(s->policy, USERS_PASSWD_FILE, &scope);
	r.scope = scope;
	if (rc == PP_OK)
		rc = nss_load(&r);
	if (rc == PP_OK)
		rc = store_foreach_user(w->store, report_stored, &r);
	if (rc == PP_OK)
		rc = send_nss_before(&r, NULL);
	if (rc != PP_OK || r.failed || !send_end(&r)) {
		log_msg(LOG_ERR, "report failed after %" PRIu64 " rows: %s", r.rows,
			pp_strerror(rc));
		c->close_after = true;
	}
	if (r.future > 0)
		log_msg(LOG_WARNING, "report: %" PRIu64 " user%s dates in the future "
			"(the clock jumped?): aged from now; see pam_policyctl doctor",
			r.future, r.future == 1 ? " has" : "s have");
	nss_free(&r);
	users_scope_free(scope);
	free(r.batch);
}
