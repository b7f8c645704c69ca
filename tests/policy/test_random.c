/*
 * test_random.c: every policy against the reference model on the same seeded,
 * randomised sequences of guest commands, trapped property writes and device MSIs,
 * two domains on one host, the physical ITS model strict.  Equivalence is what
 * multihost.c's mh_check says (DESIGN.md "What the oracles check"), at quiescent
 * points during and at the end of each sequence.
 *
 * A sequence's inputs depend only on the seed and on guest-visible state (the
 * reference model's), never on the policy, so each policy sees the same inputs.
 * Per sequence the knobs vary too: per-trap budget, INVALL-to-INV threshold K, SYNC
 * squashing, physical queue size (64 KiB, 15 slots, 3 slots) and the physical ITS's
 * speed (commands executed per pump step).
 *
 * Usage: policy_random [seed [sequences [first [flags [policy]]]]]
 *   flags: 1 shared LPIs (two events mapping one INTID; with 64 also when one of them
 *            is an assigned device's), 2 GITS_CTLR.Enabled toggles,
 *          4 MSIs while physical commands are still queued (not at quiescence),
 *          8 collections unmapped under assigned events: MAPC V=0, and MSIs of
 *            assigned devices whose event's collection is unmapped,
 *          16 INT of events of assigned devices,
 *          32 a lagging physical ITS: guest commands go in batches and the physical
 *             model runs only `rate` commands per pump step, so guest commands
 *             complete while earlier physical commands are still queued.  Without
 *             it, every guest command is kicked alone and followed by quiescence
 *             (the physical ITS keeps up; its queue still fills inside one command,
 *             e.g. a MAPD V=0 of 8 events into a 3-slot queue).
 *          64 (with 1) aliases across pending sources: an INTID mapped by an assigned
 *             device's event and another event keeps pending state in two places
 *             (a physical LPI and the engine's), which the engine merges by clearing
 *             the physical one when it delivers its own (docs/policies.md,
 *             aliased_pending_not_merged).
 *   Flags 1, 4, 16, 32 and 64 (and their combinations) found engine bugs, now fixed,
 *   and pass; 2 and 8 trigger the limits of passthrough in docs/policies.md.
 * On a failure it prints the seed, the sequence, the policy and the operations that
 * led there; rerun with that seed, 1 sequence, that first sequence.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ptest.h"

#define F_SHARED 1u
#define F_TOGGLE 2u
#define F_RACE   4u
#define F_COLL   8u
#define F_INT    16u
#define F_LAG    32u
#define F_SHARED_PHYS 64u

#define NDOM   2
#define NLPI   24
#define NVDEV  4
#define LOG_N  400

struct rlog {
	char line[LOG_N][112];
	unsigned n;
};

static void rlog(struct rlog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rlog(struct rlog *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->line[l->n % LOG_N], sizeof(l->line[0]), fmt, ap);
	va_end(ap);
	l->n++;
}

static void rlog_print(const struct rlog *l)
{
	unsigned first = l->n > LOG_N ? l->n - LOG_N : 0;
	for (unsigned i = first; i < l->n; i++)
		printf("    %4u %s\n", i, l->line[i % LOG_N]);
}

/* Per policy, over every run: the cost table of docs/policies.md. */
static struct {
	uint64_t guest, phys, global, sync, host_lpis, spurious;
} pc[VITS_POLICY_COUNT];

/* What the runs exercised, summed over every run (printed at the end). */
static struct {
	uint64_t injections, host_lpis, spurious, phys, phys_full, pits_refused;
	uint64_t msis, window_msis, phys_pending_msis, max_depth;
} cov;

struct knobs {
	uint32_t budget, k, pits_bytes, rate;
	uint8_t squash;
};

/* Pick a mapped event of d (from the model) or a random one. */
struct pick {
	struct ref_event ev[64];
	unsigned n;
};

static int pick_fn(void *arg, const struct ref_event *e)
{
	struct pick *p = arg;
	if (p->n < 64)
		p->ev[p->n++] = *e;
	return 0;
}

static void some_event(struct pt_rng *r, const struct mh_domain *d, uint32_t *dev, uint32_t *ev)
{
	struct pick p = { .n = 0 };
	ref_foreach_event(d->ref, pick_fn, &p);
	if (p.n && pt_chance(r, 85)) {
		const struct ref_event *e = &p.ev[pt_below(r, p.n)];
		*dev = e->devid;
		*ev = e->eventid;
	} else {
		*dev = (uint32_t)pt_below(r, NVDEV);
		*ev = (uint32_t)pt_below(r, 8);
	}
}

struct assigned_map {
	const struct mh_domain *d;
	uint32_t intid;
	bool found;
};

static int assigned_map_fn(void *arg, const struct ref_event *e)
{
	struct assigned_map *a = arg;
	if (e->intid == a->intid && mh_pdevid(a->d, e->devid) >= 0)
		a->found = true;
	return 0;
}

/* Would mapping intid to an event of dev give it pending state in two places: an
 * assigned device's physical LPI and another event's (F_SHARED_PHYS)? */
static bool alias_crosses(const struct mh_domain *d, uint32_t intid, uint32_t dev,
			  uint32_t taken)
{
	struct ref_lpi l;
	if ((taken >> (intid - PT_LPI(0))) & 1)
		return true;            /* mapped earlier in this batch: unknown device */
	if (ref_query_lpi(d->ref, intid, &l) != 0 || l.mapped == 0)
		return false;
	if (mh_pdevid(d, dev) >= 0)
		return true;
	struct assigned_map a = { d, intid, false };
	ref_foreach_event(d->ref, assigned_map_fn, &a);
	return a.found;
}

/* An LPI no event maps (the model's view, and none picked earlier in this batch,
 * which the model has not run yet: *taken); with F_SHARED, 30% of the time any LPI
 * (an alias), but only one whose aliases all stay virtual unless F_SHARED_PHYS. */
static uint32_t free_lpi(struct pt_rng *r, const struct mh_domain *d, unsigned flags,
			 uint32_t dev, uint32_t *taken)
{
	uint32_t start = (uint32_t)pt_below(r, NLPI);
	if ((flags & F_SHARED) && pt_chance(r, 30) &&
	    ((flags & F_SHARED_PHYS) || !alias_crosses(d, PT_LPI(start), dev, *taken)))
		return PT_LPI(start);
	for (uint32_t k = 0; k < NLPI; k++) {
		uint32_t n = (start + k) % NLPI;
		struct ref_lpi l;
		if ((*taken >> n) & 1)
			continue;
		if (ref_query_lpi(d->ref, PT_LPI(n), &l) != 0 || l.mapped == 0) {
			*taken |= 1u << n;
			return PT_LPI(n);
		}
	}
	return 0;       /* every LPI mapped: no MAPTI */
}

static struct its_cmd gen_cmd(struct pt_rng *r, const struct mh_domain *d, unsigned flags,
			      bool *skip, uint32_t *taken)
{
	uint32_t dev, ev;
	unsigned x = (unsigned)pt_below(r, 100);
	*skip = false;
	if (x < 9)
		return pt_mapd((uint32_t)pt_below(r, NVDEV), 1 + (unsigned)pt_below(r, 4));
	if (x < 12)
		return pt_unmapd((uint32_t)pt_below(r, NVDEV));
	if (x < 17) {
		uint32_t icid = (uint32_t)pt_below(r, 4);
		uint64_t rd = pt_below(r, 4);
		bool v = pt_chance(r, 90) || !(flags & F_COLL);   /* V=0: see F_COLL */
		return its_mk_mapc(icid, rd, v);
	}
	if (x < 37) {
		dev = (uint32_t)pt_below(r, NVDEV);
		ev = (uint32_t)pt_below(r, 8);
		uint32_t intid = free_lpi(r, d, flags, dev, taken);
		if (!intid) {
			*skip = true;
			return its_mk_sync(0);
		}
		return its_mk_mapti(dev, ev, intid, (uint32_t)pt_below(r, 4));
	}
	if (x < 38)
		return its_mk_mapi((uint32_t)pt_below(r, NVDEV), (uint32_t)pt_below(r, 8), 0);
	some_event(r, d, &dev, &ev);
	if (x < 46)
		return its_mk_movi(dev, ev, (uint32_t)pt_below(r, 4));
	if (x < 54)
		return its_mk_devev(ITS_OP_DISCARD, dev, ev);
	if (x < 61) {
		if (!(flags & F_INT) && dev < 2)
			*skip = true;   /* assigned device (see F_INT) */
		return its_mk_devev(ITS_OP_INT, dev, ev);
	}
	if (x < 66)
		return its_mk_devev(ITS_OP_CLEAR, dev, ev);
	if (x < 81)
		return its_mk_devev(ITS_OP_INV, dev, ev);
	if (x < 88)
		return its_mk_invall((uint32_t)pt_below(r, 4));
	if (x < 98)
		return its_mk_sync(pt_below(r, 3));
	return its_mk_movall(pt_below(r, 3), pt_below(r, 3));
}

/* One sequence under policy p.  0 pass, 1 fail (printed). */
static int run_sequence(uint64_t seed, uint64_t seq, uint8_t p, unsigned flags, unsigned nops,
			uint64_t *checks)
{
	struct pt_rng r;
	pt_rng_seed(&r, seed ^ (seq * 0x9e3779b97f4a7c15ull));
	struct knobs kn;
	static const uint32_t budgets[] = { 0, 0, 2, 5 };
	static const uint32_t qbytes[] = { 0, 512, 128 };
	static const uint32_t rates[] = { UINT32_MAX, 1, 4 };
	kn.budget = budgets[pt_below(&r, 4)];
	kn.k = (uint32_t)pt_below(&r, 4);
	kn.squash = (uint8_t)pt_below(&r, 2);
	kn.pits_bytes = qbytes[pt_below(&r, 3)];
	kn.rate = rates[pt_below(&r, 3)];

	struct pt_opts o;
	pt_opts_default(&o);
	pt_opts_policy(&o, p);
	o.ndom = NDOM;
	o.nr_vcpus = 3;
	o.nr_pcpus = 2;
	o.nr_plpis = 256;
	o.devid_bits = 4;
	o.eventid_bits = 3;
	o.cid_bits = 2;
	o.queue_pages = 1;
	o.budget = kn.budget;
	o.invall_threshold = kn.k;
	o.sync_squash = kn.squash;
	o.pits_queue_bytes = kn.pits_bytes;
	struct multihost *mh = pt_world(&o);
	if (!mh)
		return 1;
	static struct rlog log;
	log.n = 0;
	rlog(&log, "knobs: budget %u K %u squash %u pits %u B rate %u", kn.budget, kn.k,
	     kn.squash, kn.pits_bytes, kn.rate);
	for (unsigned i = 0; i < NDOM; i++) {
		struct mh_domain *d = pt_dom(mh, i);
		for (uint32_t v = 0; v < 2; v++)
			mh_assign(d, v, 0x10 * (i + 1) + v);
		for (uint32_t l = 0; l < NLPI; l++)
			mh_prop_write(d, PT_LPI(l), pt_chance(&r, 50) ? LPI_ON : LPI_OFF);
		struct its_cmd c[3] = { its_mk_mapc(0, 0, 1), its_mk_mapc(1, 1, 1),
					its_mk_mapc(2, 2, 1) };
		mh_submit(d, c, 3);
		/* A populated start: every device mapped with 8 events, 3 of them mapped
		 * (12 of the 24 LPIs), on collections 0..2. */
		for (uint32_t v = 0; v < NVDEV; v++) {
			struct its_cmd m[5] = { pt_mapd(v, 3) };
			for (uint32_t e = 0; e < 3; e++)
				m[1 + e] = its_mk_mapti(v, e, PT_LPI(v * 3 + e), (v + e) % 3);
			m[4] = its_mk_sync(0);
			mh_submit(d, m, 5);
		}
	}
	mh_quiesce(mh);

	int fail = 0;
	char msg[768];
	uint32_t taken[NDOM] = { 0 };
	/* Debugging aid: PT_TRACE_LPI=<domain>:<intid> logs that LPI's envelope after
	 * every operation. */
	const char *tl = getenv("PT_TRACE_LPI");
	unsigned tdom = 0, tint = 0;
	if (tl && sscanf(tl, "%u:%u", &tdom, &tint) != 2)
		tl = NULL;
	/* PT_TRACE_EVENT=<domain>:<devid>:<eventid> logs the engine's and the physical
	 * ITS's view of that event after every operation. */
	const char *te = getenv("PT_TRACE_EVENT");
	unsigned tedom = 0, tedev = 0, teev = 0;
	if (te && (sscanf(te, "%u:%u:%u", &tedom, &tedev, &teev) != 3 || tedom >= NDOM))
		te = NULL;
	for (unsigned op = 0; op < nops && !fail; op++) {
		if (tl && tdom < NDOM && tint >= LPI_INTID_BASE) {
			const struct mh_env *e = &pt_dom(mh, tdom)->env[tint - LPI_INTID_BASE];
			struct ref_lpi rl = { 0 };
			ref_query_lpi(pt_dom(mh, tdom)->ref, tint, &rl);
			rlog(&log, "  [lpi %u: poss %u lo %u/%u hi %u/%u window %u; model cfg %#x "
			     "pending %u mapped %u]", tint, e->poss, e->lo[0], e->lo[1], e->hi[0],
			     e->hi[1], e->window, rl.cfg, rl.pending, rl.mapped);
		}
		if (te) {
			struct vits *tv = pt_dom(mh, tedom)->h->vits;
			struct vits_event_info ei;
			struct vits_lpi_info li;
			if (tv && vits_query_event(tv, tedev, teev, &ei) == 0 &&
			    vits_query_lpi(tv, ei.intid, &li) == 0)
				rlog(&log, "  [event %u:%u: intid %u pending %u; plpi %u pending %d]",
				     tedev, teev, ei.intid, li.pending, ei.plpi,
				     ei.plpi ? pits_lpi_pending(mh->pits, ei.plpi) : -1);
			else
				rlog(&log, "  [event %u:%u: unmapped]", tedev, teev);
		}
		struct mh_domain *d = pt_dom(mh, (unsigned)pt_below(&r, NDOM));
		unsigned x = (unsigned)pt_below(&r, 100);
		if (x < 45) {
			unsigned n = 1 + (unsigned)pt_below(&r, 4);
			/* LPIs named by MAPTIs the engine has not run yet (the model
			 * has not seen them): none once the guest queue is drained. */
			struct vits_queue_info qi;
			if (d->alive && vits_query_queue(d->h->vits, &qi) == 0 &&
			    qi.creadr == qi.cwriter && !vits_work_pending(d->h->vits))
				taken[d->index] = 0;
			for (unsigned k = 0; k < n; k++) {
				bool skip;
				struct its_cmd c = gen_cmd(&r, d, flags, &skip, &taken[d->index]);
				if (skip)
					continue;
				char cs[160];
				pits_format_cmd(&c, cs, sizeof(cs));
				rlog(&log, "dom %u cmd %s", d->index, cs);
				if (harness_queue_cmd(d->h, &c) != 0) {
					/* Guest queue full: let it drain first. */
					harness_kick(d->h);
					mh_quiesce(mh);
					harness_queue_cmd(d->h, &c);
				}
				if (!(flags & F_LAG)) {
					harness_kick(d->h);
					mh_quiesce(mh);
				}
			}
			harness_kick(d->h);
			mh_pump(mh, kn.rate);
		} else if (x < 65) {
			uint32_t intid = PT_LPI(pt_below(&r, NLPI));
			uint8_t b = pt_chance(&r, 50) ? LPI_ON : LPI_OFF;
			if (pt_chance(&r, 10))
				b = (uint8_t)((pt_below(&r, 64) << 2) | 2 | (b & 1));
			rlog(&log, "dom %u prop write intid %u := %#x", d->index, intid, b);
			mh_prop_write(d, intid, b);
			if (!(flags & F_LAG))
				mh_quiesce(mh);         /* the physical ITS keeps up */
		} else if (x < 85) {
			uint32_t dev, ev;
			some_event(&r, d, &dev, &ev);
			struct ref_event re;
			uint32_t vc;
			if (!(flags & F_RACE))
				mh_quiesce(mh);
			/* After the quiescence: the MAPTI that maps it may run there. */
			if (!(flags & F_COLL) && mh_pdevid(d, dev) >= 0 &&
			    ref_query_event(d->ref, dev, ev, &re) == 0 &&
			    ref_query_collection(d->ref, re.icid, &vc) != 0) {
				rlog(&log, "dom %u MSI dev %u ev %u skipped (collection unmapped)",
				     d->index, dev, ev);
				continue;
			}
			cov.msis++;
			if (ref_query_event(d->ref, dev, ev, &re) == 0 &&
			    d->env[re.intid - LPI_INTID_BASE].window)
				cov.window_msis++;
			enum vits_reason why = mh_fire(d, dev, ev);
			if (mh_pdevid(d, dev) >= 0 && ref_query_event(d->ref, dev, ev, &re) == 0) {
				struct vits_event_info ei;
				if (vits_query_event(d->h->vits, dev, ev, &ei) == 0 && ei.plpi &&
				    pits_lpi_pending(mh->pits, ei.plpi) == 1)
					cov.phys_pending_msis++;
			}
			rlog(&log, "dom %u MSI dev %u ev %u -> %s", d->index, dev, ev,
			     ref_reason_name(why));
		} else if (x < 93) {
			unsigned k = 1 + (unsigned)pt_below(&r, 3);
			rlog(&log, "pump x%u", k);
			for (unsigned i = 0; i < k; i++)
				mh_pump(mh, kn.rate);
		} else if (x < 95 && (flags & F_TOGGLE)) {
			bool en = pt_chance(&r, 50);
			rlog(&log, "dom %u GITS_CTLR.Enabled := %d", d->index, en);
			mh_enable(d, en);
		} else {
			rlog(&log, "check");
			(*checks)++;
			if (mh_quiesce(mh) != 0 || mh_check(mh, msg, sizeof(msg)) != 0)
				fail = 1;
		}
	}
	if (!fail) {
		for (unsigned i = 0; i < NDOM; i++)
			mh_enable(pt_dom(mh, i), true);
		rlog(&log, "final check");
		(*checks)++;
		if (mh_quiesce(mh) != 0 || mh_check(mh, msg, sizeof(msg)) != 0)
			fail = 1;
	}
	for (unsigned i = 0; i < NDOM; i++) {
		struct vits_stats vs;
		if (mh_stats(pt_dom(mh, i), &vs) == 0) {
			cov.injections += vs.injections;
			pc[p].guest += vs.guest_cmd_total;
		}
	}
	/* Teardown from wherever the sequence left things: domain 0 first while
	 * domain 1 lives on, then domain 1; the physical ITS must end clean. */
	for (unsigned i = 0; i < NDOM && !fail; i++) {
		struct mh_domain *d = pt_dom(mh, i);
		rlog(&log, "destroy domain %u", i);
		for (unsigned k = 0; k < 100000 && mh_destroy_domain(d) == VITS_E_AGAIN; k++)
			mh_pump(mh, kn.rate);
		(*checks)++;
		if (d->alive)
			snprintf(msg, sizeof(msg), "domain %u: teardown did not finish", i), fail = 1;
		else if (mh_quiesce(mh) != 0 || mh_check(mh, msg, sizeof(msg)) != 0 ||
			 mh_check_clean(mh, d, msg, sizeof(msg)) != 0)
			fail = 1;
	}
	if (!fail) {
		struct vits_host_stats hs0;
		vits_host_get_stats(mh->host, &hs0);
		if (pits_check_leaks(mh->pits) || hs0.plpis_in_use || pits_queued(mh->pits)) {
			snprintf(msg, sizeof(msg), "after both teardowns: %" PRIu64 " ITTs live, %"
				 PRIu64 " pLPIs in use, %u physical commands queued",
				 pits_itt_live(mh->pits), hs0.plpis_in_use, pits_queued(mh->pits));
			fail = 1;
		}
	}
	struct vits_host_stats hs;
	vits_host_get_stats(mh->host, &hs);
	const struct pits_stats *ps = pits_get_stats(mh->pits);
	cov.host_lpis += hs.host_lpis;
	cov.spurious += hs.host_lpis_spurious;
	cov.phys += hs.phys_cmd_total;
	cov.phys_full += hs.phys_queue_full;
	cov.pits_refused += ps->refused;
	if (ps->max_depth > cov.max_depth)
		cov.max_depth = ps->max_depth;
	pc[p].phys += hs.phys_cmd_total;
	pc[p].global += hs.phys_global_cmds;
	pc[p].sync += hs.phys_cmds[ITS_IDX_SYNC];
	pc[p].host_lpis += hs.host_lpis;
	pc[p].spurious += hs.host_lpis_spurious;
	if (fail) {
		if (msg[0] == '\0') {
			size_t nf;
			const struct pits_finding *f = pits_findings(mh->pits, &nf);
			if (nf)
				pits_format_finding(&f[0], msg, sizeof(msg));
			else
				snprintf(msg, sizeof(msg), "no quiescence");
		}
		printf("FAIL policy_random seed %" PRIu64 " sequence %" PRIu64 " policy %s flags %u: "
		       "%s\n  reproduce: policy_random %" PRIu64 " 1 %" PRIu64 " %u %s\n  operations:\n",
		       seed, seq, pt_policy(p), flags, msg, seed, seq, flags, pt_policy(p));
		rlog_print(&log);
	}
	mh_destroy(mh);
	return fail;
}

int main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
	uint64_t nseq = argc > 2 ? strtoull(argv[2], NULL, 0) : 600;
	uint64_t first = argc > 3 ? strtoull(argv[3], NULL, 0) : 0;
	unsigned flags = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 0) : 0;
	int only = argc > 5 ? vits_policy_from_name(argv[5]) : -1;
	unsigned nops = 120;
	uint64_t fails[VITS_POLICY_COUNT] = { 0 }, runs = 0, checks = 0;
	const unsigned max_print = 3;
	unsigned printed = 0;

	for (uint64_t s = first; s < first + nseq; s++) {
		for (uint8_t p = 0; p < VITS_POLICY_COUNT; p++) {
			if (only >= 0 && p != only)
				continue;
			runs++;
			if (run_sequence(seed, s, p, flags, nops, &checks)) {
				fails[p]++;
				printed++;
			}
		}
		if (printed >= max_print) {
			printf("policy_random: stopping after %u failures\n", printed);
			break;
		}
	}
	unsigned total = 0;
	for (uint8_t p = 0; p < VITS_POLICY_COUNT; p++) {
		printf("policy_random: %-11s %" PRIu64 " failing sequences\n", pt_policy(p), fails[p]);
		total += (unsigned)fails[p];
	}
	printf("\n| random workload (policy_random %" PRIu64 " %" PRIu64 " %" PRIu64 " %u) | guest "
	       "commands | physical per guest command | global per 1000 guest commands | "
	       "SYNC per 1000 | host LPIs | spurious |\n|---|---|---|---|---|---|---|\n",
	       seed, nseq, first, flags);
	for (uint8_t p = 0; p < VITS_POLICY_COUNT; p++) {
		if (!pc[p].guest)
			continue;
		printf("| %s | %" PRIu64 " | %.3f | %.2f | %.1f | %" PRIu64 " | %" PRIu64 " |\n",
		       pt_policy(p), pc[p].guest, (double)pc[p].phys / (double)pc[p].guest,
		       1000.0 * (double)pc[p].global / (double)pc[p].guest,
		       1000.0 * (double)pc[p].sync / (double)pc[p].guest, pc[p].host_lpis,
		       pc[p].spurious);
	}
	printf("\n");
	printf("policy_random: exercised: %" PRIu64 " injections, %" PRIu64 " host LPIs (%" PRIu64
	       " spurious), %" PRIu64 " physical commands, %" PRIu64 " physical-queue-full "
	       "refusals (deepest queue %" PRIu64 "), %" PRIu64 " MSIs (%" PRIu64 " inside a "
	       "configuration window, %" PRIu64 " left pending physically)\n",
	       cov.injections, cov.host_lpis, cov.spurious, cov.phys, cov.pits_refused,
	       cov.max_depth, cov.msis, cov.window_msis, cov.phys_pending_msis);
	printf("policy_random: seed %" PRIu64 ", %" PRIu64 " runs (sequences x policies), %" PRIu64
	       " quiescent checks, flags %u: %s\n", seed, runs, checks, flags,
	       total ? "FAIL" : "PASS");
	return total ? T_EXIT_FAIL : T_EXIT_PASS;
}
