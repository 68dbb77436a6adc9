/*
 * wordlist.c - "pam_policyctl wordlist build|status" (see wordlist.h).
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "wordlist.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "guess.h"
#include "i18n.h"
#include "wordindex.h"

#define WORDLIST_EXIT_OK 0
#define WORDLIST_EXIT_UNUSED 1
#define WORDLIST_EXIT_USAGE 2
#define WORDLIST_EXIT_ERROR 6
#define WORDLIST_INDEX_MODE 0644   /* a public word list's cache */
#define WORDLIST_DIR_MODE 0755

static const char prog[] = "pam_policyctl";

static int wordlist_usage(const char *what)
{
	fprintf(stderr, "%s: wordlist: %s\n", prog, _(what));
	fprintf(stderr, "%s", _("(usage: pam_policyctl wordlist build [-o FILE] [INPUT...] | "
				"wordlist status)\n"));
	return WORDLIST_EXIT_USAGE;
}

/* path made absolute against the current directory into out. */
static bool wordlist_absolute(const char *path, char *out, size_t len)
{
	char cwd[PATH_MAX];
	int n;

	if (path[0] == '/')
		n = snprintf(out, len, "%s", path);
	else if (getcwd(cwd, sizeof(cwd)) != NULL)
		n = snprintf(out, len, "%s/%s", cwd, path);
	else
		return false;
	return n > 0 && (size_t)n < len;
}

/* The directory of file, created (one level) when missing. */
static int wordlist_make_dir(const char *file)
{
	char dir[POLICY_MAX_PATH];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", file);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, WORDLIST_DIR_MODE) != 0 && errno != EEXIST) {
		int saved = errno;

		fprintf(stderr, "%s: ", prog);
		fprintf(stderr, _("wordlist: cannot create %s: %s\n"), dir, strerror(saved));
		return -1;
	}
	return 0;
}

static int wordlist_build(const struct policy *p, int argc, char **argv)
{
	static char abs[WORDINDEX_MAX_SOURCES][POLICY_MAX_PATH];
	const char *inputs[WORDINDEX_MAX_SOURCES];
	char output[POLICY_MAX_PATH], err[600];
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out_arg = p->wordlist_index;
	size_t n = 0, bytes = 0;
	uint64_t words = 0;
	void *buf = NULL;
	pp_err rc;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:o:", longopts, NULL)) != -1) {
		if (opt == 'o')
			out_arg = optarg;
		else if (opt == ':')
			return wordlist_usage(N_("-o needs a FILE"));
		else
			return wordlist_usage(N_("unknown option"));
	}
	if (out_arg[0] == '\0')
		return wordlist_usage(N_("no output: wordlist_index is empty; give -o FILE"));
	if (!wordlist_absolute(out_arg, output, sizeof(output)))
		return wordlist_usage(N_("output path too long"));
	if (optind == argc) {
		if (p->wordlist[0] == '\0')
			return wordlist_usage(N_("no INPUT given and wordlist is empty"));
		snprintf(abs[0], sizeof(abs[0]), "%s", p->wordlist);
		inputs[n++] = abs[0];
	}
	for (int i = optind; i < argc; i++) {
		if (n == WORDINDEX_MAX_SOURCES)
			return wordlist_usage(N_("too many INPUT lists (at most 16)"));
		if (!wordlist_absolute(argv[i], abs[n], sizeof(abs[n])))
			return wordlist_usage(N_("INPUT path too long"));
		inputs[n] = abs[n];
		n++;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(inputs[i], output) == 0)
			return wordlist_usage(N_("the output would replace an INPUT"));
	rc = guess_wordlist_index(inputs, n, &buf, &bytes, &words, err, sizeof(err));
	if (rc != PP_OK) {
		fprintf(stderr, "%s: wordlist build: %s\n", prog, err);
		return WORDLIST_EXIT_ERROR;
	}
	if (wordlist_make_dir(output) != 0) {
		free(buf);
		return WORDLIST_EXIT_ERROR;
	}
	rc = fsutil_replace_file(output, buf, bytes, WORDLIST_INDEX_MODE, true);
	free(buf);
	if (rc != PP_OK) {
		int saved = errno;

		fprintf(stderr, "%s: ", prog);
		fprintf(stderr, _("wordlist build: cannot write %s: %s\n"), output,
			rc == PP_ERR_IO ? strerror(saved) : pp_error_text(rc));
		return WORDLIST_EXIT_ERROR;
	}
	/* TRANSLATORS: %1$s the index file, %2$llu words, %3$zu lists, %4$zu KiB. */
	printf(P_("wrote %1$s: %2$llu words from %3$zu list (%4$zu KiB)\n",
		  "wrote %1$s: %2$llu words from %3$zu lists (%4$zu KiB)\n", n), output,
	       (unsigned long long)words, n, bytes / 1024);
	return WORDLIST_EXIT_OK;
}

static int wordlist_status(const struct policy *p, int argc)
{
	char why[1024];
	enum wordindex_state st;

	if (argc > 1)
		return wordlist_usage(N_("status takes no arguments"));
	st = wordindex_verify(p, GUESS_HASH_SCHEME, why, sizeof(why));
	printf("%s\n", why);
	return st == WORDINDEX_USED || st == WORDINDEX_IS_LIST ? WORDLIST_EXIT_OK
							       : WORDLIST_EXIT_UNUSED;
}

int wordlist_main(const struct policy *p, const char *config_err, int argc,
		  char **argv)
{
	if (argc < 2)
		return wordlist_usage(N_("build or status?"));
	if (strcmp(argv[1], "build") != 0 && strcmp(argv[1], "status") != 0)
		return wordlist_usage(N_("build or status?"));
	if (config_err != NULL) {
		fprintf(stderr, "%s: %s\n", prog, config_err);
		return WORDLIST_EXIT_ERROR;
	}
	if (strcmp(argv[1], "build") == 0)
		return wordlist_build(p, argc - 1, argv + 1);
	return wordlist_status(p, argc - 1);
}
