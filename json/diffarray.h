/*
 * json/diffarray.h — the search behind sc_diff's array diffs: which
 * elements of one array stay, in order, in the other.  Prefix
 * sc_diffarray.
 */
#ifndef SC_JSON_DIFFARRAY_H
#define SC_JSON_DIFFARRAY_H

#include <stddef.h>

#include <json-c/json.h>

#include "common/error.h"

/* A run of matched elements: a[lo + x .. lo + x + len) match
 * b[lo + y .. lo + y + len). */
struct sc_diffarray_run {
	size_t x, y, len;
};

/* Whether a equals b, which lie at depth of their documents: 1 when
 * equal, anything else when not (or when that is not known). */
typedef int (*sc_diffarray_eq)(json_object *a, json_object *b, size_t depth);

/*
 * Searches the shortest edit script (elements removed from a plus
 * elements inserted from b) that turns the n elements a[lo..lo + n) into
 * the m elements b[lo..lo + m) of the arrays a and b (borrowed, left as
 * they were; their elements lie at depth; n and m > 0).  Arrays whose
 * elements mostly match by position get a short search comparing
 * elements with eq; others a long one comparing structural hashes
 * (consistent with sc_json_equal), skipped where it certainly fails.
 * Recursion is bounded: no input overflows the stack.
 * On success returns SC_OK with *runs (sc_malloc'ed, for the caller to
 * sc_free; *count entries, in order, each after one edit but the first,
 * indexes relative to lo) the matched runs, or *runs NULL when the
 * script needs more edits than the search allows (the caller then pairs
 * elements by position).  *by_hash is 1 when elements were matched by
 * hash (so a matched pair may still differ), 0 when by eq (equal).
 * Error: SC_ERR_NOMEM (*runs NULL).
 */
sc_err sc_diffarray_search(json_object *a, json_object *b, size_t lo, size_t n,
			   size_t m, size_t depth, sc_diffarray_eq eq,
			   struct sc_diffarray_run **runs, size_t *count,
			   int *by_hash);

#endif
