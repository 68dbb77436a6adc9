/*
 * workers.c - the worker lanes: queues, the argon2id hashing pool, the
 * single writer thread, and the done queue back to the event loop.
 *
 * A connection handed to a lane belongs to one worker from queue_pop to
 * done_push; the event loop does not touch it meanwhile (it is not in the
 * epoll set), and takes it back in done_drain, woken by an eventfd.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "daemon.h"

#include <errno.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

void queue_init(struct queue *q)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->ready, NULL);
}

static void queue_push(struct queue *q, struct conn *c)
{
	pthread_mutex_lock(&q->lock);
	c->qnext = NULL;
	if (q->tail)
		q->tail->qnext = c;
	else
		q->head = c;
	q->tail = c;
	q->pending++;
	pthread_cond_signal(&q->ready);
	pthread_mutex_unlock(&q->lock);
}

/* The next connection, or NULL once the queue is stopped. */
static struct conn *queue_pop(struct queue *q)
{
	struct conn *c;

	pthread_mutex_lock(&q->lock);
	while (q->head == NULL && !q->stop)
		pthread_cond_wait(&q->ready, &q->lock);
	c = q->head;
	if (c) {
		q->head = c->qnext;
		if (q->head == NULL)
			q->tail = NULL;
	}
	pthread_mutex_unlock(&q->lock);
	return c;
}

/* A popped request is finished: it no longer counts against the lane. */
static void queue_done(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->pending--;
	pthread_mutex_unlock(&q->lock);
}

static void queue_stop(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->stop = true;
	pthread_cond_broadcast(&q->ready);
	pthread_mutex_unlock(&q->lock);
}

static struct queue *lane_queue(struct server *s, enum lane lane)
{
	return lane == LANE_HASH ? &s->hash_queue : &s->writer_queue;
}

bool lane_full(struct server *s, enum lane lane)
{
	struct queue *q = lane_queue(s, lane);
	bool full;

	if (lane != LANE_HASH)
		return false;
	pthread_mutex_lock(&q->lock);
	full = q->pending >= MAX_HASH_QUEUE;
	pthread_mutex_unlock(&q->lock);
	return full;
}

bool lane_submit(struct server *s, struct conn *c, enum lane lane)
{
	if (lane == LANE_INLINE || !conn_watch(s, c, false)) {
		c->close_after = true;
		return false;
	}
	c->busy = true;
	c->reply_ms = REPLY_TIMEOUT_MS;   /* workers may wait a little */
	queue_push(lane_queue(s, lane), c);
	return true;
}

static void done_push(struct server *s, struct conn *c)
{
	uint64_t one = 1;

	pthread_mutex_lock(&s->done_lock);
	c->qnext = NULL;
	if (s->done_tail)
		s->done_tail->qnext = c;
	else
		s->done_head = c;
	s->done_tail = c;
	pthread_mutex_unlock(&s->done_lock);
	if (write(s->done_fd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
		int e = errno;
		log_msg(LOG_ERR, "eventfd write failed: %s", strerror(e));
	}
}

void done_drain(struct server *s)
{
	uint64_t count;
	struct conn *c;

	if (read(s->done_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&s->done_lock);
	c = s->done_head;
	s->done_head = s->done_tail = NULL;
	pthread_mutex_unlock(&s->done_lock);
	while (c) {
		struct conn *next = c->qnext;
		conn_finish(s, c);
		c = next;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct conn *c;

	while ((c = queue_pop(w->queue)) != NULL) {
		dispatch_run(w->server, w, c);
		queue_done(w->queue);
		done_push(w->server, c);
	}
	return NULL;
}

static pp_err start_worker(struct server *s, struct worker *w, enum lane lane)
{
	w->server = s;
	w->lane = lane;
	w->queue = lane_queue(s, lane);
	if (server_open_store(s, &w->store) != PP_OK)
		return PP_ERR_STORE;
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		store_close(w->store);
		w->store = NULL;
		return PP_ERR_INTERNAL;
	}
	return PP_OK;
}

/* As many argon2id evaluations at once as the CPUs and a quarter of RAM allow. */
static int hash_worker_count(const struct policy *p)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	long long mem = (pages > 0 && page > 0) ? (long long)pages * page : 0;
	long long per = (long long)p->argon2_memlimit_kib * 1024;
	long long by_mem = per > 0 && mem > 0 ? mem / 4 / per : 1;
	long n;

	if (p->workers > 0)
		return p->workers > MAX_HASH_WORKERS ? MAX_HASH_WORKERS : p->workers;
	n = cpus > 0 ? cpus : 1;
	if (by_mem < n)
		n = (long)by_mem;
	if (n < 1)
		n = 1;
	if (n > MAX_HASH_WORKERS)
		n = MAX_HASH_WORKERS;
	return (int)n;
}

pp_err workers_start(struct server *s)
{
	int want = hash_worker_count(s->policy);
	pp_err rc;

	for (s->nhash = 0; s->nhash < want; s->nhash++) {
		rc = start_worker(s, &s->hash_workers[s->nhash], LANE_HASH);
		if (rc != PP_OK)
			return rc;
	}
	rc = start_worker(s, &s->writer, LANE_WRITER);
	if (rc != PP_OK)
		return rc;
	s->writer_started = true;
	return PP_OK;
}

void workers_stop(struct server *s)
{
	queue_stop(&s->hash_queue);
	queue_stop(&s->writer_queue);
	for (int i = 0; i < s->nhash; i++) {
		pthread_join(s->hash_workers[i].thread, NULL);
		store_close(s->hash_workers[i].store);
	}
	s->nhash = 0;
	if (s->writer_started) {
		pthread_join(s->writer.thread, NULL);
		store_close(s->writer.store);
		s->writer_started = false;
	}
}
