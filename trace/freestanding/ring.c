/*
 * ring.c: the SPSC trace ring (freestanding).
 *
 * Ordering: the producer writes an entry's bytes, then publishes it with a release
 * store of head; the consumer's acquire load of head makes the bytes visible.  The
 * consumer frees space with a release store of tail after it has finished reading; the
 * producer's acquire load of tail orders its overwrite after that read.
 */
#include "itr_ring.h"

#include "vits_platform.h"

static inline uint32_t align8(uint32_t n)
{
	return (n + 7u) & ~7u;
}

int itr_ring_init(struct itr_ring *r, void *mem, uint32_t size, uint16_t cpu)
{
	if (!r || !mem || size < ITR_RING_MIN || size > ITR_RING_MAX || (size & (size - 1)))
		return -1;
	vits_memset(r, 0, sizeof(*r));
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	atomic_init(&r->drops, 0);
	r->buf = mem;
	r->size = size;
	r->mask = size - 1;
	r->cpu = cpu;
	return 0;
}

/* Copy n bytes to ring position pos, wrapping. */
static inline void copy_in(struct itr_ring *r, uint64_t pos, const void *src, uint32_t n)
{
	uint32_t at = (uint32_t)pos & r->mask, first = r->size - at;
	if (vits_likely(n <= first)) {
		vits_memcpy(r->buf + at, src, n);
	} else {
		vits_memcpy(r->buf + at, src, first);
		vits_memcpy(r->buf, (const uint8_t *)src + first, n - first);
	}
}

static inline void copy_out(const struct itr_ring *r, uint64_t pos, void *dst, uint32_t n)
{
	uint32_t at = (uint32_t)pos & r->mask, first = r->size - at;
	if (n <= first) {
		vits_memcpy(dst, r->buf + at, n);
	} else {
		vits_memcpy(dst, r->buf + at, first);
		vits_memcpy((uint8_t *)dst + first, r->buf, n - first);
	}
}

static inline uint64_t write_entry(struct itr_ring *r, uint64_t pos, uint8_t type,
				   uint8_t flags, uint16_t domain, uint64_t ts, const void *a,
				   uint32_t alen, const void *b, uint32_t blen)
{
	uint8_t h[ITR_RING_ENTRY_HDR];
	uint32_t n = ITR_RING_ENTRY_HDR + alen + blen;
	itr_ring_entry_hdr(h, n, type, flags, domain, r->cpu, ts);
	copy_in(r, pos, h, ITR_RING_ENTRY_HDR);
	if (alen)
		copy_in(r, pos + ITR_RING_ENTRY_HDR, a, alen);
	if (blen)
		copy_in(r, pos + ITR_RING_ENTRY_HDR + alen, b, blen);
	return pos + align8(n);
}

void itr_ring_drop(struct itr_ring *r, uint64_t ts)
{
	if (r->drops_unreported++ == 0)
		r->first_drop_ts = ts;
	/* Only the producer writes drops: a plain increment published atomically. */
	atomic_store_explicit(&r->drops,
		atomic_load_explicit(&r->drops, memory_order_relaxed) + 1,
		memory_order_relaxed);
}

int itr_ring_put(struct itr_ring *r, uint8_t type, uint8_t flags, uint16_t domain,
		 uint64_t ts, const void *a, uint32_t alen, const void *b, uint32_t blen)
{
	uint32_t need = align8(ITR_RING_ENTRY_HDR + alen + blen);
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	uint64_t room = r->size - (head - tail);
	r->tail_seen = tail;
	uint32_t loss = r->drops_unreported ? align8(ITR_RING_ENTRY_HDR + ITR_PL_LOSS) : 0;

	if (vits_unlikely(need + loss > room || need > itr_ring_max_entry(r->size))) {
		itr_ring_drop(r, ts);
		return -1;
	}
	if (vits_unlikely(loss)) {
		uint8_t p[ITR_PL_LOSS];
		itr_put64(p, r->drops_unreported);
		itr_put32(p + 8, ITR_LOSS_RING_FULL);
		itr_put32(p + 12, r->cpu);
		head = write_entry(r, head, ITR_REC_LOSS, 0, 0, r->first_drop_ts, p, sizeof(p),
				   (const void *)0, 0);
		r->drops_unreported = 0;
	}
	head = write_entry(r, head, type, flags, domain, ts, a, alen, b, blen);
	atomic_store_explicit(&r->head, head, memory_order_release);
	return 0;
}

int itr_ring_peek(struct itr_ring *r, struct itr_ring_entry *e, uint8_t *scratch)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	if (tail == head)
		return 0;
	uint8_t h[ITR_RING_ENTRY_HDR];
	copy_out(r, tail, h, ITR_RING_ENTRY_HDR);
	uint32_t n = itr_get16(h);
	e->type = h[2];
	e->flags = h[3];
	e->domain = itr_get16(h + 4);
	e->cpu = itr_get16(h + 6);
	e->ts = itr_get64(h + 8);
	e->len = n - ITR_RING_ENTRY_HDR;
	e->bytes = align8(n);
	uint32_t at = ((uint32_t)tail + ITR_RING_ENTRY_HDR) & r->mask;
	if (at + e->len <= r->size) {
		e->payload = r->buf + at;
	} else {
		copy_out(r, tail + ITR_RING_ENTRY_HDR, scratch, e->len);
		e->payload = scratch;
	}
	return 1;
}

void itr_ring_pop(struct itr_ring *r, const struct itr_ring_entry *e)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	if (e->type == ITR_REC_LOSS && e->len >= ITR_PL_LOSS)
		r->drops_reported += itr_get64(e->payload);
	atomic_store_explicit(&r->tail, tail + e->bytes, memory_order_release);
}

uint64_t itr_ring_unreported_drops(const struct itr_ring *r)
{
	uint64_t d = itr_ring_drops(r);
	return d > r->drops_reported ? d - r->drops_reported : 0;
}
