/*
 * rp_snapshot.c: engine-state snapshots in a trace (SNAPSHOT records, format 1.1) and
 * starting a replay at one (docs/replay.md, "Starting at a snapshot").
 *
 * A snapshot is the guest-visible state of the engine at a call boundary, read with
 * the public queries only: the registers (GITS_CTLR, CBASER, BASER0/1, CWRITER,
 * CREADR as the guest reads them), the property table, every mapped device, event and
 * collection, and the configuration byte (as last read) and pending state of every
 * mapped LPI; and the counters the fingerprint v1 holds, so checkpoints after a start
 * still compare.  Items are sorted, so one state has one encoding.
 *
 * Restore (the engine has no restore API, and needs none): a fresh engine from the
 * header is driven to the state through its guest interface.  Synthetic commands
 * (MAPD, MAPTI, MAPC + INT for pending LPIs, MAPC) run from a private queue, with a
 * private two-level device table and property table whose bytes are the snapshot's
 * (guest memory is served by this file while s->synthetic is set, and the synthetic
 * outputs are not compared).  Then the recorded BASERs and property table are set,
 * and the queue is switched to the recorded CBASER: writing CBASER zeroes CREADR, and
 * SYNCs served in its first slots move CREADR to the recorded offset (a failing
 * MAPC at that offset reproduces Stalled in stall mode); CWRITER and Enabled follow.
 * The restored engine is then captured again and must equal the snapshot.
 *
 * Limits: traces with no physical side (host state and physical names are not in a
 * snapshot); devices of at most 2^20 events are enumerated (a snapshot is not taken
 * while a larger one is mapped); no snapshot while work is pending (a budget).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itr_crc32.h"
#include "rp_internal.h"

#define SNAP_LAYOUT 1u
#define SNAP_HDR 104u
#define SNAP_DEV 16u
#define SNAP_EV 16u
#define SNAP_COLL 8u
#define SNAP_LPI 12u
#define SNAP_MAX (1u << 28)
#define SNAP_MAX_EVBITS 20u
#define SNAP_CHUNK 4096u

/* Private guest addresses of the restore (served by rp_snap_read only). */
#define R_DT_BASE 0x7f0000000000ull     /* two-level device table, 64 KiB pages */
#define R_Q_BASE 0x7f1000000000ull      /* synthetic queue, 1 MiB */
#define R_PT_BASE 0x7f2000000000ull     /* property table */
#define R_Q_BYTES (1u << 20)
#define R_Q_SLOTS (R_Q_BYTES / ITS_CMD_BYTES)
#define R_BATCH 1024u

struct sdev { uint32_t devid; uint8_t bits; uint64_t itt; };
struct sev { uint32_t devid, ev, intid; uint16_t icid; };
struct scoll { uint16_t icid; uint32_t vcpu; };
struct slpi { uint32_t intid; uint8_t cfg, pending; uint32_t vcpu; };

struct snap {
	uint32_t ctlr;
	uint64_t guest_cmds, injections, phys_cmds;
	uint64_t cbaser, baser0, baser1, cwriter, creadr;
	uint64_t prop_gpa;
	uint8_t prop_bits;
	struct sdev *dev;
	struct sev *ev;
	struct scoll *coll;
	struct slpi *lpi;
	uint32_t nd, ne, nc, nl;
	size_t cd, ce, cc, cl;
};

struct rp_snapstate {
	/* start */
	bool started;
	struct snap rec;                  /* the snapshot started from */
	struct vits_stats base;           /* engine counters when the restore ended */
	/* restore */
	uint8_t *q;                       /* queue bytes served at qbase */
	uint64_t qbase, qsize;
	uint32_t slot, batch;
	uint64_t failed;                  /* synthetic commands that failed */
	char first_fail[160];
	uint64_t ncmds;
	/* capture */
	uint64_t last;
	bool captured_any;
};

static struct rp_snapstate *state(struct rp_session *s)
{
	if (!s->snap)
		s->snap = calloc(1, sizeof(*s->snap));
	return s->snap;
}

static void snap_clear(struct snap *n)
{
	free(n->dev);
	free(n->ev);
	free(n->coll);
	free(n->lpi);
	memset(n, 0, sizeof(*n));
}

void rp_snap_free(struct rp_session *s)
{
	if (!s->snap)
		return;
	snap_clear(&s->snap->rec);
	free(s->snap->q);
	free(s->snap);
	s->snap = NULL;
}

#define GROW(arr, n, cap) do { \
	if ((n) == (cap)) { \
		size_t nc_ = (cap) ? (cap) * 2 : 64; \
		void *p_ = realloc((arr), nc_ * sizeof(*(arr))); \
		if (!p_) return -1; \
		(arr) = p_; (cap) = nc_; \
	} \
} while (0)

/* ---- capture ----------------------------------------------------------------------------- */

struct cap_ctx { struct snap *n; int err; };

static int cap_dev(void *arg, const struct vits_device_info *d)
{
	struct cap_ctx *c = arg;
	struct snap *n = c->n;
	if (d->event_bits > SNAP_MAX_EVBITS) {
		c->err = 1;
		return 1;
	}
	if (n->nd == n->cd) {
		size_t nc = n->cd ? n->cd * 2 : 64;
		void *p = realloc(n->dev, nc * sizeof(*n->dev));
		if (!p) {
			c->err = 2;
			return 1;
		}
		n->dev = p;
		n->cd = nc;
	}
	n->dev[n->nd++] = (struct sdev){ d->devid, d->event_bits, d->itt_addr };
	return 0;
}

static int cmp_dev(const void *a, const void *b)
{
	uint32_t x = ((const struct sdev *)a)->devid, y = ((const struct sdev *)b)->devid;
	return x < y ? -1 : x > y;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t reg(struct vits *v, uint64_t off, unsigned size)
{
	uint64_t val = 0;
	vits_mmio_read(v, off, size, &val);
	return val;
}

/* The engine's state now (s->synthetic must be set: register reads are events).
 * 0, 1 when it cannot be taken here (a device too large), -1 out of memory. */
static int capture(struct rp_session *s, struct snap *n)
{
	struct vits *v = s->v;
	memset(n, 0, sizeof(*n));
	struct vits_stats st;
	vits_get_stats(v, &st);
	n->ctlr = (uint32_t)reg(v, GITS_CTLR, 4);
	n->guest_cmds = st.guest_cmd_total;
	n->injections = st.injections;
	n->phys_cmds = st.phys_cmd_total;
	n->cbaser = reg(v, GITS_CBASER, 8);
	n->baser0 = reg(v, GITS_BASER0, 8);
	n->baser1 = reg(v, GITS_BASER0 + 8, 8);
	n->cwriter = reg(v, GITS_CWRITER, 8);
	n->creadr = reg(v, GITS_CREADR, 8);
	n->prop_gpa = s->prop_gpa;
	n->prop_bits = s->prop_bits;
	struct cap_ctx c = { n, 0 };
	vits_foreach_device(v, cap_dev, &c);
	if (c.err)
		return c.err == 1 ? 1 : -1;
	if (n->nd > 1)          /* qsort's array must not be NULL, even with 0 items */
		qsort(n->dev, n->nd, sizeof(*n->dev), cmp_dev);
	uint32_t *intids = NULL;
	size_t ni = 0, ci = 0;
	for (uint32_t i = 0; i < n->nd; i++) {
		uint64_t nev = 1ull << n->dev[i].bits;
		for (uint64_t e = 0; e < nev; e++) {
			struct vits_event_info ei;
			if (vits_query_event(v, n->dev[i].devid, (uint32_t)e, &ei))
				continue;
			GROW(n->ev, n->ne, n->ce);
			n->ev[n->ne++] = (struct sev){ n->dev[i].devid, (uint32_t)e, ei.intid, ei.icid };
			if (ni == ci) {
				size_t nc = ci ? ci * 2 : 64;
				uint32_t *p = realloc(intids, nc * sizeof(*p));
				if (!p) {
					free(intids);
					return -1;
				}
				intids = p;
				ci = nc;
			}
			intids[ni++] = ei.intid;
		}
	}
	if (ni)
		qsort(intids, ni, sizeof(*intids), cmp_u32);
	/* Every LPI an event maps, and every other one whose state the engine keeps
	 * (configuration byte, the vCPU it was last pending on): a later MAPTI shows it. */
	uint32_t lim = 1u << (s->cfg.intid_bits > 24 ? 24 : s->cfg.intid_bits);
	size_t k = 0;
	for (uint32_t intid = 8192; intid < lim; intid++) {
		while (k < ni && intids[k] < intid)
			k++;
		bool mapped = k < ni && intids[k] == intid;
		struct vits_lpi_info li = { 0 };
		if (vits_query_lpi(v, intid, &li))
			continue;
		if (!mapped && !li.cfg && !li.pending && !li.pending_vcpu)
			continue;
		if (n->nl == n->cl) {
			size_t nc = n->cl ? n->cl * 2 : 64;
			void *p = realloc(n->lpi, nc * sizeof(*n->lpi));
			if (!p) {
				free(intids);
				return -1;
			}
			n->lpi = p;
			n->cl = nc;
		}
		n->lpi[n->nl++] = (struct slpi){ intid, li.cfg, li.pending ? 1 : 0,
						 li.pending_vcpu };
	}
	free(intids);
	uint32_t ncoll = s->cfg.cid_bits >= 16 ? 65536u : 1u << s->cfg.cid_bits;
	for (uint32_t i = 0; i < ncoll; i++) {
		uint32_t vcpu;
		if (vits_query_collection(v, i, &vcpu))
			continue;
		GROW(n->coll, n->nc, n->cc);
		n->coll[n->nc++] = (struct scoll){ (uint16_t)i, vcpu };
	}
	return 0;
}

static size_t enc_len(const struct snap *n)
{
	return SNAP_HDR + (size_t)n->nd * SNAP_DEV + (size_t)n->ne * SNAP_EV +
	       (size_t)n->nc * SNAP_COLL + (size_t)n->nl * SNAP_LPI + 4;
}

static uint8_t *encode(const struct snap *n, size_t *len)
{
	size_t l = enc_len(n);
	uint8_t *b = calloc(1, l), *p;
	if (!b)
		return NULL;
	itr_put16(b, SNAP_LAYOUT);
	itr_put32(b + 4, n->ctlr);
	itr_put64(b + 8, n->guest_cmds);
	itr_put64(b + 16, n->injections);
	itr_put64(b + 24, n->phys_cmds);
	itr_put64(b + 32, n->cbaser);
	itr_put64(b + 40, n->baser0);
	itr_put64(b + 48, n->baser1);
	itr_put64(b + 56, n->cwriter);
	itr_put64(b + 64, n->creadr);
	itr_put64(b + 72, n->prop_gpa);
	b[80] = n->prop_bits;
	itr_put32(b + 84, n->nd);
	itr_put32(b + 88, n->ne);
	itr_put32(b + 92, n->nc);
	itr_put32(b + 96, n->nl);
	p = b + SNAP_HDR;
	for (uint32_t i = 0; i < n->nd; i++, p += SNAP_DEV) {
		itr_put32(p, n->dev[i].devid);
		p[4] = n->dev[i].bits;
		itr_put64(p + 8, n->dev[i].itt);
	}
	for (uint32_t i = 0; i < n->ne; i++, p += SNAP_EV) {
		itr_put32(p, n->ev[i].devid);
		itr_put32(p + 4, n->ev[i].ev);
		itr_put32(p + 8, n->ev[i].intid);
		itr_put16(p + 12, n->ev[i].icid);
	}
	for (uint32_t i = 0; i < n->nc; i++, p += SNAP_COLL) {
		itr_put16(p, n->coll[i].icid);
		itr_put32(p + 4, n->coll[i].vcpu);
	}
	for (uint32_t i = 0; i < n->nl; i++, p += SNAP_LPI) {
		itr_put32(p, n->lpi[i].intid);
		p[4] = n->lpi[i].cfg;
		p[5] = n->lpi[i].pending;
		itr_put32(p + 8, n->lpi[i].vcpu);
	}
	itr_put32(p, itr_crc32c(0, b, l - 4));
	*len = l;
	return b;
}

/* 0, or -1 with why. */
static int decode(const uint8_t *b, size_t l, struct snap *n, char *why, size_t wn)
{
	memset(n, 0, sizeof(*n));
	if (l < SNAP_HDR + 4) {
		snprintf(why, wn, "%zu bytes, shorter than a snapshot header", l);
		return -1;
	}
	if (itr_get32(b + l - 4) != itr_crc32c(0, b, l - 4)) {
		snprintf(why, wn, "its checksum does not match (corrupted)");
		return -1;
	}
	if (itr_get16(b) != SNAP_LAYOUT) {
		snprintf(why, wn, "snapshot layout %u (this replay knows %u)", itr_get16(b),
			 SNAP_LAYOUT);
		return -1;
	}
	n->ctlr = itr_get32(b + 4);
	n->guest_cmds = itr_get64(b + 8);
	n->injections = itr_get64(b + 16);
	n->phys_cmds = itr_get64(b + 24);
	n->cbaser = itr_get64(b + 32);
	n->baser0 = itr_get64(b + 40);
	n->baser1 = itr_get64(b + 48);
	n->cwriter = itr_get64(b + 56);
	n->creadr = itr_get64(b + 64);
	n->prop_gpa = itr_get64(b + 72);
	n->prop_bits = b[80];
	n->nd = itr_get32(b + 84);
	n->ne = itr_get32(b + 88);
	n->nc = itr_get32(b + 92);
	n->nl = itr_get32(b + 96);
	if (n->nd > SNAP_MAX / SNAP_DEV || n->ne > SNAP_MAX / SNAP_EV ||
	    n->nc > SNAP_MAX / SNAP_COLL || n->nl > SNAP_MAX / SNAP_LPI || enc_len(n) != l) {
		snprintf(why, wn, "item counts (%u devices, %u events, %u collections, %u LPIs) "
			 "do not match its %zu bytes", n->nd, n->ne, n->nc, n->nl, l);
		n->nd = n->ne = n->nc = n->nl = 0;
		return -1;
	}
	n->dev = calloc(n->nd + 1, sizeof(*n->dev));
	n->ev = calloc(n->ne + 1, sizeof(*n->ev));
	n->coll = calloc(n->nc + 1, sizeof(*n->coll));
	n->lpi = calloc(n->nl + 1, sizeof(*n->lpi));
	if (!n->dev || !n->ev || !n->coll || !n->lpi) {
		snprintf(why, wn, "out of memory");
		return -1;
	}
	const uint8_t *p = b + SNAP_HDR;
	for (uint32_t i = 0; i < n->nd; i++, p += SNAP_DEV)
		n->dev[i] = (struct sdev){ itr_get32(p), p[4], itr_get64(p + 8) };
	for (uint32_t i = 0; i < n->ne; i++, p += SNAP_EV)
		n->ev[i] = (struct sev){ itr_get32(p), itr_get32(p + 4), itr_get32(p + 8),
					 itr_get16(p + 12) };
	for (uint32_t i = 0; i < n->nc; i++, p += SNAP_COLL)
		n->coll[i] = (struct scoll){ itr_get16(p), itr_get32(p + 4) };
	for (uint32_t i = 0; i < n->nl; i++, p += SNAP_LPI)
		n->lpi[i] = (struct slpi){ itr_get32(p), p[4], p[5], itr_get32(p + 8) };
	return 0;
}

void rp_snap_capture_point(struct rp_session *s, const struct itr_rec *r)
{
	struct rp_snapstate *st = state(s);
	/* Not between an INFERRED record and the record it qualifies. */
	if (!st || s->host || s->stop || !s->o.on_snapshot || s->pending_rule ||
	    vits_work_pending(s->v))
		return;
	if (st->captured_any ? r->index - st->last < s->o.snapshot_every
			     : r->index < s->o.snapshot_every)
		return;
	struct snap n;
	s->synthetic = true;
	int rc = capture(s, &n);
	s->synthetic = false;
	if (rc == 0) {
		size_t len;
		uint8_t *b = encode(&n, &len);
		if (b) {
			s->o.on_snapshot(s->o.snapshot_ctx, r->index, b, len);
			st->last = r->index;
			st->captured_any = true;
			free(b);
		}
	}
	snap_clear(&n);
}

/* ---- restore --------------------------------------------------------------------------------- */

void rp_snap_on_event(struct rp_session *s, const struct vits_event *ev)
{
	struct rp_snapstate *st = s->snap;
	if (!st || ev->type != VITS_EV_CMD)
		return;
	st->ncmds++;
	if (ev->u.cmd.outcome != VITS_CMD_OK && !st->started) {
		if (!st->failed++) {
			char c[RP_TEXT / 2];
			rp_format_event(ev, s->domain, c, sizeof(c));
			snprintf(st->first_fail, sizeof(st->first_fail), "%s", c);
		}
	}
}

static int cmp_ev_intid(const void *a, const void *b)
{
	uint32_t x = ((const struct sev *)a)->intid, y = ((const struct sev *)b)->intid;
	return x < y ? -1 : x > y;
}

static int cmp_ev_key(const void *k, const void *e)
{
	uint32_t x = *(const uint32_t *)k, y = ((const struct sev *)e)->intid;
	return x < y ? -1 : x > y;
}

static int cmp_lpi_key(const void *k, const void *e)
{
	uint32_t x = *(const uint32_t *)k, y = ((const struct slpi *)e)->intid;
	return x < y ? -1 : x > y;
}

int rp_snap_read(struct rp_session *s, uint64_t gpa, void *buf, size_t len)
{
	struct rp_snapstate *st = s->snap;
	uint8_t *b = buf;
	memset(buf, 0, len);
	if (!st)
		return 0;
	for (size_t i = 0; i < len; i++) {
		uint64_t a = gpa + i;
		if (st->q && a >= st->qbase && a - st->qbase < st->qsize) {
			b[i] = st->q[a - st->qbase];
		} else if (a >= R_DT_BASE && a - R_DT_BASE < 256ull * 65536) {
			/* L1 entries: Valid, an L2 page the engine never reads */
			if (((a - R_DT_BASE) & 7) == 7)
				b[i] = 0x80;
		} else if (a >= R_PT_BASE && a - R_PT_BASE < (1ull << 24)) {
			uint32_t intid = (uint32_t)(a - R_PT_BASE) + 8192;
			const struct slpi *l = bsearch(&intid, st->rec.lpi, st->rec.nl,
						       sizeof(*st->rec.lpi), cmp_lpi_key);
			if (l)
				b[i] = l->cfg;
		}
	}
	return 0;
}

static void run_queue(struct rp_session *s)
{
	for (unsigned i = 0; i < (1u << 24) && vits_work_pending(s->v); i++)
		vits_resume(s->v);
}

static void flush(struct rp_session *s)
{
	struct rp_snapstate *st = s->snap;
	if (!st->batch)
		return;
	vits_mmio_write(s->v, GITS_CWRITER, 8, (uint64_t)st->slot * ITS_CMD_BYTES);
	run_queue(s);
	st->batch = 0;
}

static void emit(struct rp_session *s, struct its_cmd c)
{
	struct rp_snapstate *st = s->snap;
	its_cmd_to_bytes(&c, st->q + (size_t)st->slot * ITS_CMD_BYTES);
	st->slot = (st->slot + 1) % R_Q_SLOTS;
	if (++st->batch == R_BATCH)
		flush(s);
}

static int refuse(struct rp_session *s, const char *what)
{
	snprintf(s->msg, s->msglen, "cannot start at the snapshot at record %llu: %s",
		 (unsigned long long)s->res->start_index, what);
	return RP_E_UNSUPPORTED;
}

static int restore(struct rp_session *s)
{
	struct rp_snapstate *st = s->snap;
	const struct snap *n = &st->rec;
	struct vits *v = s->v;
	char why[RP_TEXT];
	st->q = calloc(1, R_Q_BYTES);
	if (!st->q)
		return RP_E_NOMEM;
	st->qbase = R_Q_BASE;
	st->qsize = R_Q_BYTES;
	s->synthetic = true;
	s->nwin_cmds = 0;

	/* Private tables and queue; the state by synthetic commands. */
	vits_set_prop_table(v, R_PT_BASE, s->cfg.intid_bits);
	uint64_t b0 = 0;
	b0 = GITS_FIELD_SET(b0, BASER, VALID, 1);
	b0 = GITS_FIELD_SET(b0, BASER, INDIRECT, 1);
	b0 = GITS_FIELD_SET(b0, BASER, PAGE_SIZE, 2);
	b0 = GITS_FIELD_SET(b0, BASER, SIZE, 255);
	b0 |= R_DT_BASE;
	vits_mmio_write(v, GITS_BASER0, 8, b0);
	uint64_t cb = GITS_FIELD_SET(0, CBASER, VALID, 1);
	cb = GITS_FIELD_SET(cb, CBASER, SIZE, R_Q_BYTES / 4096 - 1);
	cb |= R_Q_BASE;
	vits_mmio_write(v, GITS_CBASER, 8, cb);
	vits_mmio_write(v, GITS_CWRITER, 8, 0);
	vits_mmio_write(v, GITS_CTLR, 4, 1);
	/* LPIs no event maps whose state the engine keeps: through a temporary device
	 * (a DeviceID the snapshot does not map), MAPTI (reads the byte), INT when it was
	 * pending on a vCPU, DISCARD. */
	struct sev *byintid = calloc(n->ne + 1, sizeof(*byintid));
	uint8_t *used = calloc(65536, 1);
	if (!byintid || !used) {
		free(byintid);
		free(used);
		return RP_E_NOMEM;
	}
	memcpy(byintid, n->ev, n->ne * sizeof(*byintid));
	qsort(byintid, n->ne, sizeof(*byintid), cmp_ev_intid);
	uint32_t tmpdev = 0;
	for (uint32_t i = 0; i < n->nd && n->dev[i].devid == tmpdev; i++)
		tmpdev++;
	bool tmp_used = false;
	for (uint32_t i = 0; i < n->nl; i++) {
		uint32_t key = n->lpi[i].intid;
		if (bsearch(&key, byintid, n->ne, sizeof(*byintid), cmp_ev_key))
			continue;
		if (!tmp_used)
			emit(s, its_mk_mapd(tmpdev, 0, 0x7f3000000000ull, 1));
		tmp_used = true;
		emit(s, its_mk_mapti(tmpdev, 0, key, 0));
		if (n->lpi[i].vcpu || n->lpi[i].pending) {
			used[0] = 1;
			emit(s, its_mk_mapc(0, n->lpi[i].vcpu, 1));
			emit(s, its_mk_devev(ITS_OP_INT, tmpdev, 0));
		}
		emit(s, its_mk_devev(ITS_OP_DISCARD, tmpdev, 0));
	}
	if (tmp_used)
		emit(s, its_mk_mapd(tmpdev, 0, 0x7f3000000000ull, 0));
	for (uint32_t i = 0; i < n->nd; i++)
		emit(s, its_mk_mapd(n->dev[i].devid, n->dev[i].bits ? n->dev[i].bits - 1u : 0,
				    n->dev[i].itt, 1));
	for (uint32_t i = 0; i < n->ne; i++)
		emit(s, its_mk_mapti(n->ev[i].devid, n->ev[i].ev, n->ev[i].intid, n->ev[i].icid));
	/* Pending LPIs, and the vCPU an LPI was last pending on (the engine keeps it, the
	 * fingerprint hashes it): INT through one of its events, the collection pointed at
	 * that vCPU (MAPC leaves pending LPIs where they are); then CLEAR when the LPI is
	 * not pending (an enabled one is delivered by the INT). */
	for (uint32_t i = 0; i < n->nl; i++) {
		if (!n->lpi[i].pending && !n->lpi[i].vcpu)
			continue;
		uint32_t key = n->lpi[i].intid;
		const struct sev *e = bsearch(&key, byintid, n->ne, sizeof(*byintid), cmp_ev_key);
		if (!e) {
			if (!n->lpi[i].pending)
				continue;       /* done through the temporary device */
			free(used);
			free(byintid);
			snprintf(why, sizeof(why), "LPI %u is pending and no event maps it", key);
			s->synthetic = false;
			return refuse(s, why);
		}
		used[e->icid] = 1;
		emit(s, its_mk_mapc(e->icid, n->lpi[i].vcpu, 1));
		emit(s, its_mk_devev(ITS_OP_INT, e->devid, e->ev));
		if (!n->lpi[i].pending && !(n->lpi[i].cfg & 1))
			emit(s, its_mk_devev(ITS_OP_CLEAR, e->devid, e->ev));
	}
	for (uint32_t i = 0; i < n->nc; i++) {
		used[n->coll[i].icid] = 0;
		emit(s, its_mk_mapc(n->coll[i].icid, n->coll[i].vcpu, 1));
	}
	for (uint32_t i = 0; i < 65536; i++)
		if (used[i])
			emit(s, its_mk_mapc(i, 0, 0));
	free(used);
	free(byintid);
	flush(s);
	st->started = true;   /* from here on a failing command is intended (Stalled) */

	/* The recorded tables and queue. */
	vits_mmio_write(v, GITS_CTLR, 4, 0);
	vits_mmio_write(v, GITS_BASER0, 8, n->baser0);
	vits_mmio_write(v, GITS_BASER0 + 8, 8, n->baser1);
	vits_set_prop_table(v, n->prop_gpa, n->prop_bits);
	uint32_t x = (uint32_t)(n->creadr & GITS_FIELD_MASK(CREADR, OFFSET));
	bool stalled = GITS_FIELD_GET(n->creadr, CREADR, STALLED);
	bool enabled = GITS_FIELD_GET(n->ctlr, CTLR, ENABLED);
	uint64_t w = n->cwriter;
	int rc = 0;
	if (GITS_FIELD_GET(n->cbaser, CBASER, VALID)) {
		uint64_t qsize = (GITS_FIELD_GET(n->cbaser, CBASER, SIZE) + 1) * 4096;
		memset(st->q, 0, R_Q_BYTES);
		st->qbase = n->cbaser & GITS_FIELD_MASK(CBASER, PA);
		st->qsize = qsize;
		if (x >= qsize) {
			rc = refuse(s, "CREADR is beyond the queue");
		} else {
			for (uint32_t o = 0; o < x; o += ITS_CMD_BYTES) {
				struct its_cmd c = its_mk_sync(0);
				its_cmd_to_bytes(&c, st->q + o);
			}
			if (stalled) {
				/* a command that fails: RDbase beyond the vCPUs */
				struct its_cmd c = its_mk_mapc(0, s->cfg.nr_vcpus, 1);
				its_cmd_to_bytes(&c, st->q + x);
			}
			vits_mmio_write(v, GITS_CBASER, 8, n->cbaser);
			uint64_t target = stalled ? (x + ITS_CMD_BYTES) % qsize : x;
			if (target) {
				vits_mmio_write(v, GITS_CWRITER, 8, target);
				vits_mmio_write(v, GITS_CTLR, 4, 1);
				run_queue(s);
				if (!enabled)
					vits_mmio_write(v, GITS_CTLR, 4, 0);
			}
			vits_mmio_write(v, GITS_CWRITER, 8, w);
			if (enabled)
				vits_mmio_write(v, GITS_CTLR, 4, 1);
			run_queue(s);
		}
	} else {
		/* CREADR reads 0 after a CBASER write; CWRITER is kept across it. */
		vits_mmio_write(v, GITS_CBASER, 8, cb);
		vits_mmio_write(v, GITS_CWRITER, 8, w);
		vits_mmio_write(v, GITS_CBASER, 8, n->cbaser);
		if (enabled)
			vits_mmio_write(v, GITS_CTLR, 4, 1);
	}
	s->synthetic = false;
	s->res->snapshot_commands = st->ncmds;
	if (rc)
		return rc;
	if (st->failed) {
		snprintf(why, sizeof(why), "%llu synthetic commands failed, the first %s",
			 (unsigned long long)st->failed, st->first_fail);
		return refuse(s, why);
	}
	free(st->q);
	st->q = NULL;
	return 0;
}

/* Compare the restored engine with the snapshot (counters aside). */
static int verify(struct rp_session *s)
{
	struct rp_snapstate *st = s->snap;
	struct snap g;
	s->synthetic = true;
	int rc = capture(s, &g);
	s->synthetic = false;
	if (rc) {
		snap_clear(&g);
		return rc < 0 ? RP_E_NOMEM : refuse(s, "a device of more than 2^20 events");
	}
	size_t la, lb;
	uint8_t *a = encode(&st->rec, &la), *b = encode(&g, &lb);
	char why[RP_TEXT] = "";
	if (!a || !b) {
		rc = RP_E_NOMEM;
	} else if (la != lb || memcmp(a, b, 8) || memcmp(a + 32, b + 32, la - 36)) {
		static const struct { unsigned off; const char *name; } f[] = {
			{ 4, "GITS_CTLR" }, { 32, "GITS_CBASER" }, { 40, "GITS_BASER0" },
			{ 48, "GITS_BASER1" }, { 56, "GITS_CWRITER" }, { 64, "GITS_CREADR" },
		};
		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]) && !why[0]; i++)
			if (memcmp(a + f[i].off, b + f[i].off, f[i].off == 4 ? 4 : 8))
				snprintf(why, sizeof(why), "%s is 0x%llx in the snapshot, 0x%llx in the "
					 "restored engine", f[i].name,
					 (unsigned long long)(f[i].off == 4 ? itr_get32(a + 4) :
							      itr_get64(a + f[i].off)),
					 (unsigned long long)(f[i].off == 4 ? itr_get32(b + 4) :
							      itr_get64(b + f[i].off)));
		if (!why[0])
			snprintf(why, sizeof(why), "the restored engine differs from the snapshot "
				 "(snapshot: %u devices, %u events, %u collections, %u LPIs; "
				 "engine: %u, %u, %u, %u; or their contents differ)",
				 st->rec.nd, st->rec.ne, st->rec.nc, st->rec.nl, g.nd, g.ne, g.nc,
				 g.nl);
		snprintf(s->msg, s->msglen, "snapshot at record %llu: %s",
			 (unsigned long long)s->res->start_index, why);
		rc = RP_E_TRACE;
	}
	free(a);
	free(b);
	snap_clear(&g);
	return rc;
}

int rp_snap_start(struct rp_session *s)
{
	struct rp_snapstate *st = state(s);
	if (!st)
		return RP_E_NOMEM;
	if (s->o.mode != RP_MODE_COMPARE || s->ref) {
		snprintf(s->msg, s->msglen, "starting at a snapshot is for replay (compare mode)");
		return RP_E_INVAL;
	}
	if (s->host) {
		snprintf(s->msg, s->msglen, "starting at a snapshot needs a trace with no "
			 "physical side (host state and physical names are not in a snapshot)");
		return RP_E_UNSUPPORTED;
	}
	/* Find it. */
	const struct itr_rec *r;
	uint64_t seen = 0;
	while ((r = rp_peek(&s->st, 0))) {
		if (r->type == ITR_REC_SNAPSHOT && r->domain == s->domain &&
		    !(r->flags & ITR_RF_CONT)) {
			seen++;
			if (s->o.start_snapshot ? seen == s->o.start_snapshot
						: r->index == (uint64_t)s->o.start_at)
				break;
		}
		if (s->o.start_at >= 0 && !s->o.start_snapshot && r->index >= (uint64_t)s->o.start_at) {
			r = NULL;
			break;
		}
		rp_pop(&s->st);
	}
	if (!r) {
		if (s->st.err < 0 || s->res->damaged)
			snprintf(s->msg, s->msglen, "the trace is damaged before the snapshot");
		else if (s->o.start_snapshot)
			snprintf(s->msg, s->msglen, "the trace holds %llu snapshots of domain %u: "
				 "no snapshot %llu", (unsigned long long)seen, s->domain,
				 (unsigned long long)s->o.start_snapshot);
		else
			snprintf(s->msg, s->msglen, "record %lld is not the first record of a "
				 "snapshot of domain %u", (long long)s->o.start_at, s->domain);
		return RP_E_TRACE;
	}
	s->res->start_index = r->index;
	s->res->started_at_snapshot = 1;
	/* Collect its chunks. */
	char why[192];
	uint32_t total = r->len >= ITR_PL_SNAPSHOT ? itr_get32(r->payload) : 0;
	if (r->len < ITR_PL_SNAPSHOT || total > SNAP_MAX || total < SNAP_HDR + 4) {
		snprintf(s->msg, s->msglen, "snapshot at record %llu: a malformed first chunk",
			 (unsigned long long)r->index);
		return RP_E_TRACE;
	}
	uint8_t *body = calloc(1, total);
	if (!body)
		return RP_E_NOMEM;
	uint64_t got = 0;
	bool first = true;
	while ((r = rp_peek(&s->st, 0)) && got < total) {
		if (!first && (r->type != ITR_REC_SNAPSHOT || !(r->flags & ITR_RF_CONT)))
			break;
		uint32_t off = itr_get32(r->payload + 4), c = r->len - ITR_PL_SNAPSHOT;
		if (r->len < ITR_PL_SNAPSHOT || itr_get32(r->payload) != total || off != got ||
		    c > total - got)
			break;
		memcpy(body + got, r->payload + ITR_PL_SNAPSHOT, c);
		got += c;
		first = false;
		rp_pop(&s->st);
	}
	if (got != total) {
		free(body);
		snprintf(s->msg, s->msglen, "snapshot at record %llu: its chunks are incomplete "
			 "(%llu of %u bytes)", (unsigned long long)s->res->start_index,
			 (unsigned long long)got, total);
		return RP_E_TRACE;
	}
	int rc = decode(body, total, &st->rec, why, sizeof(why));
	free(body);
	if (rc) {
		snprintf(s->msg, s->msglen, "snapshot at record %llu: %s",
			 (unsigned long long)s->res->start_index, why);
		return RP_E_TRACE;
	}
	rc = restore(s);
	if (rc)
		return rc;
	rc = verify(s);
	if (rc)
		return rc;
	/* What the replay tracks of the registers. */
	s->cbaser = st->rec.cbaser;
	s->baser0 = st->rec.baser0;
	s->enabled = GITS_FIELD_GET(st->rec.ctlr, CTLR, ENABLED);
	vits_get_stats(s->v, &st->base);
	return 0;
}

/* ---- counters ------------------------------------------------------------------------------ */

void rp_snap_adjust_fp(const struct rp_session *s, uint8_t *fp)
{
	const struct rp_snapstate *st = s->snap;
	if (!st || !st->started)
		return;
	itr_put64(fp + 0, itr_get64(fp + 0) - st->base.guest_cmd_total + st->rec.guest_cmds);
	itr_put64(fp + 32, itr_get64(fp + 32) - st->base.injections + st->rec.injections);
	itr_put64(fp + 40, itr_get64(fp + 40) - st->base.phys_cmd_total + st->rec.phys_cmds);
}

void rp_snap_adjust_stats(const struct rp_session *s, struct vits_stats *stt)
{
	const struct rp_snapstate *st = s->snap;
	if (!st || !st->started)
		return;
	_Static_assert(sizeof(struct vits_stats) % sizeof(uint64_t) == 0, "u64 counters");
	uint64_t *a = (uint64_t *)stt;
	const uint64_t *b = (const uint64_t *)&st->base;
	uint64_t used = stt->mem_used, peak = stt->mem_peak, dirty = stt->dirty_lpis;
	for (size_t i = 0; i < sizeof(*stt) / sizeof(uint64_t); i++)
		a[i] -= b[i];
	stt->mem_used = used;
	stt->mem_peak = peak;
	stt->dirty_lpis = dirty;
}

/* ---- writing snapshots into a trace ------------------------------------------------------------ */

struct snap_item { uint64_t before; uint8_t *b; size_t len; };
struct snap_list { struct snap_item *it; size_t n, cap; int err; };

static void collect(void *ctx, uint64_t before, const uint8_t *b, size_t len)
{
	struct snap_list *l = ctx;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		void *p = realloc(l->it, nc * sizeof(*l->it));
		if (!p) {
			l->err = 1;
			return;
		}
		l->it = p;
		l->cap = nc;
	}
	uint8_t *c = malloc(len);
	if (!c) {
		l->err = 1;
		return;
	}
	memcpy(c, b, len);
	l->it[l->n++] = (struct snap_item){ before, c, len };
}

int rp_snapshot_trace(const struct rp_memtrace *t, uint64_t every, int domain,
		      struct rp_memtrace **out, uint64_t *count, char *msg, size_t msglen)
{
	char dummy[8];
	if (!msg || !msglen) {
		msg = dummy;
		msglen = sizeof(dummy);
	}
	msg[0] = 0;
	if (!t || !out || !every)
		return RP_E_INVAL;
	*out = NULL;
	struct snap_list l = { 0 };
	struct rp_opts o;
	rp_opts_default(&o);
	o.domain = domain;
	o.snapshot_every = every;
	o.on_snapshot = collect;
	o.snapshot_ctx = &l;
	struct rp_result *res = calloc(1, sizeof(*res));
	if (!res)
		return RP_E_NOMEM;
	int rc = rp_replay(NULL, t, &o, res, msg, msglen);
	if (rc == 0 && res->has_host) {
		snprintf(msg, msglen, "the trace has a physical side: snapshots hold no host "
			 "state, so replay could not start at them");
		rc = RP_E_UNSUPPORTED;
	} else if (rc == 0 && res->diverged) {
		snprintf(msg, msglen, "the trace diverges at record %llu (%s): its snapshots would "
			 "not be the recorded state", (unsigned long long)res->div.index,
			 rp_div_kind_name(res->div.kind));
		rc = RP_E_INVAL;
	} else if (rc == 0 && l.err) {
		rc = RP_E_NOMEM;
	}
	uint16_t dom = domain >= 0 ? (uint16_t)domain : t->h.nr_domains ? t->h.domains[0].id : 0;
	free(res);
	struct rp_memtrace *m = rc == 0 ? rp_memtrace_new(&t->h) : NULL;
	if (rc == 0 && !m)
		rc = RP_E_NOMEM;
	if (m) {
		if (m->h.minor < 1)
			m->h.minor = 1;
		uint32_t chunk = SNAP_CHUNK;
		if (t->h.block_max && t->h.block_max < chunk + 64)
			chunk = t->h.block_max > 128 ? t->h.block_max - 64 : 64;
		size_t k = 0;
		for (size_t i = 0; i <= t->n && rc == 0; i++) {
			uint64_t ts = i < t->n ? t->recs[i].ts : t->n ? t->recs[t->n - 1].ts : 0;
			for (; k < l.n && l.it[k].before == i && rc == 0; k++) {
				for (size_t off = 0; off < l.it[k].len && rc == 0; off += chunk) {
					size_t c = l.it[k].len - off < chunk ? l.it[k].len - off : chunk;
					uint8_t p[ITR_PL_SNAPSHOT + SNAP_CHUNK];
					itr_put32(p, (uint32_t)l.it[k].len);
					itr_put32(p + 4, (uint32_t)off);
					memcpy(p + ITR_PL_SNAPSHOT, l.it[k].b + off, c);
					struct itr_rec r = { .type = ITR_REC_SNAPSHOT,
							     .flags = off ? ITR_RF_CONT : 0,
							     .domain = dom, .cpu = ITR_CPU_UNKNOWN,
							     .len = (uint32_t)(ITR_PL_SNAPSHOT + c),
							     .ts = ts, .payload = p };
					if (rp_memtrace_add(m, &r))
						rc = RP_E_NOMEM;
				}
			}
			if (i == t->n)
				break;
			if (t->recs[i].type == ITR_REC_SNAPSHOT && t->recs[i].domain == dom)
				continue;
			struct itr_rec r;
			rp_memtrace_get(t, i, &r);
			if (rp_memtrace_add(m, &r))
				rc = RP_E_NOMEM;
		}
	}
	if (count)
		*count = l.n;
	for (size_t i = 0; i < l.n; i++)
		free(l.it[i].b);
	free(l.it);
	if (rc) {
		rp_memtrace_free(m);
		return rc;
	}
	*out = m;
	return 0;
}
