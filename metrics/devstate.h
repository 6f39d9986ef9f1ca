/* devstate.h: the device's performance state (CPU clocks, thermal zones, Jetson power mode, GPU clocks). */
#ifndef EB_DEVSTATE_H
#define EB_DEVSTATE_H

#include <jansson.h>

#include "eb_err.h"

/*
 * Reads, under `root` ("" or NULL = the real /):
 *   "cpu": {"online", "governor" (when every policy agrees, else "governors" per cpu),
 *           "cpus": [{cpu, governor, cur_khz, min_khz, max_khz, hw_max_khz}]}
 *   "thermal": [{zone, type, temp_c, trip_c}]   (zones reading -256 C or less are left out;
 *              trip_c: the lowest passive or hot trip point, where throttling starts, when
 *              the zone has one)
 *   "devfreq": [{device, governor, cur_hz, min_hz, max_hz}]   (Jetson GPU clocks live here)
 *   "jetson": {"model", "l4t", "nvpmodel": {id, name}, "jetson_clocks": "on"|"off"|"unknown",
 *              "jetson_clocks_basis"}   (only on a Jetson: nvpmodel, nv_tegra_release or a
 *              device-tree model naming one)
 * jetson_clocks cannot be queried without root (`jetson_clocks --show`), so it is inferred:
 * "on" when every CPU's and every devfreq device's minimum clock equals its maximum.
 * Facts that cannot be read are left out. Returns a new object the caller owns.
 */
json_t *eb_devstate_collect(const char *root);

/*
 * Temperature (°C) of a thermal zone named by its type ("cpu-thermal", "tj-thermal") or its
 * directory ("thermal_zone3"). EB_ENOENT when no zone matches, EB_EIO when unreadable.
 */
int eb_devstate_zone_temp(const char *root, const char *zone, double *celsius,
			  struct eb_err *err);

/*
 * Cool-down before a cell: polls the zone every 500 ms until it reads below `below_c`.
 * *waited_s (may be NULL) gets the time spent. Returns 0; EB_ETIMEOUT after timeout_s with
 * the last temperature in the message; EB_EINTR when *stop (may be NULL) becomes non-zero;
 * eb_devstate_zone_temp's errors.
 */
int eb_devstate_cooldown(const char *root, const char *zone, double below_c, double timeout_s,
			 volatile int *stop, double *waited_s, struct eb_err *err);

#endif
