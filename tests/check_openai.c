/* ctest: labels=integration,models,serial timeout=300 */
/* check_openai.c: the openai adapter against a real llama-server on loopback: counts, timings, failures, and the run loop. */
#include "adapter.h"
#include "http.h"
#include "eb_clock.h"
#include "eb_util.h"
#include "eb_build.h"
#include "mockhttp.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* --- llama-server processes that never outlive the test ---------------------------- */

/*
 * Every server is started with PR_SET_PDEATHSIG (it gets SIGKILL when the process that
 * started it dies, however it dies) and is also listed here for the atexit/signal
 * handlers; an entry is only acted on by the process that started it, because Check
 * forks a child per test and children inherit the list.
 */
#define EB_MAX_SERVERS 8

struct eb_server {
	pid_t pid;
	pid_t owner;
	int port;
	char log[4096];
};

static struct eb_server eb_servers[EB_MAX_SERVERS];

static void eb_kill_servers(void)
{
	for (int i = 0; i < EB_MAX_SERVERS; i++)
		if (eb_servers[i].pid > 0 && eb_servers[i].owner == getpid()) {
			kill(eb_servers[i].pid, SIGKILL);
			waitpid(eb_servers[i].pid, NULL, 0);
			eb_servers[i].pid = 0;
		}
}

static void eb_on_fatal(int sig)
{
	eb_kill_servers();
	signal(sig, SIG_DFL);
	raise(sig);
}

static char eb_server_bin[4096]; /* llama-server of the llama.cpp build */

static const char *eb_model(char *buf, size_t n)
{
	snprintf(buf, n, "%s/tiny-q8_0.gguf", eb_test_models_dir());
	ck_assert_msg(access(buf, R_OK) == 0, "no test model '%s' (run ctest -R synth_test_models)",
		      buf);
	return buf;
}

static char *eb_log_tail(const char *path)
{
	struct eb_err err;
	char *data = NULL;
	size_t len;

	if (eb_read_file(path, 64u << 20, &data, &len, &err) != 0)
		return eb_xstrdup("(no log)");
	if (len > 1500)
		memmove(data, data + len - 1500, 1501);
	return data;
}

/* Starts llama-server on 127.0.0.1:port with the tiny model; returns its slot. */
static struct eb_server *eb_server_start(int port, const char *tag)
{
	static int handlers;
	char bin[4096], model[4096], port_s[16], dir[4096];
	struct eb_server *s = NULL;
	pid_t parent = getpid();
	pid_t pid;

	if (!handlers) {
		atexit(eb_kill_servers);
		signal(SIGTERM, eb_on_fatal);
		signal(SIGINT, eb_on_fatal);
		signal(SIGABRT, eb_on_fatal);
		handlers = 1;
	}
	for (int i = 0; i < EB_MAX_SERVERS && !s; i++)
		if (eb_servers[i].pid <= 0 || eb_servers[i].owner != parent)
			s = &eb_servers[i];
	ck_assert_ptr_nonnull(s);
	snprintf(bin, sizeof(bin), "%s", eb_server_bin);
	ck_assert_msg(access(bin, X_OK) == 0, "no llama-server at '%s'", bin);
	eb_model(model, sizeof(model));
	snprintf(port_s, sizeof(port_s), "%d", port);
	snprintf(dir, sizeof(dir), "%s/../work", eb_test_models_dir());
	snprintf(s->log, sizeof(s->log), "%s/openai-server-%s-%ld.log", dir, tag, (long)parent);
	{
		struct eb_err err;

		ck_assert_msg(eb_mkdirs(dir, &err) == 0, "%s", err.msg);
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		const char *argv[] = { bin, "-m", model, "-c", "512", "-t", "1", "-np", "1",
				       "--host", "127.0.0.1", "--port", port_s, "--no-webui",
				       NULL };
		int fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int nul = open("/dev/null", O_RDONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (nul >= 0)
			dup2(nul, 0);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGABRT, SIG_DFL);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	s->pid = pid;
	s->owner = parent;
	s->port = port;
	return s;
}

/* Waits until GET /health answers 200; fails the test with the log if the server died. */
static void eb_server_ready(struct eb_server *s)
{
	const struct eb_opt table[] = { EB_HTTP_OPTIONS("http://127.0.0.1"), { NULL } };
	struct eb_http h;
	struct eb_err err;
	char url[64];
	json_t *opts;
	uint64_t t0 = eb_clock_ns();

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", s->port);
	opts = json_pack("{s:s, s:i, s:f}", "base_url", url, "retries", 0, "timeout_s", 2.0);
	ck_assert_int_eq(eb_http_init(&h, "test", opts, table, &err), 0);
	for (;;) {
		json_t *j = NULL;
		long st = 0;
		int status;

		if (eb_http_json(&h, "/health", NULL, &j, &st, &err) == 0 && st == 200) {
			json_decref(j);
			break;
		}
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			char *tail = eb_log_tail(s->log);

			s->pid = 0;
			ck_abort_msg("llama-server exited (status %d): %s", status, tail);
		}
		ck_assert_msg(eb_clock_ns() - t0 < 90000000000ull, "llama-server not ready in 90 s");
		eb_clock_sleep_ns(100000000ull, NULL);
	}
	eb_http_release(&h);
	json_decref(opts);
}

static void eb_server_stop(struct eb_server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = 0;
}

/* The shared server: started in Check's parent process, before the tests fork. */
static struct eb_server *eb_shared;
static int eb_shared_port;

static void eb_setup(void)
{
	eb_shared_port = eb_test_free_port();
	eb_shared = eb_server_start(eb_shared_port, "shared");
	eb_server_ready(eb_shared);
}

static void eb_teardown(void)
{
	if (eb_shared)
		eb_server_stop(eb_shared);
}

/* --- driving the adapter ----------------------------------------------------------- */

static json_t *eb_opts_for(int port)
{
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1", port); /* "/v1" is dropped */
	return json_pack("{s:s, s:i, s:f}", "base_url", url, "retries", 0, "timeout_s", 60.0);
}

static void *eb_open(const json_t *opts)
{
	const struct eb_adapter_ops *ops = eb_adapter_find("openai");
	struct eb_adapter_args a = { .target_id = "t", .model_id = "m", .quant = "q8_0",
				     .model_name = "tiny", .options = opts, .seed = 1 };
	struct eb_err err;
	void *st = NULL;

	ck_assert_ptr_nonnull(ops);
	ck_assert_msg(ops->open(&a, &st, &err) == 0, "%s", err.msg);
	return st;
}

/* A prompt of exactly n tokens under the server's tokenizer (BOS + corpus text). */
static char *eb_prompt(void *st, int n)
{
	const struct eb_adapter_ops *ops = eb_adapter_find("openai");
	static const char text[] =
		"Edge devices run language models under tight limits of memory, power and heat. "
		"A benchmark has to measure the time to the first token, the rate of decoding, "
		"the energy spent per token and the accuracy lost to quantization, all with one "
		"clock and one definition for every backend, so that numbers can be compared. ";
	int32_t *pre = NULL, *body = NULL, *all;
	size_t npre = 0, nbody = 0;
	struct eb_err err;
	char *out = NULL;
	struct eb_buf b;

	eb_buf_init(&b, 0);
	for (int i = 0; i < 8; i++)
		eb_buf_addstr(&b, text);
	ck_assert_msg(ops->tokenize(st, "", 1, &pre, &npre, &err) == 0, "%s", err.msg);
	ck_assert_msg(ops->tokenize(st, b.buf, 0, &body, &nbody, &err) == 0, "%s", err.msg);
	ck_assert(npre + nbody >= (size_t)n);
	all = eb_xmalloc((size_t)n * sizeof(*all));
	memcpy(all, pre, npre * sizeof(*all));
	memcpy(all + npre, body, ((size_t)n - npre) * sizeof(*all));
	ck_assert_msg(ops->detokenize(st, all, (size_t)n, &out, &err) == 0, "%s", err.msg);
	ck_assert_ptr_null(strstr(out, "<s>")); /* the server adds BOS itself */
	free(pre);
	free(body);
	free(all);
	eb_buf_release(&b);
	return out;
}

static double eb_jnum(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_number(v), "\"%s\" missing", key);
	return json_number_value(v);
}

START_TEST(generate_counts_and_timings)
{
	const struct eb_adapter_ops *ops = eb_adapter_find("openai");
	json_t *opts = eb_opts_for(eb_shared_port), *desc = json_object(), *timings;
	void *st = eb_open(opts);
	char *prompt = eb_prompt(st, 100);
	struct eb_test_tokens tt = { .n = 0 };
	struct eb_gen_req rq = { .prompt_text = prompt, .n_predict = 64, .seed = 3,
				 .temperature = 0, .on_token = eb_test_tokens_cb, .ud = &tt };
	struct eb_gen_res res = { 0, -1, -1, NULL, -1, 0, NULL };
	struct eb_err err;
	double ttft, e2e, client_tps, server_tps, ratio, pred_ms;
	int pred_n;

	ck_assert_int_eq(ops->describe(st, desc, &err), 0);
	ck_assert_str_eq(json_string_value(json_object_get(desc, "backend")), "llama-server");
	ck_assert_str_eq(json_string_value(json_object_get(desc, "tokenize")), "server");
	ck_assert(eb_jnum(desc, "model_bytes") > 1e6);
	ck_assert_str_eq(json_string_value(json_object_get(desc, "endpoint")), "/v1/completions");

	ck_assert_msg(ops->generate(st, &rq, &res, &err) == 0, "%s", err.msg);
	/* the exact length, from the server's usage (ignore_eos) */
	ck_assert_int_eq(res.n_out, 64);
	/* the text from /detokenize tokenizes back to exactly the tokens it came from */
	ck_assert_msg(res.n_prompt == 100, "n_prompt %d for a 100-token prompt", res.n_prompt);
	ck_assert_int_ge(tt.n, 2);
	ttft = (tt.t[0] - res.t_send_ns) / 1e6;
	e2e = (tt.t[tt.n - 1] - res.t_send_ns) / 1e6;
	ck_assert_msg(ttft > 0 && ttft < e2e, "ttft %.3f e2e %.3f", ttft, e2e);
	timings = json_object_get(res.server, "timings");
	ck_assert_ptr_nonnull(timings);
	ck_assert_int_eq((int)eb_jnum(timings, "predicted_n"), 64);
	ck_assert((int)eb_jnum(timings, "cache_n") == 0); /* cache_prompt: false */
	ck_assert((int)eb_jnum(res.server, "completion_tokens") == 64);
	ck_assert(eb_jnum(timings, "prompt_ms") < ttft);
	/*
	 * Decode rates: the client's (n_out - 1) / (t_last - t_first) against the server's
	 * (predicted_n - 1) / predicted_ms (its clock starts at the first token). Each
	 * token takes about 1 ms here and the HTTP/SSE delivery adds a nearly constant
	 * delay that cancels out; what remains is scheduling noise on a shared machine.
	 * Within 25% means the client neither loses nor invents decode time.
	 */
	pred_n = (int)eb_jnum(timings, "predicted_n");
	pred_ms = eb_jnum(timings, "predicted_ms");
	client_tps = (res.n_out - 1) / ((tt.t[tt.n - 1] - tt.t[0]) / 1e9);
	server_tps = (pred_n - 1) / (pred_ms / 1e3);
	ratio = client_tps / server_tps;
	fprintf(stderr, "check_openai: %d chunks, ttft %.2f ms (server prompt %.2f ms), client "
			"%.1f tok/s, server %.1f tok/s, ratio %.3f\n",
		tt.n, ttft, eb_jnum(timings, "prompt_ms"), client_tps, server_tps, ratio);
	ck_assert_msg(ratio > 0.75 && ratio < 1.25, "client/server decode rate %.3f", ratio);

	json_decref(res.server);
	json_decref(desc);
	free(prompt);
	ops->close(st);
	json_decref(opts);
}
END_TEST

START_TEST(chat_endpoint_and_fields)
{
	const struct eb_adapter_ops *ops = eb_adapter_find("openai");
	json_t *opts = eb_opts_for(eb_shared_port);
	struct eb_test_tokens tt = { .n = 0 };
	struct eb_gen_req rq = { .prompt_text = "Say something.", .n_predict = 8, .seed = 3,
				 .on_token = eb_test_tokens_cb, .ud = &tt };
	struct eb_gen_res res = { 0, -1, -1, NULL, -1, 0, NULL };
	struct eb_err err;
	void *st;

	json_object_set_new(opts, "endpoint", json_string("chat"));
	json_object_set_new(opts, "tokenize", json_string("off"));
	json_object_set_new(opts, "timings_per_token", json_true());
	st = eb_open(opts);
	ck_assert_msg(ops->generate(st, &rq, &res, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(res.n_out, 8);
	ck_assert_int_gt(res.n_prompt, 3); /* the chat template's tokens too */
	ck_assert_int_ge(tt.n, 1);
	json_decref(res.server);
	/* tokenize: off: no tokenizer, and the harness is told so */
	{
		int32_t *t = NULL;
		size_t n = 0;

		ck_assert_int_eq(ops->tokenize(st, "x", 0, &t, &n, &err), EB_EUNSUPPORTED);
		ck_assert_msg(strstr(err.msg, "no tokenizer"), "%s", err.msg);
	}
	ops->close(st);
	json_decref(opts);
}
END_TEST

/* One greedy may_stop request for its text (the generative accuracy protocols' kind). */
static void eb_text_req(void *st, const char *prompt, const char *const *stops, int n_predict,
			struct eb_buf *text, struct eb_gen_res *res)
{
	const struct eb_adapter_ops *ops = eb_adapter_find("openai");
	struct eb_gen_req rq = { .prompt_text = prompt, .n_predict = n_predict, .seed = 3,
				 .may_stop = 1, .stop_strings = stops, .text = text };
	struct eb_err err;

	memset(res, 0, sizeof(*res));
	eb_buf_reset(text);
	ck_assert_msg(ops->generate(st, &rq, res, &err) == 0, "%s", err.msg);
}

/*
 * Text back from both endpoints, and stop strings honoured: greedy decoding is
 * deterministic (cache_prompt: false), so a reply cut at a stop string taken from the
 * middle of the free reply is exactly the part before its first occurrence; the model
 * may end at its EOS (may_stop), so n_out is at most the maximum.
 */
START_TEST(generate_text_until_stop)
{
	static const char *const endpoints[] = { "completions", "chat" };

	for (int e = 0; e < 2; e++) {
		const struct eb_adapter_ops *ops = eb_adapter_find("openai");
		json_t *opts = eb_opts_for(eb_shared_port), *desc = json_object();
		struct eb_gen_res res;
		struct eb_buf text, free_reply;
		const char *stops[] = { NULL, NULL };
		char stop[8] = "";
		struct eb_err err;
		const char *at;
		void *st;

		json_object_set_new(opts, "endpoint", json_string(endpoints[e]));
		st = eb_open(opts);
		eb_buf_init(&text, 0);
		eb_buf_init(&free_reply, 0);
		eb_text_req(st, "Question: What is two plus two?\nAnswer:", NULL, 24, &text, &res);
		ck_assert_int_le(res.n_out, 24);
		ck_assert_int_ge(res.n_out, 0);
		fprintf(stderr, "check_openai: %s reply (%d tokens): '%s'\n", endpoints[e], res.n_out,
			text.buf);
		ck_assert_msg(text.len >= 8, "%s: a reply of %zu bytes is too short to cut",
			      endpoints[e], text.len);
		eb_buf_add(&free_reply, text.buf, text.len);
		json_decref(res.server);
		/* a stop string from the middle of the reply, three bytes of it */
		memcpy(stop, free_reply.buf + free_reply.len / 2, 3);
		stops[0] = stop;
		at = strstr(free_reply.buf, stop);
		eb_text_req(st, "Question: What is two plus two?\nAnswer:", stops, 24, &text, &res);
		ck_assert_msg(text.len == (size_t)(at - free_reply.buf) &&
				      memcmp(text.buf, free_reply.buf, text.len) == 0,
			      "%s: stop '%s': '%s', want the first %zu bytes of '%s'", endpoints[e],
			      stop, text.buf, (size_t)(at - free_reply.buf), free_reply.buf);
		ck_assert_str_eq(json_string_value(json_object_get(res.server, "finish_reason")),
				 "stop");
		json_decref(res.server);
		/* the chat endpoint's template is recorded; the plain one has none */
		ck_assert_int_eq(ops->describe(st, desc, &err), 0);
		if (e == 1)
			ck_assert_msg(json_string_length(json_object_get(desc, "chat_template")) > 0,
				      "no chat_template from /props");
		else
			ck_assert_ptr_null(json_object_get(desc, "chat_template"));
		json_decref(desc);
		eb_buf_release(&text);
		eb_buf_release(&free_reply);
		ops->close(st);
		json_decref(opts);
	}
}
END_TEST

/* The server dies mid-stream: that request fails clearly; after a restart the next works. */
START_TEST(server_killed_mid_stream)
{
	const struct eb_adapter_ops *ops = eb_adapter_find("openai");
	int port = eb_test_free_port();
	struct eb_server *s = eb_server_start(port, "killed");
	json_t *opts = eb_opts_for(port);
	struct eb_test_tokens tt = { .n = 0 };
	struct eb_gen_req rq = { .prompt_text = "Once upon a time", .n_predict = 400, .seed = 3,
				 .on_token = eb_test_tokens_cb, .ud = &tt };
	struct eb_gen_res res = { 0, -1, -1, NULL, -1, 0, NULL };
	struct eb_err err;
	char want[128];
	void *st;
	int rc;

	eb_server_ready(s);
	st = eb_open(opts);
	tt.kill_after = 5;
	tt.victim = s->pid;
	rc = ops->generate(st, &rq, &res, &err);
	ck_assert_int_eq(rc, EB_EIO);
	snprintf(want, sizeof(want), "openai: connection to 'http://127.0.0.1:%d/v1/completions'",
		 port);
	ck_assert_msg(strstr(err.msg, want) && strstr(err.msg, "the stream broke after"), "%s",
		      err.msg);
	fprintf(stderr, "check_openai: mid-stream kill: %s\n", err.msg);
	json_decref(res.server);
	ops->close(st); /* as the run loop does after a failed cell */
	waitpid(s->pid, NULL, 0);
	s->pid = 0;

	/* the same port again: the next "cell" opens afresh and succeeds */
	s = eb_server_start(port, "restarted");
	eb_server_ready(s);
	st = eb_open(opts);
	memset(&tt, 0, sizeof(tt));
	memset(&res, 0, sizeof(res));
	rq.n_predict = 16;
	ck_assert_msg(ops->generate(st, &rq, &res, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(res.n_out, 16);
	json_decref(res.server);
	ops->close(st);
	eb_server_stop(s);
	json_decref(opts);
}
END_TEST

static int eb_file_has(const char *path, const char *needle)
{
	struct eb_err err;
	char *data = NULL;
	size_t len, nl = strlen(needle);
	int found = 0;

	if (eb_read_file(path, 256u << 20, &data, &len, &err) != 0)
		return 0;
	for (size_t i = 0; i + nl <= len && !found; i++)
		found = memcmp(data + i, needle, nl) == 0;
	free(data);
	return found;
}

/*
 * Through `edgebench run`: an unreachable target fails its cells with a stored error, the
 * live one stores exact counts and server timings; the API key is nowhere in the file.
 */
START_TEST(through_the_run_loop)
{
	static const char secret[] = "sk-edgebench-test-3f9a1c7e55";
	char dir[4096], cfg[8192], db[8192], path[8300];
	int dead = eb_test_free_port();
	struct eb_buf b;
	struct eb_err err;
	sqlite3 *s;
	sqlite3_stmt *q;
	char *out = NULL;
	int rc, rows = 0, failed = 0;

	setenv("EB_TEST_OPENAI_KEY", secret, 1);
	eb_test_tmpdir("openai-run", dir, sizeof(dir));
	snprintf(cfg, sizeof(cfg), "%s/orin.json", dir);
	snprintf(db, sizeof(db), "%s/out.db", dir);
	eb_buf_init(&b, 0);
	eb_buf_addf(&b,
		    "{ \"name\": \"openai-test\",\n"
		    "  \"targets\": [\n"
		    "    { \"id\": \"down\", \"adapter\": \"openai\", \"options\": {\n"
		    "       \"base_url\": \"http://127.0.0.1:%d\", \"retries\": 1 } },\n"
		    "    { \"id\": \"llama-server\", \"adapter\": \"openai\", \"options\": {\n"
		    "       \"base_url\": \"http://127.0.0.1:%d\", \"api_key_env\": "
		    "\"EB_TEST_OPENAI_KEY\",\n"
		    "       \"headers\": { \"X-Edgebench-Test\": \"1\" } } } ],\n"
		    "  \"models\": [ { \"id\": \"tiny\", \"variants\": [\n"
		    "     { \"quant\": \"q8_0\", \"model_name\": \"tiny\" } ] } ],\n"
		    "  \"workloads\": { \"latency\": { \"prompt_tokens\": [48], \"gen_tokens\": 24,\n"
		    "     \"warmup\": 1, \"repetitions\": 3 } } }\n",
		    dead, eb_shared_port);
	ck_assert_msg(eb_write_file(cfg, b.buf, b.len, &err) == 0, "%s", err.msg);
	eb_buf_release(&b);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--quiet", NULL };

		rc = eb_test_run(argv, &out);
	}
	ck_assert_msg(rc == 1, "exit %d (1 expected: one cell fails): %s", rc, out);
	free(out);
	ck_assert_int_eq(sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(s, "SELECT target, status, error FROM cells", -1, &q,
					    NULL),
			 SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(q, 0);
		const char *st = (const char *)sqlite3_column_text(q, 1);
		const char *e = (const char *)sqlite3_column_text(q, 2);

		if (strcmp(t, "down") == 0) {
			char want[128];

			snprintf(want, sizeof(want), "openai: cannot connect to "
						     "'http://127.0.0.1:%d/tokenize'", dead);
			ck_assert_str_eq(st, "failed");
			ck_assert_msg(e && strstr(e, want) && strstr(e, "(2 attempts)"), "%s", e);
			failed++;
		} else {
			ck_assert_msg(strcmp(st, "ok") == 0, "%s: %s", st, e ? e : "");
		}
	}
	ck_assert_int_eq(failed, 1);
	sqlite3_finalize(q);
	ck_assert_int_eq(sqlite3_prepare_v2(s,
					    "SELECT r.n_out, r.n_prompt, r.n_chunks, r.ttft_ns, "
					    "r.e2e_ns, json_extract(r.server_json, "
					    "'$.timings.prompt_ms'), json_extract(r.server_json, "
					    "'$.timings.predicted_n'), json_extract(c.backend_json, "
					    "'$.backend') FROM requests r JOIN cells c ON c.id = "
					    "r.cell_id",
					    -1, &q, NULL),
			 SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW) {
		ck_assert_int_eq(sqlite3_column_int(q, 0), 24);
		/* a cut through the corpus may re-tokenize one token differently */
		ck_assert_msg(abs(sqlite3_column_int(q, 1) - 48) <= 1, "n_prompt %d",
			      sqlite3_column_int(q, 1));
		ck_assert_int_ge(sqlite3_column_int(q, 2), 2);
		ck_assert(sqlite3_column_int64(q, 3) > 0);
		ck_assert(sqlite3_column_int64(q, 3) < sqlite3_column_int64(q, 4));
		ck_assert(sqlite3_column_double(q, 5) > 0);
		ck_assert(sqlite3_column_double(q, 5) * 1e6 < sqlite3_column_int64(q, 3));
		ck_assert_int_eq(sqlite3_column_int(q, 6), 24);
		ck_assert_str_eq((const char *)sqlite3_column_text(q, 7), "llama-server");
		rows++;
	}
	ck_assert_int_eq(rows, 4);
	sqlite3_finalize(q);
	sqlite3_close(s);
	/* the key's name is recorded, the key itself nowhere (WAL files included) */
	ck_assert(eb_file_has(db, "EB_TEST_OPENAI_KEY"));
	ck_assert(!eb_file_has(db, secret));
	snprintf(path, sizeof(path), "%s-wal", db);
	ck_assert(!eb_file_has(path, secret));
}
END_TEST

/*
 * The same prompt sent again with cache_prompt on (no_cache_prompt: false): llama-server
 * reuses its cached prefix and says so (timings.cache_n). Prefill figures of those
 * requests are withheld (NULL) with a warning naming the field; decode figures stand.
 * The chat endpoint: the server counts the chat template's tokens too, so the prompt is
 * longer than configured: a warning with both counts, the server's stored per request.
 */
START_TEST(prompt_cache_and_chat_count_are_caught)
{
	char dir[4096], cfg[8192], db[8192], *out = NULL, *w;
	struct eb_buf b;
	struct eb_err err;
	sqlite3 *s;
	int rc;

	eb_test_tmpdir("openai-guards", dir, sizeof(dir));
	snprintf(cfg, sizeof(cfg), "%s/guards.json", dir);
	snprintf(db, sizeof(db), "%s/out.db", dir);
	eb_buf_init(&b, 0);
	eb_buf_addf(&b,
		    "{ \"name\": \"openai-guards\",\n"
		    "  \"targets\": [\n"
		    "    { \"id\": \"cached\", \"adapter\": \"openai\", \"options\": {\n"
		    "       \"base_url\": \"http://127.0.0.1:%d\", \"no_cache_prompt\": false } },\n"
		    "    { \"id\": \"chat\", \"adapter\": \"openai\", \"options\": {\n"
		    "       \"base_url\": \"http://127.0.0.1:%d\", \"endpoint\": \"chat\" } } ],\n"
		    "  \"models\": [ { \"id\": \"tiny\", \"variants\": [\n"
		    "     { \"quant\": \"q8_0\", \"model_name\": \"tiny\" } ] } ],\n"
		    "  \"workloads\": { \"latency\": { \"prompt_tokens\": [64], \"gen_tokens\": 8,\n"
		    "     \"warmup\": 1, \"repetitions\": 2 } } }\n",
		    eb_shared_port, eb_shared_port);
	ck_assert_msg(eb_write_file(cfg, b.buf, b.len, &err) == 0, "%s", err.msg);
	eb_buf_release(&b);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, NULL };

		rc = eb_test_run(argv, &out);
	}
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	s = eb_test_db_open(db);
	/* cache: the measured requests follow one with the same prompt; each says it reused
	 * most of it, and none keeps a TTFT or prefill rate */
	ck_assert_double_eq(eb_test_q(s, "SELECT count(*) FROM requests r JOIN cells c ON"
				    " c.id=r.cell_id WHERE c.target='cached' AND r.warmup=0 AND"
				    " json_extract(r.server_json, '$.timings.cache_n') > 0"), 2);
	ck_assert_double_eq(eb_test_q(s, "SELECT count(*) FROM requests r JOIN cells c ON"
				    " c.id=r.cell_id WHERE c.target='cached' AND r.warmup=0 AND"
				    " (r.ttft_ns IS NOT NULL OR r.prefill_tps IS NOT NULL)"), 0);
	ck_assert_double_eq(eb_test_q(s, "SELECT count(*) FROM metrics m JOIN cells c ON"
				    " c.id=m.cell_id WHERE c.target='cached' AND"
				    " m.name IN ('ttft_ms','prefill_tps')"), 0);
	ck_assert_double_eq(eb_test_q(s, "SELECT count(*) FROM metrics m JOIN cells c ON"
				    " c.id=m.cell_id WHERE c.target='cached' AND"
				    " m.name IN ('decode_tps','e2e_ms','itl_ms')"), 3);
	w = eb_test_qs(s, "SELECT warnings_json FROM cells WHERE target='cached'");
	ck_assert_msg(strstr(w, "prompt cache (timings.cache_n)") &&
			      strstr(w, "ttft_ms and prefill_tps withheld"),
		      "%s", w);
	free(w);
	ck_assert_msg(strstr(out, "edgebench: cell cached/tiny/q8_0/latency/p64-g8 warning: 2 of 2 "
				  "requests: the server reused"),
		      "%s", out);
	/* chat: both counts in the warning; the server's count stored and behind prefill_tps */
	{
		char want[160];
		long long n = (long long)eb_test_q(s, "SELECT min(r.n_prompt) FROM requests r JOIN"
						   " cells c ON c.id=r.cell_id WHERE c.target='chat'");

		ck_assert_int_gt(n, 64);
		ck_assert_double_eq(eb_test_q(s, "SELECT max(r.n_prompt) FROM requests r JOIN cells c"
					    " ON c.id=r.cell_id WHERE c.target='chat'"), (double)n);
		ck_assert_double_eq(eb_test_q(s, "SELECT count(*) FROM requests r JOIN cells c ON"
					    " c.id=r.cell_id WHERE c.target='chat' AND"
					    " abs(r.prefill_tps - r.n_prompt * 1e9 / r.ttft_ns) >"
					    " 1e-9 * r.prefill_tps"), 0);
		w = eb_test_qs(s, "SELECT warnings_json FROM cells WHERE target='chat'");
		snprintf(want, sizeof(want), "the server counted %lld prompt tokens, 64 configured", n);
		ck_assert_msg(strstr(w, want), "%s", w);
		free(w);
	}
	free(out);
	sqlite3_close(s);
}
END_TEST

/*
 * llama-server has no echoed prompt log-probs (it answers echo + logprobs with the
 * generated token's only): its accuracy cells are stored as skipped with that reason,
 * before any dataset is read, and the latency cell of the same run is measured.
 */
START_TEST(accuracy_skipped_without_prompt_logprobs)
{
	char dir[4096], cfg[8192], db[8192], want[512];
	struct eb_buf b;
	struct eb_err err;
	sqlite3 *s;
	sqlite3_stmt *q;
	char *out = NULL;
	int rc, skipped = 0;

	eb_test_tmpdir("openai-acc", dir, sizeof(dir));
	snprintf(cfg, sizeof(cfg), "%s/acc.json", dir);
	snprintf(db, sizeof(db), "%s/out.db", dir);
	eb_buf_init(&b, 0);
	eb_buf_addf(&b,
		    "{ \"name\": \"openai-acc\",\n"
		    "  \"targets\": [ { \"id\": \"llama-server\", \"adapter\": \"openai\",\n"
		    "     \"options\": { \"base_url\": \"http://127.0.0.1:%d\" } } ],\n"
		    "  \"models\": [ { \"id\": \"tiny\", \"variants\": [\n"
		    "     { \"quant\": \"q8_0\", \"model_name\": \"tiny\" } ] } ],\n"
		    "  \"workloads\": { \"latency\": { \"prompt_tokens\": [16], \"gen_tokens\": 4,\n"
		    "     \"warmup\": 0, \"repetitions\": 1 },\n"
		    "   \"accuracy\": { \"tasks\": [\n"
		    "     { \"task\": \"hs\", \"protocol\": \"hellaswag\", \"file\": \"%s\" },\n"
		    "     { \"task\": \"gptq\", \"protocol\": \"wikitext2-gptq\", \"file\": \"%s\",\n"
		    "       \"seqlen\": 128 } ] } } }\n",
		    eb_shared_port, EB_SOURCE_DIR "/datasets/samples/hellaswag_sample.jsonl",
		    EB_SOURCE_DIR "/datasets/samples/wiki.test.raw");
	ck_assert_msg(eb_write_file(cfg, b.buf, b.len, &err) == 0, "%s", err.msg);
	eb_buf_release(&b);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--quiet", NULL };

		rc = eb_test_run(argv, &out);
	}
	ck_assert_msg(rc == 0, "exit %d (skipped cells do not fail a run): %s", rc, out);
	free(out);
	snprintf(want, sizeof(want),
		 "openai: the server at 'http://127.0.0.1:%d' did not return prompt log-probs for "
		 "echo + logprobs (scoring needs vLLM's semantics; prompt_logprobs: auto): ",
		 eb_shared_port);
	ck_assert_int_eq(sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(s, "SELECT workload, status, error FROM cells", -1, &q,
					    NULL),
			 SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *w = (const char *)sqlite3_column_text(q, 0);
		const char *st = (const char *)sqlite3_column_text(q, 1);
		const char *e = (const char *)sqlite3_column_text(q, 2);

		if (strcmp(w, "accuracy") == 0) {
			ck_assert_str_eq(st, "skipped");
			ck_assert_msg(e && strncmp(e, want, strlen(want)) == 0, "'%s'", e);
			fprintf(stderr, "check_openai: llama-server accuracy cell: %s\n", e);
			skipped++;
		} else {
			ck_assert_msg(strcmp(st, "ok") == 0, "%s: %s", st, e ? e : "");
		}
	}
	sqlite3_finalize(q);
	ck_assert_int_eq(skipped, 2);
	ck_assert_int_eq(sqlite3_prepare_v2(s, "SELECT count(*) FROM accuracy", -1, &q, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(q, 0), 0);
	sqlite3_finalize(q);
	sqlite3_close(s);
}
END_TEST

/*
 * The generative protocols against the real llama-server, through both endpoints: the
 * cells run (the log-likelihood ones are skipped here), every item's reply and parsed
 * answer is stored, and each figure is what its stored records give: acc (or GSM8K's
 * strict exact match) = correct / n, stderr = sqrt(p (1 - p) / (n - 1)). The tiny
 * model's replies are noise; what it says does not matter, only that it is kept.
 */
START_TEST(generative_accuracy_on_llama_server)
{
	static const char *const tasks[][2] = {
		{ "hs", "acc" }, { "mmlu", "acc" }, { "gsm8k", "exact_match_strict" },
	};
	char db[8192];
	struct eb_buf b;
	sqlite3 *h;

	eb_buf_init(&b, 0);
	eb_buf_addf(&b,
		    "{ \"name\": \"openai-gen\",\n"
		    "  \"targets\": [\n"
		    "   { \"id\": \"completions\", \"adapter\": \"openai\",\n"
		    "     \"options\": { \"base_url\": \"http://127.0.0.1:%d\" } },\n"
		    "   { \"id\": \"chat\", \"adapter\": \"openai\",\n"
		    "     \"options\": { \"base_url\": \"http://127.0.0.1:%d\", \"endpoint\": \"chat\" } } ],\n"
		    "  \"models\": [ { \"id\": \"tiny\", \"variants\": [\n"
		    "     { \"quant\": \"q8_0\", \"model_name\": \"tiny\" } ] } ],\n"
		    "  \"workloads\": { \"accuracy\": { \"tasks\": [\n"
		    "     { \"task\": \"hs\", \"protocol\": \"hellaswag-gen\", \"file\": \"%s\", \"limit\": 4 },\n"
		    "     { \"task\": \"mmlu\", \"protocol\": \"mmlu-gen\", \"file\": \"%s\", \"limit\": 4 },\n"
		    "     { \"task\": \"gsm8k\", \"protocol\": \"gsm8k-gen\", \"file\": \"%s\", \"limit\": 3,\n"
		    "       \"max_tokens\": 24 },\n"
		    "     { \"task\": \"hs-ll\", \"protocol\": \"hellaswag\", \"file\": \"%s\" } ] } } }\n",
		    eb_shared_port, eb_shared_port,
		    EB_SOURCE_DIR "/datasets/samples/hellaswag_sample.jsonl",
		    EB_SOURCE_DIR "/datasets/samples/edge_computing_test.csv",
		    EB_SOURCE_DIR "/datasets/samples/gsm8k_sample.jsonl",
		    EB_SOURCE_DIR "/datasets/samples/hellaswag_sample.jsonl");
	eb_test_run_config("openai-gen", b.buf, db, sizeof(db));
	eb_buf_release(&b);
	h = eb_test_db_open(db);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='ok'"), 6);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='skipped' AND "
				    "key LIKE '%%/hs-ll'"),
			    2);
	for (int t = 0; t < 2; t++) {
		const char *target = t ? "chat" : "completions";

		for (size_t k = 0; k < sizeof(tasks) / sizeof(tasks[0]); k++) {
			const char *task = tasks[k][0], *metric = tasks[k][1];
			char cell[256];
			double n, p, se, want_n = k == 0 || k == 1 ? 4 : 3;

			snprintf(cell, sizeof(cell), "%s/tiny/q8_0/accuracy/%s", target, task);
#define EB_CELL "FROM acc_samples x JOIN cells c ON c.id = x.cell_id WHERE c.key = '%s'"
			n = eb_test_q(h, "SELECT count(*) " EB_CELL, cell);
			ck_assert_msg(n == want_n, "%s: %g records", cell, n);
			/* every record keeps the reply and what was parsed from it */
			ck_assert_double_eq(eb_test_q(h, "SELECT count(*) " EB_CELL " AND "
							 "(json_type(result_json, '$.reply') <> 'text' OR "
							 "(json_type(result_json, '$.parsed') IS NULL AND "
							 "json_type(result_json, '$.strict_match') IS NULL) OR "
							 "correct IS NULL)",
						    cell),
					    0);
			p = eb_test_q(h, "SELECT avg(correct) " EB_CELL, cell);
			ck_assert_double_eq(eb_test_q(h, "SELECT a.value FROM accuracy a JOIN cells c "
							 "ON c.id = a.cell_id WHERE c.key = '%s' AND "
							 "a.metric = '%s'",
						      cell, metric),
					    p);
			se = eb_test_q(h, "SELECT a.stderr FROM accuracy a JOIN cells c ON c.id = "
					  "a.cell_id WHERE c.key = '%s' AND a.metric = '%s'",
				       cell, metric);
			ck_assert_double_eq_tol(se, sqrt(p * (1 - p) / (n - 1)), 1e-15);
#undef EB_CELL
			fprintf(stderr, "check_openai: %s %s = %g +- %g (n %g)\n", cell, metric, p, se,
				n);
		}
	}
	/* the template each route went through, with its figures */
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM accuracy a JOIN cells c ON c.id = "
				    "a.cell_id WHERE c.key LIKE 'completions/%%' AND "
				    "json_extract(a.params_json, '$.chat_template') <> "
				    "'none (the prompt goes as plain text)'"),
			    0);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM accuracy a JOIN cells c ON c.id = "
				    "a.cell_id WHERE c.key LIKE 'chat/%%' AND "
				    "json_extract(a.params_json, '$.chat_template') = "
				    "json_extract(c.backend_json, '$.chat_template') AND "
				    "length(json_extract(a.params_json, '$.chat_template')) > 20"),
			    7);
	sqlite3_close(h);
}
END_TEST

/* Against a stand-in server: answers that are not event streams, and HTTP errors. */
/* `edgebench run` of one openai cell against the mock replaying `fixture`: 32 tokens in 8
 * chunks 40 ms apart. Returns the database, open. */
static sqlite3 *eb_chunks_run(const char *fixture, const char *name)
{
	char dir[4096], cfg[8192], db[8192], meter[4096], *out = NULL;
	struct eb_mock m;
	struct eb_buf b;
	struct eb_err err;
	int rc;

	eb_mock_start(&m, fixture);
	eb_test_tmpdir(name, dir, sizeof(dir));
	eb_test_data("bin/fake-meter", meter, sizeof(meter));
	snprintf(cfg, sizeof(cfg), "%s/chunks.json", dir);
	snprintf(db, sizeof(db), "%s/out.db", dir);
	eb_buf_init(&b, 0);
	eb_buf_addf(&b,
		    "{ \"name\": \"chunks\",\n"
		    "  \"targets\": [ { \"id\": \"k4\", \"adapter\": \"openai\", \"options\": {\n"
		    "     \"base_url\": \"http://127.0.0.1:%d\", \"tokenize\": \"off\" } } ],\n"
		    "  \"models\": [ { \"id\": \"k4\", \"variants\": [\n"
		    "     { \"quant\": \"q\", \"model_name\": \"k4\" } ] } ],\n"
		    "  \"workloads\": { \"latency\": { \"prompt_tokens\": [16], \"gen_tokens\": 32,\n"
		    "     \"warmup\": 0, \"repetitions\": 2 } },\n"
		    "  \"sensors\": [ { \"kind\": \"cmd\", \"options\": { \"name\": \"meter\",\n"
		    "     \"unit\": \"W\", \"argv\": [\"%s\", \"--interval\", \"5\", \"--loop\", \"2.5\"] } } ],\n"
		    "  \"power\": { \"interval_ms\": 5 } }\n",
		    m.port, meter);
	ck_assert_msg(eb_write_file(cfg, b.buf, b.len, &err) == 0, "%s", err.msg);
	eb_buf_release(&b);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--quiet", NULL };

		rc = eb_test_run(argv, &out);
	}
	eb_mock_stop(&m);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	free(out);
	return eb_test_db_open(db);
}

/*
 * Four tokens in every chunk (k = 4 of 32), the count in each chunk's logprobs: the first
 * chunk's 4 tokens came with TTFT, so the stored decode rate is 28 tokens over the window
 * from the first chunk to the last, as the stored token times give it (counting 31 read
 * 10.7% fast). Without per-chunk counts the rate cannot be right: a warning says so.
 */
START_TEST(multi_token_chunks_decode_rate)
{
	sqlite3 *h = eb_chunks_run("streams/openai-completions-4-per-chunk.sse", "openai-k4");
	char *w;

	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM requests WHERE n_out=32 AND"
				    " n_chunks=8"), 2);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM token_times WHERE n_tokens=4"), 16);
	ck_assert_double_eq(eb_test_q(h,
		"SELECT count(*) FROM requests r WHERE abs(r.decode_tps - 28 * 1e9 /"
		" ((SELECT max(t_ns) FROM token_times WHERE request_id=r.id) -"
		"  (SELECT min(t_ns) FROM token_times WHERE request_id=r.id))) > 1e-9 * r.decode_tps"),
		0);
	/* J/token at a constant 2.5 W: decode energy over the same 28 tokens, not 31 */
	ck_assert_double_eq_tol(eb_test_q(h, "SELECT mean FROM metrics WHERE name ="
					      " 'j_per_token:meter/meter'"),
				eb_test_q(h, "SELECT avg(2.5 * decode_ns / 1e9 / 28) FROM requests"),
				1e-9);
	w = eb_test_qs(h, "SELECT coalesce(warnings_json, '') FROM cells");
	ck_assert_msg(!strstr(w, "chunks"), "%s", w);
	free(w);
	sqlite3_close(h);

	h = eb_chunks_run("streams/openai-completions-4-per-chunk-uncounted.sse", "openai-k4u");
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM token_times WHERE n_tokens IS NULL"),
			    16);
	w = eb_test_qs(h, "SELECT warnings_json FROM cells");
	ck_assert_msg(strstr(w, "2 of 2 requests: 32 tokens came in 8 chunks and the server did "
				"not say how many each carried"),
		      "%s", w);
	free(w);
	sqlite3_close(h);
}
END_TEST

START_TEST(bad_answers_are_clear_errors)
{
	/* the message is pre + "http://127.0.0.1:PORT/v1/completions" + post */
	static const struct {
		int mode, code;
		const char *pre, *post;
	} cases[] = {
		{ EB_MOCK_500, EB_EADAPTER, "openai: HTTP 500 from ",
		  ": {\"error\":\"llama runner process has terminated: signal: killed\"}" },
		{ EB_MOCK_HTML, EB_EPROTO, "openai: the response from '",
		  "' is not an event stream: '<html><body><h1>Welcome to nginx!</h1></body></html> '" },
		{ EB_MOCK_JSON, EB_EPROTO, "openai: the response from '",
		  "' is not an event stream: '{\"choices\":[{\"text\":\" hello\"" },
	};
	const struct eb_adapter_ops *ops = eb_adapter_find("openai");
	struct eb_mock m;
	json_t *opts;
	void *st;

	eb_mock_start(&m, "streams/ollama-generate.ndjson");
	opts = eb_opts_for(m.port);
	st = eb_open(opts); /* /tokenize answers 404: no tokenizer, not an error */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct eb_gen_req rq = { .prompt_text = "x", .n_predict = 4 };
		struct eb_gen_res res = { 0, -1, -1, NULL, -1, 0, NULL };
		struct eb_err err;
		char want[512];

		m.mode = cases[i].mode;
		ck_assert_int_eq(ops->generate(st, &rq, &res, &err), cases[i].code);
		snprintf(want, sizeof(want), "%shttp://127.0.0.1:%d/v1/completions%s", cases[i].pre,
			 m.port, cases[i].post);
		ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "'%s' is not '%s'", err.msg,
			      want);
		ck_assert_ptr_null(res.server);
	}
	ops->close(st);
	json_decref(opts);
	eb_mock_stop(&m);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("openai");
	const char *why = eb_test_lacks_peer("llama-server", eb_server_bin, sizeof(eb_server_bin));
	TCase *tc;

	if (why) { /* its fixture could not start the server */
		eb_test_skip("llama-server", "%s", why);
	} else {
		tc = tcase_create("llama-server");
		tcase_set_timeout(tc, 240);
		tcase_add_unchecked_fixture(tc, eb_setup, eb_teardown);
		tcase_add_test(tc, generate_counts_and_timings);
		tcase_add_test(tc, chat_endpoint_and_fields);
		tcase_add_test(tc, generate_text_until_stop);
		tcase_add_test(tc, generative_accuracy_on_llama_server);
		tcase_add_test(tc, server_killed_mid_stream);
		tcase_add_test(tc, through_the_run_loop);
		tcase_add_test(tc, prompt_cache_and_chat_count_are_caught);
		tcase_add_test(tc, accuracy_skipped_without_prompt_logprobs);
		suite_add_tcase(s, tc);
	}
	tc = tcase_create("stand-in server");
	tcase_add_test(tc, bad_answers_are_clear_errors);
	tcase_add_test(tc, multi_token_chunks_decode_rate);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int rc = eb_test_main(eb_suite());

	eb_kill_servers();
	return rc;
}
