/*
 * bench/store_first.c — the first read of a large topic after a process
 * start, beside the time to parse its snapshot once.
 *
 *   store_first DIR [ROUNDS]
 *	Makes DIR/first.db with one topic of ROWS js-framework-benchmark
 *	rows (~4 MB of JSON) and prints, as medians of ROUNDS:
 *	  parse   sc_json_parse of the snapshot's text (json-c), once;
 *	  first   in a new process: sc_store_shared_new + sc_store_open,
 *		  then the first sc_store_get of the topic (timed alone and
 *		  with the open), the second get for comparison;
 *	first with the snapshot alone (no patches after it), then after
 *	PATCHES one-op changes ("replace /selected") logged after it, and
 *	the ratios first ÷ parse (goal <= 2, issue 8).
 *   store_first parse DB TOPIC [ROUNDS]
 *	Prints the median time to parse TOPIC's snapshot in DB (ms), for
 *	bench/fcgi_size.sh to divide its first GET /state by.
 *
 * Prints figures; asserts nothing.
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "json/value.h"
#include "store/store.h"

#include "bench/bench_patch.h"

#define ROWS	100000
#define PATCHES 1000
#define TOPIC	"jsfb:100k"
#define MAXR	32

static double clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "store_first: %s: %s\n", what, msg);
	exit(1);
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmpd);
	return v[n / 2];
}

static sc_store *open_store(const char *path, sc_store_shared *sh)
{
	sc_store_options o;
	sc_store *s = NULL;
	sc_error err;

	memset(&o, 0, sizeof(o));
	o.path = path;
	o.shared = sh;
	if (sc_store_open(&o, &s, &err) != SC_OK)
		die(path, err.message);
	return s;
}

/* The state of examples/jsbench after its rows are made: rows of
 * {"id", "label"}, "selected", "next_id". */
static json_object *jsfb_state(int rows)
{
	static const char *const labels[] = {
	    "pretty red table",	   "large blue chair",	 "elegant green pony",
	    "cheap purple burger", "quaint white mouse", "fancy orange desk"};
	json_object *st = json_object_new_object(), *arr;
	int i;

	arr = json_object_new_array_ext(rows);
	for (i = 0; i < rows; i++) {
		json_object *row = json_object_new_object();

		json_object_object_add(row, "id", json_object_new_int(i + 1));
		json_object_object_add(
		    row, "label", json_object_new_string(labels[i % 6]));
		json_object_array_add(arr, row);
	}
	json_object_object_add(st, "rows", arr);
	json_object_object_add(st, "selected", NULL);
	json_object_object_add(st, "next_id", json_object_new_int(rows + 1));
	return st;
}

/* The snapshot text of topic in db (malloc'd), read with plain SQL. */
static char *snapshot_text(const char *path, const char *topic, size_t *len)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *text = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
		SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT state FROM snapshots WHERE topic = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		die(path, sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, topic, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		die(topic, "no snapshot");
	*len = (size_t)sqlite3_column_bytes(st, 0);
	text = malloc(*len + 1);
	if (text == NULL)
		die("malloc", "out of memory");
	memcpy(text, sqlite3_column_text(st, 0), *len + 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return text;
}

/* The median time (ms) to parse topic's snapshot in db once. */
static double parse_ms(const char *path, const char *topic, int rounds,
		       size_t *len)
{
	char *text = snapshot_text(path, topic, len);
	double t[MAXR];
	int i;

	for (i = 0; i < rounds; i++) {
		json_object *o = NULL;
		double t0 = now_ms();

		if (sc_json_parse(text, *len, &o, NULL) != SC_OK)
			die(topic, "the snapshot does not parse");
		t[i] = now_ms() - t0;
		json_object_put(o);
	}
	free(text);
	return median(t, rounds);
}

/* What one new process measured (ms). */
typedef struct first {
	double parse;		     /* one parse of the snapshot */
	double open, get, get_cpu, get2; /* the first get, the second */
	size_t len;
} first;

/*
 * Runs fn(path, &f) in a new process (fork) and returns the f it filled:
 * each first read starts from a process of its own, as after a start.
 */
static first in_child(void (*fn)(const char *, first *), const char *path)
{
	first f;
	int p[2];
	pid_t pid;

	memset(&f, 0, sizeof(f));
	if (pipe(p) != 0)
		die("pipe", "failed");
	pid = fork();
	if (pid == 0) {
		fn(path, &f);
		if (write(p[1], &f, sizeof(f)) != sizeof(f))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &f, sizeof(f)) != sizeof(f))
		die("child", "no figures");
	close(p[0]);
	waitpid(pid, NULL, 0);
	return f;
}

/* One parse of the snapshot (the text is read before the clock starts). */
static void parse_once(const char *path, first *f)
{
	f->parse = parse_ms(path, TOPIC, 1, &f->len);
}

/* Open, the first get, a second get. */
static void first_get(const char *path, first *f)
{
	sc_store_shared *sh = NULL;
	sc_store_state st;
	sc_store *s;
	sc_error err;
	double t0 = now_ms(), t1, t2, c1;

	if (sc_store_shared_new(0, &sh, &err) != SC_OK)
		die("shared", err.message);
	s = open_store(path, sh);
	t1 = now_ms();
	c1 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
	if (sc_store_get(s, TOPIC, &st, &err) != SC_OK)
		die("get", err.message);
	t2 = now_ms();
	f->open = t1 - t0;
	f->get = t2 - t1;
	f->get_cpu = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c1;
	f->len = st.state_len;
	sc_store_state_free(&st);
	t1 = now_ms();
	if (sc_store_get(s, TOPIC, &st, &err) != SC_OK)
		die("get", err.message);
	f->get2 = now_ms() - t1;
	sc_store_state_free(&st);
	sc_store_close(s);
	sc_store_shared_free(sh);
}

static sc_err select_fn(sc_store_txn *txn, void *arg, sc_error *err)
{
	return bench_replace(txn, "/selected", *(long *)arg, err);
}

/*
 * Prints the first-read figures of the database as it is now: in each
 * round a new process parses the snapshot once, then another reads the
 * topic first; the ratio is taken per round (median [min-max]).
 */
static void report(const char *path, const char *what, int rounds)
{
	double open[MAXR], get[MAXR], cpu[MAXR], get2[MAXR], parse[MAXR],
	    r[MAXR];
	first f;
	double mr;
	int i;

	memset(&f, 0, sizeof(f));
	for (i = 0; i < rounds; i++) {
		parse[i] = in_child(parse_once, path).parse;
		f = in_child(first_get, path);
		open[i] = f.open;
		get[i] = f.get;
		cpu[i] = f.get_cpu;
		get2[i] = f.get2;
		r[i] = f.get / parse[i];
	}
	mr = median(r, rounds); /* sorts r */
	printf("%-25s %zu bytes: parse once %6.1f ms | first get %7.1f ms (its CPU "
	       "%6.1f ms; open %4.1f ms) | second get %6.1f ms | first get ÷ "
	       "parse %.2f [%.2f-%.2f] (goal <= 2)\n",
	       what, f.len, median(parse, rounds), median(get, rounds),
	       median(cpu, rounds), median(open, rounds), median(get2, rounds),
	       mr, r[0], r[rounds - 1]);
}

static void run(const char *dir, int rounds)
{
	char path[512], wake[600];
	sc_store *s;
	sc_store_result res;
	sc_error err;
	json_object *st;
	long i;

	snprintf(path, sizeof(path), "%s/first.db", dir);
	snprintf(wake, sizeof(wake), "%s-wake", path);
	unlink(path);
	unlink(wake);
	s = open_store(path, NULL);
	st = jsfb_state(ROWS);
	if (sc_store_create(s, TOPIC, st, &err) != SC_OK)
		die("create", err.message);
	json_object_put(st);
	sc_store_close(s);

	printf("store_first: a topic of %d jsfb rows (~4 MB); medians of %d "
	       "rounds, each a new process that parses the snapshot once "
	       "(sc_json_parse) and then a new one that serves the first "
	       "sc_store_get\n",
	       ROWS, rounds);
	{
		size_t len = 0;
		double warm = parse_ms(path, TOPIC, rounds, &len);

		printf("(for comparison: the same parse in this process, its "
		       "heap warm, median of %d: %.1f ms)\n",
		       rounds, warm);
	}
	report(path, "snapshot alone:", rounds);
	s = open_store(path, NULL);
	for (i = 0; i < PATCHES; i++) {
		if (sc_store_change(s, TOPIC, "select", NULL, select_fn, &i,
				    &res, &err) != SC_OK)
			die("change", err.message);
		sc_store_result_free(&res);
	}
	sc_store_close(s);
	report(path, "snapshot + 1000 patches:", rounds);
	unlink(path);
	unlink(wake);
}

int main(int argc, char **argv)
{
	int rounds;

	if (argc >= 4 && strcmp(argv[1], "parse") == 0) {
		size_t len = 0;

		rounds = argc > 4 ? atoi(argv[4]) : 5;
		if (rounds < 1 || rounds > MAXR)
			rounds = 5;
		printf("%.1f\n", parse_ms(argv[2], argv[3], rounds, &len));
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: store_first DIR [ROUNDS]\n"
				"       store_first parse DB TOPIC [ROUNDS]\n");
		return 2;
	}
	rounds = argc > 2 ? atoi(argv[2]) : 5;
	if (rounds < 1 || rounds > MAXR)
		rounds = 5;
	run(argv[1], rounds);
	return 0;
}
