/*
 * fcgi/fcgiwire.c — the FastCGI 1.0 responder protocol on blocking
 * sockets (see fcgiwire.h for why it is written by hand).
 */
#include "fcgi/fcgiwire.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/clock.h"

/* How long the rest of a request may take once its first byte came. */
#define REQUEST_MS 30000

typedef struct reader {
	sc_fcgi_conn *c;
	long long deadline; /* monotonic ms */
	const atomic_int *stop;
	int started;
} reader;

void sc_fcgi_conn_setup(int fd)
{
	struct timeval rt = {1, 0}, wt = {30, 0};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rt, sizeof(rt));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wt, sizeof(wt));
}

/* Makes at least one byte available in c's buffer. */
static sc_err fill(reader *rd)
{
	sc_fcgi_conn *c = rd->c;
	ssize_t n;

	if (c->start < c->end)
		return SC_OK;
	c->start = c->end = 0;
	for (;;) {
		if (*rd->stop)
			return SC_ERR_IO;
		/* Also when bytes keep trickling in: the receive timeout
		 * alone lets a peer sending a byte a second hold a worker. */
		if (rd->started && sc_clock_mono_ms() >= rd->deadline)
			return SC_ERR_IO;
		n = recv(c->fd, c->buf, sizeof(c->buf), 0);
		if (n > 0) {
			c->end = (size_t)n;
			if (!rd->started) {
				rd->started = 1;
				rd->deadline = sc_clock_mono_ms() + REQUEST_MS;
			}
			return SC_OK;
		}
		if (n == 0)
			return SC_ERR_IO;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return SC_ERR_IO;
		if (sc_clock_mono_ms() >= rd->deadline)
			return SC_ERR_IO;
	}
}

/* Reads n bytes into dst (NULL: discards them). */
static sc_err get_bytes(reader *rd, void *dst, size_t n)
{
	sc_fcgi_conn *c = rd->c;
	unsigned char *d = dst;
	size_t k;
	sc_err rc;

	while (n > 0) {
		rc = fill(rd);
		if (rc != SC_OK)
			return rc;
		k = c->end - c->start;
		if (k > n)
			k = n;
		if (d != NULL) {
			memcpy(d, c->buf + c->start, k);
			d += k;
		}
		c->start += k;
		n -= k;
	}
	return SC_OK;
}

static sc_err write_all(int fd, struct iovec *iov, int iovcnt)
{
	ssize_t n;

	while (iovcnt > 0) {
		n = writev(fd, iov, iovcnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return SC_ERR_IO;
		}
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return SC_OK;
}

void sc_fcgi_header_parse(const unsigned char h[SC_FCGI_HEADER_LEN],
			  sc_fcgi_hdr *out)
{
	out->version = h[0];
	out->type = h[1];
	out->id = (uint16_t)((h[2] << 8) | h[3]);
	out->content_len = ((size_t)h[4] << 8) | h[5];
	out->padding = h[6];
}

void sc_fcgi_header(unsigned char h[SC_FCGI_HEADER_LEN], int type, uint16_t id,
		    size_t content_len, size_t padding)
{
	h[0] = 1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(id >> 8);
	h[3] = (unsigned char)id;
	h[4] = (unsigned char)(content_len >> 8);
	h[5] = (unsigned char)content_len;
	h[6] = (unsigned char)padding;
	h[7] = 0;
}

size_t sc_fcgi_end_record(unsigned char out[16], uint16_t id,
			  int protocol_status)
{
	sc_fcgi_header(out, SC_FCGI_END_REQUEST, id, 8, 0);
	memset(out + 8, 0, 8);
	out[12] = (unsigned char)protocol_status;
	return 16;
}

size_t sc_fcgi_end_response(unsigned char out[SC_FCGI_END_LEN], uint16_t id)
{
	sc_fcgi_header(out, SC_FCGI_STDOUT, id, 0, 0);
	sc_fcgi_end_record(out + SC_FCGI_HEADER_LEN, id,
			   SC_FCGI_REQUEST_COMPLETE);
	return SC_FCGI_END_LEN;
}

static sc_err send_end(int fd, uint16_t id, int status)
{
	unsigned char rec[16];
	struct iovec iov = {rec, sc_fcgi_end_record(rec, id, status)};

	return write_all(fd, &iov, 1);
}

sc_err sc_fcgi_write(int fd, uint16_t id, const char *head, size_t head_len,
		     const char *body, size_t body_len, int end)
{
	/* Records of at most 32 KB; a response is written in rounds of up
	 * to 8 records with one writev each. */
	enum { CHUNK = 32768, ROUND = 8 };
	unsigned char hdr[ROUND][SC_FCGI_HEADER_LEN], tail[SC_FCGI_END_LEN];
	struct iovec iov[ROUND * 3 + 1];
	const char *part[2] = {head, body};
	size_t plen[2] = {head_len, body_len}, pi = 0, off = 0;
	int n, r;
	sc_err rc;

	for (;;) {
		n = 0;
		for (r = 0; r < ROUND; r++) {
			size_t room = CHUNK, used = 0;
			int first = n;

			n++; /* the header's slot */
			while (pi < 2 && room > 0) {
				size_t k = plen[pi] - off;

				if (k == 0) {
					pi++;
					off = 0;
					continue;
				}
				if (k > room)
					k = room;
				iov[n].iov_base = (char *)part[pi] + off;
				iov[n].iov_len = k;
				n++;
				off += k;
				room -= k;
				used += k;
			}
			if (used == 0) {
				n = first;
				break;
			}
			sc_fcgi_header(hdr[r], SC_FCGI_STDOUT, id, used, 0);
			iov[first].iov_base = hdr[r];
			iov[first].iov_len = SC_FCGI_HEADER_LEN;
		}
		if (pi >= 2 && end) {
			iov[n].iov_base = tail;
			iov[n].iov_len = sc_fcgi_end_response(tail, id);
			n++;
		}
		if (n == 0)
			return SC_OK;
		rc = write_all(fd, iov, n);
		if (rc != SC_OK || pi >= 2)
			return rc;
	}
}

void sc_fcgi_request_free(sc_fcgi_request *r)
{
	if (r == NULL)
		return;
	sc_free(r->params);
	sc_free(r->arena);
	sc_free(r->body);
	memset(r, 0, sizeof(*r));
}

const char *sc_fcgi_param_get(const sc_fcgi_request *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nparams; i++)
		if (strcmp(r->params[i].name, name) == 0)
			return r->params[i].value;
	return NULL;
}

/* Reads a FastCGI name-value length (1 or 4 bytes) at p[*i]. */
static int nv_len(const unsigned char *p, size_t len, size_t *i, size_t *out)
{
	if (*i >= len)
		return -1;
	if (p[*i] < 0x80) {
		*out = p[(*i)++];
		return 0;
	}
	if (*i + 4 > len)
		return -1;
	*out = ((size_t)(p[*i] & 0x7f) << 24) | ((size_t)p[*i + 1] << 16) |
	       ((size_t)p[*i + 2] << 8) | p[*i + 3];
	*i += 4;
	return 0;
}

/* Splits the raw PARAMS bytes in r->arena into NUL-terminated pairs,
 * copied after the raw bytes. */
static sc_err parse_params(sc_fcgi_request *r)
{
	size_t raw = r->arena_len, i = 0, n = 0, nl, vl, need, cap = 0;
	const unsigned char *p;
	char *arena, *w;

	/* Every pair needs 2 bytes of lengths: it grows by at most 2 NULs. */
	need = raw + raw + 2;
	arena = sc_realloc(r->arena, need);
	if (arena == NULL)
		return SC_ERR_NOMEM;
	r->arena = arena;
	/* It may have shrunk: a BEGIN_REQUEST that restarts the request
	 * appends its PARAMS to this arena again. */
	r->arena_cap = need;
	p = (const unsigned char *)arena;
	w = arena + raw;
	while (i < raw) {
		if (nv_len(p, raw, &i, &nl) != 0 || nv_len(p, raw, &i, &vl))
			return SC_ERR_INVALID;
		if (nl > raw - i || vl > raw - i - nl)
			return SC_ERR_INVALID;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 32;
			sc_fcgi_param *np =
			    sc_realloc(r->params, nc * sizeof(*np));

			if (np == NULL)
				return SC_ERR_NOMEM;
			r->params = np;
			cap = nc;
		}
		memcpy(w, p + i, nl);
		w[nl] = '\0';
		r->params[n].name = w;
		w += nl + 1;
		memcpy(w, p + i + nl, vl);
		w[vl] = '\0';
		r->params[n].value = w;
		w += vl + 1;
		i += nl + vl;
		n++;
	}
	r->nparams = n;
	return SC_OK;
}

static sc_err append(char **buf, size_t *len, size_t *cap, size_t limit,
		     reader *rd, size_t n)
{
	sc_err rc = sc_buf_grow(buf, cap, *len, n, limit);

	if (rc != SC_OK)
		return rc;
	if (get_bytes(rd, *buf + *len, n) != SC_OK)
		return SC_ERR_IO;
	*len += n;
	(*buf)[*len] = '\0';
	return SC_OK;
}

/* Answers FCGI_GET_VALUES: we take one request per connection and as
 * many connections as the server likes. */
static sc_err get_values(reader *rd, size_t len)
{
	static const char *const names[] = {"FCGI_MAX_CONNS", "FCGI_MAX_REQS",
					    "FCGI_MPXS_CONNS"};
	static const char *const values[] = {"10000", "10000", "0"};
	unsigned char in[512], out[SC_FCGI_HEADER_LEN + 512];
	size_t i = 0, o = SC_FCGI_HEADER_LEN, nl, vl, k;
	struct iovec iov;

	if (len > sizeof(in))
		return SC_ERR_INVALID;
	if (get_bytes(rd, in, len) != SC_OK)
		return SC_ERR_IO;
	while (i < len) {
		if (nv_len(in, len, &i, &nl) != 0 || nv_len(in, len, &i, &vl))
			return SC_ERR_INVALID;
		if (nl > len - i || vl > len - i - nl)
			return SC_ERR_INVALID;
		for (k = 0; k < 3; k++) {
			size_t sl = strlen(names[k]), tl = strlen(values[k]);

			if (nl != sl || memcmp(in + i, names[k], nl) != 0)
				continue;
			if (o + 2 + sl + tl > sizeof(out))
				break;
			out[o++] = (unsigned char)sl;
			out[o++] = (unsigned char)tl;
			memcpy(out + o, names[k], sl);
			o += sl;
			memcpy(out + o, values[k], tl);
			o += tl;
		}
		i += nl + vl;
	}
	sc_fcgi_header(out, SC_FCGI_GET_VALUES_RESULT, 0,
		       o - SC_FCGI_HEADER_LEN, 0);
	iov.iov_base = out;
	iov.iov_len = o;
	return write_all(rd->c->fd, &iov, 1);
}

static sc_err unknown_type(reader *rd, int type)
{
	unsigned char out[16] = {0};
	struct iovec iov = {out, sizeof(out)};

	sc_fcgi_header(out, SC_FCGI_UNKNOWN_TYPE, 0, 8, 0);
	out[8] = (unsigned char)type;
	return write_all(rd->c->fd, &iov, 1);
}

sc_err sc_fcgi_read_request(sc_fcgi_conn *c, sc_fcgi_request *r,
			    size_t body_limit, int idle_ms,
			    const atomic_int *stop)
{
	reader rd = {c, sc_clock_mono_ms() + idle_ms, stop, 0};
	unsigned char h[SC_FCGI_HEADER_LEN], begin[8];
	sc_fcgi_hdr hd;
	int active = 0, params_done = 0;
	size_t len, pad;
	uint16_t id;
	sc_err rc;

	sc_fcgi_request_free(r);
	r->body = sc_malloc(1);
	if (r->body == NULL)
		return SC_ERR_NOMEM;
	r->body[0] = '\0';
	r->body_cap = 1;
	for (;;) {
		rc = get_bytes(&rd, h, sizeof(h));
		if (rc != SC_OK)
			return rc;
		sc_fcgi_header_parse(h, &hd);
		if (hd.version != 1)
			return SC_ERR_INVALID;
		id = hd.id;
		len = hd.content_len;
		pad = hd.padding;
		if (id == 0) {
			if (hd.type == SC_FCGI_GET_VALUES)
				rc = get_values(&rd, len);
			else
				rc = get_bytes(&rd, NULL, len) == SC_OK
					 ? unknown_type(&rd, hd.type)
					 : SC_ERR_IO;
			if (rc == SC_OK)
				rc = get_bytes(&rd, NULL, pad);
			if (rc != SC_OK)
				return rc;
			continue;
		}
		if (hd.type == SC_FCGI_BEGIN_REQUEST) {
			if (len != 8 || get_bytes(&rd, begin, 8) != SC_OK ||
			    get_bytes(&rd, NULL, pad) != SC_OK)
				return SC_ERR_IO;
			if (active && id != r->id) {
				rc = send_end(c->fd, id, SC_FCGI_CANT_MPX_CONN);
			} else if (((begin[0] << 8) | begin[1]) !=
				   SC_FCGI_RESPONDER) {
				rc = send_end(c->fd, id, SC_FCGI_UNKNOWN_ROLE);
			} else {
				active = 1;
				params_done = 0;
				r->id = id;
				r->keep_conn = begin[2] & SC_FCGI_KEEP_CONN;
				r->arena_len = 0;
				r->body_len = 0;
				r->body[0] = '\0';
				r->body_total = 0;
				r->body_too_big = 0;
				rc = SC_OK;
			}
			if (rc != SC_OK)
				return rc;
			continue;
		}
		if (!active || id != r->id) {
			/* A record of no request we know: skip it. */
			if (get_bytes(&rd, NULL, len + pad) != SC_OK)
				return SC_ERR_IO;
			continue;
		}
		switch (hd.type) {
		case SC_FCGI_ABORT_REQUEST:
			if (get_bytes(&rd, NULL, len + pad) != SC_OK)
				return SC_ERR_IO;
			rc = send_end(c->fd, id, SC_FCGI_REQUEST_COMPLETE);
			if (rc != SC_OK || !r->keep_conn)
				return SC_ERR_IO;
			active = 0;
			continue;
		case SC_FCGI_PARAMS:
			if (params_done) {
				/* Params after their end: ignored (the
				 * parsed ones point into the arena). */
				rc = get_bytes(&rd, NULL, len);
			} else if (len == 0) {
				params_done = 1;
				rc = parse_params(r);
			} else {
				rc = append(&r->arena, &r->arena_len,
					    &r->arena_cap, SC_FCGI_PARAMS_MAX,
					    &rd, len);
			}
			break;
		case SC_FCGI_STDIN:
			if (len == 0) {
				if (!params_done)
					return SC_ERR_INVALID;
				return get_bytes(&rd, NULL, pad);
			}
			r->body_total += (long long)len;
			if (r->body_too_big) {
				rc = get_bytes(&rd, NULL, len);
				break;
			}
			rc = append(&r->body, &r->body_len, &r->body_cap,
				    body_limit, &rd, len);
			if (rc == SC_ERR_TOO_BIG) {
				r->body_too_big = 1;
				r->body_len = 0;
				r->body[0] = '\0';
				rc = get_bytes(&rd, NULL, len);
			}
			break;
		default:
			rc = get_bytes(&rd, NULL, len);
			break;
		}
		if (rc == SC_OK)
			rc = get_bytes(&rd, NULL, pad);
		if (rc != SC_OK)
			return rc;
	}
}
