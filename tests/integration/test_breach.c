/*
 * test_breach.c - breached passwords (issue 12): a filter built by the real
 * "pam_policyctl blocklist build" from a plain list or from a HIBP-shaped
 * SHA-1 file generated here, checked by the real libpam stack with a real
 * pam_policyd (SHA-1 and NTLM files, a directory of range files), at a change (reason breached, with the other reasons) and
 * at login (auth optional pam_policy.so breachcheck: must-change with the
 * reason breached, breach_detected audited, a change forced at once and
 * the flag cleared by the change).
 *
 * Each test starts its own daemon in a fresh directory and writes a
 * "passwd" service there (harness_stack_write):
 *
 *   auth     required pam_test_writer.so authtok=PASSWORD     (login tests)
 *   account  required pam_policy.so config=<daemon.conf>
 *   auth     optional pam_policy.so config=<daemon.conf> breachcheck
 *   password requisite pam_policy.so config=<daemon.conf> retry=1 use_authtok?
 *   password required  pam_test_writer.so file=<dir>/written
 *   password optional  pam_policy.so config=<daemon.conf> record
 *
 * The filter is named in the daemon's configuration (blocklist = FILE):
 * a file named there that is missing, truncated or corrupt is a
 * configuration error, and the change is refused with its own message and
 * log line. Users come from nss_wrapper (tests/run-tests.sh).
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "blocklist.h"
#include "digest.h"
#include "doctor.h"
#include "harness.h"
#include "paths.h"
#include "policy.h"
#include "request.h"
#include "rules.h"

#define TIMEOUT_MS 10000

/* Strong passwords (every other rule passes them; test_passwords_pass
 * proves it): the first two go into the lists, the others never do. */
#define LISTED_A "Vq7%mKz2!pLw"
#define LISTED_B "Rj5&wNc8?tHs"
#define FREE_A   "Hn4$tRx8@bYe"
#define FREE_B   "Gc3*yWm9=kDf"
/* "Zk9!Café-wQx": composed (U+00E9) and decomposed ("e" + U+0301). */
#define CAFE_NFC "Zk9!Caf\xc3\xa9-wQx"
#define CAFE_NFD "Zk9!Cafe\xcc\x81-wQx"

#define BREACH_SENTENCE "It appears in a list of passwords exposed in data breaches."
#define UNAVAILABLE_SENTENCE "The list of breached passwords cannot be read"

static char dir[4096];
static char written[4200];
static struct harness_daemon daemon_state;

static void kill_leftover_daemon(void)
{
	if (daemon_state.pid > 0)
		harness_daemon_kill(&daemon_state);
}

static void setup(void)
{
	static bool registered;

	if (!registered) {
		atexit(kill_leftover_daemon);
		registered = true;
	}
	memset(&daemon_state, 0, sizeof(daemon_state));
	harness_tmpdir(dir, sizeof(dir));
	snprintf(written, sizeof(written), "%s/written", dir);
}

static void teardown(void)
{
	kill_leftover_daemon();
	harness_rmtree(dir);
}

/* dir/name, in one of 32 rotating buffers (a test uses fewer). */
static const char *in_dir(const char *name)
{
	static char bufs[32][4400];
	static int next;
	char *b = bufs[next++ % 32];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

/* ---- running pam_policyctl ---- */

/* build/pam_policyctl argv[1..] with input (may be NULL) on standard input. */
static void run_ctl(struct harness_run *r, const char *input, const char *const *args)
{
	harness_ctl_run(r, dir, input, input != NULL ? strlen(input) : 0, args);
}

/*
 * pam_policyctl blocklist build -o out [--min-count N] inputs... (NULL
 * ends them); min_count NULL leaves the option out. Must succeed.
 */
static void build_filter(const char *out, const char *min_count, ...)
{
	const char *args[24];
	struct harness_run r;
	va_list ap;
	int n = 0;

	args[n++] = "blocklist";
	args[n++] = "build";
	args[n++] = "-o";
	args[n++] = out;
	if (min_count != NULL) {
		args[n++] = "--min-count";
		args[n++] = min_count;
	}
	va_start(ap, min_count);
	for (const char *in; n < 23 && (in = va_arg(ap, const char *)) != NULL;)
		args[n++] = in;
	va_end(ap);
	args[n] = NULL;
	run_ctl(&r, NULL, args);
	ck_assert_msg(r.status == 0, "blocklist build -o %s: exit %d: %s", out, r.status,
		      r.err);
	harness_run_free(&r);
	ck_assert_int_eq(access(out, R_OK), 0);
}

/* ---- input files ---- */

static void hex_upper(const uint8_t *d, size_t n, char *out)
{
	static const char digits[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static void sha1_hex(const char *password, char out[2 * DIGEST_SHA1_LEN + 1])
{
	uint8_t d[DIGEST_SHA1_LEN];

	digest_sha1(password, strlen(password), d);
	hex_upper(d, sizeof(d), out);
}

struct hibp_entry {
	const char *password;
	unsigned count;
};

/*
 * A HIBP-shaped SHA-1 file at path: "HASH:COUNT" lines (upper-case hex, as
 * the downloader writes them), the entries given and `others` hashes of
 * passwords no test uses, in the order given (not sorted).
 */
static void write_hibp(const char *path, const struct hibp_entry *e, size_t n,
		       unsigned others)
{
	char hex[2 * DIGEST_SHA1_LEN + 1], filler[64];
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	for (unsigned i = 0; i < others; i++) {
		snprintf(filler, sizeof(filler), "filler-password-%u", i);
		sha1_hex(filler, hex);
		fprintf(f, "%s:%u\r\n", hex, 1 + i % 97);
		if (i == others / 2)
			for (size_t j = 0; j < n; j++) {
				sha1_hex(e[j].password, hex);
				fprintf(f, "%s:%u\r\n", hex, e[j].count);
			}
	}
	if (others == 0)
		for (size_t j = 0; j < n; j++) {
			sha1_hex(e[j].password, hex);
			fprintf(f, "%s:%u\r\n", hex, e[j].count);
		}
	ck_assert_int_eq(fclose(f), 0);
}

/* ---- the PAM stack ---- */

/* The daemon with the filter named in its (and the module's) configuration. */
static void start_with(const char *filter)
{
	char extra[4600];

	snprintf(extra, sizeof(extra), "history = 5\nmin_age_days = 0\nblocklist = %s\n",
		 filter);
	ck_assert_msg(harness_daemon_start(&daemon_state, dir, extra, false),
		      "pam_policyd did not start");
}

/* The service "passwd": account line, auth breachcheck, check, writer, record. */
static void write_stack(const char *auth_password)
{
	char auth[4400], after[8800];
	struct harness_stack spec = {
		.config = daemon_state.config, .check_args = "retry=1",
		.writer_file = written, .record = true, .account = true,
	};

	if (auth_password != NULL) {
		snprintf(auth, sizeof(auth), "authtok=%s", auth_password);
		spec.auth_args = auth;
	}
	snprintf(after, sizeof(after), "auth optional %s config=%s breachcheck\n",
		 harness_build("pam_policy.so"), daemon_state.config);
	spec.after_account = after;
	harness_stack_write(dir, "passwd", &spec);
}

static int change(const char *user, const char *password, struct harness_conv *c)
{
	const char *answers[] = { password, password, NULL };

	harness_conv_init(c, answers);
	return harness_pam_chauthtok(dir, "passwd", user, 0, c);
}

static void assert_refused_breached(const char *user, const char *password)
{
	struct harness_conv c;
	int rc = change(user, password, &c);

	ck_assert_msg(rc == PAM_AUTHTOK_ERR, "change to a listed password: %s",
		      pam_strerror(NULL, rc));
	ck_assert_msg(strstr(c.log, BREACH_SENTENCE) != NULL, "no breach reason in:\n%s",
		      c.log);
}

static void assert_accepted(const char *user, const char *password)
{
	struct harness_conv c;
	int rc = change(user, password, &c);

	ck_assert_msg(rc == PAM_SUCCESS, "change to an unlisted password: %s\n%s",
		      pam_strerror(NULL, rc), c.log);
	ck_assert(strstr(c.log, BREACH_SENTENCE) == NULL);
}

static char *audit_log(void)
{
	char *s = harness_read(daemon_state.audit);

	ck_assert_ptr_nonnull(s);
	return s;
}

static unsigned count_of(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/*
 * The module's syslog lines: pam_syslog uses syslog(3), which with
 * LOG_PERROR (set by openlog in this test process) copies each line to
 * standard error, redirected to a file for the duration.
 */
static int saved_stderr = -1;

static void capture_begin(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	saved_stderr = dup(2);
	ck_assert_int_ge(saved_stderr, 0);
	ck_assert_int_eq(dup2(fd, 2), 2);
	close(fd);
	openlog("test_breach", LOG_PERROR | LOG_PID, LOG_AUTHPRIV);
}

static char *capture_end(const char *path)
{
	char *s;

	fflush(stderr);
	closelog();
	ck_assert_int_eq(dup2(saved_stderr, 2), 2);
	close(saved_stderr);
	saved_stderr = -1;
	s = harness_read(path);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* ---- the tests ---- */

/* The test passwords pass every other rule: a refusal below is the filter's. */
START_TEST(test_passwords_pass)
{
	static const char *const good[] = { LISTED_A, LISTED_B, FREE_A, FREE_B, CAFE_NFC,
					    CAFE_NFD };
	struct rules_context ctx = { .user = "alice", .gecos = "Alice Wonderland,,," };
	struct rules_result res;
	char codes[512], hex[41];
	struct policy p;

	/* The lib's SHA-1 is the one HIBP uses (FIPS 180-4 test vector). */
	sha1_hex("abc", hex);
	ck_assert_str_eq(hex, "A9993E364706816ABA3E25717850C26C9CD0D89D");
	policy_defaults(&p);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_int_eq(rules_check(&p, good[i], &ctx, &res), PP_OK);
		rules_format_codes(&res, codes, sizeof(codes));
		ck_assert_msg(res.count == 0, "test password %zu fails: %s", i, codes);
	}
}
END_TEST

/* A plain list: a listed password refused through PAM, the others accepted. */
START_TEST(test_plain_list_through_pam)
{
	const char *list = in_dir("list.txt");
	const char *filter = in_dir("breached.ppbl");
	struct harness_conv c;
	char *audit;
	int rc;

	harness_write(list, "123456\npassword\n" LISTED_A "\n" LISTED_B "\nqwerty\n");
	build_filter(filter, NULL, list, NULL);
	start_with(filter);
	write_stack(NULL);

	assert_refused_breached("alice", LISTED_A);
	assert_refused_breached("bob", LISTED_B);
	assert_accepted("alice", FREE_A);
	assert_accepted("bob", FREE_B);

	/* Every reason at once: a short listed password gets both. */
	rc = change("alice", "123456", &c);
	ck_assert_int_eq(rc, PAM_AUTHTOK_ERR);
	ck_assert_ptr_nonnull(strstr(c.log, "It is too short"));
	ck_assert_ptr_nonnull(strstr(c.log, BREACH_SENTENCE));

	/* The rejections are audited with the reason code, never the password. */
	audit = audit_log();
	ck_assert_msg(count_of(audit, "\"breached\"") >= 3, "audit log:\n%s", audit);
	ck_assert(strstr(audit, LISTED_A) == NULL && strstr(audit, LISTED_B) == NULL);
	free(audit);
}
END_TEST

/* A HIBP SHA-1 file (HASH:COUNT, unsorted, CRLF): --min-count decides. */
START_TEST(test_hibp_min_count_through_pam)
{
	static const struct hibp_entry entries[] = {
		{ LISTED_A, 50 }, { LISTED_B, 3 },
	};
	const char *hibp = in_dir("pwned-sha1.txt");
	const char *all = in_dir("all.ppbl"), *frequent = in_dir("frequent.ppbl");
	struct harness_conv c;
	char args[4600];
	int rc;

	write_hibp(hibp, entries, 2, 2000);
	build_filter(all, NULL, hibp, NULL);
	build_filter(frequent, "10", hibp, NULL);

	start_with(all);
	write_stack(NULL);
	assert_refused_breached("alice", LISTED_A);
	assert_refused_breached("alice", LISTED_B);
	assert_accepted("alice", FREE_A);

	/* With --min-count 10 only the password seen 50 times is listed: the
	 * module argument names the other filter for this stack. */
	snprintf(args, sizeof(args), "retry=1 blocklist=%s", frequent);
	{
		struct harness_stack spec = {
			.config = daemon_state.config, .check_args = args,
			.writer_file = written, .record = true,
		};
		harness_stack_write(dir, "passwd", &spec);
	}
	assert_refused_breached("bob", LISTED_A);
	rc = change("bob", LISTED_B, &c);
	ck_assert_msg(rc == PAM_SUCCESS, "%s\n%s", pam_strerror(NULL, rc), c.log);
}
END_TEST

/*
 * The other shapes Have I Been Pwned publishes: NTLM hashes (MD4 of the
 * UTF-16LE password) in a HASH:COUNT file, and a directory of SHA-1 range
 * files (named by the first 5 hex digits, holding SUFFIX:COUNT lines).
 */
START_TEST(test_hibp_ntlm_and_range_dir)
{
	const char *ntlm = in_dir("pwned-ntlm.txt"), *ntlm_filter = in_dir("ntlm.ppbl");
	const char *ranges = in_dir("ranges"), *range_filter = in_dir("ranges.ppbl");
	uint8_t d[BLOCKLIST_DIGEST_MAX];
	char hex[2 * BLOCKLIST_DIGEST_MAX + 1], path[4600], args[4600];
	struct harness_stack spec = {
		.check_args = args, .writer_file = written, .record = true,
	};
	FILE *f;
	size_t n;

	f = fopen(ntlm, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 500; i++) {
		char filler[64];
		snprintf(filler, sizeof(filler), "ntlm-filler-%d", i);
		n = blocklist_key(BLOCKLIST_NTLM, filler, strlen(filler), d);
		ck_assert_uint_eq(n, BLOCKLIST_NTLM_LEN);
		hex_upper(d, n, hex);
		fprintf(f, "%s:%d\r\n", hex, 1 + i);
	}
	n = blocklist_key(BLOCKLIST_NTLM, LISTED_A, strlen(LISTED_A), d);
	hex_upper(d, n, hex);
	fprintf(f, "%s:12\r\n", hex);
	ck_assert_int_eq(fclose(f), 0);
	build_filter(ntlm_filter, NULL, ntlm, NULL);

	/* Range files: LISTED_B's, and a neighbour without it. */
	ck_assert_int_eq(mkdir(ranges, 0755), 0);
	sha1_hex(LISTED_B, hex);
	snprintf(path, sizeof(path), "%s/%.5s", ranges, hex);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s:9\r\n", hex + 5);
	ck_assert_int_eq(fclose(f), 0);
	sha1_hex(FREE_B, hex);
	snprintf(path, sizeof(path), "%s/%.5s", ranges, hex);
	f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s:4\r\n", "0123456789ABCDEF0123456789ABCDEF012");
	ck_assert_int_eq(fclose(f), 0);
	build_filter(range_filter, NULL, ranges, NULL);

	start_with(ntlm_filter);
	spec.config = daemon_state.config;
	snprintf(args, sizeof(args), "retry=1");
	harness_stack_write(dir, "passwd", &spec);
	assert_refused_breached("alice", LISTED_A);
	assert_accepted("alice", FREE_A);

	snprintf(args, sizeof(args), "retry=1 blocklist=%s", range_filter);
	harness_stack_write(dir, "passwd", &spec);
	assert_refused_breached("bob", LISTED_B);
	assert_accepted("bob", FREE_B);
}
END_TEST

/* NFC and NFD forms of a listed password are both refused. */
START_TEST(test_nfc_nfd_refused)
{
	const char *list = in_dir("nfd-list.txt"), *hibp = in_dir("nfd-sha1.txt");
	const char *plain = in_dir("plain.ppbl"), *typed = in_dir("typed.ppbl");
	static const struct hibp_entry nfd_only[] = { { CAFE_NFD, 7 } };
	char args[4600];

	/* The plain list holds the decomposed form; the builder keeps its NFC. */
	harness_write(list, CAFE_NFD "\n");
	build_filter(plain, NULL, list, NULL);
	start_with(plain);
	write_stack(NULL);
	assert_refused_breached("alice", CAFE_NFC);
	assert_refused_breached("alice", CAFE_NFD);

	/* A HIBP file knows only the bytes someone typed (here decomposed):
	 * that password, typed so, is refused as typed (before NFC). */
	write_hibp(hibp, nfd_only, 1, 0);
	build_filter(typed, NULL, hibp, NULL);
	snprintf(args, sizeof(args), "retry=1 blocklist=%s", typed);
	{
		struct harness_stack spec = {
			.config = daemon_state.config, .check_args = args,
			.writer_file = written, .record = true,
		};
		harness_stack_write(dir, "passwd", &spec);
	}
	assert_refused_breached("bob", CAFE_NFD);
	assert_accepted("bob", FREE_B);
}
END_TEST

/* The core of the password ("P@ssw0rd" -> "password") is looked up too. */
START_TEST(test_core_is_looked_up)
{
	const char *list = in_dir("words.txt"), *filter = in_dir("words.ppbl");
	struct policy p;
	struct rules_context ctx = { .user = "alice" };
	struct rules_result res;
	char why[512];

	harness_write(list, "sunflowerkingdom\n");
	build_filter(filter, NULL, list, NULL);
	policy_defaults(&p);
	ck_assert_int_eq(policy_set(&p, "blocklist", filter, POLICY_SOURCE_FILE, why,
				    sizeof(why)), PP_OK);
	ck_assert_int_eq(rules_blocklist_open(&p, &ctx.blocklist, why, sizeof(why)), PP_OK);
	ck_assert_ptr_nonnull(ctx.blocklist);
	ck_assert_int_eq(rules_check(&p, "Sunfl0werK1ngdom!2024", &ctx, &res), PP_OK);
	ck_assert(res.failed[RULE_BREACHED]);
	ck_assert_int_eq(rules_check(&p, FREE_A, &ctx, &res), PP_OK);
	ck_assert(!res.failed[RULE_BREACHED]);
	blocklist_close(ctx.blocklist);
}
END_TEST

/*
 * A truncated file, a corrupt header, corrupt pages and a missing file,
 * named in the configuration: the change is refused with the "cannot be
 * checked" message and a syslog line that names the file. pam_policyctl
 * check and doctor say the same.
 */
static void assert_broken_filter_refuses(const char *filter, const char *what)
{
	struct harness_conv c;
	char *log, path[4400];
	int rc;

	snprintf(path, sizeof(path), "%s/syslog.txt", dir);
	capture_begin(path);
	rc = change("alice", FREE_A, &c);
	log = capture_end(path);
	ck_assert_msg(rc == PAM_AUTHTOK_ERR, "%s filter: %s", what, pam_strerror(NULL, rc));
	ck_assert_msg(strstr(c.log, UNAVAILABLE_SENTENCE) != NULL, "%s filter:\n%s", what,
		      c.log);
	ck_assert_msg(strstr(log, "configuration error: ") != NULL &&
		      strstr(log, "breach filter") != NULL && strstr(log, filter) != NULL,
		      "%s filter, log:\n%s", what, log);
	free(log);
}

START_TEST(test_broken_filters_refuse_changes)
{
	const char *list = in_dir("list.txt"), *good = in_dir("good.ppbl");
	const char *truncated = in_dir("truncated.ppbl"), *corrupt = in_dir("corrupt.ppbl");
	const char *missing = in_dir("missing.ppbl"), *badpages = in_dir("badpages.ppbl");
	struct blocklist *bl = NULL;
	struct blocklist_info info;
	char why[512];
	struct harness_stack spec = {
		.config = NULL, .check_args = NULL, .writer_file = written, .record = true,
	};
	const char *cfg_args[] = { "-c", NULL, "check", NULL };
	const char *doctor_args[] = { "-c", NULL, "doctor", NULL };
	char args[4600], *data;
	struct stat st;
	struct harness_run r;
	int fd;

	harness_write(list, LISTED_A "\n");
	for (int i = 0; i < 3000; i++) {
		char line[64];
		FILE *f = fopen(list, "a");
		ck_assert_ptr_nonnull(f);
		snprintf(line, sizeof(line), "another-leaked-%d\n", i);
		fputs(line, f);
		fclose(f);
	}
	build_filter(good, NULL, list, NULL);
	ck_assert_int_eq(stat(good, &st), 0);
	data = harness_read(good);
	ck_assert_ptr_nonnull(data);

	/* Truncated: the first half of the file. */
	fd = open(truncated, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, (size_t)st.st_size / 2), st.st_size / 2);
	close(fd);
	/* Corrupt: one byte of the header changed. */
	fd = open(corrupt, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	data[20] ^= 0x5a;
	ck_assert_int_eq(write(fd, data, (size_t)st.st_size), st.st_size);
	close(fd);
	data[20] ^= 0x5a;
	/* Bad pages: one byte changed in every data page (pages 1..P follow
	 * the header page): the header and directory are fine, so it opens,
	 * and the one page a lookup reads fails its check. */
	ck_assert_int_eq(blocklist_open(good, &bl, why, sizeof(why)), PP_OK);
	ck_assert_int_eq(blocklist_info(bl, &info, false), PP_OK);
	blocklist_close(bl);
	ck_assert_uint_gt(info.pages, 0);
	for (uint32_t page = 1; page <= info.pages; page++)
		data[(size_t)page * BLOCKLIST_PAGE_SIZE + 100] ^= 0x5a;
	fd = open(badpages, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, (size_t)st.st_size), st.st_size);
	close(fd);
	free(data);

	start_with(good);
	spec.config = daemon_state.config;
	spec.check_args = args;
	snprintf(args, sizeof(args), "retry=1 blocklist=%s", truncated);
	harness_stack_write(dir, "passwd", &spec);
	assert_broken_filter_refuses(truncated, "truncated");
	snprintf(args, sizeof(args), "retry=1 blocklist=%s", corrupt);
	harness_stack_write(dir, "passwd", &spec);
	assert_broken_filter_refuses(corrupt, "corrupt");
	snprintf(args, sizeof(args), "retry=1 blocklist=%s", missing);
	harness_stack_write(dir, "passwd", &spec);
	assert_broken_filter_refuses(missing, "missing");
	snprintf(args, sizeof(args), "retry=1 blocklist=%s", badpages);
	harness_stack_write(dir, "passwd", &spec);
	assert_broken_filter_refuses(badpages, "bad-page");

	/* The good one still works, from the daemon's configuration. */
	snprintf(args, sizeof(args), "retry=1");
	harness_stack_write(dir, "passwd", &spec);
	assert_refused_breached("alice", LISTED_A);

	/* pam_policyctl check: the verdict with the filter, then the broken one. */
	cfg_args[1] = daemon_state.config;
	run_ctl(&r, LISTED_A "\n", cfg_args);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.out, BREACH_SENTENCE));
	ck_assert_ptr_nonnull(strstr(r.out, "Breach filter: "));
	harness_run_free(&r);
	run_ctl(&r, FREE_A "\n", cfg_args);
	ck_assert_int_eq(r.status, 0);
	harness_run_free(&r);
	doctor_args[1] = daemon_state.config;
	run_ctl(&r, NULL, doctor_args);
	ck_assert_msg(strstr(r.out, "ok: breach check on: ") != NULL &&
		      strstr(r.out, "3001 entries") != NULL, "doctor:\n%s", r.out);
	harness_run_free(&r);

	{
		char conf[4400];
		char *text = harness_read(daemon_state.config);
		const char *bad_cfg[] = { "-c", conf, "check", NULL };
		const char *bad_doctor[] = { "-c", conf, "doctor", NULL };
		FILE *f;

		snprintf(conf, sizeof(conf), "%s/truncated.conf", dir);
		f = fopen(conf, "w");
		ck_assert_ptr_nonnull(f);
		fprintf(f, "%sblocklist = %s\n", text, truncated);
		fclose(f);
		free(text);
		run_ctl(&r, FREE_A "\n", bad_cfg);
		ck_assert_int_eq(r.status, 6);
		ck_assert_ptr_nonnull(strstr(r.err, truncated));
		harness_run_free(&r);
		run_ctl(&r, NULL, bad_doctor);
		ck_assert_msg(strstr(r.out, "problem: breach filter: ") != NULL &&
			      strstr(r.out, truncated) != NULL, "doctor:\n%s", r.out);
		ck_assert_int_ne(r.status, 0);
		harness_run_free(&r);
		/* Bad pages: doctor reads every page of a small filter. */
		text = harness_read(daemon_state.config);
		f = fopen(conf, "w");
		ck_assert_ptr_nonnull(f);
		fprintf(f, "%sblocklist = %s\n", text, badpages);
		fclose(f);
		free(text);
		run_ctl(&r, NULL, bad_doctor);
		ck_assert_msg(strstr(r.out, "is corrupt") != NULL && strstr(r.out, badpages) != NULL,
			      "doctor:\n%s", r.out);
		harness_run_free(&r);
	}
}
END_TEST

/* No file at the default path: the check is off, silently. */
START_TEST(test_default_path_absent_is_off)
{
	struct blocklist *bl = (struct blocklist *)&bl;
	struct policy p;
	char why[512] = "x";

	if (access(PATHS_BLOCKLIST, F_OK) == 0 || errno != ENOENT)
		HARNESS_SKIP("a breach filter is installed at the default path here");
	policy_defaults(&p);
	ck_assert_str_eq(p.blocklist, PATHS_BLOCKLIST);
	ck_assert_int_eq(rules_blocklist_open(&p, &bl, why, sizeof(why)), PP_OK);
	ck_assert_ptr_null(bl);
	ck_assert_str_eq(why, "");
	/* Named explicitly, the same missing file is a configuration error. */
	ck_assert_int_eq(policy_set(&p, "blocklist", PATHS_BLOCKLIST, POLICY_SOURCE_FILE,
				    why, sizeof(why)), PP_OK);
	ck_assert_int_eq(rules_blocklist_open(&p, &bl, why, sizeof(why)), PP_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(why, PATHS_BLOCKLIST));
	/* Empty: off, even where a file exists. */
	ck_assert_int_eq(policy_set(&p, "blocklist", "", POLICY_SOURCE_FILE, why,
				    sizeof(why)), PP_OK);
	ck_assert_int_eq(rules_blocklist_open(&p, &bl, why, sizeof(why)), PP_OK);
	ck_assert_ptr_null(bl);
}
END_TEST

/* The daemon down: the breach check (local, one pread) still refuses. */
START_TEST(test_daemon_down_still_refuses)
{
	const char *list = in_dir("list.txt"), *filter = in_dir("breached.ppbl");
	struct harness_conv c;
	int status, rc;

	harness_write(list, LISTED_A "\n");
	build_filter(filter, NULL, list, NULL);
	start_with(filter);
	write_stack(NULL);
	status = harness_daemon_stop(&daemon_state);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	rc = change("alice", LISTED_A, &c);
	ck_assert_int_eq(rc, PAM_AUTHTOK_ERR);
	ck_assert_msg(strstr(c.log, BREACH_SENTENCE) != NULL, "%s", c.log);
	/* ...reported with the history that could not be checked. */
	ck_assert_ptr_nonnull(strstr(c.log, "history check could not run"));
}
END_TEST

/*
 * A rebuild while checks run: one thread checks a password over and over
 * (each check opens the filter, as the module does per call) while the
 * main thread rebuilds the filter with and without it, renaming it into
 * place each time. Every check answers listed or not listed - never an
 * error - and each new file's verdict is seen without restarting anything
 * (the main thread waits for it before the next rebuild).
 */
struct checker {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct policy policy;
	bool stop;
	int last;                /* -1 none yet, 0 not listed, 1 listed */
	unsigned checks, errors, listed, unlisted;
	char why[512];
};

static void *checker_run(void *arg)
{
	struct checker *k = arg;

	for (;;) {
		struct blocklist *bl = NULL;
		bool listed = false, stop;
		char why[512] = "";
		pp_err rc = rules_blocklist_open(&k->policy, &bl, why, sizeof(why));

		if (rc == PP_OK && bl == NULL) {
			rc = PP_ERR_NOT_FOUND;
			snprintf(why, sizeof(why), "the filter vanished");
		}
		if (rc == PP_OK) {
			rc = rules_breached(bl, LISTED_A, &listed);
			if (rc != PP_OK)
				snprintf(why, sizeof(why), "lookup: %s", strerror(errno));
		}
		blocklist_close(bl);
		pthread_mutex_lock(&k->lock);
		k->checks++;
		if (rc != PP_OK) {
			k->errors++;
			snprintf(k->why, sizeof(k->why), "%s", why);
		} else {
			k->last = listed ? 1 : 0;
			if (listed)
				k->listed++;
			else
				k->unlisted++;
		}
		pthread_cond_broadcast(&k->changed);
		stop = k->stop;
		pthread_mutex_unlock(&k->lock);
		if (stop)
			return NULL;
	}
}

START_TEST(test_rebuild_while_checking)
{
	const char *with = in_dir("with.txt"), *without = in_dir("without.txt");
	const char *filter = in_dir("live.ppbl");
	struct checker k;
	pthread_t thread;
	char why[512];

	harness_write(with, LISTED_A "\nsomething-else\n");
	harness_write(without, "something-else\nand-another\n");
	build_filter(filter, NULL, with, NULL);
	memset(&k, 0, sizeof(k));
	pthread_mutex_init(&k.lock, NULL);
	pthread_cond_init(&k.changed, NULL);
	k.last = -1;
	policy_defaults(&k.policy);
	ck_assert_int_eq(policy_set(&k.policy, "blocklist", filter, POLICY_SOURCE_FILE, why,
				    sizeof(why)), PP_OK);
	ck_assert_int_eq(pthread_create(&thread, NULL, checker_run, &k), 0);
	for (int round = 0; round < 8; round++) {
		int want = round % 2 == 0 ? 0 : 1;

		build_filter(filter, NULL, want ? with : without, NULL);
		pthread_mutex_lock(&k.lock);
		while (k.last != want && k.errors == 0)
			pthread_cond_wait(&k.changed, &k.lock);
		ck_assert_msg(k.errors == 0, "a check failed during a rebuild: %s", k.why);
		/* The next check after it is seen is on this file too. */
		k.last = -1;
		while (k.last == -1 && k.errors == 0)
			pthread_cond_wait(&k.changed, &k.lock);
		ck_assert_int_eq(k.last, want);
		pthread_mutex_unlock(&k.lock);
	}
	pthread_mutex_lock(&k.lock);
	k.stop = true;
	pthread_mutex_unlock(&k.lock);
	ck_assert_int_eq(pthread_join(thread, NULL), 0);
	ck_assert_msg(k.errors == 0, "%u of %u checks failed: %s", k.errors, k.checks, k.why);
	ck_assert_uint_gt(k.listed, 0);
	ck_assert_uint_gt(k.unlisted, 0);
	ck_assert_uint_eq(k.listed + k.unlisted, k.checks);
}
END_TEST

/*
 * Breached at login: the auth line finds the password just typed in the
 * filter, the daemon flags the account (must-change, reason breached) and
 * audits breach_detected without the password, the account line of the
 * same login forces a change at once, and the change clears the flag.
 */
START_TEST(test_login_with_breached_password)
{
	const char *list = in_dir("list.txt"), *filter = in_dir("breached.ppbl");
	struct harness_login login = { .authenticate = true, .tty = "pts/3",
				       .rhost = "198.51.100.7" };
	struct request_status_result st;
	struct harness_conv c;
	const char *answers[] = { FREE_A, FREE_A, NULL };
	char *audit;
	int rc;

	harness_write(list, LISTED_A "\n" LISTED_B "\n");
	build_filter(filter, NULL, list, NULL);
	start_with(filter);

	/* An unlisted login password: nothing happens. */
	write_stack(FREE_B);
	harness_conv_init(&c, NULL);
	rc = harness_pam_acct_mgmt_with(dir, "passwd", "bob", 0, &login, &c);
	ck_assert_msg(rc == PAM_SUCCESS, "%s\n%s", pam_strerror(NULL, rc), c.log);
	ck_assert_int_eq(request_status(daemon_state.socket, TIMEOUT_MS, "bob", 90, 14, &st),
			 PP_OK);
	ck_assert(!st.must_change);

	/* A listed one: flagged, and the same login must change now. */
	write_stack(LISTED_A);
	harness_conv_init(&c, NULL);
	rc = harness_pam_acct_mgmt_with(dir, "passwd", "alice", 0, &login, &c);
	ck_assert_msg(rc == PAM_NEW_AUTHTOK_REQD, "%s\n%s", pam_strerror(NULL, rc), c.log);
	ck_assert_msg(strstr(c.log, "appears in a list of passwords exposed in data "
			     "breaches") != NULL, "%s", c.log);
	ck_assert_int_eq(request_status(daemon_state.socket, TIMEOUT_MS, "alice", 90, 14,
					&st), PP_OK);
	ck_assert(st.must_change);
	ck_assert(st.must_change_breached);
	ck_assert_int_eq(st.state, AGING_MUST_CHANGE);
	audit = audit_log();
	ck_assert_msg(strstr(audit, "\"breach_detected\"") != NULL, "%s", audit);
	ck_assert_ptr_nonnull(strstr(audit, "198.51.100.7"));
	ck_assert(strstr(audit, LISTED_A) == NULL);
	free(audit);

	/* The next login with it is sent to change again. */
	harness_conv_init(&c, NULL);
	rc = harness_pam_acct_mgmt_with(dir, "passwd", "alice", 0, &login, &c);
	ck_assert_int_eq(rc, PAM_NEW_AUTHTOK_REQD);

	/* The forced change: the listed password again is refused... */
	assert_refused_breached("alice", LISTED_B);
	/* ...an unlisted one goes through and clears the flag. */
	harness_conv_init(&c, answers);
	rc = harness_pam_chauthtok(dir, "passwd", "alice", PAM_CHANGE_EXPIRED_AUTHTOK, &c);
	ck_assert_msg(rc == PAM_SUCCESS, "%s\n%s", pam_strerror(NULL, rc), c.log);
	ck_assert_int_eq(request_status(daemon_state.socket, TIMEOUT_MS, "alice", 90, 14,
					&st), PP_OK);
	ck_assert(!st.must_change);
	ck_assert(!st.must_change_breached);
	/* A login with the new password is a plain login. */
	write_stack(FREE_A);
	harness_conv_init(&c, NULL);
	rc = harness_pam_acct_mgmt_with(dir, "passwd", "alice", 0, &login, &c);
	ck_assert_msg(rc == PAM_SUCCESS, "%s\n%s", pam_strerror(NULL, rc), c.log);
	audit = audit_log();
	ck_assert_msg(strstr(audit, "\"forced_change_completed\"") != NULL, "%s", audit);
	ck_assert(strstr(audit, LISTED_A) == NULL && strstr(audit, FREE_A) == NULL);
	free(audit);
}
END_TEST

/* The auth line never fails a login: no daemon, a broken filter, no filter. */
START_TEST(test_auth_line_never_locks_out)
{
	const char *list = in_dir("list.txt"), *filter = in_dir("breached.ppbl");
	struct harness_login login = { .authenticate = true };
	struct harness_conv c;
	int status, rc;

	harness_write(list, LISTED_A "\n");
	build_filter(filter, NULL, list, NULL);
	start_with(filter);
	write_stack(LISTED_A);
	status = harness_daemon_stop(&daemon_state);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* The daemon down: authentication passes; the account line lets the
	 * login through (on_unreachable_account = allow), it cannot record a
	 * forced change that no one could then make. */
	harness_conv_init(&c, NULL);
	rc = harness_pam_acct_mgmt_with(dir, "passwd", "alice", 0, &login, &c);
	ck_assert_msg(rc == PAM_SUCCESS, "%s\n%s", pam_strerror(NULL, rc), c.log);

	/* A truncated filter: authentication still passes. */
	ck_assert_int_eq(truncate(filter, 100), 0);
	harness_conv_init(&c, NULL);
	rc = harness_pam_acct_mgmt_with(dir, "passwd", "alice", 0, &login, &c);
	ck_assert_msg(rc == PAM_SUCCESS, "%s\n%s", pam_strerror(NULL, rc), c.log);
}
END_TEST

/*
 * PROTO_BREACHED is root's (the module's auth line) alone: another user
 * cannot flag anyone, not even itself, and a malformed one is refused.
 */
START_TEST(test_breached_request_root_only)
{
	const char *list = in_dir("list.txt"), *filter = in_dir("breached.ppbl");
	struct request_status_result st;
	char rundir[4300];
	int status;
	pid_t pid;

	if (!harness_is_root())
		HARNESS_SKIP("needs root (to become another user)");
	harness_write(list, LISTED_A "\n");
	build_filter(filter, NULL, list, NULL);
	start_with(filter);
	snprintf(rundir, sizeof(rundir), "%s/run", dir);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* bob (uid 1002) asks for alice and for himself. */
		if (chdir(rundir) != 0 || setgroups(0, NULL) != 0 || setgid(1002) != 0 ||
		    setuid(1002) != 0)
			_exit(10);
		if (request_breached("pd.sock", TIMEOUT_MS, "alice", "x", "", "") != PP_ERR_DENIED)
			_exit(11);
		if (request_breached("pd.sock", TIMEOUT_MS, "bob", "x", "", "") != PP_ERR_DENIED)
			_exit(12);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child step %d",
		      WEXITSTATUS(status));
	ck_assert_int_eq(request_status(daemon_state.socket, TIMEOUT_MS, "alice", 90, 14, &st),
			 PP_OK);
	ck_assert(!st.must_change);
	/* Root may; a user NSS does not know is not flagged. */
	ck_assert_int_eq(request_breached(daemon_state.socket, TIMEOUT_MS, "nosuchuser", "su",
					  "", ""), PP_ERR_NOT_FOUND);
	ck_assert_int_eq(request_breached(daemon_state.socket, TIMEOUT_MS, "alice", "su",
					  "", ""), PP_OK);
	ck_assert_int_eq(request_status(daemon_state.socket, TIMEOUT_MS, "alice", 90, 14, &st),
			 PP_OK);
	ck_assert(st.must_change && st.must_change_breached);
}
END_TEST

/* doctor checks where the breachcheck line sits in a PAM file. */
START_TEST(test_doctor_auth_line)
{
	const char *good = in_dir("common-auth"), *early = in_dir("early-auth");
	struct doctor_findings f;
	bool uses = false;
	char *text = NULL;
	size_t size = 0;
	FILE *out;

	harness_write(good, "auth [success=1 default=ignore] pam_unix.so nullok\n"
			    "auth requisite pam_deny.so\n"
			    "auth required pam_permit.so\n"
			    "auth optional pam_policy.so breachcheck\n");
	harness_write(early, "auth optional pam_policy.so breachcheck\n"
			     "auth required pam_unix.so\n"
			     "auth optional pam_policy.so\n");
	doctor_findings_init(&f);
	ck_assert_int_eq(doctor_pam_file(good, &f, &uses), PP_OK);
	ck_assert(uses);
	ck_assert_uint_eq(doctor_problems(&f), 0);
	ck_assert_int_eq(doctor_pam_file(early, &f, &uses), PP_OK);
	ck_assert_uint_eq(doctor_problems(&f), 2);
	out = open_memstream(&text, &size);
	ck_assert_ptr_nonnull(out);
	doctor_print(&f, out);
	fclose(out);
	ck_assert_msg(strstr(text, "breach check at login, after pam_unix.so (line 1)") &&
		      strstr(text, "comes before the module that authenticates") &&
		      strstr(text, "without breachcheck does nothing"), "%s", text);
	free(text);
	doctor_findings_free(&f);
}
END_TEST

/* pam_policy.so exports the auth functions too, and nothing of lib/. */
START_TEST(test_module_exports)
{
	void *h = dlopen(harness_build("pam_policy.so"), RTLD_NOW | RTLD_LOCAL);

	ck_assert_msg(h != NULL, "dlopen: %s", dlerror());
	ck_assert_ptr_nonnull(dlsym(h, "pam_sm_authenticate"));
	ck_assert_ptr_nonnull(dlsym(h, "pam_sm_setcred"));
	ck_assert_ptr_nonnull(dlsym(h, "pam_sm_chauthtok"));
	ck_assert_ptr_nonnull(dlsym(h, "pam_sm_acct_mgmt"));
	ck_assert_ptr_null(dlsym(h, "rules_breached"));
	ck_assert_ptr_null(dlsym(h, "blocklist_open"));
	dlclose(h);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("breach");
	TCase *tc = tcase_create("breach");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_passwords_pass);
	tcase_add_test(tc, test_plain_list_through_pam);
	tcase_add_test(tc, test_hibp_min_count_through_pam);
	tcase_add_test(tc, test_hibp_ntlm_and_range_dir);
	tcase_add_test(tc, test_nfc_nfd_refused);
	tcase_add_test(tc, test_core_is_looked_up);
	tcase_add_test(tc, test_broken_filters_refuse_changes);
	tcase_add_test(tc, test_default_path_absent_is_off);
	tcase_add_test(tc, test_daemon_down_still_refuses);
	tcase_add_test(tc, test_rebuild_while_checking);
	tcase_add_test(tc, test_login_with_breached_password);
	tcase_add_test(tc, test_auth_line_never_locks_out);
	tcase_add_test(tc, test_breached_request_root_only);
	tcase_add_test(tc, test_doctor_auth_line);
	tcase_add_test(tc, test_module_exports);
	suite_add_tcase(s, tc);
	return s;
}
