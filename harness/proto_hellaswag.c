/* proto_hellaswag.c: protocol hellaswag: lm-eval's 0-shot HellaSwag, four endings per item. */
#include "accuracy_priv.h"

#include "eb_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An ending of item owner[s] is scored; the item is tallied with its fourth. */
static void eb_hellaswag_seq_done(struct eb_acc *A, size_t s)
{
	size_t it = A->owner[s];
	const struct eb_hellaswag_item *item;
	double lp[EB_HELLASWAG_NCHOICES];
	char doc[64], sha[65];
	json_t *r, *ll, *len;
	int pred, pred_norm;

	if (--A->doc_left[it] != 0)
		return;
	item = &A->hs->items[it];
	for (int k = 0; k < EB_HELLASWAG_NCHOICES; k++)
		lp[k] = A->seq_sum[it * EB_HELLASWAG_NCHOICES + (size_t)k];
	eb_hellaswag_tally_add(&A->tally, lp, item->choice_len, item->label);
	/* the record's answer is acc_norm's (the headline), acc's is in its result */
	eb_hellaswag_predict(lp, item->choice_len, &pred, &pred_norm);
	snprintf(doc, sizeof(doc), "line %zu", item->line);
	eb_sha256_hex(item->query, strlen(item->query), sha);
	r = eb_acc_sample(A, it, doc, sha, "context text", pred_norm, item->label);
	ll = json_array();
	len = json_array();
	for (int k = 0; k < EB_HELLASWAG_NCHOICES; k++) {
		json_array_append_new(ll, json_real(lp[k]));
		json_array_append_new(len, json_integer((json_int_t)item->choice_len[k]));
	}
	json_object_set_new(r, "loglik", ll);
	json_object_set_new(r, "choice_len", len);
	json_object_set_new(r, "answer_acc", json_integer(pred));
	json_object_set_new(r, "correct_acc", json_boolean(pred == item->label));
	A->done++;
	A->running = (double)A->tally.acc_norm_hits / (double)A->tally.n;
}

/*
 * lm-eval's _encode_pair + _loglikelihood_tokens for one (query, continuation): whole =
 * tok(query + cont), context length = len(tok(query)), input (whole)[-(L + 1):].
 */
int eb_proto_hellaswag(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
		       const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	struct eb_hellaswag ds;
	struct eb_hellaswag_metrics m;
	struct eb_buf b;
	size_t n_items, L = (size_t)A->t->seqlen;
	int share = !A->t->separate, ret;

	ret = eb_hellaswag_load(&ds, path, err);
	if (ret)
		return ret;
	A->hs = &ds;
	A->seq_done = eb_hellaswag_seq_done;
	n_items = eb_min_limit(ds.n, A->t->limit);
	A->doc_left = eb_xcalloc(n_items + 1, sizeof(*A->doc_left));
	A->owner = eb_xcalloc(n_items * EB_HELLASWAG_NCHOICES + 1, sizeof(*A->owner));
	eb_buf_init(&b, 0);
	for (size_t i = 0; i < n_items; i++) {
		const struct eb_hellaswag_item *it = &ds.items[i];
		int32_t *ctx = NULL;
		size_t n_ctx = 0;

		ret = eb_acc_tokenize(A, ops, st, it->query, A->t->bos, &ctx, &n_ctx, err);
		free(ctx);
		if (ret)
			goto out;
		for (int k = 0; k < EB_HELLASWAG_NCHOICES; k++) {
			int32_t *whole = NULL;
			size_t n_whole = 0, cont, start;

			eb_buf_reset(&b);
			eb_buf_addstr(&b, it->query);
			eb_buf_addstr(&b, it->cont[k]);
			ret = eb_acc_tokenize(A, ops, st, b.buf, A->t->bos, &whole, &n_whole, err);
			if (ret)
				goto out;
			cont = n_whole > n_ctx ? n_whole - n_ctx : 0;
			if (cont == 0 || n_ctx == 0 || cont > L) {
				free(whole);
				ret = eb_err_set(err, EB_EINVAL,
						 "%s:%zu: ending %d tokenizes to %zu tokens after a "
						 "context of %zu (needs 1..%zu, and a context)",
						 path, it->line, k, cont, n_ctx, L);
				goto out;
			}
			start = n_whole > L + 1 ? n_whole - (L + 1) : 0;
			eb_seqs_add(&A->seqs, whole + start, n_whole - start,
				    n_whole - start - cont - 1, i);
			A->owner[A->seqs.n - 1] = i;
			free(whole);
		}
		A->doc_left[i] = EB_HELLASWAG_NCHOICES;
	}
	A->total = n_items;
	A->unit = "items";
	A->metric = "acc_norm";
	json_object_set_new(res->params, "n_items", json_integer((json_int_t)n_items));
	json_object_set_new(res->params, "shared_context", json_boolean(share));
	ret = eb_acc_score(A, ops, st, share ? EB_LOGLIK_SHARE : 0, err);
	if (ret)
		goto out;
	eb_hellaswag_tally_finish(&A->tally, &m);
	eb_acc_put(res, "acc", m.acc, m.acc_se, (long long)m.n);
	eb_acc_put(res, "acc_norm", m.acc_norm, m.acc_norm_se, (long long)m.n);
out:
	A->hs = NULL;
	eb_buf_release(&b);
	eb_hellaswag_release(&ds);
	return ret;
}
