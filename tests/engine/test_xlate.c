/*
 * engine_xlate: the MSI translation cache (docs/semantics.md "Translation cache").
 * After an MSI fills the cache, each invalidating command (DISCARD, MOVI, MAPD V=0,
 * MAPD V=1 remap, MAPC unmap and remap, MOVALL, disabling the ITS, vits_reset) must
 * change the next MSI's outcome exactly as the tables say; a stale entry is a bug.
 * xlate_hits / xlate_misses must move as documented (whole flush vs one entry).
 * Finally a seeded random walk checks every MSI against the engine's own tables with
 * a tiny cache that collides all the time.
 */
#include "eng.h"

#include <string.h>

enum { MISS = 0, HIT = 1, NONE = 2 };

/* One MSI; reason, and on success the injection (vcpu, intid); the cache counter
 * that must move (HIT, MISS, or NONE for neither). */
static void msi_at(int line, struct eng *e, uint32_t dev, uint32_t ev, int reason, uint32_t vcpu,
		   uint32_t intid, int cache, const char *what)
{
	struct vits_stats a = eng_stats(e);
	size_t n0 = eng_ninj(e);
	int got = vits_msi(e->v, dev, ev);
	struct vits_stats b = eng_stats(e);
	check_reason(__FILE__, line, reason, got, "%s: MSI (%u,%u)", what, dev, ev);
	if (reason == VITS_R_NONE) {
		check_u64(__FILE__, line, n0 + 1, eng_ninj(e), "%s: one injection", what);
		if (eng_ninj(e) == n0 + 1) {
			check_u64(__FILE__, line, vcpu, eng_inj(e, n0)->vcpu, "%s: vCPU", what);
			check_u64(__FILE__, line, intid, eng_inj(e, n0)->intid, "%s: INTID", what);
		}
	} else {
		check_u64(__FILE__, line, n0, eng_ninj(e), "%s: no injection", what);
		check_u64(__FILE__, line, a.msis_dropped + 1, b.msis_dropped, "%s: msis_dropped", what);
	}
	check_u64(__FILE__, line, a.xlate_hits + (cache == HIT), b.xlate_hits, "%s: xlate_hits", what);
	check_u64(__FILE__, line, a.xlate_misses + (cache == MISS), b.xlate_misses, "%s: xlate_misses",
		  what);
}
#define MSI(e, d, ev, r, vcpu, intid, cache, what) \
	msi_at(__LINE__, (e), (d), (ev), (r), (vcpu), (intid), (cache), (what))

static struct eng *new_engine(uint32_t cache)
{
	struct eng_opts o;
	eng_opts_default(&o);
	o.hc.vits.xlate_cache = cache;
	struct eng *e = eng_new(&o);
	if (e) {
		eng_map_colls(e);
		eng_mapd(e, 1, 3);
		eng_mapti(e, 1, 0, 8192, 0, LPI_ON);
	}
	return e;
}

static void test_each_invalidation(void)
{
	struct eng *e = new_engine(0);
	if (!e)
		return;
	MSI(e, 1, 0, VITS_R_NONE, 0, 8192, MISS, "first MSI");
	MSI(e, 1, 0, VITS_R_NONE, 0, 8192, HIT, "second MSI");

	/* DISCARD drops the entry. */
	EXPECT_OK(e, its_mk_devev(ITS_OP_DISCARD, 1, 0), "DISCARD");
	MSI(e, 1, 0, VITS_R_EVENT_UNMAPPED, 0, 0, MISS, "after DISCARD");
	eng_mapti(e, 1, 0, 8200, 0, LPI_ON);
	MSI(e, 1, 0, VITS_R_NONE, 0, 8200, MISS, "re-MAPTI to 8200");
	MSI(e, 1, 0, VITS_R_NONE, 0, 8200, HIT, "re-MAPTI cached");

	/* MOVI drops the entry. */
	EXPECT_OK(e, its_mk_movi(1, 0, 2), "MOVI to ICID 2");
	MSI(e, 1, 0, VITS_R_NONE, 2, 8200, MISS, "after MOVI");
	MSI(e, 1, 0, VITS_R_NONE, 2, 8200, HIT, "after MOVI cached");

	/* MAPD V=0 flushes. */
	EXPECT_OK(e, its_mk_mapd(1, 0, 0, 0), "MAPD V=0");
	MSI(e, 1, 0, VITS_R_DEVICE_UNMAPPED, 0, 0, MISS, "after MAPD V=0");
	eng_mapd(e, 1, 3);
	MSI(e, 1, 0, VITS_R_EVENT_UNMAPPED, 0, 0, MISS, "after MAPD V=1 (empty ITT)");
	eng_mapti(e, 1, 0, 8201, 1, LPI_ON);
	MSI(e, 1, 0, VITS_R_NONE, 1, 8201, MISS, "mapped again");
	MSI(e, 1, 0, VITS_R_NONE, 1, 8201, HIT, "cached");

	/* MAPD V=1 on the mapped device (remap) flushes: its events are gone. */
	EXPECT_OK(e, its_mk_mapd(1, 4, eng_itt(9), 1), "MAPD V=1 remap");
	MSI(e, 1, 0, VITS_R_EVENT_UNMAPPED, 0, 0, MISS, "after MAPD remap");
	eng_mapti(e, 1, 0, 8202, 3, LPI_ON);
	MSI(e, 1, 0, VITS_R_NONE, 3, 8202, MISS, "mapped to ICID 3");
	MSI(e, 1, 0, VITS_R_NONE, 3, 8202, HIT, "cached");

	/* MAPC unmap and remap flush. */
	EXPECT_OK(e, its_mk_mapc(3, 0, 0), "MAPC ICID 3 V=0");
	MSI(e, 1, 0, VITS_R_COLLECTION_UNMAPPED, 0, 0, MISS, "after MAPC unmap");
	EXPECT_OK(e, its_mk_mapc(3, 1, 1), "MAPC ICID 3 -> vCPU 1");
	MSI(e, 1, 0, VITS_R_NONE, 1, 8202, MISS, "after MAPC remap");
	MSI(e, 1, 0, VITS_R_NONE, 1, 8202, HIT, "cached");
	EXPECT_OK(e, its_mk_mapc(3, 2, 1), "MAPC ICID 3 -> vCPU 2 without unmap");
	MSI(e, 1, 0, VITS_R_NONE, 2, 8202, MISS, "after MAPC retarget");
	MSI(e, 1, 0, VITS_R_NONE, 2, 8202, HIT, "cached");

	/* MOVALL flushes; the collection still decides the target. */
	EXPECT_OK(e, its_mk_movall(2, 0), "MOVALL 2 -> 0");
	MSI(e, 1, 0, VITS_R_NONE, 2, 8202, MISS, "after MOVALL");

	/* Disabling drops MSIs and flushes. */
	harness_enable(e->h, false);
	MSI(e, 1, 0, VITS_R_ITS_DISABLED, 0, 0, NONE, "while disabled");
	harness_enable(e->h, true);
	MSI(e, 1, 0, VITS_R_NONE, 2, 8202, MISS, "after re-enable");
	MSI(e, 1, 0, VITS_R_NONE, 2, 8202, HIT, "cached");

	/* MAPD of another device flushes the whole cache too. */
	eng_mapd(e, 2, 0);
	MSI(e, 1, 0, VITS_R_NONE, 2, 8202, MISS, "after MAPD of another device");

	/* Commands that change no translation keep the entry. */
	EXPECT_OK(e, its_mk_devev(ITS_OP_INV, 1, 0), "INV");
	EXPECT_OK(e, its_mk_invall(3), "INVALL");
	EXPECT_OK(e, its_mk_sync(2), "SYNC");
	EXPECT_OK(e, its_mk_devev(ITS_OP_INT, 1, 0), "INT");
	EXPECT_OK(e, its_mk_devev(ITS_OP_CLEAR, 1, 0), "CLEAR");
	eng_mapti(e, 1, 1, 8203, 0, LPI_ON);
	MSI(e, 1, 0, VITS_R_NONE, 2, 8202, HIT, "INV/INVALL/SYNC/INT/CLEAR/MAPTI keep the entry");

	/* A cached translation still honours the enable bit as last invalidated. */
	eng_prop(e, 8202, LPI_OFF);
	EXPECT_OK(e, its_mk_devev(ITS_OP_INV, 1, 0), "INV disables 8202");
	size_t n0 = eng_ninj(e);
	CHECK_EQ(0, vits_msi(e->v, 1, 0), "MSI to a disabled LPI is not dropped");
	CHECK_EQ(n0, eng_ninj(e), "but not delivered");
	CHECK_EQ(1, eng_lpi(e, 8202).pending, "pending");
	CHECK_EQ(2, eng_lpi(e, 8202).pending_vcpu, "pending on vCPU 2");
	eng_prop(e, 8202, LPI_ON);
	EXPECT_OK(e, its_mk_devev(ITS_OP_INV, 1, 0), "INV enables 8202");
	CHECK_EQ(n0 + 1, eng_ninj(e), "delivered by INV");

	/* vits_reset forgets everything, the cache included. */
	MSI(e, 1, 0, VITS_R_NONE, 2, 8202, HIT, "cached before reset");
	CHECK_EQ(0, harness_reset_all(e->h), "harness_reset_all");
	CHECK_EQ(0, harness_guest_init(e->h, ENG_QUEUE_GPA, 1, ENG_DEVTAB_GPA, 8, 4096, false,
				       ENG_PROP_GPA, 16), "guest init after reset");
	MSI(e, 1, 0, VITS_R_DEVICE_UNMAPPED, 0, 0, MISS, "after vits_reset");
	eng_free(e);
}

/* A one-entry cache: every pair of events collides. */
static void test_collisions(void)
{
	struct eng *e = new_engine(1);
	if (!e)
		return;
	eng_mapti(e, 1, 1, 8193, 1, LPI_ON);
	MSI(e, 1, 0, VITS_R_NONE, 0, 8192, MISS, "A");
	MSI(e, 1, 1, VITS_R_NONE, 1, 8193, MISS, "B evicts A");
	MSI(e, 1, 1, VITS_R_NONE, 1, 8193, HIT, "B cached");
	EXPECT_OK(e, its_mk_devev(ITS_OP_DISCARD, 1, 0), "DISCARD A (slot holds B)");
	MSI(e, 1, 1, VITS_R_NONE, 1, 8193, HIT, "B still cached");
	MSI(e, 1, 0, VITS_R_EVENT_UNMAPPED, 0, 0, MISS, "A unmapped");
	EXPECT_OK(e, its_mk_movi(1, 1, 3), "MOVI B");
	MSI(e, 1, 1, VITS_R_NONE, 3, 8193, MISS, "B after MOVI");
	/* Out-of-range MSIs. */
	MSI(e, 4096, 0, VITS_R_DEVICE_OOR, 0, 0, MISS, "DeviceID 2^12");
	MSI(e, 0xffffffffu, 0xffffffffu, VITS_R_DEVICE_OOR, 0, 0, MISS, "DeviceID 0xffffffff");
	MSI(e, 1, 16, VITS_R_EVENT_OOR, 0, 0, MISS, "EventID 16");
	MSI(e, 1, 0xffffffffu, VITS_R_EVENT_OOR, 0, 0, MISS, "EventID 0xffffffff");
	MSI(e, 7, 0, VITS_R_DEVICE_UNMAPPED, 0, 0, MISS, "unmapped device");
	eng_free(e);
}

/* Random walk: after each command, every MSI matches the tables. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void test_random_walk(void)
{
	struct eng *e = new_engine(4);
	if (!e)
		return;
	e->record = false;
	for (uint32_t i = 8192; i < 8192 + 64; i++)
		eng_prop(e, i, LPI_ON);
	unsigned mismatches = 0, checked = 0;
	for (int step = 0; step < 3000; step++) {
		uint32_t d = rnd(4), ev = rnd(4);
		struct its_cmd c;
		switch (rnd(8)) {
		case 0: c = its_mk_mapd(d, 1, eng_itt(d), rnd(4) != 0); break;
		case 1: case 2: c = its_mk_mapti(d, ev, 8192 + rnd(64), rnd(5)); break;
		case 3: c = its_mk_devev(ITS_OP_DISCARD, d, ev); break;
		case 4: c = its_mk_movi(d, ev, rnd(5)); break;
		case 5: c = its_mk_mapc(rnd(5), rnd(4), rnd(3) != 0); break;
		case 6: c = its_mk_movall(rnd(4), rnd(4)); break;
		default:
			harness_enable(e->h, rnd(4) != 0);
			c = its_mk_sync(0);
			break;
		}
		eng_cmd(e, c);
		for (uint32_t dd = 0; dd < 4; dd++) {
			for (uint32_t ee = 0; ee < 4; ee++) {
				/* What the tables say. */
				int want = VITS_R_NONE;
				uint32_t wv = 0, wi = 0;
				struct vits_device_info di;
				struct vits_event_info ei;
				struct vits_queue_info qi;
				vits_query_queue(e->v, &qi);
				if (!qi.enabled)
					want = VITS_R_ITS_DISABLED;
				else if (vits_query_device(e->v, dd, &di) != 0)
					want = VITS_R_DEVICE_UNMAPPED;
				else if (ee >> di.event_bits)
					want = VITS_R_EVENT_OOR;
				else if (vits_query_event(e->v, dd, ee, &ei) != 0)
					want = VITS_R_EVENT_UNMAPPED;
				else if (vits_query_collection(e->v, ei.icid, &wv) != 0)
					want = VITS_R_COLLECTION_UNMAPPED;
				else
					wi = ei.intid;
				size_t n0 = eng_ninj(e);
				int got = vits_msi(e->v, dd, ee);
				bool ok = got == want;
				if (ok && want == VITS_R_NONE)
					ok = eng_ninj(e) == n0 + 1 && eng_inj(e, n0)->vcpu == wv &&
					     eng_inj(e, n0)->intid == wi;
				if (!ok && mismatches++ < 5)
					CHECK_EQ(((uint64_t)want << 40) | ((uint64_t)wv << 32) | wi,
						 ((uint64_t)got << 40) |
							 (eng_ninj(e) > n0 ? ((uint64_t)eng_inj(e, n0)->vcpu << 32) |
										    eng_inj(e, n0)->intid
									   : 0),
						 "step %d MSI (%u,%u) (reason<<40 | vcpu<<32 | intid)", step, dd, ee);
				checked++;
			}
		}
		if (e->h->injects.n > 100000)
			harness_reset(e->h);
	}
	CHECK_EQ(0, mismatches, "random walk: MSIs disagreeing with the tables (of %u)", checked);
	struct vits_stats s = eng_stats(e);
	CHECK(s.xlate_hits > 1000, "random walk exercised hits (%llu)", (unsigned long long)s.xlate_hits);
	eng_free(e);
}

int main(void)
{
	test_each_invalidation();
	test_collisions();
	test_random_walk();
	return check_summary();
}
