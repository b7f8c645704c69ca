/*
 * itr_ring.h: a lock-free single-producer, single-consumer byte ring of trace entries.
 *
 * Freestanding (C11 <stdatomic.h>, no libc beyond mem*, no globals); the memory is the
 * embedder's.  One ring per CPU: only that CPU's code produces into it (with
 * preemption off, or one ring per producing context), one consumer drains it,
 * possibly on another CPU.  The producer never waits: when the ring is full the entry
 * is dropped and counted, and the next entry that fits is preceded by a LOSS entry with
 * the count, so loss sits where it happened in the stream.  Drops that no later entry
 * reported are reported by the consumer at the end (itr_ring_unreported_drops).
 *
 * Entry: a 16-byte header (u16 bytes, u8 type, u8 flags, u16 domain, u16 cpu, u64 ts)
 * and the record payload of itr_format.h, padded to 8 bytes; it may wrap around the
 * end of the buffer.
 */
#ifndef ITR_RING_H
#define ITR_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "itr_format.h"

#define ITR_RING_ENTRY_HDR 16u
#define ITR_RING_MIN 4096u          /* smallest ring: bytes, a power of two */
#define ITR_RING_MAX (1u << 30)

struct itr_ring {
	/* Written by the producer only. */
	_Alignas(64) _Atomic uint64_t head;     /* bytes ever produced */
	_Atomic uint64_t drops;                  /* entries ever dropped */
	uint64_t drops_unreported;               /* dropped since the last in-band LOSS */
	uint64_t first_drop_ts;
	uint64_t tail_seen;                      /* the consumer's tail as last read */
	/* Written by the consumer only. */
	_Alignas(64) _Atomic uint64_t tail;     /* bytes ever consumed */
	uint64_t drops_reported;                 /* drops the consumer saw in LOSS entries */
	/* Constant after init. */
	_Alignas(64) uint8_t *buf;
	uint32_t size, mask;
	uint16_t cpu;
};

/* An entry as the consumer sees it.  payload points into the ring, or into the
 * consumer's scratch buffer when the entry wraps. */
struct itr_ring_entry {
	uint8_t type, flags;
	uint16_t domain, cpu;
	uint32_t len;               /* payload bytes */
	uint64_t ts;
	const uint8_t *payload;
	uint32_t bytes;             /* ring bytes the entry takes (for itr_ring_pop) */
};

/* Bytes of the largest entry a ring of size bytes accepts (a quarter of it). */
static inline uint32_t itr_ring_max_entry(uint32_t size)
{
	return size / 4;
}

/* Set up a ring over mem (size bytes, a power of two >= ITR_RING_MIN).
 * Returns 0, or -1 when size is not acceptable. */
int itr_ring_init(struct itr_ring *r, void *mem, uint32_t size, uint16_t cpu);

/*
 * Producer: append one entry whose payload is a || b (b may be NULL).  Never blocks.
 * Returns 0, or -1 when the entry was dropped (ring full or entry too big; counted).
 */
int itr_ring_put(struct itr_ring *r, uint8_t type, uint8_t flags, uint16_t domain,
		 uint64_t ts, const void *a, uint32_t alen, const void *b, uint32_t blen);

/*
 * Producer fast path: where to write an entry of n bytes (ITR_RING_ENTRY_HDR included)
 * when it fits without wrapping and no drop awaits its LOSS entry; NULL otherwise (then
 * use itr_ring_put, which handles every case).  itr_ring_commit(r, *next) publishes it.
 */
static inline uint8_t *itr_ring_reserve(struct itr_ring *r, uint32_t n, uint64_t *next)
{
	uint32_t need = (n + 7u) & ~7u;
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t at = (uint32_t)head & r->mask;
	if (__builtin_expect(r->drops_unreported != 0 || at + need > r->size ||
			     need > itr_ring_max_entry(r->size), 0))
		return (uint8_t *)0;
	if (need > r->size - (head - r->tail_seen)) {
		/* Only when the cached tail says full: read the consumer's cache line. */
		r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (need > r->size - (head - r->tail_seen))
			return (uint8_t *)0;
	}
	*next = head + need;
	return r->buf + at;
}

static inline void itr_ring_commit(struct itr_ring *r, uint64_t next)
{
	atomic_store_explicit(&r->head, next, memory_order_release);
}

/* The 16-byte entry header at p. */
static inline void itr_ring_entry_hdr(uint8_t *p, uint32_t n, uint8_t type, uint8_t flags,
				      uint16_t domain, uint16_t cpu, uint64_t ts)
{
	itr_put16(p, (uint16_t)n);
	p[2] = type;
	p[3] = flags;
	itr_put16(p + 4, domain);
	itr_put16(p + 6, cpu);
	itr_put64(p + 8, ts);
}

/* Producer: count one entry as dropped without offering it (an event it cannot encode). */
void itr_ring_drop(struct itr_ring *r, uint64_t ts);

/*
 * Consumer: look at the oldest entry.  Returns 1 and fills *e, 0 when the ring is
 * empty.  scratch (ITR_RING_ENTRY_HDR + itr_ring_max_entry(size) bytes) holds an
 * entry that wraps.  The entry stays in the ring until itr_ring_pop().
 */
int itr_ring_peek(struct itr_ring *r, struct itr_ring_entry *e, uint8_t *scratch);
void itr_ring_pop(struct itr_ring *r, const struct itr_ring_entry *e);

/* Consumer, once the producer has stopped: drops no LOSS entry reported. */
uint64_t itr_ring_unreported_drops(const struct itr_ring *r);

/* Anyone: entries dropped so far. */
static inline uint64_t itr_ring_drops(const struct itr_ring *r)
{
	return atomic_load_explicit(&((struct itr_ring *)r)->drops, memory_order_relaxed);
}

#endif /* ITR_RING_H */
