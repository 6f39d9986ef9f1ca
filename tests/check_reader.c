/* ctest: labels=unit timeout=60 */
/* check_reader.c: the store's reader API: rows, NULLs, order, filters, stops and errors. */
#include "reportdb.h"
#include "reader.h"

#include "eb_util.h"

#include <math.h>

static char eb_dir[4096];

static const char *eb_path(const char *name, char *buf, size_t n)
{
	eb_test_tmpdir("reader", eb_dir, sizeof(eb_dir));
	snprintf(buf, n, "%s/%s", eb_dir, name);
	return buf;
}

/* Rows kept as text lines, so a test states what it expects in one string. */
static struct eb_buf eb_rows;

static int eb_row_cell(void *arg, const struct eb_store_cell *c)
{
	(void)arg;
	eb_buf_addf(&eb_rows, "%lld/%lld %s %s %s %lld %lld %.1f\n", (long long)c->run_id,
		    (long long)c->id, c->key, c->status, c->error ? c->error : "(none)",
		    c->prompt_tokens, c->gen_tokens, c->duration_s);
	return 0;
}

static int eb_row_run(void *arg, const struct eb_store_run *r)
{
	(void)arg;
	eb_buf_addf(&eb_rows, "%lld %s %s %s %s %s cells %d ok %d failed %d\n", (long long)r->id,
		    r->uuid, r->name, r->host, r->status, r->finished_at ? "finished" : "-",
		    r->n_cells, r->n_ok, r->n_failed);
	return 0;
}

static int eb_row_metric(void *arg, const struct eb_store_metric *m)
{
	(void)arg;
	eb_buf_addf(&eb_rows, "%lld %s %s n=%lld median=%g\n", (long long)m->cell_id, m->name,
		    m->unit, m->n, m->median);
	return 0;
}

static int eb_row_request(void *arg, const struct eb_store_request *q)
{
	(void)arg;
	eb_buf_addf(&eb_rows, "%lld ttft=%.0f e2e=%.0f pre=%g dec=%g\n", (long long)q->cell_id,
		    q->ttft_ns, q->e2e_ns, q->prefill_tps, q->decode_tps);
	return 0;
}

static int eb_row_value(void *arg, double v)
{
	(void)arg;
	eb_buf_addf(&eb_rows, "%g\n", v);
	return 0;
}

static int eb_row_token(void *arg, const struct eb_store_token *t)
{
	(void)arg;
	eb_buf_addf(&eb_rows, "%lld %lld %lld\n", (long long)t->cell_id, (long long)t->idx,
		    (long long)t->t_ns);
	return 0;
}

static int eb_row_send(void *arg, const struct eb_store_send *q)
{
	(void)arg;
	eb_buf_addf(&eb_rows, "%lld send=%lld ttft=%lld e2e=%lld\n", (long long)q->cell_id,
		    (long long)q->t_send_ns, (long long)q->ttft_ns, (long long)q->e2e_ns);
	return 0;
}

static int eb_row_power(void *arg, const struct eb_store_power *p)
{
	(void)arg;
	eb_buf_addf(&eb_rows, "%lld %s %s %lld %g\n", (long long)p->cell_id, p->sensor, p->rail,
		    (long long)p->t_ns, p->watts);
	return 0;
}

static int eb_row_rail(void *arg, const struct eb_store_rail *r)
{
	(void)arg;
	eb_buf_addf(&eb_rows, "%s %s %g n=%lld\n", r->sensor, r->rail, r->watts, r->n);
	return 0;
}

static int eb_row_accuracy(void *arg, const struct eb_store_accuracy *a)
{
	(void)arg;
	eb_buf_addf(&eb_rows, "%lld %s %s %s %g %g\n", (long long)a->cell_id, a->task,
		    a->protocol ? a->protocol : "(none)", a->metric, a->value, a->stderr_);
	return 0;
}

/* Stops after the first row with 7 (*arg counts the calls). */
static int eb_row_stop(void *arg, const struct eb_store_cell *c)
{
	(void)c;
	++*(int *)arg;
	return 7;
}

/* The rows collected since the last call (caller frees). */
static char *eb_take(void)
{
	char *s = eb_buf_detach(&eb_rows, NULL);

	eb_buf_init(&eb_rows, 0);
	return s;
}

/* The error of the last read a test expects to succeed. */
static struct eb_err eb_e;

/* A read that succeeds with exactly these rows. */
#define EB_ROWS_EQ(expr, want)                                             \
	do {                                                               \
		char *got_;                                                \
		int rc_ = (expr);                                          \
		ck_assert_msg(rc_ == 0, "%s: %d %s", #expr, rc_, eb_e.msg); \
		got_ = eb_take();                                          \
		ck_assert_str_eq(got_, want);                              \
		free(got_);                                                \
	} while (0)

/* Run 1: an ok cell and a failed one; run 2: one ok cell. */
static void eb_two_runs(int64_t *run, int64_t *cell)
{
	const struct eb_tcell tc[3] = {
		{ "cpu", "tiny", "f16", 16, 8, "ok", NULL },
		{ "cpu", "tiny", "q4_0", 16, 8, "failed", "boom" },
		{ "gpu", "tiny", "f16", 64, 8, "ok", NULL },
	};

	run[0] = eb_tdb_run("00000000-0000-4000-8000-000000000001", "first", "{\"name\":\"a\"}");
	run[1] = eb_tdb_run("00000000-0000-4000-8000-000000000002", "second", NULL);
	for (int i = 0; i < 3; i++)
		cell[i] = eb_tdb_cell(run[i < 2 ? 0 : 1], &tc[i]);
}

START_TEST(runs_cells_metrics)
{
	char path[8192];
	int64_t run[2], cell[3];
	const double x[] = { 3, 1, 2 };

	eb_tdb_open(eb_path("rcm.db", path, sizeof(path)));
	eb_two_runs(run, cell);
	eb_tdb_metric(cell[0], "ttft_ms", "ms", x, 3);
	eb_tdb_value(cell[0], "kv_bytes", "B", 4096);
	eb_tdb_value(cell[2], "kv_bytes", "B", 8192);

	EB_ROWS_EQ(eb_store_read_runs(eb_tdb, 0, eb_row_run, NULL, &eb_e),
		   "1 00000000-0000-4000-8000-000000000001 first testhost ok finished cells 2 ok 1"
		   " failed 1\n"
		   "2 00000000-0000-4000-8000-000000000002 second testhost ok finished cells 1 ok 1"
		   " failed 0\n");
	EB_ROWS_EQ(eb_store_read_runs(eb_tdb, 2, eb_row_run, NULL, &eb_e),
		   "2 00000000-0000-4000-8000-000000000002 second testhost ok finished cells 1 ok 1"
		   " failed 0\n");
	EB_ROWS_EQ(eb_store_read_cells(eb_tdb, 0, eb_row_cell, NULL, &eb_e),
		   "1/1 cpu/tiny/f16/latency/p16-g8 ok (none) 16 8 1.5\n"
		   "1/2 cpu/tiny/q4_0/latency/p16-g8 failed boom 16 8 1.5\n"
		   "2/3 gpu/tiny/f16/latency/p64-g8 ok (none) 64 8 1.5\n");
	EB_ROWS_EQ(eb_store_read_cells(eb_tdb, 2, eb_row_cell, NULL, &eb_e),
		   "2/3 gpu/tiny/f16/latency/p64-g8 ok (none) 64 8 1.5\n");
	/* a run without cells has none; metrics only of the run asked for */
	EB_ROWS_EQ(eb_store_read_cells(eb_tdb, 99, eb_row_cell, NULL, &eb_e), "");
	{
		char *got;
		struct eb_err e;

		ck_assert_int_eq(eb_store_read_metrics(eb_tdb, 1, eb_row_metric, NULL, &e), 0);
		got = eb_take();
		ck_assert_ptr_nonnull(strstr(got, "1 ttft_ms ms n=3 median=2\n"));
		ck_assert_ptr_nonnull(strstr(got, "1 kv_bytes B n=1 median=4096\n"));
		ck_assert_ptr_null(strstr(got, "8192"));
		free(got);
	}
	eb_tdb_close();
}
END_TEST

START_TEST(callback_stops_the_read)
{
	char path[8192];
	int64_t run[2], cell[3];
	struct eb_err err;
	int calls = 0;

	eb_tdb_open(eb_path("stop.db", path, sizeof(path)));
	eb_two_runs(run, cell);
	ck_assert_int_eq(eb_store_read_cells(eb_tdb, 0, eb_row_stop, &calls, &err), 7);
	ck_assert_int_eq(calls, 1);
	eb_tdb_close();
}
END_TEST

START_TEST(requests_tokens_sends)
{
	char path[8192];
	int64_t run[2], cell[3];
	const double ttft[] = { 10, 20 }, dec[] = { 50, 25 };
	const uint64_t t[] = { 1000, 2500, 4000 };
	const int nt[] = { 1, 1, 2 };
	struct eb_request_row rr = { .rep = 5, .n_prompt = 16, .n_out = 4, .n_chunks = 3,
				     .ttft_ns = 1000, .e2e_ns = 4000, .decode_ns = 3000,
				     .prefill_tps = NAN, .decode_tps = NAN, .has_t_send = 1,
				     .t_send_ns = 500, .t_ns = t, .n_tokens = nt, .n_times = 3 };
	struct eb_err err;

	eb_tdb_open(eb_path("req.db", path, sizeof(path)));
	eb_two_runs(run, cell);
	/* two measured requests and a warm-up that must not show */
	eb_tdb_requests(cell[0], 16, 8, ttft, dec, 2);
	ck_assert_msg(eb_store_request_add(eb_tdb, cell[2], &rr, &err) == 0, "%s", err.msg);
	rr.warmup = 1;
	ck_assert_msg(eb_store_request_add(eb_tdb, cell[2], &rr, &err) == 0, "%s", err.msg);

	EB_ROWS_EQ(eb_store_read_requests(eb_tdb, 1, eb_row_request, NULL, &eb_e),
		   "1 ttft=10000000 e2e=150000000 pre=1600 dec=50\n"
		   "1 ttft=20000000 e2e=300000000 pre=800 dec=25\n");
	EB_ROWS_EQ(eb_store_read_requests(eb_tdb, 2, eb_row_request, NULL, &eb_e),
		   "3 ttft=1000 e2e=4000 pre=nan dec=nan\n");
	EB_ROWS_EQ(eb_store_read_request_values(eb_tdb, cell[0], EB_REQ_TTFT_NS, eb_row_value,
						NULL, &eb_e),
		   "1e+07\n2e+07\n");
	EB_ROWS_EQ(eb_store_read_request_values(eb_tdb, cell[0], EB_REQ_DECODE_TPS, eb_row_value,
						NULL, &eb_e),
		   "50\n25\n");
	/* NULL values are left out */
	EB_ROWS_EQ(eb_store_read_request_values(eb_tdb, cell[2], EB_REQ_PREFILL_TPS, eb_row_value,
						NULL, &eb_e),
		   "");
	ck_assert_int_eq(eb_store_read_request_values(eb_tdb, cell[2], (enum eb_store_req_col)9,
						      eb_row_value, NULL, &err),
			 EB_EINVAL);
	/* token times of measured requests only; send times where stored */
	EB_ROWS_EQ(eb_store_read_tokens(eb_tdb, 2, eb_row_token, NULL, &eb_e),
		   "3 0 1000\n3 1 2500\n3 2 4000\n");
	EB_ROWS_EQ(eb_store_read_tokens(eb_tdb, 1, eb_row_token, NULL, &eb_e), "");
	EB_ROWS_EQ(eb_store_read_sends(eb_tdb, 0, eb_row_send, NULL, &eb_e),
		   "3 send=500 ttft=1000 e2e=4000\n");
	/* a database from before schema 3 has no send times: no rows, no error */
	eb_tdb_exec("ALTER TABLE requests DROP COLUMN t_send_ns");
	EB_ROWS_EQ(eb_store_read_sends(eb_tdb, 0, eb_row_send, NULL, &eb_e), "");
	eb_tdb_close();
}
END_TEST

START_TEST(power)
{
	char path[8192];
	int64_t run[2], cell[3];
	const double a[] = { 2, 4, 6 }, b[] = { 1, 1 };
	double mean = -1;
	long long n = -1, ns = -1;
	int found = -1;
	struct eb_err err;

	eb_tdb_open(eb_path("power.db", path, sizeof(path)));
	eb_two_runs(run, cell);
	eb_tdb_power(cell[0], "hwmon", "VDD_IN", 100, 50, a, 3);
	eb_tdb_power(cell[0], "hwmon", "VDD_CPU", 0, 50, b, 2);
	eb_tdb_power(cell[2], "hwmon", "VDD_IN", 0, 50, b, 2);
	eb_tdb_exec("INSERT INTO power_samples(cell_id,sensor,rail,t_ns,watts)"
		    " VALUES(1,'hwmon','VDD_IN',999,NULL)");

	EB_ROWS_EQ(eb_store_read_power(eb_tdb, 1, eb_row_power, NULL, &eb_e),
		   "1 hwmon VDD_CPU 0 1\n1 hwmon VDD_CPU 50 1\n"
		   "1 hwmon VDD_IN 100 2\n1 hwmon VDD_IN 150 4\n1 hwmon VDD_IN 200 6\n");
	EB_ROWS_EQ(eb_store_read_rails(eb_tdb, cell[0], eb_row_rail, NULL, &eb_e),
		   "hwmon VDD_CPU 1 n=2\nhwmon VDD_IN 4 n=3\n");
	ck_assert_int_eq(eb_store_cell_power_avg(eb_tdb, cell[0], &found, &mean, &n, &ns, &err), 0);
	ck_assert_int_eq(found, 0);
	eb_tdb_value(cell[0], "power_avg_w", "W", 3.5);
	ck_assert_int_eq(eb_store_cell_power_avg(eb_tdb, cell[0], &found, &mean, &n, &ns, &err), 0);
	ck_assert_int_eq(found, 1);
	ck_assert_double_eq(mean, 3.5);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(ns, 5);
	eb_tdb_close();
}
END_TEST

START_TEST(accuracy)
{
	char path[8192];
	int64_t run[2], cell[3];
	struct eb_accuracy_row r = { .task = "hellaswag", .protocol = "hellaswag",
				     .metric = "acc_norm", .value = 0.5, .stderr_ = 0.01, .n = 10 };
	struct eb_err err;

	eb_tdb_open(eb_path("acc.db", path, sizeof(path)));
	eb_two_runs(run, cell);
	int has = -1;

	ck_assert_int_eq(eb_store_has_table(eb_tdb, "accuracy", &has, &err), 0);
	ck_assert_int_eq(has, 1);
	ck_assert_int_eq(eb_store_has_table(eb_tdb, "no_such_table", &has, &err), 0);
	ck_assert_int_eq(has, 0);
	ck_assert_msg(eb_store_accuracy_add(eb_tdb, cell[2], &r, &err) == 0, "%s", err.msg);
	ck_assert_msg(eb_store_accuracy_add(eb_tdb, cell[0], &r, &err) == 0, "%s", err.msg);
	r.task = "wikitext2";
	r.protocol = "wikitext2-gptq";
	r.metric = "ppl";
	r.value = NAN;
	r.stderr_ = NAN;
	ck_assert_msg(eb_store_accuracy_add(eb_tdb, cell[0], &r, &err) == 0, "%s", err.msg);

	EB_ROWS_EQ(eb_store_read_accuracy(eb_tdb, 0, 0, eb_row_accuracy, NULL, &eb_e),
		   "1 hellaswag hellaswag acc_norm 0.5 0.01\n"
		   "3 hellaswag hellaswag acc_norm 0.5 0.01\n"
		   "1 wikitext2 wikitext2-gptq ppl nan nan\n");
	EB_ROWS_EQ(eb_store_read_accuracy(eb_tdb, 2, 0, eb_row_accuracy, NULL, &eb_e),
		   "3 hellaswag hellaswag acc_norm 0.5 0.01\n");
	EB_ROWS_EQ(eb_store_read_accuracy(eb_tdb, 0, cell[0], eb_row_accuracy, NULL, &eb_e),
		   "1 hellaswag hellaswag acc_norm 0.5 0.01\n"
		   "1 wikitext2 wikitext2-gptq ppl nan nan\n");
	/* without the table a read is a database error that names the file */
	eb_tdb_exec("DROP TABLE accuracy");
	ck_assert_int_eq(eb_store_read_accuracy(eb_tdb, 0, 0, eb_row_accuracy, NULL, &err), EB_EDB);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot read '"));
	ck_assert_ptr_nonnull(strstr(err.msg, "acc.db': "));
	eb_tdb_close();
}
END_TEST

START_TEST(resolve_and_config)
{
	char path[8192], *json = NULL;
	int64_t run[2], cell[3], id = 0;
	struct eb_err err;

	eb_tdb_open(eb_path("empty.db", path, sizeof(path)));
	ck_assert_int_eq(eb_store_run_resolve(eb_tdb, "latest", &id, &err), EB_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "no runs in '"));
	eb_tdb_close();

	eb_tdb_open(eb_path("resolve.db", path, sizeof(path)));
	eb_two_runs(run, cell);
	ck_assert_int_eq(eb_store_run_resolve(eb_tdb, "latest", &id, &err), 0);
	ck_assert_int_eq(id, 2);
	ck_assert_int_eq(eb_store_run_resolve(eb_tdb, "latest~1", &id, &err), 0);
	ck_assert_int_eq(id, 1);
	ck_assert_int_eq(eb_store_run_resolve(eb_tdb, "1", &id, &err), 0);
	ck_assert_int_eq(id, 1);
	ck_assert_int_eq(eb_store_run_resolve(eb_tdb, "latest~2", &id, &err), EB_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "has fewer than 3 runs"));
	ck_assert_int_eq(eb_store_run_resolve(eb_tdb, "7", &id, &err), EB_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "no run 7 in '"));
	ck_assert_int_eq(eb_store_run_resolve(eb_tdb, "latest~x", &id, &err), EB_EINVAL);
	ck_assert_int_eq(eb_store_run_resolve(eb_tdb, "first", &id, &err), EB_EINVAL);

	ck_assert_int_eq(eb_store_run_config(eb_tdb, 1, &json, &err), 0);
	ck_assert_str_eq(json, "{\"name\":\"a\"}");
	free(json);
	ck_assert_int_eq(eb_store_run_config(eb_tdb, 9, &json, &err), 0);
	ck_assert_ptr_null(json);
	ck_assert_str_eq(eb_store_path(eb_tdb), path);
	eb_tdb_close();
}
END_TEST

START_TEST(handle)
{
	struct eb_store *s = (struct eb_store *)&s; /* not NULL, to see the open clear it */
	struct eb_err err;

	/* a failed open leaves no handle; closing none is a no-op */
	ck_assert_int_eq(eb_store_open(&s, "/nonexistent-dir/x.db", 1, &err), EB_EDB);
	ck_assert_ptr_null(s);
	eb_store_close(NULL);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("reader");
	TCase *tc = tcase_create("core");

	eb_buf_init(&eb_rows, 0);
	tcase_add_test(tc, runs_cells_metrics);
	tcase_add_test(tc, callback_stops_the_read);
	tcase_add_test(tc, requests_tokens_sends);
	tcase_add_test(tc, power);
	tcase_add_test(tc, accuracy);
	tcase_add_test(tc, resolve_and_config);
	tcase_add_test(tc, handle);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
