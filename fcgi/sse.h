/*
 * fcgi/sse.h — Server-Sent Events framing, the shared reference-counted
 * frames the hub queues for its subscribers, bounded text buffers, and
 * the JSON envelopes of answers and frames (built with json-c; stored
 * JSON texts are embedded as they are, never parsed again).
 * Prefix sc_sse_.
 */
#ifndef SC_FCGI_SSE_H
#define SC_FCGI_SSE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"


/*
 * Appends one SSE event to b: "event: NAME\n" (when event is not NULL),
 * "id: ID\n" (when id is not NULL), one "data: " line per line of data
 * (so a newline in data can never end the frame), and the blank line
 * that ends the event when terminate is 1 (0 leaves it open, so the
 * caller can add more fields: sc_buf_add(b, "id: ...\n\n")).
 * Returns SC_OK, SC_ERR_TOO_BIG or SC_ERR_NOMEM.
 */
sc_err sc_sse_format(sc_buf *b, const char *event, const char *id,
		     const char *data, size_t data_len, int terminate);

/*
 * The JSON text {"topic":topic,"version":version[,"cursor":cursor],
 * key:raw} where raw (raw_len bytes) is already JSON and is copied as it
 * is.  cursor may be NULL (left out).  On success *out is a new string
 * (sc_free) of *out_len bytes.  SC_ERR_NOMEM.
 */
sc_err sc_sse_envelope(const char *topic, int64_t version, const char *cursor,
		       const char *key, const char *raw, size_t raw_len,
		       char **out, size_t *out_len);

/*
 * The JSON text {"error":{"code":code,"message":message}}, new string
 * (sc_free) or NULL when out of memory.
 */
char *sc_sse_error_json(const char *code, const char *message, size_t *out_len);

/* An immutable frame shared by the subscribers it is queued for (and
 * by the answers of several threads: the count is atomic). */
typedef struct sc_sse_frame {
	atomic_uint refs;
	size_t len;
	char text[];
} sc_sse_frame;

/* A new frame holding a copy of text (refs 1), or NULL. */
sc_sse_frame *sc_sse_frame_new(const char *text, size_t len);

/* A new frame holding a copy of a then b (b may be NULL when blen is
 * 0), refs 1, or NULL. */
sc_sse_frame *sc_sse_frame_cat(const char *a, size_t alen, const char *b,
			       size_t blen);

/* Drops one reference; frees f at zero.  NULL is fine. */
void sc_sse_frame_unref(sc_sse_frame *f);

#endif
