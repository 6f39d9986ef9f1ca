/* sensor_proc.c: resident memory of a server process on this host (by pid or name), from /proc. */
#include "sensor_impl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct eb_opt eb_proc_options[] = {
	{ .name = "pid", .type = EB_OPT_INT, .range = EB_RANGE(1, 4194304),
	  .help = "the process to watch (a server's pid)" },
	{ .name = "process", .type = EB_OPT_STR,
	  .help = "or its name: the process whose comm or argv[0] basename is this (llama-server, "
		  "hailo-ollama); exactly one must match" },
	{ .name = "root", .type = EB_OPT_STR, .def = EB_DEF_STR("/"),
	  .help = "filesystem root /proc is read under (a fixture tree)" },
	{ NULL },
};

struct eb_procmem {
	struct eb_sysfs_file status;
	long long pid;
	char comm[64];
	char *procdir;
};

static void eb_procmem_free(struct eb_procmem *p)
{
	if (!p)
		return;
	eb_sysfs_close(&p->status);
	free(p->procdir);
	free(p);
}

static int eb_all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* 1 when the process in dir (a /proc/PID) is named `name` by comm or argv[0]'s basename. */
static int eb_proc_named(const char *dir, const char *name)
{
	char p[4096], buf[4096];
	const char *base;
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s/comm", dir);
	if (eb_sysfs_read(p, buf, sizeof(buf), NULL) == 0 && strcmp(buf, name) == 0)
		return 1;
	snprintf(p, sizeof(p), "%s/cmdline", dir);
	f = fopen(p, "rb");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0'; /* argv[0] ends at its NUL */
	base = strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
	return n > 0 && strcmp(base, name) == 0;
}

/* Finds the process; on failure fills why and returns NULL. */
static struct eb_procmem *eb_procmem_find(const struct eb_sensor_args *a, char *why, size_t n)
{
	const struct eb_sensor_ops *ops = &eb_sensor_proc;
	long long pid = eb_sensor_opt_int(ops, a->options, "pid");
	const char *name = eb_sensor_opt_str(ops, a->options, "process");
	struct eb_procmem *p = eb_xcalloc(1, sizeof(*p));
	char dir[4096], path[4096];
	struct eb_err err;

	if (!eb_sysfs_path(dir, sizeof(dir), a->root, "/proc")) {
		snprintf(why, n, "root '%s' is too long", a->root);
		goto fail;
	}
	p->procdir = eb_xstrdup(dir);
	if ((pid > 0) == (name != NULL)) {
		snprintf(why, n, "not configured: give options.pid or options.process (one of them)");
		goto fail;
	}
	if (name) {
		DIR *d = opendir(dir);
		struct dirent *de;
		char found[256] = "";
		size_t n_found = 0;

		if (!d) {
			snprintf(why, n, "cannot list '%s': %s", dir, strerror(errno));
			goto fail;
		}
		while ((de = readdir(d)) != NULL) {
			if (!eb_all_digits(de->d_name))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (!eb_proc_named(path, name))
				continue;
			if (n_found++ == 0)
				pid = strtoll(de->d_name, NULL, 10);
			if (strlen(found) + strlen(de->d_name) + 2 < sizeof(found))
				snprintf(found + strlen(found), sizeof(found) - strlen(found), "%s%s",
					 found[0] ? ", " : "", de->d_name);
		}
		closedir(d);
		if (n_found == 0) {
			snprintf(why, n, "no process named '%s' under '%s' (is the server running?)",
				 name, dir);
			goto fail;
		}
		if (n_found > 1) {
			snprintf(why, n, "%zu processes are named '%s' (pids %s): give options.pid",
				 n_found, name, found);
			goto fail;
		}
	}
	p->pid = pid;
	snprintf(path, sizeof(path), "%s/%lld/comm", dir, pid);
	if (eb_sysfs_read(path, p->comm, sizeof(p->comm), NULL) != 0)
		p->comm[0] = '\0';
	snprintf(path, sizeof(path), "%s/%lld/status", dir, pid);
	if (eb_sysfs_open(&p->status, path, &err) != 0) {
		snprintf(why, n, "no process %lld: %s", pid, err.msg);
		goto fail;
	}
	return p;
fail:
	eb_procmem_free(p);
	return NULL;
}

static const char *eb_proc_unavailable(const struct eb_sensor_args *a, char *buf, size_t n)
{
	struct eb_procmem *p = eb_procmem_find(a, buf, n);

	if (!p)
		return buf;
	eb_procmem_free(p);
	return NULL;
}

static int eb_proc_open(const struct eb_sensor_args *a, void **state, struct eb_err *err)
{
	char why[1024];
	struct eb_procmem *p = eb_procmem_find(a, why, sizeof(why));

	if (!p)
		return eb_err_set(err, EB_EUNSUPPORTED, "%s", why);
	*state = p;
	return 0;
}

/* "VmRSS:\t  123456 kB" out of /proc/PID/status, in bytes; EB_EPARSE when absent. */
static int eb_proc_field_bytes(const char *status, const char *field, double *bytes)
{
	const char *q = strstr(status, field);
	char *end;
	long long kb;

	if (!q)
		return EB_EPARSE;
	q += strlen(field);
	kb = strtoll(q, &end, 10);
	if (end == q || kb < 0 || strncmp(end, " kB", 3) != 0)
		return EB_EPARSE;
	*bytes = (double)kb * 1024.0;
	return 0;
}

static int eb_proc_read(void *state, uint64_t *t_ns, struct eb_sensor_reading *out, size_t max,
			size_t *n, struct eb_err *err)
{
	struct eb_procmem *p = state;
	char buf[8192];
	double rss;
	int ret;

	*n = 0;
	(void)t_ns;
	ret = eb_sysfs_pread(&p->status, buf, sizeof(buf), err);
	if (ret)
		return eb_err_prefix(err, "process %lld (%s) is gone", p->pid, p->comm);
	/* a kernel thread or a zombie has no VmRSS line: nothing resident to report */
	if (eb_proc_field_bytes(buf, "\nVmRSS:", &rss) != 0)
		return eb_err_set(err, EB_EIO, "process %lld (%s) has no VmRSS in '%s' (exited?)",
				  p->pid, p->comm, p->status.path);
	if (max > 0) {
		eb_reading_set(&out[0], "rss", rss, "VmRSS (kB)", EB_RAIL_BYTES);
		*n = 1;
	}
	return 0;
}

static int eb_proc_describe(void *state, json_t *out, struct eb_err *err)
{
	struct eb_procmem *p = state;

	json_object_set_new(out, "pid", json_integer((json_int_t)p->pid));
	json_object_set_new(out, "comm", json_string(p->comm));
	json_object_set_new(out, "interval_ms", json_null());
	json_object_set_new(out, "window_ms", json_integer(0));
	json_object_set_new(out, "window", json_string("resident set size at the instant read"));
	json_object_set_new(out, "rails",
			    json_pack("[{s:s, s:s, s:o, s:s}]", "rail", "rss", "source", "VmRSS (kB)",
				      "flags", eb_sensor_flags_json(EB_RAIL_BYTES), "path",
				      p->status.path));
	return 0;
}

static void eb_proc_close(void *state)
{
	eb_procmem_free(state);
}

const struct eb_sensor_ops eb_sensor_proc = {
	.name = "proc",
	.abi = EB_SENSOR_ABI,
	.caps = EB_SENSOR_CAP_MEMORY | EB_SENSOR_CAP_ROOT,
	.options = eb_proc_options,
	.help = "resident memory (VmRSS) of a process on this host, by pid or name: the server "
		"behind a remote target",
	.unavailable_reason = eb_proc_unavailable,
	.open = eb_proc_open,
	.read = eb_proc_read,
	.describe = eb_proc_describe,
	.close = eb_proc_close,
};
