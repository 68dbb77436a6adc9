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
# The rows of one tool come from functions named row_*; a comparison of
# the whole PAM check (pam_passwdqc filter= against pam_policy blocklist=)
# adds its rows in pam_rows below, with the filters built here
# ($d/ours.ppbl, $d/pwq.pwq) and the same non-member file ($d/non.txt).
set -u
build=$1 work=$2 results=$3
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
"$helper" gen "$d/pwned.txt" "$n" 1 || exit 2
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
	"$helper" run pwq_build -i "$d/pwned.txt" -- "$pwqfilter" --create="$cap" --pre-hashed \
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

pam_rows() { :; }   # the whole-PAM-check comparison goes here
pam_rows

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
