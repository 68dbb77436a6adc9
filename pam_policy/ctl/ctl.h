/*
 * ctl.h - what every pam_policyctl command says on standard error: its
 * errors start with "pam_policyctl: ", usage errors end with a hint to
 * the command's --help. The texts are the callers' (translated there).
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_CTL_H
#define PAM_POLICY_CTL_H

#define CTL_PROG "pam_policyctl"

/* ctl_error - "pam_policyctl: " and the message, one line on stderr. */
void ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * ctl_usage_error - ctl_error, then hint (e.g. "(try \"pam_policyctl
 * --help\")") on a line of its own; returns status, the caller's usage
 * exit status.
 */
int ctl_usage_error(int status, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
