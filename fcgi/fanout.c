/*
 * fcgi/fanout.c — the hub's subscribers and topics (see hubint.h): each
 * logged change is framed once and the frame, shared by reference
 * count, is queued to every subscriber of its topic; each subscriber's
 * queue is bounded and written without blocking.
 *
 * Ordering: the hub has read the log up to seq H (h->high).  A change
 * is sent to a subscriber only when its seq > the subscriber's cursor
 * and its version > the version the subscriber has of the topic (both
 * set by the catch-up, catchup.c): no gap, nothing twice.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/hash.h"
#include "common/log.h"
#include "fcgi/hubint.h"

static size_t bucket(const char *s)
{
	return (size_t)(sc_hash_str(s) % SC_HUB_NBUCKETS);
}

static sc_hub_topic *topic_find(sc_hub *h, const char *name)
{
	sc_hub_topic *t;

	for (t = h->buckets[bucket(name)]; t != NULL; t = t->hnext)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

sc_hub_topic *sc_fanout_topic(sc_hub *h, const char *name)
{
	sc_hub_topic *t = topic_find(h, name);
	size_t b;

	if (t != NULL)
		return t;
	t = sc_calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->name = sc_strdup(name);
	if (t->name == NULL) {
		sc_free(t);
		return NULL;
	}
	b = bucket(name);
	t->hnext = h->buckets[b];
	h->buckets[b] = t;
	return t;
}

static void topic_drop_if_empty(sc_hub *h, sc_hub_topic *t)
{
	sc_hub_topic **pp;

	if (t->subs != NULL)
		return;
	for (pp = &h->buckets[bucket(t->name)]; *pp != NULL;
	     pp = &(*pp)->hnext) {
		if (*pp == t) {
			*pp = t->hnext;
			break;
		}
	}
	sc_free(t->name);
	sc_free(t);
}

void sc_fanout_topics_free(sc_hub *h)
{
	sc_hub_topic *t;
	size_t b;

	for (b = 0; b < SC_HUB_NBUCKETS; b++)
		while ((t = h->buckets[b]) != NULL) {
			h->buckets[b] = t->hnext;
			sc_free(t->name);
			sc_free(t);
		}
}

/* --- streams before the hand-off ------------------------------------ */

sc_hub_stream *sc_hub_stream_new(int fd, uint16_t id, int keep_conn,
				 const char *cursor)
{
	sc_hub_sub *s = sc_calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->kind = SC_HUB_SUB;
	s->fd = fd;
	s->out.reqid = id;
	s->keep_conn = keep_conn ? 1 : 0;
	if (cursor != NULL && cursor[0] != '\0') {
		s->resume = sc_strdup(cursor);
		if (s->resume == NULL) {
			sc_free(s);
			return NULL;
		}
	}
	return s;
}

sc_err sc_hub_stream_topic(sc_hub_stream *s, const char *name, const char *init,
			   size_t init_len)
{
	sc_hub_subtopic *nt;
	size_t i;

	for (i = 0; i < s->ntopics; i++)
		if (strcmp((const char *)s->topics[i].t, name) == 0)
			return SC_OK;
	nt = sc_realloc(s->topics, (s->ntopics + 1) * sizeof(*nt));
	if (nt == NULL)
		return SC_ERR_NOMEM;
	s->topics = nt;
	memset(&nt[s->ntopics], 0, sizeof(*nt));
	/* Until registration, .t holds the name (a private copy). */
	nt[s->ntopics].t = (sc_hub_topic *)sc_strdup(name);
	if (nt[s->ntopics].t == NULL)
		return SC_ERR_NOMEM;
	if (init != NULL) {
		nt[s->ntopics].init = sc_strndup(init, init_len);
		nt[s->ntopics].init_len = init_len;
		if (nt[s->ntopics].init == NULL) {
			sc_free(nt[s->ntopics].t);
			return SC_ERR_NOMEM;
		}
	}
	s->ntopics++;
	return SC_OK;
}

int sc_hub_stream_feed(sc_hub_stream *s, const unsigned char *data, size_t n)
{
	sc_fcgi_hdr hd;
	int abort = 0;

	while (n > 0) {
		if (s->skip > 0) {
			size_t k = n < s->skip ? n : s->skip;

			s->skip -= (uint32_t)k;
			data += k;
			n -= k;
			continue;
		}
		s->hb[s->hn++] = *data++;
		n--;
		if (s->hn < SC_FCGI_HEADER_LEN)
			continue;
		s->hn = 0;
		sc_fcgi_header_parse(s->hb, &hd);
		if (hd.type == SC_FCGI_ABORT_REQUEST)
			abort = 1;
		s->skip = (uint32_t)(hd.content_len + hd.padding);
	}
	return abort;
}

void sc_hub_stream_free(sc_hub_stream *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->ntopics; i++) {
		if (!s->registered)
			sc_free(s->topics[i].t);
		sc_free(s->topics[i].init);
	}
	sc_outq_clear(&s->out);
	sc_free(s->topics);
	sc_free(s->resume);
	sc_free(s);
}

/* --- writing -------------------------------------------------------- */

static void set_out(sc_hub *h, sc_hub_sub *s, int on)
{
	struct epoll_event ev;

	if ((int)s->out_on == on)
		return;
	ev.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0);
	ev.data.ptr = s;
	epoll_ctl(h->ep, EPOLL_CTL_MOD, s->fd, &ev);
	s->out_on = on ? 1 : 0;
}

static void unlink_sub(sc_hub *h, sc_hub_sub *s)
{
	size_t i;

	if (!s->registered)
		return;
	for (i = 0; i < s->ntopics; i++) {
		sc_hub_subtopic *st = &s->topics[i];

		if (st->t == NULL)
			continue;
		if (st->prev != NULL)
			st->prev->next = st->next;
		else
			st->t->subs = st->next;
		if (st->next != NULL)
			st->next->prev = st->prev;
		topic_drop_if_empty(h, st->t);
		st->t = NULL;
	}
}

void sc_fanout_kill(sc_hub *h, sc_hub_sub *s)
{
	if (s->dead)
		return;
	unlink_sub(h, s);
	if (s->fd >= 0) {
		epoll_ctl(h->ep, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
		s->fd = -1;
	}
	s->dead = 1;
	if (s->prev_all != NULL)
		s->prev_all->next_all = s->next_all;
	else if (h->all_head == s)
		h->all_head = s->next_all;
	if (s->next_all != NULL)
		s->next_all->prev_all = s->prev_all;
	else if (h->all_tail == s)
		h->all_tail = s->prev_all;
	s->prev_all = s->next_all = NULL;
	s->next_dead = h->dead;
	h->dead = s;
	atomic_fetch_sub(&h->count, 1);
}

/* The stream's response is complete (end records written). */
static void finish_sub(sc_hub *h, sc_hub_sub *s)
{
	if (s->keep_conn) {
		/* Give the connection back as an idle one. */
		unlink_sub(h, s);
		epoll_ctl(h->ep, EPOLL_CTL_DEL, s->fd, NULL);
		sc_park_idle(h, s->fd);
		s->fd = -1; /* the idle watch owns it now */
	}
	sc_fanout_kill(h, s);
}

/* Writes what s has queued, without blocking. */
static void flush_sub(sc_hub *h, sc_hub_sub *s)
{
	uint64_t bytes = s->out.sent_bytes, frames = s->out.sent_frames;
	int rc = sc_outq_flush(&s->out, s->fd);

	sc_metrics_add(h->opt.metrics, SC_METRIC_BYTES_SENT,
		       s->out.sent_bytes - bytes);
	sc_metrics_add(h->opt.metrics, SC_METRIC_FRAMES_SENT,
		       s->out.sent_frames - frames);
	if (rc < 0) {
		sc_fanout_kill(h, s);
		return;
	}
	set_out(h, s, rc == 1);
	if (rc == 0 && s->ending)
		finish_sub(h, s);
}

void sc_fanout_enqueue(sc_hub *h, sc_hub_sub *s, sc_sse_frame *f)
{
	sc_err rc;

	if (s->dead)
		return;
	rc = sc_outq_push(&s->out, f, h->opt.queue_limit);
	if (rc != SC_OK) {
		if (rc == SC_ERR_TOO_BIG) {
			sc_metrics_add(h->opt.metrics, SC_METRIC_SLOW_CUTOFF,
				       1);
			sc_log(SC_LOG_WARN,
			       "event=slow_subscriber_cut_off queue_limit=%zu",
			       h->opt.queue_limit);
		} else {
			sc_log(SC_LOG_ERROR, "event=stream_dropped code=%s",
			       sc_strerror(rc));
		}
		sc_fanout_kill(h, s);
		return;
	}
	if (!s->dirty) {
		s->dirty = 1;
		s->next_dirty = h->dirty;
		h->dirty = s;
	}
}

void sc_fanout_flush_dirty(sc_hub *h)
{
	sc_hub_sub *s;

	while ((s = h->dirty) != NULL) {
		h->dirty = s->next_dirty;
		s->next_dirty = NULL;
		s->dirty = 0;
		if (!s->dead)
			flush_sub(h, s);
	}
}

void sc_fanout_end(sc_hub *h, sc_hub_sub *s)
{
	if (s->dead || s->ending)
		return;
	unlink_sub(h, s);
	s->ending = 1;
	sc_fanout_enqueue(h, s, NULL);
}

void sc_fanout_free_dead(sc_hub *h)
{
	sc_hub_sub *s;

	while ((s = h->dead) != NULL) {
		h->dead = s->next_dead;
		sc_hub_stream_free(s);
	}
}

/* --- dispatch ------------------------------------------------------- */

static int dispatch_entry(const sc_store_entry *e, void *arg)
{
	sc_hub *h = arg;
	sc_hub_topic *t = topic_find(h, e->topic);
	sc_buf buf = {0};
	char cur[SC_CURSOR_MAX], *json = NULL;
	size_t len = 0;
	sc_sse_frame *f = NULL;
	sc_hub_subtopic *st, *next;

	if (e->seq > h->high)
		h->high = e->seq;
	if (t == NULL)
		return 0;
	sc_store_cursor_format(h->store, e->seq, cur);
	if (sc_sse_envelope(e->topic, e->version, NULL, "patch", e->patch,
			    e->patch_len, &json, &len) != SC_OK ||
	    sc_sse_format(&buf, "patch", cur, json, len, 1) != SC_OK ||
	    (f = sc_sse_frame_new(buf.p, buf.len)) == NULL) {
		/* Out of memory: cut the subscribers off, they resume. */
		for (st = t->subs; st != NULL; st = next) {
			next = st->next;
			sc_fanout_kill(h, st->s);
		}
		goto out;
	}
	for (st = t->subs; st != NULL; st = next) {
		next = st->next;
		if (e->seq <= st->s->cursor)
			continue;
		if (e->version <= st->version) {
			/* The topic was dropped and made anew: the client
			 * resumes with its cursor and gets the new state. */
			sc_fanout_end(h, st->s);
			continue;
		}
		st->version = e->version;
		sc_fanout_enqueue(h, st->s, f);
	}
out:
	sc_sse_frame_unref(f);
	sc_free(json);
	sc_buf_free(&buf);
	return 0;
}

void sc_fanout_dispatch(sc_hub *h)
{
	int64_t last = 0;

	if (h->all_head == NULL)
		return; /* nobody to send to: the next stream moves high */
	if (sc_store_log(h->store, NULL, 0, h->high, 0, dispatch_entry, h,
			 &last, NULL) == SC_OK &&
	    last > h->high)
		h->high = last;
}

/* --- events --------------------------------------------------------- */

void sc_fanout_on_event(sc_hub *h, sc_hub_sub *s, uint32_t events)
{
	unsigned char buf[4096];
	ssize_t n;

	if (s->dead)
		return;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		for (;;) {
			n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n > 0) {
				if (sc_hub_stream_feed(s, buf, (size_t)n)) {
					sc_fanout_end(h, s);
					break;
				}
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			sc_fanout_kill(h, s); /* the server closed: gone */
			return;
		}
	}
	if (events & EPOLLOUT)
		flush_sub(h, s);
}

void sc_fanout_tick(sc_hub *h, long long now)
{
	sc_hub_sub *s, *next;

	if (now - h->last_beat >= h->opt.heartbeat_ms) {
		h->last_beat = now;
		for (s = h->all_head; s != NULL; s = s->next_all)
			if (!s->ending)
				sc_fanout_enqueue(h, s, h->heartbeat);
	}
	if (h->opt.max_life_s > 0) {
		for (s = h->all_head; s != NULL; s = next) {
			next = s->next_all;
			if (now - s->born < (long long)h->opt.max_life_s * 1000)
				break;
			if (!s->ending)
				sc_fanout_end(h, s);
		}
	}
}
