/*
 * rp_phys.c: the physical side of a replay: what the engine's vits_host talks to.
 *
 * Two physical ITSs, same interface:
 * - the pits_model of the harness (when built; RP_HAVE_PITS): a physical ITS with a
 *   finite queue that executes commands, fills, stalls on an erroneous command and
 *   delivers physical LPIs as its own state says;
 * - a built-in sink: counts commands in a finite (or unlimited) queue, keeps the host
 *   property table, and delivers a device's MSI as a physical LPI when the host byte
 *   of its pLPI has Enable set.
 * Either way physical LPIs reach the engine through vits_host_plpi(), between engine
 * calls, so spurious host LPIs (virtual policy) are counted by the engine itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_internal.h"
#ifdef RP_HAVE_PITS
#include "pits_model.h"
#endif

struct rp_phys {
	struct rp_session *s;
	struct vits_host_config hc;
	uint32_t rate;
	struct vits_host *host;         /* set at the first pump/msi */
#ifdef RP_HAVE_PITS
	struct pits_model *pits;
#endif
	/* built-in sink */
	uint64_t capacity;              /* commands that may wait; 0 unlimited */
	uint64_t queued;
	uint8_t *host_prop;             /* nr_plpis */
	uint8_t *pending;               /* nr_plpis: physically pending, not delivered */
	uint64_t *owner;                /* nr_plpis: pdevid << 32 | eventid + 1, 0 none */
	struct rp_map ev_plpi;          /* pdevid << 32 | eventid -> pLPI */
	bool track;                     /* hold physical pending state (whatif only) */
	bool recheck;                   /* an INV/INVALL ran: deliver what is now enabled */
	uint64_t itt_next;
	/* The recording's host reported completion (vits-config physdone=1): phys_done
	 * answers what the trace's "vits-phys-done" notes say (rp_phys_set_done). */
	uint64_t done;
};

#ifdef RP_HAVE_PITS
static void pits_deliver(void *ctx, uint32_t plpi, uint32_t pcpu, uint32_t src_pdevid,
			 uint32_t src_eventid)
{
	struct rp_phys *p = ctx;
	if (p->host)
		vits_host_plpi(p->host, plpi);
}
#endif

struct rp_phys *rp_phys_create(struct rp_session *s, const struct vits_host_config *hc,
			       uint32_t queue_bytes, uint32_t rate)
{
	struct rp_phys *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->s = s;
	p->hc = *hc;
	p->rate = rate;
	p->track = s->o.mode == RP_MODE_INPUTS;
	p->itt_next = 0x8000000000ull;
#ifdef RP_HAVE_PITS
	if (queue_bytes) {
		struct pits_config pc;
		pits_config_from_host(&pc, hc);
		pc.queue_bytes = queue_bytes;
		pc.skip_errors = true;          /* report, and keep going */
		pc.deliver = pits_deliver;
		pc.ctx = p;
		p->pits = pits_create(&pc);
		if (!p->pits) {
			free(p);
			return NULL;
		}
		return p;
	}
#endif
	if (queue_bytes)
		p->capacity = queue_bytes / ITS_CMD_BYTES - 1;
	size_t np = hc->nr_plpis ? hc->nr_plpis : 1;
	p->host_prop = calloc(np, 1);
	p->pending = calloc(np, 1);
	p->owner = calloc(np, sizeof(*p->owner));
	if (!p->host_prop || !p->pending || !p->owner) {
		rp_phys_destroy(p);
		return NULL;
	}
	return p;
}

void rp_phys_destroy(struct rp_phys *p)
{
	if (!p)
		return;
#ifdef RP_HAVE_PITS
	if (p->pits)
		pits_destroy(p->pits);
#endif
	free(p->host_prop);
	free(p->pending);
	free(p->owner);
	rp_map_free(&p->ev_plpi);
	free(p);
}

int rp_phys_is_model(const struct rp_phys *p)
{
#ifdef RP_HAVE_PITS
	return p && p->pits;
#else
	(void)p;
	return 0;
#endif
}

/* ---- built-in sink ops ----------------------------------------------------------------- */

static void *sk_alloc(void *ctx, size_t size)
{
	return calloc(1, size);
}

static void sk_free(void *ctx, void *ptr, size_t size)
{
	free(ptr);
}

static int sk_phys_cmd(void *ctx, const struct its_cmd *cmd)
{
	struct rp_phys *p = ctx;
	if (p->capacity && p->queued >= p->capacity)
		return VITS_E_AGAIN;
	/* The recording's physical queue was bounded and drained at moments the trace
	 * does not hold: it had room exactly when a physical command comes next. */
	if (p->s->phys_follows_trace && !rp_next_is_phys(p->s))
		return VITS_E_AGAIN;
	p->queued++;
	if (!p->track)
		return 0;
	/* The little the sink must know to hold physical pending state: which event owns
	 * a pLPI, what unmaps it, and when configuration is re-read. */
	unsigned op = (unsigned)its_cmd_get_opcode(cmd);
	uint64_t key = its_cmd_get_devid(cmd) << 32 | its_cmd_get_eventid(cmd);
	switch (op) {
	case ITS_OP_MAPTI: {
		uint64_t l = its_cmd_get_pintid(cmd);
		if (l >= LPI_INTID_BASE && l - LPI_INTID_BASE < p->hc.nr_plpis) {
			p->owner[l - LPI_INTID_BASE] = key + 1;
			rp_map_put(&p->ev_plpi, key, l);
		}
		break;
	}
	case ITS_OP_DISCARD: {
		uint64_t l;
		if (rp_map_get(&p->ev_plpi, key, &l)) {
			rp_map_del(&p->ev_plpi, key);
			if (p->owner[l - LPI_INTID_BASE] == key + 1) {
				p->owner[l - LPI_INTID_BASE] = 0;
				p->pending[l - LPI_INTID_BASE] = 0;
			}
		}
		break;
	}
	case ITS_OP_MAPD:
		for (uint32_t i = 0; !its_cmd_get_valid(cmd) && i < p->hc.nr_plpis; i++) {
			if (!p->owner[i])
				continue;
			if ((p->owner[i] - 1) >> 32 == key >> 32 && !its_cmd_get_valid(cmd)) {
				rp_map_del(&p->ev_plpi, p->owner[i] - 1);
				p->owner[i] = 0;
				p->pending[i] = 0;
			}
		}
		break;
	case ITS_OP_INV:
	case ITS_OP_INVALL:
		p->recheck = true;
		break;
	default:
		break;
	}
	return 0;
}

/* Fake host ITT addresses, as the harness hands them out (distinct, 256-aligned). */
static int sk_itt_alloc(void *ctx, uint32_t pdevid, uint64_t bytes, uint64_t *pa)
{
	struct rp_phys *p = ctx;
	uint64_t sz = (bytes + 255) & ~(uint64_t)255;
	*pa = p->itt_next;
	p->itt_next += sz ? sz : 256;
	return 0;
}

static void sk_itt_free(void *ctx, uint32_t pdevid, uint64_t pa, uint64_t bytes)
{
}

static uint64_t sk_phys_done(void *ctx)
{
	const struct rp_phys *p = ctx;
	return p->done;
}

void rp_phys_set_done(struct rp_phys *p, uint64_t done)
{
	p->done = done;
}

static void sk_prop_write(void *ctx, uint32_t plpi, uint8_t cfg)
{
	struct rp_phys *p = ctx;
	if (plpi >= LPI_INTID_BASE && plpi - LPI_INTID_BASE < p->hc.nr_plpis)
		p->host_prop[plpi - LPI_INTID_BASE] = cfg;
}

void rp_phys_host_ops(struct rp_phys *p, struct vits_host_ops *ops)
{
#ifdef RP_HAVE_PITS
	if (p->pits) {
		pits_host_ops(ops);
		return;
	}
#endif
	memset(ops, 0, sizeof(*ops));
	ops->sz = sizeof(*ops);
	ops->alloc = sk_alloc;
	ops->free = sk_free;
	ops->phys_cmd = sk_phys_cmd;
	ops->itt_alloc = sk_itt_alloc;
	ops->itt_free = sk_itt_free;
	ops->prop_write = sk_prop_write;
	if (p->s->tcfg.physdone)
		ops->phys_done = sk_phys_done;
}

/* The ctx the host ops expect. */
void *rp_phys_host_ctx(struct rp_phys *p)
{
#ifdef RP_HAVE_PITS
	if (p->pits)
		return p->pits;
#endif
	return p;
}

static void run_queue(struct rp_phys *p)
{
#ifdef RP_HAVE_PITS
	if (p->pits) {
		if (p->rate)
			pits_process(p->pits, p->rate);
		else
			pits_drain(p->pits);
		if (pits_stalled(p->pits))
			pits_skip_stalled(p->pits);
		return;
	}
#endif
	if (p->rate && p->queued > p->rate)
		p->queued -= p->rate;
	else
		p->queued = 0;
	if (p->recheck && p->host) {
		/* Configuration re-read: physical LPIs pending and now enabled fire. */
		p->recheck = false;
		for (uint32_t i = 0; i < p->hc.nr_plpis; i++) {
			if (p->pending[i] && (p->host_prop[i] & 1)) {
				p->pending[i] = 0;
				vits_host_plpi(p->host, LPI_INTID_BASE + i);
			}
		}
	}
}

int rp_phys_plpi_pending(const struct rp_phys *p, uint32_t plpi)
{
#ifdef RP_HAVE_PITS
	if (p->pits)
		return pits_lpi_pending(p->pits, plpi) == 1;
#endif
	if (plpi < LPI_INTID_BASE || plpi - LPI_INTID_BASE >= p->hc.nr_plpis)
		return 0;
	return p->pending[plpi - LPI_INTID_BASE];
}

void rp_phys_pump(struct rp_phys *p, struct vits *v, struct vits_host *host)
{
	if (!p)
		return;
	p->host = host;
	for (unsigned i = 0; i < 1u << 20; i++) {
		run_queue(p);
		if (!v || !vits_work_pending(v))
			break;
		vits_resume(v);
	}
}

void rp_phys_msi(struct rp_phys *p, struct vits_host *host, uint32_t pdevid, uint32_t eventid)
{
	p->host = host;
#ifdef RP_HAVE_PITS
	if (p->pits) {
		pits_msi(p->pits, pdevid, eventid);
		return;
	}
#endif
	(void)pdevid;
	(void)eventid;
}

/* Built-in sink: the MSI of (vdevid, eventid) of v, an assigned device, as a physical
 * LPI: delivered to the host when the host byte of its pLPI is enabled. */
void rp_phys_msi_sink(struct rp_phys *p, struct vits *v, struct vits_host *host,
		      uint32_t vdevid, uint32_t eventid)
{
	struct vits_event_info e;
	if (vits_query_event(v, vdevid, eventid, &e) || e.plpi < LPI_INTID_BASE ||
	    e.plpi - LPI_INTID_BASE >= p->hc.nr_plpis)
		return;
	p->host = host;
	if (p->host_prop[e.plpi - LPI_INTID_BASE] & 1)
		vits_host_plpi(host, e.plpi);
	else
		p->pending[e.plpi - LPI_INTID_BASE] = 1;   /* held by the physical ITS */
}

void rp_phys_note_trace(struct rp_phys *p, const struct vits_event *ev)
{
#ifdef RP_HAVE_PITS
	if (p->pits)
		pits_note_trace(p->pits, ev);
#endif
}

uint64_t rp_phys_findings(const struct rp_phys *p, char *first, size_t n)
{
	if (n)
		first[0] = 0;
#ifdef RP_HAVE_PITS
	if (p->pits) {
		size_t nf;
		const struct pits_finding *f = pits_findings(p->pits, &nf);
		if (nf && n)
			pits_format_finding(&f[0], first, n);
		return nf;
	}
#endif
	return 0;
}
