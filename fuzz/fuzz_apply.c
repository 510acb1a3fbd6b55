/*
 * fuzz/fuzz_apply.c — libFuzzer driver for sc_patch_apply
 * (json/patch.h).  The input is a document, a newline, and a patch.
 * Apply either succeeds, leaving a document no deeper than
 * SC_JSON_MAX_DEPTH that shares nothing with the patch (the patch is
 * freed before the document is read, so ASan sees any sharing), or fails
 * leaving the document byte-for-byte as it was, with the error naming an
 * op index inside the patch.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/patch.h"
#include "json/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *nl = memchr(in, '\n', size);
	json_object *doc = NULL, *patch = NULL, *before;
	char *text = NULL;
	size_t doc_len;
	sc_error err;
	sc_err rc;

	if (nl == NULL)
		return 0;
	doc_len = (size_t)(nl - in);
	if (sc_json_parse(in, doc_len, &doc, NULL) != SC_OK)
		return 0;
	if (sc_json_parse(nl + 1, size - doc_len - 1, &patch, NULL) != SC_OK)
		goto out;
	text = strdup(sc_json_text(doc, NULL));
	if (text == NULL)
		abort();
	before = doc;
	rc = sc_patch_apply(&doc, patch, &err);
	if (rc != SC_OK) {
		if (doc != before || strcmp(sc_json_text(doc, NULL), text) != 0)
			abort();
		if (err.code != rc || err.index < -1 ||
		    (err.index >= 0 &&
		     (!json_object_is_type(patch, json_type_array) ||
		      (size_t)err.index >= json_object_array_length(patch))))
			abort();
		goto out;
	}
	json_object_put(patch);
	patch = NULL;
	if (sc_json_depth(doc) > SC_JSON_MAX_DEPTH)
		abort();
	(void)sc_json_text(doc, NULL);
out:
	free(text);
	json_object_put(patch);
	json_object_put(doc);
	return 0;
}
