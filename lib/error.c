/*
 * error.c - descriptions for pp_err.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"
#include "i18n.h"

/* TRANSLATORS: why something failed, after a colon ("cannot reach
   pam_policyd at PATH: password policy daemon unreachable"). */
static const char *const error_text[PP_ERR_COUNT] = {
	[PP_OK] = N_("success"),
	[PP_ERR_NOMEM] = N_("out of memory"),
	[PP_ERR_CONFIG] = N_("invalid configuration"),
	[PP_ERR_IO] = N_("input/output error"),
	[PP_ERR_INVALID] = N_("invalid input"),
	[PP_ERR_TOO_LONG] = N_("input too long"),
	[PP_ERR_PROTOCOL] = N_("protocol error"),
	[PP_ERR_UNREACHABLE] = N_("password policy daemon unreachable"),
	[PP_ERR_TIMEOUT] = N_("password policy daemon timed out"),
	[PP_ERR_DENIED] = N_("permission denied"),
	[PP_ERR_NOT_FOUND] = N_("not found"),
	[PP_ERR_STORE] = N_("password store error"),
	[PP_ERR_CRYPTO] = N_("cryptographic failure"),
	[PP_ERR_INTERNAL] = N_("internal error"),
	[PP_ERR_BUSY] = N_("password policy daemon busy, try again in a moment"),
};

const char *pp_strerror(pp_err err)
{
	if ((unsigned)err >= PP_ERR_COUNT || error_text[err] == NULL)
		return N_("unknown error");
	return error_text[err];
}

const char *pp_error_text(pp_err err)
{
	return _(pp_strerror(err));
}

void pp_errorf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
