/*
 * tests/fcgi/test_fcgiwire.c — the FastCGI records over a socketpair:
 * requests split across records, padding, long name-value lengths,
 * management records, other roles, aborts, body limits, EOF, garbage,
 * the records of a written response, and allocation failure at each
 * point of reading a request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "fcgi/fcgiwire.h"

typedef struct pair {
	int app, server; /* the application's end, the web server's end */
	sc_fcgi_conn *conn;
	sc_fcgi_request req;
} pair;

static int setup(void **state)
{
	static sc_fcgi_conn conn;
	pair *p = test_calloc(1, sizeof(*p));
	int fds[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	p->app = fds[0];
	p->server = fds[1];
	sc_fcgi_conn_setup(p->app);
	memset(&conn, 0, sizeof(conn));
	conn.fd = p->app;
	p->conn = &conn;
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	pair *p = *state;

	sc_fcgi_request_free(&p->req);
	close(p->app);
	if (p->server >= 0)
		close(p->server);
	test_free(p);
	return 0;
}

static void send_rec(pair *p, int type, uint16_t id, const void *data,
		     size_t len, size_t pad)
{
	unsigned char h[8], zeros[255] = {0};

	sc_fcgi_header(h, type, id, len, pad);
	assert_int_equal(write(p->server, h, 8), 8);
	if (len > 0)
		assert_int_equal(write(p->server, data, len), (ssize_t)len);
	if (pad > 0)
		assert_int_equal(write(p->server, zeros, pad), (ssize_t)pad);
}

static void send_begin(pair *p, uint16_t id, int role, int flags)
{
	unsigned char b[8] = {0};

	b[0] = (unsigned char)(role >> 8);
	b[1] = (unsigned char)role;
	b[2] = (unsigned char)flags;
	send_rec(p, SC_FCGI_BEGIN_REQUEST, id, b, 8, 0);
}

/* Appends one name-value pair to buf at *n. */
static void nv(unsigned char *buf, size_t *n, const char *name,
	       const char *value)
{
	size_t nl = strlen(name), vl = strlen(value), i;
	size_t lens[2] = {nl, vl};

	for (i = 0; i < 2; i++) {
		if (lens[i] < 128) {
			buf[(*n)++] = (unsigned char)lens[i];
		} else {
			buf[(*n)++] = (unsigned char)(0x80 | (lens[i] >> 24));
			buf[(*n)++] = (unsigned char)(lens[i] >> 16);
			buf[(*n)++] = (unsigned char)(lens[i] >> 8);
			buf[(*n)++] = (unsigned char)lens[i];
		}
	}
	memcpy(buf + *n, name, nl);
	*n += nl;
	memcpy(buf + *n, value, vl);
	*n += vl;
}

/* Reads one record from the server's end; returns its type. */
static int recv_rec(pair *p, uint16_t *id, unsigned char *content, size_t *len)
{
	unsigned char h[8];
	size_t got = 0, want, pad;
	ssize_t n;

	while (got < 8) {
		n = read(p->server, h + got, 8 - got);
		assert_true(n > 0);
		got += (size_t)n;
	}
	*id = (uint16_t)((h[2] << 8) | h[3]);
	want = ((size_t)h[4] << 8) | h[5];
	pad = h[6];
	got = 0;
	while (got < want + pad) {
		unsigned char junk[256];
		size_t k = want + pad - got;

		if (got < want)
			n = read(p->server, content + got, want - got);
		else
			n = read(p->server, junk, k > 256 ? 256 : k);
		assert_true(n > 0);
		got += (size_t)n;
	}
	*len = want;
	return h[1];
}

static void test_request(void **state)
{
	pair *p = *state;
	unsigned char params[1024];
	char longval[300];
	size_t n = 0;
	atomic_int stop = 0;

	memset(longval, 'v', sizeof(longval) - 1);
	longval[sizeof(longval) - 1] = '\0';
	nv(params, &n, "REQUEST_METHOD", "POST");
	nv(params, &n, "PATH_INFO", "/events/t");
	nv(params, &n, "HTTP_X_LONG", longval);
	nv(params, &n, "EMPTY", "");
	send_begin(p, 7, SC_FCGI_RESPONDER, SC_FCGI_KEEP_CONN);
	/* PARAMS split in the middle of a pair, with padding. */
	send_rec(p, SC_FCGI_PARAMS, 7, params, 10, 6);
	send_rec(p, SC_FCGI_PARAMS, 7, params + 10, n - 10, 3);
	send_rec(p, SC_FCGI_PARAMS, 7, NULL, 0, 0);
	send_rec(p, SC_FCGI_STDIN, 7, "{\"event\":", 9, 7);
	send_rec(p, SC_FCGI_STDIN, 7, "\"x\"}", 4, 0);
	send_rec(p, SC_FCGI_STDIN, 7, NULL, 0, 0);
	assert_int_equal(
	    sc_fcgi_read_request(p->conn, &p->req, 1024, 1000, &stop), SC_OK);
	assert_int_equal(p->req.id, 7);
	assert_int_equal(p->req.keep_conn, 1);
	assert_int_equal(p->req.nparams, 4);
	assert_string_equal(sc_fcgi_param_get(&p->req, "REQUEST_METHOD"),
			    "POST");
	assert_string_equal(sc_fcgi_param_get(&p->req, "PATH_INFO"),
			    "/events/t");
	assert_string_equal(sc_fcgi_param_get(&p->req, "HTTP_X_LONG"), longval);
	assert_string_equal(sc_fcgi_param_get(&p->req, "EMPTY"), "");
	assert_null(sc_fcgi_param_get(&p->req, "NOPE"));
	assert_string_equal(p->req.body, "{\"event\":\"x\"}");
	assert_int_equal(p->req.body_len, 13);
	assert_int_equal(p->req.body_too_big, 0);

	/* A second request on the kept connection. */
	n = 0;
	nv(params, &n, "REQUEST_METHOD", "GET");
	send_begin(p, 8, SC_FCGI_RESPONDER, 0);
	send_rec(p, SC_FCGI_PARAMS, 8, params, n, 0);
	send_rec(p, SC_FCGI_PARAMS, 8, NULL, 0, 0);
	send_rec(p, SC_FCGI_STDIN, 8, NULL, 0, 0);
	assert_int_equal(
	    sc_fcgi_read_request(p->conn, &p->req, 1024, 1000, &stop), SC_OK);
	assert_int_equal(p->req.id, 8);
	assert_int_equal(p->req.keep_conn, 0);
	assert_string_equal(sc_fcgi_param_get(&p->req, "REQUEST_METHOD"),
			    "GET");
	assert_int_equal(p->req.body_len, 0);
}

static void test_management(void **state)
{
	pair *p = *state;
	unsigned char q[64], out[600];
	size_t n = 0, len;
	uint16_t id;
	atomic_int stop = 0;

	nv(q, &n, "FCGI_MPXS_CONNS", "");
	nv(q, &n, "FCGI_MAX_CONNS", "");
	send_rec(p, SC_FCGI_GET_VALUES, 0, q, n, 0);
	send_rec(p, 77, 0, "zz", 2, 0); /* unknown management type */
	send_begin(p, 2, 2 /* authorizer */, 0);
	send_begin(p, 1, SC_FCGI_RESPONDER, 0);
	send_begin(p, 3, SC_FCGI_RESPONDER, 0); /* multiplexing: refused */
	send_rec(p, SC_FCGI_PARAMS, 1, NULL, 0, 0);
	send_rec(p, SC_FCGI_STDIN, 1, NULL, 0, 0);
	assert_int_equal(
	    sc_fcgi_read_request(p->conn, &p->req, 1024, 1000, &stop), SC_OK);
	assert_int_equal(p->req.id, 1);
	assert_int_equal(recv_rec(p, &id, out, &len),
			 SC_FCGI_GET_VALUES_RESULT);
	out[len] = '\0';
	assert_non_null(memmem(out, len, "FCGI_MPXS_CONNS0", 16));
	assert_non_null(memmem(out, len, "FCGI_MAX_CONNS", 14));
	assert_int_equal(recv_rec(p, &id, out, &len), SC_FCGI_UNKNOWN_TYPE);
	assert_int_equal(out[0], 77);
	assert_int_equal(recv_rec(p, &id, out, &len), SC_FCGI_END_REQUEST);
	assert_int_equal(id, 2);
	assert_int_equal(out[4], SC_FCGI_UNKNOWN_ROLE);
	assert_int_equal(recv_rec(p, &id, out, &len), SC_FCGI_END_REQUEST);
	assert_int_equal(id, 3);
	assert_int_equal(out[4], SC_FCGI_CANT_MPX_CONN);
}

static void test_abort_then_request(void **state)
{
	pair *p = *state;
	unsigned char out[64];
	size_t len;
	uint16_t id;
	atomic_int stop = 0;

	send_begin(p, 4, SC_FCGI_RESPONDER, SC_FCGI_KEEP_CONN);
	send_rec(p, SC_FCGI_PARAMS, 4, NULL, 0, 0);
	send_rec(p, SC_FCGI_ABORT_REQUEST, 4, NULL, 0, 0);
	send_begin(p, 5, SC_FCGI_RESPONDER, 0);
	send_rec(p, SC_FCGI_PARAMS, 5, NULL, 0, 0);
	send_rec(p, SC_FCGI_STDIN, 5, NULL, 0, 0);
	assert_int_equal(
	    sc_fcgi_read_request(p->conn, &p->req, 1024, 1000, &stop), SC_OK);
	assert_int_equal(p->req.id, 5);
	assert_int_equal(recv_rec(p, &id, out, &len), SC_FCGI_END_REQUEST);
	assert_int_equal(id, 4);
}

static void test_body_limit(void **state)
{
	pair *p = *state;
	char body[100];
	atomic_int stop = 0;

	memset(body, 'x', sizeof(body));
	send_begin(p, 1, SC_FCGI_RESPONDER, 0);
	send_rec(p, SC_FCGI_PARAMS, 1, NULL, 0, 0);
	send_rec(p, SC_FCGI_STDIN, 1, body, 60, 0);
	send_rec(p, SC_FCGI_STDIN, 1, body, 40, 0);
	send_rec(p, SC_FCGI_STDIN, 1, NULL, 0, 0);
	assert_int_equal(
	    sc_fcgi_read_request(p->conn, &p->req, 10, 1000, &stop), SC_OK);
	assert_int_equal(p->req.body_too_big, 1);
	assert_int_equal(p->req.body_total, 100);
	assert_int_equal(p->req.body_len, 0);
}

static void test_bad_input(void **state)
{
	pair *p = *state;
	unsigned char junk[8] = {9, 1, 0, 1, 0, 0, 0, 0};
	unsigned char bad[4] = {0x85, 1, 2}; /* a 4-byte length cut short */
	atomic_int stop = 0;

	/* A version that is not 1. */
	assert_int_equal(write(p->server, junk, 8), 8);
	assert_int_equal(
	    sc_fcgi_read_request(p->conn, &p->req, 10, 1000, &stop),
	    SC_ERR_INVALID);
	/* Malformed name-value pairs. */
	p->conn->start = p->conn->end = 0;
	send_begin(p, 1, SC_FCGI_RESPONDER, 0);
	send_rec(p, SC_FCGI_PARAMS, 1, bad, 3, 0);
	send_rec(p, SC_FCGI_PARAMS, 1, NULL, 0, 0);
	assert_int_equal(
	    sc_fcgi_read_request(p->conn, &p->req, 10, 1000, &stop),
	    SC_ERR_INVALID);
	/* EOF in the middle of a record. */
	p->conn->start = p->conn->end = 0;
	send_begin(p, 1, SC_FCGI_RESPONDER, 0);
	assert_int_equal(write(p->server, junk, 3), 3);
	close(p->server);
	p->server = -1;
	assert_int_equal(
	    sc_fcgi_read_request(p->conn, &p->req, 10, 1000, &stop), SC_ERR_IO);
}

static void test_idle_timeout(void **state)
{
	pair *p = *state;
	atomic_int stop = 0;

	assert_int_equal(sc_fcgi_read_request(p->conn, &p->req, 10, 100, &stop),
			 SC_ERR_IO);
	stop = 1;
	assert_int_equal(
	    sc_fcgi_read_request(p->conn, &p->req, 10, 100000, &stop),
	    SC_ERR_IO);
}

static void test_write(void **state)
{
	pair *p = *state;
	static char body[70000], got[80000];
	unsigned char rec[70000];
	size_t len, total = 0;
	uint16_t id;
	int type;

	memset(body, 'b', sizeof(body));
	assert_int_equal(sc_fcgi_write(p->app, 9, "Status: 200 OK\r\n\r\n", 18,
				       body, sizeof(body), 1),
			 SC_OK);
	for (;;) {
		type = recv_rec(p, &id, rec, &len);
		assert_int_equal(id, 9);
		if (type != SC_FCGI_STDOUT || len == 0)
			break;
		assert_true(total + len <= sizeof(got));
		memcpy(got + total, rec, len);
		total += len;
	}
	assert_int_equal(type, SC_FCGI_STDOUT); /* the empty one */
	assert_int_equal(recv_rec(p, &id, rec, &len), SC_FCGI_END_REQUEST);
	assert_int_equal(len, 8);
	assert_int_equal(rec[4], SC_FCGI_REQUEST_COMPLETE);
	assert_int_equal(total, 18 + sizeof(body));
	assert_memory_equal(got, "Status: 200 OK\r\n\r\n", 18);
	assert_memory_equal(got + 18, body, sizeof(body));
}

/* PARAMS after their empty record are ignored, not appended. */
static void test_late_params(void **state)
{
	pair *p = *state;
	unsigned char params[4096];
	char big[2000];
	size_t n = 0, m;
	atomic_int stop = 0;

	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	nv(params, &n, "A", "b");
	m = n;
	nv(params, &n, "C", big);
	send_begin(p, 1, SC_FCGI_RESPONDER, 0);
	send_rec(p, SC_FCGI_PARAMS, 1, params, m, 0);
	send_rec(p, SC_FCGI_PARAMS, 1, NULL, 0, 0);
	send_rec(p, SC_FCGI_PARAMS, 1, params + m, n - m, 0);
	send_rec(p, SC_FCGI_PARAMS, 1, NULL, 0, 0);
	send_rec(p, SC_FCGI_STDIN, 1, NULL, 0, 0);
	assert_int_equal(
	    sc_fcgi_read_request(p->conn, &p->req, 10, 1000, &stop), SC_OK);
	assert_int_equal(p->req.nparams, 1);
	assert_string_equal(sc_fcgi_param_get(&p->req, "A"), "b");
	assert_null(sc_fcgi_param_get(&p->req, "C"));
}

/* Sends PARAMS with one pair of about large_len bytes (filling large
 * with its value), their end and an empty STDIN for request id2. */
static void send_large_request(pair *p, uint16_t id2, char *large,
			       size_t large_len)
{
	unsigned char params[2048];
	size_t n = 0;

	memset(large, 'a', large_len - 1);
	large[large_len - 1] = '\0';
	nv(params, &n, "SCRIPT_NAME", large);
	send_rec(p, SC_FCGI_PARAMS, id2, params, n, 0);
	send_rec(p, SC_FCGI_PARAMS, id2, NULL, 0, 0);
	send_rec(p, SC_FCGI_STDIN, id2, NULL, 0, 0);
}

/* Regression: parse_params shrinks the arena to what the parsed pairs
 * need; a request restarted by a new BEGIN_REQUEST appended its PARAMS
 * to it as if it still had its old capacity (a heap overflow, seen by
 * ASan or glibc's heap checks). */
static void test_rebegin_same_id_arena(void **state)
{
	pair *p = *state;
	unsigned char params[16];
	char large[1000];
	size_t n = 0;
	atomic_int stop = 0;

	nv(params, &n, "A", "b");
	send_begin(p, 1, SC_FCGI_RESPONDER, 0);
	send_rec(p, SC_FCGI_PARAMS, 1, params, n, 0);
	send_rec(p, SC_FCGI_PARAMS, 1, NULL, 0, 0);
	/* The same id again: the request starts over. */
	send_begin(p, 1, SC_FCGI_RESPONDER, 0);
	send_large_request(p, 1, large, sizeof(large));
	assert_int_equal(
	    sc_fcgi_read_request(p->conn, &p->req, 1024, 1000, &stop), SC_OK);
	assert_int_equal(p->req.id, 1);
	assert_int_equal(p->req.nparams, 1);
	assert_null(sc_fcgi_param_get(&p->req, "A"));
	assert_string_equal(sc_fcgi_param_get(&p->req, "SCRIPT_NAME"), large);
	assert_true(p->req.arena_cap >= p->req.arena_len);
}

static void test_abort_rebegin_arena(void **state)
{
	pair *p = *state;
	unsigned char params[16], out[64];
	char large[1000];
	size_t n = 0, len;
	uint16_t id;
	atomic_int stop = 0;

	nv(params, &n, "A", "b");
	send_begin(p, 1, SC_FCGI_RESPONDER, SC_FCGI_KEEP_CONN);
	send_rec(p, SC_FCGI_PARAMS, 1, params, n, 0);
	send_rec(p, SC_FCGI_PARAMS, 1, NULL, 0, 0);
	send_rec(p, SC_FCGI_ABORT_REQUEST, 1, NULL, 0, 0);
	send_begin(p, 2, SC_FCGI_RESPONDER, 0);
	send_large_request(p, 2, large, sizeof(large));
	assert_int_equal(
	    sc_fcgi_read_request(p->conn, &p->req, 1024, 1000, &stop), SC_OK);
	assert_int_equal(p->req.id, 2);
	assert_int_equal(p->req.keep_conn, 0);
	assert_int_equal(p->req.nparams, 1);
	assert_string_equal(sc_fcgi_param_get(&p->req, "SCRIPT_NAME"), large);
	assert_int_equal(recv_rec(p, &id, out, &len), SC_FCGI_END_REQUEST);
	assert_int_equal(id, 1);
}

/* Regression: a restarted request kept the body of the one before it
 * (body_len 0, body still the old bytes). */
static void test_rebegin_resets_body(void **state)
{
	pair *p = *state;
	unsigned char out[64];
	size_t len;
	uint16_t id;
	atomic_int stop = 0;

	send_begin(p, 1, SC_FCGI_RESPONDER, 0);
	send_rec(p, SC_FCGI_PARAMS, 1, NULL, 0, 0);
	send_rec(p, SC_FCGI_STDIN, 1, "stale", 5, 0);
	send_begin(p, 1, SC_FCGI_RESPONDER, SC_FCGI_KEEP_CONN);
	send_rec(p, SC_FCGI_PARAMS, 1, NULL, 0, 0);
	send_rec(p, SC_FCGI_STDIN, 1, NULL, 0, 0);
	assert_int_equal(
	    sc_fcgi_read_request(p->conn, &p->req, 1024, 1000, &stop), SC_OK);
	assert_int_equal(p->req.body_len, 0);
	assert_int_equal(p->req.body_total, 0);
	assert_string_equal(p->req.body, "");

	/* The same after an abort on a kept connection. */
	send_begin(p, 3, SC_FCGI_RESPONDER, SC_FCGI_KEEP_CONN);
	send_rec(p, SC_FCGI_PARAMS, 3, NULL, 0, 0);
	send_rec(p, SC_FCGI_STDIN, 3, "old body", 8, 0);
	send_rec(p, SC_FCGI_ABORT_REQUEST, 3, NULL, 0, 0);
	send_begin(p, 4, SC_FCGI_RESPONDER, 0);
	send_rec(p, SC_FCGI_PARAMS, 4, NULL, 0, 0);
	send_rec(p, SC_FCGI_STDIN, 4, NULL, 0, 0);
	assert_int_equal(
	    sc_fcgi_read_request(p->conn, &p->req, 1024, 1000, &stop), SC_OK);
	assert_int_equal(p->req.id, 4);
	assert_int_equal(p->req.body_len, 0);
	assert_string_equal(p->req.body, "");
	assert_int_equal(recv_rec(p, &id, out, &len), SC_FCGI_END_REQUEST);
	assert_int_equal(id, 3);
}

/*
 * Allocation failure at each point of reading a request (the request's
 * body, its PARAMS arena, the parsed pairs): SC_ERR_NOMEM and nothing
 * else, r left freeable, no leak (ASan); once every allocation
 * succeeds, the request reads whole.
 */
static void test_alloc_failure(void **state)
{
	unsigned char params[1024];
	char longval[300], body[3000];
	atomic_int stop = 0;
	long n;
	int done = 0;

	(void)state;
	memset(longval, 'v', sizeof(longval) - 1);
	longval[sizeof(longval) - 1] = '\0';
	memset(body, 'b', sizeof(body));
	for (n = 0; !done && n < 1000; n++) {
		sc_fcgi_conn *conn = test_calloc(1, sizeof(*conn));
		pair p = {-1, -1, conn, {0}};
		int fds[2];
		size_t k = 0;
		sc_err rc;

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
		p.app = fds[0];
		p.server = fds[1];
		sc_fcgi_conn_setup(p.app);
		conn->fd = p.app;
		for (int i = 0; i < 40; i++) {
			char name[16];

			snprintf(name, sizeof(name), "HTTP_X_%d", i);
			nv(params, &k, name, i == 7 ? longval : "x");
		}
		send_begin(&p, 3, SC_FCGI_RESPONDER, 0);
		send_rec(&p, SC_FCGI_PARAMS, 3, params, k, 0);
		send_rec(&p, SC_FCGI_PARAMS, 3, NULL, 0, 0);
		send_rec(&p, SC_FCGI_STDIN, 3, body, sizeof(body), 0);
		send_rec(&p, SC_FCGI_STDIN, 3, NULL, 0, 0);
		sc_alloc_fail_after(n);
		rc = sc_fcgi_read_request(conn, &p.req, 4096, 1000, &stop);
		sc_alloc_fail_after(-1);
		if (rc == SC_OK) {
			done = 1;
			assert_int_equal(p.req.nparams, 40);
			assert_string_equal(
			    sc_fcgi_param_get(&p.req, "HTTP_X_7"), longval);
			assert_int_equal(p.req.body_len, sizeof(body));
			assert_memory_equal(p.req.body, body, sizeof(body));
		} else {
			assert_int_equal(rc, SC_ERR_NOMEM);
		}
		sc_fcgi_request_free(&p.req);
		close(p.app);
		close(p.server);
		test_free(conn);
	}
	assert_true(done);
	assert_true(n > 3); /* several points failed before */
	print_message("alloc failures: %ld points\n", n - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_request, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_management, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_abort_then_request, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_body_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_late_params, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rebegin_same_id_arena, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_abort_rebegin_arena, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_rebegin_resets_body, setup,
					    teardown),
	    cmocka_unit_test(test_alloc_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
