/*
 * tests/fcgi/test_hub.c — the stream hub in process, with allocation
 * failure at each point: starting it, a stream handed over (its topics,
 * its registration and first frames from the store), an answer it
 * finishes writing (sc_hub_respond), stopping it.  Each failure must
 * give a clean error or a closed connection: no crash, no hang, no leak
 * (ASan); once every allocation succeeds, the frames are all there.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include "tests/support.h"

#include "common/alloc.h"
#include "fcgi/fcgiwire.h"
#include "fcgi/hub.h"

#define BIG (256 * 1024) /* an answer larger than the socket takes */

static char big[BIG];

/* The text of the FCGI_STDOUT records of id in buf[0..len) (appended
 * to text, NUL-terminated; cap bytes) and whether an FCGI_END_REQUEST
 * closed them.  The records must be well formed and whole. */
static int parse(const unsigned char *buf, size_t len, uint16_t id, char *text,
		 size_t cap, size_t *tlen)
{
	size_t off = 0;
	int ended = 0;

	*tlen = 0;
	while (off < len) {
		sc_fcgi_hdr h;

		assert_true(off + SC_FCGI_HEADER_LEN <= len);
		sc_fcgi_header_parse(buf + off, &h);
		assert_int_equal(h.version, 1);
		assert_int_equal(h.id, id);
		assert_false(ended);
		off += SC_FCGI_HEADER_LEN;
		assert_true(off + h.content_len + h.padding <= len);
		if (h.type == SC_FCGI_STDOUT) {
			assert_true(*tlen + h.content_len < cap);
			memcpy(text + *tlen, buf + off, h.content_len);
			*tlen += h.content_len;
		} else {
			assert_int_equal(h.type, SC_FCGI_END_REQUEST);
			ended = 1;
		}
		off += h.content_len + h.padding;
	}
	text[*tlen] = '\0';
	return ended;
}

/* Reads fd into buf (cap bytes) until EOF, or, when until is not NULL,
 * until buf holds until; returns the bytes now in buf. */
static size_t read_until(int fd, unsigned char *buf, size_t cap, size_t got,
			 const char *until)
{
	ssize_t n;

	for (;;) {
		if (until != NULL) {
			buf[got] = '\0';
			if (memmem(buf, got, until, strlen(until)) != NULL)
				return got;
		}
		assert_true(got < cap - 1);
		n = read(fd, buf + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return got;
		got += (size_t)n;
	}
}

/* A reader of a connection to EOF on a thread of its own. */
typedef struct drain {
	int fd;
	unsigned char *buf;
	size_t cap, got;
	pthread_t thread;
} drain;

static void *drain_main(void *arg)
{
	drain *d = arg;

	d->got = read_until(d->fd, d->buf, d->cap, 0, NULL);
	return NULL;
}

static void test_alloc_failure(void **state)
{
	static unsigned char wire[BIG + 65536];
	static char text[BIG + 65536];
	const char *path = scratch_path("hub.db");
	sc_hub_options opt;
	sc_store *s = open_db(path);
	json_object *init = J("{\"a\":1}");
	sc_sse_frame *answer;
	sc_error err;
	long n, failures = 0;
	int done = 0;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(sc_store_create(s, "t", init, &err), SC_OK);
	json_object_put(init);
	sc_store_close(s);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	answer = sc_sse_frame_new(big, sizeof(big));
	assert_non_null(answer);
	memset(&opt, 0, sizeof(opt));
	for (n = 0; !done && n < 3000; n++) {
		int fds[2], rfds[2], rr = -2, handed = 0, sz = 4096, ended;
		sc_hub_stream *st = NULL;
		sc_hub *h = NULL;
		drain dr;
		size_t got = 0, tlen;
		long used;
		sc_err rc;

		s = open_db(path);
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, rfds), 0);
		setsockopt(rfds[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		sc_alloc_fail_after(n);
		rc = sc_hub_start(&opt, s, &h, &err); /* takes s */
		if (rc != SC_OK) {
			assert_int_equal(rc, SC_ERR_NOMEM);
			assert_null(h);
			close(rfds[0]);
			goto next;
		}
		st = sc_hub_stream_new(fds[0], 1, 0, NULL);
		if (st != NULL &&
		    sc_hub_stream_topic(st, "t", NULL, 0) == SC_OK &&
		    sc_hub_stream_topic(st, "u", "{\"b\":2}", 7) == SC_OK) {
			sc_hub_add(h, st); /* the hub owns fds[0] now */
			handed = 1;
		} else {
			sc_hub_stream_free(st);
		}
		/* The peer reads the answer as it comes (without a hub to
		 * hand it to, sc_hub_respond writes it blocking). */
		dr.fd = rfds[1];
		dr.buf = wire;
		dr.cap = sizeof(wire);
		assert_int_equal(
		    pthread_create(&dr.thread, NULL, drain_main, &dr), 0);
		rr = sc_hub_respond(h, rfds[0], 2, 0, &answer, 1);
		assert_true(rr >= -1 && rr <= 1);
		/* The hub finishes the answer and closes it (1); or it was
		 * written whole at once (0) or not at all (-1): ours. */
		if (rr != 1)
			close(rfds[0]);
		pthread_join(dr.thread, NULL);
		ended = parse(wire, dr.got, 2, text, sizeof(text), &tlen);
		if (rr >= 0) {
			assert_true(ended);
			assert_int_equal(tlen, sizeof(big));
			assert_memory_equal(text, big, sizeof(big));
		}
		/* The stream's first frames, or its connection closed. */
		got = 0;
		if (handed)
			got = read_until(fds[1], wire, sizeof(wire), 0,
					 "\"u\",\"version\":0");
		sc_hub_stop(h);
	next:
		used = sc_alloc_count();
		sc_alloc_fail_after(-1);
		if (!handed)
			close(fds[0]);
		got = read_until(fds[1], wire, sizeof(wire), got, NULL);
		ended = parse(wire, got, 1, text, sizeof(text), &tlen);
		close(fds[1]);
		close(rfds[1]);
		if (used > n) {
			failures++;
			continue;
		}
		/* Nothing failed: the whole exchange. */
		done = 1;
		assert_int_equal(rr, 1);
		assert_true(ended);
		assert_non_null(strstr(text, "event: state\ndata: "
					     "{\"topic\":\"t\",\"version\":0,"
					     "\"state\":{\"a\":1}}\n"));
		assert_non_null(strstr(text, "event: state\ndata: "
					     "{\"topic\":\"u\",\"version\":0,"
					     "\"state\":{\"b\":2}}\n"));
		assert_non_null(strstr(text, "retry: 0\n\n"));
	}
	assert_true(done);
	assert_true(failures > 10);
	print_message("alloc failures: %ld points\n", failures);
	sc_sse_frame_unref(answer);
}

static int setup(void **state)
{
	(void)state;
	return scratch_setup("hub");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alloc_failure),
	};

	return cmocka_run_group_tests(tests, setup, scratch_teardown);
}
