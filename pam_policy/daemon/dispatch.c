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
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/socket.h>

/* The request table: checked before any handler runs. */
static const struct request_rule request_rules[] = {
	{ PROTO_PING, WHO_ROOT | WHO_AUDIT | WHO_SELF, LANE_INLINE, -1, handle_ping },
	{ PROTO_CHECK, WHO_ROOT, LANE_HASH, -1, handle_check },
	{ PROTO_RECORD, WHO_ROOT, LANE_HASH, -1, handle_record },
	{ PROTO_STATUS, WHO_ROOT | WHO_AUDIT | WHO_SELF, LANE_INLINE,
	  PROTO_STATUS_USER, handle_status },
	{ PROTO_EXPIRE, WHO_ROOT, LANE_WRITER, -1, handle_expire },
	{ PROTO_FORGET, WHO_ROOT, LANE_WRITER, -1, handle_forget },
	{ PROTO_EVENT, WHO_ROOT, LANE_WRITER, -1, handle_event },
	{ PROTO_REPORT, WHO_ROOT | WHO_AUDIT, LANE_WRITER, -1, handle_report },
	{ PROTO_BACKUP, WHO_ROOT, LANE_WRITER, -1, handle_backup },
	{ PROTO_REOPEN, WHO_ROOT, LANE_WRITER, -1, handle_reopen },
};

/* Not looked up by type: handle_status continues a STATUS with it. */
const struct request_rule dispatch_first_sight = {
	PROTO_STATUS, WHO_ROOT | WHO_SELF, LANE_WRITER, PROTO_STATUS_USER, handle_bootstrap,
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

/* A refused request is logged, answered and the connection closed. */
static void refuse(struct conn *c)
{
	log_msg(LOG_WARNING, "refused %s request from uid %u (pid %d)",
		proto_type_name(c->req.type), (unsigned)c->uid, (int)c->pid);
	reply(c, PROTO_DENIED, 0, "permission denied");
	c->close_after = true;
}

/*
 * The lane a request runs in. A request allowed only for the peer's own
 * account needs a directory lookup first, which may be slow (LDAP): the
 * writer thread does it, never the event loop.
 */
static enum lane pick_lane(const struct conn *c, const struct request_rule *r)
{
	return c->own_account_only ? LANE_WRITER : r->lane;
}

void dispatch_request(struct server *s, struct conn *c)
{
	const struct request_rule *rule = find_rule(c->req.type);
	enum lane lane;

	c->reply_ms = 0;                 /* the event loop never waits on a peer */
	if (rule == NULL) {
		refuse(c);
		conn_finish(s, c);
		return;
	}
	c->who = class_of(s, c, rule);
	if (!dispatch_allows(rule, c)) {
		refuse(c);
		conn_finish(s, c);
		return;
	}
	c->rule = rule;
	c->own_account_only = c->who == WHO_SELF && rule->user_field >= 0;
	lane = pick_lane(c, rule);
	if (lane == LANE_INLINE) {
		rule->handler(s, NULL, c);
		if (!c->busy)
			conn_finish(s, c);
		return;
	}
	if (lane_full(s, lane)) {
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
		refuse(c);
		return;
	}
	c->rule->handler(s, w, c);
}

void dispatch_continue(struct server *s, struct worker *w, struct conn *c,
		       const struct request_rule *next)
{
	c->rule = next;
	if (w != NULL && w->lane == next->lane) {
		next->handler(s, w, c);
		return;
	}
	if (w != NULL || next->lane == LANE_INLINE) {
		/* A worker never hands its connection on: a bug, not a peer's fault. */
		log_msg(LOG_ERR, "%s request cannot continue on lane %d",
			proto_type_name(c->req.type), (int)next->lane);
		reply(c, PROTO_INTERNAL, 0, pp_strerror(PP_ERR_INTERNAL));
		return;
	}
	if (!lane_submit(s, c, next->lane))
		log_msg(LOG_WARNING, "%s request of uid %u dropped: cannot hand it on",
			proto_type_name(c->req.type), (unsigned)c->uid);
}
