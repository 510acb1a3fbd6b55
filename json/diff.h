/*
 * json/diff.h — computes a small RFC 6902 JSON Patch from one json-c
 * document to another.  Prefix sc_diff.
 */
#ifndef SC_JSON_DIFF_H
#define SC_JSON_DIFF_H

#include <stddef.h>

#include <json-c/json.h>

#include "common/error.h"

/*
 * Computes a patch that turns from into to (both borrowed, and left as
 * they were; NULL is JSON null).  sc_patch_apply(from, sc_diff(from, to))
 * always equals to.  The patch is small: an insertion or removal in an
 * array is one op, a changed field of an array element is an op on that
 * field, equal numbers (1, 1.0) are no change, and where element ops
 * would be longer than replacing a container, the container is replaced
 * (so the patch is never longer than one replace of the whole document;
 * sizes are counted exactly as json-c prints).  Ops apply in order: array
 * indexes count the ops before them; an append names "-".  Values in the
 * patch are shared with to, not copied (the patch holds its own
 * references, so to may be freed first): serialize or sc_json_copy the
 * patch before changing to.  The patch shares nothing with from (its ops
 * share their "op" strings, though).  On success *out is a new reference
 * to a JSON array (empty when from equals to).
 * A part of to that is the very object at the same place in from (a
 * subtree both documents share, as when to was made from from with
 * json_object_get on what did not change) is equal without a look
 * inside: sharing what did not change makes a diff cost what changed.
 * Errors (with err filled when not NULL, *out untouched): SC_ERR_TOO_DEEP
 * when to, or a part of from that has to be compared, nests deeper than
 * SC_JSON_MAX_DEPTH (a part of from that is only removed or replaced, or
 * shared with to, is not looked into); SC_ERR_TOO_BIG when the paths of
 * the patch pass 256 MiB; SC_ERR_NOMEM.  Recursion is bounded: no input
 * overflows the stack.
 */
sc_err sc_diff(json_object *from, json_object *to, json_object **out,
	       sc_error *err);

/*
 * The same patch as sc_diff() (the same ops, in the same order), as the
 * compact JSON text of the array, byte for byte what json-c prints for
 * sc_diff()'s patch with JSON_C_TO_STRING_PLAIN |
 * JSON_C_TO_STRING_NOSLASHESCAPE ("[]" when from equals to; ops as
 * {"op":...,"path":...,"value":...}, no spaces).  No json-c object is
 * made for the ops: this is the form to use when the patch is to be
 * stored or sent.
 *
 * from and to are borrowed and left as they were; nothing is written
 * into them (json/text.h prints their values without json-c, but for a
 * double only json-c can print, NaN or one carrying userdata of its own,
 * whose text json-c caches in it), so other threads may read them
 * meanwhile.
 * cap is the longest text the caller accepts, in bytes (the NUL not
 * counted); the text is measured before anything is written, so a patch
 * past cap costs no allocation of its size.
 *
 * On success: *text is a new NUL-terminated buffer (the caller sc_frees
 * it) that shares nothing with from or to, *len its length (*len <=
 * cap, *len >= 2), and *nops (when nops is not NULL) the number of ops,
 * all of which change the document (add, remove or replace; never
 * test).  On error *text, *len and *nops are untouched, nothing is
 * allocated, and err (when not NULL) says: SC_ERR_TOO_BIG when the text
 * would pass cap, or the paths pass 256 MiB; SC_ERR_TOO_DEEP and
 * SC_ERR_NOMEM as sc_diff(); SC_ERR_INVALID if the text came out of
 * another size than measured (a bug; never expected).
 *
 * A store that keeps the text of patches appends the ops with:
 *
 *	char *text = NULL;
 *	size_t len, n;
 *	rc = sc_diff_text(old, new, room_left, &text, &len, &n, err);
 *	if (rc == SC_OK && n > 0)
 *		append(text + 1, len - 2);   (the ops, without [ and ])
 *	sc_free(text);
 *
 * The text nests two levels deeper than the values in it (the array, an
 * op object): reading it back needs a parser allowing SC_JSON_MAX_DEPTH
 * + 2 when to may be as deep as SC_JSON_MAX_DEPTH.
 */
sc_err sc_diff_text(json_object *from, json_object *to, size_t cap,
		    char **text, size_t *len, size_t *nops, sc_error *err);

#endif
