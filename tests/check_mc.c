/* ctest: labels=unit timeout=60 */
/* check_mc.c: the multiple-choice loaders (lm-eval's prompts) and their scoring with the fake scorer. */
#include "testutil.h"

#include "accuracy_run.h"
#include "mc.h"
#include "eb_build.h"
#include "eb_util.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLES EB_SOURCE_DIR "/datasets/samples"

static char eb_dir[4096];

static void eb_load_ok(struct eb_mc *ds, enum eb_mc_format f, const char *path,
		       const char *member, size_t n)
{
	struct eb_err err;

	ck_assert_msg(eb_mc_load(ds, f, path, member, &err) == 0, "%s: %s", path, err.msg);
	ck_assert_uint_eq(ds->n, n);
}

/* The error loading `text` (written to a file called `name`) in format f. */
static void eb_load_fails(enum eb_mc_format f, const char *name, const char *text,
			  const char *labels, const char *want)
{
	char path[8192], lpath[8192];
	struct eb_mc ds;
	struct eb_err err;

	eb_test_tmpdir("mc-bad", eb_dir, sizeof(eb_dir));
	snprintf(path, sizeof(path), "%s/%s", eb_dir, name);
	ck_assert_int_eq(eb_write_file(path, text, strlen(text), &err), 0);
	if (labels) {
		snprintf(lpath, sizeof(lpath), "%s/%.*s-labels.lst", eb_dir,
			 (int)(strlen(name) - strlen(".jsonl")), name);
		ck_assert_int_eq(eb_write_file(lpath, labels, strlen(labels), &err), 0);
	}
	ck_assert_int_eq(eb_mc_load(&ds, f, path, NULL, &err), EB_EPARSE);
	ck_assert_msg(strstr(err.msg, want), "want '%s' in: %s", want, err.msg);
	ck_assert_ptr_null(ds.items);
	eb_mc_release(&ds);
}

/* lm-eval's arc_easy.yaml: "Question: {{question}}\nAnswer:", " " + each choice's text. */
START_TEST(arc_prompts)
{
	static const char *const cont[] = { " a ruler", " a thermometer", " a balance",
					    " a stopwatch" };
	struct eb_mc ds, z;

	eb_load_ok(&ds, EB_MC_ARC, SAMPLES "/arc_easy_sample.jsonl", NULL, 6);
	ck_assert_str_eq(ds.items[0].ctx[0], "Question: Which tool is best for measuring the "
					     "length of a pencil?\nAnswer:");
	ck_assert_uint_eq(ds.items[0].n_choices, 4);
	for (int k = 0; k < 4; k++) {
		ck_assert_ptr_eq(ds.items[0].ctx[k], ds.items[0].ctx[0]);
		ck_assert_str_eq(ds.items[0].cont[k], cont[k]);
		ck_assert_uint_eq(ds.items[0].choice_len[k], strlen(cont[k]) - 1);
	}
	ck_assert_int_eq(ds.items[0].gold, 0);
	ck_assert_str_eq(ds.items[0].id, "EB_ARC_E_0001");
	ck_assert_uint_eq(ds.items[1].n_choices, 3);
	/* labels "1".."4": choices.label.index(answerKey) */
	ck_assert_int_eq(ds.items[2].gold, 2);
	ck_assert_uint_eq(ds.items[3].n_choices, 5);
	/* the blank line 5 is skipped; items keep their lines */
	ck_assert_uint_eq(ds.items[4].line, 6);
	ck_assert_int_eq(ds.items[4].gold, 2);

	/* the catalog's archive, member as the real one lays it out: the same items */
	eb_load_ok(&z, EB_MC_ARC, SAMPLES "/ARC-V1-Feb2018.zip",
		   "ARC-V1-Feb2018-2/ARC-Easy/ARC-Easy-Test.jsonl", 6);
	ck_assert_str_eq(z.items[5].ctx[0], ds.items[5].ctx[0]);
	ck_assert_str_eq(z.items[5].file,
			 SAMPLES "/ARC-V1-Feb2018.zip:ARC-V1-Feb2018-2/ARC-Easy/ARC-Easy-Test.jsonl");
	eb_mc_release(&z);
	eb_mc_release(&ds);
	eb_load_ok(&ds, EB_MC_ARC, SAMPLES "/ARC-V1-Feb2018.zip",
		   "ARC-V1-Feb2018-2/ARC-Challenge/ARC-Challenge-Test.jsonl", 4);
	eb_mc_release(&ds);
}
END_TEST

/* lm-eval's piqa.yaml: "Question: {{goal}}\nAnswer:", sol1 and sol2; labels beside. */
START_TEST(piqa_prompts)
{
	struct eb_mc ds;

	eb_load_ok(&ds, EB_MC_PIQA, SAMPLES "/piqa_sample.jsonl", NULL, 6);
	ck_assert_str_eq(ds.items[3].ctx[0], "Question: Make a paper towel hold more water.\n"
					     "Answer:");
	ck_assert_str_eq(ds.items[3].cont[1],
			 " Crumple it loosely so it has more surface to soak up water.");
	ck_assert_int_eq(ds.items[3].gold, 1);
	ck_assert_int_eq(ds.items[0].gold, 0);
	eb_mc_release(&ds);
	eb_load_ok(&ds, EB_MC_PIQA, SAMPLES "/physicaliqa-train-dev.zip",
		   "physicaliqa-train-dev/dev.jsonl", 6);
	ck_assert_int_eq(ds.items[3].gold, 1);
	eb_mc_release(&ds);
}
END_TEST

/* lm-eval's preprocess_winogrande: a context per option, the rest after the blank shared. */
START_TEST(winogrande_partial)
{
	struct eb_mc ds;

	eb_load_ok(&ds, EB_MC_WINOGRANDE, SAMPLES "/winogrande_sample.jsonl", NULL, 6);
	ck_assert_str_eq(ds.items[0].ctx[0],
			 "The trophy would not fit in the suitcase because the trophy");
	ck_assert_str_eq(ds.items[0].ctx[1],
			 "The trophy would not fit in the suitcase because the suitcase");
	ck_assert_str_eq(ds.items[0].cont[0], " was too big.");
	ck_assert_str_eq(ds.items[0].cont[1], " was too big.");
	/* acc_norm's divisor would be len(doc_to_choice) = the contexts */
	ck_assert_uint_eq(ds.items[0].choice_len[0], strlen(ds.items[0].ctx[0]));
	ck_assert_int_eq(ds.items[0].gold, 0);
	ck_assert_int_eq(ds.items[1].gold, 1);
	ck_assert_str_eq(ds.items[2].cont[0], " was going out into the rain.");
	eb_mc_release(&ds);
	eb_load_ok(&ds, EB_MC_WINOGRANDE, SAMPLES "/winogrande_1.1.zip", "winogrande_1.1/dev.jsonl",
		   6);
	eb_mc_release(&ds);
}
END_TEST

/* lm-eval's mmlu default template and description; CSV quoting; subjects in name order. */
START_TEST(mmlu_prompts)
{
	struct eb_mc ds, d3;

	eb_load_ok(&ds, EB_MC_MMLU, SAMPLES "/data.tar", NULL, 7);
	ck_assert_uint_eq(ds.n_groups, 2);
	ck_assert_str_eq(ds.groups[0], "astronomy");
	ck_assert_str_eq(ds.groups[1], "high_school_biology");
	ck_assert_str_eq(ds.items[2].ctx[0],
			 "The following are multiple choice questions (with answers) about "
			 "astronomy.\n\nA star's \"apparent magnitude\" describes\nhow bright "
			 "it:\nA. appears from Earth\nB. is at a distance of ten parsecs\nC. is in "
			 "X-rays\nD. was when it formed\nAnswer:");
	for (int k = 0; k < 4; k++) {
		char want[3] = { ' ', (char)('A' + k), '\0' };

		ck_assert_str_eq(ds.items[2].cont[k], want);
		ck_assert_uint_eq(ds.items[2].choice_len[k], 1);
	}
	ck_assert_int_eq(ds.items[2].gold, 0);
	ck_assert_uint_eq(ds.items[2].line, 3);
	/* the record after a two-line one starts on line 5 */
	ck_assert_uint_eq(ds.items[3].line, 5);
	ck_assert_uint_eq(ds.items[3].group, 0);
	/* question.strip(), the subject's words */
	ck_assert_str_eq(ds.items[6].ctx[0],
			 "The following are multiple choice questions (with answers) about high "
			 "school biology.\n\nWhat molecule carries amino acids to the ribosome "
			 "during translation?\nA. mRNA\nB. tRNA\nC. rRNA\nD. DNA\nAnswer:");
	ck_assert_uint_eq(ds.items[6].group, 1);
	ck_assert_int_eq(ds.items[6].gold, 1);

	/* one subject's file reads the same */
	eb_load_ok(&d3, EB_MC_MMLU, SAMPLES "/mmlu_sample/high_school_biology_test.csv", NULL, 3);
	ck_assert_str_eq(d3.items[2].ctx[0], ds.items[6].ctx[0]);
	ck_assert_str_eq(ds.items[0].file, SAMPLES "/data.tar:data/test/astronomy_test.csv");
	ck_assert_str_eq(d3.items[0].file, SAMPLES "/mmlu_sample/high_school_biology_test.csv");
	eb_mc_release(&d3);
	eb_mc_release(&ds);
}
END_TEST

/* Malformed input is an error naming the file and line, and the cause. */
START_TEST(errors_name_file_and_line)
{
	static const char arc_ok[] = "{\"question\": {\"stem\": \"s\", \"choices\": [{\"text\": "
				     "\"a\", \"label\": \"A\"}, {\"text\": \"b\", \"label\": "
				     "\"B\"}]}, \"answerKey\": \"A\"}\n";
	char text[2048], want[8192];

	snprintf(text, sizeof(text), "%s%.*s\"E\"}\n", arc_ok, (int)strlen(arc_ok) - 5, arc_ok);
	eb_load_fails(EB_MC_ARC, "arc.jsonl", text, NULL,
		      "arc.jsonl:2: 'answerKey' 'E' is not one of the labels (A, B)");
	eb_load_fails(EB_MC_ARC, "arc.jsonl", "\n{\"question\": 3}\n", NULL,
		      "arc.jsonl:2: 'question' is not an object");
	eb_load_fails(EB_MC_ARC, "arc.jsonl", "{\"question\": \n", NULL, "arc.jsonl:1:");
	eb_load_fails(EB_MC_PIQA, "p.jsonl",
		      "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\"}\n"
		      "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\"}\n",
		      "0\n2\n", "p-labels.lst:2: label '2' is not 0 or 1");
	eb_load_fails(EB_MC_PIQA, "p.jsonl", "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\"}\n",
		      "0\n1\n", "p-labels.lst:2: more labels than the 1 items");
	eb_load_fails(EB_MC_PIQA, "p.jsonl", "{\"goal\": \"g\", \"sol2\": \"b\"}\n", "0\n",
		      "p.jsonl:1: missing 'sol1'");
	eb_load_fails(EB_MC_WINOGRANDE, "w.jsonl",
		      "{\"sentence\": \"no blank\", \"option1\": \"a\", \"option2\": \"b\", "
		      "\"answer\": \"1\"}\n",
		      NULL, "w.jsonl:1: 'sentence' has no blank '_'");
	eb_load_fails(EB_MC_WINOGRANDE, "w.jsonl",
		      "{\"sentence\": \"a _ b\", \"option1\": \"a\", \"option2\": \"b\", "
		      "\"answer\": \"3\"}\n",
		      NULL, "w.jsonl:1: 'answer' '3' is not \"1\" or \"2\"");
	eb_load_fails(EB_MC_MMLU, "x_test.csv", "q,a,b,c,d,A\n\"q\nq\",a,b,c,D\n", NULL,
		      "x_test.csv:2: 5 fields, expected 6");
	eb_load_fails(EB_MC_MMLU, "x_test.csv", "q,a,b,c,d,A\nq,a,b,c,d,E\n", NULL,
		      "x_test.csv:2: answer 'E' is not A, B, C or D");
	eb_load_fails(EB_MC_MMLU, "x_test.csv", "q,a,b,c,d,\"A\n", NULL,
		      "x_test.csv:1: quoted field not closed");
	eb_load_fails(EB_MC_ARC, "empty.jsonl", "\n\n", NULL, "no items in '");

	/* Python's csv: a quote inside an unquoted field is text */
	{
		struct eb_mc ds;
		struct eb_err err;
		char path[8192];
		static const char csv[] = "2\" pipe,\"a, \"\"b\"\"\",c,d,e,C\n";

		eb_test_tmpdir("mc-csv", eb_dir, sizeof(eb_dir));
		snprintf(path, sizeof(path), "%s/x_y_test.csv", eb_dir);
		ck_assert_int_eq(eb_write_file(path, csv, strlen(csv), &err), 0);
		eb_load_ok(&ds, EB_MC_MMLU, path, NULL, 1);
		ck_assert_str_eq(ds.items[0].ctx[0],
				 "The following are multiple choice questions (with answers) about x "
				 "y.\n\n2\" pipe\nA. a, \"b\"\nB. c\nC. d\nD. e\nAnswer:");
		ck_assert_int_eq(ds.items[0].gold, 2);
		eb_mc_release(&ds);
	}

	/* PIQA without its labels names what it looked for */
	{
		struct eb_mc ds;
		struct eb_err err;
		char path[8192];

		eb_test_tmpdir("mc-nolabels", eb_dir, sizeof(eb_dir));
		snprintf(path, sizeof(path), "%s/valid.jsonl", eb_dir);
		static const char line[] = "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\"}\n";

		ck_assert_int_eq(eb_write_file(path, line, strlen(line), &err), 0);
		ck_assert_msg(eb_mc_load(&ds, EB_MC_PIQA, path, NULL, &err) == EB_ENOENT, "%s",
			      err.msg);
		snprintf(want, sizeof(want), "piqa: no labels '%s/valid-labels.lst' next to '%s'",
			 eb_dir, path);
		ck_assert_msg(strstr(err.msg, want), "%s", err.msg);
	}
}
END_TEST

/* lm-eval's pooled_sample_stderr from its per-part stderrs, computed here the long way. */
START_TEST(pooled_stderr_as_lm_eval)
{
	const size_t hits[3] = { 3, 1, 4 }, n[3] = { 4, 3, 8 };
	double num = 0, se;
	size_t total = 0;

	for (int i = 0; i < 3; i++) {
		double p = (double)hits[i] / (double)n[i];
		/* mean_stderr: sample stddev / sqrt(n) */
		double sd = sqrt((hits[i] * (1 - p) * (1 - p) + (n[i] - hits[i]) * p * p) /
				 (double)(n[i] - 1));
		double s = sd / sqrt((double)n[i]);

		num += (double)(n[i] - 1) * s * s * (double)n[i];
		total += n[i];
	}
	se = sqrt(num / (double)(total - 3) / (double)total);
	ck_assert_double_eq_tol(eb_mc_pooled_stderr(hits, n, 3), se, 1e-15);
	ck_assert(isnan(eb_mc_pooled_stderr(hits, (const size_t[]){ 1, 1, 1 }, 3)));
}
END_TEST

/* --- the protocols with the fake scorer: log p(byte b) = -0.01 (b + 3) ---------------- */

static double eb_fake_sum(const char *s)
{
	double sum = 0;

	for (; *s; s++)
		sum += -0.01 * ((unsigned char)*s + 3);
	return sum;
}

static double eb_figure(const struct eb_acc_result *r, const char *name, double *se)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->m[i].name, name) == 0) {
			if (se)
				*se = r->m[i].se;
			return r->m[i].value;
		}
	return NAN;
}

/* The fake scorer's model facts (byte tokens, BOS 1, EOS 2) and a runner environment. */
static json_t *eb_fake_backend(void)
{
	return json_pack("{s:i, s:i, s:b, s:i}", "bos_token", 1, "eos_token", 2, "add_bos", 1,
			 "n_vocab", EB_TEST_FAKE_VOCAB);
}

#define EB_FAKE_ENV(backend)                                                            \
	{ .target_id = "t", .model_id = "m", .quant = "q", .backend = (backend),        \
	  .kld_dir = "/tmp", .threads = 2 }

/*
 * Runs protocol `proto` on `file` with the fake scorer and checks every record and both
 * figures against sums and argmaxes computed here from the loaded items.
 */
static void eb_check_fake(const char *proto, enum eb_mc_format fmt, const char *file,
			  const char *member, int norm)
{
	json_t *backend = eb_fake_backend();
	struct eb_acc_env env = EB_FAKE_ENV(backend);
	struct eb_cfg_acc_task t = { 0 };
	struct eb_acc_result res;
	struct eb_mc ds;
	struct eb_err err;
	size_t hits = 0, norm_hits = 0, g_hits[8] = { 0 }, g_n[8] = { 0 }, parts = 0;
	double se, want_se = 0, p;

	ck_assert_int_eq(eb_mc_load(&ds, fmt, file, member, &err), 0);
	ck_assert_uint_le(ds.n_groups, 8);
	t.task = "t";
	t.protocol = (char *)proto;
	t.file = (char *)file;
	t.seqlen = 2048;
	t.params = json_pack("{s:s}", "protocol", proto);
	ck_assert_msg(eb_acc_run(&t, &eb_test_fake_ops, NULL, &env, &res, &err) == 0, "%s: %s",
		      proto, err.msg);
	ck_assert_uint_eq(json_array_size(res.samples), ds.n);
	for (size_t i = 0; i < ds.n; i++) {
		const struct eb_mc_item *it = &ds.items[i];
		json_t *rec = json_array_get(res.samples, i), *r = json_object_get(rec, "result");
		double sums[EB_MC_MAX_CHOICES];
		int pred, pred_norm;

		for (size_t k = 0; k < it->n_choices; k++) {
			double want = eb_fake_sum(it->cont[k]);
			double got = json_real_value(json_array_get(json_object_get(r, "loglik"), k));

			ck_assert_msg(fabs(got - want) < 1e-9, "%s item %zu choice %zu: %.9f, want %.9f",
				      proto, i, k, got, want);
			sums[k] = want;
		}
		eb_test_mc_pick(sums, it->choice_len, it->n_choices, &pred, &pred_norm);
		hits += pred == it->gold;
		norm_hits += pred_norm == it->gold;
		g_hits[it->group] += pred == it->gold;
		g_n[it->group]++;
		ck_assert_int_eq(json_integer_value(json_object_get(r, "answer_acc")), pred);
		ck_assert_int_eq(json_integer_value(json_object_get(rec, "answer")),
				 norm ? pred_norm : pred);
		ck_assert_int_eq(json_integer_value(json_object_get(rec, "gold")), it->gold);
		/* what was asked: the context, or Winogrande's contexts and continuation */
		{
			struct eb_buf b;
			char sha[65], doc[8192];

			if (ds.n_groups > 1)
				snprintf(doc, sizeof(doc), "%s line %zu", it->file, it->line);
			else
				snprintf(doc, sizeof(doc), "line %zu", it->line);
			ck_assert_str_eq(json_string_value(json_object_get(rec, "doc")), doc);

			eb_buf_init(&b, 0);
			if (fmt == EB_MC_WINOGRANDE) {
				eb_buf_add(&b, it->ctx[0], strlen(it->ctx[0]) + 1);
				eb_buf_add(&b, it->ctx[1], strlen(it->ctx[1]) + 1);
				eb_buf_addstr(&b, it->cont[0]);
			} else {
				eb_buf_addstr(&b, it->ctx[0]);
			}
			eb_sha256_hex(b.buf, b.len, sha);
			eb_buf_release(&b);
			ck_assert_str_eq(json_string_value(json_object_get(rec, "prompt_sha256")), sha);
		}
	}
	ck_assert_double_eq_tol(eb_figure(&res, "acc", &se), (double)hits / (double)ds.n, 1e-12);
	/* lm-eval: sqrt(p(1-p)/(n-1)); over subjects, its pooled stderr */
	p = (double)hits / (double)ds.n;
	if (ds.n_groups < 2) {
		want_se = sqrt(p * (1 - p) / (double)(ds.n - 1));
	} else {
		for (size_t g = 0; g < ds.n_groups; g++) {
			want_se += (double)g_hits[g] * (double)(g_n[g] - g_hits[g]) / (double)g_n[g];
			parts += g_n[g] > 0;
		}
		want_se = sqrt(want_se / (double)(ds.n - parts) / (double)ds.n);
	}
	ck_assert_double_eq_tol(se, want_se, 1e-12);
	if (norm)
		ck_assert_double_eq_tol(eb_figure(&res, "acc_norm", &se),
					(double)norm_hits / (double)ds.n, 1e-12);
	else
		ck_assert(isnan(eb_figure(&res, "acc_norm", NULL)));
	ck_assert_int_eq(json_integer_value(json_object_get(res.params, "n_items")), (json_int_t)ds.n);
	eb_acc_result_release(&res);
	eb_mc_release(&ds);
	json_decref(t.params);
	json_decref(backend);
}

START_TEST(protocols_with_fake_scorer)
{
	eb_check_fake("arc_easy", EB_MC_ARC, SAMPLES "/arc_easy_sample.jsonl", NULL, 1);
	eb_check_fake("arc_challenge", EB_MC_ARC, SAMPLES "/ARC-V1-Feb2018.zip",
		      "ARC-V1-Feb2018-2/ARC-Challenge/ARC-Challenge-Test.jsonl", 1);
	eb_check_fake("piqa", EB_MC_PIQA, SAMPLES "/physicaliqa-train-dev.zip",
		      "physicaliqa-train-dev/dev.jsonl", 1);
	eb_check_fake("winogrande", EB_MC_WINOGRANDE, SAMPLES "/winogrande_sample.jsonl", NULL, 0);
	eb_check_fake("mmlu", EB_MC_MMLU, SAMPLES "/data.tar", NULL, 0);
}
END_TEST

/* A cell on a malformed file, or on a choice longer than seqlen, fails naming file and line. */
START_TEST(cell_errors_name_file_and_line)
{
	json_t *backend = eb_fake_backend();
	struct eb_acc_env env = EB_FAKE_ENV(backend);
	struct eb_cfg_acc_task t = { 0 };
	struct eb_acc_result res;
	struct eb_err err;
	char path[8192], want[8400];

	t.task = "t";
	t.protocol = "winogrande";
	t.file = SAMPLES "/winogrande_sample.jsonl";
	t.seqlen = 16;
	t.params = json_pack("{s:s}", "protocol", "winogrande");
	/* item 1's continuation " was too big." is 13 byte tokens; item 3's is 29 */
	ck_assert_int_eq(eb_acc_run(&t, &eb_test_fake_ops, NULL, &env, &res, &err), EB_EINVAL);
	ck_assert_str_eq(err.msg, SAMPLES "/winogrande_sample.jsonl:3: choice 0 tokenizes to 29 "
				  "tokens after a context of 47 (needs 1..16, and a context)");
	eb_acc_result_release(&res);

	eb_test_tmpdir("mc-cell", eb_dir, sizeof(eb_dir));
	snprintf(path, sizeof(path), "%s/ARC-Easy-Test.jsonl", eb_dir);
	ck_assert_int_eq(eb_write_file(path, "\n{\"question\": []}\n", 18, &err), 0);
	t.protocol = "arc_easy";
	t.file = path;
	t.seqlen = 2048;
	ck_assert_int_eq(eb_acc_run(&t, &eb_test_fake_ops, NULL, &env, &res, &err), EB_EPARSE);
	snprintf(want, sizeof(want), "%s:2: 'question' is not an object", path);
	ck_assert_str_eq(err.msg, want);
	eb_acc_result_release(&res);
	json_decref(t.params);
	json_decref(backend);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("mc");
	TCase *tc = tcase_create("loaders");

	tcase_add_test(tc, arc_prompts);
	tcase_add_test(tc, piqa_prompts);
	tcase_add_test(tc, winogrande_partial);
	tcase_add_test(tc, mmlu_prompts);
	tcase_add_test(tc, errors_name_file_and_line);
	tcase_add_test(tc, pooled_stderr_as_lm_eval);
	tcase_add_test(tc, protocols_with_fake_scorer);
	tcase_add_test(tc, cell_errors_name_file_and_line);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
