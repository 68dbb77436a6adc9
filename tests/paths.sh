# tests/paths.sh - where this host keeps the libraries the tests load.
# Sourced (". tests/paths.sh") by run-tests.sh, demo.sh, bench/bench.sh and
# e2e/run.sh, so the search is written once and nothing assumes x86_64 or
# one distribution's layout. After sourcing:
#   pp_securedir  the PAM module directory (the one holding pam_permit.so)
#   pp_nsswrap    libnss_wrapper.so
#   pp_faketime   libfaketimeMT.so.1
# Each is "" when not found; the caller decides whether that is fatal.
# Candidates: the compiler's multiarch directories first (Debian, Ubuntu),
# then lib64 (Fedora, SUSE), then plain lib (Arch, Alpine).
#
# Copyright (c) 2026 The pam_policy authors
# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=sh disable=SC2034  # the pp_* results are the sourcer's

pp_multiarch=$(${CC:-cc} -print-multiarch 2>/dev/null || true)
pp_libdirs=""
[ -n "$pp_multiarch" ] && pp_libdirs="/usr/lib/$pp_multiarch /lib/$pp_multiarch"
pp_libdirs="$pp_libdirs /usr/lib64 /lib64 /usr/lib /lib"

# pp_find RELATIVE_PATH: the first candidate directory holding it, as a path.
pp_find() {
	for pp_d in $pp_libdirs; do
		if [ -e "$pp_d/$1" ]; then
			echo "$pp_d/$1"
			return 0
		fi
	done
	return 1
}

pp_securedir=$(pp_find security/pam_permit.so || true)
pp_securedir=${pp_securedir%/pam_permit.so}

pp_nsswrap=""
pp_d=$(pkg-config --variable=libdir nss_wrapper 2>/dev/null || true)
[ -n "$pp_d" ] && [ -f "$pp_d/libnss_wrapper.so" ] && pp_nsswrap="$pp_d/libnss_wrapper.so"
[ -n "$pp_nsswrap" ] || pp_nsswrap=$(pp_find libnss_wrapper.so || true)

pp_faketime=$(pp_find faketime/libfaketimeMT.so.1 || true)
