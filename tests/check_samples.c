/* ctest: labels=integration,models timeout=600 */
/* check_samples.c: per-item accuracy records on the real binary: stored, summed back, exported, merged. */
#include "c4.h"
#include "eb_util.h"
#include "eb_build.h"
#include "eb_proc.h"
#include "testutil.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLES EB_SOURCE_DIR "/datasets/samples"

#define CPU_TARGET                                                                          \
	"{ \"id\": \"cpu\", \"adapter\": \"llamacpp\", \"options\": { \"threads\": 2, "    \
	"\"n_gpu_layers\": 0, \"n_ctx\": 512, \"n_batch\": 512 } }"

static char eb_dir[4096];

static const char *eb_variant(const char *quant, char *buf, size_t n)
{
	snprintf(buf, n, "{ \"quant\": \"%s\", \"file\": \"%s/tiny-%s.gguf\" }", quant,
		 eb_test_models_dir(), quant);
	return buf;
}

/* Writes config NAME (variants and tasks as JSON text) and runs it into DB; must exit 0. */
static void eb_run(const char *name, const char *variants, const char *tasks, const char *extra,
		   char *db, size_t n)
{
	char text[16384], cfg[4200], *out = NULL;
	struct eb_err err;
	int len, rc;

	len = snprintf(text, sizeof(text),
		       "{ \"name\": \"%s\",\n  \"targets\": [ " CPU_TARGET " ],\n"
		       "  \"models\": [ { \"id\": \"tiny\", \"variants\": [ %s ] } ],\n"
		       "  \"workloads\": { \"accuracy\": { \"tasks\": [ %s ]%s } } }\n",
		       name, variants, tasks, extra);
	ck_assert_int_lt(len, (int)sizeof(text));
	snprintf(cfg, sizeof(cfg), "%s/%s.json", eb_dir, name);
	ck_assert_msg(eb_write_file(cfg, text, (size_t)len, &err) == 0, "%s", err.msg);
	snprintf(db, n, "%s/%s.db", eb_dir, name);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--quiet", NULL };

		rc = eb_test_run(argv, &out);
		ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	}
	free(out);
}

/* A figure of a task (by cell key's task) and the n behind it. */
static double eb_fig(sqlite3 *h, const char *task, const char *metric, double *n)
{
	if (n)
		*n = eb_test_q(h, "SELECT n FROM accuracy WHERE task='%s' AND metric='%s'", task,
			       metric);
	return eb_test_q(h, "SELECT value FROM accuracy WHERE task='%s' AND metric='%s'", task,
			 metric);
}

/*
 * The records' result fields a and b (b may be NULL) of task's cells whose quant is
 * like `quant`, in item order: how many, into x[] and y[].
 */
static size_t eb_results(sqlite3 *h, const char *task, const char *quant, const char *a, const char *b, double *x,
			 double *y, size_t max)
{
	char sql[1024];
	sqlite3_stmt *st;
	size_t n = 0;

	snprintf(sql, sizeof(sql),
		 "SELECT json_extract(result_json, '$.%s'), json_extract(result_json, '$.%s')"
		 " FROM acc_samples x JOIN cells c ON c.id = x.cell_id"
		 " WHERE x.task='%s' AND c.quant LIKE '%s' ORDER BY idx",
		 a, b ? b : a, task, quant);
	ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		ck_assert_uint_lt(n, max);
		x[n] = sqlite3_column_double(st, 0);
		y[n] = sqlite3_column_double(st, 1);
		n++;
	}
	sqlite3_finalize(st);
	return n;
}

/* Every log-likelihood protocol but kld: one record per item, window, chunk or page. */
START_TEST(records_sum_back_to_the_figures)
{
	char db[4200], v[2048], tasks[4096];
	double x[4096], y[4096], n, fig, sum, sum_y;
	size_t k;
	sqlite3 *h;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_test_tmpdir("samples", eb_dir, sizeof(eb_dir));
	snprintf(tasks, sizeof(tasks),
		 "{ \"task\": \"gptq\", \"protocol\": \"wikitext2-gptq\", \"file\": \"%s\", \"seqlen\": 256, \"limit\": 3 },"
		 "{ \"task\": \"lmeval\", \"protocol\": \"wikitext2-lmeval\", \"file\": \"%s\", \"seqlen\": 256, \"limit\": 2 },"
		 "{ \"task\": \"c4new\", \"protocol\": \"c4-new\", \"file\": \"%s\", \"seqlen\": 64, \"limit\": 4 },"
		 "{ \"task\": \"c4\", \"protocol\": \"c4-gptq\", \"file\": \"%s\", \"seqlen\": 64, \"n_samples\": 4 },"
		 "{ \"task\": \"lcpp\", \"protocol\": \"wikitext2-llamacpp\", \"file\": \"%s\", \"n_ctx\": 128, \"limit\": 3 },"
		 "{ \"task\": \"hs\", \"protocol\": \"hellaswag\", \"file\": \"%s\", \"limit\": 8 },"
		 "{ \"task\": \"arc\", \"protocol\": \"arc_challenge\", \"file\": \"%s\" },"
		 "{ \"task\": \"piqa\", \"protocol\": \"piqa\", \"file\": \"%s\", \"limit\": 5 },"
		 "{ \"task\": \"wg\", \"protocol\": \"winogrande\", \"file\": \"%s\" },"
		 "{ \"task\": \"mmlu\", \"protocol\": \"mmlu\", \"file\": \"%s\" }",
		 SAMPLES "/wikitext-2-raw-v1.zip", SAMPLES "/wikitext-2-raw-v1.zip",
		 SAMPLES "/" EB_C4_SHARD, SAMPLES "/" EB_C4_SHARD, SAMPLES "/wiki.test.raw",
		 SAMPLES "/hellaswag_sample.jsonl", SAMPLES "/ARC-V1-Feb2018.zip",
		 SAMPLES "/physicaliqa-train-dev.zip", SAMPLES "/winogrande_1.1.zip",
		 SAMPLES "/data.tar");
	eb_run("all", eb_variant("q4_0", v, sizeof(v)), tasks, "", db, sizeof(db));
	h = eb_test_db_open(db);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='ok'"), 10);
	/* every record names its item, its prompt's hash and what that hashes */
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM acc_samples WHERE doc = '' OR "
				    "length(prompt_sha256) <> 64 OR prompt_hash_of IS NULL"),
			    0);

	/* hellaswag: acc_norm is the mean of correct (the normalized choice), acc of correct_acc */
	fig = eb_fig(h, "hs", "acc_norm", &n);
	ck_assert_double_eq(n, 8);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM acc_samples WHERE task='hs'"), n);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM acc_samples WHERE task='hs' AND "
				    "(answer IS NULL OR gold IS NULL OR correct <> (answer = gold) "
				    "OR json_array_length(result_json, '$.loglik') <> 4)"),
			    0);
	ck_assert_double_eq(eb_test_q(h, "SELECT avg(correct) FROM acc_samples WHERE task='hs'"), fig);
	ck_assert_double_eq(eb_test_q(h, "SELECT avg(json_extract(result_json, '$.correct_acc')) "
				    "FROM acc_samples WHERE task='hs'"),
			    eb_fig(h, "hs", "acc", NULL));

	/* the other multiple-choice tasks: the headline is the mean of correct (acc_norm for
	 * arc and piqa, acc for winogrande and mmlu), acc the mean of correct_acc */
	for (int t = 0; t < 4; t++) {
		static const char *const task[] = { "arc", "piqa", "wg", "mmlu" };
		static const double items[] = { 4, 5, 6, 7 };

		fig = eb_fig(h, task[t], t < 2 ? "acc_norm" : "acc", &n);
		ck_assert_double_eq(n, items[t]);
		ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM acc_samples WHERE task='%s' "
					      "AND gold IS NOT NULL AND correct = (answer = gold)",
					      task[t]),
				    n);
		ck_assert_double_eq(eb_test_q(h, "SELECT avg(correct) FROM acc_samples WHERE "
					      "task='%s'", task[t]),
				    fig);
		ck_assert_double_eq(eb_test_q(h, "SELECT avg(json_extract(result_json, "
					      "'$.correct_acc')) FROM acc_samples WHERE task='%s'",
					      task[t]),
				    eb_fig(h, task[t], "acc", NULL));
	}

	/* windows: ppl = exp(mean over windows of nll / tokens), in window order */
	for (int t = 0; t < 3; t++) {
		const char *task = t == 0 ? "gptq" : t == 1 ? "c4new" : "c4";

		fig = eb_fig(h, task, "ppl", &n);
		k = eb_results(h, task, "%", "nll", "tokens", x, y, 4096);
		ck_assert_double_eq((double)k, n);
		ck_assert_uint_gt(k, 1);
		sum = 0;
		for (size_t i = 0; i < k; i++) {
			/* a window of seqlen tokens predicts all but its first */
			ck_assert_double_eq(y[i], t == 0 ? 255 : 63);
			sum += x[i] / y[i];
		}
		ck_assert_double_eq(exp(sum / (double)k), fig);
	}

	/* pages: word_perplexity = exp(-sum loglik / sum words), in page order */
	fig = eb_fig(h, "lmeval", "word_perplexity", &n);
	k = eb_results(h, "lmeval", "%", "loglik", "words", x, y, 4096);
	ck_assert_double_eq((double)k, n);
	sum = sum_y = 0;
	for (size_t i = 0; i < k; i++) {
		sum += x[i];
		sum_y += y[i];
	}
	ck_assert_double_eq(exp(-sum / sum_y), fig);

	/*
	 * chunks: ppl = exp(sum nll / sum tokens) over llama-perplexity's running sum of
	 * every token; the per-chunk sums add up in another order, so to a few ulps
	 */
	fig = eb_fig(h, "lcpp", "ppl", &n);
	k = eb_results(h, "lcpp", "%", "nll", "tokens", x, y, 4096);
	ck_assert_double_eq((double)k,
			    eb_test_q(h, "SELECT json_extract(params_json, '$.n_chunks') FROM "
				      "accuracy WHERE task='lcpp' AND metric='ppl'"));
	sum = sum_y = 0;
	for (size_t i = 0; i < k; i++) {
		sum += x[i];
		sum_y += y[i];
	}
	ck_assert_double_eq(sum_y, n);
	ck_assert_msg(fabs(exp(sum / sum_y) - fig) <= 1e-12 * fig, "%.17g vs %.17g",
		      exp(sum / sum_y), fig);
	sqlite3_close(h);
}
END_TEST

/* Runs `edgebench samples` with the extra arguments into FILE: the exit code. */
static int eb_samples(const char *db, const char *a1, const char *a2, const char *file,
		      char **out)
{
	const char *argv[] = { "edgebench", "samples", db, "--output", file, a1, a2, NULL };

	return eb_test_run(argv, out);
}

/* kld's chunks, the JSONL export (python3 checks every record) and merge. */
START_TEST(kld_records_export_and_merge)
{
	char db[4200], db2[4200], v1[2048], v2[2048], vars[4200], task[2048], tasks[2048];
	char file[4300], merged[4300], script[4096], *out = NULL;
	double x[4096], y[4096], n, sum, sum_y;
	struct eb_err err;
	size_t k;
	sqlite3 *h;
	int rc;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_test_tmpdir("samples-kld", eb_dir, sizeof(eb_dir));
	snprintf(vars, sizeof(vars), "%s, %s", eb_variant("q4_0", v1, sizeof(v1)),
		 eb_variant("f16", v2, sizeof(v2)));
	snprintf(task, sizeof(task),
		 "{ \"task\": \"kld\", \"protocol\": \"kld\", \"file\": \"%s\", \"n_ctx\": 128, "
		 "\"limit\": 3 }",
		 SAMPLES "/wiki.test.raw");
	eb_run("kld", vars, task, ", \"kld\": { \"reference\": \"f16\" }", db, sizeof(db));
	h = eb_test_db_open(db);
	/* the compared variant: kld_mean = sum of the chunks' KLD / their tokens (the
	 * per-token values are kept as float, as llama-perplexity keeps them) */
	k = eb_results(h, "kld", "q4_0", "kld_sum", "tokens", x, y, 4096);
	ck_assert_uint_eq(k, 3);
	sum = sum_y = 0;
	for (size_t i = 0; i < k; i++) {
		sum += x[i];
		sum_y += y[i];
	}
	{
		double fig = eb_test_q(h, "SELECT a.value FROM accuracy a JOIN cells c ON "
				       "c.id=a.cell_id WHERE c.quant='q4_0' AND a.metric='kld_mean'");

		n = eb_test_q(h, "SELECT a.n FROM accuracy a JOIN cells c ON c.id=a.cell_id WHERE "
			      "c.quant='q4_0' AND a.metric='kld_mean'");
		ck_assert_double_eq(sum_y, n);
		ck_assert_msg(fabs(sum / sum_y - fig) <= 1e-6 * fig, "%.17g vs %.17g", sum / sum_y,
			      fig);
	}
	/* the reference variant's chunks carry their NLL */
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM acc_samples x JOIN cells c ON "
				    "c.id=x.cell_id WHERE c.quant='f16' AND "
				    "json_extract(result_json, '$.nll') > 0"),
			    3);
	sqlite3_close(h);

	/* a second database with hellaswag, then the export of both and their merge */
	snprintf(tasks, sizeof(tasks),
		 "{ \"task\": \"hs\", \"protocol\": \"hellaswag\", \"file\": \"%s\", \"limit\": 5 }",
		 SAMPLES "/hellaswag_sample.jsonl");
	eb_run("hs", eb_variant("q4_0", v1, sizeof(v1)), tasks, "", db2, sizeof(db2));
	snprintf(file, sizeof(file), "%s/hs.jsonl", eb_dir);
	rc = eb_samples(db2, NULL, NULL, file, &out);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	free(out);
	eb_test_data("samples/check_jsonl.py", script, sizeof(script));
	{
		const char *argv[] = { "python3", script, file, NULL };

		rc = eb_proc_capture(argv, 0, 1 << 20, &out, &err);
		if (rc < 0) {
			eb_test_skip(__func__, "python3 not available (%s)", err.msg);
		} else {
			ck_assert_msg(rc == 0, "%s", out);
			ck_assert_str_eq(out, "5 records, 5 multiple-choice\n");
			free(out);
		}
	}
	snprintf(merged, sizeof(merged), "%s/lab.db", eb_dir);
	{
		const char *argv[] = { "edgebench", "merge", merged, db, db2, NULL };

		rc = eb_test_run(argv, &out);
		ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
		free(out);
	}
	h = eb_test_db_open(merged);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM acc_samples"), 3 + 3 + 5);
	/* each record is still with its cell */
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM acc_samples x JOIN cells c ON "
				    "c.id=x.cell_id WHERE c.key LIKE '%%/hs' AND x.task='hs'"),
			    5);
	sqlite3_close(h);
	/* every run of the merged database, and --only picks cells by key */
	snprintf(file, sizeof(file), "%s/all.jsonl", eb_dir);
	rc = eb_samples(merged, "--run", "all", file, &out);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	free(out);
	{
		char *text = NULL;
		size_t len, lines = 0;

		ck_assert_int_eq(eb_read_file(file, 1 << 24, &text, &len, &err), 0);
		for (size_t i = 0; i < len; i++)
			lines += text[i] == '\n';
		ck_assert_uint_eq(lines, 11);
		free(text);
	}
	{
		const char *argv[] = { "edgebench", "samples", merged, "--run", "all", "--only",
				       "*/f16/*", NULL };

		rc = eb_test_run(argv, &out);
		ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
		ck_assert_ptr_nonnull(strstr(out, "\"cell\":\"cpu/tiny/f16/accuracy/kld\""));
		ck_assert_ptr_null(strstr(out, "q4_0"));
		free(out);
	}
	/* a bad run reference is refused, naming it */
	{
		const char *argv[] = { "edgebench", "samples", merged, "--run", "99", NULL };

		rc = eb_test_run(argv, &out);
		ck_assert_int_eq(rc, 2);
		ck_assert_ptr_nonnull(strstr(out, "edgebench samples: --run"));
		free(out);
	}
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("samples");
	TCase *models = tcase_create("models");

	tcase_set_timeout(models, 300);
	tcase_add_test(models, records_sum_back_to_the_figures);
	tcase_add_test(models, kld_records_export_and_merge);
	suite_add_tcase(s, models);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
