/*
 * The monotonic clock.
 */
#include <time.h>

#include "clock.h"

/* Monotonic milliseconds. */
uint64_t
clock_ms(void)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000);
}

/* Monotonic microseconds. */
uint64_t
clock_us(void)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000);
}

/* Monotonic seconds, with a fraction. */
double
clock_s(void)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((double)now.tv_sec + (double)now.tv_nsec / 1e9);
}

/* A duration in milliseconds (negative: none) as a timeval for a timer. */
void
clock_tv(int64_t ms, struct timeval *tv)
{
	if (ms < 0)
		ms = 0;
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)((ms % 1000) * 1000);
}
