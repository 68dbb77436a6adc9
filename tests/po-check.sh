#!/bin/sh
# Copyright (c) 2026 The pam_policy authors
# SPDX-License-Identifier: BSD-3-Clause
# Checks the translations against the sources as they are now.
# usage: po-check.sh FRESH_POT COMMITTED_POT LANG...
#   FRESH_POT      the template xgettext just made from the sources
#   COMMITTED_POT  po/pam_policy.pot, which translators merge from
# For each LANG, po/LANG.po must pass msgfmt --check (formats, plural
# forms, header), have no untranslated and no fuzzy message, and translate
# every msgid of FRESH_POT (msgcmp). The committed template must hold the
# same messages as the fresh one ("make pot"). Prints one line per
# language and a total; exits 1 on any failure.
set -u
fresh=$1 committed=$2; shift 2
top=$(cd "$(dirname "$0")/.." && pwd)
failed=0

strip_date() {
	sed '/^"POT-Creation-Date:/d' "$1"
}

if [ ! -f "$fresh" ]; then
	echo "po-check: $fresh is missing (make $fresh)" >&2
	exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/pam_policy-po.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM
strip_date "$fresh" >"$work/fresh"
if [ ! -f "$committed" ] || ! strip_date "$committed" | cmp -s - "$work/fresh"; then
	echo "po-check: FAIL $committed is not the template of the current sources: run \"make pot\" and commit it"
	failed=$((failed + 1))
fi

for l in "$@"; do
	po="$top/po/$l.po"
	if [ ! -f "$po" ]; then
		echo "po-check: FAIL $l: po/$l.po is missing (po/LINGUAS lists it)"
		failed=$((failed + 1))
		continue
	fi
	if ! stats=$(LC_ALL=C msgfmt --check --statistics -o /dev/null "$po" 2>&1); then
		echo "po-check: FAIL $l: msgfmt --check:"
		printf '%s\n' "$stats" | sed 's/^/    /'
		failed=$((failed + 1))
		continue
	fi
	case $stats in
	*fuzzy*|*untranslated*)
		echo "po-check: FAIL $l: $stats"
		failed=$((failed + 1))
		continue ;;
	esac
	if ! missing=$(LC_ALL=C msgcmp "$po" "$fresh" 2>&1); then
		echo "po-check: FAIL $l: messages of the sources not in po/$l.po (msgmerge it from $committed):"
		printf '%s\n' "$missing" | grep -c 'used but not defined' | sed 's/^/    missing: /'
		printf '%s\n' "$missing" | head -6 | sed 's/^/    /'
		failed=$((failed + 1))
		continue
	fi
	echo "po-check: ok $l: $stats"
done
echo "=== translations: $# languages, $failed failed ==="
[ "$failed" -eq 0 ]
