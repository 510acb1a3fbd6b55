/*
 * tests/fcgi/test_sse.c — SSE framing, JSON envelopes with embedded raw
 * JSON, error bodies, bounded buffers, shared frames.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "fcgi/reqint.h"
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

/* sc_buf_i64 writes what snprintf's PRId64 writes; the extremes too. */
static void test_buf_i64(void **state)
{
	const int64_t v[] = {0,	       1,	  -1,	     9,
			     10,       -10,	  99999,     1234567890123,
			     INT64_MAX, INT64_MIN, INT64_MIN + 1};
	char got[SC_BUF_I64_MAX + 1], want[32];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = sc_buf_i64(got, v[i]);
		got[n] = '\0';
		snprintf(want, sizeof(want), "%" PRId64, v[i]);
		assert_string_equal(got, want);
	}
}

/* An answer's head, as the server writes it for every request. */
static void test_answer_head(void **state)
{
	char head[SC_ANSWER_HEAD_MAX], big[SC_ANSWER_HEAD_MAX + 8];
	int n;

	(void)state;
	n = sc_answer_head(head, 200, NULL, NULL, 1);
	assert_int_equal(n, (int)strlen(head));
	assert_string_equal(head, "Status: 200 OK\r\n"
				  "Content-Type: application/json\r\n"
				  SC_ANSWER_HEADERS "\r\n");
	sc_answer_head(head, 404, "Retry-After: 1\r\n", "Vary: Origin\r\n",
		       0);
	assert_string_equal(head, "Status: 404 Not Found\r\n"
				  "Cache-Control: no-store\r\n"
				  SC_ANSWER_HEADERS "Retry-After: 1\r\n"
				  "Vary: Origin\r\n\r\n");
	/* Too long for the head: -1, not a cut head. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(sc_answer_head(head, 200, big, NULL, 1), -1);
	assert_int_equal(sc_answer_head(head, 42, NULL, NULL, 1), -1);
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
	    cmocka_unit_test(test_buf_i64),
	    cmocka_unit_test(test_answer_head),
	    cmocka_unit_test(test_envelope),
	    cmocka_unit_test(test_error_json),
	    cmocka_unit_test(test_frames),
	    cmocka_unit_test(test_nomem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
