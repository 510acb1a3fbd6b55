/*
 * fcgi/route.c — routes, query strings, cursors and ETags of requests.
 *
 * Web servers disagree on the CGI path variables: lighttpd mounted at
 * "/" puts the whole path in SCRIPT_NAME and leaves PATH_INFO empty;
 * mounted at a prefix it splits prefix/rest into SCRIPT_NAME/PATH_INFO;
 * Apache mod_fcgid sets PATH_INFO below the script; nginx sets what its
 * config says (usually SCRIPT_NAME = the URI, no PATH_INFO); Apache
 * mod_proxy_fcgi sets SCRIPT_NAME to the URL path.  Routes are
 * therefore matched on the last segments of the path, which every
 * server passes somewhere, whatever the mount point.
 */
#include "fcgi/route.h"

#include <string.h>
#include <strings.h>

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long sc_route_decode(const char *s, size_t n, int plus_space, char *out,
		     size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (c == 0 || o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	if (outlen == 0)
		return -1;
	out[o] = '\0';
	return (long)o;
}

/* Whether segment [s, s+n) equals the literal word. */
static int seg_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* sc_route_match; encoded: path is as the client sent it (REQUEST_URI),
 * so the topic is percent-decoded once; else the server decoded it
 * already (PATH_INFO, SCRIPT_NAME) and it is taken as it is: a second
 * decoding would make "%2541" the topic "A". */
static sc_err match(const char *path, int encoded, sc_route *out,
		    sc_error *err)
{
	const char *end, *last, *prev, *p;
	size_t last_n, prev_n;
	sc_route_kind kind = SC_ROUTE_NONE;

	memset(out, 0, sizeof(*out));
	if (path == NULL)
		return SC_ERR_NOT_FOUND;
	end = path + strcspn(path, "?#");
	/* The last segment [last, end) and the one before [prev, last-1). */
	for (p = end; p > path && p[-1] != '/'; p--)
		;
	if (p == path)
		return SC_ERR_NOT_FOUND; /* no '/' at all */
	last = p;
	last_n = (size_t)(end - last);
	prev = NULL;
	prev_n = 0;
	if (last - 1 > path) {
		for (p = last - 1; p > path && p[-1] != '/'; p--)
			;
		prev = p;
		prev_n = (size_t)(last - 1 - p);
	}
	if (prev != NULL) {
		if (seg_is(prev, prev_n, "state"))
			kind = SC_ROUTE_STATE;
		else if (seg_is(prev, prev_n, "events"))
			kind = SC_ROUTE_EVENTS;
		else if (seg_is(prev, prev_n, "stream"))
			kind = SC_ROUTE_STREAM;
	}
	if (kind == SC_ROUTE_STREAM && last_n == 0) {
		out->kind = kind; /* "/stream/": topics in the query */
		return SC_OK;
	}
	if (kind != SC_ROUTE_NONE) {
		out->kind = kind;
		out->has_topic = 1;
		if (encoded ? sc_route_decode(last, last_n, 0, out->topic,
					      sizeof(out->topic)) < 0
			    : last_n >= sizeof(out->topic) ||
				  memchr(last, '\0', last_n) != NULL)
			return sc_error_set(err, SC_ERR_TOPIC,
					    "the topic is malformed or longer "
					    "than %d bytes",
					    SC_TOPIC_MAX);
		if (!encoded) {
			memcpy(out->topic, last, last_n);
			out->topic[last_n] = '\0';
		}
		return sc_topic_check(out->topic, err);
	}
	if (seg_is(last, last_n, "stream")) {
		out->kind = SC_ROUTE_STREAM;
		return SC_OK;
	}
	return SC_ERR_NOT_FOUND;
}

sc_err sc_route_match(const char *path, sc_route *out, sc_error *err)
{
	return match(path, 1, out, err);
}

sc_err sc_route_request(const char *path_info, const char *request_uri,
			const char *script_name, sc_route *out, sc_error *err)
{
	char joined[4096];
	const char *cand[3];
	int encoded[3];
	size_t n = 0, i;
	sc_err rc, first = SC_ERR_NOT_FOUND;
	sc_error first_err;

	if (request_uri != NULL && request_uri[0] != '\0') {
		encoded[n] = 1;
		cand[n++] = request_uri;
	}
	if (path_info != NULL && path_info[0] != '\0') {
		encoded[n] = 0;
		cand[n++] = path_info;
	}
	if (script_name != NULL && script_name[0] != '\0') {
		size_t a = strlen(script_name);
		size_t b = path_info ? strlen(path_info) : 0;

		if (a + b < sizeof(joined)) {
			memcpy(joined, script_name, a);
			memcpy(joined + a, path_info ? path_info : "", b);
			joined[a + b] = '\0';
			encoded[n] = 0;
			cand[n++] = joined;
		}
	}
	sc_error_clear(&first_err);
	for (i = 0; i < n; i++) {
		sc_error e;

		sc_error_clear(&e);
		rc = match(cand[i], encoded[i], out, &e);
		if (rc == SC_OK)
			return SC_OK;
		if (i == 0) {
			first = rc;
			first_err = e;
		}
	}
	if (n > 0)
		match(cand[0], encoded[0], out, NULL);
	else
		memset(out, 0, sizeof(*out));
	if (err != NULL && first != SC_ERR_NOT_FOUND)
		*err = first_err;
	return first;
}

int sc_route_query(const char *query, const char *name, size_t index, char *out,
		   size_t outlen)
{
	const char *p = query, *amp, *eq;
	size_t nl = strlen(name);

	if (query == NULL)
		return 0;
	while (*p != '\0') {
		size_t len;

		amp = strchr(p, '&');
		len = amp ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', len);
		if (eq != NULL && (size_t)(eq - p) == nl &&
		    memcmp(p, name, nl) == 0) {
			if (index == 0) {
				size_t vl = len - nl - 1;

				return sc_route_decode(eq + 1, vl, 1, out,
						       outlen) < 0
					   ? -1
					   : 1;
			}
			index--;
		}
		if (amp == NULL)
			break;
		p = amp + 1;
	}
	return 0;
}

int sc_route_cursor(const char *last_event_id, const char *query,
		    char out[SC_CURSOR_MAX])
{
	if (last_event_id != NULL && last_event_id[0] != '\0') {
		size_t n = strlen(last_event_id);

		if (n >= SC_CURSOR_MAX) {
			out[0] = '\0'; /* the caller passes out on as is */
			return 0;
		}
		memcpy(out, last_event_id, n + 1);
		return 1;
	}
	if (sc_route_query(query, "after", 0, out, SC_CURSOR_MAX) == 1 &&
	    out[0] != '\0')
		return 1;
	if (sc_route_query(query, "last_event_id", 0, out, SC_CURSOR_MAX) ==
		1 &&
	    out[0] != '\0')
		return 1;
	out[0] = '\0';
	return 0;
}

int sc_route_etag_match(const char *inm, const char *etag)
{
	size_t el = strlen(etag);
	const char *p = inm;

	if (inm == NULL)
		return 0;
	while (*p != '\0') {
		const char *q;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		if (*p == '*')
			return 1;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		q = p;
		if (*q == '"') {
			q = strchr(q + 1, '"');
			q = q ? q + 1 : p + strlen(p);
		} else {
			q += strcspn(q, ", \t");
		}
		if ((size_t)(q - p) == el && memcmp(p, etag, el) == 0)
			return 1;
		p = q;
	}
	return 0;
}

int sc_route_is_json(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	if (ct == NULL)
		return 0;
	while (*ct == ' ')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}
