/*
 * tests/json/test_quick.c — the quick parse (json/quick.h): it takes the
 * common texts, gives up on the rest, and what it takes json-c's strict
 * tokener takes too, with the same value (printed by json-c, so the
 * types, the key order and the numbers' text must all agree), on random
 * texts and random corruptions of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json/quick.h"
#include "json/value.h"
#include "tests/support.h"

/* json-c's strict tokener on the whole text: the value's plain text
 * into out (cap bytes); 0 when it refuses the text. */
static int reference(const char *text, size_t len, char *out, size_t cap)
{
	struct json_tokener *tok = json_tokener_new_ex(SC_JSON_MAX_DEPTH);
	json_object *o;
	size_t end;
	int ok;

	assert_non_null(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)len);
	ok = json_tokener_get_error(tok) == json_tokener_success;
	end = json_tokener_get_parse_end(tok);
	while (ok && end < len && strchr(" \t\n\r", text[end]) != NULL)
		end++;
	ok = ok && end == len;
	if (ok)
		snprintf(out, cap, "%s",
			 json_object_to_json_string_ext(
			     o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	json_tokener_free(tok);
	return ok;
}

/* Checks one text; returns whether the quick parse took it. */
static int check(const char *text, size_t len)
{
	static char want[1 << 16];
	json_object *o = NULL;
	int r = sc_json_quick_parse(text, len, &o);

	assert_true(r == 0 || r == 1);
	if (r == 0) {
		assert_null(o);
		return 0;
	}
	if (!reference(text, len, want, sizeof(want)))
		fail_msg("quick took what json-c refuses: %.*s", (int)len,
			 text);
	if (strcmp(want, json_object_to_json_string_ext(
			     o, JSON_C_TO_STRING_PLAIN)) != 0)
		fail_msg("quick: %s\njson-c: %s\ntext: %.*s",
			 json_object_to_json_string_ext(
			     o, JSON_C_TO_STRING_PLAIN),
			 want, (int)len, text);
	json_object_put(o);
	return 1;
}

static void test_common_texts(void **state)
{
	static const char *const taken[] = {
	    "[{\"op\":\"replace\",\"path\":\"/n\",\"value\":5}]",
	    " {\"event\":\"add\",\"payload\":{\"name\":\"milk\",\"qty\":-2,"
	    "\"done\":false,\"tags\":[],\"note\":null}} \n",
	    "{\"s\":\"tab\\there \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\","
	    "\"caf\xc3\xa9\":\"\xe2\x82\xac \xf0\x9f\x98\x80\"}",
	    "[[[[1]]],{},[],\"\",0,-1,123456789012345678]",
	};
	static const char *const left[] = {
	    "1", "\"a\"", "null", "[1.5]", "[1e3]", "[-0]", "[01]",
	    "[1234567890123456789]", "[\"\\u00e9\"]", "{\"a\":1,\"a\":2}",
	    "[1,]", "{\"a\":1,}", "[1] [2]", "[\"\x01\"]", "[\"\xc0\xaf\"]",
	    "[\"\xed\xa0\x80\"]", "[tru]", "[nul]", "['a']", "[1 2]",
	    "{\"a\" 1}", "{1:2}", "[\"a\\x\"]", "[NaN]", "[-]", "[\xef\xbb\xbf]",
	};
	char deep[80];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(taken) / sizeof(*taken); i++)
		if (!check(taken[i], strlen(taken[i])))
			fail_msg("not taken: %s", taken[i]);
	for (i = 0; i < sizeof(left) / sizeof(*left); i++)
		if (check(left[i], strlen(left[i])))
			fail_msg("taken: %s", left[i]);
	/* 33 levels: past the quick parse's depth. */
	memset(deep, '[', 33);
	memset(deep + 33, ']', 33);
	assert_false(check(deep, 66));
	assert_true(check(deep + 1, 64));
	/* What sc_json_parse gives for a common text is the quick value. */
	{
		json_object *o = NULL;
		sc_error err;

		assert_int_equal(sc_json_parse(taken[0], strlen(taken[0]), &o,
					       &err),
				 SC_OK);
		assert_string_equal(
		    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
		    "[{\"op\":\"replace\",\"path\":\"\\/n\",\"value\":5}]");
		json_object_put(o);
	}
}

/* --- random texts ------------------------------------------------------ */

static unsigned long long rng = 88172645463325252ULL;

static unsigned pick(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

typedef struct gen {
	char buf[8192];
	size_t len;
} gen;

static void put(gen *g, const char *s)
{
	size_t n = strlen(s);

	if (g->len + n < sizeof(g->buf))
		memcpy(g->buf + g->len, s, n), g->len += n;
}

static void ws(gen *g)
{
	static const char *const w[] = {"", "", "", " ", "\n", "\t ", "\r\n"};

	put(g, w[pick(7)]);
}

static void str(gen *g)
{
	static const char *const parts[] = {
	    "a", "op", "path", "/n", " ", "\\\"", "\\\\", "\\/", "\\n",
	    "\\t", "\\u00e9", "\\ud83d\\ude00", "\xc3\xa9", "\xe2\x82\xac",
	    "\xf0\x9f\x98\x80", "x y", "0", "\\b", "\\u0000"};
	unsigned i, n = pick(4);

	put(g, "\"");
	for (i = 0; i < n; i++)
		put(g, parts[pick(sizeof(parts) / sizeof(*parts))]);
	put(g, "\"");
}

static void val(gen *g, int depth)
{
	static const char *const nums[] = {
	    "0", "1", "-1", "42", "-0", "1.5", "2e3", "-7E-2", "0.0",
	    "123456789012345678", "-123456789012345678",
	    "1234567890123456789", "9223372036854775807",
	    "18446744073709551615", "99999999999999999999", "007"};
	unsigned k = pick(depth > 4 ? 6 : 9);
	unsigned i, n;

	switch (k) {
	case 0:
		put(g, nums[pick(sizeof(nums) / sizeof(*nums))]);
		break;
	case 1:
		str(g);
		break;
	case 2:
		put(g, pick(2) ? "true" : "false");
		break;
	case 3:
		put(g, "null");
		break;
	case 4:
	case 5:
		put(g, nums[pick(4)]);
		break;
	case 6:
	case 7:
		put(g, "[");
		n = pick(5);
		for (i = 0; i < n; i++) {
			ws(g);
			val(g, depth + 1);
			ws(g);
			if (i + 1 < n)
				put(g, ",");
		}
		put(g, "]");
		break;
	default:
		put(g, "{");
		n = pick(5);
		for (i = 0; i < n; i++) {
			ws(g);
			/* Keys repeat now and then. */
			if (pick(6) == 0)
				put(g, "\"k\"");
			else
				str(g);
			ws(g);
			put(g, ":");
			ws(g);
			val(g, depth + 1);
			if (i + 1 < n)
				put(g, ",");
		}
		put(g, "}");
		break;
	}
}

static void test_random_texts(void **state)
{
	static const char junk[] = "{}[],:\"\\ 0-.eE+tfnu\x01\x80\xc3\xff";
	static gen g, v;
	int taken = 0, i, m;

	(void)state;
	for (i = 0; i < 40000; i++) {
		v.len = 0;
		val(&v, 0);
		v.buf[v.len] = '\0';
		g.len = 0;
		ws(&g);
		/* A scalar is wrapped: most texts are containers. */
		if (v.buf[0] == '[' || v.buf[0] == '{') {
			put(&g, v.buf);
		} else {
			put(&g, "[");
			put(&g, v.buf);
			put(&g, "]");
		}
		ws(&g);
		/* Half are corrupted: a byte replaced, dropped or added. */
		for (m = pick(2) ? (int)pick(3) : 0; m > 0 && g.len > 1; m--) {
			size_t at = pick((unsigned)g.len);
			char c = junk[pick(sizeof(junk) - 1)];

			switch (pick(3)) {
			case 0:
				g.buf[at] = c;
				break;
			case 1:
				memmove(g.buf + at, g.buf + at + 1,
					g.len - at - 1);
				g.len--;
				break;
			default:
				if (g.len + 1 < sizeof(g.buf)) {
					memmove(g.buf + at + 1, g.buf + at,
						g.len - at);
					g.buf[at] = c;
					g.len++;
				}
			}
		}
		taken += check(g.buf, g.len);
	}
	/* The quick parse does take a good part of them. */
	assert_true(taken > 4000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_common_texts),
	    cmocka_unit_test(test_random_texts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
