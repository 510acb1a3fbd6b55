/*
 * fuzz/fuzz_parse.c — libFuzzer driver for sc_json_parse (json/value.h):
 * any bytes either fail cleanly or give a value whose text (written by
 * json/text.h byte for byte as json-c prints it, and counted exactly)
 * parses back to an equal value with an equal hash, whose copy is equal,
 * and whose depth is within SC_JSON_MAX_DEPTH.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/text.h"
#include "json/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *o = NULL, *back = NULL, *copy = NULL;
	sc_buf text = {0};
	const char *want;
	size_t len = 0, want_len = 0;
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
	/* our text is json-c's, byte for byte, and counted exactly */
	want = o != NULL ? json_object_to_json_string_length(
			       o,
			       JSON_C_TO_STRING_PLAIN |
				   JSON_C_TO_STRING_NOSLASHESCAPE,
			       &want_len)
			 : "null";
	if (o == NULL)
		want_len = 4;
	if (want == NULL || sc_text_write(&text, o) != SC_OK ||
	    text.len != want_len || memcmp(text.p, want, want_len) != 0 ||
	    sc_text_size(o, &len) != SC_OK || len != text.len)
		abort();
	if (sc_json_parse(text.p, text.len, &back, &err) != SC_OK)
		abort();
	if (!sc_json_equal(o, back) || sc_json_hash(o) != sc_json_hash(back))
		abort();
	if (sc_json_copy(o, &copy) != SC_OK || !sc_json_equal(o, copy) ||
	    sc_json_hash(copy) != sc_json_hash(o) || (o != NULL && copy == o))
		abort();
	sc_buf_free(&text);
	json_object_put(copy);
	json_object_put(back);
	json_object_put(o);
	return 0;
}
