/*
 * store/cache.c — the process-wide state cache: one current state per
 * hot topic, shared by every connection of a process, least recently
 * used out past a budget, brought up to date by applying the log's
 * patches (its own process's and any other's) instead of parsing whole
 * states again.
 */
#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/buf.h"
#include "common/hash.h"
#include "json/patch.h"
#include "json/text.h"
#include "json/value.h"
#include "store/internal.h"
#include "store/store.h"

#define BUCKETS 1024 /* a power of two */

sc_err sc_store_shared_new(size_t cache_bytes, sc_store_shared **out,
			   sc_error *err)
{
	sc_store_shared *sh = sc_calloc(1, sizeof(*sh));

	*out = NULL;
	if (sh == NULL ||
	    (sh->table = sc_calloc(BUCKETS, sizeof(*sh->table))) == NULL) {
		sc_free(sh);
		return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	}
	sh->nbuckets = BUCKETS;
	sh->budget = cache_bytes ? cache_bytes : SC_STORE_CACHE_DEFAULT;
	pthread_mutex_init(&sh->lock, NULL);
	pthread_cond_init(&sh->done, NULL);
	pthread_cond_init(&sh->work, NULL);
	sc_clock_cond_init(&sh->arrived);
	*out = sh;
	return SC_OK;
}

void sc_cache_clear(sc_centry *e)
{
	json_object_put(e->state);
	sc_free(e->text);
	e->state = NULL;
	e->text = NULL;
	e->text_len = 0;
	e->valid = 0;
	e->version = e->seq = e->created_ms = 0;
	e->size = 0;
}

static void entry_free(sc_centry *e)
{
	sc_cache_clear(e);
	pthread_mutex_destroy(&e->lock);
	sc_free(e);
}

void sc_store_shared_free(sc_store_shared *sh)
{
	size_t i;

	if (sh == NULL)
		return;
	assert(sh->qhead == NULL && !sh->leading && !sh->writer_running);
	for (i = 0; i < sh->nbuckets; i++) {
		sc_centry *e = sh->table[i], *next;

		for (; e != NULL; e = next) {
			next = e->hnext;
			entry_free(e);
		}
	}
	sc_free(sh->table);
	pthread_cond_destroy(&sh->done);
	pthread_cond_destroy(&sh->work);
	pthread_cond_destroy(&sh->arrived);
	pthread_mutex_destroy(&sh->lock);
	sc_free(sh);
}

static size_t bucket(const sc_store_shared *sh, const char *topic)
{
	return (size_t)sc_hash_str(topic) & (sh->nbuckets - 1);
}

static void lru_unlink(sc_store_shared *sh, sc_centry *e)
{
	if (e->lru_prev != NULL)
		e->lru_prev->lru_next = e->lru_next;
	else
		sh->lru_head = e->lru_next;
	if (e->lru_next != NULL)
		e->lru_next->lru_prev = e->lru_prev;
	else
		sh->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void lru_front(sc_store_shared *sh, sc_centry *e)
{
	e->lru_prev = NULL;
	e->lru_next = sh->lru_head;
	if (sh->lru_head != NULL)
		sh->lru_head->lru_prev = e;
	else
		sh->lru_tail = e;
	sh->lru_head = e;
}

sc_centry *sc_cache_acquire(sc_store_shared *sh, const char *topic)
{
	size_t b, n = strlen(topic);
	sc_centry *e;

	assert(n <= SC_TOPIC_MAX);
	pthread_mutex_lock(&sh->lock);
	b = bucket(sh, topic);
	for (e = sh->table[b]; e != NULL; e = e->hnext)
		if (strcmp(e->topic, topic) == 0)
			break;
	if (e == NULL && (e = sc_calloc(1, sizeof(*e))) != NULL) {
		pthread_mutexattr_t a;

		/* Recursive: a change's callback may read a topic its batch
		 * holds (sc_store_get inside the write transaction). */
		pthread_mutexattr_init(&a);
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&e->lock, &a);
		pthread_mutexattr_destroy(&a);
		memcpy(e->topic, topic, n + 1);
		e->hnext = sh->table[b];
		sh->table[b] = e;
		sh->nentries++;
		lru_front(sh, e);
	} else if (e != NULL) {
		lru_unlink(sh, e);
		lru_front(sh, e);
	}
	if (e != NULL)
		e->refs++;
	pthread_mutex_unlock(&sh->lock);
	if (e != NULL)
		pthread_mutex_lock(&e->lock);
	return e;
}

/* Unlinks e (unused) from the table and the LRU and frees it. */
static void evict(sc_store_shared *sh, sc_centry *e)
{
	sc_centry **pp = &sh->table[bucket(sh, e->topic)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(sh, e);
	sh->nentries--;
	sh->used -= e->charged;
	if (e->valid)
		SC_STAT_ADD(sh, evictions, 1);
	entry_free(e);
}

void sc_store_shared_stats(sc_store_shared *sh, sc_store_stats *out)
{
	pthread_mutex_lock(&sh->lock);
	*out = sh->stats;
	out->cached_bytes = sh->used;
	out->queued = sh->queued;
	pthread_mutex_unlock(&sh->lock);
}

void sc_cache_release(sc_store_shared *sh, sc_centry *e)
{
	size_t size;
	sc_centry *v, *prev;

	if (e == NULL)
		return;
	size = e->valid ? e->size + e->text_len : 0;
	pthread_mutex_unlock(&e->lock);
	pthread_mutex_lock(&sh->lock);
	sh->used = sh->used - e->charged + size;
	e->charged = size;
	e->refs--;
	/* Past the budget, or too many names: the least recently used that
	 * nobody holds go (an invalid one costs only its name). */
	for (v = sh->lru_tail;
	     v != NULL && (sh->used > sh->budget || sh->nentries > 65536);
	     v = prev) {
		prev = v->lru_prev;
		if (v->refs == 0)
			evict(sh, v);
	}
	pthread_mutex_unlock(&sh->lock);
}

/* Parses text as e's state at (version, seq); e's old state goes. */
static sc_err load_text(sc_centry *e, const char *text, size_t len,
			const char *topic, sc_error *err)
{
	json_object *o = NULL;
	sc_err rc = sc_json_parse(text, len, &o, err);

	if (rc == SC_ERR_NOMEM)
		return rc;
	if (rc != SC_OK)
		return sc_error_set(err, SC_ERR_STORE,
				    "the stored snapshot of %s is not valid "
				    "JSON",
				    topic);
	json_object_put(e->state);
	e->state = o;
	return SC_OK;
}

/* Applies one logged patch to e's state. */
static sc_err apply_text(sc_centry *e, const char *patch, size_t len,
			 int64_t seq, sc_error *err)
{
	json_object *ops = NULL;
	sc_err rc = sc_json_parse(patch, len, &ops, err);

	/* Parsed only to be applied: its values go into the state as they
	 * are, without a copy. */
	if (rc == SC_OK)
		rc = sc_patch_apply_take(&e->state, ops, err);
	json_object_put(ops);
	if (rc != SC_OK && rc != SC_ERR_NOMEM)
		rc = sc_error_set(err, SC_ERR_STORE,
				  "the log row %" PRId64 " of %s does not "
				  "apply to its state",
				  seq, e->topic);
	return rc;
}

/*
 * Applies the log rows of e's topic after e->seq, in seq order: e's
 * state then holds the topic's last change.
 */
static sc_err apply_tail(sc_store *s, sc_centry *e, sc_error *err)
{
	sc_sqlq *q;
	sc_err rc;
	int r = SC_SQL_ROW;

	rc = sc_store_bind_topic(s, ST_TAIL, e->topic, NULL, &q, err);
	if (rc != SC_OK)
		return rc;
	sc_sql_int64(q, 2, e->seq);
	while (rc == SC_OK &&
	       (r = sc_sql_step(q, "read the log", err)) == SC_SQL_ROW) {
		size_t len = 0;
		const char *p = sc_sql_col_text(q, 1, &len);
		int64_t seq = sc_sql_col_int64(q, 0);

		if (p == NULL) {
			rc = sc_error_set(err, SC_ERR_NOMEM, "out of memory");
			break;
		}
		rc = apply_text(e, p, len, seq, err);
		if (rc == SC_OK) {
			e->seq = seq;
			e->size += len;
		}
	}
	if (rc == SC_OK && r != SC_OK && r != SC_SQL_ROW)
		rc = (sc_err)r;
	sc_sql_reset(q);
	return rc;
}

/* Loads e from the topic's snapshot (m) and the log rows after it. */
static sc_err reload(sc_store *s, sc_centry *e, const sc_topic_meta *m,
		     sc_error *err)
{
	sc_sqlq *q;
	const char *t;
	size_t len = 0;
	sc_err rc;

	sc_cache_clear(e);
	rc = sc_store_topic_row(s, ST_SNAP_GET, e->topic, &q, err);
	if (rc == SC_ERR_NOT_FOUND)
		rc = sc_error_set(err, SC_ERR_STORE,
				  "the topic %s has no snapshot", e->topic);
	if (rc != SC_OK)
		return rc;
	t = sc_sql_col_text(q, 0, &len);
	rc = t == NULL ? sc_error_set(err, SC_ERR_STORE,
				      "the topic %s has no snapshot", e->topic)
		       : load_text(e, t, len, e->topic, err);
	e->size = len;
	sc_sql_reset(q);
	e->seq = m->snap_seq;
	if (rc == SC_OK)
		rc = apply_tail(s, e, err);
	return rc;
}

sc_err sc_cache_current(sc_store *s, sc_centry *e, const sc_topic_meta *m,
			sc_error *err)
{
	/* e holds this topic (not one of its name dropped since) */
	int same = e->valid && e->created_ms == m->created_ms;
	sc_err rc;

	if (same && e->version == m->version) {
		/* Current: every change logs one row and moves the version
		 * by one, so no row came after e's (a version moved by the
		 * application's own SQL differs, and reads the log). */
		rc = SC_OK;
		SC_STAT_ADD(s->sh, hits, 1);
	} else if (same && e->seq >= m->floor) {
		/* Every row after e->seq is still in the log when e->seq is
		 * at or above the floor (retention moves it as it deletes). */
		int64_t seq = e->seq;

		rc = apply_tail(s, e, err);
		if (rc == SC_OK && e->seq != seq) {
			sc_free(e->text);
			e->text = NULL;
			e->text_len = 0;
		}
		if (e->seq != seq)
			SC_STAT_ADD(s->sh, catchups, 1);
		else
			SC_STAT_ADD(s->sh, hits, 1);
	} else {
		rc = reload(s, e, m, err);
		SC_STAT_ADD(s->sh, reloads, 1);
	}
	if (rc != SC_OK) {
		sc_cache_clear(e);
		return rc;
	}
	e->valid = 1;
	e->created_ms = m->created_ms;
	/* The version is the topic row's (an application may move it with
	 * its own SQL); the state is what the log says. */
	e->version = m->version;
	return SC_OK;
}

const char *sc_cache_text(sc_centry *e, size_t *len, sc_error *err)
{
	if (e->text == NULL) {
		/* written at once into memory of about its size (e->size is
		 * the snapshot's and the patches' since) */
		sc_buf b = {0};
		sc_err rc = sc_buf_grow(&b.p, &b.cap, 0,
					e->size < SC_BUF_MAX ? e->size : 0,
					SC_BUF_MAX);
		char *fit;

		if (rc == SC_OK)
			rc = sc_text_write(&b, e->state);
		if (rc != SC_OK) {
			sc_buf_free(&b);
			sc_error_set(err, rc,
				     rc == SC_ERR_NOMEM ? "out of memory"
							: "the state is too "
							  "large or deep");
			return NULL;
		}
		/* kept: no more memory than the text's */
		if (b.cap - b.len > b.len / 8 + 64 &&
		    (fit = sc_realloc(b.p, b.len + 1)) != NULL)
			b.p = fit;
		e->text = b.p;
		e->text_len = b.len;
		e->size = e->text_len;
	}
	*len = e->text_len;
	return e->text;
}
