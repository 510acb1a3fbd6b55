/*
 * fuzz/fuzz_pointer.c — libFuzzer driver for RFC 6901 pointers
 * (json/pointer.h).  The input is pointer text.  A pointer that parses
 * rebuilds to the same text by escaping its tokens (escapes are
 * canonical: only ~0 and ~1 exist), every token read as an index prints
 * back as itself, and resolving it in a fixed document never crashes.
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/pointer.h"
#include "json/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char doc_text[] =
    "{\"foo\":[\"bar\",\"baz\",{\"0\":[[1],{\"\":2}]}],\"\":0,\"a/b\":1,"
    "\"m~n\":[null,true],\"-\":{\"01\":3}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_object *doc;
	json_object *out;
	sc_pointer p, q;
	sc_pointer_buf b;
	char num[32];
	size_t i, idx;
	sc_err rc;

	if (doc == NULL &&
	    sc_json_parse(doc_text, strlen(doc_text), &doc, NULL) != SC_OK)
		abort();
	rc = sc_pointer_parse(&p, (const char *)data, size, NULL);
	if (rc != SC_OK) {
		if (p.count != 0 || p.tokens != NULL)
			abort();
		return 0;
	}
	sc_pointer_buf_init(&b);
	for (i = 0; i < p.count; i++) {
		if (sc_pointer_buf_push(&b, p.tokens[i], strlen(p.tokens[i])) !=
		    SC_OK)
			abort();
		if (sc_pointer_index(p.tokens[i], &idx) == SC_OK) {
			snprintf(num, sizeof(num), "%zu", idx);
			if (strcmp(num, p.tokens[i]) != 0)
				abort();
		}
	}
	if (b.len != size || memcmp(sc_pointer_buf_text(&b), data, size) != 0)
		abort();
	if (sc_pointer_parse(&q, b.data, b.len, NULL) != SC_OK ||
	    q.count != p.count || sc_pointer_is_ancestor(&p, &q) ||
	    sc_pointer_is_ancestor(&q, &p))
		abort();
	rc = sc_pointer_get(doc, &p, &out, NULL);
	if (rc != SC_OK && rc != SC_ERR_NOT_FOUND && rc != SC_ERR_POINTER)
		abort();
	for (i = 0; i <= p.count; i++)
		(void)sc_pointer_resolve(doc, &p, i, &out, NULL);
	sc_pointer_free(&q);
	sc_pointer_buf_free(&b);
	sc_pointer_free(&p);
	return 0;
}
