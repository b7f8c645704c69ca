/*
 * lpi.c: LPI configuration as last read, pending state, and delivery to vCPUs.
 *
 * Pending state lives in the (virtual) redistributor of the vCPU the LPI was made
 * pending on (IHI 0069 5.1.1): it is not the ITS's, so MAPC does not move it, while
 * MOVI and MOVALL do.  Delivery hands the LPI to the vGIC through ops.inject.
 */
#include "vits_internal.h"

#define LPI_CFG_ENABLE 0x01u

/* A valid LPI of the current property table (or of intid_bits when none is set). */
bool vits_intid_valid(const struct vits *v, uint32_t intid)
{
	unsigned bits = v->prop_bits ? v->prop_bits : v->cfg.intid_bits;
	if (intid < LPI_INTID_BASE)
		return false;
	return bits >= 32 || intid < ((uint32_t)1 << bits);
}

/* LPI index i is about to hold state: widen the window reset clears. */
static void lpi_touch(struct vits *v, uint32_t i)
{
	if (i < v->lpi_lo)
		v->lpi_lo = i;
	if (i >= v->lpi_hi)
		v->lpi_hi = i + 1;
}

/* Re-read the property byte (MAPTI, MAPI, INV, INVALL). */
void vits_lpi_read_cfg(struct vits *v, uint32_t intid)
{
	uint32_t i = intid - LPI_INTID_BASE;
	uint8_t b;

	lpi_touch(v, i);

	if (v->prop_bits == 0 || (v->prop_bits < 32 && intid >> v->prop_bits)) {
		/* No table, or the LPI is beyond it (the table shrank since MAPTI): the
		 * redistributor has no configuration for it, so it is disabled. */
		v->lpi_cfg[i] = 0;
		return;
	}
	v->st.prop_reads++;
	if (vits_read_guest(v, v->prop_gpa + i, &b, 1) < 0) {
		v->st.prop_faults++;    /* keep the old byte, as KVM does */
		return;
	}
	v->lpi_cfg[i] = b;
}

/* Hand pending LPI index i to the vGIC. */
static inline void deliver(struct vits *v, uint32_t i, uint32_t intid)
{
	v->lpi_pending[i] = 0;
	v->st.injections++;
	v->ops.inject(v->ctx, v->lpi_pvcpu[i], intid);
	if (v->ops.trace) {
		struct vits_event ev = { .type = VITS_EV_INJECT };
		ev.u.inject.vcpu = v->lpi_pvcpu[i];
		ev.u.inject.intid = intid;
		vits_trace(v, &ev);
	}
}

/* Deliver the LPI if it is pending and enabled; true when it was delivered. */
bool vits_lpi_try_deliver(struct vits *v, uint32_t intid)
{
	uint32_t i = intid - LPI_INTID_BASE;
	if (!v->lpi_pending[i] || !(v->lpi_cfg[i] & LPI_CFG_ENABLE))
		return false;
	deliver(v, i, intid);
	return true;
}

/* The MSI path: the LPI becomes pending and, when enabled, is delivered at once. */
void vits_lpi_set_pending(struct vits *v, uint32_t intid, uint32_t vcpu)
{
	uint32_t i = intid - LPI_INTID_BASE;
	lpi_touch(v, i);
	/* IMPDEF choice: an LPI already pending elsewhere is re-targeted to the latest
	 * writer's vCPU; an LPI is pending on one redistributor at a time. */
	v->lpi_pending[i] = 1;
	v->lpi_pvcpu[i] = (uint16_t)vcpu;
	if (v->lpi_cfg[i] & LPI_CFG_ENABLE)
		deliver(v, i, intid);
}

void vits_lpi_clear_pending(struct vits *v, uint32_t intid)
{
	v->lpi_pending[intid - LPI_INTID_BASE] = 0;
}

/* Only the window the guest used holds state: clearing 2^16 LPIs per reset would
 * cost more than most guests' whole run (the allocator returned them zeroed). */
void vits_lpi_reset(struct vits *v)
{
	if (v->lpi_lo < v->lpi_hi) {
		uint32_t lo = v->lpi_lo, n = v->lpi_hi - v->lpi_lo;
		vits_memset(v->lpi_cfg + lo, 0, n);
		vits_memset(v->lpi_pending + lo, 0, n);
		vits_memset(v->lpi_pvcpu + lo, 0, sizeof(*v->lpi_pvcpu) * n);
		if (v->lpi_nmap != NULL)
			vits_memset(v->lpi_nmap + lo, 0, sizeof(*v->lpi_nmap) * n);
	}
	v->lpi_lo = v->nr_lpis;
	v->lpi_hi = 0;
	v->nr_aliased = 0;
}

/* Mapping counts per LPI (kept only with a host, where aliases matter). */
void vits_lpi_mapped(struct vits *v, uint32_t intid)
{
	if (v->lpi_nmap == NULL)
		return;
	lpi_touch(v, intid - LPI_INTID_BASE);
	uint16_t *n = &v->lpi_nmap[intid - LPI_INTID_BASE];
	if (*n == UINT16_MAX)
		return;         /* saturated: stays aliased, which only costs walks */
	if (++*n == 2)
		v->nr_aliased++;
}

void vits_lpi_unmapped(struct vits *v, uint32_t intid)
{
	if (v->lpi_nmap == NULL)
		return;
	uint16_t *n = &v->lpi_nmap[intid - LPI_INTID_BASE];
	if (*n == UINT16_MAX)
		return;
	if ((*n)-- == 2)
		v->nr_aliased--;
}

bool vits_lpi_aliased(const struct vits *v, uint32_t intid)
{
	return v->nr_aliased != 0 && v->lpi_nmap[intid - LPI_INTID_BASE] > 1;
}
