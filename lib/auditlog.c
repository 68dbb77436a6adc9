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
	size_t torn_sealed;              /* bytes sealed by the last open */
	bool torn_pending;               /* its audit_tail_repaired line is due */
	off_t cut_back;                  /* a short write to cut back to here; -1 */
	char *held[AUDIT_MAX_HELD];      /* bodies of events not yet written */
	size_t nheld;
	uint64_t lost;                   /* events beyond AUDIT_MAX_HELD */
	int64_t fail_first, fail_last;   /* when the first and last were refused */
};

/* {"seq":N + body + ,"prev":"..." + ,"mac":"..."} + newline + NUL */
#define LINE_OVERHEAD (7 + 20 + 9 + AUDIT_MAC_HEX + 1 + 8 + AUDIT_MAC_HEX + 3 + 1)
#define MAX_BODY (AUDIT_MAX_LINE - LINE_OVERHEAD)
#define HEAD_CHECK_CONTEXT "pam_policy audit head v1 "

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

/* A parsed line whose mac verifies under key. */
static bool line_verifies(const uint8_t key[AUDIT_KEY_BYTES], const char *line,
			  const struct parsed_line *pl)
{
	char mac[AUDIT_MAC_HEX + 1];

	mac_hex(key, line, pl->body_len, mac);
	return sodium_memcmp(mac, pl->mac, AUDIT_MAC_HEX) == 0;
}

/* The head's CHECK: binds "SEQ MAC" to the key. */
static void head_check(const uint8_t key[AUDIT_KEY_BYTES], uint64_t seq,
		       const char mac[AUDIT_MAC_HEX + 1], char out[AUDIT_MAC_HEX + 1])
{
	char text[sizeof(HEAD_CHECK_CONTEXT) + 24 + AUDIT_MAC_HEX];
	int n = snprintf(text, sizeof(text), HEAD_CHECK_CONTEXT "%" PRIu64 " %s", seq, mac);

	mac_hex(key, text, (size_t)n, out);
}

struct head {
	uint64_t seq;
	char mac[AUDIT_MAC_HEX + 1];
	char check[AUDIT_MAC_HEX + 1];   /* "" for a head without one */
};

static bool read_head(const char *path, struct head *out)
{
	char buf[256], found[AUDIT_MAC_HEX + 1], check[AUDIT_MAC_HEX + 1] = "";
	unsigned long long s;
	FILE *f;
	bool ok = false;
	int n, fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

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
	    (n = sscanf(buf, "%llu %64s %64s", &s, found, check)) >= 2 &&
	    strlen(found) == AUDIT_MAC_HEX && is_hex64(found) &&
	    (n == 2 || (strlen(check) == AUDIT_MAC_HEX && is_hex64(check)))) {
		out->seq = s;
		memcpy(out->mac, found, sizeof(found));
		if (n == 2)
			out->check[0] = '\0';
		else
			memcpy(out->check, check, sizeof(check));
		ok = true;
	}
	fclose(f);
	return ok;
}

/* A crash may bring back the previous head: resume_from_log catches up. */
static pp_err write_head(struct audit_log *log)
{
	char text[256], check[AUDIT_MAC_HEX + 1];
	int n;

	head_check(log->key, log->seq, log->last_mac, check);
	n = snprintf(text, sizeof(text), "%" PRIu64 " %s %s\n", log->seq,
		     log->last_mac, check);
	if (n < 0 || (size_t)n >= sizeof(text))
		return PP_ERR_INTERNAL;
	return fsutil_replace_file(log->head_path, text, (size_t)n, 0600, false);
}

/*
 * The last (at most) want bytes of fd, NUL-terminated, in a malloc'd
 * buffer; *start is their offset. NULL when there is nothing to read.
 */
static char *read_tail(int fd, size_t want, off_t *start, size_t *got_out)
{
	off_t size = lseek(fd, 0, SEEK_END);
	ssize_t got;
	char *buf;

	if (size <= 0)
		return NULL;
	*start = size > (off_t)want ? size - (off_t)want : 0;
	buf = malloc(want + 1);
	if (buf == NULL)
		return NULL;
	got = pread(fd, buf, (size_t)(size - *start), *start);
	if (got <= 0) {
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	*got_out = (size_t)got;
	return buf;
}

#define TAIL_WINDOW (4 * AUDIT_MAX_LINE)

/*
 * Continue from the log's last whole line when it is newer than the head:
 * a crash between appending a line and renaming the head leaves the head
 * one line behind. Only the tail of the file is read, and only lines whose
 * mac verifies count (a sealed torn line never does).
 */
static void resume_from_log(struct audit_log *log)
{
	char *buf, *line, *next;
	struct parsed_line pl;
	off_t start;
	size_t got;
	int fd = open(log->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return;
	buf = read_tail(fd, TAIL_WINDOW, &start, &got);
	close(fd);
	if (buf == NULL)
		return;
	line = buf;
	if (start > 0 && (line = memchr(buf, '\n', got)) != NULL)
		line++;                 /* skip the partial first line */
	for (; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next == NULL)
			break;          /* no end-of-line: not part of the chain */
		*next++ = '\0';
		if (parse_line(line, strlen(line), &pl) && pl.seq > log->seq &&
		    line_verifies(log->key, line, &pl)) {
			log->seq = pl.seq;
			memcpy(log->last_mac, pl.mac, sizeof(pl.mac));
		}
	}
	free(buf);
}

/*
 * A crash (power loss mid-write) may have left a torn last line. It is
 * sealed with a newline and left in place, never cut: the daemon does not
 * delete bytes from its audit log, and verify recognises it. A line that
 * is whole but lost only its newline is simply ended and stays in the
 * chain.
 */
static pp_err seal_torn_tail(struct audit_log *log, char *err, size_t errlen)
{
	struct parsed_line pl;
	off_t start;
	size_t got, frag_len;
	char *frag, *buf = read_tail(log->fd, TAIL_WINDOW, &start, &got);
	bool whole;

	if (buf == NULL || buf[got - 1] == '\n') {
		free(buf);
		return PP_OK;
	}
	frag = memrchr(buf, '\n', got);
	frag = frag != NULL ? frag + 1 : buf;
	frag_len = got - (size_t)(frag - buf);
	whole = memchr(frag, '\0', frag_len) == NULL &&
		parse_line(frag, frag_len, &pl) && line_verifies(log->key, frag, &pl);
	free(buf);
	if (fsutil_write_all(log->fd, "\n", 1) != PP_OK || fdatasync(log->fd) != 0) {
		set_error(err, errlen, "cannot seal the torn last line of audit log",
			  log->path);
		return PP_ERR_IO;
	}
	if (!whole) {
		log->torn_sealed = frag_len;
		log->torn_pending = true;
	}
	return PP_OK;
}

static pp_err open_file(struct audit_log *log, char *err, size_t errlen)
{
	pp_err rc;

	/* No umask games: other threads may create files meanwhile. */
	log->fd = open(log->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		       0600);
	if (log->fd < 0) {
		set_error(err, errlen, "cannot open audit log", log->path);
		return PP_ERR_IO;
	}
	log->torn_sealed = 0;
	log->cut_back = -1;
	rc = seal_torn_tail(log, err, errlen);
	if (rc != PP_OK) {
		close(log->fd);
		log->fd = -1;
		return rc;
	}
	/* Only root can hand the file to the audit group. */
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
	struct head h;
	pp_err rc;

	*out = NULL;
	if (strlen(path) >= PATH_MAX || strlen(head_path) >= PATH_MAX)
		return PP_ERR_TOO_LONG;
	log = calloc(1, sizeof(*log));
	if (log == NULL)
		return PP_ERR_NOMEM;
	log->fd = -1;
	log->cut_back = -1;
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
	if (read_head(head_path, &h)) {
		log->seq = h.seq;
		memcpy(log->last_mac, h.mac, sizeof(h.mac));
	}
	/* Seal first, so that a whole line that only lost its newline counts. */
	rc = open_file(log, err, errlen);
	if (rc != PP_OK) {
		auditlog_close(log);
		return rc;
	}
	resume_from_log(log);
	*out = log;
	return PP_OK;
}

pp_err auditlog_reopen(struct audit_log *log)
{
	int old_fd = log->fd;
	off_t old_cut = log->cut_back;
	pp_err rc = open_file(log, NULL, 0);

	if (rc != PP_OK) {
		log->fd = old_fd;
		log->cut_back = old_cut;
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
	for (size_t i = 0; i < log->nheld; i++)
		free(log->held[i]);
	free(log);
}

void auditlog_backlog(const struct audit_log *log, size_t *held, uint64_t *lost)
{
	if (held != NULL)
		*held = log ? log->nheld : 0;
	if (lost != NULL)
		*lost = log ? log->lost : 0;
}

uint64_t auditlog_last_seq(const struct audit_log *log)
{
	return log != NULL ? log->seq : 0;
}

size_t auditlog_torn_sealed(const struct audit_log *log)
{
	return log ? log->torn_sealed : 0;
}

pp_err auditlog_has_data(const char *path, const char *head_path, bool *has)
{
	const char *paths[2] = { path, head_path };

	*has = false;
	for (int i = 0; i < 2; i++) {
		struct stat st;
		if (lstat(paths[i], &st) == 0) {
			if (st.st_size > 0)
				*has = true;
		} else if (errno != ENOENT) {
			return PP_ERR_IO;
		}
	}
	return PP_OK;
}

enum auditlog_key_match auditlog_key_matches(const char *path, const char *head_path,
					     const uint8_t key[AUDIT_KEY_BYTES])
{
	bool evidence = false, has = false;
	struct head h;
	char *buf = NULL, *line;
	off_t start = 0;
	size_t got = 0;
	int fd;

	if (read_head(head_path, &h) && h.check[0] != '\0') {
		char want[AUDIT_MAC_HEX + 1];
		head_check(key, h.seq, h.mac, want);
		if (sodium_memcmp(want, h.check, AUDIT_MAC_HEX) == 0)
			return AUDITLOG_KEY_MATCHES;
		evidence = true;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd >= 0) {
		buf = read_tail(fd, TAIL_WINDOW, &start, &got);
		close(fd);
	}
	line = buf;
	if (buf != NULL && start > 0 && (line = memchr(buf, '\n', got)) != NULL)
		line++;
	while (line != NULL && *line != '\0') {
		char *nl = strchr(line, '\n');
		struct parsed_line pl;
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (parse_line(line, len, &pl)) {
			evidence = true;
			if (line_verifies(key, line, &pl)) {
				free(buf);
				return AUDITLOG_KEY_MATCHES;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	free(buf);
	if (evidence)
		return AUDITLOG_KEY_DIFFERS;
	if (auditlog_has_data(path, head_path, &has) != PP_OK || has)
		return AUDITLOG_KEY_UNPROVEN;
	return AUDITLOG_KEY_NO_DATA;
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

static void format_ts(int64_t now, char ts[32])
{
	struct tm tm;
	time_t t = (time_t)now;

	if (gmtime_r(&t, &tm) == NULL)
		snprintf(ts, 32, "1970-01-01T00:00:00Z");
	else
		strftime(ts, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * The part of a line between its seq and its prev: ,"ts":...,"actor":"...".
 * It does not depend on the chain, so an event can be held and written
 * later with the time it happened.
 */
static pp_err build_body(const struct audit_event *ev, int64_t now, char *body,
			 size_t *used_out)
{
	char ts[32], num[48];
	struct tm tm;
	time_t t = (time_t)now;
	size_t used = 0;
	bool ok;

	if (ev == NULL || ev->event == NULL || gmtime_r(&t, &tm) == NULL)
		return PP_ERR_INVALID;
	format_ts(now, ts);
	body[0] = '\0';
	ok = append_field(body, MAX_BODY, &used, "ts", ts) &&
	     append_field(body, MAX_BODY, &used, "event", ev->event) &&
	     append_field(body, MAX_BODY, &used, "user", ev->user);
	if (ok) {
		if (ev->uid >= 0)
			snprintf(num, sizeof(num), ",\"uid\":%lld", ev->uid);
		else
			snprintf(num, sizeof(num), ",\"uid\":null");
		ok = append(body, MAX_BODY, &used, num);
	}
	ok = ok && append_field(body, MAX_BODY, &used, "service", ev->service) &&
	     append_field(body, MAX_BODY, &used, "rhost", ev->rhost) &&
	     append_field(body, MAX_BODY, &used, "tty", ev->tty) &&
	     append_reasons(body, MAX_BODY, &used, ev->reasons) &&
	     append_field(body, MAX_BODY, &used, "actor", ev->actor) &&
	     (ev->host == NULL || append_field(body, MAX_BODY, &used, "host", ev->host));
	if (!ok)
		return PP_ERR_TOO_LONG;
	*used_out = used;
	return PP_OK;
}

/* One whole line for body at seq, chained to prev; its mac into mac. */
static size_t format_line(const uint8_t key[AUDIT_KEY_BYTES], uint64_t seq,
			  const char *prev, const char *body, char *out,
			  char mac[AUDIT_MAC_HEX + 1])
{
	int n = snprintf(out, AUDIT_MAX_LINE, "{\"seq\":%" PRIu64 "%s" PREV_FIELD "%s\"",
			 seq, body, prev);

	mac_hex(key, out, (size_t)n, mac);
	n += snprintf(out + n, AUDIT_MAX_LINE - (size_t)n, MAC_FIELD "%s\"}\n", mac);
	return (size_t)n;
}

/*
 * A short write that could not be cut back left part of a line at the end:
 * try again, and failing that seal it with a newline (verify then sees a
 * torn line, the chain skipping it).
 */
static bool end_is_clean(struct audit_log *log)
{
	if (log->cut_back < 0)
		return true;
	if (ftruncate(log->fd, log->cut_back) == 0 ||
	    fsutil_write_all(log->fd, "\n", 1) == PP_OK) {
		log->cut_back = -1;
		return true;
	}
	return false;
}

/*
 * Append the lines of bodies[0..n) in one write(2), so that they are in
 * the file all together or not at all. *written says which; the chain
 * moves on only when they are. PP_ERR_IO also when they are in the file
 * but the fsync or the head failed.
 */
static pp_err append_lines(struct audit_log *log, const char *const *bodies, size_t n,
			   bool *written)
{
	char mac[AUDIT_MAC_HEX + 1], prev[AUDIT_MAC_HEX + 1];
	size_t used = 0;
	uint64_t seq = log->seq;
	char *buf;
	off_t end;
	ssize_t put;

	*written = false;
	if (!end_is_clean(log))
		return PP_ERR_IO;
	buf = malloc(n * AUDIT_MAX_LINE);
	if (buf == NULL)
		return PP_ERR_NOMEM;
	memcpy(prev, log->last_mac, sizeof(prev));
	for (size_t i = 0; i < n; i++) {
		used += format_line(log->key, ++seq, prev, bodies[i], buf + used, mac);
		memcpy(prev, mac, sizeof(prev));
	}
	end = lseek(log->fd, 0, SEEK_END);
	put = write(log->fd, buf, used);
	free(buf);
	if (put != (ssize_t)used) {
		/* Cut a partial write back, so the chain stays whole. */
		if (put > 0 && (end < 0 || ftruncate(log->fd, end) != 0))
			log->cut_back = end < 0 ? 0 : end;
		return PP_ERR_IO;
	}
	*written = true;
	/* The lines are in the file: the chain moves on even if the flush fails. */
	log->seq = seq;
	memcpy(log->last_mac, prev, sizeof(prev));
	if (fdatasync(log->fd) != 0)
		return PP_ERR_IO;
	return write_head(log);
}

static void hold(struct audit_log *log, const char *body, int64_t now)
{
	char *copy = log->nheld < AUDIT_MAX_HELD ? strdup(body) : NULL;

	if (log->nheld == 0 && log->lost == 0)
		log->fail_first = now;
	log->fail_last = now;
	if (copy != NULL)
		log->held[log->nheld++] = copy;
	else
		log->lost++;
}

static pp_err marker_body(const char *event, const char *reasons, int64_t now,
			  char *body)
{
	struct audit_event ev = { .event = event, .uid = -1, .reasons = reasons };
	size_t used;

	return build_body(&ev, now, body, &used);
}

/* The audit_tail_repaired and audit_gap lines due, then the held events. */
static pp_err flush_pending(struct audit_log *log, int64_t now)
{
	char torn[MAX_BODY], gap[MAX_BODY], reasons[256], from[32], to[32];
	const char *bodies[AUDIT_MAX_HELD + 2];
	size_t n = 0;
	bool written;
	pp_err rc;

	if (log->torn_pending) {
		snprintf(reasons, sizeof(reasons), "torn_bytes=%zu", log->torn_sealed);
		if (marker_body("audit_tail_repaired", reasons, now, torn) != PP_OK)
			return PP_ERR_INTERNAL;
		bodies[n++] = torn;
	}
	if (log->nheld > 0 || log->lost > 0) {
		format_ts(log->fail_first, from);
		format_ts(log->fail_last, to);
		snprintf(reasons, sizeof(reasons),
			 "events_held=%zu,events_lost=%" PRIu64 ",from=%s,to=%s",
			 log->nheld, log->lost, from, to);
		if (marker_body("audit_gap", reasons, now, gap) != PP_OK)
			return PP_ERR_INTERNAL;
		bodies[n++] = gap;
		for (size_t i = 0; i < log->nheld; i++)
			bodies[n++] = log->held[i];
	}
	if (n == 0)
		return PP_OK;
	rc = append_lines(log, bodies, n, &written);
	if (!written)
		return rc == PP_OK ? PP_ERR_IO : rc;
	log->torn_pending = false;
	for (size_t i = 0; i < log->nheld; i++)
		free(log->held[i]);
	log->nheld = 0;
	log->lost = 0;
	return rc;
}

pp_err auditlog_flush(struct audit_log *log, int64_t now)
{
	if (log == NULL || log->fd < 0)
		return PP_ERR_INVALID;
	return flush_pending(log, now);
}

pp_err auditlog_write(struct audit_log *log, const struct audit_event *ev,
		   int64_t now)
{
	char body[MAX_BODY];
	const char *one[1] = { body };
	size_t used;
	bool written = false;
	pp_err rc;

	if (log == NULL || log->fd < 0 || ev == NULL || ev->event == NULL)
		return PP_ERR_INVALID;
	rc = build_body(ev, now, body, &used);
	if (rc != PP_OK)
		return rc;
	rc = flush_pending(log, now);
	if (log->torn_pending || log->nheld > 0 || log->lost > 0) {
		/* Still cannot write: this one waits behind the others. */
		hold(log, body, now);
		return rc == PP_OK ? PP_ERR_IO : rc;
	}
	rc = append_lines(log, one, 1, &written);
	if (!written)
		hold(log, body, now);
	return rc;
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
	case AUDIT_TORN:
		return "torn";
	case AUDIT_GAP:
		return "gap";
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
	return line_verifies(key, r->text, &r->pl);
}

static void notice_add(struct audit_verdict *v, enum audit_problem p,
		       const struct line_ref *r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void notice_add(struct audit_verdict *v, enum audit_problem p,
		       const struct line_ref *r, const char *fmt, ...)
{
	struct audit_notice *n;
	va_list ap;

	if (v->nnotices == AUDIT_MAX_NOTICES)
		return;
	n = &v->notices[v->nnotices++];
	n->problem = p;
	n->file = r->file;
	n->line = r->lineno;
	va_start(ap, fmt);
	vsnprintf(n->detail, sizeof(n->detail), fmt, ap);
	va_end(ap);
}

/*
 * Does the unparsed text look like the start of line seq: '{"seq":SEQ,'
 * or a prefix of it, then anything, with only NUL bytes after the first
 * NUL (a file system may show a torn block as zeros)? seq 0: any seq.
 */
static bool torn_prefix(const char *text, size_t len, uint64_t seq)
{
	char want[40];
	size_t t = strnlen(text, len), w;

	for (size_t k = t; k < len; k++)
		if (text[k] != '\0')
			return false;
	if (t == 0)
		return len > 0;
	if (seq == 0) {
		w = strlen("{\"seq\":");
		return memcmp(text, "{\"seq\":", t < w ? t : w) == 0;
	}
	w = (size_t)snprintf(want, sizeof(want), "{\"seq\":%" PRIu64 ",", seq);
	return memcmp(text, want, t < w ? t : w) == 0;
}

static bool is_event(const struct line_ref *r, const char *event)
{
	char needle[64];

	snprintf(needle, sizeof(needle), ",\"event\":\"%s\",", event);
	return memmem(r->text, r->pl.body_len, needle, strlen(needle)) != NULL;
}

/* The value of reason code "name=VALUE" in a line (trusted: its mac verified). */
static bool reason_value(const struct line_ref *r, const char *name, char *out,
			 size_t len)
{
	char needle[40];
	const char *at, *end;

	snprintf(needle, sizeof(needle), "\"%s=", name);
	at = memmem(r->text, r->pl.body_len, needle, strlen(needle));
	if (at == NULL)
		return false;
	at += strlen(needle);
	end = memchr(at, '"', r->pl.body_len - (size_t)(at - r->text));
	if (end == NULL || (size_t)(end - at) >= len)
		return false;
	memcpy(out, at, (size_t)(end - at));
	out[end - at] = '\0';
	return true;
}

static void note_gap(struct audit_verdict *v, const struct line_ref *r,
		     const struct line_ref **first_lossy)
{
	char held_s[24] = "0", lost_s[24] = "0", from[32] = "?", to[32] = "?";
	unsigned long long held, lost;

	(void)reason_value(r, "events_held", held_s, sizeof(held_s));
	(void)reason_value(r, "events_lost", lost_s, sizeof(lost_s));
	(void)reason_value(r, "from", from, sizeof(from));
	(void)reason_value(r, "to", to, sizeof(to));
	held = strtoull(held_s, NULL, 10);
	lost = strtoull(lost_s, NULL, 10);
	v->gaps++;
	v->events_held += held;
	v->events_lost += lost;
	if (lost > 0) {
		if (*first_lossy == NULL)
			*first_lossy = r;
		notice_add(v, AUDIT_GAP, r,
			   "%llu event(s) missing between seq %" PRIu64 " and %" PRIu64
			   ": the log could not be written from %s to %s; %llu more were "
			   "held and written after this line", lost, r->pl.seq - 1,
			   r->pl.seq, from, to, held);
	} else {
		notice_add(v, AUDIT_GAP, r,
			   "the log could not be written from %s to %s: %llu event(s) "
			   "held and written late after this line (seq %" PRIu64 " on), "
			   "none missing", from, to, held, r->pl.seq + 1);
	}
}

/*
 * Is the unparsed line set->v[i] torn by a crash? Only when it cannot hide
 * anything: the next whole line has the seq it would have had and chains
 * to the line before it, or it ends the log while the head says that seq
 * was never completed.
 */
static bool torn_line(const struct line_set *set, size_t i,
		      const struct line_ref *last_good, bool head_ok, uint64_t head_seq)
{
	const struct line_ref *r = &set->v[i], *next = NULL;
	uint64_t expected;

	if (r->len == 0 || r->len >= AUDIT_MAX_LINE)
		return false;
	for (size_t j = i + 1; j < set->n && next == NULL; j++)
		if (set->v[j].parsed)
			next = &set->v[j];
	if (next != NULL) {
		expected = last_good ? last_good->pl.seq + 1 : next->pl.seq;
		return next->pl.seq == expected &&
		       (last_good == NULL || strcmp(next->pl.prev, last_good->pl.mac) == 0) &&
		       torn_prefix(r->text, r->len, expected);
	}
	/* Only torn-looking lines follow: the end of the log. */
	for (size_t j = i + 1; j < set->n; j++)
		if (!torn_prefix(set->v[j].text, set->v[j].len, 0))
			return false;
	if (!head_ok)
		return false;
	expected = (last_good ? last_good->pl.seq : head_seq) + 1;
	return head_seq < expected && torn_prefix(r->text, r->len, expected);
}

pp_err auditlog_verify(const char *const *files, size_t nfiles,
		    const char *head_path, const uint8_t key[AUDIT_KEY_BYTES],
		    struct audit_verdict *verdict)
{
	struct line_set set = { 0 };
	const struct line_ref *last_good = NULL, *first_lossy = NULL;
	struct head head = { 0 };
	bool head_ok;
	pp_err rc = PP_OK;

	memset(verdict, 0, sizeof(*verdict));
	for (size_t i = 0; i < nfiles; i++) {
		rc = load_file(&set, files[i]);
		if (rc != PP_OK) {
			verdict->file = files[i];
			goto out;
		}
	}
	head_ok = head_path != NULL && read_head(head_path, &head);
	for (size_t i = 0; i < set.n; i++) {
		const struct line_ref *r = &set.v[i];
		uint64_t expected = last_good ? last_good->pl.seq + 1 : 0;

		verdict->lines++;
		if (!r->parsed && torn_line(&set, i, last_good, head_ok, head.seq)) {
			const struct line_ref *next = NULL;
			uint64_t seq = last_good ? last_good->pl.seq + 1 : head.seq + 1;
			for (size_t j = i + 1; j < set.n && next == NULL; j++)
				if (set.v[j].parsed)
					next = &set.v[j];
			verdict->torn++;
			if (next != NULL)
				notice_add(verdict, AUDIT_TORN, r,
					   "a line torn by a crash (%zu bytes of seq %" PRIu64
					   ", never acknowledged)%s; the chain continues past it",
					   r->len, next->pl.seq,
					   is_event(next, "audit_tail_repaired") ?
					   ", sealed by the daemon at restart" : "");
			else
				notice_add(verdict, AUDIT_TORN, r,
					   "the last line was torn by a crash (%zu bytes of seq %"
					   PRIu64 ", never acknowledged); the daemon seals it "
					   "when it next starts", r->len, seq);
			continue;
		}
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
			/* Whole but for its newline: a crash, unless the head saw it done. */
			if (!head_ok || head.seq >= r->pl.seq) {
				verdict_set(verdict, AUDIT_TRUNCATED, r,
					    "the last line has no end-of-line");
				goto out;
			}
			verdict->torn++;
			notice_add(verdict, AUDIT_TORN, r,
				   "the last line (seq %" PRIu64 ") is whole but lost its "
				   "end-of-line in a crash; the daemon ends it when it next "
				   "starts", r->pl.seq);
		}
		last_good = r;
		if (is_event(r, "audit_gap"))
			note_gap(verdict, r, &first_lossy);
	}
	if (head_ok) {
		uint64_t have = last_good ? last_good->pl.seq : 0;
		if (head.seq > have) {
			verdict_set(verdict, AUDIT_TRUNCATED, last_good,
				    "the log ends at seq %" PRIu64 " but seq %" PRIu64
				    " was written: %" PRIu64 " line(s) missing at the end",
				    have, head.seq, head.seq - have);
			if (last_good == NULL) {
				verdict->file = nfiles ? files[nfiles - 1] : NULL;
				verdict->line = 1;
			} else {
				verdict->line = last_good->lineno + 1;
			}
			goto out;
		}
		if (head.seq == have && last_good &&
		    strcmp(head.mac, last_good->pl.mac) != 0) {
			verdict_set(verdict, AUDIT_EDITED, last_good,
				    "the last line differs from the one the daemon wrote");
			goto out;
		}
	}
	if (first_lossy != NULL) {
		verdict_set(verdict, AUDIT_GAP, first_lossy,
			    "%" PRIu64 " event(s) missing in %lu gap(s); the chain is intact",
			    verdict->events_lost, verdict->gaps);
		goto out;
	}
	verdict->problem = AUDIT_CLEAN;
	snprintf(verdict->detail, sizeof(verdict->detail), "%lu line(s), chain intact",
		 verdict->lines);
out:
	line_set_free(&set);
	return rc;
}
