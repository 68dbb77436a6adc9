/*
 * pam_run - run one PAM call for a service stack kept in a directory, via
 * pam_start_confdir(), so nothing under /etc/pam.d is touched.
 *
 *   pam_run CONFDIR SERVICE USER chauthtok|acct [expired]
 *
 * With a terminal, the conversation is the usual interactive one. Without,
 * answers are read from stdin one line at a time and each prompt is shown
 * with the scripted answer, so that a demo reads like a terminal session.
 * Exits with the PAM return code and prints its text.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <security/pam_misc.h>

static int scripted_conv(int n, const struct pam_message **msg,
			 struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	(void)data;
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		char line[1024];
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			if (fgets(line, sizeof(line), stdin) == NULL) {
				for (int j = 0; j < i; j++)
					free(r[j].resp);
				free(r);
				return PAM_CONV_ERR;
			}
			line[strcspn(line, "\n")] = '\0';
			printf("%s%s\n", msg[i]->msg, line);
			r[i].resp = strdup(line);
			explicit_bzero(line, sizeof(line));
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			printf("%s\n", msg[i]->msg);
			break;
		default:
			break;
		}
	}
	fflush(stdout);
	*resp = r;
	return PAM_SUCCESS;
}

int main(int argc, char **argv)
{
	struct pam_conv conv = { misc_conv, NULL };
	pam_handle_t *pamh = NULL;
	int rc, flags = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: %s CONFDIR SERVICE USER chauthtok|acct [expired]\n",
			argv[0]);
		return 2;
	}
	if (!isatty(STDIN_FILENO))
		conv.conv = scripted_conv;
	if (argc > 5 && strcmp(argv[5], "expired") == 0)
		flags |= PAM_CHANGE_EXPIRED_AUTHTOK;
	rc = pam_start_confdir(argv[2], argv[3], &conv, argv[1], &pamh);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "pam_start_confdir: %s\n", pam_strerror(NULL, rc));
		return 2;
	}
	if (strcmp(argv[4], "chauthtok") == 0)
		rc = pam_chauthtok(pamh, flags);
	else
		rc = pam_acct_mgmt(pamh, 0);
	printf("[%s: %s]\n", argv[4], pam_strerror(pamh, rc));
	pam_end(pamh, rc);
	return rc;
}
