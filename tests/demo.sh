#!/bin/sh
# Copyright (c) 2026 The pam_policy authors
# SPDX-License-Identifier: BSD-3-Clause
# make demo: a password change for a throwaway user through the real libpam,
# with pam_policy.so in the stack. Nothing on the system changes: the stack
# lives in a temporary directory (pam_start_confdir), the user comes from
# nss_wrapper, and the "writer" below pam_policy records into a temp file.
# Interactive when a terminal is attached; a scripted run otherwise.
set -u
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/$build"
work=$(mktemp -d "${TMPDIR:-/tmp}/pam_policy-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

. "$top/tests/paths.sh"
nsswrap=$pp_nsswrap
[ -n "$nsswrap" ] || { echo "demo: libnss_wrapper.so not found in:$pp_libdirs (make deps)" >&2; exit 1; }
{
	echo "root:x:0:0:root:/root:/bin/sh"
	[ "$(id -u)" != 0 ] && echo "$(id -un):x:$(id -u):$(id -g):Demo Runner:/tmp:/bin/sh"
	echo "demo:x:1500:1500:Dana Demo:/home/demo:/bin/sh"
} >"$work/passwd"
{
	echo "root:x:0:"
	[ "$(id -g)" != 0 ] && echo "$(id -gn):x:$(id -g):"
	echo "demo:x:1500:"
} >"$work/group"

# The shipped configuration, with the daemon's files moved into $work.
{
	cat "$top/conf/pam_policy.conf"
	echo "socket = $work/run/pam_policyd.sock"
	echo "state_dir = $work/state"
	echo "audit_log = $work/log/audit.log"
	echo "shadow_file = $work/no-shadow"
} >"$work/pam_policy.conf"
cat >"$work/passwd-demo" <<STACK
password requisite $build/pam_policy.so config=$work/pam_policy.conf
password required  $build/tests/pam_test_writer.so file=$work/shadow
password optional  $build/pam_policy.so config=$work/pam_policy.conf record
account  required  $build/pam_policy.so config=$work/pam_policy.conf
STACK

# pam_policyd keeps the hashed history; it runs until the demo ends.
if ! env LD_PRELOAD="$nsswrap" NSS_WRAPPER_PASSWD="$work/passwd" \
	NSS_WRAPPER_GROUP="$work/group" \
	"$build/tests/notify_wait" 20 "$work/daemon.pid" \
	"$build/pam_policyd" -f -c "$work/pam_policy.conf" 2>"$work/daemon.log"; then
	echo "demo: pam_policyd did not start:" >&2
	cat "$work/daemon.log" >&2
	exit 1
fi
trap 'kill "$(cat "$work/daemon.pid")" 2>/dev/null; rm -rf "$work"' EXIT INT TERM

run() {
	env LD_PRELOAD="$nsswrap" NSS_WRAPPER_PASSWD="$work/passwd" \
		NSS_WRAPPER_GROUP="$work/group" \
		"$build/tests/pam_run" "$work" passwd-demo demo "$@"
}

echo "pam_policy demo: changing the password of the throwaway user 'demo'"
echo "(Dana Demo) through the real libpam. The stack used:"
sed 's/^/    /' "$work/passwd-demo"
echo "Policy: at least 10 characters; upper, lower, digit and special;"
echo "no dictionary words, no user name or real name; 3 attempts; none of"
echo "the last 24 passwords; at most one change a day."
echo

if [ -t 0 ] && [ -t 1 ]; then
	echo "Choose a new password for 'demo' (Ctrl-C to stop):"
	run chauthtok
	echo
	echo "Once more, to see the history check (try the same password again):"
	run chauthtok
else
	echo "--- passwd, first try: three rejected passwords ---"
	printf '%s\n' 'dana' 'password12' 'Demo-Dana-2024' | run chauthtok
	echo
	echo "--- passwd, second try: a rejected password, then an accepted one ---"
	printf '%s\n' 'sunny day' 'Tulip-Harbor-84!' 'Tulip-Harbor-84!' | run chauthtok
	echo
	echo "--- passwd, third try: the same password again (history), then a new one ---"
	printf '%s\n' 'Tulip-Harbor-84!' 'Maple-Canyon-37?' 'Maple-Canyon-37?' | run chauthtok
	echo
	echo "--- login (account phase): the password is new, nothing to say ---"
	run acct </dev/null
fi
echo
echo "The audit log kept by pam_policyd (no passwords, no hashes):"
cut -c1-150 "$work/log/audit.log" | sed 's/^/    /; s/$/.../'
echo
if [ -s "$work/shadow" ]; then
	echo "The writer below pam_policy received the accepted password for: $(cut -d: -f1 "$work/shadow" | sort -u)"
else
	echo "No password was changed."
fi
exit 0
