/*
 * devmap.c: DeviceID -> device record, an open-addressing hash with linear probing
 * and backward-shift deletion (no tombstones, so lookups stay short after churn).
 * A record exists while the guest has the device mapped or the embedder assigned it.
 */
#include "vits_internal.h"

static uint32_t dev_hash(uint32_t devid)
{
	uint32_t x = devid * 0x9e3779b1u;
	return x ^ (x >> 16);
}

struct vits_dev *vits_dev_find(const struct vits *v, uint32_t devid)
{
	const struct vits_devmap *m = &v->devs;
	if (m->cap == 0)
		return NULL;
	for (uint32_t i = dev_hash(devid) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct vits_dev *d = m->slot[i];
		if (d == NULL)
			return NULL;
		if (d->devid == devid)
			return d;
	}
}

static void devmap_place(struct vits_dev **slot, uint32_t cap, struct vits_dev *d)
{
	uint32_t i = dev_hash(d->devid) & (cap - 1);
	while (slot[i] != NULL)
		i = (i + 1) & (cap - 1);
	slot[i] = d;
}

static int devmap_grow(struct vits *v)
{
	struct vits_devmap *m = &v->devs;
	uint32_t ncap = m->cap ? m->cap * 2 : 16;
	struct vits_dev **ns = vits_mem_alloc(&v->mem, sizeof(*ns) * ncap);
	if (ns == NULL)
		return VITS_E_NOMEM;
	for (uint32_t i = 0; i < m->cap; i++)
		if (m->slot[i] != NULL)
			devmap_place(ns, ncap, m->slot[i]);
	vits_mem_free(&v->mem, m->slot, sizeof(*m->slot) * m->cap);
	m->slot = ns;
	m->cap = ncap;
	return 0;
}

/* The record for devid, created when absent; NULL when the cap refuses. */
struct vits_dev *vits_dev_get(struct vits *v, uint32_t devid)
{
	struct vits_dev *d = vits_dev_find(v, devid);
	if (d != NULL)
		return d;
	/* Keep the load factor at or below one half. */
	if ((v->devs.count + 1) * 2 > v->devs.cap && devmap_grow(v) < 0)
		return NULL;
	d = vits_mem_alloc(&v->mem, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->devid = devid;
	devmap_place(v->devs.slot, v->devs.cap, d);
	v->devs.count++;
	return d;
}

/* Drop the record when nothing needs it any more. */
void vits_dev_put(struct vits *v, struct vits_dev *d)
{
	struct vits_devmap *m = &v->devs;
	if (d->valid || d->assigned)
		return;
	uint32_t mask = m->cap - 1, i = dev_hash(d->devid) & mask;
	while (m->slot[i] != d)
		i = (i + 1) & mask;
	m->slot[i] = NULL;
	/* Backward shift: pull later members of the probe run into the hole. */
	for (uint32_t j = (i + 1) & mask; m->slot[j] != NULL; j = (j + 1) & mask) {
		uint32_t home = dev_hash(m->slot[j]->devid) & mask;
		/* Move slot j to the hole i when its home is not within (i, j]. */
		bool stays = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			m->slot[i] = m->slot[j];
			m->slot[j] = NULL;
			i = j;
		}
	}
	m->count--;
	vits_mem_free(&v->mem, d, sizeof(*d));
}

void vits_devmap_free(struct vits *v)
{
	struct vits_devmap *m = &v->devs;
	for (uint32_t i = 0; i < m->cap; i++) {
		struct vits_dev *d = m->slot[i];
		if (d == NULL)
			continue;
		vits_itt_free(v, d);
		vits_mem_free(&v->mem, d, sizeof(*d));
	}
	vits_mem_free(&v->mem, m->slot, sizeof(*m->slot) * m->cap);
	m->slot = NULL;
	m->cap = m->count = 0;
}
