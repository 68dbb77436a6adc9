/*
 * harness.c - shared helpers for the Check test programs.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

static void harness_die(const char *what)
{
	fprintf(stderr, "harness: %s: %s\n", what, strerror(errno));
	abort();
}

static void log_append(struct harness_conv *c, char kind, const char *text)
{
	size_t used = strlen(c->log);
	if (used + 4 >= sizeof(c->log))
		return;
	snprintf(c->log + used, sizeof(c->log) - used, "%c: %s\n", kind,
		 text ? text : "");
}

int harness_conv_function(int n, const struct pam_message **msg,
			  struct pam_response **resp, void *appdata)
{
	struct harness_conv *c = appdata;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			c->prompts++;
			log_append(c, 'P', msg[i]->msg);
			if (c->next >= c->n_answers) {
				for (int j = 0; j < i; j++)
					free(r[j].resp);
				free(r);
				return PAM_CONV_ERR;
			}
			r[i].resp = strdup(c->answers[c->next++]);
			break;
		case PAM_ERROR_MSG:
			c->errors++;
			log_append(c, 'E', msg[i]->msg);
			break;
		case PAM_TEXT_INFO:
			c->infos++;
			log_append(c, 'I', msg[i]->msg);
			break;
		default:
			break;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

void harness_conv_init(struct harness_conv *c, const char *const *answers)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; answers && answers[i] && i < HARNESS_MAX_ANSWERS; i++)
		c->answers[c->n_answers++] = answers[i];
}

void harness_skip(const char *test, const char *why)
{
	const char *path = getenv("PAM_POLICY_TEST_SKIPS");
	size_t len = strlen(test);
	char line[1024];
	int fd, n;

	/* START_TEST(name) defines name_fn: report the name the file uses. */
	if (len > 3 && strcmp(test + len - 3, "_fn") == 0)
		len -= 3;
	n = snprintf(line, sizeof(line), "%.*s: %s\n", (int)len, test, why);
	if (path == NULL || n < 0)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		harness_die(path);
	if (write(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
		harness_die(path);
	close(fd);
}

const char *harness_build(const char *name)
{
	/* Several results may be used in one printf: rotate the buffers. */
	static __thread char bufs[4][4096];
	static __thread unsigned next;
	char *buf = bufs[next++ % 4];
	const char *b = getenv("PAM_POLICY_TEST_BUILD");
	snprintf(buf, sizeof(bufs[0]), "%s/%s", b ? b : "build", name);
	return buf;
}

const char *harness_top(void)
{
	const char *t = getenv("PAM_POLICY_TEST_TOP");
	return t ? t : ".";
}

void harness_tmpdir(char *buf, size_t len)
{
	const char *t = getenv("TMPDIR");
	snprintf(buf, len, "%s/pp.XXXXXX", t ? t : "/tmp");
	if (mkdtemp(buf) == NULL)
		harness_die("mkdtemp");
}

void harness_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		harness_die(path);
	fputs(text, f);
	if (fclose(f) != 0)
		harness_die(path);
}

char *harness_read(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, used = 0;
	char *s = malloc(cap);
	size_t got;
	while (s && (got = fread(s + used, 1, cap - used - 1, f)) > 0) {
		used += got;
		if (cap - used < 2) {
			char *bigger = realloc(s, cap * 2);
			if (bigger == NULL) {
				free(s);
				s = NULL;
				break;
			}
			s = bigger;
			cap *= 2;
		}
	}
	fclose(f);
	if (s)
		s[used] = '\0';
	return s;
}

void harness_ctl_run(struct harness_run *r, const char *dir, const char *input,
		     size_t len, const char *const *args)
{
	char in_path[4300], out_path[4300], err_path[4300];
	const char *argv[40];
	int n = 0, status, fd;
	pid_t pid;

	snprintf(in_path, sizeof(in_path), "%s/ctl.in", dir);
	snprintf(out_path, sizeof(out_path), "%s/ctl.out", dir);
	snprintf(err_path, sizeof(err_path), "%s/ctl.err", dir);
	fd = open(in_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (input != NULL && write(fd, input, len) != (ssize_t)len))
		harness_die("cannot write the input of pam_policyctl");
	close(fd);
	argv[n++] = "pam_policyctl";
	for (int i = 0; args != NULL && args[i] != NULL; i++) {
		if (n >= (int)(sizeof(argv) / sizeof(argv[0])) - 1)
			harness_die("harness_ctl_run: too many arguments");
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		harness_die("fork");
	if (pid == 0) {
		int fi = open(in_path, O_RDONLY);
		int fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fi < 0 || fo < 0 || fe < 0 || dup2(fi, 0) < 0 || dup2(fo, 1) < 0 ||
		    dup2(fe, 2) < 0)
			_exit(126);
		execv(harness_build("pam_policyctl"), (char *const *)argv);
		fprintf(stderr, "exec: %s\n", strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			harness_die("waitpid");
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->out = harness_read(out_path);
	r->err = harness_read(err_path);
	if (r->out == NULL || r->err == NULL)
		harness_die("cannot read the output of pam_policyctl");
	unlink(in_path);
}

void harness_run_free(struct harness_run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

void harness_rmtree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

bool harness_is_root(void)
{
	return geteuid() == 0;
}

const char *harness_pam_module(const char *name)
{
	static __thread char bufs[4][4096];
	static __thread unsigned next;
	char *buf = bufs[next++ % 4];
	const char *dir = getenv("PAM_POLICY_TEST_SECUREDIR");

	if (dir != NULL && dir[0] != '\0')
		snprintf(buf, sizeof(bufs[0]), "%s/%s", dir, name);
	else
		snprintf(buf, sizeof(bufs[0]), "%s", name);
	return buf;
}

const char *harness_faketime_lib(void)
{
	const char *lib = getenv("PAM_POLICY_TEST_FAKETIME");

	return lib != NULL && lib[0] != '\0' ? lib : NULL;
}

/* " config=<path>", or "" without one. */
static void stack_config(FILE *f, const char *config)
{
	if (config != NULL)
		fprintf(f, " config=%s", config);
}

static const char *or_empty(const char *s)
{
	return s != NULL ? s : "";
}

void harness_stack_write(const char *dir, const char *service,
			 const struct harness_stack *spec)
{
	char path[4300], module[4096], writer[4096];
	FILE *f;

	/* harness_build rotates its buffers: keep our own copies. */
	snprintf(module, sizeof(module), "%s", harness_build("pam_policy.so"));
	snprintf(writer, sizeof(writer), "%s", harness_build("tests/pam_test_writer.so"));
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, service) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		harness_die(service);
	}
	f = fopen(path, "w");
	if (f == NULL)
		harness_die(path);
	if (spec->auth_args != NULL)
		fprintf(f, "auth required %s %s\n", writer, spec->auth_args);
	if (spec->account) {
		fprintf(f, "account required %s", module);
		stack_config(f, spec->config);
		fprintf(f, " %s\n", or_empty(spec->account_args));
	}
	fputs(or_empty(spec->after_account), f);
	if (spec->writer_before != NULL)
		fprintf(f, "password required %s %s\n", writer, spec->writer_before);
	fprintf(f, "password requisite %s", module);
	stack_config(f, spec->config);
	fprintf(f, " %s\n", or_empty(spec->check_args));
	fprintf(f, "password required %s file=%s\n", writer, or_empty(spec->writer_file));
	if (spec->record) {
		fprintf(f, "password optional %s", module);
		stack_config(f, spec->config);
		fputs(" record\n", f);
	}
	if (fclose(f) != 0)
		harness_die(path);
}

static int harness_pam_call(const char *confdir, const char *service,
			    const char *user, int flags,
			    struct harness_conv *conv, bool chauthtok,
			    const struct harness_login *login)
{
	struct pam_conv pc = { harness_conv_function, conv };
	pam_handle_t *pamh = NULL;
	int rc = pam_start_confdir(service, user, &pc, confdir, &pamh);
	if (rc != PAM_SUCCESS)
		return rc;
	if (login != NULL) {
		if (login->rhost != NULL)
			rc = pam_set_item(pamh, PAM_RHOST, login->rhost);
		if (rc == PAM_SUCCESS && login->tty != NULL)
			rc = pam_set_item(pamh, PAM_TTY, login->tty);
		if (rc == PAM_SUCCESS && login->env != NULL)
			rc = pam_putenv(pamh, login->env);
		if (rc == PAM_SUCCESS && login->authenticate)
			rc = pam_authenticate(pamh, 0);
		if (rc != PAM_SUCCESS) {
			pam_end(pamh, rc);
			return rc;
		}
	}
	rc = chauthtok ? pam_chauthtok(pamh, flags) : pam_acct_mgmt(pamh, flags);
	pam_end(pamh, rc);
	return rc;
}

int harness_pam_chauthtok(const char *confdir, const char *service,
			  const char *user, int flags,
			  struct harness_conv *conv)
{
	return harness_pam_call(confdir, service, user, flags, conv, true, NULL);
}

int harness_pam_acct_mgmt(const char *confdir, const char *service,
			  const char *user, int flags,
			  struct harness_conv *conv)
{
	return harness_pam_call(confdir, service, user, flags, conv, false, NULL);
}

int harness_pam_chauthtok_with(const char *confdir, const char *service,
			       const char *user, int flags,
			       const struct harness_login *login,
			       struct harness_conv *conv)
{
	return harness_pam_call(confdir, service, user, flags, conv, true, login);
}

int harness_pam_acct_mgmt_with(const char *confdir, const char *service,
			       const char *user, int flags,
			       const struct harness_login *login,
			       struct harness_conv *conv)
{
	return harness_pam_call(confdir, service, user, flags, conv, false, login);
}

void harness_daemon_set_clock(struct harness_daemon *d, const char *spec)
{
	char tmp[4300];

	/* Replace atomically: the daemon re-reads the file at every clock call. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->clock);
	harness_write(tmp, spec);
	if (rename(tmp, d->clock) != 0)
		harness_die("rename clock file");
}

bool harness_daemon_start(struct harness_daemon *d, const char *dir,
			  const char *extra_config, bool fake_time)
{
	char text[16384], ready_path[4300], buf[64];
	struct sockaddr_un addr;
	struct pollfd pfd;
	int ready;
	pid_t pid;

	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "%s", dir);
	snprintf(d->config, sizeof(d->config), "%s/daemon.conf", dir);
	snprintf(d->socket, sizeof(d->socket), "%s/run/pd.sock", dir);
	snprintf(d->state, sizeof(d->state), "%s/state", dir);
	snprintf(d->audit, sizeof(d->audit), "%s/log/audit.log", dir);
	if (fake_time) {
		snprintf(d->clock, sizeof(d->clock), "%s/clock", dir);
		harness_daemon_set_clock(d, "+0d");
	}
	snprintf(text, sizeof(text),
		 "socket = %s\nstate_dir = %s\naudit_log = %s\n"
		 "shadow_file = %s/shadow\n"
		 "argon2_opslimit = 1\nargon2_memlimit_kib = 8192\n%s",
		 d->socket, d->state, d->audit, dir, extra_config ? extra_config : "");
	harness_write(d->config, text);

	snprintf(ready_path, sizeof(ready_path), "%s/ready.sock", dir);
	unlink(ready_path);
	ready = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	if (strlen(ready_path) >= sizeof(addr.sun_path))
		harness_die("ready socket path too long");
	memcpy(addr.sun_path, ready_path, strlen(ready_path) + 1);
	if (ready < 0 || bind(ready, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		harness_die("ready socket");

	if (fake_time && harness_faketime_lib() == NULL) {
		fprintf(stderr, "harness: libfaketimeMT.so.1 not found "
			"(PAM_POLICY_TEST_FAKETIME unset; run through tests/run-tests.sh)\n");
		close(ready);
		return false;
	}
	pid = fork();
	if (pid < 0)
		harness_die("fork");
	if (pid == 0) {
		char preload[8192];
		const char *old = getenv("LD_PRELOAD");
		setenv("NOTIFY_SOCKET", ready_path, 1);
		if (fake_time) {
			snprintf(preload, sizeof(preload), "%s%s%s", harness_faketime_lib(),
				 old ? ":" : "", old ? old : "");
			setenv("LD_PRELOAD", preload, 1);
			setenv("FAKETIME_TIMESTAMP_FILE", d->clock, 1);
			setenv("FAKETIME_NO_CACHE", "1", 1);
			setenv("FAKETIME_DONT_FAKE_MONOTONIC", "1", 1);
		}
		execl(harness_build("pam_policyd"), "pam_policyd", "-f", "-c", d->config,
		      (char *)NULL);
		_exit(127);
	}
	d->pid = pid;
	pfd.fd = ready;
	pfd.events = POLLIN;
	/* The daemon either says READY=1 or exits; both wake us up. */
	for (;;) {
		int status;
		int n = poll(&pfd, 1, 200);
		if (n > 0) {
			ssize_t got = recv(ready, buf, sizeof(buf) - 1, 0);
			if (got > 0) {
				buf[got] = '\0';
				if (strstr(buf, "READY=1"))
					break;
			}
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "harness: pam_policyd exited during start-up (status %d)\n",
				status);
			close(ready);
			d->pid = 0;
			return false;
		}
	}
	close(ready);
	unlink(ready_path);
	return true;
}

int harness_daemon_stop(struct harness_daemon *d)
{
	int status = -1;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
		;
	d->pid = 0;
	return status;
}

void harness_daemon_kill(struct harness_daemon *d)
{
	int status;

	if (d->pid <= 0)
		return;
	kill(d->pid, SIGKILL);
	while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
		;
	d->pid = 0;
}

int harness_connect(const char *path)
{
	struct sockaddr_un addr;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr.sun_path)) {
		close(fd);
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}
