/* ctest: labels=integration timeout=300 */
/* check_plot.c: gnuplot draws every figure kind as PNG and SVG, with its script and data beside it. */
#include "reportdb.h"

#include "eb_util.h"

#include <stdlib.h>
#include <unistd.h>

static char eb_dir[4096], eb_db_path[4200], eb_bare_path[4200];

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
	/* send times on the sensors' clock (a column a later schema adds) */
	{
		sqlite3_stmt *st;
		int has = 0;

		ck_assert_int_eq(sqlite3_prepare_v2(eb_tdb->db, "SELECT 1 FROM pragma_table_info("
							      "'requests') WHERE name='t_send_ns'",
						    -1, &st, NULL),
				 SQLITE_OK);
		has = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
		if (!has)
			eb_tdb_exec("ALTER TABLE requests ADD COLUMN t_send_ns INTEGER");
		eb_tdb_exec("UPDATE requests SET t_send_ns = (cell_id - 1) * 2000000000 + 500000000"
			    " + rep * 400000000 + warmup * 100000000");
	}
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
	ck_assert_msg(strstr(out, "edgebench plot: no power samples in run 1") != NULL, "%s", out);
	free(out);
	rc = eb_plot(eb_bare_path, "pareto", fig, &out);
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(out, "no power samples in run 1: the pareto plot needs J/token") != NULL,
		      "%s", out);
	free(out);
	rc = eb_plot(eb_bare_path, "accuracy", fig, &out);
	ck_assert_int_eq(rc, 1);
	/* which of the two depends on the schema: the accuracy table came with version 2 */
	ck_assert_msg(strstr(out, "edgebench plot: no accuracy table in") != NULL ||
			      strstr(out, "edgebench plot: no accuracy results in run 1") != NULL,
		      "%s", out);
	free(out);
	rc = eb_plot(eb_bare_path, "throughput", "/nonexistent-dir/x.png", &out);
	ck_assert_int_eq(rc, 2);
	free(out);
	rc = eb_plot(eb_bare_path, "throughput", fig, &out); /* the bare run still has rates */
	ck_assert_msg(rc == 0, "%s", out);
	free(out);
	snprintf(fig, sizeof(fig), "%s/none.pdf", eb_dir);
	rc = eb_plot(eb_bare_path, "throughput", fig, &out);
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "must be a .png or .svg file"));
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

static Suite *eb_suite(void)
{
	Suite *s = suite_create("plot");
	TCase *tc = tcase_create("plot");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, every_kind_png_and_svg);
	tcase_add_test(tc, nothing_to_draw);
	tcase_add_test(tc, gnuplot_missing);
	tcase_add_test(tc, html_embeds_svg);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
