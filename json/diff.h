/*
 * json/diff.h — computes a small RFC 6902 JSON Patch from one json-c
 * document to another.  Prefix sc_diff.
 */
#ifndef SC_JSON_DIFF_H
#define SC_JSON_DIFF_H

#include <json-c/json.h>

#include "common/error.h"

/*
 * Computes a patch that turns from into to (both borrowed, and left as
 * they were; NULL is JSON null).  sc_patch_apply(from, sc_diff(from, to))
 * always equals to.  The patch is small: an insertion or removal in an
 * array is one op, a changed field of an array element is an op on that
 * field, equal numbers (1, 1.0) are no change, and where element ops
 * would be longer than replacing a container, the container is replaced
 * (so the patch is never longer than one replace of the whole document,
 * give or take the printing of doubles).  Ops apply in order: array
 * indexes count the ops before them; an append names "-".  Values in the
 * patch are shared with to, not copied (the patch holds its own
 * references, so to may be freed first): serialize or sc_json_copy the
 * patch before changing to.  The patch shares nothing with from (its ops
 * share their "op" strings, though).  On success *out is a new reference
 * to a JSON array (empty when from equals to).
 * Errors (with err filled when not NULL, *out untouched): SC_ERR_TOO_DEEP
 * when to, or a part of from that has to be compared, nests deeper than
 * SC_JSON_MAX_DEPTH (a part of from that is only removed or replaced is
 * not looked into); SC_ERR_TOO_BIG when the paths of the patch pass
 * 256 MiB; SC_ERR_NOMEM.  Recursion is bounded: no input overflows the
 * stack.
 */
sc_err sc_diff(json_object *from, json_object *to, json_object **out,
	       sc_error *err);

#endif
