/*
 * encode.c: engine events to record payloads and back (freestanding).
 *
 * The record type numbers equal enum vits_ev_type, so the mapping is checked at
 * compile time below rather than written as a table.
 */
#include "itr_encode.h"

_Static_assert((int)ITR_REC_MMIO_READ == (int)VITS_EV_MMIO_READ, "record type = event type");
_Static_assert((int)ITR_REC_MMIO_WRITE == (int)VITS_EV_MMIO_WRITE, "record type = event type");
_Static_assert((int)ITR_REC_MEM_READ == (int)VITS_EV_MEM_READ, "record type = event type");
_Static_assert((int)ITR_REC_CMD == (int)VITS_EV_CMD, "record type = event type");
_Static_assert((int)ITR_REC_INJECT == (int)VITS_EV_INJECT, "record type = event type");
_Static_assert((int)ITR_REC_PHYS_CMD == (int)VITS_EV_PHYS_CMD, "record type = event type");
_Static_assert((int)ITR_REC_CREADR == (int)VITS_EV_CREADR, "record type = event type");
_Static_assert((int)ITR_REC_MSI == (int)VITS_EV_MSI, "record type = event type");
_Static_assert((int)ITR_REC_PROP_TABLE == (int)VITS_EV_PROP_TABLE, "record type = event type");
_Static_assert((int)ITR_REC_HOST_LPI == (int)VITS_EV_HOST_LPI, "record type = event type");
_Static_assert((int)ITR_REC_ASSIGN == (int)VITS_EV_ASSIGN, "record type = event type");
_Static_assert((int)ITR_REC_PROP_WRITE == (int)VITS_EV_PROP_WRITE, "record type = event type");
_Static_assert((int)VITS_EV_COUNT == (int)ITR_REC_PROP_WRITE + 1,
	       "a new engine event needs a record type (itr_format.h, docs/trace-format.md)");
_Static_assert(ITR_CMD_REC_BYTES <= 48, "a guest command record is at most 48 bytes");

/* Queue offsets are below 1 MiB and 32-byte aligned: a slot number fits 16 bits. */
static uint16_t slot_of(uint32_t offset)
{
	return (uint16_t)(offset / ITS_CMD_BYTES);
}

static inline void put_cmd(uint8_t *p, const struct its_cmd *c)
{
	itr_put_cmd(p, c->dw);
}

void itr_encode_mem_prefix(uint8_t out[ITR_PL_MEM_READ], uint64_t gpa, int32_t result,
			   uint32_t total_len)
{
	itr_put64(out, gpa);
	itr_put32(out + 8, (uint32_t)result);
	itr_put32(out + 12, total_len);
}

int itr_encode_event(const struct vits_event *ev, uint8_t out[ITR_EV_FIXED_MAX],
		     uint8_t *type)
{
	*type = (uint8_t)ev->type;
	switch (ev->type) {
	case VITS_EV_MMIO_READ:
	case VITS_EV_MMIO_WRITE:
		itr_put64(out, ev->u.mmio.offset);
		itr_put64(out + 8, ev->u.mmio.value);
		out[16] = ev->u.mmio.size;
		out[17] = out[18] = out[19] = 0;
		return ITR_PL_MMIO;
	case VITS_EV_MEM_READ:
		itr_encode_mem_prefix(out, ev->u.mem.gpa, ev->u.mem.result, ev->u.mem.len);
		return ITR_PL_MEM_READ;
	case VITS_EV_CMD:
		itr_put16(out, slot_of(ev->u.cmd.offset));
		out[2] = ev->u.cmd.outcome;
		out[3] = ev->u.cmd.reason;
		put_cmd(out + 4, &ev->u.cmd.cmd);
		return ITR_PL_CMD;
	case VITS_EV_INJECT:
		itr_put32(out, ev->u.inject.vcpu);
		itr_put32(out + 4, ev->u.inject.intid);
		return ITR_PL_INJECT;
	case VITS_EV_PHYS_CMD:
		out[0] = ev->u.phys.cause;
		out[1] = (uint8_t)ev->u.phys.cause_opcode;
		itr_put16(out + 2, slot_of(ev->u.phys.cause_offset));
		put_cmd(out + 4, &ev->u.phys.cmd);
		return ITR_PL_PHYS_CMD;
	case VITS_EV_CREADR:
		itr_put32(out, ev->u.creadr.creadr);
		out[4] = ev->u.creadr.stalled;
		out[5] = out[6] = out[7] = 0;
		return ITR_PL_CREADR;
	case VITS_EV_MSI:
		itr_put32(out, ev->u.msi.devid);
		itr_put32(out + 4, ev->u.msi.eventid);
		out[8] = ev->u.msi.reason;
		out[9] = out[10] = out[11] = 0;
		return ITR_PL_MSI;
	case VITS_EV_PROP_TABLE:
		itr_put64(out, ev->u.prop.gpa);
		out[8] = ev->u.prop.id_bits;
		out[9] = out[10] = out[11] = 0;
		return ITR_PL_PROP_TABLE;
	case VITS_EV_HOST_LPI:
		itr_put32(out, ev->u.host_lpi.plpi);
		itr_put32(out + 4, ev->u.host_lpi.intid);
		out[8] = ev->u.host_lpi.reason;
		out[9] = out[10] = out[11] = 0;
		return ITR_PL_HOST_LPI;
	case VITS_EV_ASSIGN:
		itr_put32(out, ev->u.assign.vdevid);
		itr_put32(out + 4, ev->u.assign.pdevid);
		out[8] = ev->u.assign.assigned;
		out[9] = out[10] = out[11] = 0;
		return ITR_PL_ASSIGN;
	case VITS_EV_PROP_WRITE:
		itr_put64(out, ev->u.prop_write.gpa);
		itr_put64(out + 8, ev->u.prop_write.value);
		out[16] = ev->u.prop_write.len;
		out[17] = out[18] = out[19] = 0;
		return ITR_PL_PROP_WRITE;
	default:
		return -1;
	}
}

static const uint8_t ev_min_len[VITS_EV_COUNT] = {
	[VITS_EV_MMIO_READ] = ITR_PL_MMIO,       [VITS_EV_MMIO_WRITE] = ITR_PL_MMIO,
	[VITS_EV_MEM_READ] = ITR_PL_MEM_READ,    [VITS_EV_CMD] = ITR_PL_CMD,
	[VITS_EV_INJECT] = ITR_PL_INJECT,        [VITS_EV_PHYS_CMD] = ITR_PL_PHYS_CMD,
	[VITS_EV_CREADR] = ITR_PL_CREADR,        [VITS_EV_MSI] = ITR_PL_MSI,
	[VITS_EV_PROP_TABLE] = ITR_PL_PROP_TABLE, [VITS_EV_HOST_LPI] = ITR_PL_HOST_LPI,
	[VITS_EV_ASSIGN] = ITR_PL_ASSIGN,        [VITS_EV_PROP_WRITE] = ITR_PL_PROP_WRITE,
};

int itr_event_payload_len(unsigned type)
{
	return type > 0 && type < VITS_EV_COUNT ? ev_min_len[type] : -1;
}

int itr_decode_event(uint8_t type, const uint8_t *p, uint32_t len, uint16_t domain,
		     struct vits_event *ev)
{
	if (type == 0 || type >= VITS_EV_COUNT)
		return -1;
	if (len < ev_min_len[type])
		return -2;
	vits_memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->domain = domain;
	switch (type) {
	case VITS_EV_MMIO_READ:
	case VITS_EV_MMIO_WRITE:
		ev->u.mmio.offset = itr_get64(p);
		ev->u.mmio.value = itr_get64(p + 8);
		ev->u.mmio.size = p[16];
		break;
	case VITS_EV_MEM_READ:
		ev->u.mem.gpa = itr_get64(p);
		ev->u.mem.result = (int32_t)itr_get32(p + 8);
		ev->u.mem.data = p + ITR_PL_MEM_READ;
		ev->u.mem.len = len - ITR_PL_MEM_READ;
		break;
	case VITS_EV_CMD:
		ev->u.cmd.offset = (uint32_t)itr_get16(p) * ITS_CMD_BYTES;
		ev->u.cmd.outcome = p[2];
		ev->u.cmd.reason = p[3];
		its_cmd_from_bytes(&ev->u.cmd.cmd, p + 4);
		ev->u.cmd.e_its = (p[2] == VITS_CMD_OK || p[3] >= VITS_R_COUNT) ? 0 :
			vits_reason_e_its((enum vits_reason)p[3],
					  (unsigned)its_cmd_get_opcode(&ev->u.cmd.cmd));
		break;
	case VITS_EV_INJECT:
		ev->u.inject.vcpu = itr_get32(p);
		ev->u.inject.intid = itr_get32(p + 4);
		break;
	case VITS_EV_PHYS_CMD:
		ev->u.phys.cause = p[0];
		ev->u.phys.cause_opcode = p[1];
		ev->u.phys.cause_offset = (uint32_t)itr_get16(p + 2) * ITS_CMD_BYTES;
		its_cmd_from_bytes(&ev->u.phys.cmd, p + 4);
		break;
	case VITS_EV_CREADR:
		ev->u.creadr.creadr = itr_get32(p);
		ev->u.creadr.stalled = p[4];
		break;
	case VITS_EV_MSI:
		ev->u.msi.devid = itr_get32(p);
		ev->u.msi.eventid = itr_get32(p + 4);
		ev->u.msi.reason = p[8];
		break;
	case VITS_EV_PROP_TABLE:
		ev->u.prop.gpa = itr_get64(p);
		ev->u.prop.id_bits = p[8];
		break;
	case VITS_EV_HOST_LPI:
		ev->u.host_lpi.plpi = itr_get32(p);
		ev->u.host_lpi.intid = itr_get32(p + 4);
		ev->u.host_lpi.reason = p[8];
		break;
	case VITS_EV_ASSIGN:
		ev->u.assign.vdevid = itr_get32(p);
		ev->u.assign.pdevid = itr_get32(p + 4);
		ev->u.assign.assigned = p[8];
		break;
	case VITS_EV_PROP_WRITE:
		ev->u.prop_write.gpa = itr_get64(p);
		ev->u.prop_write.value = itr_get64(p + 8);
		ev->u.prop_write.len = p[16];
		break;
	}
	return 0;
}
