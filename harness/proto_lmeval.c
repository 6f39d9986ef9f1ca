/* proto_lmeval.c: protocol wikitext2-lmeval: lm-eval's rolling windows over WikiText-2 pages. */
#include "accuracy_priv.h"

#include "corpus.h"
#include "wikitext.h"
#include "eb_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A page's record: its log-likelihood, words and bytes (what word_perplexity sums). */
static void eb_lmeval_sample(struct eb_acc *A, size_t d)
{
	char doc[64];
	json_t *r;

	snprintf(doc, sizeof(doc), "page %zu", d);
	r = eb_acc_sample(A, d, doc, A->item_hash[d], "page text", -1, -1);
	json_object_set_new(r, "loglik", json_real(A->doc_ll[d]));
	json_object_set_new(r, "words", json_real(A->doc_words[d]));
	json_object_set_new(r, "bytes", json_real(A->doc_bytes[d]));
}

/* A window of document owner[s] is scored; the document is done with its last window. */
static void eb_lmeval_seq_done(struct eb_acc *A, size_t s)
{
	size_t d = A->owner[s];

	A->doc_ll[d] += A->seq_sum[s];
	if (--A->doc_left[d] == 0) {
		eb_lmeval_sample(A, d);
		A->ll_done += A->doc_ll[d];
		A->words_done += A->doc_words[d];
		A->done++;
		A->running = exp(-A->ll_done / A->words_done);
	}
}

/*
 * lm-eval's loglikelihood_rolling: get_rolling_token_windows(tokens, prefix, L, 1) made
 * disjoint; each window is scored as (context + continuation)[-(L + 1):].
 */
static void eb_acc_rolling(struct eb_acc *A, const int32_t *tok, size_t n, int32_t prefix,
			   size_t L, size_t doc)
{
	size_t first_len = n < L ? n : L, predicted, wl;
	int32_t *w;

	if (n == 0)
		return;
	w = eb_xmalloc((first_len + 1) * sizeof(*w));
	w[0] = prefix;
	memcpy(w + 1, tok, first_len * sizeof(*w));
	eb_seqs_add(&A->seqs, w, first_len + 1, 0, doc);
	free(w);
	A->doc_left[doc]++;
	A->owner = eb_xrealloc(A->owner, A->seqs.alloc * sizeof(*A->owner));
	A->owner[A->seqs.n - 1] = doc;
	for (predicted = first_len; predicted < n; predicted += wl) {
		size_t end;

		wl = n - predicted < L ? n - predicted : L;
		end = predicted + wl;
		/* tokens[end - L - 1 .. end): L + 1 tokens, the last wl of them scored */
		eb_seqs_add(&A->seqs, tok + end - L - 1, L + 1, L - wl, doc);
		A->doc_left[doc]++;
		A->owner = eb_xrealloc(A->owner, A->seqs.alloc * sizeof(*A->owner));
		A->owner[A->seqs.n - 1] = doc;
	}
}

/* wikitext2-lmeval: lm-eval's wikitext task: word and byte perplexity, bits per byte. */
int eb_proto_lmeval(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
		    const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	struct eb_docs pages;
	size_t len, n_docs, L = (size_t)A->t->seqlen, n_tok_all = 0;
	double ll = 0, words = 0, bytes = 0;
	int32_t bos = (int32_t)eb_backend_int(A->env->backend, "bos_token", -1);
	int32_t eos = (int32_t)eb_backend_int(A->env->backend, "eos_token", -1);
	int32_t prefix = bos >= 0 ? bos : eos;
	char *raw = NULL;
	int ret;

	memset(&pages, 0, sizeof(pages));
	A->seq_done = eb_lmeval_seq_done;
	ret = eb_corpus_read(path, A->t->member, &raw, &len, err);
	if (ret)
		return ret;
	if (prefix < 0) {
		A->unsupported = 1;
		ret = eb_err_set(err, EB_EUNSUPPORTED,
				 "wikitext2-lmeval: the model has neither BOS nor EOS to start windows");
		goto out;
	}
	eb_wikitext_pages(raw, len, &pages);
	n_docs = eb_min_limit(pages.n, A->t->limit);
	A->doc_ll = eb_xcalloc(n_docs + 1, sizeof(*A->doc_ll));
	A->doc_left = eb_xcalloc(n_docs + 1, sizeof(*A->doc_left));
	A->doc_words = eb_xcalloc(n_docs + 1, sizeof(*A->doc_words));
	A->doc_bytes = eb_xcalloc(n_docs + 1, sizeof(*A->doc_bytes));
	A->item_hash = eb_xcalloc(n_docs + 1, sizeof(*A->item_hash));
	for (size_t d = 0; d < n_docs; d++) {
		size_t dlen, n_tok = 0;
		char *detok = eb_wikitext_detokenize(pages.doc[d], pages.len[d], &dlen);
		int32_t *tok = NULL;

		/* words and bytes of the page before detokenization, as lm-eval counts them */
		A->doc_words[d] = (double)eb_py_split_ws_count(pages.doc[d], pages.len[d]);
		A->doc_bytes[d] = (double)pages.len[d];
		eb_sha256_hex(detok, dlen, A->item_hash[d]);
		ret = eb_acc_tokenize(A, ops, st, detok, 0, &tok, &n_tok, err);
		free(detok);
		if (ret)
			goto out;
		n_tok_all += n_tok;
		eb_acc_rolling(A, tok, n_tok, prefix, L, d);
		free(tok);
	}
	A->total = n_docs;
	A->unit = "documents";
	A->metric = "word_perplexity";
	json_object_set_new(res->params, "n_documents", json_integer((json_int_t)n_docs));
	json_object_set_new(res->params, "n_windows", json_integer((json_int_t)A->seqs.n));
	json_object_set_new(res->params, "n_tokens", json_integer((json_int_t)n_tok_all));
	json_object_set_new(res->params, "prefix_token", json_integer(prefix));
	/* a document without tokens has log-likelihood 0 and is done already */
	for (size_t d = 0; d < n_docs; d++)
		if (A->doc_left[d] == 0) {
			eb_lmeval_sample(A, d);
			A->done++;
		}
	ret = eb_acc_score(A, ops, st, 0, err);
	if (ret)
		goto out;
	for (size_t d = 0; d < n_docs; d++) {
		ll += A->doc_ll[d];
		words += A->doc_words[d];
		bytes += A->doc_bytes[d];
	}
	eb_acc_put(res, "word_perplexity", exp(-ll / words), NAN, (long long)n_docs);
	eb_acc_put(res, "byte_perplexity", exp(-ll / bytes), NAN, (long long)n_docs);
	eb_acc_put(res, "bits_per_byte", -ll / bytes / log(2.0), NAN, (long long)n_docs);
	json_object_set_new(res->params, "words", json_real(words));
	json_object_set_new(res->params, "bytes", json_real(bytes));
out:
	eb_docs_release(&pages);
	free(raw);
	return ret;
}
