/*
 * tests/common/test_log.c — the logger: the record's shape, levels,
 * quoting of values, and control bytes that cannot start a record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"

/* Runs sc_log with stderr on a pipe; what it wrote into out. */
static void capture(char *out, size_t cap, sc_log_level level,
		    const char *text)
{
	int p[2], saved = dup(2);
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	dup2(p[1], 2);
	close(p[1]);
	sc_log(level, "%s", text);
	dup2(saved, 2);
	close(saved);
	n = read(p[0], out, cap - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
}

static void test_records(void **state)
{
	char out[2048], q[64];
	sc_log_level l = SC_LOG_ERROR;

	(void)state;
	sc_log_set_level(SC_LOG_INFO);
	capture(out, sizeof(out), SC_LOG_INFO, "event=start workers=4");
	assert_string_equal(out,
			    "statechannel: level=info event=start workers=4\n");
	/* Below the level: nothing. */
	capture(out, sizeof(out), SC_LOG_DEBUG, "event=x");
	assert_string_equal(out, "");
	sc_log_set_level(SC_LOG_DEBUG);
	capture(out, sizeof(out), SC_LOG_DEBUG, "event=x");
	assert_string_equal(out, "statechannel: level=debug event=x\n");
	/* A newline in a value cannot start a record of its own. */
	capture(out, sizeof(out), SC_LOG_WARN, "msg=a\nstatechannel: forged");
	assert_string_equal(
	    out, "statechannel: level=warn msg=a\\x0astatechannel: forged\n");
	/* Quoting. */
	assert_string_equal(sc_log_q(q, sizeof(q), "list:a-1"), "list:a-1");
	assert_string_equal(sc_log_q(q, sizeof(q), "two words"),
			    "\"two words\"");
	assert_string_equal(sc_log_q(q, sizeof(q), "a\"b\\c"),
			    "\"a\\\"b\\\\c\"");
	assert_string_equal(sc_log_q(q, sizeof(q), ""), "\"\"");
	assert_string_equal(sc_log_q(q, sizeof(q), NULL), "-");
	assert_string_equal(sc_log_q(q, 6, "x y z w"), "\"x y\"");
	/* Levels by name. */
	assert_int_equal(sc_log_level_parse("warn", &l), 0);
	assert_int_equal(l, SC_LOG_WARN);
	assert_int_equal(sc_log_level_parse("verbose", &l), -1);
	assert_int_equal(l, SC_LOG_WARN);
	sc_log_set_level(SC_LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
