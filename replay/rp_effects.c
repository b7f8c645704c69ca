/*
 * rp_effects.c: QEMU's table effects (EXP_DTE, EXP_ITE, EXP_CTE records), compared
 * semantically with the engine's state right after the command that caused them.
 *
 * QEMU writes its device, interrupt translation and collection tables in guest memory;
 * our engine keeps that state in its own memory (DESIGN.md principle 6).  What must
 * agree is the meaning: device valid and ITT size; (device, event) valid, LPI and
 * collection; collection valid and target.  Table addresses, entry encodings and the
 * doorbell are QEMU's business and are not compared.
 */
#include <stdio.h>
#include <string.h>

#include "rp_internal.h"

struct by_itt {
	uint64_t itt;
	uint32_t devid;
	int found;
};

static int match_itt(void *arg, const struct vits_device_info *d)
{
	struct by_itt *b = arg;
	if (d->itt_addr == b->itt) {
		b->devid = d->devid;
		b->found = 1;
		return 1;
	}
	return 0;
}

int rp_check_effect(struct rp_session *s, const struct itr_rec *r, char *exp, char *got,
		    size_t n)
{
	const uint8_t *p = r->payload;
	if (r->len < (uint32_t)itr_rec_min_payload(r->type))
		return 0;       /* a short record: the reader counted it; nothing to check */
	switch (r->type) {
	case ITR_REC_EXP_DTE: {
		uint32_t devid = itr_get32(p);
		unsigned valid = p[4], size = p[5];
		struct vits_device_info d;
		int rc = vits_query_device(s->v, devid, &d);
		snprintf(exp, n, "device 0x%x %s", devid, valid ? "mapped" : "unmapped");
		if (valid)
			snprintf(exp + strlen(exp), n - strlen(exp), " with %u EventID bits", size + 1);
		if (rc == 0)
			snprintf(got, n, "device 0x%x mapped with %u EventID bits", devid, d.event_bits);
		else
			snprintf(got, n, "device 0x%x unmapped", devid);
		if (valid)
			return rc != 0 || d.event_bits != size + 1;
		return rc == 0;
	}
	case ITR_REC_EXP_ITE: {
		uint64_t itt = itr_get64(p);
		uint32_t devid = itr_get32(p + 8), eventid = itr_get32(p + 12);
		uint32_t intid = itr_get32(p + 16);
		uint16_t icid = itr_get16(p + 24);
		unsigned valid = p[28], inttype = p[29], known = p[30];
		if (!known) {
			/* QEMU's ITE write names the ITT, not the device: find the device
			 * the engine has at that ITT. */
			struct by_itt b = { itt, 0, 0 };
			vits_foreach_device(s->v, match_itt, &b);
			if (!b.found) {
				snprintf(exp, n, "an event of the device with ITT 0x%llx %s",
					 (unsigned long long)itt, valid ? "mapped" : "unmapped");
				snprintf(got, n, "no device with that ITT");
				return valid != 0;
			}
			devid = b.devid;
		}
		if (valid && inttype != 1) {
			return 0;       /* a virtual (GICv4) ITE: the engine has none */
		}
		struct vits_event_info e;
		int rc = vits_query_event(s->v, devid, eventid, &e);
		if (valid)
			snprintf(exp, n, "(device 0x%x, event %u) -> LPI %u, collection %u", devid,
				 eventid, intid, icid);
		else
			snprintf(exp, n, "(device 0x%x, event %u) unmapped", devid, eventid);
		if (rc == 0)
			snprintf(got, n, "(device 0x%x, event %u) -> LPI %u, collection %u", devid,
				 eventid, e.intid, e.icid);
		else
			snprintf(got, n, "(device 0x%x, event %u) unmapped", devid, eventid);
		if (valid)
			return rc != 0 || e.intid != intid || e.icid != icid;
		return rc == 0;
	}
	case ITR_REC_EXP_CTE: {
		uint16_t icid = itr_get16(p);
		unsigned valid = p[2];
		uint64_t rd = itr_get64(p + 8);
		uint32_t vcpu = 0;
		int rc = vits_query_collection(s->v, icid, &vcpu);
		if (valid)
			snprintf(exp, n, "collection %u -> vCPU %llu", icid, (unsigned long long)rd);
		else
			snprintf(exp, n, "collection %u unmapped", icid);
		if (rc == 0)
			snprintf(got, n, "collection %u -> vCPU %u", icid, vcpu);
		else
			snprintf(got, n, "collection %u unmapped", icid);
		if (valid)
			return rc != 0 || vcpu != rd;
		return rc == 0;
	}
	default:
		return 0;
	}
}
