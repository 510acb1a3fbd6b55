/*
 * tests/fcgi/test_route.c — routing by path and by the CGI variables of
 * each web server, query strings, cursors, ETags, Content-Type.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fcgi/route.h"

static void test_match_table(void **state)
{
	static const struct {
		const char *path;
		sc_err rc;
		sc_route_kind kind;
		const char *topic; /* NULL: no topic */
	} cases[] = {
	    {"/state/app:state", SC_OK, SC_ROUTE_STATE, "app:state"},
	    {"/state/app:state?x=1", SC_OK, SC_ROUTE_STATE, "app:state"},
	    {"/some/prefix/state/cart:42", SC_OK, SC_ROUTE_STATE, "cart:42"},
	    {"/events/list:groceries", SC_OK, SC_ROUTE_EVENTS,
	     "list:groceries"},
	    {"/events/a%3Ab", SC_OK, SC_ROUTE_EVENTS, "a:b"},
	    {"/stream", SC_OK, SC_ROUTE_STREAM, NULL},
	    {"/stream/", SC_OK, SC_ROUTE_STREAM, NULL},
	    {"/stream?topic=a&topic=b", SC_OK, SC_ROUTE_STREAM, NULL},
	    {"/app.fcgi/stream", SC_OK, SC_ROUTE_STREAM, NULL},
	    {"/stream/u@x.y_z-1", SC_OK, SC_ROUTE_STREAM, "u@x.y_z-1"},
	    {"/state/stream", SC_OK, SC_ROUTE_STATE, "stream"},
	    {"stream", SC_ERR_NOT_FOUND, SC_ROUTE_NONE, NULL},
	    {"/", SC_ERR_NOT_FOUND, SC_ROUTE_NONE, NULL},
	    {"", SC_ERR_NOT_FOUND, SC_ROUTE_NONE, NULL},
	    {"/foo", SC_ERR_NOT_FOUND, SC_ROUTE_NONE, NULL},
	    {"/state", SC_ERR_NOT_FOUND, SC_ROUTE_NONE, NULL},
	    {"/state/a/b", SC_ERR_NOT_FOUND, SC_ROUTE_NONE, NULL},
	    {"/states/a", SC_ERR_NOT_FOUND, SC_ROUTE_NONE, NULL},
	    {"/state/", SC_ERR_TOPIC, SC_ROUTE_STATE, NULL},
	    {"/state/a%20b", SC_ERR_TOPIC, SC_ROUTE_STATE, NULL},
	    {"/state/a b", SC_ERR_TOPIC, SC_ROUTE_STATE, NULL},
	    {"/state/%zz", SC_ERR_TOPIC, SC_ROUTE_STATE, NULL},
	    {"/state/a%0", SC_ERR_TOPIC, SC_ROUTE_STATE, NULL},
	    {"/state/a%00b", SC_ERR_TOPIC, SC_ROUTE_STATE, NULL},
	    {"/events/%2Fetc", SC_ERR_TOPIC, SC_ROUTE_EVENTS, NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sc_route r;
		sc_error err;
		sc_err rc;

		sc_error_clear(&err);
		rc = sc_route_match(cases[i].path, &r, &err);
		if (rc != cases[i].rc || r.kind != cases[i].kind)
			fail_msg("case %zu (%s): rc %d kind %d", i,
				 cases[i].path, rc, r.kind);
		if (rc == SC_OK) {
			assert_int_equal(r.has_topic, cases[i].topic != NULL);
			if (cases[i].topic != NULL)
				assert_string_equal(r.topic, cases[i].topic);
		}
		if (rc == SC_ERR_TOPIC)
			assert_true(err.message[0] != '\0');
	}
}

static void test_long_topic(void **state)
{
	char path[400];
	sc_route r;

	(void)state;
	strcpy(path, "/state/");
	memset(path + 7, 'a', SC_TOPIC_MAX);
	path[7 + SC_TOPIC_MAX] = '\0';
	assert_int_equal(sc_route_match(path, &r, NULL), SC_OK);
	assert_int_equal(strlen(r.topic), SC_TOPIC_MAX);
	strcat(path, "a");
	assert_int_equal(sc_route_match(path, &r, NULL), SC_ERR_TOPIC);
}

/* The CGI variables as lighttpd, Apache and nginx set them. */
static void test_servers(void **state)
{
	static const struct {
		const char *what, *path_info, *request_uri, *script_name;
		sc_route_kind kind;
		const char *topic;
	} cases[] = {
	    {"lighttpd at /", "", "/state/x?a=1", "/state/x", SC_ROUTE_STATE,
	     "x"},
	    {"lighttpd at / fix-root", "/state/x", "/state/x", "",
	     SC_ROUTE_STATE, "x"},
	    {"lighttpd at /app", "/events/t", "/app/events/t", "/app",
	     SC_ROUTE_EVENTS, "t"},
	    {"mod_fcgid", "/stream", "/sc/app.fcgi/stream?topic=a",
	     "/sc/app.fcgi", SC_ROUTE_STREAM, NULL},
	    {"mod_fcgid alias", "/state/y", "/sc/state/y", "/sc",
	     SC_ROUTE_STATE, "y"},
	    {"mod_proxy_fcgi", NULL, "/app/stream/z", "/app/stream/z",
	     SC_ROUTE_STREAM, "z"},
	    {"nginx", NULL, "/state/a%3Ab", "/state/a:b", SC_ROUTE_STATE,
	     "a:b"},
	    {"nginx split", "/state/q", "/api/state/q", "/api", SC_ROUTE_STATE,
	     "q"},
	    {"no REQUEST_URI", NULL, NULL, "/events/e", SC_ROUTE_EVENTS, "e"},
	    {"bad PATH_INFO, good URI", "/x", "/state/ok", NULL, SC_ROUTE_STATE,
	     "ok"},
	    {"decoded PATH_INFO", "/state/a:b", "/state/a%3Ab", "",
	     SC_ROUTE_STATE, "a:b"},
	    {"no URI, decoded PATH_INFO", "/events/a:b", NULL, "/app",
	     SC_ROUTE_EVENTS, "a:b"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sc_route r;
		sc_err rc =
		    sc_route_request(cases[i].path_info, cases[i].request_uri,
				     cases[i].script_name, &r, NULL);

		if (rc != SC_OK || r.kind != cases[i].kind)
			fail_msg("%s: rc %d kind %d", cases[i].what, rc,
				 r.kind);
		if (cases[i].topic != NULL)
			assert_string_equal(r.topic, cases[i].topic);
		else
			assert_int_equal(r.has_topic, 0);
	}
	{
		sc_route r;
		sc_error err;

		assert_int_equal(
		    sc_route_request(NULL, "/nope", "/nope", &r, NULL),
		    SC_ERR_NOT_FOUND);
		assert_int_equal(sc_route_request(NULL, NULL, NULL, &r, NULL),
				 SC_ERR_NOT_FOUND);
		sc_error_clear(&err);
		assert_int_equal(
		    sc_route_request(NULL, "/state/a%20b", NULL, &r, &err),
		    SC_ERR_TOPIC);
		assert_true(err.message[0] != '\0');
		/* Decoded exactly once: "%2541" is "%41", not a topic, in
		 * whichever variable the server puts it. */
		assert_int_equal(sc_route_request("/state/list:%41",
						  "/state/list:%2541", "", &r,
						  NULL),
				 SC_ERR_TOPIC);
		assert_int_equal(sc_route_request(NULL, "/state/list:%2541",
						  "/state/list:%41", &r, NULL),
				 SC_ERR_TOPIC);
		assert_int_equal(sc_route_request("/state/list:%41", NULL,
						  NULL, &r, NULL),
				 SC_ERR_TOPIC);
		assert_int_equal(
		    sc_route_request(NULL, NULL, "/stream/a%3Ab", &r, NULL),
		    SC_ERR_TOPIC);
	}
}

static void test_query(void **state)
{
	char v[64];

	(void)state;
	assert_int_equal(
	    sc_route_query("topic=a&x=1&topic=b%3Ac", "topic", 0, v, sizeof(v)),
	    1);
	assert_string_equal(v, "a");
	assert_int_equal(
	    sc_route_query("topic=a&x=1&topic=b%3Ac", "topic", 1, v, sizeof(v)),
	    1);
	assert_string_equal(v, "b:c");
	assert_int_equal(
	    sc_route_query("topic=a&x=1&topic=b%3Ac", "topic", 2, v, sizeof(v)),
	    0);
	assert_int_equal(sc_route_query("x=a+b", "x", 0, v, sizeof(v)), 1);
	assert_string_equal(v, "a b");
	assert_int_equal(sc_route_query("x=", "x", 0, v, sizeof(v)), 1);
	assert_string_equal(v, "");
	assert_int_equal(sc_route_query("xx=1&x", "x", 0, v, sizeof(v)), 0);
	assert_int_equal(sc_route_query("x=%G1", "x", 0, v, sizeof(v)), -1);
	assert_int_equal(sc_route_query("x=12345", "x", 0, v, 4), -1);
	assert_int_equal(sc_route_query(NULL, "x", 0, v, sizeof(v)), 0);
	assert_int_equal(sc_route_query("", "x", 0, v, sizeof(v)), 0);
	assert_int_equal(sc_route_query("&&x=1&", "x", 0, v, sizeof(v)), 1);
	assert_string_equal(v, "1");
}

static void test_cursor(void **state)
{
	char c[SC_CURSOR_MAX], big[200];

	(void)state;
	/* Header first, then after=, then last_event_id=. */
	assert_int_equal(
	    sc_route_cursor("e:5", "after=e:3&last_event_id=e:1", c), 1);
	assert_string_equal(c, "e:5");
	assert_int_equal(
	    sc_route_cursor(NULL, "last_event_id=e:1&after=e%3A3", c), 1);
	assert_string_equal(c, "e:3");
	assert_int_equal(sc_route_cursor("", "last_event_id=e:1", c), 1);
	assert_string_equal(c, "e:1");
	assert_int_equal(sc_route_cursor(NULL, "topic=a", c), 0);
	assert_int_equal(sc_route_cursor(NULL, "after=", c), 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(sc_route_cursor(big, NULL, c), 0);
}

/* Regression: a Last-Event-ID of SC_CURSOR_MAX bytes or more left out
 * as it was (uninitialised in the caller) while returning 0. */
static void test_cursor_long_last_event_id(void **state)
{
	static const size_t lens[] = {SC_CURSOR_MAX, SC_CURSOR_MAX + 1, 200};
	char c[SC_CURSOR_MAX], id[201];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memset(id, 'x', lens[i]);
		id[lens[i]] = '\0';
		memset(c, 'y', sizeof(c));
		assert_int_equal(sc_route_cursor(id, "after=e:3", c), 0);
		assert_int_equal(c[0], '\0');
		memset(c, 'y', sizeof(c));
		assert_int_equal(sc_route_cursor(id, NULL, c), 0);
		assert_int_equal(c[0], '\0');
	}
	/* One byte shorter is still a cursor. */
	memset(id, 'x', SC_CURSOR_MAX - 1);
	id[SC_CURSOR_MAX - 1] = '\0';
	memset(c, 'y', sizeof(c));
	assert_int_equal(sc_route_cursor(id, NULL, c), 1);
	assert_string_equal(c, id);
}

static void test_etag(void **state)
{
	(void)state;
	assert_true(sc_route_etag_match("\"e-1-t\"", "\"e-1-t\""));
	assert_true(sc_route_etag_match("W/\"e-1-t\"", "\"e-1-t\""));
	assert_true(sc_route_etag_match("\"a\", \"e-1-t\"", "\"e-1-t\""));
	assert_true(sc_route_etag_match("*", "\"e-1-t\""));
	assert_false(sc_route_etag_match("\"e-2-t\"", "\"e-1-t\""));
	assert_false(sc_route_etag_match("\"e-1-t", "\"e-1-t\""));
	assert_false(sc_route_etag_match("", "\"e-1-t\""));
	assert_false(sc_route_etag_match(NULL, "\"e-1-t\""));
}

static void test_is_json(void **state)
{
	(void)state;
	assert_true(sc_route_is_json("application/json"));
	assert_true(sc_route_is_json("Application/JSON; charset=utf-8"));
	assert_true(sc_route_is_json("application/json;charset=UTF-8"));
	assert_false(sc_route_is_json("application/jsonx"));
	assert_false(sc_route_is_json("text/plain"));
	assert_false(sc_route_is_json(""));
	assert_false(sc_route_is_json(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match_table),
	    cmocka_unit_test(test_long_topic),
	    cmocka_unit_test(test_servers),
	    cmocka_unit_test(test_query),
	    cmocka_unit_test(test_cursor),
	    cmocka_unit_test(test_cursor_long_last_event_id),
	    cmocka_unit_test(test_etag),
	    cmocka_unit_test(test_is_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
