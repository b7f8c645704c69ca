/*
 * forward.c: the physical side of assigned devices under the forward policy
 * (DESIGN.md "Policies": guest commands become the same physical commands).
 *
 * This is the one place that decides which physical commands a guest command costs;
 * the policies issue replaces these functions' bodies per policy, and nothing else
 * in the engine emits physical commands.
 */
#include "vits_internal.h"

void vits_phys_emit(struct vits *v, const struct its_cmd *c)
{
	struct vits_host *h = v->host;
	int idx = its_cmd_index((unsigned)its_cmd_get_opcode(c));
	int rc = h->ops.phys_cmd(h->ctx, c);

	if (rc == VITS_E_AGAIN)
		v->st.phys_queue_full++;
	if (idx >= 0)
		v->st.phys_cmds[idx]++;
	v->st.phys_cmd_total++;
	if (v->ops.trace) {
		struct vits_event ev = { .type = VITS_EV_PHYS_CMD };
		ev.u.phys.cmd = *c;
		ev.u.phys.cause = v->cur_cause;
		ev.u.phys.cause_offset = v->cur_offset;
		ev.u.phys.cause_opcode = v->cur_opcode;
		vits_trace(v, &ev);
	}
}

uint32_t vits_phys_pcpu(const struct vits *v, uint32_t vcpu)
{
	return v->vcpu_pcpu[vcpu];
}

/* The vCPU an event's LPI targets now; the physical LPI goes to its pCPU.  An event
 * whose collection is not mapped yet goes to pCPU of vCPU 0 until it moves. */
static uint32_t event_pcpu(const struct vits *v, const struct vits_ite *ite)
{
	uint32_t vcpu = v->coll[ite->icid];
	return vits_phys_pcpu(v, vcpu == VITS_COLL_UNMAPPED ? 0 : vcpu);
}

void vits_fwd_mapd(struct vits *v, struct vits_dev *d)
{
	struct vits_host *h = v->host;
	uint64_t bytes = (uint64_t)8 << d->event_bits;
	unsigned pbits = d->event_bits;

	if (pbits > h->cfg.peventid_bits)
		pbits = h->cfg.peventid_bits;
	/* IMPDEF choice: an ITT the host cannot allocate leaves the device virtual
	 * only (its MSIs can still be injected with INT); counted as a queue error. */
	if (h->ops.itt_alloc(h->ctx, d->pdevid, (uint64_t)8 << pbits, &d->pitt) < 0) {
		v->st.phys_queue_full++;
		return;
	}
	d->pitt_bytes = bytes;
	struct its_cmd c = its_mk_mapd(d->pdevid, pbits - 1, d->pitt, 1);
	vits_phys_emit(v, &c);
	d->pmapped = 1;
	v->nr_assigned_mapped++;
}

void vits_fwd_unmapd(struct vits *v, struct vits_dev *d)
{
	struct vits_host *h = v->host;
	if (!d->pmapped)
		return;
	/* DISCARD first: it clears physical pending state, so a physical LPI reused
	 * by another domain later cannot fire with this domain's leftovers. */
	uint32_t n = (uint32_t)1 << d->event_bits;
	for (uint32_t e = 0; e < n; e++)
		if (d->ites[e].intid && d->ites[e].plpi)
			vits_fwd_discard(v, d, e);
	struct its_cmd c = its_mk_mapd(d->pdevid, 0, 0, 0);
	vits_phys_emit(v, &c);
	h->ops.itt_free(h->ctx, d->pdevid, d->pitt, d->pitt_bytes);
	d->pitt = 0;
	d->pmapped = 0;
	v->nr_assigned_mapped--;
}

enum vits_reason vits_fwd_mapti(struct vits *v, struct vits_dev *d, uint32_t ev)
{
	struct vits_host *h = v->host;
	struct vits_ite *ite = &d->ites[ev];

	if (!d->pmapped || (ev >> (h->cfg.peventid_bits - 1) >> 1))
		return VITS_R_NONE;     /* beyond the physical ITT: virtual only */
	uint32_t plpi = vits_host_plpi_alloc(h, v, d->devid, ev);
	if (plpi == 0)
		return VITS_R_NO_MEMORY;
	ite->plpi = plpi;
	ite->pcpu = (uint16_t)event_pcpu(v, ite);
	h->ops.prop_write(h->ctx, plpi, v->lpi_cfg[ite->intid - LPI_INTID_BASE]);
	struct its_cmd c = its_mk_mapti(d->pdevid, ev, plpi, ite->pcpu);
	vits_phys_emit(v, &c);
	return VITS_R_NONE;
}

void vits_fwd_movi(struct vits *v, struct vits_dev *d, uint32_t ev, uint32_t new_vcpu)
{
	struct vits_ite *ite = &d->ites[ev];
	uint32_t to = vits_phys_pcpu(v, new_vcpu);
	if (!ite->plpi || ite->pcpu == to)
		return;
	struct its_cmd c = its_mk_movi(d->pdevid, ev, to);
	vits_phys_emit(v, &c);
	ite->pcpu = (uint16_t)to;
}

void vits_fwd_discard(struct vits *v, struct vits_dev *d, uint32_t ev)
{
	struct vits_ite *ite = &d->ites[ev];
	if (!ite->plpi)
		return;
	struct its_cmd c = its_mk_devev(ITS_OP_DISCARD, d->pdevid, ev);
	vits_phys_emit(v, &c);
	if (v->cur_cause == VITS_CAUSE_TEARDOWN)
		v->teardown_pcpus[ite->pcpu / 64] |= (uint64_t)1 << (ite->pcpu % 64);
	/* Wipe the host configuration so the next owner starts disabled. */
	v->host->ops.prop_write(v->host->ctx, ite->plpi, 0);
	vits_host_plpi_free(v->host, ite->plpi);
	ite->plpi = 0;
}

void vits_fwd_inv(struct vits *v, struct vits_dev *d, uint32_t ev)
{
	const struct vits_ite *ite = &d->ites[ev];
	if (!ite->plpi)
		return;
	v->host->ops.prop_write(v->host->ctx, ite->plpi, v->lpi_cfg[ite->intid - LPI_INTID_BASE]);
	struct its_cmd c = its_mk_devev(ITS_OP_INV, d->pdevid, ev);
	vits_phys_emit(v, &c);
}

void vits_fwd_clear(struct vits *v, struct vits_dev *d, uint32_t ev)
{
	if (!d->ites[ev].plpi)
		return;
	struct its_cmd c = its_mk_devev(ITS_OP_CLEAR, d->pdevid, ev);
	vits_phys_emit(v, &c);
}

void vits_fwd_invall(struct vits *v, uint32_t icid, uint32_t vcpu)
{
	if (v->host == NULL || v->nr_assigned_mapped == 0)
		return;
	/* The collection's physical LPIs may sit on several physical collections
	 * (MAPC does not move them): invalidate each one they use, once. */
	uint64_t used[VITS_MAX_PCPUS / 64] = { 0 };
	bool any = false;
	for (uint32_t s = 0; s < v->devs.cap; s++) {
		struct vits_dev *d = v->devs.slot[s];
		if (d == NULL || !d->pmapped || d->nr_mapped == 0)
			continue;
		uint32_t n = (uint32_t)1 << d->event_bits;
		for (uint32_t e = 0; e < n; e++) {
			const struct vits_ite *ite = &d->ites[e];
			if (!ite->intid || !ite->plpi || ite->icid != icid)
				continue;
			v->host->ops.prop_write(v->host->ctx, ite->plpi,
						v->lpi_cfg[ite->intid - LPI_INTID_BASE]);
			used[ite->pcpu / 64] |= (uint64_t)1 << (ite->pcpu % 64);
			any = true;
		}
	}
	if (!any)
		return;
	for (uint32_t p = 0; p < v->host->cfg.nr_pcpus; p++) {
		if (!(used[p / 64] >> (p % 64) & 1))
			continue;
		struct its_cmd c = its_mk_invall(p);
		vits_phys_emit(v, &c);
	}
}

void vits_fwd_sync(struct vits *v, uint32_t vcpu)
{
	if (v->host == NULL || v->nr_assigned_mapped == 0)
		return;
	struct its_cmd c = its_mk_sync(vits_phys_pcpu(v, vcpu));
	vits_phys_emit(v, &c);
}
