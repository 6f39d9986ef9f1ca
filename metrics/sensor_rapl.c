/* sensor_rapl.c: CPU package/DRAM/psys energy from powercap RAPL counters, with wraparound. */
#include "sensor_impl.h"
#include "energy.h"

#include "eb_clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EB_RAPL_MAX 32

static const struct eb_opt eb_rapl_options[] = {
	{ .name = "root", .type = EB_OPT_STR, .def = EB_DEF_STR("/"),
	  .help = "filesystem root /sys/class/powercap is read under (a fixture tree)" },
	{ .name = "zones", .type = EB_OPT_ARR_STR,
	  .help = "zone directories to read, e.g. [\"intel-rapl:0\", \"intel-rapl:0:2\"] (default: "
		  "every intel-rapl:* zone)" },
	{ .name = "subzones", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(1),
	  .help = "also read subzones (core, uncore, dram) besides packages and psys" },
	{ NULL },
};

struct eb_rapl_zone {
	char rail[EB_SENSOR_RAIL_MAX + 1];
	struct eb_sysfs_file energy;
	uint64_t max_range, last_raw, acc_uj, last_t;
	double last_w;
	unsigned flags;
	size_t n_wraps;
};

struct eb_rapl {
	struct eb_rapl_zone z[EB_RAPL_MAX];
	size_t n;
	char *dir;
};

static void eb_rapl_free(struct eb_rapl *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		eb_sysfs_close(&r->z[i].energy);
	free(r->dir);
	free(r);
}

static int eb_rapl_wanted(const json_t *zones, const char *base)
{
	if (!zones)
		return 1;
	for (size_t i = 0; i < json_array_size(zones); i++)
		if (strcmp(json_string_value(json_array_get(zones, i)), base) == 0)
			return 1;
	return 0;
}

/* Probes zones; on failure fills why (and errno-specific advice) and returns NULL. */
static struct eb_rapl *eb_rapl_discover(const struct eb_sensor_args *a, char *why, size_t n)
{
	const struct eb_sensor_ops *ops = &eb_sensor_rapl;
	const json_t *zones = json_object_get(a->options, "zones");
	int subzones = eb_sensor_opt_bool(ops, a->options, "subzones");
	struct eb_rapl *r = eb_xcalloc(1, sizeof(*r));
	char dir[4096], first[4096];
	int have_psys = 0;
	glob_t g;
	size_t ng;

	r->dir = eb_xstrdup(eb_sysfs_path(dir, sizeof(dir), a->root, "/sys/class/powercap"));
	if (!eb_sysfs_path(first, sizeof(first), a->root, "/sys/class/powercap/intel-rapl:0") ||
	    !eb_sysfs_exists(a->root, "/sys/class/powercap/intel-rapl:0")) {
		snprintf(why, n,
			 "no '%s' (not an Intel/AMD CPU with RAPL, or the intel_rapl_common "
			 "module is not loaded)",
			 first);
		goto fail;
	}
	ng = eb_sysfs_glob(a->root, "/sys/class/powercap/intel-rapl:*", &g);
	for (size_t i = 0; i < ng && r->n < EB_RAPL_MAX; i++) {
		const char *zdir = g.gl_pathv[i];
		const char *base = strrchr(zdir, '/') ? strrchr(zdir, '/') + 1 : zdir;
		int sub = strchr(strchr(base, ':') + 1, ':') != NULL;
		struct eb_rapl_zone *z = &r->z[r->n];
		char p[4096], name[64] = "", pname[64] = "";
		struct eb_err err;

		if (!eb_rapl_wanted(zones, base) || (sub && !subzones && !zones))
			continue;
		snprintf(p, sizeof(p), "%s/name", zdir);
		if (eb_sysfs_read(p, name, sizeof(name), NULL) != 0 || !name[0])
			eb_strlcpy(name, base, sizeof(name));
		if (sub) {
			/* "intel-rapl:0:1" -> parent "intel-rapl:0" */
			char parent[4096];
			const char *colon = strrchr(zdir, ':');

			snprintf(parent, sizeof(parent), "%.*s/name", (int)(colon - zdir), zdir);
			if (eb_sysfs_read(parent, pname, sizeof(pname), NULL) != 0)
				pname[0] = '\0';
			snprintf(z->rail, sizeof(z->rail), "%s/%s", pname[0] ? pname : "?", name);
			/* DRAM is a domain of its own; core and uncore are inside the package */
			z->flags = strcmp(name, "dram") == 0 ? 0 : EB_RAIL_NOSUM;
		} else {
			eb_strlcpy(z->rail, name, sizeof(z->rail));
			z->flags = 0;
			if (strcmp(name, "psys") == 0) {
				z->flags = EB_RAIL_TOTAL;
				have_psys = 1;
			}
		}
		z->flags |= EB_RAIL_COUNTER;
		snprintf(p, sizeof(p), "%s/max_energy_range_uj", zdir);
		if (eb_sysfs_read_u64(p, &z->max_range, &err) != 0)
			z->max_range = 0;
		snprintf(p, sizeof(p), "%s/energy_uj", zdir);
		if (eb_sysfs_open(&z->energy, p, &err) != 0 ||
		    eb_sysfs_pread_u64(&z->energy, &z->last_raw, &err) != 0) {
			eb_sysfs_close(&z->energy);
			if (errno == EACCES)
				snprintf(why, n,
					 "permission denied reading '%s' (root-only since Linux "
					 "5.10: run as root, or sudo chmod o+r "
					 "/sys/class/powercap/intel-rapl:*/energy_uj)",
					 p);
			else
				snprintf(why, n, "%s", err.msg);
			globfree(&g);
			goto fail;
		}
		z->last_t = eb_clock_ns();
		r->n++;
	}
	if (ng)
		globfree(&g);
	if (r->n == 0) {
		snprintf(why, n, "no RAPL zone under '%s' matches the options", r->dir);
		goto fail;
	}
	/* psys covers the whole SoC: every other zone is a part of it */
	for (size_t i = 0; have_psys && i < r->n; i++)
		if (!(r->z[i].flags & EB_RAIL_TOTAL))
			r->z[i].flags |= EB_RAIL_NOSUM;
	return r;
fail:
	eb_rapl_free(r);
	return NULL;
}

static const char *eb_rapl_unavailable(const struct eb_sensor_args *a, char *buf, size_t n)
{
	struct eb_rapl *r = eb_rapl_discover(a, buf, n);

	if (!r)
		return buf;
	eb_rapl_free(r);
	return NULL;
}

static int eb_rapl_open(const struct eb_sensor_args *a, void **state, struct eb_err *err)
{
	char why[1024];
	struct eb_rapl *r = eb_rapl_discover(a, why, sizeof(why));

	if (!r)
		return eb_err_set(err, EB_EUNSUPPORTED, "%s", why);
	*state = r;
	return 0;
}

static int eb_rapl_read(void *state, uint64_t *t_ns, struct eb_sensor_reading *out, size_t max,
			size_t *n, struct eb_err *err)
{
	struct eb_rapl *r = state;

	*n = 0;
	for (size_t i = 0; i < r->n && *n < max; i++) {
		struct eb_rapl_zone *z = &r->z[i];
		uint64_t raw, d;
		int ret = eb_sysfs_pread_u64(&z->energy, &raw, err);

		if (ret)
			return ret;
		ret = eb_energy_counter_delta(z->last_raw, raw, z->max_range, &d, err);
		if (ret)
			return eb_err_prefix(err, "'%s'", z->energy.path);
		if (raw < z->last_raw)
			z->n_wraps++;
		z->acc_uj += d;
		if (*t_ns > z->last_t)
			z->last_w = (double)d / ((double)(*t_ns - z->last_t) / 1e3);
		z->last_raw = raw;
		z->last_t = *t_ns;
		eb_reading_set(&out[*n], z->rail, z->last_w, "energy_uj (uJ counter)", z->flags);
		out[*n].energy_uj = z->acc_uj;
		(*n)++;
	}
	return 0;
}

static int eb_rapl_describe(void *state, json_t *out, struct eb_err *err)
{
	struct eb_rapl *r = state;
	json_t *rails = json_array();

	for (size_t i = 0; i < r->n; i++)
		json_array_append_new(
			rails, json_pack("{s:s, s:s, s:o, s:s, s:I, s:I}", "rail", r->z[i].rail,
					 "source", "energy_uj (uJ counter)", "flags",
					 eb_sensor_flags_json(r->z[i].flags), "path",
					 r->z[i].energy.path, "max_energy_range_uj",
					 (json_int_t)r->z[i].max_range, "wraps",
					 (json_int_t)r->z[i].n_wraps));
	json_object_set_new(out, "interval_ms", json_null());
	json_object_set_new(out, "window_ms", json_null());
	json_object_set_new(out, "window",
			    json_string("energy counter: each value is the mean power since the "
					"previous read (the sampling interval); the hardware updates "
					"the counter about every 1 ms"));
	json_object_set_new(out, "powercap", json_string(r->dir));
	json_object_set_new(out, "rails", rails);
	return 0;
}

static void eb_rapl_close(void *state)
{
	eb_rapl_free(state);
}

const struct eb_sensor_ops eb_sensor_rapl = {
	.name = "rapl",
	.abi = EB_SENSOR_ABI,
	.caps = EB_SENSOR_CAP_POWER | EB_SENSOR_CAP_ROOT,
	.options = eb_rapl_options,
	.help = "Intel/AMD RAPL energy counters under /sys/class/powercap (package, core, dram, "
		"psys), wraparound handled",
	.unavailable_reason = eb_rapl_unavailable,
	.open = eb_rapl_open,
	.read = eb_rapl_read,
	.describe = eb_rapl_describe,
	.close = eb_rapl_close,
};
