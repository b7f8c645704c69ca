/*
 * pits_model.c: the physical ITS model (see pits_model.h).
 *
 * The queue is an array of 32-byte slots with CREADR/CWRITER byte offsets; every
 * slot also carries what caused its command (filled from the engine's
 * VITS_EV_PHYS_CMD trace events, which the engine emits right after each accepted
 * phys_cmd, so the n-th traced command is the n-th queued one).  Execution goes
 * through a struct ref configured as the physical ITS, after the host's extra checks.
 */
#include "pits_model.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "its_regs.h"

#define PITS_PROP_BASE 0x100000000000ull  /* the host property table's "address" */
#define PITS_DEVT_BASE 0x200000000000ull  /* a two-level device table, all L1 valid */
#define PITS_DEVT_PAGES 256u
#define PITS_DEVT_PAGE  65536u

struct pits_slot {
	struct its_cmd cmd;
	uint64_t seq;
	bool have_cause;
	uint16_t domain;
	uint8_t cause;
	uint32_t cause_offset, cause_opcode;
};

struct pits_itt {
	uint64_t pa, size;        /* block (256-byte multiple) */
	uint64_t bytes;           /* as requested */
	uint32_t pdevid;
	bool live;
};

struct pits_model {
	struct pits_config cfg;
	struct ref *ref;
	uint8_t *prop;            /* nr_plpis bytes */
	uint32_t *src_dev, *src_ev;  /* per pLPI: the event that last made it pending */

	struct pits_slot *slots;
	uint32_t nslots;          /* queue_bytes / 32 */
	uint32_t creadr, cwriter; /* byte offsets */
	uint64_t head_seq;        /* seq of the command at CREADR */
	uint64_t done_dom[PITS_MAX_DOMAINS];  /* commands completed, per causing domain */
	uint64_t next_seq;        /* seq of the next command accepted */
	uint64_t traced_seq;      /* next seq waiting for its trace event */
	bool stalled;

	struct pits_itt *itt;
	size_t nitt, capitt;
	uint64_t itt_next;

	struct pits_finding *find;
	size_t nfind, capfind;

	struct pits_stats st;
};

/* ---- configuration ------------------------------------------------------------- */

void pits_config_default(struct pits_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->queue_bytes = PITS_DEFAULT_QUEUE_BYTES;
	cfg->nr_pcpus = 4;
	cfg->nr_plpis = 8192;
	cfg->devid_bits = 20;
	cfg->eventid_bits = 16;
}

void pits_config_from_host(struct pits_config *cfg, const struct vits_host_config *h)
{
	cfg->nr_pcpus = h->nr_pcpus;
	cfg->nr_plpis = h->nr_plpis;
	cfg->devid_bits = h->pdevid_bits;
	cfg->eventid_bits = h->peventid_bits;
}

/* ---- the semantic core's "memory": host property table and device table ------- */

static int pits_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct pits_model *m = ctx;
	uint8_t *out = buf;
	if (gpa >= PITS_PROP_BASE && gpa - PITS_PROP_BASE < ((uint64_t)1 << 32)) {
		uint64_t off = gpa - PITS_PROP_BASE;
		for (size_t i = 0; i < len; i++)
			out[i] = off + i < m->cfg.nr_plpis ? m->prop[off + i] : 0;
		return 0;
	}
	if (gpa >= PITS_DEVT_BASE &&
	    gpa - PITS_DEVT_BASE + len <= (uint64_t)PITS_DEVT_PAGES * PITS_DEVT_PAGE) {
		/* Every L1 entry valid (bit 63): the host's table covers every DeviceID. */
		for (size_t i = 0; i < len; i++)
			out[i] = ((gpa + i) % 8 == 7) ? 0x80 : 0;
		return 0;
	}
	return -1;
}

static unsigned pits_intid_bits(uint32_t nr_plpis)
{
	unsigned b = 14;
	while (b < 24 && ((uint64_t)1 << b) < (uint64_t)LPI_INTID_BASE + nr_plpis)
		b++;
	return b;
}

struct pits_model *pits_create(const struct pits_config *cfg)
{
	if (!cfg || cfg->nr_pcpus == 0 || cfg->nr_pcpus > 4096 || cfg->nr_plpis == 0 ||
	    cfg->nr_plpis > (1u << 24) - LPI_INTID_BASE || cfg->devid_bits < 1 ||
	    cfg->devid_bits > 32 || cfg->eventid_bits < 1 || cfg->eventid_bits > 32)
		return NULL;
	uint32_t qb = cfg->queue_bytes ? cfg->queue_bytes : PITS_DEFAULT_QUEUE_BYTES;
	if (qb % ITS_CMD_BYTES || qb < 2 * ITS_CMD_BYTES)
		return NULL;
	struct pits_model *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cfg = *cfg;
	m->cfg.queue_bytes = qb;
	m->nslots = qb / ITS_CMD_BYTES;
	m->slots = calloc(m->nslots, sizeof(*m->slots));
	m->prop = calloc(cfg->nr_plpis, 1);
	m->src_dev = calloc(cfg->nr_plpis, sizeof(*m->src_dev));
	m->src_ev = calloc(cfg->nr_plpis, sizeof(*m->src_ev));
	m->itt_next = PITS_ITT_BASE;
	struct ref_config rc = {
		.nr_vcpus = cfg->nr_pcpus,
		.devid_bits = cfg->devid_bits,
		.eventid_bits = cfg->eventid_bits,
		.cid_bits = 16,
		.intid_bits = (uint8_t)pits_intid_bits(cfg->nr_plpis),
		.read_guest = pits_read,
		.ctx = m,
	};
	m->ref = ref_create(&rc);
	if (!m->slots || !m->prop || !m->src_dev || !m->src_ev || !m->ref) {
		pits_destroy(m);
		return NULL;
	}
	ref_set_prop_table(m->ref, PITS_PROP_BASE, rc.intid_bits);
	uint64_t baser = 0;
	baser = GITS_FIELD_SET(baser, BASER, VALID, 1);
	baser = GITS_FIELD_SET(baser, BASER, INDIRECT, 1);
	baser = GITS_FIELD_SET(baser, BASER, TYPE, GITS_BASER_TYPE_DEVICE);
	baser = GITS_FIELD_SET(baser, BASER, ENTRY_SIZE, 7);
	baser = GITS_FIELD_SET(baser, BASER, PAGE_SIZE, 2);
	baser = GITS_FIELD_SET(baser, BASER, SIZE, PITS_DEVT_PAGES - 1);
	baser |= PITS_DEVT_BASE & GITS_FIELD_MASK(BASER, PA);
	ref_set_device_table(m->ref, baser);
	ref_set_enabled(m->ref, true);
	/* The host maps collection p to PE p at boot: not counted as traffic. */
	for (uint32_t p = 0; p < cfg->nr_pcpus; p++) {
		struct its_cmd c = its_mk_mapc(p, p, 1);
		if (ref_cmd(m->ref, &c) != VITS_R_NONE) {
			pits_destroy(m);
			return NULL;
		}
	}
	return m;
}

void pits_destroy(struct pits_model *m)
{
	if (!m)
		return;
	ref_destroy(m->ref);
	free(m->slots);
	free(m->prop);
	free(m->src_dev);
	free(m->src_ev);
	free(m->itt);
	free(m->find);
	free(m);
}

/* ---- findings ----------------------------------------------------------------------- */

static struct pits_finding *pits_add_finding(struct pits_model *m, enum pits_check chk,
					     enum vits_reason why, const struct pits_slot *s,
					     const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static struct pits_finding *pits_add_finding(struct pits_model *m, enum pits_check chk,
					     enum vits_reason why, const struct pits_slot *s,
					     const char *fmt, ...)
{
	if (m->nfind == m->capfind) {
		size_t ncap = m->capfind ? m->capfind * 2 : 16;
		struct pits_finding *n = realloc(m->find, ncap * sizeof(*n));
		if (!n)
			abort();   /* a test oracle that cannot record a finding must not pass */
		m->find = n;
		m->capfind = ncap;
	}
	struct pits_finding *f = &m->find[m->nfind++];
	memset(f, 0, sizeof(*f));
	f->check = (uint8_t)chk;
	f->reason = (uint8_t)why;
	f->seq = UINT64_MAX;
	if (s) {
		f->seq = s->seq;
		f->cmd = s->cmd;
		f->have_cause = s->have_cause;
		f->domain = s->domain;
		f->cause = s->cause;
		f->cause_offset = s->cause_offset;
		f->cause_opcode = s->cause_opcode;
	}
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
		va_end(ap);
	}
	return f;
}

const struct pits_finding *pits_findings(const struct pits_model *m, size_t *n)
{
	*n = m->nfind;
	return m->find;
}

void pits_clear_findings(struct pits_model *m)
{
	m->nfind = 0;
}

const char *pits_check_name(enum pits_check c)
{
	static const char *const names[PITS_CHK_COUNT] = {
		[PITS_CHK_REF] = "command error",
		[PITS_CHK_DEV_MAPPED] = "MAPD onto a mapped device",
		[PITS_CHK_DEV_UNMAPPED] = "MAPD V=0 of an unmapped device",
		[PITS_CHK_ITT] = "bad ITT",
		[PITS_CHK_PLPI_RANGE] = "pINTID outside the host LPIs",
		[PITS_CHK_PLPI_MAPPED] = "pINTID already mapped",
		[PITS_CHK_COLLECTION] = "collection not a host PE",
		[PITS_CHK_MAPC] = "MAPC of a host collection",
		[PITS_CHK_TRACE] = "lost or altered physical command",
		[PITS_CHK_ITT_FREE] = "bad ITT free",
		[PITS_CHK_ITT_LEAK] = "ITT leaked",
		[PITS_CHK_PROP] = "host property write out of range",
	};
	return (unsigned)c < PITS_CHK_COUNT ? names[c] : "?";
}

int pits_format_cmd(const struct its_cmd *c, char *buf, size_t len)
{
	unsigned op = (unsigned)its_cmd_get_opcode(c);
	const char *name = its_cmd_name(op);
	switch (op) {
	case ITS_OP_MAPD:
		return snprintf(buf, len, "MAPD dev %#" PRIx64 " size %" PRIu64 " itt %#" PRIx64
				" V=%" PRIu64, its_cmd_get_devid(c), its_cmd_get_size(c),
				its_cmd_get_itt_addr(c) << 8, its_cmd_get_valid(c));
	case ITS_OP_MAPC:
		return snprintf(buf, len, "MAPC icid %" PRIu64 " rd %" PRIu64 " V=%" PRIu64,
				its_cmd_get_icid(c), its_cmd_get_rdbase(c), its_cmd_get_valid(c));
	case ITS_OP_MAPTI:
		return snprintf(buf, len, "MAPTI dev %#" PRIx64 " ev %#" PRIx64 " intid %" PRIu64
				" icid %" PRIu64, its_cmd_get_devid(c), its_cmd_get_eventid(c),
				its_cmd_get_pintid(c), its_cmd_get_icid(c));
	case ITS_OP_MAPI:
	case ITS_OP_MOVI:
		return snprintf(buf, len, "%s dev %#" PRIx64 " ev %#" PRIx64 " icid %" PRIu64,
				name, its_cmd_get_devid(c), its_cmd_get_eventid(c),
				its_cmd_get_icid(c));
	case ITS_OP_INT:
	case ITS_OP_CLEAR:
	case ITS_OP_INV:
	case ITS_OP_DISCARD:
		return snprintf(buf, len, "%s dev %#" PRIx64 " ev %#" PRIx64, name,
				its_cmd_get_devid(c), its_cmd_get_eventid(c));
	case ITS_OP_INVALL:
		return snprintf(buf, len, "INVALL icid %" PRIu64, its_cmd_get_icid(c));
	case ITS_OP_SYNC:
		return snprintf(buf, len, "SYNC rd %" PRIu64, its_cmd_get_rdbase(c));
	case ITS_OP_MOVALL:
		return snprintf(buf, len, "MOVALL rd %" PRIu64 " -> %" PRIu64,
				its_cmd_get_rdbase(c), its_cmd_get_rdbase2(c));
	default:
		return snprintf(buf, len, "%s (opcode %#x)", name ? name : "?", op);
	}
}

int pits_format_finding(const struct pits_finding *f, char *buf, size_t len)
{
	char cmd[160] = "";
	char cause[128] = "cause unknown (no trace tied)";
	if (f->seq != UINT64_MAX || f->check == PITS_CHK_TRACE)
		pits_format_cmd(&f->cmd, cmd, sizeof(cmd));
	if (f->have_cause) {
		switch (f->cause) {
		case VITS_CAUSE_GUEST_CMD: {
			const char *n = its_cmd_name(f->cause_opcode);
			snprintf(cause, sizeof(cause),
				 "caused by domain %u guest %s at queue offset %#x", f->domain,
				 n ? n : "command", f->cause_offset);
			break;
		}
		case VITS_CAUSE_PROP_WRITE:
			snprintf(cause, sizeof(cause),
				 "caused by domain %u trapped property write of INTID %u",
				 f->domain, f->cause_offset);
			break;
		default:
			snprintf(cause, sizeof(cause), "caused by domain %u teardown", f->domain);
			break;
		}
	}
	const char *why = f->check == PITS_CHK_REF ? ref_reason_name(f->reason)
						    : pits_check_name(f->check);
	if (f->seq == UINT64_MAX)
		return snprintf(buf, len, "%s%s%s%s%s", why, f->detail[0] ? ": " : "",
				f->detail, cmd[0] ? "; " : "", cmd);
	return snprintf(buf, len, "%s (physical seq %" PRIu64 "): %s%s%s; %s", cmd, f->seq,
			why, f->detail[0] ? ", " : "", f->detail, cause);
}

/* ---- host ops ----------------------------------------------------------------------- */

static void *pits_h_alloc(void *ctx, size_t size)
{
	return calloc(1, size ? size : 1);
}

static void pits_h_free(void *ctx, void *ptr, size_t size)
{
	free(ptr);
}

static bool pits_full(const struct pits_model *m)
{
	return (m->cwriter + ITS_CMD_BYTES) % m->cfg.queue_bytes == m->creadr;
}

uint32_t pits_queued(const struct pits_model *m)
{
	return (uint32_t)(m->next_seq - m->head_seq);
}

uint32_t pits_capacity(const struct pits_model *m)
{
	return m->nslots - 1;
}

static int pits_h_phys_cmd(void *ctx, const struct its_cmd *cmd)
{
	struct pits_model *m = ctx;
	if (pits_full(m)) {
		m->st.refused++;
		return VITS_E_AGAIN;
	}
	struct pits_slot *s = &m->slots[m->cwriter / ITS_CMD_BYTES];
	memset(s, 0, sizeof(*s));
	s->cmd = *cmd;
	s->seq = m->next_seq++;
	m->cwriter = (m->cwriter + ITS_CMD_BYTES) % m->cfg.queue_bytes;
	m->st.accepted++;
	if (pits_queued(m) > m->st.max_depth)
		m->st.max_depth = pits_queued(m);
	return 0;
}

static struct pits_itt *pits_itt_find(struct pits_model *m, uint64_t pa, bool live)
{
	for (size_t i = 0; i < m->nitt; i++)
		if (m->itt[i].pa == pa && m->itt[i].live == live)
			return &m->itt[i];
	return NULL;
}

static bool pits_itt_referenced(const struct pits_model *m, uint64_t pa);

static int pits_h_itt_alloc(void *ctx, uint32_t pdevid, uint64_t bytes, uint64_t *pa)
{
	struct pits_model *m = ctx;
	uint64_t size = (bytes + 255) & ~(uint64_t)255;
	if (size == 0)
		size = 256;
	struct pits_itt *b = NULL;
	/* Reuse the most recently freed block of that size first, as an allocator with
	 * free lists does: a stale user of the block then collides with the new one.
	 * Unless strict_itt, a block the physical ITS may still use is quarantined. */
	for (size_t i = m->nitt; i-- > 0;) {
		if (!m->itt[i].live && m->itt[i].size == size &&
		    (m->cfg.strict_itt || !pits_itt_referenced(m, m->itt[i].pa))) {
			b = &m->itt[i];
			break;
		}
	}
	if (!b) {
		if (m->nitt == m->capitt) {
			size_t ncap = m->capitt ? m->capitt * 2 : 16;
			struct pits_itt *n = realloc(m->itt, ncap * sizeof(*n));
			if (!n)
				return VITS_E_NOMEM;
			m->itt = n;
			m->capitt = ncap;
		}
		b = &m->itt[m->nitt++];
		b->pa = m->itt_next;
		b->size = size;
		m->itt_next += size;
	}
	b->bytes = bytes;
	b->pdevid = pdevid;
	b->live = true;
	m->st.itt_allocs++;
	*pa = b->pa;
	return 0;
}

struct pits_itt_user {
	uint64_t pa;
	uint32_t skip_devid;
	bool skip;
	bool found;
	uint32_t devid;
};

static int pits_itt_user_fn(void *arg, const struct ref_device *d)
{
	struct pits_itt_user *u = arg;
	if (d->itt_addr != u->pa || (u->skip && d->devid == u->skip_devid))
		return 0;
	u->found = true;
	u->devid = d->devid;
	return 1;
}

/* Does a mapped device, or a MAPD V=1 still in the queue, name ITT pa? */
static bool pits_itt_referenced(const struct pits_model *m, uint64_t pa)
{
	struct pits_itt_user u = { .pa = pa };
	ref_foreach_device(m->ref, pits_itt_user_fn, &u);
	if (u.found)
		return true;
	for (uint32_t off = m->creadr; off != m->cwriter; off = (off + ITS_CMD_BYTES) %
							       m->cfg.queue_bytes) {
		const struct its_cmd *c = &m->slots[off / ITS_CMD_BYTES].cmd;
		if (its_cmd_get_opcode(c) == ITS_OP_MAPD && its_cmd_get_valid(c) &&
		    (its_cmd_get_itt_addr(c) << 8) == pa)
			return true;
	}
	return false;
}

static void pits_h_itt_free(void *ctx, uint32_t pdevid, uint64_t pa, uint64_t bytes)
{
	struct pits_model *m = ctx;
	struct pits_itt *b = pits_itt_find(m, pa, true);
	if (!b) {
		bool twice = pits_itt_find(m, pa, false) != NULL;
		pits_add_finding(m, PITS_CHK_ITT_FREE, VITS_R_NONE, NULL,
				 "%s ITT %#" PRIx64 " (pdev %#x, %" PRIu64 " bytes)",
				 twice ? "double free of" : "free of unknown", pa, pdevid, bytes);
		return;
	}
	if (b->bytes != bytes || b->pdevid != pdevid)
		pits_add_finding(m, PITS_CHK_ITT_FREE, VITS_R_NONE, NULL,
				 "ITT %#" PRIx64 " allocated for pdev %#x (%" PRIu64
				 " bytes), freed for pdev %#x (%" PRIu64 " bytes)",
				 pa, b->pdevid, b->bytes, pdevid, bytes);
	if (pits_itt_referenced(m, pa))
		m->st.itt_freed_in_use++;
	b->live = false;
	m->st.itt_frees++;
}

static void pits_h_prop_write(void *ctx, uint32_t plpi, uint8_t cfg)
{
	struct pits_model *m = ctx;
	m->st.prop_writes++;
	if (plpi < LPI_INTID_BASE || plpi - LPI_INTID_BASE >= m->cfg.nr_plpis) {
		pits_add_finding(m, PITS_CHK_PROP, VITS_R_NONE, NULL,
				 "prop_write(pLPI %u, %#x)", plpi, cfg);
		return;
	}
	m->prop[plpi - LPI_INTID_BASE] = cfg;
}

/* Commands phys_cmd accepted that the model has run: the engine's phys_done. */
static uint64_t pits_h_phys_done(void *ctx)
{
	struct pits_model *m = ctx;
	return m->st.accepted - pits_queued(m);
}

void pits_host_ops(struct vits_host_ops *ops)
{
	memset(ops, 0, sizeof(*ops));
	ops->sz = sizeof(*ops);
	ops->alloc = pits_h_alloc;
	ops->free = pits_h_free;
	ops->phys_cmd = pits_h_phys_cmd;
	ops->itt_alloc = pits_h_itt_alloc;
	ops->itt_free = pits_h_itt_free;
	ops->prop_write = pits_h_prop_write;
	ops->phys_done = pits_h_phys_done;
}

/* ---- cause tying ------------------------------------------------------------------------ */

void pits_note_trace(struct pits_model *m, const struct vits_event *ev)
{
	if (ev->type != VITS_EV_PHYS_CMD)
		return;
	struct pits_slot tmp = { .cmd = ev->u.phys.cmd, .seq = UINT64_MAX, .have_cause = true,
				 .domain = ev->domain, .cause = ev->u.phys.cause,
				 .cause_offset = ev->u.phys.cause_offset,
				 .cause_opcode = ev->u.phys.cause_opcode };
	if (m->traced_seq < m->head_seq)
		m->traced_seq = m->head_seq;   /* executed before any trace came: untied */
	if (m->traced_seq >= m->next_seq) {
		/* The engine accounted a command the queue never took: it is lost. */
		pits_add_finding(m, PITS_CHK_TRACE, VITS_R_NONE, &tmp,
				 "the engine reported a physical command the queue did not accept");
		return;
	}
	uint32_t idx = (uint32_t)((m->creadr / ITS_CMD_BYTES + (m->traced_seq - m->head_seq)) %
				  m->nslots);
	struct pits_slot *s = &m->slots[idx];
	if (memcmp(&s->cmd, &ev->u.phys.cmd, sizeof(s->cmd)) != 0) {
		char q[160];
		pits_format_cmd(&s->cmd, q, sizeof(q));
		tmp.seq = s->seq;
		pits_add_finding(m, PITS_CHK_TRACE, VITS_R_NONE, &tmp,
				 "traced command differs from queued %s", q);
	}
	s->have_cause = true;
	s->domain = tmp.domain;
	s->cause = tmp.cause;
	s->cause_offset = tmp.cause_offset;
	s->cause_opcode = tmp.cause_opcode;
	m->traced_seq++;
	m->st.traced++;
}

/* ---- execution ---------------------------------------------------------------------- */

static void pits_deliver_new(struct pits_model *m)
{
	size_t n;
	const struct ref_delivery *d = ref_deliveries(m->ref, &n);
	if (n == 0)
		return;
	struct ref_delivery *copy = malloc(n * sizeof(*copy));
	if (!copy)
		abort();
	memcpy(copy, d, n * sizeof(*copy));
	ref_clear_deliveries(m->ref);
	for (size_t i = 0; i < n; i++) {
		uint32_t idx = copy[i].intid - LPI_INTID_BASE;
		m->st.deliveries++;
		if (m->cfg.deliver)
			m->cfg.deliver(m->cfg.ctx, copy[i].intid, copy[i].vcpu,
				       m->src_dev[idx], m->src_ev[idx]);
	}
	free(copy);
}

struct pits_lpi_user {
	uint32_t intid;
	bool found;
	uint32_t devid, eventid;
};

static int pits_lpi_user_fn(void *arg, const struct ref_event *e)
{
	struct pits_lpi_user *u = arg;
	if (e->intid != u->intid)
		return 0;
	u->found = true;
	u->devid = e->devid;
	u->eventid = e->eventid;
	return 1;
}

/* The host's own checks, before the semantic core sees the command.  0 or a
 * finding recorded (returns -1). */
static int pits_host_checks(struct pits_model *m, const struct pits_slot *s)
{
	const struct its_cmd *c = &s->cmd;
	unsigned op = (unsigned)its_cmd_get_opcode(c);
	uint64_t devid = its_cmd_get_devid(c);
	struct ref_device rd;

	switch (op) {
	case ITS_OP_MAPD: {
		bool mapped = devid <= UINT32_MAX &&
			      ref_query_device(m->ref, (uint32_t)devid, &rd) == 0;
		if (!its_cmd_get_valid(c)) {
			if (!mapped && devid < ((uint64_t)1 << m->cfg.devid_bits)) {
				pits_add_finding(m, PITS_CHK_DEV_UNMAPPED, VITS_R_NONE, s, NULL);
				return -1;
			}
			return 0;
		}
		if (mapped) {
			pits_add_finding(m, PITS_CHK_DEV_MAPPED, VITS_R_NONE, s,
					 "mapped with itt %#" PRIx64, rd.itt_addr);
			return -1;
		}
		uint64_t itt = its_cmd_get_itt_addr(c) << 8;
		unsigned bits = (unsigned)its_cmd_get_size(c) + 1;
		const struct pits_itt *b = pits_itt_find(m, itt, true);
		if (!b) {
			const struct pits_itt *fb = pits_itt_find(m, itt, false);
			if (fb && !m->cfg.strict_itt) {
				/* Freed before this MAPD ran; quarantined, so nobody else
				 * has it: counted, not a finding (see strict_itt). */
				m->st.itt_used_after_free++;
				b = fb;
			} else {
				pits_add_finding(m, PITS_CHK_ITT, VITS_R_NONE, s,
						 "ITT %#" PRIx64 " is not allocated%s", itt,
						 fb ? " (freed before this MAPD ran)" : "");
				return -1;
			}
		}
		if (bits < 32 && b->bytes < ((uint64_t)8 << bits)) {
			pits_add_finding(m, PITS_CHK_ITT, VITS_R_NONE, s,
					 "ITT of %" PRIu64 " bytes for %u event bits", b->bytes,
					 bits);
			return -1;
		}
		struct pits_itt_user u = { .pa = itt };
		ref_foreach_device(m->ref, pits_itt_user_fn, &u);
		if (u.found) {
			pits_add_finding(m, PITS_CHK_ITT, VITS_R_NONE, s,
					 "ITT %#" PRIx64 " still used by mapped pdev %#x", itt,
					 u.devid);
			return -1;
		}
		return 0;
	}
	case ITS_OP_MAPTI:
	case ITS_OP_MAPI: {
		uint64_t intid = op == ITS_OP_MAPI ? its_cmd_get_eventid(c) : its_cmd_get_pintid(c);
		/* Let the core report the device/event problems first. */
		if (devid > UINT32_MAX || ref_query_device(m->ref, (uint32_t)devid, &rd) != 0)
			return 0;
		if (its_cmd_get_eventid(c) >= ((uint64_t)1 << rd.event_bits))
			return 0;
		struct ref_event re;
		if (ref_query_event(m->ref, (uint32_t)devid, (uint32_t)its_cmd_get_eventid(c),
				    &re) == 0)
			return 0;   /* EVENT_MAPPED from the core */
		if (intid < LPI_INTID_BASE || intid - LPI_INTID_BASE >= m->cfg.nr_plpis) {
			pits_add_finding(m, PITS_CHK_PLPI_RANGE, VITS_R_NONE, s, NULL);
			return -1;
		}
		struct pits_lpi_user u = { .intid = (uint32_t)intid };
		ref_foreach_event(m->ref, pits_lpi_user_fn, &u);
		if (u.found) {
			pits_add_finding(m, PITS_CHK_PLPI_MAPPED, VITS_R_NONE, s,
					 "pLPI %" PRIu64 " mapped by pdev %#x ev %#x", intid,
					 u.devid, u.eventid);
			return -1;
		}
		if (its_cmd_get_icid(c) >= m->cfg.nr_pcpus) {
			pits_add_finding(m, PITS_CHK_COLLECTION, VITS_R_NONE, s, NULL);
			return -1;
		}
		return 0;
	}
	case ITS_OP_MAPC:
		pits_add_finding(m, PITS_CHK_MAPC, VITS_R_NONE, s, NULL);
		return -1;
	default:
		return 0;
	}
}

/* Execute the command at CREADR: true when it ran without error. */
static bool pits_exec(struct pits_model *m, const struct pits_slot *s)
{
	int idx = its_cmd_index((unsigned)its_cmd_get_opcode(&s->cmd));
	if (idx >= 0)
		m->st.by_op[idx]++;
	m->st.processed++;
	if (pits_host_checks(m, s) < 0) {
		m->st.errors++;
		return false;
	}
	if (its_cmd_get_opcode(&s->cmd) == ITS_OP_INT) {
		/* An INT makes the event's LPI pending as the device would: it is the
		 * source the isolation check names. */
		uint32_t pdevid = (uint32_t)its_cmd_get_devid(&s->cmd);
		uint32_t eventid = (uint32_t)its_cmd_get_eventid(&s->cmd);
		struct ref_event e;
		if (ref_query_event(m->ref, pdevid, eventid, &e) == 0 && e.intid >= LPI_INTID_BASE &&
		    e.intid - LPI_INTID_BASE < m->cfg.nr_plpis) {
			m->src_dev[e.intid - LPI_INTID_BASE] = pdevid;
			m->src_ev[e.intid - LPI_INTID_BASE] = eventid;
		}
	}
	enum vits_reason why = ref_cmd(m->ref, &s->cmd);
	if (why != VITS_R_NONE) {
		m->st.errors++;
		pits_add_finding(m, PITS_CHK_REF, why, s, NULL);
		return false;
	}
	pits_deliver_new(m);
	return true;
}

/* The command of slot s left the queue (run, or skipped past): one more of its
 * domain's commands completed. */
static void slot_done(struct pits_model *m, const struct pits_slot *s)
{
	if (s->have_cause && s->domain < PITS_MAX_DOMAINS)
		m->done_dom[s->domain]++;
}

uint64_t pits_done_by_domain(const struct pits_model *m, uint16_t domain)
{
	return domain < PITS_MAX_DOMAINS ? m->done_dom[domain] : 0;
}

unsigned pits_process(struct pits_model *m, unsigned max)
{
	unsigned done = 0;
	while (done < max && !m->stalled && m->creadr != m->cwriter) {
		const struct pits_slot *s = &m->slots[m->creadr / ITS_CMD_BYTES];
		bool ok = pits_exec(m, s);
		done++;
		if (!ok && !m->cfg.skip_errors) {
			/* IMPDEF (hardware may): CREADR stays on the failed command. */
			m->stalled = true;
			m->st.stalls++;
			break;
		}
		slot_done(m, s);
		m->creadr = (m->creadr + ITS_CMD_BYTES) % m->cfg.queue_bytes;
		m->head_seq++;
	}
	return done;
}

unsigned pits_drain(struct pits_model *m)
{
	return pits_process(m, UINT32_MAX);
}

void pits_skip_stalled(struct pits_model *m)
{
	if (!m->stalled)
		return;
	m->stalled = false;
	slot_done(m, &m->slots[m->creadr / ITS_CMD_BYTES]);
	m->creadr = (m->creadr + ITS_CMD_BYTES) % m->cfg.queue_bytes;
	m->head_seq++;
}

/* ---- devices ---------------------------------------------------------------------------- */

enum vits_reason pits_msi(struct pits_model *m, uint32_t pdevid, uint32_t eventid)
{
	m->st.msis++;
	if (m->stalled) {
		/* The worst case hardware may show (ITS-FACTS.md): a stalled ITS stops
		 * interrupt delivery for every domain. */
		m->st.msis_dropped++;
		return VITS_R_ITS_DISABLED;
	}
	struct ref_event e;
	if (ref_query_event(m->ref, pdevid, eventid, &e) == 0 && e.intid >= LPI_INTID_BASE &&
	    e.intid - LPI_INTID_BASE < m->cfg.nr_plpis) {
		m->src_dev[e.intid - LPI_INTID_BASE] = pdevid;
		m->src_ev[e.intid - LPI_INTID_BASE] = eventid;
	}
	enum vits_reason why = ref_msi(m->ref, pdevid, eventid);
	if (why != VITS_R_NONE)
		m->st.msis_dropped++;
	pits_deliver_new(m);
	return why;
}

/* ---- queries ------------------------------------------------------------------------------ */

bool pits_stalled(const struct pits_model *m)
{
	return m->stalled;
}

void pits_queue_regs(const struct pits_model *m, uint32_t *creadr, uint32_t *cwriter)
{
	if (creadr)
		*creadr = m->creadr;
	if (cwriter)
		*cwriter = m->cwriter;
}

int pits_set_queue_bytes(struct pits_model *m, uint32_t bytes)
{
	if (m->creadr != m->cwriter || bytes % ITS_CMD_BYTES || bytes < 2 * ITS_CMD_BYTES)
		return -1;
	struct pits_slot *n = calloc(bytes / ITS_CMD_BYTES, sizeof(*n));
	if (!n)
		return -1;
	free(m->slots);
	m->slots = n;
	m->nslots = bytes / ITS_CMD_BYTES;
	m->cfg.queue_bytes = bytes;
	m->creadr = m->cwriter = 0;
	return 0;
}

int pits_lpi_pending(const struct pits_model *m, uint32_t plpi)
{
	struct ref_lpi l;
	if (ref_query_lpi(m->ref, plpi, &l) != 0)
		return -1;
	return l.pending ? 1 : 0;
}

int pits_lpi_cfg(const struct pits_model *m, uint32_t plpi, uint8_t *cfg)
{
	struct ref_lpi l;
	if (ref_query_lpi(m->ref, plpi, &l) != 0)
		return -1;
	*cfg = l.cfg;
	return 0;
}

int pits_device_mapped(const struct pits_model *m, uint32_t pdevid)
{
	struct ref_device d;
	return ref_query_device(m->ref, pdevid, &d) == 0 ? 0 : -1;
}

int pits_query_event(const struct pits_model *m, uint32_t pdevid, uint32_t eventid,
		     uint32_t *plpi, uint32_t *pcpu)
{
	struct ref_event e;
	if (ref_query_event(m->ref, pdevid, eventid, &e) != 0)
		return -1;
	if (plpi)
		*plpi = e.intid;
	if (pcpu)
		*pcpu = e.icid;   /* host collection p is PE p */
	return 0;
}

const struct ref *pits_ref(const struct pits_model *m)
{
	return m->ref;
}

const uint8_t *pits_host_prop(const struct pits_model *m)
{
	return m->prop;
}

uint64_t pits_itt_live(const struct pits_model *m)
{
	uint64_t n = 0;
	for (size_t i = 0; i < m->nitt; i++)
		n += m->itt[i].live;
	return n;
}

unsigned pits_check_leaks(struct pits_model *m)
{
	unsigned n = 0;
	for (size_t i = 0; i < m->nitt; i++) {
		if (!m->itt[i].live)
			continue;
		n++;
		pits_add_finding(m, PITS_CHK_ITT_LEAK, VITS_R_NONE, NULL,
				 "ITT %#" PRIx64 " of pdev %#x (%" PRIu64 " bytes)",
				 m->itt[i].pa, m->itt[i].pdevid, m->itt[i].bytes);
	}
	return n;
}

const struct pits_stats *pits_get_stats(const struct pits_model *m)
{
	return &m->st;
}
