/* ctest: labels=unit timeout=60 */
/* check_config.c: config validation (data-driven cases), env expansion and plan expansion. */
#include "config.h"
#include "plan.h"
#include "eb_util.h"
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Each tests/data/config/<case>/ holds config.json and expect: "ok N" (valid, N cells),
 * "plan: <message>" (valid but expands to nothing), or "line:col: message" — the exact
 * first error, after the file path.
 */
START_TEST(data_driven_cases)
{
	char dir[4096];
	DIR *d;
	struct dirent *de;
	int ncases = 0;

	d = opendir(eb_test_data("config", dir, sizeof(dir)));
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		char path[8192], epath[8192], *expect = NULL, *errors = NULL;
		struct eb_config cfg;
		struct eb_plan plan;
		struct eb_err err;
		size_t len;
		int rc;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/config.json", dir, de->d_name);
		snprintf(epath, sizeof(epath), "%s/%s/expect", dir, de->d_name);
		ck_assert_msg(eb_read_file(epath, 1 << 16, &expect, &len, &err) == 0, "%s", err.msg);
		if (len && expect[len - 1] == '\n')
			expect[len - 1] = '\0';
		rc = eb_config_load(&cfg, path, &errors, &err);
		if (strncmp(expect, "ok ", 3) == 0 || strncmp(expect, "plan: ", 6) == 0) {
			ck_assert_msg(rc == 0, "%s: expected valid, got: %s", de->d_name, errors);
			rc = eb_plan_build(&plan, &cfg, NULL, &err);
			if (expect[0] == 'o') {
				ck_assert_msg(rc == 0, "%s: %s", de->d_name, err.msg);
				ck_assert_msg(plan.n == strtoul(expect + 3, NULL, 10),
					      "%s: %zu cells, expected %s", de->d_name, plan.n, expect + 3);
				eb_plan_release(&plan);
			} else {
				ck_assert_msg(rc == EB_ECONFIG, "%s: expected a plan error", de->d_name);
				ck_assert_msg(strstr(err.msg, expect + 6), "%s: '%s' lacks '%s'",
					      de->d_name, err.msg, expect + 6);
			}
		} else {
			char want[8192];
			char *nl;

			ck_assert_msg(rc == EB_ECONFIG, "%s: expected an error", de->d_name);
			snprintf(want, sizeof(want), "%s:%s", path, expect);
			nl = strchr(errors, '\n');
			if (nl)
				*nl = '\0';
			ck_assert_str_eq(errors, want);
			ck_assert_str_eq(err.msg, want);
		}
		free(errors);
		free(expect);
		eb_config_release(&cfg);
		ncases++;
	}
	closedir(d);
	ck_assert_int_ge(ncases, 15);
}
END_TEST

static const char *eb_write_tmp(const char *name, const char *text, char *buf, size_t n)
{
	char dir[4096];
	struct eb_err err;

	eb_test_tmpdir("config", dir, sizeof(dir));
	snprintf(buf, n, "%s/%s", dir, name);
	ck_assert_msg(eb_write_file(buf, text, strlen(text), &err) == 0, "%s", err.msg);
	return buf;
}

START_TEST(all_errors_reported)
{
	/* three independent problems: every one is listed, in document order */
	const char *text = "{\n"
			   "  \"name\": 5,\n"
			   "  \"targets\": [],\n"
			   "  \"models\": [ { \"id\": \"m\", \"variants\": [ { \"quant\": \"q\", \"file\": \"f\" } ] } ],\n"
			   "  \"workloads\": { \"latency\": { \"prompt_tokens\": [8], \"gen_tokens\": 1 } },\n"
			   "  \"bogus\": true\n"
			   "}\n";
	char path[8192], want[9000];
	char *errors = NULL;
	struct eb_config cfg;
	struct eb_err err;

	eb_write_tmp("multi.json", text, path, sizeof(path));
	ck_assert_int_eq(eb_config_load(&cfg, path, &errors, &err), EB_ECONFIG);
	snprintf(want, sizeof(want),
		 "%s:2:11: name: expected a string, got an integer\n"
		 "%s:3:14: targets: must not be empty\n"
		 "%s:5:67: workloads.latency.gen_tokens: 1 is out of range 2..1000000\n"
		 "%s:6:3: bogus: unknown key \"bogus\"\n",
		 path, path, path, path);
	ck_assert_str_eq(errors, want);
	free(errors);
	eb_config_release(&cfg);
}
END_TEST

START_TEST(missing_file_and_env)
{
	char *errors = NULL, *out = NULL;
	struct eb_config cfg;
	struct eb_err err;

	ck_assert_int_eq(eb_config_load(&cfg, "/nonexistent/edgebench.json", &errors, &err),
			 EB_ECONFIG);
	ck_assert_str_eq(errors, "cannot open '/nonexistent/edgebench.json': No such file or directory");
	free(errors);
	eb_config_release(&cfg);

	setenv("EB_TEST_MODELS_ROOT", "/data/models", 1);
	ck_assert_int_eq(eb_config_expand_env("${EB_TEST_MODELS_ROOT}/a-${EB_TEST_MODELS_ROOT}.gguf",
					      &out, &err), 0);
	ck_assert_str_eq(out, "/data/models/a-/data/models.gguf");
	free(out);
	ck_assert_int_eq(eb_config_expand_env("no vars $HOME stays", &out, &err), 0);
	ck_assert_str_eq(out, "no vars $HOME stays");
	free(out);
	ck_assert_int_eq(eb_config_expand_env("${UNTERMINATED", &out, &err), EB_ECONFIG);
	ck_assert_str_eq(err.msg, "unterminated '${' in \"${UNTERMINATED\"");
}
END_TEST

static const char eb_plan_cfg[] =
	"{ \"name\": \"p\",\n"
	"  \"targets\": [ { \"id\": \"cpu\", \"adapter\": \"llamacpp\" },\n"
	"               { \"id\": \"gpu\", \"adapter\": \"llamacpp\" } ],\n"
	"  \"models\": [\n"
	"    { \"id\": \"a\", \"variants\": [ { \"quant\": \"f16\", \"file\": \"a16\" },\n"
	"                                  { \"quant\": \"q4_0\", \"file\": \"a4\" } ] },\n"
	"    { \"id\": \"b\", \"targets\": [\"gpu\"],\n"
	"      \"variants\": [ { \"quant\": \"q4_0\", \"file\": \"b4\" } ] } ],\n"
	"  \"workloads\": { \"latency\": { \"prompt_tokens\": [16, 64, 16], \"gen_tokens\": 4 } },\n"
	"  \"matrix\": { \"exclude\": [ { \"target\": \"gpu\", \"quant\": \"f16\" } ] } }\n";

START_TEST(plan_expansion)
{
	static const char *const want[] = {
		"cpu/a/f16/latency/p16-g4",  "cpu/a/f16/latency/p64-g4",
		"cpu/a/q4_0/latency/p16-g4", "cpu/a/q4_0/latency/p64-g4",
		"gpu/a/q4_0/latency/p16-g4", "gpu/a/q4_0/latency/p64-g4",
		"gpu/b/q4_0/latency/p16-g4", "gpu/b/q4_0/latency/p64-g4",
	};
	char path[8192], *errors = NULL;
	struct eb_config cfg;
	struct eb_plan plan;
	struct eb_err err;

	eb_write_tmp("plan.json", eb_plan_cfg, path, sizeof(path));
	ck_assert_msg(eb_config_load(&cfg, path, &errors, &err) == 0, "%s", errors);
	ck_assert_int_eq(eb_plan_build(&plan, &cfg, NULL, &err), 0);
	ck_assert_uint_eq(plan.n, 8);
	for (size_t i = 0; i < plan.n; i++)
		ck_assert_str_eq(plan.cells[i].key, want[i]);
	ck_assert_int_eq(plan.cells[0].prompt_tokens, 16);
	ck_assert_int_eq(plan.cells[0].gen_tokens, 4);
	ck_assert(eb_cell_same_model(&plan.cells[0], &plan.cells[1]));
	ck_assert(!eb_cell_same_model(&plan.cells[1], &plan.cells[2]));
	eb_plan_release(&plan);

	ck_assert_int_eq(eb_plan_build(&plan, &cfg, "gpu/*/latency/p64*", &err), 0);
	ck_assert_uint_eq(plan.n, 2);
	ck_assert_str_eq(plan.cells[0].key, "gpu/a/q4_0/latency/p64-g4");
	ck_assert_str_eq(plan.cells[1].key, "gpu/b/q4_0/latency/p64-g4");
	eb_plan_release(&plan);

	ck_assert_int_eq(eb_plan_build(&plan, &cfg, "tpu/*", &err), EB_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "no cells to run (--only 'tpu/*')"));
	eb_config_release(&cfg);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, data_driven_cases);
	tcase_add_test(tc, all_errors_reported);
	tcase_add_test(tc, missing_file_and_env);
	tcase_add_test(tc, plan_expansion);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
