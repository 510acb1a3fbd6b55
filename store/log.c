/*
 * store/log.c — reading the log (the walk after a cursor, whether a
 * cursor can be resumed) and retention (prune, compact).
 */
#include <inttypes.h>
#include <string.h>

#include "store/internal.h"
#include "store/store.h"

/* Binds the topics of a walk: one name, or a JSON array of names for
 * json_each (built with json-c). */
static sc_err bind_topics(sc_store *s, sqlite3_stmt *st,
			  const char *const *topics, size_t ntopics,
			  json_object **arr, sc_error *err)
{
	size_t i;
	int r;

	if (ntopics == 1) {
		r = sqlite3_bind_text(st, 1, topics[0], -1, SQLITE_STATIC);
		return r == SQLITE_OK ? SC_OK
				      : sc_store_sqlerr(s, r, "bind", err);
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
	r = sqlite3_bind_text(
	    st, 1, json_object_to_json_string_ext(*arr, JSON_C_TO_STRING_PLAIN),
	    -1, SQLITE_TRANSIENT);
	return r == SQLITE_OK ? SC_OK : sc_store_sqlerr(s, r, "bind", err);
}

sc_err sc_store_log(sc_store *s, const char *const *topics, size_t ntopics,
		    int64_t after_seq, size_t limit, sc_store_entry_fn fn,
		    void *arg, int64_t *last_seq, sc_error *err)
{
	sqlite3_stmt *st = NULL;
	json_object *arr = NULL;
	int64_t top = 0;
	sc_err rc = SC_OK;
	size_t i;
	int r = SQLITE_OK, began = 0;

	if (last_seq != NULL)
		*last_seq = 0;
	for (i = 0; i < ntopics && rc == SC_OK; i++)
		rc = sc_store_topic_check(topics[i], err);
	if (rc != SC_OK)
		return rc;
	/* One read transaction: the rows and the highest seq are of one
	 * snapshot.  Inside a caller's transaction, that one serves. */
	if (sqlite3_get_autocommit(s->db)) {
		rc = sc_store_exec(s, ST_BEGIN_READ, "begin", err);
		began = rc == SC_OK;
	}
	if (rc == SC_OK)
		rc = sc_store_max_seq(s, &top, err);
	if (rc == SC_OK) {
		st = sc_store_stmt(s,
				   ntopics == 0	  ? ST_LOG_ALL
				   : ntopics == 1 ? ST_LOG_ONE
						  : ST_LOG_MANY,
				   err);
		if (st == NULL)
			rc = err != NULL ? err->code : SC_ERR_STORE;
	}
	if (rc == SC_OK && ntopics > 0)
		rc = bind_topics(s, st, topics, ntopics, &arr, err);
	if (rc == SC_OK) {
		r = sqlite3_bind_int64(st, 2, after_seq);
		if (r == SQLITE_OK)
			r = sqlite3_bind_int64(st, 3,
					       limit ? (int64_t)limit : -1);
		if (r != SQLITE_OK)
			rc = sc_store_sqlerr(s, r, "bind", err);
	}
	while (rc == SC_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
		sc_store_entry e;

		e.seq = sqlite3_column_int64(st, 0);
		e.topic = (const char *)sqlite3_column_text(st, 1);
		e.version = sqlite3_column_int64(st, 2);
		e.time_ms = sqlite3_column_int64(st, 3);
		e.event = (const char *)sqlite3_column_text(st, 4);
		e.patch = (const char *)sqlite3_column_text(st, 5);
		e.patch_len = (size_t)sqlite3_column_bytes(st, 5);
		if (e.topic == NULL || e.patch == NULL) {
			rc = sc_error_set(err, SC_ERR_NOMEM, "out of memory");
			break;
		}
		if (fn(&e, arg) != 0)
			break;
	}
	if (rc == SC_OK && r != SQLITE_ROW && r != SQLITE_DONE)
		rc = sc_store_sqlerr(s, r, "read the log", err);
	sc_store_reset(st);
	if (began && rc == SC_OK)
		rc = sc_store_exec(s, ST_COMMIT, "end the read", err);
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
	sqlite3_stmt *st;
	int64_t floor, top;
	sc_err rc = sc_store_topic_row(s, ST_TOPIC_FLOOR, topic, &st, err);

	if (rc != SC_OK)
		return rc;
	floor = sqlite3_column_int64(st, 0);
	top = sqlite3_column_int64(st, 1);
	sc_store_reset(st);
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
	sqlite3_stmt *st;
	int r;
	sc_err rc = sc_store_bind_topic(s, id, topic, NULL, &st, &r, err);

	if (rc != SC_OK)
		return rc;
	if (r == SQLITE_OK)
		r = sqlite3_bind_int64(st, topic != NULL ? 2 : 1, v);
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	if (r != SQLITE_DONE)
		rc = sc_store_sqlerr(s, r, "prune", err);
	else if (changed != NULL)
		*changed += sqlite3_changes(s->db);
	sc_store_reset(st);
	return rc;
}

/*
 * Retention of one topic at version, inside a write transaction: walks
 * the topic's rows above its floor in seq order (log_topic) and stops at
 * the first one that must stay, one of the newest keep_versions or
 * younger than keep_seconds, so what goes is always the oldest part of
 * the topic's log and the walk costs the rows pruned plus one.  A row
 * goes only when a later row of the topic was seen: the topic's newest
 * row always stays, whatever the versions say, and with it the row of
 * the highest seq, which is what keeps seq from being reused (schema.sql).
 * Moves the floor up to the last row that goes and deletes the rows at
 * or below it; adds their number to *removed.
 */
static sc_err prune_one(sc_store *s, const char *topic, int64_t version,
			int64_t now, int64_t *removed, sc_error *err)
{
	sqlite3_stmt *st;
	int64_t keep = s->keep_versions > 0 ? s->keep_versions : 1;
	int64_t vcut = version - keep;
	int64_t tcut = now - (int64_t)s->keep_seconds * 1000;
	int64_t cand = 0, cut = 0;
	int r;
	sc_err rc =
	    sc_store_bind_topic(s, ST_PRUNE_WALK, topic, NULL, &st, &r, err);

	if (rc != SC_OK)
		return rc;
	while (r == SQLITE_OK || r == SQLITE_ROW) {
		r = sqlite3_step(st);
		if (r != SQLITE_ROW)
			break;
		cut = cand; /* a later row exists: the candidate may go */
		if (sqlite3_column_int64(st, 1) > vcut ||
		    sqlite3_column_int64(st, 2) >= tcut) {
			r = SQLITE_DONE;
			break;
		}
		cand = sqlite3_column_int64(st, 0);
	}
	if (r != SQLITE_DONE)
		rc = sc_store_sqlerr(s, r, "prune", err);
	sc_store_reset(st);
	if (rc == SC_OK && cut > 0)
		rc = run(s, ST_PRUNE_TOPIC_FLOOR, topic, cut, NULL, err);
	if (rc == SC_OK && cut > 0)
		rc = run(s, ST_PRUNE_TOPIC_LOG, topic, cut, removed, err);
	return rc;
}

sc_err sc_store_prune_topic(sc_store *s, const char *topic, int64_t version,
			    int64_t now, sc_error *err)
{
	sc_err rc = prune_one(s, topic, version, now, NULL, err);

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
	sqlite3_stmt *st = sc_store_stmt(s, ST_PRUNE_NEXT, err);
	sc_err rc = SC_OK;
	int r;

	*found = 0;
	if (st == NULL)
		return err != NULL ? err->code : SC_ERR_STORE;
	r = sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		size_t len = (size_t)sqlite3_column_bytes(st, 0);

		/* Only a name of full length keeps "name > ?1" moving. */
		if (t == NULL || len > SC_TOPIC_MAX || strlen(t) != len) {
			rc = sc_error_set(err, SC_ERR_STORE,
					  "a topic name in the database is "
					  "malformed");
		} else {
			memcpy(name, t, len + 1);
			*version = sqlite3_column_int64(st, 1);
			*found = 1;
		}
	} else if (r != SQLITE_DONE) {
		rc = sc_store_sqlerr(s, r, "list the topics", err);
	}
	sc_store_reset(st);
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
		rc = prune_one(s, name, version, now, &n, err);
	}
	if (rc == SC_OK)
		rc = run(s, ST_PRUNE_IDEM, NULL,
			 now - (int64_t)s->idem_seconds * 1000, NULL, err);
	if (rc == SC_OK)
		rc = sc_store_exec(s, ST_COMMIT, "commit", err);
	if (rc != SC_OK) {
		sc_store_rollback(s);
		n = 0;
	}
	if (removed != NULL)
		*removed = n;
	return rc;
}

/* Rewrites the snapshot of topic (a write transaction is open) to its
 * current state, so retention may prune every row it held. */
static sc_err snapshot_one(sc_store *s, const char *topic, sc_error *err)
{
	sc_centry *e = sc_cache_acquire(s->sh, topic);
	sc_topic_meta m;
	sqlite3_stmt *st;
	const char *text = NULL;
	size_t len = 0;
	int r = SQLITE_OK;
	sc_err rc;

	if (e == NULL)
		return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	rc = sc_store_meta(s, topic, &m, err);
	if (rc == SC_OK)
		rc = sc_cache_current(s, e, &m, err);
	if (rc == SC_OK && (text = sc_cache_text(e, &len, err)) == NULL)
		rc = SC_ERR_NOMEM;
	if (rc == SC_OK)
		rc = sc_store_put_snapshot(s, topic, text, len, err);
	if (rc == SC_OK)
		rc = sc_store_bind_topic(s, ST_TOPIC_SNAP, topic, NULL, &st, &r,
					 err);
	if (rc == SC_OK) {
		if (r == SQLITE_OK)
			r = sqlite3_bind_int64(st, 2, m.version);
		if (r == SQLITE_OK)
			r = sqlite3_bind_int64(st, 3, e->seq);
		if (r == SQLITE_OK)
			r = sqlite3_bind_int64(st, 4, (int64_t)len);
		if (r == SQLITE_OK)
			r = sqlite3_step(st);
		if (r != SQLITE_DONE)
			rc = sc_store_sqlerr(s, r, "write the snapshot", err);
		sc_store_reset(st);
	}
	sc_cache_release(s->sh, e);
	return rc;
}

/* Every topic with patches after its snapshot gets a new snapshot, in
 * one transaction. */
static sc_err snapshot_all(sc_store *s, sc_error *err)
{
	char name[SC_TOPIC_MAX + 1] = "";
	sqlite3_stmt *st;
	sc_err rc = sc_store_begin_write(s, err);
	int r;

	while (rc == SC_OK) {
		st = sc_store_stmt(s, ST_SNAP_NEXT, err);
		if (st == NULL) {
			rc = err != NULL ? err->code : SC_ERR_STORE;
			break;
		}
		r = sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
		if (r == SQLITE_OK)
			r = sqlite3_step(st);
		if (r == SQLITE_ROW) {
			const char *t = (const char *)sqlite3_column_text(st, 0);

			if (t == NULL || strlen(t) > SC_TOPIC_MAX)
				rc = sc_error_set(err, SC_ERR_STORE,
						  "a topic name in the "
						  "database is malformed");
			else
				strcpy(name, t);
		} else if (r != SQLITE_DONE) {
			rc = sc_store_sqlerr(s, r, "list the topics", err);
		}
		sc_store_reset(st);
		if (r != SQLITE_ROW || rc != SC_OK)
			break;
		rc = snapshot_one(s, name, err);
	}
	if (rc == SC_OK)
		rc = sc_store_exec(s, ST_COMMIT, "commit", err);
	if (rc != SC_OK)
		sc_store_rollback(s);
	return rc;
}

sc_err sc_store_compact(sc_store *s, int vacuum, sc_error *err)
{
	sc_err rc = snapshot_all(s, err);
	int r;

	if (rc == SC_OK)
		rc = sc_store_prune(s, NULL, err);
	if (rc == SC_OK && vacuum) {
		r = sqlite3_exec(s->db, "VACUUM", NULL, NULL, NULL);
		if (r != SQLITE_OK)
			rc = sc_store_sqlerr(s, r, "vacuum", err);
	}
	if (rc == SC_OK) {
		r = sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL,
				 NULL, NULL);
		if (r != SQLITE_OK)
			rc = sc_store_sqlerr(s, r, "checkpoint", err);
	}
	return rc;
}
