/*
 * bench_blocklist.c - the helper of part F of make bench (tests/bench/
 * blocklist.sh): the breach filter beside passwdqc's pwqfilter.
 *
 *   gen FILE N SEED           N synthetic SHA-1 entries as HIBP lines
 *                             "HASH:COUNT" (uniform random 160-bit hashes,
 *                             which is what SHA-1 outputs look like), unsorted
 *   run LABEL [-i IN] [-o OUT] -- CMD
 *                             run CMD (stdin from IN, stdout to OUT), print
 *                             "LABEL seconds peak_rss_kib blocks_in status"
 *   ours FILTER MEMBERS NON   in-process lookups in our filter: warm lookup
 *                             time over MEMBERS and NON (HIBP lines), the
 *                             false positives among NON, and cold lookups
 *                             (the file's pages dropped with posix_fadvise
 *                             DONTNEED before each) with the page reads
 *                             counted by the handle and the blocks read
 *                             from disk by getrusage
 *   pwqcold FILTER NON PWQFILTER
 *                             cold lookups with pwqfilter, one process each
 *                             (the same fadvise), blocks read from disk
 *   open FILTER RUNS          blocklist_open + blocklist_close RUNS times
 *                             (the file in the page cache): what the
 *                             module pays on every call before its lookup
 *
 * Output lines are "key value..." for the script to tabulate.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "blocklist.h"

#define COLD_LOOKUPS 200

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("bench_blocklist: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int cmd_gen(const char *path, uint64_t n, uint64_t seed)
{
	static const char digits[] = "0123456789ABCDEF";
	FILE *f = fopen(path, "w");
	char line[64];

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t w[3] = { splitmix(&seed), splitmix(&seed), splitmix(&seed) };
		for (int j = 0; j < 40; j++)
			line[j] = digits[(w[j / 16] >> (60 - 4 * (j % 16))) & 15];
		int len = 40 + snprintf(line + 40, sizeof(line) - 40, ":%u\n",
					(unsigned)(1 + (w[2] & 1023)));
		fwrite(line, 1, (size_t)len, f);
	}
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
	return 0;
}

static int cmd_run(const char *label, const char *in, const char *out, char **argv)
{
	struct rusage ru;
	double t0 = now();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		if (in != NULL) {
			int fd = open(in, O_RDONLY);
			if (fd < 0 || dup2(fd, 0) < 0)
				_exit(126);
		}
		int null = out != NULL ? open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644) :
				       open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid)
		die("wait4: %s", strerror(errno));
	printf("%s %.3f %ld %ld %d\n", label, now() - t0, ru.ru_maxrss, ru.ru_inblock,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

/* The 20-byte digest of an HIBP line. */
static bool parse_line(const char *line, uint8_t d[20])
{
	for (int i = 0; i < 20; i++) {
		unsigned v;
		if (sscanf(line + 2 * i, "%2x", &v) != 1)
			return false;
		d[i] = (uint8_t)v;
	}
	return true;
}

/* Up to max digests from an HIBP file. */
static uint8_t *load_digests(const char *path, size_t max, size_t *n)
{
	FILE *f = fopen(path, "r");
	uint8_t *d = malloc(max * 20);
	char line[128];

	if (f == NULL || d == NULL)
		die("%s: %s", path, strerror(errno));
	*n = 0;
	while (*n < max && fgets(line, sizeof(line), f) != NULL)
		if (parse_line(line, d + 20 * *n))
			(*n)++;
	fclose(f);
	return d;
}

static void drop_cache(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0)
		die("%s: fadvise: %s", path, strerror(errno));
	close(fd);
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static long blocks_in(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_inblock;
}

static int cmd_ours(const char *filter, const char *members_path, const char *non_path)
{
	struct blocklist *bl;
	struct blocklist_info info;
	char why[512];
	size_t nm, nn, fp = 0;
	uint8_t *members = load_digests(members_path, 1000000, &nm);
	uint8_t *non = load_digests(non_path, 10000000, &nn);
	double t0, t;
	uint64_t reads0;
	long in0;

	if (blocklist_open(filter, &bl, why, sizeof(why)) != PP_OK)
		die("%s", why);
	/* warm: one pass to bring the file into the page cache, then time */
	for (size_t i = 0; i < nm; i++)
		if (blocklist_contains_hash(bl, members + 20 * i, 20) != 1)
			die("member %zu not found", i);
	t0 = now();
	for (size_t i = 0; i < nm; i++)
		if (blocklist_contains_hash(bl, members + 20 * i, 20) != 1)
			die("member %zu not found", i);
	t = now() - t0;
	printf("warm_member_us %.3f\n", t / (double)nm * 1e6);
	double c0 = cpu_seconds();
	t0 = now();
	for (size_t i = 0; i < nn; i++) {
		int rc = blocklist_contains_hash(bl, non + 20 * i, 20);
		if (rc < 0)
			die("lookup failed: %s", strerror(errno));
		fp += (size_t)rc;
	}
	t = now() - t0;
	printf("warm_nonmember_us %.3f\n", t / (double)nn * 1e6);
	printf("warm_nonmember_cpu_us %.3f\n", (cpu_seconds() - c0) / (double)nn * 1e6);
	printf("nonmembers %zu\nfalse_positives %zu\n", nn, fp);
	/* the whole check a module makes: hash a password and look it up */
	t0 = now();
	for (size_t i = 0; i < 1000000; i++) {
		char pw[32];
		int len = snprintf(pw, sizeof(pw), "Passw0rd-%zu", i);
		if (blocklist_contains(bl, pw, (size_t)len) < 0)
			die("lookup failed");
	}
	printf("warm_password_us %.3f\n", (now() - t0) / 1e6 * 1e6);
	/* cold: the file's pages dropped before each lookup */
	if (blocklist_info(bl, &info, false) != PP_OK)
		die("info");
	reads0 = info.page_reads;
	in0 = blocks_in();
	t = 0;
	for (int i = 0; i < COLD_LOOKUPS; i++) {
		drop_cache(filter);
		t0 = now();
		if (blocklist_contains_hash(bl, non + 20 * (size_t)i, 20) < 0)
			die("cold lookup failed");
		t += now() - t0;
	}
	if (blocklist_info(bl, &info, false) != PP_OK)
		die("info");
	printf("cold_lookups %d\ncold_us %.1f\ncold_preads_per_lookup %.2f\n"
	       "cold_disk_kib_per_lookup %.2f\n", COLD_LOOKUPS, t / COLD_LOOKUPS * 1e6,
	       (double)(info.page_reads - reads0) / COLD_LOOKUPS,
	       (double)(blocks_in() - in0) * 512 / 1024 / COLD_LOOKUPS);
	blocklist_close(bl);
	free(members);
	free(non);
	return 0;
}

static int cmd_pwqcold(const char *filter, const char *non_path, const char *pwqfilter)
{
	size_t nn;
	uint8_t *non = load_digests(non_path, COLD_LOOKUPS, &nn);
	long blocks = 0;
	double t = 0;
	char in[4096];

	snprintf(in, sizeof(in), "%s.one", non_path);
	for (size_t i = 0; i < nn; i++) {
		FILE *f = fopen(in, "w");
		struct rusage ru;
		int status;
		if (f == NULL)
			die("%s: %s", in, strerror(errno));
		for (int j = 0; j < 20; j++)
			fprintf(f, "%02X", non[20 * i + (size_t)j]);
		fputc('\n', f);
		fclose(f);
		drop_cache(filter);
		double t0 = now();
		pid_t pid = fork();
		if (pid == 0) {
			int fd = open(in, O_RDONLY), null = open("/dev/null", O_WRONLY);
			if (fd < 0 || dup2(fd, 0) < 0 || null < 0 || dup2(null, 1) < 0)
				_exit(126);
			execl(pwqfilter, pwqfilter, "-f", filter, "--pre-hashed", "-c", (char *)NULL);
			_exit(127);
		}
		if (pid < 0 || wait4(pid, &status, 0, &ru) != pid)
			die("pwqfilter: %s", strerror(errno));
		t += now() - t0;
		blocks += ru.ru_inblock;
	}
	printf("pwq_cold_lookups %zu\npwq_cold_process_us %.1f\npwq_cold_disk_kib_per_lookup %.2f\n",
	       nn, t / (double)nn * 1e6, (double)blocks * 512 / 1024 / (double)nn);
	unlink(in);
	free(non);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int cmd_open(const char *filter, int runs)
{
	struct blocklist *bl;
	struct blocklist_info info;
	char why[512];
	double *t = calloc((size_t)runs, sizeof(double));

	if (runs < 1 || t == NULL)
		die("open: RUNS must be a positive number");
	if (blocklist_open(filter, &bl, why, sizeof(why)) != PP_OK)
		die("%s", why);
	if (blocklist_info(bl, &info, false) != PP_OK)
		die("info");
	blocklist_close(bl);
	for (int i = 0; i < runs; i++) {
		double t0 = now();
		if (blocklist_open(filter, &bl, why, sizeof(why)) != PP_OK)
			die("%s", why);
		blocklist_close(bl);
		t[i] = (now() - t0) * 1e6;
	}
	qsort(t, (size_t)runs, sizeof(double), cmp_double);
	printf("open_entries %llu\nopen_pages %u\nopen_directory_kib %.1f\n"
	       "open_p50_us %.1f\nopen_p99_us %.1f\n", (unsigned long long)info.entries,
	       info.pages, info.pages * 2 / 1024.0, t[runs / 2],
	       t[(size_t)((double)runs * 0.99 + 0.999999) - 1]);
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && strcmp(argv[1], "gen") == 0)
		return cmd_gen(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10));
	if (argc >= 5 && strcmp(argv[1], "run") == 0) {
		const char *in = NULL, *out = NULL;
		int i = 3;
		while (i + 1 < argc && (strcmp(argv[i], "-i") == 0 || strcmp(argv[i], "-o") == 0)) {
			if (argv[i][1] == 'i')
				in = argv[i + 1];
			else
				out = argv[i + 1];
			i += 2;
		}
		if (i >= argc || strcmp(argv[i], "--") != 0)
			die("run LABEL [-i IN] [-o OUT] -- CMD...");
		return cmd_run(argv[2], in, out, argv + i + 1);
	}
	if (argc == 5 && strcmp(argv[1], "ours") == 0)
		return cmd_ours(argv[2], argv[3], argv[4]);
	if (argc == 5 && strcmp(argv[1], "pwqcold") == 0)
		return cmd_pwqcold(argv[2], argv[3], argv[4]);
	if (argc == 4 && strcmp(argv[1], "open") == 0)
		return cmd_open(argv[2], atoi(argv[3]));
	die("usage: gen|run|ours|pwqcold|open ... (see the source)");
}
