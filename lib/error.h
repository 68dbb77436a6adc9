/*
 * error.h - the one error enum of libpampolicy.
 *
 * Every fallible function in lib/ returns a pp_err. Only the programs in
 * pam_policy/ translate these into PAM_* codes or exit statuses.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_ERROR_H
#define PAM_POLICY_ERROR_H

#include <stddef.h>

#define PP_WUR __attribute__((warn_unused_result))

typedef enum pp_err {
	PP_OK = 0,
	PP_ERR_NOMEM,        /* out of memory */
	PP_ERR_CONFIG,       /* configuration file or argument is invalid */
	PP_ERR_IO,           /* a file or socket operation failed (see errno) */
	PP_ERR_INVALID,      /* an argument or input is malformed */
	PP_ERR_TOO_LONG,     /* an input exceeds its fixed bound */
	PP_ERR_PROTOCOL,     /* a peer sent a malformed or unexpected message */
	PP_ERR_UNREACHABLE,  /* the daemon could not be reached */
	PP_ERR_TIMEOUT,      /* the daemon did not answer in time */
	PP_ERR_DENIED,       /* the peer is not allowed to make this request */
	PP_ERR_NOT_FOUND,    /* no such user, entry or file */
	PP_ERR_STORE,        /* the store failed or is corrupt */
	PP_ERR_CRYPTO,       /* libsodium failed (init, hashing, random) */
	PP_ERR_INTERNAL,     /* a bug: an invariant did not hold */
	PP_ERR_BUSY,         /* the daemon is overloaded: try again in a moment */
	PP_ERR_COUNT
} pp_err;

/*
 * pp_strerror - a short English description of err, never NULL.
 * The string is static; unknown values yield "unknown error".
 */
const char *pp_strerror(pp_err err);

/*
 * pp_error_text - the same description in the calling thread's language,
 * for people (pam_policyctl's messages); logs keep pp_strerror.
 */
const char *pp_error_text(pp_err err);

/*
 * pp_errorf - format an error message into err (errlen bytes, always
 * NUL-terminated, cut to fit). err NULL or errlen 0: nothing is written.
 * The one helper behind every "char *err, size_t errlen" out-parameter.
 */
void pp_errorf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
