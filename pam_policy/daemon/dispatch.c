/*
 * dispatch.c - the request table and the one dispatch pass: look up the
 * rule, authorise the peer, pick the lane, each once per request.
 *
 * Peers are identified by the kernel (SO_PEERCRED uid, SO_PEERGROUPS), never
 * by what they claim, and an unprivileged peer asking about "its own"
 * account is checked by uid: the asked name is resolved to a uid and
 * compared with the peer's, so no name is ever cut to fit a buffer.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "daemon.h"

#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/socket.h>

/*
 * The request table, checked before any handler runs: {type, who may send
 * it, lane, user field, handler, ahead}. A record goes ahead of queued
 * checks: it finishes a change that has already been made.
 */
static const struct request_rule request_rules[] = {
	{ PROTO_PING, WHO_ROOT | WHO_AUDIT | WHO_SELF, LANE_INLINE, -1, handle_ping, false },
	{ PROTO_CHECK, WHO_ROOT, LANE_HASH, -1, handle_check, false },
	{ PROTO_RECORD, WHO_ROOT, LANE_HASH, -1, handle_record, true },
	{ PROTO_STATUS, WHO_ROOT | WHO_AUDIT | WHO_SELF, LANE_INLINE,
	  PROTO_STATUS_USER, handle_status, false },
	{ PROTO_EXPIRE, WHO_ROOT, LANE_WRITER, -1, handle_expire, false },
	{ PROTO_FORGET, WHO_ROOT, LANE_WRITER, -1, handle_forget, false },
	{ PROTO_EVENT, WHO_ROOT, LANE_WRITER, -1, handle_event, false },
	{ PROTO_REPORT, WHO_ROOT | WHO_AUDIT, LANE_REPORT, -1, handle_report, false },
	{ PROTO_BACKUP, WHO_ROOT, LANE_WRITER, -1, handle_backup, false },
	{ PROTO_REOPEN, WHO_ROOT, LANE_WRITER, -1, handle_reopen, false },
	{ PROTO_SECRETS, WHO_ROOT, LANE_WRITER, -1, handle_secrets, false },
	/* The account phase: a STATUS that counts as a login (root: the module). */
	{ PROTO_LOGIN, WHO_ROOT, LANE_INLINE, -1, handle_status, false },
	{ PROTO_REVIEW, WHO_ROOT | WHO_AUDIT, LANE_REPORT, -1, handle_review, false },
	{ PROTO_FLEET, WHO_ROOT | WHO_AUDIT | WHO_SELF, LANE_INLINE, -1, handle_fleet, false },
	{ PROTO_FLEET_REPORT, WHO_ROOT | WHO_AUDIT, LANE_REPORT, -1, handle_fleet_report,
	  false },
	{ PROTO_MAY_CHANGE, WHO_ROOT, LANE_INLINE, -1, handle_may_change, false },
	/* The auth line (breachcheck) found the login password breached. */
	{ PROTO_BREACHED, WHO_ROOT, LANE_WRITER, -1, handle_breached, false },
};

/* Not looked up by type: handle_status continues root's STATUS with it. */
const struct request_rule dispatch_adopt = {
	PROTO_STATUS, WHO_ROOT, LANE_WRITER, -1, handle_adopt, false,
};

/* Not looked up by type: handle_status continues a STATUS with it. */
const struct request_rule dispatch_first_sight = {
	PROTO_STATUS, WHO_ROOT | WHO_SELF, LANE_WRITER, PROTO_STATUS_USER, handle_bootstrap, false,
};

static const struct request_rule *find_rule(enum proto_type type)
{
	for (size_t i = 0; i < sizeof(request_rules) / sizeof(request_rules[0]); i++)
		if (request_rules[i].type == type)
			return &request_rules[i];
	return NULL;
}

/*
 * Group membership as the kernel saw it at connect (SO_PEERGROUPS), so no
 * directory lookup is needed and nothing the peer says is believed.
 */
static bool peer_in_audit_group(const struct server *s, struct conn *c)
{
	gid_t groups[NGROUPS_MAX];
	socklen_t len = sizeof(groups);

	if (c->audit_member >= 0)
		return c->audit_member == 1;
	c->audit_member = 0;
	if (s->audit_gid == (gid_t)-1)
		return false;
	if (c->gid == s->audit_gid) {
		c->audit_member = 1;
		return true;
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0)
		return false;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == s->audit_gid)
			c->audit_member = 1;
	return c->audit_member == 1;
}

/*
 * The peer's class for this request. "Root" is uid 0, or the daemon's own
 * uid when it runs unprivileged (for tests): that uid owns the store anyway.
 * Only the classes the rule accepts are tried, so a root-only request
 * from anyone else costs no system call.
 */
static unsigned class_of(const struct server *s, struct conn *c,
			   const struct request_rule *r)
{
	if (c->privileged)
		return WHO_ROOT;
	if ((r->who & WHO_AUDIT) && peer_in_audit_group(s, c))
		return WHO_AUDIT;
	return WHO_SELF;
}

/*
 * Does the request name the peer's own account? The name is resolved to
 * a uid (any name up to PP_NAME_MAX bytes; a longer one is no account)
 * and compared with the kernel's uid of the peer.
 */
static bool names_own_account(const struct conn *c, int field)
{
	char asked[PP_NAME_MAX + 1];
	struct passwd pw, *found = NULL;
	long size = sysconf(_SC_GETPW_R_SIZE_MAX);
	char *buf;
	bool own;

	if (field < 0 || proto_copy_str(&c->req, (unsigned)field, asked, sizeof(asked)) != PP_OK ||
	    asked[0] == '\0')
		return false;
	if (size < 16384)
		size = 16384;
	buf = malloc((size_t)size);
	if (buf == NULL)
		return false;
	own = getpwnam_r(asked, &pw, buf, (size_t)size, &found) == 0 && found != NULL &&
	      pw.pw_uid == c->uid;
	free(buf);
	return own;
}

bool dispatch_allows(const struct request_rule *r, const struct conn *c)
{
	return (r->who & c->who) != 0;
}

/* ---- rate-limited lines a peer can cause ---- */

/* The slot counting uid's lines: its own, a free one, or the oldest. */
static struct log_limit *limit_slot(struct server *s, uid_t uid, bool *evicted)
{
	struct log_limit *oldest = &s->refusal_log[0];

	*evicted = false;
	for (int i = 0; i < LOG_LIMIT_SLOTS; i++) {
		struct log_limit *l = &s->refusal_log[i];
		if (l->window_start != 0 && l->uid == uid)
			return l;
	}
	for (int i = 0; i < LOG_LIMIT_SLOTS; i++) {
		struct log_limit *l = &s->refusal_log[i];
		if (l->window_start == 0)
			return l;
		if (l->window_start < oldest->window_start)
			oldest = l;
	}
	*evicted = true;
	return oldest;
}

static void limit_summary(struct log_limit *l)
{
	if (l->suppressed > 0)
		log_msg(LOG_WARNING, "%u more refusals from uid %u suppressed",
			l->suppressed, (unsigned)l->uid);
	l->logged = l->suppressed = 0;
}

bool log_limit_admit(struct server *s, uid_t uid)
{
	int64_t now = now_ms();
	struct log_limit *l;
	bool evicted, admit = false;

	pthread_mutex_lock(&s->log_lock);
	l = limit_slot(s, uid, &evicted);
	if (evicted || l->window_start == 0 || now - l->window_start >= LOG_WINDOW_MS) {
		limit_summary(l);
		l->uid = uid;
		l->window_start = now;
	}
	if (l->logged < LOG_BURST) {
		l->logged++;
		admit = true;
	} else {
		l->suppressed++;
	}
	pthread_mutex_unlock(&s->log_lock);
	return admit;
}

void log_refusal(struct server *s, uid_t uid, const char *fmt, ...)
{
	va_list ap;

	if (!log_limit_admit(s, uid))
		return;
	va_start(ap, fmt);
	vsyslog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void log_limits_flush(struct server *s, bool stopping)
{
	int64_t now = now_ms();

	pthread_mutex_lock(&s->log_lock);
	for (int i = 0; i < LOG_LIMIT_SLOTS; i++) {
		struct log_limit *l = &s->refusal_log[i];
		if (l->window_start != 0 && (stopping || now - l->window_start >= LOG_WINDOW_MS)) {
			limit_summary(l);
			l->window_start = 0;
		}
	}
	if (s->busy_log.suppressed > 0 &&
	    (stopping || now - s->busy_log.window_start >= LOG_WINDOW_MS)) {
		log_msg(LOG_WARNING, "%u more requests answered \"busy\"",
			s->busy_log.suppressed);
		s->busy_log.logged = s->busy_log.suppressed = 0;
		s->busy_log.window_start = 0;
	}
	pthread_mutex_unlock(&s->log_lock);
}

/* A worker audits a refusal the event loop handed to it, then answers. */
static void refused_run(struct server *s, struct worker *w, struct conn *c)
{
	daemon_audit_refusal(s, c);
	reply(c, PROTO_DENIED, 0, "permission denied");
	c->close_after = true;
}

/* Not looked up by type: refuse() hands a refusal to be audited with it. */
static const struct request_rule refused_rule = {
	PROTO_PING, WHO_ROOT | WHO_AUDIT | WHO_SELF, LANE_WRITER, -1, refused_run, false,
};

/*
 * A refused request is audited (request_refused; rate-limited per uid with
 * log_refusal's limiter), answered and the connection closed. The audit
 * line costs a directory lookup and an fsync, which never run in the event
 * loop (w NULL): there the refusal goes to a worker (root's writer, or the
 * unprivileged lane) and true is returned; the worker answers. When that
 * lane is full the refusal is only logged.
 */
static bool refuse(struct server *s, struct worker *w, struct conn *c)
{
	bool audit = log_limit_admit(s, c->uid);
	enum lane lane;

	if (audit && w != NULL) {
		daemon_audit_refusal(s, c);
	} else if (audit) {
		c->who = c->privileged ? WHO_ROOT : WHO_SELF;
		c->own_account_only = false;
		c->rule = &refused_rule;
		lane = dispatch_lane(c, &refused_rule);
		if (lane_admit(s, c, lane)) {
			if (lane_submit(s, c, lane))
				return true;
		}
		syslog(LOG_WARNING, "refused %s request from uid %u (pid %d); not "
		       "audited: its lane is full", proto_type_name(c->req.type),
		       (unsigned)c->uid, (int)c->pid);
	}
	reply(c, PROTO_DENIED, 0, "permission denied");
	c->close_after = true;
	return false;
}

/*
 * The lane a request runs in. A request allowed only for the peer's own
 * account needs a directory lookup first, which may be slow (LDAP), and a
 * first sight writes: neither runs in the event loop, and for a peer that
 * is not root neither queues where root's writes wait.
 */
enum lane dispatch_lane(const struct conn *c, const struct request_rule *r)
{
	if (c->who == WHO_ROOT)
		return r->lane;
	if (c->own_account_only || r->lane == LANE_WRITER)
		return LANE_SELF;
	return r->lane;
}

void dispatch_request(struct server *s, struct conn *c)
{
	const struct request_rule *rule = find_rule(c->req.type);
	enum lane lane;

	if (rule != NULL)
		c->who = class_of(s, c, rule);
	if (rule == NULL || !dispatch_allows(rule, c)) {
		if (!refuse(s, NULL, c))
			conn_finish(s, c);
		return;
	}
	c->rule = rule;
	c->own_account_only = c->who == WHO_SELF && rule->user_field >= 0;
	lane = dispatch_lane(c, rule);
	if (lane == LANE_INLINE) {
		rule->handler(s, NULL, c);
		if (!c->busy)
			conn_finish(s, c);
		return;
	}
	if (!lane_admit(s, c, lane)) {
		reply(c, PROTO_BUSY, 0, "busy");
		conn_finish(s, c);
		return;
	}
	if (!lane_submit(s, c, lane))
		conn_finish(s, c);
}

void dispatch_run(struct server *s, struct worker *w, struct conn *c)
{
	if (c->own_account_only && !names_own_account(c, c->rule->user_field)) {
		(void)refuse(s, w, c);
		return;
	}
	c->rule->handler(s, w, c);
}

void dispatch_continue(struct server *s, struct worker *w, struct conn *c,
		       const struct request_rule *next)
{
	enum lane lane = dispatch_lane(c, next);

	c->rule = next;
	if (w != NULL && w->lane == lane) {
		next->handler(s, w, c);
		return;
	}
	if (w != NULL || lane == LANE_INLINE) {
		/* A worker never hands its connection on: a bug, not a peer's fault. */
		log_msg(LOG_ERR, "%s request cannot continue on lane %d",
			proto_type_name(c->req.type), (int)lane);
		reply(c, PROTO_INTERNAL, 0, pp_strerror(PP_ERR_INTERNAL));
		return;
	}
	if (!lane_submit(s, c, lane))
		log_msg(LOG_WARNING, "%s request of uid %u dropped: cannot hand it on",
			proto_type_name(c->req.type), (unsigned)c->uid);
}
