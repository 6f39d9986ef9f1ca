/* ctest: labels=integration,models,serial timeout=1500 */
/* check_run.c: `edgebench run` end to end on synthesized models: definitions, failures, resume. */
#include "eb_proc.h"
#include "eb_util.h"
#include "eb_build.h"
#include "testutil.h"

#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char eb_dir[4096];

/* Writes a config for the tiny test models into the temp dir; returns its path. */
static const char *eb_config(const char *name, const char *variants, const char *prompts,
			     int gen, int reps, char *buf, size_t n)
{
	char text[8192];
	struct eb_err err;
	int len;

	len = snprintf(text, sizeof(text),
		       "{\n"
		       "  \"name\": \"%s\",\n"
		       "  \"device\": { \"name\": \"test\", \"profile\": { \"mem_bw_gbps\": 20 } },\n"
		       "  \"targets\": [ { \"id\": \"cpu\", \"adapter\": \"llamacpp\",\n"
		       "                 \"options\": { \"threads\": 1, \"n_ctx\": 256, \"n_gpu_layers\": 0 } } ],\n"
		       "  \"models\": [ { \"id\": \"tiny\", \"variants\": [ %s ] } ],\n"
		       "  \"workloads\": { \"latency\": { \"prompt_tokens\": [%s], \"gen_tokens\": %d,\n"
		       "                                \"warmup\": 1, \"repetitions\": %d } }\n"
		       "}\n",
		       name, variants, prompts, gen, reps);
	ck_assert_int_lt(len, (int)sizeof(text));
	snprintf(buf, n, "%s/%s.json", eb_dir, name);
	ck_assert_msg(eb_write_file(buf, text, (size_t)len, &err) == 0, "%s", err.msg);
	return buf;
}

static const char *eb_variant(const char *quant, char *buf, size_t n)
{
	snprintf(buf, n, "{ \"quant\": \"%s\", \"file\": \"%s/tiny-%s.gguf\" }", quant,
		 eb_test_models_dir(), quant);
	return buf;
}

START_TEST(end_to_end_definitions)
{
	char cfg[8192], db[8192], v1[1024], v2[1024], vars[2100], *out = NULL;
	sqlite3 *h;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_test_tmpdir("run-e2e", eb_dir, sizeof(eb_dir));
	snprintf(vars, sizeof(vars), "%s, %s", eb_variant("q8_0", v1, sizeof(v1)),
		 eb_variant("q4_0", v2, sizeof(v2)));
	eb_config("e2e", vars, "16, 40", 8, 3, cfg, sizeof(cfg));
	snprintf(db, sizeof(db), "%s/e2e.db", eb_dir);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--quiet", NULL };
		int rc = eb_test_run(argv, &out);
		ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
		free(out);
	}
	h = eb_test_db_open(db);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='ok'"), 4);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM runs WHERE status='ok'"), 1);
	/* 1 warm-up + 3 measured per cell; exactly 8 tokens each, prompt exactly as asked */
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM requests"), 16);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM requests WHERE warmup=1"), 4);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM requests WHERE n_out<>8"), 0);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM requests r JOIN cells c ON c.id=r.cell_id"
				    " WHERE r.n_prompt<>c.prompt_tokens"), 0);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM token_times"), 16 * 8);
	/* TTFT > 0 and below E2E for every request */
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM requests WHERE NOT (ttft_ns>0 AND ttft_ns<e2e_ns)"), 0);
	/* the stored rates follow from the raw token times: decode_tps = (n_out - 1) /
	 * (t_last - t_first), prefill_tps = n_prompt / ttft, ttft = the first token's time */
	ck_assert_double_eq(eb_test_q(h,
		"SELECT count(*) FROM requests r WHERE abs(r.decode_tps - (r.n_out-1) * 1e9 /"
		" ((SELECT max(t_ns) FROM token_times WHERE request_id=r.id) -"
		"  (SELECT min(t_ns) FROM token_times WHERE request_id=r.id))) > 1e-6 * r.decode_tps"), 0);
	ck_assert_double_eq(eb_test_q(h,
		"SELECT count(*) FROM requests r WHERE abs(r.prefill_tps - r.n_prompt * 1e9 / r.ttft_ns)"
		" > 1e-9 * r.prefill_tps"), 0);
	ck_assert_double_eq(eb_test_q(h,
		"SELECT count(*) FROM requests r WHERE r.ttft_ns <>"
		" (SELECT t_ns FROM token_times WHERE request_id=r.id AND idx=0)"), 0);
	/* summaries cover measured requests only; the median is one of them (n = 3) */
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM metrics WHERE name='decode_tps' AND n=3"), 4);
	ck_assert_double_eq(eb_test_q(h,
		"SELECT count(*) FROM metrics m WHERE m.name='ttft_ms' AND NOT EXISTS"
		" (SELECT 1 FROM requests r WHERE r.cell_id=m.cell_id AND r.warmup=0 AND"
		"  abs(r.ttft_ns/1e6 - m.median) < 1e-9)"), 0);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM metrics WHERE name='itl_ms' AND n=21"), 4);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM metrics WHERE name='peak_rss_mb' AND mean>1"), 4);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM metrics WHERE name='model_bytes' AND mean>1e6"), 4);
	/* KV bytes: 6 layers x 256 cells x (K + V) x 288 dims x 2 bytes (f16) */
	ck_assert_double_eq(eb_test_q(h, "SELECT min(mean) FROM metrics WHERE name='kv_bytes'"),
			    6.0 * 256 * 2 * 288 * 2);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM metrics WHERE name='mbu' AND mean>0"), 4);
	/* q4_0 weights are smaller than q8_0 */
	ck_assert(eb_test_q(h, "SELECT mean FROM metrics m JOIN cells c ON c.id=m.cell_id WHERE"
			  " m.name='model_bytes' AND c.quant='q4_0' LIMIT 1") <
		  eb_test_q(h, "SELECT mean FROM metrics m JOIN cells c ON c.id=m.cell_id WHERE"
			  " m.name='model_bytes' AND c.quant='q8_0' LIMIT 1"));
	/* environment and config are stored with the run */
	{
		char *sha = eb_test_qs(h, "SELECT config_sha256 FROM runs");
		char *json = eb_test_qs(h, "SELECT config_json FROM runs");
		char *bk = eb_test_qs(h, "SELECT backend_json FROM cells LIMIT 1");
		char want[65];

		eb_sha256_hex(json, strlen(json), want);
		ck_assert_str_eq(sha, want);
		ck_assert_ptr_nonnull(strstr(bk, "\"backend_version\""));
		ck_assert_ptr_nonnull(strstr(bk, "\"n_params\""));
		free(sha);
		free(json);
		free(bk);
	}
	ck_assert(eb_test_q(h, "SELECT cpu_cores FROM runs") >= 1);
	eb_test_metrics_registered(h);
	sqlite3_close(h);

	/* the report reads the database alone */
	{
		const char *argv[] = { "edgebench", "report", "--db", db, "--format", "csv", NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		static const char head[] = "run,device,target,model,quant,prompt_tokens,gen_tokens,"
					   "status,requests,ttft_ms,prefill_tps,decode_tps,e2e_ms,peak_rss_mb,"
					   "warnings,key\n1,test,cpu,tiny,q8_0,16,8,ok,";

		ck_assert_msg(strncmp(out, head, strlen(head)) == 0, "%s", out);
		free(out);
	}
	{
		const char *argv[] = { "edgebench", "list", "--db", db, NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		ck_assert_ptr_nonnull(strstr(out, "cells 4 (ok 4, failed 0, skipped 0)"));
		free(out);
	}
}
END_TEST

/*
 * A missing model file is found before the first cell: run exits 2 naming the key, and
 * nothing is stored. A file that is there but is no model fails only its own cell.
 */
START_TEST(missing_model_fails_only_its_cell)
{
	char cfg[8192], db[8192], v1[1024], vars[4096], bad[4096], *out = NULL;
	struct eb_err err;
	sqlite3 *h;
	char *e;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_test_tmpdir("run-missing", eb_dir, sizeof(eb_dir));
	snprintf(vars, sizeof(vars),
		 "{ \"quant\": \"f16\", \"file\": \"%s/no-such-model.gguf\" }, %s", eb_dir,
		 eb_variant("q4_0", v1, sizeof(v1)));
	eb_config("missing", vars, "16", 4, 2, cfg, sizeof(cfg));
	snprintf(db, sizeof(db), "%s/m.db", eb_dir);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 2);
		ck_assert_msg(strstr(out, "missing.json:6:71: models[0].variants[0].file") &&
				      strstr(out, ": models[0].variants[0].file: cannot read model '") &&
				      strstr(out, "no-such-model.gguf': No such file or directory") &&
				      strstr(out, "nothing was run"),
			      "%s", out);
		free(out);
	}
	ck_assert_int_ne(access(db, F_OK), 0);

	/* there, but not a model: only its cell fails */
	snprintf(bad, sizeof(bad), "%s/not-a-model.gguf", eb_dir);
	ck_assert_msg(eb_write_file(bad, "not a gguf\n", 11, &err) == 0, "%s", err.msg);
	snprintf(vars, sizeof(vars), "{ \"quant\": \"f16\", \"file\": \"%s\" }, %s", bad,
		 eb_variant("q4_0", v1, sizeof(v1)));
	eb_config("missing", vars, "16", 4, 2, cfg, sizeof(cfg));
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 1);
		ck_assert_msg(strstr(out, "cell cpu/tiny/f16/latency/p16-g4 failed: llamacpp: cannot "
					  "load model"),
			      "%s", out);
		free(out);
	}
	h = eb_test_db_open(db);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='failed'"), 1);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='ok' AND quant='q4_0'"), 1);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM runs WHERE status='failed'"), 1);
	e = eb_test_qs(h, "SELECT error FROM cells WHERE status='failed'");
	ck_assert_msg(strstr(e, "not-a-model.gguf"), "%s", e);
	free(e);
	sqlite3_close(h);
}
END_TEST

/* Why this llama.cpp cannot show the no-GPU guard: it has a backend besides the CPU's
 * (`edgebench version` lists them: "backends: CPU [...], CUDA [...]"). */
static const char *eb_has_gpu_backend(void)
{
	static char why[512];
	const char *argv[] = { "edgebench", "version", NULL };
	char *out = NULL, *b, *nl;

	ck_assert_int_eq(eb_test_run(argv, &out), 0);
	b = strstr(out, "backends: ");
	ck_assert_msg(b != NULL, "%s", out);
	nl = strchr(b, '\n');
	if (nl)
		*nl = '\0';
	if (strncmp(b, "backends: CPU [", 15) != 0 || strstr(b, "], ")) {
		snprintf(why, sizeof(why), "llama.cpp has more than the CPU backend: %s", b);
		free(out);
		return why;
	}
	free(out);
	return NULL;
}

/*
 * A target that sets n_gpu_layers (-1, as the lab configs' GPU targets do) on a llama.cpp
 * without a GPU backend: the cell fails with that reason instead of running on the CPU
 * with status ok. Left unset, the cell runs and records where it ran.
 */
START_TEST(gpu_offload_asked_without_gpu_fails)
{
	char cfg[8192], db[8192], text[4096], *out = NULL, *e;
	struct eb_err err;
	sqlite3 *h;
	int len;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	EB_TEST_SKIP_IF(eb_has_gpu_backend());
	eb_test_tmpdir("run-gpu", eb_dir, sizeof(eb_dir));
	len = snprintf(text, sizeof(text),
		       "{ \"name\": \"gpu\",\n"
		       "  \"targets\": [\n"
		       "    { \"id\": \"gpu\", \"adapter\": \"llamacpp\",\n"
		       "      \"options\": { \"threads\": 1, \"n_ctx\": 256, \"n_gpu_layers\": -1 } },\n"
		       "    { \"id\": \"auto\", \"adapter\": \"llamacpp\",\n"
		       "      \"options\": { \"threads\": 1, \"n_ctx\": 256 } } ],\n"
		       "  \"models\": [ { \"id\": \"tiny\", \"variants\": [\n"
		       "    { \"quant\": \"q4_0\", \"file\": \"%s/tiny-q4_0.gguf\" } ] } ],\n"
		       "  \"workloads\": { \"latency\": { \"prompt_tokens\": [16], \"gen_tokens\": 4,\n"
		       "                                \"warmup\": 0, \"repetitions\": 1 } } }\n",
		       eb_test_models_dir());
	snprintf(cfg, sizeof(cfg), "%s/gpu.json", eb_dir);
	ck_assert_msg(eb_write_file(cfg, text, (size_t)len, &err) == 0, "%s", err.msg);
	snprintf(db, sizeof(db), "%s/gpu.db", eb_dir);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, NULL };

		ck_assert_int_eq(eb_test_run(argv, &out), 1);
		ck_assert_msg(strstr(out, "cell gpu/tiny/q4_0/latency/p16-g4 failed: llamacpp: "
					  "n_gpu_layers is -1 but this llama.cpp"),
			      "%s", out);
		free(out);
	}
	h = eb_test_db_open(db);
	e = eb_test_qs(h, "SELECT error FROM cells WHERE target='gpu' AND status='failed'");
	ck_assert_msg(strstr(e, "has no GPU backend (backends: CPU [") &&
			      strstr(e, "Set n_gpu_layers: 0 for the CPU"),
		      "%s", e);
	free(e);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM requests r JOIN cells c ON"
				    " c.id=r.cell_id WHERE c.target='gpu'"), 0);
	/* unset: it runs, and its record says no layer went to a GPU */
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE target='auto' AND"
				    " status='ok' AND json_extract(backend_json,"
				    " '$.gpu_layers_offloaded')=0 AND json_extract(backend_json,"
				    " '$.gpu_offload')=0"), 1);
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
			sqlite3 *h = eb_test_db_open(db);
			sqlite3_stmt *q = NULL;
			double ok = 0;

			/* the file exists before its schema does: not an error, just not yet */
			if (sqlite3_prepare_v2(h, "SELECT count(*) FROM cells WHERE status='ok'", -1,
					       &q, NULL) == SQLITE_OK &&
			    sqlite3_step(q) == SQLITE_ROW)
				ok = sqlite3_column_double(q, 0);
			sqlite3_finalize(q);
			sqlite3_close(h);
			if (ok >= ok_cells)
				return;
		}
		ck_assert_msg(eb_proc_poll(p, &st) == 0, "edgebench ended early (%d)", st);
	}
	ck_abort_msg("no cell finished in time");
}

START_TEST(kill_and_resume)
{
	char cfg[8192], db[8192], v1[1024], v2[1024], vars[2100], *out = NULL;
	char *before = NULL, *after = NULL;
	struct eb_proc p;
	sqlite3 *h;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_test_tmpdir("run-kill", eb_dir, sizeof(eb_dir));
	snprintf(vars, sizeof(vars), "%s, %s", eb_variant("q8_0", v1, sizeof(v1)),
		 eb_variant("f16", v2, sizeof(v2)));
	eb_config("kill", vars, "16, 48, 96", 24, 3, cfg, sizeof(cfg));
	snprintf(db, sizeof(db), "%s/k.db", eb_dir);
	eb_start_and_wait(&p, cfg, db, 1);
	ck_assert_int_eq(eb_proc_kill(&p, SIGKILL), 0);
	ck_assert_int_eq(eb_proc_wait(&p), 128 + SIGKILL);

	h = eb_test_db_open(db);
	{
		char *ic = eb_test_qs(h, "PRAGMA integrity_check");
		ck_assert_str_eq(ic, "ok");
		free(ic);
	}
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells"), 6);
	ck_assert(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='pending'") >= 1);
	/* a killed cell leaves nothing behind: only finished cells have requests */
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM requests r JOIN cells c ON c.id=r.cell_id"
				    " WHERE c.status<>'ok'"), 0);
	before = eb_test_qs(h, "SELECT group_concat(key || '@' || finished_at, ';') FROM cells WHERE status='ok'");
	sqlite3_close(h);

	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--resume", "--quiet", NULL };
		int rc = eb_test_run(argv, &out);
		ck_assert_msg(rc == 0, "resume rc %d: %s", rc, out);
		free(out);
	}
	h = eb_test_db_open(db);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM runs"), 1);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='ok'"), 6);
	/* every cell stored exactly once: 4 requests each */
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM (SELECT cell_id, count(*) n FROM requests"
				    " GROUP BY cell_id HAVING n=4)"), 6);
	/* the cells finished before the kill were not run again */
	after = eb_test_qs(h, "SELECT group_concat(key || '@' || finished_at, ';') FROM cells WHERE"
			 " status='ok' AND id <= (SELECT max(id) FROM cells)");
	ck_assert_ptr_nonnull(strstr(after, before));
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM runs WHERE status='ok'"), 1);
	free(before);
	free(after);
	sqlite3_close(h);

	/* nothing left to resume */
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--resume", NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 2);
		ck_assert_ptr_nonnull(strstr(out, "no interrupted run of this config"));
		free(out);
	}
}
END_TEST

START_TEST(sigint_stops_after_request)
{
	char cfg[8192], db[8192], v1[1024], *out = NULL;
	struct eb_proc p;
	sqlite3 *h;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_test_tmpdir("run-int", eb_dir, sizeof(eb_dir));
	eb_config("int", eb_variant("q8_0", v1, sizeof(v1)), "16, 32, 64, 96", 24, 3, cfg,
		  sizeof(cfg));
	snprintf(db, sizeof(db), "%s/i.db", eb_dir);
	eb_start_and_wait(&p, cfg, db, 1);
	ck_assert_int_eq(eb_proc_kill(&p, SIGINT), 0);
	ck_assert_int_eq(eb_proc_wait(&p), 3);
	h = eb_test_db_open(db);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM runs WHERE status='interrupted'"), 1);
	ck_assert(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='ok'") >= 1);
	ck_assert(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='pending'") >= 1);
	sqlite3_close(h);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--resume", "--quiet", NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		free(out);
	}
	h = eb_test_db_open(db);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='ok'"), 4);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM requests"), 16);
	sqlite3_close(h);
}
END_TEST

/* The README's quick start config itself, into a temporary database. */
/*
 * run's log lines (stderr not a terminal): a warning text is printed once in a run, then
 * counted per cell; an accuracy cell's line shows at most 4 figures and counts the rest
 * (the kld protocol stores 34).
 */
static void eb_log_lines_checked(const char *out)
{
	const char *p = out, *kld = NULL;
	char *texts[512];
	size_t n = 0;

	while (p && *p) {
		const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
		const char *w = strstr(p, " warning: ");

		if (strncmp(p, "edgebench: cell ", 16) == 0 && w && w < end && n < 512) {
			texts[n] = strndup(w, (size_t)(end - w));
			for (size_t k = 0; k < n; k++)
				ck_assert_msg(strcmp(texts[k], texts[n]) != 0, "printed twice:%s\n%s",
					      texts[n], out);
			n++;
		}
		if (strncmp(p, "edgebench: cell cpu/small-synth/q4_0/accuracy/kld ok: ", 54) == 0)
			kld = p;
		p = nl ? nl + 1 : NULL;
	}
	for (size_t k = 0; k < n; k++)
		free(texts[k]);
	ck_assert_msg(kld, "%s", out);
	{
		const char *end = strchr(kld, '\n');
		size_t figs = 0;

		for (const char *q = strstr(kld, " (n "); q && q < end; q = strstr(q + 1, " (n "))
			figs++;
		ck_assert_msg(figs == 4, "%zu figures: %.*s", figs, (int)(end - kld), kld);
		ck_assert_msg(strstr(kld, " and 30 more (edgebench report)") &&
				      strstr(kld, " and 30 more (edgebench report)") < end,
			      "%.*s", (int)(end - kld), kld);
	}
	/* where the sensors cannot run here, their warning was printed once, then counted */
	if (strstr(out, "warning: power: sensor 'rapl' unavailable"))
		ck_assert_msg(strstr(out, "warnings as printed for an earlier cell"), "%s", out);
}

START_TEST(quickstart_config)
{
	char db[8192], *out = NULL;
	const char *cfg = EB_SOURCE_DIR "/configs/quickstart.json";
	sqlite3 *h;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_test_tmpdir("run-quickstart", eb_dir, sizeof(eb_dir));
	snprintf(db, sizeof(db), "%s/qs.db", eb_dir);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, NULL };
		int rc = eb_test_run(argv, &out);
		ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
	}
	h = eb_test_db_open(db);
	/* power samples wherever one of the listed sensors runs; else the run says why not */
	if (eb_test_q(h, "SELECT count(*) FROM power_samples") > 0)
		ck_assert(eb_test_q(h, "SELECT count(*) FROM metrics WHERE name = 'power_avg_w'") == 4 ||
			  eb_test_q(h, "SELECT count(*) FROM cells WHERE warnings_json LIKE '%%no sensor "
				  "reported a power rail%%'") == 4);
	else
		ck_assert_msg(strstr(out, "edgebench: power: no configured sensor can run here") &&
				      strstr(out, "edgebench: power: sensor 'rapl' unavailable here: "),
			      "%s", out);
	eb_log_lines_checked(out);
	free(out);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='ok'"), 10);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE workload='latency'"), 4);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM requests WHERE warmup=0 AND n_out=32"), 20);
	/* the accuracy workload on the project's samples: every protocol's headline figure */
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM accuracy WHERE metric IN"
				    " ('ppl','acc','acc_norm','kld_mean','top1_agreement')"), 10);
	/* q4_0 weights are about a quarter of f16's and decode faster on a CPU */
	ck_assert(eb_test_q(h, "SELECT m.mean FROM metrics m JOIN cells c ON c.id=m.cell_id"
			  " WHERE c.quant='q4_0' AND m.name='model_bytes' LIMIT 1") <
		  0.4 * eb_test_q(h, "SELECT m.mean FROM metrics m JOIN cells c ON c.id=m.cell_id"
				" WHERE c.quant='f16' AND m.name='model_bytes' LIMIT 1"));
	sqlite3_close(h);
	{
		const char *argv[] = { "edgebench", "report", "--db", db, "--run", "latest", NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		ck_assert_ptr_nonnull(strstr(out, "small-synth  f16"));
		ck_assert_ptr_nonnull(strstr(out, "small-synth  q4_0"));
		free(out);
	}
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, end_to_end_definitions);
	tcase_add_test(tc, missing_model_fails_only_its_cell);
	tcase_add_test(tc, gpu_offload_asked_without_gpu_fails);
	tcase_add_test(tc, kill_and_resume);
	tcase_add_test(tc, sigint_stops_after_request);
	tcase_add_test(tc, quickstart_config);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
