/*
 * fcgi/cors.c — which origins may read and write, and the
 * Access-Control-* headers (see cors.h).
 */
#include "fcgi/cors.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define ALLOW_HEADERS "Content-Type, Last-Event-ID, If-None-Match"

sc_err sc_cors_allow(sc_cors *c, const char *origin, sc_error *err)
{
	const char *host;
	size_t len = strlen(origin), i;

	if (strcmp(origin, "*") == 0) {
		c->any = 1;
		return SC_OK;
	}
	if (strncmp(origin, "http://", 7) == 0)
		host = origin + 7;
	else if (strncmp(origin, "https://", 8) == 0)
		host = origin + 8;
	else
		return sc_error_set(err, SC_ERR_INVALID,
				    "--allow-origin %s: give * or "
				    "http(s)://HOST[:PORT]",
				    origin);
	if (host[0] == '\0' || host[strcspn(host, "/?#@ \t\r\n,")] != '\0')
		return sc_error_set(err, SC_ERR_INVALID,
				    "--allow-origin %s: an origin has no path, "
				    "no trailing slash, no user",
				    origin);
	if (len > SC_CORS_ORIGIN_MAX)
		return sc_error_set(err, SC_ERR_TOO_BIG,
				    "--allow-origin: longer than %d bytes",
				    SC_CORS_ORIGIN_MAX);
	for (i = 0; i < c->n; i++)
		if (strcmp(c->origins[i], origin) == 0)
			return SC_OK;
	if (c->n == SC_CORS_MAX_ORIGINS)
		return sc_error_set(err, SC_ERR_TOO_BIG,
				    "--allow-origin: at most %d origins",
				    SC_CORS_MAX_ORIGINS);
	memcpy(c->origins[c->n++], origin, len + 1);
	return SC_OK;
}

int sc_cors_enabled(const sc_cors *c)
{
	return c != NULL && (c->n > 0 || c->any);
}

/* Whether origin names host itself (same origin, whatever the scheme:
 * a TLS proxy in front may have turned https into http). */
static int same_origin(const char *origin, const char *host)
{
	const char *p = strstr(origin, "://");

	return host != NULL && p != NULL && strcasecmp(p + 3, host) == 0;
}

static int listed(const sc_cors *c, const char *origin)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->origins[i], origin) == 0)
			return 1;
	return 0;
}

/* The headers of an answer to an allowed origin. */
static void allow(char head[SC_CORS_HEAD_MAX], const char *origin,
		  int credentials)
{
	if (credentials)
		snprintf(head, SC_CORS_HEAD_MAX,
			 "Access-Control-Allow-Origin: %s\r\n"
			 "Access-Control-Allow-Credentials: true\r\n"
			 "Access-Control-Expose-Headers: ETag\r\n"
			 "Vary: Origin\r\n",
			 origin);
	else
		snprintf(head, SC_CORS_HEAD_MAX,
			 "Access-Control-Allow-Origin: *\r\n"
			 "Access-Control-Expose-Headers: ETag\r\n");
}

int sc_cors_check(const sc_cors *c, const char *origin, const char *host,
		  int write, char head[SC_CORS_HEAD_MAX])
{
	head[0] = '\0';
	if (!sc_cors_enabled(c) || origin == NULL || same_origin(origin, host))
		return 1;
	if (strlen(origin) <= SC_CORS_ORIGIN_MAX && listed(c, origin)) {
		allow(head, origin, 1);
		return 1;
	}
	if (c->any && !write) {
		allow(head, origin, 0);
		return 1;
	}
	if (c->n > 0)
		snprintf(head, SC_CORS_HEAD_MAX, "Vary: Origin\r\n");
	return !write;
}

int sc_cors_preflight(const sc_cors *c, const char *origin, const char *host,
		      const char *method, char head[SC_CORS_HEAD_MAX])
{
	int write = method == NULL ||
		    (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0);
	size_t n;

	if (method != NULL && strcmp(method, "GET") != 0 &&
	    strcmp(method, "HEAD") != 0 && strcmp(method, "POST") != 0) {
		head[0] = '\0';
		return 0;
	}
	if (!sc_cors_check(c, origin, host, write, head) || head[0] == '\0' ||
	    strncmp(head, "Vary", 4) == 0)
		return origin == NULL || same_origin(origin, host);
	n = strlen(head);
	snprintf(head + n, SC_CORS_HEAD_MAX - n,
		 "Access-Control-Allow-Methods: %s\r\n"
		 "Access-Control-Allow-Headers: " ALLOW_HEADERS "\r\n"
		 "Access-Control-Max-Age: 600\r\n",
		 strstr(head, "Credentials") ? "GET, HEAD, POST" : "GET, HEAD");
	return 1;
}
