/*
 * tests/json/test_patch.c — RFC 6902 apply (json/patch.h): the RFC's
 * appendix A, our edge cases as a {doc, patch, expected-or-error} table,
 * atomicity (the document is byte-for-byte as before on every error),
 * deep copies, the depth bound and allocation failures; every table case
 * and random patch also through sc_patch_apply_take (the same outcome,
 * the patch left as it was on failure).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "json/patch.h"
#include "json/pointer.h"
#include "json/value.h"
#include "tests/support.h"

static const struct patch_case {
	const char *doc;
	const char *patch;
	const char *expected; /* NULL: the patch must fail */
	sc_err rc;
	long index; /* of the failing op */
} cases[] = {
    /* RFC 6902 appendix A. */
    {"{\"foo\":\"bar\"}",
     "[{\"op\":\"add\",\"path\":\"/baz\","
     "\"value\":\"qux\"}]",
     "{\"baz\":\"qux\",\"foo\":\"bar\"}", SC_OK, 0},
    {"{\"foo\":[\"bar\",\"baz\"]}",
     "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
     "{\"foo\":[\"bar\",\"qux\",\"baz\"]}", SC_OK, 0},
    {"{\"baz\":\"qux\",\"foo\":\"bar\"}",
     "[{\"op\":\"remove\",\"path\":\"/baz\"}]", "{\"foo\":\"bar\"}", SC_OK, 0},
    {"{\"foo\":[\"bar\",\"qux\",\"baz\"]}",
     "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]", "{\"foo\":[\"bar\",\"baz\"]}",
     SC_OK, 0},
    {"{\"baz\":\"qux\",\"foo\":\"bar\"}",
     "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
     "{\"baz\":\"boo\",\"foo\":\"bar\"}", SC_OK, 0},
    {"{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},"
     "\"qux\":{\"corge\":\"grault\"}}",
     "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
     "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\","
     "\"thud\":\"fred\"}}",
     SC_OK, 0},
    {"{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
     "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
     "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}", SC_OK, 0},
    {"{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
     "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},"
     "{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]",
     "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}", SC_OK, 0},
    {"{\"baz\":\"qux\"}",
     "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]", NULL,
     SC_ERR_TEST, 0},
    {"{\"foo\":\"bar\"}",
     "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]",
     "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}", SC_OK, 0},
    {"{\"foo\":\"bar\"}",
     "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"xyz\":123}]",
     "{\"foo\":\"bar\",\"baz\":\"qux\"}", SC_OK, 0},
    {"{\"foo\":\"bar\"}",
     "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]", NULL,
     SC_ERR_PATCH, 0},
    {"{\"foo\":\"bar\"}",
     "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\","
     "\"op\":\"remove\"}]",
     NULL, SC_ERR_PATCH, 0},
    {"{\"/\":9,\"~1\":10}",
     "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]",
     "{\"/\":9,\"~1\":10}", SC_OK, 0},
    {"{\"/\":9,\"~1\":10}",
     "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]", NULL,
     SC_ERR_TEST, 0},
    {"{\"foo\":[\"bar\"]}",
     "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]",
     "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}", SC_OK, 0},

    /* add */
    {"{\"a\":1}", "[{\"op\":\"add\",\"path\":\"\",\"value\":[1]}]", "[1]",
     SC_OK, 0},
    {"{\"a\":1}", "[{\"op\":\"add\",\"path\":\"\",\"value\":null}]", "null",
     SC_OK, 0},
    {"null", "[{\"op\":\"add\",\"path\":\"\",\"value\":{}}]", "{}", SC_OK, 0},
    {"{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":2}]", "{\"a\":2}",
     SC_OK, 0},
    {"{}", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":null}]", "{\"a\":null}",
     SC_OK, 0},
    {"{}", "[{\"op\":\"add\",\"path\":\"/-\",\"value\":1}]", "{\"-\":1}", SC_OK,
     0},
    {"{}", "[{\"op\":\"add\",\"path\":\"/01\",\"value\":1}]", "{\"01\":1}",
     SC_OK, 0},
    {"{}", "[{\"op\":\"add\",\"path\":\"/\",\"value\":1}]", "{\"\":1}", SC_OK,
     0},
    {"[1,2]", "[{\"op\":\"add\",\"path\":\"/0\",\"value\":0}]", "[0,1,2]",
     SC_OK, 0},
    {"[1,2]", "[{\"op\":\"add\",\"path\":\"/2\",\"value\":3}]", "[1,2,3]",
     SC_OK, 0},
    {"[1,2]", "[{\"op\":\"add\",\"path\":\"/-\",\"value\":3}]", "[1,2,3]",
     SC_OK, 0},
    {"[]", "[{\"op\":\"add\",\"path\":\"/0\",\"value\":[]}]", "[[]]", SC_OK, 0},
    {"[1,2]", "[{\"op\":\"add\",\"path\":\"/3\",\"value\":3}]", NULL,
     SC_ERR_PATCH, 0},
    {"[1,2]", "[{\"op\":\"add\",\"path\":\"/01\",\"value\":3}]", NULL,
     SC_ERR_POINTER, 0},
    {"[1,2]", "[{\"op\":\"add\",\"path\":\"/-1\",\"value\":3}]", NULL,
     SC_ERR_POINTER, 0},
    {"[1,2]",
     "[{\"op\":\"add\",\"path\":\"/18446744073709551616\",\"value\":3}]", NULL,
     SC_ERR_POINTER, 0},
    {"[1,2]",
     "[{\"op\":\"add\",\"path\":\"/10000000000000000000\",\"value\":3}]", NULL,
     SC_ERR_POINTER, 0},
    {"{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":3}]", NULL,
     SC_ERR_PATCH, 0},
    {"{\"a\":[]}", "[{\"op\":\"add\",\"path\":\"/a/-/b\",\"value\":3}]", NULL,
     SC_ERR_PATCH, 0},
    {"{}", "[{\"op\":\"add\",\"path\":\"/a\"}]", NULL, SC_ERR_PATCH, 0},

    /* remove */
    {"{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"\"}]", NULL, SC_ERR_PATCH, 0},
    {"{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]", NULL, SC_ERR_PATCH,
     0},
    {"{\"a\":{\"1\":[0]}}", "[{\"op\":\"remove\",\"path\":\"/a/1/0\"}]",
     "{\"a\":{\"1\":[]}}", SC_OK, 0},
    {"[1,2]", "[{\"op\":\"remove\",\"path\":\"/-\"}]", NULL, SC_ERR_PATCH, 0},
    {"[1,2]", "[{\"op\":\"remove\",\"path\":\"/2\"}]", NULL, SC_ERR_PATCH, 0},
    {"[1,null]", "[{\"op\":\"remove\",\"path\":\"/1\"}]", "[1]", SC_OK, 0},
    {"{\"a\":null}", "[{\"op\":\"remove\",\"path\":\"/a\"}]", "{}", SC_OK, 0},

    /* replace */
    {"{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":5}]", "5",
     SC_OK, 0},
    {"{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":5}]", NULL,
     SC_ERR_PATCH, 0},
    {"[1,2]", "[{\"op\":\"replace\",\"path\":\"/1\",\"value\":5}]", "[1,5]",
     SC_OK, 0},
    {"[1,2]", "[{\"op\":\"replace\",\"path\":\"/2\",\"value\":5}]", NULL,
     SC_ERR_PATCH, 0},
    {"[1,2]", "[{\"op\":\"replace\",\"path\":\"/-\",\"value\":5}]", NULL,
     SC_ERR_PATCH, 0},
    {"{\"1\":1}", "[{\"op\":\"replace\",\"path\":\"/1\",\"value\":2}]",
     "{\"1\":2}", SC_OK, 0},
    {"{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/a\"}]", NULL, SC_ERR_PATCH,
     0},

    /* move */
    {"{\"a\":1}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/ab\"}]",
     "{\"ab\":1}", SC_OK, 0},
    {"{\"a\":{}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b\"}]",
     NULL, SC_ERR_PATCH, 0},
    {"{\"a\":{}}", "[{\"op\":\"move\",\"from\":\"\",\"path\":\"/a/b\"}]", NULL,
     SC_ERR_PATCH, 0},
    {"{\"a\":1}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a\"}]",
     "{\"a\":1}", SC_OK, 0},
    {"{\"a\":{\"b\":2}}",
     "[{\"op\":\"move\",\"from\":\"/a/b\",\"path\":\"/a\"}]", "{\"a\":2}",
     SC_OK, 0},
    {"{\"a\":{\"b\":2}}", "[{\"op\":\"move\",\"from\":\"/a/b\",\"path\":\"\"}]",
     "2", SC_OK, 0},
    {"{\"a\":1}", "[{\"op\":\"move\",\"from\":\"/x\",\"path\":\"/b\"}]", NULL,
     SC_ERR_PATCH, 0},
    {"{\"a\":1}", "[{\"op\":\"move\",\"path\":\"/b\"}]", NULL, SC_ERR_PATCH, 0},
    {"{\"a\":1}", "[{\"op\":\"move\",\"from\":null,\"path\":\"/b\"}]", NULL,
     SC_ERR_PATCH, 0},
    {"{\"a\":1}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/b/c\"}]", NULL,
     SC_ERR_PATCH, 0},
    {"[0,1,2,3]", "[{\"op\":\"move\",\"from\":\"/0\",\"path\":\"/-\"}]",
     "[1,2,3,0]", SC_OK, 0},
    {"[0,1,2,3]", "[{\"op\":\"move\",\"from\":\"/3\",\"path\":\"/0\"}]",
     "[3,0,1,2]", SC_OK, 0},
    {"[0,1,2,3]", "[{\"op\":\"move\",\"from\":\"/0\",\"path\":\"/4\"}]", NULL,
     SC_ERR_PATCH, 0},
    {"{\"a\":[1],\"b\":{}}",
     "[{\"op\":\"move\",\"from\":\"/a/0\",\"path\":\"/b/x\"}]",
     "{\"a\":[],\"b\":{\"x\":1}}", SC_OK, 0},

    /* copy */
    {"{\"a\":{\"b\":1}}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"}]",
     "{\"a\":{\"b\":1},\"c\":{\"b\":1}}", SC_OK, 0},
    {"{\"a\":{\"b\":1}}",
     "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/a/c\"}]",
     "{\"a\":{\"b\":1,\"c\":{\"b\":1}}}", SC_OK, 0},
    {"{\"a\":[1,2]}", "[{\"op\":\"copy\",\"from\":\"/a/1\",\"path\":\"/a/0\"}]",
     "{\"a\":[2,1,2]}", SC_OK, 0},
    {"{\"a\":1}", "[{\"op\":\"copy\",\"from\":\"/x\",\"path\":\"/b\"}]", NULL,
     SC_ERR_PATCH, 0},
    {"{\"a\":1}", "[{\"op\":\"copy\",\"path\":\"/b\"}]", NULL, SC_ERR_PATCH, 0},
    {"{\"a\":1}", "[{\"op\":\"copy\",\"from\":\"\",\"path\":\"/b\"}]",
     "{\"a\":1,\"b\":{\"a\":1}}", SC_OK, 0},

    /* test */
    {"{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":1.0}]",
     "{\"a\":1}", SC_OK, 0},
    {"{\"a\":{\"x\":1,\"y\":[true,null]}}",
     "[{\"op\":\"test\",\"path\":\"/a\",\"value\":{\"y\":[true,null],"
     "\"x\":1e0}}]",
     "{\"a\":{\"x\":1,\"y\":[true,null]}}", SC_OK, 0},
    {"{\"a\":null}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":null}]",
     "{\"a\":null}", SC_OK, 0},
    {"{\"a\":[1,2]}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":[2,1]}]",
     NULL, SC_ERR_TEST, 0},
    {"{}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":null}]", NULL,
     SC_ERR_PATCH, 0},
    {"{\"a\":1}", "[{\"op\":\"test\",\"path\":\"\",\"value\":{\"a\":1}}]",
     "{\"a\":1}", SC_OK, 0},
    {"{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\"}]", NULL, SC_ERR_PATCH, 0},

    /* Malformed patches and ops. */
    {"{}", "{}", NULL, SC_ERR_PATCH, -1},
    {"{}", "null", NULL, SC_ERR_PATCH, -1},
    {"{}", "\"[]\"", NULL, SC_ERR_PATCH, -1},
    {"{}", "[]", "{}", SC_OK, 0},
    {"{}", "[1]", NULL, SC_ERR_PATCH, 0},
    {"{}", "[null]", NULL, SC_ERR_PATCH, 0},
    {"{}", "[[]]", NULL, SC_ERR_PATCH, 0},
    {"{}", "[{\"path\":\"/a\",\"value\":1}]", NULL, SC_ERR_PATCH, 0},
    {"{}", "[{\"op\":null,\"path\":\"/a\",\"value\":1}]", NULL, SC_ERR_PATCH,
     0},
    {"{}", "[{\"op\":\"ADD\",\"path\":\"/a\",\"value\":1}]", NULL, SC_ERR_PATCH,
     0},
    {"{}", "[{\"op\":\"frob\",\"path\":\"/a\"}]", NULL, SC_ERR_PATCH, 0},
    {"{}", "[{\"op\":\"add\",\"path\":null,\"value\":1}]", NULL, SC_ERR_PATCH,
     0},
    {"{}", "[{\"op\":\"add\",\"value\":1}]", NULL, SC_ERR_PATCH, 0},
    {"{}", "[{\"op\":\"add\",\"path\":5,\"value\":1}]", NULL, SC_ERR_PATCH, 0},
    {"{}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]", NULL,
     SC_ERR_POINTER, 0},
    {"{}", "[{\"op\":\"add\",\"path\":\"/~2\",\"value\":1}]", NULL,
     SC_ERR_POINTER, 0},
    {"{}", "[{\"op\":\"add\",\"path\":\"/a~\",\"value\":1}]", NULL,
     SC_ERR_POINTER, 0},
    {"{}", "[{\"op\":\"copy\",\"from\":\"/~\",\"path\":\"/a\"}]", NULL,
     SC_ERR_POINTER, 0},

    /* The failing op is named, and everything before it is undone. */
    {"{\"a\":1,\"b\":2,\"c\":3}",
     "[{\"op\":\"remove\",\"path\":\"/b\"},"
     "{\"op\":\"remove\",\"path\":\"/a\"},"
     "{\"op\":\"add\",\"path\":\"/z\",\"value\":[1]},"
     "{\"op\":\"replace\",\"path\":\"/c\",\"value\":5},"
     "{\"op\":\"move\",\"from\":\"/c\",\"path\":\"/d\"},"
     "{\"op\":\"copy\",\"from\":\"/d\",\"path\":\"/z/0\"},"
     "{\"op\":\"add\",\"path\":\"\",\"value\":[]},"
     "{\"op\":\"test\",\"path\":\"\",\"value\":{}}]",
     NULL, SC_ERR_TEST, 7},
    {"{\"k\":[0,1,2,3,4],\"o\":{\"x\":1,\"y\":2,\"z\":3}}",
     "[{\"op\":\"add\",\"path\":\"/k/1\",\"value\":9},"
     "{\"op\":\"remove\",\"path\":\"/k/0\"},"
     "{\"op\":\"replace\",\"path\":\"/k/2\",\"value\":{}},"
     "{\"op\":\"move\",\"from\":\"/k/4\",\"path\":\"/k/0\"},"
     "{\"op\":\"move\",\"from\":\"/o/x\",\"path\":\"/o/w\"},"
     "{\"op\":\"remove\",\"path\":\"/o/z\"},"
     "{\"op\":\"move\",\"from\":\"/o/y\",\"path\":\"/k/-\"},"
     "{\"op\":\"remove\",\"path\":\"/k/99\"}]",
     NULL, SC_ERR_PATCH, 7},
    {"{\"a\":1}",
     "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2},"
     "{\"op\":\"remove\",\"path\":\"/a\"},"
     "{\"op\":\"bogus\"}]",
     NULL, SC_ERR_PATCH, 2},
    {"[1,2,3]",
     "[{\"op\":\"remove\",\"path\":\"/0\"},"
     "{\"op\":\"remove\",\"path\":\"/0\"},"
     "{\"op\":\"remove\",\"path\":\"/0\"},"
     "{\"op\":\"remove\",\"path\":\"/0\"}]",
     NULL, SC_ERR_PATCH, 3},
    {"{\"a\":1,\"b\":2,\"c\":3}",
     "[{\"op\":\"remove\",\"path\":\"/a\"},"
     "{\"op\":\"remove\",\"path\":\"/b\"},"
     "{\"op\":\"remove\",\"path\":\"/c\"},"
     "{\"op\":\"add\",\"path\":\"/c\",\"value\":3},"
     "{\"op\":\"add\",\"path\":\"/a\",\"value\":1},"
     "{\"op\":\"test\",\"path\":\"/b\",\"value\":2}]",
     NULL, SC_ERR_PATCH, 5},
};

/* Case i applied with sc_patch_apply_take: the same outcome; the
 * document keeps the patch's values after the patch is dropped (ASan
 * sees a missing reference); a failure leaves both as they were. */
static void check_take(size_t i, const struct patch_case *c)
{
	json_object *doc = J(c->doc), *patch = J(c->patch), *want;
	char *doc_text = strdup(T(doc, NULL));
	char *patch_text = strdup(T(patch, NULL));
	sc_err rc;

	assert_non_null(doc_text);
	assert_non_null(patch_text);
	rc = sc_patch_apply_take(&doc, patch, NULL);
	if (rc != c->rc)
		fail_msg("case %zu (take): got %s, want %s", i,
			 sc_strerror(rc), sc_strerror(c->rc));
	if (rc != SC_OK) {
		assert_string_equal(T(doc, NULL), doc_text);
		assert_string_equal(T(patch, NULL), patch_text);
	}
	json_object_put(patch);
	if (rc == SC_OK) {
		want = J(c->expected);
		if (!sc_json_equal(doc, want))
			fail_msg("case %zu (take): %s to %s gave %s, want %s",
				 i, c->patch, c->doc, T(doc, NULL),
				 c->expected);
		json_object_put(want);
	}
	free(doc_text);
	free(patch_text);
	json_object_put(doc);
}

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct patch_case *c = &cases[i];
		json_object *doc = J(c->doc), *patch = J(c->patch);
		json_object *before = doc, *want;
		char *text = strdup(T(doc, NULL));
		sc_error err;
		sc_err rc;

		assert_non_null(text);
		sc_error_clear(&err);
		rc = sc_patch_apply(&doc, patch, &err);
		if (rc != c->rc)
			fail_msg("case %zu: %s to %s: got %s (%s), want %s", i,
				 c->patch, c->doc, sc_strerror(rc), err.message,
				 sc_strerror(c->rc));
		if (rc == SC_OK) {
			want = J(c->expected);
			if (!sc_json_equal(doc, want))
				fail_msg("case %zu: %s to %s gave %s, want %s",
					 i, c->patch, c->doc,
					 T(doc, NULL), c->expected);
			json_object_put(want);
		} else {
			/* Atomic: the same object, the same text (member
			 * order included); the op named. */
			assert_ptr_equal(doc, before);
			if (strcmp(T(doc, NULL), text) != 0)
				fail_msg("case %zu: document changed to %s", i,
					 T(doc, NULL));
			assert_int_equal(err.code, rc);
			if (err.index != c->index)
				fail_msg("case %zu: index %ld, want %ld (%s)",
					 i, err.index, c->index, err.message);
			assert_true(err.message[0] != '\0');
		}
		free(text);
		json_object_put(doc);
		json_object_put(patch);
		check_take(i, c);
	}
}

static void test_message(void **state)
{
	json_object *doc = J("{\"a\":[1]}");
	json_object *patch =
	    J("[{\"op\":\"test\",\"path\":\"/a\",\"value\":[1]},"
	      "{\"op\":\"remove\",\"path\":\"/a/5\"}]");
	sc_error err;

	(void)state;
	assert_int_equal(sc_patch_apply(&doc, patch, &err), SC_ERR_PATCH);
	assert_int_equal(err.index, 1);
	assert_non_null(strstr(err.message, "op 1 (remove)"));
	assert_non_null(strstr(err.message, "/a/5"));
	/* err may be NULL. */
	assert_int_equal(sc_patch_apply(&doc, patch, NULL), SC_ERR_PATCH);
	json_object_put(doc);
	json_object_put(patch);
}

/* Values from the patch, and copies, share nothing with their source. */
static void test_no_sharing(void **state)
{
	json_object *doc = J("{\"src\":{\"deep\":[1]}}");
	json_object *patch = J("[{\"op\":\"add\",\"path\":\"/a\",\"value\":"
			       "{\"x\":[1]}},"
			       "{\"op\":\"copy\",\"from\":\"/src\",\"path\":"
			       "\"/b\"},"
			       "{\"op\":\"replace\",\"path\":\"/src/deep/0\","
			       "\"value\":[2]}]");
	json_object *pv, *a, *b, *src, *x;

	(void)state;
	assert_int_equal(sc_patch_apply(&doc, patch, NULL), SC_OK);
	pv = json_object_object_get(json_object_array_get_idx(patch, 0),
				    "value");
	a = json_object_object_get(doc, "a");
	assert_ptr_not_equal(a, pv);
	x = json_object_object_get(a, "x");
	assert_ptr_not_equal(x, json_object_object_get(pv, "x"));
	/* Changing the document leaves the patch alone. */
	json_object_array_add(x, json_object_new_int(2));
	assert_int_equal(
	    json_object_array_length(json_object_object_get(pv, "x")), 1);
	b = json_object_object_get(doc, "b");
	src = json_object_object_get(doc, "src");
	assert_ptr_not_equal(b, src);
	assert_string_equal(T(b, NULL), "{\"deep\":[1]}");
	assert_string_equal(T(src, NULL), "{\"deep\":[[2]]}");
	json_object_put(patch);
	/* The document outlives the patch. */
	assert_string_equal(T(a, NULL), "{\"x\":[1,2]}");
	json_object_put(doc);
}

/* Returns n nested arrays, built (a patch holding a value this deep
 * could not be parsed: the patch nests it two levels further). */
static json_object *deep(size_t n)
{
	json_object *v = json_object_new_array(), *o;
	size_t i;

	for (i = 1; i < n; i++) {
		o = json_object_new_array();
		json_object_array_add(o, v);
		v = o;
	}
	return v;
}

/* Applies the one op {op, from (unless NULL), path, value (taken, unless
 * NULL)} to *doc. */
static sc_err apply1(json_object **doc, const char *opname, const char *from,
		     const char *path, json_object *value)
{
	json_object *patch = json_object_new_array();
	json_object *op = json_object_new_object();
	sc_err rc;

	json_object_object_add(op, "op", json_object_new_string(opname));
	if (from != NULL)
		json_object_object_add(op, "from",
				       json_object_new_string(from));
	json_object_object_add(op, "path", json_object_new_string(path));
	if (value != NULL)
		json_object_object_add(op, "value", value);
	json_object_array_add(patch, op);
	rc = sc_patch_apply(doc, patch, NULL);
	json_object_put(patch);
	return rc;
}

static void test_depth(void **state)
{
	json_object *doc = J("{\"b\":{}}");
	char path[2 * 600 + 1];
	size_t i;

	(void)state;
	/* {"a": 511 levels} is 512 deep: fine; 513 is not. */
	assert_int_equal(apply1(&doc, "add", NULL, "/a", deep(511)), SC_OK);
	assert_int_equal(sc_json_depth(doc), SC_JSON_MAX_DEPTH);
	assert_int_equal(apply1(&doc, "add", NULL, "/b/c", deep(511)),
			 SC_ERR_TOO_DEEP);
	assert_int_equal(apply1(&doc, "replace", NULL, "/b", deep(512)),
			 SC_ERR_TOO_DEEP);
	assert_int_equal(apply1(&doc, "add", NULL, "/b/c", deep(510)), SC_OK);
	/* copy and move of a deep value to a deeper place. */
	assert_int_equal(apply1(&doc, "copy", "/a", "/b/d", NULL),
			 SC_ERR_TOO_DEEP);
	assert_int_equal(apply1(&doc, "move", "/a", "/b/d", NULL),
			 SC_ERR_TOO_DEEP);
	assert_int_equal(apply1(&doc, "move", "/a", "/e", NULL), SC_OK);
	assert_int_equal(sc_json_depth(doc), SC_JSON_MAX_DEPTH);
	assert_int_equal(apply1(&doc, "add", NULL, "", deep(513)),
			 SC_ERR_TOO_DEEP);
	assert_int_equal(apply1(&doc, "replace", NULL, "", deep(512)), SC_OK);
	assert_int_equal(sc_json_depth(doc), SC_JSON_MAX_DEPTH);
	/* A path of 600 tokens cannot be added to. */
	for (i = 0; i < 600; i++)
		memcpy(path + 2 * i, "/0", 2);
	path[2 * 600] = '\0';
	assert_int_equal(
	    apply1(&doc, "add", NULL, path, json_object_new_int(1)),
	    SC_ERR_TOO_DEEP);
	assert_int_equal(apply1(&doc, "remove", NULL, path, NULL),
			 SC_ERR_PATCH);
	json_object_put(doc);
}

/* Big arrays: inserts and removes shift elements correctly. */
static void test_large_array(void **state)
{
	json_object *doc = json_object_new_array(), *patch, *op, *want;
	size_t i;

	(void)state;
	for (i = 0; i < 1000; i++)
		json_object_array_add(doc, json_object_new_int((int)i));
	patch = J("[{\"op\":\"add\",\"path\":\"/1\",\"value\":-1},"
		  "{\"op\":\"remove\",\"path\":\"/999\"},"
		  "{\"op\":\"move\",\"from\":\"/0\",\"path\":\"/500\"}]");
	assert_int_equal(sc_patch_apply(&doc, patch, NULL), SC_OK);
	want = json_object_new_array();
	json_object_array_add(want, json_object_new_int(-1));
	for (i = 1; i < 1000; i++) {
		if (i == 998)
			continue;
		if (i == 500)
			json_object_array_add(want, json_object_new_int(0));
		json_object_array_add(want, json_object_new_int((int)i));
	}
	if (!sc_json_equal(doc, want))
		fail_msg("got %.200s", T(doc, NULL));
	json_object_put(patch);
	/* A failing patch after many changes restores every element. */
	json_object_put(want);
	want = json_object_get(doc);
	{
		char *text = strdup(T(doc, NULL));

		assert_non_null(text);
		patch = json_object_new_array();
		for (i = 0; i < 200; i++) {
			op = J("{\"op\":\"add\",\"path\":\"/3\",\"value\":{}}");
			json_object_array_add(patch, op);
			op = J("{\"op\":\"remove\",\"path\":\"/100\"}");
			json_object_array_add(patch, op);
		}
		json_object_array_add(
		    patch, J("{\"op\":\"test\",\"path\":\"/0\",\"value\":0}"));
		assert_int_equal(sc_patch_apply(&doc, patch, NULL),
				 SC_ERR_TEST);
		assert_string_equal(T(doc, NULL), text);
		free(text);
	}
	json_object_put(patch);
	json_object_put(want);
	json_object_put(doc);
}

/* Undo puts removed members back in their place even after the
 * object's hash table grew in between. */
static void test_object_undo_after_growth(void **state)
{
	json_object *doc = J("{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3}");
	json_object *patch = json_object_new_array();
	char *text = strdup(T(doc, NULL));
	char op[128];
	int i;

	(void)state;
	assert_non_null(text);
	json_object_array_add(patch, J("{\"op\":\"remove\",\"path\":\"/k1\"}"));
	json_object_array_add(patch, J("{\"op\":\"remove\",\"path\":\"/k0\"}"));
	for (i = 0; i < 300; i++) {
		snprintf(op, sizeof(op),
			 "{\"op\":\"add\",\"path\":\"/n%d\",\"value\":%d}", i,
			 i);
		json_object_array_add(patch, J(op));
	}
	json_object_array_add(patch, J("{\"op\":\"remove\",\"path\":\"/k3\"}"));
	json_object_array_add(patch, J("{\"op\":\"move\",\"from\":\"/k2\","
				       "\"path\":\"/n7\"}"));
	json_object_array_add(patch, J("{\"op\":\"test\",\"path\":\"/k2\","
				       "\"value\":2}"));
	assert_int_equal(sc_patch_apply(&doc, patch, NULL), SC_ERR_PATCH);
	assert_string_equal(T(doc, NULL), text);
	free(text);
	json_object_put(patch);
	json_object_put(doc);
}

/* Fault injection: every allocation of ours can fail; each failure is
 * SC_ERR_NOMEM with the document untouched, and nothing leaks (ASan). */
static void test_alloc_failure(void **state)
{
	static const char *const patches[] = {
	    "[{\"op\":\"remove\",\"path\":\"/b\"},"
	    "{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/z\"},"
	    "{\"op\":\"add\",\"path\":\"/arr/0\",\"value\":{\"n\":1}},"
	    "{\"op\":\"copy\",\"from\":\"/arr\",\"path\":\"/c\"},"
	    "{\"op\":\"remove\",\"path\":\"/c/1\"},"
	    "{\"op\":\"replace\",\"path\":\"/d\",\"value\":[1,2]},"
	    "{\"op\":\"test\",\"path\":\"/z\",\"value\":1}]",
	    "[{\"op\":\"remove\",\"path\":\"/d\"},"
	    "{\"op\":\"remove\",\"path\":\"/a\"},"
	    "{\"op\":\"add\",\"path\":\"\",\"value\":[]}]",
	};
	size_t p;
	long n;

	(void)state;
	for (p = 0; p < sizeof(patches) / sizeof(patches[0]); p++) {
		json_object *patch = J(patches[p]);
		int done = 0;

		for (n = 0; !done && n < 100; n++) {
			json_object *doc = J("{\"a\":1,\"b\":2,\"arr\":[true],"
					     "\"d\":null}");
			json_object *before = doc;
			char *text = strdup(T(doc, NULL));
			sc_error err;
			sc_err rc;

			assert_non_null(text);
			sc_alloc_fail_after(n);
			rc = sc_patch_apply(&doc, patch, &err);
			sc_alloc_fail_after(-1);
			if (rc == SC_OK) {
				done = 1;
			} else {
				assert_int_equal(rc, SC_ERR_NOMEM);
				assert_ptr_equal(doc, before);
				assert_string_equal(T(doc, NULL),
						    text);
			}
			free(text);
			json_object_put(doc);
		}
		assert_true(done);
		assert_true(n > 2); /* the loop did inject failures */
		json_object_put(patch);
	}
}

/*
 * Randomized: patches of random ops (mostly on paths that exist) on
 * random documents with awkward keys.  Whatever happens, the whole patch
 * agrees with its ops applied one by one; a failure leaves the text as
 * it was; and a patch that works, followed by a failing test, undoes
 * every one of its ops (each op kind, at any place).
 */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static const char *const keys[] = {"",	"~", "/",   "0",  "1", "a",
				   "b", "-", "a/b", "~1", "01"};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static json_object *gen_value(int depth)
{
	json_object *o;
	unsigned i, n;

	switch (rnd(depth > 0 ? 8 : 5)) {
	case 0:
		return NULL;
	case 1:
		return json_object_new_boolean(rnd(2));
	case 2:
		return json_object_new_int((int)rnd(3));
	case 3:
		return rnd(2) ? json_object_new_double(1.0)
			      : json_object_new_double(2.5);
	case 4:
		return json_object_new_string(keys[rnd(NKEYS)]);
	case 5:
	case 6:
		o = json_object_new_object();
		n = rnd(4);
		for (i = 0; i < n; i++)
			json_object_object_add(o, keys[rnd(NKEYS)],
					       gen_value(depth - 1));
		return o;
	default:
		o = json_object_new_array();
		n = rnd(4);
		for (i = 0; i < n; i++)
			json_object_array_add(o, gen_value(depth - 1));
		return o;
	}
}

#define MAXPATHS 64

struct paths {
	char *p[MAXPATHS];
	size_t n;
};

static void collect(json_object *o, sc_pointer_buf *b, struct paths *ps)
{
	size_t mark = b->len, i, n;

	if (ps->n < MAXPATHS)
		ps->p[ps->n++] = strdup(sc_pointer_buf_text(b));
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v)
		{
			assert_int_equal(sc_pointer_buf_push(b, k, strlen(k)),
					 SC_OK);
			collect(v, b, ps);
			sc_pointer_buf_truncate(b, mark);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		n = json_object_array_length(o);
		for (i = 0; i < n; i++) {
			assert_int_equal(sc_pointer_buf_push_index(b, i),
					 SC_OK);
			collect(json_object_array_get_idx(o, i), b, ps);
			sc_pointer_buf_truncate(b, mark);
		}
	}
}

/* A path: an existing one, or one below it (a new key, "-", an index,
 * "/zz"), sometimes a bad one. */
static char *gen_path(const struct paths *ps)
{
	static const char *const tails[] = {"/-",  "/0",   "/1",  "/a",
					    "/~0", "/new", "/01", "/~2"};
	const char *base = ps->p[rnd((unsigned)ps->n)];
	const char *tail = rnd(3) == 0 ? tails[rnd(8)] : "";
	char *s = malloc(strlen(base) + strlen(tail) + 1);

	assert_non_null(s);
	strcpy(s, base);
	strcat(s, tail);
	return s;
}

static json_object *gen_patch(json_object *doc)
{
	static const char *const ops[] = {"add",  "remove", "replace",
					  "move", "copy",   "test"};
	json_object *patch = json_object_new_array(), *op, *v;
	struct paths ps = {{NULL}, 0};
	sc_pointer_buf b;
	unsigned i, n = 1 + rnd(6);
	char *path;

	sc_pointer_buf_init(&b);
	collect(doc, &b, &ps);
	sc_pointer_buf_free(&b);
	for (i = 0; i < n; i++) {
		const char *name = ops[rnd(6)];

		op = json_object_new_object();
		json_object_object_add(op, "op", json_object_new_string(name));
		path = gen_path(&ps);
		json_object_object_add(op, "path",
				       json_object_new_string(path));
		free(path);
		if (name[0] == 'm' || name[0] == 'c') {
			path = gen_path(&ps);
			json_object_object_add(op, "from",
					       json_object_new_string(path));
			free(path);
		}
		if (name[0] == 'a' || name[0] == 'r' || name[0] == 't') {
			if (name[0] == 't' && rnd(2)) {
				/* Test what is there, often. */
				v = NULL;
				(void)sc_json_copy(doc, &v);
			} else {
				v = gen_value(2);
			}
			json_object_object_add(op, "value", v);
		}
		json_object_array_add(patch, op);
	}
	for (i = 0; i < ps.n; i++)
		free(ps.p[i]);
	return patch;
}

static json_object *copy_of(json_object *o)
{
	json_object *c = NULL;

	assert_int_equal(sc_json_copy(o, &c), SC_OK);
	return c;
}

static void test_random(void **state)
{
	int iter, ok = 0, failed = 0;

	(void)state;
	for (iter = 0; iter < 10000; iter++) {
		json_object *doc = gen_value(4), *patch = gen_patch(doc);
		json_object *whole = copy_of(doc), *single = copy_of(doc);
		char *text = strdup(T(doc, NULL));
		size_t i, n = json_object_array_length(patch);
		sc_error err, e1;
		sc_err rc, rc1 = SC_OK;

		assert_non_null(text);
		rc = sc_patch_apply(&whole, patch, &err);
		/* Taking the values of a copy of the patch: the same. */
		{
			json_object *taken = copy_of(patch), *t = copy_of(doc);
			char *ptext = strdup(T(taken, NULL));

			assert_non_null(ptext);
			assert_int_equal(sc_patch_apply_take(&t, taken, NULL),
					 rc);
			if (rc != SC_OK) {
				assert_string_equal(T(t, NULL),
						    text);
				assert_string_equal(
				    T(taken, NULL), ptext);
			}
			json_object_put(taken);
			if (rc == SC_OK)
				assert_true(sc_json_equal(t, whole));
			free(ptext);
			json_object_put(t);
		}
		/* The same ops one at a time. */
		for (i = 0; i < n; i++) {
			json_object *one = json_object_new_array();

			json_object_array_add(
			    one, json_object_get(
				     json_object_array_get_idx(patch, i)));
			rc1 = sc_patch_apply(&single, one, &e1);
			json_object_put(one);
			if (rc1 != SC_OK)
				break;
		}
		if (rc != rc1 || (rc != SC_OK && (size_t)err.index != i))
			fail_msg("iteration %d: %s on %s: whole %s (%s), "
				 "single %s at %zu",
				 iter, T(patch, NULL), text,
				 sc_strerror(rc), err.message, sc_strerror(rc1),
				 i);
		if (rc == SC_OK) {
			ok++;
			assert_true(sc_json_equal(whole, single));
			assert_true(sc_json_depth(whole) <= SC_JSON_MAX_DEPTH);
			/* Now the same patch, then a failing test. */
			json_object_array_add(
			    patch, json_object_new_string("not an op"));
			json_object_put(single);
			single = copy_of(doc);
			rc = sc_patch_apply(&single, patch, &err);
			assert_int_equal(rc, SC_ERR_PATCH);
			json_object_array_del_idx(patch, n, 1);
			json_object_array_add(
			    patch, J("{\"op\":\"test\",\"path\":\"\","
				     "\"value\":\"never\"}"));
		} else {
			failed++;
		}
		/* Failing patches leave the text exactly as it was. */
		json_object_put(single);
		single = copy_of(doc);
		rc = sc_patch_apply(&single, patch, &err);
		if (rc == SC_OK)
			fail_msg("iteration %d: should fail", iter);
		if (strcmp(T(single, NULL), text) != 0)
			fail_msg("iteration %d: %s on %s left %s", iter,
				 T(patch, NULL), text,
				 T(single, NULL));
		free(text);
		json_object_put(single);
		json_object_put(whole);
		json_object_put(patch);
		json_object_put(doc);
	}
	print_message("random: %d patches applied, %d refused\n", ok, failed);
	/* Both outcomes are well represented. */
	assert_true(ok > 300);
	assert_true(failed > 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_message),
	    cmocka_unit_test(test_no_sharing),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_large_array),
	    cmocka_unit_test(test_alloc_failure),
	    cmocka_unit_test(test_random),
	    cmocka_unit_test(test_object_undo_after_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
