/* regex.c: bounded regex matching on PCRE2 (see eb_regex.h). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "eb_regex.h"

#include <pcre2.h>
#include <stdio.h>
#include <string.h>

int eb_regex_compile(struct eb_regex *re, const char *pattern, char *why, size_t n)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off = 0;
	int code = 0;

	memset(re, 0, sizeof(*re));
	re->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
	if (!re->code) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(why, n, "%s at offset %zu", (const char *)msg, (size_t)off);
		return -1;
	}
	re->mctx = pcre2_match_context_create(NULL);
	re->md = pcre2_match_data_create_from_pattern(re->code, NULL);
	if (!re->mctx || !re->md) {
		eb_regex_release(re);
		snprintf(why, n, "out of memory");
		return -1;
	}
	pcre2_set_match_limit(re->mctx, EB_REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(re->mctx, EB_REGEX_DEPTH_LIMIT);
	pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &re->n_groups);
	return 0;
}

void eb_regex_release(struct eb_regex *re)
{
	pcre2_match_data_free(re->md);
	pcre2_match_context_free(re->mctx);
	pcre2_code_free(re->code);
	memset(re, 0, sizeof(*re));
}

int eb_regex_match(const struct eb_regex *re, const char *s, const char **m, size_t *n)
{
	size_t len = strnlen(s, EB_REGEX_SUBJECT_MAX);
	PCRE2_SIZE *ov;
	int rc;

	rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, 0, re->md, re->mctx);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0)
		return -1; /* a limit, or a heap limit: the work bound held */
	if (m) {
		unsigned g = re->n_groups >= 1 && rc >= 2 ? 1 : 0;

		ov = pcre2_get_ovector_pointer(re->md);
		if (ov[2 * g] == PCRE2_UNSET)
			g = 0;
		*m = s + ov[2 * g];
		*n = (size_t)(ov[2 * g + 1] - ov[2 * g]);
	}
	return 1;
}
