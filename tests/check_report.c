/* ctest: labels=unit timeout=120 */
/* check_report.c: report layouts and formats against golden files; hostile names escaped in each. */
#include "reportdb.h"

#include "eb_util.h"
#include "table.h"

#include <jansson.h>
#include <unistd.h>

static char eb_db_path[4096];

static const char eb_evil_target[] = "t&%_";
static const char eb_evil_model[] = "<script>console.error(\"xss\")</script>";
static const char eb_evil_quant[] = "q|\"x\nq";
static const char eb_evil_error[] = "boom, \"quoted\"\nline2 & <b>|</b>";

/* The golden database: one run, model tiny in f16 and q4_0 at two prompt lengths, and two
 * cells with hostile names (one failed). Every value is fixed. */
static const char *eb_golden_db(void)
{
	static const double ttft[4][3] = { { 10, 12, 11 }, { 30, 33, 31 }, { 6, 7, 6.5 }, { 18, 20, 19 } };
	static const double dec[4][3] = { { 50, 52, 48 }, { 49, 51, 47 }, { 90, 95, 92 }, { 88, 91, 90 } };
	static const double w_f16[] = { 4.0, 5.0, 6.0 }, w_q4[] = { 2.0, 2.5, 3.0 };
	static const double ttft_fast[] = { 1.5, 1.5, 1.5 }, dec_fast[] = { 1234.5678, 1300.25, 1250 };
	char dir[4096];
	int64_t run, cell[4], evil, fast;

	eb_test_tmpdir("report", dir, sizeof(dir));
	snprintf(eb_db_path, sizeof(eb_db_path), "%s/golden.db", dir);
	eb_tdb_open(eb_db_path);
	run = eb_tdb_run("00000000-0000-4000-8000-000000000001", "golden", eb_tdb_config);
	for (int i = 0; i < 4; i++) {
		struct eb_tcell tc = { "cpu", "tiny", i < 2 ? "f16" : "q4_0", i % 2 ? 64 : 16, 8,
				       "ok", NULL };

		cell[i] = eb_tdb_cell(run, &tc);
		eb_tdb_requests(cell[i], tc.prompt, tc.gen, ttft[i], dec[i], 3);
		eb_tdb_value(cell[i], "peak_rss_mb", "MiB", i < 2 ? 300.5 + i : 120 + 5 * (i - 2));
		eb_tdb_value(cell[i], "model_bytes", "B", i < 2 ? 262144000.0 : 73400320.0);
		eb_tdb_value(cell[i], "kv_bytes", "B", 8388608.0);
	}
	eb_tdb_power(cell[0], "hwmon", "VDD_IN", 1000000000, 100000000, w_f16, 3);
	eb_tdb_power(cell[2], "hwmon", "VDD_IN", 2000000000, 100000000, w_q4, 3);
	{
		struct eb_tcell tc = { eb_evil_target, eb_evil_model, eb_evil_quant, 16, 8, "failed",
				       eb_evil_error };

		evil = eb_tdb_cell(run, &tc);
	}
	{
		struct eb_tcell tc = { "a~b^c\\d{e}$#", "m_1", "q4_0", 16, 8, "ok", NULL };

		fast = eb_tdb_cell(run, &tc);
		eb_tdb_requests(fast, 16, 8, ttft_fast, dec_fast, 3);
	}
	(void)evil;
	eb_tdb_close();
	return eb_db_path;
}

/* Runs `edgebench report --db DB args...` and compares stdout+stderr with a golden file
 * (EB_UPDATE_GOLDEN=1 rewrites the golden file instead). */
static void eb_golden(const char *golden, const char *const *args)
{
	const char *argv[32] = { "edgebench", "report", "--db", eb_db_path };
	char path[4096], *out = NULL, *want;
	size_t n = 4;
	int rc;

	for (size_t i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	rc = eb_test_run(argv, &out);
	ck_assert_msg(rc == 0, "report %s: exit %d: %s", golden, rc, out);
	snprintf(path, sizeof(path), "%s/report/%s", EB_TEST_DATA, golden);
	if (getenv("EB_UPDATE_GOLDEN")) {
		struct eb_err err;

		ck_assert_msg(eb_write_file(path, out, strlen(out), &err) == 0, "%s", err.msg);
	}
	want = eb_tdb_slurp(path, NULL);
	ck_assert_msg(want != NULL, "no golden file '%s' (EB_UPDATE_GOLDEN=1 writes it)", path);
	if (strcmp(want, out) != 0) {
		char got[4096];
		struct eb_err err;

		snprintf(got, sizeof(got), "%s.got", eb_db_path);
		eb_write_file(got, out, strlen(out), &err);
		ck_abort_msg("report output differs from '%s': diff -u %s %s", golden, path, got);
	}
	free(want);
	free(out);
}

START_TEST(golden_cells)
{
	eb_golden_db();
	eb_golden("cells.txt", (const char *[]){ NULL });
	eb_golden("cells.csv", (const char *[]){ "--format", "csv", NULL });
	eb_golden("cells.json", (const char *[]){ "--format", "json", NULL });
	eb_golden("cells.md", (const char *[]){ "--format", "md", NULL });
	eb_golden("cells.tex", (const char *[]){ "--format", "latex", NULL });
	eb_golden("cells.html", (const char *[]){ "--format", "html", "--no-plots", NULL });
	eb_golden("cells_wide.csv", (const char *[]){ "--format", "csv", "--wide", NULL });
	eb_golden("cells_mean.txt", (const char *[]){ "--stat", "mean", "--model", "tiny", NULL });
}
END_TEST

START_TEST(golden_layouts)
{
	eb_golden_db();
	eb_golden("long.csv", (const char *[]){ "--layout", "long", "--format", "csv", "--metric",
						 "ttft_ms,peak*", NULL });
	eb_golden("wide.md", (const char *[]){ "--layout", "wide", "--format", "md", "--metrics",
						"ttft_ms,decode_tps", NULL });
	eb_golden("wide_mean.csv", (const char *[]){ "--layout", "wide", "--format", "csv",
						      "--stat", "mean", "--metrics", "decode_tps", NULL });
	eb_golden("card.md", (const char *[]){ "--layout", "card", "--format", "md", "--model",
						"tiny", NULL });
	eb_golden("card.tex", (const char *[]){ "--layout", "card", "--format", "latex", "--model",
						 "tiny", NULL });
	eb_golden("card.json", (const char *[]){ "--layout", "card", "--format", "json", "--model",
						  "tiny", NULL });
	eb_golden("speedup.md", (const char *[]){ "--layout", "speedup", "--baseline", "f16",
						   "--format", "md", NULL });
	eb_golden("speedup.csv", (const char *[]){ "--layout", "speedup", "--baseline", "f16",
						    "--format", "csv", NULL });
}
END_TEST

static char *eb_report_out(const char *fmt, int *rc)
{
	const char *argv[] = { "edgebench", "report", "--db", eb_db_path, "--format", fmt,
			       "--wide", "--no-plots", NULL };
	char *out = NULL;

	*rc = eb_test_run(argv, &out);
	return out;
}

START_TEST(hostile_names)
{
	char *out;
	int rc;

	eb_golden_db();

	/* html: nothing of the names survives as markup */
	out = eb_report_out("html", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_null(strstr(out, "<script"));
	ck_assert_ptr_null(strstr(out, "<b>"));
	ck_assert_ptr_nonnull(strstr(out, "&lt;script&gt;console.error(&quot;xss&quot;)&lt;/script&gt;"));
	ck_assert_ptr_nonnull(strstr(out, "t&amp;%_"));
	ck_assert_ptr_nonnull(strstr(out, "q|&quot;x q"));
	free(out);

	/* md: every row has as many unescaped pipes as the header */
	out = eb_report_out("md", &rc);
	ck_assert_int_eq(rc, 0);
	{
		int want = -1;

		for (const char *p = out; *p;) {
			const char *e = strchr(p, '\n');
			int pipes = 0;

			for (const char *q = p; q < (e ? e : p + strlen(p)); q++)
				if (*q == '|' && (q == p || q[-1] != '\\'))
					pipes++;
			if (want < 0)
				want = pipes;
			ck_assert_msg(pipes == want, "md row with %d pipes, header %d: %.*s", pipes,
				      want, (int)((e ? e : p + strlen(p)) - p), p);
			p = e ? e + 1 : p + strlen(p);
		}
		ck_assert_int_gt(want, 10);
	}
	ck_assert_ptr_null(strstr(out, "<script"));
	ck_assert_ptr_nonnull(strstr(out, "t&amp;%\\_"));
	ck_assert_ptr_nonnull(strstr(out, "q\\|\"x q"));
	free(out);

	/* latex: the special characters are escaped */
	out = eb_report_out("latex", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(strstr(out, "t\\&\\%\\_"));
	ck_assert_ptr_nonnull(strstr(out, "\\textless{}script\\textgreater{}"));
	ck_assert_ptr_nonnull(strstr(out, "q\\textbar{}\\textquotedbl{}x q"));
	ck_assert_ptr_nonnull(strstr(out, "a\\textasciitilde{}b\\textasciicircum{}c\\textbackslash{}d\\{e\\}\\$\\#"));
	ck_assert_ptr_nonnull(strstr(out, "m\\_1"));
	free(out);

	/* csv: the fields with quotes, commas and line breaks are quoted */
	out = eb_report_out("csv", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(strstr(out, ",\"q|\"\"x\nq\","));
	ck_assert_ptr_nonnull(strstr(out, "\"boom, \"\"quoted\"\"\nline2 & <b>|</b>\""));
	free(out);

	/* json: the strings come back exactly */
	out = eb_report_out("json", &rc);
	ck_assert_int_eq(rc, 0);
	{
		json_error_t je;
		json_t *root = json_loads(out, 0, &je), *row;
		size_t i;
		int seen = 0;

		ck_assert_msg(root != NULL, "json: %s", je.text);
		json_array_foreach(root, i, row) {
			if (strcmp(json_string_value(json_object_get(row, "model")), eb_evil_model))
				continue;
			ck_assert_str_eq(json_string_value(json_object_get(row, "target")),
					 eb_evil_target);
			ck_assert_str_eq(json_string_value(json_object_get(row, "quant")), eb_evil_quant);
			ck_assert_str_eq(json_string_value(json_object_get(row, "error")), eb_evil_error);
			seen = 1;
		}
		ck_assert(seen);
		json_decref(root);
	}
	free(out);

	/* table: one line per cell, no raw line break from a name */
	out = eb_report_out("table", &rc);
	ck_assert_int_eq(rc, 0);
	{
		int lines = 0;

		for (const char *p = out; *p; p++)
			lines += *p == '\n';
		ck_assert_int_eq(lines, 7); /* header + 6 cells */
	}
	free(out);
}
END_TEST

START_TEST(escapers)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	eb_esc_latex(f, "&%$#_{}~^\\<>|\"[x]");
	fputc('\n', f);
	eb_esc_html(f, "<a href=\"x\">'&'</a>");
	fputc('\n', f);
	eb_esc_md(f, "a|b_c*d`e<f>&[g]#h\\$");
	fputc('\n', f);
	eb_esc_csv(f, "plain");
	fputc(' ', f);
	eb_esc_csv(f, "a,\"b\"");
	fclose(f);
	ck_assert_str_eq(buf, "\\&\\%\\$\\#\\_\\{\\}\\textasciitilde{}\\textasciicircum{}"
			      "\\textbackslash{}\\textless{}\\textgreater{}\\textbar{}"
			      "\\textquotedbl{}{[}x{]}\n"
			      "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\n"
			      "a\\|b\\_c\\*d\\`e&lt;f&gt;&amp;\\[g\\]\\#h\\\\\\$\n"
			      "plain \"a,\"\"b\"\"\"");
	free(buf);
}
END_TEST

START_TEST(selection_and_errors)
{
	char *out = NULL;
	int rc;

	eb_golden_db();
	{
		const char *argv[] = { "edgebench", "report", "--db", eb_db_path, "--format", "csv",
				       "--quant", "q4*", "--target", "cpu", NULL };

		rc = eb_test_run(argv, &out);
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(out, "run,target,model,quant,status,ttft_ms,prefill_tps,decode_tps,"
				      "e2e_ms,peak_rss_mb\n"
				      "1,cpu,tiny,q4_0,ok,6.5,2461.5384615384614,92,82.58695652173914,120\n"
				      "1,cpu,tiny,q4_0,ok,19,3368.4210526315792,90,96.923076923076934,125\n");
		free(out);
	}
	{
		const char *argv[] = { "edgebench", "report", "--db", eb_db_path, "--layout",
				       "speedup", NULL };

		rc = eb_test_run(argv, &out);
		ck_assert_int_eq(rc, 2);
		ck_assert_ptr_nonnull(strstr(out, "--layout speedup needs --baseline QUANT"));
		free(out);
	}
	{
		const char *argv[] = { "edgebench", "report", "--db", eb_db_path, "--layout",
				       "speedup", "--baseline", "bf16", NULL };

		rc = eb_test_run(argv, &out);
		ck_assert_int_eq(rc, 2);
		ck_assert_ptr_nonnull(strstr(out, "no cell with quant 'bf16' in the selection"));
		free(out);
	}
	{
		const char *argv[] = { "edgebench", "report", "--db", eb_db_path, "--run", "7", NULL };

		rc = eb_test_run(argv, &out);
		ck_assert_int_eq(rc, 2);
		ck_assert_ptr_nonnull(strstr(out, "no run 7 in"));
		free(out);
	}
	{
		const char *argv[] = { "edgebench", "report", "--db", eb_db_path, "--format", "pdf",
				       NULL };

		rc = eb_test_run(argv, &out);
		ck_assert_int_eq(rc, 2);
		ck_assert_ptr_nonnull(strstr(out, "unknown format 'pdf'"));
		free(out);
	}
	{
		/* the accuracy table of a later schema shows in the card when present */
		eb_tdb_open(eb_db_path);
		/* the table a later schema adds, as that schema has it */
		eb_tdb_exec("CREATE TABLE IF NOT EXISTS accuracy(cell_id INTEGER, task TEXT,"
			    " protocol TEXT, metric TEXT, value REAL, stderr REAL, n INTEGER);"
			    "INSERT INTO accuracy(cell_id,task,protocol,metric,value,stderr,n) VALUES(1,'hellaswag','hellaswag','acc_norm',0.6606,"
			    "0.0047,10042),(3,'hellaswag','hellaswag','acc_norm',0.643,0.0048,10042);");
		eb_tdb_close();
		const char *argv[] = { "edgebench", "report", "--db", eb_db_path, "--layout", "card",
				       "--model", "tiny", "--metric", "accuracy", NULL };

		rc = eb_test_run(argv, &out);
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(out, "tiny on cpu (median)\n"
				      "metric                          unit  f16     q4_0 \n"
				      "hellaswag acc_norm (hellaswag)  -     0.6606  0.643\n");
		free(out);
	}
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");

	tcase_add_test(tc, golden_cells);
	tcase_add_test(tc, golden_layouts);
	tcase_add_test(tc, hostile_names);
	tcase_add_test(tc, escapers);
	tcase_add_test(tc, selection_and_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
