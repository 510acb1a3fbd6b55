/*
 * tests/support.h — what the C test programs share: parsing test JSON,
 * opening a store, a scratch directory, finding a program of the build, and
 * running statechannel with its output captured.  Header-only (each
 * tests/DIR/test_*.c is a program of its own): every function is static
 * inline and every variable marked unused, so a test takes what it needs.
 */
#ifndef SC_TESTS_SUPPORT_H
#define SC_TESTS_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "common/buf.h"
#include "json/text.h"
#include "json/value.h"
#include "store/store.h"

#define SUPPORT_UNUSED __attribute__((unused))

/*
 * The compact text of o (NULL is null) as json-c prints it
 * (JSON_C_TO_STRING_PLAIN | NOSLASHESCAPE; borrowed from o, valid until
 * o is printed again or freed), after checking that our own serializer
 * (json/text.h) writes it byte for byte and counts its size: every
 * document a test prints is a case of that.  *len gets its length when
 * len is not NULL.
 */
static inline const char *T(json_object *o, size_t *len)
{
	sc_buf b = {0};
	size_t n = 4, size = 0;
	const char *want = "null";

	if (o != NULL)
		want = json_object_to_json_string_length(
		    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &n);
	assert_non_null(want);
	assert_int_equal(sc_text_write(&b, o), SC_OK);
	if (b.len != n || memcmp(b.p, want, n) != 0 || b.p[n] != '\0')
		fail_msg("our text %s, json-c's %s", b.p, want);
	if (sc_text_size(o, &size) == SC_OK)
		assert_int_equal(size, n);
	sc_buf_free(&b);
	if (len != NULL)
		*len = n;
	return want;
}

/* Parses text that must be valid JSON; returns a new reference. */
static inline json_object *J(const char *text)
{
	json_object *o = NULL;
	sc_error err;

	sc_error_clear(&err);
	if (sc_json_parse(text, strlen(text), &o, &err) != SC_OK)
		fail_msg("test JSON %s: %s", text, err.message);
	return o;
}

/* sc_store_open of the store at path with these options (the others 0):
 * its result, *s the store or NULL. */
static inline sc_err store_open(const char *path, long keep_versions,
				long keep_seconds, int readonly, sc_store **s,
				sc_error *err)
{
	sc_store_options o;

	memset(&o, 0, sizeof(o));
	o.path = path;
	o.keep_versions = keep_versions;
	o.keep_seconds = keep_seconds;
	o.readonly = readonly;
	*s = NULL;
	return sc_store_open(&o, s, err);
}

/* Opens the store at path with these options; it must open. */
static inline sc_store *open_opt(const char *path, long keep_versions,
				 long keep_seconds, int readonly)
{
	sc_store *s;
	sc_error err;

	if (store_open(path, keep_versions, keep_seconds, readonly, &s, &err) !=
	    SC_OK)
		fail_msg("open %s: %s", path, err.message);
	return s;
}

/* Opens the store at path with the default options; it must open. */
static inline sc_store *open_db(const char *path)
{
	return open_opt(path, 0, 0, 0);
}

/* The test program's scratch directory, /tmp/sc-NAME-XXXXXX. */
static char scratch_dir[64] SUPPORT_UNUSED;

/* Makes scratch_dir; 0, or -1. */
static inline int scratch_setup(const char *name)
{
	snprintf(scratch_dir, sizeof(scratch_dir), "/tmp/sc-%s-XXXXXX", name);
	return mkdtemp(scratch_dir) != NULL ? 0 : -1;
}

/* Removes scratch_dir and all it holds: a cmocka group teardown. */
static inline int scratch_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Returns scratch_dir/name, in a static buffer (two, used in turn). */
static inline const char *scratch_path(const char *name)
{
	static char p[2][4200];
	static int which;

	which = !which;
	snprintf(p[which], sizeof(p[which]), "%s/%s", scratch_dir, name);
	return p[which];
}

/* Writes text to the file scratch_dir/name. */
static inline void scratch_write(const char *name, const char *text)
{
	FILE *f = fopen(scratch_path(name), "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* Reads the file scratch_dir/name into buf (cap bytes, NUL-terminated). */
static inline void scratch_read(const char *name, char *buf, size_t cap)
{
	FILE *f = fopen(scratch_path(name), "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/*
 * The backend the store's tests run on: $SC_TEST_DB names a PostgreSQL
 * server (a libpq URI: `make check` gives the one scripts/pg-test.sh
 * starts), else they use SQLite files in scratch_dir.  The same tests
 * run on both; the few about SQLite's files only on SQLite.
 */
static inline int test_on_pg(void)
{
	const char *u = getenv("SC_TEST_DB");

	return u != NULL && sc_store_is_pg(u);
}

static inline void pg_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Runs sql on the PostgreSQL database uri (outside a transaction);
 * 0, or -1 with a message. */
static inline int pg_run(const char *uri, const char *sql)
{
	PGconn *c = PQconnectdb(uri);
	PGresult *r;
	int ok;

	PQsetNoticeProcessor(c, pg_quiet, NULL);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "connect: %s", PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	r = PQexec(c, sql);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	     PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return ok ? 0 : -1;
}

/*
 * A fresh database for name (letters, digits, _) into buf (cap bytes),
 * returned: scratch_dir/NAME.db on SQLite; on PostgreSQL a new database
 * sc_NAME_PID on the server of $SC_TEST_DB, its URI.
 */
static inline const char *test_db(char *buf, size_t cap, const char *name)
{
	const char *u = getenv("SC_TEST_DB");
	const char *p, *q;
	char db[96], sql[256];

	if (!test_on_pg()) {
		snprintf(buf, cap, "%s/%s.db", scratch_dir, name);
		return buf;
	}
	snprintf(db, sizeof(db), "sc_%s_%d", name, (int)getpid());
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
		 db);
	if (pg_run(u, sql) != 0)
		fail_msg("drop database %s", db);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
	if (pg_run(u, sql) != 0)
		fail_msg("create database %s", db);
	/* scheme://authority/DBNAME?params: DBNAME replaced. */
	p = strstr(u, "://") + 3;
	p += strcspn(p, "/?");
	q = p + strcspn(p, "?");
	snprintf(buf, cap, "%.*s/%s%s", (int)(p - u), u, db, q);
	return buf;
}

/* Runs sql on the database path (SQLite file or PostgreSQL URI), outside
 * the store; 0, or -1. */
static inline int db_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	int ok;

	if (sc_store_is_pg(path))
		return pg_run(path, sql);
	if (sqlite3_open(path, &db) != SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	ok = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
	sqlite3_close(db);
	return ok ? 0 : -1;
}

/* The integer the one-value query sql gives on the database path
 * (-1 on failure). */
static inline long long db_value(const char *path, const char *sql)
{
	long long v = -1;

	if (sc_store_is_pg(path)) {
		PGconn *c = PQconnectdb(path);
		PGresult *r = PQexec(c, sql);

		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
			v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		PQfinish(c);
	} else {
		sqlite3 *db;
		sqlite3_stmt *st = NULL;

		if (sqlite3_open(path, &db) == SQLITE_OK &&
		    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	return v;
}

/* Runs the application's sql inside a change (sc_store_txn_db or
 * sc_store_txn_pg, whichever the backend has); 0, or -1. */
static inline int app_exec(sc_store_txn *txn, const char *sql)
{
	sqlite3 *db = sc_store_txn_db(txn);
	PGresult *r;
	int ok;

	if (db != NULL)
		return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0
									   : -1;
	r = PQexec(sc_store_txn_pg(txn), sql);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	     PQresultStatus(r) == PGRES_TUPLES_OK;
	PQclear(r);
	return ok ? 0 : -1;
}

/* $SC_BUILD/rel (SC_BUILD defaulting to "build") into buf (cap bytes);
 * 0 when it is an executable, else -1 with a message. */
static inline int build_program(char *buf, size_t cap, const char *rel)
{
	const char *b = getenv("SC_BUILD");

	snprintf(buf, cap, "%s/%s", b != NULL && b[0] != '\0' ? b : "build",
		 rel);
	if (access(buf, X_OK) != 0) {
		fprintf(stderr, "no executable %s (set SC_BUILD)\n", buf);
		return -1;
	}
	return 0;
}

/* The statechannel binary that cli_run() starts, and the database it
 * names with --db (none when empty). */
static char cli_bin[4096] SUPPORT_UNUSED;
static char cli_db[4200] SUPPORT_UNUSED;

/* Finds cli_bin and makes scratch_dir /tmp/sc-NAME-XXXXXX; 0, or -1. */
static inline int cli_setup(const char *name)
{
	if (build_program(cli_bin, sizeof(cli_bin), "statechannel") != 0)
		return -1;
	return scratch_setup(name);
}

/* What one run of statechannel gave. */
struct cli_result {
	int status; /* exit code, or -1 when killed */
	char out[65536];
	char err[65536];
};

/* Runs statechannel (with --db cli_db when set) with args
 * (NULL-terminated), stdin from the text input (NULL: empty), and
 * collects the results into r. */
static inline void cli_run(struct cli_result *r, const char *input, ...)
{
	static char args[20]
			[4200]; /* copies: scratch_path() reuses its buffers */
	const char *argv[20], *a;
	va_list ap;
	int n = 0, st;
	pid_t pid;

	argv[n++] = cli_bin;
	if (cli_db[0] != '\0') {
		argv[n++] = "--db";
		argv[n++] = cli_db;
	}
	va_start(ap, input);
	while (n < 19 && (a = va_arg(ap, const char *)) != NULL) {
		snprintf(args[n], sizeof(args[n]), "%s", a);
		argv[n] = args[n];
		n++;
	}
	va_end(ap);
	argv[n] = NULL;
	scratch_write("stdin", input != NULL ? input : "");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (freopen(scratch_path("stdin"), "rb", stdin) == NULL ||
		    freopen(scratch_path("stdout"), "wb", stdout) == NULL ||
		    freopen(scratch_path("stderr"), "wb", stderr) == NULL)
			_exit(127);
		execv(cli_bin, (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	scratch_read("stdout", r->out, sizeof(r->out));
	scratch_read("stderr", r->err, sizeof(r->err));
}

#endif
