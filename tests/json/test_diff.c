/*
 * tests/json/test_diff.c — sc_diff and sc_diff_text (json/diff.h): a
 * {from, to, expected patch or op count} table, the text of awkward
 * scalars, the js-framework-benchmark transitions on a table of rows, the
 * depth bound, the text cap, allocation failures, and a seeded property
 * test: for 20,000 generated pairs (nested objects and arrays, every
 * scalar type, equal numbers 1 and 1.0, awkward keys), applying diff(a,
 * b) to a gives b, diff(a, a) is empty, the patch shares nothing with a
 * (its values may be b's own, by reference), outlives a and b, and is
 * never larger than replacing the whole document.  Every diff checked is
 * made both ways: sc_diff_text's text is byte for byte json-c's text of
 * sc_diff's patch, and it is the text that is parsed and applied.
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
#include "json/diff.h"
#include "json/patch.h"
#include "json/value.h"
#include "tests/support.h"

/* Parses text, which may nest a little deeper than documents may: a
 * patch holding a value of the deepest nesting allowed. */
static json_object *parse_patch(const char *text)
{
	struct json_tokener *tok = json_tokener_new_ex(SC_JSON_MAX_DEPTH + 2);
	json_object *o;

	assert_non_null(tok);
	o = json_tokener_parse_ex(tok, text, (int)strlen(text));
	if (json_tokener_get_error(tok) != json_tokener_success)
		fail_msg("patch text %.200s: %s", text,
			 json_tokener_error_desc(json_tokener_get_error(tok)));
	json_tokener_free(tok);
	return o;
}

/* sc_diff_text(a, b), which must be json-c's text of patch (sc_diff's
 * patch of a and b), with as many ops.  Returns the text (to free). */
static char *check_text(json_object *a, json_object *b, json_object *patch)
{
	size_t len = 0, nops = 0, want_len;
	const char *want = T(patch, &want_len);
	char *text = NULL;
	sc_error err;

	if (sc_diff_text(a, b, SIZE_MAX, &text, &len, &nops, &err) != SC_OK)
		fail_msg("diff_text: %s", err.message);
	if (len != want_len || strcmp(text, want) != 0 || strlen(text) != len)
		fail_msg("diff_text %s -> %s gave %s (%zu bytes), want %s",
			 T(a, NULL), T(b, NULL), text,
			 len, want);
	assert_int_equal(nops, json_object_array_length(patch));
	return text;
}

/* Applies diff(a, b) to a copy of a and checks that it gives b, for the
 * patch of sc_diff and the parsed text of sc_diff_text.  Returns the
 * patch (a new reference). */
static json_object *check_diff(json_object *a, json_object *b)
{
	json_object *patch = NULL, *doc = NULL, *parsed;
	sc_error err;
	char *text;

	if (sc_diff(a, b, &patch, &err) != SC_OK)
		fail_msg("diff: %s", err.message);
	assert_true(json_object_is_type(patch, json_type_array));
	text = check_text(a, b, patch);
	parsed = parse_patch(text);
	free(text);
	assert_int_equal(sc_json_copy(a, &doc), SC_OK);
	if (sc_patch_apply(&doc, parsed, &err) != SC_OK)
		fail_msg("apply %s to %s: %s", T(patch, NULL),
			 T(a, NULL), err.message);
	if (!sc_json_equal(doc, b))
		fail_msg("diff %s -> %s gave %s, which makes %s",
			 T(a, NULL), T(b, NULL),
			 T(patch, NULL), T(doc, NULL));
	json_object_put(parsed);
	json_object_put(doc);
	return patch;
}

static const struct diff_case {
	const char *from;
	const char *to;
	const char *patch; /* the exact patch, or NULL: check ops only */
	int ops;	   /* the op count when patch is NULL */
} cases[] = {
    {"null", "null", "[]", 0},
    {"1", "1.0", "[]", 0},
    {"{\"a\":1,\"b\":[1,2.5]}", "{\"b\":[1.0,2.5],\"a\":1.0}", "[]", 0},
    {"-0.0", "0", "[]", 0},
    {"1", "\"x\"", "[{\"op\":\"replace\",\"path\":\"\",\"value\":\"x\"}]", 0},
    {"null", "{}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":{}}]", 0},
    {"{\"a\":1}", "{\"a\":2}",
     "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":2}]", 0},
    {"{\"a\":1}", "{\"a\":true}",
     "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":true}]", 0},
    {"{\"a\":1,\"b\":2}", "{\"b\":2}", "[{\"op\":\"remove\",\"path\":\"/a\"}]",
     0},
    {"{\"x\":1}", "{\"x\":1,\"a/b\":1}",
     "[{\"op\":\"add\",\"path\":\"/a~1b\",\"value\":1}]", 0},
    {"{\"~\":1,\"k\":0}", "{\"~\":2,\"k\":0}",
     "[{\"op\":\"replace\",\"path\":\"/~0\",\"value\":2}]", 0},
    {"{\"~1\":1,\"k\":0}", "{\"~1\":2,\"k\":0}",
     "[{\"op\":\"replace\",\"path\":\"/~01\",\"value\":2}]", 0},
    {"{\"\":1,\"k\":0}", "{\"\":2,\"k\":0}",
     "[{\"op\":\"replace\",\"path\":\"/\",\"value\":2}]", 0},
    {"{\"0\":[1,2],\"k\":0}", "{\"0\":[1,2,3],\"k\":0}",
     "[{\"op\":\"add\",\"path\":\"/0/-\",\"value\":3}]", 0},
    {"[1,2,3,4,5]", "[1,2,9,3,4,5]",
     "[{\"op\":\"add\",\"path\":\"/2\",\"value\":9}]", 0},
    {"[1,2,3,4,5]", "[1,2,4,5]", "[{\"op\":\"remove\",\"path\":\"/2\"}]", 0},
    {"[1,2,3,4,5]", "[1,2,3,4,5,6]",
     "[{\"op\":\"add\",\"path\":\"/-\",\"value\":6}]", 0},
    {"[1,2,3,4,5]", "[0,1,2,3,4,5]",
     "[{\"op\":\"add\",\"path\":\"/0\",\"value\":0}]", 0},
    {"[1,2,3,4,5,6,7,8]", "[1,2,3,4,5,6,7]",
     "[{\"op\":\"remove\",\"path\":\"/7\"}]", 0},
    {"[[1,2],[3,4],[5,6]]", "[[1,2],[3,5],[5,6]]",
     "[{\"op\":\"replace\",\"path\":\"/1/1\",\"value\":5}]", 0},
    {"{\"a\":[1]}", "{\"a\":{}}",
     "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":{}}]", 0},
    /* Element ops longer than a replace: the container is replaced. */
    {"{\"k\":[1,2,3,4,5,6,7,8,9],\"z\":0}", "{\"k\":[],\"z\":0}",
     "[{\"op\":\"replace\",\"path\":\"/k\",\"value\":[]}]", 0},
    {"[1,2,3]", "[4,5,6]",
     "[{\"op\":\"replace\",\"path\":\"\",\"value\":[4,5,6]}]", 0},
    /* A shift in the middle of a longer array: one remove, one add. */
    {"[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\"]",
     "[\"a\",\"c\",\"d\",\"e\",\"f\",\"g\",\"x\",\"h\"]", NULL, 2},
    /* Changed elements are diffed in place, not removed and added. */
    {"[{\"id\":1,\"label\":\"one\"},{\"id\":2,\"label\":\"two\"},"
     "{\"id\":3,\"label\":\"three\"}]",
     "[{\"id\":1,\"label\":\"one!\"},{\"id\":2,\"label\":\"two\"},"
     "{\"id\":3,\"label\":\"three!\"}]",
     "[{\"op\":\"replace\",\"path\":\"/0/label\",\"value\":\"one!\"},"
     "{\"op\":\"replace\",\"path\":\"/2/label\",\"value\":\"three!\"}]",
     0},
    {"{\"s\":\"a\\\"b\\u0001\",\"t\":1}", "{\"s\":\"a\\\"b\\u0002\",\"t\":1}",
     NULL, 1},
};

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *a = J(cases[i].from), *b = J(cases[i].to);
		json_object *patch = check_diff(a, b), *want;

		if (cases[i].patch != NULL) {
			want = J(cases[i].patch);
			if (strcmp(T(patch, NULL),
				   T(want, NULL)) != 0)
				fail_msg("case %zu: diff %s -> %s gave %s, "
					 "want %s",
					 i, cases[i].from, cases[i].to,
					 T(patch, NULL),
					 cases[i].patch);
			json_object_put(want);
		} else if (json_object_array_length(patch) !=
			   (size_t)cases[i].ops) {
			fail_msg("case %zu: %s has %zu ops, want %d", i,
				 T(patch, NULL),
				 json_object_array_length(patch), cases[i].ops);
		}
		json_object_put(patch);
		json_object_put(a);
		json_object_put(b);
	}
}

/* {"rows":[{"id":first..,"label":"row N"}...],"selected":null} */
static json_object *table(int first, int count)
{
	json_object *doc = json_object_new_object();
	json_object *rows = json_object_new_array();
	char label[64];
	int i;

	for (i = 0; i < count; i++) {
		json_object *row = json_object_new_object();

		snprintf(label, sizeof(label), "pretty red table %d",
			 first + i);
		json_object_object_add(row, "id",
				       json_object_new_int(first + i));
		json_object_object_add(row, "label",
				       json_object_new_string(label));
		json_object_array_add(rows, row);
	}
	json_object_object_add(doc, "rows", rows);
	json_object_object_add(doc, "selected", NULL);
	return doc;
}

static json_object *rows_of(json_object *doc)
{
	json_object *rows = NULL;

	json_object_object_get_ex(doc, "rows", &rows);
	return rows;
}

/* Checks diff(a, b) and returns its op count; *bytes gets its size. */
static size_t ops_of(json_object *a, json_object *b, size_t *bytes)
{
	json_object *patch = check_diff(a, b);
	size_t n = json_object_array_length(patch);

	T(patch, bytes);
	json_object_put(patch);
	json_object_put(a);
	json_object_put(b);
	return n;
}

/* Inserts a new row (of id 5000) into rows at index at, moving the rows
 * from at on one place down. */
static void insert_row(json_object *rows, size_t at)
{
	json_object *tmp;
	size_t i;

	json_object_array_add(rows, NULL);
	for (i = json_object_array_length(rows) - 1; i > at; i--)
		json_object_array_put_idx(
		    rows, i,
		    json_object_get(json_object_array_get_idx(rows, i - 1)));
	tmp = table(5000, 1);
	json_object_array_put_idx(
	    rows, at,
	    json_object_get(json_object_array_get_idx(rows_of(tmp), 0)));
	json_object_put(tmp);
}

static void test_rows(void **state)
{
	json_object *a, *b, *rows, *row, *tmp;
	size_t bytes, n, i;
	char text[64];

	(void)state;
	/* Insert one row near the top: one op. */
	a = table(1, 1000);
	b = table(1, 1000);
	insert_row(rows_of(b), 3);
	assert_int_equal(ops_of(a, b, &bytes), 1);

	/* Remove one row: one op. */
	a = table(1, 1000);
	b = table(1, 1000);
	json_object_array_del_idx(rows_of(b), 500, 1);
	assert_int_equal(ops_of(a, b, &bytes), 1);

	/* Clear 1,000 rows: one small op. */
	a = table(1, 1000);
	b = table(1, 0);
	assert_int_equal(ops_of(a, b, &bytes), 1);
	assert_true(bytes < 60);

	/* Update every 10th label of 10,000: one op per changed row. */
	a = table(1, 10000);
	b = table(1, 10000);
	for (i = 0; i < 10000; i += 10) {
		row = json_object_array_get_idx(rows_of(b), i);
		snprintf(text, sizeof(text), "pretty red table %zu !!!", i + 1);
		json_object_object_add(row, "label",
				       json_object_new_string(text));
	}
	tmp = check_diff(a, b);
	assert_int_equal(json_object_array_length(tmp), 1000);
	assert_string_equal(
	    T(json_object_array_get_idx(tmp, 1), NULL),
	    "{\"op\":\"replace\",\"path\":\"/rows/10/label\","
	    "\"value\":\"pretty red table 11 !!!\"}");
	json_object_put(tmp);
	json_object_put(a);
	json_object_put(b);

	/* Swap rows 2 and 999: small. */
	a = table(1, 1000);
	b = table(1, 1000);
	rows = rows_of(b);
	row = json_object_get(json_object_array_get_idx(rows, 2));
	json_object_array_put_idx(
	    rows, 2, json_object_get(json_object_array_get_idx(rows, 999)));
	json_object_array_put_idx(rows, 999, row);
	n = ops_of(a, b, &bytes);
	assert_true(n >= 2 && n <= 4);
	assert_true(bytes < 300);

	/* A removal and an insertion 20 rows apart in an otherwise equal
	 * table: two ops, not 20 row diffs. */
	a = table(1, 1000);
	b = table(1, 1000);
	json_object_array_del_idx(rows_of(b), 100, 1);
	insert_row(rows_of(b), 120);
	assert_int_equal(ops_of(a, b, &bytes), 2);

	/* Append 1,000 rows to 1,000: adds, each at "-". */
	a = table(1, 1000);
	b = table(1, 2000);
	tmp = check_diff(a, b);
	assert_int_equal(json_object_array_length(tmp), 1000);
	assert_non_null(strstr(
	    T(json_object_array_get_idx(tmp, 0), NULL), "/rows/-"));
	json_object_put(tmp);
	json_object_put(a);
	json_object_put(b);

	/* Create 1,000 rows, replace all 1,000: one replace of /rows. */
	assert_int_equal(ops_of(table(1, 0), table(1, 1000), &bytes), 1);
	assert_int_equal(ops_of(table(1, 1000), table(1001, 1000), &bytes), 1);

	/* Rows shared by both documents (b made from a's row objects), one
	 * of them changed in a copy: one op; shared rows are equal without
	 * a look inside. */
	a = table(1, 1000);
	b = json_object_new_object();
	rows = json_object_new_array();
	for (i = 0; i < 1000; i++)
		json_object_array_add(
		    rows,
		    json_object_get(json_object_array_get_idx(rows_of(a), i)));
	json_object_object_add(b, "rows", rows);
	json_object_object_add(b, "selected", NULL);
	row = NULL;
	assert_int_equal(
	    sc_json_copy(json_object_array_get_idx(rows, 7), &row), SC_OK);
	json_object_object_add(row, "label", json_object_new_string("seven"));
	json_object_array_put_idx(rows, 7, row);
	tmp = check_diff(a, b);
	assert_string_equal(T(tmp, NULL),
			    "[{\"op\":\"replace\",\"path\":\"/rows/7/label\","
			    "\"value\":\"seven\"}]");
	json_object_put(tmp);
	json_object_put(a);
	json_object_put(b);

	/* Select a row. */
	a = table(1, 1000);
	b = table(1, 1000);
	json_object_object_add(b, "selected", json_object_new_int(5));
	assert_int_equal(ops_of(a, b, &bytes), 1);
}

static json_object *nest(int levels)
{
	json_object *o = json_object_new_int(1);
	int i;

	for (i = 0; i < levels; i++) {
		json_object *arr = json_object_new_array();

		json_object_array_add(arr, o);
		o = arr;
	}
	return o;
}

static void test_depth(void **state)
{
	json_object *deep = nest(1000), *ok = nest(SC_JSON_MAX_DEPTH - 1);
	json_object *copy = nest(1000);
	json_object *one = json_object_new_int(1), *patch = NULL;
	char *text = NULL;
	size_t len;
	sc_error err;

	(void)state;
	assert_int_equal(sc_diff(one, deep, &patch, &err), SC_ERR_TOO_DEEP);
	assert_int_equal(err.code, SC_ERR_TOO_DEEP);
	assert_null(patch);
	/* What from holds is walked only where it must be compared: its
	 * removal needs no look inside. */
	json_object_put(check_diff(deep, one));
	assert_int_equal(sc_diff(deep, copy, &patch, &err), SC_ERR_TOO_DEEP);
	assert_null(patch);
	assert_int_equal(sc_diff_text(one, deep, SIZE_MAX, &text, &len, NULL,
				      &err),
			 SC_ERR_TOO_DEEP);
	assert_int_equal(sc_diff_text(deep, copy, SIZE_MAX, &text, &len, NULL,
				      &err),
			 SC_ERR_TOO_DEEP);
	assert_null(text);
	/* The very same object is equal without a look inside. */
	assert_int_equal(sc_diff(deep, deep, &patch, &err), SC_OK);
	assert_int_equal(json_object_array_length(patch), 0);
	json_object_put(patch);
	patch = check_diff(one, ok); /* exactly the limit is fine */
	json_object_put(patch);
	patch = check_diff(ok, one);
	json_object_put(patch);
	json_object_put(deep);
	json_object_put(copy);
	json_object_put(ok);
	json_object_put(one);
}

/* Values in the patch are to's own (new references), not copies: the
 * patch outlives to, and shares nothing with from. */
static void test_shares_to(void **state)
{
	json_object *a = J("{\"k\":[1,2],\"z\":0}");
	json_object *b = J("{\"k\":{\"x\":[3]},\"z\":0}");
	json_object *patch = check_diff(a, b), *value = NULL, *member = NULL;

	(void)state;
	assert_int_equal(json_object_array_length(patch), 1);
	assert_true(json_object_object_get_ex(
	    json_object_array_get_idx(patch, 0), "value", &value));
	assert_true(json_object_object_get_ex(b, "k", &member));
	assert_ptr_equal(value, member);
	json_object_put(b);
	json_object_put(a);
	assert_string_equal(T(patch, NULL),
			    "[{\"op\":\"replace\",\"path\":\"/k\","
			    "\"value\":{\"x\":[3]}}]");
	json_object_put(patch);
}

/* The text is measured before it is written: past the cap nothing is
 * made; at the cap exactly, it is. */
static void test_text_cap(void **state)
{
	json_object *a = J("{\"a\":[1,2,3],\"b\":\"x\",\"c\":\"a string "
			   "long enough to make a replace cost more\"}");
	json_object *b = J("{\"a\":[1,2,3,4],\"b\":\"y\\n\",\"c\":\"a "
			   "string long enough to make a replace cost "
			   "more\"}");
	const char *want = "[{\"op\":\"add\",\"path\":\"/a/-\",\"value\":4},"
			   "{\"op\":\"replace\",\"path\":\"/b\",\"value\":"
			   "\"y\\n\"}]";
	char *text = NULL;
	size_t len = 0, nops = 0;
	long before;
	sc_error err;

	(void)state;
	assert_int_equal(sc_diff_text(a, b, strlen(want), &text, &len, &nops,
				      &err),
			 SC_OK);
	assert_string_equal(text, want);
	assert_int_equal(len, strlen(want));
	assert_int_equal(nops, 2);
	sc_free(text);
	text = NULL;
	sc_alloc_fail_after(1000000);
	assert_int_equal(sc_diff_text(a, b, strlen(want) - 1, &text, &len,
				      NULL, &err),
			 SC_ERR_TOO_BIG);
	before = sc_alloc_count();
	sc_alloc_fail_after(-1);
	assert_int_equal(err.code, SC_ERR_TOO_BIG);
	assert_null(text);
	/* the walk's few small buffers, never one the size of the text */
	assert_true(before < 8);
	/* equal documents: "[]", no op */
	assert_int_equal(sc_diff_text(a, a, 2, &text, &len, &nops, &err),
			 SC_OK);
	assert_string_equal(text, "[]");
	assert_int_equal(len, 2);
	assert_int_equal(nops, 0);
	sc_free(text);
	json_object_put(a);
	json_object_put(b);
}

/* Every allocation of diff failing in turn: SC_ERR_NOMEM or success,
 * never a leak (ASan) or a crash. */
static void test_alloc_failure(void **state)
{
	json_object *a = J("{\"r\":[1,2,3,4,5,6,7,8,9,10,11,12],\"x\":{"
			   "\"a/b\":[[1],[2]]}}");
	json_object *b = J("{\"r\":[1,3,4,5,6,0,7,8,9,10,12,13],\"x\":{"
			   "\"a/b\":[[1],[3]]}}");
	json_object *patch;
	long n, ok = 0;
	sc_err rc;

	(void)state;
	char *text;
	size_t len;

	for (n = 0; n < 64; n++) {
		patch = NULL;
		sc_alloc_fail_after(n);
		rc = sc_diff(a, b, &patch, NULL);
		sc_alloc_fail_after(-1);
		if (rc == SC_OK) {
			ok++;
			json_object_put(check_diff(a, b));
		} else {
			assert_int_equal(rc, SC_ERR_NOMEM);
			assert_null(patch);
		}
		json_object_put(patch);
		text = NULL;
		sc_alloc_fail_after(n);
		rc = sc_diff_text(a, b, SIZE_MAX, &text, &len, NULL, NULL);
		sc_alloc_fail_after(-1);
		if (rc == SC_OK) {
			ok++;
			assert_non_null(text);
		} else {
			assert_int_equal(rc, SC_ERR_NOMEM);
			assert_null(text);
		}
		sc_free(text);
	}
	assert_true(ok > 1);
	json_object_put(a);
	json_object_put(b);
}

/* --- the property test ---------------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)((rng_state >> 16) % n);
}

static const char *const keys[] = {"",	  "~",	"/",   "0",   "~1",
				   "a/b", "a",	"b",   "1",   "-",
				   "~0",  "id", "x y", "\"q", "\xc3\xa9"};
static const char *const strings[] = {
    "", "a", "b", "~", "/", "\\", "\"", "\n", "hello", "\xe2\x82\xac", "1"};

static json_object *gen(int depth);

static json_object *gen_scalar(void)
{
	switch (rnd(9)) {
	case 0:
		return NULL;
	case 1:
		return json_object_new_boolean(rnd(2));
	case 2:
		return json_object_new_int((int32_t)rnd(5) - 2);
	case 3:
		return json_object_new_double((double)rnd(5) - 2); /* 1.0 */
	case 4:
		return json_object_new_double(rnd(100) / 8.0 - 3);
	case 5:
		return json_object_new_int64(rnd(2) ? INT64_MAX : INT64_MIN);
	case 6:
		return json_object_new_uint64(UINT64_MAX - rnd(2));
	default:
		return json_object_new_string(
		    strings[rnd(sizeof(strings) / sizeof(strings[0]))]);
	}
}

static json_object *gen(int depth)
{
	json_object *o;
	uint32_t i, n, kind = depth <= 0 ? 0 : rnd(3);

	if (kind == 0)
		return gen_scalar();
	n = rnd(kind == 1 ? 7 : 5);
	if (kind == 1) {
		o = json_object_new_array();
		for (i = 0; i < n; i++)
			json_object_array_add(o, gen(depth - 1));
		return o;
	}
	o = json_object_new_object();
	for (i = 0; i < n; i++)
		json_object_object_add(
		    o, keys[rnd(sizeof(keys) / sizeof(keys[0]))],
		    gen(depth - 1));
	return o;
}

/* One random change somewhere in *o (which it may replace). */
static void mutate(json_object **o, int depth)
{
	json_object *c = *o, *v;
	size_t n, i, j;
	uint32_t what = rnd(8);

	if (!json_object_is_type(c, json_type_array) &&
	    !json_object_is_type(c, json_type_object)) {
		if (json_object_is_type(c, json_type_int) && rnd(2) &&
		    json_object_get_int64(c) > -100 &&
		    json_object_get_int64(c) < 100) {
			/* 2 -> 2.0: equal, no change */
			v = json_object_new_double(
			    (double)json_object_get_int64(c));
		} else {
			v = gen(rnd(3));
		}
		json_object_put(c);
		*o = v;
		return;
	}
	if (json_object_is_type(c, json_type_object)) {
		const char *key = keys[rnd(sizeof(keys) / sizeof(keys[0]))];

		if (what < 2 && json_object_object_get_ex(c, key, NULL))
			json_object_object_del(c, key);
		else if (what < 4)
			json_object_object_add(c, key, gen(depth));
		else if (json_object_object_get_ex(c, key, &v)) {
			json_object_get(v);
			mutate(&v, depth - 1);
			json_object_object_add(c, key, v);
		} else if (what == 7) {
			json_object_put(c);
			*o = gen(depth);
		}
		return;
	}
	n = json_object_array_length(c);
	if (what < 2 && n > 0) {
		json_object_array_del_idx(c, rnd((uint32_t)n), 1);
	} else if (what < 4) {
		/* insert at a random index */
		i = rnd((uint32_t)n + 1);
		json_object_array_add(c, NULL);
		for (j = n; j > i; j--)
			json_object_array_put_idx(
			    c, j,
			    json_object_get(
				json_object_array_get_idx(c, j - 1)));
		json_object_array_put_idx(c, i, gen(depth));
	} else if (what < 5 && n > 1) {
		/* swap two elements */
		i = rnd((uint32_t)n);
		j = rnd((uint32_t)n);
		v = json_object_get(json_object_array_get_idx(c, i));
		json_object_array_put_idx(
		    c, i, json_object_get(json_object_array_get_idx(c, j)));
		json_object_array_put_idx(c, j, v);
	} else if (n > 0) {
		i = rnd((uint32_t)n);
		v = json_object_get(json_object_array_get_idx(c, i));
		mutate(&v, depth - 1);
		json_object_array_put_idx(c, i, v);
	} else {
		json_object_array_add(c, gen(depth));
	}
}

/* An array long enough for the search's bounds and the alignment test
 * to matter: 32 to 151 small elements. */
static json_object *gen_long(void)
{
	json_object *o = json_object_new_array(), *e;
	uint32_t i, n = 32 + rnd(120);

	for (i = 0; i < n; i++) {
		if (rnd(2)) {
			e = json_object_new_int((int32_t)rnd(6));
		} else {
			e = json_object_new_object();
			json_object_object_add(
			    e, "id", json_object_new_int((int32_t)rnd(50)));
		}
		json_object_array_add(o, e);
	}
	return o;
}

/* True when pred(node, arg) holds for t or for a value inside it. */
static int any_node(json_object *t, int (*pred)(json_object *, void *),
		    void *arg)
{
	size_t i, n;

	if (pred(t, arg))
		return 1;
	if (json_object_is_type(t, json_type_array)) {
		n = json_object_array_length(t);
		for (i = 0; i < n; i++)
			if (any_node(json_object_array_get_idx(t, i), pred,
				     arg))
				return 1;
	} else if (json_object_is_type(t, json_type_object)) {
		json_object_object_foreach(t, key, val)
		{
			(void)key;
			if (any_node(val, pred, arg))
				return 1;
		}
	}
	return 0;
}

static int is_node(json_object *o, void *want)
{
	return o == want;
}

/* True when o is doc or lies inside it. */
static int inside(json_object *doc, json_object *o)
{
	return any_node(doc, is_node, o);
}

static int lies_in(json_object *v, void *doc)
{
	return v != NULL && inside(doc, v);
}

/* True when v, or a value inside it, is doc or lies inside doc. */
static int shares(json_object *v, json_object *doc)
{
	return any_node(v, lies_in, doc);
}

#define PROPERTY_CASES 20000

static void test_random(void **state)
{
	json_object *a, *b, *a2, *b2, *patch, *self;
	size_t plen, rlen;
	int i, k, changes;
	char *text;

	(void)state;
	rng_state = 0x5eed5eed12345678ULL;
	for (i = 0; i < PROPERTY_CASES; i++) {
		int is_long = rnd(32) == 0;

		a = is_long ? gen_long() : gen(1 + (int)rnd(4));
		if (rnd(10) == 0) {
			/* unrelated */
			b = is_long ? gen_long() : gen(1 + (int)rnd(4));
		} else {
			assert_int_equal(sc_json_copy(a, &b), SC_OK);
			changes = 1 + (int)rnd(is_long ? 40 : 4);
			for (k = 0; k < changes; k++)
				mutate(&b, 4);
		}
		/* The diff of copies, which are freed before the patch is
		 * used: ASan sees an object the patch would hold without a
		 * reference of its own.  Values may be b2's (by reference),
		 * never a2's. */
		assert_int_equal(sc_json_copy(a, &a2), SC_OK);
		assert_int_equal(sc_json_copy(b, &b2), SC_OK);
		patch = NULL;
		if (sc_diff(a2, b2, &patch, NULL) != SC_OK)
			fail_msg("case %d: diff failed", i);
		for (k = 0; k < (int)json_object_array_length(patch); k++) {
			json_object *v = NULL;

			json_object_object_get_ex(
			    json_object_array_get_idx(patch, (size_t)k),
			    "value", &v);
			if (shares(v, a2))
				fail_msg("case %d: the patch shares a value "
					 "with from",
					 i);
		}
		/* The text, as sc_diff_text writes it: json-c's text of
		 * the patch, byte for byte.  It is what gets applied. */
		text = check_text(a2, b2, patch);
		plen = strlen(text);
		json_object_put(a2);
		json_object_put(b2);
		json_object_put(patch);
		patch = J(text);
		free(text);
		a2 = NULL;
		assert_int_equal(sc_json_copy(a, &a2), SC_OK);
		if (sc_patch_apply(&a2, patch, NULL) != SC_OK ||
		    !sc_json_equal(a2, b))
			fail_msg("case %d: diff %s -> %s gave %s", i,
				 T(a, NULL), T(b, NULL),
				 T(patch, NULL));
		assert_int_equal(json_object_array_length(patch) == 0,
				 sc_json_equal(a, b));
		/* Never larger than replacing the whole document. */
		T(b, &rlen);
		rlen += sizeof("[{\"op\":\"replace\",\"path\":\"\","
			       "\"value\":}]") -
			1;
		if (plen > rlen)
			fail_msg("case %d: %s (%zu bytes) is larger than "
				 "replacing with %s",
				 i, T(patch, NULL), plen,
				 T(b, NULL));
		json_object_put(patch);
		assert_int_equal(sc_diff(a, a, &self, NULL), SC_OK);
		assert_int_equal(json_object_array_length(self), 0);
		json_object_put(self);
		json_object_put(a2);
		json_object_put(a);
		json_object_put(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_rows),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_shares_to),
	    cmocka_unit_test(test_text_cap),
	    cmocka_unit_test(test_alloc_failure),
	    cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
