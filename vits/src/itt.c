/*
 * itt.c: the shadow of a device's interrupt translation table.
 *
 * Sparse (vits_internal.h, "The ITT shadow is sparse"): MAPD allocates a directory of
 * chunk pointers (none for an ITT of one chunk), the first MAPTI/MAPI into a chunk
 * allocates it, and the device's unmapping frees both.  Every allocation is charged
 * to the instance's memory cap.
 */
#include "vits_internal.h"

static size_t dir_bytes(unsigned event_bits)
{
	return sizeof(struct vits_ite *) * (size_t)vits_itt_dir_len(event_bits);
}

static size_t chunk_bytes(unsigned event_bits)
{
	return sizeof(struct vits_ite) * vits_itt_chunk_len(event_bits);
}

/* Most devices have one chunk (64 events or fewer): their directory is the pointer
 * in struct vits_dev, so their MAPD allocates nothing. */
int vits_itt_alloc(struct vits *v, unsigned event_bits, struct vits_ite ***dir)
{
	*dir = NULL;
	if (vits_itt_dir_len(event_bits) == 1)
		return 0;
	*dir = vits_mem_alloc(&v->mem, dir_bytes(event_bits));
	return *dir != NULL ? 0 : -1;
}

void vits_itt_free_dir(struct vits *v, struct vits_ite **dir, unsigned event_bits)
{
	if (dir != NULL)
		vits_mem_free(&v->mem, dir, dir_bytes(event_bits));
}

void vits_itt_install(struct vits_dev *d, struct vits_ite **dir)
{
	d->itt_one[0] = NULL;
	d->itt = dir != NULL ? dir : d->itt_one;
	d->nr_chunks = 0;
}

/* The chunks go first, found from the front; the scan stops at the last one. */
void vits_itt_free(struct vits *v, struct vits_dev *d)
{
	if (d->itt == NULL)
		return;
	uint64_t n = vits_itt_dir_len(d->event_bits);
	for (uint64_t i = 0; d->nr_chunks != 0 && i < n; i++) {
		if (d->itt[i] == NULL)
			continue;
		vits_mem_free(&v->mem, d->itt[i], chunk_bytes(d->event_bits));
		d->itt[i] = NULL;
		d->nr_chunks--;
	}
	if (d->itt != d->itt_one)
		vits_itt_free_dir(v, d->itt, d->event_bits);
	d->itt = NULL;
}

struct vits_ite *vits_ite_make(struct vits *v, struct vits_dev *d, uint32_t ev)
{
	struct vits_ite **slot = &d->itt[ev >> VITS_ITT_CHUNK_SHIFT];
	if (*slot == NULL) {
		*slot = vits_mem_alloc(&v->mem, chunk_bytes(d->event_bits));
		if (*slot == NULL)
			return NULL;
		d->nr_chunks++;
	}
	return &(*slot)[ev & (VITS_ITT_CHUNK - 1)];
}
