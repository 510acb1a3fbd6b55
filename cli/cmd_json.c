/*
 * cli/cmd_json.c — the JSON subcommands of the statechannel command:
 * `diff OLD.json NEW.json` prints the RFC 6902 patch from one document
 * to the other, `apply DOC.json PATCH.json` prints the patched document.
 * "-" reads standard input.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/error.h"
#include "json/diff.h"
#include "json/patch.h"
#include "json/value.h"

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
	code = sc_cli_load_json(argv[0], files[0], &from);
	if (code == SC_CLI_OK)
		code = sc_cli_load_json(argv[0], files[1], &to);
	if (code != SC_CLI_OK)
		goto out;
	if (sc_diff(from, to, &patch, &err) != SC_OK) {
		fprintf(stderr, "statechannel %s: %s\n", argv[0], err.message);
		code = SC_CLI_USAGE;
		goto out;
	}
	code = sc_cli_print_json(argv[0], patch);
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
	code = sc_cli_load_json(argv[0], files[0], &doc);
	if (code == SC_CLI_OK)
		code = sc_cli_load_json(argv[0], files[1], &patch);
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
	code = sc_cli_print_json(argv[0], doc);
out:
	json_object_put(patch);
	json_object_put(doc);
	return code;
}
