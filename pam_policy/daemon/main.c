/*
 * main.c - the daemon's entry point: options, configuration, then
 * server_run() (server.h) does the work.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"
#include "server.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pam_policyd [-f] [-c FILE] [--socket PATH] [--state-dir DIR]\n"
		"       pam_policyd --new-pepper [-c FILE] [--state-dir DIR]\n"
		"  -f, --foreground     stay in the foreground, log to stderr too\n"
		"  -c, --config FILE    configuration (default %s)\n"
		"      --socket PATH    listen here (overrides the socket key)\n"
		"      --state-dir DIR  store, pepper and audit state (overrides state_dir)\n"
		"      --new-pepper     with the daemon stopped: replace the pepper and\n"
		"                       FORGET EVERY REMEMBERED PASSWORD (they can no\n"
		"                       longer be matched); aging state is kept\n"
		"      --version        print the version\n"
		"  -h, --help           this text\n", POLICY_DEFAULT_FILE);
}

/*
 * Without -f: the parent returns only once the child serves (exit 0) or
 * has failed to start (exit 1), so scripts may use the socket right away.
 */
static int background(struct server_options *opt)
{
	int fds[2], null;
	char byte;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		perror("pam_policyd: pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("pam_policyd: fork");
		return 1;
	}
	if (pid > 0) {
		ssize_t n;
		close(fds[1]);
		do
			n = read(fds[0], &byte, 1);
		while (n < 0 && errno == EINTR);
		return n == 1 ? 0 : 1;
	}
	close(fds[0]);
	setsid();
	if (chdir("/") != 0)
		_exit(1);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	opt->ready_fd = fds[1];
	_exit(server_run(opt) == PP_OK ? 0 : 1);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "new-pepper", no_argument, NULL, 'P' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = POLICY_DEFAULT_FILE, *socket = NULL, *state_dir = NULL;
	bool foreground = false, config_given = false, new_pepper = false;
	struct policy p;
	struct server_options opt;
	char err[POLICY_ERR_LEN];
	int c;

	while ((c = getopt_long(argc, argv, "fc:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			foreground = true;
			break;
		case 'c':
			config = optarg;
			config_given = true;
			break;
		case 's':
			socket = optarg;
			break;
		case 'd':
			state_dir = optarg;
			break;
		case 'P':
			new_pepper = true;
			break;
		case 'V':
			printf("pam_policyd %s\n", PAM_POLICY_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	policy_defaults(&p);
	if (policy_load_file(&p, config, config_given, err, sizeof(err)) != PP_OK ||
	    (socket && policy_set(&p, "socket", socket, POLICY_SOURCE_ARGUMENT, err,
				  sizeof(err)) != PP_OK) ||
	    (state_dir && policy_set(&p, "state_dir", state_dir, POLICY_SOURCE_ARGUMENT,
				     err, sizeof(err)) != PP_OK)) {
		fprintf(stderr, "pam_policyd: %s\n", err);
		return 1;
	}
	opt.policy = &p;
	opt.foreground = foreground;
	opt.ready_fd = -1;
	opt.new_pepper = new_pepper;
	/* A one-off task, not a service: it runs here and reports on stderr. */
	if (new_pepper)
		return server_run(&opt) == PP_OK ? 0 : 1;
	if (!foreground)
		return background(&opt);
	return server_run(&opt) == PP_OK ? 0 : 1;
}
