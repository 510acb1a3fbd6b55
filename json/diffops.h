/*
 * json/diffops.h — the ops sc_diff collects (json/diff.c), each with its
 * exact compact size, and their two forms: a json-c patch or its compact
 * JSON text.  Private to the diff.  Prefix sc_diffops.
 */
#ifndef SC_JSON_DIFFOPS_H
#define SC_JSON_DIFFOPS_H

#include <stddef.h>

#include <json-c/json.h>

#include "common/error.h"
#include "json/op.h"

/* The text of each op around its path (a JSON string) and value. */
#define SC_DIFFOPS_ADD_HEAD   "{\"op\":\"add\",\"path\":"
#define SC_DIFFOPS_REP_HEAD   "{\"op\":\"replace\",\"path\":"
#define SC_DIFFOPS_REM_HEAD   "{\"op\":\"remove\",\"path\":"
#define SC_DIFFOPS_VALUE_HEAD ",\"value\":"

/* Fixed bytes of each op, with the comma that separates it: exact, so
 * that the ops' size is their text's. */
#define SC_DIFFOPS_FIXED(s) (sizeof(s) - 1 + 1)
#define SC_DIFFOPS_ADD_SIZE                                                    \
	SC_DIFFOPS_FIXED(SC_DIFFOPS_ADD_HEAD SC_DIFFOPS_VALUE_HEAD "}")
#define SC_DIFFOPS_REP_SIZE                                                    \
	SC_DIFFOPS_FIXED(SC_DIFFOPS_REP_HEAD SC_DIFFOPS_VALUE_HEAD "}")
#define SC_DIFFOPS_REM_SIZE SC_DIFFOPS_FIXED(SC_DIFFOPS_REM_HEAD "}")

/* The most bytes of paths one list may hold (SC_ERR_TOO_BIG past). */
#define SC_DIFFOPS_MAX_PATHS (256u * 1024 * 1024)

/* An op: its path is the list's paths[path, path + len). */
struct sc_diffops_op {
	sc_op kind; /* SC_OP_ADD, SC_OP_REMOVE or SC_OP_REPLACE */
	size_t path, len;
	json_object *value; /* borrowed from the document diffed to */
};

/* The ops so far, in order.  The caller zeroes it, and frees it with
 * sc_diffops_free. */
struct sc_diffops {
	struct sc_diffops_op *ops;
	size_t n, cap;
	char *paths; /* NULL until a path is not "" */
	size_t npaths, paths_cap;
	size_t bytes; /* compact size of the ops, commas included */
};

/* Appends an op at the len bytes of path (its JSON Pointer text) costing
 * size bytes; value is borrowed (NULL for a remove).  SC_ERR_NOMEM, or
 * SC_ERR_TOO_BIG past SC_DIFFOPS_MAX_PATHS; the list is unchanged then. */
sc_err sc_diffops_add(struct sc_diffops *l, sc_op kind,
		      const char *path, size_t len, json_object *value,
		      size_t size);

/* Cuts the list back to its first n ops, which cost bytes. */
void sc_diffops_cut(struct sc_diffops *l, size_t n, size_t bytes);

/* Returns the path of op i (not NUL-terminated: l->ops[i].len bytes). */
const char *sc_diffops_path(const struct sc_diffops *l, size_t i);

/*
 * Makes *out, a new reference to the json-c patch of l's ops: their
 * values are new references to the values (borrowed no more), the op
 * names one string each, shared by the ops.  SC_ERR_NOMEM (*out
 * untouched).
 */
sc_err sc_diffops_build(const struct sc_diffops *l, json_object **out);

/*
 * Writes l's ops as the compact JSON text of an array: *text a new
 * NUL-terminated sc_malloc'ed buffer of exactly the size the ops were
 * reckoned at, *len its length.  Errors (nothing allocated then):
 * SC_ERR_TOO_BIG when that passes cap, SC_ERR_NOMEM, SC_ERR_INVALID
 * when the text comes out of another size than reckoned (a bug).
 */
sc_err sc_diffops_text(const struct sc_diffops *l, size_t cap, char **text,
		       size_t *len);

/* Frees l's memory and zeroes it.  NULL is fine. */
void sc_diffops_free(struct sc_diffops *l);

#endif
