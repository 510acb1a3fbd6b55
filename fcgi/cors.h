/*
 * fcgi/cors.h — cross-origin requests (CORS): the origins an operator
 * allows (--allow-origin), the answer to a preflight, the
 * Access-Control-* headers of every answer, and whether a POST from an
 * Origin may change state.  Prefix sc_cors_.  Pure: no I/O.
 *
 * With no origin configured nothing changes: no Access-Control-* header,
 * OPTIONS is 405, so a browser allows same-origin pages only.  With
 * origins configured:
 *   - a request without Origin, or whose Origin names the request's own
 *     Host, is same-origin: no header, no check;
 *   - an allowed origin gets Access-Control-Allow-Origin (its own name)
 *     and -Allow-Credentials: true on every answer, streams included
 *     (so EventSource withCredentials and fetch credentials work);
 *   - "*" lets any origin read (GET, HEAD, streams: Allow-Origin "*",
 *     no credentials), never POST;
 *   - any other Origin gets no header (the browser hides the answer),
 *     and its POSTs and preflights are refused with 403.
 * POST bodies must be application/json in any case (request.c), which a
 * cross-site form or a "simple" cross-origin fetch cannot send without
 * a preflight.
 */
#ifndef SC_FCGI_CORS_H
#define SC_FCGI_CORS_H

#include <stddef.h>

#include "common/error.h"

#define SC_CORS_MAX_ORIGINS 64
#define SC_CORS_ORIGIN_MAX  255
/* Room for the header lines of any answer (sc_cors_check / preflight). */
#define SC_CORS_HEAD_MAX 1024

/* Zero it, then sc_cors_allow for each origin.  Static storage: nothing
 * to free. */
typedef struct sc_cors {
	char origins[SC_CORS_MAX_ORIGINS][SC_CORS_ORIGIN_MAX + 1];
	size_t n;
	int any; /* "*" was given: any origin may read */
} sc_cors;

/*
 * Allows origin: "*" or "SCHEME://HOST[:PORT]" (http or https, no path,
 * no trailing slash, compared byte for byte with the browser's Origin
 * header).  SC_ERR_INVALID (malformed, "null") or SC_ERR_TOO_BIG (too
 * many, too long) with a message in err.
 */
sc_err sc_cors_allow(sc_cors *c, const char *origin, sc_error *err);

/* Whether any origin was configured (CORS is on).  1 or 0. */
int sc_cors_enabled(const sc_cors *c);

/*
 * The verdict for a request with Origin origin (NULL when absent) to a
 * server reached as host (HTTP_HOST, may be NULL); write: the request
 * changes state (POST).  Fills head (SC_CORS_HEAD_MAX bytes) with the
 * header lines to add to its answer, each ending "\r\n" (possibly
 * none), and returns 1, or returns 0 when the request must be refused
 * with 403 (a POST from an origin not allowed).
 */
int sc_cors_check(const sc_cors *c, const char *origin, const char *host,
		  int write, char head[SC_CORS_HEAD_MAX]);

/*
 * The answer to a preflight (OPTIONS with Origin origin and
 * Access-Control-Request-Method method, either may be NULL) when CORS
 * is on: fills head as above with the Access-Control-Allow-* lines
 * (methods, the request headers Content-Type, Last-Event-ID and
 * If-None-Match, max-age 600) and returns 1 (answer 204), or returns 0
 * (answer 403) when origin may not make that request.
 */
int sc_cors_preflight(const sc_cors *c, const char *origin, const char *host,
		      const char *method, char head[SC_CORS_HEAD_MAX]);

#endif
