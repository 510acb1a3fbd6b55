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

#include "json/value.h"
#include "store/store.h"

#define SUPPORT_UNUSED __attribute__((unused))

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
