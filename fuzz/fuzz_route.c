/*
 * fuzz/fuzz_route.c — libFuzzer driver for the request routing of
 * fcgi/route.h.  The input is up to eight CGI values separated by NUL
 * bytes, in this order: PATH_INFO, REQUEST_URI, SCRIPT_NAME,
 * QUERY_STRING, HTTP_LAST_EVENT_ID, HTTP_IF_NONE_MATCH, an ETag and
 * CONTENT_TYPE; a value the input does not reach is absent (NULL).
 * Checked: a matched topic passes sc_topic_check; decoding stays
 * inside buffers of the exact size given (heap, so ASan sees one byte
 * over), gives a NUL-free string no longer than its input and agrees
 * with itself across output sizes; query values and cursors fit their
 * buffers; a quoted ETag matches itself, weak, in a list and "*".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	F_PATH_INFO,
	F_REQUEST_URI,
	F_SCRIPT_NAME,
	F_QUERY,
	F_LAST_EVENT_ID,
	F_IF_NONE_MATCH,
	F_ETAG,
	F_CONTENT_TYPE,
	NFIELDS
};

static void check_route(const char *path)
{
	sc_route route;
	sc_error err;
	sc_err rc;

	sc_error_clear(&err);
	rc = sc_route_match(path, &route, &err);
	if (rc == SC_OK) {
		if (route.kind == SC_ROUTE_NONE)
			abort();
		if (route.has_topic &&
		    sc_topic_check(route.topic, NULL) != SC_OK)
			abort();
	} else if (rc == SC_ERR_NOT_FOUND) {
		if (route.kind != SC_ROUTE_NONE)
			abort();
	} else if (rc != SC_ERR_TOPIC || err.code != rc ||
		   err.message[0] == '\0') {
		abort();
	}
}

/* Decodes s into heap buffers of several exact sizes. */
static void check_decode(const char *s)
{
	size_t n = strlen(s), sizes[] = {0, 1, 2, 8, SC_TOPIC_MAX + 1, n + 1};
	long full[2];
	size_t k;
	int plus;

	for (plus = 0; plus < 2; plus++) {
		char *buf = malloc(n + 1);

		if (buf == NULL)
			abort();
		full[plus] = sc_route_decode(s, n, plus, buf, n + 1);
		if (full[plus] >= 0 && ((size_t)full[plus] > n ||
					strlen(buf) != (size_t)full[plus]))
			abort();
		for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			char *out = malloc(sizes[k] ? sizes[k] : 1);
			long got;

			if (out == NULL)
				abort();
			got = sc_route_decode(s, n, plus, out, sizes[k]);
			/* Fits exactly when the whole decode is shorter. */
			if (full[plus] >= 0 && (size_t)full[plus] < sizes[k]) {
				if (got != full[plus] || strcmp(out, buf) != 0)
					abort();
			} else if (got != -1) {
				abort();
			}
			free(out);
		}
		free(buf);
	}
	/* '+' only differs in query strings; errors do not depend on it. */
	if ((full[0] < 0) != (full[1] < 0) ||
	    (full[0] >= 0 && full[0] != full[1]))
		abort();
}

static void check_query(const char *query)
{
	static const char *const names[] = {"topic", "after", "last_event_id",
					    ""};
	size_t i, q;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (q = 0; q < 80; q++) {
			char *out = malloc(SC_TOPIC_MAX + 1);
			int found;

			if (out == NULL)
				abort();
			found = sc_route_query(query, names[i], q, out,
					       SC_TOPIC_MAX + 1);
			if (found == 1 && strlen(out) > SC_TOPIC_MAX)
				abort();
			free(out);
			if (found == 0)
				break;
			if (found != 1 && found != -1)
				abort();
		}
	}
}

static void check_etag(const char *inm, const char *etag)
{
	size_t n;
	char *list;

	sc_route_etag_match(inm, etag);
	n = strlen(etag);
	if (n < 2 || etag[0] != '"' || etag[n - 1] != '"' ||
	    memchr(etag + 1, '"', n - 2) != NULL)
		return;
	list = malloc(n + 16);
	if (list == NULL)
		abort();
	if (!sc_route_etag_match(etag, etag) || !sc_route_etag_match("*", etag))
		abort();
	strcpy(list, "W/");
	strcat(list, etag);
	if (!sc_route_etag_match(list, etag))
		abort();
	strcpy(list, "\"x\" ,W/");
	strcat(list, etag);
	strcat(list, ",");
	if (!sc_route_etag_match(list, etag))
		abort();
	free(list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *f[NFIELDS] = {NULL};
	char *copy, *p, *end, cursor[SC_CURSOR_MAX];
	sc_route route;
	sc_error err;
	size_t i;
	sc_err rc;

	copy = malloc(size + 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	p = copy;
	end = copy + size;
	for (i = 0; i < NFIELDS && p <= end; i++) {
		f[i] = p;
		p += strlen(p) + 1;
	}

	sc_error_clear(&err);
	rc = sc_route_request(f[F_PATH_INFO], f[F_REQUEST_URI],
			      f[F_SCRIPT_NAME], &route, &err);
	if (rc == SC_OK && (route.kind == SC_ROUTE_NONE ||
			    (route.has_topic &&
			     sc_topic_check(route.topic, NULL) != SC_OK)))
		abort();
	if (rc != SC_OK && rc != SC_ERR_NOT_FOUND && rc != SC_ERR_TOPIC)
		abort();
	for (i = 0; i < NFIELDS; i++) {
		if (f[i] == NULL)
			continue;
		if (i <= F_SCRIPT_NAME)
			check_route(f[i]);
		check_decode(f[i]);
	}
	check_route(NULL);
	check_query(f[F_QUERY]);

	memset(cursor, 'x', sizeof(cursor));
	if (sc_route_cursor(f[F_LAST_EVENT_ID], f[F_QUERY], cursor) == 1) {
		if (cursor[0] == '\0' || strlen(cursor) >= SC_CURSOR_MAX)
			abort();
	} else if (cursor[0] != '\0') {
		abort();
	}

	if (f[F_ETAG] != NULL)
		check_etag(f[F_IF_NONE_MATCH], f[F_ETAG]);
	else
		sc_route_etag_match(f[F_IF_NONE_MATCH], "\"e-1-t\"");
	sc_route_is_json(f[F_CONTENT_TYPE]);
	free(copy);
	return 0;
}
