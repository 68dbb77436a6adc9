/*
 * policy.h - the policy: defaults, the configuration file and module
 * arguments.
 *
 * One option table parses both /etc/security/pam_policy.conf ("key = value"
 * lines, '#' comments) and PAM module arguments ("key=value", or a bare
 * boolean key meaning "yes"), so the two never disagree. Precedence: a
 * module argument beats the file, the file beats the built-in default.
 * Every value remembers where it came from (policy_source) so that
 * "pam_policyctl policy" can show it.
 *
 * Not thread-safe per struct; distinct structs may be used concurrently.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_POLICY_H
#define PAM_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "bounds.h"
#include "error.h"
#include "paths.h"

/*
 * Every default is written once, in the option table in policy.c (see
 * policy_defaults and policy_default_text). These names are the table's
 * inputs or old aliases kept for callers: paths live in paths.h.
 */
#define POLICY_DEFAULT_FILE PATHS_CONFIG_FILE
#define POLICY_DEFAULT_SOCKET PATHS_SOCKET
#define POLICY_DEFAULT_STATE_DIR PATHS_STATE_DIR
#define POLICY_DEFAULT_AUDIT_LOG PATHS_AUDIT_LOG
#define POLICY_DEFAULT_AUDIT_GROUP "pampolicy-audit"
#define POLICY_DEFAULT_SHADOW_FILE PATHS_SHADOW_FILE
#define POLICY_DEFAULT_BLOCKLIST PATHS_BLOCKLIST
/* cracklib's dictionary as Debian installs it (cracklib-runtime); a
 * prefix: the files are DICTPATH.pwd (or .pwd.gz), .pwi and .hwm. */
#define POLICY_DEFAULT_DICTPATH "/var/cache/cracklib/cracklib_dict"

#define POLICY_MAX_LINE 1024     /* bytes in one config line, newline included */
#define POLICY_MAX_PATH 256      /* bytes in a path value, NUL included */
#define POLICY_MAX_LIST 1024     /* bytes in a comma-separated list value */
/* Old name for a name buffer's size; new code writes PP_NAME_MAX + 1. */
#define POLICY_MAX_NAME (PP_NAME_MAX + 1)
#define POLICY_ERR_LEN 512       /* suggested size of error buffers */
#define POLICY_MAX_HISTORY 400

/* Character classes, as a bit set. */
enum policy_class {
	POLICY_CLASS_UPPER = 1u << 0,
	POLICY_CLASS_LOWER = 1u << 1,
	POLICY_CLASS_DIGIT = 1u << 2,
	POLICY_CLASS_SPECIAL = 1u << 3,
	POLICY_CLASS_ALL = 0xfu,
};

enum policy_unreachable {
	POLICY_UNREACHABLE_DENY = 0,
	POLICY_UNREACHABLE_ALLOW = 1,
};

/* store: where the daemon keeps its state. */
enum policy_store {
	POLICY_STORE_SQLITE = 0,      /* one SQLite file in state_dir */
	POLICY_STORE_POSTGRESQL = 1,  /* a fleet's PostgreSQL, with a local replica */
};

#define POLICY_MAX_HOST 64       /* bytes in host_name, NUL included */

/* expired_nonpassword: a login that did not use the password, when it expired. */
enum policy_nonpassword {
	POLICY_NONPASSWORD_ALLOW = 0,  /* passes, told to change at the next use */
	POLICY_NONPASSWORD_FORCE = 1,  /* PAM_NEW_AUTHTOK_REQD like any login */
};

enum policy_source {
	POLICY_SOURCE_DEFAULT = 0,
	POLICY_SOURCE_FILE,
	POLICY_SOURCE_ARGUMENT,
};

/* Option identifiers; the order matches the option table in policy.c. */
enum policy_option {
	POLICY_OPT_MINLEN,
	POLICY_OPT_REQUIRE,
	POLICY_OPT_MINCLASS,
	POLICY_OPT_MAXREPEAT,
	POLICY_OPT_MAXSEQUENCE,
	POLICY_OPT_USERCHECK,
	POLICY_OPT_GECOSCHECK,
	POLICY_OPT_DICTCHECK,
	POLICY_OPT_DICTPATH,
	POLICY_OPT_GUESSCHECK,
	POLICY_OPT_WORDLIST,
	POLICY_OPT_WORDLIST_INDEX,
	POLICY_OPT_BANNED_WORDS,
	POLICY_OPT_MIN_GUESS_POINTS,
	POLICY_OPT_MIN_STRENGTH_BITS,
	POLICY_OPT_DIFOK,
	POLICY_OPT_RETRY,
	POLICY_OPT_ENFORCE_FOR_ROOT,
	POLICY_OPT_EXEMPT_USERS,
	POLICY_OPT_EXEMPT_GROUPS,
	POLICY_OPT_MIN_UID,
	POLICY_OPT_LOCAL_USERS_ONLY,
	POLICY_OPT_USE_AUTHTOK,
	POLICY_OPT_DEBUG,
	POLICY_OPT_HISTORY,
	POLICY_OPT_SIMILAR_HISTORY,
	POLICY_OPT_MIN_AGE_DAYS,
	POLICY_OPT_MAX_AGE_DAYS,
	POLICY_OPT_WARN_DAYS,
	POLICY_OPT_SOCKET,
	POLICY_OPT_STATE_DIR,
	POLICY_OPT_TIMEOUT_MS,
	POLICY_OPT_ON_UNREACHABLE,
	POLICY_OPT_ON_UNREACHABLE_ACCOUNT,
	POLICY_OPT_ARGON2_OPSLIMIT,
	POLICY_OPT_ARGON2_MEMLIMIT_KIB,
	POLICY_OPT_WORKERS,
	POLICY_OPT_AUDIT_LOG,
	POLICY_OPT_AUDIT_GROUP,
	POLICY_OPT_SHADOW_FILE,
	POLICY_OPT_INACTIVE_DAYS,
	POLICY_OPT_PRIVILEGED_GROUPS,
	POLICY_OPT_EXPIRED_NONPASSWORD,
	POLICY_OPT_NONINTERACTIVE_SERVICES,
	POLICY_OPT_BLOCKLIST,
	POLICY_OPT_STORE,
	POLICY_OPT_POSTGRESQL,
	POLICY_OPT_POSTGRESQL_PASSFILE,
	POLICY_OPT_POSTGRESQL_STATEMENT_TIMEOUT_MS,
	POLICY_OPT_HOST_NAME,
	POLICY_OPT_COUNT
};

/*
 * Ranges and defaults of every field are in the option table (policy.c);
 * "pam_policyctl policy" and pam_policy.conf(5) show them.
 */
struct policy {
	/* password rules */
	int minlen;               /* code points */
	unsigned require;         /* enum policy_class bits */
	int minclass;             /* at least this many classes */
	int maxrepeat;            /* 0 = off; max identical consecutive chars */
	int maxsequence;          /* 0 = off; max monotonic sequence length */
	bool usercheck;           /* reject passwords containing the user name */
	bool gecoscheck;          /* reject words from the GECOS field */
	bool dictcheck;           /* libpwquality/cracklib dictionary check */
	char dictpath[POLICY_MAX_PATH];  /* the cracklib dictionary (a prefix) */
	bool guesscheck;          /* guessable: mangled words, names (guess.h) */
	char wordlist[POLICY_MAX_PATH];   /* plain word list, one a line; "" = none */
	char wordlist_index[POLICY_MAX_PATH]; /* its prebuilt index (wordindex.h); "" = none */
	char banned_words[POLICY_MAX_PATH]; /* admin's list, one a line; "" = none */
	int min_guess_points;      /* guessable below this many points */
	int min_strength_bits;     /* 0 = off; too_weak below this zxcvbn estimate */
	int difok;                /* 0 = off; chars that must differ from old */
	int retry;                /* prompts before giving up */
	bool enforce_for_root;    /* root's violations reject (yes) or warn (no) */
	char exempt_users[POLICY_MAX_LIST];   /* comma-separated names */
	char exempt_groups[POLICY_MAX_LIST];  /* comma-separated names */
	long min_uid;             /* uids below are not covered (root always is) */
	bool local_users_only;    /* only users listed in /etc/passwd */
	bool use_authtok;         /* take PAM_AUTHTOK instead of prompting */
	bool debug;               /* extra syslog detail (never secrets) */

	/* history and aging (daemon) */
	int history;              /* 0 = off; else remembered passwords */
	int similar_history;      /* 0 = off; of those, how many keep a skeleton
				     hash ("Summer2024!" -> "Summer2025!") */
	int min_age_days;         /* days between changes (not root for others) */
	int max_age_days;         /* 0 = off; rotation period */
	int warn_days;            /* warning window before expiry */
	char socket[POLICY_MAX_PATH];
	char state_dir[POLICY_MAX_PATH];
	int timeout_ms;           /* client timeout talking to the daemon */
	enum policy_unreachable on_unreachable;          /* password phase */
	enum policy_unreachable on_unreachable_account;  /* account phase */
	unsigned long argon2_opslimit;
	unsigned long argon2_memlimit_kib;
	int workers;              /* 0 = derive from memory cost and CPUs */

	/* audit */
	char audit_log[POLICY_MAX_PATH];
	char audit_group[PP_NAME_MAX + 1];
	/* where a user new to the store takes its last change from */
	char shadow_file[POLICY_MAX_PATH];

	/* access reviews */
	int inactive_days;        /* 0 = off; logins refused after this many
				     days without one (never root) */
	char privileged_groups[POLICY_MAX_LIST]; /* reviewed besides sudo, wheel,
						    adm and root */

	/* logins that cannot change a password (account phase) */
	enum policy_nonpassword expired_nonpassword; /* no password used */
	char noninteractive_services[POLICY_MAX_LIST]; /* PAM services never
							  sent to a change */

	/* the breach filter (blocklist.h): "" = off; the default path may be
	   absent (the check is then off), a path set in the file or as an
	   argument must name a valid filter */
	char blocklist[POLICY_MAX_PATH];
	/* the store (daemon): SQLite, or a fleet's PostgreSQL */
	enum policy_store store;
	char postgresql[POLICY_MAX_LIST];   /* libpq conninfo, never a password */
	char postgresql_passfile[POLICY_MAX_PATH]; /* pgpass file, "" = libpq's */
	int postgresql_statement_timeout_ms;
	char host_name[POLICY_MAX_HOST];    /* "" = gethostname() */

	/* where each value came from, indexed by enum policy_option */
	enum policy_source source[POLICY_OPT_COUNT];
	/* the configuration file that was read, "" if none */
	char file[POLICY_MAX_PATH];
};

/*
 * policy_defaults - fill p with the built-in defaults, parsed from the
 * option table's default column (the one place they are written), every
 * source POLICY_SOURCE_DEFAULT; never fails.
 */
void policy_defaults(struct policy *p);

/*
 * policy_default_text - the built-in default of opt as it would be written
 * in the configuration file ("10", "yes", "/var/lib/pam_policy"); a static
 * string, NULL for an unknown opt.
 */
const char *policy_default_text(enum policy_option opt);

/*
 * policy_load_file - read a configuration file into p (on top of what p
 * holds). When required is false a missing file is not an error (the
 * defaults stand). On error returns PP_ERR_CONFIG (or PP_ERR_IO) and writes
 * "FILE:LINE: KEY: expected ..., got \"...\"" into err (errlen bytes, may be
 * 0). p is left partially updated on error; callers fail closed.
 */
pp_err policy_load_file(struct policy *p, const char *path, bool required,
			char *err, size_t errlen) PP_WUR;

/*
 * policy_load_stream - as policy_load_file, from an open stream; path is
 * only used in error messages. The stream is not closed.
 */
pp_err policy_load_stream(struct policy *p, FILE *f, const char *path,
			  char *err, size_t errlen) PP_WUR;

/*
 * policy_set - set one option from text, recording source. key/value are
 * NUL-terminated; value NULL means a bare key (booleans only: "yes").
 * On error writes "KEY: expected ..., got \"...\"" into err.
 */
pp_err policy_set(struct policy *p, const char *key, const char *value,
		  enum policy_source source, char *err, size_t errlen) PP_WUR;

/*
 * policy_from_args - the full load used by the module and the programs:
 * defaults, then the file (config=PATH among argv, else default_file,
 * which may be missing), then every "key=value" / bare-key argument.
 * Arguments named in ignore (NULL-terminated list, may be NULL) are skipped,
 * e.g. the module's "record" mode word. Errors as policy_load_file; an
 * argument error is reported as "module argument: KEY: ...".
 */
pp_err policy_from_args(struct policy *p, int argc, const char **argv,
			const char *default_file, const char *const *ignore,
			char *err, size_t errlen) PP_WUR;

/*
 * policy_list_contains - true when name appears in the comma-separated list
 * (spaces around items ignored). Exact, case-sensitive match.
 */
bool policy_list_contains(const char *list, const char *name);

/* policy_option_name - the key of an option, e.g. "minlen". */
const char *policy_option_name(enum policy_option opt);

/* policy_source_name - "default", "file" or "argument". */
const char *policy_source_name(enum policy_source source);

/*
 * policy_format_value - the value of opt as it would be written in the
 * configuration file, into buf (len bytes, always NUL-terminated).
 */
void policy_format_value(const struct policy *p, enum policy_option opt,
			 char *buf, size_t len);

/*
 * policy_print - write every option as "key = value   # source" lines to out.
 */
void policy_print(const struct policy *p, FILE *out);

#endif
