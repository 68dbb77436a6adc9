/*
 * bounds.h - the limits every program shares, named once.
 *
 * A user or group name is at most PP_NAME_MAX bytes (without the NUL), so
 * a buffer for one is PP_NAME_MAX + 1 bytes; longer names are refused,
 * never cut. Day counts (ages, warnings, report filters) are 0 to
 * PP_DAYS_MAX.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_BOUNDS_H
#define PAM_POLICY_BOUNDS_H

#define PP_NAME_MAX 255          /* bytes in a user or group name, without the NUL */
#define PP_DAYS_MAX 3650         /* ten years: the largest day count accepted */

#endif
