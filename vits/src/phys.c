/*
 * phys.c: the physical mirror of assigned devices, common to every policy.
 *
 * Mappings (MAPD, MAPTI, MOVI, DISCARD) and pending state (CLEAR) must reach the
 * physical ITS whatever the policy; the policies differ only in how LPI configuration
 * and SYNC travel (policy.c).  Physical collections are one per physical CPU
 * (ICID = PE number = pCPU).
 */
#include "vits_internal.h"

uint32_t vits_phys_pcpu(const struct vits *v, uint32_t vcpu)
{
	return v->vcpu_pcpu[vcpu];
}

/* Remember that pCPU p got commands since its last SYNC (policy.c sends them). */
void vits_phys_mark_sync(struct vits *v, uint32_t pcpu)
{
	v->sync_dirty[pcpu / 64] |= (uint64_t)1 << (pcpu % 64);
}

/* A SYNC on each physical collection that got commands since its last SYNC. */
void vits_phys_sync_marked(struct vits *v)
{
	uint32_t words = (v->host->cfg.nr_pcpus + 63) / 64;   /* only pCPUs that exist */
	for (uint32_t w = 0; w < words; w++) {
		while (v->sync_dirty[w] != 0) {
			uint32_t b = (uint32_t)__builtin_ctzll(v->sync_dirty[w]);
			v->sync_dirty[w] &= v->sync_dirty[w] - 1;
			struct its_cmd c = its_mk_sync(w * 64 + b);
			vits_phys_emit(v, &c);
		}
	}
}

/* The pCPU of the vCPU an event targets now.  An event whose collection is not mapped
 * yet goes to the pCPU of vCPU 0 until it moves. */
static uint32_t event_pcpu(const struct vits *v, const struct vits_ite *ite)
{
	uint32_t vcpu = v->coll[ite->icid];
	return vits_phys_pcpu(v, vcpu == VITS_COLL_UNMAPPED ? 0 : vcpu);
}

static unsigned phys_event_bits(const struct vits *v, const struct vits_dev *d)
{
	unsigned bits = d->event_bits;
	return bits > v->host->cfg.peventid_bits ? v->host->cfg.peventid_bits : bits;
}

void vits_phys_mapd(struct vits *v, struct vits_dev *d)
{
	struct vits_host *h = v->host;
	unsigned pbits = phys_event_bits(v, d);
	uint64_t bytes = (uint64_t)8 << pbits;

	/* IMPDEF choice: an ITT the host cannot allocate leaves the device virtual
	 * only; the guest still sees a mapped device (INT works, MSIs do not). */
	if (h->ops.itt_alloc(h->ctx, d->pdevid, bytes, &d->pitt) < 0)
		return;
	d->pitt_bytes = bytes;
	struct its_cmd c = its_mk_mapd(d->pdevid, pbits - 1, d->pitt, 1);
	vits_phys_emit(v, &c);
	d->pmapped = 1;
	v->nr_assigned_mapped++;
}

void vits_phys_unmapd(struct vits *v, struct vits_dev *d)
{
	if (!d->pmapped)
		return;
	/* DISCARD first: it clears physical pending state, so a physical LPI reused
	 * by another domain later cannot fire with this domain's leftovers. */
	const struct vits_ite *ite;
	vits_for_each_mapped_event(d, e, ite)
		vits_phys_discard(v, d, e);
	struct its_cmd c = its_mk_mapd(d->pdevid, 0, 0, 0);
	vits_phys_emit(v, &c);
	/* The ITT goes back to the host once the physical ITS has run the MAPD V=0. */
	vits_ob_release_last(v, VITS_REL_ITT, d->pdevid, d->pitt, d->pitt_bytes);
	d->pitt = 0;
	d->pmapped = 0;
	v->nr_assigned_mapped--;
}

enum vits_reason vits_phys_mapti(struct vits *v, struct vits_dev *d, uint32_t ev)
{
	struct vits_host *h = v->host;
	struct vits_ite *ite = vits_ite(d, ev);

	if (!d->pmapped || (ev >> (phys_event_bits(v, d) - 1) >> 1))
		return VITS_R_NONE;     /* beyond the physical ITT: virtual only */
	uint32_t plpi = vits_host_plpi_alloc(h, v, d->devid, ev, ite->intid);
	if (plpi == 0)
		return VITS_R_NO_MEMORY;
	ite->plpi = plpi;
	ite->pcpu = (uint16_t)event_pcpu(v, ite);
	vits_host_plpi_move(h, plpi, ite->pcpu);
	if (v->rmap != NULL) {
		struct vits_rmap *r = &v->rmap[ite->intid - LPI_INTID_BASE];
		r->devid = d->devid;
		r->eventid = ev;
	}
	/* The physical ITS reads the configuration at MAPTI: write it first (the
	 * mapping count already includes this event, so an alias starts enabled). */
	vits_host_prop_set(h, plpi, vits_policy_host_cfg(v, ite->intid));
	struct its_cmd c = its_mk_mapti(d->pdevid, ev, plpi, ite->pcpu);
	vits_phys_emit(v, &c);
	vits_phys_mark_sync(v, ite->pcpu);
	return VITS_R_NONE;
}

void vits_phys_movi(struct vits *v, struct vits_dev *d, uint32_t ev, uint32_t new_vcpu)
{
	struct vits_ite *ite = vits_ite(d, ev);
	uint32_t to = vits_phys_pcpu(v, new_vcpu);
	if (!ite->plpi || ite->pcpu == to)
		return;
	struct its_cmd c = its_mk_movi(d->pdevid, ev, to);
	vits_phys_emit(v, &c);
	/* Both redistributors take part in the move. */
	vits_phys_mark_sync(v, ite->pcpu);
	vits_phys_mark_sync(v, to);
	ite->pcpu = (uint16_t)to;
	vits_host_plpi_move(v->host, ite->plpi, to);
}

void vits_phys_discard(struct vits *v, struct vits_dev *d, uint32_t ev)
{
	struct vits_ite *ite = vits_ite(d, ev);
	if (ite->plpi) {
		struct its_cmd c = its_mk_devev(ITS_OP_DISCARD, d->pdevid, ev);
		vits_phys_emit(v, &c);
		vits_phys_mark_sync(v, ite->pcpu);
		/* The physical LPI returns to the host (its configuration wiped, so the
		 * next owner starts disabled) once the DISCARD has run: a late interrupt
		 * of this event never reaches its next owner, and a command queued before
		 * the DISCARD still reads this event's configuration. */
		vits_policy_forget(v, ite->plpi);
		vits_ob_release_last(v, VITS_REL_PLPI, ite->plpi, 0, 0);
		ite->plpi = 0;
	}
	/* DISCARD clears the LPI's pending state, wherever other events keep it (a
	 * whole device's unmapping does that once for all its LPIs: vits_dev_unmap). */
	if (v->cur_opcode == ITS_OP_DISCARD && v->cur_cause == VITS_CAUSE_GUEST_CMD &&
	    vits_lpi_aliased(v, ite->intid))
		vits_policy_clear_aliases(v, ite->intid, d, ev);
}

/* A physical CLEAR of event ev of assigned device d, which has a physical LPI. */
void vits_phys_clear_ite(struct vits *v, const struct vits_dev *d, uint32_t ev)
{
	const struct vits_ite *ite = vits_ite(d, ev);
	struct its_cmd c = its_mk_devev(ITS_OP_CLEAR, d->pdevid, ev);
	vits_phys_emit(v, &c);
	vits_ob_clears_last(v, ite->plpi);
	vits_phys_mark_sync(v, ite->pcpu);
}

void vits_phys_clear(struct vits *v, struct vits_dev *d, uint32_t ev)
{
	const struct vits_ite *ite = vits_ite(d, ev);
	if (ite->plpi)
		vits_phys_clear_ite(v, d, ev);
	if (vits_lpi_aliased(v, ite->intid))
		vits_policy_clear_aliases(v, ite->intid, d, ev);
}
