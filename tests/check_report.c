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

			if (*p != '|') { /* the table's title and the blank line after it */
				p = e ? e + 1 : p + strlen(p);
				continue;
			}
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
		ck_assert_int_eq(lines, 8); /* title, header + 6 cells */
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
		/* device, lengths and key tell the rows apart; each figure in its shortest
		 * text that reads back as the same double (not 96.923076923076934) */
		ck_assert_str_eq(out, "run,device,target,model,quant,prompt_tokens,gen_tokens,status,"
				      "requests,ttft_ms,prefill_tps,decode_tps,e2e_ms,peak_rss_mb,warnings,key\n"
				      "1,test,cpu,tiny,q4_0,16,8,ok,3,6.5,2461.5384615384614,92,"
				      "82.58695652173914,120,0,cpu/tiny/q4_0/latency/p16-g8\n"
				      "1,test,cpu,tiny,q4_0,64,8,ok,3,19,3368.421052631579,90,"
				      "96.92307692307693,125,0,cpu/tiny/q4_0/latency/p64-g8\n");
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
		/* each figure with its standard error under it */
		ck_assert_str_eq(out, "tiny on cpu, device test, run 1 (median)\n"
				      "metric                                  unit  f16     q4_0  \n"
				      "hellaswag acc_norm (hellaswag)          -     0.6606   0.643\n"
				      "hellaswag acc_norm (hellaswag), stderr  -     0.0047  0.0048\n");
		free(out);
	}
}
END_TEST


/* ---- a lab database: two runs on two devices, accuracy cells, warnings ------------- */

static char eb_lab_path[4096];

/* A latency cell of the lab database on `device` with three equal requests. */
static int64_t eb_lab_cell(int64_t run, const char *device, const char *quant, double ttft,
			   double dec)
{
	const double t[3] = { ttft, ttft, ttft }, d[3] = { dec, dec, dec };
	struct eb_tcell tc = { "cpu", "tiny", quant, 16, 8, "ok", NULL };
	int64_t cell = eb_tdb_cell(run, &tc);
	char sql[256];

	eb_tdb_requests(cell, 16, 8, t, d, 3);
	snprintf(sql, sizeof(sql), "UPDATE cells SET device='%s' WHERE id=%lld", device,
		 (long long)cell);
	eb_tdb_exec(sql);
	return cell;
}

/* An accuracy cell: perplexity on 4 chunks (limit 4) and HellaSwag on 8 items. */
static int64_t eb_lab_acc_cell(int64_t run, const char *device, const char *quant,
			       const char *task, double v, double se, long long n)
{
	struct eb_tcell tc = { "cpu", "tiny", quant, 0, 0, "ok", NULL };
	int64_t cell = eb_tdb_cell(run, &tc);
	int ppl = strcmp(task, "wikitext2") == 0;
	struct eb_accuracy_row r = { .task = task,
				     .protocol = ppl ? "wikitext2-llamacpp" : "hellaswag",
				     .metric = ppl ? "ppl" : "acc_norm",
				     .value = v,
				     .stderr_ = se,
				     .n = n,
				     .params_json = ppl ? "{\"n_ctx\":256,\"limit\":4,\"task\":\"wikitext2\"}"
							: "{\"task\":\"hellaswag\",\"n_items\":8}" };
	struct eb_err err;
	char sql[512];

	ck_assert_msg(eb_store_accuracy_add(eb_tdb, cell, &r, &err) == 0, "%s", err.msg);
	/* a kld-like cell holds more memory than inference: it must not reach the card */
	eb_tdb_value(cell, "peak_rss_mb", "MiB", 484.6);
	snprintf(sql, sizeof(sql),
		 "UPDATE cells SET device='%s', workload='accuracy', prompt_tokens=NULL,"
		 " gen_tokens=NULL, key='cpu/tiny/%s/accuracy/%s' WHERE id=%lld",
		 device, quant, task, (long long)cell);
	eb_tdb_exec(sql);
	return cell;
}

/*
 * Run 1 on device "orin": f16 and q4_0 latency cells (a server's RSS measured by a proc
 * sensor named "server"), perplexity and HellaSwag cells. Run 2 on device "rtx": f16 and
 * q4_0 latency cells (q4_0 with two warnings) and a skipped cell. Decode rates: orin 50 and
 * 100 (speedup 2), rtx 200 and 300 (speedup 1.5); pairing across devices would give 0.5.
 * Run 3 on "orin" again, f16 alone (decode 55): orin's latest run.
 */
static const char *eb_lab_db(void)
{
	char dir[4096];
	int64_t run1, run2, c;

	eb_test_tmpdir("report-lab", dir, sizeof(dir));
	snprintf(eb_lab_path, sizeof(eb_lab_path), "%s/lab.db", dir);
	eb_tdb_open(eb_lab_path);
	run1 = eb_tdb_run("00000000-0000-4000-8000-0000000000a1", "orin-night", eb_tdb_config);
	c = eb_lab_cell(run1, "orin", "f16", 20, 50);
	eb_tdb_value(c, "peak_rss_mb", "MiB", 16);
	eb_tdb_value(c, "mem_peak_mb:server/rss", "MiB", 120.5);
	c = eb_lab_cell(run1, "orin", "q4_0", 10, 100);
	eb_tdb_value(c, "peak_rss_mb", "MiB", 16);
	eb_tdb_value(c, "mem_peak_mb:server/rss", "MiB", 64.25);
	eb_lab_acc_cell(run1, "orin", "f16", "wikitext2", 12.5, 0.75, 1020);
	eb_lab_acc_cell(run1, "orin", "q4_0", "wikitext2", 13.25, 0.8, 1020);
	eb_lab_acc_cell(run1, "orin", "q4_0", "hellaswag", 0.625, 0.18298126367185199, 8);
	run2 = eb_tdb_run("00000000-0000-4000-8000-0000000000a2", "rtx-night", eb_tdb_config);
	eb_lab_cell(run2, "rtx", "f16", 8, 200);
	c = eb_lab_cell(run2, "rtx", "q4_0", 4, 300);
	{
		char sql[512];

		snprintf(sql, sizeof(sql),
			 "UPDATE cells SET warnings_json='[\"cool-down: still 71 C after 60 s\","
			 "\"ttft_ms: 1 of 3 samples are outliers by MAD; kept\"]' WHERE id=%lld",
			 (long long)c);
		eb_tdb_exec(sql);
	}
	{
		struct eb_tcell tc = { "cpu", "tiny", "q8_0", 16, 8, "skipped", "no file 'c.gguf'" };

		c = eb_tdb_cell(run2, &tc);
		eb_tdb_exec("UPDATE cells SET device='rtx' WHERE status='skipped'");
	}
	eb_lab_cell(eb_tdb_run("00000000-0000-4000-8000-0000000000a3", "orin-night-2",
			       eb_tdb_config),
		    "orin", "f16", 19, 55);
	eb_tdb_close();
	return eb_lab_path;
}

/* `edgebench report --db LAB args...`: stdout+stderr into *out, the exit code back. */
static int eb_lab_report(const char *const *args, char **out)
{
	const char *argv[32] = { "edgebench", "report", "--db", eb_lab_path };
	size_t n = 4;

	for (size_t i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return eb_test_run(argv, out);
}

/* Two devices never meet in one speedup row or card; accuracy cells make no speedup row. */
START_TEST(devices_kept_apart)
{
	char *out = NULL;
	int rc;

	eb_lab_db();
	rc = eb_lab_report((const char *[]){ "--run", "all", "--layout", "speedup", "--baseline",
					     "f16", "--format", "csv", NULL },
			   &out);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_str_eq(out, "run,device,target,model,prompt_tokens,gen_tokens,baseline,quant,"
			      "baseline_decode_tps,decode_tps,speedup,baseline_ttft_ms,ttft_ms,"
			      "ttft_ratio\n"
			      "1,orin,cpu,tiny,16,8,f16,q4_0,50,100,2,20,10,0.5\n"
			      "2,rtx,cpu,tiny,16,8,f16,q4_0,200,300,1.5,8,4,0.5\n"
			      "2,rtx,cpu,tiny,16,8,f16,q8_0,200,,,8,,\n");
	free(out);

	/* a card per run and device; memory from the inference cells only, the server's RSS
	 * (proc sensor) rather than edgebench's own */
	rc = eb_lab_report((const char *[]){ "--run", "all", "--layout", "card", "--metric",
					     "decode_tps,peak_rss_mb,accuracy", NULL },
			   &out);
	ck_assert_msg(rc == 0, "%s", out);
	/* accuracy rows with their stderr; a figure of part of its dataset says so */
	ck_assert_str_eq(out, "tiny on cpu, device orin, run 1 (median)\n"
			      "metric                                               unit   f16    q4_0 \n"
			      "decode rate, 16 input tokens                         tok/s     50    100\n"
			      "peak RSS, server process (proc sensor server)        MiB    120.5  64.25\n"
			      "wikitext2 ppl (wikitext2-llamacpp, limit 4)          -       12.5  13.25\n"
			      "wikitext2 ppl (wikitext2-llamacpp, limit 4), stderr  -       0.75    0.8\n"
			      "hellaswag acc_norm (hellaswag)                       -          -  0.625\n"
			      "hellaswag acc_norm (hellaswag), stderr               -          -  0.183\n"
			      "\n"
			      "tiny on cpu, device rtx, run 2 (median)\n"
			      "metric                        unit   f16  q4_0  q8_0\n"
			      "decode rate, 16 input tokens  tok/s  200   300     -\n"
			      "\n"
			      "tiny on cpu, device orin, run 3 (median)\n"
			      "metric                        unit   f16\n"
			      "decode rate, 16 input tokens  tok/s   55\n");
	free(out);

	/* --device picks a device's cells */
	rc = eb_lab_report((const char *[]){ "--run", "all", "--device", "rtx", "--format", "csv",
					     "--metric", "decode_tps", NULL },
			   &out);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_str_eq(out, "run,device,target,model,quant,prompt_tokens,gen_tokens,status,"
			      "requests,decode_tps,warnings,key\n"
			      "2,rtx,cpu,tiny,f16,16,8,ok,3,200,0,cpu/tiny/f16/latency/p16-g8\n"
			      "2,rtx,cpu,tiny,q4_0,16,8,ok,3,300,2,cpu/tiny/q4_0/latency/p16-g8\n"
			      "2,rtx,cpu,tiny,q8_0,16,8,skipped,,,0,cpu/tiny/q8_0/latency/p16-g8\n");
	free(out);
}
END_TEST

/* The accuracy figure's points: a figure of part of its dataset says so (limit). */
START_TEST(plot_flags_limit)
{
	char fig[4400], gp[4400], *out = NULL, *script = NULL;
	struct eb_err err;
	size_t len;
	int rc;

	eb_lab_db();
	/* the figure's x: the variants' model sizes (cells 1 and 2, its latency cells) */
	eb_tdb_open(eb_lab_path);
	eb_tdb_value(1, "model_bytes", "B", 250.0 * 1048576);
	eb_tdb_value(2, "model_bytes", "B", 70.0 * 1048576);
	eb_tdb_close();
	snprintf(fig, sizeof(fig), "%s.acc.svg", eb_lab_path);
	snprintf(gp, sizeof(gp), "%s.acc.gp", eb_lab_path);
	{
		const char *argv[] = { "edgebench", "plot", "--db", eb_lab_path, "--run", "1",
				       "--kind", "accuracy", "--out", fig, NULL };

		rc = eb_test_run(argv, &out);
	}
	ck_assert_msg(access(gp, R_OK) == 0, "rc %d: %s", rc, out);
	free(out);
	ck_assert_int_eq(eb_read_file(gp, 1 << 20, &script, &len, &err), 0);
	/* wikitext2 scored 4 chunks (limit 4), for both variants; hellaswag all its items */
	{
		size_t labels = 0, limited = 0;

		for (const char *p = script; (p = strstr(p, "set label ")) != NULL; p++) {
			const char *end = strchr(p, '\n'), *lim = strstr(p, " (limit 4)");

			labels++;
			limited += lim && end && lim < end;
		}
		ck_assert_msg(labels == 3 && limited == 2, "%zu labels, %zu limited: %s", labels,
			      limited, script);
	}
	free(script);
}
END_TEST

/* report and plot default to each device's latest run (among the selected cells). */
START_TEST(default_run)
{
	char *out = NULL;
	int rc;

	eb_lab_db();
	rc = eb_lab_report((const char *[]){ "--format", "csv", "--metric", "decode_tps", NULL },
			   &out);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_str_eq(out, "run,device,target,model,quant,prompt_tokens,gen_tokens,status,"
			      "requests,decode_tps,warnings,key\n"
			      "2,rtx,cpu,tiny,f16,16,8,ok,3,200,0,cpu/tiny/f16/latency/p16-g8\n"
			      "2,rtx,cpu,tiny,q4_0,16,8,ok,3,300,2,cpu/tiny/q4_0/latency/p16-g8\n"
			      "2,rtx,cpu,tiny,q8_0,16,8,skipped,,,0,cpu/tiny/q8_0/latency/p16-g8\n"
			      "3,orin,cpu,tiny,f16,16,8,ok,3,55,0,cpu/tiny/f16/latency/p16-g8\n");
	free(out);
	/* the patterns choose first: orin's latest run with a q4_0 cell is run 1 */
	rc = eb_lab_report((const char *[]){ "--format", "csv", "--quant", "q4_0", "--metric",
					     "decode_tps", NULL },
			   &out);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_str_eq(out, "run,device,target,model,quant,prompt_tokens,gen_tokens,status,"
			      "requests,decode_tps,warnings,key\n"
			      "1,orin,cpu,tiny,q4_0,16,8,ok,3,100,0,cpu/tiny/q4_0/latency/p16-g8\n"
			      "2,rtx,cpu,tiny,q4_0,16,8,ok,3,300,2,cpu/tiny/q4_0/latency/p16-g8\n");
	free(out);
	/* the html page lists the runs it shows */
	rc = eb_lab_report((const char *[]){ "--format", "html", "--no-plots", NULL }, &out);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "statistic: median (with p90); the latest run of each "
					  "device</p>"));
	ck_assert_ptr_null(strstr(out, "orin-night<"));
	ck_assert_ptr_nonnull(strstr(out, "rtx-night<"));
	ck_assert_ptr_nonnull(strstr(out, "orin-night-2<"));
	free(out);
	/* plot defaults to the same runs */
	{
		char fig[4200], gp[4200], *text;
		const char *argv[] = { "edgebench", "plot", "--db", eb_lab_path, "--kind",
				       "throughput", "--out", fig, NULL };

		snprintf(fig, sizeof(fig), "%s.svg", eb_lab_path);
		snprintf(gp, sizeof(gp), "%s.gp", eb_lab_path);
		rc = eb_test_run(argv, &out);
		if (rc == 2 && strstr(out, "apt-get install gnuplot")) {
			free(out);
			EB_TEST_SKIP("plot: no gnuplot");
		}
		ck_assert_msg(rc == 0, "%s", out);
		free(out);
		text = eb_tdb_slurp(gp, NULL);
		ck_assert_ptr_nonnull(text);
		ck_assert_ptr_nonnull(strstr(text, "('run 2 rtx: f16' 0, 'run 2 rtx: q4_0' 1, "
						   "'run 3 orin: f16' 2)"));
		free(text);
	}
}
END_TEST

/* The default report shows the accuracy figures with stderr, what they scored and the
 * limit; long and --metric include them; a pattern that matches nothing is an error. */
START_TEST(accuracy_in_every_report)
{
	static const char *const fmts[] = { "table", "md", "latex", "html", NULL };
	char *out = NULL;
	int rc;

	eb_lab_db();
	rc = eb_lab_report((const char *[]){ "--run", "1", NULL }, &out);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_str_eq(out,
		"latency: median of each cell's measured requests\n"
		"run  device  target  model  quant  prompt_tokens  gen_tokens  status  requests  ttft_ms  prefill_tps  decode_tps  e2e_ms  peak_rss_mb  warnings\n"
		"  1  orin    cpu     tiny   f16               16           8  ok             3       20          800          50     160           16         0\n"
		"  1  orin    cpu     tiny   q4_0              16           8  ok             3       10         1600         100      80           16         0\n"
		"\n"
		"accuracy\n"
		"run  device  target  model  quant  task       protocol            metric    value  stderr  n     limit  status  warnings\n"
		"  1  orin    cpu     tiny   f16    wikitext2  wikitext2-llamacpp  ppl        12.5    0.75  1020      4  ok             0\n"
		"  1  orin    cpu     tiny   q4_0   wikitext2  wikitext2-llamacpp  ppl       13.25     0.8  1020      4  ok             0\n"
		"  1  orin    cpu     tiny   q4_0   hellaswag  hellaswag           acc_norm  0.625   0.183     8      -  ok             0\n");
	free(out);
	for (size_t i = 0; fmts[i]; i++) {
		rc = eb_lab_report((const char *[]){ "--run", "1", "--format", fmts[i],
						     "--no-plots", NULL },
				   &out);
		ck_assert_msg(rc == 0, "%s", out);
		ck_assert_msg(strstr(out, "0.625") && strstr(out, "0.183") && strstr(out, "13.25"),
			      "%s: %s", fmts[i], out);
		free(out);
	}
	/* csv and json: full precision, the two tables titled in json */
	rc = eb_lab_report((const char *[]){ "--run", "1", "--format", "csv", NULL }, &out);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\nrun,device,target,model,quant,task,protocol,metric,"
					  "value,stderr,n,limit,status,warnings,key\n"
					  "1,orin,cpu,tiny,f16,wikitext2,wikitext2-llamacpp,ppl,12.5,0.75,"
					  "1020,4,ok,0,cpu/tiny/f16/accuracy/wikitext2\n"));
	ck_assert_ptr_nonnull(strstr(out, ",acc_norm,0.625,0.182981263671852,8,,ok,0,"));
	free(out);
	rc = eb_lab_report((const char *[]){ "--run", "1", "--format", "json", NULL }, &out);
	ck_assert_msg(rc == 0, "%s", out);
	{
		json_error_t je;
		json_t *root = json_loads(out, 0, &je), *acc;

		ck_assert_msg(root != NULL, "%s: %s", je.text, out);
		ck_assert_str_eq(json_string_value(json_object_get(json_array_get(root, 1), "title")),
				 "accuracy");
		acc = json_array_get(json_object_get(json_array_get(root, 1), "rows"), 2);
		ck_assert_str_eq(json_string_value(json_object_get(acc, "metric")), "acc_norm");
		ck_assert_double_eq(json_real_value(json_object_get(acc, "stderr")),
				    0.18298126367185199);
		ck_assert_int_eq(json_integer_value(json_object_get(acc, "n")), 8);
		json_decref(root);
	}
	free(out);

	/* --metric 'ppl*': the perplexity rows, in the cells and the long layout */
	rc = eb_lab_report((const char *[]){ "--run", "1", "--metric", "ppl*", "--format",
					     "csv", NULL },
			   &out);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_ptr_null(strstr(out, "acc_norm"));
	ck_assert_ptr_null(strstr(out, "ttft_ms"));
	ck_assert_ptr_nonnull(strstr(out, ",ppl,13.25,0.8,1020,4,"));
	free(out);
	rc = eb_lab_report((const char *[]){ "--run", "1", "--layout", "long", "--metric",
					     "ppl*", "--format", "csv", NULL },
			   &out);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_str_eq(out, "run,device,target,model,quant,prompt_tokens,gen_tokens,task,metric,"
			      "unit,n,mean,stddev,median,min,max,p90,p99,ci_lo,ci_hi,n_outliers,"
			      "stderr\n"
			      "1,orin,cpu,tiny,f16,,,wikitext2,ppl,,1020,12.5,,12.5,,,,,,,,0.75\n"
			      "1,orin,cpu,tiny,q4_0,,,wikitext2,ppl,,1020,13.25,,13.25,,,,,,,,0.8\n");
	free(out);
	/* a pattern that matches nothing: exit 2, the pattern named */
	rc = eb_lab_report((const char *[]){ "--run", "1", "--layout", "long", "--metric",
					     "ttft_ms,nosuch*", NULL },
			   &out);
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "--metric 'nosuch*' matches no metric the long layout "
					  "shows for the selected cells"));
	free(out);
	rc = eb_lab_report((const char *[]){ "--metric", "itl_ms", NULL }, &out);
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "--metric 'itl_ms' matches no metric the cells layout "
					  "shows"));
	free(out);
}
END_TEST

/* Warnings reach the report (a count per cell, the text as footnotes) and list, whose
 * counts include skipped cells. */
START_TEST(warnings_visible)
{
	const char *list[] = { "edgebench", "list", "--db", NULL, NULL };
	char *out = NULL;
	int rc;

	eb_lab_db();
	rc = eb_lab_report((const char *[]){ "--metric", "decode_tps", NULL }, &out);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "  2  rtx     cpu     tiny   q4_0              16           8"
					  "  ok              3         300         2\n"));
	ck_assert_ptr_nonnull(strstr(out, "warnings\n"
					  "run  key                           warning                           "
					  "               \n"
					  "  2  cpu/tiny/q4_0/latency/p16-g8  cool-down: still 71 C after 60 s  "
					  "               \n"
					  "  2  cpu/tiny/q4_0/latency/p16-g8  ttft_ms: 1 of 3 samples are "
					  "outliers by MAD; kept\n"));
	free(out);
	rc = eb_lab_report((const char *[]){ "--metric", "decode_tps", "--format", "json", "--wide",
					     NULL },
			   &out);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\"warning_text\": \"cool-down: still 71 C after 60 s | "
					  "ttft_ms: 1 of 3 samples are outliers by MAD; kept\""));
	free(out);
	/* footnotes only for the cells the tables show */
	rc = eb_lab_report((const char *[]){ "--run", "all", "--metric", "acc*", NULL }, &out);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "acc_norm"));
	ck_assert_ptr_null(strstr(out, "cool-down"));
	free(out);
	list[3] = eb_lab_path;
	rc = eb_test_run(list, &out);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "  ok  cells 5 (ok 5, failed 0, skipped 0)  warnings 0\n"));
	ck_assert_ptr_nonnull(strstr(out, "  ok  cells 3 (ok 2, failed 0, skipped 1)  warnings 2 in "
					  "1 cell\n"));
	ck_assert_ptr_nonnull(strstr(out, "cpu/tiny/q4_0/latency/p16-g8  (2 warnings)\n"
					  "    warning: cool-down: still 71 C after 60 s\n"
					  "    warning: ttft_ms: 1 of 3 samples are outliers by MAD; kept\n"));
	ck_assert_ptr_nonnull(strstr(out, "  skipped      1.5s  cpu/tiny/q8_0/latency/p16-g8  no file "
					  "'c.gguf'\n"));
	free(out);
}
END_TEST

/* The shortest text that reads back as the same double, in %.17g's notation. */
START_TEST(shortest_round_trip)
{
	static const struct {
		double x;
		const char *want;
	} cases[] = {
		{ 88.773546, "88.773546" }, /* %.17g: 88.773545999999996 */
		{ 0.1, "0.1" },
		{ 120, "120" },
		{ 7.1, "7.1" },
		{ -2.5e-7, "-2.5e-07" },
		{ 1e20, "1e+20" },
		{ 123456789012345678.0, "1.2345678901234568e+17" },
		{ 0.0001, "0.0001" },
		{ 0, "0" },
		{ 96.923076923076934, "96.92307692307693" },
		{ 1.0 / 3, "0.3333333333333333" },
		{ 5e-324, "5e-324" }, /* %.17g: 4.9406564584124654e-324 */
	};
	char buf[EB_NUM_SHORTEST_MAX], full[64];
	unsigned seed = 12345;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_str_eq(eb_fmt_shortest(buf, cases[i].x), cases[i].want);
	/* random doubles: each reads back exactly and is never longer than %.17g */
	for (int i = 0; i < 20000; i++) {
		uint64_t bits = 0;
		double x;

		for (int k = 0; k < 4; k++)
			bits = bits << 16 | (uint64_t)(rand_r(&seed) & 0xffff);
		memcpy(&x, &bits, sizeof(x));
		if (!isfinite(x))
			continue;
		eb_fmt_shortest(buf, x);
		snprintf(full, sizeof(full), "%.17g", x);
		ck_assert_msg(strtod(buf, NULL) == x, "%s does not read back as %s", buf, full);
		ck_assert_msg(strlen(buf) <= strlen(full), "%s longer than %s", buf, full);
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
	tcase_add_test(tc, devices_kept_apart);
	tcase_add_test(tc, plot_flags_limit);
	tcase_add_test(tc, default_run);
	tcase_add_test(tc, accuracy_in_every_report);
	tcase_add_test(tc, warnings_visible);
	tcase_add_test(tc, shortest_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
