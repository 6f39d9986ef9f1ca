/* metric.h: the registry of every metric edgebench stores: name, unit, direction, samples, definition. */
#ifndef EB_METRIC_H
#define EB_METRIC_H

#include <stddef.h>

/* Which way a metric improves; compare judges a change only in a metric with a direction. */
enum eb_metric_dir {
	EB_DIR_LOWER = -1, /* lower is better (times, energy, memory, perplexity) */
	EB_DIR_NONE = 0,   /* not judged: a property of the setup, or a figure with no better side */
	EB_DIR_HIGHER = 1, /* higher is better (rates, utilisation, accuracy) */
};

enum {
	/* also stored per sensor and per rail: NAME:SENSOR and NAME:SENSOR/RAIL */
	EB_METRIC_PER_SOURCE = 1 << 0,
	/* a row of the accuracy table (value, stderr, n) rather than a summary in `metrics` */
	EB_METRIC_ACCURACY = 1 << 1,
	/* one value per cell (n = 1), not a summary over the measured requests */
	EB_METRIC_SINGLE = 1 << 2,
};

/*
 * One metric. Every string is static and never NULL except `label`, which is NULL where
 * reports show the metric under its name.
 */
struct eb_metric {
	const char *name;       /* as stored: "ttft_ms" */
	const char *unit;       /* as stored; "" for a dimensionless figure */
	enum eb_metric_dir dir;
	unsigned flags;         /* EB_METRIC_* */
	const char *group;      /* "latency", "memory", "power", "tool" or "accuracy" */
	const char *label;      /* column headers and axes: "TTFT" */
	const char *summary;    /* one line: "time to first token" */
	const char *samples;    /* the raw samples it comes from */
	const char *definition; /* how it is computed */
};

/* Every metric, grouped as docs/metrics.md lists them; ends with an entry whose name is NULL. */
extern const struct eb_metric eb_metrics[];

/* A group of metrics: its heading and what holds for all of its metrics (may be ""). */
struct eb_metric_group {
	const char *name, *title, *note;
};

/* Every group in the order eb_metrics lists them; ends with an entry whose name is NULL. */
extern const struct eb_metric_group eb_metric_groups[];

/*
 * The metric a stored name stands for, or NULL when the registry has none: the entry of
 * that name, or for "NAME:SENSOR" and "NAME:SENSOR/RAIL" the EB_METRIC_PER_SOURCE entry
 * NAME.
 */
const struct eb_metric *eb_metric_find(const char *name);

/* The direction of a stored name; EB_DIR_NONE for a name the registry does not know. */
enum eb_metric_dir eb_metric_dir_of(const char *name);

/* "higher", "lower" or "not judged". */
const char *eb_metric_dir_name(enum eb_metric_dir dir);

/* The label reports show for a stored name: the registry's label, else the name itself. */
const char *eb_metric_label_of(const char *name);

/* The registry's unit for a stored name, or NULL when the registry does not know it. */
const char *eb_metric_unit_of(const char *name);

#endif
