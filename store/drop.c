/*
 * store/drop.c — removing topics (sc_store_drop): by name, or every
 * topic idle for a while.  A dropped topic reads as never written again
 * (the application's init_state at version 0) until an event creates it
 * anew.
 *
 * Its log rows go too, except the row that holds the highest seq of the
 * whole log, which stays (as an orphan no topic reads) so that a seq is
 * never given twice (schema.sql).  A topic made again later gets a floor
 * at the highest seq then, so no cursor from before the drop resumes on
 * it with patches: clients get the full state.
 */
#include "store/internal.h"
#include "store/store.h"

/* The statements, in order; each takes ?1 the name (NULL: any), ?2 1 to
 * drop regardless of age, ?3 the time before which a topic counts as
 * idle (a topic never written, version 0, always is); the last one's
 * changes are the topics dropped. */
static const enum st_id steps[] = {ST_DROP_LOG,  ST_DROP_RUNS,
				   ST_DROP_IDEM, ST_DROP_SNAP,
				   ST_DROP_TOPICS};

sc_err sc_store_drop(sc_store *s, const char *topic, long idle_seconds,
		     int64_t *dropped, sc_error *err)
{
	int64_t before = sc_store_now_ms(), n = 0;
	sc_sqlq *q;
	size_t i;
	sc_err rc;
	int r = SC_OK;

	if (dropped != NULL)
		*dropped = 0;
	if (topic != NULL && (rc = sc_topic_check(topic, err)) != SC_OK)
		return rc;
	if (idle_seconds < 0)
		return sc_error_set(err, SC_ERR_INVALID,
				    "idle_seconds must not be negative");
	if (idle_seconds > 0)
		before = idle_seconds >= before / 1000
			     ? 0
			     : before - (int64_t)idle_seconds * 1000;
	rc = sc_store_begin_write(s, err);
	if (rc != SC_OK)
		return rc;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]) && rc == SC_OK; i++) {
		rc = sc_store_bind_topic(s, steps[i], NULL, NULL, &q, err);
		if (rc != SC_OK)
			break;
		if (topic != NULL)
			sc_sql_text(q, 1, topic, (size_t)-1);
		else
			sc_sql_null(q, 1);
		sc_sql_int64(q, 2, idle_seconds == 0);
		sc_sql_int64(q, 3, before);
		r = sc_sql_step(q, "drop topics", err);
		if (r == SC_OK)
			n = sc_sql_changes(q);
		else
			rc = r == SC_SQL_ROW ? SC_OK : (sc_err)r;
		sc_sql_reset(q);
	}
	if (rc == SC_OK)
		rc = sc_sql_commit(s->sql, 0, err);
	if (rc != SC_OK) {
		sc_store_rollback(s);
		return rc;
	}
	if (dropped != NULL)
		*dropped = n;
	/* A cached state of a topic that is gone is never used again: a
	 * topic made anew has another created_ms (sc_cache_current). */
	return rc;
}
