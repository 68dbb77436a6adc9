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
 * The head file is "SEQ MAC CHECK\n": CHECK is BLAKE2b-256(key,
 * "pam_policy audit head v1 SEQ MAC"), so that the head, like every line,
 * proves which key wrote it even when logrotate has moved every line away
 * (auditlog_key_matches). A head from before CHECK existed ("SEQ MAC") is
 * still read.
 *
 * Lines the daemon writes about the log itself (same fields as any event):
 *
 *   audit_tail_repaired  the log ended in a line torn by a crash (power
 *                        loss mid-write); the writer sealed it with a
 *                        newline at open and leaves it in place, and this
 *                        line follows it: reasons ["torn_bytes=N"]. The
 *                        torn event was never acknowledged.
 *   audit_gap            lines could not be written (disk full, EIO) for
 *                        a while: reasons ["events_held=H",
 *                        "events_lost=L","from=TS","to=TS"]. The H events
 *                        kept in memory follow this line at once, with
 *                        their own (earlier) times; L more did not fit in
 *                        memory and are missing (they are in syslog).
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
#define AUDIT_MAX_HELD 256       /* events kept in memory while the log cannot be written */
#define AUDIT_MAX_NOTICES 16     /* torn and gap findings a verdict lists */

struct audit_event {
	const char *event;     /* e.g. "password_changed"; required */
	const char *user;      /* may be NULL */
	long long uid;         /* -1 when unknown */
	const char *service;   /* PAM service, may be NULL */
	const char *rhost;     /* may be NULL */
	const char *tty;       /* may be NULL */
	const char *reasons;   /* comma-separated reason codes, may be NULL */
	const char *actor;     /* who did an admin action, may be NULL */
	const char *host;      /* the host that logged it (a fleet's host_name);
				  NULL: no "host" field (lines from before
				  fleets have none; verify accepts both) */
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
 * Pending lines go first, in one write: an audit_tail_repaired line after
 * a torn tail sealed at open, then an audit_gap line and the held events
 * (see auditlog_backlog).
 *
 * PP_ERR_INVALID / PP_ERR_TOO_LONG: a bad event; nothing is written or
 * held. PP_ERR_IO: the line could not be written now (ENOSPC, EIO; a
 * short write is cut back so that the chain stays whole): the event is
 * held in memory (up to AUDIT_MAX_HELD, beyond that only counted as lost)
 * and written after an audit_gap line by the next write or flush that
 * succeeds. PP_ERR_IO is also returned when the line is in the file but
 * its fsync or the head failed; it is then not held.
 */
pp_err auditlog_write(struct audit_log *log, const struct audit_event *ev,
		   int64_t now) PP_WUR;

/*
 * auditlog_flush - write what is pending (see auditlog_write) without a new
 * event, at time now: for a retry when space may have returned. PP_OK when
 * nothing is pending any more; PP_ERR_IO otherwise (still pending).
 */
pp_err auditlog_flush(struct audit_log *log, int64_t now) PP_WUR;

/*
 * auditlog_backlog - what is not in the file yet: *held events kept in
 * memory, *lost events only counted (either may be NULL). 0 and 0 when the
 * log is up to date. Caller serialises, as for auditlog_write.
 */
void auditlog_backlog(const struct audit_log *log, size_t *held, uint64_t *lost);

/*
 * auditlog_torn_sealed - bytes of a torn last line that the last open or
 * reopen sealed (0: the file ended cleanly). Its audit_tail_repaired line
 * is written with the next event.
 */
size_t auditlog_torn_sealed(const struct audit_log *log);

/*
 * auditlog_last_seq - the seq of the last line in the file (0: none yet).
 * Right after an auditlog_write that left nothing held (auditlog_backlog),
 * a seq greater than before is the seq of that event's line, so that a
 * syslog or journal line can name it. Caller serialises, as for
 * auditlog_write.
 */
uint64_t auditlog_last_seq(const struct audit_log *log);

/*
 * auditlog_reopen - reopen the log file after logrotate moved it away; the
 * chain continues in the new file. A torn tail is sealed as at open.
 */
pp_err auditlog_reopen(struct audit_log *log) PP_WUR;

/*
 * auditlog_has_data - *has = the log at path is non-empty or the head at
 * head_path exists and is non-empty: there is audit data that a key was
 * used for. PP_ERR_IO (errno set) when either cannot be examined for
 * another reason than not existing.
 */
pp_err auditlog_has_data(const char *path, const char *head_path, bool *has) PP_WUR;

/* What auditlog_key_matches found. */
enum auditlog_key_match {
	AUDITLOG_KEY_NO_DATA = 0,  /* no line and no head: a new log */
	AUDITLOG_KEY_MATCHES,      /* the head's check or a line of the log's
				      tail verifies under key */
	AUDITLOG_KEY_DIFFERS,      /* there are macs to check and none verifies */
	AUDITLOG_KEY_UNPROVEN,     /* data, but nothing keyed to check it against
				      (a head without CHECK, no whole line) */
};

/*
 * auditlog_key_matches - was the audit data at path / head_path written
 * with key? Reads the head and the last 4 * AUDIT_MAX_LINE bytes of the
 * log (a missing file counts as empty). One edited line does not make a
 * right key "differ": any verifying mac is proof enough. Never fails;
 * thread-safe.
 */
enum auditlog_key_match auditlog_key_matches(const char *path, const char *head_path,
					     const uint8_t key[AUDIT_KEY_BYTES]);

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
	AUDIT_TORN,         /* notice: a line torn by a crash; the chain
			       continues past it and nothing acknowledged is
			       missing */
	AUDIT_GAP,          /* an audit_gap line: events could not be written
			       in time; as verdict->problem only when some
			       are missing (events_lost > 0) */
};

/* One torn or gap finding; the chain goes on past it. */
struct audit_notice {
	enum audit_problem problem;  /* AUDIT_TORN or AUDIT_GAP */
	const char *file;
	unsigned long line;
	char detail[256];
};

struct audit_verdict {
	enum audit_problem problem;  /* the first finding that stops the check
					(edited ... malformed), else AUDIT_GAP
					when events are missing, else clean */
	const char *file;       /* file holding the first bad line */
	unsigned long line;     /* its line number in that file (1-based) */
	unsigned long lines;    /* lines checked in all */
	char detail[256];       /* plain-language description */
	unsigned long torn;     /* torn lines passed over */
	unsigned long gaps;     /* audit_gap lines seen */
	uint64_t events_held;   /* events the gap lines say were written late */
	uint64_t events_lost;   /* events the gap lines say are missing */
	size_t nnotices;        /* the first AUDIT_MAX_NOTICES, in log order */
	struct audit_notice notices[AUDIT_MAX_NOTICES];
};

/*
 * auditlog_verify - check files (oldest first) as one chain. head_path may be
 * NULL (then truncation at the very end cannot be detected; so it is when
 * the head breaks the rule auditlog_open applies). Returns PP_OK
 * when the check ran (see verdict->problem), PP_ERR_IO when a file could
 * not be read.
 *
 * A line that does not parse is "torn" (a notice, not a problem) only when
 * it cannot hide anything: it looks like the start of the next line
 * ('{"seq":S,' or a prefix of it, NUL bytes allowed after), and either the
 * next whole line carries that same seq S and chains to the line before
 * the torn one, or it ends the last file while the head says seq S was
 * never completed. Everything else that does not parse is malformed, and
 * a cut the head does not explain is truncated.
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
