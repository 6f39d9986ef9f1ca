/* clock.c: CLOCK_MONOTONIC timestamps (see eb_clock.h). */
#define _POSIX_C_SOURCE 200809L
#include "eb_clock.h"

#include <errno.h>
#include <time.h>

uint64_t eb_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t eb_clock_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void eb_clock_sleep_ns(uint64_t ns, volatile int *stop)
{
	uint64_t end = eb_clock_ns() + ns;

	for (;;) {
		uint64_t now = eb_clock_ns();
		struct timespec ts;
		uint64_t left;

		if (now >= end || (stop && *stop))
			return;
		left = end - now;
		if (left > 50000000ull && stop)
			left = 50000000ull; /* wake up to look at *stop */
		ts.tv_sec = (time_t)(left / 1000000000ull);
		ts.tv_nsec = (long)(left % 1000000000ull);
		nanosleep(&ts, NULL);
	}
}
