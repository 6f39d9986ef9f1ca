/* gen_bigdb.c: writes a large result database (default 2 runs x 5,000 cells x 100 requests) for the report/compare benchmark. */
#include "eb_util.h"
#include "store.h"
#include "store_int.h" /* the raw connection, for bulk inserts */
#include "stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t eb_rng = 0x9E3779B97F4A7C15ull;

static double eb_unif(void)
{
	eb_rng ^= eb_rng >> 12;
	eb_rng ^= eb_rng << 25;
	eb_rng ^= eb_rng >> 27;
	return ((eb_rng * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0);
}

static double eb_normal(double mu, double sd)
{
	double u1 = eb_unif(), u2 = eb_unif();

	if (u1 < 1e-300)
		u1 = 1e-300;
	return mu + sd * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static int eb_step(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "gen_bigdb: %s\n", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static int eb_metric(sqlite3 *db, sqlite3_stmt *st, int64_t cell, const char *name,
		     const char *unit, const double *x, size_t n)
{
	struct eb_summary m;

	if (eb_stats_summarize(x, n, &m) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, cell);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, unit, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)m.n);
	sqlite3_bind_double(st, 5, m.mean);
	if (isfinite(m.stddev))
		sqlite3_bind_double(st, 6, m.stddev);
	else
		sqlite3_bind_null(st, 6);
	sqlite3_bind_double(st, 7, m.median);
	sqlite3_bind_double(st, 8, m.min);
	sqlite3_bind_double(st, 9, m.max);
	sqlite3_bind_double(st, 10, m.p90);
	sqlite3_bind_double(st, 11, m.p99);
	if (isfinite(m.ci_lo)) {
		sqlite3_bind_double(st, 12, m.ci_lo);
		sqlite3_bind_double(st, 13, m.ci_hi);
	} else {
		sqlite3_bind_null(st, 12);
		sqlite3_bind_null(st, 13);
	}
	sqlite3_bind_int64(st, 14, (sqlite3_int64)m.n_outliers);
	return eb_step(db, st);
}

int main(int argc, char **argv)
{
	long long ncells = 5000, nreq = 100, nruns = 2;
	sqlite3_stmt *cst = NULL, *rst = NULL, *mst = NULL;
	double *ttft, *pre, *dec, *e2e, *tpot;
	struct eb_store *s;
	struct eb_err err;
	int ret = 1;

	if (argc < 2 || (argc > 2 && eb_parse_ll(argv[2], 1, 10000000, &ncells)) ||
	    (argc > 3 && eb_parse_ll(argv[3], 1, 100000, &nreq)) ||
	    (argc > 4 && eb_parse_ll(argv[4], 1, 1000, &nruns))) {
		fprintf(stderr, "usage: gen_bigdb OUT.db [CELLS_PER_RUN=5000] [REQUESTS_PER_CELL=100] "
				"[RUNS=2]\n(run 2 and later: 1%% of the cells 10%% slower to decode)\n");
		return 2;
	}
	unlink(argv[1]);
	if (eb_store_open(&s, argv[1], 0, &err) != 0) {
		fprintf(stderr, "gen_bigdb: %s\n", err.msg);
		return 1;
	}
	ttft = eb_xcalloc((size_t)nreq, sizeof(double));
	pre = eb_xcalloc((size_t)nreq, sizeof(double));
	dec = eb_xcalloc((size_t)nreq, sizeof(double));
	e2e = eb_xcalloc((size_t)nreq, sizeof(double));
	tpot = eb_xcalloc((size_t)nreq, sizeof(double));
	if (eb_store_begin(s, &err) != 0)
		goto out;
	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO cells(run_id,key,target,adapter,model,quant,device,workload,"
			       "prompt_tokens,gen_tokens,status,finished_at,duration_s)"
			       " VALUES(?,?,?,'llamacpp',?,?,'bench','latency',128,32,'ok',"
			       "'2025-01-01T00:00:00Z',1.0)",
			       -1, &cst, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db,
			       "INSERT INTO requests(cell_id,rep,warmup,n_prompt,n_out,n_chunks,ttft_ns,"
			       "e2e_ns,decode_ns,prefill_tps,decode_tps) VALUES(?,?,0,128,32,32,?,?,?,?,?)",
			       -1, &rst, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db,
			       "INSERT INTO metrics(cell_id,name,unit,n,mean,stddev,median,min,max,p90,"
			       "p99,ci_lo,ci_hi,n_outliers) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &mst, NULL) != SQLITE_OK) {
		fprintf(stderr, "gen_bigdb: %s\n", sqlite3_errmsg(s->db));
		goto out;
	}
	for (long long r = 0; r < nruns; r++) {
		char uuid[64];
		struct eb_run_info ri = { .uuid = uuid, .name = "bench", .config_json = "{}",
					  .config_sha256 = "0", .version = "bench", .cpu_cores = -1,
					  .mem_bytes = -1 };
		int64_t run;

		snprintf(uuid, sizeof(uuid), "00000000-0000-4000-8000-%012llx", r + 1);
		if (eb_store_run_add(s, &ri, &run, &err) != 0 ||
		    eb_store_run_set_status(s, run, "ok", &err) != 0) {
			fprintf(stderr, "gen_bigdb: %s\n", err.msg);
			goto out;
		}
		for (long long c = 0; c < ncells; c++) {
			char key[128], target[16], model[16], quant[16];
			double speed = 20 + (double)(c % 97);
			double slow = r > 0 && c % 100 == 7 ? 0.9 : 1.0;
			int64_t cell;

			snprintf(target, sizeof(target), "t%lld", c % 10);
			snprintf(model, sizeof(model), "m%lld", (c / 10) % 50);
			snprintf(quant, sizeof(quant), "q%lld", c / 500);
			snprintf(key, sizeof(key), "%s/%s/%s/latency/p128-g32", target, model, quant);
			sqlite3_bind_int64(cst, 1, run);
			sqlite3_bind_text(cst, 2, key, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(cst, 3, target, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(cst, 4, model, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(cst, 5, quant, -1, SQLITE_TRANSIENT);
			if (eb_step(s->db, cst))
				goto out;
			cell = sqlite3_last_insert_rowid(s->db);
			for (long long q = 0; q < nreq; q++) {
				double t = eb_normal(200, 5), d = eb_normal(speed, speed * 0.02) * slow;
				int64_t tns = (int64_t)(t * 1e6), dns = (int64_t)(31 / d * 1e9);

				ttft[q] = t;
				pre[q] = 128 / (t * 1e-3);
				dec[q] = d;
				e2e[q] = (tns + dns) * 1e-6;
				tpot[q] = 1e3 / d;
				sqlite3_bind_int64(rst, 1, cell);
				sqlite3_bind_int64(rst, 2, q);
				sqlite3_bind_int64(rst, 3, tns);
				sqlite3_bind_int64(rst, 4, tns + dns);
				sqlite3_bind_int64(rst, 5, dns);
				sqlite3_bind_double(rst, 6, pre[q]);
				sqlite3_bind_double(rst, 7, d);
				if (eb_step(s->db, rst))
					goto out;
			}
			if (eb_metric(s->db, mst, cell, "ttft_ms", "ms", ttft, (size_t)nreq) ||
			    eb_metric(s->db, mst, cell, "prefill_tps", "tok/s", pre, (size_t)nreq) ||
			    eb_metric(s->db, mst, cell, "decode_tps", "tok/s", dec, (size_t)nreq) ||
			    eb_metric(s->db, mst, cell, "tpot_ms", "ms", tpot, (size_t)nreq) ||
			    eb_metric(s->db, mst, cell, "e2e_ms", "ms", e2e, (size_t)nreq) ||
			    eb_metric(s->db, mst, cell, "peak_rss_mb", "MiB", (double[]){ 512 }, 1) ||
			    eb_metric(s->db, mst, cell, "model_bytes", "B", (double[]){ 4e9 }, 1))
				goto out;
		}
	}
	if (eb_store_commit(s, &err) != 0) {
		fprintf(stderr, "gen_bigdb: %s\n", err.msg);
		goto out;
	}
	printf("%s: %lld runs x %lld cells x %lld requests = %lld cells, %lld requests\n", argv[1],
	       nruns, ncells, nreq, nruns * ncells, nruns * ncells * nreq);
	ret = 0;
out:
	sqlite3_finalize(cst);
	sqlite3_finalize(rst);
	sqlite3_finalize(mst);
	if (ret)
		eb_store_rollback(s);
	eb_store_close(s);
	free(ttft);
	free(pre);
	free(dec);
	free(e2e);
	free(tpot);
	return ret;
}
