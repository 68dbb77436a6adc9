/*
 * audit.c - audit emission: the tamper-evident audit log and its one-line
 * mirror in the journal (with MESSAGE_ID and fields) or syslog (authpriv),
 * opened at start-up and reopened after rotation.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "daemon.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/uio.h>

#include <sodium.h>
#include <systemd/sd-journal.h>

#include "auditlog.h"
#include "fsutil.h"
#include "paths.h"
#include "secret.h"
#include "users.h"

void peer_name(uid_t uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[4096];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res != NULL)
		snprintf(buf, len, "%s", pw.pw_name);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
}

long long daemon_audit_uid_of(const char *user)
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

/*
 * ---- event lines: syslog or the journal ----
 *
 * Every audit event gives one line, the same key=value shape in syslog and
 * in the journal's MESSAGE (and from the module when it could not reach
 * the daemon, see pam_policy.c):
 *
 *   event=E user="U" uid=N seq=S service="..." rhost="..." tty="..."
 *   reasons="a,b" actor="..." [msg="..."]
 *
 * Strings are JSON-quoted; uid and seq are numbers, or "-" when there is
 * none (no such user; the line is not in the audit log yet because it is
 * held in memory while the log cannot be written). seq is the "seq" of the
 * event's line in the audit log, so that a SIEM line can be tied to its
 * chained audit line.
 *
 * Where journald runs (its socket exists), the line goes to the journal
 * with MESSAGE_ID (one per event type, below; explained by
 * conf/pam_policy.catalog) and the fields PAM_POLICY_EVENT, USER, USER_ID,
 * PAM_POLICY_SEQ, PAM_POLICY_SERVICE, PAM_POLICY_RHOST, PAM_POLICY_TTY,
 * PAM_POLICY_REASONS, PAM_POLICY_ACTOR; otherwise, or when sending fails,
 * to syslog (authpriv). Daemon diagnostics (log_msg) stay in syslog.
 */

/*
 * MESSAGE_IDs: made once with "systemd-id128 new". Never change one: admins
 * filter on them (journalctl MESSAGE_ID=...) and the catalog is keyed by them.
 */
static const struct event_kind {
	const char *event;
	const char *id;
	int priority;
} event_kinds[] = {
	{ "password_changed",          "92e2d1fbff9845be92058aea0b19e94a", LOG_NOTICE },
	{ "forced_change_completed",   "56e67d7ee3ef46ddb475cd8c136294df", LOG_NOTICE },
	{ "change_rejected",           "a36032ab83d44f41b68fb33511c3cd76", LOG_NOTICE },
	{ "root_override",             "02d0f788534d4b568740fb24f0db427a", LOG_NOTICE },
	{ "change_not_recorded",       "1c6f0bf89964400dadde003fadd1f7db", LOG_WARNING },
	{ "history_unavailable",       "176c33e988e248b9b6bec532db2e4f4c", LOG_WARNING },
	{ "expiry_warning",            "11df538d851a48adbc77b95ca8944819", LOG_INFO },
	{ "password_expired",          "dbc07389b28c402ab6db219e4d4b0665", LOG_NOTICE },
	{ "expired_nonpassword_login", "ebe6f6a87db4461ca4408f70d078621f", LOG_NOTICE },
	{ "expired_noninteractive",    "ce84b702b6304d24ba11046efe1e553a", LOG_NOTICE },
	{ "login_refused_inactive",    "ab4b03dfb9564f758d2c709e7f7a0f1e", LOG_NOTICE },
	{ "breach_detected",           "a9ef1cfa0f344d47ac56a259184d4626", LOG_WARNING },
	{ "admin_expire",              "78df5dc0f1524b32ac7bddaa41e56203", LOG_NOTICE },
	{ "admin_forget",              "51d57ad6bc0942e195899cc187475b04", LOG_NOTICE },
	{ "admin_backup",              "8d045c6b41f340d69450e3296e9080ef", LOG_NOTICE },
	{ "admin_expire_failed",       "8dab0ec6cf2a40568167b49987efa3ae", LOG_ERR },
	{ "admin_forget_failed",       "6a1e4ac7105a4dcfbd6f33d00543035f", LOG_ERR },
	{ "admin_backup_failed",       "396c2db1d8fb409ea11e92a462c40f50", LOG_ERR },
	{ "access_review",             "dc293024fd4b470ab282391b031072e4", LOG_NOTICE },
	{ "request_refused",           "f160048413894cc784d46ed6fcbb5447", LOG_WARNING },
	{ "pepper_refused",            "4f626f08ca5b48eaaee72ec12476af25", LOG_ERR },
	{ "pepper_adopted",            "e4968a941bf04f0a9e4cb07b0ab337c9", LOG_NOTICE },
	{ "pepper_replaced",           "8b7d4c569593415186f08d2e3e1912f0", LOG_WARNING },
	{ "daemon_start",              "984663fa974b45b8bb8642983e193817", LOG_INFO },
	{ "daemon_stop",               "47347602295d45adad1cbe2907b1c505", LOG_INFO },
};
/* An event missing from the table (a bug) still gets an id. */
static const struct event_kind other_kind = {
	"other", "d3956cfe78b346eaab8b8393cd0ffa5f", LOG_NOTICE,
};

/* Set once by daemon_log_init, before any thread starts; read-only after. */
static bool log_journal;       /* journald's socket was there at start-up */
static bool log_stderr;        /* copy event lines to stderr (foreground) */

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

void daemon_log_init(bool copy_to_stderr)
{
	log_journal = access(JOURNAL_SOCKET, F_OK) == 0;
	log_stderr = copy_to_stderr;
}

const char *daemon_event_message_id(const char *event)
{
	for (size_t i = 0; i < sizeof(event_kinds) / sizeof(event_kinds[0]); i++)
		if (strcmp(event, event_kinds[i].event) == 0)
			return event_kinds[i].id;
	return NULL;
}

static const struct event_kind *kind_of(const char *event)
{
	for (size_t i = 0; i < sizeof(event_kinds) / sizeof(event_kinds[0]); i++)
		if (strcmp(event, event_kinds[i].event) == 0)
			return &event_kinds[i];
	return &other_kind;
}

/* One journal field "NAME=value" into an iovec, from a buffer of its own. */
static void field(struct iovec *iov, size_t *n, char *buf, size_t len,
		  const char *name, const char *value)
{
	int w = snprintf(buf, len, "%s=%s", name, value ? value : "");

	iov[*n].iov_base = buf;
	iov[*n].iov_len = w < 0 ? 0 : (size_t)w < len ? (size_t)w : len - 1;
	(*n)++;
}

static bool journal_send(const struct event_kind *k, const struct audit_event *ev,
			 const char *line, const char *uid, const char *seq)
{
	char msg[AUDIT_MAX_LINE + 1100], b[13][PP_NAME_MAX + 1200];
	struct iovec iov[14];
	char prio[4];
	size_t n = 0;

	snprintf(prio, sizeof(prio), "%d", k->priority);
	field(iov, &n, msg, sizeof(msg), "MESSAGE", line);
#define F(name, value) field(iov, &n, b[n - 1], sizeof(b[0]), (name), (value))
	F("MESSAGE_ID", k->id);
	F("PRIORITY", prio);
	F("SYSLOG_FACILITY", "10");              /* authpriv */
	F("SYSLOG_IDENTIFIER", "pam_policyd");
	F("PAM_POLICY_EVENT", ev->event);
	if (ev->user != NULL && ev->user[0] != '\0')
		F("USER", ev->user);
	if (ev->uid >= 0)
		F("USER_ID", uid);
	if (seq[0] != '-')
		F("PAM_POLICY_SEQ", seq);
	if (ev->service != NULL && ev->service[0] != '\0')
		F("PAM_POLICY_SERVICE", ev->service);
	if (ev->rhost != NULL && ev->rhost[0] != '\0')
		F("PAM_POLICY_RHOST", ev->rhost);
	if (ev->tty != NULL && ev->tty[0] != '\0')
		F("PAM_POLICY_TTY", ev->tty);
	if (ev->reasons != NULL && ev->reasons[0] != '\0')
		F("PAM_POLICY_REASONS", ev->reasons);
	if (ev->actor != NULL && ev->actor[0] != '\0')
		F("PAM_POLICY_ACTOR", ev->actor);
#undef F
	return sd_journal_sendv(iov, (int)n) >= 0;
}

/* The event's one line, to the journal or syslog (and stderr in the foreground). */
static void event_line(const struct audit_event *ev, long long seq, const char *msg)
{
	const struct event_kind *k = kind_of(ev->event);
	char u[600], sv[200], rh[600], tt[200], re[1200], ac[200], m[1200];
	char uid[24] = "-", sq[24] = "-";
	char line[AUDIT_MAX_LINE + 1024];

	if (ev->uid >= 0)
		snprintf(uid, sizeof(uid), "%lld", ev->uid);
	if (seq > 0)
		snprintf(sq, sizeof(sq), "%lld", seq);
	snprintf(line, sizeof(line),
		 "event=%s user=%s uid=%s seq=%s service=%s rhost=%s tty=%s reasons=%s "
		 "actor=%s%s%s", ev->event, quoted(ev->user, u, sizeof(u)), uid, sq,
		 quoted(ev->service, sv, sizeof(sv)), quoted(ev->rhost, rh, sizeof(rh)),
		 quoted(ev->tty, tt, sizeof(tt)), quoted(ev->reasons, re, sizeof(re)),
		 quoted(ev->actor, ac, sizeof(ac)), msg ? " msg=" : "",
		 msg ? quoted(msg, m, sizeof(m)) : "");
	if (log_journal && journal_send(k, ev, line, uid, sq)) {
		if (log_stderr)
			fprintf(stderr, "pam_policyd[%ld]: %s\n", (long)getpid(), line);
		return;
	}
	syslog(LOG_AUTHPRIV | k->priority, "%s", line);
}

void daemon_audit_emit_msg(struct server *s, const struct audit_event *event,
			   const char *msg)
{
	/* Every line names its host, so that a fleet's logs can be merged. */
	struct audit_event with_host = *event;
	const struct audit_event *ev = &with_host;
	size_t held_before = 0, held = 0;
	uint64_t lost_before = 0, lost = 0, seq_before = 0, seq_after = 0;
	long long seq = -1;
	pp_err rc = PP_ERR_IO;

	if (with_host.host == NULL && s->host_name[0] != '\0')
		with_host.host = s->host_name;
	pthread_mutex_lock(&s->audit_lock);
	if (s->audit != NULL) {
		auditlog_backlog(s->audit, &held_before, &lost_before);
		seq_before = auditlog_last_seq(s->audit);
		rc = auditlog_write(s->audit, ev, now_utc());
		auditlog_backlog(s->audit, &held, &lost);
		seq_after = auditlog_last_seq(s->audit);
	}
	pthread_mutex_unlock(&s->audit_lock);
	/* Nothing held: this event's line is the last one written. */
	if (held == 0 && lost == 0 && seq_after > seq_before)
		seq = (long long)seq_after;
	event_line(ev, seq, msg);
	if (held > 0 || lost > 0)
		log_msg(LOG_ERR, "audit log %s: event %s not written: %s; %zu event(s) "
			"held for the log, %llu lost (all are in syslog); an audit_gap "
			"line will say so once the log can be written again",
			s->policy->audit_log, ev->event, pp_strerror(rc), held,
			(unsigned long long)lost);
	else if (rc != PP_OK)
		log_msg(LOG_ERR, "audit log %s: event %s: %s", s->policy->audit_log,
			ev->event, pp_strerror(rc));
	if (held == 0 && lost == 0 && (held_before > 0 || lost_before > 0))
		log_msg(LOG_WARNING, "audit log %s can be written again: an audit_gap "
			"line records %zu event(s) written late and %llu lost",
			s->policy->audit_log, held_before, (unsigned long long)lost_before);
}

void daemon_audit_emit(struct server *s, const struct audit_event *ev)
{
	daemon_audit_emit_msg(s, ev, NULL);
}

/* A short, stable code for a failure's reason ("error=io"). */
static const char *err_code(pp_err rc)
{
	switch (rc) {
	case PP_ERR_NOMEM: return "nomem";
	case PP_ERR_IO: return "io";
	case PP_ERR_INVALID: return "invalid";
	case PP_ERR_TOO_LONG: return "too_long";
	case PP_ERR_NOT_FOUND: return "not_found";
	case PP_ERR_STORE: return "store";
	case PP_ERR_BUSY: return "busy";
	case PP_ERR_DENIED: return "denied";
	default: return "internal";
	}
}

void daemon_audit_failure(struct server *s, const struct conn *c, const char *event,
			  const char *user, pp_err rc, const char *what)
{
	char actor[PP_NAME_MAX + 1], reasons[64], msg[PATH_MAX + 256];
	struct audit_event ev = {
		.event = event, .user = user, .uid = daemon_audit_uid_of(user),
		.service = "pam_policyctl", .actor = actor, .reasons = reasons,
	};

	/* A failure a peer can repeat at will: limited like refusals. */
	if (!log_limit_admit(s, c->uid))
		return;
	peer_name(c->uid, actor, sizeof(actor));
	snprintf(reasons, sizeof(reasons), "error=%s", err_code(rc));
	snprintf(msg, sizeof(msg), "%s failed: %s", what, pp_strerror(rc));
	daemon_audit_emit_msg(s, &ev, msg);
}

void daemon_audit_refusal(struct server *s, const struct conn *c)
{
	char peer[PP_NAME_MAX + 1], reasons[96], msg[256];
	const char *type = proto_type_name(c->req.type);
	struct audit_event ev = {
		.event = "request_refused", .user = peer, .uid = (long long)c->uid,
		.reasons = reasons,
	};

	peer_name(c->uid, peer, sizeof(peer));
	if (strncmp(peer, "uid ", 4) == 0)
		peer[0] = '\0';                 /* no name: the uid says it */
	snprintf(reasons, sizeof(reasons), "request=%s,pid=%d", type, (int)c->pid);
	snprintf(msg, sizeof(msg), "refused %s request from uid %u (pid %d)", type,
		 (unsigned)c->uid, (int)c->pid);
	daemon_audit_emit_msg(s, &ev, msg);
}

/* Retry the backlog (after SIGHUP or reopen, at stop); logs what remains. */
static void audit_flush_locked(struct server *s, bool at_stop)
{
	const char *when = at_stop ? "at stop" : "after reopening";
	size_t held = 0, held_before = 0;
	uint64_t lost = 0, lost_before = 0;

	auditlog_backlog(s->audit, &held_before, &lost_before);
	if (held_before == 0 && lost_before == 0)
		return;
	/* The backlog says what happened (PP_ERR_IO with none left: only a sync failed). */
	if (auditlog_flush(s->audit, now_utc()) != PP_OK)
		log_msg(LOG_ERR, "audit log %s: retry %s failed", s->policy->audit_log, when);
	auditlog_backlog(s->audit, &held, &lost);
	if (held == 0 && lost == 0) {
		log_msg(LOG_WARNING, "audit log %s can be written again: an audit_gap "
			"line records %zu event(s) written late and %llu lost",
			s->policy->audit_log, held_before, (unsigned long long)lost_before);
		return;
	}
	log_msg(LOG_ERR, "audit log %s still cannot be written %s: %zu event(s) "
		"held%s, %llu lost (all are in syslog)", s->policy->audit_log, when,
		held, at_stop ? " are lost too" : "", (unsigned long long)lost);
}

void daemon_audit_simple(struct server *s, const char *event, const char *user,
		  const char *service, const char *actor)
{
	struct audit_event ev = {
		.event = event, .user = user, .uid = daemon_audit_uid_of(user),
		.service = service, .actor = actor,
	};
	daemon_audit_emit(s, &ev);
}

pp_err daemon_audit_reopen(struct server *s)
{
	pp_err rc = PP_ERR_IO;

	pthread_mutex_lock(&s->audit_lock);
	if (s->audit != NULL) {
		rc = auditlog_reopen(s->audit);
		audit_flush_locked(s, false);
	}
	pthread_mutex_unlock(&s->audit_lock);
	return rc;
}

/* The audit group must be able to enter the log's directory. */
static void audit_dir_to_group(const struct server *s)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", s->policy->audit_log);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return;
	*slash = '\0';
	if (chown(dir, (uid_t)-1, s->audit_gid) != 0) {
		int e = errno;
		log_msg(LOG_WARNING, "cannot give %s to group %s: %s", dir,
			s->policy->audit_group, strerror(e));
	}
}

/*
 * The audit key belongs to the log it signs. Read it; create one only when
 * there is no audit data yet (a new install); refuse a missing or
 * different key over an existing log or head, naming what to restore.
 */
static pp_err audit_key_bind(struct server *s, const char *key_path,
			     const char *head_path, uint8_t *key)
{
	const char *log_path = s->policy->audit_log;
	char err[512] = "";
	bool has = false;
	pp_err rc;

	if (auditlog_has_data(log_path, head_path, &has) != PP_OK) {
		int e = errno;
		log_msg(LOG_ERR, "audit log: cannot examine %s or %s: %s", log_path,
			head_path, strerror(e));
		return PP_ERR_IO;
	}
	for (int round = 0; round < 2; round++) {
		rc = fsutil_read_secret(key_path, "audit key", key, AUDIT_KEY_BYTES,
					err, sizeof(err));
		if (rc != PP_ERR_NOT_FOUND)
			break;
		if (has) {
			log_msg(LOG_ERR, "audit key %s is missing, but the audit log %s "
				"(or %s) already holds lines signed with it: restore "
				"audit.key from backup; pam_policyd creates an audit key "
				"only when there is no audit log yet", key_path, log_path,
				head_path);
			return PP_ERR_NOT_FOUND;
		}
		randombytes_buf(key, AUDIT_KEY_BYTES);
		rc = fsutil_create_file(key_path, key, AUDIT_KEY_BYTES, FSUTIL_SECRET_MODE);
		if (rc == PP_OK) {
			log_msg(LOG_NOTICE, "created audit key %s for a new audit log %s",
				key_path, log_path);
			return PP_OK;
		}
		{
			int e = errno;
			pp_wipe(key, AUDIT_KEY_BYTES);
			if (rc != PP_ERR_IO || e != EEXIST) {
				log_msg(LOG_ERR, "cannot create audit key %s: %s", key_path,
					strerror(e));
				return rc;
			}
		}
		/* EEXIST: created meanwhile; load that one. */
	}
	if (rc != PP_OK) {
		log_msg(LOG_ERR, "audit log: %s", err[0] ? err : pp_strerror(rc));
		return rc;
	}
	switch (auditlog_key_matches(log_path, head_path, key)) {
	case AUDITLOG_KEY_DIFFERS:
		log_msg(LOG_ERR, "audit key %s does not match the audit log %s: its "
			"lines and %s were signed with another key; restore the original "
			"audit.key from backup", key_path, log_path, head_path);
		return PP_ERR_INVALID;
	case AUDITLOG_KEY_UNPROVEN:
		log_msg(LOG_WARNING, "audit log %s holds nothing signed to check the "
			"audit key %s against; using it", log_path, key_path);
		break;
	case AUDITLOG_KEY_NO_DATA:
	case AUDITLOG_KEY_MATCHES:
		break;
	}
	return PP_OK;
}

pp_err daemon_audit_open(struct server *s)
{
	char key_path[PATH_MAX], head_path[PATH_MAX], err[512] = "";
	uint8_t *key = sodium_malloc(AUDIT_KEY_BYTES);
	struct group gr, *res = NULL;
	char buf[4096];
	size_t torn;
	pp_err rc;

	if (key == NULL)
		return PP_ERR_NOMEM;
	s->audit_gid = (gid_t)-1;
	if (getgrnam_r(s->policy->audit_group, &gr, buf, sizeof(buf), &res) == 0 && res)
		s->audit_gid = gr.gr_gid;
	else
		log_msg(LOG_WARNING, "audit group %s does not exist: only root can read "
			"the audit log and run reports", s->policy->audit_group);
	rc = paths_state_file(key_path, sizeof(key_path), s->policy->state_dir,
			      PATHS_AUDIT_KEY);
	if (rc == PP_OK)
		rc = paths_state_file(head_path, sizeof(head_path), s->policy->state_dir,
				      PATHS_AUDIT_HEAD);
	if (rc == PP_OK)
		rc = audit_key_bind(s, key_path, head_path, key);
	if (rc == PP_OK)
		rc = make_parent(s->policy->audit_log, 0750);
	if (rc == PP_OK && s->audit_gid != (gid_t)-1 && geteuid() == 0)
		audit_dir_to_group(s);
	if (rc == PP_OK) {
		rc = auditlog_open(s->policy->audit_log, head_path, key, s->audit_gid,
				   &s->audit, err, sizeof(err));
		if (rc != PP_OK)
			log_msg(LOG_ERR, "audit log: %s", err[0] ? err : pp_strerror(rc));
	}
	sodium_free(key);
	if (rc == PP_OK && (torn = auditlog_torn_sealed(s->audit)) > 0)
		log_msg(LOG_WARNING, "audit log %s ended in a line torn by a crash "
			"(%zu bytes, never acknowledged): sealed it; an "
			"audit_tail_repaired line follows it", s->policy->audit_log, torn);
	return rc;
}

void daemon_audit_close(struct server *s)
{
	if (s->audit != NULL) {
		pthread_mutex_lock(&s->audit_lock);
		audit_flush_locked(s, true);
		pthread_mutex_unlock(&s->audit_lock);
	}
	auditlog_close(s->audit);
	s->audit = NULL;
}
