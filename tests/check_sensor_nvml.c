/* check_sensor_nvml.c: NVML's explained unavailability (no driver, a library that is not NVML). */
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

static Suite *suite(void)
{
	Suite *s = suite_create("sensor_nvml");
	TCase *tc = tcase_create("nvml");

	tcase_add_test(tc, test_no_library);
	tcase_add_test(tc, test_not_nvml);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(suite());
}
