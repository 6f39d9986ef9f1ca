/* devstate.c: CPU governors/clocks, thermal zones, nvpmodel, jetson_clocks, devfreq (see devstate.h). */
#include "devstate.h"
#include "sensor_impl.h"

#include "eb_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* root/dir/file into buf (whole file, trimmed); 0 or -1. */
static int eb_ds_read(const char *dir, const char *file, char *buf, size_t n)
{
	char p[4096];

	if (snprintf(p, sizeof(p), "%s/%s", dir, file) >= (int)sizeof(p))
		return -1;
	return eb_sysfs_read(p, buf, n, NULL) == 0 ? 0 : -1;
}

static int eb_ds_ll(const char *dir, const char *file, long long *v)
{
	char buf[64];

	return eb_ds_read(dir, file, buf, sizeof(buf)) == 0 &&
			       eb_parse_ll(buf, -(1LL << 62), 1LL << 62, v) == 0
		       ? 0
		       : -1;
}

static void eb_ds_set_ll(json_t *o, const char *key, const char *dir, const char *file)
{
	long long v;

	if (eb_ds_ll(dir, file, &v) == 0)
		json_object_set_new(o, key, json_integer(v));
}

static void eb_ds_set_str(json_t *o, const char *key, const char *dir, const char *file)
{
	char buf[256];

	if (eb_ds_read(dir, file, buf, sizeof(buf)) == 0 && buf[0])
		json_object_set_new(o, key, json_string(buf));
}

/* The number after "cpu" in a path ending in cpuN; -1 when none. */
static long eb_ds_cpu_index(const char *path)
{
	const char *b = strrchr(path, '/');
	long long v;

	b = b ? b + 1 : path;
	if (strncmp(b, "cpu", 3) != 0 || eb_parse_ll(b + 3, 0, 1 << 20, &v) != 0)
		return -1;
	return (long)v;
}

/* CPU clocks; *pinned: 1 when every CPU's min == max, 0 when one differs, -1 unknown. */
static json_t *eb_ds_cpu(const char *root, int *pinned)
{
	json_t *o = json_object(), *cpus = json_array(), *govs = json_object();
	const char *gov0 = NULL;
	char path[4096], govbuf[64], first_gov[64] = "";
	int same = 1;
	glob_t g;
	size_t n;

	*pinned = -1;
	if (eb_sysfs_path(path, sizeof(path), root, "/sys/devices/system/cpu"))
		eb_ds_set_str(o, "online", path, "online");
	n = eb_sysfs_glob(root, "/sys/devices/system/cpu/cpu[0-9]*", &g);
	for (size_t i = 0; i < n; i++) {
		const char *dir = g.gl_pathv[i];
		long idx = eb_ds_cpu_index(dir);
		char fdir[4096];
		long long lo, hi;
		json_t *c;

		if (idx < 0)
			continue;
		snprintf(fdir, sizeof(fdir), "%s/cpufreq", dir);
		if (eb_ds_read(fdir, "scaling_governor", govbuf, sizeof(govbuf)) != 0)
			continue;
		c = json_pack("{s:I, s:s}", "cpu", (json_int_t)idx, "governor", govbuf);
		eb_ds_set_ll(c, "cur_khz", fdir, "scaling_cur_freq");
		eb_ds_set_ll(c, "min_khz", fdir, "scaling_min_freq");
		eb_ds_set_ll(c, "max_khz", fdir, "scaling_max_freq");
		eb_ds_set_ll(c, "hw_max_khz", fdir, "cpuinfo_max_freq");
		json_array_append_new(cpus, c);
		json_object_set_new(govs, strrchr(dir, '/') + 1, json_string(govbuf));
		if (!first_gov[0])
			eb_strlcpy(first_gov, govbuf, sizeof(first_gov));
		else if (strcmp(first_gov, govbuf) != 0)
			same = 0;
		if (eb_ds_ll(fdir, "scaling_min_freq", &lo) == 0 &&
		    eb_ds_ll(fdir, "scaling_max_freq", &hi) == 0)
			*pinned = (*pinned != 0 && lo == hi) ? 1 : 0;
	}
	if (n)
		globfree(&g);
	gov0 = first_gov[0] ? first_gov : NULL;
	if (gov0 && same) {
		json_object_set_new(o, "governor", json_string(gov0));
		json_decref(govs);
	} else if (gov0) {
		json_object_set_new(o, "governors", govs);
	} else {
		json_decref(govs);
	}
	json_object_set_new(o, "cpus", cpus);
	return o;
}

static json_t *eb_ds_thermal(const char *root)
{
	json_t *a = json_array();
	glob_t g;
	size_t n = eb_sysfs_glob(root, "/sys/class/thermal/thermal_zone*", &g);

	for (size_t i = 0; i < n; i++) {
		const char *dir = g.gl_pathv[i];
		char type[128] = "";
		long long mc, trip = -1;
		json_t *z;

		if (eb_ds_ll(dir, "temp", &mc) != 0 || mc <= -256000)
			continue;
		eb_ds_read(dir, "type", type, sizeof(type));
		z = json_pack("{s:s, s:s, s:f}", "zone", strrchr(dir, '/') + 1, "type", type,
			      "temp_c", (double)mc / 1000.0);
		/* where the kernel starts throttling: its lowest passive (or hot) trip point */
		for (int k = 0; k < 32; k++) {
			char file[64], ttype[32];
			long long tc;

			snprintf(file, sizeof(file), "trip_point_%d_type", k);
			if (eb_ds_read(dir, file, ttype, sizeof(ttype)) != 0)
				break;
			snprintf(file, sizeof(file), "trip_point_%d_temp", k);
			if ((strcmp(ttype, "passive") == 0 || strcmp(ttype, "hot") == 0) &&
			    eb_ds_ll(dir, file, &tc) == 0 && tc > 0 && (trip < 0 || tc < trip))
				trip = tc;
		}
		if (trip > 0)
			json_object_set_new(z, "trip_c", json_real((double)trip / 1000.0));
		json_array_append_new(a, z);
	}
	if (n)
		globfree(&g);
	return a;
}

/* devfreq devices; *pinned as for the CPUs. */
static json_t *eb_ds_devfreq(const char *root, int *pinned)
{
	json_t *a = json_array();
	glob_t g;
	size_t n = eb_sysfs_glob(root, "/sys/class/devfreq/*", &g);

	*pinned = -1;
	for (size_t i = 0; i < n; i++) {
		const char *dir = g.gl_pathv[i];
		json_t *d = json_pack("{s:s}", "device", strrchr(dir, '/') + 1);
		long long lo, hi;

		eb_ds_set_str(d, "governor", dir, "governor");
		eb_ds_set_ll(d, "cur_hz", dir, "cur_freq");
		eb_ds_set_ll(d, "min_hz", dir, "min_freq");
		eb_ds_set_ll(d, "max_hz", dir, "max_freq");
		if (eb_ds_ll(dir, "min_freq", &lo) == 0 && eb_ds_ll(dir, "max_freq", &hi) == 0)
			*pinned = (*pinned != 0 && lo == hi) ? 1 : 0;
		json_array_append_new(a, d);
	}
	if (n)
		globfree(&g);
	return a;
}

/* "pmode:0002 fmode:..." -> 2; -1 when absent. */
static long eb_ds_pmode(const char *root)
{
	char path[4096], buf[256];
	const char *p;
	long long v;

	if (!eb_sysfs_path(path, sizeof(path), root, "/var/lib/nvpmodel/status") ||
	    eb_sysfs_read(path, buf, sizeof(buf), NULL) != 0)
		return -1;
	p = strstr(buf, "pmode:");
	if (!p)
		return -1;
	p += 6;
	{
		char num[16];
		size_t k = 0;

		while (k < sizeof(num) - 1 && p[k] >= '0' && p[k] <= '9') {
			num[k] = p[k];
			k++;
		}
		num[k] = '\0';
		if (eb_parse_ll(num, 0, 1 << 20, &v) != 0)
			return -1;
	}
	return (long)v;
}

/* The NAME of "< POWER_MODEL ID=id NAME=... >" in nvpmodel.conf, into buf; 0 or -1. */
static int eb_ds_pmode_name(const char *root, long id, char *out, size_t n)
{
	char path[4096];
	char *data = NULL, *line, *next;
	size_t len;
	int ret = -1;

	if (!eb_sysfs_path(path, sizeof(path), root, "/etc/nvpmodel.conf") ||
	    eb_read_file(path, 1 << 20, &data, &len, NULL) != 0)
		return -1;
	for (line = data; line && *line; line = next) {
		const char *id_at, *name_at;
		char idbuf[16];
		long long v;
		size_t k = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strstr(line, "POWER_MODEL"))
			continue;
		id_at = strstr(line, "ID=");
		name_at = strstr(line, "NAME=");
		if (!id_at || !name_at)
			continue;
		id_at += 3;
		while (k < sizeof(idbuf) - 1 && id_at[k] >= '0' && id_at[k] <= '9') {
			idbuf[k] = id_at[k];
			k++;
		}
		idbuf[k] = '\0';
		if (eb_parse_ll(idbuf, 0, 1 << 20, &v) != 0 || v != id)
			continue;
		name_at += 5;
		k = strcspn(name_at, " \t>");
		if (k >= n)
			k = n - 1;
		memcpy(out, name_at, k);
		out[k] = '\0';
		ret = 0;
		break;
	}
	free(data);
	return ret;
}

/* "# R35 (release), REVISION: 4.1, ..." -> "R35.4.1"; 0 or -1. */
static int eb_ds_l4t(const char *root, char *out, size_t n)
{
	char path[4096], buf[512];
	const char *r, *rev;
	int major = -1;

	if (!eb_sysfs_path(path, sizeof(path), root, "/etc/nv_tegra_release") ||
	    eb_sysfs_read(path, buf, sizeof(buf), NULL) != 0)
		return -1;
	r = strstr(buf, "# R");
	rev = strstr(buf, "REVISION: ");
	if (!r)
		return -1;
	{
		char num[16];
		long long v;
		size_t k = 0;

		r += 3;
		while (k < sizeof(num) - 1 && r[k] >= '0' && r[k] <= '9') {
			num[k] = r[k];
			k++;
		}
		num[k] = '\0';
		if (eb_parse_ll(num, 0, 1000, &v) != 0)
			return -1;
		major = (int)v;
	}
	if (rev) {
		size_t k;

		rev += 10;
		k = strcspn(rev, ", \n");
		snprintf(out, n, "R%d.%.*s", major, (int)k, rev);
	} else {
		snprintf(out, n, "R%d", major);
	}
	return 0;
}

json_t *eb_devstate_collect(const char *root)
{
	json_t *o = json_object();
	char path[4096], model[256] = "", l4t[64], name[64];
	int cpu_pinned, dev_pinned;
	long pmode;
	int jetson;

	if (!root)
		root = "";
	json_object_set_new(o, "cpu", eb_ds_cpu(root, &cpu_pinned));
	json_object_set_new(o, "thermal", eb_ds_thermal(root));
	json_object_set_new(o, "devfreq", eb_ds_devfreq(root, &dev_pinned));
	if (eb_sysfs_path(path, sizeof(path), root, "/proc/device-tree/model"))
		eb_sysfs_read(path, model, sizeof(model), NULL);
	/* the device-tree model ends with a NUL that read() keeps */
	model[strcspn(model, "\n")] = '\0';
	pmode = eb_ds_pmode(root);
	jetson = pmode >= 0 || eb_sysfs_exists(root, "/etc/nv_tegra_release") ||
		 strstr(model, "Jetson") || strstr(model, "NVIDIA");
	if (jetson) {
		json_t *j = json_object();

		if (model[0])
			json_object_set_new(j, "model", json_string(model));
		if (eb_ds_l4t(root, l4t, sizeof(l4t)) == 0)
			json_object_set_new(j, "l4t", json_string(l4t));
		if (pmode >= 0) {
			json_t *nv = json_pack("{s:i}", "id", (int)pmode);

			if (eb_ds_pmode_name(root, pmode, name, sizeof(name)) == 0)
				json_object_set_new(nv, "name", json_string(name));
			json_object_set_new(j, "nvpmodel", nv);
		}
		if (cpu_pinned < 0)
			json_object_set_new(j, "jetson_clocks", json_string("unknown"));
		else
			json_object_set_new(j, "jetson_clocks",
					    json_string(cpu_pinned == 1 && dev_pinned != 0 ? "on"
											   : "off"));
		json_object_set_new(j, "jetson_clocks_basis",
				    json_string("inferred: on when every CPU's and devfreq "
						"device's minimum clock equals its maximum"));
		json_object_set_new(o, "jetson", j);
	} else if (model[0]) {
		json_object_set_new(o, "model", json_string(model));
	}
	return o;
}

int eb_devstate_zone_temp(const char *root, const char *zone, double *celsius,
			  struct eb_err *err)
{
	glob_t g;
	size_t n = eb_sysfs_glob(root, "/sys/class/thermal/thermal_zone*", &g);
	int ret = eb_err_set(err, EB_ENOENT, "no thermal zone '%s'", zone);

	for (size_t i = 0; i < n; i++) {
		const char *dir = g.gl_pathv[i];
		char type[128] = "", p[4096];
		long long mc;

		eb_ds_read(dir, "type", type, sizeof(type));
		if (strcmp(type, zone) != 0 && strcmp(strrchr(dir, '/') + 1, zone) != 0)
			continue;
		snprintf(p, sizeof(p), "%s/temp", dir);
		ret = eb_sysfs_read_ll(p, &mc, err);
		if (ret == 0)
			*celsius = (double)mc / 1000.0;
		break;
	}
	if (n)
		globfree(&g);
	return ret;
}

int eb_devstate_cooldown(const char *root, const char *zone, double below_c, double timeout_s,
			 volatile int *stop, double *waited_s, struct eb_err *err)
{
	uint64_t t0 = eb_clock_ns();
	double c = 0;
	int ret;

	for (;;) {
		double waited = (double)(eb_clock_ns() - t0) / 1e9;

		if (waited_s)
			*waited_s = waited;
		ret = eb_devstate_zone_temp(root, zone, &c, err);
		if (ret)
			return ret;
		if (c < below_c)
			return 0;
		if (stop && *stop)
			return eb_err_set(err, EB_EINTR, "interrupted while cooling down");
		if (waited >= timeout_s)
			return eb_err_set(err, EB_ETIMEOUT,
					  "thermal zone '%s' still at %.1f C after %.0f s (waiting "
					  "for < %.1f C)",
					  zone, c, waited, below_c);
		eb_clock_sleep_ns(500000000ull, stop);
	}
}
