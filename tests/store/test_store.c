/*
 * tests/store/test_store.c — the store in one process (store/store.h):
 * schema and epoch, topic names, the write path (set, patch, both,
 * empty, failing, the application's own writes), idempotency, cursors,
 * the log walk, retention and resumable, bad files (corrupt, not a
 * database, read-only, newer schema), the wake, and fault injection.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "json/patch.h"
#include "json/value.h"
#include "store/store.h"
#include "tests/support.h"

static char dbpath[4200];
static int dbn;

/* A fresh database for each test (an SQLite file, or a PostgreSQL
 * database: tests/support.h). */
static const char *fresh(void)
{
	char name[32];

	snprintf(name, sizeof(name), "t%d", ++dbn);
	return test_db(dbpath, sizeof(dbpath), name);
}

/* sc_store_create with the initial state as JSON text. */
static sc_err create_json(sc_store *s, const char *topic, const char *text,
			  sc_error *err)
{
	json_object *o = J(text);
	sc_err rc = sc_store_create(s, topic, o, err);

	json_object_put(o);
	return rc;
}

static sc_err try_open(const char *path, int readonly, sc_error *err)
{
	sc_store *s;
	sc_err rc = store_open(path, 0, 0, readonly, &s, err);

	sc_store_close(s);
	return rc;
}

/* Change callbacks: arg is a patch text, a state text, or both. */
typedef struct chg {
	const char *patch; /* applied first */
	const char *set;   /* then set */
	const char *sql;   /* then run on the handle */
	sc_err ret;	   /* then returned */
} chg;

static sc_err do_change(sc_store_txn *txn, void *arg, sc_error *err)
{
	const chg *c = arg;
	sc_err rc = SC_OK;

	if (c->patch != NULL) {
		json_object *ops = J(c->patch);

		rc = sc_store_txn_patch(txn, ops, err);
		json_object_put(ops);
	}
	if (rc == SC_OK && c->set != NULL)
		rc = sc_store_txn_set(txn, J(c->set), err);
	if (rc == SC_OK && c->sql != NULL && app_exec(txn, c->sql) != 0)
		rc = sc_error_set(err, SC_ERR_STORE, "app sql");
	if (rc == SC_OK && c->ret != SC_OK)
		rc = sc_error_set(err, c->ret, "refused by the test");
	return rc;
}

static sc_err change(sc_store *s, const char *topic, const char *idem, chg c,
		     sc_store_result *res, sc_error *err)
{
	return sc_store_change(s, topic, "test", idem, do_change, &c, res, err);
}

static void expect_state(sc_store *s, const char *topic, int64_t version,
			 const char *state)
{
	sc_store_state st;
	sc_error err;
	json_object *a, *b;

	assert_int_equal(sc_store_get(s, topic, &st, &err), SC_OK);
	assert_int_equal(st.version, version);
	a = J(st.state);
	b = J(state);
	if (!sc_json_equal(a, b))
		fail_msg("state %s, expected %s", st.state, state);
	json_object_put(a);
	json_object_put(b);
	sc_store_state_free(&st);
}

static int count_entry(const sc_store_entry *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static int log_rows(sc_store *s, const char *topic)
{
	int n = 0;
	const char *t[1] = {topic};

	assert_int_equal(sc_store_log(s, t, topic ? 1 : 0, 0, 0, count_entry,
				      &n, NULL, NULL),
			 SC_OK);
	return n;
}

static void test_open_epoch(void **state)
{
	const char *p = fresh();
	sc_store *s = open_db(p), *s2;
	char epoch[64], cur[SC_CURSOR_MAX];
	size_t i;

	(void)state;
	snprintf(epoch, sizeof(epoch), "%s", sc_store_epoch(s));
	assert_int_equal(strlen(epoch), 16);
	for (i = 0; i < 16; i++)
		assert_non_null(strchr("0123456789abcdef", epoch[i]));
	s2 = open_db(p);
	assert_string_equal(sc_store_epoch(s2), epoch);
	sc_store_cursor_format(s, 42, cur);
	assert_string_equal(cur + 17, "42");
	sc_store_close(s2);
	sc_store_close(s);
	s = open_db(fresh());
	assert_string_not_equal(sc_store_epoch(s), epoch);
	sc_store_close(s);
}

static void test_topic_names(void **state)
{
	static const struct {
		const char *name;
		sc_err rc;
	} cases[] = {
	    {"app:state", SC_OK},
	    {"cart:42", SC_OK},
	    {"a", SC_OK},
	    {"A-Z_0.9@x:y", SC_OK},
	    {"", SC_ERR_TOPIC},
	    {"a b", SC_ERR_TOPIC},
	    {"a/b", SC_ERR_TOPIC},
	    {"a\nb", SC_ERR_TOPIC},
	    {"\x01", SC_ERR_TOPIC},
	    {"a\x7f", SC_ERR_TOPIC},
	    {"caf\xc3\xa9", SC_ERR_TOPIC},
	    {"a?b", SC_ERR_TOPIC},
	    {"%41", SC_ERR_TOPIC},
	};
	char big[202];
	sc_store *s = open_db(fresh());
	sc_store_state st;
	sc_store_result res;
	sc_error err;
	size_t i;
	const char *one[1];
	int64_t seq;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(sc_topic_check(cases[i].name, &err),
				 cases[i].rc);
	assert_int_equal(sc_topic_check(NULL, &err), SC_ERR_TOPIC);
	memset(big, 'a', 201);
	big[201] = '\0';
	assert_int_equal(sc_topic_check(big, &err), SC_ERR_TOPIC);
	big[200] = '\0';
	assert_int_equal(sc_topic_check(big, &err), SC_OK);
	assert_int_equal(sc_store_create(s, big, NULL, &err), SC_OK);
	big[200] = 'a';
	/* Every entry point checks. */
	one[0] = big;
	assert_int_equal(sc_store_create(s, big, NULL, &err), SC_ERR_TOPIC);
	assert_int_equal(sc_store_get(s, big, &st, &err), SC_ERR_TOPIC);
	assert_int_equal(change(s, big, NULL, (chg){.set = "1"}, &res, &err),
			 SC_ERR_TOPIC);
	assert_int_equal(
	    sc_store_log(s, one, 1, 0, 0, count_entry, &i, NULL, &err),
	    SC_ERR_TOPIC);
	assert_int_equal(sc_store_resumable(s, "", 0, &err), SC_ERR_TOPIC);
	assert_int_equal(sc_store_resumable(s, "a b", 0, &err), SC_ERR_TOPIC);
	assert_int_equal(sc_store_max_seq(s, &seq, &err), SC_OK);
	assert_int_equal(seq, 0);
	sc_store_close(s);
}

static void test_write_path(void **state)
{
	sc_store *s = open_db(fresh());
	sc_store_result res;
	sc_store_state st;
	sc_error err;
	json_object *doc, *patch;

	(void)state;
	assert_int_equal(change(s, "t", NULL, (chg){.set = "1"}, &res, &err),
			 SC_ERR_NOT_FOUND);
	assert_null(res.patch);
	doc = J("{\"a\":1,\"list\":[1,2,3]}");
	assert_int_equal(sc_store_create(s, "t", doc, &err), SC_OK);
	assert_int_equal(sc_store_create(s, "t", NULL, &err), SC_OK);
	expect_state(s, "t", 0, "{\"a\":1,\"list\":[1,2,3]}");
	/* Patch: logged as it is. */
	assert_int_equal(
	    change(s, "t", NULL,
		   (chg){.patch = "[{\"op\":\"replace\",\"path\":\"/a\","
				  "\"value\":2}]"},
		   &res, &err),
	    SC_OK);
	assert_int_equal(res.version, 1);
	assert_int_equal(res.seq, 1);
	assert_int_equal(res.replayed, 0);
	assert_string_equal(
	    res.patch, "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":2}]");
	sc_store_result_free(&res);
	/* Set: diffed. */
	assert_int_equal(change(s, "t", NULL,
				(chg){.set = "{\"a\":2,\"list\":[1,2,3,4]}"},
				&res, &err),
			 SC_OK);
	assert_int_equal(res.version, 2);
	patch = J(res.patch);
	assert_int_equal(json_object_array_length(patch), 1);
	json_object_put(patch);
	sc_store_result_free(&res);
	/* Both in one change: the logged patch still replays. */
	assert_int_equal(
	    change(s, "t", NULL,
		   (chg){.patch = "[{\"op\":\"add\",\"path\":\"/b\","
				  "\"value\":[]},{\"op\":\"test\",\"path\":"
				  "\"/a\",\"value\":2.0}]",
			 .set = "{\"b\":[\"x\"],\"list\":[0,1,2,3,4]}"},
		   &res, &err),
	    SC_OK);
	assert_int_equal(res.version, 3);
	patch = J(res.patch);
	{
		json_object *old = J("{\"a\":2,\"list\":[1,2,3,4]}"), *want;

		assert_int_equal(sc_patch_apply(&old, patch, &err), SC_OK);
		want = J("{\"b\":[\"x\"],\"list\":[0,1,2,3,4]}");
		assert_true(sc_json_equal(old, want));
		json_object_put(old);
		json_object_put(want);
	}
	json_object_put(patch);
	sc_store_result_free(&res);
	expect_state(s, "t", 3, "{\"b\":[\"x\"],\"list\":[0,1,2,3,4]}");
	/* Empty changes: no version, no log row, "[]", the current seq. */
	assert_int_equal(
	    change(s, "t", NULL,
		   (chg){.set = "{\"list\":[0,1,2,3,4],\"b\":[\"x\"]}"}, &res,
		   &err),
	    SC_OK);
	assert_int_equal(res.version, 3);
	assert_int_equal(res.seq, 3);
	assert_string_equal(res.patch, "[]");
	sc_store_result_free(&res);
	assert_int_equal(
	    change(s, "t", NULL,
		   (chg){.patch = "[{\"op\":\"test\",\"path\":\"/b/0\","
				  "\"value\":\"x\"}]"},
		   &res, &err),
	    SC_OK);
	assert_int_equal(res.version, 3);
	sc_store_result_free(&res);
	assert_int_equal(change(s, "t", NULL, (chg){.patch = "[]"}, &res, &err),
			 SC_OK);
	assert_int_equal(res.version, 3);
	sc_store_result_free(&res);
	assert_int_equal(log_rows(s, "t"), 3);
	/* Failing patches: nothing written, version kept, op index. */
	assert_int_equal(
	    change(s, "t", NULL,
		   (chg){.patch = "[{\"op\":\"add\",\"path\":\"/c\","
				  "\"value\":1},{\"op\":\"remove\",\"path\":"
				  "\"/nope\"}]"},
		   &res, &err),
	    SC_ERR_PATCH);
	assert_int_equal(err.index, 1);
	assert_null(res.patch);
	assert_int_equal(
	    change(s, "t", NULL,
		   (chg){.patch = "[{\"op\":\"test\",\"path\":\"/b\","
				  "\"value\":1}]"},
		   &res, &err),
	    SC_ERR_TEST);
	assert_int_equal(change(s, "t", NULL, (chg){.patch = "{}"}, &res, &err),
			 SC_ERR_PATCH);
	/* A patch that applied, then a refusal: all rolled back. */
	assert_int_equal(
	    change(s, "t", NULL,
		   (chg){.patch = "[{\"op\":\"add\",\"path\":\"/c\","
				  "\"value\":1}]",
			 .sql = "CREATE TABLE app (x int); INSERT INTO app "
				"VALUES (1)",
			 .ret = SC_ERR_REJECTED},
		   &res, &err),
	    SC_ERR_REJECTED);
	expect_state(s, "t", 3, "{\"b\":[\"x\"],\"list\":[0,1,2,3,4]}");
	assert_int_equal(log_rows(s, "t"), 3);
	assert_int_equal(sc_store_get(s, "nope", &st, &err), SC_ERR_NOT_FOUND);
	/* The application's writes commit with the state. */
	assert_int_equal(
	    change(s, "t", NULL,
		   (chg){.set = "{\"app\":true}",
			 .sql = "CREATE TABLE app (x int); INSERT INTO app "
				"VALUES (1)"},
		   &res, &err),
	    SC_OK);
	assert_int_equal(res.version, 4);
	sc_store_result_free(&res);
	assert_int_equal(change(s, "t", NULL,
				(chg){.sql = "INSERT INTO app VALUES (2)"},
				&res, &err),
			 SC_OK);
	assert_int_equal(res.version, 4);
	sc_store_result_free(&res);
	sc_store_close(s);
	json_object_put(doc);
}

/* Two connections change one topic in turn: the state cache of each
 * must notice the other's versions. */
static void test_two_connections(void **state)
{
	const char *p = fresh();
	sc_store *a = open_db(p), *b = open_db(p);
	sc_store_result res;
	sc_error err;
	int i;

	(void)state;
	assert_int_equal(create_json(a, "n", "{\"v\":[]}", &err), SC_OK);
	for (i = 0; i < 10; i++) {
		sc_store *s = (i % 3 == 0) ? a : b;

		assert_int_equal(
		    change(s, "n", NULL,
			   (chg){.patch = "[{\"op\":\"add\",\"path\":"
					  "\"/v/-\",\"value\":1}]"},
			   &res, &err),
		    SC_OK);
		assert_int_equal(res.version, i + 1);
		sc_store_result_free(&res);
	}
	expect_state(a, "n", 10, "{\"v\":[1,1,1,1,1,1,1,1,1,1]}");
	expect_state(b, "n", 10, "{\"v\":[1,1,1,1,1,1,1,1,1,1]}");
	sc_store_close(a);
	sc_store_close(b);
}

static void test_idempotency(void **state)
{
	sc_store *s = open_db(fresh());
	sc_store_result r1, r2;
	sc_error err;

	(void)state;
	assert_int_equal(create_json(s, "t", "{}", &err), SC_OK);
	assert_int_equal(create_json(s, "u", "{}", &err), SC_OK);
	assert_int_equal(
	    change(s, "t", "k1", (chg){.set = "{\"a\":1}"}, &r1, &err), SC_OK);
	assert_int_equal(
	    change(s, "t", "k1", (chg){.set = "{\"a\":2}"}, &r2, &err), SC_OK);
	assert_int_equal(r2.replayed, 1);
	assert_int_equal(r2.version, r1.version);
	assert_int_equal(r2.seq, r1.seq);
	assert_string_equal(r2.patch, r1.patch);
	sc_store_result_free(&r1);
	sc_store_result_free(&r2);
	expect_state(s, "t", 1, "{\"a\":1}");
	/* The same key on another topic is another event. */
	assert_int_equal(
	    change(s, "u", "k1", (chg){.set = "{\"a\":3}"}, &r1, &err), SC_OK);
	assert_int_equal(r1.replayed, 0);
	sc_store_result_free(&r1);
	/* A failed event records nothing: its retry runs. */
	assert_int_equal(
	    change(s, "t", "k2",
		   (chg){.set = "{\"a\":9}", .ret = SC_ERR_REJECTED}, &r1,
		   &err),
	    SC_ERR_REJECTED);
	assert_int_equal(
	    change(s, "t", "k2", (chg){.set = "{\"a\":5}"}, &r1, &err), SC_OK);
	assert_int_equal(r1.replayed, 0);
	assert_int_equal(r1.version, 2);
	sc_store_result_free(&r1);
	/* An empty change with a key answers the same again. */
	assert_int_equal(
	    change(s, "t", "k3", (chg){.set = "{\"a\":5}"}, &r1, &err), SC_OK);
	assert_int_equal(
	    change(s, "t", "k3", (chg){.set = "{\"a\":6}"}, &r2, &err), SC_OK);
	assert_int_equal(r2.replayed, 1);
	assert_string_equal(r2.patch, "[]");
	assert_int_equal(r2.version, 2);
	sc_store_result_free(&r1);
	sc_store_result_free(&r2);
	assert_int_equal(log_rows(s, NULL), 3);
	sc_store_close(s);
}

static void test_cursors(void **state)
{
	sc_store *s = open_db(fresh());
	sc_store_result res;
	char cur[SC_CURSOR_MAX], bad[128];
	int64_t seq;
	sc_error err;
	static const char *const malformed[] = {
	    "",
	    "abc",
	    ":",
	    ":1",
	    "x:",
	    "%s:",
	    "%s:-1",
	    "%s:+1",
	    "%s:01",
	    "%s:1x",
	    "%s:99999999999999999999",
	    "%s: 1",
	    "%s:1:2",
	};
	size_t i;

	(void)state;
	assert_int_equal(sc_store_create(s, "t", NULL, &err), SC_OK);
	assert_int_equal(change(s, "t", NULL, (chg){.set = "1"}, &res, &err),
			 SC_OK);
	sc_store_result_free(&res);
	sc_store_cursor_format(s, 1, cur);
	assert_int_equal(sc_store_cursor_parse(s, cur, &seq, &err), SC_OK);
	assert_int_equal(seq, 1);
	sc_store_cursor_format(s, 0, cur);
	assert_int_equal(sc_store_cursor_parse(s, cur, &seq, &err), SC_OK);
	assert_int_equal(seq, 0);
	/* Ahead of the log. */
	sc_store_cursor_format(s, 2, cur);
	assert_int_equal(sc_store_cursor_parse(s, cur, &seq, &err),
			 SC_ERR_CURSOR);
	/* Another epoch. */
	assert_int_equal(
	    sc_store_cursor_parse(s, "0123456789abcdef:1", &seq, &err),
	    SC_ERR_CURSOR);
	for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		snprintf(bad, sizeof(bad), malformed[i], sc_store_epoch(s));
		assert_int_equal(sc_store_cursor_parse(s, bad, &seq, &err),
				 SC_ERR_CURSOR);
	}
	assert_int_equal(sc_store_cursor_parse(s, NULL, &seq, &err),
			 SC_ERR_CURSOR);
	sc_store_close(s);
}

typedef struct walk {
	int64_t seqs[64];
	char topics[64][8];
	int n;
	int stop_at;
} walk;

static int walk_entry(const sc_store_entry *e, void *arg)
{
	walk *w = arg;

	w->seqs[w->n] = e->seq;
	snprintf(w->topics[w->n], sizeof(w->topics[0]), "%s", e->topic);
	w->n++;
	return w->stop_at && w->n >= w->stop_at;
}

static void test_log_walk(void **state)
{
	sc_store *s = open_db(fresh());
	sc_store_result res;
	sc_error err;
	const char *ab[2] = {"a", "b"}, *c[1] = {"c"};
	walk w;
	int i;
	int64_t last;

	(void)state;
	for (i = 0; i < 3; i++)
		assert_int_equal(
		    sc_store_create(s, ab[i % 2 == 0 ? 0 : 1], NULL, &err),
		    SC_OK);
	assert_int_equal(sc_store_create(s, "c", NULL, &err), SC_OK);
	for (i = 0; i < 9; i++) {
		char v[16];
		const char *t = i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : "c";

		snprintf(v, sizeof(v), "%d", i);
		assert_int_equal(
		    change(s, t, NULL, (chg){.set = v}, &res, &err), SC_OK);
		assert_int_equal(res.seq, i + 1);
		sc_store_result_free(&res);
	}
	memset(&w, 0, sizeof(w));
	assert_int_equal(
	    sc_store_log(s, ab, 2, 2, 0, walk_entry, &w, &last, &err), SC_OK);
	assert_int_equal(last, 9);
	assert_int_equal(w.n, 4); /* 4 a, 5 b, 7 a, 8 b */
	assert_int_equal(w.seqs[0], 4);
	assert_int_equal(w.seqs[3], 8);
	assert_string_equal(w.topics[1], "b");
	memset(&w, 0, sizeof(w));
	assert_int_equal(
	    sc_store_log(s, c, 1, 0, 2, walk_entry, &w, &last, &err), SC_OK);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.seqs[0], 3);
	assert_int_equal(w.seqs[1], 6);
	memset(&w, 0, sizeof(w));
	w.stop_at = 5;
	assert_int_equal(
	    sc_store_log(s, NULL, 0, 0, 0, walk_entry, &w, &last, &err), SC_OK);
	assert_int_equal(w.n, 5);
	sc_store_close(s);
}

static void test_retention(void **state)
{
	const char *p = fresh();
	sc_store *s = open_opt(p, 3, 1, 0);
	sc_store_result res;
	sc_error err;
	int64_t removed = -1, seqs[11], top;
	walk w;
	const char *t[1] = {"t"};
	int i;

	(void)state;
	assert_int_equal(create_json(s, "t", "0", &err), SC_OK);
	for (i = 1; i <= 10; i++) {
		char v[16];

		snprintf(v, sizeof(v), "%d", i);
		assert_int_equal(
		    change(s, "t", "k", (chg){.set = v}, &res, &err), SC_OK);
		sc_store_result_free(&res);
		assert_int_equal(
		    change(s, "t", NULL, (chg){.set = v}, &res, &err), SC_OK);
		seqs[i] = res.seq;
		sc_store_result_free(&res);
	}
	/* Young rows are kept whatever their number. */
	assert_int_equal(sc_store_prune(s, &removed, &err), SC_OK);
	assert_int_equal(removed, 0);
	assert_int_equal(sc_store_resumable(s, "t", 0, &err), SC_OK);
	usleep(1100 * 1000);
	assert_int_equal(sc_store_prune(s, &removed, &err), SC_OK);
	assert_int_equal(removed, 7);
	memset(&w, 0, sizeof(w));
	assert_int_equal(
	    sc_store_log(s, t, 1, 0, 0, walk_entry, &w, NULL, &err), SC_OK);
	assert_int_equal(w.n, 3);
	assert_int_equal(w.seqs[0], seqs[8]);
	assert_int_equal(sc_store_resumable(s, "t", 0, &err), SC_ERR_CURSOR);
	assert_int_equal(sc_store_resumable(s, "t", seqs[6], &err),
			 SC_ERR_CURSOR);
	assert_int_equal(sc_store_resumable(s, "t", seqs[7], &err), SC_OK);
	assert_int_equal(sc_store_resumable(s, "t", seqs[10], &err), SC_OK);
	assert_int_equal(sc_store_resumable(s, "t", seqs[10] + 1, &err),
			 SC_ERR_CURSOR);
	assert_int_equal(sc_store_resumable(s, "nope", 0, &err),
			 SC_ERR_NOT_FOUND);
	/* Seq is never reused, even after pruning. */
	assert_int_equal(sc_store_max_seq(s, &top, &err), SC_OK);
	assert_int_equal(top, seqs[10]);
	/* A topic made after a cursor cannot be resumed from it. */
	assert_int_equal(create_json(s, "late", "{}", &err), SC_OK);
	assert_int_equal(sc_store_resumable(s, "late", top - 1, &err),
			 SC_ERR_CURSOR);
	assert_int_equal(sc_store_resumable(s, "late", top, &err), SC_OK);
	assert_int_equal(change(s, "late", NULL, (chg){.set = "1"}, &res, &err),
			 SC_OK);
	assert_int_equal(res.seq, top + 1);
	sc_store_result_free(&res);
	/* The idempotency key expired with the rows?  Not yet: a day. */
	assert_int_equal(change(s, "t", "k", (chg){.set = "99"}, &res, &err),
			 SC_OK);
	assert_int_equal(res.replayed, 1);
	sc_store_result_free(&res);
	assert_int_equal(sc_store_compact(s, 1, &err), SC_OK);
	expect_state(s, "t", 10, "10");
	sc_store_close(s);
}

/* Every SC_STORE_PRUNE_EVERY (256) versions a change prunes its topic. */
/* The state of t is {"n":[1 x n]}. */
static void expect_state_rows(sc_store *s, const char *topic, int n)
{
	char want[1024] = "{\"n\":[";
	size_t len = strlen(want);
	int i;

	for (i = 0; i < n; i++)
		len += (size_t)snprintf(want + len, sizeof(want) - len, "%s1",
					i ? "," : "");
	snprintf(want + len, sizeof(want) - len, "]}");
	expect_state(s, topic, n, want);
}

static void test_auto_prune(void **state)
{
	sc_store *s = open_opt(fresh(), 10, 1, 0);
	sc_store_result res;
	sc_error err;
	int64_t rows;
	int i;

	(void)state;
	assert_int_equal(create_json(s, "t", "{\"n\":[]}", &err), SC_OK);
	for (i = 1; i <= 256; i++) {
		if (i == 256)
			usleep(1100 * 1000);
		assert_int_equal(
		    change(s, "t", NULL,
			   (chg){.patch = "[{\"op\":\"add\",\"path\":"
					  "\"/n/-\",\"value\":1}]"},
			   &res, &err),
		    SC_OK);
		sc_store_result_free(&res);
	}
	/* It pruned, keeping at least keep_versions rows and every row
	 * after the snapshot (seqs 1..256 are the topic's). */
	rows = log_rows(s, "t");
	assert_true(rows >= 10 && rows < 256);
	assert_int_equal(sc_store_resumable(s, "t", 256 - rows - 1, &err),
			 SC_ERR_CURSOR);
	assert_int_equal(sc_store_resumable(s, "t", 256 - rows, &err), SC_OK);
	expect_state_rows(s, "t", 256);
	/* compact rewrites the snapshot: then only keep_versions stay. */
	assert_int_equal(sc_store_compact(s, 0, &err), SC_OK);
	assert_int_equal(log_rows(s, "t"), 10);
	assert_int_equal(sc_store_resumable(s, "t", 245, &err), SC_ERR_CURSOR);
	assert_int_equal(sc_store_resumable(s, "t", 246, &err), SC_OK);
	expect_state_rows(s, "t", 256);
	sc_store_close(s);
}

/*
 * Retention reads the log a page of SC_STORE_PRUNE_PAGE rows at a time:
 * a backlog of several pages all goes, and what stays is exactly the
 * newest keep_versions rows.
 */
static void test_prune_pages(void **state)
{
	const char *p = fresh();
	sc_store *s = open_opt(p, 1000000, 1, 0);
	sc_store_result res;
	sc_error err;
	int64_t removed = -1;
	char text[16];
	int i, n = 3 * 256 + 10; /* SC_STORE_PRUNE_PAGE is 256 */

	(void)state;
	assert_int_equal(create_json(s, "t", "0", &err), SC_OK);
	for (i = 1; i <= n; i++) {
		snprintf(text, sizeof(text), "%d", i);
		assert_int_equal(
		    change(s, "t", NULL, (chg){.set = text}, &res, &err),
		    SC_OK);
		sc_store_result_free(&res);
	}
	/* The snapshot at the last version: every row is below it. */
	assert_int_equal(sc_store_compact(s, 0, &err), SC_OK);
	assert_int_equal(log_rows(s, "t"), n);
	sc_store_close(s);
	usleep(1100 * 1000);
	s = open_opt(p, 5, 1, 0);
	assert_int_equal(sc_store_prune(s, &removed, &err), SC_OK);
	assert_int_equal(removed, n - 5);
	assert_int_equal(log_rows(s, "t"), 5);
	assert_int_equal(sc_store_resumable(s, "t", n - 6, &err),
			 SC_ERR_CURSOR);
	assert_int_equal(sc_store_resumable(s, "t", n - 5, &err), SC_OK);
	snprintf(text, sizeof(text), "%d", n);
	expect_state(s, "t", n, text);
	sc_store_close(s);
}

/* One change of topic to state text; returns its seq. */
static int64_t commit_seq(sc_store *s, const char *topic, const char *text)
{
	sc_store_result res;
	sc_error err;
	int64_t seq;

	assert_int_equal(change(s, topic, NULL, (chg){.set = text}, &res, &err),
			 SC_OK);
	seq = res.seq;
	sc_store_result_free(&res);
	return seq;
}

/*
 * seq is the log's rowid (no AUTOINCREMENT): it is never reused because
 * retention keeps each topic's newest row, and with it the row of the
 * highest seq, through prune, compact and VACUUM; even when the topic's
 * version says the row could go (an application changed it).
 */
static void test_seq_not_reused(void **state)
{
	const char *p = fresh();
	sc_store *s = open_opt(p, 1, 1, 0);
	sc_store_result res;
	sc_error err;
	int64_t removed = -1, top = 0;

	(void)state;
	assert_int_equal(create_json(s, "a", "0", &err), SC_OK);
	assert_int_equal(create_json(s, "b", "0", &err), SC_OK);
	assert_int_equal(commit_seq(s, "a", "1"), 1);
	assert_int_equal(commit_seq(s, "a", "2"), 2);
	assert_int_equal(commit_seq(s, "b", "1"), 3);
	assert_int_equal(commit_seq(s, "b", "2"), 4);
	/* b's version moved by the application's own SQL: by the versions
	 * alone both of b's rows are beyond keep_versions (1). */
	assert_int_equal(change(s, "b", NULL,
				(chg){.sql = "UPDATE topics SET version = 100 "
					     "WHERE name = 'b'"},
				&res, &err),
			 SC_OK);
	sc_store_result_free(&res);
	usleep(1100 * 1000);
	assert_int_equal(sc_store_prune(s, &removed, &err), SC_OK);
	assert_int_equal(removed, 2); /* a's seq 1 and b's seq 3 */
	assert_int_equal(log_rows(s, "a"), 1);
	assert_int_equal(log_rows(s, "b"), 1);
	assert_int_equal(sc_store_max_seq(s, &top, &err), SC_OK);
	assert_int_equal(top, 4);
	/* New commits go on after the highest seq ever given. */
	assert_int_equal(commit_seq(s, "a", "3"), 5);
	assert_int_equal(commit_seq(s, "b", "3"), 6);
	/* Prune again (a's seq 2, b's seq 4 go), compact with VACUUM,
	 * reopen: still no reuse. */
	usleep(1100 * 1000);
	assert_int_equal(sc_store_prune(s, &removed, &err), SC_OK);
	assert_int_equal(removed, 2);
	assert_int_equal(sc_store_compact(s, 1, &err), SC_OK);
	sc_store_close(s);
	s = open_opt(p, 1, 1, 0);
	assert_int_equal(sc_store_max_seq(s, &top, &err), SC_OK);
	assert_int_equal(top, 6);
	assert_int_equal(commit_seq(s, "b", "4"), 7);
	assert_int_equal(sc_store_compact(s, 1, &err), SC_OK);
	assert_int_equal(commit_seq(s, "a", "4"), 8);
	expect_state(s, "a", 4, "4");
	expect_state(s, "b", 102, "4");
	sc_store_close(s);
}

static sc_err set_same(sc_store_txn *txn, void *arg, sc_error *err)
{
	json_object *cur = sc_store_txn_state(txn);

	(void)arg;
	json_object_object_add(cur, "x", json_object_new_int(1));
	return sc_store_txn_set(txn, json_object_get(cur), err);
}

/* Changing the state in place and setting it is refused, not lost. */
static void test_set_in_place(void **state)
{
	sc_store *s = open_db(fresh());
	sc_store_result res;
	sc_error err;

	(void)state;
	assert_int_equal(create_json(s, "t", "{}", &err), SC_OK);
	assert_int_equal(
	    sc_store_change(s, "t", NULL, NULL, set_same, NULL, &res, &err),
	    SC_ERR_INVALID);
	expect_state(s, "t", 0, "{}");
	/* The dropped cache does not leak the in-place change. */
	assert_int_equal(
	    change(s, "t", NULL, (chg){.set = "{\"y\":2}"}, &res, &err), SC_OK);
	assert_string_equal(res.patch,
			    "[{\"op\":\"add\",\"path\":\"/y\",\"value\":2}]");
	sc_store_result_free(&res);
	sc_store_close(s);
}

static void write_file(const char *path, const void *buf, size_t n, off_t at)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0644);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, n, at), (ssize_t)n);
	close(fd);
}

/* A newer schema is refused, and tables like ours without a version
 * (on either backend). */
static void test_schema_versions(void **state)
{
	char path[4200];
	sc_error err;

	(void)state;
	snprintf(path, sizeof(path), "%s", fresh());
	sc_store_close(open_db(path));
	assert_int_equal(db_exec(path, test_on_pg()
					   ? "UPDATE meta SET value = '99' "
					     "WHERE key = 'schema_version'"
					   : "PRAGMA user_version = 99"),
			 0);
	assert_int_equal(try_open(path, 0, &err), SC_ERR_SCHEMA);
	assert_non_null(strstr(err.message, "newer"));
	assert_int_equal(try_open(path, 1, &err), SC_ERR_SCHEMA);
	snprintf(path, sizeof(path), "%s", fresh());
	assert_int_equal(db_exec(path, "CREATE TABLE log (x int)"), 0);
	assert_int_equal(try_open(path, 0, &err), SC_ERR_SCHEMA);
	assert_non_null(strstr(err.message, "not a StateChannel database"));
}

/* A writer that cannot have the write lock within the busy timeout gets
 * SC_ERR_BUSY (a 503), on either backend: never a hang. */
static void test_busy(void **state)
{
	const char *p = fresh();
	sc_store_options o;
	sc_store *s;
	sc_store_result res;
	sc_error err;
	sqlite3 *lite = NULL;
	PGconn *pg = NULL;

	(void)state;
	s = open_db(p);
	assert_int_equal(create_json(s, "t", "0", &err), SC_OK);
	sc_store_close(s);
	/* Another connection holds the write lock. */
	if (test_on_pg()) {
		PGresult *r;

		pg = PQconnectdb(p);
		r = PQexec(pg, "BEGIN; SELECT 1 FROM meta WHERE key = 'seq' "
			       "FOR UPDATE");
		assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
		PQclear(r);
	} else {
		assert_int_equal(sqlite3_open(p, &lite), SQLITE_OK);
		assert_int_equal(
		    sqlite3_exec(lite, "BEGIN IMMEDIATE", NULL, NULL, NULL),
		    SQLITE_OK);
	}
	memset(&o, 0, sizeof(o));
	o.path = p;
	o.busy_timeout_ms = 200;
	assert_int_equal(sc_store_open(&o, &s, &err), SC_OK);
	assert_int_equal(change(s, "t", NULL, (chg){.set = "1"}, &res, &err),
			 SC_ERR_BUSY);
	/* Released: the next change goes through. */
	if (pg != NULL)
		PQfinish(pg);
	sqlite3_close(lite);
	assert_int_equal(change(s, "t", NULL, (chg){.set = "1"}, &res, &err),
			 SC_OK);
	sc_store_result_free(&res);
	sc_store_close(s);
}

/* How --db is printed: a PostgreSQL URI without its password. */
static void test_display(void **state)
{
	static const char *const cases[][2] = {
	    {"/var/lib/sc/statechannel.db", "/var/lib/sc/statechannel.db"},
	    {"postgresql://u:pw@h/db", "postgresql://u@h/db"},
	    {"postgres://u:pw@h:5432/db?sslmode=require",
	     "postgres://u@h:5432/db?sslmode=require"},
	    {"postgresql://u@h/db?password=pw&sslmode=disable",
	     "postgresql://u@h/db?sslmode=disable"},
	    {"postgresql:///db?host=/tmp&password=pw",
	     "postgresql:///db?host=/tmp"},
	    {"postgresql://h/db?a=1&password=pw&b=2",
	     "postgresql://h/db?a=1&b=2"},
	    {"postgresql://u:p:w@h/db", "postgresql://u@h/db"},
	};
	char buf[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(
		    sc_store_display(cases[i][0], buf, sizeof(buf)),
		    cases[i][1]);
	assert_true(sc_store_is_pg("postgres://x"));
	assert_true(sc_store_is_pg("postgresql://x"));
	assert_false(sc_store_is_pg("postgresql.db"));
}

static void test_bad_files(void **state)
{
	char garbage[8192], path[160];
	sc_store *s;
	sc_store_state st;
	sc_store_result res;
	sc_error err;
	sqlite3 *db;
	sc_err rc;
	int i;

	(void)state;
	/* Not a database. */
	for (i = 0; i < (int)sizeof(garbage); i++)
		garbage[i] = (char)('a' + i % 26);
	snprintf(path, sizeof(path), "%s", fresh());
	write_file(path, garbage, sizeof(garbage), 0);
	assert_int_equal(try_open(path, 0, &err), SC_ERR_STORE);
	assert_non_null(strstr(err.message, "not a database"));
	assert_int_equal(try_open(path, 1, &err), SC_ERR_STORE);
	/* A newer schema. */
	snprintf(path, sizeof(path), "%s", fresh());
	sc_store_close(open_db(path));
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(try_open(path, 0, &err), SC_ERR_SCHEMA);
	assert_non_null(strstr(err.message, "newer"));
	assert_int_equal(try_open(path, 1, &err), SC_ERR_SCHEMA);
	/* Someone else's database. */
	snprintf(path, sizeof(path), "%s", fresh());
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "CREATE TABLE log (x)", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(try_open(path, 0, &err), SC_ERR_SCHEMA);
	/* Read-only, uninitialized. */
	assert_int_equal(try_open(fresh(), 1, &err), SC_ERR_IO);
	/* Corrupt: pages overwritten in the middle. */
	snprintf(path, sizeof(path), "%s", fresh());
	s = open_db(path);
	assert_int_equal(create_json(s, "t", "{\"x\":1}", &err), SC_OK);
	for (i = 0; i < 50; i++) {
		char v[300];

		snprintf(v, sizeof(v), "{\"x\":%d,\"pad\":\"%0250d\"}", i, i);
		assert_int_equal(
		    change(s, "t", NULL, (chg){.set = v}, &res, &err), SC_OK);
		sc_store_result_free(&res);
	}
	sc_store_close(s);
	write_file(path, garbage, 4096, 4096);
	write_file(path, garbage, 4096, 3 * 4096);
	rc = try_open(path, 0, &err);
	if (rc == SC_OK) {
		s = open_db(path);
		rc = sc_store_get(s, "t", &st, &err);
		if (rc == SC_OK) {
			sc_store_state_free(&st);
			rc =
			    change(s, "t", NULL, (chg){.set = "1"}, &res, &err);
			sc_store_result_free(&res);
		}
		if (rc == SC_OK)
			rc = log_rows(s, NULL) >= 0 ? SC_OK : SC_ERR_STORE;
		sc_store_close(s);
	}
	assert_int_equal(rc, SC_ERR_STORE);
	assert_non_null(strstr(err.message, "corrupt"));
}

/* A read-only file: as root, in a child that gives up root first. */
static void test_readonly_file(void **state)
{
	char path[160];
	sc_store *s;
	sc_store_result res;
	sc_error err;
	pid_t pid;
	int status;

	(void)state;
	snprintf(path, sizeof(path), "%s", fresh());
	s = open_db(path);
	assert_int_equal(create_json(s, "t", "1", &err), SC_OK);
	sc_store_close(s);
	/* Read-only by option: reads work, writes are refused. */
	s = open_opt(path, 0, 0, 1);
	expect_state(s, "t", 0, "1");
	assert_int_equal(change(s, "t", NULL, (chg){.set = "2"}, &res, &err),
			 SC_ERR_READONLY);
	assert_int_equal(sc_store_create(s, "u", NULL, &err), SC_ERR_READONLY);
	sc_store_close(s);
	/* A file the process cannot write. */
	chmod(path, 0444);
	chmod(scratch_dir, 0777);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(3);
		_exit(try_open(path, 0, &err) == SC_ERR_READONLY ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	chmod(scratch_dir, 0700);
}

static void test_wake_local(void **state)
{
	const char *p = fresh();
	sc_store *a = open_db(p), *b = open_db(p);
	sc_store_result res;
	sc_error err;
	uint64_t tok = sc_store_wake_token(a);

	(void)state;
	assert_int_equal(sc_store_wait(a, &tok, 20), 0);
	assert_int_equal(sc_store_create(b, "t", NULL, &err), SC_OK);
	assert_int_equal(change(b, "t", NULL, (chg){.set = "1"}, &res, &err),
			 SC_OK);
	sc_store_result_free(&res);
	assert_int_equal(sc_store_wait(a, &tok, 1000), 1);
	/* SQLite: one counter in the wake file; PostgreSQL: each
	 * connection counts the notifications it got. */
	if (!test_on_pg())
		assert_int_equal(tok, sc_store_wake_token(b));
	else /* the second commit's notification may come apart */
		sc_store_wait(a, &tok, 200);
	assert_int_equal(sc_store_wait(a, &tok, 10), 0);
	sc_store_close(a);
	sc_store_close(b);
}

/*
 * Fault injection: every allocation of the store's own code fails in
 * turn over open, create, change (patch and set), get, log and close;
 * nothing crashes or leaks (the sanitizer build checks) and a failed
 * change writes nothing.
 */
static void test_alloc_failures(void **state)
{
	long n;
	int done = 0;

	(void)state;
	for (n = 0; !done && n < 2000; n++) {
		sc_store *s = NULL;
		sc_store_options o;
		sc_store_result res;
		sc_store_state st;
		sc_error err;
		sc_err rc;
		int changed = 0;
		json_object *init = J("{\"a\":[1,2]}");

		memset(&o, 0, sizeof(o));
		o.path = fresh();
		sc_alloc_fail_after(n);
		rc = sc_store_open(&o, &s, &err);
		if (rc == SC_OK)
			rc = sc_store_create(s, "t", init, &err);
		if (rc == SC_OK)
			rc = change(s, "t", "id",
				    (chg){.patch = "[{\"op\":\"add\",\"path\":"
						   "\"/a/-\",\"value\":3}]",
					  .set = "{\"a\":[1,2,3],\"b\":1}"},
				    &res, &err);
		if (rc == SC_OK) {
			changed = 1;
			sc_store_result_free(&res);
		}
		if (rc == SC_OK)
			rc = sc_store_get(s, "t", &st, &err);
		if (rc == SC_OK)
			sc_store_state_free(&st);
		sc_alloc_fail_after(-1);
		if (rc == SC_OK) {
			done = 1;
			expect_state(s, "t", 1, "{\"a\":[1,2,3],\"b\":1}");
		} else {
			if (rc != SC_ERR_NOMEM)
				fail_msg("at %ld: %s", n, err.message);
			if (s != NULL &&
			    sc_store_get(s, "t", &st, &err) == SC_OK) {
				assert_int_equal(st.version, changed);
				sc_store_state_free(&st);
			}
		}
		sc_store_close(s);
		json_object_put(init);
	}
	assert_true(done);
	print_message("alloc failures: %ld points\n", n - 1);
}

static int setup(void **state)
{
	(void)state;
	return scratch_setup("store");
}

int main(void)
{
	/* About SQLite's files (and, for the allocation failures, a fresh
	 * file per step): SQLite only. */
	const struct CMUnitTest files[] = {
	    cmocka_unit_test(test_bad_files),
	    cmocka_unit_test(test_readonly_file),
	    cmocka_unit_test(test_alloc_failures),
	};
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_epoch),
	    cmocka_unit_test(test_topic_names),
	    cmocka_unit_test(test_write_path),
	    cmocka_unit_test(test_two_connections),
	    cmocka_unit_test(test_idempotency),
	    cmocka_unit_test(test_cursors),
	    cmocka_unit_test(test_log_walk),
	    cmocka_unit_test(test_retention),
	    cmocka_unit_test(test_auto_prune),
	    cmocka_unit_test(test_prune_pages),
	    cmocka_unit_test(test_seq_not_reused),
	    cmocka_unit_test(test_set_in_place),
	    cmocka_unit_test(test_wake_local),
	    cmocka_unit_test(test_schema_versions),
	    cmocka_unit_test(test_display),
	    cmocka_unit_test(test_busy),
	};
	int failed = cmocka_run_group_tests(tests, setup, scratch_teardown);

	if (!test_on_pg())
		failed += cmocka_run_group_tests(files, setup, scratch_teardown);
	return failed;
}
