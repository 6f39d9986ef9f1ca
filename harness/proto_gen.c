/* proto_gen.c: the generative protocols (hellaswag-gen, mmlu-gen, gsm8k-gen): a prompt to the adapter's generate, the reply's answer parsed and graded. */
#include "accuracy_priv.h"

#include "answer.h"
#include "gsm8k.h"
#include "mc.h"
#include "eb_sanitize.h"
#include "eb_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Replies end at a blank line: a letter answer is on the first lines. */
static const char *const eb_mc_stops[] = { "\n\n", NULL };
/* lm-eval's gsm8k generation_kwargs.until */
static const char *const eb_gsm8k_stops[] = { "Question:", "</s>", "<|im_end|>", NULL };

/* max_tokens when a task sets none: a letter needs few; lm-eval's max_gen_toks for gsm8k */
#define EB_MC_MAX_TOKENS 32
#define EB_GSM8K_MAX_TOKENS 256

/*
 * What the generative protocols record with their figures: the reply limits, and the
 * template the prompt went through (the adapter's describe() says which; "none" when the
 * prompt goes to the model as plain text).
 */
static void eb_gen_params(struct eb_acc *A, struct eb_acc_result *res, size_t n_items,
			  long long max_tokens, const char *const *stops, const char *prompt)
{
	const json_t *b = A->env->backend;
	const char *tpl = json_string_value(json_object_get(b, "chat_template"));
	const char *ep = json_string_value(json_object_get(b, "endpoint"));
	json_t *st = json_array();

	for (size_t k = 0; stops[k]; k++)
		json_array_append_new(st, json_string(stops[k]));
	json_object_set_new(res->params, "route", json_string("generative"));
	json_object_set_new(res->params, "n_items", json_integer((json_int_t)n_items));
	json_object_set_new(res->params, "max_tokens", json_integer(max_tokens));
	json_object_set_new(res->params, "stop", st);
	json_object_set_new(res->params, "temperature", json_real(0.0));
	json_object_set_new(res->params, "prompt_format", json_string(prompt));
	if (ep)
		json_object_set_new(res->params, "endpoint", json_string(ep));
	json_object_set_new(res->params, "chat_template",
			    json_string(tpl ? tpl : "none (the prompt goes as plain text)"));
}

/*
 * One greedy reply to `prompt`, at most max_tokens, ended by the model or a stop string,
 * into reply (cut before the first stop string, as lm-eval cuts it); *n_out the tokens
 * the backend counted (-1 unknown). Adapters that take token ids get the prompt
 * tokenized with the model's special tokens (BOS).
 */
static int eb_gen_reply(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
			const char *prompt, const char *const *stops, long long max_tokens,
			struct eb_buf *reply, int *n_out, struct eb_err *err)
{
	struct eb_gen_req rq = {
		.prompt_text = prompt,
		.n_predict = (int)max_tokens,
		.temperature = 0,
		.stop = A->env->stop,
		.may_stop = 1,
		.stop_strings = stops,
		.text = reply,
	};
	struct eb_gen_res res;
	int32_t *tok = NULL;
	size_t ntok = 0;
	int ret = 0;

	memset(&res, 0, sizeof(res));
	eb_buf_reset(reply);
	*n_out = -1;
	if (A->env->stop && *A->env->stop)
		return eb_err_set(err, EB_EINTR, "interrupted");
	if (ops->caps & EB_CAP_PROMPT_TOKENS) {
		ret = eb_acc_tokenize(A, ops, st, prompt, 1, &tok, &ntok, err);
		if (ret)
			return ret;
		rq.prompt_tokens = tok;
		rq.n_prompt_tokens = ntok;
	}
	if (ops->reset)
		ret = ops->reset(st, err);
	if (!ret)
		ret = ops->generate(st, &rq, &res, err);
	if (ret == EB_EUNSUPPORTED)
		A->unsupported = 1;
	if (!ret) {
		size_t cut = eb_answer_until(reply->buf, stops);

		*n_out = res.n_out;
		if (cut < reply->len) { /* then the buffer holds the reply, never the static "" */
			reply->len = cut;
			reply->buf[cut] = '\0';
		}
	}
	if (res.server)
		json_decref(res.server);
	free(tok);
	return ret;
}

/*
 * A reply as a JSON string for its record. A model's bytes need not be UTF-8 (a reply
 * cut inside a character, a byte-level token) and JSON strings must be: the record gets
 * the cleaned text (base/eb_sanitize.h; line feeds and tabs kept); the answer was read
 * from the bytes as they came.
 */
static json_t *eb_gen_reply_json(const char *reply)
{
	struct eb_san san;
	char *clean;
	json_t *j;

	eb_san_init(&san, EB_SAN_KEEP_TAB | EB_SAN_KEEP_NL, 0);
	clean = eb_sanitize_str(reply, &san);
	j = json_string(clean);
	free(clean);
	eb_san_release(&san);
	return j;
}

/* lm-eval's mean_stderr of 0/1 scores (eb_hellaswag_stderr): NaN below two items. */
static void eb_gen_acc(struct eb_acc_result *res, const char *name, size_t hits, size_t n)
{
	eb_acc_put(res, name, n ? (double)hits / (double)n : NAN, eb_hellaswag_stderr(hits, n),
		   (long long)n);
}

/* --- multiple choice by generation --------------------------------------------------- */

/* One multiple-choice item as the generic core reads it; strings are borrowed. */
struct eb_gen_mc_item {
	const char *prompt;  /* the whole prompt, choices lettered (MMLU's, as datasets/mc.c
			      * writes lm-eval's); NULL: built from header + question + choice */
	const char *question;
	const char *choice[EB_ANSWER_MAX_CHOICES];
	int n_choices;
	int gold;    /* 0-based */
	size_t line; /* in the dataset file */
	const char *file; /* the file it came from, named in records when there are groups */
	size_t group;     /* MMLU: its subject (0 .. n_groups - 1); else 0 */
};

/*
 * The generic multiple choice by generation: for each item the prompt header +
 * question + "\nA. choice" ... + "\nAnswer:", the reply's letter by eb_answer_letter
 * (datasets/answer.h), acc over all items (an invalid reply counts as wrong) and the
 * count of invalid replies; one record per item with the reply, its letter and rule.
 */
static int eb_mc_gen(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
		     const char *header, const struct eb_gen_mc_item *items, size_t n,
		     size_t n_groups, struct eb_acc_result *res, struct eb_err *err)
{
	long long max_tokens = A->t->max_tokens ? A->t->max_tokens : EB_MC_MAX_TOKENS;
	size_t hits = 0, invalid = 0, k_groups = n_groups > 1 ? n_groups : 1;
	size_t *g_hits = eb_xcalloc(k_groups, sizeof(*g_hits));
	size_t *g_n = eb_xcalloc(k_groups, sizeof(*g_n));
	struct eb_buf prompt, reply;
	int ret = 0;

	eb_buf_init(&prompt, 0);
	eb_buf_init(&reply, 0);
	A->total = n;
	A->unit = "items";
	A->metric = "acc";
	eb_gen_params(A, res, n, max_tokens, eb_mc_stops,
		      "<header><question>\\nA. <choice>\\nB. <choice>...\\nAnswer:");
	for (size_t i = 0; i < n && !ret; i++) {
		const struct eb_gen_mc_item *it = &items[i];
		const char *rule;
		char doc[4200], sha[65], letter[2] = "";
		json_t *r;
		int n_out, got;

		eb_buf_reset(&prompt);
		if (it->prompt) {
			eb_buf_addstr(&prompt, it->prompt);
		} else {
			eb_buf_addf(&prompt, "%s%s", header, it->question);
			for (int k = 0; k < it->n_choices; k++)
				eb_buf_addf(&prompt, "\n%c. %s", 'A' + k, it->choice[k]);
			eb_buf_addstr(&prompt, "\nAnswer:");
		}
		ret = eb_gen_reply(A, ops, st, prompt.buf, eb_mc_stops, max_tokens, &reply, &n_out,
				   err);
		if (ret)
			break;
		got = eb_answer_letter(reply.buf, it->n_choices, &rule);
		hits += got == it->gold;
		invalid += got < 0;
		g_hits[n_groups > 1 ? it->group : 0] += got == it->gold;
		g_n[n_groups > 1 ? it->group : 0]++;
		if (n_groups > 1 && it->file)
			snprintf(doc, sizeof(doc), "%s line %zu", it->file, it->line);
		else
			snprintf(doc, sizeof(doc), "line %zu", it->line);
		eb_sha256_hex(prompt.buf, prompt.len, sha);
		r = eb_acc_sample(A, i, doc, sha, "prompt text", got, it->gold);
		json_object_set_new(r, "reply", eb_gen_reply_json(reply.buf));
		if (got >= 0)
			letter[0] = (char)('A' + got);
		json_object_set_new(r, "parsed", got >= 0 ? json_string(letter) : json_null());
		json_object_set_new(r, "rule", json_string(rule));
		json_object_set_new(r, "n_out", n_out >= 0 ? json_integer(n_out) : json_null());
		A->done++;
		A->running = (double)hits / (double)A->done;
	}
	if (!ret && n_groups > 1) /* several subjects: lm-eval's pooled stderr of the group */
		eb_acc_put(res, "acc", n ? (double)hits / (double)n : NAN,
			   eb_mc_pooled_stderr(g_hits, g_n, k_groups), (long long)n);
	else if (!ret)
		eb_gen_acc(res, "acc", hits, n);
	if (!ret)
		eb_acc_put(res, "invalid", (double)invalid, NAN, (long long)n);
	free(g_hits);
	free(g_n);
	eb_buf_release(&prompt);
	eb_buf_release(&reply);
	return ret;
}

/* HellaSwag's items (lm-eval's preprocessing) as lettered choices. */
int eb_proto_hellaswag_gen(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
			   const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	struct eb_hellaswag ds;
	struct eb_gen_mc_item *items;
	size_t n;
	int ret = eb_hellaswag_load(&ds, path, err);

	if (ret)
		return ret;
	n = eb_min_limit(ds.n, A->t->limit);
	items = eb_xcalloc(n + 1, sizeof(*items));
	for (size_t i = 0; i < n; i++) {
		items[i].question = ds.items[i].query;
		for (int k = 0; k < EB_HELLASWAG_NCHOICES; k++)
			items[i].choice[k] = ds.items[i].choice[k];
		items[i].n_choices = EB_HELLASWAG_NCHOICES;
		items[i].gold = ds.items[i].label;
		items[i].line = ds.items[i].line;
	}
	ret = eb_mc_gen(A, ops, st, "Pick the most plausible continuation of the text.\n\n", items,
			n, 0, res, err);
	free(items);
	eb_hellaswag_release(&ds);
	return ret;
}

/*
 * MMLU under lm-eval's mmlu prompt, read by the same loader as the log-likelihood `mmlu`
 * (datasets/mc.c: one SUBJECT_test.csv or Hendrycks' data.tar): its prompt already
 * letters the choices and ends in "Answer:"; over several subjects acc's stderr is
 * lm-eval's pooled one, as for `mmlu`.
 */
int eb_proto_mmlu_gen(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
		      const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	struct eb_mc ds;
	struct eb_gen_mc_item *items;
	size_t n;
	int ret = eb_mc_load(&ds, EB_MC_MMLU, path, NULL, err);

	if (ret)
		return ret;
	n = eb_min_limit(ds.n, A->t->limit);
	items = eb_xcalloc(n + 1, sizeof(*items));
	for (size_t i = 0; i < n; i++) {
		items[i].prompt = ds.items[i].ctx[0];
		items[i].n_choices = (int)ds.items[i].n_choices;
		items[i].gold = ds.items[i].gold;
		items[i].line = ds.items[i].line;
		items[i].file = ds.items[i].file;
		items[i].group = ds.items[i].group;
	}
	if (ds.n_groups == 1) { /* the subject's words, as its prompt names it */
		char *words = eb_xstrdup(ds.groups[0]);

		for (char *p = words; *p; p++)
			if (*p == '_')
				*p = ' ';
		json_object_set_new(res->params, "subject", json_string(words));
		free(words);
	} else if (ds.n_groups) {
		json_object_set_new(res->params, "n_subjects", json_integer((json_int_t)ds.n_groups));
	}
	ret = eb_mc_gen(A, ops, st, "", items, n, ds.n_groups, res, err);
	free(items);
	eb_mc_release(&ds);
	return ret;
}

/* --- GSM8K ------------------------------------------------------------------------- */

/*
 * lm-eval's gsm8k, 0-shot: "Question: {question}\nAnswer:", greedy until its stop
 * strings, both filters (strict-match, flexible-extract) and exact match against the
 * target's number; invalid counts replies strict-match finds no "#### N" in.
 */
int eb_proto_gsm8k_gen(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
		       const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	long long max_tokens = A->t->max_tokens ? A->t->max_tokens : EB_GSM8K_MAX_TOKENS;
	struct eb_gsm8k ds;
	struct eb_buf prompt, reply;
	size_t n, strict_hits = 0, flex_hits = 0, invalid = 0;
	int ret = eb_gsm8k_load(&ds, path, err);

	if (ret)
		return ret;
	n = eb_min_limit(ds.n, A->t->limit);
	eb_buf_init(&prompt, 0);
	eb_buf_init(&reply, 0);
	A->total = n;
	A->unit = "problems";
	A->metric = "exact_match_strict";
	eb_gen_params(A, res, n, max_tokens, eb_gsm8k_stops, "Question: <question>\\nAnswer:");
	json_object_set_new(res->params, "num_fewshot", json_integer(0));
	for (size_t i = 0; i < n && !ret; i++) {
		const struct eb_gsm8k_item *it = &ds.items[i];
		char doc[64], sha[65], *strict, *flex, *target;
		int n_out, ok_strict, ok_flex;
		json_t *r;

		eb_buf_reset(&prompt);
		eb_buf_addf(&prompt, "Question: %s\nAnswer:", it->question);
		ret = eb_gen_reply(A, ops, st, prompt.buf, eb_gsm8k_stops, max_tokens, &reply,
				   &n_out, err);
		if (ret)
			break;
		strict = eb_gsm8k_strict(reply.buf);
		flex = eb_gsm8k_flexible(reply.buf);
		target = eb_gsm8k_normalize(it->answer);
		ok_strict = eb_gsm8k_exact_match(strict, it->answer);
		ok_flex = eb_gsm8k_exact_match(flex, it->answer);
		strict_hits += ok_strict;
		flex_hits += ok_flex;
		invalid += strcmp(strict, EB_GSM8K_INVALID) == 0;
		snprintf(doc, sizeof(doc), "line %zu", it->line);
		eb_sha256_hex(prompt.buf, prompt.len, sha);
		/* the record's answer and gold are not letters: its verdict is strict-match's */
		r = eb_acc_sample(A, i, doc, sha, "prompt text", -1, -1);
		json_object_set_new(r, "reply", eb_gen_reply_json(reply.buf));
		json_object_set_new(r, "target", json_string(target));
		json_object_set_new(r, "strict_match", json_string(strict));
		json_object_set_new(r, "flexible_extract", json_string(flex));
		json_object_set_new(r, "correct_strict", json_boolean(ok_strict));
		json_object_set_new(r, "correct_flexible", json_boolean(ok_flex));
		json_object_set_new(r, "n_out", n_out >= 0 ? json_integer(n_out) : json_null());
		json_object_set_new(json_array_get(A->samples, json_array_size(A->samples) - 1),
				    "correct", json_boolean(ok_strict));
		free(strict);
		free(flex);
		free(target);
		A->done++;
		A->running = (double)strict_hits / (double)A->done;
	}
	if (!ret) {
		eb_gen_acc(res, "exact_match_strict", strict_hits, n);
		eb_gen_acc(res, "exact_match_flexible", flex_hits, n);
		eb_acc_put(res, "invalid", (double)invalid, NAN, (long long)n);
	}
	eb_buf_release(&prompt);
	eb_buf_release(&reply);
	eb_gsm8k_release(&ds);
	return ret;
}
