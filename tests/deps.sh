#!/bin/sh
# Copyright (c) 2026 The pam_policy authors
# SPDX-License-Identifier: BSD-3-Clause
# Ensures the packages one part of the project needs are present. As root
# on Debian/Ubuntu, missing packages are installed with apt-get; otherwise
# the exact list is printed and the build stops.
#
# Usage: sh tests/deps.sh [SET...]   (default: all)
#   build  compile pam_policy.so, pam_policyd, pam_policyctl and the
#          catalogues (msgfmt, xgettext: gettext) ("make", "make pot")
#   demo   build + what "make demo" runs with (nss_wrapper, the cracklib
#          dictionary, libpam's own modules); no test framework, no sshd
#   check  build + everything "make check" needs (Check, nss_wrapper,
#          libfaketime, the locale sources test_i18n builds de_DE, es_ES
#          and fr_FR from with localedef: locales, the PostgreSQL server the
#          fleet tests start, ...)
#   e2e    "make check-e2e": useradd/passwd/su, sshd and ssh, expect,
#          locales (localedef) and gettext(1) for the passwd dialogues in
#          German, Spanish and French
#   bench  "make bench": libpam's pam_pwhistory/pam_unix, libcrypt; the
#          quality part's generators (pwgen, xkcdpass, pwmake), word list
#          (wamerican) and the modules compared (pam_pwquality, passwdqc);
#          the PostgreSQL server of the fleet part
#   fuzz   "make fuzz": clang with libFuzzer
#   deb    "make deb": debhelper, lintian, fakeroot
#   all    build, demo, check, e2e, bench and fuzz ("make deps"; not deb)
set -u

set_build="build-essential pkg-config libpam0g-dev libpwquality-dev
libsodium-dev libsqlite3-dev libcrypt-dev libunistring-dev libsystemd-dev
libzxcvbn-dev gettext libpq-dev"
set_demo="$set_build libpam-modules libpam-runtime cracklib-runtime
libnss-wrapper"
set_check="$set_build libpam-modules libpam-runtime cracklib-runtime
libpwquality-tools sqlite3 check libpam-wrapper libnss-wrapper faketime
man-db wamerican locales postgresql"
set_e2e="$set_build libpam-modules libpam-runtime cracklib-runtime passwd
faketime openssh-server openssh-client sshpass expect pamtester locales
gettext-base"
set_bench="$set_build libpam-modules libpam-runtime cracklib-runtime
libnss-wrapper wamerican pwgen xkcdpass passwdqc libpam-passwdqc
libpam-pwquality libpwquality-tools postgresql strace"
set_fuzz="$set_build clang libclang-rt-dev"
set_deb="$set_build debhelper fakeroot lintian"

[ $# -gt 0 ] || set -- all
pkgs=""
for s in "$@"; do
	case $s in
	build) pkgs="$pkgs $set_build" ;;
	demo) pkgs="$pkgs $set_demo" ;;
	check) pkgs="$pkgs $set_check" ;;
	e2e) pkgs="$pkgs $set_e2e" ;;
	bench) pkgs="$pkgs $set_bench" ;;
	fuzz) pkgs="$pkgs $set_fuzz" ;;
	deb) pkgs="$pkgs $set_deb" ;;
	all) pkgs="$pkgs $set_demo $set_check $set_e2e $set_bench $set_fuzz" ;;
	*) echo "deps: unknown set '$s' (build, demo, check, e2e, bench, fuzz, deb, all)" >&2
	   exit 2 ;;
	esac
done
# One line, each package once, in first-seen order.
pkgs=$(printf '%s\n' $pkgs | awk 'NF && !seen[$0]++' | tr '\n' ' ')

missing=""
if command -v dpkg-query >/dev/null 2>&1; then
	for p in $pkgs; do
		s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)
		[ "$s" = installed ] || missing="$missing $p"
	done
else
	echo "deps: not a Debian/Ubuntu system; install the equivalents of:" >&2
	echo "  $pkgs" >&2
	for c in pkg-config cc; do
		command -v $c >/dev/null 2>&1 || exit 1
	done
	exit 0
fi
[ -z "$missing" ] && exit 0

# The tests and the benchmark start their own PostgreSQL servers in
# temporary directories. Installing the package would create a "main"
# cluster and start it on port 5432 for good: tell postgresql-common not to,
# before it is installed. Only the one setting is written (added, or set
# where the file already has it), so running this again changes nothing.
no_main_cluster() {
	conf=/etc/postgresql-common/createcluster.conf
	mkdir -p "${conf%/*}" || return 1
	if [ -f "$conf" ] && grep -q '^[[:space:]]*#\{0,1\}[[:space:]]*create_main_cluster[[:space:]]*=' "$conf"; then
		sed -i 's/^[[:space:]]*#\{0,1\}[[:space:]]*create_main_cluster[[:space:]]*=.*/create_main_cluster = false/' "$conf"
	else
		echo "create_main_cluster = false" >>"$conf"
	fi
}

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	case " $missing " in
	*" postgresql "*)
		no_main_cluster || { echo "deps: could not write createcluster.conf" >&2; exit 1; }
		echo "deps: postgresql is installed without a default cluster (create_main_cluster = false)"
		# postgresql-common installs its createcluster.conf through ucf:
		# keep the file written above instead of asking.
		export UCF_FORCE_CONFFOLD=1 ;;
	esac
	apt-get update -qq >/dev/null || { echo "deps: apt-get update failed" >&2; exit 1; }
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
		echo "deps: apt-get install failed for:$missing" >&2; exit 1; }
	# The benchmark compares pam_pwquality and pam_passwdqc; installing
	# them enables their profiles in this machine's own /etc/pam.d. Turn
	# off again what this run turned on, so the machine keeps its stack.
	profiles=""
	case " $missing " in *" libpam-pwquality "*) profiles="$profiles pwquality" ;; esac
	case " $missing " in *" libpam-passwdqc "*) profiles="$profiles passwdqc" ;; esac
	if [ -n "$profiles" ] && command -v pam-auth-update >/dev/null 2>&1; then
		# shellcheck disable=SC2086
		pam-auth-update --package --disable $profiles ||
			echo "deps: could not disable the PAM profile(s)$profiles" >&2
		echo "deps: installed for the benchmark only, not enabled:$profiles"
	fi
	exit 0
fi
echo "deps: missing packages:$missing" >&2
echo "deps: run as root: apt-get install$missing" >&2
exit 1
