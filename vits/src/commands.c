/*
 * commands.c: one handler per ITS command (IHI 0069 6.3), each validating every
 * field before use.  The check order is the one docs/semantics.md lists (it decides
 * which reason a bad command reports); a failing command changes nothing.
 */
#include "vits_internal.h"

typedef enum vits_reason (*cmd_fn)(struct vits *v, const struct its_cmd *c);

static bool id_fits(uint64_t id, unsigned bits)
{
	return bits >= 64 || (id >> bits) == 0;
}

/* Outbox room for an assigned device's teardown with `events` events mapped (a DISCARD
 * each, MAPD V=0, SYNCs), plus `now` commands about to be sent, so that the teardown
 * can always be queued.  Reserved as events are mapped, like the ITT shadow's chunks,
 * not per ITT entry: that cost 72 bytes an entry, for events most guests never map. */
static int reserve_teardown(struct vits *v, uint64_t events, unsigned now)
{
	return vits_ob_reserve(v, events + 2 + v->host->cfg.nr_pcpus + now);
}

/* ---- device table (BASER0) ------------------------------------------------------- */

static uint64_t baser_page(uint64_t baser)
{
	switch (GITS_FIELD_GET(baser, BASER, PAGE_SIZE)) {
	case 0: return 4096;
	case 1: return 16384;
	default: return 65536;
	}
}

static uint64_t baser_pa(uint64_t baser)
{
	uint64_t pa = baser & GITS_FIELD_MASK(BASER, PA);
	if (baser_page(baser) == 65536) {
		/* 64 KiB pages: bits [15:12] of the register hold PA[51:48]. */
		pa = (pa & ~(uint64_t)0xffff) | (GITS_FIELD_GET(baser, BASER, PA_HI64K) << 48);
	}
	return pa;
}

/* A level-1 entry of a two-level device table.  Out of line: its buffer would give
 * every vits_dev_check_table call (flat tables too) a stack frame under ASan. */
static __attribute__((noinline)) enum vits_reason l1_entry_valid(struct vits *v, uint64_t gpa)
{
	uint8_t raw[8];
	if (vits_read_guest(v, gpa, raw, sizeof(raw)) < 0)
		return VITS_R_MEM_FAULT;
	/* Valid is bit 63 of the little-endian entry. */
	return (raw[7] & 0x80) ? VITS_R_NONE : VITS_R_DEVICE_TABLE;
}

/* Does the guest's device table have room for devid (IHI 0069 5.2.1)? */
enum vits_reason vits_dev_check_table(struct vits *v, uint32_t devid)
{
	uint64_t b = v->baser[0];
	if (!GITS_FIELD_GET(b, BASER, VALID))
		return VITS_R_DEVICE_TABLE;
	uint64_t page = baser_page(b);
	uint64_t pages = GITS_FIELD_GET(b, BASER, SIZE) + 1;
	uint64_t esz = GITS_FIELD_GET(b, BASER, ENTRY_SIZE) + 1;
	uint64_t per_page = page / esz;

	if (!GITS_FIELD_GET(b, BASER, INDIRECT))
		return devid < pages * per_page ? VITS_R_NONE : VITS_R_DEVICE_TABLE;

	/* Two-level: 8-byte level-1 entries, each pointing at one page of entries. */
	uint64_t l1 = devid / per_page;
	if (l1 >= pages * page / 8)
		return VITS_R_DEVICE_TABLE;
	return l1_entry_valid(v, baser_pa(b) + l1 * 8);
}

/* ---- lookups shared by the (DeviceID, EventID) commands ------------------------- */

struct ev_ref {
	struct vits_dev *d;
	struct vits_ite *ite;
	uint32_t ev;
};

static enum vits_reason find_device(struct vits *v, const struct its_cmd *c,
				    struct vits_dev **out)
{
	uint64_t devid = its_cmd_get_devid(c);
	if (!id_fits(devid, v->cfg.devid_bits))
		return VITS_R_DEVICE_OOR;
	struct vits_dev *d = vits_dev_find(v, (uint32_t)devid);
	if (d == NULL || !d->valid)
		return VITS_R_DEVICE_UNMAPPED;
	*out = d;
	return VITS_R_NONE;
}

/* Device mapped, EventID in range, event mapped. */
static enum vits_reason find_event(struct vits *v, const struct its_cmd *c, struct ev_ref *r)
{
	enum vits_reason why = find_device(v, c, &r->d);
	if (why)
		return why;
	uint64_t ev = its_cmd_get_eventid(c);
	if (!id_fits(ev, r->d->event_bits))
		return VITS_R_EVENT_OOR;
	r->ev = (uint32_t)ev;
	r->ite = vits_ite_find(r->d, (uint32_t)ev);
	return r->ite != NULL && r->ite->intid ? VITS_R_NONE : VITS_R_EVENT_UNMAPPED;
}

/* ... and its collection mapped: commands that need the target redistributor. */
static enum vits_reason find_routed_event(struct vits *v, const struct its_cmd *c,
					  struct ev_ref *r, uint32_t *vcpu)
{
	enum vits_reason why = find_event(v, c, r);
	if (why)
		return why;
	*vcpu = v->coll[r->ite->icid];
	return *vcpu == VITS_COLL_UNMAPPED ? VITS_R_COLLECTION_UNMAPPED : VITS_R_NONE;
}

static bool rd_valid(const struct vits *v, uint64_t rd)
{
	return rd < v->cfg.nr_vcpus;    /* TYPER.PTA = 0: RDbase is a PE number */
}

/* ---- MAPD ----------------------------------------------------------------------- */

void vits_dev_unmap(struct vits *v, struct vits_dev *d)
{
	if (!d->valid)
		return;
	/* The device's LPIs that other devices' events also map: their pending state
	 * goes too, one CLEAR per such event, and one left the only event mapping its
	 * LPI gets its guest byte back with an INV (not per pair: a guest aliasing many
	 * events must not get quadratic work).  A teardown unmaps everything anyway. */
	bool aliases = v->host != NULL && v->nr_aliased != 0 &&
		       v->cur_cause != VITS_CAUSE_TEARDOWN && vits_policy_mark_aliased(v, d);
	if (d->assigned)
		vits_phys_unmapd(v, d);
	struct vits_ite *ite;
	vits_for_each_mapped_event(d, e, ite) {
		/* IMPDEF choice: unmapping a device clears its LPIs' pending state, like
		 * a DISCARD of each event, so nothing of it fires later. */
		vits_lpi_clear_pending(v, ite->intid);
		vits_lpi_unmapped(v, ite->intid);
		ite->intid = 0;
		d->nr_mapped--;
	}
	if (aliases)
		vits_policy_clear_marked(v, d);         /* after the counts dropped */
	vits_itt_free(v, d);
	d->valid = 0;
	d->event_bits = 0;
	d->itt_addr = 0;
}

static enum vits_reason cmd_mapd(struct vits *v, const struct its_cmd *c)
{
	uint64_t devid = its_cmd_get_devid(c);
	if (!id_fits(devid, v->cfg.devid_bits))
		return VITS_R_DEVICE_OOR;
	enum vits_reason why = vits_dev_check_table(v, (uint32_t)devid);
	if (why)
		return why;

	struct vits_dev *d = vits_dev_find(v, (uint32_t)devid);
	if (!its_cmd_get_valid(c)) {
		if (d != NULL) {
			vits_dev_unmap(v, d);
			vits_xlate_flush(v);
			vits_dev_put(v, d);
		}
		return VITS_R_NONE;
	}

	unsigned bits = (unsigned)its_cmd_get_size(c) + 1;
	if (bits > v->cfg.eventid_bits)
		return VITS_R_ITT_SIZE_OOR;
	uint64_t itt = its_cmd_get_itt_addr(c) << 8;
	/* The guest provides ITT_entry_size (8) bytes per event. */
	if (v->ops.ram_check && !v->ops.ram_check(v->ctx, itt, (uint64_t)8 << bits))
		return VITS_R_ITT_OUTSIDE_RAM;

	if (d != NULL && d->assigned && v->host != NULL && reserve_teardown(v, 0, 0) < 0)
		return VITS_R_NO_MEMORY;
	struct vits_ite **dir;
	if (vits_itt_alloc(v, bits, &dir) < 0)
		return VITS_R_NO_MEMORY;
	if (d == NULL && (d = vits_dev_get(v, (uint32_t)devid)) == NULL) {
		vits_itt_free_dir(v, dir, bits);
		return VITS_R_NO_MEMORY;
	}
	/* IMPDEF choice: MAPD V=1 on a mapped device drops the old mapping first (KVM). */
	vits_dev_unmap(v, d);
	vits_xlate_flush(v);
	vits_itt_install(d, dir);
	d->valid = 1;
	d->event_bits = (uint8_t)bits;
	d->itt_addr = itt;
	d->nr_mapped = 0;
	if (d->assigned)
		vits_phys_mapd(v, d);
	return VITS_R_NONE;
}

/* ---- MAPC ----------------------------------------------------------------------- */

static enum vits_reason cmd_mapc(struct vits *v, const struct its_cmd *c)
{
	uint64_t icid = its_cmd_get_icid(c);
	if (icid >= v->nr_coll)
		return VITS_R_COLLECTION_OOR;
	if (its_cmd_get_valid(c)) {
		uint64_t rd = its_cmd_get_rdbase(c);
		if (!rd_valid(v, rd))
			return VITS_R_PROCNUM_OOR;
		v->coll[icid] = (uint32_t)rd;
	} else {
		v->coll[icid] = VITS_COLL_UNMAPPED;
	}
	vits_xlate_flush(v);
	return VITS_R_NONE;
}

/* ---- MAPTI, MAPI ---------------------------------------------------------------- */

static enum vits_reason map_event(struct vits *v, const struct its_cmd *c, uint64_t intid)
{
	struct vits_dev *d;
	enum vits_reason why = find_device(v, c, &d);
	if (why)
		return why;
	uint64_t ev = its_cmd_get_eventid(c);
	if (!id_fits(ev, d->event_bits))
		return VITS_R_EVENT_OOR;
	if (intid > 0xffffffffu || !vits_intid_valid(v, (uint32_t)intid))
		return VITS_R_INTID_OOR;
	uint64_t icid = its_cmd_get_icid(c);
	if (icid >= v->nr_coll)
		return VITS_R_COLLECTION_OOR;
	struct vits_ite *ite = vits_ite_find(d, (uint32_t)ev);
	/* IMPDEF choice: mapping onto a mapped event is an error (KVM ignores it; the
	 * architecture makes it UNPREDICTABLE), so a guest cannot leak the old LPI. */
	if (ite != NULL && ite->intid)
		return VITS_R_EVENT_MAPPED;
	/* With this event mapped too; the MAPTI itself sends up to two commands. */
	if (d->assigned && v->host != NULL && reserve_teardown(v, d->nr_mapped + 1ull, 2) < 0)
		return VITS_R_NO_MEMORY;
	/* The entry's chunk, on the first event mapped in it (kept until the unmap). */
	if (ite == NULL && (ite = vits_ite_make(v, d, (uint32_t)ev)) == NULL)
		return VITS_R_NO_MEMORY;

	uint8_t old_cfg = v->lpi_cfg[intid - LPI_INTID_BASE];
	ite->intid = (uint32_t)intid;
	ite->icid = (uint16_t)icid;
	ite->plpi = 0;
	d->nr_mapped++;
	vits_lpi_mapped(v, (uint32_t)intid);
	vits_lpi_read_cfg(v, (uint32_t)intid);
	if (d->assigned && vits_phys_mapti(v, d, (uint32_t)ev) != VITS_R_NONE) {
		/* No physical LPI left: undo, so the failed command changed nothing. */
		v->lpi_cfg[intid - LPI_INTID_BASE] = old_cfg;
		vits_lpi_unmapped(v, (uint32_t)intid);
		ite->intid = 0;
		d->nr_mapped--;
		return VITS_R_NO_MEMORY;
	}
	if (v->host != NULL)
		vits_policy_mapped(v, d, (uint32_t)ev);
	/* Pending state and configuration are per INTID: an LPI already pending
	 * through another event mapping it is delivered if the byte read enables it. */
	if (vits_lpi_try_deliver(v, (uint32_t)intid) && v->host != NULL)
		vits_policy_released(v, d, (uint32_t)ev, false);
	return VITS_R_NONE;
}

static enum vits_reason cmd_mapti(struct vits *v, const struct its_cmd *c)
{
	return map_event(v, c, its_cmd_get_pintid(c));
}

static enum vits_reason cmd_mapi(struct vits *v, const struct its_cmd *c)
{
	return map_event(v, c, its_cmd_get_eventid(c));
}

/* ---- MOVI ----------------------------------------------------------------------- */

static enum vits_reason cmd_movi(struct vits *v, const struct its_cmd *c)
{
	struct ev_ref r;
	enum vits_reason why = find_event(v, c, &r);
	if (why)
		return why;
	uint64_t icid = its_cmd_get_icid(c);
	if (icid >= v->nr_coll)
		return VITS_R_COLLECTION_OOR;
	uint32_t to = v->coll[icid];
	if (to == VITS_COLL_UNMAPPED)
		return VITS_R_COLLECTION_UNMAPPED;

	r.ite->icid = (uint16_t)icid;
	uint32_t i = r.ite->intid - LPI_INTID_BASE;
	/* A pending LPI follows its event to the new redistributor (IHI 0069 6.3.10). */
	if (v->lpi_pending[i])
		v->lpi_pvcpu[i] = (uint16_t)to;
	vits_xlate_drop(v, r.d->devid, r.ev);
	if (r.d->assigned)
		vits_phys_movi(v, r.d, r.ev, to);
	return VITS_R_NONE;
}

/* ---- DISCARD, INT, CLEAR, INV --------------------------------------------------- */

static enum vits_reason cmd_discard(struct vits *v, const struct its_cmd *c)
{
	struct ev_ref r;
	enum vits_reason why = find_event(v, c, &r);
	if (why)
		return why;
	uint32_t intid = r.ite->intid;
	bool aliased = v->host != NULL && vits_lpi_aliased(v, intid);
	if (v->host != NULL)
		vits_phys_discard(v, r.d, r.ev);   /* also clears aliases' pending state */
	vits_lpi_clear_pending(v, intid);
	vits_lpi_unmapped(v, intid);
	r.ite->intid = 0;
	r.d->nr_mapped--;
	/* One event maps the LPI now: its physical LPI takes the guest's byte again. */
	if (aliased && !vits_lpi_aliased(v, intid))
		vits_policy_unaliased(v, intid);
	vits_xlate_drop(v, r.d->devid, r.ev);
	return VITS_R_NONE;
}

static enum vits_reason cmd_int(struct vits *v, const struct its_cmd *c)
{
	struct ev_ref r;
	uint32_t vcpu;
	enum vits_reason why = find_routed_event(v, c, &r, &vcpu);
	if (why)
		return why;
	/* IMPDEF choice: INT is virtual (pending in the engine) even for an assigned
	 * event.  A device interrupt the physical ITS holds pending at the same time is
	 * merged when a re-read delivers the LPI: vits_policy_released CLEARs the physical
	 * side (docs/semantics.md, "One pending LPI, two places"). */
	vits_lpi_set_pending(v, r.ite->intid, vcpu);
	return VITS_R_NONE;
}

static enum vits_reason cmd_clear(struct vits *v, const struct its_cmd *c)
{
	struct ev_ref r;
	uint32_t vcpu;
	enum vits_reason why = find_routed_event(v, c, &r, &vcpu);
	if (why)
		return why;
	vits_lpi_clear_pending(v, r.ite->intid);
	if (v->host != NULL)
		vits_phys_clear(v, r.d, r.ev);
	return VITS_R_NONE;
}

static enum vits_reason cmd_inv(struct vits *v, const struct its_cmd *c)
{
	struct ev_ref r;
	uint32_t vcpu;
	enum vits_reason why = find_routed_event(v, c, &r, &vcpu);
	if (why)
		return why;
	vits_lpi_read_cfg(v, r.ite->intid);
	if (v->host != NULL)
		vits_policy_inv(v, r.d, r.ev);     /* an unassigned event may alias one */
	if (vits_lpi_try_deliver(v, r.ite->intid) && v->host != NULL)
		vits_policy_released(v, r.d, r.ev, true);
	return VITS_R_NONE;
}

/* ---- INVALL, SYNC, MOVALL ------------------------------------------------------- */

static enum vits_reason cmd_invall(struct vits *v, const struct its_cmd *c)
{
	uint64_t icid = its_cmd_get_icid(c);
	if (icid >= v->nr_coll)
		return VITS_R_COLLECTION_OOR;
	uint32_t vcpu = v->coll[icid];
	if (vcpu == VITS_COLL_UNMAPPED)
		return VITS_R_COLLECTION_UNMAPPED;

	/* Work is O(events mapped by the domain), bounded by the memory cap. */
	for (uint32_t s = 0; s < v->devs.cap; s++) {
		struct vits_dev *d = v->devs.slot[s];
		if (d == NULL || !d->valid)
			continue;
		const struct vits_ite *ite;
		vits_for_each_mapped_event(d, e, ite) {
			if (ite->icid != icid)
				continue;
			vits_lpi_read_cfg(v, ite->intid);
			if (vits_lpi_try_deliver(v, ite->intid) && v->host != NULL)
				vits_policy_released(v, d, e, true);
		}
	}
	vits_policy_invall(v, (uint32_t)icid);
	return VITS_R_NONE;
}

static enum vits_reason cmd_sync(struct vits *v, const struct its_cmd *c)
{
	uint64_t rd = its_cmd_get_rdbase(c);
	if (!rd_valid(v, rd))
		return VITS_R_PROCNUM_OOR;
	/* Every earlier command has completed: the engine runs them synchronously. */
	vits_policy_sync(v, (uint32_t)rd);
	return VITS_R_NONE;
}

static enum vits_reason cmd_movall(struct vits *v, const struct its_cmd *c)
{
	uint64_t from = its_cmd_get_rdbase(c), to = its_cmd_get_rdbase2(c);
	if (!rd_valid(v, from) || !rd_valid(v, to))
		return VITS_R_PROCNUM_OOR;
	if (from != to) {
		/* Only a mapped LPI can be pending (DISCARD and MAPD clear it), so walking
		 * the mapped events finds every one: O(events mapped by the domain), the
		 * same bound as INVALL, not O(2^intid_bits). */
		for (uint32_t s = 0; s < v->devs.cap; s++) {
			const struct vits_dev *d = v->devs.slot[s];
			if (d == NULL || !d->valid)
				continue;
			const struct vits_ite *ite;
			vits_for_each_mapped_event(d, e, ite) {
				uint32_t i = ite->intid - LPI_INTID_BASE;
				if (v->lpi_pending[i] && v->lpi_pvcpu[i] == from)
					v->lpi_pvcpu[i] = (uint16_t)to;
			}
		}
	}
	vits_xlate_flush(v);
	return VITS_R_NONE;
}

/* ---- dispatch ------------------------------------------------------------------- */

static const cmd_fn handlers[256] = {
	[ITS_OP_MOVI] = cmd_movi,
	[ITS_OP_INT] = cmd_int,
	[ITS_OP_CLEAR] = cmd_clear,
	[ITS_OP_SYNC] = cmd_sync,
	[ITS_OP_MAPD] = cmd_mapd,
	[ITS_OP_MAPC] = cmd_mapc,
	[ITS_OP_MAPTI] = cmd_mapti,
	[ITS_OP_MAPI] = cmd_mapi,
	[ITS_OP_INV] = cmd_inv,
	[ITS_OP_INVALL] = cmd_invall,
	[ITS_OP_MOVALL] = cmd_movall,
	[ITS_OP_DISCARD] = cmd_discard,
};

enum vits_reason vits_cmd_execute(struct vits *v, const struct its_cmd *c)
{
	unsigned op = (unsigned)its_cmd_get_opcode(c);
	cmd_fn fn = handlers[op];
	int idx = its_cmd_index(op);

	if (idx >= 0)
		v->st.guest_cmds[idx]++;
	if (vits_likely(fn != NULL))
		return fn(v, c);
	if (its_cmd_is_gicv4(op) == 1) {
		v->st.unsupported_cmds++;
		return VITS_R_UNSUPPORTED;
	}
	return VITS_R_UNKNOWN_OPCODE;
}
