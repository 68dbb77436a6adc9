/*
 * blocklist.c - "pam_policyctl blocklist build|info|check" (see
 * blocklist_cmd.h). The file format and its reader live in
 * lib/blocklist.c; this file reads the inputs, sorts their fingerprints in
 * bounded memory and feeds them to the writer in order.
 *
 * Sorting: fingerprints (8 bytes each) fill a chunk of half the --memory
 * budget; a full chunk is radix sorted (six 11-bit passes through a second
 * buffer of the same size), deduplicated and, when more input follows,
 * appended as a sorted run to a temporary file beside the output (unlinked
 * at once, so nothing is left behind). The runs are merged with a heap,
 * twice: once to count the distinct fingerprints (the writer sizes the
 * universe from the count), once to write.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "blocklist.h"
#include "blocklist_cmd.h"
#include "check_cmd.h"
#include "ctl.h"
#include "fsutil.h"
#include "i18n.h"
#include "report.h"
#include "secret.h"
#include "utf8.h"

enum {
	EX_OK = 0,
	EX_FINDING = 1,
	EX_USAGE = 2,
	EX_ERROR = 6,
};

#define RADIX_BITS   11
#define RADIX_PASSES 6                 /* 6 * 11 >= 64 */
#define RUN_BUFFER   (64 * 1024)       /* entries buffered per run while merging */
#define RANGE_PREFIX 5                 /* hex digits in a range file's name */

static const char *prog = "pam_policyctl";

/* ---- inputs ---- */

enum input_type { INPUT_HASHES, INPUT_RANGE, INPUT_PLAIN };

struct input {
	char *path;               /* the file to read */
	size_t arg;               /* which INPUT argument it came from */
	enum input_type type;
	char prefix[RANGE_PREFIX + 1];   /* INPUT_RANGE: from the name */
	off_t size;
};

struct run {
	off_t off;                /* in entries */
	uint64_t len;
};

struct build {
	/* options */
	const char *out;
	uint64_t min_count;
	enum blocklist_kind kind;        /* 0 until known */
	const char *kind_from;           /* the input that decided it */
	bool kind_forced;
	bool plain;
	uint64_t memory;                 /* bytes */
	/* inputs */
	struct input *inputs;
	size_t ninputs;
	char **args;
	size_t nargs;
	uint64_t *arg_counts;            /* fingerprints read per INPUT argument */
	/* sorting */
	uint64_t *chunk, *tmp;
	size_t chunk_cap, chunk_len;
	int runs_fd;
	char *runs_path;
	struct run *runs;
	size_t nruns, runs_cap;
	off_t runs_end;                  /* in entries */
	/* progress */
	bool tty;
	double start, last_progress;
	uint64_t bytes_total, bytes_done, read_total;
};

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void progress(struct build *b, bool done)
{
	double t = now_seconds(), elapsed = t - b->start;

	if (!b->tty || (!done && t - b->last_progress < 0.5))
		return;
	b->last_progress = t;
	if (done) {
		fprintf(stderr, "\r%s: ", prog);
		fprintf(stderr, P_("%llu entry read in %.1f s%20s\n", "%llu entries read in %.1f s%20s\n",
				   b->read_total),
			(unsigned long long)b->read_total, elapsed, "");
		return;
	}
	double rate = elapsed > 0 ? b->read_total / elapsed : 0;
	double frac = b->bytes_total > 0 ? (double)b->bytes_done / b->bytes_total : 0;
	double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0;
	fprintf(stderr, "\r%s: ", prog);
	fprintf(stderr, P_("%llu entry, %.2f M/s, %3.0f%%, ETA %.0f s   ",
			   "%llu entries, %.2f M/s, %3.0f%%, ETA %.0f s   ", b->read_total),
		(unsigned long long)b->read_total, rate / 1e6, frac * 100, eta);
}

static bool parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* Hexadecimal digit values, -1 for other bytes (hex_init fills it). */
static int8_t hex_table[256];

static void hex_init(void)
{
	memset(hex_table, -1, sizeof(hex_table));
	for (int i = 0; i < 10; i++)
		hex_table['0' + i] = (int8_t)i;
	for (int i = 0; i < 6; i++) {
		hex_table['a' + i] = (int8_t)(10 + i);
		hex_table['A' + i] = (int8_t)(10 + i);
	}
}

static inline int hex_value(char c)
{
	return hex_table[(unsigned char)c];
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (hex_value(s[i]) < 0)
			return false;
	return true;
}

/* The kind a hash of n hex digits is (0 for none). */
static enum blocklist_kind kind_of_digits(size_t n)
{
	if (n == 2 * BLOCKLIST_SHA1_LEN)
		return BLOCKLIST_SHA1;
	if (n == 2 * BLOCKLIST_NTLM_LEN)
		return BLOCKLIST_NTLM;
	return 0;
}

/*
 * Does line (without its newline) look like "HASH:COUNT"? Returns the
 * number of hex digits before the colon (0 when it does not).
 */
static size_t hash_line_digits(const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);
	size_t n;

	if (colon == NULL)
		return 0;
	n = (size_t)(colon - line);
	if (n == 0 || !all_hex(line, n) || colon + 1 == line + len)
		return 0;
	for (const char *p = colon + 1; p < line + len; p++)
		if ((*p < '0' || *p > '9') && !(*p == '\r' && p + 1 == line + len))
			return 0;
	return n;
}

/* The first non-empty line of path into buf (cap bytes); false if none. */
static bool first_line(const char *path, char *buf, size_t cap, size_t *len)
{
	FILE *f = fopen(path, "re");
	bool found = false;

	if (f == NULL)
		return false;
	while (fgets(buf, (int)cap, f) != NULL) {
		*len = strcspn(buf, "\n");
		if (*len > 0 && !(*len == 1 && buf[0] == '\r')) {
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

static bool add_input(struct build *b, const char *path, size_t arg,
		      enum input_type type, const char *prefix, off_t size)
{
	struct input *in;

	in = realloc(b->inputs, (b->ninputs + 1) * sizeof(*in));
	if (in == NULL)
		return false;
	b->inputs = in;
	in = &b->inputs[b->ninputs];
	memset(in, 0, sizeof(*in));
	in->path = strdup(path);
	if (in->path == NULL)
		return false;
	in->arg = arg;
	in->type = type;
	if (prefix != NULL)
		memcpy(in->prefix, prefix, RANGE_PREFIX);
	in->size = size;
	b->ninputs++;
	b->bytes_total += (uint64_t)size;
	return true;
}

/* Decide the kind from a hash input, refusing a second kind. */
static bool note_kind(struct build *b, enum blocklist_kind kind, const char *what,
		      unsigned long line)
{
	if (b->kind == 0) {
		b->kind = kind;
		b->kind_from = what;
		return true;
	}
	if (b->kind == kind)
		return true;
	if (b->kind_forced)
		ctl_error(_("%s:%lu: %s hashes, but --kind %s was given"), what, line,
		     kind == BLOCKLIST_SHA1 ? "SHA-1" : "NTLM", blocklist_kind_name(b->kind));
	else
		ctl_error(_("%s:%lu: %s hashes, but %s holds %s hashes: build one filter per kind"),
		     what, line, kind == BLOCKLIST_SHA1 ? "SHA-1" : "NTLM", b->kind_from,
		     b->kind == BLOCKLIST_SHA1 ? "SHA-1" : "NTLM");
	return false;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory of range files: one input each, in name order. */
static bool scan_range_dir(struct build *b, const char *dir, size_t arg)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	bool ok = false;

	if (d == NULL) {
		ctl_error("%s: %s", dir, strerror(errno));
		return false;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.')
			continue;
		if (!((len == RANGE_PREFIX || (len == RANGE_PREFIX + 4 &&
		       strcmp(e->d_name + RANGE_PREFIX, ".txt") == 0)) &&
		      all_hex(e->d_name, RANGE_PREFIX))) {
			ctl_error(_("%s/%s: not a range file (its name should be a 5-digit "
			     "hexadecimal prefix, like 00A3F or 00A3F.txt)"), dir, e->d_name);
			goto out;
		}
		if (n == cap) {
			char **m = realloc(names, (cap = cap ? 2 * cap : 1024) * sizeof(*m));
			if (m == NULL)
				goto nomem;
			names = m;
		}
		if ((names[n] = strdup(e->d_name)) == NULL)
			goto nomem;
		n++;
	}
	if (n == 0) {
		ctl_error(_("%s: no range files in the directory"), dir);
		goto out;
	}
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];
		struct stat st;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path)) {
			ctl_error(_("%s/%s: path too long"), dir, names[i]);
			goto out;
		}
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			ctl_error(_("%s: not a readable regular file"), path);
			goto out;
		}
		if (!add_input(b, path, arg, INPUT_RANGE, names[i], st.st_size))
			goto nomem;
	}
	ok = true;
	goto out;
nomem:
	ctl_error(_("out of memory"));
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return ok;
}

/* Classify every INPUT argument; decide the kind from the first hash input. */
static bool scan_inputs(struct build *b)
{
	for (size_t a = 0; a < b->nargs; a++) {
		const char *path = b->args[a];
		struct stat st;
		char line[BLOCKLIST_LINE_MAX + 2];
		size_t len = 0;

		if (stat(path, &st) != 0) {
			ctl_error("%s: %s", path, strerror(errno));
			return false;
		}
		if (S_ISDIR(st.st_mode)) {
			if (!scan_range_dir(b, path, a))
				return false;
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			ctl_error(_("%s: not a regular file or a directory"), path);
			return false;
		}
		if (access(path, R_OK) != 0) {
			ctl_error("%s: %s", path, strerror(errno));
			return false;
		}
		if (!b->plain && first_line(path, line, sizeof(line), &len) &&
		    kind_of_digits(hash_line_digits(line, len)) != 0) {
			if (!add_input(b, path, a, INPUT_HASHES, NULL, st.st_size))
				goto nomem;
		} else if (!add_input(b, path, a, INPUT_PLAIN, NULL, st.st_size)) {
			goto nomem;
		}
	}
	/* The kind: --kind, else the first hash input's, else SHA-1. */
	for (size_t i = 0; i < b->ninputs && b->kind == 0; i++) {
		char line[BLOCKLIST_LINE_MAX + 2];
		size_t len = 0, digits;
		if (b->inputs[i].type == INPUT_PLAIN ||
		    !first_line(b->inputs[i].path, line, sizeof(line), &len))
			continue;
		digits = hash_line_digits(line, len);
		if (b->inputs[i].type == INPUT_RANGE)
			digits += RANGE_PREFIX;
		if (kind_of_digits(digits) != 0)
			(void)note_kind(b, kind_of_digits(digits), b->inputs[i].path, 1);
	}
	if (b->kind == 0) {
		b->kind = BLOCKLIST_SHA1;
		b->kind_from = "the default";
	}
	return true;
nomem:
	ctl_error(_("out of memory"));
	return false;
}

/* ---- sorting ---- */

static void radix_sort(uint64_t *a, uint64_t *tmp, size_t n)
{
	size_t count[1u << RADIX_BITS];
	uint64_t *src = a, *dst = tmp;

	for (unsigned pass = 0; pass < RADIX_PASSES; pass++) {
		unsigned shift = pass * RADIX_BITS;
		size_t sum = 0;
		memset(count, 0, sizeof(count));
		for (size_t i = 0; i < n; i++)
			count[(src[i] >> shift) & ((1u << RADIX_BITS) - 1)]++;
		for (size_t d = 0; d < (1u << RADIX_BITS); d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i] >> shift) & ((1u << RADIX_BITS) - 1)]++] = src[i];
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	/* An even number of passes: the result is back in a. */
}

static size_t dedupe(uint64_t *a, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++)
		if (o == 0 || a[i] != a[o - 1])
			a[o++] = a[i];
	return o;
}

static bool spill_chunk(struct build *b)
{
	size_t n;

	radix_sort(b->chunk, b->tmp, b->chunk_len);
	n = dedupe(b->chunk, b->chunk_len);
	b->chunk_len = 0;
	if (b->runs_fd < 0) {
		size_t len = strlen(b->out) + sizeof(".runs-XXXXXX");
		b->runs_path = malloc(len);
		if (b->runs_path == NULL) {
			ctl_error(_("out of memory"));
			return false;
		}
		snprintf(b->runs_path, len, "%s.runs-XXXXXX", b->out);
		b->runs_fd = mkostemp(b->runs_path, O_CLOEXEC);
		if (b->runs_fd < 0) {
			ctl_error(_("cannot create a temporary file beside %s: %s"), b->out,
			     strerror(errno));
			return false;
		}
		(void)unlink(b->runs_path);
	}
	if (b->nruns == b->runs_cap) {
		size_t cap = b->runs_cap ? 2 * b->runs_cap : 16;
		struct run *r = realloc(b->runs, cap * sizeof(*r));
		if (r == NULL) {
			ctl_error(_("out of memory"));
			return false;
		}
		b->runs = r;
		b->runs_cap = cap;
	}
	if (fsutil_write_all(b->runs_fd, b->chunk, n * sizeof(uint64_t)) != PP_OK) {
		ctl_error(_("cannot write the sort runs beside %s: %s"), b->out, strerror(errno));
		return false;
	}
	b->runs[b->nruns].off = b->runs_end;
	b->runs[b->nruns].len = n;
	b->nruns++;
	b->runs_end += (off_t)n;
	return true;
}

static bool add_fingerprint(struct build *b, size_t arg, uint64_t f)
{
	if (b->chunk_len == b->chunk_cap && !spill_chunk(b))
		return false;
	b->chunk[b->chunk_len++] = f;
	b->arg_counts[arg]++;
	b->read_total++;
	return true;
}

/* ---- reading ---- */

static uint64_t hex_u64(const char *s)
{
	uint64_t v = 0;

	for (int i = 0; i < 16; i++)
		v = v << 4 | (uint64_t)hex_value(s[i]);
	return v;
}

/* One "HASH:COUNT" (or, in a range file, "SUFFIX:COUNT") line. */
static bool read_hash_line(struct build *b, const struct input *in, unsigned long lineno,
			   char *line, size_t len)
{
	char digits[2 * BLOCKLIST_DIGEST_MAX + 1];
	size_t n = hash_line_digits(line, len), prefix = 0;
	uint64_t count;
	enum blocklist_kind kind;

	if (in->type == INPUT_RANGE)
		prefix = RANGE_PREFIX;
	kind = n > 0 ? kind_of_digits(prefix + n) : 0;
	if (kind == 0) {
		if (in->type == INPUT_RANGE)
			ctl_error(_("%s:%lu: expected SUFFIX:COUNT with a 35-digit (SHA-1) or 27-digit "
			     "(NTLM) hexadecimal suffix"), in->path, lineno);
		else
			ctl_error(_("%s:%lu: expected HASH:COUNT with a 40-digit (SHA-1) or 32-digit "
			     "(NTLM) hexadecimal hash"), in->path, lineno);
		return false;
	}
	if (!note_kind(b, kind, in->path, lineno))
		return false;
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	line[len] = '\0';
	if (!parse_u64(line + n + 1, &count)) {
		ctl_error(_("%s:%lu: the count is not a number from 0 to %llu"), in->path, lineno,
		     (unsigned long long)UINT64_MAX);
		return false;
	}
	if (count < b->min_count)
		return true;
	memcpy(digits, in->prefix, prefix);
	memcpy(digits + prefix, line, 16 - prefix);
	return add_fingerprint(b, in->arg, hex_u64(digits));
}

/* One password of a plain list. */
static bool read_plain_line(struct build *b, const struct input *in, unsigned long lineno,
			    const char *line, size_t len)
{
	uint8_t digest[BLOCKLIST_DIGEST_MAX];
	char *nfc = NULL;
	size_t nfc_len = 0, dlen;
	bool ok;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return true;
	if (memchr(line, '\0', len) != NULL) {
		ctl_error(_("%s:%lu: the line holds a NUL byte"), in->path, lineno);
		return false;
	}
	switch (utf8_nfc(line, len, &nfc, &nfc_len)) {
	case PP_OK:
		break;
	case PP_ERR_NOMEM:
		ctl_error(_("out of memory"));
		return false;
	default:
		ctl_error(_("%s:%lu: not valid UTF-8"), in->path, lineno);
		return false;
	}
	dlen = blocklist_key(b->kind, nfc, nfc_len, digest);
	pp_wipe(nfc, nfc_len + 1);
	free(nfc);
	if (dlen == 0) {
		ctl_error(_("%s:%lu: cannot hash the line: %s"), in->path, lineno, strerror(errno));
		return false;
	}
	ok = add_fingerprint(b, in->arg, blocklist_fingerprint(digest, dlen));
	pp_wipe(digest, sizeof(digest));
	return ok;
}

#define READ_BUFFER (1 << 20)

/* One line of an input (without its newline; writable, NUL after it). */
static bool read_line(struct build *b, const struct input *in, unsigned long lineno,
		      char *line, size_t len)
{
	if (len > BLOCKLIST_LINE_MAX) {
		ctl_error(_("%s:%lu: the line is longer than %d bytes"), in->path, lineno,
		     BLOCKLIST_LINE_MAX);
		return false;
	}
	line[len] = '\0';
	if (in->type == INPUT_PLAIN)
		return read_plain_line(b, in, lineno, line, len);
	if (len == 0 || (len == 1 && line[0] == '\r'))
		return true;
	return read_hash_line(b, in, lineno, line, len);
}

/* Read an input in large blocks and hand it over line by line. */
static bool read_input(struct build *b, const struct input *in)
{
	size_t cap = READ_BUFFER + BLOCKLIST_LINE_MAX + 2, have = 0, pos = 0;
	char *buf = malloc(cap + 1);
	unsigned long lineno = 0;
	bool ok = true, eof = false;
	int fd = open(in->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0 || buf == NULL) {
		ctl_error("%s: %s", in->path, fd < 0 ? strerror(errno) : _("out of memory"));
		free(buf);
		if (fd >= 0)
			close(fd);
		return false;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while (ok) {
		char *nl = memchr(buf + pos, '\n', have - pos);
		if (nl != NULL) {
			size_t len = (size_t)(nl - (buf + pos));
			ok = read_line(b, in, ++lineno, buf + pos, len);
			b->bytes_done += len + 1;
			pos += len + 1;
			if ((lineno & 0xffff) == 0)
				progress(b, false);
			continue;
		}
		if (eof) {
			if (pos < have) {   /* a last line without its newline */
				ok = read_line(b, in, ++lineno, buf + pos, have - pos);
				b->bytes_done += have - pos;
			}
			break;
		}
		if (have - pos > BLOCKLIST_LINE_MAX) {
			ctl_error(_("%s:%lu: the line is longer than %d bytes"), in->path, lineno + 1,
			     BLOCKLIST_LINE_MAX);
			ok = false;
			break;
		}
		memmove(buf, buf + pos, have - pos);
		have -= pos;
		pos = 0;
		ssize_t n = read(fd, buf + have, cap - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ctl_error(_("%s: read error: %s"), in->path, strerror(errno));
			ok = false;
			break;
		}
		if (n == 0)
			eof = true;
		have += (size_t)n;
	}
	pp_wipe(buf, cap + 1);
	free(buf);
	close(fd);
	return ok;
}

/* ---- merging ---- */

struct run_reader {
	uint64_t *buf;
	size_t pos, len;
	off_t next;          /* entries */
	uint64_t left;       /* entries not yet read from the file */
};

typedef bool (*emit_fn)(void *ctx, uint64_t f);

static bool run_fill(struct build *b, struct run_reader *r)
{
	size_t n = r->left < RUN_BUFFER ? (size_t)r->left : RUN_BUFFER;
	size_t bytes = n * sizeof(uint64_t);
	ssize_t got = 0;

	while ((size_t)got < bytes) {
		ssize_t k = pread(b->runs_fd, (char *)r->buf + got, bytes - (size_t)got,
				  r->next * (off_t)sizeof(uint64_t) + got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			ctl_error(_("cannot read the sort runs: %s"), k < 0 ? strerror(errno) : "short file");
			return false;
		}
		got += k;
	}
	r->next += (off_t)n;
	r->left -= n;
	r->pos = 0;
	r->len = n;
	return true;
}

static bool merge_runs(struct build *b, emit_fn emit, void *ctx)
{
	struct run_reader *rd = calloc(b->nruns, sizeof(*rd));
	size_t *heap = calloc(b->nruns, sizeof(*heap)), hn = 0;
	bool ok = false, any = false;
	uint64_t last = 0;

	if (rd == NULL || heap == NULL)
		goto nomem;
	for (size_t i = 0; i < b->nruns; i++) {
		rd[i].buf = malloc(RUN_BUFFER * sizeof(uint64_t));
		if (rd[i].buf == NULL)
			goto nomem;
		rd[i].next = b->runs[i].off;
		rd[i].left = b->runs[i].len;
		if (!run_fill(b, &rd[i]))
			goto out;
		if (rd[i].len > 0)
			heap[hn++] = i;
	}
#define HEAD(i) (rd[heap[i]].buf[rd[heap[i]].pos])
	/* heapify */
	for (size_t s = hn / 2; s-- > 0;) {
		for (size_t p = s;;) {
			size_t l = 2 * p + 1, m = p;
			if (l < hn && HEAD(l) < HEAD(m))
				m = l;
			if (l + 1 < hn && HEAD(l + 1) < HEAD(m))
				m = l + 1;
			if (m == p)
				break;
			size_t t = heap[p]; heap[p] = heap[m]; heap[m] = t;
			p = m;
		}
	}
	while (hn > 0) {
		struct run_reader *r = &rd[heap[0]];
		uint64_t f = r->buf[r->pos++];
		if (!any || f != last) {
			if (!emit(ctx, f))
				goto out;
			last = f;
			any = true;
		}
		if (r->pos == r->len) {
			if (r->left > 0) {
				if (!run_fill(b, r))
					goto out;
			} else {
				heap[0] = heap[--hn];
			}
		}
		for (size_t p = 0;;) {
			size_t l = 2 * p + 1, m = p;
			if (l < hn && HEAD(l) < HEAD(m))
				m = l;
			if (l + 1 < hn && HEAD(l + 1) < HEAD(m))
				m = l + 1;
			if (m == p)
				break;
			size_t t = heap[p]; heap[p] = heap[m]; heap[m] = t;
			p = m;
		}
	}
#undef HEAD
	ok = true;
	goto out;
nomem:
	ctl_error(_("out of memory"));
out:
	if (rd != NULL)
		for (size_t i = 0; i < b->nruns; i++)
			free(rd[i].buf);
	free(rd);
	free(heap);
	return ok;
}

static bool emit_count(void *ctx, uint64_t f)
{
	(void)f;
	(*(uint64_t *)ctx)++;
	return true;
}

static bool emit_write(void *ctx, uint64_t f)
{
	if (blocklist_writer_add(ctx, f) != PP_OK) {
		ctl_error(_("cannot add an entry to the filter: %s"), strerror(errno));
		return false;
	}
	return true;
}

/* ---- build ---- */

static void format_sources(const struct build *b, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t a = 0; a < b->nargs; a++) {
		char *copy = strdup(b->args[a]);
		const char *name = copy != NULL ? basename(copy) : b->args[a];
		int n = snprintf(out + used, cap - used, "%s%s %llu", a > 0 ? "; " : "",
				 name, (unsigned long long)b->arg_counts[a]);
		free(copy);
		if (n < 0 || (size_t)n >= cap - used) {
			/* cut: end with an ellipsis that fits */
			if (cap > 4)
				memcpy(out + cap - 4, "...", 4);
			return;
		}
		used += (size_t)n;
	}
}

static int write_filter(struct build *b, uint64_t distinct)
{
	struct blocklist_params params;
	struct blocklist_writer *w = NULL;
	char sources[BLOCKLIST_SOURCES_MAX], why[256], *tmp;
	size_t len = strlen(b->out) + sizeof(".tmp-XXXXXX");
	int fd, rc = EX_ERROR;

	tmp = malloc(len);
	if (tmp == NULL) {
		ctl_error(_("out of memory"));
		return EX_ERROR;
	}
	snprintf(tmp, len, "%s.tmp-XXXXXX", b->out);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ctl_error(_("cannot create a temporary file beside %s: %s"), b->out, strerror(errno));
		free(tmp);
		return EX_ERROR;
	}
	if (fchmod(fd, 0644) != 0) {
		ctl_error(_("%s: chmod: %s"), tmp, strerror(errno));
		goto out;
	}
	format_sources(b, sources, sizeof(sources));
	memset(&params, 0, sizeof(params));
	params.kind = b->kind;
	params.entries = distinct;
	params.built = (int64_t)time(NULL);
	params.sources = sources;
	if (blocklist_writer_open(fd, &params, &w, why, sizeof(why)) != PP_OK) {
		ctl_error("%s: %s", b->out, why[0] ? why : _("out of memory"));
		goto out;
	}
	if (b->nruns == 0) {
		for (size_t i = 0; i < b->chunk_len; i++)
			if (!emit_write(w, b->chunk[i]))
				goto out;
	} else if (!merge_runs(b, emit_write, w)) {
		goto out;
	}
	if (blocklist_writer_finish(w, why, sizeof(why)) != PP_OK) {
		ctl_error("%s: %s", tmp, why);
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		ctl_error("%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, b->out) != 0) {
		ctl_error(_("cannot rename %s to %s: %s"), tmp, b->out, strerror(errno));
		goto out;
	}
	/* The new file is in place; a failed directory fsync only means the
	 * rename might not survive a crash. */
	rc = EX_OK;
	if (fsutil_fsync_parent(b->out) != PP_OK) {
		ctl_error(_("%s: fsync of the directory: %s"), b->out, strerror(errno));
		rc = EX_ERROR;
	}
	free(tmp);
	blocklist_writer_free(w);
	return rc;
out:
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	free(tmp);
	blocklist_writer_free(w);
	return rc;
}

static bool parse_kind(const char *s, enum blocklist_kind *kind)
{
	if (strcmp(s, "sha1") == 0)
		*kind = BLOCKLIST_SHA1;
	else if (strcmp(s, "ntlm") == 0)
		*kind = BLOCKLIST_NTLM;
	else
		return false;
	return true;
}

/* A usage error: the message, a hint to --help, exit status 2. */
#define usage_error(...) \
	ctl_usage_error(EX_USAGE, _("(try \"pam_policyctl blocklist --help\")"), __VA_ARGS__)

static void build_free(struct build *b)
{
	for (size_t i = 0; i < b->ninputs; i++)
		free(b->inputs[i].path);
	free(b->inputs);
	free(b->arg_counts);
	free(b->chunk);
	free(b->tmp);
	free(b->runs);
	free(b->runs_path);
	if (b->runs_fd >= 0)
		close(b->runs_fd);
}

static int cmd_build(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "min-count", required_argument, NULL, 'm' },
		{ "kind", required_argument, NULL, 'k' },
		{ "plain", no_argument, NULL, 'p' },
		{ "memory", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	struct build b;
	uint64_t mib = BLOCKLIST_BUILD_MEMORY_MIB, distinct = 0;
	int opt, rc = EX_ERROR;
	struct blocklist *check = NULL;
	struct blocklist_info info;
	char why[512];

	memset(&b, 0, sizeof(b));
	hex_init();
	b.runs_fd = -1;
	b.min_count = 1;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:o:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			b.out = optarg;
			break;
		case 'm':
			if (!parse_u64(optarg, &b.min_count) || b.min_count < 1)
				return usage_error(_("--min-count: expected a whole number of "
						   "at least 1, got \"%s\""), optarg);
			break;
		case 'k':
			if (!parse_kind(optarg, &b.kind))
				return usage_error(_("--kind: expected sha1 or ntlm, got \"%s\""),
						   optarg);
			b.kind_forced = true;
			b.kind_from = "--kind";
			break;
		case 'p':
			b.plain = true;
			break;
		case 'M':
			if (!parse_u64(optarg, &mib) || mib < BLOCKLIST_BUILD_MEMORY_MIN ||
			    mib > BLOCKLIST_BUILD_MEMORY_MAX)
				return usage_error(_("--memory: expected MiB from %d to %d, got \"%s\""),
						   BLOCKLIST_BUILD_MEMORY_MIN,
						   BLOCKLIST_BUILD_MEMORY_MAX, optarg);
			break;
		case ':':
			return usage_error(_("blocklist build: %s needs a value"), argv[optind - 1]);
		default:
			return usage_error(_("blocklist build: unknown option \"%s\""),
					   argv[optind - 1]);
		}
	}
	if (b.out == NULL)
		return usage_error(_("blocklist build: -o FILE is required"));
	if (optind >= argc)
		return usage_error(_("blocklist build: no INPUT given"));
	b.args = argv + optind;
	b.nargs = (size_t)(argc - optind);
	b.memory = mib << 20;
	b.tty = isatty(STDERR_FILENO);
	b.start = b.last_progress = now_seconds();
	b.arg_counts = calloc(b.nargs, sizeof(*b.arg_counts));
	b.chunk_cap = (size_t)(b.memory / (2 * sizeof(uint64_t)));
	b.chunk = malloc(b.chunk_cap * sizeof(uint64_t));
	b.tmp = malloc(b.chunk_cap * sizeof(uint64_t));
	if (b.arg_counts == NULL || b.chunk == NULL || b.tmp == NULL) {
		ctl_error(_("out of memory (--memory %llu)"), (unsigned long long)mib);
		goto out;
	}
	if (!scan_inputs(&b))
		goto out;
	for (size_t i = 0; i < b.ninputs; i++)
		if (!read_input(&b, &b.inputs[i]))
			goto out;
	progress(&b, true);
	if (b.nruns == 0) {
		radix_sort(b.chunk, b.tmp, b.chunk_len);
		b.chunk_len = dedupe(b.chunk, b.chunk_len);
		distinct = b.chunk_len;
	} else {
		if (b.chunk_len > 0 && !spill_chunk(&b))
			goto out;
		free(b.chunk);
		free(b.tmp);
		b.chunk = b.tmp = NULL;
		if (!merge_runs(&b, emit_count, &distinct))
			goto out;
	}
	free(b.tmp);
	b.tmp = NULL;
	rc = write_filter(&b, distinct);
	if (rc != EX_OK)
		goto out;
	if (blocklist_open(b.out, &check, why, sizeof(why)) != PP_OK ||
	    blocklist_info(check, &info, false) != PP_OK) {
		ctl_error(_("%s was written but does not read back: %s"), b.out, why);
		blocklist_close(check);
		rc = EX_ERROR;
		goto out;
	}
	/* TRANSLATORS: %1$s the file, %2$llu entries, %3$llu hashes read, %4$s
	   SHA-1 or NTLM. */
	printf(P_("%1$s: %2$llu entry (%3$llu read), %4$s keys, %5$.2f bits per entry, "
		  "false-positive rate %6$.2g\n",
		  "%1$s: %2$llu entries (%3$llu read), %4$s keys, %5$.2f bits per entry, "
		  "false-positive rate %6$.2g\n", info.entries), b.out,
	       (unsigned long long)info.entries,
	       (unsigned long long)b.read_total, blocklist_kind_name(info.kind),
	       info.bits_per_entry, info.fp_rate);
	blocklist_close(check);
out:
	build_free(&b);
	return rc;
}

/* ---- info ---- */

static void format_time(int64_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, cap, "%lld", (long long)t);
}

static int cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "no-verify", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, verify = true;
	struct blocklist *bl;
	struct blocklist_info info;
	char why[512], built[64], printable[2 * BLOCKLIST_SOURCES_MAX];
	pp_err err;
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "text") != 0)
				return usage_error(_("--format: expected text or json, got \"%s\""),
						   optarg);
			break;
		case 'n':
			verify = false;
			break;
		case ':':
			return usage_error(_("blocklist info: %s needs a value"), argv[optind - 1]);
		default:
			return usage_error(_("blocklist info: unknown option \"%s\""),
					   argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return usage_error(_("blocklist info: expected one FILE"));
	err = blocklist_open(argv[optind], &bl, why, sizeof(why));
	if (err != PP_OK) {
		ctl_error("%s", why);
		return EX_ERROR;
	}
	if (blocklist_info(bl, &info, verify) != PP_OK) {
		ctl_error(_("%s: cannot read: %s"), argv[optind], strerror(errno));
		blocklist_close(bl);
		return EX_ERROR;
	}
	blocklist_close(bl);
	format_time(info.built, built, sizeof(built));
	if (json) {
		printf("{\"file\":");
		report_json_string(argv[optind], stdout);
		printf(",\"version\":%u,\"kind\":\"%s\",\"entries\":%llu,\"fp_rate\":%.6g,"
		       "\"bits_per_entry\":%.4f,\"file_size\":%llu,\"pages\":%u,"
		       "\"fingerprint_bits\":%u,\"rice_bits\":%u,\"built\":\"%s\",\"sources\":",
		       info.version, blocklist_kind_name(info.kind),
		       (unsigned long long)info.entries, info.fp_rate, info.bits_per_entry,
		       (unsigned long long)info.file_size, info.pages, info.fingerprint_bits,
		       info.rice_bits, built);
		report_json_string(info.sources, stdout);
		printf(",\"pages_verified\":%s,\"checksum_ok\":%s,\"bad_pages\":%llu}\n",
		       verify ? "true" : "false", info.checksum_ok ? "true" : "false",
		       (unsigned long long)info.bad_pages);
	} else {
		printf(_("file: %s\n"), report_printable(argv[optind], printable, sizeof(printable)));
		printf(_("format: version %u, %s keys\n"), info.version,
		       info.kind == BLOCKLIST_SHA1 ? "SHA-1" : "NTLM");
		printf(_("entries: %llu\n"), (unsigned long long)info.entries);
		printf(_("false-positive rate: %.3g (1 in %.0f)\n"), info.fp_rate,
		       info.fp_rate > 0 ? 1 / info.fp_rate : 0);
		printf(P_("size: %llu bytes, %.3f bits per entry, %u page\n",
			  "size: %llu bytes, %.3f bits per entry, %u pages\n", info.pages),
		       (unsigned long long)info.file_size, info.bits_per_entry, info.pages);
		printf(_("built: %s\n"), built);
		printf(_("sources: %s\n"), report_printable(info.sources, printable, sizeof(printable)));
		if (!verify)
			printf("%s", _("checksums: header and directory ok (pages not verified)\n"));
		else if (info.checksum_ok)
			printf(_("checksums: ok (header, directory and %u pages)\n"), info.pages);
		else
			printf(_("checksums: FAILED (%llu of %u pages bad): rebuild the file\n"),
			       (unsigned long long)info.bad_pages, info.pages);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_error(_("cannot write the output: %s"), strerror(errno));
		return EX_ERROR;
	}
	return info.checksum_ok ? EX_OK : EX_FINDING;
}

/* ---- check ---- */

/* Listed as given or in NFC form: 1, 0, or -1 (errno set). */
static int lookup_line(struct blocklist *bl, const char *pw, size_t len)
{
	char *nfc = NULL;
	size_t nfc_len = 0;
	int rc = blocklist_contains(bl, pw, len);

	if (rc != 0 || utf8_nfc(pw, len, &nfc, &nfc_len) != PP_OK)
		return rc;
	if (nfc_len != len || memcmp(nfc, pw, len) != 0)
		rc = blocklist_contains(bl, nfc, nfc_len);
	pp_wipe(nfc, nfc_len + 1);
	free(nfc);
	return rc;
}

static int cmd_check(int argc, char **argv)
{
	struct blocklist *bl;
	char why[512], buf[CHECK_INPUT_MAX];
	bool quiet = false, any = false;
	unsigned long lineno = 0;
	int opt, rc = EX_OK;

	optind = 0;
	opterr = 0;
	while ((opt = getopt(argc, argv, "+q")) != -1) {
		if (opt == 'q')
			quiet = true;
		else
			return usage_error(_("blocklist check: unknown option \"%s\""),
					   argv[optind - 1]);
	}
	if (argc - optind != 1)
		return usage_error(_("blocklist check: expected one FILE"));
	if (blocklist_open(argv[optind], &bl, why, sizeof(why)) != PP_OK) {
		ctl_error("%s", why);
		return EX_USAGE;
	}
	for (;;) {
		size_t len = 0;
		bool has_nul = false;
		pp_err err = check_read_password(STDIN_FILENO, _("Password: "), buf, sizeof(buf),
						 &len, &has_nul);
		if (err == PP_ERR_NOT_FOUND)
			break;
		if (err != PP_OK) {
			ctl_error(_("cannot read standard input: %s"), strerror(errno));
			rc = EX_USAGE;
			break;
		}
		lineno++;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
		int hit = lookup_line(bl, buf, len);
		pp_wipe(buf, sizeof(buf));
		if (hit < 0) {
			ctl_error(_("line %lu: lookup failed: %s"), lineno, strerror(errno));
			rc = EX_USAGE;
			break;
		}
		any = any || hit == 1;
		if (!quiet)
			printf("%lu: %s\n", lineno, hit ? _("listed") : _("not listed"));
	}
	pp_wipe(buf, sizeof(buf));
	blocklist_close(bl);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_error(_("cannot write the output: %s"), strerror(errno));
		return EX_USAGE;
	}
	if (rc != EX_OK)
		return rc;
	if (lineno == 0) {
		ctl_error(_("no password on standard input"));
		return EX_USAGE;
	}
	return any ? 0 : 1;
}

int blocklist_main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error(_("blocklist: expected build, info or check"));
	if (strcmp(argv[1], "build") == 0)
		return cmd_build(argc - 1, argv + 1);
	if (strcmp(argv[1], "info") == 0)
		return cmd_info(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	return usage_error(_("blocklist: unknown subcommand \"%s\" (expected build, info "
			   "or check)"), argv[1]);
}
