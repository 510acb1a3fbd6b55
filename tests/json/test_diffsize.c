/*
 * tests/json/test_diffsize.c — the compact text of json-c values as
 * json/diffsize.h counts and writes it: for strings of every length up to
 * 40 with each kind of byte (plain, UTF-8, each one json-c escapes) at
 * each position, and for awkward values, the size counted, the text
 * written and json-c's own text (JSON_C_TO_STRING_PLAIN |
 * NOSLASHESCAPE) are one; a writer one byte short of room fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json/diffsize.h"
#include "json/value.h"

/* Checks that o's counted size, written text and json-c's text agree,
 * and that one byte less room is refused. */
static void check_value(json_object *o)
{
	struct sc_diffsize_known known = {0};
	size_t size = 0, want_len;
	const char *want = sc_json_text(o, &want_len);
	char buf[256];
	struct sc_diffsize_out out = {buf, buf + sizeof(buf)};

	assert_non_null(want);
	assert_true(want_len < sizeof(buf));
	assert_int_equal(sc_diffsize_value(&known, o, 1, SIZE_MAX, &size),
			 SC_OK);
	assert_int_equal(size, want_len);
	assert_int_equal(sc_diffsize_write(&out, o, 1), SC_OK);
	if ((size_t)(out.p - buf) != want_len ||
	    memcmp(buf, want, want_len) != 0)
		fail_msg("wrote %.*s, json-c %s", (int)(out.p - buf), buf,
			 want);
	out.p = buf;
	out.end = buf + want_len - 1;
	assert_int_equal(sc_diffsize_write(&out, o, 1), SC_ERR_TOO_BIG);
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
				assert_int_equal(
				    sc_diffsize_string(s, n),
				    strlen(sc_json_text(o, NULL)));
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
	    "9223372036854775807", "18446744073709551615", "1.10", "1e3",
	    "-0.0", "2.5E-3", "[]", "{}", "[1,[2,[3]],{\"a\":null}]",
	    "{\"k\\\"/\":\"v\\u0001\",\"\":[true,false]}",
	    "{\"id\":1,\"label\":\"pretty red table\"}"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		json_object *o = NULL;

		assert_int_equal(
		    sc_json_parse(texts[i], strlen(texts[i]), &o, NULL), SC_OK);
		if (o != NULL) /* null is checked by sc_diff's tests */
			check_value(o);
		json_object_put(o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
