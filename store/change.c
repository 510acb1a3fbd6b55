/*
 * store/change.c — the write path: one transaction that reads a topic,
 * lets the caller change it (a whole new state, diffed; or patch ops,
 * applied and logged as they are), and writes the new state, one log
 * row and the idempotency key, then wakes the other processes.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "json/diff.h"
#include "json/patch.h"
#include "json/value.h"
#include "store/internal.h"
#include "store/store.h"

/* Largest patch text one change may log. */
#define PATCH_MAX (64u * 1024 * 1024)
/* Longest idempotency key. */
#define IDEM_KEY_MAX 256

struct sc_store_txn {
	sc_store *s;
	const char *topic;
	int64_t version;
	json_object *state; /* owned; NULL is JSON null */
	char *text;	    /* the log patch being built: "[op,op,..." */
	size_t len, cap;
	size_t changes; /* ops logged that are not "test" */
};

json_object *sc_store_txn_state(sc_store_txn *txn)
{
	return txn->state;
}

const char *sc_store_txn_topic(sc_store_txn *txn)
{
	return txn->topic;
}

int64_t sc_store_txn_version(sc_store_txn *txn)
{
	return txn->version;
}

sqlite3 *sc_store_txn_db(sc_store_txn *txn)
{
	return txn->s->db;
}

/* Appends n bytes to the log patch text, growing it (capped). */
static sc_err append(sc_store_txn *txn, const char *p, size_t n, sc_error *err)
{
	if (txn->len + n + 2 > txn->cap) {
		size_t cap = txn->cap ? txn->cap : 256;
		char *t;

		while (cap < txn->len + n + 2)
			cap *= 2;
		if (cap > PATCH_MAX)
			return sc_error_set(err, SC_ERR_TOO_BIG,
					    "the change's patch is over %u "
					    "bytes",
					    PATCH_MAX);
		t = sc_realloc(txn->text, cap);
		if (t == NULL)
			return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
		txn->text = t;
		txn->cap = cap;
	}
	memcpy(txn->text + txn->len, p, n);
	txn->len += n;
	txn->text[txn->len] = '\0';
	return SC_OK;
}

/*
 * Appends every op of ops (an array already applied to the state) to
 * the log patch.  On error the text is cut back to where it was, so the
 * log patch always matches the state.
 */
static sc_err log_ops(sc_store_txn *txn, json_object *ops, sc_error *err)
{
	size_t i, n = json_object_array_length(ops), mark = txn->len;
	size_t changes = txn->changes;
	sc_err rc = SC_OK;

	for (i = 0; i < n && rc == SC_OK; i++) {
		json_object *op = json_object_array_get_idx(ops, i), *name;
		size_t len = 0;
		const char *t = sc_json_text(op, &len);

		if (t == NULL) {
			rc = sc_error_set(err, SC_ERR_NOMEM, "out of memory");
			break;
		}
		rc = append(txn, txn->len == 0 ? "[" : ",", 1, err);
		if (rc == SC_OK)
			rc = append(txn, t, len, err);
		if (!json_object_object_get_ex(op, "op", &name) ||
		    strcmp(json_object_get_string(name), "test") != 0)
			changes++;
	}
	if (rc != SC_OK) {
		txn->len = mark;
		if (txn->text != NULL)
			txn->text[mark] = '\0';
		return rc;
	}
	txn->changes = changes;
	return SC_OK;
}

sc_err sc_store_txn_set(sc_store_txn *txn, json_object *state, sc_error *err)
{
	json_object *ops = NULL;
	sc_err rc;

	if (state != NULL && state == txn->state) {
		/* The same object: changed in place, there is nothing left
		 * to diff against. */
		json_object_put(state);
		return sc_error_set(err, SC_ERR_INVALID,
				    "sc_store_txn_set needs a new document, "
				    "not the current state changed in place "
				    "(copy it first)");
	}
	rc = sc_diff(txn->state, state, &ops, err);
	if (rc == SC_OK)
		rc = log_ops(txn, ops, err);
	if (rc == SC_OK) {
		json_object_put(txn->state);
		txn->state = state;
		state = NULL;
	}
	json_object_put(ops);
	json_object_put(state);
	return rc;
}

sc_err sc_store_txn_patch(sc_store_txn *txn, json_object *ops, sc_error *err)
{
	size_t mark = txn->len, changes = txn->changes;
	sc_err rc;

	if (!json_object_is_type(ops, json_type_array)) {
		if (err != NULL) {
			sc_error_set(err, SC_ERR_PATCH,
				     "a JSON Patch must be an array");
			err->index = -1;
		}
		return SC_ERR_PATCH;
	}
	/* Log first, then apply (atomic): a failure of either leaves the
	 * state and the log patch as they were. */
	rc = log_ops(txn, ops, err);
	if (rc != SC_OK)
		return rc;
	rc = sc_patch_apply(&txn->state, ops, err);
	if (rc != SC_OK) {
		txn->len = mark;
		if (txn->text != NULL)
			txn->text[mark] = '\0';
		txn->changes = changes;
	}
	return rc;
}

void sc_store_result_free(sc_store_result *r)
{
	if (r == NULL)
		return;
	sc_free(r->patch);
	memset(r, 0, sizeof(*r));
}

static sc_err idem_lookup(sc_store *s, const char *topic, const char *key,
			  sc_store_result *out, int *found, sc_error *err)
{
	sqlite3_stmt *st;
	sc_err rc;
	int r;

	*found = 0;
	rc = sc_store_bind_topic(s, ST_IDEM_GET, topic, key, &st, &r, err);
	if (rc != SC_OK)
		return rc;
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 2);

		out->version = sqlite3_column_int64(st, 0);
		out->seq = sqlite3_column_int64(st, 1);
		out->replayed = 1;
		out->patch = sc_strdup(p ? p : "[]");
		if (out->patch == NULL)
			rc = sc_error_set(err, SC_ERR_NOMEM, "out of memory");
		else
			*found = 1;
	} else if (r != SQLITE_DONE) {
		rc = sc_store_sqlerr(s, r, "read the idempotency key", err);
	}
	sc_store_reset(st);
	return rc;
}

static sc_err idem_store(sc_store *s, const char *topic, const char *key,
			 const sc_store_result *res, int64_t now, sc_error *err)
{
	sqlite3_stmt *st;
	int r;
	sc_err rc =
	    sc_store_bind_topic(s, ST_IDEM_PUT, topic, key, &st, &r, err);

	if (rc != SC_OK)
		return rc;
	if (r == SQLITE_OK)
		r = sqlite3_bind_int64(st, 3, now);
	if (r == SQLITE_OK)
		r = sqlite3_bind_int64(st, 4, res->version);
	if (r == SQLITE_OK)
		r = sqlite3_bind_int64(st, 5, res->seq);
	if (r == SQLITE_OK)
		r = sqlite3_bind_text(st, 6, res->patch, -1, SQLITE_STATIC);
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	if (r != SQLITE_DONE)
		rc = sc_store_sqlerr(s, r, "record the idempotency key", err);
	sc_store_reset(st);
	return rc;
}

/*
 * Loads the topic's version and state into txn in one read: from the
 * connection's cache when it holds this topic at this version (the
 * query then returns no state and skips its pages), else parsed.
 */
static sc_err load(sc_store *s, sc_store_txn *txn, sc_error *err)
{
	sqlite3_stmt *st;
	int hit = s->cache_valid && strcmp(s->cache_topic, txn->topic) == 0;
	int r;
	sc_err rc = sc_store_bind_topic(s, ST_TOPIC_LOAD, txn->topic, NULL, &st,
					&r, err);

	if (rc != SC_OK)
		return rc;
	if (r == SQLITE_OK && hit)
		r = sqlite3_bind_int64(st, 2, s->cache_version);
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	if (r == SQLITE_ROW && hit &&
	    sqlite3_column_type(st, 1) == SQLITE_NULL) {
		txn->version = sqlite3_column_int64(st, 0);
		txn->state = s->cache_state;
		s->cache_state = NULL;
		s->cache_valid = 0;
	} else if (r == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 1);
		int len = sqlite3_column_bytes(st, 1);

		sc_store_cache_drop(s);
		txn->version = sqlite3_column_int64(st, 0);
		rc = text == NULL
			 ? sc_error_set(err, SC_ERR_NOMEM, "out of memory")
			 : sc_json_parse(text, (size_t)len, &txn->state, err);
		if (rc != SC_OK && rc != SC_ERR_NOMEM)
			rc = sc_error_set(err, SC_ERR_STORE,
					  "the stored state of %s is not "
					  "valid JSON",
					  txn->topic);
	} else if (r == SQLITE_DONE) {
		rc = sc_error_set(err, SC_ERR_NOT_FOUND, "no such topic: %s",
				  txn->topic);
	} else {
		rc = sc_store_sqlerr(s, r, "read the topic", err);
	}
	sc_store_reset(st);
	return rc;
}

/* The cached statement id with the change's topic as ?1, its new
 * version as ?2 and now as ?3 bound (sc_store_bind_topic). */
static sc_err bind_change(sc_store *s, enum st_id id, const sc_store_txn *txn,
			  int64_t now, sqlite3_stmt **st, int *r, sc_error *err)
{
	sc_err rc = sc_store_bind_topic(s, id, txn->topic, NULL, st, r, err);

	if (rc == SC_OK && *r == SQLITE_OK)
		*r = sqlite3_bind_int64(*st, 2, txn->version + 1);
	if (rc == SC_OK && *r == SQLITE_OK)
		*r = sqlite3_bind_int64(*st, 3, now);
	return rc;
}

/* Writes the new state and the log row; fills out->seq. */
static sc_err write_change(sc_store *s, sc_store_txn *txn, const char *event,
			   int64_t now, sc_store_result *out, sc_error *err)
{
	sqlite3_stmt *st;
	const char *text;
	size_t len = 0;
	sc_err rc = SC_OK;
	int r;

	text = sc_json_text(txn->state, &len);
	if (text == NULL)
		return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	rc = bind_change(s, ST_TOPIC_UPDATE, txn, now, &st, &r, err);
	if (rc != SC_OK)
		return rc;
	if (r == SQLITE_OK)
		r = sqlite3_bind_text(st, 4, text, (int)len, SQLITE_STATIC);
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	if (r != SQLITE_DONE)
		rc = sc_store_sqlerr(s, r, "write the state", err);
	sc_store_reset(st);
	if (rc != SC_OK)
		return rc;
	rc = bind_change(s, ST_LOG_INSERT, txn, now, &st, &r, err);
	if (rc != SC_OK)
		return rc;
	if (r == SQLITE_OK)
		r = event ? sqlite3_bind_text(st, 4, event, -1, SQLITE_STATIC)
			  : sqlite3_bind_null(st, 4);
	if (r == SQLITE_OK)
		r = sqlite3_bind_text(st, 5, txn->text, (int)txn->len,
				      SQLITE_STATIC);
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	if (r != SQLITE_DONE)
		rc = sc_store_sqlerr(s, r, "write the log", err);
	else
		out->seq = sqlite3_last_insert_rowid(s->db);
	sc_store_reset(st);
	return rc;
}

sc_err sc_store_change(sc_store *s, const char *topic, const char *event,
		       const char *idem_key, sc_store_change_fn fn, void *arg,
		       sc_store_result *out, sc_error *err)
{
	sc_store_txn txn;
	int64_t now = 0;
	int found = 0, logged = 0;
	sc_err rc;

	memset(out, 0, sizeof(*out));
	memset(&txn, 0, sizeof(txn));
	txn.s = s;
	txn.topic = topic;
	rc = sc_store_topic_check(topic, err);
	if (rc != SC_OK)
		return rc;
	if (idem_key != NULL && strlen(idem_key) > IDEM_KEY_MAX)
		return sc_error_set(err, SC_ERR_INVALID,
				    "idempotency key longer than %d bytes",
				    IDEM_KEY_MAX);
	rc = sc_store_begin_write(s, err);
	if (rc != SC_OK)
		return rc;
	now = sc_store_now_ms();
	if (idem_key != NULL)
		rc = idem_lookup(s, topic, idem_key, out, &found, err);
	if (rc != SC_OK || found)
		goto out;
	rc = load(s, &txn, err);
	if (rc == SC_OK)
		rc = fn(&txn, arg, err);
	if (rc != SC_OK)
		goto out;
	out->version = txn.version;
	if (txn.changes > 0) {
		rc = append(&txn, "]", 1, err);
		if (rc == SC_OK)
			rc = write_change(s, &txn, event, now, out, err);
		/* Retention as it goes, every so many versions. */
		if (rc == SC_OK &&
		    (txn.version + 1) % SC_STORE_PRUNE_EVERY == 0)
			rc = sc_store_prune_topic(s, topic, txn.version + 1,
						  now, err);
		if (rc == SC_OK) {
			out->version = txn.version + 1;
			out->patch = txn.text;
			txn.text = NULL;
			logged = 1;
		}
	} else {
		rc = sc_store_max_seq(s, &out->seq, err);
		if (rc == SC_OK && (out->patch = sc_strdup("[]")) == NULL)
			rc = sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	}
	if (rc == SC_OK && idem_key != NULL)
		rc = idem_store(s, topic, idem_key, out, now, err);
	if (rc == SC_OK)
		rc = sc_store_exec(s, ST_COMMIT, "commit", err);
	if (rc == SC_OK) {
		if (logged)
			sc_wake_bump(&s->wake);
		/* Keep the state for the next change of this topic. */
		snprintf(s->cache_topic, sizeof(s->cache_topic), "%s", topic);
		s->cache_version = out->version;
		s->cache_state = txn.state;
		s->cache_valid = 1;
		txn.state = NULL;
	}
out:
	if (found && rc == SC_OK)
		rc = sc_store_exec(s, ST_COMMIT, "commit", err);
	if (rc != SC_OK) {
		sc_store_rollback(s);
		sc_store_cache_drop(s);
		sc_store_result_free(out);
	}
	json_object_put(txn.state);
	sc_free(txn.text);
	return rc;
}
