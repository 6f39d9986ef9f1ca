/* check_pyrandom.c: eb_pyrandom against sequences CPython printed (tests/data/pyrandom). */
/* ctest: labels=unit timeout=60 */
#include "testutil.h"

#include "pyrandom.h"
#include "eb_util.h"
#include "pyrandom_script.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* expected.txt is gen.py's output, stored; replay all of it. */
START_TEST(test_expected_script)
{
	char path[4096], why[2048];
	struct eb_err err;
	char *text = NULL;
	size_t len;
	int n;

	eb_test_data("pyrandom/expected.txt", path, sizeof(path));
	ck_assert_msg(eb_read_file(path, 1u << 20, &text, &len, &err) == 0, "%s", err.msg);
	n = eb_prs_run(text, why, sizeof(why));
	ck_assert_msg(n > 0, "expected.txt: %s", why);
	ck_assert_int_ge(n, 150);
	free(text);
}
END_TEST

/* Two generators agree on the next `n` outputs. */
static int eb_same_stream(struct eb_pyrandom *a, struct eb_pyrandom *b, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (eb_pyrandom_u32(a) != eb_pyrandom_u32(b))
			return 0;
	return 1;
}

START_TEST(test_seed_forms)
{
	static const uint32_t five[] = { 5, 0, 0 };
	static const uint32_t two63[] = { 0, 0x80000000u };
	static const uint32_t zero[] = { 0 };
	struct eb_pyrandom a, b;

	/* random.seed(0); random.getrandbits(32) == 3626764237 */
	eb_pyrandom_seed_u64(&a, 0);
	ck_assert_uint_eq(eb_pyrandom_u32(&a), 3626764237u);
	eb_pyrandom_seed_i64(&a, 0);
	eb_pyrandom_seed_words(&b, zero, 1);
	ck_assert(eb_same_stream(&a, &b, 700));
	eb_pyrandom_seed_words(&a, NULL, 0);
	eb_pyrandom_seed_u64(&b, 0);
	ck_assert(eb_same_stream(&a, &b, 10));

	/* high zero words are dropped, as CPython keys with bits(|a|) words */
	eb_pyrandom_seed_words(&a, five, 3);
	eb_pyrandom_seed_u64(&b, 5);
	ck_assert(eb_same_stream(&a, &b, 10));

	/* |a| is used */
	eb_pyrandom_seed_i64(&a, -12345);
	eb_pyrandom_seed_u64(&b, 12345);
	ck_assert(eb_same_stream(&a, &b, 10));
	eb_pyrandom_seed_i64(&a, INT64_MIN);
	eb_pyrandom_seed_words(&b, two63, 2);
	ck_assert(eb_same_stream(&a, &b, 10));
	eb_pyrandom_seed_u64(&a, UINT64_C(1) << 63);
	eb_pyrandom_seed_words(&b, two63, 2);
	ck_assert(eb_same_stream(&a, &b, 10));
}
END_TEST

START_TEST(test_edges)
{
	struct eb_pyrandom a, b;
	struct eb_err err;
	int64_t v = 42;
	int i;

	eb_pyrandom_seed_u64(&a, 0);
	eb_pyrandom_seed_u64(&b, 0);
	/* getrandbits(0) and randbelow(0) draw nothing */
	ck_assert_uint_eq(eb_pyrandom_getrandbits(&a, 0), 0);
	ck_assert_uint_eq(eb_pyrandom_randbelow(&a, 0), 0);
	eb_pyrandom_getrandbits_words(&a, 0, NULL);
	ck_assert(eb_same_stream(&a, &b, 3));
	/* randbelow(1) draws one 1-bit word until it is 0 */
	ck_assert_uint_eq(eb_pyrandom_randbelow(&a, 1), 0);
	/* k > 64 in the uint64 form is getrandbits(64) */
	eb_pyrandom_seed_u64(&a, 7);
	eb_pyrandom_seed_u64(&b, 7);
	ck_assert_uint_eq(eb_pyrandom_getrandbits(&a, 1000), eb_pyrandom_getrandbits(&b, 64));
	ck_assert(eb_same_stream(&a, &b, 3));

	ck_assert_int_eq(eb_pyrandom_randint(&a, 5, 4, &v, &err), EB_EINVAL);
	ck_assert_str_eq(err.msg, "empty range for randint(5, 4)");
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(eb_pyrandom_randint(&a, INT64_MIN, INT64_MIN, &v, &err), 0);
	ck_assert(v == INT64_MIN);
	for (i = 0; i < 1000; i++) {
		double x = eb_pyrandom_random(&a);

		ck_assert(x >= 0.0 && x < 1.0);
		ck_assert_int_eq(eb_pyrandom_randint(&a, -3, 3, &v, NULL), 0);
		ck_assert(v >= -3 && v <= 3);
	}
}
END_TEST

static Suite *eb_pyrandom_suite(void)
{
	Suite *s = suite_create("pyrandom");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_expected_script);
	tcase_add_test(tc, test_seed_forms);
	tcase_add_test(tc, test_edges);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_pyrandom_suite());
}
