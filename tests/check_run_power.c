/* ctest: labels=integration,models,serial timeout=600 */
/* check_run_power.c: `edgebench run` with sensors: energy per request from real samples, device state, a sensor that dies. */
#include "eb_util.h"
#include "testutil.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char eb_dir[4096];

/*
 * A latency config on the tiny q8_0 model with `sensors` and `power` as given (JSON
 * fragments) into the temp dir; returns its path.
 */
static const char *eb_config(const char *name, const char *sensors, const char *power,
			     char *buf, size_t n)
{
	char text[8192];
	struct eb_err err;
	int len;

	len = snprintf(text, sizeof(text),
		       "{\n"
		       "  \"name\": \"%s\",\n"
		       "  \"device\": { \"name\": \"test\" },\n"
		       "  \"targets\": [ { \"id\": \"cpu\", \"adapter\": \"llamacpp\",\n"
		       "                 \"options\": { \"threads\": 1, \"n_ctx\": 256 } } ],\n"
		       "  \"models\": [ { \"id\": \"tiny\", \"variants\": [\n"
		       "    { \"quant\": \"q8_0\", \"file\": \"%s/tiny-q8_0.gguf\" } ] } ],\n"
		       "  \"workloads\": { \"latency\": { \"prompt_tokens\": [32], \"gen_tokens\": 24,\n"
		       "                                \"warmup\": 1, \"repetitions\": 4 } },\n"
		       "  \"sensors\": %s,\n"
		       "  \"power\": %s\n"
		       "}\n",
		       name, eb_test_models_dir(), sensors, power);
	ck_assert_int_lt(len, (int)sizeof(text));
	snprintf(buf, n, "%s/%s.json", eb_dir, name);
	ck_assert_msg(eb_write_file(buf, text, (size_t)len, &err) == 0, "%s", err.msg);
	return buf;
}

static void eb_run(const char *cfg, const char *db, int want_rc, char **out)
{
	const char *argv[] = { "edgebench", "run", cfg, "--db", db, NULL };
	char *o = NULL;
	int rc = eb_test_run(argv, &o);

	ck_assert_msg(rc == want_rc, "exit %d (want %d): %s", rc, want_rc, o ? o : "");
	if (out)
		*out = o;
	else
		free(o);
}

static void eb_setup(void)
{
	eb_test_tmpdir("run_power", eb_dir, sizeof(eb_dir));
}

/* The fixture hwmon tree (5 W on ina226 power1, 12 V x 0.5 A on VDD_CORE), a meter printing a
 * constant 2.5 W every 10 ms and a sensor that cannot run: every figure is known exactly. */
START_TEST(energy_from_constant_sensors)
{
	char cfgp[4096], db[4096], root[4096], meter[4096], sensors[4096];
	sqlite3 *db3;
	char *out = NULL, *s;
	double n_req, want;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_test_data("sysfs/generic", root, sizeof(root));
	eb_test_data("bin/fake-meter", meter, sizeof(meter));
	snprintf(sensors, sizeof(sensors),
		 "[ { \"kind\": \"hwmon\", \"options\": { \"root\": \"%s\" } },\n"
		 "    { \"kind\": \"cmd\", \"options\": { \"name\": \"meter\", \"unit\": \"W\",\n"
		 "      \"argv\": [\"%s\", \"--interval\", \"10\", \"--loop\", \"2.5\"] } },\n"
		 "    { \"kind\": \"hwmon\", \"options\": { \"name\": \"gone\", \"root\": \"%s/none\" } } ]",
		 root, meter, eb_dir);
	eb_config("pw", sensors, "{ \"interval_ms\": 10, \"idle_s\": 0.3 }", cfgp, sizeof(cfgp));
	snprintf(db, sizeof(db), "%s/pw.db", eb_dir);
	eb_run(cfgp, db, 0, &out);
	/* said once before the cells: the sensor that cannot run and why */
	ck_assert_msg(strstr(out, "edgebench: power: sensor 'hwmon' unavailable here: ") != NULL,
		      "%s", out);
	free(out);
	db3 = eb_test_db_open(db);
	ck_assert_str_eq((s = eb_test_qs(db3, "SELECT status FROM cells")), "ok");
	free(s);

	/* raw samples: every rail, its unit, on the cell's clock, values as the sensors read */
	ck_assert_double_eq(eb_test_q(db3, "SELECT count(DISTINCT sensor || '/' || rail) FROM "
					   "power_samples"),
			    3);
	ck_assert_double_eq(eb_test_q(db3, "SELECT count(*) FROM power_samples WHERE unit != 'W' "
					   "OR watts IS NULL OR watts != value OR t_ns < 0"),
			    0);
	ck_assert_double_eq(eb_test_q(db3, "SELECT min(watts) FROM power_samples WHERE sensor = "
					   "'meter'"),
			    2.5);
	ck_assert_double_eq(eb_test_q(db3, "SELECT max(watts) FROM power_samples WHERE sensor = "
					   "'meter'"),
			    2.5);
	ck_assert_double_eq(eb_test_q(db3, "SELECT avg(watts) FROM power_samples WHERE rail = "
					   "'VDD_CORE'"),
			    6.0);
	/* hundreds of samples at 10 ms over the idle baseline and four requests */
	ck_assert_double_gt(eb_test_q(db3, "SELECT count(*) FROM power_samples WHERE sensor = "
					   "'meter'"),
			    30);

	/* every request has its send time on the samples' clock, inside the sampled span */
	ck_assert_double_eq(eb_test_q(db3, "SELECT count(*) FROM requests WHERE t_send_ns IS NULL"),
			    0);
	ck_assert_double_eq(
		eb_test_q(db3, "SELECT count(*) FROM requests r WHERE r.t_send_ns < (SELECT "
			       "min(t_ns) FROM power_samples) OR r.t_send_ns + r.e2e_ns > (SELECT "
			       "max(t_ns) FROM power_samples)"),
		0);
	/* ... and after the idle baseline (0.3 s) */
	ck_assert_double_ge(eb_test_q(db3, "SELECT min(t_send_ns) FROM requests"), 0.3e9);

	/* constant power: window energy = P x window length, exactly; 4 measured requests */
	n_req = eb_test_q(db3, "SELECT count(*) FROM requests WHERE warmup = 0");
	ck_assert_double_eq(n_req, 4);
	want = eb_test_q(db3, "SELECT avg(2.5 * decode_ns / 1e9) FROM requests WHERE warmup = 0");
	ck_assert_double_eq_tol(eb_test_q(db3, "SELECT mean FROM metrics WHERE name = "
					      "'energy_decode_j:meter/meter'"),
				want, want * 1e-9);
	want = eb_test_q(db3, "SELECT avg(2.5 * ttft_ns / 1e9) FROM requests WHERE warmup = 0");
	ck_assert_double_eq_tol(eb_test_q(db3, "SELECT mean FROM metrics WHERE name = "
					      "'energy_prefill_j:meter/meter'"),
				want, want * 1e-9);
	want = eb_test_q(db3, "SELECT avg(2.5 * decode_ns / 1e9 / (n_out - 1)) FROM requests "
			      "WHERE warmup = 0");
	ck_assert_double_eq_tol(eb_test_q(db3, "SELECT mean FROM metrics WHERE name = "
					      "'j_per_token:meter/meter'"),
				want, want * 1e-9);
	/* the all-sensors total: 5 + 6 + 2.5 W, summed from rails (and said so) */
	want = eb_test_q(db3, "SELECT avg(13.5 * decode_ns / 1e9) FROM requests WHERE warmup = 0");
	ck_assert_double_eq_tol(eb_test_q(db3, "SELECT mean FROM metrics WHERE name = "
					      "'energy_decode_j'"),
				want, want * 1e-9);
	ck_assert_double_eq_tol(eb_test_q(db3, "SELECT mean FROM metrics WHERE name = "
					      "'power_avg_w'"),
				13.5, 1e-9);
	ck_assert_double_eq_tol(eb_test_q(db3, "SELECT max FROM metrics WHERE name = "
					      "'power_peak_w:hwmon/ina226.power1'"),
				5.0, 1e-12);
	ck_assert_double_eq(eb_test_q(db3, "SELECT n FROM metrics WHERE name = 'energy_decode_j'"),
			    4);
	/* the idle baseline reads the same constant power, so net energy is zero */
	ck_assert_double_eq_tol(eb_test_q(db3, "SELECT mean FROM metrics WHERE name = "
					      "'idle_w:meter/meter'"),
				2.5, 1e-12);
	ck_assert_double_eq_tol(eb_test_q(db3, "SELECT mean FROM metrics WHERE name = 'idle_w'"),
				13.5, 1e-9);
	ck_assert_double_lt(fabs(eb_test_q(db3, "SELECT mean FROM metrics WHERE name = "
						"'energy_decode_net_j'")),
			    1e-9);
	/* the sampler's own cost is on the record */
	ck_assert_double_ge(eb_test_q(db3, "SELECT mean FROM metrics WHERE name = "
					   "'sampler_cpu_pct'"),
			    0);

	/* warnings: the unavailable sensor, the summed total; windows fully covered */
	s = eb_test_qs(db3, "SELECT warnings_json FROM cells");
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(strstr(s, "power: sensor 'hwmon' unavailable: ") != NULL, "%s", s);
	ck_assert_msg(strstr(s, "the total is a sum of rails or sensors") != NULL, "%s", s);
	ck_assert_msg(strstr(s, "partly covered") == NULL, "%s", s);
	free(s);
	/* what was sampled and the device state travel with the cell */
	s = eb_test_qs(db3, "SELECT json_extract(backend_json, '$.power.interval_ms') || ' ' || "
			    "json_array_length(backend_json, '$.power.sensors') || ' ' || "
			    "json_type(backend_json, '$.device_state') FROM cells");
	ck_assert_str_eq(s, "10 2 object");
	free(s);
	eb_test_metrics_registered(db3);
	sqlite3_close(db3);

	/* the card report's average power is the run's figure, not a mean of idle samples */
	{
		const char *argv[] = { "edgebench", "report", "--db", db, "--layout", "card",
				       "--format", "csv", NULL };

		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		ck_assert_msg(strstr(out, "\naverage power,W,13.5\n") != NULL, "%s", out);
		free(out);
	}
	/* the power plot shades the four measured requests' prefill and decode windows */
	{
		char png[4096], gp[4096];
		const char *argv[] = { "edgebench", "plot", "--db", db, "--kind", "power",
				       "--out", png, NULL };
		char *text;
		size_t len;
		struct eb_err err;

		snprintf(png, sizeof(png), "%s/power.png", eb_dir);
		snprintf(gp, sizeof(gp), "%s/power.gp", eb_dir);
		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		free(out);
		ck_assert_msg(eb_read_file(gp, 1 << 20, &text, &len, &err) == 0, "%s", err.msg);
		{
			int rects = 0;

			for (const char *p = text; (p = strstr(p, " rect from ")) != NULL; p++)
				rects++;
			ck_assert_msg(rects == 8, "%d windows shaded:\n%s", rects, text);
		}
		free(text);
	}
}
END_TEST

/*
 * An energy counter (NVML's, from the stand-in library, counting a GPU at a constant 250 W
 * on the samples' clock): the run's energy and power come from counter differences and
 * agree with 250 W x each window. The counter ticks in whole mJ and is read a few
 * microseconds after the sample's time stamp, hence the 2% tolerance.
 */
START_TEST(energy_from_counter)
{
	static const char gpu[] = "name=fake GPU\nwatts=250\npower_ret=3\ninstant_ret=3\n";
	char cfgp[4096], db[4096], state[4200], sensors[4096];
	struct eb_err err;
	sqlite3 *db3;
	char *s;
	double want;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	snprintf(state, sizeof(state), "%s/nvml-state", eb_dir);
	ck_assert_msg(eb_write_file(state, gpu, sizeof(gpu) - 1, &err) == 0, "%s", err.msg);
	setenv("EB_FAKE_NVML_STATE", state, 1);
	snprintf(sensors, sizeof(sensors),
		 "[ { \"kind\": \"nvml\", \"options\": { \"library\": \"%s\", \"memory\": false,"
		 " \"process_every_ms\": 0 } } ]",
		 EB_TEST_FAKE_NVML);
	eb_config("counter", sensors, "{ \"interval_ms\": 10, \"idle_s\": 0.2 }", cfgp,
		  sizeof(cfgp));
	snprintf(db, sizeof(db), "%s/counter.db", eb_dir);
	eb_run(cfgp, db, 0, NULL);
	db3 = eb_test_db_open(db);
	ck_assert_str_eq((s = eb_test_qs(db3, "SELECT status FROM cells")), "ok");
	free(s);
	/* the counter's rail is the sensor's total; its samples carry the counter */
	ck_assert_double_gt(eb_test_q(db3, "SELECT count(*) FROM power_samples WHERE rail = "
					   "'gpu0.energy' AND energy_uj IS NOT NULL"),
			    20);
	ck_assert_double_eq_tol(eb_test_q(db3, "SELECT mean FROM metrics WHERE name = "
					      "'power_avg_w:nvml/gpu0.energy'"),
				250.0, 5.0);
	ck_assert_double_eq_tol(eb_test_q(db3, "SELECT mean FROM metrics WHERE name = "
					      "'idle_w:nvml/gpu0.energy'"),
				250.0, 5.0);
	want = eb_test_q(db3, "SELECT avg(250 * e2e_ns / 1e9) FROM requests WHERE warmup = 0");
	ck_assert_double_eq_tol(eb_test_q(db3, "SELECT mean FROM metrics WHERE name = "
					      "'energy_request_j'"),
				want, want * 0.02);
	want = eb_test_q(db3, "SELECT avg(250 * decode_ns / 1e9) FROM requests WHERE warmup = 0");
	ck_assert_double_eq_tol(eb_test_q(db3, "SELECT mean FROM metrics WHERE name = "
					      "'energy_decode_j:nvml/gpu0.energy'"),
				want, want * 0.02);
	/* the GPU's name and the chosen figure travel with the cell */
	s = eb_test_qs(db3, "SELECT json_extract(backend_json, '$.power.sensors[0].gpu') || ' ' || "
			    "json_extract(backend_json, '$.power.sensors[0].total') FROM cells");
	ck_assert_str_eq(s, "fake GPU energy");
	free(s);
	sqlite3_close(db3);
}
END_TEST

/* A meter that exits after a few readings: sampling of it stops, the cell keeps its results
 * and carries a warning, the other sensor goes on. */
START_TEST(sensor_dies_mid_run)
{
	char cfgp[4096], db[4096], root[4096], meter[4096], sensors[4096];
	sqlite3 *db3;
	char *s;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_test_data("sysfs/generic", root, sizeof(root));
	eb_test_data("bin/fake-meter", meter, sizeof(meter));
	snprintf(sensors, sizeof(sensors),
		 "[ { \"kind\": \"hwmon\", \"options\": { \"root\": \"%s\" } },\n"
		 "    { \"kind\": \"cmd\", \"options\": { \"name\": \"meter\", \"unit\": \"W\",\n"
		 "      \"argv\": [\"%s\", \"--interval\", \"10\", \"--exit\", \"3\", \"1\", \"1\", \"1\"] } } ]",
		 root, meter);
	eb_config("dies", sensors, "{ \"interval_ms\": 10, \"idle_s\": 0.2 }", cfgp, sizeof(cfgp));
	snprintf(db, sizeof(db), "%s/dies.db", eb_dir);
	eb_run(cfgp, db, 0, NULL);
	db3 = eb_test_db_open(db);
	ck_assert_str_eq((s = eb_test_qs(db3, "SELECT status FROM cells")), "ok");
	free(s);
	ck_assert_double_eq(eb_test_q(db3, "SELECT n FROM metrics WHERE name = 'decode_tps'"), 4);
	s = eb_test_qs(db3, "SELECT warnings_json FROM cells");
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(strstr(s, "power: sensor 'meter' stopped at t=") != NULL, "%s", s);
	free(s);
	/* the meter's three readings are kept; hwmon went on to the end */
	{
		double n = eb_test_q(db3, "SELECT count(*) FROM power_samples WHERE sensor = "
					  "'meter'");

		/* lines the meter printed before sampling started are dropped (late stamps) */
		ck_assert_msg(n >= 1 && n <= 3, "%g meter samples", n);
	}
	ck_assert_double_ge(eb_test_q(db3, "SELECT max(t_ns) FROM power_samples WHERE sensor = "
					   "'hwmon'"),
			    eb_test_q(db3, "SELECT max(t_send_ns + e2e_ns) FROM requests"));
	ck_assert_double_eq_tol(eb_test_q(db3, "SELECT mean FROM metrics WHERE name = "
					      "'power_avg_w:hwmon'"),
				11.0, 1e-9);
	sqlite3_close(db3);
}
END_TEST

/* store_samples false: the figures without the raw samples; no sensor at all: no figures. */
START_TEST(samples_optional_and_no_sensor)
{
	char cfgp[4096], db[4096], root[4096], sensors[4096];
	sqlite3 *db3;
	char *s;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_test_data("sysfs/generic", root, sizeof(root));
	snprintf(sensors, sizeof(sensors), "[ { \"kind\": \"hwmon\", \"options\": { \"root\": \"%s\" } } ]",
		 root);
	eb_config("nosamples", sensors, "{ \"interval_ms\": 10, \"idle_s\": 0, \"store_samples\": false }",
		  cfgp, sizeof(cfgp));
	snprintf(db, sizeof(db), "%s/nosamples.db", eb_dir);
	eb_run(cfgp, db, 0, NULL);
	db3 = eb_test_db_open(db);
	ck_assert_double_eq(eb_test_q(db3, "SELECT count(*) FROM power_samples"), 0);
	ck_assert_double_eq_tol(eb_test_q(db3, "SELECT mean FROM metrics WHERE name = "
					      "'power_avg_w'"),
				11.0, 1e-9);
	/* no idle baseline asked: no idle or net figures */
	ck_assert_double_eq(eb_test_q(db3, "SELECT count(*) FROM metrics WHERE name LIKE 'idle_w%%' "
					   "OR name LIKE '%%net%%'"),
			    0);
	sqlite3_close(db3);

	snprintf(sensors, sizeof(sensors),
		 "[ { \"kind\": \"hwmon\", \"options\": { \"root\": \"%s/none\" } } ]", eb_dir);
	eb_config("nosensor", sensors, "{ \"idle_s\": 1 }", cfgp, sizeof(cfgp));
	snprintf(db, sizeof(db), "%s/nosensor.db", eb_dir);
	{
		char *out = NULL;

		eb_run(cfgp, db, 0, &out);
		ck_assert_msg(strstr(out, "edgebench: power: no configured sensor can run here") !=
				      NULL,
			      "%s", out);
		free(out);
	}
	db3 = eb_test_db_open(db);
	ck_assert_str_eq((s = eb_test_qs(db3, "SELECT status FROM cells")), "ok");
	free(s);
	ck_assert_double_eq(eb_test_q(db3, "SELECT count(*) FROM metrics WHERE name LIKE "
					   "'%%power%%' OR name LIKE '%%energy%%'"),
			    0);
	ck_assert_double_eq(eb_test_q(db3, "SELECT count(*) FROM requests WHERE t_send_ns IS NOT "
					   "NULL"),
			    0);
	sqlite3_close(db3);
}
END_TEST

/* The resident memory of a server process on this host (here an idle child), by pid. */
START_TEST(server_process_memory)
{
	char cfgp[4096], db[4096], sensors[512];
	sqlite3 *db3;
	pid_t pid;
	double kb;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execlp("sleep", "sleep", "120", (char *)NULL);
		_exit(127);
	}
	usleep(200000);
	snprintf(sensors, sizeof(sensors),
		 "[ { \"kind\": \"proc\", \"options\": { \"name\": \"server\", \"pid\": %d } } ]",
		 (int)pid);
	eb_config("procmem", sensors, "{ \"interval_ms\": 10, \"idle_s\": 0 }", cfgp, sizeof(cfgp));
	snprintf(db, sizeof(db), "%s/procmem.db", eb_dir);
	eb_run(cfgp, db, 0, NULL);
	kb = eb_test_vmrss_kb((int)pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	db3 = eb_test_db_open(db);
	/* an idle process: its peak over the requests is what /proc says now */
	ck_assert_double_eq_tol(eb_test_q(db3, "SELECT mean FROM metrics WHERE name = "
					      "'mem_peak_mb:server/rss'"),
				kb / 1024, 1e-12);
	ck_assert_double_eq(eb_test_q(db3, "SELECT count(*) FROM power_samples WHERE unit = 'B' "
					   "AND watts IS NULL AND value = %.17g",
				      kb * 1024),
			    eb_test_q(db3, "SELECT count(*) FROM power_samples"));
	/* memory only: no power figures */
	ck_assert_double_eq(eb_test_q(db3, "SELECT count(*) FROM metrics WHERE name LIKE "
					   "'energy%%'"),
			    0);
	sqlite3_close(db3);
}
END_TEST

/* Cool-down before each cell: a fixed pause, then a thermal zone that stays too warm (the
 * cell runs after the timeout, with a warning); the device state is read under the root. */
START_TEST(cooldown_before_cells)
{
	char cfgp[4096], db[4096], root[4096], power[4096];
	sqlite3 *db3;
	char *s;

	EB_TEST_SKIP_IF(eb_test_lacks_llama());
	eb_test_data("sysfs/devstate", root, sizeof(root));
	snprintf(power, sizeof(power),
		 "{ \"sysfs_root\": \"%s\", \"cooldown_s\": 0.2, \"cooldown_zone\": \"tj-thermal\",\n"
		 "  \"cooldown_below_c\": 40, \"cooldown_timeout_s\": 0.3 }",
		 root);
	eb_config("cool", "[]", power, cfgp, sizeof(cfgp));
	snprintf(db, sizeof(db), "%s/cool.db", eb_dir);
	eb_run(cfgp, db, 0, NULL);
	db3 = eb_test_db_open(db);
	ck_assert_str_eq((s = eb_test_qs(db3, "SELECT status FROM cells")), "ok");
	free(s);
	/* 0.2 s pause + at least 0.3 s waiting on the zone */
	ck_assert_double_ge(eb_test_q(db3, "SELECT duration_s FROM cells"), 0.5);
	s = eb_test_qs(db3, "SELECT warnings_json FROM cells");
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(strstr(s, "cool-down: thermal zone 'tj-thermal' still at 47.3 C after ") &&
			      strstr(s, "(waiting for < 40.0 C)"),
		      "%s", s);
	free(s);
	/* the zones as the fixture has them (-256 C = no sensor: left out) */
	s = eb_test_qs(db3, "SELECT json_extract(backend_json, '$.device_state.thermal[0].type') || "
			    "' ' || json_extract(backend_json, '$.device_state.thermal[0].temp_c') || "
			    "' ' || json_array_length(backend_json, '$.device_state.thermal') FROM cells");
	ck_assert_str_eq(s, "cpu-thermal 45.5 2");
	free(s);
	sqlite3_close(db3);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("run_power");
	TCase *tc = tcase_create("run_power");

	tcase_add_checked_fixture(tc, eb_setup, NULL);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, energy_from_constant_sensors);
	tcase_add_test(tc, energy_from_counter);
	tcase_add_test(tc, sensor_dies_mid_run);
	tcase_add_test(tc, samples_optional_and_no_sensor);
	tcase_add_test(tc, server_process_memory);
	tcase_add_test(tc, cooldown_before_cells);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
