/* ctest: labels=integration,serial timeout=120 */
/* check_exec.c: the exec adapter against a script standing in for a DRP-AI app: timing, parsers, argv safety, failures. */
#include "adapter.h"
#include "eb_build.h"
#include "eb_clock.h"
#include "eb_util.h"
#include "testutil.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char eb_script[4096], eb_fixture[4096];

static void eb_paths(void)
{
	eb_test_data("exec/fake_drpai.sh", eb_script, sizeof(eb_script));
	eb_test_data("streams/renesas-drpai-tvm.log", eb_fixture, sizeof(eb_fixture));
}

/*
 * Options for the fake app: argv [script, {max_tokens}, {prompt_file}, {prompt}, extra],
 * mode and argv directory through the environment option.
 */
static json_t *eb_opts(const char *mode, const char *argv_dir, const char *stream)
{
	json_t *o = json_pack("{s:[s,s,s,s,s], s:{s:s, s:s, s:s}, s:s, s:{s:s, s:s}, s:s, s:b}",
			      "argv", eb_script, "{max_tokens}", "{prompt_file}", "{prompt}",
			      "--n={max_tokens}:{seed}", "env", "EB_FAKE_MODE", mode,
			      "EB_ARGV_DIR", argv_dir ? argv_dir : "", "EB_FIXTURE", eb_fixture,
			      "stream", stream, "parsers", "pre_ms",
			      "Pre Processing Time: ([0-9.]+) msec", "ai_ms",
			      "AI Processing Time: ([0-9.]+) msec", "tokens_regex",
			      "^generated ([0-9]+) tokens", "json_lines", 1);

	ck_assert_ptr_nonnull(o);
	return o;
}

struct eb_run1 {
	int rc;
	struct eb_err err;
	struct eb_gen_res res;
	struct eb_test_tokens tt;
	double secs;
};

static void eb_run_exec(json_t *opts, const char *prompt, int n_predict, volatile int *stop,
			struct eb_run1 *out)
{
	const struct eb_adapter_ops *ops = eb_adapter_find("exec");
	struct eb_adapter_args a = { .target_id = "t", .model_id = "m", .quant = "q",
				     .model_name = "llama2-7b-int4", .options = opts, .seed = 42 };
	struct eb_gen_req rq = { .prompt_text = prompt, .n_predict = n_predict, .seed = 42,
				 .temperature = 0, .on_token = eb_test_tokens_cb, .stop = stop };
	void *st = NULL;
	uint64_t t0;

	ck_assert_ptr_nonnull(ops);
	memset(out, 0, sizeof(*out));
	out->res.n_prompt = -1;
	out->res.n_out = -1;
	rq.ud = &out->tt;
	ck_assert_msg(ops->open(&a, &st, &out->err) == 0, "%s", out->err.msg);
	t0 = eb_clock_ns();
	out->rc = ops->generate(st, &rq, &out->res, &out->err);
	out->secs = (eb_clock_ns() - t0) / 1e9;
	ops->close(st);
}

static double eb_num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_number(v), "server.%s missing", key);
	return json_number_value(v);
}

START_TEST(bytes_stream_and_figures)
{
	json_t *opts;
	struct eb_run1 r;
	double ttft, e2e;

	eb_paths();
	opts = eb_opts("ok", NULL, "bytes");
	eb_run_exec(opts, "hello", 5, NULL, &r);
	ck_assert_msg(r.rc == 0, "%s", r.err.msg);
	/* five tokens printed 50 ms apart; the figures, count and JSON lines are not tokens */
	ck_assert_int_eq(r.tt.n, 5);
	ck_assert_uint_eq(r.res.flags & EB_GEN_BUFFERED, 0);
	for (int i = 1; i < r.tt.n; i++) {
		double gap = (r.tt.t[i] - r.tt.t[i - 1]) / 1e6;

		ck_assert_msg(gap > 30 && gap < 200, "gap %d: %.1f ms", i, gap);
	}
	ttft = (r.tt.t[0] - r.res.t_send_ns) / 1e6;
	e2e = (r.tt.t[r.tt.n - 1] - r.res.t_send_ns) / 1e6;
	ck_assert_msg(ttft > 30 && ttft < e2e, "ttft %.1f e2e %.1f", ttft, e2e);
	ck_assert_int_eq(r.res.n_out, 5);
	ck_assert_ptr_nonnull(r.res.server);
	ck_assert_double_eq_tol(eb_num(r.res.server, "pre_ms"), 3.83, 1e-9);
	ck_assert_double_eq_tol(eb_num(r.res.server, "ai_ms"), 17.69, 1e-9);
	ck_assert_double_eq_tol(eb_num(r.res.server, "tokens_per_s"), 20.5, 1e-9);
	ck_assert_double_eq_tol(eb_num(r.res.server, "n_generated"), 5, 1e-9);
	ck_assert_str_eq(json_string_value(json_object_get(r.res.server, "backend")), "fake");
	ck_assert_int_eq((int)eb_num(r.res.server, "exit_status"), 0);
	ck_assert(eb_num(r.res.server, "wall_ms") >= e2e);
	json_decref(r.res.server);
	json_decref(opts);
}
END_TEST

START_TEST(lines_and_none_modes)
{
	json_t *opts;
	struct eb_run1 r;

	eb_paths();
	/* lines: the five tokens share one line, so one event */
	opts = eb_opts("ok", NULL, "lines");
	eb_run_exec(opts, "hello", 5, NULL, &r);
	ck_assert_msg(r.rc == 0, "%s", r.err.msg);
	ck_assert_int_eq(r.tt.n, 1);
	ck_assert_int_eq(r.res.n_out, 5);
	/* one event for five tokens: its time is not the first token's */
	ck_assert_uint_eq(r.res.flags & EB_GEN_BUFFERED, EB_GEN_BUFFERED);
	json_decref(r.res.server);
	json_decref(opts);

	opts = eb_opts("ok", NULL, "none");
	eb_run_exec(opts, "hello", 3, NULL, &r);
	ck_assert_msg(r.rc == 0, "%s", r.err.msg);
	ck_assert_int_eq(r.tt.n, 0);
	ck_assert_int_eq(r.res.n_out, 3);
	ck_assert(eb_num(r.res.server, "wall_ms") > 100);
	ck_assert_double_eq_tol(eb_num(r.res.server, "ai_ms"), 17.69, 1e-9);
	json_decref(r.res.server);
	json_decref(opts);
}
END_TEST

static char *eb_slurp(const char *dir, const char *name)
{
	char path[8192];
	struct eb_err err;
	char *data = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_msg(eb_read_file(path, 1 << 20, &data, &len, &err) == 0, "%s", err.msg);
	return data;
}

START_TEST(prompt_reaches_program_verbatim)
{
	static const char prompt[] = "$(rm -rf /) ; echo pwned `id` && 'single' \"double\" \\ "
				     "back\nnew line\ttab * ? [a-z] ~ | & > /tmp/x < $HOME ${PATH} "
				     "%s %n \xc3\xa9t\xc3\xa9 end";
	char dir[4096];
	char *got;
	json_t *opts;
	struct eb_run1 r;

	eb_paths();
	eb_test_tmpdir("exec-argv", dir, sizeof(dir));
	opts = eb_opts("ok", dir, "lines");
	eb_run_exec(opts, prompt, 2, NULL, &r);
	ck_assert_msg(r.rc == 0, "%s", r.err.msg);
	got = eb_slurp(dir, "argc");
	ck_assert_str_eq(got, "4");
	free(got);
	got = eb_slurp(dir, "arg1");
	ck_assert_str_eq(got, "2");
	free(got);
	got = eb_slurp(dir, "arg3");
	ck_assert_mem_eq(got, prompt, sizeof(prompt));
	free(got);
	got = eb_slurp(dir, "prompt_file");
	ck_assert_mem_eq(got, prompt, sizeof(prompt));
	free(got);
	got = eb_slurp(dir, "arg4");
	ck_assert_str_eq(got, "--n=2:42");
	free(got);
	/* the temporary prompt file is gone */
	got = eb_slurp(dir, "arg2");
	ck_assert_int_ne(access(got, F_OK), 0);
	free(got);
	json_decref(r.res.server);
	json_decref(opts);
}
END_TEST

START_TEST(nonzero_exit_and_signal)
{
	json_t *opts;
	struct eb_run1 r;

	eb_paths();
	opts = eb_opts("fail", NULL, "lines");
	eb_run_exec(opts, "x", 2, NULL, &r);
	ck_assert_int_eq(r.rc, EB_EADAPTER);
	ck_assert_msg(strstr(r.err.msg, "exited with status 3; stderr: err line 3 | err line 4 | "
					"err line 5 | err line 6 | err line 7"),
		      "%s", r.err.msg);
	ck_assert_ptr_null(strstr(r.err.msg, "err line 2"));
	ck_assert_ptr_null(r.res.server);
	json_decref(opts);

	opts = eb_opts("signal", NULL, "lines");
	eb_run_exec(opts, "x", 2, NULL, &r);
	ck_assert_int_eq(r.rc, EB_EADAPTER);
	ck_assert_msg(strstr(r.err.msg, "was killed by signal 9") && strstr(r.err.msg, "crashing"),
		      "%s", r.err.msg);
	json_decref(opts);
}
END_TEST

START_TEST(timeout_kills_the_group)
{
	char dir[4096];
	char *pid_s;
	long long pid;
	json_t *opts;
	struct eb_run1 r;

	eb_paths();
	eb_test_tmpdir("exec-timeout", dir, sizeof(dir));
	opts = eb_opts("hang", dir, "lines");
	json_object_set_new(opts, "timeout_s", json_real(0.5));
	eb_run_exec(opts, "x", 2, NULL, &r);
	ck_assert_int_eq(r.rc, EB_ETIMEOUT);
	ck_assert_msg(strstr(r.err.msg, "timed out after 0.5 s and was killed; stderr: about to "
					"hang"),
		      "%s", r.err.msg);
	ck_assert_msg(r.secs < 3.0, "took %.2f s", r.secs);
	/* the script and its `sleep 30` child were one group, and none of it runs on */
	pid_s = eb_slurp(dir, "pid");
	ck_assert_int_eq(eb_parse_ll(pid_s, 2, 1LL << 31, &pid), 0);
	ck_assert_msg(eb_test_pgrp_gone((pid_t)pid), "process group %lld still runs", pid);
	free(pid_s);
	json_decref(opts);
}
END_TEST

static volatile int eb_stop_flag;

static void *eb_stopper(void *arg)
{
	eb_clock_sleep_ns(200000000ull, NULL);
	eb_stop_flag = 1;
	return NULL;
}

START_TEST(stop_kills_the_program)
{
	pthread_t th;
	json_t *opts;
	struct eb_run1 r;

	eb_paths();
	opts = eb_opts("hang", NULL, "lines");
	eb_stop_flag = 0;
	ck_assert_int_eq(pthread_create(&th, NULL, eb_stopper, NULL), 0);
	eb_run_exec(opts, "x", 2, &eb_stop_flag, &r);
	pthread_join(th, NULL);
	ck_assert_int_eq(r.rc, EB_EINTR);
	ck_assert_msg(r.secs < 3.0, "took %.2f s", r.secs);
	json_decref(opts);
}
END_TEST

START_TEST(bad_options_fail_open)
{
	const struct eb_adapter_ops *ops = eb_adapter_find("exec");
	struct eb_adapter_args a = { .target_id = "t", .model_id = "m", .quant = "q" };
	struct eb_err err;
	void *st = NULL;
	json_t *o;

	o = json_pack("{s:[s,s]}", "argv", "/bin/echo", "{promt}");
	a.options = o;
	ck_assert_int_eq(ops->open(&a, &st, &err), EB_EINVAL);
	ck_assert_msg(strstr(err.msg, "argv[1] '{promt}': unknown placeholder"), "%s", err.msg);
	json_decref(o);

	o = json_pack("{s:[s], s:{s:s}}", "argv", "/bin/echo", "parsers", "x", "([0-9");
	a.options = o;
	ck_assert_int_eq(ops->open(&a, &st, &err), EB_EINVAL);
	ck_assert_msg(strstr(err.msg, "bad regex for parser 'x'"), "%s", err.msg);
	json_decref(o);

	o = json_object();
	a.options = o;
	ck_assert_int_eq(ops->open(&a, &st, &err), EB_EINVAL);
	ck_assert_msg(strstr(err.msg, "\"argv\""), "%s", err.msg);
	json_decref(o);

	/* a program that does not exist fails the request with its name */
	{
		struct eb_gen_req rq = { .prompt_text = "x", .n_predict = 2 };
		struct eb_gen_res res = { 0, -1, -1, NULL, -1, 0, NULL };

		o = json_pack("{s:[s]}", "argv", "/nonexistent/drpai_app");
		a.options = o;
		ck_assert_int_eq(ops->open(&a, &st, &err), 0);
		ck_assert_int_eq(ops->generate(st, &rq, &res, &err), EB_EIO);
		ck_assert_msg(strstr(err.msg, "cannot run '/nonexistent/drpai_app'"), "%s", err.msg);
		ops->close(st);
		json_decref(o);
	}
}
END_TEST

/*
 * A program that exits at once but leaves a background child holding stdout: the wait
 * ends with the program (a short grace), the child's group is killed, and the result
 * says a child kept the output open.
 */
START_TEST(background_child_does_not_hold_the_wait)
{
	char dir[4096], script[8192];
	char *pid_s;
	long long pid;
	json_t *opts;
	struct eb_run1 r;

	eb_test_tmpdir("exec-bgchild", dir, sizeof(dir));
	snprintf(script, sizeof(script), "printf '%%s' $$ > '%s/pid'; sleep 30 & echo tok; exit 0",
		 dir);
	opts = json_pack("{s:[s,s,s], s:s, s:f}", "argv", "/bin/sh", "-c", script, "stream",
			 "lines", "timeout_s", 20.0);
	eb_run_exec(opts, "x", 2, NULL, &r);
	ck_assert_msg(r.rc == 0, "%d %s", r.rc, r.err.msg);
	ck_assert_msg(r.secs < 10.0, "took %.2f s", r.secs);
	ck_assert_int_eq(r.tt.n, 1);
	ck_assert_ptr_nonnull(r.res.server);
	ck_assert_msg(strstr(json_string_value(json_object_get(r.res.server, "warning")) ?: "",
			     "kept stdout or stderr open"),
		      "no warning");
	pid_s = eb_slurp(dir, "pid");
	ck_assert_int_eq(eb_parse_ll(pid_s, 2, 1LL << 31, &pid), 0);
	ck_assert_msg(eb_test_pgrp_gone((pid_t)pid), "process group %lld still runs", pid);
	free(pid_s);
	json_decref(r.res.server);
	json_decref(opts);
}
END_TEST

/*
 * A parser regex that backtracks without end (`\1` makes it exponential in a
 * backtracking engine, and glibc's takes minutes on 28 characters) gives up at the match
 * limit: the request ends well inside timeout_s and says which parser gave up.
 */
START_TEST(parser_regex_is_bounded)
{
	json_t *opts;
	struct eb_run1 r;

	/* glibc takes minutes: its unanchored search is quadratic in the line */
	opts = json_pack("{s:[s,s,s], s:s, s:f, s:{s:s}}", "argv", "/bin/sh", "-c",
			 "head -c 200000 /dev/zero | tr '\\0' a; echo", "stream", "none",
			 "timeout_s", 30.0, "parsers", "slow", "(a|a)*(a|a)*(a|a)*(a|a)*x");
	eb_run_exec(opts, "x", 2, NULL, &r);
	ck_assert_msg(r.secs < 10.0, "took %.2f s", r.secs);
	ck_assert_msg(r.rc == 0, "%d %s", r.rc, r.err.msg);
	json_decref(r.res.server);
	json_decref(opts);

	opts = json_pack("{s:[s,s,s], s:s, s:f, s:{s:s, s:s}}", "argv", "/bin/sh", "-c",
			 "echo aaaaaaaaaaaaaaaaaaaaaaaaaaaacb; echo 'n=7'", "stream", "lines",
			 "timeout_s", 3.0, "parsers", "evil", "^(a|a)*\\1(a|a)*\\2b$", "n",
			 "n=([0-9]+)");
	eb_run_exec(opts, "x", 2, NULL, &r);
	ck_assert_msg(r.secs < 10.0, "took %.2f s", r.secs);
	ck_assert_msg(r.rc == 0, "%d %s", r.rc, r.err.msg);
	ck_assert_double_eq_tol(eb_num(r.res.server, "n"), 7, 1e-9);
	ck_assert_msg(strstr(json_string_value(json_object_get(r.res.server, "warning")) ?: "",
			     "parser 'evil'"),
		      "no warning");
	json_decref(r.res.server);
	json_decref(opts);
}
END_TEST

/*
 * `stream: lines` from a program that never stops printing (/usr/bin/yes): reading
 * stops once gen_tokens plus the stated margin of events have arrived, the program is
 * ended, and the request fails saying so, long before timeout_s.
 */
START_TEST(endless_output_is_cut_off)
{
	json_t *opts;
	struct eb_run1 r;

	opts = json_pack("{s:[s], s:s, s:f}", "argv", "yes", "stream", "lines", "timeout_s", 20.0);
	eb_run_exec(opts, "x", 4, NULL, &r);
	ck_assert_msg(r.secs < 10.0, "took %.2f s", r.secs);
	ck_assert_int_eq(r.rc, EB_EADAPTER);
	ck_assert_msg(strstr(r.err.msg, "more than 4104 token events for 4 tokens"), "%s",
		      r.err.msg);
	json_decref(opts);

	/* bytes mode: one event a read of up to 64 KiB; the stdout byte cap ends it first */
	opts = json_pack("{s:[s], s:s, s:f}", "argv", "yes", "stream", "bytes", "timeout_s", 20.0);
	eb_run_exec(opts, "x", 4, NULL, &r);
	ck_assert_msg(r.secs < 10.0, "took %.2f s", r.secs);
	ck_assert_int_eq(r.rc, EB_EADAPTER);
	ck_assert_msg(strstr(r.err.msg, "wrote more than 16777216 bytes to stdout for 4 tokens"),
		      "%s", r.err.msg);
	json_decref(opts);
}
END_TEST

/* The adapter through `edgebench run`: figures stored per request. */
START_TEST(through_the_run_loop)
{
	char dir[4096], cfg[8192], db[8192], sql_db[8192];
	struct eb_buf b;
	struct eb_err err;
	sqlite3 *s;
	sqlite3_stmt *q;
	char *out = NULL;
	int rc, rows = 0;

	eb_paths();
	eb_test_tmpdir("exec-run", dir, sizeof(dir));
	snprintf(cfg, sizeof(cfg), "%s/rzv2l.json", dir);
	snprintf(db, sizeof(db), "%s/out.db", dir);
	eb_buf_init(&b, 0);
	eb_buf_addf(&b,
		    "{ \"name\": \"exec-test\",\n"
		    "  \"targets\": [ { \"id\": \"drpai\", \"adapter\": \"exec\", \"options\": {\n"
		    "     \"argv\": [\"%s\", \"{max_tokens}\", \"{prompt_file}\", \"{prompt}\"],\n"
		    "     \"env\": { \"EB_FAKE_MODE\": \"ok\", \"EB_FIXTURE\": \"%s\" },\n"
		    "     \"stream\": \"bytes\", \"timeout_s\": 30,\n"
		    "     \"parsers\": { \"ai_ms\": \"AI Processing Time: ([0-9.]+) msec\" },\n"
		    "     \"ignore_regex\": \"^(\\\\[TIME\\\\]|\\\\{)\",\n"
		    "     \"tokens_regex\": \"^generated ([0-9]+) tokens\" } } ],\n"
		    "  \"models\": [ { \"id\": \"llama2-7b\", \"variants\": [\n"
		    "     { \"quant\": \"int4\", \"model_name\": \"llama2-7b-int4\" } ] } ],\n"
		    "  \"workloads\": { \"latency\": { \"prompt_tokens\": [16], \"gen_tokens\": 3,\n"
		    "     \"warmup\": 1, \"repetitions\": 2 } } }\n",
		    eb_script, eb_fixture);
	ck_assert_msg(eb_write_file(cfg, b.buf, b.len, &err) == 0, "%s", err.msg);
	eb_buf_release(&b);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--quiet", NULL };

		rc = eb_test_run(argv, &out);
	}
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	free(out);
	snprintf(sql_db, sizeof(sql_db), "%s", db);
	ck_assert_int_eq(sqlite3_open_v2(sql_db, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(s,
					    "SELECT r.n_out, r.n_chunks, r.ttft_ns, r.e2e_ns, "
					    "json_extract(r.server_json, '$.ai_ms'), c.status "
					    "FROM requests r JOIN cells c ON c.id = r.cell_id",
					    -1, &q, NULL),
			 SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW) {
		ck_assert_int_eq(sqlite3_column_int(q, 0), 3);
		ck_assert_int_eq(sqlite3_column_int(q, 1), 3);
		ck_assert(sqlite3_column_int64(q, 2) > 0);
		ck_assert(sqlite3_column_int64(q, 2) < sqlite3_column_int64(q, 3));
		ck_assert_double_eq_tol(sqlite3_column_double(q, 4), 17.69, 1e-9);
		ck_assert_str_eq((const char *)sqlite3_column_text(q, 5), "ok");
		rows++;
	}
	ck_assert_int_eq(rows, 3);
	sqlite3_finalize(q);
	sqlite3_close(s);
}
END_TEST

/*
 * One exec cell through `edgebench run` into dir/NAME.db: ARGV (a JSON array) as the
 * program, no tokens_regex. Returns the database, open; *out gets run's output (caller
 * frees).
 */
static sqlite3 *eb_exec_cell_run(const char *dir, const char *name, const char *argv_json,
				 const char *stream, char **out)
{
	char cfg[8192], db[8192];
	struct eb_buf b;
	struct eb_err err;
	int rc;

	snprintf(cfg, sizeof(cfg), "%s/%s.json", dir, name);
	snprintf(db, sizeof(db), "%s/%s.db", dir, name);
	eb_buf_init(&b, 0);
	eb_buf_addf(&b,
		    "{ \"name\": \"%s\",\n"
		    "  \"targets\": [ { \"id\": \"vendor\", \"adapter\": \"exec\", \"options\": {\n"
		    "     \"argv\": %s,\n"
		    "     \"stream\": \"%s\", \"timeout_s\": 30 } } ],\n"
		    "  \"models\": [ { \"id\": \"m\", \"variants\": [\n"
		    "     { \"quant\": \"int4\", \"model_name\": \"m-int4\" } ] } ],\n"
		    "  \"workloads\": { \"latency\": { \"prompt_tokens\": [16], \"gen_tokens\": 32,\n"
		    "     \"warmup\": 1, \"repetitions\": 2 } } }\n",
		    name, argv_json, stream);
	ck_assert_msg(eb_write_file(cfg, b.buf, b.len, &err) == 0, "%s", err.msg);
	eb_buf_release(&b);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, NULL };

		rc = eb_test_run(argv, out);
	}
	ck_assert_msg(rc == 0, "exit %d: %s", rc, *out);
	return eb_test_db_open(db);
}

/* fake_vendor.py printing 32 tokens 10 ms apart in MODE, through eb_exec_cell_run. */
static sqlite3 *eb_vendor_run(const char *dir, const char *name, const char *mode,
			      const char *stream, char **out)
{
	char script[4096], argv[8192];

	eb_test_data("exec/fake_vendor.py", script, sizeof(script));
	snprintf(argv, sizeof(argv), "[\"python3\", \"%s\", \"{max_tokens}\", \"%s\"]", script,
		 mode);
	return eb_exec_cell_run(dir, name, argv, stream, out);
}

/*
 * The adapter's own warning for a request (here: a child kept stdout open after the
 * program exited) reaches the cell's warnings and run's output, not only the request's
 * server_json.
 */
START_TEST(adapter_warning_reaches_the_cell)
{
	char dir[4096], *out = NULL, *w;
	sqlite3 *h;

	eb_test_tmpdir("exec-adapter-warn", dir, sizeof(dir));
	h = eb_exec_cell_run(dir, "bg",
			     "[\"/bin/sh\", \"-c\", \"sleep 30 & echo tok; exit 0\"]", "lines",
			     &out);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='ok'"), 1);
	w = eb_test_qs(h, "SELECT warnings_json FROM cells");
	ck_assert_msg(strstr(w, "2 of 2 requests: exec: ") && strstr(w, "kept stdout or stderr open"),
		      "%s", w);
	ck_assert_msg(strstr(out, "kept stdout or stderr open"), "%s", out);
	free(w);
	free(out);
	sqlite3_close(h);
}
END_TEST

/*
 * A vendor program writing through a full block buffer (stdio and Python on a pipe by default): all 32
 * tokens reach edgebench in one read at exit. TTFT, prefill, decode and ITL are withheld
 * (NULL) with a warning that says how to line-buffer; E2E stands. The same program
 * unbuffered gets every figure. Without tokens_regex the token count is unknown (NULL),
 * never 0, and so is each event's.
 */
START_TEST(block_buffered_output_is_caught)
{
	char dir[4096], *out = NULL, *w;
	sqlite3 *h;

	EB_TEST_SKIP_IF(eb_test_lacks_python());
	eb_test_tmpdir("exec-buffered", dir, sizeof(dir));
	h = eb_vendor_run(dir, "buffered", "block", "lines", &out);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='ok'"), 1);
	w = eb_test_qs(h, "SELECT warnings_json FROM cells");
	ck_assert_msg(strstr(w, "came through a buffer") && strstr(w, "stdbuf -oL") &&
			      strstr(w, "PYTHONUNBUFFERED=1"),
		      "%s", w);
	/* run prints it as the cell finishes */
	ck_assert_msg(strstr(out, "came through a buffer"), "%s", out);
	free(w);
	free(out);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM requests WHERE warmup=0"), 2);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM requests WHERE ttft_ns IS NOT NULL OR"
				    " prefill_tps IS NOT NULL OR decode_tps IS NOT NULL"), 0);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM requests WHERE e2e_ns > 300e6"), 3);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM metrics WHERE name IN"
				    " ('ttft_ms','prefill_tps','decode_tps','tpot_ms','itl_ms')"), 0);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM metrics WHERE name='e2e_ms'"), 1);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM requests WHERE n_out IS NOT NULL"), 0);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM token_times"), 0);
	sqlite3_close(h);

	/* line-buffered, as the warning advises: 32 events 10 ms apart, every figure */
	h = eb_vendor_run(dir, "unbuffered", "lines", "lines", &out);
	free(out);
	w = eb_test_qs(h, "SELECT coalesce(warnings_json, '') FROM cells");
	ck_assert_msg(!strstr(w, "buffer"), "%s", w);
	free(w);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM requests WHERE NOT"
				    " (ttft_ns > 0 AND ttft_ns < e2e_ns - 200e6)"), 0);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM metrics WHERE name IN"
				    " ('ttft_ms','itl_ms','e2e_ms')"), 3);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM token_times"), 3 * 32);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM token_times WHERE n_tokens IS NOT NULL"),
			    0);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM requests WHERE n_out IS NOT NULL"), 0);
	sqlite3_close(h);

	/* stream lines, a program that flushes every token but never ends its line: the only
	 * event is the end of the output */
	h = eb_vendor_run(dir, "nonl", "nonl", "lines", &out);
	free(out);
	w = eb_test_qs(h, "SELECT warnings_json FROM cells");
	ck_assert_msg(strstr(w, "came through a buffer"), "%s", w);
	free(w);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM requests WHERE ttft_ns IS NOT NULL"), 0);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM metrics WHERE name='ttft_ms'"), 0);
	sqlite3_close(h);
}
END_TEST

/*
 * An RZ/V2L app can be scored: mmlu-gen and gsm8k-gen through `edgebench run` with the
 * exec adapter, the app (tests/data/exec/fake_drpai.sh, mode answer) answering "The
 * answer is B" to every question and "#### 10" to every problem; its figures line and
 * stderr are not part of the reply. The samples' golds give acc 3/8 (three B) and one
 * problem of eight whose answer is 10.
 */
START_TEST(accuracy_items_through_exec)
{
	char db[8192], *reply;
	struct eb_buf b;
	sqlite3 *h;

	eb_paths();
	eb_buf_init(&b, 0);
	eb_buf_addf(&b,
		    "{ \"name\": \"exec-acc\",\n"
		    "  \"targets\": [ { \"id\": \"drpai\", \"adapter\": \"exec\", \"options\": {\n"
		    "     \"argv\": [\"%s\", \"{max_tokens}\", \"{prompt_file}\"],\n"
		    "     \"env\": { \"EB_FAKE_MODE\": \"answer\" }, \"timeout_s\": 30,\n"
		    "     \"tokens_regex\": \"^generated ([0-9]+) tokens\" } } ],\n"
		    "  \"models\": [ { \"id\": \"llama2-7b\", \"variants\": [\n"
		    "     { \"quant\": \"int4\", \"model_name\": \"llama2-7b-int4\" } ] } ],\n"
		    "  \"workloads\": { \"accuracy\": { \"tasks\": [\n"
		    "     { \"task\": \"mmlu\", \"protocol\": \"mmlu-gen\", \"file\": \"%s\" },\n"
		    "     { \"task\": \"gsm8k\", \"protocol\": \"gsm8k-gen\", \"file\": \"%s\" } ] } } }\n",
		    eb_script, EB_SOURCE_DIR "/datasets/samples/edge_computing_test.csv",
		    EB_SOURCE_DIR "/datasets/samples/gsm8k_sample.jsonl");
	eb_test_run_config("exec-acc", b.buf, db, sizeof(db));
	eb_buf_release(&b);
	h = eb_test_db_open(db);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='ok'"), 2);
	ck_assert_double_eq(eb_test_q(h, "SELECT value FROM accuracy WHERE task='mmlu' AND "
				    "metric='acc'"),
			    3.0 / 8.0);
	ck_assert_double_eq(eb_test_q(h, "SELECT value FROM accuracy WHERE task='gsm8k' AND "
				    "metric='exact_match_strict'"),
			    1.0 / 8.0);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM acc_samples"), 16);
	reply = eb_test_qs(h, "SELECT json_extract(result_json, '$.reply') FROM acc_samples "
			      "WHERE task='mmlu' AND idx=0");
	ck_assert_str_eq(reply, "The answer is B\n");
	free(reply);
	/* the app's own count of generated tokens, kept with each item */
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM acc_samples WHERE "
				    "json_extract(result_json, '$.n_out') <> 4"),
			    0);
	sqlite3_close(h);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("exec");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bytes_stream_and_figures);
	tcase_add_test(tc, lines_and_none_modes);
	tcase_add_test(tc, prompt_reaches_program_verbatim);
	tcase_add_test(tc, nonzero_exit_and_signal);
	tcase_add_test(tc, timeout_kills_the_group);
	tcase_add_test(tc, stop_kills_the_program);
	tcase_add_test(tc, bad_options_fail_open);
	tcase_add_test(tc, through_the_run_loop);
	tcase_add_test(tc, block_buffered_output_is_caught);
	tcase_add_test(tc, background_child_does_not_hold_the_wait);
	tcase_add_test(tc, adapter_warning_reaches_the_cell);
	tcase_add_test(tc, parser_regex_is_bounded);
	tcase_add_test(tc, endless_output_is_cut_off);
	tcase_add_test(tc, accuracy_items_through_exec);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
