/* preflight.c: the files, datasets and programs a plan needs, found before its first cell (see preflight.h). */
#include "preflight.h"
#include "fetch.h"
#include "protocol.h"
#include "eb_opt.h"
#include "eb_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 0 when `path` opens for reading as a regular file, else errno (EISDIR for a directory). */
static int eb_readable(const char *path)
{
	struct stat sb;
	FILE *f;

	if (stat(path, &sb) != 0)
		return errno;
	if (S_ISDIR(sb.st_mode))
		return EISDIR;
	f = fopen(path, "rb");
	if (!f)
		return errno;
	fclose(f);
	return 0;
}

/* Whether `prog` runs as execvp would find it: a path with '/' as is, else on $PATH. */
static int eb_runnable(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	if (!path || !*path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		struct stat sb;

		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)n, n ? path : ".", "/", prog);
		if (stat(buf, &sb) == 0 && S_ISREG(sb.st_mode) && access(buf, X_OK) == 0)
			return 1;
		path += n + (path[n] == ':');
	}
	return 0;
}

/* A target's program and CA file. */
static void eb_preflight_target(struct eb_opt_errors *v, const struct eb_config *cfg,
				const struct eb_cfg_target *t)
{
	size_t i = (size_t)(t - cfg->targets);
	const json_t *argv = json_object_get(t->options, "argv");
	const char *prog = json_string_value(json_array_get(argv, 0));
	const char *ca = json_string_value(json_object_get(t->options, "ca_file"));
	char path[256];
	int e;

	if (prog && eb_opt_find(t->ops->options, "argv")) {
		snprintf(path, sizeof(path), "targets[%zu].options.argv[0]", i);
		if (!eb_runnable(prog))
			eb_opt_errorf(v, path, 0, strchr(prog, '/')
						  ? "program '%s' is not there or not executable"
						  : "program '%s' is not on PATH",
				      prog);
	}
	if (ca && eb_opt_find(t->ops->options, "ca_file")) {
		snprintf(path, sizeof(path), "targets[%zu].options.ca_file", i);
		e = eb_readable(ca);
		if (e)
			eb_opt_errorf(v, path, 0, "cannot read CA file '%s': %s", ca, strerror(e));
	}
}

/* A variant's model file, where a local adapter opens it and no "synth" makes it. */
static void eb_preflight_model(struct eb_opt_errors *v, const struct eb_config *cfg,
			       const struct eb_cell *cell)
{
	size_t i = (size_t)(cell->model - cfg->models);
	size_t j = (size_t)(cell->variant - cell->model->variants);
	char path[256];
	int e;

	/* a server (base_url) has its weights where it runs */
	if (!cell->variant->file || cell->variant->synth ||
	    eb_opt_find(cell->target->ops->options, "base_url"))
		return;
	e = eb_readable(cell->variant->file);
	if (!e)
		return;
	snprintf(path, sizeof(path), "models[%zu].variants[%zu].file", i, j);
	eb_opt_errorf(v, path, 0, "cannot read model '%s': %s (no \"synth\" to make it)",
		      cell->variant->file, strerror(e));
}

/* An accuracy task's dataset: its "file", else the catalog dataset, fetched. */
static void eb_preflight_dataset(struct eb_opt_errors *v, const struct eb_config *cfg,
				 const struct eb_cell *cell)
{
	const struct eb_cfg_acc_task *t = cell->acc;
	size_t k = (size_t)(t - cfg->accuracy.tasks);
	const struct eb_acc_protocol *p = eb_acc_protocol_find(t->protocol);
	const struct eb_dataset *d;
	char path[256], dir[4096], file[4352];
	struct eb_err e;
	int rc;

	/* a cell its adapter cannot score is skipped before it reads a dataset */
	if (!p || eb_acc_protocol_supported(p, cell->target->ops, &e) != 0)
		return;
	if (t->file) {
		rc = eb_readable(t->file);
		snprintf(path, sizeof(path), "workloads.accuracy.tasks[%zu].file", k);
		if (rc)
			eb_opt_errorf(v, path, 0, "task '%s': cannot read dataset '%s': %s", t->task,
				      t->file, strerror(rc));
		return;
	}
	d = p->dataset ? eb_dataset_find(p->dataset) : NULL;
	if (!d)
		return; /* the config check says a task without one needs "file" */
	snprintf(path, sizeof(path), "workloads.accuracy.tasks[%zu].protocol", k);
	if (eb_datasets_dir(dir, sizeof(dir), &e) != 0) {
		eb_opt_errorf(v, path, 0, "task '%s': %s", t->task, e.msg);
		return;
	}
	snprintf(file, sizeof(file), "%s/%s", dir, d->file);
	if (eb_readable(file) != 0)
		eb_opt_errorf(v, path, 0, "task '%s': dataset '%s' is not fetched (no '%s'): run "
					  "`edgebench datasets fetch %s`, or set the task's \"file\"",
			      t->task, d->name, file, d->name);
}

int eb_preflight(const struct eb_config *cfg, const struct eb_plan *plan, char **errors,
		 struct eb_err *err)
{
	struct eb_opt_errors v;
	unsigned char *seen_t = eb_xcalloc(cfg->n_targets + 1, 1);
	unsigned char *seen_a = eb_xcalloc(cfg->accuracy.n_tasks + 1, 1);
	json_t *seen_v = json_object();
	int ret = 0;

	*errors = NULL;
	eb_opt_errors_init(&v, cfg->path);
	eb_jsonpos_scan(&v.pos, cfg->text, strlen(cfg->text));
	for (size_t c = 0; c < plan->n; c++) {
		const struct eb_cell *cell = &plan->cells[c];
		size_t ti = (size_t)(cell->target - cfg->targets);
		char vk[64];

		if (!seen_t[ti]) {
			seen_t[ti] = 1;
			eb_preflight_target(&v, cfg, cell->target);
		}
		/* a variant once per kind of adapter: remote ones need no file */
		snprintf(vk, sizeof(vk), "%p/%d", (const void *)cell->variant,
			 eb_opt_find(cell->target->ops->options, "base_url") != NULL);
		if (!json_object_get(seen_v, vk)) {
			json_object_set_new(seen_v, vk, json_true());
			eb_preflight_model(&v, cfg, cell);
		}
		if (cell->acc && !seen_a[cell->acc - cfg->accuracy.tasks]) {
			seen_a[cell->acc - cfg->accuracy.tasks] = 1;
			eb_preflight_dataset(&v, cfg, cell);
		}
	}
	if (v.n) {
		*err = v.first;
		*errors = eb_buf_detach(&v.lines, NULL);
		ret = EB_ECONFIG;
	}
	eb_opt_errors_release(&v);
	json_decref(seen_v);
	free(seen_t);
	free(seen_a);
	return ret;
}
