/*
 * store/group.c — group commit: the queue of the changes submitted by
 * the threads of a process, and who commits them.  A synchronous
 * submitter (sc_store_submit) commits a batch itself when nobody else
 * is doing it, else waits for its change's batch; an asynchronous one
 * (sc_store_submit_async) leaves its change to the writer thread and is
 * called back.  Either way the changes that arrive while a batch
 * commits form the next batch, and the first change commits at once.
 *
 * The linger.  Under load, the threads a commit answers come back a
 * little later, each with its next change; a leader that committed at
 * once would commit the first one or two of them alone and leave the
 * rest to the batch after.  So when the last batch held n > 1 changes,
 * the next one takes changes in until it has n, for at most as long as
 * the last batch took (capped at LINGER_MAX_NS), as PostgreSQL's
 * commit_delay does when other transactions are active.  The leader
 * does not sit idle meanwhile: it runs the changes it has, inside the
 * batch's transaction, and waits only when none is queued (an idle
 * linger before the transaction cost a quarter of the time of 8 threads
 * changing one topic: bench/store_bench.c).  A change that arrives
 * alone after a batch of one never waits, and a linger that times out
 * makes the next batch smaller and so the next linger shorter or none.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "store/internal.h"
#include "store/store.h"

/* The checks a change passes before it is queued. */
static sc_err check(sc_store *s, const sc_store_req *req, sc_error *err)
{
	sc_err rc = sc_topic_check(req->topic, err);

	if (rc != SC_OK)
		return rc;
	if (req->idem_key != NULL &&
	    strlen(req->idem_key) > SC_STORE_IDEM_KEY_MAX)
		return sc_error_set(err, SC_ERR_INVALID,
				    "idempotency key longer than %d bytes",
				    SC_STORE_IDEM_KEY_MAX);
	if (s->readonly)
		return sc_error_set(err, SC_ERR_READONLY,
				    "the store is open read-only");
	return SC_OK;
}

/* The longest linger, in ns. */
#define LINGER_MAX_NS 2000000

static void enqueue(sc_store_shared *sh, sc_store_gc_item *it)
{
	it->next = NULL;
	if (sh->qtail != NULL)
		sh->qtail->next = it;
	else
		sh->qhead = it;
	sh->qtail = it;
	sh->queued++;
	if (sh->lingering)
		pthread_cond_signal(&sh->arrived);
}

/* With sh->lock held: takes up to max changes off the queue, counted
 * in *n; NULL when none is queued. */
static sc_store_gc_item *take(sc_store_shared *sh, size_t max, size_t *n)
{
	sc_store_gc_item *first = sh->qhead, *last = first;
	size_t k;

	if (first == NULL || max == 0)
		return NULL;
	for (k = 1; k < max && last->next != NULL; k++)
		last = last->next;
	sh->qhead = last->next;
	if (sh->qhead == NULL)
		sh->qtail = NULL;
	sh->queued -= k;
	last->next = NULL;
	*n += k;
	return first;
}

/* A leader's batch that may still take changes in (the linger). */
typedef struct gather {
	sc_store_shared *sh;
	size_t n;		/* changes taken so far */
	size_t want;		/* the size of the last batch */
	struct timespec until;	/* the linger's end */
	int over;		/* it ended (timed out) */
} gather;

/* sc_store_run_batch's more: once the batch's changes so far have run,
 * those queued meanwhile, or the first to come before the linger ends,
 * until the batch has g->want. */
static sc_store_gc_item *more(void *arg)
{
	gather *g = arg;
	sc_store_shared *sh = g->sh;
	sc_store_gc_item *part = NULL;

	pthread_mutex_lock(&sh->lock);
	if (g->n < g->want && !g->over) {
		sh->lingering = 1;
		while (sh->qhead == NULL &&
		       pthread_cond_timedwait(&sh->arrived, &sh->lock,
					      &g->until) == 0)
			;
		sh->lingering = 0;
		part = take(sh, SC_STORE_BATCH_MAX - g->n, &g->n);
		g->over = part == NULL;
	}
	pthread_mutex_unlock(&sh->lock);
	return part;
}

/*
 * With sh->lock held, nobody leading and something queued: takes a
 * batch, commits it with s (the lock released meanwhile, the linger
 * taking in what comes), marks the synchronous items done, and calls
 * back the asynchronous ones (the lock released again) before freeing
 * them.  Returns with the lock held.
 */
static void lead(sc_store_shared *sh, sc_store *s)
{
	sc_store_gc_item *batch, *it, *next, *async = NULL;
	gather g = {.sh = sh, .n = 0, .want = sh->last_n};
	int64_t start, took;

	sh->leading = 1;
	batch = take(sh, SC_STORE_BATCH_MAX, &g.n);
	sc_clock_mono_after(sh->last_ns < LINGER_MAX_NS ? sh->last_ns
							: LINGER_MAX_NS,
			    &g.until);
	pthread_mutex_unlock(&sh->lock);
	start = sc_clock_mono_ns();
	sc_store_run_batch(s, batch, g.n < g.want ? more : NULL, &g);
	took = sc_clock_mono_ns() - start;
	pthread_mutex_lock(&sh->lock);
	sh->last_n = g.n;
	sh->last_ns = took;
	for (it = batch; it != NULL; it = next) {
		next = it->next;
		if (it->done_fn != NULL) {
			it->next = async;
			async = it;
		} else {
			it->done = 1;
		}
	}
	sh->leading = 0;
	pthread_cond_broadcast(&sh->done);
	if (sh->qhead != NULL)
		pthread_cond_signal(&sh->work);
	if (async == NULL)
		return;
	pthread_mutex_unlock(&sh->lock);
	for (it = async; it != NULL; it = next) {
		next = it->next;
		it->done_fn(it->done_arg, it->rc, it->out, &it->err);
		sc_store_result_free(&it->res);
		sc_free(it);
	}
	pthread_mutex_lock(&sh->lock);
}

sc_err sc_store_submit(sc_store *s, const sc_store_req *req,
		       sc_store_result *out, sc_error *err)
{
	sc_store_shared *sh = s->sh;
	sc_store_gc_item it;
	sc_err rc;

	memset(out, 0, sizeof(*out));
	rc = check(s, req, err);
	if (rc != SC_OK)
		return rc;
	memset(&it, 0, sizeof(it));
	it.req = req;
	it.out = out;
	sc_error_clear(&it.err);
	pthread_mutex_lock(&sh->lock);
	enqueue(sh, &it);
	while (!it.done) {
		if (sh->leading)
			pthread_cond_wait(&sh->done, &sh->lock);
		else
			lead(sh, s);
	}
	pthread_mutex_unlock(&sh->lock);
	if (it.rc != SC_OK && err != NULL)
		*err = it.err;
	return it.rc;
}

sc_err sc_store_change(sc_store *s, const char *topic, const char *event,
		       const char *idem_key, sc_store_change_fn fn, void *arg,
		       sc_store_result *out, sc_error *err)
{
	sc_store_req req = {topic, event, idem_key, fn, arg, NULL};

	return sc_store_submit(s, &req, out, err);
}

sc_err sc_store_submit_async(sc_store *s, const sc_store_req *req,
			     sc_store_done_fn done, void *arg, sc_error *err)
{
	sc_store_shared *sh = s->sh;
	sc_store_gc_item *it;
	sc_err rc = check(s, req, err);

	if (rc != SC_OK)
		return rc;
	it = sc_calloc(1, sizeof(*it));
	if (it == NULL)
		return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	it->req = req;
	it->out = &it->res;
	it->done_fn = done;
	it->done_arg = arg;
	sc_error_clear(&it->err);
	pthread_mutex_lock(&sh->lock);
	if (!sh->writer_running || sh->writer_stop)
		rc = sc_error_set(err, SC_ERR_INVALID, "no writer thread");
	else if (sh->queued >= SC_STORE_QUEUE_MAX)
		rc = sc_error_set(err, SC_ERR_BUSY,
				  "%d changes are waiting for the store",
				  SC_STORE_QUEUE_MAX);
	if (rc == SC_OK) {
		enqueue(sh, it);
		pthread_cond_signal(&sh->work);
	}
	pthread_mutex_unlock(&sh->lock);
	if (rc != SC_OK)
		sc_free(it);
	return rc;
}

static void *writer_main(void *arg)
{
	sc_store_shared *sh = arg;

	pthread_mutex_lock(&sh->lock);
	for (;;) {
		if (sh->qhead != NULL && !sh->leading)
			lead(sh, sh->writer_store);
		else if (sh->writer_stop && sh->qhead == NULL)
			break;
		else
			pthread_cond_wait(&sh->work, &sh->lock);
	}
	pthread_mutex_unlock(&sh->lock);
	return NULL;
}

sc_err sc_store_writer_start(sc_store_shared *sh, sc_store *store,
			     sc_error *err)
{
	sc_err rc = SC_OK;

	if (store == NULL || store->sh != sh)
		rc = sc_error_set(err, SC_ERR_INVALID,
				  "the store is not one of this shared "
				  "object's");
	pthread_mutex_lock(&sh->lock);
	if (rc == SC_OK && sh->writer_running)
		rc = sc_error_set(err, SC_ERR_INVALID, "a writer runs already");
	if (rc == SC_OK) {
		sh->writer_store = store;
		sh->writer_stop = 0;
		if (pthread_create(&sh->writer, NULL, writer_main, sh) == 0)
			sh->writer_running = 1;
		else
			rc = sc_error_set(err, SC_ERR_IO,
					  "cannot start the writer thread");
		if (rc != SC_OK)
			sh->writer_store = NULL;
	}
	pthread_mutex_unlock(&sh->lock);
	if (rc != SC_OK)
		sc_store_close(store);
	return rc;
}

void sc_store_writer_stop(sc_store_shared *sh)
{
	if (sh == NULL)
		return;
	pthread_mutex_lock(&sh->lock);
	if (!sh->writer_running) {
		pthread_mutex_unlock(&sh->lock);
		return;
	}
	sh->writer_stop = 1;
	pthread_cond_broadcast(&sh->work);
	pthread_mutex_unlock(&sh->lock);
	pthread_join(sh->writer, NULL);
	pthread_mutex_lock(&sh->lock);
	sh->writer_running = 0;
	pthread_mutex_unlock(&sh->lock);
	sc_store_close(sh->writer_store);
	sh->writer_store = NULL;
}
