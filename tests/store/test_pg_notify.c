/*
 * tests/store/test_pg_notify.c — the wake-up of the PostgreSQL backend:
 * NOTIFY on the channel 'statechannel', sent inside the write
 * transaction (schema_pg.sql), against libpq directly:
 *
 *  - it reaches a listener only when the transaction commits, never
 *    before, and never for a transaction that rolls back;
 *  - notifications arrive in commit order, one per transaction and
 *    payload (a repeated payload is folded), at every listening session
 *    (each host's hub is one);
 *  - a listener in another process, blocked in poll() on its socket, is
 *    woken by each of a series of commits and sees every payload (the
 *    seq) in order; the delay from the commit to the wake is printed
 *    (bench/store_pg.sh measures it).
 *
 * Needs $SC_TEST_PG (tests/support_pg.h).
 */
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "tests/support_pg.h"

#define WAKES 200

static int setup(void **state)
{
	(void)state;
	PQfinish(pgt_setup_schema("notify"));
	return 0;
}

static PGconn *listener(void)
{
	PGconn *c = pgt_connect();

	pgt_exec(c, "LISTEN statechannel");
	return c;
}

/* The notifications c has received so far, without waiting: a round trip
 * first, so that everything sent before it has arrived.  NULL or a
 * PGnotify to free with PQfreemem. */
static PGnotify *pending(PGconn *c)
{
	pgt_exec(c, "SELECT 1");
	return PQnotifies(c);
}

/* Waits in poll() on c's socket for the next notification (failing
 * after 60 s: a guard against a hang, not a measure). */
static PGnotify *next_notify(PGconn *c)
{
	struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
	PGnotify *n;

	while ((n = PQnotifies(c)) == NULL) {
		int r = poll(&pfd, 1, 60000);

		if (r == 0)
			fail_msg("no notification within 60 s");
		assert_int_equal(r, 1);
		assert_int_equal(PQconsumeInput(c), 1);
	}
	return n;
}

/* The next notification must carry payload (from backend pid, if > 0). */
static void expect_notify(PGconn *c, const char *payload, int pid)
{
	PGnotify *n = next_notify(c);

	assert_string_equal(n->relname, "statechannel");
	assert_string_equal(n->extra, payload);
	if (pid > 0)
		assert_int_equal(n->be_pid, pid);
	PQfreemem(n);
}

static void no_more(PGconn *c)
{
	PGnotify *n = pending(c);

	if (n != NULL)
		fail_msg("unexpected notification '%s'", n->extra);
}

static void delivered_at_commit_only(void **state)
{
	PGconn *l = listener(), *w = pgt_connect();

	(void)state;
	pgt_exec(w, "BEGIN; SELECT pg_notify('statechannel', '1')");
	no_more(l); /* sent, not committed: nothing */
	pgt_exec(w, "COMMIT");
	expect_notify(l, "1", PQbackendPID(w));
	no_more(l);

	pgt_exec(w, "BEGIN; SELECT pg_notify('statechannel', '2'); ROLLBACK");
	pgt_exec(w, "BEGIN; SELECT pg_notify('statechannel', '3'); COMMIT");
	expect_notify(l, "3", PQbackendPID(w)); /* 2 never arrives */
	no_more(l);
	PQfinish(w);
	PQfinish(l);
}

static void commit_order_folded_every_listener(void **state)
{
	PGconn *l1 = listener(), *l2 = listener();
	PGconn *w1 = pgt_connect(), *w2 = pgt_connect();

	(void)state;
	pgt_exec(w1, "BEGIN; SELECT pg_notify('statechannel', '10'); "
		     "SELECT pg_notify('statechannel', '10')");
	pgt_exec(w2, "BEGIN; SELECT pg_notify('statechannel', '11')");
	pgt_exec(w2, "COMMIT");
	pgt_exec(w1, "COMMIT");
	/* Commit order (w2 first), w1's repeated payload once, at both. */
	expect_notify(l1, "11", PQbackendPID(w2));
	expect_notify(l1, "10", PQbackendPID(w1));
	no_more(l1);
	expect_notify(l2, "11", PQbackendPID(w2));
	expect_notify(l2, "10", PQbackendPID(w1));
	no_more(l2);
	PQfinish(w1);
	PQfinish(w2);
	PQfinish(l1);
	PQfinish(l2);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Shared between the committing parent and the listening child. */
typedef struct wakes {
	volatile int ready;	/* the child listens */
	int64_t start[WAKES];	/* parent: before commit i */
	int64_t end[WAKES];	/* parent: after commit i returned */
	int64_t woke[WAKES];	/* child: when payload i arrived */
	int64_t payload[WAKES]; /* child: the payloads, in order */
	int n;			/* child: how many arrived */
} wakes;

/* The child: listens, blocks in poll(), records each payload and when it
 * arrived until it has WAKES of them.  Exit 0, or 1 on an error. */
static void listen_child(wakes *w)
{
	PGconn *c = pgt_open();
	PGresult *r;
	struct pollfd pfd;
	PGnotify *n;

	if (c == NULL)
		_exit(1);
	r = PQexec(c, "LISTEN statechannel");
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		_exit(1);
	PQclear(r);
	pfd.fd = PQsocket(c);
	pfd.events = POLLIN;
	w->ready = 1;
	while (w->n < WAKES) {
		if (poll(&pfd, 1, 60000) != 1 || !PQconsumeInput(c))
			_exit(1);
		while ((n = PQnotifies(c)) != NULL && w->n < WAKES) {
			w->woke[w->n] = now_ns();
			w->payload[w->n] = strtoll(n->extra, NULL, 10);
			w->n++;
			PQfreemem(n);
		}
		if (n != NULL)
			PQfreemem(n);
	}
	PQfinish(c);
	_exit(0);
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* A listener in another process, blocked in poll(), against WAKES
 * commits of a write like the store's (log row + NOTIFY of its seq). */
static void a_blocked_listener_wakes_per_commit(void **state)
{
	wakes *w = mmap(NULL, sizeof(wakes), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	PGconn *c;
	int64_t from_start[WAKES], from_end[WAKES];
	pid_t pid;
	int i, st;

	(void)state;
	assert_true(w != MAP_FAILED);
	memset(w, 0, sizeof(*w));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		listen_child(w);
	c = pgt_connect();
	while (!w->ready)
		usleep(1000);
	for (i = 1; i <= WAKES; i++) {
		char sql[512];

		snprintf(
		    sql, sizeof(sql),
		    "BEGIN; INSERT INTO log (seq, topic, version, time_ms, "
		    "patch) VALUES (%d, 'x', %d, 0, '[]'); "
		    "SELECT pg_notify('statechannel', '%d'); COMMIT",
		    i, i, i);
		w->start[i - 1] = now_ns();
		pgt_exec(c, sql);
		w->end[i - 1] = now_ns();
		usleep(1000 + (useconds_t)(rand() % 2000));
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(w->n, WAKES);
	for (i = 0; i < WAKES; i++) {
		assert_int_equal(w->payload[i], i + 1);
		from_start[i] = w->woke[i] - w->start[i];
		from_end[i] = w->woke[i] - w->end[i];
	}
	qsort(from_start, WAKES, sizeof(int64_t), cmp64);
	qsort(from_end, WAKES, sizeof(int64_t), cmp64);
	printf("NOTIFY wake of a listener in another process, %d commits: "
	       "from commit start p50 %.3f ms p99 %.3f ms; from commit "
	       "return p50 %.3f ms p99 %.3f ms\n",
	       WAKES, from_start[WAKES / 2] / 1e6,
	       from_start[WAKES * 99 / 100] / 1e6, from_end[WAKES / 2] / 1e6,
	       from_end[WAKES * 99 / 100] / 1e6);
	PQfinish(c);
	munmap(w, sizeof(*w));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(delivered_at_commit_only),
	    cmocka_unit_test(commit_order_folded_every_listener),
	    cmocka_unit_test(a_blocked_listener_wakes_per_commit),
	};

	return cmocka_run_group_tests(tests, setup, pgt_teardown);
}
