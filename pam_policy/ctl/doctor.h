/*
 * doctor.h - the checks behind "pam_policyctl doctor": configuration,
 * daemon, file permissions and the PAM stacks in /etc/pam.d.
 *
 * Every check appends findings to a list; nothing is printed here until
 * doctor_print. A finding is "ok", a "note" (worth knowing, not wrong) or a
 * "problem" (something is broken or unsafe; the text says how to fix it).
 * The PAM stack analysis (doctor_pam_file) reads one file and needs no
 * privilege, so it is testable on its own.
 *
 * Not thread-safe per list.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_DOCTOR_H
#define PAM_POLICY_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"
#include "policy.h"
#include "report.h"

#define DOCTOR_TEXT 640
#define DOCTOR_DEFAULT_PAM_DIR "/etc/pam.d"

enum doctor_level {
	DOCTOR_OK = 0,
	DOCTOR_NOTE,
	DOCTOR_PROBLEM,
};

struct doctor_finding {
	enum doctor_level level;
	char text[DOCTOR_TEXT];   /* "what" or "what - advice", no newline */
};

struct doctor_findings {
	struct doctor_finding *items;
	size_t n, cap;
	bool oom;                 /* a finding was lost to lack of memory */
};

/* doctor_findings_init / doctor_findings_free - an empty list / release it. */
void doctor_findings_init(struct doctor_findings *f);
void doctor_findings_free(struct doctor_findings *f);

/* doctor_add - append one finding (printf-style text, truncated to fit). */
void doctor_add(struct doctor_findings *f, enum doctor_level level,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* doctor_problems - how many findings are problems (plus one if oom). */
size_t doctor_problems(const struct doctor_findings *f);

/*
 * doctor_print - one line per finding: "ok: ...", "note: ...",
 * "problem: ...".
 */
void doctor_print(const struct doctor_findings *f, FILE *out);

/*
 * doctor_print_json - the findings as one JSON object and a newline:
 *   {"findings":[{"level":"ok|note|problem","text":"..."},...],"problems":N}
 * where N is doctor_problems(f); a lost finding (oom) is one more problem
 * finding, as in doctor_print.
 */
void doctor_print_json(const struct doctor_findings *f, FILE *out);

/*
 * doctor_pam_file - analyse the PAM service file at path (Linux-PAM syntax:
 * "type control module args", '#' comments, "\" line continuation,
 * "[...]" controls, "-type" lines, "@include FILE"; includes are noted, not
 * followed). When the file uses pam_policy.so it checks the password
 * stack (a check line - pam_policy.so without "record" - above the first
 * password writer pam_unix/pam_sss/pam_ldap/pam_winbind/pam_krb5, a
 * "record" line below it, use_authtok on the writer, a control that lets a
 * rejection count), the account stack (a pam_policy.so account line, or
 * advice about Debian's common-account / Red Hat's system-auth), the
 * auth line (breachcheck, after the authenticating module, optional), and
 * pam_pwquality/pam_cracklib stacked next to it. Findings name the file
 * and line. *uses_policy (may be NULL) tells whether the file uses
 * pam_policy.so at all; if not, nothing is added. Errors: PP_ERR_IO when
 * the file cannot be read (a problem finding is added too).
 */
pp_err doctor_pam_file(const char *path, struct doctor_findings *f,
		       bool *uses_policy) PP_WUR;

/*
 * doctor_pam_dir - doctor_pam_file on every regular file in dir (sorted by
 * name); a note when no file uses pam_policy.so. Errors: PP_ERR_IO when
 * dir cannot be read (a problem finding is added too).
 */
pp_err doctor_pam_dir(const char *dir, struct doctor_findings *f) PP_WUR;

/*
 * doctor_daemon - ping the daemon at p->socket (timeout p->timeout_ms) and
 * report its version; checks that the socket is a socket and that its
 * directory is not writable by others.
 */
void doctor_daemon(const struct policy *p, struct doctor_findings *f);

/* Where the daemon keeps its state, and how a fleet host stands (PROTO_FLEET). */
struct doctor_fleet {
	char backend[16];           /* "sqlite", "postgresql" */
	char host[64];
	int64_t degraded_since;     /* 0: in sync (or not a fleet) */
	char reason[256];
	uint64_t replica_seq;
	uint64_t outbox;
};

/*
 * doctor_fleet_query - ask the daemon at socket. PP_ERR_PROTOCOL (or
 * PP_ERR_UNREACHABLE) from a daemon that predates the request; other
 * errors as client_call.
 */
pp_err doctor_fleet_query(const char *socket, int timeout_ms,
			  struct doctor_fleet *out) PP_WUR;

/*
 * doctor_fleet - a finding on the fleet state: ok when in sync, a problem
 * "degraded since ..." while the database is unreachable; nothing for a
 * SQLite store or a daemon that is not running.
 */
void doctor_fleet(const struct policy *p, struct doctor_findings *f);

/* doctor_format_time - t as RFC 3339 UTC into buf (at least 21 bytes). */
void doctor_format_time(int64_t t, char *buf, size_t len);

/*
 * doctor_state - the cracklib dictionary, the word list's index (missing,
 * stale or built from other lists: a note; corrupt: a problem), the breach
 * filter (blocklist: on with its entries, build date and checksums, off,
 * or a problem when a configured one is missing or any is corrupt), the
 * state directory (exists, 0700, owned by root), the
 * pepper and the audit key in it (0400 or 0600, owned by root, their exact
 * size) and the audit log (0640, group audit_group). With the daemon
 * running it also asks it (PROTO_SECRETS, root only) whether the pepper
 * file on disk is still the one the store is bound to: a missing or
 * different one is a problem (the daemon would refuse to start the next
 * time); with the daemon stopped that is a note (it is checked at start).
 * What an unprivileged caller cannot see is reported as a note, not a
 * problem.
 */
void doctor_state(const struct policy *p, struct doctor_findings *f);

/*
 * doctor_future_dates - from the daemon's report rows r (fetched: how
 * fetching them ended; r may be NULL when it failed): a problem when any
 * user's last change or first sight is after the daemon's clock (a clock
 * that jumped), naming up to five of them, else ok. A report refused to
 * the caller is a note; an unreachable daemon adds nothing (doctor_daemon
 * says so).
 */
void doctor_future_dates(const struct report *r, pp_err fetched,
			 struct doctor_findings *f);

#endif
