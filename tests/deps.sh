#!/bin/sh
# Copyright (c) 2026 The pam_policy authors
# SPDX-License-Identifier: BSD-3-Clause
# Ensures the build and test dependencies are present. As root on
# Debian/Ubuntu, missing packages are installed with apt-get; otherwise the
# exact list is printed and the build stops.
set -u
pkgs="build-essential pkg-config libpam0g-dev libpam-modules libpam-runtime
libpwquality-dev libpwquality-tools cracklib-runtime libsodium-dev
libsqlite3-dev sqlite3 check libpam-wrapper libnss-wrapper pamtester
faketime openssh-server openssh-client sshpass expect clang
libclang-rt-dev passwd man-db libcrypt-dev"

missing=""
if command -v dpkg-query >/dev/null 2>&1; then
	for p in $pkgs; do
		s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)
		[ "$s" = installed ] || missing="$missing $p"
	done
else
	echo "deps: not a Debian/Ubuntu system; install the equivalents of:" >&2
	echo "  $pkgs" | tr '\n' ' ' >&2; echo >&2
	for c in pkg-config cc; do
		command -v $c >/dev/null 2>&1 || exit 1
	done
	exit 0
fi
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null || { echo "deps: apt-get update failed" >&2; exit 1; }
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
		echo "deps: apt-get install failed for:$missing" >&2; exit 1; }
	exit 0
fi
echo "deps: missing packages:$missing" >&2
echo "deps: run as root: apt-get install$missing" >&2
exit 1
