/*
 * proto.h - the wire protocol between the module/CLI and pam_policyd.
 *
 * Transport: a Unix stream socket. Every message is one frame:
 *
 *   frame = u32 body length (big-endian, at most PROTO_MAX_FRAME) + body
 *   body  = u8 version (PROTO_VERSION) | u8 type | u8 field count | fields
 *   field = u8 kind, then
 *             PROTO_KIND_STR: u16 length (BE, <= PROTO_MAX_STR) + bytes
 *                             (no NUL byte, not NUL-terminated)
 *             PROTO_KIND_U64: 8 bytes, big-endian
 *
 * Each message type has a fixed schema (field count and kind of every field,
 * listed once in the table in proto.c). The decoder is strict: it rejects an
 * unknown version or type, a field count or kind that differs from the
 * schema, a short body, trailing bytes, a NUL inside a string, a string over
 * PROTO_MAX_STR, and an empty user name (or other field that must not be
 * empty). The user name of every request (CHECK, RECORD, MAY_CHANGE,
 * STATUS, EXPIRE, FORGET, EVENT, BREACHED) must be strict UTF-8 without control characters (C0, DEL,
 * C1; utf8_valid_text), so the daemon never stores or logs one that is not;
 * a REPORT_ROW carries the names NSS enumerates as they are, and the CLI
 * escapes them when it prints. Every encoding is canonical: a body that
 * decodes re-encodes to the same bytes.
 *
 * A client sends one request frame and reads one reply frame (PROTO_REPLY or
 * PROTO_STATUS_REPLY); PROTO_REPORT is answered by zero or more
 * PROTO_REPORT_ROW frames and one PROTO_REPORT_END. After any error on a
 * connection (malformed frame, timeout, I/O error) both sides close it: the
 * stream position is then unknown.
 *
 * Secrets: PROTO_CHECK and PROTO_RECORD carry a password. struct proto_msg
 * never copies string bytes: built messages point at the caller's strings
 * and decoded messages point into the caller's receive buffer. So whoever
 * owns a buffer that held a password wipes it (explicit_bzero or
 * sodium_memzero): the module/CLI wipes its password string, the daemon its
 * receive buffer. Functions here that copy a body internally wipe their copy.
 * Never log a field the schema marks secret; proto_describe() redacts them.
 *
 * All functions are thread-safe (no shared state); a single connection must
 * not be used by two threads at once.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_PROTO_H
#define PAM_POLICY_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define PROTO_VERSION 1
#define PROTO_HEADER_SIZE 4     /* the u32 length before every body */
#define PROTO_MAX_FRAME 8192    /* bytes of body, header not included */
#define PROTO_MAX_FIELDS 16
#define PROTO_MAX_STR 1024      /* bytes of one string field */

enum proto_kind {
	PROTO_KIND_STR = 1,
	PROTO_KIND_U64 = 2,
};

/* Message types. The values are on the wire: never renumber. */
enum proto_type {
	/* requests, module/CLI -> daemon */
	PROTO_PING = 1,
	PROTO_CHECK = 2,
	PROTO_RECORD = 3,
	PROTO_STATUS = 4,
	PROTO_EXPIRE = 5,
	PROTO_FORGET = 6,
	PROTO_EVENT = 7,
	PROTO_REPORT = 8,
	PROTO_BACKUP = 9,
	PROTO_REOPEN = 10,
	PROTO_SECRETS = 11,
	PROTO_MAY_CHANGE = 12,
	PROTO_LOGIN = 13,
	PROTO_REVIEW = 14,
	PROTO_BREACHED = 15,
	PROTO_FLEET = 16,
	PROTO_FLEET_REPORT = 17,
	/* replies, daemon -> module/CLI */
	PROTO_REPLY = 64,
	PROTO_STATUS_REPLY = 65,
	PROTO_REPORT_ROW = 66,
	PROTO_REPORT_END = 67,
	PROTO_REVIEW_ROW = 68,
	PROTO_REVIEW_END = 69,
	PROTO_FLEET_REPLY = 70,
	PROTO_FLEET_LOGIN = 71,
};

/*
 * Field positions, by message type: msg.f[PROTO_CHECK_PASSWORD].str etc.
 * The schema table in proto.c is keyed by these constants.
 * Times are UTC seconds since the epoch (0 = unknown/never); ages in days.
 */
/* PROTO_PING, PROTO_REOPEN, PROTO_SECRETS: no fields. */
enum { /* PROTO_CHECK: may this password be used now? */
	PROTO_CHECK_USER,          /* STR, non-empty */
	PROTO_CHECK_PASSWORD,      /* STR, secret */
	PROTO_CHECK_FLAGS,         /* U64, PROTO_CHECK_* bits */
	PROTO_CHECK_HISTORY,       /* U64, remembered passwords to compare */
	PROTO_CHECK_MIN_AGE_DAYS,  /* U64 */
};
enum { /* PROTO_RECORD: a password change succeeded, remember it */
	PROTO_RECORD_USER,         /* STR, non-empty */
	PROTO_RECORD_PASSWORD,     /* STR, secret */
	PROTO_RECORD_HISTORY,      /* U64, how many passwords to keep */
	PROTO_RECORD_SERVICE,      /* STR, PAM service (may be empty) */
	PROTO_RECORD_FLAGS,        /* U64, PROTO_RECORD_* bits and the
				      minimum age (see below) */
	PROTO_RECORD_RHOST,        /* STR, PAM_RHOST of the change (may be
				      empty), for its audit lines */
	PROTO_RECORD_TTY,          /* STR, PAM_TTY (may be empty) */
};
enum { /* PROTO_MAY_CHANGE: may user change the password now? (no password) */
	PROTO_MAY_CHANGE_USER,         /* STR, non-empty */
	PROTO_MAY_CHANGE_FLAGS,        /* U64, PROTO_CHECK_* bits */
	PROTO_MAY_CHANGE_MIN_AGE_DAYS, /* U64 */
};
enum { /* PROTO_STATUS: aging state of one user */
	PROTO_STATUS_USER,         /* STR, non-empty */
	PROTO_STATUS_MAX_AGE_DAYS, /* U64, 0 = rotation off */
	PROTO_STATUS_WARN_DAYS,    /* U64 */
};
/*
 * PROTO_LOGIN (root only): the account phase of a login - a STATUS (same
 * first three fields, same PROTO_STATUS_REPLY) that also counts as the
 * user's login when the user is not dormant. The daemon keeps the time in
 * memory and writes logins in batches, so it costs what a STATUS costs.
 * INACTIVE_DAYS (0 = off, at most PP_DAYS_MAX) is the module's
 * inactive_days: a user unused for longer is answered with DORMANT set
 * (and the login is not counted).
 */
enum {
	PROTO_LOGIN_USER,          /* STR, non-empty */
	PROTO_LOGIN_MAX_AGE_DAYS,  /* U64 */
	PROTO_LOGIN_WARN_DAYS,     /* U64 */
	PROTO_LOGIN_INACTIVE_DAYS, /* U64, 0 = off */
};
enum { /* PROTO_EXPIRE: force a change at next login */
	PROTO_EXPIRE_USER,         /* STR, non-empty */
};
/*
 * PROTO_BREACHED (root only: the module's auth line, breachcheck): the
 * password user just logged in with is in the breach filter. The daemon
 * flags the account must-change with the reason "breached" (so the
 * account line forces a change at once, and STATUS_REPLY_MUST_CHANGE says
 * PROTO_MUST_CHANGE_BREACHED until the change is recorded) and audits
 * breach_detected. The password never crosses the socket for this.
 * Answered by a PROTO_REPLY: PROTO_OK, or PROTO_NOT_FOUND for a user NSS
 * does not know.
 */
enum {
	PROTO_BREACHED_USER,       /* STR, non-empty */
	PROTO_BREACHED_SERVICE,    /* STR, PAM service (may be empty) */
	PROTO_BREACHED_RHOST,      /* STR, PAM_RHOST (may be empty) */
	PROTO_BREACHED_TTY,        /* STR, PAM_TTY (may be empty) */
};
enum { /* PROTO_FORGET: drop the user's history and state */
	PROTO_FORGET_USER,         /* STR, non-empty */
};
enum { /* PROTO_EVENT: an audit event from the module */
	PROTO_EVENT_NAME,          /* STR, non-empty, e.g. "password_rejected" */
	PROTO_EVENT_USER,          /* STR, may be empty (event about no user) */
	PROTO_EVENT_SERVICE,       /* STR */
	PROTO_EVENT_RHOST,         /* STR */
	PROTO_EVENT_TTY,           /* STR */
	PROTO_EVENT_REASONS,       /* STR, comma-separated reason codes */
	PROTO_EVENT_FLAGS,         /* U64, reserved, send 0 */
};
/*
 * PROTO_REPORT (no fields): the daemon streams one PROTO_REPORT_ROW per
 * user its policy covers or exempts (the store joined with the users NSS
 * enumerates), with the state it computed, then one PROTO_REPORT_END.
 */
enum { /* PROTO_BACKUP: online copy of the store */
	PROTO_BACKUP_PATH,         /* STR, non-empty, absolute, daemon's view */
};
enum { /* PROTO_REPLY: the answer to every request but STATUS and REPORT */
	PROTO_REPLY_STATUS,        /* U64, enum proto_status */
	PROTO_REPLY_DETAIL,        /* U64, per request; CHECK: PROTO_VIOLATION_* */
	PROTO_REPLY_TEXT,          /* STR, for logs/admins, may be empty */
};
enum { /* PROTO_STATUS_REPLY */
	PROTO_STATUS_REPLY_STATUS,        /* U64, enum proto_status */
	PROTO_STATUS_REPLY_STATE,         /* U64, enum aging_state (aging.h),
					     shadow's demands included */
	PROTO_STATUS_REPLY_LAST_CHANGE,   /* U64, time, 0 = never */
	PROTO_STATUS_REPLY_EXPIRES,       /* U64, time, 0 = rotation off */
	PROTO_STATUS_REPLY_MUST_CHANGE,   /* U64, PROTO_MUST_CHANGE_*: 0 none;
					     1 flagged by an admin, or shadow's
					     last change is 0; 2 flagged because
					     the password is breached */
	PROTO_STATUS_REPLY_HISTORY_COUNT, /* U64 */
	PROTO_STATUS_REPLY_FIRST_SEEN,    /* U64, time */
	PROTO_STATUS_REPLY_NOW,           /* U64, the daemon's clock: days left
					     are counted from it */
	PROTO_STATUS_REPLY_LAST_LOGIN,    /* U64, time of the last login the
					     daemon counted (before this one), 0 = none */
	PROTO_STATUS_REPLY_DORMANT,       /* U64, 0, or (LOGIN only) the whole days
					     the account has not been used - since
					     its last login, else its first sight -
					     which exceed INACTIVE_DAYS: "dormant",
					     the login must be refused */
};
/* PROTO_STATUS_REPLY_MUST_CHANGE values; any non-zero one means "must change". */
#define PROTO_MUST_CHANGE_NONE     0u
#define PROTO_MUST_CHANGE_FLAGGED  1u
#define PROTO_MUST_CHANGE_BREACHED 2u
enum { /* PROTO_REPORT_ROW */
	PROTO_REPORT_ROW_USER,            /* STR, non-empty */
	PROTO_REPORT_ROW_UID,             /* U64, meaningful with ROW_KNOWN_UID */
	PROTO_REPORT_ROW_STATE,           /* U64, enum aging_state (exempt too) */
	PROTO_REPORT_ROW_FIRST_SEEN,      /* U64, time the daemon first saw the user, 0 = not stored */
	PROTO_REPORT_ROW_LAST_CHANGE,     /* U64, time, 0 = never */
	PROTO_REPORT_ROW_EXPIRES,         /* U64, time, 0 = no expiry */
	PROTO_REPORT_ROW_HISTORY_COUNT,   /* U64 */
	PROTO_REPORT_ROW_FLAGS,           /* U64, PROTO_REPORT_ROW_* bits */
	PROTO_REPORT_ROW_LAST_LOGIN,      /* U64, time of the last login, 0 = none known */
};
#define PROTO_REPORT_ROW_IN_STORE    (1u << 0)  /* the store knows the user */
#define PROTO_REPORT_ROW_KNOWN_UID   (1u << 1)  /* NSS knows the user: UID is set */
#define PROTO_REPORT_ROW_MUST_CHANGE (1u << 2)  /* flagged for a change (admin,
							 or shadow's last
							 change is 0) */
#define PROTO_REPORT_ROW_FUTURE_DATE (1u << 3)  /* last change or first sight
							 is in the future (a clock
							 that jumped): aged from now */
#define PROTO_REPORT_ROW_FLAGS_ALL   0xfu
enum { /* PROTO_REPORT_END */
	PROTO_REPORT_END_COUNT,           /* U64, rows sent */
	PROTO_REPORT_END_NOW,             /* U64, the daemon's clock for the rows */
	PROTO_REPORT_END_MAX_AGE_DAYS,    /* U64, the policy the rows were computed with */
	PROTO_REPORT_END_WARN_DAYS,       /* U64 */
	PROTO_REPORT_END_HISTORY,         /* U64 */
};

/*
 * PROTO_REVIEW (no fields; root and the audit group): the quarterly access
 * review. The daemon streams one PROTO_REVIEW_ROW per account NSS
 * enumerates (system accounts too) and per stored user, from the same
 * join as the report, then one PROTO_REVIEW_END, and audits the review
 * (access_review, with the actor).
 */
enum { /* PROTO_REVIEW_ROW */
	PROTO_REVIEW_ROW_USER,            /* STR, non-empty */
	PROTO_REVIEW_ROW_UID,             /* U64, meaningful with ROW_KNOWN_UID */
	PROTO_REVIEW_ROW_STATE,           /* U64, enum aging_state (exempt too) */
	PROTO_REVIEW_ROW_FIRST_SEEN,      /* U64, time, 0 = not stored */
	PROTO_REVIEW_ROW_LAST_CHANGE,     /* U64, time, 0 = never */
	PROTO_REVIEW_ROW_LAST_LOGIN,      /* U64, time, 0 = none known */
	PROTO_REVIEW_ROW_FLAGS,           /* U64, PROTO_REPORT_ROW_* bits */
	PROTO_REVIEW_ROW_EXEMPTION,       /* U64, PROTO_EXEMPTION_* */
	PROTO_REVIEW_ROW_EXEMPT_GROUP,    /* STR, the exempt group (EXEMPTION_GROUP),
					     else empty */
	PROTO_REVIEW_ROW_GROUPS,          /* STR, the privileged groups the account
					     is in, comma-separated, may be empty */
};
/* Why an account is not covered (PROTO_REVIEW_ROW_EXEMPTION). On the wire. */
enum proto_exemption {
	PROTO_EXEMPTION_NONE = 0,         /* covered by the policy */
	PROTO_EXEMPTION_USER = 1,         /* listed in exempt_users */
	PROTO_EXEMPTION_GROUP = 2,        /* member of an exempt group */
	PROTO_EXEMPTION_SYSTEM = 3,       /* system account (uid below min_uid) */
	PROTO_EXEMPTION_NOT_LOCAL = 4,    /* local_users_only and not in /etc/passwd */
	PROTO_EXEMPTION_COUNT
};
enum { /* PROTO_REVIEW_END */
	PROTO_REVIEW_END_COUNT,           /* U64, rows sent */
	PROTO_REVIEW_END_NOW,             /* U64, the daemon's clock */
	PROTO_REVIEW_END_HOST,            /* STR, the daemon's host name */
	PROTO_REVIEW_END_POLICY,          /* STR, the policy in force, one line */
};

/*
 * PROTO_FLEET (no fields; anyone): where this daemon keeps its state and,
 * with store = postgresql, how its replica stands. Answered by one
 * PROTO_FLEET_REPLY. An older daemon refuses the type (the connection is
 * closed): treat that as "sqlite". The PING reply's DETAIL carries
 * DEGRADED_SINCE too (0 otherwise), for clients that only ping.
 */
enum { /* PROTO_FLEET_REPLY */
	PROTO_FLEET_REPLY_BACKEND,        /* STR, non-empty: "sqlite", "postgresql" */
	PROTO_FLEET_REPLY_HOST,           /* STR, the fleet's name for this host */
	PROTO_FLEET_REPLY_DEGRADED_SINCE, /* U64, time the database became
					     unreachable, 0 = in sync */
	PROTO_FLEET_REPLY_REASON,         /* STR, why (libpq's words), may be empty */
	PROTO_FLEET_REPLY_REPLICA_SEQ,    /* U64, last change applied to the replica */
	PROTO_FLEET_REPLY_OUTBOX,         /* U64, changes waiting for the database */
};
/*
 * PROTO_FLEET_REPORT (no fields; root and the audit group): the whole
 * fleet from the PostgreSQL database. For each user, in byte order of
 * name: one PROTO_FLEET_LOGIN per host with a login, then one
 * PROTO_REPORT_ROW (uid unknown, LAST_LOGIN the newest of any host); then
 * PROTO_REPORT_END. When the database cannot be reached, or the store is
 * SQLite, a PROTO_REPLY (PROTO_INTERNAL or PROTO_BAD_REQUEST) whose TEXT
 * says why is sent instead.
 */
enum { /* PROTO_FLEET_LOGIN */
	PROTO_FLEET_LOGIN_USER,           /* STR, non-empty */
	PROTO_FLEET_LOGIN_HOST,           /* STR, non-empty */
	PROTO_FLEET_LOGIN_WHEN,           /* U64, time of that host's last login */
};

/*
 * PROTO_SECRETS (no fields, root only): do the secrets on disk still match
 * the ones the store is bound to? Answered by a PROTO_REPLY whose DETAIL
 * holds the bits below and whose TEXT describes a problem with the pepper
 * file (empty when there is none). For "pam_policyctl doctor": the daemon
 * refuses to start with a missing or different pepper, so a file lost or
 * replaced while it runs is worth knowing before the next restart.
 * Bits 0..7 are the pepper's; later secrets take the bits above.
 */
#define PROTO_SECRETS_PEPPER_BOUND  (1u << 0)  /* the store records the pepper's
						  check value */
#define PROTO_SECRETS_PEPPER_IN_USE (1u << 1)  /* the daemon's pepper matches it */
#define PROTO_SECRETS_PEPPER_FILE   (1u << 2)  /* the pepper file exists and
						  passes the secret-file rule */
#define PROTO_SECRETS_PEPPER_FILE_MATCHES (1u << 3) /* ...and matches the store */
#define PROTO_SECRETS_PEPPER_FILE_MISSING (1u << 4) /* the file does not exist */

/* Reply status codes (PROTO_REPLY_STATUS, PROTO_STATUS_REPLY_STATUS). */
enum proto_status {
	PROTO_OK = 0,
	PROTO_REUSED = 1,       /* CHECK, RECORD: the password (or, with
				   PROTO_VIOLATION_SIMILAR, its skeleton) is
				   in the history */
	PROTO_TOO_SOON = 2,     /* CHECK, RECORD: minimum age not reached */
	PROTO_DENIED = 3,       /* the peer may not make this request */
	PROTO_BAD_REQUEST = 4,  /* well-formed but meaningless request */
	PROTO_NOT_FOUND = 5,    /* no such user / nothing stored */
	PROTO_INTERNAL = 6,     /* store, hashing or other daemon failure */
	PROTO_BUSY = 7,         /* overloaded, try again later */
	PROTO_STATUS_COUNT
};

/* PROTO_CHECK_FLAGS bits. */
#define PROTO_CHECK_ROOT_FOR_OTHER 1u /* root sets another user's password:
					 the minimum age does not apply */
#define PROTO_CHECK_EXPIRED_HINT 2u   /* PAM_CHANGE_EXPIRED_AUTHTOK was set.
					 A hint only ("passwd -k" sets it
					 too): the daemon alone decides from
					 its store and policy whether the
					 change is forced (expired, flagged,
					 must-change) and the minimum age
					 does not apply */

/*
 * PROTO_MAY_CHANGE (root only) asks, before any password is typed, the one
 * question of a CHECK that needs no password: does the minimum age refuse
 * a change now? The daemon decides as for a CHECK with the same flags
 * (waived for root setting another user's password and for a change it
 * knows to be forced). Answered by a PROTO_REPLY: PROTO_TOO_SOON with
 * DETAIL as a CHECK reply's (PROTO_VIOLATION_TOO_SOON and the days left),
 * else PROTO_OK (a user the store does not know may change). A cheap read:
 * it never hashes, so it does not queue behind checks and records.
 */

/*
 * PROTO_REPLY_DETAIL of a CHECK reply: every violation found, so that the
 * user sees all reasons at once. PROTO_REPLY_STATUS is PROTO_REUSED when
 * that bit (or PROTO_VIOLATION_SIMILAR) is set, else PROTO_TOO_SOON when
 * that one is, else PROTO_OK.
 */
#define PROTO_VIOLATION_REUSED 1u
#define PROTO_VIOLATION_TOO_SOON 2u
/*
 * The password's skeleton (its core and the shape of its digits and
 * symbols: "Summer2024!" ~ "Summer2025!") matches one of the daemon's
 * last similar_history changes. Never set together with REUSED.
 */
#define PROTO_VIOLATION_SIMILAR 4u
/* ...and, from this bit up, the days until a change is allowed (too soon). */
#define PROTO_CHECK_DAYS_SHIFT 8

/*
 * PROTO_RECORD_FLAGS: the facts the CHECK was answered with, so that the
 * record re-checks them inside its write transaction (the minimum age and
 * duplicates hold per user even for changes made at the same moment).
 * Bits below PROTO_RECORD_MIN_AGE_SHIFT are flags; from it up, the
 * minimum age in days (0..PP_DAYS_MAX; 0 = none). 0 records without a
 * minimum age.
 */
#define PROTO_RECORD_ROOT_FOR_OTHER 1u /* as PROTO_CHECK_ROOT_FOR_OTHER */
#define PROTO_RECORD_MIN_AGE_SHIFT 8
/*
 * The reply to a RECORD: PROTO_OK when the change was recorded. A change
 * the daemon refuses to record (nothing is written: history and last
 * change stay as they were) is PROTO_TOO_SOON (another change of the
 * user was recorded within the minimum age; DETAIL carries
 * PROTO_VIOLATION_TOO_SOON and the days left from PROTO_CHECK_DAYS_SHIFT
 * up, as a CHECK reply) or PROTO_REUSED (the password is already in the
 * history, e.g. recorded by a concurrent change; DETAIL has
 * PROTO_VIOLATION_REUSED; PROTO_VIOLATION_SIMILAR instead when the
 * password's skeleton matches a recent one). The daemon audits it as
 * change_not_recorded.
 */

struct proto_field {
	uint8_t kind;           /* enum proto_kind */
	const char *str;        /* STR: bytes, NOT NUL-terminated; else NULL */
	size_t len;             /* STR: byte count; else 0 */
	uint64_t u64;           /* U64: the value; else 0 */
};

struct proto_msg {
	enum proto_type type;
	unsigned nfields;
	struct proto_field f[PROTO_MAX_FIELDS];
};

/*
 * proto_msg_init - start building a message of type into *m (all fields
 * cleared). type is not checked here; proto_add_* and proto_encode reject
 * unknown types.
 */
void proto_msg_init(struct proto_msg *m, enum proto_type type);

/*
 * proto_add_str - append a string field. The message keeps the pointer s
 * (no copy): s must stay valid until the message is encoded. len is in
 * bytes; s need not be NUL-terminated; s may be NULL only when len is 0.
 * Errors: PP_ERR_TOO_LONG when len > PROTO_MAX_STR or the message is full;
 * PP_ERR_INVALID when s contains a NUL, when the schema of m->type has no
 * string field at this position, when the field must not be empty (user
 * names) and len is 0, or when a request's user name is not valid UTF-8
 * or holds a control character. On error m is unchanged.
 */
pp_err proto_add_str(struct proto_msg *m, const char *s, size_t len) PP_WUR;

/* proto_add_cstr - proto_add_str(m, s, strlen(s)); s must not be NULL. */
pp_err proto_add_cstr(struct proto_msg *m, const char *s) PP_WUR;

/*
 * proto_add_u64 - append a U64 field. Errors as for proto_add_str
 * (PP_ERR_INVALID when the schema expects a string here).
 */
pp_err proto_add_u64(struct proto_msg *m, uint64_t v) PP_WUR;

/*
 * proto_encode - check m against its schema and write its body (no length
 * header) into buf[0..cap), setting *len. A body never exceeds
 * PROTO_MAX_FRAME, so cap >= PROTO_MAX_FRAME always suffices. Errors:
 * PP_ERR_INVALID (m does not match the schema: incomplete or wrong
 * message), PP_ERR_TOO_LONG (cap too small). Nothing is written to buf on
 * a schema error. buf may then hold a password: the caller wipes it.
 */
pp_err proto_encode(const struct proto_msg *m, uint8_t *buf, size_t cap,
		    size_t *len) PP_WUR;

/*
 * proto_decode - parse one body (as read by proto_frame_read) into *m,
 * strictly (see the top of this file). String fields of *m point into body,
 * which must outlive *m and is never modified or copied. Errors:
 * PP_ERR_TOO_LONG (body over PROTO_MAX_FRAME, a string over PROTO_MAX_STR),
 * PP_ERR_PROTOCOL (anything else malformed). On error *m is cleared.
 */
pp_err proto_decode(const uint8_t *body, size_t len, struct proto_msg *m) PP_WUR;

/*
 * proto_copy_str - copy string field idx of m into out as a NUL-terminated
 * string (for user names, paths, ...). PP_ERR_INVALID when idx is not a
 * string field, PP_ERR_TOO_LONG when out (cap bytes) is too small. Do not
 * use it for a secret field unless out is wiped memory you own.
 */
pp_err proto_copy_str(const struct proto_msg *m, unsigned idx, char *out,
		      size_t cap) PP_WUR;

/* proto_type_name - "check", "status_reply", ...; "unknown" otherwise. */
const char *proto_type_name(unsigned type);

/* proto_status_name - "ok", "reused", ...; "unknown" otherwise. */
const char *proto_status_name(uint64_t status);

/* proto_is_request / proto_is_reply - the direction of a known type. */
bool proto_is_request(unsigned type);
bool proto_is_reply(unsigned type);

/*
 * proto_describe - a one-line text of m for debug logs into buf (always
 * NUL-terminated when cap > 0, truncated if needed), e.g.
 * check user="alice" password=<secret 12 bytes> flags=0 ...
 * Secret fields are never shown; other bytes outside printable ASCII are
 * escaped as \xNN.
 */
void proto_describe(const struct proto_msg *m, char *buf, size_t cap);

/*
 * ---- Frame I/O on a stream socket (module, CLI and daemon) ----
 *
 * Deadlines are absolute CLOCK_MONOTONIC times in milliseconds, so that a
 * whole exchange (write + read) shares one budget. PROTO_NO_DEADLINE waits
 * forever. fd may be blocking or not: every send/recv is done with
 * MSG_DONTWAIT and waits in poll(), which is restarted after EINTR.
 * Writes use MSG_NOSIGNAL: a closed peer is an error, never SIGPIPE.
 */
#define PROTO_NO_DEADLINE INT64_C(-1)

/*
 * proto_deadline_after - the deadline timeout_ms from now; a negative
 * timeout_ms gives PROTO_NO_DEADLINE.
 */
int64_t proto_deadline_after(int timeout_ms);

/*
 * proto_frame_write - send the length header and body[0..len) on fd, all
 * of it, before deadline. Does not copy body. Errors: PP_ERR_TOO_LONG (len
 * over PROTO_MAX_FRAME), PP_ERR_TIMEOUT, PP_ERR_UNREACHABLE (the peer has
 * closed: EPIPE/ECONNRESET), PP_ERR_IO (other errors, errno kept).
 */
pp_err proto_frame_write(int fd, const uint8_t *body, size_t len,
			 int64_t deadline) PP_WUR;

/*
 * proto_send - proto_encode m into a private buffer and proto_frame_write
 * it; the buffer is wiped before returning, on every path (m may carry a
 * password). Errors of both functions.
 */
pp_err proto_send(int fd, const struct proto_msg *m, int64_t deadline) PP_WUR;

/*
 * proto_frame_read - receive one whole frame from fd before deadline: its
 * body goes into buf[0..cap) and its length into *len. Never reads past
 * the end of the frame. Errors: PP_ERR_UNREACHABLE when the peer closed
 * (or reset) the connection before the first byte of a frame (the normal
 * end of a connection for the daemon); PP_ERR_PROTOCOL when it did so in
 * the middle of a frame; PP_ERR_TOO_LONG when the header
 * announces more than PROTO_MAX_FRAME or cap bytes (the body is not read);
 * PP_ERR_TIMEOUT; PP_ERR_IO. buf may hold a partial password after an
 * error: its owner wipes it as usual.
 */
pp_err proto_frame_read(int fd, uint8_t *buf, size_t cap, size_t *len,
			int64_t deadline) PP_WUR;

#endif
