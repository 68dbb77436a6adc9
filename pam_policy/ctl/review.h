/*
 * review.h - "pam_policyctl review": the quarterly access-review table.
 *
 * The daemon decides every value (pam_policy/daemon/report.c, PROTO_REVIEW:
 * the store joined with the accounts NSS enumerates, the one coverage
 * rule, the privileged groups each account is in) and audits the review;
 * this file only receives the rows and writes them, with a header naming
 * the host, the policy in force and the time (UTC, RFC 3339):
 *   table: "# access review" header lines, then aligned columns;
 *   CSV:   the header as "# ..." comment lines, then RFC 4180 rows;
 *   JSON:  one object {"host", "generated", "policy", "accounts": [...]}.
 * Columns: user, uid, privileged_groups, last_login, last_change, state,
 * exempt, exempt_reason.
 *
 * Usage: review_fetch(policy, &v); review_write(v, fmt, stdout);
 * review_free(v). Not thread-safe per review.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_REVIEW_H
#define PAM_POLICY_REVIEW_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"
#include "policy.h"
#include "report.h"

struct review;

/*
 * review_fetch - ask the daemon at p->socket for the review (one PROTO_REVIEW,
 * within p->timeout_ms per frame) and keep its rows in *out (free with
 * review_free). Errors: those of the transport (PP_ERR_UNREACHABLE,
 * PP_ERR_TIMEOUT), PP_ERR_DENIED (neither root nor the audit group),
 * PP_ERR_PROTOCOL for a malformed answer, PP_ERR_NOMEM. *out is NULL on
 * error.
 */
pp_err review_fetch(const struct policy *p, struct review **out) PP_WUR;

/* review_free - release v; NULL is a no-op. */
void review_free(struct review *v);

/* review_count - the number of accounts in v. */
size_t review_count(const struct review *v);

/*
 * review_write - the header and every row of v in format fmt to out (names
 * made printable, CSV cells guarded against spreadsheet formulas, JSON
 * strings escaped, as the report does).
 */
void review_write(const struct review *v, enum report_format fmt, FILE *out);

#endif
