/*
 * fcgi/request.c — the routes of docs/protocol.md on a worker thread, and the
 * handler API of statechannel.h (sc_state, sc_set_state, ...).
 */
#include "fcgi/request.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "fcgi/route.h"
#include "fcgi/sse.h"
#include "json/value.h"

#define MAX_STREAM_TOPICS SC_HUB_TOPICS_MAX
/* "topic=" parameters read per stream, repeats included: each is found
 * by a scan from the start of the query, so this bounds the work. */
#define MAX_TOPIC_PARAMS (4 * MAX_STREAM_TOPICS)
#define RETRY_LINE	 "retry: 2000\n\n"

struct sc_ctx {
	const sc_app *app;
	const sc_fcgi_request *req;
	const char *topic;
	sc_store_txn *txn;
	int rejected;
	char code[64];
	sc_error err; /* why the handler failed */
};

/* --- the handler API ------------------------------------------------ */

void *sc_app_data(sc_ctx *ctx)
{
	return ctx->app->data;
}

const char *sc_topic(sc_ctx *ctx)
{
	return ctx->topic;
}

const char *sc_param(sc_ctx *ctx, const char *name)
{
	return ctx->req ? sc_fcgi_param_get(ctx->req, name) : NULL;
}

json_object *sc_state(sc_ctx *ctx)
{
	return ctx->txn ? sc_store_txn_state(ctx->txn) : NULL;
}

sqlite3 *sc_db(sc_ctx *ctx)
{
	return ctx->txn ? sc_store_txn_db(ctx->txn) : NULL;
}

int sc_set_state(sc_ctx *ctx, json_object *state)
{
	if (ctx->txn == NULL) {
		json_object_put(state);
		return sc_error_set(&ctx->err, SC_ERR_INVALID,
				    "sc_set_state outside on_event");
	}
	return sc_store_txn_set(ctx->txn, state, &ctx->err);
}

int sc_apply_patch(sc_ctx *ctx, json_object *ops)
{
	if (ctx->txn == NULL)
		return sc_error_set(&ctx->err, SC_ERR_INVALID,
				    "sc_apply_patch outside on_event");
	return sc_store_txn_patch(ctx->txn, ops, &ctx->err);
}

int sc_patch_state(sc_ctx *ctx, const char *path, json_object *value)
{
	json_object *ops = NULL, *op;
	sc_err rc = SC_ERR_NOMEM;

	if (ctx->txn == NULL) {
		json_object_put(value);
		return sc_error_set(&ctx->err, SC_ERR_INVALID,
				    "sc_patch_state outside on_event");
	}
	ops = json_object_new_array();
	op = json_object_new_object();
	if (ops == NULL || op == NULL || json_object_array_add(ops, op) != 0) {
		json_object_put(op);
		json_object_put(value);
		goto out;
	}
	json_object_object_add(op, "op", json_object_new_string("replace"));
	json_object_object_add(op, "path", json_object_new_string(path));
	if (json_object_object_add(op, "value", value) != 0) {
		json_object_put(value);
		goto out;
	}
	rc = sc_store_txn_patch(ctx->txn, ops, &ctx->err);
	if (rc == SC_ERR_PATCH) {
		/* No such member yet: add it (or append with "/-"). */
		json_object_object_add(op, "op", json_object_new_string("add"));
		rc = sc_store_txn_patch(ctx->txn, ops, &ctx->err);
	}
out:
	if (rc == SC_ERR_NOMEM)
		sc_error_set(&ctx->err, rc, "out of memory");
	json_object_put(ops);
	return rc;
}

int sc_reject(sc_ctx *ctx, const char *code, const char *message)
{
	ctx->rejected = 1;
	snprintf(ctx->code, sizeof(ctx->code), "%s", code ? code : "rejected");
	sc_error_set(&ctx->err, SC_ERR_REJECTED, "%s",
		     message ? message : "the event was rejected");
	return SC_ERR_REJECTED;
}

/* --- answers -------------------------------------------------------- */

int sc_request_status(sc_err code)
{
	switch (code) {
	case SC_OK:
		return 200;
	case SC_ERR_INVALID:
	case SC_ERR_JSON:
	case SC_ERR_TOO_DEEP:
	case SC_ERR_TOPIC:
	case SC_ERR_CURSOR:
		return 400;
	case SC_ERR_FORBIDDEN:
		return 403;
	case SC_ERR_NOT_FOUND:
		return 404;
	case SC_ERR_TOO_BIG:
		return 413;
	case SC_ERR_REJECTED:
	case SC_ERR_POINTER:
	case SC_ERR_PATCH:
	case SC_ERR_TEST:
		return 422;
	case SC_ERR_NOMEM:
	case SC_ERR_BUSY:
	case SC_ERR_STORE:
	case SC_ERR_SCHEMA:
	case SC_ERR_READONLY:
	case SC_ERR_IO:
		return 503;
	default:
		return 500;
	}
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Payload Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

/* Writes a response: status, headers (extra: whole "Name: v\r\n"
 * lines), a JSON body (may be NULL). */
static int respond(sc_fcgi_conn *c, const sc_fcgi_request *r, int status,
		   const char *extra, const char *body, size_t len)
{
	char head[1024 + SC_CORS_HEAD_MAX];
	const char *method = sc_fcgi_param_get(r, "REQUEST_METHOD");
	int n;

	n = snprintf(head, sizeof(head), "Status: %d %s\r\n%s%s%s%s\r\n",
		     status, reason(status),
		     body ? "Content-Type: application/json\r\n" : "",
		     status >= 400 ? "Cache-Control: no-store\r\n" : "",
		     extra ? extra : "", c->head_extra ? c->head_extra : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	if (method != NULL && strcmp(method, "HEAD") == 0)
		body = NULL;
	return sc_fcgi_write(c->fd, r->id, head, (size_t)n, body,
			     body ? len : 0, 1) == SC_OK
		   ? 0
		   : -1;
}

static int respond_error(sc_fcgi_conn *c, const sc_fcgi_request *r, int status,
			 const char *extra, const char *code,
			 const char *message)
{
	size_t len = 0;
	char *json = sc_sse_error_json(code, message, &len);
	int rc;

	if (json == NULL)
		return respond(c, r, 503, NULL, NULL, 0);
	rc = respond(c, r, status, extra, json, len);
	sc_free(json);
	return rc;
}

/* An error answer for err (store, handler): its status, its code name
 * (or the handler's code when it called sc_reject). */
static int respond_err(sc_fcgi_conn *c, const sc_fcgi_request *r,
		       const sc_error *err, const char *app_code)
{
	int status = sc_request_status(err->code);
	const char *msg =
	    err->message[0] ? err->message : sc_strerror(err->code);

	if (status == 500)
		fprintf(stderr, "statechannel: %s: %s\n",
			sc_strerror(err->code), msg);
	return respond_error(c, r, status, NULL,
			     app_code ? app_code : sc_strerror(err->code), msg);
}

/* --- topics --------------------------------------------------------- */

static int authorized(sc_ctx *ctx, const char *topic)
{
	ctx->topic = topic;
	return ctx->app->authorize == NULL ||
	       ctx->app->authorize(ctx, topic) == 0;
}

/* Reads topic into *st (may be NULL: only make sure it exists),
 * creating it from init_state on first use. */
static sc_err load_topic(sc_request_env *env, sc_ctx *ctx, const char *topic,
			 sc_store_state *st, sc_error *err)
{
	sc_store_state tmp = {0};
	json_object *init;
	sc_err rc;

	if (st == NULL)
		st = &tmp;
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
	rc = sc_store_create(env->store, topic, init, err);
	json_object_put(init);
	if (rc == SC_OK)
		rc = sc_store_get(env->store, topic, st, err);
out:
	sc_store_state_free(&tmp);
	return rc;
}

/* --- GET /state/{topic} --------------------------------------------- */

static int get_state(sc_request_env *env, sc_fcgi_conn *c,
		     const sc_fcgi_request *r, sc_ctx *ctx, const char *topic)
{
	sc_store_state st = {0};
	char etag[SC_TOPIC_MAX + 64], extra[SC_TOPIC_MAX + 128];
	char cursor[SC_CURSOR_MAX], *json = NULL;
	size_t len = 0;
	sc_error err;
	int rc;

	sc_error_clear(&err);
	if (!authorized(ctx, topic)) {
		rc = respond_error(c, r, 403, NULL, "forbidden",
				   "not authorized for this topic");
		goto out;
	}
	if (load_topic(env, ctx, topic, &st, &err) != SC_OK) {
		rc = respond_err(c, r, &err, NULL);
		goto out;
	}
	snprintf(etag, sizeof(etag), "\"%s-%lld-%s\"",
		 sc_store_epoch(env->store), (long long)st.version, topic);
	snprintf(extra, sizeof(extra),
		 "ETag: %s\r\nCache-Control: no-cache\r\n", etag);
	if (sc_route_etag_match(sc_fcgi_param_get(r, "HTTP_IF_NONE_MATCH"),
				etag)) {
		rc = respond(c, r, 304, extra, NULL, 0);
		goto out;
	}
	sc_store_cursor_format(env->store, st.seq, cursor);
	if (sc_sse_envelope(topic, st.version, cursor, "state", st.state,
			    st.state_len, &json, &len) != SC_OK) {
		rc = respond_error(c, r, 503, NULL, "nomem", "out of memory");
		goto out;
	}
	rc = respond(c, r, 200, extra, json, len);
out:
	sc_free(json);
	sc_store_state_free(&st);
	return rc;
}

/* --- POST /events/{topic} ------------------------------------------- */

typedef struct event_call {
	sc_ctx *ctx;
	const char *event;
	json_object *payload;
} event_call;

static sc_err run_handler(sc_store_txn *txn, void *arg, sc_error *err)
{
	event_call *ec = arg;
	sc_ctx *ctx = ec->ctx;
	int rc;

	ctx->txn = txn;
	ctx->rejected = 0;
	sc_error_clear(&ctx->err);
	rc = ctx->app->on_event(ctx, ec->event, ec->payload);
	ctx->txn = NULL;
	if (rc == SC_OK)
		return SC_OK;
	if (ctx->rejected)
		rc = SC_ERR_REJECTED;
	else if (rc < 0 || rc >= SC_ERR__COUNT)
		rc = SC_ERR_INVALID;
	if (err != NULL) {
		*err = ctx->err;
		err->code = (sc_err)rc;
		if (err->message[0] == '\0')
			sc_error_set(err, (sc_err)rc, "the handler failed (%s)",
				     sc_strerror((sc_err)rc));
	}
	return (sc_err)rc;
}

static sc_err change(sc_request_env *env, const char *topic, const char *idem,
		     event_call *ec, sc_store_result *res, sc_error *err)
{
	sc_err rc;

	if (env->write_lock != NULL)
		pthread_mutex_lock(env->write_lock);
	rc = sc_store_change(env->store, topic, ec->event, idem, run_handler,
			     ec, res, err);
	if (env->write_lock != NULL)
		pthread_mutex_unlock(env->write_lock);
	return rc;
}

static int post_event(sc_request_env *env, sc_fcgi_conn *c,
		      const sc_fcgi_request *r, sc_ctx *ctx, const char *topic)
{
	json_object *body = NULL, *ev = NULL, *id = NULL, *payload = NULL;
	const char *idem = NULL;
	sc_store_result res = {0};
	char cursor[SC_CURSOR_MAX], msg[128], *json = NULL;
	size_t len = 0;
	event_call ec;
	sc_error err;
	sc_err e;
	int64_t t0;
	int rc;

	sc_error_clear(&err);
	if (!sc_route_is_json(sc_fcgi_param_get(r, "CONTENT_TYPE"))) {
		rc = respond_error(c, r, 415, NULL, "not_json",
				   "the body must be application/json");
		goto out;
	}
	if (r->body_too_big) {
		snprintf(msg, sizeof(msg), "the body is over %zu bytes",
			 env->body_limit);
		rc = respond_error(c, r, 413, NULL, "too_big", msg);
		goto out;
	}
	if (!authorized(ctx, topic)) {
		rc = respond_error(c, r, 403, NULL, "forbidden",
				   "not authorized for this topic");
		goto out;
	}
	if (sc_json_parse(r->body, r->body_len, &body, &err) != SC_OK) {
		rc = respond_error(c, r, 400, NULL, sc_strerror(err.code),
				   err.message);
		goto out;
	}
	if (!json_object_is_type(body, json_type_object) ||
	    !json_object_object_get_ex(body, "event", &ev) ||
	    !json_object_is_type(ev, json_type_string) ||
	    json_object_get_string_len(ev) == 0 ||
	    json_object_get_string_len(ev) > 200) {
		rc = respond_error(c, r, 400, NULL, "bad_event",
				   "the body must be an object with "
				   "\"event\": a name of 1 to 200 bytes");
		goto out;
	}
	if (json_object_object_get_ex(body, "id", &id) && id != NULL) {
		if (!json_object_is_type(id, json_type_string) ||
		    json_object_get_string_len(id) == 0 ||
		    json_object_get_string_len(id) > 200) {
			rc = respond_error(c, r, 400, NULL, "bad_id",
					   "\"id\" must be a string of 1 to "
					   "200 bytes");
			goto out;
		}
		idem = json_object_get_string(id);
	}
	json_object_object_get_ex(body, "payload", &payload);
	ec.ctx = ctx;
	ec.event = json_object_get_string(ev);
	ec.payload = payload;
	ctx->topic = topic;
	t0 = sc_metrics_clock();
	e = change(env, topic, idem, &ec, &res, &err);
	if (e == SC_ERR_NOT_FOUND && !ctx->rejected) {
		sc_error_clear(&err);
		e = load_topic(env, ctx, topic, NULL, &err);
		if (e == SC_OK)
			e = change(env, topic, idem, &ec, &res, &err);
	}
	sc_metrics_event(env->metrics, e == SC_OK ? 0 : ctx->rejected ? 1 : -1,
			 sc_metrics_clock() - t0);
	if (e != SC_OK) {
		err.code = e;
		rc = respond_err(c, r, &err, ctx->rejected ? ctx->code : NULL);
		goto out;
	}
	sc_store_cursor_format(env->store, res.seq, cursor);
	if (sc_sse_envelope(topic, res.version, cursor, "patch", res.patch,
			    strlen(res.patch), &json, &len) != SC_OK) {
		rc = respond_error(c, r, 503, NULL, "nomem", "out of memory");
		goto out;
	}
	rc = respond(c, r, 200, "Cache-Control: no-store\r\n", json, len);
out:
	sc_free(json);
	sc_store_result_free(&res);
	json_object_put(body);
	return rc;
}

/* --- GET /stream ---------------------------------------------------- */

static int get_stream(sc_request_env *env, sc_fcgi_conn *c,
		      const sc_fcgi_request *r, sc_ctx *ctx,
		      const sc_route *route)
{
	char head[256 + SC_CORS_HEAD_MAX];
	int head_len;
	const char *query = sc_fcgi_param_get(r, "QUERY_STRING");
	char topics[MAX_STREAM_TOPICS][SC_TOPIC_MAX + 1];
	char cursor[SC_CURSOR_MAX], msg[SC_TOPIC_MAX + 64];
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
			rc = respond_error(c, r, 400, NULL, "too_many_topics",
					   "at most 256 topic parameters");
			goto out;
		}
		if (found < 0 || sc_store_topic_check(t, &err) != SC_OK) {
			rc = respond_error(c, r, 400, NULL, "bad_topic",
					   found < 0 ? "a topic is malformed"
						     : err.message);
			goto out;
		}
		for (i = 0; i < n && strcmp(topics[i], t) != 0; i++)
			;
		if (i < n)
			continue;
		if (n == MAX_STREAM_TOPICS) {
			rc = respond_error(c, r, 400, NULL, "too_many_topics",
					   "at most 64 topics per stream");
			goto out;
		}
		memcpy(topics[n++], t, sizeof(t));
	}
	if (n == 0) {
		rc = respond_error(c, r, 400, NULL, "no_topic",
				   "name a topic: /stream/TOPIC or "
				   "/stream?topic=TOPIC");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!authorized(ctx, topics[i])) {
			snprintf(msg, sizeof(msg),
				 "not authorized for '%.200s'", topics[i]);
			rc = respond_error(c, r, 403, NULL, "forbidden", msg);
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		if (load_topic(env, ctx, topics[i], NULL, &err) != SC_OK) {
			rc = respond_err(c, r, &err, NULL);
			goto out;
		}
	}
	if (env->hub == NULL) {
		rc = respond_error(c, r, 503, NULL, "unavailable",
				   "streams are not served here");
		goto out;
	}
	sc_route_cursor(sc_fcgi_param_get(r, "HTTP_LAST_EVENT_ID"), query,
			cursor);
	s = sc_hub_stream_new(c->fd, r->id, r->keep_conn, cursor);
	for (i = 0; s != NULL && i < n; i++)
		if (sc_hub_stream_topic(s, topics[i]) != SC_OK)
			break;
	if (s == NULL || i < n) {
		rc = respond_error(c, r, 503, NULL, "nomem", "out of memory");
		goto out;
	}
	head_len = snprintf(head, sizeof(head),
			    "Status: 200 OK\r\n"
			    "Content-Type: text/event-stream\r\n"
			    "Cache-Control: no-cache\r\n"
			    "X-Accel-Buffering: no\r\n%s\r\n" RETRY_LINE,
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
		return respond_error(c, r, 405, "Allow: GET, HEAD\r\n",
				     "method_not_allowed", "use GET");
	if (mr == SC_METRICS_HEALTH) {
		if (sc_store_max_seq(env->store, &seq, &err) != SC_OK)
			return respond_error(c, r, 503, NULL, "unavailable",
					     err.message[0] ? err.message
							    : "no database");
		return respond(c, r, 200, "Cache-Control: no-store\r\n", ok,
			       sizeof(ok) - 1);
	}
	text = sc_metrics_render(env->metrics,
				 env->hub ? sc_hub_count(env->hub) : 0, &len);
	if (text == NULL)
		return respond_error(c, r, 503, NULL, "nomem", "out of memory");
	/* Not JSON: respond() would label it so. */
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
			return respond_error(c, r, 403, NULL,
					     "origin_not_allowed",
					     "this origin may not make this "
					     "request");
		c->head_extra = buf;
		return respond(c, r, 204, "Allow: GET, HEAD, POST, OPTIONS\r\n",
			       NULL, 0);
	}
	if (!sc_cors_check(env->cors, origin, host,
			   strcmp(method, "POST") == 0, buf))
		return respond_error(c, r, 403, NULL, "origin_not_allowed",
				     "this origin may not send events");
	c->head_extra = buf;
	return 1;
}

/* --- dispatch ------------------------------------------------------- */

static int dispatch(sc_request_env *env, sc_fcgi_conn *c,
		    const sc_fcgi_request *r, char cors[SC_CORS_HEAD_MAX])
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
		return respond_error(c, r, 404, NULL, "not_found",
				     "no such route: use /state/TOPIC, "
				     "/events/TOPIC or /stream");
	if (rc != SC_OK)
		return respond_error(c, r, 400, NULL, "bad_topic", err.message);
	rc = cross_origin(env, c, r, method, cors);
	if (rc != 1)
		return rc;
	switch (route.kind) {
	case SC_ROUTE_STATE:
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
			return respond_error(c, r, 405, "Allow: GET, HEAD\r\n",
					     "method_not_allowed",
					     "use GET on /state/TOPIC");
		return get_state(env, c, r, &ctx, route.topic);
	case SC_ROUTE_EVENTS:
		if (strcmp(method, "POST") != 0)
			return respond_error(c, r, 405, "Allow: POST\r\n",
					     "method_not_allowed",
					     "use POST on /events/TOPIC");
		return post_event(env, c, r, &ctx, route.topic);
	case SC_ROUTE_STREAM:
		if (strcmp(method, "GET") != 0)
			return respond_error(c, r, 405, "Allow: GET\r\n",
					     "method_not_allowed",
					     "use GET on /stream");
		return get_stream(env, c, r, &ctx, &route);
	default:
		return respond_error(c, r, 404, NULL, "not_found",
				     "no such route");
	}
}

int sc_request_handle(sc_request_env *env, sc_fcgi_conn *c,
		      const sc_fcgi_request *r)
{
	char cors[SC_CORS_HEAD_MAX];
	int rc = dispatch(env, c, r, cors);

	c->head_extra = NULL; /* it pointed at cors */
	return rc;
}
