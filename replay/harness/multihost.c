/*
 * multihost.c: several domains on one vits_host backed by one pits_model, and the
 * oracles that compare them with their reference models (see multihost.h).
 *
 * The rules mh_check applies at a quiescent point (every guest command processed,
 * every physical command executed), per domain:
 *
 * 1. Each guest command got the same outcome (reason) from engine and model.
 * 2. Mappings equal the model's: devices (Size, ITT), events (INTID, ICID),
 *    collections (vCPU); LPI configuration as last read (MAPTI/INV/INVALL) equal.
 * 3. Physical mirror: every event of an assigned device has a physical LPI that the
 *    physical model maps for (pdevid, event), and the model maps nothing else of the
 *    domain's devices.  Physical configuration: forward, the byte as the guest last
 *    invalidated it; eager/lazy/lazy-global, the same unless the guest wrote the
 *    byte since it was last read (then the old or any newer value is allowed);
 *    virtual, enabled.
 * 4. Pending and deliveries, per INTID.  "Pending as the guest sees it" is the
 *    engine's pending flag OR the physical model's pending flag of any physical LPI
 *    of that INTID.  Deliveries are the engine's injections of that INTID.  The
 *    pair must be one the architecture allows for the inputs so far: the model in
 *    struct mh_env follows every command and MSI; it is deterministic (and equal to
 *    the reference model's own pending and delivery count, which is checked too
 *    under forward and virtual) except under eager/lazy/lazy-global between a write
 *    to the LPI's property byte and the INV/INVALL that reads it: there an MSI or
 *    INT may find the old or any newly written enable in force, and a pending LPI
 *    may be delivered as soon as an enable is written (IHI 0069 5.1.2 and the
 *    Xen-devel thread: "between a write ... and the next associated INV/INVALL we
 *    are entitled either to continue using the old config ..., to immediately enact
 *    the change or anything in the middle"; each interrupt may see either).  Those
 *    policies let the physical side take the written byte before the INV, while the
 *    engine's virtual state keeps the old one, so both happen.  After a check the
 *    envelope collapses to what was observed, so later checks stay exact.
 *    Affinity: the vCPU an LPI is delivered to is not compared with the model's
 *    pending vCPU.  A physical LPI is resolved to a vCPU when it reaches the host
 *    (docs/semantics.md, "IMPDEF choice: MAPC and MOVALL do not move physical
 *    LPIs"), so after MAPC or MOVALL an LPI that was pending physically is delivered
 *    to the collection's current vCPU, where the architecture would keep it on the
 *    old redistributor.  The rule implemented: deliveries are counted per INTID, and
 *    every delivery must go to one of the domain's own vCPUs.
 * 5. Isolation (recorded as they happen): physical commands of a domain name only
 *    pdevids assigned to it; a physical LPI fired by a device of domain A is never
 *    handed to another domain; injections go only to the domain's vCPUs.
 * 6. Host: the physical model has no finding, did not stall and is empty; every
 *    physical command the engines accounted was queued (none lost).
 */
#include "multihost.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MH_PUMP_LIMIT 4000000u
#define MH_NO_OWNER_CHECK (-2)

/* ---- findings -------------------------------------------------------------------- */

static void mh_finding(struct multihost *mh, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void mh_finding(struct multihost *mh, const char *fmt, ...)
{
	if (mh->findings++ == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(mh->first_finding, sizeof(mh->first_finding), fmt, ap);
		va_end(ap);
	}
}

static int mh_fail(char *msg, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int mh_fail(char *msg, size_t len, const char *fmt, ...)
{
	if (msg && len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, len, fmt, ap);
		va_end(ap);
	}
	return 1;
}

/* ---- owners of physical devices ---------------------------------------------------- */

static int mh_owner(const struct multihost *mh, uint32_t pdevid)
{
	for (unsigned i = 0; i < mh->nowners; i++)
		if (mh->owners[i].pdevid == pdevid)
			return mh->owners[i].owner;
	return -1;
}

static void mh_set_owner(struct multihost *mh, uint32_t pdevid, int owner)
{
	for (unsigned i = 0; i < mh->nowners; i++) {
		if (mh->owners[i].pdevid == pdevid) {
			mh->owners[i].owner = owner;
			return;
		}
	}
	if (mh->nowners < MH_MAX_OWNERS) {
		mh->owners[mh->nowners].pdevid = pdevid;
		mh->owners[mh->nowners++].owner = owner;
	}
}

int64_t mh_pdevid(const struct mh_domain *d, uint32_t vdevid)
{
	for (unsigned i = 0; i < d->nassign; i++)
		if (d->assign[i].vdevid == vdevid)
			return d->assign[i].pdevid;
	return -1;
}

static bool mh_traps(const struct mh_domain *d)
{
	return d->policy == VITS_POLICY_EAGER || d->policy == VITS_POLICY_LAZY ||
	       d->policy == VITS_POLICY_LAZY_GLOBAL;
}

/* ---- the envelope of allowed (pending, deliveries) ------------------------------------ */

static void env_add(struct mh_env *e, unsigned p, uint32_t lo, uint32_t hi)
{
	if (e->poss & (1u << p)) {
		if (lo < e->lo[p])
			e->lo[p] = lo;
		if (hi > e->hi[p])
			e->hi[p] = hi;
	} else {
		e->poss |= (uint8_t)(1u << p);
		e->lo[p] = lo;
		e->hi[p] = hi;
	}
}

static void env_span(const struct mh_env *e, uint32_t *lo, uint32_t *hi)
{
	*lo = UINT32_MAX;
	*hi = 0;
	for (unsigned p = 0; p < 2; p++) {
		if (!(e->poss & (1u << p)))
			continue;
		if (e->lo[p] < *lo)
			*lo = e->lo[p];
		if (e->hi[p] > *hi)
			*hi = e->hi[p];
	}
}

/* Every possibility becomes "pending == p", with the same delivery counts. */
static void env_set_pending(struct mh_env *e, unsigned p)
{
	uint32_t lo, hi;
	env_span(e, &lo, &hi);
	e->poss = 0;
	env_add(e, p, lo, hi);
}

/* A pending LPI may (or must) be delivered now. */
static void env_deliver(struct mh_env *e, bool may, bool must)
{
	if (!may || !(e->poss & 2u))
		return;
	uint32_t lo = e->lo[1] + 1, hi = e->hi[1] + 1;
	if (must)
		e->poss &= (uint8_t)~2u;
	env_add(e, 0, lo, hi);
}

static struct mh_env *mh_env_of(struct mh_domain *d, uint64_t intid)
{
	if (intid < LPI_INTID_BASE || intid - LPI_INTID_BASE >= d->nr_lpis)
		return NULL;
	return &d->env[intid - LPI_INTID_BASE];
}

static bool mh_lpi_enabled(const struct mh_domain *d, uint32_t intid)
{
	struct ref_lpi l;
	return ref_query_lpi(d->ref, intid, &l) == 0 && (l.cfg & 1);
}

/* May / must a pending LPI be delivered now?  The configuration in force is the one
 * last read (en), or, under a policy that lets the physical side take written bytes
 * before the guest's INV (eager, lazy, lazy-global), any enable written since then
 * (the window: IHI 0069 5.1.2, "old or new, or anything in the middle"). */
static void mh_env_gate(const struct mh_domain *d, const struct mh_env *e, bool en, bool *may,
			bool *must)
{
	bool w = mh_traps(d);
	*may = en || (w && (e->window & 2));
	*must = en && !(w && (e->window & 1));
}

/* ---- intids touched by a command, before the model runs it ----------------------------- */

struct mh_ids {
	uint32_t *v;
	size_t n, cap;
	/* filter */
	int mode;            /* 0: by devid, 1: by icid */
	uint32_t key;
};

static void mh_ids_push(struct mh_ids *s, uint32_t x)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		uint32_t *n = realloc(s->v, ncap * sizeof(*n));
		if (!n)
			abort();
		s->v = n;
		s->cap = ncap;
	}
	s->v[s->n++] = x;
}

static int mh_ids_fn(void *arg, const struct ref_event *e)
{
	struct mh_ids *s = arg;
	if (s->mode == 0 && e->devid == s->key)
		mh_ids_push(s, e->intid);
	else if (s->mode == 1 && e->icid == s->key)
		mh_ids_push(s, e->intid);
	return 0;
}

static bool mh_has_devid(unsigned op)
{
	switch (op) {
	case ITS_OP_MAPD: case ITS_OP_MAPTI: case ITS_OP_MAPI: case ITS_OP_MOVI:
	case ITS_OP_DISCARD: case ITS_OP_INT: case ITS_OP_CLEAR: case ITS_OP_INV:
		return true;
	default:
		return false;
	}
}

/* ---- the command in flight ---------------------------------------------------------------- */

static struct mh_race_ent *race_push(struct mh_race *r, uint32_t eventid, uint32_t intid,
				     uint8_t kind)
{
	if (r->n == MH_RACE_MAX)
		return NULL;
	struct mh_race_ent *x = &r->ent[r->n++];
	x->eventid = eventid;
	x->intid = intid;
	x->kind = kind;
	return x;
}

/* An INV (or INVALL) re-reads intid's configuration: remember the world before it. */
static void race_push_inv(struct mh_domain *d, uint32_t eventid, uint32_t intid)
{
	const struct mh_env *e = mh_env_of(d, intid);
	struct mh_race_ent *x = e ? race_push(&d->race, eventid, intid, MH_RACE_INV) : NULL;
	if (x) {
		x->env0 = *e;
		x->en0 = mh_lpi_enabled(d, intid);
	}
}

struct race_coll {
	struct mh_domain *d;
	uint32_t icid;
};

static int race_coll_fn(void *arg, const struct ref_event *e)
{
	struct race_coll *k = arg;
	if (e->icid == k->icid)
		race_push_inv(k->d, e->eventid, e->intid);
	return 0;
}

static int race_dev_fn(void *arg, const struct ref_event *e)
{
	struct mh_race *r = arg;
	if (e->devid == r->devid)
		race_push(r, e->eventid, e->intid, MH_RACE_UNMAP);
	return 0;
}

/* Before the model runs c: what an MSI racing it could still meet of the old state.
 * MOVI changes only the target vCPU (the envelope counts per INTID), and collection
 * commands only matter under F_COLL-like workloads, which the envelope does not
 * model. */
static void race_capture(struct mh_domain *d, const struct its_cmd *c, uint32_t offset)
{
	struct mh_race *r = &d->race;
	unsigned op = (unsigned)its_cmd_get_opcode(c);
	uint64_t dev = its_cmd_get_devid(c), ev = its_cmd_get_eventid(c);
	struct ref_event re;

	r->active = false;      /* the engine only runs a command once the last completed */
	r->n = 0;
	r->offset = offset;
	if (op == ITS_OP_INVALL) {
		struct race_coll k = { d, (uint32_t)its_cmd_get_icid(c) };
		ref_foreach_event(d->ref, race_coll_fn, &k);
		return;
	}
	if (!mh_has_devid(op) || dev > UINT32_MAX)
		return;
	r->devid = (uint32_t)dev;
	switch (op) {
	case ITS_OP_MAPD:
		ref_foreach_event(d->ref, race_dev_fn, r);
		break;
	case ITS_OP_MAPTI:
	case ITS_OP_MAPI: {
		/* It maps the event, and reads the LPI's byte as an INV does (another
		 * event may hold the LPI pending; its physical INV may be in flight). */
		uint64_t intid = op == ITS_OP_MAPTI ? its_cmd_get_pintid(c) : ev;
		if (intid <= UINT32_MAX) {
			race_push(r, (uint32_t)ev, (uint32_t)intid, MH_RACE_MAP);
			race_push_inv(d, (uint32_t)ev, (uint32_t)intid);
		}
		break;
	}
	case ITS_OP_DISCARD:
	case ITS_OP_CLEAR:
		if (ev <= UINT32_MAX && ref_query_event(d->ref, r->devid, (uint32_t)ev, &re) == 0)
			race_push(r, (uint32_t)ev, re.intid,
				  op == ITS_OP_CLEAR ? MH_RACE_CLEAR : MH_RACE_UNMAP);
		break;
	case ITS_OP_INV:
		if (ev <= UINT32_MAX && ref_query_event(d->ref, r->devid, (uint32_t)ev, &re) == 0)
			race_push_inv(d, (uint32_t)ev, re.intid);
		break;
	default:
		break;
	}
}

/* The entry of the command in flight for (devid, eventid), or NULL. */
static const struct mh_race_ent *race_find(const struct mh_domain *d, uint32_t devid,
					   uint32_t eventid)
{
	const struct mh_race *r = &d->race;
	if (!r->active || r->devid != devid)
		return NULL;
	for (unsigned i = 0; i < r->n; i++)
		if (r->ent[i].eventid == eventid && r->ent[i].kind != MH_RACE_INV)
			return &r->ent[i];
	return NULL;
}

/* The entry of an INV or INVALL in flight that re-reads intid, or NULL. */
static struct mh_race_ent *race_inv_of(struct mh_domain *d, uint32_t intid)
{
	struct mh_race *r = &d->race;
	for (unsigned i = 0; r->active && i < r->n; i++)
		if (r->ent[i].kind == MH_RACE_INV && r->ent[i].intid == intid)
			return &r->ent[i];
	return NULL;
}

/* Does the command in flight clear the pending state of intid through another event
 * (pending state is per INTID: unmapping or clearing an alias clears it)? */
static bool race_clears_intid(const struct mh_domain *d, uint32_t intid)
{
	const struct mh_race *r = &d->race;
	for (unsigned i = 0; r->active && i < r->n; i++)
		if ((r->ent[i].kind == MH_RACE_UNMAP || r->ent[i].kind == MH_RACE_CLEAR) &&
		    r->ent[i].intid == intid)
			return true;
	return false;
}

/* e becomes "e or alt". */
static void env_union(struct mh_env *e, const struct mh_env *alt)
{
	for (unsigned p = 0; p < 2; p++)
		if (alt->poss & (1u << p))
			env_add(e, p, alt->lo[p], alt->hi[p]);
}

/* ---- the model follows the engine's commands ---------------------------------------------- */

static void mh_model_cmd(struct mh_domain *d, const struct its_cmd *c, uint8_t eng_why,
			 uint32_t offset)
{
	unsigned op = (unsigned)its_cmd_get_opcode(c);
	struct mh_ids ids = { 0 };
	struct ref_event re;

	if (eng_why == VITS_R_MEM_FAULT) {
		/* The slot itself could not be read: the model runs no queue. */
		return;
	}
	switch (op) {
	case ITS_OP_DISCARD:
	case ITS_OP_CLEAR:
	case ITS_OP_INV:
	case ITS_OP_INT:
		if (its_cmd_get_devid(c) <= UINT32_MAX && its_cmd_get_eventid(c) <= UINT32_MAX &&
		    ref_query_event(d->ref, (uint32_t)its_cmd_get_devid(c),
				    (uint32_t)its_cmd_get_eventid(c), &re) == 0)
			mh_ids_push(&ids, re.intid);
		break;
	case ITS_OP_MAPD:
		ids.mode = 0;
		ids.key = (uint32_t)its_cmd_get_devid(c);
		if (its_cmd_get_devid(c) <= UINT32_MAX)
			ref_foreach_event(d->ref, mh_ids_fn, &ids);
		break;
	case ITS_OP_INVALL:
		ids.mode = 1;
		ids.key = (uint32_t)its_cmd_get_icid(c);
		ref_foreach_event(d->ref, mh_ids_fn, &ids);
		break;
	case ITS_OP_MAPTI:
		mh_ids_push(&ids, (uint32_t)its_cmd_get_pintid(c));
		break;
	case ITS_OP_MAPI:
		mh_ids_push(&ids, (uint32_t)its_cmd_get_eventid(c));
		break;
	default:
		break;
	}

	race_capture(d, c, offset);
	enum vits_reason why = ref_cmd(d->ref, c);
	d->race.active = why == VITS_R_NONE && d->race.n != 0;
	if (why != (enum vits_reason)eng_why) {
		if (d->reason_mismatches++ == 0) {
			char cs[160];
			pits_format_cmd(c, cs, sizeof(cs));
			snprintf(d->first_mismatch, sizeof(d->first_mismatch),
				 "domain %u guest command #%" PRIu64 " %s: model %s, engine %s",
				 d->index, d->ev_cmds - 1, cs, ref_reason_name(why),
				 ref_reason_name((enum vits_reason)eng_why));
		}
	}
	if (why != VITS_R_NONE) {
		free(ids.v);
		return;
	}
	for (size_t i = 0; i < ids.n; i++) {
		struct mh_env *e = mh_env_of(d, ids.v[i]);
		if (!e)
			continue;
		bool en = mh_lpi_enabled(d, ids.v[i]);
		switch (op) {
		case ITS_OP_MAPTI:
		case ITS_OP_MAPI:
			/* Read at MAPTI: pending only through an alias, delivered if
			 * the byte enables it. */
			e->window = 0;
			env_deliver(e, en, en);
			break;
		case ITS_OP_INV:
		case ITS_OP_INVALL:
			e->window = 0;
			env_deliver(e, en, en);
			break;
		case ITS_OP_INT: {
			bool may, must;
			mh_env_gate(d, e, en, &may, &must);
			env_set_pending(e, 1);
			env_deliver(e, may, must);
			break;
		}
		default:                        /* CLEAR, DISCARD, MAPD */
			env_set_pending(e, 0);
			break;
		}
	}
	free(ids.v);
}

/* ---- trace ------------------------------------------------------------------------------ */

static void mh_trace(void *ctx, const struct vits_event *ev)
{
	struct mh_domain *d = ctx;
	struct multihost *mh = d->mh;

	switch (ev->type) {
	case VITS_EV_PHYS_CMD: {
		const struct its_cmd *c = &ev->u.phys.cmd;
		unsigned op = (unsigned)its_cmd_get_opcode(c);
		d->ev_phys++;
		pits_note_trace(mh->pits, ev);
		if (mh_has_devid(op)) {
			uint64_t pdev = its_cmd_get_devid(c);
			int owner = pdev <= UINT32_MAX ? mh_owner(mh, (uint32_t)pdev) : -1;
			if (owner != (int)d->index) {
				char cs[160];
				pits_format_cmd(c, cs, sizeof(cs));
				mh_finding(mh, "isolation: domain %u sent physical %s naming pdev "
					   "%#" PRIx64 ", assigned to %s%d", d->index, cs, pdev,
					   owner < 0 ? "no domain " : "domain ", owner);
			}
		}
		if (op == ITS_OP_MAPTI || op == ITS_OP_MAPI) {
			uint64_t p = op == ITS_OP_MAPTI ? its_cmd_get_pintid(c)
							: its_cmd_get_eventid(c);
			if (p >= LPI_INTID_BASE && p - LPI_INTID_BASE < mh->cfg.host.nr_plpis)
				d->plpi_used[p - LPI_INTID_BASE] = 1;
		}
		break;
	}
	case VITS_EV_CMD:
		d->ev_cmds++;
		mh_model_cmd(d, &ev->u.cmd.cmd, ev->u.cmd.reason, ev->u.cmd.offset);
		break;
	case VITS_EV_HOST_LPI:
		d->ev_host_lpis++;
		if (mh->expect_owner == MH_NO_OWNER_CHECK)
			mh_finding(mh, "domain %u: host LPI %u outside a physical delivery",
				   d->index, ev->u.host_lpi.plpi);
		mh->host_lpi_dom = d;
		break;
	case VITS_EV_CREADR:
		d->ev_creadr++;
		if (ev->u.creadr.creadr != d->race.offset)
			d->race.active = false;         /* it completed */
		break;
	default:
		break;
	}
	if (d->user_trace)
		d->user_trace(d->user_ctx, d, ev);
}

/* ---- physical deliveries --------------------------------------------------------------- */

static void mh_deliver(void *ctx, uint32_t plpi, uint32_t pcpu, uint32_t src_pdevid,
		       uint32_t src_eventid)
{
	struct multihost *mh = ctx;
	mh->plpi_deliveries++;
	mh->expect_owner = mh_owner(mh, src_pdevid);
	mh->host_lpi_dom = NULL;
	int rc = vits_host_plpi(mh->host, plpi);
	if (rc == VITS_R_NOT_ASSIGNED)
		mh->plpi_unowned++;
	if (mh->host_lpi_dom && (int)mh->host_lpi_dom->index != mh->expect_owner)
		mh_finding(mh, "isolation: physical LPI %u fired by pdev %#x event %#x "
			   "(domain %d) was handed to domain %u", plpi, src_pdevid,
			   src_eventid, mh->expect_owner, mh->host_lpi_dom->index);
	mh->expect_owner = MH_NO_OWNER_CHECK;
}

/* ---- lifetime -------------------------------------------------------------------------- */

void mh_config_default(struct mh_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	vits_host_config_default(&cfg->host);
	pits_config_default(&cfg->pits);
}

int mh_create(const struct mh_config *cfg, struct multihost **out)
{
	struct multihost *mh = calloc(1, sizeof(*mh));
	if (!mh)
		return VITS_E_NOMEM;
	mh->cfg = *cfg;
	mh->expect_owner = MH_NO_OWNER_CHECK;
	struct pits_config pc = cfg->pits;
	pits_config_from_host(&pc, &cfg->host);
	pc.deliver = mh_deliver;
	pc.ctx = mh;
	mh->pits = pits_create(&pc);
	if (!mh->pits) {
		free(mh);
		return VITS_E_INVAL;
	}
	struct vits_host_ops ops;
	pits_host_ops(&ops);
	int rc = vits_host_create(&mh->cfg.host, &ops, mh->pits, &mh->host);
	if (rc < 0) {
		pits_destroy(mh->pits);
		free(mh);
		return rc;
	}
	*out = mh;
	return 0;
}

static void mh_free_domain(struct mh_domain *d)
{
	if (d->h) {
		d->h->vits = NULL;      /* destroyed already (or never created) */
		harness_destroy(d->h);
	}
	ref_destroy(d->ref);
	free(d->env);
	free(d->injected);
	free(d->plpi_used);
	free(d->raced);
	free(d);
}

void mh_destroy(struct multihost *mh)
{
	if (!mh)
		return;
	for (unsigned i = 0; i < mh->ndom; i++) {
		struct mh_domain *d = mh->dom[i];
		for (unsigned k = 0; d->alive && k < MH_PUMP_LIMIT; k++) {
			if (mh_destroy_domain(d) == 0)
				break;
			if (pits_stalled(mh->pits))
				pits_skip_stalled(mh->pits);   /* make room whatever it costs */
			mh_phys_run(mh, UINT32_MAX);
		}
	}
	mh_phys_run(mh, UINT32_MAX);
	for (unsigned i = 0; i < mh->ndom; i++)
		mh_free_domain(mh->dom[i]);
	vits_host_destroy(mh->host);
	pits_destroy(mh->pits);
	free(mh);
}

int mh_add_domain(struct multihost *mh, const struct harness_config *hc,
		  struct mh_domain **out)
{
	if (mh->ndom >= MH_MAX_DOMAINS)
		return VITS_E_NOSPC;
	struct mh_domain *d = calloc(1, sizeof(*d));
	if (!d)
		return VITS_E_NOMEM;
	d->mh = mh;
	d->index = mh->ndom;
	struct harness_config c = *hc;
	c.with_host = false;
	c.attach_host = mh->host;
	if (c.vits.domain_id == 0)
		c.vits.domain_id = (uint16_t)d->index;  /* findings then name the index */
	d->policy = c.vits.policy;
	d->nr_lpis = ((uint32_t)1 << c.vits.intid_bits) - LPI_INTID_BASE;
	d->env = calloc(d->nr_lpis, sizeof(*d->env));
	d->injected = calloc(d->nr_lpis, sizeof(*d->injected));
	d->plpi_used = calloc(mh->cfg.host.nr_plpis, 1);
	d->raced = calloc(d->nr_lpis, 1);
	int rc = VITS_E_NOMEM;
	if (!d->env || !d->injected || !d->plpi_used || !d->raced)
		goto fail;
	for (uint32_t i = 0; i < d->nr_lpis; i++)
		d->env[i].poss = 1;     /* not pending, never delivered */
	rc = harness_create(&c, &d->h);
	if (rc < 0) {
		d->h = NULL;
		goto fail;
	}
	d->h->trace_fn = mh_trace;
	d->h->trace_ctx = d;
	struct ref_config rc2 = {
		.nr_vcpus = c.vits.nr_vcpus,
		.devid_bits = c.vits.devid_bits,
		.eventid_bits = c.vits.eventid_bits,
		.cid_bits = c.vits.cid_bits,
		.intid_bits = c.vits.intid_bits,
		.read_guest = harness_read_guest,
		.ram_check = harness_ram_check,
		.ctx = d->h,
	};
	d->ref = ref_create(&rc2);
	if (!d->ref) {
		rc = VITS_E_INVAL;
		goto fail;
	}
	d->alive = true;
	mh->dom[mh->ndom++] = d;
	*out = d;
	return 0;
fail:
	if (d->h && d->h->vits) {
		vits_destroy(d->h->vits);
		d->h->vits = NULL;
	}
	mh_free_domain(d);
	return rc;
}

int mh_guest_init(struct mh_domain *d, unsigned queue_pages, unsigned prop_id_bits)
{
	if (harness_guest_init(d->h, MH_QUEUE_GPA, queue_pages, MH_DEVTAB_GPA, 8, 4096, false,
			       MH_PROP_GPA, prop_id_bits))
		return -1;
	ref_set_device_table(d->ref, d->h->drv.baser0);
	ref_set_prop_table(d->ref, prop_id_bits ? MH_PROP_GPA : 0, prop_id_bits);
	ref_set_enabled(d->ref, true);
	return 0;
}

int mh_enable(struct mh_domain *d, bool enabled)
{
	if (harness_enable(d->h, enabled))
		return -1;
	ref_set_enabled(d->ref, enabled);
	return 0;
}

int mh_assign(struct mh_domain *d, uint32_t vdevid, uint32_t pdevid)
{
	if (d->nassign >= MH_MAX_ASSIGN)
		return VITS_E_NOSPC;
	int rc = vits_assign_device(d->h->vits, vdevid, pdevid);
	if (rc < 0)
		return rc;
	d->assign[d->nassign].vdevid = vdevid;
	d->assign[d->nassign++].pdevid = pdevid;
	mh_set_owner(d->mh, pdevid, (int)d->index);
	return 0;
}

int mh_unassign(struct mh_domain *d, uint32_t vdevid)
{
	int rc = vits_unassign_device(d->h->vits, vdevid);
	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < d->nassign; i++) {
		if (d->assign[i].vdevid == vdevid) {
			/* The pdevid keeps this owner until someone else gets it: teardown
			 * commands still waiting may name it. */
			d->assign[i] = d->assign[--d->nassign];
			break;
		}
	}
	return 0;
}

/* ---- inputs ------------------------------------------------------------------------------ */

int mh_submit(struct mh_domain *d, const struct its_cmd *cmds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned tries = 0;
		while (harness_queue_cmd(d->h, &cmds[i]) != 0) {
			/* Full: let the engine run (budget, physical queue) and retry. */
			if (harness_kick(d->h) || mh_quiesce(d->mh) || ++tries > 4)
				return -1;
		}
	}
	return harness_kick(d->h);
}

int mh_prop_write(struct mh_domain *d, uint32_t intid, uint8_t byte)
{
	if (harness_set_prop(d->h, intid, byte))
		return -1;
	struct mh_env *e = mh_env_of(d, intid);
	if (e) {
		e->window |= (byte & 1) ? 2u : 1u;
		/* The new enable may be picked up at once: a pending LPI may be
		 * delivered now. */
		bool may, must;
		mh_env_gate(d, e, mh_lpi_enabled(d, intid), &may, &must);
		env_deliver(e, may, false);
		/* An INV or INVALL in flight may read this byte rather than the one the
		 * model read when the engine ran it (a trapped write reaches the host
		 * table before the physical INV runs). */
		struct mh_race_ent *inv = race_inv_of(d, intid);
		if (inv) {
			struct mh_env alt = inv->env0;
			env_deliver(&alt, byte & 1, byte & 1);
			env_union(e, &alt);
			d->raced[intid - LPI_INTID_BASE] = 1;
		}
	}
	if (!d->alive)
		return 0;
	uint64_t gpa = d->h->drv.prop_gpa + (intid - LPI_INTID_BASE);
	return vits_prop_write(d->h->vits, gpa, 1, byte) < 0 ? -1 : 0;
}

/* The MSI of an event the command in flight unmaps (DISCARD, MAPD) or clears
 * (CLEAR), met before the command ran: from base, the LPI intid becomes pending,
 * may be delivered, and the command then clears it.  e becomes "e or that". */
static void mh_fire_before(struct mh_domain *d, struct mh_env *e, const struct mh_env *base,
			   uint32_t intid)
{
	struct mh_env alt = *base;
	bool may, must;
	mh_env_gate(d, &alt, mh_lpi_enabled(d, intid), &may, &must);
	env_set_pending(&alt, 1);
	env_deliver(&alt, may, false);
	env_set_pending(&alt, 0);
	env_union(e, &alt);
}

enum vits_reason mh_fire(struct mh_domain *d, uint32_t vdevid, uint32_t eventid)
{
	int64_t pdev = mh_pdevid(d, vdevid);
	const struct mh_race_ent *race = race_find(d, vdevid, eventid);
	struct mh_race_ent *inv;
	struct mh_env before;
	struct mh_env *re_env = NULL;
	uint32_t re_intid = 0;
	enum vits_reason why = ref_msi(d->ref, vdevid, eventid);
	if (why == VITS_R_NONE) {
		struct ref_event re;
		if (ref_query_event(d->ref, vdevid, eventid, &re) == 0) {
			struct mh_env *e = mh_env_of(d, re.intid);
			if (e) {
				re_intid = re.intid;
				bool may, must;
				before = *e;
				re_env = e;
				mh_env_gate(d, e, mh_lpi_enabled(d, re.intid), &may, &must);
				env_set_pending(e, 1);
				env_deliver(e, may, must);
			}
		}
	}
	if (race) {
		/* Above is the outcome in the state after the command in flight; the MSI
		 * may also have met the state before it. */
		struct mh_env *old = mh_env_of(d, race->intid);
		if (race->kind == MH_RACE_MAP && re_env)
			env_union(re_env, &before);     /* unmapped before: dropped */
		else if (race->kind == MH_RACE_CLEAR && re_env)
			mh_fire_before(d, re_env, &before, race->intid);
		else if (race->kind == MH_RACE_UNMAP && old)
			mh_fire_before(d, old, old, race->intid);
		if (old)
			d->raced[race->intid - LPI_INTID_BASE] = 1;
	} else if (re_env && race_clears_intid(d, re_intid)) {
		/* The command in flight unmaps or clears an alias of the LPI. */
		mh_fire_before(d, re_env, &before, re_intid);
		d->raced[re_intid - LPI_INTID_BASE] = 1;
	} else if (re_env && (inv = race_inv_of(d, re_intid)) != NULL) {
		/* An INV in flight: the MSI may come before it (in the world where it has
		 * not run, e.g. merging with the pending interrupt it delivers). */
		bool may, must;
		struct mh_env alt;
		mh_env_gate(d, &inv->env0, inv->en0, &may, &must);
		env_set_pending(&inv->env0, 1);
		env_deliver(&inv->env0, may, must);
		alt = inv->env0;
		bool en = mh_lpi_enabled(d, re_intid);
		env_deliver(&alt, en, en);              /* then the INV runs */
		env_union(re_env, &alt);
		d->raced[re_intid - LPI_INTID_BASE] = 1;
	}
	if (pdev >= 0)
		pits_msi(d->mh->pits, (uint32_t)pdev, eventid);
	else if (d->alive)
		vits_msi(d->h->vits, vdevid, eventid);
	return why;
}

/* ---- pumping ----------------------------------------------------------------------------- */

int mh_destroy_domain(struct mh_domain *d)
{
	if (!d->alive)
		return 0;
	int rc = vits_destroy(d->h->vits);
	if (rc == VITS_E_AGAIN) {
		d->destroying = true;
		return rc;
	}
	d->h->vits = NULL;
	d->alive = false;
	d->destroying = false;
	return rc;
}

unsigned mh_phys_run(struct multihost *mh, unsigned n)
{
	unsigned done = pits_process(mh->pits, n);
	if (done && mh->on_phys_progress)
		mh->on_phys_progress(mh->progress_ctx, mh);
	return done;
}

int mh_pump(struct multihost *mh, unsigned rate)
{
	bool more = false;
	for (unsigned i = 0; i < mh->ndom; i++) {
		struct mh_domain *d = mh->dom[i];
		if (!d->alive)
			continue;
		if (d->destroying) {
			if (mh_destroy_domain(d) == VITS_E_AGAIN)
				more = true;
			continue;
		}
		if (vits_work_pending(d->h->vits)) {
			vits_resume(d->h->vits);
			more = true;
		}
	}
	mh_phys_run(mh, rate);
	vits_host_poll(mh->host);       /* what the processed commands released */
	if (pits_stalled(mh->pits))
		return 0;
	if (pits_queued(mh->pits))
		more = true;
	for (unsigned i = 0; i < mh->ndom && !more; i++) {
		struct mh_domain *d = mh->dom[i];
		if (d->alive && (d->destroying || vits_work_pending(d->h->vits)))
			more = true;
	}
	return more ? 1 : 0;
}

int mh_quiesce(struct multihost *mh)
{
	for (unsigned k = 0; k < MH_PUMP_LIMIT; k++) {
		if (!mh_pump(mh, UINT32_MAX))
			return pits_stalled(mh->pits) ? -1 : 0;
	}
	return -1;
}

int mh_stats(const struct mh_domain *d, struct vits_stats *out)
{
	if (!d->alive) {
		memset(out, 0, sizeof(*out));
		return VITS_E_STATE;
	}
	return vits_get_stats(d->h->vits, out);
}

/* ---- oracles ------------------------------------------------------------------------------ */

struct mh_chk {
	struct mh_domain *d;
	char *msg;
	size_t len;
	uint8_t *phys_pending;      /* per INTID - 8192 */
	uint64_t *ref_delivered;    /* per INTID - 8192, since create */
	size_t count;
	int rc;
};

static int mh_chk_engine_device(void *arg, const struct vits_device_info *di)
{
	struct mh_chk *k = arg;
	struct ref_device rd;
	k->count++;
	if (ref_query_device(k->d->ref, di->devid, &rd))
		return mh_fail(k->msg, k->len, "domain %u device %#x: model has it unmapped, "
			       "engine mapped", k->d->index, di->devid);
	if (rd.event_bits != di->event_bits || rd.itt_addr != di->itt_addr)
		return mh_fail(k->msg, k->len, "domain %u device %#x: model event_bits %u itt "
			       "%#" PRIx64 ", engine %u %#" PRIx64, k->d->index, di->devid,
			       rd.event_bits, rd.itt_addr, di->event_bits, di->itt_addr);
	/* Events the engine maps and the model does not (bounded scan). */
	uint64_t n = (uint64_t)1 << di->event_bits;
	if (n > 4096)
		n = 4096;
	for (uint64_t e = 0; e < n; e++) {
		struct vits_event_info ei;
		struct ref_event re;
		if (vits_query_event(k->d->h->vits, di->devid, (uint32_t)e, &ei) != 0)
			continue;
		if (ref_query_event(k->d->ref, di->devid, (uint32_t)e, &re))
			return mh_fail(k->msg, k->len, "domain %u event (%#x, %#" PRIx64 "): "
				       "model unmapped, engine maps intid %u", k->d->index,
				       di->devid, e, ei.intid);
	}
	return 0;
}

static int mh_chk_model_event(void *arg, const struct ref_event *re)
{
	struct mh_chk *k = arg;
	struct mh_domain *d = k->d;
	struct multihost *mh = d->mh;
	struct vits_event_info ei;
	if (vits_query_event(d->h->vits, re->devid, re->eventid, &ei) != 0)
		return mh_fail(k->msg, k->len, "domain %u event (%#x, %#x): model maps intid %u, "
			       "engine has it unmapped", d->index, re->devid, re->eventid,
			       re->intid);
	if (ei.intid != re->intid || ei.icid != re->icid)
		return mh_fail(k->msg, k->len, "domain %u event (%#x, %#x): model intid %u icid "
			       "%u, engine intid %u icid %u", d->index, re->devid, re->eventid,
			       re->intid, re->icid, ei.intid, ei.icid);
	int64_t pdev = mh_pdevid(d, re->devid);
	if (pdev < 0)
		return 0;
	if (re->eventid >> (mh->cfg.host.peventid_bits - 1) >> 1)
		return 0;               /* beyond the physical ITT: virtual only */
	if (ei.plpi == 0)
		return mh_fail(k->msg, k->len, "domain %u event (%#x, %#x) of assigned pdev "
			       "%#" PRIx64 " has no physical LPI", d->index, re->devid,
			       re->eventid, pdev);
	uint32_t plpi = 0, pcpu = 0;
	if (pits_query_event(mh->pits, (uint32_t)pdev, re->eventid, &plpi, &pcpu) != 0 ||
	    plpi != ei.plpi)
		return mh_fail(k->msg, k->len, "domain %u event (%#x, %#x): engine maps pLPI %u "
			       "on pdev %#" PRIx64 ", physical ITS maps %s %u", d->index,
			       re->devid, re->eventid, ei.plpi, pdev,
			       plpi ? "pLPI" : "nothing", plpi);
	uint8_t pcfg = 0;
	struct ref_lpi rl;
	pits_lpi_cfg(mh->pits, plpi, &pcfg);
	ref_query_lpi(d->ref, re->intid, &rl);
	const struct mh_env *e = mh_env_of(d, re->intid);
	/* Virtual keeps every host LPI enabled; the other policies do so for an LPI two
	 * or more events of the domain map (its pending state lives in the engine). */
	bool want_enabled = d->policy == VITS_POLICY_VIRTUAL || rl.mapped > 1;
	bool want_equal = !want_enabled && (d->policy == VITS_POLICY_FORWARD ||
					    (mh_traps(d) && e && e->window == 0));
	if (want_enabled && !(pcfg & 1))
		return mh_fail(k->msg, k->len, "domain %u event (%#x, %#x) intid %u: %s, "
			       "physical LPI %u is disabled (cfg %#x)", d->index, re->devid,
			       re->eventid, re->intid,
			       d->policy == VITS_POLICY_VIRTUAL ? "virtual policy" : "aliased LPI",
			       plpi, pcfg);
	if (want_equal && pcfg != rl.cfg)
		return mh_fail(k->msg, k->len, "domain %u event (%#x, %#x) intid %u: guest "
			       "configuration as last invalidated %#x, physical LPI %u uses %#x",
			       d->index, re->devid, re->eventid, re->intid, rl.cfg, plpi, pcfg);
	if (pits_lpi_pending(mh->pits, plpi) == 1 && e)
		k->phys_pending[re->intid - LPI_INTID_BASE] = 1;
	return 0;
}

struct mh_pdev_count {
	uint32_t pdevid;
	size_t n;
};

static int mh_pdev_count_fn(void *arg, const struct ref_event *e)
{
	struct mh_pdev_count *c = arg;
	if (e->devid == c->pdevid)
		c->n++;
	return 0;
}

struct mh_vdev_count {
	uint32_t vdevid;
	uint8_t pbits;
	size_t n;
};

static int mh_vdev_count_fn(void *arg, const struct ref_event *e)
{
	struct mh_vdev_count *c = arg;
	if (e->devid == c->vdevid && !(e->eventid >> (c->pbits - 1) >> 1))
		c->n++;
	return 0;
}

static int mh_chk_lpi(void *arg, const struct ref_lpi *l)
{
	struct mh_chk *k = arg;
	struct mh_domain *d = k->d;
	struct mh_env *e = mh_env_of(d, l->intid);
	if (!e)
		return 0;
	uint32_t i = l->intid - LPI_INTID_BASE;
	struct vits_lpi_info li;
	if (vits_query_lpi(d->h->vits, l->intid, &li) != 0)
		return mh_fail(k->msg, k->len, "domain %u lpi %u: engine has no state",
			       d->index, l->intid);
	if (l->mapped && li.cfg != l->cfg)
		return mh_fail(k->msg, k->len, "domain %u lpi %u: configuration as last read: "
			       "model %#x, engine %#x", d->index, l->intid, l->cfg, li.cfg);
	unsigned pend = (li.pending || k->phys_pending[i]) ? 1 : 0;
	uint64_t got = d->injected[i];
	if (!(e->poss & (1u << pend)) || got < e->lo[pend] || got > e->hi[pend]) {
		char allowed[96] = "";
		size_t off = 0;
		for (unsigned p = 0; p < 2; p++)
			if (e->poss & (1u << p))
				off += (size_t)snprintf(allowed + off, sizeof(allowed) - off,
							"%s(pending %u, delivered %u..%u)",
							off ? " or " : "", p, e->lo[p], e->hi[p]);
		return mh_fail(k->msg, k->len, "domain %u lpi %u: allowed %s; got pending %u "
			       "(engine %u, physical %u), delivered %" PRIu64 " (%s)", d->index,
			       l->intid, allowed, pend, li.pending, k->phys_pending[i], got,
			       got < e->lo[pend] ? "a delivery was lost" :
			       got > e->hi[pend] ? "a delivery was invented" : "pending state");
	}
	if ((d->policy == VITS_POLICY_FORWARD || d->policy == VITS_POLICY_VIRTUAL) &&
	    !d->raced[i]) {
		/* Deterministic policies: the reference model's own choice, exactly. */
		if (pend != (l->pending ? 1u : 0u) || got != k->ref_delivered[i])
			return mh_fail(k->msg, k->len, "domain %u lpi %u: model pending %u "
				       "delivered %" PRIu64 ", got pending %u delivered %" PRIu64,
				       d->index, l->intid, l->pending, k->ref_delivered[i], pend,
				       got);
	}
	/* What was observed is what happened: keep the envelope exact from here.  A
	 * pending LPI stays deliverable whenever a setting the architecture still
	 * allows enables it (inside a configuration window the old setting may be in
	 * force at any moment, e.g. when an unassigned device's last pending LPI is
	 * handed over), so the next check also allows it delivered. */
	e->poss = 0;
	env_add(e, pend, (uint32_t)got, (uint32_t)got);
	if (pend) {
		bool may, must;
		mh_env_gate(d, e, (l->cfg & 1) != 0, &may, &must);
		env_deliver(e, may, false);
	}
	return 0;
}

static int mh_check_domain(struct multihost *mh, struct mh_domain *d, char *msg, size_t len)
{
	struct vits *v = d->h->vits;
	struct mh_chk k = { .d = d, .msg = msg, .len = len };
	int rc = 0;

	if (d->reason_mismatches)
		return mh_fail(msg, len, "%s", d->first_mismatch);
	if (vits_work_pending(v))
		return mh_fail(msg, len, "domain %u: not quiescent (engine work pending)",
			       d->index);

	/* Count new injections (isolation: own vCPUs only). */
	size_t ninj;
	const struct harness_inject *inj = harness_injects(d->h, &ninj);
	for (; d->inj_seen < ninj; d->inj_seen++) {
		const struct harness_inject *x = &inj[d->inj_seen];
		if (x->vcpu >= d->h->cfg.vits.nr_vcpus)
			return mh_fail(msg, len, "isolation: domain %u injected intid %u into "
				       "vcpu %u (it has %u)", d->index, x->intid, x->vcpu,
				       d->h->cfg.vits.nr_vcpus);
		if (x->intid < LPI_INTID_BASE || x->intid - LPI_INTID_BASE >= d->nr_lpis)
			return mh_fail(msg, len, "domain %u injected intid %u, not an LPI of it",
				       d->index, x->intid);
		d->injected[x->intid - LPI_INTID_BASE]++;
	}

	/* Mappings. */
	rc = vits_foreach_device(v, mh_chk_engine_device, &k);
	if (rc)
		return rc;
	if (k.count != ref_device_count(d->ref))
		return mh_fail(msg, len, "domain %u: model maps %zu devices, engine %zu",
			       d->index, ref_device_count(d->ref), k.count);
	unsigned ncoll = 1u << d->h->cfg.vits.cid_bits;
	for (uint32_t icid = 0; icid < ncoll; icid++) {
		uint32_t ev = 0, mv = 0;
		int erc = vits_query_collection(v, icid, &ev);
		int mrc = ref_query_collection(d->ref, icid, &mv);
		if ((erc == 0) != (mrc == 0) || (erc == 0 && ev != mv))
			return mh_fail(msg, len, "domain %u collection %u: model %s%u, engine %s%u",
				       d->index, icid, mrc ? "unmapped " : "vcpu ", mv,
				       erc ? "unmapped " : "vcpu ", ev);
	}
	k.phys_pending = calloc(d->nr_lpis, 1);
	k.ref_delivered = calloc(d->nr_lpis, sizeof(*k.ref_delivered));
	if (!k.phys_pending || !k.ref_delivered)
		abort();
	rc = ref_foreach_event(d->ref, mh_chk_model_event, &k);
	if (rc)
		goto out;

	/* The physical model maps exactly the domain's assigned, mapped devices. */
	for (unsigned a = 0; a < d->nassign; a++) {
		struct ref_device rd;
		bool vmapped = ref_query_device(d->ref, d->assign[a].vdevid, &rd) == 0;
		bool pmapped = pits_device_mapped(mh->pits, d->assign[a].pdevid) == 0;
		if (vmapped != pmapped) {
			rc = mh_fail(msg, len, "domain %u device %#x (pdev %#x): guest %s, physical "
				     "ITS %s", d->index, d->assign[a].vdevid, d->assign[a].pdevid,
				     vmapped ? "mapped" : "unmapped",
				     pmapped ? "mapped" : "unmapped");
			goto out;
		}
		struct mh_pdev_count pc = { .pdevid = d->assign[a].pdevid };
		struct mh_vdev_count vc = { .vdevid = d->assign[a].vdevid,
					    .pbits = mh->cfg.host.peventid_bits };
		ref_foreach_event(pits_ref(mh->pits), mh_pdev_count_fn, &pc);
		ref_foreach_event(d->ref, mh_vdev_count_fn, &vc);
		if (pc.n != vc.n) {
			rc = mh_fail(msg, len, "domain %u device %#x (pdev %#x): guest maps %zu "
				     "events, physical ITS %zu", d->index, d->assign[a].vdevid,
				     d->assign[a].pdevid, vc.n, pc.n);
			goto out;
		}
	}

	/* Pending and deliveries. */
	size_t nref;
	const struct ref_delivery *rdl = ref_deliveries(d->ref, &nref);
	for (size_t j = 0; j < nref; j++)
		if (rdl[j].intid - LPI_INTID_BASE < d->nr_lpis)
			k.ref_delivered[rdl[j].intid - LPI_INTID_BASE]++;
	rc = ref_foreach_lpi(d->ref, mh_chk_lpi, &k);
out:
	free(k.phys_pending);
	free(k.ref_delivered);
	return rc;
}

int mh_check(struct multihost *mh, char *msg, size_t len)
{
	if (msg && len)
		msg[0] = '\0';
	if (mh->findings)
		return mh_fail(msg, len, "%s (%" PRIu64 " findings)", mh->first_finding,
			       mh->findings);
	size_t nf;
	const struct pits_finding *f = pits_findings(mh->pits, &nf);
	if (nf) {
		char fs[400];
		pits_format_finding(&f[0], fs, sizeof(fs));
		return mh_fail(msg, len, "physical ITS: %s (%zu findings)", fs, nf);
	}
	if (pits_stalled(mh->pits))
		return mh_fail(msg, len, "physical ITS stalled");
	if (pits_queued(mh->pits))
		return mh_fail(msg, len, "not quiescent: %u physical commands queued",
			       pits_queued(mh->pits));
	struct vits_host_stats hs;
	vits_host_get_stats(mh->host, &hs);
	const struct pits_stats *ps = pits_get_stats(mh->pits);
	if (hs.phys_cmd_total != ps->accepted || ps->traced != ps->accepted)
		return mh_fail(msg, len, "physical commands: engines accounted %" PRIu64
			       ", queue accepted %" PRIu64 ", traced %" PRIu64,
			       hs.phys_cmd_total, ps->accepted, ps->traced);
	for (unsigned i = 0; i < mh->ndom; i++) {
		struct mh_domain *d = mh->dom[i];
		if (!d->alive)
			continue;
		int rc = mh_check_domain(mh, d, msg, len);
		if (rc)
			return rc;
	}
	return 0;
}

struct mh_clean {
	const struct mh_domain *d;
	const struct multihost *mh;
	char *msg;
	size_t len;
};

static int mh_clean_dev(void *arg, const struct ref_device *rd)
{
	struct mh_clean *c = arg;
	if (mh_owner(c->mh, rd->devid) == (int)c->d->index)
		return mh_fail(c->msg, c->len, "pdev %#x of destroyed domain %u still mapped in "
			       "the physical ITS", rd->devid, c->d->index);
	return 0;
}

static int mh_clean_lpi(void *arg, const struct ref_lpi *l)
{
	struct mh_clean *c = arg;
	uint32_t i = l->intid - LPI_INTID_BASE;
	if (i >= c->mh->cfg.host.nr_plpis || !c->d->plpi_used[i])
		return 0;
	if (l->mapped) {
		/* Reused by another domain: fine if that domain owns it now. */
		return 0;
	}
	if (l->pending)
		return mh_fail(c->msg, c->len, "pLPI %u of destroyed domain %u still pending "
			       "in the physical ITS", l->intid, c->d->index);
	if (pits_host_prop(c->mh->pits)[i] != 0)
		return mh_fail(c->msg, c->len, "pLPI %u of destroyed domain %u: host property "
			       "byte %#x not wiped", l->intid, c->d->index,
			       pits_host_prop(c->mh->pits)[i]);
	return 0;
}

int mh_check_clean(struct multihost *mh, const struct mh_domain *d, char *msg, size_t len)
{
	struct mh_clean c = { .d = d, .mh = mh, .msg = msg, .len = len };
	int rc = ref_foreach_device(pits_ref(mh->pits), mh_clean_dev, &c);
	if (!rc)
		rc = ref_foreach_lpi(pits_ref(mh->pits), mh_clean_lpi, &c);
	return rc;
}
