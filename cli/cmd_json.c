/*
 * cli/cmd_json.c — the JSON subcommands of the statechannel command:
 * `diff OLD.json NEW.json` prints the RFC 6902 patch from one document
 * to the other, `apply DOC.json PATCH.json` prints the patched document.
 * "-" reads standard input.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/alloc.h"
#include "common/error.h"
#include "json/diff.h"
#include "json/patch.h"
#include "json/value.h"

/* Largest input file read (a JSON document or patch). */
#define INPUT_MAX (256u * 1024 * 1024)

typedef void usage_fn(FILE *f);

static void usage_diff(FILE *f)
{
	fprintf(f,
		"usage: statechannel diff OLD.json NEW.json\n\n"
		"Prints the RFC 6902 JSON Patch that turns OLD into NEW, on "
		"one line.\n"
		"'-' for a file reads standard input (for one of the two).\n"
		"Exit status: 0 printed, 2 usage error or unreadable/invalid "
		"JSON.\n");
}

static void usage_apply(FILE *f)
{
	fprintf(f, "usage: statechannel apply DOC.json PATCH.json\n\n"
		   "Applies the RFC 6902 JSON Patch in PATCH to DOC and prints "
		   "the result,\non one line.  The patch applies whole or not "
		   "at all.\n"
		   "'-' for a file reads standard input (for one of the two).\n"
		   "Exit status: 0 printed, 1 the patch cannot be applied (the "
		   "message names\nthe failing op's index), 2 usage error or "
		   "unreadable/invalid JSON.\n");
}

/*
 * Reads the two file operands of a subcommand into files[].  Returns -1
 * to go on, or the exit code to return (after --help or a usage error).
 */
static int two_files(int argc, char **argv, usage_fn *usage,
		     const char *files[2])
{
	int i, n = 0, opts = 1;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (opts &&
		    (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
			usage(stdout);
			return SC_CLI_OK;
		}
		if (opts && strcmp(a, "--") == 0) {
			opts = 0;
			continue;
		}
		if (opts && a[0] == '-' && a[1] != '\0') {
			fprintf(stderr,
				"statechannel %s: unknown option '%s'\n",
				argv[0], a);
			usage(stderr);
			return SC_CLI_USAGE;
		}
		if (n == 2) {
			fprintf(stderr, "statechannel %s: too many arguments\n",
				argv[0]);
			usage(stderr);
			return SC_CLI_USAGE;
		}
		files[n++] = a;
	}
	if (n != 2) {
		fprintf(stderr, "statechannel %s: two files are needed\n",
			argv[0]);
		usage(stderr);
		return SC_CLI_USAGE;
	}
	if (strcmp(files[0], "-") == 0 && strcmp(files[1], "-") == 0) {
		fprintf(stderr,
			"statechannel %s: only one file can be '-' "
			"(standard input)\n",
			argv[0]);
		return SC_CLI_USAGE;
	}
	return -1;
}

/* Reads all of f into *buf (sc_free it) and *len, up to INPUT_MAX. */
static sc_err read_all(FILE *f, char **buf, size_t *len, sc_error *err)
{
	size_t cap = 0, n = 0, got;
	char *b = NULL, *nb;
	sc_err rc = SC_OK;

	for (;;) {
		if (n == cap) {
			if (cap >= INPUT_MAX) {
				rc = sc_error_set(err, SC_ERR_TOO_BIG,
						  "larger than %u bytes",
						  INPUT_MAX);
				goto out;
			}
			cap = cap == 0 ? 65536 : cap * 2;
			if (cap > INPUT_MAX)
				cap = INPUT_MAX;
			nb = sc_realloc(b, cap);
			if (nb == NULL) {
				rc = sc_error_set(err, SC_ERR_NOMEM,
						  "out of memory");
				goto out;
			}
			b = nb;
		}
		got = fread(b + n, 1, cap - n, f);
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

/*
 * Reads and parses the JSON file path ("-": standard input) into *out (a
 * new reference; NULL for the literal null).  Returns SC_CLI_OK, or
 * SC_CLI_USAGE after saying why on stderr.
 */
static int load(const char *cmd, const char *path, json_object **out)
{
	int is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "standard input" : path;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	sc_error err;
	int code = SC_CLI_OK;

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

/* Prints o and a newline on stdout; SC_CLI_USAGE when that fails. */
static int print_json(const char *cmd, json_object *o)
{
	size_t len;
	const char *text = sc_json_text(o, &len);

	if (text == NULL) {
		fprintf(stderr, "statechannel %s: out of memory\n", cmd);
		return SC_CLI_USAGE;
	}
	if (fwrite(text, 1, len, stdout) != len || putchar('\n') == EOF ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "statechannel %s: writing the result: %s\n",
			cmd, strerror(errno));
		return SC_CLI_USAGE;
	}
	return SC_CLI_OK;
}

int sc_cli_diff(const sc_cli_globals *g, int argc, char **argv)
{
	json_object *from = NULL, *to = NULL, *patch = NULL;
	const char *files[2];
	sc_error err;
	int code;

	(void)g;
	code = two_files(argc, argv, usage_diff, files);
	if (code >= 0)
		return code;
	code = load(argv[0], files[0], &from);
	if (code == SC_CLI_OK)
		code = load(argv[0], files[1], &to);
	if (code != SC_CLI_OK)
		goto out;
	if (sc_diff(from, to, &patch, &err) != SC_OK) {
		fprintf(stderr, "statechannel %s: %s\n", argv[0], err.message);
		code = SC_CLI_USAGE;
		goto out;
	}
	code = print_json(argv[0], patch);
out:
	json_object_put(patch);
	json_object_put(to);
	json_object_put(from);
	return code;
}

int sc_cli_apply(const sc_cli_globals *g, int argc, char **argv)
{
	json_object *doc = NULL, *patch = NULL;
	const char *files[2];
	sc_error err;
	sc_err rc;
	int code;

	(void)g;
	code = two_files(argc, argv, usage_apply, files);
	if (code >= 0)
		return code;
	code = load(argv[0], files[0], &doc);
	if (code == SC_CLI_OK)
		code = load(argv[0], files[1], &patch);
	if (code != SC_CLI_OK)
		goto out;
	rc = sc_patch_apply(&doc, patch, &err);
	if (rc != SC_OK) {
		fprintf(stderr, "statechannel %s: %s: %s\n", argv[0],
			strcmp(files[1], "-") == 0 ? "standard input"
						   : files[1],
			err.message);
		/* Out of memory is no verdict on the patch. */
		code = rc == SC_ERR_NOMEM ? SC_CLI_USAGE : SC_CLI_REFUSED;
		goto out;
	}
	code = print_json(argv[0], doc);
out:
	json_object_put(patch);
	json_object_put(doc);
	return code;
}
