/*
 * audit.c - audit emission: the tamper-evident audit log and its syslog
 * (authpriv) mirror, opened at start-up and reopened after rotation.
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

#include <sodium.h>

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

void daemon_audit_emit(struct server *s, const struct audit_event *ev)
{
	char u[600], sv[200], rh[600], tt[200], re[1200], ac[200];
	size_t held_before = 0, held = 0;
	uint64_t lost_before = 0, lost = 0;
	pp_err rc = PP_ERR_IO;

	syslog(LOG_AUTHPRIV | LOG_NOTICE,
	       "event=%s user=%s service=%s rhost=%s tty=%s reasons=%s actor=%s",
	       ev->event, quoted(ev->user, u, sizeof(u)), quoted(ev->service, sv, sizeof(sv)),
	       quoted(ev->rhost, rh, sizeof(rh)), quoted(ev->tty, tt, sizeof(tt)),
	       quoted(ev->reasons, re, sizeof(re)), quoted(ev->actor, ac, sizeof(ac)));
	pthread_mutex_lock(&s->audit_lock);
	if (s->audit != NULL) {
		auditlog_backlog(s->audit, &held_before, &lost_before);
		rc = auditlog_write(s->audit, ev, now_utc());
		auditlog_backlog(s->audit, &held, &lost);
	}
	pthread_mutex_unlock(&s->audit_lock);
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
