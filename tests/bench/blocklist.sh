#!/bin/sh
# Copyright (c) 2026 The pam_policy authors
# SPDX-License-Identifier: BSD-3-Clause
# Part F of make bench: the breach filter beside passwdqc's pwqfilter on the
# same synthetic set of SHA-1 entries (BENCH_FILTER_ENTRIES, 2x10^7; 10^8
# with BENCH_BIG=1): file size and bits per entry, build time and peak
# memory, the false positives among 10^7 non-members, warm lookups, and
# cold lookups with the file's pages dropped (posix_fadvise DONTNEED).
# usage: blocklist.sh BUILD_DIR WORK_DIR RESULTS_FILE
#
# Then the whole PAM check (pam_rows): pam_passwdqc filter= beside
# pam_policy blocklist =, through the real libpam (tests/bench/bench.c,
# "bench filter"), and what blocklist_open costs the module on every call.
# One entry of the set is a known password ($d/member.txt): its SHA-1 is
# the last line of the input, so our filter holds it; pwqfilter's copy is
# declared MD4 (pam_passwdqc 2.0 hashes plaintexts with MD4 or NTLM only,
# never SHA-1) and gets the password's MD4 inserted for the PAM rows.
set -u
build=$1 work=$2 results=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
helper="$build/tests/bench_blocklist"
ctl="$build/pam_policyctl"
n=${BENCH_FILTER_ENTRIES:-20000000}
[ "${BENCH_BIG:-0}" = 1 ] && n=100000000
nonmembers=${BENCH_FILTER_NONMEMBERS:-10000000}
pwqfilter=$(command -v pwqfilter || true)
d="$work/filter"
mkdir -p "$d" || exit 2

result() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$results"; }
# val FILE KEY: the value after "KEY " in FILE
val() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }
# field FILE LABEL N: field N of the line "LABEL ..." (run's output)
field() { awk -v l="$2" -v n="$3" '$1 == l { print $n; exit }' "$1"; }

echo "  generating $n synthetic SHA-1 entries and $nonmembers non-members..."
"$helper" gen "$d/pwned.txt" "$((n - 1))" 1 || exit 2
# The known member: a password both PAM stacks would accept but for the filter.
( umask 077; printf '%s\n' 'Kp9#vTq2!Wz7xLm4' >"$d/member.txt" )
tr -d '\n' <"$d/member.txt" | sha1sum | awk '{ print toupper($1) ":1" }' >>"$d/pwned.txt"
"$helper" gen "$d/non.txt" "$nonmembers" 2 || exit 2
head -n 1000000 "$d/pwned.txt" >"$d/members.txt"
runs="$d/runs"
: >"$runs"

echo "  building with pam_policyctl blocklist build..."
"$helper" run ours_build -- "$ctl" blocklist build -o "$d/ours.ppbl" "$d/pwned.txt" >>"$runs" || exit 2
[ "$(field "$runs" ours_build 5)" = 0 ] || { echo "bench: blocklist build failed" >&2; exit 2; }
echo "  lookups in-process (warm, then cold)..."
"$helper" ours "$d/ours.ppbl" "$d/members.txt" "$d/non.txt" >"$d/ours.out" || exit 2

have_pwq=false
if [ -n "$pwqfilter" ]; then
	have_pwq=true
	cap=$((n + n / 25 + 1000))
	echo "  building with pwqfilter --create=$cap..."
	"$helper" run pwq_build -i "$d/pwned.txt" -- "$pwqfilter" --create="$cap" --pre-hashed --hash-md4 \
		-o "$d/pwq.pwq" >>"$runs" 2>>"$d/pwq.log" || exit 2
	# warm the cache, then time 10^7 lookups in one process
	"$pwqfilter" -f "$d/pwq.pwq" --pre-hashed -c <"$d/members.txt" >/dev/null 2>>"$d/pwq.log"
	"$helper" run pwq_lookup -i "$d/non.txt" -o "$d/pwq.fp" -- "$pwqfilter" -f "$d/pwq.pwq" \
		--pre-hashed -c >>"$runs" 2>>"$d/pwq.log" || exit 2
	"$helper" run pwq_members -i "$d/members.txt" -o "$d/pwq.members" -- "$pwqfilter" \
		-f "$d/pwq.pwq" --pre-hashed -c >>"$runs" 2>>"$d/pwq.log" || exit 2
	"$helper" pwqcold "$d/pwq.pwq" "$d/non.txt" "$pwqfilter" >"$d/pwq.out" 2>>"$d/pwq.log" || exit 2
	if command -v strace >/dev/null 2>&1; then
		head -n 1 "$d/non.txt" >"$d/one.txt"
		strace -f -c -e trace=read,pread64,mmap -o "$d/pwq.strace" \
			"$pwqfilter" -f "$d/pwq.pwq" --pre-hashed -c <"$d/one.txt" >/dev/null 2>&1
		strace -f -c -e trace=read,pread64,mmap -o "$d/ours.strace" \
			"$ctl" blocklist check -q "$d/ours.ppbl" <"$d/one.txt" >/dev/null 2>&1
	fi
else
	echo "  pwqfilter not installed (Debian package passwdqc): its column is empty"
fi

size_ours=$(stat -c %s "$d/ours.ppbl")
bpe_ours=$(awk -v s="$size_ours" -v n="$n" 'BEGIN { printf "%.3f", s * 8 / n }')
t_ours=$(field "$runs" ours_build 2)
rss_ours=$(field "$runs" ours_build 3)
rate_ours=$(awk -v t="$t_ours" -v n="$n" 'BEGIN { printf "%.2f", n / t / 1e6 }')
fp_ours=$(val "$d/ours.out" false_positives)
if $have_pwq; then
	size_pwq=$(stat -c %s "$d/pwq.pwq")
	bpe_pwq=$(awk -v s="$size_pwq" -v n="$n" 'BEGIN { printf "%.3f", s * 8 / n }')
	t_pwq=$(field "$runs" pwq_build 2)
	rss_pwq=$(field "$runs" pwq_build 3)
	rate_pwq=$(awk -v t="$t_pwq" -v n="$n" 'BEGIN { printf "%.2f", n / t / 1e6 }')
	fp_pwq=$(cat "$d/pwq.fp")
	look_pwq=$(awk -v t="$(field "$runs" pwq_lookup 2)" -v n="$nonmembers" \
		'BEGIN { printf "%.3f", t / n * 1e6 }')
	cold_pwq=$(val "$d/pwq.out" pwq_cold_process_us)
	kib_pwq=$(val "$d/pwq.out" pwq_cold_disk_kib_per_lookup)
	members_pwq=$(cat "$d/pwq.members")
else
	size_pwq=- bpe_pwq=- t_pwq=- rss_pwq=- rate_pwq=- fp_pwq=- look_pwq=- cold_pwq=- kib_pwq=- members_pwq=-
fi

row() { printf '  %-40s %16s %16s\n' "$1" "$2" "$3"; }
echo
echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
row "$n synthetic SHA-1 entries" "pam_policy" "pwqfilter"
row "file size (bytes)" "$size_ours" "$size_pwq"
row "bits per entry (whole file)" "$bpe_ours" "$bpe_pwq"
row "build time (s)" "$t_ours" "$t_pwq"
row "build rate (10^6 entries/s)" "$rate_ours" "$rate_pwq"
row "build peak RSS (KiB)" "$rss_ours" "$rss_pwq"
row "members found (of 10^6)" "1000000" "$members_pwq"
row "false positives (of $nonmembers)" "$fp_ours" "$fp_pwq"
row "warm lookup, in-process (us, wall)" "$(val "$d/ours.out" warm_nonmember_us)" "-"
row "warm lookup, in-process (us, CPU)" "$(val "$d/ours.out" warm_nonmember_cpu_us)" "-"
row "warm lookup incl. SHA-1 of a password (us)" "$(val "$d/ours.out" warm_password_us)" "-"
row "warm lookup, CLI, 10^7 in one run (us)" "-" "$look_pwq"
row "cold lookup (us)" "$(val "$d/ours.out" cold_us)" "-"
row "cold lookup, one process each (us)" "-" "$cold_pwq"
row "cold: page reads (pread) per lookup" "$(val "$d/ours.out" cold_preads_per_lookup)" "whole file"
row "cold: KiB read from disk per lookup" "$(val "$d/ours.out" cold_disk_kib_per_lookup)" "$kib_pwq"
for t in ours pwq; do
	[ -f "$d/$t.strace" ] || continue
	case $t in
	ours) echo "  strace -c of one lookup through pam_policyctl blocklist check (2 preads by ld.so, then header, directory, one page):" ;;
	pwq) echo "  strace -c of one lookup through pwqfilter:" ;;
	esac
	sed -n '/calls/,$p' "$d/$t.strace" | sed 's/^/    /'
done

# The whole PAM check: the same stacks as part Q (the test writer's
# prompt, then the module with use_authtok) under nss_wrapper's test users.
pam_rows() {
	echo
	. "$top/tests/paths.sh"
	if [ -z "$pp_nsswrap" ]; then
		echo "  PAM rows skipped: libnss_wrapper.so not found"
		result SKIP "F PAM stacks refuse a listed password, accept others" "no nss_wrapper"
		return 0
	fi
	rm -f "$d/pwq_pam.pwq"
	if $have_pwq; then
		# pwqfilter hashes the plaintext line with the filter's MD4
		"$pwqfilter" --insert -f "$d/pwq.pwq" -o "$d/pwq_pam.pwq" <"$d/member.txt" \
			2>>"$d/pwq.log" || return 2
		[ "$("$pwqfilter" -f "$d/pwq_pam.pwq" -c <"$d/member.txt" 2>>"$d/pwq.log")" = 1 ] ||
			{ echo "bench: the member is not in $d/pwq_pam.pwq" >&2; return 2; }
	fi
	env LD_PRELOAD="$pp_nsswrap" NSS_WRAPPER_PASSWD="$work/passwd" \
		NSS_WRAPPER_GROUP="$work/group" \
		"$build/tests/bench" filter "$build" "$work" "$results" "$d" "$pp_securedir" || return 2

	# The module opens its filter on every call (a replaced file is seen at
	# once): blocklist_open + blocklist_close alone, in process.
	"$helper" open "$d/ours.ppbl" 2000 >"$d/open.out" || return 2
	open_big=""
	if [ "$n" != 20000000 ] && [ "${BENCH_BIG:-0}" = 1 ]; then
		# the 2x10^7 filter beside the 10^8 one
		head -n 20000000 "$d/pwned.txt" >"$d/pwned20m.txt"
		"$ctl" blocklist build -o "$d/ours20m.ppbl" "$d/pwned20m.txt" >/dev/null || return 2
		rm -f "$d/pwned20m.txt"
		"$helper" open "$d/ours20m.ppbl" 2000 >"$d/open20m.out" || return 2
		open_big="$d/open20m.out"
	fi
	echo "  per-call filter open (blocklist_open + blocklist_close, file cached, 2000 runs);"
	echo "  the open reads the whole page directory, 2 bytes per 4 KiB page:"
	for o in $open_big "$d/open.out"; do
		printf '    %11s entries: %7s pages, %7s KiB directory, p50 %7s us, p99 %7s us\n' \
			"$(val "$o" open_entries)" "$(val "$o" open_pages)" \
			"$(val "$o" open_directory_kib)" "$(val "$o" open_p50_us)" "$(val "$o" open_p99_us)"
	done
	result INFO "F blocklist_open + close per call (p50)" \
		"$(val "$d/open.out" open_p50_us) us for $(val "$d/open.out" open_entries) entries ($(val "$d/open.out" open_directory_kib) KiB directory read)"
}
pam_rows || exit 2

verdict() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo FAIL; fi; }
result "$(verdict "$bpe_ours <= 31.5")" "filter: <= 31.5 bits per entry at FP <= 1e-9" \
	"$bpe_ours bits (pwqfilter $bpe_pwq)"
result "$(verdict "$(val "$d/ours.out" cold_preads_per_lookup) == 1")" \
	"filter: one page read per cold lookup" \
	"$(val "$d/ours.out" cold_preads_per_lookup) preads, $(val "$d/ours.out" cold_disk_kib_per_lookup) KiB from disk"
# On a shared machine the wall clock measures the scheduler as much as the
# lookup; the verdict is on the CPU time the lookup took (user + system).
result "$(verdict "$(val "$d/ours.out" warm_nonmember_cpu_us) <= 2")" \
	"filter: warm lookup <= 2 us in-process (CPU)" \
	"CPU $(val "$d/ours.out" warm_nonmember_cpu_us) us, wall $(val "$d/ours.out" warm_nonmember_us) us, load $(cut -d' ' -f1 /proc/loadavg)"
result "$(verdict "$rate_ours >= 2 && $rss_ours <= 1048576")" \
	"filter: build >= 2x10^6 entries/s, <= 1 GiB resident" \
	"$rate_ours x10^6/s, $rss_ours KiB (pwqfilter $rate_pwq x10^6/s, $rss_pwq KiB)"
result "$(verdict "$fp_ours <= $nonmembers * 1e-9 * 10 + 3")" \
	"filter: measured FP consistent with 1e-9" "$fp_ours of $nonmembers (pwqfilter $fp_pwq)"
