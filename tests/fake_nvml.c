/* fake_nvml.c: a libnvidia-ml stand-in with NVML's ABI whose figures come from a state file (check_sensor_nvml). */

/*
 * The NVML sensor dlopens this instead of libnvidia-ml.so.1 (option "library"). Every call
 * reads the file named by EB_FAKE_NVML_STATE afresh, so a test changes the GPU's figures
 * between two reads by rewriting it. Lines are key=value:
 *   count=N               GPUs (default 1)        init=R        nvmlInit_v2's return
 *   name=S  driver=S      device name, driver version
 *   energy_mj=N           the energy counter      energy_ret=R  its return code
 *   watts=W               the counter also grows at W watts on CLOCK_MONOTONIC (a GPU
 *                         drawing W: energy_mj + W x monotonic ms, for whole runs)
 *   power_mw=N            1 s average power       power_ret=R
 *   instant_mw=N          FI_DEV_POWER_INSTANT    instant_ret=R (the field's ret)
 *   mem_used=N            bytes in use            mem_ret=R
 *   procs=PID:B,PID:B     compute processes and their bytes (one per context)
 * A missing key is 0 (return codes: NVML_SUCCESS). Types and codes are NVML's (nvml.h).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fake_mem {
	unsigned long long total, free, used;
};
struct fake_proc {
	unsigned int pid;
	unsigned long long used;
	unsigned int gpu_instance, compute_instance;
};
struct fake_field {
	unsigned int field_id, scope_id;
	long long timestamp, latency_us;
	int value_type, ret;
	union {
		double d;
		unsigned int ui;
		unsigned long ul;
		unsigned long long ull;
		long long sll;
		int si;
		unsigned short us;
	} value;
};

#define FAKE_SUCCESS 0
#define FAKE_INVALID_ARGUMENT 2
#define FAKE_INSUFFICIENT_SIZE 7
#define FAKE_FI_POWER_INSTANT 186
#define FAKE_VALUE_UINT 1

static char fake_dev; /* the one handle's address */

/* The value of `key` in the state file into buf ("" when absent); returns buf. */
static const char *fake_get(const char *key, char *buf, size_t n)
{
	const char *path = getenv("EB_FAKE_NVML_STATE");
	size_t klen = strlen(key);
	char line[1024];
	FILE *f;

	buf[0] = '\0';
	if (!path || !(f = fopen(path, "r")))
		return buf;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
			snprintf(buf, n, "%s", line + klen + 1);
			buf[strcspn(buf, "\r\n")] = '\0';
			break;
		}
	}
	fclose(f);
	return buf;
}

static unsigned long long fake_num(const char *key)
{
	char v[64];

	return strtoull(fake_get(key, v, sizeof(v)), NULL, 10);
}

static int fake_ret(const char *key)
{
	char v[64];

	return atoi(fake_get(key, v, sizeof(v)));
}

int nvmlInit_v2(void)
{
	return fake_ret("init");
}

int nvmlShutdown(void)
{
	return FAKE_SUCCESS;
}

const char *nvmlErrorString(int r)
{
	switch (r) {
	case 0: return "Success";
	case 2: return "Invalid Argument";
	case 3: return "Not Supported";
	case 7: return "Insufficient Size";
	case 9: return "Driver Not Loaded";
	case 15: return "GPU is lost";
	default: return "Unknown Error";
	}
}

int nvmlDeviceGetCount_v2(unsigned int *count)
{
	char v[64];

	*count = fake_get("count", v, sizeof(v))[0] ? (unsigned)atoi(v) : 1u;
	return FAKE_SUCCESS;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **dev)
{
	unsigned int count;

	nvmlDeviceGetCount_v2(&count);
	if (index >= count)
		return FAKE_INVALID_ARGUMENT;
	*dev = &fake_dev;
	return FAKE_SUCCESS;
}

int nvmlDeviceGetName(void *dev, char *name, unsigned int n)
{
	(void)dev;
	fake_get("name", name, n);
	return FAKE_SUCCESS;
}

int nvmlSystemGetDriverVersion(char *v, unsigned int n)
{
	fake_get("driver", v, n);
	return FAKE_SUCCESS;
}

int nvmlDeviceGetPowerUsage(void *dev, unsigned int *mw)
{
	(void)dev;
	*mw = (unsigned)fake_num("power_mw");
	return fake_ret("power_ret");
}

int nvmlDeviceGetTotalEnergyConsumption(void *dev, unsigned long long *mj)
{
	char v[64];

	(void)dev;
	*mj = fake_num("energy_mj");
	if (fake_get("watts", v, sizeof(v))[0]) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		*mj += (unsigned long long)(strtod(v, NULL) * ((double)ts.tv_sec * 1e3 +
								(double)ts.tv_nsec / 1e6));
	}
	return fake_ret("energy_ret");
}

int nvmlDeviceGetMemoryInfo(void *dev, struct fake_mem *m)
{
	(void)dev;
	m->total = 24ull << 30;
	m->used = fake_num("mem_used");
	m->free = m->total - m->used;
	return fake_ret("mem_ret");
}

int nvmlDeviceGetFieldValues(void *dev, int n, struct fake_field *f)
{
	(void)dev;
	for (int i = 0; i < n; i++) {
		if (f[i].field_id != FAKE_FI_POWER_INSTANT) {
			f[i].ret = 3;
			continue;
		}
		f[i].ret = fake_ret("instant_ret");
		f[i].value_type = FAKE_VALUE_UINT;
		f[i].value.ui = (unsigned)fake_num("instant_mw");
	}
	return FAKE_SUCCESS;
}

int nvmlDeviceGetComputeRunningProcesses_v3(void *dev, unsigned int *count, struct fake_proc *p)
{
	char v[1024], *s = v, *end;
	unsigned int k = 0;

	(void)dev;
	fake_get("procs", v, sizeof(v));
	while (*s) {
		unsigned long pid = strtoul(s, &end, 10);

		if (end == s || *end != ':')
			break;
		if (k >= *count) {
			*count = k + 1;
			return FAKE_INSUFFICIENT_SIZE;
		}
		memset(&p[k], 0, sizeof(p[k]));
		p[k].pid = (unsigned)pid;
		p[k].used = strtoull(end + 1, &s, 10);
		k++;
		if (*s == ',')
			s++;
	}
	*count = k;
	return FAKE_SUCCESS;
}
