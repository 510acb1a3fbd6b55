/*
 * tests/json/test_pointer.c — RFC 6901 pointers (json/pointer.h): parse,
 * indexes, resolution (the RFC's own examples), ancestry, building.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "json/pointer.h"
#include "json/value.h"
#include "tests/support.h"

#define MAXTOK 4

static const struct parse_case {
	const char *text;
	sc_err rc;
	size_t count;
	const char *tokens[MAXTOK];
} parse_cases[] = {
    /* RFC 6901 section 5, as JSON string values. */
    {"", SC_OK, 0, {NULL}},
    {"/foo", SC_OK, 1, {"foo"}},
    {"/foo/0", SC_OK, 2, {"foo", "0"}},
    {"/", SC_OK, 1, {""}},
    {"/a~1b", SC_OK, 1, {"a/b"}},
    {"/c%d", SC_OK, 1, {"c%d"}},
    {"/e^f", SC_OK, 1, {"e^f"}},
    {"/g|h", SC_OK, 1, {"g|h"}},
    {"/i\\j", SC_OK, 1, {"i\\j"}},
    {"/k\"l", SC_OK, 1, {"k\"l"}},
    {"/ ", SC_OK, 1, {" "}},
    {"/m~0n", SC_OK, 1, {"m~n"}},
    /* Escapes decode in one pass, in every token. */
    {"/~01", SC_OK, 1, {"~1"}},
    {"/~10", SC_OK, 1, {"/0"}},
    {"/~0~1", SC_OK, 1, {"~/"}},
    {"/~1/~0/x~1~1", SC_OK, 3, {"/", "~", "x//"}},
    {"/a/", SC_OK, 2, {"a", ""}},
    {"//", SC_OK, 2, {"", ""}},
    {"/-", SC_OK, 1, {"-"}},
    {"/0/01/-1", SC_OK, 3, {"0", "01", "-1"}},
    /* Errors. */
    {"a", SC_ERR_POINTER, 0, {NULL}},
    {" /a", SC_ERR_POINTER, 0, {NULL}},
    {"#/a", SC_ERR_POINTER, 0, {NULL}},
    {"/~", SC_ERR_POINTER, 0, {NULL}},
    {"/a~", SC_ERR_POINTER, 0, {NULL}},
    {"/~2", SC_ERR_POINTER, 0, {NULL}},
    {"/~a", SC_ERR_POINTER, 0, {NULL}},
    {"/~~0", SC_ERR_POINTER, 0, {NULL}},
    {"/ok/~/x", SC_ERR_POINTER, 0, {NULL}},
};

static void test_parse_table(void **state)
{
	size_t i, t;

	(void)state;
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		sc_pointer p;
		sc_error err;
		sc_err rc;

		sc_error_clear(&err);
		rc = sc_pointer_parse(&p, c->text, strlen(c->text), &err);
		if (rc != c->rc)
			fail_msg("parse '%s': got %s (%s), want %s", c->text,
				 sc_strerror(rc), err.message,
				 sc_strerror(c->rc));
		if (rc != SC_OK) {
			assert_int_equal(p.count, 0);
			assert_null(p.tokens);
			assert_true(err.message[0] != '\0');
		}
		assert_int_equal(p.count, c->count);
		for (t = 0; t < c->count; t++)
			if (strcmp(p.tokens[t], c->tokens[t]) != 0)
				fail_msg("parse '%s': token %zu is '%s', want "
					 "'%s'",
					 c->text, t, p.tokens[t], c->tokens[t]);
		sc_pointer_free(&p);
	}
}

static void test_parse_len_and_nul(void **state)
{
	sc_pointer p;

	(void)state;
	/* Only len bytes are read. */
	assert_int_equal(sc_pointer_parse(&p, "/ab/cd", 3, NULL), SC_OK);
	assert_int_equal(p.count, 1);
	assert_string_equal(p.tokens[0], "ab");
	sc_pointer_free(&p);
	assert_int_equal(sc_pointer_parse(&p, "/a\0b", 4, NULL),
			 SC_ERR_POINTER);
	sc_pointer_free(&p);
	sc_pointer_free(NULL);
}

static const struct index_case {
	const char *token;
	sc_err rc;
	size_t idx;
} index_cases[] = {
    {"0", SC_OK, 0},
    {"7", SC_OK, 7},
    {"10", SC_OK, 10},
    {"123456", SC_OK, 123456},
    {"9007199254740991", SC_OK, 9007199254740991ULL},
    {"9007199254740992", SC_ERR_POINTER, 0},
    {"10000000000000000000", SC_ERR_POINTER, 0},
    {"18446744073709551616", SC_ERR_POINTER, 0},
    {"99999999999999999999", SC_ERR_POINTER, 0},
    {"00", SC_ERR_POINTER, 0},
    {"01", SC_ERR_POINTER, 0},
    {"-1", SC_ERR_POINTER, 0},
    {"+1", SC_ERR_POINTER, 0},
    {"-", SC_ERR_POINTER, 0},
    {"", SC_ERR_POINTER, 0},
    {" 1", SC_ERR_POINTER, 0},
    {"1 ", SC_ERR_POINTER, 0},
    {"1a", SC_ERR_POINTER, 0},
    {"0x1", SC_ERR_POINTER, 0},
    {"1e2", SC_ERR_POINTER, 0},
    {"1.0", SC_ERR_POINTER, 0},
};

static void test_index_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(index_cases) / sizeof(index_cases[0]); i++) {
		const struct index_case *c = &index_cases[i];
		size_t idx = 4242;
		sc_err rc = sc_pointer_index(c->token, &idx);

		if (rc != c->rc)
			fail_msg("index '%s': got %s", c->token,
				 sc_strerror(rc));
		assert_int_equal(idx, rc == SC_OK ? c->idx : 4242);
	}
}

/* The document of RFC 6901 section 5. */
static const char rfc_doc[] =
    "{\"foo\": [\"bar\", \"baz\"], \"\": 0, \"a/b\": 1, \"c%d\": 2,"
    " \"e^f\": 3, \"g|h\": 4, \"i\\\\j\": 5, \"k\\\"l\": 6, \" \": 7,"
    " \"m~n\": 8}";

static const struct get_case {
	const char *pointer;
	sc_err rc;
	const char *value; /* JSON text, when rc is SC_OK */
} get_cases[] = {
    {"", SC_OK, NULL /* the document */},
    {"/foo", SC_OK, "[\"bar\", \"baz\"]"},
    {"/foo/0", SC_OK, "\"bar\""},
    {"/foo/1", SC_OK, "\"baz\""},
    {"/", SC_OK, "0"},
    {"/a~1b", SC_OK, "1"},
    {"/c%d", SC_OK, "2"},
    {"/e^f", SC_OK, "3"},
    {"/g|h", SC_OK, "4"},
    {"/i\\j", SC_OK, "5"},
    {"/k\"l", SC_OK, "6"},
    {"/ ", SC_OK, "7"},
    {"/m~0n", SC_OK, "8"},
    {"/foo/2", SC_ERR_NOT_FOUND, NULL},
    {"/foo/-", SC_ERR_NOT_FOUND, NULL},
    {"/foo/01", SC_ERR_POINTER, NULL},
    {"/foo/-1", SC_ERR_POINTER, NULL},
    {"/foo/a", SC_ERR_POINTER, NULL},
    {"/foo/99999999999999999999", SC_ERR_POINTER, NULL},
    {"/foo/0/x", SC_ERR_NOT_FOUND, NULL},
    {"/foo/0/0", SC_ERR_NOT_FOUND, NULL},
    {"/nope", SC_ERR_NOT_FOUND, NULL},
    {"/a/b", SC_ERR_NOT_FOUND, NULL},
    {"/m~1n", SC_ERR_NOT_FOUND, NULL},
    {"//x", SC_ERR_NOT_FOUND, NULL},
};

static void test_get_rfc(void **state)
{
	json_object *doc = J(rfc_doc);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(get_cases) / sizeof(get_cases[0]); i++) {
		const struct get_case *c = &get_cases[i];
		json_object *out = (json_object *)&out, *want;
		sc_pointer p;
		sc_error err;
		sc_err rc;

		assert_int_equal(
		    sc_pointer_parse(&p, c->pointer, strlen(c->pointer), NULL),
		    SC_OK);
		sc_error_clear(&err);
		rc = sc_pointer_get(doc, &p, &out, &err);
		if (rc != c->rc)
			fail_msg("get '%s': got %s (%s), want %s", c->pointer,
				 sc_strerror(rc), err.message,
				 sc_strerror(c->rc));
		if (rc == SC_OK) {
			want = c->value != NULL ? J(c->value) : NULL;
			if (c->value == NULL)
				assert_ptr_equal(out, doc);
			else if (!sc_json_equal(out, want))
				fail_msg("get '%s' = %s", c->pointer,
					 T(out, NULL));
			json_object_put(want);
		} else {
			assert_ptr_equal(out, (json_object *)&out);
			assert_true(err.message[0] != '\0');
		}
		sc_pointer_free(&p);
	}
	json_object_put(doc);
}

static void test_resolve_misc(void **state)
{
	json_object *doc = J("{\"0\": {\"-\": [null, {\"01\": true}]},"
			     " \"n\": null}");
	json_object *out = NULL;
	sc_pointer p;

	(void)state;
	/* Numeric tokens and "-" on objects are keys; null exists. */
	assert_int_equal(sc_pointer_parse(&p, "/0/-/1/01", 9, NULL), SC_OK);
	assert_int_equal(sc_pointer_get(doc, &p, &out, NULL), SC_OK);
	assert_true(json_object_get_boolean(out));
	/* A prefix: the parent of the target. */
	assert_int_equal(sc_pointer_resolve(doc, &p, p.count - 1, &out, NULL),
			 SC_OK);
	assert_true(json_object_is_type(out, json_type_object));
	assert_int_equal(sc_pointer_resolve(doc, &p, 0, &out, NULL), SC_OK);
	assert_ptr_equal(out, doc);
	sc_pointer_free(&p);

	assert_int_equal(sc_pointer_parse(&p, "/0/-/0", 6, NULL), SC_OK);
	out = doc;
	assert_int_equal(sc_pointer_get(doc, &p, &out, NULL), SC_OK);
	assert_null(out);
	sc_pointer_free(&p);

	assert_int_equal(sc_pointer_parse(&p, "/n", 2, NULL), SC_OK);
	out = doc;
	assert_int_equal(sc_pointer_get(doc, &p, &out, NULL), SC_OK);
	assert_null(out);
	sc_pointer_free(&p);

	/* Below null, and in a null document. */
	assert_int_equal(sc_pointer_parse(&p, "/n/x", 4, NULL), SC_OK);
	assert_int_equal(sc_pointer_get(doc, &p, &out, NULL), SC_ERR_NOT_FOUND);
	assert_int_equal(sc_pointer_get(NULL, &p, &out, NULL),
			 SC_ERR_NOT_FOUND);
	sc_pointer_free(&p);
	json_object_put(doc);
}

static const struct anc_case {
	const char *a, *b;
	int ancestor;
} anc_cases[] = {
    {"/a", "/a/b", 1},	    {"", "/a", 1},	    {"", "", 0},
    {"/a", "/a", 0},	    {"/a", "/ab", 0},	    {"/a/b", "/a", 0},
    {"/a~1b", "/a/b/c", 0}, {"/a/b", "/a~1b/c", 0}, {"/0", "/0/1/2", 1},
    {"/", "//", 1},	    {"/", "/a", 0},	    {"/a/", "/a/b", 0},
};

static void test_is_ancestor(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(anc_cases) / sizeof(anc_cases[0]); i++) {
		const struct anc_case *c = &anc_cases[i];
		sc_pointer a, b;

		assert_int_equal(sc_pointer_parse(&a, c->a, strlen(c->a), NULL),
				 SC_OK);
		assert_int_equal(sc_pointer_parse(&b, c->b, strlen(c->b), NULL),
				 SC_OK);
		if (sc_pointer_is_ancestor(&a, &b) != c->ancestor)
			fail_msg("is_ancestor(%s, %s) != %d", c->a, c->b,
				 c->ancestor);
		sc_pointer_free(&a);
		sc_pointer_free(&b);
	}
}

static void test_buf(void **state)
{
	static const char *const keys[] = {"a/b", "~", "",   "0",
					   "~01", "/", "x y"};
	sc_pointer_buf b;
	sc_pointer p;
	size_t i, mark;

	(void)state;
	sc_pointer_buf_init(&b);
	assert_string_equal(sc_pointer_buf_text(&b), "");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_int_equal(
		    sc_pointer_buf_push(&b, keys[i], strlen(keys[i])), SC_OK);
	assert_string_equal(sc_pointer_buf_text(&b), "/a~1b/~0//0/~001/~1/x y");
	assert_int_equal(b.len, strlen(b.data));
	/* Round trip: the parsed tokens are the pushed keys. */
	assert_int_equal(sc_pointer_parse(&p, b.data, b.len, NULL), SC_OK);
	assert_int_equal(p.count, sizeof(keys) / sizeof(keys[0]));
	for (i = 0; i < p.count; i++)
		assert_string_equal(p.tokens[i], keys[i]);
	sc_pointer_free(&p);

	sc_pointer_buf_truncate(&b, 0);
	assert_string_equal(sc_pointer_buf_text(&b), "");
	assert_int_equal(sc_pointer_buf_push(&b, "rows", 4), SC_OK);
	mark = b.len;
	assert_int_equal(sc_pointer_buf_push_index(&b, 12), SC_OK);
	assert_string_equal(b.data, "/rows/12");
	sc_pointer_buf_truncate(&b, mark);
	assert_int_equal(sc_pointer_buf_push(&b, "-", 1), SC_OK);
	assert_string_equal(b.data, "/rows/-");
	/* Growth past the first block. */
	for (i = 0; i < 100; i++)
		assert_int_equal(sc_pointer_buf_push(&b, "key/~", 5), SC_OK);
	assert_int_equal(b.len, 7 + 100 * 8);
	sc_pointer_buf_free(&b);
	sc_pointer_buf_free(&b);
	sc_pointer_buf_free(NULL);
}

static void test_alloc_failure(void **state)
{
	sc_pointer_buf b;
	sc_pointer p;
	char big[200];

	(void)state;
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sc_alloc_fail_after(0);
	assert_int_equal(sc_pointer_parse(&p, "/a/b", 4, NULL), SC_ERR_NOMEM);
	assert_null(p.tokens);
	/* "" allocates nothing. */
	assert_int_equal(sc_pointer_parse(&p, "", 0, NULL), SC_OK);
	sc_pointer_buf_init(&b);
	assert_int_equal(sc_pointer_buf_push(&b, "a", 1), SC_ERR_NOMEM);
	assert_int_equal(b.len, 0);
	sc_alloc_fail_after(1);
	assert_int_equal(sc_pointer_buf_push(&b, "a", 1), SC_OK);
	assert_int_equal(sc_pointer_buf_push(&b, big, strlen(big)),
			 SC_ERR_NOMEM);
	assert_string_equal(b.data, "/a");
	assert_int_equal(b.len, 2);
	sc_alloc_fail_after(-1);
	sc_pointer_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_table),
	    cmocka_unit_test(test_parse_len_and_nul),
	    cmocka_unit_test(test_index_table),
	    cmocka_unit_test(test_get_rfc),
	    cmocka_unit_test(test_resolve_misc),
	    cmocka_unit_test(test_is_ancestor),
	    cmocka_unit_test(test_buf),
	    cmocka_unit_test(test_alloc_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
