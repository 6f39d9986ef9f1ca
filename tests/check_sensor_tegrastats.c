/* check_sensor_tegrastats.c: the tegrastats sensor over a fake `tegrastats` replaying every fixture. */
/* ctest: labels=unit timeout=60 */
#include "sensortest.h"

#include "sensor.h"
#include "tegrastats.h"

#include <math.h>
#include <poll.h>

#define TOL 1e-9
#define MAXREC 8

struct rec {
	uint64_t t;
	size_t n;
	struct eb_sensor_reading r[EB_SENSOR_READINGS_MAX];
};

/*
 * Reads `want` records from a stream sensor (waiting on its fd up to 10 s); returns how many
 * came. A read error ends the loop with its code in *rc and message in err.
 */
static size_t read_records(struct eb_sensor *s, struct rec *recs, size_t want, int *rc,
			   struct eb_err *err)
{
	uint64_t deadline = eb_clock_ns() + 10000000000ull;
	size_t got = 0;

	*rc = 0;
	while (got < want && eb_clock_ns() < deadline) {
		struct rec *x = &recs[got];
		int fd = s->ops->fd(s->state);

		x->t = eb_clock_ns();
		*rc = eb_sensor_read(s, &x->t, x->r, EB_SENSOR_READINGS_MAX, &x->n, err);
		if (*rc)
			break;
		if (x->n) {
			got++;
			continue;
		}
		if (fd >= 0) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			poll(&p, 1, 100);
		} else {
			eb_clock_sleep_ns(5000000, NULL);
		}
	}
	return got;
}

/* Line idx of a fixture file, parsed. */
static void parse_line(const char *rel, size_t idx, struct eb_tegrastats_sample *out)
{
	char path[4096];
	char *data = NULL, *line, *nl;
	struct eb_err err;
	size_t len;

	eb_test_data(rel, path, sizeof(path));
	ck_assert_int_eq(eb_read_file(path, 1 << 20, &data, &len, &err), 0);
	line = data;
	for (size_t k = 0; k < idx; k++) {
		nl = strchr(line, '\n');
		ck_assert_ptr_nonnull(nl);
		line = nl + 1;
	}
	nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	ck_assert_int_eq(eb_tegrastats_parse_line(line, out, &err), 0);
	free(data);
}

/* The sensor's readings must be the parser's values, field by field. */
static void check_against_parser(const struct rec *x, const char *rel, size_t idx)
{
	static struct eb_tegrastats_sample s;
	size_t k = 0, n_rails = 0;
	int has_total;

	parse_line(rel, idx, &s);
	has_total = (s.flags & EB_TEGRASTATS_HAS_TOTAL) && !s.total.summed;
	for (size_t i = 0; i < s.n_rails; i++) {
		const struct eb_tegrastats_rail *r = &s.rails[i];
		unsigned want;

		if (r->flags & EB_TEGRASTATS_RAIL_NC)
			continue;
		want = !has_total ? 0 : (s.total.rails & (1u << i)) ? EB_RAIL_TOTAL : EB_RAIL_NOSUM;
		ck_assert_uint_lt(k, x->n);
		ck_assert_str_eq(x->r[k].rail, r->name);
		ck_assert_double_eq_tol(x->r[k].value, r->cur_w, TOL);
		ck_assert_double_eq_tol(x->r[k].value * 1000, (double)r->cur_mw, 1e-6);
		ck_assert_uint_eq(x->r[k].flags, want);
		ck_assert_str_eq(x->r[k].source, (r->flags & EB_TEGRASTATS_RAIL_MW)
							 ? "tegrastats (mW)"
							 : "tegrastats (mW, no unit printed)");
		k++;
		n_rails++;
	}
	ck_assert_msg(s.flags & EB_TEGRASTATS_HAS_RAM, "%s:%zu has no RAM", rel, idx + 1);
	ck_assert_uint_eq(x->n, n_rails + 1);
	ck_assert_str_eq(x->r[k].rail, "ram_used");
	ck_assert_uint_eq(x->r[k].flags, EB_RAIL_BYTES);
	ck_assert_double_eq_tol(x->r[k].value, (double)s.ram.used_mb * 1048576.0, TOL);
}

static struct eb_sensor *open_fake(const char *fixture, unsigned interval_ms)
{
	char path[4096];

	eb_st_fake_path();
	setenv("EB_FAKE_TEGRASTATS", eb_test_data(fixture, path, sizeof(path)), 1);
	return eb_st_open("tegrastats", NULL, NULL, interval_ms);
}

START_TEST(test_every_fixture_field_by_field)
{
	static const struct {
		const char *file;
		size_t lines;
	} fx[] = {
		{ "tegrastats/nano-jp4.log", 1 },      { "tegrastats/tx2-jp4.log", 2 },
		{ "tegrastats/agx-orin-jp5.log", 1 },  { "tegrastats/agx-orin-jp7.log", 1 },
		{ "tegrastats/orin-nano-jp6.log", 1 }, { "tegrastats/thor-fragment.log", 1 },
	};
	static struct rec recs[MAXREC];

	for (size_t f = 0; f < sizeof(fx) / sizeof(fx[0]); f++) {
		/* the fake loops over the file: take two rounds */
		size_t want = 2 * fx[f].lines;
		struct eb_sensor *s = open_fake(fx[f].file, 20);
		struct eb_err err;
		int rc;
		size_t got = read_records(s, recs, want, &rc, &err);

		ck_assert_msg(rc == 0, "%s: %s", fx[f].file, err.msg);
		ck_assert_msg(got == want, "%s: %zu records, expected %zu", fx[f].file, got, want);
		for (size_t i = 0; i < got; i++) {
			check_against_parser(&recs[i], fx[f].file, i % fx[f].lines);
			if (i)
				ck_assert_msg(recs[i].t >= recs[i - 1].t,
					      "%s: record %zu stamped before the one before", fx[f].file,
					      i);
		}
		eb_sensor_close(s);
	}
}
END_TEST

START_TEST(test_orin_nano_values)
{
	static struct rec recs[2];
	struct eb_sensor *s = open_fake("tegrastats/orin-nano-jp6.log", 20);
	json_t *d = json_object();
	struct eb_err err;
	int rc;
	uint64_t t_before = eb_clock_ns();

	ck_assert_uint_eq(read_records(s, recs, 1, &rc, &err), 1);
	ck_assert_uint_eq(recs[0].n, 4);
	ck_assert_str_eq(recs[0].r[0].rail, "VDD_IN");
	ck_assert_double_eq_tol(recs[0].r[0].value, 5.704, TOL);
	ck_assert_uint_eq(recs[0].r[0].flags, EB_RAIL_TOTAL);
	ck_assert_str_eq(recs[0].r[1].rail, "VDD_CPU_GPU_CV");
	ck_assert_double_eq_tol(recs[0].r[1].value, 0.831, TOL);
	ck_assert_uint_eq(recs[0].r[1].flags, EB_RAIL_NOSUM);
	ck_assert_str_eq(recs[0].r[2].rail, "VDD_SOC");
	ck_assert_double_eq_tol(recs[0].r[2].value, 1.624, TOL);
	ck_assert_str_eq(recs[0].r[3].rail, "ram_used");
	ck_assert_double_eq_tol(recs[0].r[3].value, 2461.0 * 1048576, TOL);
	/* stamped on arrival, on the harness clock */
	ck_assert_uint_ge(recs[0].t, t_before);
	ck_assert_uint_le(recs[0].t, eb_clock_ns());
	ck_assert_int_eq(eb_sensor_describe(s, d, &err), 0);
	ck_assert_str_eq(json_string_value(json_object_get(d, "total")), "VDD_IN");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "interval_ms")), 20);
	ck_assert_uint_eq(json_array_size(json_object_get(d, "rails")), 4);
	json_decref(d);
	eb_sensor_close(s);

	/* AGX Orin: NC skipped, no input rail, so no total flag: the rails are summed */
	s = open_fake("tegrastats/agx-orin-jp5.log", 20);
	ck_assert_uint_eq(read_records(s, recs, 1, &rc, &err), 1);
	ck_assert_uint_eq(recs[0].n, 5);
	ck_assert_str_eq(recs[0].r[0].rail, "VDD_GPU_SOC");
	ck_assert_double_eq_tol(recs[0].r[0].value, 2.340, TOL);
	ck_assert_uint_eq(recs[0].r[0].flags, 0);
	ck_assert_str_eq(recs[0].r[3].rail, "VDDQ_VDD2_1V8AO");
	d = json_object();
	ck_assert_int_eq(eb_sensor_describe(s, d, &err), 0);
	ck_assert_str_eq(json_string_value(json_object_get(d, "total")),
			 "sum of the rails (a lower bound)");
	json_decref(d);
	eb_sensor_close(s);

	/* memory off */
	eb_st_fake_path();
	s = eb_st_open("tegrastats", "{\"memory\": false, \"interval_ms\": 15}", NULL, 100);
	ck_assert_uint_eq(read_records(s, recs, 1, &rc, &err), 1);
	ck_assert_uint_eq(recs[0].n, 4);
	eb_sensor_close(s);
}
END_TEST

START_TEST(test_exit_is_an_error_after_the_lines)
{
	static struct rec recs[4];
	struct eb_sensor *s;
	struct eb_err err;
	int rc;
	size_t got;

	setenv("EB_FAKE_TEGRASTATS_ONCE", "1", 1);
	setenv("EB_FAKE_TEGRASTATS_EXIT", "3", 1);
	setenv("EB_FAKE_TEGRASTATS_STDERR", "tegrastats: sensor went away", 1);
	s = open_fake("tegrastats/tx2-jp4.log", 10);
	got = read_records(s, recs, 4, &rc, &err);
	unsetenv("EB_FAKE_TEGRASTATS_ONCE");
	unsetenv("EB_FAKE_TEGRASTATS_EXIT");
	unsetenv("EB_FAKE_TEGRASTATS_STDERR");
	ck_assert_uint_eq(got, 2);
	ck_assert_int_eq(rc, EB_EIO);
	ck_assert_str_eq(err.msg, "'tegrastats' exited with status 3 after 2 lines: tegrastats: "
				  "sensor went away");
	eb_sensor_close(s);
}
END_TEST

START_TEST(test_logfile)
{
	static struct rec recs[4];
	char dir[4096], log[4200], src[4096], opts[8600];
	char *data = NULL;
	size_t len;
	struct eb_sensor *s;
	struct eb_err err;
	int rc;
	FILE *f;

	eb_test_tmpdir("tegrastats-log", dir, sizeof(dir));
	snprintf(log, sizeof(log), "%s/tegrastats.log", dir);
	eb_test_data("tegrastats/tx2-jp4.log", src, sizeof(src));
	ck_assert_int_eq(eb_read_file(src, 1 << 20, &data, &len, &err), 0);
	ck_assert_int_eq(eb_write_file(log, data, len, &err), 0);

	/* from_start: the lines already there */
	snprintf(opts, sizeof(opts), "{\"file\": \"%s\", \"from_start\": true}", log);
	s = eb_st_open("tegrastats", opts, NULL, 10);
	ck_assert_int_eq(s->ops->fd(s->state), -1); /* polled at every tick */
	ck_assert_uint_eq(read_records(s, recs, 2, &rc, &err), 2);
	check_against_parser(&recs[0], "tegrastats/tx2-jp4.log", 0);
	check_against_parser(&recs[1], "tegrastats/tx2-jp4.log", 1);
	eb_sensor_close(s);

	/* default: only lines written after open; a torn line waits for its end */
	snprintf(opts, sizeof(opts), "{\"file\": \"%s\"}", log);
	s = eb_st_open("tegrastats", opts, NULL, 10);
	recs[0].t = 0;
	ck_assert_int_eq(eb_sensor_read(s, &recs[0].t, recs[0].r, EB_SENSOR_READINGS_MAX,
					&recs[0].n, &err),
			 0);
	ck_assert_uint_eq(recs[0].n, 0);
	f = fopen(log, "a");
	ck_assert_ptr_nonnull(f);
	fwrite(data, 1, 40, f);
	fflush(f);
	ck_assert_int_eq(eb_sensor_read(s, &recs[0].t, recs[0].r, EB_SENSOR_READINGS_MAX,
					&recs[0].n, &err),
			 0);
	ck_assert_uint_eq(recs[0].n, 0);
	fwrite(data + 40, 1, strchr(data, '\n') + 1 - (data + 40), f);
	fclose(f);
	ck_assert_uint_eq(read_records(s, recs, 1, &rc, &err), 1);
	check_against_parser(&recs[0], "tegrastats/tx2-jp4.log", 0);
	eb_sensor_close(s);
	free(data);
}
END_TEST

START_TEST(test_unavailable)
{
	char why[1024];
	const char *w;
	const char *old = getenv("PATH");
	char *saved = eb_xstrdup(old);
	json_t *o;

	setenv("PATH", "/nonexistent", 1);
	w = eb_sensor_unavailable("tegrastats", NULL, NULL, 100, why, sizeof(why));
	ck_assert_ptr_nonnull(w);
	ck_assert_str_eq(w, "no 'tegrastats' on PATH (not a Jetson, or JetPack's tegrastats is "
			    "not installed)");
	setenv("PATH", saved, 1);
	free(saved);
	o = json_pack("{s:s}", "file", "/nonexistent/tegrastats.log");
	w = eb_sensor_unavailable("tegrastats", o, NULL, 100, why, sizeof(why));
	json_decref(o);
	ck_assert_str_eq(w, "cannot read '/nonexistent/tegrastats.log': No such file or directory");
	eb_st_fake_path();
	ck_assert_ptr_null(eb_sensor_unavailable("tegrastats", NULL, NULL, 100, why, sizeof(why)));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sensor_tegrastats");
	TCase *tc = tcase_create("tegrastats");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_every_fixture_field_by_field);
	tcase_add_test(tc, test_orin_nano_values);
	tcase_add_test(tc, test_exit_is_an_error_after_the_lines);
	tcase_add_test(tc, test_logfile);
	tcase_add_test(tc, test_unavailable);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(suite());
}
