/*
 * fcgi/request.c — the routes of docs/protocol.md on a worker thread
 * (see reqint.h): which route a request is for, and GET /state,
 * GET /stream (handed over to the hub), /health, /metrics and CORS;
 * POST /events is fcgi/event.c.
 */
#include "fcgi/request.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "fcgi/reqint.h"
#include "fcgi/route.h"
#include "json/text.h"

#define MAX_STREAM_TOPICS SC_HUB_TOPICS_MAX
/* "topic=" parameters read per stream, repeats included: each is found
 * by a scan from the start of the query, so this bounds the work. */
#define MAX_TOPIC_PARAMS (4 * MAX_STREAM_TOPICS)
#define RETRY_LINE	 "retry: 2000\n\n"

/*
 * Reads topic into *st (may be NULL).  A topic that does not exist is
 * not stored by a read: with create 0, *st is the app's init_state at
 * version 0, its cursor the highest seq now; with create 1 (an event is
 * coming) it is stored first.  *fresh (if not NULL) is 1 when the topic
 * did not exist.  SC_ERR_NOT_FOUND when init_state returns NULL.
 */
static sc_err load_topic(sc_request_env *env, sc_ctx *ctx, const char *topic,
			 sc_store_state *st, int create, int *fresh,
			 sc_error *err)
{
	sc_store_state tmp = {0};
	json_object *init = NULL;
	sc_err rc;

	if (st == NULL)
		st = &tmp;
	if (fresh != NULL)
		*fresh = 0;
	rc = sc_store_get(env->store, topic, st, err);
	if (rc != SC_ERR_NOT_FOUND)
		goto out;
	ctx->topic = topic;
	init = env->app->init_state(ctx, topic);
	if (init == NULL) {
		rc =
		    sc_error_set(err, SC_ERR_NOT_FOUND, "no topic '%s'", topic);
		goto out;
	}
	if (fresh != NULL)
		*fresh = 1;
	if (create) {
		rc = sc_store_create(env->store, topic, init, err);
		if (rc == SC_OK)
			rc = sc_store_get(env->store, topic, st, err);
		goto out;
	}
	sc_error_clear(err);
	rc = sc_store_max_seq(env->store, &st->seq, err);
	if (rc == SC_OK) {
		sc_buf text = {0};

		rc = sc_text_write(&text, init);
		if (rc == SC_OK) {
			st->state = text.p;
			st->state_len = text.len;
		} else {
			sc_buf_free(&text);
			rc = sc_error_set(err, rc,
					  rc == SC_ERR_NOMEM
					      ? "out of memory"
					      : "the initial state is too "
						"large or deep");
		}
	}
	st->version = 0;
out:
	json_object_put(init);
	sc_store_state_free(&tmp);
	return rc;
}

/* --- GET /state/{topic} --------------------------------------------- */

static int get_state(sc_request_env *env, sc_fcgi_conn *c,
		     const sc_fcgi_request *r, sc_ctx *ctx, const char *topic)
{
	sc_store_state st = {0};
	char etag[SC_TOPIC_MAX + 64], extra[SC_TOPIC_MAX + 128];
	sc_error err;
	int rc;

	sc_error_clear(&err);
	if (sc_api_authorize(ctx, topic, &err) != SC_OK) {
		rc = sc_answer_err(env, c, r, &err, NULL);
		goto out;
	}
	if (load_topic(env, ctx, topic, &st, 0, NULL, &err) != SC_OK) {
		rc = sc_answer_err(env, c, r, &err, NULL);
		goto out;
	}
	snprintf(etag, sizeof(etag), "\"%s-%lld-%s\"",
		 sc_store_epoch(env->store), (long long)st.version, topic);
	snprintf(extra, sizeof(extra),
		 "ETag: %s\r\nCache-Control: no-cache\r\n", etag);
	if (sc_route_etag_match(sc_fcgi_param_get(r, "HTTP_IF_NONE_MATCH"),
				etag)) {
		rc = sc_answer(env, c, r, 304, extra, NULL, 0);
		goto out;
	}
	rc = sc_answer_state(env, c, r, topic, &st, extra);
out:
	sc_store_state_free(&st);
	return rc;
}

/* --- GET /stream ---------------------------------------------------- */

static int get_stream(sc_request_env *env, sc_fcgi_conn *c,
		      const sc_fcgi_request *r, sc_ctx *ctx,
		      const sc_route *route)
{
	char head[512 + SC_CORS_HEAD_MAX];
	int head_len;
	const char *query = sc_fcgi_param_get(r, "QUERY_STRING");
	char topics[MAX_STREAM_TOPICS][SC_TOPIC_MAX + 1];
	char cursor[SC_CURSOR_MAX];
	sc_hub_stream *s = NULL;
	size_t n = 0, i, q;
	sc_error err;
	int rc, found;

	sc_error_clear(&err);
	if (route->has_topic)
		memcpy(topics[n++], route->topic, sizeof(route->topic));
	for (q = 0;; q++) {
		char t[SC_TOPIC_MAX + 1];

		found = sc_route_query(query, "topic", q, t, sizeof(t));
		if (found == 0)
			break;
		if (q == MAX_TOPIC_PARAMS) {
			rc = sc_answer_error(env, c, r, 400, NULL, "too_many_topics",
					   "at most 256 topic parameters");
			goto out;
		}
		if (found < 0 || sc_topic_check(t, &err) != SC_OK) {
			rc = sc_answer_error(env, c, r, 400, NULL, "bad_topic",
					   found < 0 ? "a topic is malformed"
						     : err.message);
			goto out;
		}
		for (i = 0; i < n && strcmp(topics[i], t) != 0; i++)
			;
		if (i < n)
			continue;
		if (n == MAX_STREAM_TOPICS) {
			rc = sc_answer_error(env, c, r, 400, NULL, "too_many_topics",
					   "at most 64 topics per stream");
			goto out;
		}
		memcpy(topics[n++], t, sizeof(t));
	}
	if (n == 0) {
		rc = sc_answer_error(env, c, r, 400, NULL, "no_topic",
				   "name a topic: /stream/TOPIC or "
				   "/stream?topic=TOPIC");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (sc_api_authorize(ctx, topics[i], &err) != SC_OK) {
			rc = sc_answer_err(env, c, r, &err, NULL);
			goto out;
		}
	}
	if (env->hub == NULL) {
		rc = sc_answer_error(env, c, r, 503, NULL, "unavailable",
				   "streams are not served here");
		goto out;
	}
	if (env->max_streams > 0 && sc_hub_count(env->hub) >= env->max_streams) {
		rc = sc_answer_error(env, c, r, 503, "Retry-After: 5\r\n",
				   "too_many_streams",
				   "this process holds as many streams as it "
				   "may: retry later");
		goto out;
	}
	sc_route_cursor(sc_fcgi_param_get(r, "HTTP_LAST_EVENT_ID"), query,
			cursor);
	s = sc_hub_stream_new(c->fd, r->id, r->keep_conn, cursor);
	for (i = 0; s != NULL && i < n; i++) {
		sc_store_state st = {0};
		int fresh = 0;
		sc_err e;

		/* A topic never written is not stored: the hub sends its
		 * init_state at version 0 until an event creates it. */
		if (load_topic(env, ctx, topics[i], &st, 0, &fresh, &err) !=
		    SC_OK) {
			sc_hub_stream_free(s);
			s = NULL;
			rc = sc_answer_err(env, c, r, &err, NULL);
			goto out;
		}
		e = sc_hub_stream_topic(s, topics[i], fresh ? st.state : NULL,
					st.state_len);
		sc_store_state_free(&st);
		if (e != SC_OK)
			break;
	}
	if (s == NULL || i < n) {
		rc = sc_answer_error(env, c, r, 503, NULL, "nomem", "out of memory");
		goto out;
	}
	head_len = snprintf(head, sizeof(head),
			    "Status: 200 OK\r\n"
			    "Content-Type: text/event-stream\r\n"
			    "Cache-Control: no-cache\r\n"
			    "X-Accel-Buffering: no\r\n" SC_ANSWER_HEADERS
			    "%s\r\n" RETRY_LINE,
			    c->head_extra ? c->head_extra : "");
	if (head_len < 0 || (size_t)head_len >= sizeof(head) ||
	    sc_fcgi_write(c->fd, r->id, head, (size_t)head_len, NULL, 0, 0) !=
		SC_OK) {
		rc = -1;
		goto out;
	}
	/* Whatever the server sent after the request goes to the hub's
	 * record parser (an abort ends the stream at once). */
	if (sc_hub_stream_feed(s, c->buf + c->start, c->end - c->start)) {
		c->start = c->end;
		rc = sc_fcgi_write(c->fd, r->id, NULL, 0, NULL, 0, 1) == SC_OK
			 ? 0
			 : -1;
		goto out;
	}
	c->start = c->end;
	sc_hub_add(env->hub, s);
	s = NULL;
	rc = 1;
out:
	sc_hub_stream_free(s);
	return rc;
}

/* --- GET /health, GET /metrics, CORS -------------------------------- */

static int monitor(sc_request_env *env, sc_fcgi_conn *c,
		   const sc_fcgi_request *r, sc_metrics_route mr,
		   const char *method)
{
	static const char ok[] = "{\"status\":\"ok\"}";
	static const char mhead[] =
	    "Status: 200 OK\r\n"
	    "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n\r\n";
	char *text;
	size_t len = 0;
	int64_t seq;
	sc_error err;
	int rc;

	sc_error_clear(&err);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return sc_answer_error(env, c, r, 405, "Allow: GET, HEAD\r\n",
				     "method_not_allowed", "use GET");
	if (mr == SC_METRICS_HEALTH) {
		if (sc_store_max_seq(env->store, &seq, &err) != SC_OK)
			return sc_answer_error(env, c, r, 503, NULL, "unavailable",
					     err.message[0] ? err.message
							    : "no database");
		return sc_answer(env, c, r, 200, "Cache-Control: no-store\r\n", ok,
			       sizeof(ok) - 1);
	}
	text = sc_metrics_render(env->metrics,
				 env->hub ? sc_hub_count(env->hub) : 0, &len);
	if (text == NULL)
		return sc_answer_error(env, c, r, 503, NULL, "nomem", "out of memory");
	/* Not JSON: sc_answer() would label it so. */
	if (strcmp(method, "HEAD") == 0)
		len = 0;
	rc = sc_fcgi_write(c->fd, r->id, mhead, sizeof(mhead) - 1, text, len,
			   1) == SC_OK
		 ? 0
		 : -1;
	sc_free(text);
	return rc;
}

/*
 * CORS (cors.h) for a routed request: answers a preflight (0), refuses
 * a POST from an origin that is not allowed with 403 (0, -1 when
 * writing failed), or sets the headers every answer to it carries (in
 * buf) and returns 1 to go on.
 */
static int cross_origin(sc_request_env *env, sc_fcgi_conn *c,
			const sc_fcgi_request *r, const char *method,
			char buf[SC_CORS_HEAD_MAX])
{
	const char *origin = sc_fcgi_param_get(r, "HTTP_ORIGIN");
	const char *host = sc_fcgi_param_get(r, "HTTP_HOST");

	if (!sc_cors_enabled(env->cors))
		return 1;
	if (strcmp(method, "OPTIONS") == 0) {
		if (!sc_cors_preflight(
			env->cors, origin, host,
			sc_fcgi_param_get(r,
					  "HTTP_ACCESS_CONTROL_REQUEST_METHOD"),
			buf))
			return sc_answer_error(env, c, r, 403, NULL,
					     "origin_not_allowed",
					     "this origin may not make this "
					     "request");
		c->head_extra = buf;
		return sc_answer(env, c, r, 204, "Allow: GET, HEAD, POST, OPTIONS\r\n",
			       NULL, 0);
	}
	if (!sc_cors_check(env->cors, origin, host,
			   strcmp(method, "POST") == 0, buf))
		return sc_answer_error(env, c, r, 403, NULL, "origin_not_allowed",
				     "this origin may not send events");
	c->head_extra = buf;
	return 1;
}

/* --- dispatch ------------------------------------------------------- */

enum { M_GET = 1, M_HEAD = 2, M_POST = 4 };

/* The methods each route takes, its Allow header and the advice of its
 * 405. */
static const struct {
	int allowed;
	const char *allow, *use;
} methods[] = {
    [SC_ROUTE_STATE] = {M_GET | M_HEAD, "Allow: GET, HEAD\r\n",
			"use GET on /state/TOPIC"},
    [SC_ROUTE_EVENTS] = {M_POST, "Allow: POST\r\n",
			 "use POST on /events/TOPIC"},
    [SC_ROUTE_STREAM] = {M_GET, "Allow: GET\r\n", "use GET on /stream"},
};

static int method_bit(const char *method)
{
	return strcmp(method, "GET") == 0    ? M_GET
	       : strcmp(method, "HEAD") == 0 ? M_HEAD
	       : strcmp(method, "POST") == 0 ? M_POST
					     : 0;
}

static int dispatch(sc_request_env *env, sc_fcgi_conn *c,
		    sc_fcgi_request *r, char cors[SC_CORS_HEAD_MAX])
{
	const char *method = sc_fcgi_param_get(r, "REQUEST_METHOD");
	sc_route route;
	sc_ctx ctx;
	sc_error err;
	sc_err rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.app = env->app;
	ctx.req = r;
	sc_error_clear(&ctx.err);
	sc_error_clear(&err);
	if (method == NULL)
		method = "GET";
	c->head_extra = NULL;
	if (env->serve_health || env->serve_metrics) {
		sc_metrics_route mr = sc_metrics_route_of(
		    sc_fcgi_param_get(r, "REQUEST_URI"));

		if ((mr == SC_METRICS_HEALTH && env->serve_health) ||
		    (mr == SC_METRICS_METRICS && env->serve_metrics))
			return monitor(env, c, r, mr, method);
	}
	rc =
	    sc_route_request(sc_fcgi_param_get(r, "PATH_INFO"),
			     sc_fcgi_param_get(r, "REQUEST_URI"),
			     sc_fcgi_param_get(r, "SCRIPT_NAME"), &route, &err);
	if (rc == SC_ERR_NOT_FOUND)
		return sc_answer_error(env, c, r, 404, NULL, "not_found",
				     "no such route: use /state/TOPIC, "
				     "/events/TOPIC or /stream");
	if (rc != SC_OK)
		return sc_answer_error(env, c, r, 400, NULL, "bad_topic",
				     err.message);
	rc = cross_origin(env, c, r, method, cors);
	if (rc != 1)
		return rc;
	if (route.kind < SC_ROUTE_STATE || route.kind > SC_ROUTE_STREAM)
		return sc_answer_error(env, c, r, 404, NULL, "not_found",
				       "no such route");
	if (!(methods[route.kind].allowed & method_bit(method)))
		return sc_answer_error(env, c, r, 405, methods[route.kind].allow,
				       "method_not_allowed",
				       methods[route.kind].use);
	if (route.kind == SC_ROUTE_STATE)
		return get_state(env, c, r, &ctx, route.topic);
	if (route.kind == SC_ROUTE_EVENTS)
		return sc_event_post(env, c, r, &ctx, route.topic);
	return get_stream(env, c, r, &ctx, &route);
}

int sc_request_handle(sc_request_env *env, sc_fcgi_conn *c,
		      sc_fcgi_request *r)
{
	char cors[SC_CORS_HEAD_MAX];
	int rc = dispatch(env, c, r, cors);

	c->head_extra = NULL; /* it pointed at cors */
	return rc;
}
