/*
 * client.c - connect to pam_policyd and exchange framed messages.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "client.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

/* While the daemon's backlog is full, retry connect() this often (ms). */
#define CLIENT_BACKLOG_RETRY_MS 10

static pp_err connect_errno(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
	case ECONNREFUSED:
		return PP_ERR_UNREACHABLE;
	case EACCES:
	case EPERM:
		return PP_ERR_DENIED;
	case ETIMEDOUT:
		return PP_ERR_TIMEOUT;
	default:
		return PP_ERR_IO;
	}
}

/* Milliseconds until deadline for poll(), -1 for none, 0 when passed. */
static int ms_left(int64_t deadline)
{
	if (deadline == PROTO_NO_DEADLINE)
		return -1;
	int64_t now = proto_deadline_after(0);
	if (now >= deadline)
		return 0;
	int64_t left = deadline - now;
	return left > 60 * 60 * 1000 ? 60 * 60 * 1000 : (int)left;
}

/* An asynchronous connect is under way: wait for it, then read its result. */
static pp_err connect_finish(int fd, int64_t deadline)
{
	for (;;) {
		int left = ms_left(deadline);
		if (left == 0)
			return PP_ERR_TIMEOUT;
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int n = poll(&p, 1, left);
		if (n < 0 && errno != EINTR)
			return PP_ERR_IO;
		if (n > 0)
			break;
	}
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		return PP_ERR_IO;
	if (soerr != 0) {
		errno = soerr;
		return connect_errno(soerr);
	}
	return PP_OK;
}

pp_err client_connect(const char *socket_path, int timeout_ms, int *fd)
{
	*fd = -1;
	if (socket_path == NULL || socket_path[0] == '\0')
		return PP_ERR_INVALID;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t plen = strlen(socket_path);
	if (plen >= sizeof(sa.sun_path))
		return PP_ERR_TOO_LONG;
	memcpy(sa.sun_path, socket_path, plen + 1);

	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return PP_ERR_IO;
	int64_t deadline = proto_deadline_after(timeout_ms);
	pp_err err;
	for (;;) {
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			err = PP_OK;
			break;
		}
		/* EINTR: the connect goes on asynchronously, as EINPROGRESS. */
		if (errno == EINPROGRESS || errno == EINTR) {
			err = connect_finish(s, deadline);
			break;
		}
		/*
		 * A Unix socket whose listen backlog is full fails at once
		 * with EAGAIN instead of queueing; poll() cannot wait for
		 * room, so retry until the deadline.
		 */
		if (errno == EAGAIN) {
			int left = ms_left(deadline);
			if (left == 0) {
				err = PP_ERR_TIMEOUT;
				break;
			}
			if (left < 0 || left > CLIENT_BACKLOG_RETRY_MS)
				left = CLIENT_BACKLOG_RETRY_MS;
			(void)poll(NULL, 0, left);
			continue;
		}
		err = connect_errno(errno);
		break;
	}
	if (err != PP_OK) {
		int saved = errno;
		close(s);
		errno = saved;
		return err;
	}
	*fd = s;
	return PP_OK;
}

/* Read one frame and decode it; it must be a reply type. */
static pp_err read_reply(int fd, uint8_t *buf, size_t cap, struct proto_msg *msg,
			 int64_t deadline)
{
	size_t len;
	pp_err err = proto_frame_read(fd, buf, cap, &len, deadline);
	if (err == PP_OK)
		err = proto_decode(buf, len, msg);
	if (err == PP_OK && !proto_is_reply((unsigned)msg->type))
		err = PP_ERR_PROTOCOL;
	if (err != PP_OK)
		memset(msg, 0, sizeof(*msg));
	return err;
}

pp_err client_call(int fd, const struct proto_msg *req, uint8_t *replybuf,
		   size_t cap, struct proto_msg *reply, int timeout_ms)
{
	int64_t deadline = proto_deadline_after(timeout_ms);

	memset(reply, 0, sizeof(*reply));
	if (!proto_is_request((unsigned)req->type))
		return PP_ERR_INVALID;
	/* proto_send wipes its copy of the request (it may hold a password). */
	pp_err err = proto_send(fd, req, deadline);
	if (err != PP_OK)
		return err;
	return read_reply(fd, replybuf, cap, reply, deadline);
}

pp_err client_recv(int fd, uint8_t *buf, size_t cap, struct proto_msg *msg,
		   int timeout_ms)
{
	return read_reply(fd, buf, cap, msg, proto_deadline_after(timeout_ms));
}

void client_close(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
	*fd = -1;
}
