/* check_sampler.c: the sampler thread over fixture sensors, energy per request, idle, a sensor that disappears. */
/* ctest: labels=unit timeout=60 */
#include "sensortest.h"

#include "metric.h"
#include "power.h"
#include "sampler.h"

#include <math.h>
#include <unistd.h>

#define TOL 1e-9
#define MS 1000000ull
#define SEC 1000000000ull

static struct eb_sampler *new_sampler(unsigned interval_ms, size_t max_samples)
{
	struct eb_sampler_opts o = { .interval_ms = interval_ms, .max_samples = max_samples };
	struct eb_sampler *s = NULL;
	struct eb_err err;

	ck_assert_int_eq(eb_sampler_new(&s, &o, &err), 0);
	return s;
}

static void add(struct eb_sampler *s, struct eb_sensor *sensor)
{
	struct eb_err err;

	ck_assert_msg(eb_sampler_add(s, sensor, &err) == 0, "%s", err.msg);
}

/* Index of rail `name` of sensor `sensor` in the trace. */
static size_t rail_of(const struct eb_trace *t, const char *sensor, const char *name)
{
	for (size_t i = 0; i < t->n_rails; i++)
		if (strcmp(t->rails[i].name, name) == 0 &&
		    strcmp(t->sensors[t->rails[i].sensor].name, sensor) == 0)
			return i;
	ck_abort_msg("no rail %s/%s", sensor, name);
	return 0;
}

/* First and last stamp of a rail's samples (never going back); returns the count. */
static size_t span(const struct eb_trace *t, size_t rail, uint64_t *first, uint64_t *last)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++) {
		if (t->samples[i].rail != rail)
			continue;
		if (n == 0)
			*first = t->samples[i].t_ns;
		else /* lines that came in one read share a stamp */
			ck_assert_uint_ge(t->samples[i].t_ns, *last);
		*last = t->samples[i].t_ns;
		n++;
	}
	return n;
}

START_TEST(test_constant_power_exact_energy)
{
	char root[4096];
	struct eb_sampler *s = new_sampler(10, 0);
	const struct eb_trace *t;
	struct eb_power_idle idle;
	struct eb_power_request rq;
	struct eb_sampler_stats st;
	struct eb_err err;
	uint64_t t0, t1, first, last, ts, tf, tl;
	size_t a, b;
	double pre, dec;

	add(s, eb_st_open("hwmon", NULL, eb_test_data("sysfs/generic", root, sizeof(root)), 10));
	ck_assert_int_eq(eb_sampler_run_for(s, 0.3, NULL, &t0, &t1, &err), 0);
	ck_assert(!eb_sampler_running(s));
	t = eb_sampler_trace(s);
	ck_assert_uint_eq(t->n_sensors, 1);
	ck_assert_uint_eq(t->n_rails, 2);
	a = rail_of(t, "hwmon", "ina226.power1");
	b = rail_of(t, "hwmon", "VDD_CORE");
	ck_assert_uint_ge(span(t, a, &first, &last), 10);
	ck_assert_uint_ge(first, t0 - 200 * MS);
	ck_assert_uint_le(last, t1 + 100 * MS);
	eb_sampler_stats(s, &st);
	ck_assert_uint_ge(st.ticks, 10);
	ck_assert_uint_eq(st.samples, t->n);
	ck_assert(isfinite(st.cpu_pct) && st.cpu_pct >= 0);
	ck_assert_uint_eq(eb_sampler_n_warnings(s), 0);

	/* windows at arbitrary instants inside the sampled span */
	ts = first + 15 * MS + 123;
	tf = ts + 37 * MS + 4567;
	tl = last - 20 * MS;
	pre = (double)(tf - ts) / 1e9;
	dec = (double)(tl - tf) / 1e9;
	ck_assert_int_eq(eb_power_idle(t, first, first + 100 * MS, &idle, &err), 0);
	ck_assert_double_eq_tol(idle.rail_w[a], 5, TOL);
	ck_assert_double_eq_tol(idle.rail_w[b], 6, TOL);
	ck_assert_double_eq_tol(idle.sensor_w[0], 11, TOL);
	ck_assert_double_eq_tol(idle.total_w, 11, TOL);
	ck_assert_int_eq(eb_power_request(t, &idle, ts, tf, tl, 32, &rq, &err), 0);
	ck_assert_double_eq_tol(rq.rails[a].prefill.joules, 5 * pre, TOL);
	ck_assert_double_eq_tol(rq.rails[a].decode.joules, 5 * dec, TOL);
	ck_assert_double_eq_tol(rq.rails[b].prefill.joules, 6 * pre, TOL);
	ck_assert_double_eq_tol(rq.rails[b].decode.joules, 6 * dec, TOL);
	ck_assert_uint_eq(rq.n_total, 1);
	ck_assert_int_eq(rq.total.summed, 1); /* no input rail: the sum of the two */
	ck_assert_double_eq_tol(rq.total.prefill.joules, 11 * pre, TOL);
	ck_assert_double_eq_tol(rq.total.decode.joules, 11 * dec, TOL);
	ck_assert_double_eq_tol(rq.total.request.joules, 11 * (pre + dec), TOL);
	ck_assert_double_eq_tol(rq.total.decode.avg_w, 11, TOL);
	ck_assert_double_eq_tol(rq.total.decode.peak_w, 11, TOL);
	ck_assert_double_eq_tol(rq.total.decode.coverage, 1, TOL);
	ck_assert_double_eq_tol(rq.total.prefill.coverage, 1, TOL);
	ck_assert_double_eq_tol(rq.total.j_per_token, 11 * dec / 32, TOL);
	/* idle equals load here: nothing left net of it */
	ck_assert_double_eq_tol(rq.total.decode.net_j, 0, 1e-9);
	ck_assert_double_eq_tol(rq.total.j_per_token_net, 0, 1e-9);
	ck_assert_double_eq_tol(rq.total.idle_w, 11, TOL);
	eb_power_request_release(&rq);
	eb_power_idle_release(&idle);
	eb_sampler_free(s);
}
END_TEST

/* A trace built by hand, with known integrals. */
static void build_trace(struct eb_trace *t)
{
	size_t a = eb_trace_add_sensor(t, "board", "hwmon", 1);
	size_t b = eb_trace_add_sensor(t, "cpu", "rapl", 1);
	size_t vin = eb_trace_rail(t, a, "VDD_IN", "test", EB_RAIL_TOTAL);
	size_t gpu = eb_trace_rail(t, a, "VDD_GPU", "test", EB_RAIL_NOSUM);
	size_t ram = eb_trace_rail(t, a, "ram_used", "test", EB_RAIL_BYTES);
	size_t pkg = eb_trace_rail(t, b, "package-0", "test", EB_RAIL_COUNTER);
	size_t core = eb_trace_rail(t, b, "package-0/core", "test", EB_RAIL_COUNTER | EB_RAIL_NOSUM);
	/* board: 10 W up to 1.0 s, a step to 20 W there (equal stamps), 20 W to 3.0 s */
	static const double tt[] = { 0, 0.5, 1.0, 1.0, 1.5, 2.0, 2.5, 3.0 };
	static const double ww[] = { 10, 10, 10, 20, 20, 20, 20, 20 };
	/* cpu counter: 2 W over [0, 1], 4 W over [1, 3] */
	static const double ct[] = { 0, 1, 2, 3 };
	static const uint64_t cu[] = { 0, 2000000, 6000000, 10000000 };

	for (size_t i = 0; i < 8; i++) {
		uint64_t ns = SEC + (uint64_t)(tt[i] * 1e9);

		eb_trace_add(t, vin, ns, ww[i], 0);
		eb_trace_add(t, gpu, ns, 3, 0);
		eb_trace_add(t, ram, ns, tt[i] < 2 ? 1073741824.0 : 2147483648.0, 0);
	}
	for (size_t i = 0; i < 4; i++) {
		uint64_t ns = SEC + (uint64_t)(ct[i] * 1e9);

		eb_trace_add(t, pkg, ns, i ? (double)(cu[i] - cu[i - 1]) / 1e6 : 0, cu[i]);
		eb_trace_add(t, core, ns, 1, cu[i] / 2);
	}
}

static const struct eb_power_metric *metric(const struct eb_power_cell *pc, const char *name)
{
	for (size_t i = 0; i < eb_power_cell_n_metrics(pc); i++)
		if (strcmp(eb_power_cell_metric(pc, i)->name, name) == 0)
			return eb_power_cell_metric(pc, i);
	ck_abort_msg("no metric %s", name);
	return NULL;
}

START_TEST(test_synthetic_trace)
{
	struct eb_trace t;
	struct eb_power_idle idle;
	struct eb_power_request rq;
	struct eb_power_cell *pc;
	const struct eb_power_metric *m;
	struct eb_err err;
	size_t nw;
	int found;

	eb_trace_init(&t, 0);
	build_trace(&t);
	ck_assert_int_eq(eb_power_idle(&t, SEC, SEC + SEC / 2, &idle, &err), 0);
	ck_assert_double_eq_tol(idle.sensor_w[0], 10, TOL);
	ck_assert_double_eq_tol(idle.sensor_w[1], 2, TOL);
	ck_assert_double_eq_tol(idle.total_w, 12, TOL);
	ck_assert(isnan(idle.rail_w[2])); /* memory */

	ck_assert_int_eq(eb_power_request(&t, &idle, SEC + SEC / 2, 2 * SEC, 4 * SEC, 4, &rq, &err),
			 0);
	/* board: VDD_IN is the total; prefill 10 W x 0.5 s; decode 20 W x 2 s (the step is a
	 * zero-width edge at 1.0 s) */
	ck_assert_double_eq_tol(rq.sensors[0].prefill.joules, 5, TOL);
	ck_assert_double_eq_tol(rq.sensors[0].decode.joules, 40, TOL);
	ck_assert_double_eq_tol(rq.sensors[0].request.joules, 45, TOL);
	ck_assert_int_eq(rq.sensors[0].summed, 0);
	ck_assert_double_eq_tol(rq.sensors[0].decode.peak_w, 20, TOL);
	/* cpu: the package counter only (core is inside it) */
	ck_assert_double_eq_tol(rq.sensors[1].prefill.joules, 1, TOL);
	ck_assert_double_eq_tol(rq.sensors[1].decode.joules, 8, TOL);
	ck_assert_int_eq(rq.sensors[1].summed, 1);
	ck_assert_double_eq_tol(rq.sensors[1].decode.peak_w, 4, TOL);
	/* everything: both sensors, peaks added (an upper bound) */
	ck_assert_uint_eq(rq.n_total, 2);
	ck_assert_int_eq(rq.total.summed, 1);
	ck_assert_double_eq_tol(rq.total.prefill.joules, 6, TOL);
	ck_assert_double_eq_tol(rq.total.decode.joules, 48, TOL);
	ck_assert_double_eq_tol(rq.total.decode.avg_w, 24, TOL);
	ck_assert_double_eq_tol(rq.total.decode.peak_w, 24, TOL);
	ck_assert_double_eq_tol(rq.total.decode.net_j, 48 - 12 * 2, TOL);
	ck_assert_double_eq_tol(rq.total.j_per_token, 48.0 / 4, TOL);
	ck_assert_double_eq_tol(rq.total.j_per_token_net, 24.0 / 4, TOL);
	ck_assert_double_eq_tol(rq.rails[1].decode.joules, 6, TOL); /* VDD_GPU, 3 W */
	ck_assert_double_eq_tol(rq.mem_peak[2], 2147483648.0, TOL);
	ck_assert(isnan(rq.mem_peak[0]));
	eb_power_request_release(&rq);

	/* out of order */
	ck_assert_int_eq(eb_power_request(&t, NULL, 2 * SEC, SEC, 3 * SEC, 4, &rq, &err),
			 EB_EINVAL);
	eb_power_request_release(&rq);

	/* a cell of two requests, one running past the end of the samples (at 4 s) */
	ck_assert_int_eq(eb_power_cell_new(&pc, &t, &idle, &err), 0);
	ck_assert_int_eq(eb_power_cell_add(pc, SEC + SEC / 2, 2 * SEC, 4 * SEC, 4, &err), 0);
	ck_assert_int_eq(eb_power_cell_add(pc, 3 * SEC, 3 * SEC + SEC / 2, 5 * SEC, 4, &err), 0);
	m = metric(pc, "energy_decode_j");
	ck_assert_str_eq(m->unit, "J");
	ck_assert_uint_eq(m->n, 2);
	ck_assert_int_eq(m->single, 0);
	ck_assert_int_eq(m->detail, 0);
	ck_assert_double_eq_tol(m->values[0], 48, TOL);
	ck_assert_int_eq(metric(pc, "energy_decode_j:board")->detail, 1);
	m = metric(pc, "j_per_token");
	ck_assert_str_eq(m->unit, "J/token");
	ck_assert_double_eq_tol(m->values[0], 12, TOL);
	ck_assert_double_eq_tol(metric(pc, "j_per_token_net")->values[0], 6, TOL);
	ck_assert_double_eq_tol(metric(pc, "energy_decode_j:board")->values[0], 40, TOL);
	ck_assert_double_eq_tol(metric(pc, "energy_decode_j:board/VDD_GPU")->values[0], 6, TOL);
	ck_assert_double_eq_tol(metric(pc, "power_avg_w")->values[0], 54.0 / 2.5, TOL);
	ck_assert_double_eq_tol(metric(pc, "power_avg_net_w")->values[0], 54.0 / 2.5 - 12, TOL);
	m = metric(pc, "idle_w");
	ck_assert_int_eq(m->single, 1);
	ck_assert_double_eq_tol(m->values[0], 12, TOL);
	ck_assert_double_eq_tol(metric(pc, "idle_w:cpu/package-0")->values[0], 2, TOL);
	m = metric(pc, "mem_peak_mb:board/ram_used");
	ck_assert_int_eq(m->single, 1);
	ck_assert_str_eq(m->unit, "MiB");
	ck_assert_double_eq_tol(m->values[0], 2048, TOL);
	/* every figure is a registered metric, stored in the registry's unit; a suffixed one
	 * belongs to a family measured per sensor, a single one to a single-valued metric */
	for (size_t i = 0; i < eb_power_cell_n_metrics(pc); i++) {
		const struct eb_power_metric *pm = eb_power_cell_metric(pc, i);
		const struct eb_metric *rm = eb_metric_find(pm->name);

		ck_assert_msg(rm != NULL, "%s is not in the metric registry", pm->name);
		ck_assert_msg(strcmp(rm->unit, pm->unit) == 0, "%s: unit %s, registry %s", pm->name,
			      pm->unit, rm->unit);
		ck_assert_msg(!pm->detail || (rm->flags & EB_METRIC_PER_SOURCE), "%s", pm->name);
		ck_assert_msg(!pm->single == !(rm->flags & EB_METRIC_SINGLE), "%s", pm->name);
	}
	nw = eb_power_cell_n_warnings(pc);
	found = 0;
	for (size_t i = 0; i < nw; i++) {
		const char *w = eb_power_cell_warning(pc, i);

		found |= strstr(w, "1 of 2 requests have prefill or decode windows only partly "
				   "covered by samples (lowest 33%)") != NULL;
		found |= (strstr(w, "the total is a sum of rails or sensors") != NULL) << 1;
		found |= (strstr(w, "prefill windows (median 500.0 ms) are shorter than two "
				    "sample intervals (2 x 500.0 ms)") != NULL)
			 << 2;
	}
	ck_assert_msg(found == 7, "warnings seen: %d of %zu", found, nw);
	eb_power_cell_free(pc);
	eb_power_idle_release(&idle);
	eb_trace_release(&t);
}
END_TEST

START_TEST(test_sensor_disappears)
{
	char root[4096], p[4200];
	struct eb_sampler *s = new_sampler(10, 0);
	const struct eb_trace *t;
	struct eb_power_request rq;
	struct eb_err err;
	uint64_t t_del, first, last, bfirst, blast;
	size_t a, b, na;
	json_t *d;

	eb_st_copy("sysfs/generic", "sampler-gone", root, sizeof(root));
	add(s, eb_st_open("hwmon", "{\"name\": \"a\", \"paths\": [\"/sys/class/hwmon/hwmon0\"]}",
			  root, 10));
	add(s, eb_st_open("hwmon", "{\"name\": \"b\", \"paths\": [\"/sys/class/hwmon/hwmon1\"]}",
			  root, 10));
	ck_assert_int_eq(eb_sampler_start(s, &err), 0);
	ck_assert_int_eq(eb_sampler_start(s, &err), EB_EINVAL);
	eb_clock_sleep_ns(150 * MS, NULL);
	snprintf(p, sizeof(p), "%s/sys/class/hwmon/hwmon0/power1_input", root);
	ck_assert_int_eq(unlink(p), 0);
	t_del = eb_clock_ns(); /* a read stamped later cannot have found the file */
	eb_clock_sleep_ns(150 * MS, NULL);
	eb_sampler_stop(s);

	ck_assert_uint_eq(eb_sampler_n_warnings(s), 1);
	ck_assert_msg(strncmp(eb_sampler_warning(s, 0), "sensor 'a' stopped at t=0.", 26) == 0,
		      "%s", eb_sampler_warning(s, 0));
	ck_assert_msg(strstr(eb_sampler_warning(s, 0),
			     "hwmon0/power1_input': No such file or directory"),
		      "%s", eb_sampler_warning(s, 0));
	ck_assert_int_eq(eb_sampler_sensor_failed(s, 0), 1);
	ck_assert_int_eq(eb_sampler_sensor_failed(s, 1), 0);
	t = eb_sampler_trace(s);
	a = rail_of(t, "a", "ina226.power1");
	b = rail_of(t, "b", "VDD_CORE");
	/* the samples before it went away stay; none after */
	na = span(t, a, &first, &last);
	ck_assert_uint_ge(na, 5);
	ck_assert_uint_lt(last, t_del);
	/* the other sensor went on */
	span(t, b, &bfirst, &blast);
	ck_assert_uint_gt(blast, t_del + 50 * MS);
	/* energy over a window before the loss is still exact */
	ck_assert_int_eq(eb_power_request(t, NULL, first + 2 * MS, first + 20 * MS, last, 2, &rq,
					  &err),
			 0);
	ck_assert_double_eq_tol(rq.rails[a].decode.joules, 5 * (double)(last - first - 20 * MS) / 1e9,
				TOL);
	ck_assert_double_eq_tol(rq.rails[a].decode.coverage, 1, TOL);
	eb_power_request_release(&rq);
	/* and one past it says how much was covered */
	ck_assert_int_eq(eb_power_request(t, NULL, first, last, blast, 2, &rq, &err), 0);
	ck_assert_double_eq_tol(rq.rails[a].decode.coverage, 0, TOL);
	ck_assert_double_eq_tol(rq.rails[b].decode.coverage, 1, TOL);
	eb_power_request_release(&rq);
	d = eb_sampler_describe(s);
	ck_assert(json_is_true(json_object_get(json_array_get(json_object_get(d, "sensors"), 0),
					       "failed")));
	ck_assert_uint_eq(json_array_size(json_object_get(d, "warnings")), 1);
	ck_assert_uint_eq(json_array_size(json_object_get(d, "rails")), 2);
	json_decref(d);
	/* clear forgets samples and warnings, keeps the rails */
	eb_sampler_clear(s);
	ck_assert_uint_eq(eb_sampler_trace(s)->n, 0);
	ck_assert_uint_eq(eb_sampler_n_warnings(s), 0);
	eb_sampler_free(s);
}
END_TEST

START_TEST(test_stream_beside_polled)
{
	char root[4096], fx[4096];
	struct eb_sampler *s = new_sampler(10, 0);
	struct eb_sampler_stats st;
	const struct eb_trace *t;
	struct eb_power_request rq;
	struct eb_err err;
	uint64_t t0, t1, first, last, t_restart;
	size_t vin, n;

	eb_st_fake_path();
	setenv("EB_FAKE_TEGRASTATS", eb_test_data("tegrastats/orin-nano-jp6.log", fx, sizeof(fx)),
	       1);
	add(s, eb_st_open("tegrastats", "{\"interval_ms\": 20}", NULL, 10));
	add(s, eb_st_open("hwmon", "{\"in_total\": false}",
			  eb_test_data("sysfs/generic", root, sizeof(root)), 10));
	ck_assert_int_eq(eb_sampler_run_for(s, 0.4, NULL, &t0, &t1, &err), 0);
	eb_sampler_stats(s, &st);
	ck_assert_uint_ge(st.records, 5);
	ck_assert_uint_ge(st.ticks, 20);
	t = eb_sampler_trace(s);
	vin = rail_of(t, "tegrastats", "VDD_IN");
	ck_assert_uint_eq(t->rails[vin].flags, EB_RAIL_TOTAL);
	ck_assert_uint_eq(t->rails[rail_of(t, "tegrastats", "ram_used")].flags, EB_RAIL_BYTES);
	n = span(t, vin, &first, &last);
	ck_assert_uint_ge(n, 5);
	/* only tegrastats is in the total; VDD_IN is 5.704 W throughout */
	ck_assert_int_eq(eb_power_request(t, NULL, first, first + (last - first) / 3, last, 8, &rq,
					  &err),
			 0);
	ck_assert_uint_eq(rq.n_total, 1);
	ck_assert_int_eq(rq.total.summed, 0);
	ck_assert_double_eq_tol(rq.total.request.avg_w, 5.704, TOL);
	ck_assert_double_eq_tol(rq.total.request.joules, 5.704 * (double)(last - first) / 1e9, TOL);
	eb_power_request_release(&rq);

	/* lines that queued while stopped are dropped, not stamped late */
	eb_clock_sleep_ns(200 * MS, NULL);
	eb_sampler_clear(s);
	t_restart = eb_clock_ns();
	ck_assert_int_eq(eb_sampler_run_for(s, 0.1, NULL, &t0, &t1, &err), 0);
	t = eb_sampler_trace(s);
	if (span(t, vin, &first, &last))
		ck_assert_uint_ge(first, t_restart);
	eb_sampler_free(s);
}
END_TEST

START_TEST(test_add_config)
{
	char root[4096];
	struct eb_sampler *s = new_sampler(20, 0);
	json_t *skipped = json_array(), *cfg;
	json_error_t je;
	struct eb_err err;

	eb_test_data("sysfs/generic", root, sizeof(root));
	cfg = json_loads("[{\"kind\": \"hwmon\"}, {\"kind\": \"rapl\"}, "
			 "{\"kind\": \"cmd\", \"options\": {}}]",
			 0, &je);
	ck_assert_int_eq(eb_sampler_add_config(s, cfg, root, skipped, &err), 0);
	json_decref(cfg);
	ck_assert_uint_eq(eb_sampler_n_sensors(s), 1);
	ck_assert_str_eq(eb_sampler_sensor(s, 0)->name, "hwmon");
	ck_assert_uint_eq(json_array_size(skipped), 2);
	ck_assert_msg(strstr(json_string_value(json_array_get(skipped, 0)),
			     "sensor 'rapl' unavailable: no '") &&
			      strstr(json_string_value(json_array_get(skipped, 0)),
				     "(not an Intel/AMD CPU with RAPL"),
		      "%s", json_string_value(json_array_get(skipped, 0)));
	ck_assert_str_eq(json_string_value(json_array_get(skipped, 1)),
			 "sensor 'cmd' unavailable: not configured: options.argv names the meter "
			 "program (one reading per line)");

	cfg = json_loads("[{\"kind\": \"hwmon\"}]", 0, &je);
	ck_assert_int_eq(eb_sampler_add_config(s, cfg, root, NULL, &err), EB_ECONFIG);
	ck_assert_str_eq(err.msg, "sensors[0]: two sensors are named 'hwmon': set options.name");
	json_decref(cfg);
	cfg = json_loads("[{\"kind\": \"hwmn\"}]", 0, &je);
	ck_assert_int_eq(eb_sampler_add_config(s, cfg, root, NULL, &err), EB_ECONFIG);
	ck_assert_str_eq(err.msg, "sensors[0]: unknown sensor kind 'hwmn'; did you mean 'hwmon'?");
	json_decref(cfg);
	cfg = json_loads("[{\"kind\": \"rapl\", \"options\": {\"zone\": []}}]", 0, &je);
	ck_assert_int_eq(eb_sampler_add_config(s, cfg, root, NULL, &err), EB_ECONFIG);
	ck_assert_str_eq(err.msg,
			 "sensors[0]: unknown option 'zone' for sensor 'rapl'; did you mean 'zones'?");
	json_decref(cfg);
	cfg = json_loads("[{\"options\": {}}]", 0, &je);
	ck_assert_int_eq(eb_sampler_add_config(s, cfg, root, NULL, &err), EB_ECONFIG);
	ck_assert_str_eq(err.msg, "sensors[0]: needs a \"kind\"");
	json_decref(cfg);
	json_decref(skipped);
	eb_sampler_free(s);
}
END_TEST

START_TEST(test_buffer_cap)
{
	char root[4096];
	struct eb_sampler *s = new_sampler(5, 10);
	struct eb_err err;
	uint64_t t0, t1;

	add(s, eb_st_open("hwmon", NULL, eb_test_data("sysfs/generic", root, sizeof(root)), 5));
	ck_assert_int_eq(eb_sampler_run_for(s, 0.1, NULL, &t0, &t1, &err), 0);
	ck_assert_uint_eq(eb_sampler_trace(s)->n, 10);
	ck_assert_uint_gt(eb_sampler_trace(s)->n_dropped, 0);
	ck_assert_uint_eq(eb_sampler_n_warnings(s), 1);
	ck_assert_msg(strncmp(eb_sampler_warning(s, 0), "sample buffer full (10 samples) at t=",
			      37) == 0,
		      "%s", eb_sampler_warning(s, 0));
	eb_sampler_free(s);
}
END_TEST

START_TEST(test_power_begin_end)
{
	char root[4096], src[4096], dst[4300];
	const char *argv[] = { "cp", "-R", src, dst, NULL };
	json_error_t je;
	json_t *sensors = json_loads("[{\"kind\": \"hwmon\"}, {\"kind\": \"rapl\"}]", 0, &je);
	json_t *warnings = json_array();
	struct eb_power_opts o = { .sensors = sensors, .root = root, .interval_ms = 10,
				   .idle_s = 0.1, .cooldown_zone = "cpu-thermal",
				   .cooldown_below_c = 50, .cooldown_timeout_s = 1 };
	struct eb_power_run pr = { 0 };
	volatile int stop = 0;
	struct eb_err err;
	char *out = NULL;

	/* a board with hwmon rails and thermal zones, no RAPL */
	eb_st_copy("sysfs/generic", "power-begin", root, sizeof(root));
	eb_test_data("sysfs/devstate/sys/class/thermal", src, sizeof(src));
	snprintf(dst, sizeof(dst), "%s/sys/class/thermal", root);
	ck_assert_int_eq(eb_proc_capture(argv, 1, 4096, &out, &err), 0);
	free(out);

	ck_assert_int_eq(eb_power_begin(&pr, &o, &stop, warnings), 0);
	ck_assert_ptr_nonnull(pr.smp);
	ck_assert(eb_sampler_running(pr.smp));
	ck_assert_int_eq(pr.have_idle, 1);
	ck_assert_double_eq_tol(pr.idle.total_w, 11, TOL);
	ck_assert_uint_eq(json_array_size(warnings), 1);
	ck_assert_msg(strncmp(json_string_value(json_array_get(warnings, 0)),
			      "power: sensor 'rapl' unavailable: ", 34) == 0,
		      "%s", json_string_value(json_array_get(warnings, 0)));
	eb_clock_sleep_ns(50 * MS, NULL);
	eb_power_end(&pr);
	ck_assert(!eb_sampler_running(pr.smp));
	ck_assert_uint_gt(eb_sampler_trace(pr.smp)->n, 10);
	eb_power_release(&pr);
	ck_assert_ptr_null(pr.smp);

	/* a zone that stays too warm is a warning, and the cell still gets its sensors */
	json_array_clear(warnings);
	o.cooldown_below_c = 40;
	o.cooldown_timeout_s = 0.3;
	o.idle_s = 0;
	ck_assert_int_eq(eb_power_begin(&pr, &o, &stop, warnings), 0);
	ck_assert_int_eq(pr.have_idle, 0);
	ck_assert_uint_eq(json_array_size(warnings), 2);
	ck_assert_msg(strncmp(json_string_value(json_array_get(warnings, 0)),
			      "cool-down: thermal zone 'cpu-thermal' still at 45.5 C after ", 60) == 0,
		      "%s", json_string_value(json_array_get(warnings, 0)));
	ck_assert(eb_sampler_running(pr.smp));
	eb_power_end(&pr);
	eb_power_release(&pr);

	/* interrupted while waiting */
	stop = 1;
	ck_assert_int_eq(eb_power_begin(&pr, &o, &stop, warnings), EB_EINTR);
	ck_assert_ptr_null(pr.smp);
	eb_power_release(&pr);
	json_decref(warnings);
	json_decref(sensors);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sampler");
	TCase *tc = tcase_create("sampler");

	tcase_add_test(tc, test_constant_power_exact_energy);
	tcase_add_test(tc, test_synthetic_trace);
	tcase_add_test(tc, test_sensor_disappears);
	tcase_add_test(tc, test_stream_beside_polled);
	tcase_add_test(tc, test_add_config);
	tcase_add_test(tc, test_buffer_cap);
	tcase_add_test(tc, test_power_begin_end);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(suite());
}
