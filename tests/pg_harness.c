/*
 * pg_harness.c - a real PostgreSQL server for one test or one benchmark.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "pg_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The uid and gid the server runs as when we are root, if NSS has no nobody. */
#define PG_NOBODY_ID 65534
/* pg_ctl -w gives up after this many seconds (a loaded machine is slow). */
#define PG_CTL_WAIT_SECONDS "120"
/* How much of the server's log a failure prints. */
#define PG_LOG_TAIL 4000

static const char pg_bindir_glob[] = "/usr/lib/postgresql/*/bin/postgres";

/* The major version in ".../postgresql/15/bin/postgres", 0 if none. */
static long bindir_version(const char *path)
{
	const char *p = strstr(path, "/postgresql/");

	return p != NULL ? strtol(p + strlen("/postgresql/"), NULL, 10) : 0;
}

/* The directory holding postgres, initdb, pg_ctl and psql, or false. */
static bool find_bindir(char *buf, size_t len)
{
	const char *env = getenv("PAM_POLICY_TEST_PG_BINDIR");
	char probe[4200];
	glob_t g;
	long best = -1;

	if (env != NULL && env[0] != '\0') {
		snprintf(probe, sizeof(probe), "%s/postgres", env);
		if (access(probe, X_OK) != 0)
			return false;
		snprintf(buf, len, "%s", env);
		return true;
	}
	if (glob(pg_bindir_glob, 0, NULL, &g) != 0)
		return false;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *path = g.gl_pathv[i];
		long v = bindir_version(path);
		char dir[4096];

		snprintf(dir, sizeof(dir), "%s", path);
		*strrchr(dir, '/') = '\0';
		snprintf(probe, sizeof(probe), "%s/initdb", dir);
		if (v <= best || access(path, X_OK) != 0 || access(probe, X_OK) != 0)
			continue;
		snprintf(probe, sizeof(probe), "%s/psql", dir);
		if (access(probe, X_OK) != 0)
			continue;
		best = v;
		snprintf(buf, len, "%s", dir);
	}
	globfree(&g);
	return best >= 0;
}

const char *harness_pg_unavailable(void)
{
	char dir[4096];

	if (!find_bindir(dir, sizeof(dir)))
		return getenv("PAM_POLICY_TEST_PG_BINDIR") != NULL
		       ? "PostgreSQL server binaries (postgres, initdb, psql) not found "
			 "in $PAM_POLICY_TEST_PG_BINDIR"
		       : "PostgreSQL server binaries (postgres, initdb, psql) not found "
			 "under /usr/lib/postgresql/VERSION/bin (make deps installs postgresql)";
	return NULL;
}

/* Who runs the server: nobody when we are root, ourselves otherwise. */
static void server_user(struct harness_pg *pg)
{
	const struct passwd *pw;
	const struct group *gr;

	if (geteuid() != 0) {
		pg->uid = geteuid();
		pg->gid = getegid();
		return;
	}
	pw = getpwnam("nobody");
	gr = getgrnam("nogroup");
	pg->uid = pw != NULL ? pw->pw_uid : PG_NOBODY_ID;
	pg->gid = gr != NULL ? gr->gr_gid : pw != NULL ? pw->pw_gid : PG_NOBODY_ID;
}

/*
 * In a child about to exec a server program: become the server's user,
 * leave the test's preloads behind (nss_wrapper's users are the test's,
 * not the server's) and send output to log (or keep ours when NULL).
 */
static void child_become_server(const struct harness_pg *pg, const char *log)
{
	if (log != NULL) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(126);
	}
	if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setgid(pg->gid) != 0 ||
			       setuid(pg->uid) != 0))
		_exit(126);
	unsetenv("LD_PRELOAD");
	unsetenv("NSS_WRAPPER_PASSWD");
	unsetenv("NSS_WRAPPER_GROUP");
	/* Our own server only: ignore a PGHOST or PGDATA of the caller. */
	unsetenv("PGHOST");
	unsetenv("PGDATA");
	unsetenv("PGPORT");
	if (chdir(pg->dir) != 0)
		_exit(126);
}

/*
 * Run bindir/prog with argv as the server's user, output appended to the
 * cluster's command log; returns its exit status (-1: not run).
 */
static int run_server_program(const struct harness_pg *pg, char *const argv[])
{
	char path[4200], log[200];
	int status;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", pg->bindir, argv[0]);
	snprintf(log, sizeof(log), "%s/commands.log", pg->dir);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		child_become_server(pg, log);
		/* The postmaster outlives us: it must hold none of our descriptors. */
		close_range(3, ~0U, 0);
		execv(path, argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void print_tail(const char *path)
{
	char buf[PG_LOG_TAIL + 1];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t size;
	ssize_t got;

	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (size > PG_LOG_TAIL)
		lseek(fd, size - PG_LOG_TAIL, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	got = read(fd, buf, PG_LOG_TAIL);
	close(fd);
	if (got > 0) {
		buf[got] = '\0';
		fprintf(stderr, "--- %s (end)\n%s\n---\n", path, buf);
	}
}

static void print_logs(const struct harness_pg *pg)
{
	char log[200];

	snprintf(log, sizeof(log), "%s/commands.log", pg->dir);
	print_tail(log);
	print_tail(pg->log);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

static void remove_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void pg_ctl_stop(const struct harness_pg *pg, const char *mode)
{
	char data[200], m[16];
	char *argv[] = { "pg_ctl", "stop", "-D", data, "-m", m, "-w",
			 "-t", PG_CTL_WAIT_SECONDS, "-s", NULL };

	snprintf(data, sizeof(data), "%s", pg->data);
	snprintf(m, sizeof(m), "%s", mode);
	(void)run_server_program(pg, argv);
}

/*
 * The guardian: in its own session, it waits for the end of its pipe
 * (the test process closed it or is gone), then stops a server still
 * running on the cluster and removes the directory.
 */
static void guardian_main(const struct harness_pg *pg, int fd)
{
	char byte, pidfile[200];
	struct stat st;

	setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		ssize_t got = read(fd, &byte, 1);

		if (got == 0 || (got < 0 && errno != EINTR))
			break;
	}
	snprintf(pidfile, sizeof(pidfile), "%s/postmaster.pid", pg->data);
	if (stat(pidfile, &st) == 0)
		pg_ctl_stop(pg, "immediate");
	remove_tree(pg->dir);
	_exit(0);
}

static bool start_guardian(struct harness_pg *pg)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		return false;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return false;
	}
	if (pid == 0) {
		close(p[1]);
		/* Hold no one else's descriptor open (sockets, pipes of the test). */
		if (dup2(p[0], 3) < 0)
			_exit(1);
		close_range(4, ~0U, 0);
		guardian_main(pg, 3);
	}
	close(p[0]);
	pg->guardian = pid;
	pg->guard_fd = p[1];
	return true;
}

/* postgresql.conf lines of a test cluster, then the caller's settings. */
static bool write_settings(const struct harness_pg *pg, const char *settings)
{
	char path[200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/postgresql.conf", pg->data);
	f = fopen(path, "a");
	if (f == NULL)
		return false;
	fprintf(f, "\n# pam_policy test cluster\n"
		"listen_addresses = ''\n"
		"unix_socket_directories = '%s'\n"
		"port = %d\n"
		"fsync = off\n"
		"shared_buffers = 16MB\n"
		"max_connections = 200\n"
		"log_min_messages = warning\n"
		"%s\n", pg->dir, HARNESS_PG_PORT, settings != NULL ? settings : "");
	return fclose(f) == 0;
}

bool harness_pg_start(struct harness_pg *pg)
{
	char data[200], log[200];
	char *argv[] = { "pg_ctl", "start", "-D", data, "-l", log, "-w",
			 "-t", PG_CTL_WAIT_SECONDS, "-s", NULL };
	int rc;

	snprintf(data, sizeof(data), "%s", pg->data);
	snprintf(log, sizeof(log), "%s", pg->log);
	rc = run_server_program(pg, argv);
	if (rc != 0) {
		fprintf(stderr, "pg_harness: pg_ctl start failed (exit %d)\n", rc);
		print_logs(pg);
		return false;
	}
	pg->running = true;
	return true;
}

bool harness_pg_stop(struct harness_pg *pg, bool immediate)
{
	char data[200];
	char *argv[] = { "pg_ctl", "stop", "-D", data, "-m",
			 immediate ? "immediate" : "fast", "-w",
			 "-t", PG_CTL_WAIT_SECONDS, "-s", NULL };
	int rc;

	snprintf(data, sizeof(data), "%s", pg->data);
	rc = run_server_program(pg, argv);
	if (rc != 0) {
		fprintf(stderr, "pg_harness: pg_ctl stop failed (exit %d)\n", rc);
		print_logs(pg);
		return false;
	}
	pg->running = false;
	return true;
}

static bool init_cluster(struct harness_pg *pg)
{
	char data[200];
	char *argv[] = { "initdb", "-D", data, "-U", HARNESS_PG_OWNER, "-A", "trust",
			 "-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions",
			 NULL };
	int rc;

	snprintf(data, sizeof(data), "%s", pg->data);
	rc = run_server_program(pg, argv);
	if (rc != 0) {
		fprintf(stderr, "pg_harness: initdb failed (exit %d)\n", rc);
		print_logs(pg);
		return false;
	}
	return true;
}

bool harness_pg_create(struct harness_pg *pg, const char *settings)
{
	const char *why = harness_pg_unavailable();

	memset(pg, 0, sizeof(*pg));
	pg->guard_fd = -1;
	if (why != NULL) {
		fprintf(stderr, "pg_harness: %s\n", why);
		return false;
	}
	(void)find_bindir(pg->bindir, sizeof(pg->bindir));
	server_user(pg);
	/* /tmp itself: $TMPDIR may be a directory the server's user cannot enter. */
	snprintf(pg->dir, sizeof(pg->dir), "/tmp/pp-pg.XXXXXX");
	if (mkdtemp(pg->dir) == NULL) {
		fprintf(stderr, "pg_harness: mkdtemp %s: %s\n", pg->dir, strerror(errno));
		pg->dir[0] = '\0';
		return false;
	}
	snprintf(pg->data, sizeof(pg->data), "%s/data", pg->dir);
	snprintf(pg->log, sizeof(pg->log), "%s/server.log", pg->dir);
	if (!start_guardian(pg)) {
		fprintf(stderr, "pg_harness: guardian: %s\n", strerror(errno));
		remove_tree(pg->dir);
		pg->dir[0] = '\0';
		return false;
	}
	/* Every client may reach the socket; the data dir stays 0700. */
	if (chmod(pg->dir, 0755) != 0 || chown(pg->dir, pg->uid, pg->gid) != 0) {
		fprintf(stderr, "pg_harness: %s: %s\n", pg->dir, strerror(errno));
		harness_pg_destroy(pg);
		return false;
	}
	if (!init_cluster(pg) || !write_settings(pg, settings) || !harness_pg_start(pg) ||
	    harness_pg_sql(pg, "postgres", "CREATE ROLE " HARNESS_PG_HOST_ROLE " LOGIN",
			   NULL, 0) != 0 ||
	    harness_pg_sql(pg, "postgres", "CREATE DATABASE " HARNESS_PG_DB
			   " OWNER " HARNESS_PG_OWNER, NULL, 0) != 0 ||
	    harness_pg_sql(pg, NULL, "REVOKE ALL ON SCHEMA public FROM PUBLIC;\n"
			   "GRANT USAGE ON SCHEMA public TO " HARNESS_PG_HOST_ROLE ";",
			   NULL, 0) != 0) {
		fprintf(stderr, "pg_harness: the test cluster in %s did not come up\n", pg->dir);
		harness_pg_destroy(pg);
		return false;
	}
	return true;
}

void harness_pg_destroy(struct harness_pg *pg)
{
	int status;

	if (pg->guardian <= 0)
		return;
	/* The guardian stops the server and removes the directory. */
	close(pg->guard_fd);
	pg->guard_fd = -1;
	while (waitpid(pg->guardian, &status, 0) < 0 && errno == EINTR)
		;
	pg->guardian = 0;
	pg->running = false;
}

char *harness_pg_conninfo(const struct harness_pg *pg, const char *user,
			  char *buf, size_t len)
{
	snprintf(buf, len, "host=%s port=%d dbname=%s user=%s", pg->dir, HARNESS_PG_PORT,
		 HARNESS_PG_DB, user != NULL ? user : HARNESS_PG_HOST_ROLE);
	return buf;
}

int harness_pg_sql(const struct harness_pg *pg, const char *db, const char *sql,
		   char *out, size_t len)
{
	char psql[4200], port[16];
	int p[2], status;
	size_t used = 0;
	pid_t pid;

	snprintf(psql, sizeof(psql), "%s/psql", pg->bindir);
	snprintf(port, sizeof(port), "%d", HARNESS_PG_PORT);
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		dup2(p[1], STDOUT_FILENO);
		unsetenv("LD_PRELOAD");
		unsetenv("PGPASSFILE");
		execl(psql, "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		      "-h", pg->dir, "-p", port, "-U", HARNESS_PG_OWNER,
		      "-d", db != NULL ? db : HARNESS_PG_DB, "-c", sql, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		char buf[4096];
		ssize_t got = read(p[0], buf, sizeof(buf));

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (out != NULL && len > 0) {
			size_t room = len - 1 - used;
			size_t take = (size_t)got < room ? (size_t)got : room;

			memcpy(out + used, buf, take);
			used += take;
		}
	}
	close(p[0]);
	if (out != NULL && len > 0) {
		while (used > 0 && out[used - 1] == '\n')
			used--;
		out[used] = '\0';
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
