/*
 * cli/cmd_store.c — the store subcommands of the statechannel command:
 * init, topics, get, set, patch, log, watch, compact, drop.  Output is JSON,
 * one value per line, built with json-c.
 *
 * set on a missing topic creates it (state null, version 0) and then
 * sets it, so the new state is version 1 with a log row like any other
 * change; patch on a missing topic is refused (exit 1), since a patch
 * needs a document to apply to.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/error.h"
#include "json/value.h"
#include "store/store.h"

/* The options a subcommand accepts. */
enum {
	OPT_AFTER = 1,
	OPT_VACUUM = 2,
	OPT_ID = 4,
	OPT_EVENT = 8,
	OPT_LIMIT = 16,
	OPT_IDLE = 32,
};

typedef struct args {
	const char *pos[64];
	int npos;
	const char *after;
	const char *id;
	const char *event;
	long limit;
	long idle; /* -1: not given */
	int vacuum;
} args;

typedef struct subcmd {
	const char *name;
	const char *usage; /* the --help text */
	int opts;
	int min_pos, max_pos;
} subcmd;

static const char common_help[] =
    "Exit status: 0 success, 1 change refused, 2 usage or input error "
    "(a missing,\nunreadable or invalid database included).\n";

static const subcmd cmds[] = {
    {"init",
     "usage: statechannel [--db FILE] init\n\n"
     "Creates the database (schema, epoch) when it does not exist, or "
     "migrates an\nolder one, and prints {\"db\",\"epoch\"}.\n",
     0, 0, 0},
    {"topics",
     "usage: statechannel [--db FILE] topics\n\n"
     "Prints {\"topic\",\"version\"} for every topic, one per line, in "
     "name order.\n",
     0, 0, 0},
    {"get",
     "usage: statechannel [--db FILE] get TOPIC\n\n"
     "Prints {\"topic\",\"version\",\"cursor\",\"state\"}.  A missing "
     "topic is an error (2).\n",
     0, 1, 1},
    {"set",
     "usage: statechannel [--db FILE] set TOPIC FILE|- [--id KEY] "
     "[--event NAME]\n\n"
     "Replaces the state of TOPIC with the JSON document in FILE ('-': "
     "standard\ninput); the log gets the diff.  A missing topic is "
     "created (null at version\n0, then set).  Prints "
     "{\"topic\",\"version\",\"cursor\",\"patch\"} (and \"replayed\": "
     "true\nwhen --id KEY was used before: nothing changed).\n",
     OPT_ID | OPT_EVENT, 2, 2},
    {"patch",
     "usage: statechannel [--db FILE] patch TOPIC FILE|- [--id KEY] "
     "[--event NAME]\n\n"
     "Applies the RFC 6902 JSON Patch in FILE ('-': standard input) to "
     "TOPIC, whole\nor not at all, and logs its ops as they are.  Prints "
     "{\"topic\",\"version\",\"cursor\",\"patch\"}.\nA patch that cannot "
     "apply, or a missing topic, exits 1.\n",
     OPT_ID | OPT_EVENT, 2, 2},
    {"log",
     "usage: statechannel [--db FILE] log TOPIC [--after CURSOR] "
     "[--limit N]\n\n"
     "Prints the log entries of TOPIC after CURSOR (default: all kept), "
     "one per line:\n{\"topic\",\"version\",\"cursor\",\"event\",\"time\","
     "\"patch\"}; time is ms since the Unix epoch.\nA cursor of another "
     "database, ahead of the log or older than what the log\nkeeps is an "
     "error (2): use get for the full state.\n",
     OPT_AFTER | OPT_LIMIT, 1, 1},
    {"watch",
     "usage: statechannel [--db FILE] watch TOPIC... [--after CURSOR]\n\n"
     "Prints each new log entry of the TOPICs as any process commits it, "
     "one per\nline as in 'log', until interrupted (SIGINT, SIGTERM: exit "
     "0).  With --after,\nstarts with the entries after CURSOR.\n",
     OPT_AFTER, 1, 64},
    {"compact",
     "usage: statechannel [--db FILE] compact [--vacuum]\n\n"
     "Prunes the log rows and idempotency keys that retention no longer "
     "keeps,\ncheckpoints the WAL, and with --vacuum rebuilds the file.  "
     "Prints {\"removed\"}.\n",
     OPT_VACUUM, 0, 0},
    {"drop",
     "usage: statechannel [--db FILE] drop TOPIC\n"
     "       statechannel [--db FILE] drop --idle SECONDS\n\n"
     "Removes TOPIC (its state, log and idempotency keys), or every topic "
     "not\nchanged for SECONDS (and every topic never written).  A dropped "
     "topic reads\nas the application's initial state again until an event "
     "creates it; its\nstreams end and resume with the new state.  Prints "
     "{\"dropped\"}.\n",
     OPT_IDLE, 0, 1},
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const subcmd *find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

static int usage_error(const subcmd *c, const char *fmt, const char *what)
{
	fprintf(stderr, "statechannel %s: ", c->name);
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\n%s", c->usage);
	return SC_CLI_USAGE;
}

/* Parses argv; returns -1 to go on, else the exit code. */
static int parse(const subcmd *c, int argc, char **argv, args *a)
{
	static const struct {
		const char *name;
		int opt;
	} valued[] = {{"--after", OPT_AFTER},
		      {"--id", OPT_ID},
		      {"--event", OPT_EVENT},
		      {"--limit", OPT_LIMIT},
		      {"--idle", OPT_IDLE}};
	int i, opts = 1;
	size_t k;

	memset(a, 0, sizeof(*a));
	a->idle = -1;
	for (i = 1; i < argc; i++) {
		const char *s = argv[i], *val = NULL;
		int opt = 0;

		if (!opts || s[0] != '-' || strcmp(s, "-") == 0) {
			if (a->npos >= c->max_pos)
				return usage_error(c, "too many arguments%s",
						   "");
			a->pos[a->npos++] = s;
			continue;
		}
		if (strcmp(s, "--") == 0) {
			opts = 0;
			continue;
		}
		if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
			printf("%s%s", c->usage, common_help);
			return SC_CLI_OK;
		}
		if (strcmp(s, "--vacuum") == 0 && (c->opts & OPT_VACUUM)) {
			a->vacuum = 1;
			continue;
		}
		for (k = 0; k < sizeof(valued) / sizeof(valued[0]); k++) {
			size_t n = strlen(valued[k].name);

			if (!(c->opts & valued[k].opt) ||
			    strncmp(s, valued[k].name, n) != 0)
				continue;
			if (s[n] == '=')
				val = s + n + 1;
			else if (s[n] == '\0' && i + 1 < argc)
				val = argv[++i];
			else if (s[n] == '\0')
				return usage_error(c, "%s needs a value", s);
			else
				continue;
			opt = valued[k].opt;
			break;
		}
		if (opt == 0)
			return usage_error(c, "unknown option '%s'", s);
		if (opt == OPT_AFTER)
			a->after = val;
		else if (opt == OPT_ID)
			a->id = val;
		else if (opt == OPT_EVENT)
			a->event = val;
		else {
			char *end;
			long v = strtol(val, &end, 10);

			if (*end != '\0' || end == val || v < 0 ||
			    (opt == OPT_IDLE && v == 0))
				return usage_error(c, "bad number '%s'", val);
			if (opt == OPT_IDLE)
				a->idle = v;
			else
				a->limit = v;
		}
	}
	if (a->npos < c->min_pos)
		return usage_error(c, "missing arguments%s", "");
	return -1;
}

/* Opens the store; when must_exist, a missing file is an error rather
 * than a new database. */
static int open_store(const subcmd *c, const sc_cli_globals *g, int must_exist,
		      sc_store **s)
{
	sc_store_options o;
	sc_error err;

	/* A PostgreSQL database is the server's: it gets the schema on
	 * first use. */
	if (must_exist && !sc_store_is_pg(g->db_path) &&
	    access(g->db_path, F_OK) != 0) {
		fprintf(stderr,
			"statechannel %s: %s: no database (statechannel "
			"init makes one)\n",
			c->name, g->db_path);
		return SC_CLI_USAGE;
	}
	memset(&o, 0, sizeof(o));
	o.path = g->db_path;
	if (sc_store_open(&o, s, &err) != SC_OK) {
		fprintf(stderr, "statechannel %s: %s\n", c->name, err.message);
		return SC_CLI_USAGE;
	}
	return SC_CLI_OK;
}

static int fail(const subcmd *c, const sc_error *err, int code)
{
	fprintf(stderr, "statechannel %s: %s\n", c->name, err->message);
	return code;
}

/* Prints o (a new reference, consumed; NULL: an allocation failed)
 * and a newline, flushed. */
static int print(const subcmd *c, json_object *o)
{
	int code = SC_CLI_USAGE;

	if (o == NULL)
		fprintf(stderr, "statechannel %s: out of memory\n", c->name);
	else
		code = sc_cli_print_json(c->name, o);
	json_object_put(o);
	return code;
}

/* Adds key: the JSON text value (parsed; invalid text is added as a
 * string) to o. */
static void add_json(json_object *o, const char *key, const char *text,
		     size_t len)
{
	json_object *v = NULL;

	if (sc_json_parse(text, len, &v, NULL) != SC_OK)
		v = json_object_new_string_len(text, (int)len);
	json_object_object_add(o, key, v);
}

static int cmd_init(const subcmd *c, const sc_cli_globals *g, args *a)
{
	sc_store *s = NULL;
	json_object *o;
	char shown[1024];
	int code = open_store(c, g, 0, &s);

	(void)a;
	if (code != SC_CLI_OK)
		return code;
	o = json_object_new_object();
	json_object_object_add(
	    o, "db",
	    json_object_new_string(
		sc_store_display(g->db_path, shown, sizeof(shown))));
	json_object_object_add(o, "epoch",
			       json_object_new_string(sc_store_epoch(s)));
	code = print(c, o);
	sc_store_close(s);
	return code;
}

static int topic_line(const char *topic, int64_t version, void *arg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "topic", json_object_new_string(topic));
	json_object_object_add(o, "version", json_object_new_int64(version));
	return print(arg, o) != SC_CLI_OK;
}

static int cmd_topics(const subcmd *c, const sc_cli_globals *g, args *a)
{
	sc_store *s = NULL;
	sc_error err;
	int code = open_store(c, g, 1, &s);

	(void)a;
	if (code == SC_CLI_OK &&
	    sc_store_topics(s, topic_line, (void *)c, &err) != SC_OK)
		code = fail(c, &err, SC_CLI_USAGE);
	sc_store_close(s);
	return code;
}

static int cmd_get(const subcmd *c, const sc_cli_globals *g, args *a)
{
	sc_store *s = NULL;
	sc_store_state st;
	sc_error err;
	char cur[SC_CURSOR_MAX];
	json_object *o;
	int code = open_store(c, g, 1, &s);

	if (code != SC_CLI_OK)
		return code;
	if (sc_store_get(s, a->pos[0], &st, &err) != SC_OK) {
		code = fail(c, &err, SC_CLI_USAGE);
		goto out;
	}
	sc_store_cursor_format(s, st.seq, cur);
	o = json_object_new_object();
	json_object_object_add(o, "topic", json_object_new_string(a->pos[0]));
	json_object_object_add(o, "version", json_object_new_int64(st.version));
	json_object_object_add(o, "cursor", json_object_new_string(cur));
	add_json(o, "state", st.state, st.state_len);
	code = print(c, o);
	sc_store_state_free(&st);
out:
	sc_store_close(s);
	return code;
}

typedef struct change_arg {
	int set;
	json_object *doc; /* the new state (taken by set) or the patch */
} change_arg;

static sc_err apply_change(sc_store_txn *txn, void *arg, sc_error *err)
{
	change_arg *ca = arg;

	if (ca->set) {
		json_object *d = ca->doc;

		ca->doc = NULL;
		return sc_store_txn_set(txn, d, err);
	}
	return sc_store_txn_patch(txn, ca->doc, err);
}

static int cmd_change(const subcmd *c, const sc_cli_globals *g, args *a)
{
	sc_store *s = NULL;
	sc_store_result res;
	sc_error err;
	char cur[SC_CURSOR_MAX];
	change_arg ca;
	json_object *o;
	sc_err rc;
	int code;

	memset(&ca, 0, sizeof(ca));
	memset(&res, 0, sizeof(res));
	ca.set = strcmp(c->name, "set") == 0;
	if (sc_topic_check(a->pos[0], &err) != SC_OK)
		return fail(c, &err, SC_CLI_USAGE);
	code = sc_cli_load_json(c->name, a->pos[1], &ca.doc);
	if (code == SC_CLI_OK)
		code = open_store(c, g, 0, &s);
	if (code != SC_CLI_OK)
		goto out;
	if (ca.set && sc_store_create(s, a->pos[0], NULL, &err) != SC_OK) {
		code = fail(c, &err, SC_CLI_USAGE);
		goto out;
	}
	rc = sc_store_change(s, a->pos[0], a->event ? a->event : c->name, a->id,
			     apply_change, &ca, &res, &err);
	if (rc != SC_OK) {
		code =
		    fail(c, &err,
			 rc == SC_ERR_PATCH || rc == SC_ERR_TEST ||
				 rc == SC_ERR_POINTER ||
				 rc == SC_ERR_NOT_FOUND || rc == SC_ERR_TOO_DEEP
			     ? SC_CLI_REFUSED
			     : SC_CLI_USAGE);
		goto out;
	}
	sc_store_cursor_format(s, res.seq, cur);
	o = json_object_new_object();
	json_object_object_add(o, "topic", json_object_new_string(a->pos[0]));
	json_object_object_add(o, "version",
			       json_object_new_int64(res.version));
	json_object_object_add(o, "cursor", json_object_new_string(cur));
	add_json(o, "patch", res.patch, strlen(res.patch));
	if (res.replayed)
		json_object_object_add(o, "replayed",
				       json_object_new_boolean(1));
	code = print(c, o);
out:
	sc_store_result_free(&res);
	json_object_put(ca.doc);
	sc_store_close(s);
	return code;
}

typedef struct walk_ctx {
	const subcmd *c;
	sc_store *s;
	int failed;
} walk_ctx;

static int entry_line(const sc_store_entry *e, void *arg)
{
	walk_ctx *w = arg;
	char cur[SC_CURSOR_MAX];
	json_object *o = json_object_new_object();

	sc_store_cursor_format(w->s, e->seq, cur);
	json_object_object_add(o, "topic", json_object_new_string(e->topic));
	json_object_object_add(o, "version", json_object_new_int64(e->version));
	json_object_object_add(o, "cursor", json_object_new_string(cur));
	json_object_object_add(
	    o, "event", e->event ? json_object_new_string(e->event) : NULL);
	json_object_object_add(o, "time", json_object_new_int64(e->time_ms));
	add_json(o, "patch", e->patch, e->patch_len);
	if (print(w->c, o) != SC_CLI_OK)
		w->failed = 1;
	return w->failed;
}

/* The seq to start after: --after CURSOR (checked to be resumable for
 * every topic that exists), else start (0 for log, now for watch). */
static int start_seq(const subcmd *c, sc_store *s, const args *a,
		     int64_t *after)
{
	sc_error err;
	sc_err rc;
	int i;

	if (a->after == NULL)
		return SC_CLI_OK;
	if (sc_store_cursor_parse(s, a->after, after, &err) != SC_OK)
		return fail(c, &err, SC_CLI_USAGE);
	for (i = 0; i < a->npos; i++) {
		rc = sc_store_resumable(s, a->pos[i], *after, &err);
		if (rc != SC_OK && rc != SC_ERR_NOT_FOUND) {
			fprintf(stderr,
				"statechannel %s: cannot resume: %s (use get "
				"for the full state)\n",
				c->name, err.message);
			return SC_CLI_USAGE;
		}
	}
	return SC_CLI_OK;
}

static int cmd_log(const subcmd *c, const sc_cli_globals *g, args *a)
{
	sc_store *s = NULL;
	sc_error err;
	walk_ctx w;
	int64_t after = 0;
	int code = open_store(c, g, 1, &s);

	if (code == SC_CLI_OK)
		code = start_seq(c, s, a, &after);
	if (code != SC_CLI_OK)
		goto out;
	w.c = c;
	w.s = s;
	w.failed = 0;
	if (sc_store_log(s, a->pos, 1, after, (size_t)a->limit, entry_line, &w,
			 NULL, &err) != SC_OK)
		code = fail(c, &err, SC_CLI_USAGE);
	else if (w.failed)
		code = SC_CLI_USAGE;
out:
	sc_store_close(s);
	return code;
}

static int cmd_watch(const subcmd *c, const sc_cli_globals *g, args *a)
{
	struct sigaction sa;
	sc_store *s = NULL;
	sc_error err;
	walk_ctx w;
	int64_t after = 0;
	uint64_t token;
	int i, code;

	for (i = 0; i < a->npos; i++)
		if (sc_topic_check(a->pos[i], &err) != SC_OK)
			return fail(c, &err, SC_CLI_USAGE);
	code = open_store(c, g, 1, &s);
	if (code != SC_CLI_OK)
		return code;
	token = sc_store_wake_token(s);
	if (a->after == NULL && sc_store_max_seq(s, &after, &err) != SC_OK)
		code = fail(c, &err, SC_CLI_USAGE);
	if (code == SC_CLI_OK)
		code = start_seq(c, s, a, &after);
	if (code != SC_CLI_OK)
		goto out;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	w.c = c;
	w.s = s;
	w.failed = 0;
	while (!stop) {
		/* The token is taken before the read, so a commit after
		 * the read ends the wait at once. */
		if (sc_store_log(s, a->pos, (size_t)a->npos, after, 0,
				 entry_line, &w, &after, &err) != SC_OK) {
			code = fail(c, &err, SC_CLI_USAGE);
			break;
		}
		if (w.failed) {
			code = SC_CLI_USAGE;
			break;
		}
		if (!stop)
			sc_store_wait(s, &token, 1000);
	}
out:
	sc_store_close(s);
	return code;
}

static int cmd_compact(const subcmd *c, const sc_cli_globals *g, args *a)
{
	sc_store *s = NULL;
	sc_error err;
	int64_t removed = 0;
	json_object *o;
	int code = open_store(c, g, 1, &s);

	if (code != SC_CLI_OK)
		return code;
	if (sc_store_prune(s, &removed, &err) != SC_OK ||
	    sc_store_compact(s, a->vacuum, &err) != SC_OK) {
		code = fail(c, &err, SC_CLI_USAGE);
	} else {
		o = json_object_new_object();
		json_object_object_add(o, "removed",
				       json_object_new_int64(removed));
		code = print(c, o);
	}
	sc_store_close(s);
	return code;
}

static int cmd_drop(const subcmd *c, const sc_cli_globals *g, args *a)
{
	sc_store *s = NULL;
	sc_error err;
	int64_t dropped = 0;
	json_object *o;
	int code;

	if ((a->npos == 1) == (a->idle >= 0))
		return usage_error(c, "give either TOPIC or --idle SECONDS%s",
				   "");
	code = open_store(c, g, 1, &s);
	if (code != SC_CLI_OK)
		return code;
	sc_error_clear(&err);
	if (sc_store_drop(s, a->npos == 1 ? a->pos[0] : NULL,
			  a->npos == 1 ? 0 : a->idle, &dropped,
			  &err) != SC_OK) {
		code = fail(c, &err, SC_CLI_USAGE);
	} else {
		o = json_object_new_object();
		json_object_object_add(o, "dropped",
				       json_object_new_int64(dropped));
		code = print(c, o);
	}
	sc_store_close(s);
	return code;
}

/* Parses the arguments of the subcommand argv[0] and runs fn. */
static int run(const sc_cli_globals *g, int argc, char **argv,
	       int (*fn)(const subcmd *, const sc_cli_globals *, args *))
{
	const subcmd *c = find(argv[0]);
	args a;
	int code;

	if (c == NULL)
		return SC_CLI_USAGE;
	code = parse(c, argc, argv, &a);
	if (code >= 0)
		return code;
	return fn(c, g, &a);
}

int sc_cli_init(const sc_cli_globals *g, int argc, char **argv)
{
	return run(g, argc, argv, cmd_init);
}

int sc_cli_topics(const sc_cli_globals *g, int argc, char **argv)
{
	return run(g, argc, argv, cmd_topics);
}

int sc_cli_get(const sc_cli_globals *g, int argc, char **argv)
{
	return run(g, argc, argv, cmd_get);
}

int sc_cli_set(const sc_cli_globals *g, int argc, char **argv)
{
	return run(g, argc, argv, cmd_change);
}

int sc_cli_patch(const sc_cli_globals *g, int argc, char **argv)
{
	return run(g, argc, argv, cmd_change);
}

int sc_cli_log(const sc_cli_globals *g, int argc, char **argv)
{
	return run(g, argc, argv, cmd_log);
}

int sc_cli_watch(const sc_cli_globals *g, int argc, char **argv)
{
	return run(g, argc, argv, cmd_watch);
}

int sc_cli_compact(const sc_cli_globals *g, int argc, char **argv)
{
	return run(g, argc, argv, cmd_compact);
}

int sc_cli_drop(const sc_cli_globals *g, int argc, char **argv)
{
	return run(g, argc, argv, cmd_drop);
}
