/*
 * fcgi/metrics.c — counters and their Prometheus text (see metrics.h).
 */
#include "fcgi/metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "fcgi/sse.h"

/* Upper bounds of the commit latency buckets, in seconds (+Inf last). */
static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
				0.05,	0.1,   0.25,   0.5,   1,    2.5};
#define NBOUNDS (sizeof(bounds) / sizeof(bounds[0]))

struct sc_metrics {
	atomic_uint_fast64_t count[SC_METRIC__COUNT];
	atomic_uint_fast64_t bucket[NBOUNDS + 1]; /* not cumulative */
	atomic_uint_fast64_t sum_ns;
};

static const struct {
	const char *name, *help;
} names[SC_METRIC__COUNT] = {
    [SC_METRIC_EVENTS_COMMITTED] = {"statechannel_events_committed_total",
				    "Events committed (POST /events 200)."},
    [SC_METRIC_EVENTS_REJECTED] = {"statechannel_events_rejected_total",
				   "Events the application rejected (422)."},
    [SC_METRIC_EVENTS_FAILED] = {"statechannel_events_failed_total",
				 "Events that failed in the handler or the "
				 "store."},
    [SC_METRIC_STREAMS_OPENED] = {"statechannel_streams_opened_total",
				  "Streams started."},
    [SC_METRIC_BYTES_SENT] = {"statechannel_stream_bytes_sent_total",
			      "Bytes written on streams (FastCGI records)."},
    [SC_METRIC_FRAMES_SENT] = {"statechannel_stream_frames_sent_total",
			       "SSE frames written on streams, heartbeats "
			       "included."},
    [SC_METRIC_SLOW_CUTOFF] = {"statechannel_slow_subscribers_cut_off_total",
			       "Streams cut off because their output queue "
			       "was full."},
    [SC_METRIC_RESUME_PATCHES] = {"statechannel_resumes_patches_total",
				  "Resumed streams served with the missed "
				  "patches."},
    [SC_METRIC_RESUME_STATE] = {"statechannel_resumes_full_state_total",
				"Resumed streams that needed the full "
				"state."},
};

sc_metrics *sc_metrics_new(void)
{
	sc_metrics *m = sc_calloc(1, sizeof(*m));
	size_t i;

	if (m == NULL)
		return NULL;
	for (i = 0; i < SC_METRIC__COUNT; i++)
		atomic_init(&m->count[i], 0);
	for (i = 0; i <= NBOUNDS; i++)
		atomic_init(&m->bucket[i], 0);
	atomic_init(&m->sum_ns, 0);
	return m;
}

void sc_metrics_free(sc_metrics *m)
{
	sc_free(m);
}

void sc_metrics_add(sc_metrics *m, sc_metric which, uint64_t n)
{
	if (m != NULL && which < SC_METRIC__COUNT)
		atomic_fetch_add_explicit(&m->count[which], n,
					  memory_order_relaxed);
}

void sc_metrics_commit_time(sc_metrics *m, int64_t ns)
{
	size_t i;

	if (m == NULL)
		return;
	if (ns < 0)
		ns = 0;
	for (i = 0; i < NBOUNDS && (double)ns > bounds[i] * 1e9; i++)
		;
	atomic_fetch_add_explicit(&m->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->sum_ns, (uint64_t)ns,
				  memory_order_relaxed);
}

void sc_metrics_event(sc_metrics *m, int outcome, int64_t ns)
{
	sc_metrics_add(m,
		       outcome == 0   ? SC_METRIC_EVENTS_COMMITTED
		       : outcome == 1 ? SC_METRIC_EVENTS_REJECTED
				      : SC_METRIC_EVENTS_FAILED,
		       1);
	sc_metrics_commit_time(m, ns);
}

/* Appends one printf-formatted line to b. */
static sc_err line(sc_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static sc_err line(sc_buf *b, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(text))
		return SC_ERR_TOO_BIG;
	return sc_buf_add(b, text, (size_t)n);
}

char *sc_metrics_render(sc_metrics *m, size_t open_streams, size_t *len)
{
	static const char hist[] = "statechannel_commit_duration_seconds";
	sc_buf b = {0};
	uint64_t cum = 0, v;
	size_t i;
	sc_err rc;

	if (m == NULL)
		return NULL;
	rc = line(&b,
		  "# HELP statechannel_open_streams Streams open in this "
		  "process.\n# TYPE statechannel_open_streams gauge\n"
		  "statechannel_open_streams %zu\n",
		  open_streams);
	for (i = 0; rc == SC_OK && i < SC_METRIC__COUNT; i++) {
		v = atomic_load_explicit(&m->count[i], memory_order_relaxed);
		rc = line(&b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n",
			  names[i].name, names[i].help, names[i].name,
			  names[i].name, (unsigned long long)v);
	}
	if (rc == SC_OK)
		rc = line(&b,
			  "# HELP %s Time from the start of a POST's write "
			  "transaction to its end.\n# TYPE %s histogram\n",
			  hist, hist);
	for (i = 0; rc == SC_OK && i <= NBOUNDS; i++) {
		cum +=
		    atomic_load_explicit(&m->bucket[i], memory_order_relaxed);
		if (i < NBOUNDS)
			rc = line(&b, "%s_bucket{le=\"%g\"} %llu\n", hist,
				  bounds[i], (unsigned long long)cum);
		else
			rc = line(&b, "%s_bucket{le=\"+Inf\"} %llu\n", hist,
				  (unsigned long long)cum);
	}
	v = atomic_load_explicit(&m->sum_ns, memory_order_relaxed);
	if (rc == SC_OK)
		rc = line(&b, "%s_sum %.9f\n%s_count %llu\n", hist,
			  (double)v / 1e9, hist, (unsigned long long)cum);
	if (rc != SC_OK) {
		sc_buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

sc_metrics_route sc_metrics_route_of(const char *path)
{
	size_t n, i, j;

	if (path == NULL)
		return SC_METRICS_NONE;
	n = strcspn(path, "?#");
	for (i = n; i > 0 && path[i - 1] != '/'; i--)
		;
	if (i == 0)
		return SC_METRICS_NONE;
	/* /state/health is the topic "health", not this route. */
	for (j = i - 1; j > 0 && path[j - 1] != '/'; j--)
		;
	if ((i - 1 - j == 5 && memcmp(path + j, "state", 5) == 0) ||
	    (i - 1 - j == 6 && memcmp(path + j, "events", 6) == 0) ||
	    (i - 1 - j == 6 && memcmp(path + j, "stream", 6) == 0))
		return SC_METRICS_NONE;
	if (n - i == 6 && memcmp(path + i, "health", 6) == 0)
		return SC_METRICS_HEALTH;
	if (n - i == 7 && memcmp(path + i, "metrics", 7) == 0)
		return SC_METRICS_METRICS;
	return SC_METRICS_NONE;
}
