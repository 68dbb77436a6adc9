/*
 * server.c - the daemon's engine: socket, peers, request table, workers.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <sodium.h>

#include "aging.h"
#include "auditlog.h"
#include "hash.h"
#include "proto.h"
#include "store.h"
#include "users.h"

#define MAX_CONNECTIONS 4096
#define ROOT_RESERVE 64            /* connections only root may use */
#define MAX_PER_UID 16             /* connections of one unprivileged uid */
#define MAX_HASH_QUEUE 256         /* queued hashing requests before "busy" */
#define IDLE_TIMEOUT_MS 10000      /* a connection silent this long is closed */
#define FRAME_TIMEOUT_MS 2000      /* a frame must arrive whole this fast */
#define REPLY_TIMEOUT_MS 2000      /* workers: a peer that does not read its reply */
#define CONN_BUFFER (PROTO_HEADER_SIZE + PROTO_MAX_FRAME)
#define BUFFER_CACHE 64
#define MAX_HASH_WORKERS 8

/* Who may send a request: bits matched against the peer's class. */
enum who {
	WHO_ROOT = 1u << 0,    /* effective uid 0 */
	WHO_AUDIT = 1u << 1,   /* member of audit_group */
	WHO_SELF = 1u << 2,    /* anyone, about their own account only */
};

/* Where a request runs. */
enum lane {
	LANE_INLINE,   /* in the event loop: cheap reads */
	LANE_HASH,     /* the argon2id pool */
	LANE_WRITER,   /* the single writer thread: writes and scans */
};

struct server;
struct conn;
struct worker;

typedef void (*handler_fn)(struct server *s, struct worker *w, struct conn *c);

struct request_rule {
	enum proto_type type;
	unsigned who;
	enum lane lane;
	int user_field;         /* field naming the user (WHO_SELF), or -1 */
	handler_fn handler;
};

struct conn {
	int fd;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int audit_member;           /* -1 unknown, 0 no, 1 yes */
	uint8_t *buf;               /* sodium_malloc'd, CONN_BUFFER bytes */
	size_t have;
	int64_t last_active;        /* monotonic ms */
	int64_t frame_start;        /* when the first byte of this frame came */
	int reply_ms;               /* how long a reply may wait for the peer */
	bool privileged;            /* uid 0, or the daemon's own uid */
	bool busy;                  /* owned by a worker right now */
	bool watched;               /* in the event loop's epoll set */
	bool close_after;
	struct proto_msg req;
	const struct request_rule *rule;
	struct conn *prev, *next;   /* all connections (event loop only) */
	struct conn *qnext;         /* queue link */
};

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	struct conn *head, *tail;
	bool stop;
};

struct worker {
	struct server *server;
	struct store *store;
	pthread_t thread;
	struct queue *queue;
};

struct server {
	const struct policy *policy;
	int epfd, listen_fd, signal_fd, done_fd;
	struct store *store;                 /* the event loop's handle */
	uint8_t *pepper;                     /* sodium_malloc'd */
	struct hash_params params;
	struct audit_log *audit;
	pthread_mutex_t audit_lock;
	gid_t audit_gid;
	struct queue hash_queue, writer_queue;
	struct worker hash_workers[MAX_HASH_WORKERS];
	int nhash;
	struct worker writer;
	pthread_mutex_t done_lock;
	struct conn *done_head, *done_tail;
	struct conn *conns;
	int nconns;
	bool listen_paused;         /* out of descriptors: accept later */
	int hash_queued;            /* requests waiting for or in the pool */
	int lock_fd;                /* state_dir/lock, held while serving */
	uint8_t *buffer_cache[BUFFER_CACHE];
	int nbuffers;
	bool stopping;
	bool failed;                /* the event loop broke: exit non-zero */
	char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static void handle_ping(struct server *s, struct worker *w, struct conn *c);
static void handle_check(struct server *s, struct worker *w, struct conn *c);
static void handle_record(struct server *s, struct worker *w, struct conn *c);
static void handle_status(struct server *s, struct worker *w, struct conn *c);
static void handle_expire(struct server *s, struct worker *w, struct conn *c);
static void handle_forget(struct server *s, struct worker *w, struct conn *c);
static void handle_event(struct server *s, struct worker *w, struct conn *c);
static void handle_report(struct server *s, struct worker *w, struct conn *c);
static void handle_backup(struct server *s, struct worker *w, struct conn *c);
static void handle_reopen(struct server *s, struct worker *w, struct conn *c);

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

static void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(level, fmt, ap);
	va_end(ap);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_utc(void)
{
	return (int64_t)time(NULL);
}

/* ---- audit ---- */

static void peer_name(uid_t uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[4096];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res != NULL)
		snprintf(buf, len, "%s", pw.pw_name);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
}

static long long user_uid(const char *user)
{
	struct users_info info;

	if (user == NULL || user[0] == '\0' || users_lookup(user, &info) != PP_OK)
		return -1;
	return (long long)info.uid;
}

/* A field for syslog: JSON-quoted, so no peer can forge a log line. */
static const char *quoted(const char *v, char *buf, size_t len)
{
	size_t used = 0;

	if (!auditlog_json_string(buf, len, &used, v ? v : ""))
		snprintf(buf, len, "\"(too long)\"");
	return buf;
}

/* Write one event to the audit log and syslog (authpriv). */
static void audit_emit(struct server *s, const struct audit_event *ev)
{
	char u[600], sv[200], rh[600], tt[200], re[1200], ac[200];
	pp_err rc = PP_ERR_IO;

	syslog(LOG_AUTHPRIV | LOG_NOTICE,
	       "event=%s user=%s service=%s rhost=%s tty=%s reasons=%s actor=%s",
	       ev->event, quoted(ev->user, u, sizeof(u)), quoted(ev->service, sv, sizeof(sv)),
	       quoted(ev->rhost, rh, sizeof(rh)), quoted(ev->tty, tt, sizeof(tt)),
	       quoted(ev->reasons, re, sizeof(re)), quoted(ev->actor, ac, sizeof(ac)));
	pthread_mutex_lock(&s->audit_lock);
	if (s->audit != NULL)
		rc = auditlog_write(s->audit, ev, now_utc());
	pthread_mutex_unlock(&s->audit_lock);
	if (rc != PP_OK)
		log_msg(LOG_ERR, "audit log %s: event %s not written: %s",
			s->policy->audit_log, ev->event, pp_strerror(rc));
}

static void audit_simple(struct server *s, const char *event, const char *user,
			 const char *service, const char *actor)
{
	struct audit_event ev = {
		.event = event, .user = user, .uid = user_uid(user),
		.service = service, .actor = actor,
	};
	audit_emit(s, &ev);
}

/* ---- replies ---- */

static void send_msg(struct conn *c, const struct proto_msg *m)
{
	uint8_t body[PROTO_MAX_FRAME];
	size_t len = 0;

	/*
	 * The event loop never waits for a peer (reply_ms 0): a client that
	 * does not read its replies loses its connection, not everyone's time.
	 */
	if (proto_encode(m, body, sizeof(body), &len) != PP_OK ||
	    proto_frame_write(c->fd, body, len, proto_deadline_after(c->reply_ms)) != PP_OK)
		c->close_after = true;
}

static void reply(struct conn *c, enum proto_status status, uint64_t detail,
		  const char *text)
{
	struct proto_msg m;

	proto_msg_init(&m, PROTO_REPLY);
	if (proto_add_u64(&m, status) != PP_OK || proto_add_u64(&m, detail) != PP_OK ||
	    proto_add_cstr(&m, text ? text : "") != PP_OK) {
		c->close_after = true;
		return;
	}
	send_msg(c, &m);
}

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

/* ---- handlers ---- */

static void handle_ping(struct server *s, struct worker *w, struct conn *c)
{
	reply(c, PROTO_OK, 0, PAM_POLICY_VERSION);
}

static struct hash_params entry_params(const struct store_entry *e)
{
	struct hash_params p = { .opslimit = e->opslimit, .memlimit = e->memlimit };
	return p;
}

/*
 * Compare the password against the newest `depth` entries. One argon2id
 * evaluation per distinct parameter set (normally exactly one), because
 * all of a user's entries share the user's salt.
 */
static pp_err history_contains(struct server *s, struct worker *w,
			       const struct store_user *u, const char *password,
			       size_t len, int depth, bool *found)
{
	struct store_entry *entries = NULL;
	uint8_t *digest = NULL;
	size_t n = 0;
	pp_err rc;

	*found = false;
	if (depth <= 0 || u->history_count <= 0)
		return PP_OK;
	entries = calloc((size_t)depth, sizeof(*entries));
	digest = sodium_malloc(HASH_BYTES);
	if (entries == NULL || digest == NULL) {
		rc = PP_ERR_NOMEM;
		goto out;
	}
	rc = store_history_get(w->store, u->name, entries, (size_t)depth, &n);
	if (rc != PP_OK)
		goto out;
	for (size_t i = 0; i < n && !*found; i++) {
		bool seen = false;
		struct hash_params p = entry_params(&entries[i]);
		for (size_t j = 0; j < i; j++)
			if (entries[j].opslimit == p.opslimit && entries[j].memlimit == p.memlimit)
				seen = true;
		if (seen)
			continue;
		rc = hash_password(password, len, u->salt, &p, s->pepper, digest);
		if (rc != PP_OK)
			goto out;
		for (size_t j = i; j < n; j++)
			if (entries[j].opslimit == p.opslimit &&
			    entries[j].memlimit == p.memlimit &&
			    hash_equal(digest, entries[j].hash))
				*found = true;
	}
out:
	if (digest != NULL)
		sodium_free(digest);
	if (entries != NULL) {
		sodium_memzero(entries, (size_t)depth * sizeof(*entries));
		free(entries);
	}
	(void)s;
	return rc;
}

static bool change_is_forced(const struct server *s, const struct store_user *u,
			     int64_t now)
{
	struct aging_facts f = {
		.last_change = u->last_change, .first_seen = u->first_seen,
		.must_change = u->must_change,
	};
	struct aging_status st;

	aging_evaluate(&f, now, s->policy->max_age_days, s->policy->warn_days, &st);
	return st.state == AGING_MUST_CHANGE || st.state == AGING_EXPIRED;
}

static void handle_check(struct server *s, struct worker *w, struct conn *c)
{
	char user[POLICY_MAX_NAME];
	const struct proto_field *pw = &c->req.f[PROTO_CHECK_PASSWORD];
	uint64_t flags = c->req.f[PROTO_CHECK_FLAGS].u64;
	uint64_t depth = c->req.f[PROTO_CHECK_HISTORY].u64;
	uint64_t min_age = c->req.f[PROTO_CHECK_MIN_AGE_DAYS].u64;
	struct store_user u;
	uint64_t violations = 0, days_left = 0;
	int64_t now = now_utc();
	bool reused = false;
	pp_err rc;

	if (!field_user(c, PROTO_CHECK_USER, user, sizeof(user)))
		return;
	if (depth > POLICY_MAX_HISTORY || min_age > 3650) {
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
	rc = history_contains(s, w, &u, pw->str, pw->len, (int)depth, &reused);
	if (rc != PP_OK)
		goto fail;
	if (reused)
		violations |= PROTO_VIOLATION_REUSED;
	/* A forced change (expired or flagged) must never be blocked by min age. */
	if (!(flags & (PROTO_CHECK_ROOT_FOR_OTHER | PROTO_CHECK_FORCED)) && min_age > 0 &&
	    u.last_change > 0 && !change_is_forced(s, &u, now)) {
		int64_t allowed = u.last_change + (int64_t)min_age * AGING_DAY;
		if (now < allowed) {
			violations |= PROTO_VIOLATION_TOO_SOON;
			days_left = (uint64_t)aging_days_until(now, allowed);
		}
	}
	reply(c, reused ? PROTO_REUSED : (violations ? PROTO_TOO_SOON : PROTO_OK),
	      violations | (days_left << PROTO_CHECK_DAYS_SHIFT), "");
	return;
fail:
	log_msg(LOG_ERR, "check for %s failed: %s", user, pp_strerror(rc));
	audit_simple(s, "history_unavailable", user, NULL, NULL);
	reply(c, PROTO_INTERNAL, 0, pp_strerror(rc));
}

static void handle_record(struct server *s, struct worker *w, struct conn *c)
{
	char user[POLICY_MAX_NAME], service[64] = "";
	const struct proto_field *pw = &c->req.f[PROTO_RECORD_PASSWORD];
	uint64_t depth = c->req.f[PROTO_RECORD_HISTORY].u64;
	struct store_user u;
	struct store_entry e;
	int64_t now = now_utc();
	bool forced;
	pp_err rc;

	if (!field_user(c, PROTO_RECORD_USER, user, sizeof(user)))
		return;
	if (proto_copy_str(&c->req, PROTO_RECORD_SERVICE, service, sizeof(service)) != PP_OK)
		service[0] = '\0';
	if (depth > POLICY_MAX_HISTORY) {
		reply(c, PROTO_BAD_REQUEST, 0, "history out of range");
		return;
	}
	rc = store_user_ensure(w->store, user, now, 0, false, &u);
	if (rc != PP_OK)
		goto fail;
	forced = change_is_forced(s, &u, now);
	memset(&e, 0, sizeof(e));
	e.opslimit = s->params.opslimit;
	e.memlimit = s->params.memlimit;
	e.created = now;
	rc = hash_password(pw->str, pw->len, u.salt, &s->params, s->pepper, e.hash);
	if (rc != PP_OK)
		goto fail;
	rc = store_history_add(w->store, user, &e, (int)depth, now);
	sodium_memzero(e.hash, sizeof(e.hash));
	if (rc != PP_OK)
		goto fail;
	/* Audit first: an acknowledged change is always in the log too. */
	audit_simple(s, "password_changed", user, service, NULL);
	if (forced)
		audit_simple(s, "forced_change_completed", user, service, NULL);
	reply(c, PROTO_OK, 0, "");
	return;
fail:
	log_msg(LOG_ERR, "record for %s failed: %s", user, pp_strerror(rc));
	reply(c, PROTO_INTERNAL, 0, pp_strerror(rc));
}

static void status_reply(struct server *s, struct conn *c, const struct store_user *u,
			 int max_age, int warn)
{
	struct aging_facts f = {
		.last_change = u->last_change, .first_seen = u->first_seen,
		.must_change = u->must_change,
	};
	struct aging_status st;
	struct proto_msg m;
	int64_t now = now_utc();

	aging_evaluate(&f, now, max_age, warn, &st);
	proto_msg_init(&m, PROTO_STATUS_REPLY);
	if (proto_add_u64(&m, PROTO_OK) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)st.state) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)u->last_change) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)st.expires) != PP_OK ||
	    proto_add_u64(&m, u->must_change ? 1 : 0) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)u->history_count) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)u->first_seen) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)now) != PP_OK) {
		c->close_after = true;
		return;
	}
	(void)s;
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
	for (int i = 0; i < 7; i++)
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
	if (c->privileged && m <= 3650 && wd <= 3650) {
		*max_age = (int)m;
		*warn = (int)wd;
	}
}

static void queue_push(struct queue *q, struct conn *c);
static bool conn_dispatch(struct server *s, struct conn *c, struct queue *q);

/*
 * A user the store has never seen starts the clock from the shadow file's
 * last-change day (0 there means "must change now"), else from now. That
 * write happens on the writer thread: see handle_status.
 */
static void handle_bootstrap(struct server *s, struct worker *w, struct conn *c)
{
	char user[POLICY_MAX_NAME];
	struct store_user u;
	struct users_info info;
	long days = -1;
	int64_t now = now_utc(), last = 0;
	bool must = false;
	int max_age, warn;
	pp_err rc;

	if (!field_user(c, PROTO_STATUS_USER, user, sizeof(user)))
		return;
	status_limits(s, c, &max_age, &warn);
	if (users_lookup(user, &info) != PP_OK) {
		status_not_found(c);
		return;
	}
	rc = users_shadow_last_change(s->policy->shadow_file, user, &days);
	if (rc == PP_OK) {
		if (days == 0)
			must = true;
		else if (days > 0 && (int64_t)days * AGING_DAY <= now)
			last = (int64_t)days * AGING_DAY;
	} else if (rc == PP_ERR_IO && errno != ENOENT) {
		log_msg(LOG_WARNING, "cannot read %s (%s): the clock of %s starts now",
			s->policy->shadow_file, strerror(errno), user);
	}
	rc = store_user_ensure(w->store, user, now, last, must, &u);
	if (rc != PP_OK) {
		log_msg(LOG_ERR, "status for %s failed: %s", user, pp_strerror(rc));
		reply(c, PROTO_INTERNAL, 0, pp_strerror(rc));
		return;
	}
	log_msg(LOG_INFO, "first sight of %s: clock starts %s", user,
		days > 0 ? "at the shadow file's last change"
			 : (must ? "expired (shadow last change is 0)" : "now"));
	status_reply(s, c, &u, max_age, warn);
}

static void handle_status(struct server *s, struct worker *w, struct conn *c)
{
	char user[POLICY_MAX_NAME];
	struct store_user u;
	int max_age, warn;
	pp_err rc;

	if (!field_user(c, PROTO_STATUS_USER, user, sizeof(user)))
		return;
	status_limits(s, c, &max_age, &warn);
	rc = store_user_get(w ? w->store : s->store, user, &u);
	if (rc == PP_OK) {
		status_reply(s, c, &u, max_age, warn);
		return;
	}
	if (rc == PP_ERR_NOT_FOUND && !c->privileged && c->audit_member == 1) {
		/* Auditors read; they do not start anyone's clock. */
		status_not_found(c);
		return;
	}
	if (rc == PP_ERR_NOT_FOUND && w == NULL) {
		/* First sight writes: hand it to the writer thread. */
		c->rule = NULL;
		c->reply_ms = REPLY_TIMEOUT_MS;
		(void)conn_dispatch(s, c, &s->writer_queue);   /* on failure: closed */
		return;
	}
	if (rc == PP_ERR_NOT_FOUND) {
		handle_bootstrap(s, w, c);
		return;
	}
	log_msg(LOG_ERR, "status for %s failed: %s", user, pp_strerror(rc));
	reply(c, PROTO_INTERNAL, 0, pp_strerror(rc));
}

static void handle_expire(struct server *s, struct worker *w, struct conn *c)
{
	char user[POLICY_MAX_NAME], actor[64];
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
		reply(c, PROTO_INTERNAL, 0, pp_strerror(rc));
		return;
	}
	peer_name(c->uid, actor, sizeof(actor));
	audit_simple(s, "admin_expire", user, "pam_policyctl", actor);
	reply(c, PROTO_OK, 0, "");
}

static void handle_forget(struct server *s, struct worker *w, struct conn *c)
{
	char user[POLICY_MAX_NAME], actor[64];
	pp_err rc;

	if (!field_user(c, PROTO_FORGET_USER, user, sizeof(user)))
		return;
	rc = store_forget(w->store, user);
	if (rc == PP_ERR_NOT_FOUND) {
		reply(c, PROTO_NOT_FOUND, 0, "the store has nothing for this user");
		return;
	}
	if (rc != PP_OK) {
		reply(c, PROTO_INTERNAL, 0, pp_strerror(rc));
		return;
	}
	peer_name(c->uid, actor, sizeof(actor));
	audit_simple(s, "admin_forget", user, "pam_policyctl", actor);
	reply(c, PROTO_OK, 0, "");
}

/* Events the module may report; the daemon writes the others itself. */
static const char *const module_events[] = {
	"change_rejected", "expiry_warning", "password_expired",
	"root_override", "history_unavailable", NULL,
};

/* Copy a string field, cut to fit: an event is never lost to a long rhost. */
static void field_cut(const struct conn *c, unsigned idx, char *out, size_t cap)
{
	const struct proto_field *f = &c->req.f[idx];
	size_t n = f->len < cap - 1 ? f->len : cap - 1;

	memcpy(out, f->str ? f->str : "", n);
	out[n] = '\0';
}

static void handle_event(struct server *s, struct worker *w, struct conn *c)
{
	char name[40], user[POLICY_MAX_NAME] = "", service[128] = "", rhost[256] = "",
	     tty[128] = "", reasons[512] = "";
	struct audit_event ev;
	bool known = false;

	if (proto_copy_str(&c->req, PROTO_EVENT_NAME, name, sizeof(name)) != PP_OK ||
	    proto_copy_str(&c->req, PROTO_EVENT_USER, user, sizeof(user)) != PP_OK) {
		reply(c, PROTO_BAD_REQUEST, 0, "unknown event or user name too long");
		return;
	}
	field_cut(c, PROTO_EVENT_SERVICE, service, sizeof(service));
	field_cut(c, PROTO_EVENT_RHOST, rhost, sizeof(rhost));
	field_cut(c, PROTO_EVENT_TTY, tty, sizeof(tty));
	field_cut(c, PROTO_EVENT_REASONS, reasons, sizeof(reasons));
	for (int i = 0; module_events[i] != NULL; i++)
		if (strcmp(name, module_events[i]) == 0)
			known = true;
	if (!known) {
		reply(c, PROTO_BAD_REQUEST, 0, "unknown event");
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.event = name;
	ev.user = user;
	ev.uid = user_uid(user);
	ev.service = service;
	ev.rhost = rhost;
	ev.tty = tty;
	ev.reasons = reasons;
	audit_emit(s, &ev);
	(void)w;
	reply(c, PROTO_OK, 0, "");
}

struct report_ctx {
	struct conn *conn;
	int max_age, warn;
	int64_t now;
	uint64_t rows;
	uint8_t *batch;
	size_t used;
	bool failed;
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
	const size_t batch_size = 65536;

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

static pp_err report_row(const struct store_user *u, void *arg)
{
	struct report_ctx *r = arg;
	struct aging_facts f = {
		.last_change = u->last_change, .first_seen = u->first_seen,
		.must_change = u->must_change,
	};
	struct aging_status st;
	struct proto_msg m;

	aging_evaluate(&f, r->now, r->max_age, r->warn, &st);
	proto_msg_init(&m, PROTO_REPORT_ROW);
	if (proto_add_cstr(&m, u->name) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)u->first_seen) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)u->last_change) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)st.state) != PP_OK ||
	    proto_add_u64(&m, (uint64_t)u->history_count) != PP_OK ||
	    proto_add_u64(&m, u->must_change ? 1 : 0) != PP_OK ||
	    !report_frame(r, &m)) {
		r->failed = true;
		return PP_ERR_IO;
	}
	r->rows++;
	return PP_OK;
}

static void handle_report(struct server *s, struct worker *w, struct conn *c)
{
	struct report_ctx r;
	struct proto_msg m;
	uint64_t ma = c->req.f[PROTO_REPORT_MAX_AGE_DAYS].u64;
	uint64_t wd = c->req.f[PROTO_REPORT_WARN_DAYS].u64;
	pp_err rc;

	memset(&r, 0, sizeof(r));
	r.conn = c;
	r.now = now_utc();
	/* Only root may ask with other limits than the daemon's own. */
	r.max_age = c->privileged && ma <= 3650 ? (int)ma : s->policy->max_age_days;
	r.warn = c->privileged && wd <= 3650 ? (int)wd : s->policy->warn_days;
	r.batch = malloc(65536);
	if (r.batch == NULL) {
		c->close_after = true;
		return;
	}
	rc = store_foreach_user(w->store, report_row, &r);
	proto_msg_init(&m, PROTO_REPORT_END);
	if (rc != PP_OK || r.failed || proto_add_u64(&m, r.rows) != PP_OK ||
	    !report_frame(&r, &m) || !report_flush(&r)) {
		log_msg(LOG_ERR, "report failed after %" PRIu64 " rows", r.rows);
		c->close_after = true;
	}
	free(r.batch);
}

static void handle_backup(struct server *s, struct worker *w, struct conn *c)
{
	char path[PATH_MAX], actor[64];
	pp_err rc;

	if (proto_copy_str(&c->req, PROTO_BACKUP_PATH, path, sizeof(path)) != PP_OK ||
	    path[0] != '/') {
		reply(c, PROTO_BAD_REQUEST, 0, "backup path must be absolute");
		return;
	}
	rc = store_backup(w->store, path);
	if (rc != PP_OK) {
		reply(c, PROTO_INTERNAL, 0, pp_strerror(rc));
		return;
	}
	peer_name(c->uid, actor, sizeof(actor));
	audit_simple(s, "admin_backup", NULL, "pam_policyctl", actor);
	reply(c, PROTO_OK, 0, "");
}

static void handle_reopen(struct server *s, struct worker *w, struct conn *c)
{
	pp_err rc = PP_ERR_IO;

	pthread_mutex_lock(&s->audit_lock);
	if (s->audit != NULL)
		rc = auditlog_reopen(s->audit);
	pthread_mutex_unlock(&s->audit_lock);
	(void)w;
	reply(c, rc == PP_OK ? PROTO_OK : PROTO_INTERNAL, 0, rc == PP_OK ? "" : pp_strerror(rc));
}

/* ---- connections ---- */

static uint8_t *buffer_get(struct server *s)
{
	if (s->nbuffers > 0)
		return s->buffer_cache[--s->nbuffers];
	return sodium_malloc(CONN_BUFFER);
}

static void buffer_put(struct server *s, uint8_t *buf)
{
	sodium_memzero(buf, CONN_BUFFER);
	if (s->nbuffers < BUFFER_CACHE)
		s->buffer_cache[s->nbuffers++] = buf;
	else
		sodium_free(buf);
}

static void listen_resume(struct server *s)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->listen_fd };

	if (s->listen_paused &&
	    epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->listen_fd, &ev) == 0)
		s->listen_paused = false;
}

static void conn_close(struct server *s, struct conn *c)
{
	listen_resume(s);
	if (c->watched)
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	buffer_put(s, c->buf);
	free(c);
	s->nconns--;
}

/*
 * Connections are level-triggered: a request answered in the event loop
 * costs no epoll_ctl at all. Only while a worker owns the connection is it
 * switched off, so that the loop does not read it meanwhile.
 */
static bool conn_watch(struct server *s, struct conn *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };

	if (c->watched == on)
		return true;
	/*
	 * Removed, not just muted: epoll reports hang-ups even with no events
	 * asked for, and the loop must not touch a connection a worker owns.
	 */
	if (epoll_ctl(s->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, c->fd, &ev) != 0)
		return false;
	c->watched = on;
	return true;
}

/* A request is done: wipe what it carried, then listen again or close. */
static void conn_finish(struct server *s, struct conn *c)
{
	sodium_memzero(c->buf, c->have);
	c->have = 0;
	c->frame_start = 0;
	c->last_active = now_ms();
	memset(&c->req, 0, sizeof(c->req));
	c->busy = false;
	if (c->close_after || !conn_watch(s, c, true))
		conn_close(s, c);
}

/*
 * Hand a connection to a worker lane; the event loop lets go of it. On
 * failure the connection is marked for closing and stays with the caller.
 */
static bool conn_dispatch(struct server *s, struct conn *c, struct queue *q)
{
	if (!conn_watch(s, c, false)) {
		c->close_after = true;
		return false;
	}
	c->busy = true;
	if (q == &s->hash_queue) {
		pthread_mutex_lock(&s->done_lock);
		s->hash_queued++;
		pthread_mutex_unlock(&s->done_lock);
	}
	queue_push(q, c);
	return true;
}

static int conns_of(const struct server *s, uid_t uid)
{
	int n = 0;

	for (const struct conn *c = s->conns; c != NULL; c = c->next)
		if (c->uid == uid)
			n++;
	return n;
}

static void accept_one(struct server *s)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct conn *c;
	struct epoll_event ev;
	bool privileged;
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE) {
			/* Stop listening until a connection closes, or we would spin. */
			struct epoll_event none = { .events = 0, .data.ptr = &s->listen_fd };
			if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->listen_fd, &none) == 0)
				s->listen_paused = true;
			log_msg(LOG_WARNING, "out of file descriptors with %d connections",
				s->nconns);
		}
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		close(fd);
		return;
	}
	/* Keep room for root (the PAM module): others cannot crowd it out. */
	privileged = cred.uid == 0 || cred.uid == geteuid();
	if (s->nconns >= MAX_CONNECTIONS ||
	    (!privileged && (s->nconns >= MAX_CONNECTIONS - ROOT_RESERVE ||
			     conns_of(s, cred.uid) >= MAX_PER_UID))) {
		log_msg(LOG_WARNING, "connection limit reached; refusing uid %u (pid %d)",
			(unsigned)cred.uid, (int)cred.pid);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->buf = buffer_get(s)) == NULL) {
		free(c);
		close(fd);
		return;
	}
	c->fd = fd;
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->pid = cred.pid;
	c->audit_member = -1;
	c->privileged = privileged;
	c->last_active = now_ms();
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = c;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		conn_close(s, c);
	else
		c->watched = true;
}

/*
 * Group membership as the kernel saw it at connect (SO_PEERGROUPS), so no
 * directory lookup is needed and nothing the peer says is believed.
 */
static bool peer_in_audit_group(struct server *s, struct conn *c)
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
 * Is the peer allowed to send this request? Checked before any handler.
 * "Root" is uid 0, or the daemon's own uid when it runs unprivileged (for
 * tests): that uid owns the store anyway.
 */
static bool authorized(struct server *s, struct conn *c, const struct request_rule *r)
{
	if (c->privileged && (r->who & WHO_ROOT))
		return true;
	if ((r->who & WHO_AUDIT) && peer_in_audit_group(s, c))
		return true;
	if ((r->who & WHO_SELF) && r->user_field < 0)
		return true;
	if ((r->who & WHO_SELF) && r->user_field >= 0) {
		char asked[POLICY_MAX_NAME], own[64];
		peer_name(c->uid, own, sizeof(own));
		return proto_copy_str(&c->req, (unsigned)r->user_field, asked,
				      sizeof(asked)) == PP_OK &&
		       strcmp(asked, own) == 0;
	}
	return false;
}

static const struct request_rule *find_rule(enum proto_type type)
{
	for (size_t i = 0; i < sizeof(request_rules) / sizeof(request_rules[0]); i++)
		if (request_rules[i].type == type)
			return &request_rules[i];
	return NULL;
}

/* ---- queues and workers ---- */

static void queue_push(struct queue *q, struct conn *c)
{
	pthread_mutex_lock(&q->lock);
	c->qnext = NULL;
	if (q->tail)
		q->tail->qnext = c;
	else
		q->head = c;
	q->tail = c;
	pthread_cond_signal(&q->ready);
	pthread_mutex_unlock(&q->lock);
}

static struct conn *queue_pop(struct queue *q)
{
	struct conn *c;

	pthread_mutex_lock(&q->lock);
	while (q->head == NULL && !q->stop)
		pthread_cond_wait(&q->ready, &q->lock);
	c = q->head;
	if (c) {
		q->head = c->qnext;
		if (q->head == NULL)
			q->tail = NULL;
	}
	pthread_mutex_unlock(&q->lock);
	return c;
}

static void done_push(struct server *s, struct conn *c)
{
	uint64_t one = 1;

	pthread_mutex_lock(&s->done_lock);
	c->qnext = NULL;
	if (s->done_tail)
		s->done_tail->qnext = c;
	else
		s->done_head = c;
	s->done_tail = c;
	pthread_mutex_unlock(&s->done_lock);
	if (write(s->done_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_msg(LOG_ERR, "eventfd write failed: %s", strerror(errno));
}

static void done_drain(struct server *s)
{
	uint64_t count;
	struct conn *c;

	if (read(s->done_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&s->done_lock);
	c = s->done_head;
	s->done_head = s->done_tail = NULL;
	pthread_mutex_unlock(&s->done_lock);
	while (c) {
		struct conn *next = c->qnext;
		conn_finish(s, c);
		c = next;
	}
}

/* A refused request is logged, answered and the connection closed. */
static void refuse(struct conn *c)
{
	log_msg(LOG_WARNING, "refused %s request from uid %u (pid %d)",
		proto_type_name(c->req.type), (unsigned)c->uid, (int)c->pid);
	reply(c, PROTO_DENIED, 0, "permission denied");
	c->close_after = true;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct conn *c;

	while ((c = queue_pop(w->queue)) != NULL) {
		if (c->rule == NULL) {
			handle_status(w->server, w, c);    /* first sight */
		} else if (!c->privileged && !authorized(w->server, c, c->rule)) {
			refuse(c);
		} else {
			c->rule->handler(w->server, w, c);
		}
		if (w->queue == &w->server->hash_queue) {
			pthread_mutex_lock(&w->server->done_lock);
			w->server->hash_queued--;
			pthread_mutex_unlock(&w->server->done_lock);
		}
		done_push(w->server, c);
	}
	return NULL;
}

/* ---- the event loop ---- */

/* Read what is available; returns false when the connection must close. */
static bool conn_read(struct server *s, struct conn *c, bool *complete)
{
	*complete = false;
	for (;;) {
		size_t need = PROTO_HEADER_SIZE;
		ssize_t n;

		if (c->have >= PROTO_HEADER_SIZE) {
			uint32_t len = (uint32_t)c->buf[0] << 24 | (uint32_t)c->buf[1] << 16 |
				       (uint32_t)c->buf[2] << 8 | c->buf[3];
			if (len > PROTO_MAX_FRAME) {
				log_msg(LOG_WARNING, "uid %u pid %d: frame of %u bytes refused",
					(unsigned)c->uid, (int)c->pid, len);
				return false;
			}
			need = PROTO_HEADER_SIZE + len;
			if (c->have == need) {
				*complete = true;
				return true;
			}

		}
		/* Never past this frame: a pipelined next request stays queued. */
		n = recv(c->fd, c->buf + c->have, need - c->have, MSG_DONTWAIT);
		if (n > 0) {
			if (c->have == 0)
				c->frame_start = now_ms();
			c->have += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		return false;          /* EOF or error */
	}
}

static void conn_ready(struct server *s, struct conn *c)
{
	const struct request_rule *rule;
	bool complete = false;
	size_t len;

	if (c->busy)
		return;              /* a worker owns it (cannot happen: not watched) */
	if (!conn_read(s, c, &complete)) {
		if (c->have > 0)
			log_msg(LOG_NOTICE, "uid %u pid %d: connection closed mid-frame",
				(unsigned)c->uid, (int)c->pid);
		conn_close(s, c);
		return;
	}
	if (!complete)
		return;              /* the rest of the frame comes later */
	len = c->have - PROTO_HEADER_SIZE;
	if (proto_decode(c->buf + PROTO_HEADER_SIZE, len, &c->req) != PP_OK ||
	    !proto_is_request(c->req.type)) {
		log_msg(LOG_WARNING, "uid %u pid %d: malformed request dropped",
			(unsigned)c->uid, (int)c->pid);
		conn_close(s, c);
		return;
	}
	rule = find_rule(c->req.type);
	c->reply_ms = 0;                 /* the event loop never waits on a peer */
	if (rule == NULL || (!(rule->who & ~WHO_ROOT) && !c->privileged)) {
		refuse(c);
		conn_finish(s, c);
		return;
	}
	c->rule = rule;
	c->reply_ms = REPLY_TIMEOUT_MS;  /* workers may wait a little */
	if (!c->privileged) {
		/*
		 * Deciding what an unprivileged peer may see needs directory
		 * lookups (its name), which may be slow with LDAP: authorise and
		 * answer it on the writer thread, not in the event loop.
		 */
		if (!conn_dispatch(s, c, &s->writer_queue))
			conn_finish(s, c);
		return;
	}
	if (rule->lane == LANE_HASH && s->hash_queued >= MAX_HASH_QUEUE) {
		c->reply_ms = 0;
		reply(c, PROTO_BUSY, 0, "busy");
		conn_finish(s, c);
		return;
	}
	switch (rule->lane) {
	case LANE_INLINE:
		c->reply_ms = 0;
		rule->handler(s, NULL, c);
		if (!c->busy)
			conn_finish(s, c);
		break;
	case LANE_HASH:
		if (!conn_dispatch(s, c, &s->hash_queue))
			conn_finish(s, c);
		break;
	case LANE_WRITER:
		if (!conn_dispatch(s, c, &s->writer_queue))
			conn_finish(s, c);
		break;
	}
}

static void sweep_idle(struct server *s)
{
	int64_t now = now_ms();
	struct conn *c = s->conns;

	while (c) {
		struct conn *next = c->next;
		if (!c->busy && (now - c->last_active > IDLE_TIMEOUT_MS ||
				 (c->have > 0 && now - c->frame_start > FRAME_TIMEOUT_MS)))
			conn_close(s, c);
		c = next;
	}
}

static bool handle_signal(struct server *s)
{
	struct signalfd_siginfo si;

	if (read(s->signal_fd, &si, sizeof(si)) != sizeof(si))
		return true;
	if (si.ssi_signo == SIGHUP) {
		pthread_mutex_lock(&s->audit_lock);
		if (s->audit && auditlog_reopen(s->audit) != PP_OK)
			log_msg(LOG_ERR, "cannot reopen audit log %s", s->policy->audit_log);
		pthread_mutex_unlock(&s->audit_lock);
		log_msg(LOG_INFO, "SIGHUP: audit log reopened");
		return true;
	}
	log_msg(LOG_INFO, "signal %u: shutting down", si.ssi_signo);
	return false;
}

static void event_loop(struct server *s)
{
	struct epoll_event events[64];
	int64_t last_sweep = now_ms();

	while (!s->stopping) {
		int n = epoll_wait(s->epfd, events, 64, 1000);

		if (n < 0 && errno != EINTR) {
			log_msg(LOG_ERR, "epoll_wait: %s", strerror(errno));
			s->failed = true;
			break;
		}
		for (int i = 0; i < n; i++) {
			void *p = events[i].data.ptr;
			if (p == &s->listen_fd)
				accept_one(s);
			else if (p == &s->done_fd)
				done_drain(s);
			else if (p == &s->signal_fd)
				s->stopping = !handle_signal(s);
			else
				conn_ready(s, p);
		}
		if (now_ms() - last_sweep > 1000) {
			sweep_idle(s);
			last_sweep = now_ms();
		}
	}
}

/* ---- start-up ---- */

static pp_err check_private_dir(const char *dir, bool create)
{
	struct stat st;

	if (create && mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_msg(LOG_ERR, "cannot create state directory %s: %s", dir, strerror(errno));
		return PP_ERR_IO;
	}
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		log_msg(LOG_ERR, "state directory %s is missing or not a directory", dir);
		return PP_ERR_IO;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		log_msg(LOG_ERR, "state directory %s must be owned by uid %u with mode 0700 "
			"(it is uid %u, mode %04o)", dir, (unsigned)geteuid(),
			(unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return PP_ERR_IO;
	}
	return PP_OK;
}

static pp_err make_parent(const char *path, mode_t mode)
{
	char dir[PATH_MAX];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return PP_OK;
	*slash = '\0';
	if (mkdir(dir, mode) == 0) {
		/* Our umask is tight; the directory gets exactly the mode asked for. */
		if (chmod(dir, mode) != 0) {
			log_msg(LOG_ERR, "cannot chmod %s: %s", dir, strerror(errno));
			return PP_ERR_IO;
		}
	} else if (errno != EEXIST) {
		log_msg(LOG_ERR, "cannot create %s: %s", dir, strerror(errno));
		return PP_ERR_IO;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		log_msg(LOG_ERR, "%s is not a directory", dir);
		return PP_ERR_IO;
	}
	if ((st.st_mode & 002) || (st.st_uid != 0 && st.st_uid != geteuid())) {
		log_msg(LOG_ERR, "%s is writable by others or owned by another user; "
			"refusing to use it", dir);
		return PP_ERR_IO;
	}
	return PP_OK;
}

static pp_err open_socket(struct server *s)
{
	struct sockaddr_un addr;
	struct stat st;
	mode_t old;
	int fd;

	if (strlen(s->policy->socket) >= sizeof(addr.sun_path)) {
		log_msg(LOG_ERR, "socket path %s is too long", s->policy->socket);
		return PP_ERR_TOO_LONG;
	}
	if (make_parent(s->policy->socket, 0755) != PP_OK)
		return PP_ERR_IO;
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, s->policy->socket, strlen(s->policy->socket) + 1);
	if (lstat(addr.sun_path, &st) == 0) {
		int probe;
		if (!S_ISSOCK(st.st_mode)) {
			log_msg(LOG_ERR, "%s exists and is not a socket; refusing to replace it",
				addr.sun_path);
			return PP_ERR_IO;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
			close(probe);
			log_msg(LOG_ERR, "another pam_policyd is serving %s", addr.sun_path);
			return PP_ERR_IO;
		}
		if (probe >= 0)
			close(probe);
		unlink(addr.sun_path);       /* stale socket from an earlier run */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return PP_ERR_IO;
	/* Anyone may connect; SO_PEERCRED decides what they may ask. */
	old = umask(0111);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		umask(old);
		log_msg(LOG_ERR, "bind %s: %s", addr.sun_path, strerror(errno));
		close(fd);
		return PP_ERR_IO;
	}
	umask(old);
	if (listen(fd, 256) != 0) {
		close(fd);
		return PP_ERR_IO;
	}
	s->listen_fd = fd;
	memcpy(s->socket_path, addr.sun_path, sizeof(s->socket_path));
	return PP_OK;
}

/*
 * Tell a service manager (systemd Type=notify, or a test harness) that the
 * socket is ready, by the NOTIFY_SOCKET convention: one "READY=1" datagram.
 */
static void notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr;
	socklen_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(addr.sun_path))
		return;
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, strlen(path));
	if (path[0] == '@')
		addr.sun_path[0] = '\0';       /* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&addr, len) < 0)
		log_msg(LOG_WARNING, "cannot notify %s: %s", path, strerror(errno));
	close(fd);
}

static int hash_worker_count(const struct policy *p)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	long long mem = (pages > 0 && page > 0) ? (long long)pages * page : 0;
	long long per = (long long)p->argon2_memlimit_kib * 1024;
	long long by_mem = per > 0 && mem > 0 ? mem / 4 / per : 1;
	long n;

	if (p->workers > 0)
		return p->workers > MAX_HASH_WORKERS ? MAX_HASH_WORKERS : p->workers;
	n = cpus > 0 ? cpus : 1;
	if (by_mem < n)
		n = (long)by_mem;
	if (n < 1)
		n = 1;
	if (n > MAX_HASH_WORKERS)
		n = MAX_HASH_WORKERS;
	return (int)n;
}

static pp_err open_audit(struct server *s)
{
	char key_path[PATH_MAX], head_path[PATH_MAX], err[512] = "";
	uint8_t *key = sodium_malloc(AUDIT_KEY_BYTES);
	struct group gr, *res = NULL;
	char buf[4096];
	pp_err rc;

	if (key == NULL)
		return PP_ERR_NOMEM;
	s->audit_gid = (gid_t)-1;
	if (getgrnam_r(s->policy->audit_group, &gr, buf, sizeof(buf), &res) == 0 && res)
		s->audit_gid = gr.gr_gid;
	else
		log_msg(LOG_WARNING, "audit group %s does not exist: only root can read "
			"the audit log and run reports", s->policy->audit_group);
	snprintf(key_path, sizeof(key_path), "%s/audit.key", s->policy->state_dir);
	snprintf(head_path, sizeof(head_path), "%s/audit.head", s->policy->state_dir);
	rc = hash_pepper_load_or_create(key_path, key, err, sizeof(err));
	if (rc == PP_OK)
		rc = make_parent(s->policy->audit_log, 0750);
	if (rc == PP_OK && s->audit_gid != (gid_t)-1 && geteuid() == 0) {
		/* The audit group must be able to enter the log's directory. */
		char dir[PATH_MAX];
		char *slash;
		snprintf(dir, sizeof(dir), "%s", s->policy->audit_log);
		slash = strrchr(dir, '/');
		if (slash != NULL && slash != dir) {
			*slash = '\0';
			if (chown(dir, (uid_t)-1, s->audit_gid) != 0)
				log_msg(LOG_WARNING, "cannot give %s to group %s: %s", dir,
					s->policy->audit_group, strerror(errno));
		}
	}
	if (rc == PP_OK)
		rc = auditlog_open(s->policy->audit_log, head_path, key, s->audit_gid, &s->audit,
				err, sizeof(err));
	sodium_free(key);
	if (rc != PP_OK)
		log_msg(LOG_ERR, "audit log: %s", err[0] ? err : pp_strerror(rc));
	return rc;
}

/* One daemon per state directory: a second one would fork the audit chain. */
static pp_err take_lock(struct server *s)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/lock", s->policy->state_dir);
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->lock_fd < 0) {
		log_msg(LOG_ERR, "cannot open %s: %s", path, strerror(errno));
		return PP_ERR_IO;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		log_msg(LOG_ERR, "another pam_policyd is using %s", s->policy->state_dir);
		close(s->lock_fd);
		s->lock_fd = -1;
		return PP_ERR_IO;
	}
	return PP_OK;
}

/* The first handle checks the store's integrity; the others share it. */
static pp_err open_store(struct server *s, struct store **out)
{
	char err[512] = "";
	pp_err rc = s->store == NULL
			    ? store_open_sqlite(s->policy->state_dir, out, err, sizeof(err))
			    : store_open_sqlite_shared(s->policy->state_dir, out, err,
						       sizeof(err));

	if (rc != PP_OK)
		log_msg(LOG_ERR, "store: %s", err[0] ? err : pp_strerror(rc));
	return rc;
}

static void queue_init(struct queue *q)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->ready, NULL);
}

static void queue_stop(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->stop = true;
	pthread_cond_broadcast(&q->ready);
	pthread_mutex_unlock(&q->lock);
}

static pp_err start_worker(struct server *s, struct worker *w, struct queue *q)
{
	w->server = s;
	w->queue = q;
	if (open_store(s, &w->store) != PP_OK)
		return PP_ERR_STORE;
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		store_close(w->store);
		w->store = NULL;
		return PP_ERR_INTERNAL;
	}
	return PP_OK;
}

static pp_err epoll_watch(struct server *s, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };
	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? PP_OK : PP_ERR_IO;
}

pp_err server_run(const struct server_options *opt)
{
	struct server *s;
	sigset_t mask;
	char pepper_path[PATH_MAX];
	pp_err rc = PP_ERR_INTERNAL;
	bool writer_started = false;

	/* Under systemd, stderr already goes to the journal: log once. */
	openlog("pam_policyd",
		LOG_PID | (opt->foreground && getenv("JOURNAL_STREAM") == NULL ? LOG_PERROR : 0),
		LOG_AUTHPRIV);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return PP_ERR_NOMEM;
	s->policy = opt->policy;
	s->epfd = s->listen_fd = s->signal_fd = s->done_fd = -1;
	pthread_mutex_init(&s->audit_lock, NULL);
	pthread_mutex_init(&s->done_lock, NULL);
	queue_init(&s->hash_queue);
	queue_init(&s->writer_queue);
	s->lock_fd = -1;
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	/* Secrets in memory: no core dumps, no ptrace by other same-uid processes. */
	{
		struct rlimit none = { 0, 0 }, files;
		(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		(void)setrlimit(RLIMIT_CORE, &none);
		if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
			files.rlim_cur = files.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &files);
		}
	}

	if (hash_init() != PP_OK) {
		log_msg(LOG_ERR, "libsodium failed to initialise");
		rc = PP_ERR_CRYPTO;
		goto out;
	}
	rc = check_private_dir(s->policy->state_dir, true);
	if (rc != PP_OK)
		goto out;
	rc = take_lock(s);
	if (rc != PP_OK)
		goto out;
	s->pepper = sodium_malloc(HASH_PEPPER_BYTES);
	if (s->pepper == NULL) {
		rc = PP_ERR_NOMEM;
		goto out;
	}
	snprintf(pepper_path, sizeof(pepper_path), "%s/pepper", s->policy->state_dir);
	{
		char err[512] = "";
		rc = hash_pepper_load_or_create(pepper_path, s->pepper, err, sizeof(err));
		if (rc != PP_OK) {
			log_msg(LOG_ERR, "pepper: %s", err[0] ? err : pp_strerror(rc));
			goto out;
		}
	}
	sodium_mprotect_readonly(s->pepper);
	s->params.opslimit = s->policy->argon2_opslimit;
	s->params.memlimit = (size_t)s->policy->argon2_memlimit_kib * 1024;
	rc = open_store(s, &s->store);
	if (rc != PP_OK)
		goto out;
	rc = open_audit(s);
	if (rc != PP_OK)
		goto out;
	rc = open_socket(s);
	if (rc != PP_OK)
		goto out;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	s->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	s->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->signal_fd < 0 || s->done_fd < 0 || s->epfd < 0 ||
	    epoll_watch(s, s->listen_fd, &s->listen_fd) != PP_OK ||
	    epoll_watch(s, s->signal_fd, &s->signal_fd) != PP_OK ||
	    epoll_watch(s, s->done_fd, &s->done_fd) != PP_OK) {
		log_msg(LOG_ERR, "event loop set-up failed: %s", strerror(errno));
		rc = PP_ERR_IO;
		goto out;
	}
	s->nhash = hash_worker_count(s->policy);
	for (int i = 0; i < s->nhash; i++) {
		rc = start_worker(s, &s->hash_workers[i], &s->hash_queue);
		if (rc != PP_OK) {
			s->nhash = i;
			goto out;
		}
	}
	rc = start_worker(s, &s->writer, &s->writer_queue);
	if (rc != PP_OK)
		goto out;
	writer_started = true;

	log_msg(LOG_INFO, "pam_policyd %s serving %s (state %s, %d hashing worker(s))",
		PAM_POLICY_VERSION, s->socket_path, s->policy->state_dir, s->nhash);
	audit_simple(s, "daemon_start", NULL, NULL, NULL);
	notify_ready();
	if (opt->ready_fd >= 0) {
		if (write(opt->ready_fd, "1", 1) != 1)
			log_msg(LOG_WARNING, "cannot tell the parent we are ready");
		close(opt->ready_fd);
	}
	event_loop(s);
	audit_simple(s, "daemon_stop", NULL, NULL, NULL);
	rc = s->failed ? PP_ERR_IO : PP_OK;
out:
	queue_stop(&s->hash_queue);
	queue_stop(&s->writer_queue);
	for (int i = 0; i < s->nhash; i++) {
		pthread_join(s->hash_workers[i].thread, NULL);
		store_close(s->hash_workers[i].store);
	}
	if (writer_started) {
		pthread_join(s->writer.thread, NULL);
		store_close(s->writer.store);
	}
	while (s->conns)
		conn_close(s, s->conns);
	for (int i = 0; i < s->nbuffers; i++)
		sodium_free(s->buffer_cache[i]);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->socket_path);
	}
	if (s->signal_fd >= 0)
		close(s->signal_fd);
	if (s->done_fd >= 0)
		close(s->done_fd);
	if (s->epfd >= 0)
		close(s->epfd);
	auditlog_close(s->audit);
	if (s->store)
		store_close(s->store);
	if (s->pepper)
		sodium_free(s->pepper);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s);
	closelog();
	return rc;
}
