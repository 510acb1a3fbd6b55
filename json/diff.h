/*
 * json/diff.h — computes a small RFC 6902 JSON Patch from one json-c
 * document to another.  Prefix sc_diff.
 */
#ifndef SC_JSON_DIFF_H
#define SC_JSON_DIFF_H

#include <json-c/json.h>

#include "common/error.h"

/*
 * Computes a patch that turns from into to (both borrowed; NULL is JSON
 * null).  sc_patch_apply(from, sc_diff(from, to)) always equals to.  The
 * patch is small: an insertion or removal in an array is one op, equal
 * numbers (1, 1.0) are no change, and where element ops would be longer
 * than replacing a container, the container is replaced.  Values in the
 * patch are copies: it shares no object with from or to.  On success
 * *out is a new reference to a JSON array (empty when from equals to).
 * Errors: SC_ERR_NOMEM, SC_ERR_TOO_DEEP.
 */
sc_err sc_diff(json_object *from, json_object *to, json_object **out,
	       sc_error *err);

#endif
