/*
 * ITS command encoders, decoders and names, generated from its_cmd.def.
 *
 * Freestanding and header-only: the engine, the reference model, the trace tools,
 * the fuzzers and the tests all use these, so a field is encoded one way everywhere.
 */
#ifndef VITS_ITS_CMD_H
#define VITS_ITS_CMD_H

#include "vits_platform.h"

#define ITS_CMD_BYTES 32u

/* A command as four little-endian doublewords (already in host order). */
struct its_cmd {
	uint64_t dw[4];
};

enum its_opcode {
#define ITS_CMD(name, op, v4) ITS_OP_##name = op,
#include "its_cmd.def"
#undef ITS_CMD
};

/* The twelve GICv3 physical commands, in a dense index used for counters. */
enum its_cmd_index {
	ITS_IDX_MOVI, ITS_IDX_INT, ITS_IDX_CLEAR, ITS_IDX_SYNC, ITS_IDX_MAPD,
	ITS_IDX_MAPC, ITS_IDX_MAPTI, ITS_IDX_MAPI, ITS_IDX_INV, ITS_IDX_INVALL,
	ITS_IDX_MOVALL, ITS_IDX_DISCARD,
	ITS_IDX_COUNT
};

static inline uint64_t its_field_mask(unsigned width)
{
	return width >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << width) - 1);
}

/* its_cmd_get_<field>(cmd) and its_cmd_set_<field>(cmd, value), one pair per row. */
#define ITS_CMD_FIELD(name, dw_, lsb, width)                                        \
	static inline uint64_t its_cmd_get_##name(const struct its_cmd *c)          \
	{                                                                           \
		return (c->dw[dw_] >> (lsb)) & its_field_mask(width);               \
	}                                                                           \
	static inline void its_cmd_set_##name(struct its_cmd *c, uint64_t v)        \
	{                                                                           \
		uint64_t m = its_field_mask(width) << (lsb);                        \
		c->dw[dw_] = (c->dw[dw_] & ~m) | ((v << (lsb)) & m);                \
	}
#include "its_cmd.def"
#undef ITS_CMD_FIELD

/* Name of an opcode ("MAPTI"), or NULL when the architecture defines none. */
static inline const char *its_cmd_name(unsigned opcode)
{
	switch (opcode) {
#define ITS_CMD(name, op, v4) case op: return #name;
#include "its_cmd.def"
#undef ITS_CMD
	default: return NULL;
	}
}

/* 1 for GICv4 opcodes, 0 for GICv3 ones, -1 for opcodes the architecture lacks. */
static inline int its_cmd_is_gicv4(unsigned opcode)
{
	switch (opcode) {
#define ITS_CMD(name, op, v4) case op: return v4;
#include "its_cmd.def"
#undef ITS_CMD
	default: return -1;
	}
}

/* Dense index of a GICv3 opcode (enum its_cmd_index), or -1. */
static inline int its_cmd_index(unsigned opcode)
{
	switch (opcode) {
	case ITS_OP_MOVI: return ITS_IDX_MOVI;
	case ITS_OP_INT: return ITS_IDX_INT;
	case ITS_OP_CLEAR: return ITS_IDX_CLEAR;
	case ITS_OP_SYNC: return ITS_IDX_SYNC;
	case ITS_OP_MAPD: return ITS_IDX_MAPD;
	case ITS_OP_MAPC: return ITS_IDX_MAPC;
	case ITS_OP_MAPTI: return ITS_IDX_MAPTI;
	case ITS_OP_MAPI: return ITS_IDX_MAPI;
	case ITS_OP_INV: return ITS_IDX_INV;
	case ITS_OP_INVALL: return ITS_IDX_INVALL;
	case ITS_OP_MOVALL: return ITS_IDX_MOVALL;
	case ITS_OP_DISCARD: return ITS_IDX_DISCARD;
	default: return -1;
	}
}

/* Opcode of a dense index; the inverse of its_cmd_index(). */
static inline unsigned its_cmd_index_opcode(enum its_cmd_index i)
{
	static const unsigned char op[ITS_IDX_COUNT] = {
		ITS_OP_MOVI, ITS_OP_INT, ITS_OP_CLEAR, ITS_OP_SYNC, ITS_OP_MAPD,
		ITS_OP_MAPC, ITS_OP_MAPTI, ITS_OP_MAPI, ITS_OP_INV, ITS_OP_INVALL,
		ITS_OP_MOVALL, ITS_OP_DISCARD,
	};
	return (unsigned)i < ITS_IDX_COUNT ? op[i] : 0;
}

/* Bytes as they sit in the queue (little-endian) to and from a command.  On a
 * little-endian host that is a plain copy (every command of the queue goes through
 * here, so the byte loop is kept for big-endian hosts only). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ITS_CMD_HOST_LE 1
#else
#define ITS_CMD_HOST_LE 0
#endif

static inline void its_cmd_from_bytes(struct its_cmd *c, const uint8_t b[ITS_CMD_BYTES])
{
	if (ITS_CMD_HOST_LE) {
		vits_memcpy(c->dw, b, ITS_CMD_BYTES);
		return;
	}
	for (unsigned i = 0; i < 4; i++) {
		uint64_t v = 0;
		for (unsigned j = 0; j < 8; j++)
			v |= (uint64_t)b[i * 8 + j] << (8 * j);
		c->dw[i] = v;
	}
}

static inline void its_cmd_to_bytes(const struct its_cmd *c, uint8_t b[ITS_CMD_BYTES])
{
	if (ITS_CMD_HOST_LE) {
		vits_memcpy(b, c->dw, ITS_CMD_BYTES);
		return;
	}
	for (unsigned i = 0; i < 4; i++)
		for (unsigned j = 0; j < 8; j++)
			b[i * 8 + j] = (uint8_t)(c->dw[i] >> (8 * j));
}

/* Builders for the twelve GICv3 commands, so callers never place a bit by hand. */
static inline struct its_cmd its_mk(unsigned opcode)
{
	struct its_cmd c = { { 0, 0, 0, 0 } };
	its_cmd_set_opcode(&c, opcode);
	return c;
}

static inline struct its_cmd its_mk_mapd(uint32_t devid, unsigned size_bits_m1, uint64_t itt, int v)
{
	struct its_cmd c = its_mk(ITS_OP_MAPD);
	its_cmd_set_devid(&c, devid);
	its_cmd_set_size(&c, size_bits_m1);
	its_cmd_set_itt_addr(&c, itt >> 8);
	its_cmd_set_valid(&c, v ? 1 : 0);
	return c;
}

static inline struct its_cmd its_mk_mapc(uint32_t icid, uint64_t rd, int v)
{
	struct its_cmd c = its_mk(ITS_OP_MAPC);
	its_cmd_set_icid(&c, icid);
	its_cmd_set_rdbase(&c, rd);
	its_cmd_set_valid(&c, v ? 1 : 0);
	return c;
}

static inline struct its_cmd its_mk_mapti(uint32_t devid, uint32_t ev, uint32_t intid, uint32_t icid)
{
	struct its_cmd c = its_mk(ITS_OP_MAPTI);
	its_cmd_set_devid(&c, devid);
	its_cmd_set_eventid(&c, ev);
	its_cmd_set_pintid(&c, intid);
	its_cmd_set_icid(&c, icid);
	return c;
}

static inline struct its_cmd its_mk_mapi(uint32_t devid, uint32_t ev, uint32_t icid)
{
	struct its_cmd c = its_mk(ITS_OP_MAPI);
	its_cmd_set_devid(&c, devid);
	its_cmd_set_eventid(&c, ev);
	its_cmd_set_icid(&c, icid);
	return c;
}

/* MOVI names a collection; INT, CLEAR, INV and DISCARD only (device, event). */
static inline struct its_cmd its_mk_movi(uint32_t devid, uint32_t ev, uint32_t icid)
{
	struct its_cmd c = its_mk(ITS_OP_MOVI);
	its_cmd_set_devid(&c, devid);
	its_cmd_set_eventid(&c, ev);
	its_cmd_set_icid(&c, icid);
	return c;
}

static inline struct its_cmd its_mk_devev(unsigned opcode, uint32_t devid, uint32_t ev)
{
	struct its_cmd c = its_mk(opcode);
	its_cmd_set_devid(&c, devid);
	its_cmd_set_eventid(&c, ev);
	return c;
}

static inline struct its_cmd its_mk_invall(uint32_t icid)
{
	struct its_cmd c = its_mk(ITS_OP_INVALL);
	its_cmd_set_icid(&c, icid);
	return c;
}

static inline struct its_cmd its_mk_sync(uint64_t rd)
{
	struct its_cmd c = its_mk(ITS_OP_SYNC);
	its_cmd_set_rdbase(&c, rd);
	return c;
}

static inline struct its_cmd its_mk_movall(uint64_t rd1, uint64_t rd2)
{
	struct its_cmd c = its_mk(ITS_OP_MOVALL);
	its_cmd_set_rdbase(&c, rd1);
	its_cmd_set_rdbase2(&c, rd2);
	return c;
}

#endif /* VITS_ITS_CMD_H */
