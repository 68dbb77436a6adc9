/*
 * check.c - "pam_policyctl check [--user USER]": try a password against
 * the effective policy (rules_check, as the module runs it) and, for a
 * user, the daemon's history; see check_cmd.h (not check.h: the tests
 * include Check's <check.h> with pam_policy/ctl on the include path).
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "check_cmd.h"
#include "i18n.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "blocklist.h"
#include "bounds.h"
#include "request.h"
#include "rules.h"
#include "secret.h"
#include "users.h"
#include "utf8.h"

/* The numbers of pam_policyctl(8), EXIT STATUS (as ctl/main.c). */
enum {
	CHECK_EXIT_ACCEPTED = 0,
	CHECK_EXIT_REJECTED = 1,
	CHECK_EXIT_USAGE = 2,
	CHECK_EXIT_UNREACHABLE = 3,
	CHECK_EXIT_DENIED = 4,
	CHECK_EXIT_NOT_FOUND = 5,
	CHECK_EXIT_ERROR = 6,
};

#define CHECK_MESSAGE_SIZE 4096

static const char check_prog[] = "pam_policyctl";

/* ---- reading the password ---- */

/* The terminal as it was before echo went off, for the signal handler. */
static struct termios check_saved_tty;
static volatile sig_atomic_t check_tty_fd = -1;

static const int check_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void check_restore_on_signal(int sig)
{
	int fd = check_tty_fd;

	if (fd >= 0)
		(void)tcsetattr(fd, TCSANOW, &check_saved_tty);
	(void)signal(sig, SIG_DFL);
	(void)raise(sig);
}

/* Reads up to the newline or end of file, one byte at a time so that
 * nothing after the line is consumed. */
static pp_err check_read_line(int fd, char *buf, size_t cap, size_t *len,
			      bool *has_nul)
{
	size_t kept = 0;
	bool any = false;

	for (;;) {
		char ch;
		ssize_t n = read(fd, &ch, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return PP_ERR_IO;
		if (n == 0)
			break;
		any = true;
		if (ch == '\n')
			break;
		if (ch == '\0')
			*has_nul = true;
		if (kept + 1 < cap)
			buf[kept++] = ch;
		ch = '\0';
	}
	buf[kept] = '\0';
	*len = kept;
	return any ? PP_OK : PP_ERR_NOT_FOUND;
}

pp_err check_read_password(int fd, const char *prompt, char *buf, size_t cap,
			   size_t *len, bool *has_nul)
{
	struct sigaction old[sizeof(check_signals) / sizeof(check_signals[0])];
	struct termios quiet;
	bool tty = false;
	pp_err rc;

	if (buf == NULL || cap < 2 || len == NULL || has_nul == NULL || fd < 0)
		return PP_ERR_INVALID;
	buf[0] = '\0';
	*len = 0;
	*has_nul = false;
	if (isatty(fd) && tcgetattr(fd, &check_saved_tty) == 0) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = check_restore_on_signal;
		sigemptyset(&sa.sa_mask);
		quiet = check_saved_tty;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		check_tty_fd = fd;
		for (size_t i = 0; i < sizeof(check_signals) / sizeof(check_signals[0]); i++)
			(void)sigaction(check_signals[i], &sa, &old[i]);
		if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
			rc = PP_ERR_IO;
			goto restore;
		}
		tty = true;
		if (prompt != NULL) {
			fputs(prompt, stderr);
			fflush(stderr);
		}
	}
	rc = check_read_line(fd, buf, cap, len, has_nul);
	if (!tty)
		return rc;
restore:
	(void)tcsetattr(fd, TCSAFLUSH, &check_saved_tty);
	check_tty_fd = -1;
	for (size_t i = 0; i < sizeof(check_signals) / sizeof(check_signals[0]); i++)
		(void)sigaction(check_signals[i], &old[i], NULL);
	return rc;
}

/* ---- the history (daemon) ---- */

enum check_history {
	HISTORY_NOT_ASKED,   /* no --user */
	HISTORY_OFF,         /* history = 0 */
	HISTORY_SKIPPED,     /* the password breaks a hard limit: not sent */
	HISTORY_CHECKED,     /* the daemon answered */
	HISTORY_FAILED,      /* it could not be asked: see the error */
};

/*
 * One CHECK, read-only: the NFC form (what the module sends and the
 * daemon hashes), min_age 0 so that only the history is judged, no flags.
 */
static enum check_history check_history(const struct policy *p, const char *user,
					const char *password, struct rules_result *res,
					pp_err *err)
{
	struct request_check_result r;
	char *nfc = NULL;
	size_t nfc_len = 0;

	*err = PP_OK;
	if (user == NULL)
		return HISTORY_NOT_ASKED;
	if (p->history <= 0)
		return HISTORY_OFF;
	if (rules_hard_limit(res))
		return HISTORY_SKIPPED;
	*err = utf8_nfc(password, strlen(password), &nfc, &nfc_len);
	if (*err != PP_OK)
		return HISTORY_FAILED;
	*err = request_check(p->socket, p->timeout_ms, user, nfc, 0, p->history, 0, &r);
	pp_wipe(nfc, nfc_len + 1);
	free(nfc);
	if (*err != PP_OK)
		return HISTORY_FAILED;
	if (r.reused)
		rules_add(res, RULE_REUSED);
	else if (r.similar)
		rules_add(res, RULE_SIMILAR_TO_RECENT);
	return HISTORY_CHECKED;
}

static int check_exit_for(pp_err rc)
{
	switch (rc) {
	case PP_ERR_UNREACHABLE:
	case PP_ERR_TIMEOUT:
		return CHECK_EXIT_UNREACHABLE;
	case PP_ERR_DENIED:
		return CHECK_EXIT_DENIED;
	default:
		return CHECK_EXIT_ERROR;
	}
}

static void check_print_history(const struct policy *p, const char *user,
				enum check_history h, pp_err err)
{
	switch (h) {
	case HISTORY_NOT_ASKED:
		printf("%s", _("History: not checked (give --user USER to compare with a user's history)\n"));
		break;
	case HISTORY_OFF:
		/* TRANSLATORS: "history = 0" is a setting: keep it. */
		printf("%s", _("History: off (history = 0)\n"));
		break;
	case HISTORY_SKIPPED:
		printf("%s", _("History: not checked (the password breaks a limit that holds for everyone)\n"));
		break;
	case HISTORY_CHECKED:
		/* TRANSLATORS: %1$d is a number of passwords, %2$s a user name. */
		printf(P_("History: compared with the last %1$d password of %2$s\n",
			  "History: compared with the last %1$d passwords of %2$s\n", p->history),
		       p->history, user);
		break;
	case HISTORY_FAILED:
		if (err == PP_ERR_DENIED)
			printf("%s", _("History: not checked (only root may ask pam_policyd about a "
				       "user's history)\n"));
		else if (err == PP_ERR_UNREACHABLE || err == PP_ERR_TIMEOUT)
			/* TRANSLATORS: %1$s is the socket's path, %2$s why. */
			printf(_("History: not checked (cannot reach pam_policyd at %1$s: %2$s)\n"),
			       p->socket, pp_error_text(err));
		else
			printf(_("History: not checked (%s)\n"), pp_error_text(err));
		break;
	}
}

/* What the breach check used, as the module would (rules_blocklist_open). */
static void check_print_breach(const struct policy *p, struct blocklist *bl, bool skipped,
			       bool unreadable)
{
	struct blocklist_info info;

	if (unreadable) {
		printf(_("Breach filter: not checked (%s cannot be read by this user)\n"),
		       p->blocklist);
		return;
	}
	if (bl == NULL) {
		if (p->blocklist[0] == '\0')
			printf("%s", _("Breach filter: off (blocklist is empty)\n"));
		else
			printf(_("Breach filter: off (no filter at %s)\n"), p->blocklist);
		return;
	}
	if (skipped) {
		printf("%s", _("Breach filter: not checked (the password breaks a limit that holds "
		       "for everyone)\n"));
		return;
	}
	if (blocklist_info(bl, &info, false) == PP_OK)
		printf(P_("Breach filter: %s (%llu entry)\n", "Breach filter: %s (%llu entries)\n",
			  info.entries), p->blocklist, (unsigned long long)info.entries);
	else
		printf(_("Breach filter: %s\n"), p->blocklist);
}

/* ---- the command ---- */

static int check_usage(const char *what)
{
	fprintf(stderr, "%s: check: %s\n%s\n", check_prog, what,
		_("(try \"pam_policyctl --help\")"));
	return CHECK_EXIT_USAGE;
}

/* Runs the rules and the history on password (len bytes as read). */
static int check_judge(const struct policy *p, const char *user,
		       const struct users_info *info, const char *password,
		       size_t len, bool has_nul)
{
	struct rules_context ctx = { .user = user, .gecos = info ? info->gecos : NULL };
	struct rules_result res;
	struct blocklist *breach = NULL;
	enum check_history h = HISTORY_NOT_ASKED;
	char *message, why[512] = "";
	bool unreadable = false;
	int ex;
	pp_err rc, herr = PP_OK;

	/* As the module: a configured filter that cannot be used is an error. */
	rc = rules_blocklist_open(p, &breach, why, sizeof(why));
	if (rc == PP_ERR_IO && errno == EACCES && geteuid() != 0) {
		/* The module runs as root and reads it; this caller cannot. */
		printf(_("Note: %s: the breach check is left out (run as root to include it).\n"),
		       why);
		unreadable = true;
		rc = PP_OK;
	}
	if (rc != PP_OK) {
		fprintf(stderr, "%s: breach filter: %s\n", check_prog,
			why[0] ? why : pp_error_text(rc));
		return CHECK_EXIT_ERROR;
	}
	ctx.blocklist = breach;
	message = malloc(CHECK_MESSAGE_SIZE);
	if (message == NULL) {
		fprintf(stderr, "%s: %s\n", check_prog, _("out of memory"));
		blocklist_close(breach);
		return CHECK_EXIT_ERROR;
	}
	if (has_nul) {
		/* A PAM string cannot carry a NUL: the module never sees one,
		 * and rules_check would judge only what comes before it. */
		memset(&res, 0, sizeof(res));
		res.length = -1;
		rules_add(&res, len > RULES_MAX_BYTES ? RULE_TOO_LONG : RULE_INVALID_UTF8);
		rc = PP_OK;
	} else {
		rc = rules_check(p, password, &ctx, &res);
	}
	if (rc == PP_ERR_CONFIG) {
		fprintf(stderr, "%s: ", check_prog);
		/* TRANSLATORS: dictcheck and dictpath are settings, cracklib-runtime
		   a package: keep them. */
		fprintf(stderr, _("the cracklib dictionary %s cannot be loaded (dictcheck = "
				  "yes): install it (cracklib-runtime), set dictpath, or set "
				  "dictcheck = no\n"), p->dictpath);
		ex = CHECK_EXIT_ERROR;
		goto out;
	}
	if (rc == PP_ERR_IO && breach != NULL) {
		int saved = errno;

		fprintf(stderr, "%s: ", check_prog);
		/* TRANSLATORS: blocklist is a setting; the command stays as it is. */
		fprintf(stderr, _("the breach filter %s (blocklist) cannot be read: %s: "
				  "rebuild it with \"pam_policyctl blocklist build\"\n"),
			p->blocklist, strerror(saved));
		ex = CHECK_EXIT_ERROR;
		goto out;
	}
	if (rc != PP_OK) {
		fprintf(stderr, "%s: ", check_prog);
		fprintf(stderr, _("the password rules could not run: %s\n"), pp_error_text(rc));
		ex = CHECK_EXIT_ERROR;
		goto out;
	}
	if (!has_nul)
		h = check_history(p, user, password, &res, &herr);

	if (res.count == 0) {
		printf("%s", _("The password would be accepted.\n"));
	} else {
		rules_format_message(p, &res, message, CHECK_MESSAGE_SIZE);
		printf("%s\n", message);
	}
	if (res.length >= 0)
		/* TRANSLATORS: %1$ld characters; %2$d kinds of characters (of
		   upper case, lower case, digits, special). */
		printf(P_("Length: %1$ld character, classes: %2$d of 4\n",
			  "Length: %1$ld characters, classes: %2$d of 4\n", res.length),
		       res.length, res.classes_found);
	check_print_breach(p, breach, rules_hard_limit(&res), unreadable);
	check_print_history(p, user, h, herr);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		int saved = errno;

		fprintf(stderr, "%s: ", check_prog);
		fprintf(stderr, _("write error: %s\n"), strerror(saved));
		ex = CHECK_EXIT_ERROR;
	} else if (res.count > 0) {
		ex = CHECK_EXIT_REJECTED;
	} else if (h == HISTORY_FAILED) {
		/* Asked for a user's history and could not have it: no verdict. */
		ex = check_exit_for(herr);
	} else {
		ex = CHECK_EXIT_ACCEPTED;
	}
out:
	free(message);
	blocklist_close(breach);
	return ex;
}

int check_main(const struct policy *p, const char *config_err, int argc,
	       char **argv)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	struct users_info info;
	const char *user = NULL;
	char *password;
	size_t len = 0;
	bool has_nul = false;
	int opt, ex;
	pp_err rc;

	optind = 0;   /* full re-initialisation for the sub-command's argv */
	opterr = 0;   /* our own words, as the other commands */
	while ((opt = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
		if (opt == ':')
			return check_usage(_("option \"--user\" needs a value"));
		if (opt != 'u')
			return check_usage(_("unknown option (only --user USER)"));
		user = optarg;
	}
	if (optind != argc)
		return check_usage(_("unexpected argument: the password is read from "
				     "standard input, never from the command line"));
	if (user != NULL && (user[0] == '\0' || strlen(user) > PP_NAME_MAX ||
			     !utf8_valid_text(user, strlen(user))))
		return check_usage(_("invalid user name"));
	if (config_err != NULL) {
		fprintf(stderr, "%s: %s\n", check_prog, config_err);
		return CHECK_EXIT_ERROR;
	}
	if (user != NULL) {
		rc = users_lookup(user, &info);
		if (rc == PP_ERR_NOT_FOUND) {
			fprintf(stderr, "%s: ", check_prog);
			fprintf(stderr, _("no such user: %s\n"), user);
			return CHECK_EXIT_NOT_FOUND;
		}
		if (rc != PP_OK) {
			fprintf(stderr, "%s: ", check_prog);
			/* TRANSLATORS: %1$s is a user name, %2$s why. */
			fprintf(stderr, _("cannot look up %1$s: %2$s\n"), user, pp_error_text(rc));
			return CHECK_EXIT_ERROR;
		}
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "%s: %s\n", check_prog, _("libsodium could not start"));
		return CHECK_EXIT_ERROR;
	}
	/* Guarded, locked memory: the password never reaches swap. */
	password = sodium_malloc(CHECK_INPUT_MAX);
	if (password == NULL) {
		fprintf(stderr, "%s: %s\n", check_prog, _("out of memory"));
		return CHECK_EXIT_ERROR;
	}
	rc = check_read_password(STDIN_FILENO, _("Password to check: "), password,
				 CHECK_INPUT_MAX, &len, &has_nul);
	if (rc == PP_OK) {
		if (user != NULL) {
			enum users_coverage cov = users_coverage(p, &info, USERS_PASSWD_FILE);
			if (cov != USERS_COVERED)
				/* TRANSLATORS: %1$s is a user name, %2$s why the
				   policy does not apply ("exempt user"). */
				printf(_("Note: the policy does not apply to %1$s (%2$s); this "
					 "is what it would require.\n"), user,
				       users_coverage_label(cov));
		}
		ex = check_judge(p, user, user != NULL ? &info : NULL, password, len, has_nul);
	} else if (rc == PP_ERR_NOT_FOUND) {
		ex = check_usage(_("no password on standard input"));
	} else {
		int saved = errno;

		fprintf(stderr, "%s: ", check_prog);
		fprintf(stderr, _("cannot read the password: %s\n"), strerror(saved));
		ex = CHECK_EXIT_ERROR;
	}
	pp_wipe(password, CHECK_INPUT_MAX);
	sodium_free(password);
	return ex;
}
