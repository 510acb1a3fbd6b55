/*
 * tests/json/test_value.c — sc_json_parse, equal, hash, copy, depth and
 * text (json/value.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "json/value.h"
#include "tests/support.h"

static const struct parse_case {
	const char *text;
	sc_err rc;
} parse_cases[] = {
    {"1", SC_OK},
    {"-0", SC_OK},
    {"1.5e3", SC_OK},
    {" [1, 2] \n", SC_OK},
    {"null", SC_OK},
    {"true", SC_OK},
    {"\"a/b\"", SC_OK},
    {"{\"a\":{\"b\":[]}}", SC_OK},
    {"\"\\u00e9\xc3\xa9\"", SC_OK},
    {"", SC_ERR_JSON},
    {"   ", SC_ERR_JSON},
    {"[", SC_ERR_JSON},
    {"{\"a\":1", SC_ERR_JSON},
    {"1 x", SC_ERR_JSON},
    {"{\"a\":1}}", SC_ERR_JSON},
    {"[1]\n[2]", SC_ERR_JSON},
    {"[1,]", SC_ERR_JSON},
    {"{\"a\":1,}", SC_ERR_JSON},
    {"'a'", SC_ERR_JSON},
    {"/* c */ 1", SC_ERR_JSON},
    {"01", SC_ERR_JSON},
    {"-", SC_ERR_JSON},
    {"TRUE", SC_ERR_JSON},
    {"NaN", SC_ERR_JSON},
    {"[Infinity]", SC_ERR_JSON},
    {"-Infinity", SC_ERR_JSON},
    {"{\"a\":1e400}", SC_ERR_JSON},
    {"-1e400", SC_ERR_JSON},
    {"[5.]", SC_ERR_JSON},
    {"1.e3", SC_ERR_JSON},
    {"{\"a\":[-.5]}", SC_ERR_JSON},
    {"-0.5e-3", SC_OK},
    {"1E+5", SC_OK},
    {"-0e-0", SC_OK},
    {"\"\\ud83d\\ude00\"", SC_OK},
    {"\"\xff\"", SC_ERR_JSON},
    {"\"\xc3\"", SC_ERR_JSON},
    /* UTF-8 as RFC 3629 has it, and escapes that json-c lets through. */
    {"\"\xc0\xaf\"", SC_ERR_JSON},		/* overlong '/' */
    {"\"\xe0\x80\xaf\"", SC_ERR_JSON},	/* overlong, 3 bytes */
    {"\"\xf0\x80\x80\xaf\"", SC_ERR_JSON}, /* overlong, 4 bytes */
    {"\"\xed\xa0\x80\"", SC_ERR_JSON},	/* U+D800 as UTF-8 */
    {"\"\xed\xbf\xbf\"", SC_ERR_JSON},	/* U+DFFF as UTF-8 */
    {"\"\xf4\x90\x80\x80\"", SC_ERR_JSON}, /* U+110000 */
    {"\"\xf5\x80\x80\x80\"", SC_ERR_JSON}, /* past F4 */
    {"\"\xe2\x82\"", SC_ERR_JSON},		/* truncated */
    {"\"\xe2\x82", SC_ERR_JSON},		/* truncated at the end */
    {"\"\x80\"", SC_ERR_JSON},		/* lone continuation */
    {"{\"\xc0\xaf\":1}", SC_ERR_JSON},	/* in a member name */
    {"[\xed\xa0\x80]", SC_ERR_JSON},		/* outside a string */
    {"\"\\ud800\"", SC_ERR_JSON},		/* lone high surrogate */
    {"\"\\udfff\"", SC_ERR_JSON},		/* lone low surrogate */
    {"\"\\ud800\\u0041\"", SC_ERR_JSON},	/* high, then no low */
    {"\"\\ud800x\"", SC_ERR_JSON},
    {"\"\\ud83d\"", SC_ERR_JSON},		/* at the end */
    {"{\"a\\u0000b\":1}", SC_ERR_JSON},	/* NUL in a name */
    {"{\"x\":1,\"\\u0000\":2}", SC_ERR_JSON},
    {"{\"a\":\"x\\u0000y\"}", SC_OK},	/* NUL in a value */
    {"[\"\\u0000\"]", SC_OK},
    {"\"\xf4\x8f\xbf\xbf\"", SC_OK},	/* U+10FFFF */
    {"\"\xee\x80\x80\xef\xbf\xbf\"", SC_OK},
    {"\"\\\\ud800\"", SC_OK}, /* an escaped backslash, then text */
    {"\"\\uDBFF\\uDFFF\"", SC_OK},
};

static void test_parse_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		json_object *o = (json_object *)&o; /* must stay on error */
		sc_error err;
		sc_err rc;

		sc_error_clear(&err);
		rc = sc_json_parse(c->text, strlen(c->text), &o, &err);
		if (rc != c->rc)
			fail_msg("parse '%s': got %s (%s), want %s", c->text,
				 sc_strerror(rc), err.message,
				 sc_strerror(c->rc));
		if (rc == SC_OK) {
			json_object_put(o);
		} else {
			assert_ptr_equal(o, (json_object *)&o);
			assert_int_equal(err.code, rc);
			assert_true(err.message[0] != '\0');
		}
	}
}

static void test_parse_len_and_nul(void **state)
{
	json_object *o = NULL;
	const char with_nul[] = "[1]\0 x";

	(void)state;
	/* Only len bytes count: the rest of the buffer is not looked at. */
	assert_int_equal(sc_json_parse("[1]xyz", 3, &o, NULL), SC_OK);
	assert_int_equal(json_object_array_length(o), 1);
	json_object_put(o);
	assert_int_equal(sc_json_parse("12345", 2, &o, NULL), SC_OK);
	assert_int_equal(json_object_get_int(o), 12);
	json_object_put(o);
	/* A NUL byte inside the text is not the end of it. */
	assert_int_equal(
	    sc_json_parse(with_nul, sizeof(with_nul) - 1, &o, NULL),
	    SC_ERR_JSON);
	/* The literal null gives NULL. */
	o = (json_object *)&o;
	assert_int_equal(sc_json_parse(" null ", 6, &o, NULL), SC_OK);
	assert_null(o);
}

static char *nested(size_t depth, char open, char close)
{
	char *s = malloc(2 * depth + 1);

	assert_non_null(s);
	memset(s, open, depth);
	memset(s + depth, close, depth);
	s[2 * depth] = '\0';
	return s;
}

static void test_parse_depth(void **state)
{
	static const size_t depths[] = {SC_JSON_MAX_DEPTH + 1, 1000, 100000};
	json_object *o = NULL;
	sc_error err;
	char *s;
	size_t i;

	(void)state;
	s = nested(SC_JSON_MAX_DEPTH, '[', ']');
	assert_int_equal(sc_json_parse(s, strlen(s), &o, &err), SC_OK);
	assert_int_equal(sc_json_depth(o), SC_JSON_MAX_DEPTH);
	json_object_put(o);
	free(s);
	/* Past the first, shallow tokener (sc_json_parse retries deeper):
	 * a text nested 100 levels parses, and an error deep inside it is
	 * a syntax error at its byte, not a depth error. */
	s = nested(100, '[', ']');
	assert_int_equal(sc_json_parse(s, strlen(s), &o, &err), SC_OK);
	assert_int_equal(sc_json_depth(o), 100);
	json_object_put(o);
	s[100] = 'x';
	o = NULL;
	assert_int_equal(sc_json_parse(s, strlen(s), &o, &err), SC_ERR_JSON);
	assert_null(o);
	assert_non_null(strstr(err.message, "at byte 100"));
	free(s);
	for (i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
		s = nested(depths[i], '[', ']');
		o = NULL;
		assert_int_equal(sc_json_parse(s, strlen(s), &o, &err),
				 SC_ERR_TOO_DEEP);
		assert_null(o);
		assert_int_equal(err.code, SC_ERR_TOO_DEEP);
		free(s);
	}
	/* Deep objects too, unterminated: still a depth error. */
	s = malloc(1000 * 5 + 1);
	assert_non_null(s);
	for (i = 0; i < 1000; i++)
		memcpy(s + 5 * i, "{\"a\":", 5);
	s[5000] = '\0';
	assert_int_equal(sc_json_parse(s, strlen(s), &o, &err),
			 SC_ERR_TOO_DEEP);
	free(s);
}

static const struct eq_case {
	const char *a, *b;
	int equal;
} eq_cases[] = {
    {"1", "1", 1},
    {"1", "1.0", 1},
    {"1.0", "1.00", 1},
    {"100", "1e2", 1},
    {"0", "-0.0", 1},
    {"0.0", "-0", 1},
    {"-5", "-5.0", 1},
    {"1.5", "1.50", 1},
    {"1.5", "1.25", 0},
    {"1", "2", 0},
    {"1", "1.0000001", 0},
    {"-1", "18446744073709551615", 0},
    {"9223372036854775807", "9223372036854775807", 1},
    {"9223372036854775808", "9223372036854775808", 1},
    {"9223372036854775808", "9.223372036854775808e18", 1},
    {"9223372036854775807", "9223372036854775808", 0},
    {"18446744073709551615", "18446744073709551615", 1},
    {"18446744073709551615", "1.8446744073709552e19", 0},
    {"-9223372036854775808", "-9.223372036854775808e18", 1},
    {"1e300", "1e300", 1},
    {"1", "true", 0},
    {"0", "false", 0},
    {"0", "null", 0},
    {"null", "null", 1},
    {"true", "true", 1},
    {"true", "false", 0},
    {"\"1\"", "1", 0},
    {"\"a\"", "\"a\"", 1},
    {"\"a\"", "\"b\"", 0},
    {"\"a\\u0000b\"", "\"a\\u0000b\"", 1},
    {"\"a\\u0000b\"", "\"a\\u0000c\"", 0},
    {"\"a\"", "\"a\\u0000\"", 0},
    {"\"\"", "[]", 0},
    {"[]", "{}", 0},
    {"[]", "[]", 1},
    {"{}", "{}", 1},
    {"[1,2]", "[1,2]", 1},
    {"[1,2]", "[2,1]", 0},
    {"[1,2]", "[1,2,3]", 0},
    {"[1,[2.0]]", "[1.0,[2]]", 1},
    {"[null]", "[]", 0},
    {"[null]", "[null]", 1},
    {"{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}", 1},
    {"{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1.0}", 1},
    {"{\"a\":1,\"b\":2}", "{\"a\":2,\"b\":1}", 0},
    {"{\"a\":null}", "{}", 0},
    {"{\"a\":null}", "{\"b\":null}", 0},
    {"{\"a\":null}", "{\"a\":null}", 1},
    {"{\"a\":{\"x\":[1,{}]}}", "{\"a\":{\"x\":[1,{}]}}", 1},
    {"{\"a\":{\"x\":[1,{}]}}", "{\"a\":{\"x\":[1,[]]}}", 0},
    {"{\"\":1,\"~\":2,\"/\":3}", "{\"/\":3,\"~\":2,\"\":1}", 1},
};

static void test_equal_and_hash(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(eq_cases) / sizeof(eq_cases[0]); i++) {
		const struct eq_case *c = &eq_cases[i];
		json_object *a = J(c->a), *b = J(c->b);

		if (sc_json_equal(a, b) != c->equal ||
		    sc_json_equal(b, a) != c->equal)
			fail_msg("equal(%s, %s) != %d", c->a, c->b, c->equal);
		assert_true(sc_json_equal(a, a));
		if (c->equal && sc_json_hash(a) != sc_json_hash(b))
			fail_msg("hash(%s) != hash(%s)", c->a, c->b);
		/* Unequal values may collide, but not these small ones. */
		if (!c->equal && sc_json_hash(a) == sc_json_hash(b))
			fail_msg("hash(%s) == hash(%s)", c->a, c->b);
		json_object_put(a);
		json_object_put(b);
	}
}

static void test_equal_built(void **state)
{
	json_object *i = json_object_new_int64(3);
	json_object *d = json_object_new_double(3.0);
	json_object *u = json_object_new_uint64(3);
	json_object *big = json_object_new_uint64(UINT64_MAX);
	json_object *neg = json_object_new_int64(INT64_MIN);

	(void)state;
	assert_true(sc_json_equal(i, d));
	assert_true(sc_json_equal(i, u));
	assert_true(sc_json_equal(u, d));
	assert_true(sc_json_hash(i) == sc_json_hash(d));
	assert_true(sc_json_hash(u) == sc_json_hash(d));
	assert_false(sc_json_equal(big, neg));
	assert_false(sc_json_equal(big, i));
	assert_true(sc_json_equal(NULL, NULL));
	assert_false(sc_json_equal(NULL, i));
	assert_false(sc_json_equal(i, NULL));
	json_object_put(i);
	json_object_put(d);
	json_object_put(u);
	json_object_put(big);
	json_object_put(neg);
}

static void test_copy(void **state)
{
	json_object *src =
	    J("{\"a\":[1,{\"b\":null}],\"n\":18446744073709551615,"
	      "\"d\":1.10,\"s\":\"x\\u0000y\"}");
	json_object *dst = NULL, *a1, *a2;
	size_t len;

	(void)state;
	assert_int_equal(sc_json_copy(src, &dst), SC_OK);
	assert_non_null(dst);
	assert_ptr_not_equal(src, dst);
	assert_true(sc_json_equal(src, dst));
	assert_string_equal(
	    T(dst, &len),
	    "{\"a\":[1,{\"b\":null}],\"n\":18446744073709551615,"
	    "\"d\":1.10,\"s\":\"x\\u0000y\"}");
	assert_true(json_object_object_get_ex(src, "a", &a1));
	assert_true(json_object_object_get_ex(dst, "a", &a2));
	assert_ptr_not_equal(a1, a2);
	assert_ptr_not_equal(json_object_array_get_idx(a1, 1),
			     json_object_array_get_idx(a2, 1));
	/* Changing the copy leaves the source alone. */
	json_object_array_add(a2, json_object_new_int(7));
	assert_false(sc_json_equal(src, dst));
	assert_int_equal(json_object_array_length(a1), 2);
	json_object_put(dst);
	json_object_put(src);

	dst = (json_object *)&dst;
	assert_int_equal(sc_json_copy(NULL, &dst), SC_OK);
	assert_null(dst);
}

static void test_depth(void **state)
{
	static const struct {
		const char *text;
		size_t depth;
	} cases[] = {
	    {"1", 1},
	    {"null", 1},
	    {"\"x\"", 1},
	    {"[]", 1},
	    {"{}", 1},
	    {"[1]", 1},
	    {"[[1]]", 2},
	    {"[[],[[]],1]", 3},
	    {"{\"a\":[{}]}", 3},
	    {"{\"a\":1,\"b\":{\"c\":{}}}", 3},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *o = J(cases[i].text);

		if (sc_json_depth(o) != cases[i].depth)
			fail_msg("depth(%s) = %zu, want %zu", cases[i].text,
				 sc_json_depth(o), cases[i].depth);
		json_object_put(o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_table),
	    cmocka_unit_test(test_parse_len_and_nul),
	    cmocka_unit_test(test_parse_depth),
	    cmocka_unit_test(test_equal_and_hash),
	    cmocka_unit_test(test_equal_built),
	    cmocka_unit_test(test_copy),
	    cmocka_unit_test(test_depth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
