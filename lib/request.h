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
	long history_count;
	int64_t now;                /* the daemon's clock when it answered */
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

/*
 * request_record - remember password as user's newest (after a change).
 * Errors as for request_check.
 */
pp_err request_record(const char *socket_path, int timeout_ms, const char *user,
		      const char *password, int history,
		      const char *service) PP_WUR;

/* request_status - the aging state of user. */
pp_err request_status(const char *socket_path, int timeout_ms, const char *user,
		      int max_age_days, int warn_days,
		      struct request_status_result *out) PP_WUR;

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

#endif
