/* reportdb.h: builds result databases with fixed values through store/store.h (header-only, for the report, plot, compare and merge suites). */
#ifndef EB_REPORTDB_H
#define EB_REPORTDB_H

#include "store.h"
#include "store_int.h" /* the raw connection, for fixtures the API has no call for */
#include "stats.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A config with two variants of "tiny", scheme labels included (the card reads them). */
static const char eb_tdb_config[] __attribute__((unused)) =
	"{\"name\":\"golden\",\"targets\":[{\"id\":\"cpu\",\"adapter\":\"llamacpp\"}],"
	"\"models\":[{\"id\":\"tiny\",\"variants\":["
	"{\"quant\":\"f16\",\"file\":\"a.gguf\",\"scheme\":{\"weights\":\"f16\","
	"\"activations\":\"f32\",\"kv_cache\":\"f16\"}},"
	"{\"quant\":\"q4_0\",\"file\":\"b.gguf\",\"scheme\":{\"weights\":\"q4_0 (4-bit, group 32)\","
	"\"activations\":\"f32\",\"kv_cache\":\"f16\"}}]}]}";

static struct eb_store *eb_tdb __attribute__((unused));

static inline void eb_tdb_open(const char *path)
{
	struct eb_err err;

	ck_assert_msg(eb_store_open(&eb_tdb, path, 0, &err) == 0, "%s", err.msg);
}

static inline void eb_tdb_close(void)
{
	eb_store_close(eb_tdb);
	eb_tdb = NULL;
}

static inline int64_t eb_tdb_run(const char *uuid, const char *name, const char *config_json)
{
	struct eb_run_info ri = { .uuid = uuid,
				  .name = name,
				  .config_json = config_json ? config_json : "{}",
				  .config_sha256 = "0",
				  .version = "0.1.0",
				  .host = "testhost",
				  .cpu_cores = 2,
				  .mem_bytes = -1 };
	struct eb_err err;
	int64_t id;

	ck_assert_msg(eb_store_run_add(eb_tdb, &ri, &id, &err) == 0, "%s", err.msg);
	ck_assert_msg(eb_store_run_set_status(eb_tdb, id, "ok", &err) == 0, "%s", err.msg);
	return id;
}

/* A cell: identity and how it ended. */
struct eb_tcell {
	const char *target, *model, *quant;
	int prompt, gen;
	const char *status, *error;
};

static inline int64_t eb_tdb_cell(int64_t run, const struct eb_tcell *tc)
{
	char key[1024];
	struct eb_cell_row cr = { 0 };
	struct eb_err err;
	int64_t id;

	snprintf(key, sizeof(key), "%s/%s/%s/latency/p%d-g%d", tc->target, tc->model, tc->quant,
		 tc->prompt, tc->gen);
	cr.key = key;
	cr.target = tc->target;
	cr.adapter = "llamacpp";
	cr.model = tc->model;
	cr.quant = tc->quant;
	cr.device = "test";
	cr.workload = "latency";
	cr.prompt_tokens = tc->prompt;
	cr.gen_tokens = tc->gen;
	ck_assert_msg(eb_store_cell_ensure(eb_tdb, run, &cr, &id, &err) == 0, "%s", err.msg);
	ck_assert_msg(eb_store_cell_finish(eb_tdb, id, tc->status ? tc->status : "ok", tc->error,
					   NULL, NULL, 1.5, &err) == 0,
		      "%s", err.msg);
	return id;
}

static inline void eb_tdb_metric(int64_t cell, const char *name, const char *unit, const double *x,
			  size_t n)
{
	struct eb_summary sum;
	struct eb_err err;

	ck_assert_int_eq(eb_stats_summarize(x, n, &sum), 0);
	ck_assert_msg(eb_store_metric_add(eb_tdb, cell, name, unit, &sum, &err) == 0, "%s",
		      err.msg);
}

static inline void eb_tdb_value(int64_t cell, const char *name, const char *unit, double v)
{
	struct eb_err err;

	ck_assert_msg(eb_store_metric_value(eb_tdb, cell, name, unit, v, &err) == 0, "%s", err.msg);
}

/*
 * n measured requests (plus one warm-up with wild values that must not count) from
 * per-request TTFT (ms) and decode rates; prefill = prompt / TTFT, E2E = TTFT + (gen - 1)
 * / decode. Stores the requests and the summary metrics the run loop would store.
 */
static inline void eb_tdb_requests(int64_t cell, int prompt, int gen, const double *ttft_ms,
			    const double *decode_tps, size_t n)
{
	double *pre = calloc(n + 1, sizeof(double)), *e2e = calloc(n + 1, sizeof(double));
	struct eb_err err;

	for (size_t i = 0; i <= n; i++) {
		int warm = i == n;
		double t = warm ? 999.0 : ttft_ms[i], d = warm ? 1.0 : decode_tps[i];
		struct eb_request_row rr = { 0 };

		rr.rep = warm ? 0 : (int)i;
		rr.warmup = warm;
		rr.n_prompt = prompt;
		rr.n_out = gen;
		rr.n_chunks = gen;
		rr.ttft_ns = (int64_t)llround(t * 1e6);
		rr.decode_ns = (int64_t)llround((gen - 1) / d * 1e9);
		rr.e2e_ns = rr.ttft_ns + rr.decode_ns;
		rr.prefill_tps = prompt / (t * 1e-3);
		rr.decode_tps = d;
		ck_assert_msg(eb_store_request_add(eb_tdb, cell, &rr, &err) == 0, "%s", err.msg);
		if (!warm) {
			pre[i] = rr.prefill_tps;
			e2e[i] = t + (gen - 1) / d * 1e3;
		}
	}
	eb_tdb_metric(cell, "ttft_ms", "ms", ttft_ms, n);
	eb_tdb_metric(cell, "prefill_tps", "tok/s", pre, n);
	eb_tdb_metric(cell, "decode_tps", "tok/s", decode_tps, n);
	eb_tdb_metric(cell, "e2e_ms", "ms", e2e, n);
	free(pre);
	free(e2e);
}

/* Power samples of a cell: n samples of one rail from t0 (ns), every dt ns. */
static inline void eb_tdb_power(int64_t cell, const char *sensor, const char *rail, int64_t t0,
			 int64_t dt, const double *watts, size_t n)
{
	sqlite3_stmt *st;

	ck_assert_int_eq(sqlite3_prepare_v2(eb_tdb->db,
					    "INSERT INTO power_samples(cell_id,sensor,rail,t_ns,watts)"
					    " VALUES(?,?,?,?,?)",
					    -1, &st, NULL),
			 SQLITE_OK);
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, cell);
		sqlite3_bind_text(st, 2, sensor, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, rail, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, t0 + (int64_t)i * dt);
		sqlite3_bind_double(st, 5, watts[i]);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
	}
	sqlite3_finalize(st);
}

static inline void eb_tdb_exec(const char *sql)
{
	char *msg = NULL;

	ck_assert_msg(sqlite3_exec(eb_tdb->db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql,
		      msg ? msg : "?");
}

/* Reads a whole file (caller frees); NULL when missing. */
static inline char *eb_tdb_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

#endif
