/* ctest: labels=integration,models timeout=900 */
/* check_report_runs.c: reports of real runs: two devices merged into one database, the quick start's accuracy. */
#include "eb_build.h"
#include "eb_util.h"
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLES EB_SOURCE_DIR "/datasets/samples"

static char eb_dir[4096];

/*
 * A quick-start-shaped config on the tiny test models, stored under device `device`:
 * f16 and q4_0, latency at 16 and 40 prompt tokens, then perplexity, KLD against f16 and
 * HellaSwag on the project's sample datasets (a few chunks and items).
 */
static const char *eb_quick_config(const char *name, const char *device, char *buf, size_t n)
{
	const char *md = eb_test_models_dir();
	char text[8192];
	struct eb_err err;
	int len;

	len = snprintf(
		text, sizeof(text),
		"{\n"
		"  \"name\": \"%s\",\n"
		"  \"device\": { \"name\": \"%s\" },\n"
		"  \"targets\": [ { \"id\": \"cpu\", \"adapter\": \"llamacpp\",\n"
		"    \"options\": { \"threads\": 1, \"n_ctx\": 256, \"n_gpu_layers\": 0 } } ],\n"
		"  \"models\": [ { \"id\": \"tiny\", \"variants\": [\n"
		"    { \"quant\": \"f16\", \"file\": \"%s/tiny-f16.gguf\" },\n"
		"    { \"quant\": \"q4_0\", \"file\": \"%s/tiny-q4_0.gguf\" } ] } ],\n"
		"  \"workloads\": {\n"
		"    \"latency\": { \"prompt_tokens\": [16, 40], \"gen_tokens\": 8, \"warmup\": 1,\n"
		"                 \"repetitions\": 3 },\n"
		"    \"accuracy\": { \"tasks\": [\n"
		"      { \"task\": \"wikitext2\", \"protocol\": \"wikitext2-llamacpp\",\n"
		"        \"file\": \"%s/wiki.test.raw\", \"n_ctx\": 128, \"limit\": 2 },\n"
		"      { \"task\": \"hellaswag\", \"protocol\": \"hellaswag\",\n"
		"        \"file\": \"%s/hellaswag_sample.jsonl\", \"limit\": 4 },\n"
		"      { \"task\": \"kld\", \"protocol\": \"kld\",\n"
		"        \"file\": \"%s/wiki.test.raw\", \"n_ctx\": 128, \"limit\": 2 } ],\n"
		"      \"kld\": { \"reference\": \"f16\" } } }\n"
		"}\n",
		name, device, md, md, SAMPLES, SAMPLES, SAMPLES);
	ck_assert_int_lt(len, (int)sizeof(text));
	snprintf(buf, n, "%s/%s.json", eb_dir, name);
	ck_assert_msg(eb_write_file(buf, text, (size_t)len, &err) == 0, "%s", err.msg);
	return buf;
}

/* Runs edgebench with argv (after the program name); the exit code must be `want`. */
static char *eb_cmd(int want, const char *const *args)
{
	const char *argv[32] = { "edgebench" };
	char *out = NULL;
	size_t n = 1;
	int rc;

	for (size_t i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	rc = eb_test_run(argv, &out);
	ck_assert_msg(rc == want, "%s %s: exit %d (want %d): %s", argv[1], argv[2], rc, want, out);
	return out;
}

/* The quick-start-shaped run `name` on `device` into DIR/NAME.db; returns the db path. */
static const char *eb_quick_run(const char *name, const char *device, char *db, size_t n)
{
	char cfg[4200];

	eb_quick_config(name, device, cfg, sizeof(cfg));
	snprintf(db, n, "%s/%s.db", eb_dir, name);
	free(eb_cmd(0, (const char *[]){ "run", cfg, "--db", db, "--quiet", NULL }));
	return db;
}

static char eb_a[4300], eb_b[4300], eb_lab[4300];

/* The fixture, run once in the parent before the tests fork: two quick-start-shaped
 * runs, one per device, merged into lab.db. */
static void eb_two_devices(void)
{
	eb_test_tmpdir("report-runs", eb_dir, sizeof(eb_dir));
	eb_quick_run("board-a", "board A", eb_a, sizeof(eb_a));
	eb_quick_run("board-b", "board B", eb_b, sizeof(eb_b));
	snprintf(eb_lab, sizeof(eb_lab), "%s/lab.db", eb_dir);
	free(eb_cmd(0, (const char *[]){ "merge", eb_lab, eb_a, eb_b, NULL }));
}

/* A stored median of a latency cell of that device, quant and prompt length. */
static double eb_median(sqlite3 *h, const char *device, const char *quant, int prompt,
			const char *metric)
{
	return eb_test_q(h,
			 "SELECT m.median FROM metrics m JOIN cells c ON c.id = m.cell_id WHERE"
			 " c.device = '%s' AND c.quant = '%s' AND c.prompt_tokens = %d AND"
			 " c.workload = 'latency' AND m.name = '%s'",
			 device, quant, prompt, metric);
}

/* speedup pairs a variant with the baseline of its own run and device, and leaves the
 * accuracy cells out */
START_TEST(speedup_per_device)
{
	char *out;
	json_t *rows, *row;
	json_error_t je;
	sqlite3 *h;
	size_t i;

	out = eb_cmd(0, (const char *[]){ "report", "--db", eb_lab, "--run", "all", "--layout",
					  "speedup", "--baseline", "f16", "--format", "json", NULL });
	rows = json_loads(out, 0, &je);
	ck_assert_msg(rows != NULL, "%s: %s", je.text, out);
	/* one row per device and prompt length: q4_0 against f16 */
	ck_assert_int_eq(json_array_size(rows), 4);
	h = eb_test_db_open(eb_lab);
	json_array_foreach(rows, i, row) {
		const char *dev = json_string_value(json_object_get(row, "device"));
		int p = (int)json_integer_value(json_object_get(row, "prompt_tokens"));
		double bd = eb_median(h, dev, "f16", p, "decode_tps");
		double cd = eb_median(h, dev, "q4_0", p, "decode_tps");
		double bt = eb_median(h, dev, "f16", p, "ttft_ms");
		double ct = eb_median(h, dev, "q4_0", p, "ttft_ms");

		ck_assert_str_eq(json_string_value(json_object_get(row, "quant")), "q4_0");
		ck_assert_int_eq(json_integer_value(json_object_get(row, "run")),
				 strcmp(dev, "board A") == 0 ? 1 : 2);
		ck_assert_double_eq(json_real_value(json_object_get(row, "baseline_decode_tps")), bd);
		ck_assert_double_eq(json_real_value(json_object_get(row, "speedup")), cd / bd);
		ck_assert_double_eq(json_real_value(json_object_get(row, "ttft_ratio")), ct / bt);
	}
	sqlite3_close(h);
	json_decref(rows);
	free(out);
}
END_TEST

/* a card per run and device; its peak RSS from the inference cells alone */
START_TEST(card_per_device)
{
	static const char *const dev[2] = { "board A", "board B" };
	char *out;
	json_t *cards;
	json_error_t je;
	sqlite3 *h;

	out = eb_cmd(0, (const char *[]){ "report", "--db", eb_lab, "--run", "all", "--layout",
					  "card", "--format", "json", NULL });
	cards = json_loads(out, 0, &je);
	ck_assert_msg(cards != NULL, "%s: %s", je.text, out);
	ck_assert_int_eq(json_array_size(cards), 2);
	h = eb_test_db_open(eb_lab);
	for (size_t k = 0; k < 2; k++) {
		json_t *card = json_array_get(cards, k), *row;
		char title[128];
		size_t i;
		int seen = 0;

		snprintf(title, sizeof(title), "tiny on cpu, device %s, run %zu (median)", dev[k],
			 k + 1);
		ck_assert_str_eq(json_string_value(json_object_get(card, "title")), title);
		json_array_foreach(json_object_get(card, "rows"), i, row) {
			const char *m = json_string_value(json_object_get(row, "metric"));

			if (strcmp(m, "peak RSS, edgebench process") != 0)
				continue;
			seen = 1;
			/* the kld cell holds two sets of logits: its RSS is not the variant's */
			for (int q = 0; q < 2; q++) {
				const char *quant = q ? "q4_0" : "f16";

				ck_assert_double_eq(
					json_real_value(json_object_get(row, quant)),
					eb_test_q(h,
						  "SELECT max(m.mean) FROM metrics m JOIN cells c ON"
						  " c.id = m.cell_id WHERE c.device = '%s' AND"
						  " c.quant = '%s' AND c.workload = 'latency' AND"
						  " m.name = 'peak_rss_mb'",
						  dev[k], quant));
			}
		}
		ck_assert(seen);
		/* and the other device's figures never appear in this card */
		ck_assert_ptr_null(strstr(json_string_value(json_object_get(card, "title")),
					  dev[1 - k]));
	}
	sqlite3_close(h);
	json_decref(cards);
	free(out);
}
END_TEST

/* Every stored accuracy figure of the database at `db` is in the csv report as
 * ",quant,task,protocol,metric,value,stderr,n,limit,", value and stderr in their shortest
 * round-trip text, limit the task's (from the stored parameters). */
static void eb_expect_accuracy_rows(const char *db, const char *csv)
{
	sqlite3 *h = eb_test_db_open(db);
	sqlite3_stmt *st;
	int rows = 0;

	ck_assert_int_eq(sqlite3_prepare_v2(h,
					    "SELECT c.quant, a.task, a.protocol, a.metric, a.value,"
					    " a.stderr, a.n, json_extract(a.params_json, '$.limit')"
					    " FROM accuracy a JOIN cells c ON c.id = a.cell_id",
					    -1, &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char v[EB_NUM_SHORTEST_MAX], se[EB_NUM_SHORTEST_MAX], want[512];

		eb_fmt_shortest(v, sqlite3_column_double(st, 4));
		se[0] = '\0';
		if (sqlite3_column_type(st, 5) != SQLITE_NULL)
			eb_fmt_shortest(se, sqlite3_column_double(st, 5));
		snprintf(want, sizeof(want), ",%s,%s,%s,%s,%s,%s,%lld,%lld,",
			 sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
			 sqlite3_column_text(st, 2), sqlite3_column_text(st, 3), v, se,
			 (long long)sqlite3_column_int64(st, 6),
			 (long long)sqlite3_column_int64(st, 7));
		ck_assert_msg(strstr(csv, want) != NULL, "no '%s' in:\n%s", want, csv);
		rows++;
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	/* perplexity (ppl, nll_mean) of both variants, HellaSwag (acc, acc_norm) and KLD's */
	ck_assert_int_ge(rows, 8);
}

/* The quick start's default report: the latency table, then perplexity, KLD and HellaSwag
 * with stderr, what they scored and the limit; long and --metric include them. */
START_TEST(quickstart_report_shows_accuracy)
{
	char *out, *csv;

	out = eb_cmd(0, (const char *[]){ "report", "--db", eb_b, NULL });
	ck_assert_msg(strstr(out, "latency: median of each cell's measured requests\n"
				      "run  device   target  model  quant  prompt_tokens"),
		      "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\naccuracy\nrun  device   target  model  quant  task"));
	ck_assert_ptr_nonnull(strstr(out, "  wikitext2  wikitext2-llamacpp  ppl  "));
	ck_assert_ptr_nonnull(strstr(out, "  hellaswag  hellaswag           acc_norm  "));
	ck_assert_ptr_nonnull(strstr(out, "  kld        kld                 kld_mean  "));
	free(out);
	csv = eb_cmd(0, (const char *[]){ "report", "--db", eb_b, "--format", "csv", NULL });
	eb_expect_accuracy_rows(eb_b, csv);
	free(csv);

	out = eb_cmd(0, (const char *[]){ "report", "--db", eb_b, "--layout", "long", "--metric",
					  "ppl*", "--format", "csv", NULL });
	/* ppl of wikitext2 for both variants and of the kld task for q4_0 (its own ppl) */
	ck_assert_ptr_nonnull(strstr(out, ",wikitext2,ppl,,"));
	ck_assert_ptr_null(strstr(out, "acc_norm"));
	ck_assert_ptr_null(strstr(out, "ttft_ms"));
	free(out);
	out = eb_cmd(2, (const char *[]){ "report", "--db", eb_b, "--metric", "perplexity*", NULL });
	ck_assert_ptr_nonnull(strstr(out, "--metric 'perplexity*' matches no metric"));
	free(out);
}
END_TEST

/* Without --run, report shows each device's latest run: both boards of the lab
 * database; --device picks one; list counts every cell. */
START_TEST(default_run_and_list)
{
	char *out;

	out = eb_cmd(0, (const char *[]){ "report", "--db", eb_lab, "--format", "csv", NULL });
	ck_assert_ptr_nonnull(strstr(out, "\n1,board A,cpu,tiny,q4_0,40,8,ok,"));
	ck_assert_ptr_nonnull(strstr(out, "\n2,board B,cpu,tiny,q4_0,40,8,ok,"));
	free(out);
	out = eb_cmd(0, (const char *[]){ "report", "--db", eb_lab, "--device", "board A",
					  "--format", "csv", NULL });
	ck_assert_ptr_null(strstr(out, "board B"));
	ck_assert_ptr_nonnull(strstr(out, "\n1,board A,cpu,tiny,f16,16,8,ok,"));
	free(out);
	/* 4 latency and 6 accuracy cells per run (3 tasks x 2 variants) */
	out = eb_cmd(0, (const char *[]){ "list", "--db", eb_lab, NULL });
	ck_assert_msg(strstr(out, "  cells 10 (ok 10, failed 0, skipped 0)  warnings "), "%s", out);
	free(out);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("report_runs");
	const char *why = eb_test_lacks_llama();
	TCase *tc;

	if (why) { /* its fixture could not run a cell */
		eb_test_skip("report_runs", "%s", why);
		return s;
	}
	tc = tcase_create("report_runs");
	tcase_set_timeout(tc, 900);
	tcase_add_unchecked_fixture(tc, eb_two_devices, NULL);
	tcase_add_test(tc, speedup_per_device);
	tcase_add_test(tc, card_per_device);
	tcase_add_test(tc, quickstart_report_shows_accuracy);
	tcase_add_test(tc, default_run_and_list);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
