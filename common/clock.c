/*
 * common/clock.c — the clocks (see clock.h).
 */
#include "common/clock.h"

#include <time.h>

static int64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t read_us(clockid_t id)
{
	return read_ns(id) / 1000;
}

int64_t sc_clock_mono_ms(void)
{
	return read_us(CLOCK_MONOTONIC) / 1000;
}

int64_t sc_clock_mono_us(void)
{
	return read_us(CLOCK_MONOTONIC);
}

int64_t sc_clock_mono_ns(void)
{
	return read_ns(CLOCK_MONOTONIC);
}

int64_t sc_clock_wall_ms(void)
{
	return read_us(CLOCK_REALTIME) / 1000;
}

void sc_clock_mono_after(int64_t ns, struct timespec *ts)
{
	int64_t t = read_ns(CLOCK_MONOTONIC) + ns;

	ts->tv_sec = (time_t)(t / 1000000000);
	ts->tv_nsec = (long)(t % 1000000000);
}

void sc_clock_cond_init(pthread_cond_t *c)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
}
