/* check_sensor_hwmon.c: hwmon rails from fixture sysfs trees (generic, Orin INA3221, JetPack 4 iio), registry. */
/* ctest: labels=unit timeout=60 */
#include "sensortest.h"

#include "sensor.h"

#include <math.h>

#define TOL 1e-9

static size_t read_all(struct eb_sensor *s, struct eb_sensor_reading *r)
{
	uint64_t t = 1;
	size_t n = 0;
	struct eb_err err;

	ck_assert_msg(eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, &err) == 0, "%s",
		      err.msg);
	return n;
}

START_TEST(test_registry_checks)
{
	struct eb_err err;
	size_t n = 0;

	for (size_t i = 0; eb_sensors[i]; i++, n++) {
		ck_assert_msg(eb_sensor_check(eb_sensors[i], &err) == 0, "%s", err.msg);
		ck_assert_ptr_eq(eb_sensor_find(eb_sensors[i]->name), eb_sensors[i]);
	}
	ck_assert_uint_eq(n, 6);
	ck_assert_ptr_nonnull(eb_sensor_find("tegrastats"));
	ck_assert_ptr_nonnull(eb_sensor_find("hwmon"));
	ck_assert_ptr_nonnull(eb_sensor_find("nvml"));
	ck_assert_ptr_nonnull(eb_sensor_find("rapl"));
	ck_assert_ptr_nonnull(eb_sensor_find("proc"));
	ck_assert_ptr_nonnull(eb_sensor_find("cmd"));
	ck_assert_ptr_null(eb_sensor_find("hwmom"));
}
END_TEST

START_TEST(test_options_validation)
{
	const struct eb_sensor_ops *hw = eb_sensor_find("hwmon");
	json_t *o = json_pack("{s:[s]}", "rail", "VDD_IN");
	struct eb_err err;
	struct eb_sensor *s = NULL;

	ck_assert_int_eq(eb_sensor_options_check(hw, o, &err), EB_ECONFIG);
	ck_assert_str_eq(err.msg, "unknown option 'rail' for sensor 'hwmon'; did you mean 'rails'?");
	json_decref(o);
	o = json_pack("{s:s}", "paths", "/sys");
	ck_assert_int_eq(eb_sensor_options_check(hw, o, &err), EB_ECONFIG);
	ck_assert_str_eq(err.msg, "option 'paths' of sensor 'hwmon' must be an array of strings");
	json_decref(o);
	o = json_pack("{s:s}", "unit", "kW");
	ck_assert_int_eq(eb_sensor_options_check(eb_sensor_find("cmd"), o, &err), EB_ECONFIG);
	ck_assert_str_eq(err.msg, "option 'unit': 'kW' is not one of 'W', 'mW', 'uW'");
	json_decref(o);
	o = json_pack("{s:i}", "device", 99);
	ck_assert_int_eq(eb_sensor_options_check(eb_sensor_find("nvml"), o, &err), EB_ECONFIG);
	ck_assert_str_eq(err.msg, "option 'device': 99 is out of range [0, 63]");
	json_decref(o);
	/* the common options are everyone's */
	o = json_pack("{s:s, s:b}", "name", "board", "in_total", 0);
	ck_assert_int_eq(eb_sensor_options_check(hw, o, &err), 0);
	json_decref(o);
	ck_assert_int_eq(eb_sensor_open(&s, "hwmn", NULL, "/nonexistent", 100, &err), EB_ECONFIG);
	ck_assert_str_eq(err.msg, "unknown sensor kind 'hwmn'; did you mean 'hwmon'?");
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_generic)
{
	char root[4096];
	struct eb_sensor_reading r[EB_SENSOR_READINGS_MAX];
	struct eb_sensor *s = eb_st_open("hwmon", NULL, eb_test_data("sysfs/generic", root,
								     sizeof(root)),
					 100);
	const struct eb_sensor_reading *x;
	json_t *d = json_object();
	struct eb_err err;
	size_t n = read_all(s, r);

	/* power1_input on the INA226; in1 x curr1 on "acme"; coretemp and nvme have no rails */
	ck_assert_uint_eq(n, 2);
	x = eb_st_rail(r, n, "ina226.power1");
	ck_assert_double_eq_tol(x->value, 5.0, TOL);
	ck_assert_str_eq(x->source, "power_input (uW)");
	ck_assert_uint_eq(x->flags, 0);
	x = eb_st_rail(r, n, "VDD_CORE");
	ck_assert_double_eq_tol(x->value, 12.0 * 0.5, TOL);
	ck_assert_str_eq(x->source, "in_input x curr_input (mV x mA)");
	ck_assert_uint_eq(x->flags, 0);
	ck_assert_str_eq(s->name, "hwmon");
	ck_assert_int_eq(s->in_total, 1);
	ck_assert_int_eq(eb_sensor_describe(s, d, &err), 0);
	ck_assert_double_eq_tol(json_number_value(json_object_get(d, "window_ms")), 2, TOL);
	ck_assert_uint_eq(json_array_size(json_object_get(d, "rails")), 2);
	ck_assert_uint_eq(json_array_size(json_object_get(d, "devices")), 4);
	ck_assert_str_eq(json_string_value(json_object_get(d, "kind")), "hwmon");
	json_decref(d);
	eb_sensor_close(s);

	/* rails / exclude keep and drop by name */
	s = eb_st_open("hwmon", "{\"exclude\": [\"VDD_CORE\"]}", root, 100);
	n = read_all(s, r);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(r[0].rail, "ina226.power1");
	eb_sensor_close(s);
	s = eb_st_open("hwmon", "{\"rails\": [\"VDD_CORE\"], \"name\": \"board\"}", root, 100);
	n = read_all(s, r);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(r[0].rail, "VDD_CORE");
	ck_assert_str_eq(s->name, "board");
	eb_sensor_close(s);
	/* one device by path (under root) */
	s = eb_st_open("hwmon", "{\"paths\": [\"/sys/class/hwmon/hwmon1\"]}", root, 100);
	n = read_all(s, r);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(r[0].rail, "VDD_CORE");
	eb_sensor_close(s);
}
END_TEST

START_TEST(test_orin_agx_ina3221)
{
	char root[4096];
	struct eb_sensor_reading r[EB_SENSOR_READINGS_MAX];
	struct eb_sensor *s = eb_st_open("hwmon", NULL, eb_test_data("sysfs/orin", root,
								     sizeof(root)),
					 100);
	size_t n = read_all(s, r);

	/* two chips, six channels: two NC, and neither chip's sum channel (in7, curr4) */
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(r[0].rail, "VDD_GPU_SOC");
	ck_assert_double_eq_tol(r[0].value, 5.0 * 0.468, TOL);
	ck_assert_str_eq(r[1].rail, "VDD_CPU_CV");
	ck_assert_double_eq_tol(r[1].value, 5.0 * 0.078, TOL);
	ck_assert_str_eq(r[2].rail, "VIN_SYS_5V0");
	ck_assert_double_eq_tol(r[2].value, 5.0 * 0.805, TOL);
	ck_assert_str_eq(r[3].rail, "VDDQ_VDD2_1V8AO");
	ck_assert_double_eq_tol(r[3].value, 5.0 * 0.060, TOL);
	/* AGX Orin has no board input rail: nothing is the total, everything is summed */
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(r[i].flags, 0);
	eb_sensor_close(s);
}
END_TEST

START_TEST(test_orin_nano_total)
{
	char root[4096];
	struct eb_sensor_reading r[EB_SENSOR_READINGS_MAX];
	struct eb_sensor *s = eb_st_open("hwmon", NULL, eb_test_data("sysfs/orin-nano", root,
								     sizeof(root)),
					 100);
	size_t n = read_all(s, r);

	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(r[0].rail, "VDD_IN");
	ck_assert_double_eq_tol(r[0].value, 5.705, TOL);
	ck_assert_uint_eq(r[0].flags, EB_RAIL_TOTAL);
	ck_assert_str_eq(r[1].rail, "VDD_CPU_GPU_CV");
	ck_assert_double_eq_tol(r[1].value, 0.830, TOL);
	ck_assert_uint_eq(r[1].flags, EB_RAIL_NOSUM);
	ck_assert_str_eq(r[2].rail, "VDD_SOC");
	ck_assert_double_eq_tol(r[2].value, 1.625, TOL);
	ck_assert_uint_eq(r[2].flags, EB_RAIL_NOSUM);
	eb_sensor_close(s);
}
END_TEST

START_TEST(test_jp4_iio)
{
	char root[4096];
	struct eb_sensor_reading r[EB_SENSOR_READINGS_MAX];
	struct eb_sensor *s = eb_st_open("hwmon", NULL, eb_test_data("sysfs/jp4", root,
								     sizeof(root)),
					 100);
	size_t n = read_all(s, r);

	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(r[0].rail, "POM_5V_IN");
	ck_assert_double_eq_tol(r[0].value, 4.520, TOL);
	ck_assert_uint_eq(r[0].flags, EB_RAIL_TOTAL);
	ck_assert_str_eq(r[0].source, "in_power_input (mW, ina3221x iio)");
	ck_assert_str_eq(r[1].rail, "POM_5V_GPU");
	ck_assert_double_eq_tol(r[1].value, 0, TOL);
	ck_assert_uint_eq(r[1].flags, EB_RAIL_NOSUM);
	ck_assert_str_eq(r[2].rail, "POM_5V_CPU");
	ck_assert_double_eq_tol(r[2].value, 1.078, TOL);
	eb_sensor_close(s);
}
END_TEST

START_TEST(test_energy_counter)
{
	char dir[4096], hw[4096], p[4096];
	struct eb_sensor_reading r[EB_SENSOR_READINGS_MAX];
	struct eb_sensor *s;
	struct eb_err err;
	uint64_t t;
	size_t n;

	eb_test_tmpdir("hwmon-energy", dir, sizeof(dir));
	snprintf(hw, sizeof(hw), "%s/sys/class/hwmon/hwmon0", dir);
	ck_assert_int_eq(eb_mkdirs(hw, &err), 0);
	snprintf(p, sizeof(p), "%s/name", hw);
	ck_assert_int_eq(eb_write_file(p, "amd_energy\n", 11, &err), 0);
	snprintf(p, sizeof(p), "%s/energy1_label", hw);
	ck_assert_int_eq(eb_write_file(p, "Esocket0\n", 9, &err), 0);
	snprintf(p, sizeof(p), "%s/energy1_input", hw);
	ck_assert_int_eq(eb_write_file(p, "1000000\n", 8, &err), 0);
	s = eb_st_open("hwmon", NULL, dir, 100);
	/* 3 J more, read 2 s (on our stamps) after the previous read */
	ck_assert_int_eq(eb_write_file(p, "4000000\n", 8, &err), 0);
	t = 1000000000ull;
	ck_assert_int_eq(eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(r[0].rail, "Esocket0");
	ck_assert_uint_eq(r[0].flags, EB_RAIL_COUNTER);
	ck_assert_uint_eq(r[0].energy_uj, 3000000);
	ck_assert_int_eq(eb_write_file(p, "5000000\n", 8, &err), 0);
	t += 2000000000ull;
	ck_assert_int_eq(eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, &err), 0);
	ck_assert_uint_eq(r[0].energy_uj, 4000000);
	ck_assert_double_eq_tol(r[0].value, 0.5, TOL);
	eb_sensor_close(s);
}
END_TEST

/*
 * Rails of a device whose name fills EB_SENSOR_RAIL_MAX stay distinct: the name is cut
 * to make room for the "@hwmon0" / "#2" tail (fuzz_hwmon found two rails both named by
 * the cut name).
 */
START_TEST(test_long_names_unique)
{
	static const char name[] = "a-very-long-monitor-name-0123456789-0123456789-0123456789";
	char dir[4096], hw[4096], p[4096];
	struct eb_sensor_reading r[EB_SENSOR_READINGS_MAX];
	struct eb_sensor *s;
	struct eb_err err;
	uint64_t t = 1;
	size_t n;

	eb_test_tmpdir("hwmon-long", dir, sizeof(dir));
	snprintf(hw, sizeof(hw), "%s/sys/class/hwmon/hwmon0", dir);
	ck_assert_int_eq(eb_mkdirs(hw, &err), 0);
	snprintf(p, sizeof(p), "%s/name", hw);
	ck_assert_int_eq(eb_write_file(p, name, strlen(name), &err), 0);
	for (int i = 1; i <= 3; i++) {
		snprintf(p, sizeof(p), "%s/in%d_input", hw, i);
		ck_assert_int_eq(eb_write_file(p, "5000\n", 5, &err), 0);
		snprintf(p, sizeof(p), "%s/curr%d_input", hw, i);
		ck_assert_int_eq(eb_write_file(p, "100\n", 4, &err), 0);
	}
	s = eb_st_open("hwmon", NULL, dir, 100);
	ck_assert_int_eq(eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, &err), 0);
	ck_assert_uint_eq(n, 3);
	/* "<name>.in1" cut to 47 characters, then cut further for the tails */
	ck_assert_str_eq(r[0].rail, "a-very-long-monitor-name-0123456789-0123456789-");
	ck_assert_str_eq(r[1].rail, "a-very-long-monitor-name-0123456789-0123@hwmon0");
	ck_assert_str_eq(r[2].rail, "a-very-long-monitor-name-0123456789-012345678#2");
	for (size_t i = 0; i < n; i++)
		ck_assert_double_eq_tol(r[i].value, 0.5, TOL); /* 5000 mV x 100 mA */
	eb_sensor_close(s);
}
END_TEST

/* mV x mA beyond long long is a read error naming both files (fuzz_hwmon: UBSan overflow). */
START_TEST(test_vi_overflow)
{
	char dir[4096], hw[4096], in[4096], curr[4096], want[8192];
	struct eb_sensor_reading r[EB_SENSOR_READINGS_MAX];
	struct eb_sensor *s;
	struct eb_err err;
	uint64_t t = 1;
	size_t n;

	eb_test_tmpdir("hwmon-overflow", dir, sizeof(dir));
	snprintf(hw, sizeof(hw), "%s/sys/class/hwmon/hwmon0", dir);
	ck_assert_int_eq(eb_mkdirs(hw, &err), 0);
	snprintf(in, sizeof(in), "%s/in1_input", hw);
	snprintf(curr, sizeof(curr), "%s/curr1_input", hw);
	ck_assert_int_eq(eb_write_file(in, "5000\n", 5, &err), 0);
	ck_assert_int_eq(eb_write_file(curr, "100\n", 4, &err), 0);
	s = eb_st_open("hwmon", NULL, dir, 100);
	ck_assert_int_eq(eb_write_file(in, "5000000000000\n", 14, &err), 0);
	ck_assert_int_eq(eb_write_file(curr, "5000000000\n", 11, &err), 0);
	ck_assert_int_eq(eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, &err), EB_EPARSE);
	snprintf(want, sizeof(want), "'%s' x '%s': 5000000000000 mV x 5000000000 mA is out of range",
		 in, curr);
	ck_assert_str_eq(err.msg, want);
	eb_sensor_close(s);
}
END_TEST

START_TEST(test_unavailable)
{
	char dir[4096], why[1024];
	const char *w;
	struct eb_sensor *s = NULL;
	struct eb_err err;

	eb_test_tmpdir("hwmon-empty", dir, sizeof(dir));
	w = eb_sensor_unavailable("hwmon", NULL, dir, 100, why, sizeof(why));
	ck_assert_ptr_nonnull(w);
	ck_assert_msg(strstr(w, "no power rails under '") && strstr(w, "/sys/class/hwmon'"),
		      "%s", w);
	ck_assert_int_eq(eb_sensor_open(&s, "hwmon", NULL, dir, 100, &err), EB_EUNSUPPORTED);
	ck_assert_msg(strncmp(err.msg, "sensor 'hwmon' unavailable: no power rails", 42) == 0,
		      "%s", err.msg);
	ck_assert_ptr_null(s);
	/* the generic tree has rails */
	eb_test_data("sysfs/generic", dir, sizeof(dir));
	ck_assert_ptr_null(eb_sensor_unavailable("hwmon", NULL, dir, 100, why, sizeof(why)));
	/* the "root" option works as --root does */
	{
		json_t *o = json_pack("{s:s}", "root", dir);

		ck_assert_ptr_null(eb_sensor_unavailable("hwmon", o, NULL, 100, why, sizeof(why)));
		json_decref(o);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sensor_hwmon");
	TCase *tc = tcase_create("hwmon");

	tcase_add_test(tc, test_registry_checks);
	tcase_add_test(tc, test_options_validation);
	tcase_add_test(tc, test_generic);
	tcase_add_test(tc, test_orin_agx_ina3221);
	tcase_add_test(tc, test_orin_nano_total);
	tcase_add_test(tc, test_jp4_iio);
	tcase_add_test(tc, test_energy_counter);
	tcase_add_test(tc, test_long_names_unique);
	tcase_add_test(tc, test_vi_overflow);
	tcase_add_test(tc, test_unavailable);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(suite());
}
