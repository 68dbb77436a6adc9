/*
 * pam_policy.c - the PAM module: password and account phases, and the
 * optional auth line (breachcheck) that looks up the password just used
 * to log in in the breach filter.
 *
 * A thin layer over lib/: it gathers what PAM knows (user, old and new
 * password, service, flags), asks lib/ for the decision, talks to the user
 * through the conversation and maps lib/ errors to PAM codes.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define PAM_SM_AUTH
#define PAM_SM_PASSWORD
#define PAM_SM_ACCOUNT
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "aging.h"
#include "blocklist.h"
#include "bounds.h"
#include "i18n.h"
#include "policy.h"
#include "request.h"
#include "rules.h"
#include "secret.h"
#include "users.h"
#include "utf8.h"

#define MESSAGE_SIZE 4096

static const char *const mode_words[] = { "record", "breachcheck", NULL };

/* The texts shown to users (translated by say_text), never logged. */
static const char misconfigured_text[] =
	N_("The password policy is misconfigured, so the password cannot be "
	   "changed now. Please contact your system administrator.");

static const char busy_text[] =
	N_("The password service is busy; please try again in a moment.");

static const char dictionary_missing_text[] =
	N_("The password dictionary is missing, so the password cannot be checked "
	   "now. Please tell your system administrator.");

static const char breach_unavailable_text[] =
	N_("The list of breached passwords cannot be read, so the password cannot be "
	   "checked now. Please tell your system administrator.");

static const char breached_login_text[] =
	N_("Your password appears in a list of passwords exposed in data breaches. "
	   "You must choose a new one now.");

/*
 * pam_set_data name: the auth line (breachcheck) found the login password
 * breached. The account line of the same transaction forces a change
 * even when the daemon could not be told (or cannot be asked).
 */
#define BREACHED_DATA "pam_policy_breached"
static bool breached_at_login(pam_handle_t *pamh);

/* pam_set_data name of the time budget of one pam_chauthtok call. */
#define BUDGET_DATA "pam_policy_budget"

/* Wipe and free a string PAM or the conversation handed us. */
static void secret_free(char **s)
{
	if (*s != NULL) {
		pp_wipe(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

/*
 * The form the daemon hashes (DESIGN.md section 9): the NFC form of the
 * password, in CHECK and in RECORD alike, so that "e" + U+0301 and "é" are
 * one entry of the history. PAM_AUTHTOK, what the writer hashes, stays as
 * typed. *nfc is a malloc'd copy to give to secret_free. Returns PP_OK,
 * PP_ERR_INVALID for text that is not valid UTF-8, PP_ERR_NOMEM.
 */
static pp_err history_form(const char *password, char **nfc)
{
	size_t len;

	return utf8_nfc(password, strlen(password), nfc, &len);
}

static void budget_cleanup(pam_handle_t *pamh, void *data, int error_status)
{
	free(data);
}

/*
 * The time budget of this pam_chauthtok call (request.h), kept with
 * pam_set_data so that its passes and lines (check, then record) share
 * it; fresh starts a new one (the preliminary pass starts every call).
 * Without memory for it, *fallback serves this invocation alone.
 */
static struct request_budget *chauthtok_budget(pam_handle_t *pamh, const struct policy *p,
					       bool fresh, struct request_budget *fallback)
{
	const void *data = NULL;
	struct request_budget *b;

	if (!fresh && pam_get_data(pamh, BUDGET_DATA, &data) == PAM_SUCCESS && data != NULL)
		return (struct request_budget *)data;
	request_budget_init(fallback, p->timeout_ms);
	b = malloc(sizeof(*b));
	if (b == NULL)
		return fallback;
	request_budget_init(b, p->timeout_ms);
	if (pam_set_data(pamh, BUDGET_DATA, b, budget_cleanup) != PAM_SUCCESS) {
		free(b);
		return fallback;
	}
	return b;
}

static bool has_word(int argc, const char **argv, const char *word)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], word) == 0)
			return true;
	return false;
}

/* Show text (already in the user's language) unless PAM_SILENT. */
static void say(pam_handle_t *pamh, int flags, int style, const char *text)
{
	if (flags & PAM_SILENT)
		return;
	pam_prompt(pamh, style, NULL, "%s", text);
}

/* Show one of the N_() texts above, translated. */
static void say_text(pam_handle_t *pamh, int flags, int style, const char *msgid)
{
	say(pamh, flags, style, _(msgid));
}

/* Load the policy; on error tell syslog the details and the user the gist. */
static bool load_policy(pam_handle_t *pamh, int flags, int argc,
			const char **argv, struct policy *p, bool tell_user)
{
	char err[POLICY_ERR_LEN] = "";

	if (policy_from_args(p, argc, argv, POLICY_DEFAULT_FILE, mode_words, err,
			     sizeof(err)) == PP_OK)
		return true;
	pam_syslog(pamh, LOG_ERR, "configuration error: %s", err);
	if (tell_user)
		say_text(pamh, flags, PAM_ERROR_MSG, misconfigured_text);
	return false;
}

/*
 * Who is changing the password. With a NULL or unknown user the policy
 * still applies (fail closed); only explicit exemptions skip it.
 */
static enum users_coverage lookup_user(pam_handle_t *pamh,
				       const struct policy *p,
				       const char **user,
				       struct users_info *info, bool *known)
{
	enum users_coverage c;

	*known = false;
	if (pam_get_user(pamh, user, NULL) != PAM_SUCCESS || *user == NULL ||
	    (*user)[0] == '\0') {
		*user = NULL;
		return USERS_UNKNOWN;
	}
	if (users_lookup(*user, info) == PP_OK) {
		*known = true;
		c = users_coverage(p, info, USERS_PASSWD_FILE);
	} else {
		c = USERS_UNKNOWN;
	}
	if (p->debug)
		pam_syslog(pamh, LOG_DEBUG, "user %s: %s", *user, users_coverage_text(c));
	return c;
}

static bool caller_is_root_warn_only(const struct policy *p, int flags)
{
	return getuid() == 0 && !p->enforce_for_root &&
	       !(flags & PAM_CHANGE_EXPIRED_AUTHTOK);
}

/*
 * Get the candidate password: from PAM_AUTHTOK with use_authtok, else by
 * prompting. The prompt is libpam's (pam_get_authtok_noverify: "New
 * password: " in Linux-PAM's own translation, as pam_unix asks), so the
 * dialogue reads in one language. libpam returns a PAM_AUTHTOK that is
 * already set instead of asking, so it is cleared first: without
 * use_authtok this line always asks (an earlier module's token, or this
 * line's previous, rejected attempt, is not the answer). Returns a PAM
 * code; *password is a malloc'd copy to wipe.
 */
static int get_new_password(pam_handle_t *pamh, const struct policy *p,
			    char **password)
{
	const void *item = NULL;
	const char *typed = NULL;
	int rc;

	*password = NULL;
	if (p->use_authtok) {
		rc = pam_get_item(pamh, PAM_AUTHTOK, &item);
		if (rc != PAM_SUCCESS || item == NULL) {
			pam_syslog(pamh, LOG_ERR,
				   "use_authtok is set but no earlier module supplied a new password");
			return PAM_AUTHTOK_ERR;
		}
		*password = strdup(item);
		return *password ? PAM_SUCCESS : PAM_BUF_ERR;
	}
	rc = pam_set_item(pamh, PAM_AUTHTOK, NULL);
	if (rc == PAM_SUCCESS)
		rc = pam_get_authtok_noverify(pamh, &typed, NULL);
	if (rc != PAM_SUCCESS || typed == NULL)
		return rc == PAM_SUCCESS ? PAM_CONV_ERR : rc;
	*password = strdup(typed);
	return *password ? PAM_SUCCESS : PAM_BUF_ERR;
}

/*
 * Ask for the password again (libpam's "Retype new password: "). On a
 * mismatch libpam itself tells the user, in its own translation ("Sorry,
 * passwords do not match."), and clears PAM_AUTHTOK: *matches is false
 * and PAM_SUCCESS is returned, so the caller may ask again. On a match
 * PAM_AUTHTOK holds the password for the modules below.
 */
static int confirm_password(pam_handle_t *pamh, const char *password,
			    bool *matches)
{
	const char *again = password;
	int rc = pam_get_authtok_verify(pamh, &again, NULL);

	*matches = rc == PAM_SUCCESS;
	if (rc == PAM_TRY_AGAIN)
		return PAM_SUCCESS;
	return rc;
}

static void send_event(pam_handle_t *pamh, const struct policy *p,
		       struct request_budget *b, const char *event, const char *user,
		       const char *reasons);

static void log_event_line(pam_handle_t *pamh, const char *event, const char *user,
			   const char *reasons, const char *why);

/*
 * The audit log (through the daemon, which also writes the event's one
 * syslog/journal line): reason codes, never the password. The module
 * writes the line itself only when the event cannot reach the daemon.
 */
static void log_rejection(pam_handle_t *pamh, const struct policy *p,
			  struct request_budget *b, const char *user,
			  const struct rules_result *res, bool overridden,
			  bool daemon_answers)
{
	const char *event = overridden ? "root_override" : "change_rejected";
	char codes[512];

	rules_format_codes(res, codes, sizeof(codes));
	/* A daemon that just failed to answer is not asked again. */
	if (!daemon_answers) {
		log_event_line(pamh, event, user, codes, "pam_policyd did not answer");
		return;
	}
	send_event(pamh, p, b, event, user, codes);
}

static const char *item_text(pam_handle_t *pamh, int type)
{
	const void *item = NULL;

	if (pam_get_item(pamh, type, &item) != PAM_SUCCESS || item == NULL)
		return "";
	return item;
}

/* v as a JSON string (quotes included), cut to fit cap: no line can be forged. */
static const char *quote(const char *v, char *out, size_t cap)
{
	size_t n = 0;

	out[n++] = '"';
	for (const unsigned char *c = (const unsigned char *)(v ? v : ""); *c; c++) {
		if (n + 8 >= cap)
			break;
		if (*c == '"' || *c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)*c;
		} else if (*c < 0x20 || *c == 0x7f) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", *c);
		} else {
			out[n++] = (char)*c;
		}
	}
	out[n++] = '"';
	out[n] = '\0';
	return out;
}

/*
 * An event that did not reach the daemon: its one line, in the daemon's
 * key=value shape (pam_policyd(8), LOGGING), with seq=- (it is in no audit
 * log) and why in msg. Events that reach the daemon are logged by it.
 */
static void log_event_line(pam_handle_t *pamh, const char *event, const char *user,
			   const char *reasons, const char *why)
{
	char u[PP_NAME_MAX * 6 + 8], sv[200], rh[600], tt[200], re[1200], m[200];
	char uid[24] = "-";
	struct users_info info;

	if (user != NULL && user[0] != '\0' && users_lookup(user, &info) == PP_OK)
		snprintf(uid, sizeof(uid), "%lu", (unsigned long)info.uid);
	pam_syslog(pamh, LOG_NOTICE, "event=%s user=%s uid=%s seq=- service=%s rhost=%s "
		   "tty=%s reasons=%s actor=\"\" msg=%s", event, quote(user, u, sizeof(u)),
		   uid, quote(item_text(pamh, PAM_SERVICE), sv, sizeof(sv)),
		   quote(item_text(pamh, PAM_RHOST), rh, sizeof(rh)),
		   quote(item_text(pamh, PAM_TTY), tt, sizeof(tt)),
		   quote(reasons, re, sizeof(re)), quote(why, m, sizeof(m)));
}

/*
 * Send an audit event to the daemon (the only writer of the audit log,
 * which also logs the event's line). When it does not get there, the
 * module logs the line itself (log_event_line), so that every event has
 * exactly one. It spends from the call's budget b like every other request.
 */
static void send_event(pam_handle_t *pamh, const struct policy *p,
		       struct request_budget *b, const char *event, const char *user,
		       const char *reasons)
{
	char why[160];
	int64_t started;
	int ms;
	pp_err rc;

	rc = request_budget_begin(b, &ms, &started);
	if (rc == PP_OK) {
		rc = request_event(p->socket, ms, event, user ? user : "",
				   item_text(pamh, PAM_SERVICE), item_text(pamh, PAM_RHOST),
				   item_text(pamh, PAM_TTY), reasons ? reasons : "");
		request_budget_end(b, started, rc);
	}
	if (rc != PP_OK) {
		snprintf(why, sizeof(why), "not delivered to pam_policyd: %s", pp_strerror(rc));
		log_event_line(pamh, event, user, reasons, why);
	}
}

static bool daemon_needed(const struct policy *p)
{
	return p->history > 0 || p->min_age_days > 0;
}

/* What became of the question to the daemon. */
enum daemon_outcome {
	DAEMON_ANSWERED,     /* its verdicts (if any) are in res */
	DAEMON_SKIPPED,      /* nothing to ask, or it could not be reached */
	DAEMON_BUSY,         /* reachable but overloaded: try again in a moment */
};

/*
 * Ask the daemon about history and minimum age, adding its verdicts to res
 * so that they are shown with every other reason. One CHECK: the daemon
 * alone decides whether the change is forced (expired, flagged,
 * must-change) and the minimum age waived; PAM_CHANGE_EXPIRED_AUTHTOK is
 * passed on as a hint only ("passwd -k" sets it too). When the daemon
 * cannot be reached, on_unreachable decides: deny adds history_unavailable
 * (the change is refused with a clear reason), allow lets it through,
 * loudly. A busy daemon is not unreachable: the caller asks the user to
 * try again in a moment.
 */
static enum daemon_outcome daemon_check(pam_handle_t *pamh, int pam_flags, const struct policy *p,
			 struct request_budget *b, const char *user,
			 const struct users_info *info, const char *password,
			 struct rules_result *res)
{
	struct request_check_result r;
	char *nfc = NULL;
	uint64_t flags = 0;
	int64_t started;
	int ms;
	pp_err rc;

	if (!daemon_needed(p) || res->failed[RULE_TOO_LONG] ||
	    res->failed[RULE_INVALID_UTF8])
		return DAEMON_ANSWERED;
	if (user == NULL) {
		/* No user, no history to compare with: never pass silently. */
		rules_add(res, RULE_HISTORY_UNAVAILABLE);
		return DAEMON_ANSWERED;
	}
	if (getuid() == 0 && info != NULL && info->uid != 0)
		flags |= PROTO_CHECK_ROOT_FOR_OTHER;
	if (pam_flags & PAM_CHANGE_EXPIRED_AUTHTOK)
		flags |= PROTO_CHECK_EXPIRED_HINT;
	if (history_form(password, &nfc) != PP_OK) {
		/* Out of memory (rules_check passed it as valid UTF-8). */
		pam_syslog(pamh, LOG_ERR, "password history for %s not checked: "
			   "out of memory", user);
		rules_add(res, RULE_HISTORY_UNAVAILABLE);
		return DAEMON_ANSWERED;
	}
	/* After the daemon failed to answer in this call: no second wait. */
	rc = request_budget_begin(b, &ms, &started);
	if (rc == PP_OK) {
		rc = request_check(p->socket, ms, user, nfc, flags,
				   p->history, p->min_age_days, &r);
		request_budget_end(b, started, rc);
	}
	secret_free(&nfc);
	if (rc == PP_OK) {
		if (r.reused)
			rules_add(res, RULE_REUSED);
		if (r.similar)
			rules_add(res, RULE_SIMILAR_TO_RECENT);
		if (r.too_soon) {
			rules_add(res, RULE_TOO_SOON);
			res->min_age_days_left = r.days_left > PP_DAYS_MAX ? PP_DAYS_MAX
									   : (int)r.days_left;
		}
		return DAEMON_ANSWERED;
	}
	if (rc == PP_ERR_BUSY) {
		pam_syslog(pamh, LOG_WARNING, "password history for %s not checked: "
			   "daemon at %s: %s", user, p->socket, pp_strerror(rc));
		return DAEMON_BUSY;
	}
	if (p->on_unreachable == POLICY_UNREACHABLE_ALLOW) {
		pam_syslog(pamh, LOG_ALERT,
			   "password history for %s NOT checked: daemon at %s: %s "
			   "(on_unreachable = allow)", user, p->socket, pp_strerror(rc));
		return DAEMON_SKIPPED;
	}
	pam_syslog(pamh, LOG_ERR, "password history for %s unavailable: daemon at %s: %s",
		   user, p->socket, pp_strerror(rc));
	rules_add(res, RULE_HISTORY_UNAVAILABLE);
	return DAEMON_SKIPPED;
}

/*
 * The breach filter of p (rules_blocklist_open): true with *bl open, or
 * NULL when the check is off; false (logged, and the user told) when a
 * configured filter is missing, truncated, corrupt or unreadable.
 */
static bool open_breach_filter(pam_handle_t *pamh, int flags, const struct policy *p,
			       struct blocklist **bl)
{
	char why[512] = "";
	pp_err rc = rules_blocklist_open(p, bl, why, sizeof(why));

	if (rc == PP_OK) {
		if (*bl == NULL && p->debug)
			pam_syslog(pamh, LOG_DEBUG, "breach check off: no filter at %s",
				   p->blocklist[0] ? p->blocklist : "(blocklist is empty)");
		return true;
	}
	pam_syslog(pamh, LOG_ERR, "configuration error: breach filter: %s",
		   why[0] ? why : pp_strerror(rc));
	say_text(pamh, flags, PAM_ERROR_MSG, breach_unavailable_text);
	return false;
}

/* The check line: prompt, apply every rule, re-prompt, set PAM_AUTHTOK. */
static int password_update(pam_handle_t *pamh, int flags,
			   const struct policy *p, const char *user,
			   const struct users_info *info)
{
	struct rules_context ctx = {
		.user = user, .gecos = info ? info->gecos : NULL,
		.service = item_text(pamh, PAM_SERVICE),
	};
	struct request_budget local;
	struct request_budget *budget = chauthtok_budget(pamh, p, false, &local);
	struct blocklist *breach = NULL;
	char *password = NULL, *old = NULL;
	char *message = NULL;
	const void *item = NULL;
	bool warn_only = caller_is_root_warn_only(p, flags);
	int attempts = p->use_authtok ? 1 : p->retry;
	int rc = PAM_AUTHTOK_ERR;

	message = malloc(MESSAGE_SIZE);
	if (message == NULL)
		return PAM_BUF_ERR;
	/*
	 * Opened per call: a filter replaced meanwhile (an atomic rename) is
	 * the one this change is checked against. A configured filter that
	 * cannot be used refuses the change, as a missing dictionary does:
	 * every password would go through unchecked (pam_policy.8, Breached
	 * passwords).
	 */
	if (!open_breach_filter(pamh, flags, p, &breach)) {
		rc = PAM_AUTHTOK_ERR;
		goto out;
	}
	ctx.blocklist = breach;
	if (pam_get_item(pamh, PAM_OLDAUTHTOK, &item) == PAM_SUCCESS && item != NULL) {
		old = strdup(item);
		if (old == NULL) {
			rc = PAM_BUF_ERR;
			goto out;
		}
	}
	ctx.old_password = old;

	for (int attempt = 1; attempt <= attempts; attempt++) {
		struct rules_result res;
		bool matches = false, hard;
		enum daemon_outcome asked;
		pp_err checked;

		secret_free(&password);
		rc = get_new_password(pamh, p, &password);
		if (rc != PAM_SUCCESS)
			goto out;
		checked = rules_check(p, password, &ctx, &res);
		if (checked == PP_ERR_CONFIG) {
			/* Retrying cannot help: every password would fail alike. */
			pam_syslog(pamh, LOG_ERR, "configuration error: the cracklib dictionary "
				   "%s cannot be loaded (dictcheck = yes): install it "
				   "(cracklib-runtime), set dictpath, or set dictcheck = no",
				   p->dictpath);
			say_text(pamh, flags, PAM_ERROR_MSG, dictionary_missing_text);
			rc = PAM_AUTHTOK_ERR;
			goto out;
		}
		if (checked == PP_ERR_IO && breach != NULL) {
			pam_syslog(pamh, LOG_ERR, "configuration error: the breach filter %s "
				   "(blocklist) cannot be read: %s: rebuild it with \"pam_policyctl "
				   "blocklist build\"", p->blocklist, strerror(errno));
			say_text(pamh, flags, PAM_ERROR_MSG, breach_unavailable_text);
			rc = PAM_AUTHTOK_ERR;
			goto out;
		}
		if (checked != PP_OK) {
			pam_syslog(pamh, LOG_ERR, "password rules could not run");
			say_text(pamh, flags, PAM_ERROR_MSG, misconfigured_text);
			rc = PAM_AUTHTOK_ERR;
			goto out;
		}
		asked = daemon_check(pamh, flags, p, budget, user, info, password, &res);
		/* Empty, over-long or invalid UTF-8: refused even when root is exempt. */
		hard = rules_hard_limit(&res);
		if (res.count > 0) {
			rules_format_message(p, &res, message, MESSAGE_SIZE);
			log_rejection(pamh, p, budget, user, &res, warn_only && !hard,
				      asked != DAEMON_SKIPPED);
			if (!warn_only || hard) {
				say(pamh, flags, PAM_ERROR_MSG, message);
				if (warn_only) {
					char text[256];
					snprintf(text, sizeof(text),
						 P_("Root cannot override this: a password must not "
						    "be empty, must be valid UTF-8 text and at most "
						    "%d byte long.",
						    "Root cannot override this: a password must not "
						    "be empty, must be valid UTF-8 text and at most "
						    "%d bytes long.", RULES_MAX_BYTES),
						 RULES_MAX_BYTES);
					say(pamh, flags, PAM_ERROR_MSG, text);
				}
				rc = PAM_AUTHTOK_ERR;
				continue;
			}
			say(pamh, flags, PAM_TEXT_INFO, message);
			/* TRANSLATORS: "enforce_for_root = no" is a setting of
			   pam_policy.conf: keep it as it is. */
			say(pamh, flags, PAM_TEXT_INFO,
			    _("Accepted anyway because root is exempt from the policy "
			      "(enforce_for_root = no)."));
		}
		if (asked == DAEMON_BUSY && !warn_only) {
			say_text(pamh, flags, PAM_ERROR_MSG, busy_text);
			rc = PAM_AUTHTOK_ERR;
			continue;
		}
		if (!p->use_authtok) {
			rc = confirm_password(pamh, password, &matches);
			if (rc != PAM_SUCCESS)
				goto out;
			if (!matches) {
				/* libpam said so; PAM_AUTHTOK is cleared. */
				rc = PAM_AUTHTOK_ERR;
				continue;
			}
		}
		rc = PAM_SUCCESS;
		goto out;
	}
	if (attempts > 1)
		say(pamh, flags, PAM_ERROR_MSG,
		    _("The password was not changed: too many unsuccessful attempts."));
	rc = PAM_AUTHTOK_ERR;
out:
	blocklist_close(breach);
	/*
	 * libpam's prompt put the candidate into PAM_AUTHTOK: a refused one
	 * must not reach a writer below (a "required" check line lets the
	 * stack go on).
	 */
	if (rc != PAM_SUCCESS && !p->use_authtok)
		(void)pam_set_item(pamh, PAM_AUTHTOK, NULL);
	secret_free(&password);
	secret_free(&old);
	free(message);
	return rc;
}

/*
 * What the user is told when the daemon refuses to record a change that
 * the writer has already made: another change of the same user was
 * recorded first (changes made at the same moment), so the history and
 * the rotation clock keep that one.
 */
static void record_refused(pam_handle_t *pamh, int flags, const struct policy *p,
			   const char *user, const struct request_record_result *r)
{
	char text[512];

	pam_syslog(pamh, LOG_WARNING,
		   "password of %s was changed but NOT recorded in the history: %s",
		   user, r->reused ? "reused (the password is already in the history)"
				   : r->similar ? "similar_to_recent (too similar to a "
						  "recent password)"
				   : "too_soon (another change was recorded within "
				     "the minimum age)");
	if (r->reused)
		snprintf(text, sizeof(text), "%s",
			 _("Your password was changed, but the change was not recorded: "
			   "this password is already in your password history."));
	else if (r->similar)
		snprintf(text, sizeof(text), "%s",
			 _("Your password was changed, but the change was not recorded: "
			   "it is too similar to a recent password."));
	else
		snprintf(text, sizeof(text),
			 P_("Your password was changed, but the change was not recorded: "
			    "another change of your password was recorded just before it, "
			    "and the password may be changed only once every %d day. "
			    "If the new password does not work, contact your system "
			    "administrator.",
			    "Your password was changed, but the change was not recorded: "
			    "another change of your password was recorded just before it, "
			    "and the password may be changed only once every %d days. "
			    "If the new password does not work, contact your system "
			    "administrator.", p->min_age_days), p->min_age_days);
	say(pamh, flags, PAM_ERROR_MSG, text);
}

/*
 * The record line could not reach the daemon (or it failed to store the
 * change): the password was changed, but its history and rotation clock
 * miss it until the daemon adopts the shadow file's newer last-change
 * date. The user is told so; syslog gets an alert for the admin.
 */
static void record_failed(pam_handle_t *pamh, int flags, const struct policy *p,
			  const char *user, pp_err rc)
{
	const char *text =
		rc == PP_ERR_BUSY
			? N_("Your password was changed, but the change could not be "
			     "recorded by the password policy service (it is busy). The "
			     "new password is in effect. Please tell your system "
			     "administrator.")
		: rc == PP_ERR_STORE
			? N_("Your password was changed, but the change could not be "
			     "recorded by the password policy service (it could not store "
			     "the change). The new password is in effect. Please tell your "
			     "system administrator.")
		: rc == PP_ERR_DENIED
			? N_("Your password was changed, but the change could not be "
			     "recorded by the password policy service (it refused the "
			     "request). The new password is in effect. Please tell your "
			     "system administrator.")
			: N_("Your password was changed, but the change could not be "
			     "recorded by the password policy service (it cannot be "
			     "reached). The new password is in effect. Please tell your "
			     "system administrator.");

	pam_syslog(pamh, LOG_ALERT,
		   "password of %s was changed but NOT recorded in the history: "
		   "daemon at %s: %s", user, p->socket, pp_strerror(rc));
	say_text(pamh, flags, PAM_ERROR_MSG, text);
}

/*
 * The record line, after the writer succeeded: the daemon stores the new
 * password's hash, prunes the history and restarts the rotation clock -
 * after re-checking, in its write transaction, the minimum age and that
 * the password is not already in the history (what the check line was
 * told may no longer hold when changes of one user run at once).
 */
static int password_record(pam_handle_t *pamh, int flags, const struct policy *p,
			   const char *user, const struct users_info *info)
{
	struct request_record_result r;
	struct request_budget local;
	struct request_budget *budget = chauthtok_budget(pamh, p, false, &local);
	const void *item = NULL;
	char *nfc = NULL;
	uint64_t record_flags = 0;
	int64_t started;
	int ms;
	pp_err rc;

	if (user == NULL)
		return PAM_USER_UNKNOWN;
	if (pam_get_item(pamh, PAM_AUTHTOK, &item) != PAM_SUCCESS || item == NULL) {
		pam_syslog(pamh, LOG_ERR, "record: no new password in PAM_AUTHTOK for %s", user);
		return PAM_AUTHTOK_ERR;
	}
	if (getuid() == 0 && info != NULL && info->uid != 0)
		record_flags |= PROTO_RECORD_ROOT_FOR_OTHER;
	/* The check line's budget: a daemon that failed it is not waited for. */
	memset(&r, 0, sizeof(r));
	/* The NFC form, as the check line sent; text no check line of ours
	 * let through (not UTF-8) cannot be normalised and goes as it is. */
	rc = history_form(item, &nfc);
	if (rc == PP_OK || rc == PP_ERR_INVALID)
		rc = request_budget_begin(budget, &ms, &started);
	if (rc == PP_OK) {
		rc = request_record_from(p->socket, ms, user, nfc != NULL ? nfc : item,
					 p->history, item_text(pamh, PAM_SERVICE),
					 item_text(pamh, PAM_RHOST), item_text(pamh, PAM_TTY),
					 record_flags, p->min_age_days, &r);
		request_budget_end(budget, started, rc);
	}
	secret_free(&nfc);
	/*
	 * The writer has changed the password either way: the record line
	 * never turns that into a failure of the stack, whatever its control
	 * (PAM_IGNORE), but says plainly what was not done.
	 */
	if (rc != PP_OK) {
		record_failed(pamh, flags, p, user, rc);
		return PAM_IGNORE;
	}
	if (!r.recorded) {
		record_refused(pamh, flags, p, user, &r);
		return PAM_IGNORE;
	}
	if (p->debug)
		pam_syslog(pamh, LOG_DEBUG, "recorded new password of %s", user);
	return PAM_SUCCESS;
}

/*
 * A user the policy does not cover still needs a password for the writer
 * below (pam_unix use_authtok takes it from PAM_AUTHTOK): ask for it as
 * usual, apply no rule, and stand aside with PAM_IGNORE.
 */
static int password_uncovered(pam_handle_t *pamh, int flags, const struct policy *p)
{
	char *password = NULL;
	bool matches = false;
	int rc;

	if (p->use_authtok)
		return PAM_IGNORE;
	rc = get_new_password(pamh, p, &password);
	if (rc == PAM_SUCCESS)
		rc = confirm_password(pamh, password, &matches);
	/* A mismatch was told by libpam, which cleared PAM_AUTHTOK. */
	if (rc == PAM_SUCCESS && !matches)
		rc = PAM_AUTHTOK_ERR;
	secret_free(&password);
	return rc == PAM_SUCCESS ? PAM_IGNORE : rc;
}

/*
 * The check line's preliminary pass: a change the minimum age refuses is
 * one the user cannot avoid, so it is refused here, once, before any
 * password is asked for (the update pass, and every module below, never
 * runs). The daemon decides (PROTO_MAY_CHANGE), as for the CHECK that
 * follows: a change it knows to be forced is never refused. Root setting
 * another user's password is never asked about, and root's own change
 * under enforce_for_root = no is only warned about in the update pass.
 * When the daemon does not answer (or is busy), the update pass applies
 * its own rules; the call's budget remembers a daemon that failed.
 */
static int password_prelim(pam_handle_t *pamh, int flags, const struct policy *p,
			   const char *user, const struct users_info *info)
{
	struct request_budget local;
	struct request_budget *budget = chauthtok_budget(pamh, p, false, &local);
	struct request_check_result r;
	struct rules_result res;
	uint64_t check_flags = 0;
	char text[512];
	int64_t started;
	int ms;
	pp_err rc;

	if (p->min_age_days <= 0 || user == NULL || caller_is_root_warn_only(p, flags) ||
	    (getuid() == 0 && info != NULL && info->uid != 0))
		return PAM_SUCCESS;
	if (flags & PAM_CHANGE_EXPIRED_AUTHTOK)
		check_flags |= PROTO_CHECK_EXPIRED_HINT;
	rc = request_budget_begin(budget, &ms, &started);
	if (rc == PP_OK) {
		rc = request_may_change(p->socket, ms, user, check_flags, p->min_age_days, &r);
		request_budget_end(budget, started, rc);
	}
	if (rc != PP_OK) {
		if (p->debug)
			pam_syslog(pamh, LOG_DEBUG, "minimum age of %s not asked before the "
				   "prompt: %s", user, pp_strerror(rc));
		return PAM_SUCCESS;
	}
	if (!r.too_soon)
		return PAM_SUCCESS;
	memset(&res, 0, sizeof(res));
	rules_add(&res, RULE_TOO_SOON);
	res.min_age_days_left = r.days_left > PP_DAYS_MAX ? PP_DAYS_MAX : (int)r.days_left;
	log_rejection(pamh, p, budget, user, &res, false, true);
	{
		char once[256], again[128];

		snprintf(once, sizeof(once),
			 P_("Your password cannot be changed yet: it was changed too "
			    "recently (passwords may be changed once every %d day).",
			    "Your password cannot be changed yet: it was changed too "
			    "recently (passwords may be changed once every %d days).",
			    p->min_age_days), p->min_age_days);
		snprintf(again, sizeof(again),
			 P_("You can change it again in %d day.",
			    "You can change it again in %d days.", res.min_age_days_left),
			 res.min_age_days_left);
		snprintf(text, sizeof(text), "%s %s", once, again);
	}
	say(pamh, flags, PAM_ERROR_MSG, text);
	return PAM_AUTHTOK_ERR;
}

/*
 * The user's language for this call (DESIGN.md section 11): the PAM
 * environment's LANGUAGE, LC_ALL, LC_MESSAGES or LANG (pam_env sets them),
 * else the process locale. Only the calling thread is switched; the
 * entry points give it back before they return.
 */
static void language_enter(pam_handle_t *pamh, struct i18n_thread *t)
{
	struct i18n_env env = {
		.language = pam_getenv(pamh, "LANGUAGE"),
		.lc_all = pam_getenv(pamh, "LC_ALL"),
		.lc_messages = pam_getenv(pamh, "LC_MESSAGES"),
		.lang = pam_getenv(pamh, "LANG"),
	};

	i18n_thread_enter(t, &env);
}

static int chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct policy p;
	struct users_info info;
	struct request_budget budget;
	const char *user = NULL;
	bool known = false;
	bool record = has_word(argc, argv, "record");
	enum users_coverage coverage;

	if (!load_policy(pamh, flags, argc, argv, &p, !record))
		return record ? PAM_IGNORE : PAM_AUTHTOK_ERR;
	/*
	 * Every pam_chauthtok starts with this pass: a new time budget, made
	 * by the check line. The record line's preliminary pass comes after
	 * the check line's in the same call and must not forget a daemon
	 * that already failed to answer there.
	 */
	if ((flags & PAM_PRELIM_CHECK) && !record)
		(void)chauthtok_budget(pamh, &p, true, &budget);
	coverage = lookup_user(pamh, &p, &user, &info, &known);
	if (coverage != USERS_COVERED && coverage != USERS_UNKNOWN) {
		if (record || (flags & PAM_PRELIM_CHECK) || !(flags & PAM_UPDATE_AUTHTOK))
			return PAM_IGNORE;
		return password_uncovered(pamh, flags, &p);
	}
	if (flags & PAM_PRELIM_CHECK)
		return record ? PAM_IGNORE
			      : password_prelim(pamh, flags, &p, user, known ? &info : NULL);
	if (!(flags & PAM_UPDATE_AUTHTOK))
		return PAM_SERVICE_ERR;
	if (record)
		return password_record(pamh, flags, &p, user, known ? &info : NULL);
	return password_update(pamh, flags, &p, user, known ? &info : NULL);
}

static int account_unreachable(pam_handle_t *pamh, int flags,
			       const struct policy *p, const char *user, pp_err rc)
{
	if (p->on_unreachable_account == POLICY_UNREACHABLE_ALLOW) {
		pam_syslog(pamh, LOG_ALERT,
			   "password expiry of %s NOT checked, login allowed: daemon at %s: %s "
			   "(on_unreachable_account = allow)", user, p->socket, pp_strerror(rc));
		return PAM_SUCCESS;
	}
	pam_syslog(pamh, LOG_ALERT,
		   "login of %s refused: password expiry cannot be checked: daemon at %s: %s "
		   "(on_unreachable_account = deny)", user, p->socket, pp_strerror(rc));
	say_text(pamh, flags, PAM_ERROR_MSG,
		 rc == PP_ERR_BUSY ? busy_text
				   : N_("The password service is unavailable, so the login "
					"cannot be completed. Please try again later or contact "
					"your system administrator."));
	return PAM_AUTHINFO_UNAVAIL;
}

/*
 * Did the login of this transaction use the password? libpam clears
 * PAM_AUTHTOK when pam_authenticate returns, so what is left of a typed
 * password at the account phase is: pam_unix's record of its own
 * authentication ("unix_setcred_return" data, set whenever pam_unix's
 * auth ran in this transaction - the signal its no_pass_expiry reads),
 * PAM_AUTHTOK itself when an application runs the account phase before
 * it is cleared, and sshd's SSH_AUTH_INFO_0 (ExposeAuthInfo), one method
 * per line ("publickey ssh-ed25519 AAAA", "keyboard-interactive/pam",
 * "password", "gssapi-with-mic"): any password or keyboard-interactive
 * method counts. Each signal can only add a password, never take one
 * away, so nothing planted in the PAM environment spares a password
 * login its change. Keys, GSSAPI and smart cards leave none of them.
 */
static bool login_used_password(pam_handle_t *pamh)
{
	const void *tok = NULL, *unix_auth = NULL;
	const char *info = pam_getenv(pamh, "SSH_AUTH_INFO_0");

	if (pam_get_item(pamh, PAM_AUTHTOK, &tok) == PAM_SUCCESS && tok != NULL)
		return true;
	if (pam_get_data(pamh, "unix_setcred_return", &unix_auth) == PAM_SUCCESS &&
	    unix_auth != NULL)
		return true;
	for (const char *line = info; line != NULL && *line != '\0';) {
		size_t len = strcspn(line, " /\n");

		if ((len == 8 && strncmp(line, "password", 8) == 0) ||
		    (len == 20 && strncmp(line, "keyboard-interactive", 20) == 0))
			return true;
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	return false;
}

/*
 * An expired or flagged user whose login cannot change a password now
 * passes (true): a non-interactive service (cron, atd: no one to type
 * it; noninteractive_services) silently, and, with expired_nonpassword =
 * allow (pam_unix's no_pass_expiry), a login that did not use the
 * password (keys, Kerberos tickets) with a notice that the password must
 * be changed at its next use. Each pass is an audit event (the daemon
 * writes expired_noninteractive once per user, service and day). A
 * password login gets false: it must change now.
 */
static bool expired_login_passes(pam_handle_t *pamh, int flags, const struct policy *p,
				 struct request_budget *b, const char *user,
				 const struct request_status_result *st)
{
	const char *reason = st->state == AGING_MUST_CHANGE ? "must_change" : "expired";
	const char *service = item_text(pamh, PAM_SERVICE);
	char text[512], date[16];

	if (service[0] != '\0' && policy_list_contains(p->noninteractive_services, service)) {
		send_event(pamh, p, b, "expired_noninteractive", user, reason);
		return true;
	}
	if (p->expired_nonpassword != POLICY_NONPASSWORD_ALLOW || login_used_password(pamh))
		return false;
	if (st->state == AGING_MUST_CHANGE && st->must_change_breached) {
		snprintf(text, sizeof(text), "%s",
			 _("Your password appears in a list of passwords exposed in data "
			   "breaches. You signed in without it: change it the next time you "
			   "use it."));
	} else if (st->state == AGING_MUST_CHANGE) {
		snprintf(text, sizeof(text), "%s",
			 _("Your password must be changed (required by an administrator). "
			   "You signed in without it: change it the next time you use it."));
	} else if (st->last_change) {
		aging_format_date(st->last_change, date, sizeof(date));
		/* TRANSLATORS: %1$s is a date (2026-03-01), %2$d a number of days. */
		snprintf(text, sizeof(text),
			 P_("Your password has expired (last changed %1$s; passwords must "
			    "be changed every %2$d day). You signed in without it: change "
			    "it the next time you use it.",
			    "Your password has expired (last changed %1$s; passwords must "
			    "be changed every %2$d days). You signed in without it: change "
			    "it the next time you use it.", p->max_age_days),
			 date, p->max_age_days);
	} else {
		aging_format_date(st->first_seen, date, sizeof(date));
		/* TRANSLATORS: %1$s is a date (2026-03-01), %2$d a number of days. */
		snprintf(text, sizeof(text),
			 P_("Your password has expired (no change recorded since %1$s; "
			    "passwords must be changed every %2$d day). You signed in "
			    "without it: change it the next time you use it.",
			    "Your password has expired (no change recorded since %1$s; "
			    "passwords must be changed every %2$d days). You signed in "
			    "without it: change it the next time you use it.",
			    p->max_age_days),
			 date, p->max_age_days);
	}
	say(pamh, flags, PAM_TEXT_INFO, text);
	send_event(pamh, p, b, "expired_nonpassword_login", user, reason);
	return true;
}

/*
 * The daemon says the account has not been used for more than
 * inactive_days: refuse the login, tell the user why, audit it.
 */
static int account_dormant(pam_handle_t *pamh, int flags, const struct policy *p,
			   struct request_budget *b, const char *user, long days)
{
	char text[256], reasons[64];

	snprintf(text, sizeof(text),
		 P_("Your account has not been used for %ld day and is locked for "
		    "inactivity; contact your administrator.",
		    "Your account has not been used for %ld days and is locked for "
		    "inactivity; contact your administrator.", days), days);
	say(pamh, flags, PAM_ERROR_MSG, text);
	snprintf(reasons, sizeof(reasons), "inactive,unused_days=%ld", days);
	send_event(pamh, p, b, "login_refused_inactive", user, reasons);
	return PAM_ACCT_EXPIRED;
}

/* The account line: rotation. Expired or flagged users must change now. */
static int acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct policy p;
	struct users_info info;
	struct request_status_result st;
	struct request_budget budget;
	const char *user = NULL;
	bool known = false;
	char text[512], last[16], expires[16];
	enum users_coverage coverage;
	int64_t started;
	int ms;
	pp_err rc;

	if (!load_policy(pamh, flags, argc, argv, &p, false)) {
		/* Unknown policy: the safe default for logins is to let them through. */
		return PAM_IGNORE;
	}
	coverage = lookup_user(pamh, &p, &user, &info, &known);
	if (coverage != USERS_COVERED || user == NULL)
		return PAM_IGNORE;
	/* One budget for the status and the event that may follow it. */
	request_budget_init(&budget, p.timeout_ms);
	rc = request_budget_begin(&budget, &ms, &started);
	if (rc == PP_OK) {
		/* A login: counted, or refused when dormant (never root's). */
		rc = request_login(p.socket, ms, user, p.max_age_days, p.warn_days,
				   info.uid == 0 ? 0 : p.inactive_days, &st);
		request_budget_end(&budget, started, rc);
	}
	if (rc != PP_OK)
		return account_unreachable(pamh, flags, &p, user, rc);
	if (!st.found)
		return PAM_IGNORE;
	if (st.dormant_days > 0 && info.uid != 0)
		return account_dormant(pamh, flags, &p, &budget, user, st.dormant_days);
	/* The auth line of this login found the password breached, and the
	 * daemon was not told (or not yet): the change is forced all the same. */
	if (breached_at_login(pamh) && st.state != AGING_LOCKED) {
		st.state = AGING_MUST_CHANGE;
		st.must_change = st.must_change_breached = true;
	}
	aging_format_date(st.last_change, last, sizeof(last));
	aging_format_date(st.expires, expires, sizeof(expires));
	if ((st.state == AGING_EXPIRED || st.state == AGING_MUST_CHANGE) &&
	    expired_login_passes(pamh, flags, &p, &budget, user, &st))
		return PAM_SUCCESS;
	switch (st.state) {
	case AGING_MUST_CHANGE:
		if (st.must_change_breached) {
			say_text(pamh, flags, PAM_ERROR_MSG, breached_login_text);
			send_event(pamh, &p, &budget, "password_expired", user,
				   "must_change,breached");
			return PAM_NEW_AUTHTOK_REQD;
		}
		say(pamh, flags, PAM_ERROR_MSG,
		    _("Your password must be changed (required by an administrator). "
		      "You must choose a new one now."));
		send_event(pamh, &p, &budget, "password_expired", user, "must_change");
		return PAM_NEW_AUTHTOK_REQD;
	case AGING_EXPIRED:
		if (st.last_change)
			/* TRANSLATORS: %1$s is a date (2026-03-01), %2$d a number of days. */
			snprintf(text, sizeof(text),
				 P_("Your password has expired (last changed %1$s; passwords "
				    "must be changed every %2$d day). You must choose a new one "
				    "now.",
				    "Your password has expired (last changed %1$s; passwords "
				    "must be changed every %2$d days). You must choose a new one "
				    "now.", p.max_age_days),
				 last, p.max_age_days);
		else {
			char seen[16];
			aging_format_date(st.first_seen, seen, sizeof(seen));
			/* TRANSLATORS: %1$s is a date (2026-03-01), %2$d a number of days. */
			snprintf(text, sizeof(text),
				 P_("Your password has expired (no change recorded since %1$s; "
				    "passwords must be changed every %2$d day). You must choose "
				    "a new one now.",
				    "Your password has expired (no change recorded since %1$s; "
				    "passwords must be changed every %2$d days). You must choose "
				    "a new one now.", p.max_age_days),
				 seen, p.max_age_days);
		}
		say(pamh, flags, PAM_ERROR_MSG, text);
		send_event(pamh, &p, &budget, "password_expired", user, "expired");
		return PAM_NEW_AUTHTOK_REQD;
	case AGING_WARNING: {
		/* Counted on the daemon's clock, which decided the state. */
		long days = st.expires ? aging_days_until(st.now, st.expires) : 0;
		/* TRANSLATORS: %1$ld is a number of days, %2$s the date (2026-03-01). */
		snprintf(text, sizeof(text),
			 P_("Your password expires in %1$ld day (on %2$s).",
			    "Your password expires in %1$ld days (on %2$s).", days),
			 days, expires);
		say(pamh, flags, PAM_TEXT_INFO, text);
		send_event(pamh, &p, &budget, "expiry_warning", user, "");
		return PAM_SUCCESS;
	}
	case AGING_LOCKED:
		/* A locked or unusable password is not aged: nothing to say. */
		return PAM_SUCCESS;
	default:
		return PAM_SUCCESS;
	}
}

/* ---- the auth line: breachcheck ---- */

static void breached_cleanup(pam_handle_t *pamh, void *data, int error_status)
{
	free(data);
}

/* Did the auth line of this transaction find the password breached? */
static bool breached_at_login(pam_handle_t *pamh)
{
	const void *data = NULL;

	return pam_get_data(pamh, BREACHED_DATA, &data) == PAM_SUCCESS && data != NULL;
}

/*
 * pam_unix's own record of its authentication in this transaction
 * ("unix_setcred_return", its result): a password it refused is not the
 * user's, and must never flag the account - or anyone could force a change
 * on anyone by typing "123456". Without that record (another
 * authenticating module), the line relies on its place in the stack:
 * reached only after a successful authentication (pam_policy.8).
 */
static bool earlier_auth_failed(pam_handle_t *pamh)
{
	const void *data = NULL;

	if (pam_get_data(pamh, "unix_setcred_return", &data) != PAM_SUCCESS || data == NULL)
		return false;
	return *(const int *)data != PAM_SUCCESS;
}

/* Remember for the account line; tell the daemon (flag and audit). */
static void report_breached(pam_handle_t *pamh, const struct policy *p, const char *user)
{
	struct request_budget budget;
	char why[160];
	int *mark = malloc(sizeof(*mark));
	int64_t started;
	int ms;
	pp_err rc;

	if (mark != NULL) {
		*mark = 1;
		if (pam_set_data(pamh, BREACHED_DATA, mark, breached_cleanup) != PAM_SUCCESS)
			free(mark);
	}
	request_budget_init(&budget, p->timeout_ms);
	rc = request_budget_begin(&budget, &ms, &started);
	if (rc == PP_OK) {
		rc = request_breached(p->socket, ms, user, item_text(pamh, PAM_SERVICE),
				      item_text(pamh, PAM_RHOST), item_text(pamh, PAM_TTY));
		request_budget_end(&budget, started, rc);
	}
	if (rc == PP_OK)
		return;
	/* Its one line (the daemon writes it when it gets the request). */
	snprintf(why, sizeof(why), "not delivered to pam_policyd: %s; the account is "
		 "NOT flagged must-change", pp_strerror(rc));
	log_event_line(pamh, "breach_detected", user, "breached", why);
}

/*
 * auth optional pam_policy.so breachcheck, after the authenticating
 * module: the password just typed (PAM_AUTHTOK, still set within
 * pam_authenticate) is looked up in the breach filter as the check line
 * would look up a new one. A hit flags the account must-change (reason
 * breached) through the daemon, so the account line forces a change at
 * once. Always PAM_IGNORE: this line never decides a login, and nothing
 * it meets (no filter, a broken one, no daemon) locks anyone out.
 */
PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
				   const char **argv)
{
	struct policy p;
	struct users_info info;
	struct blocklist *bl = NULL;
	const void *tok = NULL;
	const char *user = NULL;
	char why[512] = "";
	bool known = false, listed = false;
	pp_err rc;

	if (!has_word(argc, argv, "breachcheck")) {
		pam_syslog(pamh, LOG_ERR, "auth line without the breachcheck argument: "
			   "nothing to do (see pam_policy(8))");
		return PAM_IGNORE;
	}
	if (!load_policy(pamh, flags, argc, argv, &p, false))
		return PAM_IGNORE;
	if (lookup_user(pamh, &p, &user, &info, &known) != USERS_COVERED || user == NULL)
		return PAM_IGNORE;
	if (pam_get_item(pamh, PAM_AUTHTOK, &tok) != PAM_SUCCESS || tok == NULL ||
	    ((const char *)tok)[0] == '\0') {
		if (p.debug)
			pam_syslog(pamh, LOG_DEBUG, "breachcheck: no password was typed for %s",
				   user);
		return PAM_IGNORE;
	}
	if (earlier_auth_failed(pamh))
		return PAM_IGNORE;
	rc = rules_blocklist_open(&p, &bl, why, sizeof(why));
	if (rc == PP_ERR_IO && errno == EACCES && geteuid() != 0) {
		/* An unprivileged program (a screen locker) cannot read it: its
		 * unlocks are not checked; logins and changes run as root. */
		if (p.debug)
			pam_syslog(pamh, LOG_DEBUG, "breachcheck: %s", why);
		return PAM_IGNORE;
	}
	if (rc != PP_OK) {
		pam_syslog(pamh, LOG_ERR, "configuration error: breach filter: %s: the login "
			   "password of %s is not checked", why[0] ? why : pp_strerror(rc), user);
		return PAM_IGNORE;
	}
	if (bl == NULL)
		return PAM_IGNORE;
	rc = rules_breached(bl, tok, &listed);
	blocklist_close(bl);
	if (rc != PP_OK) {
		pam_syslog(pamh, LOG_ERR, "configuration error: the breach filter %s "
			   "(blocklist) cannot be read: %s: the login password of %s is not "
			   "checked", p.blocklist, rc == PP_ERR_IO ? strerror(errno)
								   : pp_strerror(rc), user);
		return PAM_IGNORE;
	}
	if (!listed)
		return PAM_IGNORE;
	if (known && info.uid == 0 && !p.enforce_for_root) {
		/* Root's violations only warn: a flag would send root round in
		 * circles (the change it forces accepts any password). */
		pam_syslog(pamh, LOG_WARNING, "the login password of root is in the breach "
			   "filter %s; not flagged (enforce_for_root = no)", p.blocklist);
		return PAM_IGNORE;
	}
	report_breached(pamh, &p, user);
	return PAM_IGNORE;
}

/* The auth line sets no credentials. */
PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc,
			      const char **argv)
{
	return PAM_IGNORE;
}

/* The entry points: each call in the user's language, the thread restored. */
PAM_EXTERN int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc,
				const char **argv)
{
	struct i18n_thread t;
	int rc;

	language_enter(pamh, &t);
	rc = chauthtok(pamh, flags, argc, argv);
	i18n_thread_leave(&t);
	return rc;
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc,
				const char **argv)
{
	struct i18n_thread t;
	int rc;

	language_enter(pamh, &t);
	rc = acct_mgmt(pamh, flags, argc, argv);
	i18n_thread_leave(&t);
	return rc;
}
