/*
 * tests/cli/test_cli_json.c — process-level tests of `statechannel diff`
 * and `statechannel apply`: runs the built binary ($SC_BUILD/statechannel,
 * SC_BUILD defaulting to "build") and checks stdout, stderr and the exit
 * code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "json/value.h"
#include "tests/support.h"

static int setup(void **state)
{
	(void)state;
	return cli_setup("cli-json");
}

/* Asserts that text (one JSON line) equals want as JSON. */
static void assert_json(const char *text, const char *want)
{
	json_object *a = NULL, *b = NULL;
	size_t len = strlen(text);

	if (len == 0 || text[len - 1] != '\n')
		fail_msg("output '%s' is not one line", text);
	if (sc_json_parse(text, len, &a, NULL) != SC_OK ||
	    sc_json_parse(want, strlen(want), &b, NULL) != SC_OK)
		fail_msg("bad JSON: '%s' or '%s'", text, want);
	if (!sc_json_equal(a, b))
		fail_msg("got %s, want %s", text, want);
	json_object_put(a);
	json_object_put(b);
}

static void test_apply(void **state)
{
	struct cli_result r;

	(void)state;
	scratch_write("doc", "{\"foo\": [\"bar\", \"baz\"], \"n\": 1}");
	scratch_write("patch", "[{\"op\":\"add\",\"path\":\"/foo/1\","
			       "\"value\":\"qux\"},"
			       "{\"op\":\"replace\",\"path\":\"/n\",\"value\":"
			       "\"a/b\"}]");
	cli_run(&r, NULL, "apply", scratch_path("doc"), scratch_path("patch"),
		NULL);
	assert_int_equal(r.status, 0);
	/* Compact, "/" not escaped. */
	assert_string_equal(
	    r.out, "{\"foo\":[\"bar\",\"qux\",\"baz\"],\"n\":\"a/b\"}\n");
	assert_string_equal(r.err, "");

	/* "-" is standard input, for either file. */
	cli_run(&r, "[{\"op\":\"remove\",\"path\":\"/n\"}]", "apply",
		scratch_path("doc"), "-", NULL);
	assert_int_equal(r.status, 0);
	assert_json(r.out, "{\"foo\":[\"bar\",\"baz\"]}");
	cli_run(&r, "[1,2]", "apply", "-", scratch_path("patch"), NULL);
	assert_int_equal(r.status, 1);
	cli_run(&r, "null", "apply", "-", "--", scratch_path("patch"), NULL);
	assert_int_equal(r.status, 1);
	cli_run(&r, "[]", "apply", "-", scratch_path("patch"),
		NULL); /* /foo/1 below an array: no */
	assert_int_equal(r.status, 1);
	scratch_write("patch",
		      "[{\"op\":\"add\",\"path\":\"/-\",\"value\":3}]");
	cli_run(&r, "[1,2]", "apply", "-", scratch_path("patch"), NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "[1,2,3]\n");
}

static void test_apply_refused(void **state)
{
	struct cli_result r;

	(void)state;
	scratch_write("doc", "{\"a\":1}");
	scratch_write("patch",
		      "[{\"op\":\"test\",\"path\":\"/a\",\"value\":1.0},"
		      "{\"op\":\"remove\",\"path\":\"/b\"}]");
	cli_run(&r, NULL, "apply", scratch_path("doc"), scratch_path("patch"),
		NULL);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "op 1"));
	assert_non_null(strstr(r.err, "/b"));

	scratch_write("patch",
		      "[{\"op\":\"test\",\"path\":\"/a\",\"value\":2}]");
	cli_run(&r, NULL, "apply", scratch_path("doc"), scratch_path("patch"),
		NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "op 0 (test)"));

	scratch_write("patch", "{\"op\":\"remove\",\"path\":\"/a\"}");
	cli_run(&r, NULL, "apply", scratch_path("doc"), scratch_path("patch"),
		NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "array"));

	scratch_write("patch", "[{\"op\":\"frob\",\"path\":\"/a\"}]");
	cli_run(&r, NULL, "apply", scratch_path("doc"), scratch_path("patch"),
		NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "op 0"));
	assert_non_null(strstr(r.err, "unknown op"));
}

static void test_bad_input(void **state)
{
	char *deep = malloc(2001);
	struct cli_result r;

	(void)state;
	assert_non_null(deep);
	scratch_write("doc", "{\"a\":1}");
	scratch_write("patch", "[]");
	scratch_write("bad", "{\"a\":1,}");
	cli_run(&r, NULL, "apply", scratch_path("bad"), scratch_path("patch"),
		NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, scratch_path("bad")));
	assert_non_null(strstr(r.err, "invalid JSON"));
	assert_string_equal(r.out, "");
	cli_run(&r, NULL, "apply", scratch_path("doc"), scratch_path("bad"),
		NULL);
	assert_int_equal(r.status, 2);
	cli_run(&r, "[", "apply", scratch_path("doc"), "-", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "standard input"));
	cli_run(&r, NULL, "apply", scratch_path("doc"), scratch_path("missing"),
		NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "missing"));
	cli_run(&r, NULL, "diff", scratch_path("doc"), scratch_path("bad"),
		NULL);
	assert_int_equal(r.status, 2);
	cli_run(&r, "", "diff", "-", scratch_path("doc"), NULL);
	assert_int_equal(r.status, 2);

	/* 1,000 levels: a clean error, no crash. */
	memset(deep, '[', 1000);
	memset(deep + 1000, ']', 1000);
	deep[2000] = '\0';
	scratch_write("deep", deep);
	cli_run(&r, NULL, "apply", scratch_path("deep"), scratch_path("patch"),
		NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "deeper"));
	cli_run(&r, NULL, "diff", scratch_path("doc"), scratch_path("deep"),
		NULL);
	assert_int_equal(r.status, 2);
	free(deep);
}

static void test_usage(void **state)
{
	struct cli_result r;

	(void)state;
	cli_run(&r, NULL, "apply", "--help", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "usage: statechannel apply"));
	cli_run(&r, NULL, "diff", "-h", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "usage: statechannel diff"));
	cli_run(&r, NULL, "apply", scratch_path("doc"), NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "usage"));
	cli_run(&r, NULL, "apply", NULL);
	assert_int_equal(r.status, 2);
	cli_run(&r, NULL, "diff", "a", "b", "c", NULL);
	assert_int_equal(r.status, 2);
	cli_run(&r, NULL, "diff", "--bogus", "a", "b", NULL);
	assert_int_equal(r.status, 2);
	cli_run(&r, NULL, "apply", "-", "-", NULL);
	assert_int_equal(r.status, 2);
	cli_run(&r, NULL, NULL);
	assert_int_equal(r.status, 2);
	cli_run(&r, NULL, "--help", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "apply"));
	assert_non_null(strstr(r.out, "diff"));
}

static void test_diff(void **state)
{
	static const struct {
		const char *old, *new;
	} pairs[] = {
	    {"{\"a\":1,\"b\":[1,2,3]}", "{\"a\":2,\"b\":[1,3],\"c\":{}}"},
	    {"[1,2,3]", "[0,1,2,3]"},
	    {"{\"\":{\"~\":{\"/\":1}}}", "{\"\":{\"~\":{\"/\":2,\"0\":[]}}}"},
	    {"null", "{\"x\":null}"},
	    {"{\"k\":\"v\"}", "7"},
	};
	struct cli_result r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		scratch_write("old", pairs[i].old);
		scratch_write("new", pairs[i].new);
		cli_run(&r, NULL, "diff", scratch_path("old"),
			scratch_path("new"), NULL);
		assert_int_equal(r.status, 0);
		assert_true(r.out[0] == '[');
		/* The printed patch turns OLD into NEW. */
		scratch_write("patch", r.out);
		cli_run(&r, NULL, "apply", scratch_path("old"),
			scratch_path("patch"), NULL);
		if (r.status != 0)
			fail_msg("pair %zu: apply: %s", i, r.err);
		assert_json(r.out, pairs[i].new);
	}
	/* Equal documents: an empty patch; 1 equals 1.0. */
	cli_run(&r, "{\"b\":1.0,\"a\":[]}", "diff", scratch_path("doc"), "-",
		NULL);
	assert_int_equal(r.status, 0);
	scratch_write("doc", "{\"a\":[],\"b\":1}");
	cli_run(&r, "{\"b\":1.0,\"a\":[]}", "diff", scratch_path("doc"), "-",
		NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "[]\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_apply),
	    cmocka_unit_test(test_apply_refused),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_usage),
	    cmocka_unit_test(test_diff),
	};

	return cmocka_run_group_tests(tests, setup, scratch_teardown);
}
