/*
 * store/store.c — opening the database (schema, migration, pragmas),
 * the statement cache, topic names, epoch and cursors, and the reads:
 * get, create, topics, max seq.  The write path is in store/change.c,
 * the log walk and retention in store/log.c, the wake in store/wake.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/alloc.h"
#include "json/value.h"
#include "store/internal.h"
#include "store/store.h"

extern const char sc_schema_sql[];

#define DEFAULT_BUSY_MS	      5000
#define DEFAULT_KEEP_VERSIONS 1000
#define DEFAULT_KEEP_SECONDS  3600
#define DEFAULT_IDEM_SECONDS  86400

/* The highest seq ever given: the log never loses its newest row (see
 * schema.sql and sc_store_prune), so that is max(seq), read from the end
 * of the rowid tree. */
#define SEQ_NOW	 "coalesce((SELECT max(seq) FROM log), 0)"
#define LOG_COLS "SELECT seq, topic, version, time_ms, event, patch FROM log "

static const char *const st_sql[ST__COUNT] = {
    [ST_BEGIN_READ] = "BEGIN",
    [ST_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_MAX_SEQ] = "SELECT " SEQ_NOW,
    [ST_TOPIC_META] = "SELECT version, floor, created_ms, snap_version, "
		      "snap_seq, snap_bytes, tail_bytes FROM topics "
		      "WHERE name = ?1",
    /* A topic made by a change is created with it: its floor is the
     * highest seq before the change (?4), and so is its snapshot's seq:
     * no row before it is the topic's (rows of a dropped topic of the
     * same name may remain). */
    [ST_TOPIC_CREATE] =
	"INSERT INTO topics (name, version, floor, created_ms, updated_ms, "
	"snap_bytes, snap_seq) VALUES (?1, 0, coalesce(?4, " SEQ_NOW "), ?2, "
	"?2, ?3, coalesce(?4, " SEQ_NOW ")) ON CONFLICT (name) DO NOTHING",
    [ST_TOPIC_UPDATE] = "UPDATE topics SET version = ?2, updated_ms = ?3, "
			"tail_bytes = tail_bytes + ?4 WHERE name = ?1",
    [ST_TOPIC_SNAP] = "UPDATE topics SET snap_version = ?2, snap_seq = ?3, "
		      "snap_bytes = ?4, tail_bytes = 0 WHERE name = ?1",
    [ST_SNAP_GET] = "SELECT state FROM snapshots WHERE topic = ?1",
    [ST_SNAP_PUT] = "INSERT INTO snapshots (topic, state) VALUES (?1, ?2) "
		    "ON CONFLICT (topic) DO UPDATE SET state = excluded.state",
    [ST_TAIL] = "SELECT seq, patch FROM log WHERE topic = ?1 AND seq > ?2 "
		"ORDER BY seq",
    [ST_TOPIC_FLOOR] = "SELECT floor, " SEQ_NOW " FROM topics WHERE name = ?1",
    [ST_TOPICS] = "SELECT name, version FROM topics ORDER BY name",
    [ST_LOG_INSERT] = "INSERT INTO log (topic, version, time_ms, event, "
		      "patch) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_LOG_ONE] = LOG_COLS "WHERE topic = ?1 AND seq > ?2 "
			    "ORDER BY seq LIMIT ?3",
    [ST_LOG_MANY] = LOG_COLS "WHERE seq > ?2 AND topic IN "
			     "(SELECT value FROM json_each(?1)) "
			     "ORDER BY seq LIMIT ?3",
    [ST_LOG_ALL] = LOG_COLS "WHERE seq > ?2 ORDER BY seq LIMIT ?3",
    [ST_SAVEPOINT] = "SAVEPOINT sc_event",
    [ST_RELEASE] = "RELEASE sc_event",
    [ST_ROLLBACK_TO] = "ROLLBACK TO sc_event",
    [ST_IDEM_GET] = "SELECT version, seq, patch FROM idempotency "
		    "WHERE topic = ?1 AND key = ?2",
    [ST_IDEM_PUT] = "INSERT INTO idempotency (topic, key, time_ms, version, "
		    "seq, patch) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_SNAP_NEXT] = "SELECT name FROM topics WHERE name > ?1 "
		     "AND tail_bytes > 0 ORDER BY name LIMIT 1",
    [ST_PRUNE_NEXT] = "SELECT name, version FROM topics WHERE name > ?1 "
		      "ORDER BY name LIMIT 1",
    /* Only rows the snapshot holds may go (seq <= snap_seq). */
    [ST_PRUNE_WALK] = "SELECT seq, version, time_ms FROM log WHERE topic = ?1 "
		      "AND seq > (SELECT floor FROM topics WHERE name = ?1) "
		      "AND seq <= (SELECT snap_seq FROM topics WHERE name = ?1) "
		      "ORDER BY seq",
    [ST_PRUNE_TOPIC_FLOOR] = "UPDATE topics SET floor = ?2 "
			     "WHERE name = ?1 AND floor < ?2",
    [ST_PRUNE_TOPIC_LOG] = "DELETE FROM log WHERE topic = ?1 AND seq <= ?2",
    [ST_PRUNE_IDEM] = "DELETE FROM idempotency WHERE time_ms < ?1",
};

/*
 * Schema migrations: migrations[v] turns a database of user_version v
 * into v + 1.  Version 0 (a new file) gets schema.sql itself.  When
 * schema.sql changes, its user_version goes up and the step from the
 * previous version is added here.
 */
static const char *const migrations[] = {
    NULL, /* 0 -> 1: schema.sql */
    /* 1 -> 2: the state becomes a snapshot in a table of its own; the
     * log after it is empty (every v1 row is older than the state). */
    "CREATE TABLE snapshots (topic TEXT PRIMARY KEY NOT NULL, "
    "state TEXT NOT NULL);"
    "INSERT INTO snapshots (topic, state) SELECT name, state FROM topics;"
    "CREATE TABLE topics2 (name TEXT PRIMARY KEY NOT NULL, "
    "version INTEGER NOT NULL DEFAULT 0, floor INTEGER NOT NULL DEFAULT 0, "
    "created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, "
    "snap_version INTEGER NOT NULL DEFAULT 0, "
    "snap_seq INTEGER NOT NULL DEFAULT 0, "
    "snap_bytes INTEGER NOT NULL DEFAULT 0, "
    "tail_bytes INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "INSERT INTO topics2 (name, version, floor, created_ms, updated_ms, "
    "snap_version, snap_seq, snap_bytes) "
    "SELECT name, version, floor, created_ms, updated_ms, version, "
    "max(floor, coalesce((SELECT max(seq) FROM log "
    "WHERE log.topic = topics.name), 0)), "
    "length(CAST(state AS BLOB)) FROM topics;"
    "DROP TABLE topics;"
    "ALTER TABLE topics2 RENAME TO topics;",
};

int64_t sc_store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

sc_err sc_store_topic_check(const char *topic, sc_error *err)
{
	size_t i;

	if (topic == NULL || topic[0] == '\0')
		return sc_error_set(err, SC_ERR_TOPIC, "empty topic name");
	for (i = 0; topic[i] != '\0'; i++) {
		unsigned char c = (unsigned char)topic[i];

		if (i >= SC_TOPIC_MAX)
			return sc_error_set(err, SC_ERR_TOPIC,
					    "topic name longer than %d bytes",
					    SC_TOPIC_MAX);
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr(":_-.@", c) != NULL)
			continue;
		return sc_error_set(err, SC_ERR_TOPIC,
				    "topic name has a byte 0x%02x at %zu "
				    "(allowed: ASCII letters, digits, :_-.@)",
				    c, i);
	}
	return SC_OK;
}

sc_err sc_store_sqlerr(sc_store *s, int rc, const char *what, sc_error *err)
{
	const char *msg = s != NULL && s->db != NULL ? sqlite3_errmsg(s->db)
						     : sqlite3_errstr(rc);
	sc_err code;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = SC_ERR_BUSY;
		break;
	case SQLITE_READONLY:
		code = SC_ERR_READONLY;
		break;
	case SQLITE_NOMEM:
		code = SC_ERR_NOMEM;
		break;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_FULL:
		code = SC_ERR_IO;
		break;
	case SQLITE_NOTADB:
		code = SC_ERR_STORE;
		msg = "the file is not a database";
		break;
	case SQLITE_CORRUPT:
		code = SC_ERR_STORE;
		msg = "the database file is corrupt";
		break;
	default:
		code = SC_ERR_STORE;
		break;
	}
	return sc_error_set(err, code, "%s: %s", what, msg);
}

sqlite3_stmt *sc_store_stmt(sc_store *s, enum st_id id, sc_error *err)
{
	int rc;

	if (s->st[id] == NULL) {
		rc = sqlite3_prepare_v3(s->db, st_sql[id], -1,
					SQLITE_PREPARE_PERSISTENT, &s->st[id],
					NULL);
		if (rc != SQLITE_OK) {
			sc_store_sqlerr(s, rc, "prepare", err);
			s->st[id] = NULL;
			return NULL;
		}
	}
	return s->st[id];
}

void sc_store_reset(sqlite3_stmt *st)
{
	if (st != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

sc_err sc_store_exec(sc_store *s, enum st_id id, const char *what,
		     sc_error *err)
{
	sqlite3_stmt *st = sc_store_stmt(s, id, err);
	int rc;

	if (st == NULL)
		return err != NULL ? err->code : SC_ERR_STORE;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sc_store_sqlerr(s, rc, what, err);
	return SC_OK;
}

sc_err sc_store_bind_topic(sc_store *s, enum st_id id, const char *topic,
			   const char *key, sqlite3_stmt **st, int *r,
			   sc_error *err)
{
	*r = SQLITE_OK;
	*st = sc_store_stmt(s, id, err);
	if (*st == NULL)
		return err != NULL ? err->code : SC_ERR_STORE;
	if (topic != NULL)
		*r = sqlite3_bind_text(*st, 1, topic, -1, SQLITE_STATIC);
	if (*r == SQLITE_OK && key != NULL)
		*r = sqlite3_bind_text(*st, 2, key, -1, SQLITE_STATIC);
	return SC_OK;
}

sc_err sc_store_topic_row(sc_store *s, enum st_id id, const char *topic,
			  sqlite3_stmt **st, sc_error *err)
{
	sc_err rc = sc_store_topic_check(topic, err);
	int r = SQLITE_OK;

	if (rc == SC_OK)
		rc = sc_store_bind_topic(s, id, topic, NULL, st, &r, err);
	if (rc != SC_OK)
		return rc;
	if (r == SQLITE_OK)
		r = sqlite3_step(*st);
	if (r == SQLITE_ROW)
		return SC_OK;
	if (r == SQLITE_DONE)
		rc = sc_error_set(err, SC_ERR_NOT_FOUND, "no such topic: %s",
				  topic);
	else
		rc = sc_store_sqlerr(s, r, "read the topic", err);
	sc_store_reset(*st);
	return rc;
}

sc_err sc_store_begin_write(sc_store *s, sc_error *err)
{
	if (s->readonly)
		return sc_error_set(err, SC_ERR_READONLY,
				    "the store is open read-only");
	return sc_store_exec(s, ST_BEGIN_WRITE, "begin", err);
}

void sc_store_rollback(sc_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sc_store_exec(s, ST_ROLLBACK, "rollback", NULL);
}

/* Also the store's own: inside a transaction it reads that snapshot. */
sc_err sc_store_max_seq(sc_store *s, int64_t *seq, sc_error *err)
{
	sqlite3_stmt *st = sc_store_stmt(s, ST_MAX_SEQ, err);
	sc_err rc = SC_OK;
	int r;

	*seq = 0;
	if (st == NULL)
		return err != NULL ? err->code : SC_ERR_STORE;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*seq = sqlite3_column_int64(st, 0);
	else
		rc = sc_store_sqlerr(s, r, "read the highest seq", err);
	sc_store_reset(st);
	return rc;
}

sc_err sc_store_meta(sc_store *s, const char *topic, sc_topic_meta *m,
		     sc_error *err)
{
	sqlite3_stmt *st;
	int r;
	sc_err rc =
	    sc_store_bind_topic(s, ST_TOPIC_META, topic, NULL, &st, &r, err);

	memset(m, 0, sizeof(*m));
	if (rc != SC_OK)
		return rc;
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		m->version = sqlite3_column_int64(st, 0);
		m->floor = sqlite3_column_int64(st, 1);
		m->created_ms = sqlite3_column_int64(st, 2);
		m->snap_version = sqlite3_column_int64(st, 3);
		m->snap_seq = sqlite3_column_int64(st, 4);
		m->snap_bytes = sqlite3_column_int64(st, 5);
		m->tail_bytes = sqlite3_column_int64(st, 6);
	} else if (r == SQLITE_DONE) {
		rc = SC_ERR_NOT_FOUND;
		if (err != NULL)
			err->code = rc;
	} else {
		rc = sc_store_sqlerr(s, r, "read the topic", err);
	}
	sc_store_reset(st);
	return rc;
}

/*
 * Busy handler: short, growing sleeps (20 us doubling to 1 ms) until
 * the busy timeout, so a writer waiting for another's BEGIN IMMEDIATE
 * gets the lock soon after it is released (SQLite's own handler sleeps
 * 1, 2, 5, 10... ms).
 */
static int busy_handler(void *arg, int count)
{
	sc_store *s = arg;
	struct timespec ts;
	int64_t us;

	if (count == 0)
		s->busy_start_us = mono_us();
	if (mono_us() - s->busy_start_us >= (int64_t)s->busy_timeout_ms * 1000)
		return 0;
	us = count < 6 ? 20 << count : 1000;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)us * 1000;
	nanosleep(&ts, NULL);
	return 1;
}

/* The user_version that schema.sql sets. */
static int schema_version(void)
{
	const char *p = strstr(sc_schema_sql, "PRAGMA user_version = ");

	return p != NULL ? atoi(p + strlen("PRAGMA user_version = ")) : 0;
}

static sc_err pragma_int(sc_store *s, const char *sql, int64_t *v,
			 sc_error *err)
{
	sqlite3_stmt *st = NULL;
	sc_err rc = SC_OK;
	int r;

	*v = 0;
	r = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	else if (r != SQLITE_DONE)
		rc = sc_store_sqlerr(s, r, "open", err);
	sqlite3_finalize(st);
	return rc;
}

static sc_err exec_sql(sc_store *s, const char *sql, const char *what,
		       sc_error *err)
{
	int r = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return r == SQLITE_OK ? SC_OK : sc_store_sqlerr(s, r, what, err);
}

static sc_err make_epoch(sc_store *s, sc_error *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[8];
	char epoch[sizeof(rnd) * 2 + 1];
	sqlite3_stmt *st = NULL;
	sc_err rc = SC_OK;
	size_t i;
	int r;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return sc_error_set(err, SC_ERR_IO, "getrandom: %s",
				    strerror(errno));
	for (i = 0; i < sizeof(rnd); i++) {
		epoch[2 * i] = hex[rnd[i] >> 4];
		epoch[2 * i + 1] = hex[rnd[i] & 15];
	}
	epoch[sizeof(epoch) - 1] = '\0';
	r = sqlite3_prepare_v2(s->db,
			       "INSERT INTO meta (key, value) "
			       "VALUES ('epoch', ?1)",
			       -1, &st, NULL);
	if (r == SQLITE_OK)
		r = sqlite3_bind_text(st, 1, epoch, -1, SQLITE_TRANSIENT);
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	if (r != SQLITE_DONE)
		rc = sc_store_sqlerr(s, r, "write the epoch", err);
	sqlite3_finalize(st);
	return rc;
}

/*
 * Brings the schema to the current version: a new database gets
 * schema.sql and an epoch, an older one the migration steps, all in one
 * write transaction (re-checked inside it: another process may be
 * doing the same).  A newer one is refused.
 */
static sc_err apply_schema(sc_store *s, sc_error *err)
{
	int64_t v = 0;
	int cur = schema_version();
	sc_err rc;

	rc = pragma_int(s, "PRAGMA user_version", &v, err);
	if (rc != SC_OK || v == cur)
		return rc;
	if (v > cur)
		return sc_error_set(err, SC_ERR_SCHEMA,
				    "%s: schema version %" PRId64
				    " is newer than this program's (%d): "
				    "upgrade StateChannel",
				    s->path, v, cur);
	if (s->readonly)
		return sc_error_set(err, SC_ERR_SCHEMA,
				    "%s: schema version %" PRId64
				    ", expected %d: open it read-write once "
				    "(statechannel init)",
				    s->path, v, cur);
	rc = sc_store_exec(s, ST_BEGIN_WRITE, "begin", err);
	if (rc == SC_OK)
		rc = pragma_int(s, "PRAGMA user_version", &v, err);
	if (rc == SC_OK && v > cur)
		rc = sc_error_set(err, SC_ERR_SCHEMA,
				  "%s: schema version %" PRId64
				  " is newer than this program's (%d)",
				  s->path, v, cur);
	if (rc == SC_OK && v == 0) {
		int64_t n = 0;

		rc = pragma_int(s,
				"SELECT count(*) FROM sqlite_schema WHERE "
				"name IN ('topics', 'log', 'meta', "
				"'idempotency')",
				&n, err);
		if (rc == SC_OK && n > 0)
			rc =
			    sc_error_set(err, SC_ERR_SCHEMA,
					 "%s: has tables named like "
					 "StateChannel's but no schema "
					 "version: not a StateChannel database",
					 s->path);
		if (rc == SC_OK)
			rc =
			    exec_sql(s, sc_schema_sql, "apply schema.sql", err);
		if (rc == SC_OK)
			rc = make_epoch(s, err);
		v = cur;
	}
	for (; rc == SC_OK && v < cur; v++) {
		if ((size_t)v >= sizeof(migrations) / sizeof(migrations[0]) ||
		    migrations[v] == NULL)
			rc = sc_error_set(err, SC_ERR_SCHEMA,
					  "%s: no migration from schema "
					  "version %" PRId64,
					  s->path, v);
		else
			rc = exec_sql(s, migrations[v], "migrate", err);
	}
	if (rc == SC_OK && cur > 0) {
		char sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", cur);
		rc = exec_sql(s, sql, "set the schema version", err);
	}
	if (rc == SC_OK)
		rc = sc_store_exec(s, ST_COMMIT, "commit the schema", err);
	if (rc != SC_OK)
		sc_store_rollback(s);
	return rc;
}

static sc_err read_epoch(sc_store *s, sc_error *err)
{
	sqlite3_stmt *st = NULL;
	sc_err rc = SC_OK;
	int r;

	r = sqlite3_prepare_v2(
	    s->db, "SELECT value FROM meta WHERE key = 'epoch'", -1, &st, NULL);
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		const char *e = (const char *)sqlite3_column_text(st, 0);

		if (e == NULL || strlen(e) >= sizeof(s->epoch) ||
		    strchr(e, ':') != NULL)
			rc = sc_error_set(err, SC_ERR_STORE,
					  "%s: malformed epoch", s->path);
		else
			strcpy(s->epoch, e);
	} else if (r == SQLITE_DONE) {
		rc = sc_error_set(err, SC_ERR_STORE, "%s: no epoch", s->path);
	} else {
		rc = sc_store_sqlerr(s, r, "read the epoch", err);
	}
	sqlite3_finalize(st);
	return rc;
}

static sc_err set_journal(sc_store *s, const sc_store_options *opt,
			  sc_error *err)
{
	sqlite3_stmt *st = NULL;
	sc_err rc = SC_OK;
	int r;

	r = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st,
			       NULL);
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(st, 0);

		if (m == NULL || strcmp(m, "wal") != 0)
			rc = sc_error_set(err, SC_ERR_STORE,
					  "%s: cannot use WAL mode (%s)",
					  s->path, m ? m : "?");
	} else {
		rc = sc_store_sqlerr(s, r, s->path, err);
	}
	sqlite3_finalize(st);
	if (rc == SC_OK)
		rc = exec_sql(s,
			      opt->sync_full ? "PRAGMA synchronous = FULL"
					     : "PRAGMA synchronous = NORMAL",
			      "set synchronous", err);
	/* See SC_STORE_WAL_PAGES. */
	if (rc == SC_OK) {
		char sql[128];

		snprintf(sql, sizeof(sql),
			 "PRAGMA wal_autocheckpoint = %d; "
			 "PRAGMA journal_size_limit = 67108864",
			 SC_STORE_WAL_PAGES);
		rc = exec_sql(s, sql, "set the checkpoint", err);
	}
	return rc;
}

sc_err sc_store_open(const sc_store_options *opt, sc_store **out, sc_error *err)
{
	sc_store *s = NULL;
	int flags, r;
	sc_err rc = SC_OK;

	*out = NULL;
	if (opt == NULL || opt->path == NULL || opt->path[0] == '\0')
		return sc_error_set(err, SC_ERR_INVALID, "no database path");
	s = sc_calloc(1, sizeof(*s));
	if (s == NULL || (s->path = sc_strdup(opt->path)) == NULL) {
		rc = sc_error_set(err, SC_ERR_NOMEM, "out of memory");
		goto out;
	}
	s->wake.fd = -1;
	s->sh = opt->shared;
	if (s->sh == NULL) {
		rc = sc_store_shared_new(0, &s->sh, err);
		if (rc != SC_OK)
			goto out;
		s->own_sh = 1;
	}
	s->readonly = opt->readonly != 0;
	s->busy_timeout_ms =
	    opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : DEFAULT_BUSY_MS;
	/* >= 1: retention keeps each topic's newest row, so seq is never
	 * reused (schema.sql). */
	s->keep_versions =
	    opt->keep_versions > 0 ? opt->keep_versions : DEFAULT_KEEP_VERSIONS;
	s->keep_seconds =
	    opt->keep_seconds > 0 ? opt->keep_seconds : DEFAULT_KEEP_SECONDS;
	s->idem_seconds =
	    opt->idem_seconds > 0 ? opt->idem_seconds : DEFAULT_IDEM_SECONDS;
	flags = SQLITE_OPEN_NOMUTEX |
		(s->readonly ? SQLITE_OPEN_READONLY
			     : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	r = sqlite3_open_v2(opt->path, &s->db, flags, NULL);
	if (r != SQLITE_OK) {
		rc = sc_error_set(
		    err, (r & 0xff) == SQLITE_NOMEM ? SC_ERR_NOMEM : SC_ERR_IO,
		    "%s: cannot open: %s", opt->path,
		    s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(r));
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_handler(s->db, busy_handler, s);
	if (!s->readonly && sqlite3_db_readonly(s->db, "main") == 1) {
		rc = sc_error_set(err, SC_ERR_READONLY,
				  "%s: the database file is read-only "
				  "(open it read-only, or fix its permissions)",
				  opt->path);
		goto out;
	}
	if (!s->readonly)
		rc = set_journal(s, opt, err);
	if (rc == SC_OK)
		rc = apply_schema(s, err);
	if (rc == SC_OK)
		rc = read_epoch(s, err);
	if (rc == SC_OK)
		rc = sc_wake_open(&s->wake, opt->path, s->readonly, err);
out:
	if (rc != SC_OK) {
		if (rc == SC_ERR_READONLY && err != NULL &&
		    strstr(err->message, opt->path) == NULL) {
			char msg[SC_ERROR_MESSAGE_MAX];

			snprintf(msg, sizeof(msg), "%s", err->message);
			sc_error_set(err, rc, "%s: %s", opt->path, msg);
		}
		sc_store_close(s);
		return rc;
	}
	*out = s;
	return SC_OK;
}

void sc_store_close(sc_store *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sc_wake_close(&s->wake);
	sqlite3_close(s->db);
	if (s->own_sh)
		sc_store_shared_free(s->sh);
	sc_free(s->path);
	sc_free(s);
}

const char *sc_store_epoch(sc_store *s)
{
	return s->epoch;
}

void sc_store_cursor_format(sc_store *s, int64_t seq, char buf[SC_CURSOR_MAX])
{
	snprintf(buf, SC_CURSOR_MAX, "%s:%" PRId64, s->epoch, seq);
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
	sqlite3_stmt *st;
	const char *text;
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
		rc = sc_store_topic_row(s, ST_SNAP_GET, topic, &st, err);
		if (rc == SC_ERR_NOT_FOUND)
			rc = sc_error_set(err, SC_ERR_STORE,
					  "the topic %s has no snapshot",
					  topic);
		if (rc != SC_OK)
			return rc;
		rc = state_out(out, (const char *)sqlite3_column_text(st, 0),
			       (size_t)sqlite3_column_bytes(st, 0), err);
		sc_store_reset(st);
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
	rc = sc_store_topic_check(topic, err);
	if (rc != SC_OK)
		return rc;
	e = sc_cache_acquire(s->sh, topic);
	if (e == NULL)
		return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	if (sqlite3_get_autocommit(s->db)) {
		rc = sc_store_exec(s, ST_BEGIN_READ, "begin", err);
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
	const char *text;
	size_t len = 0;
	int created = 0;
	sc_err rc;

	rc = sc_store_topic_check(topic, err);
	if (rc != SC_OK)
		return rc;
	if (s->readonly)
		return sc_error_set(err, SC_ERR_READONLY,
				    "the store is open read-only");
	text = sc_json_text(initial, &len);
	if (text == NULL)
		return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	rc = sc_store_exec(s, ST_BEGIN_WRITE, "begin", err);
	if (rc != SC_OK)
		return rc;
	rc = sc_store_insert_topic(s, topic, text, len, -1, sc_store_now_ms(),
				   &created, err);
	if (rc == SC_OK)
		rc = sc_store_exec(s, ST_COMMIT, "commit", err);
	if (rc == SC_OK && created)
		sc_wake_bump(&s->wake);
	if (rc != SC_OK)
		sc_store_rollback(s);
	return rc;
}

sc_err sc_store_insert_topic(sc_store *s, const char *topic, const char *text,
			     size_t len, int64_t floor, int64_t now,
			     int *created, sc_error *err)
{
	sqlite3_stmt *st;
	int r;
	sc_err rc =
	    sc_store_bind_topic(s, ST_TOPIC_CREATE, topic, NULL, &st, &r, err);

	*created = 0;
	if (rc != SC_OK)
		return rc;
	if (r == SQLITE_OK)
		r = sqlite3_bind_int64(st, 2, now);
	if (r == SQLITE_OK)
		r = sqlite3_bind_int64(st, 3, (int64_t)len);
	if (r == SQLITE_OK && floor >= 0)
		r = sqlite3_bind_int64(st, 4, floor);
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	if (r != SQLITE_DONE)
		rc = sc_store_sqlerr(s, r, "create the topic", err);
	else
		*created = sqlite3_changes(s->db) > 0;
	sc_store_reset(st);
	if (rc == SC_OK && *created && text != NULL)
		rc = sc_store_put_snapshot(s, topic, text, len, err);
	return rc;
}

sc_err sc_store_put_snapshot(sc_store *s, const char *topic, const char *text,
			     size_t len, sc_error *err)
{
	sqlite3_stmt *st;
	int r;
	sc_err rc =
	    sc_store_bind_topic(s, ST_SNAP_PUT, topic, NULL, &st, &r, err);

	if (rc != SC_OK)
		return rc;
	if (r == SQLITE_OK)
		r = sqlite3_bind_text(st, 2, text, (int)len, SQLITE_STATIC);
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	if (r != SQLITE_DONE)
		rc = sc_store_sqlerr(s, r, "write the snapshot", err);
	sc_store_reset(st);
	return rc;
}

sc_err sc_store_topics(sc_store *s,
		       int (*fn)(const char *topic, int64_t version, void *arg),
		       void *arg, sc_error *err)
{
	sqlite3_stmt *st = sc_store_stmt(s, ST_TOPICS, err);
	sc_err rc = SC_OK;
	int r;

	if (st == NULL)
		return err != NULL ? err->code : SC_ERR_STORE;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		if (fn((const char *)sqlite3_column_text(st, 0),
		       sqlite3_column_int64(st, 1), arg) != 0)
			break;
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = sc_store_sqlerr(s, r, "list the topics", err);
	sc_store_reset(st);
	return rc;
}
