/*
 * rp_rename.c: physical resource names, compared up to renaming.
 *
 * The host's physical LPI numbers and physical ITT addresses are names an embedder's
 * allocators choose (the pLPI free list, the ITT allocator); a replay on another host,
 * or a trace minimize shortened, gets other names for the same resources.  A recorded
 * physical command therefore matches the engine's when they agree on everything else
 * and their pLPI and ITT names correspond one to one, consistently over the trace: the
 * first use binds recorded name to engine name, later uses must follow the binding,
 * and a binding ends when the resource is freed (DISCARD frees the event's pLPI,
 * MAPD V=0 the device's pLPIs and ITT).  Host LPI inputs are translated through it,
 * also through a pLPI binding that ended: its DISCARD may not have run yet, and a late
 * interrupt of it still reaches the engine.
 */
#include <stdlib.h>
#include <string.h>

#include "rp_internal.h"


static size_t h64(uint64_t x, size_t cap)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (size_t)x & (cap - 1);
}

int rp_map_get(const struct rp_map *m, uint64_t key, uint64_t *val)
{
	if (!m->cap)
		return 0;
	for (size_t i = h64(key, m->cap), c = 0; c < m->cap; i = (i + 1) & (m->cap - 1), c++) {
		if (m->k[i] == 0)
			return 0;
		if (m->k[i] == key + 1) {
			*val = m->v[i];
			return 1;
		}
	}
	return 0;
}

void rp_map_del(struct rp_map *m, uint64_t key)
{
	if (!m->cap)
		return;
	for (size_t i = h64(key, m->cap), c = 0; c < m->cap; i = (i + 1) & (m->cap - 1), c++) {
		if (m->k[i] == 0)
			return;
		if (m->k[i] == key + 1) {
			m->k[i] = ~0ull;        /* tombstone */
			return;
		}
	}
}


void rp_map_free(struct rp_map *m)
{
	free(m->k);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static int grow(struct rp_map *m)
{
	struct rp_map n = { 0 };
	n.cap = m->cap ? m->cap * 2 : 256;
	n.k = calloc(n.cap, sizeof(*n.k));
	n.v = calloc(n.cap, sizeof(*n.v));
	if (!n.k || !n.v) {
		free(n.k);
		free(n.v);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->k[i] && m->k[i] != ~0ull)
			rp_map_put(&n, m->k[i] - 1, m->v[i]);
	free(m->k);
	free(m->v);
	*m = n;
	return 0;
}

int rp_map_put(struct rp_map *m, uint64_t key, uint64_t val)
{
	if (2 * (m->n + 1) > m->cap && grow(m))
		return -1;
	size_t i = h64(key, m->cap);
	/* Live entries and tombstones count in n (a tombstone is reused in place); a
	 * grow drops the tombstones. */
	size_t tomb = SIZE_MAX;
	while (m->k[i] && m->k[i] != key + 1) {
		if (m->k[i] == ~0ull && tomb == SIZE_MAX)
			tomb = i;
		i = (i + 1) & (m->cap - 1);
	}
	if (!m->k[i]) {
		if (tomb != SIZE_MAX)
			i = tomb;
		else
			m->n++;
	}
	m->k[i] = key + 1;
	m->v[i] = val;
	return 0;
}

struct rp_rename {
	struct rp_map rec2eng, eng2rec;         /* names: kind << 60 | value */
	struct rp_map ev_plpi;                  /* engine (pdev << 32 | event) -> engine pLPI */
	struct rp_map dev_itt;                  /* engine pdev -> engine ITT */
	struct rp_map ended;                    /* recorded pLPI -> engine pLPI, last
						 * binding that ended (late interrupts) */
};

enum { K_PLPI = 1, K_ITT = 2 };

static uint64_t nm(unsigned kind, uint64_t v)
{
	return (uint64_t)kind << 60 | (v & ((1ull << 60) - 1));
}

struct rp_rename *rp_rename_new(void)
{
	return calloc(1, sizeof(struct rp_rename));
}

void rp_rename_free(struct rp_rename *r)
{
	if (!r)
		return;
	struct rp_map *m[] = { &r->rec2eng, &r->eng2rec, &r->ev_plpi, &r->dev_itt, &r->ended };
	for (size_t i = 0; i < 5; i++) {
		free(m[i]->k);
		free(m[i]->v);
	}
	free(r);
}

/* Recorded name a and engine name b of one kind: 0 when they correspond (binding
 * them if both are new). */
static int match(struct rp_rename *r, unsigned kind, uint64_t a, uint64_t b)
{
	uint64_t x;
	int ha = rp_map_get(&r->rec2eng, nm(kind, a), &x);
	if (ha)
		return x == nm(kind, b) ? 0 : 1;
	if (rp_map_get(&r->eng2rec, nm(kind, b), &x))
		return 1;               /* the engine's name already stands for another */
	rp_map_put(&r->rec2eng, nm(kind, a), nm(kind, b));
	rp_map_put(&r->eng2rec, nm(kind, b), nm(kind, a));
	return 0;
}

static void unbind(struct rp_rename *r, unsigned kind, uint64_t eng)
{
	uint64_t a;
	if (rp_map_get(&r->eng2rec, nm(kind, eng), &a)) {
		rp_map_del(&r->eng2rec, nm(kind, eng));
		rp_map_del(&r->rec2eng, a);
		if (kind == K_PLPI)
			rp_map_put(&r->ended, a, nm(kind, eng));
	}
}

int rp_rename_phys(struct rp_rename *r, const struct its_cmd *rec, const struct its_cmd *eng)
{
	unsigned op = (unsigned)its_cmd_get_opcode(eng);
	if (op != (unsigned)its_cmd_get_opcode(rec))
		return 1;
	if (op != ITS_OP_MAPD && op != ITS_OP_MAPTI && op != ITS_OP_DISCARD)
		return memcmp(rec, eng, sizeof(*rec)) != 0;     /* names no resource */
	struct its_cmd a = *rec, b = *eng;
	if (op == ITS_OP_MAPD && its_cmd_get_valid(eng)) {
		if (match(r, K_ITT, its_cmd_get_itt_addr(rec), its_cmd_get_itt_addr(eng)))
			return 1;
		its_cmd_set_itt_addr(&a, 0);
		its_cmd_set_itt_addr(&b, 0);
	} else if (op == ITS_OP_MAPTI) {
		if (match(r, K_PLPI, its_cmd_get_pintid(rec), its_cmd_get_pintid(eng)))
			return 1;
		its_cmd_set_pintid(&a, 0);
		its_cmd_set_pintid(&b, 0);
	}
	if (memcmp(&a, &b, sizeof(a)))
		return 1;
	/* Bookkeeping of the engine's names, to end bindings when freed. */
	uint64_t pdev = its_cmd_get_devid(eng), key = pdev << 32 | its_cmd_get_eventid(eng), x;
	if (op == ITS_OP_MAPTI) {
		rp_map_put(&r->ev_plpi, key, its_cmd_get_pintid(eng));
	} else if (op == ITS_OP_DISCARD && rp_map_get(&r->ev_plpi, key, &x)) {
		unbind(r, K_PLPI, x);
		rp_map_del(&r->ev_plpi, key);
	} else if (op == ITS_OP_MAPD) {
		if (its_cmd_get_valid(eng)) {
			rp_map_put(&r->dev_itt, pdev, its_cmd_get_itt_addr(eng));
		} else {
			if (rp_map_get(&r->dev_itt, pdev, &x)) {
				unbind(r, K_ITT, x);
				rp_map_del(&r->dev_itt, pdev);
			}
			for (size_t i = 0; i < r->ev_plpi.cap; i++) {
				uint64_t k = r->ev_plpi.k[i];
				if (k && k != ~0ull && (k - 1) >> 32 == pdev) {
					unbind(r, K_PLPI, r->ev_plpi.v[i]);
					r->ev_plpi.k[i] = ~0ull;
				}
			}
		}
	}
	return 0;
}

uint32_t rp_rename_plpi(struct rp_rename *r, uint32_t recorded)
{
	uint64_t x;
	if (rp_map_get(&r->rec2eng, nm(K_PLPI, recorded), &x) ||
	    rp_map_get(&r->ended, nm(K_PLPI, recorded), &x))
		return (uint32_t)(x & 0xffffffffu);
	return recorded;
}
