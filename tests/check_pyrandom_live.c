/* check_pyrandom_live.c: re-runs tests/data/pyrandom/gen.py under python3 and replays it in C. */
/* ctest: labels=unit timeout=60 */
#include "testutil.h"

#include "pyrandom.h"
#include "eb_proc.h"
#include "eb_util.h"
#include "pyrandom_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Skipped when python3 cannot be run here (this machine's CPython is then not a
 * witness; expected.txt still is, through check_pyrandom).
 */
START_TEST(test_live_python)
{
	char gen[4096], path[4096], why[2048];
	const char *argv[3];
	struct eb_err err;
	char *out = NULL, *stored = NULL;
	size_t len;
	int rc, n, same;

	eb_test_data("pyrandom/gen.py", gen, sizeof(gen));
	argv[0] = "python3";
	argv[1] = gen;
	argv[2] = NULL;
	rc = eb_proc_capture(argv, 0, 1u << 20, &out, &err);
	if (rc < 0)
		EB_TEST_SKIP("python3 not available (%s)", err.msg);
	ck_assert_msg(rc == 0, "python3 gen.py exited with %d", rc);

	/* the stored copy must be what this CPython prints today (compared before the
	 * replay, which splits `out` in place) */
	eb_test_data("pyrandom/expected.txt", path, sizeof(path));
	ck_assert_msg(eb_read_file(path, 1u << 20, &stored, &len, &err) == 0, "%s", err.msg);
	same = strcmp(out, stored) == 0;

	n = eb_prs_run(out, why, sizeof(why));
	ck_assert_msg(n > 0, "gen.py output: %s", why);
	ck_assert_msg(same, "expected.txt is stale: regenerate it (python3 gen.py > expected.txt)");
	free(stored);
	free(out);
}
END_TEST

static Suite *eb_pyrandom_live_suite(void)
{
	Suite *s = suite_create("pyrandom_live");
	TCase *tc = tcase_create("python3");

	tcase_add_test(tc, test_live_python);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_pyrandom_live_suite());
}
