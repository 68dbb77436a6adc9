/*
 * doctor.c - configuration, daemon, permission and PAM stack checks.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "doctor.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "auditlog.h"
#include "blocklist.h"
#include "client.h"
#include "fsutil.h"
#include "guess.h"
#include "i18n.h"
#include "paths.h"
#include "proto.h"
#include "request.h"
#include "wordindex.h"
#include "rules.h"

#define PAM_MAX_LINE 4096
/* Filters up to this size have every page verified; larger ones (the
 * whole HIBP corpus is gigabytes) only their header and directory. */
#define DOCTOR_VERIFY_PAGES_MAX (256ull * 1024 * 1024)
#define PAM_MAX_ARGS 32

/* ---- findings ---- */

void doctor_findings_init(struct doctor_findings *f)
{
	memset(f, 0, sizeof(*f));
}

void doctor_findings_free(struct doctor_findings *f)
{
	free(f->items);
	memset(f, 0, sizeof(*f));
}

void doctor_add(struct doctor_findings *f, enum doctor_level level,
		const char *fmt, ...)
{
	va_list ap;

	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 16;
		struct doctor_finding *p = realloc(f->items, ncap * sizeof(*p));
		if (p == NULL) {
			f->oom = true;
			return;
		}
		f->items = p;
		f->cap = ncap;
	}
	f->items[f->n].level = level;
	va_start(ap, fmt);
	vsnprintf(f->items[f->n].text, sizeof(f->items[f->n].text), fmt, ap);
	va_end(ap);
	f->n++;
}

size_t doctor_problems(const struct doctor_findings *f)
{
	size_t n = f->oom ? 1 : 0;

	for (size_t i = 0; i < f->n; i++)
		if (f->items[i].level == DOCTOR_PROBLEM)
			n++;
	return n;
}

void doctor_print(const struct doctor_findings *f, FILE *out)
{
	/* TRANSLATORS: the levels of doctor's findings, before each line. */
	static const char *const word[] = { N_("ok"), N_("note"), N_("problem") };

	for (size_t i = 0; i < f->n; i++)
		fprintf(out, "%s: %s\n", _(word[f->items[i].level]), f->items[i].text);
	if (f->oom)
		fprintf(out, "%s: %s\n", _("problem"), _("out of memory: some findings were lost"));
}

void doctor_print_json(const struct doctor_findings *f, FILE *out)
{
	static const char *const word[] = { "ok", "note", "problem" };

	fputs("{\"findings\":[", out);
	for (size_t i = 0; i < f->n; i++) {
		fprintf(out, "%s\n {\"level\":\"%s\",\"text\":", i ? "," : "",
			word[f->items[i].level]);
		report_json_string(f->items[i].text, out);
		putc('}', out);
	}
	if (f->oom)
		fprintf(out, "%s\n {\"level\":\"problem\",\"text\":\"out of memory: some "
			"findings were lost\"}", f->n ? "," : "");
	fprintf(out, "%s],\"problems\":%zu}\n", f->n || f->oom ? "\n" : "",
		doctor_problems(f));
}

/* ---- PAM service files ---- */

enum pam_type { PT_AUTH, PT_ACCOUNT, PT_PASSWORD, PT_SESSION, PT_INCLUDE, PT_OTHER };

struct pam_line {
	unsigned lineno;
	enum pam_type type;
	char control[256];      /* "requisite", "[success=1 default=ignore]", ... */
	char module[256];       /* basename, e.g. "pam_unix.so" */
	char args[PAM_MAX_ARGS][128];
	int nargs;
	char include[256];      /* "@include X" or control include/substack */
};

static const char *const writers[] = {
	"pam_unix.so", "pam_sss.so", "pam_ldap.so", "pam_winbind.so", "pam_krb5.so", NULL,
};
static const char *const other_checkers[] = {
	"pam_pwquality.so", "pam_passwdqc.so", "pam_cracklib.so", NULL,
};

static bool in_list(const char *s, const char *const *list)
{
	for (int i = 0; list[i] != NULL; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* Next whitespace-separated token of *p; "[...]" (with spaces) is one token. */
static bool next_token(char **p, char *out, size_t cap)
{
	char *s = *p, *start;
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0')
		return false;
	start = s;
	if (*s == '[') {
		while (*s && *s != ']')
			s++;
		if (*s == ']')
			s++;
	} else {
		while (*s && *s != ' ' && *s != '\t')
			s++;
	}
	len = (size_t)(s - start);
	if (len >= cap)
		len = cap - 1;
	memcpy(out, start, len);
	out[len] = '\0';
	*p = s;
	return true;
}

static enum pam_type parse_type(const char *t)
{
	if (*t == '-')
		t++;
	if (strcmp(t, "auth") == 0)
		return PT_AUTH;
	if (strcmp(t, "account") == 0)
		return PT_ACCOUNT;
	if (strcmp(t, "password") == 0)
		return PT_PASSWORD;
	if (strcmp(t, "session") == 0)
		return PT_SESSION;
	return PT_OTHER;
}

/* Parse one logical line; false for blank/comment lines. */
static bool parse_pam_line(char *text, unsigned lineno, struct pam_line *l)
{
	char tok[256], *p = text, *hash = strchr(text, '#'), *slash;

	if (hash != NULL)
		*hash = '\0';
	memset(l, 0, sizeof(*l));
	l->lineno = lineno;
	if (!next_token(&p, tok, sizeof(tok)))
		return false;
	if (strcmp(tok, "@include") == 0) {
		l->type = PT_INCLUDE;
		if (!next_token(&p, l->include, sizeof(l->include)))
			snprintf(l->include, sizeof(l->include), "?");
		return true;
	}
	l->type = parse_type(tok);
	if (!next_token(&p, l->control, sizeof(l->control)))
		return true;
	if (!next_token(&p, tok, sizeof(tok)))
		return true;
	if (strcmp(l->control, "include") == 0 || strcmp(l->control, "substack") == 0) {
		snprintf(l->include, sizeof(l->include), "%s", tok);
		return true;
	}
	slash = strrchr(tok, '/');
	snprintf(l->module, sizeof(l->module), "%s", slash ? slash + 1 : tok);
	while (l->nargs < PAM_MAX_ARGS &&
	       next_token(&p, l->args[l->nargs], sizeof(l->args[0])))
		l->nargs++;
	return true;
}

static bool has_arg(const struct pam_line *l, const char *arg)
{
	for (int i = 0; i < l->nargs; i++)
		if (strcmp(l->args[i], arg) == 0)
			return true;
	return false;
}

static bool is_policy(const struct pam_line *l)
{
	return strcmp(l->module, "pam_policy.so") == 0;
}

/* Would this control end the stack on success, skipping what follows? */
static bool ends_on_success(const char *control)
{
	return strcmp(control, "sufficient") == 0 || strstr(control, "success=done") != NULL;
}

/* Does this control let a failure of the module pass unnoticed? */
static bool ignores_failure(const char *control)
{
	return strcmp(control, "optional") == 0 || strcmp(control, "sufficient") == 0;
}

/* Read path into lines[], joining "\"-continued lines. */
static pp_err read_pam_file(const char *path, struct pam_line **out, size_t *n)
{
	FILE *fp = fopen(path, "re");
	char *buf = NULL, logical[PAM_MAX_LINE];
	size_t cap = 0, used = 0, count = 0, lcap = 0;
	unsigned lineno = 0, start = 0;
	ssize_t got;
	struct pam_line *lines = NULL, l;

	*out = NULL;
	*n = 0;
	if (fp == NULL)
		return PP_ERR_IO;
	logical[0] = '\0';
	while ((got = getline(&buf, &cap, fp)) >= 0) {
		bool cont;
		size_t len = (size_t)got;

		lineno++;
		if (used == 0)
			start = lineno;
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			buf[--len] = '\0';
		cont = len > 0 && buf[len - 1] == '\\';
		if (cont)
			buf[--len] = ' ';
		if (used + len + 1 < sizeof(logical)) {
			memcpy(logical + used, buf, len);
			used += len;
			logical[used] = '\0';
		}
		if (cont)
			continue;
		if (parse_pam_line(logical, start, &l)) {
			if (count == lcap) {
				size_t ncap = lcap ? lcap * 2 : 32;
				struct pam_line *p = realloc(lines, ncap * sizeof(*p));
				if (p == NULL) {
					free(lines);
					free(buf);
					fclose(fp);
					return PP_ERR_NOMEM;
				}
				lines = p;
				lcap = ncap;
			}
			lines[count++] = l;
		}
		used = 0;
		logical[0] = '\0';
	}
	free(buf);
	fclose(fp);
	*out = lines;
	*n = count;
	return PP_OK;
}

/* The password stack: check above the writer, record below, use_authtok. */
static void check_password_stack(const char *path, const struct pam_line *lines,
				 size_t n, struct doctor_findings *f)
{
	const struct pam_line *writer = NULL, *check = NULL, *record = NULL, *inc = NULL;
	size_t problems = 0;

	for (size_t i = 0; i < n; i++) {
		const struct pam_line *l = &lines[i];
		if (l->type == PT_INCLUDE || (l->type == PT_PASSWORD && l->include[0])) {
			if (inc == NULL)
				inc = l;
			continue;
		}
		if (l->type != PT_PASSWORD)
			continue;
		if (writer == NULL && in_list(l->module, writers))
			writer = l;
		if (is_policy(l) && has_arg(l, "record") && record == NULL)
			record = l;
		if (is_policy(l) && !has_arg(l, "record") && check == NULL)
			check = l;
		if (in_list(l->module, other_checkers)) {
			doctor_add(f, DOCTOR_PROBLEM,
				   _("%s:%u: %s is stacked together with pam_policy.so - two "
				   "modules check the same password: the user sees two sets of "
				   "messages and one may refuse what the other accepted; remove "
				   "this line (pam_policy covers its rules, see pam_policy(8))"),
				   path, l->lineno, l->module);
			problems++;
		}
	}
	if (check == NULL && record == NULL)
		return;
	if (writer == NULL) {
		if (inc != NULL) {
			doctor_add(f, DOCTOR_NOTE,
				   _("%s: no password writer (pam_unix, pam_sss, ...) in this file, "
				   "only an include of %s (line %u) - the check line must sit "
				   "above the writer and the record line below it in the same "
				   "stack; check the order after inclusion"),
				   path, inc->include, inc->lineno);
		} else {
			doctor_add(f, DOCTOR_PROBLEM,
				   _("%s: pam_policy.so is used but no password writer (pam_unix, "
				   "pam_sss, pam_ldap, pam_winbind, pam_krb5) follows it - put the "
				   "check line above the writer and the record line below it, in "
				   "the file that holds the writer (Debian: common-password, Red "
				   "Hat: system-auth and password-auth)"), path);
			problems++;
		}
		return;
	}
	if (check == NULL) {
		doctor_add(f, DOCTOR_PROBLEM,
			   _("%s: no check line - passwords are never checked against the "
			   "policy; add \"password requisite pam_policy.so\" above %s (line %u)"),
			   path, writer->module, writer->lineno);
		problems++;
	} else {
		if (check->lineno > writer->lineno) {
			doctor_add(f, DOCTOR_PROBLEM,
				   _("%s:%u: the check line is below the writer %s (line %u) - the "
				   "password is stored before it is checked; move the check line "
				   "above the writer"), path, check->lineno, writer->module,
				   writer->lineno);
			problems++;
		}
		if (ignores_failure(check->control)) {
			doctor_add(f, DOCTOR_PROBLEM,
				   _("%s:%u: the check line is marked %s - a rejected password "
				   "is stored anyway; use requisite"), path, check->lineno,
				   check->control);
			problems++;
		}
		if (!has_arg(writer, "use_authtok")) {
			doctor_add(f, DOCTOR_PROBLEM,
				   _("%s:%u: the writer %s has no use_authtok - it prompts again "
				   "and may store a password the check never saw; add use_authtok"),
				   path, writer->lineno, writer->module);
			problems++;
		}
	}
	if (record == NULL) {
		doctor_add(f, DOCTOR_PROBLEM,
			   _("%s: no record line - changes never reach the history and the "
			   "rotation clock never restarts; add \"password optional "
			   "pam_policy.so record\" below %s (line %u)"),
			   path, writer->module, writer->lineno);
		problems++;
	} else if (record->lineno < writer->lineno) {
		doctor_add(f, DOCTOR_PROBLEM,
			   _("%s:%u: the record line is above the writer %s (line %u) - it "
			   "would record a change that has not happened yet; move it below "
			   "the writer"), path, record->lineno, writer->module, writer->lineno);
		problems++;
	} else if (ends_on_success(writer->control)) {
		doctor_add(f, DOCTOR_PROBLEM,
			   _("%s:%u: the writer %s is marked %s, which ends the stack on "
			   "success, so the record line (line %u) never runs; use "
			   "\"[success=1 default=ignore]\" followed by pam_deny.so (see "
			   "pam_policy(8))"), path, writer->lineno, writer->module,
			   writer->control, record->lineno);
		problems++;
	}
	if (problems == 0 && check != NULL && record != NULL)
		doctor_add(f, DOCTOR_OK,
			   _("%s: password stack: check line %u above %s (line %u, use_authtok), "
			   "record line %u below it"), path, check->lineno, writer->module,
			   writer->lineno, record->lineno);
}

/*
 * Has the file "sibling" in path's directory an account line with
 * pam_policy.so? (Debian: common-password's accounts live in
 * common-account, which doctor checks on its own.)
 */
static bool sibling_has_account_line(const char *path, const char *sibling)
{
	char other[4096];
	const char *slash = strrchr(path, '/');
	struct pam_line *lines = NULL;
	size_t n = 0;
	bool found = false;
	int len;

	if (slash == NULL)
		len = snprintf(other, sizeof(other), "%s", sibling);
	else
		len = snprintf(other, sizeof(other), "%.*s/%s", (int)(slash - path), path,
			       sibling);
	if (len < 0 || (size_t)len >= sizeof(other) ||
	    read_pam_file(other, &lines, &n) != PP_OK)
		return false;
	for (size_t i = 0; i < n && !found; i++)
		found = lines[i].type == PT_ACCOUNT && is_policy(&lines[i]);
	free(lines);
	return found;
}

static void check_account_stack(const char *path, const struct pam_line *lines,
				size_t n, bool uses_password, struct doctor_findings *f)
{
	const struct pam_line *account = NULL, *inc = NULL;
	size_t account_lines = 0;
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	for (size_t i = 0; i < n; i++) {
		if (lines[i].type != PT_ACCOUNT)
			continue;
		account_lines++;
		if (lines[i].include[0] && inc == NULL)
			inc = &lines[i];
		if (is_policy(&lines[i]) && account == NULL)
			account = &lines[i];
	}
	for (size_t i = 0; i < n && inc == NULL; i++)
		if (lines[i].type == PT_INCLUDE && strstr(lines[i].include, "account"))
			inc = &lines[i];
	if (account != NULL) {
		if (ignores_failure(account->control))
			doctor_add(f, DOCTOR_PROBLEM,
				   _("%s:%u: the account line is marked %s - expired passwords "
				   "are not enforced at login; use required"), path,
				   account->lineno, account->control);
		else
			doctor_add(f, DOCTOR_OK, _("%s:%u: account line present (expiry is "
				   "enforced at login)"), path, account->lineno);
		return;
	}
	if (!uses_password)
		return;
	if (inc != NULL) {
		doctor_add(f, DOCTOR_NOTE,
			   _("%s: no account line here; the account stack comes from %s "
			   "(line %u) - make sure it has \"account required pam_policy.so\""),
			   path, inc->include, inc->lineno);
	} else if (account_lines == 0) {
		/* Debian's common-password: accounts live in common-account. */
		if (strcmp(base, "common-password") == 0 &&
		    sibling_has_account_line(path, "common-account"))
			return;
		doctor_add(f, DOCTOR_NOTE,
			   _("%s: no account line in this file; make sure %s has "
			   "\"account required pam_policy.so\", or password expiry is never "
			   "enforced at login"),
			   path, strcmp(base, "common-password") == 0 ? "common-account"
				 : "common-account (Debian) or system-auth/password-auth (Red Hat)");
	} else {
		doctor_add(f, DOCTOR_PROBLEM,
			   _("%s: the account stack has no pam_policy.so - expired passwords "
			   "are not enforced at login; add \"account required pam_policy.so\""),
			   path);
	}
}

/*
 * The breach check at login (pam_policy.8): "auth optional pam_policy.so
 * breachcheck" after the module that authenticates. Before it, the line
 * would look up a password not yet known to be the user's.
 */
static void check_auth_stack(const char *path, const struct pam_line *lines, size_t n,
			     struct doctor_findings *f)
{
	const struct pam_line *authenticator = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct pam_line *l = &lines[i];

		if (l->type != PT_AUTH)
			continue;
		if (!is_policy(l)) {
			if (authenticator == NULL && in_list(l->module, writers))
				authenticator = l;
			continue;
		}
		if (!has_arg(l, "breachcheck")) {
			doctor_add(f, DOCTOR_PROBLEM, _("%s:%u: an auth line of pam_policy.so "
				   "without breachcheck does nothing - add breachcheck, or "
				   "remove the line"), path, l->lineno);
		} else if (authenticator == NULL) {
			doctor_add(f, DOCTOR_PROBLEM, _("%s:%u: the breachcheck line comes before "
				   "the module that authenticates (pam_unix, pam_sss, ...) - move "
				   "it after it, so that it only checks a password that worked"),
				   path, l->lineno);
		} else if (strcmp(l->control, "optional") != 0) {
			doctor_add(f, DOCTOR_NOTE, _("%s:%u: the breachcheck line is %s - write "
				   "optional (it never decides a login)"), path, l->lineno,
				   l->control);
		} else {
			doctor_add(f, DOCTOR_OK, _("%s:%u: breach check at login, after %s "
				   "(line %u)"), path, l->lineno, authenticator->module,
				   authenticator->lineno);
		}
	}
}

pp_err doctor_pam_file(const char *path, struct doctor_findings *f, bool *uses_policy)
{
	struct pam_line *lines = NULL;
	size_t n = 0;
	bool uses = false, uses_password = false;
	pp_err rc = read_pam_file(path, &lines, &n);

	if (uses_policy != NULL)
		*uses_policy = false;
	if (rc != PP_OK) {
		doctor_add(f, DOCTOR_PROBLEM, _("%s: cannot read: %s"), path,
			   rc == PP_ERR_IO ? strerror(errno) : pp_error_text(rc));
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_policy(&lines[i]))
			continue;
		uses = true;
		if (lines[i].type == PT_PASSWORD)
			uses_password = true;
	}
	if (uses) {
		for (size_t i = 0; i < n; i++)
			if (lines[i].type == PT_INCLUDE)
				doctor_add(f, DOCTOR_NOTE, _("%s:%u: @include %s is not followed "
					   "by doctor"), path, lines[i].lineno, lines[i].include);
		if (uses_password)
			check_password_stack(path, lines, n, f);
		check_account_stack(path, lines, n, uses_password, f);
		check_auth_stack(path, lines, n, f);
	}
	if (uses_policy != NULL)
		*uses_policy = uses;
	free(lines);
	return PP_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

pp_err doctor_pam_dir(const char *dir, struct doctor_findings *f)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0, users = 0;
	pp_err rc = PP_OK;

	if (d == NULL) {
		doctor_add(f, DOCTOR_PROBLEM, _("%s: cannot read: %s"), dir, strerror(errno));
		return PP_ERR_IO;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **p = realloc(names, ncap * sizeof(*p));
			if (p == NULL) {
				rc = PP_ERR_NOMEM;
				break;
			}
			names = p;
			cap = ncap;
		}
		if ((names[n] = strdup(e->d_name)) == NULL) {
			rc = PP_ERR_NOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (names != NULL)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		bool uses = false;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (rc == PP_OK && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			pp_err frc = doctor_pam_file(path, f, &uses);
			if (frc == PP_ERR_NOMEM)
				rc = frc;
			if (uses)
				users++;
		}
		free(names[i]);
	}
	free(names);
	if (rc == PP_ERR_NOMEM)
		f->oom = true;
	else if (users == 0)
		doctor_add(f, DOCTOR_PROBLEM,
			   _("%s: no service uses pam_policy.so - the policy is not enforced; "
			   "see EXAMPLES in pam_policy(8)"), dir);
	return rc;
}

/* ---- daemon, socket and files ---- */

void doctor_daemon(const struct policy *p, struct doctor_findings *f)
{
	char text[256], dir[POLICY_MAX_PATH], *slash;
	struct stat st;
	pp_err rc;

	if (lstat(p->socket, &st) != 0) {
		doctor_add(f, DOCTOR_PROBLEM, _("socket %s: %s - is pam_policyd running? "
			   "(systemctl start pam_policyd)"), p->socket, strerror(errno));
	} else if (!S_ISSOCK(st.st_mode)) {
		doctor_add(f, DOCTOR_PROBLEM, _("%s is not a socket - remove it and restart "
			   "pam_policyd"), p->socket);
	} else {
		doctor_add(f, DOCTOR_OK, _("%s is a socket"), p->socket);
	}
	snprintf(dir, sizeof(dir), "%s", p->socket);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (stat(dir, &st) == 0) {
			if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
				doctor_add(f, DOCTOR_PROBLEM, _("socket directory %s is writable by "
					   "others (mode %04o) - anyone could replace the socket; "
					   "chmod o-w %s"), dir, (unsigned)(st.st_mode & 07777), dir);
			else if (st.st_mode & (S_IWOTH | S_IWGRP))
				doctor_add(f, DOCTOR_PROBLEM, _("socket directory %s is writable by "
					   "group or others (mode %04o) - chmod 0755 %s"), dir,
					   (unsigned)(st.st_mode & 07777), dir);
			else if (st.st_uid != 0 && st.st_uid != geteuid())
				doctor_add(f, DOCTOR_PROBLEM, _("socket directory %s is owned by "
					   "uid %u - it should belong to root"), dir,
					   (unsigned)st.st_uid);
			else
				doctor_add(f, DOCTOR_OK, _("socket directory %s is not writable by "
					   "others"), dir);
		}
	}
	rc = request_simple(p->socket, p->timeout_ms, PROTO_PING, NULL, text, sizeof(text));
	if (rc == PP_OK)
		doctor_add(f, DOCTOR_OK, _("pam_policyd is reachable at %s (version %s)"),
			   p->socket, text[0] ? text : "unknown");
	else
		doctor_add(f, DOCTOR_PROBLEM, _("pam_policyd is not reachable at %s: %s - "
			   "start it (systemctl start pam_policyd) and check its log "
			   "(journalctl -u pam_policyd)"), p->socket, pp_error_text(rc));
	if (rc == PP_OK && strcmp(text, PAM_POLICY_VERSION) != 0)
		doctor_add(f, DOCTOR_NOTE, _("pam_policyd is version %s, pam_policyctl %s - "
			   "restart the daemon after an upgrade"), text, PAM_POLICY_VERSION);
}

/* ---- the fleet ---- */

void doctor_format_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

pp_err doctor_fleet_query(const char *socket, int timeout_ms, struct doctor_fleet *out)
{
	uint8_t buf[PROTO_MAX_FRAME];
	struct proto_msg req, msg;
	int fd = -1;
	pp_err rc;

	memset(out, 0, sizeof(*out));
	proto_msg_init(&req, PROTO_FLEET);
	if ((rc = client_connect(socket, timeout_ms, &fd)) != PP_OK)
		return rc;
	rc = client_call(fd, &req, buf, sizeof(buf), &msg, timeout_ms);
	client_close(&fd);
	if (rc != PP_OK)
		return rc;
	if (msg.type == PROTO_REPLY)
		return request_status_to_error(msg.f[PROTO_REPLY_STATUS].u64) == PP_OK
			       ? PP_ERR_PROTOCOL
			       : request_status_to_error(msg.f[PROTO_REPLY_STATUS].u64);
	if (msg.type != PROTO_FLEET_REPLY ||
	    msg.f[PROTO_FLEET_REPLY_DEGRADED_SINCE].u64 > INT64_MAX ||
	    proto_copy_str(&msg, PROTO_FLEET_REPLY_BACKEND, out->backend,
			   sizeof(out->backend)) != PP_OK ||
	    proto_copy_str(&msg, PROTO_FLEET_REPLY_HOST, out->host, sizeof(out->host)) != PP_OK ||
	    proto_copy_str(&msg, PROTO_FLEET_REPLY_REASON, out->reason,
			   sizeof(out->reason)) != PP_OK)
		return PP_ERR_PROTOCOL;
	out->degraded_since = (int64_t)msg.f[PROTO_FLEET_REPLY_DEGRADED_SINCE].u64;
	out->replica_seq = msg.f[PROTO_FLEET_REPLY_REPLICA_SEQ].u64;
	out->outbox = msg.f[PROTO_FLEET_REPLY_OUTBOX].u64;
	return PP_OK;
}

void doctor_fleet(const struct policy *p, struct doctor_findings *f)
{
	struct doctor_fleet st;
	char since[32];

	if (p->store != POLICY_STORE_POSTGRESQL)
		return;
	if (doctor_fleet_query(p->socket, p->timeout_ms, &st) != PP_OK) {
		doctor_add(f, DOCTOR_NOTE, _("fleet: the state of this host's replica is not "
					     "known (pam_policyd does not answer; see above)"));
		return;
	}
	if (strcmp(st.backend, "postgresql") != 0) {
		/* TRANSLATORS: "store = postgresql" and "store = %s" are configuration
		   lines: keep them as they are. */
		doctor_add(f, DOCTOR_PROBLEM, _("the configuration says store = postgresql, "
						"but pam_policyd runs with store = %s - restart it"),
			   st.backend);
		return;
	}
	if (st.degraded_since != 0) {
		doctor_format_time(st.degraded_since, since, sizeof(since));
		/* TRANSLATORS: %1$s is the host name, %2$s a UTC time
		   (2026-01-31T12:00:00Z), %3$s the database error (not translated), %4$llu
		   a number of changes. */
		doctor_add(f, DOCTOR_PROBLEM,
			   P_("fleet host %1$s: degraded since %2$s: the fleet database is "
			      "unreachable (%3$s); logins and checks are answered from the local "
			      "replica, %4$llu change waits in the outbox and is replayed when "
			      "it is back",
			      "fleet host %1$s: degraded since %2$s: the fleet database is "
			      "unreachable (%3$s); logins and checks are answered from the local "
			      "replica, %4$llu changes wait in the outbox and are replayed when "
			      "it is back", st.outbox),
			   st.host, since, st.reason[0] ? st.reason : _("no reason given"),
			   (unsigned long long)st.outbox);
		return;
	}
	/* TRANSLATORS: %1$s is the host name; %2$llu the number of the last change
	   applied, %3$llu how many changes wait in the outbox. */
	doctor_add(f, DOCTOR_OK, _("fleet host %1$s: in sync with the fleet database "
				   "(change %2$llu applied, outbox %3$llu)"), st.host,
		   (unsigned long long)st.replica_seq, (unsigned long long)st.outbox);
}

/*
 * A secret file in the state directory, judged by the rule the daemon
 * applies when it loads it (fsutil_secret_file_stat).
 */
static void check_secret(const char *dir, const char *name, const char *what,
			 off_t size, struct doctor_findings *f)
{
	char path[POLICY_MAX_PATH + 32];
	struct stat st;
	unsigned mode;
	int saved;

	if (paths_state_file(path, sizeof(path), dir, name) != PP_OK) {
		doctor_add(f, DOCTOR_PROBLEM, _("%s in %s: path too long"), what, dir);
		return;
	}
	if (lstat(path, &st) != 0) {
		saved = errno;
		if (saved == EACCES)
			doctor_add(f, DOCTOR_NOTE, _("%s %s: not checked (run doctor as root)"),
				   what, path);
		else
			doctor_add(f, DOCTOR_PROBLEM, _("%s %s: %s - pam_policyd creates it "
				   "only when it starts with an empty store; if it was lost, "
				   "restore it from your backup (see BACKUP in "
				   "pam_policyd(8)): over existing data pam_policyd does not "
				   "start without it"), what, path, strerror(saved));
		return;
	}
	mode = (unsigned)(st.st_mode & 07777);
	switch (fsutil_secret_file_stat(&st, size)) {
	case FSUTIL_OK:
		doctor_add(f, DOCTOR_OK, _("%s %s present, mode %04o, %lld bytes"), what,
			   path, mode, (long long)st.st_size);
		break;
	case FSUTIL_WRONG_TYPE:
		doctor_add(f, DOCTOR_PROBLEM, _("%s %s is not a regular file"), what, path);
		break;
	case FSUTIL_WRONG_MODE:
		doctor_add(f, DOCTOR_PROBLEM, _("%s %s has mode %04o - chmod %04o %s"),
			   what, path, mode, FSUTIL_SECRET_MODE, path);
		break;
	case FSUTIL_WRONG_OWNER:
		doctor_add(f, DOCTOR_PROBLEM, _("%s %s is owned by uid %u, not uid %u "
			   "that runs pam_policyd - chown %u %s"), what, path,
			   (unsigned)st.st_uid, (unsigned)geteuid(), (unsigned)geteuid(),
			   path);
		break;
	case FSUTIL_WRONG_SIZE:
		doctor_add(f, DOCTOR_PROBLEM, _("%s %s is %lld bytes, not %lld - restore "
			   "it from your backup"), what, path, (long long)st.st_size,
			   (long long)size);
		break;
	}
}

/* Ask the daemon how the secrets on disk compare with the store (root only). */
static pp_err ask_secrets(const struct policy *p, uint64_t *bits, char *text,
			  size_t len)
{
	uint8_t buf[PROTO_MAX_FRAME];
	struct proto_msg req, rep;
	int fd = -1;
	pp_err rc;

	*bits = 0;
	text[0] = '\0';
	proto_msg_init(&req, PROTO_SECRETS);
	rc = client_connect(p->socket, p->timeout_ms, &fd);
	if (rc == PP_OK)
		rc = client_call(fd, &req, buf, sizeof(buf), &rep, p->timeout_ms);
	client_close(&fd);
	if (rc == PP_OK && rep.type != PROTO_REPLY)
		rc = PP_ERR_PROTOCOL;
	if (rc != PP_OK)
		return rc;
	if (proto_copy_str(&rep, PROTO_REPLY_TEXT, text, len) != PP_OK)
		text[0] = '\0';
	*bits = rep.f[PROTO_REPLY_DETAIL].u64;
	return request_status_to_error(rep.f[PROTO_REPLY_STATUS].u64);
}

/*
 * Is the pepper file still the one the store is bound to? pam_policyd
 * refuses to start with a missing or different pepper; only the running
 * daemon can compare the file with the store's check value (the CLI never
 * opens the store), so a file lost or replaced while it runs is caught
 * here, before the next restart.
 */
static void check_pepper_binding(const struct policy *p, struct doctor_findings *f)
{
	char path[POLICY_MAX_PATH + 32], text[PROTO_MAX_STR + 1];
	uint64_t bits;
	pp_err rc;

	if (paths_state_file(path, sizeof(path), p->state_dir, PATHS_PEPPER) != PP_OK)
		return;
	rc = ask_secrets(p, &bits, text, sizeof(text));
	if (rc == PP_ERR_DENIED) {
		doctor_add(f, DOCTOR_NOTE, _("pepper %s: whether it is the pepper the "
			   "store is bound to is not checked (run doctor as root)"), path);
		return;
	}
	if (rc != PP_OK) {
		bool up = request_simple(p->socket, p->timeout_ms, PROTO_PING, NULL,
					 NULL, 0) == PP_OK;
		doctor_add(f, DOCTOR_NOTE, _("pepper %s: whether it is the pepper the "
			   "store is bound to is not checked: %s - pam_policyd checks it "
			   "every time it starts and refuses to start with a missing or "
			   "different pepper"), path,
			   up ? "this pam_policyd does not answer the question (restart "
				"it after an upgrade)"
			      : "pam_policyd is not running");
		return;
	}
	if (!(bits & PROTO_SECRETS_PEPPER_BOUND)) {
		doctor_add(f, DOCTOR_NOTE, _("pepper %s: the store records no check value "
			   "of its pepper yet - pam_policyd records it when it starts"), path);
	} else if (!(bits & PROTO_SECRETS_PEPPER_IN_USE)) {
		doctor_add(f, DOCTOR_PROBLEM, _("pam_policyd runs with a pepper the store is "
			   "not bound to - restart it and read its log (journalctl -u "
			   "pam_policyd)"));
	} else if (bits & PROTO_SECRETS_PEPPER_FILE_MISSING) {
		doctor_add(f, DOCTOR_PROBLEM, _("pepper %s is missing: the running "
			   "pam_policyd still holds the pepper the store is bound to, but "
			   "it will refuse to start the next time - restore the file from "
			   "your backup now (see BACKUP in pam_policyd(8)) and do not "
			   "restart pam_policyd before"), path);
	} else if (!(bits & PROTO_SECRETS_PEPPER_FILE)) {
		doctor_add(f, DOCTOR_PROBLEM, _("%s - pam_policyd will refuse to start with "
			   "it; fix it before pam_policyd restarts"),
			   text[0] ? text : "the pepper file cannot be used");
	} else if (!(bits & PROTO_SECRETS_PEPPER_FILE_MATCHES)) {
		doctor_add(f, DOCTOR_PROBLEM, _("pepper %s is not the pepper the store is "
			   "bound to (the running pam_policyd still holds the right one): "
			   "it will refuse to start the next time - put the right file back "
			   "from your backup (see BACKUP in pam_policyd(8)) and do not "
			   "restart pam_policyd before"), path);
	} else {
		doctor_add(f, DOCTOR_OK, _("pepper %s is the pepper the store is bound to "
			   "(checked by pam_policyd)"), path);
	}
}

/*
 * The cracklib dictionary dictcheck reads (DICTPATH.pwd or .pwd.gz, and
 * .pwi, as cracklib opens them). Without it the module refuses every
 * change as a configuration error, so it is a problem, not a note.
 */
static void check_dictionary(const struct policy *p, struct doctor_findings *f)
{
	static const char *const suffixes[] = { ".pwd", ".pwd.gz", ".pwi" };
	bool found[3] = { false, false, false };
	char path[POLICY_MAX_PATH + 16];

	if (!p->dictcheck) {
		doctor_add(f, DOCTOR_NOTE, _("dictcheck = no: passwords are not checked "
			   "against the cracklib dictionary"));
		return;
	}
	for (size_t i = 0; i < 3; i++) {
		int n = snprintf(path, sizeof(path), "%s%s", p->dictpath, suffixes[i]);
		found[i] = n > 0 && (size_t)n < sizeof(path) && access(path, R_OK) == 0;
	}
	if ((found[0] || found[1]) && found[2])
		doctor_add(f, DOCTOR_OK, _("cracklib dictionary %s present"), p->dictpath);
	else
		doctor_add(f, DOCTOR_PROBLEM, _("cracklib dictionary %s is missing (%s.pwd "
			   "and %s.pwi) - every password change fails while dictcheck = "
			   "yes; install it (apt-get install cracklib-runtime), or set "
			   "dictpath to where it is"), p->dictpath, p->dictpath, p->dictpath);
}

/*
 * The word list's index (wordindex.h). Missing, stale or built from other
 * lists: a note (checks read the plain list: the same verdicts, slower).
 * Corrupt: a problem (the plain list is read, but the file needs
 * rebuilding); a wordlist naming a refused index is one too (checks then
 * fail closed).
 */
static void check_wordlist_index(const struct policy *p, struct doctor_findings *f)
{
	char why[1024];

	switch (wordindex_verify(p, GUESS_HASH_SCHEME, why, sizeof(why))) {
	case WORDINDEX_USED:
	case WORDINDEX_IS_LIST:
		doctor_add(f, DOCTOR_OK, "%s", why);
		break;
	case WORDINDEX_OFF:
		break;
	case WORDINDEX_MISSING:
	case WORDINDEX_STALE:
	case WORDINDEX_OTHER:
		doctor_add(f, DOCTOR_NOTE, "%s", why);
		break;
	case WORDINDEX_BAD:
	case WORDINDEX_LIST_BAD:
		doctor_add(f, DOCTOR_PROBLEM, "%s", why);
		break;
	}
}

/*
 * The breach filter (blocklist): on (file, entries, build date, checksum
 * status), off (no file at the default path, or blocklist empty), or a
 * problem - a configured file missing, or any file truncated or corrupt:
 * the module then refuses every password change (pam_policy.8).
 */
static void check_breach_filter(const struct policy *p, struct doctor_findings *f)
{
	struct blocklist *bl = NULL;
	struct blocklist_info info;
	char why[512] = "", built[32] = "?";
	struct tm tm;
	time_t t;
	bool all_pages;
	pp_err rc = rules_blocklist_open(p, &bl, why, sizeof(why));

	if (rc == PP_ERR_IO && errno == EACCES) {
		doctor_add(f, DOCTOR_NOTE, _("breach filter %s: not checked (run doctor as root)"),
			   p->blocklist);
		return;
	}
	if (rc != PP_OK) {
		doctor_add(f, DOCTOR_PROBLEM, _("breach filter: %s - every password change is "
			   "refused until it is fixed: rebuild it (pam_policyctl blocklist "
			   "build -o %s ...) or set blocklist to another file (empty for none)"),
			   why[0] ? why : pp_error_text(rc), p->blocklist);
		return;
	}
	if (bl == NULL) {
		if (p->blocklist[0] == '\0')
			doctor_add(f, DOCTOR_NOTE, _("blocklist is empty: the breach check is off"));
		else
			doctor_add(f, DOCTOR_NOTE, _("no filter at %s: the breach check is off "
				   "(build one with pam_policyctl blocklist build)"), p->blocklist);
		return;
	}
	rc = blocklist_info(bl, &info, false);
	all_pages = rc == PP_OK && info.file_size <= DOCTOR_VERIFY_PAGES_MAX;
	if (all_pages)
		rc = blocklist_info(bl, &info, true);
	blocklist_close(bl);
	if (rc != PP_OK) {
		doctor_add(f, DOCTOR_PROBLEM, _("breach filter %s cannot be read: %s - every "
			   "password change is refused until it is fixed"), p->blocklist,
			   strerror(errno));
		return;
	}
	t = (time_t)info.built;
	if (gmtime_r(&t, &tm) != NULL)
		strftime(built, sizeof(built), "%Y-%m-%d %H:%M UTC", &tm);
	if (!info.checksum_ok) {
		doctor_add(f, DOCTOR_PROBLEM,
			   P_("breach filter %s is corrupt: %llu bad page - lookups on it "
			      "refuse the change; rebuild it",
			      "breach filter %s is corrupt: %llu bad pages - lookups on them "
			      "refuse the change; rebuild it", info.bad_pages),
			   p->blocklist, (unsigned long long)info.bad_pages);
		return;
	}
	/* TRANSLATORS: %1$s the file, %2$llu entries, %3$s SHA-1 or NTLM, %4$s
	   a date, %5$s how far the checksums were verified. */
	doctor_add(f, DOCTOR_OK,
		   P_("breach check on: %1$s, %2$llu entry (%3$s), built %4$s, checksums %5$s",
		      "breach check on: %1$s, %2$llu entries (%3$s), built %4$s, checksums %5$s",
		      info.entries),
		   p->blocklist, (unsigned long long)info.entries,
		   blocklist_kind_name(info.kind), built,
		   all_pages ? _("ok (every page)") : _("ok (header and directory; pages are "
		   "checked as they are read)"));
}

void doctor_state(const struct policy *p, struct doctor_findings *f)
{
	struct stat st;
	struct group gr, *gres = NULL;
	char buf[4096];
	unsigned mode;
	int saved;

	check_dictionary(p, f);
	check_wordlist_index(p, f);
	check_breach_filter(p, f);

	if (lstat(p->state_dir, &st) != 0) {
		saved = errno;
		if (saved == EACCES)
			doctor_add(f, DOCTOR_NOTE, _("state directory %s: not checked (run doctor "
				   "as root)"), p->state_dir);
		else
			doctor_add(f, DOCTOR_PROBLEM, _("state directory %s: %s - pam_policyd "
				   "creates it on first start"), p->state_dir, strerror(saved));
	} else {
		/* The rule pam_policyd applies when it starts (fsutil.h). */
		mode = (unsigned)(st.st_mode & 07777);
		switch (fsutil_private_dir_stat(&st, FSUTIL_STATE_DIR_MODE)) {
		case FSUTIL_OK:
			if (st.st_uid == 0)
				doctor_add(f, DOCTOR_OK, _("state directory %s: mode %04o, owned "
							   "by root"), p->state_dir, mode);
			else
				doctor_add(f, DOCTOR_OK, _("state directory %s: mode %04o, owned "
							   "by the caller"), p->state_dir, mode);
			break;
		case FSUTIL_WRONG_TYPE:
			doctor_add(f, DOCTOR_PROBLEM, _("state directory %s is not a directory"),
				   p->state_dir);
			break;
		case FSUTIL_WRONG_MODE:
		case FSUTIL_WRONG_SIZE:
			doctor_add(f, DOCTOR_PROBLEM, _("state directory %s has mode %04o - "
				   "chmod %04o %s"), p->state_dir, mode, FSUTIL_STATE_DIR_MODE,
				   p->state_dir);
			break;
		case FSUTIL_WRONG_OWNER:
			doctor_add(f, DOCTOR_PROBLEM, _("state directory %s is owned by uid %u, "
				   "not uid %u - chown %u %s"), p->state_dir, (unsigned)st.st_uid,
				   (unsigned)geteuid(), (unsigned)geteuid(), p->state_dir);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			check_secret(p->state_dir, PATHS_PEPPER, _("pepper"), PATHS_PEPPER_BYTES, f);
			check_pepper_binding(p, f);
			check_secret(p->state_dir, PATHS_AUDIT_KEY, _("audit key"),
				     AUDIT_KEY_BYTES, f);
		}
	}
	if (stat(p->audit_log, &st) != 0) {
		saved = errno;
		if (saved == EACCES)
			doctor_add(f, DOCTOR_NOTE, _("audit log %s: not checked (run doctor as "
				   "root)"), p->audit_log);
		else
			doctor_add(f, DOCTOR_PROBLEM, _("audit log %s: %s - pam_policyd creates "
				   "it on start; is it running?"), p->audit_log, strerror(saved));
		return;
	}
	mode = (unsigned)(st.st_mode & 07777);
	if (mode & 0027)
		doctor_add(f, DOCTOR_PROBLEM, _("audit log %s has mode %04o - chmod 0640 %s"),
			   p->audit_log, mode, p->audit_log);
	else if (mode != 0640)
		doctor_add(f, DOCTOR_NOTE, _("audit log %s has mode %04o, not 0640 - members "
			   "of %s cannot read it"), p->audit_log, mode, p->audit_group);
	else
		doctor_add(f, DOCTOR_OK, _("audit log %s present, mode 0640"), p->audit_log);
	if (getgrnam_r(p->audit_group, &gr, buf, sizeof(buf), &gres) != 0 || gres == NULL)
		doctor_add(f, DOCTOR_NOTE, _("audit group %s does not exist - only root can "
			   "run reports and read the audit log (groupadd --system %s)"),
			   p->audit_group, p->audit_group);
	else if (st.st_gid != gr.gr_gid)
		doctor_add(f, DOCTOR_NOTE, _("audit log %s does not belong to group %s - "
			   "chgrp %s %s"), p->audit_log, p->audit_group, p->audit_group,
			   p->audit_log);
}

/* ---- dates in the future ---- */

#define DOCTOR_FUTURE_NAMES 5

void doctor_future_dates(const struct report *r, pp_err fetched,
			 struct doctor_findings *f)
{
	char names[DOCTOR_FUTURE_NAMES * 40 + 8] = "";
	const struct report_row *rows;
	size_t n = 0, future = 0, used = 0;

	if (fetched == PP_ERR_UNREACHABLE || fetched == PP_ERR_TIMEOUT)
		return;
	if (fetched != PP_OK || r == NULL) {
		if (fetched == PP_ERR_DENIED)
			/* TRANSLATORS: audit_group is a setting: keep it. */
			doctor_add(f, DOCTOR_NOTE, _("dates in the store not checked: %s - run "
						     "doctor as root or a member of audit_group"),
				   pp_error_text(fetched));
		else
			doctor_add(f, DOCTOR_NOTE, _("dates in the store not checked: %s"),
				   pp_error_text(fetched));
		return;
	}
	rows = report_rows(r, &n);
	for (size_t i = 0; i < n; i++) {
		if (!rows[i].future_date)
			continue;
		if (future < DOCTOR_FUTURE_NAMES && used < sizeof(names)) {
			int k = snprintf(names + used, sizeof(names) - used, "%s%.32s",
					 future ? ", " : "", rows[i].user);
			used += k > 0 ? (size_t)k : 0;
		}
		future++;
	}
	if (future == 0) {
		doctor_add(f, DOCTOR_OK, _("no user has dates in the future"));
		return;
	}
	/* TRANSLATORS: %1$zu is a number of users, %2$s their names, %3$s
	   ", ..." when not all are named. timedatectl and "pam_policyctl
	   expire USER" are commands: keep them. */
	doctor_add(f, DOCTOR_PROBLEM,
		   P_("%1$zu user has dates in the future: clock jumped? (%2$s%3$s) - "
		      "check the clock (timedatectl); such dates count as now until the "
		      "user's next change, so no minimum age blocks them, but they do not "
		      "expire either: pam_policyctl expire USER makes one change at the "
		      "next login",
		      "%1$zu users have dates in the future: clock jumped? (%2$s%3$s) - "
		      "check the clock (timedatectl); such dates count as now until the "
		      "user's next change, so no minimum age blocks them, but they do not "
		      "expire either: pam_policyctl expire USER makes one change at the "
		      "next login", future),
		   future, names, future > DOCTOR_FUTURE_NAMES ? ", ..." : "");
}
