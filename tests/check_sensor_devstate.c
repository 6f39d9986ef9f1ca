/* check_sensor_devstate.c: device state (CPU clocks, thermal, nvpmodel, jetson_clocks) and cool-down from a fixture root. */
/* ctest: labels=unit timeout=60 */
#include "sensortest.h"

#include "devstate.h"

#include <math.h>

START_TEST(test_collect_jetson)
{
	char root[4096];
	json_t *st = eb_devstate_collect(eb_test_data("sysfs/devstate", root, sizeof(root)));
	const json_t *cpu = json_object_get(st, "cpu"), *c0, *th, *df, *j;

	ck_assert_str_eq(json_string_value(json_object_get(cpu, "online")), "0-1");
	ck_assert_str_eq(json_string_value(json_object_get(cpu, "governor")), "schedutil");
	ck_assert_uint_eq(json_array_size(json_object_get(cpu, "cpus")), 2);
	c0 = json_array_get(json_object_get(cpu, "cpus"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(c0, "cpu")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(c0, "cur_khz")), 1984000);
	ck_assert_int_eq(json_integer_value(json_object_get(c0, "hw_max_khz")), 2201600);
	/* the -256 C zone is an absent sensor: left out */
	th = json_object_get(st, "thermal");
	ck_assert_uint_eq(json_array_size(th), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(th, 0), "type")),
			 "cpu-thermal");
	ck_assert_double_eq_tol(json_number_value(json_object_get(json_array_get(th, 0), "temp_c")),
				45.5, 1e-9);
	df = json_array_get(json_object_get(st, "devfreq"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(df, "device")), "17000000.ga10b");
	ck_assert_int_eq(json_integer_value(json_object_get(df, "max_hz")), 1300500000);
	j = json_object_get(st, "jetson");
	ck_assert_str_eq(json_string_value(json_object_get(j, "model")),
			 "NVIDIA Jetson AGX Orin Developer Kit");
	ck_assert_str_eq(json_string_value(json_object_get(j, "l4t")), "R35.4.1");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "nvpmodel"), "id")), 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "nvpmodel"), "name")),
			 "MAXN");
	/* every CPU and the GPU pinned at their maximum */
	ck_assert_str_eq(json_string_value(json_object_get(j, "jetson_clocks")), "on");
	json_decref(st);
}
END_TEST

START_TEST(test_clocks_off_and_mode)
{
	char root[4096], p[4200];
	struct eb_err err;
	json_t *st;

	eb_st_copy("sysfs/devstate", "devstate-off", root, sizeof(root));
	snprintf(p, sizeof(p), "%s/sys/devices/system/cpu/cpu1/cpufreq/scaling_min_freq", root);
	ck_assert_int_eq(eb_write_file(p, "729600\n", 7, &err), 0);
	snprintf(p, sizeof(p), "%s/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor", root);
	ck_assert_int_eq(eb_write_file(p, "performance\n", 12, &err), 0);
	snprintf(p, sizeof(p), "%s/var/lib/nvpmodel/status", root);
	ck_assert_int_eq(eb_write_file(p, "pmode:0001 fmode:quiet\n", 23, &err), 0);
	st = eb_devstate_collect(root);
	ck_assert_str_eq(
		json_string_value(json_object_get(json_object_get(st, "jetson"), "jetson_clocks")),
		"off");
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(json_object_get(st, "jetson"), "nvpmodel"), "name")),
			 "MODE_15W");
	/* governors disagree: listed per CPU */
	ck_assert_ptr_null(json_object_get(json_object_get(st, "cpu"), "governor"));
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(json_object_get(st, "cpu"), "governors"), "cpu1")),
			 "performance");
	json_decref(st);
}
END_TEST

START_TEST(test_not_a_jetson)
{
	char dir[4096];
	json_t *st = eb_devstate_collect(eb_test_data("sysfs/generic", dir, sizeof(dir)));

	ck_assert_ptr_null(json_object_get(st, "jetson"));
	ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(st, "cpu"), "cpus")), 0);
	json_decref(st);
}
END_TEST

START_TEST(test_cooldown)
{
	char root[4096];
	struct eb_err err;
	double c = 0, waited = -1;

	eb_test_data("sysfs/devstate", root, sizeof(root));
	ck_assert_int_eq(eb_devstate_zone_temp(root, "tj-thermal", &c, &err), 0);
	ck_assert_double_eq_tol(c, 47.343, 1e-9);
	ck_assert_int_eq(eb_devstate_zone_temp(root, "thermal_zone0", &c, &err), 0);
	ck_assert_double_eq_tol(c, 45.5, 1e-9);
	ck_assert_int_eq(eb_devstate_zone_temp(root, "gpu-thermal", &c, &err), EB_ENOENT);
	ck_assert_str_eq(err.msg, "no thermal zone 'gpu-thermal'");
	ck_assert_int_eq(eb_devstate_cooldown(root, "cpu-thermal", 50, 5, NULL, &waited, &err), 0);
	ck_assert(waited >= 0 && waited < 0.5);
	ck_assert_int_eq(eb_devstate_cooldown(root, "cpu-thermal", 40, 0.6, NULL, &waited, &err),
			 EB_ETIMEOUT);
	ck_assert_msg(strncmp(err.msg, "thermal zone 'cpu-thermal' still at 45.5 C after ", 48) == 0,
		      "%s", err.msg);
	ck_assert(waited >= 0.6);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sensor_devstate");
	TCase *tc = tcase_create("devstate");

	tcase_add_test(tc, test_collect_jetson);
	tcase_add_test(tc, test_clocks_off_and_mode);
	tcase_add_test(tc, test_not_a_jetson);
	tcase_add_test(tc, test_cooldown);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(suite());
}
