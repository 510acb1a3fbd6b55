/*
 * fuzz/fuzz_fcgi.c — libFuzzer driver for the FastCGI record reader
 * (fcgi/fcgiwire.h).  The input is the byte stream a web server sends
 * on one connection: records (BEGIN_REQUEST, PARAMS with 1- and 4-byte
 * name-value lengths, STDIN, ABORT, management records, padding).  It
 * is written into a socketpair whose sending end is then shut down, and
 * read as the server's workers do: sc_fcgi_read_request again and again
 * while the server asks to keep the connection.  Each request read must
 * be well formed (NUL-terminated pairs, a body within its limit); its
 * CGI variables then go through the routing of fcgi/route.h, and the
 * bytes left after it through the hub's record parser, as a stream's
 * would.  The application's end is non-blocking, so the answers it
 * writes (GET_VALUES_RESULT, END_REQUEST) never block a run.
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fcgi/fcgiwire.h"
#include "fcgi/hub.h"
#include "fcgi/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small, so that bodies over the limit are easy to reach. */
#define BODY_LIMIT 1000
/* What one write fits in a socketpair's buffer. */
#define INPUT_MAX 65536

static void check_request(const sc_fcgi_request *r)
{
	sc_route route;
	sc_error err;
	char cursor[SC_CURSOR_MAX], topic[SC_TOPIC_MAX + 1];
	const char *query;
	size_t i;

	for (i = 0; i < r->nparams; i++) {
		/* Both are NUL-terminated within the arena. */
		if (strlen(r->params[i].name) > r->arena_len ||
		    strlen(r->params[i].value) > r->arena_len)
			abort();
		if (sc_fcgi_param_get(r, r->params[i].name) == NULL)
			abort();
	}
	if (r->body == NULL || r->body[r->body_len] != '\0' ||
	    r->body_len > BODY_LIMIT || r->body_total < (long long)r->body_len)
		abort();
	if (r->body_too_big &&
	    (r->body_len != 0 || r->body_total <= BODY_LIMIT))
		abort();
	if (!r->body_too_big && r->body_total != (long long)r->body_len)
		abort();

	/* What sc_request_handle does with the variables before the store. */
	sc_error_clear(&err);
	if (sc_route_request(sc_fcgi_param_get(r, "PATH_INFO"),
			     sc_fcgi_param_get(r, "REQUEST_URI"),
			     sc_fcgi_param_get(r, "SCRIPT_NAME"), &route,
			     &err) == SC_OK &&
	    route.has_topic && sc_topic_check(route.topic, NULL) != SC_OK)
		abort();
	query = sc_fcgi_param_get(r, "QUERY_STRING");
	for (i = 0; i < 70; i++)
		if (sc_route_query(query, "topic", i, topic, sizeof(topic)) ==
		    0)
			break;
	sc_route_cursor(sc_fcgi_param_get(r, "HTTP_LAST_EVENT_ID"), query,
			cursor);
	sc_route_etag_match(sc_fcgi_param_get(r, "HTTP_IF_NONE_MATCH"),
			    "\"e-1-t\"");
	sc_route_is_json(sc_fcgi_param_get(r, "CONTENT_TYPE"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sc_fcgi_conn conn;
	static const atomic_int stop = 0;
	sc_fcgi_request req;
	sc_hub_stream *s;
	int fds[2], n;

	if (size > INPUT_MAX)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
		abort();
	if (size > 0 && write(fds[1], data, size) != (ssize_t)size)
		abort();
	shutdown(fds[1], SHUT_WR);
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	memset(&conn, 0, sizeof(conn));
	conn.fd = fds[0];
	memset(&req, 0, sizeof(req));
	/* At most as many requests as the input has begin records. */
	for (n = 0; n <= (int)(size / 16); n++) {
		if (sc_fcgi_read_request(&conn, &req, BODY_LIMIT, 0, &stop) !=
		    SC_OK)
			break;
		check_request(&req);
		if (conn.start > conn.end || conn.end > sizeof(conn.buf))
			abort();
		/* A stream's request: the rest goes to the hub's parser. */
		s = sc_hub_stream_new(fds[0], req.id, req.keep_conn, NULL);
		if (s == NULL)
			abort();
		sc_hub_stream_feed(s, conn.buf + conn.start,
				   conn.end - conn.start);
		sc_hub_stream_free(s);
		if (!req.keep_conn)
			break;
	}
	sc_fcgi_request_free(&req);
	close(fds[0]);
	close(fds[1]);
	return 0;
}
