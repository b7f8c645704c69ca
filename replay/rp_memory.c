/*
 * rp_memory.c: guest memory as the trace recorded it.
 *
 * Every MEM_READ record of the call being replayed is written here before the call
 * (bytes, or a fault), so the engine's reads are answered with exactly the bytes the
 * recorded engine got; a byte never recorded is reported as such and the caller
 * decides (a divergence in replay, a fault in whatif).  Sparse: 4 KiB pages in an
 * open-addressing table, each with a per-byte state.
 */
#include <stdlib.h>
#include <string.h>

#include "rp_internal.h"

#define PG_SHIFT 12u
#define PG_SIZE (1u << PG_SHIFT)

enum { B_UNKNOWN = 0, B_DATA = 1, B_FAULT = 2 };

struct rp_page {
	uint64_t pfn;
	uint8_t data[PG_SIZE];
	uint8_t state[PG_SIZE];
};

void rp_mem_init(struct rp_memory *m)
{
	memset(m, 0, sizeof(*m));
}

void rp_mem_free(struct rp_memory *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->tab[i]);
	free(m->tab);
	memset(m, 0, sizeof(*m));
}

static size_t slot_of(uint64_t pfn, size_t cap)
{
	return (size_t)((pfn * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

static struct rp_page *find(struct rp_memory *m, uint64_t pfn)
{
	if (m->last && m->last->pfn == pfn)
		return m->last;
	if (!m->cap)
		return NULL;
	for (size_t i = slot_of(pfn, m->cap);; i = (i + 1) & (m->cap - 1)) {
		struct rp_page *p = m->tab[i];
		if (!p)
			return NULL;
		if (p->pfn == pfn)
			return m->last = p;
	}
}

static struct rp_page *get(struct rp_memory *m, uint64_t pfn)
{
	struct rp_page *p = find(m, pfn);
	if (p)
		return p;
	if (2 * (m->n + 1) > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 64;
		struct rp_page **nt = calloc(nc, sizeof(*nt));
		if (!nt)
			return NULL;
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->tab[i])
				continue;
			size_t j = slot_of(m->tab[i]->pfn, nc);
			while (nt[j])
				j = (j + 1) & (nc - 1);
			nt[j] = m->tab[i];
		}
		free(m->tab);
		m->tab = nt;
		m->cap = nc;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pfn = pfn;
	size_t j = slot_of(pfn, m->cap);
	while (m->tab[j])
		j = (j + 1) & (m->cap - 1);
	m->tab[j] = p;
	m->n++;
	return m->last = p;
}

void rp_mem_record(struct rp_memory *m, uint64_t gpa, const uint8_t *data, uint32_t len,
		   int fault)
{
	if (fault && len == 0)
		len = 1;        /* a fault record carries no length: mark its first byte */
	while (len) {
		uint64_t pfn = gpa >> PG_SHIFT;
		uint32_t off = (uint32_t)(gpa & (PG_SIZE - 1));
		uint32_t c = PG_SIZE - off < len ? PG_SIZE - off : len;
		struct rp_page *p = get(m, pfn);
		if (!p)
			return;
		if (fault) {
			memset(p->state + off, B_FAULT, c);
		} else {
			memcpy(p->data + off, data, c);
			memset(p->state + off, B_DATA, c);
			data += c;
		}
		gpa += c;
		len -= c;
		if (gpa == 0)
			break;  /* wrapped past 2^64 */
	}
}

int rp_mem_read(struct rp_memory *m, uint64_t gpa, uint8_t *buf, size_t len)
{
	int rc = 0;
	/* A fault record marks only the first byte of the read (its length is not in the
	 * record): a read starting there is that fault. */
	const struct rp_page *p0 = len ? find(m, gpa >> PG_SHIFT) : NULL;
	if (p0 && p0->state[gpa & (PG_SIZE - 1)] == B_FAULT) {
		memset(buf, 0, len);
		return 1;
	}
	while (len) {
		uint64_t pfn = gpa >> PG_SHIFT;
		uint32_t off = (uint32_t)(gpa & (PG_SIZE - 1));
		size_t c = PG_SIZE - off < len ? PG_SIZE - off : len;
		struct rp_page *p = find(m, pfn);
		if (!p) {
			memset(buf, 0, c);
			rc = -1;
		} else {
			memcpy(buf, p->data + off, c);
			for (size_t i = 0; i < c; i++) {
				if (p->state[off + i] == B_FAULT && rc == 0)
					rc = 1;
				else if (p->state[off + i] == B_UNKNOWN)
					rc = -1;
			}
		}
		buf += c;
		gpa += c;
		len -= c;
	}
	return rc;
}
