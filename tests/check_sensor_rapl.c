/* check_sensor_rapl.c: RAPL counters from a fixture powercap tree: wraparound, subzones, unavailability. */
/* ctest: labels=unit timeout=60 */
#include "sensortest.h"

#include "sensor.h"

#include <errno.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOL 1e-9
#define MAXR 262143328850ull

static void put(const char *root, const char *rel, const char *text)
{
	char p[4096];
	struct eb_err err;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	*strrchr(p, '/') = '\0';
	ck_assert_msg(eb_mkdirs(p, &err) == 0, "%s", err.msg);
	snprintf(p, sizeof(p), "%s%s", root, rel);
	ck_assert_msg(eb_write_file(p, text, strlen(text), &err) == 0, "%s", err.msg);
}

START_TEST(test_zones_and_wraparound)
{
	char root[4096];
	struct eb_sensor_reading r[EB_SENSOR_READINGS_MAX];
	const struct eb_sensor_reading *pkg, *core, *dram;
	struct eb_sensor *s;
	struct eb_err err;
	json_t *d = json_object(), *rails;
	uint64_t t;
	size_t n;

	eb_st_copy("sysfs/rapl", "rapl-wrap", root, sizeof(root));
	s = eb_st_open("rapl", NULL, root, 100);
	/* nothing moved since open: 0 J; rails in zone order, subzones under their package */
	t = eb_clock_ns() + 1000000;
	ck_assert_int_eq(eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, &err), 0);
	ck_assert_uint_eq(n, 4);
	pkg = eb_st_rail(r, n, "package-0");
	core = eb_st_rail(r, n, "package-0/core");
	eb_st_rail(r, n, "package-0/uncore");
	dram = eb_st_rail(r, n, "package-0/dram");
	ck_assert_uint_eq(pkg->flags, EB_RAIL_COUNTER);
	ck_assert_uint_eq(core->flags, EB_RAIL_COUNTER | EB_RAIL_NOSUM);
	ck_assert_uint_eq(dram->flags, EB_RAIL_COUNTER); /* DRAM is outside the package */
	ck_assert_uint_eq(pkg->energy_uj, 0);
	ck_assert_double_eq_tol(pkg->value, 0, TOL);
	ck_assert_str_eq(pkg->source, "energy_uj (uJ counter)");

	/* the package counter wraps: 262143000000 -> 1000000 with max 262143328850 */
	put(root, "/sys/class/powercap/intel-rapl:0/energy_uj", "1000000\n");
	put(root, "/sys/class/powercap/intel-rapl:0:0/energy_uj", "1500000\n");
	t += 500000000ull; /* half a second later */
	ck_assert_int_eq(eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, &err), 0);
	pkg = eb_st_rail(r, n, "package-0");
	ck_assert_uint_eq(pkg->energy_uj, (MAXR - 262143000000ull) + 1000000ull);
	ck_assert_double_eq_tol(pkg->value, 1.328850 / 0.5, 1e-6);
	core = eb_st_rail(r, n, "package-0/core");
	ck_assert_uint_eq(core->energy_uj, 500000);
	ck_assert_double_eq_tol(core->value, 1.0, 1e-6);

	/* and keeps counting after the wrap */
	put(root, "/sys/class/powercap/intel-rapl:0/energy_uj", "3000000\n");
	t += 1000000000ull;
	ck_assert_int_eq(eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, &err), 0);
	pkg = eb_st_rail(r, n, "package-0");
	ck_assert_uint_eq(pkg->energy_uj, (MAXR - 262143000000ull) + 3000000ull);
	ck_assert_double_eq_tol(pkg->value, 2.0, 1e-6);

	ck_assert_int_eq(eb_sensor_describe(s, d, &err), 0);
	rails = json_object_get(d, "rails");
	ck_assert_uint_eq(json_array_size(rails), 4);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(rails, 0), "wraps")), 1);
	ck_assert_int_eq(json_integer_value(
				 json_object_get(json_array_get(rails, 0), "max_energy_range_uj")),
			 (json_int_t)MAXR);
	json_decref(d);

	/* a value above max_energy_range_uj is an error, not a silent wrap */
	put(root, "/sys/class/powercap/intel-rapl:0/energy_uj", "999999999999999\n");
	t += 1000000000ull;
	ck_assert_int_eq(eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, &err), EB_EINVAL);
	ck_assert_msg(strstr(err.msg, "intel-rapl:0/energy_uj"), "%s", err.msg);
	eb_sensor_close(s);
}
END_TEST

START_TEST(test_psys_is_total_and_options)
{
	char root[4096];
	struct eb_sensor_reading r[EB_SENSOR_READINGS_MAX];
	struct eb_sensor *s;
	struct eb_err err;
	uint64_t t = 1;
	size_t n;

	eb_st_copy("sysfs/rapl", "rapl-psys", root, sizeof(root));
	put(root, "/sys/class/powercap/intel-rapl:1/name", "psys\n");
	put(root, "/sys/class/powercap/intel-rapl:1/energy_uj", "5\n");
	put(root, "/sys/class/powercap/intel-rapl:1/max_energy_range_uj", "262143328850\n");
	s = eb_st_open("rapl", NULL, root, 100);
	ck_assert_int_eq(eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, &err), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(eb_st_rail(r, n, "psys")->flags, EB_RAIL_COUNTER | EB_RAIL_TOTAL);
	ck_assert_uint_eq(eb_st_rail(r, n, "package-0")->flags, EB_RAIL_COUNTER | EB_RAIL_NOSUM);
	ck_assert_uint_eq(eb_st_rail(r, n, "package-0/dram")->flags,
			  EB_RAIL_COUNTER | EB_RAIL_NOSUM);
	eb_sensor_close(s);

	s = eb_st_open("rapl", "{\"subzones\": false}", root, 100);
	ck_assert_int_eq(eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	eb_sensor_close(s);
	s = eb_st_open("rapl", "{\"zones\": [\"intel-rapl:0:2\"]}", root, 100);
	ck_assert_int_eq(eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(r[0].rail, "package-0/dram");
	eb_sensor_close(s);
}
END_TEST

START_TEST(test_no_rapl)
{
	char dir[4096], why[1024];
	const char *w;

	eb_test_tmpdir("rapl-none", dir, sizeof(dir));
	w = eb_sensor_unavailable("rapl", NULL, dir, 100, why, sizeof(why));
	ck_assert_ptr_nonnull(w);
	ck_assert_msg(strstr(w, "/sys/class/powercap/intel-rapl:0' (not an Intel/AMD CPU with "
				"RAPL"),
		      "%s", w);
}
END_TEST

/*
 * energy_uj readable by root only (Linux >= 5.10): an explained unavailability. As root the
 * check runs in a child that drops to nobody (65534).
 */
START_TEST(test_permission_denied)
{
	char tmpl[] = "/tmp/eb-rapl-XXXXXX", root[4200], src[4096], why[1024];
	const char *argv[] = { "cp", "-R", src, root, NULL };
	int pipefd[2];
	struct eb_err err;
	char *out = NULL;
	pid_t pid;
	ssize_t got;
	int status;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	chmod(tmpl, 0755);
	snprintf(root, sizeof(root), "%s/root", tmpl);
	eb_test_data("sysfs/rapl", src, sizeof(src));
	ck_assert_int_eq(eb_proc_capture(argv, 1, 4096, &out, &err), 0);
	free(out);
	{
		const char *chmod_argv[] = { "chmod", "-R", "a+rX", root, NULL };
		ck_assert_int_eq(eb_proc_capture(chmod_argv, 1, 4096, &out, &err), 0);
		free(out);
	}
	snprintf(src, sizeof(src), "%s/sys/class/powercap/intel-rapl:0/energy_uj", root);
	ck_assert_int_eq(chmod(src, 0400), 0);
	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		const char *w;

		close(pipefd[0]);
		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(2);
		w = eb_sensor_unavailable("rapl", NULL, root, 100, why, sizeof(why));
		if (w && write(pipefd[1], w, strlen(w)) < 0)
			_exit(3);
		_exit(0);
	}
	close(pipefd[1]);
	got = read(pipefd[0], why, sizeof(why) - 1);
	why[got > 0 ? got : 0] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	{
		const char *rm_argv[] = { "rm", "-rf", tmpl, NULL };
		eb_proc_capture(rm_argv, 1, 4096, &out, &err);
		free(out);
	}
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_msg(strstr(why, "permission denied reading '") &&
			      strstr(why, "intel-rapl:0/energy_uj' (root-only since Linux 5.10"),
		      "reason: '%s'", why);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sensor_rapl");
	TCase *tc = tcase_create("rapl");

	tcase_add_test(tc, test_zones_and_wraparound);
	tcase_add_test(tc, test_psys_is_total_and_options);
	tcase_add_test(tc, test_no_rapl);
	tcase_add_test(tc, test_permission_denied);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(suite());
}
