/*
 * clock.h: the monotonic clock (CLOCK_MONOTONIC), the one time base of
 * deadlines, timeouts and durations in both programs. Its zero is arbitrary:
 * compare its values with each other, never with the wall clock.
 */
#ifndef CACHEGATE_COMMON_CLOCK_H
#define CACHEGATE_COMMON_CLOCK_H

#include <stdint.h>

/* A deadline that never comes. */
#define CLOCK_NEVER INT64_MAX

/* Now, in milliseconds. */
int64_t clock_ms(void);

/* Now, in microseconds. */
int64_t clock_us(void);

/*
 * A poll timeout in milliseconds for waking at deadline_us (microseconds,
 * as clock_us) when it is now_us: the time left rounded up, so a wake is
 * never early; never negative, never more than cap_ms.
 */
int clock_poll_ms(int64_t now_us, int64_t deadline_us, int cap_ms);

#endif
