/*
 * tests/store/test_store_proc.c — the store across processes: four
 * writers at once (no gap, no duplicate, no busy error, state == replay
 * of the log), writers killed with SIGKILL mid-loop (the database
 * opens, state == replay, every acknowledged commit is there), and the
 * wake of a waiting process by another's commit (delay printed), and a
 * waiter killed inside its wait leaving no mark that makes writers call
 * FUTEX_WAKE for nobody.
 * The writers are $SC_BUILD/tests/store/helper_writer.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "json/patch.h"
#include "json/value.h"
#include "store/store.h"
#include "tests/support.h"

static char helper[512];
static const char *initial = "{\"n\":0,\"items\":[]}";

/* Starts helper_writer with its standard output on a pipe. */
static pid_t spawn_threads(const char *db, long count, long id, long gap_ms,
			   long threads, int *out_fd)
{
	char c[32], i[32], g[32], th[32];
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	snprintf(c, sizeof(c), "%ld", count);
	snprintf(i, sizeof(i), "%ld", id);
	snprintf(g, sizeof(g), "%ld", gap_ms);
	snprintf(th, sizeof(th), "%ld", threads);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl(helper, helper, db, "t", c, i, g, th, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*out_fd = p[0];
	return pid;
}

static pid_t spawn(const char *db, long count, long id, long gap_ms,
		   int *out_fd)
{
	return spawn_threads(db, count, id, gap_ms, 1, out_fd);
}

typedef struct replay {
	json_object *doc;
	int64_t next_version;
	int64_t last_seq;
	int bad;
} replay;

static int replay_entry(const sc_store_entry *e, void *arg)
{
	replay *r = arg;
	json_object *patch = NULL;
	sc_error err;

	if (e->version != r->next_version || e->seq <= r->last_seq ||
	    sc_json_parse(e->patch, e->patch_len, &patch, &err) != SC_OK ||
	    sc_patch_apply(&r->doc, patch, &err) != SC_OK) {
		r->bad = 1;
		json_object_put(patch);
		return 1;
	}
	json_object_put(patch);
	r->next_version++;
	r->last_seq = e->seq;
	return 0;
}

/* Checks that the state of t is the initial state with its log
 * replayed, versions 1..version without gap; returns the version.  The
 * state and the log are two reads: a PostgreSQL server may still be
 * finishing the transaction of a writer it has not yet seen die (its
 * statements and COMMIT already in the server's buffer) between them,
 * so a log ahead of the state is read again, for up to 5 s. */
static int64_t check_replay(sc_store *s)
{
	sc_store_state st;
	sc_error err;
	replay r;
	json_object *state;
	const char *t[1] = {"t"};
	int tries;

	for (tries = 0;; tries++) {
		memset(&r, 0, sizeof(r));
		r.doc = J(initial);
		r.next_version = 1;
		assert_int_equal(sc_store_get(s, "t", &st, &err), SC_OK);
		assert_int_equal(sc_store_log(s, t, 1, 0, 0, replay_entry, &r,
					      NULL, &err),
				 SC_OK);
		assert_false(r.bad);
		if (r.next_version - 1 <= st.version || tries == 250)
			break;
		json_object_put(r.doc);
		sc_store_state_free(&st);
		usleep(20 * 1000);
	}
	assert_int_equal(r.next_version - 1, st.version);
	state = J(st.state);
	assert_true(sc_json_equal(state, r.doc));
	json_object_put(state);
	json_object_put(r.doc);
	sc_store_state_free(&st);
	return r.next_version - 1;
}

static void make_db(const char *path)
{
	sc_store *s = open_db(path);
	sc_error err;
	json_object *init = J(initial);

	assert_int_equal(sc_store_create(s, "t", init, &err), SC_OK);
	json_object_put(init);
	sc_store_close(s);
}

/* Reads what is left on fd; returns the highest version acknowledged. */
static int64_t drain(int fd, int64_t *versions, size_t *n, size_t cap)
{
	char buf[65536], *p, *line;
	size_t len = 0;
	ssize_t r;
	int64_t max = 0;

	while ((r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0 ||
	       (r < 0 && errno == EINTR))
		if (r > 0) {
			len += (size_t)r;
			if (len >= sizeof(buf) - 1) {
				/* keep whole lines only */
				break;
			}
		}
	buf[len] = '\0';
	for (line = buf; (p = strchr(line, '\n')) != NULL; line = p + 1) {
		int64_t v = strtoll(line, NULL, 10);

		if (versions != NULL && *n < cap)
			versions[(*n)++] = v;
		if (v > max)
			max = v;
	}
	return max;
}

static void test_concurrent_writers(void **state)
{
	char db[4200];
	pid_t pids[4];
	int fds[4], i, status;
	static int64_t versions[2100];
	size_t nv = 0;
	sc_store *s;
	sc_store_state st;
	sc_error err;
	json_object *doc, *n, *items;
	char *seen;

	(void)state;
	test_db(db, sizeof(db), "conc");
	make_db(db);
	for (i = 0; i < 4; i++)
		pids[i] = spawn(db, 500, i + 1, 0, &fds[i]);
	for (i = 0; i < 4; i++) {
		/* 500 lines of at most ~30 bytes fit the pipe; drain after
		 * exit would deadlock otherwise, so read first. */
		drain(fds[i], versions, &nv, 2100);
		close(fds[i]);
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(nv, 2000);
	seen = calloc(2001, 1);
	for (i = 0; i < 2000; i++) {
		assert_true(versions[i] >= 1 && versions[i] <= 2000);
		assert_false(seen[versions[i]]);
		seen[versions[i]] = 1;
	}
	free(seen);
	s = open_db(db);
	assert_int_equal(check_replay(s), 2000);
	assert_int_equal(sc_store_get(s, "t", &st, &err), SC_OK);
	doc = J(st.state);
	assert_true(json_object_object_get_ex(doc, "n", &n));
	assert_int_equal(json_object_get_int64(n), 2000);
	assert_true(json_object_object_get_ex(doc, "items", &items));
	assert_int_equal(json_object_array_length(items), 2000);
	json_object_put(doc);
	sc_store_state_free(&st);
	sc_store_close(s);
}

/*
 * SIGKILLs of a writer process in the middle of its commits (threads
 * writers in it, sharing group commits when more than one): the
 * database always opens, its state is its log replayed, and every
 * acknowledged commit is there.
 */
static void crash_rounds(const char *name, long threads)
{
	char db[4200];
	int round, fd, status;
	int64_t acked = 0, v;
	sc_store *s;
	struct timespec ts;

	test_db(db, sizeof(db), name);
	make_db(db);
	srand(42);
	for (round = 0; round < 20; round++) {
		pid_t pid = spawn_threads(db, 1000000, round, 0, threads, &fd);
		char buf[4096];
		ssize_t r;
		int64_t t_end;

		struct pollfd pfd = {.fd = fd, .events = POLLIN};

		/* Once the writer is up (its first acknowledgement is there:
		 * a sanitizer build, a PostgreSQL connection or a loaded
		 * machine make the start slow), 20..80 ms more, then kill. */
		assert_int_equal(poll(&pfd, 1, 60000), 1);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		t_end =
		    ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 20 + rand() % 60;
		for (;;) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			if (ts.tv_sec * 1000 + ts.tv_nsec / 1000000 >= t_end)
				break;
			usleep(2000);
			(void)r;
			(void)buf;
		}
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		v = drain(fd, NULL, NULL, 0);
		close(fd);
		if (v > acked)
			acked = v;
		/* The database opens, the state is its log replayed, and
		 * every acknowledged commit is in it. */
		s = open_db(db);
		v = check_replay(s);
		assert_true(v >= acked);
		acked = v;
		sc_store_close(s);
	}
	print_message("crash (%ld threads): 20 kills, %" PRId64
		      " commits survive\n",
		      threads, acked);
	assert_true(acked > 0);
}

static void test_crash(void **state)
{
	(void)state;
	crash_rounds("crash", 1);
}

static void test_crash_group(void **state)
{
	(void)state;
	crash_rounds("crash8", 8);
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* After a wake-up at t1 that showed version target, reads the writer's
 * lines up to it and returns t1 minus the start of the first commit not
 * seen before (what woke the reader, or an earlier one: the version read
 * after the wake-up may already be a later commit's). */
static int64_t delay_to(FILE *in, int64_t t1, int64_t target)
{
	char buf[64];
	int64_t version = -1, t0 = 0, first = -1;

	while (version < target && fgets(buf, sizeof(buf), in) != NULL) {
		if (sscanf(buf, "%" SCNd64 " %" SCNd64, &version, &t0) != 2)
			break;
		if (first < 0)
			first = t0;
	}
	assert_int_equal(version, target);
	return t1 - first;
}

static void test_wake_across_processes(void **state)
{
	char db[4200];
	int fd, status, got = 0;
	pid_t pid;
	sc_store *s;
	sc_store_state st;
	sc_error err;
	uint64_t tok;
	int64_t delays[40], last = 0;
	FILE *in;

	(void)state;
	test_db(db, sizeof(db), "wake");
	make_db(db);
	s = open_db(db);
	tok = sc_store_wake_token(s);
	pid = spawn(db, 30, 1, 15, &fd);
	in = fdopen(fd, "r");
	for (;;) {
		struct timespec t1;

		if (sc_store_wait(s, &tok, 2000) != 1)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		/* The slow poll may also end a wait for a commit whose wake-up
		 * was already seen: nothing new then. */
		assert_int_equal(sc_store_get(s, "t", &st, &err), SC_OK);
		if (st.version <= last) {
			sc_store_state_free(&st);
			continue;
		}
		/* The wake-up came from the first commit not seen yet (a
		 * later one may have committed before the read). */
		delays[got++] = delay_to(
		    in, (int64_t)t1.tv_sec * 1000000000 + t1.tv_nsec, last + 1);
		last = st.version;
		if (st.version == 30 || got == 40) {
			sc_store_state_free(&st);
			break;
		}
		sc_store_state_free(&st);
	}
	fclose(in);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(got >= 15);
	qsort(delays, (size_t)got, sizeof(delays[0]), cmp64);
	print_message("wake across processes, %d wake-ups (commit start to "
		      "wake-up): p50 %.3f ms, max %.3f ms\n",
		      got, delays[got / 2] / 1e6, delays[got - 1] / 1e6);
	/* Every wake-up followed a commit.  How fast is the benchmark's
	 * to say (bench/store.sh): a timed bound here fails on a loaded
	 * machine (p50 22 ms on PostgreSQL at load 15), not on a bug. */
	assert_true(delays[0] > 0);
	sc_store_close(s);
}

/* The shared "someone may be waiting until" time of the wake file
 * (CLOCK_MONOTONIC ms at byte 8, store/wake.c), minus now. */
static int64_t wait_mark_ahead(const char *db)
{
	char path[160];
	int64_t until = 0;
	struct timespec ts;
	FILE *f;

	snprintf(path, sizeof(path), "%s-wake", db);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 8, SEEK_SET), 0);
	assert_int_equal(fread(&until, sizeof(until), 1, f), 1);
	fclose(f);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return until - ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void test_killed_waiter(void **state)
{
	char db[4200];
	int status, i;
	pid_t pid;

	(void)state;
	test_db(db, sizeof(db), "killed");
	make_db(db);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sc_store *s = open_db(db);
		uint64_t tok = sc_store_wake_token(s);

		for (;;)
			sc_store_wait(s, &tok, -1);
	}
	/* The waiter marks itself (bounded: it starts within seconds). */
	for (i = 0; i < 500 && wait_mark_ahead(db) <= 0; i++)
		usleep(10000);
	assert_true(wait_mark_ahead(db) > 0);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* Its mark runs out by itself: writers stop calling FUTEX_WAKE. */
	for (i = 0; i < 500 && wait_mark_ahead(db) >= 0; i++)
		usleep(10000);
	assert_true(wait_mark_ahead(db) < 0);
}

/* What a follower saw: the next seq it expects, and whether one came
 * out of order. */
typedef struct follow {
	int64_t next;
	int64_t rows;
	int bad;
} follow;

static int follow_entry(const sc_store_entry *e, void *arg)
{
	follow *f = arg;

	if (e->seq != f->next) {
		if (!f->bad)
			print_message("seq %" PRId64 ", expected %" PRId64 "\n",
				      e->seq, f->next);
		f->bad = 1;
		return 1;
	}
	f->next++;
	f->rows++;
	return 0;
}

/*
 * Commit order is seq order: writer processes (several threads each,
 * so group commits too) on several topics, and a follower that reads
 * the log after the last seq it saw, woken by the store's wake-up as a
 * stream's hub is: it sees every seq exactly once and in order (seqs
 * have no gaps: a row that became visible late, with a seq the follower
 * had passed, would be missed and show as a gap).
 */
static void test_seq_order(void **state)
{
	enum { PROCS = 4, THREADS = 4, COUNT = 150 };
	char db[4200], topic[16], c[16], i[16], th[16];
	pid_t pids[PROCS];
	int status, k, running = PROCS;
	follow f = {.next = 1, .rows = 0, .bad = 0};
	int64_t last = 0;
	sc_store *s, *w;
	sc_error err;
	uint64_t tok;

	(void)state;
	test_db(db, sizeof(db), "order");
	w = open_db(db);
	for (k = 0; k < PROCS; k++) {
		json_object *init = J(initial);

		snprintf(topic, sizeof(topic), "t%d", k);
		assert_int_equal(sc_store_create(w, topic, init, &err), SC_OK);
		json_object_put(init);
	}
	sc_store_close(w);
	s = open_db(db);
	tok = sc_store_wake_token(s);
	for (k = 0; k < PROCS; k++) {
		snprintf(topic, sizeof(topic), "t%d", k);
		snprintf(c, sizeof(c), "%d", COUNT);
		snprintf(i, sizeof(i), "%d", k + 1);
		snprintf(th, sizeof(th), "%d", THREADS);
		pids[k] = fork();
		assert_true(pids[k] >= 0);
		if (pids[k] == 0) {
			int null = open("/dev/null", O_WRONLY);

			dup2(null, 1);
			execl(helper, helper, db, topic, c, i, "0", th,
			      (char *)NULL);
			_exit(127);
		}
	}
	while (!f.bad) {
		assert_int_equal(sc_store_log(s, NULL, 0, f.next - 1, 0,
					      follow_entry, &f, &last, &err),
				 SC_OK);
		if (running == 0)
			break;
		sc_store_wait(s, &tok, 100);
		for (k = 0; k < PROCS; k++)
			if (pids[k] > 0 && waitpid(pids[k], &status, WNOHANG) ==
					       pids[k]) {
				assert_true(WIFEXITED(status));
				assert_int_equal(WEXITSTATUS(status), 0);
				pids[k] = 0;
				running--;
			}
	}
	assert_false(f.bad);
	assert_int_equal(f.rows, PROCS * THREADS * COUNT);
	assert_int_equal(last, f.next - 1);
	print_message("seq order: %" PRId64 " rows from %d processes, each "
		      "seen once in order\n",
		      f.rows, PROCS);
	sc_store_close(s);
}

static int setup(void **state)
{
	(void)state;
	if (build_program(helper, sizeof(helper),
			  "tests/store/helper_writer") != 0)
		return -1;
	return scratch_setup("proc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_concurrent_writers),
	    cmocka_unit_test(test_seq_order),
	    cmocka_unit_test(test_crash),
	    cmocka_unit_test(test_crash_group),
	    cmocka_unit_test(test_wake_across_processes),
	};
	/* The wake file's mark (SQLite's futex wake-up). */
	const struct CMUnitTest sqlite_only[] = {
	    cmocka_unit_test(test_killed_waiter),
	};
	int failed = cmocka_run_group_tests(tests, setup, scratch_teardown);

	if (!test_on_pg())
		failed += cmocka_run_group_tests(sqlite_only, setup,
						 scratch_teardown);
	return failed;
}
