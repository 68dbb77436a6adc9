/*
 * test_blocklist.c - the breach filter: SHA-1 and MD4/NTLM against known
 * vectors, "pam_policyctl blocklist build" from HIBP-shaped files and
 * range directories (generated here from known passwords) and from plain
 * lists, lookups through lib/blocklist.c, --min-count, NFC and NFD forms,
 * bad input named by file and line, truncated and corrupt files refused
 * with a reason, one page read per lookup, unsorted input sorted in
 * several runs, and the atomic replace under an open reader.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "blocklist.h"
#include "digest.h"
#include "harness.h"

static char dir[4096];
static char why[512];

static void setup(void)
{
	harness_tmpdir(dir, sizeof(dir));
	why[0] = '\0';
}

static void teardown(void)
{
	harness_rmtree(dir);
}

static const char *in_dir(const char *name)
{
	static char bufs[8][4300];
	static unsigned next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

static void hex(const uint8_t *d, size_t n, char *out, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static void sha1_hex(const char *s, char *out)
{
	uint8_t d[DIGEST_SHA1_LEN];
	digest_sha1(s, strlen(s), d);
	hex(d, sizeof(d), out, false);
}

static void md4_hex(const void *s, size_t len, char *out)
{
	uint8_t d[DIGEST_MD4_LEN];
	digest_md4(s, len, d);
	hex(d, sizeof(d), out, false);
}

/* The HIBP line "HASH" of password pw in kind (upper-case hex, as HIBP). */
static void key_hex(enum blocklist_kind kind, const char *pw, char *out)
{
	uint8_t d[BLOCKLIST_DIGEST_MAX];
	size_t n = blocklist_key(kind, pw, strlen(pw), d);

	ck_assert_uint_gt(n, 0);
	hex(d, n, out, true);
}

/* ---- running pam_policyctl ---- */

struct run {
	int status;
	char *out, *err;
};

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* build/pam_policyctl with args (NULL-terminated), input on stdin. */
static void run_ctl(struct run *r, const char *input, const char *const *args)
{
	/* own buffers: in_dir's rotate, and the caller holds some of them */
	static char in[4300], out[4300], err[4300];
	const char *argv[40];
	int n = 0, status;
	pid_t pid;

	snprintf(in, sizeof(in), "%s/ctl.in", dir);
	snprintf(out, sizeof(out), "%s/ctl.out", dir);
	snprintf(err, sizeof(err), "%s/ctl.err", dir);
	harness_write(in, input != NULL ? input : "");
	argv[n++] = "pam_policyctl";
	for (int i = 0; args[i] != NULL && n < 39; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fi = open(in, O_RDONLY), fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fi < 0 || fo < 0 || fe < 0 || dup2(fi, 0) < 0 || dup2(fo, 1) < 0 ||
		    dup2(fe, 2) < 0)
			_exit(126);
		execv(harness_build("pam_policyctl"), (char *const *)argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->out = harness_read(out);
	r->err = harness_read(err);
	ck_assert_ptr_nonnull(r->out);
	ck_assert_ptr_nonnull(r->err);
}

/* "blocklist build -o out extra... inputs..." must succeed. */
static void build_ok(const char *out, const char *const *extra)
{
	const char *args[32] = { "blocklist", "build", "-o", out };
	struct run r;
	int n = 4;

	for (int i = 0; extra[i] != NULL && n < 31; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	run_ctl(&r, NULL, args);
	ck_assert_msg(r.status == 0, "build exit %d: %s", r.status, r.err);
	/* no progress line when standard error is not a terminal */
	ck_assert_str_eq(r.err, "");
	ck_assert_ptr_nonnull(strstr(r.out, "bits per entry"));
	run_free(&r);
}

static struct blocklist *open_ok(const char *path)
{
	struct blocklist *bl = NULL;

	ck_assert_msg(blocklist_open(path, &bl, why, sizeof(why)) == PP_OK, "%s", why);
	ck_assert_ptr_nonnull(bl);
	return bl;
}

static int has(struct blocklist *bl, const char *pw)
{
	return blocklist_contains(bl, pw, strlen(pw));
}

static const char *const listed[] = {
	"password", "123456", "qwerty", "letmein", "dragon", "monkey",
	"Sommer2024!", "iloveyou", "trustno1", "correct horse", "Passw0rd", "zaq12wsx",
};
#define NLISTED (sizeof(listed) / sizeof(listed[0]))

static const char *const unlisted[] = {
	"Tr0ub4dor&3-not-here", "blue-lantern-8713", "password1x", "PASSWORD",
	"123457", "", " password", "dragon ",
};
#define NUNLISTED (sizeof(unlisted) / sizeof(unlisted[0]))

/* A HASH:COUNT file: listed[i] seen i + 1 times, written in reverse
 * (unsorted) order, with CRLF line ends as the HIBP API sends them. */
static void write_hash_file(const char *path, enum blocklist_kind kind)
{
	FILE *f = fopen(path, "w");
	char h[2 * BLOCKLIST_DIGEST_MAX + 1];

	ck_assert_ptr_nonnull(f);
	for (size_t i = NLISTED; i-- > 0;) {
		key_hex(kind, listed[i], h);
		fprintf(f, "%s:%zu\r\n", h, i + 1);
	}
	fclose(f);
}

/* The same as a directory of range files (5-digit prefix names). */
static void write_range_dir(const char *path, enum blocklist_kind kind)
{
	char h[2 * BLOCKLIST_DIGEST_MAX + 1], file[4400];

	ck_assert_int_eq(mkdir(path, 0755), 0);
	for (size_t i = 0; i < NLISTED; i++) {
		FILE *f;
		key_hex(kind, listed[i], h);
		snprintf(file, sizeof(file), "%s/%.5s%s", path, h, i % 2 ? ".txt" : "");
		f = fopen(file, "a");
		ck_assert_ptr_nonnull(f);
		fprintf(f, "%s:%zu\n", h + 5, i + 1);
		fclose(f);
	}
}

static void assert_listed_only(struct blocklist *bl, size_t first)
{
	for (size_t i = 0; i < NLISTED; i++)
		ck_assert_msg(has(bl, listed[i]) == (i >= first), "listed[%zu]", i);
	for (size_t i = 0; i < NUNLISTED; i++)
		ck_assert_msg(has(bl, unlisted[i]) == 0, "unlisted[%zu]", i);
}

/* ---- digests ---- */

START_TEST(test_sha1_vectors)
{
	static const struct { const char *in, *out; } v[] = {
		{ "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
		{ "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ "password", "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
	};
	char out[41], *million;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sha1_hex(v[i].in, out);
		ck_assert_str_eq(out, v[i].out);
	}
	million = malloc(1000001);
	ck_assert_ptr_nonnull(million);
	memset(million, 'a', 1000000);
	million[1000000] = '\0';
	sha1_hex(million, out);
	ck_assert_str_eq(out, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	free(million);
}
END_TEST

START_TEST(test_md4_ntlm_vectors)
{
	/* RFC 1320 appendix A.5 */
	static const struct { const char *in, *out; } v[] = {
		{ "", "31d6cfe0d16ae931b73c59d7e0c089c0" },
		{ "a", "bde52cb31de33e46245e05fbdbd6fb24" },
		{ "abc", "a448017aaf21d8525fc10ae87aa6729d" },
		{ "message digest", "d9130a8164549fe818874806e1c7014b" },
		{ "abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9" },
		{ "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
		  "e33b4ddc9c38f2199c3e7b164fcc0536" },
	};
	uint8_t d[BLOCKLIST_DIGEST_MAX];
	char out[41];
	/* U+00E9 and U+1F600 (a surrogate pair in UTF-16) */
	const char *wide = "\xc3\xa9\xf0\x9f\x98\x80";
	const uint8_t utf16[] = { 0xe9, 0x00, 0x3d, 0xd8, 0x00, 0xde };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		md4_hex(v[i].in, strlen(v[i].in), out);
		ck_assert_str_eq(out, v[i].out);
	}
	ck_assert_uint_eq(blocklist_key(BLOCKLIST_NTLM, "password", 8, d), 16);
	hex(d, 16, out, true);
	ck_assert_str_eq(out, "8846F7EAEE8FB117AD06BDD830B7586C");
	ck_assert_uint_eq(blocklist_key(BLOCKLIST_NTLM, wide, strlen(wide), d), 16);
	hex(d, 16, out, false);
	{
		char want[33];
		md4_hex(utf16, sizeof(utf16), want);
		ck_assert_str_eq(out, want);
	}
	errno = 0;
	ck_assert_uint_eq(blocklist_key(BLOCKLIST_NTLM, "\xff", 1, d), 0);
	ck_assert_int_eq(errno, EILSEQ);
	ck_assert_uint_eq(blocklist_key(BLOCKLIST_SHA1, "password", 8, d), 20);
	hex(d, 20, out, false);
	ck_assert_str_eq(out, "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8");
}
END_TEST

/* ---- building and looking up ---- */

START_TEST(test_build_hash_file_sha1)
{
	const char *in = in_dir("pwned-sha1.txt"), *out = in_dir("f.ppbl");
	struct blocklist_info info;
	struct blocklist *bl;
	struct stat st;

	write_hash_file(in, BLOCKLIST_SHA1);
	build_ok(out, (const char *const[]){ in, NULL });
	ck_assert_int_eq(stat(out, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0644);
	bl = open_ok(out);
	assert_listed_only(bl, 0);
	ck_assert_int_eq(blocklist_info(bl, &info, true), PP_OK);
	ck_assert_uint_eq(info.entries, NLISTED);
	ck_assert_int_eq(info.kind, BLOCKLIST_SHA1);
	ck_assert_uint_eq(info.version, BLOCKLIST_VERSION);
	ck_assert(info.checksum_ok);
	ck_assert(info.fp_rate <= 1e-9);
	ck_assert_ptr_nonnull(strstr(info.sources, "pwned-sha1.txt 12"));
	blocklist_close(bl);
}
END_TEST

START_TEST(test_build_range_dirs)
{
	const char *sha = in_dir("sha1-ranges"), *ntlm = in_dir("ntlm-ranges");
	const char *out_sha = in_dir("s.ppbl"), *out_ntlm = in_dir("n.ppbl");
	struct blocklist_info info;
	struct blocklist *bl;
	uint8_t d[BLOCKLIST_DIGEST_MAX];

	write_range_dir(sha, BLOCKLIST_SHA1);
	write_range_dir(ntlm, BLOCKLIST_NTLM);
	build_ok(out_sha, (const char *const[]){ sha, NULL });
	build_ok(out_ntlm, (const char *const[]){ ntlm, NULL });
	bl = open_ok(out_sha);
	assert_listed_only(bl, 0);
	blocklist_close(bl);
	bl = open_ok(out_ntlm);
	ck_assert_int_eq(blocklist_info(bl, &info, true), PP_OK);
	ck_assert_int_eq(info.kind, BLOCKLIST_NTLM);
	ck_assert_uint_eq(info.entries, NLISTED);
	assert_listed_only(bl, 0);
	/* a digest of the wrong length is refused, not looked up */
	ck_assert_uint_eq(blocklist_key(BLOCKLIST_SHA1, "password", 8, d), 20);
	ck_assert_int_eq(blocklist_contains_hash(bl, d, 20), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(blocklist_key(BLOCKLIST_NTLM, "password", 8, d), 16);
	ck_assert_int_eq(blocklist_contains_hash(bl, d, 16), 1);
	blocklist_close(bl);
}
END_TEST

START_TEST(test_min_count)
{
	const char *in = in_dir("pwned.txt"), *out = in_dir("f.ppbl");
	struct blocklist *bl;

	write_hash_file(in, BLOCKLIST_SHA1);
	/* listed[i] was seen i + 1 times: --min-count 5 keeps listed[4..] */
	build_ok(out, (const char *const[]){ "--min-count", "5", in, NULL });
	bl = open_ok(out);
	assert_listed_only(bl, 4);
	blocklist_close(bl);
}
END_TEST

START_TEST(test_plain_list_nfc_nfd)
{
	const char *list = in_dir("words.txt"), *out = in_dir("w.ppbl");
	/* "Café" written decomposed (NFD), "naïve" composed (NFC) */
	const char *cafe_nfc = "Caf\xc3\xa9", *cafe_nfd = "Cafe\xcc\x81";
	const char *naive_nfc = "na\xc3\xafve";
	struct blocklist *bl;
	struct run r;
	char text[256];

	snprintf(text, sizeof(text), "%s\r\n%s\n\nsummer\n", cafe_nfd, naive_nfc);
	harness_write(list, text);
	build_ok(out, (const char *const[]){ list, NULL });
	bl = open_ok(out);
	ck_assert_int_eq(has(bl, cafe_nfc), 1);
	ck_assert_int_eq(has(bl, naive_nfc), 1);
	ck_assert_int_eq(has(bl, "summer"), 1);
	ck_assert_int_eq(has(bl, ""), 0);     /* the empty line is no entry */
	ck_assert_int_eq(has(bl, "Cafe"), 0);
	blocklist_close(bl);
	/* "blocklist check" finds the NFD form too (it looks up the NFC form) */
	snprintf(text, sizeof(text), "%s\n%s\nwinter\n", cafe_nfd, naive_nfc);
	run_ctl(&r, text, (const char *const[]){ "blocklist", "check", out, NULL });
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "1: listed\n2: listed\n3: not listed\n");
	run_free(&r);
}
END_TEST

START_TEST(test_ntlm_plain_list_kind)
{
	const char *list = in_dir("words.txt"), *hashes = in_dir("ntlm.txt"), *out = in_dir("n.ppbl");
	struct blocklist_info info;
	struct blocklist *bl;

	harness_write(list, "plainword\n");
	write_hash_file(hashes, BLOCKLIST_NTLM);
	/* the plain list is hashed the way the hash input is: NTLM */
	build_ok(out, (const char *const[]){ list, hashes, NULL });
	bl = open_ok(out);
	ck_assert_int_eq(blocklist_info(bl, &info, false), PP_OK);
	ck_assert_int_eq(info.kind, BLOCKLIST_NTLM);
	ck_assert_int_eq(has(bl, "plainword"), 1);
	ck_assert_int_eq(has(bl, "password"), 1);
	blocklist_close(bl);
}
END_TEST

/* The build fails with status 6, the message holding want, no output left. */
static void build_fails(const char *const *inputs, const char *want)
{
	char out[4300];
	const char *args[16] = { "blocklist", "build", "-o", out };
	struct run r;
	int n = 4;
	DIR *d;
	struct dirent *e;

	snprintf(out, sizeof(out), "%s/bad.ppbl", dir);
	for (int i = 0; inputs[i] != NULL; i++)
		args[n++] = inputs[i];
	args[n] = NULL;
	run_ctl(&r, NULL, args);
	ck_assert_msg(r.status == 6, "exit %d", r.status);
	ck_assert_msg(strstr(r.err, want) != NULL, "stderr \"%s\" lacks \"%s\"", r.err, want);
	run_free(&r);
	ck_assert_int_ne(access(out, F_OK), 0);
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		ck_assert_msg(strstr(e->d_name, "bad.ppbl") == NULL, "left behind: %s", e->d_name);
	closedir(d);
}

START_TEST(test_bad_input_named)
{
	const char *bad_utf8 = in_dir("bad-utf8.txt"), *bad_hash = in_dir("bad-hash.txt");
	const char *sha = in_dir("sha.txt"), *ntlm = in_dir("ntlm.txt"), *range = in_dir("r");
	char line[128], path[4400];

	harness_write(bad_utf8, "fine\nalso fine\nbad \xc3\x28 byte\n");
	snprintf(line, sizeof(line), "%s", bad_utf8);
	snprintf(path, sizeof(path), "%s:3: not valid UTF-8", bad_utf8);
	build_fails((const char *const[]){ bad_utf8, NULL }, path);

	harness_write(bad_hash, "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:3\n"
		      "7C4A8D09CA3762AF61E59520943DC26494F8941B:2\n"
		      "7C4A8D09CA3762AF61E59520943DC26494F8941:2\n");
	snprintf(path, sizeof(path), "%s:3: expected HASH:COUNT", bad_hash);
	build_fails((const char *const[]){ bad_hash, NULL }, path);

	harness_write(bad_hash, "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:3\n"
		      "7C4A8D09CA3762AF61E59520943DC26494F8941B:many\n");
	snprintf(path, sizeof(path), "%s:2:", bad_hash);
	build_fails((const char *const[]){ bad_hash, NULL }, path);

	write_hash_file(sha, BLOCKLIST_SHA1);
	write_hash_file(ntlm, BLOCKLIST_NTLM);
	build_fails((const char *const[]){ sha, ntlm, NULL }, "build one filter per kind");

	ck_assert_int_eq(mkdir(range, 0755), 0);
	snprintf(path, sizeof(path), "%s/README", range);
	harness_write(path, "not a range file\n");
	build_fails((const char *const[]){ range, NULL }, "README: not a range file");
	(void)line;
}
END_TEST

START_TEST(test_unsorted_input_in_runs)
{
	enum { N = 150000 };
	const char *in = in_dir("many.txt"), *one = in_dir("one.ppbl"), *runs = in_dir("runs.ppbl");
	struct blocklist_info a, b;
	struct blocklist *bl;
	char pw[32], h[41];
	FILE *f = fopen(in, "w");
	DIR *d;
	struct dirent *e;

	ck_assert_ptr_nonnull(f);
	/* a scrambled order, and every 10th hash twice */
	for (unsigned i = 0; i < N; i++) {
		unsigned j = (unsigned)((uint64_t)i * 7919 % N);
		snprintf(pw, sizeof(pw), "pw-%u", j);
		key_hex(BLOCKLIST_SHA1, pw, h);
		fprintf(f, "%s:%u\n", h, 1 + j % 7);
		if (j % 10 == 0)
			fprintf(f, "%s:%u\n", h, 1 + j % 7);
	}
	fclose(f);
	build_ok(one, (const char *const[]){ in, NULL });
	/* 1 MiB of sort memory holds 65536 entries: three runs, merged */
	build_ok(runs, (const char *const[]){ "--memory", "1", in, NULL });
	bl = open_ok(one);
	ck_assert_int_eq(blocklist_info(bl, &a, true), PP_OK);
	blocklist_close(bl);
	bl = open_ok(runs);
	ck_assert_int_eq(blocklist_info(bl, &b, true), PP_OK);
	ck_assert_uint_eq(a.entries, N);
	ck_assert_uint_eq(b.entries, N);
	ck_assert_uint_eq(a.file_size, b.file_size);
	ck_assert(b.checksum_ok);
	for (unsigned i = 0; i < N; i++) {
		snprintf(pw, sizeof(pw), "pw-%u", i);
		ck_assert_msg(has(bl, pw) == 1, "%s", pw);
	}
	for (unsigned i = N; i < N + 20000; i++) {
		snprintf(pw, sizeof(pw), "pw-%u", i);
		ck_assert_msg(has(bl, pw) == 0, "%s", pw);
	}
	blocklist_close(bl);
	/* the runs file and the temporary output are gone */
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		ck_assert_msg(strstr(e->d_name, ".runs-") == NULL &&
			      strstr(e->d_name, ".tmp-") == NULL, "left behind: %s", e->d_name);
	closedir(d);
}
END_TEST

START_TEST(test_one_page_read_per_lookup)
{
	enum { N = 50000 };
	const char *in = in_dir("list.txt"), *out = in_dir("f.ppbl");
	struct blocklist_info info;
	struct blocklist *bl;
	char pw[32];
	FILE *f = fopen(in, "w");

	ck_assert_ptr_nonnull(f);
	for (unsigned i = 0; i < N; i++)
		fprintf(f, "word%u\n", i);
	fclose(f);
	build_ok(out, (const char *const[]){ in, NULL });
	bl = open_ok(out);
	ck_assert_int_eq(blocklist_info(bl, &info, false), PP_OK);
	ck_assert_uint_gt(info.pages, 40);   /* many pages, one read each */
	ck_assert_uint_eq(info.page_reads, 0);
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(pw, sizeof(pw), "word%u", i * 37);
		ck_assert_int_eq(has(bl, pw), 1);
		snprintf(pw, sizeof(pw), "nope%u", i);
		ck_assert_int_eq(has(bl, pw), 0);
		ck_assert_int_eq(blocklist_info(bl, &info, false), PP_OK);
		ck_assert_uint_eq(info.page_reads, 2 * (uint64_t)(i + 1));
	}
	ck_assert(info.bits_per_entry > 31 && info.bits_per_entry < 33);
	blocklist_close(bl);
}
END_TEST

static void copy_file(const char *from, const char *to, off_t keep)
{
	char *buf;
	struct stat st;
	int in = open(from, O_RDONLY), out;

	ck_assert_int_ge(in, 0);
	ck_assert_int_eq(fstat(in, &st), 0);
	if (keep < 0)
		keep = st.st_size;
	buf = malloc((size_t)st.st_size);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(read(in, buf, (size_t)st.st_size), st.st_size);
	close(in);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(out, 0);
	ck_assert_int_eq(write(out, buf, (size_t)keep), keep);
	close(out);
	free(buf);
}

static void flip_byte(const char *path, off_t at)
{
	int fd = open(path, O_RDWR);
	uint8_t c;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &c, 1, at), 1);
	c ^= 0x10;
	ck_assert_int_eq(pwrite(fd, &c, 1, at), 1);
	close(fd);
}

static void open_refused(const char *path, pp_err want, const char *reason)
{
	struct blocklist *bl = (struct blocklist *)&bl;

	ck_assert_int_eq(blocklist_open(path, &bl, why, sizeof(why)), want);
	ck_assert_ptr_null(bl);
	ck_assert_msg(strstr(why, reason) != NULL, "why \"%s\" lacks \"%s\"", why, reason);
	ck_assert_ptr_nonnull(strstr(why, path));
}

START_TEST(test_truncated_and_corrupt)
{
	enum { N = 20000 };
	const char *in = in_dir("list.txt"), *good = in_dir("good.ppbl"), *bad = in_dir("bad.ppbl");
	struct blocklist_info info;
	struct blocklist *bl;
	struct stat st;
	struct run r;
	char pw[32];
	int errors = 0;
	FILE *f = fopen(in, "w");

	ck_assert_ptr_nonnull(f);
	for (unsigned i = 0; i < N; i++)
		fprintf(f, "entry%u\n", i);
	fclose(f);
	build_ok(good, (const char *const[]){ in, NULL });
	ck_assert_int_eq(stat(good, &st), 0);

	open_refused(in_dir("missing.ppbl"), PP_ERR_NOT_FOUND, "No such file");
	open_refused(in, PP_ERR_CONFIG, "not a breach filter file");
	harness_write(bad, "");
	open_refused(bad, PP_ERR_CONFIG, "truncated");
	copy_file(good, bad, st.st_size - 4096);
	open_refused(bad, PP_ERR_CONFIG, "is truncated");
	copy_file(good, bad, 4096);
	open_refused(bad, PP_ERR_CONFIG, "is truncated");
	copy_file(good, bad, -1);
	flip_byte(bad, 0);
	open_refused(bad, PP_ERR_CONFIG, "wrong magic");
	copy_file(good, bad, -1);
	flip_byte(bad, 8);       /* the version */
	open_refused(bad, PP_ERR_CONFIG, "format version");
	copy_file(good, bad, -1);
	flip_byte(bad, 33);      /* the entry count */
	open_refused(bad, PP_ERR_CONFIG, "header is corrupt");
	copy_file(good, bad, -1);
	flip_byte(bad, st.st_size - 2);   /* the directory, at the end */
	open_refused(bad, PP_ERR_CONFIG, "directory is corrupt");

	/* A damaged page: open succeeds (it reads no page), lookups that read
	 * the page fail with EBADMSG, info finds it. */
	copy_file(good, bad, -1);
	flip_byte(bad, 4096 + 4096 * 3 + 1000);
	bl = open_ok(bad);
	for (unsigned i = 0; i < N; i++) {
		snprintf(pw, sizeof(pw), "entry%u", i);
		int rc = has(bl, pw);
		if (rc < 0) {
			ck_assert_int_eq(errno, EBADMSG);
			errors++;
		}
	}
	ck_assert_int_gt(errors, 100);     /* the entries of that page */
	ck_assert_int_lt(errors, 2000);    /* and no others */
	ck_assert_int_eq(blocklist_info(bl, &info, true), PP_OK);
	ck_assert(!info.checksum_ok);
	ck_assert_uint_eq(info.bad_pages, 1);
	blocklist_close(bl);
	run_ctl(&r, NULL, (const char *const[]){ "blocklist", "info", bad, NULL });
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "checksums: FAILED (1 of"));
	run_free(&r);
	run_ctl(&r, NULL, (const char *const[]){ "blocklist", "info", "--format", "json", good, NULL });
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "\"checksum_ok\":true"));
	ck_assert_ptr_nonnull(strstr(r.out, "\"entries\":20000"));
	run_free(&r);
	copy_file(good, bad, st.st_size - 1);
	run_ctl(&r, NULL, (const char *const[]){ "blocklist", "info", bad, NULL });
	ck_assert_int_eq(r.status, 6);
	ck_assert_ptr_nonnull(strstr(r.err, "is truncated"));
	run_free(&r);
}
END_TEST

START_TEST(test_atomic_replace)
{
	const char *a = in_dir("a.txt"), *b = in_dir("b.txt"), *out = in_dir("live.ppbl");
	struct blocklist *old, *fresh;
	DIR *d;
	struct dirent *e;

	harness_write(a, "alpha\nbravo\n");
	harness_write(b, "charlie\ndelta\n");
	build_ok(out, (const char *const[]){ a, NULL });
	old = open_ok(out);
	ck_assert(!blocklist_changed(old));
	ck_assert_int_eq(has(old, "alpha"), 1);
	build_ok(out, (const char *const[]){ b, NULL });
	/* the open handle still reads the file it opened */
	ck_assert(blocklist_changed(old));
	ck_assert_int_eq(has(old, "alpha"), 1);
	ck_assert_int_eq(has(old, "charlie"), 0);
	fresh = open_ok(out);
	ck_assert(!blocklist_changed(fresh));
	ck_assert_int_eq(has(fresh, "alpha"), 0);
	ck_assert_int_eq(has(fresh, "charlie"), 1);
	blocklist_close(old);
	blocklist_close(fresh);
	ck_assert_int_eq(unlink(out), 0);
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		ck_assert_msg(strstr(e->d_name, "live.ppbl") == NULL, "left behind: %s", e->d_name);
	closedir(d);
}
END_TEST

START_TEST(test_check_command)
{
	const char *in = in_dir("pwned.txt"), *out = in_dir("f.ppbl");
	struct run r;

	write_hash_file(in, BLOCKLIST_SHA1);
	build_ok(out, (const char *const[]){ in, NULL });
	run_ctl(&r, "nothing-here\npassword\n", (const char *const[]){ "blocklist", "check", out, NULL });
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "1: not listed\n2: listed\n");
	ck_assert_ptr_null(strstr(r.err, "password"));
	run_free(&r);
	run_ctl(&r, "nothing-here\n", (const char *const[]){ "blocklist", "check", "-q", out, NULL });
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	run_free(&r);
	run_ctl(&r, "password\n", (const char *const[]){ "blocklist", "check", in, NULL });
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "not a breach filter file"));
	run_free(&r);
	run_ctl(&r, NULL, (const char *const[]){ "blocklist", "build", in, NULL });
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "-o FILE is required"));
	run_free(&r);
}
END_TEST

START_TEST(test_writer_contract)
{
	const char *out = in_dir("w.ppbl");
	struct blocklist_params p = { .kind = BLOCKLIST_SHA1, .entries = 3, .built = 1 };
	struct blocklist_writer *w;
	struct blocklist_info info;
	struct blocklist *bl;
	int fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(blocklist_writer_open(fd, &p, &w, why, sizeof(why)), PP_OK);
	ck_assert_int_eq(blocklist_writer_add(w, 10ULL << 40), PP_OK);
	ck_assert_int_eq(blocklist_writer_add(w, 10ULL << 40), PP_OK);   /* a duplicate */
	ck_assert_int_eq(blocklist_writer_add(w, 5ULL << 40), PP_ERR_INVALID);  /* order */
	blocklist_writer_free(w);
	ck_assert_int_eq(ftruncate(fd, 0), 0);
	ck_assert_int_eq(blocklist_writer_open(fd, &p, &w, why, sizeof(why)), PP_OK);
	ck_assert_int_eq(blocklist_writer_finish(w, why, sizeof(why)), PP_OK);
	blocklist_writer_free(w);
	close(fd);
	/* an empty filter is valid and lists nothing */
	bl = open_ok(out);
	ck_assert_int_eq(has(bl, "password"), 0);
	ck_assert_int_eq(blocklist_info(bl, &info, true), PP_OK);
	ck_assert_uint_eq(info.entries, 0);
	ck_assert(info.checksum_ok);
	blocklist_close(bl);
	p.target_fp = 0.5;
	fd = open(out, O_RDWR);
	ck_assert_int_eq(blocklist_writer_open(fd, &p, &w, why, sizeof(why)), PP_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(why, "false-positive rate"));
	close(fd);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("blocklist");
	TCase *digests = tcase_create("digests");
	TCase *filter = tcase_create("filter");

	tcase_add_test(digests, test_sha1_vectors);
	tcase_add_test(digests, test_md4_ntlm_vectors);
	suite_add_tcase(s, digests);

	tcase_add_checked_fixture(filter, setup, teardown);
	tcase_set_timeout(filter, 120);
	tcase_add_test(filter, test_build_hash_file_sha1);
	tcase_add_test(filter, test_build_range_dirs);
	tcase_add_test(filter, test_min_count);
	tcase_add_test(filter, test_plain_list_nfc_nfd);
	tcase_add_test(filter, test_ntlm_plain_list_kind);
	tcase_add_test(filter, test_bad_input_named);
	tcase_add_test(filter, test_unsorted_input_in_runs);
	tcase_add_test(filter, test_one_page_read_per_lookup);
	tcase_add_test(filter, test_truncated_and_corrupt);
	tcase_add_test(filter, test_atomic_replace);
	tcase_add_test(filter, test_check_command);
	tcase_add_test(filter, test_writer_contract);
	suite_add_tcase(s, filter);
	return s;
}
