/*
 * tests/fcgi/test_metrics.c — the counters, the latency histogram and
 * their Prometheus text; counting from several threads at once; the
 * monitoring routes (metrics.h).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "fcgi/metrics.h"

/* The value of the line "name value" in text, or -1. */
static double value(const char *text, const char *name)
{
	char pat[256];
	const char *p;
	double v;

	snprintf(pat, sizeof(pat), "\n%s ", name);
	p = strstr(text, pat);
	if (p == NULL || sscanf(p + strlen(pat), "%lf", &v) != 1)
		return -1;
	return v;
}

static void test_render(void **state)
{
	sc_metrics *m = sc_metrics_new();
	size_t len = 0;
	char *text;

	(void)state;
	assert_non_null(m);
	sc_metrics_add(m, SC_METRIC_BYTES_SENT, 1000);
	sc_metrics_add(m, SC_METRIC_BYTES_SENT, 24);
	sc_metrics_add(m, SC_METRIC_SLOW_CUTOFF, 1);
	sc_metrics_event(m, 0, 300000);	     /* 0.3 ms: first bucket */
	sc_metrics_event(m, 0, 7000000);     /* 7 ms */
	sc_metrics_event(m, 1, 2000000);     /* 2 ms, rejected */
	sc_metrics_event(m, -1, 9000000000); /* 9 s: only +Inf */
	text = sc_metrics_render(m, 5, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	assert_true(value(text, "statechannel_open_streams") == 5);
	assert_true(value(text, "statechannel_stream_bytes_sent_total") ==
		    1024);
	assert_true(
	    value(text, "statechannel_slow_subscribers_cut_off_total") == 1);
	assert_true(value(text, "statechannel_events_committed_total") == 2);
	assert_true(value(text, "statechannel_events_rejected_total") == 1);
	assert_true(value(text, "statechannel_events_failed_total") == 1);
	assert_true(value(text, "statechannel_resumes_patches_total") == 0);
	/* Cumulative buckets; +Inf and _count are every commit. */
	assert_true(value(text, "statechannel_commit_duration_seconds_bucket{"
				"le=\"0.0005\"}") == 1);
	assert_true(value(text, "statechannel_commit_duration_seconds_bucket{"
				"le=\"0.0025\"}") == 2);
	assert_true(value(text, "statechannel_commit_duration_seconds_bucket{"
				"le=\"0.01\"}") == 3);
	assert_true(value(text, "statechannel_commit_duration_seconds_bucket{"
				"le=\"2.5\"}") == 3);
	assert_true(value(text, "statechannel_commit_duration_seconds_bucket{"
				"le=\"+Inf\"}") == 4);
	assert_true(value(text, "statechannel_commit_duration_seconds_count") ==
		    4);
	assert_true(value(text, "statechannel_commit_duration_seconds_sum") >
		    9.0);
	assert_non_null(strstr(text, "# TYPE statechannel_commit_duration_"
				     "seconds histogram\n"));
	assert_non_null(strstr(
	    text, "# TYPE statechannel_events_committed_total counter\n"));
	assert_int_equal(text[len - 1], '\n');
	sc_free(text);
	sc_metrics_free(m);
	/* NULL: nothing, anywhere. */
	sc_metrics_add(NULL, SC_METRIC_BYTES_SENT, 1);
	sc_metrics_event(NULL, 0, 1);
	assert_null(sc_metrics_render(NULL, 0, &len));
	sc_metrics_free(NULL);
}

static void *adder(void *arg)
{
	int i;

	for (i = 0; i < 100000; i++) {
		sc_metrics_add(arg, SC_METRIC_FRAMES_SENT, 1);
		sc_metrics_commit_time(arg, i);
	}
	return NULL;
}

static void test_threads(void **state)
{
	sc_metrics *m = sc_metrics_new();
	pthread_t t[4];
	size_t len, i;
	char *text;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, adder, m), 0);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	text = sc_metrics_render(m, 0, &len);
	assert_true(value(text, "statechannel_stream_frames_sent_total") ==
		    400000);
	assert_true(value(text, "statechannel_commit_duration_seconds_count") ==
		    400000);
	sc_free(text);
	sc_metrics_free(m);
}

static void test_routes(void **state)
{
	static const struct {
		const char *path;
		sc_metrics_route want;
	} cases[] = {
	    {"/health", SC_METRICS_HEALTH},
	    {"/app/health?x=1", SC_METRICS_HEALTH},
	    {"/metrics", SC_METRICS_METRICS},
	    {"/sc/api/metrics#f", SC_METRICS_METRICS},
	    {"/healthz", SC_METRICS_NONE},
	    {"/health/", SC_METRICS_NONE},
	    {"/state/health", SC_METRICS_NONE},
	    {"/stream/metrics", SC_METRICS_NONE},
	    {"/events/health", SC_METRICS_NONE},
	    {"/app/xstate/health", SC_METRICS_HEALTH},
	    {"health", SC_METRICS_NONE},
	    {"", SC_METRICS_NONE},
	    {NULL, SC_METRICS_NONE},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (sc_metrics_route_of(cases[i].path) != cases[i].want)
			fail_msg("%s: want %d",
				 cases[i].path ? cases[i].path : "(null)",
				 cases[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_routes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
