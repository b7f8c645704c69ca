/*
 * rp_equiv.c: is the engine, with its physical side, still equivalent to the
 * reference model?  (whatif's verdict; DESIGN.md "What the oracles check".)
 *
 * Checked at quiescent points (between guest traps, the physical queue drained):
 * every device (ITT size and address), event (LPI, collection) and collection
 * (vCPU) the model maps, and no more in the engine; for every LPI the model maps, the
 * configuration as last read and the pending state.  An LPI of a passed-through
 * device may be pending in the physical ITS rather than in the engine (the host has
 * not been interrupted for it yet): that counts as pending.  Deliveries are compared
 * as a multiset of (vCPU, INTID): a physical LPI reaches the guest when the physical
 * ITS delivers it, later than the model's instant delivery, but none may be lost
 * or invented.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_internal.h"

struct eq {
	struct rp_session *s;
	char *msg;
	size_t n;
	uint8_t *phys_pending;          /* per INTID - 8192 */
	uint32_t nlpi;
};

static int eq_dev(void *arg, const struct ref_device *d)
{
	struct eq *e = arg;
	struct vits_device_info di;
	if (vits_query_device(e->s->v, d->devid, &di)) {
		snprintf(e->msg, e->n, "device 0x%x: the model maps it, the engine does not",
			 d->devid);
		return 1;
	}
	if (di.event_bits != d->event_bits || di.itt_addr != d->itt_addr) {
		snprintf(e->msg, e->n, "device 0x%x: model %u EventID bits at ITT 0x%llx, engine "
			 "%u at 0x%llx", d->devid, d->event_bits, (unsigned long long)d->itt_addr,
			 di.event_bits, (unsigned long long)di.itt_addr);
		return 1;
	}
	return 0;
}

static int eq_ev(void *arg, const struct ref_event *r)
{
	struct eq *e = arg;
	struct vits_event_info ei;
	if (vits_query_event(e->s->v, r->devid, r->eventid, &ei)) {
		snprintf(e->msg, e->n, "(device 0x%x, event %u): the model maps it to LPI %u, the "
			 "engine has it unmapped", r->devid, r->eventid, r->intid);
		return 1;
	}
	if (ei.intid != r->intid || ei.icid != r->icid) {
		snprintf(e->msg, e->n, "(device 0x%x, event %u): model LPI %u collection %u, "
			 "engine LPI %u collection %u", r->devid, r->eventid, r->intid, r->icid,
			 ei.intid, ei.icid);
		return 1;
	}
	if (ei.plpi && e->s->phys && rp_phys_plpi_pending(e->s->phys, ei.plpi) &&
	    r->intid >= LPI_INTID_BASE && r->intid - LPI_INTID_BASE < e->nlpi)
		e->phys_pending[r->intid - LPI_INTID_BASE] = 1;
	return 0;
}

static int eq_coll(void *arg, uint32_t icid, uint32_t vcpu)
{
	struct eq *e = arg;
	uint32_t got;
	if (vits_query_collection(e->s->v, icid, &got) || got != vcpu) {
		snprintf(e->msg, e->n, "collection %u: model vCPU %u, engine %s", icid, vcpu,
			 vits_query_collection(e->s->v, icid, &got) ? "unmapped" : "another vCPU");
		return 1;
	}
	return 0;
}

static int eq_lpi(void *arg, const struct ref_lpi *l)
{
	struct eq *e = arg;
	if (!l->mapped)
		return 0;
	struct vits_lpi_info li;
	if (vits_query_lpi(e->s->v, l->intid, &li)) {
		snprintf(e->msg, e->n, "LPI %u: the engine holds no state for it", l->intid);
		return 1;
	}
	if (li.cfg != l->cfg) {
		snprintf(e->msg, e->n, "LPI %u: configuration as last read: model 0x%02x, engine "
			 "0x%02x", l->intid, l->cfg, li.cfg);
		return 1;
	}
	bool phys = l->intid - LPI_INTID_BASE < e->nlpi &&
		    e->phys_pending[l->intid - LPI_INTID_BASE];
	bool pend = li.pending || phys;
	if (pend != l->pending) {
		snprintf(e->msg, e->n, "LPI %u: model %s, engine %s", l->intid,
			 l->pending ? "pending" : "not pending", pend ? "pending" : "not pending");
		return 1;
	}
	if (li.pending && !phys && li.pending_vcpu != l->pending_vcpu) {
		snprintf(e->msg, e->n, "LPI %u: pending on vCPU %u in the model, %u in the engine",
			 l->intid, l->pending_vcpu, li.pending_vcpu);
		return 1;
	}
	return 0;
}

struct count {
	const struct vits *v;
	uint64_t devices, events;
};

static int count_dev(void *arg, const struct vits_device_info *d)
{
	struct count *c = arg;
	c->devices++;
	uint64_t nev = d->event_bits >= 12 ? 4096 : 1ull << d->event_bits;
	for (uint64_t i = 0; i < nev; i++) {
		struct vits_event_info ei;
		if (!vits_query_event(c->v, d->devid, (uint32_t)i, &ei))
			c->events++;
	}
	return 0;
}

static int cmp_inj(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

static int deliveries(struct rp_session *s, char *msg, size_t n)
{
	size_t nr;
	const struct ref_delivery *rd = ref_deliveries(s->ref, &nr);
	if (nr != s->ninj) {
		snprintf(msg, n, "the model delivered %zu LPIs, the engine %zu", nr, s->ninj);
		return 1;
	}
	if (!nr)
		return 0;
	uint32_t *a = malloc(nr * 2 * sizeof(*a)), *b = malloc(nr * 2 * sizeof(*b));
	if (!a || !b) {
		free(a);
		free(b);
		return 0;
	}
	for (size_t i = 0; i < nr; i++) {
		a[2 * i] = rd[i].vcpu;
		a[2 * i + 1] = rd[i].intid;
		b[2 * i] = s->inj[i].vcpu;
		b[2 * i + 1] = s->inj[i].intid;
	}
	qsort(a, nr, 2 * sizeof(*a), cmp_inj);
	qsort(b, nr, 2 * sizeof(*b), cmp_inj);
	int rc = 0;
	for (size_t i = 0; i < nr && !rc; i++) {
		if (a[2 * i] != b[2 * i] || a[2 * i + 1] != b[2 * i + 1]) {
			snprintf(msg, n, "deliveries differ: the model delivered LPI %u to vCPU %u "
				 "where the engine delivered LPI %u to vCPU %u", a[2 * i + 1], a[2 * i],
				 b[2 * i + 1], b[2 * i]);
			rc = 1;
		}
	}
	free(a);
	free(b);
	return rc;
}

int rp_equiv_check(struct rp_session *s, char *msg, size_t n)
{
	struct eq e = { s, msg, n, NULL, 0 };
	e.nlpi = (1u << s->cfg.intid_bits) - LPI_INTID_BASE;
	e.phys_pending = calloc(e.nlpi, 1);
	if (!e.phys_pending)
		return 0;
	int rc = ref_foreach_device(s->ref, eq_dev, &e) ||
		 ref_foreach_event(s->ref, eq_ev, &e) ||
		 ref_foreach_collection(s->ref, eq_coll, &e) ||
		 ref_foreach_lpi(s->ref, eq_lpi, &e);
	free(e.phys_pending);
	if (rc)
		return 1;
	struct count c = { s->v, 0, 0 };
	vits_foreach_device(s->v, count_dev, &c);
	if (c.devices != ref_device_count(s->ref) || c.events < ref_event_count(s->ref) ||
	    (c.events > ref_event_count(s->ref))) {
		snprintf(msg, n, "the engine maps %llu devices and %llu events, the model %zu and %zu",
			 (unsigned long long)c.devices, (unsigned long long)c.events,
			 ref_device_count(s->ref), ref_event_count(s->ref));
		return 1;
	}
	uint64_t colls = 0, ncoll = s->cfg.cid_bits >= 16 ? 65536 : 1ull << s->cfg.cid_bits;
	for (uint64_t i = 0; i < ncoll; i++) {
		uint32_t vcpu;
		colls += vits_query_collection(s->v, (uint32_t)i, &vcpu) == 0;
	}
	if (colls != ref_collection_count(s->ref)) {
		snprintf(msg, n, "the engine maps %llu collections, the model %zu",
			 (unsigned long long)colls, ref_collection_count(s->ref));
		return 1;
	}
	return deliveries(s, msg, n);
}
