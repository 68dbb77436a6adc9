/*
 * server.h - the daemon's one public entry: run the server until told to stop.
 *
 * main.c parses the command line and calls server_run(); everything else
 * in pam_policy/daemon/ is private behind daemon.h.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_DAEMON_SERVER_H
#define PAM_POLICY_DAEMON_SERVER_H

#include <stdbool.h>

#include "error.h"
#include "policy.h"

struct server_options {
	const struct policy *policy;  /* socket, state_dir, audit, argon2... */
	bool foreground;              /* also log to stderr */
	int ready_fd;                 /* >= 0: write "1" and close it when
					 serving (for a parent that waits) */
	bool new_pepper;              /* do not serve: replace the pepper,
					 forget the history it keyed, exit */
};

/*
 * server_run - prepare the state directory, pepper, store, audit log and
 * socket, then serve until SIGTERM or SIGINT (SIGHUP reopens the audit
 * log). Readiness is announced on NOTIFY_SOCKET (systemd Type=notify) and
 * on opt->ready_fd. Returns PP_OK after a clean shutdown; any other value
 * after a start-up failure, with the reason already logged. The pepper
 * must be the one the store is bound to (a missing or different one is a
 * start-up failure); only an empty store gets a new pepper by itself.
 *
 * With opt->new_pepper it serves nothing: under the state directory's
 * lock (so never beside a running daemon) it writes a new pepper, forgets
 * every remembered password (they can no longer be matched) while keeping
 * the aging state, writes a pepper_replaced audit event, and returns.
 */
pp_err server_run(const struct server_options *opt) PP_WUR;

#endif
