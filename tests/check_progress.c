/* ctest: labels=integration,models timeout=300 */
/* check_progress.c: `edgebench run` draws progress on a terminal (a real pty via script(1)), and only there. */
#include "eb_proc.h"
#include "eb_util.h"
#include "eb_build.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char eb_dir[4096];

/* A two-cell latency config on the tiny test model; its path into buf. */
static const char *eb_config(char *buf, size_t n)
{
	char text[4096];
	struct eb_err err;
	int len;

	len = snprintf(text, sizeof(text),
		       "{ \"name\": \"progress\",\n"
		       "  \"targets\": [ { \"id\": \"cpu\", \"adapter\": \"llamacpp\",\n"
		       "                 \"options\": { \"threads\": 1, \"n_ctx\": 256 } } ],\n"
		       "  \"models\": [ { \"id\": \"tiny\", \"variants\": [\n"
		       "    { \"quant\": \"q8_0\", \"file\": \"%s/tiny-q8_0.gguf\" } ] } ],\n"
		       "  \"workloads\": { \"latency\": { \"prompt_tokens\": [16, 32], \"gen_tokens\": 8,\n"
		       "                                \"warmup\": 1, \"repetitions\": 2 } } }\n",
		       eb_test_models_dir());
	snprintf(buf, n, "%s/progress.json", eb_dir);
	ck_assert_msg(eb_write_file(buf, text, (size_t)len, &err) == 0, "%s", err.msg);
	return buf;
}

/* Runs edgebench with args under script(1), so its stderr is a terminal; the transcript. */
static char *eb_run_pty(const char *args)
{
	char cmd[8192];
	const char *argv[] = { "script", "-qfec", cmd, "/dev/null", NULL };
	struct eb_err err;
	char *out = NULL;
	int rc;

	snprintf(cmd, sizeof(cmd), "'%s/edgebench' %s", EB_BINARY_DIR, args);
	rc = eb_proc_capture(argv, 1, 1 << 20, &out, &err);
	ck_assert_msg(rc == 0, "script -c %s: exit %d: %s", cmd, rc, out ? out : err.msg);
	return out;
}

START_TEST(progress_on_a_terminal)
{
	char cfg[4096], args[8192], *out;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_config(cfg, sizeof(cfg));
	snprintf(args, sizeof(args), "run '%s' --db '%s/tty.db'", cfg, eb_dir);
	out = eb_run_pty(args);
	/* each cell i/n with its key, the repetition (warm-ups marked), an ETA once one cell
	 * has finished, and the line cleared before the summary */
	ck_assert_msg(strstr(out, "\r\033[K[1/2] cpu/tiny/q8_0/latency/p16-g8  request 1/1 "
				  "(warm-up)  ETA ?") != NULL,
		      "%s", out);
	ck_assert_msg(strstr(out, "\r\033[K[1/2] cpu/tiny/q8_0/latency/p16-g8  request 2/2  ETA ?") !=
			      NULL,
		      "%s", out);
	ck_assert_msg(strstr(out, "\r\033[K[2/2] cpu/tiny/q8_0/latency/p32-g8  request 1/2  ETA 0:0") !=
			      NULL,
		      "%s", out);
	ck_assert_msg(strstr(out, "\r\033[Kedgebench: run 1 (") != NULL, "%s", out);
	free(out);

	/* --quiet: nothing drawn, even on a terminal */
	snprintf(args, sizeof(args), "run '%s' --db '%s/quiet.db' --quiet", cfg, eb_dir);
	out = eb_run_pty(args);
	ck_assert_msg(strstr(out, "\033[K") == NULL && strstr(out, "[1/2]") == NULL, "%s", out);
	free(out);
}
END_TEST

START_TEST(no_progress_into_a_pipe)
{
	char cfg[4096], db[4096], *out = NULL;
	const char *argv[] = { "edgebench", "run", cfg, "--db", db, NULL };

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_config(cfg, sizeof(cfg));
	snprintf(db, sizeof(db), "%s/pipe.db", eb_dir);
	ck_assert_int_eq(eb_test_run(argv, &out), 0);
	ck_assert_msg(strstr(out, "\033[K") == NULL && strstr(out, "[1/2]") == NULL, "%s", out);
	ck_assert_msg(strstr(out, "2 cells: 2 ok, 0 failed, 0 skipped") != NULL, "%s", out);
	free(out);
}
END_TEST

static void eb_setup(void)
{
	eb_test_tmpdir("progress", eb_dir, sizeof(eb_dir));
}

static Suite *eb_suite(void)
{
	Suite *s = suite_create("progress");
	TCase *tc = tcase_create("progress");

	tcase_add_checked_fixture(tc, eb_setup, NULL);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, progress_on_a_terminal);
	tcase_add_test(tc, no_progress_into_a_pipe);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
