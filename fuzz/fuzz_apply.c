/*
 * fuzz/fuzz_apply.c — libFuzzer driver for sc_patch_apply
 * (json/patch.h).  The input is a document, a newline, and a patch.
 * Apply either succeeds, leaving a document no deeper than
 * SC_JSON_MAX_DEPTH that shares nothing with the patch (the patch is
 * freed before the document is read, so ASan sees any sharing), or fails
 * leaving the document byte-for-byte as it was, with the error naming an
 * op index inside the patch.  sc_patch_apply_take on a second parse of
 * both must give the same outcome and result (the patch freed first
 * again), or on failure leave document and patch as they were.  The
 * result's text, from our serializer (json/text.h), is json-c's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/patch.h"
#include "json/text.h"
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
	json_object *doc = NULL, *patch = NULL, *before;
	json_object *doc2 = NULL, *patch2 = NULL;
	char *text = NULL, *ptext = NULL;
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
	text = strdup(JTEXT(doc, NULL));
	ptext = strdup(JTEXT(patch, NULL));
	if (text == NULL || ptext == NULL)
		abort();
	if (sc_json_parse(in, doc_len, &doc2, NULL) != SC_OK ||
	    sc_json_parse(nl + 1, size - doc_len - 1, &patch2, NULL) != SC_OK)
		abort();
	before = doc;
	rc = sc_patch_apply(&doc, patch, &err);
	if (sc_patch_apply_take(&doc2, patch2, NULL) != rc)
		abort();
	if (rc != SC_OK && (strcmp(JTEXT(doc2, NULL), text) != 0 ||
			    strcmp(JTEXT(patch2, NULL), ptext) != 0))
		abort();
	json_object_put(patch2);
	patch2 = NULL;
	if (rc == SC_OK && !sc_json_equal(doc, doc2))
		abort();
	if (rc != SC_OK) {
		if (doc != before || strcmp(JTEXT(doc, NULL), text) != 0)
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
	/* the result (patch freed: ASan sees any value it still held),
	 * printed by our serializer as json-c prints it */
	{
		sc_buf b = {0};
		size_t n = 0;
		const char *want = JTEXT(doc, &n);

		if (want == NULL || sc_text_write(&b, doc) != SC_OK ||
		    b.len != n || memcmp(b.p, want, n) != 0)
			abort();
		sc_buf_free(&b);
	}
out:
	free(text);
	free(ptext);
	json_object_put(patch2);
	json_object_put(doc2);
	json_object_put(patch);
	json_object_put(doc);
	return 0;
}
