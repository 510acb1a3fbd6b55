/*
 * fcgi/api.c — the application's side of a request: the handler API of
 * statechannel.h (sc_state, sc_set_state, sc_reject, ...) and the
 * calls into the application's callbacks (authorize, on_event,
 * init_state) under the contract statechannel.h writes down: a value
 * outside it is SC_ERR_HANDLER and a log line, never the client's fault.
 */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "fcgi/reqint.h"
#include "json/op.h"

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

PGconn *sc_pg(sc_ctx *ctx)
{
	return ctx->txn ? sc_store_txn_pg(ctx->txn) : NULL;
}

/* What a call of the API returns, remembered: the handler may pass it
 * on as it is (statechannel.h, on_event). */
static sc_err api(sc_ctx *ctx, sc_err rc)
{
	if (rc != SC_OK)
		ctx->api_rc = rc;
	return rc;
}

sc_err sc_set_state(sc_ctx *ctx, json_object *state)
{
	if (ctx->txn == NULL) {
		json_object_put(state);
		return api(ctx, sc_error_set(&ctx->err, SC_ERR_INVALID,
					     "sc_set_state outside on_event"));
	}
	return api(ctx, sc_store_txn_set(ctx->txn, state, &ctx->err));
}

sc_err sc_apply_patch(sc_ctx *ctx, json_object *ops)
{
	if (ctx->txn == NULL)
		return api(ctx, sc_error_set(&ctx->err, SC_ERR_INVALID,
					     "sc_apply_patch outside "
					     "on_event"));
	return api(ctx, sc_store_txn_patch(ctx->txn, ops, &ctx->err));
}

static sc_err patch_state(sc_ctx *ctx, const char *path, json_object *value)
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
	json_object_object_add(
	    op, "op", json_object_new_string(sc_op_name(SC_OP_REPLACE)));
	json_object_object_add(op, "path", json_object_new_string(path));
	if (json_object_object_add(op, "value", value) != 0) {
		json_object_put(value);
		goto out;
	}
	rc = sc_store_txn_patch(ctx->txn, ops, &ctx->err);
	if (rc == SC_ERR_PATCH) {
		/* No such member yet: add it (or append with "/-"). */
		json_object_object_add(
		    op, "op", json_object_new_string(sc_op_name(SC_OP_ADD)));
		rc = sc_store_txn_patch(ctx->txn, ops, &ctx->err);
	}
out:
	if (rc == SC_ERR_NOMEM)
		sc_error_set(&ctx->err, rc, "out of memory");
	json_object_put(ops);
	return rc;
}

sc_err sc_patch_state(sc_ctx *ctx, const char *path, json_object *value)
{
	return api(ctx, patch_state(ctx, path, value));
}

sc_err sc_reject(sc_ctx *ctx, const char *code, const char *message)
{
	ctx->rejected = 1;
	snprintf(ctx->code, sizeof(ctx->code), "%s", code ? code : "rejected");
	sc_error_set(&ctx->err, SC_ERR_REJECTED, "%s",
		     message ? message : "the event was rejected");
	return SC_ERR_REJECTED;
}

sc_err sc_forbid(sc_ctx *ctx, const char *message)
{
	ctx->forbidden = 1;
	sc_error_set(&ctx->err, SC_ERR_FORBIDDEN, "%s",
		     message ? message : "not allowed to send this event");
	return SC_ERR_FORBIDDEN;
}

/* --- the calls into the application -------------------------------- */

sc_err sc_api_authorize(sc_ctx *ctx, const char *topic, sc_error *err)
{
	char t[256];
	sc_err rc;

	ctx->topic = topic;
	if (ctx->app->authorize == NULL)
		return SC_OK;
	rc = ctx->app->authorize(ctx, topic);
	switch (rc) {
	case SC_OK:
		return SC_OK;
	case SC_ERR_FORBIDDEN:
		return sc_error_set(err, rc, "not authorized for '%.200s'",
				    topic);
	case SC_ERR_NOT_FOUND:
		return sc_error_set(err, rc, "no topic '%.200s'", topic);
	default:
		sc_log(SC_LOG_ERROR,
		       "event=handler_failed callback=authorize topic=%s "
		       "value=%d",
		       sc_log_q(t, sizeof(t), topic), (int)rc);
		return sc_error_set(err, SC_ERR_HANDLER,
				    "the application's authorize failed");
	}
}

/*
 * Refuses a change that leaves the state over limit bytes (serialized),
 * before anything is written: 413 state_too_big.  The store's estimate
 * costs nothing; the state is serialized only when it passes the limit.
 */
static sc_err state_size_check(sc_ctx *ctx, sc_store_txn *txn, size_t limit,
			       sc_error *err)
{
	size_t len = 0;
	sc_err rc;

	if (limit == 0)
		return SC_OK;
	rc = sc_store_txn_size(txn, limit, &len, err);
	if (rc != SC_OK)
		return rc;
	if (len <= limit)
		return SC_OK;
	ctx->state_too_big = 1;
	snprintf(ctx->code, sizeof(ctx->code), "state_too_big");
	return sc_error_set(err, SC_ERR_TOO_BIG,
			    "the event would make the state %zu bytes, over "
			    "the limit of %zu",
			    len, limit);
}

/*
 * What on_event's value rc means (statechannel.h): kept when it is in
 * the contract, else SC_ERR_HANDLER with a log line.
 */
static sc_err handler_result(sc_ctx *ctx, const char *event, sc_err rc)
{
	char t[256], e[256];

	if (rc == SC_ERR_REJECTED && ctx->rejected)
		return rc;
	if (rc == SC_ERR_FORBIDDEN && ctx->forbidden)
		return rc;
	if (rc == SC_ERR_NOMEM)
		return rc;
	if (rc == ctx->api_rc &&
	    (rc == SC_ERR_PATCH || rc == SC_ERR_POINTER || rc == SC_ERR_TEST ||
	     rc == SC_ERR_TOO_DEEP || rc == SC_ERR_TOO_BIG))
		return rc;
	sc_log(SC_LOG_ERROR,
	       "event=handler_failed callback=on_event topic=%s event=%s "
	       "value=%d why=%s",
	       sc_log_q(t, sizeof(t), ctx->topic),
	       sc_log_q(e, sizeof(e), event), (int)rc,
	       sc_log_q(e, sizeof(e),
			ctx->err.message[0] ? ctx->err.message
					    : "a value outside the contract"));
	sc_error_set(&ctx->err, SC_ERR_HANDLER,
		     "the application's handler failed");
	return SC_ERR_HANDLER;
}

sc_err sc_api_run(sc_store_txn *txn, void *arg, sc_error *err)
{
	sc_api_event *ec = arg;
	sc_ctx *ctx = ec->ctx;
	sc_err rc;

	ctx->txn = txn;
	ctx->rejected = ctx->forbidden = 0;
	ctx->api_rc = SC_OK;
	sc_error_clear(&ctx->err);
	rc = ctx->app->on_event(ctx, ec->event, ec->payload);
	ctx->txn = NULL;
	if (rc == SC_OK)
		return state_size_check(ctx, txn, ec->state_limit, err);
	rc = handler_result(ctx, ec->event, rc);
	if (err != NULL) {
		*err = ctx->err;
		err->code = rc;
		if (err->message[0] == '\0')
			sc_error_set(err, rc, "the handler failed (%s)",
				     sc_strerror(rc));
	}
	return rc;
}

json_object *sc_api_init(void *arg, const char *topic)
{
	sc_api_event *ec = arg;

	return ec->ctx->app->init_state(ec->ctx, topic);
}
