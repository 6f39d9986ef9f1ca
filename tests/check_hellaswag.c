/* check_hellaswag.c: HellaSwag text functions, loader and scoring against CPython/lm-eval. */
/* ctest: labels=unit timeout=60 */
#include "testutil.h"

#include "hellaswag.h"
#include "eb_util.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EB_SAMPLE EB_TEST_DATA "/../../datasets/samples/hellaswag_sample.jsonl"

/* Reads a test file or fails the test. */
static char *eb_slurp(const char *path, size_t *len)
{
	struct eb_err err;
	char *data = NULL;
	size_t n;

	ck_assert_msg(eb_read_file(path, 16u << 20, &data, &n, &err) == 0, "%s", err.msg);
	if (len)
		*len = n;
	return data;
}

/* Calls fn(line object, line number) for each line of a JSONL file under tests/data. */
static int eb_each_jsonl(const char *rel, void (*fn)(json_t *, int))
{
	char path[4096];
	char *data, *line, *next;
	int lineno = 0;

	eb_test_data(rel, path, sizeof(path));
	data = eb_slurp(path, NULL);
	for (line = data; *line; line = next) {
		json_error_t jerr;
		json_t *o;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		lineno++;
		o = json_loads(line, 0, &jerr);
		ck_assert_msg(o, "%s:%d: %s", rel, lineno, jerr.text);
		fn(o, lineno);
		json_decref(o);
	}
	free(data);
	return lineno;
}

static const char *eb_jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_string(v), "'%s' is not a string", key);
	return json_string_value(v);
}

/* --- preprocessing, against preprocess_cases.jsonl (gen.py) ------------------------- */

static void eb_check_case(json_t *o, int lineno)
{
	const char *fn = eb_jstr(o, "fn");
	char *got = NULL;

	if (!strcmp(fn, "len")) {
		size_t want = (size_t)json_integer_value(json_object_get(o, "out"));

		ck_assert_msg(eb_hellaswag_codepoints(eb_jstr(o, "in")) == want,
			      "line %d: len('%s') != %zu", lineno, eb_jstr(o, "in"), want);
		return;
	}
	if (!strcmp(fn, "preprocess"))
		got = eb_hellaswag_preprocess(eb_jstr(o, "in"));
	else if (!strcmp(fn, "capitalize"))
		got = eb_hellaswag_capitalize(eb_jstr(o, "in"));
	else if (!strcmp(fn, "query"))
		got = eb_hellaswag_query(eb_jstr(o, "activity_label"), eb_jstr(o, "ctx_a"),
					 eb_jstr(o, "ctx_b"));
	else
		ck_abort_msg("line %d: unknown fn '%s'", lineno, fn);
	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strcmp(got, eb_jstr(o, "out")) == 0, "line %d: %s: got '%s', want '%s'",
		      lineno, fn, got, eb_jstr(o, "out"));
	free(got);
}

START_TEST(test_preprocess_cases)
{
	int n = eb_each_jsonl("hellaswag/preprocess_cases.jsonl", eb_check_case);

	ck_assert_int_ge(n, 400);
}
END_TEST

/* What Python does not witness: behaviour outside the mapped range, bad UTF-8, NULL. */
START_TEST(test_text_edges)
{
	char *s;

	/* Greek is outside U+0000..U+017F: copied unchanged (Python would lower-case it) */
	s = eb_hellaswag_capitalize("\xce\xa9\xce\x9c\xce\x95 ABC");
	ck_assert_str_eq(s, "\xce\xa9\xce\x9c\xce\x95 abc");
	free(s);
	/* invalid UTF-8 bytes pass through untouched and still count as the first char */
	s = eb_hellaswag_capitalize("\xff\xc3X\xe2\x82");
	ck_assert_str_eq(s, "\xff\xc3x\xe2\x82");
	free(s);
	s = eb_hellaswag_preprocess("\xff [x]  \xc3 ");
	ck_assert_str_eq(s, "\xff  \xc3"); /* three spaces left, one pass makes two */
	free(s);
	/* a long run of unclosed brackets stays linear and intact */
	{
		char big[100001];

		memset(big, '[', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		s = eb_hellaswag_preprocess(big);
		ck_assert_str_eq(s, big);
		free(s);
	}
	ck_assert_ptr_null(eb_hellaswag_preprocess(NULL));
	ck_assert_ptr_null(eb_hellaswag_capitalize(NULL));
	ck_assert_ptr_null(eb_hellaswag_query("a", NULL, "c"));
	ck_assert_uint_eq(eb_hellaswag_codepoints(NULL), 0);
}
END_TEST

/* --- loader ------------------------------------------------------------------------ */

static struct eb_hellaswag eb_sample;

static void eb_check_sample_item(json_t *o, int lineno)
{
	const struct eb_hellaswag_item *it;
	json_t *cont = json_object_get(o, "cont"), *lens = json_object_get(o, "choice_len");
	size_t i = (size_t)lineno - 1, j;

	ck_assert_uint_lt(i, eb_sample.n);
	it = &eb_sample.items[i];
	ck_assert_uint_eq(it->line, (size_t)json_integer_value(json_object_get(o, "line")));
	ck_assert_int_eq(it->label, (int)json_integer_value(json_object_get(o, "label")));
	ck_assert_str_eq(it->query, eb_jstr(o, "query"));
	for (j = 0; j < EB_HELLASWAG_NCHOICES; j++) {
		ck_assert_str_eq(it->cont[j], json_string_value(json_array_get(cont, j)));
		ck_assert_ptr_eq(it->choice[j], it->cont[j] + 1);
		ck_assert_uint_eq(it->choice_len[j],
				  (size_t)json_integer_value(json_array_get(lens, j)));
		ck_assert(it->cont[j] >= eb_sample.blob &&
			  it->cont[j] < eb_sample.blob + eb_sample.blob_len);
	}
}

START_TEST(test_load_sample)
{
	struct eb_err err;
	int n;

	ck_assert_msg(eb_hellaswag_load(&eb_sample, EB_SAMPLE, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(eb_sample.n, 8);
	n = eb_each_jsonl("hellaswag/sample_expected.jsonl", eb_check_sample_item);
	ck_assert_int_eq(n, 8);
	/* spot checks written by hand, independent of gen.py */
	ck_assert_str_eq(eb_sample.items[1].query,
			 "Baking cookies: Two children stand at a kitchen counter with a bowl of "
			 "dough. The girl then");
	ck_assert_int_eq(eb_sample.items[1].label, 3); /* given as "3" */
	ck_assert_str_eq(eb_sample.items[1].cont[1], " pours the dough  onto the floor.");
	ck_assert_str_eq(eb_sample.items[2].cont[0],
			 "  Water the cactus every hour. It will grow faster if it is always wet.");
	eb_hellaswag_release(&eb_sample);
	ck_assert_ptr_null(eb_sample.items);
	ck_assert_uint_eq(eb_sample.n, 0);
	eb_hellaswag_release(&eb_sample);
}
END_TEST

/* Each tests/data/hellaswag/bad/<case>/ holds input.jsonl and the exact error. */
START_TEST(test_bad_files)
{
	char dir[4096], cwd[4096], casedir[8192];
	struct dirent *de;
	int ncases = 0;
	DIR *d;

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	eb_test_data("hellaswag/bad", dir, sizeof(dir));
	d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot open '%s'", dir);
	while ((de = readdir(d)) != NULL) {
		struct eb_hellaswag ds;
		struct eb_err err;
		char *want;
		size_t wlen;

		if (de->d_name[0] == '.')
			continue;
		snprintf(casedir, sizeof(casedir), "%s/%s", dir, de->d_name);
		ck_assert_int_eq(chdir(casedir), 0);
		want = eb_slurp("error", &wlen);
		while (wlen > 0 && want[wlen - 1] == '\n')
			want[--wlen] = '\0';
		eb_err_clear(&err);
		ck_assert_msg(eb_hellaswag_load(&ds, "input.jsonl", &err) == EB_EPARSE,
			      "%s: loaded, or failed with '%s'", de->d_name, err.msg);
		ck_assert_msg(strcmp(err.msg, want) == 0, "%s: got \"%s\", want \"%s\"",
			      de->d_name, err.msg, want);
		ck_assert_ptr_null(ds.items);
		ck_assert_ptr_null(ds.blob);
		ck_assert_uint_eq(ds.n, 0);
		eb_hellaswag_release(&ds);
		free(want);
		ncases++;
	}
	closedir(d);
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_int_ge(ncases, 15);
}
END_TEST

START_TEST(test_missing_file)
{
	struct eb_hellaswag ds;
	struct eb_err err;

	ck_assert_int_eq(eb_hellaswag_load(&ds, "/nonexistent/hellaswag.jsonl", &err), EB_ENOENT);
	ck_assert_str_eq(err.msg,
			 "cannot open '/nonexistent/hellaswag.jsonl': No such file or directory");
	ck_assert_ptr_null(ds.items);
}
END_TEST

START_TEST(test_load_buf)
{
	static const char text[] =
		"{\"activity_label\": \"A\", \"ctx_a\": \"b\", \"ctx_b\": \"C D\","
		" \"label\": \"1\","
		" \"endings\": [\"e\", \" f \", \"[x]\", \"\\u00e9\\ud83d\\ude00\"]}\r\n"
		"\r\n"
		"{\"activity_label\": \"A\", \"ctx_a\": \"b\", \"ctx_b\": \"\", \"label\": 0,"
		" \"endings\": [\"1\", \"2\", \"3\", \"4\"], \"extra\": {\"nested\": [1]}}";
	struct eb_hellaswag ds;
	struct eb_err err;

	ck_assert_msg(eb_hellaswag_load_buf(&ds, "mem", text, sizeof(text) - 1, &err) == 0, "%s",
		      err.msg);
	ck_assert_uint_eq(ds.n, 2);
	ck_assert_str_eq(ds.items[0].query, "A: b C d");
	ck_assert_str_eq(ds.items[0].cont[1], " f");
	ck_assert_str_eq(ds.items[0].cont[2], " ");
	ck_assert_uint_eq(ds.items[0].choice_len[2], 0);
	ck_assert_uint_eq(ds.items[0].choice_len[3], 2);
	ck_assert_int_eq(ds.items[0].label, 1);
	ck_assert_uint_eq(ds.items[1].line, 3);
	ck_assert_str_eq(ds.items[1].query, "A: b");
	eb_hellaswag_release(&ds);

	ck_assert_int_eq(eb_hellaswag_load_buf(&ds, "mem", "{}", 2, &err), EB_EPARSE);
	ck_assert_str_eq(err.msg, "mem:1: missing 'activity_label'");
	ck_assert_int_eq(eb_hellaswag_load_buf(&ds, "mem", "", 0, &err), EB_EPARSE);
	ck_assert_str_eq(err.msg, "no items in 'mem'");
}
END_TEST

/* --- scoring ----------------------------------------------------------------------- */

/*
 * Hand-built table: per item the summed log-probs, the choice lengths, gold, and the
 * answers worked out by hand (argmax; argmax of logp/len; ties to the first).
 */
struct eb_score_case {
	double logp[4];
	size_t len[4];
	int label;
	int pred, pred_norm;
};

static const struct eb_score_case eb_cases[] = {
	/* norm -1, -2, -0.6, -3 */
	{ { -10, -8, -12, -9 }, { 10, 4, 20, 3 }, 2, 1, 2 },
	/* raw tie 0/1 -> 0; norm all -1 -> 0 */
	{ { -5, -5, -7, -6 }, { 5, 5, 7, 6 }, 0, 0, 0 },
	/* raw tie 1/2 -> 1; norm -3, -2, -1, -2 */
	{ { -9, -4, -4, -20 }, { 3, 2, 4, 10 }, 1, 1, 2 },
	/* both pick 2, gold 3 */
	{ { -3, -2, -1, -4 }, { 1, 1, 1, 1 }, 3, 2, 2 },
	/* norm -3, -1, -1, -2: tie 1/2 -> 1 */
	{ { -6, -30, -7, -8 }, { 2, 30, 7, 4 }, 1, 0, 1 },
	/* both right */
	{ { -1, -2, -3, -4 }, { 1, 1, 1, 1 }, 0, 0, 0 },
};
#define EB_NCASES (sizeof(eb_cases) / sizeof(eb_cases[0]))

/* lm-eval's mean_stderr on a 0/1 vector, computed the long way. */
static double eb_lmeval_stderr(const double *x, size_t n)
{
	double mu = 0, ss = 0;
	size_t i;

	for (i = 0; i < n; i++)
		mu += x[i];
	mu /= (double)n;
	for (i = 0; i < n; i++)
		ss += (x[i] - mu) * (x[i] - mu);
	return sqrt(ss / (double)(n - 1)) / sqrt((double)n);
}

START_TEST(test_scoring)
{
	struct eb_hellaswag_tally t = { 0 };
	struct eb_hellaswag_metrics m;
	double acc[EB_NCASES], accn[EB_NCASES];
	size_t i;

	for (i = 0; i < EB_NCASES; i++) {
		const struct eb_score_case *c = &eb_cases[i];
		int pred = -1, pred_norm = -1;

		eb_hellaswag_predict(c->logp, c->len, &pred, &pred_norm);
		ck_assert_msg(pred == c->pred, "case %zu: pred %d, want %d", i, pred, c->pred);
		ck_assert_msg(pred_norm == c->pred_norm, "case %zu: pred_norm %d, want %d", i,
			      pred_norm, c->pred_norm);
		eb_hellaswag_tally_add(&t, c->logp, c->len, c->label);
		acc[i] = pred == c->label;
		accn[i] = pred_norm == c->label;
	}
	eb_hellaswag_tally_finish(&t, &m);
	/* by hand: acc hits are cases 1, 2, 5 -> 3/6; acc_norm hits 0, 1, 4, 5 -> 4/6 */
	ck_assert_uint_eq(m.n, 6);
	ck_assert_uint_eq(t.acc_hits, 3);
	ck_assert_uint_eq(t.acc_norm_hits, 4);
	ck_assert_double_eq_tol(m.acc, 0.5, 1e-15);
	ck_assert_double_eq_tol(m.acc_norm, 4.0 / 6.0, 1e-15);
	/* sqrt(.5 * .5 / 5) = sqrt(0.05); sqrt((2/3)(1/3) / 5) = sqrt(2/45) */
	ck_assert_double_eq_tol(m.acc_se, 0.22360679774997896, 1e-15);
	ck_assert_double_eq_tol(m.acc_norm_se, 0.21081851067789195, 1e-15);
	ck_assert_double_eq_tol(m.acc_se, eb_lmeval_stderr(acc, EB_NCASES), 1e-15);
	ck_assert_double_eq_tol(m.acc_norm_se, eb_lmeval_stderr(accn, EB_NCASES), 1e-15);

	ck_assert(isnan(eb_hellaswag_stderr(1, 1)));
	ck_assert(isnan(eb_hellaswag_stderr(0, 0)));
	ck_assert_double_eq(eb_hellaswag_stderr(0, 10), 0.0);
	ck_assert_double_eq(eb_hellaswag_stderr(10, 10), 0.0);
	{
		struct eb_hellaswag_tally z = { 0 };

		eb_hellaswag_tally_finish(&z, &m);
		ck_assert(m.n == 0 && isnan(m.acc) && isnan(m.acc_se));
	}
}
END_TEST

START_TEST(test_argmax_numpy)
{
	const double nan_mid[] = { -1, NAN, 0, NAN };
	const double ninf[] = { -INFINITY, -INFINITY, -INFINITY };
	const double ties[] = { -2, -1, -1, -1 };
	/* a zero length gives 0/0 = NaN here, which numpy's argmax picks */
	const double zl_logp[4] = { -1, -1, -1, 0 };
	const size_t zl_len[4] = { 1, 1, 1, 0 };
	/* ...and -x/0 = -inf, never picked */
	const double zn_logp[4] = { -4, -1, -3, -2 };
	const size_t zn_len[4] = { 1, 0, 1, 1 };
	int pred, pred_norm;

	ck_assert_uint_eq(eb_hellaswag_argmax(nan_mid, 4), 1);
	ck_assert_uint_eq(eb_hellaswag_argmax(ninf, 3), 0);
	ck_assert_uint_eq(eb_hellaswag_argmax(ties, 4), 1);
	ck_assert_uint_eq(eb_hellaswag_argmax(ties, 0), 0);
	eb_hellaswag_predict(zl_logp, zl_len, &pred, &pred_norm);
	ck_assert_int_eq(pred, 3);
	ck_assert_int_eq(pred_norm, 3);
	eb_hellaswag_predict(zn_logp, zn_len, &pred, NULL);
	ck_assert_int_eq(pred, 1);
	eb_hellaswag_predict(zn_logp, zn_len, NULL, &pred_norm);
	ck_assert_int_eq(pred_norm, 3);
}
END_TEST

/* eb_hellaswag_score over the loaded sample: gold scores -len, the others -2 len. */
START_TEST(test_score_dataset)
{
	struct eb_hellaswag ds;
	struct eb_hellaswag_metrics m;
	struct eb_err err;
	double *logp;
	size_t i, j;

	ck_assert_msg(eb_hellaswag_load(&ds, EB_SAMPLE, &err) == 0, "%s", err.msg);
	logp = calloc(ds.n * EB_HELLASWAG_NCHOICES, sizeof(*logp));
	ck_assert_ptr_nonnull(logp);
	for (i = 0; i < ds.n; i++)
		for (j = 0; j < EB_HELLASWAG_NCHOICES; j++)
			logp[i * 4 + j] = -(double)ds.items[i].choice_len[j] *
					  ((int)j == ds.items[i].label ? 1.0 : 2.0);
	eb_hellaswag_score(&ds, logp, &m);
	ck_assert_uint_eq(m.n, 8);
	ck_assert_double_eq(m.acc_norm, 1.0);
	ck_assert_double_eq(m.acc_norm_se, 0.0);
	free(logp);
	eb_hellaswag_release(&ds);
}
END_TEST

static Suite *eb_hellaswag_suite(void)
{
	Suite *s = suite_create("hellaswag");
	TCase *text = tcase_create("text");
	TCase *load = tcase_create("load");
	TCase *score = tcase_create("score");

	tcase_add_test(text, test_preprocess_cases);
	tcase_add_test(text, test_text_edges);
	tcase_add_test(load, test_load_sample);
	tcase_add_test(load, test_bad_files);
	tcase_add_test(load, test_missing_file);
	tcase_add_test(load, test_load_buf);
	tcase_add_test(score, test_scoring);
	tcase_add_test(score, test_argmax_numpy);
	tcase_add_test(score, test_score_dataset);
	suite_add_tcase(s, text);
	suite_add_tcase(s, load);
	suite_add_tcase(s, score);
	return s;
}

int main(void)
{
	return eb_test_main(eb_hellaswag_suite());
}
