/* ctest: labels=unit,models timeout=60 */
/* check_gen.c: the generative protocols' pieces: reply letters, GSM8K's filters and exact match, the GSM8K and MMLU CSV loaders, the protocols on a fake adapter, and llamacpp's replies. */
#include "accuracy_run.h"
#include "adapter.h"
#include "answer.h"
#include "config.h"
#include "gsm8k.h"
#include "hellaswag.h"
#include "mc.h"
#include "eb_build.h"
#include "eb_util.h"
#include "testutil.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLES EB_SOURCE_DIR "/datasets/samples"

/* --- the letter of a reply --------------------------------------------------------- */

START_TEST(answer_letter_rules)
{
	static const struct {
		const char *reply;
		int n, want;
		const char *rule;
	} c[] = {
		{ "B", 4, 1, "label" },
		{ " B.", 4, 1, "label" },
		{ "(C)", 4, 2, "label" },
		{ "**C**", 4, 2, "label" },
		{ "b", 4, 1, "label" },
		{ "b.", 4, 1, "label" },
		{ "d) the last one", 4, 3, "label" },
		{ "B. A man is seen", 4, 1, "label" },
		{ "\n  A\nQuestion: next", 4, 0, "label" },
		{ "The answer is D", 4, 3, "answer" },
		{ "the answer is (b).", 4, 1, "answer" },
		{ "Answer: c", 4, 2, "answer" },
		{ "Answer:\nB", 4, 1, "answer" },
		{ "answer - A, not C", 4, 0, "answer" },
		{ "I think B", 4, 1, "only" },
		{ "B because it is plausible", 4, 1, "only" },
		{ "A man walks", 4, 0, "only" },
		{ "A or B", 4, -1, "ambiguous" },
		{ "the answers are B and C", 4, -1, "ambiguous" },
		{ "", 4, -1, "none" },
		{ "   ", 4, -1, "none" },
		{ "none of these", 4, -1, "none" },
		{ "a cat sat", 4, -1, "none" },
		{ "ABBA", 4, -1, "none" },
		{ "E", 4, -1, "none" },
		{ "E", 5, 4, "label" },
		{ "The answer is E", 4, -1, "none" },
		{ "B2 is a vitamin", 4, -1, "none" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		const char *rule = NULL;
		int got = eb_answer_letter(c[i].reply, c[i].n, &rule);

		ck_assert_msg(got == c[i].want && strcmp(rule, c[i].rule) == 0,
			      "'%s': %d by %s, want %d by %s", c[i].reply, got, rule, c[i].want,
			      c[i].rule);
	}
}
END_TEST

START_TEST(answer_until_stop_strings)
{
	const char *const stops[] = { "Question:", "", "</s>", NULL };

	ck_assert_uint_eq(eb_answer_until("12 </s> Question: x", stops), 3);
	ck_assert_uint_eq(eb_answer_until("#### 4\nQuestion: y</s>", stops), 7);
	ck_assert_uint_eq(eb_answer_until("no stop here", stops), 12);
	ck_assert_uint_eq(eb_answer_until("no stops at all", NULL), 15);
}
END_TEST

/* --- GSM8K ------------------------------------------------------------------------- */

static void eb_str_is(char *got, const char *want, const char *what)
{
	ck_assert_msg(strcmp(got, want) == 0, "%s: '%s', want '%s'", what, got, want);
	free(got);
}

/* Expected values as lm-eval's RegexFilter and exact_match give them (re.findall, re.sub). */
START_TEST(gsm8k_filters_as_lmeval)
{
	eb_str_is(eb_gsm8k_strict("So 5.\n#### 1,234."), "1,234.", "strict");
	eb_str_is(eb_gsm8k_strict("#### -7 apples"), "-7", "strict negative");
	eb_str_is(eb_gsm8k_strict("#### --5 then #### 6"), "6", "strict skips a bad one");
	eb_str_is(eb_gsm8k_strict("#### $5"), EB_GSM8K_INVALID, "strict: $ is not in its class");
	eb_str_is(eb_gsm8k_strict("the answer is 42"), EB_GSM8K_INVALID, "strict without ####");
	eb_str_is(eb_gsm8k_strict("####5"), EB_GSM8K_INVALID, "strict needs the space");
	eb_str_is(eb_gsm8k_flexible("I have 3 apples and $1,000."), "$1,000.", "flexible last");
	eb_str_is(eb_gsm8k_flexible("1 2 3"), "3", "flexible single digits");
	eb_str_is(eb_gsm8k_flexible("-5 then -"), "-5", "flexible negative");
	eb_str_is(eb_gsm8k_flexible("it is 5$$"), "5$$", "flexible keeps $");
	eb_str_is(eb_gsm8k_flexible("no digits"), EB_GSM8K_INVALID, "flexible none");
	eb_str_is(eb_gsm8k_flexible("a $$ b"), "$$", "flexible: two of the class match");
	eb_str_is(eb_gsm8k_normalize("$1,000."), "1000", "normalize");
	eb_str_is(eb_gsm8k_normalize("18.\n"), "18\n", "normalize: . before a final line feed");
	eb_str_is(eb_gsm8k_normalize("3..."), "3..", "normalize: one . only");
	eb_str_is(eb_gsm8k_normalize("It takes 2/2=1.\n#### 3"), "3", "normalize the target");
	eb_str_is(eb_gsm8k_normalize("a #### b #### C"), "c", "normalize: through the last ####");
	ck_assert(eb_gsm8k_exact_match("1,234.", "work\n#### 1234"));
	ck_assert(eb_gsm8k_exact_match("$18", "#### 18"));
	ck_assert(!eb_gsm8k_exact_match("18.0", "#### 18"));
	ck_assert(!eb_gsm8k_exact_match(EB_GSM8K_INVALID, "#### 18"));
}
END_TEST

START_TEST(gsm8k_loader)
{
	static const struct {
		const char *data, *err;
	} bad[] = {
		{ "{\"question\": \"q\"}\n", "x.jsonl:1: missing 'answer'" },
		{ "\n{\"question\": \"q\", \"answer\": 5}\n", "x.jsonl:2: 'answer' is not a string" },
		{ "{\"question\": \"q\", \"answer\": \"so 5\"}\n",
		  "x.jsonl:1: 'answer' has no \"#### \" line (the final number)" },
		{ "{\"question\": \"q\", \"answer\": \"#### 1\"}\n{\"question\": \"q\" \"answer\"}\n",
		  "x.jsonl:2:" },
		{ "[1]\n", "x.jsonl:1: expected a json object" },
		{ "\n\n", "no items in 'x.jsonl'" },
	};
	struct eb_gsm8k ds;
	struct eb_err err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(eb_gsm8k_load_buf(&ds, "x.jsonl", bad[i].data, strlen(bad[i].data),
						   &err),
				 EB_EPARSE);
		ck_assert_msg(strncmp(err.msg, bad[i].err, strlen(bad[i].err)) == 0, "'%s', want '%s'",
			      err.msg, bad[i].err);
		ck_assert_uint_eq(ds.n, 0);
	}
	ck_assert_msg(eb_gsm8k_load(&ds, SAMPLES "/gsm8k_sample.jsonl", &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ds.n, 8);
	ck_assert_uint_eq(ds.items[7].line, 8);
	eb_str_is(eb_gsm8k_normalize(ds.items[3].answer), "11.25", "sample target");
	eb_str_is(eb_gsm8k_normalize(ds.items[5].answer), "-3", "sample target");
	eb_gsm8k_release(&ds);
}
END_TEST

/* --- the protocols on the fake adapter ------------------------------------------------ */

/* Runs one task of `protocol` on file with the fake adapter answering `reply`. */
static int eb_gen_task(const char *protocol, const char *file, long long limit, const char *reply,
		       struct eb_acc_result *res, struct eb_err *err)
{
	json_t *backend = json_pack("{s:s}", "endpoint", "/api/chat");
	struct eb_cfg_acc_task t = { .task = "t", .protocol = (char *)protocol, .file = (char *)file,
				     .limit = limit, .params = json_object() };
	struct eb_acc_env env = { .target_id = "fake", .model_id = "m", .quant = "q",
				  .backend = backend, .threads = 1 };
	int ret;

	eb_test_fake.reply = reply;
	eb_test_fake.n_generate = 0;
	ret = eb_acc_run(&t, &eb_test_fake_ops, NULL, &env, res, err);
	json_decref(t.params);
	json_decref(backend);
	return ret;
}

static const struct eb_acc_metric *eb_fig(const struct eb_acc_result *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->m[i].name, name) == 0)
			return &r->m[i];
	ck_abort_msg("no figure %s", name);
	return NULL;
}

/*
 * Every item gets the same reply, so acc is the share of items whose gold is that
 * letter, counted here from the dataset itself; each item has its record.
 */
START_TEST(mc_gen_on_fake_adapter)
{
	struct eb_hellaswag hs;
	struct eb_acc_result res;
	struct eb_err err;
	size_t gold_b = 0;
	const json_t *rec;
	double p;

	ck_assert_int_eq(eb_hellaswag_load(&hs, SAMPLES "/hellaswag_sample.jsonl", &err), 0);
	ck_assert_uint_ge(hs.n, 8);
	for (size_t i = 0; i < 8; i++)
		gold_b += hs.items[i].label == 1;
	ck_assert_msg(eb_gen_task("hellaswag-gen", SAMPLES "/hellaswag_sample.jsonl", 8,
				  " The answer is B.", &res, &err) == 0,
		      "%s", err.msg);
	ck_assert_uint_eq(eb_test_fake.n_generate, 8);
	p = (double)gold_b / 8.0;
	ck_assert_double_eq(eb_fig(&res, "acc")->value, p);
	ck_assert_double_eq_tol(eb_fig(&res, "acc")->se, sqrt(p * (1 - p) / 7.0), 1e-15);
	ck_assert_int_eq(eb_fig(&res, "acc")->n, 8);
	ck_assert_double_eq(eb_fig(&res, "invalid")->value, 0);
	ck_assert_uint_eq(json_array_size(res.samples), 8);
	for (size_t i = 0; i < 8; i++) {
		rec = json_array_get(res.samples, i);
		ck_assert_int_eq(json_integer_value(json_object_get(rec, "answer")), 1);
		ck_assert_int_eq(json_integer_value(json_object_get(rec, "gold")), hs.items[i].label);
		ck_assert(json_boolean_value(json_object_get(rec, "correct")) ==
			  (hs.items[i].label == 1));
		rec = json_object_get(rec, "result");
		ck_assert_str_eq(json_string_value(json_object_get(rec, "reply")), " The answer is B.");
		ck_assert_str_eq(json_string_value(json_object_get(rec, "parsed")), "B");
		ck_assert_str_eq(json_string_value(json_object_get(rec, "rule")), "answer");
	}
	ck_assert_str_eq(json_string_value(json_object_get(res.params, "route")), "generative");
	ck_assert_str_eq(json_string_value(json_object_get(res.params, "chat_template")),
			 "none (the prompt goes as plain text)");
	ck_assert_ptr_null(json_object_get(res.params, "n_batch"));
	eb_acc_result_release(&res);
	eb_hellaswag_release(&hs);

	/* a reply cut at its stop string ("\n\n") before it names two letters */
	ck_assert_int_eq(eb_gen_task("mmlu-gen", SAMPLES "/edge_computing_test.csv", 0,
				     "C\n\nor maybe A", &res, &err),
			 0);
	/* the sample's golds: B C A A C B C B, three of them C */
	ck_assert_double_eq(eb_fig(&res, "acc")->value, 3.0 / 8.0);
	ck_assert_double_eq(eb_fig(&res, "invalid")->value, 0);
	ck_assert_str_eq(json_string_value(json_object_get(res.params, "subject")),
			 "edge computing");
	rec = json_object_get(json_array_get(res.samples, 0), "result");
	ck_assert_str_eq(json_string_value(json_object_get(rec, "reply")), "C");
	eb_acc_result_release(&res);

	/* bytes that are not UTF-8 reach the record cleaned; the letter is still read */
	ck_assert_int_eq(eb_gen_task("mmlu-gen", SAMPLES "/edge_computing_test.csv", 1,
				     "\xff\xfe B\x1b", &res, &err),
			 0);
	ck_assert_double_eq(eb_fig(&res, "acc")->value, 1);
	rec = json_object_get(json_array_get(res.samples, 0), "result");
	ck_assert_str_eq(json_string_value(json_object_get(rec, "reply")),
			 "\xef\xbf\xbd\xef\xbf\xbd B\\x1b");
	eb_acc_result_release(&res);

	/* nothing to parse: every item invalid, and wrong */
	ck_assert_int_eq(eb_gen_task("mmlu-gen", SAMPLES "/edge_computing_test.csv", 3,
				     "I do not know", &res, &err),
			 0);
	ck_assert_double_eq(eb_fig(&res, "acc")->value, 0);
	ck_assert_double_eq(eb_fig(&res, "acc")->se, 0);
	ck_assert_double_eq(eb_fig(&res, "invalid")->value, 3);
	ck_assert_int_eq(eb_fig(&res, "invalid")->n, 3);
	rec = json_array_get(res.samples, 2);
	ck_assert_int_eq(json_integer_value(json_object_get(rec, "answer")), -1);
	ck_assert(json_is_false(json_object_get(rec, "correct")));
	ck_assert(json_is_null(json_object_get(json_object_get(rec, "result"), "parsed")));
	eb_acc_result_release(&res);
}
END_TEST

/* The sample's second problem has 10 for its answer: one of eight right. */
/*
 * mmlu-gen reads what the log-likelihood mmlu reads (datasets/mc.c), the archive of every
 * subject included: each prompt is mmlu's context as sent, acc the share of golds equal
 * to the reply's letter, and over several subjects acc's stderr is lm-eval's pooled one,
 * here summed by hand: sqrt(sum h_i (n_i - h_i) / n_i / (N - k) / N).
 */
START_TEST(mmlu_gen_reads_mmlu_and_pools_subjects)
{
	struct eb_acc_result res = { 0 };
	struct eb_err err;
	struct eb_mc ds;
	double hits_b = 0, sum = 0;
	size_t *h, *n;
	json_t *rec;

	ck_assert_int_eq(eb_mc_load(&ds, EB_MC_MMLU, SAMPLES "/data.tar", NULL, &err), 0);
	ck_assert_uint_gt(ds.n_groups, 1);
	h = eb_xcalloc(ds.n_groups, sizeof(*h));
	n = eb_xcalloc(ds.n_groups, sizeof(*n));
	for (size_t i = 0; i < ds.n; i++) {
		n[ds.items[i].group]++;
		h[ds.items[i].group] += ds.items[i].gold == 1;
		hits_b += ds.items[i].gold == 1;
	}
	for (size_t g = 0; g < ds.n_groups; g++)
		sum += (double)h[g] * (double)(n[g] - h[g]) / (double)n[g];
	ck_assert_int_eq(eb_gen_task("mmlu-gen", SAMPLES "/data.tar", 0, "B", &res, &err), 0);
	ck_assert_double_eq(eb_fig(&res, "acc")->value, hits_b / (double)ds.n);
	ck_assert_double_eq_tol(eb_fig(&res, "acc")->se,
				sqrt(sum / (double)(ds.n - ds.n_groups) / (double)ds.n), 1e-15);
	ck_assert_int_eq(eb_fig(&res, "acc")->n, (long long)ds.n);
	ck_assert_int_eq(json_integer_value(json_object_get(res.params, "n_subjects")),
			 (json_int_t)ds.n_groups);
	ck_assert_uint_eq(json_array_size(res.samples), ds.n);
	/* the record names the subject's file, and its hash is of mmlu's own context */
	rec = json_array_get(res.samples, ds.n - 1);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(rec, "doc")),
				     ds.items[ds.n - 1].file));
	{
		char sha[65];

		eb_sha256_hex(ds.items[ds.n - 1].ctx[0], strlen(ds.items[ds.n - 1].ctx[0]), sha);
		ck_assert_str_eq(json_string_value(json_object_get(rec, "prompt_sha256")), sha);
	}
	eb_acc_result_release(&res);
	free(h);
	free(n);
	eb_mc_release(&ds);
}
END_TEST

START_TEST(gsm8k_gen_on_fake_adapter)
{
	struct eb_acc_result res;
	struct eb_err err;
	const json_t *rec;

	ck_assert_int_eq(eb_gen_task("gsm8k-gen", SAMPLES "/gsm8k_sample.jsonl", 0,
				     " 12 / 1.2 = 10 pages\n#### 10\n\nQuestion: more", &res, &err),
			 0);
	ck_assert_double_eq(eb_fig(&res, "exact_match_strict")->value, 1.0 / 8.0);
	ck_assert_double_eq(eb_fig(&res, "exact_match_strict")->se, 0.125);
	ck_assert_double_eq(eb_fig(&res, "exact_match_flexible")->value, 1.0 / 8.0);
	ck_assert_double_eq(eb_fig(&res, "invalid")->value, 0);
	rec = json_array_get(res.samples, 1);
	ck_assert(json_is_true(json_object_get(rec, "correct")));
	rec = json_object_get(rec, "result");
	ck_assert_str_eq(json_string_value(json_object_get(rec, "reply")),
			 " 12 / 1.2 = 10 pages\n#### 10\n\n");
	ck_assert_str_eq(json_string_value(json_object_get(rec, "strict_match")), "10");
	ck_assert_str_eq(json_string_value(json_object_get(rec, "target")), "10");
	eb_acc_result_release(&res);

	/* no "####": strict finds nothing (invalid); flexible takes the last number */
	ck_assert_int_eq(eb_gen_task("gsm8k-gen", SAMPLES "/gsm8k_sample.jsonl", 3,
				     "They have 184 left, so 184", &res, &err),
			 0);
	ck_assert_double_eq(eb_fig(&res, "exact_match_strict")->value, 0);
	ck_assert_double_eq(eb_fig(&res, "exact_match_flexible")->value, 1.0 / 3.0);
	ck_assert_double_eq(eb_fig(&res, "invalid")->value, 3);
	eb_acc_result_release(&res);
}
END_TEST

/* --- llamacpp's replies -------------------------------------------------------------- */

/* One greedy may_stop reply of the llamacpp adapter to a tokenized prompt. */
static int eb_lc_reply(const struct eb_adapter_ops *ops, void *st, const int32_t *tok, size_t n,
		       const char *const *stops, struct eb_buf *text, struct eb_err *err)
{
	struct eb_gen_req rq = { .prompt_tokens = tok, .n_prompt_tokens = n, .prompt_text = "",
				 .n_predict = 24, .may_stop = 1, .stop_strings = stops,
				 .text = text };
	struct eb_gen_res res;
	int ret;

	memset(&res, 0, sizeof(res));
	eb_buf_reset(text);
	ret = ops->generate(st, &rq, &res, err);
	if (res.server)
		json_decref(res.server);
	return ret;
}

/*
 * The llamacpp adapter's text is the detokenized reply, and a stop string ends it: the
 * reply with a stop string taken from the middle of the free reply is exactly the free
 * reply's text before that string (greedy decoding is deterministic).
 */
START_TEST(llamacpp_text_until_stop)
{
	const struct eb_adapter_ops *ops = eb_adapter_find("llamacpp");
	char model[4096], stop[4] = "";
	const char *stops[] = { stop, NULL };
	json_t *opts = json_pack("{s:i, s:i}", "n_ctx", 256, "threads", 1);
	struct eb_adapter_args a = { .target_id = "t", .model_id = "m", .quant = "q8_0",
				     .model_file = model, .options = opts };
	struct eb_buf free_reply, text;
	int32_t *tok = NULL;
	size_t ntok = 0, cut;
	struct eb_err err;
	void *st = NULL;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	snprintf(model, sizeof(model), "%s/tiny-q8_0.gguf", eb_test_models_dir());
	ck_assert_msg(ops->open(&a, &st, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(ops->tokenize(st, "Question: What is two plus two?\nAnswer:", 1, &tok,
				       &ntok, &err),
			 0);
	eb_buf_init(&free_reply, 0);
	eb_buf_init(&text, 0);
	ck_assert_msg(eb_lc_reply(ops, st, tok, ntok, NULL, &free_reply, &err) == 0, "%s", err.msg);
	fprintf(stderr, "check_gen: llamacpp reply '%s'\n", free_reply.buf);
	ck_assert_msg(free_reply.len >= 8, "a reply of %zu bytes is too short to cut", free_reply.len);
	memcpy(stop, free_reply.buf + free_reply.len / 2, 3);
	cut = (size_t)(strstr(free_reply.buf, stop) - free_reply.buf);
	ck_assert_msg(eb_lc_reply(ops, st, tok, ntok, stops, &text, &err) == 0, "%s", err.msg);
	ck_assert_msg(text.len == cut && memcmp(text.buf, free_reply.buf, cut) == 0,
		      "stop '%s': '%s' against '%s'", stop, text.buf, free_reply.buf);
	free(tok);
	eb_buf_release(&free_reply);
	eb_buf_release(&text);
	ops->close(st);
	json_decref(opts);
}
END_TEST

/* --- the card ----------------------------------------------------------------------- */

/*
 * A llamacpp run with hellaswag by both routes, a perplexity task between them and
 * gsm8k-gen: the card shows each hellaswag-gen row right under the hellaswag ones,
 * labelled by route, GSM8K's generative rows after the log-likelihood ones, and each
 * value and stderr as stored.
 */
START_TEST(card_pairs_the_routes)
{
	static const char *const want[] = {
		"\"hs acc (hellaswag, log-likelihood, limit 4)\",",
		"\"hs acc_norm (hellaswag, log-likelihood, limit 4)\",",
		"\"hsg acc (hellaswag-gen, generative, limit 4)\",",
		"\"hsg invalid (hellaswag-gen, generative, limit 4)\",",
		"\"ppl nll_mean (wikitext2-gptq, limit 2)\",",
		"\"ppl ppl (wikitext2-gptq, limit 2)\",",
		"\"gsm exact_match_flexible (gsm8k-gen, generative, limit 2)\",",
		"\"gsm exact_match_strict (gsm8k-gen, generative, limit 2)\",",
		"\"gsm invalid (gsm8k-gen, generative, limit 2)\",",
	};
	char db[8192], *out = NULL, *line, *save = NULL;
	const char *argv[] = { "edgebench", "report", "--db", db, "--layout", "card", "--format",
			       "csv", NULL };
	struct eb_buf b;
	sqlite3 *h;
	size_t k = 0;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_buf_init(&b, 0);
	eb_buf_addf(&b,
		    "{ \"name\": \"gen-card\",\n"
		    "  \"targets\": [ { \"id\": \"cpu\", \"adapter\": \"llamacpp\",\n"
		    "     \"options\": { \"n_ctx\": 1024, \"threads\": 1 } } ],\n"
		    "  \"models\": [ { \"id\": \"tiny\", \"variants\": [\n"
		    "     { \"quant\": \"q8_0\", \"file\": \"%s/tiny-q8_0.gguf\" } ] } ],\n"
		    "  \"workloads\": { \"accuracy\": { \"tasks\": [\n"
		    "     { \"task\": \"hs\", \"protocol\": \"hellaswag\", \"file\": \"%s\", \"limit\": 4 },\n"
		    "     { \"task\": \"gsm\", \"protocol\": \"gsm8k-gen\", \"file\": \"%s\", \"limit\": 2,\n"
		    "       \"max_tokens\": 16 },\n"
		    "     { \"task\": \"ppl\", \"protocol\": \"wikitext2-gptq\", \"file\": \"%s\",\n"
		    "       \"seqlen\": 128, \"limit\": 2 },\n"
		    "     { \"task\": \"hsg\", \"protocol\": \"hellaswag-gen\", \"file\": \"%s\", \"limit\": 4 } ] } } }\n",
		    eb_test_models_dir(), SAMPLES "/hellaswag_sample.jsonl",
		    SAMPLES "/gsm8k_sample.jsonl", SAMPLES "/wikitext-2-raw-v1.zip",
		    SAMPLES "/hellaswag_sample.jsonl");
	eb_test_run_config("gen-card", b.buf, db, sizeof(db));
	eb_buf_release(&b);
	ck_assert_int_eq(eb_test_run(argv, &out), 0);
	h = eb_test_db_open(db);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int se = strstr(line, "), stderr\",") != NULL;
		const char *v;
		char *task, *sql;

		if (strncmp(line, "metric,", 7) == 0)
			continue;
		/* a stderr row follows its figure's row; the figures' rows in the order above */
		if (!se) {
			ck_assert_msg(k < sizeof(want) / sizeof(want[0]), "extra row '%s'", line);
			ck_assert_msg(strncmp(line, want[k], strlen(want[k])) == 0,
				      "row %zu '%s', want '%s'", k, line, want[k]);
			k++;
		}
		/* the value as stored: task and metric are the label's first two words */
		task = eb_xstrdup(line + (line[0] == '"'));
		*strchr(strchr(task, ' ') + 1, ' ') = '\0';
		*strchr(task, ' ') = '\0';
		sql = eb_xstrdup(task + strlen(task) + 1);
		v = strrchr(line, ',') + 1;
		ck_assert_double_eq(strtod(v, NULL),
				    eb_test_q(h, "SELECT %s FROM accuracy WHERE task='%s' AND "
						 "metric='%s'", se ? "stderr" : "value", task, sql));
		free(task);
		free(sql);
	}
	ck_assert_uint_eq(k, sizeof(want) / sizeof(want[0]));
	sqlite3_close(h);
	free(out);
}
END_TEST

Suite *eb_gen_suite(void);

Suite *eb_gen_suite(void)
{
	Suite *s = suite_create("gen");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, answer_letter_rules);
	tcase_add_test(tc, answer_until_stop_strings);
	tcase_add_test(tc, gsm8k_filters_as_lmeval);
	tcase_add_test(tc, gsm8k_loader);
	tcase_add_test(tc, mc_gen_on_fake_adapter);
	tcase_add_test(tc, mmlu_gen_reads_mmlu_and_pools_subjects);
	tcase_add_test(tc, gsm8k_gen_on_fake_adapter);
	tcase_add_test(tc, llamacpp_text_until_stop);
	tcase_add_test(tc, card_pairs_the_routes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_gen_suite());
}
