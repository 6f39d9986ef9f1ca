/* ctest: labels=integration,models,serial timeout=300 */
/* check_faults.c: `edgebench run` against faults: unwritable, missing and full databases, and servers that stall, break off or answer garbage. */
#include "eb_proc.h"
#include "eb_util.h"
#include "mockhttp.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char eb_dir[4096];

/* --- helpers ------------------------------------------------------------------------- */

/* A 6-cell config on the tiny models (2 variants x 3 prompt lengths); returns its path. */
static const char *eb_tiny_config(char *buf, size_t n)
{
	const char *m = eb_test_models_dir();
	struct eb_buf b;
	struct eb_err err;

	eb_buf_init(&b, 0);
	eb_buf_addf(&b,
		    "{ \"name\": \"faults\",\n"
		    "  \"targets\": [ { \"id\": \"cpu\", \"adapter\": \"llamacpp\",\n"
		    "    \"options\": { \"threads\": 1, \"n_ctx\": 256, \"n_gpu_layers\": 0 } } ],\n"
		    "  \"models\": [ { \"id\": \"tiny\", \"variants\": [\n"
		    "    { \"quant\": \"q8_0\", \"file\": \"%s/tiny-q8_0.gguf\" },\n"
		    "    { \"quant\": \"q4_0\", \"file\": \"%s/tiny-q4_0.gguf\" } ] } ],\n"
		    "  \"workloads\": { \"latency\": { \"prompt_tokens\": [8, 16, 24], \"gen_tokens\": 8,\n"
		    "    \"warmup\": 1, \"repetitions\": 2 } } }\n",
		    m, m);
	snprintf(buf, n, "%s/faults.json", eb_dir);
	ck_assert_msg(eb_write_file(buf, b.buf, b.len, &err) == 0, "%s", err.msg);
	eb_buf_release(&b);
	return buf;
}

static sqlite3 *eb_db_open(const char *path)
{
	sqlite3 *db = NULL;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	return db;
}

static void eb_assert_integrity(const char *db)
{
	sqlite3 *h = eb_db_open(db);
	char *ic = eb_test_q_str(h, "PRAGMA integrity_check");

	ck_assert_str_eq(ic, "ok");
	free(ic);
	sqlite3_close(h);
}

/*
 * Runs edgebench (argv[0] ignored) without the capabilities that let root ignore file
 * permissions, so that a read-only file or directory is read-only to it as to any other
 * user; output (stdout and stderr) into *out. Returns the exit code (128+signal).
 */
static int eb_run_unprivileged(const char *const *argv, char **out)
{
	static const int caps[] = { CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER };
	char log[4200];
	struct eb_err err;
	size_t len;
	pid_t pid;
	int st;

	snprintf(log, sizeof(log), "%s/unprivileged.log", eb_dir);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		/* the bounding set survives exec; effective capabilities alone would not */
		for (size_t i = 0; geteuid() == 0 && i < sizeof(caps) / sizeof(caps[0]); i++)
			if (prctl(PR_CAPBSET_DROP, caps[i], 0, 0, 0) != 0) {
				dprintf(2, "check_faults: cannot drop capability %d as root: %s\n",
					caps[i], strerror(errno));
				_exit(125);
			}
		execv(EB_TEST_BIN, (char *const *)argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(eb_read_file(log, 1 << 20, out, &len, &err) == 0, "%s", err.msg);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Runs edgebench with the fault shim preloaded (see faultshim.c); `vars` NAME=value pairs. */
static int eb_run_shimmed(const char *const *argv, const char *const *vars, char **out)
{
	int rc;

	setenv("LD_PRELOAD", EB_TEST_FAULTSHIM, 1);
	setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 1);
	for (size_t i = 0; vars[i]; i += 2)
		setenv(vars[i], vars[i + 1], 1);
	rc = eb_test_run(argv, out);
	unsetenv("LD_PRELOAD");
	for (size_t i = 0; vars[i]; i += 2)
		unsetenv(vars[i]);
	return rc;
}

/* After a failure that stopped the run: what was stored is whole, the rest pending. */
static long long eb_assert_partial(const char *db, long long ncells)
{
	sqlite3 *h;
	long long ok;

	eb_assert_integrity(db);
	h = eb_db_open(db);
	ok = eb_test_q_int(h, "SELECT count(*) FROM cells WHERE status='ok'");
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM cells"), ncells);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM cells WHERE status='pending'"), ncells - ok);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM requests r JOIN cells c ON c.id=r.cell_id"
				 " WHERE c.status<>'ok'"), 0);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM (SELECT cell_id FROM requests GROUP BY"
				 " cell_id HAVING count(*)=3)"), ok);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM runs WHERE status='running'"), 1);
	sqlite3_close(h);
	return ok;
}

/* `run --resume` finishes the run: every cell once, and those stored before untouched. */
static void eb_assert_resumes(const char *cfg, const char *db, long long ncells)
{
	const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--resume", "--quiet", NULL };
	char *before, *after, *out = NULL;
	sqlite3 *h;
	int rc;

	h = eb_db_open(db);
	before = eb_test_q_str(h, "SELECT group_concat(key || '@' || finished_at, ';') FROM cells"
			  " WHERE status='ok'");
	sqlite3_close(h);
	rc = eb_test_run(argv, &out);
	ck_assert_msg(rc == 0, "resume exit %d: %s", rc, out);
	free(out);
	eb_assert_integrity(db);
	h = eb_db_open(db);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM runs"), 1);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM runs WHERE status='ok'"), 1);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(DISTINCT key) FROM cells WHERE status='ok'"), ncells);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM cells"), ncells);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM (SELECT cell_id FROM requests GROUP BY"
				 " cell_id HAVING count(*)=3)"), ncells);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM requests"), 3 * ncells);
	after = eb_test_q_str(h, "SELECT group_concat(key || '@' || finished_at, ';') FROM cells"
			 " WHERE status='ok'");
	ck_assert_msg(strncmp(after, before, strlen(before)) == 0, "'%s' ran again: '%s'", before,
		      after);
	free(before);
	free(after);
	sqlite3_close(h);
}

/* --- the database ------------------------------------------------------------------- */

START_TEST(readonly_database_file)
{
	char cfg[4200], db[4200], want[9000], *out = NULL;
	sqlite3 *h;
	int rc;

	EB_TEST_SKIP_IF(eb_test_lacks_llama()); /* its cells must succeed */
	eb_test_tmpdir("faults-rofile", eb_dir, sizeof(eb_dir));
	eb_tiny_config(cfg, sizeof(cfg));
	snprintf(db, sizeof(db), "%s/ro.db", eb_dir);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--quiet", "--only",
				       "*/q4_0/*/p8-*", NULL };

		rc = eb_test_run(argv, &out);
		ck_assert_msg(rc == 0, "%s", out);
		free(out);
	}
	ck_assert_int_eq(chmod(db, 0444), 0);
	{
		const char *argv[] = { EB_TEST_BIN, "run", cfg, "--db", db, NULL };

		rc = eb_run_unprivileged(argv, &out);
	}
	snprintf(want, sizeof(want), "edgebench run: database '%s' is not writable: Permission "
				     "denied\n", db);
	ck_assert_int_eq(rc, 2);
	ck_assert_str_eq(out, want);
	free(out);
	/* nothing was added to it */
	h = eb_db_open(db);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM runs"), 1);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM cells"), 1);
	sqlite3_close(h);
	/* reading it is fine */
	{
		const char *argv[] = { EB_TEST_BIN, "list", "--db", db, NULL };

		rc = eb_run_unprivileged(argv, &out);
		ck_assert_msg(rc == 0 && strstr(out, "cells 1 (ok 1, failed 0, skipped 0)"), "%d: %s", rc, out);
		free(out);
	}
}
END_TEST

START_TEST(readonly_directory)
{
	char cfg[4200], ro[4200], db[4300], want[9000], *out = NULL;
	struct eb_err err;
	int rc;

	eb_test_tmpdir("faults-rodir", eb_dir, sizeof(eb_dir));
	eb_tiny_config(cfg, sizeof(cfg));
	snprintf(ro, sizeof(ro), "%s/ro", eb_dir);
	ck_assert_msg(eb_mkdirs(ro, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(chmod(ro, 0555), 0);
	snprintf(db, sizeof(db), "%s/new.db", ro);
	{
		const char *argv[] = { EB_TEST_BIN, "run", cfg, "--db", db, NULL };

		rc = eb_run_unprivileged(argv, &out);
	}
	snprintf(want, sizeof(want),
		 "edgebench run: database '%s': cannot create files in directory '%s' (SQLite "
		 "keeps '%s-wal' and '%s-shm' beside the database): Permission denied\n",
		 db, ro, db, db);
	ck_assert_int_eq(rc, 2);
	ck_assert_str_eq(out, want);
	free(out);
	ck_assert_int_ne(access(db, F_OK), 0);
	ck_assert_int_eq(chmod(ro, 0755), 0);
}
END_TEST

START_TEST(missing_directory)
{
	char cfg[4200], db[4300], want[9000], *out = NULL;
	/* run, and merge for its output, check the path the same way */
	const char *const cmds[][6] = { { "edgebench", "run", cfg, "--db", db, NULL },
					{ "edgebench", "merge", db, cfg, NULL } };

	eb_test_tmpdir("faults-nodir", eb_dir, sizeof(eb_dir));
	eb_tiny_config(cfg, sizeof(cfg));
	snprintf(db, sizeof(db), "%s/no/such/dir/x.db", eb_dir);
	for (size_t i = 0; i < 2; i++) {
		int rc = eb_test_run(cmds[i], &out);

		snprintf(want, sizeof(want),
			 "edgebench %s: database '%s': directory '%s/no/such/dir' does not exist "
			 "(create it first)\n", cmds[i][1], db, eb_dir);
		ck_assert_int_eq(rc, 2);
		ck_assert_str_eq(out, want);
		free(out);
	}
	/* a mistyped path creates nothing */
	snprintf(db, sizeof(db), "%s/no", eb_dir);
	ck_assert_int_ne(access(db, F_OK), 0);
}
END_TEST

/* A disk that is full before the run: a clear error naming the database, no cell run. */
START_TEST(disk_full_at_start)
{
	char cfg[4200], db[4300], want[9000], *out = NULL;
	int rc;

	eb_test_tmpdir("faults-full0", eb_dir, sizeof(eb_dir));
	eb_tiny_config(cfg, sizeof(cfg));
	snprintf(db, sizeof(db), "%s/full.db", eb_dir);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, NULL };
		const char *vars[] = { "EB_FAULT_DIR", eb_dir, "EB_FAULT_ENOSPC_BYTES", "0", NULL };

		rc = eb_run_shimmed(argv, vars, &out);
	}
	snprintf(want, sizeof(want), "edgebench run: database '%s': database or disk is full\n", db);
	ck_assert_int_eq(rc, 2);
	ck_assert_str_eq(out, want);
	free(out);
}
END_TEST

/*
 * A disk that fills up in the middle of the run: the run stops at the cell it cannot
 * store, with a message saying so; the cells before are whole, the database is sound,
 * and `run --resume` finishes the rest once there is room.
 */
START_TEST(disk_full_mid_run)
{
	char cfg[4200], db[4300], count[4300], budget[32], *out = NULL;
	long long writes = 0, bytes = 0, ok;
	int rc;

	EB_TEST_SKIP_IF(eb_test_lacks_llama()); /* its cells must succeed */
	eb_test_tmpdir("faults-full", eb_dir, sizeof(eb_dir));
	eb_tiny_config(cfg, sizeof(cfg));
	/* how much a whole run writes */
	snprintf(db, sizeof(db), "%s/whole.db", eb_dir);
	snprintf(count, sizeof(count), "%s/count", eb_dir);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--quiet", NULL };
		const char *vars[] = { "EB_FAULT_DIR", eb_dir, "EB_FAULT_COUNT", count, NULL };
		struct eb_err err;
		char *c = NULL;
		size_t len;

		rc = eb_run_shimmed(argv, vars, &out);
		ck_assert_msg(rc == 0, "%s", out);
		free(out);
		ck_assert_msg(eb_read_file(count, 64, &c, &len, &err) == 0, "%s", err.msg);
		ck_assert_int_eq(sscanf(c, "%lld %lld", &writes, &bytes), 2);
		free(c);
		ck_assert(writes > 10 && bytes > 10000);
	}
	/* half of that fits */
	snprintf(db, sizeof(db), "%s/half.db", eb_dir);
	snprintf(budget, sizeof(budget), "%lld", bytes / 2);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, NULL };
		const char *vars[] = { "EB_FAULT_DIR", eb_dir, "EB_FAULT_ENOSPC_BYTES", budget, NULL };
		char want[9000];

		rc = eb_run_shimmed(argv, vars, &out);
		ck_assert_int_eq(rc, 2);
		ok = eb_assert_partial(db, 6);
		ck_assert_msg(ok >= 1 && ok < 6, "%lld cells stored", ok);
		snprintf(want, sizeof(want),
			 "edgebench run: database '%s': database or disk is full\n"
			 "edgebench run: run 1 stopped; every cell finished before this error is "
			 "stored (%lld in this session); once the database can be written again, "
			 "finish the run with: edgebench run %s --resume --db %s\n",
			 db, ok, cfg, db);
		/* after one log line per stored cell (stderr is a pipe), and its warnings */
		{
			size_t lo = strlen(out), lw = strlen(want);
			long long n_lines = 0;

			ck_assert_msg(lo >= lw && strcmp(out + lo - lw, want) == 0, "%s", out);
			for (const char *p = out; p < out + lo - lw; p = strchr(p, '\n') + 1) {
				ck_assert_msg(strncmp(p, "edgebench: cell cpu/tiny/q8_0/latency/", 38) == 0,
					      "%s", out);
				n_lines += strstr(p, " ok: ttft_ms median ") &&
					   strstr(p, " ok: ttft_ms median ") < strchr(p, '\n');
			}
			ck_assert_msg(n_lines == ok, "%lld cell lines for %lld cells: %s", n_lines, ok,
				      out);
		}
		free(out);
	}
	eb_assert_resumes(cfg, db, 6);
}
END_TEST

/*
 * The same on a real full file system: a 192 KiB tmpfs in a private mount namespace
 * (needs root or CAP_SYS_ADMIN; where `unshare -m` is not allowed the shim case above
 * stands alone and this test is skipped).
 */
START_TEST(disk_full_tmpfs)
{
	static const char script[] =
		"mkdir -p \"$1\" || exit 97\n"
		"mount -t tmpfs -o size=192k tmpfs \"$1\" || exit 99\n"
		"\"$2\" run \"$3\" --db \"$1/t.db\"; rc=$?\n"
		"df -k \"$1\" | tail -n 1 >&2\n"
		"cp \"$1\"/t.db* \"$4\"/ || exit 98\n"
		"exit $rc\n";
	char cfg[4200], mnt[4300], out_dir[4300], db[4400], *out = NULL;
	struct eb_err err;
	long long ok;
	int rc;

	EB_TEST_SKIP_IF(eb_test_lacks_llama()); /* its cells must succeed */
	eb_test_tmpdir("faults-tmpfs", eb_dir, sizeof(eb_dir));
	eb_tiny_config(cfg, sizeof(cfg));
	snprintf(mnt, sizeof(mnt), "%s/mnt", eb_dir);
	snprintf(out_dir, sizeof(out_dir), "%s/copy", eb_dir);
	ck_assert_msg(eb_mkdirs(out_dir, &err) == 0, "%s", err.msg);
	{
		const char *argv[] = { "unshare", "-m", "sh", "-c", script, "sh", mnt, EB_TEST_BIN,
				       cfg, out_dir, NULL };

		rc = eb_proc_capture(argv, 1, 1 << 20, &out, &err);
	}
	ck_assert_msg(rc >= 0, "%s", err.msg);
	if (rc == 99 || (rc == 1 && strstr(out, "unshare"))) {
		out[strcspn(out, "\n")] = '\0';
		eb_test_skip(__func__, "no tmpfs in a private mount namespace here (%s); the shim "
			     "cases stand alone", out);
		free(out);
		return;
	}
	fprintf(stderr, "check_faults: tmpfs: %s", out);
	ck_assert_msg(rc == 2, "exit %d: %s", rc, out);
	snprintf(db, sizeof(db), "%s/t.db", mnt);
	ck_assert_msg(strstr(out, "edgebench run: database '") && strstr(out, "/mnt/t.db': database "
			      "or disk is full\nedgebench run: run 1 stopped; every cell finished"),
		      "%s", out);
	free(out);
	snprintf(db, sizeof(db), "%s/t.db", out_dir);
	ok = eb_assert_partial(db, 6);
	ck_assert_msg(ok >= 1 && ok < 6, "%lld cells stored in 192 KiB", ok);
	eb_assert_resumes(cfg, db, 6);
}
END_TEST

/* --- servers ------------------------------------------------------------------------ */

/*
 * One run over targets that each meet one kind of broken server, each followed by a
 * target on a good server: every fault fails its own cell with its cause stored, the run
 * goes on, and the next cell is ok.
 */
START_TEST(broken_servers_fail_their_cells)
{
	enum { STALL, STALL_OAI, STALL_MID, STALL_IDLE, CLOSED, GARBAGE, GOOD, NMOCK };
	static const int modes[NMOCK] = { EB_MOCK_STALL, EB_MOCK_STALL, EB_MOCK_STALL_MID,
					  EB_MOCK_STALL_MID, EB_MOCK_TRUNCATE, EB_MOCK_GARBAGE,
					  EB_MOCK_STREAM };
	static const char *const names[NMOCK - 1] = { "stall", "stall-openai", "stall-mid",
						      "stall-idle", "closed", "garbage" };
	/* the stall past the first bytes meets idle_timeout_s well inside timeout_s */
	static const char *const limits[NMOCK - 1] = {
		"\"timeout_s\": 1", "\"timeout_s\": 1, \"tokenize\": \"off\"", "\"timeout_s\": 1",
		"\"timeout_s\": 30, \"idle_timeout_s\": 0.5", "\"timeout_s\": 1", "\"timeout_s\": 1"
	};
	struct eb_mock m[NMOCK];
	char cfg[4200], db[4300], *out = NULL;
	struct eb_buf b;
	struct eb_err err;
	sqlite3 *h;
	sqlite3_stmt *q;
	int rc, row = 0;

	eb_test_tmpdir("faults-servers", eb_dir, sizeof(eb_dir));
	for (int i = 0; i < NMOCK; i++) {
		eb_mock_start(&m[i], "streams/ollama-generate.ndjson");
		m[i].mode = modes[i];
		m[i].first_ms = 0;
		m[i].gap_ms = 5;
		m[i].repeat = 4;
	}
	eb_buf_init(&b, 0);
	eb_buf_addstr(&b, "{ \"name\": \"servers\",\n  \"targets\": [\n");
	for (int i = 0; i < NMOCK - 1; i++)
		eb_buf_addf(&b,
			    "    { \"id\": \"%s\", \"adapter\": \"%s\", \"options\": {\n"
			    "      \"base_url\": \"http://127.0.0.1:%d\", %s, \"retries\": 0 } },\n"
			    "    { \"id\": \"good%d\", \"adapter\": \"ollama\", \"options\": {\n"
			    "      \"base_url\": \"http://127.0.0.1:%d\", \"timeout_s\": 1 } }%s\n",
			    names[i], i == STALL_OAI ? "openai" : "ollama", m[i].port, limits[i], i,
			    m[GOOD].port,
			    i < NMOCK - 2 ? "," : "");
	eb_buf_addstr(&b, "  ],\n  \"models\": [ { \"id\": \"m\", \"variants\": [\n"
			  "    { \"quant\": \"q4\", \"model_name\": \"llama3.2\" } ] } ],\n"
			  "  \"workloads\": { \"latency\": { \"prompt_tokens\": [16], \"gen_tokens\": 4,\n"
			  "    \"warmup\": 1, \"repetitions\": 2 } } }\n");
	snprintf(cfg, sizeof(cfg), "%s/servers.json", eb_dir);
	snprintf(db, sizeof(db), "%s/servers.db", eb_dir);
	ck_assert_msg(eb_write_file(cfg, b.buf, b.len, &err) == 0, "%s", err.msg);
	eb_buf_release(&b);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, NULL };

		rc = eb_test_run(argv, &out);
	}
	ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
	fprintf(stderr, "%s", out);
	free(out);
	eb_assert_integrity(db);
	h = eb_db_open(db);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT target, status, error, duration_s,"
					    " (SELECT count(*) FROM requests WHERE cell_id=c.id)"
					    " FROM cells c ORDER BY id", -1, &q, NULL),
			 SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(q, 0);
		const char *st = (const char *)sqlite3_column_text(q, 1);
		const char *e = (const char *)sqlite3_column_text(q, 2);
		double secs = sqlite3_column_double(q, 3);
		int nreq = sqlite3_column_int(q, 4), i = row / 2;
		char url[128], want[512];

		if (row % 2) {
			/* the good server right after each fault */
			ck_assert_msg(strcmp(st, "ok") == 0 && nreq == 3, "%s: %s %d %s", t, st, nreq,
				      e ? e : "");
			row++;
			continue;
		}
		ck_assert_str_eq(t, names[i]);
		ck_assert_str_eq(st, "failed");
		ck_assert_int_eq(nreq, 0);
		ck_assert_ptr_nonnull(e);
		snprintf(url, sizeof(url), "'http://127.0.0.1:%d/%s'", m[i].port,
			 i == STALL_OAI ? "v1/completions" : "api/generate");
		switch (i) {
		case STALL:
		case STALL_OAI:
			snprintf(want, sizeof(want), "%s: no response from %s in 1.",
				 i == STALL ? "ollama" : "openai", url);
			ck_assert_msg(strncmp(e, want, strlen(want)) == 0, "'%s' lacks '%s'", e, want);
			ck_assert_msg(strstr(e, "s (timeout_s 1, connect_timeout_s 10): Operation timed "
						"out after "), "%s", e);
			/* the limit fired: not the 600 s default, not at once */
			ck_assert_msg(secs >= 1.0 && secs < 5.0, "%s: %.3f s", t, secs);
			break;
		case STALL_MID:
			snprintf(want, sizeof(want), "ollama: the response from %s did not finish in 1.",
				 url);
			ck_assert_msg(strncmp(e, want, strlen(want)) == 0, "'%s' lacks '%s'", e, want);
			ck_assert_msg(strstr(e, "s (timeout_s 1) after "), "%s", e);
			ck_assert_msg(secs >= 1.0 && secs < 5.0, "%s: %.3f s", t, secs);
			break;
		case STALL_IDLE:
			snprintf(want, sizeof(want), "ollama: the response from %s stalled: no byte "
				 "for ", url);
			ck_assert_msg(strncmp(e, want, strlen(want)) == 0, "'%s' lacks '%s'", e, want);
			ck_assert_msg(strstr(e, " s after 205 body bytes (idle_timeout_s 0.5)"), "%s", e);
			/* the idle limit fired, not timeout_s 30 */
			ck_assert_msg(secs >= 0.5 && secs < 5.0, "%s: %.3f s", t, secs);
			break;
		case CLOSED:
			snprintf(want, sizeof(want), "ollama: connection to %s failed after ", url);
			ck_assert_msg((strncmp(e, want, strlen(want)) == 0 &&
				       strstr(e, "(the stream broke after 2 content chunks)")) ||
					      strstr(e, "without \"done\": true (connection closed?)"),
				      "%s", e);
			break;
		case GARBAGE:
			snprintf(want, sizeof(want), "ollama: request to %s failed: ", url);
			ck_assert_msg(strncmp(e, want, strlen(want)) == 0 &&
					      strstr(e, "(1 attempt)"),
				      "'%s' lacks '%s'", e, want);
			break;
		}
		row++;
	}
	sqlite3_finalize(q);
	ck_assert_int_eq(row, 2 * (NMOCK - 1));
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM runs WHERE status='failed'"), 1);
	sqlite3_close(h);
	for (int i = 0; i < NMOCK; i++)
		eb_mock_stop(&m[i]);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = tcase_create("database");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, readonly_database_file);
	tcase_add_test(tc, readonly_directory);
	tcase_add_test(tc, missing_directory);
	tcase_add_test(tc, disk_full_at_start);
	tcase_add_test(tc, disk_full_mid_run);
	tcase_add_test(tc, disk_full_tmpfs);
	suite_add_tcase(s, tc);
	tc = tcase_create("servers");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, broken_servers_fail_their_cells);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
