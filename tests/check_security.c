/* ctest: labels=integration,serial timeout=180 */
/* check_security.c: API keys never stored or printed, hostile names escaped in every report format, exec without a shell through the run loop, TLS verified unless turned off on purpose, no redirect off http(s). */
#include "fetch.h"
#include "http.h"
#include "eb_proc.h"
#include "eb_util.h"
#include "mockhttp.h"
#include "reportdb.h"
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char eb_secret[] = "sk-edgebench-SECRET-4c9e27b1d05f";

static char eb_dir[4096];

/* Whether `needle` occurs in n bytes of `hay` (which may hold NULs). */
static int eb_has(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return 1;
	return 0;
}

/* Fails the test if `what` (n bytes) holds the key, a Bearer header or an Authorization one. */
static void eb_assert_clean(const char *what, const char *data, size_t n)
{
	ck_assert_msg(!eb_has(data, n, eb_secret), "%s holds the API key", what);
	ck_assert_msg(!eb_has(data, n, "Bearer"), "%s holds 'Bearer'", what);
	ck_assert_msg(!eb_has(data, n, "Authorization"), "%s holds 'Authorization'", what);
}

/* Every file under `dir`, recursively, checked with eb_assert_clean; returns how many. */
static int eb_assert_tree_clean(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		char path[8192];
		struct stat sb;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		ck_assert_int_eq(lstat(path, &sb), 0);
		if (S_ISDIR(sb.st_mode)) {
			n += eb_assert_tree_clean(path);
		} else if (S_ISREG(sb.st_mode)) {
			struct eb_err err;
			char *data = NULL;
			size_t len;

			ck_assert_msg(eb_read_file(path, 256u << 20, &data, &len, &err) == 0, "%s",
				      err.msg);
			eb_assert_clean(path, data, len);
			free(data);
			n++;
		}
	}
	closedir(d);
	return n;
}

/* Runs edgebench (argv[0] ignored), checks its output is clean, and keeps it under eb_dir. */
static int eb_run_clean(const char *const *argv, const char *keep_as, char **out_ret)
{
	char path[4400];
	struct eb_err err;
	char *out = NULL;
	int rc = eb_test_run(argv, &out);

	eb_assert_clean(keep_as, out, strlen(out));
	snprintf(path, sizeof(path), "%s/out/%s", eb_dir, keep_as);
	ck_assert_msg(eb_write_file(path, out, strlen(out), &err) == 0, "%s", err.msg);
	if (out_ret)
		*out_ret = out;
	else
		free(out);
	return rc;
}

static const char *eb_write_config(const char *name, const char *text, char *buf, size_t n)
{
	struct eb_err err;

	snprintf(buf, n, "%s/%s", eb_dir, name);
	ck_assert_msg(eb_write_file(buf, text, strlen(text), &err) == 0, "%s", err.msg);
	return buf;
}

/* --- API keys ------------------------------------------------------------------------ */

/*
 * A run whose targets all send a key (openai, ollama, and one whose server is down), then
 * every output edgebench makes from it: the database (and its -wal/-shm when present), the
 * run's own stdout and stderr, every report format and layout, list, compare with JUnit, and
 * a plot's script, data and figure. The key, "Bearer" and "Authorization" appear nowhere,
 * while both servers did receive "Authorization: Bearer <key>".
 */
START_TEST(api_key_never_stored_or_printed)
{
	static const char *const formats[] = { "table", "csv", "json", "md", "latex", "html" };
	static const char *const layouts[] = { "cells", "long", "card" };
	struct eb_mock oai, oll;
	char cfg[4200], db[4300], want[300], dead_port[16], outdir[4300];
	struct eb_buf b;
	struct eb_err err;
	int dead, rc, nfiles;

	setenv("EB_TEST_SECRET_KEY", eb_secret, 1);
	eb_test_tmpdir("security-key", eb_dir, sizeof(eb_dir));
	snprintf(outdir, sizeof(outdir), "%s/out", eb_dir);
	ck_assert_msg(eb_mkdirs(outdir, &err) == 0, "%s", err.msg);
	eb_mock_start(&oai, "streams/llama-server-v1-completions.sse");
	eb_mock_start(&oll, "streams/ollama-generate.ndjson");
	oai.first_ms = oll.first_ms = 0;
	oai.gap_ms = oll.gap_ms = 2;
	close(eb_mock_listen(&dead));
	snprintf(dead_port, sizeof(dead_port), "%d", dead);
	eb_buf_init(&b, 0);
	eb_buf_addf(&b,
		    "{ \"name\": \"keys\",\n"
		    "  \"targets\": [\n"
		    "    { \"id\": \"oai\", \"adapter\": \"openai\", \"options\": {\n"
		    "      \"base_url\": \"http://127.0.0.1:%d\", \"api_key_env\": \"EB_TEST_SECRET_KEY\" } },\n"
		    "    { \"id\": \"oll\", \"adapter\": \"ollama\", \"options\": {\n"
		    "      \"base_url\": \"http://127.0.0.1:%d\", \"api_key_env\": \"EB_TEST_SECRET_KEY\" } },\n"
		    "    { \"id\": \"down\", \"adapter\": \"openai\", \"options\": {\n"
		    "      \"base_url\": \"http://127.0.0.1:%s\", \"api_key_env\": \"EB_TEST_SECRET_KEY\",\n"
		    "      \"retries\": 0 } } ],\n"
		    "  \"models\": [ { \"id\": \"m\", \"variants\": [ { \"quant\": \"q\", \"model_name\": \"tiny\" } ] } ],\n"
		    "  \"workloads\": { \"latency\": { \"prompt_tokens\": [16], \"gen_tokens\": 4,\n"
		    "    \"warmup\": 1, \"repetitions\": 2 } } }\n",
		    oai.port, oll.port, dead_port);
	eb_write_config("keys.json", b.buf, cfg, sizeof(cfg));
	eb_buf_release(&b);
	snprintf(db, sizeof(db), "%s/keys.db", eb_dir);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, NULL };

		rc = eb_run_clean(argv, "run.txt", NULL);
		ck_assert_int_eq(rc, 1); /* "down" failed, the others ran */
	}
	/* the key did go where it belongs */
	snprintf(want, sizeof(want), "Bearer %s", eb_secret);
	ck_assert_str_eq(oai.last_auth, want);
	ck_assert_str_eq(oll.last_auth, want);
	ck_assert_int_eq(oai.n_generate, 3);
	ck_assert_int_eq(oll.n_generate, 3);
	{
		sqlite3 *h;

		ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
		ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM cells WHERE status='ok'"), 2);
		/* the variable's name is recorded, so a reader knows a key was used */
		ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM cells WHERE"
						  " json_extract(backend_json, '$.api_key_env')"
						  " = 'EB_TEST_SECRET_KEY'"), 2);
		sqlite3_close(h);
	}
	for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++)
		for (size_t l = 0; l < sizeof(layouts) / sizeof(layouts[0]); l++) {
			const char *argv[] = { "edgebench", "report", "--db", db, "--format", formats[f],
					       "--layout", layouts[l], "--wide", NULL };
			char name[64];

			snprintf(name, sizeof(name), "report-%s-%s.txt", layouts[l], formats[f]);
			rc = eb_run_clean(argv, name, NULL);
			ck_assert_msg(rc == 0, "report %s %s: exit %d", formats[f], layouts[l], rc);
		}
	{
		const char *argv[] = { "edgebench", "list", "--db", db, NULL };

		ck_assert_int_eq(eb_run_clean(argv, "list.txt", NULL), 0);
	}
	{
		char junit[4400];
		const char *argv[] = { "edgebench", "compare", "latest", "latest", "--db", db,
				       "--junit", junit, NULL };

		snprintf(junit, sizeof(junit), "%s/junit.xml", outdir);
		ck_assert_int_eq(eb_run_clean(argv, "compare.txt", NULL), 0);
		ck_assert_int_eq(access(junit, F_OK), 0);
	}
	{
		char svg[4400];
		const char *argv[] = { "edgebench", "plot", "--db", db, "--kind", "throughput",
				       "--out", svg, NULL };

		snprintf(svg, sizeof(svg), "%s/throughput.svg", outdir);
		ck_assert_int_eq(eb_run_clean(argv, "plot.txt", NULL), 0);
		ck_assert_int_eq(access(svg, F_OK), 0);
	}
	/* every file the run and the commands left: database, outputs, plot, JUnit */
	nfiles = eb_assert_tree_clean(eb_dir);
	ck_assert_int_ge(nfiles, 25);
	fprintf(stderr, "check_security: the API key is in none of %d files\n", nfiles);
	eb_mock_stop(&oai);
	eb_mock_stop(&oll);
}
END_TEST

/* A server that quotes the request's Authorization header back in an error: not stored. */
START_TEST(echoed_key_is_redacted)
{
	struct eb_mock m;
	char cfg[4200], db[4300], want[512], text[1024], *out = NULL, *e;
	sqlite3 *h;
	int rc;

	setenv("EB_TEST_SECRET_KEY", eb_secret, 1);
	eb_test_tmpdir("security-echo", eb_dir, sizeof(eb_dir));
	eb_mock_start(&m, "streams/llama-server-v1-completions.sse");
	m.mode = EB_MOCK_401_ECHO;
	snprintf(text, sizeof(text),
		 "{ \"name\": \"echo\",\n"
		 "  \"targets\": [ { \"id\": \"proxy\", \"adapter\": \"openai\", \"options\": {\n"
		 "      \"base_url\": \"http://127.0.0.1:%d\", \"api_key_env\": \"EB_TEST_SECRET_KEY\",\n"
		 "      \"tokenize\": \"off\" } } ],\n"
		 "  \"models\": [ { \"id\": \"m\", \"variants\": [ { \"quant\": \"q\", \"model_name\": \"tiny\" } ] } ],\n"
		 "  \"workloads\": { \"latency\": { \"prompt_tokens\": [16], \"gen_tokens\": 4 } } }\n",
		 m.port);
	eb_write_config("echo.json", text, cfg, sizeof(cfg));
	snprintf(db, sizeof(db), "%s/echo.db", eb_dir);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, NULL };

		rc = eb_test_run(argv, &out);
	}
	ck_assert_int_eq(rc, 1);
	snprintf(want, sizeof(want), "Bearer %s", eb_secret);
	ck_assert_str_eq(m.last_auth, want);
	snprintf(want, sizeof(want),
		 "openai: HTTP 401 from http://127.0.0.1:%d/v1/completions: {\"error\":\"invalid "
		 "credentials: Authorization: Bearer [REDACTED]\"}",
		 m.port);
	ck_assert_msg(strstr(out, want), "%s", out);
	ck_assert(!eb_has(out, strlen(out), eb_secret));
	free(out);
	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	e = eb_test_q_str(h, "SELECT error FROM cells");
	ck_assert_str_eq(e, want);
	free(e);
	sqlite3_close(h);
	{
		struct eb_err err;
		char *data = NULL;
		size_t len;

		ck_assert_msg(eb_read_file(db, 64u << 20, &data, &len, &err) == 0, "%s", err.msg);
		ck_assert(!eb_has(data, len, eb_secret));
		free(data);
	}
	eb_mock_stop(&m);
}
END_TEST

/* --- every string from a peer, cleaned at the boundary (issue 15 items 15, 16) ----------- */

/* What the reflecting server puts in every field: the request's Authorization value (the key
 * with "Bearer "), then a terminal title, a bell and a screen clear, JSON-escaped. */
static void eb_reflect_payload(struct eb_mock *m, char *buf, size_t n)
{
	pthread_mutex_lock(&m->mu);
	snprintf(buf, n, "%s \\u001b]0;PWNED\\u0007\\u001b[2J", m->last_auth);
	pthread_mutex_unlock(&m->mu);
}

/*
 * A server that reflects the Authorization header into every field it returns: model
 * lists, owned_by, build info, n_ctx, Ollama's family and quantization, finish and done
 * reasons, timings (keys too), and for the model "bad" a stream error (SSE and NDJSON).
 */
static int eb_reflect_handle(struct eb_mock *m, int fd, const char *path, const char *body,
			     size_t len)
{
	static const char sse_hdr[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
				      "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
	static const char nd_hdr[] = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
				     "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
	int bad = strstr(body, "\"model\":\"bad\"") != NULL;
	char a[512], out[4096];

	(void)len;
	eb_reflect_payload(m, a, sizeof(a));
	if (strcmp(path, "/v1/models") == 0) {
		snprintf(out, sizeof(out),
			 "{\"object\":\"list\",\"data\":[{\"id\":\"%s\",\"owned_by\":\"%s\","
			 "\"meta\":{\"ftype\":\"%s\",\"n_params\":\"%s\"}}]}", a, a, a, a);
		eb_mock_respond(fd, "200 OK", "application/json", out);
	} else if (strcmp(path, "/props") == 0) {
		snprintf(out, sizeof(out),
			 "{\"build_info\":\"%s\",\"total_slots\":\"%s\","
			 "\"default_generation_settings\":{\"n_ctx\":\"%s\"}}", a, a, a);
		eb_mock_respond(fd, "200 OK", "application/json", out);
	} else if (strcmp(path, "/api/version") == 0) {
		snprintf(out, sizeof(out), "{\"version\":\"%s\"}", a);
		eb_mock_respond(fd, "200 OK", "application/json", out);
	} else if (strcmp(path, "/api/show") == 0) {
		snprintf(out, sizeof(out),
			 "{\"details\":{\"format\":\"%s\",\"family\":\"%s\",\"parameter_size\":\"%s\","
			 "\"quantization_level\":\"%s\"}}", a, a, a, a);
		eb_mock_respond(fd, "200 OK", "application/json", out);
	} else if (strcmp(path, "/v1/completions") == 0) {
		eb_mock_send_all(fd, sse_hdr, sizeof(sse_hdr) - 1);
		if (bad) {
			snprintf(out, sizeof(out),
				 "data: {\"error\":{\"message\":\"%s\",\"type\":\"%s\",\"code\":500}}\n\n",
				 a, a);
			eb_mock_send_chunk(fd, out, strlen(out));
		} else {
			for (int i = 0; i < 4; i++) {
				snprintf(out, sizeof(out), "data: {\"choices\":[{\"text\":\" x\","
					 "\"finish_reason\":null}],\"model\":\"%s\"}\n\n", a);
				eb_mock_send_chunk(fd, out, strlen(out));
			}
			snprintf(out, sizeof(out),
				 "data: {\"choices\":[{\"text\":\"\",\"finish_reason\":\"%s\"}],"
				 "\"usage\":{\"completion_tokens\":4,\"prompt_tokens\":16},"
				 "\"timings\":{\"%s\":\"%s\",\"predicted_n\":4}}\n\ndata: [DONE]\n\n",
				 a, a, a);
			eb_mock_send_chunk(fd, out, strlen(out));
		}
		eb_mock_send_all(fd, "0\r\n\r\n", 5);
	} else if (strcmp(path, "/api/generate") == 0) {
		eb_mock_send_all(fd, nd_hdr, sizeof(nd_hdr) - 1);
		if (bad) {
			snprintf(out, sizeof(out), "{\"error\":\"%s\"}\n", a);
			eb_mock_send_chunk(fd, out, strlen(out));
		} else {
			for (int i = 0; i < 4; i++) {
				snprintf(out, sizeof(out),
					 "{\"model\":\"%s\",\"response\":\" x\",\"done\":false}\n", a);
				eb_mock_send_chunk(fd, out, strlen(out));
			}
			snprintf(out, sizeof(out),
				 "{\"model\":\"%s\",\"response\":\"\",\"done\":true,\"done_reason\":\"%s\","
				 "\"prompt_eval_count\":16,\"eval_count\":4,\"eval_duration\":4000000}\n",
				 a, a);
			eb_mock_send_chunk(fd, out, strlen(out));
		}
		eb_mock_send_all(fd, "0\r\n\r\n", 5);
	} else {
		return 0;
	}
	return 1;
}

/* A run against the reflecting servers (openai and ollama, a good and a bad model each) and
 * an exec program whose stderr carries the same escapes and a byte that is not UTF-8. */
static void eb_reflect_run(const char *name, char *db, size_t n, char **out)
{
	struct eb_mock oai, oll;
	char cfg[4200], want[300];
	json_t *j;
	char *text;
	int rc;

	setenv("EB_TEST_SECRET_KEY", eb_secret, 1);
	eb_test_tmpdir(name, eb_dir, sizeof(eb_dir));
	eb_mock_start(&oai, "streams/llama-server-v1-completions.sse");
	eb_mock_start(&oll, "streams/ollama-generate.ndjson");
	oai.handle = oll.handle = eb_reflect_handle;
	j = json_pack("{s:s, s:[{s:s, s:s, s:{s:s, s:s, s:s}}, {s:s, s:s, s:{s:s, s:s}},"
		      " {s:s, s:s, s:{s:[s,s,s]}}],"
		      " s:[{s:s, s:[{s:s, s:s}, {s:s, s:s}]}], s:{s:{s:[i], s:i, s:i, s:i}}}",
		      "name", "reflect", "targets",
		      "id", "oai", "adapter", "openai", "options", "base_url",
		      (snprintf(cfg, sizeof(cfg), "http://127.0.0.1:%d", oai.port), cfg),
		      "api_key_env", "EB_TEST_SECRET_KEY", "tokenize", "off",
		      "id", "oll", "adapter", "ollama", "options", "base_url",
		      (snprintf(want, sizeof(want), "http://127.0.0.1:%d", oll.port), want),
		      "api_key_env", "EB_TEST_SECRET_KEY",
		      "id", "prog", "adapter", "exec", "options", "argv", "/bin/sh", "-c",
		      "printf 'oops \\033]0;PWNED\\007\\033[2J \\377\\n' >&2; exit 1",
		      "models", "id", "m", "variants", "quant", "good", "model_name", "good",
		      "quant", "bad", "model_name", "bad", "workloads", "latency", "prompt_tokens",
		      16, "gen_tokens", 4, "warmup", 0, "repetitions", 1);
	ck_assert_ptr_nonnull(j);
	text = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	eb_write_config("reflect.json", text, cfg, sizeof(cfg));
	free(text);
	snprintf(db, n, "%s/reflect.db", eb_dir);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, NULL };

		rc = eb_test_run(argv, out);
	}
	ck_assert_msg(rc == 1, "exit %d: %s", rc, *out); /* the bad models and exec failed */
	snprintf(want, sizeof(want), "Bearer %s", eb_secret);
	ck_assert_str_eq(oai.last_auth, want);
	ck_assert_str_eq(oll.last_auth, want);
	eb_mock_stop(&oai);
	eb_mock_stop(&oll);
}

/* Counts the rows of every column of every table of `db` whose text holds `needle`. */
static long long eb_db_hits(const char *db, const char *needle)
{
	sqlite3 *h = eb_test_db_open(db);
	sqlite3_stmt *tabs, *cols, *q;
	long long hits = 0, ncols = 0;

	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT name FROM sqlite_master WHERE type='table'",
					    -1, &tabs, NULL), SQLITE_OK);
	while (sqlite3_step(tabs) == SQLITE_ROW) {
		char *sql = sqlite3_mprintf("SELECT name FROM pragma_table_info(%Q)",
					    (const char *)sqlite3_column_text(tabs, 0));

		ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &cols, NULL), SQLITE_OK);
		sqlite3_free(sql);
		while (sqlite3_step(cols) == SQLITE_ROW) {
			sql = sqlite3_mprintf("SELECT count(*) FROM \"%w\" WHERE instr(CAST(\"%w\" AS BLOB),"
					      " CAST(?1 AS BLOB)) > 0",
					      (const char *)sqlite3_column_text(tabs, 0),
					      (const char *)sqlite3_column_text(cols, 0));
			ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &q, NULL), SQLITE_OK);
			sqlite3_free(sql);
			sqlite3_bind_text(q, 1, needle, -1, SQLITE_STATIC);
			ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
			hits += sqlite3_column_int64(q, 0);
			sqlite3_finalize(q);
			ncols++;
		}
		sqlite3_finalize(cols);
	}
	sqlite3_finalize(tabs);
	sqlite3_close(h);
	ck_assert_int_gt(ncols, 50); /* the whole schema was searched */
	return hits;
}

/* Item 15: the reflected key is stored nowhere (every table, every column, the file's bytes)
 * while the fields that carried it are stored, with [REDACTED] in its place. */
START_TEST(reflected_key_in_no_stored_field)
{
	char db[4300], *out = NULL, *v;
	struct eb_err err;
	char *data = NULL;
	size_t len;
	sqlite3 *h;

	eb_reflect_run("security-reflect", db, sizeof(db), &out);
	ck_assert_msg(!eb_has(out, strlen(out), eb_secret), "run printed the key: %s", out);
	free(out);
	ck_assert_int_eq(eb_db_hits(db, eb_secret), 0);
	ck_assert_int_eq(eb_db_hits(db, "sk-edgebench"), 0); /* nor a start of it */
	ck_assert_msg(eb_read_file(db, 64u << 20, &data, &len, &err) == 0, "%s", err.msg);
	ck_assert(!eb_has(data, len, eb_secret));
	free(data);
	h = eb_test_db_open(db);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM cells WHERE status='ok'"), 2);
	/* the fields are there, the key is not */
	v = eb_test_qs(h, "SELECT json_extract(backend_json, '$.owned_by') FROM cells"
			  " WHERE target = 'oai' AND status = 'ok'");
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "Bearer [REDACTED] \\x1b]0;PWNED\\x07\\x1b[2J");
	free(v);
	v = eb_test_qs(h, "SELECT json_extract(backend_json, '$.family') FROM cells"
			  " WHERE target = 'oll' AND status = 'ok'");
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "Bearer [REDACTED] \\x1b]0;PWNED\\x07\\x1b[2J");
	free(v);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM requests WHERE"
					  " json_extract(server_json, '$.finish_reason') LIKE"
					  " 'Bearer [REDACTED]%'"), 1);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM requests WHERE"
					  " json_extract(server_json, '$.done_reason') LIKE"
					  " 'Bearer [REDACTED]%'"), 1);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM cells WHERE status = 'failed'"
					  " AND error LIKE '%Bearer [REDACTED] %'"), 2);
	sqlite3_close(h);
}
END_TEST

/* Whether n bytes of `s` hold an ESC or a BEL byte. */
static int eb_has_escape(const char *s, size_t n)
{
	return memchr(s, 0x1b, n) != NULL || memchr(s, 0x07, n) != NULL;
}

/* Item 16: stream errors (SSE, NDJSON) and an exec stderr tail carrying a terminal title
 * sequence: nothing stored, and nothing run, list or csv print, holds an ESC or BEL byte. */
START_TEST(terminal_escapes_never_stored_or_printed)
{
	static const char *const show[][7] = {
		{ "list", NULL },
		{ "report", "--format", "csv", "--wide", NULL },
	};
	char db[4300], *out = NULL, *e;
	sqlite3 *h;

	eb_reflect_run("security-escapes", db, sizeof(db), &out);
	ck_assert_msg(!eb_has_escape(out, strlen(out)), "run printed an escape: %s", out);
	ck_assert_msg(strstr(out, "oops \\x1b]0;PWNED\\x07\\x1b[2J \xef\xbf\xbd"), "%s", out);
	free(out);
	ck_assert_int_eq(eb_db_hits(db, "\x1b"), 0);
	ck_assert_int_eq(eb_db_hits(db, "\x07"), 0);
	ck_assert_int_eq(eb_db_hits(db, "\xff"), 0);
	h = eb_test_db_open(db);
	e = eb_test_qs(h, "SELECT error FROM cells WHERE target = 'prog' LIMIT 1");
	ck_assert_ptr_nonnull(e);
	ck_assert_msg(strstr(e, "stderr: oops \\x1b]0;PWNED\\x07\\x1b[2J \xef\xbf\xbd"), "%s", e);
	free(e);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM cells WHERE status = 'failed'"
					  " AND error LIKE '%\\x1b]0;PWNED\\x07\\x1b[2J%'"), 4);
	sqlite3_close(h);
	for (size_t i = 0; i < sizeof(show) / sizeof(show[0]); i++) {
		const char *argv[12] = { "edgebench" };
		size_t k = 1;

		for (size_t a = 0; show[i][a]; a++)
			argv[k++] = show[i][a];
		argv[k++] = "--db";
		argv[k++] = db;
		argv[k] = NULL;
		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		ck_assert_msg(!eb_has_escape(out, strlen(out)), "%s printed an escape: %s",
			      show[i][0], out);
		ck_assert_msg(strstr(out, "PWNED"), "%s: %s", show[i][0], out);
		free(out);
	}
}
END_TEST

/* The redaction itself: copies anywhere, a copy cut by the quote's limit, a cut-off start. */
START_TEST(redaction_of_quotes)
{
	const struct eb_opt table[] = { EB_HTTP_OPTIONS("http://127.0.0.1"), { NULL } };
	json_t *opts = json_pack("{s:s}", "api_key_env", "EB_TEST_SECRET_KEY");
	char pad[256], want[512], msg[EB_ERR_MSG_MAX];
	struct eb_http h;
	struct eb_err err;
	struct eb_buf b, in;

	setenv("EB_TEST_SECRET_KEY", eb_secret, 1);
	ck_assert_msg(eb_http_init(&h, "t", opts, table, &err) == 0, "%s", err.msg);
	eb_buf_init(&b, 0);
	eb_buf_init(&in, 0);
	/* two copies and a start of one at the end */
	eb_buf_addf(&in, "A%sB%s|%.10s", eb_secret, eb_secret, eb_secret);
	eb_http_quote(&h, &b, in.buf, in.len, 200);
	ck_assert_str_eq(b.buf, "A[REDACTED]B[REDACTED]|[REDACTED]");
	/* a copy that the 200-byte limit would cut in two */
	memset(pad, 'x', 189);
	pad[189] = '\0';
	eb_buf_reset(&in);
	eb_buf_reset(&b);
	eb_buf_addf(&in, "%s%s}", pad, eb_secret);
	eb_http_quote(&h, &b, in.buf, in.len, 200);
	snprintf(want, sizeof(want), "%s[REDACTED]}", pad);
	ck_assert_str_eq(b.buf, want);
	eb_buf_reset(&in);
	eb_buf_reset(&b);
	eb_buf_addf(&in, "%s%s%s}", pad, pad, eb_secret);
	eb_http_quote(&h, &b, in.buf, in.len, 200);
	ck_assert(!strstr(b.buf, "sk-e"));
	/* a message that ends inside a copy */
	snprintf(msg, sizeof(msg), "t: HTTP 401: 'Authorization: Bearer %.12s", eb_secret);
	eb_http_redact(&h, msg);
	ck_assert_str_eq(msg, "t: HTTP 401: 'Authorization: Bearer [REDACTED]");
	eb_buf_release(&b);
	eb_buf_release(&in);
	eb_http_release(&h);
	json_decref(opts);
}
END_TEST

/* --- hostile names ------------------------------------------------------------------- */

/* Names a merged database may carry (a config's ids cannot): every character that means
 * something to markdown, LaTeX, HTML or a shell, and a line break. */
static const char eb_h_target[] = "t$\\|`x\ny";
static const char eb_h_model[] = "<script>alert('x')</script>&amp;%_";
static const char eb_h_quant[] = "q#{1}~^[2]\"";

static char *eb_report(const char *db, const char *fmt, const char *layout)
{
	const char *argv[] = { "edgebench", "report", "--db", db, "--format", fmt, "--layout",
			       layout, "--no-plots", NULL };
	char *out = NULL;

	ck_assert_int_eq(eb_test_run(argv, &out), 0);
	return out;
}

static void eb_assert_has(const char *what, const char *out, const char *needle)
{
	ck_assert_msg(strstr(out, needle), "%s lacks '%s':\n%s", what, needle, out);
}

START_TEST(hostile_names_escaped)
{
	static const double ttft[] = { 10, 11, 12 }, dec[] = { 50, 51, 52 };
	char db[4300], *out;
	int64_t run, cell;

	eb_test_tmpdir("security-names", eb_dir, sizeof(eb_dir));
	snprintf(db, sizeof(db), "%s/names.db", eb_dir);
	eb_tdb_open(db);
	run = eb_tdb_run("00000000-0000-4000-8000-00000000abcd", "hostile", NULL);
	{
		struct eb_tcell tc = { eb_h_target, eb_h_model, eb_h_quant, 16, 8, "ok", NULL };

		cell = eb_tdb_cell(run, &tc);
		eb_tdb_requests(cell, 16, 8, ttft, dec, 3);
	}
	eb_tdb_close();

	/* markdown: backslash escapes, entities for markup, the line break a space */
	out = eb_report(db, "md", "cells");
	eb_assert_has("md", out, "| t\\$\\\\\\|\\`x y | &lt;script&gt;alert('x')&lt;/script&gt;&amp;amp;%\\_ |"
				 " q\\#{1}\\~^\\[2\\]\" |");
	ck_assert_ptr_null(strstr(out, "<script"));
	free(out);
	out = eb_report(db, "md", "card");
	eb_assert_has("md card", out, "**&lt;script&gt;alert('x')&lt;/script&gt;&amp;amp;%\\_ on t\\$\\\\\\|\\`x y");
	free(out);

	/* LaTeX: every special character as its command; nothing left to break the table */
	out = eb_report(db, "latex", "cells");
	eb_assert_has("latex", out, "t\\$\\textbackslash{}\\textbar{}\\`{}x y & "
				    "\\textless{}script\\textgreater{}alert('x')\\textless{}/script"
				    "\\textgreater{}\\&amp;\\%\\_ & "
				    "q\\#\\{1\\}\\textasciitilde{}\\textasciicircum{}{[}2{]}\\textquotedbl{} &");
	free(out);

	/* HTML: entities only; no markup survives, the line break is a space */
	out = eb_report(db, "html", "cells");
	eb_assert_has("html", out, "<td>t$\\|`x y</td><td>&lt;script&gt;alert(&#39;x&#39;)&lt;/script"
				   "&gt;&amp;amp;%_</td><td>q#{1}~^[2]&quot;</td>");
	ck_assert_ptr_null(strstr(out, "<script"));
	free(out);
}
END_TEST

/* --- text from a merged database, cleaned at output (issue 15 item 17) --------------------- */

static char *eb_report_wide(const char *db, const char *fmt, const char *layout)
{
	/* --run all: both runs (the default is each device's latest) */
	const char *argv[] = { "edgebench", "report", "--db", db, "--run", "all", "--format", fmt,
			       "--layout", layout, "--wide", "--no-plots", NULL };
	char *out = NULL;

	ck_assert_int_eq(eb_test_run(argv, &out), 0);
	return out;
}

/*
 * A database holding what edgebench itself no longer stores (a merged one may): an error
 * with invalid UTF-8 and a terminal sequence, names a spreadsheet would run as formulas, and
 * a negative figure. json keeps the error's text (was null); csv neutralises the formulas
 * with a leading ' but leaves the number a number; list prints no ESC, BEL or invalid byte.
 */
START_TEST(merged_text_cleaned_at_output)
{
	static const double ttft[] = { 10, 11, 12 }, dec[] = { 50, 51, 52 };
	static const char err_raw[] = "bad \xff\xfe byte \x1b]0;PWNED\x07 end";
	static const char err_clean[] = "bad \xef\xbf\xbd\xef\xbf\xbd byte \\x1b]0;PWNED\\x07 end";
	char db[4300], *out;
	json_t *j, *row;
	json_error_t jerr;
	int64_t run, cell;

	eb_test_tmpdir("security-merged", eb_dir, sizeof(eb_dir));
	snprintf(db, sizeof(db), "%s/merged.db", eb_dir);
	eb_tdb_open(db);
	run = eb_tdb_run("u-merged", "merged", eb_tdb_config);
	eb_tdb_cell(run, &(struct eb_tcell){ "=HYPERLINK(\"http://x\",\"y\")", "+cmd", "@sum", 16, 4,
					     "failed", err_raw });
	cell = eb_tdb_cell(run, &(struct eb_tcell){ "cpu", "-tiny", "q4_0", 16, 4, "ok", NULL });
	eb_tdb_requests(cell, 16, 4, ttft, dec, 3);
	eb_tdb_value(cell, "kv_bytes", "B", -5.0);
	/* a second run in which that cell failed, for compare */
	run = eb_tdb_run("u-merged-2", "merged", eb_tdb_config);
	eb_tdb_cell(run, &(struct eb_tcell){ "cpu", "-tiny", "q4_0", 16, 4, "failed", err_raw });
	eb_tdb_close();

	/* json: the error's text, cleaned, not null */
	out = eb_report_wide(db, "json", "cells");
	j = json_loads(out, 0, &jerr);
	ck_assert_msg(j, "%s: %s", jerr.text, out);
	row = json_array_get(j, 0);
	ck_assert_msg(json_is_string(json_object_get(row, "error")), "%s", out);
	ck_assert_str_eq(json_string_value(json_object_get(row, "error")), err_clean);
	json_decref(j);
	free(out);

	/* csv: formulas are text, the error carries no control byte */
	out = eb_report_wide(db, "csv", "cells");
	eb_assert_has("csv", out, "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",'+cmd,'@sum,");
	eb_assert_has("csv", out, "cpu,'-tiny,q4_0,");
	eb_assert_has("csv", out, err_clean);
	ck_assert(!eb_has_escape(out, strlen(out)));
	ck_assert_ptr_null(strstr(out, "\xff"));
	free(out);
	/* a negative figure stays a number */
	out = eb_report_wide(db, "csv", "long");
	eb_assert_has("csv long", out, ",kv_bytes,B,1,-5,");
	free(out);

	/* list: one terminal-safe line per cell */
	{
		const char *argv[] = { "edgebench", "list", "--db", db, NULL };

		ck_assert_int_eq(eb_test_run(argv, &out), 0);
	}
	eb_assert_has("list", out, err_clean);
	ck_assert(!eb_has_escape(out, strlen(out)));
	free(out);

	/* compare: json and JUnit keep the candidate's error as clean text */
	{
		char junit[4400];
		const char *argv[] = { "edgebench", "compare", "1", "2", "--db", db, "--format",
				       "json", "--junit", junit, NULL };
		const char *e;

		snprintf(junit, sizeof(junit), "%s/junit.xml", eb_dir);
		eb_test_run(argv, &out);
		j = json_loads(out, 0, &jerr);
		ck_assert_msg(j, "%s: %s", jerr.text, out);
		e = NULL;
		for (size_t i = 0; i < json_array_size(json_object_get(j, "results")); i++) {
			row = json_array_get(json_object_get(j, "results"), i);
			if (json_string_value(json_object_get(row, "candidate_error")))
				e = json_string_value(json_object_get(row, "candidate_error"));
		}
		ck_assert_msg(e, "%s", out);
		ck_assert_str_eq(e, err_clean);
		json_decref(j);
		free(out);
		out = eb_tdb_slurp(junit, NULL);
		ck_assert_ptr_nonnull(out);
		eb_assert_has("junit", out, err_clean);
		ck_assert(!eb_has_escape(out, strlen(out)));
		ck_assert_ptr_null(strstr(out, "\xff"));
		free(out);
	}
}
END_TEST

/*
 * Stored times at the ends of 64 bits (a merged database may hold them): the power figure
 * takes sample times relative to the first one and shades each request from its send time
 * to send + TTFT and send + E2E. The span is 2^64 - 3 ns, kept (it wrapped to -3 ns, a
 * signed overflow UBSan reported); a window whose end does not fit 64 bits is left out
 * (it was drawn at wrapped coordinates); the one that fits is drawn where it is.
 */
START_TEST(stored_times_at_int64_limits)
{
	static const double ttft[] = { 10, 11, 12 }, dec[] = { 50, 51, 52 }, w[] = { 5.0 };
	char db[4300], fig[4400], dat[4400], gp[4400], *out = NULL, *data;
	int64_t run, cell;
	int rc;

	eb_test_tmpdir("security-times", eb_dir, sizeof(eb_dir));
	snprintf(db, sizeof(db), "%s/times.db", eb_dir);
	eb_tdb_open(db);
	run = eb_tdb_run("u-times", "times", eb_tdb_config);
	cell = eb_tdb_cell(run, &(struct eb_tcell){ "cpu", "tiny", "f16", 16, 4, "ok", NULL });
	eb_tdb_requests(cell, 16, 4, ttft, dec, 3);
	eb_tdb_power(cell, "hwmon", "VDD_IN", INT64_MIN + 1, 0, w, 1);
	eb_tdb_power(cell, "hwmon", "VDD_IN", INT64_MAX - 1, 0, w, 1);
	/* rep 0 sent at 0 (its window fits), reps 1, 2 and the warm-up at the very end */
	eb_tdb_exec("UPDATE requests SET t_send_ns = CASE WHEN rep = 0 AND warmup = 0 THEN 0"
		    " ELSE 9223372036854775807 - 1000 END");
	eb_tdb_close();
	snprintf(fig, sizeof(fig), "%s/power.svg", eb_dir);
	snprintf(dat, sizeof(dat), "%s/power.dat", eb_dir);
	snprintf(gp, sizeof(gp), "%s/power.gp", eb_dir);
	{
		const char *argv[] = { "edgebench", "plot", "--db", db, "--kind", "power", "--out",
				       fig, NULL };

		rc = eb_test_run(argv, &out);
	}
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	free(out);
	data = eb_tdb_slurp(dat, NULL);
	ck_assert_ptr_nonnull(data);
	eb_assert_has("power.dat", data, "\n0.000000 5\n");
	eb_assert_has("power.dat", data, "\n18446744073.709553 5\n");
	free(data);
	data = eb_tdb_slurp(gp, NULL);
	ck_assert_ptr_nonnull(data);
	eb_assert_has("power.gp", data, "set object 1 rect from 9223372036.854776, graph 0 to "
					"9223372036.864777, graph 1");
	ck_assert_msg(!strstr(data, "set object 3 "), "%s", data);
	ck_assert_msg(!strstr(data, "rect from -"), "%s", data);
	free(data);
}
END_TEST

/* --- exec: argv, never a shell ------------------------------------------------------------ */

/* Through `edgebench run`: shell syntax in the model name and in a literal argument reaches
 * the program as one argument each, byte for byte, and runs nothing. */
START_TEST(exec_run_without_shell)
{
	static const char model[] = "m; touch PWNED_A #$(touch PWNED_B)`touch PWNED_C`";
	static const char lit[] = "--x=\"a b\" | tee PWNED_D > /dev/null & ${HOME}";
	char cfg[4200], db[4300], argdir[4300], script[4096], fixture[4096], text[8192];
	char *out = NULL, *got;
	json_t *j;
	struct eb_err err;
	size_t len;
	int rc;

	eb_test_tmpdir("security-exec", eb_dir, sizeof(eb_dir));
	eb_test_data("exec/fake_drpai.sh", script, sizeof(script));
	eb_test_data("streams/renesas-drpai-tvm.log", fixture, sizeof(fixture));
	snprintf(argdir, sizeof(argdir), "%s/argv", eb_dir);
	ck_assert_msg(eb_mkdirs(argdir, &err) == 0, "%s", err.msg);
	/* the config through jansson, so the strings are escaped as JSON wants */
	j = json_pack("{s:s, s:[{s:s, s:s, s:{s:[s,s,s,s,s,s], s:{s:s, s:s, s:s}, s:s}}],"
		      " s:[{s:s, s:[{s:s, s:s}]}], s:{s:{s:[i], s:i, s:i, s:i}}}",
		      "name", "exec-shell", "targets", "id", "app", "adapter", "exec", "options",
		      "argv", script, "{max_tokens}", "{prompt_file}", "{prompt}", "{model}", lit,
		      "env", "EB_FAKE_MODE", "ok", "EB_ARGV_DIR", argdir, "EB_FIXTURE", fixture,
		      "tokens_regex", "^generated ([0-9]+) tokens", "models", "id", "m", "variants",
		      "quant", "q", "model_name", model, "workloads", "latency", "prompt_tokens", 8,
		      "gen_tokens", 2, "warmup", 0, "repetitions", 1);
	ck_assert_ptr_nonnull(j);
	{
		char *s = json_dumps(j, JSON_INDENT(2));

		eb_strlcpy(text, s, sizeof(text));
		free(s);
		json_decref(j);
	}
	eb_write_config("exec.json", text, cfg, sizeof(cfg));
	snprintf(db, sizeof(db), "%s/exec.db", eb_dir);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--quiet", NULL };

		rc = eb_test_run(argv, &out);
	}
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	free(out);
	snprintf(text, sizeof(text), "%s/argc", argdir);
	ck_assert_msg(eb_read_file(text, 64, &got, &len, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(got, "5");
	free(got);
	snprintf(text, sizeof(text), "%s/arg4", argdir);
	ck_assert_msg(eb_read_file(text, 4096, &got, &len, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(len, strlen(model));
	ck_assert_mem_eq(got, model, len);
	free(got);
	snprintf(text, sizeof(text), "%s/arg5", argdir);
	ck_assert_msg(eb_read_file(text, 4096, &got, &len, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(len, strlen(lit));
	ck_assert_mem_eq(got, lit, len);
	free(got);
	/* nothing ran: no file appeared where a shell would have made one */
	for (const char *p = "ABCD"; *p; p++) {
		char f[4400];

		snprintf(f, sizeof(f), "%s/PWNED_%c", eb_dir, *p);
		ck_assert_int_ne(access(f, F_OK), 0);
		snprintf(f, sizeof(f), "PWNED_%c", *p);
		ck_assert_int_ne(access(f, F_OK), 0);
	}
}
END_TEST

/* --- one transfer policy ------------------------------------------------------------ */

static char eb_file_url[4200];

/*
 * /to-file redirects to eb_file_url; /to-ftp to ftp:// on a port where nothing listens
 * (libcurl follows ftp by default, file never); /hop to /ok on the same server, which
 * answers.
 */
static int eb_redirect_handle(struct eb_mock *m, int fd, const char *path, const char *body,
			      size_t len)
{
	char hdr[4600];

	if (strcmp(path, "/to-file") == 0 || strcmp(path, "/to-ftp") == 0 ||
	    strcmp(path, "/hop") == 0) {
		snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n"
			 "Connection: close\r\n\r\n",
			 strcmp(path, "/hop") == 0     ? "/ok"
			 : strcmp(path, "/to-ftp") == 0 ? "ftp://127.0.0.1:1/x"
							: eb_file_url);
		eb_mock_send_all(fd, hdr, strlen(hdr));
		return 1;
	}
	if (strcmp(path, "/ok") == 0) {
		eb_mock_respond(fd, "200 OK", "text/plain", "fine\n");
		return 1;
	}
	return 0;
}

/*
 * Both users of the one libcurl policy stay on http and https: dataset downloads follow
 * http redirects but refuse those to ftp:// and file:// (and a file:// URL given
 * directly); the adapters answer a redirect with its status and never follow it, and
 * their handle refuses file:// where base_url's check would not stop it.
 */
START_TEST(redirect_off_http_refused)
{
	static const char local[] = "a local file no server may read\n";
	const struct eb_opt table[] = { EB_HTTP_OPTIONS("http://127.0.0.1"), { NULL } };
	struct eb_http_req rq = { .path = "/to-file" };
	char file[4200], dest[4200], part[4300], url[128], *got = NULL;
	struct eb_http_res res;
	struct eb_http h;
	struct eb_mock m;
	struct eb_err err;
	json_t *opts;
	size_t len;

	eb_test_tmpdir("security-redirect", eb_dir, sizeof(eb_dir));
	snprintf(file, sizeof(file), "%s/local.txt", eb_dir);
	ck_assert_int_eq(eb_write_file(file, local, sizeof(local) - 1, &err), 0);
	snprintf(eb_file_url, sizeof(eb_file_url), "file://%s", file);
	eb_mock_start(&m, "streams/ollama-generate.ndjson");
	m.handle = eb_redirect_handle;

	/* datasets: an http redirect is followed, the one to file:// is not */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hop", m.port);
	snprintf(dest, sizeof(dest), "%s/hop.txt", eb_dir);
	ck_assert_msg(eb_fetch_url(url, dest, NULL, NULL, NULL, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(eb_read_file(dest, 1024, &got, &len, &err), 0);
	ck_assert_str_eq(got, "fine\n");
	free(got);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/to-file", m.port);
	snprintf(dest, sizeof(dest), "%s/stolen.txt", eb_dir);
	snprintf(part, sizeof(part), "%s.part", dest);
	ck_assert_int_eq(eb_fetch_url(url, dest, NULL, NULL, NULL, &err), EB_EIO);
	ck_assert_msg(strstr(err.msg, "\"file\""), "%s", err.msg);
	ck_assert_int_ne(access(dest, F_OK), 0);
	ck_assert_int_ne(access(part, F_OK), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/to-ftp", m.port);
	ck_assert_int_eq(eb_fetch_url(url, dest, NULL, NULL, NULL, &err), EB_EIO);
	ck_assert_msg(strstr(err.msg, "\"ftp\""), "%s", err.msg);
	ck_assert_int_eq(eb_fetch_url(eb_file_url, dest, NULL, NULL, NULL, &err), EB_EIO);
	ck_assert_msg(strstr(err.msg, "\"file\""), "%s", err.msg);
	ck_assert_int_ne(access(dest, F_OK), 0);

	/* adapters: the redirect is an answer with its status */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", m.port);
	opts = json_pack("{s:s}", "base_url", url);
	ck_assert_msg(eb_http_init(&h, "t", opts, table, &err) == 0, "%s", err.msg);
	eb_http_res_init(&res);
	ck_assert_int_eq(eb_http_request(&h, &rq, &res, &err), EB_EADAPTER);
	ck_assert_int_eq(res.status, 302);
	eb_http_res_release(&res);
	/* the handle itself refuses file://, should a URL ever get past base_url's check */
	free(h.base_url);
	h.base_url = eb_xstrdup(eb_file_url);
	rq.path = "";
	eb_http_res_init(&res);
	ck_assert_int_eq(eb_http_request(&h, &rq, &res, &err), EB_EIO);
	ck_assert_msg(strstr(err.msg, "\"file\""), "%s", err.msg);
	ck_assert(!eb_has(res.body.buf, res.body.len, "no server may read"));
	eb_http_res_release(&res);
	eb_http_release(&h);
	json_decref(opts);
	eb_mock_stop(&m);
}
END_TEST

/* --- TLS ----------------------------------------------------------------------------- */

/*
 * An HTTPS server with a self-signed certificate (tests/data/tls): by default the request
 * fails on the certificate, and the cell says how to fix it; with ca_file naming that
 * certificate it succeeds, still verifying; with insecure: true it succeeds, and both the
 * run's stored config and every cell record that verification was off.
 */
START_TEST(tls_verified_unless_turned_off)
{
	char cert[4096], key[4096], body[4096], server[4096], cfg[4200], db[4300], text[4096];
	char port[16] = "", *out = NULL, *e;
	struct eb_proc p;
	struct eb_err err;
	sqlite3 *h;
	ssize_t n;
	int rc;

	EB_TEST_SKIP_IF(eb_test_lacks_python()); /* the server is tests/data/tls/server.py */
	eb_test_tmpdir("security-tls", eb_dir, sizeof(eb_dir));
	eb_test_data("tls/cert.pem", cert, sizeof(cert));
	eb_test_data("tls/key.pem", key, sizeof(key));
	eb_test_data("tls/server.py", server, sizeof(server));
	eb_test_data("streams/llama-server-v1-completions.sse", body, sizeof(body));
	{
		const char *argv[] = { "python3", server, cert, key, body, NULL };

		ck_assert_msg(eb_proc_start(&p, argv, NULL, EB_PROC_PIPE_OUT | EB_PROC_NULL_IN, &err) == 0,
			      "%s", err.msg);
	}
	n = read(p.out_fd, port, sizeof(port) - 1);
	ck_assert_msg(n > 1, "the TLS server printed no port");
	port[strcspn(port, "\n")] = '\0';
	snprintf(text, sizeof(text),
		 "{ \"name\": \"tls\",\n"
		 "  \"targets\": [\n"
		 "    { \"id\": \"verify\", \"adapter\": \"openai\", \"options\": {\n"
		 "      \"base_url\": \"https://127.0.0.1:%s\", \"tokenize\": \"off\", \"retries\": 0 } },\n"
		 "    { \"id\": \"ca\", \"adapter\": \"openai\", \"options\": {\n"
		 "      \"base_url\": \"https://127.0.0.1:%s\", \"tokenize\": \"off\", \"ca_file\": \"%s\" } },\n"
		 "    { \"id\": \"insecure\", \"adapter\": \"openai\", \"options\": {\n"
		 "      \"base_url\": \"https://127.0.0.1:%s\", \"tokenize\": \"off\", \"insecure\": true } } ],\n"
		 "  \"models\": [ { \"id\": \"m\", \"variants\": [ { \"quant\": \"q\", \"model_name\": \"tiny\" } ] } ],\n"
		 "  \"workloads\": { \"latency\": { \"prompt_tokens\": [8], \"gen_tokens\": 4,\n"
		 "    \"warmup\": 0, \"repetitions\": 1 } } }\n",
		 port, port, cert, port);
	eb_write_config("tls.json", text, cfg, sizeof(cfg));
	snprintf(db, sizeof(db), "%s/tls.db", eb_dir);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, NULL };

		rc = eb_test_run(argv, &out);
	}
	eb_proc_kill(&p, SIGKILL);
	eb_proc_wait(&p);
	eb_proc_release(&p);
	ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
	/* turning verification off is said before the run starts */
	ck_assert_msg(strncmp(out, "edgebench run: warning: target 'insecure' does not verify TLS "
				   "certificates (insecure: true); its cells record tls_verify: false\n",
			      117) == 0,
		      "%s", out);
	free(out);
	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	e = eb_test_q_str(h, "SELECT error FROM cells WHERE target='verify'");
	snprintf(text, sizeof(text),
		 "openai: the TLS certificate of 'https://127.0.0.1:%s/v1/completions' could not be "
		 "verified: SSL certificate problem: self-signed certificate (name the server's CA "
		 "with the ca_file option; insecure: true skips the check, and every cell records "
		 "that)",
		 port);
	ck_assert_str_eq(e, text);
	free(e);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM requests r JOIN cells c ON"
					  " c.id=r.cell_id WHERE c.target='verify'"), 0);
	/* verified against the given CA, and without verification: both got the stream */
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM cells c WHERE status='ok' AND"
					  " target IN ('ca','insecure') AND (SELECT n_out FROM requests"
					  " WHERE cell_id=c.id)=4"), 2);
	/* what each cell records */
	ck_assert_int_eq(eb_test_q_int(h, "SELECT json_extract(backend_json, '$.tls_verify') FROM"
					  " cells WHERE target='verify'"), 1);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT json_extract(backend_json, '$.tls_verify') FROM"
					  " cells WHERE target='ca'"), 1);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT json_extract(backend_json, '$.tls_verify') FROM"
					  " cells WHERE target='insecure'"), 0);
	e = eb_test_q_str(h, "SELECT json_extract(backend_json, '$.ca_file') FROM cells WHERE"
			     " target='ca'");
	ck_assert_str_eq(e, cert);
	free(e);
	/* and the run's stored config says it was asked for */
	ck_assert_int_eq(eb_test_q_int(h, "SELECT json_extract(config_json,"
					  " '$.targets[2].options.insecure') FROM runs"), 1);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM runs WHERE json_extract(config_json,"
					  " '$.targets[0].options.insecure') IS NULL"), 1);
	sqlite3_close(h);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("security");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, api_key_never_stored_or_printed);
	tcase_add_test(tc, echoed_key_is_redacted);
	tcase_add_test(tc, redaction_of_quotes);
	tcase_add_test(tc, reflected_key_in_no_stored_field);
	tcase_add_test(tc, terminal_escapes_never_stored_or_printed);
	tcase_add_test(tc, hostile_names_escaped);
	tcase_add_test(tc, merged_text_cleaned_at_output);
	tcase_add_test(tc, stored_times_at_int64_limits);
	tcase_add_test(tc, exec_run_without_shell);
	tcase_add_test(tc, tls_verified_unless_turned_off);
	tcase_add_test(tc, redirect_off_http_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
