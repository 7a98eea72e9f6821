/*
 * clock.c: the monotonic clock (clock.h).
 */
#include "common/clock.h"

#include <time.h>

int64_t clock_ms(void)
{
	return clock_us() / 1000;
}

int64_t clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int clock_poll_ms(int64_t now_us, int64_t deadline_us, int cap_ms)
{
	int64_t left = (deadline_us - now_us) / 1000 + 1;

	if (left < 0)
		return 0;
	return left < cap_ms ? (int)left : cap_ms;
}
