/* check_sensors_cli.c: `edgebench sensors` (text, --json, --config, --state, --bench) over fixture trees. */
/* ctest: labels=integration timeout=60 */
#include "sensortest.h"

#include <math.h>

static json_t *run_json(const char *const *argv, int want_rc)
{
	char *out = NULL;
	int rc = eb_test_run(argv, &out);
	json_error_t je;
	json_t *j;
	char *brace;

	ck_assert_msg(rc == want_rc, "exit %d, expected %d:\n%s", rc, want_rc, out);
	/* stderr is merged: the JSON document starts at the first '{' of a line */
	brace = out[0] == '{' ? out : strstr(out, "\n{");
	ck_assert_msg(brace != NULL, "no JSON in:\n%s", out);
	j = json_loads(brace, JSON_DISABLE_EOF_CHECK, &je);
	ck_assert_msg(j != NULL, "bad JSON (%s) in:\n%s", je.text, out);
	free(out);
	return j;
}

static const json_t *kind(const json_t *doc, const char *name)
{
	size_t i;
	const json_t *e;

	json_array_foreach(json_object_get(doc, "sensors"), i, e)
		if (strcmp(json_string_value(json_object_get(e, "kind")), name) == 0)
			return e;
	ck_abort_msg("no sensor kind %s", name);
	return NULL;
}

static const char *reason(const json_t *e)
{
	return json_string_value(json_object_get(e, "reason"));
}

START_TEST(test_json_generic_root)
{
	char root[4096];
	const char *argv[] = { "edgebench", "sensors", "--json", "--root", root, "--interval", "20",
			       NULL };
	const json_t *e, *r;
	json_t *doc;

	setenv("PATH", "/nonexistent", 1); /* no tegrastats, even on a Jetson */
	eb_test_data("sysfs/generic", root, sizeof(root));
	doc = run_json(argv, 0);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "root")), root);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "interval_ms")), 20);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "sensors")), 6);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "common_options")), 2);

	e = kind(doc, "hwmon");
	ck_assert(json_is_true(json_object_get(e, "available")));
	ck_assert(json_is_null(json_object_get(e, "reason")));
	ck_assert_uint_eq(json_array_size(json_object_get(e, "readings")), 2);
	r = json_array_get(json_object_get(e, "readings"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(r, "rail")), "ina226.power1");
	ck_assert_double_eq_tol(json_number_value(json_object_get(r, "value")), 5.0, 1e-9);
	ck_assert_str_eq(json_string_value(json_object_get(r, "unit")), "W");
	ck_assert_str_eq(json_string_value(json_object_get(r, "source")), "power_input (uW)");
	r = json_array_get(json_object_get(e, "readings"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(r, "rail")), "VDD_CORE");
	ck_assert_double_eq_tol(json_number_value(json_object_get(r, "value")), 6.0, 1e-9);
	ck_assert_double_eq_tol(
		json_number_value(json_object_get(json_object_get(e, "describe"), "window_ms")), 2,
		1e-9);
	ck_assert_uint_gt(json_array_size(json_object_get(e, "options")), 0);

	e = kind(doc, "rapl");
	ck_assert(json_is_false(json_object_get(e, "available")));
	ck_assert_msg(strstr(reason(e), "/sys/class/powercap/intel-rapl:0' (not an Intel/AMD CPU "
					"with RAPL"),
		      "%s", reason(e));
	e = kind(doc, "nvml");
	if (json_is_true(json_object_get(e, "available"))) /* a machine with an NVIDIA driver */
		ck_assert_uint_gt(json_array_size(json_object_get(e, "readings")), 0);
	else
		ck_assert_msg(strncmp(reason(e), "libnvidia-ml.so.1 not found", 27) == 0 ||
				      strncmp(reason(e), "nvmlInit_v2 failed", 18) == 0 ||
				      strncmp(reason(e), "no GPU 0", 8) == 0,
			      "%s", reason(e));
	e = kind(doc, "tegrastats");
	ck_assert_str_eq(reason(e), "no 'tegrastats' on PATH (not a Jetson, or JetPack's tegrastats "
				    "is not installed)");
	e = kind(doc, "cmd");
	ck_assert_str_eq(reason(e), "not configured: options.argv names the meter program (one "
				    "reading per line)");
	e = kind(doc, "proc");
	ck_assert_str_eq(reason(e), "not configured: give options.pid or options.process (one of "
				    "them)");
	json_decref(doc);
}
END_TEST

START_TEST(test_fake_tegrastats_and_orin)
{
	char root[4096];
	const char *argv[] = { "edgebench", "sensors", "--json", "--root", root, "--interval", "20",
			       NULL };
	const json_t *e, *readings;
	json_t *doc;

	eb_st_fake_path();
	unsetenv("EB_FAKE_TEGRASTATS");
	eb_test_data("sysfs/orin", root, sizeof(root));
	doc = run_json(argv, 0);
	e = kind(doc, "tegrastats");
	ck_assert(json_is_true(json_object_get(e, "available")));
	readings = json_object_get(e, "readings");
	/* the fake replays agx-orin-jp5.log: four rails (NC skipped) and RAM */
	ck_assert_uint_eq(json_array_size(readings), 5);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(readings, 4), "unit")),
			 "B");
	e = kind(doc, "hwmon");
	readings = json_object_get(e, "readings");
	ck_assert_uint_eq(json_array_size(readings), 4);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(readings, 3), "rail")),
			 "VDDQ_VDD2_1V8AO");
	json_decref(doc);
}
END_TEST

START_TEST(test_config_and_text)
{
	char dir[4096], cfg[4200], root[4096];
	const char *argv[] = { "edgebench", "sensors", "--json", "--config", cfg, "--root", root,
			       NULL };
	const char *targv[] = { "edgebench", "sensors", "--root", root, NULL };
	static const char text[] =
		"{\"sensors\": [{\"kind\": \"hwmon\", \"options\": {\"name\": \"board\"}},"
		" {\"kind\": \"cmd\", \"options\": {\"argv\": [\"fake-meter\", \"--loop\", "
		"\"P=2500 mW\"], \"unit\": \"mW\", \"regex\": \"P=([0-9]+)\", \"rail\": \"usb\"}}]}";
	struct eb_err err;
	const json_t *e, *r;
	json_t *doc;
	char *out = NULL;

	eb_st_fake_path();
	eb_test_tmpdir("sensors-cli", dir, sizeof(dir));
	snprintf(cfg, sizeof(cfg), "%s/sensors.json", dir);
	ck_assert_int_eq(eb_write_file(cfg, text, strlen(text), &err), 0);
	eb_test_data("sysfs/orin-nano", root, sizeof(root));
	doc = run_json(argv, 0);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "sensors")), 2);
	e = kind(doc, "cmd");
	ck_assert(json_is_true(json_object_get(e, "available")));
	r = json_array_get(json_object_get(e, "readings"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(r, "rail")), "usb");
	ck_assert_double_eq_tol(json_number_value(json_object_get(r, "value")), 2.5, 1e-9);
	e = kind(doc, "hwmon");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(e, "describe"), "name")),
			 "board");
	r = json_array_get(json_object_get(e, "readings"), 0);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "flags"), 0)), "total");
	json_decref(doc);

	ck_assert_int_eq(eb_test_run(targv, &out), 0);
	ck_assert_msg(strstr(out, "hwmon: Linux hwmon power monitors") &&
			      strstr(out, "  available: 3 rails; averaging window 5 ms") &&
			      strstr(out, "    VDD_IN ") && strstr(out, "[total]") &&
			      strstr(out, "options every sensor takes:"),
		      "%s", out);
	free(out);
}
END_TEST

START_TEST(test_state)
{
	char root[4096];
	const char *argv[] = { "edgebench", "sensors", "--json", "--state", "--root", root, NULL };
	const json_t *st, *j;
	json_t *doc;

	setenv("PATH", "/nonexistent", 1);
	eb_test_data("sysfs/devstate", root, sizeof(root));
	doc = run_json(argv, 0);
	st = json_object_get(doc, "device_state");
	j = json_object_get(st, "jetson");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "nvpmodel"), "name")),
			 "MAXN");
	ck_assert_str_eq(json_string_value(json_object_get(j, "jetson_clocks")), "on");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(st, "cpu"), "governor")),
			 "schedutil");
	json_decref(doc);
}
END_TEST

START_TEST(test_bench)
{
	char root[4096], dir[4096], cfg[4200];
	const char *argv[] = { "edgebench", "sensors", "--bench", "--json", "--seconds", "0.5",
			       "--interval", "10", "--root", root, "--config", cfg, NULL };
	static const char text[] = "{\"sensors\": [{\"kind\": \"hwmon\"}, {\"kind\": "
				   "\"tegrastats\"}, {\"kind\": \"rapl\"}]}";
	struct eb_err err;
	const char *argv_max[] = { "edgebench", "sensors", "--bench", "--seconds", "0.2",
				   "--max-pct", "0.0000001", "--root", root, NULL };
	json_t *doc;
	double pct;

	eb_st_fake_path();
	eb_test_data("sysfs/generic", root, sizeof(root));
	eb_test_tmpdir("sensors-bench", dir, sizeof(dir));
	snprintf(cfg, sizeof(cfg), "%s/sensors.json", dir);
	ck_assert_int_eq(eb_write_file(cfg, text, strlen(text), &err), 0);
	doc = run_json(argv, 0);
	pct = json_number_value(json_object_get(doc, "cpu_pct_one_core"));
	ck_assert(isfinite(pct) && pct >= 0);
	ck_assert_int_ge(json_integer_value(json_object_get(doc, "ticks")), 20);
	ck_assert_int_gt(json_integer_value(json_object_get(doc, "records")), 0);
	ck_assert_int_gt(json_integer_value(json_object_get(doc, "samples")), 100);
	/* hwmon's 2 rails and tegrastats' 5 */
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "rails")), 7);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "skipped")), 1); /* rapl */
	json_decref(doc);
	/* over the limit: exit 1 */
	ck_assert_int_eq(eb_test_run(argv_max, NULL), 1);
}
END_TEST

/* A rail label is text from the board (sysfs): printed cleaned, as stored text is (a
 * terminal escape in a label must not reach the terminal). */
START_TEST(test_peer_text_cleaned)
{
	char src[4096], dir[4096], label[4600], cmd[12400];
	const char *argv[] = { "edgebench", "sensors", "--root", dir, NULL };
	const char *jargv[] = { "edgebench", "sensors", "--json", "--root", dir, NULL };
	static const char evil[] = "VDD\x1b]0;PWNED\x07\x1b[2J\n";
	struct eb_err err;
	const json_t *r;
	json_t *doc;
	char *out = NULL;

	setenv("PATH", "/nonexistent", 1);
	eb_test_data("sysfs/generic", src, sizeof(src));
	eb_test_tmpdir("sensors-evil", dir, sizeof(dir));
	snprintf(cmd, sizeof(cmd), "/bin/cp -R '%s/.' '%s/'", src, dir);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(label, sizeof(label), "%s/sys/class/hwmon/hwmon1/in1_label", dir);
	ck_assert_int_eq(eb_write_file(label, evil, strlen(evil), &err), 0);
	snprintf(label, sizeof(label), "%s/sys/class/hwmon/hwmon1/curr1_label", dir);
	ck_assert_int_eq(eb_write_file(label, evil, strlen(evil), &err), 0);

	ck_assert_int_eq(eb_test_run(argv, &out), 0);
	ck_assert_msg(strchr(out, '\x1b') == NULL && strchr(out, '\x07') == NULL, "%s", out);
	ck_assert_msg(strstr(out, "VDD\\x1b]0;PWNED\\x07\\x1b[2J") != NULL, "%s", out);
	free(out);

	doc = run_json(jargv, 0);
	r = json_array_get(json_object_get(kind(doc, "hwmon"), "readings"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(r, "rail")),
			 "VDD\\x1b]0;PWNED\\x07\\x1b[2J");
	json_decref(doc);
}
END_TEST

START_TEST(test_usage)
{
	const char *a1[] = { "edgebench", "sensors", "--interval", "0", NULL };
	const char *a2[] = { "edgebench", "sensors", "extra", NULL };
	const char *a3[] = { "edgebench", "sensors", "--config", "/nonexistent.json", NULL };
	const char *a4[] = { "edgebench", "sensors", "--help", NULL };
	char *out = NULL;

	ck_assert_int_eq(eb_test_run(a1, NULL), 2);
	ck_assert_int_eq(eb_test_run(a2, NULL), 2);
	ck_assert_int_eq(eb_test_run(a3, NULL), 2);
	ck_assert_int_eq(eb_test_run(a4, &out), 0);
	ck_assert(strstr(out, "usage: edgebench sensors") != NULL);
	free(out);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sensors_cli");
	TCase *tc = tcase_create("cli");

	tcase_add_test(tc, test_json_generic_root);
	tcase_add_test(tc, test_fake_tegrastats_and_orin);
	tcase_add_test(tc, test_config_and_text);
	tcase_add_test(tc, test_state);
	tcase_add_test(tc, test_bench);
	tcase_add_test(tc, test_peer_text_cleaned);
	tcase_add_test(tc, test_usage);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(suite());
}
