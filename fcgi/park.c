/*
 * fcgi/park.c — the connections the hub holds without a stream (see
 * hubint.h): answers it finishes writing as their peers read
 * (sc_hub_respond), and idle keep-alive connections it watches so that
 * they hold no worker thread until the web server sends on them again.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "fcgi/hubint.h"

/* --- idle keep-alive connections ------------------------------------ */

void sc_park_idle_watch(sc_hub *h, sc_hub_idle *c)
{
	struct epoll_event ev;

	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = c;
	if (epoll_ctl(h->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
		close(c->fd);
		sc_free(c);
		return;
	}
	c->next = h->idles;
	h->idles = c;
}

sc_hub_idle *sc_park_idle_new(int fd)
{
	sc_hub_idle *c = sc_calloc(1, sizeof(*c));

	if (c == NULL) {
		close(fd);
		return NULL;
	}
	c->kind = SC_HUB_IDLE;
	c->fd = fd;
	return c;
}

void sc_park_idle(sc_hub *h, int fd)
{
	sc_hub_idle *c = sc_park_idle_new(fd);

	if (c != NULL)
		sc_park_idle_watch(h, c);
}

void sc_park_on_idle(sc_hub *h, sc_hub_idle *c)
{
	sc_hub_idle **pp;

	epoll_ctl(h->ep, EPOLL_CTL_DEL, c->fd, NULL);
	for (pp = &h->idles; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	h->opt.ready(h->opt.ready_arg, c->fd);
	sc_free(c);
}

/* --- answers (sc_hub_respond) --------------------------------------- */

/* Waits until fd can take bytes again; 0, or -1 when it cannot. */
static int wait_writable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int r;

	do
		r = poll(&p, 1, -1);
	while (r < 0 && errno == EINTR);
	return r == 1 && !(p.revents & (POLLERR | POLLNVAL)) ? 0 : -1;
}

int sc_hub_respond(sc_hub *h, int fd, uint16_t id, int keep_conn,
		   sc_sse_frame *const *frames, size_t n)
{
	sc_outq q = {0};
	sc_hub_reply *p = NULL;
	size_t i;
	int rc = -1;

	q.reqid = id;
	for (i = 0; i <= n; i++)
		if (sc_outq_push(&q, i < n ? frames[i] : NULL, SIZE_MAX) !=
		    SC_OK)
			goto out;
	rc = sc_outq_flush(&q, fd);
	if (rc == 1 && h != NULL)
		p = sc_calloc(1, sizeof(*p));
	/* No hub (or no memory for the hand-over): wait here. */
	while (rc == 1 && p == NULL)
		rc = wait_writable(fd) == 0 ? sc_outq_flush(&q, fd) : -1;
	if (p == NULL)
		goto out;
	p->kind = SC_HUB_REPLY;
	p->fd = fd;
	p->keep_conn = keep_conn;
	p->deadline = sc_clock_mono_ms() + h->opt.respond_ms;
	p->out = q;
	memset(&q, 0, sizeof(q));
	atomic_fetch_add(&h->replies_open, 1);
	pthread_mutex_lock(&h->lock);
	p->next = h->reply_inbox;
	h->reply_inbox = p;
	pthread_mutex_unlock(&h->lock);
	sc_hub_poke(h->inbox_fd);
	rc = 1;
out:
	sc_outq_clear(&q);
	return rc;
}

static void reply_unlink(sc_hub *h, sc_hub_reply *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		h->replies = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
}

/* Ends p: its connection goes idle (done, keep_conn) or is closed. */
static void reply_end(sc_hub *h, sc_hub_reply *p, int done)
{

	reply_unlink(h, p);
	epoll_ctl(h->ep, EPOLL_CTL_DEL, p->fd, NULL);
	if (done && p->keep_conn)
		sc_park_idle(h, p->fd);
	else
		close(p->fd);
	sc_outq_clear(&p->out);
	sc_free(p);
	atomic_fetch_sub(&h->replies_open, 1);
}

void sc_park_reply_watch(sc_hub *h, sc_hub_reply *p)
{
	struct epoll_event ev;

	ev.events = EPOLLOUT;
	ev.data.ptr = p;
	p->prev = NULL;
	p->next = h->replies;
	if (h->replies != NULL)
		h->replies->prev = p;
	h->replies = p;
	if (epoll_ctl(h->ep, EPOLL_CTL_ADD, p->fd, &ev) != 0)
		reply_end(h, p, 0);
}

void sc_park_on_reply(sc_hub *h, sc_hub_reply *p)
{
	int rc = sc_outq_flush(&p->out, p->fd);

	if (rc != 1)
		reply_end(h, p, rc == 0);
}

void sc_park_expire(sc_hub *h, long long now)
{
	sc_hub_reply *p, *next;

	for (p = h->replies; p != NULL; p = next) {
		next = p->next;
		if (now >= p->deadline)
			reply_end(h, p, 0);
	}
}

void sc_park_close_all(sc_hub *h)
{
	sc_hub_idle *c;

	while (h->replies != NULL)
		reply_end(h, h->replies, 0);
	while ((c = h->idles) != NULL) {
		h->idles = c->next;
		close(c->fd);
		sc_free(c);
	}
}
