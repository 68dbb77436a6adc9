/*
 * fuzz_policy.c - libFuzzer target for the configuration parser: any bytes
 * as a pam_policy.conf, and the same bytes split into module arguments.
 * The parser must never crash, and an accepted value must print back.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy p;
	char err[POLICY_ERR_LEN];
	char value[POLICY_MAX_LIST];
	FILE *f;

	policy_defaults(&p);
	f = fmemopen((void *)data, size, "r");
	if (f != NULL) {
		if (policy_load_stream(&p, f, "fuzz.conf", err, sizeof(err)) == PP_OK) {
			for (int i = 0; i < POLICY_OPT_COUNT; i++)
				policy_format_value(&p, (enum policy_option)i, value, sizeof(value));
		}
		fclose(f);
	}

	/* The same bytes as NUL-separated module arguments. */
	if (size > 0 && size < 4096) {
		char *copy = malloc(size + 1);
		const char *argv[64];
		int argc = 0;

		if (copy == NULL)
			return 0;
		memcpy(copy, data, size);
		copy[size] = '\0';
		for (char *s = copy; argc < 64 && s < copy + size; s += strlen(s) + 1)
			if (strncmp(s, "config=", 7) != 0)    /* never read real files */
				argv[argc++] = s;
		if (policy_from_args(&p, argc, argv, NULL, NULL, err, sizeof(err)) == PP_OK)
			for (int i = 0; i < POLICY_OPT_COUNT; i++)
				policy_format_value(&p, (enum policy_option)i, value,
						    sizeof(value));
		free(copy);
	}
	return 0;
}
