/*
 * cli/main.c — the statechannel command: global options, then one
 * subcommand from the table below.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "statechannel/version.h"

#define DEFAULT_DB "./var/statechannel.db"

static const sc_cli_command commands[] = {
    {"init", "create (or migrate) the database", sc_cli_init},
    {"topics", "list the topics with their versions", sc_cli_topics},
    {"get", "print a topic's state, version and cursor", sc_cli_get},
    {"set", "replace a topic's state (creating the topic)", sc_cli_set},
    {"patch", "apply a JSON Patch to a topic's state", sc_cli_patch},
    {"log", "print a topic's log after a cursor", sc_cli_log},
    {"watch", "print new log entries of topics as they commit", sc_cli_watch},
    {"compact", "prune the log by retention; --vacuum", sc_cli_compact},
    {"drop", "remove a topic, or the topics idle for --idle SECONDS",
     sc_cli_drop},
    {"diff", "print the JSON Patch from OLD.json to NEW.json", sc_cli_diff},
    {"apply", "apply PATCH.json to DOC.json and print the result",
     sc_cli_apply},
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: statechannel [--db FILE] SUBCOMMAND [ARGS...]\n"
		"       statechannel --version | --help\n\n"
		"The database is --db FILE, else $STATECHANNEL_DB, else "
		"%s.\n\nSubcommands:\n",
		DEFAULT_DB);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "\n'statechannel SUBCOMMAND --help' tells more.\n"
		   "Exit status: 0 success, 1 change refused, 2 usage or "
		   "input error.\nThe manual: statechannel(1).\n");
}

int main(int argc, char **argv)
{
	sc_cli_globals g;
	const char *env = getenv("STATECHANNEL_DB");
	int i = 1;
	size_t c;

	g.db_path = (env != NULL && env[0] != '\0') ? env : DEFAULT_DB;
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return SC_CLI_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("statechannel %s\n", SC_VERSION);
			return SC_CLI_OK;
		} else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
			g.db_path = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--db=", 5) == 0) {
			g.db_path = argv[i] + 5;
			i++;
		} else {
			fprintf(stderr, "statechannel: unknown option '%s'\n",
				argv[i]);
			usage(stderr);
			return SC_CLI_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return SC_CLI_USAGE;
	}
	for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (strcmp(argv[i], commands[c].name) == 0)
			return commands[c].run(&g, argc - i, argv + i);
	fprintf(stderr, "statechannel: unknown subcommand '%s'\n", argv[i]);
	usage(stderr);
	return SC_CLI_USAGE;
}
