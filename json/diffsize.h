/*
 * json/diffsize.h — what replacing a container being diffed would cost
 * (its compact size, as json/text.h counts it), measured lazily and each
 * part once.  Prefix sc_diffsize.
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

#endif
