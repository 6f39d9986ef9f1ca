/* ctest: labels=unit timeout=60 */
/* check_store.c: SQLite store round trip, migrations and refusal of foreign databases. */
#include "store.h"
#include "store_int.h" /* the raw connection, to check what was written */
#include "eb_util.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static char eb_dir[4096];

static const char *eb_db(const char *name, char *buf, size_t n)
{
	eb_test_tmpdir("store", eb_dir, sizeof(eb_dir));
	snprintf(buf, n, "%s/%s", eb_dir, name);
	return buf;
}

static long long eb_q_int(struct eb_store *s, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -12345;

	ck_assert_int_eq(sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -999 : sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static double eb_q_real(struct eb_store *s, const char *sql)
{
	sqlite3_stmt *st;
	double v = -12345;

	ck_assert_int_eq(sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return v;
}

START_TEST(round_trip)
{
	char path[8192], uuid[64];
	struct eb_store *s;
	struct eb_err err;
	struct eb_run_info ri = { .uuid = "11111111-2222-4333-8444-555555555555",
				  .name = "t",
				  .config_json = "{}",
				  .config_sha256 = "abc",
				  .cpu_cores = 2,
				  .mem_bytes = -1 };
	struct eb_cell_row cr = { .key = "cpu/m/q4_0/latency/p8-g4", .target = "cpu",
				  .adapter = "llamacpp", .model = "m", .quant = "q4_0",
				  .device = "d", .workload = "latency", .prompt_tokens = 8,
				  .gen_tokens = 4 };
	const uint64_t t[] = { 1000, 2500, 4000, 7000 };
	const int nt[] = { 1, 1, 2, 1 };
	struct eb_request_row rr = { .rep = 0, .warmup = 0, .n_prompt = 8, .n_out = 5,
				     .n_chunks = 4, .ttft_ns = 1000, .e2e_ns = 7000,
				     .decode_ns = 6000, .prefill_tps = 8e6, .decode_tps = NAN,
				     .server_json = "{\"x\":1}", .t_ns = t, .n_tokens = nt,
				     .n_times = 4 };
	const double xs[] = { 1, 2, 3 };
	struct eb_summary sum;
	int64_t run_id, cell_id, cell_id2, found;
	char status[32];

	ck_assert_msg(eb_store_open(&s, eb_db("rt.db", path, sizeof(path)), 0, &err) == 0, "%s",
		      err.msg);
	ck_assert_int_eq(eb_q_int(s, "PRAGMA user_version"), EB_STORE_SCHEMA_VERSION);
	ck_assert_int_eq(eb_store_run_add(s, &ri, &run_id, &err), 0);
	ck_assert_int_eq(eb_store_cell_ensure(s, run_id, &cr, &cell_id, &err), 0);
	ck_assert_int_eq(eb_store_cell_ensure(s, run_id, &cr, &cell_id2, &err), 0);
	ck_assert_int_eq(cell_id, cell_id2); /* same key, same cell */
	ck_assert_int_eq(eb_store_cell_status(s, cell_id, status, sizeof(status), &err), 0);
	ck_assert_str_eq(status, "pending");
	ck_assert_int_eq(eb_store_request_add(s, cell_id, &rr, &err), 0);
	ck_assert_int_eq(eb_stats_summarize(xs, 3, &sum), 0);
	ck_assert_int_eq(eb_store_metric_add(s, cell_id, "ttft_ms", "ms", &sum, &err), 0);
	ck_assert_int_eq(eb_store_metric_value(s, cell_id, "kv_bytes", "B", 4096, &err), 0);
	ck_assert_int_eq(eb_store_cell_finish(s, cell_id, "ok", NULL, "{}", NULL, 1.5, &err), 0);

	ck_assert_int_eq(eb_q_int(s, "SELECT n_out FROM requests"), 5);
	ck_assert(isnan(eb_q_real(s, "SELECT decode_tps FROM requests")));
	ck_assert_double_eq(eb_q_real(s, "SELECT prefill_tps FROM requests"), 8e6);
	ck_assert_int_eq(eb_q_int(s, "SELECT count(*) FROM token_times"), 4);
	ck_assert_int_eq(eb_q_int(s, "SELECT t_ns FROM token_times WHERE idx=3"), 7000);
	ck_assert_int_eq(eb_q_int(s, "SELECT n_tokens FROM token_times WHERE idx=2"), 2);
	ck_assert_double_eq(eb_q_real(s, "SELECT median FROM metrics WHERE name='ttft_ms'"), 2);
	ck_assert_double_eq(eb_q_real(s, "SELECT stddev FROM metrics WHERE name='ttft_ms'"), 1);
	ck_assert(isnan(eb_q_real(s, "SELECT stddev FROM metrics WHERE name='kv_bytes'")));
	ck_assert_double_eq(eb_q_real(s, "SELECT mean FROM metrics WHERE name='kv_bytes'"), 4096);
	ck_assert_int_eq(eb_q_int(s, "SELECT mem_bytes FROM runs"), -999); /* NULL */
	ck_assert_int_eq(eb_store_cell_status(s, cell_id, status, sizeof(status), &err), 0);
	ck_assert_str_eq(status, "ok");

	/* resumable only while running or interrupted */
	ck_assert_int_eq(eb_store_run_find_resumable(s, "abc", &found, uuid, &err), 0);
	ck_assert_int_eq(found, run_id);
	ck_assert_str_eq(uuid, ri.uuid);
	ck_assert_int_eq(eb_store_run_set_status(s, run_id, "ok", &err), 0);
	ck_assert_int_eq(eb_store_run_find_resumable(s, "abc", &found, uuid, &err), EB_ENOENT);

	/* clearing a cell removes its requests (and their token times) */
	ck_assert_int_eq(eb_store_cell_clear(s, cell_id, &err), 0);
	ck_assert_int_eq(eb_q_int(s, "SELECT count(*) FROM token_times"), 0);
	ck_assert_int_eq(eb_q_int(s, "SELECT count(*) FROM metrics"), 0);
	ck_assert_int_eq(eb_q_int(s, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode='wal'"), 1);
	eb_store_close(s);

	/* reopening read-only sees the same data */
	ck_assert_int_eq(eb_store_open(&s, path, 1, &err), 0);
	ck_assert_int_eq(eb_q_int(s, "SELECT count(*) FROM cells"), 1);
	eb_store_close(s);
}
END_TEST

static void eb_make_db(const char *path, const char *sql)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

START_TEST(migrations_and_refusals)
{
	char path[8192], want[9000];
	struct eb_store *s;
	struct eb_err err;

	/* an empty file migrates from version 0 */
	eb_db("empty.db", path, sizeof(path));
	eb_make_db(path, "PRAGMA user_version=0");
	ck_assert_int_eq(eb_store_open(&s, path, 0, &err), 0);
	ck_assert_int_eq(eb_q_int(s, "SELECT count(*) FROM sqlite_master WHERE name='runs'"), 1);
	eb_store_close(s);

	/* a newer schema is refused, with both versions named */
	snprintf(path + strlen(path) - 8, 16, "newer.db");
	eb_make_db(path, "CREATE TABLE runs(id); PRAGMA user_version=99");
	ck_assert_int_eq(eb_store_open(&s, path, 0, &err), EB_EDB);
	snprintf(want, sizeof(want),
		 "database '%s' has schema version 99; this edgebench knows up to %d (upgrade "
		 "edgebench)",
		 path, EB_STORE_SCHEMA_VERSION);
	ck_assert_str_eq(err.msg, want);

	/* somebody else's database is not touched */
	snprintf(path + strlen(path) - 8, 16, "other.db");
	eb_make_db(path, "CREATE TABLE t(x)");
	ck_assert_int_eq(eb_store_open(&s, path, 0, &err), EB_EDB);
	ck_assert_ptr_nonnull(strstr(err.msg, "is a SQLite database but not edgebench's"));

	/* not a database at all */
	snprintf(path + strlen(path) - 8, 16, "plain.db");
	ck_assert_int_eq(eb_write_file(path, "hello, world, this is not sqlite\n", 33, &err), 0);
	ck_assert_int_eq(eb_store_open(&s, path, 0, &err), EB_EDB);
	ck_assert_ptr_nonnull(strstr(err.msg, "is not a SQLite database"));

	/* a missing directory fails before any work */
	ck_assert_int_eq(eb_store_open(&s, "/nonexistent-dir/x.db", 0, &err), EB_EDB);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot open database '/nonexistent-dir/x.db'"));
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, migrations_and_refusals);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
