/*
 * tests/support_pg.h — what the C tests that need PostgreSQL share: a
 * fresh database per test program on the server of the run, connecting,
 * running SQL that must succeed, and applying schema_pg.sql.
 * Header-only, like tests/support.h.
 *
 * The server: $SC_TEST_PG, the URI of a server where the tests may
 * create databases.  scripts/run-tests.sh (make check) starts one with
 * scripts/pg-test.sh for the run; by hand:
 *   scripts/pg-test.sh run --fast build/tests/store/test_pg_seqorder
 * Databases are made and dropped by scripts/pg-test.sh ($SC_PG_SCRIPT,
 * else scripts/pg-test.sh from the current directory), schema_pg.sql is
 * read from the current directory: run the tests from the top of the
 * tree, as make does.
 */
#ifndef SC_TESTS_SUPPORT_PG_H
#define SC_TESTS_SUPPORT_PG_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#define SUPPORT_PG_UNUSED __attribute__((unused))

/* Runs pg-test.sh CMD "$SC_TEST_PG" NAME; its first line of output into
 * out (cap bytes) when out is not NULL.  Fails the test on an error. */
static inline void pgt_script(const char *cmd, const char *name, char *out,
			      size_t cap)
{
	const char *script = getenv("SC_PG_SCRIPT");
	char line[1024];
	FILE *p;
	size_t n;

	if (getenv("SC_TEST_PG") == NULL)
		fail_msg("SC_TEST_PG is not set: run the test under "
			 "scripts/pg-test.sh run --fast PROGRAM (make check "
			 "does)");
	if (script == NULL)
		script = "scripts/pg-test.sh";
	snprintf(line, sizeof(line), "'%s' %s \"$SC_TEST_PG\" '%s'", script,
		 cmd, name);
	p = popen(line, "r");
	assert_non_null(p);
	line[0] = '\0';
	if (fgets(line, sizeof(line), p) == NULL)
		line[0] = '\0';
	if (pclose(p) != 0)
		fail_msg("%s %s %s failed", script, cmd, name);
	n = strcspn(line, "\n");
	line[n] = '\0';
	if (out != NULL) {
		assert_true(n > 0 && n < cap);
		memcpy(out, line, n + 1);
	}
}

/* The database of this test program: its name and URI. */
static char pgt_db[64] SUPPORT_PG_UNUSED;
static char pgt_uri[1024] SUPPORT_PG_UNUSED;

/* Creates the database t_NAME_PID (dropped first if it exists) on the
 * server of $SC_TEST_PG and sets pgt_db and pgt_uri: a cmocka group setup
 * calls it.  NAME: lower-case letters, digits and '_'. */
static inline void pgt_newdb(const char *name)
{
	snprintf(pgt_db, sizeof(pgt_db), "t_%s_%ld", name, (long)getpid());
	pgt_script("newdb", pgt_db, pgt_uri, sizeof(pgt_uri));
}

/* Drops the database of pgt_newdb (its sessions too). */
static inline void pgt_dropdb(void)
{
	if (pgt_db[0] != '\0')
		pgt_script("dropdb", pgt_db, NULL, 0);
}

/* A new connection to pgt_uri, or NULL with a message on stderr; usable
 * in child processes (no cmocka).  A lock wait longer than a minute is
 * an error, so that a test that failed holding a lock fails the tests
 * after it instead of hanging them. */
static inline PGconn *pgt_open(void)
{
	const char *keys[] = {"dbname", "options", NULL};
	const char *values[] = {pgt_uri, "-c lock_timeout=60s", NULL};
	PGconn *c = PQconnectdbParams(keys, values, 1);

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "connect %s: %s", pgt_uri, PQerrorMessage(c));
		PQfinish(c);
		c = NULL;
	}
	return c;
}

/* pgt_open that fails the test when it does not open. */
static inline PGconn *pgt_connect(void)
{
	PGconn *c = pgt_open();

	if (c == NULL)
		fail_msg("no connection to %s", pgt_uri);
	return c;
}

/* Runs sql (one statement or several) that must succeed; returns the
 * result of the last, which the caller clears with PQclear. */
static inline PGresult *pgt_query(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	return r;
}

/* Runs sql that must succeed, dropping its result. */
static inline void pgt_exec(PGconn *c, const char *sql)
{
	PQclear(pgt_query(c, sql));
}

/* The first column of the one row sql returns, as an integer. */
static inline int64_t pgt_int(PGconn *c, const char *sql)
{
	PGresult *r = pgt_query(c, sql);
	int64_t v;

	if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0))
		fail_msg("%s: %d rows, want one value", sql, PQntuples(r));
	v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

/* Applies schema_pg.sql (from the current directory) on c, as one
 * multi-statement query: one transaction. */
static inline void pgt_load_schema(PGconn *c)
{
	FILE *f = fopen("schema_pg.sql", "rb");
	static char text[65536];
	size_t n;

	if (f == NULL)
		fail_msg("no schema_pg.sql here: run from the top of the tree");
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	assert_true(n > 0 && n < sizeof(text) - 1);
	text[n] = '\0';
	pgt_exec(c, text);
}

/* A cmocka group setup's work: the database of this test program
 * (pgt_newdb) with schema_pg.sql applied; returns a connection to it,
 * which the caller closes with PQfinish. */
static inline PGconn *pgt_setup_schema(const char *name)
{
	PGconn *c;

	pgt_newdb(name);
	c = pgt_connect();
	pgt_load_schema(c);
	return c;
}

/* A cmocka group teardown: drops the database of pgt_newdb. */
static inline int pgt_teardown(void **state)
{
	(void)state;
	pgt_dropdb();
	return 0;
}

#endif
