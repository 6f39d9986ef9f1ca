/* loadtab.h: the load layout: one row per concurrency or rate of each target, model and variant. */
#ifndef EB_LOADTAB_H
#define EB_LOADTAB_H

#include <stddef.h>

#include "rdata.h"
#include "table.h"

/*
 * Where a load cell's key puts it ("t/m/q/load/c4@mode#2"): *kind 'c' (concurrency,
 * *value the count) or 'r' (rate, requests/s; INFINITY for "rinf"). 0, or -1 for a key
 * that is not a load cell's.
 */
int eb_load_point(const char *key, char *kind, double *value);

/*
 * The load layout (docs/reports.md): the selection's load cells, grouped by run, device,
 * target, model, quant and mode, concurrency points ascending then rates ascending; per
 * row the point, the measured requests, status, output tok/s, req/s, p90 TTFT, p90 TPOT,
 * goodput, achieved concurrency and failed requests. Initializes `t`.
 */
void eb_layout_load(const struct eb_rdata *d, struct eb_table *t);

#endif
