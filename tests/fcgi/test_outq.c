/*
 * tests/fcgi/test_outq.c — a stream's output queue: shared frames
 * written as FCGI_STDOUT records through a socket that takes a few
 * bytes at a time (writes stop anywhere, even inside a record header),
 * frames larger than one record, the end of the response, the limit,
 * allocation failure at each push.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "fcgi/fcgiwire.h"
#include "fcgi/outq.h"

/* Parses the FastCGI records in buf: the STDOUT text into text (its
 * length in *tlen); returns the number of END_REQUEST records seen. */
static int parse(const unsigned char *buf, size_t len, uint16_t id, char *text,
		 size_t *tlen)
{
	size_t off = 0;
	int ends = 0;

	*tlen = 0;
	while (off + 8 <= len) {
		size_t cl = ((size_t)buf[off + 4] << 8) | buf[off + 5];

		assert_int_equal(buf[off], 1);
		assert_int_equal((buf[off + 2] << 8) | buf[off + 3], id);
		assert_true(off + 8 + cl + buf[off + 6] <= len);
		if (buf[off + 1] == SC_FCGI_STDOUT) {
			memcpy(text + *tlen, buf + off + 8, cl);
			*tlen += cl;
		} else {
			assert_int_equal(buf[off + 1], SC_FCGI_END_REQUEST);
			ends++;
		}
		off += 8 + cl + buf[off + 6];
	}
	assert_int_equal(off, len);
	return ends;
}

static void test_partial_writes(void **state)
{
	static char big[150000], want[200000], text[200000];
	static unsigned char wire[250000];
	sc_sse_frame *f1, *f2, *f3;
	sc_outq q;
	int fds[2], sz = 4096, rc, rounds = 0;
	size_t got = 0, tlen, wl;
	ssize_t n;

	(void)state;
	memset(&q, 0, sizeof(q));
	q.reqid = 513;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	f1 = sc_sse_frame_new("data: one\n\n", 11);
	f2 = sc_sse_frame_new(big, sizeof(big)); /* three records */
	f3 = sc_sse_frame_new(": heartbeat\n\n", 13);
	assert_int_equal(sc_outq_push(&q, f1, 1 << 20), SC_OK);
	assert_int_equal(sc_outq_push(&q, f2, 1 << 20), SC_OK);
	assert_int_equal(sc_outq_push(&q, f3, 1 << 20), SC_OK);
	assert_int_equal(sc_outq_push(&q, f1, 1 << 20), SC_OK);
	assert_int_equal(sc_outq_push(&q, NULL, 1 << 20), SC_OK);
	assert_int_equal(f1->refs, 3);
	assert_int_equal(q.queued, 11 + sizeof(big) + 13 + 11);
	/* Drain the peer a little at a time between flushes. */
	do {
		rc = sc_outq_flush(&q, fds[0]);
		assert_true(rc >= 0);
		n = read(fds[1], wire + got, 777);
		if (n > 0)
			got += (size_t)n;
		rounds++;
	} while ((rc == 1 || n > 0) && rounds < 100000);
	assert_int_equal(rc, 0);
	assert_true(sc_outq_empty(&q));
	assert_int_equal(q.queued, 0);
	assert_int_equal(f1->refs, 1);
	wl = 11 + sizeof(big) + 13 + 11;
	memcpy(want, "data: one\n\n", 11);
	memcpy(want + 11, big, sizeof(big));
	memcpy(want + 11 + sizeof(big), ": heartbeat\n\ndata: one\n\n", 24);
	assert_int_equal(parse(wire, got, 513, text, &tlen), 1);
	assert_int_equal(tlen, wl);
	assert_memory_equal(text, want, wl);
	sc_sse_frame_unref(f1);
	sc_sse_frame_unref(f2);
	sc_sse_frame_unref(f3);
	close(fds[0]);
	close(fds[1]);
}

static void test_limit_and_errors(void **state)
{
	sc_sse_frame *f = sc_sse_frame_new("0123456789", 10);
	sc_outq q;
	int fds[2];

	(void)state;
	memset(&q, 0, sizeof(q));
	/* The first frame goes in whatever its size; then the limit. */
	assert_int_equal(sc_outq_push(&q, f, 5), SC_OK);
	assert_int_equal(sc_outq_push(&q, f, 15), SC_ERR_TOO_BIG);
	assert_int_equal(sc_outq_push(&q, f, 20), SC_OK);
	assert_int_equal(f->refs, 3);
	assert_false(sc_outq_midway(&q));
	/* A peer that is gone. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	close(fds[1]);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(sc_outq_flush(&q, fds[0]), -1);
	sc_outq_clear(&q);
	assert_true(sc_outq_empty(&q));
	assert_int_equal(f->refs, 1);
	sc_outq_clear(NULL);
	sc_sse_frame_unref(f);
	close(fds[0]);
}

/*
 * Allocation failure at each push (one node per frame or end): the push
 * fails with SC_ERR_NOMEM and queues nothing (no reference taken), the
 * frames pushed before it are written whole, nothing leaks (ASan).
 */
static void test_alloc_failure(void **state)
{
	static unsigned char wire[4096];
	static char text[4096];
	sc_sse_frame *f = sc_sse_frame_new("data: x\n\n", 9);
	long n;
	int done = 0;

	(void)state;
	for (n = 0; !done; n++) {
		sc_outq q;
		int fds[2], i, pushed = 0, ends;
		size_t got = 0, tlen;
		ssize_t r;
		sc_err rc = SC_OK;

		memset(&q, 0, sizeof(q));
		q.reqid = 9;
		sc_alloc_fail_after(n);
		for (i = 0; i < 4 && rc == SC_OK; i++) {
			rc = sc_outq_push(&q, i < 3 ? f : NULL, 1 << 20);
			if (rc == SC_OK)
				pushed++;
		}
		sc_alloc_fail_after(-1);
		if (rc != SC_OK) {
			assert_int_equal(rc, SC_ERR_NOMEM);
			assert_int_equal(pushed, n);
		}
		assert_int_equal(f->refs, 1 + (pushed < 3 ? pushed : 3));
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
		fcntl(fds[0], F_SETFL, O_NONBLOCK);
		assert_int_equal(sc_outq_flush(&q, fds[0]), 0);
		close(fds[0]);
		while ((r = read(fds[1], wire + got, sizeof(wire) - got)) > 0)
			got += (size_t)r;
		close(fds[1]);
		ends = parse(wire, got, 9, text, &tlen);
		assert_int_equal(tlen, 9 * (size_t)(pushed < 3 ? pushed : 3));
		assert_int_equal(ends, pushed == 4);
		assert_true(sc_outq_empty(&q));
		assert_int_equal(f->refs, 1);
		sc_outq_clear(&q);
		done = pushed == 4;
	}
	assert_int_equal(n, 5);
	sc_sse_frame_unref(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_partial_writes),
	    cmocka_unit_test(test_limit_and_errors),
	    cmocka_unit_test(test_alloc_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
