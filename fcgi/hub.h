/*
 * fcgi/hub.h — the event-driven stream hub: one thread (epoll) holds
 * every open Server-Sent Events stream of the process, writes FastCGI
 * FCGI_STDOUT records on their connections without blocking, frames
 * each logged change once and shares the frame among the subscribers of
 * its topic.  Prefix sc_hub_.
 *
 * A worker thread validates and authorizes a stream request, writes the
 * response headers, then hands the connection over (sc_hub_add).  The
 * hub sends the first frames (state, or the patches after the client's
 * cursor) from its own store connection, then every later change;
 * a wake thread blocks in sc_store_wait and pokes the hub through an
 * eventfd when any process commits.  Each subscriber's output queue is
 * bounded: one that falls behind is cut off and resumes with its
 * Last-Event-ID, losing nothing.
 *
 * The hub also watches idle keep-alive FastCGI connections (the web
 * server set FCGI_KEEP_CONN) so that they hold no worker thread: when
 * one becomes readable it goes back to the workers (ready callback).
 *
 * And it finishes answers that a thread could not write at once
 * (sc_hub_respond): a big GET /state to a client that reads slowly, or
 * not at all, costs the shared text and a little bookkeeping, never a
 * worker thread.
 */
#ifndef SC_FCGI_HUB_H
#define SC_FCGI_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "fcgi/sse.h"
#include "fcgi/metrics.h"
#include "store/store.h"

typedef struct sc_hub sc_hub;
typedef struct sc_hub_stream sc_hub_stream;

typedef struct sc_hub_options {
	int heartbeat_ms;   /* ": heartbeat" comment period; <= 0: 15000 */
	int max_life_s;	    /* end a stream after this long; 0: never */
	size_t queue_limit; /* bytes queued per subscriber before it is cut
			       off; 0: 1 MiB */
	int respond_ms;	    /* the deadline of a whole answer handed over
			       by sc_hub_respond; <= 0: 30000 */
	/* Called from the hub thread with an idle keep-alive connection
	 * that became readable: the callee owns fd from then on. */
	void (*ready)(void *arg, int fd);
	void *ready_arg;
	sc_metrics *metrics; /* counters it adds to (NULL: none) */
} sc_hub_options;

/*
 * Starts the hub and its wake thread on store (ownership taken, even on
 * error; the hub is its only user from now on).  *out is the new hub,
 * stopped and freed with sc_hub_stop.  Errors: SC_ERR_IO (epoll,
 * eventfd, thread), SC_ERR_NOMEM, store errors.
 */
sc_err sc_hub_start(const sc_hub_options *opt, sc_store *store, sc_hub **out,
		    sc_error *err);

/*
 * Stops the hub: ends every stream (when it can be written without
 * blocking: a "retry: 0" line, so that browsers reconnect at once with
 * their Last-Event-ID, then FCGI_END_REQUEST), closes their connections and the idle ones,
 * joins the threads, closes the store and frees h.  NULL is fine.
 */
void sc_hub_stop(sc_hub *h);

/*
 * A new stream for the connection fd (FastCGI request id, whether the
 * server asked to keep the connection), resuming after cursor (NULL or
 * "": no cursor; an unusable one gives full state).  The response
 * headers must already be written.  NULL when out of memory (fd is
 * untouched).
 */
sc_hub_stream *sc_hub_stream_new(int fd, uint16_t id, int keep_conn,
				 const char *cursor);

/* The most topics one stream may follow (the caller checks; a stream
 * with more is cut off when the hub registers it). */
#define SC_HUB_TOPICS_MAX 64

/* Adds a topic (checked by the caller) to s; duplicates are ignored.
 * init (init_len bytes of JSON, copied; may be NULL) is the state sent
 * at version 0 when the topic is not stored when the stream starts (a
 * topic never written is not stored: the app's init_state).  SC_OK or
 * SC_ERR_NOMEM. */
sc_err sc_hub_stream_topic(sc_hub_stream *s, const char *topic,
			   const char *init, size_t init_len);

/*
 * Feeds bytes the server sent after the request (normally none) through
 * s's record parser.  Returns 1 when they contain FCGI_ABORT_REQUEST
 * (the stream should not start), else 0.
 */
int sc_hub_stream_feed(sc_hub_stream *s, const unsigned char *data, size_t n);

/* Frees a stream that was not handed to a hub (does not close its fd).
 * NULL is fine. */
void sc_hub_stream_free(sc_hub_stream *s);

/* Hands s (and its connection) to the hub, which owns both from now
 * on.  Thread-safe. */
void sc_hub_add(sc_hub *h, sc_hub_stream *s);

/* Hands an idle keep-alive connection to the hub (see above).
 * Thread-safe. */
void sc_hub_add_idle(sc_hub *h, int fd);

/*
 * Writes a finished answer on the FastCGI connection fd without ever
 * blocking the calling thread: the text of frames[0..n-1] in order (the
 * HTTP head and body; shared, reference-counted texts: each gets a new
 * reference, the caller keeps its own) as FCGI_STDOUT records of
 * request id, then the end of the request (empty FCGI_STDOUT +
 * FCGI_END_REQUEST).  What the socket takes at once is written here;
 * the rest is written by the hub thread as the peer reads, within a
 * deadline over the whole answer (respond_ms): a peer that has not
 * taken all of it by then is cut off.  Once complete, a keep_conn
 * connection is watched as an idle keep-alive one (as sc_hub_add_idle)
 * and comes back through the ready callback; else it is closed.
 *
 * Returns 0 when the whole answer was written now (the caller still
 * owns fd, in the blocking mode it had, and goes on as after any
 * answer); 1 when the hub took fd (the caller must forget it); -1 when
 * writing failed or memory ran out (the caller closes fd).  h NULL (no
 * hub) writes the rest blocking.  Thread-safe.  The caller must not
 * have read bytes past the request from fd (they would be lost).
 */
int sc_hub_respond(sc_hub *h, int fd, uint16_t id, int keep_conn,
		   sc_sse_frame *const *frames, size_t n);

/* Number of open streams (approximate while they change). */
size_t sc_hub_count(sc_hub *h);

#endif
