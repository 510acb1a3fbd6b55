/*
 * store/wake.c — the cross-process wake of the SQLite backend.  A small
 * file beside the database (DB-wake) is mapped shared by every process that opens the
 * store; its first word is a counter that every commit of a log row
 * bumps, followed by FUTEX_WAKE on it (a non-private futex: it works
 * across processes because they map the same file page).  A waiter
 * sleeps in FUTEX_WAIT on the counter, so it wakes within microseconds
 * of a commit by any process, and polls the log's highest seq on a
 * connection of its own every POLL_MS as the safety net: a writer
 * killed between its commit and its bump, or a writer that does not use
 * this code, delays a wake-up by at most POLL_MS but never loses one.
 *
 * A writer skips the FUTEX_WAKE system call when nobody waits.  Who
 * waits is not counted (a count leaks when a waiter is killed inside
 * its wait, and every later commit would then make a useless call):
 * each waiter instead pushes a shared deadline (CLOCK_MONOTONIC ms,
 * the same clock in every process) to the end of its current sleep
 * slice, at most POLL_MS + SLACK_MS ahead, before it sleeps.  A writer
 * wakes while that deadline is ahead; a waiter that died stops pushing
 * it, so its mark is gone SLACK_MS after its last slice.  The order of
 * the two writes (deadline, then the futex's check of the counter;
 * counter, then the writer's read of the deadline, both sequentially
 * consistent) means a waiter either is seen or sees the new counter.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "store/internal.h"
#include "store/store.h"

#define WAKE_SIZE 4096
#define POLL_MS	  250
#define SLACK_MS  100

/* The shared page: the futex word; a word that older versions used as
 * a count of waiters (unused: it leaked); until when someone may be
 * waiting (CLOCK_MONOTONIC ms, at byte 8). */
typedef struct wake_page {
	uint32_t counter;
	uint32_t unused;
	int64_t wait_until_ms;
} wake_page;

sc_err sc_wake_open(sc_wake *w, const char *db_path, int readonly,
		    sc_error *err)
{
	size_t n = strlen(db_path);
	char *path = sc_malloc(n + sizeof("-wake"));
	struct stat db, st;
	sc_err rc = SC_OK;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->poll_seq = -1;
	if (path == NULL)
		return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	if (strcmp(db_path, ":memory:") == 0 ||
	    strncmp(db_path, "file:", 5) == 0)
		goto out; /* no file to put a wake file beside */
	memcpy(path, db_path, n);
	memcpy(path + n, "-wake", sizeof("-wake"));
	if (stat(db_path, &db) != 0)
		db.st_mode = 0644;
	if (!readonly) {
		w->fd =
		    open(path, O_RDWR | O_CREAT | O_CLOEXEC, db.st_mode & 0666);
		w->writable = w->fd >= 0;
	}
	if (w->fd < 0)
		w->fd = open(path, O_RDONLY | O_CLOEXEC);
	/* Without a wake file (a read-only directory) the slow poll alone
	 * serves: no error. */
	if (w->fd < 0 || fstat(w->fd, &st) != 0)
		goto out;
	if (w->writable && geteuid() == 0 && db.st_uid != st.st_uid &&
	    fchown(w->fd, db.st_uid, db.st_gid) != 0) {
		/* root made it for another owner's database: best effort */
	}
	if (st.st_size < WAKE_SIZE) {
		if (!w->writable || ftruncate(w->fd, WAKE_SIZE) != 0)
			goto out;
	}
	w->map =
	    mmap(NULL, WAKE_SIZE, PROT_READ | (w->writable ? PROT_WRITE : 0),
		 MAP_SHARED, w->fd, 0);
	if (w->map == MAP_FAILED) {
		w->map = NULL;
		rc = sc_error_set(err, SC_ERR_IO, "%s: mmap: %s", path,
				  strerror(errno));
	}
out:
	if (rc != SC_OK || w->map == NULL) {
		if (w->fd >= 0)
			close(w->fd);
		w->fd = -1;
		w->writable = 0;
	}
	sc_free(path);
	return rc;
}

void sc_wake_close(sc_wake *w)
{
	if (w->map != NULL)
		munmap(w->map, WAKE_SIZE);
	if (w->fd >= 0)
		close(w->fd);
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}

void sc_wake_bump(sc_wake *w)
{
	wake_page *p = w->map;

	if (p == NULL || !w->writable)
		return;
	__atomic_add_fetch(&p->counter, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&p->wait_until_ms, __ATOMIC_SEQ_CST) >= sc_clock_mono_ms())
		syscall(SYS_futex, &p->counter, FUTEX_WAKE, INT_MAX, NULL, NULL,
			0);
}

uint64_t sc_wake_token(sc_wake *w)
{
	wake_page *p = w->map;

	return p ? __atomic_load_n(&p->counter, __ATOMIC_SEQ_CST) : 0;
}

/*
 * The slow poll: the highest seq, read by the backend's poll (on a
 * connection of the waiter's own: the store's may be busy in another
 * thread).  Returns 1 when it moved since the last look.
 */
static int poll_moved(sc_wake *w, int (*poll)(void *arg, int64_t *seq),
		      void *arg)
{
	uint32_t counter = (uint32_t)sc_wake_token(w);
	int64_t seq = -1;
	int moved = 0;

	w->poll_ms = sc_clock_mono_ms();
	if (!poll(arg, &seq))
		seq = -1;
	/* The log moved while the counter did not: a lost wake-up.  When
	 * the counter moved too, the futex has told (or will tell). */
	if (seq >= 0) {
		moved = w->poll_seq >= 0 && seq != w->poll_seq &&
			counter == w->poll_counter;
		w->poll_seq = seq;
	}
	w->poll_counter = counter;
	return moved;
}

/* Pushes the shared deadline of waiters up to until (never down: the
 * other waiters' slices may end later). */
static void mark_waiting(wake_page *p, int64_t until)
{
	int64_t old = __atomic_load_n(&p->wait_until_ms, __ATOMIC_SEQ_CST);

	while (old < until &&
	       !__atomic_compare_exchange_n(&p->wait_until_ms, &old, until, 0,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
}

int sc_wake_wait(sc_wake *w, uint64_t *token, int timeout_ms,
		 int (*poll)(void *arg, int64_t *seq), void *arg)
{
	wake_page *p = w->map;
	int64_t start = sc_clock_mono_ms(), now = start;
	uint32_t cur;

	if (w->poll_seq < 0)
		poll_moved(w, poll, arg);
	for (;;) {
		int64_t slice = POLL_MS - (now - w->poll_ms);
		struct timespec ts;
		int r;

		cur = p ? __atomic_load_n(&p->counter, __ATOMIC_SEQ_CST) : 0;
		if (cur != (uint32_t)*token)
			break;
		if (slice <= 0) {
			if (poll_moved(w, poll, arg))
				break;
			slice = POLL_MS;
		}
		if (!sc_clock_slice(start, now, timeout_ms, &slice))
			return 0;
		ts.tv_sec = slice / 1000;
		ts.tv_nsec = (slice % 1000) * 1000000;
		if (p != NULL) {
			mark_waiting(p, now + slice + SLACK_MS);
			r = (int)syscall(SYS_futex, &p->counter, FUTEX_WAIT,
					 cur, &ts, NULL, 0);
		} else {
			r = nanosleep(&ts, NULL);
		}
		if (r != 0 && errno == EINTR) {
			/* A signal: let the caller look at it. */
			cur = p ? __atomic_load_n(&p->counter, __ATOMIC_SEQ_CST)
				: 0;
			if (cur == (uint32_t)*token)
				return 0;
			break;
		}
		now = sc_clock_mono_ms();
	}
	*token = cur;
	return 1;
}
