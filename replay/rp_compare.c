/*
 * rp_compare.c: one engine event against the record the trace holds at that point.
 *
 * The event is encoded exactly as the recorder would have written it, and the bytes
 * are compared with the record's, except where the source did not observe a field
 * (DESIGN.md "Traces with gaps"): a command outcome or reason of 0xff, an MSI or host
 * LPI result of 0xff, and for QEMU imports every register value other than the queue
 * pointers (QEMU's TYPER, IIDR and ID registers describe QEMU, not the guest's view
 * of a vITS; CREADR and CWRITER are the queue's semantics).
 */
#include <stdio.h>
#include <string.h>

#include "itr_decode.h"
#include "itr_encode.h"
#include "rp_internal.h"

static bool queue_reg(uint64_t off)
{
	return off == GITS_CREADR || off == GITS_CREADR + 4 || off == GITS_CWRITER ||
	       off == GITS_CWRITER + 4;
}

bool rp_observed(const struct rp_session *s, const struct vits_event *ev)
{
	switch (ev->type) {
	case VITS_EV_INJECT: return s->obs.injections;
	case VITS_EV_CREADR: return s->obs.creadr;
	case VITS_EV_PHYS_CMD: return s->obs.phys;
	case VITS_EV_HOST_LPI: return s->obs.host_lpis;
	case VITS_EV_MEM_READ:
		if (s->obs.all_reads)
			return true;
		/* Command slots only: the queue of the current CBASER. */
		{
			uint64_t base = s->cbaser & GITS_FIELD_MASK(CBASER, PA);
			uint64_t size = (GITS_FIELD_GET(s->cbaser, CBASER, SIZE) + 1) * ITS_CMDQ_PAGE;
			return ev->u.mem.gpa >= base && ev->u.mem.gpa - base < size &&
			       ev->u.mem.len == ITS_CMD_BYTES;
		}
	default:
		return true;
	}
}

void rp_format_rec(const struct itr_rec *r, char *buf, size_t n)
{
	char tmp[RP_TEXT];
	itr_rec_format(r, tmp, sizeof(tmp));
	snprintf(buf, n, "%s %s", itr_rec_type_name(r->type), tmp);
}

void rp_format_event(const struct vits_event *ev, uint16_t domain, char *buf, size_t n)
{
	uint8_t p[ITR_EV_FIXED_MAX + 64];
	uint8_t type;
	int len = itr_encode_event(ev, p, &type);
	if (len < 0) {
		snprintf(buf, n, "event type %u", ev->type);
		return;
	}
	if (ev->type == VITS_EV_MEM_READ && ev->u.mem.data) {
		uint32_t c = ev->u.mem.len > 64 ? 64 : ev->u.mem.len;
		memcpy(p + ITR_PL_MEM_READ, ev->u.mem.data, c);
		len = ITR_PL_MEM_READ + (int)c;
	}
	struct itr_rec r = { .type = type, .domain = domain, .cpu = ITR_CPU_UNKNOWN,
			     .len = (uint32_t)len, .payload = p };
	rp_format_rec(&r, buf, n);
}

int rp_compare(struct rp_session *s, const struct vits_event *ev, const struct itr_rec *r,
	       char *why, size_t n)
{
	uint8_t p[ITR_EV_FIXED_MAX];
	uint8_t type;
	int len = itr_encode_event(ev, p, &type);
	if (len < 0 || type != r->type) {
		snprintf(why, n, "the engine produced %s where the trace has %s",
			 itr_rec_type_name(len < 0 ? 0 : type), itr_rec_type_name(r->type));
		return 1;
	}
	if (r->len < (uint32_t)itr_rec_min_payload(type)) {
		snprintf(why, n, "the record is too short for its type");
		return 1;
	}
	const uint8_t *q = r->payload;
	switch (type) {
	case ITR_REC_MMIO_READ:
		if (memcmp(p, q, 8) || p[16] != q[16]) {
			snprintf(why, n, "a different register access");
			return 1;
		}
		if ((s->obs.all_regs || queue_reg(ev->u.mmio.offset)) && memcmp(p + 8, q + 8, 8)) {
			snprintf(why, n, "the register read returned a different value");
			return 1;
		}
		return 0;
	case ITR_REC_MEM_READ: {
		/* gpa, result; the total length (0 for a fault) and the first chunk's bytes.
		 * Later chunks (CONT records) are checked by the caller. */
		int32_t rres = (int32_t)itr_get32(q + 8);
		if (itr_get64(q) != ev->u.mem.gpa || (rres < 0) != (ev->u.mem.result < 0)) {
			snprintf(why, n, "the engine read guest memory elsewhere");
			return 1;
		}
		if (rres >= 0) {
			uint32_t total = itr_get32(q + 12), c = r->len - ITR_PL_MEM_READ;
			if (total != ev->u.mem.len) {
				snprintf(why, n, "the engine read %u bytes where the trace read %u",
					 ev->u.mem.len, total);
				return 1;
			}
			if (c > total || memcmp(q + ITR_PL_MEM_READ, ev->u.mem.data, c)) {
				snprintf(why, n, "the bytes read differ");
				return 1;
			}
		}
		return 0;
	}
	case ITR_REC_CMD:
		if (memcmp(p, q, 2)) {
			snprintf(why, n, "a command at another queue slot");
			return 1;
		}
		if (memcmp(p + 4, q + 4, ITS_CMD_BYTES)) {
			snprintf(why, n, "different command bytes");
			return 1;
		}
		if (q[2] != ITR_OUTCOME_UNOBSERVED && p[2] != q[2]) {
			snprintf(why, n, "a different outcome (%s, trace: %s)", itr_outcome_name(p[2]),
				 itr_outcome_name(q[2]));
			return 1;
		}
		if (q[3] != ITR_REASON_UNOBSERVED && p[3] != q[3]) {
			snprintf(why, n, "a different reason (%s, trace: %s)", itr_reason_name(p[3]),
				 itr_reason_name(q[3]));
			return 1;
		}
		return 0;
	case ITR_REC_MSI:
	case ITR_REC_HOST_LPI:
		if (type == ITR_REC_HOST_LPI && s->rename &&
		    rp_rename_plpi(s->rename, itr_get32(q)) == ev->u.host_lpi.plpi) {
			if (memcmp(p + 4, q + 4, 4)) {
				snprintf(why, n, "a host LPI for another vLPI");
				return 1;
			}
		} else if (memcmp(p, q, 8)) {
			snprintf(why, n, "a different %s", type == ITR_REC_MSI ? "MSI" : "host LPI");
			return 1;
		}
		if (q[8] != 0xff && p[8] != q[8]) {
			snprintf(why, n, "a different result (%s, trace: %s)", itr_reason_name(p[8]),
				 itr_reason_name(q[8]));
			return 1;
		}
		return 0;
	case ITR_REC_PHYS_CMD: {
		struct its_cmd rc;
		its_cmd_from_bytes(&rc, q + 4);
		if (rp_rename_phys(s->rename, &rc, &ev->u.phys.cmd)) {
			snprintf(why, n, "a different physical command");
			return 1;
		}
		if (memcmp(p, q, 4)) {
			snprintf(why, n, "the same physical command with a different cause");
			return 1;
		}
		return 0;
	}
	default:
		if (memcmp(p, q, (size_t)len)) {
			snprintf(why, n, "different %s fields", itr_rec_type_name(type));
			return 1;
		}
		return 0;
	}
}
