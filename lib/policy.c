/*
 * policy.c - the option table, the configuration file and module arguments.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "policy.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum option_type {
	OPT_INT,        /* int, range checked */
	OPT_LONG,       /* long, range checked */
	OPT_ULONG,      /* unsigned long, range checked */
	OPT_BOOL,
	OPT_CLASSES,    /* list of class names, or all / none */
	OPT_LIST,       /* comma-separated names */
	OPT_PATH,       /* absolute path */
	OPT_OPTPATH,    /* absolute path, or "" for none */
	OPT_NAME,       /* one user or group name */
	OPT_UNREACHABLE, /* allow | deny */
	OPT_ALLOW_FORCE, /* allow | force */
	OPT_STORE,      /* sqlite | postgresql */
	OPT_CONNINFO,   /* a libpq conninfo without a password, may be quoted */
	OPT_HOST        /* a host name, or "" for the system's */
};

struct option {
	const char *name;
	enum option_type type;
	size_t offset;
	size_t size;          /* buffer size for strings */
	long long min, max;   /* numeric range */
	const char *deflt;    /* the built-in default, as a value would be written */
};

#define NUM(n, t, field, lo, hi, d) \
	{ n, t, offsetof(struct policy, field), 0, lo, hi, d }
#define STR(n, t, field, d) \
	{ n, t, offsetof(struct policy, field), sizeof(((struct policy *)0)->field), 0, 0, d }
#define FLAG(n, field, d) \
	{ n, OPT_BOOL, offsetof(struct policy, field), 0, 0, 1, d }

/*
 * Indexed by enum policy_option: the order must match policy.h. The last
 * column is each option's default, the only place it is written:
 * policy_defaults() parses it like a value from the file.
 */
static const struct option options[POLICY_OPT_COUNT] = {
	[POLICY_OPT_MINLEN] = NUM("minlen", OPT_INT, minlen, 6, 256, "10"),
	[POLICY_OPT_REQUIRE] = NUM("require", OPT_CLASSES, require, 0, 0, "all"),
	[POLICY_OPT_MINCLASS] = NUM("minclass", OPT_INT, minclass, 0, 4, "0"),
	[POLICY_OPT_MAXREPEAT] = NUM("maxrepeat", OPT_INT, maxrepeat, 0, 256, "3"),
	[POLICY_OPT_MAXSEQUENCE] = NUM("maxsequence", OPT_INT, maxsequence, 0, 256, "4"),
	[POLICY_OPT_USERCHECK] = FLAG("usercheck", usercheck, "yes"),
	[POLICY_OPT_GECOSCHECK] = FLAG("gecoscheck", gecoscheck, "yes"),
	[POLICY_OPT_DICTCHECK] = FLAG("dictcheck", dictcheck, "yes"),
	[POLICY_OPT_DICTPATH] = STR("dictpath", OPT_PATH, dictpath, POLICY_DEFAULT_DICTPATH),
	[POLICY_OPT_GUESSCHECK] = FLAG("guesscheck", guesscheck, "yes"),
	/* wamerican's list; optional: skipped when missing and not set. */
	[POLICY_OPT_WORDLIST] =
		STR("wordlist", OPT_OPTPATH, wordlist, "/usr/share/dict/american-english"),
	/* pam_policyctl wordlist build; used only while it matches wordlist. */
	[POLICY_OPT_WORDLIST_INDEX] =
		STR("wordlist_index", OPT_OPTPATH, wordlist_index, PATHS_WORDLIST_INDEX),
	[POLICY_OPT_BANNED_WORDS] = STR("banned_words", OPT_OPTPATH, banned_words, ""),
	[POLICY_OPT_MIN_GUESS_POINTS] =
		NUM("min_guess_points", OPT_INT, min_guess_points, 1, 64, "5"),
	[POLICY_OPT_MIN_STRENGTH_BITS] =
		NUM("min_strength_bits", OPT_INT, min_strength_bits, 0, 256, "40"),
	[POLICY_OPT_DIFOK] = NUM("difok", OPT_INT, difok, 0, 256, "5"),
	[POLICY_OPT_RETRY] = NUM("retry", OPT_INT, retry, 1, 10, "3"),
	[POLICY_OPT_ENFORCE_FOR_ROOT] = FLAG("enforce_for_root", enforce_for_root, "yes"),
	[POLICY_OPT_EXEMPT_USERS] = STR("exempt_users", OPT_LIST, exempt_users, ""),
	[POLICY_OPT_EXEMPT_GROUPS] = STR("exempt_groups", OPT_LIST, exempt_groups, ""),
	[POLICY_OPT_MIN_UID] = NUM("min_uid", OPT_LONG, min_uid, 0, 4294967294LL, "1000"),
	[POLICY_OPT_LOCAL_USERS_ONLY] = FLAG("local_users_only", local_users_only, "no"),
	[POLICY_OPT_USE_AUTHTOK] = FLAG("use_authtok", use_authtok, "no"),
	[POLICY_OPT_DEBUG] = FLAG("debug", debug, "no"),
	[POLICY_OPT_HISTORY] = NUM("history", OPT_INT, history, 0, POLICY_MAX_HISTORY, "24"),
	[POLICY_OPT_SIMILAR_HISTORY] =
		NUM("similar_history", OPT_INT, similar_history, 0, POLICY_MAX_HISTORY, "5"),
	[POLICY_OPT_MIN_AGE_DAYS] =
		NUM("min_age_days", OPT_INT, min_age_days, 0, PP_DAYS_MAX, "1"),
	[POLICY_OPT_MAX_AGE_DAYS] =
		NUM("max_age_days", OPT_INT, max_age_days, 0, PP_DAYS_MAX, "90"),
	[POLICY_OPT_WARN_DAYS] = NUM("warn_days", OPT_INT, warn_days, 0, PP_DAYS_MAX, "14"),
	[POLICY_OPT_SOCKET] = STR("socket", OPT_PATH, socket, PATHS_SOCKET),
	[POLICY_OPT_STATE_DIR] = STR("state_dir", OPT_PATH, state_dir, PATHS_STATE_DIR),
	[POLICY_OPT_TIMEOUT_MS] = NUM("timeout_ms", OPT_INT, timeout_ms, 100, 60000, "5000"),
	[POLICY_OPT_ON_UNREACHABLE] =
		NUM("on_unreachable", OPT_UNREACHABLE, on_unreachable, 0, 0, "deny"),
	[POLICY_OPT_ON_UNREACHABLE_ACCOUNT] =
		NUM("on_unreachable_account", OPT_UNREACHABLE, on_unreachable_account, 0, 0,
		    "allow"),
	/* libsodium's INTERACTIVE argon2id parameters: 2 passes, 64 MiB. */
	[POLICY_OPT_ARGON2_OPSLIMIT] =
		NUM("argon2_opslimit", OPT_ULONG, argon2_opslimit, 1, 64, "2"),
	[POLICY_OPT_ARGON2_MEMLIMIT_KIB] =
		NUM("argon2_memlimit_kib", OPT_ULONG, argon2_memlimit_kib, 8, 4194304, "65536"),
	[POLICY_OPT_WORKERS] = NUM("workers", OPT_INT, workers, 0, 8, "0"),
	[POLICY_OPT_AUDIT_LOG] = STR("audit_log", OPT_PATH, audit_log, PATHS_AUDIT_LOG),
	[POLICY_OPT_AUDIT_GROUP] =
		STR("audit_group", OPT_NAME, audit_group, POLICY_DEFAULT_AUDIT_GROUP),
	[POLICY_OPT_SHADOW_FILE] = STR("shadow_file", OPT_PATH, shadow_file, PATHS_SHADOW_FILE),
	[POLICY_OPT_INACTIVE_DAYS] =
		NUM("inactive_days", OPT_INT, inactive_days, 0, PP_DAYS_MAX, "0"),
	[POLICY_OPT_PRIVILEGED_GROUPS] =
		STR("privileged_groups", OPT_LIST, privileged_groups, ""),
	/* pam_unix's no_pass_expiry: keys and Kerberos are not sent to a change. */
	[POLICY_OPT_EXPIRED_NONPASSWORD] =
		NUM("expired_nonpassword", OPT_ALLOW_FORCE, expired_nonpassword, 0, 0, "allow"),
	[POLICY_OPT_NONINTERACTIVE_SERVICES] =
		STR("noninteractive_services", OPT_LIST, noninteractive_services,
		    "cron,atd,systemd-user"),
	/* Absent at the default path: the breach check is off (rules.h). */
	[POLICY_OPT_BLOCKLIST] = STR("blocklist", OPT_OPTPATH, blocklist, PATHS_BLOCKLIST),
	[POLICY_OPT_STORE] = NUM("store", OPT_STORE, store, 0, 0, "sqlite"),
	[POLICY_OPT_POSTGRESQL] = STR("postgresql", OPT_CONNINFO, postgresql, ""),
	[POLICY_OPT_POSTGRESQL_PASSFILE] =
		STR("postgresql_passfile", OPT_OPTPATH, postgresql_passfile, ""),
	[POLICY_OPT_POSTGRESQL_STATEMENT_TIMEOUT_MS] =
		NUM("postgresql_statement_timeout_ms", OPT_INT,
		    postgresql_statement_timeout_ms, 100, 600000, "5000"),
	[POLICY_OPT_HOST_NAME] = STR("host_name", OPT_HOST, host_name, ""),
};

static const struct {
	const char *name;
	unsigned bit;
} class_names[] = {
	{ "upper", POLICY_CLASS_UPPER },
	{ "lower", POLICY_CLASS_LOWER },
	{ "digit", POLICY_CLASS_DIGIT },
	{ "special", POLICY_CLASS_SPECIAL },
};

/* Quote a bad value for an error message, shortened and made printable. */
static const char *shown(const char *value, char *buf, size_t len)
{
	size_t i, j = 0;

	for (i = 0; value[i] != '\0' && j + 4 < len; i++) {
		unsigned char c = (unsigned char)value[i];
		buf[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		if (i == 60 && value[i + 1] != '\0') {
			buf[j++] = '.';
			buf[j++] = '.';
			buf[j++] = '.';
			break;
		}
	}
	buf[j] = '\0';
	return buf;
}

static bool parse_integer(const char *value, long long min, long long max,
			  long long *out)
{
	char *end = NULL;
	long long v;

	/* Digits only: no sign (not even "-0"), no spaces. */
	if (value[0] == '\0' || isspace((unsigned char)value[0]) || value[0] == '+' ||
	    value[0] == '-')
		return false;
	errno = 0;
	v = strtoll(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_bool(const char *value, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* ASCII whatever the locale (the module may run in the user's, ISO-8859-1). */
static bool name_char_ok(unsigned char c)
{
	return (isascii(c) && isalnum(c)) || c == '_' || c == '-' || c == '.' || c == '$' || c == '@';
}

static bool parse_name(const char *value, size_t max)
{
	size_t n = strlen(value);

	if (n == 0 || n >= max || value[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char_ok((unsigned char)value[i]))
			return false;
	return true;
}

/*
 * A libpq conninfo ("key=value ..." or a postgresql:// URI), optionally in
 * double quotes, into out. No control characters. A password is refused:
 * the configuration file is world-readable, the password belongs in a
 * pgpass file (postgresql_passfile) or is replaced by a client certificate.
 */
static bool conninfo_has_password(const char *v)
{
	const char *at, *scheme;

	for (const char *s = v; *s != '\0'; s++) {
		if ((s == v || s[-1] == ' ' || s[-1] == '\t') &&
		    strncasecmp(s, "password", 8) == 0) {
			const char *t = s + 8;
			while (*t == ' ' || *t == '\t')
				t++;
			if (*t == '=')
				return true;
		}
	}
	/* postgresql://user:secret@host or ...?password=secret */
	scheme = strstr(v, "://");
	if (scheme != NULL) {
		at = strchr(scheme + 3, '@');
		if (at != NULL && memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) != NULL)
			return true;
		if (strcasestr(v, "password=") != NULL)
			return true;
	}
	return false;
}

static bool parse_conninfo(const char *value, char *out, size_t size)
{
	size_t n = strlen(value);

	if (n >= 2 && value[0] == '"' && value[n - 1] == '"') {
		value++;
		n -= 2;
	}
	if (n >= size)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f || value[i] == '"')
			return false;
	memcpy(out, value, n);
	out[n] = '\0';
	return true;
}

/* A host name for the fleet: "" (the system's), or 1..size-1 of [A-Za-z0-9._-]. */
static bool parse_host(const char *value, size_t size)
{
	size_t n = strlen(value);

	if (n >= size || value[0] == '-' || value[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)value[i]) && value[i] != '.' &&
		    value[i] != '-' && value[i] != '_')
			return false;
	return true;
}

/* Normalise a comma list into "a,b,c" (no spaces); false when malformed. */
static bool parse_list(const char *value, char *out, size_t size)
{
	size_t used = 0;
	const char *s = value;

	out[0] = '\0';
	while (*s != '\0') {
		char item[PP_NAME_MAX + 2];     /* a name, its NUL, one byte to see more */
		size_t n = 0;

		while (*s == ' ' || *s == '\t')
			s++;
		while (*s != '\0' && *s != ',' && *s != ' ' && *s != '\t') {
			if (n + 1 >= sizeof(item))
				return false;
			item[n++] = *s++;
		}
		item[n] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == ',')
			s++;
		else if (*s != '\0')
			return false;
		if (n == 0)
			continue;
		if (!parse_name(item, PP_NAME_MAX + 1))
			return false;
		if (used + n + 2 > size)
			return false;
		if (used > 0)
			out[used++] = ',';
		memcpy(out + used, item, n + 1);
		used += n;
	}
	return true;
}

static bool parse_classes(const char *value, unsigned *out)
{
	char buf[128];
	unsigned bits = 0;
	char *save = NULL;

	if (strcasecmp(value, "all") == 0) {
		*out = POLICY_CLASS_ALL;
		return true;
	}
	if (strcasecmp(value, "none") == 0) {
		*out = 0;
		return true;
	}
	if (strlen(value) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%s", value);
	for (char *tok = strtok_r(buf, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		size_t i;
		for (i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++)
			if (strcasecmp(tok, class_names[i].name) == 0)
				break;
		if (i == sizeof(class_names) / sizeof(class_names[0]))
			return false;
		bits |= class_names[i].bit;
	}
	if (bits == 0)
		return false;
	*out = bits;
	return true;
}

static const struct option *find_option(const char *key, enum policy_option *id)
{
	for (int i = 0; i < POLICY_OPT_COUNT; i++) {
		if (strcmp(options[i].name, key) == 0) {
			*id = (enum policy_option)i;
			return &options[i];
		}
	}
	return NULL;
}

static const char *expected_text(const struct option *o, char *buf, size_t len)
{
	switch (o->type) {
	case OPT_INT:
	case OPT_LONG:
	case OPT_ULONG:
		snprintf(buf, len, "a number from %lld to %lld", o->min, o->max);
		break;
	case OPT_BOOL:
		snprintf(buf, len, "yes or no");
		break;
	case OPT_CLASSES:
		snprintf(buf, len, "all, none, or a list of upper, lower, digit, special");
		break;
	case OPT_LIST:
		snprintf(buf, len, "a comma-separated list of names");
		break;
	case OPT_PATH:
		snprintf(buf, len, "an absolute path shorter than %zu bytes", o->size);
		break;
	case OPT_OPTPATH:
		snprintf(buf, len, "an absolute path shorter than %zu bytes, or nothing for none",
			 o->size);
		break;
	case OPT_NAME:
		snprintf(buf, len, "a group or user name");
		break;
	case OPT_UNREACHABLE:
		snprintf(buf, len, "allow or deny");
		break;
	case OPT_ALLOW_FORCE:
		snprintf(buf, len, "allow or force");
		break;
	case OPT_STORE:
		snprintf(buf, len, "sqlite or postgresql");
		break;
	case OPT_CONNINFO:
		snprintf(buf, len, "a libpq connection string shorter than %zu bytes",
			 o->size);
		break;
	case OPT_HOST:
		snprintf(buf, len, "a host name (letters, digits, '.', '-', '_'), "
			 "at most %zu bytes", o->size - 1);
		break;
	}
	return buf;
}

/* Parse value into o's field of p; false when it is not valid for o. */
static bool apply(struct policy *p, const struct option *o, const char *value)
{
	char *field = (char *)p + o->offset;
	long long n = 0;
	bool b = false, ok = false;

	switch (o->type) {
	case OPT_INT:
		if ((ok = parse_integer(value, o->min, o->max, &n)))
			*(int *)field = (int)n;
		break;
	case OPT_LONG:
		if ((ok = parse_integer(value, o->min, o->max, &n)))
			*(long *)field = (long)n;
		break;
	case OPT_ULONG:
		if ((ok = parse_integer(value, o->min, o->max, &n)))
			*(unsigned long *)field = (unsigned long)n;
		break;
	case OPT_BOOL:
		if ((ok = parse_bool(value, &b)))
			*(bool *)field = b;
		break;
	case OPT_CLASSES:
		ok = parse_classes(value, (unsigned *)field);
		break;
	case OPT_LIST: {
		char list[POLICY_MAX_LIST];
		if ((ok = parse_list(value, list, sizeof(list)) && strlen(list) < o->size))
			snprintf(field, o->size, "%s", list);
		break;
	}
	case OPT_PATH:
	case OPT_OPTPATH:
		ok = (value[0] == '\0' && o->type == OPT_OPTPATH) ||
		     (value[0] == '/' && strlen(value) < o->size &&
		      strpbrk(value, " \t") == NULL);
		if (ok)
			snprintf(field, o->size, "%s", value);
		break;
	case OPT_NAME:
		if ((ok = parse_name(value, o->size)))
			snprintf(field, o->size, "%s", value);
		break;
	case OPT_UNREACHABLE:
		if (strcasecmp(value, "allow") == 0) {
			*(enum policy_unreachable *)field = POLICY_UNREACHABLE_ALLOW;
			ok = true;
		} else if (strcasecmp(value, "deny") == 0) {
			*(enum policy_unreachable *)field = POLICY_UNREACHABLE_DENY;
			ok = true;
		}
		break;
	case OPT_ALLOW_FORCE:
		if (strcasecmp(value, "allow") == 0) {
			*(enum policy_nonpassword *)field = POLICY_NONPASSWORD_ALLOW;
			ok = true;
		} else if (strcasecmp(value, "force") == 0) {
			*(enum policy_nonpassword *)field = POLICY_NONPASSWORD_FORCE;
			ok = true;
		}
		break;
	case OPT_STORE:
		if (strcasecmp(value, "sqlite") == 0) {
			*(enum policy_store *)field = POLICY_STORE_SQLITE;
			ok = true;
		} else if (strcasecmp(value, "postgresql") == 0) {
			*(enum policy_store *)field = POLICY_STORE_POSTGRESQL;
			ok = true;
		}
		break;
	case OPT_CONNINFO:
		ok = parse_conninfo(value, field, o->size);
		break;
	case OPT_HOST:
		if ((ok = parse_host(value, o->size)))
			snprintf(field, o->size, "%s", value);
		break;
	}
	return ok;
}

void policy_defaults(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	/* Each default is valid by construction; test_policy checks the values. */
	for (int i = 0; i < POLICY_OPT_COUNT; i++)
		(void)apply(p, &options[i], options[i].deflt);
}

const char *policy_default_text(enum policy_option opt)
{
	if ((unsigned)opt >= POLICY_OPT_COUNT)
		return NULL;
	return options[opt].deflt;
}

pp_err policy_set(struct policy *p, const char *key, const char *value,
		  enum policy_source source, char *err, size_t errlen)
{
	enum policy_option id;
	const struct option *o = find_option(key, &id);
	char expect[96], quoted[80];

	if (o == NULL) {
		pp_errorf(err, errlen, "%s: unknown option", shown(key, quoted, sizeof(quoted)));
		return PP_ERR_CONFIG;
	}
	if (value == NULL) {
		if (o->type != OPT_BOOL) {
			pp_errorf(err, errlen, "%s: expected %s, got no value", key,
				  expected_text(o, expect, sizeof(expect)));
			return PP_ERR_CONFIG;
		}
		value = "yes";
	}
	if (o->type == OPT_CONNINFO && conninfo_has_password(value)) {
		pp_errorf(err, errlen, "%s: the connection string holds a password, "
			  "which every user who can read this file would see; put the "
			  "password in a pgpass file named by postgresql_passfile (root "
			  "only, mode 0600) or use a client certificate (sslcert, "
			  "sslkey)", key);
		return PP_ERR_CONFIG;
	}
	if (!apply(p, o, value)) {
		pp_errorf(err, errlen, "%s: expected %s, got \"%s\"", key,
			  expected_text(o, expect, sizeof(expect)),
			  shown(value, quoted, sizeof(quoted)));
		return PP_ERR_CONFIG;
	}
	p->source[id] = source;
	return PP_OK;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
			   end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* Cut a comment: '#' at the start of the line or after whitespace. */
static void strip_comment(char *line)
{
	for (char *s = line; *s != '\0'; s++) {
		if (*s == '#' && (s == line || s[-1] == ' ' || s[-1] == '\t')) {
			*s = '\0';
			return;
		}
	}
}

pp_err policy_load_file(struct policy *p, const char *path, bool required,
			char *err, size_t errlen)
{
	pp_err rc;
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		if (errno == ENOENT && !required)
			return PP_OK;
		pp_errorf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return PP_ERR_IO;
	}
	rc = policy_load_stream(p, f, path, err, errlen);
	fclose(f);
	return rc;
}

/*
 * Read one line (newline included) into line[0..POLICY_MAX_LINE]. Returns
 * its length, 0 at the end of the file, or POLICY_MAX_LINE + 1 when the
 * line is longer: nothing past the bound is ever held in memory.
 */
static size_t read_line(FILE *f, char line[POLICY_MAX_LINE + 1])
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF) {
		if (n == POLICY_MAX_LINE)
			return POLICY_MAX_LINE + 1;
		line[n++] = (char)c;
		if (c == '\n')
			break;
	}
	line[n] = '\0';
	return n;
}

pp_err policy_load_stream(struct policy *p, FILE *f, const char *path,
			  char *err, size_t errlen)
{
	char line[POLICY_MAX_LINE + 1];
	size_t n;
	char inner[POLICY_ERR_LEN];
	unsigned lineno = 0;
	pp_err rc = PP_OK;

	while ((n = read_line(f, line)) > 0) {
		char *key, *value, *eq;

		lineno++;
		if (n > POLICY_MAX_LINE) {
			pp_errorf(err, errlen, "%s:%u: line longer than %d bytes", path,
				  lineno, POLICY_MAX_LINE);
			rc = PP_ERR_CONFIG;
			break;
		}
		if (memchr(line, '\0', n) != NULL) {
			pp_errorf(err, errlen, "%s:%u: NUL byte in line", path, lineno);
			rc = PP_ERR_CONFIG;
			break;
		}
		strip_comment(line);
		key = trim(line);
		if (*key == '\0')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			char quoted[80];
			pp_errorf(err, errlen, "%s:%u: %s: expected \"key = value\"", path,
				  lineno, shown(key, quoted, sizeof(quoted)));
			rc = PP_ERR_CONFIG;
			break;
		}
		*eq = '\0';
		value = trim(eq + 1);
		key = trim(key);
		if (strcmp(key, "config") == 0) {
			pp_errorf(err, errlen, "%s:%u: config: only allowed as a module argument",
				  path, lineno);
			rc = PP_ERR_CONFIG;
			break;
		}
		if (policy_set(p, key, value, POLICY_SOURCE_FILE, inner, sizeof(inner)) != PP_OK) {
			pp_errorf(err, errlen, "%s:%u: %s", path, lineno, inner);
			rc = PP_ERR_CONFIG;
			break;
		}
	}
	if (rc == PP_OK && ferror(f)) {
		pp_errorf(err, errlen, "%s: read error", path);
		rc = PP_ERR_IO;
	}
	if (rc == PP_OK)
		snprintf(p->file, sizeof(p->file), "%s", path);
	return rc;
}

static bool ignored(const char *arg, const char *const *ignore)
{
	for (size_t i = 0; ignore != NULL && ignore[i] != NULL; i++)
		if (strcmp(arg, ignore[i]) == 0)
			return true;
	return false;
}

pp_err policy_from_args(struct policy *p, int argc, const char **argv,
			const char *default_file, const char *const *ignore,
			char *err, size_t errlen)
{
	const char *file = default_file;
	bool required = false;
	char inner[POLICY_ERR_LEN];
	pp_err rc;

	policy_defaults(p);
	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], "config=", 7) == 0) {
			file = argv[i] + 7;
			required = true;
			if (file[0] != '/') {
				pp_errorf(err, errlen,
					  "module argument: config: expected an absolute path, got \"%s\"",
					  shown(file, inner, 80));
				return PP_ERR_CONFIG;
			}
		}
	}
	if (file != NULL) {
		rc = policy_load_file(p, file, required, err, errlen);
		if (rc != PP_OK)
			return rc;
	}
	for (int i = 0; i < argc; i++) {
		char key[64];
		const char *eq;
		size_t klen;

		if (strncmp(argv[i], "config=", 7) == 0 || ignored(argv[i], ignore))
			continue;
		eq = strchr(argv[i], '=');
		klen = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
		if (klen == 0 || klen >= sizeof(key)) {
			pp_errorf(err, errlen, "module argument: \"%s\": unknown option",
				  shown(argv[i], inner, 80));
			return PP_ERR_CONFIG;
		}
		memcpy(key, argv[i], klen);
		key[klen] = '\0';
		rc = policy_set(p, key, eq ? eq + 1 : NULL, POLICY_SOURCE_ARGUMENT,
				inner, sizeof(inner));
		if (rc != PP_OK) {
			pp_errorf(err, errlen, "module argument: %s", inner);
			return rc;
		}
	}
	return PP_OK;
}

bool policy_list_contains(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *s = list;

	if (n == 0)
		return false;
	while (*s != '\0') {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);

		while (len > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len == n && memcmp(s, name, n) == 0)
			return true;
		if (end == NULL)
			break;
		s = end + 1;
	}
	return false;
}

const char *policy_option_name(enum policy_option opt)
{
	if ((unsigned)opt >= POLICY_OPT_COUNT)
		return "?";
	return options[opt].name;
}

const char *policy_source_name(enum policy_source source)
{
	switch (source) {
	case POLICY_SOURCE_FILE:
		return "file";
	case POLICY_SOURCE_ARGUMENT:
		return "argument";
	case POLICY_SOURCE_DEFAULT:
		break;
	}
	return "default";
}

void policy_format_value(const struct policy *p, enum policy_option opt,
			 char *buf, size_t len)
{
	const struct option *o;
	const char *field;

	if (len == 0)
		return;
	buf[0] = '\0';
	if ((unsigned)opt >= POLICY_OPT_COUNT)
		return;
	o = &options[opt];
	field = (const char *)p + o->offset;
	switch (o->type) {
	case OPT_INT:
		snprintf(buf, len, "%d", *(const int *)field);
		break;
	case OPT_LONG:
		snprintf(buf, len, "%ld", *(const long *)field);
		break;
	case OPT_ULONG:
		snprintf(buf, len, "%lu", *(const unsigned long *)field);
		break;
	case OPT_BOOL:
		snprintf(buf, len, "%s", *(const bool *)field ? "yes" : "no");
		break;
	case OPT_CLASSES: {
		unsigned bits = *(const unsigned *)field;
		size_t used = 0;
		if (bits == POLICY_CLASS_ALL) {
			snprintf(buf, len, "all");
			break;
		}
		if (bits == 0) {
			snprintf(buf, len, "none");
			break;
		}
		for (size_t i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++) {
			if ((bits & class_names[i].bit) && used < len) {
				int w = snprintf(buf + used, len - used, "%s%s",
						 used ? "," : "", class_names[i].name);
				if (w > 0)
					used += (size_t)w;
			}
		}
		break;
	}
	case OPT_LIST:
	case OPT_PATH:
	case OPT_OPTPATH:
	case OPT_NAME:
		snprintf(buf, len, "%s", field);
		break;
	case OPT_UNREACHABLE:
		snprintf(buf, len, "%s",
			 *(const enum policy_unreachable *)field == POLICY_UNREACHABLE_ALLOW
				 ? "allow" : "deny");
		break;
	case OPT_ALLOW_FORCE:
		snprintf(buf, len, "%s",
			 *(const enum policy_nonpassword *)field == POLICY_NONPASSWORD_FORCE
				 ? "force" : "allow");
		break;
	case OPT_STORE:
		snprintf(buf, len, "%s",
			 *(const enum policy_store *)field == POLICY_STORE_POSTGRESQL
				 ? "postgresql" : "sqlite");
		break;
	case OPT_CONNINFO:
	case OPT_HOST:
		snprintf(buf, len, "%s", field);
		break;
	}
}

void policy_print(const struct policy *p, FILE *out)
{
	char value[POLICY_MAX_LIST];

	for (int i = 0; i < POLICY_OPT_COUNT; i++) {
		policy_format_value(p, (enum policy_option)i, value, sizeof(value));
		fprintf(out, "%-24s = %-34s # %s\n", options[i].name, value,
			policy_source_name(p->source[i]));
	}
}
