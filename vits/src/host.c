/*
 * host.c: the physical side shared by every vITS of a host: the instance table,
 * physical LPI allocation with its reverse map (pLPI -> domain, device, event),
 * device assignment bookkeeping, and the delivery of physical LPIs.
 */
#include "vits_internal.h"

void vits_host_config_default(struct vits_host_config *cfg)
{
	if (cfg == NULL)
		return;
	vits_memset(cfg, 0, sizeof(*cfg));
	cfg->sz = sizeof(*cfg);
	cfg->nr_pcpus = 4;
	cfg->nr_plpis = 8192;
	cfg->max_instances = 64;
	cfg->pdevid_bits = 20;
	cfg->peventid_bits = 16;
}

int vits_host_create(const struct vits_host_config *cfg, const struct vits_host_ops *ops,
		     void *ctx, struct vits_host **out)
{
	if (cfg == NULL || ops == NULL || out == NULL || cfg->sz != sizeof(*cfg) ||
	    ops->sz != sizeof(*ops) || ops->alloc == NULL || ops->free == NULL ||
	    ops->phys_cmd == NULL || ops->itt_alloc == NULL || ops->itt_free == NULL ||
	    ops->prop_write == NULL)
		return VITS_E_INVAL;
	if (cfg->nr_pcpus == 0 || cfg->nr_pcpus > VITS_MAX_PCPUS || cfg->nr_plpis == 0 ||
	    cfg->nr_plpis > ((uint32_t)1 << 24) || cfg->max_instances > 65535 ||
	    cfg->pdevid_bits == 0 || cfg->pdevid_bits > 32 || cfg->peventid_bits == 0 ||
	    cfg->peventid_bits > 32)
		return VITS_E_INVAL;

	struct vits_mem mem = { ops->alloc, ops->free, ctx, 0, 0, (uint64_t)1 << 40 };
	struct vits_host *h = vits_mem_alloc(&mem, sizeof(*h));
	if (h == NULL)
		return VITS_E_NOMEM;
	h->mem = mem;
	h->cfg = *cfg;
	if (h->cfg.max_instances == 0)
		h->cfg.max_instances = 64;
	h->ops = *ops;
	h->ctx = ctx;
	uint32_t words = (cfg->nr_plpis + 63) / 64;
	h->inst = vits_mem_alloc(&h->mem, sizeof(*h->inst) * h->cfg.max_instances);
	h->plpi_bitmap = vits_mem_alloc(&h->mem, sizeof(*h->plpi_bitmap) * words);
	h->plpi = vits_mem_alloc(&h->mem, sizeof(*h->plpi) * cfg->nr_plpis);
	h->dirty = vits_mem_alloc(&h->mem, sizeof(*h->dirty) * words);
	h->hcfg = vits_mem_alloc(&h->mem, cfg->nr_plpis);
	if (h->inst == NULL || h->plpi_bitmap == NULL || h->plpi == NULL || h->dirty == NULL ||
	    h->hcfg == NULL) {
		vits_host_destroy(h);
		return VITS_E_NOMEM;
	}
	*out = h;
	return 0;
}

void vits_host_destroy(struct vits_host *h)
{
	if (h == NULL)
		return;
	vits_host_reap(h, true);        /* hand back what still waits */
	struct vits_mem mem = h->mem;
	vits_mem_free(&mem, h->retire, sizeof(*h->retire) * h->retire_cap);
	vits_mem_free(&mem, h->inst, sizeof(*h->inst) * h->cfg.max_instances);
	vits_mem_free(&mem, h->plpi_bitmap, sizeof(*h->plpi_bitmap) * ((h->cfg.nr_plpis + 63) / 64));
	vits_mem_free(&mem, h->plpi, sizeof(*h->plpi) * h->cfg.nr_plpis);
	vits_mem_free(&mem, h->dirty, sizeof(*h->dirty) * ((h->cfg.nr_plpis + 63) / 64));
	vits_mem_free(&mem, h->hcfg, h->cfg.nr_plpis);
	mem.free(mem.ctx, h, sizeof(*h));
}

int vits_host_attach(struct vits_host *h, struct vits *v)
{
	for (uint32_t i = 0; i < h->cfg.max_instances; i++) {
		if (h->inst[i] == NULL) {
			h->inst[i] = v;
			v->host_slot = i;
			h->st.instances++;
			return 0;
		}
	}
	return VITS_E_NOSPC;
}

void vits_host_detach(struct vits_host *h, struct vits *v)
{
	if (h->inst[v->host_slot] != v)
		return;
	/* Physical LPIs still retiring keep pointing at their domain; it is gone, and
	 * the slot may be reused, so they belong to nobody until they are reaped. */
	for (uint32_t i = 0; i < h->cfg.nr_plpis; i++)
		if (h->plpi[i].slot == v->host_slot + 1)
			h->plpi[i].slot = VITS_SLOT_DEAD;
	h->inst[v->host_slot] = NULL;
	h->st.instances--;
}

/* ---- releases that wait for the physical ITS ------------------------------------ */

bool vits_host_done(const struct vits_host *h, uint64_t seq)
{
	uint64_t done = h->ops.phys_done != NULL ? h->ops.phys_done(h->ctx) : h->seq;
	return done >= seq;
}

static void release_now(struct vits_host *h, const struct vits_retire *r)
{
	if (r->kind == VITS_REL_PLPI) {
		vits_host_prop_set(h, r->id, 0);        /* the next owner starts disabled */
		vits_host_plpi_free(h, r->id);
	}
	else if (r->kind == VITS_REL_ITT)
		h->ops.itt_free(h->ctx, r->id, r->pa, r->bytes);
}

/* Give back what the physical ITS has stopped using (all: everything, at destroy). */
void vits_host_reap(struct vits_host *h, bool all)
{
	while (h->retire_count != 0) {
		const struct vits_retire *r = &h->retire[h->retire_head];
		if (!all && !vits_host_done(h, r->seq))
			break;
		release_now(h, r);
		h->retire_head = (h->retire_head + 1) % h->retire_cap;
		h->retire_count--;
	}
}

static bool retire_push(struct vits_host *h, const struct vits_retire *r)
{
	if (h->retire_count == h->retire_cap) {
		uint32_t ncap = h->retire_cap ? h->retire_cap * 2 : 64;
		struct vits_retire *n = vits_mem_alloc(&h->mem, sizeof(*n) * ncap);
		if (n == NULL)
			return false;
		for (uint32_t i = 0; i < h->retire_count; i++)
			n[i] = h->retire[(h->retire_head + i) % h->retire_cap];
		vits_mem_free(&h->mem, h->retire, sizeof(*h->retire) * h->retire_cap);
		h->retire = n;
		h->retire_cap = ncap;
		h->retire_head = 0;
	}
	h->retire[(h->retire_head + h->retire_count) % h->retire_cap] = *r;
	h->retire_count++;
	return true;
}

/* phys_cmd took command p of instance v: number it, and schedule its release. */
void vits_host_accepted(struct vits_host *h, struct vits *v, const struct vits_pcmd *p)
{
	v->last_seq = ++h->seq;
	if (p->clears != 0)
		h->plpi[p->clears - LPI_INTID_BASE].clear_seq = h->seq;
	if (p->release != VITS_REL_NONE) {
		struct vits_retire r = { h->seq, p->release, p->rel_id, p->rel_pa, p->rel_bytes };
		/* IMPDEF choice: with no memory to wait, release at once (as without
		 * phys_done) rather than leak. */
		if (h->ops.phys_done == NULL || !retire_push(h, &r))
			release_now(h, &r);
	}
	vits_host_reap(h, false);
}

/* A free physical LPI, owned by (v, vdevid, ev) from now on; 0 when none is left. */
uint32_t vits_host_plpi_alloc(struct vits_host *h, struct vits *v, uint32_t vdevid, uint32_t ev,
			      uint32_t intid)
{
	uint32_t words = (h->cfg.nr_plpis + 63) / 64;
	vits_host_reap(h, false);
	for (uint32_t k = 0; k < words; k++) {
		uint32_t w = (h->plpi_hint + k) % words;
		uint64_t bits = h->plpi_bitmap[w];
		if (bits == ~(uint64_t)0)
			continue;
		uint32_t b = (uint32_t)__builtin_ctzll(~bits);
		uint32_t idx = w * 64 + b;
		if (idx >= h->cfg.nr_plpis)
			continue;
		h->plpi_bitmap[w] |= (uint64_t)1 << b;
		h->plpi[idx].slot = v->host_slot + 1;
		h->plpi[idx].vdevid = vdevid;
		h->plpi[idx].eventid = ev;
		h->plpi[idx].intid = intid;
		h->plpi[idx].pcpu = 0;
		h->plpi[idx].clear_seq = 0;
		h->plpi_hint = w;
		h->st.plpis_in_use++;
		return LPI_INTID_BASE + idx;
	}
	return 0;
}

void vits_host_plpi_free(struct vits_host *h, uint32_t plpi)
{
	uint32_t idx = plpi - LPI_INTID_BASE;
	h->plpi_bitmap[idx / 64] &= ~((uint64_t)1 << (idx % 64));
	h->plpi[idx].slot = 0;
	h->st.plpis_in_use--;
}

void vits_host_plpi_move(struct vits_host *h, uint32_t plpi, uint32_t pcpu)
{
	h->plpi[plpi - LPI_INTID_BASE].pcpu = pcpu;
}

/* Every host property-table write goes through here, so the engine knows what the
 * physical ITS will read at the next MAPTI/INV/INVALL of that LPI. */
void vits_host_prop_set(struct vits_host *h, uint32_t plpi, uint8_t cfg)
{
	h->hcfg[plpi - LPI_INTID_BASE] = cfg;
	h->ops.prop_write(h->ctx, plpi, cfg);
}

uint8_t vits_host_prop_get(const struct vits_host *h, uint32_t plpi)
{
	return h->hcfg[plpi - LPI_INTID_BASE];
}

/* Dirty bits of the lazy policies, one per physical LPI.  Set and clear report
 * whether the bit changed, so the owners' counts stay exact. */
bool vits_host_dirty_set(struct vits_host *h, uint32_t plpi)
{
	uint32_t i = plpi - LPI_INTID_BASE;
	uint64_t bit = (uint64_t)1 << (i % 64);
	if (h->dirty[i / 64] & bit)
		return false;
	h->dirty[i / 64] |= bit;
	h->st.dirty_plpis++;
	return true;
}

bool vits_host_dirty_clear(struct vits_host *h, uint32_t plpi)
{
	uint32_t i = plpi - LPI_INTID_BASE;
	uint64_t bit = (uint64_t)1 << (i % 64);
	if (!(h->dirty[i / 64] & bit))
		return false;
	h->dirty[i / 64] &= ~bit;
	h->st.dirty_plpis--;
	return true;
}

/* A physical INVALL on pcpu re-read every LPI there: clear their dirty bits, only
 * those of instance `only` (lazy) or every instance's (only == NULL, lazy-global). */
void vits_host_dirty_clear_pcpu(struct vits_host *h, uint32_t pcpu, const struct vits *only)
{
	uint32_t words = (h->cfg.nr_plpis + 63) / 64;
	for (uint32_t w = 0; w < words; w++) {
		uint64_t bits = h->dirty[w];
		while (bits != 0) {
			uint32_t b = (uint32_t)__builtin_ctzll(bits);
			bits &= bits - 1;
			const struct vits_host_plpi *m = &h->plpi[w * 64 + b];
			if (m->slot == 0 || m->pcpu != pcpu)
				continue;
			struct vits *owner = h->inst[m->slot - 1];
			if (only != NULL && owner != only)
				continue;
			h->dirty[w] &= ~((uint64_t)1 << b);
			h->st.dirty_plpis--;
			owner->st.dirty_lpis--;
		}
	}
}

int vits_host_poll(struct vits_host *h)
{
	if (h == NULL)
		return VITS_E_INVAL;
	vits_host_reap(h, false);
	return (int)h->retire_count;
}

int vits_host_get_stats(const struct vits_host *h, struct vits_host_stats *out)
{
	if (h == NULL || out == NULL)
		return VITS_E_INVAL;
	*out = h->st;
	return 0;
}

bool vits_host_pdev_taken(const struct vits_host *h, uint32_t pdevid)
{
	for (uint32_t i = 0; i < h->cfg.max_instances; i++) {
		const struct vits *v = h->inst[i];
		if (v == NULL)
			continue;
		for (uint32_t s = 0; s < v->devs.cap; s++) {
			const struct vits_dev *d = v->devs.slot[s];
			if (d != NULL && d->assigned && d->pdevid == pdevid)
				return true;
		}
	}
	return false;
}

int vits_host_plpi(struct vits_host *h, uint32_t plpi)
{
	if (h == NULL)
		return VITS_E_INVAL;
	if (plpi < LPI_INTID_BASE || plpi - LPI_INTID_BASE >= h->cfg.nr_plpis)
		return VITS_E_RANGE;
	const struct vits_host_plpi *m = &h->plpi[plpi - LPI_INTID_BASE];
	if (m->slot == 0 || m->slot == VITS_SLOT_DEAD) {
		h->st.host_lpis_dropped++;      /* nobody owns it: dropped */
		return VITS_R_NOT_ASSIGNED;
	}
	struct vits *v = h->inst[m->slot - 1];
	v->st.host_lpis++;
	h->st.host_lpis++;

	int why = VITS_R_NONE;
	const struct vits_dev *d = vits_dev_find(v, m->vdevid);
	uint32_t intid = 0;
	/* IMPDEF choice: GITS_CTLR.Enabled is not checked.  A physical LPI is either a
	 * new device interrupt (which a disabled ITS would not translate) or one that
	 * was pending and that an INV just enabled (redistributor state, which the ITS
	 * enable does not gate); the host cannot tell them apart, and losing the second
	 * is worse than latching the first (docs/policies.md, limit disabled_its_msi). */
	const struct vits_ite *ite = vits_ite_lookup(d, m->eventid);
	if (ite == NULL || ite->intid != m->intid) {
		/* Unmapped, or remapped to another LPI since: a late interrupt of the old
		 * mapping (its physical LPI still retiring) must not fire the new one.  An
		 * event that still maps the same LPI (its device unassigned meanwhile, or
		 * re-mapped to it) takes it: pending state the physical ITS released. */
		why = VITS_R_EVENT_UNMAPPED;
	} else {
		intid = ite->intid;
		/* A physical LPI for an LPI the guest disabled (and invalidated) is a
		 * spurious host interrupt: host work the guest asked not to cause.  It
		 * still becomes pending, as a disabled LPI does on a real ITS. */
		if (!(v->lpi_cfg[intid - LPI_INTID_BASE] & 1)) {
			v->st.host_lpis_spurious++;
			h->st.host_lpis_spurious++;
		}
		/* A physical CLEAR of this pLPI sent but not yet run: the interrupt was
		 * pending before it (the guest's CLEAR, or its DISCARD of an alias), and
		 * the guest command that removes it has not completed yet. */
		if (m->clear_seq != 0 && !vits_host_done(h, m->clear_seq))
			why = VITS_R_CLEARED;
		else
			why = vits_translate(v, m->vdevid, m->eventid);
	}
	if (why != VITS_R_NONE) {
		v->st.host_lpis_dropped++;
		h->st.host_lpis_dropped++;
	}
	if (v->ops.trace) {
		struct vits_event ev = { .type = VITS_EV_HOST_LPI };
		ev.u.host_lpi.plpi = plpi;
		ev.u.host_lpi.intid = intid;
		ev.u.host_lpi.reason = (uint8_t)why;
		vits_trace(v, &ev);
	}
	return why;
}
