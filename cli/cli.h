/*
 * cli/cli.h — the subcommands of the statechannel command.  Each takes
 * the arguments after its name (argv[0] is the subcommand's name) and
 * the global options, and returns the process exit code: 0 success,
 * 1 a refused change (a patch that cannot apply), 2 a usage error or
 * unreadable/invalid input.
 */
#ifndef SC_CLI_CLI_H
#define SC_CLI_CLI_H

#include <json-c/json.h>

#define SC_CLI_OK      0
#define SC_CLI_REFUSED 1
#define SC_CLI_USAGE   2

typedef struct sc_cli_globals {
	const char *db_path; /* --db, else $STATECHANNEL_DB, else default */
} sc_cli_globals;

typedef struct sc_cli_command {
	const char *name;
	const char *summary; /* one line for the top-level --help */
	int (*run)(const sc_cli_globals *g, int argc, char **argv);
} sc_cli_command;

/*
 * Reads and parses the JSON file path ("-": standard input, up to
 * 256 MiB) into *out: a new reference (NULL for the literal null).
 * Returns SC_CLI_OK, or SC_CLI_USAGE after saying why on stderr
 * ("statechannel CMD: FILE: why"); *out is then NULL.  (cli/io.c)
 */
int sc_cli_load_json(const char *cmd, const char *path, json_object **out);

/*
 * Prints o (borrowed; NULL prints null) compact, a newline, and flushes
 * stdout.  Returns SC_CLI_OK, or SC_CLI_USAGE after saying why on
 * stderr.  (cli/io.c)
 */
int sc_cli_print_json(const char *cmd, json_object *o);

/* JSON subcommands (cli/cmd_json.c). */
int sc_cli_diff(const sc_cli_globals *g, int argc, char **argv);
int sc_cli_apply(const sc_cli_globals *g, int argc, char **argv);

/* Store subcommands (cli/cmd_store.c). */
int sc_cli_init(const sc_cli_globals *g, int argc, char **argv);
int sc_cli_topics(const sc_cli_globals *g, int argc, char **argv);
int sc_cli_get(const sc_cli_globals *g, int argc, char **argv);
int sc_cli_set(const sc_cli_globals *g, int argc, char **argv);
int sc_cli_patch(const sc_cli_globals *g, int argc, char **argv);
int sc_cli_log(const sc_cli_globals *g, int argc, char **argv);
int sc_cli_watch(const sc_cli_globals *g, int argc, char **argv);
int sc_cli_compact(const sc_cli_globals *g, int argc, char **argv);
int sc_cli_drop(const sc_cli_globals *g, int argc, char **argv);

#endif
