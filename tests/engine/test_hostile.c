/*
 * engine_hostile: the two-level device table (4K/16K/64K pages, L1 entry valid and
 * invalid, L1 index beyond the table, L1 read outside RAM), hostile IDs at and past
 * every limit, ITT / property table outside guest RAM, the memory cap, a seeded
 * random command storm, and API misuse (named negative codes, vits_strerror).
 * docs/semantics.md "Tables and state", "Commands", "LPIs"; vits.h for the API.
 */
#include "eng.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define L1_GPA 0x40100000ull
#define L2_GPA 0x40800000ull

static struct eng *raw_engine(uint8_t devb, uint32_t mem_cap)
{
	struct eng_opts o;
	eng_opts_default(&o);
	o.no_guest_init = true;
	o.hc.vits.devid_bits = devb;
	o.hc.vits.eventid_bits = 8;
	o.hc.vits.mem_cap = mem_cap;
	struct eng *e = eng_new(&o);
	if (!e)
		return NULL;
	uint64_t cb = GITS_FIELD_SET(GITS_FIELD_SET(ENG_QUEUE_GPA, CBASER, VALID, 1), CBASER, SIZE, 0);
	eng_wr(e, GITS_CBASER, 8, cb);
	vits_set_prop_table(e->v, ENG_PROP_GPA, 16);
	return e;
}

static void set_baser0(struct eng *e, uint64_t val)
{
	eng_wr(e, GITS_CTLR, 4, 0);
	eng_wr(e, GITS_BASERn(0), 8, val);
	eng_wr(e, GITS_CTLR, 4, 1);
}

static void l1_write(struct eng *e, uint64_t l1, uint64_t idx, uint64_t val)
{
	CHECK_EQ(0, guest_ram_write_u64(e->h->ram, l1 + 8 * idx, val), "write L1[%llu]",
		 (unsigned long long)idx);
}

static void test_two_level(void)
{
	static const unsigned pages[] = { 4096, 16384, 65536 };
	for (size_t p = 0; p < 3; p++) {
		unsigned ps = pages[p];
		uint64_t per = ps / 8;          /* DeviceIDs per L2 page, and L1 entries per page */
		struct eng *e = raw_engine(32, 0);
		if (!e)
			continue;
		char w[128];
		set_baser0(e, harness_baser0_value(L1_GPA, 1, ps, true));
		l1_write(e, L1_GPA, 0, L2_GPA | (1ull << 63));
		l1_write(e, L1_GPA, 1, 0);
		l1_write(e, L1_GPA, 2, (L2_GPA + ps) | (1ull << 63));
		l1_write(e, L1_GPA, 3, 0x7fffffffffffffffull);     /* everything but Valid */
		l1_write(e, L1_GPA, per - 1, (L2_GPA + 2 * ps) | (1ull << 63));

		snprintf(w, sizeof(w), "%uK: MAPD DeviceID 0 (L1[0] valid)", ps / 1024);
		EXPECT_OK(e, its_mk_mapd(0, 0, eng_itt(0), 1), w);
		snprintf(w, sizeof(w), "%uK: MAPD last DeviceID of L1[0]", ps / 1024);
		EXPECT_OK(e, its_mk_mapd((uint32_t)per - 1, 0, eng_itt(1), 1), w);
		snprintf(w, sizeof(w), "%uK: MAPD first DeviceID of invalid L1[1]", ps / 1024);
		EXPECT_FAIL(e, its_mk_mapd((uint32_t)per, 0, eng_itt(2), 1), VITS_R_DEVICE_TABLE, 0x010801, w);
		snprintf(w, sizeof(w), "%uK: MAPD V=0 through invalid L1[1]", ps / 1024);
		EXPECT_FAIL(e, its_mk_mapd((uint32_t)per + 3, 0, 0, 0), VITS_R_DEVICE_TABLE, 0x010801, w);
		snprintf(w, sizeof(w), "%uK: MAPD through L1[2]", ps / 1024);
		EXPECT_OK(e, its_mk_mapd((uint32_t)(2 * per + 5), 0, eng_itt(3), 1), w);
		snprintf(w, sizeof(w), "%uK: L1[3] has every bit but Valid", ps / 1024);
		EXPECT_FAIL(e, its_mk_mapd((uint32_t)(3 * per), 0, eng_itt(3), 1), VITS_R_DEVICE_TABLE, 0x010801, w);
		snprintf(w, sizeof(w), "%uK: MAPD last DeviceID of the last L1 entry", ps / 1024);
		EXPECT_OK(e, its_mk_mapd((uint32_t)(per * per - 1), 0, eng_itt(4), 1), w);
		snprintf(w, sizeof(w), "%uK: MAPD L1 index == L1 entries (beyond the table)", ps / 1024);
		EXPECT_FAIL(e, its_mk_mapd((uint32_t)(per * per), 0, eng_itt(5), 1), VITS_R_DEVICE_TABLE, 0x010801, w);
		snprintf(w, sizeof(w), "%uK: MAPD DeviceID 0xffffffff (L1 index far beyond)", ps / 1024);
		EXPECT_FAIL(e, its_mk_mapd(0xffffffffu, 0, eng_itt(5), 1), VITS_R_DEVICE_TABLE, 0x010801, w);

		/* The table is consulted by MAPD only: a mapped device keeps working when
		 * its L1 entry is invalidated later; MAPD V=0 then reports the table. */
		l1_write(e, L1_GPA, 0, 0);
		snprintf(w, sizeof(w), "%uK: MAPTI on a device whose L1 entry went invalid", ps / 1024);
		EXPECT_OK(e, its_mk_mapti(0, 0, 8192, 0), w);
		snprintf(w, sizeof(w), "%uK: MAPD V=0 through an invalidated L1 entry", ps / 1024);
		EXPECT_FAIL(e, its_mk_mapd(0, 0, 0, 0), VITS_R_DEVICE_TABLE, 0x010801, w);

		/* Two L1 pages: index 2 * per - 1 is the last one. */
		set_baser0(e, harness_baser0_value(L1_GPA, 2, ps, true));
		l1_write(e, L1_GPA, 2 * per - 1, (L2_GPA + 3 * ps) | (1ull << 63));
		snprintf(w, sizeof(w), "%uK x2: MAPD through the last L1 entry", ps / 1024);
		EXPECT_OK(e, its_mk_mapd((uint32_t)(2 * per * per - 1), 0, eng_itt(6), 1), w);
		snprintf(w, sizeof(w), "%uK x2: MAPD one past", ps / 1024);
		EXPECT_FAIL(e, its_mk_mapd((uint32_t)(2 * per * per), 0, eng_itt(6), 1), VITS_R_DEVICE_TABLE,
			    0x010801, w);

		/* An L1 table outside guest RAM: the read faults. */
		set_baser0(e, harness_baser0_value(0x10000, 1, ps, true));
		snprintf(w, sizeof(w), "%uK: L1 table below RAM", ps / 1024);
		EXPECT_FAIL(e, its_mk_mapd(1, 0, eng_itt(1), 1), VITS_R_MEM_FAULT, 0, w);
		/* An L1 table straddling the end of RAM: the second page faults. */
		set_baser0(e, harness_baser0_value(ENG_RAM_END - ps, 2, ps, true));
		l1_write(e, ENG_RAM_END - ps, 0, L2_GPA | (1ull << 63));
		snprintf(w, sizeof(w), "%uK: L1 entry in RAM", ps / 1024);
		EXPECT_OK(e, its_mk_mapd(7, 0, eng_itt(7), 1), w);
		snprintf(w, sizeof(w), "%uK: L1 entry past the end of RAM", ps / 1024);
		EXPECT_FAIL(e, its_mk_mapd((uint32_t)(per * per), 0, eng_itt(7), 1), VITS_R_MEM_FAULT, 0, w);

		/* Flat tables of each page size: (Size + 1) x page / 8 DeviceIDs. */
		set_baser0(e, harness_baser0_value(L1_GPA, 3, ps, false));
		snprintf(w, sizeof(w), "%uK flat x3: last DeviceID", ps / 1024);
		EXPECT_OK(e, its_mk_mapd((uint32_t)(3 * per - 1), 0, eng_itt(8), 1), w);
		snprintf(w, sizeof(w), "%uK flat x3: one past", ps / 1024);
		EXPECT_FAIL(e, its_mk_mapd((uint32_t)(3 * per), 0, eng_itt(8), 1), VITS_R_DEVICE_TABLE, 0x010801, w);
		eng_free(e);
	}
}

/* Geometry: DeviceID 10 bits, EventID 8, ICID 4, 4 vCPUs, INTIDs below 2^16. */
static void test_limits(void)
{
	struct eng_opts o;
	eng_opts_default(&o);
	o.hc.vits.devid_bits = 10;
	o.hc.vits.eventid_bits = 8;
	struct eng *e = eng_new(&o);
	if (!e)
		return;
	eng_map_colls(e);
	EXPECT_OK(e, its_mk_mapd(1023, 7, eng_itt(1023), 1), "DeviceID 2^10-1, Size 7 (8 = eventid_bits)");
	EXPECT_FAIL(e, its_mk_mapd(1024, 0, eng_itt(0), 1), VITS_R_DEVICE_OOR, 0x010801, "DeviceID 2^10");
	EXPECT_FAIL(e, its_mk_mapd(0xffffffffu, 0, eng_itt(0), 1), VITS_R_DEVICE_OOR, 0x010801,
		    "DeviceID 0xffffffff");
	EXPECT_FAIL(e, its_mk_mapd(5, 8, eng_itt(5), 1), VITS_R_ITT_SIZE_OOR, 0x010802, "Size 8 (9 bits)");
	EXPECT_FAIL(e, its_mk_mapti(1024, 0, 8192, 0), VITS_R_DEVICE_OOR, 0x010a04, "MAPTI DeviceID 2^10");
	EXPECT_OK(e, its_mk_mapti(1023, 255, 8192, 15), "EventID 2^8-1, ICID 2^4-1");
	EXPECT_FAIL(e, its_mk_mapti(1023, 256, 8193, 0), VITS_R_EVENT_OOR, 0x010a05, "EventID 2^8");
	EXPECT_FAIL(e, its_mk_mapti(1023, 0xffffffffu, 8193, 0), VITS_R_EVENT_OOR, 0x010a05, "EventID 0xffffffff");
	EXPECT_FAIL(e, its_mk_mapti(1023, 1, 8193, 16), VITS_R_COLLECTION_OOR, 0x010903, "ICID 2^4");
	EXPECT_FAIL(e, its_mk_mapti(1023, 1, 8191, 0), VITS_R_INTID_OOR, 0x010a06, "INTID 8191");
	EXPECT_FAIL(e, its_mk_mapti(1023, 1, 1023, 0), VITS_R_INTID_OOR, 0x010a06, "INTID 1023");
	EXPECT_OK(e, its_mk_mapti(1023, 1, 8192 + 1, 0), "INTID 8193");
	EXPECT_OK(e, its_mk_mapti(1023, 2, 65535, 0), "INTID 2^16-1");
	EXPECT_FAIL(e, its_mk_mapti(1023, 3, 65536, 0), VITS_R_INTID_OOR, 0x010a06, "INTID 2^16");
	EXPECT_FAIL(e, its_mk_mapti(1023, 3, 0xffffffffu, 0), VITS_R_INTID_OOR, 0x010a06, "INTID 0xffffffff");
	EXPECT_OK(e, its_mk_mapc(15, 3, 1), "MAPC ICID 15, RDbase 3");
	EXPECT_FAIL(e, its_mk_mapc(15, 4, 1), VITS_R_PROCNUM_OOR, 0x010902, "RDbase 4 (4 vCPUs)");
	EXPECT_FAIL(e, its_mk_mapc(15, (1ull << 36) - 1, 1), VITS_R_PROCNUM_OOR, 0x010902, "RDbase 2^36-1");
	EXPECT_FAIL(e, its_mk_sync(4), VITS_R_PROCNUM_OOR, 0, "SYNC RDbase 4");
	EXPECT_FAIL(e, its_mk_movall(3, 4), VITS_R_PROCNUM_OOR, 0x010e01, "MOVALL RDbase2 4");
	EXPECT_FAIL(e, its_mk_invall(16), VITS_R_COLLECTION_OOR, 0x010d09, "INVALL ICID 16");
	EXPECT_FAIL(e, its_mk_movi(1023, 255, 16), VITS_R_COLLECTION_OOR, 0x010109, "MOVI ICID 16");
	CHECK_REASON(VITS_R_NONE, vits_msi(e->v, 1023, 255), "MSI at every limit");
	CHECK_REASON(VITS_R_DEVICE_OOR, vits_msi(e->v, 1024, 0), "MSI DeviceID 2^10");
	CHECK_REASON(VITS_R_DEVICE_OOR, vits_msi(e->v, 0xffffffffu, 0), "MSI DeviceID 0xffffffff");
	CHECK_REASON(VITS_R_EVENT_OOR, vits_msi(e->v, 1023, 256), "MSI EventID 2^8");
	CHECK_REASON(VITS_R_EVENT_OOR, vits_msi(e->v, 1023, 0xffffffffu), "MSI EventID 0xffffffff");
	CHECK_REASON(VITS_R_EVENT_UNMAPPED, vits_msi(e->v, 1023, 4), "MSI unmapped event");
	/* ITT addresses outside RAM, at the top of the 52-bit field. */
	EXPECT_FAIL(e, its_mk_mapd(6, 0, 0xffffffffffff00ull, 1), VITS_R_ITT_OUTSIDE_RAM, 0,
		    "ITT at the top of the address field");
	EXPECT_FAIL(e, its_mk_mapd(6, 0, 0, 1), VITS_R_ITT_OUTSIDE_RAM, 0, "ITT at 0");
	EXPECT_FAIL(e, its_mk_mapd(6, 5, ENG_RAM_END - 256, 1), VITS_R_ITT_OUTSIDE_RAM, 0,
		    "ITT of 512 bytes in the last 256 bytes of RAM");
	EXPECT_OK(e, its_mk_mapd(6, 0, ENG_RAM_END - 256, 1), "ITT in the last 256 bytes");
	eng_free(e);

	/* The widest geometry: 32-bit DeviceID/EventID, 16-bit ICID. */
	eng_opts_default(&o);
	o.hc.vits.devid_bits = 32;
	o.hc.vits.eventid_bits = 32;
	o.hc.vits.cid_bits = 16;
	o.hc.nr_ram = 1;
	o.hc.ram[0].size = 1ull << 36;      /* 64 GiB, sparse */
	e = eng_new(&o);
	if (!e)
		return;
	EXPECT_OK(e, its_mk_mapc(0xffff, 0, 1), "MAPC ICID 0xffff with 16 bits");
	EXPECT_FAIL(e, its_mk_mapd(0xffffffffu, 0, eng_itt(0), 1), VITS_R_DEVICE_TABLE, 0x010801,
		    "DeviceID 0xffffffff in range but beyond an 8-page table");
	EXPECT_FAIL(e, its_mk_mapd(3, 31, ENG_RAM_BASE, 1), VITS_R_NO_MEMORY, 0,
		    "MAPD Size 31: 2^32 events (32 GiB ITT in RAM) over the 16 MiB cap");
	EXPECT_FAIL(e, its_mk_mapd(3, 26, ENG_RAM_BASE, 1), VITS_R_NO_MEMORY, 0,
		    "MAPD Size 26: a directory of 2^21 chunk pointers (16 MiB) over the cap");
	/* The shadow is sparse: 2^22 events cost a 512 KiB directory until events are
	 * mapped, and each mapped event's chunk of 64 entries (768 bytes). */
	EXPECT_OK(e, its_mk_mapd(2, 0, ENG_RAM_BASE, 1), "MAPD (the device map's first slots)");
	uint64_t before = eng_stats(e).mem_used;
	EXPECT_OK(e, its_mk_mapd(3, 21, ENG_RAM_BASE, 1), "MAPD Size 21 (2^22 events)");
	uint64_t dir = eng_stats(e).mem_used - before;
	CHECK(dir >= 512u << 10 && dir < (512u << 10) + 1024, "MAPD Size 21 holds %llu bytes",
	      (unsigned long long)dir);
	EXPECT_OK(e, its_mk_mapti(3, (1u << 22) - 1, 8192, 0xffff), "MAPTI of the last event");
	EXPECT_OK(e, its_mk_mapti(3, (1u << 22) - 2, 8193, 0xffff), "MAPTI in the same chunk");
	CHECK_EQ(before + dir + 768, eng_stats(e).mem_used, "one 768-byte chunk for both");
	EXPECT_OK(e, its_mk_mapd(3, 0, 0, 0), "MAPD V=0");
	CHECK_EQ(before, eng_stats(e).mem_used, "unmapping frees the chunk and the directory");
	/* An ITT of one chunk (64 events) has its directory in the device: MAPD allocates
	 * nothing, its first MAPTI the chunk. */
	EXPECT_OK(e, its_mk_mapd(2, 5, ENG_RAM_BASE, 1), "MAPD of 64 events over a mapped device");
	CHECK_EQ(before, eng_stats(e).mem_used, "no directory for one chunk");
	EXPECT_OK(e, its_mk_mapti(2, 63, 8194, 0), "MAPTI of event 63");
	CHECK_EQ(before + 768, eng_stats(e).mem_used, "its chunk");
	CHECK_REASON(VITS_R_COLLECTION_UNMAPPED, vits_msi(e->v, 2, 63),
		     "MSI through the one-chunk ITT finds the event (ICID 0 is not mapped)");
	CHECK_REASON(VITS_R_EVENT_UNMAPPED, vits_msi(e->v, 2, 62), "MSI of an unmapped event");
	struct vits_stats s = eng_stats(e);
	CHECK(s.mem_peak <= 16u << 20, "mem_peak %llu within the default cap", (unsigned long long)s.mem_peak);
	eng_free(e);
}

static void test_prop_outside_ram(void)
{
	struct eng_opts o;
	eng_opts_default(&o);
	struct eng *e = eng_new(&o);
	if (!e)
		return;
	eng_map_colls(e);
	eng_mapd(e, 1, 3);
	eng_mapti(e, 1, 0, 8192, 0, LPI_ON);
	CHECK_EQ(0, vits_set_prop_table(e->v, 0x1000, 16), "property table below RAM");
	struct vits_stats a = eng_stats(e);
	EXPECT_OK(e, its_mk_mapti(1, 1, 8193, 0), "MAPTI with the table outside RAM");
	EXPECT_OK(e, its_mk_devev(ITS_OP_INV, 1, 0), "INV with the table outside RAM");
	EXPECT_OK(e, its_mk_invall(0), "INVALL with the table outside RAM");
	struct vits_stats b = eng_stats(e);
	CHECK_EQ(a.prop_faults + 4, b.prop_faults, "prop_faults counts each faulting read");
	CHECK_EQ(LPI_ON, eng_lpi(e, 8192).cfg, "a faulting read keeps the old byte");
	CHECK_EQ(0, eng_lpi(e, 8193).cfg, "never read: byte 0");
	size_t n = eng_ninj(e);
	CHECK_EQ(0, vits_msi(e->v, 1, 0), "MSI still delivered with the old byte");
	CHECK_EQ(n + 1, eng_ninj(e), "delivered");

	/* A table straddling the end of RAM: bytes inside read, bytes outside fault. */
	CHECK_EQ(0, vits_set_prop_table(e->v, ENG_RAM_END - 2, 16), "table at RAM end - 2");
	uint8_t on = LPI_ON;
	harness_write_guest(e->h, ENG_RAM_END - 1, &on, 1);   /* INTID 8193 */
	a = eng_stats(e);
	EXPECT_OK(e, its_mk_devev(ITS_OP_INV, 1, 1), "INV 8193 (last byte of RAM)");
	CHECK_EQ(LPI_ON, eng_lpi(e, 8193).cfg, "8193 read from the last byte of RAM");
	EXPECT_OK(e, its_mk_mapti(1, 2, 8194, 0), "MAPTI 8194 (first byte past RAM)");
	b = eng_stats(e);
	CHECK_EQ(a.prop_faults + 1, b.prop_faults, "one fault");
	eng_free(e);
}

/* The memory cap: MAPDs of 4096 events with their first and last events mapped (a
 * directory and two ITT chunks a device) until the cap refuses, at MAPD or at MAPTI;
 * nothing crashes, a refused command changes nothing, the cap holds, the engine's
 * accounting matches the allocator's, and unmapping gives memory back. */
static void test_mem_cap(void)
{
	struct eng_opts o;
	eng_opts_default(&o);
	o.hc.vits.eventid_bits = 12;
	struct eng *e = eng_new(&o);
	if (!e)
		return;
	uint64_t base = eng_stats(e).mem_used;
	CHECK_EQ(e->h->engine_mem.cur, base, "engine mem_used equals the allocator's count");
	eng_free(e);

	uint32_t cap = (uint32_t)base + 128 * 1024;
	o.hc.vits.mem_cap = cap;
	e = eng_new(&o);
	if (!e)
		return;
	e->record = false;
	unsigned mapped = 0, refused = 0, refused_mapti = 0;
	for (uint32_t d = 0; d < 4096 && refused < 3; d++) {
		int r = eng_cmd(e, its_mk_mapd(d, 11, eng_itt(d), 1));
		if (r == VITS_R_NONE)
			mapped++;
		for (uint32_t k = 0; k < 2 && r == VITS_R_NONE; k++) {
			uint32_t ev = k ? 4095 : 0;
			r = eng_cmd(e, its_mk_mapti(d, ev, 8192 + 2 * d + k, 0));
			struct vits_event_info ei;
			if (r == VITS_R_NO_MEMORY) {
				refused_mapti++;
				CHECK_EQ(VITS_E_NOENT, vits_query_event(e->v, d, ev, &ei),
					 "a refused MAPTI maps nothing");
			}
		}
		if (r == VITS_R_NO_MEMORY)
			refused++;
		else if (r != VITS_R_NONE)
			CHECK_REASON(VITS_R_NO_MEMORY, r, "MAPD/MAPTI %u under the cap", d);
	}
	CHECK(mapped > 30, "some devices fit under the cap (%u)", mapped);
	CHECK_EQ(3, refused, "the cap refused MAPDs and MAPTIs");
	CHECK(refused_mapti > 0, "the cap refused a MAPTI's chunk (%u)", refused_mapti);
	struct vits_stats s = eng_stats(e);
	CHECK(s.mem_used <= cap, "mem_used %llu <= cap %u", (unsigned long long)s.mem_used, cap);
	CHECK(s.mem_peak <= cap, "mem_peak %llu <= cap %u", (unsigned long long)s.mem_peak, cap);
	CHECK_EQ(e->h->engine_mem.cur, s.mem_used, "accounting matches the allocator");
	CHECK(e->h->engine_mem.peak <= cap, "allocator peak within the cap");
	CHECK_EQ(s.errors_by_reason[VITS_R_NO_MEMORY], refused, "NO_MEMORY counted");
	/* Unmap everything: memory returns; mapping works again. */
	for (uint32_t d = 0; d < mapped; d++)
		eng_cmd(e, its_mk_mapd(d, 0, 0, 0));
	s = eng_stats(e);
	/* What stays is the device map's slot array, grown for the peak. */
	CHECK(s.mem_used < base + 16384, "unmapping returned the memory (%llu vs base %llu)",
	      (unsigned long long)s.mem_used, (unsigned long long)base);
	EXPECT_OK(e, its_mk_mapd(1, 4, eng_itt(1), 1), "MAPD after unmapping all");
	/* vits_reset returns to the base footprint. */
	CHECK_EQ(0, harness_reset_all(e->h), "reset");
	CHECK(eng_stats(e).mem_used < base + 16384, "reset returns memory to the base footprint"
	      " (plus the device map's grown slot array): %llu vs %llu",
	      (unsigned long long)eng_stats(e).mem_used, (unsigned long long)base);
	eng_free(e);

	/* A cap below the base footprint: vits_create refuses. */
	o.hc.vits.mem_cap = (uint32_t)base - 1;
	struct harness *h = NULL;
	CHECK_EQ((uint64_t)(int64_t)VITS_E_NOMEM, (uint64_t)(int64_t)harness_create(&o.hc, &h),
		 "vits_create with a cap below the base footprint");
	if (h)
		harness_destroy(h);
}

/* A seeded storm of random commands with hostile fields under a tight cap. */
static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t rnd64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_storm(void)
{
	struct eng_opts o;
	eng_opts_default(&o);
	o.hc.vits.devid_bits = 16;
	o.hc.vits.eventid_bits = 16;
	o.hc.vits.cid_bits = 16;
	struct eng *e = eng_new(&o);
	if (!e)
		return;
	uint32_t cap = (uint32_t)eng_stats(e).mem_used + 64 * 1024;
	eng_free(e);
	o.hc.vits.mem_cap = cap;
	e = eng_new(&o);
	if (!e)
		return;
	e->record = false;
	static const unsigned ops[] = { 0x01, 0x03, 0x04, 0x05, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
					0x0e, 0x0f, 0x21, 0x2a, 0x00, 0xff };
	unsigned bad_q = 0;
	for (int i = 0; i < 20000; i++) {
		struct its_cmd c = { { rnd64(), rnd64(), rnd64(), rnd64() } };
		its_cmd_set_opcode(&c, ops[rnd64() % 16]);
		if (rnd64() % 4) {       /* mostly plausible fields */
			its_cmd_set_devid(&c, rnd64() % 64);
			its_cmd_set_eventid(&c, rnd64() % 64);
			its_cmd_set_pintid(&c, 8192 + rnd64() % 1024);
			its_cmd_set_icid(&c, rnd64() % 8);
			its_cmd_set_rdbase(&c, rnd64() % 5);
			its_cmd_set_rdbase2(&c, rnd64() % 5);
			if (its_cmd_get_opcode(&c) == ITS_OP_MAPD) {
				its_cmd_set_size(&c, rnd64() % 18);
				its_cmd_set_itt_addr(&c, eng_itt(0) >> 8);
			}
		}
		eng_cmd(e, c);
		if (i % 7 == 0)
			vits_msi(e->v, (uint32_t)(rnd64() % 64), (uint32_t)(rnd64() % 64));
		struct vits_queue_info qi;
		vits_query_queue(e->v, &qi);
		bad_q += qi.creadr >= qi.size || qi.creadr % 32 || qi.creadr != qi.cwriter;
		if (e->h->injects.n > 100000)
			harness_reset(e->h);
	}
	struct vits_stats s = eng_stats(e);
	CHECK_EQ(0, bad_q, "storm: CREADR in range, aligned, == CWRITER after each kick");
	CHECK(s.mem_peak <= cap, "storm: mem_peak %llu <= cap %u", (unsigned long long)s.mem_peak, cap);
	CHECK_EQ(20000, s.guest_cmd_total, "storm: every command processed once");
	CHECK(s.errors_by_reason[VITS_R_NO_MEMORY] > 0, "storm reached the cap");
	eng_free(e);
}

/* ---- API misuse ------------------------------------------------------------------------ */

static void *t_alloc(void *ctx, size_t size) { return calloc(1, size); }
static void t_free(void *ctx, void *p, size_t size) { free(p); }
static int t_read(void *ctx, uint64_t gpa, void *buf, size_t len) { return -1; }
static void t_inject(void *ctx, uint32_t vcpu, uint32_t intid) {}
static int t_phys(void *ctx, const struct its_cmd *c) { return 0; }
static int t_itt_alloc(void *ctx, uint32_t p, uint64_t b, uint64_t *pa) { *pa = 0x100000; return 0; }
static void t_itt_free(void *ctx, uint32_t p, uint64_t pa, uint64_t b) {}
static void t_prop(void *ctx, uint32_t plpi, uint8_t cfg) {}

static const struct vits_ops good_ops = { sizeof(struct vits_ops), t_alloc, t_free, t_read, NULL,
					  t_inject, NULL };

static int create_with(const struct vits_config *c, const struct vits_ops *o, struct vits_host *h)
{
	struct vits *v = NULL;
	int rc = vits_create(c, o, NULL, h, &v);
	if (rc == 0)
		vits_destroy(v);
	return rc;
}

#define CHECK_RC(exp, got, ...) CHECK_EQ((uint64_t)(int64_t)(exp), (uint64_t)(int64_t)(got), __VA_ARGS__)

static void test_api_create(void)
{
	struct vits_config c;
	vits_config_default(&c);
	vits_config_default(NULL);   /* must not crash */
	struct vits *v = NULL;
	CHECK_RC(VITS_E_INVAL, vits_create(NULL, &good_ops, NULL, NULL, &v), "create: NULL config");
	CHECK_RC(VITS_E_INVAL, vits_create(&c, NULL, NULL, NULL, &v), "create: NULL ops");
	CHECK_RC(VITS_E_INVAL, vits_create(&c, &good_ops, NULL, NULL, NULL), "create: NULL out");
	CHECK_RC(0, create_with(&c, &good_ops, NULL), "create: defaults");

	struct vits_ops o = good_ops;
	o.sz = sizeof(o) - 1;
	CHECK_RC(VITS_E_INVAL, create_with(&c, &o, NULL), "create: ops.sz too small");
	o.sz = sizeof(o) + 8;
	CHECK_RC(VITS_E_INVAL, create_with(&c, &o, NULL), "create: ops.sz too large");
	o = good_ops; o.alloc = NULL;
	CHECK_RC(VITS_E_INVAL, create_with(&c, &o, NULL), "create: no alloc");
	o = good_ops; o.free = NULL;
	CHECK_RC(VITS_E_INVAL, create_with(&c, &o, NULL), "create: no free");
	o = good_ops; o.read_guest = NULL;
	CHECK_RC(VITS_E_INVAL, create_with(&c, &o, NULL), "create: no read_guest");
	o = good_ops; o.inject = NULL;
	CHECK_RC(VITS_E_INVAL, create_with(&c, &o, NULL), "create: no inject");

	static const struct { const char *what; size_t off, len; uint64_t val; int rc; } bad[] = {
#define F(field, v, rc) { #field " = " #v, offsetof(struct vits_config, field), \
			  sizeof(((struct vits_config *)0)->field), (uint64_t)(v), rc }
		F(sz, 0, VITS_E_INVAL), F(sz, sizeof(struct vits_config) - 1, VITS_E_INVAL),
		F(sz, sizeof(struct vits_config) + 8, VITS_E_INVAL),
		F(nr_vcpus, 0, VITS_E_INVAL), F(nr_vcpus, 65536, VITS_E_INVAL), F(nr_vcpus, 65535, 0),
		F(nr_vcpus, 1, 0),
		F(devid_bits, 0, VITS_E_INVAL), F(devid_bits, 33, VITS_E_INVAL), F(devid_bits, 1, 0),
		F(devid_bits, 32, 0), F(devid_bits, 255, VITS_E_INVAL),
		F(eventid_bits, 0, VITS_E_INVAL), F(eventid_bits, 33, VITS_E_INVAL), F(eventid_bits, 1, 0),
		F(eventid_bits, 32, 0),
		F(cid_bits, 0, VITS_E_INVAL), F(cid_bits, 17, VITS_E_INVAL), F(cid_bits, 1, 0),
		F(cid_bits, 16, 0),
		F(intid_bits, 13, VITS_E_INVAL), F(intid_bits, 25, VITS_E_INVAL), F(intid_bits, 14, 0),
		F(intid_bits, 0, VITS_E_INVAL),
		F(error_mode, 2, VITS_E_INVAL), F(error_mode, 255, VITS_E_INVAL), F(error_mode, 1, 0),
		F(xlate_cache, 3, VITS_E_INVAL), F(xlate_cache, 6, VITS_E_INVAL),
		F(xlate_cache, 1u << 21, VITS_E_INVAL), F(xlate_cache, 0xffffffffu, VITS_E_INVAL),
		F(xlate_cache, 1, 0), F(xlate_cache, 0, 0),
		F(mem_cap, 1, VITS_E_NOMEM),
#undef F
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vits_config x;
		vits_config_default(&x);
		uint64_t val = bad[i].val;
		memcpy((char *)&x + bad[i].off, &val, bad[i].len);   /* little-endian host */
		CHECK_RC(bad[i].rc, create_with(&x, &good_ops, NULL), "create: %s", bad[i].what);
	}
	/* intid_bits 24 needs ~100 MiB of LPI state: over the default 16 MiB cap. */
	struct vits_config x;
	vits_config_default(&x);
	x.intid_bits = 24;
	CHECK_RC(VITS_E_NOMEM, create_with(&x, &good_ops, NULL), "create: intid_bits 24 under the default cap");
}

static void test_api_calls(void)
{
	struct vits_config c;
	vits_config_default(&c);
	c.devid_bits = 10;
	struct vits *v = NULL;
	CHECK_RC(0, vits_create(&c, &good_ops, NULL, NULL, &v), "create");
	if (!v)
		return;
	uint64_t val;
	CHECK_RC(VITS_E_INVAL, vits_mmio_read(NULL, 0, 4, &val), "mmio_read NULL instance");
	CHECK_RC(VITS_E_INVAL, vits_mmio_read(v, 0, 4, NULL), "mmio_read NULL value");
	CHECK_RC(VITS_E_INVAL, vits_mmio_write(NULL, 0, 4, 1), "mmio_write NULL");
	CHECK_RC(VITS_E_INVAL, vits_msi(NULL, 0, 0), "msi NULL");
	CHECK_RC(VITS_E_INVAL, vits_resume(NULL), "resume NULL");
	CHECK_RC(0, vits_work_pending(NULL), "work_pending NULL");
	CHECK_RC(VITS_E_INVAL, vits_reset(NULL), "reset NULL");
	vits_destroy(NULL);
	CHECK_RC(VITS_E_INVAL, vits_set_prop_table(NULL, 0, 0), "set_prop_table NULL");
	CHECK_RC(VITS_E_INVAL, vits_set_prop_table(v, 0x40000000, 13), "set_prop_table id_bits 13");
	CHECK_RC(VITS_E_INVAL, vits_set_prop_table(v, 0x40000000, 1), "set_prop_table id_bits 1");
	CHECK_RC(VITS_E_INVAL, vits_set_prop_table(v, 0x40000000, 33), "set_prop_table id_bits 33");
	CHECK_RC(0, vits_set_prop_table(v, 0x40000000, 14), "set_prop_table id_bits 14");
	CHECK_RC(0, vits_set_prop_table(v, 0x40000000, 32), "set_prop_table id_bits 32 (clamped)");
	CHECK_RC(0, vits_set_prop_table(v, 0, 0), "set_prop_table forget");
	struct vits_stats s;
	CHECK_RC(VITS_E_INVAL, vits_get_stats(NULL, &s), "get_stats NULL");
	CHECK_RC(VITS_E_INVAL, vits_get_stats(v, NULL), "get_stats NULL out");
	struct vits_device_info di;
	struct vits_event_info ei;
	struct vits_lpi_info li;
	struct vits_queue_info qi;
	uint32_t vcpu;
	CHECK_RC(VITS_E_INVAL, vits_query_device(NULL, 0, &di), "query_device NULL");
	CHECK_RC(VITS_E_INVAL, vits_query_device(v, 0, NULL), "query_device NULL out");
	CHECK_RC(VITS_E_RANGE, vits_query_device(v, 1024, &di), "query_device DeviceID 2^10");
	CHECK_RC(VITS_E_NOENT, vits_query_device(v, 1023, &di), "query_device unmapped");
	CHECK_RC(VITS_E_INVAL, vits_query_event(NULL, 0, 0, &ei), "query_event NULL");
	CHECK_RC(VITS_E_INVAL, vits_query_event(v, 0, 0, NULL), "query_event NULL out");
	CHECK_RC(VITS_E_RANGE, vits_query_event(v, 0xffffffffu, 0, &ei), "query_event DeviceID out of range");
	CHECK_RC(VITS_E_NOENT, vits_query_event(v, 5, 0, &ei), "query_event unmapped");
	CHECK_RC(VITS_E_INVAL, vits_query_collection(NULL, 0, &vcpu), "query_collection NULL");
	CHECK_RC(VITS_E_INVAL, vits_query_collection(v, 0, NULL), "query_collection NULL out");
	CHECK_RC(VITS_E_RANGE, vits_query_collection(v, 65536, &vcpu), "query_collection ICID 2^16");
	CHECK_RC(VITS_E_NOENT, vits_query_collection(v, 0, &vcpu), "query_collection unmapped");
	CHECK_RC(VITS_E_INVAL, vits_query_lpi(NULL, 8192, &li), "query_lpi NULL");
	CHECK_RC(VITS_E_INVAL, vits_query_lpi(v, 8192, NULL), "query_lpi NULL out");
	CHECK_RC(VITS_E_RANGE, vits_query_lpi(v, 8191, &li), "query_lpi 8191");
	CHECK_RC(VITS_E_RANGE, vits_query_lpi(v, 65536, &li), "query_lpi 2^16");
	CHECK_RC(0, vits_query_lpi(v, 65535, &li), "query_lpi 2^16-1");
	CHECK_RC(VITS_E_INVAL, vits_foreach_device(NULL, NULL, NULL), "foreach NULL");
	CHECK_RC(VITS_E_INVAL, vits_foreach_device(v, NULL, NULL), "foreach NULL fn");
	CHECK_RC(VITS_E_INVAL, vits_query_queue(NULL, &qi), "query_queue NULL");
	CHECK_RC(VITS_E_INVAL, vits_query_queue(v, NULL), "query_queue NULL out");
	/* Host-only calls without a host. */
	CHECK_RC(VITS_E_INVAL, vits_assign_device(v, 1, 1), "assign without a host");
	CHECK_RC(VITS_E_INVAL, vits_assign_device(NULL, 1, 1), "assign NULL");
	CHECK_RC(VITS_E_INVAL, vits_unassign_device(v, 1), "unassign without a host");
	CHECK_RC(VITS_E_INVAL, vits_set_vcpu_pcpu(v, 0, 0), "set_vcpu_pcpu without a host");
	CHECK_RC(VITS_E_INVAL, vits_host_plpi(NULL, 8192), "host_plpi NULL");
	vits_destroy(v);
}

static void test_api_host(void)
{
	struct vits_host_config hc;
	vits_host_config_default(&hc);
	vits_host_config_default(NULL);
	struct vits_host_ops ho = { sizeof(ho), t_alloc, t_free, t_phys, t_itt_alloc, t_itt_free,
				    t_prop, NULL };
	struct vits_host *h = NULL;
	CHECK_RC(VITS_E_INVAL, vits_host_create(NULL, &ho, NULL, &h), "host_create NULL config");
	CHECK_RC(VITS_E_INVAL, vits_host_create(&hc, NULL, NULL, &h), "host_create NULL ops");
	CHECK_RC(VITS_E_INVAL, vits_host_create(&hc, &ho, NULL, NULL), "host_create NULL out");
	struct { const char *what; struct vits_host_ops o; } bo[7];
	for (int i = 0; i < 7; i++)
		bo[i].o = ho;
	bo[0].what = "ops.sz"; bo[0].o.sz = sizeof(ho) - 1;
	bo[1].what = "alloc"; bo[1].o.alloc = NULL;
	bo[2].what = "free"; bo[2].o.free = NULL;
	bo[3].what = "phys_cmd"; bo[3].o.phys_cmd = NULL;
	bo[4].what = "itt_alloc"; bo[4].o.itt_alloc = NULL;
	bo[5].what = "itt_free"; bo[5].o.itt_free = NULL;
	bo[6].what = "prop_write"; bo[6].o.prop_write = NULL;
	for (int i = 0; i < 7; i++) {
		h = NULL;
		int rc = vits_host_create(&hc, &bo[i].o, NULL, &h);
		CHECK_RC(VITS_E_INVAL, rc, "host_create: bad %s", bo[i].what);
		if (rc == 0)
			vits_host_destroy(h);
	}
	static const struct { const char *what; int field; uint32_t val; } bc[] = {
		{ "sz", 0, 3 }, { "nr_pcpus 0", 1, 0 }, { "nr_pcpus 4097", 1, 4097 },
		{ "nr_plpis 0", 2, 0 }, { "nr_plpis 2^24+1", 2, (1u << 24) + 1 },
		{ "max_instances 65536", 3, 65536 }, { "pdevid_bits 0", 4, 0 },
		{ "pdevid_bits 33", 4, 33 }, { "peventid_bits 0", 5, 0 }, { "peventid_bits 33", 5, 33 },
	};
	for (size_t i = 0; i < sizeof(bc) / sizeof(bc[0]); i++) {
		struct vits_host_config x = hc;
		switch (bc[i].field) {
		case 0: x.sz = bc[i].val; break;
		case 1: x.nr_pcpus = bc[i].val; break;
		case 2: x.nr_plpis = bc[i].val; break;
		case 3: x.max_instances = bc[i].val; break;
		case 4: x.pdevid_bits = (uint8_t)bc[i].val; break;
		default: x.peventid_bits = (uint8_t)bc[i].val; break;
		}
		h = NULL;
		int rc = vits_host_create(&x, &ho, NULL, &h);
		CHECK_RC(VITS_E_INVAL, rc, "host_create: %s", bc[i].what);
		if (rc == 0)
			vits_host_destroy(h);
	}
	hc.max_instances = 1;
	hc.pdevid_bits = 8;
	CHECK_RC(0, vits_host_create(&hc, &ho, NULL, &h), "host_create");
	if (!h)
		return;
	struct vits_config c;
	vits_config_default(&c);
	c.devid_bits = 10;
	struct vits *v = NULL, *v2 = NULL;
	CHECK_RC(0, vits_create(&c, &good_ops, NULL, h, &v), "create on the host");
	CHECK_RC(VITS_E_NOSPC, vits_create(&c, &good_ops, NULL, h, &v2), "second instance, max_instances 1");
	if (v) {
		CHECK_RC(VITS_E_RANGE, vits_assign_device(v, 1024, 1), "assign vdevid 2^10");
		CHECK_RC(VITS_E_RANGE, vits_assign_device(v, 0xffffffffu, 1), "assign vdevid 0xffffffff");
		CHECK_RC(VITS_E_RANGE, vits_assign_device(v, 1, 256), "assign pdevid 2^8");
		CHECK_RC(0, vits_assign_device(v, 1, 255), "assign 1 -> 255");
		CHECK_RC(VITS_E_EXIST, vits_assign_device(v, 1, 254), "assign vdevid twice");
		CHECK_RC(VITS_E_EXIST, vits_assign_device(v, 2, 255), "assign pdevid twice");
		CHECK_RC(VITS_E_NOENT, vits_unassign_device(v, 2), "unassign an unassigned device");
		CHECK_RC(VITS_E_INVAL, vits_unassign_device(NULL, 1), "unassign NULL");
		CHECK_RC(0, vits_unassign_device(v, 1), "unassign");
		CHECK_RC(VITS_E_NOENT, vits_unassign_device(v, 1), "unassign twice");
		CHECK_RC(0, vits_assign_device(v, 2, 255), "pdevid free again");
		CHECK_RC(VITS_E_INVAL, vits_set_vcpu_pcpu(NULL, 0, 0), "set_vcpu_pcpu NULL");
		CHECK_RC(VITS_E_RANGE, vits_set_vcpu_pcpu(v, 4, 0), "set_vcpu_pcpu vCPU 4");
		CHECK_RC(VITS_E_RANGE, vits_set_vcpu_pcpu(v, 0, 4), "set_vcpu_pcpu pCPU 4");
		CHECK_RC(0, vits_set_vcpu_pcpu(v, 3, 3), "set_vcpu_pcpu 3 -> 3");
	}
	CHECK_RC(VITS_E_RANGE, vits_host_plpi(h, 8191), "host_plpi 8191");
	CHECK_RC(VITS_E_RANGE, vits_host_plpi(h, 8192 + hc.nr_plpis), "host_plpi past nr_plpis");
	CHECK_RC(VITS_E_RANGE, vits_host_plpi(h, 0xffffffffu), "host_plpi 0xffffffff");
	CHECK_RC(VITS_R_NOT_ASSIGNED, vits_host_plpi(h, 8192), "host_plpi of a free pLPI");
	if (v)
		vits_destroy(v);
	vits_host_destroy(h);
	vits_host_destroy(NULL);
}

/* vits_strerror(INT_MIN) in a child, so a crash or a UBSan abort is a failed check
 * rather than the end of this program. */
static void strerror_in_child(int err)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		const char *s = vits_strerror(err);
		_exit(s && strcmp(s, "unknown error") == 0 ? 0 : 3);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	CHECK_EQ(0, ok ? 0 : WIFSIGNALED(st) ? 1000 + WTERMSIG(st) : WEXITSTATUS(st),
		 "vits_strerror(%d) returns \"unknown error\" (child: 1000+signal or exit code)", err);
}

static void test_names(void)
{
	const char *names[VITS_E_COUNT];
	for (int i = 0; i < VITS_E_COUNT; i++) {
		names[i] = vits_strerror(-i);
		CHECK(names[i] != NULL && strcmp(names[i], "unknown error") != 0, "vits_strerror(%d) named", -i);
		for (int j = 0; j < i; j++)
			CHECK(names[i] && names[j] && strcmp(names[i], names[j]) != 0,
			      "vits_strerror(%d) distinct from (%d)", -i, -j);
	}
	static const int unk[] = { -VITS_E_COUNT, VITS_E_COUNT, -100, 100, INT_MAX, -INT_MAX };
	for (size_t i = 0; i < sizeof(unk) / sizeof(unk[0]); i++) {
		const char *s = vits_strerror(unk[i]);
		CHECK(s != NULL && strcmp(s, "unknown error") == 0, "vits_strerror(%d) is \"unknown error\"", unk[i]);
	}
	strerror_in_child(INT_MIN);
	for (int r = 0; r < VITS_R_COUNT; r++) {
		const char *s = vits_reason_name((enum vits_reason)r);
		CHECK(s != NULL && strcmp(s, "UNKNOWN") != 0, "vits_reason_name(%d) named", r);
		for (int q = 0; q < r; q++)
			CHECK(strcmp(s, vits_reason_name((enum vits_reason)q)) != 0, "reason names %d/%d distinct", r, q);
		CHECK_EQ(0, vits_reason_e_its(VITS_R_NONE, (unsigned)r), "no E_ITS code for success");
	}
	CHECK(strcmp(vits_reason_name(VITS_R_COUNT), "UNKNOWN") == 0, "vits_reason_name(COUNT)");
	CHECK(strcmp(vits_reason_name((enum vits_reason)255), "UNKNOWN") == 0, "vits_reason_name(255)");
}

int main(void)
{
	test_two_level();
	test_limits();
	test_prop_outside_ram();
	test_mem_cap();
	test_storm();
	test_api_create();
	test_api_calls();
	test_api_host();
	test_names();
	return check_summary();
}
