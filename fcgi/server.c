/*
 * fcgi/server.c — listening socket, accept thread, worker threads, hub,
 * signals (see server.h).
 *
 * N workers accept new connections themselves and pop from one queue
 * the idle keep-alive ones the hub pushes back when they become
 * readable; each reads one request at a time with blocking reads and
 * answers it.  A stream's connection goes to the hub instead and never
 * comes back to a worker until its response is complete.
 */
#include "fcgi/server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/log.h"
#include "include/statechannel/version.h"
#include "fcgi/request.h"

#define QUEUE_CAP 16384
#define IDLE_MS	  30000 /* a new connection must start a request by then */

typedef struct workq {
	pthread_mutex_t lock;
	pthread_cond_t nonfull;
	int efd; /* an eventfd, readable while the queue holds connections */
	int fds[QUEUE_CAP];
	size_t head, n;
	int closed;
} workq;

typedef struct server server;

typedef struct worker {
	server *srv;
	pthread_t thread;
	int started;
	sc_request_env env;
	int ep; /* the listening socket and the queue, shared wake-one */
	sc_fcgi_request req;
	sc_fcgi_conn conn;
} worker;

struct server {
	const sc_server_options *opt;
	int listen_fd;
	int tcp; /* the listening socket is TCP (TCP_NODELAY) */
	atomic_int stop;
	workq q;
	sc_store_shared *shared; /* the stores' cache and group commit */
	sc_metrics *metrics;
	struct stat sock_st; /* the --listen socket file we made */
	sc_hub *hub;
	sc_textcache *texts; /* big state texts shared by the answers */
	worker **workers;
	/* Spawned by the web server: who it was, where its socket is. */
	pid_t parent;
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	atomic_llong next_drop_ms; /* when idle topics are dropped next */
};

/* --- the queue ------------------------------------------------------ */

static void q_push(workq *q, int fd)
{
	uint64_t one = 1;

	pthread_mutex_lock(&q->lock);
	while (q->n == QUEUE_CAP && !q->closed)
		pthread_cond_wait(&q->nonfull, &q->lock);
	if (q->closed) {
		pthread_mutex_unlock(&q->lock);
		close(fd);
		return;
	}
	q->fds[(q->head + q->n) % QUEUE_CAP] = fd;
	if (q->n++ == 0 && write(q->efd, &one, sizeof(one)) < 0)
		(void)0; /* cannot fail below 2^64 - 1 */
	pthread_mutex_unlock(&q->lock);
}

/* The next queued connection, or -1 when there is none. */
static int q_trypop(workq *q)
{
	uint64_t v;
	int fd = -1;

	pthread_mutex_lock(&q->lock);
	if (q->n > 0 && !q->closed) {
		fd = q->fds[q->head];
		q->head = (q->head + 1) % QUEUE_CAP;
		if (--q->n == 0 && read(q->efd, &v, sizeof(v)) < 0)
			(void)0; /* it was readable */
		pthread_cond_signal(&q->nonfull);
	}
	pthread_mutex_unlock(&q->lock);
	return fd;
}

static void q_close(workq *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = 1;
	while (q->n > 0) {
		close(q->fds[q->head]);
		q->head = (q->head + 1) % QUEUE_CAP;
		q->n--;
	}
	pthread_cond_broadcast(&q->nonfull);
	pthread_mutex_unlock(&q->lock);
}

/* --- sockets -------------------------------------------------------- */

int sc_server_is_listener(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

static int listen_unix(const char *path, sc_error *err)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		sc_error_set(err, SC_ERR_INVALID, "socket path too long: %s",
			     path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path); /* a stale socket of an earlier run */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, 0666) != 0 || listen(fd, 4096) != 0) {
		sc_error_set(err, SC_ERR_IO, "cannot listen on %s: %s", path,
			     strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int listen_tcp(const char *addr, sc_error *err)
{
	char host[256];
	const char *colon = strrchr(addr, ':'), *h = addr;
	size_t hl = (size_t)(colon - addr);
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, on = 1, gai;

	if (hl > 1 && addr[0] == '[' && addr[hl - 1] == ']') {
		h = addr + 1;
		hl -= 2;
	}
	if (hl >= sizeof(host)) {
		sc_error_set(err, SC_ERR_INVALID, "bad address %s", addr);
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	gai = getaddrinfo(hl ? host : NULL, colon + 1, &hints, &res);
	if (gai != 0) {
		sc_error_set(err, SC_ERR_INVALID, "bad address %s: %s", addr,
			     gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 4096) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		sc_error_set(err, SC_ERR_IO, "cannot listen on %s: %s", addr,
			     strerror(errno));
	freeaddrinfo(res);
	return fd;
}

int sc_server_listen(const char *addr, sc_error *err)
{
	if (strchr(addr, '/') != NULL || strchr(addr, ':') == NULL)
		return listen_unix(addr, err);
	return listen_tcp(addr, err);
}

/* --- threads -------------------------------------------------------- */

static void set_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0 && (fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

/* The hub's callback: an idle keep-alive connection has a request. */
static void conn_ready(void *arg, int fd)
{
	server *srv = arg;

	set_blocking(fd);
	q_push(&srv->q, fd);
}

/* Retention of idle topics (--drop-idle-topics): at most once a minute,
 * by whichever worker comes by first. */
static void drop_idle(worker *w)
{
	server *srv = w->srv;
	long long now = sc_clock_mono_ms(), due = atomic_load(&srv->next_drop_ms);
	int64_t n = 0;
	sc_error err;

	if (srv->opt->drop_idle_s <= 0 || now < due ||
	    !atomic_compare_exchange_strong(&srv->next_drop_ms, &due,
					    now + 60000))
		return;
	sc_error_clear(&err);
	if (sc_store_drop(w->env.store, NULL, srv->opt->drop_idle_s, &n,
			  &err) != SC_OK)
		fprintf(stderr, "statechannel: dropping idle topics: %s\n",
			err.message);
}

static void serve(worker *w, int fd)
{
	server *srv = w->srv;
	sc_fcgi_conn *c = &w->conn;
	int rc;

	c->fd = fd;
	c->start = c->end = 0;
	for (;;) {
		if (sc_fcgi_read_request(c, &w->req, srv->opt->body_limit,
					 IDLE_MS, &srv->stop) != SC_OK)
			break;
		rc = sc_request_handle(&w->env, c, &w->req);
		drop_idle(w);
		if (rc == 1)
			return; /* the hub has it */
		if (rc < 0 || !w->req.keep_conn || srv->stop)
			break;
		if (c->start < c->end || srv->hub == NULL)
			continue; /* the next request is already here */
		sc_hub_add_idle(srv->hub, fd);
		return;
	}
	close(fd);
}

/* A new connection's socket options. */
static void conn_setup(server *srv, int fd)
{
	int on = 1;

	if (srv->tcp)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	sc_fcgi_conn_setup(fd);
}

/*
 * The next connection for worker w: one the hub gave back, else a new
 * one.  Idle workers sleep in their own epoll set, where the listening
 * socket and the queue are EPOLLEXCLUSIVE: a new connection wakes one
 * worker, not all.  Returns -1 once the server stops.
 */
static int next_conn(worker *w)
{
	server *srv = w->srv;
	struct epoll_event ev[2];
	int fd;

	while (!srv->stop) {
		fd = q_trypop(&srv->q);
		if (fd >= 0)
			return fd;
		fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0) {
			conn_setup(srv, fd);
			return fd;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			struct timespec ts = {0, 10000000};

			nanosleep(&ts, NULL);
			continue;
		}
		epoll_wait(w->ep, ev, 2, 250);
	}
	return -1;
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	int fd;

	while ((fd = next_conn(w)) >= 0)
		serve(w, fd);
	sc_fcgi_request_free(&w->req);
	return NULL;
}

/* Adds fd to ep, waking one waiter at a time. */
static int watch(int ep, int fd)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.fd = fd;
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static sc_err open_store(const server *srv, sc_store **out, sc_error *err)
{
	sc_store_options so;

	memset(&so, 0, sizeof(so));
	so.path = srv->opt->db_path;
	so.sync_full = srv->opt->sync_full;
	so.shared = srv->shared;
	return sc_store_open(&so, out, err);
}

/* Raises the soft fd limit to the hard one; returns the limit now. */
static long raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur > (rlim_t)1 << 30 ? 1L << 30 : (long)rl.rlim_cur;
}

size_t sc_server_default_max_streams(long nofile)
{
	long keep = nofile / 4 > 64 ? nofile / 4 : 64;

	return nofile - keep >= 1 ? (size_t)(nofile - keep) : 1;
}

/*
 * Spawned by the web server: notes who it is, and asks for SIGTERM
 * when it dies.  That signal alone is not enough (it follows the thread
 * that forked us, and is lost if the parent died before the call), so
 * web_server_gone() is also checked every tick.
 */
static void watch_web_server(server *srv)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);

	srv->parent = getppid();
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	memset(&sa, 0, sizeof(sa));
	if (getsockname(srv->listen_fd, (struct sockaddr *)&sa, &len) == 0 &&
	    sa.sun_family == AF_UNIX && sa.sun_path[0] == '/')
		memcpy(srv->sock_path, sa.sun_path, sizeof(srv->sock_path) - 1);
}

/*
 * Spawned and stopping: no new connection may reach this process while
 * it finishes what it holds, so that a web server started again spawns
 * new processes instead of adopting this one's socket (it connects to
 * the socket first, and adopts whatever answers).  The socket is
 * replaced by /dev/null in place: its fd number stays taken.
 */
static void stop_listening(server *srv)
{
	int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (nul < 0 || dup2(nul, srv->listen_fd) < 0)
		shutdown(srv->listen_fd, SHUT_RDWR);
	if (nul >= 0)
		close(nul);
}

/* Whether the web server that spawned us is gone: we were re-parented
 * (it died), or its socket's file was removed (nobody can reach us). */
static int web_server_gone(const server *srv)
{
	struct stat st;

	if (getppid() != srv->parent)
		return 1;
	return srv->sock_path[0] != '\0' && stat(srv->sock_path, &st) != 0 &&
	       errno == ENOENT;
}

int sc_server_run(const sc_server_options *opt)
{
	server srv;
	sc_hub_options ho = opt->hub;
	sc_store *hub_store = NULL, *writer_store = NULL;
	sc_error err;
	sigset_t sigs;
	int i, sig, status = 1, owns_listen = 0;
	long nofile;

	memset(&srv, 0, sizeof(srv));
	srv.opt = opt;
	srv.listen_fd = -1;
	sc_error_clear(&err);
	atomic_init(&srv.next_drop_ms, sc_clock_mono_ms());
	srv.q.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&srv.q.lock, NULL);
	pthread_cond_init(&srv.q.nonfull, NULL);
	nofile = raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	if (opt->listen != NULL) {
		srv.listen_fd = sc_server_listen(opt->listen, &err);
		owns_listen = 1;
		if (srv.listen_fd >= 0 && (strchr(opt->listen, '/') != NULL ||
					   strchr(opt->listen, ':') == NULL))
			stat(opt->listen, &srv.sock_st);
	} else if (sc_server_is_listener(0)) {
		srv.listen_fd = 0;
		watch_web_server(&srv);
	} else {
		sc_error_set(&err, SC_ERR_INVALID,
			     "no FastCGI socket: give --listen PATH|HOST:PORT "
			     "or start me from the web server (--help)");
	}
	if (srv.listen_fd < 0 || srv.q.efd < 0 ||
	    sc_store_shared_new(opt->cache_bytes, &srv.shared, &err) != SC_OK)
		goto out;
	{
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);

		srv.tcp = getsockname(srv.listen_fd, (struct sockaddr *)&sa,
				      &len) == 0 &&
			  sa.ss_family != AF_UNIX;
	}
	fcntl(srv.listen_fd, F_SETFL,
	      fcntl(srv.listen_fd, F_GETFL) | O_NONBLOCK);
	srv.metrics = sc_metrics_new();
	srv.workers = sc_calloc((size_t)opt->workers, sizeof(*srv.workers));
	srv.texts = sc_textcache_new(0);
	if (srv.workers == NULL || srv.texts == NULL || srv.metrics == NULL)
		goto out;
	for (i = 0; i < opt->workers; i++) {
		worker *w = sc_calloc(1, sizeof(*w));

		if (w == NULL)
			goto out;
		srv.workers[i] = w;
		w->srv = &srv;
		w->env.app = opt->app;
		w->env.body_limit = opt->body_limit;
		w->env.state_limit = opt->state_limit;
		w->env.max_streams =
		    opt->max_streams ? opt->max_streams
				     : sc_server_default_max_streams(nofile);
		w->env.texts = srv.texts;
		w->env.cors = &opt->cors;
		w->env.metrics = srv.metrics;
		w->env.serve_health = opt->health;
		w->env.serve_metrics = opt->metrics;
		w->ep = epoll_create1(EPOLL_CLOEXEC);
		if (w->ep < 0 || watch(w->ep, srv.listen_fd) != 0 ||
		    watch(w->ep, srv.q.efd) != 0) {
			sc_error_set(&err, SC_ERR_IO, "epoll: %s",
				     strerror(errno));
			goto out;
		}
		if (open_store(&srv, &w->env.store, &err) != SC_OK)
			goto out;
	}
	if (open_store(&srv, &hub_store, &err) != SC_OK)
		goto out;
	ho.ready = conn_ready;
	ho.ready_arg = &srv;
	ho.metrics = srv.metrics;
	if (sc_hub_start(&ho, hub_store, &srv.hub, &err) != SC_OK)
		goto out;
	/* The writer thread commits the POSTs the workers hand over. */
	if (open_store(&srv, &writer_store, &err) != SC_OK ||
	    sc_store_writer_start(srv.shared, writer_store, &err) != SC_OK)
		goto out;
	for (i = 0; i < opt->workers; i++) {
		srv.workers[i]->env.hub = srv.hub;
		srv.workers[i]->env.async = 1;
		if (pthread_create(&srv.workers[i]->thread, NULL, worker_main,
				   srv.workers[i]) != 0)
			goto out;
		srv.workers[i]->started = 1;
	}
	status = 0;
	{
		char db[512], q[600];

		sc_log(SC_LOG_INFO,
		       "event=start version=%s db=%s listen=%s workers=%d pid=%d",
		       SC_VERSION,
		       sc_log_q(q, sizeof(q),
				sc_store_display(opt->db_path, db, sizeof(db))),
		       opt->listen ? opt->listen : "fd0", opt->workers,
		       (int)getpid());
	}
	for (;;) {
		struct timespec tick = {0, 250000000};

		sig = sigtimedwait(&sigs, NULL, &tick);
		if (sig == SIGHUP)
			fprintf(stderr,
				"statechannel: SIGHUP ignored (nothing to "
				"reload; SIGTERM stops)\n");
		if (sig == SIGUSR1 || sig == SIGHUP ||
		    (sig < 0 && errno == EINTR))
			continue;
		if (sig >= 0)
			break;
		if (errno != EAGAIN)
			break;
		if (srv.parent != 0 && web_server_gone(&srv)) {
			sc_log(SC_LOG_INFO, "event=web_server_gone "
					    "action=finish_and_exit");
			break;
		}
	}
	if (srv.parent != 0)
		stop_listening(&srv);
out:
	if (status != 0 && err.message[0] != '\0') {
		char q[SC_ERROR_MESSAGE_MAX + 8];

		sc_log(SC_LOG_ERROR, "event=cannot_start message=%s",
		       sc_log_q(q, sizeof(q), err.message));
	}
	if (status == 0)
		sc_log(SC_LOG_INFO, "event=stop pid=%d", (int)getpid());
	srv.stop = 1;
	for (i = 0; srv.workers != NULL && i < opt->workers; i++)
		if (srv.workers[i] != NULL && srv.workers[i]->started)
			pthread_join(srv.workers[i]->thread, NULL);
	/* The POSTs still queued are committed and answered (through the
	 * hub) before the hub stops. */
	sc_store_writer_stop(srv.shared);
	q_close(&srv.q); /* before the hub stops: it may still push */
	sc_hub_stop(srv.hub);
	sc_metrics_free(srv.metrics);
	for (i = 0; srv.workers != NULL && i < opt->workers; i++) {
		if (srv.workers[i] != NULL) {
			sc_store_close(srv.workers[i]->env.store);
			if (srv.workers[i]->ep >= 0)
				close(srv.workers[i]->ep);
		}
		sc_free(srv.workers[i]);
	}
	sc_free(srv.workers);
	sc_textcache_free(srv.texts);
	if (owns_listen && srv.listen_fd >= 0) {
		struct stat now;

		close(srv.listen_fd);
		/* Only our own socket file: a new process started on the same
		 * path (a rollout) has replaced it with its own. */
		if (srv.sock_st.st_ino != 0 && stat(opt->listen, &now) == 0 &&
		    now.st_ino == srv.sock_st.st_ino &&
		    now.st_dev == srv.sock_st.st_dev)
			unlink(opt->listen);
	}
	pthread_cond_destroy(&srv.q.nonfull);
	pthread_mutex_destroy(&srv.q.lock);
	sc_store_shared_free(srv.shared);
	if (srv.q.efd >= 0)
		close(srv.q.efd);
	return status;
}
