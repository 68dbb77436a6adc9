/*
 * guess.c - the guessable rule and the zxcvbn estimate (see guess.h).
 *
 * Word lists: the plain list at p->wordlist (Debian's wamerican by
 * default), the admin's banned_words, and guess_common[] below, a compact
 * list of common passwords and words written for this project from
 * public knowledge (no third-party list was copied). Each is read once per
 * process into a read-only hash set and kept until the code is unloaded;
 * the wordlist's set is instead mapped from its prebuilt index when that
 * index is current (wordindex.h), since the module is unloaded after
 * every PAM transaction.
 *
 * Copyright (c) 2026 The pam_policy authors
 * SPDX-License-Identifier: BSD-3-Clause
 */
#define _GNU_SOURCE
#include "guess.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>
#include <zxcvbn.h>

#include "i18n.h"
#include "secret.h"
#include "strength.h"
#include "wordindex.h"

#define GUESS_MIN_TERM 3     /* shortest term looked for, in code points */
#define GUESS_FUZZY_TERM 5   /* shortest term matched at edit distance 1 */
#define GUESS_MAX_TERM 32    /* longest term kept, in code points */
/* Folding can triple a password, transliteration quadruple a letter. */
#define GUESS_MAX_CP (3 * STRENGTH_MAX_CP)
#define GUESS_MAX_NAMES 48   /* user, GECOS words, host, service */
#define GUESS_MAX_EDGES 2048 /* fuzzy matches kept per password */
#define GUESS_CACHE 8        /* distinct word-list paths kept */
#define GUESS_INF 1000000

/* Common passwords and words (folded, look-alikes already read as
 * letters). Written for this project; seasons and months in en, de, es,
 * fr are here too so that they count even without banned_words. */
static const char *const guess_common[] = {
	"password", "passwort", "contrasena", "contraseña", "motdepasse",
	"parol", "haslo", "wachtwoord", "senha", "salasana", "sifre",
	"qwerty", "qwertz", "azerty", "qwertyuiop", "asdfgh", "zxcvbn",
	"qazwsx", "letmein", "welcome", "willkommen", "bienvenue",
	"bienvenido", "admin", "administrator", "root", "toor", "login",
	"changeme", "secret", "geheim", "secreto", "master", "monkey",
	"dragon", "shadow", "sunshine", "princess", "football", "fussball",
	"baseball", "soccer", "hockey", "basketball", "superman", "batman",
	"spiderman", "starwars", "pokemon", "iloveyou", "ichliebedich",
	"jetaime", "teamo", "trustno", "whatever", "freedom", "hello",
	"hallo", "bonjour", "hola", "love", "liebe", "amour", "amor",
	"computer", "internet", "default", "guest", "test", "testing",
	"access", "company", "office", "server", "network", "system",
	"support", "service", "security", "manager", "student", "school",
	"family", "mother", "father", "baby", "angel", "flower", "purple",
	"orange", "yellow", "silver", "golden", "diamond", "jordan",
	"michael", "jessica", "ashley", "jennifer", "daniel", "thomas",
	"robert", "charlie", "david", "andrew", "joshua", "matthew",
	"anthony", "william", "nicole", "michelle", "amanda", "sarah",
	"hannah", "maria", "anna", "peter", "hunter", "killer", "ranger",
	"cowboy", "eagle", "tiger", "mustang", "ferrari", "porsche",
	"mercedes", "corvette", "harley", "london", "paris", "berlin",
	"madrid", "newyork", "chicago", "america", "germany", "deutschland",
	"france", "espana", "lovely", "sweet", "happy", "lucky", "magic",
	"money", "sexy", "blessed", "jesus", "heaven", "faith", "liberty",
	"patriot", "arsenal", "chelsea", "liverpool", "barcelona",
	"trinity", "rainbow", "butterfly", "unicorn", "music", "guitar",
	"gamer", "player", "winner", "champion", "legend", "ninja",
	"pirate", "viking", "knight", "king", "queen", "prince", "boss",
	"captain", "doctor", "cookie", "chocolate", "banana", "cheese",
	"pepper", "ginger", "coffee", "pizza", "matrix", "abcdef",
	/* seasons */
	"spring", "summer", "autumn", "winter", "fall", "frühling",
	"fruehling", "fruhling", "sommer", "herbst", "primavera", "verano",
	"otoño", "otono", "invierno", "printemps", "été", "ete", "automne",
	"hiver",
	/* months */
	"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december",
	"januar", "februar", "märz", "maerz", "marz", "juni", "juli",
	"oktober", "dezember", "enero", "febrero", "marzo", "abril",
	"mayo", "junio", "julio", "agosto", "septiembre", "setiembre",
	"octubre", "noviembre", "diciembre", "janvier", "février",
	"fevrier", "mars", "avril", "mai", "juin", "juillet", "août",
	"aout", "septembre", "octobre", "novembre", "décembre", "decembre",
	/* days */
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
	"sunday", "montag", "dienstag", "mittwoch", "donnerstag", "freitag",
	"samstag", "sonntag", "lunes", "martes", "miercoles", "jueves",
	"viernes", "sabado", "domingo", "lundi", "mardi", "mercredi",
	"jeudi", "vendredi", "samedi", "dimanche",
};

/* ---- word sets ---- */

struct guess_term {
	uint32_t cp[GUESS_MAX_TERM];
	size_t n;
};

/*
 * A word set is a table of 64-bit hashes of the stored words (no
 * copy of the words themselves): a 100,000-word list takes 1 MiB. A
 * false match needs two different words with one 64-bit hash, odds of
 * about 1e-14 per check. The table is mapped with MAP_POPULATE: taking its
 * pages in one call, not one fault at a time, is what keeps loading a
 * large list at a few milliseconds.
 */
struct guess_set {
	uint64_t *slot;       /* hash, 0 = empty */
	size_t mask;
	size_t count;
	size_t bytes;         /* of the mapping */
	struct guess_term *terms; /* decoded, for fuzzy scans (small lists) */
	size_t nterms;
	struct wordindex index;   /* when slot points into an index file */
	bool indexed;
};

/* 64-bit hash of a word, eight bytes a step (words are short; the table
 * lives only in this process, so byte order does not matter). */
static uint64_t guess_hash(const char *s, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)len, v;

	while (len >= 8) {
		memcpy(&v, s, 8);
		h = (h ^ v) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
		s += 8;
		len -= 8;
	}
	v = 0;
	memcpy(&v, s, len);
	h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 32;
	return h != 0 ? h : 1;
}

/* Where hash h starts probing (its bits mixed once more). */
static size_t guess_home(uint64_t h, size_t mask)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (size_t)h & mask;
}

static bool guess_set_has(const struct guess_set *set, const char *s,
			  size_t len)
{
	uint64_t h;
	size_t i;

	if (set == NULL || set->slot == NULL)
		return false;
	h = guess_hash(s, len);
	i = guess_home(h, set->mask);
	while (set->slot[i] != 0) {
		if (set->slot[i] == h)
			return true;
		i = (i + 1) & set->mask;
	}
	return false;
}

static bool guess_set_init(struct guess_set *set, size_t expected)
{
	size_t size = 16;
	void *m;

	while (size * 4 < expected * 5 + 4)  /* at most 80% full */
		size *= 2;
	m = mmap(NULL, size * sizeof(uint64_t), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (m == MAP_FAILED)
		return false;
	set->slot = m;
	set->mask = size - 1;
	set->bytes = size * sizeof(uint64_t);
	set->count = 0;
	return true;
}

static void guess_set_insert(struct guess_set *set, uint64_t h)
{
	size_t i = guess_home(h, set->mask);

	while (set->slot[i] != 0) {
		if (set->slot[i] == h)
			return;
		i = (i + 1) & set->mask;
	}
	set->slot[i] = h;
	set->count++;
}

static bool guess_set_append_hash(struct guess_set *set, uint64_t h)
{
	if ((set->count + 1) * 5 > (set->mask + 1) * 4) {
		struct guess_set bigger = *set;
		if (!guess_set_init(&bigger, (set->mask + 1) * 2))
			return false;
		for (size_t i = 0; i <= set->mask; i++)
			if (set->slot[i] != 0)
				guess_set_insert(&bigger, set->slot[i]);
		(void)munmap(set->slot, set->bytes);
		set->slot = bigger.slot;
		set->mask = bigger.mask;
		set->bytes = bigger.bytes;
		set->count = bigger.count;
	}
	guess_set_insert(set, h);
	return true;
}

static bool guess_set_append(struct guess_set *set, const char *w,
			     size_t len)
{
	return guess_set_append_hash(set, guess_hash(w, len));
}

static void guess_set_free(struct guess_set *set)
{
	if (set->indexed)
		wordindex_close(&set->index);
	else if (set->slot != NULL)
		(void)munmap(set->slot, set->bytes);
	free(set->terms);
	memset(set, 0, sizeof(*set));
}

/*
 * A list word into its stored form: case-folded, apostrophes dropped
 * ("abalone's" -> "abalones"), 3 to GUESS_MAX_TERM code points. Words
 * are not secrets; ASCII takes a fast path.
 */
static size_t guess_normalise_word(const char *in, size_t len, char *out,
				   size_t outcap, uint32_t *cp, size_t *ncp)
{
	uint8_t fold[4 * 3 * GUESS_MAX_TERM + 8];
	size_t flen = sizeof(fold), used = 0, count = 0;
	uint8_t *f;
	bool ascii = true;

	*ncp = 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)in[i] >= 0x80)
			ascii = false;
	if (ascii) {
		for (size_t i = 0; i < len && used + 1 < outcap; i++) {
			char c = in[i];
			if (c == '\'')
				continue;
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (count < GUESS_MAX_TERM)
				cp[count] = (unsigned char)c;
			count++;
			out[used++] = c;
		}
		out[used] = '\0';
		if (count < GUESS_MIN_TERM || count > GUESS_MAX_TERM)
			return 0;
		*ncp = count;
		return used;
	}
	if (len > GUESS_MAX_TERM * 4 || u8_check((const uint8_t *)in, len) != NULL)
		return 0;
	f = u8_casefold((const uint8_t *)in, len, NULL, UNINORM_NFC, fold, &flen);
	if (f == NULL)
		return 0;
	for (size_t pos = 0; pos < flen;) {
		ucs4_t uc;
		int step = u8_mbtouc(&uc, f + pos, flen - pos);
		if (step <= 0)
			break;
		if (uc != '\'' && uc != 0x2019) {
			if (count >= GUESS_MAX_TERM || used + (size_t)step + 1 > outcap) {
				count = GUESS_MAX_TERM + 1;
				break;
			}
			cp[count++] = uc;
			memcpy(out + used, f + pos, (size_t)step);
			used += (size_t)step;
		}
		pos += (size_t)step;
	}
	if (f != fold)
		free(f);
	out[used] = '\0';
	if (count < GUESS_MIN_TERM || count > GUESS_MAX_TERM)
		return 0;
	*ncp = count;
	return used;
}

static bool guess_set_add_word(struct guess_set *set, const char *w,
			       size_t len, bool keep_terms, size_t *terms_cap)
{
	char norm[4 * 3 * GUESS_MAX_TERM + 8];
	uint32_t cp[GUESS_MAX_TERM];
	size_t ncp = 0, n = guess_normalise_word(w, len, norm, sizeof(norm),
						  cp, &ncp);

	if (n == 0)
		return true; /* too short or too long: not a term */
	if (!guess_set_append(set, norm, n))
		return false;
	if (keep_terms) {
		if (set->nterms == *terms_cap) {
			size_t cap = *terms_cap ? *terms_cap * 2 : 64;
			struct guess_term *nt = realloc(set->terms,
							cap * sizeof(*nt));
			if (nt == NULL)
				return false;
			set->terms = nt;
			*terms_cap = cap;
		}
		memcpy(set->terms[set->nterms].cp, cp, ncp * sizeof(*cp));
		set->terms[set->nterms].n = ncp;
		set->nterms++;
	}
	return true;
}

/* Longest word-list file read, in bytes. */
#define GUESS_MAX_FILE (64L * 1024 * 1024)

struct guess_pending {
	uint64_t *h;
	size_t n;
};

static void *guess_map(size_t bytes)
{
	void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	return m == MAP_FAILED ? NULL : m;
}

/*
 * Inserts the pending hashes grouped by where they land in the table
 * (one counting pass and one scatter by the top 8 bits of the home
 * slot): random inserts into a table of a megabyte miss the cache every
 * time, grouped ones stay within a page.
 */
static bool guess_set_insert_pending(struct guess_set *set,
				     const struct guess_pending *pend)
{
	size_t count[257] = { 0 }, shift = 0, size = set->mask + 1;
	uint64_t *sorted;

	if (pend->n == 0)
		return true;
	while ((size >> shift) > 256)
		shift++;
	sorted = guess_map(pend->n * sizeof(*sorted));
	if (sorted == NULL)
		return false;
	for (size_t i = 0; i < pend->n; i++)
		count[(guess_home(pend->h[i], set->mask) >> shift) + 1]++;
	for (size_t b = 1; b <= 256; b++)
		count[b] += count[b - 1];
	for (size_t i = 0; i < pend->n; i++)
		sorted[count[guess_home(pend->h[i], set->mask) >> shift]++] = pend->h[i];
	for (size_t i = 0; i < pend->n; i++)
		guess_set_insert(set, sorted[i]);
	(void)munmap(sorted, pend->n * sizeof(*sorted));
	return true;
}

/* Reads path (one word a line, '#' comments, blank lines skipped). */
static pp_err guess_set_load(struct guess_set *set, const char *path,
			     bool keep_terms)
{
	size_t terms_cap = 0, size, lines = 1;
	struct guess_pending pend = { NULL, 0 };
	const char *text;
	struct stat st;
	pp_err err = PP_OK;
	void *map = MAP_FAILED;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return PP_ERR_NOT_FOUND;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > GUESS_MAX_FILE) {
		(void)close(fd);
		return PP_ERR_IO;
	}
	size = (size_t)st.st_size;
	if (size > 0) {
		map = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (map == MAP_FAILED) {
			(void)close(fd);
			return PP_ERR_IO;
		}
	}
	(void)close(fd);
	text = map == MAP_FAILED ? "" : map;
	for (const char *q = text; size > 0 && (q = memchr(q, '\n', size - (size_t)(q - text))) != NULL; q++)
		lines++;
	if (!guess_set_init(set, lines) ||
	    (pend.h = guess_map(lines * sizeof(*pend.h))) == NULL) {
		err = PP_ERR_NOMEM;
		goto out;
	}
	for (size_t pos = 0; pos < size;) {
		char norm[GUESS_MAX_TERM + 1];
		size_t start = pos, n = 0;
		bool slow = keep_terms, skip = false;

		/* One pass over the line: ASCII words are folded and hashed
		 * here; anything else takes guess_set_add_word. */
		for (; pos < size && text[pos] != '\n'; pos++) {
			char c = text[pos];
			if (slow || skip)
				continue;
			if ((unsigned char)c >= 0x80) {
				slow = true;
			} else if (c == ' ' || c == '\t' || c == '\r') {
				if (n > 0)
					slow = true; /* inner blank: the careful path */
			} else if (c == '#' && n == 0) {
				skip = true;
			} else if (c != '\'') {
				if (n == GUESS_MAX_TERM) {
					skip = true; /* too long: not a term */
					continue;
				}
				norm[n++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
			}
		}
		if (!skip && slow) {
			size_t b = start, e = pos;
			while (b < e && (text[b] == ' ' || text[b] == '\t'))
				b++;
			while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t' ||
					 text[e - 1] == '\r'))
				e--;
			if (e > b && text[b] != '#' &&
			    !guess_set_add_word(set, text + b, e - b, keep_terms,
						&terms_cap)) {
				err = PP_ERR_NOMEM;
				goto out;
			}
		} else if (!skip && n >= GUESS_MIN_TERM) {
			pend.h[pend.n++] = guess_hash(norm, n);
		}
		pos++;
	}
	if (!guess_set_insert_pending(set, &pend))
		err = PP_ERR_NOMEM;
out:
	if (pend.h != NULL)
		(void)munmap(pend.h, lines * sizeof(*pend.h));
	if (map != MAP_FAILED)
		(void)munmap(map, size);
	if (err != PP_OK)
		guess_set_free(set);
	return err;
}

/*
 * The set of an index file (wordindex.h): the table is used in place,
 * read-only (the mapping is PROT_READ; nothing is ever inserted into it).
 */
static void guess_set_from_index(struct guess_set *set, struct wordindex *ix)
{
	memset(set, 0, sizeof(*set));
	set->index = *ix;
	set->indexed = true;
	set->slot = (uint64_t *)(uintptr_t)ix->slot;
	set->mask = (size_t)ix->header.slots - 1;
	set->count = (size_t)ix->header.words;
	memset(ix, 0, sizeof(*ix));
}

/*
 * The word list at path: its index at index_path when that was built from
 * path as it is now; path itself when it is an index (then it must be a
 * valid one); else path read as plain text. PP_ERR_INVALID for a path
 * that is a refused index.
 */
static pp_err guess_dict_load(struct guess_set *set, const char *path,
			      const char *index_path)
{
	struct wordindex ix;
	struct wordindex_source now;

	if (index_path[0] != '\0' &&
	    wordindex_source_stat(path, &now) == PP_OK &&
	    wordindex_open(index_path, GUESS_HASH_SCHEME, &ix, NULL, 0) == PP_OK) {
		if (wordindex_matches(&ix, path, &now)) {
			guess_set_from_index(set, &ix);
			return PP_OK;
		}
		/* Stale or of other lists: the plain list decides. */
		wordindex_close(&ix);
	}
	if (wordindex_has_magic(path)) {
		pp_err err = wordindex_open(path, GUESS_HASH_SCHEME, &ix, NULL, 0);
		if (err == PP_OK)
			guess_set_from_index(set, &ix);
		if (err == PP_OK || err == PP_ERR_NOT_FOUND)
			return err;
		return PP_ERR_INVALID;
	}
	return guess_set_load(set, path, false);
}

static pthread_mutex_t guess_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char path[POLICY_MAX_PATH];
	char index[POLICY_MAX_PATH];   /* the dictionary's index path, or "" */
	bool terms;
	pp_err status;        /* PP_OK or why it could not be read */
	struct guess_set set;
} guess_cache[GUESS_CACHE];
static size_t guess_cached;
static struct guess_set guess_builtin;
static bool guess_builtin_ok;

static void guess_free_all(void) __attribute__((destructor));
static void guess_free_all(void)
{
	for (size_t i = 0; i < guess_cached; i++)
		guess_set_free(&guess_cache[i].set);
	guess_cached = 0;
	guess_set_free(&guess_builtin);
	guess_builtin_ok = false;
}

/*
 * The set for path, read on first use. keep_terms: also decode each term
 * for fuzzy scans (small lists only). index: NULL for a small list, else
 * the dictionary's wordlist_index ("" for none; see guess_dict_load).
 */
static pp_err guess_get(const char *path, const char *index, bool keep_terms,
			const struct guess_set **out)
{
	const char *ixpath = index != NULL ? index : "";
	pp_err err = PP_OK;
	size_t i;

	*out = NULL;
	(void)pthread_mutex_lock(&guess_lock);
	for (i = 0; i < guess_cached; i++)
		if (guess_cache[i].terms == keep_terms &&
		    strcmp(guess_cache[i].path, path) == 0 &&
		    strcmp(guess_cache[i].index, ixpath) == 0)
			break;
	if (i == guess_cached) {
		struct guess_set set;
		memset(&set, 0, sizeof(set));
		err = index != NULL ? guess_dict_load(&set, path, index)
				    : guess_set_load(&set, path, keep_terms);
		if (err == PP_ERR_NOMEM || guess_cached == GUESS_CACHE) {
			guess_set_free(&set);
			(void)pthread_mutex_unlock(&guess_lock);
			return err == PP_OK ? PP_ERR_NOMEM : err;
		}
		snprintf(guess_cache[i].path, sizeof(guess_cache[i].path),
			 "%s", path);
		snprintf(guess_cache[i].index, sizeof(guess_cache[i].index),
			 "%s", ixpath);
		guess_cache[i].terms = keep_terms;
		guess_cache[i].status = err;
		guess_cache[i].set = set;
		guess_cached++;
	}
	err = guess_cache[i].status;
	if (err == PP_OK)
		*out = &guess_cache[i].set;
	(void)pthread_mutex_unlock(&guess_lock);
	return err;
}

pp_err guess_wordlist_index(const char *const *paths, size_t n, void **out,
			    size_t *outlen, uint64_t *words, char *err,
			    size_t errlen)
{
	struct wordindex_source src[WORDINDEX_MAX_SOURCES], after;
	struct guess_set one, all;
	size_t total = 0;
	pp_err rc = PP_OK;

	*out = NULL;
	*outlen = 0;
	*words = 0;
	memset(&all, 0, sizeof(all));
	if (paths == NULL || n == 0 || n > WORDINDEX_MAX_SOURCES) {
		pp_errorf(err, errlen, "between 1 and %d word lists, please",
			  WORDINDEX_MAX_SOURCES);
		return PP_ERR_INVALID;
	}
	for (size_t i = 0; i < n; i++) {
		if (paths[i][0] != '/') {
			pp_errorf(err, errlen, "%s: not an absolute path", paths[i]);
			return PP_ERR_INVALID;
		}
		rc = wordindex_source_stat(paths[i], &src[i]);
		if (rc == PP_OK && wordindex_has_magic(paths[i]))
			rc = PP_ERR_INVALID;
		if (rc != PP_OK) {
			pp_errorf(err, errlen, "%s: %s", paths[i],
				  rc == PP_ERR_INVALID ? "is an index, not a word list"
				  : rc == PP_ERR_TOO_LONG ? "path too long"
				  : rc == PP_ERR_NOT_FOUND ? "no such file"
				  : strerror(errno));
			return rc;
		}
	}
	/* One list: its own table. Several: one table of them all. */
	for (size_t i = 0; i < n; i++) {
		memset(&one, 0, sizeof(one));
		rc = guess_set_load(&one, paths[i], false);
		if (rc != PP_OK) {
			pp_errorf(err, errlen, "%s: %s", paths[i], rc == PP_ERR_IO
				  ? "cannot be read (or larger than 64 MiB)" : pp_strerror(rc));
			goto out;
		}
		if (wordindex_source_stat(paths[i], &after) != PP_OK ||
		    memcmp(&after, &src[i], sizeof(after)) != 0) {
			guess_set_free(&one);
			pp_errorf(err, errlen, "%s changed while it was read; try again",
				  paths[i]);
			rc = PP_ERR_IO;
			goto out;
		}
		if (n == 1) {
			all = one;
			break;
		}
		if (all.slot == NULL && !guess_set_init(&all, 16)) {
			guess_set_free(&one);
			rc = PP_ERR_NOMEM;
			goto out;
		}
		for (size_t k = 0; k <= one.mask; k++)
			if (one.slot[k] != 0 && !guess_set_append_hash(&all, one.slot[k])) {
				guess_set_free(&one);
				rc = PP_ERR_NOMEM;
				goto out;
			}
		guess_set_free(&one);
	}
	total = all.mask + 1;
	if (total > WORDINDEX_MAX_SLOTS) {
		pp_errorf(err, errlen, "too many words for one index");
		rc = PP_ERR_TOO_LONG;
		goto out;
	}
	rc = wordindex_encode(all.slot, total, all.count, src, n, GUESS_HASH_SCHEME,
			      out, outlen);
	if (rc != PP_OK)
		pp_errorf(err, errlen, "%s", pp_strerror(rc));
	else
		*words = all.count;
out:
	guess_set_free(&all);
	return rc;
}

static const struct guess_set *guess_common_set(void)
{
	const struct guess_set *res = NULL;

	(void)pthread_mutex_lock(&guess_lock);
	if (!guess_builtin_ok) {
		size_t terms_cap = 0;
		bool ok = guess_set_init(&guess_builtin, sizeof(guess_common) /
							 sizeof(guess_common[0]));
		for (size_t i = 0; ok && i < sizeof(guess_common) / sizeof(guess_common[0]); i++)
			ok = guess_set_add_word(&guess_builtin, guess_common[i],
						strlen(guess_common[i]), true,
						&terms_cap);
		if (ok)
			guess_builtin_ok = true;
		else
			guess_set_free(&guess_builtin);
	}
	if (guess_builtin_ok)
		res = &guess_builtin;
	(void)pthread_mutex_unlock(&guess_lock);
	return res;
}

/* ---- transliteration ---- */

/* Lowercase Cyrillic U+0430..U+044F, then a few more. */
static const char *const guess_cyrillic[32] = {
	"a", "b", "v", "g", "d", "e", "zh", "z", "i", "y", "k", "l", "m",
	"n", "o", "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh",
	"shch", "", "y", "", "e", "yu", "ya",
};
/* Lowercase Greek U+03B1..U+03C9. */
static const char *const guess_greek[25] = {
	"a", "v", "g", "d", "e", "z", "i", "th", "i", "k", "l", "m", "n",
	"x", "o", "p", "r", "s", "s", "t", "y", "f", "ch", "ps", "o",
};

/* The ASCII letters standing for folded code point c, or NULL. */
static const char *guess_translit(uint32_t c, char *tmp)
{
	ucs4_t dec[UC_DECOMPOSITION_MAX_LENGTH];
	int n;

	if (c >= 0x430 && c <= 0x44f)
		return guess_cyrillic[c - 0x430];
	if (c >= 0x3b1 && c <= 0x3c9)
		return guess_greek[c - 0x3b1];
	switch (c) {
	case 0x451: return "e";   /* ё */
	case 0x454: return "ye";  /* є */
	case 0x456: return "i";   /* і */
	case 0x457: return "yi";  /* ї */
	case 0x491: return "g";   /* ґ */
	case 0xe6: return "ae";
	case 0xf8: return "o";
	case 0x153: return "oe";
	case 0x142: return "l";
	case 0x111: return "d";
	case 0xfe: return "th";
	case 0xf0: return "d";
	default: break;
	}
	n = uc_canonical_decomposition(c, dec);
	if (n > 0 && dec[0] < 0x80 && strength_is_letter(dec[0])) {
		tmp[0] = (char)dec[0];
		tmp[1] = '\0';
		return tmp;
	}
	return NULL;
}

/* ---- matching ---- */

struct guess_tables {
	const struct guess_set *dict;    /* may be NULL */
	const struct guess_set *common;  /* may be NULL */
	const struct guess_set *banned;  /* may be NULL */
	struct guess_term names[GUESS_MAX_NAMES];
	unsigned name_kind[GUESS_MAX_NAMES];
	size_t nnames;
};

static bool guess_equal(const uint32_t *a, const uint32_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* Edit distance at most 1 (insertion, deletion, substitution, or one
 * swap of neighbours) between a[0..an) and b[0..bn). */
static bool guess_ed1(const uint32_t *a, size_t an, const uint32_t *b,
		      size_t bn)
{
	size_t i = 0;

	if (an == bn) {
		while (i < an && a[i] == b[i])
			i++;
		if (i >= an)
			return true;
		if (guess_equal(a + i + 1, b + i + 1, an - i - 1))
			return true;
		return i + 1 < an && a[i] == b[i + 1] && a[i + 1] == b[i] &&
		       guess_equal(a + i + 2, b + i + 2, an - i - 2);
	}
	if (an + 1 == bn) {
		const uint32_t *t = a; size_t tn = an;
		a = b; an = bn; b = t; bn = tn;
	}
	if (an != bn + 1)
		return false;
	while (i < bn && a[i] == b[i])
		i++;
	return guess_equal(a + i + 1, b + i, bn - i);
}

/* UTF-8 of cp[0..n) into buf (cap bytes); 0 when it does not fit. */
static size_t guess_encode(const uint32_t *cp, size_t n, char *buf,
			   size_t cap)
{
	size_t used = 0;

	for (size_t i = 0; i < n; i++) {
		int k = u8_uctomb((uint8_t *)buf + used, cp[i],
				  (ptrdiff_t)(cap - used - 1));
		if (k <= 0)
			return 0;
		used += (size_t)k;
	}
	buf[used] = '\0';
	return used;
}

/* The kind of term cp[0..n) is exactly (0 when none), most specific
 * first. */
static unsigned guess_term_kind(const struct guess_tables *t,
				const uint32_t *cp, size_t n)
{
	char buf[4 * GUESS_MAX_TERM + 8];
	size_t len;
	unsigned kind = 0;

	for (size_t i = 0; i < t->nnames; i++)
		if (t->names[i].n == n && guess_equal(t->names[i].cp, cp, n))
			return t->name_kind[i];
	len = guess_encode(cp, n, buf, sizeof(buf));
	if (len == 0)
		return 0;
	if (guess_set_has(t->banned, buf, len))
		kind = GUESS_FOUND_BANNED;
	else if (guess_set_has(t->common, buf, len))
		kind = GUESS_FOUND_COMMON;
	else if (guess_set_has(t->dict, buf, len))
		kind = GUESS_FOUND_DICTIONARY;
	pp_wipe(buf, sizeof(buf));
	return kind;
}

/* Look-alikes that stand for two letters: "1" and "!" (i or l). */
static bool guess_ambiguous(uint32_t c)
{
	return c == '1' || c == '!';
}

#define GUESS_MAX_AMBIGUOUS 5  /* 2^5 readings of one segment at most */

/*
 * The kind of term segment [i, j) is, read as typed, or with look-alikes
 * undone, each "1" and "!" read as "i" or as "l" independently
 * ("ph11o10gy" is "philology"). raw is the folded password, li the same
 * with every look-alike undone ("1" and "!" as "i").
 */
static unsigned guess_segment_kind(const struct guess_tables *t,
				   const uint32_t *raw, const uint32_t *li,
				   size_t i, size_t j, bool has_leet)
{
	uint32_t cand[GUESS_MAX_TERM];
	size_t amb[GUESS_MAX_AMBIGUOUS], namb = 0, n = j - i;
	unsigned kind = guess_term_kind(t, raw + i, n);

	if (kind != 0 || !has_leet || n > GUESS_MAX_TERM)
		return kind;
	memcpy(cand, li + i, n * sizeof(*cand));
	for (size_t k = 0; k < n; k++)
		if (guess_ambiguous(raw[i + k])) {
			if (namb == GUESS_MAX_AMBIGUOUS)
				break;
			amb[namb++] = k;
		}
	for (unsigned mask = 0; mask < (1u << namb) && kind == 0; mask++) {
		for (size_t b = 0; b < namb; b++)
			cand[amb[b]] = (mask & (1u << b)) ? 'l' : 'i';
		kind = guess_term_kind(t, cand, n);
	}
	pp_wipe(cand, sizeof(cand));
	return kind;
}

/*
 * Dictionary words at edit distance 1 from cp[0..n): the candidates one
 * ASCII letter away (every deletion, swap, substitution and insertion)
 * are looked up. Returns the kind found, 0 when none.
 */
static unsigned guess_dict_ed1(const struct guess_tables *t,
			       const uint32_t *cp, size_t n)
{
	uint32_t cand[GUESS_MAX_TERM + 1];
	unsigned kind = 0;

	if (n < GUESS_FUZZY_TERM || n > GUESS_MAX_TERM ||
	    (t->dict == NULL && t->common == NULL))
		return 0;
	for (size_t i = 0; i < n && kind == 0; i++) { /* deletion */
		memcpy(cand, cp, i * sizeof(*cp));
		memcpy(cand + i, cp + i + 1, (n - i - 1) * sizeof(*cp));
		kind = guess_term_kind(t, cand, n - 1);
	}
	for (size_t i = 0; i + 1 < n && kind == 0; i++) { /* swap */
		memcpy(cand, cp, n * sizeof(*cp));
		cand[i] = cp[i + 1];
		cand[i + 1] = cp[i];
		kind = guess_term_kind(t, cand, n);
	}
	for (size_t i = 0; i < n && kind == 0; i++) { /* substitution */
		memcpy(cand, cp, n * sizeof(*cp));
		for (uint32_t c = 'a'; c <= 'z' && kind == 0; c++) {
			if (c == cp[i])
				continue;
			cand[i] = c;
			kind = guess_term_kind(t, cand, n);
		}
	}
	for (size_t i = 0; i <= n && kind == 0 && n < GUESS_MAX_TERM; i++) {
		memcpy(cand, cp, i * sizeof(*cp));
		memcpy(cand + i + 1, cp + i, (n - i) * sizeof(*cp));
		for (uint32_t c = 'a'; c <= 'z' && kind == 0; c++) {
			cand[i] = c;
			kind = guess_term_kind(t, cand, n + 1);
		}
	}
	pp_wipe(cand, sizeof(cand));
	return kind;
}

/* Small lists (names, banned words, common words) at edit distance 1
 * from the whole of cp[0..n). */
static unsigned guess_small_ed1(const struct guess_tables *t,
				const uint32_t *cp, size_t n)
{
	for (size_t i = 0; i < t->nnames; i++)
		if (t->names[i].n >= GUESS_FUZZY_TERM &&
		    guess_ed1(cp, n, t->names[i].cp, t->names[i].n))
			return t->name_kind[i];
	if (t->banned != NULL)
		for (size_t i = 0; i < t->banned->nterms; i++)
			if (t->banned->terms[i].n >= GUESS_FUZZY_TERM &&
			    guess_ed1(cp, n, t->banned->terms[i].cp,
				      t->banned->terms[i].n))
				return GUESS_FOUND_BANNED;
	return 0;
}

struct guess_edge {
	uint16_t start, end;
	unsigned kind;
};

struct guess_scan {
	const uint32_t *var[3];   /* as folded, look-alikes as i, as l */
	size_t n;
	struct guess_edge edges[GUESS_MAX_EDGES];
	size_t nedges;
};

static void guess_add_edge(struct guess_scan *s, size_t start, size_t end,
			   unsigned kind)
{
	if (s->nedges < GUESS_MAX_EDGES) {
		s->edges[s->nedges].start = (uint16_t)start;
		s->edges[s->nedges].end = (uint16_t)end;
		s->edges[s->nedges].kind = kind;
		s->nedges++;
	}
}

/* Every fuzzy match of a small-list term inside the password. */
static void guess_fuzzy_term(struct guess_scan *s, const struct guess_term *term,
			     unsigned kind)
{
	size_t m = term->n;

	if (m < GUESS_FUZZY_TERM)
		return;
	for (size_t i = 0; i + m - 1 <= s->n; i++)
		for (size_t len = m - 1; len <= m + 1; len++) {
			if (i + len > s->n)
				break;
			for (int v = 0; v < 3; v++) {
				const uint32_t *a = s->var[v] + i;
				/* One edit in a term of 5+ leaves its first two
				 * or its last two code points in place. */
				if (!(a[0] == term->cp[0] && a[1] == term->cp[1]) &&
				    !(a[len - 1] == term->cp[m - 1] &&
				      a[len - 2] == term->cp[m - 2]))
					continue;
				if (guess_ed1(a, len, term->cp, m)) {
					guess_add_edge(s, i, i + len, kind);
					break;
				}
			}
		}
}

/*
 * The cheapest reading of cp[0..n) (see guess.h, step 3); *found gets the
 * kinds it used.
 */
static int guess_score(const struct guess_tables *t, const uint32_t *cp,
		       size_t n, unsigned *found)
{
	uint32_t li[GUESS_MAX_CP], ll[GUESS_MAX_CP];
	size_t leet[GUESS_MAX_CP + 1];  /* look-alikes before position i */
	int cost[GUESS_MAX_CP + 1];
	int from[GUESS_MAX_CP + 1];
	unsigned kind[GUESS_MAX_CP + 1];
	struct guess_scan *s;
	int result;

	*found = 0;
	if (n == 0)
		return 0;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -1;
	leet[0] = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t a = strength_unleet(cp[i], false);
		uint32_t b = strength_unleet(cp[i], true);
		li[i] = a ? a : cp[i];
		ll[i] = b ? b : cp[i];
		leet[i + 1] = leet[i] + (a != 0);
	}
	s->var[0] = cp;
	s->var[1] = li;
	s->var[2] = ll;
	s->n = n;

	/* Fuzzy: small lists anywhere, the dictionary on runs of letters. */
	for (size_t i = 0; i < t->nnames; i++)
		guess_fuzzy_term(s, &t->names[i], t->name_kind[i]);
	if (t->banned != NULL)
		for (size_t i = 0; i < t->banned->nterms; i++)
			guess_fuzzy_term(s, &t->banned->terms[i], GUESS_FOUND_BANNED);
	if (t->common != NULL)
		for (size_t i = 0; i < t->common->nterms; i++)
			guess_fuzzy_term(s, &t->common->terms[i], GUESS_FOUND_COMMON);
	/* Without look-alikes the three variants are the same. */
	for (int v = leet[n] ? 1 : 0; v <= (leet[n] ? 2 : 0); v++) {
		for (size_t i = 0; i < n;) {
			size_t e = i;
			unsigned k;
			while (e < n && strength_is_letter(s->var[v][e]))
				e++;
			if (e == i) {
				i++;
				continue;
			}
			/* A run that is a term already costs one point. */
			k = guess_segment_kind(t, cp, li, i, e, leet[e] != leet[i]);
			if (k == 0)
				k = guess_dict_ed1(t, s->var[v] + i, e - i);
			if (k != 0)
				guess_add_edge(s, i, e, k);
			i = e;
		}
	}

	for (size_t i = 0; i <= n; i++) {
		cost[i] = GUESS_INF;
		from[i] = -1;
		kind[i] = 0;
	}
	cost[0] = 0;
#define RELAX(j, k) \
	do { \
		if (cost[i] + 1 < cost[(j)]) { \
			cost[(j)] = cost[i] + 1; \
			from[(j)] = (int)i; \
			kind[(j)] = (k); \
		} \
	} while (0)
	for (size_t i = 0; i < n; i++) {
		size_t walk, run = 1, maxj;

		if (cost[i] >= GUESS_INF)
			continue;
		RELAX(i + 1, 0u);
		if (i + 1 < n && cp[i] >= '0' && cp[i] <= '9' &&
		    cp[i + 1] >= '0' && cp[i + 1] <= '9')
			RELAX(i + 2, 0u);
		for (size_t k = 2; i + k <= n && cp[i + k - 1] >= '0' &&
				   cp[i + k - 1] <= '9'; k++)
			if (strength_digit_pattern(cp + i, k) == k)
				RELAX(i + k, (unsigned)GUESS_FOUND_PATTERN);
		walk = strength_keyboard_walk(cp + i, n - i);
		for (size_t k = 4; k <= walk; k++)
			RELAX(i + k, (unsigned)GUESS_FOUND_KEYBOARD);
		while (i + run < n && cp[i + run] == cp[i])
			run++;
		for (size_t k = 3; k <= run; k++)
			RELAX(i + k, (unsigned)GUESS_FOUND_REPEAT);
		maxj = i + GUESS_MAX_TERM < n ? i + GUESS_MAX_TERM : n;
		for (size_t j = i + GUESS_MIN_TERM; j <= maxj; j++) {
			unsigned k = guess_segment_kind(t, cp, li, i, j,
							 leet[j] != leet[i]);
			if (k != 0)
				RELAX(j, k);
		}
		for (size_t e = 0; e < s->nedges; e++)
			if (s->edges[e].start == i)
				RELAX((size_t)s->edges[e].end, s->edges[e].kind);
	}
#undef RELAX
	result = cost[n];
	for (int j = (int)n; j > 0 && from[j] >= 0; j = from[j])
		*found |= kind[j];
	pp_wipe(li, sizeof(li));
	pp_wipe(ll, sizeof(ll));
	pp_wipe(s, sizeof(*s));
	free(s);
	return result;
}

/* Transliterated copy of cp[0..n) into out (cap); false when nothing
 * changed (pure ASCII or nothing known). */
static bool guess_translit_all(const uint32_t *cp, size_t n, uint32_t *out,
			       size_t cap, size_t *outn)
{
	bool changed = false;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		char tmp[2];
		const char *tr = cp[i] >= 0x80 ? guess_translit(cp[i], tmp) : NULL;
		if (tr == NULL) {
			if (k < cap)
				out[k++] = cp[i];
			continue;
		}
		changed = true;
		for (; *tr != '\0' && k < cap; tr++)
			out[k++] = (unsigned char)*tr;
	}
	*outn = k;
	return changed;
}

/* Fold a context word (not secret) into a term; false when unusable. */
static bool guess_make_term(const char *s, size_t len, struct guess_term *t)
{
	char word[4 * GUESS_MAX_TERM + 8];
	char norm[4 * 3 * GUESS_MAX_TERM + 8];
	size_t ncp = 0;

	if (len == 0 || len >= sizeof(word))
		return false;
	memcpy(word, s, len);
	word[len] = '\0';
	if (guess_normalise_word(word, len, norm, sizeof(norm), t->cp, &ncp) == 0)
		return false;
	t->n = ncp;
	return true;
}

static void guess_add_name(struct guess_tables *t, const char *s, size_t len,
			   unsigned kind)
{
	if (t->nnames < GUESS_MAX_NAMES &&
	    guess_make_term(s, len, &t->names[t->nnames])) {
		t->name_kind[t->nnames] = kind;
		t->nnames++;
	}
}

/* GECOS words: runs of letters and digits (byte-wise for ASCII; any
 * non-ASCII byte is part of a word). */
static void guess_add_gecos(struct guess_tables *t, const char *g)
{
	size_t i = 0, len = strlen(g);

	while (i < len) {
		size_t e = i;
		while (e < len && (((unsigned char)g[e] >= 0x80) ||
				   (g[e] >= '0' && g[e] <= '9') ||
				   (g[e] >= 'a' && g[e] <= 'z') ||
				   (g[e] >= 'A' && g[e] <= 'Z')))
			e++;
		if (e > i)
			guess_add_name(t, g + i, e - i, GUESS_FOUND_GECOS);
		i = e + 1;
	}
}

static void guess_add_host(struct guess_tables *t, const char *host)
{
	size_t dot = strcspn(host, ".");

	guess_add_name(t, host, strlen(host), GUESS_FOUND_HOST);
	if (host[dot] == '.')
		guess_add_name(t, host, dot, GUESS_FOUND_HOST);
}

static pp_err guess_tables_load(const struct policy *p,
				const struct guess_context *ctx,
				struct guess_tables *t)
{
	pp_err err;

	memset(t, 0, sizeof(*t));
	t->common = guess_common_set();
	if (t->common == NULL)
		return PP_ERR_NOMEM;
	if (p->wordlist[0] != '\0') {
		err = guess_get(p->wordlist, p->wordlist_index, false, &t->dict);
		if (err == PP_ERR_NOMEM)
			return err;
		/* The default list is optional; one the admin names is not. */
		if (err != PP_OK &&
		    p->source[POLICY_OPT_WORDLIST] != POLICY_SOURCE_DEFAULT)
			return PP_ERR_CONFIG;
	}
	if (p->banned_words[0] != '\0') {
		err = guess_get(p->banned_words, NULL, true, &t->banned);
		if (err == PP_ERR_NOMEM)
			return err;
		if (err != PP_OK)
			return PP_ERR_CONFIG;
	}
	if (ctx != NULL && ctx->user != NULL)
		guess_add_name(t, ctx->user, strlen(ctx->user), GUESS_FOUND_USER);
	if (ctx != NULL && ctx->gecos != NULL)
		guess_add_gecos(t, ctx->gecos);
	if (ctx != NULL && ctx->host != NULL) {
		guess_add_host(t, ctx->host);
	} else {
		struct utsname u;
		if (uname(&u) == 0)
			guess_add_host(t, u.nodename);
	}
	if (ctx != NULL && ctx->service != NULL)
		guess_add_name(t, ctx->service, strlen(ctx->service),
			       GUESS_FOUND_SERVICE);
	return PP_OK;
}

/* Is the core (as code points) itself a term, also at distance 1? */
static unsigned guess_core_kind(const struct guess_tables *t,
				const uint32_t *core, size_t n)
{
	uint32_t alt[GUESS_MAX_TERM + 1];
	unsigned k;

	if (n < GUESS_MIN_TERM || n > GUESS_MAX_TERM)
		return 0;
	k = guess_term_kind(t, core, n);
	if (k == 0)
		k = guess_small_ed1(t, core, n);
	if (k == 0)
		k = guess_dict_ed1(t, core, n);
	if (k == 0) {
		/* strength_core reads "1" and "!" as "i": try "l" too. */
		bool changed = false;
		for (size_t i = 0; i < n; i++) {
			alt[i] = core[i] == 'i' ? 'l' : core[i];
			changed = changed || alt[i] != core[i];
		}
		if (changed)
			k = guess_term_kind(t, alt, n);
	}
	pp_wipe(alt, sizeof(alt));
	return k;
}

/*
 * The core straight from the folded password cp[0..n): from its first to
 * its last letter, look-alikes read every way guess_segment_kind reads
 * them, also at edit distance 1 (strength_core reads "1" only as "i").
 */
static unsigned guess_raw_core_kind(const struct guess_tables *t,
				    const uint32_t *cp, size_t n)
{
	uint32_t li[GUESS_MAX_TERM], ll[GUESS_MAX_TERM];
	size_t first = 0, last = n, m;
	bool has_leet = false;
	unsigned k;

	while (first < n && !strength_is_letter(cp[first]))
		first++;
	while (last > first && !strength_is_letter(cp[last - 1]))
		last--;
	m = last - first;
	if (m < GUESS_MIN_TERM || m > GUESS_MAX_TERM)
		return 0;
	for (size_t i = 0; i < m; i++) {
		uint32_t a = strength_unleet(cp[first + i], false);
		uint32_t b = strength_unleet(cp[first + i], true);
		li[i] = a ? a : cp[first + i];
		ll[i] = b ? b : cp[first + i];
		has_leet = has_leet || a != 0;
	}
	k = guess_segment_kind(t, cp + first, li, 0, m, has_leet);
	if (k == 0 && has_leet) {
		k = guess_small_ed1(t, li, m);
		if (k == 0)
			k = guess_small_ed1(t, ll, m);
		if (k == 0)
			k = guess_dict_ed1(t, li, m);
		if (k == 0)
			k = guess_dict_ed1(t, ll, m);
	}
	pp_wipe(li, sizeof(li));
	pp_wipe(ll, sizeof(ll));
	return k;
}

/* The estimate's transliterated input: ASCII kept, known letters
 * transliterated (case kept), anything else one lowercase letter. */
static bool guess_ascii_form(const char *password, char *out, size_t cap)
{
	const uint8_t *s = (const uint8_t *)password;
	size_t len = strlen(password), pos = 0, k = 0;
	bool changed = false;

	while (pos < len) {
		ucs4_t uc, low;
		char tmp[2];
		const char *tr;
		int step = u8_mbtouc(&uc, s + pos, len - pos);
		if (step <= 0)
			return false;
		pos += (size_t)step;
		if (uc < 0x80) {
			if (k + 1 >= cap)
				return false;
			out[k++] = (char)uc;
			continue;
		}
		changed = true;
		low = uc_tolower(uc);
		tr = guess_translit(low, tmp);
		if (tr == NULL) {
			tmp[0] = (char)('a' + uc % 26);
			tmp[1] = '\0';
			tr = tmp;
		}
		for (size_t i = 0; tr[i] != '\0'; i++) {
			if (k + 1 >= cap)
				return false;
			out[k++] = (i == 0 && low != uc && tr[i] >= 'a' && tr[i] <= 'z')
					   ? (char)(tr[i] - 'a' + 'A')
					   : tr[i];
		}
	}
	out[k] = '\0';
	return changed;
}

double guess_estimate_bits(const char *password,
			   const char *const *user_words)
{
	char ascii[4 * STRENGTH_MAX_INPUT + 8];
	const char *none[] = { NULL };
	size_t len;
	double bits, alt;

	if (password == NULL)
		return 0;
	len = strnlen(password, STRENGTH_MAX_INPUT + 1);
	if (len == 0 || len > STRENGTH_MAX_INPUT ||
	    u8_check((const uint8_t *)password, len) != NULL)
		return 0;
	if (user_words == NULL)
		user_words = none;
	bits = ZxcvbnMatch(password, (const char **)user_words, NULL);
	if (guess_ascii_form(password, ascii, sizeof(ascii))) {
		alt = ZxcvbnMatch(ascii, (const char **)user_words, NULL);
		if (alt < bits)
			bits = alt;
	}
	pp_wipe(ascii, sizeof(ascii));
	return bits < 0 ? 0 : bits;
}

pp_err guess_check(const struct policy *p, const char *password,
		   const struct guess_context *ctx, struct guess_result *out)
{
	uint32_t cp[GUESS_MAX_CP], tr[GUESS_MAX_CP], core[GUESS_MAX_CP];
	char corebuf[STRENGTH_OUT_MAX];
	const char *words[GUESS_MAX_NAMES + 1];
	char wordbuf[GUESS_MAX_NAMES][4 * GUESS_MAX_TERM + 8];
	struct guess_tables *t;
	size_t n = 0, ntr = 0, ncore = 0, nwords = 0;
	unsigned found = 0, found_tr = 0;
	int points;
	pp_err err;

	if (out == NULL)
		return PP_ERR_INVALID;
	memset(out, 0, sizeof(*out));
	if (p == NULL || password == NULL)
		return PP_ERR_INVALID;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return PP_ERR_NOMEM;
	err = guess_tables_load(p, ctx, t);
	if (err != PP_OK)
		goto done;
	err = strength_fold(password, cp, GUESS_MAX_CP, &n);
	if (err != PP_OK)
		goto done;

	points = guess_score(t, cp, n, &found);
	if (points < 0) {
		err = PP_ERR_NOMEM;
		goto done;
	}
	if (guess_translit_all(cp, n, tr, GUESS_MAX_CP, &ntr)) {
		int alt = guess_score(t, tr, ntr, &found_tr);
		if (alt < 0) {
			err = PP_ERR_NOMEM;
			goto done;
		}
		if (alt < points) {
			points = alt;
			found = found_tr;
		}
	}
	out->points = points;
	out->found = found;
	if (points < p->min_guess_points)
		out->guessable = true;

	err = strength_core(password, corebuf, sizeof(corebuf));
	if (err != PP_OK)
		goto done;
	{
		size_t pos = 0, len = strlen(corebuf);
		unsigned k;
		while (pos < len && ncore < GUESS_MAX_CP) {
			ucs4_t uc;
			int step = u8_mbtouc(&uc, (const uint8_t *)corebuf + pos,
					     len - pos);
			if (step <= 0)
				break;
			core[ncore++] = uc;
			pos += (size_t)step;
		}
		k = guess_core_kind(t, core, ncore);
		if (k == 0)
			k = guess_raw_core_kind(t, cp, n);
		if (k == 0 && guess_translit_all(core, ncore, tr, GUESS_MAX_CP, &ntr))
			k = guess_core_kind(t, tr, ntr);
		if (k != 0) {
			out->guessable = true;
			out->found |= k;
		}
	}
	if (!p->guesscheck)
		out->guessable = false;

	for (size_t i = 0; i < t->nnames && nwords < GUESS_MAX_NAMES; i++)
		if (guess_encode(t->names[i].cp, t->names[i].n, wordbuf[nwords],
				 sizeof(wordbuf[nwords])) > 0) {
			words[nwords] = wordbuf[nwords];
			nwords++;
		}
	words[nwords] = NULL;
	{
		double bits = guess_estimate_bits(password, words);
		out->bits = (int)bits;
	}
	if (p->min_strength_bits > 0 && out->bits < p->min_strength_bits)
		out->too_weak = true;
done:
	pp_wipe(cp, sizeof(cp));
	pp_wipe(tr, sizeof(tr));
	pp_wipe(core, sizeof(core));
	pp_wipe(corebuf, sizeof(corebuf));
	pp_wipe(t, sizeof(*t));
	free(t);
	return err;
}

void guess_found_text(unsigned found, char *buf, size_t len)
{
	/* TRANSLATORS: what a guessable password was found to be made of;
	   joined with ", " into the "(found: %s)" of its reason. */
	static const char *const text[GUESS_FOUND_COUNT] = {
		N_("a dictionary word"), N_("a common password"), N_("your user name"),
		N_("your name"), N_("the computer's name"), N_("the service's name"),
		N_("a word your administrator banned"), N_("a keyboard pattern"),
		N_("a year, date or digit pattern"), N_("repeated characters"),
	};
	size_t used = 0;

	if (buf == NULL || len == 0)
		return;
	buf[0] = '\0';
	for (unsigned i = 0; i < GUESS_FOUND_COUNT; i++) {
		int k;
		if (!(found & (1u << i)))
			continue;
		k = snprintf(buf + used, len - used, "%s%s",
			     used > 0 ? ", " : "", _(text[i]));
		if (k < 0 || (size_t)k >= len - used)
			return;
		used += (size_t)k;
	}
	if (used == 0)
		snprintf(buf, len, "%s", _("a predictable pattern"));
}
