/*
 * server.h - the daemon's engine: socket, peers, request table, workers.
 *
 * One thread runs an epoll loop: it accepts connections, identifies every
 * peer with SO_PEERCRED, reads frames without blocking, checks each request
 * against the request table ({type, who may send it, how it runs}) and
 * answers cheap requests (ping, status of a known user) at once. Requests
 * that hash (check, record) go to a small pool sized to argon2id's memory;
 * requests that write or scan (expire, forget, events, report, backup, a
 * user's first status) go to one writer thread. So status queries never
 * wait behind hashing or disk flushes.
 *
 * A malformed or oversized frame, or a peer that is too slow, costs only
 * that connection. Password bytes live only in sodium_malloc'd buffers,
 * wiped after each request.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_SERVER_H
#define PAM_POLICY_SERVER_H

#include <stdbool.h>

#include "error.h"
#include "policy.h"

struct server_options {
	const struct policy *policy;  /* socket, state_dir, audit, argon2... */
	bool foreground;              /* also log to stderr */
	int ready_fd;                 /* >= 0: write "1" and close it when
					 serving (for a parent that waits) */
};

/*
 * server_run - prepare the state directory, pepper, store, audit log and
 * socket, then serve until SIGTERM or SIGINT (SIGHUP reopens the audit
 * log). Readiness is announced on NOTIFY_SOCKET (systemd Type=notify) and
 * on opt->ready_fd. Returns PP_OK after a clean shutdown; any other value
 * after a start-up failure, with the reason already logged.
 */
pp_err server_run(const struct server_options *opt) PP_WUR;

#endif
