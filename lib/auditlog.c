/*
 * auditlog.c - the tamper-evident audit log: writer and verifier.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "auditlog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sodium.h>

#include "fsutil.h"
#include "utf8.h"

#define MAC_FIELD ",\"mac\":\""
#define PREV_FIELD ",\"prev\":\""

struct audit_log {
	char path[PATH_MAX];
	char head_path[PATH_MAX];
	int fd;
	gid_t gid;
	uint64_t seq;                    /* of the last line written */
	char last_mac[AUDIT_MAC_HEX + 1];
	uint8_t *key;                    /* sodium_malloc'd AUDIT_KEY_BYTES */
};

static const char zero_mac[AUDIT_MAC_HEX + 1] =
	"0000000000000000000000000000000000000000000000000000000000000000";

static void set_error(char *err, size_t errlen, const char *what,
		      const char *path)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
}

static void mac_hex(const uint8_t key[AUDIT_KEY_BYTES], const char *body,
		    size_t len, char out[AUDIT_MAC_HEX + 1])
{
	uint8_t mac[32];

	crypto_generichash(mac, sizeof(mac), (const unsigned char *)body, len,
			   key, AUDIT_KEY_BYTES);
	sodium_bin2hex(out, AUDIT_MAC_HEX + 1, mac, sizeof(mac));
}

static bool is_hex64(const char *s)
{
	for (int i = 0; i < AUDIT_MAC_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* The parts of one line the chain needs. */
struct parsed_line {
	uint64_t seq;
	size_t body_len;                 /* bytes covered by the mac */
	char prev[AUDIT_MAC_HEX + 1];
	char mac[AUDIT_MAC_HEX + 1];
};

static bool parse_line(const char *line, size_t len, struct parsed_line *out)
{
	const size_t tail = strlen(MAC_FIELD) + AUDIT_MAC_HEX + 2; /* "} */
	const size_t prev_len = strlen(PREV_FIELD) + AUDIT_MAC_HEX + 1;
	char *end = NULL;
	const char *mac_at, *prev_at;

	if (len < 8 + tail + prev_len || strncmp(line, "{\"seq\":", 7) != 0)
		return false;
	if (line[7] < '1' || line[7] > '9')
		return false;
	errno = 0;
	out->seq = strtoull(line + 7, &end, 10);
	if (errno != 0 || end == NULL || *end != ',')
		return false;
	mac_at = line + len - tail;
	if (memcmp(mac_at, MAC_FIELD, strlen(MAC_FIELD)) != 0 ||
	    memcmp(line + len - 2, "\"}", 2) != 0)
		return false;
	prev_at = mac_at - prev_len;
	if (memcmp(prev_at, PREV_FIELD, strlen(PREV_FIELD)) != 0 ||
	    prev_at[prev_len - 1] != '"')
		return false;
	memcpy(out->mac, mac_at + strlen(MAC_FIELD), AUDIT_MAC_HEX);
	out->mac[AUDIT_MAC_HEX] = '\0';
	memcpy(out->prev, prev_at + strlen(PREV_FIELD), AUDIT_MAC_HEX);
	out->prev[AUDIT_MAC_HEX] = '\0';
	out->body_len = (size_t)(mac_at - line);
	return is_hex64(out->mac) && is_hex64(out->prev);
}

static bool read_head(const char *path, uint64_t *seq, char mac[AUDIT_MAC_HEX + 1])
{
	char buf[128], found[AUDIT_MAC_HEX + 1];
	unsigned long long s;
	FILE *f;
	bool ok = false;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return false;
	/* A head breaking the secret-file rule is treated like a damaged one. */
	if (fsutil_secret_file_check(fd, "audit head", path, FSUTIL_ANY_SIZE,
				     NULL, 0) != PP_OK ||
	    (f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return false;
	}
	/* Parse into locals: a damaged head must not disturb the caller's chain. */
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    sscanf(buf, "%llu %64s", &s, found) == 2 && strlen(found) == AUDIT_MAC_HEX &&
	    is_hex64(found)) {
		*seq = s;
		memcpy(mac, found, sizeof(found));
		ok = true;
	}
	fclose(f);
	return ok;
}

/* A crash may bring back the previous head: resume_from_log catches up. */
static pp_err write_head(struct audit_log *log)
{
	char text[128];
	int n = snprintf(text, sizeof(text), "%" PRIu64 " %s\n", log->seq,
			 log->last_mac);

	if (n < 0 || (size_t)n >= sizeof(text))
		return PP_ERR_INTERNAL;
	return fsutil_replace_file(log->head_path, text, (size_t)n, 0600, false);
}

/*
 * Continue from the log's last complete line when it is newer than the
 * head: a crash between appending a line and renaming the head leaves the
 * head one line behind. Only the tail of the file is read.
 */
static void resume_from_log(struct audit_log *log)
{
	char *buf, *line, *next;
	struct parsed_line pl;
	const size_t tail = 4 * AUDIT_MAX_LINE;
	off_t size, start;
	ssize_t got;
	int fd = open(log->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	start = size > (off_t)tail ? size - (off_t)tail : 0;
	buf = malloc(tail + 1);
	if (buf == NULL || size < 0 ||
	    (got = pread(fd, buf, tail, start)) <= 0) {
		free(buf);
		close(fd);
		return;
	}
	buf[got] = '\0';
	line = buf;
	if (start > 0 && (line = strchr(buf, '\n')) != NULL)
		line++;                 /* skip the partial first line */
	for (; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next == NULL)
			break;          /* torn last line: not part of the chain */
		*next++ = '\0';
		if (parse_line(line, strlen(line), &pl) && pl.seq > log->seq) {
			log->seq = pl.seq;
			memcpy(log->last_mac, pl.mac, sizeof(pl.mac));
		}
	}
	free(buf);
	close(fd);
}

static pp_err open_file(struct audit_log *log, char *err, size_t errlen)
{
	/* No umask games: other threads may create files meanwhile. */
	log->fd = open(log->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		       0600);
	if (log->fd < 0) {
		set_error(err, errlen, "cannot open audit log", log->path);
		return PP_ERR_IO;
	}
	/* Only root can hand the file to the audit group. */
	/* A crash may have left a torn last line: end it so the next line stands alone. */
	{
		struct stat st;
		char last = '\n';
		if (fstat(log->fd, &st) == 0 && st.st_size > 0 &&
		    pread(log->fd, &last, 1, st.st_size - 1) == 1 && last != '\n' &&
		    write(log->fd, "\n", 1) != 1) {
			set_error(err, errlen, "cannot repair torn last line of audit log", log->path);
			close(log->fd);
			log->fd = -1;
			return PP_ERR_IO;
		}
	}
	if (fchmod(log->fd, 0640) != 0 ||
	    (log->gid != (gid_t)-1 && geteuid() == 0 &&
	     fchown(log->fd, (uid_t)-1, log->gid) != 0)) {
		set_error(err, errlen, "cannot set mode/group of audit log", log->path);
		close(log->fd);
		log->fd = -1;
		return PP_ERR_IO;
	}
	return PP_OK;
}

pp_err auditlog_open(const char *path, const char *head_path,
		  const uint8_t key[AUDIT_KEY_BYTES], gid_t gid,
		  struct audit_log **out, char *err, size_t errlen)
{
	struct audit_log *log;
	pp_err rc;

	*out = NULL;
	if (strlen(path) >= PATH_MAX || strlen(head_path) >= PATH_MAX)
		return PP_ERR_TOO_LONG;
	log = calloc(1, sizeof(*log));
	if (log == NULL)
		return PP_ERR_NOMEM;
	log->fd = -1;
	log->key = sodium_malloc(AUDIT_KEY_BYTES);
	if (log->key == NULL) {
		free(log);
		return PP_ERR_NOMEM;
	}
	snprintf(log->path, sizeof(log->path), "%s", path);
	snprintf(log->head_path, sizeof(log->head_path), "%s", head_path);
	memcpy(log->key, key, AUDIT_KEY_BYTES);
	log->gid = gid;
	memcpy(log->last_mac, zero_mac, sizeof(zero_mac));
	(void)read_head(head_path, &log->seq, log->last_mac);
	resume_from_log(log);
	rc = open_file(log, err, errlen);
	if (rc != PP_OK) {
		auditlog_close(log);
		return rc;
	}
	*out = log;
	return PP_OK;
}

pp_err auditlog_reopen(struct audit_log *log)
{
	int old_fd = log->fd;
	pp_err rc = open_file(log, NULL, 0);

	if (rc != PP_OK) {
		log->fd = old_fd;
		return rc;
	}
	if (old_fd >= 0)
		close(old_fd);
	return PP_OK;
}

void auditlog_close(struct audit_log *log)
{
	if (log == NULL)
		return;
	if (log->fd >= 0)
		close(log->fd);
	if (log->key != NULL)
		sodium_free(log->key);
	free(log);
}

bool auditlog_json_string(char *buf, size_t len, size_t *used, const char *s)
{
	size_t u = *used, n = s ? strlen(s) : 0;

	if (u + 3 > len)
		return false;
	buf[u++] = '"';
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t step;
		char esc[8];
		const char *piece = NULL;
		size_t plen;

		if (c < 0x80) {
			step = 1;
			if (c == '"')
				piece = "\\\"";
			else if (c == '\\')
				piece = "\\\\";
			else if (c < 0x20 || c == 0x7f) {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				piece = esc;
			} else {
				esc[0] = (char)c;
				esc[1] = '\0';
				piece = esc;
			}
			plen = strlen(piece);
		} else {
			step = utf8_decode((const unsigned char *)s + i, n - i, &cp);
			if (step == 0) {
				step = 1;
				piece = "\\ufffd";
				plen = strlen(piece);
			} else {
				piece = s + i;
				plen = step;
			}
		}
		if (u + plen + 2 > len)
			return false;
		memcpy(buf + u, piece, plen);
		u += plen;
		i += step;
	}
	buf[u++] = '"';
	buf[u] = '\0';
	*used = u;
	return true;
}

static bool append(char *buf, size_t len, size_t *used, const char *text)
{
	size_t n = strlen(text);

	if (*used + n + 1 > len)
		return false;
	memcpy(buf + *used, text, n + 1);
	*used += n;
	return true;
}

static bool append_field(char *buf, size_t len, size_t *used, const char *name,
			 const char *value)
{
	char key[40];

	snprintf(key, sizeof(key), ",\"%s\":", name);
	return append(buf, len, used, key) && auditlog_json_string(buf, len, used, value);
}

static bool append_reasons(char *buf, size_t len, size_t *used, const char *reasons)
{
	const char *s = reasons ? reasons : "";
	bool first = true;

	if (!append(buf, len, used, ",\"reasons\":["))
		return false;
	while (*s != '\0') {
		char code[64];
		size_t n = strcspn(s, ",");

		if (n > 0 && n < sizeof(code)) {
			memcpy(code, s, n);
			code[n] = '\0';
			if ((!first && !append(buf, len, used, ",")) ||
			    !auditlog_json_string(buf, len, used, code))
				return false;
			first = false;
		}
		s += n;
		if (*s == ',')
			s++;
	}
	return append(buf, len, used, "]");
}

pp_err auditlog_write(struct audit_log *log, const struct audit_event *ev,
		   int64_t now)
{
	char line[AUDIT_MAX_LINE], ts[32], num[48], mac[AUDIT_MAC_HEX + 1];
	struct tm tm;
	time_t t = (time_t)now;
	size_t used = 0;
	bool ok;

	if (log == NULL || log->fd < 0 || ev == NULL || ev->event == NULL)
		return PP_ERR_INVALID;
	if (gmtime_r(&t, &tm) == NULL)
		return PP_ERR_INVALID;
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(num, sizeof(num), "{\"seq\":%" PRIu64, log->seq + 1);
	ok = append(line, sizeof(line), &used, num) &&
	     append_field(line, sizeof(line), &used, "ts", ts) &&
	     append_field(line, sizeof(line), &used, "event", ev->event) &&
	     append_field(line, sizeof(line), &used, "user", ev->user);
	if (ok) {
		if (ev->uid >= 0)
			snprintf(num, sizeof(num), ",\"uid\":%lld", ev->uid);
		else
			snprintf(num, sizeof(num), ",\"uid\":null");
		ok = append(line, sizeof(line), &used, num);
	}
	ok = ok && append_field(line, sizeof(line), &used, "service", ev->service) &&
	     append_field(line, sizeof(line), &used, "rhost", ev->rhost) &&
	     append_field(line, sizeof(line), &used, "tty", ev->tty) &&
	     append_reasons(line, sizeof(line), &used, ev->reasons) &&
	     append_field(line, sizeof(line), &used, "actor", ev->actor) &&
	     append(line, sizeof(line), &used, PREV_FIELD) &&
	     append(line, sizeof(line), &used, log->last_mac) &&
	     append(line, sizeof(line), &used, "\"");
	if (!ok)
		return PP_ERR_TOO_LONG;
	mac_hex(log->key, line, used, mac);
	if (!append(line, sizeof(line), &used, MAC_FIELD) ||
	    !append(line, sizeof(line), &used, mac) ||
	    !append(line, sizeof(line), &used, "\"}\n"))
		return PP_ERR_TOO_LONG;
	{
		/* A short write (disk full) is cut back, so the chain stays whole. */
		off_t end = lseek(log->fd, 0, SEEK_END);
		ssize_t n = write(log->fd, line, used);
		if (n != (ssize_t)used) {
			if (n > 0 && end >= 0 && ftruncate(log->fd, end) != 0)
				return PP_ERR_IO;
			return PP_ERR_IO;
		}
	}
	/* The line is in the file: the chain moves on even if the flush fails. */
	log->seq++;
	memcpy(log->last_mac, mac, sizeof(mac));
	if (fdatasync(log->fd) != 0)
		return PP_ERR_IO;
	return write_head(log);
}

const char *auditlog_problem_name(enum audit_problem p)
{
	switch (p) {
	case AUDIT_CLEAN:
		return "clean";
	case AUDIT_EDITED:
		return "edited";
	case AUDIT_DELETED:
		return "deleted";
	case AUDIT_INSERTED:
		return "inserted";
	case AUDIT_REORDERED:
		return "reordered";
	case AUDIT_TRUNCATED:
		return "truncated";
	case AUDIT_MALFORMED:
		return "malformed";
	}
	return "unknown";
}

/* Every line of every file, in order, for the verifier. */
struct line_ref {
	const char *file;
	unsigned long lineno;
	char *text;
	size_t len;
	bool complete;            /* ended with a newline */
	bool parsed;
	struct parsed_line pl;
};

struct line_set {
	struct line_ref *v;
	size_t n, cap;
	char **buffers;
	size_t nbuffers;
};

static pp_err load_file(struct line_set *set, const char *path)
{
	FILE *f = fopen(path, "re");
	char *data = NULL;
	size_t len = 0;
	char **bufs;
	unsigned long lineno = 0;

	if (f == NULL)
		return PP_ERR_IO;
	{
		size_t cap = 0, got;
		char chunk[65536];
		while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
			if (len + got + 1 > cap) {
				size_t ncap = cap ? cap * 2 : sizeof(chunk) * 2;
				char *bigger;
				while (ncap < len + got + 1)
					ncap *= 2;
				bigger = realloc(data, ncap);
				if (bigger == NULL) {
					free(data);
					fclose(f);
					return PP_ERR_NOMEM;
				}
				data = bigger;
				cap = ncap;
			}
			memcpy(data + len, chunk, got);
			len += got;
		}
	}
	if (ferror(f)) {
		free(data);
		fclose(f);
		return PP_ERR_IO;
	}
	fclose(f);
	if (data == NULL)
		return PP_OK;
	data[len] = '\0';
	bufs = realloc(set->buffers, (set->nbuffers + 1) * sizeof(*bufs));
	if (bufs == NULL) {
		free(data);
		return PP_ERR_NOMEM;
	}
	set->buffers = bufs;
	set->buffers[set->nbuffers++] = data;
	for (size_t start = 0; start < len;) {
		char *nl = memchr(data + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - data) : len;
		struct line_ref *r;

		if (set->n == set->cap) {
			size_t ncap = set->cap ? set->cap * 2 : 256;
			struct line_ref *bigger = realloc(set->v, ncap * sizeof(*bigger));
			if (bigger == NULL)
				return PP_ERR_NOMEM;
			set->v = bigger;
			set->cap = ncap;
		}
		r = &set->v[set->n++];
		memset(r, 0, sizeof(*r));
		r->file = path;
		r->lineno = ++lineno;
		r->text = data + start;
		r->len = end - start;
		r->complete = nl != NULL;
		if (nl)
			*nl = '\0';
		r->parsed = memchr(r->text, '\0', r->len) == NULL &&
			    parse_line(r->text, r->len, &r->pl);
		start = end + 1;
	}
	return PP_OK;
}

static void line_set_free(struct line_set *set)
{
	for (size_t i = 0; i < set->nbuffers; i++)
		free(set->buffers[i]);
	free(set->buffers);
	free(set->v);
}

static void verdict_set(struct audit_verdict *v, enum audit_problem p,
			const struct line_ref *r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void verdict_set(struct audit_verdict *v, enum audit_problem p,
			const struct line_ref *r, const char *fmt, ...)
{
	va_list ap;

	v->problem = p;
	v->file = r ? r->file : NULL;
	v->line = r ? r->lineno : 0;
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
}

static bool mac_matches(const uint8_t key[AUDIT_KEY_BYTES], const struct line_ref *r)
{
	char mac[AUDIT_MAC_HEX + 1];

	mac_hex(key, r->text, r->pl.body_len, mac);
	return sodium_memcmp(mac, r->pl.mac, AUDIT_MAC_HEX) == 0;
}

pp_err auditlog_verify(const char *const *files, size_t nfiles,
		    const char *head_path, const uint8_t key[AUDIT_KEY_BYTES],
		    struct audit_verdict *verdict)
{
	struct line_set set = { 0 };
	const struct line_ref *last_good = NULL;
	pp_err rc = PP_OK;

	memset(verdict, 0, sizeof(*verdict));
	for (size_t i = 0; i < nfiles; i++) {
		rc = load_file(&set, files[i]);
		if (rc != PP_OK) {
			verdict->file = files[i];
			goto out;
		}
	}
	for (size_t i = 0; i < set.n; i++) {
		const struct line_ref *r = &set.v[i];
		uint64_t expected = last_good ? last_good->pl.seq + 1 : 0;

		verdict->lines++;
		if (!r->complete && i + 1 == set.n && !r->parsed) {
			verdict_set(verdict, AUDIT_TRUNCATED, r,
				    "the last line was cut off mid-line");
			goto out;
		}
		if (!r->parsed) {
			verdict_set(verdict, AUDIT_MALFORMED, r,
				    "not a line of this audit log (missing seq, prev or mac)");
			goto out;
		}
		if (!mac_matches(key, r)) {
			const struct line_ref *next = i + 1 < set.n ? &set.v[i + 1] : NULL;
			if (last_good && next && next->parsed &&
			    strcmp(next->pl.prev, last_good->pl.mac) == 0)
				verdict_set(verdict, AUDIT_INSERTED, r,
					    "a line was inserted after seq %" PRIu64,
					    last_good->pl.seq);
			else
				verdict_set(verdict, AUDIT_EDITED, r,
					    "line seq %" PRIu64 " was edited: its content no "
					    "longer matches its hash", r->pl.seq);
			goto out;
		}
		if (last_good == NULL) {
			if (r->pl.seq == 1 && strcmp(r->pl.prev, zero_mac) != 0) {
				verdict_set(verdict, AUDIT_EDITED, r,
					    "the first line does not start the chain");
				goto out;
			}
		} else if (strcmp(r->pl.prev, last_good->pl.mac) != 0) {
			if (r->pl.seq > expected) {
				bool later = false;
				for (size_t j = i + 1; j < set.n; j++)
					if (set.v[j].parsed && set.v[j].pl.seq == expected)
						later = true;
				if (later)
					verdict_set(verdict, AUDIT_REORDERED, r,
						    "seq %" PRIu64 " appears before seq %" PRIu64,
						    r->pl.seq, expected);
				else
					verdict_set(verdict, AUDIT_DELETED, r,
						    "%" PRIu64 " line(s) deleted before this one "
						    "(seq %" PRIu64 " to %" PRIu64 " missing)",
						    r->pl.seq - expected, expected, r->pl.seq - 1);
			} else if (r->pl.seq < expected) {
				verdict_set(verdict, AUDIT_REORDERED, r,
					    "seq %" PRIu64 " appears after seq %" PRIu64,
					    r->pl.seq, last_good->pl.seq);
			} else {
				verdict_set(verdict, AUDIT_EDITED, r,
					    "line seq %" PRIu64 " does not chain to the line before",
					    r->pl.seq);
			}
			goto out;
		}
		if (!r->complete) {
			verdict_set(verdict, AUDIT_TRUNCATED, r,
				    "the last line has no end-of-line");
			goto out;
		}
		last_good = r;
	}
	if (head_path != NULL) {
		uint64_t head_seq = 0;
		char head_mac[AUDIT_MAC_HEX + 1];
		if (read_head(head_path, &head_seq, head_mac)) {
			uint64_t have = last_good ? last_good->pl.seq : 0;
			if (head_seq > have) {
				verdict_set(verdict, AUDIT_TRUNCATED, last_good,
					    "the log ends at seq %" PRIu64 " but seq %" PRIu64
					    " was written: %" PRIu64 " line(s) missing at the end",
					    have, head_seq, head_seq - have);
				if (last_good == NULL) {
					verdict->file = nfiles ? files[nfiles - 1] : NULL;
					verdict->line = 1;
				} else {
					verdict->line = last_good->lineno + 1;
				}
				goto out;
			}
			if (head_seq == have && last_good &&
			    strcmp(head_mac, last_good->pl.mac) != 0) {
				verdict_set(verdict, AUDIT_EDITED, last_good,
					    "the last line differs from the one the daemon wrote");
				goto out;
			}
		}
	}
	verdict->problem = AUDIT_CLEAN;
	snprintf(verdict->detail, sizeof(verdict->detail), "%lu line(s), chain intact",
		 verdict->lines);
out:
	line_set_free(&set);
	return rc;
}
