/* fuzz_hwmon.c: the hwmon sensor on a sysfs tree built from the input: value and label parsing, naming, reads. */
#include "fuzz.h"

#include "eb_util.h"
#include "sensor.h"

#include <errno.h>
#include <ftw.h>

/*
 * The input is text, one attribute per line:
 *   power1_input=5000000|6000000   file "power1_input" holds 5000000 for discovery and the
 *                                  first read, then 6000000 for the second read
 *   @                              later lines go to the next device directory (at most 4)
 *   +NAME / -NAME                  keep only / drop rail NAME (the "rails" / "exclude" options)
 * Names are [A-Za-z0-9_] (1..48 characters); other lines are ignored. Devices live at
 * <scratch>/hw/sys/class/hwmon/hwmonN and the sensor discovers them under root <scratch>/hw.
 */

#define MAX_DEV 4
#define MAX_ATTR 64

struct attr {
	char path[700];
	const char *second; /* into the input copy, or NULL */
	size_t second_len;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static int name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 48)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eb_sensor_reading r[EB_SENSOR_READINGS_MAX];
	struct attr attrs[MAX_ATTR];
	char root[600], dev[700], *text = eb_fuzz_strdup(data, size), *line = text;
	char *end = text + size;
	json_t *opts = json_object(), *keep = json_array(), *drop = json_array(), *desc;
	struct eb_sensor *s = NULL;
	struct eb_err err;
	size_t n_attr = 0;
	int ndev = 0, rc;

	eb_fuzz_path(root, sizeof(root), "hw");
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	snprintf(dev, sizeof(dev), "%s/sys/class/hwmon/hwmon0", root);
	if (eb_mkdirs(dev, &err) != 0) {
		fprintf(stderr, "%s\n", err.msg);
		abort();
	}
	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		char *eq, *bar;
		size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);

		if (len >= 1 && line[0] == '@') {
			if (ndev + 1 < MAX_DEV) {
				snprintf(dev, sizeof(dev), "%s/sys/class/hwmon/hwmon%d", root, ++ndev);
				eb_mkdirs(dev, &err);
			}
		} else if (len >= 1 && (line[0] == '+' || line[0] == '-')) {
			json_array_append_new(line[0] == '+' ? keep : drop,
					      json_stringn(line + 1, len - 1));
		} else if ((eq = memchr(line, '=', len)) && name_ok(line, (size_t)(eq - line)) &&
			   n_attr < MAX_ATTR) {
			struct attr *a = &attrs[n_attr++];
			const char *val = eq + 1;
			size_t vlen = len - (size_t)(val - line);

			snprintf(a->path, sizeof(a->path), "%s/%.*s", dev, (int)(eq - line), line);
			bar = memchr(val, '|', vlen);
			a->second = bar ? bar + 1 : NULL;
			a->second_len = bar ? vlen - (size_t)(bar + 1 - val) : 0;
			eb_fuzz_write(a->path, val, bar ? (size_t)(bar - val) : vlen);
		}
		line += len + 1;
	}
	/* json_stringn refuses invalid UTF-8 (NULL): such a name is simply not added */
	if (json_array_size(keep))
		json_object_set(opts, "rails", keep);
	if (json_array_size(drop))
		json_object_set(opts, "exclude", drop);
	rc = eb_sensor_open(&s, "hwmon", opts, root, 100, &err);
	EB_FUZZ_CHECK(rc == 0 || rc == EB_EUNSUPPORTED, "open: %d %s", rc, err.msg);
	if (rc == 0) {
		for (int pass = 0; pass < 2; pass++) {
			uint64_t t = 1000000000ull * (uint64_t)(pass + 1);
			size_t n = 0;

			if (pass == 1)
				for (size_t i = 0; i < n_attr; i++)
					if (attrs[i].second)
						eb_fuzz_write(attrs[i].path, attrs[i].second,
							      attrs[i].second_len);
			rc = eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, &err);
			EB_FUZZ_CHECK(rc <= 0 && (rc == 0 || err.msg[0]), "read: %d", rc);
			if (rc)
				break;
			EB_FUZZ_CHECK(n >= 1 && n <= EB_SENSOR_READINGS_MAX, "%zu readings", n);
			for (size_t k = 0; k < n; k++) {
				EB_FUZZ_CHECK(memchr(r[k].rail, '\0', sizeof(r[k].rail)) != NULL &&
						      r[k].rail[0],
					      "rail %zu", k);
				for (size_t j = 0; j < k; j++)
					EB_FUZZ_CHECK(strcmp(r[j].rail, r[k].rail) != 0,
						      "rails %zu and %zu are both '%s'", j, k,
						      r[k].rail);
			}
		}
		desc = json_object();
		EB_FUZZ_CHECK(eb_sensor_describe(s, desc, &err) == 0, "describe: %s", err.msg);
		json_decref(desc);
		eb_sensor_close(s);
	}
	json_decref(keep);
	json_decref(drop);
	json_decref(opts);
	free(text);
	return 0;
}
