/*
 * json/diffsize.h — sc_diff's compact serialization of json-c values
 * (byte for byte as JSON_C_TO_STRING_PLAIN | NOSLASHESCAPE prints them):
 * their size counted, or their text written, and what replacing a
 * container being diffed would cost, measured lazily and each part once.
 * Prefix sc_diffsize.
 */
#ifndef SC_JSON_DIFFSIZE_H
#define SC_JSON_DIFFSIZE_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"

/* The container measured whole last, so that it is not walked again: o
 * (NULL at first) had compact size size when at depth. */
struct sc_diffsize_known {
	json_object *o;
	size_t size;
	size_t depth;
};

/* One container of to being diffed, and what replacing it whole would
 * cost: to's compact size, measured lazily and in steps (element by
 * element, resuming where the last step stopped).  The caller sets to and
 * depth (the rest zeroed); size and exact say what is known. */
struct sc_diffsize_scope {
	json_object *to;	/* borrowed */
	size_t depth;		/* of to in the document, the root being 1 */
	size_t size;		/* to's compact size is at least this */
	int exact;		/* ... and exactly this */
	int started;		/* measuring began: */
	size_t measured;	/* the size of to's elements before next */
	size_t next;		/* the next element (array) to measure */
	struct lh_entry *entry; /* the next member (object) to measure */
	size_t elb;    /* to's elements seen (each once) are at least this */
	size_t *sizes; /* of a long array's elements, 0 until measured; the
			  caller sc_frees it */
	int may_keep_sizes; /* ... made on the first one worth keeping */
};

/* Returns the size of s (n bytes) as a JSON string, quotes included, as
 * json-c escapes it. */
size_t sc_diffsize_string(const char *s, size_t n);

/* Returns the size of i printed in decimal. */
size_t sc_diffsize_int(int64_t i);

/*
 * Adds the compact serialized size of o (borrowed; NULL is null), which
 * lies at depth of its document, to *size, stopping early once *size
 * passes cap; when o is known->o (at known->depth or deeper), adds
 * known->size without walking o.  Returns SC_OK, or SC_ERR_TOO_DEEP when
 * o nests past SC_JSON_MAX_DEPTH (within what it measured).
 */
sc_err sc_diffsize_value(const struct sc_diffsize_known *known, json_object *o,
			 size_t depth, size_t cap, size_t *size);

/*
 * Measures more of s->to (an array or object), until its size is known
 * (s->exact set, and known then names s->to) or s->size passes cap.
 * Returns SC_OK, or SC_ERR_TOO_DEEP as sc_diffsize_value().
 */
sc_err sc_diffsize_scope_measure(struct sc_diffsize_known *known,
				 struct sc_diffsize_scope *s, size_t cap);

/* Counts bound, at most the compact size of elements of the array s->to
 * not counted before, into what s->size is known to be at least. */
void sc_diffsize_scope_bound(struct sc_diffsize_scope *s, size_t bound);

/* Allocates s->sizes (one per element of the array s->to) where
 * s->may_keep_sizes.  Returns s->sizes, or NULL (sizes are then measured
 * again when needed: no error). */
size_t *sc_diffsize_scope_sizes(struct sc_diffsize_scope *s);

/*
 * Sets *size to the compact size of element i of the array s->to,
 * measured once where s->sizes may be kept.  Returns SC_OK, or
 * SC_ERR_TOO_DEEP as sc_diffsize_value().
 */
sc_err sc_diffsize_elem(const struct sc_diffsize_known *known,
			struct sc_diffsize_scope *s, size_t i, size_t *size);

/* Where compact text is written: [p, end) is the room left.  The caller
 * owns the memory. */
struct sc_diffsize_out {
	char *p;
	char *end;
};

/* Copies the n bytes of s to out->p.  Returns SC_OK, or SC_ERR_TOO_BIG
 * (nothing written) when out has no room for them. */
sc_err sc_diffsize_put(struct sc_diffsize_out *out, const char *s, size_t n);

/* Writes the n bytes of s as a JSON string (quotes included, escaped as
 * json-c escapes it): exactly sc_diffsize_string(s, n) bytes.  Returns
 * SC_OK, or SC_ERR_TOO_BIG when out has no room for them (out->p is then
 * somewhere between where it was and out->end). */
sc_err sc_diffsize_write_string(struct sc_diffsize_out *out, const char *s,
				size_t n);

/*
 * Writes the compact text of o (borrowed; NULL is null), which lies at
 * depth of its document: exactly the bytes sc_diffsize_value() counts, in
 * json-c's member order.  Returns SC_OK, SC_ERR_TOO_DEEP as
 * sc_diffsize_value(), or SC_ERR_TOO_BIG when out has no room for it
 * (out->p is then somewhere between where it was and out->end).
 * Recursion is bounded by SC_JSON_MAX_DEPTH.
 */
sc_err sc_diffsize_write(struct sc_diffsize_out *out, json_object *o,
			 size_t depth);

#endif
