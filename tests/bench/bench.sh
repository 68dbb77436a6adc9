#!/bin/sh
# Copyright (c) 2026 The pam_policy authors
# SPDX-License-Identifier: BSD-3-Clause
# Runs the performance benchmarks of DESIGN.md §7 (make bench) and prints one
# table per part and a final "targets" section.
# usage: bench.sh BUILD_DIR
#
# Everything happens under a scratch directory: test users come from
# nss_wrapper, each part starts its own pam_policyd there. /etc is never
# written; pam_pwhistory (which has no file= option in Linux-PAM 1.5.2)
# reads and rewrites /etc/security/opasswd, so part A bind-mounts a copy of
# /etc/security over it inside a private mount namespace (root only;
# without root the pam_pwhistory rows are skipped).
#
# Knobs: BENCH_RUNS (15), BENCH_STATUS_QUERIES (200000),
# BENCH_STATUS_CONN_QUERIES (50000), BENCH_PAM_CALLS (2000),
# BENCH_REPORT_USERS (100000), BENCH_REPORT_RUNS (5), BENCH_PARTS ("A S B C Q F P"),
# BENCH_SKELETON_RUNS (31) for part S,
# BENCH_WEAK (3000) and BENCH_STRONG (1000 per generator) for part Q,
# BENCH_FILTER_ENTRIES (2x10^7; BENCH_BIG=1: 10^8) and BENCH_FILTER_PAM_CALLS
# (2000 PAM transactions per stack) for part F;
# for part P BENCH_FLEET_HOSTS (20), BENCH_FLEET_USERS (200),
# BENCH_FLEET_STATUS_QUERIES (20000 a round), BENCH_FLEET_STATUS_RATE (2000/s a store),
# BENCH_FLEET_CHANGES (100), BENCH_FLEET_LOGIN_RATE (1000/s), BENCH_FLEET_SECONDS (20).
#
# Part F, breach filter: tests/bench/blocklist.sh builds the same synthetic
# SHA-1 set with pam_policyctl blocklist build and passwdqc's pwqfilter and
# compares size, build, false positives, warm and cold lookups, then the
# whole PAM check (pam_passwdqc filter= beside pam_policy blocklist =, each
# also without its filter) and what opening the filter costs per call.
#
# Part Q, quality: tests/bench/corpus.sh builds a weak corpus (wamerican
# words mangled to meet composition rules) and a strong one (pwgen -sy 12,
# pwmake 72, xkcdpass), then every password goes through three PAM stacks
# (pam_policy without its daemon, pam_pwquality, pam_passwdqc) at the same
# 10 characters and 4 classes.
#
# Part P, fleet (tests/bench/fleet.c): one PostgreSQL server started in a
# temporary directory (tests/pg_harness.c), store = postgresql beside
# store = sqlite (record and status latency), then 20 daemons on that
# database under a login load: connections, transactions per second and
# how long a change on one host takes to be answered by all the others.
# Exit status: 0 when no target failed, 1 when one did, 2 on an error.
set -u
build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
case $build in /*) ;; *) build="$top/$build" ;; esac
bench="$build/tests/bench"
parts=${BENCH_PARTS:-A S B C Q F P}

for f in "$bench" "$build/pam_policyd" "$build/pam_policy.so" \
	"$build/tests/pam_test_writer.so"; do
	[ -e "$f" ] || { echo "bench: $f is missing (run make bench)" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/ppbench.XXXXXX") || exit 2
cleanup() {
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 2' INT TERM
results="$work/results"
: >"$results"

. "$top/tests/paths.sh"
nsswrap=$pp_nsswrap
[ -n "$nsswrap" ] || { echo "bench: libnss_wrapper.so not found in:$pp_libdirs" >&2; exit 2; }

me_uid=$(id -u); me_gid=$(id -g); me_name=$(id -un)
# Parts A and B: root (pam_unix's account phase, libpwquality's getpwuid),
# the runner, the history users and 1,000 status users.
{
	echo "root:x:0:0:root:/root:/bin/sh"
	[ "$me_uid" != 0 ] && echo "$me_name:x:$me_uid:$me_gid:Bench Runner:/tmp:/bin/sh"
	for d in 1 24 100; do
		echo "hist$d:x:$((1100 + d)):$((1100 + d)):History $d:/tmp:/bin/sh"
	done
	echo "zqx1:x:1300:1300:Zqx Ytw:/tmp:/bin/sh"
	echo "skel24:x:1324:1324:Skeleton 24:/tmp:/bin/sh"
	echo "noskel24:x:1325:1325:No Skeleton 24:/tmp:/bin/sh"
	awk 'BEGIN { for (i = 0; i < 1000; i++)
		printf "st%04d:x:%d:%d:Status %d:/tmp:/bin/sh\n", i, 10000 + i, 10000 + i, i }'
	# bench history appends the pam_pwhistory users (pwhN) with their hashes.
} >"$work/passwd"
{
	echo "root:x:0:"
	[ "$me_gid" != 0 ] && echo "$(id -gn):x:$me_gid:"
	echo "nogroup:x:65534:"
} >"$work/group"
# Part C: pam_policyctl's report enumerates NSS users; give it all 100,000.
{
	echo "root:x:0:0:root:/root:/bin/sh"
	[ "$me_uid" != 0 ] && echo "$me_name:x:$me_uid:$me_gid:Bench Runner:/tmp:/bin/sh"
	awk -v n="${BENCH_REPORT_USERS:-100000}" 'BEGIN { for (i = 0; i < n; i++)
		printf "u%06d:x:%d:%d:Report %d:/home/u%06d:/bin/sh\n", i, 100000 + i, 100000 + i, i, i }'
} >"$work/passwd.report"

# pam_pwhistory's private /etc/security: a copy, so pwquality.conf etc. match.
mkdir -p "$work/security"
cp -a /etc/security/. "$work/security/" 2>/dev/null
rm -f "$work/security/opasswd" "$work/security/opasswd.old"

run() { # run PASSWD PART [ARGS...]
	pw=$1; shift
	env LD_PRELOAD="$nsswrap" NSS_WRAPPER_PASSWD="$pw" NSS_WRAPPER_GROUP="$work/group" \
		"$bench" "$@"
}
run_fleet() { # run_fleet PASSWD ARGS...: part P's own program
	pw=$1; shift
	env LD_PRELOAD="$nsswrap" NSS_WRAPPER_PASSWD="$pw" NSS_WRAPPER_GROUP="$work/group" \
		"$build/tests/bench_fleet" "$@"
}

status=0
echo "pam_policy benchmarks on $(uname -n): $(nproc) CPUs, $(uname -r)"
for p in $parts; do
	case $p in
	A)
		echo
		echo "== Part A: history check latency (about a minute)"
		run "$work/passwd" history "$build" "$work" "$results" || status=2
		;;
	S)
		echo
		echo "== Part S: the skeleton history's cost at depth 24 (a few minutes)"
		run "$work/passwd" skeleton "$build" "$work" "$results" || status=2
		;;
	B)
		echo
		echo "== Part B: account-phase status"
		run "$work/passwd" status "$build" "$work" "$results" || status=2
		;;
	C)
		echo
		echo "== Part C: report over ${BENCH_REPORT_USERS:-100000} users"
		ctl=""
		[ -x "$build/pam_policyctl" ] && ctl="$build/pam_policyctl"
		run "$work/passwd.report" report "$build" "$work" "$results" "$ctl" || status=2
		;;
	Q)
		echo
		echo "== Part Q: quality, weak and strong corpora (a few minutes)"
		mkdir -p "$work/corpus"
		if sh "$top/tests/bench/corpus.sh" "$work/corpus" "${BENCH_WEAK:-3000}" \
			"${BENCH_STRONG:-1000}"; then
			echo "  weak: $(wc -l <"$work/corpus/weak.txt") mangled wamerican words;" \
				"strong: $(wc -l <"$work/corpus/strong.txt") from pwgen, pwmake, xkcdpass"
			run "$work/passwd" quality "$build" "$work" "$results" "$work/corpus" \
				"$pp_securedir" || status=2
		else
			status=2
		fi
		;;
	F)
		echo
		echo "== Part F: breach filter beside pwqfilter (minutes; ~2 GB of scratch files)"
		sh "$top/tests/bench/blocklist.sh" "$build" "$work" "$results" || status=2
		;;
	P)
		echo
		echo "== Part P: a fleet on PostgreSQL (a minute or two)"
		if [ -x "$build/tests/bench_fleet" ]; then
			run_fleet "$work/passwd" "$build" "$work" "$results" || status=2
		else
			echo "bench: $build/tests/bench_fleet is missing (run make bench)" >&2
			status=2
		fi
		;;
	*)
		echo "bench: unknown part $p" >&2; status=2 ;;
	esac
done

echo
echo "== targets"
while IFS="$(printf '\t')" read -r verdict target detail; do
	printf '  %-4s  %-52s %s\n' "$verdict" "$target" "$detail"
	[ "$verdict" = FAIL ] && [ "$status" = 0 ] && status=1
done <"$results"
[ "$status" = 2 ] && echo "bench: a part did not complete (see above)" >&2
exit "$status"
