/*
 * store/log.c — reading the log (the walk after a cursor, whether a
 * cursor can be resumed) and retention (prune, compact).
 */
#include <inttypes.h>
#include <string.h>

#include "store/internal.h"
#include "store/store.h"

/* Binds the topics of a walk: one name, or a JSON array of names
 * (built with json-c; *arr keeps its text until the reset). */
static sc_err bind_topics(sc_sqlq *q, const char *const *topics,
			  size_t ntopics, json_object **arr, sc_error *err)
{
	size_t i;

	if (ntopics == 1) {
		sc_sql_text(q, 1, topics[0], (size_t)-1);
		return SC_OK;
	}
	*arr = json_object_new_array_ext((int)ntopics);
	if (*arr == NULL)
		return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	for (i = 0; i < ntopics; i++) {
		json_object *t = json_object_new_string(topics[i]);

		if (t == NULL || json_object_array_add(*arr, t) != 0) {
			json_object_put(t);
			return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
		}
	}
	sc_sql_text(q, 1,
		    json_object_to_json_string_ext(*arr, JSON_C_TO_STRING_PLAIN),
		    (size_t)-1);
	return SC_OK;
}

sc_err sc_store_log(sc_store *s, const char *const *topics, size_t ntopics,
		    int64_t after_seq, size_t limit, sc_store_entry_fn fn,
		    void *arg, int64_t *last_seq, sc_error *err)
{
	sc_sqlq *q = NULL;
	json_object *arr = NULL;
	int64_t top = 0;
	sc_err rc = SC_OK;
	size_t i;
	int r = SC_OK, began = 0;

	if (last_seq != NULL)
		*last_seq = 0;
	for (i = 0; i < ntopics && rc == SC_OK; i++)
		rc = sc_topic_check(topics[i], err);
	if (rc != SC_OK)
		return rc;
	/* One read transaction: the rows and the highest seq are of one
	 * snapshot.  Inside a caller's transaction, that one serves. */
	if (!sc_sql_in_txn(s->sql)) {
		rc = sc_sql_begin(s->sql, 0, err);
		began = rc == SC_OK;
	}
	if (rc == SC_OK)
		rc = sc_store_max_seq(s, &top, err);
	if (rc == SC_OK) {
		q = sc_sql_query(s->sql,
				 ntopics == 0	? ST_LOG_ALL
				 : ntopics == 1 ? ST_LOG_ONE
						: ST_LOG_MANY,
				 err);
		if (q == NULL)
			rc = err != NULL && err->code != SC_OK ? err->code
							       : SC_ERR_STORE;
	}
	if (rc == SC_OK && ntopics > 0)
		rc = bind_topics(q, topics, ntopics, &arr, err);
	if (rc == SC_OK) {
		sc_sql_int64(q, 2, after_seq);
		sc_sql_int64(q, 3, limit ? (int64_t)limit : -1);
	}
	while (rc == SC_OK &&
	       (r = sc_sql_step(q, "read the log", err)) == SC_SQL_ROW) {
		sc_store_entry e;

		e.seq = sc_sql_col_int64(q, 0);
		e.topic = sc_sql_col_text(q, 1, NULL);
		e.version = sc_sql_col_int64(q, 2);
		e.time_ms = sc_sql_col_int64(q, 3);
		e.event = sc_sql_col_text(q, 4, NULL);
		e.patch = sc_sql_col_text(q, 5, &e.patch_len);
		if (e.topic == NULL || e.patch == NULL) {
			rc = sc_error_set(err, SC_ERR_NOMEM, "out of memory");
			break;
		}
		if (fn(&e, arg) != 0)
			break;
	}
	if (rc == SC_OK && r != SC_SQL_ROW && r != SC_OK)
		rc = (sc_err)r;
	sc_sql_reset(q);
	if (began && rc == SC_OK)
		rc = sc_sql_commit(s->sql, 0, err);
	if (began && rc != SC_OK)
		sc_store_rollback(s);
	json_object_put(arr);
	if (rc == SC_OK && last_seq != NULL)
		*last_seq = top;
	return rc;
}

sc_err sc_store_resumable(sc_store *s, const char *topic, int64_t after_seq,
			  sc_error *err)
{
	sc_sqlq *q;
	int64_t floor, top;
	sc_err rc = sc_store_topic_row(s, ST_TOPIC_FLOOR, topic, &q, err);

	if (rc != SC_OK)
		return rc;
	floor = sc_sql_col_int64(q, 0);
	top = sc_sql_col_int64(q, 1);
	sc_sql_reset(q);
	if (after_seq < floor)
		return sc_error_set(err, SC_ERR_CURSOR,
				    "the log of %s is complete only after seq "
				    "%" PRId64,
				    topic, floor);
	if (after_seq > top)
		return sc_error_set(err, SC_ERR_CURSOR,
				    "cursor ahead of the log");
	return SC_OK;
}

/* Runs a write statement of the cache with its text ?1 (when topic is
 * not NULL) and int64 ?2 (else ?1); adds the rows it changed to *changed
 * (if not NULL). */
static sc_err run(sc_store *s, enum st_id id, const char *topic, int64_t v,
		  int64_t *changed, sc_error *err)
{
	sc_sqlq *q;
	int r;
	sc_err rc = sc_store_bind_topic(s, id, topic, NULL, &q, err);

	if (rc != SC_OK)
		return rc;
	sc_sql_int64(q, topic != NULL ? 2 : 1, v);
	r = sc_sql_step(q, "prune", err);
	if (r == SC_OK && changed != NULL)
		*changed += sc_sql_changes(q);
	else if (r != SC_OK)
		rc = r == SC_SQL_ROW ? SC_OK : (sc_err)r;
	sc_sql_reset(q);
	return rc;
}

/*
 * Retention of one topic at version, inside a write transaction: walks
 * the topic's rows above its floor in seq order and stops at
 * the first one that must stay, one of the newest keep_versions or
 * younger than keep_seconds, so what goes is always the oldest part of
 * the topic's log and the walk costs the rows pruned plus one.  A row
 * goes only when a later row of the topic was seen: the topic's newest
 * row always stays, whatever the versions say, and with it the row of
 * the highest seq, which is what keeps seq from being reused (schema.sql).
 * Moves the floor up to the last row that goes and deletes the rows at
 * or below it; adds their number to *removed.  m is the topic's row (its
 * floor may lag: the rows below the real one are gone already).
 */
static sc_err prune_one(sc_store *s, const char *topic, int64_t version,
			int64_t now, const sc_topic_meta *m, int64_t *removed,
			sc_error *err)
{
	sc_sqlq *q;
	int64_t keep = s->keep_versions > 0 ? s->keep_versions : 1;
	int64_t vcut = version - keep;
	int64_t tcut = now - (int64_t)s->keep_seconds * 1000;
	int64_t cand = 0, cut = 0, after, rows;
	int r, more = 1;
	sc_err rc = SC_OK;

	/* The rows above the floor that the snapshot holds, in seq order, a
	 * page at a time, up to the first one retention keeps.  The bounds
	 * are plain parameters, which PostgreSQL matches to the log_topic
	 * index once the log has statistics (docs/store.md). */
	after = m->floor;
	while (rc == SC_OK && more) {
		rc = sc_store_bind_topic(s, ST_PRUNE_WALK, topic, NULL, &q, err);
		if (rc != SC_OK)
			return rc;
		sc_sql_int64(q, 2, after);
		sc_sql_int64(q, 3, m->snap_seq);
		rows = 0;
		while ((r = sc_sql_step(q, "prune", err)) == SC_SQL_ROW) {
			rows++;
			cut = cand; /* a later row exists: the candidate may go */
			if (sc_sql_col_int64(q, 1) > vcut ||
			    sc_sql_col_int64(q, 2) >= tcut) {
				r = SC_OK;
				rows = 0;
				break;
			}
			cand = after = sc_sql_col_int64(q, 0);
		}
		if (r != SC_OK)
			rc = (sc_err)r;
		sc_sql_reset(q);
		more = rows == SC_STORE_PRUNE_PAGE;
	}
	if (rc == SC_OK && cut > 0)
		rc = run(s, ST_PRUNE_TOPIC_FLOOR, topic, cut, NULL, err);
	if (rc == SC_OK && cut > 0)
		rc = run(s, ST_PRUNE_TOPIC_LOG, topic, cut, removed, err);
	if (rc == SC_OK && cut > 0)
		rc = run(s, ST_PRUNE_RUNS, topic, cut, NULL, err);
	return rc;
}

sc_err sc_store_prune_topic(sc_store *s, const char *topic, int64_t version,
			    int64_t now, const sc_topic_meta *m, sc_error *err)
{
	sc_err rc = prune_one(s, topic, version, now, m, NULL, err);

	if (rc == SC_OK)
		rc = run(s, ST_PRUNE_IDEM, NULL,
			 now - (int64_t)s->idem_seconds * 1000, NULL, err);
	return rc;
}

/* The topic after name (in name order) into name and *version; *found 0
 * past the last. */
static sc_err next_topic(sc_store *s, char name[SC_TOPIC_MAX + 1],
			 int64_t *version, int *found, sc_error *err)
{
	sc_sqlq *q;
	sc_err rc = sc_store_bind_topic(s, ST_PRUNE_NEXT, name, NULL, &q, err);
	int r;

	*found = 0;
	if (rc != SC_OK)
		return rc;
	r = sc_sql_step(q, "list the topics", err);
	if (r == SC_SQL_ROW) {
		size_t len = 0;
		const char *t = sc_sql_col_text(q, 0, &len);

		/* Only a name of full length keeps "name > ?1" moving. */
		if (t == NULL || len > SC_TOPIC_MAX || strlen(t) != len) {
			rc = sc_error_set(err, SC_ERR_STORE,
					  "a topic name in the database is "
					  "malformed");
		} else {
			char next[SC_TOPIC_MAX + 1];

			/* name is bound until the reset */
			memcpy(next, t, len + 1);
			*version = sc_sql_col_int64(q, 1);
			sc_sql_reset(q);
			memcpy(name, next, len + 1);
			*found = 1;
			return SC_OK;
		}
	} else if (r != SC_OK) {
		rc = (sc_err)r;
	}
	sc_sql_reset(q);
	return rc;
}

static sc_err snapshot_one(sc_store *s, const char *topic,
			   const sc_topic_meta *known, sc_error *err);

/*
 * Retention of one topic by sc_store_prune: the snapshot first, when
 * rows that retention would let go are after it and the state is small
 * (its snapshot lags its log by up to SC_STORE_SNAP_FLOOR bytes).
 */
static sc_err prune_topic_now(sc_store *s, const char *topic,
			      int64_t version, int64_t now, int64_t *removed,
			      sc_error *err)
{
	int64_t keep = s->keep_versions > 0 ? s->keep_versions : 1;
	sc_topic_meta m;
	sc_err rc = sc_store_meta(s, topic, &m, err);

	if (rc == SC_OK && m.snap_version <= version - keep &&
	    m.snap_bytes <= SC_STORE_SNAP_FLOOR) {
		rc = snapshot_one(s, topic, &m, err);
		if (rc == SC_OK) /* its new snapshot seq */
			rc = sc_store_meta(s, topic, &m, err);
	}
	if (rc == SC_OK)
		rc = prune_one(s, topic, version, now, &m, removed, err);
	return rc;
}

sc_err sc_store_prune(sc_store *s, int64_t *removed, sc_error *err)
{
	int64_t now = sc_store_now_ms(), n = 0, version = 0;
	char name[SC_TOPIC_MAX + 1] = "";
	int found = 1;
	sc_err rc;

	if (removed != NULL)
		*removed = 0;
	rc = sc_store_begin_write(s, err);
	if (rc != SC_OK)
		return rc;
	/* Topic by topic: each walk costs its rows pruned plus one. */
	while (rc == SC_OK) {
		rc = next_topic(s, name, &version, &found, err);
		if (rc != SC_OK || !found)
			break;
		rc = prune_topic_now(s, name, version, now, &n, err);
	}
	if (rc == SC_OK)
		rc = run(s, ST_PRUNE_IDEM, NULL,
			 now - (int64_t)s->idem_seconds * 1000, NULL, err);
	if (rc == SC_OK)
		rc = sc_sql_commit(s->sql, 0, err);
	if (rc != SC_OK) {
		sc_store_rollback(s);
		n = 0;
	}
	if (removed != NULL)
		*removed = n;
	return rc;
}

/* Rewrites the snapshot of topic (a write transaction is open) to its
 * current state, so retention may prune every row it held; known: its
 * row, read in this transaction (NULL: read here). */
static sc_err snapshot_one(sc_store *s, const char *topic,
			   const sc_topic_meta *known, sc_error *err)
{
	sc_centry *e = sc_cache_acquire(s->sh, topic);
	sc_topic_meta m;
	sc_sqlq *q;
	const char *text = NULL;
	size_t len = 0;
	sc_err rc;
	int r;

	if (e == NULL)
		return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	if (known != NULL)
		m = *known;
	rc = known != NULL ? SC_OK : sc_store_meta(s, topic, &m, err);
	if (rc == SC_OK)
		rc = sc_cache_current(s, e, &m, err);
	if (rc == SC_OK && (text = sc_cache_text(e, &len, err)) == NULL)
		rc = SC_ERR_NOMEM;
	if (rc == SC_OK)
		rc = sc_store_put_snapshot(s, topic, text, len, err);
	if (rc == SC_OK)
		rc = sc_store_bind_topic(s, ST_TOPIC_SNAP, topic, NULL, &q, err);
	if (rc == SC_OK) {
		sc_sql_int64(q, 2, m.version);
		sc_sql_int64(q, 3, e->seq);
		sc_sql_int64(q, 4, (int64_t)len);
		r = sc_sql_step(q, "write the snapshot", err);
		if (r != SC_OK && r != SC_SQL_ROW)
			rc = (sc_err)r;
		sc_sql_reset(q);
	}
	sc_cache_release(s->sh, e);
	return rc;
}

/* Every topic with patches after its snapshot gets a new snapshot, in
 * one transaction. */
static sc_err snapshot_all(sc_store *s, sc_error *err)
{
	char name[SC_TOPIC_MAX + 1] = "";
	sc_sqlq *q;
	sc_err rc = sc_store_begin_write(s, err);
	int r;

	while (rc == SC_OK) {
		rc = sc_store_bind_topic(s, ST_SNAP_NEXT, name, NULL, &q, err);
		if (rc != SC_OK)
			break;
		r = sc_sql_step(q, "list the topics", err);
		if (r == SC_SQL_ROW) {
			const char *t = sc_sql_col_text(q, 0, NULL);
			char next[SC_TOPIC_MAX + 1];

			if (t == NULL || strlen(t) > SC_TOPIC_MAX) {
				rc = sc_error_set(err, SC_ERR_STORE,
						  "a topic name in the "
						  "database is malformed");
			} else {
				strcpy(next, t);
				sc_sql_reset(q); /* name is bound */
				strcpy(name, next);
			}
		} else if (r != SC_OK) {
			rc = (sc_err)r;
		}
		sc_sql_reset(q);
		if (r != SC_SQL_ROW || rc != SC_OK)
			break;
		rc = snapshot_one(s, name, NULL, err);
	}
	if (rc == SC_OK)
		rc = sc_sql_commit(s->sql, 0, err);
	if (rc != SC_OK)
		sc_store_rollback(s);
	return rc;
}

sc_err sc_store_compact(sc_store *s, int vacuum, sc_error *err)
{
	sc_err rc = snapshot_all(s, err);

	if (rc == SC_OK)
		rc = sc_store_prune(s, NULL, err);
	if (rc == SC_OK)
		rc = sc_sql_maintain(s->sql, vacuum, err);
	return rc;
}
