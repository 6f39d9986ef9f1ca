/* pyrandom_script.h: replays tests/data/pyrandom/gen.py output against eb_pyrandom (tests only). */
#ifndef EB_PYRANDOM_SCRIPT_H
#define EB_PYRANDOM_SCRIPT_H

/*
 * Included by check_pyrandom.c (stored expected.txt) and check_pyrandom_live.c (gen.py's
 * live output), so both replay the same way. The format is described in gen.py.
 */
#include "pyrandom.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EB_PRS_MAX_WORDS 64 /* seeds and getrandbits up to 2048 bits */
#define EB_PRS_MAX_FIELDS 8

/* Splits `line` in place at spaces; returns the number of fields. */
static inline int eb_prs_split(char *line, char **f, int max)
{
	int n = 0;
	char *p = line;

	while (*p && n < max) {
		while (*p == ' ')
			*p++ = '\0';
		if (!*p)
			break;
		f[n++] = p;
		while (*p && *p != ' ')
			p++;
	}
	return n;
}

static inline int eb_prs_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end || *s == '-' ? -1 : 0;
}

static inline int eb_prs_i64(const char *s, int64_t *v)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(s, &end, 10);
	*v = x;
	return errno || *end ? -1 : 0;
}

/* |decimal| into little-endian 32-bit words; returns the word count or -1. */
static inline int eb_prs_dec_words(const char *s, uint32_t *w, int max)
{
	int n = 0, i;

	if (*s == '-')
		s++;
	if (!*s)
		return -1;
	for (; *s; s++) {
		uint64_t carry;

		if (*s < '0' || *s > '9')
			return -1;
		carry = (uint64_t)(*s - '0');
		for (i = 0; i < n; i++) {
			uint64_t t = (uint64_t)w[i] * 10u + carry;

			w[i] = (uint32_t)t;
			carry = t >> 32;
		}
		if (carry) {
			if (n == max)
				return -1;
			w[n++] = (uint32_t)carry;
		}
	}
	return n;
}

/* Little-endian words as lower-case hex without leading zeros ("0" for zero). */
static inline void eb_prs_hex(const uint32_t *w, size_t n, char *buf, size_t len)
{
	size_t i = n, off = 0;

	while (i > 0 && w[i - 1] == 0)
		i--;
	if (i == 0) {
		snprintf(buf, len, "0");
		return;
	}
	off += (size_t)snprintf(buf, len, "%" PRIx32, w[i - 1]);
	while (--i > 0 && off < len)
		off += (size_t)snprintf(buf + off, len - off, "%08" PRIx32, w[i - 1]);
}

/*
 * Replays `text` (modified in place). Returns the number of checked operations, or -1
 * with the first mismatch or syntax error described in `why`.
 */
static inline int eb_prs_run(char *text, char *why, size_t whylen)
{
	struct eb_pyrandom r;
	char *line = text, *next, *f[EB_PRS_MAX_FIELDS];
	int lineno = 0, nops = 0, seeded = 0, ended = 0, nf;

	for (; line && *line; line = next) {
		char got[1024];

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (ended) {
			snprintf(why, whylen, "line %d: text after 'end'", lineno);
			return -1;
		}
		nf = eb_prs_split(line, f, EB_PRS_MAX_FIELDS);
		if (nf == 0)
			goto bad;
		got[0] = '\0';
		if (!strcmp(f[0], "seed") && nf == 2) {
			uint32_t w[EB_PRS_MAX_WORDS];
			int nw = eb_prs_dec_words(f[1], w, EB_PRS_MAX_WORDS);

			if (nw < 0)
				goto bad;
			eb_pyrandom_seed_words(&r, w, (size_t)nw);
			seeded = 1;
			nops++;
			continue;
		}
		if (!strcmp(f[0], "end") && nf == 2) {
			uint64_t want;

			if (eb_prs_u64(f[1], &want) || want != (uint64_t)nops) {
				snprintf(why, whylen, "line %d: 'end %s' but %d operations", lineno,
					 f[1], nops);
				return -1;
			}
			ended = 1;
			continue;
		}
		if (!seeded) {
			snprintf(why, whylen, "line %d: operation before any seed", lineno);
			return -1;
		}
		if (!strcmp(f[0], "u32") && nf == 2) {
			snprintf(got, sizeof(got), "%" PRIu32, eb_pyrandom_u32(&r));
			if (strcmp(got, f[1]))
				goto mismatch;
		} else if (!strcmp(f[0], "skip") && nf == 3) {
			uint64_t count, i;
			uint32_t v = 0;

			if (eb_prs_u64(f[1], &count))
				goto bad;
			for (i = 0; i < count; i++)
				v = eb_pyrandom_u32(&r);
			snprintf(got, sizeof(got), "%" PRIu32, v);
			if (strcmp(got, f[2]))
				goto mismatch;
		} else if (!strcmp(f[0], "bits") && nf == 3) {
			uint32_t w[EB_PRS_MAX_WORDS];
			uint64_t k;

			if (eb_prs_u64(f[1], &k) || k > 32u * EB_PRS_MAX_WORDS)
				goto bad;
			memset(w, 0, sizeof(w));
			if (k <= 64) {
				/* the uint64 form, as callers use it */
				uint64_t v = eb_pyrandom_getrandbits(&r, (unsigned)k);

				w[0] = (uint32_t)v;
				w[1] = (uint32_t)(v >> 32);
			} else {
				eb_pyrandom_getrandbits_words(&r, (size_t)k, w);
			}
			eb_prs_hex(w, EB_PRS_MAX_WORDS, got, sizeof(got));
			if (strcmp(got, f[2]))
				goto mismatch;
		} else if (!strcmp(f[0], "randbelow") && nf == 3) {
			uint64_t n;

			if (eb_prs_u64(f[1], &n))
				goto bad;
			snprintf(got, sizeof(got), "%" PRIu64, eb_pyrandom_randbelow(&r, n));
			if (strcmp(got, f[2]))
				goto mismatch;
		} else if (!strcmp(f[0], "randint") && nf == 4) {
			int64_t a, b, v;

			if (eb_prs_i64(f[1], &a) || eb_prs_i64(f[2], &b))
				goto bad;
			if (eb_pyrandom_randint(&r, a, b, &v, NULL))
				goto bad;
			snprintf(got, sizeof(got), "%" PRId64, v);
			if (strcmp(got, f[3]))
				goto mismatch;
		} else if (!strcmp(f[0], "random") && nf == 2) {
			char *end;
			double want = strtod(f[1], &end), v = eb_pyrandom_random(&r);

			if (*end)
				goto bad;
			snprintf(got, sizeof(got), "%.17g", v);
			if (v != want)
				goto mismatch;
		} else {
			goto bad;
		}
		nops++;
		continue;
mismatch:
		snprintf(why, whylen, "line %d: %s: got %s, want %s", lineno, f[0], got,
			 f[nf - 1]);
		return -1;
bad:
		snprintf(why, whylen, "line %d: cannot parse '%s'", lineno, nf > 0 ? f[0] : "");
		return -1;
	}
	if (!ended) {
		snprintf(why, whylen, "no 'end' line (truncated output?)");
		return -1;
	}
	return nops;
}

#endif
