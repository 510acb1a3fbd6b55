/*
 * fcgi/route.h — which route a request is for, from the CGI variables
 * the web servers set (each a little differently), and its query
 * string.  Prefix sc_route_.  Pure functions: no I/O, no store.
 */
#ifndef SC_FCGI_ROUTE_H
#define SC_FCGI_ROUTE_H

#include <stddef.h>

#include "common/error.h"
#include "common/topic.h"

typedef enum sc_route_kind {
	SC_ROUTE_NONE = 0, /* no such route: 404 */
	SC_ROUTE_STATE,	   /* GET /state/{topic} */
	SC_ROUTE_EVENTS,   /* POST /events/{topic} */
	SC_ROUTE_STREAM	   /* GET /stream/{topic} or /stream?topic=... */
} sc_route_kind;

typedef struct sc_route {
	sc_route_kind kind;
	int has_topic;		      /* a topic was in the path */
	char topic[SC_TOPIC_MAX + 1]; /* percent-decoded, checked */
} sc_route;

/*
 * Matches path (a URL path, percent-encoded or not, query string
 * allowed and ignored) against the routes by its last segments, so the
 * mount point does not matter: ".../state/T", ".../events/T",
 * ".../stream/T" and ".../stream".  Fills *out and returns SC_OK;
 * SC_ERR_NOT_FOUND (kind NONE) when no route matches; SC_ERR_TOPIC with
 * err set when the route matches but the topic is invalid (400).
 */
sc_err sc_route_match(const char *path, sc_route *out, sc_error *err);

/*
 * Routes a request from its CGI variables (any may be NULL): the path
 * of REQUEST_URI when the server set it and it matches a route, else
 * PATH_INFO, else SCRIPT_NAME followed by PATH_INFO.  Same results as
 * sc_route_match on the first candidate that matches, else on the
 * first candidate at all, except that a topic is percent-decoded
 * exactly once: in REQUEST_URI (as the client sent it) it is decoded,
 * in PATH_INFO and SCRIPT_NAME (which the servers decode) it is not.
 */
sc_err sc_route_request(const char *path_info, const char *request_uri,
			const char *script_name, sc_route *out, sc_error *err);

/*
 * Percent-decodes n bytes of s into out (outlen bytes with the NUL);
 * plus_space: '+' decodes to ' ' (query strings).  Returns the decoded
 * length, or -1 when it does not fit or a %XX is malformed.
 */
long sc_route_decode(const char *s, size_t n, int plus_space, char *out,
		     size_t outlen);

/*
 * Finds the index-th (0-based) parameter named name in the query string
 * query (may be NULL) and decodes its value into out.  Returns 1 when
 * found, 0 when not, -1 when found but malformed or longer than outlen.
 */
int sc_route_query(const char *query, const char *name, size_t index, char *out,
		   size_t outlen);

/*
 * The resume cursor of a stream request: the Last-Event-ID header
 * (last_event_id, may be NULL), else ?after=, else ?last_event_id=.
 * Copies it into out (SC_CURSOR_MAX) and returns 1, or returns 0 when
 * there is none (or it is too long to be a cursor: full state).
 */
int sc_route_cursor(const char *last_event_id, const char *query,
		    char out[SC_CURSOR_MAX]);

/*
 * Whether an If-None-Match header value (may be NULL) matches etag (a
 * quoted entity tag): "*", or one of its comma-separated tags equal to
 * etag, weak (W/) or not.  Returns 1 or 0.
 */
int sc_route_etag_match(const char *if_none_match, const char *etag);

/*
 * Whether the media type of a Content-Type value (may be NULL) is
 * application/json (case-insensitive, parameters ignored).  1 or 0.
 */
int sc_route_is_json(const char *content_type);

#endif
