/*
 * xlate.c: the MSI path.  (DeviceID, EventID) -> (INTID, vCPU) through a
 * direct-mapped translation cache, falling back to the tables on a miss.
 *
 * Invalidation: a generation counter makes a whole flush O(1) (MAPD, MAPC, MOVALL,
 * disabling the ITS); DISCARD and MOVI drop the event's one slot.
 */
#include "vits_internal.h"

static uint32_t xlate_slot(const struct vits *v, uint32_t devid, uint32_t eventid)
{
	/* Consecutive EventIDs of a device (what drivers allocate) land in consecutive
	 * slots, so one device's vectors never evict each other; the odd multiplier
	 * spreads devices apart. */
	uint32_t x = devid * 0x9e3779b1u;
	return ((x ^ (x >> 16)) + eventid) & v->xc_mask;
}

void vits_xlate_flush(struct vits *v)
{
	if (++v->xgen == 0) {           /* wrapped: clear so no stale entry matches */
		vits_memset(v->xc, 0, sizeof(*v->xc) * (v->xc_mask + 1));
		v->xgen = 1;
	}
}

void vits_xlate_drop(struct vits *v, uint32_t devid, uint32_t eventid)
{
	struct vits_xlate *e = &v->xc[xlate_slot(v, devid, eventid)];
	if (e->devid == devid && e->eventid == eventid)
		e->gen = 0;
}

/* Translate and make pending.  Returns 0 or the reason the MSI was dropped. */
int vits_translate(struct vits *v, uint32_t devid, uint32_t eventid)
{
	struct vits_xlate *e = &v->xc[xlate_slot(v, devid, eventid)];

	if (vits_likely(e->gen == v->xgen && e->devid == devid && e->eventid == eventid)) {
		v->st.xlate_hits++;
		vits_lpi_set_pending(v, e->intid, e->vcpu);
		return VITS_R_NONE;
	}
	v->st.xlate_misses++;

	if (devid >> (v->cfg.devid_bits - 1) >> 1)
		return VITS_R_DEVICE_OOR;
	const struct vits_dev *d = vits_dev_find(v, devid);
	if (d == NULL || !d->valid)
		return VITS_R_DEVICE_UNMAPPED;
	if (eventid >> (d->event_bits - 1) >> 1)
		return VITS_R_EVENT_OOR;
	const struct vits_ite *ite = vits_ite_find(d, eventid);
	if (ite == NULL || ite->intid == 0)
		return VITS_R_EVENT_UNMAPPED;
	uint32_t vcpu = v->coll[ite->icid];
	if (vcpu == VITS_COLL_UNMAPPED)
		return VITS_R_COLLECTION_UNMAPPED;

	e->devid = devid;
	e->eventid = eventid;
	e->intid = ite->intid;
	e->vcpu = vcpu;
	e->gen = v->xgen;
	vits_lpi_set_pending(v, ite->intid, vcpu);
	return VITS_R_NONE;
}
