/*
 * bench/store_cost.c — a fixed amount of store work, for counters that
 * do not depend on the machine's load (bench/store_cost.sh runs it under
 * callgrind for instructions per event, and under strace for the
 * PostgreSQL round trips per event).
 *
 *   store_cost DB THREADS EVENTS
 *	DB is an SQLite path or a postgresql:// URI.  Makes the topic
 *	"cost" (a small state) when it is missing, then THREADS threads
 *	share one sc_store_shared (group commit, as the FastCGI app) and
 *	commit EVENTS one-op changes ("replace /n") between them.  EVENTS
 *	0: the setup alone, to subtract.  Prints the events committed.
 *
 * Prints figures; asserts nothing.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/value.h"
#include "store/store.h"

#include "bench/bench_patch.h"

#define MAX_THREADS 64

typedef struct worker {
	const char *db;
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
		if (sc_store_change(s, "cost", "tick", NULL, replace_n, &i,
				    &res, &err) != SC_OK)
			die("change", &err);
		sc_store_result_free(&res);
		w->done++;
	}
	sc_store_close(s);
	return NULL;
}

int main(int argc, char **argv)
{
	worker w[MAX_THREADS];
	sc_store_shared *sh;
	sc_store_state st;
	sc_store *s;
	sc_error err;
	long threads, events, done = 0;
	int i;

	if (argc != 4 || (threads = strtol(argv[2], NULL, 10)) < 1 ||
	    threads > MAX_THREADS || (events = strtol(argv[3], NULL, 10)) < 0) {
		fprintf(stderr, "usage: store_cost DB THREADS(1-%d) EVENTS\n",
			MAX_THREADS);
		return 2;
	}
	s = open_store(argv[1], NULL);
	if (sc_store_get(s, "cost", &st, &err) == SC_OK) {
		sc_store_state_free(&st);
	} else {
		json_object *init = NULL;
		const char *t = "{\"n\":0,\"title\":\"cost\",\"items\":[1,2,3]}";

		if (sc_json_parse(t, strlen(t), &init, &err) != SC_OK ||
		    sc_store_create(s, "cost", init, &err) != SC_OK)
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
