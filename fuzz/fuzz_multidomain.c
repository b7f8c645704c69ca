/*
 * fuzz_multidomain.c: libFuzzer target "multidomain" (docs/fuzzing.md).
 *
 * Several domains on one host, interleaved, on replay/harness/multihost.h: one
 * vits_host whose physical side is the physical ITS model (pits_model.h: a finite
 * queue that fills, executes commands like hardware, stalls and reports a finding on
 * any erroneous command), each domain a vITS with its own guest RAM, driver, vCPUs
 * and reference model.  The input is a program in the format of fuzz_prog.h (so the
 * structure-aware mutator and the dictionaries work unchanged); the operation kinds
 * are read as multi-domain operations (table below), each naming its domain.
 *
 * Oracles (the first failure is printed and abort()ed):
 *  - isolation, all the time (multihost.c records them as they happen): physical
 *    commands name only devices assigned to the domain that caused them; a physical
 *    LPI fired by a device of one domain is handed to no other; injections go only to
 *    the domain's own vCPUs (at each check);
 *  - the physical ITS model never sees an erroneous command (no stall), every physical
 *    command the engines accounted was queued and traced (none lost or altered);
 *  - per domain, every guest command's outcome equals its reference model's;
 *  - at check points (the "check" op, and the end of the input) after quiescing:
 *    mappings, configuration as last read, pending state and deliveries against the
 *    model (within what the architecture allows between a property write and its
 *    INV), and the physical mirror: each event of an assigned device mapped on the
 *    physical ITS with the configuration the guest last invalidated (forward, and
 *    eager/lazy/lazy-global once the guest's INV/INVALL re-read it: this is where a
 *    lazy-global INVALL of one domain that clears another domain's dirty bit without
 *    the physical ITS re-reading that LPI shows up), virtual: enabled;
 *  - teardown under traffic: a domain destroyed while the others run (vits_destroy
 *    answering VITS_E_AGAIN while the physical queue is full, continued by the pump)
 *    leaves no device, pending pLPI or host property byte of its own behind
 *    (mh_check_clean); at the end every domain is destroyed and the physical ITS must
 *    be empty: no device mapped, no pLPI in use, no host ITT allocated.
 *
 * Header (8 bytes): h0 domains (2..4), pCPUs, physical queue size; h1..h4 the
 * policy, budget and INVALL threshold of domain 0..3 (lazy-global is favoured);
 * h5 vCPUs per domain, SYNC squashing, physical EventID bits; h6 devices assigned at
 * start; h7 initial property bytes.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_prog.h"
#include "multihost.h"
#ifndef FUZZ_NO_TRACE
#include "itr_writer.h"
#include "replay.h"     /* rp_fingerprint_v1: the CHECKPOINTs of reproducer traces */
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fuzz_target_write_itr(const uint8_t *data, size_t size, const char *path);

#define MD_SLOTS 4u
#define MD_PDEV(slot, vdev) (0x10u + 4u * (slot) + (vdev))
#define MD_SHARED_PDEV(i) (0x40u + (i))
#define MD_NR_PLPIS 256u
#define MD_MAX_PDEV 0x80u

static const char *const md_op_names[FZ_OP_COUNT] = {
	[FZ_OP_CMD] = "cmd", [FZ_OP_RAWCMD] = "rawcmd", [FZ_OP_BURST] = "burst",
	[FZ_OP_KICK] = "kick", [FZ_OP_CWRITER] = "resume", [FZ_OP_CBASER] = "pump",
	[FZ_OP_CTLR] = "enable", [FZ_OP_BASER] = "pits-step", [FZ_OP_L1] = "check",
	[FZ_OP_PROP] = "prop", [FZ_OP_MSI] = "fire", [FZ_OP_RESUME] = "pump",
	[FZ_OP_DRAIN] = "pits-step", [FZ_OP_PROPTABLE] = "check", [FZ_OP_MMIO] = "fire",
	[FZ_OP_HOSTLPI] = "quiesce", [FZ_OP_ASSIGN] = "assign", [FZ_OP_RESET] = "destroy",
};

struct md_dcfg {
	struct harness_config hc;
	unsigned queue_pages;
};

struct md {
	const uint8_t *data;
	size_t size;
	struct multihost *mh;
	struct mh_domain *slot[MD_SLOTS];
	struct md_dcfg dcfg[MD_SLOTS];
	unsigned nslot;
	uint8_t assign0;
	uint8_t prop_init;
	bool failed;
	unsigned opi, op_kind;
	/* per pDeviceID: physical commands accepted when the last one naming it was */
	uint64_t pdev_last[MD_MAX_PDEV];
	/* unassignments answered VITS_E_AGAIN: the embedder repeats them */
	struct { struct mh_domain *d; uint32_t vdev; } unassign[16];
	bool disabled[MH_MAX_DOMAINS];   /* per domain index: GITS_CTLR.Enabled = 0 */
	unsigned nunassign;
#ifndef FUZZ_NO_TRACE
	struct itr_writer *itr;          /* the trace of this run (--itr, FUZZ_ITR_DIR) */
	uint64_t itr_ts;
	uint64_t noted_done[MD_SLOTS];   /* last "vits-phys-done" written per domain */
#endif
};

static void md_dump(struct md *m)
{
	size_t starts[FZ_MAX_OPS];
	size_t n = fuzz_split_ops(m->data, m->size, starts, FZ_MAX_OPS);
	fprintf(stderr, "  header:");
	for (unsigned i = 0; i < FZ_HDR_BYTES; i++)
		fprintf(stderr, " %02x", i < m->size ? m->data[i] : 0);
	fprintf(stderr, "  (%u domains, %u pCPUs, physical queue %u commands; policies",
		m->nslot, m->mh->cfg.host.nr_pcpus, pits_capacity(m->mh->pits));
	for (unsigned i = 0; i < m->nslot; i++)
		fprintf(stderr, " %s/K%u/b%u",
			vits_policy_name((enum vits_policy)m->dcfg[i].hc.vits.policy),
			m->dcfg[i].hc.vits.invall_threshold, m->dcfg[i].hc.vits.budget);
	fprintf(stderr, ")\n");
	size_t from = m->opi > 40 ? m->opi - 40 : 0;
	for (size_t i = from; i < n && i <= m->opi; i++) {
		unsigned k = m->data[starts[i]] % FZ_OP_COUNT;
		fprintf(stderr, "  op #%zu %-9s", i, md_op_names[k]);
		for (unsigned j = 0; j < fuzz_op_len(k) && j < 12; j++)
			fprintf(stderr, " %02x", starts[i] + 1 + j < m->size ? m->data[starts[i] + 1 + j] : 0);
		fprintf(stderr, "%s\n", i == m->opi ? "   <== failed here" : "");
	}
}

static void md_fail(struct md *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void md_retry_unassign(struct md *m);

static void md_fail(struct md *m, const char *fmt, ...)
{
	if (m->failed)
		return;
	m->failed = true;
	fprintf(stderr, "==== vits fuzz oracle failure (target multidomain, op #%u %s) ====\n",
		m->opi, md_op_names[m->op_kind]);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	md_dump(m);
	fflush(stderr);
	if (fuzz_get_abort())
		abort();
}

/* Findings recorded as they happen (isolation, the physical ITS, command outcomes). */
static void md_findings(struct md *m)
{
	struct multihost *mh = m->mh;
	if (mh->findings) {
		md_fail(m, "%s (%" PRIu64 " findings)", mh->first_finding, mh->findings);
		return;
	}
	size_t nf;
	const struct pits_finding *f = pits_findings(mh->pits, &nf);
	if (nf) {
		char fs[400];
		pits_format_finding(&f[0], fs, sizeof(fs));
		md_fail(m, "physical ITS: %s (%zu findings)", fs, nf);
		return;
	}
	for (unsigned i = 0; i < mh->ndom; i++)
		if (mh->dom[i]->reason_mismatches) {
			md_fail(m, "model: %s", mh->dom[i]->first_mismatch);
			return;
		}
}

/* Quiesce, then every oracle of multihost.c, and the clean check of every domain
 * already destroyed. */
static void md_check(struct md *m)
{
	if (m->failed)
		return;
	int q = mh_quiesce(m->mh);
	/* Unassignments in progress are finished first (each call may find the
	 * physical queue full again: the embedder calls again once it drained). */
	for (unsigned i = 0; i < 256 && q == 0 && m->nunassign; i++) {
		md_retry_unassign(m);
		q = mh_quiesce(m->mh);
	}
	if (q == 0 && m->nunassign) {
		md_fail(m, "unassign: vits_unassign_device still answers VITS_E_AGAIN after "
			"256 rounds of draining the physical queue (no progress)");
		return;
	}
	md_findings(m);
	if (m->failed)
		return;
	if (q) {
		md_fail(m, "quiesce: %s", pits_stalled(m->mh->pits) ? "the physical ITS stalled"
			: "work remains after the pump limit (no progress)");
		return;
	}
	char msg[512];
	if (mh_check(m->mh, msg, sizeof(msg))) {
		md_fail(m, "%s", msg);
		return;
	}
	for (unsigned i = 0; i < m->mh->ndom; i++) {
		struct mh_domain *d = m->mh->dom[i];
		if (d->alive)
			continue;
		if (mh_check_clean(m->mh, d, msg, sizeof(msg))) {
			md_fail(m, "teardown: %s", msg);
			return;
		}
	}
}

/* ---- decoding ------------------------------------------------------------------------ */

static void md_decode(struct md *m, const uint8_t *h, struct mh_config *mc)
{
	static const uint32_t qbytes[8] = { 64, 96, 128, 256, 1024, 65536, 64, 160 };
	static const uint8_t pol[8] = { VITS_POLICY_LAZY_GLOBAL, VITS_POLICY_LAZY_GLOBAL,
					VITS_POLICY_LAZY_GLOBAL, VITS_POLICY_LAZY,
					VITS_POLICY_EAGER, VITS_POLICY_FORWARD,
					VITS_POLICY_VIRTUAL, VITS_POLICY_LAZY_GLOBAL };
	static const uint32_t budgets[4] = { 0, 0, 1, 3 };
	static const uint32_t kth[4] = { 0, 1, 2, 8 };

	m->nslot = 2 + (h[0] & 1) + ((h[0] >> 1) & 1);
	mh_config_default(mc);
	mc->host.nr_pcpus = 1 + ((h[0] >> 2) & 3);
	mc->host.nr_plpis = MD_NR_PLPIS;
	mc->host.pdevid_bits = 16;
	mc->host.peventid_bits = (h[5] & 0x40) ? 2 : 8;
	mc->pits.queue_bytes = qbytes[(h[0] >> 4) & 7];
	mc->pits.skip_errors = false;
	for (unsigned i = 0; i < m->nslot; i++) {
		struct md_dcfg *dc = &m->dcfg[i];
		uint8_t b = h[1 + i];
		harness_config_default(&dc->hc);
		struct vits_config *vc = &dc->hc.vits;
		vc->nr_vcpus = 1 + ((h[5] >> (2 * (i & 1))) & 3);
		vc->devid_bits = 16;
		vc->eventid_bits = 8;
		vc->cid_bits = 2;
		vc->intid_bits = 14;
		vc->mem_cap = 8u << 20;
		vc->policy = pol[b & 7];
		vc->budget = budgets[(b >> 3) & 3];
		vc->invall_threshold = kth[(b >> 5) & 3];
		vc->sync_squash = (h[5] >> 4) & 1;
		vc->error_mode = (b >> 7) & 1;
		dc->queue_pages = 1;
	}
	m->assign0 = h[6];
	m->prop_init = h[7];
}

/* Every domain's events: which pDeviceIDs have physical commands still queued (an
 * MSI of such a device waits: see md_can_fire), and with -v the events. */
static void md_trace(void *ctx, struct mh_domain *d, const struct vits_event *ev)
{
	struct md *m = ctx;
	char cs[160];
#ifndef FUZZ_NO_TRACE
	if (m->itr)
		itr_writer_event(m->itr, m->itr_ts++, 0, 0, ev);
#endif
	if (ev->type == VITS_EV_PHYS_CMD) {
		uint64_t pdev = its_cmd_get_devid(&ev->u.phys.cmd);
		unsigned op = (unsigned)its_cmd_get_opcode(&ev->u.phys.cmd);
		if (op != ITS_OP_SYNC && op != ITS_OP_INVALL && op != ITS_OP_MOVALL &&
		    pdev < MD_MAX_PDEV)
			m->pdev_last[pdev] = pits_get_stats(m->mh->pits)->accepted;
	}
	if (!fuzz_get_verbose())
		return;
	switch (ev->type) {
	case VITS_EV_CMD:
		pits_format_cmd(&ev->u.cmd.cmd, cs, sizeof(cs));
		fprintf(stderr, "   d%u guest %s: %s\n", d->index, cs,
			vits_reason_name((enum vits_reason)ev->u.cmd.reason));
		break;
	case VITS_EV_PHYS_CMD:
		pits_format_cmd(&ev->u.phys.cmd, cs, sizeof(cs));
		fprintf(stderr, "   d%u phys %s (cause %u)\n", d->index, cs, ev->u.phys.cause);
		break;
	case VITS_EV_INJECT:
		fprintf(stderr, "   d%u inject vcpu %u intid %u\n", d->index, ev->u.inject.vcpu,
			ev->u.inject.intid);
		break;
	case VITS_EV_HOST_LPI:
		fprintf(stderr, "   d%u host LPI %u -> intid %u: %s\n", d->index,
			ev->u.host_lpi.plpi, ev->u.host_lpi.intid,
			vits_reason_name((enum vits_reason)ev->u.host_lpi.reason));
		break;
	case VITS_EV_MSI:
		fprintf(stderr, "   d%u msi dev %u ev %u: %s\n", d->index, ev->u.msi.devid,
			ev->u.msi.eventid, vits_reason_name((enum vits_reason)ev->u.msi.reason));
		break;
	default:
		break;
	}
}

/* A domain's vITS as Linux leaves it after boot: tables, queue, property table,
 * MAPC + SYNC per vCPU (collection i on vCPU i), devices assigned, and the first
 * LPIs' property bytes written before anything maps them. */
static int md_domain_up(struct md *m, unsigned s)
{
	struct mh_domain *d;
	int rc = mh_add_domain(m->mh, &m->dcfg[s].hc, &d);
	if (rc)
		return rc;
	m->slot[s] = d;
	d->user_trace = md_trace;
	d->user_ctx = m;
	if (mh_guest_init(d, m->dcfg[s].queue_pages, 14))
		return -1;
	for (unsigned i = 0; i < 16; i++) {
		uint8_t b = (uint8_t)(0xa0 | ((m->prop_init >> ((i + s) & 7)) & 1) | 2);
		harness_set_prop(d->h, LPI_INTID_BASE + i, b);
	}
	for (unsigned v = 0; v < 2; v++) {
		if (!((m->assign0 >> (2 * s + v)) & 1) && !(s == 0 && v == 0))
			continue;
		/* A pDeviceID another domain holds is refused (VITS_E_EXIST): fine. */
		mh_assign(d, v, MD_PDEV(s, v));
	}
	struct its_cmd boot[8];
	size_t n = 0;
	uint32_t nv = m->dcfg[s].hc.vits.nr_vcpus;
	for (uint32_t c = 0; c < 4 && c < nv; c++) {
		boot[n++] = its_mk_mapc(c, c, 1);
		boot[n++] = its_mk_sync(c);
	}
	mh_submit(d, boot, n);
	return 0;
}

/* ---- operations -------------------------------------------------------------------------- */

static struct mh_domain *md_dom(struct md *m, uint8_t b, bool live)
{
	struct mh_domain *d = m->slot[b % m->nslot];
	if (!d || !d->alive || (live && d->destroying))
		return NULL;
	return d;
}

static struct its_cmd md_build(const struct mh_domain *d, const uint8_t *p)
{
	static const uint8_t ops[16] = {
		ITS_OP_MAPD, ITS_OP_MAPC, ITS_OP_MAPTI, ITS_OP_MAPI, ITS_OP_MOVI, ITS_OP_DISCARD,
		ITS_OP_INT, ITS_OP_CLEAR, ITS_OP_INV, ITS_OP_INVALL, ITS_OP_SYNC, ITS_OP_MOVALL,
		ITS_OP_MAPTI, ITS_OP_INV, ITS_OP_INVALL, ITS_OP_SYNC,
	};
	unsigned op = ops[p[0] & 15];
	uint8_t a = p[1], b = p[2], c = p[3], e = p[4], fl = p[5];
	uint32_t nv = d->h->cfg.vits.nr_vcpus;
	uint32_t dev = a < 0xf0 ? (a & 3) : (a == 0xff ? 0x10000u : 4u + (a & 7));
	uint32_t ev = b < 0xf0 ? (b & 7) : (b == 0xff ? 0x100u : 8u + (b & 7));
	uint32_t intid = c < 0xf0 ? LPI_INTID_BASE + (c & 15)
			 : (c == 0xff ? LPI_INTID_BASE - 1 : LPI_INTID_BASE + 16 + (c & 7));
	uint32_t icid = e & 3;
	uint64_t rd = e < 0xf0 ? (e & 3) % nv : (e == 0xff ? nv : (e & 3));
	switch (op) {
	case ITS_OP_MAPD:
		return its_mk_mapd(dev, b < 0xf0 ? (b & 3) : 7u, MH_ITT_GPA(dev), !(fl & 1));
	case ITS_OP_MAPC:
		return its_mk_mapc(icid, rd, !(fl & 1));
	case ITS_OP_MAPTI:
		return its_mk_mapti(dev, ev, intid, icid);
	case ITS_OP_MAPI:
		return its_mk_mapi(dev, LPI_INTID_BASE + (b & 15), icid);
	case ITS_OP_MOVI:
		return its_mk_movi(dev, ev, icid);
	case ITS_OP_INVALL:
		return its_mk_invall(icid);
	case ITS_OP_SYNC:
		return its_mk_sync(rd);
	case ITS_OP_MOVALL:
		return its_mk_movall(rd, (c & 3) % nv);
	default:
		return its_mk_devev(op, dev, ev);
	}
}

/* Does an event of an assigned device use the collection? */
struct md_use {
	const struct mh_domain *d;
	uint64_t icid;
	bool assigned;
};

static int md_use_fn(void *arg, const struct ref_event *e)
{
	struct md_use *u = arg;
	if (e->icid == u->icid && mh_pdevid(u->d, e->devid) >= 0)
		u->assigned = true;
	return u->assigned;
}

/* Keep the guest away from the limits of passthrough (docs/policies.md), which the
 * oracle would report: MAPC V=0 of a collection that assigned events target.  An
 * interrupt the physical ITS holds pending for them is dropped when it reaches the
 * host, where the architecture keeps it pending on its redistributor
 * (unmapped_collection_lost).  The target sends a SYNC instead. */
static void md_no_limits(const struct mh_domain *d, struct its_cmd *c)
{
	unsigned op = (unsigned)its_cmd_get_opcode(c);
	if (op == ITS_OP_MAPC && !its_cmd_get_valid(c)) {
		struct md_use u = { d, its_cmd_get_icid(c), false };
		ref_foreach_event(d->ref, md_use_fn, &u);
		if (u.assigned)
			*c = its_mk_sync(0);
	}
}

/* A device of domain d may fire when what the physical ITS holds for it is what the
 * guest's completed commands say: the reference model takes an MSI at once, so an MSI
 * that overtakes a MAPTI still queued on the physical side (which a real ITS drops;
 * the guest's SYNC, not yet complete, is what would guarantee it) is not modelled.
 * Purely virtual devices always may. */
static bool md_can_fire(struct md *m, struct mh_domain *d, uint32_t vdev, uint32_t ev)
{
	int64_t pdev = mh_pdevid(d, vdev);
	if (pdev < 0)
		return true;
	/* The guest's ITS disabled: its MSIs are to be dropped, but an assigned device's
	 * goes to the physical ITS, which latches it pending while the guest has the LPI
	 * disabled, and delivers it after the guest re-enables both (reported, see
	 * docs/fuzzing.md "Findings"); not fired. */
	if (!d->alive || m->disabled[d->index])
		return false;
	/* Likewise when the event's collection is unmapped: the virtual ITS drops the
	 * MSI, the physical one latches it. */
	struct ref_event re;
	uint32_t vcpu;
	if (ref_query_event(d->ref, vdev, ev, &re) == 0 &&
	    ref_query_collection(d->ref, re.icid, &vcpu) != 0)
		return false;
	/* Being unassigned: the device is no longer the guest's to fire. */
	for (unsigned i = 0; i < m->nunassign; i++)
		if (m->unassign[i].d == d && m->unassign[i].vdev == vdev)
			return false;
	/* The device itself raises only EventIDs its physical ITT has (the engine keeps
	 * the guest's larger ones virtual only, docs/semantics.md). */
	if (ev >> (m->mh->cfg.host.peventid_bits - 1) >> 1)
		return false;
	return pdev >= MD_MAX_PDEV ||
	       pits_get_stats(m->mh->pits)->processed >= m->pdev_last[pdev];
}

struct md_pend {
	const struct ref *r;
	uint32_t vdev;
	bool any;
};

static int md_pend_fn(void *arg, const struct ref_event *e)
{
	struct md_pend *a = arg;
	struct ref_lpi l;
	if (e->devid == a->vdev && ref_query_lpi(a->r, e->intid, &l) == 0 && l.pending)
		a->any = true;
	return a->any;
}

/* Unassigning a device DISCARDs its physical events, and with them the pending state
 * the physical ITS holds for them (an LPI the guest has disabled stays pending there):
 * the guest, whose device stays mapped (purely virtual now), would lose it.  Nothing
 * in the API lets the engine read that state back, so the target unassigns only
 * devices with nothing pending (docs/fuzzing.md, "multidomain"). */
static bool md_can_unassign(const struct mh_domain *d, uint32_t vdev)
{
	struct md_pend a = { d->ref, vdev, false };
	ref_foreach_event(d->ref, md_pend_fn, &a);
	return !a.any;
}

/* The embedder repeats unassignments that found the physical queue full. */
static void md_unassign(struct md *m, struct mh_domain *d, uint32_t vdev, bool remember)
{
	int rc = mh_unassign(d, vdev);
	if (fuzz_get_verbose())
		fprintf(stderr, "   d%u unassign vdev %u: %s\n", d->index, vdev, vits_strerror(rc));
	if (rc != VITS_E_AGAIN || !remember)
		return;
	for (unsigned i = 0; i < m->nunassign; i++)
		if (m->unassign[i].d == d && m->unassign[i].vdev == vdev)
			return;
	if (m->nunassign < 16) {
		m->unassign[m->nunassign].d = d;
		m->unassign[m->nunassign++].vdev = vdev;
	}
}

static void md_retry_unassign(struct md *m)
{
	unsigned n = m->nunassign;
	m->nunassign = 0;
	for (unsigned i = 0; i < n; i++)
		if (m->unassign[i].d->alive && !m->unassign[i].d->destroying)
			md_unassign(m, m->unassign[i].d, m->unassign[i].vdev, true);
}

/* Debugging aid: FUZZ_TRACE_LPI=<domain>:<intid> prints that LPI's oracle envelope,
 * the model's view and the engine's after every operation. */
static void md_trace_lpi(const struct md *m)
{
	const char *s = getenv("FUZZ_TRACE_LPI");
	unsigned di, intid;
	if (!s || sscanf(s, "%u:%u", &di, &intid) != 2 || di >= m->mh->ndom)
		return;
	const struct mh_domain *d = m->mh->dom[di];
	if (intid < LPI_INTID_BASE || intid - LPI_INTID_BASE >= d->nr_lpis)
		return;
	const struct mh_env *e = &d->env[intid - LPI_INTID_BASE];
	struct ref_lpi rl = { 0 };
	struct vits_lpi_info li = { 0 };
	ref_query_lpi(d->ref, intid, &rl);
	if (d->alive)
		vits_query_lpi(d->h->vits, intid, &li);
	fprintf(stderr, "   [d%u lpi %u: poss %u lo %u/%u hi %u/%u window %u; model cfg %#x "
		"pending %u mapped %u; engine cfg %#x pending %u; race %s]\n", di, intid,
		e->poss, e->lo[0], e->lo[1], e->hi[0], e->hi[1], e->window, rl.cfg, rl.pending,
		rl.mapped, li.cfg, li.pending, d->race.active ? "active" : "-");
}

static void md_op(struct md *m, unsigned k, const uint8_t *p)
{
	struct mh_domain *d;
	struct its_cmd c;
	switch (k) {
	case FZ_OP_CMD:
		if (!(d = md_dom(m, p[6], true)))
			return;
		c = md_build(d, p);
		md_no_limits(d, &c);
		if (p[5] & 2)
			mh_submit(d, &c, 1);
		else if (harness_queue_cmd(d->h, &c))
			mh_submit(d, &c, 1);            /* queue full: kick and retry */
		break;
	case FZ_OP_RAWCMD:
		if (!(d = md_dom(m, p[31], true)))
			return;
		its_cmd_from_bytes(&c, p);
		md_no_limits(d, &c);
		mh_submit(d, &c, 1);
		break;
	case FZ_OP_BURST: {
		if (!(d = md_dom(m, p[0] >> 4, true)))
			return;
		struct its_cmd cs[16];
		unsigned n = 1 + (p[0] & 15);
		uint8_t t[7] = { p[1], p[2], p[2], p[2], p[2], 0, 0 };
		for (unsigned i = 0; i < n; i++) {
			t[2] = (uint8_t)(p[2] + i);
			cs[i] = md_build(d, t);
			md_no_limits(d, &cs[i]);
		}
		mh_submit(d, cs, n);
		break;
	}
	case FZ_OP_KICK:
		if ((d = md_dom(m, p[0], true)))
			harness_kick(d->h);
		break;
	case FZ_OP_CWRITER:
		if ((d = md_dom(m, p[0], true)))
			for (unsigned i = 0; i <= (p[1] & 3u); i++)
				vits_resume(d->h->vits);
		break;
	case FZ_OP_CTLR:
		if ((d = md_dom(m, p[0] >> 1, true))) {
			bool on = (p[0] & 1) || (p[0] & 0x40);    /* mostly enabled */
			if (mh_enable(d, on) == 0)
				m->disabled[d->index] = !on;
		}
		break;
	case FZ_OP_BASER:
	case FZ_OP_DRAIN:
		/* The physical ITS runs a few commands; the engines are not resumed. */
		mh_phys_run(m->mh, 1 + (p[0] & 7));
		break;
	case FZ_OP_CBASER:
	case FZ_OP_RESUME:
		/* One embedder pump step at a physical rate of 0..7 commands. */
		mh_pump(m->mh, p[0] & 7);
		break;
	case FZ_OP_HOSTLPI:
		if (mh_quiesce(m->mh) && !pits_stalled(m->mh->pits))
			md_fail(m, "quiesce: work remains after the pump limit (no progress)");
		break;
	case FZ_OP_L1:
	case FZ_OP_PROPTABLE:
		md_check(m);
		break;
	case FZ_OP_PROP:
		if ((d = md_dom(m, p[2], true)))
			mh_prop_write(d, LPI_INTID_BASE + (p[0] & 15), p[1]);
		break;
	case FZ_OP_MSI:
		/* A device raises an interrupt; the domain may be tearing down. */
		if ((d = md_dom(m, p[0] >> 4, false)) && md_can_fire(m, d, p[0] & 3, p[1] & 7))
			mh_fire(d, p[0] & 3, p[1] & 7);
		break;
	case FZ_OP_MMIO:
		if ((d = md_dom(m, p[0], false)) && md_can_fire(m, d, p[1] & 1, p[2] & 7))
			mh_fire(d, p[1] & 1, p[2] & 7);
		break;
	case FZ_OP_ASSIGN: {
		if (!(d = md_dom(m, p[0] >> 4, true)))
			return;
		uint32_t vdev = p[0] & 3;
		unsigned s = p[0] >> 4 & 3;
		s %= m->nslot;
		if (p[1] & 1) {
			if (md_can_unassign(d, vdev))
				md_unassign(m, d, vdev, true);   /* VITS_E_AGAIN: repeated later */
		}
		else
			mh_assign(d, vdev, (p[1] & 2) ? MD_SHARED_PDEV((p[1] >> 2) & 3)
						     : MD_PDEV(s, vdev));
		break;
	}
	case FZ_OP_RESET: {
		unsigned s = p[0] % m->nslot;
		d = m->slot[s];
		if (d && d->alive) {
			/* Teardown under traffic: may answer VITS_E_AGAIN with the physical
			 * queue full; the pump continues it while the others work.  Replay
			 * takes the note for a reset there (the engine drops its state at
			 * once, its teardown's records come as the queue drains). */
#ifndef FUZZ_NO_TRACE
			if (m->itr && !d->destroying)
				itr_writer_note(m->itr, m->itr_ts++, d->h->cfg.vits.domain_id,
						"vits-reset");
#endif
			mh_destroy_domain(d);
		} else if (m->mh->ndom < MH_MAX_DOMAINS && (p[0] & 0x80)) {
			/* A new domain in the slot; it may get the old one's devices. */
			if (md_domain_up(m, s))
				md_fail(m, "setup: a new domain in slot %u failed", s);
		}
		break;
	}
	default:
		break;
	}
}

/* ---- one input ------------------------------------------------------------------------------ */

/* Every domain destroyed (the physical queue drained as needed): the physical ITS
 * must be empty. */
static void md_teardown_all(struct md *m)
{
	struct multihost *mh = m->mh;
	for (unsigned k = 0; k < 100000 && !m->failed; k++) {
		bool any = false;
		for (unsigned i = 0; i < mh->ndom; i++) {
			struct mh_domain *d = mh->dom[i];
			if (d->alive && mh_destroy_domain(d) == VITS_E_AGAIN)
				any = true;
		}
		if (!any)
			break;
		mh_pump(mh, UINT32_MAX);
		if (pits_stalled(mh->pits))
			break;
	}
	if (mh_quiesce(mh))
		md_findings(m);
	md_findings(m);
	if (m->failed)
		return;
	char msg[512];
	for (unsigned i = 0; i < mh->ndom; i++) {
		if (mh->dom[i]->alive) {
			md_fail(m, "teardown: domain %u still alive after its teardown", i);
			return;
		}
		if (mh_check_clean(mh, mh->dom[i], msg, sizeof(msg))) {
			md_fail(m, "teardown: %s", msg);
			return;
		}
	}
	const struct ref *pr = pits_ref(mh->pits);
	struct vits_host_stats hs;
	vits_host_get_stats(mh->host, &hs);
	if (ref_device_count(pr) || ref_event_count(pr))
		md_fail(m, "teardown: the physical ITS still maps %zu devices and %zu events "
			"after every domain was destroyed", ref_device_count(pr), ref_event_count(pr));
	else if (hs.plpis_in_use || pits_itt_live(mh->pits))
		md_fail(m, "teardown: %" PRIu64 " pLPIs in use and %" PRIu64 " host ITTs "
			"allocated after every domain was destroyed", hs.plpis_in_use,
			pits_itt_live(mh->pits));
	else if (pits_queued(mh->pits))
		md_fail(m, "teardown: %u physical commands left queued", pits_queued(mh->pits));
}

#ifndef FUZZ_NO_TRACE
/*
 * One trace for every domain (each record names its domain): the header lists the
 * domains and takes domain 0's geometry and policy; a "vits-config" NOTE per domain
 * carries its knobs and the shared host's geometry (docs/trace-format.md).  Replay
 * takes one domain at a time (its-trace replay --domain D) against a host of its own,
 * comparing physical names up to renaming; the other domains' share of the physical
 * queue and of the physical LPIs is not replayed (docs/fuzzing.md).
 */
static void md_itr_open(struct md *m, const struct mh_config *mc, const char *path)
{
	struct itr_domain doms[MD_SLOTS];
	for (unsigned s = 0; s < m->nslot; s++) {
		doms[s].id = (uint16_t)s;
		doms[s].flags = 0;
		doms[s].nr_vcpus = m->dcfg[s].hc.vits.nr_vcpus;
	}
	const struct vits_config *v0 = &m->dcfg[0].hc.vits;
	struct itr_header hd;
	fuzz_itr_header(&hd, v0, 1, "multidomain");
	hd.nr_vcpus = 0;                /* per domain, in the domain list */
	hd.nr_domains = (uint16_t)m->nslot;
	hd.domains = doms;
	if (itr_writer_open(path, &hd, &m->itr)) {
		m->itr = NULL;
		return;
	}
	uint32_t physq = mc->pits.queue_bytes / 32 - 1;
	for (unsigned s = 0; s < m->nslot; s++) {
		const struct vits_config *vc = &m->dcfg[s].hc.vits;
		char note[256], extra[96];
		snprintf(extra, sizeof(extra), "policy=%u budget=%u errmode=%u physdone=1",
			 vc->policy, vc->budget, vc->error_mode);
		fuzz_config_note(note, sizeof(note), vc, &mc->host, physq, extra);
		itr_writer_note(m->itr, m->itr_ts++, (uint16_t)s, note);
	}
}

/* The physical ITS ran commands: each domain whose completed count changed gets a
 * "vits-phys-done N" NOTE (N of its physical commands have run), before any engine
 * call can see it; replay answers the engine's phys_done from it. */
static void md_phys_progress(void *ctx, struct multihost *mh)
{
	struct md *m = ctx;
	for (unsigned s = 0; m->itr && s < m->nslot; s++) {
		uint64_t n = pits_done_by_domain(mh->pits, (uint16_t)s);
		if (n == m->noted_done[s])
			continue;
		char note[64];
		snprintf(note, sizeof(note), "vits-phys-done %" PRIu64, n);
		itr_writer_note(m->itr, m->itr_ts++, (uint16_t)s, note);
		m->noted_done[s] = n;
	}
}

/* After every op, each live domain's engine fingerprint (a CHECKPOINT replay --domain
 * compares), so a failure seen only through the query API shows in replay too.  Not
 * while the domain is being destroyed (vits_destroy answered VITS_E_AGAIN: the
 * recorded engine has dropped its state, replay does so when the teardown's records
 * end), nor for a domain that took the slot (and the domain ID) of a destroyed one. */
static bool md_reborn(const struct md *m, unsigned i)
{
	for (unsigned j = 0; j < i; j++)
		if (m->mh->dom[j]->h->cfg.vits.domain_id == m->mh->dom[i]->h->cfg.vits.domain_id)
			return true;
	return false;
}

static void md_checkpoints(struct md *m)
{
	for (unsigned i = 0; m->itr && i < m->mh->ndom; i++) {
		const struct mh_domain *d = m->mh->dom[i];
		uint8_t fp[RP_FP_V1_LEN];
		if (d->alive && !d->destroying && !md_reborn(m, i) &&
		    rp_fingerprint_v1(d->h->vits, fp, sizeof(fp)) > 0)
			itr_writer_checkpoint(m->itr, m->itr_ts++, d->h->cfg.vits.domain_id, 0,
					      m->opi, ITR_FP_VITS_V1, fp, sizeof(fp));
	}
}
#endif

static int md_run(const uint8_t *data, size_t size, const char *itr_path)
{
	struct md m;
	memset(&m, 0, sizeof(m));
	m.data = data;
	m.size = size;
	uint8_t h[FZ_HDR_BYTES] = { 0 };
	memcpy(h, data, size < FZ_HDR_BYTES ? size : FZ_HDR_BYTES);
	struct mh_config mc;
	md_decode(&m, h, &mc);
#ifndef FUZZ_NO_TRACE
	if (itr_path)
		md_itr_open(&m, &mc, itr_path);
#else
	(void)itr_path;
#endif
	if (mh_create(&mc, &m.mh)) {
		fprintf(stderr, "multidomain: mh_create failed\n");
		abort();
	}
#ifndef FUZZ_NO_TRACE
	m.mh->on_phys_progress = md_phys_progress;
	m.mh->progress_ctx = &m;
#endif
	for (unsigned s = 0; s < m.nslot; s++)
		if (md_domain_up(&m, s)) {
			fprintf(stderr, "multidomain: domain setup failed\n");
			abort();
		}
	md_findings(&m);

	size_t starts[FZ_MAX_OPS];
	size_t n = fuzz_split_ops(data, size, starts, FZ_MAX_OPS);
	for (size_t i = 0; i < n && !m.failed; i++) {
		uint8_t payload[32] = { 0 };
		unsigned k = data[starts[i]] % FZ_OP_COUNT, len = fuzz_op_len(k);
		size_t avail = size - starts[i] - 1;
		memcpy(payload, data + starts[i] + 1, avail < len ? avail : len);
		m.opi = (unsigned)i;
		m.op_kind = k;
		if (fuzz_get_verbose())
			fprintf(stderr, "op #%zu %s\n", i, md_op_names[k]);
		md_op(&m, k, payload);
		md_findings(&m);
		md_trace_lpi(&m);
#ifndef FUZZ_NO_TRACE
		md_checkpoints(&m);
#endif
	}
	m.op_kind = FZ_OP_L1;
	md_check(&m);
	if (!m.failed)
		md_teardown_all(&m);
	int rc = m.failed ? 1 : 0;
	mh_destroy(m.mh);
#ifndef FUZZ_NO_TRACE
	if (m.itr)
		itr_writer_close(m.itr);
#endif
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* With FUZZ_ITR_DIR (campaigns) a failing input is run again, recording, and
	 * its trace saved there before the abort. */
	const char *dir = getenv("FUZZ_ITR_DIR");
	int saved = fuzz_get_abort();
	if (dir)
		fuzz_set_abort(0);
	int rc = md_run(data, size, NULL);
	fuzz_set_abort(saved);
	char path[4096];
	if (rc && fuzz_itr_path(path, sizeof(path), "multidomain", data, size) == 0) {
		fuzz_set_abort(0);
		md_run(data, size, path);
		fuzz_set_abort(saved);
		fprintf(stderr, "fuzz: reproducer trace written to %s\n", path);
		if (saved)
			abort();
	}
	fuzz_set_failed(rc);
	return 0;
}

/* The standalone driver's --itr: the trace of running this input. */
int fuzz_target_write_itr(const uint8_t *data, size_t size, const char *path)
{
#ifndef FUZZ_NO_TRACE
	int saved = fuzz_get_abort();
	fuzz_set_abort(0);
	md_run(data, size, path);
	fuzz_set_abort(saved);
	return 0;
#else
	(void)data, (void)size, (void)path;
	return -1;
#endif
}
