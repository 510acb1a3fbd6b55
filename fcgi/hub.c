/*
 * fcgi/hub.c — the stream hub's loop (see hub.h and hubint.h): the
 * epoll thread that dispatches every event to the fan-out, the catch-up
 * or the parked connections, the wake thread, the hand-off from the
 * worker threads, start and stop.
 */
#include "fcgi/hub.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "fcgi/hubint.h"

/* --- hand-off (any thread) ------------------------------------------ */

void sc_hub_poke(int fd)
{
	uint64_t one = 1;
	ssize_t r = write(fd, &one, sizeof(one));

	(void)r;
}

void sc_hub_add(sc_hub *h, sc_hub_stream *s)
{
	pthread_mutex_lock(&h->lock);
	s->next_inbox = h->inbox;
	h->inbox = s;
	atomic_fetch_add(&h->count, 1);
	pthread_cond_signal(&h->streams);
	pthread_mutex_unlock(&h->lock);
	sc_hub_poke(h->inbox_fd);
}

void sc_hub_add_idle(sc_hub *h, int fd)
{
	sc_hub_idle *c = sc_park_idle_new(fd);

	if (c == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	c->next = h->idle_inbox;
	h->idle_inbox = c;
	pthread_mutex_unlock(&h->lock);
	sc_hub_poke(h->inbox_fd);
}

size_t sc_hub_count(sc_hub *h)
{
	return atomic_load(&h->count);
}

/* --- the loop ------------------------------------------------------- */

static void take_inbox(sc_hub *h)
{
	sc_hub_sub *s, *list;
	sc_hub_idle *c, *idles;
	sc_hub_reply *p, *replies;

	pthread_mutex_lock(&h->lock);
	list = h->inbox;
	h->inbox = NULL;
	idles = h->idle_inbox;
	h->idle_inbox = NULL;
	replies = h->reply_inbox;
	h->reply_inbox = NULL;
	pthread_mutex_unlock(&h->lock);
	while ((p = replies) != NULL) {
		replies = p->next;
		sc_park_reply_watch(h, p);
	}
	/* The inbox is LIFO: register in arrival order. */
	for (s = NULL; list != NULL;) {
		sc_hub_sub *next = list->next_inbox;

		list->next_inbox = s;
		s = list;
		list = next;
	}
	while (s != NULL) {
		sc_hub_sub *next = s->next_inbox;

		sc_catchup_register(h, s);
		s = next;
	}
	while ((c = idles) != NULL) {
		idles = c->next;
		sc_park_idle_watch(h, c);
	}
}

static void on_tick(sc_hub *h)
{
	long long now = sc_clock_mono_ms();

	sc_park_expire(h, now);
	if (h->all_head == NULL)
		return;
	sc_fanout_dispatch(h); /* the safety net under the wake */
	sc_fanout_tick(h, now);
}

static void drain(int fd)
{
	uint64_t v;
	ssize_t r = read(fd, &v, sizeof(v));

	(void)r;
}

static void *hub_main(void *arg)
{
	sc_hub *h = arg;
	struct epoll_event evs[256];
	int n, i;

	while (!atomic_load(&h->stop)) {
		n = epoll_wait(h->ep, evs, 256, -1);
		if (n < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			sc_hub_tag *t = evs[i].data.ptr;

			switch (t->kind) {
			case SC_HUB_WAKE:
				drain(h->wake_fd);
				sc_fanout_dispatch(h);
				break;
			case SC_HUB_INBOX:
				drain(h->inbox_fd);
				take_inbox(h);
				break;
			case SC_HUB_TIMER:
				drain(h->timer_fd);
				on_tick(h);
				break;
			case SC_HUB_IDLE:
				sc_park_on_idle(h, (sc_hub_idle *)t);
				break;
			case SC_HUB_REPLY:
				sc_park_on_reply(h, (sc_hub_reply *)t);
				break;
			default:
				sc_fanout_on_event(h, (sc_hub_sub *)t,
						   evs[i].events);
				break;
			}
		}
		sc_fanout_flush_dirty(h);
		sc_fanout_free_dead(h);
	}
	return NULL;
}

/*
 * The wake thread: while the process holds streams, blocks in
 * sc_store_wait and pokes the hub when any process commits.  Without
 * streams it sleeps on h->streams instead, so commits cost this process
 * nothing; when a stream arrives it pokes the hub once (what was
 * committed meanwhile is read from the log) and waits again.
 */
static void *waker_main(void *arg)
{
	sc_hub *h = arg;
	uint64_t token = sc_store_wake_token(h->store);
	struct timespec ts;

	while (!atomic_load(&h->stop)) {
		if (atomic_load(&h->count) > 0) {
			if (sc_store_wait(h->store, &token, 500) == 1)
				sc_hub_poke(h->wake_fd);
			continue;
		}
		pthread_mutex_lock(&h->lock);
		while (atomic_load(&h->count) == 0 && !atomic_load(&h->stop)) {
			sc_clock_mono_after(500000000, &ts);
			pthread_cond_timedwait(&h->streams, &h->lock, &ts);
		}
		pthread_mutex_unlock(&h->lock);
		token = sc_store_wake_token(h->store);
		sc_hub_poke(h->wake_fd);
	}
	return NULL;
}

static int add_fd(sc_hub *h, int fd, sc_hub_tag *t, int kind)
{
	struct epoll_event ev;

	t->kind = kind;
	ev.events = EPOLLIN;
	ev.data.ptr = t;
	return epoll_ctl(h->ep, EPOLL_CTL_ADD, fd, &ev);
}

sc_err sc_hub_start(const sc_hub_options *opt, sc_store *store, sc_hub **out,
		    sc_error *err)
{
	struct itimerspec its = {{1, 0}, {1, 0}};
	sc_hub *h;
	sc_err rc;

	*out = NULL;
	h = sc_calloc(1, sizeof(*h));
	if (h == NULL) {
		sc_store_close(store);
		return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	}
	h->opt = *opt;
	if (h->opt.heartbeat_ms <= 0)
		h->opt.heartbeat_ms = 15000;
	if (h->opt.queue_limit == 0)
		h->opt.queue_limit = 1 << 20;
	if (h->opt.respond_ms <= 0)
		h->opt.respond_ms = 30000;
	h->store = store;
	h->ep = h->wake_fd = h->inbox_fd = h->timer_fd = -1;
	pthread_mutex_init(&h->lock, NULL);
	sc_clock_cond_init(&h->streams); /* timed waits: monotonic */
	h->last_beat = sc_clock_mono_ms();
	rc = sc_store_max_seq(store, &h->high, err);
	if (rc != SC_OK)
		goto fail;
	h->heartbeat = sc_sse_frame_new(": heartbeat\n\n", 13);
	if (h->heartbeat == NULL) {
		rc = sc_error_set(err, SC_ERR_NOMEM, "out of memory");
		goto fail;
	}
	h->ep = epoll_create1(EPOLL_CLOEXEC);
	h->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	h->inbox_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	h->timer_fd =
	    timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (h->ep < 0 || h->wake_fd < 0 || h->inbox_fd < 0 || h->timer_fd < 0 ||
	    timerfd_settime(h->timer_fd, 0, &its, NULL) ||
	    add_fd(h, h->wake_fd, &h->wake_tag, SC_HUB_WAKE) ||
	    add_fd(h, h->inbox_fd, &h->inbox_tag, SC_HUB_INBOX) ||
	    add_fd(h, h->timer_fd, &h->timer_tag, SC_HUB_TIMER)) {
		rc = sc_error_set(err, SC_ERR_IO, "hub: %s", strerror(errno));
		goto fail;
	}
	if (pthread_create(&h->thread, NULL, hub_main, h) != 0) {
		rc = sc_error_set(err, SC_ERR_IO, "hub: no thread");
		goto fail;
	}
	h->thread_started = 1;
	if (pthread_create(&h->waker, NULL, waker_main, h) != 0) {
		rc = sc_error_set(err, SC_ERR_IO, "hub: no wake thread");
		goto fail;
	}
	h->waker_started = 1;
	*out = h;
	return SC_OK;
fail:
	sc_hub_stop(h);
	return rc;
}

void sc_hub_stop(sc_hub *h)
{
	/* The last words of a stream: reconnect at once (the new stream's
	 * first line sets the usual delay again). */
	static const char bye[] = "retry: 0\n\n";
	unsigned char rec[SC_FCGI_HEADER_LEN + sizeof(bye) - 1 +
			  SC_FCGI_END_LEN];
	sc_hub_sub *s;
	int i;

	if (h == NULL)
		return;
	/* Answers being written get a few seconds to finish. */
	for (i = 0; i < 100 && h->thread_started &&
		    atomic_load(&h->replies_open) > 0;
	     i++) {
		struct timespec ts = {0, 50000000};

		nanosleep(&ts, NULL);
	}
	atomic_store(&h->stop, 1);
	pthread_mutex_lock(&h->lock);
	pthread_cond_signal(&h->streams);
	pthread_mutex_unlock(&h->lock);
	if (h->inbox_fd >= 0)
		sc_hub_poke(h->inbox_fd);
	if (h->thread_started)
		pthread_join(h->thread, NULL);
	if (h->waker_started)
		pthread_join(h->waker, NULL);
	/* Streams not yet registered, then the open ones. */
	take_inbox(h);
	while ((s = h->all_head) != NULL) {
		if (!sc_outq_midway(&s->out)) {
			size_t n = SC_FCGI_HEADER_LEN + sizeof(bye) - 1;

			sc_fcgi_header(rec, SC_FCGI_STDOUT, s->out.reqid,
				       sizeof(bye) - 1, 0);
			memcpy(rec + SC_FCGI_HEADER_LEN, bye, sizeof(bye) - 1);
			sc_fcgi_end_response(rec + n, s->out.reqid);
			if (send(s->fd, rec, sizeof(rec),
				 MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
				(void)0;
		}
		sc_fanout_kill(h, s);
	}
	sc_fanout_free_dead(h);
	sc_park_close_all(h);
	sc_fanout_topics_free(h);
	sc_sse_frame_unref(h->heartbeat);
	if (h->ep >= 0)
		close(h->ep);
	if (h->wake_fd >= 0)
		close(h->wake_fd);
	if (h->inbox_fd >= 0)
		close(h->inbox_fd);
	if (h->timer_fd >= 0)
		close(h->timer_fd);
	sc_store_close(h->store);
	pthread_cond_destroy(&h->streams);
	pthread_mutex_destroy(&h->lock);
	sc_free(h);
}
