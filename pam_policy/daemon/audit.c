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
	if (s->audit != NULL)
		rc = auditlog_reopen(s->audit);
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

pp_err daemon_audit_open(struct server *s)
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
	if (rc == PP_OK && s->audit_gid != (gid_t)-1 && geteuid() == 0)
		audit_dir_to_group(s);
	if (rc == PP_OK)
		rc = auditlog_open(s->policy->audit_log, head_path, key, s->audit_gid, &s->audit,
				   err, sizeof(err));
	sodium_free(key);
	if (rc != PP_OK)
		log_msg(LOG_ERR, "audit log: %s", err[0] ? err : pp_strerror(rc));
	return rc;
}

void daemon_audit_close(struct server *s)
{
	auditlog_close(s->audit);
	s->audit = NULL;
}
