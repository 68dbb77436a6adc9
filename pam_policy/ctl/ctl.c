/*
 * ctl.c - pam_policyctl's error lines (ctl.h).
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "ctl.h"

#include <stdarg.h>
#include <stdio.h>

static void say(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", CTL_PROG);
	vfprintf(stderr, fmt, ap);
	putc('\n', stderr);
}

void ctl_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}

int ctl_usage_error(int status, const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", hint);
	return status;
}
