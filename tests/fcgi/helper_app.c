/*
 * tests/fcgi/helper_app.c — a StateChannel app that exercises the
 * handler API, started by tests/fcgi/test_process.c.
 *
 * Topics "t:NAME" start as {"n": 0, "items": []}; topics "deny:NAME"
 * need "Authorization: Bearer ok"; anything else is 404.  Events:
 *	inc		n + 1, and a row in the app's own table (sc_db)
 *	inc_fail	the same, then sc_reject: both must be rolled back
 *	audit		"audit" := the number of rows in the app's table
 *	set		the whole state := payload (diffed)
 *	noop		no change
 *	bad_patch	an op on a missing path: 422 bad_patch
 *	add_item	sc_patch_state("/items/-", payload)
 *	put		sc_patch_state(payload.path, payload.value)
 *	check		"ok" := whether sc_state, sc_topic, sc_param, sc_db
 *			and sc_app_data answer as documented
 */
#include <string.h>

#include "fcgi/statechannel.h"

static int app_data = 42;

static json_object *init_state(sc_ctx *ctx, const char *topic)
{
	json_object *st;

	(void)ctx;
	if (strncmp(topic, "t:", 2) != 0 && strncmp(topic, "deny:", 5) != 0)
		return NULL;
	st = json_object_new_object();
	json_object_object_add(st, "n", json_object_new_int(0));
	json_object_object_add(st, "items", json_object_new_array());
	return st;
}

static sc_err authorize(sc_ctx *ctx, const char *topic)
{
	const char *auth = sc_param(ctx, "HTTP_AUTHORIZATION");

	if (strncmp(topic, "deny:", 5) != 0)
		return SC_OK;
	return auth != NULL && strcmp(auth, "Bearer ok") == 0
		   ? SC_OK
		   : SC_ERR_FORBIDDEN;
}

/* A row in the application's own table, in the event's transaction. */
static sc_err audit_row(sc_ctx *ctx)
{
	sqlite3 *db = sc_db(ctx);
	sqlite3_stmt *st = NULL;
	int rc;

	if (db == NULL)
		return SC_ERR_INVALID;
	if (sqlite3_exec(db,
			 "CREATE TABLE IF NOT EXISTS helper_audit(topic TEXT)",
			 NULL, NULL, NULL) != SQLITE_OK)
		return SC_ERR_STORE;
	rc = sqlite3_prepare_v2(db, "INSERT INTO helper_audit VALUES (?1)", -1,
				&st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, sc_topic(ctx), -1,
				       SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? SC_OK : SC_ERR_STORE;
}

static int64_t audit_count(sc_ctx *ctx)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	sqlite3_exec(sc_db(ctx),
		     "CREATE TABLE IF NOT EXISTS helper_audit(topic TEXT)",
		     NULL, NULL, NULL);
	if (sqlite3_prepare_v2(sc_db(ctx), "SELECT count(*) FROM helper_audit",
			       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static sc_err inc(sc_ctx *ctx)
{
	int64_t n =
	    json_object_get_int64(json_object_object_get(sc_state(ctx), "n"));
	sc_err rc = sc_patch_state(ctx, "/n", json_object_new_int64(n + 1));

	return rc == SC_OK ? audit_row(ctx) : rc;
}

static sc_err on_event(sc_ctx *ctx, const char *event, json_object *payload)
{
	json_object *copy = NULL;

	if (strcmp(event, "inc") == 0)
		return inc(ctx);
	if (strcmp(event, "inc_fail") == 0) {
		sc_err rc = inc(ctx);

		return rc == SC_OK ? sc_reject(ctx, "nope",
					       "refused after "
					       "changing")
				   : rc;
	}
	if (strcmp(event, "audit") == 0)
		return sc_patch_state(ctx, "/audit",
				      json_object_new_int64(audit_count(ctx)));
	if (strcmp(event, "set") == 0) {
		if (json_object_deep_copy(payload, &copy, NULL) != 0)
			return SC_ERR_NOMEM;
		return sc_set_state(ctx, copy);
	}
	if (strcmp(event, "noop") == 0)
		return SC_OK;
	/* The handler contract: whatever value the payload says, after a
	 * change (which must not be kept). */
	if (strcmp(event, "ret") == 0) {
		sc_err rc = inc(ctx);

		return rc == SC_OK ? (sc_err)json_object_get_int(payload) : rc;
	}
	if (strcmp(event, "forbid") == 0) {
		sc_err rc = inc(ctx);

		return rc == SC_OK ? sc_forbid(ctx, "not for you") : rc;
	}
	if (strcmp(event, "bad_patch") == 0) {
		json_object *ops = json_tokener_parse(
		    "[{\"op\":\"replace\",\"path\":\"/no/such\","
		    "\"value\":1}]");
		int rc = sc_apply_patch(ctx, ops);

		json_object_put(ops);
		return rc;
	}
	if (strcmp(event, "add_item") == 0) {
		if (json_object_deep_copy(payload, &copy, NULL) != 0)
			return SC_ERR_NOMEM;
		return sc_patch_state(ctx, "/items/-", copy);
	}
	if (strcmp(event, "put") == 0) {
		json_object *path, *value;

		if (!json_object_object_get_ex(payload, "path", &path) ||
		    !json_object_object_get_ex(payload, "value", &value))
			return sc_reject(ctx, "bad_payload", "path and value");
		if (json_object_deep_copy(value, &copy, NULL) != 0)
			return SC_ERR_NOMEM;
		return sc_patch_state(ctx, json_object_get_string(path), copy);
	}
	if (strcmp(event, "check") == 0) {
		int ok = sc_state(ctx) != NULL && sc_db(ctx) != NULL &&
			 strcmp(sc_topic(ctx), "t:check") == 0 &&
			 strcmp(sc_param(ctx, "REQUEST_METHOD"), "POST") == 0 &&
			 sc_param(ctx, "NO_SUCH_VARIABLE") == NULL &&
			 sc_app_data(ctx) == &app_data;

		return sc_patch_state(ctx, "/ok", json_object_new_boolean(ok));
	}
	return sc_reject(ctx, NULL, NULL);
}

static const sc_app app = {
    .init_state = init_state,
    .authorize = authorize,
    .on_event = on_event,
    .data = &app_data,
};

int main(int argc, char **argv)
{
	return sc_app_main(&app, argc, argv);
}
