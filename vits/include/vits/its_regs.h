/*
 * ITS register offsets and field helpers, generated from its_regs.def.
 * Freestanding, header-only; shared by the engine, the tools and the tests.
 */
#ifndef VITS_ITS_REGS_H
#define VITS_ITS_REGS_H

#include "vits_platform.h"

enum {
#define ITS_REG(name, off, bytes) GITS_##name = off,
#include "its_regs.def"
#undef ITS_REG
};

/* GITS_<REG>_<FIELD>_SHIFT and GITS_<REG>_<FIELD>_WIDTH for every field. */
enum {
#define ITS_REG_FIELD(reg, field, lsb, width) \
	GITS_##reg##_##field##_SHIFT = lsb, GITS_##reg##_##field##_WIDTH = width,
#include "its_regs.def"
#undef ITS_REG_FIELD
};

#define GITS_FIELD_MASK(reg, field) \
	((GITS_##reg##_##field##_WIDTH >= 64 ? ~(uint64_t)0 : \
	  (((uint64_t)1 << GITS_##reg##_##field##_WIDTH) - 1)) << GITS_##reg##_##field##_SHIFT)
#define GITS_FIELD_GET(val, reg, field) \
	(((uint64_t)(val) & GITS_FIELD_MASK(reg, field)) >> GITS_##reg##_##field##_SHIFT)
#define GITS_FIELD_SET(val, reg, field, x) \
	(((uint64_t)(val) & ~GITS_FIELD_MASK(reg, field)) | \
	 (((uint64_t)(x) << GITS_##reg##_##field##_SHIFT) & GITS_FIELD_MASK(reg, field)))

#define GITS_BASERn(n)        (GITS_BASER0 + 8 * (n))
#define GITS_BASER_COUNT      8
#define GITS_BASER_TYPE_NONE        0
#define GITS_BASER_TYPE_DEVICE      1
#define GITS_BASER_TYPE_COLLECTION  4
#define GITS_TRANSLATION_FRAME 0x10000u
#define GITS_ID_REGS_START    0xffd0u

#define ITS_CMDQ_PAGE          4096u
#define ITS_CMDQ_MAX_PAGES     256u
#define LPI_INTID_BASE         8192u

#endif /* VITS_ITS_REGS_H */
