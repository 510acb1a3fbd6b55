/*
 * fcgi/textcache.c — shared state texts (see textcache.h).
 *
 * One slot per hash of the topic name; a slot holds the text of one
 * version.  A hit is checked byte for byte (outside the lock), so a
 * topic dropped and written again from version 1 never serves the old
 * text.
 */
#include "fcgi/textcache.h"

#include <pthread.h>
#include <string.h>

#include "common/hash.h"
#include "common/alloc.h"
#include "common/topic.h"

#define SLOTS 64

typedef struct slot {
	char topic[SC_TOPIC_MAX + 1];
	int64_t version;
	sc_sse_frame *f; /* NULL: empty */
} slot;

struct sc_textcache {
	pthread_mutex_t lock;
	size_t bytes, max_bytes;
	slot slots[SLOTS];
};

sc_textcache *sc_textcache_new(size_t max_bytes)
{
	sc_textcache *c = sc_calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->max_bytes = max_bytes ? max_bytes : (size_t)64 << 20;
	return c;
}

void sc_textcache_free(sc_textcache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < SLOTS; i++)
		sc_sse_frame_unref(c->slots[i].f);
	pthread_mutex_destroy(&c->lock);
	sc_free(c);
}

static size_t slot_of(const char *topic)
{
	return (size_t)(sc_hash_str(topic) % SLOTS);
}

sc_sse_frame *sc_textcache_get(sc_textcache *c, const char *topic,
			       int64_t version, const char *text, size_t len)
{
	sc_sse_frame *f = NULL, *old = NULL;
	slot *s;

	if (c == NULL || strlen(topic) > SC_TOPIC_MAX)
		return sc_sse_frame_new(text, len);
	s = &c->slots[slot_of(topic)];
	pthread_mutex_lock(&c->lock);
	if (s->f != NULL && s->version == version &&
	    strcmp(s->topic, topic) == 0 && s->f->len == len) {
		f = s->f;
		atomic_fetch_add(&f->refs, 1);
	}
	pthread_mutex_unlock(&c->lock);
	if (f != NULL && memcmp(f->text, text, len) == 0)
		return f;
	sc_sse_frame_unref(f);
	f = sc_sse_frame_new(text, len);
	if (f == NULL)
		return NULL;
	pthread_mutex_lock(&c->lock);
	if (c->bytes - (s->f ? s->f->len : 0) + len <= c->max_bytes) {
		old = s->f;
		c->bytes -= old ? old->len : 0;
		c->bytes += len;
		atomic_fetch_add(&f->refs, 1);
		s->f = f;
		s->version = version;
		strcpy(s->topic, topic);
	}
	pthread_mutex_unlock(&c->lock);
	sc_sse_frame_unref(old);
	return f;
}
