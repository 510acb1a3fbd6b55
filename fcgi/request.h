/*
 * fcgi/request.h — one request on a worker thread: routing, the bounded
 * body, authorization, the store calls, the JSON answers and errors,
 * and the hand-off of streams to the hub (request.c, event.c, answer.c,
 * api.c: see reqint.h).  Prefix sc_request_.
 */
#ifndef SC_FCGI_REQUEST_H
#define SC_FCGI_REQUEST_H

#include <pthread.h>
#include <stddef.h>

#include "fcgi/cors.h"
#include "fcgi/fcgiwire.h"
#include "fcgi/hub.h"
#include "fcgi/metrics.h"
#include "fcgi/statechannel.h"
#include "fcgi/textcache.h"
#include "store/store.h"

/* What one worker thread serves requests with. */
typedef struct sc_request_env {
	const sc_app *app;
	sc_store *store;   /* this thread's own connection */
	sc_hub *hub;	   /* NULL: streams answer 503 */
	size_t body_limit; /* bytes of a POST body */
	/* Bytes a topic's state may have after an event (serialized);
	 * an event past it is refused (413 state_too_big).  0: no limit. */
	size_t state_limit;
	/* Open streams of the process past which a new one gets 503 with
	 * Retry-After (0: no cap). */
	size_t max_streams;
	sc_textcache *texts; /* shared big state texts; may be NULL */
	/* 1: the store's writer thread runs and the hub answers: a POST
	 * leaves this thread at once, its answer is written when its group
	 * commit is over (so writers waiting for the store never hold the
	 * threads that serve reads). */
	int async;
	const sc_cors *cors;  /* NULL or none configured: same-origin only */
	sc_metrics *metrics;  /* the process's counters (NULL: none) */
	int serve_health;     /* answer GET /health */
	int serve_metrics;    /* answer GET /metrics */
} sc_request_env;

/*
 * Answers request r read from connection c.  Returns 1 when the
 * connection was handed over (a stream, an answer the peer did not take
 * at once, or a POST waiting for its group commit: the caller must
 * forget it; r may then be emptied, its buffers moved away), 0 when the answer
 * was written (the caller goes on with the next
 * request when r->keep_conn, else closes), -1 when writing failed (the
 * caller closes).  Never changes the store on a bad request.
 */
int sc_request_handle(sc_request_env *env, sc_fcgi_conn *c,
		      sc_fcgi_request *r);

/* The HTTP status sent for an error code of the store or a handler. */
int sc_request_status(sc_err code);

#endif
