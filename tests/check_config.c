/* ctest: labels=unit timeout=60 */
/* check_config.c: config validation (data-driven cases), env expansion and plan expansion. */
#include "config.h"
#include "plan.h"
#include "eb_util.h"
#include "testutil.h"

#include <dirent.h>
#include <math.h>
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

/* Loads `text`, written as `name`, which must fail: its error lines (the caller frees them). */
static char *eb_load_errors(const char *name, const char *text, char *path, size_t n)
{
	char *errors = NULL;
	struct eb_config cfg;
	struct eb_err err;

	eb_write_tmp(name, text, path, n);
	ck_assert_int_eq(eb_config_load(&cfg, path, &errors, &err), EB_ECONFIG);
	eb_config_release(&cfg);
	return errors;
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
	char *errors = eb_load_errors("multi.json", text, path, sizeof(path));

	snprintf(want, sizeof(want),
		 "%s:2:11: name: expected a string, got an integer\n"
		 "%s:3:14: targets: must not be empty\n"
		 "%s:5:67: workloads.latency.gen_tokens: 1 is out of range 2..1000000\n"
		 "%s:6:3: bogus: unknown key \"bogus\"\n",
		 path, path, path, path);
	ck_assert_str_eq(errors, want);
	free(errors);
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

/* Load cells: one per concurrency, then one per rate, keyed cN and rR ("rinf"). */
START_TEST(plan_load_keys)
{
	static const char *const want[] = {
		"srv/m/q4_0/load/c1", "srv/m/q4_0/load/c4", "srv/m/q4_0/load/r2",
		"srv/m/q4_0/load/r0.5", "srv/m/q4_0/load/rinf",
	};
	char dir[4096], path[8192], *errors = NULL;
	struct eb_config cfg;
	struct eb_plan plan;
	struct eb_err err;

	snprintf(path, sizeof(path), "%s/load_ok/config.json",
		 eb_test_data("config", dir, sizeof(dir)));
	ck_assert_msg(eb_config_load(&cfg, path, &errors, &err) == 0, "%s", errors);
	ck_assert_int_eq(cfg.load.gamma, 1);
	ck_assert(cfg.load.burstiness == 0.5);
	ck_assert_int_eq(cfg.load.prompt.dist, EB_LEN_UNIFORM);
	ck_assert_int_eq(cfg.load.gen.dist, EB_LEN_NORMAL);
	ck_assert_int_eq(cfg.load.gen.min, 4);
	ck_assert(cfg.load.slo_ttft_ms == 2000 && cfg.load.slo_tpot_ms == 100);
	ck_assert(isnan(cfg.load.slo_itl_ms) && isnan(cfg.load.slo_e2e_ms));
	ck_assert_int_eq(eb_plan_build(&plan, &cfg, NULL, &err), 0);
	ck_assert_uint_eq(plan.n, 5);
	for (size_t i = 0; i < plan.n; i++) {
		ck_assert_str_eq(plan.cells[i].key, want[i]);
		ck_assert_str_eq(plan.cells[i].workload, "load");
		ck_assert_int_eq(plan.cells[i].prompt_tokens, -1); /* drawn per request */
	}
	ck_assert_int_eq(plan.cells[1].concurrency, 4);
	ck_assert(plan.cells[3].rate == 0.5);
	ck_assert(isinf(plan.cells[4].rate));
	eb_plan_release(&plan);
	eb_config_release(&cfg);
}
END_TEST

/* The default `edgebench validate --schema` shows for `key`, as a number. */
static double eb_schema_default(const char *schema, const char *key)
{
	char row[256];
	const char *p;
	int col = 0;

	snprintf(row, sizeof(row), "| `%s` |", key);
	p = strstr(schema, row);
	ck_assert_msg(p != NULL, "no schema row for %s", key);
	for (; *p && col < 4; p++) /* | key | type | required | default | */
		col += *p == '|';
	while (*p == ' ')
		p++;
	if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0)
		return *p == 't';
	ck_assert_msg(*p == '-' || (*p >= '0' && *p <= '9'), "%s: no numeric default", key);
	return strtod(p, NULL);
}

/* What the loaded config holds for an omitted key is the default the reference shows. */
START_TEST(defaults_from_the_table)
{
	static const char text[] =
		"{ \"name\": \"d\",\n"
		"  \"targets\": [ { \"id\": \"cpu\", \"adapter\": \"llamacpp\" } ],\n"
		"  \"models\": [ { \"id\": \"a\", \"variants\": [ { \"quant\": \"f16\", \"file\": \"a\",\n"
		"                \"synth\": { \"shape\": \"tiny\" } } ] } ],\n"
		"  \"workloads\": {\n"
		"    \"latency\": { \"prompt_tokens\": [16], \"gen_tokens\": 4 },\n"
		"    \"accuracy\": { \"tasks\": [ { \"task\": \"c4\", \"protocol\": \"c4-gptq\" },\n"
		"                                { \"task\": \"ppl\", \"protocol\": \"kld\" } ],\n"
		"                    \"kld\": { \"reference\": \"f16\" } } },\n"
		"  \"power\": {} }\n";
	char path[8192], *errors = NULL, *schema = NULL;
	size_t schema_len = 0;
	FILE *f = open_memstream(&schema, &schema_len);
	struct eb_config cfg;
	struct eb_err err;
	const struct eb_cfg_acc_task *c4, *kld;

	eb_config_print_schema(f);
	fclose(f);
	eb_write_tmp("defaults.json", text, path, sizeof(path));
	ck_assert_msg(eb_config_load(&cfg, path, &errors, &err) == 0, "%s", errors);
	ck_assert_int_eq(cfg.latency.warmup,
			 (int)eb_schema_default(schema, "workloads.latency.warmup"));
	ck_assert_int_eq(cfg.latency.repetitions,
			 (int)eb_schema_default(schema, "workloads.latency.repetitions"));
	ck_assert_uint_eq(cfg.latency.seed,
			  (uint64_t)eb_schema_default(schema, "workloads.latency.seed"));
	ck_assert_double_eq(cfg.latency.temperature,
			    eb_schema_default(schema, "workloads.latency.temperature"));
	ck_assert_int_eq(cfg.latency.distinct_prompts, 0); /* "same" */
	ck_assert_uint_eq(cfg.models[0].variants[0].synth_seed,
			  (uint64_t)eb_schema_default(schema, "models[].variants[].synth.seed"));
	ck_assert_uint_eq(cfg.accuracy.n_tasks, 2);
	c4 = &cfg.accuracy.tasks[0];
	kld = &cfg.accuracy.tasks[1];
	ck_assert_int_eq(c4->seqlen,
			 (long long)eb_schema_default(schema, "workloads.accuracy.tasks[].seqlen"));
	ck_assert_int_eq(c4->n_samples, (long long)eb_schema_default(
						schema, "workloads.accuracy.tasks[].n_samples"));
	ck_assert_int_eq(c4->seed,
			 (long long)eb_schema_default(schema, "workloads.accuracy.tasks[].seed"));
	ck_assert_int_eq(kld->n_ctx,
			 (long long)eb_schema_default(schema, "workloads.accuracy.tasks[].n_ctx"));
	ck_assert_int_eq(c4->bos, (int)eb_schema_default(schema, "workloads.accuracy.tasks[].bos"));
	ck_assert_int_eq(c4->limit, 0);   /* "all" */
	ck_assert_int_eq(c4->n_batch, 0); /* "the target's" */
	ck_assert_uint_eq(cfg.power.opts.interval_ms,
			  (unsigned)eb_schema_default(schema, "power.interval_ms"));
	ck_assert_double_eq(cfg.power.opts.idle_s, eb_schema_default(schema, "power.idle_s"));
	ck_assert_double_eq(cfg.power.opts.cooldown_s,
			    eb_schema_default(schema, "power.cooldown_s"));
	ck_assert_double_eq(cfg.power.opts.cooldown_below_c,
			    eb_schema_default(schema, "power.cooldown_below_c"));
	ck_assert_double_eq(cfg.power.opts.cooldown_timeout_s,
			    eb_schema_default(schema, "power.cooldown_timeout_s"));
	ck_assert_int_eq(cfg.power.store_samples,
			 (int)eb_schema_default(schema, "power.store_samples"));
	eb_config_release(&cfg);
	free(schema);
}
END_TEST

/* Every problem of a sensor's options is listed, each at its own key path. */
START_TEST(sensor_options_every_problem)
{
	static const char text[] =
		"{ \"name\": \"s\",\n"
		"  \"targets\": [ { \"id\": \"cpu\", \"adapter\": \"llamacpp\" } ],\n"
		"  \"models\": [ { \"id\": \"a\", \"variants\": [ { \"quant\": \"f16\", \"file\": \"a\" } ] } ],\n"
		"  \"workloads\": { \"latency\": { \"prompt_tokens\": [16], \"gen_tokens\": 4 } },\n"
		"  \"sensors\": [ { \"kind\": \"cmd\", \"options\": { \"argv\": [\"true\"],\n"
		"                  \"unit\": \"kW\", \"window_ms\": -1, \"argv0\": 1 } } ] }\n";
	char path[8192], want[9000];
	char *errors = eb_load_errors("sensors.json", text, path, sizeof(path));

	snprintf(want, sizeof(want),
		 "%s:6:27: sensors[0].options.unit: 'kW' is not one of 'W', 'mW', 'uW'\n"
		 "%s:6:46: sensors[0].options.window_ms: -1 is out of range [0, 3.6e+06]\n"
		 "%s:6:50: sensors[0].options.argv0: unknown option 'argv0' for sensor 'cmd'; "
		 "did you mean 'argv'?\n",
		 path, path, path);
	ck_assert_str_eq(errors, want);
	free(errors);
}
END_TEST

/*
 * A config of `nt` targets, `nm` models of `nv` variants and prompt lengths 1..np (then 1
 * again, a repeat the plan drops): nt * nm * nv * np cells from a few kilobytes.
 */
static void eb_big_cfg(char *path, size_t n, int nt, int nm, int nv, int np)
{
	struct eb_buf b;

	eb_buf_init(&b, 0);
	eb_buf_addstr(&b, "{ \"name\": \"big\", \"targets\": [");
	for (int t = 0; t < nt; t++)
		eb_buf_addf(&b, "%s{ \"id\": \"t%d\", \"adapter\": \"llamacpp\" }", t ? ", " : "",
			    t);
	eb_buf_addstr(&b, "], \"models\": [");
	for (int m = 0; m < nm; m++) {
		eb_buf_addf(&b, "%s{ \"id\": \"m%d\", \"variants\": [", m ? ", " : "", m);
		for (int v = 0; v < nv; v++)
			eb_buf_addf(&b, "%s{ \"quant\": \"q%d\", \"file\": \"f\" }", v ? ", " : "",
				    v);
		eb_buf_addstr(&b, "] }");
	}
	eb_buf_addstr(&b, "], \"workloads\": { \"latency\": { \"prompt_tokens\": [");
	for (int p = 1; p <= np; p++)
		eb_buf_addf(&b, "%d, ", p);
	eb_buf_addstr(&b, "1], \"gen_tokens\": 4 } } }\n");
	eb_write_tmp("big.json", b.buf, path, n);
	eb_buf_release(&b);
}

/* 100,000 combinations (the cap) expand in well under the tcase's 10 s: the repeat check is
 * linear. */
START_TEST(plan_expansion_linear)
{
	char path[8192], *errors = NULL;
	struct eb_config cfg;
	struct eb_plan plan;
	struct eb_err err;

	eb_big_cfg(path, sizeof(path), 10, 10, 10, 99);
	ck_assert_msg(eb_config_load(&cfg, path, &errors, &err) == 0, "%s", errors);
	ck_assert_int_eq(eb_plan_build(&plan, &cfg, NULL, &err), 0);
	ck_assert_uint_eq(plan.n, 99000);
	ck_assert_str_eq(plan.cells[0].key, "t0/m0/q0/latency/p1-g4");
	ck_assert_str_eq(plan.cells[98999].key, "t9/m9/q9/latency/p99-g4");
	eb_plan_release(&plan);
	eb_config_release(&cfg);
}
END_TEST

/* A 10 KB config of a million cells is refused at once, naming the count and its factors. */
START_TEST(plan_too_many_cells)
{
	char path[8192], *errors = NULL;
	struct eb_config cfg;
	struct eb_plan plan;
	struct eb_err err;

	eb_big_cfg(path, sizeof(path), 10, 10, 10, 1000);
	ck_assert_msg(eb_config_load(&cfg, path, &errors, &err) == 0, "%s", errors);
	ck_assert_int_eq(eb_plan_build(&plan, &cfg, NULL, &err), EB_ECONFIG);
	ck_assert_msg(strstr(err.msg, "1001000 cells") && strstr(err.msg, "limit is 100000") &&
			      strstr(err.msg, "10 targets") && strstr(err.msg, "100 variants") &&
			      strstr(err.msg, "1001 latency.prompt_tokens"),
		      "%s", err.msg);
	/* the cap is on what the config expands to: --only does not lift it */
	ck_assert_int_eq(eb_plan_build(&plan, &cfg, "t0/m0/*", &err), EB_ECONFIG);
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
	tcase_add_test(tc, plan_load_keys);
	tcase_add_test(tc, defaults_from_the_table);
	tcase_add_test(tc, sensor_options_every_problem);
	suite_add_tcase(s, tc);
	tc = tcase_create("plan_bounds");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, plan_expansion_linear);
	tcase_add_test(tc, plan_too_many_cells);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
