/*
 * server.c - the daemon's start-up and shutdown: state directory, lock,
 * pepper, store, audit log, socket, readiness, then the event loop.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <sodium.h>
#include <systemd/sd-daemon.h>

#include "auditlog.h"
#include "fsutil.h"
#include "paths.h"
#include "secret.h"
#include "store_pg.h"

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(level, fmt, ap);
	va_end(ap);
}

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t now_utc(void)
{
	return (int64_t)time(NULL);
}

/* ---- start-up ---- */

/* The state directory: the one private-directory rule (fsutil.h), made if missing. */
static pp_err state_dir_ready(const struct server *s)
{
	char err[512] = "";
	pp_err rc = fsutil_private_dir(s->policy->state_dir, true, FSUTIL_STATE_DIR_MODE,
				       err, sizeof(err));

	if (rc != PP_OK)
		log_msg(LOG_ERR, "state directory: %s", err[0] ? err : pp_strerror(rc));
	return rc;
}

/*
 * Not fsutil_private_dir: the socket's and the audit log's parents may be
 * shared (root-owned, 0755 or 0750) and are only refused when others could
 * replace what the daemon puts there.
 */
pp_err make_parent(const char *path, mode_t mode)
{
	char dir[PATH_MAX];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return PP_OK;
	*slash = '\0';
	if (mkdir(dir, mode) == 0) {
		/* Our umask is tight; the directory gets exactly the mode asked for. */
		if (chmod(dir, mode) != 0) {
			log_msg(LOG_ERR, "cannot chmod %s: %s", dir, strerror(errno));
			return PP_ERR_IO;
		}
	} else if (errno != EEXIST) {
		log_msg(LOG_ERR, "cannot create %s: %s", dir, strerror(errno));
		return PP_ERR_IO;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		log_msg(LOG_ERR, "%s is not a directory", dir);
		return PP_ERR_IO;
	}
	if ((st.st_mode & 002) || (st.st_uid != 0 && st.st_uid != geteuid())) {
		log_msg(LOG_ERR, "%s is writable by others or owned by another user; "
			"refusing to use it", dir);
		return PP_ERR_IO;
	}
	return PP_OK;
}

/*
 * Bind a listening socket at the configured path into *out, recording the
 * node it made (s->socket_dev/ino). A stale socket there is replaced; a
 * live one (another daemon) or anything else is refused.
 */
static pp_err socket_bind(struct server *s, int *out)
{
	struct sockaddr_un addr;
	struct stat st;
	mode_t old;
	int fd;

	*out = -1;
	if (strlen(s->policy->socket) >= sizeof(addr.sun_path)) {
		log_msg(LOG_ERR, "socket path %s is too long", s->policy->socket);
		return PP_ERR_TOO_LONG;
	}
	if (make_parent(s->policy->socket, 0755) != PP_OK)
		return PP_ERR_IO;
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, s->policy->socket, strlen(s->policy->socket) + 1);
	if (lstat(addr.sun_path, &st) == 0) {
		int probe;
		if (!S_ISSOCK(st.st_mode)) {
			log_msg(LOG_ERR, "%s exists and is not a socket; refusing to replace it",
				addr.sun_path);
			return PP_ERR_IO;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
			close(probe);
			log_msg(LOG_ERR, "another pam_policyd is serving %s", addr.sun_path);
			return PP_ERR_IO;
		}
		if (probe >= 0)
			close(probe);
		unlink(addr.sun_path);       /* stale socket from an earlier run */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return PP_ERR_IO;
	/* Anyone may connect; SO_PEERCRED decides what they may ask. */
	old = umask(0111);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		int e = errno;
		umask(old);
		log_msg(LOG_ERR, "bind %s: %s", addr.sun_path, strerror(e));
		close(fd);
		return PP_ERR_IO;
	}
	umask(old);
	if (listen(fd, 256) != 0 || lstat(addr.sun_path, &st) != 0) {
		close(fd);
		unlink(addr.sun_path);
		return PP_ERR_IO;
	}
	s->socket_dev = st.st_dev;
	s->socket_ino = st.st_ino;
	memcpy(s->socket_path, addr.sun_path, sizeof(s->socket_path));
	*out = fd;
	return PP_OK;
}

static pp_err open_socket(struct server *s)
{
	return socket_bind(s, &s->listen_fd);
}

/* Does socket_path still name the node we bound? */
static bool socket_is_ours(const struct server *s)
{
	struct stat st;

	return lstat(s->socket_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	       st.st_dev == s->socket_dev && st.st_ino == s->socket_ino;
}

void server_socket_check(struct server *s)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->listen_fd };
	int fd;

	s->socket_checked = now_ms();
	if (socket_is_ours(s))
		return;
	log_msg(LOG_WARNING, "%s no longer leads to our socket: making a new one",
		s->socket_path);
	if (socket_bind(s, &fd) != PP_OK)
		return;                      /* logged; the next check tries again */
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		int e = errno;
		log_msg(LOG_ERR, "cannot watch the new socket: %s", strerror(e));
		close(fd);
		return;
	}
	/* Connections already accepted live on; only the old listener goes. */
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->listen_fd, NULL);
	close(s->listen_fd);
	s->listen_fd = fd;
	s->listen_paused = false;
	log_msg(LOG_NOTICE, "serving %s again", s->socket_path);
}

/*
 * The service manager (systemd Type=notify, or a test harness) hears from
 * us through sd_notify on $NOTIFY_SOCKET: READY=1 with a STATUS= once the
 * socket accepts connections, STATUS= when the number of connections
 * has changed (at most once a second: with a connection per PAM call, one
 * datagram per change would load the service manager at every login),
 * WATCHDOG=1 from the event loop when WatchdogSec= is set, and
 * STOPPING=1 when a signal asks us to stop. Without NOTIFY_SOCKET all of
 * it is a no-op.
 */
static void notify_ready(struct server *s)
{
	uint64_t usec = 0;
	int rc;

	if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000)
		s->watchdog_ms = (int64_t)(usec / 1000);
	s->watchdog_sent = now_ms();
	s->status_conns = 0;
	rc = sd_notifyf(0, "READY=1\nSTATUS=serving %s, 0 connections", s->socket_path);
	if (rc < 0)
		log_msg(LOG_WARNING, "cannot notify %s: %s", getenv("NOTIFY_SOCKET"),
			strerror(-rc));
}

#define STATUS_NOTIFY_MS 1000

void server_notify_tick(struct server *s)
{
	int64_t now;

	if (s->watchdog_ms > 0 && (now = now_ms()) - s->watchdog_sent >= s->watchdog_ms / 2) {
		(void)sd_notify(0, "WATCHDOG=1");
		s->watchdog_sent = now;
	}
	if (s->status_conns >= 0 && s->nconns != s->status_conns &&
	    (now = now_ms()) - s->status_sent >= STATUS_NOTIFY_MS) {
		s->status_conns = s->nconns;
		s->status_sent = now;
		(void)sd_notifyf(0, "STATUS=serving %s, %d connection%s", s->socket_path,
				 s->nconns, s->nconns == 1 ? "" : "s");
	}
}

/* One daemon per state directory: a second one would fork the audit chain. */
static pp_err take_lock(struct server *s)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/lock", s->policy->state_dir);
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->lock_fd < 0) {
		log_msg(LOG_ERR, "cannot open %s: %s", path, strerror(errno));
		return PP_ERR_IO;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		log_msg(LOG_ERR, "another pam_policyd is using %s", s->policy->state_dir);
		close(s->lock_fd);
		s->lock_fd = -1;
		return PP_ERR_IO;
	}
	return PP_OK;
}

/* The fleet's name for this host: host_name, else the system's. */
static void host_name_init(struct server *s)
{
	if (s->policy->host_name[0] != '\0') {
		snprintf(s->host_name, sizeof(s->host_name), "%s", s->policy->host_name);
		return;
	}
	if (gethostname(s->host_name, sizeof(s->host_name) - 1) != 0 ||
	    s->host_name[0] == '\0')
		snprintf(s->host_name, sizeof(s->host_name), "localhost");
	s->host_name[sizeof(s->host_name) - 1] = '\0';
}

pp_err server_open_store(struct server *s, struct store **out)
{
	char err[512] = "";
	pp_err rc;

	if (s->policy->store == POLICY_STORE_POSTGRESQL) {
		struct store_pg_config cfg = {
			.conninfo = s->policy->postgresql,
			.passfile = s->policy->postgresql_passfile,
			.host = s->host_name,
			.state_dir = s->policy->state_dir,
			.statement_timeout_ms = s->policy->postgresql_statement_timeout_ms,
		};
		rc = store_open_postgresql(&cfg, out, err, sizeof(err));
	} else if (s->store == NULL) {
		rc = store_open_sqlite(s->policy->state_dir, out, err, sizeof(err));
	} else {
		rc = store_open_sqlite_shared(s->policy->state_dir, out, err, sizeof(err));
	}
	if (rc != PP_OK)
		log_msg(LOG_ERR, "store: %s", err[0] ? err : pp_strerror(rc));
	return rc;
}

static pp_err epoll_watch(struct server *s, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };
	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? PP_OK : PP_ERR_IO;
}

/* Signals arrive on a descriptor; workers report on an eventfd. */
static pp_err open_event_loop(struct server *s)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	s->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	s->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->signal_fd < 0 || s->done_fd < 0 || s->epfd < 0 ||
	    epoll_watch(s, s->listen_fd, &s->listen_fd) != PP_OK ||
	    epoll_watch(s, s->signal_fd, &s->signal_fd) != PP_OK ||
	    epoll_watch(s, s->done_fd, &s->done_fd) != PP_OK) {
		int e = errno;
		log_msg(LOG_ERR, "event loop set-up failed: %s", strerror(e));
		return PP_ERR_IO;
	}
	return PP_OK;
}

/* Secrets in memory: no core dumps, no ptrace by other same-uid processes. */
static void process_harden(void)
{
	struct rlimit none = { 0, 0 }, files;

	umask(077);
	signal(SIGPIPE, SIG_IGN);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)setrlimit(RLIMIT_CORE, &none);
	if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
		files.rlim_cur = files.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &files);
	}
}

/*
 * ---- the pepper, bound to the store ----
 *
 * Every history entry is keyed with the pepper, so a different pepper makes
 * every remembered password silently unmatchable. The store therefore keeps
 * the pepper's check value (hash_pepper_check_value) and the daemon refuses
 * to start when the pepper file is missing or is not the one the store is
 * bound to; only an empty store gets a new pepper by itself. Starting over
 * on purpose is "pam_policyd --new-pepper" (new_pepper below).
 */

/* An audit event about the pepper (never the pepper itself). */
static void audit_pepper(struct server *s, const char *event, const char *reasons,
			 const char *actor)
{
	struct audit_event ev = {
		.event = event, .uid = -1, .service = "pam_policyd",
		.reasons = reasons, .actor = actor,
	};

	daemon_audit_emit(s, &ev);
}

/* The pepper is missing: create one only when the store holds nothing. */
static pp_err create_pepper(struct server *s, const char *path)
{
	char err[PATH_MAX + 128] = "";
	bool holds = true;
	pp_err rc = store_holds_data(s->store, &holds);

	if (rc != PP_OK) {
		log_msg(LOG_ERR, "store: %s", store_errmsg(s->store));
		return rc;
	}
	if (holds && store_is_postgresql(s->store)) {
		log_msg(LOG_ERR, "the pepper file %s is missing, but the fleet's store "
			"(postgresql) holds data made with the fleet's pepper: every host "
			"of a fleet must use the same pepper, so pam_policyd does not "
			"start. Copy the fleet's pepper file from another host to %s "
			"(root, mode 0400) and start again - see FLEET in pam_policyd(8)",
			path, path);
		audit_pepper(s, "pepper_refused", "pepper_missing", NULL);
		return PP_ERR_NOT_FOUND;
	}
	if (holds) {
		log_msg(LOG_ERR, "pepper file %s is missing, but the store in %s holds "
			"data made with a pepper: without that pepper no remembered "
			"password can be matched, so pam_policyd does not start. Restore "
			"the pepper file from your backup (see BACKUP in pam_policyd(8)) "
			"and start again; or, to give up every remembered password, run "
			"\"pam_policyd --new-pepper\"", path, s->policy->state_dir);
		audit_pepper(s, "pepper_refused", "pepper_missing", NULL);
		return PP_ERR_NOT_FOUND;
	}
	hash_pepper_generate(s->pepper);
	rc = hash_pepper_save(path, s->pepper, false, err, sizeof(err));
	if (rc != PP_OK)
		log_msg(LOG_ERR, "pepper: %s", err[0] ? err : pp_strerror(rc));
	return rc;
}

/* The pepper, in locked memory that is read-only once loaded. */
static pp_err load_pepper(struct server *s)
{
	char path[PATH_MAX], err[PATH_MAX + 128] = "";
	uint8_t check[HASH_BYTES];
	enum store_bind bound;
	bool created = false;
	pp_err rc;

	s->pepper = sodium_malloc(HASH_PEPPER_BYTES);
	if (s->pepper == NULL)
		return PP_ERR_NOMEM;
	if (paths_state_file(path, sizeof(path), s->policy->state_dir,
			     PATHS_PEPPER) != PP_OK) {
		log_msg(LOG_ERR, "pepper: state directory path too long");
		return PP_ERR_TOO_LONG;
	}
	rc = hash_pepper_load(path, s->pepper, err, sizeof(err));
	if (rc == PP_ERR_NOT_FOUND) {
		rc = create_pepper(s, path);
		created = rc == PP_OK;
	} else if (rc != PP_OK) {
		log_msg(LOG_ERR, "pepper: %s", err[0] ? err : pp_strerror(rc));
	}
	if (rc != PP_OK)
		return rc;
	rc = hash_pepper_check_value(s->pepper, check);
	if (rc == PP_OK)
		rc = store_meta_bind(s->store, STORE_META_PEPPER_CHECK, check,
				     sizeof(check), &bound);
	pp_wipe(check, sizeof(check));
	if (rc != PP_OK) {
		log_msg(LOG_ERR, "pepper: cannot check it against the store: %s",
			store_errmsg(s->store));
		return rc;
	}
	switch (bound) {
	case STORE_BIND_MATCH:
		break;
	case STORE_BIND_RECORDED:
		log_msg(LOG_INFO, "%s pepper file %s bound to the empty store in %s",
			created ? "new" : "existing", path, s->policy->state_dir);
		break;
	case STORE_BIND_ADOPTED:
		/* A store from before binding: the pepper present is all we know. */
		log_msg(LOG_NOTICE, "pepper file %s adopted: the store in %s was made "
			"by a pam_policyd that did not record its pepper; from now on "
			"pam_policyd refuses to start with any other pepper", path,
			s->policy->state_dir);
		audit_pepper(s, "pepper_adopted", NULL, NULL);
		break;
	case STORE_BIND_MISMATCH:
		if (store_is_postgresql(s->store)) {
			log_msg(LOG_ERR, "the pepper in %s does not match the fleet's store "
				"(postgresql): every host of a fleet must use the same "
				"pepper, or no password recorded on one host would be "
				"recognised on another. Copy the fleet's pepper file from a "
				"host that runs to %s (root, mode 0400) and start again - "
				"see FLEET in pam_policyd(8)", path, path);
			audit_pepper(s, "pepper_refused", "pepper_mismatch_fleet", NULL);
			return PP_ERR_INVALID;
		}
		log_msg(LOG_ERR, "pepper file %s is not the pepper the store in %s is "
			"bound to (its check value differs): with it no remembered "
			"password would match, so pam_policyd does not start. Put the "
			"right pepper file back from your backup (see BACKUP in "
			"pam_policyd(8)); or, to give up every remembered password, run "
			"\"pam_policyd --new-pepper\"", path, s->policy->state_dir);
		audit_pepper(s, "pepper_refused", "pepper_mismatch", NULL);
		return PP_ERR_INVALID;
	}
	sodium_mprotect_readonly(s->pepper);
	return PP_OK;
}

/*
 * pam_policyd --new-pepper: start over with a new pepper, on purpose.
 * Every remembered password was hashed with the old pepper and can never
 * match again, so the history is forgotten in the same transaction that
 * binds the new pepper's check value; then the new file replaces the old
 * one. A crash between the two leaves a store bound to a pepper that is not
 * on disk: the daemon refuses to start and --new-pepper, run again,
 * finishes the job. Aging state (last change, forced-change flags) does
 * not depend on the pepper and is kept.
 */
static pp_err new_pepper(struct server *s)
{
	char path[PATH_MAX], err[PATH_MAX + 128] = "", actor[PP_NAME_MAX + 1];
	uint8_t check[HASH_BYTES];
	struct store_forgotten gone = { 0, 0 };
	pp_err rc;

	s->pepper = sodium_malloc(HASH_PEPPER_BYTES);
	if (s->pepper == NULL)
		return PP_ERR_NOMEM;
	if (paths_state_file(path, sizeof(path), s->policy->state_dir,
			     PATHS_PEPPER) != PP_OK) {
		log_msg(LOG_ERR, "pepper: state directory path too long");
		return PP_ERR_TOO_LONG;
	}
	hash_pepper_generate(s->pepper);
	rc = hash_pepper_check_value(s->pepper, check);
	if (rc == PP_OK)
		rc = store_history_forget_all(s->store, STORE_META_PEPPER_CHECK, check,
					      sizeof(check), &gone);
	pp_wipe(check, sizeof(check));
	if (rc != PP_OK) {
		log_msg(LOG_ERR, "new pepper: nothing was changed: %s",
			store_errmsg(s->store));
		return rc;
	}
	peer_name(getuid(), actor, sizeof(actor));
	audit_pepper(s, "pepper_replaced", "history_forgotten", actor);
	rc = hash_pepper_save(path, s->pepper, true, err, sizeof(err));
	if (rc != PP_OK) {
		log_msg(LOG_ERR, "new pepper: the password history was forgotten, but "
			"%s; fix that and run \"pam_policyd --new-pepper\" again", err);
		return rc;
	}
	log_msg(LOG_WARNING, "new pepper written to %s. Every remembered password "
		"was hashed with the old pepper and could never match again, so the "
		"history is forgotten: %zu password(s) of %zu user(s); they may be "
		"used again. Rotation state is kept. Back up the new pepper now (see "
		"BACKUP in pam_policyd(8)); store backups made before now need the "
		"old one", path, gone.entries, gone.users);
	return PP_OK;
}

pp_err server_run(const struct server_options *opt)
{
	struct server *s;
	pp_err rc = PP_ERR_INTERNAL;
	bool to_stderr;

	/*
	 * Under systemd, stderr already goes to the journal: log once. An
	 * admin running --new-pepper reads the outcome on stderr.
	 */
	to_stderr = opt->new_pepper || (opt->foreground && getenv("JOURNAL_STREAM") == NULL);

	openlog("pam_policyd", LOG_PID | (to_stderr ? LOG_PERROR : 0), LOG_AUTHPRIV);
	daemon_log_init(to_stderr);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return PP_ERR_NOMEM;
	s->policy = opt->policy;
	s->epfd = s->listen_fd = s->signal_fd = s->done_fd = -1;
	pthread_mutex_init(&s->audit_lock, NULL);
	pthread_mutex_init(&s->done_lock, NULL);
	pthread_mutex_init(&s->log_lock, NULL);
	queue_init(&s->hash_queue);
	queue_init(&s->writer_queue);
	queue_init(&s->self_queue);
	queue_init(&s->report_queue);
	s->lock_fd = -1;
	s->status_conns = -1;
	process_harden();

	if (hash_init() != PP_OK) {
		log_msg(LOG_ERR, "libsodium failed to initialise");
		rc = PP_ERR_CRYPTO;
		goto out;
	}
	rc = state_dir_ready(s);
	if (rc != PP_OK)
		goto out;
	rc = take_lock(s);
	if (rc != PP_OK) {
		if (opt->new_pepper)
			log_msg(LOG_ERR, "stop pam_policyd before giving it a new pepper");
		goto out;
	}
	host_name_init(s);
	s->params.opslimit = s->policy->argon2_opslimit;
	s->params.memlimit = (size_t)s->policy->argon2_memlimit_kib * 1024;
	rc = server_open_store(s, &s->store);
	if (rc != PP_OK)
		goto out;
	rc = daemon_audit_open(s);
	if (rc != PP_OK)
		goto out;
	/* The pepper is checked against the store, and refusals are audited. */
	if (opt->new_pepper) {
		rc = new_pepper(s);
		goto out;
	}
	rc = load_pepper(s);
	if (rc != PP_OK)
		goto out;
	rc = open_socket(s);
	if (rc != PP_OK)
		goto out;

	rc = open_event_loop(s);
	if (rc != PP_OK)
		goto out;
	rc = workers_start(s);
	if (rc != PP_OK)
		goto out;
	/* After open_event_loop: the thread inherits the blocked signals. */
	if (store_is_postgresql(s->store) && (rc = store_pg_start(s->store)) != PP_OK) {
		log_msg(LOG_ERR, "cannot start the fleet replication thread");
		goto out;
	}

	log_msg(LOG_INFO, "pam_policyd %s serving %s (state %s, store %s, host %s, "
		"%d hashing worker(s))", PAM_POLICY_VERSION, s->socket_path,
		s->policy->state_dir, store_backend_name(s->store), s->host_name, s->nhash);
	daemon_audit_simple(s, "daemon_start", NULL, NULL, NULL);
	notify_ready(s);
	if (opt->ready_fd >= 0) {
		if (write(opt->ready_fd, "1", 1) != 1)
			log_msg(LOG_WARNING, "cannot tell the parent we are ready");
		close(opt->ready_fd);
	}
	event_loop(s);
	(void)sd_notify(0, s->failed ? "STOPPING=1\nSTATUS=event loop failed, stopping"
				   : "STOPPING=1\nSTATUS=stopping");
	daemon_audit_simple(s, "daemon_stop", NULL, NULL, NULL);
	rc = s->failed ? PP_ERR_IO : PP_OK;
out:
	workers_stop(s);
	conns_close_all(s);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		if (socket_is_ours(s))       /* never another daemon's socket */
			unlink(s->socket_path);
	}
	if (s->signal_fd >= 0)
		close(s->signal_fd);
	if (s->done_fd >= 0)
		close(s->done_fd);
	if (s->epfd >= 0)
		close(s->epfd);
	daemon_audit_close(s);
	shadow_forget();
	if (s->store)
		store_close(s->store);
	if (s->pepper)
		sodium_free(s->pepper);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s);
	closelog();
	return rc;
}
