/*
 * pam_policyctl.c - the administration CLI: argument parsing and printing.
 * The work lives in lib/: request.c/client.c talk to pam_policyd,
 * report.c builds reports, doctor.c runs the checks, audit.c verifies logs.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sodium.h>

#include "aging.h"
#include "bounds.h"
#include "auditlog.h"
#include "blocklist_cmd.h"
#include "check_cmd.h"
#include "ctl.h"
#include "wordlist.h"
#include "client.h"
#include "doctor.h"
#include "fsutil.h"
#include "i18n.h"
#include "paths.h"
#include "policy.h"
#include "report.h"
#include "request.h"
#include "review.h"
#include "users.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_FINDING = 1,       /* doctor found a problem, audit verify a break */
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,
	EXIT_DENIED = 4,
	EXIT_NOT_FOUND = 5,
	EXIT_ERROR = 6,
};

struct ctl {
	const char *config;     /* -c FILE, or NULL for the default */
	const char *socket;     /* --socket PATH, or NULL */
	struct policy policy;
	char config_err[POLICY_ERR_LEN];
	bool config_ok;
};

static const char *prog = "pam_policyctl";

static void usage(FILE *out)
{
	/* TRANSLATORS: keep the command and option names (status,
	   --format, USER, ...) as they are: they are typed. */
	fprintf(out,
		_("usage: pam_policyctl [-c FILE] [--socket PATH] COMMAND [ARGS]\n"
		"commands:\n"
		"  status [--format text|json] [USER]\n"
		"                         password age and state (default: you)\n"
		"  expire USER            force a change at next login (root)\n"
		"  forget USER            drop USER's history and aging state (root)\n"
		"  policy [--format text|json]\n"
		"                         the effective policy and where each value comes from\n"
		"  report [--format table|csv|json] [--expired] [--expiring-within DAYS]\n"
		"         [--state STATE] [--inactive DAYS] [--fleet]\n"
		"                         every covered user (root, audit group)\n"
		"  review [--format table|csv|json]\n"
		"                         the access review: every account, privileged\n"
		"                         groups, last login, exemptions (root, audit group)\n"
		"  audit verify [--format text|json] [FILE...]\n"
		"                         check the audit log's hash chain (root)\n"
		"  backup FILE            online copy of the store (root)\n"
		"  reopen                 reopen the audit log after logrotate (root)\n"
		"  doctor [--format text|json] [--pam-dir DIR]\n"
		"                         check configuration, daemon, files, PAM stacks\n"
		"  check [--user USER]    would the policy accept the password on standard\n"
		"                         input? (a user's history: root)\n"
		"  wordlist build [-o FILE] [INPUT...] | wordlist status\n"
		"                         the word list's index, which makes checks fast\n"
		"  blocklist build -o FILE [--min-count N] [--kind sha1|ntlm] INPUT...\n"
		"  blocklist info [--format text|json] FILE\n"
		"  blocklist check FILE   the breach filter: build it from Have I Been Pwned\n"
		"                         data or plain lists, describe it, look up passwords\n"
		"options:\n"
		"  -c, --config FILE      configuration (default %s)\n"
		"      --socket PATH      the daemon's socket (overrides the socket key)\n"
		"  -h, --help             this text\n"
		"      --version          print the version\n"
		"\"pam_policyctl COMMAND --help\" shows one command's usage; see "
		"pam_policyctl(8).\n"), POLICY_DEFAULT_FILE);
}

/*
 * "pam_policyctl COMMAND --help": each command's usage, on stdout, exit 0.
 * A command missing here gets the general usage (and test_cli_script
 * fails: add its row).
 */
static const struct command_help {
	const char *name;
	const char *text;
} command_help[] = {
	{ "status",
	  N_("usage: pam_policyctl [options] status [--format text|json] [USER]\n"
	  "Show USER's password age and state (default: you). Root and members of\n"
	  "the audit group may ask about any user.\n"
	  "  --format text|json     text (default) or one JSON object\n") },
	{ "expire",
	  N_("usage: pam_policyctl [options] expire USER\n"
	  "Force USER to change the password at the next login (root only).\n") },
	{ "forget",
	  N_("usage: pam_policyctl [options] forget USER\n"
	  "Drop USER's password history and aging state, e.g. after the account\n"
	  "was deleted (root only). The first sighting is kept: no new grace period.\n") },
	{ "policy",
	  N_("usage: pam_policyctl [options] policy [--format text|json]\n"
	  "Print the effective policy: every option, its value and where it comes\n"
	  "from (default, file or argument).\n"
	  "  --format text|json     \"key = value  # source\" lines (default) or JSON\n") },
	{ "report",
	  N_("usage: pam_policyctl [options] report [--format table|csv|json] [--expired]\n"
	  "           [--expiring-within DAYS] [--state STATE] [--inactive DAYS] [--fleet]\n"
	  "One row per user the policy covers or exempts (root, audit group).\n"
	  "  --format table|csv|json   output format (default table)\n"
	  "  --expired                 expired, or must change at next login\n"
	  "  --expiring-within DAYS    expiring within DAYS days, not yet expired\n"
	  "  --state STATE             ok, warning, expired, must_change, never_set,\n"
	  "                            locked or exempt\n"
	  "  --inactive DAYS           no login for more than DAYS days (or none known)\n"
	  "  --fleet                   store = postgresql: every user of the fleet's\n"
	  "                            database once, with the last login per host\n") },
	{ "review",
	  N_("usage: pam_policyctl [options] review [--format table|csv|json]\n"
	  "The access review: every account with its privileged groups, last login,\n"
	  "last change, state and exemption; recorded in the audit log (root, audit\n"
	  "group).\n"
	  "  --format table|csv|json   output format (default table)\n") },
	{ "audit",
	  N_("usage: pam_policyctl [options] audit verify [--format text|json] [FILE...]\n"
	  "Check the audit log's hash chain (root only: it needs the audit key).\n"
	  "Without FILE the configured audit_log; several files are one chain,\n"
	  "oldest first. Exit status 1 when the chain is broken or events are missing.\n"
	  "  --format text|json     text (default) or one JSON object\n") },
	{ "backup",
	  N_("usage: pam_policyctl [options] backup FILE\n"
	  "Write an online, consistent copy of the store to FILE (root only). The\n"
	  "pepper and the audit key are not in it: back them up separately.\n") },
	{ "reopen",
	  N_("usage: pam_policyctl [options] reopen\n"
	  "Make pam_policyd reopen its audit log, after logrotate moved it (root only).\n") },
	{ "doctor",
	  N_("usage: pam_policyctl [options] doctor [--format text|json] [--pam-dir DIR]\n"
	  "Check the configuration, the daemon, file permissions and the PAM stacks\n"
	  "in DIR (default /etc/pam.d). Exit status 1 when a problem is found.\n"
	  "  --format text|json     \"ok:/note:/problem:\" lines (default) or JSON\n"
	  "  --pam-dir DIR          the PAM configuration directory\n") },
	{ "check",
	  N_("usage: pam_policyctl [options] check [--user USER] < PASSWORD\n"
	  "Would the policy accept this password? It is read from standard input\n"
	  "(echo off on a terminal), never from the command line. With --user, the\n"
	  "name rules and (for root) the user's history apply too. Exit status 0\n"
	  "accepted, 1 not accepted.\n"
	  "  --user USER            judge the password as USER's\n") },
	{ "wordlist",
	  N_("usage: pam_policyctl [options] wordlist build [-o FILE] [INPUT...]\n"
	  "       pam_policyctl [options] wordlist status\n"
	  "build: write the index of the word lists INPUT (default: wordlist) to\n"
	  "FILE (default: wordlist_index), so that a check maps one file instead of\n"
	  "reading the list. status: is the index used, and if not why (missing,\n"
	  "stale, corrupt). Exit status 1 when status finds it unused.\n"
	  "  -o, --output FILE      where to write the index\n") },
	{ "blocklist",
	  N_("usage: pam_policyctl [options] blocklist build -o FILE [--min-count N]\n"
	  "           [--kind sha1|ntlm] [--plain] [--memory MIB] INPUT...\n"
	  "       pam_policyctl [options] blocklist info [--format text|json] [--no-verify] FILE\n"
	  "       pam_policyctl [options] blocklist check [-q] FILE < PASSWORDS\n"
	  "The breach filter. build reads Have I Been Pwned downloads (a directory of\n"
	  "range files or one HASH:COUNT file, SHA-1 or NTLM) and plain lists (one\n"
	  "password per line, UTF-8) and replaces FILE atomically. info shows entries,\n"
	  "false-positive rate, size, sources and checksums (exit 1 when a checksum\n"
	  "fails). check looks up the passwords on standard input, one per line, and\n"
	  "prints \"N: listed\" or \"N: not listed\" per line (exit 0 when any is\n"
	  "listed, 1 when none is, 2 on error).\n"
	  "  -o FILE                the filter to write\n"
	  "  --min-count N          keep hashes seen at least N times (default 1)\n"
	  "  --kind sha1|ntlm       the hash of plain lists (default: the inputs', else sha1)\n"
	  "  --plain                read every file as a plain list\n"
	  "  --memory MIB           memory for sorting (default 512)\n"
	  "  --format text|json     info's output\n"
	  "  --no-verify            info: do not read every page\n"
	  "  -q                     check: only the exit status\n") },
};

static int command_usage(const char *name)
{
	for (size_t i = 0; i < sizeof(command_help) / sizeof(command_help[0]); i++) {
		if (strcmp(command_help[i].name, name) == 0) {
			fputs(_(command_help[i].text), stdout);
			printf("%s", _("options (before COMMAND): -c FILE, --socket PATH; see "
				       "\"pam_policyctl --help\"\n"));
			return EXIT_OK;
		}
	}
	usage(stdout);
	return EXIT_OK;
}

/* Does a command's argv ask for help ("--help" or "-h" before any "--")? */
static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

/* A usage error: the message, a hint to --help, exit status 2. */
#define usage_error(...) \
	ctl_usage_error(EXIT_USAGE, _("(try \"pam_policyctl --help\")"), __VA_ARGS__)

/*
 * What getopt_long (called with opterr 0 and a ":" optstring) returned
 * for a bad option, said in our words: getopt's own would be prefixed with
 * argv[0], the command's name for a command's options.
 */
static int option_error(const char *command, int opt, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	char name[64];

	if (strncmp(arg, "--", 2) == 0)
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(arg, "="), arg);
	else
		snprintf(name, sizeof(name), "-%c", optopt > ' ' && optopt < 127 ? optopt : '?');
	if (opt == ':')
		return usage_error(_("%s%soption \"%s\" needs a value"), command ? command : "",
				   command ? ": " : "", name);
	return usage_error(_("%s%sunknown option \"%s\""), command ? command : "",
			   command ? ": " : "", name);
}

/* --format of status, policy, audit verify, doctor: "text" or "json". */
static bool parse_text_format(const char *name, bool *json)
{
	if (strcmp(name, "text") == 0)
		*json = false;
	else if (strcmp(name, "json") == 0)
		*json = true;
	else
		return false;
	return true;
}

/* The one "--format" option of status, policy, audit verify and doctor. */
static const struct option format_opts[] = {
	{ "format", required_argument, NULL, 'f' },
	{ NULL, 0, NULL, 0 },
};

/* Parse argv's options (format_opts only): exit code, EXIT_OK to go on. */
static int parse_format_only(const char *command, int argc, char **argv, bool *json)
{
	int opt;

	optind = 0;   /* full re-initialisation for the sub-command's argv */
	while ((opt = getopt_long(argc, argv, "+:", format_opts, NULL)) != -1) {
		if (opt != 'f')
			return option_error(command, opt, argv);
		if (!parse_text_format(optarg, json))
			return usage_error(_("--format: expected text or json, got \"%s\""),
					   optarg);
	}
	return EXIT_OK;
}

/* After a JSON (or any) document: a write error is an error. */
static int flush_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_error(_("write error: %s"), strerror(errno));
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* A date as a JSON string, or null for 0 (never, none). */
static void json_date(int64_t t)
{
	char date[32];

	if (t == 0) {
		fputs("null", stdout);
		return;
	}
	aging_format_date(t, date, sizeof(date));
	printf("\"%s\"", date);
}

/* Defaults, the file, then --socket as an argument (so "policy" shows it). */
static void load_policy(struct ctl *c)
{
	char cfg[PATH_MAX + 8], sock[POLICY_MAX_PATH + 8], abs_path[PATH_MAX];
	const char *argv[2];
	int argc = 0;

	if (c->config != NULL) {
		if (c->config[0] == '/') {
			snprintf(abs_path, sizeof(abs_path), "%s", c->config);
		} else {
			char cwd[PATH_MAX];
			if (getcwd(cwd, sizeof(cwd)) == NULL)
				snprintf(cwd, sizeof(cwd), ".");
			if ((size_t)snprintf(abs_path, sizeof(abs_path), "%s/%s", cwd,
					     c->config) >= sizeof(abs_path)) {
				snprintf(c->config_err, sizeof(c->config_err), "%s",
					 _("configuration path too long"));
				c->config_ok = false;
				policy_defaults(&c->policy);
				return;
			}
		}
		snprintf(cfg, sizeof(cfg), "config=%s", abs_path);
		argv[argc++] = cfg;
	}
	if (c->socket != NULL) {
		snprintf(sock, sizeof(sock), "socket=%s", c->socket);
		argv[argc++] = sock;
	}
	c->config_ok = policy_from_args(&c->policy, argc, argv, POLICY_DEFAULT_FILE, NULL,
					c->config_err, sizeof(c->config_err)) == PP_OK;
	if (!c->config_ok) {
		/* doctor goes on with the defaults; other commands stop. */
		policy_defaults(&c->policy);
		if (c->socket != NULL)
			snprintf(c->policy.socket, sizeof(c->policy.socket), "%s", c->socket);
	}
}

static int need_config(const struct ctl *c)
{
	if (c->config_ok)
		return EXIT_OK;
	fprintf(stderr, "%s: %s\n", prog, c->config_err);
	return EXIT_ERROR;
}

/* Map a transport or reply error to a message and an exit code. */
static int fail(const struct ctl *c, pp_err rc, const char *what)
{
	switch (rc) {
	case PP_ERR_UNREACHABLE:
	case PP_ERR_TIMEOUT:
		/* TRANSLATORS: %1$s is the socket's path, %2$s why. */
		ctl_error(_("cannot reach pam_policyd at %1$s: %2$s (is it running?)"),
			  c->policy.socket, pp_error_text(rc));
		return EXIT_UNREACHABLE;
	case PP_ERR_DENIED:
		ctl_error("%s", what ? what : _("permission denied"));
		return EXIT_DENIED;
	case PP_ERR_NOT_FOUND:
		ctl_error("%s", _("no such user"));
		return EXIT_NOT_FOUND;
	default:
		fprintf(stderr, "%s: %s\n", prog, pp_error_text(rc));
		return EXIT_ERROR;
	}
}

static bool parse_days(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > PP_DAYS_MAX)
		return false;
	*out = v;
	return true;
}

/* ---- status ---- */

/* The labels of "status", one column wide enough for the longest. */
enum status_label {
	STATUS_USER, STATUS_APPLIES, STATUS_STATE, STATUS_LAST, STATUS_EXPIRES,
	STATUS_LEFT, STATUS_MUST, STATUS_HISTORY, STATUS_STORE, STATUS_FLEET, STATUS_LABELS
};

static const char *const status_labels[STATUS_LABELS] = {
	N_("User:"), N_("Policy applies:"), N_("State:"), N_("Last password change:"),
	N_("Password expires:"), N_("Days left:"), N_("Must change at next login:"),
	N_("Remembered passwords:"), N_("Store:"), N_("Fleet:"),
};

static void status_field(enum status_label l, int width, const char *value)
{
	const char *label = _(status_labels[l]);

	printf("%s%*s %s\n", label, width - report_text_width(label), "", value);
}

static void status_fleet_text(const struct doctor_fleet *f, int width);

/* The text form of status, in the user's language; fleet: NULL if unknown. */
static void status_print(const char *user, bool applies, enum users_coverage cov,
			 const struct request_status_result *st, int64_t now,
			 const struct doctor_fleet *fleet)
{
	char date[32], number[32];
	int width = 26;

	for (int i = 0; i < STATUS_LABELS; i++) {
		int w = report_text_width(_(status_labels[i]));
		if (w > width)
			width = w;
	}
	status_field(STATUS_USER, width, user);
	status_field(STATUS_APPLIES, width, applies ? _("yes") : users_coverage_label(cov));
	status_field(STATUS_STATE, width, aging_state_label(st->state));
	aging_format_date(st->last_change, date, sizeof(date));
	/* TRANSLATORS: no password change known (status). */
	status_field(STATUS_LAST, width, st->last_change ? date : _("never"));
	if (st->expires != 0) {
		aging_format_date(st->expires, date, sizeof(date));
		status_field(STATUS_EXPIRES, width, date);
		snprintf(number, sizeof(number), "%ld", aging_days_until(now, st->expires));
		status_field(STATUS_LEFT, width, number);
	} else {
		/* TRANSLATORS: the password never expires (status). */
		status_field(STATUS_EXPIRES, width, _("never"));
		status_field(STATUS_LEFT, width, "-");
	}
	status_field(STATUS_MUST, width, st->must_change ? _("yes") : _("no"));
	snprintf(number, sizeof(number), "%ld", st->history_count);
	status_field(STATUS_HISTORY, width, number);
	if (fleet != NULL)
		status_fleet_text(fleet, width);
}

/* ,"store":{...}: the backend and, for a fleet, how this host stands. */
static void status_fleet_json(const struct doctor_fleet *f)
{
	char since[32];

	fputs(",\"store\":{\"backend\":", stdout);
	report_json_string(f->backend, stdout);
	fputs(",\"host\":", stdout);
	report_json_string(f->host, stdout);
	if (f->degraded_since != 0) {
		doctor_format_time(f->degraded_since, since, sizeof(since));
		printf(",\"degraded\":true,\"degraded_since\":\"%s\",\"reason\":", since);
		report_json_string(f->reason, stdout);
	} else {
		fputs(",\"degraded\":false,\"degraded_since\":null,\"reason\":null", stdout);
	}
	printf(",\"replica_seq\":%llu,\"outbox\":%llu}", (unsigned long long)f->replica_seq,
	       (unsigned long long)f->outbox);
}

static void status_fleet_text(const struct doctor_fleet *f, int width)
{
	char since[32], shown[300], text[700];

	if (strcmp(f->backend, "postgresql") != 0) {
		status_field(STATUS_STORE, width, f->backend);
		return;
	}
	/* TRANSLATORS: status, the store line; %s is this host's name. */
	snprintf(text, sizeof(text), _("postgresql (fleet host %s)"),
		 report_printable(f->host, shown, sizeof(shown)));
	status_field(STATUS_STORE, width, text);
	if (f->degraded_since != 0) {
		char reason[300];

		doctor_format_time(f->degraded_since, since, sizeof(since));
		/* TRANSLATORS: %1$s a time, %2$s the database's error, %3$llu changes. */
		snprintf(text, sizeof(text),
			 P_("degraded since %1$s: the database is unreachable (%2$s); answered "
			    "from the local replica, %3$llu change in the outbox",
			    "degraded since %1$s: the database is unreachable (%2$s); answered "
			    "from the local replica, %3$llu changes in the outbox", f->outbox),
			 since, report_printable(f->reason, reason, sizeof(reason)),
			 (unsigned long long)f->outbox);
	} else {
		snprintf(text, sizeof(text), _("in sync (change %llu applied)"),
			 (unsigned long long)f->replica_seq);
	}
	status_field(STATUS_FLEET, width, text);
}

static int cmd_status(struct ctl *c, int argc, char **argv)
{
	struct request_status_result st;
	struct users_info info;
	struct doctor_fleet fleet;
	bool have_fleet;
	char user[PP_NAME_MAX + 1];
	const char *coverage = "covered";
	enum users_coverage cov_value = USERS_COVERED;
	bool applies = true, json = false;
	int64_t now = (int64_t)time(NULL);
	pp_err rc;
	int ex;

	if ((ex = parse_format_only("status", argc, argv, &json)) != EXIT_OK)
		return ex;
	argc -= optind - 1;
	argv += optind - 1;
	if (argc > 2)
		return usage_error("%s", _("status takes at most one user name"));
	if (need_config(c) != EXIT_OK)
		return EXIT_ERROR;
	if (argc == 2) {
		if (strlen(argv[1]) >= sizeof(user) || argv[1][0] == '\0')
			return usage_error(_("invalid user name \"%s\""), argv[1]);
		snprintf(user, sizeof(user), "%s", argv[1]);
	} else {
		struct passwd *pw = getpwuid(getuid());
		if (pw == NULL || strlen(pw->pw_name) >= sizeof(user)) {
			ctl_error(_("cannot find your user name (uid %u)"), (unsigned)getuid());
			return EXIT_ERROR;
		}
		snprintf(user, sizeof(user), "%s", pw->pw_name);
	}
	rc = request_status(c->policy.socket, c->policy.timeout_ms, user,
			    c->policy.max_age_days, c->policy.warn_days, &st);
	if (rc != PP_OK)
		return fail(c, rc, _("you may only see your own account"));
	if (!st.found) {
		ctl_error(_("no such user: %s"), user);
		return EXIT_NOT_FOUND;
	}
	have_fleet = doctor_fleet_query(c->policy.socket, c->policy.timeout_ms, &fleet) == PP_OK;
	if (users_lookup(user, &info) == PP_OK) {
		enum users_coverage cov = users_coverage(&c->policy, &info, USERS_PASSWD_FILE);
		if (cov != USERS_COVERED) {
			coverage = users_coverage_text(cov);
			cov_value = cov;
			applies = false;
		}
	}
	if (json) {
		fputs("{\"user\":", stdout);
		report_json_string(user, stdout);
		printf(",\"policy_applies\":%s,\"coverage\":\"%s\"", applies ? "true" : "false",
		       coverage);
		if (have_fleet)
			status_fleet_json(&fleet);
		printf(",\"state\":\"%s\",\"last_change\":", aging_state_name(st.state));
		json_date(st.last_change);
		fputs(",\"expires\":", stdout);
		json_date(st.expires);
		if (st.expires != 0)
			printf(",\"days_left\":%ld", aging_days_until(now, st.expires));
		else
			fputs(",\"days_left\":null", stdout);
		printf(",\"must_change\":%s,\"history\":%ld}\n",
		       st.must_change ? "true" : "false", st.history_count);
		return flush_stdout();
	}
	status_print(user, applies, cov_value, &st, now, have_fleet ? &fleet : NULL);
	return EXIT_OK;
}

/* ---- expire, forget, reopen, backup ---- */

static int admin_call(struct ctl *c, enum proto_type type, const char *arg,
		      const char *command)
{
	char text[256], denied[128];
	pp_err rc;

	if (need_config(c) != EXIT_OK)
		return EXIT_ERROR;
	rc = request_simple(c->policy.socket, c->policy.timeout_ms, type, arg, text,
			    sizeof(text));
	if (rc == PP_OK)
		return EXIT_OK;
	if (rc == PP_ERR_NOT_FOUND) {
		fprintf(stderr, "%s: %s: %s\n", prog, arg ? arg : command,
			text[0] ? text : _("not found"));
		return EXIT_NOT_FOUND;
	}
	if (rc == PP_ERR_STORE || rc == PP_ERR_INVALID) {
		/* TRANSLATORS: %1$s is a command (expire, backup, ...), %2$s why. */
		ctl_error(_("%1$s failed: %2$s"), command, text[0] ? text : pp_error_text(rc));
		return EXIT_ERROR;
	}
	/* TRANSLATORS: %s is a command: expire, forget, backup, reopen. */
	snprintf(denied, sizeof(denied), _("%s is for root only"), command);
	return fail(c, rc, denied);
}

static int cmd_expire(struct ctl *c, int argc, char **argv)
{
	int rc;

	if (argc != 2)
		return usage_error("%s", _("usage: pam_policyctl expire USER"));
	rc = admin_call(c, PROTO_EXPIRE, argv[1], "expire");
	if (rc == EXIT_OK)
		printf(_("%s must change their password at next login.\n"), argv[1]);
	return rc;
}

static int cmd_forget(struct ctl *c, int argc, char **argv)
{
	int rc;

	if (argc != 2)
		return usage_error("%s", _("usage: pam_policyctl forget USER"));
	rc = admin_call(c, PROTO_FORGET, argv[1], "forget");
	if (rc == EXIT_OK)
		printf(_("Forgot the password history and aging state of %s.\n"), argv[1]);
	return rc;
}

static int cmd_reopen(struct ctl *c, int argc, char **argv)
{
	int rc;

	(void)argv;
	if (argc != 1)
		return usage_error("%s", _("reopen takes no arguments"));
	rc = admin_call(c, PROTO_REOPEN, NULL, "reopen");
	if (rc == EXIT_OK)
		printf("%s", _("pam_policyd reopened its audit log.\n"));
	return rc;
}

static int cmd_backup(struct ctl *c, int argc, char **argv)
{
	char path[PATH_MAX], cwd[PATH_MAX];
	const char *sd;
	int rc;

	if (argc != 2)
		return usage_error("%s", _("usage: pam_policyctl backup FILE"));
	if (argv[1][0] == '/') {
		snprintf(path, sizeof(path), "%s", argv[1]);
	} else {
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			ctl_error("getcwd: %s", strerror(errno));
			return EXIT_ERROR;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", cwd, argv[1]) >= sizeof(path))
			return usage_error(_("path too long: %s"), argv[1]);
	}
	rc = admin_call(c, PROTO_BACKUP, path, "backup");
	if (rc != EXIT_OK)
		return rc;
	sd = c->policy.state_dir;
	/* TRANSLATORS: %1$s is the copy's path, %2$s the state directory, %3$s
	   and %4$s the names of the pepper and audit key files in it. */
	printf(_("Store copied to %1$s.\n"
		 "Remember: the copy holds only keyed hashes. Back up the pepper (%2$s/%3$s)\n"
		 "and the audit key (%2$s/%4$s) separately, to a different safe place:\n"
		 "without the pepper the hashes are useless, without the key the audit log\n"
		 "cannot be verified. For example:\n"
		 "  install -m 0400 %2$s/%3$s %2$s/%4$s /secure/place/\n"),
	       path, sd, PATHS_PEPPER, PATHS_AUDIT_KEY);
	return EXIT_OK;
}

/* ---- policy ---- */

static int cmd_policy(struct ctl *c, int argc, char **argv)
{
	bool json = false;
	int ex;

	if ((ex = parse_format_only("policy", argc, argv, &json)) != EXIT_OK)
		return ex;
	if (optind != argc)
		return usage_error("%s", _("policy takes no arguments"));
	if (need_config(c) != EXIT_OK)
		return EXIT_ERROR;
	if (json) {
		char value[POLICY_MAX_LIST];

		fputs("{\"file\":", stdout);
		if (c->policy.file[0] != '\0')
			report_json_string(c->policy.file, stdout);
		else
			fputs("null", stdout);
		fputs(",\"options\":{", stdout);
		for (int i = 0; i < POLICY_OPT_COUNT; i++) {
			policy_format_value(&c->policy, (enum policy_option)i, value,
					    sizeof(value));
			fputs(i ? ",\n " : "\n ", stdout);
			report_json_string(policy_option_name((enum policy_option)i), stdout);
			fputs(":{\"value\":", stdout);
			report_json_string(value, stdout);
			printf(",\"source\":\"%s\"}", policy_source_name(c->policy.source[i]));
		}
		fputs("\n}}\n", stdout);
		return flush_stdout();
	}
	if (c->policy.file[0] != '\0')
		printf(_("# configuration file: %s\n"), c->policy.file);
	else
		printf(_("# configuration file: none (%s not found: built-in defaults)\n"),
		       c->config ? c->config : POLICY_DEFAULT_FILE);
	policy_print(&c->policy, stdout);
	return EXIT_OK;
}

/* ---- report ---- */

struct host_logins;
static const char *host_logins_for(struct host_logins *h, const char *user);

/* One PROTO_REPORT_ROW into r (with the user's logins per host, h may be NULL). */
static pp_err add_row(struct report *r, const struct proto_msg *msg, struct host_logins *h)
{
	char user[PP_NAME_MAX + 1];
	struct report_row row;
	uint64_t flags = msg->f[PROTO_REPORT_ROW_FLAGS].u64;
	pp_err rc;

	memset(&row, 0, sizeof(row));
	rc = proto_copy_str(msg, PROTO_REPORT_ROW_USER, user, sizeof(user));
	if (rc != PP_OK || (flags & ~(uint64_t)PROTO_REPORT_ROW_FLAGS_ALL) != 0 ||
	    msg->f[PROTO_REPORT_ROW_STATE].u64 >= AGING_STATE_COUNT)
		return PP_ERR_PROTOCOL;
	row.user = user;
	row.uid_known = (flags & PROTO_REPORT_ROW_KNOWN_UID) != 0;
	row.uid = msg->f[PROTO_REPORT_ROW_UID].u64;
	row.state = (enum aging_state)msg->f[PROTO_REPORT_ROW_STATE].u64;
	row.first_seen = (int64_t)msg->f[PROTO_REPORT_ROW_FIRST_SEEN].u64;
	row.last_change = (int64_t)msg->f[PROTO_REPORT_ROW_LAST_CHANGE].u64;
	row.expires = (int64_t)msg->f[PROTO_REPORT_ROW_EXPIRES].u64;
	row.history = (long)msg->f[PROTO_REPORT_ROW_HISTORY_COUNT].u64;
	row.must_change = (flags & PROTO_REPORT_ROW_MUST_CHANGE) != 0;
	row.in_store = (flags & PROTO_REPORT_ROW_IN_STORE) != 0;
	row.future_date = (flags & PROTO_REPORT_ROW_FUTURE_DATE) != 0;
	if (msg->f[PROTO_REPORT_ROW_LAST_LOGIN].u64 > INT64_MAX)
		return PP_ERR_PROTOCOL;
	row.last_login = (int64_t)msg->f[PROTO_REPORT_ROW_LAST_LOGIN].u64;
	row.host_logins = h != NULL ? (char *)host_logins_for(h, user) : NULL;
	rc = report_add(r, &row);
	return rc == PP_ERR_INVALID ? PP_ERR_PROTOCOL : rc;
}

/* The daemon's clock and policy from PROTO_REPORT_END. */
static pp_err finish_rows(struct report *r, const struct proto_msg *msg, uint64_t rows)
{
	struct report_info info;

	if (msg->f[PROTO_REPORT_END_COUNT].u64 != rows ||
	    msg->f[PROTO_REPORT_END_NOW].u64 > INT64_MAX ||
	    msg->f[PROTO_REPORT_END_MAX_AGE_DAYS].u64 > PP_DAYS_MAX ||
	    msg->f[PROTO_REPORT_END_WARN_DAYS].u64 > PP_DAYS_MAX ||
	    msg->f[PROTO_REPORT_END_HISTORY].u64 > POLICY_MAX_HISTORY)
		return PP_ERR_PROTOCOL;
	info.now = (int64_t)msg->f[PROTO_REPORT_END_NOW].u64;
	info.max_age_days = (int)msg->f[PROTO_REPORT_END_MAX_AGE_DAYS].u64;
	info.warn_days = (int)msg->f[PROTO_REPORT_END_WARN_DAYS].u64;
	info.history = (int)msg->f[PROTO_REPORT_END_HISTORY].u64;
	return report_finish(r, &info);
}

/* The logins per host gathered for the next report row (report --fleet). */
struct host_logins {
	char user[PP_NAME_MAX + 1];
	char *text;                 /* "HOST=TIME ...", malloc'd */
	size_t len, cap;
};

/* Append one PROTO_FLEET_LOGIN; host names are printed as they are, so keep them tame. */
static pp_err host_logins_add(struct host_logins *h, const struct proto_msg *msg)
{
	char user[PP_NAME_MAX + 1], host[64], when[32];
	size_t need;

	if (proto_copy_str(msg, PROTO_FLEET_LOGIN_USER, user, sizeof(user)) != PP_OK ||
	    proto_copy_str(msg, PROTO_FLEET_LOGIN_HOST, host, sizeof(host)) != PP_OK ||
	    msg->f[PROTO_FLEET_LOGIN_WHEN].u64 > INT64_MAX)
		return PP_ERR_PROTOCOL;
	for (char *p = host; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
			*p = '?';
	if (strcmp(h->user, user) != 0) {
		snprintf(h->user, sizeof(h->user), "%s", user);
		h->len = 0;
	}
	doctor_format_time((int64_t)msg->f[PROTO_FLEET_LOGIN_WHEN].u64, when, sizeof(when));
	need = h->len + strlen(host) + strlen(when) + 3;
	if (need > h->cap) {
		char *t = realloc(h->text, need * 2);
		if (t == NULL)
			return PP_ERR_NOMEM;
		h->text = t;
		h->cap = need * 2;
	}
	h->len += (size_t)snprintf(h->text + h->len, h->cap - h->len, "%s%s=%s",
				   h->len ? " " : "", host, when);
	return PP_OK;
}

/*
 * Stream the daemon's rows into r over one connection: PROTO_REPORT, or
 * PROTO_FLEET_REPORT (fleet: logins per host before each row). A refusal's
 * text goes to why (may be NULL).
 */
static pp_err fetch_report(const struct ctl *c, struct report *r, bool fleet, char *why,
			   size_t whylen)
{
	uint8_t buf[PROTO_MAX_FRAME];
	struct proto_msg req, msg;
	struct host_logins h = { .text = NULL };
	uint64_t rows = 0;
	int fd = -1;
	pp_err rc;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	proto_msg_init(&req, fleet ? PROTO_FLEET_REPORT : PROTO_REPORT);
	if ((rc = client_connect(c->policy.socket, c->policy.timeout_ms, &fd)) != PP_OK)
		return rc;
	rc = client_call(fd, &req, buf, sizeof(buf), &msg, c->policy.timeout_ms);
	while (rc == PP_OK) {
		if (msg.type == PROTO_REPLY) {
			rc = request_status_to_error(msg.f[PROTO_REPLY_STATUS].u64);
			if (rc == PP_OK)
				rc = PP_ERR_PROTOCOL;
			if (why != NULL && proto_copy_str(&msg, PROTO_REPLY_TEXT, why,
							  whylen) != PP_OK)
				why[0] = '\0';
			break;
		}
		if (msg.type == PROTO_REPORT_END) {
			rc = finish_rows(r, &msg, rows);
			break;
		}
		if (fleet && msg.type == PROTO_FLEET_LOGIN) {
			rc = host_logins_add(&h, &msg);
		} else if (msg.type != PROTO_REPORT_ROW) {
			rc = PP_ERR_PROTOCOL;
		} else {
			rc = add_row(r, &msg, &h);
			rows++;
		}
		if (rc != PP_OK)
			break;
		rc = client_recv(fd, buf, sizeof(buf), &msg, c->policy.timeout_ms);
	}
	free(h.text);
	client_close(&fd);
	return rc;
}

static pp_err fetch_rows(const struct ctl *c, struct report *r)
{
	return fetch_report(c, r, false, NULL, 0);
}

/* The logins gathered for user, NULL when none were sent for it. */
static const char *host_logins_for(struct host_logins *h, const char *user)
{
	if (h->text == NULL || h->len == 0 || strcmp(h->user, user) != 0)
		return NULL;
	h->user[0] = '\0';
	h->len = 0;
	return h->text;
}

static int cmd_report(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "expired", no_argument, NULL, 'e' },
		{ "expiring-within", required_argument, NULL, 'w' },
		{ "state", required_argument, NULL, 's' },
		{ "inactive", required_argument, NULL, 'i' },
		{ "fleet", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	enum report_format fmt = REPORT_TABLE;
	struct report_filter filter;
	struct report *r;
	enum aging_state state;
	char denied[POLICY_MAX_NAME + 128], why[PROTO_MAX_STR + 1];
	bool fleet = false;
	size_t shown;
	pp_err rc;
	int opt;

	report_filter_init(&filter);
	optind = 0;   /* full re-initialisation for the sub-command's argv */
	while ((opt = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (!report_format_parse(optarg, &fmt))
				return usage_error(_("--format: expected table, csv or json, "
						     "got \"%s\""), optarg);
			break;
		case 'e':
			filter.expired = true;
			break;
		case 'w':
			if (!parse_days(optarg, &filter.expiring_within))
				return usage_error(_("--expiring-within: expected a number of "
						     "days from 0 to %1$d, got \"%2$s\""), PP_DAYS_MAX,
						   optarg);
			break;
		case 's':
			if (!aging_state_parse(optarg, &state))
				/* TRANSLATORS: the state names are typed: keep them. */
				return usage_error(_("--state: expected ok, warning, expired, "
						     "must_change, never_set, locked or exempt, "
						     "got \"%s\""),
						   optarg);
			filter.state = (int)state;
			break;
		case 'i':
			if (!parse_days(optarg, &filter.inactive))
				return usage_error(_("--inactive: expected a number of days from "
						     "0 to %1$d, got \"%2$s\""), PP_DAYS_MAX, optarg);
			break;
		case 'F':
			fleet = true;
			break;
		default:
			return option_error("report", opt, argv);
		}
	}
	if (optind != argc)
		return usage_error(_("report: unexpected argument \"%s\""), argv[optind]);
	if (need_config(c) != EXIT_OK)
		return EXIT_ERROR;
	r = report_new();
	if (r == NULL)
		return fail(c, PP_ERR_NOMEM, NULL);
	if (fleet)
		report_set_fleet(r);
	rc = fetch_report(c, r, fleet, why, sizeof(why));
	if (rc != PP_OK) {
		report_free(r);
		if (fleet && rc == PP_ERR_INVALID) {
			/* TRANSLATORS: "store = sqlite" is a configuration line: keep it. */
			ctl_error(_("report --fleet: this host's store is sqlite (store = "
				    "sqlite in its configuration): there is no fleet view"));
			return EXIT_ERROR;
		}
		if (fleet && rc != PP_ERR_DENIED && why[0] != '\0') {
			char text[PROTO_MAX_STR + 1];

			/* The daemon's detail (its time and the database's error) stays as sent. */
			/* TRANSLATORS: %s is the daemon's explanation, in English, e.g. "the
			   database is unreachable since 2026-01-31T12:00:00Z (...)". */
			ctl_error(_("report --fleet: the fleet view is unavailable: %s"),
				  report_printable(why, text, sizeof(text)));
			return EXIT_ERROR;
		}
		snprintf(denied, sizeof(denied), _("reports are for root and members of the "
						   "%s group"), c->policy.audit_group);
		return fail(c, rc, denied);
	}
	shown = report_write(r, &filter, fmt, stdout);
	/* CSV and JSON keep stdout machine-readable: the summary goes to stderr. */
	report_write_summary(r, shown, fmt == REPORT_TABLE ? stdout : stderr);
	report_free(r);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_error(_("write error: %s"), strerror(errno));
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* ---- review ---- */

static int cmd_review(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	enum report_format fmt = REPORT_TABLE;
	char denied[POLICY_MAX_NAME + 128];
	struct review *v;
	pp_err rc;
	int opt;

	optind = 0;   /* full re-initialisation for the sub-command's argv */
	while ((opt = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
		if (opt != 'f')
			return option_error("review", opt, argv);
		if (!report_format_parse(optarg, &fmt))
			return usage_error(_("--format: expected table, csv or json, got \"%s\""),
					   optarg);
	}
	if (optind != argc)
		return usage_error(_("review: unexpected argument \"%s\""), argv[optind]);
	if (need_config(c) != EXIT_OK)
		return EXIT_ERROR;
	rc = review_fetch(&c->policy, &v);
	if (rc != PP_OK) {
		snprintf(denied, sizeof(denied), _("reviews are for root and members of the "
						   "%s group"), c->policy.audit_group);
		return fail(c, rc, denied);
	}
	review_write(v, fmt, stdout);
	review_free(v);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_error(_("write error: %s"), strerror(errno));
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* ---- audit verify ---- */

/*
 * Read the audit key, checked by the rule the daemon applies to it
 * (fsutil_read_secret); exit code on failure (message printed).
 */
static int read_audit_key(const char *path, uint8_t *key)
{
	char err[POLICY_MAX_PATH + 256];
	pp_err rc = fsutil_read_secret(path, "audit key", key, AUDIT_KEY_BYTES,
				       err, sizeof(err));
	int saved = errno;

	if (rc == PP_OK)
		return EXIT_OK;
	if (rc == PP_ERR_IO && (saved == EACCES || saved == EPERM)) {
		ctl_error(_("the audit key %s is readable by root only: run "
			    "\"pam_policyctl audit verify\" as root"), path);
		return EXIT_DENIED;
	}
	fprintf(stderr, "%s: %s\n", prog, err);
	return EXIT_ERROR;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* One place in the log as a JSON object: file, line, problem, detail. */
static void audit_json_place(const char *file, unsigned long line,
			     enum audit_problem problem, const char *detail)
{
	fputs("{\"file\":", stdout);
	if (file != NULL)
		report_json_string(file, stdout);
	else
		fputs("null", stdout);
	printf(",\"line\":%lu,\"problem\":\"%s\",\"detail\":", line,
	       auditlog_problem_name(problem));
	report_json_string(detail, stdout);
	putc('}', stdout);
}

/* "audit verify --format json": the verdict v as one object. */
static int audit_json(const char *const *files, size_t nfiles, const struct audit_verdict *v)
{
	bool broken = v->problem != AUDIT_CLEAN && v->problem != AUDIT_GAP;
	int ex;

	printf("{\"result\":\"%s\",\"files\":[",
	       v->problem == AUDIT_CLEAN ? "clean" :
	       v->problem == AUDIT_GAP ? "incomplete" : auditlog_problem_name(v->problem));
	for (size_t i = 0; i < nfiles; i++) {
		if (i)
			putc(',', stdout);
		report_json_string(files[i], stdout);
	}
	printf("],\"lines\":%lu,\"torn\":%lu,\"gaps\":%lu,\"events_held\":%llu,"
	       "\"events_lost\":%llu,\"notices\":[", v->lines, v->torn, v->gaps,
	       (unsigned long long)v->events_held, (unsigned long long)v->events_lost);
	for (size_t i = 0; i < v->nnotices; i++) {
		fputs(i ? ",\n " : "\n ", stdout);
		audit_json_place(v->notices[i].file, v->notices[i].line,
				 v->notices[i].problem, v->notices[i].detail);
	}
	printf("%s],\"notices_not_shown\":%lu,\"break\":", v->nnotices ? "\n" : "",
	       v->torn + v->gaps > v->nnotices
		       ? v->torn + v->gaps - (unsigned long)v->nnotices : 0UL);
	if (broken)
		audit_json_place(v->file, v->line, v->problem, v->detail);
	else
		fputs("null", stdout);
	fputs("}\n", stdout);
	if ((ex = flush_stdout()) != EXIT_OK)
		return ex;
	return v->problem == AUDIT_CLEAN ? EXIT_OK : EXIT_FINDING;
}

static int cmd_audit(struct ctl *c, int argc, char **argv)
{
	char key_path[POLICY_MAX_PATH + 16], head_path[POLICY_MAX_PATH + 16];
	const char *deflt[1];
	const char *const *files;
	struct audit_verdict v;
	size_t nfiles;
	uint8_t *key;
	bool json = false;
	int ex, saved;
	pp_err rc;

	if (argc < 2 || strcmp(argv[1], "verify") != 0)
		return usage_error("%s", _("usage: pam_policyctl audit verify [FILE...]"));
	/* Options after "verify": argv + 1 is "verify" [--format F] [FILE...]. */
	if ((ex = parse_format_only("audit verify", argc - 1, argv + 1, &json)) != EXIT_OK)
		return ex;
	if (need_config(c) != EXIT_OK)
		return EXIT_ERROR;
	if (optind < argc - 1) {
		files = (const char *const *)&argv[1 + optind];
		nfiles = (size_t)(argc - 1 - optind);
	} else {
		deflt[0] = c->policy.audit_log;
		files = deflt;
		nfiles = 1;
	}
	if (paths_state_file(key_path, sizeof(key_path), c->policy.state_dir,
			     PATHS_AUDIT_KEY) != PP_OK ||
	    paths_state_file(head_path, sizeof(head_path), c->policy.state_dir,
			     PATHS_AUDIT_HEAD) != PP_OK) {
		ctl_error(_("state directory path too long: %s"), c->policy.state_dir);
		return EXIT_ERROR;
	}
	if (sodium_init() < 0 || (key = sodium_malloc(AUDIT_KEY_BYTES)) == NULL) {
		ctl_error("%s", _("libsodium failed to start"));
		return EXIT_ERROR;
	}
	memset(&v, 0, sizeof(v));
	ex = read_audit_key(key_path, key);
	if (ex != EXIT_OK) {
		sodium_free(key);
		return ex;
	}
	/* The head only describes the live log: pass it when that is the last file. */
	rc = auditlog_verify(files, nfiles,
			  same_file(files[nfiles - 1], c->policy.audit_log) ? head_path : NULL,
			  key, &v);
	saved = errno;
	sodium_free(key);
	if (rc != PP_OK) {
		ctl_error(_("cannot read the audit log: %s"),
			  v.detail[0] ? v.detail : pp_error_text(rc));
		return saved == EACCES ? EXIT_DENIED : EXIT_ERROR;
	}
	if (json)
		return audit_json(files, nfiles, &v);
	/* Torn lines and gaps first: the chain went on past them. */
	for (size_t i = 0; i < v.nnotices; i++)
		printf("%s:%lu: %s: %s\n", v.notices[i].file ? v.notices[i].file : "?",
		       v.notices[i].line, auditlog_problem_name(v.notices[i].problem),
		       v.notices[i].detail);
	if (v.torn + v.gaps > v.nnotices) {
		unsigned long more = v.torn + v.gaps - (unsigned long)v.nnotices;
		printf(P_("(%lu more torn line or gap not shown)\n",
			  "(%lu more torn lines and gaps not shown)\n", more), more);
	}
	if (v.problem == AUDIT_CLEAN) {
		printf(P_("clean: %lu line, chain intact", "clean: %lu lines, chain intact",
			  v.lines), v.lines);
		if (v.torn + v.gaps > 0) {
			/* TRANSLATORS: the parts of "(1 torn by a crash, 2 gaps, 3
			   events written late, none missing)" after "clean: N
			   lines, chain intact"; torn: lines. */
			printf(" (");
			printf(P_("%lu torn by a crash", "%lu torn by a crash", v.torn), v.torn);
			printf(", ");
			printf(P_("%lu gap", "%lu gaps", v.gaps), v.gaps);
			printf(", ");
			printf(P_("%llu event written late", "%llu events written late",
				  v.events_held), (unsigned long long)v.events_held);
			printf(", %s)", _("none missing"));
		}
		putchar('\n');
		return EXIT_OK;
	}
	if (v.problem == AUDIT_GAP) {
		printf(P_("incomplete: %lu line, chain intact", "incomplete: %lu lines, "
			  "chain intact", v.lines), v.lines);
		/* TRANSLATORS: after "incomplete: N lines, chain intact". */
		printf(P_(", %llu event missing", ", %llu events missing", v.events_lost),
		       (unsigned long long)v.events_lost);
		printf(P_(" in %lu gap\n", " in %lu gaps\n", v.gaps), v.gaps);
		return EXIT_FINDING;
	}
	printf("%s:%lu: %s: %s\n", v.file ? v.file : "?", v.line,
	       auditlog_problem_name(v.problem), v.detail);
	return EXIT_FINDING;
}

/* ---- doctor ---- */

static int cmd_doctor(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pam-dir", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pam_dir = DOCTOR_DEFAULT_PAM_DIR;
	struct doctor_findings f;
	size_t problems;
	bool json = false;
	int opt;

	optind = 0;   /* full re-initialisation for the sub-command's argv */
	while ((opt = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
		if (opt == 'p')
			pam_dir = optarg;
		else if (opt != 'f')
			return option_error("doctor", opt, argv);
		else if (!parse_text_format(optarg, &json))
			return usage_error(_("--format: expected text or json, got \"%s\""),
					   optarg);
	}
	if (optind != argc)
		return usage_error(_("doctor: unexpected argument \"%s\""), argv[optind]);
	doctor_findings_init(&f);
	if (!c->config_ok)
		doctor_add(&f, DOCTOR_PROBLEM, _("configuration: %s - fix it: until then the "
			   "module refuses password changes (it fails closed); the checks "
			   "below use the built-in defaults"), c->config_err);
	else if (c->policy.file[0] != '\0')
		doctor_add(&f, DOCTOR_OK, _("configuration %s parses"), c->policy.file);
	else
		doctor_add(&f, DOCTOR_NOTE, _("no configuration file %s: the built-in "
			   "defaults apply (see pam_policyctl policy)"),
			   c->config ? c->config : POLICY_DEFAULT_FILE);
	doctor_daemon(&c->policy, &f);
	doctor_fleet(&c->policy, &f);
	doctor_state(&c->policy, &f);
	{
		struct report *r = report_new();
		doctor_future_dates(r, r != NULL ? fetch_rows(c, r) : PP_ERR_NOMEM, &f);
		report_free(r);
	}
	if (doctor_pam_dir(pam_dir, &f) != PP_OK) {
		/* already recorded as a problem finding */
	}
	if (json)
		doctor_print_json(&f, stdout);
	else
		doctor_print(&f, stdout);
	problems = doctor_problems(&f);
	doctor_findings_free(&f);
	if (json) {
		int ex = flush_stdout();
		return ex != EXIT_OK ? ex : problems > 0 ? EXIT_FINDING : EXIT_OK;
	}
	if (problems > 0) {
		printf(P_("%zu problem found\n", "%zu problems found\n", problems), problems);
		return EXIT_FINDING;
	}
	printf("%s", _("no problems found\n"));
	return EXIT_OK;
}

/* ---- check (check.c) ---- */

static int cmd_check(struct ctl *c, int argc, char **argv)
{
	return check_main(&c->policy, c->config_ok ? NULL : c->config_err, argc, argv);
}

static int cmd_wordlist(struct ctl *c, int argc, char **argv)
{
	return wordlist_main(&c->policy, c->config_ok ? NULL : c->config_err, argc, argv);
}

/* ---- blocklist (blocklist.c) ---- */

static int cmd_blocklist(struct ctl *c, int argc, char **argv)
{
	(void)c;
	return blocklist_main(argc, argv);
}

/* ---- main ---- */

static const struct command {
	const char *name;
	int (*run)(struct ctl *c, int argc, char **argv);
} commands[] = {
	{ "status", cmd_status },
	{ "expire", cmd_expire },
	{ "forget", cmd_forget },
	{ "policy", cmd_policy },
	{ "report", cmd_report },
	{ "review", cmd_review },
	{ "audit", cmd_audit },
	{ "backup", cmd_backup },
	{ "reopen", cmd_reopen },
	{ "doctor", cmd_doctor },
	{ "check", cmd_check },
	{ "wordlist", cmd_wordlist },
	{ "blocklist", cmd_blocklist },
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl c;
	int opt;

	memset(&c, 0, sizeof(c));
	/* The user's language for every message (JSON and CSV stay English). */
	setlocale(LC_ALL, "");
	(void)bindtextdomain(I18N_DOMAIN, PATHS_LOCALEDIR);
	(void)textdomain(I18N_DOMAIN);
	opterr = 0;   /* option_error words every complaint, with our prefix */
	while ((opt = getopt_long(argc, argv, "+:c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			c.config = optarg;
			break;
		case 's':
			c.socket = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("pam_policyctl %s\n", PAM_POLICY_VERSION);
			return EXIT_OK;
		default:
			return option_error(NULL, opt, argv);
		}
	}
	if (optind >= argc) {
		ctl_error("%s", _("no command given"));
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			if (wants_help(argc - optind, argv + optind))
				return command_usage(commands[i].name);
			load_policy(&c);
			return commands[i].run(&c, argc - optind, argv + optind);
		}
	}
	return usage_error(_("unknown command \"%s\""), argv[optind]);
}
