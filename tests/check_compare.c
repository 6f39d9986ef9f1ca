/* ctest: labels=unit timeout=120 */
/* check_compare.c: planted regressions, re-runs, thresholds, devices, accuracy, ITL by request and JUnit XML. */
#include "reportdb.h"

#include "eb_proc.h"
#include "eb_util.h"
#include "compare.h"

#include <ctype.h>
#include <jansson.h>
#include <sqlite3.h>
#include <unistd.h>

static char eb_db_path[4096], eb_dir[4096];

/* xorshift64* and Box-Muller: the same samples on every machine. */
static uint64_t eb_rng = 88172645463325252ull;

static double eb_unif(void)
{
	eb_rng ^= eb_rng >> 12;
	eb_rng ^= eb_rng << 25;
	eb_rng ^= eb_rng >> 27;
	return ((eb_rng * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0);
}

static double eb_normal(double mu, double sd)
{
	double u1 = eb_unif(), u2 = eb_unif();

	if (u1 < 1e-300)
		u1 = 1e-300;
	return mu + sd * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

enum { EB_N = 30 };

/* A run of cells k1..k3 (k4 instead of k3 when `swap`); decode rates ~ N(100, 2) times
 * `scale` for cell k1 (the planted change); TTFT ~ N(50, 1). `failed` fails cell k2. */
static void eb_add_run(const char *uuid, uint64_t seed, double scale, int swap, int failed)
{
	int64_t run = eb_tdb_run(uuid, "cmp", NULL);

	eb_rng = seed;
	for (int k = 1; k <= 3; k++) {
		char model[16];
		struct eb_tcell tc = { "cpu", model, "q4_0", 64, 16, "ok", NULL };
		double ttft[EB_N], dec[EB_N];
		int64_t cell;

		snprintf(model, sizeof(model), "k%d", k == 3 && swap ? 4 : k);
		if (failed && k == 2) {
			tc.status = "failed";
			tc.error = "adapter crashed";
			eb_tdb_cell(run, &tc);
			continue;
		}
		cell = eb_tdb_cell(run, &tc);
		for (int i = 0; i < EB_N; i++) {
			ttft[i] = eb_normal(50, 1);
			dec[i] = eb_normal(100, 2) * (k == 1 ? scale : 1.0);
		}
		eb_tdb_requests(cell, 64, 16, ttft, dec, EB_N);
		eb_tdb_value(cell, "model_bytes", "B", 1e8);
	}
}

/* run 1 baseline, 2 planted -10% on k1 (and k3 replaced by k4), 3 a re-run, 4 a -3% change,
 * 5 a re-run where k2 failed */
static void eb_build(void)
{
	eb_test_tmpdir("compare", eb_dir, sizeof(eb_dir));
	snprintf(eb_db_path, sizeof(eb_db_path), "%s/cmp.db", eb_dir);
	eb_tdb_open(eb_db_path);
	eb_add_run("00000000-0000-4000-8000-00000000000a", 1, 1.0, 0, 0);
	eb_add_run("00000000-0000-4000-8000-00000000000b", 2, 0.9, 1, 0);
	eb_add_run("00000000-0000-4000-8000-00000000000c", 3, 1.0, 0, 0);
	eb_add_run("00000000-0000-4000-8000-00000000000d", 4, 0.97, 0, 0);
	eb_add_run("00000000-0000-4000-8000-00000000000e", 5, 1.0, 0, 1);
	eb_tdb_close();
}

static int eb_cmp(char **out, const char *a, const char *b, const char *x1, const char *x2,
		  const char *x3, const char *x4)
{
	const char *argv[] = { "edgebench", "compare", "--db", eb_db_path, a, b, x1, x2, x3, x4, NULL };

	return eb_test_run(argv, out);
}

/* ---- a small XML well-formedness check (elements, attributes, entities) ----------- */

static int eb_xml_entity(const char **p)
{
	static const char *const ents[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;" };

	for (size_t i = 0; i < 5; i++)
		if (strncmp(*p, ents[i], strlen(ents[i])) == 0) {
			*p += strlen(ents[i]);
			return 1;
		}
	if (strncmp(*p, "&#", 2) == 0) {
		const char *q = *p + 2;

		while (isdigit((unsigned char)*q))
			q++;
		if (q > *p + 2 && *q == ';') {
			*p = q + 1;
			return 1;
		}
	}
	return 0;
}

/* Returns NULL when well-formed, else what is wrong; counts elements named `count`. */
static const char *eb_xml_check(const char *s, const char *count, int *n)
{
	char stack[64][128];
	int depth = 0, roots = 0;
	const char *p = s;

	*n = 0;
	if (strncmp(p, "<?xml ", 6) == 0) {
		p = strstr(p, "?>");
		if (!p)
			return "unterminated declaration";
		p += 2;
	}
	while (*p) {
		if (*p == '&') {
			if (!eb_xml_entity(&p))
				return "bad entity in text";
			continue;
		}
		if (*p != '<') {
			if ((unsigned char)*p < 0x20 && !strchr("\t\r\n", *p))
				return "control character";
			if (depth == 0 && !isspace((unsigned char)*p))
				return "text outside the root";
			p++;
			continue;
		}
		if (p[1] == '/') {
			char name[128];
			size_t len = 0;

			p += 2;
			while (*p && *p != '>' && len < sizeof(name) - 1)
				name[len++] = *p++;
			name[len] = '\0';
			if (*p != '>' || depth == 0 || strcmp(stack[depth - 1], name) != 0)
				return "mismatched end tag";
			depth--;
			p++;
			continue;
		}
		{
			char name[128];
			size_t len = 0;

			p++;
			while (*p && (isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.' ||
				      *p == ':') && len < sizeof(name) - 1)
				name[len++] = *p++;
			name[len] = '\0';
			if (!len)
				return "bad element name";
			if (strcmp(name, count) == 0)
				(*n)++;
			for (;;) {
				while (isspace((unsigned char)*p))
					p++;
				if (*p == '>' || (p[0] == '/' && p[1] == '>'))
					break;
				if (!isalpha((unsigned char)*p))
					return "bad attribute";
				while (isalnum((unsigned char)*p) || *p == '_' || *p == '-')
					p++;
				if (*p++ != '=' || *p++ != '"')
					return "attribute without a quoted value";
				while (*p && *p != '"') {
					if (*p == '<')
						return "'<' in an attribute";
					if (*p == '&') {
						if (!eb_xml_entity(&p))
							return "bad entity in an attribute";
						continue;
					}
					p++;
				}
				if (*p++ != '"')
					return "unterminated attribute";
			}
			if (depth == 0 && ++roots > 1)
				return "two root elements";
			if (*p == '/') {
				p += 2;
				continue;
			}
			p++;
			if (depth == 64)
				return "too deep";
			eb_strlcpy(stack[depth++], name, sizeof(stack[0]));
		}
	}
	return depth ? "unclosed element" : roots ? NULL : "no root";
}

/*
 * Directions come from the metric registry, not from the name: energy_decode_j:hwmon
 * (which the old name rules did not judge) and power_avg_w regress when they rise, idle_w
 * has no better side, and a metric the registry does not know is shown, never judged.
 */
START_TEST(directions)
{
	static const struct {
		const char *name, *unit;
		double base, cand;
	} m[] = {
		{ "energy_decode_j:hwmon", "J", 10, 12 }, { "power_avg_w", "W", 10, 12 },
		{ "decode_tps", "tok/s", 100, 80 },       { "idle_w", "W", 5, 6 },
		{ "n_layers", "", 6, 8 },
	};
	char db[8192], a[8300], b[8300], *out = NULL;
	const char *argv[] = { "edgebench", "compare", a, b, "--format", "json", NULL };
	json_t *root, *r;
	size_t i;
	int rc;

	eb_test_tmpdir("compare-dir", eb_dir, sizeof(eb_dir));
	snprintf(db, sizeof(db), "%s/dir.db", eb_dir);
	eb_tdb_open(db);
	for (int side = 0; side < 2; side++) {
		struct eb_tcell tc = { "cpu", "tiny", "q4_0", 64, 16, "ok", NULL };
		int64_t cell = eb_tdb_cell(eb_tdb_run(side ? "00000000-0000-4000-8000-0000000000d2"
							  : "00000000-0000-4000-8000-0000000000d1",
						     "dir", NULL),
					   &tc);

		for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
			eb_tdb_value(cell, m[i].name, m[i].unit, side ? m[i].cand : m[i].base);
	}
	eb_tdb_close();
	snprintf(a, sizeof(a), "%s:1", db);
	snprintf(b, sizeof(b), "%s:2", db);
	rc = eb_test_run(argv, &out);
	ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
	root = json_loads(out, 0, NULL);
	ck_assert_msg(root != NULL, "%s", out);
	json_array_foreach(json_object_get(root, "results"), i, r) {
		const char *name = json_string_value(json_object_get(r, "metric"));
		const char *v = json_string_value(json_object_get(r, "verdict"));
		json_int_t dir = json_integer_value(json_object_get(r, "direction"));

		if (strcmp(name, "energy_decode_j:hwmon") == 0 || strcmp(name, "power_avg_w") == 0 ||
		    strcmp(name, "decode_tps") == 0) {
			ck_assert_msg(strcmp(v, "regression") == 0, "%s: %s", name, v);
			ck_assert_int_eq(dir, strcmp(name, "decode_tps") == 0 ? 1 : -1);
		} else if (strcmp(name, "idle_w") == 0) {
			ck_assert_str_eq(v, "no direction");
			ck_assert_int_eq(dir, 0);
		} else {
			ck_assert_str_eq(name, "n_layers");
			ck_assert_str_eq(v, "unknown metric");
			ck_assert_int_eq(dir, 0);
		}
	}
	ck_assert_uint_eq(json_array_size(json_object_get(root, "results")), 5);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(root, "summary"),
							    "regressions")),
			 3);
	json_decref(root);
	free(out);
	argv[4] = NULL;
	rc = eb_test_run(argv, &out);
	ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, "| cpu/tiny/q4\\_0/latency/p64-g16 | idle\\_w (no direction) | 5 | 6 "
				  "| +20.0% | 5% | threshold only | - |\n"),
		      "%s", out);
	ck_assert_msg(strstr(out, "| cpu/tiny/q4\\_0/latency/p64-g16 | n\\_layers (unknown metric, "
				  "not judged) | 6 | 8 | +33.3% | 5% | threshold only | - |\n"),
		      "%s", out);
	free(out);
}
END_TEST

START_TEST(planted_regression)
{
	char junit[4096], *out = NULL, *xml;
	const char *bad;
	int rc, ncase = 0, nfail = 0;

	eb_build();
	snprintf(junit, sizeof(junit), "%s/junit.xml", eb_dir);
	rc = eb_cmp(&out, "1", "2", "--junit", junit, NULL, NULL);
	ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
	ck_assert_ptr_nonnull(strstr(out, "**Verdict: 2 regressions, 1 missing cell**"));
	ck_assert_ptr_nonnull(strstr(out, "| cpu/k1/q4\\_0/latency/p64-g16 | decode\\_tps | "));
	ck_assert_ptr_nonnull(strstr(out, "Mann-Whitney U"));
	ck_assert_ptr_nonnull(strstr(out, "## Missing cells (1): in the baseline, not in the "
					  "candidate (failures)"));
	ck_assert_ptr_nonnull(strstr(out, "- cpu/k3/q4\\_0/latency/p64-g16"));
	ck_assert_ptr_nonnull(strstr(out, "## New cells (1)"));
	ck_assert_ptr_nonnull(strstr(out, "- cpu/k4/q4\\_0/latency/p64-g16"));
	free(out);

	xml = eb_tdb_slurp(junit, NULL);
	ck_assert_ptr_nonnull(xml);
	bad = eb_xml_check(xml, "testcase", &ncase);
	ck_assert_msg(bad == NULL, "junit is not well-formed: %s", bad);
	bad = eb_xml_check(xml, "failure", &nfail);
	ck_assert_int_eq(ncase, 2 * 5 + 1 + 1); /* 2 cells x 5 metrics, missing, new */
	ck_assert_int_eq(nfail, 3);             /* 2 regressions and the missing cell */
	ck_assert_ptr_nonnull(strstr(xml, "<testcase classname=\"cpu/k1/q4_0/latency/p64-g16\" "
					  "name=\"decode_tps\">\n      <failure type=\"regression\""));
	ck_assert_ptr_nonnull(strstr(xml, "failures=\"3\""));
	ck_assert_ptr_nonnull(strstr(xml, "<testcase classname=\"cpu/k3/q4_0/latency/p64-g16\" "
					  "name=\"cell\">\n      <failure type=\"missing\""));
	free(xml);
	if (access("/usr/bin/xmllint", X_OK) == 0) {
		const char *argv[] = { "xmllint", "--noout", junit, NULL };
		struct eb_err err;
		char *o = NULL;

		rc = eb_proc_capture(argv, 1, 1 << 20, &o, &err);
		ck_assert_msg(rc == 0, "xmllint: %s", o ? o : err.msg);
		free(o);
	}

	/* per-metric thresholds above the change: no regression; the missing cell still fails */
	rc = eb_cmp(&out, "1", "2", "--metric-threshold", "decode_tps=15%", "--metric-threshold",
		    "e2e_ms=15");
	ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
	ck_assert_ptr_nonnull(strstr(out, "**Verdict: 1 missing cell**"));
	free(out);
	/* ... unless missing cells are allowed: then they are skipped in JUnit */
	{
		const char *argv[] = { "edgebench", "compare", "--db", eb_db_path, "1", "2",
				       "--metric-threshold", "decode_tps=15%", "--metric-threshold",
				       "e2e_ms=15", "--allow-missing", "--junit", junit, NULL };

		rc = eb_test_run(argv, &out);
	}
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	ck_assert_ptr_nonnull(strstr(out, "**Verdict: no regression**"));
	ck_assert_ptr_nonnull(strstr(out, "## Past the threshold but not significant (0)"));
	ck_assert_ptr_nonnull(strstr(out, "## Missing cells (1): in the baseline, not in the "
					  "candidate (allowed)"));
	free(out);
	xml = eb_tdb_slurp(junit, NULL);
	ck_assert_ptr_null(eb_xml_check(xml, "failure", &nfail));
	ck_assert_int_eq(nfail, 0);
	ck_assert_ptr_nonnull(strstr(xml, "<skipped message=\"missing in the candidate (allowed)\"/>"));
	free(xml);
}
END_TEST

START_TEST(rerun_passes)
{
	char junit[4096], *out = NULL, *xml;
	int rc, n = 0;

	eb_build();
	snprintf(junit, sizeof(junit), "%s/junit-rerun.xml", eb_dir);
	rc = eb_cmp(&out, "1", "3", "--junit", junit, NULL, NULL);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	ck_assert_ptr_nonnull(strstr(out, "**Verdict: no regression**"));
	ck_assert_ptr_nonnull(strstr(out, "regressions 0, improvements 0, not significant 0, unchanged 15, "
					  "missing 0, new 0"));
	free(out);
	xml = eb_tdb_slurp(junit, NULL);
	ck_assert_ptr_null(eb_xml_check(xml, "failure", &n));
	ck_assert_int_eq(n, 0);
	free(xml);

	/* a 3% slowdown: under the 5% threshold, whatever its p-value */
	rc = eb_cmp(&out, "1", "4", NULL, NULL, NULL, NULL);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	free(out);
	/* ... and a regression with a 2% threshold, significant on 30 + 30 samples */
	rc = eb_cmp(&out, "1", "4", "--threshold", "2%", NULL, NULL);
	ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
	ck_assert_ptr_nonnull(strstr(out, "| cpu/k1/q4\\_0/latency/p64-g16 | decode\\_tps | "));
	free(out);
}
END_TEST

START_TEST(refs_json_and_errors)
{
	char ref[4200], *out = NULL;
	int rc;

	eb_build();
	/* FILE.db:ID and latest~N: run 4 against run 5 (k2 failed there) */
	snprintf(ref, sizeof(ref), "%s:latest~1", eb_db_path);
	rc = eb_cmp(&out, ref, "latest", "--format", "json", NULL, NULL);
	ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
	{
		json_error_t je;
		json_t *root = json_loads(out, 0, &je), *r;
		size_t i;
		int seen = 0;

		ck_assert_msg(root != NULL, "json: %s: %s", je.text, out);
		ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(root, "baseline"),
								    "run")),
				 4);
		ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(root, "summary"),
								    "regressions")),
				 1);
		ck_assert_str_eq(json_string_value(json_object_get(json_object_get(root, "test"),
								   "name")),
				 "mann-whitney-u");
		json_array_foreach(json_object_get(root, "results"), i, r) {
			if (strcmp(json_string_value(json_object_get(r, "verdict")), "regression"))
				continue;
			ck_assert_str_eq(json_string_value(json_object_get(r, "metric")), "cell status");
			ck_assert_str_eq(json_string_value(json_object_get(r, "candidate_error")),
					 "adapter crashed");
			seen = 1;
		}
		ck_assert(seen);
		json_decref(root);
	}
	free(out);

	rc = eb_cmp(&out, "1", "99", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "no run 99 in"));
	free(out);
	rc = eb_cmp(&out, "1", NULL, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "expected BASELINE and CANDIDATE"));
	free(out);
	rc = eb_cmp(&out, "1", "2", "--threshold", "lots", NULL, NULL);
	ck_assert_int_eq(rc, 2);
	free(out);
	rc = eb_cmp(&out, "/nonexistent/x.db:1", "2", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(out, "no database '/nonexistent/x.db'"));
	free(out);
}
END_TEST

/* ---- counts, matching, accuracy, ITL ---------------------------------------------- */

/* The rows of the section that starts with `title`: table rows under its header, or list
 * items; *n gets the count its title says. */
static size_t eb_section_rows(const char *md, const char *title, size_t *n)
{
	const char *p = strstr(md, title), *end;
	size_t rows = 0;

	ck_assert_msg(p != NULL, "no section '%s' in:\n%s", title, md);
	*n = strtoul(p + strlen(title), NULL, 10);
	p = strchr(p, '\n');
	end = strstr(p, "\n## ");
	if (!end)
		end = strstr(p, "\nregressions ");
	ck_assert_ptr_nonnull(end);
	for (; p && p < end; p = strchr(p + 1, '\n')) {
		if (strncmp(p, "\n| ", 3) == 0 && strncmp(p, "\n| cell |", 8) != 0 &&
		    strncmp(p, "\n| --- |", 8) != 0)
			rows++;
		if (strncmp(p, "\n- ", 3) == 0)
			rows++;
	}
	return rows;
}

/* Every count of the summary line equals the rows of its section, and its title's count. */
static void eb_check_counts(const char *md, size_t want[6])
{
	static const char *const titles[6] = {
		"## Regressions (", "## Improvements (", "## Past the threshold but not significant (",
		"## Unchanged (", "## Missing cells (", "## New cells (",
	};
	size_t sum[6], n;
	const char *line = strstr(md, "\nregressions ");

	ck_assert_msg(line != NULL, "%s", md);
	ck_assert_int_eq(sscanf(line, "\nregressions %zu, improvements %zu, not significant %zu, "
				      "unchanged %zu, missing %zu, new %zu",
				&sum[0], &sum[1], &sum[2], &sum[3], &sum[4], &sum[5]),
			 6);
	for (int i = 0; i < 6; i++) {
		size_t rows = eb_section_rows(md, titles[i], &n);

		ck_assert_msg(rows == n && n == sum[i], "%s: %zu rows, title %zu, summary %zu\n%s",
			      titles[i], rows, n, sum[i], md);
		want[i] = n;
	}
}

/* A JUnit file's tests= and failures= equal its testcases and failures, and the report's
 * rows and failures (regressions, and missing cells unless allowed). */
static void eb_check_junit(const char *path, size_t rows, size_t failures)
{
	char *xml = eb_tdb_slurp(path, NULL), want[128];
	int ncase = 0, nfail = 0;

	ck_assert_ptr_nonnull(xml);
	ck_assert_ptr_null(eb_xml_check(xml, "testcase", &ncase));
	ck_assert_ptr_null(eb_xml_check(xml, "failure", &nfail));
	ck_assert_uint_eq((size_t)ncase, rows);
	ck_assert_uint_eq((size_t)nfail, failures);
	snprintf(want, sizeof(want), "tests=\"%zu\" failures=\"%zu\"", rows, failures);
	ck_assert_msg(strstr(xml, want) != NULL, "no '%s' in %s", want, xml);
	free(xml);
}

/*
 * The summary's counts are the sections' rows, in markdown and in JUnit: before, the
 * summary counted the not-significant changes as unchanged while their section had its
 * own title, and the Unchanged section's count was of metrics while its rows were cells.
 * A tight threshold on a re-run puts rows in every section.
 */
START_TEST(summary_counts_equal_sections)
{
	static const char *const cases[][4] = {
		{ "1", "3", "--threshold", "0.5%" }, /* noise past a tight threshold */
		{ "1", "2", "--threshold", "0.5%" }, /* regressions, missing, new */
		{ "2", "1", "--threshold", "0.5%" }, /* improvements */
		{ "1", "5", "--threshold", "5%" },   /* a cell that failed */
		{ "5", "5", "--threshold", "5%" },   /* failed on both sides: unchanged */
	};
	char junit[4096];
	size_t seen[6] = { 0 };

	eb_build();
	snprintf(junit, sizeof(junit), "%s/junit-counts.xml", eb_dir);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const char *argv[] = { "edgebench", "compare", "--db", eb_db_path, cases[c][0],
				       cases[c][1], cases[c][2], cases[c][3], "--junit", junit, NULL };
		size_t n[6];
		char *out = NULL;
		int rc = eb_test_run(argv, &out);

		ck_assert_msg(rc == 0 || rc == 1, "exit %d: %s", rc, out);
		eb_check_counts(out, n);
		ck_assert_int_eq(rc, n[0] + n[4] > 0);
		if (c == 4)
			ck_assert_msg(strstr(out, "| cpu/k2/q4\\_0/latency/p64-g16 | cell status | failed "
						  "| failed: adapter crashed | | | | |\n"),
				      "%s", out);
		eb_check_junit(junit, n[0] + n[1] + n[2] + n[3] + n[4] + n[5], n[0] + n[4]);
		for (int i = 0; i < 6; i++)
			seen[i] += n[i];
		free(out);
	}
	for (int i = 0; i < 6; i++)
		ck_assert_msg(seen[i] > 0, "section %d never had a row", i);
}
END_TEST

/* A cell of any key and device, ok; `task` makes an accuracy cell (prompt and gen -1). */
static int64_t eb_dev_cell(int64_t run, const char *device, const char *model, const char *task)
{
	char key[256];
	struct eb_cell_row cr = { 0 };
	struct eb_err err;
	int64_t id;

	if (task)
		snprintf(key, sizeof(key), "cpu/%s/q4_0/accuracy/%s", model, task);
	else
		snprintf(key, sizeof(key), "cpu/%s/q4_0/latency/p64-g16", model);
	cr.key = key;
	cr.target = "cpu";
	cr.adapter = "llamacpp";
	cr.model = model;
	cr.quant = "q4_0";
	cr.device = device;
	cr.workload = task ? "accuracy" : "latency";
	cr.prompt_tokens = task ? -1 : 64;
	cr.gen_tokens = task ? -1 : 16;
	ck_assert_msg(eb_store_cell_ensure(eb_tdb, run, &cr, &id, &err) == 0, "%s", err.msg);
	ck_assert_msg(eb_store_cell_finish(eb_tdb, id, "ok", NULL, NULL, NULL, 1.5, &err) == 0,
		      "%s", err.msg);
	return id;
}

/* A latency cell on a device with decode rates ~ N(100 x scale, 1). */
static void eb_dev_latency(int64_t run, const char *device, const char *model, double scale)
{
	int64_t cell = eb_dev_cell(run, device, model, NULL);
	double ttft[EB_N], dec[EB_N];

	for (int i = 0; i < EB_N; i++) {
		ttft[i] = eb_normal(50, 1);
		dec[i] = eb_normal(100, 1) * scale;
	}
	eb_tdb_requests(cell, 64, 16, ttft, dec, EB_N);
}

/* Runs the command: its exit status is `rc` and its output has `want`. */
static void eb_expect(int rc, const char *want, const char *const *argv)
{
	char *out = NULL;
	int got = eb_test_run(argv, &out);

	ck_assert_msg(got == rc, "exit %d, not %d: %s", got, rc, out);
	ck_assert_msg(strstr(out, want) != NULL, "no '%s' in: %s", want, out);
	free(out);
}

/* Runs the command: it exits `rc`; its json report, parsed. */
static json_t *eb_json_of(int rc, const char *const *argv)
{
	char *out = NULL;
	int got = eb_test_run(argv, &out);
	json_t *root;

	ck_assert_msg(got == rc, "exit %d, not %d: %s", got, rc, out);
	root = json_loads(out, 0, NULL);
	ck_assert_msg(root != NULL, "%s", out);
	free(out);
	return root;
}

/* `compare 1 2 --format json` on db: exits `rc`; its report, parsed. */
static json_t *eb_json_12(const char *db, int rc)
{
	return eb_json_of(rc, (const char *[]){ "edgebench", "compare", "--db", db, "1", "2",
						"--format", "json", NULL });
}

/* The run id of the report's "baseline" or "candidate". */
static json_int_t eb_side_run(json_t *root, const char *side)
{
	return json_integer_value(json_object_get(json_object_get(root, side), "run"));
}

static int64_t eb_run_sha(const char *uuid, const char *sha)
{
	int64_t id = eb_tdb_run(uuid, "cmp", NULL);
	char sql[256];

	/* reportdb stores "0" for every run; these runs come from configs of their own */
	snprintf(sql, sizeof(sql), "UPDATE runs SET config_sha256 = '%s' WHERE id = %lld", sha,
		 (long long)id);
	ck_assert_int_eq(sqlite3_exec(eb_tdb->db, sql, NULL, NULL, NULL), SQLITE_OK);
	return id;
}

/*
 * compare cannot pass when nothing was compared: two runs of unrelated configs (before:
 * "regressions 0 ... missing 3, new 4", exit 0, JUnit failures="0"), two devices, and a
 * --metric pattern that matches no figure (before: 0 metrics compared, exit 0). Each is
 * exit 2 with the reason, and the JUnit file holds one error. Two configs with cells in
 * common are compared, the difference stated at the top.
 */
START_TEST(nothing_compared_is_exit_2)
{
	char db[8192], junit[4096], *xml;

	eb_test_tmpdir("compare-none", eb_dir, sizeof(eb_dir));
	snprintf(db, sizeof(db), "%s/none.db", eb_dir);
	snprintf(junit, sizeof(junit), "%s/junit.xml", eb_dir);
	eb_tdb_open(db);
	eb_rng = 7;
	{
		int64_t r1 = eb_run_sha("00000000-0000-4000-8000-0000000000f1", "aaaa");
		int64_t r2 = eb_run_sha("00000000-0000-4000-8000-0000000000f2", "bbbb");
		int64_t r3 = eb_run_sha("00000000-0000-4000-8000-0000000000f3", "aaaa");
		int64_t r4 = eb_run_sha("00000000-0000-4000-8000-0000000000f4", "cccc");

		for (int k = 0; k < 3; k++) {
			char m[16];

			snprintf(m, sizeof(m), "k%d", k);
			eb_dev_latency(r1, "orin", m, 1.0);
			snprintf(m, sizeof(m), "other%d", k);
			eb_dev_latency(r2, "orin", m, 1.0);
			snprintf(m, sizeof(m), "k%d", k);
			eb_dev_latency(r3, "hailo", m, 1.0);
			eb_dev_latency(r4, "orin", m, 1.0);
		}
	}
	eb_tdb_close();
	eb_expect(2, "nothing compared: no cell key in common (the configs differ): the baseline "
		     "has 3 cells, the candidate 3",
		  (const char *[]){ "edgebench", "compare", "--db", db, "1", "2", "--junit", junit,
				    NULL });
	xml = eb_tdb_slurp(junit, NULL);
	ck_assert_ptr_nonnull(xml);
	ck_assert_ptr_nonnull(strstr(xml, "errors=\"1\""));
	ck_assert_ptr_nonnull(strstr(xml, "<error type=\"nothing compared\" message=\"nothing "
					  "compared: no cell key in common"));
	free(xml);
	eb_expect(2, "nothing compared: the devices differ (baseline on 'orin', candidate on "
		     "'hailo'): cells are matched by device and key",
		  (const char *[]){ "edgebench", "compare", "--db", db, "1", "3", NULL });
	/* another config with the same cells: compared, and said at the top */
	eb_expect(0, "- **the configs differ**: config sha256 aaaa against cccc; only cells of "
		     "the same device and key are compared\n- matched: 3 cells by device and key\n",
		  (const char *[]){ "edgebench", "compare", "--db", db, "1", "4", NULL });
	eb_expect(2, "nothing compared: --metric 'ppl' matched no metric of the 3 matched cells",
		  (const char *[]){ "edgebench", "compare", "--db", db, "1", "1", "--metric", "ppl",
				    NULL });
	eb_expect(2, "' has no cell on a device matching 'x*'",
		  (const char *[]){ "edgebench", "compare", "--db", db, "1", "1", "--device", "x*",
				    NULL });
}
END_TEST

/*
 * Cells are matched by device and key, and a reference can name a device: a lab database
 * where two devices alternate (orin, hailo, orin, hailo), orin's second night slower on
 * k0. Its last two runs are orin's night 2 and hailo's: nothing in common (exit 2). With
 * --device orin (or @orin) latest~1 is orin's night 1 and the slowdown is found; the lab
 * recipe `compare lab.db:latest~1 orin.db:latest --device orin` picks the same pair (before,
 * latest~1 was whichever device was merged second to last).
 */
START_TEST(devices_matched)
{
	char db[8192], orin[8192], a[8300], b[8300], *out = NULL;
	json_t *root;
	int rc;

	eb_test_tmpdir("compare-dev", eb_dir, sizeof(eb_dir));
	snprintf(db, sizeof(db), "%s/lab.db", eb_dir);
	snprintf(orin, sizeof(orin), "%s/orin.db", eb_dir);
	eb_tdb_open(db);
	eb_rng = 11;
	for (int night = 0; night < 2; night++) {
		char u1[64], u2[64];
		int64_t ro, rh;

		snprintf(u1, sizeof(u1), "00000000-0000-4000-8000-0000000001%d1", night);
		snprintf(u2, sizeof(u2), "00000000-0000-4000-8000-0000000001%d2", night);
		ro = eb_tdb_run(u1, "orin", NULL);
		eb_dev_latency(ro, "orin", "k0", night ? 0.8 : 1.0);
		eb_dev_latency(ro, "orin", "k1", 1.0);
		rh = eb_tdb_run(u2, "hailo", NULL);
		eb_dev_latency(rh, "hailo", "k0", 1.0);
		eb_dev_latency(rh, "hailo", "k1", 1.0);
	}
	eb_tdb_close();
	/* orin's night 2 alone in a database of its own, as its device job leaves it */
	eb_tdb_open(orin);
	{
		int64_t ro = eb_tdb_run("00000000-0000-4000-8000-000000000111", "orin", NULL);

		eb_dev_latency(ro, "orin", "k0", 0.8);
		eb_dev_latency(ro, "orin", "k1", 1.0);
	}
	eb_tdb_close();

	/* the merged database's last two runs: two devices, nothing in common */
	eb_expect(2, "the devices differ (baseline on 'orin', candidate on 'hailo')",
		  (const char *[]){ "edgebench", "compare", "--db", db, "latest~1", "latest", NULL });
	/* --device orin: orin's runs are 1 and 3 */
	root = eb_json_of(1, (const char *[]){ "edgebench", "compare", "--db", db, "latest~1",
					       "latest", "--device", "orin", "--format", "json",
					       NULL });
	ck_assert_int_eq(eb_side_run(root, "baseline"), 1);
	ck_assert_int_eq(eb_side_run(root, "candidate"), 3);
	json_decref(root);
	/* REF@DEVICE across two databases */
	snprintf(a, sizeof(a), "%s:latest~1@orin", db);
	snprintf(b, sizeof(b), "%s:latest@orin", orin);
	{
		const char *argv[] = { "edgebench", "compare", a, b, NULL };

		rc = eb_test_run(argv, &out);
		ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
		ck_assert_msg(strstr(out, "| cpu/k0/q4\\_0/latency/p64-g16 | decode\\_tps | "), "%s",
			      out);
		ck_assert_ptr_nonnull(strstr(out, "- baseline: run 1 ("));
		ck_assert_ptr_nonnull(strstr(out, "- matched: 2 cells by device and key\n"));
		ck_assert_ptr_nonnull(strstr(out, "; device 'orin'\n"));
		free(out);
	}
	/* the lab recipe, given the device: the previous run of orin in the lab's database */
	snprintf(a, sizeof(a), "%s:latest~1", db);
	snprintf(b, sizeof(b), "%s:latest", orin);
	root = eb_json_of(1, (const char *[]){ "edgebench", "compare", a, b, "--device", "orin",
					       "--format", "json", NULL });
	ck_assert_int_eq(eb_side_run(root, "baseline"), 1);
	ck_assert(json_is_false(json_object_get(root, "devices_differ")));
	json_decref(root);
	/* a device no run has */
	snprintf(a, sizeof(a), "%s:latest@rzv2l", db);
	eb_expect(2, "has a cell on a device matching 'rzv2l'",
		  (const char *[]){ "edgebench", "compare", a, "latest", "--db", db, NULL });
}
END_TEST

static void eb_acc(int64_t cell, const char *task, const char *metric, double v, double se)
{
	struct eb_accuracy_row r = { .task = task, .protocol = task, .metric = metric, .value = v,
				     .stderr_ = se, .n = 8, .params_json = "{}" };
	struct eb_err err;

	ck_assert_msg(eb_store_accuracy_add(eb_tdb, cell, &r, &err) == 0, "%s", err.msg);
}

/* The verdict, and p, of a result of the json report. */
static const char *eb_verdict_of(json_t *root, const char *metric, double *p)
{
	json_t *r;
	size_t i;

	json_array_foreach(json_object_get(root, "results"), i, r) {
		if (strcmp(json_string_value(json_object_get(r, "metric")), metric) != 0)
			continue;
		*p = json_is_null(json_object_get(r, "p")) ? NAN
							    : json_real_value(json_object_get(r, "p"));
		return json_string_value(json_object_get(r, "verdict"));
	}
	ck_abort_msg("no result for %s", metric);
	return NULL;
}

/*
 * Accuracy is judged (before: never compared; --metric ppl compared nothing) with the
 * registry's directions and the z test of two independent estimates on their stored
 * stderr: ppl 10 ± 0.05 -> 11 ± 0.05 (z 14.1) regresses; acc_norm 0.625 ± 0.18 ->
 * 0.5 ± 0.19 (8 items: z 0.478, p 0.63293) is past the threshold but not significant;
 * acc 0.5 -> 0.7 ± 0.02 improves; kld_mean 0.01 -> 0.02 ± 0.001 regresses; kld_max
 * (no stderr) doubles: the threshold alone, a regression. p from python3 math.erfc.
 */
START_TEST(accuracy_judged)
{
	char db[8192];
	json_t *root;
	double p;

	eb_test_tmpdir("compare-acc", eb_dir, sizeof(eb_dir));
	snprintf(db, sizeof(db), "%s/acc.db", eb_dir);
	eb_tdb_open(db);
	for (int side = 0; side < 2; side++) {
		int64_t run = eb_tdb_run(side ? "00000000-0000-4000-8000-000000000302"
					      : "00000000-0000-4000-8000-000000000301",
					 "acc", NULL);
		int64_t wt = eb_dev_cell(run, "test", "tiny", "wikitext2");
		int64_t hs = eb_dev_cell(run, "test", "tiny", "hellaswag");
		int64_t kl = eb_dev_cell(run, "test", "tiny", "kld");

		eb_acc(wt, "wikitext2", "ppl", side ? 11.0 : 10.0, 0.05);
		eb_acc(hs, "hellaswag", "acc_norm", side ? 0.5 : 0.625, side ? 0.19 : 0.18);
		eb_acc(hs, "hellaswag", "acc", side ? 0.7 : 0.5, 0.02);
		eb_acc(kl, "kld", "kld_mean", side ? 0.02 : 0.01, 0.001);
		eb_acc(kl, "kld", "kld_max", side ? 2.0 : 1.0, NAN);
	}
	eb_tdb_close();
	root = eb_json_12(db, 1);
	ck_assert_str_eq(eb_verdict_of(root, "ppl", &p), "regression");
	ck_assert_msg(fabs(p - 2.088487583762694e-45) <= 1e-9 * 2.088487583762694e-45, "p %g", p);
	ck_assert_str_eq(eb_verdict_of(root, "acc_norm", &p), "not significant");
	ck_assert_double_eq_tol(p, 0.6329346105804301, 1e-9); /* json: 10 digits */
	ck_assert_str_eq(eb_verdict_of(root, "acc", &p), "improvement");
	ck_assert_msg(fabs(p - 1.5374597944280351e-12) <= 1e-9 * 1.5374597944280351e-12, "p %g", p);
	ck_assert_str_eq(eb_verdict_of(root, "kld_mean", &p), "regression");
	ck_assert_str_eq(eb_verdict_of(root, "kld_max", &p), "regression");
	ck_assert(isnan(p));
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(root, "summary"),
							    "regressions")),
			 3);
	json_decref(root);

	/* --metric ppl compares the one figure, shown with its stderr */
	eb_expect(1, "| cpu/tiny/q4\\_0/accuracy/wikitext2 | ppl | 10 ± 0.05 | 11 ± 0.05 | +10.0% "
		     "| 5% | 2.1e-45 | - |\n",
		  (const char *[]){ "edgebench", "compare", "--db", db, "1", "2", "--metric", "ppl",
				    NULL });
	eb_expect(1, "regressions 1, improvements 0, not significant 0, unchanged 0, missing 0, "
		     "new 0",
		  (const char *[]){ "edgebench", "compare", "--db", db, "1", "2", "--metric", "ppl",
				    NULL });
}
END_TEST

/* A request whose chunks arrive `gap` ms apart (n chunks), jittered by +-1%. */
static void eb_itl_request(int64_t cell, int rep, double gap, int n, double *pool, size_t *np)
{
	uint64_t t[64];
	struct eb_request_row rr = { 0 };
	struct eb_err err;
	double at = 20;

	ck_assert_int_le(n, 64);
	for (int i = 0; i < n; i++) {
		double g = gap * (1 + 0.02 * (eb_unif() - 0.5));

		if (i) {
			at += g;
			pool[(*np)++] = g;
		}
		t[i] = (uint64_t)llround(at * 1e6);
	}
	/* the pooled gaps above are the stored figures: recompute them from the stored ns */
	*np -= (size_t)(n - 1);
	for (int i = 1; i < n; i++)
		pool[(*np)++] = (double)(t[i] - t[i - 1]) / 1e6;
	rr.rep = rep;
	rr.n_prompt = 64;
	rr.n_out = n;
	rr.n_chunks = n;
	rr.ttft_ns = (int64_t)t[0];
	rr.e2e_ns = (int64_t)t[n - 1];
	rr.decode_ns = rr.e2e_ns - rr.ttft_ns;
	rr.prefill_tps = NAN;
	rr.decode_tps = NAN;
	rr.t_ns = t;
	rr.n_times = (size_t)n;
	ck_assert_msg(eb_store_request_add(eb_tdb, cell, &rr, &err) == 0, "%s", err.msg);
}

/*
 * ITL has the request as its unit: the gaps of one request share its state, so 10
 * requests of 40 chunks are 10 samples, not 390. Baseline requests decode at 10, 11 ..
 * 19 ms a gap, the candidate's at 10.8 .. 19.8: every request 0.8 ms slower (+5.5% on
 * the median), interleaved with the baseline's. Pooled, the 390 + 390 gaps "prove" it
 * (p < 1e-6, the old verdict: regression); by request (10 + 10 medians) p > 0.3: not
 * significant. The p90 of each request is its second sample.
 */
START_TEST(itl_per_request)
{
	static double pool[2][10 * 40];
	char db[8192];
	json_t *root, *r;
	size_t i, nrows = 0;

	eb_test_tmpdir("compare-itl", eb_dir, sizeof(eb_dir));
	snprintf(db, sizeof(db), "%s/itl.db", eb_dir);
	eb_tdb_open(db);
	eb_rng = 5;
	for (int side = 0; side < 2; side++) {
		int64_t run = eb_tdb_run(side ? "00000000-0000-4000-8000-000000000402"
					      : "00000000-0000-4000-8000-000000000401",
					 "itl", NULL);
		int64_t cell = eb_dev_cell(run, "test", "tiny", NULL);
		size_t np = 0;

		for (int q = 0; q < 10; q++)
			eb_itl_request(cell, q, 10 + q + (side ? 2 : 0), 40, pool[side], &np);
		eb_tdb_metric(cell, "itl_ms", "ms", pool[side], np);
		ck_assert_uint_eq(np, 390);
	}
	/* the premise: pooled, these gaps differ "significantly" */
	ck_assert_double_lt(eb_stats_mwu(pool[0], 390, pool[1], 390, NULL), 1e-6);
	eb_tdb_close();
	root = eb_json_12(db, 0);
	json_array_foreach(json_object_get(root, "results"), i, r) {
		const char *per = json_string_value(json_object_get(r, "per_request"));
		double p = json_real_value(json_object_get(r, "p"));
		double change = json_real_value(json_object_get(r, "change_pct"));

		ck_assert_str_eq(json_string_value(json_object_get(r, "metric")), "itl_ms");
		ck_assert_ptr_nonnull(per);
		ck_assert_str_eq(json_string_value(json_object_get(r, "verdict")), "not significant");
		ck_assert_int_eq(json_integer_value(json_object_get(r, "n_baseline")), 10);
		ck_assert_int_eq(json_integer_value(json_object_get(r, "n_candidate")), 10);
		ck_assert_msg(change > 5 && p > 0.05, "%s: change %g p %g", per, change, p);
		nrows++;
	}
	ck_assert_uint_eq(nrows, 2);
	json_decref(root);
}
END_TEST

/* ---- repeated runs: the repeat as the unit ------------------------------------- */

/* A run whose cell "cpu/tiny/q4_0/latency/p64-g16" ran nrep times (keys "#1".."#N",
 * params_json "repeat"): repeat r's 10 requests decode at N(med[r], 0.2) tok/s, TTFT
 * N(50, 0.2) ms: tight within a repeat, whatever the spread across repeats. Repeat
 * `failed` (1..N; 0 none) failed. */
static int64_t eb_rep_run(const char *uuid, uint64_t seed, const double *med, int nrep,
			  int failed, double dec[][10])
{
	int64_t run = eb_tdb_run(uuid, "rep", NULL);

	eb_rng = seed;
	for (int r = 0; r < nrep; r++) {
		char key[128], params[64];
		struct eb_cell_row cr = { 0 };
		struct eb_err err;
		double ttft[10];
		int64_t cell;

		snprintf(key, sizeof(key), "cpu/tiny/q4_0/latency/p64-g16#%d", r + 1);
		snprintf(params, sizeof(params), "{\"repeat\":%d}", r + 1);
		cr.key = key;
		cr.target = "cpu";
		cr.adapter = "llamacpp";
		cr.model = "tiny";
		cr.quant = "q4_0";
		cr.device = "test";
		cr.workload = "latency";
		cr.prompt_tokens = 64;
		cr.gen_tokens = 16;
		cr.params_json = params;
		ck_assert_msg(eb_store_cell_ensure(eb_tdb, run, &cr, &cell, &err) == 0, "%s", err.msg);
		ck_assert_msg(eb_store_cell_finish(eb_tdb, cell, r + 1 == failed ? "failed" : "ok",
						   r + 1 == failed ? "adapter crashed" : NULL, NULL,
						   NULL, 1.5, &err) == 0,
			      "%s", err.msg);
		if (r + 1 == failed)
			continue;
		for (int i = 0; i < 10; i++) {
			ttft[i] = eb_normal(50, 0.2);
			dec[r][i] = eb_normal(med[r], 0.2);
		}
		eb_tdb_requests(cell, 64, 16, ttft, dec[r], 10);
	}
	return run;
}

static int eb_cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* compare A B (argv[4], argv[5]) with argv's other arguments; asserts the exit code. */
static char *eb_rep_cmp(const char **argv, const char *a, const char *b, int want)
{
	char *out = NULL;
	int rc;

	argv[4] = a;
	argv[5] = b;
	rc = eb_test_run(argv, &out);
	ck_assert_msg(rc == want, "exit %d: %s", rc, out);
	return out;
}

START_TEST(repeats_as_unit)
{
	/* run 1 and 2: repeats spread 80..120 tok/s, the candidate's each 10 lower (-10%);
	 * run 3 and 4: repeats within 2%, the candidate's all 20% lower; run 5: one repeat;
	 * run 6: run 3 again with its third repeat failed */
	static const double noisy_b[3] = { 100, 120, 80 }, noisy_c[3] = { 90, 110, 70 };
	static const double tight_b[3] = { 100, 102, 98 }, tight_c[3] = { 80, 82, 78 };
	static const double single[1] = { 90 };
	double db[3][10], dc[3][10], tmp[3][10];
	char junit[4096], *out = NULL, *xml;
	const char *argv[] = { "edgebench", "compare", "--db", eb_db_path, "1", "2", "--junit",
			       junit, NULL, NULL };
	size_t n[6];
	json_t *root, *res;
	json_error_t jerr;
	int rc, seen = 0;

	eb_test_tmpdir("compare-rep", eb_dir, sizeof(eb_dir));
	snprintf(eb_db_path, sizeof(eb_db_path), "%s/rep.db", eb_dir);
	snprintf(junit, sizeof(junit), "%s/junit-rep.xml", eb_dir);
	eb_tdb_open(eb_db_path);
	eb_rep_run("00000000-0000-4000-8000-0000000000a1", 11, noisy_b, 3, 0, db);
	eb_rep_run("00000000-0000-4000-8000-0000000000a2", 12, noisy_c, 3, 0, dc);
	eb_rep_run("00000000-0000-4000-8000-0000000000a3", 13, tight_b, 3, 0, tmp);
	eb_rep_run("00000000-0000-4000-8000-0000000000a4", 14, tight_c, 3, 0, tmp);
	eb_rep_run("00000000-0000-4000-8000-0000000000a5", 15, single, 1, 0, tmp);
	eb_rep_run("00000000-0000-4000-8000-0000000000a6", 16, tight_b, 3, 3, tmp);
	eb_tdb_close();

	/* request by request each repeat's -10% is plainly significant ... */
	for (int r = 0; r < 3; r++)
		ck_assert_double_lt(eb_stats_mwu(db[r], 10, dc[r], 10, NULL), 0.05);
	/* ... but the repeats themselves vary more than the change */
	out = eb_rep_cmp(argv, "1", "2", 0);
	ck_assert_msg(strstr(out, "**Verdict: no regression**"), "%s", out);
	ck_assert_msg(strstr(out, "- unit: repeat for 1 matched cell "), "%s", out);
	ck_assert_msg(strstr(out, "- matched: 1 cell by device and key"), "%s", out);
	ck_assert_msg(strstr(out, "| cpu/tiny/q4\\_0/latency/p64-g16 | decode\\_tps | "), "%s", out);
	ck_assert_msg(strstr(out, " | 3/3 repeats |\n"), "%s", out);
	ck_assert_ptr_null(strstr(out, "p64-g16#"));
	eb_check_counts(out, n);
	ck_assert_uint_eq(n[0], 0);
	ck_assert_uint_ge(n[2], 1); /* decode_tps: past the threshold, not significant */
	ck_assert_uint_eq(n[4] + n[5], 0);
	eb_check_junit(junit, n[0] + n[1] + n[2] + n[3] + n[4] + n[5], 0);
	xml = eb_tdb_slurp(junit, NULL);
	ck_assert_msg(strstr(xml, "<property name=\"unit\" value=\"repeat for 1 matched cell"), "%s",
		      xml);
	free(xml);
	free(out);

	/* json (10 significant digits): the figures are the means of the repeats' medians,
	 * Welch's t judges them */
	{
		const char *ja[] = { "edgebench", "compare", "--db", eb_db_path, "1", "2",
				     "--format", "json", NULL };

		rc = eb_test_run(ja, &out);
	}
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	root = json_loads(out, 0, &jerr);
	ck_assert_msg(root, "%s: %s", jerr.text, out);
	json_array_foreach(json_object_get(root, "results"), rc, res)
	{
		double want_b = 0, want_c = 0, mb[3], mc[3];

		if (strcmp(json_string_value(json_object_get(res, "metric")), "decode_tps") != 0)
			continue;
		for (int r = 0; r < 3; r++) {
			qsort(db[r], 10, sizeof(double), eb_cmp_dbl);
			qsort(dc[r], 10, sizeof(double), eb_cmp_dbl);
			mb[r] = eb_stats_quantile_sorted(db[r], 10, 0.5);
			mc[r] = eb_stats_quantile_sorted(dc[r], 10, 0.5);
			want_b += mb[r] / 3;
			want_c += mc[r] / 3;
		}
		ck_assert_str_eq(json_string_value(json_object_get(res, "unit")), "repeat");
		ck_assert_str_eq(json_string_value(json_object_get(res, "test")), "welch-t");
		ck_assert_str_eq(json_string_value(json_object_get(res, "key")),
				 "cpu/tiny/q4_0/latency/p64-g16");
		ck_assert_str_eq(json_string_value(json_object_get(res, "verdict")),
				 "not significant");
		ck_assert_int_eq(json_integer_value(json_object_get(res, "n_baseline")), 3);
		ck_assert_int_eq(json_integer_value(json_object_get(res, "n_candidate")), 3);
		ck_assert_double_eq_tol(json_real_value(json_object_get(res, "baseline")), want_b,
					1e-6);
		ck_assert_double_eq_tol(json_real_value(json_object_get(res, "candidate")), want_c,
					1e-6);
		ck_assert_double_eq_tol(json_real_value(json_object_get(res, "p")),
					eb_stats_welch(mb, 3, mc, 3, NULL, NULL), 1e-9);
		ck_assert_double_gt(json_real_value(json_object_get(res, "p")), 0.05);
		seen++;
	}
	ck_assert_int_eq(seen, 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(root, "test"),
							    "cells_by_repeat")),
			 1);
	json_decref(root);
	free(out);

	/* a shift across every repeat: a regression at the repeat level (decode_tps -20%, and
	 * e2e_ms with it) */
	out = eb_rep_cmp(argv, "3", "4", 1);
	ck_assert_msg(strstr(out, "**Verdict: 2 regressions**"), "%s", out);
	ck_assert_msg(strstr(out, "- unit: repeat for 1 matched cell "), "%s", out);
	eb_check_counts(out, n);
	ck_assert_uint_eq(n[0], 2);
	eb_check_junit(junit, n[0] + n[1] + n[2] + n[3] + n[4] + n[5], 2);
	xml = eb_tdb_slurp(junit, NULL);
	ck_assert_msg(strstr(xml, "name=\"decode_tps\">\n      <failure type=\"regression\""),
		      "%s", xml);
	ck_assert_msg(strstr(xml, "(unit repeat, n 3/3 repeats)</failure>"), "%s", xml);
	free(xml);
	free(out);

	/* one repeat on a side: repeat by repeat on the requests, and said */
	out = eb_rep_cmp(argv, "1", "5", 1);
	ck_assert_msg(strstr(out, "- unit: request for 1 repeated cell "), "%s", out);
	ck_assert_ptr_null(strstr(out, "- unit: repeat"));
	ck_assert_msg(strstr(out, "| cpu/tiny/q4\\_0/latency/p64-g16\\#1 | decode\\_tps | "), "%s",
		      out);
	eb_check_counts(out, n);
	ck_assert_uint_eq(n[4], 2); /* #2 and #3 */
	free(out);

	/* a repeat that failed: its own status row; the figures over the 2 ok repeats */
	out = eb_rep_cmp(argv, "3", "6", 1);
	ck_assert_msg(strstr(out, "- unit: repeat for 1 matched cell "), "%s", out);
	ck_assert_msg(strstr(out, "| cpu/tiny/q4\\_0/latency/p64-g16\\#3 | cell status | ok | "
				  "failed: adapter crashed |"),
		      "%s", out);
	ck_assert_msg(strstr(out, " | 3/2 repeats |\n"), "%s", out);
	eb_check_counts(out, n);
	ck_assert_uint_eq(n[0], 1);
	eb_check_junit(junit, n[0] + n[1] + n[2] + n[3] + n[4] + n[5], 1);
	free(out);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("compare");
	TCase *tc = tcase_create("compare");

	tcase_add_test(tc, directions);
	tcase_add_test(tc, planted_regression);
	tcase_add_test(tc, rerun_passes);
	tcase_add_test(tc, refs_json_and_errors);
	tcase_add_test(tc, summary_counts_equal_sections);
	tcase_add_test(tc, nothing_compared_is_exit_2);
	tcase_add_test(tc, devices_matched);
	tcase_add_test(tc, accuracy_judged);
	tcase_add_test(tc, itl_per_request);
	tcase_add_test(tc, repeats_as_unit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
