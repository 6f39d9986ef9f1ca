/* ctest: labels=unit timeout=120 */
/* check_compare.c: planted regressions, re-runs, thresholds and JUnit XML. */
#include "reportdb.h"

#include "eb_proc.h"
#include "eb_util.h"
#include "compare.h"

#include <ctype.h>
#include <jansson.h>
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
	ck_assert_msg(strstr(out, "| cpu/tiny/q4\\_0/latency/p64-g16 | idle\\_w +20.0% (no "
				  "direction), n\\_layers +33.3% (unknown metric, not judged) |\n"),
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
	ck_assert_ptr_nonnull(strstr(out, "**Verdict: 2 regressions**"));
	ck_assert_ptr_nonnull(strstr(out, "| cpu/k1/q4\\_0/latency/p64-g16 | decode\\_tps | "));
	ck_assert_ptr_nonnull(strstr(out, "Mann-Whitney U"));
	ck_assert_ptr_nonnull(strstr(out, "## Missing cells (1)"));
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
	ck_assert_int_eq(nfail, 2);
	ck_assert_ptr_nonnull(strstr(xml, "<testcase classname=\"cpu/k1/q4_0/latency/p64-g16\" "
					  "name=\"decode_tps\">\n      <failure type=\"regression\""));
	ck_assert_ptr_nonnull(strstr(xml, "failures=\"2\""));
	ck_assert_ptr_nonnull(strstr(xml, "<skipped message=\"missing in the candidate\"/>"));
	free(xml);
	if (access("/usr/bin/xmllint", X_OK) == 0) {
		const char *argv[] = { "xmllint", "--noout", junit, NULL };
		struct eb_err err;
		char *o = NULL;

		rc = eb_proc_capture(argv, 1, 1 << 20, &o, &err);
		ck_assert_msg(rc == 0, "xmllint: %s", o ? o : err.msg);
		free(o);
	}

	/* per-metric thresholds above the change: no regression */
	rc = eb_cmp(&out, "1", "2", "--metric-threshold", "decode_tps=15%", "--metric-threshold",
		    "e2e_ms=15");
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	ck_assert_ptr_nonnull(strstr(out, "**Verdict: no regression**"));
	ck_assert_ptr_nonnull(strstr(out, "## Past the threshold but not significant (unchanged) (0)"));
	free(out);
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
	ck_assert_ptr_nonnull(strstr(out, "regressions 0, improvements 0, unchanged 15, missing 0, new 0"));
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

static Suite *eb_suite(void)
{
	Suite *s = suite_create("compare");
	TCase *tc = tcase_create("compare");

	tcase_add_test(tc, directions);
	tcase_add_test(tc, planted_regression);
	tcase_add_test(tc, rerun_passes);
	tcase_add_test(tc, refs_json_and_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
