/*
 * bench/store_cost.c — a fixed amount of store work, for counters that
 * do not depend on the machine's load (bench/store_cost.sh runs it under
 * callgrind for instructions per event, and under strace for the
 * PostgreSQL round trips per event).
 *
 *   store_cost DB THREADS EVENTS [TOPICS]
 *	DB is an SQLite path or a postgresql:// URI.  Makes the topic
 *	"cost" (a small state) when it is missing, then THREADS threads
 *	share one sc_store_shared (group commit, as the FastCGI app) and
 *	commit EVENTS one-op changes ("replace /n") between them.  EVENTS
 *	0: the setup alone, to subtract.  With TOPICS > 1, thread i
 *	changes the topic "cost" + (i % TOPICS) instead, so that a batch
 *	holds the changes of several topics in turn.  Prints the events
 *	committed.
 *
 *   store_cost DB bare EVENTS
 *	The bare SQLite loop of bench/store_bench.c instead (DB a path):
 *	EVENTS commits of BEGIN IMMEDIATE; one INSERT of a row of the
 *	log's shape (no index) with the same patch text; COMMIT.
 *
 * Prints figures; asserts nothing.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/value.h"
#include "store/store.h"

#include "bench/bench_patch.h"

#define MAX_THREADS 64

typedef struct worker {
	const char *db;
	char topic[16];
	sc_store_shared *sh;
	long events;
	long done;
	pthread_t t;
} worker;

static sc_err replace_n(sc_store_txn *txn, void *arg, sc_error *err)
{
	return bench_replace(txn, "/n", *(const long *)arg, err);
}

static void die(const char *what, const sc_error *err)
{
	fprintf(stderr, "store_cost: %s: %s\n", what,
		err != NULL ? err->message : "failed");
	exit(1);
}

static sc_store *open_store(const char *db, sc_store_shared *sh)
{
	sc_store_options o;
	sc_store *s;
	sc_error err;

	memset(&o, 0, sizeof(o));
	o.path = db;
	o.shared = sh;
	if (sc_store_open(&o, &s, &err) != SC_OK)
		die("open", &err);
	return s;
}

static void *work(void *arg)
{
	worker *w = arg;
	sc_store *s = open_store(w->db, w->sh);
	sc_store_result res;
	sc_error err;
	long i;

	for (i = 0; i < w->events; i++) {
		if (sc_store_change(s, w->topic, "tick", NULL, replace_n, &i,
				    &res, &err) != SC_OK)
			die("change", &err);
		sc_store_result_free(&res);
		w->done++;
	}
	sc_store_close(s);
	return NULL;
}

/* The bare loop (see the top); returns the commits made. */
static long bare(const char *path, long events)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *ins = NULL, *begin = NULL, *commit = NULL;
	char sql[160], patch[128];
	long n;

	snprintf(sql, sizeof(sql),
		 "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
		 "PRAGMA wal_autocheckpoint = %d",
		 SC_STORE_WAL_PAGES);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, BARE_TABLE, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, BARE_INSERT, -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) !=
		SQLITE_OK ||
	    sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) != SQLITE_OK) {
		fprintf(stderr, "store_cost: %s: %s\n", path,
			sqlite3_errmsg(db));
		exit(1);
	}
	for (n = 0; n < events; n++) {
		int len = snprintf(patch, sizeof(patch), PATCH_FMT, n);

		sqlite3_bind_int64(ins, 1, n + 1);
		sqlite3_bind_int64(ins, 2, 1000000 + n);
		sqlite3_bind_text(ins, 3, patch, len, SQLITE_STATIC);
		if (sqlite3_step(begin) != SQLITE_DONE ||
		    sqlite3_step(ins) != SQLITE_DONE ||
		    sqlite3_step(commit) != SQLITE_DONE) {
			fprintf(stderr, "store_cost: %s\n", sqlite3_errmsg(db));
			exit(1);
		}
		sqlite3_reset(begin);
		sqlite3_reset(ins);
		sqlite3_reset(commit);
	}
	sqlite3_finalize(ins);
	sqlite3_finalize(begin);
	sqlite3_finalize(commit);
	sqlite3_close(db);
	return n;
}

int main(int argc, char **argv)
{
	worker w[MAX_THREADS];
	sc_store_shared *sh;
	sc_store_state st;
	sc_store *s;
	sc_error err;
	long threads, events, topics = 1, done = 0;
	int i;

	if (argc == 4 && strcmp(argv[2], "bare") == 0 &&
	    (events = strtol(argv[3], NULL, 10)) >= 0) {
		printf("%ld\n", bare(argv[1], events));
		return 0;
	}
	if ((argc != 4 && argc != 5) ||
	    (threads = strtol(argv[2], NULL, 10)) < 1 ||
	    threads > MAX_THREADS || (events = strtol(argv[3], NULL, 10)) < 0 ||
	    (argc == 5 &&
	     ((topics = strtol(argv[4], NULL, 10)) < 1 || topics > threads))) {
		fprintf(stderr,
			"usage: store_cost DB THREADS(1-%d)|bare EVENTS "
			"[TOPICS(1-THREADS)]\n",
			MAX_THREADS);
		return 2;
	}
	for (i = 0; i < threads; i++) {
		if (topics == 1)
			snprintf(w[i].topic, sizeof(w[i].topic), "cost");
		else
			snprintf(w[i].topic, sizeof(w[i].topic), "cost%ld",
				 i % topics);
	}
	s = open_store(argv[1], NULL);
	for (i = 0; i < topics; i++) {
		json_object *init = NULL;
		const char *t = "{\"n\":0,\"title\":\"cost\",\"items\":[1,2,3]}";

		if (sc_store_get(s, w[i].topic, &st, &err) == SC_OK) {
			sc_store_state_free(&st);
			continue;
		}
		if (sc_json_parse(t, strlen(t), &init, &err) != SC_OK ||
		    sc_store_create(s, w[i].topic, init, &err) != SC_OK)
			die("create", &err);
		json_object_put(init);
	}
	sc_store_close(s);
	if (sc_store_shared_new(0, &sh, &err) != SC_OK)
		die("shared", &err);
	for (i = 0; i < threads; i++) {
		w[i].db = argv[1];
		w[i].sh = sh;
		w[i].events = events / threads + (i < events % threads);
		w[i].done = 0;
		pthread_create(&w[i].t, NULL, work, &w[i]);
	}
	for (i = 0; i < threads; i++) {
		pthread_join(w[i].t, NULL);
		done += w[i].done;
	}
	sc_store_shared_free(sh);
	printf("%ld\n", done);
	return 0;
}
