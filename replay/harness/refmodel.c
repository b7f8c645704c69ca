/*
 * refmodel.c: the reference model (see refmodel.h and docs/semantics.md).
 *
 * Deliberately naive: every table is a flat array searched linearly, and each
 * command handler is its documented check list followed by its effect, in that
 * order, so a reader can hold it side by side with semantics.md.  Speed is not a
 * goal; being obviously right is.
 *
 * LPI state (cfg as last read, pending, pending vCPU) belongs to the INTID, as in a
 * redistributor, not to the event that maps it: two events mapping one INTID share
 * it.  A record is created the first time an INTID is mapped and kept afterwards,
 * so "keep the old byte" on a faulting property read has an old byte to keep.
 */
#include "refmodel.h"

#include <stdlib.h>
#include <string.h>

#include "its_regs.h"

/* A growable array of fixed-size elements, in insertion order. */
struct ref_vec {
	unsigned char *data;
	size_t n, cap, esz;
};

struct ref_coll {
	uint32_t icid, vcpu;
};

struct ref {
	struct ref_config cfg;
	bool enabled;
	bool have_prop;
	uint64_t prop_gpa;
	unsigned prop_bits;       /* clamped id_bits of the table, when have_prop */
	uint64_t baser0;          /* as the guest wrote it */
	struct ref_vec devices;   /* struct ref_device, mapped ones only */
	struct ref_vec events;    /* struct ref_event, mapped ones only */
	struct ref_vec colls;     /* struct ref_coll, mapped ones only */
	struct ref_vec lpis;      /* struct ref_lpi, every INTID ever mapped */
	struct ref_vec deliveries;/* struct ref_delivery */
	uint64_t ncmds;
};

/* ---- arrays --------------------------------------------------------------------- */

static void ref_vec_init(struct ref_vec *v, size_t esz)
{
	memset(v, 0, sizeof(*v));
	v->esz = esz;
}

static void *ref_vec_at(const struct ref_vec *v, size_t i)
{
	return v->data + i * v->esz;
}

/* The model is a test oracle: running out of host memory is not a state it can
 * describe, so it stops the program rather than give a wrong answer. */
static void *ref_vec_push(struct ref_vec *v)
{
	if (v->n == v->cap) {
		size_t ncap = v->cap ? v->cap * 2 : 16;
		unsigned char *nd = realloc(v->data, ncap * v->esz);
		if (!nd)
			abort();
		v->data = nd;
		v->cap = ncap;
	}
	void *slot = ref_vec_at(v, v->n++);
	memset(slot, 0, v->esz);
	return slot;
}

static void ref_vec_remove(struct ref_vec *v, size_t i)
{
	memmove(ref_vec_at(v, i), ref_vec_at(v, i + 1), (v->n - i - 1) * v->esz);
	v->n--;
}

static void ref_vec_free(struct ref_vec *v)
{
	free(v->data);
	ref_vec_init(v, v->esz);
}

/* ---- lifetime --------------------------------------------------------------------- */

struct ref *ref_create(const struct ref_config *cfg)
{
	if (!cfg || !cfg->read_guest || cfg->nr_vcpus == 0 ||
	    cfg->devid_bits < 1 || cfg->devid_bits > 32 ||
	    cfg->eventid_bits < 1 || cfg->eventid_bits > 32 ||
	    cfg->cid_bits < 1 || cfg->cid_bits > 16 ||
	    cfg->intid_bits < 14 || cfg->intid_bits > 24)
		return NULL;
	struct ref *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->cfg = *cfg;
	ref_vec_init(&r->devices, sizeof(struct ref_device));
	ref_vec_init(&r->events, sizeof(struct ref_event));
	ref_vec_init(&r->colls, sizeof(struct ref_coll));
	ref_vec_init(&r->lpis, sizeof(struct ref_lpi));
	ref_vec_init(&r->deliveries, sizeof(struct ref_delivery));
	return r;
}

const struct ref_config *ref_get_config(const struct ref *r)
{
	return &r->cfg;
}

void ref_reset(struct ref *r)
{
	r->enabled = false;
	r->have_prop = false;
	r->prop_gpa = 0;
	r->prop_bits = 0;
	r->baser0 = 0;
	r->devices.n = 0;
	r->events.n = 0;
	r->colls.n = 0;
	r->lpis.n = 0;
	r->deliveries.n = 0;
	r->ncmds = 0;
}

void ref_destroy(struct ref *r)
{
	if (!r)
		return;
	ref_vec_free(&r->devices);
	ref_vec_free(&r->events);
	ref_vec_free(&r->colls);
	ref_vec_free(&r->lpis);
	ref_vec_free(&r->deliveries);
	free(r);
}

/* ---- embedder inputs ---------------------------------------------------------------- */

int ref_set_prop_table(struct ref *r, uint64_t gpa, unsigned id_bits)
{
	/* vits.h: only 1..13 and > 32 are refused; id_bits 0 forgets the table
	 * whatever gpa says. */
	if (id_bits == 0) {
		r->have_prop = false;
		r->prop_gpa = 0;
		r->prop_bits = 0;
		return 0;
	}
	if (id_bits < 14 || id_bits > 32)
		return -1;
	r->have_prop = true;
	r->prop_gpa = gpa;
	r->prop_bits = id_bits > r->cfg.intid_bits ? r->cfg.intid_bits : id_bits;
	return 0;
}

unsigned ref_prop_bits(const struct ref *r)
{
	return r->have_prop ? r->prop_bits : r->cfg.intid_bits;
}

void ref_set_device_table(struct ref *r, uint64_t baser0)
{
	r->baser0 = baser0;
}

void ref_set_enabled(struct ref *r, bool enabled)
{
	r->enabled = enabled;
}

/* ---- lookups -------------------------------------------------------------------------- */

static struct ref_device *ref_find_device(const struct ref *r, uint32_t devid)
{
	for (size_t i = 0; i < r->devices.n; i++) {
		struct ref_device *d = ref_vec_at(&r->devices, i);
		if (d->devid == devid)
			return d;
	}
	return NULL;
}

static struct ref_event *ref_find_event(const struct ref *r, uint32_t devid, uint32_t eventid)
{
	for (size_t i = 0; i < r->events.n; i++) {
		struct ref_event *e = ref_vec_at(&r->events, i);
		if (e->devid == devid && e->eventid == eventid)
			return e;
	}
	return NULL;
}

static struct ref_coll *ref_find_coll(const struct ref *r, uint32_t icid)
{
	for (size_t i = 0; i < r->colls.n; i++) {
		struct ref_coll *c = ref_vec_at(&r->colls, i);
		if (c->icid == icid)
			return c;
	}
	return NULL;
}

static struct ref_lpi *ref_find_lpi(const struct ref *r, uint32_t intid)
{
	for (size_t i = 0; i < r->lpis.n; i++) {
		struct ref_lpi *l = ref_vec_at(&r->lpis, i);
		if (l->intid == intid)
			return l;
	}
	return NULL;
}

static struct ref_lpi *ref_get_lpi(struct ref *r, uint32_t intid)
{
	struct ref_lpi *l = ref_find_lpi(r, intid);
	if (!l) {
		l = ref_vec_push(&r->lpis);
		l->intid = intid;
	}
	return l;
}

/* ---- LPI behaviour ---------------------------------------------------------------------- */

/* semantics.md "LPIs": the byte at prop_gpa + (INTID - 8192); a faulting read keeps
 * the old byte.  With no table, or for an INTID at or beyond 2^id_bits of the current
 * table (it shrank after the MAPTI), nothing is read and the byte becomes 0: the
 * redistributor has no configuration for that LPI. */
static void ref_read_cfg(struct ref *r, struct ref_lpi *l)
{
	if (!r->have_prop || l->intid >= ((uint64_t)1 << r->prop_bits)) {
		l->cfg = 0;
		return;
	}
	uint64_t off = (uint64_t)l->intid - LPI_INTID_BASE;
	if (off > UINT64_MAX - r->prop_gpa)
		return;   /* the address would wrap: not guest RAM, a faulting read */
	uint8_t b;
	if (r->cfg.read_guest(r->cfg.ctx, r->prop_gpa + off, &b, 1) == 0)
		l->cfg = b;
}

/* Hand a pending, enabled LPI to its vCPU; the vGIC owns it from then on. */
static void ref_deliver_if_enabled(struct ref *r, struct ref_lpi *l)
{
	if (!l->pending || !(l->cfg & 1))
		return;
	struct ref_delivery *d = ref_vec_push(&r->deliveries);
	d->vcpu = l->pending_vcpu;
	d->intid = l->intid;
	d->seq = r->ncmds;
	l->pending = false;
}

static void ref_make_pending(struct ref *r, uint32_t intid, uint32_t vcpu)
{
	struct ref_lpi *l = ref_get_lpi(r, intid);
	l->pending = true;
	l->pending_vcpu = vcpu;
	ref_deliver_if_enabled(r, l);
}

/* Drop event i: its LPI stops being mapped by it and loses its pending state. */
static void ref_unmap_event_at(struct ref *r, size_t i)
{
	struct ref_event *e = ref_vec_at(&r->events, i);
	struct ref_lpi *l = ref_find_lpi(r, e->intid);
	if (l) {
		l->pending = false;
		if (l->mapped)
			l->mapped--;
	}
	ref_vec_remove(&r->events, i);
}

static void ref_unmap_device(struct ref *r, uint32_t devid)
{
	for (size_t i = 0; i < r->events.n;) {
		const struct ref_event *e = ref_vec_at(&r->events, i);
		if (e->devid == devid)
			ref_unmap_event_at(r, i);
		else
			i++;
	}
	for (size_t i = 0; i < r->devices.n; i++) {
		const struct ref_device *d = ref_vec_at(&r->devices, i);
		if (d->devid == devid) {
			ref_vec_remove(&r->devices, i);
			break;
		}
	}
}

/* ---- checks shared by several commands ------------------------------------------------ */

static bool ref_devid_in_range(const struct ref *r, uint64_t devid)
{
	return devid < ((uint64_t)1 << r->cfg.devid_bits);
}

static bool ref_icid_in_range(const struct ref *r, uint64_t icid)
{
	return icid < ((uint64_t)1 << r->cfg.cid_bits);
}

static bool ref_rd_in_range(const struct ref *r, uint64_t rd)
{
	return rd < r->cfg.nr_vcpus;
}

/* Page size of a BASER Page_Size field.  IMPDEF choice (ours and the engine's
 * documented 4K/16K/64K): the reserved encoding 3 is taken as 64 KiB. */
static uint64_t ref_baser_page(uint64_t baser)
{
	switch (GITS_FIELD_GET(baser, BASER, PAGE_SIZE)) {
	case 0: return 4096;
	case 1: return 16384;
	default: return 65536;
	}
}

/* Physical address of a BASER table: PA[47:12] with the bits below the page size
 * RES0, and with 64 KiB pages PA[51:48] taken from bits [15:12]. */
static uint64_t ref_baser_pa(uint64_t baser)
{
	uint64_t page = ref_baser_page(baser);
	uint64_t pa = GITS_FIELD_GET(baser, BASER, PA) << GITS_BASER_PA_SHIFT;
	pa &= ~(page - 1);
	if (page == 65536)
		pa |= GITS_FIELD_GET(baser, BASER, PA_HI64K) << 48;
	return pa;
}

/* semantics.md "Device table": may MAPD use this DeviceID?  VITS_R_NONE, or
 * VITS_R_DEVICE_TABLE, or VITS_R_MEM_FAULT when the L1 entry cannot be read:
 * semantics.md names no reason for that case; vits.h defines MEM_FAULT as "a
 * guest-memory read failed", which is what happened. */
static enum vits_reason ref_devtab_check(const struct ref *r, uint32_t devid)
{
	uint64_t b = r->baser0;
	if (!GITS_FIELD_GET(b, BASER, VALID))
		return VITS_R_DEVICE_TABLE;
	uint64_t page = ref_baser_page(b);
	uint64_t entries = (GITS_FIELD_GET(b, BASER, SIZE) + 1) * page / 8;
	if (!GITS_FIELD_GET(b, BASER, INDIRECT))
		return devid < entries ? VITS_R_NONE : VITS_R_DEVICE_TABLE;
	uint64_t l1 = devid / (page / 8);
	if (l1 >= entries)
		return VITS_R_DEVICE_TABLE;
	uint8_t raw[8];
	if (r->cfg.read_guest(r->cfg.ctx, ref_baser_pa(b) + l1 * 8, raw, sizeof(raw)) != 0)
		return VITS_R_MEM_FAULT;
	return (raw[7] & 0x80) ? VITS_R_NONE : VITS_R_DEVICE_TABLE;   /* Valid, bit 63 (LE) */
}

/* The DeviceID / device / EventID / event checks of MOVI, DISCARD, INT, CLEAR, INV. */
static enum vits_reason ref_find_mapped_event(struct ref *r, const struct its_cmd *c,
					      struct ref_event **out)
{
	uint64_t devid = its_cmd_get_devid(c);
	uint64_t eventid = its_cmd_get_eventid(c);
	if (!ref_devid_in_range(r, devid))
		return VITS_R_DEVICE_OOR;
	const struct ref_device *d = ref_find_device(r, (uint32_t)devid);
	if (!d)
		return VITS_R_DEVICE_UNMAPPED;
	if (eventid >= ((uint64_t)1 << d->event_bits))
		return VITS_R_EVENT_OOR;
	*out = ref_find_event(r, (uint32_t)devid, (uint32_t)eventid);
	return *out ? VITS_R_NONE : VITS_R_EVENT_UNMAPPED;
}

/* ---- commands ------------------------------------------------------------------------ */

static enum vits_reason ref_do_mapd(struct ref *r, const struct its_cmd *c)
{
	uint64_t devid = its_cmd_get_devid(c);
	if (!ref_devid_in_range(r, devid))
		return VITS_R_DEVICE_OOR;
	enum vits_reason why = ref_devtab_check(r, (uint32_t)devid);
	if (why != VITS_R_NONE)
		return why;
	if (!its_cmd_get_valid(c)) {
		ref_unmap_device(r, (uint32_t)devid);   /* unmapped already: no error */
		return VITS_R_NONE;
	}
	unsigned bits = (unsigned)its_cmd_get_size(c) + 1;
	if (bits > r->cfg.eventid_bits)
		return VITS_R_ITT_SIZE_OOR;
	uint64_t itt = its_cmd_get_itt_addr(c) << 8;
	uint64_t itt_bytes = ((uint64_t)1 << bits) * 8;
	if (r->cfg.ram_check && !r->cfg.ram_check(r->cfg.ctx, itt, itt_bytes))
		return VITS_R_ITT_OUTSIDE_RAM;
	/* IMPDEF choice (semantics.md): remapping a mapped device unmaps it first. */
	ref_unmap_device(r, (uint32_t)devid);
	struct ref_device *d = ref_vec_push(&r->devices);
	d->devid = (uint32_t)devid;
	d->event_bits = (uint8_t)bits;
	d->itt_addr = itt;
	return VITS_R_NONE;
}

static enum vits_reason ref_do_mapc(struct ref *r, const struct its_cmd *c)
{
	uint64_t icid = its_cmd_get_icid(c);
	uint64_t rd = its_cmd_get_rdbase(c);
	if (!ref_icid_in_range(r, icid))
		return VITS_R_COLLECTION_OOR;
	struct ref_coll *col = ref_find_coll(r, (uint32_t)icid);
	if (!its_cmd_get_valid(c)) {
		if (col)
			ref_vec_remove(&r->colls, (size_t)(col - (struct ref_coll *)r->colls.data));
		return VITS_R_NONE;
	}
	if (!ref_rd_in_range(r, rd))
		return VITS_R_PROCNUM_OOR;
	if (!col) {
		col = ref_vec_push(&r->colls);
		col->icid = (uint32_t)icid;
	}
	col->vcpu = (uint32_t)rd;   /* pending LPIs stay where they are pending */
	return VITS_R_NONE;
}

static enum vits_reason ref_do_mapti(struct ref *r, const struct its_cmd *c, bool mapi)
{
	uint64_t devid = its_cmd_get_devid(c);
	uint64_t eventid = its_cmd_get_eventid(c);
	uint64_t intid = mapi ? eventid : its_cmd_get_pintid(c);
	uint64_t icid = its_cmd_get_icid(c);
	if (!ref_devid_in_range(r, devid))
		return VITS_R_DEVICE_OOR;
	const struct ref_device *d = ref_find_device(r, (uint32_t)devid);
	if (!d)
		return VITS_R_DEVICE_UNMAPPED;
	if (eventid >= ((uint64_t)1 << d->event_bits))
		return VITS_R_EVENT_OOR;
	if (intid < LPI_INTID_BASE || intid >= ((uint64_t)1 << ref_prop_bits(r)))
		return VITS_R_INTID_OOR;
	if (!ref_icid_in_range(r, icid))
		return VITS_R_COLLECTION_OOR;
	if (ref_find_event(r, (uint32_t)devid, (uint32_t)eventid))
		return VITS_R_EVENT_MAPPED;
	struct ref_event *e = ref_vec_push(&r->events);
	e->devid = (uint32_t)devid;
	e->eventid = (uint32_t)eventid;
	e->intid = (uint32_t)intid;
	e->icid = (uint16_t)icid;
	struct ref_lpi *l = ref_get_lpi(r, (uint32_t)intid);
	l->mapped++;
	/* The byte is read; an LPI already pending through another event mapping the
	 * same INTID is delivered if the byte now enables it (docs/semantics.md). */
	ref_read_cfg(r, l);
	ref_deliver_if_enabled(r, l);
	return VITS_R_NONE;
}

static enum vits_reason ref_do_movi(struct ref *r, const struct its_cmd *c)
{
	struct ref_event *e;
	enum vits_reason why = ref_find_mapped_event(r, c, &e);
	if (why != VITS_R_NONE)
		return why;
	uint64_t icid = its_cmd_get_icid(c);
	if (!ref_icid_in_range(r, icid))
		return VITS_R_COLLECTION_OOR;
	const struct ref_coll *col = ref_find_coll(r, (uint32_t)icid);
	if (!col)
		return VITS_R_COLLECTION_UNMAPPED;
	e->icid = (uint16_t)icid;
	struct ref_lpi *l = ref_find_lpi(r, e->intid);
	if (l && l->pending)
		l->pending_vcpu = col->vcpu;
	return VITS_R_NONE;
}

static enum vits_reason ref_do_discard(struct ref *r, const struct its_cmd *c)
{
	struct ref_event *e;
	enum vits_reason why = ref_find_mapped_event(r, c, &e);
	if (why != VITS_R_NONE)
		return why;
	ref_unmap_event_at(r, (size_t)(e - (struct ref_event *)r->events.data));
	return VITS_R_NONE;
}

/* INT, CLEAR and INV: the event checks, then its collection must be mapped. */
static enum vits_reason ref_do_int_clear_inv(struct ref *r, const struct its_cmd *c, unsigned op)
{
	struct ref_event *e;
	enum vits_reason why = ref_find_mapped_event(r, c, &e);
	if (why != VITS_R_NONE)
		return why;
	const struct ref_coll *col = ref_find_coll(r, e->icid);
	if (!col)
		return VITS_R_COLLECTION_UNMAPPED;
	struct ref_lpi *l = ref_get_lpi(r, e->intid);
	switch (op) {
	case ITS_OP_INT:
		ref_make_pending(r, e->intid, col->vcpu);
		break;
	case ITS_OP_CLEAR:
		l->pending = false;
		break;
	default: /* INV */
		ref_read_cfg(r, l);
		ref_deliver_if_enabled(r, l);
		break;
	}
	return VITS_R_NONE;
}

static enum vits_reason ref_do_invall(struct ref *r, const struct its_cmd *c)
{
	uint64_t icid = its_cmd_get_icid(c);
	if (!ref_icid_in_range(r, icid))
		return VITS_R_COLLECTION_OOR;
	if (!ref_find_coll(r, (uint32_t)icid))
		return VITS_R_COLLECTION_UNMAPPED;
	for (size_t i = 0; i < r->events.n; i++) {
		const struct ref_event *e = ref_vec_at(&r->events, i);
		if (e->icid != icid)
			continue;
		struct ref_lpi *l = ref_get_lpi(r, e->intid);
		ref_read_cfg(r, l);
		ref_deliver_if_enabled(r, l);
	}
	return VITS_R_NONE;
}

static enum vits_reason ref_do_sync(struct ref *r, const struct its_cmd *c)
{
	return ref_rd_in_range(r, its_cmd_get_rdbase(c)) ? VITS_R_NONE : VITS_R_PROCNUM_OOR;
}

static enum vits_reason ref_do_movall(struct ref *r, const struct its_cmd *c)
{
	uint64_t from = its_cmd_get_rdbase(c);
	uint64_t to = its_cmd_get_rdbase2(c);
	if (!ref_rd_in_range(r, from) || !ref_rd_in_range(r, to))
		return VITS_R_PROCNUM_OOR;
	for (size_t i = 0; i < r->lpis.n; i++) {
		struct ref_lpi *l = ref_vec_at(&r->lpis, i);
		if (l->pending && l->pending_vcpu == from)
			l->pending_vcpu = (uint32_t)to;
	}
	return VITS_R_NONE;
}

static enum vits_reason ref_dispatch(struct ref *r, const struct its_cmd *c)
{
	unsigned op = (unsigned)its_cmd_get_opcode(c);
	switch (op) {
	case ITS_OP_MAPD: return ref_do_mapd(r, c);
	case ITS_OP_MAPC: return ref_do_mapc(r, c);
	case ITS_OP_MAPTI: return ref_do_mapti(r, c, false);
	case ITS_OP_MAPI: return ref_do_mapti(r, c, true);
	case ITS_OP_MOVI: return ref_do_movi(r, c);
	case ITS_OP_DISCARD: return ref_do_discard(r, c);
	case ITS_OP_INT:
	case ITS_OP_CLEAR:
	case ITS_OP_INV: return ref_do_int_clear_inv(r, c, op);
	case ITS_OP_INVALL: return ref_do_invall(r, c);
	case ITS_OP_SYNC: return ref_do_sync(r, c);
	case ITS_OP_MOVALL: return ref_do_movall(r, c);
	default:
		return its_cmd_is_gicv4(op) == 1 ? VITS_R_UNSUPPORTED : VITS_R_UNKNOWN_OPCODE;
	}
}

enum vits_reason ref_cmd(struct ref *r, const struct its_cmd *cmd)
{
	enum vits_reason why = ref_dispatch(r, cmd);
	r->ncmds++;
	return why;
}

/* semantics.md "LPIs": an MSI is dropped while disabled, for an unmapped or out of
 * range device or event, or an unmapped collection; otherwise it acts like INT. */
enum vits_reason ref_msi(struct ref *r, uint32_t devid, uint32_t eventid)
{
	if (!r->enabled)
		return VITS_R_ITS_DISABLED;
	if (!ref_devid_in_range(r, devid))
		return VITS_R_DEVICE_OOR;
	const struct ref_device *d = ref_find_device(r, devid);
	if (!d)
		return VITS_R_DEVICE_UNMAPPED;
	if ((uint64_t)eventid >= ((uint64_t)1 << d->event_bits))
		return VITS_R_EVENT_OOR;
	const struct ref_event *e = ref_find_event(r, devid, eventid);
	if (!e)
		return VITS_R_EVENT_UNMAPPED;
	const struct ref_coll *col = ref_find_coll(r, e->icid);
	if (!col)
		return VITS_R_COLLECTION_UNMAPPED;
	ref_make_pending(r, e->intid, col->vcpu);
	return VITS_R_NONE;
}

uint64_t ref_cmd_count(const struct ref *r)
{
	return r->ncmds;
}

/* ---- outputs and queries ----------------------------------------------------------------- */

const struct ref_delivery *ref_deliveries(const struct ref *r, size_t *count)
{
	*count = r->deliveries.n;
	return (const struct ref_delivery *)r->deliveries.data;
}

void ref_clear_deliveries(struct ref *r)
{
	r->deliveries.n = 0;
}

int ref_query_device(const struct ref *r, uint32_t devid, struct ref_device *out)
{
	const struct ref_device *d = ref_find_device(r, devid);
	if (!d)
		return -1;
	*out = *d;
	return 0;
}

int ref_query_event(const struct ref *r, uint32_t devid, uint32_t eventid, struct ref_event *out)
{
	const struct ref_event *e = ref_find_event(r, devid, eventid);
	if (!e)
		return -1;
	*out = *e;
	return 0;
}

int ref_query_collection(const struct ref *r, uint32_t icid, uint32_t *vcpu)
{
	const struct ref_coll *c = ref_find_coll(r, icid);
	if (!c)
		return -1;
	*vcpu = c->vcpu;
	return 0;
}

int ref_query_lpi(const struct ref *r, uint32_t intid, struct ref_lpi *out)
{
	const struct ref_lpi *l = ref_find_lpi(r, intid);
	if (!l)
		return -1;
	*out = *l;
	return 0;
}

int ref_foreach_device(const struct ref *r, int (*fn)(void *arg, const struct ref_device *d), void *arg)
{
	for (size_t i = 0; i < r->devices.n; i++) {
		int rc = fn(arg, ref_vec_at(&r->devices, i));
		if (rc)
			return rc;
	}
	return 0;
}

int ref_foreach_event(const struct ref *r, int (*fn)(void *arg, const struct ref_event *e), void *arg)
{
	for (size_t i = 0; i < r->events.n; i++) {
		int rc = fn(arg, ref_vec_at(&r->events, i));
		if (rc)
			return rc;
	}
	return 0;
}

int ref_foreach_collection(const struct ref *r, int (*fn)(void *arg, uint32_t icid, uint32_t vcpu), void *arg)
{
	for (size_t i = 0; i < r->colls.n; i++) {
		const struct ref_coll *c = ref_vec_at(&r->colls, i);
		int rc = fn(arg, c->icid, c->vcpu);
		if (rc)
			return rc;
	}
	return 0;
}

int ref_foreach_lpi(const struct ref *r, int (*fn)(void *arg, const struct ref_lpi *l), void *arg)
{
	for (size_t i = 0; i < r->lpis.n; i++) {
		int rc = fn(arg, ref_vec_at(&r->lpis, i));
		if (rc)
			return rc;
	}
	return 0;
}

size_t ref_device_count(const struct ref *r)
{
	return r->devices.n;
}

size_t ref_event_count(const struct ref *r)
{
	return r->events.n;
}

size_t ref_collection_count(const struct ref *r)
{
	return r->colls.n;
}

const char *ref_reason_name(enum vits_reason reason)
{
	/* Names are labels, not semantics: the one table in the engine serves both. */
	return vits_reason_name(reason);
}
