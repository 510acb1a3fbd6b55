/*
 * fcgi/metrics.h — the process's counters for GET /metrics (Prometheus
 * text exposition format) and the GET /health and GET /metrics routes.
 * Prefix sc_metrics_.
 *
 * One sc_metrics per process, made at start-up and shared by the worker
 * threads and the hub: every counter is atomic, so any thread may call
 * sc_metrics_add or sc_metrics_commit_time at any moment.  Every
 * function accepts a NULL sc_metrics and then does nothing, so code
 * that runs without metrics (tests, tools) needs no branch.
 */
#ifndef SC_FCGI_METRICS_H
#define SC_FCGI_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct sc_metrics sc_metrics;

/* The counters (each only ever grows). */
typedef enum sc_metric {
	SC_METRIC_EVENTS_COMMITTED, /* POST /events answered 200 */
	SC_METRIC_EVENTS_REJECTED,  /* the app's sc_reject (422) */
	SC_METRIC_EVENTS_FAILED,    /* a handler or store error (4xx/5xx) */
	SC_METRIC_STREAMS_OPENED,   /* streams handed to the hub */
	SC_METRIC_BYTES_SENT,	    /* stream bytes written (FastCGI records) */
	SC_METRIC_FRAMES_SENT,	    /* SSE frames written, heartbeats too */
	SC_METRIC_SLOW_CUTOFF,	    /* subscribers cut off: queue full */
	SC_METRIC_RESUME_PATCHES,   /* resumes served with patches only */
	SC_METRIC_RESUME_STATE,	    /* resumes that needed the full state */
	SC_METRIC__COUNT
} sc_metric;

/* A new, zeroed set of counters, or NULL when out of memory. */
sc_metrics *sc_metrics_new(void);

/* Frees m.  NULL is fine. */
void sc_metrics_free(sc_metrics *m);

/* Adds n to counter which.  Thread-safe; NULL m does nothing. */
void sc_metrics_add(sc_metrics *m, sc_metric which, uint64_t n);

/* Records one commit (POST /events, whatever its outcome) that took
 * nanoseconds, in the latency histogram.  Thread-safe. */
void sc_metrics_commit_time(sc_metrics *m, int64_t nanoseconds);

/* One POST's outcome: outcome 0 committed, 1 rejected by the app, else
 * failed; and its commit time (sc_metrics_commit_time). */
void sc_metrics_event(sc_metrics *m, int outcome, int64_t nanoseconds);

/*
 * The Prometheus text of every counter, the histogram and the gauge
 * open_streams (the caller reads it from the hub).  Returns a new string
 * (sc_free) of *len bytes, or NULL when m is NULL or out of memory.
 */
char *sc_metrics_render(sc_metrics *m, size_t open_streams, size_t *len);

/* Which monitoring route a URL path is (query ignored). */
typedef enum sc_metrics_route {
	SC_METRICS_NONE = 0,
	SC_METRICS_HEALTH, /* .../health */
	SC_METRICS_METRICS /* .../metrics */
} sc_metrics_route;

/* The route of path (REQUEST_URI; NULL gives NONE): its last segment
 * "health" or "metrics", under any mount point, unless the segment
 * before is state, events or stream (then it is a topic). */
sc_metrics_route sc_metrics_route_of(const char *path);

#endif
