/*
 * fcgi/textcache.h — a process-wide cache of big shared texts: the
 * serialized state of a topic at a version, so that answers being
 * written to several slow readers of the same state share one copy
 * instead of one each.  Prefix sc_textcache_.  Thread-safe.
 */
#ifndef SC_FCGI_TEXTCACHE_H
#define SC_FCGI_TEXTCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "fcgi/sse.h"

typedef struct sc_textcache sc_textcache;

/*
 * A new cache of at most max_bytes of text (0: 64 MiB), or NULL when
 * out of memory.  Free with sc_textcache_free.
 */
sc_textcache *sc_textcache_new(size_t max_bytes);

/* Frees c and drops its references.  NULL is fine. */
void sc_textcache_free(sc_textcache *c);

/*
 * A frame holding text (len bytes), the state of topic at version: the
 * cached frame when it holds exactly these bytes, else a new frame,
 * which then takes the topic's slot when the cache has room.  Returns a
 * new reference (sc_sse_frame_unref), or NULL when out of memory.  c
 * NULL: always a new frame.
 */
sc_sse_frame *sc_textcache_get(sc_textcache *c, const char *topic,
			       int64_t version, const char *text, size_t len);

#endif
