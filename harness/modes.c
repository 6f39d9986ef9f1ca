/* modes.c: device modes: the starting state read and kept with the run, each mode set, read back and undone (see modes.h). */
#include "modes.h"
#include "eb_cleanup.h"
#include "eb_clock.h"
#include "eb_proc.h"
#include "eb_regex.h"
#include "eb_util.h"

#include <errno.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The parts a mode may change, in the order they are set and restored. */
enum {
	EB_PART_NVPMODEL = 1 << 0,
	EB_PART_CLOCKS = 1 << 1,
	EB_PART_POWER = 1 << 2,
	EB_PART_CPUFREQ = 1 << 3,
	EB_PART_SET = 1 << 4,
};

/*
 * Cleanup slots (eb_cleanup.h holds 32 for the whole process) the restore may take: the
 * programs first, then cpufreq files while slots remain; the run's own exit path restores
 * everything in any case.
 */
#define EB_MODES_CLEANUP_MAX 12

/* Output kept from a mode program: nvpmodel -q and nvidia-smi print a few lines. */
#define EB_MODES_OUT_MAX (64u << 10)

struct eb_modes {
	const struct eb_config *cfg;
	const char *root; /* power.sysfs_root, "" for the real / */
	int quiet;
	json_t *start;    /* the state before the run (EB_MODES_FACT) */
	const struct eb_cfg_mode *cur; /* the mode set and verified, or NULL */
	const struct eb_cfg_mode *last; /* the mode last set, even in part (a failed one) */
	int touched;      /* a mode may have been set: by this process or the one resumed */
	/* the restore, registered with eb_cleanup while a mode may be set (signal paths) */
	int slots[EB_MODES_CLEANUP_MAX];
	size_t n_slots;
	char **own;       /* strings and argv vectors the registered entries point into */
	size_t n_own;
	int armed;
};

static unsigned eb_mode_parts(const struct eb_cfg_mode *m)
{
	unsigned p = 0;

	if (m->nvpmodel >= 0)
		p |= EB_PART_NVPMODEL;
	if (m->jetson_clocks >= 0)
		p |= EB_PART_CLOCKS;
	if (!isnan(m->power_limit_w))
		p |= EB_PART_POWER;
	if (m->governor || m->max_khz)
		p |= EB_PART_CPUFREQ;
	if (m->set)
		p |= EB_PART_SET;
	return p;
}

/* argv as one line for messages: words joined by spaces. */
static void eb_argv_text(const char *const *argv, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; argv[i] && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? " " : "", argv[i]);
}

/* The first line of s (at most 200 bytes) for a message. */
static void eb_first_line(const char *s, char *buf, size_t n)
{
	size_t len = strcspn(s, "\n");

	if (len > 200)
		len = 200;
	if (len >= n)
		len = n - 1;
	memcpy(buf, s, len);
	buf[len] = '\0';
}

/*
 * Runs argv to its end, its stdout and stderr into *out (NULL: dropped). A start failure
 * or a non-zero exit is EB_EIO naming the mode, the command and its first line of output.
 */
static int eb_modes_exec(struct eb_modes *m, const char *mode_id, const char *const *argv,
			 char **out, struct eb_err *err)
{
	char cmd[512], line[256];
	char *text = NULL;
	struct eb_err perr;
	int rc;

	eb_argv_text(argv, cmd, sizeof(cmd));
	if (!m->quiet)
		fprintf(stderr, "edgebench: mode '%s': %s\n", mode_id, cmd);
	rc = eb_proc_capture_timed(argv, 1, EB_MODES_OUT_MAX,
				   (uint64_t)(m->cfg->mode_timeout_s * 1e9), &text, &perr);
	if (rc < 0)
		return eb_err_set(err, EB_EIO, "mode '%s': cannot run '%s': %s", mode_id, cmd,
				  perr.msg);
	if (rc != 0) {
		eb_first_line(text ? text : "", line, sizeof(line));
		free(text);
		return eb_err_set(err, EB_EIO, "mode '%s': '%s' exited with %d%s%s", mode_id, cmd,
				  rc, *line ? ": " : "", line);
	}
	if (out)
		*out = text;
	else
		free(text);
	return 0;
}

/* The next line of *p (cut at its newline, which is consumed), or NULL at the end. */
static char *eb_next_line(char **p)
{
	char *line = *p, *nl;

	if (!line || !*line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = line + strlen(line);
	}
	return line;
}

/* A JSON array of strings (a config argv) as a NULL-terminated vector the caller frees. */
static const char **eb_json_argv(const json_t *a)
{
	const char **v = eb_xcalloc(json_array_size(a) + 1, sizeof(*v));
	const json_t *it;
	size_t i;

	json_array_foreach(a, i, it)
		v[i] = json_string_value(it);
	return v;
}

static int eb_modes_exec_json(struct eb_modes *m, const char *mode_id, const json_t *argv,
			      char **out, struct eb_err *err)
{
	const char **v = eb_json_argv(argv);
	int ret = eb_modes_exec(m, mode_id, v, out, err);

	free(v);
	return ret;
}

/* --- sysfs ------------------------------------------------------------------------- */

/* root + rel into buf; 0, or -1 when it does not fit. */
static int eb_modes_path(const struct eb_modes *m, const char *rel, char *buf, size_t n)
{
	return snprintf(buf, n, "%s%s", m->root, rel) < (int)n ? 0 : -1;
}

/* The trimmed text of root + rel into buf. */
static int eb_sysfs_get(const struct eb_modes *m, const char *rel, char *buf, size_t n,
			struct eb_err *err)
{
	char path[4096], *text = NULL;
	size_t len, b = 0;
	int ret;

	if (eb_modes_path(m, rel, path, sizeof(path)))
		return eb_err_set(err, EB_EINVAL, "path too long: %s", rel);
	ret = eb_read_file(path, 4096, &text, &len, err);
	if (ret)
		return ret;
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	while (b < len && (text[b] == ' ' || text[b] == '\t' || text[b] == '\n'))
		b++;
	text[len] = '\0';
	eb_strlcpy(buf, text + b, n);
	free(text);
	return 0;
}

/* Writes `val` into root + rel as a sysfs attribute is written (no temp file, no rename). */
static int eb_sysfs_put(struct eb_modes *m, const char *mode_id, const char *rel,
			const char *val, struct eb_err *err)
{
	char path[4096];
	FILE *f;
	int bad;

	if (eb_modes_path(m, rel, path, sizeof(path)))
		return eb_err_set(err, EB_EINVAL, "path too long: %s", rel);
	if (!m->quiet)
		fprintf(stderr, "edgebench: mode '%s': %s <- %s\n", mode_id, path, val);
	f = fopen(path, "w");
	if (!f)
		return eb_err_set(err, EB_EIO, "mode '%s': cannot write '%s': %s", mode_id, path,
				  strerror(errno));
	bad = fputs(val, f) < 0;
	bad |= fclose(f) != 0;
	if (bad)
		return eb_err_set(err, EB_EIO, "mode '%s': cannot write '%s' to '%s': %s", mode_id,
				  val, path, strerror(errno));
	return 0;
}

/*
 * The cpufreq directories of every CPU (root-relative, "/sys/devices/system/cpu/cpuN/
 * cpufreq") into a new array; EB_ENOENT when there is none.
 */
static int eb_cpufreq_dirs(const struct eb_modes *m, json_t **dirs, struct eb_err *err)
{
	char pat[4096];
	size_t skip = strlen(m->root);
	glob_t g;

	*dirs = json_array();
	if (eb_modes_path(m, "/sys/devices/system/cpu/cpu[0-9]*/cpufreq", pat, sizeof(pat)) == 0 &&
	    glob(pat, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			json_array_append_new(*dirs, json_string(g.gl_pathv[i] + skip));
		globfree(&g);
	}
	if (json_array_size(*dirs))
		return 0;
	json_decref(*dirs);
	*dirs = NULL;
	return eb_err_set(err, EB_ENOENT, "no cpufreq under '%s/sys/devices/system/cpu' "
					  "(power.sysfs_root)", m->root);
}

/* --- the parts ---------------------------------------------------------------------- */

/* nvpmodel's mode number from `nvpmodel -q` ("NV Power Mode: MAXN" then "0"). */
static int eb_nvp_query(struct eb_modes *m, const char *mode_id, long long *mode,
			struct eb_err *err)
{
	const char *argv[] = { "nvpmodel", "-q", NULL };
	char *out = NULL, *line, *p, first[256];
	int ret = eb_modes_exec(m, mode_id, argv, &out, err), found = 0;

	if (ret)
		return ret;
	eb_first_line(out, first, sizeof(first));
	for (p = out; (line = eb_next_line(&p)) != NULL;) {
		long long v;

		line[strcspn(line, " \t\r")] = '\0';
		if (eb_parse_ll(line, 0, 1000, &v) == 0) {
			*mode = v;
			found = 1;
		}
	}
	free(out);
	if (!found)
		return eb_err_set(err, EB_EPARSE, "mode '%s': 'nvpmodel -q' shows no mode number "
						  "(it printed '%s')", mode_id, first);
	return 0;
}

/* The power limit of each GPU, in W, from nvidia-smi. */
static int eb_pl_query(struct eb_modes *m, const char *mode_id, json_t **limits,
		       struct eb_err *err)
{
	const char *argv[] = { "nvidia-smi", "--query-gpu=power.limit", "--format=csv,noheader,nounits",
			       NULL };
	char *out = NULL, *line, *p;
	int ret = eb_modes_exec(m, mode_id, argv, &out, err);

	if (ret)
		return ret;
	*limits = json_array();
	for (p = out; !ret && (line = eb_next_line(&p)) != NULL;) {
		double w;

		line[strcspn(line, "\r")] = '\0';
		if (eb_parse_double(line, &w) != 0 || !isfinite(w))
			ret = eb_err_set(err, EB_EPARSE, "mode '%s': nvidia-smi shows '%s' for a "
							 "power limit, not a number of watts", mode_id,
					 line);
		else
			json_array_append_new(*limits, json_real(w));
	}
	free(out);
	if (!ret && json_array_size(*limits) == 0)
		ret = eb_err_set(err, EB_EPARSE, "mode '%s': nvidia-smi lists no GPU", mode_id);
	if (ret) {
		json_decref(*limits);
		*limits = NULL;
	}
	return ret;
}

/* nvidia-smi prints limits with two decimals: a limit within 0.01 W is the one set. */
static int eb_pl_verify(struct eb_modes *m, const char *mode_id, double want, struct eb_err *err)
{
	json_t *limits = NULL, *it;
	size_t i;
	int ret = eb_pl_query(m, mode_id, &limits, err);

	if (ret)
		return ret;
	json_array_foreach(limits, i, it)
		if (!ret && fabs(json_real_value(it) - want) > 0.01)
			ret = eb_err_set(err, EB_EIO, "mode '%s': GPU %zu reads back a power limit "
						      "of %g W, not the %g W set", mode_id, i,
					 json_real_value(it), want);
	json_decref(limits);
	return ret;
}

static int eb_nvp_verify(struct eb_modes *m, const char *mode_id, long long want,
			 struct eb_err *err)
{
	long long got = -1;
	int ret = eb_nvp_query(m, mode_id, &got, err);

	if (!ret && got != want)
		ret = eb_err_set(err, EB_EIO, "mode '%s': 'nvpmodel -q' reads back mode %lld, not "
					      "the %lld set", mode_id, got, want);
	return ret;
}

/* jetson_clocks pins every CPU's minimum clock to its maximum: that is what is checked. */
static int eb_clocks_verify(struct eb_modes *m, const char *mode_id, struct eb_err *err)
{
	json_t *dirs = NULL, *it;
	size_t i;
	int ret = eb_cpufreq_dirs(m, &dirs, err);

	json_array_foreach(dirs, i, it) {
		char rel[4096], lo[64], hi[64];

		snprintf(rel, sizeof(rel), "%s/scaling_min_freq", json_string_value(it));
		if (!ret)
			ret = eb_sysfs_get(m, rel, lo, sizeof(lo), err);
		snprintf(rel, sizeof(rel), "%s/scaling_max_freq", json_string_value(it));
		if (!ret)
			ret = eb_sysfs_get(m, rel, hi, sizeof(hi), err);
		if (!ret && strcmp(lo, hi) != 0)
			ret = eb_err_set(err, EB_EIO, "mode '%s': after jetson_clocks %s runs from %s "
						      "to %s kHz, not pinned to its maximum",
					 mode_id, json_string_value(it), lo, hi);
	}
	if (dirs)
		json_decref(dirs);
	if (ret && !strstr(err->msg, "mode '"))
		eb_err_set(err, ret, "mode '%s': cannot verify jetson_clocks: %s", mode_id,
			   err->msg);
	return ret;
}

/* Writes governor and/or max_khz to `dir` (root-relative) and reads them back. */
static int eb_cpufreq_put(struct eb_modes *m, const char *mode_id, const char *dir,
			  const char *governor, long long max_khz, struct eb_err *err)
{
	char rel[4096], got[128], want[64];
	int ret = 0;

	if (max_khz > 0) {
		snprintf(rel, sizeof(rel), "%s/scaling_max_freq", dir);
		snprintf(want, sizeof(want), "%lld", max_khz);
		ret = eb_sysfs_put(m, mode_id, rel, want, err);
		if (!ret)
			ret = eb_sysfs_get(m, rel, got, sizeof(got), err);
		if (!ret && strcmp(got, want) != 0)
			return eb_err_set(err, EB_EIO, "mode '%s': %s%s reads back %s kHz, not the %s "
						       "set", mode_id, m->root, rel, got, want);
	}
	if (!ret && governor) {
		snprintf(rel, sizeof(rel), "%s/scaling_governor", dir);
		ret = eb_sysfs_put(m, mode_id, rel, governor, err);
		if (!ret)
			ret = eb_sysfs_get(m, rel, got, sizeof(got), err);
		if (!ret && strcmp(got, governor) != 0)
			return eb_err_set(err, EB_EIO, "mode '%s': %s%s reads back '%s', not the '%s' "
						       "set", mode_id, m->root, rel, got, governor);
	}
	return ret;
}

/* A mode's own read-back: a program whose output must match, or a file and its text. */
static int eb_custom_verify(struct eb_modes *m, const struct eb_cfg_mode *mode,
			    struct eb_err *err)
{
	const json_t *vf = mode->verify;
	const json_t *argv = json_object_get(vf, "argv");
	const char *match = json_string_value(json_object_get(vf, "match"));
	char *out = NULL, *line, *p, first[256], why[256];
	struct eb_regex re;
	int ret, found = 0;

	if (!argv) {
		const char *file = json_string_value(json_object_get(vf, "file"));
		const char *expect = json_string_value(json_object_get(vf, "expect"));
		char got[1024], want[1024];
		size_t b = 0, e = strlen(expect);

		ret = eb_sysfs_get(m, file, got, sizeof(got), err);
		if (ret)
			return eb_err_set(err, ret, "mode '%s': verify: %s", mode->id, err->msg);
		while (b < e && strchr(" \t\n", expect[b]))
			b++;
		while (e > b && strchr(" \t\n", expect[e - 1]))
			e--;
		snprintf(want, sizeof(want), "%.*s", (int)(e - b), expect + b);
		if (strcmp(got, want) != 0)
			return eb_err_set(err, EB_EIO, "mode '%s': %s%s reads '%s', not the expected "
						       "'%s'", mode->id, m->root, file, got, want);
		return 0;
	}
	ret = eb_modes_exec_json(m, mode->id, argv, &out, err);
	if (ret)
		return ret;
	if (eb_regex_compile(&re, match, why, sizeof(why)) != 0) { /* checked by validate */
		free(out);
		return eb_err_set(err, EB_ECONFIG, "mode '%s': verify.match: %s", mode->id, why);
	}
	eb_first_line(out, first, sizeof(first));
	for (p = out; !found && (line = eb_next_line(&p)) != NULL;)
		found = eb_regex_match(&re, line, NULL, NULL) == 1;
	eb_regex_release(&re);
	free(out);
	if (!found)
		return eb_err_set(err, EB_EIO, "mode '%s': verify: no line of the output of '%s' "
					       "matches '%s' (it printed '%s')", mode->id,
				  json_string_value(json_array_get(argv, 0)), match, first);
	return 0;
}

/* Sets one part of `mode` and reads it back. */
static int eb_part_set(struct eb_modes *m, const struct eb_cfg_mode *mode, unsigned part,
		       struct eb_err *err)
{
	char num[64];
	int ret = 0;

	switch (part) {
	case EB_PART_NVPMODEL: {
		const char *argv[] = { "nvpmodel", "-m", num, NULL };

		snprintf(num, sizeof(num), "%lld", mode->nvpmodel);
		ret = eb_modes_exec(m, mode->id, argv, NULL, err);
		return ret ? ret : eb_nvp_verify(m, mode->id, mode->nvpmodel, err);
	}
	case EB_PART_CLOCKS: {
		const char *on[] = { "jetson_clocks", NULL };
		const char *off[] = { "jetson_clocks", "--restore", NULL };

		ret = eb_modes_exec(m, mode->id, mode->jetson_clocks ? on : off, NULL, err);
		/* off is the state stored at the start, which may have been pinned: not checked */
		return ret || !mode->jetson_clocks ? ret : eb_clocks_verify(m, mode->id, err);
	}
	case EB_PART_POWER: {
		const char *argv[] = { "nvidia-smi", "-pl", num, NULL };

		snprintf(num, sizeof(num), "%.17g", mode->power_limit_w);
		ret = eb_modes_exec(m, mode->id, argv, NULL, err);
		return ret ? ret : eb_pl_verify(m, mode->id, mode->power_limit_w, err);
	}
	case EB_PART_CPUFREQ: {
		json_t *dirs = NULL, *it;
		size_t i;

		ret = eb_cpufreq_dirs(m, &dirs, err);
		if (ret)
			return eb_err_set(err, ret, "mode '%s': %s", mode->id, err->msg);
		json_array_foreach(dirs, i, it)
			if (!ret)
				ret = eb_cpufreq_put(m, mode->id, json_string_value(it),
						     mode->governor, mode->max_khz, err);
		json_decref(dirs);
		return ret;
	}
	case EB_PART_SET:
		return eb_modes_exec_json(m, mode->id, mode->set, NULL, err);
	}
	return 0;
}

/* The starting state of one part back, whatever mode set it (`prev`: the `set` mode). */
static int eb_part_restore(struct eb_modes *m, unsigned part, const struct eb_cfg_mode *prev,
			   struct eb_err *err)
{
	const json_t *st = m->start;
	char num[64];
	int ret = 0;

	switch (part) {
	case EB_PART_SET:
		return eb_modes_exec_json(m, prev->id, prev->restore, NULL, err);
	case EB_PART_CPUFREQ: {
		const json_t *cpus = json_object_get(st, "cpufreq"), *it;
		size_t i;

		json_array_foreach(cpus, i, it) {
			struct eb_err e;
			int rc = eb_cpufreq_put(m, "start", json_string_value(json_object_get(it, "dir")),
						json_string_value(json_object_get(it, "governor")),
						json_integer_value(json_object_get(it, "max_khz")), &e);

			if (rc && !ret) {
				ret = rc;
				*err = e;
			}
		}
		return ret;
	}
	case EB_PART_POWER: {
		const json_t *limits = json_object_get(st, "power_limit_w"), *it;
		size_t i;

		json_array_foreach(limits, i, it) {
			char gpu[32];
			const char *argv[] = { "nvidia-smi", "-i", gpu, "-pl", num, NULL };
			struct eb_err e;
			int rc;

			snprintf(gpu, sizeof(gpu), "%zu", i);
			snprintf(num, sizeof(num), "%.17g", json_real_value(it));
			rc = eb_modes_exec(m, "start", argv, NULL, &e);
			if (rc && !ret) {
				ret = rc;
				*err = e;
			}
		}
		return ret;
	}
	case EB_PART_NVPMODEL: {
		const char *argv[] = { "nvpmodel", "-m", num, NULL };
		const json_t *v = json_object_get(st, "nvpmodel");

		if (!json_is_integer(v))
			return 0;
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		ret = eb_modes_exec(m, "start", argv, NULL, err);
		return ret ? ret : eb_nvp_verify(m, "start", json_integer_value(v), err);
	}
	case EB_PART_CLOCKS: {
		const char *argv[] = { "jetson_clocks", "--restore", NULL };

		if (!json_is_true(json_object_get(st, "jetson_clocks_stored")))
			return 0;
		return eb_modes_exec(m, "start", argv, NULL, err);
	}
	}
	return 0;
}

/* --- the restore as a safety net for signals ---------------------------------------- */

/* A string the registered entries point into, owned by m until disarm. */
static char *eb_own(struct eb_modes *m, char *p)
{
	m->own = eb_xrealloc(m->own, (m->n_own + 1) * sizeof(*m->own));
	m->own[m->n_own++] = p;
	return p;
}

/* prog as an absolute path (a handler cannot search PATH), or NULL when not found. */
static char *eb_which(const char *prog)
{
	const char *path = getenv("PATH"), *p;
	char buf[4096];

	if (strchr(prog, '/'))
		return prog[0] == '/' ? eb_xstrdup(prog) : NULL;
	for (p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t len = strcspn(p, ":");

		if (len && snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, p, prog) < (int)sizeof(buf) &&
		    access(buf, X_OK) == 0)
			return eb_xstrdup(buf);
		p += len + (p[len] == ':');
	}
	return NULL;
}

/* Registers argv[0..n) (argv[0] a program name) to run at a fatal signal or exit. */
static void eb_arm_exec(struct eb_modes *m, const char *const *argv, size_t n)
{
	char *prog = eb_which(argv[0]);
	const char **v;
	int slot;

	if (!prog || m->n_slots == EB_MODES_CLEANUP_MAX) {
		free(prog);
		return;
	}
	v = eb_xcalloc(n + 1, sizeof(*v));
	v[0] = eb_own(m, prog);
	for (size_t i = 1; i < n; i++)
		v[i] = eb_own(m, eb_xstrdup(argv[i]));
	eb_own(m, (char *)v);
	slot = eb_cleanup_exec(v);
	if (slot >= 0)
		m->slots[m->n_slots++] = slot;
}

static void eb_arm_write(struct eb_modes *m, const char *dir, const char *file, const char *val)
{
	char path[4096];
	int slot;

	if (m->n_slots == EB_MODES_CLEANUP_MAX ||
	    snprintf(path, sizeof(path), "%s%s/%s", m->root, dir, file) >= (int)sizeof(path))
		return;
	slot = eb_cleanup_write(path, val);
	if (slot >= 0)
		m->slots[m->n_slots++] = slot;
}

/* Forgets the registered restore: done, or no longer needed. */
static void eb_modes_disarm(struct eb_modes *m)
{
	for (size_t i = 0; i < m->n_slots; i++)
		eb_cleanup_forget(m->slots[i]);
	m->n_slots = 0;
	for (size_t i = 0; i < m->n_own; i++)
		free(m->own[i]);
	free(m->own);
	m->own = NULL;
	m->n_own = 0;
	m->armed = 0;
}

/*
 * The restore of eb_modes_restore registered with eb_cleanup (same order; programs before
 * files, which may run out of slots), so a signal that ends the process at once, or an
 * exit() elsewhere, still puts the device back.
 */
static void eb_modes_arm(struct eb_modes *m)
{
	const json_t *st = m->start, *it;
	unsigned parts = 0;
	char num[64], gpu[32];
	size_t i;

	if (m->armed)
		return;
	m->armed = 1;
	for (i = 0; i < m->cfg->n_modes; i++) {
		const struct eb_cfg_mode *md = &m->cfg->modes[i];
		const char **v;
		int seen = 0;

		parts |= eb_mode_parts(md);
		for (size_t j = 0; j < i && md->restore; j++)
			seen |= m->cfg->modes[j].restore &&
				json_equal((json_t *)m->cfg->modes[j].restore, (json_t *)md->restore);
		if (!md->restore || seen)
			continue;
		v = eb_json_argv(md->restore);
		eb_arm_exec(m, v, json_array_size(md->restore));
		free(v);
	}
	json_array_foreach(json_object_get(st, "power_limit_w"), i, it) {
		const char *argv[] = { "nvidia-smi", "-i", gpu, "-pl", num };

		snprintf(gpu, sizeof(gpu), "%zu", i);
		snprintf(num, sizeof(num), "%.17g", json_real_value(it));
		eb_arm_exec(m, argv, 5);
	}
	if (json_is_integer(json_object_get(st, "nvpmodel"))) {
		const char *argv[] = { "nvpmodel", "-m", num };

		snprintf(num, sizeof(num), "%lld",
			 (long long)json_integer_value(json_object_get(st, "nvpmodel")));
		eb_arm_exec(m, argv, 3);
	}
	if (json_is_true(json_object_get(st, "jetson_clocks_stored"))) {
		const char *argv[] = { "jetson_clocks", "--restore" };

		eb_arm_exec(m, argv, 2);
	}
	json_array_foreach(json_object_get(st, "cpufreq"), i, it) {
		const char *dir = json_string_value(json_object_get(it, "dir"));

		snprintf(num, sizeof(num), "%lld",
			 (long long)json_integer_value(json_object_get(it, "max_khz")));
		eb_arm_write(m, dir, "scaling_max_freq", num);
		eb_arm_write(m, dir, "scaling_governor",
			     json_string_value(json_object_get(it, "governor")));
	}
}

/* --- the switcher ------------------------------------------------------------------ */

/* What every part any mode changes is now, into m->start. */
static int eb_modes_read_start(struct eb_modes *m, unsigned parts, struct eb_err *err)
{
	json_t *st = json_object();
	int ret = 0;

	m->start = st;
	if (parts & EB_PART_NVPMODEL) {
		long long v;

		ret = eb_nvp_query(m, "start", &v, err);
		if (!ret)
			json_object_set_new(st, "nvpmodel", json_integer(v));
	}
	if (!ret && (parts & EB_PART_CLOCKS)) {
		const char *argv[] = { "jetson_clocks", "--store", NULL };

		ret = eb_modes_exec(m, "start", argv, NULL, err);
		if (!ret)
			json_object_set_new(st, "jetson_clocks_stored", json_true());
	}
	if (!ret && (parts & EB_PART_POWER)) {
		json_t *limits = NULL;

		ret = eb_pl_query(m, "start", &limits, err);
		if (!ret)
			json_object_set_new(st, "power_limit_w", limits);
	}
	if (!ret && (parts & EB_PART_CPUFREQ)) {
		json_t *dirs = NULL, *cpus = json_array(), *it;
		size_t i;

		ret = eb_cpufreq_dirs(m, &dirs, err);
		json_array_foreach(dirs, i, it) {
			const char *dir = json_string_value(it);
			char rel[4096], gov[128], khz[64];
			long long v = 0;

			snprintf(rel, sizeof(rel), "%s/scaling_governor", dir);
			if (!ret)
				ret = eb_sysfs_get(m, rel, gov, sizeof(gov), err);
			snprintf(rel, sizeof(rel), "%s/scaling_max_freq", dir);
			if (!ret)
				ret = eb_sysfs_get(m, rel, khz, sizeof(khz), err);
			if (!ret && eb_parse_ll(khz, 1, 1000000000, &v) != 0)
				ret = eb_err_set(err, EB_EPARSE, "%s%s reads '%s', not a clock in kHz",
						 m->root, rel, khz);
			if (!ret)
				json_array_append_new(cpus, json_pack("{s:s,s:s,s:I}", "dir", dir,
								      "governor", gov, "max_khz",
								      (json_int_t)v));
		}
		json_object_set_new(st, "cpufreq", cpus);
		if (dirs)
			json_decref(dirs);
		if (ret && !strstr(err->msg, "mode '"))
			eb_err_set(err, ret, "mode 'start': cannot read cpufreq: %s", err->msg);
	}
	return ret;
}

int eb_modes_open(struct eb_modes **out, const struct eb_config *cfg, struct eb_store *s,
		  int64_t run_id, int quiet, struct eb_err *err)
{
	struct eb_modes *m = eb_xcalloc(1, sizeof(*m));
	unsigned parts = 0;
	char *saved = NULL;
	int ret;

	*out = NULL;
	m->cfg = cfg;
	m->root = cfg->power.sysfs_root ? cfg->power.sysfs_root : "";
	m->quiet = quiet;
	for (size_t i = 0; i < cfg->n_modes; i++)
		parts |= eb_mode_parts(&cfg->modes[i]);
	ret = eb_store_run_fact_get(s, run_id, EB_MODES_FACT, &saved, err);
	if (!ret && saved) {
		json_error_t je;

		m->start = json_loads(saved, 0, &je);
		m->touched = 1; /* the process it resumes may have left a mode set */
		if (!m->start)
			ret = eb_err_set(err, EB_EDB, "run %lld: the stored %s is not JSON: %s",
					 (long long)run_id, EB_MODES_FACT, je.text);
		else
			eb_modes_arm(m);
	} else if (!ret) {
		ret = eb_modes_read_start(m, parts, err);
		if (!ret) {
			char *text = json_dumps(m->start, JSON_COMPACT | JSON_SORT_KEYS);

			ret = eb_store_run_fact_set(s, run_id, EB_MODES_FACT, text, err);
			free(text);
		}
	}
	free(saved);
	if (ret) {
		eb_modes_free(m);
		return ret;
	}
	*out = m;
	return 0;
}

int eb_modes_enter(struct eb_modes *m, const struct eb_cfg_mode *mode, volatile int *stop,
		   struct eb_err *err)
{
	const unsigned order[] = { EB_PART_NVPMODEL, EB_PART_CLOCKS, EB_PART_POWER,
				   EB_PART_CPUFREQ, EB_PART_SET };
	unsigned prev = m->last ? eb_mode_parts(m->last) : 0, want = eb_mode_parts(mode);
	int ret = 0;

	if (m->cur == mode)
		return 0;
	/* what the previous mode set (in part, when it failed) and this one does not goes back
	 * to the start; a `set` mode is undone by its own restore, unless this one has a
	 * program of its own */
	for (int i = 4; i >= 0 && !ret; i--)
		if ((prev & order[i]) && !(want & order[i]))
			ret = eb_part_restore(m, order[i], m->last, err);
	if (ret)
		return ret;
	m->cur = NULL;
	m->last = mode;
	m->touched = 1;
	eb_modes_arm(m);
	for (size_t i = 0; i < 5 && !ret; i++)
		if (want & order[i])
			ret = eb_part_set(m, mode, order[i], err);
	if (!ret && mode->verify)
		ret = eb_custom_verify(m, mode, err);
	if (ret)
		return ret;
	if (mode->settle_s > 0)
		eb_clock_sleep_ns((uint64_t)(mode->settle_s * 1e9), stop);
	if (stop && *stop)
		return eb_err_set(err, EB_EINTR, "interrupted while mode '%s' settled", mode->id);
	m->cur = mode;
	return 0;
}

int eb_modes_restore(struct eb_modes *m, struct eb_err *err)
{
	const unsigned order[] = { EB_PART_SET, EB_PART_CPUFREQ, EB_PART_POWER, EB_PART_NVPMODEL,
				   EB_PART_CLOCKS };
	unsigned parts = 0;
	int ret = 0;

	if (!m || !m->touched)
		return 0;
	for (size_t i = 0; i < m->cfg->n_modes; i++)
		parts |= eb_mode_parts(&m->cfg->modes[i]);
	for (size_t k = 0; k < 5; k++) {
		struct eb_err e;
		int rc = 0;

		if (!(parts & order[k]))
			continue;
		if (order[k] != EB_PART_SET) {
			rc = eb_part_restore(m, order[k], NULL, &e);
		} else {
			/* each distinct restore program once: which `set` mode ran last is not
			 * known after a resume, and each restores the same starting state */
			for (size_t i = 0; i < m->cfg->n_modes; i++) {
				const struct eb_cfg_mode *md = &m->cfg->modes[i];
				int seen = 0;

				for (size_t j = 0; j < i && md->restore; j++)
					seen |= m->cfg->modes[j].restore &&
						json_equal((json_t *)m->cfg->modes[j].restore,
							   (json_t *)md->restore);
				if (md->restore && !seen) {
					struct eb_err e2;
					int r2 = eb_part_restore(m, EB_PART_SET, md, &e2);

					if (r2 && !rc) {
						rc = r2;
						e = e2;
					}
				}
			}
		}
		if (rc && !ret) {
			ret = rc;
			*err = e;
		}
	}
	m->cur = NULL;
	m->last = NULL;
	m->touched = 0;
	eb_modes_disarm(m);
	return ret;
}

void eb_modes_free(struct eb_modes *m)
{
	if (!m)
		return;
	eb_modes_disarm(m);
	if (m->start)
		json_decref(m->start);
	free(m);
}
