/*
 * examples/jsbench/app.c — the js-framework-benchmark table as a
 * StateChannel app, for the benchmarks.
 *
 * Any topic works (e.g. "bench:1"); its state is
 *	{"rows": [{"id": 1, "label": "pretty red table"}, ...],
 *	 "selected": null, "next_id": 1}
 *
 * Events (POST /events/TOPIC, {"event": E, "payload": P}); every one is
 * sent as explicit patch ops (no diff), as a hand-written app would:
 *	create		1,000 new rows replace the table
 *	replace		the same: 1,000 new rows replace all rows
 *	create_10000	10,000 new rows replace the table
 *	append_1000	1,000 rows added at the end
 *	insert_top	{"count": N (default 1)} rows added at the top
 *	update_every_10th  " !!!" appended to every 10th row's label
 *	select		{"id": ID}  "selected" := ID
 *	swap		rows 1 and 998 change places (when there are 999+)
 *	remove		{"id": ID}  that row removed
 *	clear		no rows
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <statechannel/statechannel.h>

static const char *const adjectives[] = {
    "pretty",	 "large",	"big",	    "small",	 "tall",
    "short",	 "long",	"handsome", "plain",	 "quaint",
    "clean",	 "elegant",	"easy",	    "angry",	 "crazy",
    "helpful",	 "mushy",	"odd",	    "unsightly", "adorable",
    "important", "inexpensive", "cheap",    "expensive", "fancy"};
static const char *const colours[] = {"red",   "yellow", "blue",   "green",
				      "pink",  "brown",	 "purple", "brown",
				      "white", "black",	 "orange"};
static const char *const nouns[] = {
    "table",  "chair",	  "house",  "bbq",   "desk",  "car",	 "pony",
    "cookie", "sandwich", "burger", "pizza", "mouse", "keyboard"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static json_object *init_state(sc_ctx *ctx, const char *topic)
{
	json_object *st = json_object_new_object();

	(void)ctx;
	(void)topic;
	if (st == NULL)
		return NULL;
	json_object_object_add(st, "rows", json_object_new_array());
	json_object_object_add(st, "selected", NULL);
	json_object_object_add(st, "next_id", json_object_new_int(1));
	return st;
}

static json_object *member(sc_ctx *ctx, const char *key)
{
	return json_object_object_get(sc_state(ctx), key);
}

/* A new row with id; the label is picked by a hash of the id. */
static json_object *new_row(int64_t id)
{
	uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull;
	char label[96];
	json_object *row = json_object_new_object();

	snprintf(label, sizeof(label), "%s %s %s",
		 adjectives[(h >> 7) % COUNT(adjectives)],
		 colours[(h >> 21) % COUNT(colours)],
		 nouns[(h >> 37) % COUNT(nouns)]);
	json_object_object_add(row, "id", json_object_new_int64(id));
	json_object_object_add(row, "label", json_object_new_string(label));
	return row;
}

/* Appends {"op", "path"[, "value"]} to ops (value: ownership taken). */
static void op(json_object *ops, const char *name, const char *path,
	       json_object *value, int with_value)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "op", json_object_new_string(name));
	json_object_object_add(o, "path", json_object_new_string(path));
	if (with_value)
		json_object_object_add(o, "value", value);
	json_object_array_add(ops, o);
}

/* Replaces the rows with n new ones (n 0: clear). */
static int build(sc_ctx *ctx, json_object *ops, int n)
{
	int64_t next = json_object_get_int64(member(ctx, "next_id"));
	json_object *rows = json_object_new_array_ext(n);
	int i;

	for (i = 0; i < n; i++)
		json_object_array_add(rows, new_row(next + i));
	op(ops, "replace", "/rows", rows, 1);
	op(ops, "replace", "/next_id", json_object_new_int64(next + n), 1);
	return SC_OK;
}

static int add_rows(sc_ctx *ctx, json_object *ops, int n, int top)
{
	int64_t next = json_object_get_int64(member(ctx, "next_id"));
	int i;

	for (i = 0; i < n; i++)
		op(ops, "add", top ? "/rows/0" : "/rows/-", new_row(next + i),
		   1);
	op(ops, "replace", "/next_id", json_object_new_int64(next + n), 1);
	return SC_OK;
}

static int update_10th(sc_ctx *ctx, json_object *ops)
{
	json_object *rows = member(ctx, "rows");
	size_t i, n = json_object_array_length(rows);
	char path[48], label[256];

	for (i = 0; i < n; i += 10) {
		json_object *row = json_object_array_get_idx(rows, i);

		snprintf(label, sizeof(label), "%s !!!",
			 json_object_get_string(
			     json_object_object_get(row, "label")));
		snprintf(path, sizeof(path), "/rows/%zu/label", i);
		op(ops, "replace", path, json_object_new_string(label), 1);
	}
	return SC_OK;
}

static int swap(sc_ctx *ctx, json_object *ops)
{
	json_object *rows = member(ctx, "rows"), *a = NULL, *b = NULL;

	if (json_object_array_length(rows) < 999)
		return SC_OK;
	json_object_deep_copy(json_object_array_get_idx(rows, 1), &a, NULL);
	json_object_deep_copy(json_object_array_get_idx(rows, 998), &b, NULL);
	op(ops, "replace", "/rows/1", b, 1);
	op(ops, "replace", "/rows/998", a, 1);
	return SC_OK;
}

/* Index of the row whose id is the payload's "id", or -1. */
static int find_row(sc_ctx *ctx, json_object *payload, int64_t *id)
{
	json_object *rows = member(ctx, "rows"), *v;
	size_t i, n = json_object_array_length(rows);

	if (!json_object_object_get_ex(payload, "id", &v) ||
	    !json_object_is_type(v, json_type_int))
		return -2;
	*id = json_object_get_int64(v);
	for (i = 0; i < n; i++) {
		json_object *row = json_object_array_get_idx(rows, i);

		if (json_object_get_int64(json_object_object_get(row, "id")) ==
		    *id)
			return (int)i;
	}
	return -1;
}

static sc_err on_event(sc_ctx *ctx, const char *event, json_object *payload)
{
	json_object *ops = json_object_new_array(), *v;
	char path[48];
	int64_t id = 0;
	int rc = SC_OK, i, n;

	if (ops == NULL)
		return SC_ERR_NOMEM;
	if (strcmp(event, "create") == 0 || strcmp(event, "replace") == 0)
		rc = build(ctx, ops, 1000);
	else if (strcmp(event, "create_10000") == 0)
		rc = build(ctx, ops, 10000);
	else if (strcmp(event, "clear") == 0)
		rc = build(ctx, ops, 0);
	else if (strcmp(event, "append_1000") == 0)
		rc = add_rows(ctx, ops, 1000, 0);
	else if (strcmp(event, "insert_top") == 0) {
		n = 1;
		if (json_object_object_get_ex(payload, "count", &v))
			n = json_object_get_int(v);
		if (n < 1 || n > 10000)
			rc = sc_reject(ctx, "bad_count",
				       "count must be 1 to 10000");
		else
			rc = add_rows(ctx, ops, n, 1);
	} else if (strcmp(event, "update_every_10th") == 0)
		rc = update_10th(ctx, ops);
	else if (strcmp(event, "swap") == 0)
		rc = swap(ctx, ops);
	else if (strcmp(event, "select") == 0 || strcmp(event, "remove") == 0) {
		i = find_row(ctx, payload, &id);
		if (i == -2)
			rc =
			    sc_reject(ctx, "bad_id", "payload needs an \"id\"");
		else if (i < 0)
			rc = sc_reject(ctx, "no_row", "no row with this id");
		else if (event[0] == 's')
			op(ops, "replace", "/selected",
			   json_object_new_int64(id), 1);
		else {
			snprintf(path, sizeof(path), "/rows/%d", i);
			op(ops, "remove", path, NULL, 0);
		}
	} else
		rc = sc_reject(ctx, "unknown_event", "no such event");
	if (rc == SC_OK && json_object_array_length(ops) > 0)
		rc = sc_apply_patch(ctx, ops);
	json_object_put(ops);
	return rc;
}

static const sc_app app = {
    .init_state = init_state,
    .on_event = on_event,
};

int main(int argc, char **argv)
{
	return sc_app_main(&app, argc, argv);
}
