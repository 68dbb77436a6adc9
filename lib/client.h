/*
 * client.h - talking to pam_policyd, for the module and the CLI.
 *
 * One connection per exchange is the intended use:
 *
 *   int fd;
 *   if (client_connect(path, timeout_ms, &fd) == PP_OK) {
 *       err = client_call(fd, &req, buf, sizeof(buf), &reply, timeout_ms);
 *       client_close(&fd);
 *   }
 *
 * Every error means "the daemon could not be used": callers apply their
 * unreachable rule for any code other than PP_OK, and close the connection
 * after any error (the stream position is then unknown).
 *
 * Secrets: client_call encodes the request into a private buffer and wipes
 * it before returning, on every path (via proto_send). The password string the request
 * points at stays the caller's to wipe. Replies never carry a password.
 *
 * Thread safety: no shared state; one connection must not be used by two
 * threads at once. Nothing here raises SIGPIPE or changes signal handlers.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_CLIENT_H
#define PAM_POLICY_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "proto.h"

/* Default for module and CLI: how long the daemon may take, in ms. */
#define CLIENT_DEFAULT_TIMEOUT_MS 5000

/*
 * client_connect - connect to the daemon's Unix stream socket at
 * socket_path within timeout_ms milliseconds (negative: no limit). On
 * success *fd is a non-blocking, close-on-exec socket owned by the caller
 * (release it with client_close); on error *fd is -1.
 * Errors: PP_ERR_INVALID (NULL or empty path), PP_ERR_TOO_LONG (path does
 * not fit a sockaddr_un), PP_ERR_UNREACHABLE (no socket there, nobody
 * listening: ENOENT, ENOTDIR, ECONNREFUSED), PP_ERR_DENIED (EACCES/EPERM on
 * the socket or its directory), PP_ERR_TIMEOUT (the daemon's backlog stayed
 * full until the deadline), PP_ERR_IO (other errors, errno kept).
 */
pp_err client_connect(const char *socket_path, int timeout_ms, int *fd) PP_WUR;

/*
 * client_call - send request req (a request type, complete per its schema)
 * and read one reply frame into replybuf[0..cap), decoded into *reply
 * (whose strings point into replybuf). timeout_ms bounds the whole
 * exchange, write and read together (negative: no limit). cap should be
 * PROTO_MAX_FRAME; a smaller buffer turns a larger reply into
 * PP_ERR_TOO_LONG. A PROTO_REPORT answer starts with its first row (or the
 * end marker); read the rest with client_recv. Any request may be answered
 * by PROTO_REPLY carrying an error status (e.g. PROTO_DENIED).
 * Errors: PP_ERR_INVALID (req is not a valid request), PP_ERR_TIMEOUT,
 * PP_ERR_UNREACHABLE (the daemon closed the connection without answering),
 * PP_ERR_PROTOCOL (malformed or cut reply, or not a reply type),
 * PP_ERR_TOO_LONG, PP_ERR_IO.
 */
pp_err client_call(int fd, const struct proto_msg *req, uint8_t *replybuf,
		   size_t cap, struct proto_msg *reply, int timeout_ms) PP_WUR;

/*
 * client_recv - read and decode the next reply frame of a streamed answer
 * (PROTO_REPORT_ROW ... PROTO_REPORT_END) into buf/msg, as client_call
 * does for the first one; timeout_ms bounds this one frame. Errors as for
 * client_call (PP_ERR_UNREACHABLE: the daemon closed before the end).
 */
pp_err client_recv(int fd, uint8_t *buf, size_t cap, struct proto_msg *msg,
		   int timeout_ms) PP_WUR;

/* client_close - close *fd if it is open (>= 0) and set it to -1. */
void client_close(int *fd);

#endif
