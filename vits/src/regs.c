/*
 * regs.c: the ITS register frames (IHI 0069 12.19) through a table of
 * (offset, width, read handler, write handler) rows, not a switch.
 *
 * 64-bit registers accept a 64-bit access at their offset and 32-bit accesses to
 * either half; 32-bit registers accept 32-bit accesses only.  Anything else reads as
 * zero and ignores writes (IMPDEF choice: the architecture makes other accesses
 * UNPREDICTABLE), counted in stats.bad_access.
 */
#include "vits_internal.h"

/* Writable bits of each register; the rest are RO or RES0. */
#define CBASER_RW (GITS_FIELD_MASK(CBASER, SIZE) | GITS_FIELD_MASK(CBASER, SHAREABILITY) | \
		   GITS_FIELD_MASK(CBASER, PA) | GITS_FIELD_MASK(CBASER, OUTERCACHE) |      \
		   GITS_FIELD_MASK(CBASER, INNERCACHE) | GITS_FIELD_MASK(CBASER, VALID))
#define CWRITER_RW (GITS_FIELD_MASK(CWRITER, OFFSET) | GITS_FIELD_MASK(CWRITER, RETRY))
#define BASER_RW (GITS_FIELD_MASK(BASER, SIZE) | GITS_FIELD_MASK(BASER, PAGE_SIZE) |      \
		  GITS_FIELD_MASK(BASER, SHAREABILITY) | GITS_FIELD_MASK(BASER, PA) |       \
		  GITS_FIELD_MASK(BASER, OUTERCACHE) | GITS_FIELD_MASK(BASER, INNERCACHE) | \
		  GITS_FIELD_MASK(BASER, INDIRECT) | GITS_FIELD_MASK(BASER, VALID))

/* The Arm ITS identification block, 0xFFD0..0xFFFC (PIDR4..7, PIDR0..3, CIDR0..3). */
static const uint8_t id_regs[12] = {
	0x04, 0x00, 0x00, 0x00,      /* PIDR4..PIDR7 */
	0x94, 0xb4, 0x3b, 0x00,      /* PIDR0..PIDR3; PIDR2.ArchRev = 3 (GICv3) */
	0x0d, 0xf0, 0x05, 0xb1,      /* CIDR0..CIDR3 */
};

static bool its_enabled(const struct vits *v)
{
	return v->ctlr & 1;
}

static void ignored(struct vits *v)
{
	v->st.ignored_writes++;
}

/* ---- handlers: (register-relative) full 64-bit value in and out ---------------- */

static uint64_t rd_ctlr(struct vits *v, uint64_t off)
{
	uint64_t val = v->ctlr & 1;
	if (!its_enabled(v) && (v->creadr == v->cwriter || v->qsize == 0 || v->stalled))
		val |= (uint64_t)1 << GITS_CTLR_QUIESCENT_SHIFT;
	return val;
}

static void wr_ctlr(struct vits *v, uint64_t off, uint64_t val)
{
	bool was = its_enabled(v), now = val & 1;
	v->ctlr = now;
	if (was && !now) {
		/* Disabling ends translation; cached translations go with it. */
		vits_xlate_flush(v);
	} else if (!was && now) {
		vits_cmdq_process(v);
	}
}

static uint64_t rd_iidr(struct vits *v, uint64_t off)
{
	return v->cfg.iidr;
}

static uint64_t rd_typer(struct vits *v, uint64_t off)
{
	return v->typer;
}

static uint64_t rd_cbaser(struct vits *v, uint64_t off)
{
	return v->cbaser;
}

static void wr_cbaser(struct vits *v, uint64_t off, uint64_t val)
{
	if (its_enabled(v)) {
		/* IMPDEF choice: CBASER is read-only while enabled (KVM, Xen). */
		ignored(v);
		return;
	}
	v->cbaser = val & CBASER_RW;
	v->qsize = GITS_FIELD_GET(v->cbaser, CBASER, VALID)
			   ? (uint32_t)(GITS_FIELD_GET(v->cbaser, CBASER, SIZE) + 1) * ITS_CMDQ_PAGE
			   : 0;
	/* IHI 0069: writing CBASER sets CREADR to 0.  IMPDEF choice: CWRITER is kept
	 * (Xen, QEMU); a CWRITER beyond the new size is pulled back to 0 so that the
	 * queue invariant CWRITER < size holds. */
	v->creadr = 0;
	v->stalled = 0;
	v->inflight = 0;        /* its physical commands stay queued in the outbox */
	v->inflight_sync = 0;
	if (v->cwriter >= v->qsize)
		v->cwriter = 0;
}

static uint64_t rd_cwriter(struct vits *v, uint64_t off)
{
	return v->cwriter;
}

static void wr_cwriter(struct vits *v, uint64_t off, uint64_t val)
{
	uint32_t target = (uint32_t)(val & GITS_FIELD_MASK(CWRITER, OFFSET));
	if (target >= v->qsize && !(target == 0 && v->qsize == 0)) {
		/* IMPDEF choice: an offset at or beyond the queue size is ignored whole
		 * (KVM, Xen): CWRITER keeps its value and nothing runs. */
		ignored(v);
		return;
	}
	if (v->inflight && target == v->creadr) {
		/* IMPDEF choice: the command at CREADR has run and waits only for room in
		 * the physical queue; a CWRITER pulled back onto it (UNPREDICTABLE in the
		 * architecture) is ignored, so the command cannot run twice. */
		ignored(v);
		return;
	}
	v->cwriter = target;
	if ((val & GITS_FIELD_MASK(CWRITER, RETRY)) && v->stalled) {
		/* Retry: run the stalled command again (IHI 0069 12.19.3). */
		v->stalled = 0;
	}
	vits_cmdq_process(v);
}

static uint64_t rd_creadr(struct vits *v, uint64_t off)
{
	return v->creadr | (uint64_t)v->stalled;
}

static void wr_ro(struct vits *v, uint64_t off, uint64_t val)
{
	ignored(v);
}

static uint64_t rd_baser(struct vits *v, uint64_t off)
{
	return v->baser[(off - GITS_BASER0) / 8];
}

static void wr_baser(struct vits *v, uint64_t off, uint64_t val)
{
	unsigned n = (unsigned)((off - GITS_BASER0) / 8);
	uint64_t old = v->baser[n];
	if (GITS_FIELD_GET(old, BASER, TYPE) == GITS_BASER_TYPE_NONE)
		return;         /* unimplemented BASERn: RAZ/WI */
	if (its_enabled(v)) {
		/* IMPDEF choice: BASERn are read-only while enabled (KVM, Xen). */
		ignored(v);
		return;
	}
	uint64_t nv = (old & ~BASER_RW) | (val & BASER_RW);
	/* PA bits below the page size are RES0. */
	switch (GITS_FIELD_GET(nv, BASER, PAGE_SIZE)) {
	case 0: break;
	case 1: nv &= ~((uint64_t)0x3 << 12); break;
	default:
		/* 64 KiB pages (and the reserved encoding 3, treated as 64 KiB):
		 * bits [15:12] are PA[51:48], kept. */
		nv = GITS_FIELD_SET(nv, BASER, PAGE_SIZE, 2);
		break;
	}
	v->baser[n] = nv;
}

static uint64_t rd_id(struct vits *v, uint64_t off)
{
	return id_regs[(off - GITS_ID_REGS_START) / 4];
}

static uint64_t rd_zero(struct vits *v, uint64_t off)
{
	return 0;
}

static void wr_translater(struct vits *v, uint64_t off, uint64_t val)
{
	/* The DeviceID comes from the bus: MSIs arrive through vits_msi(). */
	v->st.bad_access++;
}

/* ---- the table ------------------------------------------------------------------ */

struct reg_row {
	uint32_t offset;
	uint8_t width;          /* 4 or 8 */
	uint8_t count;          /* consecutive registers of the same kind */
	uint64_t (*read)(struct vits *v, uint64_t off);
	void (*write)(struct vits *v, uint64_t off, uint64_t val);
};

static const struct reg_row reg_table[] = {
	{ GITS_CTLR, 4, 1, rd_ctlr, wr_ctlr },
	{ GITS_IIDR, 4, 1, rd_iidr, wr_ro },
	{ GITS_TYPER, 8, 1, rd_typer, wr_ro },
	{ GITS_CBASER, 8, 1, rd_cbaser, wr_cbaser },
	{ GITS_CWRITER, 8, 1, rd_cwriter, wr_cwriter },
	{ GITS_CREADR, 8, 1, rd_creadr, wr_ro },
	{ GITS_BASER0, 8, GITS_BASER_COUNT, rd_baser, wr_baser },
	{ GITS_ID_REGS_START, 4, 12, rd_id, wr_ro },
	{ GITS_TRANSLATER, 4, 1, rd_zero, wr_translater },
};

/* Find the row and the register's own offset for an access; NULL when none fits. */
static const struct reg_row *reg_lookup(uint64_t off, unsigned size, uint64_t *reg_off,
					unsigned *shift)
{
	for (size_t i = 0; i < sizeof(reg_table) / sizeof(reg_table[0]); i++) {
		const struct reg_row *r = &reg_table[i];
		uint64_t end = r->offset + (uint64_t)r->width * r->count;
		if (off < r->offset || off >= end)
			continue;
		uint64_t base = r->offset + (off - r->offset) / r->width * r->width;
		uint64_t within = off - base;
		if (size == r->width && within == 0) {
			*shift = 0;
		} else if (r->width == 8 && size == 4 && (within == 0 || within == 4)) {
			*shift = (unsigned)within * 8;
		} else {
			return NULL;
		}
		*reg_off = base;
		return r;
	}
	return NULL;
}

static void trace_mmio(struct vits *v, enum vits_ev_type t, uint64_t off, unsigned size,
		       uint64_t val)
{
	struct vits_event ev = { .type = (uint16_t)t };
	ev.u.mmio.offset = off;
	ev.u.mmio.size = (uint8_t)size;
	ev.u.mmio.value = val;
	vits_trace(v, &ev);
}

int vits_mmio_read(struct vits *v, uint64_t offset, unsigned size, uint64_t *val)
{
	if (v == NULL || val == NULL)
		return VITS_E_INVAL;
	uint64_t reg_off;
	unsigned shift;
	const struct reg_row *r = reg_lookup(offset, size, &reg_off, &shift);
	v->st.mmio_reads++;
	if (r == NULL) {
		v->st.bad_access++;
		*val = 0;
	} else {
		uint64_t full = r->read(v, reg_off);
		*val = size == 4 ? (uint32_t)(full >> shift) : full;
	}
	if (v->ops.trace)
		trace_mmio(v, VITS_EV_MMIO_READ, offset, size, *val);
	return 0;
}

int vits_mmio_write(struct vits *v, uint64_t offset, unsigned size, uint64_t val)
{
	if (v == NULL)
		return VITS_E_INVAL;
	uint64_t reg_off;
	unsigned shift;
	const struct reg_row *r = reg_lookup(offset, size, &reg_off, &shift);
	v->st.mmio_writes++;
	if (size == 4)
		val = (uint32_t)val;
	if (v->ops.trace)
		trace_mmio(v, VITS_EV_MMIO_WRITE, offset, size, val);
	if (r == NULL) {
		v->st.bad_access++;
		return 0;
	}
	if (r->width == 8 && size == 4) {
		/* Merge a 32-bit half into the register's current value. */
		uint64_t cur = r->read(v, reg_off);
		if (reg_off == GITS_CREADR)
			cur = 0;
		uint64_t mask = (uint64_t)0xffffffffu << shift;
		val = (cur & ~mask) | (val << shift);
		if (reg_off == GITS_CWRITER && shift == 32)
			val &= ~GITS_FIELD_MASK(CWRITER, RETRY);   /* Retry is a low-half bit */
	}
	r->write(v, reg_off, val);
	return 0;
}

void vits_regs_reset(struct vits *v)
{
	v->ctlr = 0;
	v->cbaser = 0;
	v->cwriter = 0;
	v->creadr = 0;
	v->stalled = 0;
	v->qsize = 0;
	for (unsigned n = 0; n < GITS_BASER_COUNT; n++)
		v->baser[n] = 0;
	/* BASER0: devices, BASER1: collections, both with 8-byte entries. */
	v->baser[0] = GITS_FIELD_SET(GITS_FIELD_SET(0, BASER, TYPE, GITS_BASER_TYPE_DEVICE),
				     BASER, ENTRY_SIZE, 7);
	v->baser[1] = GITS_FIELD_SET(GITS_FIELD_SET(0, BASER, TYPE, GITS_BASER_TYPE_COLLECTION),
				     BASER, ENTRY_SIZE, 7);
}
