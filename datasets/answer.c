/* answer.c: stop strings and the multiple-choice letter of a generated reply (rules in answer.h). */
#include "answer.h"

#include <string.h>
#include <strings.h>

size_t eb_answer_until(const char *reply, const char *const *stops)
{
	size_t end = strlen(reply);

	for (size_t k = 0; stops && stops[k]; k++) {
		const char *at;

		if (!stops[k][0])
			continue;
		at = strstr(reply, stops[k]);
		if (at && (size_t)(at - reply) < end)
			end = (size_t)(at - reply);
	}
	return end;
}

static int eb_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int eb_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static char eb_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* The index of letter c (either case) among n choices, or -1. */
static int eb_letter_index(char c, int n)
{
	char u = eb_upper(c);

	return u >= 'A' && u < 'A' + n ? u - 'A' : -1;
}

/* s[i] is a letter of the choices standing alone within s[0..n). */
static int eb_standalone(const char *s, size_t n, size_t i, int n_choices)
{
	return eb_letter_index(s[i], n_choices) >= 0 && (i == 0 || !eb_is_alnum(s[i - 1])) &&
	       (i + 1 == n || !eb_is_alnum(s[i + 1]));
}

/* Rule 1: "answer", its fillers, then a standalone letter. */
static int eb_rule_answer(const char *s, size_t n, int n_choices)
{
	for (size_t i = 0; i + 6 <= n; i++) {
		size_t j = i + 6;

		if (strncasecmp(s + i, "answer", 6) != 0 || (i > 0 && eb_is_alnum(s[i - 1])))
			continue;
		for (;;) {
			if (j < n && (eb_is_space(s[j]) || strchr(":-*(", s[j])))
				j++;
			else if (j + 2 <= n && strncasecmp(s + j, "is", 2) == 0 &&
				 (j + 2 == n || !eb_is_alnum(s[j + 2])))
				j += 2;
			else
				break;
		}
		if (j < n && eb_standalone(s, n, j, n_choices))
			return eb_letter_index(s[j], n_choices);
	}
	return -1;
}

/* Rule 2: the reply opens with a letter set off as a label. */
static int eb_rule_label(const char *s, size_t n, int n_choices)
{
	size_t i = 0;

	while (i < n && (s[i] == '(' || s[i] == '*'))
		i++;
	if (i >= n || eb_letter_index(s[i], n_choices) < 0)
		return -1;
	if (i + 1 == n || strchr(".):,]*\n", s[i + 1]))
		return eb_letter_index(s[i], n_choices);
	return -1;
}

int eb_answer_letter(const char *reply, int n_choices, const char **rule)
{
	const char *why = "none";
	size_t n = strlen(reply);
	int got = -1;

	if (n_choices < 1 || n_choices > EB_ANSWER_MAX_CHOICES)
		n_choices = 0;
	while (n && eb_is_space(*reply)) {
		reply++;
		n--;
	}
	while (n && eb_is_space(reply[n - 1]))
		n--;
	got = eb_rule_answer(reply, n, n_choices);
	if (got >= 0) {
		why = "answer";
		goto out;
	}
	got = eb_rule_label(reply, n, n_choices);
	if (got >= 0) {
		why = "label";
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		int k;

		if (reply[i] < 'A' || reply[i] > 'Z' || !eb_standalone(reply, n, i, n_choices))
			continue;
		k = eb_letter_index(reply[i], n_choices);
		if (got >= 0 && k != got) {
			got = -1;
			why = "ambiguous";
			break;
		}
		got = k;
		why = "only";
	}
out:
	if (rule)
		*rule = why;
	return got;
}
