/* sensortest.h: helpers the sensor/sampler suites share (fixture copies, PATH, opening sensors). */
#ifndef EB_SENSORTEST_H
#define EB_SENSORTEST_H

#include "testutil.h"

#include "eb_clock.h"
#include "eb_proc.h"
#include "eb_util.h"
#include "sensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies tests/data/<rel> to a fresh tmp dir named `name`; the copy's path into buf. */
static inline const char *eb_st_copy(const char *rel, const char *name, char *buf, size_t n)
{
	char src[4096], dir[4096];
	const char *argv[] = { "cp", "-R", src, buf, NULL };
	struct eb_err err;
	char *out = NULL;
	int rc;

	eb_test_data(rel, src, sizeof(src));
	eb_test_tmpdir(name, dir, sizeof(dir));
	snprintf(buf, n, "%s/root", dir);
	rc = eb_proc_capture(argv, 1, 1 << 16, &out, &err);
	ck_assert_msg(rc == 0, "cp -R %s %s: %s", src, buf, out ? out : err.msg);
	free(out);
	return buf;
}

/* Puts tests/data/bin first in PATH (fake tegrastats, fake-meter). */
static inline void eb_st_fake_path(void)
{
	char bin[4096], path[8192];
	const char *old = getenv("PATH");

	eb_test_data("bin", bin, sizeof(bin));
	if (old && strncmp(old, bin, strlen(bin)) == 0)
		return;
	snprintf(path, sizeof(path), "%s:%s", bin, old ? old : "/usr/bin:/bin");
	setenv("PATH", path, 1);
}

/* Opens `kind` with options given as JSON text; the test fails when it cannot. */
static inline struct eb_sensor *eb_st_open(const char *kind, const char *opts_json,
					   const char *root, unsigned interval_ms)
{
	json_error_t je;
	json_t *opts = json_loads(opts_json ? opts_json : "{}", 0, &je);
	struct eb_sensor *s = NULL;
	struct eb_err err;
	int rc;

	ck_assert_msg(opts != NULL, "bad options JSON: %s", je.text);
	rc = eb_sensor_open(&s, kind, opts, root, interval_ms, &err);
	json_decref(opts);
	ck_assert_msg(rc == 0, "open %s: %s", kind, err.msg);
	return s;
}

/* The reading of `rail` in r[0..n); the test fails when absent. */
static inline const struct eb_sensor_reading *eb_st_rail(const struct eb_sensor_reading *r,
							 size_t n, const char *rail)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(r[i].rail, rail) == 0)
			return &r[i];
	ck_abort_msg("no rail '%s' among %zu readings", rail, n);
	return NULL;
}

#endif
