/* check_sensor_cmd.c: the external-meter sensor against a fake meter script (units, regex, exit). */
/* ctest: labels=unit timeout=60 */
#include "sensortest.h"

#include "sampler.h"
#include "sensor.h"

#include <poll.h>
#include <time.h>

#define TOL 1e-9

/* Next reading of a stream sensor within 5 s: 0 and *r, or the read's error code. */
static int next_reading(struct eb_sensor *s, struct eb_sensor_reading *r, uint64_t *t,
			struct eb_err *err)
{
	uint64_t deadline = eb_clock_ns() + 5000000000ull;

	while (eb_clock_ns() < deadline) {
		struct pollfd p = { .fd = s->ops->fd(s->state), .events = POLLIN };
		size_t n = 0;
		int rc;

		*t = eb_clock_ns();
		rc = eb_sensor_read(s, t, r, 1, &n, err);
		if (rc || n)
			return rc;
		poll(&p, 1, 100);
	}
	return eb_err_set(err, EB_ETIMEOUT, "no reading");
}

START_TEST(test_regex_and_unit)
{
	struct eb_sensor_reading r;
	struct eb_sensor *s;
	struct eb_err err;
	uint64_t t0, t1;
	json_t *d = json_object();

	eb_st_fake_path();
	s = eb_st_open("cmd",
		       "{\"argv\": [\"fake-meter\", \"--interval\", \"10\", \"--exit\", \"4\", "
		       "\"P=1234 mW\", \"calibrating...\", \"P=1500.5 mW\"], \"unit\": \"mW\", "
		       "\"regex\": \"P=([0-9.]+) mW\", \"rail\": \"usb\", \"window_ms\": 250}",
		       NULL, 100);
	ck_assert_int_eq(next_reading(s, &r, &t0, &err), 0);
	ck_assert_str_eq(r.rail, "usb");
	ck_assert_double_eq_tol(r.value, 1.234, TOL);
	ck_assert_uint_eq(r.flags, EB_RAIL_TOTAL);
	ck_assert_str_eq(r.source, "meter (mW)");
	ck_assert_int_eq(next_reading(s, &r, &t1, &err), 0);
	ck_assert_double_eq_tol(r.value, 1.5005, TOL);
	ck_assert_uint_gt(t1, t0);
	/* then the meter exits: an error that says how, once its lines are consumed */
	ck_assert_int_eq(next_reading(s, &r, &t1, &err), EB_EIO);
	ck_assert_str_eq(err.msg, "'fake-meter' exited with status 4 after 3 lines: fake-meter: "
				  "done");
	ck_assert_int_eq(eb_sensor_describe(s, d, &err), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "readings")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "skipped_lines")), 1);
	ck_assert_double_eq_tol(json_number_value(json_object_get(d, "window_ms")), 250, TOL);
	json_decref(d);
	eb_sensor_close(s);
}
END_TEST

/*
 * A meter line that makes a backtracking regex exponential (the backreferences of issue 15
 * item 8): glibc's matcher ran past a minute on 28 characters; the bounded matcher gives up,
 * the line is skipped and counted, and the next line's reading arrives.
 */
START_TEST(test_regex_bounded)
{
	struct eb_sensor_reading r;
	struct eb_sensor *s;
	struct eb_err err;
	uint64_t t;
	json_t *d = json_object();

	eb_st_fake_path();
	s = eb_st_open("cmd",
		       "{\"argv\": [\"fake-meter\", \"--interval\", \"10\", "
		       "\"1.0aaaaaaaaaaaaaaaaaaaaaaaaaaaaxb\", \"2.5aaaab\"], "
		       "\"regex\": \"^([0-9.]+)(a|a)*\\\\2(a|a)*\\\\3b$\"}",
		       NULL, 100);
	ck_assert_int_eq(next_reading(s, &r, &t, &err), 0);
	ck_assert_double_eq_tol(r.value, 2.5, TOL);
	ck_assert_int_eq(eb_sensor_describe(s, d, &err), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "readings")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "skipped_lines")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "regex_limit_lines")), 1);
	json_decref(d);
	eb_sensor_close(s);
}
END_TEST

START_TEST(test_plain_watts)
{
	struct eb_sensor_reading r;
	struct eb_sensor *s;
	struct eb_err err;
	uint64_t t;

	eb_st_fake_path();
	s = eb_st_open("cmd",
		       "{\"argv\": [\"fake-meter\", \"--loop\", \" 2.5 \", \"12 W\", \"3e0\"], "
		       "\"total\": false}",
		       NULL, 100);
	ck_assert_int_eq(next_reading(s, &r, &t, &err), 0);
	ck_assert_str_eq(r.rail, "meter");
	ck_assert_double_eq_tol(r.value, 2.5, TOL);
	ck_assert_uint_eq(r.flags, 0);
	/* "12 W" is not a number without a regex: skipped */
	ck_assert_int_eq(next_reading(s, &r, &t, &err), 0);
	ck_assert_double_eq_tol(r.value, 3.0, TOL);
	eb_sensor_close(s); /* kills the looping meter */
}
END_TEST

START_TEST(test_unavailable)
{
	char why[1024];
	json_t *o;

	eb_st_fake_path();
	ck_assert_str_eq(eb_sensor_unavailable("cmd", NULL, NULL, 100, why, sizeof(why)),
			 "not configured: options.argv names the meter program (one reading per "
			 "line)");
	o = json_pack("{s:[s]}", "argv", "no-such-meter");
	ck_assert_str_eq(eb_sensor_unavailable("cmd", o, NULL, 100, why, sizeof(why)),
			 "cannot run 'no-such-meter': not found in PATH");
	json_decref(o);
	o = json_pack("{s:[s], s:s}", "argv", "fake-meter", "regex", "P=([0-9");
	ck_assert_msg(strncmp(eb_sensor_unavailable("cmd", o, NULL, 100, why, sizeof(why)),
			      "bad regex 'P=([0-9': ", 21) == 0,
		      "%s", why);
	json_decref(o);
	o = json_pack("{s:[s]}", "argv", "fake-meter");
	ck_assert_ptr_null(eb_sensor_unavailable("cmd", o, NULL, 100, why, sizeof(why)));
	json_decref(o);
}
END_TEST

/*
 * A meter printing as fast as it can (yes(1)): the sampler keeps at most one sample per
 * interval_ms, the mean of the interval's readings. Before, it stored every line (1M
 * samples in 9 s, growing with the cell).
 */
START_TEST(test_fast_meter_downsampled)
{
	struct eb_sampler_opts o = { .interval_ms = 50 };
	struct eb_sampler *smp = NULL;
	const struct eb_trace *t;
	struct eb_sampler_stats st;
	struct eb_err err;
	struct timespec ts = { 0, 600000000 };
	uint64_t t0, wall_ms;

	ck_assert_int_eq(eb_sampler_new(&smp, &o, &err), 0);
	ck_assert_msg(eb_sampler_add(smp, eb_st_open("cmd", "{\"argv\": [\"yes\", \"5\"]}", NULL, 50),
				     &err) == 0,
		      "%s", err.msg);
	t0 = eb_clock_ns();
	ck_assert_int_eq(eb_sampler_start(smp, &err), 0);
	nanosleep(&ts, NULL);
	eb_sampler_stop(smp);
	wall_ms = (eb_clock_ns() - t0) / 1000000u;
	t = eb_sampler_trace(smp);
	eb_sampler_stats(smp, &st);
	/* thousands of lines read, one sample per 50 ms kept (+1 for the interval cut by stop) */
	ck_assert_uint_gt(st.records, 1000);
	ck_assert_msg(t->n >= 1 && t->n <= wall_ms / 50 + 2, "%zu samples in %llu ms", t->n,
		      (unsigned long long)wall_ms);
	for (size_t i = 0; i < t->n; i++)
		ck_assert_double_eq_tol(t->samples[i].value, 5.0, TOL);
	for (size_t i = 1; i < t->n; i++)
		ck_assert_uint_gt(t->samples[i].t_ns, t->samples[i - 1].t_ns);
	eb_sampler_free(smp);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sensor_cmd");
	TCase *tc = tcase_create("cmd");

	tcase_add_test(tc, test_regex_and_unit);
	tcase_add_test(tc, test_regex_bounded);
	tcase_add_test(tc, test_plain_watts);
	tcase_add_test(tc, test_unavailable);
	tcase_add_test(tc, test_fast_meter_downsampled);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(suite());
}
