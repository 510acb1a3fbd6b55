/*
 * store/store.c — opening a store (the backend by the --db it is
 * given, store/sql.h), epoch and cursors, and the reads:
 * get, create, topics, max seq.  The write path is in store/change.c,
 * the log walk and retention in store/log.c; the SQL of each backend in
 * store/sqlite.c and store/pg.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/clock.h"
#include "json/text.h"
#include "store/internal.h"
#include "store/sql.h"
#include "store/store.h"

#define DEFAULT_KEEP_VERSIONS 1000
#define DEFAULT_KEEP_SECONDS  3600
#define DEFAULT_IDEM_SECONDS  86400

int64_t sc_store_now_ms(void)
{
	return sc_clock_wall_ms();
}

sc_err sc_store_exec(sc_store *s, enum st_id id, const char *what,
		     sc_error *err)
{
	sc_sqlq *q = sc_sql_query(s->sql, id, err);
	int r;

	if (q == NULL)
		return err != NULL ? err->code : SC_ERR_STORE;
	r = sc_sql_step(q, what, err);
	sc_sql_reset(q);
	if (r == SC_SQL_ROW)
		return SC_OK;
	return (sc_err)r;
}

sc_err sc_store_bind_topic(sc_store *s, enum st_id id, const char *topic,
			   const char *key, sc_sqlq **q, sc_error *err)
{
	*q = sc_sql_query(s->sql, id, err);
	if (*q == NULL)
		return err != NULL && err->code != SC_OK ? err->code
							 : SC_ERR_STORE;
	if (topic != NULL)
		sc_sql_text(*q, 1, topic, (size_t)-1);
	if (key != NULL)
		sc_sql_text(*q, 2, key, (size_t)-1);
	return SC_OK;
}

sc_err sc_store_topic_row(sc_store *s, enum st_id id, const char *topic,
			  sc_sqlq **q, sc_error *err)
{
	sc_err rc = sc_topic_check(topic, err);
	int r;

	if (rc == SC_OK)
		rc = sc_store_bind_topic(s, id, topic, NULL, q, err);
	if (rc != SC_OK)
		return rc;
	r = sc_sql_step(*q, "read the topic", err);
	if (r == SC_SQL_ROW)
		return SC_OK;
	if (r == SC_OK)
		rc = sc_error_set(err, SC_ERR_NOT_FOUND, "no such topic: %s",
				  topic);
	else
		rc = (sc_err)r;
	sc_sql_reset(*q);
	return rc;
}

sc_err sc_store_begin_write(sc_store *s, sc_error *err)
{
	if (s->readonly)
		return sc_error_set(err, SC_ERR_READONLY,
				    "the store is open read-only");
	return sc_sql_begin(s->sql, 1, err);
}

void sc_store_rollback(sc_store *s)
{
	sc_sql_rollback(s->sql);
}

/* Also the store's own: inside a transaction it reads that snapshot. */
sc_err sc_store_max_seq(sc_store *s, int64_t *seq, sc_error *err)
{
	sc_sqlq *q = sc_sql_query(s->sql, ST_MAX_SEQ, err);
	sc_err rc = SC_OK;
	int r;

	*seq = 0;
	if (q == NULL)
		return err != NULL && err->code != SC_OK ? err->code
							 : SC_ERR_STORE;
	r = sc_sql_step(q, "read the highest seq", err);
	if (r == SC_SQL_ROW)
		*seq = sc_sql_col_int64(q, 0);
	else
		rc = r == SC_OK ? sc_error_set(err, SC_ERR_STORE,
					       "read the highest seq: no row")
				: (sc_err)r;
	sc_sql_reset(q);
	return rc;
}

sc_err sc_store_meta(sc_store *s, const char *topic, sc_topic_meta *m,
		     sc_error *err)
{
	sc_sqlq *q;
	int r;
	sc_err rc = sc_store_bind_topic(s, ST_TOPIC_META, topic, NULL, &q, err);

	memset(m, 0, sizeof(*m));
	if (rc != SC_OK)
		return rc;
	r = sc_sql_step(q, "read the topic", err);
	if (r == SC_SQL_ROW) {
		m->version = sc_sql_col_int64(q, 0);
		m->floor = sc_sql_col_int64(q, 1);
		m->created_ms = sc_sql_col_int64(q, 2);
		m->snap_version = sc_sql_col_int64(q, 3);
		m->snap_seq = sc_sql_col_int64(q, 4);
		m->snap_bytes = sc_sql_col_int64(q, 5);
		m->tail_bytes = sc_sql_col_int64(q, 6);
		m->last_seq = sc_sql_col_int64(q, 7);
		m->run_first = sc_sql_col_int64(q, 8);
	} else if (r == SC_OK) {
		rc = SC_ERR_NOT_FOUND;
		if (err != NULL)
			err->code = rc;
	} else {
		rc = (sc_err)r;
	}
	sc_sql_reset(q);
	return rc;
}

sc_err sc_store_new_epoch(char epoch[SC_EPOCH_HEX + 1], sc_error *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[SC_EPOCH_HEX / 2];
	size_t i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return sc_error_set(err, SC_ERR_IO, "getrandom: %s",
				    strerror(errno));
	for (i = 0; i < sizeof(rnd); i++) {
		epoch[2 * i] = hex[rnd[i] >> 4];
		epoch[2 * i + 1] = hex[rnd[i] & 15];
	}
	epoch[SC_EPOCH_HEX] = '\0';
	return SC_OK;
}

sc_err sc_store_epoch_check(const char *text, const char *where,
			    char epoch[33], sc_error *err)
{
	if (text == NULL || strlen(text) >= 33 || strchr(text, ':') != NULL)
		return sc_error_set(err, SC_ERR_STORE, "%s: malformed epoch",
				    where);
	strcpy(epoch, text);
	return SC_OK;
}

int sc_store_is_pg(const char *path)
{
	return strncmp(path, "postgresql://", 13) == 0 ||
	       strncmp(path, "postgres://", 11) == 0;
}

const char *sc_store_display(const char *path, char *buf, size_t n)
{
	const char *p, *at, *colon, *end;
	size_t o = 0;

	if (n == 0)
		return buf;
	buf[0] = '\0';
	if (!sc_store_is_pg(path)) {
		snprintf(buf, n, "%s", path);
		return buf;
	}
	/* scheme://[user[:password]@]host...: the part before '@' (if any,
	 * within the authority) loses ":password". */
	p = strstr(path, "://") + 3;
	end = p + strcspn(p, "/?");
	at = memchr(p, '@', (size_t)(end - p));
	colon = at != NULL ? memchr(p, ':', (size_t)(at - p)) : NULL;
	for (; *path != '\0' && o + 1 < n; path++) {
		if (colon != NULL && path == colon) {
			path = at - 1; /* skip ":password" */
			continue;
		}
		/* A password= parameter goes whole. */
		if ((*path == '?' || *path == '&') &&
		    strncmp(path + 1, "password=", 9) == 0) {
			const char *q = path + 1 + strcspn(path + 1, "&");

			if (*path == '?' && *q == '&') {
				buf[o++] = '?';
				path = q; /* the loop steps past '&' */
				continue;
			}
			path = q - 1;
			continue;
		}
		buf[o++] = *path;
	}
	buf[o] = '\0';
	return buf;
}

sc_err sc_sql_open(const sc_store_options *opt, char epoch[33], sc_sql **out,
		   sc_error *err)
{
	if (sc_store_is_pg(opt->path))
		return sc_pg_open(opt, epoch, out, err);
	return sc_sqlite_open(opt, epoch, out, err);
}

sc_err sc_store_open(const sc_store_options *opt, sc_store **out, sc_error *err)
{
	char shown[1024];
	sc_store *s = NULL;
	sc_err rc = SC_OK;

	*out = NULL;
	if (opt == NULL || opt->path == NULL || opt->path[0] == '\0')
		return sc_error_set(err, SC_ERR_INVALID, "no database path");
	sc_store_display(opt->path, shown, sizeof(shown));
	s = sc_calloc(1, sizeof(*s));
	if (s == NULL || (s->path = sc_strdup(shown)) == NULL) {
		rc = sc_error_set(err, SC_ERR_NOMEM, "out of memory");
		goto out;
	}
	s->sh = opt->shared;
	if (s->sh == NULL) {
		rc = sc_store_shared_new(0, &s->sh, err);
		if (rc != SC_OK)
			goto out;
		s->own_sh = 1;
	}
	s->readonly = opt->readonly != 0;
	/* >= 1: retention keeps each topic's newest row, so seq is never
	 * reused (schema.sql). */
	s->keep_versions =
	    opt->keep_versions > 0 ? opt->keep_versions : DEFAULT_KEEP_VERSIONS;
	s->keep_seconds =
	    opt->keep_seconds > 0 ? opt->keep_seconds : DEFAULT_KEEP_SECONDS;
	s->idem_seconds =
	    opt->idem_seconds > 0 ? opt->idem_seconds : DEFAULT_IDEM_SECONDS;
	rc = sc_sql_open(opt, s->epoch, &s->sql, err);
out:
	if (rc != SC_OK) {
		if (rc == SC_ERR_READONLY && err != NULL &&
		    strstr(err->message, shown) == NULL) {
			char msg[SC_ERROR_MESSAGE_MAX];

			snprintf(msg, sizeof(msg), "%s", err->message);
			sc_error_set(err, rc, "%s: %s", shown, msg);
		}
		sc_store_close(s);
		return rc;
	}
	*out = s;
	return SC_OK;
}

void sc_store_close(sc_store *s)
{
	if (s == NULL)
		return;
	sc_sql_close(s->sql);
	if (s->own_sh)
		sc_store_shared_free(s->sh);
	sc_free(s->path);
	sc_free(s);
}

uint64_t sc_store_wake_token(sc_store *s)
{
	return sc_sql_wake_token(s->sql);
}

int sc_store_wait(sc_store *s, uint64_t *token, int timeout_ms)
{
	return sc_sql_wait(s->sql, token, timeout_ms);
}

const char *sc_store_epoch(sc_store *s)
{
	return s->epoch;
}

void sc_store_cursor_format(sc_store *s, int64_t seq, char buf[SC_CURSOR_MAX])
{
	/* "epoch:seq": at most 32 + 1 + 20 bytes and the NUL. */
	size_t n = strlen(s->epoch);

	memcpy(buf, s->epoch, n);
	buf[n++] = ':';
	buf[n + sc_buf_i64(buf + n, seq)] = '\0';
}

sc_err sc_store_cursor_parse(sc_store *s, const char *text, int64_t *seq,
			     sc_error *err)
{
	const char *colon, *p;
	size_t elen = strlen(s->epoch);
	int64_t v = 0, max = 0;
	sc_err rc;

	*seq = 0;
	if (text == NULL || (colon = strchr(text, ':')) == NULL ||
	    colon[1] == '\0')
		return sc_error_set(err, SC_ERR_CURSOR,
				    "malformed cursor (expected EPOCH:SEQ)");
	for (p = colon + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' ||
		    (p == colon + 1 && *p == '0' && p[1] != '\0'))
			return sc_error_set(err, SC_ERR_CURSOR,
					    "malformed cursor seq");
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return sc_error_set(err, SC_ERR_CURSOR,
					    "cursor seq out of range");
		v = v * 10 + (*p - '0');
	}
	if ((size_t)(colon - text) != elen || memcmp(text, s->epoch, elen) != 0)
		return sc_error_set(err, SC_ERR_CURSOR,
				    "cursor of another database (epoch)");
	rc = sc_store_max_seq(s, &max, err);
	if (rc != SC_OK)
		return rc;
	if (v > max)
		return sc_error_set(err, SC_ERR_CURSOR,
				    "cursor ahead of the log (%" PRId64
				    " > %" PRId64 ")",
				    v, max);
	*seq = v;
	return SC_OK;
}

void sc_store_state_free(sc_store_state *st)
{
	if (st == NULL)
		return;
	sc_free(st->state);
	memset(st, 0, sizeof(*st));
}

/* Copies len bytes of text into out->state. */
static sc_err state_out(sc_store_state *out, const char *text, size_t len,
			sc_error *err)
{
	out->state = text != NULL ? sc_strndup(text, len) : NULL;
	out->state_len = len;
	if (out->state == NULL)
		return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	return SC_OK;
}

/*
 * The state of topic inside the open read transaction.  The entry is
 * locked before the transaction begins (sc_store_get), so it holds no
 * state newer than the transaction sees.  A topic that nobody holds in
 * memory and whose log has nothing after its snapshot is answered from
 * the snapshot's text, unparsed.
 */
static sc_err get_locked(sc_store *s, sc_centry *e, const char *topic,
			 sc_store_state *out, sc_error *err)
{
	sc_topic_meta m;
	sc_sqlq *q;
	const char *text, *snap;
	size_t len = 0;
	sc_err rc = sc_store_meta(s, topic, &m, err);

	if (rc == SC_ERR_NOT_FOUND)
		return sc_error_set(err, rc, "no such topic: %s", topic);
	if (rc == SC_OK)
		rc = sc_store_max_seq(s, &out->seq, err);
	if (rc != SC_OK)
		return rc;
	out->version = m.version;
	if (!e->valid && m.snap_version == m.version) {
		rc = sc_store_topic_row(s, ST_SNAP_GET, topic, &q, err);
		if (rc == SC_ERR_NOT_FOUND)
			rc = sc_error_set(err, SC_ERR_STORE,
					  "the topic %s has no snapshot",
					  topic);
		if (rc != SC_OK)
			return rc;
		snap = sc_sql_col_text(q, 0, &len);
		rc = snap != NULL ? state_out(out, snap, len, err)
				  : sc_error_set(err, SC_ERR_STORE,
						 "the topic %s has no snapshot",
						 topic);
		sc_sql_reset(q);
		return rc;
	}
	rc = sc_cache_current(s, e, &m, err);
	if (rc != SC_OK)
		return rc;
	text = sc_cache_text(e, &len, err);
	if (text == NULL)
		return SC_ERR_NOMEM;
	return state_out(out, text, len, err);
}

sc_err sc_store_get(sc_store *s, const char *topic, sc_store_state *out,
		    sc_error *err)
{
	sc_centry *e;
	int began = 0;
	sc_err rc;

	memset(out, 0, sizeof(*out));
	rc = sc_topic_check(topic, err);
	if (rc != SC_OK)
		return rc;
	e = sc_cache_acquire(s->sh, topic);
	if (e == NULL)
		return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	if (!sc_sql_in_txn(s->sql)) {
		rc = sc_sql_begin(s->sql, 0, err);
		began = rc == SC_OK;
	}
	if (rc == SC_OK)
		rc = get_locked(s, e, topic, out, err);
	if (began)
		sc_store_rollback(s); /* ends the read */
	sc_cache_release(s->sh, e);
	if (rc != SC_OK)
		sc_store_state_free(out);
	return rc;
}

sc_err sc_store_create(sc_store *s, const char *topic, json_object *initial,
		       sc_error *err)
{
	sc_buf text = {0};
	int created = 0;
	sc_err rc;

	rc = sc_topic_check(topic, err);
	if (rc != SC_OK)
		return rc;
	if (s->readonly)
		return sc_error_set(err, SC_ERR_READONLY,
				    "the store is open read-only");
	rc = sc_text_write(&text, initial);
	if (rc != SC_OK) {
		sc_buf_free(&text);
		return sc_error_set(err, rc,
				    rc == SC_ERR_NOMEM
					? "out of memory"
					: "the initial state is too large or "
					  "deep");
	}
	rc = sc_sql_begin(s->sql, 1, err);
	if (rc == SC_OK) {
		rc = sc_store_insert_topic(s, topic, text.p, text.len, -1,
					   sc_store_now_ms(), &created, err);
		if (rc == SC_OK)
			rc = sc_sql_commit(s->sql, created, err);
		if (rc != SC_OK)
			sc_store_rollback(s);
	}
	sc_buf_free(&text);
	return rc;
}

sc_err sc_store_insert_topic(sc_store *s, const char *topic, const char *text,
			     size_t len, int64_t floor, int64_t now,
			     int *created, sc_error *err)
{
	sc_sqlq *q;
	int r;
	sc_err rc = sc_store_bind_topic(s, ST_TOPIC_CREATE, topic, NULL, &q, err);

	*created = 0;
	if (rc != SC_OK)
		return rc;
	sc_sql_int64(q, 2, now);
	sc_sql_int64(q, 3, (int64_t)len);
	if (floor >= 0)
		sc_sql_int64(q, 4, floor);
	else
		sc_sql_null(q, 4);
	/* A row back (RETURNING): it was inserted. */
	r = sc_sql_step(q, "create the topic", err);
	if (r == SC_SQL_ROW) {
		*created = 1;
		r = sc_sql_step(q, "create the topic", err);
	}
	if (r != SC_OK)
		rc = (sc_err)r;
	sc_sql_reset(q);
	if (rc == SC_OK && *created && text != NULL)
		rc = sc_store_put_snapshot(s, topic, text, len, err);
	return rc;
}

sc_err sc_store_put_snapshot(sc_store *s, const char *topic, const char *text,
			     size_t len, sc_error *err)
{
	sc_sqlq *q;
	int r;
	sc_err rc = sc_store_bind_topic(s, ST_SNAP_PUT, topic, NULL, &q, err);

	if (rc != SC_OK)
		return rc;
	sc_sql_text(q, 2, text, len);
	r = sc_sql_step(q, "write the snapshot", err);
	if (r != SC_OK)
		rc = r == SC_SQL_ROW ? SC_OK : (sc_err)r;
	sc_sql_reset(q);
	return rc;
}

sc_err sc_store_topics(sc_store *s,
		       int (*fn)(const char *topic, int64_t version, void *arg),
		       void *arg, sc_error *err)
{
	sc_sqlq *q = sc_sql_query(s->sql, ST_TOPICS, err);
	sc_err rc = SC_OK;
	int r;

	if (q == NULL)
		return err != NULL && err->code != SC_OK ? err->code
							 : SC_ERR_STORE;
	while ((r = sc_sql_step(q, "list the topics", err)) == SC_SQL_ROW) {
		const char *t = sc_sql_col_text(q, 0, NULL);

		if (t != NULL && fn(t, sc_sql_col_int64(q, 1), arg) != 0)
			break;
	}
	if (r != SC_SQL_ROW && r != SC_OK)
		rc = (sc_err)r;
	sc_sql_reset(q);
	return rc;
}
