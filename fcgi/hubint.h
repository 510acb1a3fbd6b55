/*
 * fcgi/hubint.h — the insides of the stream hub (hub.h), shared by the
 * files that make it up and by no other:
 *
 *   fcgi/hub.c      its loop: the epoll thread, the wake thread, the
 *                   hand-off from the workers, start and stop;
 *   fcgi/fanout.c   the subscribers and topics: a change framed once
 *                   and queued to every subscriber of its topic;
 *   fcgi/catchup.c  a new subscriber's first frames, read from the store;
 *   fcgi/park.c     the connections it holds without a stream: answers
 *                   it finishes writing (sc_hub_respond) and idle
 *                   keep-alive connections.
 *
 * Everything here runs on the hub thread unless it says otherwise.
 */
#ifndef SC_FCGI_HUBINT_H
#define SC_FCGI_HUBINT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "fcgi/fcgiwire.h"
#include "fcgi/hub.h"
#include "fcgi/outq.h"

#define SC_HUB_NBUCKETS 4096

/* What an epoll event's data.ptr points at: each starts with its kind. */
enum {
	SC_HUB_SUB = 1,
	SC_HUB_IDLE,
	SC_HUB_REPLY,
	SC_HUB_WAKE,
	SC_HUB_INBOX,
	SC_HUB_TIMER
};

typedef struct sc_hub_topic sc_hub_topic;
typedef struct sc_hub_stream sc_hub_sub;

/* One topic one subscriber follows. */
typedef struct sc_hub_subtopic {
	sc_hub_topic *t;
	sc_hub_sub *s;
	int64_t version; /* the version s has of t */
	char *init;	 /* until registered: the state of a topic not
			    stored yet (version 0), or NULL */
	size_t init_len;
	struct sc_hub_subtopic *prev, *next;
} sc_hub_subtopic;

struct sc_hub_topic {
	char *name;
	sc_hub_subtopic *subs;
	sc_hub_topic *hnext;
};

struct sc_hub_stream {
	int kind;
	int fd;
	unsigned keep_conn : 1, dead : 1, ending : 1, dirty : 1, out_on : 1,
	    registered : 1, sent_state : 1;
	int64_t cursor;
	char *resume; /* the client's cursor text until registered */
	size_t ntopics;
	sc_hub_subtopic *topics;
	sc_outq out;
	/* The records the server sends meanwhile (sc_hub_stream_feed): the
	 * header being read and the bytes of content left to skip. */
	unsigned char hb[SC_FCGI_HEADER_LEN];
	unsigned char hn;
	uint32_t skip;
	long long born;
	sc_hub_sub *prev_all, *next_all, *next_dirty, *next_dead, *next_inbox;
};

/* An idle keep-alive connection. */
typedef struct sc_hub_idle {
	int kind;
	int fd;
	struct sc_hub_idle *next;
} sc_hub_idle;

/* An answer the hub finishes writing (sc_hub_respond). */
typedef struct sc_hub_reply {
	int kind;
	int fd;
	int keep_conn;
	long long deadline;
	sc_outq out;
	struct sc_hub_reply *prev, *next;
} sc_hub_reply;

typedef struct sc_hub_tag {
	int kind;
} sc_hub_tag;

struct sc_hub {
	sc_hub_options opt;
	sc_store *store;
	int ep, wake_fd, inbox_fd, timer_fd;
	sc_hub_tag wake_tag, inbox_tag, timer_tag;
	pthread_t thread, waker;
	int thread_started, waker_started;
	atomic_int stop;
	atomic_size_t count;
	atomic_size_t replies_open; /* answers handed over, not yet ended */
	pthread_mutex_t lock;
	pthread_cond_t streams; /* signalled when a stream arrives */
	sc_hub_sub *inbox;
	sc_hub_idle *idle_inbox;
	sc_hub_reply *reply_inbox;
	/* Hub thread only from here on. */
	int64_t high; /* H: the log is dispatched up to here */
	sc_hub_topic *buckets[SC_HUB_NBUCKETS];
	sc_hub_sub *all_head, *all_tail, *dirty, *dead;
	sc_hub_idle *idles;
	sc_hub_reply *replies;
	sc_sse_frame *heartbeat;
	long long last_beat;
};

/* Wakes the hub thread through the eventfd fd.  Any thread. */
void sc_hub_poke(int fd);

/* --- fanout.c ------------------------------------------------------- */

/* The hub's topic named name, made when missing; NULL when out of
 * memory. */
sc_hub_topic *sc_fanout_topic(sc_hub *h, const char *name);

/* Frees every topic (at stop, when no subscriber is left). */
void sc_fanout_topics_free(sc_hub *h);

/* Closes s's connection now; s is freed at the end of the loop turn. */
void sc_fanout_kill(sc_hub *h, sc_hub_sub *s);

/* Ends s cleanly: no more frames, the end records, then close or idle. */
void sc_fanout_end(sc_hub *h, sc_hub_sub *s);

/* Queues f (a new reference is taken) for s; cuts s off when its queue
 * is full (too slow: it resumes with Last-Event-ID) or memory runs out.
 * f NULL queues the end of the response. */
void sc_fanout_enqueue(sc_hub *h, sc_hub_sub *s, sc_sse_frame *f);

/* Writes what the subscribers given frames this turn have queued. */
void sc_fanout_flush_dirty(sc_hub *h);

/* Frees the subscribers killed this turn. */
void sc_fanout_free_dead(sc_hub *h);

/* Reads the log past h->high and queues each change to the subscribers
 * of its topic. */
void sc_fanout_dispatch(sc_hub *h);

/* A subscriber's connection is readable or writable. */
void sc_fanout_on_event(sc_hub *h, sc_hub_sub *s, uint32_t events);

/* The timer: heartbeats and the end of streams past their life. */
void sc_fanout_tick(sc_hub *h, long long now);

/* --- catchup.c ------------------------------------------------------ */

/* Takes s (handed over by sc_hub_add) into the hub: its topics, its
 * connection watched, its first frames queued.  On any failure s is
 * killed (the client reconnects and resumes). */
void sc_catchup_register(sc_hub *h, sc_hub_sub *s);

/* --- park.c --------------------------------------------------------- */

/* A new idle record for the keep-alive connection fd (not watched yet);
 * NULL, with fd closed, when out of memory.  Any thread. */
sc_hub_idle *sc_park_idle_new(int fd);

/* Watches the idle keep-alive connection fd (ownership taken: closed
 * when it cannot be watched). */
void sc_park_idle(sc_hub *h, int fd);

/* Watches c (allocated by the caller, who gives it up). */
void sc_park_idle_watch(sc_hub *h, sc_hub_idle *c);

/* An idle connection became readable: it goes back to the workers. */
void sc_park_on_idle(sc_hub *h, sc_hub_idle *c);

/* Starts writing p's rest as its peer reads. */
void sc_park_reply_watch(sc_hub *h, sc_hub_reply *p);

/* p's connection is writable. */
void sc_park_on_reply(sc_hub *h, sc_hub_reply *p);

/* Cuts off the answers past their deadline. */
void sc_park_expire(sc_hub *h, long long now);

/* Closes every parked connection (at stop). */
void sc_park_close_all(sc_hub *h);

#endif
