/*
 * auditlog.h - the tamper-evident audit log: writer and verifier.
 *
 * One JSON object per line. Each line starts with its sequence number and
 * ends with the keyed hash of the previous line ("prev") and its own keyed
 * hash ("mac"), BLAKE2b-256 keyed with a 32-byte secret that only the
 * daemon (and root) can read:
 *
 *   {"seq":7,"ts":"2026-11-22T08:00:00Z","event":"password_changed",
 *    "user":"alice","uid":1001,"service":"passwd","rhost":"","tty":"pts/0",
 *    "reasons":[],"actor":"","prev":"<64 hex>","mac":"<64 hex>"}
 *
 * mac = BLAKE2b-256(key, the line up to but excluding ',"mac":"'). Editing,
 * deleting, inserting or reordering any line breaks the chain. The writer
 * also keeps the last sequence number and mac in a "head" file beside its
 * state, so that a log cut short at the end is detected too, and so that
 * the chain continues across logrotate (the first line of a new file
 * chains to the last line of the rotated one).
 *
 * Never put a password, hash, salt or key into an event.
 *
 * The prefix is auditlog_, not audit_: libpam links libaudit, whose
 * audit_open() and friends an executable's own audit_* would interpose.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_AUDITLOG_H
#define PAM_POLICY_AUDITLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"

#define AUDIT_KEY_BYTES 32
#define AUDIT_MAC_HEX 64
#define AUDIT_MAX_LINE 4096

struct audit_event {
	const char *event;     /* e.g. "password_changed"; required */
	const char *user;      /* may be NULL */
	long long uid;         /* -1 when unknown */
	const char *service;   /* PAM service, may be NULL */
	const char *rhost;     /* may be NULL */
	const char *tty;       /* may be NULL */
	const char *reasons;   /* comma-separated reason codes, may be NULL */
	const char *actor;     /* who did an admin action, may be NULL */
};

struct audit_log;

/*
 * auditlog_open - open (create) the log at path for appending, mode 0640, group
 * gid (-1: leave as is), and resume the chain from head_path (or from the
 * log's last line when there is no head). A head that is missing, damaged,
 * a symbolic link, or that breaks fsutil's secret-file rule (regular, owned
 * by the effective uid, no bits beyond 0600) is not used. key is copied
 * (and wiped on close). Not thread-safe on its own: the caller serialises
 * auditlog_write.
 */
pp_err auditlog_open(const char *path, const char *head_path,
		  const uint8_t key[AUDIT_KEY_BYTES], gid_t gid,
		  struct audit_log **out, char *err, size_t errlen) PP_WUR;

/*
 * auditlog_write - append one event at time now (UTC seconds), fsync it and
 * replace the head (mode 0600, written aside and renamed; the directory is
 * not fsynced: after a crash an older head is caught up from the log).
 * Returns PP_ERR_IO when the line or the head could not be written.
 */
pp_err auditlog_write(struct audit_log *log, const struct audit_event *ev,
		   int64_t now) PP_WUR;

/*
 * auditlog_reopen - reopen the log file after logrotate moved it away; the
 * chain continues in the new file.
 */
pp_err auditlog_reopen(struct audit_log *log) PP_WUR;

/* auditlog_close - close the log and wipe the key; NULL is a no-op. */
void auditlog_close(struct audit_log *log);

/* What auditlog_verify found. */
enum audit_problem {
	AUDIT_CLEAN = 0,
	AUDIT_EDITED,       /* a line's content no longer matches its mac */
	AUDIT_DELETED,      /* one or more lines are missing */
	AUDIT_INSERTED,     /* a line that was never written by the daemon */
	AUDIT_REORDERED,    /* lines are out of order */
	AUDIT_TRUNCATED,    /* the log ends early, or mid-line */
	AUDIT_MALFORMED,    /* not a line of this log at all */
};

struct audit_verdict {
	enum audit_problem problem;
	const char *file;       /* file holding the first bad line */
	unsigned long line;     /* its line number in that file (1-based) */
	unsigned long lines;    /* lines checked in all */
	char detail[256];       /* plain-language description */
};

/*
 * auditlog_verify - check files (oldest first) as one chain. head_path may be
 * NULL (then truncation at the very end cannot be detected; so it is when
 * the head breaks the rule auditlog_open applies). Returns PP_OK
 * when the check ran (see verdict->problem), PP_ERR_IO when a file could
 * not be read.
 */
pp_err auditlog_verify(const char *const *files, size_t nfiles,
		    const char *head_path, const uint8_t key[AUDIT_KEY_BYTES],
		    struct audit_verdict *verdict) PP_WUR;

/* auditlog_problem_name - "clean", "edited", "deleted", ... */
const char *auditlog_problem_name(enum audit_problem p);

/*
 * auditlog_json_string - append s as a JSON string literal (quotes included)
 * to buf at *used, never past len; invalid UTF-8 bytes become U+FFFD.
 * Returns false when it did not fit.
 */
bool auditlog_json_string(char *buf, size_t len, size_t *used, const char *s);

#endif
