/*
 * fuzz/fuzz_diff.c — libFuzzer driver for sc_diff (json/diff.h).  The
 * input is two JSON documents separated by a newline (the first newline
 * splits them).  When both parse, the patch from the first to the second
 * must apply to the first and give a document equal to the second, the
 * diff of a document with itself must be empty, and the patch must not
 * be larger than replacing the whole document.  The patch may share
 * values with the second document, but holds its own references to them:
 * both documents are freed before the patch is serialized, so ASan sees
 * any object the patch would hold without a reference.  Any mismatch
 * aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/diff.h"
#include "json/patch.h"
#include "json/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *nl = memchr(in, '\n', size);
	json_object *a = NULL, *b = NULL, *a2 = NULL, *b2 = NULL;
	json_object *patch = NULL, *self = NULL;
	char *text = NULL;
	size_t len;
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
	json_object_put(a2);
	json_object_put(b2);
	a2 = b2 = NULL;
	if (rc != SC_OK)
		abort(); /* parsed documents are never too deep */
	text = strdup(sc_json_text(patch, &len));
	if (text == NULL)
		abort();
	/* Never larger than one replace of the whole document. */
	if (len > strlen(sc_json_text(b, NULL)) + 37)
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
out:
	free(text);
	json_object_put(self);
	json_object_put(patch);
	json_object_put(a2);
	json_object_put(b2);
	json_object_put(b);
	json_object_put(a);
	return 0;
}
