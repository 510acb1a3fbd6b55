/*
 * common/buf.h — the one growable byte buffer, always capped (a size
 * limit is part of every buffer: request bodies, patches, frames,
 * pointers, files read).  Prefix sc_buf_.
 *
 * Two forms: sc_buf, a buffer of its own, and sc_buf_grow, the same
 * growth for a buffer whose pointer, length and capacity live in
 * another struct's fields.
 */
#ifndef SC_COMMON_BUF_H
#define SC_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* The cap of an sc_buf whose max is 0. */
#define SC_BUF_MAX ((size_t)1 << 30)

/* A growable text buffer.  Zero-initialize, then set max (0:
 * SC_BUF_MAX); p is NUL-terminated once anything was added. */
typedef struct sc_buf {
	char *p;
	size_t len, cap, max;
} sc_buf;

/*
 * Makes room in *p (*cap bytes allocated, len used) for n more bytes
 * and a NUL: *p and *cap grow (doubling from 64 bytes, never past
 * max + 1).  SC_ERR_TOO_BIG when len + n > max (nothing changes), or
 * SC_ERR_NOMEM (*p is still valid).
 */
sc_err sc_buf_grow(char **p, size_t *cap, size_t len, size_t n, size_t max);

/* Appends the n bytes at s and a NUL.  SC_ERR_TOO_BIG past b->max (b
 * unchanged), SC_ERR_NOMEM. */
sc_err sc_buf_add(sc_buf *b, const void *s, size_t n);

/* Frees b's memory and zeroes it (max too).  NULL is fine. */
void sc_buf_free(sc_buf *b);

/* The longest decimal int64_t, sign included, without a NUL. */
#define SC_BUF_I64_MAX 20

/* Writes v in decimal at p (at most SC_BUF_I64_MAX bytes, no NUL) and
 * returns the count: what snprintf's "%" PRId64 writes, in a tenth of
 * its time (answer heads and cursors, once a request). */
size_t sc_buf_i64(char *p, int64_t v);

#endif
