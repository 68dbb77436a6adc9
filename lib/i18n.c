/*
 * i18n.c - the gettext binding and the calling thread's language.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "i18n.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "paths.h"

/*
 * Where gettext looks for a domain nobody bound: its own default
 * (bindtextdomain(domain, NULL) answers it for an unbound domain).
 */
#define I18N_GETTEXT_DEFAULT_DIR "/usr/share/locale"

void i18n_bind(void)
{
	const char *current = bindtextdomain(I18N_DOMAIN, NULL);

	/* A program that bound our domain elsewhere (its tests) keeps it. */
	if (current == NULL || strcmp(current, I18N_GETTEXT_DEFAULT_DIR) == 0)
		(void)bindtextdomain(I18N_DOMAIN, PATHS_LOCALEDIR);
}

/* A locale name we pass to newlocale: plain characters, bounded, no path. */
static bool plain_name(const char *s, size_t n)
{
	if (n == 0 || n > I18N_NAME_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isascii(c) && (isalnum(c) || c == '_' || c == '-' || c == '.' ||
				     c == '@')))
			return false;
	}
	return true;
}

static bool is_c_locale(const char *s, size_t n)
{
	return (n == 1 && s[0] == 'C') || (n == 5 && strncmp(s, "POSIX", 5) == 0) ||
	       (n > 2 && strncmp(s, "C.", 2) == 0);
}

/* Does a locale of this name exist (for the two categories we switch)? */
static bool locale_exists(const char *name)
{
	locale_t l = newlocale(LC_MESSAGES_MASK | LC_CTYPE_MASK, name, (locale_t)0);

	if (l == (locale_t)0)
		return false;
	freelocale(l);
	return true;
}

/* Write s[0..n) into out; try it. */
static bool try_name(char *out, size_t len, const char *s, size_t n)
{
	if (n + 1 > len)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return locale_exists(out);
}

/* "de_DE.ISO-8859-1@euro" -> "de_DE.UTF-8@euro"; "de_DE" -> "de_DE.UTF-8". */
static bool try_utf8(char *out, size_t len, const char *s, size_t n)
{
	const char *dot = memchr(s, '.', n), *at = memchr(s, '@', n);
	size_t base = dot != NULL ? (size_t)(dot - s) : at != NULL ? (size_t)(at - s) : n;
	size_t mod = at != NULL ? n - (size_t)(at - s) : 0;
	int k;

	k = snprintf(out, len, "%.*s.UTF-8%.*s", (int)base, s, (int)mod,
		     at != NULL ? at : "");
	if (k < 0 || (size_t)k >= len)
		return false;
	return locale_exists(out);
}

/*
 * One entry of LANGUAGE ("de", "de_AT", "pt_BR.UTF-8"): a locale for it.
 * A bare language takes the territory of the locale variables when they
 * name the same language ("de" with LANG=de_CH.UTF-8), else its own
 * ("de_DE", "fr_FR", "es_ES"). "en" is the source language: C.UTF-8.
 */
static bool try_language(char *out, size_t len, const char *s, size_t n,
			 const char *locale_var)
{
	char guess[8];

	if (memchr(s, '_', n) != NULL || memchr(s, '.', n) != NULL)
		return try_name(out, len, s, n) || try_utf8(out, len, s, n);
	if (n == 2 && strncmp(s, "en", 2) == 0)
		return try_name(out, len, "C.UTF-8", 7);
	if (locale_var != NULL && strncmp(locale_var, s, n) == 0 && locale_var[n] == '_' &&
	    try_utf8(out, len, locale_var, strcspn(locale_var, ".@")))
		return true;
	if (n < 2 || n > 3)
		return false;
	/* "de" -> "de_DE" */
	memcpy(guess, s, n);
	guess[n] = '_';
	for (size_t i = 0; i < n; i++)
		guess[n + 1 + i] = (char)toupper((unsigned char)s[i]);
	return try_utf8(out, len, guess, 2 * n + 1);
}

static const char *first_set(const struct i18n_env *env)
{
	if (env->lc_all != NULL && env->lc_all[0] != '\0')
		return env->lc_all;
	if (env->lc_messages != NULL && env->lc_messages[0] != '\0')
		return env->lc_messages;
	if (env->lang != NULL && env->lang[0] != '\0')
		return env->lang;
	return NULL;
}

bool i18n_locale_name(const struct i18n_env *env, char *out, size_t len)
{
	const char *var = env != NULL ? first_set(env) : NULL;
	const char *language = env != NULL ? env->language : NULL;
	bool named = false;
	char tmp[I18N_NAME_MAX + 16];

	if (out == NULL || len == 0)
		return false;
	out[0] = '\0';
	if (var != NULL && !plain_name(var, strlen(var)))
		var = NULL;
	/* As gettext: LANGUAGE does not apply over a "C" locale. */
	if (var != NULL && is_c_locale(var, strlen(var)))
		language = NULL;
	for (const char *p = language; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, ":");

		if (plain_name(p, n)) {
			named = true;
			if (try_language(tmp, sizeof(tmp), p, n, var))
				goto found;
		}
		p += n;
		if (*p == ':')
			p++;
	}
	if (var != NULL) {
		size_t n = strlen(var);

		named = true;
		if (is_c_locale(var, n))
			goto english;
		if (try_name(tmp, sizeof(tmp), var, n) || try_utf8(tmp, sizeof(tmp), var, n))
			goto found;
	}
	if (!named)
		return false;
english:
	snprintf(tmp, sizeof(tmp), "C.UTF-8");
found:
	snprintf(out, len, "%s", tmp);
	return true;
}

void i18n_thread_enter(struct i18n_thread *t, const struct i18n_env *env)
{
	char name[I18N_NAME_MAX + 16];

	t->previous = uselocale((locale_t)0);
	t->ours = (locale_t)0;
	i18n_bind();
	if (!i18n_locale_name(env, name, sizeof(name)))
		return;
	t->ours = newlocale(LC_MESSAGES_MASK | LC_CTYPE_MASK, name, (locale_t)0);
	/* "C.UTF-8" missing too (a minimal system): plain C, still English. */
	if (t->ours == (locale_t)0)
		t->ours = newlocale(LC_MESSAGES_MASK | LC_CTYPE_MASK, "C", (locale_t)0);
	if (t->ours != (locale_t)0)
		(void)uselocale(t->ours);
}

void i18n_thread_leave(struct i18n_thread *t)
{
	if (t->ours == (locale_t)0)
		return;
	(void)uselocale(t->previous);
	freelocale(t->ours);
	t->ours = (locale_t)0;
}
