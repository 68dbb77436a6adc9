/*
 * test_cli_script.c - pam_policyctl as scripts use it: every command's
 * --help (stdout, exit 0), --format json of status, policy, doctor and
 * audit verify (one strict JSON document on stdout, checked by the small
 * RFC 8259 syntax checker below, so that no python is needed), error
 * messages prefixed "pam_policyctl:", and one version everywhere (the
 * Makefile's VERSION, as the build passes it in PAM_POLICY_VERSION, equals
 * the daemon's and the CLI's --version, every man page's .TH and the
 * newest NEWS entry). Also the man pages' section order, the bash
 * completion's command list and logrotate's postrotate.
 *
 * The real binaries run against a pam_policyd on a temp socket and store,
 * as the calling user (no root needed).
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"
#include "request.h"

#define PW_ALICE "Aardvark-Quill-739"

static char dir[4096];
static struct harness_daemon daemon_state;

/* The commands of pam_policy 0.1.0; --help may list more (all are checked). */
static const char *const known_commands[] = {
	"status", "expire", "forget", "policy", "report", "review", "audit",
	"backup", "reopen", "doctor", NULL,
};

static const char *const man_pages[] = {
	"man/pam_policy.8", "man/pam_policy.conf.5", "man/pam_policyctl.8",
	"man/pam_policyd.8", NULL,
};

/* ---- a strict JSON syntax checker (RFC 8259) ---- */

struct json {
	const char *p;
	int depth;
	const char *err;
};

static void json_ws(struct json *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static bool json_fail(struct json *j, const char *why)
{
	if (j->err == NULL)
		j->err = why;
	return false;
}

static bool json_value(struct json *j);

/* One UTF-8 sequence at j->p (not ASCII): well-formed, shortest form. */
static bool json_utf8(struct json *j)
{
	const unsigned char *s = (const unsigned char *)j->p;
	unsigned long cp;
	int n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 1;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 2;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 3;
		cp = s[0] & 0x07;
	} else {
		return json_fail(j, "invalid UTF-8 lead byte");
	}
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return json_fail(j, "invalid UTF-8 continuation");
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return json_fail(j, "overlong or out-of-range UTF-8");
	j->p += n + 1;
	return true;
}

static bool json_string(struct json *j)
{
	if (*j->p != '"')
		return json_fail(j, "expected a string");
	j->p++;
	for (;;) {
		unsigned char c = (unsigned char)*j->p;

		if (c == '"') {
			j->p++;
			return true;
		}
		if (c == '\0')
			return json_fail(j, "unterminated string");
		if (c < 0x20)
			return json_fail(j, "control character in a string");
		if (c == '\\') {
			j->p++;
			if (*j->p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)j->p[i]))
						return json_fail(j, "bad \\u escape");
				j->p += 5;
			} else if (*j->p != '\0' && strchr("\"\\/bfnrt", *j->p) != NULL) {
				j->p++;
			} else {
				return json_fail(j, "bad escape");
			}
		} else if (c >= 0x80) {
			if (!json_utf8(j))
				return false;
		} else {
			j->p++;
		}
	}
}

static bool json_number(struct json *j)
{
	if (*j->p == '-')
		j->p++;
	if (*j->p == '0')
		j->p++;
	else if (*j->p >= '1' && *j->p <= '9')
		while (isdigit((unsigned char)*j->p))
			j->p++;
	else
		return json_fail(j, "bad number");
	if (*j->p == '.') {
		j->p++;
		if (!isdigit((unsigned char)*j->p))
			return json_fail(j, "bad fraction");
		while (isdigit((unsigned char)*j->p))
			j->p++;
	}
	if (*j->p == 'e' || *j->p == 'E') {
		j->p++;
		if (*j->p == '+' || *j->p == '-')
			j->p++;
		if (!isdigit((unsigned char)*j->p))
			return json_fail(j, "bad exponent");
		while (isdigit((unsigned char)*j->p))
			j->p++;
	}
	return true;
}

/* An object or an array: open '{' or '['. */
static bool json_container(struct json *j, char close)
{
	bool object = close == '}';

	if (++j->depth > 64)
		return json_fail(j, "nested too deep");
	j->p++;
	json_ws(j);
	if (*j->p == close) {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		if (object) {
			json_ws(j);
			if (!json_string(j))
				return false;
			json_ws(j);
			if (*j->p != ':')
				return json_fail(j, "expected ':'");
			j->p++;
		}
		if (!json_value(j))
			return false;
		json_ws(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p == close) {
			j->p++;
			j->depth--;
			return true;
		}
		return json_fail(j, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static bool json_value(struct json *j)
{
	json_ws(j);
	switch (*j->p) {
	case '{':
		return json_container(j, '}');
	case '[':
		return json_container(j, ']');
	case '"':
		return json_string(j);
	case 't':
		if (strncmp(j->p, "true", 4) != 0)
			break;
		j->p += 4;
		return true;
	case 'f':
		if (strncmp(j->p, "false", 5) != 0)
			break;
		j->p += 5;
		return true;
	case 'n':
		if (strncmp(j->p, "null", 4) != 0)
			break;
		j->p += 4;
		return true;
	default:
		if (*j->p == '-' || isdigit((unsigned char)*j->p))
			return json_number(j);
		break;
	}
	return json_fail(j, "expected a value");
}

/*
 * Is text exactly one JSON document (whitespace around it allowed)? On
 * false, *why says what and *where the offset.
 */
static bool json_document(const char *text, const char **why, size_t *where)
{
	struct json j = { text, 0, NULL };
	bool ok = json_value(&j);

	if (ok) {
		json_ws(&j);
		if (*j.p != '\0')
			ok = json_fail(&j, "text after the document");
	}
	*why = j.err;
	*where = (size_t)(j.p - text);
	return ok;
}

static void assert_json(const char *text, const char *what)
{
	const char *why = NULL;
	size_t where = 0;

	ck_assert_msg(json_document(text, &why, &where),
		      "%s: not one JSON document: %s at offset %zu:\n%s", what,
		      why ? why : "?", where, text);
}

static bool is_json(const char *text)
{
	const char *why;
	size_t where;

	return json_document(text, &why, &where);
}

/* ---- running the binaries ---- */

struct run {
	int status;           /* exit code, or 128 + signal */
	char *out, *err;
};

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/*
 * Run build/PROGRAM with args (NULL-terminated), after "-c CONFIG" when
 * with_config. stdout and stderr go through files.
 */
static void run_prog(struct run *r, const char *program, bool with_config,
		     const char *const *args)
{
	char out_path[4200], err_path[4200], exe[4200];
	const char *argv[40];
	int n = 0, status;
	pid_t pid;

	snprintf(out_path, sizeof(out_path), "%s/cli.out", dir);
	snprintf(err_path, sizeof(err_path), "%s/cli.err", dir);
	snprintf(exe, sizeof(exe), "%s", harness_build(program));
	argv[n++] = program;
	if (with_config) {
		argv[n++] = "-c";
		argv[n++] = daemon_state.config;
	}
	for (int i = 0; args[i] != NULL && n < 39; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fi = open("/dev/null", O_RDONLY);

		if (fo < 0 || fe < 0 || fi < 0 || dup2(fi, 0) < 0 || dup2(fo, 1) < 0 ||
		    dup2(fe, 2) < 0)
			_exit(126);
		execv(exe, (char *const *)argv);
		fprintf(stderr, "exec %s: %m\n", exe);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->out = harness_read(out_path);
	r->err = harness_read(err_path);
	ck_assert_ptr_nonnull(r->out);
	ck_assert_ptr_nonnull(r->err);
	unlink(out_path);
	unlink(err_path);
}

#define CTL(r, ...) run_prog((r), "pam_policyctl", true, (const char *const[]){ __VA_ARGS__, NULL })
#define CTL_BARE(r, ...) run_prog((r), "pam_policyctl", false, \
				  (const char *const[]){ __VA_ARGS__, NULL })

static void assert_contains(const char *hay, const char *needle)
{
	ck_assert_msg(strstr(hay, needle) != NULL, "expected \"%s\" in:\n%s", needle, hay);
}

static void daemon_setup(void)
{
	pp_err rc;

	harness_tmpdir(dir, sizeof(dir));
	ck_assert_msg(harness_daemon_start(&daemon_state, dir,
					   "max_age_days = 90\nwarn_days = 14\nhistory = 5\n",
					   false),
		      "pam_policyd did not start");
	rc = request_record(daemon_state.socket, 5000, "alice", PW_ALICE, 5, "test");
	ck_assert_msg(rc == PP_OK, "record alice: %s", pp_strerror(rc));
}

static void daemon_teardown(void)
{
	harness_daemon_stop(&daemon_state);
	harness_rmtree(dir);
}

/*
 * The command names "pam_policyctl --help" lists: the first word of every
 * line indented by exactly two spaces between "commands:" and "options:".
 * Returns how many (at most max) were stored in names (malloc'd).
 */
static size_t listed_commands(const char *help, char **names, size_t max)
{
	const char *line = strstr(help, "\ncommands:\n");
	size_t n = 0;

	ck_assert_ptr_nonnull(line);
	line = strchr(line + 1, '\n') + 1;
	while (*line != '\0' && strncmp(line, "options:", 8) != 0 && n < max) {
		if (line[0] == ' ' && line[1] == ' ' && islower((unsigned char)line[2])) {
			size_t len = strcspn(line + 2, " \n");
			names[n++] = strndup(line + 2, len);
		}
		line = strchr(line, '\n');
		if (line == NULL)
			break;
		line++;
	}
	return n;
}

/* ---- --help ---- */

START_TEST(test_help_lists_commands)
{
	struct run r;
	char *names[64];
	size_t n;

	CTL_BARE(&r, "--help");
	ck_assert_msg(r.status == 0, "--help: %d %s", r.status, r.err);
	ck_assert_str_eq(r.err, "");
	ck_assert_msg(strncmp(r.out, "usage: pam_policyctl ", 21) == 0, "%s", r.out);
	assert_contains(r.out, "COMMAND --help");
	n = listed_commands(r.out, names, 64);
	for (int k = 0; known_commands[k] != NULL; k++) {
		bool found = false;
		for (size_t i = 0; i < n; i++)
			found = found || strcmp(names[i], known_commands[k]) == 0;
		ck_assert_msg(found, "--help does not list %s:\n%s", known_commands[k], r.out);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	run_free(&r);
}
END_TEST

/* Every listed command: "CMD --help" and "CMD -h" print its usage, exit 0. */
START_TEST(test_every_command_help)
{
	static const char *const forms[] = { "--help", "-h" };
	struct run r;
	char *names[64], want[128];
	size_t n;

	CTL_BARE(&r, "--help");
	n = listed_commands(r.out, names, 64);
	run_free(&r);
	ck_assert_uint_ge(n, 10);
	for (size_t i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "usage: pam_policyctl [options] %s", names[i]);
		for (size_t f = 0; f < 2; f++) {
			/* A dead socket: help never asks the daemon. */
			CTL_BARE(&r, "--socket", "/nonexistent/sock", names[i], forms[f]);
			ck_assert_msg(r.status == 0, "%s %s: exit %d\n%s%s", names[i], forms[f],
				      r.status, r.out, r.err);
			ck_assert_msg(r.err[0] == '\0', "%s %s wrote to stderr: %s", names[i],
				      forms[f], r.err);
			ck_assert_msg(strncmp(r.out, want, strlen(want)) == 0,
				      "%s %s: expected \"%s...\", got:\n%s", names[i], forms[f],
				      want, r.out);
			run_free(&r);
		}
		free(names[i]);
	}
	/* After other arguments too, and for "audit verify". */
	CTL(&r, "status", "alice", "--help");
	ck_assert_int_eq(r.status, 0);
	assert_contains(r.out, "usage: pam_policyctl [options] status");
	run_free(&r);
	CTL(&r, "audit", "verify", "--help");
	ck_assert_int_eq(r.status, 0);
	assert_contains(r.out, "audit verify [--format text|json] [FILE...]");
	run_free(&r);
	CTL(&r, "report", "--format", "json", "--help");
	ck_assert_int_eq(r.status, 0);
	assert_contains(r.out, "--expiring-within DAYS");
	run_free(&r);
	/* An unknown command stays an error, --help or not. */
	CTL(&r, "bogus", "--help");
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.out, "");
	assert_contains(r.err, "pam_policyctl: unknown command \"bogus\"");
	run_free(&r);
}
END_TEST

/* ---- --format json ---- */

START_TEST(test_json_checker)
{
	static const char *const good[] = {
		"{}", " [] \n", "{\"a\":[1,-2.5e+3,0,true,false,null,\"x\\u00e9\\n\"]}",
		"\"\xc3\xa9\"", "0", "[{\"k\":{}}]",
	};
	static const char *const bad[] = {
		"", "{", "{}{}", "[1,]", "{\"a\":1,}", "{'a':1}", "[01]", "[1.]",
		"[\"\x01\"]", "[\"\\x\"]", "[\"\xc3\"]", "[\"\xc0\xaf\"]", "{\"a\" 1}",
		"[tru]", "[NaN]", "{1:2}", "[\"a\"\"b\"]",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(is_json(good[i]), "rejected good JSON %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!is_json(bad[i]), "accepted bad JSON %s", bad[i]);
}
END_TEST

START_TEST(test_json_status)
{
	struct run r;

	CTL(&r, "status", "--format", "json", "alice");
	ck_assert_msg(r.status == 0, "status: %d %s", r.status, r.err);
	assert_json(r.out, "status --format json");
	assert_contains(r.out, "\"user\":\"alice\"");
	assert_contains(r.out, "\"policy_applies\":true");
	assert_contains(r.out, "\"state\":\"ok\"");
	assert_contains(r.out, "\"days_left\":");
	assert_contains(r.out, "\"must_change\":false");
	assert_contains(r.out, "\"history\":1");
	run_free(&r);

	/* An error: nothing on stdout, the message on stderr. */
	CTL(&r, "status", "--format", "json", "nosuchuser");
	ck_assert_int_eq(r.status, 5);
	ck_assert_str_eq(r.out, "");
	assert_contains(r.err, "pam_policyctl: ");
	run_free(&r);

	CTL(&r, "status", "--format", "text", "alice");
	ck_assert_int_eq(r.status, 0);
	assert_contains(r.out, "Policy applies:");
	run_free(&r);
}
END_TEST

START_TEST(test_json_policy)
{
	struct run r;
	char want[4400];

	CTL(&r, "policy", "--format", "json");
	ck_assert_msg(r.status == 0, "policy: %d %s", r.status, r.err);
	assert_json(r.out, "policy --format json");
	snprintf(want, sizeof(want), "{\"file\":\"%s\",\"options\":{", daemon_state.config);
	assert_contains(r.out, want);
	assert_contains(r.out, "\"max_age_days\":{\"value\":\"90\",\"source\":\"file\"}");
	assert_contains(r.out, "\"minlen\":{\"value\":");
	run_free(&r);

	/* A configuration that does not exist: the default file may be missing. */
	CTL_BARE(&r, "policy", "--format=json");
	ck_assert_int_le(r.status, 6);
	if (r.status == 0)
		assert_json(r.out, "policy --format=json (default file)");
	run_free(&r);
}
END_TEST

START_TEST(test_json_doctor)
{
	struct run r;
	char pam[4300], path[4400];
	const char *problems;

	snprintf(pam, sizeof(pam), "%s/pam.d", dir);
	mkdir(pam, 0755);
	snprintf(path, sizeof(path), "%s/common-password", pam);
	/* A stack with a problem (no record line) and a quote in a finding. */
	harness_write(path, "password requisite pam_policy.so\n"
		      "password [success=1 default=ignore] pam_unix.so use_authtok\n"
		      "password requisite pam_deny.so\n"
		      "account required pam_policy.so\n");
	CTL(&r, "doctor", "--format", "json", "--pam-dir", pam);
	ck_assert_msg(r.status == 1, "doctor: %d\n%s%s", r.status, r.out, r.err);
	assert_json(r.out, "doctor --format json");
	ck_assert_msg(strncmp(r.out, "{\"findings\":[", 13) == 0, "%s", r.out);
	assert_contains(r.out, "{\"level\":\"ok\",\"text\":\"pam_policyd is reachable");
	assert_contains(r.out, "{\"level\":\"problem\",\"text\":");
	problems = strstr(r.out, "],\"problems\":");
	ck_assert_ptr_nonnull(problems);
	ck_assert_int_gt(atoi(problems + strlen("],\"problems\":")), 0);
	/* No text line after the document. */
	ck_assert_ptr_null(strstr(r.out, "problems found"));
	run_free(&r);

	/* --pam-dir and --format in the other order, an unreadable directory. */
	CTL(&r, "doctor", "--pam-dir", "/nonexistent", "--format", "json");
	ck_assert_int_eq(r.status, 1);
	assert_json(r.out, "doctor --format json (no pam dir)");
	run_free(&r);
}
END_TEST

START_TEST(test_json_audit_verify)
{
	struct run r;
	char copy[4300];
	char *text, *ev;

	CTL(&r, "audit", "verify", "--format", "json");
	ck_assert_msg(r.status == 0, "verify: %d %s %s", r.status, r.out, r.err);
	assert_json(r.out, "audit verify --format json");
	ck_assert_msg(strncmp(r.out, "{\"result\":\"clean\",\"files\":[", 27) == 0, "%s",
		      r.out);
	assert_contains(r.out, "\"break\":null}");
	run_free(&r);

	/* One byte of line 2 changed: "edited", exit 1, still one document. */
	text = harness_read(daemon_state.audit);
	ck_assert_ptr_nonnull(text);
	ev = strchr(text, '\n');
	ck_assert_ptr_nonnull(ev);
	ev = strstr(ev, "\"event\":\"");
	ck_assert_ptr_nonnull(ev);
	ev += strlen("\"event\":\"");
	*ev = *ev == 'x' ? 'y' : 'x';
	snprintf(copy, sizeof(copy), "%s/tampered \"copy\".log", dir);
	harness_write(copy, text);
	free(text);
	CTL(&r, "audit", "verify", "--format", "json", copy);
	ck_assert_int_eq(r.status, 1);
	assert_json(r.out, "audit verify --format json (tampered)");
	assert_contains(r.out, "{\"result\":\"edited\"");
	assert_contains(r.out, "\"break\":{\"file\":");
	assert_contains(r.out, "\"line\":2,\"problem\":\"edited\"");
	run_free(&r);

	CTL(&r, "audit", "verify", "--format", "xml");
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.out, "");
	run_free(&r);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_errors_prefixed)
{
	static const struct {
		const char *args[6];
		int status;
	} cases[] = {
		{ { NULL }, 2 },
		{ { "bogus" }, 2 },
		{ { "--bogus", "status" }, 2 },
		{ { "-x", "status" }, 2 },
		{ { "-c" }, 2 },
		{ { "--socket" }, 2 },
		{ { "report", "--foo" }, 2 },
		{ { "report", "--format" }, 2 },
		{ { "report", "--format", "yaml" }, 2 },
		{ { "review", "--bogus" }, 2 },
		{ { "doctor", "--bogus" }, 2 },
		{ { "doctor", "--pam-dir" }, 2 },
		{ { "status", "--format", "xml" }, 2 },
		{ { "status", "--bogus" }, 2 },
		{ { "status", "a", "b" }, 2 },
		{ { "policy", "extra" }, 2 },
		{ { "policy", "--format" }, 2 },
		{ { "audit" }, 2 },
		{ { "audit", "verify", "--bogus" }, 2 },
		{ { "expire" }, 2 },
		{ { "forget" }, 2 },
		{ { "backup" }, 2 },
		{ { "reopen", "now" }, 2 },
		{ { "status", "nosuchuser" }, 5 },
		{ { "--socket", "/nonexistent/sock", "status", "alice" }, 3 },
		{ { "-c", "/nonexistent/pam_policy.conf", "policy" }, 6 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *args[10];
		struct run r;
		int n = 0;

		/* Cases that set -c themselves run without the test's -c. */
		bool own_config = cases[i].args[0] != NULL &&
				  strcmp(cases[i].args[0], "-c") == 0;
		for (int k = 0; k < 6 && cases[i].args[k] != NULL; k++)
			args[n++] = cases[i].args[k];
		args[n] = NULL;
		run_prog(&r, "pam_policyctl", !own_config, args);
		ck_assert_msg(r.status == cases[i].status, "case %zu (%s ...): exit %d, want %d\n%s",
			      i, args[0] ? args[0] : "(none)", r.status, cases[i].status, r.err);
		ck_assert_msg(strncmp(r.err, "pam_policyctl: ", 15) == 0,
			      "case %zu (%s %s): stderr does not start with \"pam_policyctl: \":\n%s",
			      i, args[0] ? args[0] : "(none)", args[0] && args[1] ? args[1] : "",
			      r.err);
		/* getopt's own words ("report: unrecognized option") never show. */
		ck_assert_msg(strstr(r.err, "unrecognized option") == NULL &&
			      strstr(r.err, "requires an argument") == NULL,
			      "case %zu: getopt's message:\n%s", i, r.err);
		run_free(&r);
	}
}
END_TEST

/* ---- one version ---- */

/* The n-th (0-based) argument of a roff request line, quotes removed. */
static bool roff_arg(const char *line, int n, char *out, size_t len)
{
	const char *p = line;

	while (*p != '\0' && *p != ' ')
		p++;                          /* the request itself */
	for (int i = 0; i <= n; i++) {
		size_t k = 0;

		while (*p == ' ')
			p++;
		if (*p == '\0' || *p == '\n')
			return false;
		if (*p == '"') {
			p++;
			while (*p != '\0' && *p != '"' && *p != '\n') {
				if (k + 1 < len)
					out[k++] = *p;
				p++;
			}
			if (*p == '"')
				p++;
		} else {
			while (*p != '\0' && *p != ' ' && *p != '\n') {
				if (k + 1 < len)
					out[k++] = *p;
				p++;
			}
		}
		out[k] = '\0';
	}
	return true;
}

static char *read_top(const char *rel)
{
	char path[4200];
	char *text;

	snprintf(path, sizeof(path), "%s/%s", harness_top(), rel);
	text = harness_read(path);
	ck_assert_msg(text != NULL, "cannot read %s", path);
	return text;
}

START_TEST(test_version_one_place)
{
	struct run r;

	CTL_BARE(&r, "--version");
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "pam_policyctl " PAM_POLICY_VERSION "\n");
	run_free(&r);
	run_prog(&r, "pam_policyd", false, (const char *const[]){ "--version", NULL });
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "pam_policyd " PAM_POLICY_VERSION "\n");
	run_free(&r);

	for (int i = 0; man_pages[i] != NULL; i++) {
		char *text = read_top(man_pages[i]);
		char *th = strstr(text, "\n.TH ");
		char date[64], source[64];
		struct tm tm;
		const char *end;

		ck_assert_msg(th != NULL, "%s: no .TH", man_pages[i]);
		ck_assert_msg(roff_arg(th + 1, 2, date, sizeof(date)) &&
			      roff_arg(th + 1, 3, source, sizeof(source)),
			      "%s: .TH needs a date and a source", man_pages[i]);
		memset(&tm, 0, sizeof(tm));
		end = strptime(date, "%Y-%m-%d", &tm);
		ck_assert_msg(strlen(date) == 10 && end != NULL && *end == '\0',
			      "%s: .TH date \"%s\" is not YYYY-MM-DD", man_pages[i], date);
		ck_assert_msg(strcmp(source, "pam_policy " PAM_POLICY_VERSION) == 0,
			      "%s: .TH source \"%s\", but the build is version %s (Makefile "
			      "VERSION): update the .TH line", man_pages[i], source,
			      PAM_POLICY_VERSION);
		free(text);
	}

	/* NEWS: the newest entry (the first "pam_policy X" heading) is this version. */
	{
		char *news = read_top("NEWS");
		const char *h = strstr(news, "\npam_policy ");
		char want[64];

		ck_assert_ptr_nonnull(h);
		snprintf(want, sizeof(want), "\npam_policy %s ", PAM_POLICY_VERSION);
		ck_assert_msg(strncmp(h, want, strlen(want)) == 0,
			      "NEWS: the newest entry is not %s:\n%.80s", PAM_POLICY_VERSION, h + 1);
		free(news);
	}
}
END_TEST

/*
 * man-pages(7): the standard sections in this order; other sections may
 * sit between them (after DESCRIPTION). ENVIRONMENT where variables matter.
 */
START_TEST(test_man_sections)
{
	static const char *const order[] = {
		"NAME", "SYNOPSIS", "CONFIGURATION", "DESCRIPTION", "OPTIONS",
		"EXIT STATUS", "RETURN VALUE", "RETURN VALUES", "ERRORS", "ENVIRONMENT",
		"FILES", "VERSIONS", "ATTRIBUTES", "STANDARDS", "HISTORY", "NOTES",
		"CAVEATS", "BUGS", "EXAMPLES", "AUTHORS", "REPORTING BUGS", "COPYRIGHT",
		"SEE ALSO", NULL,
	};

	for (int i = 0; man_pages[i] != NULL; i++) {
		char *text = read_top(man_pages[i]);
		int last = -1;
		bool env = false;
		char name[128];

		for (char *line = text; line != NULL; line = strchr(line, '\n')) {
			if (*line == '\n')
				line++;
			if (strncmp(line, ".SH ", 4) != 0)
				continue;
			/* The whole heading: .SH SEE ALSO and .SH "SEE ALSO" alike. */
			{
				const char *h = line + 4;
				size_t len = strcspn(h, "\n");

				if (len >= 2 && h[0] == '"' && h[len - 1] == '"') {
					h++;
					len -= 2;
				}
				snprintf(name, sizeof(name), "%.*s", (int)len, h);
			}
			for (int k = 0; order[k] != NULL; k++) {
				if (strcmp(order[k], name) != 0)
					continue;
				ck_assert_msg(k > last, "%s: .SH %s is out of man-pages(7) order",
					      man_pages[i], name);
				last = k;
			}
			env = env || strcmp(name, "ENVIRONMENT") == 0;
		}
		ck_assert_msg(last >= 0 && strcmp(order[last], "SEE ALSO") == 0,
			      "%s: SEE ALSO must be the last standard section", man_pages[i]);
		if (strstr(man_pages[i], "pam_policyd") || strstr(man_pages[i], "pam_policyctl"))
			ck_assert_msg(env, "%s: no ENVIRONMENT section", man_pages[i]);
		free(text);
	}
	{
		char *d = read_top("man/pam_policyd.8");
		assert_contains(d, "NOTIFY_SOCKET");
		free(d);
	}
}
END_TEST

/* ---- completion and logrotate ---- */

START_TEST(test_completion_and_logrotate)
{
	struct run r;
	char *names[64], *comp, *rot, *post, want[80];
	size_t n;

	comp = read_top("conf/bash-completion/pam_policyctl");
	assert_contains(comp, "complete -F _pam_policyctl pam_policyctl");
	CTL_BARE(&r, "--help");
	n = listed_commands(r.out, names, 64);
	run_free(&r);
	for (size_t i = 0; i < n; i++) {
		/* Each command is a word of the completion's command list. */
		snprintf(want, sizeof(want), " %s ", names[i]);
		ck_assert_msg(strstr(comp, want) != NULL,
			      "conf/bash-completion/pam_policyctl does not complete \"%s\"",
			      names[i]);
		free(names[i]);
	}
	free(comp);

	rot = read_top("conf/logrotate.d/pam_policy");
	post = strstr(rot, "postrotate");
	ck_assert_ptr_nonnull(post);
	assert_contains(post, "pam_policyctl reopen");
	ck_assert_msg(strstr(post, "pkill") == NULL && strstr(post, "killall") == NULL &&
		      strstr(post, "kill -HUP") == NULL && strstr(post, "kill -s HUP") == NULL,
		      "postrotate signals by name:\n%s", post);
	free(rot);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("cli_script");
	TCase *cli = tcase_create("cli");
	TCase *files = tcase_create("files");

	tcase_add_unchecked_fixture(cli, daemon_setup, daemon_teardown);
	tcase_set_timeout(cli, 120);
	tcase_add_test(cli, test_help_lists_commands);
	tcase_add_test(cli, test_every_command_help);
	tcase_add_test(cli, test_json_status);
	tcase_add_test(cli, test_json_policy);
	tcase_add_test(cli, test_json_doctor);
	tcase_add_test(cli, test_json_audit_verify);
	tcase_add_test(cli, test_errors_prefixed);
	tcase_add_test(cli, test_version_one_place);
	tcase_add_test(cli, test_completion_and_logrotate);
	suite_add_tcase(s, cli);

	tcase_add_test(files, test_json_checker);
	tcase_add_test(files, test_man_sections);
	suite_add_tcase(s, files);
	return s;
}
