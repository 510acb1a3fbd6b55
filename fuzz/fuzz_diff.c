/*
 * fuzz/fuzz_diff.c — libFuzzer driver for sc_diff and sc_diff_text
 * (json/diff.h).  The input is two JSON documents separated by a newline
 * (the first newline splits them).  When both parse, the patch from the
 * first to the second must apply to the first and give a document equal
 * to the second, the diff of a document with itself must be empty, and
 * the patch must not be larger than replacing the whole document.
 * sc_diff_text must write json-c's text of sc_diff's patch byte for byte
 * (which then is what is applied), and refuse a cap one byte short.  The patch may share
 * values with the second document, but holds its own references to them:
 * both documents are freed before the patch is serialized, so ASan sees
 * any object the patch would hold without a reference.  Any mismatch
 * aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "json/diff.h"
#include "json/patch.h"
#include "json/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* json-c's compact text of o (borrowed), what the checks compare. */
#define JTEXT(o, len)                                                          \
	json_object_to_json_string_length(                                     \
	    (o), JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, (len))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *nl = memchr(in, '\n', size);
	json_object *a = NULL, *b = NULL, *a2 = NULL, *b2 = NULL;
	json_object *patch = NULL, *self = NULL;
	char *text = NULL, *dtext = NULL, *none = NULL;
	size_t len, dlen = 0, nops = 0;
	struct json_tokener *tok = NULL;
	sc_err rc;

	if (nl == NULL)
		return 0;
	if (sc_json_parse(in, (size_t)(nl - in), &a, NULL) != SC_OK)
		return 0;
	if (sc_json_parse(nl + 1, size - (size_t)(nl - in) - 1, &b, NULL) !=
	    SC_OK)
		goto out;
	if (sc_json_copy(a, &a2) != SC_OK || sc_json_copy(b, &b2) != SC_OK)
		goto out;
	rc = sc_diff(a2, b2, &patch, NULL);
	if (rc != SC_OK)
		abort(); /* parsed documents are never too deep */
	if (sc_diff_text(a2, b2, SIZE_MAX, &dtext, &dlen, &nops, NULL) != SC_OK)
		abort();
	if (dlen > 2 && sc_diff_text(a2, b2, dlen - 1, &none, &len, NULL,
				     NULL) != SC_ERR_TOO_BIG)
		abort();
	json_object_put(a2);
	json_object_put(b2);
	a2 = b2 = NULL;
	text = strdup(JTEXT(patch, &len));
	if (text == NULL)
		abort();
	if (len != dlen || memcmp(text, dtext, len) != 0 || dtext[len] != '\0' ||
	    nops != json_object_array_length(patch))
		abort();
	/* Apply the text (a patch nests two levels deeper than its values). */
	json_object_put(patch);
	tok = json_tokener_new_ex(SC_JSON_MAX_DEPTH + 2);
	if (tok == NULL)
		goto out;
	patch = json_tokener_parse_ex(tok, dtext, (int)dlen);
	if (json_tokener_get_error(tok) != json_tokener_success)
		abort();
	/* Never larger than one replace of the whole document. */
	if (len > strlen(JTEXT(b, NULL)) + 37)
		abort();
	if (sc_json_copy(a, &a2) != SC_OK)
		goto out;
	if (sc_patch_apply(&a2, patch, NULL) != SC_OK || !sc_json_equal(a2, b))
		abort();
	if (json_object_array_length(patch) == 0 && !sc_json_equal(a, b))
		abort();
	if (sc_diff(a, a, &self, NULL) != SC_OK ||
	    json_object_array_length(self) != 0)
		abort();
	sc_free(dtext);
	dtext = NULL;
	if (sc_diff_text(a, a, 2, &dtext, &dlen, &nops, NULL) != SC_OK ||
	    dlen != 2 || strcmp(dtext, "[]") != 0 || nops != 0)
		abort();
out:
	if (tok != NULL)
		json_tokener_free(tok);
	sc_free(dtext);
	free(text);
	json_object_put(self);
	json_object_put(patch);
	json_object_put(a2);
	json_object_put(b2);
	json_object_put(b);
	json_object_put(a);
	return 0;
}
