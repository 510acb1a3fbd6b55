/*
 * tests/fcgi/test_process.c — the application as a process, without a
 * web server: starts $SC_BUILD/shopping.fcgi (and jsbench.fcgi) with
 * --listen on a Unix socket in a temporary directory and speaks raw
 * FastCGI to it with the small client below.  GET/POST/stream
 * semantics, ETag/304, idempotent replay, resume (Last-Event-ID,
 * ?after=, ?last_event_id=, foreign cursor), several topics on one
 * stream, heartbeats, the maximum stream life, a client that goes away,
 * a slow subscriber cut off, keep-alive connections, and every bad-input
 * row of docs/protocol.md (none may change the store).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <sqlite3.h>

/* --- a small FastCGI client ----------------------------------------- */

typedef struct conn {
	int fd;
	uint16_t id;
	unsigned char raw[1 << 16];
	size_t raw_len;
	char *out; /* FCGI_STDOUT text so far */
	size_t out_len, out_cap;
	size_t used; /* bytes of out already taken as SSE events */
	int ended, closed;
} conn;

typedef struct resp {
	int status;
	char head[4096];
	char *body;
	json_object *json;
} resp;

typedef struct server {
	pid_t pid;
	char dir[64], sock[128], db[128];
} server;

static server srv;
static int body_limit = 4096;
/* 1: the next start() sends the server's stderr to DIR/stderr.log. */
static int capture_stderr;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static conn *conn_open(const server *s)
{
	struct sockaddr_un sa;
	conn *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, s->sock);
	c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(c->fd >= 0);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(c->fd);
		free(c);
		return NULL;
	}
	return c;
}

static void conn_close(conn *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c->out);
	free(c);
}

static void put_rec(unsigned char *buf, size_t *n, int type, uint16_t id,
		    const void *data, size_t len)
{
	buf[(*n)++] = 1;
	buf[(*n)++] = (unsigned char)type;
	buf[(*n)++] = (unsigned char)(id >> 8);
	buf[(*n)++] = (unsigned char)id;
	buf[(*n)++] = (unsigned char)(len >> 8);
	buf[(*n)++] = (unsigned char)len;
	buf[(*n)++] = 0;
	buf[(*n)++] = 0;
	if (len > 0)
		memcpy(buf + *n, data, len);
	*n += len;
}

static void put_nv(unsigned char *buf, size_t *n, const char *name,
		   const char *value)
{
	size_t l[2] = {strlen(name), strlen(value)}, i;

	for (i = 0; i < 2; i++) {
		if (l[i] < 128) {
			buf[(*n)++] = (unsigned char)l[i];
		} else {
			buf[(*n)++] = (unsigned char)(0x80 | (l[i] >> 24));
			buf[(*n)++] = (unsigned char)(l[i] >> 16);
			buf[(*n)++] = (unsigned char)(l[i] >> 8);
			buf[(*n)++] = (unsigned char)l[i];
		}
	}
	memcpy(buf + *n, name, l[0]);
	*n += l[0];
	memcpy(buf + *n, value, l[1]);
	*n += l[1];
}

static void write_all(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		assert_true(w > 0);
		s += w;
		n -= (size_t)w;
	}
}

/*
 * Sends one request: method, uri (path?query, sent as REQUEST_URI with
 * SCRIPT_NAME "" and QUERY_STRING), extra "NAME=value" CGI variables
 * (NULL-terminated list, may be NULL), a body (may be NULL).
 */
static void send_request(conn *c, uint16_t id, int keep, const char *method,
			 const char *uri, const char *const *extra,
			 const char *ctype, const char *body, size_t body_len)
{
	static unsigned char params[8192], buf[16384];
	unsigned char begin[8] = {0, 1, (unsigned char)keep, 0, 0, 0, 0, 0};
	const char *q = strchr(uri, '?');
	char len[32], qs[1024] = "";
	size_t pn = 0, n = 0, off;

	c->id = id;
	c->ended = 0;
	c->out_len = c->used = 0;
	if (q != NULL)
		snprintf(qs, sizeof(qs), "%s", q + 1);
	put_nv(params, &pn, "REQUEST_METHOD", method);
	put_nv(params, &pn, "REQUEST_URI", uri);
	put_nv(params, &pn, "SCRIPT_NAME", "");
	put_nv(params, &pn, "QUERY_STRING", qs);
	put_nv(params, &pn, "SERVER_PROTOCOL", "HTTP/1.1");
	if (ctype != NULL)
		put_nv(params, &pn, "CONTENT_TYPE", ctype);
	snprintf(len, sizeof(len), "%zu", body_len);
	put_nv(params, &pn, "CONTENT_LENGTH", len);
	for (; extra != NULL && *extra != NULL; extra++) {
		char name[128];
		const char *eq = strchr(*extra, '=');

		snprintf(name, sizeof(name), "%.*s", (int)(eq - *extra),
			 *extra);
		put_nv(params, &pn, name, eq + 1);
	}
	put_rec(buf, &n, 1, id, begin, 8);
	put_rec(buf, &n, 4, id, params, pn);
	put_rec(buf, &n, 4, id, NULL, 0);
	write_all(c->fd, buf, n);
	for (off = 0; off < body_len;) {
		size_t k = body_len - off > 8000 ? 8000 : body_len - off;

		n = 0;
		put_rec(buf, &n, 5, id, body + off, k);
		write_all(c->fd, buf, n);
		off += k;
	}
	n = 0;
	put_rec(buf, &n, 5, id, NULL, 0);
	write_all(c->fd, buf, n);
}

/* Reads what arrives within timeout_ms (returns early once something
 * was parsed).  Returns 0, or -1 once the connection is closed. */
static int pump(conn *c, int timeout_ms)
{
	struct pollfd pfd = {c->fd, POLLIN, 0};
	ssize_t n;
	size_t off = 0;

	if (c->closed)
		return -1;
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return 0;
	n = read(c->fd, c->raw + c->raw_len, sizeof(c->raw) - c->raw_len);
	if (n <= 0) {
		c->closed = 1;
		return -1;
	}
	c->raw_len += (size_t)n;
	while (c->raw_len - off >= 8) {
		unsigned char *h = c->raw + off;
		size_t len = ((size_t)h[4] << 8) | h[5], pad = h[6];

		if (c->raw_len - off < 8 + len + pad)
			break;
		if (h[1] == 6 && len > 0) {
			if (c->out_len + len + 1 > c->out_cap) {
				c->out_cap = (c->out_len + len + 1) * 2;
				c->out = realloc(c->out, c->out_cap);
				assert_non_null(c->out);
			}
			memcpy(c->out + c->out_len, h + 8, len);
			c->out_len += len;
			c->out[c->out_len] = '\0';
		} else if (h[1] == 3) {
			c->ended = 1;
		}
		off += 8 + len + pad;
	}
	memmove(c->raw, c->raw + off, c->raw_len - off);
	c->raw_len -= off;
	return 0;
}

/* Splits the answer in c->out into status, head and body. */
static void parse_resp(conn *c, resp *r)
{
	char *sep;

	memset(r, 0, sizeof(*r));
	assert_non_null(c->out);
	sep = strstr(c->out, "\r\n\r\n");
	assert_non_null(sep);
	snprintf(r->head, sizeof(r->head), "%.*s", (int)(sep - c->out), c->out);
	assert_int_equal(sscanf(r->head, "Status: %d", &r->status), 1);
	r->body = strdup(sep + 4);
	if (r->body[0] != '\0')
		r->json = json_tokener_parse(r->body);
}

static void resp_free(resp *r)
{
	free(r->body);
	json_object_put(r->json);
	memset(r, 0, sizeof(*r));
}

static void request(const char *method, const char *uri,
		    const char *const *extra, const char *ctype,
		    const char *body, resp *r)
{
	conn *c = conn_open(&srv);
	long long end = now_ms() + 5000;

	assert_non_null(c);
	send_request(c, 1, 0, method, uri, extra, ctype, body,
		     body ? strlen(body) : 0);
	while (!c->ended && now_ms() < end)
		if (pump(c, 100) < 0)
			break;
	assert_true(c->ended);
	parse_resp(c, r);
	conn_close(c);
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_get_string(v);
}

static int64_t jint(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return -1;
	return json_object_get_int64(v);
}

static const char *err_code(resp *r)
{
	json_object *e;

	if (r->json == NULL || !json_object_object_get_ex(r->json, "error", &e))
		return "";
	return jstr(e, "code");
}

static void post(const char *topic, const char *body, resp *r)
{
	char uri[256];

	snprintf(uri, sizeof(uri), "/events/%s", topic);
	request("POST", uri, NULL, "application/json", body, r);
}

/* --- SSE events on a stream connection ------------------------------ */

typedef struct event {
	char type[32], id[64];
	char *data;
	int comment;
} event;

/* The next whole SSE event of c, waiting up to timeout_ms.  0: got one;
 * -1: none in time or the stream ended. */
static int next_event(conn *c, event *ev, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;

	memset(ev, 0, sizeof(*ev));
	for (;;) {
		char *start, *stop, *line;

		if (c->out != NULL && c->used == 0) {
			char *h = strstr(c->out, "\r\n\r\n");

			if (h != NULL)
				c->used = (size_t)(h + 4 - c->out);
		}
		start = c->out ? c->out + c->used : NULL;
		stop = start && c->used > 0 ? strstr(start, "\n\n") : NULL;
		if (stop != NULL) {
			size_t n = (size_t)(stop - start);
			char *blk = strndup(start, n), *save = NULL;

			c->used += n + 2;
			for (line = strtok_r(blk, "\n", &save); line != NULL;
			     line = strtok_r(NULL, "\n", &save)) {
				if (line[0] == ':')
					ev->comment = 1;
				else if (strncmp(line, "event: ", 7) == 0)
					snprintf(ev->type, sizeof(ev->type),
						 "%s", line + 7);
				else if (strncmp(line, "id: ", 4) == 0)
					snprintf(ev->id, sizeof(ev->id), "%s",
						 line + 4);
				else if (strncmp(line, "data: ", 6) == 0)
					ev->data = strdup(line + 6);
			}
			free(blk);
			return 0;
		}
		if (c->ended || now_ms() >= end)
			return -1;
		if (pump(c, 50) < 0 && c->raw_len == 0)
			return -1;
	}
}

/* The next event that is not a comment or the retry line. */
static int next_frame(conn *c, event *ev, int timeout_ms)
{
	while (next_event(c, ev, timeout_ms) == 0) {
		if (ev->type[0] != '\0' || ev->id[0] != '\0')
			return 0;
		free(ev->data);
	}
	return -1;
}

static conn *stream_open(const char *uri, const char *const *extra)
{
	conn *c = conn_open(&srv);
	long long end = now_ms() + 5000;

	assert_non_null(c);
	send_request(c, 3, 0, "GET", uri, extra, NULL, NULL, 0);
	while ((c->out == NULL || strstr(c->out, "\r\n\r\n") == NULL) &&
	       now_ms() < end)
		if (pump(c, 100) < 0)
			break;
	assert_non_null(c->out);
	assert_non_null(strstr(c->out, "Status: 200"));
	assert_non_null(strstr(c->out, "Content-Type: text/event-stream"));
	assert_non_null(strstr(c->out, "Cache-Control: no-cache"));
	assert_non_null(strstr(c->out, "X-Accel-Buffering: no"));
	assert_non_null(strstr(c->out, "X-Content-Type-Options: nosniff"));
	return c;
}

/* --- the server process --------------------------------------------- */

static int start(server *s, const char *app, const char *const *args)
{
	const char *b = getenv("SC_BUILD");
	char bin[256];
	const char *argv[32];
	int i = 0, k;

	/* "NAME": the example NAME.fcgi; "DIR/NAME": a helper program. */
	snprintf(bin, sizeof(bin), "%s/%s%s", b ? b : "build", app,
		 strchr(app, '/') ? "" : ".fcgi");
	strcpy(s->dir, "/tmp/sc-fcgi-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->sock, sizeof(s->sock), "%s/sock", s->dir);
	snprintf(s->db, sizeof(s->db), "%s/db", s->dir);
	argv[i++] = bin;
	argv[i++] = "--listen";
	argv[i++] = s->sock;
	argv[i++] = "--db";
	argv[i++] = s->db;
	for (k = 0; args != NULL && args[k] != NULL; k++)
		argv[i++] = args[k];
	argv[i] = NULL;
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		/* Never outlive a test that crashed. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (capture_stderr) {
			char log[160];
			int fd;

			snprintf(log, sizeof(log), "%s/stderr.log", s->dir);
			fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
			if (fd >= 0)
				dup2(fd, 2);
		}
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	for (k = 0; k < 100; k++) {
		conn *c = conn_open(s);

		if (c != NULL) {
			conn_close(c);
			return 0;
		}
		usleep(50000);
	}
	fail_msg("%s did not start", bin);
	return -1;
}

/* Stops the server; fails unless it exits with status 0 (under ASan,
 * a leak makes it nonzero). */
static void stop(server *s)
{
	char cmd[160];
	int status = 0;

	kill(s->pid, SIGTERM);
	assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(access(s->sock, F_OK), -1); /* socket removed */
	snprintf(cmd, sizeof(cmd), "rm -rf %s", s->dir);
	assert_int_equal(system(cmd), 0);
}

static int open_fds(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int setup(void **state)
{
	char limit[32];
	const char *args[] = {"--heartbeat",  "1",   "--workers", "2",
			      "--body-limit", limit, NULL};

	(void)state;
	snprintf(limit, sizeof(limit), "%d", body_limit);
	return start(&srv, "shopping", args);
}

static int teardown(void **state)
{
	(void)state;
	stop(&srv);
	return 0;
}

/* --- tests ---------------------------------------------------------- */

static void test_state(void **state)
{
	resp r, r2;
	char inm[256];
	const char *etag;
	const char *extra[] = {inm, NULL};

	(void)state;
	request("GET", "/state/list:a", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(r.json);
	assert_string_equal(jstr(r.json, "topic"), "list:a");
	assert_int_equal(jint(r.json, "version"), 0);
	assert_non_null(strchr(jstr(r.json, "cursor"), ':'));
	assert_string_equal(json_object_to_json_string_ext(
				json_object_object_get(r.json, "state"),
				JSON_C_TO_STRING_PLAIN),
			    "{\"items\":[],\"next_id\":1}");
	etag = strstr(r.head, "ETag: ");
	assert_non_null(etag);
	snprintf(inm, sizeof(inm), "HTTP_IF_NONE_MATCH=%.*s",
		 (int)strcspn(etag + 6, "\r\n"), etag + 6);
	request("GET", "/state/list:a", extra, NULL, NULL, &r2);
	assert_int_equal(r2.status, 304);
	assert_string_equal(r2.body, "");
	resp_free(&r2);
	/* Mounted below a prefix, with a percent-encoded topic. */
	request("GET", "/app/state/list%3Aa?x=1", NULL, NULL, NULL, &r2);
	assert_int_equal(r2.status, 200);
	assert_string_equal(jstr(r2.json, "topic"), "list:a");
	resp_free(&r2);
	/* A change makes the old ETag stale. */
	post("list:a", "{\"event\":\"add\",\"payload\":{\"name\":\"Tea\"}}",
	     &r2);
	assert_int_equal(r2.status, 200);
	resp_free(&r2);
	request("GET", "/state/list:a", extra, NULL, NULL, &r2);
	assert_int_equal(r2.status, 200);
	assert_int_equal(jint(r2.json, "version"), 1);
	resp_free(&r2);
	resp_free(&r);
}

static void test_events(void **state)
{
	resp r, r2;
	json_object *patch, *items;
	const char *body =
	    "{\"event\":\"add\",\"payload\":{\"name\":\" Milk \","
	    "\"quantity\":2},\"id\":\"k-1\"}";

	(void)state;
	post("list:e", body, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(jstr(r.json, "topic"), "list:e");
	assert_int_equal(jint(r.json, "version"), 1);
	assert_non_null(jstr(r.json, "cursor"));
	patch = json_object_object_get(r.json, "patch");
	assert_true(json_object_is_type(patch, json_type_array));
	assert_true(json_object_array_length(patch) >= 1);
	/* The same id again: the first answer, nothing changes. */
	post("list:e", body, &r2);
	assert_int_equal(r2.status, 200);
	assert_int_equal(jint(r2.json, "version"), 1);
	assert_string_equal(jstr(r2.json, "cursor"), jstr(r.json, "cursor"));
	resp_free(&r2);
	request("GET", "/state/list:e", NULL, NULL, NULL, &r2);
	assert_int_equal(jint(r2.json, "version"), 1);
	items = json_object_object_get(json_object_object_get(r2.json, "state"),
				       "items");
	assert_int_equal(json_object_array_length(items), 1);
	assert_string_equal(jstr(json_object_array_get_idx(items, 0), "name"),
			    "Milk");
	assert_int_equal(jint(json_object_array_get_idx(items, 0), "quantity"),
			 2);
	resp_free(&r2);
	/* toggle, rename, remove, clear_bought through the same route. */
	post("list:e", "{\"event\":\"toggle\",\"payload\":{\"id\":\"i1\"}}",
	     &r2);
	assert_int_equal(r2.status, 200);
	assert_int_equal(jint(r2.json, "version"), 2);
	resp_free(&r2);
	post("list:e",
	     "{\"event\":\"rename\",\"payload\":{\"id\":\"i1\",\"name\":\"Oat "
	     "milk\"}}",
	     &r2);
	assert_int_equal(jint(r2.json, "version"), 3);
	resp_free(&r2);
	post("list:e", "{\"event\":\"clear_bought\"}", &r2);
	assert_int_equal(r2.status, 200);
	assert_int_equal(jint(r2.json, "version"), 4);
	resp_free(&r2);
	request("GET", "/state/list:e", NULL, NULL, NULL, &r2);
	items = json_object_object_get(json_object_object_get(r2.json, "state"),
				       "items");
	assert_int_equal(json_object_array_length(items), 0);
	resp_free(&r2);
	resp_free(&r);
}

static void test_bad_input(void **state)
{
	static char big[8192];
	const char *user[] = {"REMOTE_USER=ann", NULL};
	static const struct {
		const char *method, *uri, *ctype, *body;
		int user;
		int status;
		const char *code;
	} rows[] = {
	    {"GET", "/nope", NULL, NULL, 0, 404, "not_found"},
	    {"GET", "/", NULL, NULL, 0, 404, "not_found"},
	    {"GET", "/state/bad%20topic", NULL, NULL, 0, 400, "bad_topic"},
	    {"GET", "/state/", NULL, NULL, 0, 400, "bad_topic"},
	    {"GET", "/state/other:x", NULL, NULL, 0, 404, "not_found"},
	    {"PUT", "/state/list:b", NULL, NULL, 0, 405, "method_not_allowed"},
	    {"GET", "/events/list:b", NULL, NULL, 0, 405, "method_not_allowed"},
	    {"POST", "/stream/list:b", "application/json", "{}", 0, 405,
	     "method_not_allowed"},
	    {"POST", "/events/list:b", "text/plain", "{\"event\":\"add\"}", 0,
	     415, "not_json"},
	    {"POST", "/events/list:b", NULL, "{\"event\":\"add\"}", 0, 415,
	     "not_json"},
	    {"POST", "/events/list:b", "application/json", "{bad", 0, 400,
	     "bad_json"},
	    {"POST", "/events/list:b", "application/json", "", 0, 400, NULL},
	    {"POST", "/events/list:b", "application/json", "[]", 0, 400,
	     "bad_event"},
	    {"POST", "/events/list:b", "application/json", "{\"event\":\"\"}",
	     0, 400, "bad_event"},
	    {"POST", "/events/list:b", "application/json",
	     "{\"event\":\"add\",\"id\":5}", 0, 400, "bad_id"},
	    {"POST", "/events/list:b", "application/json",
	     "{\"event\":\"add\",\"payload\":{\"name\":\"  \"}}", 0, 422,
	     "bad_name"},
	    {"POST", "/events/list:b", "application/json",
	     "{\"event\":\"add\",\"payload\":{\"name\":\"x\",\"quantity\":0}}",
	     0, 422, "bad_quantity"},
	    {"POST", "/events/list:b", "application/json",
	     "{\"event\":\"toggle\",\"payload\":{\"id\":\"nope\"}}", 0, 422,
	     "no_item"},
	    {"POST", "/events/list:b", "application/json",
	     "{\"event\":\"fly\"}", 0, 422, "unknown_event"},
	    {"POST", "/events/other:b", "application/json",
	     "{\"event\":\"add\"}", 0, 404, "not_found"},
	    {"POST", "/events/list:b", "application/json", big, 0, 413,
	     "too_big"},
	    {"GET", "/state/list:private-x", NULL, NULL, 0, 403, "forbidden"},
	    {"POST", "/events/list:private-x", "application/json",
	     "{\"event\":\"add\",\"payload\":{\"name\":\"x\"}}", 0, 403,
	     "forbidden"},
	    {"GET", "/stream/list:private-x", NULL, NULL, 0, 403, "forbidden"},
	    {"GET", "/state/list:private-x", NULL, NULL, 1, 200, NULL},
	    {"GET", "/stream", NULL, NULL, 0, 400, "no_topic"},
	    {"GET", "/stream?topic=bad%20x", NULL, NULL, 0, 400, "bad_topic"},
	    {"GET", "/stream?topic=list:b&topic=a/b", NULL, NULL, 0, 400,
	     "bad_topic"},
	    {"GET", "/stream/other:x", NULL, NULL, 0, 404, "not_found"},
	    /* Text that is not UTF-8, or NUL where names are C strings. */
	    {"POST", "/events/list:b", "application/json",
	     "{\"event\":\"add\",\"payload\":{\"name\":\"\xc0\xaf\"}}", 0, 400,
	     "bad_json"}, /* overlong */
	    {"POST", "/events/list:b", "application/json",
	     "{\"event\":\"add\",\"payload\":{\"name\":\"\xed\xa0\x80\"}}", 0,
	     400, "bad_json"}, /* a surrogate in UTF-8 */
	    {"POST", "/events/list:b", "application/json",
	     "{\"event\":\"add\",\"payload\":{\"name\":\"\xf4\x90\x80\x80\"}}",
	     0, 400, "bad_json"}, /* past U+10FFFF */
	    {"POST", "/events/list:b", "application/json",
	     "{\"event\":\"add\",\"payload\":{\"name\":\"\xe2\x82\"}}", 0, 400,
	     "bad_json"}, /* truncated */
	    {"POST", "/events/list:b", "application/json",
	     "{\"event\":\"add\",\"payload\":{\"name\":\"\\ud800\"}}", 0, 400,
	     "bad_json"}, /* lone escaped surrogate */
	    {"POST", "/events/list:b", "application/json",
	     "{\"event\":\"add\",\"payload\":{\"name\":\"\\udc00x\"}}", 0,
	     400, "bad_json"},
	    {"POST", "/events/list:b", "application/json",
	     "{\"event\":\"add\",\"payload\":{\"na\\u0000me\":\"x\"}}", 0,
	     400, "bad_json"}, /* NUL in a member name */
	    {"POST", "/events/list:b", "application/json",
	     "{\"event\":\"add\\u0000zzz\"}", 0, 400, "bad_event"},
	    {"POST", "/events/list:b", "application/json",
	     "{\"event\":\"add\",\"id\":\"k\\u0000one\",\"payload\":{"
	     "\"name\":\"x\"}}",
	     0, 400, "bad_id"},
	    {"GET", "/state/list:a%00b", NULL, NULL, 0, 400, "bad_topic"},
	    {"POST", "/events/list:b%00x", "application/json",
	     "{\"event\":\"add\",\"payload\":{\"name\":\"x\"}}", 0, 400,
	     "bad_topic"},
	    {"GET", "/stream?topic=list:b%00x", NULL, NULL, 0, 400, "bad_topic"},
	    /* Decoded once: "%2541" is "%41", not "A". */
	    {"GET", "/state/list:%2541", NULL, NULL, 0, 400, "bad_topic"},
	};
	resp r;
	size_t i;

	(void)state;
	memset(big, ' ', sizeof(big) - 1);
	memcpy(big, "{\"event\":\"add\"}", 15);
	request("GET", "/state/list:b", NULL, NULL, NULL, &r);
	assert_int_equal(jint(r.json, "version"), 0);
	resp_free(&r);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		request(rows[i].method, rows[i].uri, rows[i].user ? user : NULL,
			rows[i].ctype, rows[i].body, &r);
		if (r.status != rows[i].status)
			fail_msg("row %zu %s %s: status %d, body %s", i,
				 rows[i].method, rows[i].uri, r.status, r.body);
		assert_non_null(
		    strstr(r.head, "X-Content-Type-Options: nosniff"));
		if (r.status >= 400) {
			assert_non_null(strstr(r.head, "application/json"));
			assert_non_null(r.json);
			if (rows[i].code != NULL &&
			    strcmp(err_code(&r), rows[i].code) != 0)
				fail_msg("row %zu: code %s", i, err_code(&r));
			assert_non_null(
			    jstr(json_object_object_get(r.json, "error"),
				 "message"));
		}
		if (r.status == 405)
			assert_non_null(strstr(r.head, "Allow: "));
		resp_free(&r);
	}
	/* Nothing changed the store. */
	request("GET", "/state/list:b", NULL, NULL, NULL, &r);
	assert_int_equal(jint(r.json, "version"), 0);
	resp_free(&r);
}

static void check_patch(event *ev, const char *topic, int64_t version)
{
	json_object *d = json_tokener_parse(ev->data);

	assert_string_equal(ev->type, "patch");
	assert_non_null(d);
	assert_string_equal(jstr(d, "topic"), topic);
	assert_int_equal(jint(d, "version"), version);
	assert_true(json_object_is_type(json_object_object_get(d, "patch"),
					json_type_array));
	json_object_put(d);
}

static void test_stream(void **state)
{
	conn *c;
	event ev;
	resp r;
	char id[64], uri[160], hdr[100];
	const char *extra[] = {hdr, NULL};
	json_object *d;
	int i;

	(void)state;
	c = stream_open("/stream/list:s", NULL);
	assert_non_null(strstr(c->out, "retry: "));
	assert_int_equal(next_frame(c, &ev, 3000), 0);
	assert_string_equal(ev.type, "state");
	assert_true(ev.id[0] != '\0');
	d = json_tokener_parse(ev.data);
	assert_string_equal(jstr(d, "topic"), "list:s");
	assert_int_equal(jint(d, "version"), 0);
	assert_non_null(json_object_object_get(d, "state"));
	json_object_put(d);
	free(ev.data);
	post("list:s", "{\"event\":\"add\",\"payload\":{\"name\":\"a\"}}", &r);
	assert_int_equal(next_frame(c, &ev, 3000), 0);
	check_patch(&ev, "list:s", 1);
	assert_string_equal(ev.id, jstr(r.json, "cursor"));
	snprintf(id, sizeof(id), "%s", ev.id);
	free(ev.data);
	resp_free(&r);
	conn_close(c);

	/* Two changes while away; resume three ways: exactly those. */
	for (i = 0; i < 2; i++) {
		post("list:s",
		     "{\"event\":\"add\",\"payload\":{\"name\":\"b\"}}", &r);
		resp_free(&r);
	}
	for (i = 0; i < 3; i++) {
		if (i == 0) {
			snprintf(hdr, sizeof(hdr), "HTTP_LAST_EVENT_ID=%s", id);
			c = stream_open("/stream/list:s?after=x:1", extra);
		} else {
			snprintf(uri, sizeof(uri), "/stream/list:s?%s=%s",
				 i == 1 ? "after" : "last_event_id", id);
			c = stream_open(uri, NULL);
		}
		assert_int_equal(next_frame(c, &ev, 3000), 0);
		check_patch(&ev, "list:s", 2);
		free(ev.data);
		assert_int_equal(next_frame(c, &ev, 3000), 0);
		check_patch(&ev, "list:s", 3);
		free(ev.data);
		assert_int_equal(next_frame(c, &ev, 300), -1);
		conn_close(c);
	}

	/* A foreign or malformed cursor: the full state. */
	c = stream_open("/stream/list:s?after=ffff0000:1", NULL);
	assert_int_equal(next_frame(c, &ev, 3000), 0);
	assert_string_equal(ev.type, "state");
	d = json_tokener_parse(ev.data);
	assert_int_equal(jint(d, "version"), 3);
	json_object_put(d);
	free(ev.data);
	conn_close(c);
}

static void test_multi_topic(void **state)
{
	conn *c;
	event ev, ev2;
	resp r;
	char hdr[100];
	const char *extra[] = {hdr, NULL};

	(void)state;
	c = stream_open("/stream?topic=list:m1&topic=list:m2&topic=list:m1",
			NULL);
	assert_int_equal(next_frame(c, &ev, 3000), 0);
	assert_string_equal(ev.type, "state");
	assert_string_equal(ev.id, ""); /* only the last first frame */
	free(ev.data);
	assert_int_equal(next_frame(c, &ev2, 3000), 0);
	assert_string_equal(ev2.type, "state");
	assert_true(ev2.id[0] != '\0');
	free(ev2.data);
	post("list:m2", "{\"event\":\"add\",\"payload\":{\"name\":\"x\"}}", &r);
	resp_free(&r);
	post("list:m1", "{\"event\":\"add\",\"payload\":{\"name\":\"y\"}}", &r);
	resp_free(&r);
	assert_int_equal(next_frame(c, &ev, 3000), 0);
	check_patch(&ev, "list:m2", 1);
	free(ev.data);
	assert_int_equal(next_frame(c, &ev, 3000), 0);
	check_patch(&ev, "list:m1", 1);
	snprintf(hdr, sizeof(hdr), "HTTP_LAST_EVENT_ID=%s", ev.id);
	free(ev.data);
	conn_close(c);
	/* Resume both from the last id: nothing missed, nothing twice. */
	post("list:m1", "{\"event\":\"add\",\"payload\":{\"name\":\"z\"}}", &r);
	resp_free(&r);
	c = stream_open("/stream?topic=list:m1&topic=list:m2", extra);
	assert_int_equal(next_frame(c, &ev, 3000), 0);
	check_patch(&ev, "list:m1", 2);
	free(ev.data);
	assert_int_equal(next_frame(c, &ev, 300), -1);
	conn_close(c);
}

static void test_heartbeat(void **state)
{
	conn *c = stream_open("/stream/list:h", NULL);
	event ev;
	int beats = 0, i;

	(void)state;
	for (i = 0; i < 10 && beats == 0; i++) {
		if (next_event(c, &ev, 3000) != 0)
			break;
		beats += ev.comment;
		free(ev.data);
	}
	assert_int_equal(beats, 1);
	conn_close(c);
}

/* Closed streams are freed at once, not at the next write. */
static void test_client_gone(void **state)
{
	conn *cs[20];
	int before, during, after = -1, i;
	resp r;

	(void)state;
	/* A baseline once the earlier tests' connections are gone. */
	before = open_fds(srv.pid);
	for (i = 0; i < 50; i++) {
		usleep(50000);
		after = open_fds(srv.pid);
		if (after == before)
			break;
		before = after;
	}
	for (i = 0; i < 20; i++)
		cs[i] = stream_open("/stream/list:g", NULL);
	usleep(100000);
	during = open_fds(srv.pid);
	assert_true(during >= before + 20);
	for (i = 0; i < 20; i++)
		conn_close(cs[i]);
	for (i = 0; i < 40; i++) {
		usleep(25000);
		after = open_fds(srv.pid);
		if (after <= before)
			break;
	}
	assert_true(after <= before);
	request("GET", "/state/list:g", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
}

/* FCGI_KEEP_CONN: several requests on one connection, then a stream. */
static void test_keep_conn(void **state)
{
	conn *c = conn_open(&srv);
	resp r;
	event ev;
	int i;

	(void)state;
	assert_non_null(c);
	for (i = 0; i < 3; i++) {
		long long end = now_ms() + 3000;

		send_request(c, (uint16_t)(10 + i), 1, "GET", "/state/list:k",
			     NULL, NULL, NULL, 0);
		while (!c->ended && now_ms() < end)
			assert_int_equal(pump(c, 100), 0);
		parse_resp(c, &r);
		assert_int_equal(r.status, 200);
		resp_free(&r);
		usleep(i == 1 ? 100000 : 0); /* idle: watched by the hub */
	}
	send_request(c, 20, 1, "GET", "/stream/list:k", NULL, NULL, NULL, 0);
	assert_int_equal(next_frame(c, &ev, 3000), 0);
	assert_string_equal(ev.type, "state");
	free(ev.data);
	conn_close(c);
}

static void test_max_life(void **state)
{
	server keep = srv;
	const char *args[] = {"--max-stream-life", "1", NULL};
	conn *c;
	event ev;
	long long t0;

	(void)state;
	start(&srv, "shopping", args);
	c = stream_open("/stream/list:l", NULL);
	assert_int_equal(next_frame(c, &ev, 3000), 0);
	free(ev.data);
	t0 = now_ms();
	while (!c->ended && now_ms() - t0 < 4000)
		if (pump(c, 100) < 0)
			break;
	assert_true(c->ended); /* a clean FCGI_END_REQUEST */
	conn_close(c);
	stop(&srv);
	srv = keep;
}

/* A subscriber that does not read is cut off; it resumes with its last
 * id and gets every change it missed. */
static void test_slow_cutoff(void **state)
{
	server keep = srv;
	const char *args[] = {"--queue-limit", "65536", "--metrics", NULL};
	const char *ev_create = "{\"event\":\"create_10000\"}";
	char hdr[100];
	const char *extra[] = {hdr, NULL};
	conn *c;
	event ev;
	resp r;
	json_object *d;
	long long t0;
	int i;

	(void)state;
	start(&srv, "jsbench", args);
	c = stream_open("/stream/bench:1", NULL);
	assert_int_equal(next_frame(c, &ev, 3000), 0);
	snprintf(hdr, sizeof(hdr), "HTTP_LAST_EVENT_ID=%s", ev.id);
	free(ev.data);
	for (i = 0; i < 4; i++) {
		post("bench:1", ev_create, &r);
		assert_int_equal(r.status, 200);
		resp_free(&r);
	}
	/* Now read: the stream ends without FCGI_END_REQUEST, early. */
	t0 = now_ms();
	while (pump(c, 200) == 0 && !c->ended && now_ms() - t0 < 10000)
		;
	assert_true(c->closed);
	assert_false(c->ended);
	conn_close(c);
	/* The missed patches are more than half the queue: full state. */
	c = stream_open("/stream/bench:1", extra);
	assert_int_equal(next_frame(c, &ev, 5000), 0);
	assert_string_equal(ev.type, "state");
	d = json_tokener_parse(ev.data);
	assert_int_equal(jint(d, "version"), 4);
	assert_int_equal(json_object_array_length(json_object_object_get(
			     json_object_object_get(d, "state"), "rows")),
			 10000);
	json_object_put(d);
	free(ev.data);
	conn_close(c);
	/* GET /metrics counted the cut-off and the full-state resume. */
	request("GET", "/metrics", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\nstatechannel_slow_subscribers_cut_off"
				       "_total 1\n"));
	assert_non_null(
	    strstr(r.body, "\nstatechannel_resumes_full_state_total 1\n"));
	assert_non_null(strstr(r.body, "\nstatechannel_events_committed_total "
				       "4\n"));
	resp_free(&r);
	stop(&srv);
	srv = keep;
}

/* Whether the database of s stores topic (asks the statechannel
 * command, as an operator would). */
static int stored(const server *s, const char *topic)
{
	const char *b = getenv("SC_BUILD");
	char cmd[512], line[512], want[256];
	int found = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s/statechannel --db %s topics",
		 b ? b : "build", s->db);
	snprintf(want, sizeof(want), "\"topic\":\"%s\"", topic);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, want) != NULL)
			found = 1;
	assert_int_equal(pclose(f), 0);
	return found;
}

/* Reads and GETs of topics never written answer the initial state at
 * version 0 and store nothing; the first committed event creates the
 * topic, and a stream opened before sees it as the patch to version 1;
 * an event that fails leaves nothing behind. */
static void test_unwritten(void **state)
{
	conn *c;
	event ev;
	resp r;
	json_object *d;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		request("GET", "/state/list:ghost", NULL, NULL, NULL, &r);
		assert_int_equal(r.status, 200);
		assert_int_equal(jint(r.json, "version"), 0);
		assert_non_null(strchr(jstr(r.json, "cursor"), ':'));
		resp_free(&r);
	}
	c = stream_open("/stream/list:u1", NULL);
	assert_int_equal(next_frame(c, &ev, 3000), 0);
	assert_string_equal(ev.type, "state");
	d = json_tokener_parse(ev.data);
	assert_int_equal(jint(d, "version"), 0);
	assert_non_null(json_object_object_get(d, "state"));
	json_object_put(d);
	free(ev.data);
	assert_false(stored(&srv, "list:ghost"));
	assert_false(stored(&srv, "list:u1"));
	/* A refused event: still nothing stored. */
	post("list:u1", "{\"event\":\"fly\"}", &r);
	assert_int_equal(r.status, 422);
	resp_free(&r);
	assert_false(stored(&srv, "list:u1"));
	post("list:u1", "{\"event\":\"add\",\"payload\":{\"name\":\"Tea\"}}",
	     &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(jint(r.json, "version"), 1);
	resp_free(&r);
	assert_true(stored(&srv, "list:u1"));
	assert_int_equal(next_frame(c, &ev, 3000), 0);
	check_patch(&ev, "list:u1", 1);
	free(ev.data);
	conn_close(c);
}

/* Big answers never pin a worker: with one worker, clients that ask for
 * a big state and never read do not hold up anyone else; each slow
 * answer is whole when finally read.  A state past --state-limit is
 * refused and nothing changes. */
static void test_big_answers(void **state)
{
	server keep = srv;
	const char *args[] = {"--workers", "1", "--state-limit", "2000000",
			      NULL};
	conn *slow[4];
	resp r;
	json_object *d;
	size_t i, size;
	long long end;

	(void)state;
	start(&srv, "jsbench", args);
	post("bench:1", "{\"event\":\"create_10000\"}", &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	for (i = 0; i < 15; i++) {
		post("bench:1", "{\"event\":\"append_1000\"}", &r);
		assert_int_equal(r.status, 200);
		resp_free(&r);
	}
	request("GET", "/state/bench:1", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	size = strlen(r.body);
	/* More than the socket buffers take (wmem_default here: 208 KiB). */
	assert_true(size > 1000000);
	resp_free(&r);
	for (i = 0; i < 4; i++) {
		slow[i] = conn_open(&srv);
		assert_non_null(slow[i]);
		send_request(slow[i], 1, 0, "GET", "/state/bench:1", NULL, NULL,
			     NULL, 0);
	}
	/* The one worker still answers (request() waits at most 5 s). */
	for (i = 0; i < 3; i++) {
		request("GET", "/state/bench:2", NULL, NULL, NULL, &r);
		assert_int_equal(r.status, 200);
		resp_free(&r);
		post("bench:2", "{\"event\":\"create\"}", &r);
		assert_int_equal(r.status, 200);
		resp_free(&r);
	}
	/* Growing the state past the limit: 413, version unchanged. */
	for (i = 0; i < 40; i++) {
		post("bench:1", "{\"event\":\"append_1000\"}", &r);
		if (r.status != 200)
			break;
		resp_free(&r);
	}
	assert_int_equal(r.status, 413);
	assert_string_equal(err_code(&r), "state_too_big");
	resp_free(&r);
	request("GET", "/state/bench:1", NULL, NULL, NULL, &r);
	assert_int_equal(jint(r.json, "version"), 16 + (int64_t)i);
	assert_true(strlen(r.body) <= 2000000 + 200);
	resp_free(&r);
	/* The slow answers, read now, are whole. */
	for (i = 0; i < 4; i++) {
		end = now_ms() + 10000;
		while (!slow[i]->ended && now_ms() < end)
			if (pump(slow[i], 100) < 0)
				break;
		assert_true(slow[i]->ended);
		parse_resp(slow[i], &r);
		assert_int_equal(r.status, 200);
		assert_int_equal(strlen(r.body), size);
		d = json_object_object_get(r.json, "state");
		assert_int_equal(
		    json_object_array_length(json_object_object_get(d, "rows")),
		    25000);
		resp_free(&r);
		conn_close(slow[i]);
	}
	stop(&srv);
	srv = keep;
}

/* A client that never reads its answer is cut off at --answer-timeout,
 * and holds no worker meanwhile. */
static void test_answer_timeout(void **state)
{
	server keep = srv;
	const char *args[] = {"--workers", "1", "--answer-timeout", "1", NULL};
	conn *late;
	resp r;
	long long end;
	int i;

	(void)state;
	start(&srv, "jsbench", args);
	post("bench:1", "{\"event\":\"create_10000\"}", &r);
	resp_free(&r);
	for (i = 0; i < 15; i++) {
		post("bench:1", "{\"event\":\"append_1000\"}", &r);
		assert_int_equal(r.status, 200);
		resp_free(&r);
	}
	late = conn_open(&srv);
	assert_non_null(late);
	send_request(late, 1, 0, "GET", "/state/bench:1", NULL, NULL, NULL, 0);
	request("GET", "/state/bench:2", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	/* Closed by the app (waited for at most 20 s), never ended. */
	end = now_ms() + 20000;
	while (now_ms() < end && !late->closed) {
		struct pollfd pfd = {late->fd, POLLRDHUP, 0};

		if (poll(&pfd, 1, 200) > 0 &&
		    (pfd.revents & (POLLRDHUP | POLLHUP)))
			late->closed = 1;
	}
	assert_true(late->closed);
	conn_close(late);
	stop(&srv);
	srv = keep;
}

/* Past --max-streams a new stream gets 503 with Retry-After; short
 * requests still work; a closed stream frees its place. */
static void test_stream_cap(void **state)
{
	server keep = srv;
	const char *args[] = {"--max-streams", "2", NULL};
	conn *a, *b, *c;
	event ev;
	resp r;
	int i;

	(void)state;
	start(&srv, "shopping", args);
	a = stream_open("/stream/list:c1", NULL);
	b = stream_open("/stream/list:c2", NULL);
	/* Their first frames: the hub holds both. */
	assert_int_equal(next_frame(a, &ev, 3000), 0);
	free(ev.data);
	assert_int_equal(next_frame(b, &ev, 3000), 0);
	free(ev.data);
	request("GET", "/stream/list:c3", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 503);
	assert_string_equal(err_code(&r), "too_many_streams");
	assert_non_null(strstr(r.head, "Retry-After: "));
	resp_free(&r);
	request("GET", "/state/list:c3", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	post("list:c3", "{\"event\":\"add\",\"payload\":{\"name\":\"x\"}}",
	     &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	conn_close(a);
	/* The hub notices the close (bounded wait). */
	for (i = 0; i < 100; i++) {
		c = conn_open(&srv);
		assert_non_null(c);
		send_request(c, 3, 0, "GET", "/stream/list:c3", NULL, NULL,
			     NULL, 0);
		while ((c->out == NULL || strstr(c->out, "\r\n\r\n") == NULL) &&
		       pump(c, 100) == 0)
			;
		if (c->out != NULL && strstr(c->out, "Status: 200") != NULL)
			break;
		conn_close(c);
		c = NULL;
		usleep(50000);
	}
	assert_non_null(c);
	conn_close(c);
	conn_close(b);
	stop(&srv);
	srv = keep;
}

/* The POST answer's version; *out gets its patch as compact text, or
 * for an error its code. */
/*
 * Reads never wait behind writes: with the database's write lock held
 * by another program, more POSTs than worker threads (2) wait for it,
 * and a GET is still answered while they wait; once the lock goes, every
 * POST commits.
 */
static void test_reads_beside_blocked_writes(void **state)
{
	const char *body = "{\"event\":\"add\",\"payload\":{\"name\":"
			   "\"x\",\"quantity\":1}}";
	conn *posts[6];
	sqlite3 *db;
	resp r;
	int seen[8] = {0};
	size_t i;

	(void)state;
	post("list:rw", body, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	assert_int_equal(sqlite3_open(srv.db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
			 SQLITE_OK);
	for (i = 0; i < 6; i++) {
		posts[i] = conn_open(&srv);
		assert_non_null(posts[i]);
		send_request(posts[i], 1, 0, "POST", "/events/list:rw", NULL,
			     "application/json", body, strlen(body));
	}
	request("GET", "/state/list:rw", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(jint(r.json, "version"), 1);
	resp_free(&r);
	/* The writes are still waiting for the lock. */
	for (i = 0; i < 6; i++) {
		pump(posts[i], 0);
		assert_false(posts[i]->ended);
	}
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	for (i = 0; i < 6; i++) {
		long long end = now_ms() + 10000;
		int64_t v;

		while (!posts[i]->ended && now_ms() < end)
			if (pump(posts[i], 100) < 0)
				break;
		assert_true(posts[i]->ended);
		parse_resp(posts[i], &r);
		assert_int_equal(r.status, 200);
		v = jint(r.json, "version");
		assert_true(v >= 2 && v <= 7);
		assert_int_equal(seen[v], 0);
		seen[v] = 1;
		resp_free(&r);
		conn_close(posts[i]);
	}
}

static int64_t post_v(const char *topic, const char *body, int status,
		      char *out, size_t n)
{
	resp r;
	int64_t v;

	post(topic, body, &r);
	if (r.status != status)
		fail_msg("%s: status %d, body %s", body, r.status, r.body);
	v = jint(r.json, "version");
	if (out != NULL && status == 200)
		snprintf(out, n, "%s",
			 json_object_to_json_string_ext(
			     json_object_object_get(r.json, "patch"),
			     JSON_C_TO_STRING_PLAIN |
				 JSON_C_TO_STRING_NOSLASHESCAPE));
	else if (out != NULL)
		snprintf(out, n, "%s", err_code(&r));
	resp_free(&r);
	return v;
}

static const char *state_text(const char *topic, char *buf, size_t n)
{
	char uri[128];
	resp r;

	snprintf(uri, sizeof(uri), "/state/%s", topic);
	request("GET", uri, NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	snprintf(buf, n, "%s",
		 json_object_to_json_string_ext(
		     json_object_object_get(r.json, "state"),
		     JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	resp_free(&r);
	return buf;
}

#define EV(name)	   "{\"event\":\"" name "\"}"
#define EVP(name, payload) "{\"event\":\"" name "\",\"payload\":" payload "}"

/* Whether the server's captured stderr has a line with both a and b. */
static int logged(const server *s, const char *a, const char *b)
{
	char path[160], line[1024];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "%s/stderr.log", s->dir);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, a) != NULL && strstr(line, b) != NULL)
			found = 1;
	fclose(f);
	return found;
}

/*
 * The handler contract (statechannel.h, on_event): every value a handler
 * may return has one status, and any other value is 500 handler_failed
 * with a log line naming the topic, the event and the value, never a 4xx
 * that blames the client nor a 503 it would retry.  The handler changed
 * the state first each time: nothing of it is kept but on SC_OK.
 */
static void test_handler_contract(void **state)
{
	static const struct {
		const char *body;
		int status;
		const char *code;
		const char *value; /* logged as value=..., or NULL: no log */
	} rows[] = {
	    {EVP("ret", "0"), 200, NULL, NULL},
	    {EV("what"), 422, "rejected", NULL},
	    {EV("forbid"), 403, "forbidden", NULL},
	    {EV("bad_patch"), 422, "bad_patch", NULL},
	    {EVP("ret", "1"), 503, "nomem", NULL}, /* SC_ERR_NOMEM */
	    /* Foreign values: an SQLite code, -1, an error of the contract
	     * not given by a call of the API, garbage. */
	    {EVP("ret", "5"), 500, "handler_failed", "value=5"},
	    {EVP("ret", "-1"), 500, "handler_failed", "value=-1"},
	    {EVP("ret", "7"), 500, "handler_failed", "value=7"},
	    {EVP("ret", "17"), 500, "handler_failed", "value=17"},
	    {EVP("ret", "16"), 500, "handler_failed", "value=16"},
	    {EVP("ret", "12345"), 500, "handler_failed", "value=12345"},
	};
	server keep = srv;
	char st[256];
	size_t i;
	resp r;

	(void)state;
	capture_stderr = 1;
	start(&srv, "tests/fcgi/helper_app", NULL);
	capture_stderr = 0;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		post("t:contract", rows[i].body, &r);
		if (r.status != rows[i].status)
			fail_msg("%s: status %d, expected %d (%s)", rows[i].body,
				 r.status, rows[i].status, r.body);
		if (rows[i].code != NULL)
			assert_string_equal(err_code(&r), rows[i].code);
		if (r.status == 503)
			assert_non_null(strstr(r.head, "Retry-After:"));
		resp_free(&r);
		if (rows[i].value != NULL)
			assert_true(logged(&srv, "event=handler_failed",
					   rows[i].value));
	}
	assert_true(logged(&srv, "topic=t:contract", "event=ret"));
	/* Only the first row's change is kept. */
	assert_string_equal(state_text("t:contract", st, sizeof(st)),
			    "{\"n\":1,\"items\":[]}");
	stop(&srv);
	srv = keep;
}

/* The handler API through tests/fcgi/helper_app.c. */
static void test_api(void **state)
{
	server keep = srv;
	const char *auth[] = {"HTTP_AUTHORIZATION=Bearer ok", NULL};
	char p[512], st[512];
	resp r;

	(void)state;
	start(&srv, "tests/fcgi/helper_app", NULL);
	/* sc_db writes commit with the state, or roll back with it. */
	assert_int_equal(post_v("t:a", EV("inc"), 200, NULL, 0), 1);
	post_v("t:a", EV("inc_fail"), 422, p, sizeof(p));
	assert_string_equal(p, "nope");
	assert_int_equal(post_v("t:a", EV("audit"), 200, NULL, 0), 2);
	assert_string_equal(state_text("t:a", st, sizeof(st)),
			    "{\"n\":1,\"items\":[],\"audit\":1}");
	/* No change: no new version, an empty patch. */
	assert_int_equal(post_v("t:a", EV("noop"), 200, p, sizeof(p)), 2);
	assert_string_equal(p, "[]");
	post_v("t:a", EV("bad_patch"), 422, p, sizeof(p));
	assert_string_equal(p, "bad_patch");
	/* sc_patch_state: add when missing, replace when present. */
	post_v("t:a", EVP("add_item", "{\"x\":1}"), 200, p, sizeof(p));
	assert_string_equal(
	    p, "[{\"op\":\"add\",\"path\":\"/items/-\",\"value\":{\"x\":1}}]");
	post_v("t:a", EVP("put", "{\"path\":\"/n\",\"value\":5}"), 200, p,
	       sizeof(p));
	assert_non_null(strstr(p, "\"op\":\"replace\""));
	post_v("t:a", EVP("put", "{\"path\":\"/new\",\"value\":true}"), 200, p,
	       sizeof(p));
	assert_non_null(strstr(p, "\"op\":\"add\""));
	post_v("t:a", EVP("put", "{\"path\":\"/a/b\",\"value\":1}"), 422, NULL,
	       0);
	assert_string_equal(
	    state_text("t:a", st, sizeof(st)),
	    "{\"n\":5,\"items\":[{\"x\":1}],\"audit\":1,\"new\":true}");
	/* sc_set_state: a whole new state, diffed. */
	post_v("t:a", EVP("set", "{\"z\":[1,2]}"), 200, p, sizeof(p));
	assert_string_not_equal(p, "[]");
	assert_string_equal(state_text("t:a", st, sizeof(st)), "{\"z\":[1,2]}");
	post_v("t:check", EV("check"), 200, NULL, 0);
	assert_string_equal(state_text("t:check", st, sizeof(st)),
			    "{\"n\":0,\"items\":[],\"ok\":true}");
	post_v("t:a", EV("what"), 422, p, sizeof(p));
	assert_string_equal(p, "rejected");
	/* authorize reads the request's variables. */
	request("GET", "/state/deny:x", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	request("GET", "/state/deny:x", auth, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	request("GET", "/state/zzz", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	stop(&srv);
	srv = keep;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state),
	    cmocka_unit_test(test_events),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_stream),
	    cmocka_unit_test(test_multi_topic),
	    cmocka_unit_test(test_heartbeat),
	    cmocka_unit_test(test_client_gone),
	    cmocka_unit_test(test_keep_conn),
	    cmocka_unit_test(test_max_life),
	    cmocka_unit_test(test_slow_cutoff),
	    cmocka_unit_test(test_api),
	    cmocka_unit_test(test_handler_contract),
	    cmocka_unit_test(test_reads_beside_blocked_writes),
	    cmocka_unit_test(test_unwritten),
	    cmocka_unit_test(test_big_answers),
	    cmocka_unit_test(test_stream_cap),
	    cmocka_unit_test(test_answer_timeout),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
