/*
 * tests/cli/test_cli_json.c — process-level tests of `statechannel diff`
 * and `statechannel apply`: runs the built binary ($SC_BUILD/statechannel,
 * SC_BUILD defaulting to "build") and checks stdout, stderr and the exit
 * code.
 */
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

#include "json/value.h"

static char bin[4096];
static char dir[] = "/tmp/sc-cli-json-XXXXXX";

struct run {
	int status; /* exit code, or -1 when killed */
	char out[65536];
	char err[65536];
};

/* Returns dir/name, in a static buffer (one at a time). */
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

/* Runs statechannel with args (NULL-terminated), stdin from the text
 * input (NULL: empty), and collects the results into r. */
static void run(struct run *r, const char *input, ...)
{
	static char args[16][4200]; /* copies: path() reuses its buffers */
	const char *argv[16], *a;
	va_list ap;
	int n = 0, st;
	pid_t pid;

	argv[n++] = bin;
	va_start(ap, input);
	while (n < 15 && (a = va_arg(ap, const char *)) != NULL) {
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
	return 0;
}

static int teardown(void **state)
{
	static const char *const files[] = {"stdin", "stdout", "stderr",
					    "doc",   "patch",  "old",
					    "new",   "bad",    "deep"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(path(files[i]));
	rmdir(dir);
	return 0;
}

/* Asserts that text (one JSON line) equals want as JSON. */
static void assert_json(const char *text, const char *want)
{
	json_object *a = NULL, *b = NULL;
	size_t len = strlen(text);

	if (len == 0 || text[len - 1] != '\n')
		fail_msg("output '%s' is not one line", text);
	if (sc_json_parse(text, len, &a, NULL) != SC_OK ||
	    sc_json_parse(want, strlen(want), &b, NULL) != SC_OK)
		fail_msg("bad JSON: '%s' or '%s'", text, want);
	if (!sc_json_equal(a, b))
		fail_msg("got %s, want %s", text, want);
	json_object_put(a);
	json_object_put(b);
}

static void test_apply(void **state)
{
	struct run r;

	(void)state;
	write_file("doc", "{\"foo\": [\"bar\", \"baz\"], \"n\": 1}");
	write_file("patch", "[{\"op\":\"add\",\"path\":\"/foo/1\","
			    "\"value\":\"qux\"},"
			    "{\"op\":\"replace\",\"path\":\"/n\",\"value\":"
			    "\"a/b\"}]");
	run(&r, NULL, "apply", path("doc"), path("patch"), NULL);
	assert_int_equal(r.status, 0);
	/* Compact, "/" not escaped. */
	assert_string_equal(
	    r.out, "{\"foo\":[\"bar\",\"qux\",\"baz\"],\"n\":\"a/b\"}\n");
	assert_string_equal(r.err, "");

	/* "-" is standard input, for either file. */
	run(&r, "[{\"op\":\"remove\",\"path\":\"/n\"}]", "apply", path("doc"),
	    "-", NULL);
	assert_int_equal(r.status, 0);
	assert_json(r.out, "{\"foo\":[\"bar\",\"baz\"]}");
	run(&r, "[1,2]", "apply", "-", path("patch"), NULL);
	assert_int_equal(r.status, 1);
	run(&r, "null", "apply", "-", "--", path("patch"), NULL);
	assert_int_equal(r.status, 1);
	run(&r, "[]", "apply", "-", path("patch"),
	    NULL); /* /foo/1 below an array: no */
	assert_int_equal(r.status, 1);
	write_file("patch", "[{\"op\":\"add\",\"path\":\"/-\",\"value\":3}]");
	run(&r, "[1,2]", "apply", "-", path("patch"), NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "[1,2,3]\n");
}

static void test_apply_refused(void **state)
{
	struct run r;

	(void)state;
	write_file("doc", "{\"a\":1}");
	write_file("patch", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":1.0},"
			    "{\"op\":\"remove\",\"path\":\"/b\"}]");
	run(&r, NULL, "apply", path("doc"), path("patch"), NULL);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "op 1"));
	assert_non_null(strstr(r.err, "/b"));

	write_file("patch", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":2}]");
	run(&r, NULL, "apply", path("doc"), path("patch"), NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "op 0 (test)"));

	write_file("patch", "{\"op\":\"remove\",\"path\":\"/a\"}");
	run(&r, NULL, "apply", path("doc"), path("patch"), NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "array"));

	write_file("patch", "[{\"op\":\"frob\",\"path\":\"/a\"}]");
	run(&r, NULL, "apply", path("doc"), path("patch"), NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "op 0"));
	assert_non_null(strstr(r.err, "unknown op"));
}

static void test_bad_input(void **state)
{
	char *deep = malloc(2001);
	struct run r;

	(void)state;
	assert_non_null(deep);
	write_file("doc", "{\"a\":1}");
	write_file("patch", "[]");
	write_file("bad", "{\"a\":1,}");
	run(&r, NULL, "apply", path("bad"), path("patch"), NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, path("bad")));
	assert_non_null(strstr(r.err, "invalid JSON"));
	assert_string_equal(r.out, "");
	run(&r, NULL, "apply", path("doc"), path("bad"), NULL);
	assert_int_equal(r.status, 2);
	run(&r, "[", "apply", path("doc"), "-", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "standard input"));
	run(&r, NULL, "apply", path("doc"), path("missing"), NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "missing"));
	run(&r, NULL, "diff", path("doc"), path("bad"), NULL);
	assert_int_equal(r.status, 2);
	run(&r, "", "diff", "-", path("doc"), NULL);
	assert_int_equal(r.status, 2);

	/* 1,000 levels: a clean error, no crash. */
	memset(deep, '[', 1000);
	memset(deep + 1000, ']', 1000);
	deep[2000] = '\0';
	write_file("deep", deep);
	run(&r, NULL, "apply", path("deep"), path("patch"), NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "deeper"));
	run(&r, NULL, "diff", path("doc"), path("deep"), NULL);
	assert_int_equal(r.status, 2);
	free(deep);
}

static void test_usage(void **state)
{
	struct run r;

	(void)state;
	run(&r, NULL, "apply", "--help", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "usage: statechannel apply"));
	run(&r, NULL, "diff", "-h", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "usage: statechannel diff"));
	run(&r, NULL, "apply", path("doc"), NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "usage"));
	run(&r, NULL, "apply", NULL);
	assert_int_equal(r.status, 2);
	run(&r, NULL, "diff", "a", "b", "c", NULL);
	assert_int_equal(r.status, 2);
	run(&r, NULL, "diff", "--bogus", "a", "b", NULL);
	assert_int_equal(r.status, 2);
	run(&r, NULL, "apply", "-", "-", NULL);
	assert_int_equal(r.status, 2);
	run(&r, NULL, NULL);
	assert_int_equal(r.status, 2);
	run(&r, NULL, "--help", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "apply"));
	assert_non_null(strstr(r.out, "diff"));
}

static void test_diff(void **state)
{
	static const struct {
		const char *old, *new;
	} pairs[] = {
	    {"{\"a\":1,\"b\":[1,2,3]}", "{\"a\":2,\"b\":[1,3],\"c\":{}}"},
	    {"[1,2,3]", "[0,1,2,3]"},
	    {"{\"\":{\"~\":{\"/\":1}}}", "{\"\":{\"~\":{\"/\":2,\"0\":[]}}}"},
	    {"null", "{\"x\":null}"},
	    {"{\"k\":\"v\"}", "7"},
	};
	struct run r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		write_file("old", pairs[i].old);
		write_file("new", pairs[i].new);
		run(&r, NULL, "diff", path("old"), path("new"), NULL);
		assert_int_equal(r.status, 0);
		assert_true(r.out[0] == '[');
		/* The printed patch turns OLD into NEW. */
		write_file("patch", r.out);
		run(&r, NULL, "apply", path("old"), path("patch"), NULL);
		if (r.status != 0)
			fail_msg("pair %zu: apply: %s", i, r.err);
		assert_json(r.out, pairs[i].new);
	}
	/* Equal documents: an empty patch; 1 equals 1.0. */
	run(&r, "{\"b\":1.0,\"a\":[]}", "diff", path("doc"), "-", NULL);
	assert_int_equal(r.status, 0);
	write_file("doc", "{\"a\":[],\"b\":1}");
	run(&r, "{\"b\":1.0,\"a\":[]}", "diff", path("doc"), "-", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "[]\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_apply),
	    cmocka_unit_test(test_apply_refused),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_usage),
	    cmocka_unit_test(test_diff),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
