/*
 * workers.c - the worker lanes: queues, the argon2id hashing pool, root's
 * writer thread, the thread for unprivileged own-account requests, the
 * report thread, admission ("busy") and the done queue back to the event
 * loop.
 *
 * A connection handed to a lane belongs to one worker from queue_pop to
 * done_push; the event loop does not touch it meanwhile (it is not in the
 * epoll set), and takes it back in done_drain, woken by an eventfd.
 *
 * One deadline per hashing request, queueing included: the client gives
 * up after timeout_ms, so a request is admitted only when the requests
 * ahead of it can be served, at the pool's measured cost per request,
 * within QUEUE_BUDGET_PERCENT of that; and one that has waited too long
 * anyway (records jump the queue) is answered "busy" when it is popped
 * instead of being hashed for a client that has gone. "Busy" is an
 * answer the user can act on ("try again in a moment"); a timeout is not.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "daemon.h"

#include <errno.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "secret.h"

/* Monotonic microseconds: hashing costs are a few ms in tests. */
static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void queue_init(struct queue *q)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->ready, NULL);
}

/* Append c, or with ahead put it behind the other "ahead" requests at the head. */
static void queue_push(struct queue *q, struct conn *c, bool ahead)
{
	pthread_mutex_lock(&q->lock);
	if (!ahead) {
		c->qnext = NULL;
		if (q->tail)
			q->tail->qnext = c;
		else
			q->head = c;
		q->tail = c;
	} else {
		struct conn *after = q->ahead_tail;
		c->qnext = after ? after->qnext : q->head;
		if (after)
			after->qnext = c;
		else
			q->head = c;
		if (q->tail == after)
			q->tail = c;
		q->ahead_tail = c;
	}
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
		if (c == q->ahead_tail)
			q->ahead_tail = NULL;
		q->head = c->qnext;
		if (q->head == NULL)
			q->tail = NULL;
	}
	pthread_mutex_unlock(&q->lock);
	return c;
}

/*
 * A popped request is finished: it no longer counts against the lane.
 * cost_us >= 0 is how long it took, for the lane's moving average.
 */
static void queue_done(struct queue *q, int64_t cost_us)
{
	pthread_mutex_lock(&q->lock);
	q->pending--;
	if (cost_us >= 0)
		q->cost_us = q->cost_us > 0 ? (7 * q->cost_us + cost_us) / 8 : cost_us;
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
	switch (lane) {
	case LANE_HASH:
		return &s->hash_queue;
	case LANE_SELF:
		return &s->self_queue;
	case LANE_REPORT:
		return &s->report_queue;
	default:
		return &s->writer_queue;
	}
}

/* ---- admission ---- */

/* The moment a hashing request's client stops waiting (our share of it), ms. */
static int64_t request_deadline(const struct server *s, const struct conn *c)
{
	return c->queued_at + (int64_t)s->policy->timeout_ms * QUEUE_BUDGET_PERCENT / 100;
}

/* "Busy" lines: LOG_BURST per window, then counted (log_limits_flush sums up). */
static void log_busy(struct server *s, const struct conn *c, const char *why,
		     int pending, int64_t cost_us)
{
	pthread_mutex_lock(&s->log_lock);
	if (s->busy_log.window_start == 0 ||
	    now_ms() - s->busy_log.window_start >= LOG_WINDOW_MS) {
		if (s->busy_log.suppressed > 0)
			log_msg(LOG_WARNING, "%u more requests answered \"busy\"",
				s->busy_log.suppressed);
		s->busy_log.window_start = now_ms();
		s->busy_log.logged = s->busy_log.suppressed = 0;
	}
	if (s->busy_log.logged < LOG_BURST) {
		s->busy_log.logged++;
		log_msg(LOG_WARNING, "busy: %s request of uid %u answered \"try again\": %s "
			"(%d queued or running, about %lld ms each, %d hashing worker(s))",
			proto_type_name(c->req.type), (unsigned)c->uid, why, pending,
			(long long)(cost_us / 1000), s->nhash);
	} else {
		s->busy_log.suppressed++;
	}
	pthread_mutex_unlock(&s->log_lock);
}

bool lane_admit(struct server *s, const struct conn *c, enum lane lane)
{
	struct queue *q = lane_queue(s, lane);
	int pending, limit;
	int64_t cost_us, finish_ms;
	bool ok;

	if (lane == LANE_WRITER || lane == LANE_INLINE)
		return true;
	limit = lane == LANE_HASH ? MAX_HASH_QUEUE
				  : lane == LANE_SELF ? MAX_SELF_QUEUE : MAX_REPORT_QUEUE;
	pthread_mutex_lock(&q->lock);
	pending = q->pending;
	cost_us = q->cost_us;
	pthread_mutex_unlock(&q->lock);
	if (pending >= limit) {
		log_busy(s, c, "queue full", pending, cost_us);
		return false;
	}
	/*
	 * A free worker: nothing to wait for, whatever the estimate says (and
	 * the estimate learns again from the requests it lets through).
	 */
	if (lane != LANE_HASH || (c->rule != NULL && c->rule->ahead) || pending < s->nhash)
		return true;
	/* Served in rounds of nhash: ours is the round after those ahead. */
	finish_ms = now_ms() + (pending / (s->nhash > 0 ? s->nhash : 1) + 1) * cost_us / 1000;
	ok = finish_ms <= request_deadline(s, c);
	if (!ok)
		log_busy(s, c, "the queue ahead cannot be served before the client's deadline",
			 pending, cost_us);
	return ok;
}

/* Popped too late to be answered before the client gives up? Records never are. */
static bool popped_too_late(struct server *s, struct worker *w, struct conn *c)
{
	int64_t cost_us;
	int pending;

	if (w->lane != LANE_HASH || c->rule->ahead)
		return false;
	pthread_mutex_lock(&w->queue->lock);
	cost_us = w->queue->cost_us;
	pending = w->queue->pending;
	pthread_mutex_unlock(&w->queue->lock);
	/*
	 * At most half the budget for the work itself: a request that did not
	 * wait is always run, so one slow outlier cannot refuse everything.
	 */
	if (cost_us / 1000 > (int64_t)s->policy->timeout_ms / 2)
		cost_us = (int64_t)s->policy->timeout_ms * 500;
	if (now_ms() + cost_us / 1000 <= request_deadline(s, c))
		return false;
	log_busy(s, c, "it waited past the client's deadline", pending, cost_us);
	return true;
}

bool lane_submit(struct server *s, struct conn *c, enum lane lane)
{
	if (lane == LANE_INLINE || !conn_watch(s, c, 0)) {
		c->close_after = true;
		return false;
	}
	c->busy = true;
	queue_push(lane_queue(s, lane), c, c->rule != NULL && c->rule->ahead);
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

/*
 * Write the logins counted since the last flush (one transaction). Writer
 * thread only; a failure keeps them for the next flush.
 */
static void logins_flush(struct worker *w)
{
	size_t written = 0;
	pp_err rc = store_logins_flush(w->server->logins, w->store, &written);

	if (rc != PP_OK)
		log_msg(LOG_ERR, "cannot write last logins (kept for the next try): %s",
			store_errmsg(w->store));
}

/*
 * The writer's pop: like queue_pop, but every LOGINS_FLUSH_MS without a
 * request, and after each request once that long has passed, it writes
 * the counted logins; and once more when stopping.
 */
static struct conn *writer_pop(struct worker *w, int64_t *next_flush)
{
	struct queue *q = w->queue;
	struct conn *c;

	for (;;) {
		if (now_ms() >= *next_flush) {
			logins_flush(w);
			*next_flush = now_ms() + LOGINS_FLUSH_MS;
		}
		pthread_mutex_lock(&q->lock);
		while (q->head == NULL && !q->stop && now_ms() < *next_flush) {
			struct timespec ts;
			int64_t wait = *next_flush - now_ms();

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += wait / 1000;
			ts.tv_nsec += (long)(wait % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&q->ready, &q->lock, &ts);
		}
		c = q->head;
		if (c) {
			if (c == q->ahead_tail)
				q->ahead_tail = NULL;
			q->head = c->qnext;
			if (q->head == NULL)
				q->tail = NULL;
		}
		if (c != NULL || q->stop) {
			pthread_mutex_unlock(&q->lock);
			if (c == NULL)
				logins_flush(w);     /* the last one, at shutdown */
			return c;
		}
		pthread_mutex_unlock(&q->lock);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int64_t next_flush = now_ms() + LOGINS_FLUSH_MS;
	struct conn *c;

	while ((c = w->lane == LANE_WRITER ? writer_pop(w, &next_flush)
					   : queue_pop(w->queue)) != NULL) {
		int64_t start = now_us();
		int64_t cost = -1;

		if (popped_too_late(w->server, w, c)) {
			reply(c, PROTO_BUSY, 0, "busy");
		} else {
			dispatch_run(w->server, w, c);
			if (w->lane == LANE_HASH)
				cost = now_us() - start;
		}
		queue_done(w->queue, cost);
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
	w->started = true;
	return PP_OK;
}

static void stop_worker(struct worker *w)
{
	if (!w->started)
		return;
	pthread_join(w->thread, NULL);
	store_close(w->store);
	w->store = NULL;
	w->started = false;
}

/*
 * As many argon2id evaluations at once as the CPUs and a quarter of RAM
 * allow. With similar_history on, a worker runs two at once (the
 * password's and its skeleton's, skeleton.c): twice the memory each.
 */
static int hash_worker_count(const struct policy *p)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	long long mem = (pages > 0 && page > 0) ? (long long)pages * page : 0;
	long long per = (long long)p->argon2_memlimit_kib * 1024 *
			(p->similar_history > 0 ? 2 : 1);
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

/*
 * The first guess of what one hashing request costs: argon2id with the
 * configured parameters, so that a burst right after start is admitted
 * by a real figure. Twice, keeping the faster: the first call also pays
 * for faulting its memory in. The moving average takes over from there.
 */
static void hash_cost_calibrate(struct server *s)
{
	static const uint8_t salt[HASH_SALT_BYTES];
	uint8_t digest[HASH_BYTES];

	for (int i = 0; i < 2; i++) {
		int64_t start = now_us(), took;
		if (hash_password("calibration", 11, salt, &s->params, s->pepper, digest) != PP_OK)
			break;
		took = now_us() - start;
		if (s->hash_queue.cost_us == 0 || took < s->hash_queue.cost_us)
			s->hash_queue.cost_us = took;
	}
	pp_wipe(digest, sizeof(digest));
}

pp_err workers_start(struct server *s)
{
	int want = hash_worker_count(s->policy);
	pp_err rc;

	hash_cost_calibrate(s);
	if ((s->logins = store_logins_new()) == NULL)
		return PP_ERR_NOMEM;
	for (s->nhash = 0; s->nhash < want; s->nhash++) {
		rc = start_worker(s, &s->hash_workers[s->nhash], LANE_HASH);
		if (rc != PP_OK)
			return rc;
	}
	rc = start_worker(s, &s->writer, LANE_WRITER);
	if (rc == PP_OK)
		rc = start_worker(s, &s->self_worker, LANE_SELF);
	if (rc == PP_OK)
		rc = start_worker(s, &s->report_worker, LANE_REPORT);
	return rc;
}

void workers_stop(struct server *s)
{
	queue_stop(&s->hash_queue);
	queue_stop(&s->writer_queue);
	queue_stop(&s->self_queue);
	queue_stop(&s->report_queue);
	for (int i = 0; i < s->nhash; i++)
		stop_worker(&s->hash_workers[i]);
	s->nhash = 0;
	stop_worker(&s->writer);       /* writes the last logins */
	stop_worker(&s->self_worker);
	stop_worker(&s->report_worker);
	store_logins_free(s->logins);
	s->logins = NULL;
}
