/* modes.h: the device's power and performance modes (device.modes): read, set, verified, restored. */
#ifndef EB_MODES_H
#define EB_MODES_H

#include <stdint.h>

#include "config.h"
#include "store.h"
#include "eb_err.h"

/* The run fact (store.h) holding what the modes change as it was before the run. */
#define EB_MODES_FACT "modes_start"

/* The mode switcher of one run; opaque. */
struct eb_modes;

/*
 * Opens the switcher for `cfg` (which lists modes) and the run `run_id`. What the modes
 * change is read as it is now (nvpmodel's mode, the GPU power limits, cpufreq settings;
 * `jetson_clocks --store` saves the clocks) and kept with the run as the fact
 * EB_MODES_FACT, before any mode is set, unless the run holds one already: a resumed run
 * may find the device left in a mode by the process it resumes, and restores the state
 * read before that one set anything. Programs run from an argv (never a shell). Unless
 * `quiet`, each program is named on stderr as it runs. On failure nothing was set, *m is
 * NULL and err says what could not be read. The caller frees *m with eb_modes_free.
 */
int eb_modes_open(struct eb_modes **m, const struct eb_config *cfg, struct eb_store *s,
		  int64_t run_id, int quiet, struct eb_err *err);

/*
 * Makes `mode` the device's mode unless it is already: the parts the current mode set and
 * `mode` does not are restored to the starting state, then `mode`'s parts are set in order
 * (nvpmodel, jetson_clocks, power_limit_w, cpufreq, set) and each is read back; then
 * settle_s passes (cut short when *stop becomes non-zero: EB_EINTR). A program that
 * fails, or a read-back that does not match, is an error naming the mode, the program or
 * file and what it showed; the mode is then not current (a later call tries again).
 */
int eb_modes_enter(struct eb_modes *m, const struct eb_cfg_mode *mode, volatile int *stop,
		   struct eb_err *err);

/*
 * Brings back the starting state of everything the modes change (each `restore` program
 * of a mode with `set`, cpufreq settings, power limits, nvpmodel's mode, `jetson_clocks
 * --restore`), whatever the current mode; every part is tried. Returns 0, or the first
 * failure in err. No mode is current afterwards. NULL is a no-op.
 */
int eb_modes_restore(struct eb_modes *m, struct eb_err *err);

void eb_modes_free(struct eb_modes *m);

#endif
