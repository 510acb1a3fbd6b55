/*
 * fcgi/app.c — sc_app_main: the options of a StateChannel program and
 * its --help.  The serving itself is in server.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "fcgi/server.h"
#include "fcgi/statechannel.h"

#define DEFAULT_DB "./var/statechannel.db"

static void usage(FILE *f, const char *prog)
{
	fprintf(
	    f,
	    "usage: %s [OPTIONS]\n"
	    "\n"
	    "A StateChannel FastCGI application.  Spawned by the web server "
	    "(lighttpd\n"
	    "bin-path, Apache mod_fcgid: the FastCGI socket is fd 0) or on "
	    "its own socket\n"
	    "with --listen (nginx, Apache mod_proxy_fcgi, lighttpd "
	    "\"socket\").\n"
	    "\n"
	    "Routes, below the mount point:\n"
	    "  GET  /state/TOPIC     the state, {topic,version,cursor,state}; "
	    "ETag, 304\n"
	    "  POST /events/TOPIC    {\"event\",\"payload\",\"id\"} -> "
	    "{topic,version,cursor,patch}\n"
	    "  GET  /stream/TOPIC, /stream?topic=A&topic=B\n"
	    "                        Server-Sent Events; resume with "
	    "Last-Event-ID, ?after=\n"
	    "                        or ?last_event_id=\n"
	    "\n"
	    "Options:\n"
	    "  --db FILE|URI         the database: an SQLite file, or "
	    "PostgreSQL's\n"
	    "                        postgresql://... (else $STATECHANNEL_DB, "
	    "else %s)\n"
	    "  --listen ADDR         serve on a Unix socket PATH or on "
	    "HOST:PORT\n"
	    "  --workers N           threads for short requests (default 4)\n"
	    "  --heartbeat SECONDS   comment on idle streams every SECONDS "
	    "(default 15)\n"
	    "  --max-stream-life SECONDS\n"
	    "                        end a stream after SECONDS; the browser "
	    "reconnects\n"
	    "                        with Last-Event-ID and loses nothing "
	    "(default 0:\n"
	    "                        never; set it below mod_fcgid's "
	    "FcgidBusyTimeout)\n"
	    "  --body-limit BYTES    largest POST body (default 1048576)\n"
	    "  --state-limit BYTES   largest state a topic may reach; an "
	    "event past it\n"
	    "                        is refused, 413 state_too_big (default "
	    "16777216)\n"
	    "  --max-streams N       open streams of this process; past it "
	    "503 with\n"
	    "                        Retry-After (default: 3/4 of the fd "
	    "limit)\n"
	    "  --answer-timeout SECONDS\n"
	    "                        a client must have read a whole answer "
	    "by then\n"
	    "                        (default 30); streams are not answers\n"
	    "  --drop-idle-topics SECONDS\n"
	    "                        drop topics unchanged this long; they "
	    "read as\n"
	    "                        init_state again (default 0: never)\n"
	    "  --queue-limit BYTES   output a stream may have queued before "
	    "it is cut off\n"
	    "                        (default 1048576)\n"
	    "  --log-level LEVEL     error, warn, info (default) or debug: "
	    "records on stderr,\n"
	    "                        the web server's error log\n"
	    "  --cache-mb MB         memory for the current states of hot "
	    "topics, counted\n"
	    "                        as their JSON text (default 256)\n"
	    "  --sync-full           SQLite synchronous=FULL: a commit "
	    "survives power loss\n"
	    "                        (default NORMAL: survives a crash of "
	    "the process)\n"
	    "  --allow-origin ORIGIN let pages of ORIGIN "
	    "(http(s)://HOST[:PORT])"
	    " use the\n"
	    "                        routes from the browser, with "
	    "credentials; repeatable;\n"
	    "                        * lets any origin read (never POST)."
	    " Default: same\n"
	    "                        origin only\n"
	    "  --health              answer GET /health (200, or 503 when the "
	    "database\n"
	    "                        does not answer)\n"
	    "  --metrics             answer GET /metrics (Prometheus text); "
	    "keep it private\n"
	    "  --version             print the version and exit\n"
	    "  --help                this text\n"
	    "\n"
	    "The protocol: docs/protocol.md; the options: statechannel(1).\n",
	    prog, DEFAULT_DB);
}

/* Parses a whole number in [min, max] into *out; 0 on success. */
static int number(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Makes the directory of path when it is missing (the default ./var). */
static void make_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL || slash == path)
		return;
	n = (size_t)(slash - path);
	if (n >= sizeof(dir))
		return;
	memcpy(dir, path, n);
	dir[n] = '\0';
	mkdir(dir, 0755);
}

int sc_app_main(const sc_app *app, int argc, char **argv)
{
	static const struct {
		const char *name;
		long long min, max;
	} nums[] = {
	    {"--workers", 1, 256},
	    {"--heartbeat", 1, 86400},
	    {"--max-stream-life", 0, 365LL * 86400},
	    {"--body-limit", 1, 1LL << 30},
	    {"--queue-limit", 4096, 1LL << 30},
	    {"--state-limit", 0, 1LL << 40},
	    {"--max-streams", 0, 1LL << 30},
	    {"--drop-idle-topics", 0, 100LL * 365 * 86400},
	    {"--answer-timeout", 1, 3600},
	    {"--cache-mb", 1, 1LL << 20},
	};
	long long val[10] = {4,	 15, 0, 1 << 20, 1 << 20, 16 << 20,
			     0,	 0,  30, 256};
	sc_server_options opt;
	const char *env = getenv("STATECHANNEL_DB");
	const char *prog = argc > 0 ? argv[0] : "statechannel.fcgi";
	int i;
	size_t k;

	memset(&opt, 0, sizeof(opt));
	opt.app = app;
	opt.db_path = (env != NULL && env[0] != '\0') ? env : DEFAULT_DB;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL, *eq = strchr(a, '=');
		char name[64];
		size_t nl = eq ? (size_t)(eq - a) : strlen(a);

		if (a[0] == '\0')
			continue; /* a template's empty APP_ARGS */
		if (nl >= sizeof(name))
			goto bad;
		memcpy(name, a, nl);
		name[nl] = '\0';
		if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
			usage(stdout, prog);
			return 0;
		}
		if (strcmp(name, "--version") == 0) {
			printf("%s (StateChannel) %s\n", prog, SC_VERSION);
			return 0;
		}
		if (strcmp(name, "--sync-full") == 0) {
			opt.sync_full = 1;
			continue;
		}
		if (strcmp(name, "--health") == 0) {
			opt.health = 1;
			continue;
		}
		if (strcmp(name, "--metrics") == 0) {
			opt.metrics = 1;
			continue;
		}
		if (eq != NULL)
			v = eq + 1;
		else if (i + 1 < argc)
			v = argv[++i];
		if (v == NULL)
			goto bad;
		if (strcmp(name, "--db") == 0) {
			opt.db_path = v;
			continue;
		}
		if (strcmp(name, "--listen") == 0) {
			opt.listen = v;
			continue;
		}
		if (strcmp(name, "--log-level") == 0) {
			sc_log_level l;

			if (sc_log_level_parse(v, &l) != 0)
				goto bad;
			sc_log_set_level(l);
			continue;
		}
		if (strcmp(name, "--allow-origin") == 0) {
			sc_error err;

			sc_error_clear(&err);
			if (sc_cors_allow(&opt.cors, v, &err) != SC_OK) {
				fprintf(stderr, "%s: %s\n", prog, err.message);
				return 2;
			}
			continue;
		}
		for (k = 0; k < sizeof(nums) / sizeof(nums[0]); k++)
			if (strcmp(name, nums[k].name) == 0)
				break;
		if (k == sizeof(nums) / sizeof(nums[0]) ||
		    number(v, nums[k].min, nums[k].max, &val[k]) != 0)
			goto bad;
	}
	if (app == NULL || app->init_state == NULL || app->on_event == NULL) {
		fprintf(stderr,
			"%s: the sc_app needs init_state and "
			"on_event\n",
			prog);
		return 2;
	}
	if (strcmp(opt.db_path, DEFAULT_DB) == 0)
		make_parent(opt.db_path);
	opt.workers = (int)val[0];
	opt.hub.heartbeat_ms = (int)val[1] * 1000;
	opt.hub.max_life_s = (int)val[2];
	opt.body_limit = (size_t)val[3];
	opt.hub.queue_limit = (size_t)val[4];
	opt.state_limit = (size_t)val[5];
	opt.max_streams = (size_t)val[6];
	opt.drop_idle_s = (long)val[7];
	opt.hub.respond_ms = (int)val[8] * 1000;
	opt.cache_bytes = (size_t)val[9] << 20;
	return sc_server_run(&opt);
bad:
	fprintf(stderr, "%s: bad option or value: %s\n", prog, argv[i]);
	usage(stderr, prog);
	return 2;
}
