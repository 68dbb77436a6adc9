/*
 * test_policy.c - unit tests for lib/policy.c: defaults, the configuration
 * file, module arguments, precedence, value syntax and error text.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "policy.h"

/* A private directory per test, made by the fixture. */
static char tmpdir[200];

static void setup_tmpdir(void)
{
	harness_tmpdir(tmpdir, sizeof(tmpdir));
}

static void teardown_tmpdir(void)
{
	harness_rmtree(tmpdir);
}

/* Write text to tmpdir/name; the path is returned in a static buffer. */
static const char *conf_write(const char *name, const char *text)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	harness_write(path, text);
	return path;
}

/* Write len raw bytes (which may contain NULs) to tmpdir/name. */
static const char *conf_write_bytes(const char *name, const char *bytes, size_t len)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* Load one file into a defaulted policy; returns the error code. */
static pp_err load(struct policy *p, const char *path, char *err)
{
	policy_defaults(p);
	err[0] = '\0';
	return policy_load_file(p, path, true, err, POLICY_ERR_LEN);
}

/* Set one option from a module argument; returns the error code. */
static pp_err set_arg(struct policy *p, const char *key, const char *value, char *err)
{
	err[0] = '\0';
	return policy_set(p, key, value, POLICY_SOURCE_ARGUMENT, err, POLICY_ERR_LEN);
}

/* Run policy_from_args with no file; returns the error code. */
static pp_err from_args(struct policy *p, int argc, const char **argv, char *err)
{
	err[0] = '\0';
	return policy_from_args(p, argc, argv, NULL, NULL, err, POLICY_ERR_LEN);
}

/* The configuration-file form of one option, in a static buffer. */
static const char *formatted(const struct policy *p, enum policy_option opt)
{
	static char buf[POLICY_MAX_LIST];

	policy_format_value(p, opt, buf, sizeof(buf));
	return buf;
}

/* ---- defaults ---------------------------------------------------------- */

START_TEST(test_defaults_values)
{
	struct policy p;

	policy_defaults(&p);
	ck_assert_int_eq(p.minlen, 10);
	ck_assert_uint_eq(p.require, POLICY_CLASS_ALL);
	ck_assert_uint_eq(p.require, POLICY_CLASS_UPPER | POLICY_CLASS_LOWER |
				     POLICY_CLASS_DIGIT | POLICY_CLASS_SPECIAL);
	ck_assert_int_eq(p.retry, 3);
	ck_assert(p.enforce_for_root);
	ck_assert_int_eq(p.history, 24);
	ck_assert_int_eq(p.min_age_days, 1);
	ck_assert_int_eq(p.max_age_days, 90);
	ck_assert_int_eq(p.warn_days, 14);
	ck_assert_int_eq(p.timeout_ms, 5000);
	ck_assert_int_eq(p.on_unreachable, POLICY_UNREACHABLE_DENY);
	ck_assert_int_eq(p.on_unreachable_account, POLICY_UNREACHABLE_ALLOW);
	ck_assert_int_eq(p.min_uid, 1000);
	ck_assert_str_eq(p.socket, "/run/pam_policy/pam_policyd.sock");
	ck_assert_str_eq(p.socket, POLICY_DEFAULT_SOCKET);
	ck_assert_str_eq(p.state_dir, POLICY_DEFAULT_STATE_DIR);
	ck_assert_str_eq(p.audit_log, POLICY_DEFAULT_AUDIT_LOG);
	ck_assert_str_eq(p.audit_group, POLICY_DEFAULT_AUDIT_GROUP);
	ck_assert_str_eq(p.shadow_file, POLICY_DEFAULT_SHADOW_FILE);
	ck_assert_str_eq(p.exempt_users, "");
	ck_assert_str_eq(p.exempt_groups, "");
	ck_assert(!p.use_authtok);
	ck_assert(!p.debug);
	ck_assert_str_eq(p.file, "");
}
END_TEST

START_TEST(test_defaults_sources)
{
	struct policy p;

	policy_defaults(&p);
	for (int i = 0; i < POLICY_OPT_COUNT; i++) {
		ck_assert_msg(p.source[i] == POLICY_SOURCE_DEFAULT,
			      "option %s", policy_option_name((enum policy_option)i));
		ck_assert_str_eq(policy_source_name(p.source[i]), "default");
	}
}
END_TEST

START_TEST(test_defaults_formatted)
{
	struct policy p;

	policy_defaults(&p);
	ck_assert_str_eq(formatted(&p, POLICY_OPT_MINLEN), "10");
	ck_assert_str_eq(formatted(&p, POLICY_OPT_REQUIRE), "all");
	ck_assert_str_eq(formatted(&p, POLICY_OPT_ENFORCE_FOR_ROOT), "yes");
	ck_assert_str_eq(formatted(&p, POLICY_OPT_ON_UNREACHABLE), "deny");
	ck_assert_str_eq(formatted(&p, POLICY_OPT_ON_UNREACHABLE_ACCOUNT), "allow");
	ck_assert_str_eq(formatted(&p, POLICY_OPT_MIN_UID), "1000");
	ck_assert_str_eq(formatted(&p, POLICY_OPT_SOCKET), POLICY_DEFAULT_SOCKET);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(policy_option_name(POLICY_OPT_MINLEN), "minlen");
	ck_assert_str_eq(policy_option_name(POLICY_OPT_ON_UNREACHABLE_ACCOUNT),
			 "on_unreachable_account");
	ck_assert_str_eq(policy_option_name(POLICY_OPT_SHADOW_FILE), "shadow_file");
	ck_assert_str_eq(policy_option_name(POLICY_OPT_COUNT), "?");
	ck_assert_str_eq(policy_source_name(POLICY_SOURCE_DEFAULT), "default");
	ck_assert_str_eq(policy_source_name(POLICY_SOURCE_FILE), "file");
	ck_assert_str_eq(policy_source_name(POLICY_SOURCE_ARGUMENT), "argument");
}
END_TEST

/* ---- the configuration file ------------------------------------------- */

START_TEST(test_file_comments_blanks_spaces)
{
	struct policy p;
	char err[POLICY_ERR_LEN];
	const char *path;

	path = conf_write("pp.conf",
		"# pam_policy configuration\n"
		"\n"
		"   \n"
		"minlen = 14   # trailing comment\n"
		"\t# indented comment\n"
		"retry=5\n"
		"  history\t=\t12  \n"
		"enforce_for_root = no # root only warned\n"
		"socket = /tmp/pp.sock\r\n"
		"on_unreachable = allow\n");
	ck_assert_int_eq(load(&p, path, err), PP_OK);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(p.minlen, 14);
	ck_assert_int_eq(p.retry, 5);
	ck_assert_int_eq(p.history, 12);
	ck_assert(!p.enforce_for_root);
	ck_assert_str_eq(p.socket, "/tmp/pp.sock");
	ck_assert_int_eq(p.on_unreachable, POLICY_UNREACHABLE_ALLOW);
	ck_assert_int_eq(p.source[POLICY_OPT_MINLEN], POLICY_SOURCE_FILE);
	ck_assert_int_eq(p.source[POLICY_OPT_RETRY], POLICY_SOURCE_FILE);
	ck_assert_int_eq(p.source[POLICY_OPT_HISTORY], POLICY_SOURCE_FILE);
	ck_assert_int_eq(p.source[POLICY_OPT_ENFORCE_FOR_ROOT], POLICY_SOURCE_FILE);
	ck_assert_int_eq(p.source[POLICY_OPT_SOCKET], POLICY_SOURCE_FILE);
	ck_assert_int_eq(p.source[POLICY_OPT_ON_UNREACHABLE], POLICY_SOURCE_FILE);
	/* untouched options keep their default value and source */
	ck_assert_int_eq(p.max_age_days, 90);
	ck_assert_int_eq(p.source[POLICY_OPT_MAX_AGE_DAYS], POLICY_SOURCE_DEFAULT);
	ck_assert_int_eq(p.source[POLICY_OPT_WARN_DAYS], POLICY_SOURCE_DEFAULT);
	ck_assert_str_eq(p.file, path);
}
END_TEST

START_TEST(test_file_empty_file)
{
	struct policy p;
	char err[POLICY_ERR_LEN];
	const char *path = conf_write("empty.conf", "");

	ck_assert_int_eq(load(&p, path, err), PP_OK);
	ck_assert_int_eq(p.minlen, 10);
	ck_assert_str_eq(p.file, path);
}
END_TEST

START_TEST(test_file_last_line_without_newline)
{
	struct policy p;
	char err[POLICY_ERR_LEN];
	const char *path = conf_write("p.conf", "minlen = 20");

	ck_assert_int_eq(load(&p, path, err), PP_OK);
	ck_assert_int_eq(p.minlen, 20);
}
END_TEST

START_TEST(test_file_hash_inside_value_is_not_comment)
{
	struct policy p;
	char err[POLICY_ERR_LEN];
	/* '#' only starts a comment at line start or after white space */
	const char *path = conf_write("p.conf", "minlen = 12#x\n");

	ck_assert_int_eq(load(&p, path, err), PP_ERR_CONFIG);
	ck_assert_str_eq(err + strlen(path),
			 ":1: minlen: expected a number from 6 to 256, got \"12#x\"");
}
END_TEST

START_TEST(test_file_bad_number_error_text)
{
	struct policy p;
	char err[POLICY_ERR_LEN], want[POLICY_ERR_LEN];
	const char *path = conf_write("p.conf",
		"# comment\n"
		"retry = 4\n"
		"minlen = ten\n"
		"history = 5\n");

	ck_assert_int_eq(load(&p, path, err), PP_ERR_CONFIG);
	snprintf(want, sizeof(want),
		 "%s:3: minlen: expected a number from 6 to 256, got \"ten\"", path);
	ck_assert_str_eq(err, want);
	/* p->file is only set on success */
	ck_assert_str_eq(p.file, "");
}
END_TEST

START_TEST(test_file_unknown_key)
{
	struct policy p;
	char err[POLICY_ERR_LEN], want[POLICY_ERR_LEN];
	const char *path = conf_write("p.conf", "minlen = 12\n\nfoo = bar\n");

	ck_assert_int_eq(load(&p, path, err), PP_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s:3: foo: unknown option", path);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_file_key_is_case_sensitive)
{
	struct policy p;
	char err[POLICY_ERR_LEN], want[POLICY_ERR_LEN];
	const char *path = conf_write("p.conf", "MinLen = 12\n");

	ck_assert_int_eq(load(&p, path, err), PP_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s:1: MinLen: unknown option", path);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_file_line_without_equals)
{
	struct policy p;
	char err[POLICY_ERR_LEN], want[POLICY_ERR_LEN];
	const char *path = conf_write("p.conf", "minlen = 12\nminlen 12\n");

	ck_assert_int_eq(load(&p, path, err), PP_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s:2: minlen 12: expected \"key = value\"", path);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_file_empty_value)
{
	struct policy p;
	char err[POLICY_ERR_LEN], want[POLICY_ERR_LEN];
	const char *path = conf_write("p.conf", "minlen =   \n");

	ck_assert_int_eq(load(&p, path, err), PP_ERR_CONFIG);
	snprintf(want, sizeof(want),
		 "%s:1: minlen: expected a number from 6 to 256, got \"\"", path);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_file_config_key_rejected)
{
	struct policy p;
	char err[POLICY_ERR_LEN], want[POLICY_ERR_LEN];
	const char *path = conf_write("p.conf", "minlen = 12\nconfig = /etc/other.conf\n");

	ck_assert_int_eq(load(&p, path, err), PP_ERR_CONFIG);
	snprintf(want, sizeof(want),
		 "%s:2: config: only allowed as a module argument", path);
	ck_assert_str_eq(err, want);
}
END_TEST

/* A line of n bytes: "# xxxx...\n" with the newline counted. */
static char *line_of(size_t n, bool newline)
{
	char *s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, 'x', n);
	s[0] = '#';
	s[1] = ' ';
	if (newline)
		s[n - 1] = '\n';
	s[n] = '\0';
	return s;
}

START_TEST(test_file_line_too_long)
{
	struct policy p;
	char err[POLICY_ERR_LEN], want[POLICY_ERR_LEN];
	char *text, *line = line_of(POLICY_MAX_LINE + 1, true);
	const char *path;

	ck_assert_int_ge(asprintf(&text, "minlen = 12\n%s", line), 0);
	path = conf_write("p.conf", text);
	ck_assert_int_eq(load(&p, path, err), PP_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s:2: line longer than 1024 bytes", path);
	ck_assert_str_eq(err, want);
	free(text);
	free(line);
}
END_TEST

START_TEST(test_file_long_value_line_too_long)
{
	struct policy p;
	char err[POLICY_ERR_LEN], want[POLICY_ERR_LEN];
	char *text, *pad = malloc(3000);
	const char *path;

	/* the tail past 1024 bytes must not be parsed as a new line */
	ck_assert_ptr_nonnull(pad);
	memset(pad, ' ', 2000);
	pad[2000] = '\0';
	ck_assert_int_ge(asprintf(&text, "exempt_users = alice%sminlen = 6\n", pad), 0);
	path = conf_write("p.conf", text);
	ck_assert_int_eq(load(&p, path, err), PP_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s:1: line longer than 1024 bytes", path);
	ck_assert_str_eq(err, want);
	free(text);
	free(pad);
}
END_TEST

START_TEST(test_file_line_at_limit)
{
	struct policy p;
	char err[POLICY_ERR_LEN];
	char *text, *line = line_of(POLICY_MAX_LINE, true);
	const char *path;

	/* exactly 1024 bytes, newline included, is accepted */
	ck_assert_int_ge(asprintf(&text, "%sminlen = 12\n", line), 0);
	path = conf_write("p.conf", text);
	ck_assert_int_eq(load(&p, path, err), PP_OK);
	ck_assert_int_eq(p.minlen, 12);
	free(text);
	free(line);
}
END_TEST

/* A final 1024-byte line without '\n' is within the limit. */
START_TEST(test_file_last_line_at_limit_without_newline)
{
	struct policy p;
	char err[POLICY_ERR_LEN];
	char *line = line_of(POLICY_MAX_LINE, false);
	const char *path = conf_write("p.conf", line);

	ck_assert_msg(load(&p, path, err) == PP_OK, "rejected: %s", err);
	free(line);
}
END_TEST

/* A NUL byte hides the rest of the line from string functions: reject it. */
START_TEST(test_file_nul_byte_rejected)
{
	static const char text[] = "minlen = 12\0 garbage\nretry = 4\n";
	struct policy p;
	char err[POLICY_ERR_LEN], want[POLICY_ERR_LEN];
	const char *path = conf_write_bytes("p.conf", text, sizeof(text) - 1);

	ck_assert_int_eq(load(&p, path, err), PP_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s:1: NUL byte in line", path);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_file_nul_byte_line_number)
{
	static const char text[] = "minlen = 12\nretry = 4\0\n";
	struct policy p;
	char err[POLICY_ERR_LEN], want[POLICY_ERR_LEN];
	const char *path = conf_write_bytes("p.conf", text, sizeof(text) - 1);

	ck_assert_int_eq(load(&p, path, err), PP_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s:2: NUL byte in line", path);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_stream)
{
	static const char text[] = "minlen = 13\n# c\nexempt_users = bob , alice\n";
	struct policy p;
	char err[POLICY_ERR_LEN];
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");

	ck_assert_ptr_nonnull(f);
	policy_defaults(&p);
	ck_assert_int_eq(policy_load_stream(&p, f, "<memory>", err, sizeof(err)), PP_OK);
	ck_assert_int_eq(p.minlen, 13);
	ck_assert_str_eq(p.exempt_users, "bob,alice");
	ck_assert_int_eq(p.source[POLICY_OPT_MINLEN], POLICY_SOURCE_FILE);
	ck_assert_str_eq(p.file, "<memory>");
	/* the stream is left open for the caller */
	ck_assert_int_eq(fclose(f), 0);

	f = fmemopen((void *)"retry = 11\n", 11, "r");
	ck_assert_ptr_nonnull(f);
	policy_defaults(&p);
	ck_assert_int_eq(policy_load_stream(&p, f, "<memory>", err, sizeof(err)),
			 PP_ERR_CONFIG);
	ck_assert_str_eq(err, "<memory>:1: retry: expected a number from 1 to 10, got \"11\"");
	ck_assert_str_eq(p.file, "");
	ck_assert_int_eq(fclose(f), 0);
}
END_TEST

START_TEST(test_file_missing)
{
	struct policy p;
	char err[POLICY_ERR_LEN], want[POLICY_ERR_LEN], path[256];

	snprintf(path, sizeof(path), "%s/absent.conf", tmpdir);
	policy_defaults(&p);
	err[0] = '\0';
	ck_assert_int_eq(policy_load_file(&p, path, false, err, sizeof(err)), PP_OK);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(p.file, "");
	ck_assert_int_eq(policy_load_file(&p, path, true, err, sizeof(err)), PP_ERR_IO);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_file_null_error_buffer)
{
	struct policy p;
	const char *path = conf_write("p.conf", "minlen = ten\n");

	policy_defaults(&p);
	ck_assert_int_eq(policy_load_file(&p, path, true, NULL, 0), PP_ERR_CONFIG);
}
END_TEST

START_TEST(test_file_error_truncated_to_buffer)
{
	struct policy p;
	char err[16];
	const char *path = conf_write("p.conf", "minlen = ten\n");

	memset(err, 'Z', sizeof(err));
	policy_defaults(&p);
	ck_assert_int_eq(policy_load_file(&p, path, true, err, sizeof(err)), PP_ERR_CONFIG);
	ck_assert_uint_eq(strlen(err), sizeof(err) - 1);
	ck_assert(strncmp(err, path, sizeof(err) - 1) == 0);
}
END_TEST

/* ---- integers ---------------------------------------------------------- */

START_TEST(test_int_range_rejected_not_clamped)
{
	struct policy p;
	char err[POLICY_ERR_LEN];

	policy_defaults(&p);
	ck_assert_int_eq(set_arg(&p, "minlen", "5", err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "minlen: expected a number from 6 to 256, got \"5\"");
	ck_assert_int_eq(p.minlen, 10);
	ck_assert_int_eq(p.source[POLICY_OPT_MINLEN], POLICY_SOURCE_DEFAULT);
	ck_assert_int_eq(set_arg(&p, "minlen", "257", err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "minlen: expected a number from 6 to 256, got \"257\"");
	ck_assert_int_eq(p.minlen, 10);
	ck_assert_int_eq(set_arg(&p, "minlen", "-6", err), PP_ERR_CONFIG);
	ck_assert_int_eq(set_arg(&p, "minlen", "99999999999999999999999", err),
			 PP_ERR_CONFIG);
	ck_assert_int_eq(p.minlen, 10);
	/* the bounds themselves are accepted */
	ck_assert_int_eq(set_arg(&p, "minlen", "6", err), PP_OK);
	ck_assert_int_eq(p.minlen, 6);
	ck_assert_int_eq(set_arg(&p, "minlen", "256", err), PP_OK);
	ck_assert_int_eq(p.minlen, 256);
	ck_assert_int_eq(p.source[POLICY_OPT_MINLEN], POLICY_SOURCE_ARGUMENT);
}
END_TEST

START_TEST(test_int_malformed_rejected)
{
	static const char *const bad[] = {
		"12abc", "", "+5", "+12", " 7", "7 ", "\t7", "0x10", "1e2", "12.0", "-", "ten",
	};
	struct policy p;
	char err[POLICY_ERR_LEN], want[POLICY_ERR_LEN];

	policy_defaults(&p);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(set_arg(&p, "minlen", bad[i], err) == PP_ERR_CONFIG,
			      "accepted \"%s\"", bad[i]);
		ck_assert_int_eq(p.minlen, 10);
	}
	ck_assert_int_eq(set_arg(&p, "minlen", "12abc", err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "minlen: expected a number from 6 to 256, got \"12abc\"");
	ck_assert_int_eq(set_arg(&p, "minlen", "", err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "minlen: expected a number from 6 to 256, got \"\"");
	ck_assert_int_eq(set_arg(&p, "minlen", "+5", err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "minlen: expected a number from 6 to 256, got \"+5\"");
	ck_assert_int_eq(set_arg(&p, "minlen", " 7", err), PP_ERR_CONFIG);
	snprintf(want, sizeof(want), "minlen: expected a number from 6 to 256, got \" 7\"");
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(p.source[POLICY_OPT_MINLEN], POLICY_SOURCE_DEFAULT);
}
END_TEST

START_TEST(test_int_other_ranges)
{
	struct policy p;
	char err[POLICY_ERR_LEN];

	policy_defaults(&p);
	ck_assert_int_eq(set_arg(&p, "retry", "0", err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "retry: expected a number from 1 to 10, got \"0\"");
	ck_assert_int_eq(set_arg(&p, "retry", "10", err), PP_OK);
	ck_assert_int_eq(p.retry, 10);
	ck_assert_int_eq(set_arg(&p, "history", "401", err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "history: expected a number from 0 to 400, got \"401\"");
	ck_assert_int_eq(set_arg(&p, "history", "0", err), PP_OK);
	ck_assert_int_eq(p.history, 0);
	ck_assert_int_eq(set_arg(&p, "timeout_ms", "99", err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "timeout_ms: expected a number from 100 to 60000, got \"99\"");
	ck_assert_int_eq(set_arg(&p, "min_uid", "4294967294", err), PP_OK);
	ck_assert_int_eq(p.min_uid, 4294967294L);
	ck_assert_int_eq(set_arg(&p, "min_uid", "4294967295", err), PP_ERR_CONFIG);
	ck_assert_str_eq(err,
		"min_uid: expected a number from 0 to 4294967294, got \"4294967295\"");
	ck_assert_int_eq(set_arg(&p, "argon2_memlimit_kib", "4194304", err), PP_OK);
	ck_assert_uint_eq(p.argon2_memlimit_kib, 4194304UL);
	ck_assert_int_eq(set_arg(&p, "argon2_opslimit", "65", err), PP_ERR_CONFIG);
	ck_assert_uint_eq(p.argon2_opslimit, 2);
}
END_TEST

/* ---- booleans ---------------------------------------------------------- */

START_TEST(test_bool_words)
{
	static const char *const yes[] = { "yes", "true", "on", "1", "YES", "True" };
	static const char *const no[] = { "no", "false", "off", "0", "NO", "Off" };
	struct policy p;
	char err[POLICY_ERR_LEN];

	policy_defaults(&p);
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		p.debug = false;
		ck_assert_int_eq(set_arg(&p, "debug", yes[i], err), PP_OK);
		ck_assert_msg(p.debug, "\"%s\" is not yes", yes[i]);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		p.debug = true;
		ck_assert_int_eq(set_arg(&p, "debug", no[i], err), PP_OK);
		ck_assert_msg(!p.debug, "\"%s\" is not no", no[i]);
	}
	ck_assert_int_eq(set_arg(&p, "debug", "maybe", err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "debug: expected yes or no, got \"maybe\"");
	ck_assert_int_eq(set_arg(&p, "debug", "", err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "debug: expected yes or no, got \"\"");
	ck_assert_int_eq(set_arg(&p, "debug", "2", err), PP_ERR_CONFIG);
}
END_TEST

START_TEST(test_bool_bare_argument)
{
	struct policy p;
	char err[POLICY_ERR_LEN];
	const char *argv[] = { "use_authtok", "debug" };

	ck_assert_int_eq(from_args(&p, 2, argv, err), PP_OK);
	ck_assert(p.use_authtok);
	ck_assert(p.debug);
	ck_assert_int_eq(p.source[POLICY_OPT_USE_AUTHTOK], POLICY_SOURCE_ARGUMENT);
	ck_assert_int_eq(p.source[POLICY_OPT_DEBUG], POLICY_SOURCE_ARGUMENT);
	ck_assert_str_eq(formatted(&p, POLICY_OPT_USE_AUTHTOK), "yes");
}
END_TEST

START_TEST(test_bool_bare_set)
{
	struct policy p;
	char err[POLICY_ERR_LEN];

	policy_defaults(&p);
	p.enforce_for_root = false;
	ck_assert_int_eq(set_arg(&p, "enforce_for_root", NULL, err), PP_OK);
	ck_assert(p.enforce_for_root);
}
END_TEST

START_TEST(test_bare_non_boolean_rejected)
{
	struct policy p;
	char err[POLICY_ERR_LEN];
	const char *argv[] = { "minlen" };

	ck_assert_int_eq(from_args(&p, 1, argv, err), PP_ERR_CONFIG);
	ck_assert_str_eq(err,
		"module argument: minlen: expected a number from 6 to 256, got no value");
	policy_defaults(&p);
	ck_assert_int_eq(set_arg(&p, "socket", NULL, err), PP_ERR_CONFIG);
	ck_assert_str_eq(err,
		"socket: expected an absolute path shorter than 256 bytes, got no value");
}
END_TEST

/* ---- require ----------------------------------------------------------- */

START_TEST(test_require_values)
{
	struct policy p;
	char err[POLICY_ERR_LEN];

	policy_defaults(&p);
	ck_assert_int_eq(set_arg(&p, "require", "upper,digit", err), PP_OK);
	ck_assert_uint_eq(p.require, POLICY_CLASS_UPPER | POLICY_CLASS_DIGIT);
	ck_assert_str_eq(formatted(&p, POLICY_OPT_REQUIRE), "upper,digit");
	ck_assert_int_eq(p.source[POLICY_OPT_REQUIRE], POLICY_SOURCE_ARGUMENT);

	ck_assert_int_eq(set_arg(&p, "require", "none", err), PP_OK);
	ck_assert_uint_eq(p.require, 0);
	ck_assert_str_eq(formatted(&p, POLICY_OPT_REQUIRE), "none");

	ck_assert_int_eq(set_arg(&p, "require", "all", err), PP_OK);
	ck_assert_uint_eq(p.require, POLICY_CLASS_ALL);
	ck_assert_str_eq(formatted(&p, POLICY_OPT_REQUIRE), "all");

	ck_assert_int_eq(set_arg(&p, "require", "upper, lower", err), PP_OK);
	ck_assert_uint_eq(p.require, POLICY_CLASS_UPPER | POLICY_CLASS_LOWER);
	ck_assert_str_eq(formatted(&p, POLICY_OPT_REQUIRE), "upper,lower");

	/* written out in table order, whatever order it was given in */
	ck_assert_int_eq(set_arg(&p, "require", "special,lower", err), PP_OK);
	ck_assert_str_eq(formatted(&p, POLICY_OPT_REQUIRE), "lower,special");

	/* all four classes listed are "all" */
	ck_assert_int_eq(set_arg(&p, "require", "digit,upper,special,lower", err), PP_OK);
	ck_assert_str_eq(formatted(&p, POLICY_OPT_REQUIRE), "all");
}
END_TEST

START_TEST(test_require_rejected)
{
	static const char *const bad[] = { "upper,symbol", "", ",", "upper;lower", "all,upper" };
	struct policy p;
	char err[POLICY_ERR_LEN];

	policy_defaults(&p);
	ck_assert_int_eq(set_arg(&p, "require", "upper,symbol", err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "require: expected all, none, or a list of upper, lower, "
			      "digit, special, got \"upper,symbol\"");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(set_arg(&p, "require", bad[i], err) == PP_ERR_CONFIG,
			      "accepted \"%s\"", bad[i]);
		ck_assert_uint_eq(p.require, POLICY_CLASS_ALL);
	}
	ck_assert_int_eq(p.source[POLICY_OPT_REQUIRE], POLICY_SOURCE_DEFAULT);
}
END_TEST

START_TEST(test_format_round_trip)
{
	struct policy a, b;
	char err[POLICY_ERR_LEN], value[POLICY_MAX_LIST];
	const char *argv[] = {
		"require=digit, special", "minlen=17", "exempt_users= alice ,bob",
		"enforce_for_root=off", "on_unreachable=allow", "socket=/tmp/x.sock",
		"min_uid=500", "audit_group=wheel", "argon2_opslimit=3",
	};

	ck_assert_int_eq(from_args(&a, 9, argv, err), PP_OK);
	policy_defaults(&b);
	for (int i = 0; i < POLICY_OPT_COUNT; i++) {
		enum policy_option opt = (enum policy_option)i;

		policy_format_value(&a, opt, value, sizeof(value));
		ck_assert_msg(policy_set(&b, policy_option_name(opt), value,
					 POLICY_SOURCE_FILE, err, sizeof(err)) == PP_OK,
			      "%s = %s: %s", policy_option_name(opt), value, err);
		ck_assert_str_eq(formatted(&b, opt), value);
	}
	ck_assert_uint_eq(b.require, POLICY_CLASS_DIGIT | POLICY_CLASS_SPECIAL);
	ck_assert_int_eq(b.minlen, 17);
	ck_assert_str_eq(b.exempt_users, "alice,bob");
	ck_assert(!b.enforce_for_root);
	ck_assert_int_eq(b.on_unreachable, POLICY_UNREACHABLE_ALLOW);
	ck_assert_str_eq(b.socket, "/tmp/x.sock");
	ck_assert_int_eq(b.min_uid, 500);
	ck_assert_str_eq(b.audit_group, "wheel");
	ck_assert_uint_eq(b.argon2_opslimit, 3);
}
END_TEST

START_TEST(test_format_small_buffer)
{
	struct policy p;
	char buf[4];

	policy_defaults(&p);
	p.require = POLICY_CLASS_UPPER | POLICY_CLASS_LOWER;
	memset(buf, 'Z', sizeof(buf));
	policy_format_value(&p, POLICY_OPT_REQUIRE, buf, sizeof(buf));
	ck_assert_str_eq(buf, "upp");
	policy_format_value(&p, POLICY_OPT_SOCKET, buf, sizeof(buf));
	ck_assert_str_eq(buf, "/ru");
	policy_format_value(&p, POLICY_OPT_COUNT, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
}
END_TEST

/* ---- lists ------------------------------------------------------------- */

START_TEST(test_list_normalised)
{
	struct policy p;
	char err[POLICY_ERR_LEN];

	policy_defaults(&p);
	ck_assert_int_eq(set_arg(&p, "exempt_users", "alice, bob", err), PP_OK);
	ck_assert_str_eq(p.exempt_users, "alice,bob");
	ck_assert_int_eq(set_arg(&p, "exempt_groups", " wheel ,\tadm,,svc-x ", err), PP_OK);
	ck_assert_str_eq(p.exempt_groups, "wheel,adm,svc-x");
	ck_assert_int_eq(set_arg(&p, "exempt_users", "", err), PP_OK);
	ck_assert_str_eq(p.exempt_users, "");
	ck_assert_int_eq(p.source[POLICY_OPT_EXEMPT_USERS], POLICY_SOURCE_ARGUMENT);
}
END_TEST

START_TEST(test_list_from_file)
{
	struct policy p;
	char err[POLICY_ERR_LEN];
	const char *path = conf_write("p.conf", "exempt_users = alice, bob   # admins\n");

	ck_assert_int_eq(load(&p, path, err), PP_OK);
	ck_assert_str_eq(p.exempt_users, "alice,bob");
	ck_assert_int_eq(p.source[POLICY_OPT_EXEMPT_USERS], POLICY_SOURCE_FILE);
}
END_TEST

START_TEST(test_list_rejected)
{
	static char too_long[POLICY_MAX_NAME + 2];   /* no room for the NUL */
	const char *const bad[] = {
		"alice bob", "-alice", "al/ice", "alice,b;ob", "al:ice", too_long,
	};
	struct policy p;
	char err[POLICY_ERR_LEN];

	memset(too_long, 'a', POLICY_MAX_NAME);
	too_long[POLICY_MAX_NAME] = '\0';

	policy_defaults(&p);
	ck_assert_int_eq(set_arg(&p, "exempt_users", "alice bob", err), PP_ERR_CONFIG);
	ck_assert_str_eq(err,
		"exempt_users: expected a comma-separated list of names, got \"alice bob\"");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(set_arg(&p, "exempt_users", bad[i], err) == PP_ERR_CONFIG,
			      "accepted \"%s\"", bad[i]);
		ck_assert_str_eq(p.exempt_users, "");
	}
	/* 31 bytes is the longest name */
	ck_assert_int_eq(set_arg(&p, "exempt_users", "abcdefghijklmnopqrstuvwxyz01234", err),
			 PP_OK);
	ck_assert_int_eq(set_arg(&p, "exempt_users", "svc$,a.b,c_d,e@f", err), PP_OK);
	ck_assert_str_eq(p.exempt_users, "svc$,a.b,c_d,e@f");
}
END_TEST

START_TEST(test_list_too_long)
{
	struct policy p;
	char err[POLICY_ERR_LEN];
	char value[POLICY_MAX_LIST * 2];
	size_t used = 0;

	/* 40 names of 30 bytes: 1239 bytes, more than the list holds */
	value[0] = '\0';
	for (int i = 0; i < 40; i++)
		used += (size_t)snprintf(value + used, sizeof(value) - used, "%s%030d",
					 i ? "," : "", i);
	policy_defaults(&p);
	ck_assert_int_eq(set_arg(&p, "exempt_users", value, err), PP_ERR_CONFIG);
	ck_assert_str_eq(p.exempt_users, "");
}
END_TEST

START_TEST(test_list_contains)
{
	ck_assert(policy_list_contains("alice,bob", "alice"));
	ck_assert(policy_list_contains("alice,bob", "bob"));
	ck_assert(!policy_list_contains("alice,bob", "al"));
	ck_assert(!policy_list_contains("alice,bob", "alicebob"));
	ck_assert(!policy_list_contains("alice,bob", "ob"));
	ck_assert(!policy_list_contains("alice,bob", "bo"));
	ck_assert(!policy_list_contains("alice,bob", "Alice"));
	ck_assert(!policy_list_contains("alice,bob", ""));
	ck_assert(!policy_list_contains("", "alice"));
	ck_assert(!policy_list_contains("alice,bob", "alice,bob"));
	ck_assert(policy_list_contains(" alice ,\tbob\t", "bob"));
	ck_assert(policy_list_contains(" alice ,\tbob\t", "alice"));
	ck_assert(policy_list_contains("a,,b", "b"));
	ck_assert(!policy_list_contains("a,,b", ","));
}
END_TEST

/* ---- enums, paths, names ---------------------------------------------- */

START_TEST(test_unreachable)
{
	struct policy p;
	char err[POLICY_ERR_LEN];

	policy_defaults(&p);
	ck_assert_int_eq(set_arg(&p, "on_unreachable", "allow", err), PP_OK);
	ck_assert_int_eq(p.on_unreachable, POLICY_UNREACHABLE_ALLOW);
	ck_assert_str_eq(formatted(&p, POLICY_OPT_ON_UNREACHABLE), "allow");
	ck_assert_int_eq(set_arg(&p, "on_unreachable", "deny", err), PP_OK);
	ck_assert_int_eq(p.on_unreachable, POLICY_UNREACHABLE_DENY);
	ck_assert_str_eq(formatted(&p, POLICY_OPT_ON_UNREACHABLE), "deny");
	ck_assert_int_eq(set_arg(&p, "on_unreachable_account", "deny", err), PP_OK);
	ck_assert_int_eq(p.on_unreachable_account, POLICY_UNREACHABLE_DENY);
	ck_assert_int_eq(set_arg(&p, "on_unreachable", "ignore", err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "on_unreachable: expected allow or deny, got \"ignore\"");
	ck_assert_int_eq(set_arg(&p, "on_unreachable", "yes", err), PP_ERR_CONFIG);
	ck_assert_int_eq(p.on_unreachable, POLICY_UNREACHABLE_DENY);
}
END_TEST

START_TEST(test_path_absolute)
{
	struct policy p;
	char err[POLICY_ERR_LEN], longpath[POLICY_MAX_PATH + 8];

	policy_defaults(&p);
	ck_assert_int_eq(set_arg(&p, "socket", "/tmp/s.sock", err), PP_OK);
	ck_assert_str_eq(p.socket, "/tmp/s.sock");
	ck_assert_int_eq(set_arg(&p, "socket", "run/s.sock", err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "socket: expected an absolute path shorter than 256 bytes, "
			      "got \"run/s.sock\"");
	ck_assert_str_eq(p.socket, "/tmp/s.sock");
	ck_assert_int_eq(set_arg(&p, "state_dir", "./state", err), PP_ERR_CONFIG);
	ck_assert_int_eq(set_arg(&p, "audit_log", "", err), PP_ERR_CONFIG);
	ck_assert_int_eq(set_arg(&p, "shadow_file", "/tmp/a b", err), PP_ERR_CONFIG);
	ck_assert_str_eq(p.shadow_file, POLICY_DEFAULT_SHADOW_FILE);

	/* 255 bytes fit, 256 do not */
	memset(longpath, 'a', sizeof(longpath));
	longpath[0] = '/';
	longpath[POLICY_MAX_PATH - 1] = '\0';
	ck_assert_int_eq(set_arg(&p, "state_dir", longpath, err), PP_OK);
	ck_assert_str_eq(p.state_dir, longpath);
	longpath[POLICY_MAX_PATH - 1] = 'a';
	longpath[POLICY_MAX_PATH] = '\0';
	ck_assert_int_eq(set_arg(&p, "audit_log", longpath, err), PP_ERR_CONFIG);
	ck_assert_str_eq(p.audit_log, POLICY_DEFAULT_AUDIT_LOG);
}
END_TEST

START_TEST(test_name_option)
{
	struct policy p;
	char err[POLICY_ERR_LEN];

	policy_defaults(&p);
	ck_assert_int_eq(set_arg(&p, "audit_group", "adm", err), PP_OK);
	ck_assert_str_eq(p.audit_group, "adm");
	ck_assert_int_eq(set_arg(&p, "audit_group", "a,b", err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "audit_group: expected a group or user name, got \"a,b\"");
	ck_assert_int_eq(set_arg(&p, "audit_group", "-adm", err), PP_ERR_CONFIG);
	ck_assert_int_eq(set_arg(&p, "audit_group", "", err), PP_ERR_CONFIG);
	ck_assert_str_eq(p.audit_group, "adm");
}
END_TEST

START_TEST(test_error_value_shown_printable_and_short)
{
	struct policy p;
	char err[POLICY_ERR_LEN], value[200];

	policy_defaults(&p);
	ck_assert_int_eq(set_arg(&p, "minlen", "1\x01\n", err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "minlen: expected a number from 6 to 256, got \"1??\"");
	memset(value, '7', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	ck_assert_int_eq(set_arg(&p, "minlen", value, err), PP_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "...\""));
	ck_assert_uint_lt(strlen(err), 140);
}
END_TEST

START_TEST(test_unknown_option_set)
{
	struct policy p;
	char err[POLICY_ERR_LEN];

	policy_defaults(&p);
	ck_assert_int_eq(set_arg(&p, "foo", "1", err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "foo: unknown option");
	ck_assert_int_eq(set_arg(&p, "record", NULL, err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "record: unknown option");
}
END_TEST

/* ---- policy_from_args -------------------------------------------------- */

START_TEST(test_args_precedence)
{
	struct policy p;
	char err[POLICY_ERR_LEN], config[300];
	const char *path = conf_write("p.conf", "minlen = 11\nretry = 4\n");
	const char *argv[2];

	snprintf(config, sizeof(config), "config=%s", path);
	argv[0] = config;
	argv[1] = "minlen=12";
	err[0] = '\0';
	ck_assert_int_eq(policy_from_args(&p, 2, argv, "/nonexistent/default.conf", NULL,
					  err, sizeof(err)), PP_OK);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(p.minlen, 12);
	ck_assert_int_eq(p.source[POLICY_OPT_MINLEN], POLICY_SOURCE_ARGUMENT);
	ck_assert_int_eq(p.retry, 4);
	ck_assert_int_eq(p.source[POLICY_OPT_RETRY], POLICY_SOURCE_FILE);
	ck_assert_int_eq(p.history, 24);
	ck_assert_int_eq(p.source[POLICY_OPT_HISTORY], POLICY_SOURCE_DEFAULT);
	ck_assert_str_eq(p.file, path);
}
END_TEST

START_TEST(test_args_argument_order_irrelevant_to_config)
{
	struct policy p;
	char err[POLICY_ERR_LEN], config[300];
	const char *path = conf_write("p.conf", "minlen = 11\n");
	const char *argv[2];

	/* config= after the argument still loads the file first */
	snprintf(config, sizeof(config), "config=%s", path);
	argv[0] = "minlen=12";
	argv[1] = config;
	ck_assert_int_eq(from_args(&p, 2, argv, err), PP_OK);
	ck_assert_int_eq(p.minlen, 12);
	ck_assert_int_eq(p.source[POLICY_OPT_MINLEN], POLICY_SOURCE_ARGUMENT);
}
END_TEST

START_TEST(test_args_default_file_used)
{
	struct policy p;
	char err[POLICY_ERR_LEN];
	const char *path = conf_write("default.conf", "minlen = 11\n");

	ck_assert_int_eq(policy_from_args(&p, 0, NULL, path, NULL, err, sizeof(err)), PP_OK);
	ck_assert_int_eq(p.minlen, 11);
	ck_assert_int_eq(p.source[POLICY_OPT_MINLEN], POLICY_SOURCE_FILE);
	ck_assert_str_eq(p.file, path);
}
END_TEST

START_TEST(test_args_default_file_errors_reported)
{
	struct policy p;
	char err[POLICY_ERR_LEN], want[POLICY_ERR_LEN];
	const char *path = conf_write("default.conf", "minlen = 5\n");

	ck_assert_int_eq(policy_from_args(&p, 0, NULL, path, NULL, err, sizeof(err)),
			 PP_ERR_CONFIG);
	snprintf(want, sizeof(want),
		 "%s:1: minlen: expected a number from 6 to 256, got \"5\"", path);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_args_missing_default_file_ok)
{
	struct policy p;
	char err[POLICY_ERR_LEN], path[256];
	const char *argv[] = { "minlen=12" };

	snprintf(path, sizeof(path), "%s/absent.conf", tmpdir);
	err[0] = '\0';
	ck_assert_int_eq(policy_from_args(&p, 1, argv, path, NULL, err, sizeof(err)), PP_OK);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(p.minlen, 12);
	ck_assert_str_eq(p.file, "");
	ck_assert_int_eq(p.source[POLICY_OPT_RETRY], POLICY_SOURCE_DEFAULT);
}
END_TEST

START_TEST(test_args_missing_explicit_config_error)
{
	struct policy p;
	char err[POLICY_ERR_LEN], path[256], config[300];
	const char *argv[1];

	snprintf(path, sizeof(path), "%s/absent.conf", tmpdir);
	snprintf(config, sizeof(config), "config=%s", path);
	argv[0] = config;
	ck_assert_int_ne(policy_from_args(&p, 1, argv, NULL, NULL, err, sizeof(err)), PP_OK);
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "error: %s", err);
	ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
}
END_TEST

START_TEST(test_args_relative_config_rejected)
{
	struct policy p;
	char err[POLICY_ERR_LEN];
	const char *argv[] = { "config=relative" };
	const char *argv_empty[] = { "config=" };

	ck_assert_int_eq(from_args(&p, 1, argv, err), PP_ERR_CONFIG);
	ck_assert_str_eq(err,
		"module argument: config: expected an absolute path, got \"relative\"");
	ck_assert_int_eq(from_args(&p, 1, argv_empty, err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "module argument: config: expected an absolute path, got \"\"");
}
END_TEST

START_TEST(test_args_errors_prefixed)
{
	struct policy p;
	char err[POLICY_ERR_LEN];
	const char *bad_value[] = { "minlen=5" };
	const char *unknown[] = { "debug", "foo=1" };
	const char *empty_key[] = { "=5" };
	const char *bad_bool[] = { "debug=maybe" };
	const char *bare_config[] = { "config" };

	ck_assert_int_eq(from_args(&p, 1, bad_value, err), PP_ERR_CONFIG);
	ck_assert_str_eq(err,
		"module argument: minlen: expected a number from 6 to 256, got \"5\"");
	ck_assert_int_eq(from_args(&p, 2, unknown, err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "module argument: foo: unknown option");
	ck_assert_int_eq(from_args(&p, 1, empty_key, err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "module argument: \"=5\": unknown option");
	ck_assert_int_eq(from_args(&p, 1, bad_bool, err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "module argument: debug: expected yes or no, got \"maybe\"");
	ck_assert_int_eq(from_args(&p, 1, bare_config, err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "module argument: config: unknown option");
}
END_TEST

START_TEST(test_args_long_key_rejected)
{
	struct policy p;
	char err[POLICY_ERR_LEN], arg[128];
	const char *argv[] = { arg };

	memset(arg, 'k', 100);
	snprintf(arg + 100, sizeof(arg) - 100, "=1");
	ck_assert_int_eq(from_args(&p, 1, argv, err), PP_ERR_CONFIG);
	ck_assert(strncmp(err, "module argument: \"", 18) == 0);
	ck_assert_ptr_nonnull(strstr(err, "\": unknown option"));
}
END_TEST

START_TEST(test_args_value_with_equals)
{
	struct policy p;
	char err[POLICY_ERR_LEN];
	const char *argv[] = { "socket=/tmp/a=b" };

	ck_assert_int_eq(from_args(&p, 1, argv, err), PP_OK);
	ck_assert_str_eq(p.socket, "/tmp/a=b");
}
END_TEST

START_TEST(test_args_ignore_list)
{
	static const char *const ignore[] = { "record", NULL };
	struct policy p;
	char err[POLICY_ERR_LEN];
	const char *argv[] = { "record", "minlen=12", "debug" };

	err[0] = '\0';
	ck_assert_int_eq(policy_from_args(&p, 3, argv, NULL, ignore, err, sizeof(err)), PP_OK);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(p.minlen, 12);
	ck_assert(p.debug);
	/* without the ignore list, "record" is an unknown option */
	ck_assert_int_eq(from_args(&p, 3, argv, err), PP_ERR_CONFIG);
	ck_assert_str_eq(err, "module argument: record: unknown option");
}
END_TEST

START_TEST(test_args_later_argument_wins)
{
	struct policy p;
	char err[POLICY_ERR_LEN];
	const char *argv[] = { "minlen=12", "minlen=14" };

	ck_assert_int_eq(from_args(&p, 2, argv, err), PP_OK);
	ck_assert_int_eq(p.minlen, 14);
}
END_TEST

START_TEST(test_args_reset_to_defaults)
{
	struct policy p;
	char err[POLICY_ERR_LEN];

	/* whatever p held before, policy_from_args starts from the defaults */
	memset(&p, 0x5a, sizeof(p));
	ck_assert_int_eq(from_args(&p, 0, NULL, err), PP_OK);
	ck_assert_int_eq(p.minlen, 10);
	ck_assert_str_eq(p.file, "");
	for (int i = 0; i < POLICY_OPT_COUNT; i++)
		ck_assert_int_eq(p.source[i], POLICY_SOURCE_DEFAULT);
}
END_TEST

/* ---- policy_print ------------------------------------------------------ */

/* The line of printed output that starts with "key ", malloc'd, or NULL. */
static char *printed_line(const struct policy *p, const char *key)
{
	char *text = NULL, *line, *save = NULL, *found = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	ck_assert_ptr_nonnull(out);
	policy_print(p, out);
	ck_assert_int_eq(fclose(out), 0);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ' ') {
			found = strdup(line);
			break;
		}
	}
	free(text);
	return found;
}

START_TEST(test_print_sources)
{
	struct policy p;
	char err[POLICY_ERR_LEN], config[300];
	const char *path = conf_write("p.conf", "retry = 4\n");
	const char *argv[] = { config, "minlen=12" };
	char *line;

	snprintf(config, sizeof(config), "config=%s", path);
	ck_assert_int_eq(from_args(&p, 2, argv, err), PP_OK);

	line = printed_line(&p, "minlen");
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_nonnull(strstr(line, "= 12 "));
	ck_assert_ptr_nonnull(strstr(line, "# argument"));
	free(line);

	line = printed_line(&p, "retry");
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_nonnull(strstr(line, "= 4 "));
	ck_assert_ptr_nonnull(strstr(line, "# file"));
	free(line);

	line = printed_line(&p, "history");
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_nonnull(strstr(line, "= 24 "));
	ck_assert_ptr_nonnull(strstr(line, "# default"));
	free(line);
}
END_TEST

START_TEST(test_print_every_option)
{
	struct policy p;
	char *text = NULL;
	size_t size = 0, lines = 0;
	FILE *out = open_memstream(&text, &size);

	ck_assert_ptr_nonnull(out);
	policy_defaults(&p);
	policy_print(&p, out);
	ck_assert_int_eq(fclose(out), 0);
	for (size_t i = 0; i < size; i++)
		lines += text[i] == '\n';
	ck_assert_uint_eq(lines, POLICY_OPT_COUNT);
	free(text);
	for (int i = 0; i < POLICY_OPT_COUNT; i++) {
		char *line = printed_line(&p, policy_option_name((enum policy_option)i));
		ck_assert_msg(line != NULL, "no line for %s",
			      policy_option_name((enum policy_option)i));
		free(line);
	}
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc;

	tc = tcase_create("defaults");
	tcase_add_test(tc, test_defaults_values);
	tcase_add_test(tc, test_defaults_sources);
	tcase_add_test(tc, test_defaults_formatted);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_checked_fixture(tc, setup_tmpdir, teardown_tmpdir);
	tcase_add_test(tc, test_file_comments_blanks_spaces);
	tcase_add_test(tc, test_file_empty_file);
	tcase_add_test(tc, test_file_last_line_without_newline);
	tcase_add_test(tc, test_file_hash_inside_value_is_not_comment);
	tcase_add_test(tc, test_file_bad_number_error_text);
	tcase_add_test(tc, test_file_unknown_key);
	tcase_add_test(tc, test_file_key_is_case_sensitive);
	tcase_add_test(tc, test_file_line_without_equals);
	tcase_add_test(tc, test_file_empty_value);
	tcase_add_test(tc, test_file_config_key_rejected);
	tcase_add_test(tc, test_file_line_too_long);
	tcase_add_test(tc, test_file_long_value_line_too_long);
	tcase_add_test(tc, test_file_line_at_limit);
	tcase_add_test(tc, test_file_last_line_at_limit_without_newline);
	tcase_add_test(tc, test_file_nul_byte_rejected);
	tcase_add_test(tc, test_file_nul_byte_line_number);
	tcase_add_test(tc, test_stream);
	tcase_add_test(tc, test_file_missing);
	tcase_add_test(tc, test_file_null_error_buffer);
	tcase_add_test(tc, test_file_error_truncated_to_buffer);
	tcase_add_test(tc, test_list_from_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_test(tc, test_int_range_rejected_not_clamped);
	tcase_add_test(tc, test_int_malformed_rejected);
	tcase_add_test(tc, test_int_other_ranges);
	tcase_add_test(tc, test_bool_words);
	tcase_add_test(tc, test_bool_bare_set);
	tcase_add_test(tc, test_require_values);
	tcase_add_test(tc, test_require_rejected);
	tcase_add_test(tc, test_format_round_trip);
	tcase_add_test(tc, test_format_small_buffer);
	tcase_add_test(tc, test_list_normalised);
	tcase_add_test(tc, test_list_rejected);
	tcase_add_test(tc, test_list_too_long);
	tcase_add_test(tc, test_list_contains);
	tcase_add_test(tc, test_unreachable);
	tcase_add_test(tc, test_path_absolute);
	tcase_add_test(tc, test_name_option);
	tcase_add_test(tc, test_error_value_shown_printable_and_short);
	tcase_add_test(tc, test_unknown_option_set);
	suite_add_tcase(s, tc);

	tc = tcase_create("arguments");
	tcase_add_checked_fixture(tc, setup_tmpdir, teardown_tmpdir);
	tcase_add_test(tc, test_bool_bare_argument);
	tcase_add_test(tc, test_bare_non_boolean_rejected);
	tcase_add_test(tc, test_args_precedence);
	tcase_add_test(tc, test_args_argument_order_irrelevant_to_config);
	tcase_add_test(tc, test_args_default_file_used);
	tcase_add_test(tc, test_args_default_file_errors_reported);
	tcase_add_test(tc, test_args_missing_default_file_ok);
	tcase_add_test(tc, test_args_missing_explicit_config_error);
	tcase_add_test(tc, test_args_relative_config_rejected);
	tcase_add_test(tc, test_args_errors_prefixed);
	tcase_add_test(tc, test_args_long_key_rejected);
	tcase_add_test(tc, test_args_value_with_equals);
	tcase_add_test(tc, test_args_ignore_list);
	tcase_add_test(tc, test_args_later_argument_wins);
	tcase_add_test(tc, test_args_reset_to_defaults);
	tcase_add_test(tc, test_print_sources);
	tcase_add_test(tc, test_print_every_option);
	suite_add_tcase(s, tc);

	return s;
}

Suite *test_suite(void)
{
	return policy_suite();
}
