/*
 * blocklist_cmd.h - "pam_policyctl blocklist build|info|check": build the
 * breach filter (lib/blocklist.h) from Have I Been Pwned downloads or plain
 * lists, describe one, look passwords up in one.
 *
 *   build -o FILE [--min-count N] [--kind sha1|ntlm] [--plain] [--memory MIB]
 *         INPUT...
 *       Each INPUT is a directory of HIBP range files (named by their
 *       5-digit hexadecimal prefix, optionally with ".txt"; lines
 *       "SUFFIX:COUNT"), a file of "HASH:COUNT" lines (sorted or not), or
 *       a plain list (one password per line, UTF-8, NFC-normalised before
 *       hashing). The kind is taken from the hash length (40 digits SHA-1,
 *       32 NTLM); a mix is refused; plain lists are hashed with --kind
 *       (default: the hash inputs' kind, else sha1). --min-count N keeps
 *       hashes seen at least N times (plain lines always count). --plain
 *       reads every file as a plain list. Memory for sorting is bounded by
 *       --memory (default BLOCKLIST_BUILD_MEMORY_MIB); more input is sorted
 *       in runs spilled to a temporary file beside FILE and merged. FILE is
 *       replaced atomically (a temporary file in the same directory, fsync,
 *       rename, fsync of the directory), mode 0644. A progress line is
 *       written to standard error when it is a terminal.
 *   info [--format text|json] [--no-verify] FILE
 *       Entries, false-positive rate, size and bits per entry, build time,
 *       sources and the checksums (every page is read unless --no-verify).
 *   check [-q] FILE
 *       Passwords on standard input, one per line (echo off on a
 *       terminal), each looked up as typed and in its NFC form; prints
 *       "LINE: listed" or "LINE: not listed" per line number, never a
 *       password.
 *
 * Exit status: build and info: 0 done (info: checksums good), 1 (info) a
 * checksum failed, 2 usage error, 6 an input or output error (the message
 * names file and line). check: like grep - 0 when any line is listed, 1
 * when none is, 2 on any error.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef PAM_POLICY_CTL_BLOCKLIST_CMD_H
#define PAM_POLICY_CTL_BLOCKLIST_CMD_H

#define BLOCKLIST_BUILD_MEMORY_MIB 512   /* sort memory by default */
#define BLOCKLIST_BUILD_MEMORY_MIN 1     /* the smallest --memory (MiB) */
#define BLOCKLIST_BUILD_MEMORY_MAX 65536 /* the largest --memory (MiB) */
#define BLOCKLIST_LINE_MAX 4096          /* bytes in an input line, without its newline */

/*
 * blocklist_main - the command: argv[0] is "blocklist", argv[1] the
 * subcommand. Prints as described above; returns the exit status.
 */
int blocklist_main(int argc, char **argv);

#endif
