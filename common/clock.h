/*
 * common/clock.h — the one place that reads the clocks.  Prefix
 * sc_clock_.
 */
#ifndef SC_COMMON_CLOCK_H
#define SC_COMMON_CLOCK_H

#include <stdint.h>

/* Monotonic time (CLOCK_MONOTONIC), for intervals and deadlines. */
int64_t sc_clock_mono_ms(void);
int64_t sc_clock_mono_us(void);
int64_t sc_clock_mono_ns(void);

/* Wall-clock time in ms since the Unix epoch (CLOCK_REALTIME), for
 * what is stored or shown. */
int64_t sc_clock_wall_ms(void);

#endif
