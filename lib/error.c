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

static const char *const error_text[PP_ERR_COUNT] = {
	[PP_OK] = "success",
	[PP_ERR_NOMEM] = "out of memory",
	[PP_ERR_CONFIG] = "invalid configuration",
	[PP_ERR_IO] = "input/output error",
	[PP_ERR_INVALID] = "invalid input",
	[PP_ERR_TOO_LONG] = "input too long",
	[PP_ERR_PROTOCOL] = "protocol error",
	[PP_ERR_UNREACHABLE] = "password policy daemon unreachable",
	[PP_ERR_TIMEOUT] = "password policy daemon timed out",
	[PP_ERR_DENIED] = "permission denied",
	[PP_ERR_NOT_FOUND] = "not found",
	[PP_ERR_STORE] = "password store error",
	[PP_ERR_CRYPTO] = "cryptographic failure",
	[PP_ERR_INTERNAL] = "internal error",
	[PP_ERR_BUSY] = "password policy daemon busy, try again in a moment",
};

const char *pp_strerror(pp_err err)
{
	if ((unsigned)err >= PP_ERR_COUNT || error_text[err] == NULL)
		return "unknown error";
	return error_text[err];
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
