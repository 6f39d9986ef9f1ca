/* check_sensor_nvml.c: NVML through a stand-in library: readings, fall-backs, errors, and explained unavailability. */
/* ctest: labels=unit timeout=60 */
#include "sensortest.h"

START_TEST(test_no_library)
{
	char why[1024];
	json_t *o = json_pack("{s:s}", "library", "libnvidia-ml-missing.so.1");
	const char *w = eb_sensor_unavailable("nvml", o, NULL, 100, why, sizeof(why));
	struct eb_sensor *s = NULL;
	struct eb_err err;

	ck_assert_ptr_nonnull(w);
	ck_assert_msg(strncmp(w, "libnvidia-ml-missing.so.1 not found (no NVIDIA driver here): ",
			      61) == 0,
		      "%s", w);
	ck_assert_int_eq(eb_sensor_open(&s, "nvml", o, NULL, 100, &err), EB_EUNSUPPORTED);
	ck_assert_msg(strncmp(err.msg, "sensor 'nvml' unavailable: libnvidia-ml-missing.so.1 not "
				       "found",
			      62) == 0,
		      "%s", err.msg);
	json_decref(o);
}
END_TEST

START_TEST(test_not_nvml)
{
	char why[1024];
	json_t *o = json_pack("{s:s}", "library", "libm.so.6");
	const char *w = eb_sensor_unavailable("nvml", o, NULL, 100, why, sizeof(why));

	ck_assert_ptr_nonnull(w);
	ck_assert_str_eq(w, "libm.so.6 lacks nvmlInit_v2/nvmlDeviceGetHandleByIndex_v2 (driver too "
			    "old?)");
	json_decref(o);
}
END_TEST

/* --- through tests/fake_nvml.c (EB_TEST_FAKE_NVML), figures from a state file --------- */

static char eb_state[4200];

/* Writes the fake GPU's state (key=value lines) and points the fake at it. */
static void eb_fake(const char *lines)
{
	struct eb_err err;

	ck_assert_msg(eb_write_file(eb_state, lines, strlen(lines), &err) == 0, "%s", err.msg);
	setenv("EB_FAKE_NVML_STATE", eb_state, 1);
}

static void eb_fake_setup(void)
{
	char dir[4096];

	eb_test_tmpdir("nvml", dir, sizeof(dir));
	snprintf(eb_state, sizeof(eb_state), "%s/state", dir);
}

/* Opens nvml on the fake with extra options (JSON members after "library", or ""). */
static struct eb_sensor *eb_fake_open(const char *more)
{
	char opts[8192];

	snprintf(opts, sizeof(opts), "{\"library\": \"%s\"%s%s}", EB_TEST_FAKE_NVML,
		 more[0] ? ", " : "", more);
	return eb_st_open("nvml", opts, NULL, 100);
}

static const char eb_full[] = "name=NVIDIA GeForce RTX 3090\ndriver=550.54.14\n"
			      "energy_mj=1000000\npower_mw=248000\ninstant_mw=251500\n"
			      "mem_used=9000000000\nprocs=4242:1000,77:5,4242:500\n";

/* Every figure read as NVML gives it; the counter's watts are its mJ over the read gap. */
START_TEST(test_readings)
{
	struct eb_sensor_reading r[EB_SENSOR_READINGS_MAX];
	const struct eb_sensor_reading *x;
	struct eb_sensor *s;
	struct eb_err err;
	json_t *d = json_object();
	uint64_t t;
	size_t n;

	eb_fake_setup();
	eb_fake(eb_full);
	s = eb_fake_open("\"pid\": 4242");
	t = eb_clock_ns();
	ck_assert_msg(eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, &err) == 0, "%s",
		      err.msg);
	ck_assert_uint_eq(n, 5);
	x = eb_st_rail(r, n, "gpu0.energy");
	ck_assert_double_eq(x->value, 0); /* no energy since open */
	ck_assert_uint_eq(x->energy_uj, 0);
	ck_assert_uint_eq(x->flags, EB_RAIL_COUNTER | EB_RAIL_TOTAL);
	x = eb_st_rail(r, n, "gpu0.instant");
	ck_assert_double_eq(x->value, 251.5);
	ck_assert_uint_eq(x->flags, EB_RAIL_NOSUM);
	x = eb_st_rail(r, n, "gpu0");
	ck_assert_double_eq(x->value, 248.0);
	ck_assert_uint_eq(x->flags, EB_RAIL_AVERAGED | EB_RAIL_NOSUM);
	x = eb_st_rail(r, n, "gpu0.mem_used");
	ck_assert_double_eq(x->value, 9000000000.0);
	ck_assert_uint_eq(x->flags, EB_RAIL_BYTES);
	/* the pid's two contexts, not the other process's */
	ck_assert_double_eq(eb_st_rail(r, n, "gpu0.mem_proc")->value, 1500.0);

	/* 5000 mJ in 20 ms: 250 W; the counter's energy since open in µJ */
	eb_fake("energy_mj=1005000\npower_mw=248000\ninstant_mw=251500\nmem_used=1\n"
		"procs=4242:7\n");
	t += 20000000ull;
	ck_assert_msg(eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, &err) == 0, "%s",
		      err.msg);
	x = eb_st_rail(r, n, "gpu0.energy");
	ck_assert_double_eq(x->value, 250.0);
	ck_assert_uint_eq(x->energy_uj, 5000000ull);
	/* per-process memory at most every process_every_ms (1000 by default): not this time */
	ck_assert_uint_eq(n, 4);

	ck_assert_int_eq(eb_sensor_describe(s, d, &err), 0);
	ck_assert_str_eq(json_string_value(json_object_get(d, "gpu")), "NVIDIA GeForce RTX 3090");
	ck_assert_str_eq(json_string_value(json_object_get(d, "driver")), "550.54.14");
	ck_assert_str_eq(json_string_value(json_object_get(d, "total")), "energy");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "memory_pid")), 4242);
	json_decref(d);
	eb_sensor_close(s);
}
END_TEST

/*
 * The total: the asked figure when the GPU has it, else energy, instant, average in that
 * order; the chosen rail alone is flagged total.
 */
START_TEST(test_total_fallback)
{
	static const struct {
		const char *state, *want_total, *total_rail;
		size_t n;
	} cases[] = {
		/* no energy counter (pre-Volta): instant */
		{ "energy_ret=3\npower_mw=100000\ninstant_mw=99000\n", "instant", "gpu0.instant", 3 },
		/* neither: the 1 s average */
		{ "energy_ret=3\ninstant_ret=3\npower_mw=100000\n", "average", "gpu0", 2 },
	};
	struct eb_sensor_reading r[EB_SENSOR_READINGS_MAX];
	struct eb_err err;

	eb_fake_setup();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct eb_sensor *s;
		json_t *d = json_object();
		uint64_t t = eb_clock_ns();
		size_t n;

		eb_fake(cases[i].state);
		s = eb_fake_open("\"process_every_ms\": 0");
		ck_assert_int_eq(eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, &err), 0);
		ck_assert_uint_eq(n, cases[i].n); /* + gpu0.mem_used */
		for (size_t k = 0; k < n; k++)
			ck_assert_msg(!(r[k].flags & EB_RAIL_TOTAL) ==
					      !!strcmp(r[k].rail, cases[i].total_rail),
				      "case %zu: %s flags %u", i, r[k].rail, r[k].flags);
		ck_assert_int_eq(eb_sensor_describe(s, d, &err), 0);
		ck_assert_str_eq(json_string_value(json_object_get(d, "total")),
				 cases[i].want_total);
		json_decref(d);
		eb_sensor_close(s);
	}
	/* asked for the average while the counter works: the average */
	{
		struct eb_sensor *s;
		uint64_t t = eb_clock_ns();
		size_t n;

		eb_fake(eb_full);
		s = eb_fake_open("\"total\": \"average\", \"memory\": false, \"process_every_ms\": 0");
		ck_assert_int_eq(eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, &err), 0);
		ck_assert_uint_eq(n, 3);
		ck_assert_uint_eq(eb_st_rail(r, n, "gpu0")->flags, EB_RAIL_AVERAGED | EB_RAIL_TOTAL);
		ck_assert_uint_eq(eb_st_rail(r, n, "gpu0.energy")->flags,
				  EB_RAIL_COUNTER | EB_RAIL_NOSUM);
		eb_sensor_close(s);
	}
}
END_TEST

/* A GPU failing mid-run: the read fails with NVML's own words, so the sampler can say so. */
START_TEST(test_read_errors)
{
	static const struct {
		const char *state, *want;
	} cases[] = {
		{ "energy_mj=5\nenergy_ret=15\n", "nvmlDeviceGetTotalEnergyConsumption: GPU is lost" },
		{ "energy_mj=5\ninstant_ret=15\n", "nvmlDeviceGetFieldValues(POWER_INSTANT) failed" },
		{ "energy_mj=5\npower_ret=15\n", "nvmlDeviceGetPowerUsage: GPU is lost" },
		{ "energy_mj=5\nmem_ret=999\n", "nvmlDeviceGetMemoryInfo: Unknown Error" },
	};
	struct eb_sensor_reading r[EB_SENSOR_READINGS_MAX];
	struct eb_err err;

	eb_fake_setup();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct eb_sensor *s;
		uint64_t t = eb_clock_ns();
		size_t n;

		eb_fake("energy_mj=5\n");
		s = eb_fake_open("\"process_every_ms\": 0");
		eb_fake(cases[i].state);
		ck_assert_int_eq(eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, &err), EB_EIO);
		ck_assert_str_eq(err.msg, cases[i].want);
		eb_sensor_close(s);
	}
}
END_TEST

/* Why NVML cannot run: the driver's own answer, the GPU count. */
START_TEST(test_fake_unavailable)
{
	static const struct {
		const char *state, *opts, *want;
	} cases[] = {
		{ "init=9\n", "", "nvmlInit_v2 failed: Driver Not Loaded" },
		{ "count=0\n", "", "no GPU 0 (NVML sees 0)" },
		{ "count=1\n", ", \"device\": 1", "no GPU 1 (NVML sees 1)" },
		{ "count=2\n", ", \"device\": 1", NULL },
		{ "mem_ret=3\npower_ret=3\ninstant_ret=3\nenergy_ret=3\n", ", \"memory\": false", NULL },
	};
	char why[1024], opts[8192];

	eb_fake_setup();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *o;
		const char *w;

		snprintf(opts, sizeof(opts), "{\"library\": \"%s\"%s}", EB_TEST_FAKE_NVML,
			 cases[i].opts);
		o = json_loads(opts, 0, NULL);
		eb_fake(cases[i].state);
		w = eb_sensor_unavailable("nvml", o, NULL, 100, why, sizeof(why));
		if (cases[i].want)
			ck_assert_msg(w && strcmp(w, cases[i].want) == 0, "case %zu: %s", i,
				      w ? w : "(available)");
		else
			ck_assert_msg(w == NULL, "case %zu: %s", i, w);
		json_decref(o);
	}
	/* loaded, but no figure at all: open says so */
	{
		struct eb_sensor *s = NULL;
		struct eb_err err;
		json_t *o;

		snprintf(opts, sizeof(opts), "{\"library\": \"%s\", \"memory\": false}",
			 EB_TEST_FAKE_NVML);
		o = json_loads(opts, 0, NULL);
		eb_fake("power_ret=3\ninstant_ret=3\nenergy_ret=3\n");
		ck_assert_int_eq(eb_sensor_open(&s, "nvml", o, NULL, 100, &err), EB_EUNSUPPORTED);
		ck_assert_str_eq(err.msg, "sensor 'nvml': GPU 0 reports neither power nor memory");
		ck_assert_ptr_null(s);
		json_decref(o);
	}
}
END_TEST

/* `edgebench sensors --config` opens the fake as it would the driver and prints its rails. */
START_TEST(test_sensors_cli)
{
	char dir[4096], cfg[4300], text[8192], *out = NULL;
	struct eb_err err;
	int rc;

	eb_fake_setup();
	eb_fake(eb_full);
	eb_test_tmpdir("nvml-cli", dir, sizeof(dir));
	snprintf(cfg, sizeof(cfg), "%s/sensors.json", dir);
	snprintf(text, sizeof(text),
		 "{ \"sensors\": [ { \"kind\": \"nvml\", \"options\": { \"library\": \"%s\", "
		 "\"pid\": 4242, \"process_every_ms\": 1 } } ] }\n",
		 EB_TEST_FAKE_NVML);
	ck_assert_msg(eb_write_file(cfg, text, strlen(text), &err) == 0, "%s", err.msg);
	{
		const char *argv[] = { "edgebench", "sensors", "--json", "--config", cfg, NULL };

		rc = eb_test_run(argv, &out);
	}
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	{
		json_t *j = json_loads(out, 0, NULL), *nv = NULL, *rails, *v;
		size_t i;
		const char *name;
		double want[] = { 251.5, 248.0, 9000000000.0, 1500.0 };
		const char *rail[] = { "gpu0.instant", "gpu0", "gpu0.mem_used", "gpu0.mem_proc" };

		ck_assert_msg(j != NULL, "not JSON: %.300s", out);
		json_array_foreach(json_object_get(j, "sensors"), i, v)
			if (strcmp(json_string_value(json_object_get(v, "kind")), "nvml") == 0)
				nv = v;
		ck_assert_ptr_nonnull(nv);
		ck_assert_msg(json_is_null(json_object_get(nv, "reason")), "%.300s", out);
		rails = json_object_get(nv, "readings");
		for (size_t k = 0; k < 4; k++) {
			int found = 0;

			json_array_foreach(rails, i, v) {
				name = json_string_value(json_object_get(v, "rail"));
				if (name && strcmp(name, rail[k]) == 0) {
					ck_assert_double_eq(json_number_value(json_object_get(v, "value")),
							    want[k]);
					found = 1;
				}
			}
			ck_assert_msg(found, "no rail %s", rail[k]);
		}
		json_decref(j);
	}
	free(out);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sensor_nvml");
	TCase *tc = tcase_create("nvml");

	tcase_add_test(tc, test_no_library);
	tcase_add_test(tc, test_not_nvml);
	tcase_add_test(tc, test_readings);
	tcase_add_test(tc, test_total_fallback);
	tcase_add_test(tc, test_read_errors);
	tcase_add_test(tc, test_fake_unavailable);
	tcase_add_test(tc, test_sensors_cli);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(suite());
}
