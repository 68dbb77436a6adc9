# Copyright (c) 2026 The pam_policy authors
# SPDX-License-Identifier: BSD-3-Clause
# Shared by the tests/e2e/*.exp scripts (sourced; Tcl/expect).
#
# Every check appends "PASS name" or "FAIL name: why" to $env(E2E_RESULTS);
# tests/e2e.sh prints them as the summary. Passwords arrive in the
# environment (E2E_PW_*), never on a command line.

set timeout 60
log_user 1

proc result {status name} {
	global env
	set f [open $env(E2E_RESULTS) a]
	puts $f "$status $name"
	close $f
}

proc pass {name} { result PASS $name }

# A failed expectation ends the script: the rest of the dialogue would only
# produce follow-on failures.
proc fail {name why} {
	result FAIL "$name: $why"
	catch {close}
	catch {wait}
	exit 1
}

proc pw {name} {
	global env
	return $env(E2E_PW_$name)
}

# ssh_spawn PORT ?COMMAND?: without a command sshd shows the PAM messages
# (with one it counts as a "quiet" login and drops them).
proc ssh_spawn {port args} {
	global spawn_id
	spawn ssh -tt -F /dev/null -p $port \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o PreferredAuthentications=password -o PubkeyAuthentication=no \
		-o NumberOfPasswordPrompts=1 -o IdentityAgent=none \
		e2euser@127.0.0.1 {*}$args
}

# Wait for the end of the spawned program; return its exit status.
proc finish {} {
	expect {
		eof {}
		timeout { catch {close} }
	}
	set st [wait]
	return [lindex $st 3]
}
