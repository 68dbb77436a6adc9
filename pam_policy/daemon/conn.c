/*
 * conn.c - connections and the event loop: accept with SO_PEERCRED and the
 * connection limits, non-blocking frame reads, replies that never wait for
 * the peer (the unsent rest goes out when the socket is writable), the idle
 * and unread-reply sweep, signals, the periodic socket check, and closing.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <sodium.h>

#include "secret.h"

/* ---- replies ---- */

static bool out_pending(const struct conn *c)
{
	return c->out_off < c->out_len;
}

static void out_free(struct conn *c)
{
	if (c->out != NULL) {
		pp_wipe(c->out, CONN_OUTPUT_MAX);
		free(c->out);
	}
	c->out = NULL;
	c->out_len = c->out_off = 0;
	c->out_since = 0;
}

/* Send what is pending without waiting; false when the peer is gone. */
static bool out_flush(struct conn *c)
{
	while (out_pending(c)) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
	}
	out_free(c);
	return true;
}

/*
 * Send frame[0..len) as far as the socket takes it now; keep the rest for
 * the event loop. The common case (the socket takes it all) copies nothing.
 */
static void out_write(struct conn *c, const uint8_t *frame, size_t len)
{
	while (!out_pending(c) && len > 0) {
		ssize_t n = send(c->fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			frame += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		c->close_after = true;       /* the peer is gone */
		return;
	}
	if (len == 0)
		return;
	if (out_pending(c) && c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out == NULL && (c->out = malloc(CONN_OUTPUT_MAX)) == NULL) {
		c->close_after = true;
		return;
	}
	if (c->out_len + len > CONN_OUTPUT_MAX) {
		/* Never more than one reply is unsent (see conn_finish): a bug. */
		log_msg(LOG_ERR, "uid %u pid %d: %zu reply bytes unsent; connection dropped",
			(unsigned)c->uid, (int)c->pid, c->out_len + len);
		c->close_after = true;
		return;
	}
	memcpy(c->out + c->out_len, frame, len);
	c->out_len += len;
	if (c->out_since == 0)
		c->out_since = now_ms();
	if (!out_flush(c))
		c->close_after = true;
}

void send_msg(struct conn *c, const struct proto_msg *m)
{
	uint8_t frame[CONN_BUFFER];
	size_t len = 0;

	if (proto_encode(m, frame + PROTO_HEADER_SIZE, PROTO_MAX_FRAME, &len) != PP_OK) {
		c->close_after = true;
		return;
	}
	frame[0] = (uint8_t)(len >> 24);
	frame[1] = (uint8_t)(len >> 16);
	frame[2] = (uint8_t)(len >> 8);
	frame[3] = (uint8_t)len;
	out_write(c, frame, PROTO_HEADER_SIZE + len);
	pp_wipe(frame, PROTO_HEADER_SIZE + len);
}

void reply(struct conn *c, enum proto_status status, uint64_t detail, const char *text)
{
	struct proto_msg m;

	proto_msg_init(&m, PROTO_REPLY);
	if (proto_add_u64(&m, status) != PP_OK || proto_add_u64(&m, detail) != PP_OK ||
	    proto_add_cstr(&m, text ? text : "") != PP_OK) {
		c->close_after = true;
		return;
	}
	send_msg(c, &m);
}

/* ---- connection lifetime ---- */

static uint8_t *buffer_get(struct server *s)
{
	if (s->nbuffers > 0)
		return s->buffer_cache[--s->nbuffers];
	return sodium_malloc(CONN_BUFFER);
}

static void buffer_put(struct server *s, uint8_t *buf)
{
	pp_wipe(buf, CONN_BUFFER);
	if (s->nbuffers < BUFFER_CACHE)
		s->buffer_cache[s->nbuffers++] = buf;
	else
		sodium_free(buf);
}

static void listen_resume(struct server *s)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->listen_fd };

	if (s->listen_paused &&
	    epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->listen_fd, &ev) == 0)
		s->listen_paused = false;
}

static void conn_close(struct server *s, struct conn *c)
{
	listen_resume(s);
	if (c->events != 0)
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	out_free(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	buffer_put(s, c->buf);
	free(c);
	s->nconns--;
}

void conns_close_all(struct server *s)
{
	while (s->conns)
		conn_close(s, s->conns);
	for (int i = 0; i < s->nbuffers; i++)
		sodium_free(s->buffer_cache[i]);
	s->nbuffers = 0;
}

/*
 * Connections are level-triggered: a request answered in the event loop
 * costs no epoll_ctl at all. Only while a worker owns the connection is it
 * switched off, so that the loop does not read it meanwhile, and while a
 * reply waits for the peer it is watched for writing only.
 */
bool conn_watch(struct server *s, struct conn *c, uint32_t events)
{
	/*
	 * EPOLLRDHUP only with EPOLLIN: a peer that shut down its sending
	 * side may still read its reply, and a level-triggered hang-up while
	 * we wait to write would spin.
	 */
	struct epoll_event ev = {
		.events = events & EPOLLIN ? events | EPOLLRDHUP : events, .data.ptr = c,
	};
	int op = c->events == 0 ? EPOLL_CTL_ADD : events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;

	if (c->events == ev.events)
		return true;
	/*
	 * Removed, not just muted: epoll reports hang-ups even with no events
	 * asked for, and the loop must not touch a connection a worker owns.
	 */
	if (epoll_ctl(s->epfd, op, c->fd, &ev) != 0)
		return false;
	c->events = ev.events;
	return true;
}

/* Reply sent, or the connection lost: back to reading, or closed. */
static void conn_resume(struct server *s, struct conn *c)
{
	if (out_pending(c)) {
		if (!conn_watch(s, c, EPOLLOUT))
			conn_close(s, c);
		return;
	}
	if (c->close_after || !conn_watch(s, c, EPOLLIN))
		conn_close(s, c);
}

void conn_finish(struct server *s, struct conn *c)
{
	pp_wipe(c->buf, c->have);
	c->have = 0;
	c->frame_start = 0;
	c->last_active = now_ms();
	pp_wipe(&c->req, sizeof(c->req));
	c->rule = NULL;
	c->own_account_only = false;
	c->who = 0;
	c->busy = false;
	conn_resume(s, c);
}

static int conns_of(const struct server *s, uid_t uid)
{
	int n = 0;

	for (const struct conn *c = s->conns; c != NULL; c = c->next)
		if (c->uid == uid)
			n++;
	return n;
}

/* Out of descriptors: stop listening until a connection closes, or we spin. */
static void listen_pause(struct server *s)
{
	struct epoll_event none = { .events = 0, .data.ptr = &s->listen_fd };

	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->listen_fd, &none) == 0)
		s->listen_paused = true;
	log_msg(LOG_WARNING, "out of file descriptors with %d connections", s->nconns);
}

static void accept_one(struct server *s)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct conn *c;
	bool privileged;
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		int e = errno;
		if (e == EMFILE || e == ENFILE)
			listen_pause(s);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		close(fd);
		return;
	}
	/* Keep room for root (the PAM module): others cannot crowd it out. */
	privileged = cred.uid == 0 || cred.uid == geteuid();
	if (s->nconns >= MAX_CONNECTIONS ||
	    (!privileged && (s->nconns >= MAX_CONNECTIONS - ROOT_RESERVE ||
			     conns_of(s, cred.uid) >= MAX_PER_UID))) {
		log_refusal(s, cred.uid, "connection limit reached; refusing uid %u (pid %d)",
			    (unsigned)cred.uid, (int)cred.pid);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->buf = buffer_get(s)) == NULL) {
		free(c);
		close(fd);
		return;
	}
	c->fd = fd;
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->pid = cred.pid;
	c->audit_member = -1;
	c->privileged = privileged;
	c->last_active = now_ms();
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	if (!conn_watch(s, c, EPOLLIN))
		conn_close(s, c);
}

/* ---- reading requests ---- */

/* Read what is available; returns false when the connection must close. */
static bool conn_read(struct conn *c, bool *complete)
{
	*complete = false;
	for (;;) {
		size_t need = PROTO_HEADER_SIZE;
		ssize_t n;

		if (c->have >= PROTO_HEADER_SIZE) {
			uint32_t len = (uint32_t)c->buf[0] << 24 | (uint32_t)c->buf[1] << 16 |
				       (uint32_t)c->buf[2] << 8 | c->buf[3];
			if (len > PROTO_MAX_FRAME) {
				log_msg(LOG_WARNING, "uid %u pid %d: frame of %u bytes refused",
					(unsigned)c->uid, (int)c->pid, len);
				return false;
			}
			need = PROTO_HEADER_SIZE + len;
			if (c->have == need) {
				*complete = true;
				return true;
			}
		}
		/* Never past this frame: a pipelined next request stays queued. */
		n = recv(c->fd, c->buf + c->have, need - c->have, MSG_DONTWAIT);
		if (n > 0) {
			if (c->have == 0)
				c->frame_start = now_ms();
			c->have += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		return false;          /* EOF or error */
	}
}

static void conn_ready(struct server *s, struct conn *c, uint32_t events)
{
	bool complete = false;
	size_t len;

	if (c->busy)
		return;              /* a worker owns it (cannot happen: not watched) */
	if (out_pending(c)) {
		/* Writable (or hung up): send the rest of the reply first. */
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (!out_flush(c))
			c->close_after = true;
		else if (!out_pending(c))
			c->last_active = now_ms();
		conn_resume(s, c);
		return;
	}
	if (!conn_read(c, &complete)) {
		if (c->have > 0)
			log_refusal(s, c->uid, "uid %u pid %d: connection closed mid-frame",
				    (unsigned)c->uid, (int)c->pid);
		conn_close(s, c);
		return;
	}
	if (!complete)
		return;              /* the rest of the frame comes later */
	c->queued_at = now_ms();
	len = c->have - PROTO_HEADER_SIZE;
	if (proto_decode(c->buf + PROTO_HEADER_SIZE, len, &c->req) != PP_OK ||
	    !proto_is_request(c->req.type)) {
		log_refusal(s, c->uid, "uid %u pid %d: malformed request dropped",
			    (unsigned)c->uid, (int)c->pid);
		conn_close(s, c);
		return;
	}
	dispatch_request(s, c);
}

/* ---- the loop ---- */

static void sweep_idle(struct server *s)
{
	int64_t now = now_ms();
	struct conn *c = s->conns;

	while (c) {
		struct conn *next = c->next;
		if (c->busy) {
			c = next;
			continue;
		}
		if (out_pending(c) && now - c->out_since > REPLY_TIMEOUT_MS) {
			log_refusal(s, c->uid, "uid %u pid %d: reply unread for %d ms; "
				    "connection dropped", (unsigned)c->uid, (int)c->pid,
				    REPLY_TIMEOUT_MS);
			conn_close(s, c);
		} else if (!out_pending(c) &&
			   (now - c->last_active > IDLE_TIMEOUT_MS ||
			    (c->have > 0 && now - c->frame_start > FRAME_TIMEOUT_MS))) {
			conn_close(s, c);
		}
		c = next;
	}
}

/*
 * SIGHUP reopens the audit log and makes the socket reachable again if
 * its path was removed; false for a signal that means "stop".
 */
static bool handle_signal(struct server *s)
{
	struct signalfd_siginfo si;

	if (read(s->signal_fd, &si, sizeof(si)) != sizeof(si))
		return true;
	if (si.ssi_signo == SIGHUP) {
		if (daemon_audit_reopen(s) != PP_OK)
			log_msg(LOG_ERR, "cannot reopen audit log %s", s->policy->audit_log);
		else
			log_msg(LOG_INFO, "SIGHUP: audit log reopened");
		server_socket_check(s);
		return true;
	}
	log_msg(LOG_INFO, "signal %u: shutting down", si.ssi_signo);
	return false;
}

/* Once a second: timeouts, log summaries, and now and then the socket. */
static void tick(struct server *s)
{
	sweep_idle(s);
	log_limits_flush(s, false);
	if (now_ms() - s->socket_checked >= SOCKET_CHECK_MS)
		server_socket_check(s);
}

void event_loop(struct server *s)
{
	struct epoll_event events[64];
	int64_t last_tick = now_ms();

	s->socket_checked = last_tick;
	while (!s->stopping) {
		int n = epoll_wait(s->epfd, events, 64, 1000);

		if (n < 0 && errno != EINTR) {
			int e = errno;
			log_msg(LOG_ERR, "epoll_wait: %s", strerror(e));
			s->failed = true;
			break;
		}
		for (int i = 0; i < n; i++) {
			void *p = events[i].data.ptr;
			if (p == &s->listen_fd)
				accept_one(s);
			else if (p == &s->done_fd)
				done_drain(s);
			else if (p == &s->signal_fd)
				s->stopping = !handle_signal(s);
			else
				conn_ready(s, p, events[i].events);
		}
		if (now_ms() - last_tick > 1000) {
			tick(s);
			last_tick = now_ms();
		}
		server_notify_tick(s);       /* WATCHDOG=1, STATUS= (sd_notify) */
	}
	log_limits_flush(s, true);
}
