/*
 * common/clock.h — the one place that reads the clocks.  Prefix
 * sc_clock_.
 */
#ifndef SC_COMMON_CLOCK_H
#define SC_COMMON_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Monotonic time (CLOCK_MONOTONIC), for intervals and deadlines. */
int64_t sc_clock_mono_ms(void);
int64_t sc_clock_mono_us(void);
int64_t sc_clock_mono_ns(void);

/* A condition variable whose timed waits run on CLOCK_MONOTONIC, and
 * the absolute time ns from now that pthread_cond_timedwait takes of
 * it. */
void sc_clock_cond_init(pthread_cond_t *c);
void sc_clock_mono_after(int64_t ns, struct timespec *ts);

/* Wall-clock time in ms since the Unix epoch (CLOCK_REALTIME), for
 * what is stored or shown. */
int64_t sc_clock_wall_ms(void);

/*
 * A wait that began at start (ms) and may last timeout_ms (< 0: no
 * end), now at now: 0 when it is over; else 1, with *slice cut to what
 * is left of it.
 */
static inline int sc_clock_slice(int64_t start, int64_t now,
				 int64_t timeout_ms, int64_t *slice)
{
	if (timeout_ms < 0)
		return 1;
	if (now - start >= timeout_ms)
		return 0;
	if (*slice > timeout_ms - (now - start))
		*slice = timeout_ms - (now - start);
	return 1;
}

#endif
