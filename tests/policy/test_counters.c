/*
 * test_counters.c: the accounting (issue 3, section 5) against numbers computed by
 * hand on small sequences: per vITS and per host, guest commands by type, physical
 * commands by type and by cause, global commands, SYNCs, spurious host LPIs,
 * physical-queue-full stalls, errors; and the knobs (INVALL-to-INV threshold K,
 * SYNC squashing).  Every sequence ends with the oracles of multihost.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ptest.h"

#define L(n) PT_LPI(n)

static void eq(struct tstate *t, const char *seq, const char *what, uint64_t want, uint64_t got)
{
	char name[160];
	snprintf(name, sizeof(name), "%s: %s", seq, what);
	T_EQ(t, name, want, got);
}

struct want_phys {
	uint64_t n[ITS_IDX_COUNT];
};

static void eq_phys(struct tstate *t, const char *seq, const uint64_t *got,
		    const struct want_phys *w, uint64_t got_total)
{
	uint64_t total = 0;
	for (int i = 0; i < ITS_IDX_COUNT; i++) {
		char what[64];
		snprintf(what, sizeof(what), "physical %s", its_cmd_name(its_cmd_index_opcode(i)));
		eq(t, seq, what, w->n[i], got[i]);
		total += w->n[i];
	}
	eq(t, seq, "physical total", total, got_total);
}

/* ---- S1: every command type, one assigned and one virtual device --------------------- */

static void s1(struct tstate *t, uint8_t p, uint8_t squash)
{
	char seq[64];
	snprintf(seq, sizeof(seq), "S1/%s%s", pt_policy(p), squash ? "+squash" : "");
	struct pt_opts o;
	pt_opts_default(&o);
	pt_opts_policy(&o, p);
	o.nr_vcpus = 2;
	o.nr_pcpus = 2;
	o.sync_squash = squash;
	struct multihost *mh = pt_world(&o);
	if (!mh)
		t_broken("world");
	struct mh_domain *d = pt_dom(mh, 0);
	mh_assign(d, 1, 0x10);
	for (unsigned i = 0; i < 3; i++)
		mh_prop_write(d, L(i), LPI_ON);
	struct its_cmd c[] = {
		/*  1 */ its_mk_mapc(0, 0, 1),                 /* nothing physical */
		/*  2 */ its_mk_mapc(1, 1, 1),                 /* nothing */
		/*  3 */ pt_mapd(1, 2),                        /* MAPD */
		/*  4 */ its_mk_mapti(1, 0, L(0), 0),          /* MAPTI -> pCPU 0 */
		/*  5 */ its_mk_mapti(1, 1, L(1), 1),          /* MAPTI -> pCPU 1 */
		/*  6 */ its_mk_devev(ITS_OP_INV, 1, 0),       /* forward: INV */
		/*  7 */ its_mk_invall(1),                     /* forward: INVALL(1) */
		/*  8 */ its_mk_sync(0),                       /* SYNC(0), SYNC(1) */
		/*  9 */ its_mk_movi(1, 0, 1),                 /* MOVI (pCPU 0 -> 1) */
		/* 10 */ its_mk_devev(ITS_OP_CLEAR, 1, 1),     /* CLEAR */
		/* 11 */ its_mk_devev(ITS_OP_DISCARD, 1, 1),   /* DISCARD */
		/* 12 */ its_mk_devev(ITS_OP_INT, 1, 0),       /* nothing (virtual pending) */
		/* 13 */ its_mk_devev(ITS_OP_INV, 1, 3),       /* guest error, nothing */
		/* 14 */ pt_mapd(2, 1),                        /* virtual device: nothing */
		/* 15 */ its_mk_mapti(2, 0, L(2), 0),          /* nothing */
		/* 16 */ its_mk_devev(ITS_OP_INV, 2, 0),       /* nothing */
		/* 17 */ its_mk_sync(1),                       /* SYNC(0), SYNC(1) */
	};
	/* (What a SYNC after unmapping the last assigned device owes is checked in
	 * test_bugs.c: the engine drops it.) */
	struct vits_stats s0;
	mh_stats(d, &s0);
	pt_cmds(d, c, sizeof(c) / sizeof(c[0]));
	mh_quiesce(mh);
	struct vits_stats s;
	mh_stats(d, &s);

	/* Guest commands by type. */
	eq(t, seq, "guest MAPC", 2, s.guest_cmds[ITS_IDX_MAPC]);
	eq(t, seq, "guest MAPD", 2, s.guest_cmds[ITS_IDX_MAPD]);
	eq(t, seq, "guest MAPTI", 3, s.guest_cmds[ITS_IDX_MAPTI]);
	eq(t, seq, "guest INV", 3, s.guest_cmds[ITS_IDX_INV]);
	eq(t, seq, "guest INVALL", 1, s.guest_cmds[ITS_IDX_INVALL]);
	eq(t, seq, "guest SYNC", 2, s.guest_cmds[ITS_IDX_SYNC]);
	eq(t, seq, "guest MOVI", 1, s.guest_cmds[ITS_IDX_MOVI]);
	eq(t, seq, "guest CLEAR", 1, s.guest_cmds[ITS_IDX_CLEAR]);
	eq(t, seq, "guest DISCARD", 1, s.guest_cmds[ITS_IDX_DISCARD]);
	eq(t, seq, "guest INT", 1, s.guest_cmds[ITS_IDX_INT]);
	eq(t, seq, "guest total", 17, s.guest_cmd_total);
	eq(t, seq, "errors", 1, s.cmd_errors);
	eq(t, seq, "errors EVENT_UNMAPPED", 1, s.errors_by_reason[VITS_R_EVENT_UNMAPPED]);
	eq(t, seq, "injections (INT of an enabled LPI)", 1, s.injections);

	/* Physical, by hand (see the comments above).  forward: 12 (MAPD 1, MAPTI 2,
	 * INV 1, INVALL 1, SYNC 4, MOVI 1, CLEAR 1, DISCARD 1); the other policies send
	 * no INV/INVALL here (nothing was written after mapping): 10.  SYNC squashing
	 * changes nothing: both SYNCs find commands sent to both pCPUs. */
	struct want_phys w = { { 0 } };
	w.n[ITS_IDX_MAPD] = 1;
	w.n[ITS_IDX_MAPTI] = 2;
	w.n[ITS_IDX_INV] = p == VITS_POLICY_FORWARD ? 1 : 0;
	w.n[ITS_IDX_INVALL] = p == VITS_POLICY_FORWARD ? 1 : 0;
	w.n[ITS_IDX_SYNC] = 4;
	w.n[ITS_IDX_MOVI] = 1;
	w.n[ITS_IDX_CLEAR] = 1;
	w.n[ITS_IDX_DISCARD] = 1;
	eq_phys(t, seq, s.phys_cmds, &w, s.phys_cmd_total - s0.phys_cmd_total);
	eq(t, seq, "global physical (INVALL, MOVALL)", w.n[ITS_IDX_INVALL], s.phys_global_cmds);
	eq(t, seq, "physical caused by guest commands", s.phys_cmd_total,
	   s.phys_by_cause[VITS_CAUSE_GUEST_CMD]);
	eq(t, seq, "physical caused by property writes", 0, s.phys_by_cause[VITS_CAUSE_PROP_WRITE]);
	eq(t, seq, "physical queue full", 0, s.phys_queue_full);
	eq(t, seq, "property traps", 3, s.prop_traps);
	struct vits_host_stats hs = pt_host(mh);
	eq(t, seq, "host total = instance total", s.phys_cmd_total, hs.phys_cmd_total);
	for (int i = 0; i < ITS_IDX_COUNT; i++)
		eq(t, seq, "host by type = instance by type", s.phys_cmds[i], hs.phys_cmds[i]);
	eq(t, seq, "host global", s.phys_global_cmds, hs.phys_global_cmds);
	eq(t, seq, "host pLPIs in use (event 0 of device 1)", 1, hs.plpis_in_use);
	char name[96];
	snprintf(name, sizeof(name), "%s: equivalent", seq);
	pt_check(t, mh, name);
	mh_destroy(mh);
}

/* ---- S2/S3: trapped writes, K and squashing ---------------------------------------------- */

static void s2(struct tstate *t, uint8_t p)
{
	char seq[64];
	snprintf(seq, sizeof(seq), "S2/%s K=2 squash", pt_policy(p));
	struct pt_opts o;
	pt_opts_default(&o);
	pt_opts_policy(&o, p);
	o.nr_vcpus = 2;
	o.nr_pcpus = 2;
	o.invall_threshold = 2;
	o.sync_squash = 1;
	struct multihost *mh = pt_world(&o);
	if (!mh)
		t_broken("world");
	struct mh_domain *d = pt_dom(mh, 0);
	mh_assign(d, 1, 0x10);
	for (unsigned i = 0; i < 4; i++)
		mh_prop_write(d, L(i), LPI_OFF);       /* 4 traps, nothing mapped yet */
	struct its_cmd setup[] = { its_mk_mapc(0, 0, 1), pt_mapd(1, 3),
				   its_mk_mapti(1, 0, L(0), 0), its_mk_mapti(1, 1, L(1), 0),
				   its_mk_mapti(1, 2, L(2), 0), its_mk_mapti(1, 3, L(3), 0),
				   its_mk_sync(0) };
	pt_cmds(d, setup, 7);
	mh_quiesce(mh);
	struct vits_stats s0, s1;
	mh_stats(d, &s0);
	struct its_cmd invall_sync[2] = { its_mk_invall(0), its_mk_sync(0) };
	/* (a) 2 bytes written, INVALL, SYNC */
	mh_prop_write(d, L(0), LPI_ON);
	mh_prop_write(d, L(1), LPI_ON);
	if (p != VITS_POLICY_EAGER) {
		mh_stats(d, &s1);
		eq(t, seq, "(a) dirty LPIs after 2 writes", 2, s1.dirty_lpis);
		struct vits_host_stats hs = pt_host(mh);
		eq(t, seq, "(a) host dirty pLPIs", 2, hs.dirty_plpis);
	}
	/* Each step ends with the physical ITS caught up (mh_quiesce), as a guest that
	 * waits for its SYNC sees it; otherwise a later trap can overtake a guest
	 * command still waiting behind a SYNC, and the counts change. */
	pt_cmds(d, invall_sync, 2);
	mh_quiesce(mh);
	/* (b) 3 bytes written, INVALL, SYNC */
	for (unsigned i = 0; i < 3; i++)
		mh_prop_write(d, L(i), LPI_OFF);
	pt_cmds(d, invall_sync, 2);
	mh_quiesce(mh);
	/* (c) nothing written: INV, SYNC */
	struct its_cmd inv0[2] = { its_mk_devev(ITS_OP_INV, 1, 0), its_mk_sync(0) };
	pt_cmds(d, inv0, 2);
	mh_quiesce(mh);
	/* (d) 1 byte written, INV of it, SYNC */
	mh_prop_write(d, L(3), LPI_ON);
	struct its_cmd inv3[2] = { its_mk_devev(ITS_OP_INV, 1, 3), its_mk_sync(0) };
	pt_cmds(d, inv3, 2);
	mh_quiesce(mh);
	mh_stats(d, &s1);
	/* By hand:
	 * lazy, K=2:  (a) 2 dirty <= K: 2 INV, SYNC(0) | (b) 3 dirty > K: INVALL(0),
	 *             SYNC(0) | (c) nothing dirty: INV eaten, squashed SYNC: nothing |
	 *             (d) dirty: INV, SYNC(0).  INV 3, INVALL 1, SYNC 3; all caused by
	 *             guest commands.
	 * eager:      (a) 2 INV at the writes, INVALL eaten, SYNC(0) | (b) 3 INV, SYNC |
	 *             (c) nothing | (d) INV at the write, SYNC.  INV 6 (caused by the
	 *             property writes), SYNC 3. */
	uint64_t inv = s1.phys_cmds[ITS_IDX_INV] - s0.phys_cmds[ITS_IDX_INV];
	uint64_t invall = s1.phys_cmds[ITS_IDX_INVALL] - s0.phys_cmds[ITS_IDX_INVALL];
	uint64_t sync = s1.phys_cmds[ITS_IDX_SYNC] - s0.phys_cmds[ITS_IDX_SYNC];
	uint64_t bywrite = s1.phys_by_cause[VITS_CAUSE_PROP_WRITE] -
			   s0.phys_by_cause[VITS_CAUSE_PROP_WRITE];
	bool eager = p == VITS_POLICY_EAGER;
	eq(t, seq, "physical INV", eager ? 6 : 3, inv);
	eq(t, seq, "physical INVALL", eager ? 0 : 1, invall);
	eq(t, seq, "physical SYNC", 3, sync);
	eq(t, seq, "physical total", eager ? 9 : 7, s1.phys_cmd_total - s0.phys_cmd_total);
	eq(t, seq, "caused by property writes", eager ? 6 : 0, bywrite);
	eq(t, seq, "global", eager ? 0 : 1, s1.phys_global_cmds - s0.phys_global_cmds);
	eq(t, seq, "property traps", 4 + 2 + 3 + 1, s1.prop_traps);
	eq(t, seq, "dirty LPIs at the end", 0, s1.dirty_lpis);
	eq(t, seq, "guest INVALL", 2, s1.guest_cmds[ITS_IDX_INVALL]);
	char name[96];
	snprintf(name, sizeof(name), "%s: equivalent", seq);
	pt_check(t, mh, name);
	mh_destroy(mh);
}

/* ---- S4: spurious host LPIs --------------------------------------------------------------- */

static void s4(struct tstate *t)
{
	const char *seq = "S4/virtual";
	struct pt_opts o;
	pt_opts_default(&o);
	pt_opts_policy(&o, VITS_POLICY_VIRTUAL);
	o.ndom = 2;
	struct multihost *mh = pt_world(&o);
	if (!mh)
		t_broken("world");
	struct mh_domain *d = pt_dom(mh, 0), *e = pt_dom(mh, 1);
	mh_assign(d, 1, 0x10);
	mh_assign(e, 1, 0x20);
	mh_prop_write(d, L(0), LPI_OFF);
	mh_prop_write(e, L(0), LPI_ON);
	struct its_cmd c[] = { its_mk_mapc(0, 0, 1), pt_mapd(1, 1), its_mk_mapti(1, 0, L(0), 0),
			       its_mk_sync(0) };
	pt_cmds(d, c, 4);
	pt_cmds(e, c, 4);
	mh_quiesce(mh);
	for (unsigned i = 0; i < 3; i++) {
		mh_fire(d, 1, 0);       /* disabled (and read at MAPTI): spurious */
		mh_fire(e, 1, 0);       /* enabled: delivered */
		mh_quiesce(mh);
	}
	struct vits_stats sd, se;
	mh_stats(d, &sd);
	mh_stats(e, &se);
	eq(t, seq, "host LPIs, disabled domain", 3, sd.host_lpis);
	eq(t, seq, "spurious, disabled domain", 3, sd.host_lpis_spurious);
	eq(t, seq, "injections, disabled domain", 0, sd.injections);
	eq(t, seq, "host LPIs, enabled domain", 3, se.host_lpis);
	eq(t, seq, "spurious, enabled domain", 0, se.host_lpis_spurious);
	eq(t, seq, "injections, enabled domain", 3, se.injections);
	struct vits_host_stats hs = pt_host(mh);
	eq(t, seq, "host: host LPIs", 6, hs.host_lpis);
	eq(t, seq, "host: spurious", 3, hs.host_lpis_spurious);
	eq(t, seq, "host: pLPIs in use", 2, hs.plpis_in_use);
	mh_prop_write(d, L(0), LPI_ON);
	struct its_cmd inv[2] = { its_mk_devev(ITS_OP_INV, 1, 0), its_mk_sync(0) };
	pt_cmds(d, inv, 2);
	mh_quiesce(mh);
	mh_stats(d, &sd);
	eq(t, seq, "the pending LPI is delivered once enabled", 1, sd.injections);
	pt_check(t, mh, "S4/virtual: equivalent");
	mh_destroy(mh);
}

/* ---- S5: a physical queue of one slot -------------------------------------------------------- */

static void s5(struct tstate *t)
{
	const char *seq = "S5/forward, 1-slot physical queue";
	struct pt_opts o;
	pt_opts_default(&o);
	o.pits_queue_bytes = 64;                /* capacity 1 */
	struct multihost *mh = pt_world(&o);
	if (!mh)
		t_broken("world");
	struct mh_domain *d = pt_dom(mh, 0);
	struct vits *v = d->h->vits;
	mh_assign(d, 1, 0x10);
	mh_prop_write(d, L(0), LPI_ON);
	mh_prop_write(d, L(1), LPI_ON);
	struct its_cmd setup[] = { its_mk_mapc(0, 0, 1), pt_mapd(1, 1),
				   its_mk_mapti(1, 0, L(0), 0), its_mk_mapti(1, 1, L(1), 0),
				   its_mk_sync(0) };
	pt_cmds(d, setup, 5);
	mh_quiesce(mh);
	struct vits_stats s0, s;
	mh_stats(d, &s0);
	uint64_t ref0 = pits_get_stats(mh->pits)->refused;
	struct vits_queue_info q0, q1;
	vits_query_queue(v, &q0);
	/* MAPD V=0 of a device with 2 events: DISCARD, DISCARD, MAPD V=0 (3 physical
	 * commands, 1 slot).  The first is queued, the second refused (1). */
	struct its_cmd c = pt_unmapd(1);
	harness_queue_cmd(d->h, &c);
	harness_kick(d->h);
	vits_query_queue(v, &q1);
	eq(t, seq, "CREADR stays on the MAPD while its physical commands are not queued",
	   q0.creadr, q1.creadr);
	eq(t, seq, "engine reports work pending", 1, (uint64_t)vits_work_pending(v));
	vits_resume(v);                         /* still full: refused (2) */
	vits_query_queue(v, &q1);
	eq(t, seq, "still there after a resume while full", q0.creadr, q1.creadr);
	/* The physical ITS runs one command per step, and a resume queues the next:
	 * step 1 runs DISCARD 0, queues DISCARD 1, MAPD refused (3); step 2 runs
	 * DISCARD 1, queues the MAPD; step 3 runs it and CREADR moves: it waits for
	 * the last physical command to run, not just to be queued. */
	unsigned steps = 0;
	bool early = false;
	for (; steps < 10 && q1.creadr == q0.creadr; steps++) {
		pits_process(mh->pits, 1);
		vits_resume(v);
		vits_query_queue(v, &q1);
		if (q1.creadr != q0.creadr && pits_queued(mh->pits) != 0)
			early = true;
	}
	eq(t, seq, "CREADR passed the MAPD only after its physical commands ran", 0, early);
	eq(t, seq, "physical steps until CREADR moved", 3, steps);
	eq(t, seq, "CREADR passed it", (q0.creadr + 32) % (16 * 4096), q1.creadr);
	mh_quiesce(mh);
	mh_stats(d, &s);
	eq(t, seq, "physical-queue-full stalls (instance)", 3,
	   s.phys_queue_full - s0.phys_queue_full);
	eq(t, seq, "= refusals seen by the physical ITS", 3,
	   pits_get_stats(mh->pits)->refused - ref0);
	struct vits_host_stats hs = pt_host(mh);
	eq(t, seq, "host counts every instance's stalls", s.phys_queue_full, hs.phys_queue_full);
	eq(t, seq, "no command errors", 0, s.cmd_errors);
	pt_check(t, mh, "S5: equivalent");
	mh_destroy(mh);
}

/* ---- S6: host totals over several instances, past and present -------------------------------- */

static void s6(struct tstate *t)
{
	const char *seq = "S6/3 domains";
	struct pt_opts o;
	pt_opts_default(&o);
	o.ndom = 3;
	o.policy[0] = VITS_POLICY_FORWARD;
	o.policy[1] = VITS_POLICY_LAZY;
	o.policy[2] = VITS_POLICY_EAGER;
	struct multihost *mh = pt_world(&o);
	if (!mh)
		t_broken("world");
	for (unsigned i = 0; i < 3; i++) {
		struct mh_domain *d = pt_dom(mh, i);
		mh_assign(d, 1, 0x10 + i);
		struct its_cmd c[] = { its_mk_mapc(0, 0, 1), pt_mapd(1, 2),
				       its_mk_mapti(1, 0, L(0), 0), its_mk_mapti(1, 1, L(1), 0),
				       its_mk_sync(0) };
		pt_cmds(d, c, 5);
		mh_quiesce(mh);         /* the guest waits for its SYNC: the LPI is mapped */
		mh_prop_write(d, L(0), LPI_ON);
		struct its_cmd c2[] = { its_mk_invall(0), its_mk_sync(0) };
		pt_cmds(d, c2, 2);
	}
	mh_quiesce(mh);
	struct vits_stats s[3];
	uint64_t sum = 0, sumg = 0;
	for (unsigned i = 0; i < 3; i++) {
		mh_stats(pt_dom(mh, i), &s[i]);
		sum += s[i].phys_cmd_total;
		sumg += s[i].phys_global_cmds;
	}
	/* By hand per domain: MAPD, 2 MAPTI, SYNC, then forward: INVALL + SYNC (6);
	 * lazy: 1 dirty, K=0: INVALL + SYNC (6); eager: INV at the write + SYNC (6). */
	eq(t, seq, "forward domain", 6, s[0].phys_cmd_total);
	eq(t, seq, "lazy domain", 6, s[1].phys_cmd_total);
	eq(t, seq, "eager domain", 6, s[2].phys_cmd_total);
	struct vits_host_stats hs = pt_host(mh);
	eq(t, seq, "host total = sum", sum, hs.phys_cmd_total);
	eq(t, seq, "host global = sum", sumg, hs.phys_global_cmds);
	eq(t, seq, "host global", 2, hs.phys_global_cmds);
	eq(t, seq, "instances", 3, hs.instances);
	pt_check(t, mh, "S6: equivalent");
	/* Past instances stay in the host totals. */
	mh_destroy_domain(pt_dom(mh, 1));
	mh_quiesce(mh);
	struct vits_host_stats h2 = pt_host(mh);
	/* Teardown of the lazy domain: 2 DISCARD + MAPD V=0 + SYNC(0). */
	eq(t, seq, "teardown counted by cause", 4, h2.phys_by_cause[VITS_CAUSE_TEARDOWN]);
	eq(t, seq, "host total keeps the destroyed instance", sum + 4, h2.phys_cmd_total);
	eq(t, seq, "instances after destroy", 2, h2.instances);
	mh_destroy(mh);
}

int main(void)
{
	struct tstate t = { .quiet_pass = true };
	for (uint8_t p = 0; p < VITS_POLICY_COUNT; p++) {
		s1(&t, p, 0);
		s1(&t, p, 1);
	}
	s2(&t, VITS_POLICY_LAZY);
	s2(&t, VITS_POLICY_LAZY_GLOBAL);
	s2(&t, VITS_POLICY_EAGER);
	s4(&t);
	s5(&t);
	s6(&t);
	return t_finish(&t, "policy_counters");
}
