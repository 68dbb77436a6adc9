/*
 * report.c - the PROTO_REPORT handler: the report's rows, decided here.
 *
 * The daemon is the one process that decides a user's state, so the rows
 * of "pam_policyctl report" are computed here, with the daemon's policy and
 * clock: the store (walked in byte order of name) is merged with the users
 * NSS enumerates (one getpwent pass, sorted the same way), every user goes
 * through the one coverage rule (users_scope_coverage) and aging_evaluate,
 * with what the shadow file demands (read once per report, not per user:
 * users_shadow_table), and each row is streamed with its state. The CLI only filters and
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
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <time.h>
#include <sys/socket.h>

#include "aging.h"
#include "auditlog.h"
#include "bounds.h"
#include "secret.h"
#include "store_pg.h"
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
	const struct users_shadow_table *shadow; /* read once; NULL: none */
	int64_t now;
	uint64_t rows;
	uint64_t future;            /* rows with PROTO_REPORT_ROW_FUTURE_DATE */
	uint8_t *batch;
	size_t used;
	bool failed;
	struct nss_user *nss;       /* sorted by name, duplicates removed */
	size_t nnss, next;          /* next: first NSS user not yet merged */
	struct store_logins *logins;   /* logins not yet written (server.logins) */
	bool review;                /* PROTO_REVIEW: every account, review rows */
	struct group_set *privileged, *exempt;  /* review: groups resolved once */
};

struct row;
static pp_err send_review_row(struct report_ctx *r, const struct row *w,
			      enum users_coverage cov, const struct aging_facts *f,
			      const struct aging_status *st, uint64_t flags);

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
	struct aging_facts f = { .last_change = 0 };
	struct aging_status st;
	struct users_shadow sh;
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
	if ((cov == USERS_SYSTEM_ACCOUNT || cov == USERS_NOT_LOCAL) && !r->review)
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
	/* Shadow wins where it demands more (as for status: handlers.c). */
	if (users_shadow_table_find(r->shadow, w->name, &sh)) {
		users_shadow_facts(&sh, &f);
		if (f.shadow_must_change)
			flags |= PROTO_REPORT_ROW_MUST_CHANGE;
	}
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
	if (r->review)
		return send_review_row(r, w, cov, &f, &st, flags);
	proto_msg_init(&m, PROTO_REPORT_ROW);
	if (proto_add_cstr(&m, w->name) != PP_OK ||
	    proto_add_u64(&m, w->known ? (uint64_t)w->uid : 0) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)st.state) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)f.first_seen) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)f.last_change) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)st.expires) != PP_OK ||
	    proto_add_u64(&m, w->stored ? (uint64_t)w->stored->history_count : 0) != PP_OK ||
	    proto_add_u64(&m, flags) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)store_logins_last(r->logins, w->name,
				w->stored ? w->stored->last_login : 0)) != PP_OK ||
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

/*
 * The shadow file, read once for the whole report. Without it (missing,
 * unreadable: logged) the rows say what the store says.
 */
static struct users_shadow_table *report_shadow_load(const char *path)
{
	struct users_shadow_table *t = NULL;
	pp_err rc = users_shadow_table_load(path, &t);
	int e = errno;

	if (rc != PP_OK && !(rc == PP_ERR_IO && e == ENOENT))
		log_msg(LOG_WARNING, "report: cannot read %s (%s): shadow's must-change, "
			"maximum age and locked passwords are not shown", path,
			rc == PP_ERR_IO ? strerror(e) : pp_strerror(rc));
	return t;
}

void handle_report(struct server *s, struct worker *w, struct conn *c)
{
	struct report_ctx r;
	struct users_scope *scope = NULL;
	struct users_shadow_table *shadow = NULL;
	pp_err rc;

	memset(&r, 0, sizeof(r));
	r.conn = c;
	r.policy = s->policy;
	r.logins = s->logins;
	r.now = now_utc();
	r.batch = malloc(REPORT_BATCH);
	rc = r.batch == NULL ? PP_ERR_NOMEM : users_scope_load(s->policy, USERS_PASSWD_FILE, &scope);
	r.scope = scope;
	if (rc == PP_OK)
		r.shadow = shadow = report_shadow_load(s->policy->shadow_file);
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
	users_shadow_table_free(shadow);
	free(r.batch);
}

/* ---- the access review (PROTO_REVIEW) ---- */

/*
 * Groups that grant privilege whatever the configuration says: a review
 * must show them, so privileged_groups adds to this list, never replaces it.
 */
static const char review_builtin_groups[] = "sudo,wheel,adm,root";

/* A group resolved once per review: its gid and listed members. */
struct review_group {
	char *name;
	bool known;                 /* NSS knows the group */
	gid_t gid;
	char **members;
	size_t nmembers;
};

struct group_set {
	struct review_group *g;
	size_t n;
};

static void group_set_free(struct group_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++) {
		for (size_t j = 0; j < set->g[i].nmembers; j++)
			free(set->g[i].members[j]);
		free(set->g[i].members);
		free(set->g[i].name);
	}
	free(set->g);
	free(set);
}

/* Look name up (getgrnam_r) into g; a group NSS does not know has no one. */
static pp_err group_resolve(struct review_group *g)
{
	struct group gr, *found = NULL;
	size_t size = 16384;
	char *buf = NULL;
	int e;

	for (;;) {
		char *nbuf = realloc(buf, size);

		if (nbuf == NULL) {
			free(buf);
			return PP_ERR_NOMEM;
		}
		buf = nbuf;
		e = getgrnam_r(g->name, &gr, buf, size, &found);
		if (e != ERANGE || size >= (size_t)1 << 24)
			break;
		size *= 2;
	}
	if (e == 0 && found != NULL) {
		size_t n = 0;

		g->known = true;
		g->gid = gr.gr_gid;
		while (gr.gr_mem != NULL && gr.gr_mem[n] != NULL)
			n++;
		g->members = calloc(n ? n : 1, sizeof(*g->members));
		for (size_t i = 0; g->members != NULL && i < n; i++)
			if ((g->members[g->nmembers] = strdup(gr.gr_mem[i])) != NULL)
				g->nmembers++;
	}
	free(buf);
	return g->known && g->members == NULL ? PP_ERR_NOMEM : PP_OK;
}

/* Add every name of the comma-separated list to set, once each. */
static pp_err group_set_add_list(struct group_set *set, const char *list)
{
	char copy[POLICY_MAX_LIST], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", list);
	for (char *tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		struct review_group *v;
		bool seen = false;
		pp_err rc;

		for (size_t i = 0; i < set->n; i++)
			seen = seen || strcmp(set->g[i].name, tok) == 0;
		if (seen)
			continue;
		if ((v = realloc(set->g, (set->n + 1) * sizeof(*v))) == NULL)
			return PP_ERR_NOMEM;
		set->g = v;
		memset(&v[set->n], 0, sizeof(v[set->n]));
		if ((v[set->n].name = strdup(tok)) == NULL)
			return PP_ERR_NOMEM;
		rc = group_resolve(&v[set->n]);
		set->n++;
		if (rc != PP_OK)
			return rc;
	}
	return PP_OK;
}

static pp_err group_set_load(const char *list1, const char *list2, struct group_set **out)
{
	struct group_set *set = calloc(1, sizeof(*set));
	pp_err rc = set == NULL ? PP_ERR_NOMEM : group_set_add_list(set, list1);

	if (rc == PP_OK && list2 != NULL)
		rc = group_set_add_list(set, list2);
	if (rc != PP_OK) {
		group_set_free(set);
		set = NULL;
	}
	*out = set;
	return rc;
}

/*
 * Is the user in group g: its primary group, or listed as a member (the
 * rule users.h states for exempt groups)? gid (gid_t)-1: NSS does not
 * know the user, only the member lists count.
 */
static bool group_has(const struct review_group *g, const char *name, gid_t gid)
{
	if (!g->known)
		return false;
	if (gid != (gid_t)-1 && gid == g->gid)
		return true;
	for (size_t i = 0; i < g->nmembers; i++)
		if (strcmp(g->members[i], name) == 0)
			return true;
	return false;
}

/* The names of the groups of set the user is in, comma-separated, into buf. */
static void groups_of(const struct group_set *set, const char *name, gid_t gid,
		      char *buf, size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < set->n; i++) {
		int n;

		if (!group_has(&set->g[i], name, gid))
			continue;
		n = snprintf(buf + used, cap - used, "%s%s", used ? "," : "", set->g[i].name);
		if (n < 0 || (size_t)n >= cap - used) {
			buf[used] = '\0';
			return;
		}
		used += (size_t)n;
	}
}

static uint64_t exemption_of(enum users_coverage cov)
{
	switch (cov) {
	case USERS_EXEMPT_USER:
		return PROTO_EXEMPTION_USER;
	case USERS_EXEMPT_GROUP:
		return PROTO_EXEMPTION_GROUP;
	case USERS_SYSTEM_ACCOUNT:
		return PROTO_EXEMPTION_SYSTEM;
	case USERS_NOT_LOCAL:
		return PROTO_EXEMPTION_NOT_LOCAL;
	default:
		return PROTO_EXEMPTION_NONE;
	}
}

/* One review row: send_row decided coverage and state; add groups and why. */
static pp_err send_review_row(struct report_ctx *r, const struct row *w,
			      enum users_coverage cov, const struct aging_facts *f,
			      const struct aging_status *st, uint64_t flags)
{
	char groups[PROTO_MAX_STR + 1], exempt_group[PP_NAME_MAX + 1] = "";
	gid_t gid = w->known ? w->gid : (gid_t)-1;
	uint64_t exemption = exemption_of(cov);
	enum aging_state state = exemption != PROTO_EXEMPTION_NONE ? AGING_EXEMPT : st->state;
	struct proto_msg m;

	groups_of(r->privileged, w->name, gid, groups, sizeof(groups));
	if (cov == USERS_EXEMPT_GROUP)
		for (size_t i = 0; i < r->exempt->n && exempt_group[0] == '\0'; i++)
			if (group_has(&r->exempt->g[i], w->name, gid))
				snprintf(exempt_group, sizeof(exempt_group), "%s",
					 r->exempt->g[i].name);
	proto_msg_init(&m, PROTO_REVIEW_ROW);
	if (proto_add_cstr(&m, w->name) != PP_OK ||
	    proto_add_u64(&m, w->known ? (uint64_t)w->uid : 0) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)state) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)f->first_seen) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)f->last_change) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)store_logins_last(r->logins, w->name,
				w->stored ? w->stored->last_login : 0)) != PP_OK ||
	    proto_add_u64(&m, flags) != PP_OK ||
	    proto_add_u64(&m, exemption) != PP_OK ||
	    proto_add_cstr(&m, exempt_group) != PP_OK ||
	    proto_add_cstr(&m, groups) != PP_OK ||
	    !report_frame(r, &m)) {
		r->failed = true;
		return PP_ERR_IO;
	}
	r->rows++;
	return PP_OK;
}

/* The policy in force, one line: its file and the values a review cites. */
static void review_policy_text(const struct policy *p, char *buf, size_t cap)
{
	static const enum policy_option shown[] = {
		POLICY_OPT_MAX_AGE_DAYS, POLICY_OPT_WARN_DAYS, POLICY_OPT_MIN_AGE_DAYS,
		POLICY_OPT_HISTORY, POLICY_OPT_INACTIVE_DAYS, POLICY_OPT_MIN_UID,
		POLICY_OPT_EXEMPT_USERS, POLICY_OPT_EXEMPT_GROUPS,
		POLICY_OPT_PRIVILEGED_GROUPS,
	};
	size_t used = 0;
	int n = snprintf(buf, cap, "file=%s", p->file[0] ? p->file : "(built-in defaults)");

	used = n > 0 && (size_t)n < cap ? (size_t)n : 0;
	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		char value[POLICY_MAX_LIST];

		policy_format_value(p, shown[i], value, sizeof(value));
		n = snprintf(buf + used, cap - used, " %s=%s", policy_option_name(shown[i]),
			     value[0] ? value : "\"\"");
		if (n < 0 || (size_t)n >= cap - used) {
			/* Cut where a value would be: say so rather than end mid-word. */
			if (cap - used > 4)
				snprintf(buf + used, cap - used, " ...");
			return;
		}
		used += (size_t)n;
	}
}

static bool send_review_end(struct report_ctx *r)
{
	char host[256] = "", policy[PROTO_MAX_STR + 1];
	struct proto_msg m;

	if (gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "unknown");
	review_policy_text(r->policy, policy, sizeof(policy));
	proto_msg_init(&m, PROTO_REVIEW_END);
	return proto_add_u64(&m, r->rows) == PP_OK &&
	       proto_add_u64(&m, (uint64_t)r->now) == PP_OK &&
	       proto_add_cstr(&m, host) == PP_OK &&
	       proto_add_cstr(&m, policy) == PP_OK &&
	       report_frame(r, &m) && report_flush(r);
}

void handle_review(struct server *s, struct worker *w, struct conn *c)
{
	char actor[PP_NAME_MAX + 1], reasons[64];
	struct report_ctx r;
	struct users_scope *scope = NULL;
	pp_err rc;

	memset(&r, 0, sizeof(r));
	r.conn = c;
	r.policy = s->policy;
	r.logins = s->logins;
	r.review = true;
	r.now = now_utc();
	r.batch = malloc(REPORT_BATCH);
	rc = r.batch == NULL ? PP_ERR_NOMEM : users_scope_load(s->policy, USERS_PASSWD_FILE, &scope);
	r.scope = scope;
	if (rc == PP_OK)
		rc = group_set_load(review_builtin_groups, s->policy->privileged_groups,
				    &r.privileged);
	if (rc == PP_OK)
		rc = group_set_load(s->policy->exempt_groups, NULL, &r.exempt);
	if (rc == PP_OK)
		rc = nss_load(&r);
	if (rc == PP_OK)
		rc = store_foreach_user(w->store, report_stored, &r);
	if (rc == PP_OK)
		rc = send_nss_before(&r, NULL);
	peer_name(c->uid, actor, sizeof(actor));
	if (rc != PP_OK || r.failed) {
		log_msg(LOG_ERR, "access review for %s failed after %" PRIu64 " rows: %s",
			actor, r.rows, pp_strerror(rc));
		c->close_after = true;
	} else {
		struct audit_event ev = {
			.event = "access_review", .uid = -1, .actor = actor, .reasons = reasons,
		};

		/*
		 * In the log before the client hears the end: whoever has read a
		 * whole review finds it audited.
		 */
		snprintf(reasons, sizeof(reasons), "accounts=%" PRIu64, r.rows);
		daemon_audit_emit(s, &ev);
		if (!send_review_end(&r)) {
			log_msg(LOG_ERR, "access review for %s: the end of its %" PRIu64
				" rows could not be sent", actor, r.rows);
			c->close_after = true;
		}
	}
	nss_free(&r);
	group_set_free(r.privileged);
	group_set_free(r.exempt);
	users_scope_free(scope);
	free(r.batch);
}

/* ---- the fleet view (PROTO_FLEET_REPORT) ---- */

static void rfc3339(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

struct fleet_ctx {
	struct report_ctx *r;
	struct store_user user;     /* the user being gathered */
	bool have;
	int64_t newest_login;       /* of any host */
};

/*
 * The gathered user's row. The fleet's users need not exist on this host,
 * so only the name rules of coverage apply (as for a stored user NSS does
 * not know) and no shadow file is consulted.
 */
static pp_err fleet_send_user(struct fleet_ctx *fc)
{
	struct report_ctx *r = fc->r;
	struct aging_facts f = { .last_change = fc->user.last_change,
				 .first_seen = fc->user.first_seen,
				 .must_change = fc->user.must_change };
	struct aging_status st;
	struct proto_msg m;
	enum users_coverage cov = users_scope_coverage(r->scope, fc->user.name, 0,
						       (gid_t)-1);
	uint64_t flags = PROTO_REPORT_ROW_IN_STORE;

	if (fc->user.must_change)
		flags |= PROTO_REPORT_ROW_MUST_CHANGE;
	aging_evaluate(&f, r->now, r->policy->max_age_days, r->policy->warn_days, &st);
	if (st.future)
		flags |= PROTO_REPORT_ROW_FUTURE_DATE;
	if (cov == USERS_EXEMPT_USER || cov == USERS_EXEMPT_GROUP) {
		st.state = AGING_EXEMPT;
		st.expires = 0;
	}
	proto_msg_init(&m, PROTO_REPORT_ROW);
	if (proto_add_cstr(&m, fc->user.name) != PP_OK ||
	    proto_add_u64(&m, 0) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)st.state) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)f.first_seen) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)f.last_change) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)st.expires) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)fc->user.history_count) != PP_OK ||
	    proto_add_u64(&m, flags) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)fc->newest_login) != PP_OK ||
	    !report_frame(r, &m)) {
		r->failed = true;
		return PP_ERR_IO;
	}
	r->rows++;
	return PP_OK;
}

static pp_err fleet_row(const struct store_pg_fleet_row *row, void *arg)
{
	struct fleet_ctx *fc = arg;
	struct proto_msg m;
	pp_err rc;

	if (fc->have && strcmp(fc->user.name, row->user.name) != 0) {
		if ((rc = fleet_send_user(fc)) != PP_OK)
			return rc;
		fc->have = false;
	}
	if (!fc->have) {
		fc->user = row->user;
		fc->newest_login = 0;
		fc->have = true;
	}
	if (row->host[0] == '\0' || row->user.last_login <= 0)
		return PP_OK;
	if (row->user.last_login > fc->newest_login)
		fc->newest_login = row->user.last_login;
	proto_msg_init(&m, PROTO_FLEET_LOGIN);
	if (proto_add_cstr(&m, row->user.name) != PP_OK ||
	    proto_add_cstr(&m, row->host) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)row->user.last_login) != PP_OK ||
	    !report_frame(fc->r, &m)) {
		fc->r->failed = true;
		return PP_ERR_IO;
	}
	return PP_OK;
}

void handle_fleet_report(struct server *s, struct worker *w, struct conn *c)
{
	struct report_ctx r;
	struct fleet_ctx fc;
	struct users_scope *scope = NULL;
	struct store_pg_status st;
	char err[256] = "", text[512], since[32];
	pp_err rc;

	if (!store_is_postgresql(s->store)) {
		reply(c, PROTO_BAD_REQUEST, 0, "this host's store is sqlite (store = "
		      "sqlite in its configuration): there is no fleet view");
		return;
	}
	/* Known to be away: say so at once instead of waiting for a connection. */
	store_pg_status(s->store, &st);
	if (st.degraded_since != 0) {
		rfc3339(st.degraded_since, since, sizeof(since));
		snprintf(text, sizeof(text), "the database is unreachable since %s (%s)", since, st.reason);
		reply(c, PROTO_INTERNAL, 0, text);
		return;
	}
	memset(&r, 0, sizeof(r));
	memset(&fc, 0, sizeof(fc));
	fc.r = &r;
	r.conn = c;
	r.policy = s->policy;
	r.now = now_utc();
	r.batch = malloc(REPORT_BATCH);
	rc = r.batch == NULL ? PP_ERR_NOMEM : users_scope_load(s->policy, USERS_PASSWD_FILE, &scope);
	r.scope = scope;
	if (rc == PP_OK)
		rc = store_pg_fleet_walk(w->store, fleet_row, &fc, err, sizeof(err));
	if (rc == PP_ERR_UNREACHABLE) {
		store_pg_status(s->store, &st);
		rfc3339(st.degraded_since ? st.degraded_since : r.now, since, sizeof(since));
		snprintf(text, sizeof(text), "the database is unreachable since %s (%s)", since, err);
		reply(c, PROTO_INTERNAL, 0, text);
		goto out;
	}
	if (rc == PP_ERR_STORE && r.rows == 0 && r.used == 0) {
		snprintf(text, sizeof(text), "the database refused the query (%s)", err);
		reply(c, PROTO_INTERNAL, 0, text);
		goto out;
	}
	if (rc == PP_OK && fc.have)
		rc = fleet_send_user(&fc);
	if (rc != PP_OK || r.failed || !send_end(&r)) {
		log_msg(LOG_ERR, "fleet report failed after %" PRIu64 " rows: %s%s%s", r.rows,
			pp_strerror(rc), err[0] ? ": " : "", err);
		c->close_after = true;
	}
out:
	pp_wipe(fc.user.salt, sizeof(fc.user.salt));
	users_scope_free(scope);
	free(r.batch);
}
