/*
 * fcgi/outq.h — the output queue of one stream: shared SSE frames
 * waiting to be written on its FastCGI connection as FCGI_STDOUT
 * records (the 8-byte record headers are made per connection, the text
 * is never copied), then optionally the end of the response (empty
 * FCGI_STDOUT + FCGI_END_REQUEST).  Bounded: a push past the limit is
 * refused.  Prefix sc_outq_.  Used by the hub thread only.
 */
#ifndef SC_FCGI_OUTQ_H
#define SC_FCGI_OUTQ_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "fcgi/sse.h"

typedef struct sc_outq_node sc_outq_node;

/* Zero it and set reqid; free what it holds with sc_outq_clear. */
typedef struct sc_outq {
	sc_outq_node *head, *tail;
	size_t queued;	      /* SSE bytes waiting */
	size_t head_off;      /* bytes of the head node already on the wire */
	uint16_t reqid;	      /* the FastCGI request id of the records */
	uint64_t sent_bytes;  /* bytes written so far, record headers too */
	uint64_t sent_frames; /* frames written whole so far */
} sc_outq;

/*
 * Queues frame f (taking a new reference) or, when f is NULL, the end
 * of the response.  A frame is refused with SC_ERR_TOO_BIG when the
 * queue is not empty and its bytes would pass limit (a first frame of
 * any size is taken).  SC_ERR_NOMEM.  On error nothing is queued.
 */
sc_err sc_outq_push(sc_outq *q, sc_sse_frame *f, size_t limit);

/*
 * Writes what q holds on the socket fd, as much as it takes without
 * blocking (MSG_DONTWAIT: the socket's O_NONBLOCK does not matter; an
 * fd that is not a socket is written as its own flag says).  Returns 0 when q is now empty, 1 when fd would block with
 * bytes left (wait for EPOLLOUT), -1 when writing failed (the peer is
 * gone).
 */
int sc_outq_flush(sc_outq *q, int fd);

/* Whether q holds nothing. */
int sc_outq_empty(const sc_outq *q);

/* Whether the write of q's head has begun (a record is half written). */
int sc_outq_midway(const sc_outq *q);

/* Drops everything q holds (frame references too).  NULL is fine. */
void sc_outq_clear(sc_outq *q);

#endif
