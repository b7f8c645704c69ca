/*
 * test_bugs.c: minimal, deterministic reproductions of the engine findings of the
 * policy work (docs/policies.md, "Engine findings").  Each is one ctest: the fixed
 * ones, policy_finding_<name>, are regression tests; the limits of device
 * passthrough, policy_limit_<name>, still fail and are expected to.
 * Every test states its input, what the architecture (the reference model,
 * docs/semantics.md) expects and what the engine does.
 *
 * Usage: policy_bugs <name>|all|list
 */
#define _POSIX_C_SOURCE 200809L  /* dup, dup2 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ptest.h"

#define L(n) PT_LPI(n)

static struct multihost *world(uint8_t p, unsigned ndom, uint32_t pits_bytes)
{
	struct pt_opts o;
	pt_opts_default(&o);
	pt_opts_policy(&o, p);
	o.ndom = ndom;
	o.pits_queue_bytes = pits_bytes;
	struct multihost *mh = pt_world(&o);
	if (!mh)
		t_broken("world");
	return mh;
}

/* Assigned device vdev -> pdev with 4 events; events 0..n-1 -> L(lpi0 + i) on
 * collection icid; collections 0..3 -> vCPU 0..3; property bytes cfg; quiescent. */
static void setup(struct multihost *mh, struct mh_domain *d, uint32_t vdev, uint32_t pdev,
		  unsigned n, uint32_t lpi0, uint32_t icid, uint8_t cfg)
{
	if (mh_assign(d, vdev, pdev) < 0)
		t_broken("assign");
	for (unsigned i = 0; i < n; i++)
		mh_prop_write(d, L(lpi0 + i), cfg);
	struct its_cmd c[4 + 1 + 4 + 1];
	unsigned k = 0;
	for (unsigned i = 0; i < 4; i++)
		c[k++] = its_mk_mapc(i, i, 1);
	c[k++] = pt_mapd(vdev, 2);
	for (unsigned i = 0; i < n; i++)
		c[k++] = its_mk_mapti(vdev, i, L(lpi0 + i), icid);
	c[k++] = its_mk_sync(0);
	pt_cmds(d, c, k);
	mh_quiesce(mh);
}

/* Event 0 of virtual device 2 maps LPI 0 too (an alias of assigned device 1's event 0). */
static void alias_virtual(struct multihost *mh, struct mh_domain *d)
{
	struct its_cmd c[] = { pt_mapd(2, 1), its_mk_mapti(2, 0, L(0), 0), its_mk_sync(0) };
	pt_cmds(d, c, 3);
	mh_quiesce(mh);
}

/* Queue commands and kick once, without letting the physical ITS run. */
static void submit_lagging(struct mh_domain *d, const struct its_cmd *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (harness_queue_cmd(d->h, &c[i]))
			t_broken("guest queue full");
	harness_kick(d->h);
}

static uint64_t injections(struct mh_domain *d, uint32_t intid)
{
	size_t n;
	const struct harness_inject *inj = harness_injects(d->h, &n);
	uint64_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += inj[i].intid == intid;
	return k;
}

static bool oracle(struct tstate *t, struct multihost *mh, const char *name)
{
	return pt_check(t, mh, name);
}

/* ---- lag_inv_lost ------------------------------------------------------------------
 * A guest INV (+SYNC) enables an LPI that is pending physically; the guest then
 * DISCARDs the event.  The engine completes the INV and the SYNC when their physical
 * commands are queued, not executed; the physical INV delivers the pending LPI only
 * when the physical ITS runs it, by which time the engine has unmapped the event and
 * freed the physical LPI, so vits_host_plpi drops it.
 * Expected (reference model, semantics.md "INV: a pending LPI that is now enabled is
 * delivered"): 1 delivery.  Engine: 0.  Any policy that holds pending state
 * physically (forward, lazy, lazy-global). */
static void bug_lag_inv_lost(struct tstate *t, uint8_t p)
{
	struct multihost *mh = world(p, 1, 0);
	struct mh_domain *d = pt_dom(mh, 0);
	setup(mh, d, 1, 0x100, 1, 0, 0, LPI_OFF);
	mh_fire(d, 1, 0);                       /* pending, disabled */
	mh_prop_write(d, L(0), LPI_ON);
	struct its_cmd c[] = { its_mk_devev(ITS_OP_INV, 1, 0), its_mk_sync(0),
			       its_mk_devev(ITS_OP_DISCARD, 1, 0), its_mk_sync(0) };
	submit_lagging(d, c, 4);
	mh_quiesce(mh);
	T_EQ(t, "lag_inv_lost: INV+SYNC of a pending LPI, then DISCARD: deliveries", 1,
	     injections(d, L(0)));
	oracle(t, mh, "lag_inv_lost: oracle");
	mh_destroy(mh);
}

/* ---- lag_clear_race ----------------------------------------------------------------
 * The guest CLEARs a disabled LPI and SYNCs; both complete while the physical CLEAR
 * is still queued.  The device then fires: the LPI must be pending (the MSI came
 * after the completed CLEAR).  The queued physical CLEAR runs after the MSI and
 * wipes it.  Expected after enabling (write + INV + SYNC): 1 delivery.  Engine: 0. */
static void bug_lag_clear_race(struct tstate *t, uint8_t p)
{
	struct multihost *mh = world(p, 1, 0);
	struct mh_domain *d = pt_dom(mh, 0);
	setup(mh, d, 1, 0x100, 1, 0, 0, LPI_OFF);
	struct its_cmd c[] = { its_mk_devev(ITS_OP_CLEAR, 1, 0), its_mk_sync(0) };
	submit_lagging(d, c, 2);
	struct vits_queue_info q;
	vits_query_queue(d->h->vits, &q);
	/* The SYNC completes only once the physical CLEAR has run (phys_done), so the
	 * guest cannot see it complete while the CLEAR is still queued. */
	T_TRUE(t, "lag_clear_race: the SYNC waits for the physical CLEAR", q.creadr != q.cwriter);
	mh_quiesce(mh);
	vits_query_queue(d->h->vits, &q);
	T_TRUE(t, "lag_clear_race: then the guest sees CLEAR and SYNC complete",
	       q.creadr == q.cwriter);
	mh_fire(d, 1, 0);                       /* after the completed CLEAR */
	mh_quiesce(mh);
	mh_prop_write(d, L(0), LPI_ON);
	struct its_cmd e[] = { its_mk_devev(ITS_OP_INV, 1, 0), its_mk_sync(0) };
	pt_cmds(d, e, 2);
	mh_quiesce(mh);
	T_EQ(t, "lag_clear_race: MSI after a completed CLEAR+SYNC, then enable: deliveries", 1,
	     injections(d, L(0)));
	oracle(t, mh, "lag_clear_race: oracle");
	mh_destroy(mh);
}

/* ---- plpi_reuse_stale_msi ------------------------------------------------------------
 * Domain A DISCARDs its event (+SYNC, both complete at once); the engine frees the
 * physical LPI when the physical DISCARD is queued.  Domain B maps a new event and
 * gets the same physical LPI.  A's device fires before the physical DISCARD ran:
 * the physical ITS still translates it to that pLPI, and the host hands it to B.
 * Expected: A's MSI is dropped (A discarded the event); B sees nothing.
 * Engine: B gets an interrupt its device never sent (isolation). */
static void bug_plpi_reuse_stale_msi(struct tstate *t, uint8_t p)
{
	struct multihost *mh = world(p, 2, 0);
	struct mh_domain *a = pt_dom(mh, 0), *b = pt_dom(mh, 1);
	setup(mh, a, 1, 0x100, 1, 0, 0, LPI_ON);
	setup(mh, b, 1, 0x200, 0, 0, 0, LPI_ON);
	struct vits_event_info ai;
	vits_query_event(a->h->vits, 1, 0, &ai);
	struct its_cmd da[] = { its_mk_devev(ITS_OP_DISCARD, 1, 0), its_mk_sync(0) };
	submit_lagging(a, da, 2);
	mh_prop_write(b, L(5), LPI_ON);
	struct its_cmd mb[] = { its_mk_mapti(1, 0, L(5), 0), its_mk_sync(0) };
	submit_lagging(b, mb, 2);
	struct vits_event_info bi;
	vits_query_event(b->h->vits, 1, 0, &bi);
	printf("  A's event had pLPI %u, B's new event got pLPI %u\n", ai.plpi, bi.plpi);
	mh_fire(a, 1, 0);                       /* A's device, after A's DISCARD completed */
	mh_quiesce(mh);
	T_EQ(t, "plpi_reuse_stale_msi: interrupts B received", 0, injections(b, L(5)));
	oracle(t, mh, "plpi_reuse_stale_msi: oracle (isolation)");
	mh_destroy(mh);
}

/* ---- plpi_reuse_reorder ----------------------------------------------------------------
 * The physical queue is full.  Domain A DISCARDs its event: the physical DISCARD
 * waits in A's outbox, but the pLPI is freed at once.  The physical ITS makes one slot
 * of room; domain B maps an event, gets the same pLPI, and its MAPTI takes the slot
 * before A's DISCARD.  Per-instance outboxes reorder commands across domains: the
 * physical ITS sees MAPTI(B, pLPI) while A's event still maps that pLPI.
 * Expected: an error-free physical stream (pLPIs reused only after their DISCARD
 * reached the physical queue).  Engine: "pINTID already mapped" (and until A's
 * DISCARD runs, A's device interrupts reach B). */
static void bug_plpi_reuse_reorder(struct tstate *t, uint8_t p)
{
	struct multihost *mh = world(p, 2, 128);   /* 3 slots */
	struct mh_domain *a = pt_dom(mh, 0), *b = pt_dom(mh, 1);
	setup(mh, a, 1, 0x100, 1, 0, 0, LPI_ON);
	setup(mh, b, 1, 0x200, 3, 0, 0, LPI_ON);
	/* Fill the physical queue with B's CLEARs (3 slots). */
	struct its_cmd fill[] = { its_mk_devev(ITS_OP_CLEAR, 1, 0), its_mk_devev(ITS_OP_CLEAR, 1, 1),
				  its_mk_devev(ITS_OP_CLEAR, 1, 2) };
	submit_lagging(b, fill, 3);
	struct its_cmd da[] = { its_mk_devev(ITS_OP_DISCARD, 1, 0) };
	submit_lagging(a, da, 1);               /* A's DISCARD waits in A's outbox */
	pits_process(mh->pits, 1);              /* one slot */
	mh_prop_write(b, L(7), LPI_ON);
	struct its_cmd mb[] = { its_mk_mapti(1, 3, L(7), 0) };
	submit_lagging(b, mb, 1);               /* B's MAPTI takes it */
	mh_quiesce(mh);
	size_t nf;
	const struct pits_finding *f = pits_findings(mh->pits, &nf);
	char msg[400] = "";
	if (nf)
		pits_format_finding(&f[0], msg, sizeof(msg));
	t_ok(t, nf == 0, "plpi_reuse_reorder: physical stream error-free", "%s", msg);
	mh_destroy(mh);
}

/* ---- int_double ---------------------------------------------------------------------------
 * A disabled LPI of an assigned device: the device fires (pending physically), the
 * guest sends INT (pending virtually).  One LPI, one pending state: enabling it
 * (write + INV + SYNC) must deliver it once.  Engine before the fix: twice (the
 * virtual copy at the INV, the physical copy when the physical INV ran).  Now the INV
 * that delivers the engine's pending LPI also CLEARs the physical one
 * (vits_policy_released). */
static void bug_int_double(struct tstate *t, uint8_t p)
{
	struct multihost *mh = world(p, 1, 0);
	struct mh_domain *d = pt_dom(mh, 0);
	setup(mh, d, 1, 0x100, 1, 0, 0, LPI_OFF);
	mh_fire(d, 1, 0);
	pt_cmd(d, its_mk_devev(ITS_OP_INT, 1, 0));
	mh_quiesce(mh);
	mh_prop_write(d, L(0), LPI_ON);
	struct its_cmd e[] = { its_mk_devev(ITS_OP_INV, 1, 0), its_mk_sync(0) };
	pt_cmds(d, e, 2);
	mh_quiesce(mh);
	T_EQ(t, "int_double: MSI + INT while disabled, then enable: deliveries", 1,
	     injections(d, L(0)));
	oracle(t, mh, "int_double: oracle");
	mh_destroy(mh);
}

/* ---- unmapped_collection_msi -------------------------------------------------------------------
 * The guest unmaps the collection of a disabled LPI (MAPC V=0); the device fires.
 * The vITS must drop the MSI (semantics.md: "an MSI is dropped ... when the
 * collection is unmapped").  The physical ITS, which knows nothing of the guest's
 * collections, keeps it pending; when the guest maps the collection again and enables
 * the LPI, the engine delivers it.  Expected: 0 deliveries.  Engine: 1. */
static void bug_unmapped_collection_msi(struct tstate *t, uint8_t p)
{
	struct multihost *mh = world(p, 1, 0);
	struct mh_domain *d = pt_dom(mh, 0);
	setup(mh, d, 1, 0x100, 1, 0, 1, LPI_OFF);
	pt_cmd(d, its_mk_mapc(1, 0, 0));
	mh_quiesce(mh);
	enum vits_reason why = mh_fire(d, 1, 0);
	T_EQ(t, "unmapped_collection_msi: the model drops the MSI", VITS_R_COLLECTION_UNMAPPED, why);
	mh_prop_write(d, L(0), LPI_ON);
	struct its_cmd e[] = { its_mk_mapc(1, 1, 1), its_mk_devev(ITS_OP_INV, 1, 0),
			       its_mk_sync(1) };
	pt_cmds(d, e, 3);
	mh_quiesce(mh);
	T_EQ(t, "unmapped_collection_msi: deliveries", 0, injections(d, L(0)));
	oracle(t, mh, "unmapped_collection_msi: oracle");
	mh_destroy(mh);
}

/* ---- unmapped_collection_lost ----------------------------------------------------------------
 * Eager.  A disabled LPI is pending (the device fired); the guest unmaps its
 * collection (MAPC V=0), then enables the LPI's byte (trapped: physical INV at once).
 * The physical ITS delivers the pending LPI; vits_host_plpi translates it, finds the
 * collection unmapped and drops it.  Architecturally a pending LPI stays pending in
 * its redistributor whatever the ITS's collection mapping (semantics.md, MAPC:
 * "Pending LPIs stay where they are pending"); after MAPC V=1 + INV + SYNC it is
 * delivered.  Expected: 1 delivery.  Engine: 0 (lost). */
static void bug_unmapped_collection_lost(struct tstate *t, uint8_t p)
{
	struct multihost *mh = world(p, 1, 0);
	struct mh_domain *d = pt_dom(mh, 0);
	setup(mh, d, 1, 0x100, 1, 0, 1, LPI_OFF);
	mh_fire(d, 1, 0);
	pt_cmd(d, its_mk_mapc(1, 0, 0));
	mh_quiesce(mh);
	mh_prop_write(d, L(0), LPI_ON);
	mh_quiesce(mh);
	struct its_cmd e[] = { its_mk_mapc(1, 1, 1), its_mk_devev(ITS_OP_INV, 1, 0),
			       its_mk_sync(1) };
	pt_cmds(d, e, 3);
	mh_quiesce(mh);
	T_EQ(t, "unmapped_collection_lost: deliveries", 1, injections(d, L(0)));
	oracle(t, mh, "unmapped_collection_lost: oracle");
	mh_destroy(mh);
}

/* ---- disabled_its_msi ---------------------------------------------------------------------------
 * The guest disables its vITS (GITS_CTLR.Enabled = 0) while an LPI of an assigned
 * device is disabled; the device fires.  The vITS drops it (semantics.md: MSIs are
 * dropped while disabled, and vits_host_plpi does so for physical LPIs that arrive).
 * But a physically disabled LPI does not arrive: the physical ITS keeps it pending,
 * and it is delivered once the guest re-enables the ITS and the LPI.
 * Expected: 0 deliveries.  Engine: 1. */
static void bug_disabled_its_msi(struct tstate *t, uint8_t p)
{
	struct multihost *mh = world(p, 1, 0);
	struct mh_domain *d = pt_dom(mh, 0);
	setup(mh, d, 1, 0x100, 1, 0, 0, LPI_OFF);
	mh_enable(d, false);
	enum vits_reason why = mh_fire(d, 1, 0);
	T_EQ(t, "disabled_its_msi: the model drops the MSI", VITS_R_ITS_DISABLED, why);
	mh_enable(d, true);
	mh_prop_write(d, L(0), LPI_ON);
	struct its_cmd e[] = { its_mk_devev(ITS_OP_INV, 1, 0), its_mk_sync(0) };
	pt_cmds(d, e, 2);
	mh_quiesce(mh);
	T_EQ(t, "disabled_its_msi: deliveries", 0, injections(d, L(0)));
	oracle(t, mh, "disabled_its_msi: oracle");
	mh_destroy(mh);
}

/* ---- shared_lpi ------------------------------------------------------------------------------
 * Two events of an assigned device map the same LPI (allowed: the reference model
 * and the engine's virtual state share one LPI between them).  The guest enables it
 * and invalidates through the first event (write + INV(e0) + SYNC).  Configuration
 * belongs to the LPI, so an MSI through either event must be delivered.  The
 * engine updates one event's physical LPI only (forward: the event the INV names;
 * eager, lazy: the one the reverse map names, the last mapped), so the other stays
 * physically disabled and its MSI stays pending.  Expected: 2 deliveries for one
 * MSI through each event.  Engine: 1 (forward, eager, lazy, lazy-global). */
static void bug_shared_lpi(struct tstate *t, uint8_t p)
{
	struct multihost *mh = world(p, 1, 0);
	struct mh_domain *d = pt_dom(mh, 0);
	setup(mh, d, 1, 0x100, 1, 0, 0, LPI_OFF);
	pt_cmd(d, its_mk_mapti(1, 1, L(0), 0));   /* event 1 -> the same LPI */
	mh_quiesce(mh);
	mh_prop_write(d, L(0), LPI_ON);
	struct its_cmd e[] = { its_mk_devev(ITS_OP_INV, 1, 0), its_mk_sync(0) };
	pt_cmds(d, e, 2);
	mh_quiesce(mh);
	mh_fire(d, 1, 0);
	mh_quiesce(mh);
	mh_fire(d, 1, 1);
	mh_quiesce(mh);
	char name[96];
	snprintf(name, sizeof(name), "shared_lpi/%s: one MSI through each event: deliveries",
		 pt_policy(p));
	T_EQ(t, name, 2, injections(d, L(0)));
	mh_destroy(mh);
}


/* ---- shared_lpi_discard -----------------------------------------------------------------------
 * Two events map one LPI: event 0 of an assigned device and event 0 of a virtual
 * one.  The LPI is disabled; the assigned device fires (pending, held physically).
 * The guest DISCARDs the virtual device's event: pending state belongs to the LPI,
 * so it is cleared (semantics.md, DISCARD: "clears its LPI's pending state"; the
 * reference model agrees).  The engine clears only the virtual bit; the physical
 * LPI of the other event stays pending.  Enabling the LPI (write + INV + SYNC):
 * expected 0 deliveries.  Engine: 1 (forward, eager, lazy, lazy-global). */
static void bug_shared_lpi_discard(struct tstate *t, uint8_t p)
{
	struct multihost *mh = world(p, 1, 0);
	struct mh_domain *d = pt_dom(mh, 0);
	setup(mh, d, 1, 0x100, 1, 0, 0, LPI_OFF);
	alias_virtual(mh, d);
	mh_fire(d, 1, 0);
	pt_cmd(d, its_mk_devev(ITS_OP_DISCARD, 2, 0));
	mh_quiesce(mh);
	mh_prop_write(d, L(0), LPI_ON);
	struct its_cmd e[] = { its_mk_devev(ITS_OP_INV, 1, 0), its_mk_sync(0) };
	pt_cmds(d, e, 2);
	mh_quiesce(mh);
	T_EQ(t, "shared_lpi_discard: pending cleared by the DISCARD, then enable: deliveries", 0,
	     injections(d, L(0)));
	oracle(t, mh, "shared_lpi_discard: oracle");
	mh_destroy(mh);
}

/* ---- lag_mapti_msi ------------------------------------------------------------------------------
 * The guest maps an event of an assigned device (MAPTI, no SYNC) and, once CREADR
 * has passed the MAPTI, the device fires.  The guest saw the MAPTI complete, so the
 * MSI must be translated: 1 delivery (the LPI is enabled).  The engine let CREADR
 * pass when the physical MAPTI was queued, not run, and the lagging physical ITS
 * dropped the MSI (event not mapped yet).  Found by policy_random flags 36. */
static void bug_lag_mapti_msi(struct tstate *t, uint8_t p)
{
	struct multihost *mh = world(p, 1, 0);
	struct mh_domain *d = pt_dom(mh, 0);
	setup(mh, d, 1, 0x100, 0, 0, 0, LPI_ON);
	mh_prop_write(d, L(0), LPI_ON);
	struct its_cmd c = its_mk_mapti(1, 0, L(0), 0);
	submit_lagging(d, &c, 1);
	struct vits_queue_info q;
	for (unsigned k = 0; k < 8; k++) {
		vits_query_queue(d->h->vits, &q);
		if (q.creadr == q.cwriter)
			break;                  /* the guest sees the MAPTI complete */
		pits_process(mh->pits, 1);
		vits_host_poll(mh->host);
		vits_resume(d->h->vits);
	}
	T_TRUE(t, "lag_mapti_msi: CREADR passed the MAPTI", q.creadr == q.cwriter);
	mh_fire(d, 1, 0);
	mh_quiesce(mh);
	T_EQ(t, "lag_mapti_msi: MSI after the MAPTI completed: deliveries", 1,
	     injections(d, L(0)));
	oracle(t, mh, "lag_mapti_msi: oracle");
	mh_destroy(mh);
}

/* ---- mapti_alias_pending -------------------------------------------------------------------------
 * A virtual device's event maps a disabled LPI and fires (pending).  The guest writes
 * an enabling byte without INV, then maps a second event to the same LPI: MAPTI reads
 * the byte, and the LPI, pending, is now enabled: 1 delivery (the reference model
 * delivers it; configuration and pending state are per INTID).  The engine read the
 * byte but delivered nothing until a later INV.  Found by policy_random flags 1. */
static void bug_mapti_alias_pending(struct tstate *t, uint8_t p)
{
	struct multihost *mh = world(p, 1, 0);
	struct mh_domain *d = pt_dom(mh, 0);
	setup(mh, d, 1, 0x100, 0, 0, 0, LPI_OFF);
	mh_prop_write(d, L(0), LPI_OFF);
	struct its_cmd c[] = { pt_mapd(2, 1), its_mk_mapti(2, 0, L(0), 0), its_mk_sync(0) };
	pt_cmds(d, c, 3);
	mh_quiesce(mh);
	mh_fire(d, 2, 0);
	mh_quiesce(mh);
	mh_prop_write(d, L(0), LPI_ON);
	struct its_cmd m[] = { its_mk_mapti(2, 1, L(0), 0), its_mk_sync(0) };
	pt_cmds(d, m, 2);
	mh_quiesce(mh);
	T_EQ(t, "mapti_alias_pending: MAPTI of an alias reads the enable: deliveries", 1,
	     injections(d, L(0)));
	oracle(t, mh, "mapti_alias_pending: oracle");
	mh_destroy(mh);
}

/* ---- clear_late_plpi ---------------------------------------------------------------------------
 * An assigned device's LPI is disabled and pending on the physical ITS.  Under eager
 * the guest writes an enabling byte (trapped: host byte enabled, physical INV
 * queued) but does not INV yet, then CLEARs the event; the physical ITS lags.  The
 * physical INV runs first and the host receives the interrupt, which was pending
 * before the CLEAR; the engine, having already run the CLEAR, made it pending again.
 * Expected after the guest's INV + SYNC: 0 deliveries (the CLEAR removed it).
 * Found by policy_random flags 32; other policies do not reach this order. */
static void bug_clear_late_plpi(struct tstate *t, uint8_t p)
{
	struct multihost *mh = world(p, 1, 0);
	struct mh_domain *d = pt_dom(mh, 0);
	setup(mh, d, 1, 0x100, 1, 0, 0, LPI_OFF);
	mh_fire(d, 1, 0);
	mh_quiesce(mh);
	mh_prop_write(d, L(0), LPI_ON);         /* eager: host byte + physical INV */
	struct its_cmd c = its_mk_devev(ITS_OP_CLEAR, 1, 0);
	submit_lagging(d, &c, 1);
	mh_quiesce(mh);
	struct its_cmd e[] = { its_mk_devev(ITS_OP_INV, 1, 0), its_mk_sync(0) };
	pt_cmds(d, e, 2);
	mh_quiesce(mh);
	T_EQ(t, "clear_late_plpi: pending before a CLEAR, then enable: deliveries", 0,
	     injections(d, L(0)));
	oracle(t, mh, "clear_late_plpi: oracle");
	mh_destroy(mh);
}

/* ---- aliased_pending_not_merged ---------------------------------------------------------------
 * Two events map one LPI: event 0 of an assigned device and event 0 of a virtual
 * one.  The LPI is disabled; both devices fire.  Pending state belongs to the LPI, so
 * the two MSIs make it pending once; enabling it (write + INV + SYNC) delivers it
 * once (the reference model).  The engine holds the virtual event's pending state
 * itself and the assigned event's in the physical LPI.  Engine before the fix: twice
 * under forward, eager, lazy and lazy-global (virtual keeps host LPIs enabled, so the
 * physical interrupt reaches the engine at once and merges there).  Now the INV that
 * delivers the engine's pending LPI CLEARs the aliases' physical LPIs: the MSIs merged
 * into the one delivery (vits_policy_released); policy_random flags 65. */
static void bug_aliased_pending_not_merged(struct tstate *t, uint8_t p)
{
	struct multihost *mh = world(p, 1, 0);
	struct mh_domain *d = pt_dom(mh, 0);
	setup(mh, d, 1, 0x100, 1, 0, 0, LPI_OFF);
	alias_virtual(mh, d);
	mh_fire(d, 1, 0);
	mh_fire(d, 2, 0);
	mh_quiesce(mh);
	mh_prop_write(d, L(0), LPI_ON);
	struct its_cmd e[] = { its_mk_devev(ITS_OP_INV, 2, 0), its_mk_sync(0) };
	pt_cmds(d, e, 2);
	mh_quiesce(mh);
	T_EQ(t, "aliased_pending_not_merged: two MSIs, one pending LPI, enable: deliveries", 1,
	     injections(d, L(0)));
	oracle(t, mh, "aliased_pending_not_merged: oracle");
	mh_destroy(mh);
}

/* ---- aliased_physical_pending -----------------------------------------------------------------
 * Two events of an assigned device map one LPI, so it has two physical LPIs.  The LPI
 * is disabled; both events fire: each physical LPI latches its MSI.  Pending state
 * belongs to the LPI, so enabling it (write + INV + SYNC) must deliver once.  Engine:
 * the physical INVs release both physical LPIs, each reaches the host enabled, and the
 * engine cannot tell the second from a new MSI after the first delivery: twice under
 * forward, eager, lazy and lazy-global (virtual keeps host LPIs enabled: they merge in
 * the engine).  Found by the multidomain fuzzer once it generated aliases again.
 * Fix: the physical LPIs of an aliased LPI stay enabled, as under virtual, so its
 * pending state lives in the engine.  Then, once one event maps the LPI again (DISCARD
 * of the other, MAPD V=0 of its device), the remaining physical LPI must carry the
 * guest's byte again: a disabled LPI keeps its device off the host (not under virtual,
 * which takes every MSI). */
static void bug_aliased_physical_pending(struct tstate *t, uint8_t p)
{
	struct multihost *mh = world(p, 1, 0);
	struct mh_domain *d = pt_dom(mh, 0);
	setup(mh, d, 1, 0x100, 1, 0, 0, LPI_OFF);
	struct its_cmd a[] = { its_mk_mapti(1, 1, L(0), 0), its_mk_sync(0) };
	pt_cmds(d, a, 2);
	mh_quiesce(mh);
	mh_fire(d, 1, 0);
	mh_fire(d, 1, 1);
	mh_quiesce(mh);
	mh_prop_write(d, L(0), LPI_ON);
	struct its_cmd e[] = { its_mk_devev(ITS_OP_INV, 1, 0), its_mk_sync(0) };
	pt_cmds(d, e, 2);
	mh_quiesce(mh);
	T_EQ(t, "aliased_physical_pending: two MSIs, one pending LPI, enable: deliveries", 1,
	     injections(d, L(0)));
	oracle(t, mh, "aliased_physical_pending: oracle");

	uint64_t storm = p == VITS_POLICY_VIRTUAL ? 1 : 0;
	struct vits_stats s0, s1;
	/* Disabled while aliased, then the second event discarded. */
	mh_prop_write(d, L(0), LPI_OFF);
	struct its_cmd f[] = { its_mk_devev(ITS_OP_INV, 1, 0), its_mk_sync(0),
			       its_mk_devev(ITS_OP_DISCARD, 1, 1), its_mk_sync(0) };
	pt_cmds(d, f, 4);
	mh_quiesce(mh);
	mh_stats(d, &s0);
	mh_fire(d, 1, 0);
	mh_quiesce(mh);
	mh_stats(d, &s1);
	T_EQ(t, "aliased_physical_pending: unaliased by DISCARD, disabled: host LPIs", storm,
	     s1.host_lpis - s0.host_lpis);
	oracle(t, mh, "aliased_physical_pending: oracle after DISCARD");
	/* Aliased again through another assigned device: its MSIs reach the host... */
	if (mh_assign(d, 3, 0x300) < 0)
		t_broken("assign");
	struct its_cmd g[] = { pt_mapd(3, 1), its_mk_mapti(3, 0, L(0), 0), its_mk_sync(0) };
	pt_cmds(d, g, 3);
	mh_quiesce(mh);
	mh_stats(d, &s0);
	mh_fire(d, 1, 0);
	mh_quiesce(mh);
	mh_stats(d, &s1);
	T_EQ(t, "aliased_physical_pending: aliased, disabled: host LPIs", 1,
	     s1.host_lpis - s0.host_lpis);
	/* ...until that device is unmapped. */
	struct its_cmd h[] = { its_mk_mapd(3, 0, 0, 0), its_mk_sync(0) };
	pt_cmds(d, h, 2);
	mh_quiesce(mh);
	mh_stats(d, &s0);
	mh_fire(d, 1, 0);
	mh_quiesce(mh);
	mh_stats(d, &s1);
	T_EQ(t, "aliased_physical_pending: unaliased by MAPD V=0, disabled: host LPIs", storm,
	     s1.host_lpis - s0.host_lpis);
	T_EQ(t, "aliased_physical_pending: deliveries at the end", 1, injections(d, L(0)));
	oracle(t, mh, "aliased_physical_pending: oracle after MAPD V=0");
	mh_destroy(mh);
}

/* ---- pending_split_window -------------------------------------------------------------------
 * fuzz/open/multidomain-pending-split-eager, reduced to one event of an assigned device
 * and no alias.  A disabled LPI is pending physically.  The guest writes an enabling
 * byte and has not sent its INV yet: under eager the trap sets the host byte and sends
 * INV, so the physical LPI reaches the host while the guest's configuration as last
 * read still disables it, and the engine holds it pending.  The guest writes a disabling
 * byte (the trap sends INV again) and the device fires: that MSI pends physically.
 * Enabling (write + INV + SYNC) must deliver once: both MSIs made the one LPI pending.
 * Engine before the fix, eager: twice (the engine's pending state at the INV, the
 * physical one when the trap's INV ran). */
static void bug_pending_split_window(struct tstate *t, uint8_t p)
{
	struct multihost *mh = world(p, 1, 0);
	struct mh_domain *d = pt_dom(mh, 0);
	setup(mh, d, 1, 0x100, 1, 0, 0, LPI_OFF);
	mh_fire(d, 1, 0);
	mh_quiesce(mh);
	mh_prop_write(d, L(0), LPI_ON);
	mh_quiesce(mh);
	mh_prop_write(d, L(0), LPI_OFF);
	mh_quiesce(mh);
	mh_fire(d, 1, 0);
	mh_quiesce(mh);
	mh_prop_write(d, L(0), LPI_ON);
	struct its_cmd e[] = { its_mk_devev(ITS_OP_INV, 1, 0), its_mk_sync(0) };
	pt_cmds(d, e, 2);
	mh_quiesce(mh);
	T_EQ(t, "pending_split_window: two MSIs while disabled, then enable: deliveries", 1,
	     injections(d, L(0)));
	oracle(t, mh, "pending_split_window: oracle");
	mh_destroy(mh);
}

/* ---- sync_after_unmap --------------------------------------------------------------------------
 * The guest unmaps its last assigned device (MAPD V=0: physical DISCARD + MAPD V=0)
 * and sends SYNC.  semantics.md: a guest SYNC sends "SYNC on each pCPU sent commands
 * since its last SYNC, plus the vCPU's own pCPU unless sync_squash".  Expected: the
 * SYNC reaches the physical ITS (pCPU 0).  Engine: nothing (vits_policy_sync returns
 * when no assigned device is mapped), the SYNC comes only at teardown, counted as
 * teardown. */
static void bug_sync_after_unmap(struct tstate *t, uint8_t p)
{
	struct multihost *mh = world(p, 1, 0);
	struct mh_domain *d = pt_dom(mh, 0);
	setup(mh, d, 1, 0x100, 1, 0, 0, LPI_ON);
	struct vits_host_stats h0 = pt_host(mh);
	struct its_cmd c[] = { pt_unmapd(1), its_mk_sync(0) };
	pt_cmds(d, c, 2);
	mh_quiesce(mh);
	struct vits_host_stats h1 = pt_host(mh);
	T_EQ(t, "sync_after_unmap: physical DISCARD + MAPD V=0", 2,
	     pt_d(&h0, &h1, ITS_IDX_DISCARD) + pt_d(&h0, &h1, ITS_IDX_MAPD));
	T_EQ(t, "sync_after_unmap: physical SYNC after them", 1, pt_d(&h0, &h1, ITS_IDX_SYNC));
	mh_destroy(mh);
}

/* ---- itt_early_free ------------------------------------------------------------------------------
 * MAPD V=1 then MAPD V=0 of an assigned device while the physical ITS lags: the
 * engine calls itt_free when it queues the physical MAPD V=0, before the physical
 * ITS has even run the MAPD V=1 that uses the ITT.  A host allocator that reuses the
 * memory at once hands the physical ITS memory it is still using.  Expected: the ITT
 * is freed only after the physical ITS is done with it (or vits.h says that the host
 * must defer reuse until its physical queue has passed the MAPD V=0).  Engine: freed
 * early (strict_itt makes it a finding). */
static void bug_itt_early_free(struct tstate *t, uint8_t p)
{
	struct mh_config mc;
	mh_config_default(&mc);
	mc.pits.strict_itt = true;
	struct multihost *mh;
	if (mh_create(&mc, &mh) < 0)
		t_broken("mh_create");
	struct harness_config hc;
	harness_config_default(&hc);
	hc.vits.policy = p;
	struct mh_domain *d;
	if (mh_add_domain(mh, &hc, &d) < 0 || mh_guest_init(d, 16, 16))
		t_broken("domain");
	mh_assign(d, 1, 0x100);
	struct its_cmd c[] = { pt_mapd(1, 2), pt_unmapd(1), its_mk_sync(0) };
	submit_lagging(d, c, 3);
	mh_quiesce(mh);
	const struct pits_stats *ps = pits_get_stats(mh->pits);
	T_EQ(t, "itt_early_free: ITTs freed while the physical ITS still used them", 0,
	     ps->itt_freed_in_use);
	size_t nf;
	pits_findings(mh->pits, &nf);
	T_EQ(t, "itt_early_free: physical findings", 0, nf);
	mh_destroy(mh);
}

struct bug {
	const char *name;
	void (*fn)(struct tstate *t, uint8_t p);
};

static const struct bug bugs[] = {
	{ "lag_inv_lost", bug_lag_inv_lost },
	{ "lag_clear_race", bug_lag_clear_race },
	{ "plpi_reuse_stale_msi", bug_plpi_reuse_stale_msi },
	{ "plpi_reuse_reorder", bug_plpi_reuse_reorder },
	{ "int_double", bug_int_double },
	{ "unmapped_collection_msi", bug_unmapped_collection_msi },
	{ "unmapped_collection_lost", bug_unmapped_collection_lost },
	{ "disabled_its_msi", bug_disabled_its_msi },
	{ "shared_lpi", bug_shared_lpi },
	{ "shared_lpi_discard", bug_shared_lpi_discard },
	{ "aliased_pending_not_merged", bug_aliased_pending_not_merged },
	{ "pending_split_window", bug_pending_split_window },
	{ "aliased_physical_pending", bug_aliased_physical_pending },
	{ "sync_after_unmap", bug_sync_after_unmap },
	{ "lag_mapti_msi", bug_lag_mapti_msi },
	{ "mapti_alias_pending", bug_mapti_alias_pending },
	{ "clear_late_plpi", bug_clear_late_plpi },
	{ "itt_early_free", bug_itt_early_free },
};

int main(int argc, char **argv)
{
	struct tstate t = { 0 };
	const char *which = argc > 1 ? argv[1] : "all";
	bool matrix = !strcmp(which, "matrix");
	bool found = false;
	if (matrix) {
		/* Which policies show which finding (docs/policies.md). */
		printf("| reproduction (policy_finding_/policy_limit_...) |");
		for (uint8_t p = 0; p < VITS_POLICY_COUNT; p++)
			printf(" %s |", pt_policy(p));
		printf("\n|---|");
		for (uint8_t p = 0; p < VITS_POLICY_COUNT; p++)
			printf("---|");
		printf("\n");
	}
	for (size_t i = 0; i < sizeof(bugs) / sizeof(bugs[0]); i++) {
		if (!strcmp(which, "list")) {
			printf("%s\n", bugs[i].name);
			found = true;
			continue;
		}
		if (!matrix && strcmp(which, "all") && strcmp(which, bugs[i].name))
			continue;
		found = true;
		if (matrix)
			printf("| %s |", bugs[i].name);
		else
			printf("== %s\n", bugs[i].name);
		for (uint8_t p = 0; p < VITS_POLICY_COUNT; p++) {
			if (!matrix)
				printf("-- %s\n", pt_policy(p));
			struct tstate one = { .quiet_pass = matrix };
			int saved = 0;
			if (matrix) {
				/* Keep the table clean: run the checks silently. */
				fflush(stdout);
				saved = dup(1);
				if (!freopen("/dev/null", "w", stdout))
					t_broken("freopen");
			}
			bugs[i].fn(&one, p);
			if (matrix) {
				fflush(stdout);
				dup2(saved, 1);
				close(saved);
				printf(" %s |", one.fail ? "**bug**" : "ok");
			}
			t.pass += one.pass;
			t.fail += one.fail;
		}
		if (matrix)
			printf("\n");
	}
	if (!found)
		t_broken("unknown bug name");
	if (matrix)
		return 0;
	return t_finish(&t, "policy_bugs");
}
