/*
 * vits.c: instance lifetime, the embedder-facing entry points that are not registers
 * (MSIs, resume, property table, device assignment) and the state queries.
 */
#include "vits_internal.h"

#define VITS_DEFAULT_CAP (16u << 20)
#define VITS_DEFAULT_IIDR 0x5600043Bu   /* Implementer Arm (0x43B), ProductID 'V' */

void vits_config_default(struct vits_config *cfg)
{
	if (cfg == NULL)
		return;
	vits_memset(cfg, 0, sizeof(*cfg));
	cfg->sz = sizeof(*cfg);
	cfg->nr_vcpus = 4;
	cfg->devid_bits = 20;
	cfg->eventid_bits = 16;
	cfg->cid_bits = 16;
	cfg->intid_bits = 16;
	cfg->mem_cap = VITS_DEFAULT_CAP;
	cfg->xlate_cache = 256;
	cfg->error_mode = VITS_ERRMODE_SKIP;
}

int vits_read_guest(struct vits *v, uint64_t gpa, void *buf, uint32_t len)
{
	int rc = v->ops.read_guest(v->ctx, gpa, buf, len);
	if (v->ops.trace) {
		struct vits_event ev = { .type = VITS_EV_MEM_READ };
		ev.u.mem.gpa = gpa;
		ev.u.mem.len = len;
		ev.u.mem.data = rc < 0 ? NULL : buf;
		ev.u.mem.result = rc < 0 ? -1 : 0;
		vits_trace(v, &ev);
	}
	return rc < 0 ? -1 : 0;
}

static int config_check(const struct vits_config *c)
{
	if (c->sz != sizeof(*c))
		return VITS_E_INVAL;
	if (c->nr_vcpus == 0 || c->nr_vcpus > 65535)
		return VITS_E_INVAL;
	if (c->devid_bits < 1 || c->devid_bits > 32 || c->eventid_bits < 1 ||
	    c->eventid_bits > 32 || c->cid_bits < 1 || c->cid_bits > 16 ||
	    c->intid_bits < 14 || c->intid_bits > 24)
		return VITS_E_INVAL;
	if (c->error_mode > VITS_ERRMODE_STALL || c->policy >= VITS_POLICY_COUNT ||
	    c->sync_squash > 1)
		return VITS_E_INVAL;
	if (c->xlate_cache & (c->xlate_cache - 1) || c->xlate_cache > (1u << 20))
		return VITS_E_INVAL;
	return 0;
}

/* Sizes of the arrays allocated at create time. */
static size_t coll_bytes(const struct vits *v) { return sizeof(*v->coll) * v->nr_coll; }
static size_t xc_bytes(const struct vits *v) { return sizeof(*v->xc) * (v->xc_mask + 1); }
static size_t pcpu_bytes(const struct vits *v) { return sizeof(*v->vcpu_pcpu) * v->cfg.nr_vcpus; }
static size_t mark_bytes(const struct vits *v) { return sizeof(*v->lpi_mark) * ((v->nr_lpis + 63) / 64); }

static void free_arrays(struct vits *v)
{
	vits_mem_free(&v->mem, v->coll, coll_bytes(v));
	vits_mem_free(&v->mem, v->lpi_cfg, v->nr_lpis);
	vits_mem_free(&v->mem, v->lpi_pending, v->nr_lpis);
	vits_mem_free(&v->mem, v->lpi_pvcpu, sizeof(*v->lpi_pvcpu) * v->nr_lpis);
	vits_mem_free(&v->mem, v->xc, xc_bytes(v));
	vits_mem_free(&v->mem, v->vcpu_pcpu, pcpu_bytes(v));
	vits_mem_free(&v->mem, v->rmap, sizeof(*v->rmap) * v->nr_lpis);
	vits_mem_free(&v->mem, v->lpi_nmap, sizeof(*v->lpi_nmap) * v->nr_lpis);
	vits_mem_free(&v->mem, v->lpi_mark, mark_bytes(v));
	vits_ob_free(v);
}

static void state_reset(struct vits *v)
{
	vits_regs_reset(v);
	for (uint32_t i = 0; i < v->nr_coll; i++)
		v->coll[i] = VITS_COLL_UNMAPPED;
	vits_lpi_reset(v);
	v->prop_gpa = 0;
	v->prop_bits = 0;
	vits_memset(v->xc, 0, xc_bytes(v));
	v->xgen = 1;
	uint64_t used = v->mem.used, peak = v->mem.peak;
	vits_memset(&v->st, 0, sizeof(v->st));
	v->st.mem_used = used;
	v->st.mem_peak = peak;
}

int vits_create(const struct vits_config *cfg, const struct vits_ops *ops, void *ctx,
		struct vits_host *host, struct vits **out)
{
	if (cfg == NULL || ops == NULL || out == NULL)
		return VITS_E_INVAL;
	if (ops->sz != sizeof(*ops) || ops->alloc == NULL || ops->free == NULL ||
	    ops->read_guest == NULL || ops->inject == NULL)
		return VITS_E_INVAL;
	int rc = config_check(cfg);
	if (rc < 0)
		return rc;

	uint64_t cap = cfg->mem_cap ? cfg->mem_cap : VITS_DEFAULT_CAP;
	struct vits_mem mem = { ops->alloc, ops->free, ctx, 0, 0, cap };
	struct vits *v = vits_mem_alloc(&mem, sizeof(*v));
	if (v == NULL)
		return VITS_E_NOMEM;
	v->mem = mem;
	v->cfg = *cfg;
	if (v->cfg.xlate_cache == 0)
		v->cfg.xlate_cache = 256;
	if (v->cfg.iidr == 0)
		v->cfg.iidr = VITS_DEFAULT_IIDR;
	v->ops = *ops;
	v->ctx = ctx;
	v->nr_coll = (uint32_t)1 << cfg->cid_bits;
	v->nr_lpis = ((uint32_t)1 << cfg->intid_bits) - LPI_INTID_BASE;
	v->xc_mask = v->cfg.xlate_cache - 1;

	v->coll = vits_mem_alloc(&v->mem, coll_bytes(v));
	v->lpi_cfg = vits_mem_alloc(&v->mem, v->nr_lpis);
	v->lpi_pending = vits_mem_alloc(&v->mem, v->nr_lpis);
	v->lpi_pvcpu = vits_mem_alloc(&v->mem, sizeof(*v->lpi_pvcpu) * v->nr_lpis);
	v->xc = vits_mem_alloc(&v->mem, xc_bytes(v));
	v->vcpu_pcpu = vits_mem_alloc(&v->mem, pcpu_bytes(v));
	bool rmap_ok = true;
	if (host != NULL && vits_policy_traps(v)) {
		/* The bounded reverse map the trapping policies need: one event per LPI. */
		v->rmap = vits_mem_alloc(&v->mem, sizeof(*v->rmap) * v->nr_lpis);
		rmap_ok = v->rmap != NULL;
	}
	if (host != NULL) {
		v->lpi_nmap = vits_mem_alloc(&v->mem, sizeof(*v->lpi_nmap) * v->nr_lpis);
		v->lpi_mark = vits_mem_alloc(&v->mem, mark_bytes(v));
		if (v->lpi_nmap == NULL || v->lpi_mark == NULL ||
		    vits_ob_reserve(v, 2u * host->cfg.nr_pcpus + 64) < 0)
			rmap_ok = false;
	}
	if (v->coll == NULL || v->lpi_cfg == NULL || v->lpi_pending == NULL ||
	    v->lpi_pvcpu == NULL || v->xc == NULL || v->vcpu_pcpu == NULL || !rmap_ok) {
		free_arrays(v);
		v->mem.free(v->mem.ctx, v, sizeof(*v));
		return VITS_E_NOMEM;
	}

	v->typer = GITS_FIELD_SET(0, TYPER, PHYSICAL, 1);
	v->typer = GITS_FIELD_SET(v->typer, TYPER, ITT_ENTRY_SIZE, 7);
	v->typer = GITS_FIELD_SET(v->typer, TYPER, IDBITS, cfg->eventid_bits - 1u);
	v->typer = GITS_FIELD_SET(v->typer, TYPER, DEVBITS, cfg->devid_bits - 1u);
	v->typer = GITS_FIELD_SET(v->typer, TYPER, CIDBITS, cfg->cid_bits - 1u);
	v->typer = GITS_FIELD_SET(v->typer, TYPER, CIL, 1);

	if (host != NULL) {
		v->host = host;
		rc = vits_host_attach(host, v);
		if (rc < 0) {
			free_arrays(v);
			v->mem.free(v->mem.ctx, v, sizeof(*v));
			return rc;
		}
		for (uint32_t i = 0; i < cfg->nr_vcpus; i++)
			v->vcpu_pcpu[i] = i % host->cfg.nr_pcpus;
	}
	state_reset(v);
	*out = v;
	return 0;
}

/*
 * Leave the physical ITS clean: every device unmapped (host bytes wiped, DISCARD per
 * event, MAPD V=0), then a SYNC on each physical collection that got commands.
 * Resumable: a device is marked unmapped once its commands are queued, so a call
 * after VITS_E_AGAIN carries on where the full physical queue stopped it.
 */
static int teardown(struct vits *v)
{
	uint8_t saved = v->cur_cause;
	int rc = 0;

	v->cur_cause = VITS_CAUSE_TEARDOWN;
	v->cur_opcode = 0;
	if (v->host != NULL && !vits_ob_flush(v)) {
		rc = VITS_E_AGAIN;
		goto out;
	}
	for (uint32_t s = 0; s < v->devs.cap; s++) {
		struct vits_dev *d = v->devs.slot[s];
		if (d == NULL || !d->valid)
			continue;
		vits_dev_unmap(v, d);
		if (v->host != NULL && !vits_ob_flush(v)) {
			rc = VITS_E_AGAIN;
			goto out;
		}
	}
	if (v->host != NULL) {
		vits_phys_sync_marked(v);
		if (!vits_ob_flush(v))
			rc = VITS_E_AGAIN;
	}
out:
	v->cur_cause = saved;
	return rc;
}

int vits_destroy(struct vits *v)
{
	if (v == NULL)
		return 0;
	v->tearing_down = 1;
	int rc = teardown(v);
	if (rc < 0)
		return rc;
	vits_devmap_free(v);
	if (v->host != NULL)
		vits_host_detach(v->host, v);
	free_arrays(v);
	v->mem.free(v->mem.ctx, v, sizeof(*v));
	return 0;
}

int vits_reset(struct vits *v)
{
	if (v == NULL)
		return VITS_E_INVAL;
	int rc = teardown(v);
	if (rc < 0)
		return rc;
	/* Assignments are the embedder's and survive; everything the guest did goes. */
	for (uint32_t s = 0; s < v->devs.cap; s++) {
		struct vits_dev *d = v->devs.slot[s];
		if (d != NULL && !d->assigned) {
			vits_dev_put(v, d);
			s = (uint32_t)-1;       /* the map shifted: rescan from the start */
		}
	}
	v->nr_assigned_mapped = 0;
	v->inflight = 0;
	v->inflight_sync = 0;
	v->tearing_down = 0;
	state_reset(v);
	return 0;
}

int vits_msi(struct vits *v, uint32_t devid, uint32_t eventid)
{
	if (v == NULL)
		return VITS_E_INVAL;
	v->st.msis++;
	int why = (v->ctlr & 1) ? vits_translate(v, devid, eventid) : VITS_R_ITS_DISABLED;
	if (why != VITS_R_NONE)
		v->st.msis_dropped++;
	if (v->ops.trace) {
		struct vits_event ev = { .type = VITS_EV_MSI };
		ev.u.msi.devid = devid;
		ev.u.msi.eventid = eventid;
		ev.u.msi.reason = (uint8_t)why;
		vits_trace(v, &ev);
	}
	return why;
}

int vits_resume(struct vits *v)
{
	if (v == NULL)
		return VITS_E_INVAL;
	if (v->host != NULL)
		vits_host_reap(v->host, false);
	return vits_cmdq_process(v);
}

int vits_work_pending(const struct vits *v)
{
	if (v == NULL)
		return 0;
	if (v->ob_count != 0 || v->inflight)
		return 1;
	return !v->tearing_down && (v->ctlr & 1) && v->qsize != 0 && !v->stalled &&
	       v->creadr != v->cwriter;
}

int vits_set_prop_table(struct vits *v, uint64_t gpa, unsigned id_bits)
{
	if (v == NULL || id_bits > 32 || (id_bits != 0 && id_bits < 14))
		return VITS_E_INVAL;
	if (id_bits > v->cfg.intid_bits)
		id_bits = v->cfg.intid_bits;
	v->prop_gpa = id_bits ? gpa : 0;
	v->prop_bits = (uint8_t)id_bits;
	vits_xlate_flush(v);
	if (v->ops.trace) {
		struct vits_event ev = { .type = VITS_EV_PROP_TABLE };
		ev.u.prop.gpa = gpa;
		ev.u.prop.id_bits = (uint8_t)id_bits;
		vits_trace(v, &ev);
	}
	return 0;
}

/* ---- device assignment ------------------------------------------------------------ */

static void trace_assign(struct vits *v, uint32_t vdevid, uint32_t pdevid, bool on)
{
	if (v->ops.trace) {
		struct vits_event ev = { .type = VITS_EV_ASSIGN };
		ev.u.assign.vdevid = vdevid;
		ev.u.assign.pdevid = pdevid;
		ev.u.assign.assigned = on;
		vits_trace(v, &ev);
	}
}

int vits_assign_device(struct vits *v, uint32_t vdevid, uint32_t pdevid)
{
	if (v == NULL || v->host == NULL)
		return VITS_E_INVAL;
	if ((vdevid >> (v->cfg.devid_bits - 1) >> 1) ||
	    (pdevid >> (v->host->cfg.pdevid_bits - 1) >> 1))
		return VITS_E_RANGE;
	struct vits_dev *d = vits_dev_find(v, vdevid);
	if (d != NULL && d->assigned)
		return VITS_E_EXIST;
	if (d != NULL && d->valid)
		return VITS_E_STATE;
	if (vits_host_pdev_taken(v->host, pdevid))
		return VITS_E_EXIST;
	d = vits_dev_get(v, vdevid);
	if (d == NULL)
		return VITS_E_NOMEM;
	d->assigned = 1;
	d->pdevid = pdevid;
	trace_assign(v, vdevid, pdevid, true);
	return 0;
}

int vits_unassign_device(struct vits *v, uint32_t vdevid)
{
	if (v == NULL || v->host == NULL)
		return VITS_E_INVAL;
	struct vits_dev *d = vits_dev_find(v, vdevid);
	if (d == NULL || !d->assigned)
		return VITS_E_NOENT;
	uint8_t saved = v->cur_cause;
	v->cur_cause = VITS_CAUSE_TEARDOWN;
	/* The device stays mapped for the guest, but purely virtual from now on.  Its
	 * LPIs may be pending on the physical ITS, which the DISCARDs below would clear:
	 * enable each on the host and INV it first, so the physical ITS hands any pending
	 * one to the host (vits_host_plpi), which keeps it pending in the engine. */
	if (d->pmapped) {
		const struct vits_ite *ite;
		vits_for_each_mapped_event(d, e, ite) {
			if (!ite->plpi)
				continue;
			vits_host_prop_set(v->host, ite->plpi,
					   (uint8_t)(v->lpi_cfg[ite->intid - LPI_INTID_BASE] | 1));
			struct its_cmd c = its_mk_devev(ITS_OP_INV, d->pdevid, e);
			vits_phys_emit(v, &c);
		}
	}
	vits_phys_unmapd(v, d);
	vits_phys_sync_marked(v);
	v->cur_cause = saved;
	/* The physical DeviceID is free for another domain only once its teardown is
	 * queued on the physical ITS: until then it stays taken. */
	if (!vits_ob_flush(v))
		return VITS_E_AGAIN;
	d->assigned = 0;
	trace_assign(v, vdevid, d->pdevid, false);
	vits_dev_put(v, d);
	return 0;
}

int vits_set_vcpu_pcpu(struct vits *v, uint32_t vcpu, uint32_t pcpu)
{
	if (v == NULL || v->host == NULL)
		return VITS_E_INVAL;
	if (vcpu >= v->cfg.nr_vcpus || pcpu >= v->host->cfg.nr_pcpus)
		return VITS_E_RANGE;
	v->vcpu_pcpu[vcpu] = pcpu;
	return 0;
}

/* ---- queries ------------------------------------------------------------------------ */

static void device_info(const struct vits_dev *d, struct vits_device_info *out)
{
	out->devid = d->devid;
	out->event_bits = d->event_bits;
	out->itt_addr = d->itt_addr;
	out->assigned = d->assigned;
	out->pdevid = d->pdevid;
}

int vits_query_device(const struct vits *v, uint32_t devid, struct vits_device_info *out)
{
	if (v == NULL || out == NULL)
		return VITS_E_INVAL;
	if (devid >> (v->cfg.devid_bits - 1) >> 1)
		return VITS_E_RANGE;
	const struct vits_dev *d = vits_dev_find(v, devid);
	if (d == NULL || !d->valid)
		return VITS_E_NOENT;
	device_info(d, out);
	return 0;
}

int vits_query_event(const struct vits *v, uint32_t devid, uint32_t eventid,
		     struct vits_event_info *out)
{
	if (v == NULL || out == NULL)
		return VITS_E_INVAL;
	if (devid >> (v->cfg.devid_bits - 1) >> 1)
		return VITS_E_RANGE;
	const struct vits_dev *d = vits_dev_find(v, devid);
	if (d == NULL || !d->valid)
		return VITS_E_NOENT;
	if (eventid >> (d->event_bits - 1) >> 1)
		return VITS_E_RANGE;
	const struct vits_ite *ite = vits_ite_find(d, eventid);
	if (ite == NULL || !ite->intid)
		return VITS_E_NOENT;
	out->intid = ite->intid;
	out->icid = ite->icid;
	out->plpi = ite->plpi;
	return 0;
}

int vits_query_collection(const struct vits *v, uint32_t icid, uint32_t *vcpu)
{
	if (v == NULL || vcpu == NULL)
		return VITS_E_INVAL;
	if (icid >= v->nr_coll)
		return VITS_E_RANGE;
	if (v->coll[icid] == VITS_COLL_UNMAPPED)
		return VITS_E_NOENT;
	*vcpu = v->coll[icid];
	return 0;
}

int vits_query_lpi(const struct vits *v, uint32_t intid, struct vits_lpi_info *out)
{
	if (v == NULL || out == NULL)
		return VITS_E_INVAL;
	if (intid < LPI_INTID_BASE || intid - LPI_INTID_BASE >= v->nr_lpis)
		return VITS_E_RANGE;
	uint32_t i = intid - LPI_INTID_BASE;
	out->cfg = v->lpi_cfg[i];
	out->pending = v->lpi_pending[i];
	out->pending_vcpu = v->lpi_pvcpu[i];
	return 0;
}

int vits_foreach_pending_lpi(const struct vits *v,
			     int (*fn)(void *arg, uint32_t intid, const struct vits_lpi_info *l),
			     void *arg)
{
	if (v == NULL || fn == NULL)
		return VITS_E_INVAL;
	/* Pending state exists only inside the window the guest used since the last
	 * reset; within it, eight clear bytes at a time are skipped. */
	for (uint32_t i = v->lpi_lo; i < v->lpi_hi; i++) {
		if ((i & 7) == 0 && v->lpi_hi - i >= 8) {
			uint64_t w;
			vits_memcpy(&w, v->lpi_pending + i, sizeof(w));
			if (w == 0) {
				i += 7;
				continue;
			}
		}
		if (!v->lpi_pending[i])
			continue;
		struct vits_lpi_info info = {
			.cfg = v->lpi_cfg[i], .pending = v->lpi_pending[i],
			.pending_vcpu = v->lpi_pvcpu[i],
		};
		int rc = fn(arg, i + LPI_INTID_BASE, &info);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int vits_foreach_device(const struct vits *v,
			int (*fn)(void *arg, const struct vits_device_info *d), void *arg)
{
	if (v == NULL || fn == NULL)
		return VITS_E_INVAL;
	for (uint32_t s = 0; s < v->devs.cap; s++) {
		const struct vits_dev *d = v->devs.slot[s];
		if (d == NULL || !d->valid)
			continue;
		struct vits_device_info info;
		device_info(d, &info);
		int rc = fn(arg, &info);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int vits_query_queue(const struct vits *v, struct vits_queue_info *out)
{
	if (v == NULL || out == NULL)
		return VITS_E_INVAL;
	out->creadr = v->creadr;
	out->cwriter = v->cwriter;
	out->size = v->qsize;
	out->stalled = v->stalled;
	out->enabled = v->ctlr & 1;
	return 0;
}

int vits_get_stats(const struct vits *v, struct vits_stats *out)
{
	if (v == NULL || out == NULL)
		return VITS_E_INVAL;
	*out = v->st;
	out->mem_used = v->mem.used;
	out->mem_peak = v->mem.peak;
	return 0;
}
