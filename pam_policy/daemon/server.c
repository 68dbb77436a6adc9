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

#include "fsutil.h"

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

static pp_err open_socket(struct server *s)
{
	struct sockaddr_un addr;
	struct stat st;
	mode_t old;
	int fd;

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
	if (listen(fd, 256) != 0) {
		close(fd);
		return PP_ERR_IO;
	}
	s->listen_fd = fd;
	memcpy(s->socket_path, addr.sun_path, sizeof(s->socket_path));
	return PP_OK;
}

/*
 * Tell a service manager (systemd Type=notify, or a test harness) that the
 * socket is ready, by the NOTIFY_SOCKET convention: one "READY=1" datagram.
 */
static void notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr;
	socklen_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(addr.sun_path))
		return;
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, strlen(path));
	if (path[0] == '@')
		addr.sun_path[0] = '\0';       /* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&addr, len) < 0)
		log_msg(LOG_WARNING, "cannot notify %s: %s", path, strerror(errno));
	close(fd);
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

pp_err server_open_store(struct server *s, struct store **out)
{
	char err[512] = "";
	pp_err rc = s->store == NULL
			    ? store_open_sqlite(s->policy->state_dir, out, err, sizeof(err))
			    : store_open_sqlite_shared(s->policy->state_dir, out, err,
						       sizeof(err));

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

/* The pepper, in locked memory that is read-only once loaded. */
static pp_err load_pepper(struct server *s)
{
	char path[PATH_MAX], err[512] = "";
	pp_err rc;

	s->pepper = sodium_malloc(HASH_PEPPER_BYTES);
	if (s->pepper == NULL)
		return PP_ERR_NOMEM;
	snprintf(path, sizeof(path), "%s/pepper", s->policy->state_dir);
	rc = hash_pepper_load_or_create(path, s->pepper, err, sizeof(err));
	if (rc != PP_OK) {
		log_msg(LOG_ERR, "pepper: %s", err[0] ? err : pp_strerror(rc));
		return rc;
	}
	sodium_mprotect_readonly(s->pepper);
	return PP_OK;
}

pp_err server_run(const struct server_options *opt)
{
	struct server *s;
	pp_err rc = PP_ERR_INTERNAL;

	/* Under systemd, stderr already goes to the journal: log once. */
	openlog("pam_policyd",
		LOG_PID | (opt->foreground && getenv("JOURNAL_STREAM") == NULL ? LOG_PERROR : 0),
		LOG_AUTHPRIV);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return PP_ERR_NOMEM;
	s->policy = opt->policy;
	s->epfd = s->listen_fd = s->signal_fd = s->done_fd = -1;
	pthread_mutex_init(&s->audit_lock, NULL);
	pthread_mutex_init(&s->done_lock, NULL);
	queue_init(&s->hash_queue);
	queue_init(&s->writer_queue);
	s->lock_fd = -1;
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
	if (rc != PP_OK)
		goto out;
	rc = load_pepper(s);
	if (rc != PP_OK)
		goto out;
	s->params.opslimit = s->policy->argon2_opslimit;
	s->params.memlimit = (size_t)s->policy->argon2_memlimit_kib * 1024;
	rc = server_open_store(s, &s->store);
	if (rc != PP_OK)
		goto out;
	rc = daemon_audit_open(s);
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

	log_msg(LOG_INFO, "pam_policyd %s serving %s (state %s, %d hashing worker(s))",
		PAM_POLICY_VERSION, s->socket_path, s->policy->state_dir, s->nhash);
	daemon_audit_simple(s, "daemon_start", NULL, NULL, NULL);
	notify_ready();
	if (opt->ready_fd >= 0) {
		if (write(opt->ready_fd, "1", 1) != 1)
			log_msg(LOG_WARNING, "cannot tell the parent we are ready");
		close(opt->ready_fd);
	}
	event_loop(s);
	daemon_audit_simple(s, "daemon_stop", NULL, NULL, NULL);
	rc = s->failed ? PP_ERR_IO : PP_OK;
out:
	workers_stop(s);
	conns_close_all(s);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->socket_path);
	}
	if (s->signal_fd >= 0)
		close(s->signal_fd);
	if (s->done_fd >= 0)
		close(s->done_fd);
	if (s->epfd >= 0)
		close(s->epfd);
	daemon_audit_close(s);
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
