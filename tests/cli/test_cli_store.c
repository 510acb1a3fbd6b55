/*
 * tests/cli/test_cli_store.c — process-level tests of the store
 * subcommands of statechannel ($SC_BUILD/statechannel): init, set,
 * patch, get, topics, log with cursors, compact, --help, exit codes,
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

static char bin[4096];
static char dir[] = "/tmp/sc-cli-store-XXXXXX";
static char db[4200];

struct run {
	int status; /* exit code, or -1 when killed */
	char out[65536];
	char err[65536];
};

static const char *path(const char *name)
{
	static char p[2][4200];
	static int which;

	which = !which;
	snprintf(p[which], sizeof(p[which]), "%s/%s", dir, name);
	return p[which];
}

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(path(name), "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static void slurp(const char *name, char *buf, size_t cap)
{
	FILE *f = fopen(path(name), "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Runs statechannel --db DB with args (NULL-terminated), stdin from
 * input (NULL: empty). */
static void run(struct run *r, const char *input, ...)
{
	static char args[16][4200];
	const char *argv[20], *a;
	va_list ap;
	int n = 0, st;
	pid_t pid;

	argv[n++] = bin;
	argv[n++] = "--db";
	argv[n++] = db;
	va_start(ap, input);
	while (n < 19 && (a = va_arg(ap, const char *)) != NULL) {
		snprintf(args[n], sizeof(args[n]), "%s", a);
		argv[n] = args[n];
		n++;
	}
	va_end(ap);
	argv[n] = NULL;
	write_file("stdin", input != NULL ? input : "");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (freopen(path("stdin"), "rb", stdin) == NULL ||
		    freopen(path("stdout"), "wb", stdout) == NULL ||
		    freopen(path("stderr"), "wb", stderr) == NULL)
			_exit(127);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	slurp("stdout", r->out, sizeof(r->out));
	slurp("stderr", r->err, sizeof(r->err));
}

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
	    "init", "topics", "get", "set", "patch", "log", "watch", "compact"};
	struct run r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		run(&r, NULL, subs[i], "--help", NULL);
		assert_int_equal(r.status, 0);
		assert_non_null(strstr(r.out, "usage: statechannel"));
		run(&r, NULL, subs[i], "--bogus", NULL);
		assert_int_equal(r.status, 2);
	}
	run(&r, NULL, "get", NULL);
	assert_int_equal(r.status, 2);
	run(&r, NULL, "get", "a", "b", NULL);
	assert_int_equal(r.status, 2);
	/* No database yet: reads say so and make none. */
	run(&r, NULL, "get", "t", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "no database"));
	assert_int_equal(access(db, F_OK), -1);
}

static void test_set_patch_get(void **state)
{
	struct run r;
	char cursor[80], epoch[40], bad[120];
	json_object *v;

	(void)state;
	run(&r, NULL, "init", NULL);
	assert_int_equal(r.status, 0);
	member_str(r.out, "epoch", epoch, sizeof(epoch));
	assert_int_equal(strlen(epoch), 16);
	/* patch on a missing topic is refused; set creates it. */
	run(&r, "[]", "patch", "t", "-", NULL);
	assert_int_equal(r.status, 1);
	run(&r, "{\"items\":[],\"n\":0}", "set", "t", "-", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(member_int(r.out, "version"), 1);
	write_file("p1", "[{\"op\":\"add\",\"path\":\"/items/-\",\"value\":"
			 "\"milk\"}]");
	run(&r, NULL, "patch", "t", path("p1"), NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(member_int(r.out, "version"), 2);
	member_str(r.out, "cursor", cursor, sizeof(cursor));
	v = member(r.out, "patch");
	assert_int_equal(json_object_array_length(v), 1);
	json_object_put(v);
	/* A patch that cannot apply: exit 1, nothing changes. */
	run(&r,
	    "[{\"op\":\"add\",\"path\":\"/x\",\"value\":1},"
	    "{\"op\":\"remove\",\"path\":\"/nope\"}]",
	    "patch", "t", "-", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "op 1"));
	run(&r, "not json", "patch", "t", "-", NULL);
	assert_int_equal(r.status, 2);
	run(&r, NULL, "get", "t", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(member_int(r.out, "version"), 2);
	v = member(r.out, "state");
	assert_string_equal(
	    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
	    "{\"items\":[\"milk\"],\"n\":0}");
	json_object_put(v);
	/* Invalid topic names: exit 2, nothing written. */
	run(&r, "1", "set", "", "-", NULL);
	assert_int_equal(r.status, 2);
	run(&r, "1", "set", "a b", "-", NULL);
	assert_int_equal(r.status, 2);
	run(&r, "1", "set", "caf\xc3\xa9", "-", NULL);
	assert_int_equal(r.status, 2);
	run(&r, NULL, "get", "missing", NULL);
	assert_int_equal(r.status, 2);
	run(&r, NULL, "topics", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "{\"topic\":\"t\",\"version\":2}\n");
	/* Idempotent set. */
	run(&r, "{\"n\":5}", "set", "u", "-", "--id", "k1", NULL);
	assert_int_equal(r.status, 0);
	run(&r, "{\"n\":6}", "set", "u", "-", "--id", "k1", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"replayed\":true"));
	assert_int_equal(member_int(r.out, "version"), 1);
	/* log: all, after a cursor, bad cursors. */
	run(&r, NULL, "log", "t", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"version\":1"));
	assert_non_null(strstr(r.out, "\"version\":2"));
	run(&r, NULL, "log", "t", "--after", cursor, NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	snprintf(bad, sizeof(bad), "%s:1", epoch);
	run(&r, NULL, "log", "t", "--after", bad, NULL);
	assert_int_equal(r.status, 0);
	assert_null(strstr(r.out, "\"version\":1"));
	assert_non_null(strstr(r.out, "\"version\":2"));
	run(&r, NULL, "log", "t", "--after", "0123456789abcdef:1", NULL);
	assert_int_equal(r.status, 2);
	snprintf(bad, sizeof(bad), "%s:999", epoch);
	run(&r, NULL, "log", "t", "--after", bad, NULL);
	assert_int_equal(r.status, 2);
	run(&r, NULL, "log", "t", "--after", "junk", NULL);
	assert_int_equal(r.status, 2);
	run(&r, NULL, "compact", "--vacuum", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(member_int(r.out, "removed"), 0);
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
	struct run r;
	char cursor[80], line[4096];
	int p[2], status;
	size_t n = 0;
	pid_t pid;
	double t0;

	(void)state;
	run(&r, "{\"w\":0}", "set", "w", "-", NULL);
	assert_int_equal(r.status, 0);
	member_str(r.out, "cursor", cursor, sizeof(cursor));
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl(bin, bin, "--db", db, "watch", "w", "other", "--after",
		      cursor, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	usleep(100 * 1000);
	t0 = now_ms();
	run(&r, "[{\"op\":\"replace\",\"path\":\"/w\",\"value\":1}]", "patch",
	    "w", "-", NULL);
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
	const char *b = getenv("SC_BUILD");

	(void)state;
	snprintf(bin, sizeof(bin), "%s/statechannel",
		 b != NULL && b[0] != '\0' ? b : "build");
	if (access(bin, X_OK) != 0) {
		fprintf(stderr, "no executable %s (set SC_BUILD)\n", bin);
		return -1;
	}
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(db, sizeof(db), "%s/sc.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[4300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_help_and_usage),
	    cmocka_unit_test(test_set_patch_get),
	    cmocka_unit_test(test_watch),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
