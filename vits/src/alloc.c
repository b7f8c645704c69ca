/*
 * alloc.c: every byte the engine holds goes through here, so the per-instance cap
 * (DESIGN.md principle 3) is enforced in one place.
 */
#include "vits_internal.h"

void *vits_mem_alloc(struct vits_mem *m, size_t size)
{
	if (size == 0 || size > m->cap || m->used > m->cap - size)
		return NULL;
	void *p = m->alloc(m->ctx, size);
	if (p == NULL)
		return NULL;
	/* The ops promise zeroed memory; do not trust a hypervisor allocator with that. */
	vits_memset(p, 0, size);
	m->used += size;
	if (m->used > m->peak)
		m->peak = m->used;
	return p;
}

void vits_mem_free(struct vits_mem *m, void *p, size_t size)
{
	if (p == NULL)
		return;
	m->free(m->ctx, p, size);
	m->used -= size;
}
