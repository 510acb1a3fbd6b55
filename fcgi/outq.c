/*
 * fcgi/outq.c — a stream's output queue (see outq.h).
 *
 * On the wire a frame of len bytes is ceil(len / REC_TEXT) records, each
 * an 8-byte header and up to REC_TEXT bytes of the frame's text; the end
 * of the response is 24 bytes.  head_off counts the bytes of the head
 * node already written, so a write can stop anywhere, even inside a
 * header, and resume there.
 */
#include "fcgi/outq.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "common/alloc.h"
#include "fcgi/fcgiwire.h"

#define REC_TEXT 65528 /* SSE text per FCGI_STDOUT record */
#define MAX_IOV	 64

struct sc_outq_node {
	sc_sse_frame *f; /* NULL: the end of the response */
	sc_outq_node *next;
};

static size_t nrec(const sc_sse_frame *f)
{
	return (f->len + REC_TEXT - 1) / REC_TEXT;
}

/* Bytes a node puts on the wire. */
static size_t wire_len(const sc_outq_node *q)
{
	if (q->f == NULL)
		return SC_FCGI_END_LEN;
	return q->f->len + SC_FCGI_HEADER_LEN * nrec(q->f);
}

sc_err sc_outq_push(sc_outq *q, sc_sse_frame *f, size_t limit)
{
	sc_outq_node *n;

	if (f != NULL && q->queued > 0 && q->queued + f->len > limit)
		return SC_ERR_TOO_BIG;
	n = sc_malloc(sizeof(*n));
	if (n == NULL)
		return SC_ERR_NOMEM;
	n->f = f;
	n->next = NULL;
	if (f != NULL) {
		f->refs++;
		q->queued += f->len;
	}
	if (q->tail != NULL)
		q->tail->next = n;
	else
		q->head = n;
	q->tail = n;
	return SC_OK;
}

/* Adds the records of frame f from its wire offset off to iov; returns
 * 1 when all of them fit, 0 when iov filled up first. */
static int frame_iov(const sc_outq *q, const sc_sse_frame *f, size_t off,
		     struct iovec *iov, int *n, unsigned char (*hdr)[8],
		     int *nh, size_t *want)
{
	size_t r, k;

	for (r = 0; r < nrec(f); r++) {
		size_t tl = f->len - r * REC_TEXT;
		size_t rs = r * (REC_TEXT + SC_FCGI_HEADER_LEN);

		if (tl > REC_TEXT)
			tl = REC_TEXT;
		if (off >= rs + SC_FCGI_HEADER_LEN + tl)
			continue; /* written already */
		if (*n > MAX_IOV - 2)
			return 0;
		k = off > rs ? off - rs : 0;
		if (k < SC_FCGI_HEADER_LEN) {
			sc_fcgi_header(hdr[*nh], SC_FCGI_STDOUT, q->reqid, tl,
				       0);
			iov[*n].iov_base = hdr[*nh] + k;
			iov[*n].iov_len = SC_FCGI_HEADER_LEN - k;
			*want += SC_FCGI_HEADER_LEN - k;
			(*n)++;
			(*nh)++;
			k = 0;
		} else {
			k -= SC_FCGI_HEADER_LEN;
		}
		iov[*n].iov_base = (char *)f->text + r * REC_TEXT + k;
		iov[*n].iov_len = tl - k;
		*want += tl - k;
		(*n)++;
	}
	return 1;
}

int sc_outq_flush(sc_outq *q, int fd)
{
	unsigned char hdr[MAX_IOV][SC_FCGI_HEADER_LEN], endrec[SC_FCGI_END_LEN];
	struct iovec iov[MAX_IOV];
	struct msghdr msg = {0};

	while (q->head != NULL) {
		size_t off = q->head_off, want = 0;
		int n = 0, nh = 0;
		sc_outq_node *p;
		ssize_t w;

		for (p = q->head; p != NULL && n < MAX_IOV - 2; p = p->next) {
			if (p->f != NULL) {
				if (!frame_iov(q, p->f, off, iov, &n, hdr, &nh,
					       &want))
					break;
			} else {
				sc_fcgi_end_response(endrec, q->reqid);
				iov[n].iov_base = endrec + off;
				iov[n].iov_len = SC_FCGI_END_LEN - off;
				want += SC_FCGI_END_LEN - off;
				n++;
			}
			off = 0;
		}
		/* MSG_DONTWAIT: non-blocking whatever the socket's own
		 * flag, so an answer needs no fcntl before and after. */
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)n;
		w = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK)
			w = writev(fd, iov, n); /* a pipe: its own flag */
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			return -1;
		}
		q->head_off += (size_t)w;
		q->sent_bytes += (uint64_t)w;
		while (q->head != NULL && q->head_off >= wire_len(q->head)) {
			p = q->head;
			q->head_off -= wire_len(p);
			q->head = p->next;
			if (p->f != NULL) {
				q->queued -= p->f->len;
				q->sent_frames++;
			}
			sc_sse_frame_unref(p->f);
			sc_free(p);
		}
		if (q->head == NULL)
			q->tail = NULL;
		if ((size_t)w < want)
			return 1;
	}
	return 0;
}

int sc_outq_empty(const sc_outq *q)
{
	return q->head == NULL;
}

int sc_outq_midway(const sc_outq *q)
{
	return q->head != NULL && q->head_off > 0;
}

void sc_outq_clear(sc_outq *q)
{
	sc_outq_node *p, *next;

	if (q == NULL)
		return;
	for (p = q->head; p != NULL; p = next) {
		next = p->next;
		sc_sse_frame_unref(p->f);
		sc_free(p);
	}
	q->head = q->tail = NULL;
	q->queued = q->head_off = 0;
}
