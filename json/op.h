/*
 * json/op.h — the vocabulary of RFC 6902 operations, one for the JSON
 * code: the patch (json/patch.c) reads all six, the diff
 * (json/diffops.c) makes add, remove and replace.  Prefix sc_op_.
 */
#ifndef SC_JSON_OP_H
#define SC_JSON_OP_H

#include <stddef.h>

#include "common/error.h"

typedef enum sc_op {
	SC_OP_ADD,
	SC_OP_REMOVE,
	SC_OP_REPLACE,
	SC_OP_MOVE,
	SC_OP_COPY,
	SC_OP_TEST
} sc_op;

#define SC_OP_COUNT 6

/* The op's name as a patch spells it ("add", ...); a static string. */
const char *sc_op_name(sc_op op);

/* The op named by the len bytes at name: SC_OK with *out set, or
 * SC_ERR_PATCH when no op has that name. */
sc_err sc_op_parse(const char *name, size_t len, sc_op *out);

#endif
