/*
 * test_wordlist_cli.c - "pam_policyctl wordlist build|status" and what the
 * doctor says about the word list's index, through the real program.
 *
 * Hermetic: the word lists, the configuration and the index live under a
 * temporary directory (wordlist and wordlist_index point there); the
 * index's directory does not exist before the first build. No daemon:
 * building and judging the index needs none.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"

static char dir[4096], config[4200], words[4200], more[4200], cache[4200],
	    index_path[4300];

static void write_text(const char *path, const char *text, const char *mode)
{
	FILE *f = fopen(path, mode);

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

static void setup(void)
{
	char text[16384];

	harness_tmpdir(dir, sizeof(dir));
	snprintf(words, sizeof(words), "%s/words", dir);
	snprintf(more, sizeof(more), "%s/more", dir);
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	snprintf(index_path, sizeof(index_path), "%s/words.idx", cache);
	snprintf(config, sizeof(config), "%s/pam_policy.conf", dir);
	write_text(words, "monkey\ndriver\npatriot\nelephant\nsunflower\ntulip\nharbor\n", "w");
	write_text(more, "quokka\nmarmalade\n", "w");
	snprintf(text, sizeof(text), "wordlist = %s\nwordlist_index = %s\nsocket = %s/none.sock\n"
		 "history = 0\n", words, index_path, dir);
	write_text(config, text, "w");
}

static void teardown(void)
{
	harness_rmtree(dir);
}

/* build/pam_policyctl -c config ARGS, stdin from input (NULL: /dev/null). */
static void run_ctl(struct harness_run *r, const char *input, const char *const *args)
{
	const char *argv[24];
	int n = 0;

	argv[n++] = "-c";
	argv[n++] = config;
	for (int i = 0; args[i] != NULL && n < 23; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	harness_ctl_run(r, dir, input, input != NULL ? strlen(input) : 0, argv);
}

#define CTL(r, input, ...) run_ctl((r), (input), (const char *const[]){ __VA_ARGS__, NULL })

static void assert_contains(const char *hay, const char *needle)
{
	ck_assert_msg(strstr(hay, needle) != NULL, "expected \"%s\" in:\n%s", needle, hay);
}

/* The doctor has a line at level ("ok:", "note:", "problem:") about the
 * word list index that says text. */
static void assert_doctor_says(const char *level, const char *text)
{
	struct harness_run r;
	bool found = false;

	CTL(&r, NULL, "doctor");
	for (char *line = strtok(r.out, "\n"); line != NULL && !found;
	     line = strtok(NULL, "\n"))
		found = strncmp(line, level, strlen(level)) == 0 &&
			strstr(line, "word list index") != NULL && strstr(line, text) != NULL;
	ck_assert_msg(found, "no \"%s ... word list index ... %s\" line from doctor", level,
		      text);
	harness_run_free(&r);
}

START_TEST(test_build_and_use)
{
	struct harness_run r;
	struct stat st;

	/* Before: no index; checks still work (the plain list is read). */
	CTL(&r, NULL, "wordlist", "status");
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "no word list index");
	harness_run_free(&r);
	assert_doctor_says("note:", "pam_policyctl wordlist build");

	CTL(&r, NULL, "wordlist", "build");
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	assert_contains(r.out, "wrote ");
	assert_contains(r.out, index_path);
	assert_contains(r.out, ": 7 words from 1 list");
	harness_run_free(&r);
	ck_assert_int_eq(stat(index_path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	ck_assert_int_eq(stat(cache, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0755);

	CTL(&r, NULL, "wordlist", "status");
	ck_assert_int_eq(r.status, 0);
	assert_contains(r.out, "is current (7 words of");
	harness_run_free(&r);
	assert_doctor_says("ok:", "is current");

	/* The checks use it: a word of the list with small changes is refused. */
	CTL(&r, "Eleph4nt#2024!\n", "check");
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "a dictionary word");
	harness_run_free(&r);
	CTL(&r, "Qz8$Lwm3-Tpe!\n", "check");
	ck_assert_int_eq(r.status, 0);
	harness_run_free(&r);
}
END_TEST

START_TEST(test_stale_and_rebuilt)
{
	struct harness_run r;

	CTL(&r, NULL, "wordlist", "build");
	ck_assert_int_eq(r.status, 0);
	harness_run_free(&r);
	write_text(words, "quokka\n", "a");
	CTL(&r, NULL, "wordlist", "status");
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "is stale");
	harness_run_free(&r);
	assert_doctor_says("note:", "is stale");
	/* The new word counts at once: the stale index is not used. */
	CTL(&r, "Quokka#2024!\n", "check");
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "a dictionary word");
	harness_run_free(&r);
	CTL(&r, NULL, "wordlist", "build");
	ck_assert_int_eq(r.status, 0);
	assert_contains(r.out, ": 8 words");
	harness_run_free(&r);
	CTL(&r, NULL, "wordlist", "status");
	ck_assert_int_eq(r.status, 0);
	harness_run_free(&r);
}
END_TEST

START_TEST(test_corrupt_refused)
{
	struct harness_run r;

	CTL(&r, NULL, "wordlist", "build");
	ck_assert_int_eq(r.status, 0);
	harness_run_free(&r);
	ck_assert_int_eq(truncate(index_path, 2000), 0);
	CTL(&r, NULL, "wordlist", "status");
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "refused");
	assert_contains(r.out, "truncated");
	harness_run_free(&r);
	assert_doctor_says("problem:", "truncated");
	/* Still judged by the plain list, which it is only a cache of. */
	CTL(&r, "Eleph4nt#2024!\n", "check");
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "a dictionary word");
	harness_run_free(&r);
}
END_TEST

START_TEST(test_several_lists_and_output)
{
	char other[4400], text[16384];
	struct harness_run r;

	snprintf(other, sizeof(other), "%s/merged.idx", dir);
	CTL(&r, NULL, "wordlist", "build", "-o", other, words, more);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	assert_contains(r.out, ": 9 words from 2 lists");
	harness_run_free(&r);
	/* Named as the wordlist, the index is the list. */
	snprintf(text, sizeof(text), "wordlist = %s\nsocket = %s/none.sock\nhistory = 0\n",
		 other, dir);
	write_text(config, text, "w");
	CTL(&r, NULL, "wordlist", "status");
	ck_assert_int_eq(r.status, 0);
	assert_contains(r.out, "is an index of 2 list(s), 9 words");
	harness_run_free(&r);
	CTL(&r, "Marmalade#2024!\n", "check");
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "a dictionary word");
	harness_run_free(&r);
	/* Damaged, it cannot stand in for anything: the check fails closed. */
	ck_assert_int_eq(truncate(other, 100), 0);
	CTL(&r, "Qz8$Lwm3-Tpe!\n", "check");
	ck_assert_int_eq(r.status, 6);
	harness_run_free(&r);
	CTL(&r, NULL, "wordlist", "status");
	ck_assert_int_eq(r.status, 1);
	assert_contains(r.out, "wordlist names an index that is refused");
	harness_run_free(&r);
}
END_TEST

START_TEST(test_usage_and_errors)
{
	char missing[4400];
	struct harness_run r;

	CTL(&r, NULL, "wordlist");
	ck_assert_int_eq(r.status, 2);
	assert_contains(r.err, "pam_policyctl: wordlist: build or status?");
	harness_run_free(&r);
	CTL(&r, NULL, "wordlist", "remove");
	ck_assert_int_eq(r.status, 2);
	harness_run_free(&r);
	CTL(&r, NULL, "wordlist", "build", "-o");
	ck_assert_int_eq(r.status, 2);
	assert_contains(r.err, "-o needs a FILE");
	harness_run_free(&r);
	CTL(&r, NULL, "wordlist", "build", "-o", words, words);
	ck_assert_int_eq(r.status, 2);
	assert_contains(r.err, "would replace an INPUT");
	harness_run_free(&r);
	CTL(&r, NULL, "wordlist", "status", "extra");
	ck_assert_int_eq(r.status, 2);
	harness_run_free(&r);
	snprintf(missing, sizeof(missing), "%s/no-such-list", dir);
	CTL(&r, NULL, "wordlist", "build", missing);
	ck_assert_int_eq(r.status, 6);
	assert_contains(r.err, missing);
	assert_contains(r.err, "no such file");
	harness_run_free(&r);
	ck_assert_int_eq(access(index_path, F_OK), -1);
	CTL(&r, NULL, "wordlist", "--help");
	ck_assert_int_eq(r.status, 0);
	assert_contains(r.out, "usage: pam_policyctl [options] wordlist build");
	harness_run_free(&r);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("wordlist_cli");
	TCase *tc = tcase_create("wordlist");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_build_and_use);
	tcase_add_test(tc, test_stale_and_rebuilt);
	tcase_add_test(tc, test_corrupt_refused);
	tcase_add_test(tc, test_several_lists_and_output);
	tcase_add_test(tc, test_usage_and_errors);
	suite_add_tcase(s, tc);
	return s;
}
