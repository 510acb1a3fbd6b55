/*
 * store/change.c — the write path: a batch of changes in one
 * transaction, each in a SAVEPOINT of its own (the queue that forms the
 * batches is in store/group.c).  The SAVEPOINT is taken only where
 * there is something to undo alone: when a handler asks for the SQL
 * connection, and, where the store's own writes are synchronous
 * (SQLite), before them when they are more than one statement (one
 * statement is atomic by itself).  Where they are only sent and a failed
 * one fails the batch anyway (PostgreSQL, sc_sql_pipelined), only for a
 * handler's SQL.  So the usual change, one log row, costs no SAVEPOINT
 * and no RELEASE.  A change loads its
 * topic's current state (the process's cache), lets the caller change
 * it (a whole new state, diffed; or patch ops, applied and logged as
 * they are), and writes one log row, the topic's version and, when the
 * patches since it have outgrown it, a new snapshot; the COMMIT of the
 * batch wakes the other processes.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "json/diff.h"
#include "json/patch.h"
#include "json/text.h"
#include "json/value.h"
#include "store/internal.h"
#include "store/store.h"

/* Largest patch text one change may log. */
#define PATCH_MAX (64u * 1024 * 1024)


struct held;

struct sc_store_txn {
	sc_store *s;
	struct held *h; /* the batch's held entries */
	const char *topic;
	int64_t version;
	sc_centry *e; /* the topic's entry (locked): e->state is the state */
	int touched;  /* e->state was changed */
	int solo;     /* alone in its batch: no SAVEPOINT */
	int saved;    /* in its SAVEPOINT */
	sc_err flush_rc; /* ... and failed */
	sc_error flush_err;
	char *text;   /* the log patch being built: "[op,op,..." */
	size_t len, cap;
	size_t changes; /* ops logged that are not "test" */
	size_t exact;	/* the state's text size, when measured (else 0) */
	size_t exact_at; /* ... and len then */
};

json_object *sc_store_txn_state(sc_store_txn *txn)
{
	return txn->e->state;
}

const char *sc_store_txn_topic(sc_store_txn *txn)
{
	return txn->topic;
}

int64_t sc_store_txn_version(sc_store_txn *txn)
{
	return txn->version;
}

static void foreign_sql(sc_store_txn *txn);

sqlite3 *sc_store_txn_db(sc_store_txn *txn)
{
	foreign_sql(txn);
	return sc_sql_handle(txn->s->sql, SC_SQL_SQLITE);
}

PGconn *sc_store_txn_pg(sc_store_txn *txn)
{
	foreign_sql(txn);
	return sc_sql_handle(txn->s->sql, SC_SQL_PG);
}

/* Appends n bytes to the log patch text, growing it (capped). */
static sc_err append(sc_store_txn *txn, const char *p, size_t n, sc_error *err)
{
	/* Room for n bytes, the NUL and one spare byte. */
	sc_err rc = sc_buf_grow(&txn->text, &txn->cap, txn->len, n + 1,
				PATCH_MAX - 1);

	if (rc == SC_ERR_TOO_BIG)
		return sc_error_set(err, rc, "the change's patch is over %u bytes",
				    PATCH_MAX);
	if (rc != SC_OK)
		return sc_error_set(err, rc, "out of memory");
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
	/* txn's text, as append() caps it: written in place */
	sc_buf b = {txn->text, txn->len, txn->cap, PATCH_MAX - 2};
	sc_err rc = SC_OK;

	for (i = 0; i < n && rc == SC_OK; i++) {
		json_object *op = json_object_array_get_idx(ops, i), *name;

		rc = sc_buf_add(&b, b.len == 0 ? "[" : ",", 1);
		if (rc == SC_OK)
			rc = sc_text_write(&b, op);
		if (!json_object_object_get_ex(op, "op", &name) ||
		    strcmp(json_object_get_string(name), "test") != 0)
			changes++;
	}
	txn->text = b.p;
	txn->cap = b.cap;
	txn->len = b.len;
	if (rc != SC_OK) {
		txn->len = mark;
		if (txn->text != NULL)
			txn->text[mark] = '\0';
		if (rc == SC_ERR_TOO_BIG)
			return sc_error_set(err, rc,
					    "the change's patch is over %u bytes",
					    PATCH_MAX);
		if (rc == SC_ERR_TOO_DEEP)
			return sc_error_set(err, rc,
					    "a value of the patch nests deeper "
					    "than %d levels",
					    SC_JSON_MAX_DEPTH);
		return sc_error_set(err, rc, "out of memory");
	}
	txn->changes = changes;
	return SC_OK;
}

sc_err sc_store_txn_size(sc_store_txn *txn, size_t limit, size_t *size,
			 sc_error *err)
{
	size_t len = 0;

	*size = txn->exact ? txn->exact + (txn->len - txn->exact_at)
			   : txn->e->size + txn->len;
	if (*size <= limit)
		return SC_OK;
	if (sc_text_size(txn->e->state, &len) != SC_OK)
		return sc_error_set(err, SC_ERR_TOO_DEEP,
				    "the state nests deeper than %d levels",
				    SC_JSON_MAX_DEPTH);
	txn->exact = len;
	txn->exact_at = txn->len;
	*size = len;
	return SC_OK;
}

/* The state changed: its text is stale. */
static void touch(sc_store_txn *txn)
{
	txn->touched = 1;
	sc_free(txn->e->text);
	txn->e->text = NULL;
	txn->e->text_len = 0;
}

sc_err sc_store_txn_set(sc_store_txn *txn, json_object *state, sc_error *err)
{
	char *ops = NULL;
	size_t len = 0, n = 0, mark = txn->len;
	sc_err rc;

	if (state != NULL && state == txn->e->state) {
		/* The same object: changed in place, there is nothing left
		 * to diff against. */
		json_object_put(state);
		return sc_error_set(err, SC_ERR_INVALID,
				    "sc_store_txn_set needs a new document, "
				    "not the current state changed in place "
				    "(copy it first)");
	}
	/* The diff straight to text: the ops go to the log as they are. */
	rc = sc_diff_text(txn->e->state, state, PATCH_MAX - txn->len, &ops,
			  &len, &n, err);
	if (rc == SC_OK && n > 0) {
		rc = append(txn, txn->len == 0 ? "[" : ",", 1, err);
		if (rc == SC_OK)
			rc = append(txn, ops + 1, len - 2, err);
		if (rc != SC_OK) {
			txn->len = mark;
			if (txn->text != NULL)
				txn->text[mark] = '\0';
		}
	}
	sc_free(ops);
	if (rc == SC_OK) {
		txn->changes += n;
		json_object_put(txn->e->state);
		txn->e->state = state;
		touch(txn);
		state = NULL;
	}
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
	rc = sc_patch_apply(&txn->e->state, ops, err);
	if (rc == SC_OK) {
		touch(txn);
	} else {
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

/* Steps a bound statement that returns no row to its end and resets it. */
static sc_err step_done(sc_sqlq *q, const char *what, sc_error *err)
{
	int r = sc_sql_step(q, what, err);

	sc_sql_reset(q);
	return r == SC_SQL_ROW ? SC_OK : (sc_err)r;
}

static sc_err idem_lookup(sc_store *s, const char *topic, const char *key,
			  sc_store_result *out, int *found, sc_error *err)
{
	sc_sqlq *q;
	sc_err rc;
	int r;

	*found = 0;
	rc = sc_store_bind_topic(s, ST_IDEM_GET, topic, key, &q, err);
	if (rc != SC_OK)
		return rc;
	r = sc_sql_step(q, "read the idempotency key", err);
	if (r == SC_SQL_ROW) {
		const char *p = sc_sql_col_text(q, 2, NULL);

		out->version = sc_sql_col_int64(q, 0);
		out->seq = sc_sql_col_int64(q, 1);
		out->replayed = 1;
		out->patch = sc_strdup(p ? p : "[]");
		if (out->patch == NULL)
			rc = sc_error_set(err, SC_ERR_NOMEM, "out of memory");
		else
			*found = 1;
	} else if (r != SC_OK) {
		rc = (sc_err)r;
	}
	sc_sql_reset(q);
	return rc;
}

static sc_err idem_store(sc_store *s, const char *topic, const char *key,
			 const sc_store_result *res, int64_t now, sc_error *err)
{
	sc_sqlq *q;
	sc_err rc = sc_store_bind_topic(s, ST_IDEM_PUT, topic, key, &q, err);

	if (rc != SC_OK)
		return rc;
	sc_sql_int64(q, 3, now);
	sc_sql_int64(q, 4, res->version);
	sc_sql_int64(q, 5, res->seq);
	sc_sql_text(q, 6, res->patch, (size_t)-1);
	return step_done(q, "record the idempotency key", err);
}

/* The cached statement id with the change's topic as ?1, its new
 * version as ?2 and now as ?3 bound (sc_store_bind_topic). */
static sc_err bind_change(sc_store *s, enum st_id id, const sc_store_txn *txn,
			  int64_t now, sc_sqlq **q, sc_error *err)
{
	sc_err rc = sc_store_bind_topic(s, id, txn->topic, NULL, q, err);

	if (rc == SC_OK) {
		sc_sql_int64(*q, 2, txn->version + 1);
		sc_sql_int64(*q, 3, now);
	}
	return rc;
}

/* A run of a topic's log rows that a change closed (schema.sql, runs):
 * last 0 when none. */
typedef struct run_close {
	int64_t first, last;
} run_close;

/* Writes the closed run c of topic. */
static sc_err close_run(sc_store *s, const char *topic, const run_close *c,
			sc_error *err)
{
	sc_sqlq *q;
	sc_err rc = sc_store_bind_topic(s, ST_RUN_CLOSE, topic, NULL, &q, err);

	if (rc != SC_OK)
		return rc;
	sc_sql_int64(q, 2, c->last);
	sc_sql_int64(q, 3, c->first);
	return step_done(q, "write the topic's run", err);
}

/* Whether a change of len bytes on a topic whose row is m rewrites the
 * snapshot (see write_change). */
static int snap_due(const sc_topic_meta *m, size_t len, int create, int snap)
{
	int64_t room = m->snap_bytes > SC_STORE_SNAP_FLOOR
			   ? m->snap_bytes
			   : SC_STORE_SNAP_FLOOR;

	return create || snap || m->tail_bytes + (int64_t)len > room;
}

/*
 * Writes the change's log row (out->seq) and the topic's new version;
 * rewrites the snapshot when the patches after it (m->tail_bytes and
 * this one) pass its size or SC_STORE_SNAP_FLOOR, whichever is larger, or when
 * snap is set (a new topic; a small one at a version where retention
 * runs, so that it may prune every row but the newest as before).
 * The row extends the topic's open run, or closes it (*closed, written
 * here unless defer) and opens another.
 */
static sc_err write_change(sc_store *s, sc_store_txn *txn, const char *event,
			   sc_topic_meta *m, int create, int snap, int defer,
			   int64_t now, sc_store_result *out, run_close *closed,
			   sc_error *err)
{
	sc_sqlq *q;
	const char *text;
	size_t len = 0;
	sc_err rc;
	int r, due = snap_due(m, txn->len, create, snap);

	/* Deferred (struct held): the log row alone. */
	rc = bind_change(s, defer ? ST_LOG_ROW : ST_LOG_INSERT, txn, now, &q,
			 err);
	if (rc != SC_OK)
		return rc;
	if (event != NULL)
		sc_sql_text(q, 4, event, (size_t)-1);
	else
		sc_sql_null(q, 4);
	sc_sql_text(q, 5, txn->text, txn->len);
	/* The new row's seq comes back (RETURNING). */
	r = sc_sql_step(q, "write the log", err);
	if (r == SC_SQL_ROW) {
		out->seq = sc_sql_col_int64(q, 0);
		r = sc_sql_step(q, "write the log", err);
	} else if (r == SC_OK) {
		r = sc_error_set(err, SC_ERR_STORE, "write the log: no seq");
	}
	sc_sql_reset(q);
	if (r != SC_OK)
		return (sc_err)r;
	closed->last = 0;
	if (m->last_seq > 0 && out->seq != m->last_seq + 1) {
		/* Another topic's row came between. */
		closed->first = m->run_first;
		closed->last = m->last_seq;
	}
	if (m->last_seq == 0 || closed->last > 0)
		m->run_first = out->seq;
	m->last_seq = out->seq;
	if (!defer) {
		if (closed->last > 0 &&
		    (rc = close_run(s, txn->topic, closed, err)) != SC_OK)
			return rc;
		rc = bind_change(s, ST_TOPIC_UPDATE, txn, now, &q, err);
		if (rc != SC_OK)
			return rc;
		sc_sql_int64(q, 4, (int64_t)txn->len);
		sc_sql_int64(q, 5, m->last_seq);
		sc_sql_int64(q, 6, m->run_first);
		rc = step_done(q, "write the version", err);
		if (rc != SC_OK)
			return rc;
	}
	/* *m follows the row (the batch may reuse it: struct held). */
	m->version = txn->version + 1;
	m->tail_bytes += (int64_t)txn->len;
	if (create)
		m->created_ms = now;
	if (!due)
		return rc;
	/* The snapshot: serialized once, and kept for reads of this
	 * version. */
	text = sc_cache_text(txn->e, &len, err);
	if (text == NULL)
		return SC_ERR_NOMEM;
	rc = sc_store_put_snapshot(s, txn->topic, text, len, err);
	if (rc != SC_OK)
		return rc;
	rc = bind_change(s, ST_TOPIC_SNAP, txn, now, &q, err);
	if (rc != SC_OK)
		return rc;
	/* ?3 is the snapshot's seq here, ?4 its size. */
	sc_sql_int64(q, 3, out->seq);
	sc_sql_int64(q, 4, (int64_t)len);
	rc = step_done(q, "write the snapshot", err);
	m->snap_version = m->version;
	m->snap_seq = out->seq;
	m->snap_bytes = (int64_t)len;
	m->tail_bytes = 0;
	return rc;
}

/*
 * The entries a batch holds locked until its COMMIT, and the topic rows
 * its own changes wrote: the batch holds the write lock, so a topic row
 * it wrote stays as it wrote it (m[i] is exact, known[i]) until the
 * commit, and a later change of the same topic in the batch needs no
 * read at all.  A handler that takes the SQL connection (sc_db, sc_pg)
 * may change topic rows itself: from then on the batch reads them.
 *
 * Deferred rows: in a batch of several changes, a change writes its log
 * row only; the topic's row (version, updated_ms, tail_bytes) is
 * written once, from m[i], before the COMMIT (dirty[i]), and on
 * PostgreSQL so is the counter row (store/pg.c).  Before a handler
 * gets the connection they are written (flush), so its SQL sees them,
 * and the batch writes at once from then on.  The flush comes before
 * that change's SAVEPOINT, so its ROLLBACK TO does not undo it.  So do
 * the runs its changes closed (closed[], of the topic e[topic[k]]): at
 * most one a change.  The log reads a topic's rows through its row (its
 * open run), so a change that has to read them first flushes too.
 */
typedef struct held {
	sc_centry *e[SC_STORE_BATCH_MAX];
	sc_topic_meta m[SC_STORE_BATCH_MAX];
	unsigned char known[SC_STORE_BATCH_MAX];
	unsigned char dirty[SC_STORE_BATCH_MAX];
	size_t n;
	int foreign; /* a handler took the SQL connection */
	run_close closed[SC_STORE_BATCH_MAX];
	unsigned char topic[SC_STORE_BATCH_MAX];
	size_t nclosed;
} held;

/* Writes the deferred topic rows of h (dirty), each from its m[], and
 * clears the flags.  The statements may only be sent (PostgreSQL): a
 * failure shows at the next read. */
static sc_err flush_rows(sc_store *s, held *h, int64_t now, sc_error *err)
{
	sc_sqlq *q;
	sc_err rc = SC_OK;
	size_t i;

	for (i = 0; i < h->nclosed && rc == SC_OK; i++)
		rc = close_run(s, h->e[h->topic[i]]->topic, &h->closed[i], err);
	h->nclosed = 0;
	for (i = 0; i < h->n && rc == SC_OK; i++) {
		if (!h->dirty[i])
			continue;
		rc = sc_store_bind_topic(s, ST_TOPIC_FLUSH, h->e[i]->topic,
					 NULL, &q, err);
		if (rc != SC_OK)
			break;
		sc_sql_int64(q, 2, h->m[i].version);
		sc_sql_int64(q, 3, now);
		sc_sql_int64(q, 4, h->m[i].tail_bytes);
		sc_sql_int64(q, 5, h->m[i].last_seq);
		sc_sql_int64(q, 6, h->m[i].run_first);
		rc = step_done(q, "write the topic's row", err);
		h->dirty[i] = 0;
	}
	return rc;
}

/* The change's SAVEPOINT, once (none for a change alone). */
static sc_err save(sc_store_txn *txn, sc_error *err)
{
	sc_err rc = SC_OK;

	if (!txn->solo && !txn->saved) {
		rc = sc_store_exec(txn->s, ST_SAVEPOINT, "savepoint", err);
		txn->saved = rc == SC_OK;
	}
	return rc;
}

/* A handler asks for the SQL connection: the batch's deferred rows are
 * written first, and the change gets its SAVEPOINT if it has none. */
static void foreign_sql(sc_store_txn *txn)
{
	held *h = txn->h;

	if (h == NULL)
		return;
	if (!h->foreign && txn->flush_rc == SC_OK) {
		txn->flush_rc = flush_rows(txn->s, h, sc_store_now_ms(),
					   &txn->flush_err);
	}
	if (txn->flush_rc == SC_OK)
		txn->flush_rc = save(txn, &txn->flush_err);
	h->foreign = 1;
}

/* The index in h of topic's entry, acquired (locked) when new; -1 when
 * out of memory. */
static int hold(sc_store *s, held *h, const char *topic)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcmp(h->e[i]->topic, topic) == 0)
			return (int)i;
	assert(h->n < SC_STORE_BATCH_MAX);
	h->e[h->n] = sc_cache_acquire(s->sh, topic);
	if (h->e[h->n] == NULL)
		return -1;
	h->known[h->n] = 0;
	return (int)h->n++;
}

/*
 * Loads the topic of txn into its entry: the current state, or the
 * initial one (*create = 1) when the topic does not exist and req has
 * an init.
 */
static sc_err load(sc_store *s, const sc_store_req *req, sc_store_txn *txn,
		   sc_topic_meta *m, int *create, sc_error *err)
{
	json_object *init;
	sc_err rc;

	*create = 0;
	rc = sc_store_meta(s, req->topic, m, err);
	if (rc == SC_OK) {
		txn->version = m->version;
		return sc_cache_current(s, txn->e, m, err);
	}
	if (rc != SC_ERR_NOT_FOUND)
		return rc;
	if (req->init == NULL ||
	    (init = req->init(req->arg, req->topic)) == NULL)
		return sc_error_set(err, SC_ERR_NOT_FOUND, "no such topic: %s",
				    req->topic);
	sc_cache_clear(txn->e);
	txn->e->state = init;
	txn->version = 0;
	*create = 1;
	return SC_OK;
}

/*
 * Whether a change that failed with rc, having changed nothing through
 * the txn functions, leaves its entry as it was: a refusal or a patch
 * that did not apply (atomic).  After any other failure the handler may
 * have broken the rule and changed the state in place: the entry goes.
 */
static int kept(sc_err rc)
{
	return rc == SC_ERR_REJECTED || rc == SC_ERR_FORBIDDEN ||
	       rc == SC_ERR_PATCH || rc == SC_ERR_TEST ||
	       rc == SC_ERR_POINTER || rc == SC_ERR_NOT_FOUND;
}

/*
 * One change of a batch, inside the batch's transaction and its own
 * SAVEPOINT.  On error the savepoint is rolled back and the entry
 * cleared when its state was touched.
 */
static sc_err run_one(sc_store *s, held *h, sc_store_gc_item *it, int64_t now,
		      int solo, int *logged)
{
	const sc_store_req *req = it->req;
	sc_store_result *out = it->out;
	sc_error *err = &it->err;
	sc_store_txn txn;
	sc_topic_meta m;
	run_close closed = {0, 0};
	int found = 0, create = 0, fresh = 0, hi = -1, defer = 0, clean = 0;
	sc_err rc = SC_OK;

	memset(&txn, 0, sizeof(txn));
	txn.s = s;
	txn.topic = req->topic;
	/* Alone in its batch, a change needs no SAVEPOINT: the batch's
	 * transaction is its own, rolled back whole when it fails.  Else
	 * see the top of the file. */
	txn.solo = solo;
	if (req->idem_key != NULL)
		rc = idem_lookup(s, req->topic, req->idem_key, out,
					  &found, err);
	if (rc != SC_OK || found)
		goto out;
	hi = hold(s, h, req->topic);
	if (hi < 0) {
		rc = sc_error_set(err, SC_ERR_NOMEM, "out of memory");
		clean = 1;
		goto out;
	}
	txn.e = h->e[hi];
	txn.h = h;
	if (h->known[hi] && !h->foreign && txn.e->valid) {
		/* Written by this batch: its row and state are current. */
		m = h->m[hi];
		txn.version = m.version;
		SC_STAT_ADD(s->sh, hits, 1);
		SC_STAT_ADD(s->sh, unread, 1);
	} else if (h->dirty[hi]) {
		/* Its row is m, not yet written; the entry was cleared (a
		 * failed change): the state again from the snapshot and log,
		 * whose rows are read through the row: written first. */
		m = h->m[hi];
		txn.version = m.version;
		rc = flush_rows(s, h, now, err);
		if (rc == SC_OK)
			rc = sc_cache_current(s, txn.e, &m, err);
	} else {
		h->known[hi] = 0;
		rc = load(s, req, &txn, &m, &create, err);
	}
	/* A failure that left the database as it was: no such topic (a
	 * read that found nothing), or the handler's own. */
	clean = rc == SC_ERR_NOT_FOUND;
	if (rc == SC_OK) {
		rc = req->fn(&txn, req->arg, err);
		clean = rc != SC_OK && txn.flush_rc == SC_OK;
	}
	if (rc == SC_OK && txn.flush_rc != SC_OK) {
		rc = txn.flush_rc;
		*err = txn.flush_err;
	}
	if (rc != SC_OK)
		goto out;
	out->version = txn.version;
	/* A change alone writes its row at once (nothing to share); after
	 * a handler had the connection, so does every change. */
	defer = !solo && !h->foreign;
	if (txn.changes > 0) {
		int prune = (txn.version + 1) % SC_STORE_PRUNE_EVERY == 0;
		int snap = prune && m.snap_bytes <= SC_STORE_SNAP_FLOOR;

		rc = append(&txn, "]", 1, err);
		/* More than the log row to write: undone together if one
		 * fails. */
		if (rc == SC_OK && !sc_sql_pipelined(s->sql) &&
		    (create || !defer || prune || req->idem_key != NULL ||
		     snap_due(&m, txn.len, create, snap)))
			rc = save(&txn, err);
		if (rc == SC_OK && create)
			rc = sc_store_insert_topic(s, req->topic, NULL, 0, -1,
						   now, &fresh, err);
		/* Made meanwhile by another connection (only possible where
		 * writers are not serialized): this change saw the initial
		 * state, not the topic's. */
		if (rc == SC_OK && create && !fresh)
			rc = sc_error_set(err, SC_ERR_BUSY,
					  "the topic %s was created meanwhile: "
					  "retry",
					  req->topic);
		if (rc == SC_OK)
			rc = write_change(s, &txn, req->event, &m, create,
					  snap, defer, now, out, &closed, err);
		/* Retention as it goes, every so many versions. */
		if (rc == SC_OK && prune)
			rc = sc_store_prune_topic(s, req->topic,
						  txn.version + 1, now, &m,
						  err);
		if (rc == SC_OK) {
			out->version = txn.version + 1;
			out->patch = txn.text;
			txn.text = NULL;
			*logged = 1;
		}
	} else {
		rc = sc_store_max_seq(s, &out->seq, err);
		if (rc == SC_OK && (out->patch = sc_strdup("[]")) == NULL)
			rc = sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	}
	if (rc == SC_OK && req->idem_key != NULL)
		rc = idem_store(s, req->topic, req->idem_key, out, now,
					 err);
out:
	if (rc == SC_OK && txn.saved) {
		rc = sc_store_exec(s, ST_RELEASE, "release", err);
	} else if (rc != SC_OK &&
		   (solo || (!txn.saved && !clean && sc_sql_pipelined(s->sql)))) {
		/* Nothing to undo it alone: the transaction goes (with the
		 * rest of its batch, which run_batch fails).  On SQLite a
		 * change without its SAVEPOINT failed in a read or in its one
		 * write, which SQLite undid. */
		sc_store_rollback(s);
	} else if (rc != SC_OK && txn.saved && sc_sql_in_txn(s->sql)) {
		sc_store_exec(s, ST_ROLLBACK_TO, "rollback", NULL);
		sc_store_exec(s, ST_RELEASE, "release", NULL);
	}
	if (rc == SC_OK && hi >= 0 && !(create && txn.changes == 0)) {
		/* The row as this change left it (read, or written). */
		h->m[hi] = m;
		h->known[hi] = 1;
		if (defer && txn.changes > 0)
			h->dirty[hi] = 1;
		if (defer && closed.last > 0) {
			assert(h->nclosed < SC_STORE_BATCH_MAX);
			h->closed[h->nclosed] = closed;
			h->topic[h->nclosed++] = (unsigned char)hi;
		}
	}
	if (txn.e != NULL) {
		if (rc != SC_OK && (txn.touched || create || !kept(rc)))
			sc_cache_clear(txn.e);
		else if (rc == SC_OK && create && txn.changes == 0)
			sc_cache_clear(txn.e); /* nothing was created */
		else if (rc == SC_OK && txn.changes > 0) {
			txn.e->valid = 1;
			txn.e->version = out->version;
			txn.e->seq = out->seq;
			if (create)
				txn.e->created_ms = now;
			if (txn.e->text != NULL) /* the snapshot's: exact */
				txn.e->size = txn.e->text_len;
			else if (txn.exact)
				txn.e->size = txn.exact + (txn.len - txn.exact_at);
			else
				txn.e->size += txn.len;
		}
	}
	if (rc != SC_OK)
		sc_store_result_free(out);
	sc_free(txn.text);
	return rc;
}

/* Fails every change of a batch that had succeeded (its transaction is
 * gone) with rc and err. */
static void fail_all(sc_store_gc_item *batch, sc_err rc, const sc_error *err)
{
	sc_store_gc_item *it;

	for (it = batch; it != NULL; it = it->next) {
		if (it->rc != SC_OK)
			continue;
		it->rc = rc;
		it->err = *err;
		sc_store_result_free(it->out);
	}
}

/*
 * Runs the changes of batch in one transaction, one SAVEPOINT each, and
 * commits; fills each item's rc, err and out.  The topics' entries stay
 * locked until the COMMIT, so no reader sees a state that is not
 * committed; when the transaction fails they are cleared.
 */
void sc_store_run_batch(sc_store *s, sc_store_gc_item *batch,
			sc_store_more_fn more, void *arg)
{
	sc_store_gc_item *it, *last = NULL;
	held h = {.n = 0};
	sc_error err;
	int64_t now = sc_store_now_ms();
	int logged = 0;
	sc_err rc;
	size_t i;

	sc_error_clear(&err);
	SC_STAT_ADD(s->sh, batches, 1);
	{
		/* The batch's topics, whose rows its changes read first. */
		const char *topics[SC_STORE_BATCH_MAX];
		size_t n = 0, k;

		for (it = batch; it != NULL && n < SC_STORE_BATCH_MAX;
		     it = it->next) {
			for (k = 0; k < n; k++)
				if (strcmp(topics[k], it->req->topic) == 0)
					break;
			if (k == n)
				topics[n++] = it->req->topic;
		}
		sc_sql_topics_hint(s->sql, topics, n);
	}
	rc = sc_store_begin_write(s, &err);
	if (rc == SC_OK && batch->next == NULL && more == NULL) {
		/* One change: when it fails, run_one has rolled the
		 * transaction back and left its entry as it should be. */
		SC_STAT_ADD(s->sh, changes, 1);
		batch->rc = run_one(s, &h, batch, now, 1, &logged);
		if (batch->rc == SC_OK)
			rc = sc_sql_commit(s->sql, logged, &err);
		if (batch->rc != SC_OK || rc == SC_OK)
			goto release;
	} else {
		for (it = batch;; it = it->next) {
			/* The changes that came meanwhile, while the
			 * transaction lives. */
			if (it == NULL && rc == SC_OK && more != NULL &&
			    (it = more(arg)) != NULL)
				last->next = it;
			if (it == NULL)
				break;
			last = it;
			SC_STAT_ADD(s->sh, changes, 1);
			if (rc != SC_OK) {
				it->rc = rc;
				it->err = err;
				continue;
			}
			it->rc = run_one(s, &h, it, now, 0, &logged);
			if (it->rc != SC_OK && !sc_sql_in_txn(s->sql)) {
				/* The database rolled the whole transaction
				 * back (I/O error, full disk, a lost
				 * connection): nothing of the batch stays. */
				rc = it->rc;
				err = it->err;
				fail_all(batch, rc, &err);
			}
		}
		if (rc == SC_OK)
			rc = flush_rows(s, &h, now, &err);
		if (rc == SC_OK)
			rc = sc_sql_commit(s->sql, logged, &err);
	}
	if (rc != SC_OK) {
		fail_all(batch, rc, &err);
		sc_store_rollback(s);
		for (i = 0; i < h.n; i++)
			sc_cache_clear(h.e[i]);
	}
release:
	for (i = 0; i < h.n; i++)
		sc_cache_release(s->sh, h.e[i]);
}
