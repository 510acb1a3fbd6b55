/*
 * bench/store_bench.c — the store's commit rate and cross-process wake
 * latency, beside the physical limit measured in the same run.
 *
 *   store_bench DIR [SECONDS]
 *
 * For synchronous NORMAL and FULL (WAL both): commits per second of a
 * small patch to one topic through sc_store_change, from 1 and from 2
 * processes, and a bare SQLite loop on the same settings (BEGIN
 * IMMEDIATE; INSERT of a row like a log row, with the same patch text,
 * into a table of the log's shape without its index; COMMIT) from 1 and
 * 2 processes; ours is printed as a fraction of the bare rate.  Then the
 * wake latency: a waiting process (sc_store_wait) against commits by
 * another, p50/p99, measured from the start of the commit call (so it
 * includes the commit itself) and from its return.  Prints figures;
 * asserts nothing.  DIR holds the database files.
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "json/text.h"
#include "json/value.h"
#include "store/store.h"

#include "bench/bench_patch.h"

#define WAKE_SAMPLES 1000

static const char *dir;
static const char *topic = "bench";
static double seconds = 2.0; /* per figure, in ROUNDS slices */
static double slice;	     /* what one loop runs */

/* Bare and ours run in alternating slices, so that the load of a shared
 * machine, which drifts, weighs on both alike. */
#define ROUNDS 8

/* What one loop measured, from after its open to before its close: the
 * commits, the wall time and the CPU time of its process. */
typedef struct loop_stats {
	long n;
	double wall, cpu;
} loop_stats;

static loop_stats stats; /* of this (child) process's loop */

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "store_bench: %s: %s\n", what, msg);
	exit(1);
}

/* The bare loop: commits in one process for `seconds`; returns count. */
static long bare_loop(const char *path, int full)
{
	sqlite3 *db;
	sqlite3_stmt *ins, *begin, *commit;
	char patch[128];
	long n = 0;
	double start = now_s(), cpu0 = cpu_s(), end = start + slice, t;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		die(path, sqlite3_errmsg(db));
	sqlite3_busy_timeout(db, 5000);
	sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
	sqlite3_exec(db,
		     full ? "PRAGMA synchronous = FULL"
			  : "PRAGMA synchronous = NORMAL",
		     NULL, NULL, NULL);
	/* The same checkpoint interval as the store's. */
	snprintf(patch, sizeof(patch), "PRAGMA wal_autocheckpoint = %d",
		 SC_STORE_WAL_PAGES);
	sqlite3_exec(db, patch, NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db, BARE_INSERT, -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) !=
		SQLITE_OK ||
	    sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) != SQLITE_OK)
		die("prepare", sqlite3_errmsg(db));
	while ((t = now_s()) < end) {
		int len = snprintf(patch, sizeof(patch), PATCH_FMT, n);

		if (sqlite3_step(begin) != SQLITE_DONE)
			die("begin", sqlite3_errmsg(db));
		sqlite3_reset(begin);
		sqlite3_bind_int64(ins, 1, n + 1);
		sqlite3_bind_int64(ins, 2, (sqlite3_int64)(t * 1000));
		sqlite3_bind_text(ins, 3, patch, len, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			die("insert", sqlite3_errmsg(db));
		sqlite3_reset(ins);
		if (sqlite3_step(commit) != SQLITE_DONE)
			die("commit", sqlite3_errmsg(db));
		sqlite3_reset(commit);
		n++;
	}
	stats.n = n;
	stats.wall = now_s() - start;
	stats.cpu = cpu_s() - cpu0;
	sqlite3_finalize(ins);
	sqlite3_finalize(begin);
	sqlite3_finalize(commit);
	sqlite3_close(db);
	return n;
}

static void bare_init(const char *path)
{
	sqlite3 *db;

	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode = WAL; " BARE_TABLE, NULL,
			 NULL, NULL) != SQLITE_OK)
		die(path, sqlite3_errmsg(db));
	sqlite3_close(db);
}

typedef struct ours_arg {
	long n;
} ours_arg;

static sc_err small_patch(sc_store_txn *txn, void *arg, sc_error *err)
{
	return bench_replace(txn, "/n", ((ours_arg *)arg)->n, err);
}

/* A connection to path; sh: the process's shared object, or NULL for
 * the connection's own. */
static sc_store *open_store(const char *path, int full, sc_store_shared *sh)
{
	sc_store_options o;
	sc_store *s = NULL;
	sc_error err;

	memset(&o, 0, sizeof(o));
	o.path = path;
	o.sync_full = full;
	o.shared = sh;
	if (sc_store_open(&o, &s, &err) != SC_OK)
		die(path, err.message);
	return s;
}

static long ours_loop(const char *path, int full)
{
	sc_store *s = open_store(path, full, NULL);
	sc_store_result res;
	sc_error err;
	ours_arg a = {0};
	double start = now_s(), cpu0 = cpu_s(), end = start + slice;

	while (now_s() < end) {
		if (sc_store_change(s, topic, "tick", NULL, small_patch, &a,
				    &res, &err) != SC_OK)
			die("change", err.message);
		sc_store_result_free(&res);
		a.n++;
	}
	stats.n = a.n;
	stats.wall = now_s() - start;
	stats.cpu = cpu_s() - cpu0;
	sc_store_close(s);
	return a.n;
}

/*
 * Several threads of one process, each with its own connection, all
 * changing the one topic: with one sc_store_shared (as the FastCGI app
 * opens its workers' connections: their changes share commits), or
 * each with a shared object of its own (each change commits alone,
 * serialized by SQLite's write lock).
 */
static int nthreads = 8;
static int use_shared = 1;

typedef struct thread_arg {
	const char *path;
	int full;
	sc_store *s;
	pthread_barrier_t *go;
	double end;
	long n;
} thread_arg;

static void *thread_loop(void *arg)
{
	thread_arg *t = arg;
	sc_store_result res;
	sc_error err;
	ours_arg a = {0};

	pthread_barrier_wait(t->go);
	while (now_s() < t->end) {
		if (sc_store_change(t->s, topic, "tick", NULL, small_patch, &a,
				    &res, &err) != SC_OK)
			die("change", err.message);
		sc_store_result_free(&res);
		a.n++;
	}
	t->n = a.n;
	return NULL;
}

static long ours_threads(const char *path, int full)
{
	thread_arg t[64];
	pthread_t th[64];
	pthread_barrier_t go;
	sc_store_shared *sh = NULL;
	sc_error err;
	double start, cpu0;
	int i;

	if (nthreads > 64)
		die("threads", "at most 64");
	if (use_shared && sc_store_shared_new(0, &sh, &err) != SC_OK)
		die("shared", err.message);
	pthread_barrier_init(&go, NULL, (unsigned)nthreads + 1);
	for (i = 0; i < nthreads; i++) {
		t[i].s = open_store(path, full, sh);
		t[i].go = &go;
		t[i].n = 0;
	}
	start = now_s();
	cpu0 = cpu_s();
	for (i = 0; i < nthreads; i++) {
		t[i].end = start + slice;
		if (pthread_create(&th[i], NULL, thread_loop, &t[i]) != 0)
			die("pthread_create", "failed");
	}
	pthread_barrier_wait(&go);
	stats.n = 0;
	for (i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		stats.n += t[i].n;
	}
	stats.wall = now_s() - start;
	stats.cpu = cpu_s() - cpu0;
	for (i = 0; i < nthreads; i++)
		sc_store_close(t[i].s);
	pthread_barrier_destroy(&go);
	sc_store_shared_free(sh);
	return stats.n;
}

static void ours_init(const char *path, int full)
{
	char wake[600];
	sc_store *s;
	sc_error err;
	json_object *init = NULL;
	const char *text = "{\"n\":0,\"title\":\"bench\",\"items\":[1,2,3]}";

	unlink(path);
	snprintf(wake, sizeof(wake), "%s-wake", path);
	unlink(wake);
	s = open_store(path, full, NULL);
	sc_json_parse(text, strlen(text), &init, NULL);
	if (sc_store_create(s, "bench", init, &err) != SC_OK)
		die("create", err.message);
	json_object_put(init);
	sc_store_close(s);
}

/* Runs fn in nproc processes at once for one slice; adds the commits
 * and the time taken to *count and *time. */
/* Runs fn in nproc processes at once for one slice; adds up the
 * commits, the longest loop's wall time and the CPU time of all. */
static void run_slice(long (*fn)(const char *, int), const char *path, int full,
		      int nproc, loop_stats *sum)
{
	loop_stats one, all = {0, 0, 0};
	int p[2], i;

	if (pipe(p) != 0)
		die("pipe", "failed");
	for (i = 0; i < nproc; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			close(p[0]);
			fn(path, full);
			if (write(p[1], &stats, sizeof(stats)) != sizeof(stats))
				_exit(1);
			_exit(0);
		}
	}
	close(p[1]);
	while (read(p[0], &one, sizeof(one)) == sizeof(one)) {
		all.n += one.n;
		all.cpu += one.cpu;
		if (one.wall > all.wall)
			all.wall = one.wall;
	}
	close(p[0]);
	while (wait(NULL) > 0)
		;
	sum->n += all.n;
	sum->wall += all.wall;
	sum->cpu += all.cpu;
}

static long bare_fn(const char *path, int full)
{
	return bare_loop(path, full);
}

/* Runs ours_threads for one slice with n threads, shared or not. */
static void threads_slice(const char *path, int full, int n, int sh,
			  loop_stats *sum)
{
	nthreads = n;
	use_shared = sh;
	run_slice(ours_threads, path, full, 1, sum);
}

static void commits(int full)
{
	char bare[512], ours[512];
	loop_stats b[3], o[3], t8 = {0, 0, 0}, g32 = {0, 0, 0},
			       s32 = {0, 0, 0};
	const char *sync = full ? "FULL" : "NORMAL";
	int nproc, r;

	memset(b, 0, sizeof(b));
	memset(o, 0, sizeof(o));
	snprintf(bare, sizeof(bare), "%s/bare-%d.db", dir, full);
	snprintf(ours, sizeof(ours), "%s/ours-%d.db", dir, full);
	bare_init(bare);
	ours_init(ours, full);
	slice = seconds / ROUNDS;
	for (r = 0; r < ROUNDS; r++) {
		for (nproc = 1; nproc <= 2; nproc++) {
			run_slice(bare_fn, bare, full, nproc, &b[nproc]);
			run_slice(ours_loop, ours, full, nproc, &o[nproc]);
		}
		threads_slice(ours, full, 8, 1, &t8);
		threads_slice(ours, full, 32, 1, &g32);
		threads_slice(ours, full, 32, 0, &s32);
	}
	for (nproc = 1; nproc <= 2; nproc++) {
		double ro = o[nproc].n / o[nproc].wall;
		double rb = b[nproc].n / b[nproc].wall;
		double co = o[nproc].cpu / o[nproc].n * 1e6;
		double cb = b[nproc].cpu / b[nproc].n * 1e6;

		printf("synchronous=%-6s %d process%s: ours %7.0f/s  bare "
		       "SQLite %7.0f/s  ours/bare %.2f   CPU per commit: ours "
		       "%.1f us, bare %.1f us (bare/ours %.2f)\n",
		       sync, nproc, nproc > 1 ? "es" : "  ", ro, rb, ro / rb,
		       co, cb, cb / co);
	}
	printf("synchronous=%-6s 8 threads, one sc_store_shared: %7.0f "
	       "events/s ÷ bare SQLite 1 process %7.0f/s = %.2f (goal >= "
	       "1.0)   CPU per event %.1f us (bare per commit ÷ ours per "
	       "event %.2f)\n",
	       sync, t8.n / t8.wall, b[1].n / b[1].wall,
	       (t8.n / t8.wall) / (b[1].n / b[1].wall), t8.cpu / t8.n * 1e6,
	       (b[1].cpu / b[1].n) / (t8.cpu / t8.n));
	printf("synchronous=%-6s 32 threads on one topic: group commit (one "
	       "sc_store_shared) %7.0f events/s ÷ one commit per event (a "
	       "shared object each) %7.0f/s = %.2f%s\n",
	       sync, g32.n / g32.wall, s32.n / s32.wall,
	       (g32.n / g32.wall) / (s32.n / s32.wall),
	       full ? " (goal >= 5)" : "");
	fflush(stdout);
}

/* One-op patches to a state of `rows` rows: the parsed state is kept
 * per connection, so only the serialization grows with the state. */
static void large_state(int rows)
{
	char path[512];
	sc_store *s;
	sc_error err;
	json_object *st = json_object_new_object(), *arr;
	loop_stats sum = {0, 0, 0};
	size_t len = 0;
	int i;

	snprintf(path, sizeof(path), "%s/large.db", dir);
	ours_init(path, 0);
	arr = json_object_new_array();
	for (i = 0; i < rows; i++) {
		json_object *row = json_object_new_object();

		json_object_object_add(row, "id", json_object_new_int(i));
		json_object_object_add(
		    row, "label", json_object_new_string("pretty red table"));
		json_object_array_add(arr, row);
	}
	json_object_object_add(st, "rows", arr);
	json_object_object_add(st, "n", json_object_new_int(0));
	if (sc_text_size(st, &len) != SC_OK)
		die("size", "too deep");
	s = open_store(path, 0, NULL);
	if (sc_store_create(s, "large", st, &err) != SC_OK)
		die("create", err.message);
	sc_store_close(s);
	json_object_put(st);
	topic = "large";
	slice = seconds / 2;
	run_slice(ours_loop, path, 0, 1, &sum);
	topic = "bench";
	printf("synchronous=NORMAL 1 process, one-op patch to a %d-row state "
	       "(%zu bytes): %.0f/s\n",
	       rows, len, sum.n / sum.wall);
}

typedef struct shared {
	volatile int64_t t_start; /* writer: before the commit call */
	volatile int64_t t_end;	  /* writer: after it returned */
	volatile int64_t version; /* of that commit */
	volatile int stop;
	volatile int ready;
	int64_t from_start[WAKE_SAMPLES];
	int64_t from_end[WAKE_SAMPLES];
	volatile int n;
} shared;

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void watcher(shared *sh, const char *path)
{
	sc_store *s = open_store(path, 0, NULL);
	uint64_t tok = sc_store_wake_token(s);

	sh->ready = 1;
	while (!sh->stop && sh->n < WAKE_SAMPLES) {
		if (sc_store_wait(s, &tok, 1000) != 1)
			continue;
		int64_t t1 = now_ns();
		/* The writer publishes t_start before it commits and
		 * t_end after; wait for t_end so both are of one commit. */
		while (sh->t_end < sh->t_start && !sh->stop)
			;
		sh->from_start[sh->n] = t1 - sh->t_start;
		sh->from_end[sh->n] = t1 - sh->t_end;
		sh->n++;
	}
	sc_store_close(s);
}

static void wake_latency(void)
{
	char path[512];
	shared *sh = mmap(NULL, sizeof(shared), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	sc_store *s;
	sc_store_result res;
	sc_error err;
	ours_arg a = {0};
	pid_t pid;
	int i, n;

	if (sh == MAP_FAILED)
		die("mmap", "failed");
	memset(sh, 0, sizeof(*sh));
	snprintf(path, sizeof(path), "%s/wake.db", dir);
	ours_init(path, 0);
	pid = fork();
	if (pid == 0) {
		watcher(sh, path);
		_exit(0);
	}
	s = open_store(path, 0, NULL);
	while (!sh->ready)
		usleep(1000);
	usleep(20000);
	for (i = 0; i < WAKE_SAMPLES / 2; i++) {
		sh->t_start = now_ns();
		if (sc_store_change(s, "bench", "tick", NULL, small_patch, &a,
				    &res, &err) != SC_OK)
			die("change", err.message);
		sh->t_end = now_ns();
		sc_store_result_free(&res);
		a.n++;
		usleep(1000 + (useconds_t)(rand() % 2000));
	}
	sh->stop = 1;
	waitpid(pid, NULL, 0);
	sc_store_close(s);
	n = sh->n;
	if (n == 0)
		die("wake", "no wake-up seen");
	qsort(sh->from_start, (size_t)n, sizeof(int64_t), cmp64);
	qsort(sh->from_end, (size_t)n, sizeof(int64_t), cmp64);
	printf("wake across processes (%d commits, %d wake-ups): from commit "
	       "start p50 %.3f ms p99 %.3f ms; from commit return p50 %.3f ms "
	       "p99 %.3f ms\n",
	       WAKE_SAMPLES / 2, n, sh->from_start[n / 2] / 1e6,
	       sh->from_start[n * 99 / 100] / 1e6, sh->from_end[n / 2] / 1e6,
	       sh->from_end[n * 99 / 100] / 1e6);
	munmap(sh, sizeof(*sh));
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: store_bench DIR [SECONDS]\n");
		return 2;
	}
	dir = argv[1];
	if (argc > 2)
		seconds = atof(argv[2]);
	printf("store: commits per second of a one-op patch to one topic, WAL, "
	       "%.1f s per figure in %d slices alternating with bare SQLite\n",
	       seconds, ROUNDS);
	printf("bare SQLite: BEGIN IMMEDIATE; INSERT of a log row with the "
	       "same patch text into a\ntable of the log's shape without its "
	       "index; COMMIT: 1 page a commit.  Ours\nwrites 3: the topic "
	       "row, the log row, its (topic, seq) index.\n");
	commits(0);
	commits(1);
	large_state(1000);
	wake_latency();
	return 0;
}
