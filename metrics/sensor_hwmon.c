/* sensor_hwmon.c: power rails from Linux hwmon (power, energy, in x curr; INA3221) and ina3221x iio. */
#include "sensor_impl.h"

#include "eb_clock.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define EB_HW_MAX_CHAN 32 /* channel numbers probed per device: 0..31 */

static const struct eb_opt eb_hw_options[] = {
	{ .name = "root", .type = EB_OPT_STR, .def = EB_DEF_STR("/"),
	  .help = "filesystem root the sysfs paths are read under (a fixture tree, a chroot)" },
	{ .name = "paths", .type = EB_OPT_ARR_STR,
	  .help = "hwmon or ina3221x iio device directories to read (under root); default: every "
		  "/sys/class/hwmon/hwmon*, /sys/bus/i2c/drivers/ina3221/*/hwmon/hwmon* and "
		  "/sys/bus/i2c/drivers/ina3221x/*/iio:device*" },
	{ .name = "rails", .type = EB_OPT_ARR_STR,
	  .help = "keep only these rails (by name)" },
	{ .name = "exclude", .type = EB_OPT_ARR_STR,
	  .help = "drop these rails (by name)" },
	{ NULL },
};

enum eb_hw_kind {
	EB_HW_POWER,  /* powerN_input, µW */
	EB_HW_POWAVG, /* powerN_average, µW (amdgpu) */
	EB_HW_ENERGY, /* energyN_input, µJ counter */
	EB_HW_VI,     /* inN_input mV x currN_input mA */
	EB_HW_IIO,    /* in_powerN_input, mW (JetPack 4 ina3221x) */
};

static const char *const eb_hw_source[] = {
	[EB_HW_POWER] = "power_input (uW)",
	[EB_HW_POWAVG] = "power_average (uW)",
	[EB_HW_ENERGY] = "energy_input (uJ counter)",
	[EB_HW_VI] = "in_input x curr_input (mV x mA)",
	[EB_HW_IIO] = "in_power_input (mW, ina3221x iio)",
};

struct eb_hw_chan {
	enum eb_hw_kind kind;
	char rail[EB_SENSOR_RAIL_MAX + 1];
	struct eb_sysfs_file f, f2; /* the value file; curr file for EB_HW_VI */
	char *dev;          /* the device directory */
	unsigned flags;
	uint64_t last_raw, acc_uj, last_t; /* EB_HW_ENERGY */
	double last_w;
};

struct eb_hw {
	struct eb_hw_chan *ch;
	size_t n, alloc;
	double window_ms; /* largest update_interval seen, -1 unknown */
	json_t *devices;  /* [{path, name}] */
	char denied[1024]; /* first path that failed with EACCES */
};

static void eb_hw_free(struct eb_hw *hw)
{
	if (!hw)
		return;
	for (size_t i = 0; i < hw->n; i++) {
		eb_sysfs_close(&hw->ch[i].f);
		eb_sysfs_close(&hw->ch[i].f2);
		free(hw->ch[i].dev);
	}
	free(hw->ch);
	if (hw->devices)
		json_decref(hw->devices);
	free(hw);
}

/* dir/<pre><i><post> into buf; 1 when that file exists. */
static int eb_hw_file(char *buf, size_t n, const char *dir, const char *pre, int i,
		      const char *post)
{
	int k = snprintf(buf, n, "%s/%s%d%s", dir, pre, i, post);

	return k > 0 && (size_t)k < n && access(buf, F_OK) == 0;
}

/* The content of dir/<pre><i><post> into out ("" when absent). */
static void eb_hw_label(const char *dir, const char *pre, int i, const char *post, char *out,
			size_t n)
{
	char p[4096];

	out[0] = '\0';
	if (eb_hw_file(p, sizeof(p), dir, pre, i, post))
		eb_sysfs_read(p, out, n, NULL);
}

static int eb_hw_in_list(const json_t *arr, const char *name)
{
	for (size_t i = 0; i < json_array_size(arr); i++)
		if (strcmp(json_string_value(json_array_get(arr, i)), name) == 0)
			return 1;
	return 0;
}

/* Reads one channel's raw value (µW, µJ, mV*mA or mW); 0 or an error. */
static int eb_hw_raw(struct eb_hw_chan *c, long long *raw, struct eb_err *err)
{
	long long a, b, ab;
	int ret = eb_sysfs_pread_ll(&c->f, &a, err);

	if (ret)
		return ret;
	if (c->kind == EB_HW_VI) {
		ret = eb_sysfs_pread_ll(&c->f2, &b, err);
		if (ret)
			return ret;
		/* a driver gone wrong (or a fixture) must not make this undefined */
		if (__builtin_mul_overflow(a, b, &ab))
			return eb_err_set(err, EB_EPARSE,
					  "'%s' x '%s': %lld mV x %lld mA is out of range", c->f.path,
					  c->f2.path, a, b);
		a = ab;
	}
	*raw = a;
	return 0;
}

static void eb_hw_add(struct eb_hw *hw, const struct eb_sensor_args *a, enum eb_hw_kind kind,
		      const char *dir, const char *path, const char *path2, const char *label,
		      const char *fallback)
{
	const json_t *keep = json_object_get(a->options, "rails");
	const json_t *drop = json_object_get(a->options, "exclude");
	struct eb_sensor_reading names[EB_SENSOR_READINGS_MAX];
	struct eb_hw_chan c;
	struct eb_err err;
	const char *base = strrchr(dir, '/');
	long long raw;

	if (label[0] && strcasecmp(label, "NC") == 0)
		return; /* an unconnected monitor channel (Jetson device trees label them NC) */
	if (hw->n >= EB_SENSOR_READINGS_MAX)
		return;
	memset(&c, 0, sizeof(c));
	c.kind = kind;
	c.dev = eb_xstrdup(dir);
	if (eb_sysfs_open(&c.f, path, &err) != 0 ||
	    (path2 && eb_sysfs_open(&c.f2, path2, &err) != 0) || eb_hw_raw(&c, &raw, &err) != 0) {
		/* a disabled channel reads ENODATA; no permission is worth explaining */
		if (errno == EACCES && !hw->denied[0])
			eb_strlcpy(hw->denied, path, sizeof(hw->denied));
		goto drop;
	}
	for (size_t i = 0; i < hw->n; i++)
		eb_reading_set(&names[i], hw->ch[i].rail, 0, NULL, 0);
	eb_reading_unique_name(names, hw->n, label[0] ? label : fallback, base ? base + 1 : dir,
			       c.rail, sizeof(c.rail));
	if ((keep && !eb_hw_in_list(keep, c.rail)) || (drop && eb_hw_in_list(drop, c.rail)))
		goto drop;
	if (kind == EB_HW_ENERGY) {
		c.flags = EB_RAIL_COUNTER;
		c.last_raw = (uint64_t)raw;
		c.last_t = eb_clock_ns();
	}
	if (hw->n == hw->alloc) {
		hw->alloc = hw->alloc ? 2 * hw->alloc : 8;
		hw->ch = eb_xrealloc(hw->ch, hw->alloc * sizeof(*hw->ch));
	}
	hw->ch[hw->n++] = c;
	return;
drop:
	eb_sysfs_close(&c.f);
	eb_sysfs_close(&c.f2);
	free(c.dev);
}

/* One hwmon device directory: power, else energy, else in x curr channels. */
static void eb_hw_scan_hwmon(struct eb_hw *hw, const struct eb_sensor_args *a, const char *dir)
{
	char name[128] = "", p[4096], p2[4096], label[128], fb[160];
	const char *base = strrchr(dir, '/');
	int ina3221, have_power = 0, have_energy = 0;
	long long ui;

	snprintf(p, sizeof(p), "%s/name", dir);
	if (eb_sysfs_read(p, name, sizeof(name), NULL) != 0 || !name[0])
		eb_strlcpy(name, base ? base + 1 : dir, sizeof(name));
	ina3221 = strcmp(name, "ina3221") == 0;
	for (int i = 0; i < EB_HW_MAX_CHAN; i++) {
		if (eb_hw_file(p, sizeof(p), dir, "power", i, "_input")) {
			have_power = 1;
			eb_hw_label(dir, "power", i, "_label", label, sizeof(label));
			snprintf(fb, sizeof(fb), "%s.power%d", name, i);
			eb_hw_add(hw, a, EB_HW_POWER, dir, p, NULL, label, fb);
		} else if (eb_hw_file(p, sizeof(p), dir, "power", i, "_average")) {
			have_power = 1;
			eb_hw_label(dir, "power", i, "_label", label, sizeof(label));
			snprintf(fb, sizeof(fb), "%s.power%d", name, i);
			eb_hw_add(hw, a, EB_HW_POWAVG, dir, p, NULL, label, fb);
		}
	}
	for (int i = 0; !have_power && i < EB_HW_MAX_CHAN; i++) {
		if (!eb_hw_file(p, sizeof(p), dir, "energy", i, "_input"))
			continue;
		have_energy = 1;
		eb_hw_label(dir, "energy", i, "_label", label, sizeof(label));
		snprintf(fb, sizeof(fb), "%s.energy%d", name, i);
		eb_hw_add(hw, a, EB_HW_ENERGY, dir, p, NULL, label, fb);
	}
	/*
	 * Bus voltage x current. On the INA3221 only channels 1-3 are rails: in4-6 are shunt
	 * voltages (µV), in7 and curr4 the sum channel.
	 */
	for (int i = 0; !have_power && !have_energy && i < EB_HW_MAX_CHAN; i++) {
		char en[16];

		if (ina3221 && (i < 1 || i > 3))
			continue;
		if (!eb_hw_file(p, sizeof(p), dir, "in", i, "_input") ||
		    !eb_hw_file(p2, sizeof(p2), dir, "curr", i, "_input"))
			continue;
		eb_hw_label(dir, "in", i, "_enable", en, sizeof(en));
		if (strcmp(en, "0") == 0)
			continue;
		eb_hw_label(dir, "in", i, "_label", label, sizeof(label));
		if (!label[0])
			eb_hw_label(dir, "curr", i, "_label", label, sizeof(label));
		if (strstr(label, "sum of") || strstr(label, "Sum of"))
			continue;
		snprintf(fb, sizeof(fb), "%s.in%d", name, i);
		eb_hw_add(hw, a, EB_HW_VI, dir, p, p2, label, fb);
	}
	snprintf(p, sizeof(p), "%s/update_interval", dir);
	if (eb_sysfs_read_ll(p, &ui, NULL) == 0 && (double)ui > hw->window_ms)
		hw->window_ms = (double)ui;
	json_array_append_new(hw->devices, json_pack("{s:s, s:s}", "path", dir, "name", name));
}

/* JetPack 4's ina3221x iio device: rail_name_N, in_powerN_input (mW). */
static void eb_hw_scan_iio(struct eb_hw *hw, const struct eb_sensor_args *a, const char *dir)
{
	char p[4096], label[128], fb[64];

	for (int i = 0; i < 8; i++) {
		if (!eb_hw_file(p, sizeof(p), dir, "rail_name_", i, ""))
			continue;
		eb_hw_label(dir, "rail_name_", i, "", label, sizeof(label));
		if (!eb_hw_file(p, sizeof(p), dir, "in_power", i, "_input"))
			continue;
		snprintf(fb, sizeof(fb), "ina3221x.%d", i);
		eb_hw_add(hw, a, EB_HW_IIO, dir, p, NULL, label, fb);
	}
	json_array_append_new(hw->devices,
			      json_pack("{s:s, s:s}", "path", dir, "name", "ina3221x"));
}

/* Adds dir once (by its real path). */
static int eb_hw_seen(char ***seen, size_t *n, const char *dir)
{
	char real[PATH_MAX];
	const char *key = realpath(dir, real) ? real : dir;

	for (size_t i = 0; i < *n; i++)
		if (strcmp((*seen)[i], key) == 0)
			return 1;
	*seen = eb_xrealloc(*seen, (*n + 1) * sizeof(**seen));
	(*seen)[(*n)++] = eb_xstrdup(key);
	return 0;
}

static void eb_hw_scan_dir(struct eb_hw *hw, const struct eb_sensor_args *a, const char *dir,
			   char ***seen, size_t *nseen)
{
	char p[4096];

	if (eb_hw_seen(seen, nseen, dir))
		return;
	snprintf(p, sizeof(p), "%s/rail_name_0", dir);
	if (access(p, F_OK) == 0)
		eb_hw_scan_iio(hw, a, dir);
	else
		eb_hw_scan_hwmon(hw, a, dir);
}

static struct eb_hw *eb_hw_discover(const struct eb_sensor_args *a)
{
	static const char *const patterns[] = {
		"/sys/class/hwmon/hwmon*",
		"/sys/bus/i2c/drivers/ina3221/*/hwmon/hwmon*",
		"/sys/bus/i2c/drivers/ina3221x/*/iio:device*",
		"/sys/bus/i2c/drivers/ina3221x/*/iio_device", /* older L4T */
	};
	const json_t *paths = json_object_get(a->options, "paths");
	struct eb_hw *hw = eb_xcalloc(1, sizeof(*hw));
	char **seen = NULL;
	size_t nseen = 0;

	hw->window_ms = -1;
	hw->devices = json_array();
	if (paths) {
		for (size_t i = 0; i < json_array_size(paths); i++) {
			char p[4096];

			if (eb_sysfs_path(p, sizeof(p), a->root,
					  json_string_value(json_array_get(paths, i))))
				eb_hw_scan_dir(hw, a, p, &seen, &nseen);
		}
	} else {
		for (size_t k = 0; k < sizeof(patterns) / sizeof(patterns[0]); k++) {
			glob_t g;
			size_t n = eb_sysfs_glob(a->root, patterns[k], &g);

			for (size_t i = 0; i < n; i++)
				eb_hw_scan_dir(hw, a, g.gl_pathv[i], &seen, &nseen);
			if (n)
				globfree(&g);
		}
	}
	for (size_t i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	return hw;
}

static const char *eb_hw_reason(const struct eb_hw *hw, const struct eb_sensor_args *a,
				char *buf, size_t n)
{
	if (hw->n)
		return NULL;
	if (hw->denied[0])
		snprintf(buf, n, "permission denied reading '%s' (run as root or chmod o+r it)",
			 hw->denied);
	else
		snprintf(buf, n,
			 "no power rails under '%s/sys/class/hwmon' or the INA3221 drivers "
			 "(no power*_input, energy*_input or in*_input/curr*_input pairs)",
			 a->root);
	return buf;
}

static const char *eb_hw_unavailable(const struct eb_sensor_args *a, char *buf, size_t n)
{
	struct eb_hw *hw = eb_hw_discover(a);
	const char *why = eb_hw_reason(hw, a, buf, n);

	eb_hw_free(hw);
	return why;
}

static void eb_hw_mark(struct eb_hw *hw)
{
	struct eb_sensor_reading r[EB_SENSOR_READINGS_MAX];

	for (size_t i = 0; i < hw->n; i++)
		eb_reading_set(&r[i], hw->ch[i].rail, 0, NULL, hw->ch[i].flags);
	eb_readings_mark_input_total(r, hw->n);
	for (size_t i = 0; i < hw->n; i++)
		hw->ch[i].flags = r[i].flags;
}

static int eb_hw_open(const struct eb_sensor_args *a, void **state, struct eb_err *err)
{
	struct eb_hw *hw = eb_hw_discover(a);
	char why[1024];

	if (eb_hw_reason(hw, a, why, sizeof(why))) {
		eb_hw_free(hw);
		return eb_err_set(err, EB_EUNSUPPORTED, "%s", why);
	}
	eb_hw_mark(hw);
	*state = hw;
	return 0;
}

static int eb_hw_read(void *state, uint64_t *t_ns, struct eb_sensor_reading *out, size_t max,
		      size_t *n, struct eb_err *err)
{
	struct eb_hw *hw = state;

	*n = 0;
	for (size_t i = 0; i < hw->n && *n < max; i++) {
		struct eb_hw_chan *c = &hw->ch[i];
		struct eb_sensor_reading *r = &out[*n];
		long long raw;
		double w = 0;
		int ret = eb_hw_raw(c, &raw, err);

		if (ret)
			return ret;
		switch (c->kind) {
		case EB_HW_POWER:
		case EB_HW_POWAVG:
			w = (double)raw / 1e6;
			break;
		case EB_HW_VI:
			w = (double)raw / 1e6;
			break;
		case EB_HW_IIO:
			w = (double)raw / 1e3;
			break;
		case EB_HW_ENERGY: {
			/* a counter that went back was reset (driver reload): count from 0 */
			uint64_t d = (uint64_t)raw >= c->last_raw ? (uint64_t)raw - c->last_raw
								  : (uint64_t)raw;

			c->acc_uj += d;
			if (*t_ns > c->last_t)
				c->last_w = (double)d / ((double)(*t_ns - c->last_t) / 1e3);
			c->last_raw = (uint64_t)raw;
			c->last_t = *t_ns;
			w = c->last_w;
			break;
		}
		}
		eb_reading_set(r, c->rail, w, eb_hw_source[c->kind], c->flags);
		r->energy_uj = c->acc_uj;
		(*n)++;
	}
	return 0;
}

static int eb_hw_describe(void *state, json_t *out, struct eb_err *err)
{
	struct eb_hw *hw = state;
	json_t *rails = json_array();

	for (size_t i = 0; i < hw->n; i++)
		json_array_append_new(rails,
				      json_pack("{s:s, s:s, s:o, s:s, s:s*}", "rail", hw->ch[i].rail,
						"source", eb_hw_source[hw->ch[i].kind], "flags",
						eb_sensor_flags_json(hw->ch[i].flags), "path",
						hw->ch[i].f.path, "path2", hw->ch[i].f2.path));
	json_object_set_new(out, "interval_ms", json_null());
	json_object_set_new(out, "window_ms",
			    hw->window_ms >= 0 ? json_real(hw->window_ms) : json_null());
	json_object_set_new(out, "window",
			    json_string(hw->window_ms >= 0
						? "the chip's update_interval (conversion and "
						  "averaging time)"
						: "the chip's conversion/averaging time (not exposed)"));
	json_object_set(out, "devices", hw->devices);
	json_object_set_new(out, "rails", rails);
	return 0;
}

static void eb_hw_close(void *state)
{
	eb_hw_free(state);
}

const struct eb_sensor_ops eb_sensor_hwmon = {
	.name = "hwmon",
	.abi = EB_SENSOR_ABI,
	.caps = EB_SENSOR_CAP_POWER | EB_SENSOR_CAP_ROOT,
	.options = eb_hw_options,
	.help = "Linux hwmon power monitors: power*_input (uW), energy*_input (uJ), in x curr "
		"(mV x mA); INA3221 on Jetson Orin, INA2xx, JetPack 4 ina3221x iio",
	.unavailable_reason = eb_hw_unavailable,
	.open = eb_hw_open,
	.read = eb_hw_read,
	.describe = eb_hw_describe,
	.close = eb_hw_close,
};
