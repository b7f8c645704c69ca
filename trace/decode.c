/*
 * decode.c: records to named fields, and fields to one line of text.
 */
#include "itr_decode.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "itr_encode.h"

#define F_UINT(k, v)  fn(ctx, &(struct itr_field){ .key = (k), .kind = ITR_FK_UINT, .u = (v) })
#define F_HEX(k, v)   fn(ctx, &(struct itr_field){ .key = (k), .kind = ITR_FK_HEX, .u = (v) })
#define F_INT(k, v)   fn(ctx, &(struct itr_field){ .key = (k), .kind = ITR_FK_INT, .i = (v) })
#define F_STR(k, v)   fn(ctx, &(struct itr_field){ .key = (k), .kind = ITR_FK_STR, .s = (v) })
#define F_BOOL(k, v)  fn(ctx, &(struct itr_field){ .key = (k), .kind = ITR_FK_BOOL, .u = !!(v) })
#define F_BYTES(k, p, len) \
	fn(ctx, &(struct itr_field){ .key = (k), .kind = ITR_FK_BYTES, .bytes = (p), .n = (len) })

const char *itr_outcome_name(unsigned outcome)
{
	switch (outcome) {
	case VITS_CMD_OK: return "ok";
	case VITS_CMD_SKIPPED: return "skipped";
	case VITS_CMD_STALLED: return "stalled";
	case ITR_OUTCOME_UNOBSERVED: return "unobserved";
	default: return "unknown";
	}
}

const char *itr_reason_name(unsigned reason)
{
	if (reason == ITR_REASON_UNOBSERVED)
		return "unobserved";
	return vits_reason_name((enum vits_reason)reason);
}

static const char *cause_name(unsigned c)
{
	switch (c) {
	case VITS_CAUSE_GUEST_CMD: return "guest-cmd";
	case VITS_CAUSE_PROP_WRITE: return "prop-write";
	case VITS_CAUSE_TEARDOWN: return "teardown";
	default: return "unknown";
	}
}

static const char *loss_cause_name(unsigned c)
{
	switch (c) {
	case ITR_LOSS_RING_FULL: return "ring-full";
	case ITR_LOSS_TOO_BIG: return "too-big";
	case ITR_LOSS_SOURCE: return "source";
	default: return "unknown";
	}
}

const char *itr_reg_name(uint64_t off, char *buf, size_t n)
{
	static const struct { const char *name; uint32_t off, bytes; } regs[] = {
#define ITS_REG(name, o, b) { #name, o, b },
#include "its_regs.def"
#undef ITS_REG
	};
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		if (off == regs[i].off)
			return regs[i].name;
		if (regs[i].bytes == 8 && off == regs[i].off + 4u) {
			snprintf(buf, n, "%s+4", regs[i].name);
			return buf;
		}
	}
	if (off >= GITS_BASER0 && off < GITS_BASER0 + 8u * GITS_BASER_COUNT) {
		snprintf(buf, n, "BASER%u%s", (unsigned)((off - GITS_BASER0) / 8),
			 (off & 4) ? "+4" : "");
		return buf;
	}
	if (off >= GITS_ID_REGS_START && off < 0x10000u) {
		snprintf(buf, n, "IDREG_%04x", (unsigned)off);
		return buf;
	}
	return NULL;
}

const char *itr_cmd_field_names(uint32_t fields, char *buf, size_t n)
{
	static const char *const names[ITR_CMDF_COUNT_BITS] = {
		"opcode", "devid", "eventid", "size", "pintid", "icid", "itt_addr",
		"rdbase", "valid", "rdbase2", "vpeid", "gicv4",
	};
	size_t used = 0;
	if (n)
		buf[0] = 0;
	for (unsigned b = 0; b < 32; b++) {
		if (!(fields & (1u << b)))
			continue;
		const char *nm = b < ITR_CMDF_COUNT_BITS ? names[b] :
				 (1u << b) == ITR_CMDF_ADDRESS ? "address" : "bit";
		int k = snprintf(buf + used, n > used ? n - used : 0, "%s%s", used ? "," : "", nm);
		if (k > 0)
			used += (size_t)k;
	}
	return buf;
}

void itr_cmd_fields(const struct its_cmd *c, itr_field_fn fn, void *ctx)
{
	unsigned op = (unsigned)its_cmd_get_opcode(c);
	const char *name = its_cmd_name(op);
	char unk[16];
	if (!name) {
		snprintf(unk, sizeof(unk), "OP_0x%02x", op);
		name = unk;
	}
	F_STR(NULL, name);
	switch (op) {
	case ITS_OP_MAPD:
		F_HEX("dev", its_cmd_get_devid(c));
		F_UINT("size", its_cmd_get_size(c));
		F_HEX("itt", its_cmd_get_itt_addr(c) << 8);
		F_UINT("v", its_cmd_get_valid(c));
		break;
	case ITS_OP_MAPC:
		F_UINT("icid", its_cmd_get_icid(c));
		F_UINT("rd", its_cmd_get_rdbase(c));
		F_UINT("v", its_cmd_get_valid(c));
		break;
	case ITS_OP_MAPTI:
		F_HEX("dev", its_cmd_get_devid(c));
		F_UINT("ev", its_cmd_get_eventid(c));
		F_UINT("lpi", its_cmd_get_pintid(c));
		F_UINT("icid", its_cmd_get_icid(c));
		break;
	case ITS_OP_MAPI:
	case ITS_OP_MOVI:
		F_HEX("dev", its_cmd_get_devid(c));
		F_UINT("ev", its_cmd_get_eventid(c));
		F_UINT("icid", its_cmd_get_icid(c));
		break;
	case ITS_OP_INT:
	case ITS_OP_CLEAR:
	case ITS_OP_INV:
	case ITS_OP_DISCARD:
		F_HEX("dev", its_cmd_get_devid(c));
		F_UINT("ev", its_cmd_get_eventid(c));
		break;
	case ITS_OP_INVALL:
		F_UINT("icid", its_cmd_get_icid(c));
		break;
	case ITS_OP_SYNC:
		F_UINT("rd", its_cmd_get_rdbase(c));
		break;
	case ITS_OP_MOVALL:
		F_UINT("rd", its_cmd_get_rdbase(c));
		F_UINT("rd2", its_cmd_get_rdbase2(c));
		break;
	default:
		if (its_cmd_is_gicv4(op) == 1) {
			F_HEX("dev", its_cmd_get_devid(c));
			F_UINT("ev", its_cmd_get_eventid(c));
			F_UINT("vpeid", its_cmd_get_vpeid(c));
		}
		F_HEX("dw0", c->dw[0]);
		F_HEX("dw1", c->dw[1]);
		F_HEX("dw2", c->dw[2]);
		F_HEX("dw3", c->dw[3]);
		break;
	}
}

static void reason_field(itr_field_fn fn, void *ctx, unsigned reason)
{
	if (reason != VITS_R_NONE)
		F_STR("reason", itr_reason_name(reason));
}

int itr_rec_fields(const struct itr_rec *r, itr_field_fn fn, void *ctx)
{
	const uint8_t *p = r->payload;
	int min = itr_rec_min_payload(r->type);
	char tmp[64];
	if (min < 0) {
		F_UINT("type_id", r->type);
		F_UINT("len", r->len);
		return ITR_E_TYPE;
	}
	if (r->len < (uint32_t)min) {
		F_BOOL("malformed", 1);
		F_UINT("len", r->len);
		return ITR_E_SHORT;
	}
	struct its_cmd c;
	switch (r->type) {
	case ITR_REC_MMIO_READ:
	case ITR_REC_MMIO_WRITE: {
		uint64_t off = itr_get64(p);
		const char *reg = itr_reg_name(off, tmp, sizeof(tmp));
		F_STR("reg", reg ? reg : "?");
		F_HEX("off", off);
		F_UINT("size", p[16]);
		F_HEX("val", itr_get64(p + 8));
		if (r->flags & ITR_RF_BAD_ACCESS)
			F_BOOL("bad", 1);
		break;
	}
	case ITR_REC_MEM_READ:
		F_HEX("gpa", itr_get64(p));
		F_UINT("len", r->len - ITR_PL_MEM_READ);
		if (itr_get32(p + 12) != r->len - ITR_PL_MEM_READ)
			F_UINT("total", itr_get32(p + 12));
		if ((int32_t)itr_get32(p + 8))
			F_INT("result", (int32_t)itr_get32(p + 8));
		F_BYTES("data", p + ITR_PL_MEM_READ, r->len - ITR_PL_MEM_READ);
		break;
	case ITR_REC_CMD:
		its_cmd_from_bytes(&c, p + 4);
		F_UINT("slot", itr_get16(p));
		itr_cmd_fields(&c, fn, ctx);
		F_STR("outcome", itr_outcome_name(p[2]));
		if (p[2] != VITS_CMD_OK && p[2] != ITR_OUTCOME_UNOBSERVED)
			reason_field(fn, ctx, p[3]);
		break;
	case ITR_REC_INJECT:
		F_UINT("vcpu", itr_get32(p));
		F_UINT("intid", itr_get32(p + 4));
		break;
	case ITR_REC_PHYS_CMD:
		its_cmd_from_bytes(&c, p + 4);
		itr_cmd_fields(&c, fn, ctx);
		F_STR("cause", cause_name(p[0]));
		if (p[0] == VITS_CAUSE_GUEST_CMD) {
			const char *on = its_cmd_name(p[1]);
			F_STR("cause_cmd", on ? on : "?");
			F_UINT("cause_slot", itr_get16(p + 2));
		}
		break;
	case ITR_REC_CREADR:
		F_HEX("creadr", itr_get32(p));
		F_UINT("slot", itr_get32(p) / ITS_CMD_BYTES);
		F_UINT("stalled", p[4]);
		break;
	case ITR_REC_MSI:
		F_HEX("dev", itr_get32(p));
		F_UINT("ev", itr_get32(p + 4));
		F_STR("result", p[8] == VITS_R_NONE ? "ok" : itr_reason_name(p[8]));
		break;
	case ITR_REC_PROP_TABLE:
		F_HEX("gpa", itr_get64(p));
		F_UINT("id_bits", p[8]);
		break;
	case ITR_REC_HOST_LPI:
		F_UINT("plpi", itr_get32(p));
		F_UINT("intid", itr_get32(p + 4));
		F_STR("result", p[8] == VITS_R_NONE ? "ok" : itr_reason_name(p[8]));
		break;
	case ITR_REC_ASSIGN:
		F_HEX("vdev", itr_get32(p));
		F_HEX("pdev", itr_get32(p + 4));
		F_UINT("assigned", p[8]);
		break;
	case ITR_REC_PROP_WRITE:
		F_HEX("gpa", itr_get64(p));
		F_UINT("len", p[16]);
		F_HEX("val", itr_get64(p + 8));
		if (p[16] == 1)
			F_UINT("enable", itr_get64(p + 8) & 1);
		break;
	case ITR_REC_LOSS:
		F_UINT("dropped", itr_get64(p));
		F_STR("cause", loss_cause_name(itr_get32(p + 8)));
		break;
	case ITR_REC_CHECKPOINT: {
		uint16_t n = itr_get16(p + 10);
		if (n > r->len - ITR_PL_CHECKPOINT)
			n = (uint16_t)(r->len - ITR_PL_CHECKPOINT);
		F_UINT("seq", itr_get64(p));
		F_UINT("kind", itr_get16(p + 8));
		F_BYTES("fp", p + ITR_PL_CHECKPOINT, n);
		break;
	}
	case ITR_REC_SNAPSHOT:
		F_UINT("total", itr_get32(p));
		F_UINT("offset", itr_get32(p + 4));
		F_UINT("bytes", r->len - ITR_PL_SNAPSHOT);
		break;
	case ITR_REC_NOTE: {
		char text[512];
		size_t n = r->len < sizeof(text) - 1 ? r->len : sizeof(text) - 1;
		memcpy(text, p, n);
		text[n] = 0;
		F_STR("text", text);
		break;
	}
	case ITR_REC_INFERRED: {
		char text[512], names[160];
		size_t n = r->len - ITR_PL_INFERRED;
		if (n > sizeof(text) - 1)
			n = sizeof(text) - 1;
		memcpy(text, p + ITR_PL_INFERRED, n);
		text[n] = 0;
		F_STR("rule", itr_rule_name(itr_get16(p)));
		F_STR("of", itr_rec_type_name(p[2]));
		if (itr_get32(p + 4))
			F_STR("fields", itr_cmd_field_names(itr_get32(p + 4), names,
							    sizeof(names)));
		if (n)
			F_STR("text", text);
		break;
	}
	case ITR_REC_END:
		F_UINT("records", itr_get64(p));
		F_UINT("blocks", itr_get64(p + 8));
		break;
	case ITR_REC_EXP_DTE:
		F_HEX("dev", itr_get32(p));
		F_UINT("valid", p[4]);
		F_UINT("size", p[5]);
		F_HEX("itt", itr_get64(p + 8));
		break;
	case ITR_REC_EXP_ITE:
		if (p[30])
			F_HEX("dev", itr_get32(p + 8));
		else
			F_STR("dev", "?");
		F_UINT("ev", itr_get32(p + 12));
		F_UINT("valid", p[28]);
		F_UINT("lpi", itr_get32(p + 16));
		F_UINT("icid", itr_get16(p + 24));
		if (p[29] != 1)
			F_UINT("inttype", p[29]);
		F_HEX("itt", itr_get64(p));
		break;
	case ITR_REC_EXP_CTE:
		F_UINT("icid", itr_get16(p));
		F_UINT("valid", p[2]);
		F_UINT("rd", itr_get64(p + 8));
		break;
	case ITR_REC_TIME:
		F_UINT("ts", itr_get64(p));
		break;
	}
	return 0;
}

struct fmt_ctx {
	char *buf;
	size_t n, used;
};

static void put(struct fmt_ctx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct fmt_ctx *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(f->used < f->n ? f->buf + f->used : NULL,
			  f->used < f->n ? f->n - f->used : 0, fmt, ap);
	va_end(ap);
	if (k > 0)
		f->used += (size_t)k;
}

static void fmt_field(void *ctx, const struct itr_field *fl)
{
	struct fmt_ctx *f = ctx;
	if (f->used)
		put(f, " ");
	if (fl->key)
		put(f, "%s=", fl->key);
	switch (fl->kind) {
	case ITR_FK_UINT:
	case ITR_FK_BOOL: put(f, "%llu", (unsigned long long)fl->u); break;
	case ITR_FK_HEX: put(f, "0x%llx", (unsigned long long)fl->u); break;
	case ITR_FK_INT: put(f, "%lld", (long long)fl->i); break;
	case ITR_FK_STR:
		if (fl->key && strchr(fl->s, ' '))
			put(f, "\"%s\"", fl->s);
		else
			put(f, "%s", fl->s);
		break;
	case ITR_FK_BYTES:
		for (uint32_t i = 0; i < fl->n; i++)
			put(f, "%02x", fl->bytes[i]);
		break;
	}
}

int itr_rec_format(const struct itr_rec *r, char *buf, size_t n)
{
	struct fmt_ctx f = { buf, n, 0 };
	if (n)
		buf[0] = 0;
	itr_rec_fields(r, fmt_field, &f);
	if (r->flags & ITR_RF_INFERRED)
		put(&f, "%sinferred", f.used ? " " : "");
	return (int)f.used;
}
