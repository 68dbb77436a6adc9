/*
 * test_i18n.c - the user's language through the real libpam: reasons,
 * prompts, the expiry warning (plural forms), the forced change and
 * pam_policyctl in German, Spanish and French, chosen from the PAM
 * environment; English for an unknown language; the calling thread's
 * locale left as it was.
 *
 * The catalogues are the build's ($(B)/locale, made from po/LANG.po): this
 * program binds the "pam_policy" domain there (bindtextdomain), and the
 * module loaded into it keeps a binding its program made (i18n_bind). The
 * locales come from the system when it has all of them, else localedef
 * builds them once into the build directory and LOCPATH points there
 * (newlocale reads it). Without localedef or the locale sources (the
 * "locales" package) the tests skip, saying so.
 *
 * Expected texts are not written here: each is the msgid translated with
 * the catalogue (dgettext/dngettext under the language's locale, or the
 * same lib/ function the module calls) and must differ from the English
 * text, so an untranslated catalogue fails.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libintl.h>
#include <locale.h>
#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "aging.h"
#include "i18n.h"
#include "policy.h"
#include "request.h"
#include "rules.h"

#include "harness.h"

#define SERVICE "i18n"
#define PW_GOOD "Correct-Horse-7"
#define PW_OTHER "Violet-Anchor-58"
#define POLICY_TEXT "max_age_days = 90\nwarn_days = 14\nmin_age_days = 0\nhistory = 5\n"

struct language {
	const char *locale;     /* what the PAM environment says */
	const char *source;     /* localedef -i */
};

static const struct language languages[] = {
	{ "de_DE.UTF-8", "de_DE" },
	{ "es_ES.UTF-8", "es_ES" },
	{ "fr_FR.UTF-8", "fr_FR" },
};
#define NLANG ((int)(sizeof(languages) / sizeof(languages[0])))

/* Set once by test_before_all, inherited by every forked test. */
static char locales_missing[512];    /* why not, or "" when they exist */
static char registry[4096];          /* pids of daemons to reap */
static char linux_pam_catalog[NLANG][4096];

static char dir[4096];
static char written[4200];
static char conf[4300];
static struct harness_daemon d;

/* ---- locales and catalogues ---- */

static bool locale_exists(const char *name)
{
	locale_t l = newlocale(LC_MESSAGES_MASK | LC_CTYPE_MASK, name, (locale_t)0);

	if (l == (locale_t)0)
		return false;
	freelocale(l);
	return true;
}

static bool all_locales_exist(void)
{
	for (int i = 0; i < NLANG; i++)
		if (!locale_exists(languages[i].locale))
			return false;
	return locale_exists("C.UTF-8");
}

/* localedef -i source -f UTF-8 dir/name; true when newlocale then finds it. */
static bool build_locale(const char *ldir, const char *source, const char *name)
{
	char out[4300];
	int status;
	pid_t pid;

	snprintf(out, sizeof(out), "%s/%s", ldir, name);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		/* -c: a warning in the locale source is no reason to stop. */
		execlp("localedef", "localedef", "-c", "-i", source, "-f", "UTF-8", out,
		       (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return false;
	if (WEXITSTATUS(status) == 127) {
		snprintf(locales_missing, sizeof(locales_missing),
			 "needs the %s locale: localedef is not installed (locales package)",
			 name);
		return false;
	}
	return true;
}

/* Did an earlier run build locale name in ldir? */
static bool built(const char *ldir, const char *name)
{
	char path[4300];

	snprintf(path, sizeof(path), "%s/%s/LC_CTYPE", ldir, name);
	return access(path, R_OK) == 0;
}

/*
 * The locales: the system's when it has all of them, else built once into
 * $(B)/tests/locales (LOCPATH then replaces the system's locale archive,
 * so C.UTF-8 is built there too).
 */
static void prepare_locales(void)
{
	char ldir[4096];

	if (all_locales_exist())
		return;
	snprintf(ldir, sizeof(ldir), "%s", harness_build("tests/locales"));
	if (mkdir(ldir, 0755) != 0 && errno != EEXIST) {
		snprintf(locales_missing, sizeof(locales_missing),
			 "needs de_DE, es_ES and fr_FR UTF-8 locales: cannot create %.300s: %s",
			 ldir, strerror(errno));
		return;
	}
	/*
	 * Built (once: a locale with its LC_CTYPE is kept) before newlocale
	 * looks under LOCPATH: glibc remembers a locale it did not find.
	 */
	for (int i = 0; i < NLANG; i++) {
		if (!built(ldir, languages[i].locale) &&
		    !build_locale(ldir, languages[i].source, languages[i].locale))
			return;
	}
	if (!built(ldir, "C.UTF-8") && !build_locale(ldir, "C", "C.UTF-8"))
		return;
	setenv("LOCPATH", ldir, 1);
	for (int i = 0; i < NLANG; i++) {
		if (!locale_exists(languages[i].locale)) {
			if (locales_missing[0] == '\0')
				snprintf(locales_missing, sizeof(locales_missing),
					 "needs the %s locale: localedef could not build it "
					 "(are /usr/share/i18n/locales and the charmaps "
					 "installed? the locales package)", languages[i].locale);
			return;
		}
	}
}

/* The Linux-PAM catalogue of a language, if this system has one. */
static void find_linux_pam_catalogs(void)
{
	for (int i = 0; i < NLANG; i++) {
		char lang[3] = { languages[i].locale[0], languages[i].locale[1], '\0' };
		snprintf(linux_pam_catalog[i], sizeof(linux_pam_catalog[i]),
			 "/usr/share/locale/%s/LC_MESSAGES/Linux-PAM.mo", lang);
		if (access(linux_pam_catalog[i], R_OK) != 0)
			linux_pam_catalog[i][0] = '\0';
	}
}

#define NEED_LOCALES() do { \
		if (locales_missing[0] != '\0') \
			HARNESS_SKIP(locales_missing); \
	} while (0)

/*
 * Run fn-like code in the language: the calling thread switched to the
 * locale for LC_MESSAGES and LC_CTYPE, as the module switches it.
 */
struct in_language {
	locale_t previous, ours;
};

static void language_begin(struct in_language *s, const char *locale)
{
	s->ours = newlocale(LC_MESSAGES_MASK | LC_CTYPE_MASK, locale, (locale_t)0);
	ck_assert_msg(s->ours != (locale_t)0, "newlocale(%s): %s", locale, strerror(errno));
	s->previous = uselocale(s->ours);
}

static void language_end(struct in_language *s)
{
	uselocale(s->previous);
	freelocale(s->ours);
}

/* msgid of domain translated in locale, into out. */
static void translated(const char *domain, const char *locale, const char *msgid,
		       char *out, size_t len)
{
	struct in_language s;

	language_begin(&s, locale);
	snprintf(out, len, "%s", dgettext(domain, msgid));
	language_end(&s);
}

/* ---- fixture ---- */

static void registry_path(pid_t pid, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%ld", registry, (long)pid);
}

static void start_daemon(void)
{
	char path[4200];

	ck_assert_msg(harness_daemon_start(&d, dir, POLICY_TEXT, true),
		      "pam_policyd did not start");
	registry_path(d.pid, path, sizeof(path));
	harness_write(path, "");
}

static void setup(void)
{
	harness_tmpdir(dir, sizeof(dir));
	snprintf(written, sizeof(written), "%s/written", dir);
	snprintf(conf, sizeof(conf), "%s/pam_policy.conf", dir);
	memset(&d, 0, sizeof(d));
}

static void teardown(void)
{
	if (d.pid > 0) {
		char path[4200];
		registry_path(d.pid, path, sizeof(path));
		harness_daemon_stop(&d);
		unlink(path);
	}
	harness_rmtree(dir);
}

/* The module alone (no daemon): the check line and the writer. */
static void module_stack(void)
{
	struct harness_stack spec = {
		.config = conf, .check_args = "retry=1", .writer_file = written,
	};

	harness_write(conf, "history = 0\nmin_age_days = 0\n");
	harness_stack_write(dir, SERVICE, &spec);
}

/* With the daemon: account line, check line, writer, record line. */
static void daemon_stack(void)
{
	struct harness_stack spec = {
		.config = d.config, .auth_args = "authtok=Typed-At-Login-1",
		.account = true, .check_args = "retry=1", .writer_file = written,
		.record = true,
	};

	harness_stack_write(dir, SERVICE, &spec);
}

/* pam_chauthtok with "NAME=value" env in the PAM environment (NULL: none). */
static int change(const char *env, const char *user, int flags, struct harness_conv *c,
		  const char *const *answers)
{
	const struct harness_login login = { .env = env };
	locale_t before = uselocale((locale_t)0);
	int rc;

	harness_conv_init(c, answers);
	rc = harness_pam_chauthtok_with(dir, SERVICE, user, flags, &login, c);
	ck_assert_msg(uselocale((locale_t)0) == before,
		      "pam_chauthtok left the thread in another locale");
	return rc;
}

/* A password login (auth, then account) with env in the PAM environment. */
static int account(const char *env, const char *user, struct harness_conv *c)
{
	const struct harness_login login = { .authenticate = true, .env = env };
	locale_t before = uselocale((locale_t)0);
	int rc;

	harness_conv_init(c, NULL);
	rc = harness_pam_acct_mgmt_with(dir, SERVICE, user, 0, &login, c);
	ck_assert_msg(uselocale((locale_t)0) == before,
		      "pam_acct_mgmt left the thread in another locale");
	return rc;
}

static void env_lang(char *buf, size_t len, const char *name, const char *locale)
{
	snprintf(buf, len, "%s=%s", name, locale);
}

/* The policy the module reads for the stack of module_stack. */
static void load_test_policy(struct policy *p)
{
	char arg[4400], err[POLICY_ERR_LEN];
	const char *argv[1] = { arg };

	snprintf(arg, sizeof(arg), "config=%s", conf);
	ck_assert_msg(policy_from_args(p, 1, argv, POLICY_DEFAULT_FILE, NULL, err,
				       sizeof(err)) == PP_OK, "policy: %s", err);
}

static void assert_contains(const char *hay, const char *needle)
{
	ck_assert_msg(strstr(hay, needle) != NULL, "expected \"%s\" in:\n%s", needle, hay);
}

/* ---- the password phase ---- */

/*
 * A weak password through the stack: the whole rejection, and each of its
 * reasons, in the language of the PAM environment's LANG; the prompt is
 * Linux-PAM's own, in the same language.
 */
START_TEST(test_reasons_in_language)
{
	const struct language *l = &languages[_i];
	const char *weak[] = { "aaaa", NULL };
	struct rules_context ctx = {
		.user = "alice", .gecos = "Alice Wonderland,,,", .service = SERVICE,
	};
	struct rules_result res;
	struct harness_conv c;
	struct in_language s;
	struct policy p;
	char env[64], english[4096], local[4096], expect[4200], prompt[256];
	int reasons = 0;

	NEED_LOCALES();
	module_stack();
	env_lang(env, sizeof(env), "LANG", l->locale);
	ck_assert_int_eq(change(env, "alice", 0, &c, weak), PAM_AUTHTOK_ERR);

	/* What the module decided, worded here by the same lib/ code. */
	load_test_policy(&p);
	ck_assert_int_eq(rules_check(&p, "aaaa", &ctx, &res), PP_OK);
	ck_assert_int_gt(res.count, 3);
	rules_format_message(&p, &res, english, sizeof(english));
	language_begin(&s, l->locale);
	rules_format_message(&p, &res, local, sizeof(local));
	for (int r = 0; r < RULE_COUNT; r++) {
		char en_line[512], line[512];

		if (!res.failed[r])
			continue;
		rules_reason_message((enum rules_reason)r, &p, &res, line, sizeof(line));
		uselocale(s.previous);
		rules_reason_message((enum rules_reason)r, &p, &res, en_line, sizeof(en_line));
		uselocale(s.ours);
		ck_assert_msg(strcmp(line, en_line) != 0, "%s: reason %s is not translated: %s",
			      l->locale, rules_reason_code((enum rules_reason)r), line);
		assert_contains(c.log, line);
		reasons++;
	}
	language_end(&s);
	ck_assert_int_eq(reasons, res.count);
	ck_assert_msg(strcmp(local, english) != 0, "%s: the rejection is in English:\n%s",
		      l->locale, c.log);
	snprintf(expect, sizeof(expect), "E: %s\n", local);
	assert_contains(c.log, expect);

	translated("Linux-PAM", l->locale, "New password: ", prompt, sizeof(prompt));
	snprintf(expect, sizeof(expect), "P: %s\n", prompt);
	assert_contains(c.log, expect);
	if (linux_pam_catalog[_i][0] != '\0')
		ck_assert_msg(strcmp(prompt, "New password: ") != 0,
			      "%s has no German/Spanish/French \"New password: \"",
			      linux_pam_catalog[_i]);
}
END_TEST

/*
 * Every reason the module can give, and every word of a guessable
 * password's "(found: ...)", has a translation in each catalogue.
 */
START_TEST(test_every_reason_translated)
{
	const struct language *l = &languages[_i];
	struct rules_result res;
	struct policy p;

	NEED_LOCALES();
	policy_defaults(&p);
	memset(&res, 0, sizeof(res));
	res.length = 4;
	res.classes_found = 1;
	res.min_age_days_left = 3;
	for (int r = 0; r < RULE_COUNT; r++) {
		char en[512], local[512];
		struct in_language s;

		rules_reason_message((enum rules_reason)r, &p, &res, en, sizeof(en));
		language_begin(&s, l->locale);
		rules_reason_message((enum rules_reason)r, &p, &res, local, sizeof(local));
		language_end(&s);
		ck_assert_msg(strcmp(en, local) != 0, "%s: %s not translated: %s", l->locale,
			      rules_reason_code((enum rules_reason)r), en);
	}
	for (unsigned bit = 0; bit < 10; bit++) {
		char en[512], local[512];
		struct in_language s;

		res.guess_found = 1u << bit;
		rules_reason_message(RULE_GUESSABLE, &p, &res, en, sizeof(en));
		language_begin(&s, l->locale);
		rules_reason_message(RULE_GUESSABLE, &p, &res, local, sizeof(local));
		language_end(&s);
		/* The part in parentheses, the found words, must change too. */
		ck_assert_msg(strcmp(strrchr(en, '('), strrchr(local, '(')) != 0,
			      "%s: found word %u not translated: %s", l->locale, bit, local);
	}
}
END_TEST

/* Typed twice differently: libpam's own mismatch message, translated. */
START_TEST(test_mismatch_in_language)
{
	const struct language *l = &languages[_i];
	const char *answers[] = { PW_GOOD, PW_OTHER, NULL };
	struct harness_conv c;
	char env[64], expect[512], text[256];

	NEED_LOCALES();
	module_stack();
	env_lang(env, sizeof(env), "LANG", l->locale);
	ck_assert_int_eq(change(env, "bob", 0, &c, answers), PAM_AUTHTOK_ERR);
	translated("Linux-PAM", l->locale, "Retype new password: ", text, sizeof(text));
	snprintf(expect, sizeof(expect), "P: %s\n", text);
	assert_contains(c.log, expect);
	translated("Linux-PAM", l->locale, "Sorry, passwords do not match.", text, sizeof(text));
	snprintf(expect, sizeof(expect), "E: %s\n", text);
	assert_contains(c.log, expect);
}
END_TEST

/* ---- the account phase ---- */

/* The date (YYYY-MM-DD) in text, into date. */
static void date_in(const char *text, char *date, size_t len)
{
	regex_t re;
	regmatch_t m;

	ck_assert_int_eq(regcomp(&re, "[0-9]{4}-[0-9]{2}-[0-9]{2}", REG_EXTENDED), 0);
	ck_assert_msg(regexec(&re, text, 1, &m, 0) == 0, "no date in:\n%s", text);
	snprintf(date, len, "%.*s", (int)(m.rm_eo - m.rm_so), text + m.rm_so);
	regfree(&re);
}

/* "I: Your password expires in N days (on DATE)." in the language. */
static void expect_warning(const char *locale, long days, const char *log)
{
	char date[16], expect[512], english[512];
	struct in_language s;

	date_in(log, date, sizeof(date));
	snprintf(english, sizeof(english), days == 1
		 ? "I: Your password expires in %ld day (on %s).\n"
		 : "I: Your password expires in %ld days (on %s).\n", days, date);
	language_begin(&s, locale);
	snprintf(expect, sizeof(expect), "I: ");
	snprintf(expect + 3, sizeof(expect) - 3,
		 dngettext(I18N_DOMAIN, "Your password expires in %1$ld day (on %2$s).",
			   "Your password expires in %1$ld days (on %2$s).",
			   (unsigned long)days), days, date);
	language_end(&s);
	strncat(expect, "\n", sizeof(expect) - strlen(expect) - 1);
	ck_assert_msg(strcmp(log, expect) == 0, "%s, %ld days: expected\n  %sgot\n  %s",
		      locale, days, expect, log);
	ck_assert_msg(strcmp(expect, english) != 0, "%s: the warning is in English: %s",
		      locale, log);
}

/*
 * The expiry warning with 1 day and with 2 days left (two plural forms),
 * and the forced change an administrator asked for, in the language.
 */
START_TEST(test_expiry_and_forced_change_in_language)
{
	const struct language *l = &languages[_i];
	const char *answers[] = { PW_GOOD, PW_GOOD, NULL };
	char env[64], expect[600], english[512];
	struct harness_conv c;
	struct in_language s;
	const char *forced = "Your password must be changed (required by an administrator). "
			     "You must choose a new one now.";

	NEED_LOCALES();
	if (harness_faketime_lib() == NULL)
		HARNESS_SKIP("needs libfaketime (faketime package) for the daemon's clock");
	start_daemon();
	daemon_stack();
	env_lang(env, sizeof(env), "LANG", l->locale);
	ck_assert_int_eq(change(env, "alice", 0, &c, answers), PAM_SUCCESS);

	/* Day 88 of 90: 2 days left; day 89: 1 day (seconds after the change). */
	harness_daemon_set_clock(&d, "+88d");
	ck_assert_int_eq(account(env, "alice", &c), PAM_SUCCESS);
	expect_warning(l->locale, 2, c.log);
	harness_daemon_set_clock(&d, "+89d");
	ck_assert_int_eq(account(env, "alice", &c), PAM_SUCCESS);
	expect_warning(l->locale, 1, c.log);
	/* One form for 1, another for 2: "Tag"/"Tagen", "día"/"días", "jour"/"jours". */
	language_begin(&s, l->locale);
	ck_assert_str_ne(dngettext(I18N_DOMAIN, "Your password expires in %1$ld day (on %2$s).",
				   "Your password expires in %1$ld days (on %2$s).", 1),
			 dngettext(I18N_DOMAIN, "Your password expires in %1$ld day (on %2$s).",
				   "Your password expires in %1$ld days (on %2$s).", 2));
	language_end(&s);

	ck_assert_int_eq(request_simple(d.socket, 5000, PROTO_EXPIRE, "alice", NULL, 0), PP_OK);
	ck_assert_int_eq(account(env, "alice", &c), PAM_NEW_AUTHTOK_REQD);
	translated(I18N_DOMAIN, l->locale, forced, english, sizeof(english));
	snprintf(expect, sizeof(expect), "E: %s\n", english);
	ck_assert_msg(strcmp(c.log, expect) == 0, "expected\n  %sgot\n  %s", expect, c.log);
	ck_assert_str_ne(english, forced);
}
END_TEST

/* ---- choosing the language ---- */

/* An unknown language falls back to English (the source text). */
START_TEST(test_unknown_language_is_english)
{
	const char *weak[] = { "aaaa", NULL };
	const char *answers[] = { PW_GOOD, PW_OTHER, NULL };
	struct harness_conv c;

	NEED_LOCALES();
	module_stack();
	ck_assert_int_eq(change("LANG=xx_XX.UTF-8", "alice", 0, &c, weak), PAM_AUTHTOK_ERR);
	assert_contains(c.log, "P: New password: \n");
	assert_contains(c.log, "E: The password was not accepted:\n  - It is too short: "
			"use at least 10 characters (it has 4).\n");
	ck_assert_int_eq(change("LANGUAGE=xx", "bob", 0, &c, answers), PAM_AUTHTOK_ERR);
	assert_contains(c.log, "E: Sorry, passwords do not match.\n");
	/* A name that is no locale name at all is ignored, not passed on. */
	ck_assert_int_eq(change("LANG=../../../tmp/x", "alice", 0, &c, weak), PAM_AUTHTOK_ERR);
	assert_contains(c.log, "E: The password was not accepted:\n");
}
END_TEST

/* The text of "It is too short" in locale, for short checks. */
static void too_short_in(const char *locale, char *out, size_t len)
{
	struct rules_result res;
	struct in_language s;
	struct policy p;

	char english[512];

	load_test_policy(&p);
	memset(&res, 0, sizeof(res));
	res.length = 4;
	rules_reason_message(RULE_TOO_SHORT, &p, &res, english, sizeof(english));
	language_begin(&s, locale);
	rules_reason_message(RULE_TOO_SHORT, &p, &res, out, len);
	language_end(&s);
	ck_assert_msg(strcmp(out, english) != 0, "%s: not translated: %s", locale, out);
}

/*
 * LANGUAGE (a bare language, gettext's first choice), LC_ALL and
 * LC_MESSAGES choose as LANG does; a LANG whose codeset this system lacks
 * (ISO-8859-1) is taken in UTF-8.
 */
START_TEST(test_each_variable_chooses)
{
	static const char *const envs[] = {
		"LANGUAGE=de", "LC_ALL=de_DE.UTF-8", "LC_MESSAGES=de_DE.UTF-8",
		"LANG=de_DE", "LANGUAGE=de_DE:fr",
	};
	const char *weak[] = { "aaaa", NULL };
	struct harness_conv c;
	char german[512];

	NEED_LOCALES();
	module_stack();
	too_short_in("de_DE.UTF-8", german, sizeof(german));
	for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
		ck_assert_int_eq(change(envs[i], "alice", 0, &c, weak), PAM_AUTHTOK_ERR);
		ck_assert_msg(strstr(c.log, german) != NULL, "%s: expected \"%s\" in:\n%s",
			      envs[i], german, c.log);
	}
}
END_TEST

/*
 * Without a language in the PAM environment the application's locale
 * decides (here the thread's, as passwd's setlocale would make it); with
 * one, the PAM environment wins, and the application's thread locale is
 * given back untouched after the call.
 */
START_TEST(test_application_locale_kept)
{
	const char *weak[] = { "aaaa", NULL };
	struct harness_conv c;
	struct in_language s;
	char spanish[512], german[512];

	NEED_LOCALES();
	module_stack();
	too_short_in("es_ES.UTF-8", spanish, sizeof(spanish));
	too_short_in("de_DE.UTF-8", german, sizeof(german));
	language_begin(&s, "es_ES.UTF-8");
	ck_assert_int_eq(change(NULL, "alice", 0, &c, weak), PAM_AUTHTOK_ERR);
	ck_assert_ptr_eq(uselocale((locale_t)0), s.ours);
	ck_assert_msg(strstr(c.log, spanish) != NULL, "expected Spanish:\n%s", c.log);
	ck_assert_int_eq(change("LANG=de_DE.UTF-8", "alice", 0, &c, weak), PAM_AUTHTOK_ERR);
	ck_assert_ptr_eq(uselocale((locale_t)0), s.ours);
	ck_assert_msg(strstr(c.log, german) != NULL, "expected German:\n%s", c.log);
	language_end(&s);
}
END_TEST

/*
 * The locale name chosen for each environment (lib/i18n.c): the order of
 * the variables, LANGUAGE's entries, the UTF-8 and English fallbacks, and
 * values that are not locale names.
 */
START_TEST(test_locale_name_choice)
{
	static const struct {
		struct i18n_env env;
		const char *want;       /* NULL: no language named */
	} cases[] = {
		{ { NULL, NULL, NULL, NULL }, NULL },
		{ { "", "", "", "" }, NULL },
		{ { NULL, NULL, NULL, "de_DE.UTF-8" }, "de_DE.UTF-8" },
		{ { NULL, NULL, "es_ES.UTF-8", "de_DE.UTF-8" }, "es_ES.UTF-8" },
		{ { NULL, "fr_FR.UTF-8", "es_ES.UTF-8", "de_DE.UTF-8" }, "fr_FR.UTF-8" },
		{ { "es", NULL, NULL, "de_DE.UTF-8" }, "es_ES.UTF-8" },
		{ { "xx:fr", NULL, NULL, "de_DE.UTF-8" }, "fr_FR.UTF-8" },
		{ { "en", NULL, NULL, "de_DE.UTF-8" }, "C.UTF-8" },
		{ { "de", NULL, NULL, "C" }, "C.UTF-8" },
		{ { NULL, NULL, NULL, "de_DE" }, "de_DE.UTF-8" },
		{ { NULL, NULL, NULL, "fr_FR.ISO-8859-15@euro" }, "fr_FR.UTF-8@euro" },
		{ { NULL, NULL, NULL, "xx_XX.UTF-8" }, "C.UTF-8" },
		{ { NULL, NULL, NULL, "POSIX" }, "C.UTF-8" },
		{ { NULL, NULL, NULL, "../de_DE.UTF-8" }, NULL },
		{ { NULL, NULL, NULL, ".de_DE" }, NULL },
		{ { "de/../../x", NULL, NULL, NULL }, NULL },
		{ { NULL, NULL, NULL,
		    "de_DE.UTF-8aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }, NULL },
	};
	char name[I18N_NAME_MAX + 16];

	NEED_LOCALES();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool named = i18n_locale_name(&cases[i].env, name, sizeof(name));

		if (cases[i].want == NULL) {
			ck_assert_msg(!named, "case %zu: expected no language, got %s", i, name);
			continue;
		}
		/* fr_FR.UTF-8@euro exists only where its source does. */
		if (strchr(cases[i].want, '@') != NULL && !locale_exists(cases[i].want))
			continue;
		ck_assert_msg(named && strcmp(name, cases[i].want) == 0,
			      "case %zu: expected %s, got %s", i, cases[i].want,
			      named ? name : "(none)");
	}
}
END_TEST

/* ---- pam_policyctl ---- */

struct run {
	int status;
	char *out, *err;
};

/*
 * Run the test build of pam_policyctl (its catalogues are the build's,
 * tests/pam_policyctl-locale) with LANG=locale in its environment.
 */
static void run_ctl(struct run *r, const char *locale, const char *const *args)
{
	char out_path[4200], err_path[4200], lang[64];
	const char *argv[16];
	int n = 0, status;
	pid_t pid;

	snprintf(out_path, sizeof(out_path), "%s/ctl.out", dir);
	snprintf(err_path, sizeof(err_path), "%s/ctl.err", dir);
	snprintf(lang, sizeof(lang), "LANG=%s", locale);
	argv[n++] = "pam_policyctl";
	argv[n++] = "-c";
	argv[n++] = d.config;
	for (int i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
			_exit(126);
		unsetenv("LC_ALL");
		unsetenv("LC_MESSAGES");
		putenv(lang);
		execv(harness_build("tests/pam_policyctl-locale"), (char *const *)argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->out = harness_read(out_path);
	r->err = harness_read(err_path);
	ck_assert_ptr_nonnull(r->out);
	ck_assert_ptr_nonnull(r->err);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* Each msgid's translation must be in out, and differ from the msgid. */
static void assert_translated(const char *locale, const char *out,
			      const char *const *msgids)
{
	for (int i = 0; msgids[i] != NULL; i++) {
		char text[512];

		translated(I18N_DOMAIN, locale, msgids[i], text, sizeof(text));
		ck_assert_msg(strcmp(text, msgids[i]) != 0, "%s: \"%s\" not translated",
			      locale, msgids[i]);
		assert_contains(out, text);
	}
}

/* pam_policyctl status and report in the language of LANG. */
START_TEST(test_ctl_in_language)
{
	const struct language *l = &languages[_i];
	const char *answers[] = { PW_GOOD, PW_GOOD, NULL };
	const char *const status_words[] = {
		"User:", "Policy applies:", "State:", "Last password change:",
		"Password expires:", "Days left:", "Must change at next login:",
		"Remembered passwords:", NULL,
	};
	const char *const report_words[] = { "LAST_CHANGE", "DAYS_LEFT", "HISTORY", NULL };
	char summary[256];
	const char *format;
	struct harness_conv c;
	struct in_language s;
	struct run r;

	NEED_LOCALES();
	if (!harness_is_root())
		HARNESS_SKIP("needs root: status of another user and report are root's");
	if (harness_faketime_lib() == NULL)
		HARNESS_SKIP("needs libfaketime (faketime package) for the daemon");
	start_daemon();
	daemon_stack();
	ck_assert_int_eq(change(NULL, "alice", 0, &c, answers), PAM_SUCCESS);

	run_ctl(&r, l->locale, (const char *const[]){ "status", "alice", NULL });
	ck_assert_msg(r.status == 0, "status: %d %s", r.status, r.err);
	assert_translated(l->locale, r.out, status_words);
	run_free(&r);

	run_ctl(&r, l->locale, (const char *const[]){ "report", NULL });
	ck_assert_msg(r.status == 0, "report: %d %s", r.status, r.err);
	assert_translated(l->locale, r.out, report_words);
	/* The summary's words before its count (the count depends on passwd). */
	language_begin(&s, l->locale);
	format = dngettext(I18N_DOMAIN, "summary: %zu user (", "summary: %zu users (", 2);
	snprintf(summary, sizeof(summary), "%.*s", (int)strcspn(format, "%"), format);
	language_end(&s);
	ck_assert_str_ne(summary, "summary: ");
	assert_contains(r.out, summary);
	run_free(&r);

	/* JSON stays English: its keys and values are for programs. */
	run_ctl(&r, l->locale, (const char *const[]){ "status", "--format", "json", "alice",
						      NULL });
	ck_assert_int_eq(r.status, 0);
	assert_contains(r.out, "\"state\":\"ok\"");
	run_free(&r);
}
END_TEST

/* ---- suite ---- */

static void reap_leftover_daemons(void)
{
	DIR *dp = opendir(registry);
	struct dirent *e;

	if (dp == NULL)
		return;
	while ((e = readdir(dp)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (e->d_name[0] == '.' || *end != '\0' || pid <= 1)
			continue;
		kill((pid_t)pid, SIGKILL);
	}
	closedir(dp);
	harness_rmtree(registry);
}

void test_before_all(void)
{
	harness_tmpdir(registry, sizeof(registry));
	/* gettext reads LANGUAGE from the process: the runner's must not choose. */
	unsetenv("LANGUAGE");
	prepare_locales();
	find_linux_pam_catalogs();
	/* The build's catalogues; the module keeps this binding (i18n_bind). */
	bindtextdomain(I18N_DOMAIN, harness_build("locale"));
}

void test_after_all(void)
{
	reap_leftover_daemons();
}

Suite *test_suite(void)
{
	Suite *s = suite_create("languages");
	TCase *tc = tcase_create("i18n");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_reasons_in_language, 0, NLANG);
	tcase_add_loop_test(tc, test_every_reason_translated, 0, NLANG);
	tcase_add_loop_test(tc, test_mismatch_in_language, 0, NLANG);
	tcase_add_loop_test(tc, test_expiry_and_forced_change_in_language, 0, NLANG);
	tcase_add_test(tc, test_unknown_language_is_english);
	tcase_add_test(tc, test_each_variable_chooses);
	tcase_add_test(tc, test_application_locale_kept);
	tcase_add_test(tc, test_locale_name_choice);
	tcase_add_loop_test(tc, test_ctl_in_language, 0, NLANG);
	suite_add_tcase(s, tc);
	return s;
}
