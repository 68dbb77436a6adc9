/*
 * notify_wait - start a service and return once it says it is ready.
 *
 *   notify_wait SECONDS PIDFILE COMMAND [ARG...]
 *
 * Runs COMMAND with NOTIFY_SOCKET pointing at a private datagram socket
 * and waits for its "READY=1" (the systemd Type=notify convention, which
 * pam_policyd and Debian's sshd both follow). Writes the service's pid to
 * PIDFILE and exits 0, leaving it running; exits 1 if the service dies or
 * stays silent for SECONDS. Test tooling only.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	struct sockaddr_un addr;
	char path[sizeof(addr.sun_path)], buf[256];
	int fd, seconds;
	time_t end;
	pid_t pid;
	FILE *f;

	if (argc < 4) {
		fprintf(stderr, "usage: notify_wait SECONDS PIDFILE COMMAND [ARG...]\n");
		return 2;
	}
	seconds = atoi(argv[1]);
	snprintf(path, sizeof(path), "/tmp/notify_wait.%ld.sock", (long)getpid());
	unlink(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		perror("notify_wait: socket");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("notify_wait: fork");
		return 1;
	}
	if (pid == 0) {
		setenv("NOTIFY_SOCKET", path, 1);
		execvp(argv[3], argv + 3);
		perror("notify_wait: exec");
		_exit(127);
	}
	end = time(NULL) + seconds;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int status;

		if (poll(&p, 1, 100) > 0) {
			ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
			if (n > 0) {
				buf[n] = '\0';
				if (strstr(buf, "READY=1"))
					break;
			}
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "notify_wait: %s exited before it was ready\n", argv[3]);
			unlink(path);
			return 1;
		}
		if (time(NULL) > end) {
			fprintf(stderr, "notify_wait: %s not ready after %d s\n", argv[3], seconds);
			kill(pid, SIGTERM);
			unlink(path);
			return 1;
		}
	}
	unlink(path);
	f = fopen(argv[2], "w");
	if (f == NULL || fprintf(f, "%ld\n", (long)pid) < 0 || fclose(f) != 0) {
		perror("notify_wait: pidfile");
		return 1;
	}
	return 0;
}
