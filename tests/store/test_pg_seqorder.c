/*
 * tests/store/test_pg_seqorder.c — proof that the seq scheme of
 * schema_pg.sql gives "commit order is seq order" on PostgreSQL, written
 * against libpq directly (the SQL the store's PostgreSQL backend runs),
 * so that it can later be ported onto the store's API:
 *
 *  - a SEQUENCE does not: a follower that reads "seq > last" misses a row
 *    that commits after a higher seq (the counter-example, step by step);
 *  - the counter row does: a second writer's seq waits for the first
 *    writer's commit, and a writer that rolls back leaves no gap (step by
 *    step, with the wait seen in pg_stat_activity);
 *  - many writers in several processes, on a few topics, some rolling
 *    back, while a follower polls "seq > last" (woken by LISTEN/NOTIFY,
 *    with a short poll as the safety net): it sees every committed seq
 *    exactly once and in order, each topic's versions one by one.
 *
 * Needs $SC_TEST_PG (tests/support_pg.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "tests/support_pg.h"

#define WRITERS	    6
#define PER_WRITER  250
#define TOPICS	    3
#define ROLLBACK_1N 8 /* one transaction in 8 rolls back */

/* The SQL of one write, as the store runs it (one event a transaction):
 * the topic's row locked and its version advanced, then the seq taken
 * from the counter row as late as possible, the log row, the wake. */
static const char *const sql_topic =
    "UPDATE topics SET version = version + 1, updated_ms = $2 "
    "WHERE name = $1 RETURNING version";
static const char *const sql_seq =
    "UPDATE meta SET value = (value::bigint + 1)::text "
    "WHERE key = 'seq' RETURNING value::bigint";
static const char *const sql_log =
    "INSERT INTO log (seq, topic, version, time_ms, event, patch) "
    "VALUES ($1, $2, $3, $4, 'tick', $5)";
static const char *const sql_wake = "SELECT pg_notify('statechannel', $1)";

static int setup(void **state)
{
	PGconn *c = pgt_setup_schema("seqorder");
	char sql[256];
	int t;

	(void)state;
	for (t = 0; t < TOPICS; t++) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO topics (name, created_ms, updated_ms, "
			 "snapshot) VALUES ('t%d', 0, 0, '{}')",
			 t);
		pgt_exec(c, sql);
	}
	PQfinish(c);
	return 0;
}

/* Runs sql with params (text) on c; returns the first value of its one
 * row (0 for a command), or -1 with a message on stderr: usable in the
 * writer processes, which must not fail through cmocka. */
static int64_t run(PGconn *c, const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	int64_t v = 0;

	if (st == PGRES_TUPLES_OK && PQntuples(r) == 1)
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
		v = -1;
	}
	PQclear(r);
	return v;
}

/* Inserts the log row of seq for topic at version, in c's transaction. */
static int64_t insert_log(PGconn *c, int64_t seq, const char *topic,
			  int64_t version)
{
	char s[24], v[24], patch[96];
	const char *p[5] = {s, topic, v, "0", patch};

	snprintf(s, sizeof(s), "%" PRId64, seq);
	snprintf(v, sizeof(v), "%" PRId64, version);
	snprintf(patch, sizeof(patch),
		 "[{\"op\":\"replace\",\"path\":\"/n\",\"value\":%" PRId64 "}]",
		 version);
	return run(c, sql_log, 5, p);
}

/* The seqs of the log rows above after, in order, into out (cap); their
 * number. */
static int read_after(PGconn *c, int64_t after, int64_t *out, int cap)
{
	char a[24];
	const char *p[1] = {a};
	PGresult *r;
	int i, n;

	snprintf(a, sizeof(a), "%" PRId64, after);
	r = PQexecParams(c, "SELECT seq FROM log WHERE seq > $1 ORDER BY seq",
			 1, NULL, p, NULL, NULL, 0);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	n = PQntuples(r);
	assert_true(n <= cap);
	for (i = 0; i < n; i++)
		out[i] = strtoll(PQgetvalue(r, i, 0), NULL, 10);
	PQclear(r);
	return n;
}

/* Waits until the backend of `waiter` waits for a lock (seen from c). */
static void wait_for_lock_wait(PGconn *c, PGconn *waiter)
{
	char sql[160];
	int i;

	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM pg_stat_activity WHERE pid = %d AND "
		 "wait_event_type = 'Lock'",
		 PQbackendPID(waiter));
	for (i = 0; i < 10000; i++) {
		if (pgt_int(c, sql) == 1)
			return;
		usleep(1000);
	}
	fail_msg("the second writer never waited for the counter row");
}

/* Runs the SQL of fmt with one integer that must succeed. */
static void exec_fmt(PGconn *c, const char *fmt, int64_t v)
{
	char sql[160];

	snprintf(sql, sizeof(sql), fmt, v);
	pgt_exec(c, sql);
}

/* The counter-example: with a SEQUENCE, seq 1 commits after seq 2, and a
 * follower that read seq 2 never reads seq 1. */
static void a_sequence_loses_rows(void **state)
{
	PGconn *a = pgt_connect(), *b = pgt_connect(), *f = pgt_connect();
	int64_t sa, sb, cursor;

	(void)state;
	pgt_exec(f, "CREATE SEQUENCE naive_seq; "
		    "CREATE TABLE naive_log (seq bigint PRIMARY KEY)");
	pgt_exec(a, "BEGIN");
	sa = pgt_int(a, "SELECT nextval('naive_seq')");
	pgt_exec(b, "BEGIN");
	sb = pgt_int(b, "SELECT nextval('naive_seq')");
	assert_true(sa < sb);
	exec_fmt(b, "INSERT INTO naive_log VALUES (%" PRId64 ")", sb);
	pgt_exec(b, "COMMIT"); /* nothing made b wait for a */
	/* The follower reads what has committed, sb, and moves past it. */
	assert_int_equal(pgt_int(f, "SELECT count(*) FROM naive_log"), 1);
	cursor = pgt_int(f, "SELECT max(seq) FROM naive_log");
	assert_int_equal(cursor, sb);
	exec_fmt(a, "INSERT INTO naive_log VALUES (%" PRId64 ")", sa);
	pgt_exec(a, "COMMIT");
	/* sa is below the cursor: "seq > cursor" never shows it. */
	exec_fmt(f,
		 "CREATE TEMP TABLE after_cursor AS SELECT seq FROM "
		 "naive_log WHERE seq > %" PRId64,
		 cursor);
	assert_int_equal(pgt_int(f, "SELECT count(*) FROM after_cursor"), 0);
	assert_int_equal(pgt_int(f, "SELECT count(*) FROM naive_log"), 2);
	pgt_exec(f, "DROP TABLE after_cursor, naive_log; DROP SEQUENCE "
		    "naive_seq");
	PQfinish(a);
	PQfinish(b);
	PQfinish(f);
}

/* Starts the seq UPDATE on b without waiting for it. */
static void send_take_seq(PGconn *b)
{
	assert_int_equal(PQsendQuery(b, sql_seq), 1);
}

/* The result of the seq UPDATE sent by send_take_seq. */
static int64_t finish_take_seq(PGconn *b)
{
	PGresult *r = PQgetResult(b);
	int64_t v;

	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	assert_null(PQgetResult(b));
	return v;
}

/* The counter row, step by step: b's seq waits for a's commit, so a's
 * row is visible before b's; a writer that rolls back leaves no gap. */
static void counter_row_orders_commits(void **state)
{
	PGconn *a = pgt_connect(), *b = pgt_connect(), *f = pgt_connect();
	int64_t base, sa, sb, seen[4];

	(void)state;
	base = pgt_int(f, "SELECT value::bigint FROM meta WHERE key = 'seq'");
	pgt_exec(a, "BEGIN");
	sa = pgt_int(a, sql_seq);
	assert_int_equal(sa, base + 1);
	pgt_exec(b, "BEGIN");
	send_take_seq(b);
	wait_for_lock_wait(f, b);
	assert_int_equal(PQconsumeInput(b), 1);
	assert_int_equal(PQisBusy(b), 1); /* still waiting for a */
	assert_int_equal(insert_log(a, sa, "t0", 1000), 0);
	pgt_exec(a, "COMMIT");
	sb = finish_take_seq(b);
	assert_int_equal(sb, sa + 1);
	/* Between the commits the follower sees sa, and only sa. */
	assert_int_equal(read_after(f, base, seen, 4), 1);
	assert_int_equal(seen[0], sa);
	assert_int_equal(insert_log(b, sb, "t0", 1001), 0);
	pgt_exec(b, "COMMIT");
	assert_int_equal(read_after(f, sa, seen, 4), 1);
	assert_int_equal(seen[0], sb);

	/* A rolls back after taking a seq: b gets that seq, no gap. */
	pgt_exec(a, "BEGIN");
	assert_int_equal(pgt_int(a, sql_seq), sb + 1);
	pgt_exec(b, "BEGIN");
	send_take_seq(b);
	wait_for_lock_wait(f, b);
	pgt_exec(a, "ROLLBACK");
	assert_int_equal(finish_take_seq(b), sb + 1);
	assert_int_equal(insert_log(b, sb + 1, "t0", 1002), 0);
	pgt_exec(b, "COMMIT");
	assert_int_equal(read_after(f, sb, seen, 4), 1);
	assert_int_equal(seen[0], sb + 1);
	/* Leave the log as the stress test expects it: empty, counter 0. */
	pgt_exec(f, "DELETE FROM log; UPDATE meta SET value = '0' WHERE key = "
		    "'seq'");
	PQfinish(a);
	PQfinish(b);
	PQfinish(f);
}

/* One writer process: n transactions on random topics of TOPICS, one in
 * ROLLBACK_1N rolled back after taking its seq, short random pauses while
 * holding the locks (to widen every race); writes the number committed
 * to fd.  Exit 0, or 1 with a message on stderr. */
static void writer(int id, int n, int fd)
{
	PGconn *c = pgt_open();
	long committed = 0;
	int i;

	srand((unsigned)(id * 7919 + getpid()));
	if (c == NULL)
		_exit(1);
	for (i = 0; i < n; i++) {
		char topic[8], seqs[24];
		const char *p[2] = {topic, "1"};
		int64_t version, seq;

		snprintf(topic, sizeof(topic), "t%d", rand() % TOPICS);
		if (run(c, "BEGIN", 0, NULL) < 0 ||
		    (version = run(c, sql_topic, 2, p)) <= 0)
			_exit(1);
		if (rand() % 4 == 0)
			usleep((useconds_t)(rand() % 300));
		if ((seq = run(c, sql_seq, 0, NULL)) <= 0)
			_exit(1);
		if (rand() % 4 == 0)
			usleep((useconds_t)(rand() % 300));
		snprintf(seqs, sizeof(seqs), "%" PRId64, seq);
		p[0] = seqs;
		if (insert_log(c, seq, topic, version) < 0 ||
		    run(c, sql_wake, 1, p) < 0)
			_exit(1);
		if (i % ROLLBACK_1N == ROLLBACK_1N - 1) {
			if (run(c, "ROLLBACK", 0, NULL) < 0)
				_exit(1);
			continue;
		}
		if (run(c, "COMMIT", 0, NULL) < 0)
			_exit(1);
		committed++;
	}
	PQfinish(c);
	if (write(fd, &committed, sizeof(committed)) != sizeof(committed))
		_exit(1);
	_exit(0);
}

/* What the follower has seen. */
typedef struct follower {
	int64_t last;		 /* highest seq read */
	int64_t version[TOPICS]; /* each topic's last version read */
	long rows, reads, wakes; /* rows read, reads with rows, NOTIFYs */
	char error[256];	 /* the first violation */
} follower;

/* Reads the rows above f->last, checking each seq is last + 1 and each
 * topic's version its last + 1; 0, or -1 with f->error set. */
static int follow(PGconn *c, follower *f)
{
	char a[24];
	const char *p[1] = {a};
	PGresult *r;
	int i, n, rc = 0;

	snprintf(a, sizeof(a), "%" PRId64, f->last);
	r = PQexecParams(c,
			 "SELECT seq, topic, version FROM log WHERE seq > $1 "
			 "ORDER BY seq",
			 1, NULL, p, NULL, NULL, 0);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	n = PQntuples(r);
	for (i = 0; i < n && rc == 0; i++) {
		int64_t seq = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		int t = atoi(PQgetvalue(r, i, 1) + 1);
		int64_t v = strtoll(PQgetvalue(r, i, 2), NULL, 10);

		if (seq != f->last + 1) {
			snprintf(f->error, sizeof(f->error),
				 "after seq %" PRId64 " read seq %" PRId64,
				 f->last, seq);
			rc = -1;
		} else if (t < 0 || t >= TOPICS || v != f->version[t] + 1) {
			snprintf(f->error, sizeof(f->error),
				 "seq %" PRId64 ": topic %s version %" PRId64
				 " after %" PRId64,
				 seq, PQgetvalue(r, i, 1), v,
				 t >= 0 && t < TOPICS ? f->version[t] : -1);
			rc = -1;
		} else {
			f->last = seq;
			f->version[t] = v;
			f->rows++;
		}
	}
	if (n > 0)
		f->reads++;
	PQclear(r);
	return rc;
}

/* Waits up to ms for a NOTIFY on c; counts them into f->wakes. */
static void wait_wake(PGconn *c, follower *f, int ms)
{
	struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
	PGnotify *n;

	if (poll(&pfd, 1, ms) > 0)
		assert_int_equal(PQconsumeInput(c), 1);
	while ((n = PQnotifies(c)) != NULL) {
		f->wakes++;
		PQfreemem(n);
	}
}

static void writers_and_a_follower(void **state)
{
	PGconn *c = pgt_connect();
	pid_t pids[WRITERS];
	int p[2], i, left = WRITERS, failed = 0;
	long committed = 0, one;
	follower f;

	(void)state;
	memset(&f, 0, sizeof(f));
	pgt_exec(c, "UPDATE topics SET version = 0");
	pgt_exec(c, "LISTEN statechannel");
	assert_int_equal(pipe(p), 0);
	for (i = 0; i < WRITERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(p[0]);
			writer(i, PER_WRITER, p[1]);
		}
	}
	close(p[1]);
	while (left > 0 && f.error[0] == '\0') {
		int st;

		if (follow(c, &f) != 0)
			break;
		wait_wake(c, &f, 20);
		for (i = 0; i < WRITERS; i++)
			if (pids[i] > 0 &&
			    waitpid(pids[i], &st, WNOHANG) == pids[i]) {
				pids[i] = 0;
				left--;
				if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
					failed++;
			}
	}
	if (f.error[0] != '\0') {
		for (i = 0; i < WRITERS; i++)
			if (pids[i] > 0) {
				kill(pids[i], SIGKILL);
				waitpid(pids[i], NULL, 0);
			}
		fail_msg("the follower: %s", f.error);
	}
	while (read(p[0], &one, sizeof(one)) == sizeof(one))
		committed += one;
	close(p[0]);
	assert_int_equal(failed, 0);
	/* Every writer has ended: one more read sees the rest. */
	if (follow(c, &f) != 0)
		fail_msg("the follower: %s", f.error);
	printf("%ld commits by %d processes (%d rolled back), follower: %ld "
	       "rows in %ld reads, %ld wakes\n",
	       committed, WRITERS, WRITERS * PER_WRITER - (int)committed,
	       f.rows, f.reads, f.wakes);
	assert_int_equal(committed,
			 WRITERS * (PER_WRITER - PER_WRITER / ROLLBACK_1N));
	assert_int_equal(f.rows, committed);
	assert_int_equal(f.last, committed);
	assert_int_equal(pgt_int(c, "SELECT count(*) FROM log"), committed);
	assert_int_equal(
	    pgt_int(c, "SELECT value::bigint FROM meta WHERE key = 'seq'"),
	    committed);
	/* Each topic's versions: 1..version, one log row each. */
	assert_int_equal(
	    pgt_int(c, "SELECT count(*) FROM topics t WHERE version <> "
		       "(SELECT count(*) FROM log WHERE topic = t.name)"),
	    0);
	PQfinish(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_sequence_loses_rows),
	    cmocka_unit_test(counter_row_orders_commits),
	    cmocka_unit_test(writers_and_a_follower),
	};

	return cmocka_run_group_tests(tests, setup, pgt_teardown);
}
