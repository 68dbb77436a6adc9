# Copyright (c) 2026 The pam_policy authors
# SPDX-License-Identifier: BSD-3-Clause
# Shared by the tests/e2e/*.exp scripts (sourced; Tcl/expect).
#
# Every check appends "PASS name" or "FAIL name: why" to $env(E2E_RESULTS);
# tests/e2e/run.sh prints them as the summary. Passwords arrive in the
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
	ssh_spawn_user e2euser $port {*}$args
}

# ssh_spawn_user USER PORT ?COMMAND?: a password login of USER (no key is
# offered).
proc ssh_spawn_user {user port args} {
	global spawn_id
	spawn ssh -tt -F /dev/null -p $port \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o PreferredAuthentications=password -o PubkeyAuthentication=no \
		-o NumberOfPasswordPrompts=1 -o IdentityAgent=none \
		$user@127.0.0.1 {*}$args
}

# ssh_key_spawn USER PORT KEY ?COMMAND?: a public-key login of USER with
# the private key KEY and nothing else: no password can be asked for.
proc ssh_key_spawn {user port key args} {
	global spawn_id
	spawn ssh -tt -F /dev/null -p $port -i $key -o IdentitiesOnly=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o PreferredAuthentications=publickey -o PubkeyAuthentication=yes \
		-o PasswordAuthentication=no -o KbdInteractiveAuthentication=no \
		-o BatchMode=yes -o IdentityAgent=none \
		$user@127.0.0.1 {*}$args
}

# in_shell NAME: at the shell prompt of the spawned login, run a command
# whose output cannot be mistaken for its echo, then leave the shell; fail
# NAME unless the output arrives and the login ends with status 0.
proc in_shell {name} {
	expect {
		-re {\$ $} {}
		timeout { fail $name "no shell prompt" }
		eof { fail $name "the login ended before a shell prompt" }
	}
	send -- {echo E2E-SHELL-$((6*7)); exit}
	send -- "\r"
	expect {
		"E2E-SHELL-42" {}
		timeout { fail $name "the shell did not run the command" }
		eof { fail $name "the login ended without the command's output" }
	}
	set rc [finish]
	if {$rc != 0} { fail $name "exit status $rc" }
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
