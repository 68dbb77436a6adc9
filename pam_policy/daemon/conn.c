/*
 * conn.c - connections and the event loop: accept with SO_PEERCRED and the
 * connection limits, non-blocking frame reads, replies, the idle sweep,
 * signals, and closing.
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

void send_msg(struct conn *c, const struct proto_msg *m)
{
	uint8_t body[PROTO_MAX_FRAME];
	size_t len = 0;

	/*
	 * The event loop never waits for a peer (reply_ms 0): a client that
	 * does not read its replies loses its connection, not everyone's time.
	 */
	if (proto_encode(m, body, sizeof(body), &len) != PP_OK ||
	    proto_frame_write(c->fd, body, len, proto_deadline_after(c->reply_ms)) != PP_OK)
		c->close_after = true;
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
	if (c->watched)
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
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
 * switched off, so that the loop does not read it meanwhile.
 */
bool conn_watch(struct server *s, struct conn *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };

	if (c->watched == on)
		return true;
	/*
	 * Removed, not just muted: epoll reports hang-ups even with no events
	 * asked for, and the loop must not touch a connection a worker owns.
	 */
	if (epoll_ctl(s->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, c->fd, &ev) != 0)
		return false;
	c->watched = on;
	return true;
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
	if (c->close_after || !conn_watch(s, c, true))
		conn_close(s, c);
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
		log_msg(LOG_WARNING, "connection limit reached; refusing uid %u (pid %d)",
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
	if (!conn_watch(s, c, true))
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

static void conn_ready(struct server *s, struct conn *c)
{
	bool complete = false;
	size_t len;

	if (c->busy)
		return;              /* a worker owns it (cannot happen: not watched) */
	if (!conn_read(c, &complete)) {
		if (c->have > 0)
			log_msg(LOG_NOTICE, "uid %u pid %d: connection closed mid-frame",
				(unsigned)c->uid, (int)c->pid);
		conn_close(s, c);
		return;
	}
	if (!complete)
		return;              /* the rest of the frame comes later */
	len = c->have - PROTO_HEADER_SIZE;
	if (proto_decode(c->buf + PROTO_HEADER_SIZE, len, &c->req) != PP_OK ||
	    !proto_is_request(c->req.type)) {
		log_msg(LOG_WARNING, "uid %u pid %d: malformed request dropped",
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
		if (!c->busy && (now - c->last_active > IDLE_TIMEOUT_MS ||
				 (c->have > 0 && now - c->frame_start > FRAME_TIMEOUT_MS)))
			conn_close(s, c);
		c = next;
	}
}

/* SIGHUP reopens the audit log; false for a signal that means "stop". */
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
		return true;
	}
	log_msg(LOG_INFO, "signal %u: shutting down", si.ssi_signo);
	return false;
}

void event_loop(struct server *s)
{
	struct epoll_event events[64];
	int64_t last_sweep = now_ms();

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
				conn_ready(s, p);
		}
		if (now_ms() - last_sweep > 1000) {
			sweep_idle(s);
			last_sweep = now_ms();
		}
	}
}
