#!/bin/sh
# Copyright (c) 2026 The pam_policy authors
# SPDX-License-Identifier: BSD-3-Clause
# Runs every Check test binary with test users supplied by nss_wrapper, so
# the suite needs neither root nor any change to /etc.
# The fleet tests (test_fleet) start their own PostgreSQL servers
# (tests/pg_harness.c) from the highest /usr/lib/postgresql/VERSION/bin, or
# from PAM_POLICY_TEST_PG_BINDIR when set (passed through); without them
# they skip, saying so.
# usage: run-tests.sh BUILD_DIR TEST_BINARY...
# Prints each program's output, then one total over all of them:
#   === 258 checks: 250 passed, 8 skipped, 0 failed ===
# and exits 1 when a program failed or crashed (printed no RESULT line).
set -u
build=$1; shift
top=$(cd "$(dirname "$0")/.." && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/pam_policy-tests.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

me_uid=$(id -u); me_gid=$(id -g); me_name=$(id -un)
{
	echo "root:x:0:0:root:/root:/bin/sh"
	[ "$me_uid" != 0 ] && echo "$me_name:x:$me_uid:$me_gid:Test Runner:/tmp:/bin/sh"
	echo "alice:x:1001:1001:Alice Wonderland,,,:/home/alice:/bin/sh"
	echo "bob:x:1002:1002:Bob Builder:/home/bob:/bin/sh"
	echo "carol:x:1003:1003:Carol Exempt:/home/carol:/bin/sh"
	echo "dave:x:1004:1004:Dave Grouped:/home/dave:/bin/sh"
	# Long names: 70 bytes; 63 bytes, and the same plus two (65 bytes).
	echo "llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll:x:1005:1005:Long Name:/home/long:/bin/sh"
	echo "ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp:x:1006:1006:Prefix User:/home/prefix:/bin/sh"
	echo "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppxy:x:1007:1007:Prefix Plus:/home/prefixplus:/bin/sh"
	echo "svc:x:500:500:Service Account:/var/lib/svc:/usr/sbin/nologin"
	echo "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin"
} >"$work/passwd"
{
	echo "root:x:0:"
	[ "$me_gid" != 0 ] && echo "$(id -gn):x:$me_gid:"
	echo "alice:x:1001:"
	echo "bob:x:1002:"
	echo "carol:x:1003:"
	echo "dave:x:1004:"
	echo "llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll:x:1005:"
	echo "ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp:x:1006:"
	echo "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppxy:x:1007:"
	echo "svc:x:500:"
	echo "pwexempt:x:2000:dave"
	echo "pampolicy-audit:x:2001:bob"
	echo "sudo:x:27:alice"
	echo "nogroup:x:65534:"
} >"$work/group"

. "$top/tests/paths.sh"
if [ -z "$pp_nsswrap" ]; then
	echo "run-tests: libnss_wrapper.so not found in:$pp_libdirs (make deps)" >&2
	exit 1
fi
# A copy every uid can read: tests run pam_policyctl as nobody and bob, and
# the source tree may sit in a directory they cannot enter (/root).
cp "$top/tests/lsan.supp" "$work/lsan.supp"
chmod 0644 "$work/lsan.supp"

export PAM_POLICY_TEST_BUILD="$top/$build"
export PAM_POLICY_TEST_TOP="$top"
export PAM_POLICY_TEST_PASSWD="$work/passwd"
export PAM_POLICY_TEST_GROUP="$work/group"
export PAM_POLICY_TEST_SECUREDIR="$pp_securedir"
export PAM_POLICY_TEST_FAKETIME="$pp_faketime"
export CK_DEFAULT_TIMEOUT="${CK_DEFAULT_TIMEOUT:-60}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-verify_asan_link_order=0:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$work/lsan.supp}"

# Each program prints "RESULT name: N checks, P passed, S skipped, F failed"
# (tests/runner.c). A program that exits non-zero, or ends without its
# RESULT line (a crash, an abort in the harness), is a failed program.
failed=0 checks=0 passed=0 skipped=0 failures=0
: >"$work/skips"
for t in "$@"; do
	name=${t##*/}
	echo "== $name"
	{
		env LD_PRELOAD="$pp_nsswrap" NSS_WRAPPER_PASSWD="$work/passwd" \
			NSS_WRAPPER_GROUP="$work/group" TMPDIR="$work" "$t" 2>&1
		echo $? >"$work/rc"
	} | tee "$work/out"
	rc=$(cat "$work/rc")
	grep '^SKIP ' "$work/out" >>"$work/skips"
	counts=$(sed -n "s/^RESULT $name: \([0-9]*\) checks, \([0-9]*\) passed, \([0-9]*\) skipped, \([0-9]*\) failed\$/\1 \2 \3 \4/p" \
		"$work/out" | tail -n 1)
	if [ -n "$counts" ]; then
		read -r c p s f <<-EOF
		$counts
		EOF
		checks=$((checks + c)); passed=$((passed + p))
		skipped=$((skipped + s)); failures=$((failures + f))
	fi
	if [ "$rc" != 0 ] || [ -z "$counts" ]; then
		[ -z "$counts" ] && echo "!! $name printed no RESULT line (exit $rc): it crashed"
		echo "!! $name FAILED"
		failed=$((failed + 1))
	fi
done
if [ -s "$work/skips" ]; then
	echo "== skipped tests"
	sed 's/^SKIP /  /' "$work/skips"
fi
echo "=== $checks checks: $passed passed, $skipped skipped, $failures failed ==="
if [ "$failed" -ne 0 ]; then
	echo "$failed test program(s) failed"
	exit 1
fi
echo "all test programs passed"
