/*
 * examples/shopping/app.c — the shared shopping list (what `make run`
 * serves).
 *
 * Topics: "list:NAME", one list each, state
 *	{"items": [{"id": "i1", "name": "Milk", "quantity": 2,
 *		    "bought": false}, ...],
 *	 "next_id": 2}
 * Lists named "list:private-..." need an authenticated user (the web
 * server's REMOTE_USER); every other topic name is 404.
 *
 * Events (POST /events/list:NAME, {"event": E, "payload": P}):
 *	add		{"name": S, "quantity": N (optional, default 1)}
 *	rename		{"id": ID, "name": S}
 *	set_quantity	{"id": ID, "quantity": N}
 *	toggle		{"id": ID}			(bought <-> not bought)
 *	remove		{"id": ID}
 *	clear_bought	{}				(removes bought items)
 * Names are trimmed and must be 1 to 100 bytes; quantities 1 to 9999;
 * anything else is refused with 422 and a reason.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <statechannel/statechannel.h>

#define NAME_MAX_LEN 100
#define QTY_MAX	     9999

static json_object *init_state(sc_ctx *ctx, const char *topic)
{
	json_object *st;

	(void)ctx;
	if (strncmp(topic, "list:", 5) != 0 || topic[5] == '\0')
		return NULL;
	st = json_object_new_object();
	if (st == NULL)
		return NULL;
	json_object_object_add(st, "items", json_object_new_array());
	json_object_object_add(st, "next_id", json_object_new_int(1));
	return st;
}

static sc_err authorize(sc_ctx *ctx, const char *topic)
{
	const char *user = sc_param(ctx, "REMOTE_USER");

	if (strncmp(topic, "list:private-", 13) == 0)
		return user != NULL && user[0] != '\0' ? SC_OK
							: SC_ERR_FORBIDDEN;
	return SC_OK;
}

/* The payload member key as a string, or NULL. */
static const char *str_arg(json_object *payload, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(payload, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Trims the name into buf; returns its length, or -1 when it is not a
 * usable name (the reason in *why). */
static int clean_name(json_object *payload, char buf[NAME_MAX_LEN + 1],
		      const char **why)
{
	const char *s = str_arg(payload, "name"), *e;
	size_t n;

	if (s == NULL) {
		*why = "the item needs a \"name\" string";
		return -1;
	}
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	n = (size_t)(e - s);
	if (n == 0) {
		*why = "the name is empty";
		return -1;
	}
	if (n > NAME_MAX_LEN) {
		*why = "the name is longer than 100 bytes";
		return -1;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	return (int)n;
}

/* The quantity in payload (default dflt when absent); -1 when invalid. */
static int quantity(json_object *payload, int dflt)
{
	json_object *v;
	int64_t q;

	if (!json_object_object_get_ex(payload, "quantity", &v))
		return dflt;
	if (!json_object_is_type(v, json_type_int))
		return -1;
	q = json_object_get_int64(v);
	return q >= 1 && q <= QTY_MAX ? (int)q : -1;
}

/* Index of the item with the payload's "id", or -1. */
static int find_item(sc_ctx *ctx, json_object *payload)
{
	json_object *items = json_object_object_get(sc_state(ctx), "items");
	const char *id = str_arg(payload, "id");
	size_t i, n = json_object_array_length(items);

	if (id == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(items, i);
		const char *iid =
		    json_object_get_string(json_object_object_get(it, "id"));

		if (iid != NULL && strcmp(iid, id) == 0)
			return (int)i;
	}
	return -1;
}

static int add(sc_ctx *ctx, json_object *payload)
{
	char name[NAME_MAX_LEN + 1], id[32];
	const char *why = NULL;
	json_object *item;
	int64_t next;
	int q, rc;

	if (clean_name(payload, name, &why) < 0)
		return sc_reject(ctx, "bad_name", why);
	q = quantity(payload, 1);
	if (q < 0)
		return sc_reject(ctx, "bad_quantity",
				 "the quantity must be a whole number from 1 "
				 "to 9999");
	next = json_object_get_int64(
	    json_object_object_get(sc_state(ctx), "next_id"));
	snprintf(id, sizeof(id), "i%lld", (long long)next);
	item = json_object_new_object();
	if (item == NULL)
		return SC_ERR_NOMEM;
	json_object_object_add(item, "id", json_object_new_string(id));
	json_object_object_add(item, "name", json_object_new_string(name));
	json_object_object_add(item, "quantity", json_object_new_int(q));
	json_object_object_add(item, "bought", json_object_new_boolean(0));
	rc = sc_patch_state(ctx, "/items/-", item);
	if (rc == SC_OK)
		rc = sc_patch_state(ctx, "/next_id",
				    json_object_new_int64(next + 1));
	return rc;
}

static int on_item(sc_ctx *ctx, const char *event, json_object *payload)
{
	char path[64], name[NAME_MAX_LEN + 1];
	const char *why = NULL;
	json_object *item;
	int i = find_item(ctx, payload), q;

	if (i < 0)
		return sc_reject(ctx, "no_item", "no item with this \"id\"");
	item = json_object_array_get_idx(
	    json_object_object_get(sc_state(ctx), "items"), (size_t)i);
	if (strcmp(event, "rename") == 0) {
		if (clean_name(payload, name, &why) < 0)
			return sc_reject(ctx, "bad_name", why);
		snprintf(path, sizeof(path), "/items/%d/name", i);
		return sc_patch_state(ctx, path, json_object_new_string(name));
	}
	if (strcmp(event, "set_quantity") == 0) {
		q = quantity(payload, -1);
		if (q < 0)
			return sc_reject(ctx, "bad_quantity",
					 "the quantity must be a whole number "
					 "from 1 to 9999");
		snprintf(path, sizeof(path), "/items/%d/quantity", i);
		return sc_patch_state(ctx, path, json_object_new_int(q));
	}
	if (strcmp(event, "toggle") == 0) {
		json_object *b = json_object_object_get(item, "bought");

		snprintf(path, sizeof(path), "/items/%d/bought", i);
		return sc_patch_state(
		    ctx, path,
		    json_object_new_boolean(!json_object_get_boolean(b)));
	}
	/* remove */
	{
		json_object *ops = json_object_new_array();
		json_object *op = json_object_new_object();
		int rc;

		snprintf(path, sizeof(path), "/items/%d", i);
		json_object_object_add(op, "op",
				       json_object_new_string("remove"));
		json_object_object_add(op, "path",
				       json_object_new_string(path));
		json_object_array_add(ops, op);
		rc = sc_apply_patch(ctx, ops);
		json_object_put(ops);
		return rc;
	}
}

/* Removes every bought item: a whole new state, diffed by the library. */
static int clear_bought(sc_ctx *ctx)
{
	json_object *old = sc_state(ctx), *st, *items, *kept;
	size_t i, n;

	items = json_object_object_get(old, "items");
	st = json_object_new_object();
	kept = json_object_new_array();
	if (st == NULL || kept == NULL) {
		json_object_put(st);
		json_object_put(kept);
		return SC_ERR_NOMEM;
	}
	n = json_object_array_length(items);
	for (i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(items, i),
			    *copy = NULL;

		if (json_object_get_boolean(
			json_object_object_get(it, "bought")))
			continue;
		if (json_object_deep_copy(it, &copy, NULL) != 0) {
			json_object_put(st);
			json_object_put(kept);
			return SC_ERR_NOMEM;
		}
		json_object_array_add(kept, copy);
	}
	json_object_object_add(st, "items", kept);
	json_object_object_add(st, "next_id",
			       json_object_new_int64(json_object_get_int64(
				   json_object_object_get(old, "next_id"))));
	return sc_set_state(ctx, st);
}

static sc_err on_event(sc_ctx *ctx, const char *event, json_object *payload)
{
	int item = strcmp(event, "rename") == 0 ||
		   strcmp(event, "set_quantity") == 0 ||
		   strcmp(event, "toggle") == 0 || strcmp(event, "remove") == 0;

	if (strcmp(event, "clear_bought") == 0)
		return clear_bought(ctx);
	if (!item && strcmp(event, "add") != 0)
		return sc_reject(ctx, "unknown_event", "no such event");
	if (!json_object_is_type(payload, json_type_object))
		return sc_reject(ctx, "bad_payload",
				 "the payload must be an object");
	return item ? on_item(ctx, event, payload) : add(ctx, payload);
}

static const sc_app app = {
    .init_state = init_state,
    .authorize = authorize,
    .on_event = on_event,
};

int main(int argc, char **argv)
{
	return sc_app_main(&app, argc, argv);
}
