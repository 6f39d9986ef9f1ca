/* ctest: labels=unit timeout=30 */
/* check_sanitize.c: the boundary sanitiser (base/eb_sanitize.h): secrets, control characters, invalid UTF-8, bounds, JSON trees. */
#include "eb_sanitize.h"
#include "testutil.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The cleaned form of n bytes of `s` under `san`, as a NUL-terminated string to free. */
static char *eb_clean(const char *s, size_t n, const struct eb_san *san)
{
	struct eb_buf b;

	eb_buf_init(&b, 0);
	eb_sanitize_into(&b, s, n, san);
	return eb_buf_detach(&b, NULL);
}

static void eb_check(const char *in, size_t n, const struct eb_san *san, const char *want)
{
	char *got = eb_clean(in, n, san);

	ck_assert_str_eq(got, want);
	ck_assert(eb_sanitize_is_clean(got, strlen(got), san ? san->flags : 0));
	free(got);
}

#define EB_CHECK(lit, san, want) eb_check(lit, sizeof(lit) - 1, san, want)

START_TEST(secrets_redacted)
{
	struct eb_san san;

	eb_san_init(&san, 0, 0);
	eb_san_secret(&san, "sk-SECRET-1234");
	eb_san_secret(&san, "hdr-token-xyz");
	eb_san_secret(&san, "sk-SECRET-1234"); /* known already */
	eb_san_secret(&san, "");
	eb_san_secret(&san, NULL);
	ck_assert_uint_eq(san.n_secrets, 2);
	EB_CHECK("Authorization: Bearer sk-SECRET-1234", &san, "Authorization: Bearer [REDACTED]");
	EB_CHECK("a sk-SECRET-1234 b hdr-token-xyz c sk-SECRET-1234", &san,
		 "a [REDACTED] b [REDACTED] c [REDACTED]");
	/* a start of one that ends the text (a quote cut short), 4 bytes or more */
	EB_CHECK("cut: sk-SEC", &san, "cut: [REDACTED]");
	EB_CHECK("ends sk-", &san, "ends sk-");
	/* redacted before control characters are replaced, so they cannot hide a copy */
	EB_CHECK("\x1bsk-SECRET-1234\x07", &san, "\\x1b[REDACTED]\\x07");
	eb_san_release(&san);
	ck_assert_uint_eq(san.n_secrets, 0);
}
END_TEST

START_TEST(control_characters_visible)
{
	struct eb_san keep;

	EB_CHECK("\x1b]0;PWNED\x07\x1b[2J", NULL, "\\x1b]0;PWNED\\x07\\x1b[2J");
	EB_CHECK("a\tb\nc\rd\x7f" "e", NULL, "a\\x09b\\x0ac\\x0dd\\x7f" "e");
	eb_check("nul\0x", 5, NULL, "nul\\x00x");
	/* C1 controls (U+0080..U+009F, two bytes in UTF-8): CSI and OSC */
	EB_CHECK("\xc2\x9b" "2J \xc2\x9d" "0;x", NULL, "\\u009b2J \\u009d0;x");
	eb_san_init(&keep, EB_SAN_KEEP_TAB | EB_SAN_KEEP_NL, 0);
	EB_CHECK("a\tb\nc\rd", &keep, "a\tb\nc\\x0dd");
	eb_san_release(&keep);
	/* text that needs nothing is unchanged, UTF-8 included */
	EB_CHECK("llama-3.2 藤 Ünïcödé 😀", NULL, "llama-3.2 藤 Ünïcödé 😀");
}
END_TEST

START_TEST(invalid_utf8_replaced)
{
	EB_CHECK("a\xff" "b", NULL, "a\xef\xbf\xbd" "b");
	EB_CHECK("\x80\xbf", NULL, "\xef\xbf\xbd\xef\xbf\xbd");       /* stray continuations */
	EB_CHECK("\xc0\xaf", NULL, "\xef\xbf\xbd\xef\xbf\xbd");       /* overlong '/' */
	EB_CHECK("\xe0\x80\xaf", NULL, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	EB_CHECK("\xed\xa0\x80", NULL, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
	EB_CHECK("\xf4\x90\x80\x80", NULL,
		 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* past U+10FFFF */
	EB_CHECK("x\xe8\x97", NULL, "x\xef\xbf\xbd");                   /* cut sequence: one */
	EB_CHECK("\xe8\x97" "a", NULL, "\xef\xbf\xbd" "a");
	ck_assert(!eb_sanitize_is_clean("a\xff", 2, 0));
	ck_assert(!eb_sanitize_is_clean("a\x1b", 2, 0));
	ck_assert(eb_sanitize_is_clean("a\tb", 3, EB_SAN_KEEP_TAB));
}
END_TEST

START_TEST(length_bound_at_a_character)
{
	struct eb_san san;
	char msg[8];

	eb_san_init(&san, 0, 5);
	EB_CHECK("abcdefgh", &san, "abcde");
	EB_CHECK("ab藤cd", &san, "ab藤");   /* 2 + 3 bytes */
	EB_CHECK("abc藤", &san, "abc");     /* the character does not fit: left out whole */
	EB_CHECK("ab\x1b" "c", &san, "ab");  /* "\x1b" is 4 bytes */
	eb_san_release(&san);
	/* in place, cut to the buffer */
	strcpy(msg, "\x1b\x1b\x1b");
	eb_sanitize_msg(msg, sizeof(msg), NULL);
	ck_assert_str_eq(msg, "\\x1b");
}
END_TEST

START_TEST(json_tree_cleaned_copy)
{
	struct eb_san san;
	json_t *in, *out;
	char *s;

	eb_san_init(&san, EB_SAN_KEEP_TAB | EB_SAN_KEEP_NL, 0);
	eb_san_secret(&san, "sk-SECRET-1234");
	in = json_pack("{s:s, s:[s, i, f, b, n], s:{s:s}}", "model", "Bearer sk-SECRET-1234",
		       "list", "\x1b[2J", 7, 1.5, 1, "timings", "sk-SECRET-1234", "v\x07");
	ck_assert_ptr_nonnull(in);
	out = eb_sanitize_json(in, &san);
	s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_str_eq(s, "{\"list\":[\"\\\\x1b[2J\",7,1.5,true,null],\"model\":\"Bearer "
			    "[REDACTED]\",\"timings\":{\"[REDACTED]\":\"v\\\\x07\"}}");
	free(s);
	/* the input (which may be shared, as a target's options are) is left as it was */
	ck_assert_str_eq(json_string_value(json_object_get(in, "model")), "Bearer sk-SECRET-1234");
	json_decref(out);
	json_decref(in);
	/* a string with a NUL (jansson allows it) keeps its length */
	in = json_stringn("a\0b", 3);
	out = eb_sanitize_json(in, NULL);
	ck_assert_str_eq(json_string_value(out), "a\\x00b");
	json_decref(out);
	json_decref(in);
	ck_assert_ptr_null(eb_sanitize_json(NULL, &san));
	eb_san_release(&san);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("sanitize");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, secrets_redacted);
	tcase_add_test(tc, control_characters_visible);
	tcase_add_test(tc, invalid_utf8_replaced);
	tcase_add_test(tc, length_bound_at_a_character);
	tcase_add_test(tc, json_tree_cleaned_copy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
