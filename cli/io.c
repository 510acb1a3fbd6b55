/*
 * cli/io.c — what the subcommands share for their input and output:
 * reading a JSON file (or standard input) and printing a JSON value.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "json/text.h"
#include "json/value.h"

/* Largest input file read (a JSON document or patch). */
#define INPUT_MAX (256u * 1024 * 1024)

/* Reads all of f into *buf (sc_free it) and *len, up to INPUT_MAX. */
static sc_err read_all(FILE *f, char **buf, size_t *len, sc_error *err)
{
	size_t cap = 0, n = 0, got;
	char *b = NULL;
	sc_err rc = SC_OK;

	for (;;) {
		if (n + 1 >= cap) {
			rc = sc_buf_grow(&b, &cap, n, 1, INPUT_MAX);
			if (rc == SC_ERR_TOO_BIG)
				rc = sc_error_set(err, rc, "larger than %u bytes",
						  INPUT_MAX);
			else if (rc != SC_OK)
				rc = sc_error_set(err, rc, "out of memory");
			if (rc != SC_OK)
				goto out;
		}
		got = fread(b + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				rc = sc_error_set(err, SC_ERR_IO, "%s",
						  strerror(errno));
			break;
		}
	}
out:
	if (rc != SC_OK) {
		sc_free(b);
		return rc;
	}
	*buf = b;
	*len = n;
	return SC_OK;
}

int sc_cli_load_json(const char *cmd, const char *path, json_object **out)
{
	int is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "standard input" : path;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	sc_error err;
	int code = SC_CLI_OK;

	*out = NULL;
	if (f == NULL) {
		fprintf(stderr, "statechannel %s: %s: %s\n", cmd, name,
			strerror(errno));
		return SC_CLI_USAGE;
	}
	if (read_all(f, &buf, &len, &err) != SC_OK ||
	    sc_json_parse(buf, len, out, &err) != SC_OK) {
		fprintf(stderr, "statechannel %s: %s: %s\n", cmd, name,
			err.message);
		code = SC_CLI_USAGE;
	}
	sc_free(buf);
	if (!is_stdin)
		fclose(f);
	return code;
}

int sc_cli_print_json(const char *cmd, json_object *o)
{
	sc_buf text = {0};
	int code = SC_CLI_OK;

	if (sc_text_write(&text, o) != SC_OK) {
		fprintf(stderr, "statechannel %s: out of memory\n", cmd);
		code = SC_CLI_USAGE;
	} else if (fwrite(text.p, 1, text.len, stdout) != text.len ||
		   putchar('\n') == EOF || fflush(stdout) != 0) {
		fprintf(stderr, "statechannel %s: writing the result: %s\n",
			cmd, strerror(errno));
		code = SC_CLI_USAGE;
	}
	sc_buf_free(&text);
	return code;
}
