/*
 * tests/fcgi/test_cors.c — which origins --allow-origin accepts, and the
 * verdict and Access-Control-* lines for each kind of request (cors.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fcgi/cors.h"

static void test_allow_table(void **state)
{
	static const struct {
		const char *origin;
		sc_err rc;
	} cases[] = {
	    {"http://localhost:3000", SC_OK},
	    {"https://app.example.com", SC_OK},
	    {"*", SC_OK},
	    {"http://[::1]:3000", SC_OK},
	    {"localhost:3000", SC_ERR_INVALID},
	    {"ftp://x", SC_ERR_INVALID},
	    {"null", SC_ERR_INVALID},
	    {"http://", SC_ERR_INVALID},
	    {"http://a.example/", SC_ERR_INVALID},
	    {"http://a.example/path", SC_ERR_INVALID},
	    {"http://u@a.example", SC_ERR_INVALID},
	    {"http://a.example,http://b.example", SC_ERR_INVALID},
	    {"http://a.example?x", SC_ERR_INVALID},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sc_cors c;
		sc_error err;

		memset(&c, 0, sizeof(c));
		sc_error_clear(&err);
		if (sc_cors_allow(&c, cases[i].origin, &err) != cases[i].rc)
			fail_msg("%s: want %d, got %d (%s)", cases[i].origin,
				 cases[i].rc, err.code, err.message);
		assert_int_equal(sc_cors_enabled(&c), cases[i].rc == SC_OK);
	}
}

static void test_limits(void **state)
{
	char long_origin[SC_CORS_ORIGIN_MAX + 16], o[64];
	sc_cors c;
	sc_error err;
	int i;

	(void)state;
	memset(&c, 0, sizeof(c));
	sc_error_clear(&err);
	memcpy(long_origin, "http://", 7);
	memset(long_origin + 7, 'a', sizeof(long_origin) - 8);
	long_origin[sizeof(long_origin) - 1] = '\0';
	assert_int_equal(sc_cors_allow(&c, long_origin, &err), SC_ERR_TOO_BIG);
	for (i = 0; i < SC_CORS_MAX_ORIGINS; i++) {
		snprintf(o, sizeof(o), "http://h%d.example", i);
		assert_int_equal(sc_cors_allow(&c, o, &err), SC_OK);
	}
	/* A repeat is no new origin; one more is. */
	assert_int_equal(sc_cors_allow(&c, "http://h0.example", &err), SC_OK);
	assert_int_equal(sc_cors_allow(&c, "http://one-more.example", &err),
			 SC_ERR_TOO_BIG);
	assert_int_equal(c.n, SC_CORS_MAX_ORIGINS);
}

/* The verdict table: configuration, request, answer. */
static void test_check_table(void **state)
{
	static const struct {
		const char *allow[2]; /* configured origins (NULL: fewer) */
		const char *origin, *host;
		int write, ok;
		const char *head; /* the lines, exactly */
	} cases[] = {
	    /* CORS off: nothing changes, cross-origin POSTs included. */
	    {{NULL, NULL}, "http://evil.example", "app.example", 1, 1, ""},
	    {{NULL, NULL}, NULL, "app.example", 0, 1, ""},
	    /* An allowed origin: its own name, credentials. */
	    {{"http://page.example:3000", NULL},
	     "http://page.example:3000",
	     "app.example",
	     1,
	     1,
	     "Access-Control-Allow-Origin: http://page.example:3000\r\n"
	     "Access-Control-Allow-Credentials: true\r\n"
	     "Access-Control-Expose-Headers: ETag\r\n"
	     "Vary: Origin\r\n"},
	    /* Another origin: a read gets Vary only, a write is refused. */
	    {{"http://page.example:3000", NULL},
	     "http://evil.example",
	     "app.example",
	     0,
	     1,
	     "Vary: Origin\r\n"},
	    {{"http://page.example:3000", NULL},
	     "http://evil.example",
	     "app.example",
	     1,
	     0,
	     "Vary: Origin\r\n"},
	    /* Compared byte for byte: another port or scheme is another
	     * origin. */
	    {{"http://page.example:3000", NULL},
	     "http://page.example:3001",
	     "app.example",
	     1,
	     0,
	     "Vary: Origin\r\n"},
	    {{"http://page.example:3000", NULL},
	     "https://page.example:3000",
	     "app.example",
	     1,
	     0,
	     "Vary: Origin\r\n"},
	    /* Same origin (Origin names the Host, any scheme): no header. */
	    {{"http://page.example:3000", NULL},
	     "https://App.Example:8443",
	     "app.example:8443",
	     1,
	     1,
	     ""},
	    /* No Origin: not a CORS request. */
	    {{"http://page.example:3000", NULL}, NULL, "app.example", 1, 1, ""},
	    /* "*": anyone reads without credentials, nobody writes. */
	    {{"*", NULL},
	     "http://any.example",
	     "app.example",
	     0,
	     1,
	     "Access-Control-Allow-Origin: *\r\n"
	     "Access-Control-Expose-Headers: ETag\r\n"},
	    {{"*", NULL}, "http://any.example", "app.example", 1, 0, ""},
	    /* "*" with a listed origin: the listed one still writes. */
	    {{"*", "http://page.example"},
	     "http://page.example",
	     "app.example",
	     1,
	     1,
	     "Access-Control-Allow-Origin: http://page.example\r\n"
	     "Access-Control-Allow-Credentials: true\r\n"
	     "Access-Control-Expose-Headers: ETag\r\n"
	     "Vary: Origin\r\n"},
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char head[SC_CORS_HEAD_MAX];
		sc_cors c;
		int ok;

		memset(&c, 0, sizeof(c));
		for (k = 0; k < 2 && cases[i].allow[k] != NULL; k++)
			assert_int_equal(
			    sc_cors_allow(&c, cases[i].allow[k], NULL), SC_OK);
		ok = sc_cors_check(&c, cases[i].origin, cases[i].host,
				   cases[i].write, head);
		if (ok != cases[i].ok || strcmp(head, cases[i].head) != 0)
			fail_msg("case %zu: want %d [%s], got %d [%s]", i,
				 cases[i].ok, cases[i].head, ok, head);
	}
}

static void test_preflight(void **state)
{
	char head[SC_CORS_HEAD_MAX];
	sc_cors c, any;

	(void)state;
	memset(&c, 0, sizeof(c));
	memset(&any, 0, sizeof(any));
	assert_int_equal(sc_cors_allow(&c, "http://page.example", NULL), SC_OK);
	assert_int_equal(sc_cors_allow(&any, "*", NULL), SC_OK);
	assert_int_equal(
	    sc_cors_preflight(&c, "http://page.example", "app", "POST", head),
	    1);
	assert_non_null(strstr(head, "Access-Control-Allow-Origin: "
				     "http://page.example\r\n"));
	assert_non_null(
	    strstr(head, "Access-Control-Allow-Methods: GET, HEAD, POST\r\n"));
	assert_non_null(strstr(head, "Access-Control-Allow-Headers: "
				     "Content-Type, Last-Event-ID, "
				     "If-None-Match\r\n"));
	assert_non_null(strstr(head, "Access-Control-Max-Age: 600\r\n"));
	/* Methods the routes do not have, other origins: refused. */
	assert_int_equal(
	    sc_cors_preflight(&c, "http://page.example", "app", "DELETE", head),
	    0);
	assert_int_equal(
	    sc_cors_preflight(&c, "http://evil.example", "app", "GET", head),
	    0);
	assert_int_equal(
	    sc_cors_preflight(&c, "http://evil.example", "app", "POST", head),
	    0);
	/* "*": reads only, without credentials. */
	assert_int_equal(
	    sc_cors_preflight(&any, "http://x.example", "app", "GET", head), 1);
	assert_non_null(strstr(head, "Access-Control-Allow-Origin: *\r\n"));
	assert_non_null(
	    strstr(head, "Access-Control-Allow-Methods: GET, HEAD\r\n"));
	assert_null(strstr(head, "Credentials"));
	assert_int_equal(
	    sc_cors_preflight(&any, "http://x.example", "app", "POST", head),
	    0);
	/* Not a preflight of another origin: answered without CORS. */
	assert_int_equal(sc_cors_preflight(&c, NULL, "app", NULL, head), 1);
	assert_int_equal(
	    sc_cors_preflight(&c, "http://app", "app", "POST", head), 1);
	assert_null(strstr(head, "Access-Control-Allow-Origin"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_allow_table),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_check_table),
	    cmocka_unit_test(test_preflight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
