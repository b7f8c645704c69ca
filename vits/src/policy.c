/*
 * policy.c: how guest LPI configuration and SYNC reach the physical ITS, per policy
 * (DESIGN.md "Policies", the Xen-devel design thread in ../shared/seeds).
 *
 *   forward      guest INV/INVALL/SYNC become the same physical commands; the host
 *                byte is the guest byte copied at MAPTI/INV/INVALL.
 *   eager        each trapped property write to a mapped LPI updates the host byte
 *                and sends INV at once; guest INV/INVALL cost nothing physical.
 *   lazy         a trapped write updates the host byte and marks the physical LPI
 *                dirty (per domain); guest INV sends INV only when dirty; guest INVALL
 *                sends INVALL per physical collection when any of its LPIs is dirty,
 *                or up to K INVs when at most K are.
 *   lazy-global  lazy, but a physical INVALL clears every domain's dirty bits on that
 *                physical collection (one host-wide bitmap), so INVALLs from several
 *                domains in a row collapse into one.
 *   virtual      host LPIs are enabled at MAPTI and stay so; enable and priority
 *                live only in the guest's virtual state (Xen today).
 *
 * Whatever the policy, the physical LPIs of an aliased LPI (mapped by two or more
 * events of the domain) keep an enabled host byte, as virtual keeps every one, so
 * their MSIs merge into one pending state in the engine (vits_policy_host_cfg).
 *
 * Under eager and the lazy policies the engine also mirrors the host table, and a
 * guest INV/INVALL reaches the physical ITS whenever the host byte of an event's LPI
 * differs from what the guest just invalidated: a trap only reaches one event when
 * several map the same LPI (the reverse map holds one), and a moved property table
 * is never trapped at all.  The trap is the fast path; the INV is the guarantee.
 *
 * The guest-visible (virtual) configuration is the same under every policy: the
 * engine re-reads the guest byte at MAPTI/INV/INVALL (lpi.c).  Policies change only
 * what the physical ITS is told, which decides whether physical LPIs reach the host
 * (lost deliveries, storms) and what it costs.
 */
#include "vits_internal.h"

#define VIRTUAL_HOST_CFG 0xa3u  /* priority 0xa0, Group1, enabled */

static const char *const policy_names[VITS_POLICY_COUNT] = {
	[VITS_POLICY_FORWARD] = "forward",
	[VITS_POLICY_EAGER] = "eager",
	[VITS_POLICY_LAZY] = "lazy",
	[VITS_POLICY_LAZY_GLOBAL] = "lazy-global",
	[VITS_POLICY_VIRTUAL] = "virtual",
};

const char *vits_policy_name(enum vits_policy p)
{
	return (unsigned)p < VITS_POLICY_COUNT ? policy_names[p] : NULL;
}

int vits_policy_from_name(const char *name)
{
	if (name == NULL)
		return VITS_E_INVAL;
	for (int p = 0; p < VITS_POLICY_COUNT; p++) {
		const char *a = policy_names[p], *b = name;
		while (*a != '\0' && *a == *b) {
			a++;
			b++;
		}
		if (*a == '\0' && *b == '\0')
			return p;
	}
	return VITS_E_INVAL;
}

static bool is_lazy(const struct vits *v)
{
	return v->cfg.policy == VITS_POLICY_LAZY || v->cfg.policy == VITS_POLICY_LAZY_GLOBAL;
}

bool vits_policy_traps(const struct vits *v)
{
	return v->cfg.policy == VITS_POLICY_EAGER || is_lazy(v);
}

/*
 * The host byte an event's physical LPI should carry.  Normally the guest's byte as
 * last read, so a physically disabled LPI keeps a storming device off the host.  Not
 * under virtual, and not for an aliased LPI (mapped by two or more events of the
 * domain) under any policy: each of its physical LPIs would latch its own pending
 * state while the guest has the LPI disabled, and an enable would release them all,
 * one delivery each, where the architecture merges them into one.  Kept enabled, its
 * physical LPIs reach the host at once and the pending state lives in the engine only
 * (virtual's storm exposure, for aliased LPIs alone).
 */
uint8_t vits_policy_host_cfg(const struct vits *v, uint32_t intid)
{
	if (v->cfg.policy == VITS_POLICY_VIRTUAL || vits_lpi_aliased(v, intid))
		return VIRTUAL_HOST_CFG;
	return v->lpi_cfg[intid - LPI_INTID_BASE];
}

/* A physical LPI leaves the domain: its dirty bit goes with it. */
void vits_policy_forget(struct vits *v, uint32_t plpi)
{
	if (is_lazy(v) && vits_host_dirty_clear(v->host, plpi))
		v->st.dirty_lpis--;
}

static void send_inv(struct vits *v, const struct vits_dev *d, uint32_t ev)
{
	struct its_cmd c = its_mk_devev(ITS_OP_INV, d->pdevid, ev);
	vits_phys_emit(v, &c);
	vits_phys_mark_sync(v, vits_ite(d, ev)->pcpu);
}

/*
 * Does the physical ITS need telling about this event's LPI?  Its host byte is stale
 * (differs from what vits_policy_host_cfg says: the guest invalidated a byte no trap
 * brought, because the property table moved, or the LPI became aliased or unaliased),
 * or, under the lazy policies, it was written and not yet invalidated (dirty).
 */
static bool needs_inv(const struct vits *v, const struct vits_ite *ite)
{
	if (vits_host_prop_get(v->host, ite->plpi) != vits_policy_host_cfg(v, ite->intid))
		return true;
	if (!is_lazy(v))
		return false;
	uint32_t i = ite->plpi - LPI_INTID_BASE;
	return v->host->dirty[i / 64] >> (i % 64) & 1;
}

/* Bring the host byte up to date and forget the dirty bit: an INV or INVALL that
 * re-reads it is about to be queued. */
static void refresh(struct vits *v, const struct vits_ite *ite)
{
	vits_host_prop_set(v->host, ite->plpi, vits_policy_host_cfg(v, ite->intid));
	if (is_lazy(v) && vits_host_dirty_clear(v->host, ite->plpi))
		v->st.dirty_lpis--;
}

/* The INV rule for one event: forward always passes it on; eager and lazy only when
 * the physical ITS would otherwise keep a configuration the guest has replaced. */
static void inv_event(struct vits *v, struct vits_dev *d, uint32_t ev)
{
	const struct vits_ite *ite = vits_ite(d, ev);
	if (!ite->plpi)
		return;
	if (v->cfg.policy == VITS_POLICY_FORWARD || needs_inv(v, ite)) {
		refresh(v, ite);
		send_inv(v, d, ev);
	}
}

/* Visit every assigned event (with a physical LPI) of the domain: O(events mapped).
 * The body must not map or unmap. */
#define for_each_plpi_event(v, d, e, ite)                                              \
	for (uint32_t s_ = 0; s_ < (v)->devs.cap; s_++)                                   \
		if (((d) = (v)->devs.slot[s_]) == NULL || !(d)->pmapped)                   \
			;                                                                  \
		else vits_for_each_mapped_event(d, e, ite)                                 \
			if (!(ite)->plpi)                                                  \
				;                                                          \
			else

/*
 * Configuration is per LPI, not per event: when several events map one LPI, the
 * physical LPIs of all of them must follow it.  Only aliased LPIs pay for this walk
 * (O(events the domain maps)); Linux never aliases.
 */
static void inv_aliases(struct vits *v, uint32_t intid, const struct vits_dev *skip_d,
			uint32_t skip_ev)
{
	struct vits_dev *d;
	const struct vits_ite *ite;
	for_each_plpi_event(v, d, e, ite)
		if (ite->intid == intid && !(d == skip_d && e == skip_ev))
			inv_event(v, d, e);
}

/* The LPI's pending state was cleared (DISCARD, CLEAR): the other events mapping it
 * hold their own physical pending state, which must go too. */
void vits_policy_clear_aliases(struct vits *v, uint32_t intid, const struct vits_dev *skip_d,
			       uint32_t skip_ev)
{
	struct vits_dev *d;
	const struct vits_ite *ite;
	for_each_plpi_event(v, d, e, ite) {
		if (ite->intid != intid || (d == skip_d && e == skip_ev))
			continue;
		vits_phys_clear_ite(v, d, e);
	}
}

/* An LPI left to one event: trapped writes reach it through the reverse map again
 * (eager and lazy keep one), not through a walk. */
static void rmap_point(struct vits *v, const struct vits_dev *d, uint32_t ev)
{
	if (v->rmap == NULL)
		return;
	struct vits_rmap *r = &v->rmap[vits_ite(d, ev)->intid - LPI_INTID_BASE];
	r->devid = d->devid;
	r->eventid = ev;
}

/* Mark (in lpi_mark) the aliased LPIs of device dev's events; true when any. */
bool vits_policy_mark_aliased(struct vits *v, const struct vits_dev *dev)
{
	bool any = false;
	const struct vits_ite *ite;
	vits_for_each_mapped_event(dev, e, ite) {
		if (vits_lpi_aliased(v, ite->intid)) {
			uint32_t i = ite->intid - LPI_INTID_BASE;
			v->lpi_mark[i / 64] |= (uint64_t)1 << (i % 64);
			any = true;
		}
	}
	return any;
}

/* Device dev's events are gone (their mapping counts dropped): a CLEAR for each event
 * of another device whose LPI is marked, and an INV for it when its LPI is no longer
 * aliased (its host byte returns to the guest's); the marks are cleared.
 * O(events the domain maps), whatever the aliasing. */
void vits_policy_clear_marked(struct vits *v, const struct vits_dev *dev)
{
	struct vits_dev *d;
	const struct vits_ite *ite;
	for_each_plpi_event(v, d, e, ite) {
		uint32_t i = ite->intid - LPI_INTID_BASE;
		if (d == dev || !(v->lpi_mark[i / 64] >> (i % 64) & 1))
			continue;
		vits_phys_clear_ite(v, d, e);
		if (v->cfg.policy != VITS_POLICY_VIRTUAL && !vits_lpi_aliased(v, ite->intid)) {
			inv_event(v, d, e);
			rmap_point(v, d, e);
		}
	}
	vits_memset(v->lpi_mark, 0, sizeof(*v->lpi_mark) * ((v->nr_lpis + 63) / 64));
}

/* The LPI just went from two mapping events to one (DISCARD of the other): the
 * remaining event's physical LPI, if it has one, takes the guest's byte again, so a
 * disabled LPI keeps its device off the host.  Pending state the engine holds stays
 * there (a later enable delivers it, and vits_policy_released clears the physical
 * side).  Only an LPI that was aliased pays for the walk. */
void vits_policy_unaliased(struct vits *v, uint32_t intid)
{
	if (v->cfg.policy == VITS_POLICY_VIRTUAL)
		return;
	struct vits_dev *d;
	const struct vits_ite *ite;
	for_each_plpi_event(v, d, e, ite) {
		if (ite->intid == intid) {
			inv_event(v, d, e);
			rmap_point(v, d, e);
			return;
		}
	}
}

/* The engine re-read an LPI's configuration for event (d, ev) at MAPTI/MAPI: the
 * other events mapping that LPI carry the same configuration physically.  A MAPTI that
 * makes the LPI aliased enables their host bytes (vits_policy_host_cfg), and the INV
 * hands a pending state one of them latched to the host, where the engine merges it. */
void vits_policy_mapped(struct vits *v, struct vits_dev *d, uint32_t ev)
{
	uint32_t intid = vits_ite(d, ev)->intid;
	if (v->cfg.policy != VITS_POLICY_VIRTUAL && vits_lpi_aliased(v, intid))
		inv_aliases(v, intid, d, ev);
}

void vits_policy_inv(struct vits *v, struct vits_dev *d, uint32_t ev)
{
	if (v->cfg.policy == VITS_POLICY_VIRTUAL)
		return;
	inv_event(v, d, ev);
	uint32_t intid = vits_ite(d, ev)->intid;
	if (vits_lpi_aliased(v, intid))
		inv_aliases(v, intid, d, ev);
}

/*
 * A re-read (INV, INVALL, MAPTI/MAPI of an alias) just delivered an LPI the engine
 * held pending: a physical LPI arrived while the guest's configuration, as last read,
 * disabled it.  MSIs that came later may have pended on the physical LPIs mapping the
 * same INTID behind a host byte that disabled it (the guest's newer byte under eager
 * and lazy-global, an INV still queued under forward, an alias on another device, an
 * INT beside a device MSI).  Architecturally they merged into the one pending LPI just
 * delivered, so they are cleared: a physical CLEAR each, after which the host drops
 * their late arrivals (VITS_R_CLEARED) and the pending state lived in one place.
 * Virtual keeps host LPIs enabled, so a physical LPI never waits there.  with_own:
 * (d, ev)'s own physical LPI too (not for a MAPTI, whose physical LPI is new).
 */
void vits_policy_released(struct vits *v, struct vits_dev *d, uint32_t ev, bool with_own)
{
	if (v->cfg.policy == VITS_POLICY_VIRTUAL)
		return;
	const struct vits_ite *ite = vits_ite(d, ev);
	if (with_own && ite->plpi)
		vits_phys_clear_ite(v, d, ev);
	if (vits_lpi_aliased(v, ite->intid))
		vits_policy_clear_aliases(v, ite->intid, d, ev);
}

/* Visit the domain's assigned events of collection icid: fn(v, d, ev). */
static void for_each_assigned(struct vits *v, uint32_t icid,
			      void (*fn)(struct vits *v, struct vits_dev *d, uint32_t ev,
					 void *arg),
			      void *arg)
{
	for (uint32_t s = 0; s < v->devs.cap; s++) {
		struct vits_dev *d = v->devs.slot[s];
		if (d == NULL || !d->pmapped)
			continue;
		const struct vits_ite *ite;
		vits_for_each_mapped_event(d, e, ite)
			if (ite->plpi && ite->icid == icid)
				fn(v, d, e, arg);
	}
}

struct invall_scan {
	uint64_t pcpus[VITS_MAX_PCPUS / 64];
	uint32_t count;         /* events that need the physical ITS to re-read */
	bool apply;             /* refresh their host bytes and note their pCPUs */
};

static void scan_event(struct vits *v, struct vits_dev *d, uint32_t ev, void *arg)
{
	struct invall_scan *s = arg;
	const struct vits_ite *ite = vits_ite(d, ev);
	if (v->cfg.policy != VITS_POLICY_FORWARD && !needs_inv(v, ite))
		return;
	s->count++;
	if (s->apply) {
		refresh(v, ite);
		s->pcpus[ite->pcpu / 64] |= (uint64_t)1 << (ite->pcpu % 64);
	}
}

static void inv_if_needed(struct vits *v, struct vits_dev *d, uint32_t ev, void *arg)
{
	const struct vits_ite *ite = vits_ite(d, ev);
	if (needs_inv(v, ite)) {
		refresh(v, ite);
		send_inv(v, d, ev);
	}
}

/* One physical INVALL per physical collection the scan noted. */
static void send_invalls(struct vits *v, const struct invall_scan *s)
{
	for (uint32_t p = 0; p < v->host->cfg.nr_pcpus; p++) {
		if (!(s->pcpus[p / 64] >> (p % 64) & 1))
			continue;
		struct its_cmd c = its_mk_invall(p);
		vits_phys_emit(v, &c);
		vits_phys_mark_sync(v, p);
		if (is_lazy(v)) {
			/* An INVALL re-reads every LPI of that physical collection: lazy
			 * clears this domain's bits there, lazy-global everyone's. */
			vits_host_dirty_clear_pcpu(v->host, p,
						   v->cfg.policy == VITS_POLICY_LAZY ? v : NULL);
		}
	}
}

/* INVALL re-read the LPIs of collection icid; their aliases in other collections
 * (events mapping the same LPIs) follow with an INV each where needed. */
static void invall_aliases(struct vits *v, uint32_t icid)
{
	bool any = false;
	for (uint32_t s = 0; s < v->devs.cap; s++) {
		const struct vits_dev *d = v->devs.slot[s];
		if (d == NULL || !d->valid)
			continue;
		const struct vits_ite *ite;
		vits_for_each_mapped_event(d, e, ite) {
			if (ite->icid == icid && vits_lpi_aliased(v, ite->intid)) {
				uint32_t i = ite->intid - LPI_INTID_BASE;
				v->lpi_mark[i / 64] |= (uint64_t)1 << (i % 64);
				any = true;
			}
		}
	}
	if (!any)
		return;
	struct vits_dev *d;
	const struct vits_ite *ite;
	for_each_plpi_event(v, d, e, ite) {
		uint32_t i = ite->intid - LPI_INTID_BASE;
		if (ite->icid != icid && (v->lpi_mark[i / 64] >> (i % 64) & 1))
			inv_event(v, d, e);
	}
	vits_memset(v->lpi_mark, 0, sizeof(*v->lpi_mark) * ((v->nr_lpis + 63) / 64));
}

void vits_policy_invall(struct vits *v, uint32_t icid)
{
	if (v->host == NULL || v->nr_assigned_mapped == 0 ||
	    v->cfg.policy == VITS_POLICY_VIRTUAL)
		return;
	if (v->nr_aliased != 0)
		invall_aliases(v, icid);
	struct invall_scan s;
	/* Only the pCPU words that exist need clearing (4096 pCPUs are 512 bytes). */
	vits_memset(s.pcpus, 0, sizeof(s.pcpus[0]) * ((v->host->cfg.nr_pcpus + 63) / 64));
	s.count = 0;
	s.apply = false;
	if (v->cfg.policy == VITS_POLICY_FORWARD) {
		s.apply = true;
		for_each_assigned(v, icid, scan_event, &s);
		send_invalls(v, &s);
		return;
	}
	/* eager, lazy, lazy-global: nothing to tell is the common case (the INVALL is
	 * eaten); up to K events get an INV each; more get an INVALL per pCPU. */
	for_each_assigned(v, icid, scan_event, &s);
	if (s.count == 0)
		return;
	if (s.count <= v->cfg.invall_threshold) {
		for_each_assigned(v, icid, inv_if_needed, NULL);
		return;
	}
	s.apply = true;
	for_each_assigned(v, icid, scan_event, &s);
	send_invalls(v, &s);
}

void vits_policy_sync(struct vits *v, uint32_t vcpu)
{
	if (v->host == NULL)
		return;
	/* A guest SYNC must cover every physical collection this domain sent commands
	 * to since that collection's last SYNC; without squashing, the vCPU's own pCPU
	 * gets one even when nothing went there. */
	if (!v->cfg.sync_squash && v->nr_assigned_mapped != 0)
		vits_phys_mark_sync(v, vits_phys_pcpu(v, vcpu));
	vits_phys_sync_marked(v);
}

/* A trapped byte reaches one event's physical LPI. */
static void trap_event(struct vits *v, struct vits_dev *d, uint32_t ev, uint8_t byte)
{
	const struct vits_ite *ite = vits_ite(d, ev);
	vits_host_prop_set(v->host, ite->plpi, byte);
	if (v->cfg.policy == VITS_POLICY_EAGER)
		send_inv(v, d, ev);
	else if (vits_host_dirty_set(v->host, ite->plpi))
		v->st.dirty_lpis++;
}

int vits_prop_write(struct vits *v, uint64_t gpa, unsigned len, uint64_t value)
{
	if (v == NULL || (len != 1 && len != 2 && len != 4 && len != 8))
		return VITS_E_INVAL;
	v->st.prop_traps++;
	if (v->ops.trace) {
		struct vits_event ev = { .type = VITS_EV_PROP_WRITE };
		ev.u.prop_write.gpa = gpa;
		ev.u.prop_write.len = (uint8_t)len;
		ev.u.prop_write.value = value;
		vits_trace(v, &ev);
	}
	if (!vits_policy_traps(v) || v->host == NULL || v->prop_bits == 0 || v->rmap == NULL)
		return 0;

	uint8_t saved_cause = v->cur_cause;
	uint32_t saved_offset = v->cur_offset, saved_opcode = v->cur_opcode;
	v->cur_cause = VITS_CAUSE_PROP_WRITE;
	v->cur_opcode = 0;
	uint64_t nbytes = ((uint64_t)1 << v->prop_bits) - LPI_INTID_BASE;
	for (unsigned k = 0; k < len; k++) {
		uint64_t a = gpa + k;
		if (a < v->prop_gpa || a - v->prop_gpa >= nbytes)
			continue;
		uint32_t i = (uint32_t)(a - v->prop_gpa);
		uint8_t byte = (uint8_t)(value >> (8 * k));
		uint32_t intid = LPI_INTID_BASE + i;
		v->cur_offset = intid;  /* cause: the LPI written */
		if (v->lpi_nmap[i] == 0)
			continue;       /* not mapped: nothing physical to update */
		if (vits_lpi_aliased(v, intid))
			continue;       /* host bytes stay enabled (vits_policy_host_cfg) */
		/* The reverse map names the event of an unaliased LPI; it is the answer
		 * only if that event still maps this LPI. */
		const struct vits_rmap *r = &v->rmap[i];
		struct vits_dev *d = vits_dev_find(v, r->devid);
		const struct vits_ite *ite = vits_ite_lookup(d, r->eventid);
		if (ite != NULL && ite->intid == intid) {
			if (ite->plpi)
				trap_event(v, d, r->eventid, byte);
			continue;
		}
		/* The named event went away while another maps the LPI. */
		struct vits_dev *ad;
		const struct vits_ite *aite;
		for_each_plpi_event(v, ad, e, aite)
			if (aite->intid == intid)
				trap_event(v, ad, e, byte);
	}
	v->cur_cause = saved_cause;
	v->cur_offset = saved_offset;
	v->cur_opcode = saved_opcode;
	vits_ob_flush(v);
	return 0;
}
