/* ctest: labels=unit timeout=120 */
/* check_merge.c: per-device databases merged into one; merging twice equals once; schema refusal. */
#include "reportdb.h"

#include "eb_util.h"

#include <sys/stat.h>
#include <unistd.h>

static char eb_dir[4096];

/* Copies a file byte for byte (a CI artifact step). */
static void eb_copy_file(const char *from, const char *to)
{
	struct eb_err err;
	size_t n;
	char *text = eb_tdb_slurp(from, &n);

	ck_assert_msg(text != NULL, "cannot read '%s'", from);
	ck_assert_msg(eb_write_file(to, text, n, &err) == 0, "%s", err.msg);
	free(text);
}

/* A device database: `nruns` runs with two cells each, requests with token times, metrics
 * and power samples; `tag` makes names and values differ between devices. */
static void eb_device_db(const char *path, const char *tag, int nruns)
{
	eb_tdb_open(path);
	for (int r = 0; r < nruns; r++) {
		char uuid[64];
		int64_t run;

		snprintf(uuid, sizeof(uuid), "%s-run-%d", tag, r);
		run = eb_tdb_run(uuid, tag, NULL);
		for (int c = 0; c < 2; c++) {
			const double ttft[] = { 10 + c + r, 11 + c + r, 12 + c + r };
			const double dec[] = { 50.0 - c, 51.0 - c, 49.0 - c };
			const double w[] = { 3, 4, 5, 4 };
			struct eb_tcell tc = { tag, "m", c ? "q4_0" : "f16", 32, 8, "ok", NULL };
			int64_t cell = eb_tdb_cell(run, &tc);
			struct eb_request_row rr = { 0 };
			const uint64_t t[] = { 1000, 2000, 3500 };
			const int nt[] = { 1, 1, 1 };
			struct eb_err err;

			eb_tdb_requests(cell, 32, 8, ttft, dec, 3);
			rr.n_prompt = 32;
			rr.n_out = 3;
			rr.ttft_ns = 1000;
			rr.e2e_ns = 3500;
			rr.prefill_tps = 1;
			rr.decode_tps = 2;
			rr.rep = 9;
			rr.t_ns = t;
			rr.n_tokens = nt;
			rr.n_times = 3;
			ck_assert_msg(eb_store_request_add(eb_tdb, cell, &rr, &err) == 0, "%s", err.msg);
			eb_tdb_value(cell, "model_bytes", "B", 1e6 * (c + 1));
			eb_tdb_power(cell, "hwmon", "VDD_IN", 1000 * r, 100, w, 4);
		}
	}
	eb_tdb_close();
}

/* The device's run 1 goes on: one more ok cell (and `sql`, when not NULL, run after it). */
static void eb_one_more_cell(const char *path, const char *sql)
{
	struct eb_tcell tc = { "orin", "m", "q8_0", 32, 8, "ok", NULL };
	const double ttft[] = { 1, 2, 3 }, dec[] = { 4, 5, 6 };

	eb_tdb_open(path);
	eb_tdb_requests(eb_tdb_cell(1, &tc), 32, 8, ttft, dec, 3);
	if (sql)
		eb_tdb_exec(sql);
	eb_tdb_close();
}

/* Every table's content, ids left out (they are renumbered), as one string. */
static char *eb_dump(const char *path)
{
	static const char *const q[] = {
		"SELECT count(*) || ' runs' FROM runs",
		"SELECT count(*) || ' cells' FROM cells",
		"SELECT count(*) || ' requests' FROM requests",
		"SELECT count(*) || ' token_times' FROM token_times",
		"SELECT count(*) || ' metrics' FROM metrics",
		"SELECT count(*) || ' power_samples' FROM power_samples",
		"SELECT uuid, name, status, config_json, started_at FROM runs ORDER BY uuid",
		"SELECT r.uuid, c.key, c.status, c.target, c.quant FROM cells c JOIN runs r ON"
		" r.id = c.run_id ORDER BY r.uuid, c.key",
		"SELECT r.uuid, c.key, q.rep, q.warmup, q.ttft_ns, q.e2e_ns, q.decode_tps FROM requests q"
		" JOIN cells c ON c.id = q.cell_id JOIN runs r ON r.id = c.run_id"
		" ORDER BY r.uuid, c.key, q.warmup, q.rep, q.ttft_ns",
		"SELECT r.uuid, c.key, q.rep, t.idx, t.t_ns FROM token_times t JOIN requests q ON"
		" q.id = t.request_id JOIN cells c ON c.id = q.cell_id JOIN runs r ON r.id = c.run_id"
		" ORDER BY 1, 2, 3, 4",
		"SELECT r.uuid, c.key, m.name, m.median, m.n FROM metrics m JOIN cells c ON"
		" c.id = m.cell_id JOIN runs r ON r.id = c.run_id ORDER BY 1, 2, 3",
		"SELECT r.uuid, c.key, p.t_ns, p.watts FROM power_samples p JOIN cells c ON"
		" c.id = p.cell_id JOIN runs r ON r.id = c.run_id ORDER BY 1, 2, 3",
		"PRAGMA foreign_key_check",
	};
	struct eb_store *s;
	struct eb_err err;
	struct eb_buf b;

	ck_assert_msg(eb_store_open(&s, path, 1, &err) == 0, "%s", err.msg);
	eb_buf_init(&b, 0);
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		sqlite3_stmt *st;

		ck_assert_int_eq(sqlite3_prepare_v2(s->db, q[i], -1, &st, NULL), SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(st); c++) {
				const unsigned char *t = sqlite3_column_text(st, c);

				eb_buf_addf(&b, "%s%s", c ? "|" : "", t ? (const char *)t : "NULL");
			}
			eb_buf_addstr(&b, "\n");
		}
		sqlite3_finalize(st);
	}
	eb_store_close(s);
	return eb_buf_detach(&b, NULL);
}

static int eb_merge(char **out, const char *o, const char *a, const char *b)
{
	const char *argv[] = { "edgebench", "merge", o, a, b, NULL };

	return eb_test_run(argv, out);
}

START_TEST(merge_twice_equals_once)
{
	char a[4200], b[4200], o[4200], *out = NULL, *once, *twice, *da, *db;
	int rc;

	eb_test_tmpdir("merge", eb_dir, sizeof(eb_dir));
	snprintf(a, sizeof(a), "%s/orin.db", eb_dir);
	snprintf(b, sizeof(b), "%s/hailo.db", eb_dir);
	snprintf(o, sizeof(o), "%s/lab.db", eb_dir);
	eb_device_db(a, "orin", 2);
	eb_device_db(b, "hailo", 1);

	rc = eb_merge(&out, o, a, b);
	ck_assert_msg(rc == 0, "merge: %s", out);
	ck_assert_ptr_nonnull(strstr(out, "/orin.db' into '"));
	ck_assert_ptr_nonnull(strstr(out, "2 runs added, 0 replaced, 0 unchanged"));
	ck_assert_ptr_nonnull(strstr(out, "1 run added, 0 replaced, 0 unchanged"));
	free(out);
	once = eb_dump(o);
	ck_assert_ptr_nonnull(strstr(once, "3 runs\n6 cells\n30 requests\n18 token_times\n"
					   "30 metrics\n24 power_samples\n"));

	rc = eb_merge(&out, o, a, b);
	ck_assert_msg(rc == 0, "merge again: %s", out);
	ck_assert_ptr_nonnull(strstr(out, "0 runs added, 0 replaced, 2 unchanged"));
	free(out);
	twice = eb_dump(o);
	ck_assert_str_eq(once, twice);

	/* the lab database holds exactly what the devices hold */
	da = eb_dump(a);
	db = eb_dump(b);
	ck_assert_ptr_nonnull(strstr(da, "2 runs\n4 cells\n20 requests\n12 token_times\n"));
	ck_assert_ptr_nonnull(strstr(db, "1 runs\n2 cells\n10 requests\n6 token_times\n"));
	free(da);
	free(db);

	/* and compare reads it: a device's run against its own copy changes nothing */
	{
		char ref[4300];
		const char *argv[] = { "edgebench", "compare", ref, "latest", "--db", o, NULL };

		snprintf(ref, sizeof(ref), "%s:latest", b);
		rc = eb_test_run(argv, &out);
		ck_assert_msg(rc == 0, "compare: %s", out);
		ck_assert_ptr_nonnull(strstr(out, "regressions 0, improvements 0, not significant 0, "
						  "unchanged 10, missing 0, new 0"));
		free(out);
	}
	free(once);
	free(twice);
}
END_TEST

START_TEST(merge_replaces_a_changed_run)
{
	char a[4200], o[4200], *out = NULL, *d1, *d2;
	int rc;

	eb_test_tmpdir("merge", eb_dir, sizeof(eb_dir));
	snprintf(a, sizeof(a), "%s/orin.db", eb_dir);
	snprintf(o, sizeof(o), "%s/lab.db", eb_dir);
	eb_device_db(a, "orin", 1);
	ck_assert_int_eq(eb_merge(&out, o, a, NULL), 0);
	free(out);
	/* the device run goes on: one more cell, then merged again */
	eb_one_more_cell(a, NULL);
	rc = eb_merge(&out, o, a, NULL);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "0 runs added, 1 replaced, 0 unchanged"));
	free(out);
	d1 = eb_dump(o);
	d2 = eb_dump(a);
	ck_assert_str_eq(d1, d2);
	ck_assert_ptr_nonnull(strstr(d1, "1 runs\n3 cells\n"));
	free(d1);
	free(d2);
}
END_TEST

START_TEST(schema_mismatch_refused)
{
	char a[4200], b[4200], o[4200], *out = NULL;
	int rc;

	eb_test_tmpdir("merge", eb_dir, sizeof(eb_dir));
	snprintf(a, sizeof(a), "%s/good.db", eb_dir);
	snprintf(b, sizeof(b), "%s/future.db", eb_dir);
	snprintf(o, sizeof(o), "%s/lab.db", eb_dir);
	eb_device_db(a, "good", 1);
	eb_device_db(b, "future", 1);
	{
		char sql[64];

		eb_tdb_open(b);
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", EB_STORE_SCHEMA_VERSION + 1);
		eb_tdb_exec(sql);
		eb_tdb_close();
	}
	/* nothing is merged when one input is refused, not even the good one before it */
	rc = eb_merge(&out, o, a, b);
	ck_assert_int_eq(rc, 2);
	{
		char want[9000];

		snprintf(want, sizeof(want),
			 "edgebench merge: refusing to merge '%s': its schema version is %d, '%s' "
			 "has %d (this edgebench's); merge databases of the same schema version",
			 b, EB_STORE_SCHEMA_VERSION + 1, o, EB_STORE_SCHEMA_VERSION);
		ck_assert_msg(strstr(out, want) != NULL, "got: %s", out);
	}
	free(out);
	ck_assert_int_ne(access(o, F_OK), 0); /* and the OUT.db it would have created is gone */

	/* not an edgebench database; the output itself; a missing input */
	{
		char x[4200];

		snprintf(x, sizeof(x), "%s/other.db", eb_dir);
		eb_tdb_open(x);
		eb_tdb_exec("PRAGMA user_version=0; DROP TABLE token_times; DROP TABLE power_samples;"
			    " DROP TABLE metrics; DROP TABLE requests; DROP TABLE cells; DROP TABLE runs;"
			    " CREATE TABLE t(x)");
		eb_tdb_close();
		rc = eb_merge(&out, o, x, NULL);
		ck_assert_int_eq(rc, 2);
		ck_assert_ptr_nonnull(strstr(out, "its schema version is 0"));
		free(out);
	}
	rc = eb_merge(&out, o, o, NULL);
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "is the output database"));
	free(out);
	rc = eb_merge(&out, o, "/nonexistent.db", NULL);
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "no database '/nonexistent.db'"));
	free(out);
}
END_TEST

/* A FIFO (or any non-regular file) given as a database is refused before SQLite opens it,
 * which would block forever waiting for a writer. */
START_TEST(non_regular_database_refused)
{
	char a[4200], o[4200], fifo[4200], *out = NULL;

	eb_test_tmpdir("merge-fifo", eb_dir, sizeof(eb_dir));
	snprintf(a, sizeof(a), "%s/good.db", eb_dir);
	snprintf(o, sizeof(o), "%s/lab.db", eb_dir);
	snprintf(fifo, sizeof(fifo), "%s/pipe.db", eb_dir);
	eb_device_db(a, "good", 1);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	{
		const char *const cmds[][6] = {
			{ "edgebench", "report", "--db", fifo, NULL },
			{ "edgebench", "list", "--db", fifo, NULL },
			{ "edgebench", "report", "--db", eb_dir, NULL },
		};

		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
			ck_assert_int_eq(eb_test_run(cmds[i], &out), 2);
			ck_assert_msg(strstr(out, "is not a regular file") != NULL, "got: %s", out);
			free(out);
		}
	}
	ck_assert_int_eq(eb_merge(&out, o, a, fifo), 2);
	ck_assert_msg(strstr(out, "is not a regular file") != NULL, "got: %s", out);
	free(out);
	ck_assert_int_eq(eb_merge(&out, fifo, a, NULL), 2);
	ck_assert_msg(strstr(out, "is not a regular file") != NULL, "got: %s", out);
	free(out);
}
END_TEST

/* A merge refused before anything is merged leaves no OUT.db (nor -wal, -shm) behind. */
START_TEST(refused_merge_leaves_no_file)
{
	char o[4200], side[4300], *out = NULL;

	eb_test_tmpdir("merge-refused", eb_dir, sizeof(eb_dir));
	snprintf(o, sizeof(o), "%s/new.db", eb_dir);
	ck_assert_int_eq(eb_merge(&out, o, "/nonexistent.db", NULL), 2);
	free(out);
	ck_assert_msg(access(o, F_OK) != 0, "'%s' was left behind", o);
	snprintf(side, sizeof(side), "%s-wal", o);
	ck_assert_int_eq(access(side, F_OK), -1);
	snprintf(side, sizeof(side), "%s-shm", o);
	ck_assert_int_eq(access(side, F_OK), -1);
}
END_TEST

/* A hard link of the output is the output: refused at once, naming both paths, instead of
 * "database is locked" after the busy timeout. */
START_TEST(hardlink_of_output_refused)
{
	char a[4200], o[4200], l[4200], *out = NULL;

	eb_test_tmpdir("merge-link", eb_dir, sizeof(eb_dir));
	snprintf(a, sizeof(a), "%s/good.db", eb_dir);
	snprintf(o, sizeof(o), "%s/lab.db", eb_dir);
	snprintf(l, sizeof(l), "%s/link.db", eb_dir);
	eb_device_db(a, "good", 1);
	ck_assert_int_eq(eb_merge(&out, o, a, NULL), 0);
	free(out);
	ck_assert_int_eq(link(o, l), 0);
	ck_assert_int_eq(eb_merge(&out, o, l, NULL), 2);
	{
		char want[9000];

		snprintf(want, sizeof(want),
			 "refusing to write '%s': it is the database '%s' this command reads (the "
			 "same file)",
			 o, l);
		ck_assert_msg(strstr(out, want) != NULL, "got: %s", out);
	}
	free(out);
}
END_TEST

/* `list` on a SQLite file that is not edgebench's says so, not "migrate it with run". */
START_TEST(foreign_sqlite_named)
{
	char x[4200], *out = NULL;
	sqlite3 *db;

	eb_test_tmpdir("merge-foreign", eb_dir, sizeof(eb_dir));
	snprintf(x, sizeof(x), "%s/other.db", eb_dir);
	ck_assert_int_eq(sqlite3_open(x, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	{
		const char *argv[] = { "edgebench", "list", "--db", x, NULL };

		ck_assert_int_eq(eb_test_run(argv, &out), 2);
	}
	ck_assert_msg(strstr(out, "is a SQLite database but not edgebench's") != NULL &&
			      strstr(out, "migrate") == NULL,
		      "got: %s", out);
	free(out);
}
END_TEST

/* Runs edgebench with argv (NULL-terminated); the exit code, output into *out. */
static int eb_cmd(char **out, const char *const *argv)
{
	return eb_test_run(argv, out);
}

/*
 * No output path may be an input: report --output, compare --junit, plot's figure (and
 * the .gp and .dat beside it) and merge's OUT, spelled as the database itself, a symlink,
 * a hard link or with "./", are refused with exit 2, and the database stays as it was.
 */
START_TEST(outputs_that_are_inputs_refused)
{
	char a[4200], sym[4200], hard[4200], dot[4200], fig[4200], svg[4200], *out = NULL;
	char *before, *after;
	size_t nb = 0, na = 0;

	eb_test_tmpdir("merge-outputs", eb_dir, sizeof(eb_dir));
	snprintf(a, sizeof(a), "%s/good.db", eb_dir);
	snprintf(sym, sizeof(sym), "%s/sym.db", eb_dir);
	snprintf(hard, sizeof(hard), "%s/hard.db", eb_dir);
	snprintf(dot, sizeof(dot), "%s/./good.db", eb_dir);
	eb_device_db(a, "good", 1);
	ck_assert_int_eq(symlink(a, sym), 0);
	ck_assert_int_eq(link(a, hard), 0);
	before = eb_tdb_slurp(a, &nb);
	{
		const char *spell[] = { a, sym, hard, dot };
		char ref[4300];

		snprintf(ref, sizeof(ref), "%s:1", a);
		for (size_t i = 0; i < sizeof(spell) / sizeof(spell[0]); i++) {
			const char *const cmds[][12] = {
				{ "edgebench", "report", "--db", a, "--output", spell[i], NULL },
				{ "edgebench", "report", "--db", spell[i], "--format", "csv", "--output",
				  a, NULL },
				{ "edgebench", "compare", ref, ref, "--junit", spell[i], NULL },
				{ "edgebench", "plot", "--db", a, "--kind", "throughput", "--out",
				  spell[i], NULL },
				{ "edgebench", "merge", spell[i], a, NULL },
			};

			for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
				ck_assert_msg(eb_cmd(&out, cmds[k]) == 2, "%s %s: %s", cmds[k][1],
					      spell[i], out);
				ck_assert_msg(strstr(out, "refusing to write '") &&
						      strstr(out, "this command reads (the same file)"),
					      "%s %s: %s", cmds[k][1], spell[i], out);
				free(out);
			}
		}
	}
	/* the script and data files beside a figure count too */
	snprintf(fig, sizeof(fig), "%s/fig.dat", eb_dir);
	snprintf(svg, sizeof(svg), "%s/fig.svg", eb_dir);
	ck_assert_int_eq(link(a, fig), 0);
	{
		const char *argv[] = { "edgebench", "plot", "--db", fig, "--kind", "throughput",
				       "--out", svg, NULL };
		char want[9000];

		ck_assert_int_eq(eb_cmd(&out, argv), 2);
		snprintf(want, sizeof(want),
			 "edgebench plot: refusing to write '%s': it is the database '%s' this "
			 "command reads (the same file)\n",
			 fig, fig);
		ck_assert_str_eq(out, want);
		free(out);
	}
	after = eb_tdb_slurp(a, &na);
	ck_assert_msg(na == nb && memcmp(before, after, nb) == 0, "'%s' changed", a);
	free(before);
	free(after);
}
END_TEST

/* One run in its own database: `nok` ok cells and `npending` pending ones; a run with
 * pending cells is still running (a copy taken mid-run). */
static void eb_run_db(const char *path, const char *uuid, int nok, int npending)
{
	static const char *const quants[] = { "a", "b", "c", "d", "e", "f" };
	int64_t run;

	eb_tdb_open(path);
	run = eb_tdb_run(uuid, "lab", NULL);
	for (int c = 0; c < nok + npending; c++) {
		struct eb_tcell tc = { "cpu", "m", quants[c], 32, 8, c < nok ? "ok" : "pending", NULL };
		int64_t cell = eb_tdb_cell(run, &tc);

		if (c < nok) {
			const double ttft[] = { 10, 11, 12 }, dec[] = { 50, 51, 49 };

			eb_tdb_requests(cell, 32, 8, ttft, dec, 3);
		}
	}
	if (npending)
		eb_tdb_exec("UPDATE cells SET finished_at=NULL, duration_s=NULL WHERE status='pending';"
			    "UPDATE runs SET status='running', finished_at=NULL");
	eb_tdb_close();
}

/*
 * Merge never goes backwards: a backup taken mid-run (1 ok, 3 pending), merged after the
 * finished database (4 ok), is refused with both states named and the lab keeps its 4 ok
 * cells; in the other order the finished copy replaces the backup.
 */
START_TEST(merge_never_goes_backwards)
{
	char fin[4200], mid[4200], lab[4200], lab2[4200], want[9000], *out = NULL, *ended;
	sqlite3 *h;

	eb_test_tmpdir("merge-backwards", eb_dir, sizeof(eb_dir));
	snprintf(fin, sizeof(fin), "%s/finished.db", eb_dir);
	snprintf(mid, sizeof(mid), "%s/backup.db", eb_dir);
	snprintf(lab, sizeof(lab), "%s/lab.db", eb_dir);
	snprintf(lab2, sizeof(lab2), "%s/lab2.db", eb_dir);
	eb_run_db(fin, "run-u1", 4, 0);
	eb_run_db(mid, "run-u1", 1, 3);
	h = eb_test_db_open(fin);
	ended = eb_test_q_str(h, "SELECT finished_at FROM runs");
	sqlite3_close(h);

	ck_assert_int_eq(eb_merge(&out, lab, fin, NULL), 0);
	free(out);
	ck_assert_int_eq(eb_merge(&out, lab, mid, NULL), 2);
	snprintf(want, sizeof(want),
		 "edgebench merge: '%s' run 1: 4 finished, ended %s; input '%s': 1 finished, 3 "
		 "pending, not ended (running): not replaced (the stored copy is further along; "
		 "an older copy never replaces it)\n"
		 "merged '%s' into '%s': 0 runs added, 0 replaced, 0 unchanged, 1 kept (not "
		 "replaced)\n",
		 lab, ended, mid, mid, lab);
	ck_assert_str_eq(out, want);
	free(out);
	free(ended);
	h = eb_test_db_open(lab);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM cells WHERE status='ok'"), 4);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM requests"), 16);
	sqlite3_close(h);

	/* forwards is fine */
	ck_assert_int_eq(eb_merge(&out, lab2, mid, NULL), 0);
	free(out);
	ck_assert_int_eq(eb_merge(&out, lab2, fin, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "0 runs added, 1 replaced, 0 unchanged\n"));
	free(out);
	h = eb_test_db_open(lab2);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM cells WHERE status='ok'"), 4);
	sqlite3_close(h);
}
END_TEST

/*
 * An input another process has open, or one whose -wal holds results not yet in the .db
 * (copied beside it while edgebench ran), is refused by name; `edgebench merge IN.db`
 * alone folds the log in, after which it merges with what the log held.
 */
START_TEST(merge_refuses_open_or_unfolded_input)
{
	char a[4200], b[4200], lab[4200], side[4300], side2[4300], want[9000], *out = NULL;
	sqlite3 *h;

	eb_test_tmpdir("merge-wal", eb_dir, sizeof(eb_dir));
	snprintf(a, sizeof(a), "%s/device.db", eb_dir);
	snprintf(b, sizeof(b), "%s/artifact.db", eb_dir);
	snprintf(lab, sizeof(lab), "%s/lab.db", eb_dir);
	eb_device_db(a, "dev", 1);
	ck_assert_int_eq(sqlite3_open(a, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "PRAGMA wal_autocheckpoint=0; UPDATE runs SET name='late'",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(eb_merge(&out, lab, a, NULL), 2);
	snprintf(want, sizeof(want),
		 "edgebench merge: refusing to merge '%s': another process (pid %d) has it open; "
		 "merge it once that process has exited\n",
		 a, (int)getpid());
	ck_assert_str_eq(out, want);
	free(out);
	/* the artifact step copies the .db and its -wal while the run holds them */
	eb_copy_file(a, b);
	snprintf(side, sizeof(side), "%s-wal", a);
	snprintf(side2, sizeof(side2), "%s-wal", b);
	eb_copy_file(side, side2);
	sqlite3_close(h);
	ck_assert_int_eq(eb_merge(&out, lab, b, NULL), 2);
	ck_assert_msg(strstr(out, "refusing to merge '") && strstr(out, "/artifact.db': its "
				  "write-ahead log '") && strstr(out, "artifact.db-wal' holds ") &&
			      strstr(out, "fold them with `edgebench merge "),
		      "got: %s", out);
	free(out);
	{
		const char *argv[] = { "edgebench", "merge", b, NULL };

		ck_assert_int_eq(eb_cmd(&out, argv), 0);
		free(out);
	}
	ck_assert_int_eq(access(side2, F_OK), -1);
	ck_assert_int_eq(eb_merge(&out, lab, b, NULL), 0);
	free(out);
	h = eb_test_db_open(lab);
	{
		char *name = eb_test_q_str(h, "SELECT name FROM runs");

		ck_assert_str_eq(name, "late");
		free(name);
	}
	sqlite3_close(h);
}
END_TEST

/*
 * A run another process is running (its lock in OUT.db) is not replaced by merge, which
 * names the holder; locks are never copied into OUT.db.
 */
START_TEST(merge_keeps_a_locked_run)
{
	char a[4200], lab[4200], lab2[4200], *out = NULL;
	sqlite3 *h;

	eb_test_tmpdir("merge-lock", eb_dir, sizeof(eb_dir));
	snprintf(a, sizeof(a), "%s/orin.db", eb_dir);
	snprintf(lab, sizeof(lab), "%s/lab.db", eb_dir);
	snprintf(lab2, sizeof(lab2), "%s/lab2.db", eb_dir);
	eb_device_db(a, "orin", 1);
	ck_assert_int_eq(eb_merge(&out, lab, a, NULL), 0);
	free(out);
	eb_tdb_open(lab);
	eb_tdb_exec("INSERT INTO run_locks VALUES(1, 4242, 'orin-7', NULL, NULL,"
		    " '2026-01-02T03:04:05.000Z')");
	eb_tdb_close();
	eb_one_more_cell(a, "INSERT INTO run_locks VALUES(1, 4242, 'orin-7', NULL, NULL,"
			    " '2026-01-02T03:04:05.000Z')");
	ck_assert_int_eq(eb_merge(&out, lab, a, NULL), 2);
	{
		char want[9000];

		snprintf(want, sizeof(want),
			 "edgebench merge: '%s' run 1 is being run by pid 4242 on host 'orin-7' "
			 "since 2026-01-02T03:04:05.000Z: not replaced by the copy in '%s'\n",
			 lab, a);
		ck_assert_msg(strncmp(out, want, strlen(want)) == 0, "got: %s", out);
	}
	free(out);
	h = eb_test_db_open(lab);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM cells"), 2);
	sqlite3_close(h);
	ck_assert_int_eq(eb_merge(&out, lab2, a, NULL), 0);
	free(out);
	h = eb_test_db_open(lab2);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM cells"), 3);
	ck_assert_int_eq(eb_test_q_int(h, "SELECT count(*) FROM run_locks"), 0);
	sqlite3_close(h);
}
END_TEST

/* A database of the schema before run_locks (3) is still read and merged as it is. */
START_TEST(schema_3_still_read_and_merged)
{
	char a[4200], lab[4200], *out = NULL;

	eb_test_tmpdir("merge-v3", eb_dir, sizeof(eb_dir));
	snprintf(a, sizeof(a), "%s/v3.db", eb_dir);
	snprintf(lab, sizeof(lab), "%s/lab.db", eb_dir);
	eb_device_db(a, "old", 1);
	eb_tdb_open(a);
	eb_tdb_exec("DROP TABLE acc_samples; DROP TABLE run_locks; PRAGMA user_version=3");
	eb_tdb_close();
	{
		const char *argv[] = { "edgebench", "list", "--db", a, NULL };

		ck_assert_int_eq(eb_cmd(&out, argv), 0);
		ck_assert_msg(strstr(out, "old") != NULL, "got: %s", out);
		free(out);
	}
	/* samples reads the per-item records only where the table exists: none here */
	{
		const char *argv[] = { "edgebench", "samples", a, NULL };

		ck_assert_int_eq(eb_cmd(&out, argv), 0);
		ck_assert_str_eq(out, "");
		free(out);
	}
	ck_assert_int_eq(eb_merge(&out, lab, a, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "1 run added, 0 replaced, 0 unchanged"));
	free(out);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("merge");
	TCase *tc = tcase_create("merge");

	tcase_add_test(tc, merge_twice_equals_once);
	tcase_add_test(tc, merge_replaces_a_changed_run);
	tcase_add_test(tc, schema_mismatch_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("refusals");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, non_regular_database_refused);
	tcase_add_test(tc, refused_merge_leaves_no_file);
	tcase_add_test(tc, hardlink_of_output_refused);
	tcase_add_test(tc, foreign_sqlite_named);
	tcase_add_test(tc, outputs_that_are_inputs_refused);
	tcase_add_test(tc, merge_never_goes_backwards);
	tcase_add_test(tc, merge_refuses_open_or_unfolded_input);
	tcase_add_test(tc, merge_keeps_a_locked_run);
	tcase_add_test(tc, schema_3_still_read_and_merged);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
