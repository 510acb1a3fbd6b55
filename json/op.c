/*
 * json/op.c — RFC 6902 operation names (see op.h).
 */
#include "json/op.h"

#include <string.h>

static const char *const names[SC_OP_COUNT] = {"add",  "remove", "replace",
					       "move", "copy",	 "test"};

const char *sc_op_name(sc_op op)
{
	return (unsigned)op < SC_OP_COUNT ? names[op] : "?";
}

sc_err sc_op_parse(const char *name, size_t len, sc_op *out)
{
	size_t k;

	for (k = 0; k < SC_OP_COUNT; k++) {
		if (strlen(names[k]) == len &&
		    memcmp(names[k], name, len) == 0) {
			*out = (sc_op)k;
			return SC_OK;
		}
	}
	return SC_ERR_PATCH;
}
