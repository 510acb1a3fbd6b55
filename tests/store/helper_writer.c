/*
 * tests/store/helper_writer.c — a writer process the store tests start.
 *
 *   helper_writer DB TOPIC COUNT ID [GAP_MS [THREADS]]
 *
 * Commits COUNT changes to TOPIC, whose state is {"n":N,"items":[...]}:
 * each sets n to n + 1 and appends ID to items, alternately as patch ops
 * (sc_store_txn_patch) and as a whole new state (sc_store_txn_set).
 * After each commit returns, writes "VERSION T0_NS\n" to standard output
 * with one write(2) (T0: CLOCK_MONOTONIC before the commit started), so
 * a parent that kills it knows which commits were acknowledged.  GAP_MS
 * sleeps between commits.  THREADS (default 1) threads do the same at
 * once, each with its own connection and one shared object between them
 * (group commit, as the FastCGI app does).  Exit 0, or 1 with a message
 * on any error (a busy store included).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json/value.h"
#include "store/store.h"

typedef struct job {
	long id;
	long i;
} job;

static sc_err step(sc_store_txn *txn, void *arg, sc_error *err)
{
	const job *j = arg;
	json_object *state = sc_store_txn_state(txn), *n, *ops, *copy = NULL;
	int64_t v = 0;
	char text[160];
	sc_err rc;

	if (json_object_object_get_ex(state, "n", &n))
		v = json_object_get_int64(n);
	if (j->i % 2 == 0) {
		snprintf(
		    text, sizeof(text),
		    "[{\"op\":\"replace\",\"path\":\"/n\",\"value\":%" PRId64
		    "},{\"op\":\"add\",\"path\":\"/items/-\",\"value\":%ld}]",
		    v + 1, j->id);
		rc = sc_json_parse(text, strlen(text), &ops, err);
		if (rc == SC_OK)
			rc = sc_store_txn_patch(txn, ops, err);
		json_object_put(ops);
		return rc;
	}
	rc = sc_json_copy(state, &copy);
	if (rc != SC_OK)
		return rc;
	json_object_object_add(copy, "n", json_object_new_int64(v + 1));
	if (json_object_object_get_ex(copy, "items", &n))
		json_object_array_add(n, json_object_new_int64(j->id));
	return sc_store_txn_set(txn, copy, err);
}

typedef struct writer {
	sc_store *s;
	const char *topic;
	job j;
	long count, gap_ms;
	int rc;
	pthread_t thread;
} writer;

static void *write_main(void *arg)
{
	writer *w = arg;
	sc_store_result res;
	sc_error err;

	for (w->j.i = 0; w->j.i < w->count; w->j.i++) {
		struct timespec t0;
		char line[64];
		int n;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (sc_store_change(w->s, w->topic, "helper", NULL, step, &w->j,
				    &res, &err) != SC_OK) {
			fprintf(stderr, "helper_writer %ld: %s (%s)\n", w->j.id,
				err.message, sc_strerror(err.code));
			w->rc = 1;
			break;
		}
		n = snprintf(line, sizeof(line), "%" PRId64 " %" PRId64 "\n",
			     res.version,
			     (int64_t)t0.tv_sec * 1000000000 + t0.tv_nsec);
		sc_store_result_free(&res);
		if (write(1, line, (size_t)n) != n) {
			w->rc = 1;
			break;
		}
		if (w->gap_ms > 0)
			usleep((useconds_t)w->gap_ms * 1000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	sc_store_options o;
	sc_store_shared *sh = NULL;
	writer w[64];
	sc_error err;
	long threads, t;
	int rc = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: helper_writer DB TOPIC COUNT ID "
				"[GAP_MS [THREADS]]\n");
		return 2;
	}
	threads = argc > 6 ? atol(argv[6]) : 1;
	if (threads < 1 || threads > 64)
		return 2;
	memset(&o, 0, sizeof(o));
	memset(w, 0, sizeof(w));
	o.path = argv[1];
	if (threads > 1 && sc_store_shared_new(0, &sh, &err) != SC_OK)
		return 1;
	o.shared = sh;
	for (t = 0; t < threads; t++) {
		w[t].topic = argv[2];
		w[t].count = atol(argv[3]);
		w[t].j.id = atol(argv[4]);
		w[t].gap_ms = argc > 5 ? atol(argv[5]) : 0;
		if (sc_store_open(&o, &w[t].s, &err) != SC_OK) {
			fprintf(stderr, "helper_writer: %s\n", err.message);
			return 1;
		}
	}
	if (threads == 1) {
		write_main(&w[0]);
	} else {
		for (t = 0; t < threads; t++)
			pthread_create(&w[t].thread, NULL, write_main, &w[t]);
		for (t = 0; t < threads; t++)
			pthread_join(w[t].thread, NULL);
	}
	for (t = 0; t < threads; t++) {
		rc |= w[t].rc;
		sc_store_close(w[t].s);
	}
	sc_store_shared_free(sh);
	return rc;
}
