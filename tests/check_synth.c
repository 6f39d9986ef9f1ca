/* ctest: labels=integration,models timeout=300 */
/* check_synth.c: `edgebench model synth` writes GGUF models llama.cpp loads, tokenizes and runs. */
#include "testutil.h"

#include "synth.h"
#include "eb_proc.h"
#include "eb_util.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef EB_HAVE_LLAMA
#include <llama.h>
#endif

/* Parameters of a llama/qwen2 model, counted tensor by tensor (independent of synth.c). */
static uint64_t eb_test_params(int qwen2, uint64_t e, uint64_t layers, uint64_t heads,
			       uint64_t heads_kv, uint64_t ff, uint64_t vocab, int tied)
{
	uint64_t kv = e / heads * heads_kv;
	uint64_t blk = 0;

	blk += e;                  /* attn_norm */
	blk += e * e + (qwen2 ? e : 0);   /* attn_q (+ bias) */
	blk += e * kv + (qwen2 ? kv : 0); /* attn_k (+ bias) */
	blk += e * kv + (qwen2 ? kv : 0); /* attn_v (+ bias) */
	blk += e * e;              /* attn_output */
	blk += e;                  /* ffn_norm */
	blk += 3 * e * ff;         /* ffn_gate, ffn_up, ffn_down */
	return vocab * e + layers * blk + e + (tied ? 0 : vocab * e);
}

/* Number of regular entries in dir, "." and ".." aside. */
static int eb_test_count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	ck_assert_msg(d != NULL, "cannot open '%s'", dir);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

START_TEST(test_help)
{
	const char *synth[] = { "edgebench", "model", "synth", "--help", NULL };
	const char *model[] = { "edgebench", "model", "--help", NULL };
	const char *shapes_help[] = { "edgebench", "model", "shapes", "--help", NULL };
	char *out = NULL;

	ck_assert_int_eq(eb_test_run(synth, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "meaningless"));
	ck_assert_ptr_nonnull(strstr(out, "--shape"));
	ck_assert_ptr_nonnull(strstr(out, "q4_k_m"));
	free(out);
	ck_assert_int_eq(eb_test_run(model, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "synth"));
	ck_assert_ptr_nonnull(strstr(out, "shapes"));
	free(out);
	ck_assert_int_eq(eb_test_run(shapes_help, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "usage: edgebench model shapes"));
	free(out);
}
END_TEST

START_TEST(test_shapes)
{
	const char *argv[] = { "edgebench", "model", "shapes", NULL };
	char *out = NULL;

	ck_assert_int_eq(eb_test_run(argv, &out), 0);
	for (const struct eb_synth_shape *s = eb_synth_shapes; s->name; s++) {
		ck_assert_msg(strstr(out, s->name) != NULL, "'%s' not listed:\n%s", s->name, out);
		ck_assert_uint_eq(eb_synth_n_params(s, 32000),
				  eb_test_params(strcmp(s->arch, "qwen2") == 0, (uint64_t)s->n_embd,
						 (uint64_t)s->n_layer, (uint64_t)s->n_head,
						 (uint64_t)s->n_head_kv, (uint64_t)s->n_ff, 32000,
						 s->tied_embd));
	}
	ck_assert_ptr_nonnull(strstr(out, "1.10B")); /* tinyllama */
	free(out);
}
END_TEST

/* The named shapes have exactly the published models' parameter counts. */
START_TEST(test_shapes_match_published)
{
	static const struct {
		const char *shape;
		int64_t n_vocab;
		uint64_t params;
	} pub[] = {
		{ "tiny", 32000, 15191712ull },           /* stories15M */
		{ "tinyllama-1.1b", 32000, 1100048384ull }, /* TinyLlama-1.1B */
		{ "qwen2-1.5b", 151936, 1543714304ull },  /* Qwen2-1.5B */
		{ "llama2-7b", 32000, 6738415616ull },    /* Llama-2-7b */
		{ "llama3-8b", 128256, 8030261248ull },   /* Meta-Llama-3-8B */
	};

	for (size_t i = 0; i < sizeof(pub) / sizeof(pub[0]); i++) {
		const struct eb_synth_shape *s = eb_synth_shape_find(pub[i].shape);

		ck_assert_ptr_nonnull(s);
		ck_assert_msg(eb_synth_n_params(s, pub[i].n_vocab) == pub[i].params,
			      "%s: %llu params, published %llu", pub[i].shape,
			      (unsigned long long)eb_synth_n_params(s, pub[i].n_vocab),
			      (unsigned long long)pub[i].params);
	}
}
END_TEST

START_TEST(test_usage_errors)
{
	const char *no_type[] = { "edgebench", "model", "synth", "--shape", "tiny", "-o", "x.gguf",
				  NULL };
	const char *partial[] = { "edgebench", "model", "synth", "--n-embd", "64", "--n-layer", "2",
				  "--type", "f16", "-o", "x.gguf", NULL };
	const char *typo[] = { "edgebench", "model", "synth", "--shap", "tiny", NULL };
	const char *sub[] = { "edgebench", "model", "frobnicate", NULL };
	char *out = NULL;

	ck_assert_int_eq(eb_test_run(no_type, &out), 2);
	ck_assert_ptr_nonnull(strstr(out, "--type"));
	free(out);
	ck_assert_int_eq(eb_test_run(partial, &out), 2);
	ck_assert_ptr_nonnull(strstr(out, "--n-head"));
	free(out);
	ck_assert_int_eq(eb_test_run(typo, &out), 2);
	ck_assert_ptr_nonnull(strstr(out, "did you mean '--shape'"));
	free(out);
	ck_assert_int_eq(eb_test_run(sub, &out), 2);
	ck_assert_ptr_nonnull(strstr(out, "'frobnicate'"));
	free(out);
}
END_TEST

#ifdef EB_HAVE_LLAMA

START_TEST(test_bad_values)
{
	static const struct {
		const char *flag, *value;
		int rc;
	} cases[] = {
		{ "--shape", "nosuchshape", 2 },
		{ "--type", "q9_9", 2 },
		{ "--vocab", "nosuchvocab", 2 },
		{ "--vocab", "/nonexistent/vocab.gguf", 2 },
		{ "--n-embd", "12x", 2 },
		{ "--arch", "gpt9", 2 },
	};
	char dir[4096], outp[4200];

	eb_test_tmpdir("synth-bad", dir, sizeof(dir));
	snprintf(outp, sizeof(outp), "%s/bad.gguf", dir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[] = { "edgebench", "model", "synth", "--shape", "tiny",
				       "--type", "f16", "-o", outp, cases[i].flag,
				       cases[i].value, NULL };
		char *out = NULL;
		int rc = eb_test_run(argv, &out);

		ck_assert_msg(rc == cases[i].rc, "%s %s: exit %d, expected %d:\n%s",
			      cases[i].flag, cases[i].value, rc, cases[i].rc, out);
		ck_assert_msg(strstr(out, "edgebench model synth: ") == out, "%s", out);
		ck_assert_msg(strstr(out, cases[i].value) != NULL, "message does not name '%s': %s",
			      cases[i].value, out);
		free(out);
	}
	ck_assert_int_eq(eb_test_count_files(dir), 0);
}
END_TEST

static void eb_test_log(enum ggml_log_level level, const char *text, void *ud)
{
	if (level == GGML_LOG_LEVEL_ERROR)
		fputs(text, stderr);
}

static void eb_test_llama_setup(void)
{
	llama_log_set(eb_test_log, NULL);
	llama_backend_init();
}

static struct llama_model *eb_test_load(const char *path, int vocab_only)
{
	struct llama_model_params mp = llama_model_default_params();
	struct llama_model *m;

	mp.vocab_only = vocab_only;
	mp.n_gpu_layers = 0;
	m = llama_model_load_from_file(path, mp);
	ck_assert_msg(m != NULL, "llama.cpp cannot load '%s'", path);
	return m;
}

static const char eb_test_sentence[] =
	"Once upon a time, a little robot measured 42 tokens per second.";

static int eb_test_tokenize(const struct llama_model *m, llama_token *tok, int n_max)
{
	int n = llama_tokenize(llama_model_get_vocab(m), eb_test_sentence,
			       (int32_t)strlen(eb_test_sentence), tok, n_max, true, false);

	ck_assert_int_gt(n, 0);
	return n;
}

/*
 * Checks a synthesized model against its shape and the vocab GGUF it copied: dims,
 * parameter count, token count, tokenization, file type; then runs a few decode steps.
 */
static void eb_test_check_model(const char *path, const char *vocab_name, int qwen2, int e,
				int layers, int heads, int heads_kv, int ff, int tied,
				enum llama_ftype ftype)
{
	struct llama_model *m, *vm;
	struct llama_context *ctx;
	struct llama_context_params cp = llama_context_default_params();
	char vocab[4096], name[256];
	struct eb_err err;
	llama_token tok[256], vtok[256];
	int64_t n_vocab = 0;
	int n, vn, n_tokens;

	ck_assert_msg(eb_synth_vocab_path(vocab_name, vocab, sizeof(vocab), &err) == 0, "%s",
		      err.msg);
	ck_assert_msg(eb_synth_vocab_size(vocab, &n_vocab, &err) == 0, "%s", err.msg);

	m = eb_test_load(path, 0);
	vm = eb_test_load(vocab, 1);
	n_tokens = llama_vocab_n_tokens(llama_model_get_vocab(m));
	ck_assert_int_eq(n_tokens, (int)n_vocab);
	ck_assert_int_eq(n_tokens, llama_vocab_n_tokens(llama_model_get_vocab(vm)));
	ck_assert_int_eq(llama_model_n_embd(m), e);
	ck_assert_int_eq(llama_model_n_layer(m), layers);
	ck_assert_int_eq(llama_model_n_head(m), heads);
	ck_assert_int_eq(llama_model_n_head_kv(m), heads_kv);
	ck_assert_uint_eq(llama_model_n_params(m),
			  eb_test_params(qwen2, (uint64_t)e, (uint64_t)layers, (uint64_t)heads,
					 (uint64_t)heads_kv, (uint64_t)ff, (uint64_t)n_vocab,
					 tied));
	ck_assert_int_eq((int)llama_model_ftype(m), (int)ftype);
	ck_assert_int_gt(llama_model_meta_val_str(m, "general.architecture", name, sizeof(name)),
			 0);
	ck_assert_str_eq(name, qwen2 ? "qwen2" : "llama");

	n = eb_test_tokenize(m, tok, 256);
	vn = eb_test_tokenize(vm, vtok, 256);
	ck_assert_int_eq(n, vn);
	ck_assert_int_gt(n, 5);
	ck_assert_mem_eq(tok, vtok, (size_t)n * sizeof(tok[0]));

	cp.n_ctx = 128;
	cp.n_batch = 128;
	cp.n_threads = 2;
	cp.n_threads_batch = 2;
	ctx = llama_init_from_model(m, cp);
	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(llama_decode(ctx, llama_batch_get_one(tok, n)), 0);
	for (int step = 0; step < 4; step++) {
		const float *logits = llama_get_logits_ith(ctx, -1);
		llama_token best = 0;

		ck_assert_ptr_nonnull(logits);
		for (int i = 0; i < n_tokens; i++) {
			ck_assert_msg(isfinite(logits[i]), "logit %d is %f at step %d", i,
				      (double)logits[i], step);
			if (logits[i] > logits[best])
				best = i;
		}
		ck_assert_int_eq(llama_decode(ctx, llama_batch_get_one(&best, 1)), 0);
	}
	llama_free(ctx);
	llama_model_free(vm);
	llama_model_free(m);
}

static const char *eb_test_model(const char *file, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", eb_test_models_dir(), file);
	ck_assert_msg(access(buf, R_OK) == 0, "'%s' missing: run ctest (synth_test_models)", buf);
	return buf;
}

START_TEST(test_tiny_f16)
{
	const struct eb_synth_shape *s = eb_synth_shape_find("tiny");
	char path[4096];

	eb_test_llama_setup();
	eb_test_check_model(eb_test_model("tiny-f16.gguf", path, sizeof(path)), "llama-spm", 0,
			    s->n_embd, s->n_layer, s->n_head, s->n_head_kv, s->n_ff, 1,
			    LLAMA_FTYPE_MOSTLY_F16);
}
END_TEST

START_TEST(test_tiny_q4_0)
{
	const struct eb_synth_shape *s = eb_synth_shape_find("tiny");
	char path[4096];

	eb_test_llama_setup();
	eb_test_check_model(eb_test_model("tiny-q4_0.gguf", path, sizeof(path)), "llama-spm", 0,
			    s->n_embd, s->n_layer, s->n_head, s->n_head_kv, s->n_ff, 1,
			    LLAMA_FTYPE_MOSTLY_Q4_0);
}
END_TEST

START_TEST(test_tiny_q8_0)
{
	struct llama_model *m;
	char path[4096];

	eb_test_llama_setup();
	m = eb_test_load(eb_test_model("tiny-q8_0.gguf", path, sizeof(path)), 0);
	ck_assert_int_eq((int)llama_model_ftype(m), (int)LLAMA_FTYPE_MOSTLY_Q8_0);
	llama_model_free(m);
}
END_TEST

/* Explicit dims, arch qwen2 (q/k/v biases, GQA) with the qwen2 BPE vocab. */
START_TEST(test_qwen2_explicit)
{
	char dir[4096], outp[4200];
	const char *argv[] = { "edgebench", "model", "synth", "--arch", "qwen2", "--n-embd", "64",
			       "--n-layer", "2", "--n-head", "4", "--n-head-kv", "2", "--n-ff",
			       "128", "--n-ctx", "256", "--vocab", "qwen2", "--type", "q8_0",
			       "--seed", "7", "--threads", "2", "-o", outp, NULL };
	char *out = NULL;

	eb_test_tmpdir("synth-qwen2", dir, sizeof(dir));
	snprintf(outp, sizeof(outp), "%s/qwen2-tiny.gguf", dir);
	ck_assert_msg(eb_test_run(argv, &out) == 0, "%s", out);
	free(out);
	ck_assert_int_eq(eb_test_count_files(dir), 1); /* no temporaries left */
	eb_test_llama_setup();
	eb_test_check_model(outp, "qwen2", 1, 64, 2, 4, 2, 128, 0, LLAMA_FTYPE_MOSTLY_Q8_0);
}
END_TEST

/* An override on a named shape (llama3-style GQA on the tiny shape, llama-bpe vocab). */
START_TEST(test_shape_override)
{
	char dir[4096], outp[4200];
	const char *argv[] = { "edgebench", "model", "synth", "--shape", "tiny", "--n-head-kv", "2",
			       "--n-layer", "2", "--vocab", "llama-bpe", "--type", "f32", "--quiet",
			       "-o", outp, NULL };
	char *out = NULL;

	eb_test_tmpdir("synth-override", dir, sizeof(dir));
	snprintf(outp, sizeof(outp), "%s/tiny-gqa.gguf", dir);
	ck_assert_msg(eb_test_run(argv, &out) == 0, "%s", out);
	ck_assert_str_eq(out, ""); /* --quiet */
	free(out);
	eb_test_llama_setup();
	eb_test_check_model(outp, "llama-bpe", 0, 288, 2, 6, 2, 768, 1, LLAMA_FTYPE_ALL_F32);
}
END_TEST

/* Same seed, same bytes; another seed, other weights. */
START_TEST(test_deterministic)
{
	char dir[4096], a[4200], b[4200], c[4200];
	const char *argv[] = { "edgebench", "model", "synth", "--shape", "tiny", "--n-layer", "1",
			       "--type", "f16", "--quiet", "--seed", "1", "-o", NULL, NULL };
	char *da = NULL, *db = NULL, *dc = NULL;
	size_t la, lb, lc;
	struct eb_err err;

	eb_test_tmpdir("synth-seed", dir, sizeof(dir));
	snprintf(a, sizeof(a), "%s/a.gguf", dir);
	snprintf(b, sizeof(b), "%s/b.gguf", dir);
	snprintf(c, sizeof(c), "%s/c.gguf", dir);
	argv[13] = a;
	ck_assert_int_eq(eb_test_run(argv, NULL), 0);
	argv[13] = b;
	ck_assert_int_eq(eb_test_run(argv, NULL), 0);
	argv[11] = "2";
	argv[13] = c;
	ck_assert_int_eq(eb_test_run(argv, NULL), 0);
	ck_assert_msg(eb_read_file(a, 64u << 20, &da, &la, &err) == 0, "%s", err.msg);
	ck_assert_msg(eb_read_file(b, 64u << 20, &db, &lb, &err) == 0, "%s", err.msg);
	ck_assert_msg(eb_read_file(c, 64u << 20, &dc, &lc, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(la, lb);
	ck_assert_int_eq(memcmp(da, db, la), 0);
	ck_assert_uint_eq(la, lc);
	ck_assert_int_ne(memcmp(da, dc, la), 0);
	free(da);
	free(db);
	free(dc);
}
END_TEST

START_TEST(test_reuse)
{
	char dir[4096], outp[4200], junk[4200];
	const char *argv[] = { "edgebench", "model", "synth", "--shape", "tiny", "--n-layer", "1",
			       "--type", "f16", "-o", outp, NULL, NULL };
	const char *argv_junk[] = { "edgebench", "model", "synth", "--shape", "tiny", "--type",
				    "f16", "-o", junk, NULL };
	struct stat st1, st2;
	struct eb_err err;
	char *out = NULL;

	eb_test_tmpdir("synth-reuse", dir, sizeof(dir));
	snprintf(outp, sizeof(outp), "%s/m.gguf", dir);
	snprintf(junk, sizeof(junk), "%s/junk.gguf", dir);
	ck_assert_msg(eb_test_run(argv, &out) == 0, "%s", out);
	free(out);
	ck_assert_int_eq(stat(outp, &st1), 0);

	ck_assert_msg(eb_test_run(argv, &out) == 0, "%s", out);
	ck_assert_msg(strstr(out, "reusing") != NULL, "%s", out);
	free(out);
	ck_assert_int_eq(stat(outp, &st2), 0);
	ck_assert_uint_eq(st1.st_ino, st2.st_ino);
	ck_assert_int_eq(st1.st_mtim.tv_sec, st2.st_mtim.tv_sec);
	ck_assert_int_eq(st1.st_mtim.tv_nsec, st2.st_mtim.tv_nsec);

	argv[11] = "--force"; /* replaced by rename: a new inode */
	ck_assert_msg(eb_test_run(argv, &out) == 0, "%s", out);
	ck_assert_msg(strstr(out, "reusing") == NULL, "%s", out);
	free(out);
	ck_assert_int_eq(stat(outp, &st2), 0);
	ck_assert_uint_ne(st1.st_ino, st2.st_ino);
	ck_assert_int_eq(st1.st_size, st2.st_size);

	/* something that is not a GGUF is neither reused nor overwritten */
	ck_assert_msg(eb_write_file(junk, "not a model\n", 12, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(eb_test_run(argv_junk, &out), 1);
	ck_assert_msg(strstr(out, "not a GGUF") != NULL, "%s", out);
	free(out);
	ck_assert_int_eq(stat(junk, &st2), 0);
	ck_assert_int_eq(st2.st_size, 12);
	ck_assert_int_eq(eb_test_count_files(dir), 2);
}
END_TEST

START_TEST(test_no_partial_file)
{
	char dir[4096], outp[4200], missing[4200];
	const char *argv[] = { "edgebench", "model", "synth", "--shape", "tiny", "--type", NULL,
			       "-o", outp, NULL };
	const char *argv_missing[] = { "edgebench", "model", "synth", "--shape", "tiny", "--type",
				       "f16", "-o", missing, NULL };
	struct rlimit old, lim;
	char *out = NULL;
	int rc;

	eb_test_tmpdir("synth-partial", dir, sizeof(dir));
	snprintf(outp, sizeof(outp), "%s/m.gguf", dir);
	snprintf(missing, sizeof(missing), "%s/no/such/dir/m.gguf", dir);

	/* a directory that does not exist */
	ck_assert_int_eq(eb_test_run(argv_missing, &out), 1);
	ck_assert_msg(strstr(out, "cannot write") != NULL, "%s", out);
	free(out);

	/* a bad type fails before anything is written */
	argv[6] = "q4_0_bad";
	ck_assert_int_eq(eb_test_run(argv, &out), 2);
	free(out);
	ck_assert_int_eq(eb_test_count_files(dir), 0);

	/* the disk "fills up" half-way: writes fail with EFBIG past 1 MiB */
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 1 << 20;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	signal(SIGXFSZ, SIG_IGN);
	argv[6] = "f16";
	rc = eb_test_run(argv, &out);
	argv[6] = "q8_0"; /* fails writing its f16 temporary */
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(out, "File too large") != NULL, "%s", out);
	free(out);
	rc = eb_test_run(argv, &out);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
	free(out);
	ck_assert_int_eq(eb_test_count_files(dir), 0);
}
END_TEST

/* SIGTERM while writing a large model: exit 3, temporaries removed. */
START_TEST(test_interrupted)
{
	char dir[4096], outp[4200];
	const char *argv[] = { EB_TEST_BIN, "model", "synth", "--shape", "tinyllama-1.1b",
			       "--type", "q4_0", "-o", outp, NULL };
	struct eb_proc p;
	struct eb_err err;
	int rc, seen = 0;

	eb_test_tmpdir("synth-intr", dir, sizeof(dir));
	snprintf(outp, sizeof(outp), "%s/m.gguf", dir);
	rc = eb_proc_start(&p, argv, NULL, EB_PROC_NULL_IN | EB_PROC_NULL_OUT | EB_PROC_NULL_ERR,
			   &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	for (int i = 0; i < 3000 && !seen; i++) {
		seen = eb_test_count_files(dir) > 0;
		if (!seen)
			usleep(10000);
	}
	eb_proc_kill(&p, SIGTERM);
	rc = eb_proc_wait(&p);
	eb_proc_release(&p);
	ck_assert_msg(seen, "no temporary file appeared");
	ck_assert_int_eq(rc, 3);
	ck_assert_int_eq(eb_test_count_files(dir), 0);
}
END_TEST

#else /* !EB_HAVE_LLAMA */

START_TEST(test_without_llama)
{
	char dir[4096], outp[4200];
	const char *argv[] = { "edgebench", "model", "synth", "--shape", "tiny", "--type", "f16",
			       "-o", outp, NULL };
	char *out = NULL;

	eb_test_tmpdir("synth-nollama", dir, sizeof(dir));
	snprintf(outp, sizeof(outp), "%s/never.gguf", dir);
	ck_assert_int_eq(eb_test_run(argv, &out), 1);
	ck_assert_msg(strstr(out, "built without llama.cpp") != NULL, "%s", out);
	free(out);
	ck_assert_int_eq(eb_test_count_files(dir), 0);
}
END_TEST

#endif /* EB_HAVE_LLAMA */

static Suite *eb_synth_suite(void)
{
	Suite *s = suite_create("synth");
	TCase *tc = tcase_create("cli");
	TCase *tl = tcase_create("llama");

	tcase_add_test(tc, test_help);
	tcase_add_test(tc, test_shapes);
	tcase_add_test(tc, test_shapes_match_published);
	tcase_add_test(tc, test_usage_errors);
#ifdef EB_HAVE_LLAMA
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_reuse);
	tcase_add_test(tc, test_no_partial_file);
	tcase_add_test(tc, test_interrupted);
	tcase_add_test(tl, test_tiny_f16);
	tcase_add_test(tl, test_tiny_q4_0);
	tcase_add_test(tl, test_tiny_q8_0);
	tcase_add_test(tl, test_qwen2_explicit);
	tcase_add_test(tl, test_shape_override);
#else
	tcase_add_test(tc, test_without_llama);
	eb_test_skip("llama", "%s", eb_test_lacks_llama());
#endif
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tl);
	return s;
}

int main(void)
{
	return eb_test_main(eb_synth_suite());
}
