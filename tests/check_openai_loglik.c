/* ctest: labels=integration timeout=180 */
/* check_openai_loglik.c: remote accuracy scoring through the openai adapter against a fake vLLM on loopback: exact figures, skips and malformed answers. */
#include "adapter.h"
#include "hellaswag.h"
#include "wikitext.h"
#include "eb_util.h"
#include "eb_build.h"
#include "mockhttp.h"
#include "testutil.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLES EB_SOURCE_DIR "/datasets/samples"

/*
 * --- the fake vLLM -------------------------------------------------------------------
 * Tokens are bytes + 3 (BOS = 1, added with add_special_tokens). The log-probability of
 * prompt token t at position p is eb_f(p, t), and vLLM's -9999 stands in for -inf where
 * (7t + 3p) % 1009 == 0. Scoring requests (a list of token lists) answer by model name:
 * "vllm" as vLLM does; "bad-nologprobs" without logprobs, "bad-length" with the last
 * prompt entry missing, "bad-nonnumeric" with a string in token_logprobs; "no-echo" never
 * echoes (as llama-server and Ollama), the capability probe included.
 */
#define EB_BOS 1

static double eb_f(size_t pos, int32_t tok)
{
	long x = ((long)tok * 101 + (long)pos * 31) % 1000;

	if (((long)tok * 7 + (long)pos * 3) % 1009 == 0)
		return -9999.0;
	return -(0.01 + (double)(x * x * x) / 1e8); /* heavy-tailed: not just length decides */
}

static size_t eb_tok(const char *text, int bos, int32_t *out)
{
	size_t n = 0;

	if (bos)
		out[n++] = EB_BOS;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		out[n++] = (int32_t)*p + 3;
	return n;
}

struct eb_vllm {
	int n_probe;       /* echo requests with one prompt (the capability probe) */
	int n_score;       /* echo requests with a list of prompts */
	int max_batch;     /* most prompts in one */
	int max_tokens;    /* of the last echo request */
	char bad[512];     /* the first request that broke the fake's expectations */
};

static void eb_vllm_reply(int fd, json_t *resp)
{
	char *js = json_dumps(resp, JSON_COMPACT);

	eb_mock_respond(fd, "200 OK", "application/json", js);
	free(js);
	json_decref(resp);
}

static void eb_vllm_reject(struct eb_vllm *v, int fd, const char *why)
{
	json_t *e = json_pack("{s:{s:s, s:i}}", "error", "message", why, "code", 400);
	char *js = json_dumps(e, JSON_COMPACT);

	if (!v->bad[0])
		snprintf(v->bad, sizeof(v->bad), "%s", why);
	eb_mock_respond(fd, "400 Bad Request", "application/json", js);
	free(js);
	json_decref(e);
}

/*
 * One choice for prompt tokens t[0..n) as vLLM writes it (serving_completion.py,
 * _create_completion_logprobs: tokens, token_logprobs, top_logprobs and text_offset, null
 * where nothing predicts a token, max(logprob, -9999)), spoiled as `model` says.
 */
static json_t *eb_vllm_choice(const char *model, int batch, size_t index, const int32_t *t,
			      size_t n, int max_tokens)
{
	json_t *tl = json_array(), *toks = json_array(), *top = json_array(), *off = json_array();
	json_t *lp;
	char name[32];

	for (size_t p = 0; p < n; p++) {
		snprintf(name, sizeof(name), "<%d>", (int)t[p]);
		json_array_append_new(tl, p ? json_real(eb_f(p, t[p])) : json_null());
		json_array_append_new(top, p ? json_pack("{s:f}", name, eb_f(p, t[p])) : json_null());
		json_array_append_new(toks, json_string(name));
		json_array_append_new(off, json_integer((json_int_t)p));
	}
	if (max_tokens) {
		json_array_append_new(tl, json_real(-0.5));
		json_array_append_new(top, json_pack("{s:f}", "<gen>", -0.5));
		json_array_append_new(toks, json_string("<gen>"));
		json_array_append_new(off, json_integer((json_int_t)n));
	}
	if (batch && strcmp(model, "bad-length") == 0) {
		json_array_remove(tl, json_array_size(tl) - 1);
		json_array_remove(toks, json_array_size(toks) - 1);
		if (max_tokens) {
			json_array_remove(tl, json_array_size(tl) - 1);
			json_array_remove(toks, json_array_size(toks) - 1);
		}
	}
	if (batch && strcmp(model, "bad-nonnumeric") == 0)
		json_array_set_new(tl, 2, json_string("x"));
	lp = json_pack("{s:o, s:o, s:o, s:o}", "token_logprobs", tl, "tokens", toks,
		       "top_logprobs", top, "text_offset", off);
	if (batch && strcmp(model, "bad-nologprobs") == 0) {
		json_decref(lp);
		lp = json_null();
	}
	return json_pack("{s:I, s:s, s:o, s:s}", "index", (json_int_t)index, "text", "",
			 "logprobs", lp, "finish_reason", "length");
}

static int eb_vllm_completions(struct eb_vllm *v, int fd, json_t *req)
{
	const char *model = json_string_value(json_object_get(req, "model"));
	json_t *prompt = json_object_get(req, "prompt"), *mt = json_object_get(req, "max_tokens");
	json_t *choices = json_array(), *p;
	int32_t buf[8192];
	size_t i, n_prompt = 0, n_gen = 0;
	int batch = json_is_array(prompt) && json_is_array(json_array_get(prompt, 0));

	if (!model)
		model = "";
	if (!json_is_true(json_object_get(req, "echo")) ||
	    !json_is_integer(json_object_get(req, "logprobs")) || !json_is_integer(mt) ||
	    json_integer_value(mt) < 0 || json_integer_value(mt) > 1 ||
	    json_number_value(json_object_get(req, "temperature")) != 0.0 ||
	    !json_is_real(json_object_get(req, "temperature"))) {
		json_decref(choices);
		eb_vllm_reject(v, fd, "a scoring request needs echo, logprobs, max_tokens 0..1 and "
				      "temperature 0");
		return 1;
	}
	v->max_tokens = (int)json_integer_value(mt);
	if (batch) {
		v->n_score++;
		if ((int)json_array_size(prompt) > v->max_batch)
			v->max_batch = (int)json_array_size(prompt);
	} else {
		v->n_probe++;
	}
	for (i = 0; i < (batch ? json_array_size(prompt) : 1); i++) {
		const json_t *one = batch ? json_array_get(prompt, i) : prompt;
		size_t n = 0;

		if (json_is_string(one)) {
			n = eb_tok(json_string_value(one), 1, buf);
		} else {
			json_array_foreach(one, n, p) {
				if (!json_is_integer(p) || n >= 8192) {
					json_decref(choices);
					eb_vllm_reject(v, fd, "a prompt is a list of token ids");
					return 1;
				}
				buf[n] = (int32_t)json_integer_value(p);
			}
			n = json_array_size(one);
		}
		n_prompt += n;
		n_gen += (size_t)v->max_tokens;
		if (strcmp(model, "no-echo") == 0) /* what llama-server answers */
			json_array_append_new(choices,
					      json_pack("{s:I, s:s, s:{s:[{s:s, s:f}]}}", "index",
							(json_int_t)i, "text", " x", "logprobs",
							"content", "token", " x", "logprob", -0.5));
		else
			json_array_append_new(choices, eb_vllm_choice(model, batch, i, buf, n,
								      v->max_tokens));
	}
	eb_vllm_reply(fd, json_pack("{s:s, s:s, s:o, s:{s:I, s:I, s:I}}", "object",
				    "text_completion", "model", model, "choices", choices, "usage",
				    "prompt_tokens", (json_int_t)n_prompt, "completion_tokens",
				    (json_int_t)n_gen, "total_tokens",
				    (json_int_t)(n_prompt + n_gen)));
	return 1;
}

static int eb_vllm_handle(struct eb_mock *m, int fd, const char *path, const char *body,
			  size_t len)
{
	struct eb_vllm *v = m->ud;
	json_t *req = json_loadb(body, len, 0, NULL);
	int32_t buf[65536];
	int ret = 1;

	if (strcmp(path, "/tokenize") == 0 && req) {
		const char *text = json_string_value(json_object_get(req, "prompt"));
		json_t *toks = json_array();
		size_t n;

		if (!text || strlen(text) + 1 >= sizeof(buf) / sizeof(buf[0])) {
			json_decref(toks);
			eb_vllm_reject(v, fd, "/tokenize needs a \"prompt\" of at most 64k bytes");
			goto out;
		}
		n = eb_tok(text, json_is_true(json_object_get(req, "add_special_tokens")), buf);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(toks, json_integer(buf[i]));
		eb_vllm_reply(fd, json_pack("{s:o, s:I, s:i}", "tokens", toks, "count",
					    (json_int_t)n, "max_model_len", 4096));
	} else if (strcmp(path, "/detokenize") == 0 && req) {
		json_t *t, *toks = json_object_get(req, "tokens");
		struct eb_buf b;
		size_t i;

		eb_buf_init(&b, 0);
		json_array_foreach(toks, i, t) {
			char c = (char)(json_integer_value(t) - 3);

			if (json_integer_value(t) != EB_BOS)
				eb_buf_add(&b, &c, 1);
		}
		eb_vllm_reply(fd, json_pack("{s:s}", "prompt", b.buf ? b.buf : ""));
		eb_buf_release(&b);
	} else if (strcmp(path, "/v1/completions") == 0 && req) {
		ret = eb_vllm_completions(v, fd, req);
	} else {
		ret = 0; /* /v1/models, /props, /version: 404 */
	}
out:
	json_decref(req);
	return ret;
}

/* --- the figures computed here from eb_f, without edgebench's scoring code ---------- */

struct eb_want {
	double ppl;
	size_t n;       /* the figure's n: windows, or scored tokens */
	size_t n_seqs;  /* sequences sent */
	size_t clamped; /* scored tokens at -9999 */
};

static char *eb_sample(const char *name, size_t *len)
{
	char path[4096];
	struct eb_err err;
	char *data = NULL;

	snprintf(path, sizeof(path), "%s/%s", SAMPLES, name);
	ck_assert_msg(eb_read_file(path, 1 << 24, &data, len, &err) == 0, "%s", err.msg);
	return data;
}

/* wikitext2-gptq: windows of seqlen from the BOS-led text, exp(mean of window NLLs). */
static struct eb_want eb_want_gptq(size_t seqlen)
{
	struct eb_want w = { 0, 0, 0, 0 };
	size_t len, jlen, n_tok;
	char *raw = eb_sample("wiki.test.raw", &len);
	char *text = eb_wikitext_gptq_text(raw, len, &jlen);
	int32_t *tok = eb_xmalloc((jlen + 2) * sizeof(*tok));
	double sum_means = 0;

	n_tok = eb_tok(text, 1, tok);
	w.n = n_tok / seqlen;
	w.n_seqs = w.n;
	for (size_t i = 0; i < w.n; i++) {
		const int32_t *win = tok + i * seqlen;
		double s = 0;

		for (size_t p = 1; p < seqlen; p++) {
			s += eb_f(p, win[p]);
			w.clamped += eb_f(p, win[p]) == -9999.0;
		}
		sum_means += -s / (double)(seqlen - 1);
	}
	w.ppl = exp(sum_means / (double)w.n);
	free(tok);
	free(text);
	free(raw);
	return w;
}

/* wikitext2-llamacpp: chunks of n_ctx, BOS over each first token, the second half scored. */
static struct eb_want eb_want_llamacpp(size_t n_ctx)
{
	struct eb_want w = { 0, 0, 0, 0 };
	size_t len, n_tok, count = 0;
	char *text = eb_sample("wiki.test.raw", &len);
	int32_t *tok = eb_xmalloc((len + 2) * sizeof(*tok));
	double nll = 0;

	if (len && text[len - 1] == '\n')
		text[len - 1] = '\0';
	n_tok = eb_tok(text, 1, tok);
	w.n_seqs = n_tok / n_ctx;
	for (size_t c = 0; c < w.n_seqs; c++) {
		int32_t *chunk = tok + c * n_ctx;

		chunk[0] = EB_BOS;
		for (size_t p = n_ctx / 2 + 1; p < n_ctx; p++) {
			nll -= eb_f(p, chunk[p]);
			w.clamped += eb_f(p, chunk[p]) == -9999.0;
			count++;
		}
	}
	w.ppl = exp(nll / (double)count);
	w.n = count;
	free(tok);
	free(text);
	return w;
}

/* hellaswag: per ending the sum over the tokens after the query's; acc, acc_norm. */
static void eb_want_hellaswag(double *acc, double *acc_norm, size_t *n_items, size_t *clamped)
{
	struct eb_hellaswag ds;
	struct eb_err err;
	int32_t whole[4096];
	size_t hits = 0, hits_norm = 0;

	*clamped = 0;
	ck_assert_msg(eb_hellaswag_load(&ds, SAMPLES "/hellaswag_sample.jsonl", &err) == 0, "%s",
		      err.msg);
	for (size_t i = 0; i < ds.n; i++) {
		const struct eb_hellaswag_item *it = &ds.items[i];
		size_t n_ctx = strlen(it->query);
		double best = -INFINITY, best_norm = -INFINITY;
		int pred = 0, pred_norm = 0;

		for (int k = 0; k < 4; k++) {
			char joined[4096];
			size_t n;
			double s = 0;

			snprintf(joined, sizeof(joined), "%s%s", it->query, it->cont[k]);
			n = eb_tok(joined, 0, whole);
			for (size_t p = n_ctx; p < n; p++) {
				s += eb_f(p, whole[p]);
				*clamped += eb_f(p, whole[p]) == -9999.0;
			}
			if (s > best) {
				best = s;
				pred = k;
			}
			if (s / (double)it->choice_len[k] > best_norm) {
				best_norm = s / (double)it->choice_len[k];
				pred_norm = k;
			}
		}
		hits += pred == it->label;
		hits_norm += pred_norm == it->label;
	}
	*n_items = ds.n;
	*acc = (double)hits / (double)ds.n;
	*acc_norm = (double)hits_norm / (double)ds.n;
	eb_hellaswag_release(&ds);
}

/* Scoring requests of the three tasks with `batch` sequences per request. */
static size_t eb_requests(size_t batch)
{
	double acc, acc_norm;
	size_t n_items, clamped;

	eb_want_hellaswag(&acc, &acc_norm, &n_items, &clamped);
	return (eb_want_gptq(256).n_seqs + batch - 1) / batch +
	       (eb_want_llamacpp(128).n_seqs + batch - 1) / batch +
	       (4 * n_items + batch - 1) / batch;
}

/* --- running edgebench ---------------------------------------------------------------- */

static char eb_dir[4096];

static sqlite3 *eb_db(const char *path)
{
	sqlite3 *db = NULL;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	return db;
}

#define EB_TASKS                                                                            \
	"{ \"task\": \"gptq\", \"protocol\": \"wikitext2-gptq\", \"file\": \"" SAMPLES         \
	"/wiki.test.raw\", \"seqlen\": 256 },\n"                                               \
	"{ \"task\": \"wt\", \"protocol\": \"wikitext2-llamacpp\", \"file\": \"" SAMPLES      \
	"/wiki.test.raw\", \"n_ctx\": 128 },\n"                                                \
	"{ \"task\": \"hs\", \"protocol\": \"hellaswag\", \"file\": \"" SAMPLES                \
	"/hellaswag_sample.jsonl\" }"

/* Writes a config of one openai target at `port` with `options` and `models`; runs it. */
static int eb_run_cfg(const char *name, int port, const char *options, const char *models,
		      const char *tasks, const char *db, char **out)
{
	char cfg[8192];
	struct eb_err err;
	struct eb_buf b;
	int rc;

	snprintf(cfg, sizeof(cfg), "%s/%s.json", eb_dir, name);
	eb_buf_init(&b, 0);
	eb_buf_addf(&b,
		    "{ \"name\": \"%s\",\n"
		    "  \"targets\": [ { \"id\": \"vllm\", \"adapter\": \"openai\", \"options\": {\n"
		    "     \"base_url\": \"http://127.0.0.1:%d/v1\", \"retries\": 0%s } } ],\n"
		    "  \"models\": [ %s ],\n"
		    "  \"workloads\": { \"accuracy\": { \"tasks\": [ %s ]%s } } }\n",
		    name, port, options, models, tasks,
		    strstr(tasks, "\"kld\"") ? ", \"kld\": { \"reference\": \"q\" }" : "");
	ck_assert_msg(eb_write_file(cfg, b.buf, b.len, &err) == 0, "%s", err.msg);
	eb_buf_release(&b);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, NULL };

		rc = eb_test_run(argv, out);
	}
	return rc;
}

/* A fresh directory `name` with db = its out.db, and the fake vLLM serving. */
static void eb_vllm_start(const char *name, struct eb_mock *m, struct eb_vllm *v, char *db,
			  size_t n)
{
	eb_test_tmpdir(name, eb_dir, sizeof(eb_dir));
	snprintf(db, n, "%s/out.db", eb_dir);
	memset(v, 0, sizeof(*v));
	eb_mock_start(m, NULL);
	m->ud = v;
	m->handle = eb_vllm_handle;
}

#define EB_MODEL(id, served)                                                                \
	"{ \"id\": \"" id "\", \"variants\": [ { \"quant\": \"q\", \"model_name\": \"" served \
	"\" } ] }"

/* `column` (an expression over accuracy a) of model's figure task/metric. */
static double eb_fig(sqlite3 *h, const char *column, const char *model, const char *task,
		     const char *metric)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT %s FROM accuracy a JOIN cells c ON c.id = a.cell_id "
				   "WHERE c.model = '%s' AND a.task = '%s' AND a.metric = '%s'",
		 column, model, task, metric);
	return eb_test_q(h, "%s", sql);
}

#define EB_CLAMPED "json_extract(a.params_json, '$.logp_clamped')"

/* The figures stored for model `model` equal those computed here from the same formula. */
static void eb_check_figures(sqlite3 *h, const char *model)
{
	struct eb_want gptq = eb_want_gptq(256), wt = eb_want_llamacpp(128);
	double acc, acc_norm, got;
	size_t n_items, hs_clamped;
	char sql[512], want[128], *s;

	eb_want_hellaswag(&acc, &acc_norm, &n_items, &hs_clamped);
	/* the formula does put vLLM's clamp into the scored tokens */
	ck_assert_uint_gt(gptq.clamped, 0);
	ck_assert_uint_gt(wt.clamped, 0);

	got = eb_fig(h, "a.value", model, "gptq", "ppl");
	ck_assert_msg(fabs(got / gptq.ppl - 1) < 1e-9, "gptq ppl %.17g, computed %.17g", got,
		      gptq.ppl);
	got = eb_fig(h, "a.value", model, "wt", "ppl");
	ck_assert_msg(fabs(got / wt.ppl - 1) < 1e-9, "wikitext2-llamacpp ppl %.17g, computed %.17g",
		      got, wt.ppl);
	ck_assert_double_eq_tol(eb_fig(h, "a.value", model, "hs", "acc"), acc, 1e-12);
	ck_assert_double_eq_tol(eb_fig(h, "a.value", model, "hs", "acc_norm"), acc_norm, 1e-12);
	ck_assert_double_eq(eb_fig(h, "a.n", model, "gptq", "ppl"), (double)gptq.n);
	ck_assert_double_eq(eb_fig(h, "a.n", model, "wt", "ppl"), (double)wt.n);
	ck_assert_double_eq(eb_fig(h, "a.n", model, "hs", "acc"), (double)n_items);
	/* the clamped tokens are counted with the figures and warned about, never dropped */
	ck_assert_double_eq(eb_fig(h, EB_CLAMPED, model, "gptq", "ppl"), (double)gptq.clamped);
	ck_assert_double_eq(eb_fig(h, EB_CLAMPED, model, "wt", "ppl"), (double)wt.clamped);
	ck_assert_double_eq(eb_fig(h, EB_CLAMPED, model, "hs", "acc"), (double)hs_clamped);
	snprintf(sql, sizeof(sql), "SELECT warnings_json FROM cells WHERE model = '%s' AND "
				   "key LIKE '%%/gptq'",
		 model);
	s = eb_test_qs(h, "%s", sql);
	snprintf(want, sizeof(want), "%zu of %zu scored tokens came back as log p = -9999",
		 gptq.clamped, gptq.n * 255);
	ck_assert_msg(s && strstr(s, want), "warnings %s lack '%s'", s ? s : "(none)", want);
	free(s);
}

/*
 * One run: a server that answers as vLLM gives exactly the figures computed from its
 * formula; one that never echoes is skipped with the reason; answers without logprobs,
 * of the wrong length or with a string fail their cells clearly and the run goes on;
 * kld is skipped (no full logits).
 */
START_TEST(fake_vllm_figures_skips_and_failures)
{
	struct eb_mock m;
	struct eb_vllm v;
	char db[8300], *out = NULL, *s;
	sqlite3 *h;
	int rc;

	eb_vllm_start("openai-loglik", &m, &v, db, sizeof(db));
	rc = eb_run_cfg("vllm", m.port, ", \"loglik_batch\": 3",
			EB_MODEL("nolp", "bad-nologprobs") ", " EB_MODEL("short", "bad-length")
				", " EB_MODEL("nan", "bad-nonnumeric") ", "
				EB_MODEL("noecho", "no-echo") ", " EB_MODEL("good", "vllm"),
			EB_TASKS ",\n{ \"task\": \"kld\", \"protocol\": \"kld\", \"file\": \"" SAMPLES
				 "/wiki.test.raw\", \"n_ctx\": 128 }",
			db, &out);
	eb_mock_stop(&m);
	ck_assert_msg(rc == 1, "exit %d (1: some cells fail): %s", rc, out);
	ck_assert_msg(strstr(out, "3 ok, 9 failed, 8 skipped"), "%s", out);
	free(out);
	ck_assert_msg(v.bad[0] == '\0', "the fake vLLM rejected a request: %s", v.bad);
	ck_assert_int_eq(v.max_batch, 3);
	ck_assert_int_eq(v.max_tokens, 1);

	h = eb_db(db);
	eb_check_figures(h, "good");
	/* the good model's sequences in requests of 3, and the first request of each of the
	 * 9 failed cells */
	ck_assert_int_eq(v.n_score, (int)eb_requests(3) + 9);
	/* one probe per opened adapter: cells of a model share it; a failed cell closes it,
	 * a skipped one does not */
	ck_assert_int_eq(v.n_probe, 1 + 1 + 9);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE model = 'good' AND "
				    "status = 'ok'"),
			    3);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE model = 'noecho' AND "
				    "status = 'skipped'"),
			    4);
	s = eb_test_qs(h, "SELECT error FROM cells WHERE model = 'noecho' AND key LIKE '%%/hs'");
	{
		char want[256];

		snprintf(want, sizeof(want),
			 "openai: the server at 'http://127.0.0.1:%d' did not return prompt "
			 "log-probs for echo + logprobs (scoring needs vLLM's semantics; "
			 "prompt_logprobs: auto): \"logprobs\" has no \"token_logprobs\" array",
			 m.port);
		ck_assert_str_eq(s, want);
	}
	free(s);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE key LIKE '%%/kld' AND "
				    "status = 'skipped' AND error = 'protocol kld needs full "
				    "logits, which adapter ''openai'' does not return'"),
			    5);
	/* each malformed answer: a failed cell naming the server, sequence and fault */
	{
		static const struct {
			const char *model, *fault;
		} bad[] = {
			{ "nolp", "): no \"logprobs\" object" },
			{ "short", "\"token_logprobs\" has 255 entries for a prompt of 256 tokens "
				   "sent with max_tokens 1: the prompt was not echoed as sent" },
			{ "nan", "): \"token_logprobs\"[2] is not a number" },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char sql[256], want[256];

			snprintf(sql, sizeof(sql), "SELECT error FROM cells WHERE model = '%s' AND "
						   "key LIKE '%%/gptq' AND status = 'failed'",
				 bad[i].model);
			s = eb_test_qs(h, "%s", sql);
			snprintf(want, sizeof(want),
				 "openai: scoring response from 'http://127.0.0.1:%d/v1/completions', "
				 "choice 0 (sequence 0, 256 tokens sent)",
				 m.port);
			ck_assert_msg(s && strstr(s, want) && strstr(s, bad[i].fault), "%s: %s",
				      bad[i].model, s ? s : "(no failed cell)");
			free(s);
			snprintf(sql, sizeof(sql), "SELECT count(*) FROM cells WHERE model = '%s' AND "
						   "status = 'failed'",
				 bad[i].model);
			ck_assert_double_eq(eb_test_q(h, "%s", sql), 3);
		}
	}
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM accuracy a JOIN cells c ON c.id = "
				    "a.cell_id WHERE c.model <> 'good'"),
			    0);
	sqlite3_close(h);
}
END_TEST

/* The same figures one sequence per request and with max_tokens 0 (newer vLLM). */
START_TEST(fake_vllm_unbatched_max_tokens_0)
{
	struct eb_mock m;
	struct eb_vllm v;
	char db[8300], *out = NULL;
	sqlite3 *h;
	int rc;

	eb_vllm_start("openai-loglik-0", &m, &v, db, sizeof(db));
	rc = eb_run_cfg("vllm0", m.port,
			", \"loglik_batch\": 1, \"echo_max_tokens\": 0, \"prompt_logprobs\": "
			"\"on\"",
			EB_MODEL("good", "vllm"), EB_TASKS, db, &out);
	eb_mock_stop(&m);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	free(out);
	ck_assert_msg(v.bad[0] == '\0', "the fake vLLM rejected a request: %s", v.bad);
	ck_assert_int_eq(v.max_batch, 1);
	ck_assert_int_eq(v.max_tokens, 0);
	ck_assert_int_eq(v.n_probe, 0); /* prompt_logprobs: on asks nothing */
	ck_assert_int_eq(v.n_score, (int)eb_requests(1));
	h = eb_db(db);
	eb_check_figures(h, "good");
	sqlite3_close(h);
}
END_TEST

/* prompt_logprobs: off skips accuracy cells without a request. */
START_TEST(prompt_logprobs_off_skips)
{
	struct eb_mock m;
	struct eb_vllm v;
	char db[8300], *out = NULL, *s;
	sqlite3 *h;
	int rc;

	eb_vllm_start("openai-loglik-off", &m, &v, db, sizeof(db));
	rc = eb_run_cfg("off", m.port, ", \"prompt_logprobs\": \"off\"", EB_MODEL("good", "vllm"),
			EB_TASKS, db, &out);
	eb_mock_stop(&m);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	free(out);
	ck_assert_int_eq(v.n_probe + v.n_score, 0);
	h = eb_db(db);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status = 'skipped'"), 3);
	s = eb_test_qs(h, "SELECT error FROM cells WHERE key LIKE '%%/hs'");
	ck_assert_msg(s && strcmp(s, "openai: prompt_logprobs is \"off\" for this target, so it "
				     "scores no log-likelihoods") == 0,
		      "%s", s ? s : "(null)");
	free(s);
	sqlite3_close(h);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("openai_loglik");
	TCase *tc = tcase_create("fake vLLM");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, fake_vllm_figures_skips_and_failures);
	tcase_add_test(tc, fake_vllm_unbatched_max_tokens_0);
	tcase_add_test(tc, prompt_logprobs_off_skips);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
