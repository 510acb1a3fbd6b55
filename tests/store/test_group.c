/*
 * tests/store/test_group.c — the write path of the store across
 * connections of one process: group commit (accepted, rejected and
 * failing changes in one batch), the process-wide state cache (misses,
 * evictions, catching up from another connection's and another
 * process's patches), snapshot + tail equal to the state at every
 * version (randomized), and the migration of a schema-1 database.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "json/patch.h"
#include "json/value.h"
#include "store/store.h"
#include "tests/support.h"

static char dbpath[4200];
static int dbn;

static const char *fresh(void)
{
	char name[32];

	snprintf(name, sizeof(name), "g%d", ++dbn);
	return test_db(dbpath, sizeof(dbpath), name);
}

/* A connection of the process whose shared object is sh (NULL: its
 * own), whose retention keeps versions versions and seconds seconds. */
static sc_store *open_keep(const char *path, sc_store_shared *sh,
			   long versions, long seconds)
{
	sc_store_options o;
	sc_store *s = NULL;
	sc_error err;

	memset(&o, 0, sizeof(o));
	o.path = path;
	o.shared = sh;
	o.keep_versions = versions;
	o.keep_seconds = seconds;
	if (sc_store_open(&o, &s, &err) != SC_OK)
		fail_msg("open %s: %s", path, err.message);
	return s;
}

/* ... with retention that keeps everything. */
static sc_store *open_sh(const char *path, sc_store_shared *sh)
{
	return open_keep(path, sh, 1000000, 0);
}

/* The state of topic read through s, as compact text (caller frees). */
static char *state_of(sc_store *s, const char *topic, int64_t *version)
{
	sc_store_state st;
	sc_error err;
	char *t;

	if (sc_store_get(s, topic, &st, &err) != SC_OK)
		fail_msg("get %s: %s", topic, err.message);
	t = strdup(st.state);
	if (version != NULL)
		*version = st.version;
	sc_store_state_free(&st);
	return t;
}

static void expect_equal_json(const char *got, const char *want)
{
	json_object *a = J(got), *b = J(want);

	if (!sc_json_equal(a, b))
		fail_msg("state %s, expected %s", got, want);
	json_object_put(a);
	json_object_put(b);
}

/* The state of topic read through s is want, at version (unless < 0). */
static void expect_state(sc_store *s, const char *topic, const char *want,
			 int64_t version)
{
	int64_t v;
	char *t = state_of(s, topic, &v);

	expect_equal_json(t, want);
	if (version >= 0)
		assert_int_equal(v, version);
	free(t);
}

/* --- group commit --------------------------------------------------- */

/* PLAIN: a patch only, no SQL of its own; MOVE: no patch, the topic's
 * version set to 100 by the handler's own SQL; TRAP (PostgreSQL): no
 * patch, a trigger made that fails every log row of the topic "x";
 * NOOP: nothing at all. */
enum kind { ACCEPT, REJECT, FAIL, SLOW, PLAIN, MOVE, TRAP, NOOP, SPOIL };

typedef struct ev {
	sc_store *s;
	const char *topic;
	const char *key; /* member added, and the app row written */
	const char *idem;
	const char *target; /* MOVE: the topic moved (NULL: its own) */
	enum kind kind;
	sc_err rc;
	sc_store_result res;
	pthread_t thread;
	pthread_t ran_on; /* the thread its handler ran on */
} ev;

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int slow_entered, slow_release;
static int commits;

static int count_commit(void *arg)
{
	(void)arg;
	__atomic_fetch_add(&commits, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Applies the patch text to txn's state. */
static sc_err patch_text(sc_store_txn *txn, const char *text, sc_error *err)
{
	json_object *ops = J(text);
	sc_err rc = sc_store_txn_patch(txn, ops, err);

	json_object_put(ops);
	return rc;
}

/* Adds the member key (true) to the state: a patch, no SQL. */
static sc_err plain_add(sc_store_txn *txn, const char *key, sc_error *err)
{
	char text[256];

	snprintf(text, sizeof(text),
		 "[{\"op\":\"add\",\"path\":\"/%s\",\"value\":true}]", key);
	return patch_text(txn, text, err);
}

static sc_err handler(sc_store_txn *txn, void *arg, sc_error *err)
{
	ev *e = arg;
	char text[256], sql[256];
	json_object *ops;
	sqlite3 *db;
	sc_err rc;

	e->ran_on = pthread_self();
	if (e->kind == PLAIN)
		return plain_add(txn, e->key, err);
	if (e->kind == SPOIL) { /* the state changed, then a failure */
		rc = plain_add(txn, e->key, err);
		return rc == SC_OK ? sc_error_set(err, SC_ERR_IO, "spoilt %s",
						  e->key)
				   : rc;
	}
	if (e->kind == NOOP)
		return SC_OK;
	if (e->kind == TRAP)
		return app_exec(txn,
				test_on_pg()
				    ? "CREATE FUNCTION trap() RETURNS trigger "
				      "LANGUAGE plpgsql AS $$ BEGIN IF "
				      "NEW.topic = 'x' THEN RAISE EXCEPTION "
				      "'trapped'; END IF; RETURN NEW; END $$; "
				      "CREATE TRIGGER trap BEFORE INSERT ON log "
				      "FOR EACH ROW EXECUTE FUNCTION trap()"
				    : "CREATE TRIGGER trap BEFORE INSERT ON log "
				      "WHEN NEW.topic = 'x' BEGIN SELECT "
				      "RAISE(ABORT, 'trapped'); END") == 0
			   ? SC_OK
			   : sc_error_set(err, SC_ERR_STORE, "trap");
	if (e->kind == MOVE) {
		snprintf(sql, sizeof(sql),
			 "UPDATE topics SET version = 100 WHERE name = '%s'",
			 e->target != NULL ? e->target : e->topic);
		return app_exec(txn, sql) == 0
			   ? SC_OK
			   : sc_error_set(err, SC_ERR_STORE, "move");
	}
	db = sc_store_txn_db(txn);

	if (db != NULL)
		sqlite3_commit_hook(db, count_commit, NULL);
	snprintf(sql, sizeof(sql), "INSERT INTO app (k) VALUES ('%s')",
		 e->key);
	if (app_exec(txn, sql) != 0)
		return sc_error_set(err, SC_ERR_STORE, "app row");
	snprintf(text, sizeof(text),
		 "[{\"op\":\"add\",\"path\":\"/%s\",\"value\":true}]", e->key);
	ops = J(text);
	rc = sc_store_txn_patch(txn, ops, err);
	json_object_put(ops);
	if (rc != SC_OK)
		return rc;
	if (e->kind == SLOW) {
		pthread_mutex_lock(&gate_lock);
		slow_entered = 1;
		pthread_cond_broadcast(&gate_cond);
		while (!slow_release)
			pthread_cond_wait(&gate_cond, &gate_lock);
		pthread_mutex_unlock(&gate_lock);
	}
	if (e->kind == REJECT)
		return sc_error_set(err, SC_ERR_REJECTED, "no %s", e->key);
	if (e->kind == FAIL)
		return sc_error_set(err, SC_ERR_IO, "failed %s", e->key);
	return SC_OK;
}

static void *submit_main(void *arg)
{
	ev *e = arg;
	sc_error err;

	e->rc = sc_store_change(e->s, e->topic, "test", e->idem, handler, e,
				&e->res, &err);
	return NULL;
}

/* Runs evs[0] (SLOW) and, while it holds the commit, queues evs[1..n-1]
 * behind it in this order (one batch); then lets them go and joins all. */
static void run_gated(ev *evs, size_t n, sc_store_shared *sh)
{
	sc_store_stats stats;
	size_t i;

	slow_entered = slow_release = 0;
	pthread_create(&evs[0].thread, NULL, submit_main, &evs[0]);
	pthread_mutex_lock(&gate_lock);
	while (!slow_entered)
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
	for (i = 1; i < n; i++) {
		int k;

		pthread_create(&evs[i].thread, NULL, submit_main, &evs[i]);
		for (k = 0; k < 2000; k++) {
			sc_store_shared_stats(sh, &stats);
			if (stats.queued == i)
				break;
			usleep(5000);
		}
		assert_int_equal(stats.queued, i);
	}
	pthread_mutex_lock(&gate_lock);
	slow_release = 1;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
	for (i = 0; i < n; i++)
		pthread_join(evs[i].thread, NULL);
}

/* The setup of the gated tests: a shared object, n connections of it,
 * a reader with its own, the application's table and the topics t and
 * u, both {}. */
static void gated_setup(const char *path, sc_store_shared **sh,
			sc_store **cs, size_t n, sc_store **reader)
{
	json_object *o = J("{}");
	sc_error err;
	size_t i;

	assert_int_equal(sc_store_shared_new(0, sh, &err), SC_OK);
	for (i = 0; i < n; i++)
		cs[i] = open_sh(path, *sh);
	*reader = open_sh(path, NULL);
	assert_int_equal(db_exec(path, "CREATE TABLE app (k TEXT)"), 0);
	assert_int_equal(sc_store_create(cs[0], "t", o, &err), SC_OK);
	assert_int_equal(sc_store_create(cs[0], "u", o, &err), SC_OK);
	json_object_put(o);
}

static int app_rows(sc_store *s, const char *key)
{
	char sql[128];

	(void)s;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM app WHERE k = '%s'",
		 key);
	return (int)db_value(dbpath, sql);
}

/*
 * A slow change holds the commit; meanwhile changes of every kind queue
 * up and then commit as one batch: the accepted ones together, the
 * rejected and failing ones rolled back alone (their patches and their
 * application rows gone), versions contiguous, an idempotency key
 * repeated inside the batch replayed.
 */
static void test_group_commit(void **state)
{
	const char *path = fresh();
	sc_store_shared *sh;
	sc_store *cs[7], *reader;
	ev evs[7] = {
	    {.topic = "t", .key = "a", .kind = SLOW},
	    {.topic = "t", .key = "b", .kind = ACCEPT, .idem = "k1"},
	    {.topic = "t", .key = "c", .kind = REJECT},
	    {.topic = "t", .key = "d", .kind = FAIL},
	    {.topic = "u", .key = "e", .kind = ACCEPT},
	    {.topic = "t", .key = "f", .kind = ACCEPT},
	    {.topic = "t", .key = "g", .kind = ACCEPT, .idem = "k1"},
	};
	sc_store_stats stats;
	size_t i;

	(void)state;
	gated_setup(path, &sh, cs, 7, &reader);
	for (i = 0; i < 7; i++)
		evs[i].s = cs[i];
	/* The others queue behind the slow batch, in this order. */
	commits = 0;
	run_gated(evs, 7, sh);

	assert_int_equal(evs[0].rc, SC_OK);
	assert_int_equal(evs[0].res.version, 1);
	assert_int_equal(evs[1].rc, SC_OK);
	assert_int_equal(evs[1].res.version, 2);
	assert_int_equal(evs[2].rc, SC_ERR_REJECTED);
	assert_int_equal(evs[3].rc, SC_ERR_IO);
	assert_int_equal(evs[4].rc, SC_OK);
	assert_int_equal(evs[4].res.version, 1);
	assert_int_equal(evs[5].rc, SC_OK);
	assert_int_equal(evs[5].res.version, 3);
	/* The same key in the same batch: the first result again. */
	assert_int_equal(evs[6].rc, SC_OK);
	assert_int_equal(evs[6].res.replayed, 1);
	assert_int_equal(evs[6].res.version, 2);
	assert_int_equal(evs[6].res.seq, evs[1].res.seq);
	/* Two transactions: the slow one alone, then the six together
	 * (SQLite's commit hook counts them; the batches do on both). */
	if (!test_on_pg())
		assert_int_equal(commits, 2);
	sc_store_shared_stats(sh, &stats);
	assert_int_equal(stats.batches, 2);
	assert_int_equal(stats.changes, 7);
	/* Nothing of c and d: not in the state (in memory or stored), not
	 * in the application's table. */
	expect_state(cs[2], "t", "{\"a\":true,\"b\":true,\"f\":true}", 3);
	expect_state(reader, "t", "{\"a\":true,\"b\":true,\"f\":true}", -1);
	expect_state(reader, "u", "{\"e\":true}", -1);
	assert_int_equal(app_rows(reader, "a"), 1);
	assert_int_equal(app_rows(reader, "b"), 1);
	assert_int_equal(app_rows(reader, "c"), 0);
	assert_int_equal(app_rows(reader, "d"), 0);
	assert_int_equal(app_rows(reader, "e"), 1);
	assert_int_equal(app_rows(reader, "g"), 0);
	for (i = 0; i < 7; i++) {
		sc_store_result_free(&evs[i].res);
		sc_store_close(cs[i]);
	}
	sc_store_close(reader);
	sc_store_shared_free(sh);
}

/*
 * The linger: after a batch of two, the next batch takes in the change
 * that arrives while its first one runs (here: held in its handler),
 * and runs it on the leader's thread in the same transaction, instead
 * of leaving it to a batch of its own.  A failing change taken in so is
 * rolled back alone.
 */
static void test_linger_takes_in(void **state)
{
	const char *path = fresh();
	sc_store_shared *sh;
	sc_store *cs[3], *reader;
	ev first[3] = {
	    {.topic = "t", .key = "a", .kind = SLOW},
	    {.topic = "t", .key = "b", .kind = ACCEPT},
	    {.topic = "t", .key = "c", .kind = ACCEPT},
	};
	ev next[3] = {
	    {.topic = "t", .key = "d", .kind = SLOW},
	    {.topic = "u", .key = "e", .kind = ACCEPT},
	    {.topic = "t", .key = "f", .kind = FAIL},
	};
	sc_store_stats stats;
	size_t i;

	(void)state;
	gated_setup(path, &sh, cs, 3, &reader);
	for (i = 0; i < 3; i++)
		first[i].s = next[i].s = cs[i];
	/* a alone, then b and c together: the last batch held two. */
	run_gated(first, 3, sh);
	sc_store_shared_stats(sh, &stats);
	assert_int_equal(stats.batches, 2);
	assert_int_equal(stats.changes, 3);
	/* d's batch begins with d alone; e and f are queued while d's
	 * handler runs, and taken in when it returns. */
	run_gated(next, 3, sh);
	sc_store_shared_stats(sh, &stats);
	assert_int_equal(stats.batches, 3);
	assert_int_equal(stats.changes, 6);
	assert_int_equal(next[0].rc, SC_OK);
	assert_int_equal(next[0].res.version, 4);
	assert_int_equal(next[1].rc, SC_OK);
	assert_int_equal(next[1].res.version, 1);
	assert_int_equal(next[1].res.seq, next[0].res.seq + 1);
	assert_true(pthread_equal(next[1].ran_on, next[0].thread));
	assert_true(pthread_equal(next[2].ran_on, next[0].thread));
	assert_int_equal(next[2].rc, SC_ERR_IO);
	expect_state(reader, "t", "{\"a\":true,\"b\":true,\"c\":true,"
			     "\"d\":true}", 4);
	expect_state(reader, "u", "{\"e\":true}", -1);
	assert_int_equal(app_rows(reader, "d"), 1);
	assert_int_equal(app_rows(reader, "e"), 1);
	assert_int_equal(app_rows(reader, "f"), 0);
	for (i = 0; i < 3; i++) {
		sc_store_result_free(&first[i].res);
		sc_store_result_free(&next[i].res);
		sc_store_close(cs[i]);
	}
	sc_store_close(reader);
	sc_store_shared_free(sh);
}

/*
 * A batch of changes of one topic reads its row once: a later change
 * uses the row as the batch wrote it (versions, snapshot rewrites on the
 * way), until a handler takes the SQL connection and may have changed
 * it (here: moves the version), after which the batch reads again.  A
 * new connection (snapshot + log) sees the same state and version.
 */
static void test_batch_reuses_rows(void **state)
{
	enum { N = 12 };
	const char *path = fresh();
	static const char *keys[N] = {"w0", "k1", "k2", "k3", "k4", "k5",
				      "k6", "mv", "k7", "k8", "k9", "u1"};
	sc_store_shared *sh, *sh2;
	sc_store *cs[N], *reader;
	ev evs[N];
	sc_store_stats stats;
	sc_error err;
	char pad[400], init[512], want[1024];
	size_t i;

	(void)state;
	memset(evs, 0, sizeof(evs));
	assert_int_equal(sc_store_shared_new(0, &sh, &err), SC_OK);
	memset(pad, 'x', 300);
	pad[300] = '\0';
	snprintf(init, sizeof(init), "{\"pad\":\"%s\"}", pad);
	assert_int_equal(db_exec(path, "CREATE TABLE app (k TEXT)"), 0);
	for (i = 0; i < N; i++) {
		cs[i] = open_sh(path, sh);
		evs[i].s = cs[i];
		evs[i].key = keys[i];
		evs[i].topic = i == 0 ? "w" : i == N - 1 ? "u" : "t";
		evs[i].kind = i == 0 ? SLOW : i == 7 ? MOVE : PLAIN;
	}
	{
		json_object *o = J(init);

		assert_int_equal(sc_store_create(cs[0], "w", o, &err), SC_OK);
		assert_int_equal(sc_store_create(cs[0], "t", o, &err), SC_OK);
		assert_int_equal(sc_store_create(cs[0], "u", o, &err), SC_OK);
		json_object_put(o);
	}
	run_gated(evs, N, sh);
	for (i = 0; i < N; i++)
		assert_int_equal(evs[i].rc, SC_OK);
	for (i = 1; i <= 6; i++)
		assert_int_equal(evs[i].res.version, (int64_t)i);
	assert_int_equal(evs[7].res.version, 6); /* no patch */
	assert_int_equal(evs[8].res.version, 101);
	assert_int_equal(evs[9].res.version, 102);
	assert_int_equal(evs[10].res.version, 103);
	assert_int_equal(evs[11].res.version, 1);
	sc_store_shared_stats(sh, &stats);
	assert_int_equal(stats.batches, 2);
	/* k2..k6 and mv used the row k1 left; after mv took the SQL
	 * connection, k7..k9 read it again (and u1 is another topic). */
	assert_int_equal(stats.unread, 6);
	snprintf(want, sizeof(want),
		 "{\"pad\":\"%s\",\"k1\":true,\"k2\":true,\"k3\":true,"
		 "\"k4\":true,\"k5\":true,\"k6\":true,\"k7\":true,"
		 "\"k8\":true,\"k9\":true}",
		 pad);
	expect_state(cs[1], "t", want, 103);
	/* a new process's view: snapshot + log */
	assert_int_equal(sc_store_shared_new(0, &sh2, &err), SC_OK);
	reader = open_sh(path, sh2);
	expect_state(reader, "t", want, 103);
	/* and the next change there goes on from the row */
	evs[0].s = reader;
	evs[0].topic = "t";
	evs[0].key = "k10";
	evs[0].kind = PLAIN;
	sc_store_result_free(&evs[0].res);
	submit_main(&evs[0]);
	assert_int_equal(evs[0].rc, SC_OK);
	assert_int_equal(evs[0].res.version, 104);
	for (i = 0; i < N; i++) {
		sc_store_result_free(&evs[i].res);
		sc_store_close(cs[i]);
	}
	sc_store_close(reader);
	sc_store_shared_free(sh2);
	sc_store_shared_free(sh);
}

/* A batch of n events of kinds[i] on topics[i] (key keys[i], or "k"):
 * each its own store on one shared object (returned), the app table,
 * and the topics of make (NULL-terminated) created with {}. */
static sc_store_shared *batch_setup(const char *path, sc_store **cs, ev *evs,
				    size_t n, const char *const *keys,
				    const char *const *topics,
				    const enum kind *kinds,
				    const char *const *make)
{
	sc_store_shared *sh;
	sc_error err;
	json_object *o = J("{}");
	size_t i;

	memset(evs, 0, n * sizeof(*evs));
	assert_int_equal(sc_store_shared_new(0, &sh, &err), SC_OK);
	assert_int_equal(db_exec(path, "CREATE TABLE app (k TEXT)"), 0);
	for (i = 0; i < n; i++) {
		cs[i] = open_sh(path, sh);
		evs[i].s = cs[i];
		evs[i].key = keys != NULL ? keys[i] : "k";
		evs[i].topic = topics[i];
		evs[i].kind = kinds[i];
	}
	for (i = 0; make[i] != NULL; i++)
		assert_int_equal(sc_store_create(cs[0], make[i], o, &err),
				 SC_OK);
	json_object_put(o);
	return sh;
}

/* Frees what batch_setup made and the events' results. */
static void batch_free(sc_store **cs, ev *evs, size_t n, sc_store_shared *sh)
{
	size_t i;

	for (i = 0; i < n; i++) {
		sc_store_result_free(&evs[i].res);
		sc_store_close(cs[i]);
	}
	sc_store_shared_free(sh);
}

/*
 * In a batch, a change writes its log row only; the topic rows (and the
 * counter row on PostgreSQL) are written once before the COMMIT, or
 * when a handler takes the connection.  Here a handler that took it
 * fails: its ROLLBACK TO undoes that write, which must be made again
 * before the next handler's SQL (mv moves u's version to 100).  The
 * batch: k1, k2 of t and u1 of u (deferred), a change that changes
 * nothing (its cursor is the highest seq given: u1's), d (takes the
 * connection and fails), mv, u2 and k3.  A new process sees the rows
 * as the batch left them, and the next change there gets the next seq.
 */
static void test_deferred_rows(void **state)
{
	enum { N = 9 };
	const char *path = fresh();
	static const char *keys[N] = {"w0", "k1", "k2", "u1", "no",
				      "d",  "mv", "u2", "k3"};
	static const char *topics[N] = {"w", "t", "t", "u", "t",
					"t", "u", "u", "t"};
	static const enum kind kinds[N] = {SLOW, PLAIN, PLAIN, PLAIN, NOOP,
					   FAIL, MOVE,	PLAIN, PLAIN};
	static const char *const make[] = {"w", "t", "u", NULL};
	sc_store_shared *sh, *sh2;
	sc_store *cs[N], *reader;
	ev evs[N], next;
	sc_error err;

	(void)state;
	memset(&next, 0, sizeof(next));
	sh = batch_setup(path, cs, evs, N, keys, topics, kinds, make);
	run_gated(evs, N, sh);
	assert_int_equal(evs[1].rc, SC_OK);
	assert_int_equal(evs[1].res.version, 1);
	assert_int_equal(evs[2].rc, SC_OK);
	assert_int_equal(evs[2].res.version, 2);
	assert_int_equal(evs[3].rc, SC_OK);
	assert_int_equal(evs[3].res.version, 1);
	/* Nothing changed: t's version, and the highest seq given. */
	assert_int_equal(evs[4].rc, SC_OK);
	assert_int_equal(evs[4].res.version, 2);
	assert_int_equal(evs[4].res.seq, evs[3].res.seq);
	assert_int_equal(evs[5].rc, SC_ERR_IO);
	assert_int_equal(evs[6].rc, SC_OK);
	assert_int_equal(evs[7].rc, SC_OK);
	assert_int_equal(evs[7].res.version, 101);
	assert_int_equal(evs[8].rc, SC_OK);
	assert_int_equal(evs[8].res.version, 3);
	assert_true(evs[1].res.seq < evs[2].res.seq);
	assert_true(evs[2].res.seq < evs[3].res.seq);
	assert_true(evs[3].res.seq < evs[7].res.seq);
	assert_true(evs[7].res.seq < evs[8].res.seq);
	/* The rows, as committed. */
	assert_int_equal(db_value(path, "SELECT version FROM topics WHERE "
					"name = 't'"),
			 3);
	assert_int_equal(db_value(path, "SELECT version FROM topics WHERE "
					"name = 'u'"),
			 101);
	assert_int_equal(app_rows(cs[0], "d"), 0);
	/* A new process: the states, and the next seq. */
	assert_int_equal(sc_store_shared_new(0, &sh2, &err), SC_OK);
	reader = open_sh(path, sh2);
	expect_state(reader, "t", "{\"k1\":true,\"k2\":true,\"k3\":true}", 3);
	expect_state(reader, "u", "{\"u1\":true,\"u2\":true}", 101);
	next.s = reader;
	next.topic = "u";
	next.key = "u3";
	next.kind = PLAIN;
	submit_main(&next);
	assert_int_equal(next.rc, SC_OK);
	assert_int_equal(next.res.version, 102);
	assert_int_equal(next.res.seq, evs[8].res.seq + 1);
	sc_store_result_free(&next.res);
	sc_store_close(reader);
	sc_store_shared_free(sh2);
	batch_free(cs, evs, N, sh);
}

/*
 * PostgreSQL fetches the rows of a batch's topics with its BEGIN
 * (sc_sql_topics_hint).  A handler's own SQL may change such a row
 * before the change of that topic reads it: here mv (on w) moves v's
 * version to 100, and the change of v after it must see 100.
 */
static void test_rows_after_sql(void **state)
{
	enum { N = 3 };
	const char *path = fresh();
	static const char *const topics[N] = {"w", "w", "v"};
	static const enum kind kinds[N] = {SLOW, MOVE, PLAIN};
	static const char *const make[] = {"w", "v", NULL};
	sc_store_shared *sh;
	sc_store *cs[N];
	ev evs[N];
	size_t i;

	(void)state;
	sh = batch_setup(path, cs, evs, N, NULL, topics, kinds, make);
	evs[1].target = "v";
	run_gated(evs, N, sh);
	for (i = 0; i < N; i++)
		assert_int_equal(evs[i].rc, SC_OK);
	assert_int_equal(evs[2].res.version, 101);
	batch_free(cs, evs, N, sh);
}

/*
 * PostgreSQL sends a change's log row without waiting for it (store/pg.c,
 * "The pipeline").  When such a row fails, the error shows at a later
 * statement, maybe another change's, after which a ROLLBACK TO could undo
 * the failed row under a change already counted as done: the batch must
 * then fail as a whole, nothing of it committed.  A trigger (committed
 * first) fails the log rows of "x"; then one batch: a patch of x (its
 * row fails, unseen on PostgreSQL) and a patch of y (its read of y's row
 * shows the failure).  SQLite runs each statement as it comes: there
 * only the change of x fails.
 */
/* The batch of the two tests below: w (alone, first), then x and y. */
static const char *xy_topics[] = {"w", "x", "y"};
static const enum kind xy_kinds[] = {SLOW, PLAIN, PLAIN};
static const char *xy_make[] = {"w", "x", "y", NULL};

/*
 * After a gated batch w (alone, first), x (failed) and y: x is as it was;
 * on SQLite y committed, on PostgreSQL the whole batch failed (a failed
 * statement only sent dooms it).  Returns a new store of path to go on
 * with.
 */
static sc_store *expect_x_failed(const char *path, ev *evs)
{
	sc_store *reader;
	char *t;
	int64_t v;

	assert_int_equal(evs[0].rc, SC_OK);
	assert_int_not_equal(evs[1].rc, SC_OK);
	reader = open_sh(path, NULL);
	expect_state(reader, "x", "{}", 0);
	t = state_of(reader, "y", &v);
	if (test_on_pg()) {
		assert_int_not_equal(evs[2].rc, SC_OK);
		expect_equal_json(t, "{}");
		assert_int_equal(v, 0);
	} else {
		assert_int_equal(evs[2].rc, SC_OK);
		expect_equal_json(t, "{\"k\":true}");
		assert_int_equal(v, 1);
	}
	free(t);
	return reader;
}

static void test_pipeline_failure(void **state)
{
	enum { N = 3 };
	const char *path = fresh();
	sc_store_shared *sh;
	sc_store *cs[N], *reader;
	ev evs[N], trap = {.topic = "w", .key = "t", .kind = TRAP};

	(void)state;
	sh = batch_setup(path, cs, evs, N, NULL, xy_topics, xy_kinds, xy_make);
	trap.s = cs[0];
	submit_main(&trap);
	assert_int_equal(trap.rc, SC_OK);
	sc_store_result_free(&trap.res);
	run_gated(evs, N, sh);
	reader = expect_x_failed(path, evs);
	/* and the store goes on: without the trigger, x changes */
	assert_int_equal(db_exec(path, test_on_pg() ? "DROP TRIGGER trap ON log"
						    : "DROP TRIGGER trap"),
			 0);
	evs[1].s = reader;
	sc_store_result_free(&evs[1].res);
	submit_main(&evs[1]);
	assert_int_equal(evs[1].rc, SC_OK);
	assert_int_equal(evs[1].res.version, 1);
	batch_free(cs, evs, N, sh);
	sc_store_close(reader);
}

/*
 * A change whose second write fails (its idempotency row, refused by a
 * trigger) after its log row was written: on SQLite that change alone
 * fails, and its log row goes with it (its SAVEPOINT: a change that
 * writes more than its log row takes one); on PostgreSQL the failed
 * statement was only sent, and the whole batch fails.
 */
static void test_second_write_fails(void **state)
{
	enum { N = 3 };
	const char *path = fresh();
	sc_store_shared *sh;
	sc_store *cs[N], *reader;
	ev evs[N];

	(void)state;
	sh = batch_setup(path, cs, evs, N, NULL, xy_topics, xy_kinds, xy_make);
	evs[1].idem = "bad";
	assert_int_equal(
	    db_exec(path,
		    test_on_pg()
			? "CREATE FUNCTION trap() RETURNS trigger LANGUAGE "
			  "plpgsql AS $$ BEGIN IF NEW.key = 'bad' THEN RAISE "
			  "EXCEPTION 'trapped'; END IF; RETURN NEW; END $$; "
			  "CREATE TRIGGER trap BEFORE INSERT ON idempotency "
			  "FOR EACH ROW EXECUTE FUNCTION trap()"
			: "CREATE TRIGGER trap BEFORE INSERT ON idempotency "
			  "WHEN NEW.key = 'bad' BEGIN SELECT RAISE(ABORT, "
			  "'trapped'); END"),
	    0);
	run_gated(evs, N, sh);
	assert_int_equal(evs[0].rc, SC_OK);
	reader = expect_x_failed(path, evs);
	assert_int_equal(
	    db_value(path, "SELECT count(*) FROM log WHERE topic = 'x'"), 0);
	/* The next change of x in a new process follows version 0. */
	evs[1].s = reader;
	evs[1].idem = "good";
	sc_store_result_free(&evs[1].res);
	submit_main(&evs[1]);
	assert_int_equal(evs[1].rc, SC_OK);
	assert_int_equal(evs[1].res.version, 1);
	batch_free(cs, evs, N, sh);
	sc_store_close(reader);
}

/* --- init: a topic is created only by a committed change ------------- */

static json_object *init_obj(void *arg, const char *topic)
{
	(void)arg;
	(void)topic;
	return J("{\"items\":[]}");
}

static sc_err add_item(sc_store_txn *txn, void *arg, sc_error *err)
{
	json_object *ops = J("[{\"op\":\"add\",\"path\":\"/items/-\","
			     "\"value\":1}]");
	sc_err rc = sc_store_txn_patch(txn, ops, err);

	json_object_put(ops);
	if (rc == SC_OK && arg != NULL)
		rc = sc_error_set(err, SC_ERR_REJECTED, "no");
	return rc;
}

static void test_create_on_commit(void **state)
{
	sc_store *s = open_sh(fresh(), NULL);
	sc_store_req req = {"new", "add", NULL, add_item, (void *)1, init_obj};
	sc_store_result res;
	sc_store_state st;
	sc_error err;

	(void)state;
	/* Rejected: nothing is created. */
	assert_int_equal(sc_store_submit(s, &req, &res, &err), SC_ERR_REJECTED);
	assert_int_equal(sc_store_get(s, "new", &st, &err), SC_ERR_NOT_FOUND);
	/* No init: not found. */
	req.init = NULL;
	req.arg = NULL;
	assert_int_equal(sc_store_submit(s, &req, &res, &err),
			 SC_ERR_NOT_FOUND);
	/* Committed: created with the change, version 1. */
	req.init = init_obj;
	assert_int_equal(sc_store_submit(s, &req, &res, &err), SC_OK);
	assert_int_equal(res.version, 1);
	assert_string_equal(res.patch,
			    "[{\"op\":\"add\",\"path\":\"/items/-\","
			    "\"value\":1}]");
	assert_int_equal(sc_store_resumable(s, "new", res.seq - 1, &err),
			 SC_OK);
	sc_store_result_free(&res);
	expect_state(s, "new", "{\"items\":[1]}", 1);
	sc_store_close(s);
}

/* --- reads inside a change ------------------------------------------ */

typedef struct reader_arg {
	sc_store *s;
	char seen_t[64], seen_u[64];
} reader_arg;

static sc_err read_inside(sc_store_txn *txn, void *arg, sc_error *err)
{
	reader_arg *ra = arg;
	sc_store_state st;
	json_object *ops;
	sc_err rc;

	ops = J("[{\"op\":\"add\",\"path\":\"/r\",\"value\":1}]");
	rc = sc_store_txn_patch(txn, ops, err);
	json_object_put(ops);
	if (rc == SC_OK)
		rc = sc_store_get(ra->s, "t", &st, err);
	if (rc == SC_OK) {
		snprintf(ra->seen_t, sizeof(ra->seen_t), "%s", st.state);
		sc_store_state_free(&st);
		rc = sc_store_get(ra->s, "u", &st, err);
	}
	if (rc == SC_OK) {
		snprintf(ra->seen_u, sizeof(ra->seen_u), "%s", st.state);
		sc_store_state_free(&st);
	}
	return rc;
}

/* A change's callback reads its own topic (held by the batch) and
 * another one: no deadlock, and it sees the transaction so far. */
static void test_read_inside_change(void **state)
{
	sc_store *s = open_sh(fresh(), NULL);
	reader_arg ra = {.s = s};
	sc_store_result res;
	sc_error err;
	json_object *o = J("{}");

	(void)state;
	assert_int_equal(sc_store_create(s, "t", o, &err), SC_OK);
	assert_int_equal(sc_store_create(s, "u", o, &err), SC_OK);
	json_object_put(o);
	assert_int_equal(
	    sc_store_change(s, "t", "r", NULL, read_inside, &ra, &res, &err),
	    SC_OK);
	sc_store_result_free(&res);
	expect_equal_json(ra.seen_t, "{\"r\":1}");
	expect_equal_json(ra.seen_u, "{}");
	assert_int_equal(
	    sc_store_change(s, "u", "r", NULL, read_inside, &ra, &res, &err),
	    SC_OK);
	sc_store_result_free(&res);
	expect_equal_json(ra.seen_t, "{\"r\":1}");
	expect_equal_json(ra.seen_u, "{\"r\":1}");
	sc_store_close(s);
}

/* --- the cache ------------------------------------------------------ */

static sc_err set_text(sc_store_txn *txn, void *arg, sc_error *err)
{
	(void)txn;
	return sc_store_txn_set(txn, J(arg), err);
}

static void commit_set(sc_store *s, const char *topic, const char *text)
{
	sc_store_req req = {topic, "set", NULL, set_text, (void *)text,
			    init_obj};
	sc_store_result res;
	sc_error err;

	if (sc_store_submit(s, &req, &res, &err) != SC_OK)
		fail_msg("change %s: %s", topic, err.message);
	sc_store_result_free(&res);
}

/*
 * A cache smaller than the states misses and evicts, and still answers
 * every read right; a cached state falls behind another connection's
 * and another process's changes and catches up from their patches.
 */
static void test_cache(void **state)
{
	const char *path = fresh();
	sc_store_shared *small, *big;
	sc_store *a, *b, *w;
	sc_store_stats st;
	sc_error err;
	char text[4096], *t, name[16], helper[512], cmd[1200];
	int i, j;

	(void)state;
	assert_int_equal(sc_store_shared_new(3000, &small, &err), SC_OK);
	assert_int_equal(sc_store_shared_new(0, &big, &err), SC_OK);
	a = open_sh(path, small);
	w = open_sh(path, NULL);
	/* Ten topics of ~1 KB through a 3 KB cache. */
	for (i = 0; i < 10; i++) {
		size_t n = 0;

		snprintf(name, sizeof(name), "c%d", i);
		n += (size_t)snprintf(text + n, sizeof(text) - n, "{\"v\":[");
		for (j = 0; j < 200; j++)
			n += (size_t)snprintf(text + n, sizeof(text) - n,
					      "%s%d", j ? "," : "", i);
		snprintf(text + n, sizeof(text) - n, "]}");
		commit_set(w, name, "{}");
		commit_set(w, name, text);
		commit_set(a, name, text); /* equal: an empty change */
		t = state_of(a, name, NULL);
		expect_equal_json(t, text);
		free(t);
	}
	sc_store_shared_stats(small, &st);
	assert_true(st.evictions >= 6);
	assert_true(st.cached_bytes <= 3000 + 1200);
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		t = state_of(a, name, NULL);
		assert_non_null(strstr(t, "\"v\":["));
		free(t);
	}
	/* Catch up: b holds "k" in memory; w (another connection) and a
	 * helper process change it. */
	b = open_sh(path, big);
	{
		char pad[1100], big0[1200], big1[1200], want[1300];

		memset(pad, 'p', 1000);
		pad[1000] = '\0';
		snprintf(big0, sizeof(big0),
			 "{\"n\":0,\"pad\":\"%s\",\"items\":[]}", pad);
		snprintf(big1, sizeof(big1),
			 "{\"n\":1,\"pad\":\"%s\",\"items\":[7]}", pad);
		snprintf(want, sizeof(want),
			 "{\"n\":6,\"pad\":\"%s\",\"items\":[7,9,9,9,9,"
			 "9]}",
			 pad);
		/* The snapshot holds big0; the change to big1 is a small
		 * patch after it: b loads both (a reload). */
		commit_set(w, "k", big0);
		commit_set(w, "k", big1);
		t = state_of(b, "k", NULL);
		expect_equal_json(t, big1);
		free(t);
		sc_store_shared_stats(big, &st);
		assert_int_equal(st.reloads, 1);
		assert_int_equal(st.catchups, 0);
		assert_int_equal(build_program(helper, sizeof(helper),
					       "tests/store/helper_writer"),
				 0);
		snprintf(cmd, sizeof(cmd), "%s '%s' k 5 9 >/dev/null", helper,
			 path);
		assert_int_equal(system(cmd), 0);
		t = state_of(b, "k", NULL);
		expect_equal_json(t, want);
		free(t);
	}
	sc_store_shared_stats(big, &st);
	assert_int_equal(st.catchups, 1);
	assert_int_equal(st.reloads, 1);
	/* Unchanged since: a hit, no parse. */
	t = state_of(b, "k", NULL);
	free(t);
	sc_store_shared_stats(big, &st);
	assert_int_equal(st.reloads, 1);
	assert_true(st.hits >= 1);
	sc_store_close(a);
	sc_store_close(b);
	sc_store_close(w);
	sc_store_shared_free(small);
	sc_store_shared_free(big);
}

/* --- snapshot + tail, randomized ------------------------------------ */

static unsigned long long rng = 88172645463325252ull;

static unsigned long long rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A random change of model (and the ops or state text that makes it). */
static sc_err random_change(sc_store_txn *txn, void *arg, sc_error *err)
{
	json_object *model = arg, *cur = sc_store_txn_state(txn);
	char text[512];
	size_t n = json_object_array_length(json_object_object_get(cur, "a"));
	sc_err rc;

	(void)model;
	switch (rnd() % 5) {
	case 0: /* a whole new state, diffed */
	{
		json_object *copy = NULL;

		rc = sc_json_copy(cur, &copy);
		if (rc != SC_OK)
			return rc;
		json_object_object_add(copy, "x",
				       json_object_new_int((int)(rnd() % 100)));
		return sc_store_txn_set(txn, copy, err);
	}
	case 1: /* remove a row */
		if (n == 0)
			return SC_OK; /* empty */
		snprintf(text, sizeof(text),
			 "[{\"op\":\"remove\",\"path\":\"/a/%zu\"}]",
			 (size_t)(rnd() % n));
		break;
	case 2: /* replace a row with a long string */
		if (n == 0)
			return SC_OK;
		snprintf(text, sizeof(text),
			 "[{\"op\":\"replace\",\"path\":\"/a/%zu\","
			 "\"value\":\"%0*d\"}]",
			 (size_t)(rnd() % n), (int)(rnd() % 300), 1);
		break;
	default: /* append rows */
		snprintf(text, sizeof(text),
			 "[{\"op\":\"add\",\"path\":\"/a/-\",\"value\":%d},"
			 "{\"op\":\"add\",\"path\":\"/a/0\",\"value\":%d}]",
			 (int)(rnd() % 1000), (int)(rnd() % 1000));
		break;
	}
	return patch_text(txn, text, err);
}

/*
 * Random changes to random topics (whole states and patches of random
 * sizes, so the snapshot is rewritten at varying points, and compact
 * now and then); after every change the state read back three ways —
 * through the writer's cache, through another process-like connection
 * that catches up, and through a new connection that loads snapshot +
 * tail — equals the model, which applies the logged patches.
 */
static void test_snapshot_random(void **state)
{
	const char *path = fresh();
	sc_store *w = open_sh(path, NULL), *r = open_sh(path, NULL), *n;
	json_object *model[6];
	sc_store_result res;
	sc_error err;
	char name[16], *t;
	int i, k;
	int64_t v;

	(void)state;
	for (k = 0; k < 6; k++)
		model[k] = J("{\"a\":[]}");
	for (i = 0; i < 600; i++) {
		json_object *ops;

		k = (int)(rnd() % 6);
		snprintf(name, sizeof(name), "r%d", k);
		if (i < 6) {
			json_object *o = J("{\"a\":[]}");

			snprintf(name, sizeof(name), "r%d", i);
			k = i;
			assert_int_equal(sc_store_create(w, name, o, &err),
					 SC_OK);
			json_object_put(o);
		}
		assert_int_equal(sc_store_change(w, name, "r", NULL,
						 random_change, model[k], &res,
						 &err),
				 SC_OK);
		ops = J(res.patch);
		assert_int_equal(sc_patch_apply(&model[k], ops, &err), SC_OK);
		json_object_put(ops);
		sc_store_result_free(&res);
		if (rnd() % 50 == 0)
			assert_int_equal(sc_store_compact(w, 0, &err), SC_OK);
		t = state_of(w, name, &v);
		expect_equal_json(t, T(model[k], NULL));
		free(t);
		t = state_of(r, name, NULL);
		expect_equal_json(t, T(model[k], NULL));
		free(t);
		if (i % 7 == 0) {
			n = open_sh(path, NULL);
			t = state_of(n, name, NULL);
			expect_equal_json(t, T(model[k], NULL));
			free(t);
			sc_store_close(n);
		}
	}
	for (k = 0; k < 6; k++)
		json_object_put(model[k]);
	sc_store_close(w);
	sc_store_close(r);
}

/* The seqs of topic's log rows after after, in order, into seqs (at most
 * 16); returns how many. */
struct seqs {
	int64_t seq[16];
	size_t n;
};

static int collect_seq(const sc_store_entry *e, void *arg)
{
	struct seqs *q = arg;

	if (q->n < 16)
		q->seq[q->n] = e->seq;
	q->n++;
	return 0;
}

static size_t topic_seqs_max(sc_store *s, const char *topic, int64_t after,
			     size_t limit, struct seqs *q)
{
	const char *one[1];
	sc_error err;

	one[0] = topic;
	q->n = 0;
	assert_int_equal(
	    sc_store_log(s, one, 1, after, limit, collect_seq, q, NULL, &err),
	    SC_OK);
	return q->n;
}

static size_t topic_seqs(sc_store *s, const char *topic, int64_t after,
			 struct seqs *q)
{
	return topic_seqs_max(s, topic, after, 0, q);
}

/*
 * The log has no index on its topic: a topic's rows are found through
 * its runs (schema.sql).  In one batch, t's rows alternate with u's, so
 * t's runs close; sp changes t's state and fails, so the change after it
 * reads t again from the snapshot and the log, through the runs the
 * batch has not written yet (it writes them first).  The log of each
 * topic, read by topic, holds its own rows and no other, here and in a
 * new process; retention and drop leave no run behind.
 */
static void test_runs(void **state)
{
	enum { N = 8 };
	const char *path = fresh();
	static const char *keys[N] = {"w0", "k1", "u1", "k2",
				      "sp", "k3", "u2", "k4"};
	static const char *topics[N] = {"w", "t", "u", "t", "t", "t", "u", "t"};
	static const enum kind kinds[N] = {SLOW,  PLAIN, PLAIN, PLAIN,
					   SPOIL, PLAIN, PLAIN, PLAIN};
	static const char *const make[] = {"w", "t", "u", NULL};
	static const char want_t[] =
	    "{\"k1\":true,\"k2\":true,\"k3\":true,\"k4\":true}";
	sc_store_shared *sh, *sh2;
	sc_store *cs[N], *reader;
	ev evs[N];
	struct seqs q;
	sc_error err;
	int64_t dropped = 0;

	(void)state;
	sh = batch_setup(path, cs, evs, N, keys, topics, kinds, make);
	run_gated(evs, N, sh);
	assert_int_equal(evs[4].rc, SC_ERR_IO);
	assert_int_equal(evs[7].rc, SC_OK);
	assert_int_equal(evs[7].res.version, 4);
	expect_state(cs[0], "t", want_t, -1);
	assert_int_equal(topic_seqs(cs[0], "t", 0, &q), 4);
	assert_int_equal(q.seq[0], evs[1].res.seq);
	assert_int_equal(q.seq[1], evs[3].res.seq);
	assert_int_equal(q.seq[2], evs[5].res.seq);
	assert_int_equal(q.seq[3], evs[7].res.seq);
	assert_int_equal(topic_seqs(cs[0], "t", evs[3].res.seq, &q), 2);
	assert_int_equal(q.seq[0], evs[5].res.seq);
	/* A page of it: the next rows in seq order, across runs. */
	assert_int_equal(topic_seqs_max(cs[0], "t", evs[1].res.seq, 2, &q), 2);
	assert_int_equal(q.seq[0], evs[3].res.seq);
	assert_int_equal(q.seq[1], evs[5].res.seq);
	assert_int_equal(topic_seqs(cs[0], "u", 0, &q), 2);
	assert_int_equal(q.seq[0], evs[2].res.seq);
	assert_int_equal(q.seq[1], evs[6].res.seq);
	{ /* both topics, merged in seq order; a name twice counts once */
		const char *both[3] = {"u", "t", "u"};
		static const int order[] = {1, 2, 3, 5, 6, 7};
		size_t k;

		q.n = 0;
		assert_int_equal(sc_store_log(cs[0], both, 3, 0, 0,
					      collect_seq, &q, NULL, &err),
				 SC_OK);
		assert_int_equal(q.n, 6);
		for (k = 0; k < 6; k++)
			assert_int_equal(q.seq[k], evs[order[k]].res.seq);
		q.n = 0;
		assert_int_equal(sc_store_log(cs[0], both, 2, evs[3].res.seq,
					      2, collect_seq, &q, NULL, &err),
				 SC_OK);
		assert_int_equal(q.n, 2);
		assert_int_equal(q.seq[0], evs[5].res.seq);
		assert_int_equal(q.seq[1], evs[6].res.seq);
	}
	if (!test_on_pg()) {
		/* k1 | u1 | k2 | u2 | k3 k4: t's closed runs are k1's and
		 * k2's (k3 came after u1... in seq order), its open run ends
		 * at k4. */
		assert_true(db_value(path, "SELECT count(*) FROM runs WHERE "
					   "topic = 't'") >= 1);
		assert_int_equal(db_value(path, "SELECT last_seq FROM topics "
						"WHERE name = 't'"),
				 evs[7].res.seq);
		assert_int_equal(db_value(path, "SELECT count(*) FROM "
						"sqlite_schema WHERE name = "
						"'log_topic'"),
				 0);
	}
	/* A new process: states and logs from the database. */
	assert_int_equal(sc_store_shared_new(0, &sh2, &err), SC_OK);
	reader = open_sh(path, sh2);
	expect_state(reader, "t", want_t, 4);
	expect_state(reader, "u", "{\"u1\":true,\"u2\":true}", -1);
	assert_int_equal(topic_seqs(reader, "t", 0, &q), 4);
	assert_int_equal(topic_seqs(reader, "u", 0, &q), 2);
	sc_store_close(reader);
	/* Retention down to t's newest row, then drop u. */
	reader = open_keep(path, sh2, 1, 1);
	usleep(1100 * 1000);
	assert_int_equal(sc_store_compact(reader, 0, &err), SC_OK);
	assert_int_equal(topic_seqs(reader, "t", 0, &q), 1);
	assert_int_equal(q.seq[0], evs[7].res.seq);
	assert_int_equal(sc_store_drop(reader, "u", 0, &dropped, &err), SC_OK);
	assert_int_equal(dropped, 1);
	if (!test_on_pg())
		assert_int_equal(db_value(path, "SELECT count(*) FROM runs"), 0);
	expect_state(reader, "t", want_t, -1);
	sc_store_close(reader);
	sc_store_shared_free(sh2);
	batch_free(cs, evs, N, sh);
}

/* --- migration from schema 1 ---------------------------------------- */

/* The log (indexed by topic), meta and idempotency of schemas 1 and 2,
 * and the epoch. */
#define OLD_LOG_TABLES                                                         \
	"CREATE TABLE log (seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, "     \
	"version INTEGER NOT NULL, time_ms INTEGER NOT NULL, event TEXT, "     \
	"patch TEXT NOT NULL);"                                                \
	"CREATE INDEX log_topic ON log (topic, seq);"                          \
	"CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT "    \
	"NULL) WITHOUT ROWID;"                                                 \
	"CREATE TABLE idempotency (topic TEXT NOT NULL, key TEXT NOT NULL, "   \
	"time_ms INTEGER NOT NULL, version INTEGER NOT NULL, seq INTEGER NOT " \
	"NULL, patch TEXT NOT NULL, PRIMARY KEY (topic, key)) WITHOUT ROWID;"  \
	"CREATE INDEX idempotency_time ON idempotency (time_ms);"              \
	"INSERT INTO meta VALUES ('epoch', '0123456789abcdef');"

static const char schema1[] =
    "CREATE TABLE topics (name TEXT PRIMARY KEY NOT NULL, version INTEGER "
    "NOT NULL DEFAULT 0, floor INTEGER NOT NULL DEFAULT 0, created_ms "
    "INTEGER NOT NULL, updated_ms INTEGER NOT NULL, state TEXT NOT NULL) "
    "WITHOUT ROWID;"
    OLD_LOG_TABLES
    "INSERT INTO topics VALUES ('list:a', 2, 0, 1, 2, "
    "'{\"items\":[\"x\",\"y\"]}');"
    "INSERT INTO topics VALUES ('list:b', 0, 2, 1, 1, '[]');"
    "INSERT INTO log VALUES (1, 'list:a', 1, 1, 'add', "
    "'[{\"op\":\"add\",\"path\":\"/items/-\",\"value\":\"x\"}]');"
    "INSERT INTO log VALUES (2, 'list:a', 2, 2, 'add', "
    "'[{\"op\":\"add\",\"path\":\"/items/-\",\"value\":\"y\"}]');"
    "INSERT INTO idempotency VALUES ('list:a', 'k', 2, 2, 2, "
    "'[{\"op\":\"add\",\"path\":\"/items/-\",\"value\":\"y\"}]');"
    "PRAGMA user_version = 1;";

static int count_log(const sc_store_entry *e, void *arg)
{
	(void)e;
	++*(int *)arg;
	return 0;
}

static sc_err add_z(sc_store_txn *txn, void *arg, sc_error *err)
{
	json_object *ops = J("[{\"op\":\"add\",\"path\":\"/items/-\","
			     "\"value\":\"z\"}]");
	sc_err rc = sc_store_txn_patch(txn, ops, err);

	(void)arg;
	json_object_put(ops);
	return rc;
}

/* A new SQLite file gets SC_STORE_PAGE_SIZE pages, and works. */
static void test_page_size(void **state)
{
	const char *path = fresh();
	sc_store *s = open_sh(path, NULL);

	(void)state;
	assert_int_equal(db_value(path, "PRAGMA page_size"),
			 SC_STORE_PAGE_SIZE);
	{
		json_object *o = J("{}");
		sc_error err;

		assert_int_equal(sc_store_create(s, "p", o, &err), SC_OK);
		json_object_put(o);
	}
	sc_store_close(s);
	s = open_sh(path, NULL);
	expect_state(s, "p", "{}", -1);
	sc_store_close(s);
	assert_int_equal(db_value(path, "PRAGMA page_size"),
			 SC_STORE_PAGE_SIZE);
}

/* A new SQLite file at path made by the SQL text sql (an old schema). */
static void old_db(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_migrate_v1(void **state)
{
	const char *path = fresh();
	sc_store *s;
	sc_store_result res;
	sc_error err;
	char cursor[SC_CURSOR_MAX];
	int64_t seq;
	int rows = 0;

	(void)state;
	old_db(path, schema1);
	s = open_sh(path, NULL);
	/* An existing file keeps its pages (SC_STORE_PAGE_SIZE is for new
	 * ones). */
	assert_int_equal(db_value(path, "PRAGMA page_size"), 4096);
	assert_string_equal(sc_store_epoch(s), "0123456789abcdef");
	expect_state(s, "list:a", "{\"items\":[\"x\",\"y\"]}", 2);
	expect_state(s, "list:b", "[]", -1);
	/* Cursors, the log, resumable and idempotency carry over. */
	assert_int_equal(
	    sc_store_cursor_parse(s, "0123456789abcdef:1", &seq, &err), SC_OK);
	assert_int_equal(sc_store_resumable(s, "list:a", 0, &err), SC_OK);
	assert_int_equal(sc_store_resumable(s, "list:b", 1, &err),
			 SC_ERR_CURSOR);
	assert_int_equal(
	    sc_store_log(s, NULL, 0, 0, 0, count_log, &rows, NULL, &err),
	    SC_OK);
	assert_int_equal(rows, 2);
	assert_int_equal(
	    sc_store_change(s, "list:a", "add", "k", add_z, NULL, &res, &err),
	    SC_OK);
	assert_int_equal(res.replayed, 1);
	sc_store_result_free(&res);
	assert_int_equal(
	    sc_store_change(s, "list:a", "add", NULL, add_z, NULL, &res, &err),
	    SC_OK);
	assert_int_equal(res.version, 3);
	assert_int_equal(res.seq, 3);
	sc_store_cursor_format(s, res.seq, cursor);
	sc_store_result_free(&res);
	sc_store_close(s);
	s = open_sh(path, NULL);
	expect_state(s, "list:a", "{\"items\":[\"x\",\"y\",\"z\"]}", 3);
	assert_int_equal(sc_store_compact(s, 1, &err), SC_OK);
	expect_state(s, "list:a", "{\"items\":[\"x\",\"y\",\"z\"]}", -1);
	sc_store_close(s);
}

/* --- migration from schema 2 ---------------------------------------- */

#define ADD(k) "'[{\"op\":\"add\",\"path\":\"/" k "\",\"value\":1}]'"

/* Schema 2 (the log indexed by topic).  Row 1 is a dropped topic a's,
 * below the floor of the a made again; a's rows 2, 4, 6 alternate with
 * b's 3, 5; row 7 is the newest row of a dropped topic c. */
static const char schema2[] =
    "CREATE TABLE topics (name TEXT PRIMARY KEY NOT NULL, version INTEGER "
    "NOT NULL DEFAULT 0, floor INTEGER NOT NULL DEFAULT 0, created_ms "
    "INTEGER NOT NULL, updated_ms INTEGER NOT NULL, snap_version INTEGER "
    "NOT NULL DEFAULT 0, snap_seq INTEGER NOT NULL DEFAULT 0, snap_bytes "
    "INTEGER NOT NULL DEFAULT 0, tail_bytes INTEGER NOT NULL DEFAULT 0) "
    "WITHOUT ROWID;"
    "CREATE TABLE snapshots (topic TEXT PRIMARY KEY NOT NULL, state TEXT "
    "NOT NULL);"
    OLD_LOG_TABLES
    "INSERT INTO topics VALUES ('a', 3, 1, 1, 6, 0, 1, 2, 90);"
    "INSERT INTO topics VALUES ('b', 2, 2, 1, 5, 0, 2, 2, 60);"
    "INSERT INTO snapshots VALUES ('a', '{}'), ('b', '{}');"
    "INSERT INTO log VALUES (1, 'a', 1, 1, NULL, " ADD("old") ");"
    "INSERT INTO log VALUES (2, 'a', 1, 2, NULL, " ADD("a1") ");"
    "INSERT INTO log VALUES (3, 'b', 1, 3, NULL, " ADD("b1") ");"
    "INSERT INTO log VALUES (4, 'a', 2, 4, NULL, " ADD("a2") ");"
    "INSERT INTO log VALUES (5, 'b', 2, 5, NULL, " ADD("b2") ");"
    "INSERT INTO log VALUES (6, 'a', 3, 6, NULL, " ADD("a3") ");"
    "INSERT INTO log VALUES (7, 'c', 9, 7, NULL, " ADD("c9") ");"
    "PRAGMA user_version = 2;";

/* Sets /x to 1, then 2, ... (a counter of its calls). */
static sc_err set_x(sc_store_txn *txn, void *arg, sc_error *err)
{
	static int n;
	char text[64];

	(void)arg;
	snprintf(text, sizeof(text),
		 "[{\"op\":\"add\",\"path\":\"/x\",\"value\":%d}]", ++n);
	return patch_text(txn, text, err);
}

/*
 * Schema 2 becomes 3: the log_topic index goes, each topic's rows are
 * found through its runs (made from the rows: a's are 2, 4 and 6, each
 * alone), and the next changes go on from them.
 */
static void test_migrate_v2(void **state)
{
	const char *path = fresh();
	sc_store *s;
	sc_store_result res;
	sc_error err;
	struct seqs q;

	(void)state;
	old_db(path, schema2);
	s = open_sh(path, NULL);
	assert_int_equal(db_value(path, "PRAGMA user_version"), 3);
	assert_int_equal(db_value(path, "SELECT count(*) FROM sqlite_schema "
					"WHERE name = 'log_topic'"),
			 0);
	assert_int_equal(db_value(path, "SELECT count(*) FROM runs"), 3);
	assert_int_equal(db_value(path, "SELECT last_seq * 10 + run_first "
					"FROM topics WHERE name = 'a'"),
			 66);
	expect_state(s, "a", "{\"a1\":1,\"a2\":1,\"a3\":1}", 3);
	expect_state(s, "b", "{\"b1\":1,\"b2\":1}", -1);
	assert_int_equal(topic_seqs(s, "a", 1, &q), 3);
	assert_int_equal(q.seq[0] * 100 + q.seq[1] * 10 + q.seq[2], 246);
	assert_int_equal(topic_seqs(s, "a", 2, &q), 2);
	assert_int_equal(topic_seqs(s, "b", 2, &q), 2);
	assert_int_equal(q.seq[0] * 10 + q.seq[1], 35);
	/* a goes on at 8 (after c's 7: a run closes) and 9 (the same run). */
	assert_int_equal(
	    sc_store_change(s, "a", "add", NULL, add_z, NULL, &res, &err),
	    SC_ERR_PATCH); /* a has no /items */
	assert_int_equal(sc_store_change(s, "a", "x", NULL, set_x, NULL, &res,
					 &err),
			 SC_OK);
	assert_int_equal(res.seq, 8);
	sc_store_result_free(&res);
	assert_int_equal(sc_store_change(s, "a", "x", NULL, set_x, NULL, &res,
					 &err),
			 SC_OK);
	assert_int_equal(res.seq, 9);
	sc_store_result_free(&res);
	assert_int_equal(db_value(path, "SELECT count(*) FROM runs"), 4);
	assert_int_equal(topic_seqs(s, "a", 1, &q), 5);
	assert_int_equal(q.seq[3] * 10 + q.seq[4], 89);
	sc_store_close(s);
	s = open_sh(path, NULL);
	expect_state(s, "a", "{\"a1\":1,\"a2\":1,\"a3\":1,\"x\":2}", 5);
	sc_store_close(s);
}

static int setup(void **state)
{
	(void)state;
	return scratch_setup("group");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_group_commit),
	    cmocka_unit_test(test_linger_takes_in),
	    cmocka_unit_test(test_batch_reuses_rows),
	    cmocka_unit_test(test_deferred_rows),
	    cmocka_unit_test(test_runs),
	    cmocka_unit_test(test_rows_after_sql),
	    cmocka_unit_test(test_pipeline_failure),
	    cmocka_unit_test(test_second_write_fails),
	    cmocka_unit_test(test_create_on_commit),
	    cmocka_unit_test(test_read_inside_change),
	    cmocka_unit_test(test_cache),
	    cmocka_unit_test(test_snapshot_random),
	};
	/* The migration of an SQLite file of schema 1. */
	const struct CMUnitTest sqlite_only[] = {
	    cmocka_unit_test(test_migrate_v1),
	    cmocka_unit_test(test_migrate_v2),
	    cmocka_unit_test(test_page_size),
	};
	int failed = cmocka_run_group_tests(tests, setup, scratch_teardown);

	if (!test_on_pg())
		failed += cmocka_run_group_tests(sqlite_only, setup,
						 scratch_teardown);
	return failed;
}
