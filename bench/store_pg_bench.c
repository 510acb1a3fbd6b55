/*
 * bench/store_pg_bench.c — PostgreSQL's side of the store's figures,
 * against libpq directly: the bare commit rate that the store on
 * PostgreSQL is measured against, what the seq scheme of schema_pg.sql
 * costs on top of it, and the NOTIFY wake latency.
 *
 *   store_pg_bench [SECONDS]     (the server: $SC_TEST_PG, an empty
 *                                 database where it may create tables;
 *                                 bench/store_pg.sh starts a server)
 *
 * bare libpq: a loop of single-row INSERT commits (autocommit, prepared,
 * one round trip each) of a row like a log row into a table of the log's
 * shape (an identity primary key, no other index): the denominator of
 * "events/s through the store on PostgreSQL / bare libpq".  From 1 and
 * 2 processes.
 * store-shaped: the SQL of one write of the store's PostgreSQL backend
 * (schema_pg.sql), in two pipelined round trips: BEGIN + the topic's row
 * FOR UPDATE; then the topic's update, the seq from the counter row and
 * the log row in one statement, pg_notify, COMMIT.  1 event a
 * transaction, and 8 (group commit: one counter update for 8 log rows).
 * And 1 event in one round trip: the lock's round trip left out, the
 * topic's update checking the version the writer has cached (what a
 * process-wide state cache allows), one implicit transaction.
 * through the store: the same one-op event (a patch replacing /n)
 * through sc_store_change of the store's PostgreSQL backend (store/pg.c,
 * its own database on the same server), from 1 thread and from 8
 * threads of one process (group commit), JSON work included: the
 * numerator of the goal.
 * Each process on a topic of its own, so 2 processes contend on the
 * counter row only.  No JSON work: the ceiling of the backend's SQL.
 * The loops run in alternating slices so that a drifting machine load
 * weighs on all alike.
 * Then the wake: a process blocked in poll() on a LISTEN connection
 * against store-shaped commits of another, p50/p99 from the start of
 * the commit and from its return.  Prints figures; asserts nothing.
 */
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <pthread.h>

#include "json/value.h"
#include "store/store.h"

#include "bench/bench_patch.h"

#define ROUNDS	     8
#define WAKE_SAMPLES 500
#define GROUP	     8

static const char *uri;
static char store_uri[4096]; /* the store's database (setup) */
static double slice;	     /* seconds one loop runs */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, PGconn *c)
{
	fprintf(stderr, "store_pg_bench: %s: %s\n", what,
		c != NULL ? PQerrorMessage(c) : "failed");
	exit(1);
}

static PGconn *connect_db(void)
{
	PGconn *c = PQconnectdb(uri);

	if (PQstatus(c) != CONNECTION_OK)
		die("connect", c);
	return c;
}

static void exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		die(sql, c);
	PQclear(r);
}

static void prepare(PGconn *c, const char *name, const char *sql)
{
	PGresult *r = PQprepare(c, name, sql, 0, NULL);

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		die(sql, c);
	PQclear(r);
}

/* Queues the prepared statement name with n text params (pipeline). */
static void send(PGconn *c, const char *name, int n, const char *const *p)
{
	if (!PQsendQueryPrepared(c, name, n, p, NULL, NULL, 0))
		die(name, c);
}

/* Ends a pipelined round trip of nq statements: syncs, reads every
 * result; an error of any is fatal. */
static void round_trip(PGconn *c, int nq)
{
	PGresult *r;
	int i;

	if (!PQpipelineSync(c))
		die("sync", c);
	for (i = 0; i < nq; i++) {
		r = PQgetResult(c);
		if (PQresultStatus(r) != PGRES_COMMAND_OK &&
		    PQresultStatus(r) != PGRES_TUPLES_OK)
			die("pipelined statement", c);
		PQclear(r);
		if ((r = PQgetResult(c)) != NULL)
			die("pipeline: more than one result", c);
	}
	r = PQgetResult(c);
	if (PQresultStatus(r) != PGRES_PIPELINE_SYNC)
		die("pipeline: no sync", c);
	PQclear(r);
}

/* What one loop measured, after its connection was ready: events and
 * wall time. */
typedef struct loop_stats {
	long n;
	double wall;
} loop_stats;

/* The bare loop: one prepared single-row INSERT a commit. */
static loop_stats bare_loop(int id)
{
	PGconn *c = connect_db();
	char patch[128], v[24], t[24];
	const char *p[4] = {"t", v, t, patch};
	loop_stats st = {0, 0};
	double start, end, now;

	(void)id;
	prepare(c, "ins",
		"INSERT INTO bare (topic, version, time_ms, event, patch) "
		"VALUES ($1, $2, $3, 'tick', $4)");
	start = now_s();
	end = start + slice;
	while ((now = now_s()) < end) {
		PGresult *r;

		snprintf(patch, sizeof(patch), PATCH_FMT, st.n);
		snprintf(v, sizeof(v), "%ld", st.n + 1);
		snprintf(t, sizeof(t), "%ld", (long)(now * 1000));
		r = PQexecPrepared(c, "ins", 4, p, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			die("insert", c);
		PQclear(r);
		st.n++;
	}
	st.wall = now_s() - start;
	PQfinish(c);
	return st;
}

/* Prepares the statements of a store-shaped write of k events and puts
 * c in pipeline mode. */
static void store_prepare(PGconn *c, int k)
{
	char sql[1024];

	prepare(c, "begin", "BEGIN");
	prepare(c, "lock",
		"SELECT version, snapshot_version, patch_bytes FROM topics "
		"WHERE name = $1 FOR UPDATE");
	prepare(c, "topic",
		"UPDATE topics SET version = version + $2, updated_ms = $3, "
		"patch_bytes = patch_bytes + $4 WHERE name = $1");
	/* The seqs of the k events and their log rows, in one statement:
	 * the counter row's UPDATE is the transaction's last lock. */
	snprintf(
	    sql, sizeof(sql),
	    "WITH s AS (UPDATE meta SET value = (value::bigint + %d)::text "
	    "WHERE key = 'seq' RETURNING value::bigint AS last) "
	    "INSERT INTO log (seq, topic, version, time_ms, event, patch) "
	    "SELECT s.last - %d + g, $1, $2::bigint + g, $3, 'tick', $4 "
	    "FROM s, generate_series(1, %d) AS g",
	    k, k, k);
	prepare(c, "log", sql);
	/* The same in one statement without the lock's round trip: the
	 * topic's update checks the version the caller has cached ($5) and
	 * nothing is logged when another writer changed it first. */
	snprintf(sql, sizeof(sql),
		 "WITH t AS (UPDATE topics SET version = version + $2, "
		 "updated_ms = $3, patch_bytes = patch_bytes + $4 WHERE name = "
		 "$1 AND version = $5 RETURNING version), "
		 "s AS (UPDATE meta SET value = (value::bigint + %d)::text "
		 "WHERE key = 'seq' AND EXISTS (SELECT 1 FROM t) RETURNING "
		 "value::bigint AS last) "
		 "INSERT INTO log (seq, topic, version, time_ms, event, patch) "
		 "SELECT s.last - %d + g, $1, $5::bigint + g, $3, 'tick', $6 "
		 "FROM s, generate_series(1, %d) AS g",
		 k, k, k);
	prepare(c, "once", sql);
	prepare(c, "wake",
		"SELECT pg_notify('statechannel', value) FROM meta WHERE key = "
		"'seq'");
	prepare(c, "commit", "COMMIT");
	if (!PQenterPipelineMode(c))
		die("pipeline mode", c);
}

/* One store-shaped transaction of k events on topic; version: the
 * topic's version before it (kept by the caller, as the store's cache
 * keeps it).  once: in one round trip (the statements up to the sync are
 * one implicit transaction), else two: BEGIN and the lock, then the
 * writes and COMMIT. */
static void store_write(PGconn *c, const char *topic, long version, int k,
			int once)
{
	char patch[128], v[24], kk[8], t[24], bytes[16];
	const char *lock[1] = {topic};
	const char *upd[4] = {topic, kk, t, bytes};
	const char *log[4] = {topic, v, t, patch};
	int len = snprintf(patch, sizeof(patch), PATCH_FMT, version);

	snprintf(v, sizeof(v), "%ld", version);
	snprintf(kk, sizeof(kk), "%d", k);
	snprintf(t, sizeof(t), "%ld", (long)(now_s() * 1000));
	snprintf(bytes, sizeof(bytes), "%d", len * k);
	if (once) {
		const char *p[6] = {topic, kk, t, bytes, v, patch};

		send(c, "once", 6, p);
		send(c, "wake", 0, NULL);
		round_trip(c, 2);
		return;
	}
	send(c, "begin", 0, NULL);
	send(c, "lock", 1, lock);
	round_trip(c, 2);
	/* (the event handlers run here) */
	send(c, "topic", 4, upd);
	send(c, "log", 4, log);
	send(c, "wake", 0, NULL);
	send(c, "commit", 0, NULL);
	round_trip(c, 4);
}

/* The version of topic. */
static long topic_version(PGconn *c, const char *topic)
{
	const char *p[1] = {topic};
	PGresult *r = PQexecParams(c,
				   "SELECT version FROM topics WHERE "
				   "name = $1",
				   1, NULL, p, NULL, NULL, 0);
	long v;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		die(topic, c);
	v = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

static loop_stats store_loop(int id, int k, int once)
{
	PGconn *c = connect_db();
	char topic[32];
	loop_stats st = {0, 0};
	long version;
	double start, end;

	snprintf(topic, sizeof(topic), "bench_%d", id);
	version = topic_version(c, topic);
	store_prepare(c, k);
	start = now_s();
	end = start + slice;
	while (now_s() < end) {
		store_write(c, topic, version, k, once);
		version += k;
		st.n += k;
	}
	st.wall = now_s() - start;
	PQfinish(c);
	return st;
}

static loop_stats store1_loop(int id)
{
	return store_loop(id, 1, 0);
}

static loop_stats once_loop(int id)
{
	return store_loop(id, 1, 1);
}

static loop_stats group_loop(int id)
{
	return store_loop(id, GROUP, 0);
}

/* --- through the store ------------------------------------------------ */

typedef struct store_thread {
	sc_store *s;
	const char *topic;
	double end;
	long n;
	pthread_t t;
} store_thread;

static sc_err bump_n(sc_store_txn *txn, void *arg, sc_error *err)
{
	json_object *n = json_object_object_get(sc_store_txn_state(txn), "n");

	(void)arg;
	return bench_replace(txn, "/n", (long)json_object_get_int64(n) + 1,
			     err);
}

static void *store_thread_main(void *arg)
{
	store_thread *t = arg;
	sc_store_result res;
	sc_error err;

	while (now_s() < t->end) {
		if (sc_store_change(t->s, t->topic, "tick", NULL, bump_n, NULL,
				    &res, &err) != SC_OK) {
			fprintf(stderr, "store_pg_bench: %s\n", err.message);
			exit(1);
		}
		sc_store_result_free(&res);
		t->n++;
	}
	return NULL;
}

/* nthreads threads of one process, each with its connection, one shared
 * object (group commit, as the FastCGI app runs), on the process's
 * topic. */
static loop_stats through_store(int id, int nthreads)
{
	store_thread t[8];
	sc_store_options o;
	sc_store_shared *sh;
	sc_error err;
	char topic[32];
	loop_stats st = {0, 0};
	double start;
	int i;

	snprintf(topic, sizeof(topic), "bench_%d", id);
	/* The tables' statistics as autovacuum keeps them on a server that
	 * runs longer than its first minute (the slices follow each other
	 * faster than its naptime): without them PostgreSQL plans the
	 * retention's walk of the log as a scan of the topic's whole log. */
	{
		PGconn *c = PQconnectdb(store_uri);

		if (PQstatus(c) != CONNECTION_OK)
			die("connect", c);
		exec(c, "ANALYZE log, topics, meta");
		PQfinish(c);
	}
	if (sc_store_shared_new(0, &sh, &err) != SC_OK)
		die("shared", NULL);
	memset(&o, 0, sizeof(o));
	o.path = store_uri;
	o.shared = sh;
	for (i = 0; i < nthreads; i++) {
		t[i].topic = topic;
		t[i].n = 0;
		if (sc_store_open(&o, &t[i].s, &err) != SC_OK) {
			fprintf(stderr, "store_pg_bench: %s\n", err.message);
			exit(1);
		}
	}
	start = now_s();
	for (i = 0; i < nthreads; i++) {
		t[i].end = start + slice;
		pthread_create(&t[i].t, NULL, store_thread_main, &t[i]);
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(t[i].t, NULL);
		st.n += t[i].n;
	}
	st.wall = now_s() - start;
	for (i = 0; i < nthreads; i++)
		sc_store_close(t[i].s);
	sc_store_shared_free(sh);
	return st;
}

static loop_stats store_t1_loop(int id)
{
	return through_store(id, 1);
}

static loop_stats store_t8_loop(int id)
{
	return through_store(id, 8);
}

/* Runs fn in nproc processes at once for one slice; adds their events
 * and the longest loop's wall time to *sum. */
static void run_slice(loop_stats (*fn)(int), int nproc, loop_stats *sum)
{
	loop_stats one, all = {0, 0};
	int p[2], i;

	if (pipe(p) != 0)
		die("pipe", NULL);
	for (i = 0; i < nproc; i++) {
		if (fork() == 0) {
			close(p[0]);
			one = fn(i);
			if (write(p[1], &one, sizeof(one)) != sizeof(one))
				_exit(1);
			_exit(0);
		}
	}
	close(p[1]);
	while (read(p[0], &one, sizeof(one)) == sizeof(one)) {
		all.n += one.n;
		if (one.wall > all.wall)
			all.wall = one.wall;
	}
	close(p[0]);
	while (wait(NULL) > 0)
		;
	sum->n += all.n;
	sum->wall += all.wall;
}

static void setup(void)
{
	PGconn *c = connect_db();
	FILE *f = fopen("schema_pg.sql", "rb");
	static char schema[65536];
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "store_pg_bench: no schema_pg.sql here: run "
				"from the top of the tree\n");
		exit(1);
	}
	n = fread(schema, 1, sizeof(schema) - 1, f);
	fclose(f);
	schema[n] = '\0';
	/* Fails on a database that has these tables: never destroys. */
	exec(c, schema);
	exec(c, "CREATE TABLE bare (seq bigint GENERATED ALWAYS AS IDENTITY "
		"PRIMARY KEY, topic text NOT NULL, version bigint NOT NULL, "
		"time_ms bigint NOT NULL, event text, patch text NOT NULL)");
	exec(c, "INSERT INTO topics (name, created_ms, updated_ms, snapshot) "
		"SELECT 'bench_' || i, 0, 0, "
		"'{\"n\":0,\"title\":\"bench\",\"items\":[1,2,3]}' "
		"FROM generate_series(0, 3) AS i");
	{
		PGresult *r =
		    PQexec(c, "SELECT current_setting('fsync'), "
			      "current_setting('synchronous_commit'), "
			      "current_setting('server_version')");

		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			die("settings", c);
		printf("PostgreSQL %s, fsync=%s synchronous_commit=%s, Unix "
		       "socket, %.1f s per figure in %d slices\n",
		       PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 0),
		       PQgetvalue(r, 0, 1), slice * ROUNDS, ROUNDS);
		PQclear(r);
	}
	/* The store's own database beside it: the store applies its schema
	 * and makes the epoch. */
	exec(c, "DROP DATABASE IF EXISTS sc_bench_store");
	exec(c, "CREATE DATABASE sc_bench_store");
	PQfinish(c);
	{
		const char *p = strstr(uri, "://"), *q;
		sc_store *st;
		sc_store_options o;
		sc_error err;
		json_object *init;
		char topic[32];
		int i;

		if (p == NULL)
			die("the server's URI is not a postgresql:// one", NULL);
		p += 3;
		p += strcspn(p, "/?");
		q = p + strcspn(p, "?");
		snprintf(store_uri, sizeof(store_uri), "%.*s/sc_bench_store%s",
			 (int)(p - uri), uri, q);
		memset(&o, 0, sizeof(o));
		o.path = store_uri;
		if (sc_store_open(&o, &st, &err) != SC_OK) {
			fprintf(stderr, "store_pg_bench: %s\n", err.message);
			exit(1);
		}
		for (i = 0; i < 4; i++) {
			snprintf(topic, sizeof(topic), "bench_%d", i);
			init = json_tokener_parse(
			    "{\"n\":0,\"title\":\"bench\",\"items\":[1,2,3]}");
			if (sc_store_create(st, topic, init, &err) != SC_OK)
				die(err.message, NULL);
			json_object_put(init);
		}
		sc_store_close(st);
	}
}

static void commits(void)
{
	loop_stats bare[3], one[3], once[3], group[3], st1[3], st8[3];
	int nproc, r;

	memset(st1, 0, sizeof(st1));
	memset(st8, 0, sizeof(st8));
	memset(bare, 0, sizeof(bare));
	memset(one, 0, sizeof(one));
	memset(once, 0, sizeof(once));
	memset(group, 0, sizeof(group));
	for (r = 0; r < ROUNDS; r++)
		for (nproc = 1; nproc <= 2; nproc++) {
			run_slice(bare_loop, nproc, &bare[nproc]);
			run_slice(store1_loop, nproc, &one[nproc]);
			run_slice(once_loop, nproc, &once[nproc]);
			run_slice(group_loop, nproc, &group[nproc]);
			run_slice(store_t1_loop, nproc, &st1[nproc]);
			run_slice(store_t8_loop, nproc, &st8[nproc]);
		}
	printf("events/s; in parentheses: / bare libpq from 1 process\n");
	for (nproc = 1; nproc <= 2; nproc++) {
		const char *es = nproc > 1 ? "es" : "  ";
		double b1 = bare[1].n / bare[1].wall;
		double rb = bare[nproc].n / bare[nproc].wall;
		double r1 = one[nproc].n / one[nproc].wall;
		double ro = once[nproc].n / once[nproc].wall;
		double rg = group[nproc].n / group[nproc].wall;
		double s1 = st1[nproc].n / st1[nproc].wall;
		double s8 = st8[nproc].n / st8[nproc].wall;

		printf("%d process%s: bare libpq %6.0f (%.2f)  store-shaped: "
		       "2 round trips %6.0f (%.2f), 1 round trip %6.0f "
		       "(%.2f), %d events a commit %6.0f (%.2f)\n"
		       "%d process%s: through the store (sc_store_change): "
		       "1 thread %6.0f (%.2f), 8 threads %6.0f (%.2f); "
		       "8 threads / bare libpq from %d process%s: %.2f\n",
		       nproc, es, rb, rb / b1, r1, r1 / b1, ro, ro / b1, GROUP,
		       rg, rg / b1, nproc, es, s1, s1 / b1, s8, s8 / b1, nproc,
		       es, s8 / rb);
	}
	fflush(stdout);
}

static int64_t now_ns(void)
{
	return (int64_t)(now_s() * 1e9);
}

/* Shared between the committing parent and the listening child. */
typedef struct shared {
	int64_t base;		     /* the seq before the first commit */
	volatile int ready, stop;    /* the child listens; it may end */
	int64_t start[WAKE_SAMPLES]; /* parent: before commit i */
	int64_t end[WAKE_SAMPLES];   /* parent: after commit i returned */
	int64_t woke[WAKE_SAMPLES];  /* child: when seq base + i + 1 came */
} shared;

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The listener: blocked in poll() on its LISTEN connection; notes when
 * the NOTIFY of each seq (the payload) arrived. */
static void listener(shared *sh)
{
	PGconn *c = connect_db();
	struct pollfd pfd;
	PGnotify *nt;

	exec(c, "LISTEN statechannel");
	pfd.fd = PQsocket(c);
	pfd.events = POLLIN;
	sh->ready = 1;
	while (!sh->stop) {
		if (poll(&pfd, 1, 200) != 1)
			continue;
		if (!PQconsumeInput(c))
			die("listen", c);
		while ((nt = PQnotifies(c)) != NULL) {
			int64_t i = strtoll(nt->extra, NULL, 10) - sh->base - 1;

			if (i >= 0 && i < WAKE_SAMPLES)
				sh->woke[i] = now_ns();
			PQfreemem(nt);
		}
	}
	PQfinish(c);
}

static void wake_latency(void)
{
	shared *sh = mmap(NULL, sizeof(shared), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int64_t from_start[WAKE_SAMPLES], from_end[WAKE_SAMPLES];
	PGconn *c;
	long version;
	pid_t pid;
	int i, n = 0;

	if (sh == MAP_FAILED)
		die("mmap", NULL);
	memset(sh, 0, sizeof(*sh));
	c = connect_db();
	version = topic_version(c, "bench_3");
	{
		PGresult *r = PQexec(c, "SELECT value FROM meta WHERE key = "
					"'seq'");

		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			die("seq", c);
		sh->base = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
	}
	pid = fork();
	if (pid == 0) {
		listener(sh);
		_exit(0);
	}
	store_prepare(c, 1);
	while (!sh->ready)
		usleep(1000);
	usleep(20000);
	for (i = 0; i < WAKE_SAMPLES; i++) {
		sh->start[i] = now_ns();
		store_write(c, "bench_3", version++, 1, 0);
		sh->end[i] = now_ns();
		usleep(1000 + (useconds_t)(rand() % 2000));
	}
	usleep(200000);
	sh->stop = 1;
	waitpid(pid, NULL, 0);
	PQfinish(c);
	for (i = 0; i < WAKE_SAMPLES; i++)
		if (sh->woke[i] != 0) {
			from_start[n] = sh->woke[i] - sh->start[i];
			from_end[n] = sh->woke[i] - sh->end[i];
			n++;
		}
	if (n == 0)
		die("wake: no wake-up seen", NULL);
	qsort(from_start, (size_t)n, sizeof(int64_t), cmp64);
	qsort(from_end, (size_t)n, sizeof(int64_t), cmp64);
	printf("NOTIFY wake of a process blocked in poll() (%d commits, %d "
	       "notifications): from commit start p50 %.3f ms p99 %.3f ms; "
	       "from commit return p50 %.3f ms p99 %.3f ms\n",
	       WAKE_SAMPLES, n, from_start[n / 2] / 1e6,
	       from_start[n * 99 / 100] / 1e6, from_end[n / 2] / 1e6,
	       from_end[n * 99 / 100] / 1e6);
	munmap(sh, sizeof(*sh));
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;

	uri = getenv("SC_TEST_PG");
	if (uri == NULL || seconds <= 0) {
		fprintf(stderr, "usage: SC_TEST_PG=URI store_pg_bench "
				"[SECONDS]\n(bench/store_pg.sh starts a "
				"server)\n");
		return 2;
	}
	slice = seconds / ROUNDS;
	setup();
	commits();
	wake_latency();
	return 0;
}
