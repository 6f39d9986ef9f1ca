/* env.c: machine facts, UUIDs and peak RSS (see env.h). */
#include "env.h"
#include "eb_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* First line of `path` starting with `prefix`, value after the prefix, trimmed. */
static int eb_grep_file(const char *path, const char *prefix, char *out, size_t n)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	int found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, prefix, strlen(prefix)) == 0) {
			char *v = line + strlen(prefix);
			size_t l;

			while (*v == ' ' || *v == '\t' || *v == ':' || *v == '=')
				v++;
			l = strlen(v);
			while (l && (v[l - 1] == '\n' || v[l - 1] == ' ' || v[l - 1] == '"'))
				v[--l] = '\0';
			if (*v == '"')
				v++;
			eb_strlcpy(out, v, n);
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

json_t *eb_env_collect(void)
{
	static const char *const vars[] = { "OMP_NUM_THREADS", "GGML_NUM_THREADS",
					    "CUDA_VISIBLE_DEVICES", "GGML_CUDA_FORCE_MMQ",
					    "LLAMA_ARG_THREADS", NULL };
	json_t *o = json_object();
	json_t *ev = json_object();
	struct utsname u;
	char buf[512];
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	if (uname(&u) == 0) {
		json_object_set_new(o, "host", json_string(u.nodename));
		json_object_set_new(o, "kernel", json_string(u.release));
		json_object_set_new(o, "arch", json_string(u.machine));
		json_object_set_new(o, "sysname", json_string(u.sysname));
	}
	if (eb_grep_file("/etc/os-release", "PRETTY_NAME", buf, sizeof(buf)))
		json_object_set_new(o, "os", json_string(buf));
	if (eb_grep_file("/proc/cpuinfo", "model name", buf, sizeof(buf)) ||
	    eb_grep_file("/proc/cpuinfo", "Model", buf, sizeof(buf)) ||
	    eb_grep_file("/proc/cpuinfo", "Hardware", buf, sizeof(buf)))
		json_object_set_new(o, "cpu_model", json_string(buf));
	if (cores > 0)
		json_object_set_new(o, "cpu_cores", json_integer(cores));
	if (eb_grep_file("/proc/meminfo", "MemTotal", buf, sizeof(buf)))
		json_object_set_new(o, "mem_bytes", json_integer(strtoll(buf, NULL, 10) * 1024));
	if (eb_grep_file("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "", buf,
			 sizeof(buf)))
		json_object_set_new(o, "cpu_governor", json_string(buf));
	if (eb_grep_file("/proc/device-tree/model", "", buf, sizeof(buf)))
		json_object_set_new(o, "board", json_string(buf));
	for (size_t i = 0; vars[i]; i++) {
		const char *v = getenv(vars[i]);
		if (v)
			json_object_set_new(ev, vars[i], json_string(v));
	}
	json_object_set_new(o, "env", ev);
	return o;
}

void eb_uuid4(char out[37])
{
	unsigned char b[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, b, sizeof(b)) : -1;

	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(b)) {
		/* no urandom: time and pid, still unique enough for one host */
		unsigned long long x = (unsigned long long)getpid() * 0x9E3779B97F4A7C15ull ^
				       (unsigned long long)time(NULL);
		for (int i = 0; i < 16; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			b[i] = (unsigned char)x;
		}
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
		 b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
}

long long eb_env_peak_rss(void)
{
	char buf[64];

	if (!eb_grep_file("/proc/self/status", "VmHWM", buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 10) * 1024;
}

int eb_env_reset_peak_rss(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, "5", 1) == 1;
	close(fd);
	return ok ? 0 : -1;
}
