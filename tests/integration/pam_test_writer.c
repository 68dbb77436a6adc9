/*
 * pam_test_writer.c - a test-only password writer module.
 *
 * Stands in for pam_unix in test stacks: in the update phase it takes the
 * new password from PAM_AUTHTOK (as "use_authtok" writers do) and appends
 * "user:password:service" to the file named by file=PATH. With fail it
 * refuses, to test what happens when the writer fails. With old it asks
 * for the current password in the preliminary pass and sets PAM_OLDAUTHTOK
 * (as pam_unix does); with prompt it asks for the new password and sets
 * PAM_AUTHTOK instead of writing, to feed a later use_authtok module.
 * As an auth line with authtok=VALUE it authenticates anyone the way
 * pam_unix does after a typed password: VALUE in PAM_AUTHTOK (libpam
 * clears it when pam_authenticate returns) and pam_unix's
 * "unix_setcred_return" data holding PAM_SUCCESS, which its account
 * phase (no_pass_expiry) reads to tell a password login.
 * Never installed.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAM_SM_AUTH
#define PAM_SM_PASSWORD
#include <security/pam_ext.h>
#include <security/pam_modules.h>

static void free_data(pam_handle_t *pamh, void *data, int error_status)
{
	free(data);
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
				   const char **argv)
{
	for (int i = 0; i < argc; i++) {
		int *rc;

		if (strncmp(argv[i], "authtok=", 8) != 0)
			continue;
		rc = malloc(sizeof(*rc));
		if (rc == NULL)
			return PAM_BUF_ERR;
		*rc = PAM_SUCCESS;
		if (pam_set_data(pamh, "unix_setcred_return", rc, free_data) != PAM_SUCCESS) {
			free(rc);
			return PAM_SYSTEM_ERR;
		}
		return pam_set_item(pamh, PAM_AUTHTOK, argv[i] + 8);
	}
	return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc,
			      const char **argv)
{
	return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc,
				const char **argv)
{
	const char *file = NULL, *user = NULL;
	const void *tok = NULL, *service = NULL;
	int ask_old = 0, ask_new = 0;
	char *answer = NULL;
	FILE *f;

	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], "file=", 5) == 0)
			file = argv[i] + 5;
		else if (strcmp(argv[i], "fail") == 0)
			return PAM_AUTHTOK_ERR;
		else if (strcmp(argv[i], "old") == 0)
			ask_old = 1;
		else if (strcmp(argv[i], "prompt") == 0)
			ask_new = 1;
	}
	if (flags & PAM_PRELIM_CHECK) {
		if (!ask_old)
			return PAM_SUCCESS;
		if (pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &answer, "Current password: ") !=
		    PAM_SUCCESS || answer == NULL)
			return PAM_AUTHTOK_ERR;
		pam_set_item(pamh, PAM_OLDAUTHTOK, answer);
		explicit_bzero(answer, strlen(answer));
		free(answer);
		return PAM_SUCCESS;
	}
	if (ask_new) {
		if (pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &answer, "Writer password: ") !=
		    PAM_SUCCESS || answer == NULL)
			return PAM_AUTHTOK_ERR;
		pam_set_item(pamh, PAM_AUTHTOK, answer);
		explicit_bzero(answer, strlen(answer));
		free(answer);
		return PAM_SUCCESS;
	}
	if (file == NULL && ask_old)
		return PAM_SUCCESS;      /* only here to supply the old password */
	if (file == NULL || pam_get_user(pamh, &user, NULL) != PAM_SUCCESS)
		return PAM_SERVICE_ERR;
	if (pam_get_item(pamh, PAM_AUTHTOK, &tok) != PAM_SUCCESS || tok == NULL)
		return PAM_AUTHTOK_ERR;
	pam_get_item(pamh, PAM_SERVICE, &service);
	f = fopen(file, "a");
	if (f == NULL)
		return PAM_SYSTEM_ERR;
	fprintf(f, "%s:%s:%s\n", user, (const char *)tok,
		service ? (const char *)service : "");
	return fclose(f) == 0 ? PAM_SUCCESS : PAM_SYSTEM_ERR;
}
