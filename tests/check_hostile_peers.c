/* ctest: labels=integration,serial timeout=240 */
/* check_hostile_peers.c: servers and programs that never stop, stall, or send too much: every wait hears a stop, memory stays bounded, nothing is left behind (issue 15). */
#include "adapter.h"
#include "eb_clock.h"
#include "eb_proc.h"
#include "eb_util.h"
#include "mockhttp.h"
#include "testutil.h"

#include <dirent.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char eb_dir[4096];

/* What the openai and ollama paths of the mock do, set before a request. */
enum { EB_TOK_STALL, EB_TOK_FLAT, EB_TOK_HUGE, EB_GEN_ENDLESS };
static volatile int eb_mode;
static volatile int eb_saw_long_tokenize;
static char *eb_huge;  /* the body of EB_TOK_HUGE, built before measuring */

/* Chunks an endless stream sends at most, so that a test that fails still ends. */
#define EB_ENDLESS_CHUNKS 200000

static void eb_endless(int fd, int sse)
{
	static const char hdr_sse[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
				      "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
	static const char hdr_nd[] = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
				     "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
	static const char oai[] = "data: {\"choices\":[{\"index\":0,\"text\":\" y\","
				  "\"finish_reason\":null}]}\n\n";
	static const char oll[] = "{\"model\":\"llama3.2\",\"response\":\" y\",\"done\":false}\n";

	if (eb_mock_send_all(fd, sse ? hdr_sse : hdr_nd, sse ? sizeof(hdr_sse) - 1 : sizeof(hdr_nd) - 1))
		return;
	for (int k = 0; k < EB_ENDLESS_CHUNKS; k++)
		if (eb_mock_send_chunk(fd, sse ? oai : oll, sse ? sizeof(oai) - 1 : sizeof(oll) - 1))
			return;
	eb_mock_send_all(fd, "0\r\n\r\n", 5);
}

/*
 * /tokenize: "" is one token (a BOS), a short text one more; a long text (the prompt
 * builder's corpus) stalls, or always answers three tokens, by eb_mode. Generation
 * paths stream without end with EB_GEN_ENDLESS.
 */
static int eb_handle(struct eb_mock *m, int fd, const char *path, const char *body, size_t len)
{
	if (strcmp(path, "/tokenize") == 0) {
		if (strstr(body, "\"content\":\"\"")) {
			eb_mock_respond(fd, "200 OK", "application/json", "{\"tokens\":[1]}");
		} else if (eb_mode == EB_TOK_HUGE) {
			eb_mock_respond(fd, "200 OK", "application/json", eb_huge);
		} else if (len < 300) {
			eb_mock_respond(fd, "200 OK", "application/json", "{\"tokens\":[2]}");
		} else if (eb_mode == EB_TOK_STALL) {
			eb_saw_long_tokenize = 1;
			eb_mock_stall(m, fd);
		} else {
			eb_saw_long_tokenize = 1;
			eb_mock_respond(fd, "200 OK", "application/json", "{\"tokens\":[5,6,7]}");
		}
		return 1;
	}
	if (strcmp(path, "/detokenize") == 0) {
		eb_mock_respond(fd, "200 OK", "application/json", "{\"content\":\"Hello\"}");
		return 1;
	}
	if (eb_mode == EB_GEN_ENDLESS &&
	    (strcmp(path, "/v1/completions") == 0 || strcmp(path, "/api/generate") == 0)) {
		eb_endless(fd, strcmp(path, "/v1/completions") == 0);
		return 1;
	}
	return 0;
}

/* --- edgebench as a separate process ----------------------------------------------- */

/*
 * Starts `edgebench run CFG --db DB` with TMPDIR set to DIR/tmp and its output in
 * DIR/log; returns its pid (the sh execs it, so signals reach edgebench itself).
 */
static void eb_start_run(struct eb_proc *p, const char *cfg, const char *db)
{
	char script[16384], tmpenv[4200];
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	const char *env[] = { tmpenv, NULL };
	struct eb_err err;

	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s/tmp", eb_dir);
	snprintf(script, sizeof(script), "mkdir -p '%s/tmp' && exec '%s' run '%s' --db '%s' --quiet "
					 "> '%s/log' 2>&1",
		 eb_dir, EB_TEST_BIN, cfg, db, eb_dir);
	ck_assert_msg(eb_proc_start(p, argv, env, EB_PROC_NULL_IN, &err) == 0, "%s", err.msg);
}

/* Waits up to `secs` for the run to end (then kills it); its wait status, -1 if killed. */
static int eb_wait_run(struct eb_proc *p, double secs, double *took)
{
	uint64_t t0 = eb_clock_ns();
	int st = 0;

	if (eb_proc_wait_until(p, t0 + (uint64_t)(secs * 1e9), &st) != 1) {
		eb_proc_stop(p, 100000000ull, &st);
		*took = (eb_clock_ns() - t0) / 1e9;
		return -1;
	}
	*took = (eb_clock_ns() - t0) / 1e9;
	return st;
}

static char *eb_log(void)
{
	char path[4200], *s = NULL;
	struct eb_err err;
	size_t len;

	snprintf(path, sizeof(path), "%s/log", eb_dir);
	if (eb_read_file(path, 1 << 20, &s, &len, &err) != 0)
		return eb_xstrdup("(no log)");
	return s;
}

/* The first cell error stored in `db`, "" when none (caller frees). */
static char *eb_cell_error(const char *db)
{
	sqlite3 *h;
	sqlite3_stmt *q;
	char *e = NULL;

	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT error FROM cells WHERE error IS NOT NULL "
					       "ORDER BY id LIMIT 1", -1, &q, NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		e = eb_xstrdup((const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	sqlite3_close(h);
	return e ? e : eb_xstrdup("");
}

static void eb_openai_config(const char *cfg, int port, double timeout_s)
{
	struct eb_buf b;
	struct eb_err err;

	eb_buf_init(&b, 0);
	eb_buf_addf(&b,
		    "{ \"name\": \"hostile\",\n"
		    "  \"targets\": [ { \"id\": \"srv\", \"adapter\": \"openai\", \"options\": {\n"
		    "      \"base_url\": \"http://127.0.0.1:%d\", \"tokenize\": \"on\",\n"
		    "      \"timeout_s\": %g, \"retries\": 0 } } ],\n"
		    "  \"models\": [ { \"id\": \"m\", \"variants\": [\n"
		    "    { \"quant\": \"q4\", \"model_name\": \"llama3.2\" } ] } ],\n"
		    "  \"workloads\": { \"latency\": { \"prompt_tokens\": [64], \"gen_tokens\": 4,\n"
		    "    \"warmup\": 0, \"repetitions\": 1 } } }\n",
		    port, timeout_s);
	ck_assert_msg(eb_write_file(cfg, b.buf, b.len, &err) == 0, "%s", err.msg);
	eb_buf_release(&b);
}

/*
 * A /tokenize that stalls while the prompt is built: SIGTERM ends the run at once (the
 * request hears the same stop flag as generation), not at timeout_s.
 */
START_TEST(tokenize_hears_the_signal)
{
	char cfg[4200], db[4200], *log;
	struct eb_proc p;
	struct eb_mock m;
	double took;
	int st;

	eb_test_tmpdir("hostile-tokstall", eb_dir, sizeof(eb_dir));
	snprintf(cfg, sizeof(cfg), "%s/c.json", eb_dir);
	snprintf(db, sizeof(db), "%s/r.db", eb_dir);
	eb_mock_start(&m, "streams/ollama-generate.ndjson");
	m.handle = eb_handle;
	eb_mode = EB_TOK_STALL;
	eb_saw_long_tokenize = 0;
	eb_openai_config(cfg, m.port, 40);
	eb_start_run(&p, cfg, db);
	for (int i = 0; i < 1000 && !eb_saw_long_tokenize; i++)
		eb_clock_sleep_ns(10000000ull, NULL);
	ck_assert_msg(eb_saw_long_tokenize, "the prompt builder never asked /tokenize");
	eb_clock_sleep_ns(200000000ull, NULL);
	eb_proc_kill(&p, SIGTERM);
	st = eb_wait_run(&p, 30, &took);
	log = eb_log();
	ck_assert_msg(st != -1 && took < 10, "still running %.1f s after SIGTERM: %s", took, log);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 3, "status %#x: %s", st, log);
	free(log);
	eb_mock_stop(&m);
}
END_TEST

/*
 * A /tokenize whose count stops growing as the corpus grows: the prompt builder stops
 * and the cell says what the server did, instead of asking for ever.
 */
START_TEST(tokenize_count_that_stops_growing)
{
	char cfg[4200], db[4200], *log, *e;
	struct eb_proc p;
	struct eb_mock m;
	double took;
	int st;

	eb_test_tmpdir("hostile-tokflat", eb_dir, sizeof(eb_dir));
	snprintf(cfg, sizeof(cfg), "%s/c.json", eb_dir);
	snprintf(db, sizeof(db), "%s/r.db", eb_dir);
	eb_mock_start(&m, "streams/ollama-generate.ndjson");
	m.handle = eb_handle;
	eb_mode = EB_TOK_FLAT;
	eb_openai_config(cfg, m.port, 5);
	eb_start_run(&p, cfg, db);
	st = eb_wait_run(&p, 40, &took);
	log = eb_log();
	ck_assert_msg(st != -1, "still building the prompt after %.1f s: %s", took, log);
	e = eb_cell_error(db);
	ck_assert_msg(strstr(e, "stopped growing"), "cell error '%s'; log: %s", e, log);
	free(e);
	free(log);
	eb_mock_stop(&m);
}
END_TEST

/* --- memory ------------------------------------------------------------------------ */

/* The peak resident size of this process so far, in kB (VmHWM). */
static long eb_vmhwm_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static long eb_vmrss_kb(void)
{
	return (long)eb_test_vmrss_kb((int)getpid());
}

static void *eb_open_openai(const struct eb_adapter_ops *ops, int port, json_t **opts)
{
	struct eb_adapter_args a = { .target_id = "t", .model_id = "m", .quant = "q",
				     .model_name = "llama3.2" };
	char url[64];
	struct eb_err err;
	void *st = NULL;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	*opts = json_pack("{s:s, s:s, s:f, s:i}", "base_url", url, "tokenize", "on", "timeout_s",
			  20.0, "retries", 0);
	a.options = *opts;
	ck_assert_msg(ops->open(&a, &st, &err) == 0, "%s", err.msg);
	return st;
}

/*
 * A /tokenize of a short text answered with 8 MB of tokens: refused before it is parsed
 * (jansson takes ~50 bytes a token), so the peak resident size grows by less than the
 * stated cap allows. Both figures go to stderr.
 */
START_TEST(tokenize_body_cannot_multiply_memory)
{
	const struct eb_adapter_ops *ops = eb_adapter_find("openai");
	struct eb_mock m;
	struct eb_buf b;
	struct eb_err err;
	int32_t *tok = NULL;
	size_t n_tok = 0;
	json_t *opts;
	long rss0, hwm;
	void *st;
	int rc;

	eb_buf_init(&b, 0);
	eb_buf_addstr(&b, "{\"tokens\":[1");
	while (b.len < ((size_t)8 << 20))
		eb_buf_addstr(&b, ",1");
	eb_buf_addstr(&b, "]}");
	eb_huge = b.buf;
	eb_mock_start(&m, "streams/ollama-generate.ndjson");
	m.handle = eb_handle;
	eb_mode = EB_TOK_STALL;
	st = eb_open_openai(ops, m.port, &opts);
	eb_mode = EB_TOK_HUGE;
	rss0 = eb_vmrss_kb();
	rc = ops->tokenize(st, "Hello world", 0, &tok, &n_tok, &err);
	hwm = eb_vmhwm_kb();
	fprintf(stderr, "tokenize of 11 bytes answered with 8 MiB: rc %d, %zu tokens, peak RSS "
			"%ld kB over %ld kB before (%s)\n",
		rc, n_tok, hwm - rss0, rss0, rc ? err.msg : "accepted");
	ck_assert_int_eq(rc, EB_EPROTO);
	ck_assert_msg(strstr(err.msg, "larger than"), "%s", err.msg);
	ck_assert_msg(hwm - rss0 < 48 * 1024, "peak RSS grew by %ld kB", hwm - rss0);
	free(tok);
	ops->close(st);
	json_decref(opts);
	eb_mock_stop(&m);
	eb_buf_release(&b);
}
END_TEST

struct eb_count {
	long n;
};

static int eb_count_cb(void *ud, uint64_t t_ns, int n_tokens)
{
	((struct eb_count *)ud)->n++;
	return 0;
}

/*
 * An endless stream (SSE for openai, NDJSON for ollama) for 4 tokens: reading stops once
 * 2 x 4 + 1024 tokens have come, with an error saying so; token times are not kept for
 * ever.
 */
START_TEST(endless_streams_stop_past_gen_tokens)
{
	static const char *const names[] = { "openai", "ollama" };
	struct eb_mock m;

	eb_mock_start(&m, "streams/ollama-generate.ndjson");
	m.handle = eb_handle;
	for (int i = 0; i < 2; i++) {
		const struct eb_adapter_ops *ops = eb_adapter_find(names[i]);
		struct eb_adapter_args a = { .target_id = "t", .model_id = "m", .quant = "q",
					     .model_name = "llama3.2" };
		struct eb_count cnt = { 0 };
		struct eb_gen_req rq = { .prompt_text = "x", .n_predict = 4, .on_token = eb_count_cb,
					 .ud = &cnt };
		struct eb_gen_res res = { 0, -1, -1, NULL, -1, 0, NULL };
		struct eb_err err;
		char url[64];
		json_t *opts;
		void *st = NULL;
		int rc;

		snprintf(url, sizeof(url), "http://127.0.0.1:%d", m.port);
		opts = i == 0 ? json_pack("{s:s, s:s, s:f}", "base_url", url, "tokenize", "off",
					  "timeout_s", 60.0)
			      : json_pack("{s:s, s:f}", "base_url", url, "timeout_s", 60.0);
		a.options = opts;
		eb_mode = EB_GEN_ENDLESS;
		ck_assert_msg(ops->open(&a, &st, &err) == 0, "%s: %s", names[i], err.msg);
		rc = ops->generate(st, &rq, &res, &err);
		ck_assert_msg(cnt.n <= 2 * 4 + 1024 + 1, "%s: %ld token callbacks", names[i], cnt.n);
		ck_assert_msg(rc == EB_EPROTO && strstr(err.msg, "more than 1032 tokens"),
			      "%s: rc %d: %s", names[i], rc, rc ? err.msg : "");
		json_decref(res.server);
		ops->close(st);
		json_decref(opts);
	}
	eb_mock_stop(&m);
}
END_TEST

/* --- exec: nothing left behind --------------------------------------------------- */

/*
 * Files in DIR/sub whose names start with `prefix`: how many (at most max); with `nums`,
 * only those whose name goes on with a number, stored there.
 */
static int eb_dir_files(const char *sub, const char *prefix, long long *nums, int max)
{
	char path[4200];
	struct dirent *de;
	size_t len = strlen(prefix);
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", eb_dir, sub);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) && n < max)
		if (strncmp(de->d_name, prefix, len) == 0 &&
		    (!nums || eb_parse_ll(de->d_name + len, 2, 1LL << 31, &nums[n]) == 0))
			n++;
	closedir(d);
	return n;
}

/* Files named edgebench-prompt-* left in DIR/tmp. */
static int eb_prompt_files_left(void)
{
	return eb_dir_files("tmp", "edgebench-prompt-", NULL, 1 << 30);
}

/*
 * Sends sig1, then sig2 (0: none) 100 ms later, to the run `p` started: it must exit 3 with
 * the run stored as interrupted in `db`, and leave neither the n process groups in `pgids`
 * nor a {prompt_file} behind. Returns the seconds from sig1 to the exit.
 */
static double eb_two_signals_leave_nothing(struct eb_proc *p, const char *name, int sig1,
					   int sig2, const char *db, const long long *pgids, int n)
{
	uint64_t t0 = eb_clock_ns();
	double took;
	char *log;
	int st;

	eb_proc_kill(p, sig1);
	if (sig2) {
		eb_clock_sleep_ns(100000000ull, NULL);
		eb_proc_kill(p, sig2);
	}
	st = eb_wait_run(p, 30, &took);
	log = eb_log();
	ck_assert_msg(st != -1, "edgebench still runs after signals %d, %d: %s", sig1, sig2, log);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 3, "%s: wait status %d: %s", name, st,
		      log);
	for (int i = 0; i < n; i++)
		ck_assert_msg(eb_test_pgrp_gone((pid_t)pgids[i]), "the program's group %lld still "
								   "runs", pgids[i]);
	ck_assert_msg(eb_prompt_files_left() == 0, "a {prompt_file} was left in TMPDIR");
	free(log);
	{
		sqlite3 *h = eb_test_db_open(db);
		char *rs = eb_test_qs(h, "SELECT status FROM runs");

		ck_assert_str_eq(rs, "interrupted");
		free(rs);
		sqlite3_close(h);
	}
	return (eb_clock_ns() - t0) / 1e9;
}

/*
 * Two signals (SIGINT twice, SIGHUP twice, SIGTERM then SIGHUP) while an exec program (its
 * own process group, ignoring SIGTERM) runs with a {prompt_file}: edgebench stores the run
 * as interrupted and exits 3, and neither the program's group nor the temporary file
 * outlives it.
 */
static void eb_exec_two_signals(const char *name, int sig1, int sig2)
{
	char cfg[4200], db[4200], pidf[4300], *pid_s = NULL;
	struct eb_proc p;
	struct eb_buf b;
	struct eb_err err;
	long long pid = 0;
	size_t len;

	eb_test_tmpdir(name, eb_dir, sizeof(eb_dir));
	snprintf(cfg, sizeof(cfg), "%s/c.json", eb_dir);
	snprintf(db, sizeof(db), "%s/r.db", eb_dir);
	snprintf(pidf, sizeof(pidf), "%s/pid", eb_dir);
	eb_buf_init(&b, 0);
	eb_buf_addf(&b,
		    "{ \"name\": \"exec-signal\",\n"
		    "  \"targets\": [ { \"id\": \"app\", \"adapter\": \"exec\", \"options\": {\n"
		    "      \"argv\": [\"/bin/sh\", \"-c\", \"trap '' TERM; printf %%s $$ > '%s'; exec sleep 30\",\n"
		    "                 \"{prompt_file}\"], \"timeout_s\": 60 } } ],\n"
		    "  \"models\": [ { \"id\": \"m\", \"variants\": [\n"
		    "    { \"quant\": \"q4\", \"model_name\": \"x\" } ] } ],\n"
		    "  \"workloads\": { \"latency\": { \"prompt_tokens\": [16], \"gen_tokens\": 4,\n"
		    "    \"warmup\": 0, \"repetitions\": 1 } } }\n",
		    pidf);
	ck_assert_msg(eb_write_file(cfg, b.buf, b.len, &err) == 0, "%s", err.msg);
	eb_buf_release(&b);
	eb_start_run(&p, cfg, db);
	for (int i = 0; i < 1000; i++) {
		if (eb_read_file(pidf, 64, &pid_s, &len, &err) == 0 && len > 0)
			break;
		free(pid_s);
		pid_s = NULL;
		eb_clock_sleep_ns(10000000ull, NULL);
	}
	ck_assert_msg(pid_s, "the program never started");
	ck_assert_int_eq(eb_parse_ll(pid_s, 2, 1LL << 31, &pid), 0);
	free(pid_s);
	ck_assert_int_eq(eb_prompt_files_left(), 1);
	eb_two_signals_leave_nothing(&p, name, sig1, sig2, db, &pid, 1);
}

START_TEST(exec_cleaned_after_second_signal)
{
	eb_exec_two_signals("hostile-exec-sigint", SIGINT, SIGINT);
	eb_exec_two_signals("hostile-exec-sighup", SIGHUP, SIGHUP);
	eb_exec_two_signals("hostile-exec-sigterm-hup", SIGTERM, SIGHUP);
}
END_TEST

/*
 * A load cell on exec, four programs at once (each its own process group, ignoring
 * SIGTERM, with a {prompt_file}), gets SIGINT and then `sig2` (0: none): edgebench exits 3
 * with the run stored as interrupted, and none of the four groups nor their prompt files
 * outlives it. Returns the seconds from the first signal to the exit.
 */
static double eb_exec_load_signals(const char *name, int sig2)
{
	char cfg[4200], db[4200], pids_dir[4200];
	long long pids[8];
	struct eb_proc p;
	struct eb_buf b;
	struct eb_err err;
	int n = 0;

	eb_test_tmpdir(name, eb_dir, sizeof(eb_dir));
	snprintf(cfg, sizeof(cfg), "%s/c.json", eb_dir);
	snprintf(db, sizeof(db), "%s/r.db", eb_dir);
	snprintf(pids_dir, sizeof(pids_dir), "%s/pids", eb_dir);
	ck_assert_int_eq(mkdir(pids_dir, 0755), 0);
	eb_buf_init(&b, 0);
	eb_buf_addf(&b,
		    "{ \"name\": \"exec-load-signal\",\n"
		    "  \"targets\": [ { \"id\": \"app\", \"adapter\": \"exec\", \"options\": {\n"
		    "      \"argv\": [\"/bin/sh\", \"-c\", \"trap '' TERM; : > '%s/pid.'$$; exec sleep 30\",\n"
		    "                 \"{prompt_file}\"], \"timeout_s\": 60 } } ],\n"
		    "  \"models\": [ { \"id\": \"m\", \"variants\": [\n"
		    "    { \"quant\": \"q4\", \"model_name\": \"x\" } ] } ],\n"
		    "  \"workloads\": { \"load\": { \"concurrency\": [4], \"requests\": 4,\n"
		    "    \"warmup\": 0, \"prompt_tokens\": 16, \"gen_tokens\": 4 } } }\n",
		    pids_dir);
	ck_assert_msg(eb_write_file(cfg, b.buf, b.len, &err) == 0, "%s", err.msg);
	eb_buf_release(&b);
	eb_start_run(&p, cfg, db);
	for (int i = 0; i < 1000 && n < 4; i++) {
		eb_clock_sleep_ns(10000000ull, NULL);
		n = eb_dir_files("pids", "pid.", pids, 8); /* each program made pid.PID */
	}
	ck_assert_msg(n == 4, "%d of the 4 programs started", n);
	ck_assert_int_eq(eb_prompt_files_left(), 4);
	return eb_two_signals_leave_nothing(&p, name, SIGINT, sig2, db, pids, n);
}

/*
 * Two SIGINTs end the load cell's programs at once; one SIGINT stops them gracefully, all
 * four in one grace period of 2 s (SIGTERM is ignored, then SIGKILL), not one after another
 * (8 s).
 */
START_TEST(exec_load_cleaned_after_signals)
{
	double took;

	eb_exec_load_signals("hostile-exec-load-sigint2", SIGINT);
	took = eb_exec_load_signals("hostile-exec-load-sigint", 0);
	ck_assert_msg(took < 4.5, "one SIGINT: %.2f s to stop four programs", took);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("hostile_peers");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, tokenize_hears_the_signal);
	tcase_add_test(tc, tokenize_count_that_stops_growing);
	tcase_add_test(tc, tokenize_body_cannot_multiply_memory);
	tcase_add_test(tc, endless_streams_stop_past_gen_tokens);
	tcase_add_test(tc, exec_cleaned_after_second_signal);
	tcase_add_test(tc, exec_load_cleaned_after_signals);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
