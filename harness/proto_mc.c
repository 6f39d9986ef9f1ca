/* proto_mc.c: lm-eval's multiple_choice output type: one scorer for HellaSwag, ARC, PIQA, Winogrande, MMLU. */
#include "accuracy_priv.h"

#include "mc.h"
#include "eb_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sequence s's choice of item owner[s] is scored; the item is tallied with its last. */
static void eb_mc_seq_done(struct eb_acc *A, size_t s)
{
	size_t it = A->owner[s];
	const struct eb_mc_item *item = &A->mc[it];
	double lp[EB_MC_MAX_CHOICES];
	char doc[4200], sha[65];
	json_t *r, *ll, *len;
	int pred, pred_norm;
	size_t k;

	if (--A->doc_left[it] != 0)
		return;
	for (k = 0; k < item->n_choices; k++)
		lp[k] = A->seq_sum[A->mc_first[it] + k];
	eb_mc_predict(lp, item->choice_len, item->n_choices, &pred, &pred_norm);
	A->mc_hits[item->group] += pred == item->gold;
	A->mc_norm_hits[item->group] += pred_norm == item->gold;
	A->mc_n[item->group]++;
	/* the record's answer is the headline's (acc_norm where the task reports it) */
	if (A->mc_file)
		snprintf(doc, sizeof(doc), "%s line %zu", item->file, item->line);
	else
		snprintf(doc, sizeof(doc), "line %zu", item->line);
	if (item->n_choices > 1 && item->ctx[1] != item->ctx[0]) {
		struct eb_buf b;

		/* a context per choice (Winogrande), the continuation shared: all of them,
		 * each with its NUL, then the continuation (what tells the items apart) */
		eb_buf_init(&b, 0);
		for (k = 0; k < item->n_choices; k++)
			eb_buf_add(&b, item->ctx[k], strlen(item->ctx[k]) + 1);
		eb_buf_addstr(&b, item->cont[0]);
		eb_sha256_hex(b.buf, b.len, sha);
		eb_buf_release(&b);
		r = eb_acc_sample(A, it, doc, sha,
				  "context texts, each NUL-terminated, then the continuation",
				  A->mc_norm ? pred_norm : pred, item->gold);
	} else {
		eb_sha256_hex(item->ctx[0], strlen(item->ctx[0]), sha);
		r = eb_acc_sample(A, it, doc, sha, "context text", A->mc_norm ? pred_norm : pred,
				  item->gold);
	}
	ll = json_array();
	len = json_array();
	for (k = 0; k < item->n_choices; k++) {
		json_array_append_new(ll, json_real(lp[k]));
		json_array_append_new(len, json_integer((json_int_t)item->choice_len[k]));
	}
	json_object_set_new(r, "loglik", ll);
	json_object_set_new(r, "choice_len", len);
	json_object_set_new(r, "answer_acc", json_integer(pred));
	json_object_set_new(r, "correct_acc", json_boolean(pred == item->gold));
	if (item->id && *item->id)
		json_object_set_new(r, "id", json_string(item->id));
	A->done++;
	A->mc_all_n++;
	A->mc_all_hits += (size_t)(A->mc_norm ? pred_norm == item->gold : pred == item->gold);
	A->running = (double)A->mc_all_hits / (double)A->mc_all_n;
}

int eb_acc_mc_score(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
		    const char *path, const struct eb_mc_item *items, size_t n,
		    size_t n_groups, const char *noun, int norm, struct eb_acc_result *res,
		    struct eb_err *err)
{
	size_t n_items = eb_min_limit(n, A->t->limit), L = (size_t)A->t->seqlen;
	int share = !A->t->separate, ret = 0;
	struct eb_buf b;

	A->mc = items;
	A->mc_norm = norm;
	A->seq_done = eb_mc_seq_done;
	A->doc_left = eb_xcalloc(n_items + 1, sizeof(*A->doc_left));
	A->mc_first = eb_xcalloc(n_items + 1, sizeof(*A->mc_first));
	A->mc_hits = eb_xcalloc(n_groups + 1, sizeof(*A->mc_hits));
	A->mc_norm_hits = eb_xcalloc(n_groups + 1, sizeof(*A->mc_norm_hits));
	A->mc_n = eb_xcalloc(n_groups + 1, sizeof(*A->mc_n));
	/* records name the file when the dataset is several (MMLU's subjects) */
	A->mc_file = n_groups > 1;
	for (size_t i = 0; i < n_items; i++)
		A->mc_file |= items[i].file && items[i].file != items[0].file &&
			      strcmp(items[i].file, items[0].file) != 0;
	eb_buf_init(&b, 0);
	for (size_t i = 0; i < n_items && !ret; i++) {
		const struct eb_mc_item *it = &items[i];
		int32_t *ctx = NULL;
		size_t n_ctx = 0;

		A->mc_first[i] = A->seqs.n;
		for (size_t k = 0; k < it->n_choices && !ret; k++) {
			/*
			 * lm-eval's _encode_pair: trailing whitespace of the context moves to
			 * the continuation; whole = tok(context + continuation), the context is
			 * its first len(tok(context)) tokens
			 */
			size_t keep = eb_mc_rstrip(it->ctx[k], strlen(it->ctx[k])), cont, start, n_whole = 0;
			int32_t *whole = NULL;

			if (k == 0 || it->ctx[k] != it->ctx[k - 1]) {
				free(ctx);
				ctx = NULL;
				eb_buf_reset(&b);
				eb_buf_add(&b, it->ctx[k], keep);
				ret = eb_acc_tokenize(A, ops, st, b.buf, A->t->bos, &ctx, &n_ctx, err);
				if (ret)
					break;
			}
			eb_buf_reset(&b);
			eb_buf_addstr(&b, it->ctx[k]);
			eb_buf_addstr(&b, it->cont[k]);
			ret = eb_acc_tokenize(A, ops, st, b.buf, A->t->bos, &whole, &n_whole, err);
			if (ret)
				break;
			cont = n_whole > n_ctx ? n_whole - n_ctx : 0;
			if (cont == 0 || n_ctx == 0 || cont > L) {
				free(whole);
				ret = eb_err_set(err, EB_EINVAL,
						 "%s:%zu: %s %zu tokenizes to %zu tokens after a "
						 "context of %zu (needs 1..%zu, and a context)",
						 it->file ? it->file : path, it->line, noun, k, cont,
						 n_ctx, L);
				break;
			}
			start = n_whole > L + 1 ? n_whole - (L + 1) : 0;
			eb_seqs_add(&A->seqs, whole + start, n_whole - start,
				    n_whole - start - cont - 1, i);
			A->owner = eb_xrealloc(A->owner, A->seqs.alloc * sizeof(*A->owner));
			A->owner[A->seqs.n - 1] = i;
			free(whole);
		}
		free(ctx);
		A->doc_left[i] = it->n_choices;
	}
	eb_buf_release(&b);
	if (ret)
		return ret;
	A->total = n_items;
	A->unit = "items";
	A->metric = norm ? "acc_norm" : "acc";
	json_object_set_new(res->params, "n_items", json_integer((json_int_t)n_items));
	json_object_set_new(res->params, "shared_context", json_boolean(share));
	ret = eb_acc_score(A, ops, st, share ? EB_LOGLIK_SHARE : 0, err);
	if (ret)
		return ret;
	{
		size_t hits = 0, norm_hits = 0, k = n_groups ? n_groups : 1;
		double acc_se, norm_se;

		for (size_t g = 0; g < k; g++) {
			hits += A->mc_hits[g];
			norm_hits += A->mc_norm_hits[g];
		}
		/* several groups (MMLU's subjects): lm-eval's pooled stderr of the group */
		acc_se = k > 1 ? eb_mc_pooled_stderr(A->mc_hits, A->mc_n, k)
			       : eb_hellaswag_stderr(hits, n_items);
		norm_se = k > 1 ? eb_mc_pooled_stderr(A->mc_norm_hits, A->mc_n, k)
				: eb_hellaswag_stderr(norm_hits, n_items);
		eb_acc_put(res, "acc", n_items ? (double)hits / (double)n_items : NAN, acc_se,
			   (long long)n_items);
		if (norm)
			eb_acc_put(res, "acc_norm",
				   n_items ? (double)norm_hits / (double)n_items : NAN, norm_se,
				   (long long)n_items);
	}
	return 0;
}

/* --- the tasks: lm-eval's preprocessing is the loader's (datasets/mc.c) ------------- */

static int eb_proto_mc(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
		       const char *path, enum eb_mc_format fmt, const char *member, int norm,
		       struct eb_acc_result *res, struct eb_err *err)
{
	struct eb_mc ds;
	int ret;

	/* a .zip is the catalog's archive: the task's file in it is fixed */
	ret = eb_mc_load(&ds, fmt, path, member, err);
	if (ret)
		return ret;
	if (member && strlen(path) > 4 && strcmp(path + strlen(path) - 4, ".zip") == 0)
		json_object_set_new(res->params, "member", json_string(member));
	if (ds.n_groups)
		json_object_set_new(res->params, "n_subjects", json_integer((json_int_t)ds.n_groups));
	ret = eb_acc_mc_score(A, ops, st, path, ds.items, ds.n, ds.n_groups, "choice", norm,
			      res, err);
	A->mc = NULL;
	eb_mc_release(&ds);
	return ret;
}

int eb_proto_arc_easy(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
		      const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	return eb_proto_mc(A, ops, st, path, EB_MC_ARC,
			   "ARC-V1-Feb2018-2/ARC-Easy/ARC-Easy-Test.jsonl", 1, res, err);
}

int eb_proto_arc_challenge(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
			   const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	return eb_proto_mc(A, ops, st, path, EB_MC_ARC,
			   "ARC-V1-Feb2018-2/ARC-Challenge/ARC-Challenge-Test.jsonl", 1, res, err);
}

int eb_proto_piqa(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
		  const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	return eb_proto_mc(A, ops, st, path, EB_MC_PIQA, "physicaliqa-train-dev/dev.jsonl", 1,
			   res, err);
}

int eb_proto_winogrande(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
			const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	return eb_proto_mc(A, ops, st, path, EB_MC_WINOGRANDE, "winogrande_1.1/dev.jsonl", 0,
			   res, err);
}

int eb_proto_mmlu(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
		  const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	return eb_proto_mc(A, ops, st, path, EB_MC_MMLU, NULL, 0, res, err);
}
