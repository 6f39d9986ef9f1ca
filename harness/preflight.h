/* preflight.h: what a plan's cells need on this machine, checked before any cell runs. */
#ifndef EB_PREFLIGHT_H
#define EB_PREFLIGHT_H

#include "config.h"
#include "plan.h"

/*
 * Checks that what the plan's cells will open exists here: model files (unless "synth"
 * makes them), dataset files and fetched datasets of accuracy tasks, exec programs
 * (argv[0], on PATH unless it has a '/'), readable CA files (ca_file). Each missing one
 * is a line "file:line:column: key.path: message" in *errors (malloc'd, the caller frees;
 * NULL when none). Returns 0, or EB_ECONFIG with err the first problem.
 */
int eb_preflight(const struct eb_config *cfg, const struct eb_plan *plan, char **errors,
		 struct eb_err *err);

#endif
