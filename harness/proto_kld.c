/* proto_kld.c: protocol kld: llama-perplexity --kl-divergence against a reference variant. */
#include "accuracy_priv.h"

#include "eb_util.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* llama-perplexity's --kl-divergence-base file: magic, n_ctx, n_vocab, n_chunk, tokens, rows */
#define EB_KLD_MAGIC "_logits_"

void eb_acc_kld_path(const struct eb_cfg_acc_task *t, const struct eb_acc_env *env, char *buf,
		     size_t n)
{
	int len = snprintf(buf, n, "%s/%s_%s_%s_%s.kld", env->kld_dir, env->target_id,
			   env->model_id, env->kld_reference ? env->kld_reference : "none", t->task);

	if (len < 0 || (size_t)len >= n)
		buf[0] = '\0';
}

/* The file holds rows chunk by chunk, position by position: check that they come so. */
static int eb_kld_in_order(struct eb_acc *A, const struct eb_loglik_rows *r, struct eb_err *err)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct eb_loglik_seq *q = &A->seqs.seq[r->seq[i]];

		if (r->seq[i] != A->k_next_seq || r->pos[i] != A->k_next_pos)
			return eb_err_set(err, EB_EADAPTER,
					  "kld: rows arrived out of order (chunk %zu position %zu)",
					  r->seq[i], r->pos[i]);
		if (++A->k_next_pos + 1 >= q->n_tokens) {
			A->k_next_seq++;
			A->k_next_pos = A->k_next_seq < A->seqs.n ? A->seqs.seq[A->k_next_seq].first
								  : 0;
		}
	}
	return 0;
}

/*
 * The rows hook: the reference variant writes each row's quantized log-probabilities
 * (and its log p into A->logp, for the PPL); every other variant reads the reference's
 * rows back and adds the divergence.
 */
static int eb_kld_rows(struct eb_acc *A, const struct eb_loglik_rows *r, struct eb_err *err)
{
	size_t nv = eb_kld_row_u16(r->n_vocab);
	int threads = A->env->threads, ret;

	if (!r->logits) {
		A->unsupported = 1;
		return eb_err_set(err, EB_EUNSUPPORTED,
				  "protocol kld needs full logits, which this adapter does not return");
	}
	ret = eb_kld_in_order(A, r, err);
	if (ret)
		return ret;
	if (r->n * nv > A->base_alloc) {
		A->base_alloc = r->n * nv;
		A->base = eb_xrealloc(A->base, A->base_alloc * sizeof(*A->base));
	}
	if (A->kld_ref) {
		eb_kld_ref_rows(r->logits, A->targets, r->n, r->n_vocab, threads, A->base, A->logp);
		for (size_t i = 0; i < r->n; i++)
			A->logp[i] = -A->logp[i];
		if (fwrite(A->base, sizeof(uint16_t), r->n * nv, A->kf) != r->n * nv)
			return eb_err_set(err, EB_EIO, "cannot write '%s': %s", A->kpath,
					  strerror(errno));
		return 0;
	}
	if (fread(A->base, sizeof(uint16_t), r->n * nv, A->kf) != r->n * nv)
		return eb_err_set(err, EB_EIO,
				  "'%s' ends early: it holds fewer rows than this task scores (re-run "
				  "the reference cell)",
				  A->kpath);
	eb_kld_add_rows(&A->kld, r->logits, A->base, A->targets, r->n, r->n_vocab, threads);
	memset(A->logp, 0, r->n * sizeof(*A->logp));
	return 0;
}

static void eb_kld_seq_done(struct eb_acc *A, size_t s)
{
	(void)s;
	A->done++;
	A->running = A->kld.count ? A->kld.sum_kld / (double)A->kld.count : NAN;
}

/* The file's header and the chunks' tokens, into the open A->kf. */
static int eb_kld_write_header(struct eb_acc *A, const int32_t *tok, size_t n_chunk,
			       const char *tmp, struct eb_err *err)
{
	size_t n_ctx = (size_t)A->t->n_ctx;
	uint32_t h_ctx = (uint32_t)n_ctx;
	int32_t h_vocab = (int32_t)eb_backend_int(A->env->backend, "n_vocab", 0);
	int32_t h_chunk = (int32_t)n_chunk;

	if (h_vocab <= 0)
		return eb_err_set(err, EB_EADAPTER, "kld: the adapter does not report n_vocab");
	if (fwrite(EB_KLD_MAGIC, 1, 8, A->kf) != 8 || fwrite(&h_ctx, sizeof(h_ctx), 1, A->kf) != 1 ||
	    fwrite(&h_vocab, sizeof(h_vocab), 1, A->kf) != 1 ||
	    fwrite(&h_chunk, sizeof(h_chunk), 1, A->kf) != 1 ||
	    fwrite(tok, sizeof(*tok), n_chunk * n_ctx, A->kf) != n_chunk * n_ctx)
		return eb_err_set(err, EB_EIO, "cannot write '%s': %s", tmp, strerror(errno));
	return 0;
}

/*
 * The reference variant: scores the chunks, writing the log-probabilities file through
 * a temporary name (renamed only when complete, removed on failure), and puts its PPL.
 */
static int eb_kld_reference(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
			    const int32_t *tok, size_t n_chunk, struct eb_acc_result *res,
			    struct eb_err *err)
{
	char tmp[4200];
	double ppl, se;
	int ret;

	A->seq_done = eb_acc_chunk_done;
	A->ppl_every_token = 1;
	A->metric = "ppl";
	snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", A->kpath, (long)getpid());
	A->kf = fopen(tmp, "wb");
	if (!A->kf)
		return eb_err_set(err, EB_EIO, "cannot create '%s': %s", tmp, strerror(errno));
	ret = eb_kld_write_header(A, tok, n_chunk, tmp, err);
	if (!ret)
		ret = eb_acc_score(A, ops, st, EB_LOGLIK_LOGITS, err);
	if (fclose(A->kf) != 0 && !ret)
		ret = eb_err_set(err, EB_EIO, "cannot write '%s': %s", tmp, strerror(errno));
	A->kf = NULL;
	if (!ret && rename(tmp, A->kpath) != 0)
		ret = eb_err_set(err, EB_EIO, "cannot rename '%s' to '%s': %s", tmp, A->kpath,
				 strerror(errno));
	if (ret) {
		unlink(tmp);
		return ret;
	}
	eb_ppl_finish(&A->ppl, &ppl, &se);
	eb_acc_put(res, "ppl", ppl, se, (long long)A->ppl.count);
	json_object_set_new(res->params, "role", json_string("reference"));
	json_object_set_new(res->params, "reference_file", json_string(A->kpath));
	return 0;
}

/*
 * Opens the reference file into A->kf and checks that it was made for this task: its
 * header (n_ctx, vocabulary, enough chunks) and the very tokens of its chunks.
 */
static int eb_kld_open_reference(struct eb_acc *A, const int32_t *tok, size_t n_chunk,
				 struct eb_err *err)
{
	size_t n_ctx = (size_t)A->t->n_ctx;
	long long n_vocab = eb_backend_int(A->env->backend, "n_vocab", -1);
	char magic[8];
	uint32_t h_ctx = 0;
	int32_t h_vocab = 0, h_chunk = 0;
	int32_t *ref_tok;
	int ret = 0;

	A->kf = fopen(A->kpath, "rb");
	if (!A->kf)
		return eb_err_set(err, EB_ENOENT,
				  "kld: no reference log-probabilities '%s' (%s): run the reference "
				  "variant's cell first (--only '%s/%s/%s/accuracy/%s')",
				  A->kpath, strerror(errno), A->env->target_id, A->env->model_id,
				  A->env->kld_reference, A->t->task);
	if (fread(magic, 1, 8, A->kf) != 8 || memcmp(magic, EB_KLD_MAGIC, 8) != 0 ||
	    fread(&h_ctx, sizeof(h_ctx), 1, A->kf) != 1 ||
	    fread(&h_vocab, sizeof(h_vocab), 1, A->kf) != 1 ||
	    fread(&h_chunk, sizeof(h_chunk), 1, A->kf) != 1)
		return eb_err_set(err, EB_EPARSE, "'%s' is not a log-probabilities file", A->kpath);
	if (h_ctx != n_ctx || h_vocab != (int32_t)n_vocab || h_chunk < (int32_t)n_chunk)
		return eb_err_set(err, EB_EINVAL,
				  "'%s' was computed with n_ctx %u, %d tokens of vocabulary and %d "
				  "chunks; this task needs %zu, %lld and %zu",
				  A->kpath, h_ctx, h_vocab, h_chunk, n_ctx, n_vocab, n_chunk);
	ref_tok = eb_xmalloc((size_t)h_chunk * n_ctx * sizeof(*ref_tok));
	if (fread(ref_tok, sizeof(*ref_tok), (size_t)h_chunk * n_ctx, A->kf) !=
	    (size_t)h_chunk * n_ctx)
		ret = eb_err_set(err, EB_EPARSE, "'%s' ends early", A->kpath);
	else if (memcmp(ref_tok, tok, n_chunk * n_ctx * sizeof(*tok)) != 0)
		ret = eb_err_set(err, EB_EINVAL,
				 "'%s' holds other tokens than this task's: a different dataset or "
				 "tokenizer (re-run the reference cell)",
				 A->kpath);
	free(ref_tok);
	return ret;
}

/*
 * The figures of llama-perplexity's KL-divergence summary, in its order: name, the
 * eb_kld_stats member holding the value and the one holding its uncertainty.
 */
#define EB_KS(member) offsetof(struct eb_kld_stats, member)
#define EB_NO_SE ((size_t)-1)

static const struct {
	const char *name;
	size_t value, se; /* offsets of doubles; se EB_NO_SE: none (NaN) */
} eb_kld_figures[] = {
	{ "kld_mean", EB_KS(kld_mean), EB_KS(kld_unc) },
	{ "kld_median", EB_KS(kld_median), EB_NO_SE },
	{ "kld_p99.9", EB_KS(kld_p999), EB_NO_SE },
	{ "kld_p99", EB_KS(kld_p99), EB_NO_SE },
	{ "kld_p95", EB_KS(kld_p95), EB_NO_SE },
	{ "kld_p90", EB_KS(kld_p90), EB_NO_SE },
	{ "kld_p10", EB_KS(kld_p10), EB_NO_SE },
	{ "kld_p5", EB_KS(kld_p5), EB_NO_SE },
	{ "kld_p1", EB_KS(kld_p1), EB_NO_SE },
	{ "kld_p0.1", EB_KS(kld_p01), EB_NO_SE },
	{ "kld_max", EB_KS(kld_max), EB_NO_SE },
	{ "kld_min", EB_KS(kld_min), EB_NO_SE },
	{ "top1_agreement", EB_KS(same_top), EB_KS(same_top_unc) },
	{ "dp_mean", EB_KS(dp_mean), EB_KS(dp_unc) },
	{ "dp_rms", EB_KS(dp_rms), EB_KS(dp_rms_unc) },
	{ "dp_max", EB_KS(dp_max), EB_NO_SE },
	{ "dp_p99.9", EB_KS(dp_p999), EB_NO_SE },
	{ "dp_p99", EB_KS(dp_p99), EB_NO_SE },
	{ "dp_p95", EB_KS(dp_p95), EB_NO_SE },
	{ "dp_p90", EB_KS(dp_p90), EB_NO_SE },
	{ "dp_p75", EB_KS(dp_p75), EB_NO_SE },
	{ "dp_median", EB_KS(dp_median), EB_NO_SE },
	{ "dp_p25", EB_KS(dp_p25), EB_NO_SE },
	{ "dp_p10", EB_KS(dp_p10), EB_NO_SE },
	{ "dp_p5", EB_KS(dp_p5), EB_NO_SE },
	{ "dp_p1", EB_KS(dp_p1), EB_NO_SE },
	{ "dp_p0.1", EB_KS(dp_p01), EB_NO_SE },
	{ "dp_min", EB_KS(dp_min), EB_NO_SE },
	{ "ppl", EB_KS(ppl), EB_KS(ppl_unc) },
	{ "ppl_base", EB_KS(ppl_base), EB_KS(ppl_base_unc) },
	{ "ppl_ratio", EB_KS(ratio), EB_KS(ratio_unc) },
	{ "ln_ppl_ratio", EB_KS(ln_ratio), EB_KS(ln_ratio_unc) },
	{ "ppl_diff", EB_KS(diff), EB_KS(diff_unc) },
	{ "ln_ppl_cor", EB_KS(cor), EB_NO_SE },
};

static void eb_kld_put(struct eb_acc_result *res, const struct eb_kld_stats *k)
{
	const char *base = (const char *)k;

	for (size_t i = 0; i < sizeof(eb_kld_figures) / sizeof(eb_kld_figures[0]); i++) {
		double value, se = NAN;

		memcpy(&value, base + eb_kld_figures[i].value, sizeof(value));
		if (eb_kld_figures[i].se != EB_NO_SE)
			memcpy(&se, base + eb_kld_figures[i].se, sizeof(se));
		eb_acc_put(res, eb_kld_figures[i].name, value, se, (long long)k->count);
	}
}

/*
 * A record per chunk of a compared variant: the sum of its tokens' KLD as kept per token
 * (float, llama-perplexity's) and their count. Before eb_kld_finish, which sorts them.
 */
static void eb_kld_samples(struct eb_acc *A)
{
	size_t at = 0;

	for (size_t s = 0; s < A->seqs.n; s++) {
		const struct eb_loglik_seq *q = &A->seqs.seq[s];
		size_t n = q->n_tokens - 1 - q->first;
		double sum = 0;
		char doc[64], sha[65];
		json_t *r;

		for (size_t i = 0; i < n && at + i < A->kld.count; i++)
			sum += (double)A->kld.kld[at + i];
		snprintf(doc, sizeof(doc), "chunk %zu", s);
		eb_acc_seq_sha256(A, s, sha);
		r = eb_acc_sample(A, s, doc, sha, "token ids", -1, -1);
		json_object_set_new(r, "kld_sum", json_real(sum));
		json_object_set_new(r, "tokens", json_integer((json_int_t)n));
		at += n;
	}
}

/* Every other variant: compares its chunks' distributions with the reference's, row by row. */
static int eb_kld_compare(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
			  const int32_t *tok, size_t n_chunk, struct eb_acc_result *res,
			  struct eb_err *err)
{
	struct eb_kld_stats k;
	int ret;

	A->seq_done = eb_kld_seq_done;
	A->metric = "kld";
	ret = eb_kld_open_reference(A, tok, n_chunk, err);
	if (ret)
		return ret;
	ret = eb_acc_score(A, ops, st, EB_LOGLIK_LOGITS, err);
	if (ret)
		return ret;
	eb_kld_samples(A);
	eb_kld_finish(&A->kld, &k);
	eb_kld_put(res, &k);
	json_object_set_new(res->params, "role", json_string("compared"));
	json_object_set_new(res->params, "reference", json_string(A->env->kld_reference));
	json_object_set_new(res->params, "reference_file", json_string(A->kpath));
	return 0;
}

int eb_proto_kld(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
		 const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	const struct eb_acc_env *env = A->env;
	char kpath[4096];
	int32_t *tok = NULL;
	size_t n_chunk = 0;
	int ret;

	eb_acc_kld_path(A->t, env, kpath, sizeof(kpath));
	if (!kpath[0])
		return eb_err_set(err, EB_EINVAL, "kld: reference path too long");
	A->kpath = kpath;
	A->kld_ref = env->kld_reference && strcmp(env->quant, env->kld_reference) == 0;
	A->rows = eb_kld_rows;
	if (A->kld_ref) {
		ret = eb_mkdirs(env->kld_dir, err);
		if (ret)
			return ret;
	}
	ret = eb_acc_chunks(A, ops, st, path, res, &tok, &n_chunk, err);
	if (!ret && A->kld_ref)
		ret = eb_kld_reference(A, ops, st, tok, n_chunk, res, err);
	else if (!ret)
		ret = eb_kld_compare(A, ops, st, tok, n_chunk, res, err);
	if (A->kf)
		fclose(A->kf);
	A->kf = NULL;
	A->kpath = NULL; /* kpath is this frame's */
	free(tok);
	return ret;
}
