/* ctest: labels=integration timeout=300 */
/* check_plot.c: gnuplot draws every figure kind as PNG, SVG and PDF, with its script and data beside it. */
#include "reportdb.h"

#include "eb_util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char eb_dir[4096], eb_db_path[4200], eb_bare_path[4200];

/* Sets the open database's request send times (requests.t_send_ns, a column a later
 * schema adds) to an SQL expression. */
static void eb_send_times(const char *expr)
{
	sqlite3_stmt *st;
	char sql[512];
	int has;

	ck_assert_int_eq(sqlite3_prepare_v2(eb_tdb->db, "SELECT 1 FROM pragma_table_info("
						      "'requests') WHERE name='t_send_ns'",
					    -1, &st, NULL),
			 SQLITE_OK);
	has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (!has)
		eb_tdb_exec("ALTER TABLE requests ADD COLUMN t_send_ns INTEGER");
	snprintf(sql, sizeof(sql), "UPDATE requests SET t_send_ns = %s", expr);
	eb_tdb_exec(sql);
}

/* Two variants at two prompt lengths with power samples, request send times on the
 * samples' clock, and an accuracy table; and a bare database with no power at all. */
static void eb_build(void)
{
	static const double ttft[4][3] = { { 10, 12, 11 }, { 30, 33, 31 }, { 6, 7, 6.5 }, { 18, 20, 19 } };
	static const double dec[4][3] = { { 50, 52, 48 }, { 49, 51, 47 }, { 90, 95, 92 }, { 88, 91, 90 } };
	int64_t run, cell[4];

	eb_test_tmpdir("plot", eb_dir, sizeof(eb_dir));
	snprintf(eb_db_path, sizeof(eb_db_path), "%s/plot.db", eb_dir);
	snprintf(eb_bare_path, sizeof(eb_bare_path), "%s/bare.db", eb_dir);
	eb_tdb_open(eb_db_path);
	run = eb_tdb_run("00000000-0000-4000-8000-0000000000f1", "plot", eb_tdb_config);
	for (int i = 0; i < 4; i++) {
		struct eb_tcell tc = { "cpu", "tiny", i < 2 ? "f16" : "q4_0", i % 2 ? 64 : 16, 8,
				       "ok", NULL };
		double w[40];

		cell[i] = eb_tdb_cell(run, &tc);
		eb_tdb_requests(cell[i], tc.prompt, tc.gen, ttft[i], dec[i], 3);
		eb_tdb_value(cell[i], "model_bytes", "B", i < 2 ? 262144000.0 : 73400320.0);
		/* 2 s per cell at 50 ms: idle, then busy */
		for (int k = 0; k < 40; k++)
			w[k] = (k < 8 ? 2.0 : 6.0 - (i >= 2) * 2.0) + 0.1 * (k % 3);
		eb_tdb_power(cell[i], "hwmon", "VDD_IN", (int64_t)i * 2000000000, 50000000, w, 40);
		eb_tdb_power(cell[i], "hwmon", "VDD_CPU", (int64_t)i * 2000000000, 50000000, w, 40);
	}
	/* send times on the sensors' clock */
	eb_send_times("(cell_id - 1) * 2000000000 + 500000000 + rep * 400000000"
		      " + warmup * 100000000");
	eb_tdb_exec("CREATE TABLE IF NOT EXISTS accuracy(cell_id INTEGER, task TEXT, protocol TEXT,"
		    " metric TEXT, value REAL, stderr REAL, n INTEGER);"
		    "INSERT INTO accuracy(cell_id,task,protocol,metric,value,stderr,n) VALUES(1,'hellaswag','hellaswag','acc_norm',0.6606,0.0047,"
		    "10042),(3,'hellaswag','hellaswag','acc_norm',0.643,0.0048,10042),"
		    "(1,'wikitext2','wikitext2-gptq','ppl',10.08,NULL,141),"
		    "(3,'wikitext2','wikitext2-gptq','ppl',10.5,NULL,141);");
	eb_tdb_close();

	eb_tdb_open(eb_bare_path);
	run = eb_tdb_run("00000000-0000-4000-8000-0000000000f2", "bare", NULL);
	{
		struct eb_tcell tc = { "cpu", "tiny", "f16", 16, 8, "ok", NULL };
		int64_t c = eb_tdb_cell(run, &tc);

		eb_tdb_requests(c, 16, 8, ttft[0], dec[0], 3);
	}
	eb_tdb_close();
}

static int eb_plot(const char *db, const char *kind, const char *out, char **text)
{
	const char *argv[] = { "edgebench", "plot", "--db", db, "--kind", kind, "--out", out, NULL };

	return eb_test_run(argv, text);
}

START_TEST(every_kind_png_and_svg)
{
	static const char *const kinds[] = { "throughput", "ttft-vs-prompt", "power", "accuracy",
					     "pareto" };
	static const char *const exts[] = { "png", "svg" };

	eb_build();
	for (size_t k = 0; k < 5; k++)
		for (size_t e = 0; e < 2; e++) {
			char fig[4400], gp[4400], dat[4400], *out = NULL, *data, *script, want[256];
			size_t len = 0;
			int rc;

			snprintf(fig, sizeof(fig), "%s/%s.%s", eb_dir, kinds[k], exts[e]);
			snprintf(gp, sizeof(gp), "%s/%s.gp", eb_dir, kinds[k]);
			snprintf(dat, sizeof(dat), "%s/%s.dat", eb_dir, kinds[k]);
			unlink(fig);
			rc = eb_plot(eb_db_path, kinds[k], fig, &out);
			ck_assert_msg(rc == 0, "%s %s: exit %d: %s", kinds[k], exts[e], rc, out);
			ck_assert_msg(strstr(out, "not shaded") == NULL, "%s", out);
			free(out);
			data = eb_tdb_slurp(fig, &len);
			ck_assert_msg(data && len > 2000, "%s: %zu bytes", fig, len);
			if (e == 0)
				ck_assert_int_eq(memcmp(data, "\x89PNG\r\n\x1a\n", 8), 0);
			else
				ck_assert_ptr_nonnull(strstr(data, "<svg"));
			free(data);
			/* the script and its data stay beside the figure */
			script = eb_tdb_slurp(gp, NULL);
			ck_assert_ptr_nonnull(script);
			snprintf(want, sizeof(want), "set output '%s.%s'", kinds[k], exts[e]);
			ck_assert_msg(strstr(script, want) != NULL, "%s", script);
			snprintf(want, sizeof(want), "'%s.dat'", kinds[k]);
			ck_assert_msg(strstr(script, want) != NULL, "%s", script);
			if (k == 2)
				ck_assert_ptr_nonnull(strstr(script, "title 'prefill'"));
			free(script);
			data = eb_tdb_slurp(dat, &len);
			ck_assert_msg(data && len > 10, "%s", dat);
			free(data);
		}
}
END_TEST

START_TEST(nothing_to_draw)
{
	char fig[4400], *out = NULL;
	int rc;

	eb_build();
	snprintf(fig, sizeof(fig), "%s/none.png", eb_dir);
	rc = eb_plot(eb_bare_path, "power", fig, &out);
	ck_assert_int_eq(rc, 1);
	/* the default runs: each device's latest */
	ck_assert_msg(strstr(out, "edgebench plot: no power samples in the latest run of each "
				  "device") != NULL,
		      "%s", out);
	free(out);
	rc = eb_plot(eb_bare_path, "pareto", fig, &out);
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(out, "no power samples in the latest run of each device: the pareto "
			     "plot needs J/token") != NULL,
		      "%s", out);
	free(out);
	rc = eb_plot(eb_bare_path, "accuracy", fig, &out);
	ck_assert_int_eq(rc, 1);
	/* which of the two depends on the schema: the accuracy table came with version 2 */
	ck_assert_msg(strstr(out, "edgebench plot: no accuracy table in") != NULL ||
			      strstr(out, "edgebench plot: no accuracy results in the latest run of "
				     "each device") != NULL,
		      "%s", out);
	free(out);
	rc = eb_plot(eb_bare_path, "throughput", "/nonexistent-dir/x.png", &out);
	ck_assert_int_eq(rc, 2);
	free(out);
	rc = eb_plot(eb_bare_path, "throughput", fig, &out); /* the bare run still has rates */
	ck_assert_msg(rc == 0, "%s", out);
	free(out);
	snprintf(fig, sizeof(fig), "%s/none.eps", eb_dir);
	rc = eb_plot(eb_bare_path, "throughput", fig, &out);
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "must be a .png, .svg or .pdf file"));
	free(out);
}
END_TEST

START_TEST(gnuplot_missing)
{
	char fig[4400], gp[4400], *out = NULL;
	int rc;

	eb_build();
	setenv("EB_GNUPLOT", "/nonexistent/gnuplot", 1);
	snprintf(fig, sizeof(fig), "%s/nognuplot.svg", eb_dir);
	snprintf(gp, sizeof(gp), "%s/nognuplot.gp", eb_dir);
	rc = eb_plot(eb_db_path, "throughput", fig, &out);
	ck_assert_int_eq(rc, 2);
	ck_assert_msg(strstr(out, "gnuplot not found") && strstr(out, "gnuplot-nox"), "%s", out);
	free(out);
	ck_assert_int_eq(access(gp, R_OK), 0); /* the script is there to run later */

	/* the html report says so instead of figures */
	{
		const char *argv[] = { "edgebench", "report", "--db", eb_db_path, "--format", "html",
				       NULL };

		rc = eb_test_run(argv, &out);
		ck_assert_int_eq(rc, 0);
		ck_assert_ptr_nonnull(strstr(out, "<p class=\"meta\">Figures left out: gnuplot not found"));
		ck_assert_ptr_null(strstr(out, "data:image/svg+xml"));
		free(out);
	}
	unsetenv("EB_GNUPLOT");
}
END_TEST

START_TEST(html_embeds_svg)
{
	const char *argv[] = { "edgebench", "report", "--db", eb_db_path, "--format", "html", "--layout",
			       "card", NULL };
	char *out = NULL;
	size_t n = 0;
	int rc;

	eb_build();
	rc = eb_test_run(argv, &out);
	ck_assert_msg(rc == 0, "%s", out);
	for (const char *p = out; (p = strstr(p, "src=\"data:image/svg+xml;base64,")) != NULL; p++)
		n++;
	ck_assert_int_eq(n, 5); /* throughput, ttft, power, pareto, accuracy */
	ck_assert_ptr_nonnull(strstr(out, "<caption>tiny on cpu, device test, run 1 (median)</caption>"));
	ck_assert_ptr_nonnull(strstr(out, "average power"));
	ck_assert_ptr_nonnull(strstr(out, "hellaswag acc_norm (hellaswag)"));
	ck_assert_ptr_nonnull(strstr(out, "</html>\n"));
	free(out);
}
END_TEST

/* Runs `edgebench plot --db DB --kind KIND --out OUT` with the extra arguments (at most
 * 8, NULL-terminated) and returns its exit code. */
static int eb_plotx(char **text, const char *db, const char *kind, const char *out, ...)
{
	const char *argv[20] = { "edgebench", "plot", "--db", db, "--kind", kind, "--out", out };
	size_t n = 8;
	va_list ap;
	const char *a;

	va_start(ap, out);
	while ((a = va_arg(ap, const char *)) != NULL && n < 18)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return eb_test_run(argv, text);
}

/* FIG = DIR/NAME.EXT and its script and data beside it (buffers of 4400 bytes). */
static void eb_fig_paths(const char *name, const char *ext, char *fig, char *gp, char *dat)
{
	snprintf(fig, 4400, "%s/%s.%s", eb_dir, name, ext);
	snprintf(gp, 4400, "%s/%s.gp", eb_dir, name);
	snprintf(dat, 4400, "%s/%s.dat", eb_dir, name);
}

/* Runs plot with the arguments (after DB, KIND, OUT) and asserts it drew the figure. */
#define EB_PLOT_OK(...)                                          \
	do {                                                     \
		char *ok_out_ = NULL;                            \
		int ok_rc_ = eb_plotx(&ok_out_, __VA_ARGS__, NULL); \
                                                                 \
		ck_assert_msg(ok_rc_ == 0, "%s", ok_out_);       \
		free(ok_out_);                                   \
	} while (0)

/* Runs plot with the arguments (after DB, KIND, OUT) and asserts its exit code and that
 * its output holds `want`. */
#define EB_PLOT_FAILS(rc, want, ...)                                     \
	do {                                                             \
		char *fail_out_ = NULL;                                  \
		int fail_rc_ = eb_plotx(&fail_out_, __VA_ARGS__, NULL);   \
                                                                         \
		ck_assert_msg(fail_rc_ == (rc), "exit %d: %s", fail_rc_, fail_out_); \
		ck_assert_msg(strstr(fail_out_, want), "%s", fail_out_); \
		free(fail_out_);                                         \
	} while (0)

/* Occurrences of `needle` in s. */
static size_t eb_count(const char *s, const char *needle)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* The blocks of a gnuplot data file: runs of data lines, each ended by two blank lines
 * (what `index` counts); *single counts blank lines that end a data line run alone, which
 * split a block into stretches gnuplot draws apart. Returns the number of blocks and
 * writes each block's line count into rows (at most max). */
static size_t eb_dat_blocks(const char *dat, size_t *rows, size_t max, size_t *single)
{
	size_t nb = 0, cur = 0, blanks = 0;

	*single = 0;
	for (const char *p = dat; *p;) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == 0) {
			blanks++;
		} else if (p[0] != '#') {
			if (blanks == 1 && cur > 0)
				(*single)++;
			if (blanks >= 2 && cur > 0) {
				if (nb < max)
					rows[nb] = cur;
				nb++;
				cur = 0;
			}
			blanks = 0;
			cur++;
		}
		p += len + (e ? 1 : 0);
	}
	if (cur > 0) {
		if (nb < max)
			rows[nb] = cur;
		nb++;
	}
	return nb;
}

static char eb_dev_path[2][4400];

/* The same two cells (tiny f16 at 16 and 64 prompt tokens) measured on two devices, in
 * two databases merged into one as a lab merges its boards' results. */
static void eb_build_devices(char *merged, size_t n)
{
	static const double ttft[2][2][3] = { { { 10, 11, 12 }, { 30, 31, 32 } },
					      { { 100, 110, 120 }, { 300, 310, 320 } } };
	static const double dec[2][3] = { { 50, 51, 52 }, { 9, 10, 11 } };
	static const char *const dev[2] = { "orin-agx", "rpi5" };
	char *out = NULL;

	eb_test_tmpdir("plotdev", eb_dir, sizeof(eb_dir));
	for (int d = 0; d < 2; d++) {
		char uuid[64], sql[256];
		int64_t run;

		snprintf(eb_dev_path[d], sizeof(eb_dev_path[d]), "%s/%s.db", eb_dir, dev[d]);
		snprintf(uuid, sizeof(uuid), "00000000-0000-4000-8000-00000000d%03d", d);
		eb_tdb_open(eb_dev_path[d]);
		run = eb_tdb_run(uuid, "quick", eb_tdb_config);
		for (int p = 0; p < 2; p++) {
			struct eb_tcell tc = { "cpu", "tiny", "f16", p ? 64 : 16, 8, "ok", NULL };
			int64_t c = eb_tdb_cell(run, &tc);

			eb_tdb_requests(c, tc.prompt, tc.gen, ttft[d][p], dec[d], 3);
		}
		snprintf(sql, sizeof(sql), "UPDATE cells SET device='%s'", dev[d]);
		eb_tdb_exec(sql);
		eb_tdb_close();
	}
	snprintf(merged, n, "%s/lab.db", eb_dir);
	{
		const char *argv[] = { "edgebench", "merge", merged, eb_dev_path[0], eb_dev_path[1], NULL };

		ck_assert_msg(eb_test_run(argv, &out) == 0, "%s", out);
		free(out);
	}
}

START_TEST(devices_apart)
{
	char db[4400], fig[4400], gp[4400], dat[4400], *script, *data;
	size_t rows[8], single;

	eb_build_devices(db, sizeof(db));
	eb_fig_paths("thr", "svg", fig, gp, dat);
	EB_PLOT_OK(db, "throughput", fig, "--run", "all");
	/* every bar names its device, not `run 1 f16 p16` */
	script = eb_tdb_slurp(gp, NULL);
	ck_assert_msg(strstr(script, "'run 1 orin-agx: f16 p16' 0") &&
			      strstr(script, "'run 1 orin-agx: f16 p64' 1") &&
			      strstr(script, "'run 2 rpi5: f16 p16' 2") &&
			      strstr(script, "'run 2 rpi5: f16 p64' 3"),
		      "%s", script);
	free(script);

	/* --device keeps one board's cells: its two rows and its rates only */
	EB_PLOT_OK(db, "throughput", fig, "--run", "all", "--device", "rpi*");
	script = eb_tdb_slurp(gp, NULL);
	ck_assert_msg(strstr(script, "orin") == NULL && strstr(script, "'rpi5: f16 p64' 1"),
		      "%s", script);
	free(script);
	data = eb_tdb_slurp(dat, NULL);
	ck_assert_uint_eq(eb_dat_blocks(data, rows, 8, &single), 1);
	ck_assert_uint_eq(rows[0], 2);
	ck_assert_msg(strstr(data, "\n0 10 ") && strstr(data, "\n1 10 "), "%s", data);
	free(data);
	EB_PLOT_FAILS(1, "no cells in the selected runs match the selection",
		      db, "throughput", fig, "--run", "all", "--device", "jetson-nano");

	/* TTFT lines: one per run and device, each titled with its device */
	eb_fig_paths("ttft", "svg", fig, gp, dat);
	EB_PLOT_OK(db, "ttft-vs-prompt", fig, "--run", "all");
	script = eb_tdb_slurp(gp, NULL);
	ck_assert_msg(strstr(script, "index 0 using 1:2:3:4 with yerrorlines lw 2 pt 7 title 'run 1 "
				     "orin-agx: cpu/tiny/f16'") &&
			      strstr(script, "index 1 using 1:2:3:4 with yerrorlines lw 2 pt 7 title "
					     "'run 2 rpi5: cpu/tiny/f16'"),
		      "%s", script);
	free(script);

	/* one run whose cells ran on two devices: two lines of one point each, never a line
	 * from one device's p16 to the other's p64 */
	eb_tdb_open(eb_dev_path[1]);
	eb_tdb_exec("UPDATE cells SET device='orin-agx' WHERE prompt_tokens=64");
	eb_tdb_close();
	EB_PLOT_OK(eb_dev_path[1], "ttft-vs-prompt", fig);
	script = eb_tdb_slurp(gp, NULL);
	ck_assert_msg(strstr(script, "index 0 using 1:2:3:4 with yerrorlines lw 2 pt 7 title "
				     "'rpi5: cpu/tiny/f16'") &&
			      strstr(script, "index 1 using 1:2:3:4 with yerrorlines lw 2 pt 7 title "
					     "'orin-agx: cpu/tiny/f16'"),
		      "%s", script);
	free(script);
	data = eb_tdb_slurp(dat, NULL);
	ck_assert_uint_eq(eb_dat_blocks(data, rows, 8, &single), 2);
	ck_assert_uint_eq(rows[0], 1);
	ck_assert_uint_eq(rows[1], 1);
	free(data);
}
END_TEST

/* Three cells measured at once (their sensors' clocks overlap, as in runs merged from
 * two boards or cells that share a sampling window): two rails each, 40 samples. */
static void eb_build_power(char *db, size_t n)
{
	static const double ttft[3] = { 10, 11, 12 }, dec[3] = { 50, 51, 52 };
	static const char *const quant[3] = { "f16", "q8_0", "q4_0" };
	int64_t run;

	eb_test_tmpdir("plotpow", eb_dir, sizeof(eb_dir));
	snprintf(db, n, "%s/power.db", eb_dir);
	eb_tdb_open(db);
	run = eb_tdb_run("00000000-0000-4000-8000-0000000000f3", "power", eb_tdb_config);
	for (int i = 0; i < 3; i++) {
		struct eb_tcell tc = { "cpu", "tiny", quant[i], 16, 8, "ok", NULL };
		int64_t c = eb_tdb_cell(run, &tc);
		double w[40];

		eb_tdb_requests(c, 16, 8, ttft, dec, 3);
		for (int k = 0; k < 40; k++)
			w[k] = 3.0 + i + 0.1 * (k % 5);
		eb_tdb_power(c, "hwmon", "VDD_IN", 1000000000 + (int64_t)i * 10000000, 50000000, w,
			     40);
		eb_tdb_power(c, "hwmon", "VDD_CPU", 1000000000 + (int64_t)i * 10000000, 50000000, w,
			     40);
	}
	eb_tdb_close();
}

START_TEST(power_per_cell)
{
	char db[4400], fig[4400], gp[4400], dat[4400], *script, *data;
	size_t rows[16], single, len = 0;

	eb_build_power(db, sizeof(db));
	eb_fig_paths("power", "png", fig, gp, dat);
	EB_PLOT_OK(db, "power", fig);
	/* one block per cell and rail, each whole: a blank line inside one would make gnuplot
	 * draw its stretches apart */
	data = eb_tdb_slurp(dat, NULL);
	ck_assert_uint_eq(eb_dat_blocks(data, rows, 16, &single), 6);
	ck_assert_uint_eq(single, 0);
	for (int b = 0; b < 6; b++)
		ck_assert_uint_eq(rows[b], 40);
	/* each cell on its own time axis, from its first sample */
	ck_assert_uint_eq(eb_count(data, "\n0.000000 "), 6);
	free(data);
	/* one panel per cell, titled with its key */
	script = eb_tdb_slurp(gp, NULL);
	ck_assert_msg(strstr(script, "set multiplot layout 3,1"), "%s", script);
	ck_assert_uint_eq(eb_count(script, "\nplot "), 3);
	ck_assert_msg(strstr(script, "cpu/tiny/f16/latency/p16-g8") &&
			      strstr(script, "cpu/tiny/q8_0/latency/p16-g8") &&
			      strstr(script, "cpu/tiny/q4_0/latency/p16-g8"),
		      "%s", script);
	for (int b = 0; b < 6; b++) {
		char want[64];

		snprintf(want, sizeof(want), " index %d using 1:2 with lines", b);
		ck_assert_msg(strstr(script, want), "%s: %s", want, script);
	}
	free(script);
	data = eb_tdb_slurp(fig, &len);
	ck_assert_msg(data && len > 2000, "%s: %zu bytes", fig, len);
	ck_assert_int_eq(memcmp(data, "\x89PNG\r\n\x1a\n", 8), 0);
	free(data);

	/* --only picks cells by key (an fnmatch pattern) */
	EB_PLOT_OK(db, "power", fig, "--only", "cpu/tiny/q4_0/*");
	data = eb_tdb_slurp(dat, NULL);
	ck_assert_uint_eq(eb_dat_blocks(data, rows, 16, &single), 2);
	ck_assert_uint_eq(rows[0], 40);
	ck_assert_uint_eq(rows[1], 40);
	ck_assert_msg(strstr(data, "\n0.000000 5\n"), "%s", data); /* cell 3's 5.0 W */
	free(data);
	script = eb_tdb_slurp(gp, NULL);
	ck_assert_uint_eq(eb_count(script, "\nplot "), 1);
	ck_assert_msg(strstr(script, "q4_0") && !strstr(script, "f16/latency"), "%s", script);
	free(script);
	EB_PLOT_FAILS(1, "edgebench plot: no cell in the latest run of each device matches --only "
		      "'cpu/tiny/q2_k/*'",
		      db, "power", fig, "--only", "cpu/tiny/q2_k/*");
}
END_TEST

/* Power samples and send times at the ends of the int64 clock: times relative to a
 * cell's first sample and request windows are computed without overflow. */
START_TEST(power_clock_extremes)
{
	char db[4400], fig[4400], dat[4400], gp[4400], *data, *script;
	double w[3] = { 1, 2, 3 };
	int64_t run, c;

	eb_test_tmpdir("plotclk", eb_dir, sizeof(eb_dir));
	snprintf(db, sizeof(db), "%s/clock.db", eb_dir);
	eb_fig_paths("clock", "svg", fig, gp, dat);
	eb_tdb_open(db);
	run = eb_tdb_run("00000000-0000-4000-8000-0000000000f4", "clock", eb_tdb_config);
	{
		struct eb_tcell tc = { "cpu", "tiny", "f16", 16, 8, "ok", NULL };
		static const double ttft[1] = { 10 }, dec[1] = { 50 };

		c = eb_tdb_cell(run, &tc);
		eb_tdb_requests(c, 16, 8, ttft, dec, 1);
	}
	/* -5e18, 0 and 5e18 ns: 1e10 s apart, more than int64 holds in ns */
	eb_tdb_power(c, "hwmon", "VDD_IN", -5000000000000000000LL, 1, &w[0], 1);
	eb_tdb_power(c, "hwmon", "VDD_IN", 0, 1, &w[1], 1);
	eb_tdb_power(c, "hwmon", "VDD_IN", 5000000000000000000LL, 1, &w[2], 1);
	/* a request sent 1 ns before the clock ends: its first token is past it */
	eb_send_times("9223372036854775806");
	eb_tdb_close();
	EB_PLOT_OK(db, "power", fig);
	data = eb_tdb_slurp(dat, NULL);
	ck_assert_msg(strstr(data, "\n0.000000 1\n5000000000.000000 2\n10000000000.000000 3\n"),
		      "%s", data);
	free(data);
	script = eb_tdb_slurp(gp, NULL);
	ck_assert_msg(strstr(script, "set object") == NULL, "%s", script);
	free(script);
}
END_TEST

/* Nineteen accuracy metrics over two variants, as the quick start's perplexity, KLD and
 * HellaSwag cells store them. */
static void eb_build_accuracy(char *db, size_t n)
{
	static const char *const kld[] = { "kld_mean", "kld_median", "kld_p90", "kld_p95",
					   "kld_p99", "kld_max", "top1_agree", "dp_mean",
					   "dp_rms", "dp_max", "dp_p99", "ppl_base", "ppl_ratio",
					   "ln_ppl_ratio", "nll_base" };
	static const double ttft[3] = { 10, 11, 12 }, dec[3] = { 50, 51, 52 };
	struct eb_buf sql;
	int64_t run, cell[2];

	eb_test_tmpdir("plotacc", eb_dir, sizeof(eb_dir));
	snprintf(db, n, "%s/acc.db", eb_dir);
	eb_tdb_open(db);
	run = eb_tdb_run("00000000-0000-4000-8000-0000000000f5", "acc", eb_tdb_config);
	for (int i = 0; i < 2; i++) {
		struct eb_tcell tc = { "cpu", "tiny", i ? "q4_0" : "f16", 16, 8, "ok", NULL };

		cell[i] = eb_tdb_cell(run, &tc);
		eb_tdb_requests(cell[i], 16, 8, ttft, dec, 3);
		eb_tdb_value(cell[i], "model_bytes", "B", i ? 73400320.0 : 262144000.0);
	}
	eb_buf_init(&sql, 0);
	eb_buf_addstr(&sql, "CREATE TABLE IF NOT EXISTS accuracy(cell_id INTEGER, task TEXT,"
			    " protocol TEXT, metric TEXT, value REAL, stderr REAL, n INTEGER);"
			    "INSERT INTO accuracy(cell_id,task,protocol,metric,value,stderr,n) VALUES"
			    "(1,'wikitext2','wikitext2-gptq','ppl',10.08,0.12,141),"
			    "(2,'wikitext2','wikitext2-gptq','ppl',10.5,0.13,141),"
			    "(1,'hellaswag','hellaswag','acc',0.5,0.18,8),"
			    "(2,'hellaswag','hellaswag','acc',0.375,0.18,8),"
			    "(1,'hellaswag','hellaswag','acc_norm',0.625,0.18,8),"
			    "(2,'hellaswag','hellaswag','acc_norm',0.5,0.19,8)");
	for (size_t k = 0; k < sizeof(kld) / sizeof(kld[0]); k++)
		eb_buf_addf(&sql, ",(%lld,'wikitext2','kld','%s',%g,NULL,141)", (long long)cell[1],
			    kld[k], 0.01 * (double)(k + 1));
	eb_tdb_exec(sql.buf);
	eb_buf_release(&sql);
	eb_tdb_close();
}

/* The size `set terminal` gives the figure in the script: *w, *h. */
static void eb_term_size(const char *script, double *w, double *h)
{
	const char *p = strstr(script, "set terminal ");

	ck_assert_ptr_nonnull(p);
	p = strstr(p, " size ");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p, " size %lf,%lf", w, h), 2);
}

START_TEST(accuracy_panels)
{
	char db[4400], fig[4400], gp[4400], dat[4400], *out = NULL, *script, *data;
	size_t rows[32], single;
	double w, h;
	int rc, cols, nrows;

	eb_build_accuracy(db, sizeof(db));
	eb_fig_paths("acc", "png", fig, gp, dat);
	EB_PLOT_OK(db, "accuracy", fig);
	/* 18 panels (kld's 15 have one point each), each at least 500 x 350 pixels: the
	 * figure grows with its panels instead of squeezing them into 1200 x 700 */
	script = eb_tdb_slurp(gp, NULL);
	ck_assert_uint_eq(eb_count(script, "\nplot "), 18);
	ck_assert_msg(strstr(script, "set multiplot layout "), "%s", script);
	ck_assert_int_eq(sscanf(strstr(script, "set multiplot layout "), "set multiplot layout %d,%d",
				&nrows, &cols),
			 2);
	ck_assert_int_ge(nrows * cols, 18);
	eb_term_size(script, &w, &h);
	ck_assert_msg(w / cols >= 500 && h / nrows >= 350, "%g x %g for %d x %d panels", w, h,
		      nrows, cols);
	free(script);

	/* --metric picks panels by metric name: one readable panel */
	EB_PLOT_OK(db, "accuracy", fig, "--metric", "ppl");
	script = eb_tdb_slurp(gp, NULL);
	ck_assert_uint_eq(eb_count(script, "\nplot "), 1);
	ck_assert_msg(!strstr(script, "multiplot") && strstr(script, "set title 'wikitext2 ppl'"),
		      "%s", script);
	free(script);
	data = eb_tdb_slurp(dat, NULL);
	ck_assert_uint_eq(eb_dat_blocks(data, rows, 32, &single), 1);
	ck_assert_uint_eq(rows[0], 2);
	ck_assert_msg(strstr(data, "250 10.08 0.12\n") && strstr(data, "70 10.5 0.13\n"), "%s",
		      data);
	free(data);
	EB_PLOT_OK(db, "accuracy", fig, "--metric", "acc*");
	script = eb_tdb_slurp(gp, NULL);
	ck_assert_uint_eq(eb_count(script, "\nplot "), 2);
	ck_assert_msg(strstr(script, "'hellaswag acc'") && strstr(script, "'hellaswag acc_norm'"),
		      "%s", script);
	free(script);
	EB_PLOT_FAILS(1, "no accuracy metric in the latest run of each device matches --metric 'bleu'",
		      db, "accuracy", fig, "--metric", "bleu");

	/* the html page embeds figures it can show legibly: not 18 accuracy panels */
	{
		const char *argv[] = { "edgebench", "report", "--db", db, "--format", "html", NULL };

		rc = eb_test_run(argv, &out);
		ck_assert_msg(rc == 0, "%s", out);
		ck_assert_ptr_null(strstr(out, "alt=\"Accuracy against model size\""));
		ck_assert_msg(strstr(out, "<p class=\"meta\">Figure left out (Accuracy against model "
					  "size): 18 accuracy panels (one per task and metric), more "
					  "than the 8 that stay legible in one figure; pick metrics "
					  "with --metric PAT"),
			      "%s", out);
		ck_assert_uint_eq(eb_count(out, "src=\"data:image/svg+xml;base64,"), 2);
		free(out);
	}

	/* the KLD rows of a second text: 33 panels, more than one figure holds legibly; refused,
	 * naming the metrics to pick from */
	eb_tdb_open(db);
	eb_tdb_exec("INSERT INTO accuracy(cell_id,task,protocol,metric,value,stderr,n) SELECT"
		    " cell_id,'c4',protocol,metric,value,stderr,n FROM accuracy WHERE protocol='kld'");
	eb_tdb_close();
	EB_PLOT_FAILS(2,
		      "edgebench plot: 33 accuracy panels (one per task and metric), more than "
		      "the 24 that stay legible in one figure; pick metrics with --metric PAT (e.g. "
		      "--metric 'ppl,acc_norm') of: dp_max, dp_mean, dp_p99, dp_rms, kld_max, "
		      "kld_mean, kld_median, kld_p90, kld_p95, kld_p99, ln_ppl_ratio, nll_base, "
		      "ppl_base, ppl_ratio, top1_agree, acc, acc_norm, ppl\n",
		      db, "accuracy", fig);
	EB_PLOT_OK(db, "accuracy", fig, "--metric", "kld_mean,ppl");
	script = eb_tdb_slurp(gp, NULL);
	ck_assert_uint_eq(eb_count(script, "\nplot "), 3); /* c4 and wikitext2 kld_mean, ppl */
	free(script);
}
END_TEST

/* A PDF's first MediaBox: its width and height in points. */
static void eb_pdf_box(const char *pdf, size_t len, double *w, double *h)
{
	double x0, y0;
	const char *p = memmem(pdf, len, "/MediaBox", 9);

	ck_assert_ptr_nonnull(p);
	p += 9;
	while (*p == ' ' || *p == '[')
		p++;
	ck_assert_int_eq(sscanf(p, "%lf %lf %lf %lf", &x0, &y0, w, h), 4);
	*w -= x0;
	*h -= y0;
}

START_TEST(pdf_size_font)
{
	char fig[4400], gp[4400], fake[4400], *out = NULL, *data, *script;
	size_t len = 0;
	double w, h;
	int rc;

	eb_build();
	snprintf(fig, sizeof(fig), "%s/col.pdf", eb_dir);
	snprintf(gp, sizeof(gp), "%s/col.gp", eb_dir);
	/* a column-wide figure: 3.3 x 2.5 inches is 237.6 x 180 points, a page gnuplot's
	 * pdfcairo cuts down to whole points */
	EB_PLOT_OK(eb_db_path, "throughput", fig, "--size", "3.3x2.5in", "--font",
		      "DejaVu Sans,7");
	data = eb_tdb_slurp(fig, &len);
	ck_assert_msg(data && len > 1000 && memcmp(data, "%PDF", 4) == 0, "%s: %zu bytes", fig, len);
	eb_pdf_box(data, len, &w, &h);
	ck_assert_msg(w == floor(3.3 * 72) && h == 180, "%g x %g", w, h);
	free(data);
	script = eb_tdb_slurp(gp, NULL);
	ck_assert_msg(strstr(script, "set terminal pdfcairo size 3.3in,2.5in noenhanced font "
				     "'DejaVu Sans,7'"),
		      "%s", script);
	free(script);
	/* centimetres: 8.4 x 6 cm is 238.1 x 170.1 points (238 x 170 on the page) */
	EB_PLOT_OK(eb_db_path, "power", fig, "--size", "8.4x6cm");
	data = eb_tdb_slurp(fig, &len);
	ck_assert_msg(data && memcmp(data, "%PDF", 4) == 0, "%s", fig);
	eb_pdf_box(data, len, &w, &h);
	ck_assert_msg(w == floor(8.4 / 2.54 * 72) && h == floor(6 / 2.54 * 72), "%g x %g", w, h);
	free(data);

	/* pixels for PNG (the IHDR chunk holds width and height) and SVG */
	snprintf(fig, sizeof(fig), "%s/small.png", eb_dir);
	EB_PLOT_OK(eb_db_path, "pareto", fig, "--size", "800x500");
	data = eb_tdb_slurp(fig, &len);
	ck_assert_msg(data && len > 24, "%s", fig);
	ck_assert_int_eq(memcmp(data + 16, "\0\0\x03\x20\0\0\x01\xf4", 8), 0);
	free(data);
	snprintf(fig, sizeof(fig), "%s/small.svg", eb_dir);
	EB_PLOT_OK(eb_db_path, "ttft-vs-prompt", fig, "--size", "640x480", "--font",
		      "serif,9");
	data = eb_tdb_slurp(fig, NULL);
	ck_assert_msg(strstr(data, "width=\"640\" height=\"480\""), "%.400s", data);
	ck_assert_msg(strstr(data, "font-family=\"serif\""), "%.2000s", data);
	free(data);

	/* what cannot be drawn as asked is refused, naming the option and the cause */
	EB_PLOT_FAILS(2,
		      "edgebench plot: --size '3.3x2.5in': inches and centimetres are for PDF; "
		      "PNG and SVG sizes are in pixels (e.g. 1200x700)",
		      eb_db_path, "throughput", fig, "--size", "3.3x2.5in");
	EB_PLOT_FAILS(2, "edgebench plot: --size '0x500': width and height must be above 0",
		      eb_db_path, "throughput", fig, "--size", "0x500");
	EB_PLOT_FAILS(2, "edgebench plot: --size 'wide': expected WIDTHxHEIGHT", eb_db_path,
		      "throughput", fig, "--size", "wide");
	snprintf(fig, sizeof(fig), "%s/col.pdf", eb_dir);
	EB_PLOT_FAILS(2, "edgebench plot: --size '300x200': a PDF's size takes a unit, in or cm",
		      eb_db_path, "throughput", fig, "--size", "300x200");
	EB_PLOT_FAILS(2, "edgebench plot: --font 'sans': expected NAME,SIZE",
		      eb_db_path, "throughput", fig, "--font", "sans");

	/* a gnuplot without cairo cannot write PDF: said plainly, not a broken file */
	snprintf(fake, sizeof(fake), "%s/gnuplot-nocairo", eb_dir);
	{
		FILE *f = fopen(fake, "w");

		ck_assert_ptr_nonnull(f);
		fputs("#!/bin/sh\necho 'Available terminal types:'\necho '  png  PNG images "
		      "using libgd'\necho '  svg  W3C Scalable Vector Graphics'\n",
		      f);
		fclose(f);
		ck_assert_int_eq(chmod(fake, 0755), 0);
	}
	setenv("EB_GNUPLOT", fake, 1);
	snprintf(fig, sizeof(fig), "%s/nocairo.pdf", eb_dir);
	rc = eb_plotx(&out, eb_db_path, "throughput", fig, NULL);
	unsetenv("EB_GNUPLOT");
	ck_assert_int_eq(rc, 2);
	ck_assert_msg(strstr(out, "has no pdfcairo terminal"), "%s", out);
	free(out);
	ck_assert_int_ne(access(fig, F_OK), 0);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("plot");
	TCase *tc = tcase_create("plot");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, every_kind_png_and_svg);
	tcase_add_test(tc, nothing_to_draw);
	tcase_add_test(tc, gnuplot_missing);
	tcase_add_test(tc, html_embeds_svg);
	tcase_add_test(tc, devices_apart);
	tcase_add_test(tc, power_per_cell);
	tcase_add_test(tc, power_clock_extremes);
	tcase_add_test(tc, accuracy_panels);
	tcase_add_test(tc, pdf_size_font);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
