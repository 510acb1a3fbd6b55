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
#include <limits.h>

#include "store/internal.h"
#include "store/store.h"

/* Which topics go: ?1 the name (NULL: any), ?2 1 to drop regardless of
 * age, ?3 the time before which a topic counts as idle.  A topic never
 * written (version 0) is always idle: it holds nothing init_state would
 * not give back. */
#define WHICH                                                             \
	"(?1 IS NULL OR name = ?1) AND (?2 = 1 OR version = 0 OR "        \
	"updated_ms < ?3)"

static const char *const steps[] = {
    "DELETE FROM log WHERE topic IN (SELECT name FROM topics WHERE " WHICH
    ") AND seq < (SELECT max(seq) FROM log)",
    "DELETE FROM idempotency WHERE topic IN (SELECT name FROM topics "
    "WHERE " WHICH ")",
    "DELETE FROM snapshots WHERE topic IN (SELECT name FROM topics "
    "WHERE " WHICH ")",
    "DELETE FROM topics WHERE " WHICH,
};

sc_err sc_store_drop(sc_store *s, const char *topic, long idle_seconds,
		     int64_t *dropped, sc_error *err)
{
	int64_t before = sc_store_now_ms();
	sqlite3_stmt *st = NULL;
	size_t i;
	sc_err rc;
	int r = SQLITE_OK;

	if (dropped != NULL)
		*dropped = 0;
	if (topic != NULL && (rc = sc_store_topic_check(topic, err)) != SC_OK)
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
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		r = sqlite3_prepare_v2(s->db, steps[i], -1, &st, NULL);
		if (r == SQLITE_OK)
			r = topic ? sqlite3_bind_text(st, 1, topic, -1,
						      SQLITE_STATIC)
				  : sqlite3_bind_null(st, 1);
		if (r == SQLITE_OK)
			r = sqlite3_bind_int(st, 2, idle_seconds == 0);
		if (r == SQLITE_OK)
			r = sqlite3_bind_int64(st, 3, before);
		if (r == SQLITE_OK)
			r = sqlite3_step(st);
		sqlite3_finalize(st);
		st = NULL;
		if (r != SQLITE_DONE)
			break;
	}
	if (r != SQLITE_DONE) {
		rc = sc_store_sqlerr(s, r, "drop topics", err);
		sc_store_rollback(s);
		return rc;
	}
	if (dropped != NULL)
		*dropped = sqlite3_changes(s->db);
	rc = sc_store_exec(s, ST_COMMIT, "commit", err);
	if (rc != SC_OK)
		sc_store_rollback(s);
	/* A cached state of a topic that is gone is never used again: a
	 * topic made anew has another created_ms (sc_cache_current). */
	return rc;
}
