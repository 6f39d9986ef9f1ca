/* eb_regex.h: regexes from configs run with a bound on their work (PCRE2 with match and depth limits). */
#ifndef EB_REGEX_H
#define EB_REGEX_H

#include <stddef.h>

/*
 * Work one match may do before it gives up: PCRE2's match limit (backtracking steps,
 * counted afresh at each start position) and depth limit (nested backtracking points).
 * A backreference makes a backtracking engine exponential and glibc's POSIX matcher
 * quadratic in the line even without one; these limits bound either.
 */
#define EB_REGEX_MATCH_LIMIT 100000u
#define EB_REGEX_DEPTH_LIMIT 1000u
/* Bytes of a line a regex looks at; longer lines are cut (the rest is not matched). */
#define EB_REGEX_SUBJECT_MAX ((size_t)4096)

/* A compiled pattern; owns its PCRE2 code and match data until eb_regex_release(). */
struct eb_regex {
	void *code;  /* pcre2_code * */
	void *mctx;  /* pcre2_match_context *: the limits */
	void *md;    /* pcre2_match_data * */
	unsigned n_groups;
};

/*
 * Compiles `pattern` (PCRE2 syntax, which takes the POSIX extended regexes configs were
 * written with: groups, alternation, classes, [[:digit:]]; bytes, not UTF-8). Returns 0,
 * or -1 with PCRE2's reason and the offset in `why` (n bytes); then `re` needs no release.
 */
int eb_regex_compile(struct eb_regex *re, const char *pattern, char *why, size_t n);

void eb_regex_release(struct eb_regex *re);

/*
 * Matches the first EB_REGEX_SUBJECT_MAX bytes of `s` (NUL-terminated). Returns 1 on a
 * match with *m, *n the first group (else the whole match) when m is not NULL; 0 for no
 * match; -1 when it gave up at a limit (treat as no match, and say so).
 */
int eb_regex_match(const struct eb_regex *re, const char *s, const char **m, size_t *n);

#endif
