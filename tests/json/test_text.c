/*
 * tests/json/test_text.c — our own compact serializer (json/text.h)
 * against json-c's text (JSON_C_TO_STRING_PLAIN | NOSLASHESCAPE), byte for
 * byte: strings of every length up to 40 with each kind of byte (plain,
 * UTF-8, each one json-c escapes) at each position; awkward values
 * (integers at the 64-bit limits, parsed and built doubles, -0.0, 1e300,
 * NaN); random trees of every kind of value, nested up to
 * SC_JSON_MAX_DEPTH; a fixed room one byte short refused, a growing
 * buffer's cap kept, a value too deep refused, and no leak when an
 * allocation fails.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "json/text.h"
#include "json/value.h"
#include "tests/support.h"

/* Checks that o's counted size, the text written into fixed room and
 * into a growing buffer, and json-c's text agree (T() checks the growing
 * one), and that one byte less room is refused. */
static void check_value(json_object *o)
{
	size_t size = 0, want_len;
	const char *want = T(o, &want_len);
	char buf[256];
	struct sc_text_out out = {buf, buf + sizeof(buf), NULL};

	assert_true(want_len < sizeof(buf));
	assert_int_equal(sc_text_count(o, 1, SIZE_MAX, &size), SC_OK);
	assert_int_equal(size, want_len);
	assert_int_equal(sc_text_put_value(&out, o, 1), SC_OK);
	if ((size_t)(out.p - buf) != want_len ||
	    memcmp(buf, want, want_len) != 0)
		fail_msg("wrote %.*s, json-c %s", (int)(out.p - buf), buf,
			 want);
	out.p = buf;
	out.end = buf + want_len - 1;
	assert_int_equal(sc_text_put_value(&out, o, 1), SC_ERR_TOO_BIG);
	assert_true(out.p <= out.end);
}

static void test_strings(void **state)
{
	static const char specials[] = {'"', '\\', '\n', '\t', '\b', '\f',
					'\r', 0x01, 0x1f, 0x00, 0x7f, '/'};
	char s[41];
	size_t n, at, k;

	(void)state;
	for (n = 0; n <= 40; n++) {
		for (at = 0; at <= n; at++) {
			for (k = 0; k <= sizeof(specials); k++) {
				json_object *o;

				memset(s, 'a', n);
				/* UTF-8 (bytes >= 0x80) is never escaped */
				if (n >= 2 && at + 2 <= n && k == 0)
					memcpy(s + at, "\xc3\xa9", 2);
				if (at < n && k > 0)
					s[at] = specials[k - 1];
				o = json_object_new_string_len(s, (int)n);
				check_value(o);
				assert_int_equal(sc_text_string_size(s, n),
						 strlen(T(o, NULL)));
				json_object_put(o);
			}
		}
	}
}

static void test_values(void **state)
{
	static const char *const texts[] = {
	    "null", "true", "false", "0", "-1", "9", "10", "99", "100",
	    "9999", "10000", "123456789", "-9223372036854775808",
	    "9223372036854775807", "9223372036854775808",
	    "18446744073709551615", "1.10", "1e3", "-0.0", "2.5E-3", "1.0",
	    "1e300", "-1e-300", "0.1", "123456789012345678901234567890.5",
	    "[]", "{}", "[1,[2,[3]],{\"a\":null}]",
	    "{\"k\\\"/\":\"v\\u0001\",\"\":[true,false]}",
	    "{\"id\":1,\"label\":\"pretty red table\"}",
	    " { \"a\" : \"x/y\" , \"b\" : [ 1 , 2.50 ] } "};
	size_t i, len = 0;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		json_object *o = J(texts[i]);

		check_value(o);
		json_object_put(o);
	}
	/* a parsed double keeps its text; spaces go */
	{
		json_object *o = J(" { \"a\" : \"x/y\" , \"b\" : [ 1 , 2.50 ] } ");

		assert_string_equal(T(o, &len),
				    "{\"a\":\"x/y\",\"b\":[1,2.50]}");
		json_object_put(o);
	}
	assert_string_equal(T(NULL, &len), "null");
	assert_int_equal(len, 4);
}

/* Doubles built, not parsed: json-c's default format, and what only
 * json-c prints (NaN, a userdata that is not a number's text). */
static void test_built_numbers(void **state)
{
	static const double ds[] = {0.0,     -0.0,	 1.0,	 3.0,
				    -2.5,    0.1,	 1e22,	 1e21,
				    1e300,   -1e-300,	 5e-324, 1.7976931348623157e308,
				    123456789012345678.0, 1.0 / 3, 100.0, 1e16};
	json_object *o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ds) / sizeof(ds[0]); i++) {
		o = json_object_new_double(ds[i]);
		check_value(o);
		json_object_put(o);
	}
	o = json_object_new_double(NAN);
	check_value(o);
	json_object_put(o);
	o = json_object_new_double(-INFINITY);
	check_value(o);
	json_object_put(o);
	/* text of one's own, as json-c keeps it */
	o = json_object_new_double_s(1.5, "1.50");
	check_value(o);
	json_object_put(o);
	o = json_object_new_double_s(1.5, "one and a half");
	check_value(o);
	json_object_put(o);
	/* set again: the parsed text goes */
	o = J("2.50");
	json_object_set_double(o, 7.0);
	check_value(o);
	json_object_put(o);
	o = json_object_new_int64(INT64_MIN);
	check_value(o);
	json_object_put(o);
	o = json_object_new_int64(INT64_MAX);
	check_value(o);
	json_object_put(o);
	o = json_object_new_uint64(UINT64_MAX);
	check_value(o);
	json_object_put(o);
	o = json_object_new_uint64((uint64_t)INT64_MAX + 1);
	check_value(o);
	json_object_put(o);
}

/* A small deterministic generator (xorshift64*). */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

/* A random string: plain ASCII, every byte json-c escapes, UTF-8 of
 * 2, 3 and 4 bytes, "/" and DEL. */
static json_object *rnd_string(void)
{
	static const char *const pieces[] = {
	    "a", "Z", "0", " ", "/", "\x7f", "\"", "\\", "\xc3\xa9",
	    "\xe2\x82\xac", "\xf0\x9f\x98\x80", "pretty red table"};
	char s[128];
	size_t n = 0, k = rnd() % 24, i;

	for (i = 0; i < k; i++) {
		if (rnd() % 4 == 0) {
			s[n++] = (char)(rnd() % 0x20); /* NUL too */
		} else {
			const char *p = pieces[rnd() % (sizeof(pieces) /
							 sizeof(pieces[0]))];
			size_t m = strlen(p);

			if (n + m > sizeof(s))
				break;
			memcpy(s + n, p, m);
			n += m;
		}
	}
	return json_object_new_string_len(s, (int)n);
}

/* A random key: a string without NUL (json-c keys are C strings). */
static void rnd_key(char *k, size_t cap)
{
	json_object *s = rnd_string();
	const char *p = json_object_get_string(s);
	size_t i, n = 0, len = (size_t)json_object_get_string_len(s);

	for (i = 0; i < len && n + 1 < cap; i++)
		if (p[i] != '\0')
			k[n++] = p[i];
	k[n] = '\0';
	json_object_put(s);
}

static json_object *rnd_number(void)
{
	static const char *const parsed[] = {"1.0",  "1e300", "-0.0",
					     "1.10", "2E-3",  "0.5e+10"};
	static const int64_t ints[] = {0, -1, 1, INT64_MIN, INT64_MAX, 10,
				       -9999999999LL};

	switch (rnd() % 5) {
	case 0:
		return J(parsed[rnd() % (sizeof(parsed) / sizeof(parsed[0]))]);
	case 1:
		return json_object_new_int64(
		    ints[rnd() % (sizeof(ints) / sizeof(ints[0]))]);
	case 2:
		return json_object_new_uint64((uint64_t)INT64_MAX + 1 +
					      rnd() % ((uint64_t)INT64_MAX));
	case 3: {
		uint64_t bits = rnd();
		double d;

		memcpy(&d, &bits, sizeof(d));
		if (!isfinite(d))
			d = (double)(int64_t)bits / 7.0;
		return json_object_new_double(d);
	}
	default:
		return json_object_new_int64((int64_t)rnd());
	}
}

/* A random tree nesting at most depth more levels; a few chains go as
 * deep as depth allows. */
static json_object *rnd_tree(size_t depth)
{
	json_object *o;
	size_t n, i;
	char key[128];
	int deep = rnd() % 8 == 0;

	switch (depth == 1 ? rnd() % 6 : rnd() % 8) {
	case 0:
		return NULL;
	case 1:
		return json_object_new_boolean(rnd() % 2);
	case 2:
	case 3:
		return rnd_number();
	case 4:
	case 5:
		return rnd_string();
	case 6:
		o = json_object_new_array();
		n = deep ? 1 : rnd() % 5;
		for (i = 0; i < n; i++)
			json_object_array_add(o, rnd_tree(depth - 1));
		return o;
	default:
		o = json_object_new_object();
		n = deep ? 1 : rnd() % 5;
		for (i = 0; i < n; i++) {
			rnd_key(key, sizeof(key));
			json_object_object_add(o, key, rnd_tree(depth - 1));
		}
		return o;
	}
}

/* A chain of depth containers (arrays and objects by turns) around a
 * random scalar: it nests depth levels. */
static json_object *chain(size_t depth)
{
	json_object *o = rnd_tree(1), *c;
	size_t i;

	for (i = 0; i < depth; i++) {
		if (i % 2) {
			c = json_object_new_array();
			json_object_array_add(c, o);
		} else {
			c = json_object_new_object();
			json_object_object_add(c, "k/\"", o);
		}
		o = c;
	}
	return o;
}

static void test_random_trees(void **state)
{
	size_t i, size;
	json_object *o;

	(void)state;
	for (i = 0; i < 3000; i++) {
		o = rnd_tree(1 + rnd() % 12);
		(void)T(o, NULL);
		json_object_put(o);
	}
	/* the deepest documents the parser takes */
	for (i = 0; i < 20; i++) {
		o = chain(SC_JSON_MAX_DEPTH - i % 3);
		(void)T(o, NULL);
		assert_int_equal(sc_text_size(o, &size), SC_OK);
		json_object_put(o);
	}
}

/* Past SC_JSON_MAX_DEPTH + 2 the writer refuses, past SC_JSON_MAX_DEPTH
 * the counter, and a refused write leaves the buffer's text as it was. */
static void test_too_deep(void **state)
{
	json_object *o = chain(SC_JSON_MAX_DEPTH + 2);
	sc_buf b = {0};
	size_t size = 0;

	(void)state;
	assert_int_equal(sc_buf_add(&b, "x", 1), SC_OK);
	assert_int_equal(sc_text_write(&b, o), SC_OK);
	assert_int_equal(sc_text_size(o, &size), SC_ERR_TOO_DEEP);
	json_object_put(o);
	o = chain(SC_JSON_MAX_DEPTH + 3);
	b.len = 1;
	assert_int_equal(sc_text_write(&b, o), SC_ERR_TOO_DEEP);
	assert_int_equal(b.len, 1);
	assert_string_equal(b.p, "x");
	json_object_put(o);
	sc_buf_free(&b);
}

/* A growing buffer stops at its max with its text as it was; a text
 * that fits exactly is written. */
static void test_cap(void **state)
{
	json_object *o = J("{\"rows\":[{\"id\":1,\"label\":\"a\\nb\"},"
			   "{\"id\":2,\"label\":\"\\u0001\\u0002\\u0003\"}]}");
	size_t n = 0, max;
	sc_buf b = {0};

	(void)state;
	(void)T(o, &n);
	for (max = 1; max <= n; max++) {
		b.max = max;
		assert_int_equal(sc_buf_add(&b, "[", 1), SC_OK);
		assert_int_equal(sc_text_write(&b, o),
				 max >= n + 1 ? SC_OK : SC_ERR_TOO_BIG);
		if (max < n + 1)
			assert_int_equal(b.len, 1);
		sc_buf_free(&b);
	}
	b.max = n + 1;
	assert_int_equal(sc_buf_add(&b, "[", 1), SC_OK);
	assert_int_equal(sc_text_write(&b, o), SC_OK);
	assert_int_equal(b.len, n + 1);
	assert_int_equal(memcmp(b.p + 1, T(o, NULL), n), 0);
	sc_buf_free(&b);
	json_object_put(o);
}

/* Every allocation the writer makes may fail: SC_ERR_NOMEM, the text as
 * it was, nothing leaked (ASan). */
static void test_nomem(void **state)
{
	json_object *o = rnd_tree(8), *big = json_object_new_array();
	sc_buf b = {0};
	long k;
	sc_err rc;
	size_t i;

	(void)state;
	for (i = 0; i < 200; i++)
		json_object_array_add(big, json_object_get(o));
	for (k = 0;; k++) {
		sc_alloc_fail_after(k);
		rc = sc_text_write(&b, big);
		sc_alloc_fail_after(-1);
		if (rc == SC_OK)
			break;
		assert_int_equal(rc, SC_ERR_NOMEM);
		assert_int_equal(b.len, 0);
		sc_buf_free(&b);
	}
	assert_true(k > 0);
	assert_int_equal(memcmp(b.p, T(big, NULL), b.len), 0);
	sc_buf_free(&b);
	json_object_put(big);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_built_numbers),
	    cmocka_unit_test(test_random_trees),
	    cmocka_unit_test(test_too_deep),
	    cmocka_unit_test(test_cap),
	    cmocka_unit_test(test_nomem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
