/*
 * harness_driver.c: a tiny guest ITS driver.  It programs the vITS the way Linux's
 * irq-gic-v3-its.c does at probe time and then feeds the command queue, so the
 * engine sees only real register traffic (vits_mmio_*) and real guest memory.
 */
#include "harness_internal.h"

#include "its_regs.h"

/* Linux's choice of attributes: inner shareable, read/write-allocate write-back. */
#define HDRV_SHAREABILITY 1u
#define HDRV_INNERCACHE   7u

uint64_t harness_mmio_read(struct harness *h, uint64_t offset, unsigned size)
{
	uint64_t v = 0;
	if (vits_mmio_read(h->vits, offset, size, &v) < 0)
		return 0;
	return v;
}

int harness_mmio_write(struct harness *h, uint64_t offset, unsigned size, uint64_t val)
{
	return vits_mmio_write(h->vits, offset, size, val);
}

int harness_write_guest(struct harness *h, uint64_t gpa, const void *buf, size_t len)
{
	return guest_ram_write(h->ram, gpa, buf, len);
}

uint64_t harness_guest_alloc(struct harness *h, uint64_t size, uint64_t align)
{
	uint64_t base = h->cfg.ram[0].base;
	if (size == 0 || align == 0 || (align & (align - 1)) || size > h->drv.alloc_top - base)
		return 0;
	uint64_t gpa = (h->drv.alloc_top - size) & ~(align - 1);
	if (gpa < base || gpa == 0)
		return 0;
	h->drv.alloc_top = gpa;
	return gpa;
}

static int hdrv_page_size_code(unsigned page_size)
{
	switch (page_size) {
	case 4096: return 0;
	case 16384: return 1;
	case 65536: return 2;
	default: return -1;
	}
}

uint64_t harness_baser0_value(uint64_t devtab_gpa, unsigned devtab_pages, unsigned page_size,
			      bool indirect)
{
	int code = hdrv_page_size_code(page_size);
	uint64_t v = 0;
	v = GITS_FIELD_SET(v, BASER, VALID, 1);
	v = GITS_FIELD_SET(v, BASER, INDIRECT, indirect ? 1 : 0);
	v = GITS_FIELD_SET(v, BASER, INNERCACHE, HDRV_INNERCACHE);
	v = GITS_FIELD_SET(v, BASER, TYPE, GITS_BASER_TYPE_DEVICE);
	v = GITS_FIELD_SET(v, BASER, ENTRY_SIZE, 7);   /* 8-byte entries, as TYPER says */
	v = GITS_FIELD_SET(v, BASER, SHAREABILITY, HDRV_SHAREABILITY);
	v = GITS_FIELD_SET(v, BASER, PAGE_SIZE, code < 0 ? 0 : (unsigned)code);
	v = GITS_FIELD_SET(v, BASER, SIZE, devtab_pages ? devtab_pages - 1 : 0);
	v |= devtab_gpa & GITS_FIELD_MASK(BASER, PA);
	/* With 64 KiB pages PA[51:48] lives in bits [15:12] (IHI 0069, GITS_BASER). */
	if (page_size == 65536)
		v = GITS_FIELD_SET(v, BASER, PA_HI64K, (devtab_gpa >> 48) & 0xf);
	return v;
}

/* Make each L1 entry that a DeviceID below 2^devid_bits can reach Valid, pointing at
 * a fresh zeroed L2 page; the rest stay zero (invalid).  Capped because a 32-bit
 * DeviceID space with 64 KiB pages would need 1 GiB of L2 pages; Linux too makes L1
 * entries valid only for the DeviceIDs it probes. */
static int hdrv_fill_l1(struct harness *h, uint64_t l1_gpa, unsigned pages, unsigned page_size)
{
	uint64_t entries = (uint64_t)pages * page_size / 8;
	uint64_t ids_per_l2 = page_size / 8;
	uint64_t ids = (uint64_t)1 << h->cfg.vits.devid_bits;
	uint64_t needed = (ids + ids_per_l2 - 1) / ids_per_l2;
	if (needed > entries)
		needed = entries;
	if (needed > HARNESS_MAX_L1_VALID)
		needed = HARNESS_MAX_L1_VALID;
	/* One write of the whole run of entries (little-endian), not one per entry:
	 * the fuzzers set up an indirect table for every input. */
	uint8_t l1[HARNESS_MAX_L1_VALID * 8];
	for (uint64_t i = 0; i < needed; i++) {
		uint64_t l2 = harness_guest_alloc(h, page_size, page_size);
		if (!l2)
			return -1;
		guest_ram_le64(&l1[i * 8], l2 | (1ull << 63));
	}
	return guest_ram_write(h->ram, l1_gpa, l1, (size_t)needed * 8) ? -1 : 0;
}

int harness_guest_init(struct harness *h, uint64_t queue_gpa, unsigned queue_pages,
		       uint64_t devtab_gpa, unsigned devtab_pages, unsigned page_size,
		       bool indirect, uint64_t prop_gpa, unsigned prop_id_bits)
{
	if (queue_pages < 1 || queue_pages > ITS_CMDQ_MAX_PAGES || devtab_pages < 1 ||
	    devtab_pages > 256 || hdrv_page_size_code(page_size) < 0 ||
	    (queue_gpa & (ITS_CMDQ_PAGE - 1)) || (devtab_gpa & (page_size - 1)))
		return -1;
	uint64_t qsize = (uint64_t)queue_pages * ITS_CMDQ_PAGE;
	if (!guest_ram_contains(h->ram, queue_gpa, qsize) ||
	    !guest_ram_contains(h->ram, devtab_gpa, (uint64_t)devtab_pages * page_size))
		return -1;
	if (indirect && hdrv_fill_l1(h, devtab_gpa, devtab_pages, page_size))
		return -1;

	uint64_t baser = harness_baser0_value(devtab_gpa, devtab_pages, page_size, indirect);
	uint64_t cbaser = 0;
	cbaser = GITS_FIELD_SET(cbaser, CBASER, VALID, 1);
	cbaser = GITS_FIELD_SET(cbaser, CBASER, INNERCACHE, HDRV_INNERCACHE);
	cbaser = GITS_FIELD_SET(cbaser, CBASER, SHAREABILITY, HDRV_SHAREABILITY);
	cbaser = GITS_FIELD_SET(cbaser, CBASER, SIZE, queue_pages - 1);
	cbaser |= queue_gpa & GITS_FIELD_MASK(CBASER, PA);

	if (vits_mmio_write(h->vits, GITS_BASER0, 8, baser) < 0 ||
	    vits_mmio_write(h->vits, GITS_CBASER, 8, cbaser) < 0 ||
	    vits_mmio_write(h->vits, GITS_CWRITER, 8, 0) < 0)
		return -1;
	if (harness_set_prop_table(h, prop_id_bits ? prop_gpa : 0, prop_id_bits) < 0)
		return -1;
	h->drv.queue_gpa = queue_gpa;
	h->drv.queue_size = qsize;
	h->drv.wptr = 0;
	h->drv.creadr_seen = 0;   /* CBASER was just written: CREADR is 0 */
	h->drv.baser0 = baser;
	h->drv.cbaser = cbaser;
	h->drv.inited = true;
	return harness_enable(h, true);
}

int harness_set_prop_table(struct harness *h, uint64_t gpa, unsigned id_bits)
{
	int rc = vits_set_prop_table(h->vits, gpa, id_bits);
	if (rc >= 0) {
		h->drv.prop_gpa = id_bits ? gpa : 0;
		h->drv.prop_id_bits = id_bits;
	}
	return rc;
}

int harness_enable(struct harness *h, bool enabled)
{
	uint64_t ctlr = harness_mmio_read(h, GITS_CTLR, 4);
	ctlr = GITS_FIELD_SET(ctlr, CTLR, ENABLED, enabled ? 1 : 0);
	ctlr &= ~GITS_FIELD_MASK(CTLR, QUIESCENT);   /* read-only; Linux masks it too */
	return vits_mmio_write(h->vits, GITS_CTLR, 4, ctlr) < 0 ? -1 : 0;
}

/* Full when the slot after wptr is CREADR (one slot stays free).  The last CREADR
 * seen is trusted until it says "full", and only then read again, so a stream of
 * commands costs one MMIO read per queue-full of them, not one per command. */
static bool hdrv_queue_full(struct harness *h)
{
	uint64_t next = (h->drv.wptr + ITS_CMD_BYTES) % h->drv.queue_size;
	if (next != h->drv.creadr_seen)
		return false;
	h->drv.creadr_seen = harness_mmio_read(h, GITS_CREADR, 8) & GITS_FIELD_MASK(CREADR, OFFSET);
	return next == h->drv.creadr_seen;
}

int harness_queue_cmd(struct harness *h, const struct its_cmd *cmd)
{
	if (!h->drv.inited || hdrv_queue_full(h))
		return -1;
	uint8_t raw[ITS_CMD_BYTES];
	its_cmd_to_bytes(cmd, raw);
	if (guest_ram_write(h->ram, h->drv.queue_gpa + h->drv.wptr, raw, sizeof(raw)))
		return -1;
	h->drv.wptr = (h->drv.wptr + ITS_CMD_BYTES) % h->drv.queue_size;
	return 0;
}

int harness_kick(struct harness *h)
{
	if (!h->drv.inited)
		return -1;
	return vits_mmio_write(h->vits, GITS_CWRITER, 8, h->drv.wptr) < 0 ? -1 : 0;
}

int harness_submit(struct harness *h, const struct its_cmd *cmds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (harness_queue_cmd(h, &cmds[i]) == 0)
			continue;
		if (!h->drv.inited || harness_kick(h) || harness_queue_cmd(h, &cmds[i]))
			return -1;
	}
	return harness_kick(h);
}

int harness_set_prop(struct harness *h, uint32_t intid, uint8_t cfg)
{
	if (!h->drv.prop_id_bits || intid < LPI_INTID_BASE)
		return -1;
	uint64_t off = (uint64_t)intid - LPI_INTID_BASE;
	if (off > UINT64_MAX - h->drv.prop_gpa)
		return -1;
	return guest_ram_write(h->ram, h->drv.prop_gpa + off, &cfg, 1);
}

int harness_set_prop_trapped(struct harness *h, uint32_t intid, uint8_t cfg)
{
	if (harness_set_prop(h, intid, cfg))
		return -1;
	/* The trap fires after the store reached guest memory (vits.h). */
	uint64_t gpa = h->drv.prop_gpa + ((uint64_t)intid - LPI_INTID_BASE);
	return vits_prop_write(h->vits, gpa, 1, cfg) < 0 ? -1 : 0;
}
