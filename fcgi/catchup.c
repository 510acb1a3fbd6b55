/*
 * fcgi/catchup.c — a new subscriber's first frames, read from the
 * store in the hub thread (see hubint.h).
 *
 * Ordering: the hub has read the log up to seq H.  For each topic the
 * first frames are either its state (at snapshot seq G) or nothing
 * (resumable cursor C), then the log rows after those points up to the
 * log's end L; the subscriber's cursor becomes M = max(L, H) and every
 * topic remembers the version it has, from which the fan-out
 * (fanout.c) goes on.  When a state frame was sent, the id that covers
 * all of it (M) is put on the last first frame only, so a client cut
 * off in the middle resumes from its previous cursor.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "fcgi/hubint.h"

typedef struct first {
	sc_hub *h;
	sc_hub_sub *s;
	int64_t *from; /* per topic: rows after this seq are missing */
	sc_buf *buf;
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
		rc = sc_buf_add(fi->buf, "\n", 1);
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
static sc_err first_frames(sc_hub *h, sc_hub_sub *s, int full, sc_buf *buf,
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
		rc = sc_buf_add(buf, "id: ", 4);
		if (rc == SC_OK)
			rc = sc_buf_add(buf, cur, strlen(cur));
		if (rc == SC_OK)
			rc = sc_buf_add(buf, "\n", 1);
	}
	if (rc == SC_OK)
		rc = sc_buf_add(buf, "\n", 1);
	return rc;
}

void sc_catchup_register(sc_hub *h, sc_hub_sub *s)
{
	struct epoll_event ev;
	sc_buf buf = {0};
	int64_t from[SC_HUB_TOPICS_MAX];
	sc_sse_frame *f = NULL;
	size_t i;
	int fl;
	sc_err rc;

	/* Swap each topic's name for the hub's shared topic. */
	for (i = 0; i < s->ntopics; i++) {
		char *name = (char *)s->topics[i].t;
		sc_hub_topic *t = sc_fanout_topic(h, name);

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
	s->born = sc_clock_mono_ms();
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
		sc_buf_free(&buf); /* the widest cap: a state of any size */
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
		sc_fanout_enqueue(h, s, f);
		sc_sse_frame_unref(f);
	}
	sc_buf_free(&buf);
	return;
fail:
	sc_buf_free(&buf);
	sc_fanout_kill(h, s);
}
