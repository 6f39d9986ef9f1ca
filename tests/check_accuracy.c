/* ctest: labels=integration,models timeout=600 */
/* check_accuracy.c: accuracy protocols against llama-perplexity, hand-computed scores and python3. */
#include "adapter.h"
#include "c4.h"
#include "corpus.h"
#include "hellaswag.h"
#include "mc.h"
#include "wikitext.h"
#include "accuracy_run.h"
#include "eb_proc.h"
#include "eb_util.h"
#include "eb_build.h"
#include "testutil.h"

#ifdef EB_HAVE_LLAMA
#include <llama.h>
#endif
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SAMPLES EB_SOURCE_DIR "/datasets/samples"

static char eb_dir[4096];
static char eb_ppl_bin[4096]; /* llama-perplexity, once a test has found it */

/* --- the fake scorer of testutil.h: byte tokens, log p(t) = -0.01 t --------------- */

static double eb_metric(const struct eb_acc_result *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->m[i].name, name) == 0)
			return r->m[i].value;
	ck_abort_msg("no metric '%s'", name);
	return NAN;
}

static double eb_metric_se(const struct eb_acc_result *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->m[i].name, name) == 0)
			return r->m[i].se;
	ck_abort_msg("no metric '%s'", name);
	return NAN;
}

static void eb_fake_run(struct eb_cfg_acc_task *t, struct eb_acc_result *res)
{
	json_t *backend = json_pack("{s:i, s:i, s:b, s:i}", "bos_token", 1, "eos_token", 2,
				    "add_bos", 1, "n_vocab", 259);
	struct eb_acc_env env = {
		.target_id = "t", .model_id = "m", .quant = "q", .backend = backend,
		.kld_dir = "/tmp", .threads = 2,
	};
	struct eb_err err;

	if (!t->params)
		t->params = json_pack("{s:s}", "protocol", t->protocol);
	ck_assert_msg(eb_acc_run(t, &eb_test_fake_ops, NULL, &env, res, &err) == 0, "%s", err.msg);
	json_decref(backend);
	json_decref(t->params);
	t->params = NULL;
}

/*
 * Three hand-built items; with log p(t) = -0.01 t and t = byte + 3 the continuation
 * sums are (item 1) -1.36 -4.35 -2.85 -2.39, (item 2) -1.35 -2.37 -3.41 -4.47,
 * (item 3) -7.75 -2.36 -1.58 -2.83. acc picks 0, 0, 2 (labels 1, 0, 1): 1 of 3.
 * acc_norm divides by code points (1 4 2 2 / 1 2 3 4 / 2 2 1 2) and picks 1, 3, 1: 2 of 3.
 */
START_TEST(hellaswag_fake_scorer_hand_computed)
{
	static const double want[12] = { -1.36, -4.35, -2.85, -2.39, -1.35, -2.37,
					 -3.41, -4.47, -7.75, -2.36, -1.58, -2.83 };
	struct eb_cfg_acc_task t = { 0 };
	struct eb_acc_result res;
	char path[4096];

	t.task = "hs";
	t.protocol = "hellaswag";
	t.file = (char *)eb_test_data("accuracy/hellaswag_fake.jsonl", path, sizeof(path));
	t.seqlen = 2048;
	eb_fake_run(&t, &res);
	ck_assert_uint_eq(eb_test_fake.flags & EB_LOGLIK_SHARE, EB_LOGLIK_SHARE);
	for (int i = 0; i < 12; i++)
		ck_assert_msg(fabs(eb_test_fake.sums[i] - want[i]) < 1e-9,
			      "sequence %d: %.6f, want %.6f", i, eb_test_fake.sums[i], want[i]);
	ck_assert_double_eq_tol(eb_metric(&res, "acc"), 1.0 / 3, 1e-12);
	ck_assert_double_eq_tol(eb_metric(&res, "acc_norm"), 2.0 / 3, 1e-12);
	/* lm-eval's stderr: sqrt(p (1 - p) / (n - 1)) = sqrt(2/9 / 2) = 1/3 */
	ck_assert_double_eq_tol(eb_metric_se(&res, "acc"), 1.0 / 3, 1e-12);
	ck_assert_int_eq(json_integer_value(json_object_get(res.params, "n_items")), 3);
	ck_assert(json_is_true(json_object_get(res.params, "shared_context")));
	eb_acc_result_release(&res);

	/* each ending alone: same figures, no sharing asked for */
	t.separate = 1;
	t.limit = 2;
	eb_fake_run(&t, &res);
	ck_assert_uint_eq(eb_test_fake.flags & EB_LOGLIK_SHARE, 0);
	ck_assert_double_eq_tol(eb_metric(&res, "acc"), 0.5, 1e-12);
	ck_assert_double_eq_tol(eb_metric(&res, "acc_norm"), 0.5, 1e-12);
	eb_acc_result_release(&res);
}
END_TEST

/* The window protocols with the fake scorer, against sums computed here from the bytes. */
START_TEST(fake_scorer_windows_chunks_documents)
{
	struct eb_cfg_acc_task t = { 0 };
	struct eb_acc_result res;
	struct eb_docs pages;
	struct eb_err err;
	char *raw = NULL;
	size_t len;

	ck_assert_int_eq(eb_corpus_read(SAMPLES "/wiki.test.raw", NULL, &raw, &len, &err), 0);

	/* wikitext2-llamacpp: [BOS] + bytes of the text less its last "\n"; chunks of 128,
	 * rows from 64 on, so tokens 65..127 of each chunk are scored */
	{
		size_t n = len - 1 + 1, n_ctx = 128, nch = n / n_ctx, cnt = 0;
		double nll = 0;

		for (size_t c = 0; c < nch; c++)
			for (size_t p = n_ctx / 2; p + 1 < n_ctx; p++) {
				size_t i = c * n_ctx + p + 1; /* token index; token i = byte i-1 */

				nll += 0.01 * ((unsigned char)raw[i - 1] + 3);
				cnt++;
			}
		t.task = "wt";
		t.protocol = "wikitext2-llamacpp";
		t.file = SAMPLES "/wiki.test.raw";
		t.n_ctx = (long long)n_ctx;
		eb_fake_run(&t, &res);
		ck_assert_double_eq_tol(eb_metric(&res, "ppl"), exp(nll / (double)cnt), 1e-9);
		ck_assert_int_eq(json_integer_value(json_object_get(res.params, "n_chunks")), (int)nch);
		eb_acc_result_release(&res);
	}

	/* wikitext2-gptq: [BOS] + bytes of "\n\n".join(rows), windows of 256, ppl = exp of the
	 * mean over windows of each window's mean NLL (positions 1..255) */
	{
		size_t jl, seqlen = 256, nwin;
		char *j = eb_wikitext_gptq_text(raw, len, &jl);
		double sum = 0;

		nwin = (jl + 1) / seqlen;
		for (size_t w = 0; w < nwin; w++) {
			double s = 0;

			for (size_t p = 1; p < seqlen; p++)
				s += 0.01 * ((unsigned char)j[w * seqlen + p - 1] + 3);
			sum += s / (double)(seqlen - 1);
		}
		free(j);
		memset(&t, 0, sizeof(t));
		t.task = "g";
		t.protocol = "wikitext2-gptq";
		t.file = SAMPLES "/wikitext-2-raw-v1.zip";
		t.seqlen = (long long)seqlen;
		eb_fake_run(&t, &res);
		ck_assert_double_eq_tol(eb_metric(&res, "ppl"), exp(sum / (double)nwin), 1e-9);
		ck_assert_int_eq(json_integer_value(json_object_get(res.params, "n_windows")), (int)nwin);
		eb_acc_result_release(&res);
	}

	/* wikitext2-lmeval: every detokenized byte scored exactly once across the rolling
	 * windows, no window longer than max_length + 1; words and bytes of the raw pages */
	{
		double ll = 0, words = 0, bytes = 0;
		size_t L = 100;

		eb_wikitext_pages(raw, len, &pages);
		for (size_t d = 0; d < pages.n; d++) {
			size_t dl;
			char *det = eb_wikitext_detokenize(pages.doc[d], pages.len[d], &dl);

			for (size_t i = 0; i < dl; i++)
				ll -= 0.01 * ((unsigned char)det[i] + 3);
			words += (double)eb_py_split_ws_count(pages.doc[d], pages.len[d]);
			bytes += (double)pages.len[d];
			free(det);
		}
		memset(&t, 0, sizeof(t));
		t.task = "l";
		t.protocol = "wikitext2-lmeval";
		t.file = SAMPLES "/wiki.test.raw";
		t.seqlen = (long long)L;
		eb_fake_run(&t, &res);
		ck_assert_uint_le(eb_test_fake.max_len, L + 1);
		ck_assert_double_eq_tol(eb_metric(&res, "word_perplexity"), exp(-ll / words), 1e-6);
		ck_assert_double_eq_tol(eb_metric(&res, "byte_perplexity"), exp(-ll / bytes), 1e-9);
		ck_assert_double_eq_tol(eb_metric(&res, "bits_per_byte"), -ll / bytes / log(2.0), 1e-9);
		ck_assert_int_eq(json_integer_value(json_object_get(res.params, "n_documents")), 3);
		ck_assert_int_eq((int)json_integer_value(json_object_get(res.params, "prefix_token")), 1);
		eb_acc_result_release(&res);
		eb_docs_release(&pages);
	}
	free(raw);
}
END_TEST

/* --- the c4 sampler against CPython ---------------------------------------------- */

static int eb_words(void *ud, size_t doc, size_t *n, struct eb_err *err)
{
	const struct eb_docs *d = ud;
	size_t i = 0, words = 0, k;
	int in = 0;

	while (i < d->len[doc]) {
		k = eb_py_space_len(d->doc[doc] + i, d->len[doc] - i);
		if (k) {
			in = 0;
			i += k;
			continue;
		}
		if (!in)
			words++;
		in = 1;
		i++;
	}
	*n = words;
	return 0;
}

START_TEST(c4_sampler_matches_python)
{
	struct eb_c4_window win[256];
	struct eb_docs docs;
	struct eb_err err;
	struct eb_buf mine;
	char path[4096], script[4096], *stored = NULL, *live = NULL;
	const char *argv[6];
	size_t len;
	int rc;

	ck_assert_int_eq(eb_c4_load(SAMPLES "/" EB_C4_SHARD, 0, &docs, &err), 0);
	ck_assert_msg(eb_c4_gptq_windows(docs.n, 100, 256, 0, eb_words, &docs, win, &err) == 0, "%s",
		      err.msg);
	eb_buf_init(&mine, 0);
	for (size_t i = 0; i < 256; i++)
		eb_buf_addf(&mine, "%zu %zu\n", win[i].doc, win[i].start);
	/* the stored output of tests/data/accuracy/c4_gptq_windows.py */
	eb_test_data("accuracy/c4_windows_100_256.txt", path, sizeof(path));
	ck_assert_int_eq(eb_read_file(path, 1 << 20, &stored, &len, &err), 0);
	ck_assert_str_eq(mine.buf, stored);
	/* and python3 itself, when it can run here */
	eb_test_data("accuracy/c4_gptq_windows.py", script, sizeof(script));
	argv[0] = "python3";
	argv[1] = script;
	argv[2] = SAMPLES "/" EB_C4_SHARD;
	argv[3] = "100";
	argv[4] = "256";
	argv[5] = NULL;
	rc = eb_proc_capture(argv, 0, 1 << 20, &live, &err);
	if (rc < 0) {
		eb_test_skip(__func__, "python3 not available (%s); compared with the stored "
			     "output only", err.msg);
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(mine.buf, live);
	}
	/* no document longer than seqlen: an error, not an endless loop */
	ck_assert_int_eq(eb_c4_gptq_windows(docs.n, 100000, 1, 0, eb_words, &docs, win, &err),
			 EB_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "no document has more than 100000 tokens"));
	free(live);
	free(stored);
	eb_buf_release(&mine);
	eb_docs_release(&docs);
}
END_TEST

/* --- end to end on the synthesized models ---------------------------------------------- */

static const char *eb_cfg(const char *name, const char *targets, const char *variants,
			  const char *tasks, const char *extra, char *buf, size_t n)
{
	char text[16384];
	struct eb_err err;
	int len;

	len = snprintf(text, sizeof(text),
		       "{ \"name\": \"%s\",\n"
		       "  \"targets\": [ %s ],\n"
		       "  \"models\": [ { \"id\": \"tiny\", \"variants\": [ %s ] } ],\n"
		       "  \"workloads\": { \"accuracy\": { \"tasks\": [ %s ]%s } } }\n",
		       name, targets, variants, tasks, extra ? extra : "");
	ck_assert_int_lt(len, (int)sizeof(text));
	snprintf(buf, n, "%s/%s.json", eb_dir, name);
	ck_assert_msg(eb_write_file(buf, text, (size_t)len, &err) == 0, "%s", err.msg);
	return buf;
}

#define CPU_TARGET                                                                          \
	"{ \"id\": \"cpu\", \"adapter\": \"llamacpp\", \"options\": { \"threads\": 2, "    \
	"\"n_gpu_layers\": 0, \"n_ctx\": 512, \"n_batch\": 512 } }"

static const char *eb_variant(const char *quant, char *buf, size_t n)
{
	snprintf(buf, n, "{ \"quant\": \"%s\", \"file\": \"%s/tiny-%s.gguf\" }", quant,
		 eb_test_models_dir(), quant);
	return buf;
}

static sqlite3 *eb_db(const char *path)
{
	sqlite3 *db = NULL;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static void eb_run_ok(const char *cfg, const char *db)
{
	const char *argv[] = { "edgebench", "run", cfg, "--db", db, NULL };
	char *out = NULL;
	int rc = eb_test_run(argv, &out);

	ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	free(out);
}

/* Runs llama-perplexity with argv (argv[0] ignored); its output (caller frees). */
static char *eb_peer(const char *const *args)
{
	const char *av[32];
	struct eb_err err;
	char *out = NULL;
	size_t i;
	int rc;

	av[0] = eb_ppl_bin;
	for (i = 1; args[i] && i < 31; i++)
		av[i] = args[i];
	av[i] = NULL;
	rc = eb_proc_capture(av, 1, 64u << 20, &out, &err);
	ck_assert_msg(rc == 0, "llama-perplexity: %d %s\n%s", rc, rc < 0 ? err.msg : "",
		      out ? out : "");
	return out;
}

static double eb_after(const char *out, const char *label)
{
	const char *p = strstr(out, label);

	ck_assert_msg(p != NULL, "no '%s' in llama-perplexity's output:\n%s", label, out);
	return strtod(p + strlen(label), NULL);
}

START_TEST(wikitext2_llamacpp_matches_llama_perplexity)
{
	char cfg[8192], db[8192], v[2048], task[2048], model[4096], *out;
	double ppl, se, want, want_se;
	sqlite3 *h;

	EB_TEST_SKIP_IF(eb_test_lacks_peer("llama-perplexity", eb_ppl_bin, sizeof(eb_ppl_bin)));

	eb_test_tmpdir("acc-ppl", eb_dir, sizeof(eb_dir));
	snprintf(task, sizeof(task),
		 "{ \"task\": \"wt\", \"protocol\": \"wikitext2-llamacpp\", \"file\": \"%s\", "
		 "\"n_ctx\": 128 }",
		 SAMPLES "/wiki.test.raw");
	eb_cfg("ppl", CPU_TARGET, eb_variant("f16", v, sizeof(v)), task, NULL, cfg, sizeof(cfg));
	snprintf(db, sizeof(db), "%s/ppl.db", eb_dir);
	eb_run_ok(cfg, db);
	h = eb_db(db);
	ppl = eb_test_q(h, "SELECT value FROM accuracy WHERE metric='ppl'");
	se = eb_test_q(h, "SELECT stderr FROM accuracy WHERE metric='ppl'");
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM accuracy WHERE metric='ppl' AND "
				    "protocol='wikitext2-llamacpp' AND task='wt' AND n=22*63"),
			    1);
	sqlite3_close(h);

	snprintf(model, sizeof(model), "%s/tiny-f16.gguf", eb_test_models_dir());
	{
		const char *args[] = { "", "-m", model, "-f", SAMPLES "/wiki.test.raw", "-c", "128",
				       "-b", "512", "-t", "2", "-ngl", "0", NULL };
		out = eb_peer(args);
	}
	want = eb_after(out, "Final estimate: PPL = ");
	want_se = eb_after(out, " +/- ");
	free(out);
	ck_assert_msg(fabs(ppl - want) <= 1e-3 * want, "edgebench %.4f, llama-perplexity %.4f", ppl,
		      want);
	ck_assert_msg(fabs(se - want_se) <= 1e-2 * want_se, "stderr %.5f vs %.5f", se, want_se);
}
END_TEST

START_TEST(kld_matches_llama_perplexity)
{
	char cfg[8192], db[8192], v1[2048], v2[2048], vars[4200], task[2048], base[8192];
	char model16[4096], model4[4096], *out, *ref, *a = NULL, *b = NULL;
	double kld, top1, want_kld, want_top1, ratio, want_ratio;
	struct eb_err err;
	size_t la, lb;
	sqlite3 *h;

	EB_TEST_SKIP_IF(eb_test_lacks_peer("llama-perplexity", eb_ppl_bin, sizeof(eb_ppl_bin)));

	eb_test_tmpdir("acc-kld", eb_dir, sizeof(eb_dir));
	/* the reference is listed last: the plan runs it first anyway */
	snprintf(vars, sizeof(vars), "%s, %s", eb_variant("q4_0", v1, sizeof(v1)),
		 eb_variant("f16", v2, sizeof(v2)));
	snprintf(task, sizeof(task),
		 "{ \"task\": \"kld\", \"protocol\": \"kld\", \"file\": \"%s\", \"n_ctx\": 128 }",
		 SAMPLES "/wiki.test.raw");
	eb_cfg("kld", CPU_TARGET, vars, task, ", \"kld\": { \"reference\": \"f16\" }", cfg,
	       sizeof(cfg));
	snprintf(db, sizeof(db), "%s/kld.db", eb_dir);
	eb_run_ok(cfg, db);
	h = eb_db(db);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='ok'"), 2);
	ck_assert_double_eq(eb_test_q(h, "SELECT min(id) FROM cells WHERE quant='f16'"),
			    eb_test_q(h, "SELECT min(id) FROM cells"));
	kld = eb_test_q(h, "SELECT value FROM accuracy WHERE metric='kld_mean'");
	top1 = eb_test_q(h, "SELECT value FROM accuracy WHERE metric='top1_agreement'");
	ratio = eb_test_q(h, "SELECT value FROM accuracy WHERE metric='ppl_ratio'");
	/* the reference file is referenced from the database, outside its tables */
	ref = eb_test_qs(h, "SELECT json_extract(a.params_json, '$.reference_file') FROM accuracy a "
		       "JOIN cells c ON c.id=a.cell_id WHERE c.quant='f16' AND a.metric='ppl'");
	ck_assert_ptr_nonnull(ref);
	ck_assert_ptr_nonnull(strstr(ref, "kld.db.kld/cpu_tiny_f16_kld.kld"));
	{
		char *r2 = eb_test_qs(h, "SELECT json_extract(a.params_json, '$.reference_file') FROM "
				    "accuracy a JOIN cells c ON c.id=a.cell_id WHERE c.quant='q4_0' "
				    "AND a.metric='kld_mean'");
		ck_assert_str_eq(r2, ref);
		free(r2);
	}
	eb_test_metrics_registered(h);
	sqlite3_close(h);

	snprintf(model16, sizeof(model16), "%s/tiny-f16.gguf", eb_test_models_dir());
	snprintf(model4, sizeof(model4), "%s/tiny-q4_0.gguf", eb_test_models_dir());
	snprintf(base, sizeof(base), "%s/llama-base.kld", eb_dir);
	{
		const char *args[] = { "", "-m", model16, "-f", SAMPLES "/wiki.test.raw", "-c",
				       "128", "-b", "512", "-t", "2", "-ngl", "0",
				       "--kl-divergence-base", base, NULL };
		free(eb_peer(args));
	}
	/* the same format as llama-perplexity's: the two files are the same bytes */
	ck_assert_int_eq(eb_read_file(base, 1u << 30, &a, &la, &err), 0);
	ck_assert_int_eq(eb_read_file(ref, 1u << 30, &b, &lb, &err), 0);
	ck_assert_uint_eq(la, lb);
	ck_assert_msg(memcmp(a, b, la) == 0, "reference log-probabilities differ from llama-perplexity's");
	free(a);
	free(b);
	{
		const char *args[] = { "", "-m", model4, "-c", "128", "-b", "512", "-t", "2",
				       "-ngl", "0", "--kl-divergence-base", base, "--kl-divergence",
				       NULL };
		out = eb_peer(args);
	}
	want_kld = eb_after(out, "Mean    KLD: ");
	want_top1 = eb_after(out, "Same top p: ");
	want_ratio = eb_after(out, "Mean PPL(Q)/PPL(base)         : ");
	free(out);
	ck_assert_msg(fabs(kld - want_kld) <= 0.01 * want_kld, "KLD %.6f vs %.6f", kld, want_kld);
	ck_assert_msg(fabs(100 * top1 - want_top1) <= 0.5, "top-1 %.3f%% vs %.3f%%", 100 * top1,
		      want_top1);
	ck_assert_msg(fabs(ratio - want_ratio) <= 1e-5, "PPL ratio %.6f vs %.6f", ratio, want_ratio);
	free(ref);
}
END_TEST

#ifdef EB_HAVE_LLAMA
/* UTF-8 code points of s. */
static size_t eb_cps(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Sum of log p of whole[from..n) given what precedes, from a fresh single-sequence decode. */
static double eb_independent_sum(struct llama_context *ctx, const int32_t *whole, int n, int from,
				 int n_vocab)
{
	struct llama_batch b = llama_batch_init(n, 0, 1);
	double sum = 0;

	llama_memory_clear(llama_get_memory(ctx), true);
	for (int i = 0; i < n; i++) {
		b.token[i] = whole[i];
		b.pos[i] = i;
		b.n_seq_id[i] = 1;
		b.seq_id[i][0] = 0;
		b.logits[i] = 1;
	}
	b.n_tokens = n;
	ck_assert_int_eq(llama_decode(ctx, b), 0);
	for (int i = from; i < n; i++) {
		const float *lg = llama_get_logits_ith(ctx, i - 1);
		double mx = lg[0], z = 0;

		for (int v = 1; v < n_vocab; v++)
			mx = lg[v] > mx ? lg[v] : mx;
		for (int v = 0; v < n_vocab; v++)
			z += exp((double)lg[v] - mx);
		sum += (double)lg[whole[i]] - mx - log(z);
	}
	llama_batch_free(b);
	return sum;
}

/* The tiny q8_0 model in a context of its own (512 tokens, 2 threads), for scoring here. */
static struct llama_context *eb_tiny_context(struct llama_model **m)
{
	struct llama_model_params mp = llama_model_default_params();
	struct llama_context_params cp = llama_context_default_params();
	struct llama_context *ctx;
	char model[4096];

	snprintf(model, sizeof(model), "%s/tiny-q8_0.gguf", eb_test_models_dir());
	llama_backend_init();
	mp.n_gpu_layers = 0;
	*m = llama_model_load_from_file(model, mp);
	ck_assert_ptr_nonnull(*m);
	cp.n_ctx = 512;
	cp.n_batch = 512;
	cp.n_threads = 2;
	cp.n_threads_batch = 2;
	ctx = llama_init_from_model(*m, cp);
	ck_assert_ptr_nonnull(ctx);
	return ctx;
}

START_TEST(hellaswag_real_model_independent)
{
	char cfg[8192], db[8192], v[2048], task[2048];
	struct {
		int hits, hits_norm, n;
	} want = { 0, 0, 0 };
	struct llama_model *m;
	struct llama_context *ctx;
	const struct llama_vocab *vocab;
	struct eb_err err;
	double acc, acc_norm;
	sqlite3 *h;

	eb_test_tmpdir("acc-hs", eb_dir, sizeof(eb_dir));
	snprintf(task, sizeof(task), "{ \"task\": \"hs\", \"protocol\": \"hellaswag\", \"file\": \"%s\" }",
		 SAMPLES "/hellaswag_sample.jsonl");
	eb_cfg("hs", CPU_TARGET, eb_variant("q8_0", v, sizeof(v)), task, NULL, cfg, sizeof(cfg));
	snprintf(db, sizeof(db), "%s/hs.db", eb_dir);
	eb_run_ok(cfg, db);
	h = eb_db(db);
	acc = eb_test_q(h, "SELECT value FROM accuracy WHERE metric='acc'");
	acc_norm = eb_test_q(h, "SELECT value FROM accuracy WHERE metric='acc_norm'");
	ck_assert_double_eq(eb_test_q(h, "SELECT n FROM accuracy WHERE metric='acc'"), 8);
	sqlite3_close(h);

	/* the same items scored here without edgebench's scoring code: libllama, one
	 * sequence per ending, log-softmax in double, preprocessing from hellaswag.h */
	ctx = eb_tiny_context(&m);
	vocab = llama_model_get_vocab(m);
	{
		struct eb_hellaswag ds;
		int32_t tok[1024], whole[1024];

		ck_assert_int_eq(eb_hellaswag_load(&ds, SAMPLES "/hellaswag_sample.jsonl", &err), 0);
		for (size_t i = 0; i < ds.n; i++) {
			const struct eb_hellaswag_item *it = &ds.items[i];
			double lp[4], best = -INFINITY, best_norm = -INFINITY;
			int pred = 0, pred_norm = 0;
			int n_ctx = llama_tokenize(vocab, it->query, (int32_t)strlen(it->query), tok,
						   1024, false, false);

			ck_assert_int_gt(n_ctx, 0);
			for (int k = 0; k < 4; k++) {
				char joined[4096];
				int n;

				snprintf(joined, sizeof(joined), "%s%s", it->query, it->cont[k]);
				n = llama_tokenize(vocab, joined, (int32_t)strlen(joined), whole, 1024,
						   false, false);
				ck_assert_int_gt(n, n_ctx);
				lp[k] = eb_independent_sum(ctx, whole, n, n_ctx,
							   llama_vocab_n_tokens(vocab));
				if (lp[k] > best) {
					best = lp[k];
					pred = k;
				}
				if (lp[k] / (double)eb_cps(it->choice[k]) > best_norm) {
					best_norm = lp[k] / (double)eb_cps(it->choice[k]);
					pred_norm = k;
				}
			}
			want.hits += pred == it->label;
			want.hits_norm += pred_norm == it->label;
			want.n++;
		}
		eb_hellaswag_release(&ds);
	}
	llama_free(ctx);
	llama_model_free(m);
	ck_assert_int_eq(want.n, 8);
	ck_assert_double_eq_tol(acc, want.hits / 8.0, 1e-12);
	ck_assert_double_eq_tol(acc_norm, want.hits_norm / 8.0, 1e-12);
}
END_TEST

/*
 * The multiple-choice tasks end to end on the tiny model: every choice's sum as stored in
 * its record (`edgebench samples`) against the same request scored here with libllama,
 * one fresh sequence per choice; acc and acc_norm (and their stderr) from those sums.
 */
START_TEST(mc_real_model_independent)
{
	static const struct {
		const char *task;
		enum eb_mc_format fmt;
		const char *file, *member;
		int norm;
	} tasks[] = {
		{ "arc_easy", EB_MC_ARC, SAMPLES "/arc_easy_sample.jsonl", NULL, 1 },
		{ "arc_challenge", EB_MC_ARC, SAMPLES "/ARC-V1-Feb2018.zip",
		  "ARC-V1-Feb2018-2/ARC-Challenge/ARC-Challenge-Test.jsonl", 1 },
		{ "piqa", EB_MC_PIQA, SAMPLES "/piqa_sample.jsonl", NULL, 1 },
		{ "winogrande", EB_MC_WINOGRANDE, SAMPLES "/winogrande_sample.jsonl", NULL, 0 },
		{ "mmlu", EB_MC_MMLU, SAMPLES "/data.tar", NULL, 0 },
	};
	char cfg[8192], db[8192], v[2048], *out = NULL;
	struct llama_model *m;
	struct llama_context *ctx;
	const struct llama_vocab *vocab;
	struct eb_buf b;
	size_t pos = 0;
	sqlite3 *h;

	eb_test_tmpdir("acc-mc", eb_dir, sizeof(eb_dir));
	eb_buf_init(&b, 0);
	for (size_t t = 0; t < sizeof(tasks) / sizeof(tasks[0]); t++)
		eb_buf_addf(&b, "%s{ \"task\": \"%s\", \"protocol\": \"%s\", \"file\": \"%s\" }",
			    t ? ", " : "", tasks[t].task, tasks[t].task, tasks[t].file);
	eb_cfg("mc", CPU_TARGET, eb_variant("q8_0", v, sizeof(v)), b.buf, NULL, cfg, sizeof(cfg));
	eb_buf_release(&b);
	snprintf(db, sizeof(db), "%s/mc.db", eb_dir);
	eb_run_ok(cfg, db);
	{
		const char *argv[] = { "edgebench", "samples", db, NULL };

		ck_assert_int_eq(eb_test_run(argv, &out), 0);
	}
	h = eb_db(db);

	ctx = eb_tiny_context(&m);
	vocab = llama_model_get_vocab(m);
	for (size_t t = 0; t < sizeof(tasks) / sizeof(tasks[0]); t++) {
		struct eb_mc ds;
		struct eb_err err;
		int32_t tok[1024], whole[1024];
		size_t hits = 0, norm_hits = 0;
		double p, want_se;

		ck_assert_int_eq(eb_mc_load(&ds, tasks[t].fmt, tasks[t].file, tasks[t].member, &err), 0);
		for (size_t i = 0; i < ds.n; i++) {
			const struct eb_mc_item *it = &ds.items[i];
			double lps[EB_MC_MAX_CHOICES];
			int pred, pred_norm;
			json_error_t jerr;
			const char *nl = strchr(out + pos, '\n');
			json_t *rec, *ll;

			/* the next record of `edgebench samples` (cells in run order) */
			ck_assert_ptr_nonnull(nl);
			rec = json_loadb(out + pos, (size_t)(nl - out - pos), 0, &jerr);
			pos = (size_t)(nl - out) + 1;
			ck_assert_msg(rec, "%s", jerr.text);
			ck_assert_str_eq(json_string_value(json_object_get(rec, "task")), tasks[t].task);
			ck_assert_int_eq(json_integer_value(json_object_get(rec, "doc_index")), (json_int_t)i);
			ll = json_object_get(json_object_get(rec, "result"), "loglik");
			ck_assert_uint_eq(json_array_size(ll), it->n_choices);
			for (size_t k = 0; k < it->n_choices; k++) {
				char joined[4096];
				int n_ctx = llama_tokenize(vocab, it->ctx[k], (int32_t)strlen(it->ctx[k]),
							   tok, 1024, false, false);
				int n;
				double lp, got = json_real_value(json_array_get(ll, k));

				snprintf(joined, sizeof(joined), "%s%s", it->ctx[k], it->cont[k]);
				n = llama_tokenize(vocab, joined, (int32_t)strlen(joined), whole, 1024, false,
						   false);
				ck_assert_int_gt(n_ctx, 0);
				ck_assert_int_gt(n, n_ctx);
				lp = eb_independent_sum(ctx, whole, n, n_ctx, llama_vocab_n_tokens(vocab));
				ck_assert_msg(fabs(got - lp) <= 1e-3 * fmax(1.0, fabs(lp)),
					      "%s item %zu choice %zu: stored %.6f, here %.6f",
					      tasks[t].task, i, k, got, lp);
				lps[k] = lp;
			}
			eb_test_mc_pick(lps, it->choice_len, it->n_choices, &pred, &pred_norm);
			hits += pred == it->gold;
			norm_hits += pred_norm == it->gold;
			ck_assert_int_eq(json_integer_value(json_object_get(rec, "answer")),
					 tasks[t].norm ? pred_norm : pred);
			json_decref(rec);
		}
		ck_assert_double_eq_tol(eb_test_q(h, "SELECT value FROM accuracy WHERE task='%s' AND "
						  "metric='acc'", tasks[t].task),
					(double)hits / (double)ds.n, 1e-12);
		ck_assert_double_eq(eb_test_q(h, "SELECT n FROM accuracy WHERE task='%s' AND "
					      "metric='acc'", tasks[t].task),
				    (double)ds.n);
		if (ds.n_groups < 2) {
			p = (double)hits / (double)ds.n;
			want_se = sqrt(p * (1 - p) / (double)(ds.n - 1));
			ck_assert_double_eq_tol(eb_test_q(h, "SELECT coalesce(stderr, 0) FROM accuracy "
							  "WHERE task='%s' AND metric='acc'",
							  tasks[t].task),
						want_se, 1e-12);
		}
		ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM accuracy WHERE task='%s' AND "
					      "metric='acc_norm'", tasks[t].task),
				    tasks[t].norm);
		if (tasks[t].norm)
			ck_assert_double_eq_tol(eb_test_q(h, "SELECT value FROM accuracy WHERE "
							  "task='%s' AND metric='acc_norm'",
							  tasks[t].task),
						(double)norm_hits / (double)ds.n, 1e-12);
		eb_mc_release(&ds);
	}
	ck_assert_msg(out[pos] == '\0', "more records than items: %s", out + pos);
	free(out);
	llama_free(ctx);
	llama_model_free(m);
	eb_test_metrics_registered(h);
	sqlite3_close(h);
}
END_TEST
#else /* !EB_HAVE_LLAMA: the independent scoring needs libllama */
START_TEST(hellaswag_real_model_independent)
{
	EB_TEST_SKIP_IF(eb_test_lacks_llama());
}
END_TEST

START_TEST(mc_real_model_independent)
{
	EB_TEST_SKIP_IF(eb_test_lacks_llama());
}
END_TEST
#endif

/* Every protocol end to end: figures carry protocol and parameters; a cell whose adapter
 * cannot score is stored as skipped with the reason. */
START_TEST(protocols_end_to_end_and_skip)
{
	char cfg[8192], db[8192], v[2048], tasks[4096], targets[2048], *out = NULL;
	sqlite3 *h;
	char *s;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());

	eb_test_tmpdir("acc-e2e", eb_dir, sizeof(eb_dir));
	snprintf(tasks, sizeof(tasks),
		 "{ \"task\": \"gptq\", \"protocol\": \"wikitext2-gptq\", \"file\": \"%s\", \"seqlen\": 256 },"
		 "{ \"task\": \"lmeval\", \"protocol\": \"wikitext2-lmeval\", \"file\": \"%s\", \"seqlen\": 256, \"limit\": 2 },"
		 "{ \"task\": \"c4\", \"protocol\": \"c4-gptq\", \"file\": \"%s\", \"seqlen\": 64, \"n_samples\": 8 },"
		 "{ \"task\": \"c4new\", \"protocol\": \"c4-new\", \"file\": \"%s\", \"seqlen\": 64, \"limit\": 4 },"
		 "{ \"task\": \"hs\", \"protocol\": \"hellaswag\", \"file\": \"%s\", \"limit\": 4 }",
		 SAMPLES "/wikitext-2-raw-v1.zip", SAMPLES "/wikitext-2-raw-v1.zip",
		 SAMPLES "/" EB_C4_SHARD, SAMPLES "/" EB_C4_SHARD, SAMPLES "/hellaswag_sample.jsonl");
	snprintf(targets, sizeof(targets),
		 CPU_TARGET ", { \"id\": \"remote\", \"adapter\": \"ollama\" }");
	snprintf(v, sizeof(v), "{ \"quant\": \"q4_0\", \"file\": \"%s/tiny-q4_0.gguf\", "
			       "\"model_name\": \"tiny\" }",
		 eb_test_models_dir());
	eb_cfg("e2e", targets, v, tasks, NULL, cfg, sizeof(cfg));
	snprintf(db, sizeof(db), "%s/e2e.db", eb_dir);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, NULL };
		int rc = eb_test_run(argv, &out);

		ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
		ck_assert_msg(strstr(out, "cell remote/tiny/q4_0/accuracy/hs skipped: adapter "
					  "'ollama' cannot score log-likelihoods"),
			      "%s", out);
		ck_assert_msg(strstr(out, "5 ok, 0 failed, 5 skipped"), "%s", out);
		free(out);
	}
	h = eb_db(db);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE target='cpu' AND status='ok'"), 5);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE target='remote' AND "
				    "status='skipped' AND error LIKE '%%cannot score log-likelihoods%%'"),
			    5);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM runs WHERE status='ok'"), 1);
	/* figures, each with its protocol and parameters */
	ck_assert(eb_test_q(h, "SELECT value FROM accuracy WHERE task='gptq' AND metric='ppl'") > 1000);
	ck_assert_double_eq(eb_test_q(h, "SELECT json_extract(params_json, '$.seqlen') FROM accuracy "
				    "WHERE task='gptq' AND metric='ppl'"),
			    256);
	ck_assert(eb_test_q(h, "SELECT json_extract(params_json, '$.n_windows') FROM accuracy WHERE "
			  "task='gptq' AND metric='ppl'") >= 5);
	ck_assert_double_eq(eb_test_q(h, "SELECT json_extract(params_json, '$.limit') FROM accuracy "
				    "WHERE task='lmeval' AND metric='word_perplexity'"),
			    2);
	ck_assert_double_eq(eb_test_q(h, "SELECT n FROM accuracy WHERE task='lmeval' AND "
				    "metric='bits_per_byte'"),
			    2);
	ck_assert_double_eq(eb_test_q(h, "SELECT n FROM accuracy WHERE task='c4' AND metric='ppl'"), 8);
	ck_assert_double_eq(eb_test_q(h, "SELECT n FROM accuracy WHERE task='c4new' AND metric='ppl'"), 4);
	ck_assert_double_eq(eb_test_q(h, "SELECT n FROM accuracy WHERE task='hs' AND metric='acc_norm'"), 4);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM accuracy WHERE protocol IS NULL OR "
				    "params_json NOT LIKE '%%\"dataset_sha256\":%%' OR "
				    "json_extract(params_json, '$.protocol') <> protocol"),
			    0);
	s = eb_test_qs(h, "SELECT params_json FROM cells WHERE key='cpu/tiny/q4_0/accuracy/c4'");
	ck_assert_msg(strstr(s, "\"protocol\":\"c4-gptq\"") && strstr(s, "\"n_samples\":8") &&
			      strstr(s, "\"seed\":0"),
		      "%s", s);
	free(s);
	eb_test_metrics_registered(h);
	sqlite3_close(h);
}
END_TEST

/* Starts `edgebench run` in the background; waits until `ok_cells` cells are ok. */
static void eb_start_and_wait(struct eb_proc *p, const char *cfg, const char *db, int ok_cells)
{
	const char *argv[] = { EB_TEST_BIN, "run", cfg, "--db", db, "--quiet", NULL };
	struct eb_err err;

	ck_assert_msg(eb_proc_start(p, argv, NULL, EB_PROC_NULL_IN | EB_PROC_NULL_OUT, &err) == 0,
		      "%s", err.msg);
	for (int i = 0; i < 6000; i++) {
		int st;

		usleep(50000);
		if (access(db, F_OK) == 0) {
			sqlite3 *h = eb_db(db);
			double ok = 0;

			/* the file exists a moment before its tables do */
			if (eb_test_q(h, "SELECT count(*) FROM sqlite_master WHERE name='cells'") > 0)
				ok = eb_test_q(h, "SELECT count(*) FROM cells WHERE status='ok'");
			sqlite3_close(h);
			if (ok >= ok_cells)
				return;
		}
		ck_assert_msg(eb_proc_poll(p, &st) == 0, "edgebench ended early (%d)", st);
	}
	ck_abort_msg("no cell finished in time");
}

START_TEST(interrupt_and_resume)
{
	char cfg[8192], db[8192], v1[2048], v2[2048], vars[4200], tasks[2048], text[8192];
	char *raw = NULL, *out = NULL;
	struct eb_buf big;
	struct eb_proc p;
	struct eb_err err;
	size_t len;
	sqlite3 *h;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());

	eb_test_tmpdir("acc-resume", eb_dir, sizeof(eb_dir));
	/* a longer text: the sample twice */
	ck_assert_int_eq(eb_read_file(SAMPLES "/wiki.test.raw", 1 << 20, &raw, &len, &err), 0);
	eb_buf_init(&big, 0);
	for (int i = 0; i < 2; i++)
		eb_buf_add(&big, raw, len);
	snprintf(text, sizeof(text), "%s/long.raw", eb_dir);
	ck_assert_int_eq(eb_write_file(text, big.buf, big.len, &err), 0);
	eb_buf_release(&big);
	free(raw);
	snprintf(tasks, sizeof(tasks),
		 "{ \"task\": \"a\", \"protocol\": \"wikitext2-llamacpp\", \"file\": \"%s\", \"n_ctx\": 128 },"
		 "{ \"task\": \"b\", \"protocol\": \"wikitext2-gptq\", \"file\": \"%s\", \"seqlen\": 128 }",
		 text, text);
	snprintf(vars, sizeof(vars), "%s, %s", eb_variant("q8_0", v1, sizeof(v1)),
		 eb_variant("q4_0", v2, sizeof(v2)));
	eb_cfg("resume", CPU_TARGET, vars, tasks, NULL, cfg, sizeof(cfg));
	snprintf(db, sizeof(db), "%s/r.db", eb_dir);
	eb_start_and_wait(&p, cfg, db, 1);
	ck_assert_int_eq(eb_proc_kill(&p, SIGINT), 0);
	ck_assert_int_eq(eb_proc_wait(&p), 3);
	h = eb_db(db);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM runs WHERE status='interrupted'"), 1);
	ck_assert(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='pending'") >= 1);
	/* an unfinished cell left no figures */
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM accuracy a JOIN cells c ON "
				    "c.id=a.cell_id WHERE c.status<>'ok'"),
			    0);
	sqlite3_close(h);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--resume", "--quiet", NULL };
		int rc = eb_test_run(argv, &out);

		ck_assert_msg(rc == 0, "resume rc %d: %s", rc, out);
		free(out);
	}
	h = eb_db(db);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='ok'"), 4);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM accuracy WHERE metric='ppl'"), 4);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(DISTINCT cell_id) FROM accuracy"), 4);
	sqlite3_close(h);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("accuracy");
	TCase *fast = tcase_create("fake");
	TCase *models = tcase_create("models");

	tcase_add_test(fast, hellaswag_fake_scorer_hand_computed);
	tcase_add_test(fast, fake_scorer_windows_chunks_documents);
	tcase_add_test(fast, c4_sampler_matches_python);
	suite_add_tcase(s, fast);
	tcase_set_timeout(models, 300);
	tcase_add_test(models, wikitext2_llamacpp_matches_llama_perplexity);
	tcase_add_test(models, kld_matches_llama_perplexity);
	tcase_add_test(models, hellaswag_real_model_independent);
	tcase_add_test(models, mc_real_model_independent);
	tcase_add_test(models, protocols_end_to_end_and_skip);
	tcase_add_test(models, interrupt_and_resume);
	suite_add_tcase(s, models);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
