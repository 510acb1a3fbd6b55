/*
 * tests/fcgi/test_sse.c — SSE framing, JSON envelopes with embedded raw
 * JSON, error bodies, bounded buffers, shared frames.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "fcgi/sse.h"

static void test_format_table(void **state)
{
	static const struct {
		const char *event, *id, *data;
		int terminate;
		const char *want;
	} cases[] = {
	    {"patch", "ab:7", "{\"a\":1}", 1,
	     "event: patch\nid: ab:7\ndata: {\"a\":1}\n\n"},
	    {"state", NULL, "{}", 1, "event: state\ndata: {}\n\n"},
	    {NULL, NULL, "x", 1, "data: x\n\n"},
	    {NULL, NULL, "a\nb", 1, "data: a\ndata: b\n\n"},
	    {NULL, NULL, "a\r\nb\rc", 1, "data: a\ndata: b\ndata: c\n\n"},
	    {NULL, NULL, "a\n", 1, "data: a\ndata: \n\n"},
	    {NULL, NULL, "", 1, "data: \n\n"},
	    {"ev\nil", "1\r2", "d", 0, "event: ev\nid: 1\ndata: d\n"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sc_buf b = {0};

		assert_int_equal(sc_sse_format(&b, cases[i].event, cases[i].id,
					       cases[i].data,
					       strlen(cases[i].data),
					       cases[i].terminate),
				 SC_OK);
		assert_string_equal(b.p, cases[i].want);
		assert_int_equal(b.len, strlen(cases[i].want));
		sc_buf_free(&b);
	}
}

static void test_buf_cap(void **state)
{
	sc_buf b = {0};

	(void)state;
	b.max = 16;
	assert_int_equal(sc_buf_add(&b, "0123456789", 10), SC_OK);
	assert_int_equal(sc_sse_format(&b, NULL, NULL, "abcdef", 6, 1),
			 SC_ERR_TOO_BIG);
	/* A failed format leaves the buffer as it was. */
	assert_int_equal(b.len, 10);
	assert_string_equal(b.p, "0123456789");
	assert_int_equal(sc_buf_add(&b, "012345", 6), SC_OK);
	assert_int_equal(sc_buf_add(&b, "x", 1), SC_ERR_TOO_BIG);
	sc_buf_free(&b);
	sc_buf_free(NULL);
}

static void test_envelope(void **state)
{
	char *out = NULL;
	size_t len = 0;
	static const char raw[] = "{\"items\":[1,2,{\"a\":\"\\\"/\"}]}";

	(void)state;
	assert_int_equal(sc_sse_envelope("list:a\"b", 7, "ep:12", "state", raw,
					 strlen(raw), &out, &len),
			 SC_OK);
	assert_string_equal(out, "{\"topic\":\"list:a\\\"b\",\"version\":7,"
				 "\"cursor\":\"ep:12\",\"state\":{\"items\":"
				 "[1,2,{\"a\":\"\\\"/\"}]}}");
	assert_int_equal(len, strlen(out));
	sc_free(out);
	assert_int_equal(
	    sc_sse_envelope("t", 0, NULL, "patch", "[]", 2, &out, NULL), SC_OK);
	assert_string_equal(out,
			    "{\"topic\":\"t\",\"version\":0,\"patch\":[]}");
	sc_free(out);
}

static void test_error_json(void **state)
{
	size_t len = 0;
	char *s = sc_sse_error_json("bad_json", "line 1: \"x\"\n", &len);

	(void)state;
	assert_non_null(s);
	assert_string_equal(s, "{\"error\":{\"code\":\"bad_json\",\"message\":"
			       "\"line 1: \\\"x\\\"\\n\"}}");
	assert_int_equal(len, strlen(s));
	sc_free(s);
}

static void test_frames(void **state)
{
	sc_sse_frame *f = sc_sse_frame_new("data: x\n\n", 9);

	(void)state;
	assert_non_null(f);
	assert_int_equal(f->refs, 1);
	assert_int_equal(f->len, 9);
	assert_string_equal(f->text, "data: x\n\n");
	f->refs++;
	sc_sse_frame_unref(f);
	assert_int_equal(f->refs, 1);
	sc_sse_frame_unref(f);
	sc_sse_frame_unref(NULL);
}

/* Out of memory at every allocation: an error, never a crash or leak. */
static void test_nomem(void **state)
{
	long n;

	(void)state;
	for (n = 0; n < 4; n++) {
		sc_buf b = {0};
		sc_err rc;

		sc_alloc_fail_after(n);
		rc = sc_sse_format(&b, "patch", "1", "{}", 2, 1);
		sc_alloc_fail_after(-1);
		assert_true(rc == SC_OK || rc == SC_ERR_NOMEM);
		sc_buf_free(&b);
	}
	sc_alloc_fail_after(0);
	assert_null(sc_sse_frame_new("x", 1));
	sc_alloc_fail_after(-1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_table),
	    cmocka_unit_test(test_buf_cap),
	    cmocka_unit_test(test_envelope),
	    cmocka_unit_test(test_error_json),
	    cmocka_unit_test(test_frames),
	    cmocka_unit_test(test_nomem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
