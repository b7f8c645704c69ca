/*
 * oracle.c: engine versus reference model (see oracle.h).
 *
 * The mapped state is walked from both sides (the engine's devices, the model's
 * devices, events and LPIs) instead of the whole ID space, so a check costs about
 * the size of the mapped state and thousands of sequences stay cheap.  Only where
 * the engine has no iterator (events, collections) is a bounded ID range scanned.
 */
#include "oracle.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORC_DEFAULT_EVENT_SCAN 4096u
#define ORC_DEFAULT_COLL_SCAN  65536u   /* the whole 16-bit ICID space */
#define ORC_GROUP_SHOWN        6u      /* deliveries printed per side in a message */

struct orc_ctx {
	const struct vits *v;
	const struct ref *r;
	uint64_t max_event_scan, max_coll_scan;
	char *msg;
	size_t len;
	size_t count;
};

static int orc_fail(struct orc_ctx *c, int result, const char *fmt, ...)
{
	if (c->msg && c->len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->msg, c->len, fmt, ap);
		va_end(ap);
	}
	return result;
}

/* ---- devices --------------------------------------------------------------------- */

static int orc_engine_device(void *arg, const struct vits_device_info *d)
{
	struct orc_ctx *c = arg;
	struct ref_device m;
	c->count++;
	if (ref_query_device(c->r, d->devid, &m))
		return orc_fail(c, ORACLE_MISMATCH,
				"device %#x: expected unmapped, engine has it mapped "
				"(event_bits %u, itt %#" PRIx64 ")",
				d->devid, d->event_bits, d->itt_addr);
	if (m.event_bits != d->event_bits || m.itt_addr != d->itt_addr)
		return orc_fail(c, ORACLE_MISMATCH,
				"device %#x: expected event_bits %u itt %#" PRIx64
				", got event_bits %u itt %#" PRIx64,
				d->devid, m.event_bits, m.itt_addr, d->event_bits, d->itt_addr);
	return 0;
}

static int orc_model_device(void *arg, const struct ref_device *d)
{
	struct orc_ctx *c = arg;
	struct vits_device_info info;
	int rc = vits_query_device(c->v, d->devid, &info);
	if (rc == VITS_E_NOENT)
		return orc_fail(c, ORACLE_MISMATCH,
				"device %#x: expected mapped (event_bits %u, itt %#" PRIx64
				"), engine has it unmapped", d->devid, d->event_bits, d->itt_addr);
	if (rc < 0)
		return orc_fail(c, ORACLE_ERROR, "device %#x: vits_query_device failed: %s",
				d->devid, vits_strerror(rc));
	/* Engine-side scan for events the model lacks, bounded. */
	uint64_t n = (uint64_t)1 << d->event_bits;
	if (n > c->max_event_scan)
		n = c->max_event_scan;
	for (uint64_t e = 0; e < n; e++) {
		struct vits_event_info ei;
		struct ref_event me;
		rc = vits_query_event(c->v, d->devid, (uint32_t)e, &ei);
		if (rc == VITS_E_NOENT)
			continue;
		if (rc < 0)
			return orc_fail(c, ORACLE_ERROR,
					"event %#x/%#" PRIx64 ": vits_query_event failed: %s",
					d->devid, e, vits_strerror(rc));
		if (ref_query_event(c->r, d->devid, (uint32_t)e, &me))
			return orc_fail(c, ORACLE_MISMATCH,
					"event (dev %#x, ev %#" PRIx64 "): expected unmapped, engine "
					"maps it to intid %u icid %u",
					d->devid, e, ei.intid, ei.icid);
	}
	return 0;
}

/* ---- events -------------------------------------------------------------------------- */

static int orc_model_event(void *arg, const struct ref_event *e)
{
	struct orc_ctx *c = arg;
	struct vits_event_info ei;
	int rc = vits_query_event(c->v, e->devid, e->eventid, &ei);
	if (rc == VITS_E_NOENT || rc == VITS_E_RANGE)
		return orc_fail(c, ORACLE_MISMATCH,
				"event (dev %#x, ev %#x): expected intid %u icid %u, engine has "
				"it unmapped", e->devid, e->eventid, e->intid, e->icid);
	if (rc < 0)
		return orc_fail(c, ORACLE_ERROR, "event (dev %#x, ev %#x): query failed: %s",
				e->devid, e->eventid, vits_strerror(rc));
	if (ei.intid != e->intid || ei.icid != e->icid)
		return orc_fail(c, ORACLE_MISMATCH,
				"event (dev %#x, ev %#x): expected intid %u icid %u, got intid %u "
				"icid %u", e->devid, e->eventid, e->intid, e->icid, ei.intid, ei.icid);
	return 0;
}

/* ---- collections ------------------------------------------------------------------------ */

static int orc_model_coll(void *arg, uint32_t icid, uint32_t mv)
{
	struct orc_ctx *c = arg;
	uint32_t ev = 0;
	int erc = vits_query_collection(c->v, icid, &ev);
	if (erc == VITS_E_NOENT || erc == VITS_E_RANGE)
		return orc_fail(c, ORACLE_MISMATCH,
				"collection %u: expected mapped to vcpu %u, engine has it unmapped",
				icid, mv);
	if (erc < 0)
		return orc_fail(c, ORACLE_ERROR, "collection %u: query failed: %s", icid,
				vits_strerror(erc));
	if (mv != ev)
		return orc_fail(c, ORACLE_MISMATCH, "collection %u: expected vcpu %u, got vcpu %u",
				icid, mv, ev);
	return 0;
}

static int orc_collections(struct orc_ctx *c, unsigned cid_bits)
{
	int rc = ref_foreach_collection(c->r, orc_model_coll, c);
	if (rc)
		return rc;
	/* The engine has no collection iterator: scan its ICID range (at most 2^16,
	 * bounded by max_coll_scan) for collections the model lacks. */
	uint64_t n = (uint64_t)1 << cid_bits;
	if (n > c->max_coll_scan)
		n = c->max_coll_scan;
	for (uint32_t icid = 0; icid < n; icid++) {
		uint32_t ev = 0, mv = 0;
		if (vits_query_collection(c->v, icid, &ev) != 0)
			continue;
		if (ref_query_collection(c->r, icid, &mv) != 0)
			return orc_fail(c, ORACLE_MISMATCH,
					"collection %u: expected unmapped, engine maps it to vcpu %u",
					icid, ev);
	}
	return 0;
}

/* ---- LPIs ----------------------------------------------------------------------------------- */

static int orc_model_lpi(void *arg, const struct ref_lpi *l)
{
	struct orc_ctx *c = arg;
	struct vits_lpi_info li;
	int rc = vits_query_lpi(c->v, l->intid, &li);
	if (rc < 0 && rc != VITS_E_NOENT && rc != VITS_E_RANGE)
		return orc_fail(c, ORACLE_ERROR, "lpi %u: query failed: %s", l->intid,
				vits_strerror(rc));
	if (!l->mapped) {
		/* Not guest visible except that it must not be pending anywhere. */
		if (rc == 0 && li.pending)
			return orc_fail(c, ORACLE_MISMATCH,
					"lpi %u: no event maps it, expected not pending, engine "
					"has it pending on vcpu %u", l->intid, li.pending_vcpu);
		return 0;
	}
	if (rc < 0)
		return orc_fail(c, ORACLE_MISMATCH,
				"lpi %u: expected cfg %#x pending %d, engine has no state for it",
				l->intid, l->cfg, l->pending);
	if (li.cfg != l->cfg)
		return orc_fail(c, ORACLE_MISMATCH, "lpi %u: expected cfg %#x, got cfg %#x",
				l->intid, l->cfg, li.cfg);
	if (!!li.pending != l->pending)
		return orc_fail(c, ORACLE_MISMATCH,
				"lpi %u: expected %s, got %s (vcpu %u)", l->intid,
				l->pending ? "pending" : "not pending",
				li.pending ? "pending" : "not pending",
				li.pending ? li.pending_vcpu : l->pending_vcpu);
	if (l->pending && li.pending_vcpu != l->pending_vcpu)
		return orc_fail(c, ORACLE_MISMATCH,
				"lpi %u: expected pending on vcpu %u, got vcpu %u",
				l->intid, l->pending_vcpu, li.pending_vcpu);
	return 0;
}

/* Every LPI the engine holds pending, whatever its INTID, must be pending in the
 * model too (the engine's iterator walks only the LPIs the guest used). */
static int orc_engine_pending(void *arg, uint32_t intid, const struct vits_lpi_info *li)
{
	struct orc_ctx *c = arg;
	struct ref_lpi ml;
	if (ref_query_lpi(c->r, intid, &ml) || !ml.pending)
		return orc_fail(c, ORACLE_MISMATCH,
				"lpi %" PRIu32 ": expected not pending, engine has it "
				"pending on vcpu %u", intid, li->pending_vcpu);
	return 0;
}

static int orc_stray_pending(struct orc_ctx *c)
{
	int rc = vits_foreach_pending_lpi(c->v, orc_engine_pending, c);
	if (rc < 0)
		return orc_fail(c, ORACLE_ERROR, "vits_foreach_pending_lpi failed: %s",
				vits_strerror(rc));
	return rc;
}

/* ---- deliveries ------------------------------------------------------------------------------ */

struct orc_pair {
	uint32_t vcpu, intid;
};

static int orc_pair_cmp(const void *a, const void *b)
{
	const struct orc_pair *x = a, *y = b;
	if (x->vcpu != y->vcpu)
		return x->vcpu < y->vcpu ? -1 : 1;
	if (x->intid != y->intid)
		return x->intid < y->intid ? -1 : 1;
	return 0;
}

static size_t orc_fmt_group(char *buf, size_t len, const struct orc_pair *p, size_t n)
{
	size_t off = 0;
	int w = snprintf(buf, len, "{");
	off = w > 0 ? (size_t)w : 0;
	for (size_t i = 0; i < n && i < ORC_GROUP_SHOWN && off < len; i++) {
		w = snprintf(buf + off, len - off, "%s(vcpu %u, intid %u)", i ? " " : "",
			     p[i].vcpu, p[i].intid);
		off += w > 0 ? (size_t)w : 0;
	}
	if (off < len)
		off += (size_t)snprintf(buf + off, len - off, "%s}", n > ORC_GROUP_SHOWN ? " ..." : "");
	return off;
}

int oracle_check_deliveries(const struct harness_inject *inj, size_t ninj,
			    const struct ref *r, char *msg, size_t len)
{
	struct orc_ctx c = { .msg = msg, .len = len };
	size_t nref;
	const struct ref_delivery *del = ref_deliveries(r, &nref);
	size_t i = 0, j = 0;
	struct orc_pair *ge = NULL, *gm = NULL;
	int rc = ORACLE_OK;

	if (ninj + nref) {
		ge = malloc((ninj + 1) * sizeof(*ge));
		gm = malloc((nref + 1) * sizeof(*gm));
		if (!ge || !gm) {
			rc = orc_fail(&c, ORACLE_ERROR, "out of memory comparing deliveries");
			goto out;
		}
	}
	while (i < ninj || j < nref) {
		uint64_t s;
		if (i < ninj && j < nref)
			s = inj[i].seq < del[j].seq ? inj[i].seq : del[j].seq;
		else
			s = i < ninj ? inj[i].seq : del[j].seq;
		size_t ne = 0, nm = 0, i0 = i, j0 = j;
		while (i < ninj && inj[i].seq == s) {
			ge[ne].vcpu = inj[i].vcpu;
			ge[ne++].intid = inj[i++].intid;
		}
		while (j < nref && del[j].seq == s) {
			gm[nm].vcpu = del[j].vcpu;
			gm[nm++].intid = del[j++].intid;
		}
		qsort(ge, ne, sizeof(*ge), orc_pair_cmp);
		qsort(gm, nm, sizeof(*gm), orc_pair_cmp);
		if (ne == nm && (ne == 0 || !memcmp(ge, gm, ne * sizeof(*ge))))
			continue;
		char want[256], got[256];
		orc_fmt_group(want, sizeof(want), gm, nm);
		orc_fmt_group(got, sizeof(got), ge, ne);
		rc = orc_fail(&c, ORACLE_MISMATCH,
			      "deliveries while command #%" PRIu64 " was the next to complete "
			      "(model delivery #%zu, engine injection #%zu): expected %zu %s, "
			      "got %zu %s", s, j0, i0, nm, want, ne, got);
		goto out;
	}
out:
	free(ge);
	free(gm);
	return rc;
}

/* ---- entry points ------------------------------------------------------------------------------ */

int oracle_check(const struct vits *v, const struct harness_inject *inj, size_t ninj,
		 const struct ref *r, const struct oracle_limits *lim, char *msg, size_t len)
{
	struct orc_ctx c = {
		.v = v, .r = r, .msg = msg, .len = len,
		.max_event_scan = lim && lim->max_event_scan ? lim->max_event_scan
							     : ORC_DEFAULT_EVENT_SCAN,
		.max_coll_scan = lim && lim->max_coll_scan ? lim->max_coll_scan : ORC_DEFAULT_COLL_SCAN,
	};
	if (msg && len)
		msg[0] = '\0';
	int rc = vits_foreach_device(v, orc_engine_device, &c);
	if (rc)
		return rc;
	if (c.count != ref_device_count(r)) {
		/* Some model device is missing in the engine: name it. */
		rc = ref_foreach_device(r, orc_model_device, &c);
		if (rc)
			return rc;
		return orc_fail(&c, ORACLE_MISMATCH, "device count: expected %zu, got %zu",
				ref_device_count(r), c.count);
	}
	rc = ref_foreach_device(r, orc_model_device, &c);
	if (!rc)
		rc = ref_foreach_event(r, orc_model_event, &c);
	if (!rc)
		rc = orc_collections(&c, ref_get_config(r)->cid_bits);
	if (!rc)
		rc = ref_foreach_lpi(r, orc_model_lpi, &c);
	if (!rc)
		rc = orc_stray_pending(&c);
	if (!rc && !(lim && lim->skip_deliveries))
		rc = oracle_check_deliveries(inj, ninj, r, msg, len);
	return rc;
}

int oracle_check_harness(const struct harness *h, const struct ref *r,
			 const struct oracle_limits *lim, char *msg, size_t len)
{
	size_t n;
	const struct harness_inject *inj = harness_injects(h, &n);
	return oracle_check(h->vits, inj, n, r, lim, msg, len);
}
