/* proto_perplexity.c: wikitext2-llamacpp (llama-perplexity chunks), wikitext2-gptq, c4-gptq, c4-new. */
#include "accuracy_priv.h"

#include "c4.h"
#include "corpus.h"
#include "wikitext.h"
#include "eb_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* --- llama-perplexity's chunks (wikitext2-llamacpp, and kld in proto_kld.c) ---------- */

/* The text as llama-perplexity -f reads it, tokenized with BOS; at least two chunks. */
static int eb_acc_chunk_tokens(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
			       const char *path, int32_t **tok, size_t *n_tok, struct eb_err *err)
{
	const struct eb_cfg_acc_task *t = A->t;
	size_t n_ctx = (size_t)t->n_ctx, len;
	char *text = NULL;
	int ret;

	ret = eb_corpus_read(path, t->member, &text, &len, err);
	if (ret)
		return ret;
	if (len && text[len - 1] == '\n')
		text[--len] = '\0'; /* llama-perplexity -f drops one final newline */
	ret = eb_acc_tokenize(A, ops, st, text, 1, tok, n_tok, err);
	free(text);
	if (ret)
		return ret;
	if (*n_tok < 2 * n_ctx)
		return eb_err_set(err, EB_EINVAL,
				  "task '%s': '%s' has %zu tokens; %zu are needed for a context of "
				  "%zu (llama-perplexity's rule: at least two chunks)",
				  t->task, path, *n_tok, 2 * n_ctx, n_ctx);
	return 0;
}

int eb_acc_chunks(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st, const char *path,
		  struct eb_acc_result *res, int32_t **tok, size_t *n_chunk, struct eb_err *err)
{
	size_t n_ctx = (size_t)A->t->n_ctx, first = n_ctx / 2, n_tok = 0;
	int32_t bos = (int32_t)eb_backend_int(A->env->backend, "bos_token", -1);
	int add_bos = json_is_true(json_object_get(A->env->backend, "add_bos"));
	int32_t *chunk;
	int ret;

	*tok = NULL;
	ret = eb_acc_chunk_tokens(A, ops, st, path, tok, &n_tok, err);
	if (ret)
		return ret;
	*n_chunk = eb_min_limit(n_tok / n_ctx, A->t->limit);
	chunk = eb_xmalloc(n_ctx * sizeof(*chunk));
	for (size_t i = 0; i < *n_chunk; i++) {
		memcpy(chunk, *tok + i * n_ctx, n_ctx * sizeof(*chunk));
		if (add_bos && bos >= 0)
			chunk[0] = bos; /* BOS overwrites the chunk's first token */
		eb_seqs_add(&A->seqs, chunk, n_ctx, first, i);
	}
	free(chunk);
	A->total = *n_chunk;
	A->unit = "chunks";
	json_object_set_new(res->params, "n_chunks", json_integer((json_int_t)*n_chunk));
	json_object_set_new(res->params, "n_tokens", json_integer((json_int_t)n_tok));
	json_object_set_new(res->params, "scored_per_chunk",
			    json_integer((json_int_t)(n_ctx - first - 1)));
	json_object_set_new(res->params, "bos_overwrites_first", json_boolean(add_bos && bos >= 0));
	return 0;
}

/* A window's or chunk's record: its negative log-likelihood sum and the tokens scored. */
static void eb_acc_nll_sample(struct eb_acc *A, size_t s, const char *what)
{
	const struct eb_loglik_seq *q = &A->seqs.seq[s];
	char doc[64], sha[65];
	json_t *r;

	snprintf(doc, sizeof(doc), "%s %zu", what, s);
	eb_acc_seq_sha256(A, s, sha);
	r = eb_acc_sample(A, s, doc, sha, "token ids", -1, -1);
	json_object_set_new(r, "nll", json_real(-A->seq_sum[s]));
	json_object_set_new(r, "tokens", json_integer((json_int_t)(q->n_tokens - 1 - q->first)));
}

void eb_acc_chunk_done(struct eb_acc *A, size_t s)
{
	eb_acc_nll_sample(A, s, "chunk");
	A->done++;
	A->running = exp(A->ppl.nll / (double)A->ppl.count);
}

/* wikitext2-llamacpp: one running PPL over every scored token of every chunk. */
int eb_proto_llamacpp(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
		      const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	int32_t *tok = NULL;
	size_t n_chunk;
	double ppl, se;
	int ret;

	A->seq_done = eb_acc_chunk_done;
	A->ppl_every_token = 1;
	A->metric = "ppl";
	ret = eb_acc_chunks(A, ops, st, path, res, &tok, &n_chunk, err);
	free(tok);
	if (ret)
		return ret;
	ret = eb_acc_score(A, ops, st, 0, err);
	if (ret)
		return ret;
	eb_ppl_finish(&A->ppl, &ppl, &se);
	eb_acc_put(res, "ppl", ppl, se, (long long)A->ppl.count);
	eb_acc_put(res, "nll_mean", A->ppl.nll / (double)A->ppl.count, NAN, (long long)A->ppl.count);
	return 0;
}

/* --- windows (wikitext2-gptq, c4-gptq, c4-new): PPL = exp(mean of window mean NLL) -- */

static void eb_acc_window_done(struct eb_acc *A, size_t s)
{
	const struct eb_loglik_seq *q = &A->seqs.seq[s];
	size_t scored = q->n_tokens - 1 - q->first;
	double sum = 0;

	A->win_nll[A->n_win++] = -A->seq_sum[s] / (double)scored;
	eb_acc_nll_sample(A, s, "window");
	for (size_t i = 0; i < A->n_win; i++)
		sum += A->win_nll[i];
	A->done++;
	A->running = exp(sum / (double)A->n_win);
}

/* Scores the windows in A->seqs and puts ppl and nll_mean. */
static int eb_acc_windows_finish(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
				 struct eb_acc_result *res, struct eb_err *err)
{
	double mean, se;
	int ret;

	A->seq_done = eb_acc_window_done;
	A->win_nll = eb_xcalloc(A->seqs.n + 1, sizeof(*A->win_nll));
	A->total = A->seqs.n;
	A->unit = "windows";
	A->metric = "ppl";
	json_object_set_new(res->params, "n_windows", json_integer((json_int_t)A->seqs.n));
	ret = eb_acc_score(A, ops, st, 0, err);
	if (ret)
		return ret;
	eb_acc_mean_se(A->win_nll, A->n_win, &mean, &se);
	eb_acc_put(res, "ppl", exp(mean), exp(mean) * se, (long long)A->n_win);
	eb_acc_put(res, "nll_mean", mean, se, (long long)A->n_win);
	return 0;
}

/* wikitext2-gptq: GPTQ's get_wikitext2 text, tokenized once, cut into disjoint windows. */
int eb_proto_wikitext_gptq(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
			   const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	size_t len, jlen, n_tok = 0, seqlen = (size_t)A->t->seqlen, n_win;
	char *raw = NULL, *text = NULL;
	int32_t *tok = NULL;
	int ret;

	ret = eb_corpus_read(path, A->t->member, &raw, &len, err);
	if (ret)
		return ret;
	text = eb_wikitext_gptq_text(raw, len, &jlen);
	ret = eb_acc_tokenize(A, ops, st, text, 1, &tok, &n_tok, err);
	if (ret)
		goto out;
	n_win = eb_min_limit(n_tok / seqlen, A->t->limit);
	if (n_win == 0) {
		ret = eb_err_set(err, EB_EINVAL, "task '%s': '%s' has %zu tokens, fewer than seqlen %zu",
				 A->t->task, path, n_tok, seqlen);
		goto out;
	}
	for (size_t i = 0; i < n_win; i++)
		eb_seqs_add(&A->seqs, tok + i * seqlen, seqlen, 0, i);
	json_object_set_new(res->params, "n_tokens", json_integer((json_int_t)n_tok));
	ret = eb_acc_windows_finish(A, ops, st, res, err);
out:
	free(tok);
	free(text);
	free(raw);
	return ret;
}

/* The sampler's view of C4: documents tokenized on first use and kept. */
struct eb_c4_tok {
	struct eb_acc *A;
	const struct eb_adapter_ops *ops;
	void *st;
	const struct eb_docs *docs;
	int32_t **tok;
	size_t *n;
	size_t n_tokenized;
};

static int eb_c4_ntok(void *ud, size_t doc, size_t *n_tokens, struct eb_err *err)
{
	struct eb_c4_tok *c = ud;
	int ret;

	if (!c->tok[doc]) {
		ret = eb_acc_tokenize(c->A, c->ops, c->st, c->docs->doc[doc], 1, &c->tok[doc],
				      &c->n[doc], err);
		if (ret)
			return ret;
		c->n_tokenized++;
	}
	*n_tokens = c->n[doc];
	return 0;
}

/* c4-gptq: GPTQ's get_c4: windows sampled from random documents by Python's random. */
int eb_proto_c4_gptq(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
		     const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	struct eb_docs docs;
	struct eb_c4_tok c = { A, ops, st, &docs, NULL, NULL, 0 };
	struct eb_c4_window *win = NULL;
	size_t seqlen = (size_t)A->t->seqlen, n_samples = (size_t)A->t->n_samples, n_win;
	json_t *starts;
	int ret;

	ret = eb_c4_load(path, 0, &docs, err);
	if (ret)
		return ret;
	c.tok = eb_xcalloc(docs.n, sizeof(*c.tok));
	c.n = eb_xcalloc(docs.n, sizeof(*c.n));
	win = eb_xcalloc(n_samples, sizeof(*win));
	ret = eb_c4_gptq_windows(docs.n, seqlen, n_samples, (uint64_t)A->t->seed, eb_c4_ntok, &c,
				 win, err);
	if (ret) {
		eb_err_prefix(err, "task '%s' ('%s')", A->t->task, path);
		goto out;
	}
	n_win = eb_min_limit(n_samples, A->t->limit);
	starts = json_array();
	for (size_t i = 0; i < n_win; i++) {
		eb_seqs_add(&A->seqs, c.tok[win[i].doc] + win[i].start, seqlen, 0, i);
		if (i < 16)
			json_array_append_new(starts, json_pack("[I,I]", (json_int_t)win[i].doc,
								(json_int_t)win[i].start));
	}
	json_object_set_new(res->params, "n_documents", json_integer((json_int_t)docs.n));
	json_object_set_new(res->params, "documents_tokenized",
			    json_integer((json_int_t)c.n_tokenized));
	json_object_set_new(res->params, "first_windows_doc_start", starts);
	ret = eb_acc_windows_finish(A, ops, st, res, err);
out:
	for (size_t i = 0; c.tok && i < docs.n; i++)
		free(c.tok[i]);
	free(c.tok);
	free(c.n);
	free(win);
	eb_docs_release(&docs);
	return ret;
}

/* c4-new: GPTQ's get_c4_new: the first 1100 documents joined, its first windows. */
int eb_proto_c4_new(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
		    const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	struct eb_docs docs;
	struct eb_buf b;
	size_t seqlen = (size_t)A->t->seqlen, n_tok = 0, keep, n_win;
	int32_t *tok = NULL;
	int ret;

	ret = eb_c4_load(path, 1100, &docs, err);
	if (ret)
		return ret;
	eb_buf_init(&b, 0);
	for (size_t i = 0; i < docs.n; i++) {
		if (i)
			eb_buf_add(&b, " ", 1);
		eb_buf_add(&b, docs.doc[i], docs.len[i]);
	}
	ret = eb_acc_tokenize(A, ops, st, b.buf, 1, &tok, &n_tok, err);
	if (ret)
		goto out;
	keep = n_tok < (size_t)A->t->n_samples * seqlen ? n_tok : (size_t)A->t->n_samples * seqlen;
	n_win = eb_min_limit(keep / seqlen, A->t->limit);
	if (n_win == 0) {
		ret = eb_err_set(err, EB_EINVAL,
				 "task '%s': the first %zu documents of '%s' have %zu tokens, fewer "
				 "than seqlen %zu",
				 A->t->task, docs.n, path, n_tok, seqlen);
		goto out;
	}
	for (size_t i = 0; i < n_win; i++)
		eb_seqs_add(&A->seqs, tok + i * seqlen, seqlen, 0, i);
	json_object_set_new(res->params, "n_documents", json_integer((json_int_t)docs.n));
	json_object_set_new(res->params, "n_tokens", json_integer((json_int_t)n_tok));
	ret = eb_acc_windows_finish(A, ops, st, res, err);
out:
	free(tok);
	eb_buf_release(&b);
	eb_docs_release(&docs);
	return ret;
}
