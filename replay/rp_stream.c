/*
 * rp_stream.c: the records of a trace as a look-ahead window, over a file reader (in
 * constant memory apart from the window) or an in-memory trace.
 *
 * Replay looks ahead from the cursor to the next input record (outputs of an MSI come
 * before it, the guest-memory reads of a CWRITER write after it); records stay in the
 * window until popped.  Payloads are copied, as the reader's are valid only until its
 * next call.
 */
#include <stdlib.h>
#include <string.h>

#include "rp_internal.h"

int rp_stream_open_file(struct rp_stream *s, const char *path, struct itr_reader_opts *ro,
			char *msg, size_t msglen)
{
	memset(s, 0, sizeof(*s));
	return itr_reader_open(path, ro, &s->rd, msg, msglen);
}

void rp_stream_open_mem(struct rp_stream *s, const struct rp_memtrace *t)
{
	memset(s, 0, sizeof(*s));
	s->mt = t;
}

void rp_stream_close(struct rp_stream *s)
{
	if (s->rd)
		itr_reader_close(s->rd);
	for (size_t i = 0; i < s->cap; i++)
		free(s->slot[i].buf);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

const struct itr_header *rp_stream_header(const struct rp_stream *s)
{
	return s->rd ? itr_reader_header(s->rd) : &s->mt->h;
}

static int grow(struct rp_stream *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 256;
	if (ncap > RP_WINDOW_MAX) {
		s->overflow = 1;
		return -1;
	}
	struct rp_slot *n = calloc(ncap, sizeof(*n));
	if (!n)
		return -1;
	for (size_t i = 0; i < s->count; i++)
		n[i] = s->slot[(s->head + i) & (s->cap - 1)];
	/* Slots not in use keep their buffers too. */
	size_t j = s->count;
	for (size_t i = s->count; i < s->cap; i++)
		n[j++] = s->slot[(s->head + i) & (s->cap - 1)];
	free(s->slot);
	s->slot = n;
	s->head = 0;
	s->cap = ncap;
	return 0;
}

/* Read one more record into the window; 0 at the end or on error. */
static int fill_one(struct rp_stream *s)
{
	if (s->eof)
		return 0;
	if (s->count == s->cap && grow(s) < 0) {
		s->eof = 1;
		s->err = RP_E_NOMEM;
		return 0;
	}
	struct rp_slot *sl = &s->slot[(s->head + s->count) & (s->cap - 1)];
	struct itr_rec r;
	if (s->rd) {
		int rc = itr_reader_next(s->rd, &r);
		if (rc <= 0) {
			s->eof = 1;
			s->err = rc;
			return 0;
		}
	} else {
		if (s->mt_pos >= s->mt->n) {
			s->eof = 1;
			return 0;
		}
		rp_memtrace_get(s->mt, s->mt_pos++, &r);
	}
	if (r.len > sl->cap) {
		uint32_t nc = r.len < 64 ? 64 : r.len;
		uint8_t *b = realloc(sl->buf, nc);
		if (!b) {
			s->eof = 1;
			s->err = RP_E_NOMEM;
			return 0;
		}
		sl->buf = b;
		sl->cap = nc;
	}
	if (r.len)
		memcpy(sl->buf, r.payload, r.len);
	sl->r = r;
	sl->r.payload = sl->buf;
	s->count++;
	s->read++;
	return 1;
}

const struct itr_rec *rp_peek_slow(struct rp_stream *s, size_t k)
{
	while (k >= s->count)
		if (!fill_one(s))
			return NULL;
	return &s->slot[(s->head + k) & (s->cap - 1)].r;
}

void rp_pop(struct rp_stream *s)
{
	if (s->count == 0 && !rp_peek(s, 0))
		return;
	s->head = (s->head + 1) & (s->cap - 1);
	s->count--;
}
