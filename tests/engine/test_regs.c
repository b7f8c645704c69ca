/*
 * engine_regs: every register of docs/semantics.md "Registers": reset values, RO and
 * RES0 bits, 32-bit halves, bad sizes and offsets, writes refused while enabled,
 * CBASER side effects, Quiescent, TRANSLATER, BASER page-size PA handling.
 */
#include "eng.h"

#include <string.h>

#define CBASER_RW (GITS_FIELD_MASK(CBASER, SIZE) | GITS_FIELD_MASK(CBASER, SHAREABILITY) | \
		   GITS_FIELD_MASK(CBASER, PA) | GITS_FIELD_MASK(CBASER, OUTERCACHE) |      \
		   GITS_FIELD_MASK(CBASER, INNERCACHE) | GITS_FIELD_MASK(CBASER, VALID))
#define BASER_RW (GITS_FIELD_MASK(BASER, SIZE) | GITS_FIELD_MASK(BASER, PAGE_SIZE) |      \
		  GITS_FIELD_MASK(BASER, SHAREABILITY) | GITS_FIELD_MASK(BASER, PA) |       \
		  GITS_FIELD_MASK(BASER, OUTERCACHE) | GITS_FIELD_MASK(BASER, INNERCACHE) | \
		  GITS_FIELD_MASK(BASER, INDIRECT) | GITS_FIELD_MASK(BASER, VALID))
#define QUIESCENT GITS_FIELD_MASK(CTLR, QUIESCENT)

static uint64_t baser_ro(unsigned type)
{
	return GITS_FIELD_SET(GITS_FIELD_SET(0, BASER, TYPE, type), BASER, ENTRY_SIZE, 7);
}

static uint64_t typer_for(const struct vits_config *c)
{
	uint64_t t = 0;
	t = GITS_FIELD_SET(t, TYPER, PHYSICAL, 1);
	t = GITS_FIELD_SET(t, TYPER, ITT_ENTRY_SIZE, 7);
	t = GITS_FIELD_SET(t, TYPER, IDBITS, c->eventid_bits - 1u);
	t = GITS_FIELD_SET(t, TYPER, DEVBITS, c->devid_bits - 1u);
	t = GITS_FIELD_SET(t, TYPER, CIDBITS, c->cid_bits - 1u);
	t = GITS_FIELD_SET(t, TYPER, CIL, 1);
	return t;
}

static struct eng *raw_engine(uint8_t devb, uint8_t evb, uint8_t cidb, uint32_t iidr)
{
	struct eng_opts o;
	eng_opts_default(&o);
	o.no_guest_init = true;
	o.hc.vits.devid_bits = devb;
	o.hc.vits.eventid_bits = evb;
	o.hc.vits.cid_bits = cidb;
	o.hc.vits.iidr = iidr;
	return eng_new(&o);
}

static void test_reset_values(void)
{
	static const struct { uint8_t d, e, c; uint32_t iidr; } geo[] = {
		{ 12, 10, 4, 0 }, { 32, 32, 16, 0x12345678 }, { 1, 1, 1, 0 }, { 20, 16, 16, 0 },
	};
	for (size_t g = 0; g < sizeof(geo) / sizeof(geo[0]); g++) {
		struct eng *e = raw_engine(geo[g].d, geo[g].e, geo[g].c, geo[g].iidr);
		if (!e)
			continue;
		const struct vits_config *c = &e->h->cfg.vits;
		uint64_t typer = typer_for(c);
		CHECK_EQ(typer, eng_rd(e, GITS_TYPER, 8), "TYPER geo %zu", g);
		CHECK_EQ(1, GITS_FIELD_GET(typer, TYPER, PHYSICAL), "TYPER.Physical");
		CHECK_EQ((uint32_t)typer, eng_rd(e, GITS_TYPER, 4), "TYPER low half geo %zu", g);
		CHECK_EQ(typer >> 32, eng_rd(e, GITS_TYPER + 4, 4), "TYPER high half geo %zu", g);
		CHECK_EQ(geo[g].iidr ? geo[g].iidr : 0x5600043Bu, eng_rd(e, GITS_IIDR, 4),
			 "IIDR geo %zu", g);
		CHECK_EQ(QUIESCENT, eng_rd(e, GITS_CTLR, 4), "CTLR at reset (disabled, quiescent)");
		CHECK_EQ(0, eng_rd(e, GITS_CBASER, 8), "CBASER at reset");
		CHECK_EQ(0, eng_rd(e, GITS_CWRITER, 8), "CWRITER at reset");
		CHECK_EQ(0, eng_rd(e, GITS_CREADR, 8), "CREADR at reset");
		CHECK_EQ(baser_ro(GITS_BASER_TYPE_DEVICE), eng_rd(e, GITS_BASERn(0), 8), "BASER0 reset");
		CHECK_EQ(baser_ro(GITS_BASER_TYPE_COLLECTION), eng_rd(e, GITS_BASERn(1), 8),
			 "BASER1 reset");
		for (unsigned n = 2; n < 8; n++)
			CHECK_EQ(0, eng_rd(e, GITS_BASERn(n), 8), "BASER%u reset", n);
		eng_free(e);
	}

	/* The ID block as an Arm ITS reports it; PIDR2.ArchRev = 3. */
	struct eng *e = raw_engine(12, 10, 4, 0);
	if (!e)
		return;
	static const uint8_t id[12] = { 0x04, 0, 0, 0, 0x94, 0xb4, 0x3b, 0, 0x0d, 0xf0, 0x05, 0xb1 };
	for (unsigned i = 0; i < 12; i++)
		CHECK_EQ(id[i], eng_rd(e, 0xffd0 + 4 * i, 4), "ID register 0x%x", 0xffd0 + 4 * i);
	CHECK_EQ(0x3b, eng_rd(e, GITS_PIDR2, 4), "PIDR2");
	CHECK_EQ(3, GITS_FIELD_GET(eng_rd(e, GITS_PIDR2, 4), PIDR2, ARCHREV), "PIDR2.ArchRev");
	CHECK_EQ(0, eng_rd(e, GITS_TRANSLATER, 4), "TRANSLATER reads zero");
	eng_free(e);
}

static void test_ro_and_res0(void)
{
	struct eng *e = raw_engine(12, 10, 4, 0);
	if (!e)
		return;
	uint64_t typer = eng_rd(e, GITS_TYPER, 8);
	struct vits_stats s0 = eng_stats(e);

	/* Read-only registers keep their value. */
	eng_wr(e, GITS_TYPER, 8, ~0ull);
	eng_wr(e, GITS_TYPER, 4, 0);
	eng_wr(e, GITS_TYPER + 4, 4, 0xffffffff);
	CHECK_EQ(typer, eng_rd(e, GITS_TYPER, 8), "TYPER is RO");
	eng_wr(e, GITS_IIDR, 4, 0);
	CHECK_EQ(0x5600043Bu, eng_rd(e, GITS_IIDR, 4), "IIDR is RO");
	eng_wr(e, GITS_PIDR2, 4, 0xff);
	CHECK_EQ(0x3b, eng_rd(e, GITS_PIDR2, 4), "PIDR2 is RO");
	eng_wr(e, 0xfff0, 4, 0);
	CHECK_EQ(0x0d, eng_rd(e, 0xfff0, 4), "CIDR0 is RO");
	struct vits_stats s1 = eng_stats(e);
	CHECK_EQ(s0.bad_access, s1.bad_access, "RO writes are not bad accesses");

	/* CTLR: only Enabled is RW; ImDe, ITS_Number RAZ/WI; Quiescent RO. */
	eng_wr(e, GITS_CTLR, 4, 0xfffffffe);
	CHECK_EQ(QUIESCENT, eng_rd(e, GITS_CTLR, 4), "CTLR RES0/RAZ bits written as ones");
	eng_wr(e, GITS_CTLR, 4, 0xffffffff);
	CHECK_EQ(1, eng_rd(e, GITS_CTLR, 4), "CTLR enabled (no CBASER: quiescent 0)");
	eng_wr(e, GITS_CTLR, 4, 0);
	CHECK_EQ(QUIESCENT, eng_rd(e, GITS_CTLR, 4), "CTLR disabled again");

	/* CBASER: RES0 bits dropped, the rest stored as written. */
	eng_wr(e, GITS_CBASER, 8, ~0ull);
	CHECK_EQ(CBASER_RW, eng_rd(e, GITS_CBASER, 8), "CBASER all ones keeps only RW bits");
	eng_wr(e, GITS_CBASER, 8, 0);
	CHECK_EQ(0, eng_rd(e, GITS_CBASER, 8), "CBASER cleared");

	/* CWRITER: Offset[19:5] (Retry is not a stored bit); bits outside RES0. */
	uint64_t cb = GITS_FIELD_SET(GITS_FIELD_SET(ENG_QUEUE_GPA, CBASER, VALID, 1), CBASER, SIZE, 0);
	eng_wr(e, GITS_CBASER, 8, cb);
	eng_wr(e, GITS_CWRITER, 8, 0xffffff0000000040ull | 0x1e);
	CHECK_EQ(0x40, eng_rd(e, GITS_CWRITER, 8) & ~1ull, "CWRITER keeps only Offset (RES0 dropped)");
	/* CREADR is RO. */
	eng_wr(e, GITS_CREADR, 8, 0x60);
	CHECK_EQ(0, eng_rd(e, GITS_CREADR, 8), "CREADR write ignored");

	/* BASER0/1: Type and Entry_Size RO, RES0 dropped; 4K pages keep PA[12]. */
	uint64_t all4k = ~0ull & ~GITS_FIELD_MASK(BASER, PAGE_SIZE);
	eng_wr(e, GITS_BASERn(0), 8, all4k);
	CHECK_EQ((BASER_RW & all4k) | baser_ro(1), eng_rd(e, GITS_BASERn(0), 8), "BASER0 all ones (4K)");
	eng_wr(e, GITS_BASERn(1), 8, all4k);
	CHECK_EQ((BASER_RW & all4k) | baser_ro(4), eng_rd(e, GITS_BASERn(1), 8), "BASER1 all ones (4K)");
	eng_wr(e, GITS_BASERn(0), 8, 0);
	CHECK_EQ(baser_ro(1), eng_rd(e, GITS_BASERn(0), 8), "BASER0 zero keeps Type/Entry_Size");
	for (unsigned n = 2; n < 8; n++) {
		eng_wr(e, GITS_BASERn(n), 8, ~0ull);
		eng_wr(e, GITS_BASERn(n) + 4, 4, 0xffffffff);
		CHECK_EQ(0, eng_rd(e, GITS_BASERn(n), 8), "BASER%u RAZ/WI", n);
	}
	eng_free(e);
}

static void test_halves(void)
{
	struct eng *e = raw_engine(12, 10, 4, 0);
	if (!e)
		return;
	struct vits_stats s0 = eng_stats(e);
	uint64_t cb = GITS_FIELD_SET(GITS_FIELD_SET(0x0000123456789000ull, CBASER, VALID, 1),
				     CBASER, SIZE, 3);
	eng_wr(e, GITS_CBASER, 4, (uint32_t)cb);
	CHECK_EQ((uint32_t)cb, eng_rd(e, GITS_CBASER, 8), "CBASER after low-half write");
	eng_wr(e, GITS_CBASER + 4, 4, cb >> 32);
	CHECK_EQ(cb, eng_rd(e, GITS_CBASER, 8), "CBASER after both halves");
	CHECK_EQ((uint32_t)cb, eng_rd(e, GITS_CBASER, 4), "CBASER low half read");
	CHECK_EQ(cb >> 32, eng_rd(e, GITS_CBASER + 4, 4), "CBASER high half read");

	/* CWRITER low half moves the offset; a high-half write keeps it. */
	eng_wr(e, GITS_CWRITER, 4, 0x3fe0);
	CHECK_EQ(0x3fe0, eng_rd(e, GITS_CWRITER, 8), "CWRITER via low half");
	eng_wr(e, GITS_CWRITER + 4, 4, 0xffffffff);
	CHECK_EQ(0x3fe0, eng_rd(e, GITS_CWRITER, 8), "CWRITER high half is RES0");
	CHECK_EQ(0x3fe0, eng_rd(e, GITS_CWRITER, 4), "CWRITER low half read");
	CHECK_EQ(0, eng_rd(e, GITS_CWRITER + 4, 4), "CWRITER high half read");
	CHECK_EQ(0, eng_rd(e, GITS_CREADR + 4, 4), "CREADR high half read");

	uint64_t b = GITS_FIELD_SET(0x0000abcd12345000ull, BASER, VALID, 1) | GITS_FIELD_SET(0, BASER, SIZE, 7);
	eng_wr(e, GITS_BASERn(0) + 4, 4, b >> 32);
	eng_wr(e, GITS_BASERn(0), 4, (uint32_t)b);
	CHECK_EQ(b | baser_ro(1), eng_rd(e, GITS_BASERn(0), 8), "BASER0 via two halves");
	CHECK_EQ((b | baser_ro(1)) >> 32, eng_rd(e, GITS_BASERn(0) + 4, 4), "BASER0 high half read");
	eng_wr(e, GITS_BASERn(1) + 4, 4, 0);
	CHECK_EQ(baser_ro(4), eng_rd(e, GITS_BASERn(1), 8), "BASER1 high-half write keeps Type");
	struct vits_stats s1 = eng_stats(e);
	CHECK_EQ(s0.bad_access, s1.bad_access, "32-bit halves are good accesses");
	eng_free(e);
}

/* A bad access reads 0 (or writes nothing) and counts one bad_access. */
static void bad_read(struct eng *e, uint64_t off, unsigned size)
{
	struct vits_stats a = eng_stats(e);
	uint64_t v = 0x5555;
	CHECK_EQ(0, vits_mmio_read(e->v, off, size, &v), "read 0x%llx size %u returns 0",
		 (unsigned long long)off, size);
	CHECK_EQ(0, v, "read 0x%llx size %u reads zero", (unsigned long long)off, size);
	CHECK_EQ(a.bad_access + 1, eng_stats(e).bad_access, "read 0x%llx size %u bad_access",
		 (unsigned long long)off, size);
}

static void bad_write(struct eng *e, uint64_t off, unsigned size)
{
	struct vits_stats a = eng_stats(e);
	uint64_t h0 = eng_state_hash(e);
	uint64_t cw = eng_rd(e, GITS_CWRITER, 8), cr = eng_rd(e, GITS_CREADR, 8);
	uint64_t ctlr = eng_rd(e, GITS_CTLR, 4);
	CHECK_EQ(0, vits_mmio_write(e->v, off, size, ~0ull), "write 0x%llx size %u returns 0",
		 (unsigned long long)off, size);
	CHECK_EQ(a.bad_access + 1, eng_stats(e).bad_access, "write 0x%llx size %u bad_access",
		 (unsigned long long)off, size);
	CHECK_EQ(a.ignored_writes, eng_stats(e).ignored_writes, "write 0x%llx size %u not ignored_writes",
		 (unsigned long long)off, size);
	CHECK_EQ(h0, eng_state_hash(e), "write 0x%llx size %u changes nothing", (unsigned long long)off, size);
	CHECK_EQ(cw, eng_rd(e, GITS_CWRITER, 8), "write 0x%llx size %u: CWRITER", (unsigned long long)off, size);
	CHECK_EQ(cr, eng_rd(e, GITS_CREADR, 8), "write 0x%llx size %u: CREADR", (unsigned long long)off, size);
	CHECK_EQ(ctlr, eng_rd(e, GITS_CTLR, 4), "write 0x%llx size %u: CTLR", (unsigned long long)off, size);
}

static void test_bad_accesses(void)
{
	struct eng *e = raw_engine(12, 10, 4, 0);
	if (!e)
		return;
	uint64_t cb = GITS_FIELD_SET(GITS_FIELD_SET(ENG_QUEUE_GPA, CBASER, VALID, 1), CBASER, SIZE, 0);
	eng_wr(e, GITS_CBASER, 8, cb);
	eng_wr(e, GITS_BASERn(0), 8, harness_baser0_value(ENG_DEVTAB_GPA, 1, 4096, false));

	/* 64-bit access at a 32-bit register: RAZ/WI + bad_access. */
	static const uint64_t regs32[] = { GITS_CTLR, GITS_IIDR, GITS_PIDR2, 0xffd0, 0xfff8,
					   GITS_TRANSLATER };
	for (size_t i = 0; i < sizeof(regs32) / sizeof(regs32[0]); i++) {
		bad_read(e, regs32[i], 8);
		bad_write(e, regs32[i], 8);
	}
	/* Sizes other than 4 and 8. */
	static const uint64_t regs[] = { GITS_CTLR, GITS_TYPER, GITS_CBASER, GITS_CWRITER,
					 GITS_CREADR, GITS_BASERn(0), GITS_PIDR2 };
	static const unsigned sizes[] = { 0, 1, 2, 3, 16, 5 };
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		for (size_t j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
			bad_read(e, regs[i], sizes[j]);
			bad_write(e, regs[i], sizes[j]);
		}
	CHECK_EQ(cb, eng_rd(e, GITS_CBASER, 8), "CBASER unchanged by bad writes");
	/* Misaligned offsets. */
	static const struct { uint64_t off; unsigned size; } mis[] = {
		{ 0x1, 4 }, { 0x2, 4 }, { 0x9, 4 }, { 0xc, 8 }, { 0x84, 8 }, { 0x82, 4 },
		{ 0x8c, 8 }, { 0x94, 8 }, { 0x104, 8 }, { 0x101, 4 }, { 0xffe9, 4 }, { 0x10042, 4 },
		{ 0x13c, 8 },
	};
	for (size_t i = 0; i < sizeof(mis) / sizeof(mis[0]); i++) {
		bad_read(e, mis[i].off, mis[i].size);
		bad_write(e, mis[i].off, mis[i].size);
	}
	/* Unknown offsets (STATUSR/UMSIR, MPIDR, gaps, the translation frame, beyond). */
	static const uint64_t unk[] = { 0x10, 0x18, 0x40, 0x48, 0x7c, 0x98, 0xa0, 0xf8,
					0x140, 0x1000, 0xc000, 0xffcc, 0x10000, 0x10044,
					0x10048, 0x20020, 0x20000, 0xffffffff, 0xfffffffffffffff8ull };
	for (size_t i = 0; i < sizeof(unk) / sizeof(unk[0]); i++) {
		bad_read(e, unk[i], 4);
		bad_read(e, unk[i], 8);
		bad_write(e, unk[i], 4);
		bad_write(e, unk[i], 8);
	}
	eng_free(e);
}

static void test_refused_while_enabled(void)
{
	struct eng_opts o;
	eng_opts_default(&o);
	struct eng *e = eng_new(&o);      /* programmed and enabled */
	if (!e)
		return;
	uint64_t cb = eng_rd(e, GITS_CBASER, 8), b0 = eng_rd(e, GITS_BASERn(0), 8);
	uint64_t b1 = eng_rd(e, GITS_BASERn(1), 8);
	struct vits_stats s0 = eng_stats(e);

	eng_wr(e, GITS_CBASER, 8, 0);
	eng_wr(e, GITS_CBASER, 4, 0);
	eng_wr(e, GITS_CBASER + 4, 4, 0);
	CHECK_EQ(cb, eng_rd(e, GITS_CBASER, 8), "CBASER RO while enabled");
	eng_wr(e, GITS_BASERn(0), 8, 0);
	eng_wr(e, GITS_BASERn(0) + 4, 4, 0);
	CHECK_EQ(b0, eng_rd(e, GITS_BASERn(0), 8), "BASER0 RO while enabled");
	eng_wr(e, GITS_BASERn(1), 8, ~0ull);
	CHECK_EQ(b1, eng_rd(e, GITS_BASERn(1), 8), "BASER1 RO while enabled");
	struct vits_stats s1 = eng_stats(e);
	CHECK_EQ(s0.ignored_writes + 6, s1.ignored_writes, "ignored_writes counts refused writes");
	CHECK_EQ(s0.bad_access, s1.bad_access, "refused writes are not bad accesses");

	/* The queue still runs from the old CBASER. */
	EXPECT_OK(e, its_mk_sync(0), "SYNC after refused CBASER write");
	/* Once disabled, the writes take. */
	harness_enable(e->h, false);
	eng_wr(e, GITS_BASERn(1), 8, 0);
	CHECK_EQ(baser_ro(4), eng_rd(e, GITS_BASERn(1), 8), "BASER1 writable when disabled");
	eng_wr(e, GITS_CBASER, 8, 0);
	CHECK_EQ(0, eng_rd(e, GITS_CBASER, 8), "CBASER writable when disabled");
	eng_free(e);
}

static void test_cbaser_effects(void)
{
	struct eng_opts o;
	eng_opts_default(&o);
	o.hc.vits.error_mode = VITS_ERRMODE_STALL;
	o.queue_pages = 2;
	struct eng *e = eng_new(&o);
	if (!e)
		return;
	struct its_cmd bad = its_mk(0xff);
	struct its_cmd cmds[3] = { its_mk_sync(0), its_mk_sync(1), bad };
	harness_submit(e->h, cmds, 3);
	CHECK_EQ(0x40 | 1, eng_rd(e, GITS_CREADR, 8), "stalled on the third command");
	CHECK_EQ(0x60, eng_rd(e, GITS_CWRITER, 8), "CWRITER");
	CHECK_EQ(0, eng_rd(e, GITS_CTLR, 4) & QUIESCENT, "enabled: not quiescent");

	harness_enable(e->h, false);
	uint64_t cb = eng_rd(e, GITS_CBASER, 8);
	eng_wr(e, GITS_CBASER, 8, cb);
	CHECK_EQ(0, eng_rd(e, GITS_CREADR, 8), "CBASER write zeroes CREADR and clears Stalled");
	CHECK_EQ(0x60, eng_rd(e, GITS_CWRITER, 8), "CBASER write keeps CWRITER");
	CHECK_EQ(0, eng_rd(e, GITS_CTLR, 4) & QUIESCENT,
		 "disabled with commands waiting (CREADR != CWRITER): not quiescent");
	struct vits_queue_info qi;
	vits_query_queue(e->v, &qi);
	CHECK_EQ(0, qi.stalled, "query_queue: not stalled");
	CHECK_EQ(2 * 4096, qi.size, "query_queue: size");

	/* CWRITER beyond the new size is pulled back to 0. */
	eng_wr(e, GITS_CWRITER, 8, 0x1020);
	CHECK_EQ(0x1020, eng_rd(e, GITS_CWRITER, 8), "CWRITER in the second page");
	eng_wr(e, GITS_CBASER, 8, GITS_FIELD_SET(cb, CBASER, SIZE, 0));
	CHECK_EQ(0, eng_rd(e, GITS_CWRITER, 8), "CWRITER beyond the new size pulled to 0");
	CHECK_EQ(0, eng_rd(e, GITS_CREADR, 8), "CREADR 0");
	CHECK_EQ(QUIESCENT, eng_rd(e, GITS_CTLR, 4), "disabled and empty: quiescent");
	/* CWRITER exactly at the new size is pulled back too; below it is kept. */
	eng_wr(e, GITS_CBASER, 8, cb);
	eng_wr(e, GITS_CWRITER, 8, 0x1000);
	eng_wr(e, GITS_CBASER, 8, GITS_FIELD_SET(cb, CBASER, SIZE, 0));
	CHECK_EQ(0, eng_rd(e, GITS_CWRITER, 8), "CWRITER == new size pulled to 0");
	eng_wr(e, GITS_CWRITER, 8, 0xfe0);
	eng_wr(e, GITS_CBASER, 8, GITS_FIELD_SET(cb, CBASER, SIZE, 0));
	CHECK_EQ(0xfe0, eng_rd(e, GITS_CWRITER, 8), "CWRITER below the new size kept");
	/* An invalid CBASER: size 0, CWRITER pulled to 0. */
	eng_wr(e, GITS_CBASER, 8, GITS_FIELD_SET(cb, CBASER, VALID, 0));
	CHECK_EQ(0, eng_rd(e, GITS_CWRITER, 8), "CBASER invalid: CWRITER 0");
	vits_query_queue(e->v, &qi);
	CHECK_EQ(0, qi.size, "CBASER invalid: queue size 0");
	eng_free(e);
}

static void test_translater(void)
{
	struct eng_opts o;
	eng_opts_default(&o);
	struct eng *e = eng_new(&o);
	if (!e)
		return;
	eng_map_colls(e);
	eng_mapd(e, 0, 3);
	eng_mapti(e, 0, 0, 8192, 0, LPI_ON);
	struct vits_stats a = eng_stats(e);
	eng_wr(e, GITS_TRANSLATER, 4, 0);
	struct vits_stats b = eng_stats(e);
	CHECK_EQ(a.bad_access + 1, b.bad_access, "TRANSLATER MMIO write counted in bad_access");
	CHECK_EQ(a.msis, b.msis, "TRANSLATER MMIO write is no MSI");
	CHECK_EQ(0, eng_ninj(e), "TRANSLATER MMIO write injects nothing");
	CHECK_EQ(0, eng_lpi(e, 8192).pending, "TRANSLATER MMIO write makes nothing pending");
	CHECK_EQ(0, eng_rd(e, GITS_TRANSLATER, 4), "TRANSLATER reads zero");
	/* The MSI path is vits_msi. */
	CHECK_EQ(0, vits_msi(e->v, 0, 0), "vits_msi delivers");
	CHECK_EQ(1, eng_ninj(e), "vits_msi injected");
	eng_free(e);
}

static void test_quiescent(void)
{
	struct eng_opts o;
	eng_opts_default(&o);
	o.no_guest_init = true;
	struct eng *e = eng_new(&o);
	if (!e)
		return;
	uint64_t cb = GITS_FIELD_SET(GITS_FIELD_SET(ENG_QUEUE_GPA, CBASER, VALID, 1), CBASER, SIZE, 0);
	eng_wr(e, GITS_CBASER, 8, cb);
	CHECK_EQ(QUIESCENT, eng_rd(e, GITS_CTLR, 4), "disabled, empty queue: Quiescent");
	eng_put_slot(e, ENG_QUEUE_GPA, 0, its_mk_sync(0));
	eng_wr(e, GITS_CWRITER, 8, 0x20);
	CHECK_EQ(0, eng_rd(e, GITS_CTLR, 4), "disabled, a command waiting: not Quiescent");
	CHECK_EQ(0, eng_rd(e, GITS_CREADR, 8), "disabled: nothing ran");
	eng_wr(e, GITS_CTLR, 4, 1);
	CHECK_EQ(0x20, eng_rd(e, GITS_CREADR, 8), "enabling ran the waiting command");
	CHECK_EQ(1, eng_rd(e, GITS_CTLR, 4), "enabled: Enabled=1, Quiescent=0");
	eng_wr(e, GITS_CTLR, 4, 0);
	CHECK_EQ(QUIESCENT, eng_rd(e, GITS_CTLR, 4), "disabled again, empty: Quiescent");
	eng_free(e);
}

/* BASER PA bits below the page size are RES0; with 64K pages bits [15:12] are
 * PA[51:48] and the engine uses them (a two-level table above 2^48). */
static void test_baser_pages(void)
{
	struct eng_opts o;
	eng_opts_default(&o);
	o.no_guest_init = true;
	o.hc.nr_ram = 2;
	o.hc.ram[1].base = 0x0005000000000000ull;   /* PA[51:48] = 5 */
	o.hc.ram[1].size = 1ull << 20;
	o.hc.vits.devid_bits = 16;
	struct eng *e = eng_new(&o);
	if (!e)
		return;
	uint64_t pa = 0x0000123456787000ull & GITS_FIELD_MASK(BASER, PA);
	uint64_t v4 = GITS_FIELD_SET(pa, BASER, PAGE_SIZE, 0);
	eng_wr(e, GITS_BASERn(0), 8, v4);
	CHECK_EQ(v4 | baser_ro(1), eng_rd(e, GITS_BASERn(0), 8), "4K pages: PA[12] kept");
	uint64_t v16 = GITS_FIELD_SET(pa, BASER, PAGE_SIZE, 1);
	eng_wr(e, GITS_BASERn(0), 8, v16);
	CHECK_EQ((v16 & ~0x3000ull) | baser_ro(1), eng_rd(e, GITS_BASERn(0), 8),
		 "16K pages: PA[13:12] RES0");
	uint64_t v64 = GITS_FIELD_SET(pa, BASER, PAGE_SIZE, 2);
	eng_wr(e, GITS_BASERn(0), 8, v64);
	CHECK_EQ(v64 | baser_ro(1), eng_rd(e, GITS_BASERn(0), 8),
		 "64K pages: bits [15:12] kept as PA[51:48]");
	eng_wr(e, GITS_BASERn(1), 8, v16);
	CHECK_EQ((v16 & ~0x3000ull) | baser_ro(4), eng_rd(e, GITS_BASERn(1), 8), "BASER1 16K masking");

	/* Functional: a two-level device table at 0x0005_0000_0001_0000 (64K pages). */
	uint64_t l1 = 0x0005000000010000ull, l2 = 0x0005000000020000ull;
	uint64_t b = harness_baser0_value(l1, 1, 65536, true);
	CHECK_EQ(5, GITS_FIELD_GET(b, BASER, PA_HI64K), "harness encodes PA[51:48]");
	eng_wr(e, GITS_BASERn(0), 8, b);
	CHECK_EQ(b, eng_rd(e, GITS_BASERn(0), 8), "BASER0 64K with PA[51:48]");
	guest_ram_write_u64(e->h->ram, l1 + 8, l2 | (1ull << 63));  /* L1[1]: DeviceIDs 8192.. */
	uint64_t cb = GITS_FIELD_SET(GITS_FIELD_SET(ENG_QUEUE_GPA, CBASER, VALID, 1), CBASER, SIZE, 0);
	eng_wr(e, GITS_CBASER, 8, cb);
	eng_wr(e, GITS_CWRITER, 8, 0);
	eng_wr(e, GITS_CTLR, 4, 1);
	size_t mark = e->rec.n;
	EXPECT_OK(e, its_mk_mapd(8192, 0, eng_itt(1), 1), "MAPD through L1[1] above 2^48");
	bool read_l1 = false;
	for (size_t i = mark; i < e->rec.n; i++)
		if (e->rec.ev[i].type == VITS_EV_MEM_READ && e->rec.ev[i].u.mem.gpa == l1 + 8)
			read_l1 = true;
	CHECK(read_l1, "the L1 entry was read at PA[51:48]:PA[47:16] + 8");
	EXPECT_FAIL(e, its_mk_mapd(0, 0, eng_itt(1), 1), VITS_R_DEVICE_TABLE, 0x010801,
		    "MAPD through invalid L1[0]");
	eng_free(e);
}

int main(void)
{
	test_reset_values();
	test_ro_and_res0();
	test_halves();
	test_bad_accesses();
	test_refused_while_enabled();
	test_cbaser_effects();
	test_translater();
	test_quiescent();
	test_baser_pages();
	return check_summary();
}
