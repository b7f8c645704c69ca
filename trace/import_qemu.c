/*
 * import_qemu.c: QEMU's `-trace 'gicv3_its*'` log to an .itr trace.
 *
 * Each line is matched whole against the format string QEMU's trace-events file gives
 * the event (hw/intc/trace-events), so a line either parses exactly or is reported as
 * malformed with its number.  What the log says becomes records:
 *
 *   gicv3_its_read/write        MMIO_READ / MMIO_WRITE (bad* with ITR_RF_BAD_ACCESS)
 *   process_command + cmd_*     MEM_READ of the slot (the 32 bytes re-encoded with the
 *                               shared encoders) and CMD at its slot
 *   translation_write           MSI (requester_id is the DeviceID, data the EventID)
 *   dte/ite/cte_write           EXP_DTE / EXP_ITE / EXP_CTE: what QEMU's ITS did
 *   table reads and faults      nothing (QEMU's internal lookups), counted as ignored
 *
 * Gaps (DESIGN.md "Traces with gaps"): QEMU prints neither SYNC's RDbase nor INVALL's
 * ICID; the importer fills them by the Linux driver's rules and marks them inferred.
 * Command outcomes are not in the log: CMD records say "unobserved".
 *
 * Order: QEMU traces a register write after the handler returns, so the commands a
 * CWRITER (or GITS_CTLR) write ran appear before the write.  The importer holds them
 * and writes the register write first, as the engine sees it.
 *
 * QEMU 7.2 quirks: the processing offset is in units of commands; dte_write prints
 * ITTaddr >> 8 (dte_read and ite_* print the address).
 */
#define _POSIX_C_SOURCE 200809L
#include "itr_import.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "itr_encode.h"
#include "itr_writer.h"

enum ev_kind {
	E_READ, E_BADREAD, E_WRITE, E_BADWRITE, E_MSI, E_PROCESS, E_CMD, E_CMD_UNKNOWN,
	E_DTE, E_ITE, E_CTE, E_IGNORE,
};

/* Operand layouts of the command lines. */
enum cmd_shape {
	S_NONE, S_DEV_EV, S_MAPD, S_MAPC, S_DEV_EV_ICID, S_MAPTI, S_MOVALL, S_VMAPI, S_VMAPTI,
	S_VMAPP, S_VMOVP, S_VMOVI, S_VPE,
};

struct ev_row {
	const char *name;
	const char *tmpl;       /* QEMU's format; %x hex digits, %u and %d decimal */
	enum ev_kind kind;
	unsigned opcode;
	enum cmd_shape shape;
};

static const struct ev_row rows[] = {
	{ "gicv3_its_read", "GICv3 ITS read: offset 0x%x data 0x%x size %u", E_READ, 0, 0 },
	{ "gicv3_its_badread", "GICv3 ITS read: offset 0x%x size %u: error", E_BADREAD, 0, 0 },
	{ "gicv3_its_write", "GICv3 ITS write: offset 0x%x data 0x%x size %u", E_WRITE, 0, 0 },
	{ "gicv3_its_badwrite", "GICv3 ITS write: offset 0x%x data 0x%x size %u: error",
	  E_BADWRITE, 0, 0 },
	{ "gicv3_its_translation_write",
	  "GICv3 ITS TRANSLATER write: offset 0x%x data 0x%x size %u requester_id 0x%x",
	  E_MSI, 0, 0 },
	{ "gicv3_its_process_command", "GICv3 ITS: processing command at offset 0x%x: 0x%x",
	  E_PROCESS, 0, 0 },
	{ "gicv3_its_cmd_int", "GICv3 ITS: command INT DeviceID 0x%x EventID 0x%x",
	  E_CMD, ITS_OP_INT, S_DEV_EV },
	{ "gicv3_its_cmd_clear", "GICv3 ITS: command CLEAR DeviceID 0x%x EventID 0x%x",
	  E_CMD, ITS_OP_CLEAR, S_DEV_EV },
	{ "gicv3_its_cmd_discard", "GICv3 ITS: command DISCARD DeviceID 0x%x EventID 0x%x",
	  E_CMD, ITS_OP_DISCARD, S_DEV_EV },
	{ "gicv3_its_cmd_sync", "GICv3 ITS: command SYNC", E_CMD, ITS_OP_SYNC, S_NONE },
	{ "gicv3_its_cmd_mapd",
	  "GICv3 ITS: command MAPD DeviceID 0x%x Size 0x%x ITT_addr 0x%x V %d",
	  E_CMD, ITS_OP_MAPD, S_MAPD },
	{ "gicv3_its_cmd_mapc", "GICv3 ITS: command MAPC ICID 0x%x RDbase 0x%x V %d",
	  E_CMD, ITS_OP_MAPC, S_MAPC },
	{ "gicv3_its_cmd_mapi", "GICv3 ITS: command MAPI DeviceID 0x%x EventID 0x%x ICID 0x%x",
	  E_CMD, ITS_OP_MAPI, S_DEV_EV_ICID },
	{ "gicv3_its_cmd_mapti",
	  "GICv3 ITS: command MAPTI DeviceID 0x%x EventID 0x%x ICID 0x%x pINTID 0x%x",
	  E_CMD, ITS_OP_MAPTI, S_MAPTI },
	{ "gicv3_its_cmd_inv", "GICv3 ITS: command INV DeviceID 0x%x EventID 0x%x",
	  E_CMD, ITS_OP_INV, S_DEV_EV },
	{ "gicv3_its_cmd_invall", "GICv3 ITS: command INVALL", E_CMD, ITS_OP_INVALL, S_NONE },
	{ "gicv3_its_cmd_movall", "GICv3 ITS: command MOVALL RDbase1 0x%x RDbase2 0x%x",
	  E_CMD, ITS_OP_MOVALL, S_MOVALL },
	{ "gicv3_its_cmd_movi", "GICv3 ITS: command MOVI DeviceID 0x%x EventID 0x%x ICID 0x%x",
	  E_CMD, ITS_OP_MOVI, S_DEV_EV_ICID },
	{ "gicv3_its_cmd_vmapi",
	  "GICv3 ITS: command VMAPI DeviceID 0x%x EventID 0x%x vPEID 0x%x Dbell_pINTID 0x%x",
	  E_CMD, ITS_OP_VMAPI, S_VMAPI },
	/* QEMU names VMAPTI "VMAPI" in its text; the event name tells them apart. */
	{ "gicv3_its_cmd_vmapti",
	  "GICv3 ITS: command VMAPI DeviceID 0x%x EventID 0x%x vPEID 0x%x vINTID 0x%x "
	  "Dbell_pINTID 0x%x", E_CMD, ITS_OP_VMAPTI, S_VMAPTI },
	{ "gicv3_its_cmd_vmapp",
	  "GICv3 ITS: command VMAPP vPEID 0x%x RDbase 0x%x V %d VPT_addr 0x%x VPT_size 0x%x",
	  E_CMD, ITS_OP_VMAPP, S_VMAPP },
	{ "gicv3_its_cmd_vmovp", "GICv3 ITS: command VMOVP vPEID 0x%x RDbase 0x%x",
	  E_CMD, ITS_OP_VMOVP, S_VMOVP },
	{ "gicv3_its_cmd_vsync", "GICv3 ITS: command VSYNC", E_CMD, ITS_OP_VSYNC, S_NONE },
	{ "gicv3_its_cmd_vmovi",
	  "GICv3 ITS: command VMOVI DeviceID 0x%x EventID 0x%x vPEID 0x%x D %d Dbell_pINTID 0x%x",
	  E_CMD, ITS_OP_VMOVI, S_VMOVI },
	{ "gicv3_its_cmd_vinvall", "GICv3 ITS: command VINVALL vPEID 0x%x",
	  E_CMD, ITS_OP_VINVALL, S_VPE },
	{ "gicv3_its_cmd_unknown", "GICv3 ITS: unknown command 0x%x", E_CMD_UNKNOWN, 0, 0 },
	{ "gicv3_its_cte_read",
	  "GICv3 ITS: Collection Table read for ICID 0x%x: valid %d RDBase 0x%x", E_IGNORE, 0, 0 },
	{ "gicv3_its_cte_write",
	  "GICv3 ITS: Collection Table write for ICID 0x%x: valid %d RDBase 0x%x", E_CTE, 0, 0 },
	{ "gicv3_its_cte_read_fault", "GICv3 ITS: Collection Table read for ICID 0x%x: faulted",
	  E_IGNORE, 0, 0 },
	{ "gicv3_its_ite_read",
	  "GICv3 ITS: Interrupt Table read for ITTaddr 0x%x EventID 0x%x: valid %d inttype %d "
	  "intid 0x%x ICID 0x%x vPEID 0x%x doorbell 0x%x", E_IGNORE, 0, 0 },
	{ "gicv3_its_ite_read_fault",
	  "GICv3 ITS: Interrupt Table read for ITTaddr 0x%x EventID 0x%x: faulted", E_IGNORE, 0, 0 },
	{ "gicv3_its_ite_write",
	  "GICv3 ITS: Interrupt Table write for ITTaddr 0x%x EventID 0x%x: valid %d inttype %d "
	  "intid 0x%x ICID 0x%x vPEID 0x%x doorbell 0x%x", E_ITE, 0, 0 },
	{ "gicv3_its_dte_read",
	  "GICv3 ITS: Device Table read for DeviceID 0x%x: valid %d size 0x%x ITTaddr 0x%x",
	  E_IGNORE, 0, 0 },
	{ "gicv3_its_dte_write",
	  "GICv3 ITS: Device Table write for DeviceID 0x%x: valid %d size 0x%x ITTaddr 0x%x",
	  E_DTE, 0, 0 },
	{ "gicv3_its_dte_read_fault", "GICv3 ITS: Device Table read for DeviceID 0x%x: faulted",
	  E_IGNORE, 0, 0 },
	{ "gicv3_its_vte_read",
	  "GICv3 ITS: vPE Table read for vPEID 0x%x: valid %d VPTsize 0x%x VPTaddr 0x%x "
	  "RDbase 0x%x", E_IGNORE, 0, 0 },
	{ "gicv3_its_vte_read_fault", "GICv3 ITS: vPE Table read for vPEID 0x%x: faulted",
	  E_IGNORE, 0, 0 },
	{ "gicv3_its_vte_write",
	  "GICv3 ITS: vPE Table write for vPEID 0x%x: valid %d VPTsize 0x%x VPTaddr 0x%x "
	  "RDbase 0x%x", E_IGNORE, 0, 0 },
};

#define MAX_VALS 8
#define LINE_MAX_LEN 4096
#define DIAG_TEXT 200

/* ---- A small map of (u64, u64) keys to u64 values (open addressing) ------------------- */

struct map_ent {
	uint64_t k1, k2, v;
	int used;
};

struct map {
	struct map_ent *e;
	size_t cap, n;
};

static size_t map_hash(uint64_t a, uint64_t b, size_t cap)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull) * 0xc2b2ae3d27d4eb4full;
	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static struct map_ent *map_find(struct map *m, uint64_t a, uint64_t b)
{
	if (!m->cap)
		return NULL;
	for (size_t i = map_hash(a, b, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (!m->e[i].used)
			return NULL;
		if (m->e[i].k1 == a && m->e[i].k2 == b)
			return &m->e[i];
	}
}

static int map_put(struct map *m, uint64_t a, uint64_t b, uint64_t v)
{
	struct map_ent *f = map_find(m, a, b);
	if (f) {
		f->v = v;
		return 0;
	}
	if ((m->n + 1) * 2 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 64;
		struct map_ent *ne = calloc(nc, sizeof(*ne));
		if (!ne)
			return ITR_E_NOMEM;
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->e[i].used)
				continue;
			size_t j = map_hash(m->e[i].k1, m->e[i].k2, nc);
			while (ne[j].used)
				j = (j + 1) & (nc - 1);
			ne[j] = m->e[i];
		}
		free(m->e);
		m->e = ne;
		m->cap = nc;
	}
	size_t j = map_hash(a, b, m->cap);
	while (m->e[j].used)
		j = (j + 1) & (m->cap - 1);
	m->e[j] = (struct map_ent){ a, b, v, 1 };
	m->n++;
	return 0;
}

/* ---- Importer state -------------------------------------------------------------------- */

/* A record held until the register write that caused it has been written. */
struct held {
	uint8_t type, flags;
	uint16_t len;
	uint64_t ts;
	uint8_t payload[48];
};

struct imp {
	gzFile gz;
	struct itr_writer *w;
	struct itr_import_opts o;
	struct itr_import_result *res;
	uint64_t line_no;
	const char *line;       /* the line being handled, for diagnostics */
	uint64_t ts;            /* of the current line, relative to the first */
	int have_ts;
	uint64_t t0;
	int err;

	uint64_t cbaser;
	int cbaser_known;

	struct held *held;
	size_t nheld, capheld;
	uint64_t batch_ts;      /* time of the first line of the held batch */

	/* The command being processed (from its "processing command" line). */
	int pend, pend_done;
	uint32_t slot;
	unsigned opcode;
	struct its_cmd cmd;
	int has_devev;
	uint32_t slot_last;
	int have_slot;
	uint64_t mapd_itt_field;

	/* Inference state, from QEMU's own table writes. */
	struct map dte;         /* devid -> itt address | valid << 63 */
	struct map ite;         /* (itt, eventid) -> icid | valid << 63 */
	struct map cte;         /* icid -> rdbase | valid << 63 */
	int prev_col;           /* the previous command's collection: 0 none, 1 icid, 2 rd */
	uint64_t prev_icid, prev_rd;
	int have_mapc;
	uint64_t last_mapc_icid;
};

static void diag(struct imp *im, enum itr_diag_kind k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void diag(struct imp *im, enum itr_diag_kind k, const char *fmt, ...)
{
	if (k == ITR_DIAG_UNKNOWN)
		im->res->unknown++;
	else if (k == ITR_DIAG_MALFORMED)
		im->res->malformed++;
	else
		im->res->warnings++;
	if (!im->o.on_diag)
		return;
	char why[200], text[DIAG_TEXT + 4];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(text, sizeof(text), "%.*s%s", DIAG_TEXT, im->line ? im->line : "",
		 im->line && strlen(im->line) > DIAG_TEXT ? "..." : "");
	struct itr_import_diag d = { k, im->line_no, text, why };
	im->o.on_diag(im->o.ctx, &d);
}

/*
 * Match s against template t: literal characters must be equal, %x takes 1..16 hex
 * digits, %u and %d decimal digits (%d an optional '-').  The whole line must match
 * (trailing blanks aside).  Returns the number of values, or -1.
 */
static int match(const char *t, const char *s, uint64_t *v)
{
	int n = 0;
	while (*t) {
		if (t[0] != '%') {
			if (*s++ != *t++)
				return -1;
			continue;
		}
		char kind = t[1];
		t += 2;
		uint64_t x = 0;
		int digits = 0, neg = 0;
		if (kind == 'x') {
			for (;; s++, digits++) {
				int d;
				if (*s >= '0' && *s <= '9')
					d = *s - '0';
				else if (*s >= 'a' && *s <= 'f')
					d = *s - 'a' + 10;
				else if (*s >= 'A' && *s <= 'F')
					d = *s - 'A' + 10;
				else
					break;
				if (digits >= 16)
					return -1;
				x = x << 4 | (uint64_t)d;
			}
		} else {
			if (kind == 'd' && *s == '-') {
				neg = 1;
				s++;
			}
			for (; *s >= '0' && *s <= '9'; s++, digits++) {
				uint64_t d = (uint64_t)(*s - '0');
				if (x > (UINT64_MAX - d) / 10)
					return -1;
				x = x * 10 + d;
			}
		}
		if (!digits || n >= MAX_VALS)
			return -1;
		v[n++] = neg ? (uint64_t)-(int64_t)x : x;
	}
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return *s ? -1 : n;
}

/* ---- Output ----------------------------------------------------------------------------- */

static void put_rec(struct imp *im, uint8_t type, uint8_t flags, const uint8_t *p, uint32_t len,
		    uint64_t ts)
{
	struct itr_rec r = { .type = type, .flags = flags, .domain = im->o.domain,
			     .cpu = ITR_CPU_UNKNOWN, .ts = ts, .len = len, .payload = p };
	int rc = itr_writer_add(im->w, &r);
	if (rc && !im->err)
		im->err = rc;
	im->res->records++;
	if (flags & ITR_RF_INFERRED)
		im->res->inferred++;
}

/* Hold a record of the command batch. */
static void hold(struct imp *im, uint8_t type, uint8_t flags, const uint8_t *p, uint32_t len)
{
	if (im->nheld == im->capheld) {
		size_t nc = im->capheld ? im->capheld * 2 : 256;
		struct held *nh = realloc(im->held, nc * sizeof(*nh));
		if (!nh) {
			im->err = ITR_E_NOMEM;
			return;
		}
		im->held = nh;
		im->capheld = nc;
	}
	struct held *h = &im->held[im->nheld++];
	h->type = type;
	h->flags = flags;
	h->len = (uint16_t)len;
	h->ts = im->ts;
	memcpy(h->payload, p, len);
}

static void flush_held(struct imp *im)
{
	for (size_t i = 0; i < im->nheld; i++)
		put_rec(im, im->held[i].type, im->held[i].flags, im->held[i].payload,
			im->held[i].len, im->held[i].ts);
	im->nheld = 0;
}

static void hold_inferred(struct imp *im, uint16_t rule, uint8_t target, uint32_t fields)
{
	uint8_t p[ITR_PL_INFERRED];
	itr_put16(p, rule);
	p[2] = target;
	p[3] = 0;
	itr_put32(p + 4, fields);
	hold(im, ITR_REC_INFERRED, 0, p, sizeof(p));
}

/* ---- Commands ---------------------------------------------------------------------------- */

static uint64_t cbaser_pa(uint64_t cbaser)
{
	return GITS_FIELD_GET(cbaser, CBASER, PA) << 12;
}

static uint32_t queue_bytes(uint64_t cbaser)
{
	return (uint32_t)(GITS_FIELD_GET(cbaser, CBASER, SIZE) + 1) * ITS_CMDQ_PAGE;
}

/* The collection a (devid, eventid) is mapped to in QEMU's tables, or -1. */
static int64_t event_col(struct imp *im, uint64_t devid, uint64_t ev)
{
	struct map_ent *d = map_find(&im->dte, devid, 0);
	if (!d || !(d->v >> 63))
		return -1;
	struct map_ent *i = map_find(&im->ite, d->v & ~(1ull << 63), ev);
	if (!i || !(i->v >> 63))
		return -1;
	return (int64_t)(i->v & 0xffff);
}

/* Fill the operands QEMU did not print, by the Linux driver's rules. */
static void infer(struct imp *im, uint16_t *rule, uint32_t *fields)
{
	struct its_cmd *c = &im->cmd;
	if (im->opcode == ITS_OP_SYNC) {
		*fields |= ITR_CMDF_RDBASE;
		struct map_ent *e;
		if (im->prev_col == 2) {
			its_cmd_set_rdbase(c, im->prev_rd);
			*rule = ITR_RULE_LINUX_SYNC_TARGET;
		} else if (im->prev_col == 1 && (e = map_find(&im->cte, im->prev_icid, 0)) &&
			   (e->v >> 63)) {
			its_cmd_set_rdbase(c, e->v & ~(1ull << 63));
			*rule = ITR_RULE_LINUX_SYNC_TARGET;
		} else {
			*rule = ITR_RULE_UNRESOLVED_ZERO;
		}
	} else if (im->opcode == ITS_OP_INVALL) {
		*fields |= ITR_CMDF_ICID;
		if (im->have_mapc) {
			its_cmd_set_icid(c, im->last_mapc_icid);
			*rule = ITR_RULE_LINUX_INVALL_AFTER_MAPC;
		} else {
			*rule = ITR_RULE_UNRESOLVED_ZERO;
		}
	}
}

/* Remember which collection this command used, for the SYNC after it. */
static void note_collection(struct imp *im)
{
	const struct its_cmd *c = &im->cmd;
	int64_t col;
	im->prev_col = 0;
	switch (im->opcode) {
	case ITS_OP_MAPC:
		im->prev_col = 2;
		im->prev_rd = its_cmd_get_rdbase(c);
		im->have_mapc = 1;
		im->last_mapc_icid = its_cmd_get_icid(c);
		break;
	case ITS_OP_MAPTI:
	case ITS_OP_MAPI:
	case ITS_OP_INVALL:
		im->prev_col = 1;
		im->prev_icid = its_cmd_get_icid(c);
		break;
	case ITS_OP_MOVI:
	case ITS_OP_DISCARD:
	case ITS_OP_INV:
	case ITS_OP_INT:
	case ITS_OP_CLEAR:
		/* The event's collection before the command ran (Linux's MOVI syncs the
		 * old one); QEMU's table writes for this command come after this line. */
		col = event_col(im, its_cmd_get_devid(c), its_cmd_get_eventid(c));
		if (col >= 0) {
			im->prev_col = 1;
			im->prev_icid = (uint64_t)col;
		}
		break;
	}
}

/* Write the held MEM_READ and CMD records of the pending command. */
static void finish_cmd(struct imp *im, uint32_t fields_unprinted, uint16_t rule_unprinted)
{
	if (!im->pend || im->pend_done)
		return;
	im->pend_done = 1;
	uint16_t rule = 0;
	uint32_t fields = 0;
	infer(im, &rule, &fields);
	note_collection(im);

	uint8_t cmdb[ITS_CMD_BYTES];
	its_cmd_to_bytes(&im->cmd, cmdb);

	/* The slot as guest memory. */
	uint8_t mp[ITR_PL_MEM_READ + ITS_CMD_BYTES];
	uint64_t off = (uint64_t)im->slot * ITS_CMD_BYTES;
	uint64_t gpa = im->cbaser_known ? cbaser_pa(im->cbaser) + off : off;
	itr_encode_mem_prefix(mp, gpa, 0, ITS_CMD_BYTES);
	memcpy(mp + ITR_PL_MEM_READ, cmdb, ITS_CMD_BYTES);
	uint8_t mflags = 0;
	if (!im->cbaser_known) {
		hold_inferred(im, ITR_RULE_CMDQ_BASE_UNKNOWN, ITR_REC_MEM_READ, ITR_CMDF_ADDRESS);
		mflags = ITR_RF_INFERRED;
	}
	if (rule) {
		hold_inferred(im, rule, ITR_REC_MEM_READ, fields);
		mflags = ITR_RF_INFERRED;
	}
	if (rule_unprinted) {
		hold_inferred(im, rule_unprinted, ITR_REC_MEM_READ, fields_unprinted);
		mflags = ITR_RF_INFERRED;
	}
	hold(im, ITR_REC_MEM_READ, mflags, mp, sizeof(mp));

	uint8_t cp[ITR_PL_CMD];
	itr_put16(cp, (uint16_t)im->slot);
	cp[2] = ITR_OUTCOME_UNOBSERVED;
	cp[3] = ITR_REASON_UNOBSERVED;
	memcpy(cp + 4, cmdb, ITS_CMD_BYTES);
	uint8_t cflags = 0;
	if (rule) {
		hold_inferred(im, rule, ITR_REC_CMD, fields);
		cflags = ITR_RF_INFERRED;
	}
	if (rule_unprinted) {
		hold_inferred(im, rule_unprinted, ITR_REC_CMD, fields_unprinted);
		cflags = ITR_RF_INFERRED;
	}
	hold(im, ITR_REC_CMD, cflags, cp, sizeof(cp));

	im->res->commands++;
	int idx = its_cmd_index(im->opcode);
	if (idx >= 0)
		im->res->by_command[idx]++;
	else
		im->res->other_commands++;
}

static void on_process(struct imp *im, const uint64_t *v)
{
	/* A command whose operands line never came is kept with its opcode alone. */
	if (im->pend && !im->pend_done)
		finish_cmd(im, ~ITR_CMDF_OPCODE & ((1u << ITR_CMDF_COUNT_BITS) - 1),
			   ITR_RULE_QEMU_UNPRINTED);
	if (v[0] > 0x7fff || v[1] > 0xff) {
		diag(im, ITR_DIAG_MALFORMED, "command slot or opcode out of range");
		im->pend = 0;
		return;
	}
	if (!im->nheld)
		im->batch_ts = im->ts;
	im->pend = 1;
	im->pend_done = 0;
	im->slot = (uint32_t)v[0];
	im->opcode = (unsigned)v[1];
	im->cmd = its_mk(im->opcode);
	im->has_devev = 0;
	if (im->cbaser_known && im->slot * ITS_CMD_BYTES >= queue_bytes(im->cbaser))
		diag(im, ITR_DIAG_WARNING, "command slot %u beyond the queue (CBASER size)",
		     im->slot);
	if (im->have_slot && im->slot < im->slot_last)
		im->res->queue_wraps++;
	im->slot_last = im->slot;
	im->have_slot = 1;
}

static void on_cmd(struct imp *im, const struct ev_row *row, const uint64_t *v)
{
	if (!im->pend || im->pend_done) {
		diag(im, ITR_DIAG_WARNING, "command line without its \"processing command\" line");
		return;
	}
	unsigned op = row->kind == E_CMD_UNKNOWN ? (unsigned)v[0] : row->opcode;
	if (op != im->opcode)
		diag(im, ITR_DIAG_WARNING, "opcode 0x%x here, 0x%x in the processing line",
		     op, im->opcode);
	struct its_cmd *c = &im->cmd;
	uint32_t unprinted = 0;
	uint16_t rule = 0;
	switch (row->kind == E_CMD_UNKNOWN ? S_NONE : row->shape) {
	case S_NONE:
		if (row->kind == E_CMD_UNKNOWN || op == ITS_OP_VSYNC) {
			unprinted = ~ITR_CMDF_OPCODE & ((1u << ITR_CMDF_COUNT_BITS) - 1);
			rule = ITR_RULE_QEMU_UNPRINTED;
		}
		break;
	case S_DEV_EV:
		its_cmd_set_devid(c, v[0]);
		its_cmd_set_eventid(c, v[1]);
		im->has_devev = 1;
		break;
	case S_MAPD:
		its_cmd_set_devid(c, v[0]);
		its_cmd_set_size(c, v[1]);
		its_cmd_set_itt_addr(c, v[2]);   /* QEMU prints the field (address >> 8) */
		its_cmd_set_valid(c, v[3]);
		im->mapd_itt_field = v[2];
		break;
	case S_MAPC:
		its_cmd_set_icid(c, v[0]);
		its_cmd_set_rdbase(c, v[1]);
		its_cmd_set_valid(c, v[2]);
		break;
	case S_DEV_EV_ICID:
		its_cmd_set_devid(c, v[0]);
		its_cmd_set_eventid(c, v[1]);
		its_cmd_set_icid(c, v[2]);
		im->has_devev = 1;
		break;
	case S_MAPTI:
		its_cmd_set_devid(c, v[0]);
		its_cmd_set_eventid(c, v[1]);
		its_cmd_set_icid(c, v[2]);
		its_cmd_set_pintid(c, v[3]);
		im->has_devev = 1;
		break;
	case S_MOVALL:
		its_cmd_set_rdbase(c, v[0]);
		its_cmd_set_rdbase2(c, v[1]);
		break;
	case S_VMAPI:
	case S_VMAPTI:
	case S_VMOVI:
		its_cmd_set_devid(c, v[0]);
		its_cmd_set_eventid(c, v[1]);
		its_cmd_set_vpeid(c, v[2]);
		im->has_devev = 1;
		unprinted = ITR_CMDF_GICV4;
		rule = ITR_RULE_NOT_ENCODABLE;
		break;
	case S_VMAPP:
		its_cmd_set_vpeid(c, v[0]);
		its_cmd_set_rdbase(c, v[1]);
		its_cmd_set_valid(c, v[2]);
		unprinted = ITR_CMDF_GICV4;
		rule = ITR_RULE_NOT_ENCODABLE;
		break;
	case S_VMOVP:
		its_cmd_set_vpeid(c, v[0]);
		its_cmd_set_rdbase(c, v[1]);
		unprinted = ITR_CMDF_GICV4;
		rule = ITR_RULE_QEMU_UNPRINTED;
		break;
	case S_VPE:
		its_cmd_set_vpeid(c, v[0]);
		break;
	}
	finish_cmd(im, unprinted, rule);
}

/* ---- Expected effects --------------------------------------------------------------------- */

static void on_dte(struct imp *im, const uint64_t *v)
{
	/* QEMU 7.2 prints the ITT address >> 8 here; a version that prints the address
	 * is recognised by comparison with the MAPD it belongs to. */
	uint64_t itt = v[3] << 8;
	if (im->pend && im->opcode == ITS_OP_MAPD && v[3] == im->mapd_itt_field << 8)
		itt = v[3];
	uint8_t p[ITR_PL_EXP_DTE] = { 0 };
	itr_put32(p, (uint32_t)v[0]);
	p[4] = (uint8_t)v[1];
	p[5] = (uint8_t)v[2];
	itr_put64(p + 8, itt);
	hold(im, ITR_REC_EXP_DTE, 0, p, sizeof(p));
	if (map_put(&im->dte, v[0], 0, itt | (v[1] ? 1ull << 63 : 0)))
		im->err = ITR_E_NOMEM;
}

static void on_ite(struct imp *im, const uint64_t *v)
{
	uint8_t p[ITR_PL_EXP_ITE] = { 0 };
	itr_put64(p, v[0]);
	if (im->pend && im->has_devev) {
		itr_put32(p + 8, (uint32_t)its_cmd_get_devid(&im->cmd));
		p[30] = 1;
	}
	itr_put32(p + 12, (uint32_t)v[1]);
	itr_put32(p + 16, (uint32_t)v[4]);
	itr_put32(p + 20, (uint32_t)v[7]);
	itr_put16(p + 24, (uint16_t)v[5]);
	itr_put16(p + 26, (uint16_t)v[6]);
	p[28] = (uint8_t)v[2];
	p[29] = (uint8_t)v[3];
	hold(im, ITR_REC_EXP_ITE, 0, p, sizeof(p));
	if (map_put(&im->ite, v[0], v[1], (v[5] & 0xffff) | (v[2] ? 1ull << 63 : 0)))
		im->err = ITR_E_NOMEM;
}

static void on_cte(struct imp *im, const uint64_t *v)
{
	uint8_t p[ITR_PL_EXP_CTE] = { 0 };
	itr_put16(p, (uint16_t)v[0]);
	p[2] = (uint8_t)v[1];
	itr_put64(p + 8, v[2]);
	hold(im, ITR_REC_EXP_CTE, 0, p, sizeof(p));
	if (map_put(&im->cte, v[0], 0, (v[2] & ~(1ull << 63)) | (v[1] ? 1ull << 63 : 0)))
		im->err = ITR_E_NOMEM;
}

/* ---- Registers and MSIs -------------------------------------------------------------------- */

/* Keep CBASER as the guest sees it (64-bit or two 32-bit halves). */
static void track_reg(struct imp *im, uint64_t off, uint64_t val, unsigned size)
{
	if (off == GITS_CBASER && size == 8) {
		im->cbaser = val;
	} else if (off == GITS_CBASER && size == 4) {
		im->cbaser = (im->cbaser & ~0xffffffffull) | (val & 0xffffffffull);
	} else if (off == GITS_CBASER + 4 && size == 4) {
		im->cbaser = (im->cbaser & 0xffffffffull) | (val << 32);
	} else {
		return;
	}
	im->cbaser_known = 1;
}

/* A line that is not part of a command batch: the batch ends before it, unless it is
 * the register write that ran the batch, which then goes first. */
static void outside_batch(struct imp *im, int is_trigger, const uint8_t *p, uint8_t type,
			  uint8_t flags, uint32_t len)
{
	if (im->pend && !im->pend_done)
		finish_cmd(im, ~ITR_CMDF_OPCODE & ((1u << ITR_CMDF_COUNT_BITS) - 1),
			   ITR_RULE_QEMU_UNPRINTED);
	im->pend = 0;
	if (im->nheld && is_trigger) {
		/* Stamp the write with the time its batch started. */
		put_rec(im, type, flags, p, len, im->batch_ts);
		im->res->reordered++;
		flush_held(im);
		return;
	}
	if (im->nheld) {
		diag(im, ITR_DIAG_WARNING, "commands ran without a register write after them; "
		     "kept in log order");
		flush_held(im);
	}
	put_rec(im, type, flags, p, len, im->ts);
}

/* The end of the log closes a pending batch. */
static void end_batch(struct imp *im)
{
	if (im->pend && !im->pend_done)
		finish_cmd(im, ~ITR_CMDF_OPCODE & ((1u << ITR_CMDF_COUNT_BITS) - 1),
			   ITR_RULE_QEMU_UNPRINTED);
	im->pend = 0;
	if (im->nheld) {
		diag(im, ITR_DIAG_WARNING, "the log ends inside a command batch (no register "
		     "write after it): kept in log order");
		flush_held(im);
	}
}

static void on_mmio(struct imp *im, enum ev_kind k, const uint64_t *v, int n)
{
	uint64_t off = v[0], val = (k == E_BADREAD) ? 0 : v[1];
	unsigned size = (unsigned)v[n - 1];
	uint8_t p[ITR_PL_MMIO] = { 0 };
	itr_put64(p, off);
	itr_put64(p + 8, val);
	p[16] = (uint8_t)size;
	int write = k == E_WRITE || k == E_BADWRITE;
	uint8_t type = write ? ITR_REC_MMIO_WRITE : ITR_REC_MMIO_READ;
	uint8_t flags = (k == E_BADREAD || k == E_BADWRITE) ? ITR_RF_BAD_ACCESS : 0;
	/* Commands run on writes of CWRITER (either half) and of GITS_CTLR (enable). */
	int trigger = write && (off == GITS_CWRITER || off == GITS_CWRITER + 4 ||
				off == GITS_CTLR);
	outside_batch(im, trigger, p, type, flags, ITR_PL_MMIO);
	if (k == E_WRITE || k == E_READ)
		track_reg(im, off, val, size);
}

static void on_msi(struct imp *im, const uint64_t *v)
{
	uint8_t p[ITR_PL_MSI] = { 0 };
	itr_put32(p, (uint32_t)v[3]);       /* requester_id */
	itr_put32(p + 4, (uint32_t)v[1]);   /* data = EventID */
	p[8] = ITR_REASON_UNOBSERVED;
	outside_batch(im, 0, p, ITR_REC_MSI, 0, ITR_PL_MSI);
	im->res->msis++;
}

/* ---- Lines ------------------------------------------------------------------------------- */

/* Split "[pid@sec.usec:]name rest" into name and rest; sets the line's time. */
static int split_line(struct imp *im, char *s, char **name, char **rest)
{
	char *p = s;
	if (*p >= '0' && *p <= '9') {
		char *at = p;
		while (*at >= '0' && *at <= '9')
			at++;
		if (*at == '@') {
			char *e;
			unsigned long long sec = strtoull(at + 1, &e, 10), usec = 0;
			if (*e == '.')
				usec = strtoull(e + 1, &e, 10);
			if (*e != ':')
				return -1;
			uint64_t t = (uint64_t)sec * 1000000000ull + (uint64_t)usec * 1000ull;
			if (!im->have_ts) {
				im->have_ts = 1;
				im->t0 = t;
			}
			im->ts = t >= im->t0 ? t - im->t0 : 0;
			p = e + 1;
		}
	}
	*name = p;
	while (*p && *p != ' ')
		p++;
	if (!*p)
		return -1;
	*p++ = 0;
	*rest = p;
	return 0;
}

static const struct ev_row *find_row(const char *name)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (strcmp(rows[i].name, name) == 0)
			return &rows[i];
	return NULL;
}

static void handle_line(struct imp *im, char *s)
{
	char *name, *rest;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || *s == '\n' || *s == '\r')
		return;     /* blank lines are not news */
	if (split_line(im, s, &name, &rest) || strncmp(name, "gicv3_its_", 10) != 0) {
		diag(im, ITR_DIAG_UNKNOWN, "not a QEMU ITS trace event");
		return;
	}
	const struct ev_row *row = find_row(name);
	if (!row) {
		diag(im, ITR_DIAG_UNKNOWN, "ITS trace event this importer does not know");
		return;
	}
	uint64_t v[MAX_VALS] = { 0 };
	int n = match(row->tmpl, rest, v);
	if (n < 0) {
		diag(im, ITR_DIAG_MALFORMED, "does not match QEMU's format for %s", row->name);
		return;
	}
	im->res->used++;
	switch (row->kind) {
	case E_READ: case E_BADREAD: case E_WRITE: case E_BADWRITE:
		on_mmio(im, row->kind, v, n);
		break;
	case E_MSI: on_msi(im, v); break;
	case E_PROCESS: on_process(im, v); break;
	case E_CMD: case E_CMD_UNKNOWN: on_cmd(im, row, v); break;
	case E_DTE: on_dte(im, v); break;
	case E_ITE: on_ite(im, v); break;
	case E_CTE: on_cte(im, v); break;
	case E_IGNORE:
		im->res->used--;
		im->res->ignored++;
		break;
	}
}

/* Read one line; long lines are cut and flagged.  Returns 0 at the end. */
static int read_line(gzFile gz, char *buf, int n, int *cut)
{
	*cut = 0;
	if (!gzgets(gz, buf, n))
		return 0;
	size_t l = strlen(buf);
	if (l == (size_t)n - 1 && buf[l - 1] != '\n') {
		char skip[1024];
		*cut = 1;
		while (gzgets(gz, skip, sizeof(skip))) {
			size_t k = strlen(skip);
			if (k && skip[k - 1] == '\n')
				break;
		}
	}
	return 1;
}

/* First pass: the geometry the header needs (TYPER, IIDR, vCPUs from MAPC). */
struct geom {
	uint64_t typer;
	uint32_t iidr;
	uint64_t max_rd;
	int have_typer, have_rd, timestamps, gaps;
};

static void scan_geometry(gzFile gz, struct geom *g)
{
	char buf[LINE_MAX_LEN];
	int cut;
	struct imp dummy = { 0 };
	while (read_line(gz, buf, sizeof(buf), &cut)) {
		char *name, *rest, *s = buf;
		uint64_t v[MAX_VALS];
		if (cut || split_line(&dummy, s, &name, &rest))
			continue;
		if (dummy.have_ts)
			g->timestamps = 1;
		const struct ev_row *row = find_row(name);
		if (!row || match(row->tmpl, rest, v) < 0)
			continue;
		if (row->kind == E_READ) {
			if (v[0] == GITS_TYPER && v[2] == 8) {
				g->typer = v[1];
				g->have_typer = 1;
			} else if (v[0] == GITS_TYPER && v[2] == 4) {
				g->typer = (g->typer & ~0xffffffffull) | (v[1] & 0xffffffffull);
				g->have_typer = 1;
			} else if (v[0] == GITS_TYPER + 4 && v[2] == 4) {
				g->typer = (g->typer & 0xffffffffull) | (v[1] << 32);
			} else if (v[0] == GITS_IIDR) {
				g->iidr = (uint32_t)v[1];
			}
		} else if (row->kind == E_CMD && row->opcode == ITS_OP_MAPC) {
			if (!g->have_rd || v[1] > g->max_rd)
				g->max_rd = v[1];
			g->have_rd = 1;
		} else if (row->kind == E_CMD_UNKNOWN || (row->kind == E_CMD &&
			   (row->opcode == ITS_OP_SYNC || row->opcode == ITS_OP_INVALL ||
			    its_cmd_is_gicv4(row->opcode) == 1))) {
			g->gaps = 1;
		}
	}
}

static void fill_header(struct itr_header *h, const struct geom *g,
			const struct itr_import_opts *o, const char *log_path)
{
	itr_header_init(h);
	h->source = ITR_SRC_QEMU_LOG;
	h->policy = ITR_POL_NONE;
	h->flags = ITR_HF_GEOMETRY_INFERRED | (g->timestamps ? 0 : ITR_HF_NO_TIMESTAMPS) |
		   (g->gaps ? ITR_HF_HAS_INFERRED : 0);
	h->typer = g->typer;
	h->iidr = g->iidr;
	if (g->have_typer) {
		h->devid_bits = (uint8_t)(GITS_FIELD_GET(g->typer, TYPER, DEVBITS) + 1);
		h->eventid_bits = (uint8_t)(GITS_FIELD_GET(g->typer, TYPER, IDBITS) + 1);
		h->cid_bits = GITS_FIELD_GET(g->typer, TYPER, CIL) ?
			(uint8_t)(GITS_FIELD_GET(g->typer, TYPER, CIDBITS) + 1) : 16;
	}
	/* QEMU's GICv3 redistributors support 16 INTID bits (GICD_TYPER.IDbits = 15). */
	h->intid_bits = 16;
	h->nr_vcpus = o->nr_vcpus ? o->nr_vcpus : g->have_rd ? (uint32_t)g->max_rd + 1 : 0;
	const char *base = strrchr(log_path, '/');
	snprintf(h->source_desc, sizeof(h->source_desc), "qemu %s", base ? base + 1 : log_path);
}

static void msgf(char *msg, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void msgf(char *msg, size_t n, const char *fmt, ...)
{
	if (!msg || !n)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, n, fmt, ap);
	va_end(ap);
}

int itr_import_qemu(const char *log_path, const char *out_path,
		    const struct itr_import_opts *opts, struct itr_import_result *res,
		    char *msg, size_t msglen)
{
	if (!log_path || !out_path || !res)
		return ITR_E_INVAL;
	memset(res, 0, sizeof(*res));
	struct imp im = { 0 };
	im.res = res;
	if (opts) {
		size_t n = opts->sz < sizeof(im.o) ? opts->sz : sizeof(im.o);
		memcpy(&im.o, opts, n);
	}
	im.gz = gzopen(log_path, "rb");   /* reads plain text too */
	if (!im.gz) {
		msgf(msg, msglen, "cannot open %s", log_path);
		return ITR_E_IO;
	}
	gzbuffer(im.gz, 1 << 17);
	struct geom g = { 0 };
	scan_geometry(im.gz, &g);
	if (gzrewind(im.gz) != 0) {
		gzclose(im.gz);
		msgf(msg, msglen, "cannot read %s twice", log_path);
		return ITR_E_IO;
	}
	struct itr_header h;
	fill_header(&h, &g, &im.o, log_path);
	int rc = itr_writer_open(out_path, &h, &im.w);
	if (rc) {
		gzclose(im.gz);
		msgf(msg, msglen, "cannot write %s", out_path);
		return rc;
	}
	if (!g.have_typer)
		itr_writer_note(im.w, 0, im.o.domain, "no GITS_TYPER read in the log: "
				"ITS geometry unknown");

	char buf[LINE_MAX_LEN];
	int cut;
	while (!im.err && read_line(im.gz, buf, sizeof(buf), &cut)) {
		im.line_no++;
		im.line = buf;
		size_t l = strlen(buf);
		while (l && (buf[l - 1] == '\n' || buf[l - 1] == '\r'))
			buf[--l] = 0;
		if (cut)
			diag(&im, ITR_DIAG_MALFORMED, "line longer than %d characters", LINE_MAX_LEN);
		else
			handle_line(&im, buf);
	}
	im.line = NULL;
	int gzerr = 0;
	const char *gzmsg = gzerror(im.gz, &gzerr);
	if (gzerr != Z_OK && gzerr != Z_STREAM_END)
		diag(&im, ITR_DIAG_WARNING, "the log's data is damaged or cut short after line "
		     "%llu (%s): the rest is lost", (unsigned long long)im.line_no, gzmsg);
	res->lines = im.line_no;
	end_batch(&im);
	gzclose(im.gz);
	free(im.held);
	free(im.dte.e);
	free(im.ite.e);
	free(im.cte.e);

	if (im.err) {
		itr_writer_abort(im.w);
		msgf(msg, msglen, "%s", itr_strerror(im.err));
		return im.err;
	}
	if (res->used == 0 && res->ignored == 0) {
		itr_writer_abort(im.w);
		if (strcmp(out_path, "-") != 0)
			remove(out_path);
		msgf(msg, msglen, "%s: no QEMU ITS trace events in %llu lines", log_path,
		     (unsigned long long)im.line_no);
		return ITR_E_PARSE;
	}
	rc = itr_writer_close(im.w);
	if (rc)
		msgf(msg, msglen, "cannot write %s", out_path);
	return rc;
}
