/* eb_clock.h: the one monotonic clock every timestamp in edgebench is taken from. */
#ifndef EB_CLOCK_H
#define EB_CLOCK_H

#include <stdint.h>

/* Nanoseconds on CLOCK_MONOTONIC; never fails on Linux. */
uint64_t eb_clock_ns(void);

/* Nanoseconds since the Unix epoch (CLOCK_REALTIME), for wall-clock stamps only. */
uint64_t eb_clock_wall_ns(void);

/* Sleeps `ns` nanoseconds, resuming after signals; returns early only if *stop != 0. */
void eb_clock_sleep_ns(uint64_t ns, volatile int *stop);

#endif
