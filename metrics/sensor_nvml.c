/* sensor_nvml.c: NVIDIA GPU power, energy counter and memory through a dlopen'd NVML. */
#include "sensor_impl.h"

#include "eb_clock.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The few NVML types used, as nvml.h lays them out (ABI-stable since NVML 3). */
typedef int eb_nvml_ret;
typedef void *eb_nvml_dev;
struct eb_nvml_mem {
	unsigned long long total, free, used;
};
struct eb_nvml_proc { /* nvmlProcessInfo_v2_t, as the _v2 and _v3 process queries fill */
	unsigned int pid;
	unsigned long long used;
	unsigned int gpu_instance, compute_instance;
};
struct eb_nvml_proc_v1 { /* nvmlProcessInfo_t before CUDA 11 */
	unsigned int pid;
	unsigned long long used;
};
union eb_nvml_value {
	double d;
	unsigned int ui;
	unsigned long ul;
	unsigned long long ull;
	long long sll;
	int si;
	unsigned short us;
};
struct eb_nvml_field { /* nvmlFieldValue_t */
	unsigned int field_id, scope_id;
	long long timestamp, latency_us;
	int value_type, ret;
	union eb_nvml_value value;
};

#define EB_NVML_SUCCESS 0
#define EB_NVML_ERROR_INSUFFICIENT_SIZE 7
#define EB_NVML_FI_DEV_POWER_INSTANT 186 /* "current GPU power" (mW), all architectures */
#define EB_NVML_VALUE_UINT 1
#define EB_NVML_VALUE_ULL 3
#define EB_NVML_PROC_MAX 256

static const char *const eb_nvml_totals[] = { "energy", "instant", "average", NULL };

static const struct eb_opt eb_nvml_options[] = {
	{ .name = "library", .type = EB_OPT_STR, .def = EB_DEF_STR("libnvidia-ml.so.1"),
	  .help = "the NVML library to dlopen (a path, or a name the loader searches)" },
	{ .name = "device", .type = EB_OPT_INT, .def = EB_DEF_INT(0), .range = EB_RANGE(0, 63),
	  .help = "GPU index (as nvidia-smi numbers them)" },
	{ .name = "total", .type = EB_OPT_ENUM, .def = EB_DEF_STR("energy"),
	  .choices = eb_nvml_totals,
	  .help = "which figure is the GPU's total: energy (the counter, exact over any window), "
		  "instant (current power) or average (nvmlDeviceGetPowerUsage, 1 s mean on "
		  "Ampere+); falls back in that order when unsupported" },
	{ .name = "memory", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(1),
	  .help = "report device memory used as rail 'gpuN.mem_used' (bytes)" },
	{ .name = "pid", .type = EB_OPT_INT, .def = EB_DEF_INT(0), .range = EB_RANGE(0, 4194304),
	  .help = "report this process's device memory as 'gpuN.mem_proc' (0: edgebench itself; a "
		  "server's pid for remote targets on this host)" },
	{ .name = "process_every_ms", .type = EB_OPT_INT, .def = EB_DEF_INT(1000),
	  .range = EB_RANGE(0, 3600000),
	  .help = "query per-process memory at most this often (it costs milliseconds); 0 = "
		  "never" },
	{ NULL },
};

struct eb_nvml_api {
	void *lib;
	eb_nvml_ret (*init)(void);
	eb_nvml_ret (*shutdown)(void);
	const char *(*error_string)(eb_nvml_ret);
	eb_nvml_ret (*count)(unsigned int *);
	eb_nvml_ret (*handle)(unsigned int, eb_nvml_dev *);
	eb_nvml_ret (*name)(eb_nvml_dev, char *, unsigned int);
	eb_nvml_ret (*driver)(char *, unsigned int);
	eb_nvml_ret (*power)(eb_nvml_dev, unsigned int *);
	eb_nvml_ret (*energy)(eb_nvml_dev, unsigned long long *);
	eb_nvml_ret (*mem)(eb_nvml_dev, struct eb_nvml_mem *);
	eb_nvml_ret (*fields)(eb_nvml_dev, int, struct eb_nvml_field *);
	eb_nvml_ret (*procs)(eb_nvml_dev, unsigned int *, void *);
	int procs_v1; /* procs fills struct eb_nvml_proc_v1 */
};

struct eb_nvml {
	struct eb_nvml_api api;
	eb_nvml_dev dev;
	unsigned index;
	char gpu[96], driver[96];
	int have_avg, have_instant, have_energy, memory;
	unsigned pid;
	uint64_t proc_every_ns, proc_next;
	unsigned long long energy0_mj, last_mj;
	uint64_t last_t;
	double last_energy_w;
	const char *total;
	char rail_avg[EB_SENSOR_RAIL_MAX + 1], rail_inst[EB_SENSOR_RAIL_MAX + 1];
	char rail_energy[EB_SENSOR_RAIL_MAX + 1], rail_mem[EB_SENSOR_RAIL_MAX + 1];
	char rail_proc[EB_SENSOR_RAIL_MAX + 1];
	struct eb_sensor_reading last[8];
	size_t n_last;
};

static void *eb_nvml_sym(void *lib, const char *v3, const char *v2, const char *v1)
{
	void *p = v3 ? dlsym(lib, v3) : NULL;

	if (!p && v2)
		p = dlsym(lib, v2);
	if (!p && v1)
		p = dlsym(lib, v1);
	return p;
}

static void eb_nvml_unload(struct eb_nvml_api *api, int initialized)
{
	if (initialized && api->shutdown)
		api->shutdown();
	if (api->lib)
		dlclose(api->lib);
	memset(api, 0, sizeof(*api));
}

static const char *eb_nvml_strerror(const struct eb_nvml_api *api, eb_nvml_ret r)
{
	const char *s = api->error_string ? api->error_string(r) : NULL;

	return s ? s : "unknown NVML error";
}

/*
 * Loads the library, resolves the versioned symbols, initializes NVML and gets the device.
 * On failure writes why and returns -1 with nothing left loaded.
 */
static int eb_nvml_load(struct eb_nvml *st, const char *library, unsigned index, char *why,
			size_t n)
{
	struct eb_nvml_api *api = &st->api;
	unsigned int count = 0;
	eb_nvml_ret r;
	int initialized = 0;

	memset(api, 0, sizeof(*api));
	api->lib = dlopen(library, RTLD_NOW | RTLD_LOCAL);
	if (!api->lib) {
		const char *e = dlerror();
		snprintf(why, n, "%s not found (no NVIDIA driver here): %s", library,
			 e ? e : "dlopen failed");
		return -1;
	}
	*(void **)&api->init = eb_nvml_sym(api->lib, NULL, "nvmlInit_v2", "nvmlInit");
	*(void **)&api->shutdown = dlsym(api->lib, "nvmlShutdown");
	*(void **)&api->error_string = dlsym(api->lib, "nvmlErrorString");
	*(void **)&api->count = eb_nvml_sym(api->lib, NULL, "nvmlDeviceGetCount_v2",
					    "nvmlDeviceGetCount");
	*(void **)&api->handle = eb_nvml_sym(api->lib, NULL, "nvmlDeviceGetHandleByIndex_v2",
					     "nvmlDeviceGetHandleByIndex");
	*(void **)&api->name = dlsym(api->lib, "nvmlDeviceGetName");
	*(void **)&api->driver = dlsym(api->lib, "nvmlSystemGetDriverVersion");
	*(void **)&api->power = dlsym(api->lib, "nvmlDeviceGetPowerUsage");
	*(void **)&api->energy = dlsym(api->lib, "nvmlDeviceGetTotalEnergyConsumption");
	*(void **)&api->mem = dlsym(api->lib, "nvmlDeviceGetMemoryInfo");
	*(void **)&api->fields = dlsym(api->lib, "nvmlDeviceGetFieldValues");
	*(void **)&api->procs = eb_nvml_sym(api->lib, "nvmlDeviceGetComputeRunningProcesses_v3",
					    "nvmlDeviceGetComputeRunningProcesses_v2", NULL);
	if (!api->procs) {
		*(void **)&api->procs = dlsym(api->lib, "nvmlDeviceGetComputeRunningProcesses");
		api->procs_v1 = 1;
	}
	if (!api->init || !api->shutdown || !api->count || !api->handle) {
		snprintf(why, n, "%s lacks nvmlInit_v2/nvmlDeviceGetHandleByIndex_v2 (driver too "
				 "old?)",
			 library);
		goto fail;
	}
	r = api->init();
	if (r != EB_NVML_SUCCESS) {
		snprintf(why, n, "nvmlInit_v2 failed: %s", eb_nvml_strerror(api, r));
		goto fail;
	}
	initialized = 1;
	r = api->count(&count);
	if (r != EB_NVML_SUCCESS || index >= count) {
		snprintf(why, n, "no GPU %u (NVML sees %u)", index, r == EB_NVML_SUCCESS ? count : 0);
		goto fail;
	}
	r = api->handle(index, &st->dev);
	if (r != EB_NVML_SUCCESS) {
		snprintf(why, n, "cannot open GPU %u: %s", index, eb_nvml_strerror(api, r));
		goto fail;
	}
	return 0;
fail:
	eb_nvml_unload(api, initialized);
	return -1;
}

static const char *eb_nvml_unavailable(const struct eb_sensor_args *a, char *buf, size_t n)
{
	const struct eb_sensor_ops *ops = &eb_sensor_nvml;
	struct eb_nvml st;

	memset(&st, 0, sizeof(st));
	if (eb_nvml_load(&st, eb_sensor_opt_str(ops, a->options, "library"),
			 (unsigned)eb_sensor_opt_int(ops, a->options, "device"), buf, n) != 0)
		return buf;
	eb_nvml_unload(&st.api, 1);
	return NULL;
}

static int eb_nvml_instant(struct eb_nvml *st, unsigned *mw)
{
	struct eb_nvml_field f;

	if (!st->api.fields)
		return -1;
	memset(&f, 0, sizeof(f));
	f.field_id = EB_NVML_FI_DEV_POWER_INSTANT;
	if (st->api.fields(st->dev, 1, &f) != EB_NVML_SUCCESS || f.ret != EB_NVML_SUCCESS)
		return -1;
	if (f.value_type == EB_NVML_VALUE_UINT)
		*mw = f.value.ui;
	else if (f.value_type == EB_NVML_VALUE_ULL)
		*mw = (unsigned)f.value.ull;
	else
		return -1;
	return 0;
}

static int eb_nvml_has(const struct eb_nvml *st, const char *figure)
{
	if (strcmp(figure, "energy") == 0)
		return st->have_energy;
	if (strcmp(figure, "instant") == 0)
		return st->have_instant;
	return st->have_avg;
}

static void eb_nvml_close(void *state)
{
	struct eb_nvml *st = state;

	if (!st)
		return;
	eb_nvml_unload(&st->api, 1);
	free(st);
}

static int eb_nvml_open(const struct eb_sensor_args *a, void **state, struct eb_err *err)
{
	const struct eb_sensor_ops *ops = &eb_sensor_nvml;
	struct eb_nvml *st = eb_xcalloc(1, sizeof(*st));
	const char *want = eb_sensor_opt_str(ops, a->options, "total");
	long long pid = eb_sensor_opt_int(ops, a->options, "pid");
	long long every = eb_sensor_opt_int(ops, a->options, "process_every_ms");
	unsigned mw;
	char why[512];
	int ret = -1;

	st->index = (unsigned)eb_sensor_opt_int(ops, a->options, "device");
	if (eb_nvml_load(st, eb_sensor_opt_str(ops, a->options, "library"),
			 st->index, why, sizeof(why)) != 0) {
		ret = eb_err_set(err, EB_EUNSUPPORTED, "%s", why);
		free(st);
		st = NULL;
		goto out;
	}
	if (st->api.name)
		st->api.name(st->dev, st->gpu, sizeof(st->gpu));
	if (st->api.driver)
		st->api.driver(st->driver, sizeof(st->driver));
	st->have_avg = st->api.power && st->api.power(st->dev, &mw) == EB_NVML_SUCCESS;
	st->have_instant = eb_nvml_instant(st, &mw) == 0;
	st->have_energy = st->api.energy &&
			  st->api.energy(st->dev, &st->energy0_mj) == EB_NVML_SUCCESS;
	st->last_mj = st->energy0_mj;
	st->last_t = eb_clock_ns();
	st->memory = eb_sensor_opt_bool(ops, a->options, "memory") && st->api.mem;
	st->pid = (unsigned)(pid > 0 ? pid : getpid());
	st->proc_every_ns = every > 0 && st->api.procs ? (uint64_t)every * 1000000ull : 0;
	/* the total: the asked figure, else the first this GPU supports */
	for (size_t k = 0; eb_nvml_totals[k]; k++)
		if (strcmp(eb_nvml_totals[k], want) == 0 && eb_nvml_has(st, want))
			st->total = eb_nvml_totals[k];
	for (size_t k = 0; eb_nvml_totals[k] && !st->total; k++)
		if (eb_nvml_has(st, eb_nvml_totals[k]))
			st->total = eb_nvml_totals[k];
	if (!st->have_avg && !st->have_instant && !st->have_energy && !st->memory) {
		ret = eb_err_set(err, EB_EUNSUPPORTED, "GPU %u reports neither power nor memory",
				 st->index);
		goto out;
	}
	snprintf(st->rail_avg, sizeof(st->rail_avg), "gpu%u", st->index);
	snprintf(st->rail_inst, sizeof(st->rail_inst), "gpu%u.instant", st->index);
	snprintf(st->rail_energy, sizeof(st->rail_energy), "gpu%u.energy", st->index);
	snprintf(st->rail_mem, sizeof(st->rail_mem), "gpu%u.mem_used", st->index);
	snprintf(st->rail_proc, sizeof(st->rail_proc), "gpu%u.mem_proc", st->index);
	*state = st;
	st = NULL;
	ret = 0;
out:
	eb_nvml_close(st);
	return ret;
}

static unsigned eb_nvml_flags(const struct eb_nvml *st, const char *which)
{
	return st->total && strcmp(st->total, which) == 0 ? EB_RAIL_TOTAL : EB_RAIL_NOSUM;
}

/* Device memory of st->pid (summed over its contexts); -1 when not listed or on error. */
static long long eb_nvml_proc_mem(struct eb_nvml *st)
{
	union {
		struct eb_nvml_proc v2[EB_NVML_PROC_MAX];
		struct eb_nvml_proc_v1 v1[EB_NVML_PROC_MAX];
	} *buf = eb_xmalloc(sizeof(*buf));
	unsigned int count = EB_NVML_PROC_MAX;
	long long sum = -1;

	if (st->api.procs(st->dev, &count, buf) == EB_NVML_SUCCESS) {
		for (unsigned i = 0; i < count && i < EB_NVML_PROC_MAX; i++) {
			unsigned pid = st->api.procs_v1 ? buf->v1[i].pid : buf->v2[i].pid;
			unsigned long long used = st->api.procs_v1 ? buf->v1[i].used
								   : buf->v2[i].used;

			if (pid == st->pid && used != ~0ull)
				sum = (sum < 0 ? 0 : sum) + (long long)used;
		}
		if (sum < 0)
			sum = 0; /* not on this GPU */
	}
	free(buf);
	return sum;
}

static int eb_nvml_read(void *state, uint64_t *t_ns, struct eb_sensor_reading *out, size_t max,
			size_t *n, struct eb_err *err)
{
	struct eb_nvml *st = state;
	unsigned mw;
	eb_nvml_ret r;

	*n = 0;
	if (st->have_energy && *n < max) {
		unsigned long long mj;

		r = st->api.energy(st->dev, &mj);
		if (r != EB_NVML_SUCCESS)
			return eb_err_set(err, EB_EIO, "nvmlDeviceGetTotalEnergyConsumption: %s",
					  eb_nvml_strerror(&st->api, r));
		if (*t_ns > st->last_t && mj >= st->last_mj)
			st->last_energy_w =
				(double)(mj - st->last_mj) / ((double)(*t_ns - st->last_t) / 1e6);
		st->last_mj = mj;
		st->last_t = *t_ns;
		eb_reading_set(&out[*n], st->rail_energy, st->last_energy_w,
			       "nvmlDeviceGetTotalEnergyConsumption (mJ counter)",
			       EB_RAIL_COUNTER | eb_nvml_flags(st, "energy"));
		out[*n].energy_uj = mj >= st->energy0_mj ? (mj - st->energy0_mj) * 1000ull : 0;
		(*n)++;
	}
	if (st->have_instant && *n < max) {
		if (eb_nvml_instant(st, &mw) != 0)
			return eb_err_set(err, EB_EIO, "nvmlDeviceGetFieldValues(POWER_INSTANT) "
						       "failed");
		eb_reading_set(&out[(*n)++], st->rail_inst, mw / 1e3,
			       "NVML_FI_DEV_POWER_INSTANT (mW)", eb_nvml_flags(st, "instant"));
	}
	if (st->have_avg && *n < max) {
		r = st->api.power(st->dev, &mw);
		if (r != EB_NVML_SUCCESS)
			return eb_err_set(err, EB_EIO, "nvmlDeviceGetPowerUsage: %s",
					  eb_nvml_strerror(&st->api, r));
		eb_reading_set(&out[(*n)++], st->rail_avg, mw / 1e3,
			       "nvmlDeviceGetPowerUsage (mW, 1 s average on Ampere+)",
			       EB_RAIL_AVERAGED | eb_nvml_flags(st, "average"));
	}
	if (st->memory && *n < max) {
		struct eb_nvml_mem m;

		r = st->api.mem(st->dev, &m);
		if (r != EB_NVML_SUCCESS)
			return eb_err_set(err, EB_EIO, "nvmlDeviceGetMemoryInfo: %s",
					  eb_nvml_strerror(&st->api, r));
		eb_reading_set(&out[(*n)++], st->rail_mem, (double)m.used,
			       "nvmlDeviceGetMemoryInfo (bytes)", EB_RAIL_BYTES);
	}
	if (st->proc_every_ns && *t_ns >= st->proc_next && *n < max) {
		long long used = eb_nvml_proc_mem(st);

		st->proc_next = *t_ns + st->proc_every_ns;
		if (used >= 0)
			eb_reading_set(&out[(*n)++], st->rail_proc, (double)used,
				       "nvmlDeviceGetComputeRunningProcesses (bytes)", EB_RAIL_BYTES);
	}
	st->n_last = *n < 8 ? *n : 8;
	memcpy(st->last, out, st->n_last * sizeof(*out));
	return 0;
}

static int eb_nvml_describe(void *state, json_t *out, struct eb_err *err)
{
	struct eb_nvml *st = state;

	json_object_set_new(out, "gpu", json_string(st->gpu));
	json_object_set_new(out, "index", json_integer(st->index));
	json_object_set_new(out, "driver", json_string(st->driver));
	json_object_set_new(out, "total", st->total ? json_string(st->total) : json_null());
	json_object_set_new(out, "interval_ms", json_null());
	json_object_set_new(out, "window_ms",
			    st->total && strcmp(st->total, "average") == 0 ? json_real(1000)
									   : json_real(0));
	json_object_set_new(out, "window",
			    json_string("energy: counter (exact over any window); instant: current "
					"power; gpuN: nvmlDeviceGetPowerUsage, averaged over 1 s on "
					"Ampere and newer"));
	json_object_set_new(out, "memory_pid", json_integer(st->pid));
	json_object_set_new(out, "rails", eb_readings_json(st->last, st->n_last));
	return 0;
}

const struct eb_sensor_ops eb_sensor_nvml = {
	.name = "nvml",
	.abi = EB_SENSOR_ABI,
	.caps = EB_SENSOR_CAP_POWER | EB_SENSOR_CAP_MEMORY,
	.options = eb_nvml_options,
	.help = "NVIDIA GPU through NVML (dlopen libnvidia-ml.so.1): energy counter, instant and "
		"1 s average power, device and per-process memory",
	.unavailable_reason = eb_nvml_unavailable,
	.open = eb_nvml_open,
	.read = eb_nvml_read,
	.describe = eb_nvml_describe,
	.close = eb_nvml_close,
};
