/*
 * i18n.h - translated text: the gettext domain "pam_policy" and the
 * calling thread's language.
 *
 * Every user-visible string is marked with _() (translated where it is
 * used), N_() (marked only, translated later with _() of the variable) or
 * P_() (a count: singular, plural, n). All three name the domain
 * explicitly (dgettext): inside a PAM module textdomain() belongs to the
 * application. Reason codes, syslog lines, audit-log lines and JSON keys
 * are never marked: they stay English and stable.
 *
 * "make pot" extracts the marked strings (xgettext --keyword=_ --keyword=N_
 * --keyword=P_:1,2); comments that start with "TRANSLATORS:" right above a
 * marked string are passed to the translators.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_I18N_H
#define PAM_POLICY_I18N_H

#include <libintl.h>
#include <locale.h>
#include <stdbool.h>
#include <stddef.h>

#define I18N_DOMAIN "pam_policy"

#define _(msgid) dgettext(I18N_DOMAIN, msgid)
#define N_(msgid) msgid
#define P_(singular, plural, n) dngettext(I18N_DOMAIN, singular, plural, (unsigned long)(n))

/* The longest locale name taken from a PAM environment value. */
#define I18N_NAME_MAX 64

/*
 * i18n_bind - make the domain's catalogues come from PATHS_LOCALEDIR,
 * unless the program already bound the domain to a directory of its own
 * (bindtextdomain before the first call; the test programs bind it to the
 * build's catalogues). Process-wide, idempotent, thread-safe (gettext
 * locks its bindings).
 */
void i18n_bind(void);

/*
 * What the calling thread's language was before i18n_thread_enter, to be
 * restored by i18n_thread_leave. Opaque to callers; on the stack.
 */
struct i18n_thread {
	locale_t previous;      /* uselocale(0) at enter */
	locale_t ours;          /* the locale switched to, or (locale_t)0 */
};

/*
 * The language wanted, from an environment the caller read (a PAM
 * environment, not the process's). Any field may be NULL or "".
 */
struct i18n_env {
	const char *language;       /* LANGUAGE: "de", "fr_CA:fr", "de_DE" */
	const char *lc_all;         /* LC_ALL */
	const char *lc_messages;    /* LC_MESSAGES */
	const char *lang;           /* LANG */
};

/*
 * i18n_locale_name - the locale name to use for env, written to out (len
 * bytes), tried in this order until newlocale() accepts one: each entry of
 * LANGUAGE (as given, then LL_CC.UTF-8 for a bare "ll", then "ll_CC.UTF-8"
 * for "ll_CC"), then the first set of LC_ALL, LC_MESSAGES, LANG (as given,
 * then with its codeset replaced by UTF-8). A value that is not a plain
 * locale name (letters, digits, "_", "-", ".", "@"; at most
 * I18N_NAME_MAX bytes; no "/") is skipped. Returns true with a name, false
 * when env names no language at all (the process locale then applies).
 * When every name was named but none exists, out is "C.UTF-8": English,
 * printed as UTF-8. Thread-safe; allocates nothing that outlives the call.
 */
bool i18n_locale_name(const struct i18n_env *env, char *out, size_t len);

/*
 * i18n_thread_enter - switch the calling thread (uselocale, never
 * setlocale) to the language env names, for LC_MESSAGES and LC_CTYPE;
 * without one, the thread keeps the locale it has (the process's). Also
 * calls i18n_bind. Never fails: without memory the thread keeps its
 * locale. Every enter is paired with one i18n_thread_leave on the same
 * thread, on every path.
 */
void i18n_thread_enter(struct i18n_thread *t, const struct i18n_env *env);

/*
 * i18n_thread_leave - give the thread back the locale it had at enter and
 * free the one enter made. Safe to call on a t whose enter switched
 * nothing.
 */
void i18n_thread_leave(struct i18n_thread *t);

#endif
