/*
 * runner.c - the one main() of every Check test program.
 *
 * Each test file defines test_suite() (and, when it needs them,
 * test_before_all() / test_after_all()); this file runs the suite, counts
 * the tests that skipped themselves with HARNESS_SKIP, and prints one
 * summary line that tests/run-tests.sh adds up:
 *
 *   RESULT test_daemon: 16 checks, 14 passed, 2 skipped, 0 failed
 *
 * A skip is reported as a skip, never as a pass. The exit status is 0
 * when no check failed.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

void test_before_all(void) __attribute__((weak));
void test_after_all(void) __attribute__((weak));

/* Print the skip reasons and return how many tests skipped. */
static int report_skips(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		printf("SKIP %s", line);
		n++;
	}
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	char skips[4096];
	SRunner *sr;
	int checks, failed, skipped;

	(void)argc;
	harness_tmpdir(skips, sizeof(skips) - 16);
	strcat(skips, "/skips");
	if (setenv("PAM_POLICY_TEST_SKIPS", skips, 1) != 0) {
		perror("setenv");
		return EXIT_FAILURE;
	}
	if (test_before_all)
		test_before_all();
	sr = srunner_create(test_suite());
	srunner_run_all(sr, CK_NORMAL);
	checks = srunner_ntests_run(sr);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (test_after_all)
		test_after_all();
	skipped = report_skips(skips);
	unlink(skips);
	*strrchr(skips, '/') = '\0';
	rmdir(skips);
	printf("RESULT %s: %d checks, %d passed, %d skipped, %d failed\n", name, checks,
	       checks - failed - skipped, skipped, failed);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
