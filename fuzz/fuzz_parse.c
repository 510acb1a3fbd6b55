/*
 * fuzz/fuzz_parse.c — libFuzzer driver for sc_json_parse (json/value.h):
 * any bytes either fail cleanly or give a value whose text parses back
 * to an equal value with an equal hash, whose copy is equal, and whose
 * depth is within SC_JSON_MAX_DEPTH.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *o = NULL, *back = NULL, *copy = NULL;
	const char *text;
	size_t len;
	sc_error err;
	sc_err rc;

	rc = sc_json_parse((const char *)data, size, &o, &err);
	if (rc != SC_OK) {
		if (err.code != rc || err.message[0] == '\0')
			abort();
		return 0;
	}
	if (sc_json_depth(o) > SC_JSON_MAX_DEPTH)
		abort();
	text = sc_json_text(o, &len);
	if (text == NULL || strlen(text) != len)
		abort();
	if (sc_json_parse(text, len, &back, &err) != SC_OK)
		abort();
	if (!sc_json_equal(o, back) || sc_json_hash(o) != sc_json_hash(back))
		abort();
	if (sc_json_copy(o, &copy) != SC_OK || !sc_json_equal(o, copy) ||
	    sc_json_hash(copy) != sc_json_hash(o) || (o != NULL && copy == o))
		abort();
	json_object_put(copy);
	json_object_put(back);
	json_object_put(o);
	return 0;
}
