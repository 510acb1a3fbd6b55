/*
 * tests/cli/test_cli_store.c — process-level tests of the store
 * subcommands of statechannel ($SC_BUILD/statechannel): init, set,
 * patch, get, topics, log with cursors, compact, drop, invalid UTF-8
 * input, --help, exit codes,
 * and a watch process that sees a patch made by another process.
 */
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

#include "json/value.h"
#include "tests/support.h"

/* The member key of the JSON object text (first line), as a new
 * reference. */
static json_object *member(const char *text, const char *key)
{
	json_object *o = NULL, *v = NULL;
	sc_error err;
	const char *nl = strchr(text, '\n');

	if (sc_json_parse(text, nl ? (size_t)(nl - text) : strlen(text), &o,
			  &err) != SC_OK)
		fail_msg("output is not JSON: %s (%s)", text, err.message);
	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no %s in %s", key, text);
	json_object_get(v);
	json_object_put(o);
	return v;
}

static int64_t member_int(const char *text, const char *key)
{
	json_object *v = member(text, key);
	int64_t n = json_object_get_int64(v);

	json_object_put(v);
	return n;
}

static void member_str(const char *text, const char *key, char *buf, size_t cap)
{
	json_object *v = member(text, key);

	snprintf(buf, cap, "%s", json_object_get_string(v));
	json_object_put(v);
}

static void test_help_and_usage(void **state)
{
	static const char *const subs[] = {
	    "init",  "topics", "get",	  "set", "patch",
	    "log",   "watch",  "compact", "drop"};
	struct cli_result r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		cli_run(&r, NULL, subs[i], "--help", NULL);
		assert_int_equal(r.status, 0);
		assert_non_null(strstr(r.out, "usage: statechannel"));
		cli_run(&r, NULL, subs[i], "--bogus", NULL);
		assert_int_equal(r.status, 2);
	}
	cli_run(&r, NULL, "get", NULL);
	assert_int_equal(r.status, 2);
	cli_run(&r, NULL, "get", "a", "b", NULL);
	assert_int_equal(r.status, 2);
	/* No database yet: reads say so and make none. */
	cli_run(&r, NULL, "get", "t", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "no database"));
	assert_int_equal(access(cli_db, F_OK), -1);
}

static void test_set_patch_get(void **state)
{
	struct cli_result r;
	char cursor[80], epoch[40], bad[120];
	json_object *v;

	(void)state;
	cli_run(&r, NULL, "init", NULL);
	assert_int_equal(r.status, 0);
	member_str(r.out, "epoch", epoch, sizeof(epoch));
	assert_int_equal(strlen(epoch), 16);
	/* patch on a missing topic is refused; set creates it. */
	cli_run(&r, "[]", "patch", "t", "-", NULL);
	assert_int_equal(r.status, 1);
	cli_run(&r, "{\"items\":[],\"n\":0}", "set", "t", "-", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(member_int(r.out, "version"), 1);
	scratch_write("p1", "[{\"op\":\"add\",\"path\":\"/items/-\",\"value\":"
			    "\"milk\"}]");
	cli_run(&r, NULL, "patch", "t", scratch_path("p1"), NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(member_int(r.out, "version"), 2);
	member_str(r.out, "cursor", cursor, sizeof(cursor));
	v = member(r.out, "patch");
	assert_int_equal(json_object_array_length(v), 1);
	json_object_put(v);
	/* A patch that cannot apply: exit 1, nothing changes. */
	cli_run(&r,
		"[{\"op\":\"add\",\"path\":\"/x\",\"value\":1},"
		"{\"op\":\"remove\",\"path\":\"/nope\"}]",
		"patch", "t", "-", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "op 1"));
	cli_run(&r, "not json", "patch", "t", "-", NULL);
	assert_int_equal(r.status, 2);
	cli_run(&r, NULL, "get", "t", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(member_int(r.out, "version"), 2);
	v = member(r.out, "state");
	assert_string_equal(
	    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
	    "{\"items\":[\"milk\"],\"n\":0}");
	json_object_put(v);
	/* Invalid topic names: exit 2, nothing written. */
	cli_run(&r, "1", "set", "", "-", NULL);
	assert_int_equal(r.status, 2);
	cli_run(&r, "1", "set", "a b", "-", NULL);
	assert_int_equal(r.status, 2);
	cli_run(&r, "1", "set", "caf\xc3\xa9", "-", NULL);
	assert_int_equal(r.status, 2);
	cli_run(&r, NULL, "get", "missing", NULL);
	assert_int_equal(r.status, 2);
	cli_run(&r, NULL, "topics", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "{\"topic\":\"t\",\"version\":2}\n");
	/* Idempotent set. */
	cli_run(&r, "{\"n\":5}", "set", "u", "-", "--id", "k1", NULL);
	assert_int_equal(r.status, 0);
	cli_run(&r, "{\"n\":6}", "set", "u", "-", "--id", "k1", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"replayed\":true"));
	assert_int_equal(member_int(r.out, "version"), 1);
	/* log: all, after a cursor, bad cursors. */
	cli_run(&r, NULL, "log", "t", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"version\":1"));
	assert_non_null(strstr(r.out, "\"version\":2"));
	cli_run(&r, NULL, "log", "t", "--after", cursor, NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	snprintf(bad, sizeof(bad), "%s:1", epoch);
	cli_run(&r, NULL, "log", "t", "--after", bad, NULL);
	assert_int_equal(r.status, 0);
	assert_null(strstr(r.out, "\"version\":1"));
	assert_non_null(strstr(r.out, "\"version\":2"));
	cli_run(&r, NULL, "log", "t", "--after", "0123456789abcdef:1", NULL);
	assert_int_equal(r.status, 2);
	snprintf(bad, sizeof(bad), "%s:999", epoch);
	cli_run(&r, NULL, "log", "t", "--after", bad, NULL);
	assert_int_equal(r.status, 2);
	cli_run(&r, NULL, "log", "t", "--after", "junk", NULL);
	assert_int_equal(r.status, 2);
	cli_run(&r, NULL, "compact", "--vacuum", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(member_int(r.out, "removed"), 0);
}

/* drop TOPIC, drop --idle; the topic reads as missing afterwards and
 * can be set again from version 1; cursors from before are refused. */
static void test_drop(void **state)
{
	struct cli_result r;
	char cur[80];
	long long seq;

	(void)state;
	cli_run(&r, "{\"d\":1}", "set", "d:1", "-", NULL);
	assert_int_equal(r.status, 0);
	cli_run(&r, "{\"d\":2}", "set", "d:1", "-", NULL);
	assert_int_equal(r.status, 0);
	cli_run(&r, "{\"k\":1}", "set", "d:keep", "-", NULL);
	assert_int_equal(r.status, 0);
	member_str(r.out, "cursor", cur, sizeof(cur));
	seq = atoll(strrchr(cur, ':') + 1);
	cli_run(&r, NULL, "drop", NULL);
	assert_int_equal(r.status, 2);
	cli_run(&r, NULL, "drop", "d:1", "--idle", "5", NULL);
	assert_int_equal(r.status, 2);
	cli_run(&r, NULL, "drop", "--idle", "0", NULL);
	assert_int_equal(r.status, 2);
	cli_run(&r, NULL, "drop", "bad topic", NULL);
	assert_int_equal(r.status, 2);
	cli_run(&r, NULL, "drop", "d:1", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(member_int(r.out, "dropped"), 1);
	cli_run(&r, NULL, "drop", "d:1", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(member_int(r.out, "dropped"), 0);
	cli_run(&r, NULL, "get", "d:1", NULL);
	assert_int_equal(r.status, 2);
	cli_run(&r, NULL, "topics", NULL);
	assert_null(strstr(r.out, "\"d:1\""));
	assert_non_null(strstr(r.out, "\"d:keep\""));
	/* Made anew: version 1 again, and seqs still only go up. */
	cli_run(&r, "{\"d\":3}", "set", "d:1", "-", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(member_int(r.out, "version"), 1);
	member_str(r.out, "cursor", cur, sizeof(cur));
	assert_int_equal(atoll(strrchr(cur, ':') + 1), seq + 1);
	/* Dropping the topic that holds the highest seq keeps that seq
	 * given: the next one is higher. */
	cli_run(&r, NULL, "drop", "d:1", NULL);
	assert_int_equal(member_int(r.out, "dropped"), 1);
	cli_run(&r, "{\"d\":4}", "set", "d:2", "-", NULL);
	assert_int_equal(r.status, 0);
	member_str(r.out, "cursor", cur, sizeof(cur));
	assert_int_equal(atoll(strrchr(cur, ':') + 1), seq + 2);
	/* Nothing was idle for an hour. */
	cli_run(&r, NULL, "drop", "--idle", "3600", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(member_int(r.out, "dropped"), 0);
	cli_run(&r, NULL, "get", "d:keep", NULL);
	assert_int_equal(r.status, 0);
}

/* Invalid UTF-8 and lone surrogates are input errors (2), nothing
 * stored. */
static void test_bad_utf8(void **state)
{
	static const char *const bad[] = {
	    "{\"s\":\"\xc0\xaf\"}", "{\"s\":\"\xed\xa0\x80\"}",
	    "{\"s\":\"\xf4\x90\x80\x80\"}", "{\"s\":\"\xe2\x82\"}",
	    "{\"s\":\"\\ud800\"}", "{\"a\\u0000b\":1}"};
	struct cli_result r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cli_run(&r, bad[i], "set", "u8", "-", NULL);
		if (r.status != 2)
			fail_msg("set of case %zu: exit %d", i, r.status);
		cli_run(&r, NULL, "get", "u8", NULL);
		assert_int_equal(r.status, 2);
	}
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A watch in one process sees a patch made by another. */
static void test_watch(void **state)
{
	struct cli_result r;
	char cursor[80], line[4096];
	int p[2], status;
	size_t n = 0;
	pid_t pid;
	double t0;

	(void)state;
	cli_run(&r, "{\"w\":0}", "set", "w", "-", NULL);
	assert_int_equal(r.status, 0);
	member_str(r.out, "cursor", cursor, sizeof(cursor));
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl(cli_bin, cli_bin, "--db", cli_db, "watch", "w", "other",
		      "--after", cursor, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	usleep(100 * 1000);
	t0 = now_ms();
	cli_run(&r, "[{\"op\":\"replace\",\"path\":\"/w\",\"value\":1}]",
		"patch", "w", "-", NULL);
	assert_int_equal(r.status, 0);
	for (;;) {
		struct pollfd pf = {.fd = p[0], .events = POLLIN};
		ssize_t got;

		assert_int_equal(poll(&pf, 1, 5000), 1);
		got = read(p[0], line + n, sizeof(line) - 1 - n);
		assert_true(got > 0);
		n += (size_t)got;
		line[n] = '\0';
		if (strchr(line, '\n') != NULL)
			break;
	}
	print_message("watch saw the patch %.2f ms after the patch command "
		      "started\n",
		      now_ms() - t0);
	assert_int_equal(member_int(line, "version"), 2);
	assert_non_null(strstr(line, "\"op\":\"replace\""));
	kill(pid, SIGINT);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(p[0]);
}

static int setup(void **state)
{
	(void)state;
	if (cli_setup("cli-store") != 0)
		return -1;
	snprintf(cli_db, sizeof(cli_db), "%s/sc.db", scratch_dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_help_and_usage),
	    cmocka_unit_test(test_set_patch_get),
	    cmocka_unit_test(test_watch),
	    cmocka_unit_test(test_drop),
	    cmocka_unit_test(test_bad_utf8),
	};

	return cmocka_run_group_tests(tests, setup, scratch_teardown);
}
