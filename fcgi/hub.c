/*
 * fcgi/hub.c — the stream hub (see hub.h).
 *
 * Ordering: the hub has read the log up to seq H.  A new subscriber's
 * first frames are read in the hub thread: for each topic either its
 * state (at snapshot seq G) or nothing (resumable cursor C), then the
 * log rows after those points up to the log's end L; its cursor becomes
 * M = max(L, H) and every topic remembers the version it has.  Later
 * dispatch sends a row only when seq > cursor and version > the topic's
 * version: no gap, nothing twice.  When a state frame was sent, the id
 * that covers all of it (M) is put on the last first frame only, so a
 * client cut off in the middle resumes from its previous cursor.
 */
#include "fcgi/hub.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/alloc.h"
#include "common/log.h"
#include "fcgi/fcgiwire.h"
#include "fcgi/outq.h"
#include "fcgi/sse.h"

#define NBUCKETS 4096
#define END_LEN	 24 /* empty FCGI_STDOUT + FCGI_END_REQUEST */

enum { K_SUB = 1, K_IDLE, K_REPLY, K_WAKE, K_INBOX, K_TIMER };

typedef struct topic topic;
typedef struct sc_hub_stream sub;

typedef struct subtopic {
	topic *t;
	sub *s;
	int64_t version; /* the version s has of t */
	char *init;	 /* until registered: the state of a topic not
			    stored yet (version 0), or NULL */
	size_t init_len;
	struct subtopic *prev, *next;
} subtopic;

struct topic {
	char *name;
	subtopic *subs;
	topic *hnext;
};

struct sc_hub_stream { /* = struct sub */
	int kind;
	int fd;
	unsigned keep_conn : 1, dead : 1, ending : 1, dirty : 1, out_on : 1,
	    registered : 1, sent_state : 1;
	int64_t cursor;
	char *resume; /* the client's cursor text until registered */
	size_t ntopics;
	subtopic *topics;
	sc_outq out;
	unsigned char hb[SC_FCGI_HEADER_LEN];
	unsigned char hn;
	uint32_t skip;
	long long born;
	sub *prev_all, *next_all, *next_dirty, *next_dead, *next_inbox;
};

typedef struct idle_conn {
	int kind;
	int fd;
	struct idle_conn *next;
} idle_conn;

/* An answer the hub finishes writing (sc_hub_respond). */
typedef struct reply {
	int kind;
	int fd;
	int keep_conn;
	long long deadline;
	sc_outq out;
	struct reply *prev, *next;
} reply;

typedef struct tag {
	int kind;
} tag;

struct sc_hub {
	sc_hub_options opt;
	sc_store *store;
	int ep, wake_fd, inbox_fd, timer_fd;
	tag wake_tag, inbox_tag, timer_tag;
	pthread_t thread, waker;
	int thread_started, waker_started;
	atomic_int stop;
	atomic_size_t count;
	atomic_size_t replies_open; /* answers handed over, not yet ended */
	pthread_mutex_t lock;
	pthread_cond_t streams; /* signalled when a stream arrives */
	sub *inbox;
	idle_conn *idle_inbox;
	reply *reply_inbox;
	/* Hub thread only from here on. */
	int64_t high; /* H: the log is dispatched up to here */
	topic *buckets[NBUCKETS];
	sub *all_head, *all_tail, *dirty, *dead;
	idle_conn *idles;
	reply *replies;
	sc_sse_frame *heartbeat;
	long long last_beat;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t hash(const char *s)
{
	return (size_t)(sc_hash_str(s) % NBUCKETS);
}

static topic *topic_find(sc_hub *h, const char *name)
{
	topic *t;

	for (t = h->buckets[hash(name)]; t != NULL; t = t->hnext)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

static topic *topic_get(sc_hub *h, const char *name)
{
	topic *t = topic_find(h, name);
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
	b = hash(name);
	t->hnext = h->buckets[b];
	h->buckets[b] = t;
	return t;
}

static void topic_drop_if_empty(sc_hub *h, topic *t)
{
	topic **pp;

	if (t->subs != NULL)
		return;
	for (pp = &h->buckets[hash(t->name)]; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == t) {
			*pp = t->hnext;
			break;
		}
	}
	sc_free(t->name);
	sc_free(t);
}

/* --- streams before the hand-off ------------------------------------ */

sc_hub_stream *sc_hub_stream_new(int fd, uint16_t id, int keep_conn,
				 const char *cursor)
{
	sub *s = sc_calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->kind = K_SUB;
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

sc_err sc_hub_stream_topic(sc_hub_stream *s, const char *name,
			   const char *init, size_t init_len)
{
	subtopic *nt;
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
	nt[s->ntopics].t = (topic *)sc_strdup(name);
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
		if (s->hb[1] == SC_FCGI_ABORT_REQUEST)
			abort = 1;
		s->skip = (((uint32_t)s->hb[4] << 8) | s->hb[5]) + s->hb[6];
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

/* --- hand-off (any thread) ------------------------------------------ */

static void poke(int fd)
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
	poke(h->inbox_fd);
}

void sc_hub_add_idle(sc_hub *h, int fd)
{
	idle_conn *c = sc_calloc(1, sizeof(*c));

	if (c == NULL) {
		close(fd);
		return;
	}
	c->kind = K_IDLE;
	c->fd = fd;
	pthread_mutex_lock(&h->lock);
	c->next = h->idle_inbox;
	h->idle_inbox = c;
	pthread_mutex_unlock(&h->lock);
	poke(h->inbox_fd);
}

/* Sets or clears O_NONBLOCK on fd; 0 or -1. */
static int set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	if (!(fl & O_NONBLOCK) == !on)
		return 0;
	return fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

int sc_hub_respond(sc_hub *h, int fd, uint16_t id, int keep_conn,
		   sc_sse_frame *const *frames, size_t n)
{
	sc_outq q = {0};
	reply *p = NULL;
	size_t i;
	int rc = -1, was_nb;

	q.reqid = id;
	for (i = 0; i <= n; i++)
		if (sc_outq_push(&q, i < n ? frames[i] : NULL, SIZE_MAX) !=
		    SC_OK)
			goto out;
	was_nb = fcntl(fd, F_GETFL);
	if (was_nb < 0 || set_nonblock(fd, 1) != 0)
		goto out;
	was_nb &= O_NONBLOCK;
	rc = sc_outq_flush(&q, fd);
	if (rc == 1 && h != NULL)
		p = sc_calloc(1, sizeof(*p));
	if (rc == 1 && p == NULL) {
		/* No hub (or no memory for the hand-over): block here. */
		set_nonblock(fd, 0);
		rc = sc_outq_flush(&q, fd) == 0 ? 0 : -1;
	}
	if (p == NULL) {
		if (set_nonblock(fd, was_nb) != 0)
			rc = -1;
		goto out;
	}
	p->kind = K_REPLY;
	p->fd = fd;
	p->keep_conn = keep_conn;
	p->deadline = now_ms() + h->opt.respond_ms;
	p->out = q;
	memset(&q, 0, sizeof(q));
	atomic_fetch_add(&h->replies_open, 1);
	pthread_mutex_lock(&h->lock);
	p->next = h->reply_inbox;
	h->reply_inbox = p;
	pthread_mutex_unlock(&h->lock);
	poke(h->inbox_fd);
	rc = 1;
out:
	sc_outq_clear(&q);
	return rc;
}

size_t sc_hub_count(sc_hub *h)
{
	return atomic_load(&h->count);
}

/* --- writing -------------------------------------------------------- */

static void set_out(sc_hub *h, sub *s, int on)
{
	struct epoll_event ev;

	if ((int)s->out_on == on)
		return;
	ev.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0);
	ev.data.ptr = s;
	epoll_ctl(h->ep, EPOLL_CTL_MOD, s->fd, &ev);
	s->out_on = on ? 1 : 0;
}

static void unlink_sub(sc_hub *h, sub *s)
{
	size_t i;

	if (!s->registered)
		return;
	for (i = 0; i < s->ntopics; i++) {
		subtopic *st = &s->topics[i];

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

/* Closes s's connection now; it is freed at the end of the loop turn. */
static void kill_sub(sc_hub *h, sub *s)
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

static void watch_idle(sc_hub *h, idle_conn *c)
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

/* The stream's response is complete (end records written). */
static void finish_sub(sc_hub *h, sub *s)
{
	idle_conn *c;

	if (s->keep_conn && (c = sc_calloc(1, sizeof(*c))) != NULL) {
		/* Give the connection back as an idle one. */
		unlink_sub(h, s);
		epoll_ctl(h->ep, EPOLL_CTL_DEL, s->fd, NULL);
		c->kind = K_IDLE;
		c->fd = s->fd;
		s->fd = -1; /* the idle watch owns it now */
		watch_idle(h, c);
	}
	kill_sub(h, s);
}

/* Writes what s has queued, without blocking. */
static void flush_sub(sc_hub *h, sub *s)
{
	uint64_t bytes = s->out.sent_bytes, frames = s->out.sent_frames;
	int rc = sc_outq_flush(&s->out, s->fd);

	sc_metrics_add(h->opt.metrics, SC_METRIC_BYTES_SENT,
		       s->out.sent_bytes - bytes);
	sc_metrics_add(h->opt.metrics, SC_METRIC_FRAMES_SENT,
		       s->out.sent_frames - frames);
	if (rc < 0) {
		kill_sub(h, s);
		return;
	}
	set_out(h, s, rc == 1);
	if (rc == 0 && s->ending)
		finish_sub(h, s);
}

/* Queues f (a new reference is taken) for s; cuts s off when its queue
 * is full (too slow: it resumes with Last-Event-ID).  f NULL queues the
 * end of the response. */
static void enqueue(sc_hub *h, sub *s, sc_sse_frame *f)
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
		kill_sub(h, s);
		return;
	}
	if (!s->dirty) {
		s->dirty = 1;
		s->next_dirty = h->dirty;
		h->dirty = s;
	}
}

static void flush_dirty(sc_hub *h)
{
	sub *s;

	while ((s = h->dirty) != NULL) {
		h->dirty = s->next_dirty;
		s->next_dirty = NULL;
		s->dirty = 0;
		if (!s->dead)
			flush_sub(h, s);
	}
}

/* Ends s cleanly: no more frames, the end records, then close or idle. */
static void end_sub(sc_hub *h, sub *s)
{
	if (s->dead || s->ending)
		return;
	unlink_sub(h, s);
	s->ending = 1;
	enqueue(h, s, NULL);
}

static void free_dead(sc_hub *h)
{
	sub *s;

	while ((s = h->dead) != NULL) {
		h->dead = s->next_dead;
		sc_hub_stream_free(s);
	}
}

/* --- first frames --------------------------------------------------- */

typedef struct first {
	sc_hub *h;
	sub *s;
	int64_t *from; /* per topic: rows after this seq are missing */
	sc_sse_buf *buf;
	int with_ids; /* each patch carries its id (no state frame sent) */
	int nframes;
	sc_err rc;
} first;

/* Appends one frame to the first frames, leaving it unterminated. */
static sc_err first_frame(first *fi, const char *event, const char *id,
			  const char *data, size_t len)
{
	sc_err rc = SC_OK;

	if (fi->nframes > 0)
		rc = sc_sse_buf_add(fi->buf, "\n", 1);
	if (rc == SC_OK)
		rc = sc_sse_format(fi->buf, event, id, data, len, 0);
	if (rc == SC_OK)
		fi->nframes++;
	return rc;
}

static int first_entry(const sc_store_entry *e, void *arg)
{
	first *fi = arg;
	char cur[SC_CURSOR_MAX], *json = NULL;
	size_t i, len = 0;

	for (i = 0; i < fi->s->ntopics; i++)
		if (strcmp(fi->s->topics[i].t->name, e->topic) == 0)
			break;
	if (i == fi->s->ntopics || e->seq <= fi->from[i])
		return 0;
	sc_store_cursor_format(fi->h->store, e->seq, cur);
	fi->rc = sc_sse_envelope(e->topic, e->version, NULL, "patch", e->patch,
				 e->patch_len, &json, &len);
	if (fi->rc == SC_OK)
		fi->rc = first_frame(fi, "patch", fi->with_ids ? cur : NULL,
				     json, len);
	sc_free(json);
	fi->s->topics[i].version = e->version;
	return fi->rc != SC_OK;
}

/* Builds s's first frames into buf; full: state frames for all topics.
 * Sets s->cursor and the topics' versions. */
static sc_err first_frames(sc_hub *h, sub *s, int full, sc_sse_buf *buf,
			   int64_t *from)
{
	first fi = {h, s, from, buf, 1, 0, SC_OK};
	int64_t resume = -1, low = INT64_MAX, last = 0;
	char cur[SC_CURSOR_MAX];
	const char *names[SC_HUB_TOPICS_MAX];
	size_t i;
	sc_err rc;

	if (!full && s->resume != NULL &&
	    sc_store_cursor_parse(h->store, s->resume, &resume, NULL) != SC_OK)
		resume = -1;
	/* Before any read: a topic not stored yet is at version 0 up to
	 * here, and its first rows come after. */
	rc = sc_store_max_seq(h->store, &last, NULL);
	if (rc != SC_OK)
		return rc;
	for (i = 0; i < s->ntopics; i++) {
		sc_store_state st = {0};
		char *json = NULL;
		size_t len = 0;

		names[i] = s->topics[i].t->name;
		if (resume >= 0 && sc_store_resumable(h->store, names[i],
						      resume, NULL) == SC_OK) {
			from[i] = resume;
			s->topics[i].version = 0;
		} else {
			rc = sc_store_get(h->store, names[i], &st, NULL);
			if (rc == SC_ERR_NOT_FOUND &&
			    s->topics[i].init != NULL) {
				rc = (st.state = sc_strndup(
					  s->topics[i].init,
					  s->topics[i].init_len)) != NULL
					 ? SC_OK
					 : SC_ERR_NOMEM;
				st.state_len = s->topics[i].init_len;
				st.version = 0;
				st.seq = last;
			}
			if (rc == SC_OK)
				rc = sc_sse_envelope(names[i], st.version, NULL,
						     "state", st.state,
						     st.state_len, &json, &len);
			if (rc == SC_OK)
				rc = first_frame(&fi, "state", NULL, json, len);
			from[i] = st.seq;
			s->topics[i].version = st.version;
			s->sent_state = 1;
			sc_free(json);
			sc_store_state_free(&st);
			if (rc != SC_OK)
				return rc;
			fi.with_ids = 0;
		}
		if (from[i] < low)
			low = from[i];
	}
	rc = sc_store_log(h->store, names, s->ntopics, low, 0, first_entry, &fi,
			  &last, NULL);
	if (rc == SC_OK)
		rc = fi.rc;
	if (rc != SC_OK)
		return rc;
	s->cursor = last > h->high ? last : h->high;
	if (fi.nframes == 0)
		return SC_OK;
	if (!fi.with_ids) {
		sc_store_cursor_format(h->store, s->cursor, cur);
		rc = sc_sse_buf_add(buf, "id: ", 4);
		if (rc == SC_OK)
			rc = sc_sse_buf_add(buf, cur, strlen(cur));
		if (rc == SC_OK)
			rc = sc_sse_buf_add(buf, "\n", 1);
	}
	if (rc == SC_OK)
		rc = sc_sse_buf_add(buf, "\n", 1);
	return rc;
}

static void register_sub(sc_hub *h, sub *s)
{
	struct epoll_event ev;
	sc_sse_buf buf = {0};
	int64_t from[SC_HUB_TOPICS_MAX];
	sc_sse_frame *f = NULL;
	size_t i;
	int fl;
	sc_err rc;

	/* Swap each topic's name for the hub's shared topic. */
	for (i = 0; i < s->ntopics; i++) {
		char *name = (char *)s->topics[i].t;
		topic *t = topic_get(h, name);

		sc_free(name);
		s->topics[i].t = t;
		s->topics[i].s = s;
		if (t == NULL) {
			size_t j;

			for (j = i + 1; j < s->ntopics; j++) {
				sc_free(s->topics[j].t);
				s->topics[j].t = NULL;
			}
			break;
		}
		s->topics[i].prev = NULL;
		s->topics[i].next = t->subs;
		if (t->subs != NULL)
			t->subs->prev = &s->topics[i];
		t->subs = &s->topics[i];
	}
	s->registered = 1;
	s->born = now_ms();
	s->prev_all = h->all_tail;
	if (h->all_tail != NULL)
		h->all_tail->next_all = s;
	else
		h->all_head = s;
	h->all_tail = s;
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = s;
	fl = fcntl(s->fd, F_GETFL);
	if (i < s->ntopics || s->ntopics > SC_HUB_TOPICS_MAX || fl < 0 ||
	    fcntl(s->fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
	    epoll_ctl(h->ep, EPOLL_CTL_ADD, s->fd, &ev) != 0)
		goto fail;
	/* Catch-up patches past half the queue: send state instead. */
	buf.max = h->opt.queue_limit / 2;
	rc = first_frames(h, s, 0, &buf, from);
	if (rc == SC_ERR_TOO_BIG) {
		sc_sse_buf_free(&buf); /* and no cap: a state of any size */
		rc = first_frames(h, s, 1, &buf, from);
	}
	if (rc != SC_OK)
		goto fail;
	sc_metrics_add(h->opt.metrics, SC_METRIC_STREAMS_OPENED, 1);
	if (s->resume != NULL)
		sc_metrics_add(h->opt.metrics,
			       s->sent_state ? SC_METRIC_RESUME_STATE
					     : SC_METRIC_RESUME_PATCHES,
			       1);
	sc_free(s->resume);
	s->resume = NULL;
	/* The only stream: what the log held before it is nobody's. */
	if (h->all_head == s && h->all_tail == s && s->cursor > h->high)
		h->high = s->cursor;
	if (buf.len > 0) {
		f = sc_sse_frame_new(buf.p, buf.len);
		if (f == NULL)
			goto fail;
		enqueue(h, s, f);
		sc_sse_frame_unref(f);
	}
	sc_sse_buf_free(&buf);
	return;
fail:
	sc_sse_buf_free(&buf);
	kill_sub(h, s);
}

/* --- dispatch ------------------------------------------------------- */

static int dispatch_entry(const sc_store_entry *e, void *arg)
{
	sc_hub *h = arg;
	topic *t = topic_find(h, e->topic);
	sc_sse_buf buf = {0};
	char cur[SC_CURSOR_MAX], *json = NULL;
	size_t len = 0;
	sc_sse_frame *f = NULL;
	subtopic *st, *next;

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
			kill_sub(h, st->s);
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
			end_sub(h, st->s);
			continue;
		}
		st->version = e->version;
		enqueue(h, st->s, f);
	}
out:
	sc_sse_frame_unref(f);
	sc_free(json);
	sc_sse_buf_free(&buf);
	return 0;
}

static void dispatch(sc_hub *h)
{
	int64_t last = 0;

	if (h->all_head == NULL)
		return; /* nobody to send to: the next stream moves high */
	if (sc_store_log(h->store, NULL, 0, h->high, 0, dispatch_entry, h,
			 &last, NULL) == SC_OK &&
	    last > h->high)
		h->high = last;
}

/* --- answers (sc_hub_respond) --------------------------------------- */

static void reply_unlink(sc_hub *h, reply *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		h->replies = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
}

/* Ends p: its connection goes idle (done, keep_conn) or is closed. */
static void reply_end(sc_hub *h, reply *p, int done)
{
	idle_conn *c = NULL;

	reply_unlink(h, p);
	epoll_ctl(h->ep, EPOLL_CTL_DEL, p->fd, NULL);
	if (done && p->keep_conn && (c = sc_calloc(1, sizeof(*c))) != NULL) {
		c->kind = K_IDLE;
		c->fd = p->fd;
		watch_idle(h, c);
	} else {
		close(p->fd);
	}
	sc_outq_clear(&p->out);
	sc_free(p);
	atomic_fetch_sub(&h->replies_open, 1);
}

static void reply_watch(sc_hub *h, reply *p)
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

static void on_reply_event(sc_hub *h, reply *p)
{
	int rc = sc_outq_flush(&p->out, p->fd);

	if (rc != 1)
		reply_end(h, p, rc == 0);
}

/* Cuts off the answers past their deadline. */
static void reply_expire(sc_hub *h, long long now)
{
	reply *p, *next;

	for (p = h->replies; p != NULL; p = next) {
		next = p->next;
		if (now >= p->deadline)
			reply_end(h, p, 0);
	}
}

/* --- the loop ------------------------------------------------------- */

static void take_inbox(sc_hub *h)
{
	sub *s, *list;
	idle_conn *c, *idles;
	reply *p, *replies;

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
		reply_watch(h, p);
	}
	/* The inbox is LIFO: register in arrival order. */
	for (s = NULL; list != NULL;) {
		sub *next = list->next_inbox;

		list->next_inbox = s;
		s = list;
		list = next;
	}
	while (s != NULL) {
		sub *next = s->next_inbox;

		register_sub(h, s);
		s = next;
	}
	while ((c = idles) != NULL) {
		idles = c->next;
		watch_idle(h, c);
	}
}

static void on_sub_event(sc_hub *h, sub *s, uint32_t events)
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
					end_sub(h, s);
					break;
				}
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			kill_sub(h, s); /* the server closed: client gone */
			return;
		}
	}
	if (events & EPOLLOUT)
		flush_sub(h, s);
}

static void on_idle_event(sc_hub *h, idle_conn *c)
{
	idle_conn **pp;

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

static void on_tick(sc_hub *h)
{
	long long now = now_ms();
	sub *s, *next;

	reply_expire(h, now);
	if (h->all_head == NULL)
		return;
	dispatch(h); /* the safety net under the wake */
	if (now - h->last_beat >= h->opt.heartbeat_ms) {
		h->last_beat = now;
		for (s = h->all_head; s != NULL; s = s->next_all)
			if (!s->ending)
				enqueue(h, s, h->heartbeat);
	}
	if (h->opt.max_life_s > 0) {
		for (s = h->all_head; s != NULL; s = next) {
			next = s->next_all;
			if (now - s->born < (long long)h->opt.max_life_s * 1000)
				break;
			if (!s->ending)
				end_sub(h, s);
		}
	}
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
			tag *t = evs[i].data.ptr;

			switch (t->kind) {
			case K_WAKE:
				drain(h->wake_fd);
				dispatch(h);
				break;
			case K_INBOX:
				drain(h->inbox_fd);
				take_inbox(h);
				break;
			case K_TIMER:
				drain(h->timer_fd);
				on_tick(h);
				break;
			case K_IDLE:
				on_idle_event(h, (idle_conn *)t);
				break;
			case K_REPLY:
				on_reply_event(h, (reply *)t);
				break;
			default:
				on_sub_event(h, (sub *)t, evs[i].events);
				break;
			}
		}
		flush_dirty(h);
		free_dead(h);
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
				poke(h->wake_fd);
			continue;
		}
		pthread_mutex_lock(&h->lock);
		while (atomic_load(&h->count) == 0 && !atomic_load(&h->stop)) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 500000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&h->streams, &h->lock, &ts);
		}
		pthread_mutex_unlock(&h->lock);
		token = sc_store_wake_token(h->store);
		poke(h->wake_fd);
	}
	return NULL;
}

static int add_fd(sc_hub *h, int fd, tag *t, int kind)
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
	pthread_cond_init(&h->streams, NULL);
	h->last_beat = now_ms();
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
	    add_fd(h, h->wake_fd, &h->wake_tag, K_WAKE) ||
	    add_fd(h, h->inbox_fd, &h->inbox_tag, K_INBOX) ||
	    add_fd(h, h->timer_fd, &h->timer_tag, K_TIMER)) {
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
	unsigned char rec[SC_FCGI_HEADER_LEN + sizeof(bye) - 1 + END_LEN];
	topic *t;
	sub *s;
	idle_conn *c;
	size_t b;

	if (h == NULL)
		return;
	/* Answers being written get a few seconds to finish. */
	for (b = 0; b < 100 && h->thread_started &&
		    atomic_load(&h->replies_open) > 0;
	     b++) {
		struct timespec ts = {0, 50000000};

		nanosleep(&ts, NULL);
	}
	atomic_store(&h->stop, 1);
	pthread_mutex_lock(&h->lock);
	pthread_cond_signal(&h->streams);
	pthread_mutex_unlock(&h->lock);
	if (h->inbox_fd >= 0)
		poke(h->inbox_fd);
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
			sc_fcgi_header(rec + n, SC_FCGI_STDOUT, s->out.reqid, 0,
				       0);
			sc_fcgi_end_record(rec + n + 8, s->out.reqid,
					   SC_FCGI_REQUEST_COMPLETE);
			if (send(s->fd, rec, sizeof(rec),
				 MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
				(void)0;
		}
		kill_sub(h, s);
	}
	free_dead(h);
	while (h->replies != NULL)
		reply_end(h, h->replies, 0);
	while ((c = h->idles) != NULL) {
		h->idles = c->next;
		close(c->fd);
		sc_free(c);
	}
	for (b = 0; b < NBUCKETS; b++)
		while ((t = h->buckets[b]) != NULL) {
			h->buckets[b] = t->hnext;
			sc_free(t->name);
			sc_free(t);
		}
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
