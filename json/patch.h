/*
 * json/patch.h — RFC 6902 JSON Patch on json-c values: apply, all six
 * ops, atomic.  Prefix sc_patch_.  Pointers (RFC 6901) are in
 * json/pointer.h; the diff that makes patches is in json/diff.h.
 */
#ifndef SC_JSON_PATCH_H
#define SC_JSON_PATCH_H

#include <json-c/json.h>

#include "common/error.h"

/*
 * Applies patch (a JSON array of op objects; borrowed) to *doc.
 * *doc is in/out: on success it holds the patched document, which may
 * be a different object than before (an op on the root "" path); the
 * function releases the reference it replaced and *doc owns the new
 * one.  Values the patch adds are deep copies: the document never shares
 * an object with patch.  Atomic: on any error *doc is exactly as it was,
 * and err->index is the index of the failing op (-1 when the patch
 * itself is not an array).  Errors: SC_ERR_PATCH (malformed op, missing
 * path, bad target), SC_ERR_POINTER (malformed pointer), SC_ERR_TEST
 * (a test op did not match), SC_ERR_TOO_DEEP (the result would nest
 * deeper than SC_JSON_MAX_DEPTH), SC_ERR_NOMEM.
 */
sc_err sc_patch_apply(json_object **doc, json_object *patch, sc_error *err);

/*
 * sc_patch_apply, but the values that "add" and "replace" ops put into
 * the document are the patch's own objects (referenced, not copied):
 * for a patch made only to be applied, as one parsed from text, whose
 * copies would be thrown away.  The caller then drops the patch
 * (json_object_put) without reading or changing it again, and the patch
 * must be a tree, as parsed text is: one object at two places (in two
 * ops, or in the patch and the document) would be one value at two
 * places of the document.  "copy" ops still copy.  The same result and
 * errors as sc_patch_apply; atomic too: on error *doc is as it was (the
 * patch may then be used again).
 */
sc_err sc_patch_apply_take(json_object **doc, json_object *patch,
			   sc_error *err);

#endif
