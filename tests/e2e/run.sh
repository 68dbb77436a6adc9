#!/bin/sh
# Copyright (c) 2026 The pam_policy authors
# SPDX-License-Identifier: BSD-3-Clause
# shellcheck disable=SC2317  # functions below are called through check()
# make check-e2e: the end-to-end tier (DESIGN.md §8). Root only.
#
#   sh tests/e2e/run.sh BUILD_DIR
#
# Everything happens in a private mount namespace (unshare --mount
# --propagation private), so the host is never touched:
#   - a throwaway copy of /etc is bind-mounted over /etc (the whole
#     directory: shadow-utils replaces /etc/shadow by rename, which fails on
#     a single-file mount point);
#   - tmpfs on /home, /run, /var/log and /var/mail (useradd, sshd and the
#     login records write there);
#   - a copy of the PAM module directory with the built pam_policy.so added
#     is bind-mounted over it, so the stacks name the module plainly.
# Then, with the stack lines of pam_policy(8) EXAMPLES in common-password
# and common-account:
#   1. useradd -m e2euser; chpasswd run by root: a too-short password is
#      refused with its reasons, a good one is accepted and recorded;
#   2. pam_policyd is restarted 100 days in the future (libfaketime, the
#      daemon only), so the recorded password is past the 90-day rotation;
#   3. OpenSSH's sshd on 127.0.0.1: an ssh login with password
#      authentication must demand a change; a too-short and a reused
#      password are refused with their reasons, a good one is accepted; the
#      next ssh login goes straight in;
#   4. a real passwd run by e2euser: a weak password is refused, a good
#      one accepted; /etc/shadow (the copy) changes;
#   5. the audit log holds password_changed from chpasswd, sshd and passwd,
#      password_expired and forced_change_completed.
# A summary of PASS/FAIL lines closes the run; any FAIL exits non-zero.
set -u

build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
case $build in /*) ;; *) build="$top/$build" ;; esac

if [ "$(id -u)" != 0 ]; then
	echo "check-e2e: skipped: needs root (it uses a private mount namespace, useradd and sshd)"
	exit 0
fi

# The PAM module directory (where pam_permit.so is) and libfaketime, found
# on this host rather than assumed (tests/paths.sh).
. "$top/tests/paths.sh"
secdir=$pp_securedir
faketime_lib=$pp_faketime

# ---------------------------------------------------------------- outside
if [ "${PAM_POLICY_E2E_INNER:-}" != 1 ]; then
	missing=""
	for t in unshare mount umount useradd chpasswd passwd runuser expect ssh \
		ssh-keygen /usr/sbin/sshd; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	[ -n "$secdir" ] || missing="$missing pam_permit.so (in:$pp_libdirs)"
	[ -n "$faketime_lib" ] || missing="$missing libfaketimeMT.so.1 (in:$pp_libdirs)"
	for f in "$build/pam_policy.so" "$build/pam_policyd" \
		"$build/tests/notify_wait" ${faketime_lib:+"$faketime_lib"} \
		${secdir:+"$secdir/pam_unix.so"}; do
		[ -e "$f" ] || missing="$missing $f"
	done
	if [ -n "$missing" ]; then
		echo "check-e2e: FAIL: missing:$missing (make deps; make test-build)" >&2
		exit 1
	fi
	if ! unshare --mount --propagation private true 2>/dev/null; then
		echo "check-e2e: skipped: unshare --mount is not permitted here" \
			"(a container without CAP_SYS_ADMIN?); the end-to-end tier needs a" \
			"private mount namespace and never touches the host's /etc"
		exit 0
	fi
	work=$(mktemp -d "${TMPDIR:-/tmp}/pam_policy-e2e.XXXXXX") || exit 1
	chmod 0755 "$work"
	PAM_POLICY_E2E_INNER=1 PAM_POLICY_E2E_WORK=$work \
		unshare --mount --propagation private sh "$0" "$build"
	rc=$?
	# The namespace is gone with its mounts; the files are ordinary ones.
	if [ "${E2E_KEEP:-}" = 1 ]; then
		echo "check-e2e: kept $work"
	else
		rm -rf "$work"
	fi
	exit $rc
fi

# ----------------------------------------------------------------- inside
work=$PAM_POLICY_E2E_WORK
results=$work/results
: >"$results"
export E2E_RESULTS="$results"
user=e2euser
daemon_pid=""
sshd_pid=""

pass() { echo "PASS $*" >>"$results"; echo "e2e: PASS $*"; }
fail() { echo "FAIL $*" >>"$results"; echo "e2e: FAIL $*"; }
check() { # check NAME COMMAND...
	name=$1; shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}

# Stop a process we started (by pid only) and wait until it is gone.
stop_pid() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null
	return 0
}

summary() {
	echo
	echo "=== check-e2e summary ==="
	cat "$results"
	np=$(grep -c '^PASS' "$results")
	nf=$(grep -c '^FAIL' "$results")
	echo "=== $np passed, $nf failed ==="
	[ "$nf" = 0 ] && [ "$np" -gt 0 ]
}

cleanup() {
	stop_pid "$sshd_pid"
	stop_pid "$daemon_pid"
	# Not strictly needed: the mounts vanish with the namespace.
	for m in "$secdir" /var/mail /var/log /run /home /etc; do
		umount "$m" 2>/dev/null
	done
}

abort() {
	fail "$*"
	cleanup
	summary
	exit 1
}

# Run a command with its output in a log file.
logged() { # logged LOGFILE COMMAND...
	log=$1; shift
	"$@" >"$log" 2>&1
}

trap 'cleanup; exit 1' INT TERM

# --- the private world --------------------------------------------------
cp -a /etc "$work/etc" || abort "copy /etc"
touch "$work/etc/.pam_policy_e2e"
mount --bind "$work/etc" /etc || abort "bind-mount the copy of /etc"
# Safety: from here on nothing may run unless /etc really is the copy.
[ -e /etc/.pam_policy_e2e ] || abort "the copy of /etc is not in place"
mount -t tmpfs -o mode=0755 e2e-home /home || abort "tmpfs on /home"
mount -t tmpfs -o mode=0755 e2e-run /run || abort "tmpfs on /run"
mkdir -m 0755 /run/sshd /run/lock
mount -t tmpfs -o mode=0755 e2e-log /var/log || abort "tmpfs on /var/log"
mount -t tmpfs -o mode=2775 e2e-mail /var/mail || abort "tmpfs on /var/mail"
if ! { mkdir -p "$work/security" && cp -a "$secdir/." "$work/security/"; }; then
	abort "copy $secdir"
fi
install -m 0644 "$build/pam_policy.so" "$work/security/pam_policy.so"
mount --bind "$work/security" "$secdir" || abort "bind-mount the module directory"
[ -e "$secdir/pam_policy.so" ] || abort "pam_policy.so is not in $secdir"
pass "private namespace: /etc copy, tmpfs /home /run /var/log /var/mail, module installed as $secdir/pam_policy.so"

# --- the stack lines of pam_policy(8) EXAMPLES (Debian) ---------------
awk '
/^password[ \t].*pam_unix\.so/ && !done {
	print "password  requisite                    pam_policy.so"
	print "password  [success=1 default=ignore]   pam_unix.so obscure use_authtok try_first_pass yescrypt"
	done = 1
	next
}
{ print }
END { print "password  optional                     pam_policy.so record" }
'  /etc/pam.d/common-password >"$work/common-password" ||
	abort "edit common-password"
cat "$work/common-password" >/etc/pam.d/common-password
echo "account   required                     pam_policy.so" >>/etc/pam.d/common-account
stack_ok() {
	grep -v '^[[:space:]]*#' /etc/pam.d/common-password | grep . | awk '
		/pam_policy\.so *$/ && !c { c = NR }
		/pam_unix\.so/ && !u { u = NR }
		/pam_permit\.so/ { p = NR }
		/pam_policy\.so record/ { r = NR }
		END { exit !(c && u && p && r && c < u && u < p && p < r) }' &&
	grep -q '^account.*pam_policy\.so' /etc/pam.d/common-account
}
check "PAM stacks: check before pam_unix, record after pam_permit, account line" stack_ok
echo "--- /etc/pam.d/common-password (in the namespace):"
grep -v '^[[:space:]]*#' /etc/pam.d/common-password | grep .

mkdir -m 0700 "$work/state"
cat >/etc/security/pam_policy.conf <<CONF
# pam_policy end-to-end test (tests/e2e/run.sh); everything else is the default.
state_dir = $work/state
audit_log = $work/audit/audit.log
socket = /run/pam_policy/pam_policyd.sock
# This test changes e2euser's password several times on the same day
# (chpasswd, the forced change at the ssh login, passwd): the default
# minimum age of 1 day would refuse the later ones.
min_age_days = 0
CONF
chmod 0644 /etc/security/pam_policy.conf

start_daemon() { # start_daemon [env assignments for the daemon only...]
	rm -f "$work/daemon.pid"
	if "$build/tests/notify_wait" 20 "$work/daemon.pid" env "$@" \
		"$build/pam_policyd" -f -c /etc/security/pam_policy.conf \
		>>"$work/daemon.log" 2>&1; then
		daemon_pid=$(cat "$work/daemon.pid")
		return 0
	fi
	cat "$work/daemon.log"
	return 1
}

# --- user, chpasswd run by root --------------------------------------------
PW_INITIAL='Qz7#vKp2!mWxe'
PW_SHORT='Ab1!x'
PW_SSH='Rt5%hNq8@jLwu'
PW_WEAK='password1'
PW_PASSWD='Bv3+kXs9=dPyo'

if logged "$work/useradd.log" useradd -m -s /bin/bash -c "E2E Tester" "$user"; then
	pass "useradd -m $user (uid $(id -u "$user"))"
else
	cat "$work/useradd.log"
	abort "useradd -m $user"
fi

start_daemon || abort "pam_policyd starts (real time)"
pass "pam_policyd starts (real time, pid $daemon_pid)"

shadow_hash() { awk -F: -v u="$user" '$1 == u { print $2 }' /etc/shadow; }
hash0=$(shadow_hash)

echo "$user:$PW_SHORT" | chpasswd >"$work/chpasswd-short.log" 2>&1
rc=$?
if [ $rc != 0 ] && grep -q 'too short' "$work/chpasswd-short.log" &&
	[ "$(shadow_hash)" = "$hash0" ]; then
	pass "chpasswd (root): too-short password refused (exit $rc) with its reasons"
else
	fail "chpasswd (root): too-short password refused (exit $rc)"
fi
echo "--- chpasswd output for the too-short password:"
cat "$work/chpasswd-short.log"

echo "$user:$PW_INITIAL" | chpasswd >"$work/chpasswd-good.log" 2>&1
rc=$?
hash1=$(shadow_hash)
if [ $rc = 0 ] && [ "$hash1" != "$hash0" ]; then
	pass "chpasswd (root): good password accepted, /etc/shadow updated"
else
	cat "$work/chpasswd-good.log"
	abort "chpasswd (root): good password accepted (exit $rc)"
fi

# --- 100 days later, from the daemon's point of view ---------------------
# The password was recorded at the real time above; the daemon now runs
# with its clock 100 days ahead (only the daemon: libfaketime is preloaded
# into it alone), so the account phase finds it past the 90-day rotation.
stop_pid "$daemon_pid"
daemon_pid=""
start_daemon LD_PRELOAD="$faketime_lib" FAKETIME="+100d" \
	FAKETIME_DONT_FAKE_MONOTONIC=1 || abort "pam_policyd restarts 100 days ahead"
pass "pam_policyd restarted with its clock 100 days ahead (faketime, pid $daemon_pid)"

# --- sshd on 127.0.0.1 ------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C e2e -f "$work/ssh_host_ed25519_key" ||
	abort "ssh-keygen"
port_free() { ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
start_sshd() {
	cat >"$work/sshd_config" <<SSHD
Port $port
ListenAddress 127.0.0.1
HostKey $work/ssh_host_ed25519_key
PidFile $work/sshd.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication no
AuthorizedKeysFile none
PermitRootLogin no
AllowUsers $user
PrintMotd no
PrintLastLog no
UseDNS no
X11Forwarding no
LogLevel VERBOSE
SSHD
	rm -f "$work/sshd.notify.pid"
	"$build/tests/notify_wait" 20 "$work/sshd.notify.pid" \
		/usr/sbin/sshd -D -e -f "$work/sshd_config" >>"$work/sshd.log" 2>&1 &&
		sshd_pid=$(cat "$work/sshd.notify.pid")
}
started=no
for try in 1 2 3 4 5; do
	port=$(( ($$ * 7 + try * 131 + $(date +%N | sed 's/^0*//;s/^$/0/') % 1000) % 20000 + 20000 ))
	port_free "$port" || continue
	if start_sshd; then started=yes; break; fi
done
[ $started = yes ] || { cat "$work/sshd.log"; abort "sshd starts on 127.0.0.1"; }
pass "sshd starts on 127.0.0.1:$port (pid $sshd_pid)"

audit=$work/audit/audit.log
audit_lines() { wc -l <"$audit" 2>/dev/null || echo 0; }
mark_ssh=$(audit_lines)
export E2E_PW_OLD="$PW_INITIAL" E2E_PW_SHORT="$PW_SHORT" E2E_PW_NEW="$PW_SSH"
hash_before_ssh=$(shadow_hash)
echo "--- ssh login with the expired password:"
expect -f "$top/tests/e2e/ssh_expired.exp" "$port" </dev/null
shadow_changed() { [ "$(shadow_hash)" != "$1" ]; }
check "ssh: /etc/shadow has the new hash after the forced change" \
	shadow_changed "$hash_before_ssh"

echo "--- ssh login with the new password:"
expect -f "$top/tests/e2e/ssh_login.exp" "$port" </dev/null

# --- a real passwd run by the user ---------------------------------------
mark_passwd=$(audit_lines)
export E2E_PW_OLD="$PW_SSH" E2E_PW_WEAK="$PW_WEAK" E2E_PW_NEW="$PW_PASSWD"
hash_before_passwd=$(shadow_hash)
echo "--- passwd run by $user:"
expect -f "$top/tests/e2e/passwd.exp" </dev/null
check "passwd: /etc/shadow has the new hash" shadow_changed "$hash_before_passwd"

# --- the audit log ---------------------------------------------------------
# Checked phase by phase (line ranges), so that each event is attributed to
# the step that caused it. sshd (PasswordAuthentication) logs the expiry
# itself (service sshd, rhost 127.0.0.1) and then runs passwd(1) on the tty
# for the change, so the forced change is recorded with service passwd.
mark_end=$(audit_lines)
segment() { # segment FROM TO: audit lines FROM+1..TO about the user
	sed -n "$(($1 + 1)),$2p" "$audit" | grep "\"user\":\"$user\""
}
has_event() { # has_event FROM TO EVENT [FIELD-PATTERN...]
	from=$1 to=$2 ev=$3; shift 3
	lines=$(segment "$from" "$to" | grep "\"event\":\"$ev\"") || return 1
	for pat in "$@"; do
		lines=$(printf '%s\n' "$lines" | grep -- "$pat") || return 1
	done
	return 0
}
lacks_event() { ! has_event "$@"; }
reason() { printf '"reasons":\\[[^]]*"%s"' "$1"; }
echo "--- audit log events for $user (time as pam_policyd saw it):"
grep "\"user\":\"$user\"" "$audit" 2>/dev/null |
	sed -n 's/.*"ts":"\([^"]*\)","event":"\([^"]*\)".*"service":"\([^"]*\)".*/  \1 \2 (\3)/p'

check "audit (chpasswd): change_rejected too_short" \
	has_event 0 "$mark_ssh" change_rejected '"service":"chpasswd"' "$(reason too_short)"
check "audit (chpasswd): password_changed, service chpasswd" \
	has_event 0 "$mark_ssh" password_changed '"service":"chpasswd"'
check "audit (ssh): password_expired, service sshd, rhost 127.0.0.1" \
	has_event "$mark_ssh" "$mark_passwd" password_expired '"service":"sshd"' '"rhost":"127.0.0.1"'
check "audit (ssh): change_rejected too_short" \
	has_event "$mark_ssh" "$mark_passwd" change_rejected "$(reason too_short)"
check "audit (ssh): change_rejected reused" \
	has_event "$mark_ssh" "$mark_passwd" change_rejected "$(reason reused)"
check "audit (ssh): password_changed (by the passwd that sshd runs)" \
	has_event "$mark_ssh" "$mark_passwd" password_changed '"service":"passwd"'
check "audit (ssh): forced_change_completed" \
	has_event "$mark_ssh" "$mark_passwd" forced_change_completed
check "audit (passwd): change_rejected with several reasons" \
	has_event "$mark_passwd" "$mark_end" change_rejected "$(reason too_short)" \
	"$(reason dictionary_word)"
check "audit (passwd): password_changed, service passwd" \
	has_event "$mark_passwd" "$mark_end" password_changed '"service":"passwd"'
check "audit (passwd): not a forced change this time" \
	lacks_event "$mark_passwd" "$mark_end" forced_change_completed
# shellcheck disable=SC2016  # expanded by the inner sh
check "audit: no password text in the log" \
	sh -c '! grep -F -e "$1" -e "$2" -e "$3" -e "$4" -e "$5" "$6"' - \
	"$PW_INITIAL" "$PW_SHORT" "$PW_SSH" "$PW_WEAK" "$PW_PASSWD" "$audit"

if [ -x "$build/pam_policyctl" ]; then
	if "$build/pam_policyctl" audit verify >"$work/verify.log" 2>&1; then
		pass "pam_policyctl audit verify (optional: only when the CLI is built)"
	else
		echo "(pam_policyctl audit verify: $(head -1 "$work/verify.log"); not counted)"
	fi
fi

cleanup
if summary; then
	exit 0
fi
echo "--- pam_policyd log:"; tail -40 "$work/daemon.log"
echo "--- sshd log:"; tail -60 "$work/sshd.log"
exit 1
