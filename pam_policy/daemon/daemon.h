/*
 * daemon.h - the daemon's private header: its state, limits and the
 * contracts between its files.
 *
 * One thread runs an epoll loop (conn.c): it accepts connections, identifies
 * every peer with SO_PEERCRED, reads frames without blocking and hands each
 * complete request to dispatch.c, which looks the request up in the request
 * table ({type, who may send it, lane, handler}), authorises it once (by
 * uid) and picks its lane once. Cheap requests (ping, status of a known
 * user) are answered inline; requests that hash (check, record) go to a
 * small pool sized to argon2id's memory; root's requests that write
 * (expire, forget, events, backup, a user's first status) go to one
 * writer thread, reports to a report thread, and an unprivileged peer's
 * own-account requests that need a directory lookup or a write to a
 * thread of their own (workers.c), so that no unprivileged peer can fill
 * root's lanes. Status queries never wait behind hashing or disk flushes.
 * handlers.c and report.c answer requests; audit.c writes the audit log
 * and its syslog mirror; server.c starts and stops it all.
 *
 * Replies never block a thread: what a socket does not take at once is
 * sent by the event loop when it is writable. A malformed or oversized
 * frame, or a peer that is too slow to send or to read, costs only that
 * connection. Password bytes live only in sodium_malloc'd buffers, wiped
 * after each request.
 *
 * Threads: the event loop owns struct conn while !c->busy; a worker owns
 * it from queue_pop until done_push. Fields of struct server are set up
 * before the threads start and read-only afterwards, except those under
 * a named lock.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_DAEMON_H
#define PAM_POLICY_DAEMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

#include "bounds.h"
#include "error.h"
#include "hash.h"
#include "policy.h"
#include "proto.h"
#include "server.h"
#include "store.h"

#define MAX_CONNECTIONS 4096
#define ROOT_RESERVE 64            /* connections only root may use */
#define MAX_PER_UID 16             /* connections of one unprivileged uid */
#define MAX_HASH_QUEUE 256         /* queued hashing requests before "busy" */
#define MAX_SELF_QUEUE 64          /* queued own-account requests before "busy" */
#define MAX_REPORT_QUEUE 8         /* queued reports before "busy" */
#define QUEUE_BUDGET_PERCENT 80    /* a hashing request must be expected to be
				      answered within this share of the
				      client's timeout_ms, queueing included,
				      or it is answered "busy" at once */
#define IDLE_TIMEOUT_MS 10000      /* a connection silent this long is closed */
#define FRAME_TIMEOUT_MS 2000      /* a frame must arrive whole this fast */
#define REPLY_TIMEOUT_MS 2000      /* a reply the peer has not read this long:
				      the connection is dropped */
#define CONN_BUFFER (PROTO_HEADER_SIZE + PROTO_MAX_FRAME)
#define CONN_OUTPUT_MAX (2 * CONN_BUFFER) /* unsent bytes one connection may hold */
#define LOG_BURST 5                /* lines a peer may cause per window ... */
#define LOG_WINDOW_MS 10000        /* ... then one summary line per window */
#define LOG_LIMIT_SLOTS 32         /* uids whose refusals are counted apart */
#define SOCKET_CHECK_MS 60000      /* how often the socket's path is checked */
#define BUFFER_CACHE 64
#define MAX_HASH_WORKERS 8
#define LOGINS_FLUSH_MS 5000       /* the writer writes counted logins this often */

/* Who may send a request: bits matched against the peer's class. */
enum who {
	WHO_ROOT = 1u << 0,    /* effective uid 0 (or the daemon's own uid) */
	WHO_AUDIT = 1u << 1,   /* member of audit_group */
	WHO_SELF = 1u << 2,    /* anyone, about their own account only */
};

/* Where a request runs. */
enum lane {
	LANE_INLINE,   /* in the event loop: cheap reads */
	LANE_HASH,     /* the argon2id pool */
	LANE_WRITER,   /* the single writer thread: root's writes and lookups */
	LANE_SELF,     /* one thread for unprivileged own-account requests
			  (a directory lookup, a first-sight write): they
			  never queue on root's writer */
	LANE_REPORT,   /* one thread for reports (long scans, streamed) */
};

struct server;
struct conn;
struct worker;

/*
 * A handler answers c->req on connection c. w is the worker running it, or
 * NULL in the event loop (LANE_INLINE). It replies (or marks close_after)
 * on every path; it never closes or frees c.
 */
typedef void (*handler_fn)(struct server *s, struct worker *w, struct conn *c);

/* One line of the request table (dispatch.c). */
struct request_rule {
	enum proto_type type;
	unsigned who;           /* enum who bits that may send it */
	enum lane lane;         /* where it runs for a peer that may send it */
	int user_field;         /* field naming the user (WHO_SELF), or -1 */
	handler_fn handler;
	bool ahead;             /* queued ahead of the lane's other requests
				   (a record finishes a change already made) */
};

struct conn {
	int fd;
	uid_t uid;                  /* SO_PEERCRED at connect */
	gid_t gid;
	pid_t pid;
	int audit_member;           /* -1 unknown, 0 no, 1 yes */
	uint8_t *buf;               /* sodium_malloc'd, CONN_BUFFER bytes */
	size_t have;
	int64_t last_active;        /* monotonic ms */
	int64_t frame_start;        /* when the first byte of this frame came */
	int64_t queued_at;          /* monotonic ms the request was read whole */
	/*
	 * Replies never wait for the peer: what the socket does not take at
	 * once waits here (malloc'd, at most CONN_OUTPUT_MAX bytes, bytes
	 * out[out_off..out_len) unsent) and the event loop sends it when the
	 * socket is writable. No request is read meanwhile, and a reply still
	 * unsent REPLY_TIMEOUT_MS after out_since costs the connection.
	 * Replies carry no password; the buffer is wiped when freed anyway.
	 */
	uint8_t *out;
	size_t out_len, out_off;
	int64_t out_since;          /* monotonic ms: first unsent byte queued */
	bool privileged;            /* uid 0, or the daemon's own uid */
	bool busy;                  /* owned by a worker right now */
	uint32_t events;            /* what the epoll set watches; 0: not in it */
	bool close_after;
	unsigned who;               /* the peer's class for this request
				       (one enum who bit), set by dispatch */
	bool own_account_only;      /* authorised for the peer's own account:
				       dispatch_run checks the asked name's uid */
	struct proto_msg req;
	const struct request_rule *rule;
	struct conn *prev, *next;   /* all connections (event loop only) */
	struct conn *qnext;         /* queue link */
};

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	struct conn *head, *tail;   /* under lock */
	struct conn *ahead_tail;    /* under lock: last of the "ahead" requests
				       at the head, NULL when none */
	int pending;                /* under lock: pushed, not yet finished */
	int64_t cost_us;            /* under lock: moving average of how long
				       one request takes a worker (hashing) */
	bool stop;                  /* under lock */
};

struct worker {
	struct server *server;
	struct store *store;        /* this thread's own handle */
	pthread_t thread;
	struct queue *queue;
	enum lane lane;
	bool started;               /* the thread runs: join it at stop */
};

/*
 * Lines a peer can cause (refusals, dropped connections) are limited per
 * uid: LOG_BURST lines per LOG_WINDOW_MS, then one summary line ("N more
 * refusals from uid U suppressed") when the window ends or the daemon
 * stops. Under server.log_lock.
 */
struct log_limit {
	uid_t uid;
	int64_t window_start;       /* monotonic ms; 0: slot free */
	unsigned logged, suppressed;
};

struct server {
	const struct policy *policy;
	int epfd, listen_fd, signal_fd, done_fd;
	struct store *store;                 /* the event loop's handle */
	uint8_t *pepper;                     /* sodium_malloc'd, read-only */
	struct hash_params params;
	struct audit_log *audit;             /* under audit_lock */
	pthread_mutex_t audit_lock;
	gid_t audit_gid;                     /* (gid_t)-1: no audit group */
	struct queue hash_queue, writer_queue, self_queue, report_queue;
	struct worker hash_workers[MAX_HASH_WORKERS];
	int nhash;
	struct worker writer, self_worker, report_worker;
	struct store_logins *logins;         /* thread-safe: logins counted by
						LOGIN requests, written by the
						writer (workers.c) */
	pthread_mutex_t log_lock;
	struct log_limit refusal_log[LOG_LIMIT_SLOTS]; /* under log_lock */
	struct log_limit busy_log;           /* under log_lock (uid unused) */
	pthread_mutex_t done_lock;
	struct conn *done_head, *done_tail;  /* under done_lock */
	struct conn *conns;                  /* event loop only */
	int nconns;
	bool listen_paused;         /* out of descriptors: accept later */
	int lock_fd;                /* state_dir/lock, held while serving */
	uint8_t *buffer_cache[BUFFER_CACHE];
	int nbuffers;
	bool stopping;
	bool failed;                /* the event loop broke: exit non-zero */
	char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t socket_dev;           /* the node bind made at socket_path */
	ino_t socket_ino;
	int64_t socket_checked;     /* monotonic ms of the last path check */
	int64_t watchdog_ms;        /* WatchdogSec= (sd_watchdog_enabled); 0: off */
	int64_t watchdog_sent;      /* monotonic ms of the last WATCHDOG=1 */
	int status_conns;           /* connections the last STATUS= named; -1 */
	int64_t status_sent;        /* monotonic ms of the last STATUS= */
	char host_name[POLICY_MAX_HOST]; /* host_name or gethostname(): the
					    fleet's name for this host, in
					    every audit line */
};

/* ---- small helpers and start-up (server.c) ---- */

/* syslog at level (the daemon's openlog facility). Thread-safe. */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Monotonic milliseconds, for timeouts. */
int64_t now_ms(void);

/* Wall-clock seconds since the epoch, for ages (faked in tests by libc). */
int64_t now_utc(void);

/*
 * server_open_store - open a store handle for one thread: the first one
 * (s->store still NULL) checks the store's integrity, the others share it.
 * Logs the reason on failure.
 */
pp_err server_open_store(struct server *s, struct store **out) PP_WUR;

/*
 * make_parent - create the directory that holds path with exactly mode if
 * it is missing, and refuse one that others may write or another user
 * owns. Logs the reason on failure (PP_ERR_IO).
 */
pp_err make_parent(const char *path, mode_t mode) PP_WUR;

/*
 * server_socket_check - does s->socket_path still lead to the socket we
 * bound? If it is gone (its directory removed, say) or replaced by a
 * stale socket, bind a new one there, swap it into the epoll set and
 * close the old one; a live socket of someone else or a non-socket is
 * left alone and logged. Called on SIGHUP and every SOCKET_CHECK_MS.
 * Event loop only.
 */
void server_socket_check(struct server *s);

/*
 * server_notify_tick - tell the service manager (sd_notify) that the event
 * loop is alive, WATCHDOG=1 at half of WatchdogSec=, and STATUS=
 * "serving N connection(s)" when N changed. Cheap: call it every turn of
 * the event loop. Event loop only.
 */
void server_notify_tick(struct server *s);

/* ---- connections and the event loop (conn.c) ---- */

/*
 * event_loop - accept, read and dispatch until a signal asks to stop
 * (s->stopping) or epoll fails (s->failed). Event loop thread only.
 */
void event_loop(struct server *s);

/*
 * send_msg, reply - answer on c without ever waiting for the peer: what
 * the socket does not take at once is kept in c->out for the event loop
 * to send. A failure (a dead peer, more than CONN_OUTPUT_MAX unsent)
 * marks c close_after; nothing is returned because the connection is the
 * only thing that can be lost. Any thread that owns c.
 */
void send_msg(struct conn *c, const struct proto_msg *m);
void reply(struct conn *c, enum proto_status status, uint64_t detail, const char *text);

/*
 * conn_finish - a request is done: wipe what it carried, then watch c
 * again: for writing while a reply is unsent (the next request is read
 * only after it), else for reading, or close it if close_after (once the
 * reply is out). Event loop only, for a c no worker owns.
 */
void conn_finish(struct server *s, struct conn *c);

/*
 * conn_watch - watch c for events (EPOLLIN, to which EPOLLRDHUP is added,
 * or EPOLLOUT), or remove it from the epoll set (0). Event loop.
 */
bool conn_watch(struct server *s, struct conn *c, uint32_t events) PP_WUR;

/* conns_close_all - close every connection and free the buffer cache. */
void conns_close_all(struct server *s);

/* ---- the request table and authorisation (dispatch.c) ---- */

/*
 * dispatch_request - c holds one decoded request: look up its rule,
 * authorise the peer by uid and class, pick the lane, all once, then run
 * it inline or hand it to a worker. Refused and finished requests are
 * finished here (conn_finish). Event loop only.
 */
void dispatch_request(struct server *s, struct conn *c);

/*
 * dispatch_run - a worker runs the request it popped: the deferred
 * own-account check (a directory lookup, so never in the event loop),
 * then the rule's handler. Worker threads only.
 */
void dispatch_run(struct server *s, struct worker *w, struct conn *c);

/*
 * dispatch_first_sight - the rule for a STATUS about a user the store does
 * not know yet: its clock starts now, which writes, so it runs on the
 * writer (on LANE_SELF for unprivileged peers, see dispatch_lane).
 * Reached only through dispatch_continue from handle_status.
 */
extern const struct request_rule dispatch_first_sight;

/*
 * dispatch_adopt - the rule for root's STATUS or LOGIN about a user whose
 * shadow entry shows a newer change than the store (a change the record
 * line could not record): the writer adopts shadow's date, audits
 * change_not_recorded, then answers. Reached only through dispatch_continue.
 */
extern const struct request_rule dispatch_adopt;

/* dispatch_allows - may the peer of c (its class) send requests of rule r? */
bool dispatch_allows(const struct request_rule *r, const struct conn *c);

/*
 * dispatch_continue - carry on the request c under rule next (already
 * authorised). From the event loop (w NULL) it goes to next's lane; from a
 * worker of next's lane it runs at once. On failure c is marked
 * close_after, and the caller finishes it as usual.
 */
void dispatch_continue(struct server *s, struct worker *w, struct conn *c,
		       const struct request_rule *next);

/*
 * dispatch_lane - where rule r runs for the peer of c: the rule's lane for
 * root; for anyone else a request that needs a directory lookup or a write
 * runs on LANE_SELF, so that no unprivileged peer can fill root's writer.
 */
enum lane dispatch_lane(const struct conn *c, const struct request_rule *r);

/*
 * log_refusal - log one line a peer of uid caused (a refusal, a dropped
 * connection) at LOG_WARNING, at most LOG_BURST per LOG_WINDOW_MS per uid;
 * the rest are counted and summed up by log_limits_flush. Any thread.
 */
void log_refusal(struct server *s, uid_t uid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * log_limit_admit - the limiter behind log_refusal: true when a line (or
 * an audit event) caused by a peer of uid may be written now, false when
 * it is only counted for the summary line. Any thread.
 */
bool log_limit_admit(struct server *s, uid_t uid);

/*
 * log_limits_flush - write the summary line of every window that has
 * ended (all of them when stopping) with lines suppressed. Any thread.
 */
void log_limits_flush(struct server *s, bool stopping);

/* ---- queues, the hashing pool and the writer (workers.c) ---- */

void queue_init(struct queue *q);

/*
 * workers_start - start the hashing pool (sized to CPUs and argon2id's
 * memory) and the writer, each with its own store handle. On failure the
 * ones started are left for workers_stop.
 */
pp_err workers_start(struct server *s) PP_WUR;

/* workers_stop - stop and join every worker started; close their stores. */
void workers_stop(struct server *s);

/*
 * lane_submit - hand c to a worker lane (any but LANE_INLINE); the event
 * loop lets go of it until the worker is done (done_drain). A rule marked
 * "ahead" goes before the lane's other queued requests. False, with c
 * marked close_after and still the caller's, on failure.
 */
bool lane_submit(struct server *s, struct conn *c, enum lane lane) PP_WUR;

/*
 * lane_admit - may c join lane now? False when the lane is full
 * (MAX_HASH_QUEUE, MAX_SELF_QUEUE, MAX_REPORT_QUEUE) or, for hashing,
 * when the requests ahead of it cannot be served before its client's
 * deadline (QUEUE_BUDGET_PERCENT of timeout_ms, at the lane's measured
 * cost per request): the caller answers "busy" at once. Root's writer
 * is never refused. Logs the refusal, rate-limited. Event loop.
 */
bool lane_admit(struct server *s, const struct conn *c, enum lane lane);

/* done_drain - finish the connections workers are done with. Event loop. */
void done_drain(struct server *s);

/* ---- request handlers (handlers.c, report.c) ---- */

void handle_ping(struct server *s, struct worker *w, struct conn *c);
void handle_check(struct server *s, struct worker *w, struct conn *c);
void handle_record(struct server *s, struct worker *w, struct conn *c);
void handle_status(struct server *s, struct worker *w, struct conn *c);
void handle_bootstrap(struct server *s, struct worker *w, struct conn *c);
void handle_adopt(struct server *s, struct worker *w, struct conn *c);
void handle_expire(struct server *s, struct worker *w, struct conn *c);
void handle_forget(struct server *s, struct worker *w, struct conn *c);
/*
 * handle_breached - PROTO_BREACHED: flag the user must-change with the
 * reason "breached" and audit breach_detected. Writer lane.
 */
void handle_breached(struct server *s, struct worker *w, struct conn *c);
void handle_event(struct server *s, struct worker *w, struct conn *c);
void handle_backup(struct server *s, struct worker *w, struct conn *c);
void handle_reopen(struct server *s, struct worker *w, struct conn *c);
/* handle_may_change - PROTO_MAY_CHANGE: the minimum age alone. Inline. */
void handle_may_change(struct server *s, struct worker *w, struct conn *c);

/*
 * handle_secrets - PROTO_SECRETS: compare the pepper file on disk and the
 * daemon's own pepper with the check value the store is bound to (for
 * doctor). Reads a file and the store: writer lane.
 */
void handle_secrets(struct server *s, struct worker *w, struct conn *c);

/*
 * handle_report - stream one PROTO_REPORT_ROW per known user, then
 * PROTO_REPORT_END, in 64 KiB batches. Writer lane. On any failure the
 * connection is marked close_after.
 */
void handle_report(struct server *s, struct worker *w, struct conn *c);

/*
 * handle_review - PROTO_REVIEW: as handle_report, from the same join, one
 * PROTO_REVIEW_ROW per account (system accounts and exemptions too, with
 * the privileged groups each is in), then PROTO_REVIEW_END with the host,
 * the policy and the clock; the review is audited (access_review, with
 * the actor). Report lane.
 */
void handle_review(struct server *s, struct worker *w, struct conn *c);

/*
 * handle_fleet - PROTO_FLEET: the backend and, for a fleet, the replica's
 * state (store_pg_status). Inline: it only reads memory.
 */
void handle_fleet(struct server *s, struct worker *w, struct conn *c);

/*
 * handle_fleet_report - PROTO_FLEET_REPORT: the fleet's users and last
 * logins per host, from the database (store_pg_fleet_walk), with states
 * decided by this daemon's policy and clock. Report lane.
 */
void handle_fleet_report(struct server *s, struct worker *w, struct conn *c);

/* ---- skeletons and paired hashing (skeleton.c) ---- */

/*
 * skeleton_of - the skeleton (strength_skeleton) of password[0..len) into
 * *out, a sodium_malloc'd NUL-terminated string of *outlen bytes (free it
 * with skeleton_free, which wipes it). *out is NULL (PP_OK) when the
 * password has no skeleton the daemon can compute (not valid UTF-8, a NUL
 * inside, longer than strength.h takes): such a password is simply not
 * compared by skeleton. PP_ERR_NOMEM, or strength's own failure.
 */
pp_err skeleton_of(const char *password, size_t len, char **out,
		   size_t *outlen) PP_WUR;
void skeleton_free(char *skeleton);

/* One argon2id evaluation of a batch: hash_password or hash_skeleton. */
struct hash_task {
	bool skeleton;               /* hash_skeleton of the skeleton, else
					hash_password of the password */
	struct hash_params params;
	uint8_t digest[HASH_BYTES];  /* the result */
	pp_err rc;
};

/* The evaluations one request needs, all with one user's salt. */
struct hash_batch {
	const char *password;
	size_t password_len;
	const char *skeleton;        /* NULL when no task is a skeleton's */
	size_t skeleton_len;
	const uint8_t *salt;
	const uint8_t *pepper;
	struct hash_task *tasks;
	size_t n;
};

/*
 * hash_batch_run - run every task of b: the skeleton tasks on a helper
 * thread while the caller runs the password tasks (one evaluation of wall
 * time for the usual pair); on the caller alone when no thread can be
 * started. Returns PP_OK, or the first task's failure (every rc is set).
 * Hash workers only (they count the helper's memory, workers.c).
 */
pp_err hash_batch_run(const struct hash_batch *b) PP_WUR;

/* ---- the audit log and its syslog mirror (audit.c) ---- */

struct audit_event;

/*
 * daemon_audit_open - find the audit group, load the audit key and open the
 * audit log (s->audit). The key is bound to the log it signs: it is
 * created only when there is no audit data yet (no log lines, no
 * audit.head); a missing key, or one that matches neither audit.head nor
 * the log's last lines, over existing data fails (PP_ERR_NOT_FOUND /
 * PP_ERR_INVALID) with a message saying to restore audit.key. A torn last
 * line left by a crash is sealed and logged. Logs the reason on failure.
 */
pp_err daemon_audit_open(struct server *s) PP_WUR;

/* daemon_audit_close - retry the backlog once, close the audit log. */
void daemon_audit_close(struct server *s);

/*
 * daemon_audit_reopen - reopen the audit log after rotation and retry the
 * backlog of events that could not be written. Any thread.
 */
pp_err daemon_audit_reopen(struct server *s) PP_WUR;

/*
 * daemon_audit_emit, daemon_audit_simple - write one event to the audit log and to
 * syslog (authpriv); a failure to write is logged, never returned. An
 * event that cannot be written (disk full) is held in memory (bounded,
 * auditlog_write) and written after an audit_gap line once the log can be
 * written again. NULL strings are empty. Any thread.
 */
void daemon_audit_emit(struct server *s, const struct audit_event *ev);
void daemon_audit_simple(struct server *s, const char *event, const char *user,
		  const char *service, const char *actor);

/*
 * daemon_audit_emit_msg - daemon_audit_emit, with msg (may be NULL) added
 * to the event's syslog/journal line as msg="..." (not to the audit log).
 * The line is "event=E user=".." uid=N seq=S service=.. rhost=.. tty=..
 * reasons=.. actor=.. [msg=..]", seq being the event's line in the audit
 * log ("-" while it is held); see audit.c.
 */
void daemon_audit_emit_msg(struct server *s, const struct audit_event *ev,
			   const char *msg);

/*
 * daemon_audit_refusal - audit a refused request of c's peer
 * (request_refused, uid and pid of the peer). A directory lookup and an
 * fsync: workers only. The caller rate-limits (log_limit_admit).
 */
void daemon_audit_refusal(struct server *s, const struct conn *c);

/*
 * daemon_audit_failure - audit a failed admin action of c's peer (event
 * such as "admin_backup_failed", reasons "error=CODE", what in the line's
 * msg), rate-limited per peer uid by log_limit_admit. Workers only.
 */
void daemon_audit_failure(struct server *s, const struct conn *c, const char *event,
			  const char *user, pp_err rc, const char *what);

/*
 * daemon_log_init - choose where event lines go: the journal when its
 * socket exists, else syslog; copy_to_stderr copies them to stderr when
 * the journal is used (syslog's LOG_PERROR does it otherwise). Before any
 * thread starts.
 */
void daemon_log_init(bool copy_to_stderr);

/* daemon_event_message_id - the journal MESSAGE_ID of event, NULL if none. */
const char *daemon_event_message_id(const char *event);

/* daemon_audit_uid_of - the uid of user for an event, -1 for none or unknown. */
long long daemon_audit_uid_of(const char *user);

/*
 * peer_name - the name of uid into buf (cut to len), or "uid N" when it
 * has none. A directory lookup: workers only.
 */
void peer_name(uid_t uid, char *buf, size_t len);

/* ---- the shadow file (shadow.c) ---- */

struct users_shadow;

/*
 * shadow_lookup - name's entry in the policy's shadow_file, from a copy in
 * memory that is read again only when the file changed (inode, size,
 * mtime). PP_ERR_NOT_FOUND without an entry; PP_ERR_IO (errno set) when
 * the file cannot be read. Thread-safe.
 */
pp_err shadow_lookup(const struct server *s, const char *name,
		     struct users_shadow *out) PP_WUR;

/* shadow_forget - drop the copy (at shutdown). */
void shadow_forget(void);

#endif
