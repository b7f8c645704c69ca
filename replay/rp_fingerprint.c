/*
 * rp_fingerprint.c: the engine-state fingerprint of CHECKPOINT records of kind
 * ITR_FP_VITS_V1 (docs/replay.md has the layout).
 *
 * Built only from the engine's public queries, so any embedder can compute it and
 * replay compares it with the recorded one: the first checkpoint whose fingerprint
 * differs brackets the divergence between it and the checkpoint before, and the field
 * that differs says what kind of state went wrong.  The mapping hash is a sum of
 * per-item hashes, so it does not depend on the order the engine iterates in.
 */
#include <stdio.h>
#include <string.h>

#include "rp_internal.h"

/* Events scanned per device and collections scanned (part of the v1 definition). */
#define FP_MAX_EVENTS (1u << 16)
#define FP_MAX_COLL (1u << 16)

static uint64_t mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

struct fp_acc {
	const struct vits *v;
	uint64_t hash;
	uint32_t devices, events;
};

static int fp_dev(void *arg, const struct vits_device_info *d)
{
	struct fp_acc *a = arg;
	a->devices++;
	a->hash += mix(mix(0x1000000000ull | d->devid) ^ ((uint64_t)d->event_bits << 56) ^
		       d->itt_addr);
	uint64_t nev = d->event_bits >= 16 ? FP_MAX_EVENTS : (1ull << d->event_bits);
	for (uint64_t e = 0; e < nev; e++) {
		struct vits_event_info ei;
		if (vits_query_event(a->v, d->devid, (uint32_t)e, &ei))
			continue;
		a->events++;
		uint64_t k = mix(((uint64_t)d->devid << 32 | e) ^ 0x2000000000000000ull);
		struct vits_lpi_info li = { 0 };
		vits_query_lpi(a->v, ei.intid, &li);
		a->hash += mix(k ^ ((uint64_t)ei.intid << 16 | ei.icid) ^
			       ((uint64_t)li.cfg << 48 | (uint64_t)li.pending << 56) ^
			       ((uint64_t)li.pending_vcpu << 20));
	}
	return 0;
}

int rp_fingerprint_v1(const struct vits *v, uint8_t *out, uint32_t cap)
{
	if (cap < RP_FP_V1_LEN || !v)
		return -1;
	struct vits_stats st;
	struct vits_queue_info q;
	vits_get_stats(v, &st);
	vits_query_queue(v, &q);
	struct fp_acc a = { v, 0, 0, 0 };
	vits_foreach_device(v, fp_dev, &a);
	uint32_t colls = 0;
	for (uint32_t i = 0; i < FP_MAX_COLL; i++) {
		uint32_t vcpu;
		if (vits_query_collection(v, i, &vcpu))
			continue;
		colls++;
		a.hash += mix(0x3000000000000000ull | (uint64_t)i << 32 | vcpu);
	}
	memset(out, 0, RP_FP_V1_LEN);
	itr_put64(out + 0, st.guest_cmd_total);
	itr_put32(out + 8, q.creadr);
	itr_put32(out + 12, q.cwriter);
	out[16] = (uint8_t)((q.enabled ? 1 : 0) | (q.stalled ? 2 : 0));
	itr_put32(out + 20, a.devices);
	itr_put32(out + 24, a.events);
	itr_put32(out + 28, colls);
	itr_put64(out + 32, st.injections);
	itr_put64(out + 40, st.phys_cmd_total);
	itr_put64(out + 48, a.hash);
	return RP_FP_V1_LEN;
}

void rp_fingerprint_diff(const uint8_t *a, const uint8_t *b, char *buf, size_t n)
{
	static const struct { unsigned off, len; const char *name; } f[] = {
		{ 0, 8, "guest commands run" }, { 8, 4, "CREADR" }, { 12, 4, "CWRITER" },
		{ 16, 4, "enabled/stalled" }, { 20, 4, "devices mapped" },
		{ 24, 4, "events mapped" }, { 28, 4, "collections mapped" },
		{ 32, 8, "injections" }, { 40, 8, "physical commands" },
		{ 48, 8, "mapping and LPI state hash" },
	};
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (!memcmp(a + f[i].off, b + f[i].off, f[i].len))
			continue;
		uint64_t x = 0, y = 0;
		memcpy(&x, a + f[i].off, f[i].len);
		memcpy(&y, b + f[i].off, f[i].len);
		int k = snprintf(buf + used, n - used, "%s%s (trace %llu, engine %llu)",
				 used ? ", " : "", f[i].name, (unsigned long long)x,
				 (unsigned long long)y);
		if (k < 0 || (size_t)k >= n - used)
			break;
		used += (size_t)k;
	}
}
