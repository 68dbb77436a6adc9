/*
 * request.h - typed requests to pam_policyd, for the module and the CLI.
 *
 * Each call opens a connection (client_connect), sends one request, reads
 * the reply and closes, all within timeout_ms. A password passed in is
 * never copied except into the frame buffer, which is wiped before return.
 * Thread-safe (no shared state).
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_REQUEST_H
#define PAM_POLICY_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "aging.h"
#include "error.h"
#include "proto.h"

struct request_check_result {
	bool reused;          /* in the last `history` passwords */
	bool similar;         /* its skeleton matches one of the daemon's last
				 similar_history passwords (not when reused) */
	bool too_soon;        /* min age not reached */
	long days_left;       /* when too_soon: days until a change is allowed */
};

struct request_status_result {
	bool found;                 /* false: the daemon does not know the user */
	enum aging_state state;
	int64_t last_change;        /* 0 = never */
	int64_t expires;            /* 0 = rotation off */
	int64_t first_seen;
	bool must_change;
	bool must_change_breached;  /* flagged because the password is breached
				       (PROTO_MUST_CHANGE_BREACHED) */
	long history_count;
	int64_t now;                /* the daemon's clock when it answered */
	int64_t last_login;         /* the last login the daemon counted, 0 = none */
	long dormant_days;          /* request_login: > 0 when the account has not
				       been used for longer than inactive_days
				       (this many days): refuse the login */
};

/*
 * request_check - may user take password now? flags: PROTO_CHECK_* bits
 * (PROTO_CHECK_EXPIRED_HINT is a hint: the daemon decides whether the
 * change is forced and the minimum age waived).
 * Errors: PP_ERR_UNREACHABLE/TIMEOUT/PROTOCOL from the transport,
 * PP_ERR_DENIED when the daemon refused, PP_ERR_BUSY when it is
 * overloaded (try again in a moment), PP_ERR_STORE when it failed.
 */
pp_err request_check(const char *socket_path, int timeout_ms, const char *user,
		     const char *password, uint64_t flags, int history,
		     int min_age_days, struct request_check_result *out) PP_WUR;

struct request_record_result {
	bool recorded;        /* the change is in the history, the clock restarted */
	bool too_soon;        /* not recorded: another change of the user was
				 recorded within the minimum age */
	bool reused;          /* not recorded: the password is already in the history */
	bool similar;         /* not recorded: too similar to a recent password */
	long days_left;       /* when too_soon: days until a change is allowed */
};

/*
 * request_record_checked - remember password as user's newest (after a
 * change). flags: PROTO_RECORD_* bits (PROTO_RECORD_ROOT_FOR_OTHER when
 * root set another user's password); min_age_days 0..PP_DAYS_MAX (0 =
 * none) is the minimum age the CHECK was asked with: the daemon re-checks
 * it, and that the password is not already in the history, in the
 * record's write transaction, so that of concurrent changes of one user
 * only those the rules allow are recorded. A refusal is a verdict, not an
 * error: PP_OK with out->recorded false and the reason set (nothing was
 * written). Errors as for request_check; PP_ERR_INVALID for min_age_days
 * out of range. *out is cleared first.
 */
pp_err request_record_checked(const char *socket_path, int timeout_ms,
			      const char *user, const char *password, int history,
			      const char *service, uint64_t flags, int min_age_days,
			      struct request_record_result *out) PP_WUR;

/*
 * request_record_from - request_record_checked, also telling the daemon
 * where the change came from: rhost and tty (PAM_RHOST, PAM_TTY; NULL or
 * "" for none, cut to PROTO_MAX_STR bytes) go into the audit lines of the
 * change (password_changed, forced_change_completed, change_not_recorded).
 * Arguments, results and errors otherwise as request_record_checked.
 */
pp_err request_record_from(const char *socket_path, int timeout_ms,
			   const char *user, const char *password, int history,
			   const char *service, const char *rhost, const char *tty,
			   uint64_t flags, int min_age_days,
			   struct request_record_result *out) PP_WUR;

/*
 * request_may_change - may user change the password now, before any
 * password is typed (PROTO_MAY_CHANGE)? Only the minimum age is asked:
 * out->too_soon and out->days_left are set as by request_check, and
 * out->reused is always false. flags: PROTO_CHECK_* bits (the daemon
 * decides from them and its store, as for a CHECK); min_age_days
 * 0..PP_DAYS_MAX, else PP_ERR_INVALID. Errors as for request_check. *out
 * is cleared first.
 */
pp_err request_may_change(const char *socket_path, int timeout_ms, const char *user,
			  uint64_t flags, int min_age_days,
			  struct request_check_result *out) PP_WUR;

/*
 * request_record - request_record_checked without flags or minimum age.
 * Errors as for request_check, and PP_ERR_DENIED when the daemon refused
 * to record the change (the password is already in the history).
 */
pp_err request_record(const char *socket_path, int timeout_ms, const char *user,
		      const char *password, int history,
		      const char *service) PP_WUR;

/* request_status - the aging state of user. */
pp_err request_status(const char *socket_path, int timeout_ms, const char *user,
		      int max_age_days, int warn_days,
		      struct request_status_result *out) PP_WUR;

/*
 * request_login - request_status for the account phase of a login (root
 * only): the daemon also counts it as the user's login, unless the user
 * has been unused for more than inactive_days (0 = off), which sets
 * out->dormant_days (and the login is not counted).
 */
pp_err request_login(const char *socket_path, int timeout_ms, const char *user,
		     int max_age_days, int warn_days, int inactive_days,
		     struct request_status_result *out) PP_WUR;

/*
 * request_breached - the password user just logged in with is in the
 * breach filter (PROTO_BREACHED, root only): the daemon flags the account
 * must-change with the reason "breached" and audits breach_detected with
 * service, rhost and tty (NULL or "" for unknown; cut to PROTO_MAX_STR).
 * No password is sent. Errors as for request_check, and PP_ERR_NOT_FOUND
 * when the daemon does not know the user.
 */
pp_err request_breached(const char *socket_path, int timeout_ms, const char *user,
			const char *service, const char *rhost, const char *tty) PP_WUR;

/* request_event - an audit event (root only); empty strings for unknowns. */
pp_err request_event(const char *socket_path, int timeout_ms, const char *event,
		     const char *user, const char *service, const char *rhost,
		     const char *tty, const char *reasons) PP_WUR;

/*
 * request_simple - a request whose only fields are strings (expire, forget,
 * backup: one argument; ping, reopen: none, arg NULL). *text receives the
 * daemon's reply text when text is not NULL.
 */
pp_err request_simple(const char *socket_path, int timeout_ms,
		      enum proto_type type, const char *arg, char *text,
		      size_t textlen) PP_WUR;

/*
 * request_status_to_error - map a reply status to pp_err: PROTO_OK,
 * PROTO_REUSED and PROTO_TOO_SOON (verdicts, not errors) to PP_OK,
 * PROTO_DENIED to PP_ERR_DENIED, PROTO_NOT_FOUND to PP_ERR_NOT_FOUND,
 * PROTO_BAD_REQUEST to PP_ERR_INVALID, PROTO_BUSY to PP_ERR_BUSY, anything
 * else to PP_ERR_STORE.
 */
pp_err request_status_to_error(uint64_t status);

/*
 * One time budget for every request of one PAM call (the module's
 * pam_sm_chauthtok over its PRELIM and UPDATE passes and its record line,
 * or one pam_sm_acct_mgmt). Each request gets what is left of timeout_ms
 * (time spent waiting for the daemon; time the user spends typing is not
 * counted), and once the daemon has failed to answer (unreachable, timed
 * out, cut or malformed reply) no later request of the call is sent: the
 * caller applies its unreachable rule at once. A busy or refusing daemon
 * did answer and may be asked again. Not thread-safe per struct.
 *
 *   struct request_budget b;  request_budget_init(&b, p->timeout_ms);
 *   int ms; int64_t t0;
 *   if ((rc = request_budget_begin(&b, &ms, &t0)) == PP_OK) {
 *       rc = request_check(sock, ms, ...);
 *       request_budget_end(&b, t0, rc);
 *   }
 */
struct request_budget {
	int timeout_ms;       /* the whole budget, in ms */
	int64_t spent_ms;     /* waited for the daemon so far */
	pp_err failure;       /* PP_OK, or why the daemon did not answer */
};

/* request_budget_init - a fresh budget of timeout_ms (>= 0) milliseconds. */
void request_budget_init(struct request_budget *b, int timeout_ms);

/*
 * request_budget_begin - may a request be sent? PP_OK with *timeout_ms set
 * to what is left (>= 1) and *started to the current monotonic time for
 * request_budget_end; otherwise the error that ended the budget (the
 * daemon's earlier failure, or PP_ERR_TIMEOUT once it is spent), and the
 * request must not be sent.
 */
pp_err request_budget_begin(struct request_budget *b, int *timeout_ms,
			    int64_t *started) PP_WUR;

/*
 * request_budget_end - charge the time since started and remember rc when
 * it says the daemon failed to answer (PP_ERR_UNREACHABLE, PP_ERR_TIMEOUT,
 * PP_ERR_PROTOCOL, PP_ERR_IO).
 */
void request_budget_end(struct request_budget *b, int64_t started, pp_err rc);

#endif
