/* ctest: labels=integration,models,serial timeout=600 */
/* check_exit.c: how `edgebench run` leaves its database: one file after every handled signal, a failed final checkpoint said, a rename noticed, one writer per run. */
#include "eb_proc.h"
#include "eb_util.h"
#include "testutil.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char eb_dir[4096];

/* 8 cells (2 variants x 4 prompt lengths, 1 warm-up + 3 requests of 24 tokens): long
 * enough to be signalled mid-run on the tiny models. */
static const char *eb_config(char *buf, size_t n)
{
	const char *m = eb_test_models_dir();
	struct eb_buf b;
	struct eb_err err;

	eb_buf_init(&b, 0);
	eb_buf_addf(&b,
		    "{ \"name\": \"exit\",\n"
		    "  \"targets\": [ { \"id\": \"cpu\", \"adapter\": \"llamacpp\",\n"
		    "    \"options\": { \"threads\": 1, \"n_ctx\": 256, \"n_gpu_layers\": 0 } } ],\n"
		    "  \"models\": [ { \"id\": \"tiny\", \"variants\": [\n"
		    "    { \"quant\": \"q8_0\", \"file\": \"%s/tiny-q8_0.gguf\" },\n"
		    "    { \"quant\": \"f16\", \"file\": \"%s/tiny-f16.gguf\" } ] } ],\n"
		    "  \"workloads\": { \"latency\": { \"prompt_tokens\": [16, 48, 96, 128],\n"
		    "    \"gen_tokens\": 24, \"warmup\": 1, \"repetitions\": 3 } } }\n",
		    m, m);
	snprintf(buf, n, "%s/exit.json", eb_dir);
	ck_assert_msg(eb_write_file(buf, b.buf, b.len, &err) == 0, "%s", err.msg);
	eb_buf_release(&b);
	return buf;
}

/* Cells with status ok in `db` (-1 while it has no schema yet). */
static long long eb_ok_cells(const char *db)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *q = NULL;
	long long ok = -1;

	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		sqlite3_busy_timeout(h, 5000);
		if (sqlite3_prepare_v2(h, "SELECT count(*) FROM cells WHERE status='ok'", -1, &q,
				       NULL) == SQLITE_OK &&
		    sqlite3_step(q) == SQLITE_ROW)
			ok = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
	}
	sqlite3_close(h);
	return ok;
}

/* Starts `edgebench run CFG --db DB [extra]` (output into DIR/run.log) and returns once
 * `ok_cells` cells are stored. */
static void eb_start(struct eb_proc *p, const char *cfg, const char *db, long long ok_cells)
{
	char log[4200];
	const char *argv[] = { "/bin/sh", "-c", "exec \"$0\" run \"$1\" --db \"$2\" --quiet >\"$3\" 2>&1",
			       EB_TEST_BIN, cfg, db, log, NULL };
	struct eb_err err;

	snprintf(log, sizeof(log), "%s/run.log", eb_dir);
	ck_assert_msg(eb_proc_start(p, argv, NULL, EB_PROC_NULL_IN, &err) == 0, "%s", err.msg);
	for (int i = 0; i < 6000; i++) {
		int st;

		usleep(20000);
		if (access(db, F_OK) == 0 && eb_ok_cells(db) >= ok_cells)
			return;
		ck_assert_msg(eb_proc_poll(p, &st) == 0, "edgebench ended early (%d)", st);
	}
	ck_abort_msg("no cell finished in time");
}

static char *eb_run_log(void)
{
	char log[4200], *text = NULL;
	struct eb_err err;
	size_t len;

	snprintf(log, sizeof(log), "%s/run.log", eb_dir);
	ck_assert_msg(eb_read_file(log, 1 << 20, &text, &len, &err) == 0, "%s", err.msg);
	return text;
}

/* Copies the file `from` (alone) to `to`, as a CI artifact step would. */
static void eb_copy(const char *from, const char *to)
{
	struct eb_err err;
	char *text = NULL;
	size_t len;

	ck_assert_msg(eb_read_file(from, 1 << 30, &text, &len, &err) == 0, "%s", err.msg);
	ck_assert_msg(eb_write_file(to, text, len, &err) == 0, "%s", err.msg);
	free(text);
}

static void eb_assert_no_file(const char *path, const char *suffix)
{
	char side[4300];
	struct stat sb;

	snprintf(side, sizeof(side), "%s%s", path, suffix);
	ck_assert_msg(stat(side, &sb) != 0 || sb.st_size == 0, "'%s' left with %lld bytes", side,
		      (long long)sb.st_size);
}

/* The .db alone: sound, and holding `ok` finished cells of a run with `status`. */
static void eb_assert_alone(const char *db, long long ok, const char *status)
{
	char copy[4300];
	sqlite3 *h;
	char *ic, *st;

	snprintf(copy, sizeof(copy), "%s.copy", db);
	eb_copy(db, copy);
	h = eb_test_db_open(copy);
	ic = eb_test_q_str(h, "PRAGMA integrity_check");
	ck_assert_str_eq(ic, "ok");
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM cells WHERE status='ok'"), ok);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM (SELECT cell_id FROM requests"
				 " GROUP BY cell_id HAVING count(*)=4)"), ok);
	st = eb_test_q_str(h, "SELECT status FROM runs");
	ck_assert_str_eq(st, status);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM run_locks"), 0);
	free(ic);
	free(st);
	sqlite3_close(h);
}

/* `edgebench CMD ARG...` must exit 0. */
static void eb_ok(const char *const *argv)
{
	char *out = NULL;
	int rc = eb_test_run(argv, &out);

	ck_assert_msg(rc == 0, "%s exit %d: %s", argv[1], rc, out);
	free(out);
}

static void eb_resume_completes(const char *cfg, const char *db)
{
	const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--resume", "--quiet", NULL };

	eb_ok(argv);
	eb_assert_alone(db, 8, "ok");
}

/*
 * SIGHUP, two SIGTERMs, two SIGINTs mid-run: each ends in exit 3 with the run marked
 * interrupted, no lock left, and the .db alone (no -wal beside it) holding every cell
 * that finished; `run --resume` completes it.
 */
static void eb_signal_trial(const char *name, int sig, int times)
{
	char cfg[4200], db[4200], *log;
	struct eb_proc p;
	long long ok;
	int rc;

	eb_test_tmpdir(name, eb_dir, sizeof(eb_dir));
	eb_config(cfg, sizeof(cfg));
	snprintf(db, sizeof(db), "%s/r.db", eb_dir);
	eb_start(&p, cfg, db, 1);
	for (int i = 0; i < times; i++) {
		ck_assert_int_eq(eb_proc_kill(&p, sig), 0);
		usleep(2000);
	}
	rc = eb_proc_wait(&p);
	log = eb_run_log();
	ck_assert_msg(rc == 3, "%s x%d: exit %d: %s", strsignal(sig), times, rc, log);
	free(log);
	/* right after exit: one file */
	eb_assert_no_file(db, "-wal");
	ok = eb_ok_cells(db);
	ck_assert_msg(ok >= 1 && ok < 8, "%lld cells ok", ok);
	eb_assert_alone(db, ok, "interrupted");
	eb_resume_completes(cfg, db);
}

START_TEST(sighup_stores_and_exits_3)
{
	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_signal_trial("exit-hup", SIGHUP, 1);
}
END_TEST

START_TEST(second_sigterm_stores_and_exits_3)
{
	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_signal_trial("exit-term2", SIGTERM, 2);
}
END_TEST

START_TEST(second_sigint_stores_and_exits_3)
{
	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_signal_trial("exit-int2", SIGINT, 2);
}
END_TEST

/* A run that ends normally leaves the .db alone holding everything. */
START_TEST(finished_run_is_one_file)
{
	char cfg[4200], db[4200];

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_test_tmpdir("exit-ok", eb_dir, sizeof(eb_dir));
	eb_config(cfg, sizeof(cfg));
	snprintf(db, sizeof(db), "%s/r.db", eb_dir);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--quiet", NULL };

		eb_ok(argv);
	}
	eb_assert_no_file(db, "-wal");
	eb_assert_alone(db, 8, "ok");
}
END_TEST

/*
 * The disk fills while the log is folded into the database at the end (the shim fails
 * writes to the .db file past half of what a whole run writes to it): exit 2, a message
 * naming the -wal, and the .db and its -wal together still hold every cell.
 */
START_TEST(full_disk_at_final_checkpoint)
{
	char cfg[4200], db[4200], count[4300], budget[32], *out = NULL, *c = NULL;
	long long writes = 0, bytes = 0;
	struct eb_err err;
	size_t len;
	int rc;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_test_tmpdir("exit-full", eb_dir, sizeof(eb_dir));
	eb_config(cfg, sizeof(cfg));
	snprintf(count, sizeof(count), "%s/count", eb_dir);
	setenv("LD_PRELOAD", EB_TEST_FAULTSHIM, 1);
	setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 1);
	setenv("EB_FAULT_DIR", eb_dir, 1);
	/* what a whole run writes to the .db file itself (not its -wal) */
	snprintf(db, sizeof(db), "%s/whole.db", eb_dir);
	setenv("EB_FAULT_FILE", "whole.db", 1);
	setenv("EB_FAULT_COUNT", count, 1);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--quiet", NULL };

		rc = eb_test_run(argv, &out);
	}
	unsetenv("EB_FAULT_COUNT");
	ck_assert_msg(rc == 0, "%s", out);
	free(out);
	ck_assert_msg(eb_read_file(count, 64, &c, &len, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(sscanf(c, "%lld %lld", &writes, &bytes), 2);
	free(c);
	ck_assert(writes > 1 && bytes > 8192);
	/* half of that fits */
	snprintf(db, sizeof(db), "%s/full.db", eb_dir);
	snprintf(budget, sizeof(budget), "%lld", bytes / 2);
	setenv("EB_FAULT_FILE", "full.db", 1);
	setenv("EB_FAULT_ENOSPC_BYTES", budget, 1);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--quiet", NULL };

		rc = eb_test_run(argv, &out);
	}
	unsetenv("LD_PRELOAD");
	unsetenv("EB_FAULT_DIR");
	unsetenv("EB_FAULT_FILE");
	unsetenv("EB_FAULT_ENOSPC_BYTES");
	ck_assert_msg(rc == 2, "exit %d: %s", rc, out);
	{
		char want[9000];

		snprintf(want, sizeof(want),
			 "edgebench run: database '%s': cannot fold its write-ahead log into it "
			 "(database or disk is full): the latest results are in '%s-wal' beside it, "
			 "not in '%s' alone;",
			 db, db, db);
		ck_assert_msg(strncmp(out, want, strlen(want)) == 0, "got: %s", out);
		ck_assert_msg(strstr(out, "edgebench merge") && !strstr(out, "--resume"), "got: %s",
			      out);
	}
	free(out);
	/* both files together: every cell (opening them folds the log in) */
	{
		char side[4300];
		struct stat sb;

		snprintf(side, sizeof(side), "%s-wal", db);
		ck_assert_int_eq(stat(side, &sb), 0);
		ck_assert(sb.st_size > 0);
	}
	/* `edgebench merge DB` alone folds them, once there is room */
	{
		const char *argv[] = { "edgebench", "merge", db, NULL };

		eb_ok(argv);
	}
	eb_assert_no_file(db, "-wal");
	eb_assert_alone(db, 8, "ok");
}
END_TEST

/*
 * The database renamed while the run writes it: the log is folded into the file it
 * became (which then holds every cell, alone), and the run says so and exits 2 instead
 * of leaving the results in an orphaned -wal under the old name.
 */
START_TEST(renamed_database_said)
{
	char cfg[4200], db[4200], moved[4200], *log;
	struct eb_proc p;
	int rc;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_test_tmpdir("exit-renamed", eb_dir, sizeof(eb_dir));
	eb_config(cfg, sizeof(cfg));
	snprintf(db, sizeof(db), "%s/r.db", eb_dir);
	snprintf(moved, sizeof(moved), "%s/moved.db", eb_dir);
	eb_start(&p, cfg, db, 1);
	ck_assert_int_eq(rename(db, moved), 0);
	rc = eb_proc_wait(&p);
	log = eb_run_log();
	ck_assert_msg(rc == 2, "exit %d: %s", rc, log);
	{
		char want[9000];

		snprintf(want, sizeof(want),
			 "edgebench run: database '%s' was renamed or removed while edgebench wrote "
			 "it: every result is in the file it became, '%s'; '%s' does not hold them\n",
			 db, moved, db);
		ck_assert_str_eq(log, want);
	}
	free(log);
	/* nothing left under the old name */
	for (int i = 0; i < 3; i++) {
		char side[4300];

		snprintf(side, sizeof(side), "%s%s", db, i == 0 ? "" : i == 1 ? "-wal" : "-shm");
		ck_assert_msg(access(side, F_OK) != 0, "'%s' left behind", side);
	}
	eb_assert_alone(moved, 8, "ok");
}
END_TEST

/*
 * One writer per run: `run --resume` of a run another live process is running is
 * refused with that process's pid and host, and changes nothing; once that process is
 * SIGKILLed, its stale lock is taken over and the resume completes the run.
 */
START_TEST(resume_refused_while_running)
{
	char cfg[4200], db[4200], host[256], want[600], *out = NULL;
	struct eb_proc p;
	int rc;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_test_tmpdir("exit-lock", eb_dir, sizeof(eb_dir));
	eb_config(cfg, sizeof(cfg));
	snprintf(db, sizeof(db), "%s/r.db", eb_dir);
	ck_assert_int_eq(gethostname(host, sizeof(host)), 0);
	eb_start(&p, cfg, db, 1);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--resume", "--quiet", NULL };

		rc = eb_test_run(argv, &out);
	}
	ck_assert_msg(rc == 2, "exit %d: %s", rc, out);
	snprintf(want, sizeof(want), "edgebench run: run 1 of '%s' is being run by pid %d on host '%s' since ",
		 db, (int)p.pid, host);
	ck_assert_msg(strncmp(out, want, strlen(want)) == 0, "got: %s", out);
	free(out);
	ck_assert_int_eq(eb_proc_kill(&p, SIGKILL), 0);
	ck_assert_int_eq(eb_proc_wait(&p), 128 + SIGKILL);
	eb_resume_completes(cfg, db);
	/* --force-unlock is for --resume only */
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--force-unlock", NULL };

		ck_assert_int_eq(eb_test_run(argv, &out), 2);
		ck_assert_ptr_nonnull(strstr(out, "--force-unlock goes with --resume"));
		free(out);
	}
}
END_TEST

/* A lock row of another host cannot be checked: refused, unless --force-unlock. */
START_TEST(other_host_lock_needs_force)
{
	char cfg[4200], db[4200], *out = NULL;
	sqlite3 *h;
	int rc;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_test_tmpdir("exit-lock-host", eb_dir, sizeof(eb_dir));
	eb_config(cfg, sizeof(cfg));
	snprintf(db, sizeof(db), "%s/r.db", eb_dir);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--quiet",
				       "--only", "*/q8_0/*", NULL };

		eb_ok(argv);
	}
	/* as a crashed run of another host leaves it */
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "UPDATE runs SET status='running', finished_at=NULL;"
				      "INSERT INTO run_locks VALUES(1, 4242, 'orin-7', NULL, NULL,"
				      " '2026-01-02T03:04:05.000Z')",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(h);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--resume", "--quiet", NULL };

		rc = eb_test_run(argv, &out);
	}
	ck_assert_msg(rc == 2, "exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, "is locked by pid 4242 on host 'orin-7' since "
				  "2026-01-02T03:04:05.000Z, which cannot be checked from host") &&
			      strstr(out, "--force-unlock"),
		      "got: %s", out);
	free(out);
	{
		const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--resume",
				       "--force-unlock", "--quiet", NULL };

		eb_ok(argv);
	}
	eb_assert_alone(db, 8, "ok");
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("exit");
	TCase *tc = tcase_create("signals");

	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, sighup_stores_and_exits_3);
	tcase_add_test(tc, second_sigterm_stores_and_exits_3);
	tcase_add_test(tc, second_sigint_stores_and_exits_3);
	tcase_add_test(tc, finished_run_is_one_file);
	suite_add_tcase(s, tc);
	tc = tcase_create("database");
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, full_disk_at_final_checkpoint);
	tcase_add_test(tc, renamed_database_said);
	tcase_add_test(tc, resume_refused_while_running);
	tcase_add_test(tc, other_host_lock_needs_force);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
