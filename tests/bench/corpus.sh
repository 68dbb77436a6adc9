#!/bin/sh
# tests/bench/corpus.sh - the quality benchmark's two corpora (make bench,
# part Q). Writes DIR/weak.txt and DIR/strong.txt, one password a line,
# every one meeting the default composition policy (at least 10
# characters, an uppercase and a lowercase letter, a digit and a special
# character), and DIR/strong-SOURCE.txt per generator.
#
#   weak    words from Debian's wamerican list (/usr/share/dict/american-
#           english), mangled the way users meet composition rules:
#           capitalised, look-alike substitutions (a->@/4, e->3, i->1/!,
#           o->0, s->$/5, t->7, some or all), a year, common digits or a
#           symbol appended or prepended ("Monkey@2024", "P@tr10t$2024!",
#           "Driver@1234").
#   strong  real generators: pwgen -sy 12, pwmake 72 (libpwquality-tools),
#           xkcdpass four words (capitalised, a random delimiter) plus a
#           number.
#
# usage: corpus.sh DIR [WEAK_COUNT [STRONG_PER_GENERATOR [SEED]]]
#
# Copyright (c) 2026 The pam_policy authors
# SPDX-License-Identifier: BSD-3-Clause
set -u
dir=$1
nweak=${2:-3000}
nstrong=${3:-1000}
seed=${4:-20260101}
dict=${BENCH_WORDS:-/usr/share/dict/american-english}

for c in pwgen pwmake xkcdpass; do
	command -v $c >/dev/null 2>&1 || { echo "corpus: $c is missing (make deps)" >&2; exit 2; }
done
[ -r "$dict" ] || { echo "corpus: $dict is missing (apt-get install wamerican)" >&2; exit 2; }

# The default policy's composition, in ASCII terms (every corpus is ASCII).
meets() {
	LC_ALL=C awk 'length($0) >= 10 && /[A-Z]/ && /[a-z]/ && /[0-9]/ && /[^A-Za-z0-9]/'
}
# The first N lines, reading all input (head would stop the generators
# with SIGPIPE).
first() {
	awk -v n="$1" 'NR <= n'
}

# weak: 4..12-letter lowercase words (no proper nouns, no apostrophes).
LC_ALL=C grep -E '^[a-z]{4,12}$' "$dict" |
LC_ALL=C awk -v n="$nweak" -v seed="$seed" '
function pick(s) { return substr(s, int(rand() * length(s)) + 1, 1) }
function year() { return 1950 + int(rand() * 77) }
function digits(  r) {
	r = rand()
	if (r < 0.30) return year()
	if (r < 0.45) return "123"
	if (r < 0.55) return "1234"
	if (r < 0.65) return "1"
	if (r < 0.75) return sprintf("%02d", int(rand() * 100))
	if (r < 0.85) return sprintf("%d", int(rand() * 1000))
	if (r < 0.92) return "12"
	return sprintf("%02d%02d", 1 + int(rand() * 12), 1 + int(rand() * 28))
}
function leet(w, all,   out, i, c, m) {
	out = ""
	for (i = 1; i <= length(w); i++) {
		c = substr(w, i, 1); m = c
		if (all || rand() < 0.5) {
			if (c == "a") m = (rand() < 0.7) ? "@" : "4"
			else if (c == "e") m = "3"
			else if (c == "i") m = (rand() < 0.7) ? "1" : "!"
			else if (c == "o") m = "0"
			else if (c == "s") m = (rand() < 0.6) ? "$" : "5"
			else if (c == "t") m = "7"
			else if (c == "l") m = "1"
		}
		out = out m
	}
	return out
}
function cap(w) { return toupper(substr(w, 1, 1)) substr(w, 2) }
{ words[NR] = $0 }
END {
	srand(seed)
	syms = "!!!!@@@##$%&*?._-+"
	made = 0; tries = 0
	while (made < n && tries < n * 50) {
		tries++
		w = words[int(rand() * NR) + 1]
		r = rand()
		if (r < 0.25) p = cap(w) pick(syms) digits()
		else if (r < 0.45) p = cap(w) digits() pick(syms)
		else if (r < 0.55) p = pick(syms) cap(w) digits()
		else if (r < 0.70) p = cap(leet(w, 0)) digits() pick(syms)
		else if (r < 0.80) p = cap(leet(w, 1)) pick(syms) digits()
		else if (r < 0.87) p = cap(w) pick(syms) digits() pick(syms)
		else if (r < 0.93) p = cap(leet(w, 0)) pick(syms) digits() pick(syms)
		else p = digits() cap(w) pick(syms)
		if (length(p) < 10 || p !~ /[A-Z]/ || p !~ /[a-z]/ || p !~ /[0-9]/ ||
		    p !~ /[^A-Za-z0-9]/ || (p in seen))
			continue
		seen[p] = 1
		print p
		made++
	}
}' >"$dir/weak.txt"

# strong: each generator, filtered the same way.
pwgen -sy 12 $((nstrong * 2)) | tr ' ' '\n' | grep -v '^$' | meets |
	first "$nstrong" >"$dir/strong-pwgen.txt"
i=0
while [ "$i" -lt $((nstrong * 2)) ]; do
	pwmake 72
	i=$((i + 1))
done | meets | first "$nstrong" >"$dir/strong-pwmake.txt"
xkcdpass -n 4 -C capitalize --random-delimiters --valid-delimiters='-_.,!#+' \
	-c $((nstrong * 2)) |
	LC_ALL=C awk -v seed="$seed" 'BEGIN { srand(seed + 1) }
	{ print $0 int(rand() * 100) }' | meets |
	first "$nstrong" >"$dir/strong-xkcdpass.txt"
cat "$dir/strong-pwgen.txt" "$dir/strong-pwmake.txt" \
	"$dir/strong-xkcdpass.txt" >"$dir/strong.txt"

for f in weak strong-pwgen strong-pwmake strong-xkcdpass; do
	[ -s "$dir/$f.txt" ] || { echo "corpus: $f is empty" >&2; exit 2; }
done
exit 0
