/*
 * test_examples.c: the design discussion's own examples (issue 3, section 6), each
 * under every policy, with the physical model in strict mode and the oracles of
 * multihost.c at the end of each.
 *
 *   a  a guest enables every LPI then sends INVALL: physical commands per policy
 *   b  the reordering example A, B, write LPI1, write LPI2, C, D, INV LPI2, INV LPI1
 *      with C = SYNC, DISCARD of LPI1's event, MOVI of it, DISCARD + re-MAPTI of it
 *   c  two domains sending INVALL in turn, lazy against lazy-global
 *   d  a guest that fills a 1 MiB queue with INVALL: work per trap bounded by the
 *      budget, also with a small physical queue that fills
 *   e  a device that keeps firing an LPI the guest disabled: spurious host LPIs
 *   f  teardown of one domain while another has traffic, also with a full
 *      physical queue
 *
 * Usage: policy_examples a|b|c|d|e|f|all   (one ctest per letter)
 *        policy_examples --table           (runs all, prints the cost table of
 *                                           docs/policies.md in Markdown)
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ptest.h"

#define NPOL VITS_POLICY_COUNT

struct costs {
	/* a */
	uint64_t a_inv, a_invall, a_sync, a_total;
	/* c */
	uint64_t c_invall;
	/* d */
	uint64_t d_phys, d_max_cmds, d_max_phys, d_full_stalls;
	/* e */
	uint64_t e_host, e_spur, e2_host, e2_spur;
	/* f */
	uint64_t f_teardown;
	/* b */
	unsigned b_unsafe;
};

static struct costs cost[NPOL];
static bool quiet;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	if (quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

/* MAPC icid -> vcpu icid % nr_vcpus for icid 0..3, then SYNC. */
static void mapc_all(struct mh_domain *d)
{
	struct its_cmd c[5];
	for (unsigned i = 0; i < 4; i++)
		c[i] = its_mk_mapc(i, i % d->h->cfg.vits.nr_vcpus, 1);
	c[4] = its_mk_sync(0);
	pt_cmds(d, c, 5);
}

/* Assigned (pdev >= 0) or virtual device vdev with 2^bits events; events
 * 0..n-1 mapped to intids lpi0 + i on collection icid, property byte cfg. */
static void setup_dev(struct mh_domain *d, uint32_t vdev, int64_t pdev, unsigned bits,
		      unsigned n, uint32_t lpi0, uint32_t icid, uint8_t cfg)
{
	if (pdev >= 0 && mh_assign(d, vdev, (uint32_t)pdev) < 0)
		t_broken("mh_assign");
	for (unsigned i = 0; i < n; i++)
		mh_prop_write(d, lpi0 + i, cfg);
	pt_cmd(d, pt_mapd(vdev, bits));
	for (unsigned i = 0; i < n; i++)
		pt_cmd(d, its_mk_mapti(vdev, i, lpi0 + i, icid));
	pt_cmd(d, its_mk_sync(0));
}

/* ---- (a) enable every LPI, then INVALL -------------------------------------------- */

#define A_N 32

static void example_a_one(struct tstate *t, uint8_t p, uint32_t k, uint8_t squash,
			  uint64_t want_inv, uint64_t want_invall, uint64_t want_sync)
{
	char name[128];
	struct pt_opts o;
	pt_opts_default(&o);
	pt_opts_policy(&o, p);
	o.invall_threshold = k;
	o.sync_squash = squash;
	struct multihost *mh = pt_world(&o);
	if (!mh)
		t_broken("world");
	struct mh_domain *d = pt_dom(mh, 0);
	mapc_all(d);
	setup_dev(d, 1, 0x100, 6, A_N, PT_LPI(0), 0, LPI_OFF);
	mh_quiesce(mh);
	for (unsigned i = 0; i < A_N; i++)
		mh_fire(d, 1, i);       /* pending, disabled */
	mh_quiesce(mh);
	struct vits_host_stats s0 = pt_host(mh);
	for (unsigned i = 0; i < A_N; i++)
		mh_prop_write(d, PT_LPI(i), LPI_ON);
	struct its_cmd c[2] = { its_mk_invall(0), its_mk_sync(0) };
	pt_cmds(d, c, 2);
	mh_quiesce(mh);
	struct vits_host_stats s1 = pt_host(mh);
	uint64_t inv = pt_d(&s0, &s1, ITS_IDX_INV), invall = pt_d(&s0, &s1, ITS_IDX_INVALL);
	uint64_t sync = pt_d(&s0, &s1, ITS_IDX_SYNC), total = s1.phys_cmd_total - s0.phys_cmd_total;
	snprintf(name, sizeof(name), "a/%s K=%u squash=%u: physical INV", pt_policy(p), k, squash);
	T_EQ(t, name, want_inv, inv);
	snprintf(name, sizeof(name), "a/%s K=%u squash=%u: physical INVALL", pt_policy(p), k, squash);
	T_EQ(t, name, want_invall, invall);
	snprintf(name, sizeof(name), "a/%s K=%u squash=%u: physical SYNC", pt_policy(p), k, squash);
	T_EQ(t, name, want_sync, sync);
	snprintf(name, sizeof(name), "a/%s K=%u squash=%u: nothing else", pt_policy(p), k, squash);
	T_EQ(t, name, want_inv + want_invall + want_sync, total);
	struct vits_stats vs;
	mh_stats(d, &vs);
	snprintf(name, sizeof(name), "a/%s K=%u: all %u pending LPIs delivered", pt_policy(p), k,
		 A_N);
	T_EQ(t, name, A_N, vs.injections);
	snprintf(name, sizeof(name), "a/%s K=%u squash=%u: equivalent, physical ITS clean",
		 pt_policy(p), k, squash);
	pt_check(t, mh, name);
	if (k == 0 && !squash) {
		cost[p].a_inv = inv;
		cost[p].a_invall = invall;
		cost[p].a_sync = sync;
		cost[p].a_total = total;
	}
	say("  a: %-11s K=%-2u squash=%u  INV %3" PRIu64 "  INVALL %" PRIu64 "  SYNC %" PRIu64
	    "  total %3" PRIu64 "\n", pt_policy(p), k, squash, inv, invall, sync, total);
	mh_destroy(mh);
}

static void example_a(struct tstate *t)
{
	/* 32 LPIs of one assigned device, all on collection 0 (vCPU 0, pCPU 0), all
	 * disabled and pending; the guest writes Enable into each byte (trapped), then
	 * INVALL(0) + SYNC(0).  By hand:
	 *   forward:     the writes cost nothing; INVALL -> INVALL(pCPU 0); SYNC -> SYNC(0)  = 2
	 *   eager:       each write -> INV (32); INVALL eaten; SYNC(0)                   = 33
	 *   lazy K=0:    writes mark 32 dirty; INVALL -> INVALL(0); SYNC(0)              = 2
	 *   lazy K=32:   32 dirty <= K: INVALL becomes 32 INVs; SYNC(0)                  = 33
	 *   lazy-global: as lazy                                                         = 2
	 *   virtual:     nothing but the SYNC (no squashing: a SYNC goes to the vCPU's
	 *                pCPU even when nothing went there)                              = 1
	 *   virtual, SYNC squashing: nothing went to pCPU 0 since its last SYNC          = 0 */
	example_a_one(t, VITS_POLICY_FORWARD, 0, 0, 0, 1, 1);
	example_a_one(t, VITS_POLICY_EAGER, 0, 0, A_N, 0, 1);
	example_a_one(t, VITS_POLICY_LAZY, 0, 0, 0, 1, 1);
	example_a_one(t, VITS_POLICY_LAZY, A_N, 0, A_N, 0, 1);
	example_a_one(t, VITS_POLICY_LAZY, A_N - 1, 0, 0, 1, 1);
	example_a_one(t, VITS_POLICY_LAZY_GLOBAL, 0, 0, 0, 1, 1);
	example_a_one(t, VITS_POLICY_VIRTUAL, 0, 0, 0, 0, 1);
	example_a_one(t, VITS_POLICY_VIRTUAL, 0, 1, 0, 0, 0);
	/* Squashing with work: eager's INVs went to pCPU 0, so its SYNC stays. */
	example_a_one(t, VITS_POLICY_EAGER, 0, 1, A_N, 0, 1);
}

/* ---- (b) the reordering example ---------------------------------------------------- */

enum { B_SYNC, B_DISCARD, B_MOVI, B_REMAPTI, B_NVAR };
static const char *const b_name[B_NVAR] = { "C=SYNC", "C=DISCARD", "C=MOVI", "C=re-MAPTI" };

struct b_stream {
	char text[2048];
	size_t len;
};

static void b_trace(void *ctx, struct mh_domain *d, const struct vits_event *ev)
{
	struct b_stream *s = ctx;
	if (ev->type != VITS_EV_PHYS_CMD || s->len + 64 >= sizeof(s->text))
		return;
	char c[160];
	pits_format_cmd(&ev->u.phys.cmd, c, sizeof(c));
	/* Keep the opcode and the event: enough to read the order. */
	s->len += (size_t)snprintf(s->text + s->len, sizeof(s->text) - s->len, "%s%s",
				   s->len ? ", " : "", c);
}

/* Returns true when the physical stream stayed error-free and the guest view
 * equivalent. */
static bool example_b_one(struct tstate *t, uint8_t p, int var, bool drain_each)
{
	struct pt_opts o;
	pt_opts_default(&o);
	pt_opts_policy(&o, p);
	o.pits_skip_errors = true;      /* see every error, not only the first */
	struct multihost *mh = pt_world(&o);
	if (!mh)
		t_broken("world");
	struct mh_domain *d = pt_dom(mh, 0);
	const uint32_t LPI1 = PT_LPI(1), LPI2 = PT_LPI(2);
	mapc_all(d);
	mh_assign(d, 1, 0x100);
	mh_prop_write(d, LPI1, LPI_ON);
	mh_prop_write(d, LPI2, LPI_OFF);
	struct its_cmd setup[] = {
		pt_mapd(1, 2), its_mk_mapti(1, 0, LPI1, 0), its_mk_mapti(1, 1, LPI2, 0),
		its_mk_sync(0),
	};
	pt_cmds(d, setup, 4);
	mh_quiesce(mh);
	mh_fire(d, 1, 0);       /* delivered */
	mh_fire(d, 1, 1);       /* pending: LPI2 disabled */
	mh_quiesce(mh);

	struct b_stream s = { .len = 0 };
	d->user_trace = b_trace;
	d->user_ctx = &s;
	/* A, B */
	struct its_cmd ab[] = { its_mk_mapti(1, 2, PT_LPI(3), 1), its_mk_sync(1) };
	pt_cmds(d, ab, 2);
	/* write cfg LPI1 (disable), write cfg LPI2 (enable): trapped */
	mh_prop_write(d, LPI1, LPI_OFF);
	mh_prop_write(d, LPI2, LPI_ON);
	if (drain_each) {
		mh_quiesce(mh);
		mh_fire(d, 1, 0);       /* inside the window: old or new may hold */
		mh_fire(d, 1, 1);
	}
	/* C, D */
	switch (var) {
	case B_SYNC:
		pt_cmd(d, its_mk_sync(0));
		break;
	case B_DISCARD:
		pt_cmd(d, its_mk_devev(ITS_OP_DISCARD, 1, 0));
		break;
	case B_MOVI:
		pt_cmd(d, its_mk_movi(1, 0, 1));
		break;
	case B_REMAPTI:
		pt_cmd(d, its_mk_devev(ITS_OP_DISCARD, 1, 0));
		pt_cmd(d, its_mk_mapti(1, 0, LPI1, 0));
		break;
	}
	pt_cmd(d, its_mk_sync(0));      /* D */
	if (drain_each) {
		mh_quiesce(mh);
		mh_fire(d, 1, 0);
		mh_fire(d, 1, 1);
	}
	/* INV LPI2, INV LPI1 (the latter a guest error after DISCARD), SYNC */
	struct its_cmd invs[] = { its_mk_devev(ITS_OP_INV, 1, 1), its_mk_devev(ITS_OP_INV, 1, 0),
				  its_mk_sync(0), its_mk_sync(1) };
	pt_cmds(d, invs, 4);
	mh_quiesce(mh);
	mh_fire(d, 1, 0);
	mh_fire(d, 1, 1);
	d->user_trace = NULL;

	char msg[768];
	size_t nf;
	mh_quiesce(mh);
	pits_findings(mh->pits, &nf);
	int rc = mh_check(mh, msg, sizeof(msg));
	bool ok = nf == 0 && rc == 0;
	say("  b: %-11s %-10s %-10s physical: %s\n     error-free: %s, equivalent: %s%s%s\n",
	    pt_policy(p), b_name[var], drain_each ? "drain-each" : "drain-end", s.text,
	    nf ? "NO" : "yes", rc ? "NO" : "yes", rc ? " -- " : "", rc ? msg : "");
	/* Every policy claims both (docs/policies.md): a finding fails the test. */
	char name[128];
	snprintf(name, sizeof(name), "b/%s %s %s: physical stream error-free", pt_policy(p),
		 b_name[var], drain_each ? "drain-each" : "drain-end");
	T_EQ(t, name, 0, nf);
	snprintf(name, sizeof(name), "b/%s %s %s: guest view equivalent", pt_policy(p),
		 b_name[var], drain_each ? "drain-each" : "drain-end");
	t_ok(t, rc == 0, name, "%s", msg);
	mh_destroy(mh);
	return ok;
}

static void example_b(struct tstate *t)
{
	for (uint8_t p = 0; p < NPOL; p++)
		for (int v = 0; v < B_NVAR; v++)
			for (int de = 0; de < 2; de++)
				if (!example_b_one(t, p, v, de))
					cost[p].b_unsafe++;
}

/* ---- (c) two domains, INVALL in turn ------------------------------------------------- */

#define C_ROUNDS 10
#define C_N 8

static uint64_t example_c_one(struct tstate *t, uint8_t p, uint64_t want)
{
	struct pt_opts o;
	pt_opts_default(&o);
	pt_opts_policy(&o, p);
	o.ndom = 2;
	struct multihost *mh = pt_world(&o);
	if (!mh)
		t_broken("world");
	struct mh_domain *a = pt_dom(mh, 0), *b = pt_dom(mh, 1);
	/* Both domains' collection 0 is vCPU 0, which the host runs on pCPU 0. */
	mapc_all(a);
	mapc_all(b);
	setup_dev(a, 1, 0x100, 3, C_N, PT_LPI(0), 0, LPI_OFF);
	setup_dev(b, 1, 0x200, 3, C_N, PT_LPI(0), 0, LPI_OFF);
	mh_quiesce(mh);
	struct vits_host_stats s0 = pt_host(mh);
	for (unsigned r = 0; r < C_ROUNDS; r++) {
		uint8_t cfg = (r & 1) ? LPI_OFF : LPI_ON;
		for (unsigned i = 0; i < C_N; i++) {
			mh_prop_write(a, PT_LPI(i), cfg);
			mh_prop_write(b, PT_LPI(i), cfg);
		}
		struct its_cmd c[2] = { its_mk_invall(0), its_mk_sync(0) };
		pt_cmds(a, c, 2);
		pt_cmds(b, c, 2);
		mh_quiesce(mh);
		mh_fire(a, 1, r % C_N);
		mh_fire(b, 1, r % C_N);
	}
	mh_quiesce(mh);
	struct vits_host_stats s1 = pt_host(mh);
	uint64_t invall = pt_d(&s0, &s1, ITS_IDX_INVALL);
	char name[128];
	snprintf(name, sizeof(name), "c/%s: physical INVALLs for %u rounds of A, B INVALL",
		 pt_policy(p), C_ROUNDS);
	T_EQ(t, name, want, invall);
	snprintf(name, sizeof(name), "c/%s: both domains equivalent", pt_policy(p));
	pt_check(t, mh, name);
	say("  c: %-11s physical INVALL %" PRIu64 " (global commands %" PRIu64 "), SYNC %" PRIu64
	    "\n", pt_policy(p), invall, s1.phys_global_cmds - s0.phys_global_cmds,
	    pt_d(&s0, &s1, ITS_IDX_SYNC));
	mh_destroy(mh);
	return invall;
}

static void example_c(struct tstate *t)
{
	/* By hand, per round (both domains wrote their 8 bytes, then A and B INVALL):
	 *   lazy:        A's INVALL -> INVALL(pCPU 0), clearing only A's dirty bits;
	 *                B's still dirty -> a second INVALL(pCPU 0)          = 2 per round
	 *   lazy-global: A's INVALL clears every dirty bit on pCPU 0, so B's
	 *                INVALL is eaten                                      = 1 per round
	 *   forward:     each guest INVALL is forwarded                       = 2 per round
	 *   eager, virtual: no physical INVALL at all                         = 0 */
	cost[VITS_POLICY_LAZY].c_invall = example_c_one(t, VITS_POLICY_LAZY, 2 * C_ROUNDS);
	cost[VITS_POLICY_LAZY_GLOBAL].c_invall =
		example_c_one(t, VITS_POLICY_LAZY_GLOBAL, 1 * C_ROUNDS);
	cost[VITS_POLICY_FORWARD].c_invall = example_c_one(t, VITS_POLICY_FORWARD, 2 * C_ROUNDS);
	cost[VITS_POLICY_EAGER].c_invall = example_c_one(t, VITS_POLICY_EAGER, 0);
	cost[VITS_POLICY_VIRTUAL].c_invall = example_c_one(t, VITS_POLICY_VIRTUAL, 0);
}

/* ---- (d) 32767 INVALLs in a 1 MiB queue ---------------------------------------------- */

struct d_watch {
	uint32_t creadr;            /* last traced CREADR */
	uint32_t last_cause;        /* last physical command's cause offset */
	uint64_t violations, order_violations;
	uint64_t phys_invall;
};

static void d_trace(void *ctx, struct mh_domain *d, const struct vits_event *ev)
{
	struct d_watch *w = ctx;
	if (ev->type == VITS_EV_CREADR) {
		w->creadr = ev->u.creadr.creadr;
	} else if (ev->type == VITS_EV_PHYS_CMD && ev->u.phys.cause == VITS_CAUSE_GUEST_CMD) {
		/* The queue does not wrap in this test (32767 commands from offset 0), so
		 * "CREADR passed the command" is creadr > offset. */
		if (ev->u.phys.cause_offset < w->creadr)
			w->violations++;
		if (ev->u.phys.cause_offset < w->last_cause)
			w->order_violations++;
		w->last_cause = ev->u.phys.cause_offset;
		if (its_cmd_get_opcode(&ev->u.phys.cmd) == ITS_OP_INVALL)
			w->phys_invall++;
	}
}

#define D_BUDGET 64u

static void example_d_one(struct tstate *t, uint8_t p, uint32_t pits_bytes, unsigned rate)
{
	char name[160], tag[64];
	snprintf(tag, sizeof(tag), "d/%s pits %u B rate %u", pt_policy(p), pits_bytes, rate);
	struct pt_opts o;
	pt_opts_default(&o);
	pt_opts_policy(&o, p);
	o.queue_pages = 256;            /* 1 MiB: 32768 slots, 32767 usable */
	o.budget = D_BUDGET;
	o.pits_queue_bytes = pits_bytes;
	struct multihost *mh = pt_world(&o);
	if (!mh)
		t_broken("world");
	struct mh_domain *d = pt_dom(mh, 0);
	struct vits *v = d->h->vits;
	mapc_all(d);
	/* One assigned event on collection 0, so each INVALL has work under forward;
	 * under lazy it is dirty once (the first INVALL cleans it). */
	setup_dev(d, 1, 0x100, 1, 1, PT_LPI(0), 0, LPI_ON);
	mh_quiesce(mh);
	mh_prop_write(d, PT_LPI(0), LPI_OFF);
	mh_quiesce(mh);
	/* Start the flood from offset 0 so offsets do not wrap: disable, rewrite
	 * CBASER (CREADR = 0) and CWRITER = 0, enable. */
	harness_enable(d->h, false);
	vits_mmio_write(v, GITS_CBASER, 8, d->h->drv.cbaser);
	vits_mmio_write(v, GITS_CWRITER, 8, 0);
	d->h->drv.wptr = 0;
	harness_enable(d->h, true);

	unsigned n = 0;
	struct its_cmd invall = its_mk_invall(0);
	while (harness_queue_cmd(d->h, &invall) == 0)
		n++;
	snprintf(name, sizeof(name), "%s: the 1 MiB queue holds 32767 commands", tag);
	T_EQ(t, name, 32767, n);

	struct d_watch w = { 0 };
	d->user_trace = d_trace;
	d->user_ctx = &w;
	struct vits_stats st0;
	mh_stats(d, &st0);
	uint64_t max_cmds = 0, max_phys = 0, calls = 0;
	uint64_t c0 = d->ev_cmds, p0 = d->ev_phys;
	harness_kick(d->h);                     /* one trapped CWRITER write */
	for (;;) {
		calls++;
		uint64_t dc = d->ev_cmds - c0, dp = d->ev_phys - p0;
		if (dc > max_cmds)
			max_cmds = dc;
		if (dp > max_phys)
			max_phys = dp;
		if (!vits_work_pending(v) || calls > 10000000)
			break;
		if (rate)
			pits_process(mh->pits, rate);
		else
			pits_drain(mh->pits);
		c0 = d->ev_cmds;
		p0 = d->ev_phys;
		vits_resume(v);                 /* the embedder's next opportunity */
	}
	d->user_trace = NULL;
	struct vits_stats st1;
	mh_stats(d, &st1);
	struct vits_queue_info qi;
	vits_query_queue(v, &qi);
	snprintf(name, sizeof(name), "%s: commands per call <= budget %u", tag, D_BUDGET);
	t_ok(t, max_cmds <= D_BUDGET, name, "max %" PRIu64, max_cmds);
	/* Each INVALL costs at most one physical INVALL per pCPU; with a full queue a
	 * call may first send what the previous one left. */
	uint64_t bound = (uint64_t)D_BUDGET * o.nr_pcpus + o.nr_pcpus;
	snprintf(name, sizeof(name), "%s: physical commands per call bounded (<= %" PRIu64 ")",
		 tag, bound);
	t_ok(t, max_phys <= bound, name, "max %" PRIu64, max_phys);
	snprintf(name, sizeof(name), "%s: all 32767 guest commands ran once", tag);
	T_EQ(t, name, 32767, st1.guest_cmds[ITS_IDX_INVALL] - st0.guest_cmds[ITS_IDX_INVALL]);
	snprintf(name, sizeof(name), "%s: CREADR reached CWRITER", tag);
	t_ok(t, qi.creadr == qi.cwriter && qi.creadr == 32767u * 32, name, "creadr %#x cwriter %#x",
	     qi.creadr, qi.cwriter);
	snprintf(name, sizeof(name), "%s: CREADR never passed a command whose physical "
		 "commands were not all queued", tag);
	T_EQ(t, name, 0, w.violations);
	snprintf(name, sizeof(name), "%s: physical commands in guest order", tag);
	T_EQ(t, name, 0, w.order_violations);
	uint64_t full = st1.phys_queue_full - st0.phys_queue_full;
	if (rate && pits_bytes && p == VITS_POLICY_FORWARD) {
		/* The engine keeps pace with the physical ITS: each INVALL completes only
		 * once its physical INVALL has run (phys_done), so it is resumed more often
		 * than the budget alone needs, and the queue may or may not fill first. */
		snprintf(name, sizeof(name), "%s: the engine waited for the physical ITS", tag);
		t_ok(t, calls > (32767u + D_BUDGET - 1) / D_BUDGET, name,
		     "calls %" PRIu64 ", queue-full stalls %" PRIu64, calls, full);
	}
	uint64_t want = p == VITS_POLICY_FORWARD ? 32767 : p == VITS_POLICY_EAGER ||
			p == VITS_POLICY_VIRTUAL ? 0 : 1;
	/* lazy and lazy-global: one LPI was dirty; the first INVALL sends INVALL(0), the
	 * 32766 others find nothing dirty and are eaten. */
	snprintf(name, sizeof(name), "%s: physical INVALLs", tag);
	T_EQ(t, name, want, w.phys_invall);
	snprintf(name, sizeof(name), "%s: equivalent after the flood", tag);
	pt_check(t, mh, name);
	say("  d: %-11s pits %6u B rate %3u: calls %" PRIu64 ", max guest cmds/call %" PRIu64
	    ", max phys/call %" PRIu64 ", phys %" PRIu64 ", queue-full stalls %" PRIu64 "\n",
	    pt_policy(p), pits_bytes ? pits_bytes : PITS_DEFAULT_QUEUE_BYTES, rate, calls,
	    max_cmds, max_phys, st1.phys_cmd_total - st0.phys_cmd_total, full);
	if (pits_bytes == 0) {
		cost[p].d_phys = st1.phys_cmd_total - st0.phys_cmd_total;
		cost[p].d_max_cmds = max_cmds;
		cost[p].d_max_phys = max_phys;
	} else {
		cost[p].d_full_stalls = full;
	}
	mh_destroy(mh);
}

static void example_d(struct tstate *t)
{
	for (uint8_t p = 0; p < NPOL; p++) {
		example_d_one(t, p, 0, 0);          /* physical ITS keeps up */
		example_d_one(t, p, 4096, 50);      /* 127 slots, 50 commands per call */
	}
}

/* ---- (e) a device that keeps firing an LPI the guest disabled ---------------------------- */

#define E_FIRES 100

static void example_e_one(struct tstate *t, uint8_t p, bool invalidate, uint64_t want_host,
			  uint64_t want_spur)
{
	char name[160];
	const char *tag = invalidate ? "disabled + INV + SYNC" : "disabled, no INV yet";
	struct pt_opts o;
	pt_opts_default(&o);
	pt_opts_policy(&o, p);
	struct multihost *mh = pt_world(&o);
	if (!mh)
		t_broken("world");
	struct mh_domain *d = pt_dom(mh, 0);
	mapc_all(d);
	setup_dev(d, 1, 0x100, 1, 1, PT_LPI(0), 0, LPI_ON);
	mh_quiesce(mh);
	mh_fire(d, 1, 0);
	mh_prop_write(d, PT_LPI(0), LPI_OFF);
	if (invalidate) {
		struct its_cmd c[2] = { its_mk_devev(ITS_OP_INV, 1, 0), its_mk_sync(0) };
		pt_cmds(d, c, 2);
	}
	mh_quiesce(mh);
	struct vits_stats s0, s1;
	mh_stats(d, &s0);
	for (unsigned i = 0; i < E_FIRES; i++) {
		mh_fire(d, 1, 0);
		mh_quiesce(mh);
	}
	mh_stats(d, &s1);
	uint64_t host = s1.host_lpis - s0.host_lpis, spur = s1.host_lpis_spurious - s0.host_lpis_spurious;
	snprintf(name, sizeof(name), "e/%s %s: host LPIs for %u MSIs", pt_policy(p), tag, E_FIRES);
	T_EQ(t, name, want_host, host);
	snprintf(name, sizeof(name), "e/%s %s: spurious host LPIs", pt_policy(p), tag);
	T_EQ(t, name, want_spur, spur);
	snprintf(name, sizeof(name), "e/%s %s: equivalent while disabled", pt_policy(p), tag);
	pt_check(t, mh, name);
	/* Re-enable: the LPI left pending is delivered once. */
	mh_prop_write(d, PT_LPI(0), LPI_ON);
	struct its_cmd c[2] = { its_mk_devev(ITS_OP_INV, 1, 0), its_mk_sync(0) };
	pt_cmds(d, c, 2);
	snprintf(name, sizeof(name), "e/%s %s: equivalent after re-enabling", pt_policy(p), tag);
	pt_check(t, mh, name);
	say("  e: %-11s %-22s host LPIs %3" PRIu64 ", spurious %3" PRIu64 ", injections %" PRIu64
	    "\n", pt_policy(p), tag, host, spur, s1.injections - s0.injections);
	if (invalidate) {
		cost[p].e_host = host;
		cost[p].e_spur = spur;
	} else {
		cost[p].e2_host = host;
		cost[p].e2_spur = spur;
	}
	mh_destroy(mh);
}

static void example_e(struct tstate *t)
{
	/* By hand, 100 MSIs of an LPI the guest disabled:
	 * after INV + SYNC: the physical LPI is disabled under forward (INV forwarded),
	 *   eager (INV at the write), lazy and lazy-global (dirty, so the INV goes out):
	 *   the MSIs stay pending in the physical ITS, 0 host LPIs.  Virtual keeps host
	 *   LPIs enabled: all 100 reach the host and are dropped there as spurious.
	 * before the INV (the window): forward and lazy* still run the old (enabled)
	 *   configuration physically, the guest too: 100 host LPIs, all delivered, none
	 *   spurious; eager disabled it physically at the write: 0; virtual: 100, none
	 *   spurious (the guest has not invalidated). */
	for (uint8_t p = 0; p < NPOL; p++) {
		bool virt = p == VITS_POLICY_VIRTUAL;
		example_e_one(t, p, true, virt ? E_FIRES : 0, virt ? E_FIRES : 0);
		example_e_one(t, p, false, p == VITS_POLICY_EAGER ? 0 : E_FIRES, 0);
	}
}

/* ---- (f) teardown while another domain has traffic --------------------------------------- */

struct f_world {
	struct multihost *mh;
	struct mh_domain *a, *b;
};

static void f_setup(struct f_world *w, uint8_t p, uint32_t pits_bytes)
{
	struct pt_opts o;
	pt_opts_default(&o);
	pt_opts_policy(&o, p);
	o.ndom = 2;
	o.pits_queue_bytes = pits_bytes;
	w->mh = pt_world(&o);
	if (!w->mh)
		t_broken("world");
	w->a = pt_dom(w->mh, 0);
	w->b = pt_dom(w->mh, 1);
	mapc_all(w->a);
	mapc_all(w->b);
	/* A: two assigned devices (events on collections 0 and 1 = pCPUs 0 and 1) and
	 * a purely virtual one; LPI 1 of device 1 disabled and pending. */
	setup_dev(w->a, 1, 0x100, 2, 4, PT_LPI(0), 0, LPI_ON);
	setup_dev(w->a, 2, 0x101, 2, 4, PT_LPI(4), 1, LPI_ON);
	setup_dev(w->a, 3, -1, 1, 2, PT_LPI(8), 0, LPI_ON);
	mh_prop_write(w->a, PT_LPI(1), LPI_OFF);
	struct its_cmd c[2] = { its_mk_devev(ITS_OP_INV, 1, 1), its_mk_sync(0) };
	pt_cmds(w->a, c, 2);
	mh_quiesce(w->mh);
	mh_fire(w->a, 1, 1);
	mh_fire(w->a, 2, 0);
	/* B: one assigned device, 4 events on collection 0. */
	setup_dev(w->b, 1, 0x200, 2, 4, PT_LPI(0), 0, LPI_ON);
	mh_quiesce(w->mh);
	for (unsigned e = 0; e < 4; e++)
		mh_fire(w->b, 1, e);
}

static void f_after(struct tstate *t, struct f_world *w, uint8_t p, const char *tag)
{
	char name[160], msg[512];
	mh_quiesce(w->mh);
	snprintf(name, sizeof(name), "f/%s %s: physical ITS clean of the destroyed domain",
		 pt_policy(p), tag);
	t_ok(t, mh_check_clean(w->mh, w->a, msg, sizeof(msg)) == 0, name, "%s", msg);
	struct vits_host_stats hs = pt_host(w->mh);
	snprintf(name, sizeof(name), "f/%s %s: only B's 4 physical LPIs remain in use",
		 pt_policy(p), tag);
	T_EQ(t, name, 4, hs.plpis_in_use);
	snprintf(name, sizeof(name), "f/%s %s: only B's ITT remains allocated", pt_policy(p), tag);
	T_EQ(t, name, 1, pits_itt_live(w->mh->pits));
	for (unsigned e = 0; e < 4; e++)
		mh_fire(w->b, 1, e);
	snprintf(name, sizeof(name), "f/%s %s: B keeps working, equivalent", pt_policy(p), tag);
	pt_check(t, w->mh, name);
}

static void example_f_one(struct tstate *t, uint8_t p)
{
	char name[160];
	struct f_world w;
	f_setup(&w, p, 0);
	struct vits_host_stats h0 = pt_host(w.mh);
	int rc = mh_destroy_domain(w.a);
	snprintf(name, sizeof(name), "f/%s: destroy with room in the physical queue", pt_policy(p));
	T_EQ(t, name, 0, rc);
	struct vits_host_stats h1 = pt_host(w.mh);
	/* By hand: 8 DISCARD (4 + 4 assigned events) + 2 MAPD V=0 + SYNC on the two
	 * pCPUs the DISCARDs went to = 12, all caused by teardown. */
	uint64_t td = h1.phys_by_cause[VITS_CAUSE_TEARDOWN] - h0.phys_by_cause[VITS_CAUSE_TEARDOWN];
	snprintf(name, sizeof(name), "f/%s: teardown cost counted", pt_policy(p));
	T_EQ(t, name, 12, td);
	snprintf(name, sizeof(name), "f/%s: teardown DISCARDs", pt_policy(p));
	T_EQ(t, name, 8, pt_d(&h0, &h1, ITS_IDX_DISCARD));
	snprintf(name, sizeof(name), "f/%s: teardown MAPD V=0", pt_policy(p));
	T_EQ(t, name, 2, pt_d(&h0, &h1, ITS_IDX_MAPD));
	snprintf(name, sizeof(name), "f/%s: teardown SYNCs", pt_policy(p));
	T_EQ(t, name, 2, pt_d(&h0, &h1, ITS_IDX_SYNC));
	snprintf(name, sizeof(name), "f/%s: nothing else", pt_policy(p));
	T_EQ(t, name, 12, h1.phys_cmd_total - h0.phys_cmd_total);
	cost[p].f_teardown = td;
	f_after(t, &w, p, "room");
	say("  f: %-11s teardown physical commands %" PRIu64 "\n", pt_policy(p), td);
	mh_destroy(w.mh);

	/* The same with a physical queue of 15 slots that B has just filled: B unmaps a
	 * second device of 16 events (16 DISCARDs, a MAPD V=0 and a SYNC: more than
	 * fit), without letting the physical ITS run.  One guest command is enough:
	 * the engine runs B's next command only once the physical ITS has run the
	 * physical commands of the last one. */
	f_setup(&w, p, 512);
	setup_dev(w.b, 2, 0x201, 4, 16, PT_LPI(4), 0, LPI_ON);
	mh_quiesce(w.mh);
	struct its_cmd unmap = pt_unmapd(2);
	harness_queue_cmd(w.b->h, &unmap);
	harness_kick(w.b->h);
	snprintf(name, sizeof(name), "f/%s full: physical queue full before teardown", pt_policy(p));
	T_EQ(t, name, pits_capacity(w.mh->pits), pits_queued(w.mh->pits));
	unsigned agains = 0, rounds = 0;
	while ((rc = mh_destroy_domain(w.a)) == VITS_E_AGAIN && rounds++ < 1000) {
		agains++;
		/* Meanwhile: B's device fires, the physical ITS runs a little, B's engine
		 * resumes. */
		mh_fire(w.b, 1, rounds % 4);
		pits_process(w.mh->pits, 2);
		if (vits_work_pending(w.b->h->vits))
			vits_resume(w.b->h->vits);
	}
	snprintf(name, sizeof(name), "f/%s full: vits_destroy answered VITS_E_AGAIN until drained",
		 pt_policy(p));
	t_ok(t, agains > 0 && rc == 0, name, "%u AGAIN, final %d", agains, rc);
	size_t nf;
	pits_findings(w.mh->pits, &nf);
	snprintf(name, sizeof(name), "f/%s full: physical stream error-free", pt_policy(p));
	T_EQ(t, name, 0, nf);
	f_after(t, &w, p, "full");
	say("  f: %-11s full queue: %u VITS_E_AGAIN before the teardown completed\n",
	    pt_policy(p), agains);
	mh_destroy(w.mh);
}

static void example_f(struct tstate *t)
{
	for (uint8_t p = 0; p < NPOL; p++)
		example_f_one(t, p);
}

/* ---- table -------------------------------------------------------------------------------- */

#define ROW(label, fmt, ...)                                                           \
	do {                                                                           \
		printf("| %s |", label);                                               \
		for (uint8_t p = 0; p < NPOL; p++) {                                   \
			const struct costs *c = &cost[p];                              \
			printf(" " fmt " |", __VA_ARGS__);                             \
		}                                                                      \
		printf("\n");                                                          \
	} while (0)

static void print_table(void)
{
	printf("| workload (test) |");
	for (uint8_t p = 0; p < NPOL; p++)
		printf(" %s |", pt_policy(p));
	printf("\n|---|");
	for (uint8_t p = 0; p < NPOL; p++)
		printf("---|");
	printf("\n");
	ROW("(a) enable 32 LPIs + INVALL + SYNC: physical INV / INVALL / SYNC = total",
	    "%" PRIu64 " / %" PRIu64 " / %" PRIu64 " = %" PRIu64, c->a_inv, c->a_invall,
	    c->a_sync, c->a_total);
	ROW("(b) reordering example: unsafe cases (of 4 C variants x 2 drain modes)", "%u",
	    c->b_unsafe);
	ROW("(c) 2 domains x 10 rounds of INVALL: physical INVALLs", "%" PRIu64, c->c_invall);
	ROW("(d) 32767 guest INVALLs: physical commands", "%" PRIu64, c->d_phys);
	ROW("(d) most guest / physical commands in one trap (budget 64)",
	    "%" PRIu64 " / %" PRIu64, c->d_max_cmds, c->d_max_phys);
	ROW("(d) physical-queue-full stalls (127-slot queue, 50 commands per trap)",
	    "%" PRIu64, c->d_full_stalls);
	ROW("(e) 100 MSIs, LPI disabled + INV + SYNC: host LPIs / spurious",
	    "%" PRIu64 " / %" PRIu64, c->e_host, c->e_spur);
	ROW("(e) 100 MSIs, LPI disabled, no INV yet: host LPIs / spurious",
	    "%" PRIu64 " / %" PRIu64, c->e2_host, c->e2_spur);
	ROW("(f) teardown (8 events, 2 devices, 2 pCPUs): physical commands", "%" PRIu64,
	    c->f_teardown);
}

int main(int argc, char **argv)
{
	struct tstate t = { .quiet_pass = true };
	const char *which = argc > 1 ? argv[1] : "all";
	bool table = strcmp(which, "--table") == 0;
	if (table) {
		quiet = true;
		which = "all";
	}
	bool all = strcmp(which, "all") == 0;
	if (all || strchr(which, 'a'))
		example_a(&t);
	if (all || strchr(which, 'b'))
		example_b(&t);
	if (all || strchr(which, 'c'))
		example_c(&t);
	if (all || strchr(which, 'd'))
		example_d(&t);
	if (all || strchr(which, 'e'))
		example_e(&t);
	if (all || strchr(which, 'f'))
		example_f(&t);
	if (table)
		print_table();
	return t_finish(&t, "policy_examples");
}
