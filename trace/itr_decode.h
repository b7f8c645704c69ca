/*
 * itr_decode.h: records as named fields, for people (its-trace dump) and programs
 * (--json).  One decoder feeds both, so text and JSON always say the same thing.
 */
#ifndef ITR_DECODE_H
#define ITR_DECODE_H

#include <stddef.h>

#include "itr_types.h"
#include "vits.h"

#ifdef __cplusplus
extern "C" {
#endif

enum itr_field_kind {
	ITR_FK_UINT,            /* u: printed in decimal */
	ITR_FK_HEX,             /* u: printed 0x..., a JSON number */
	ITR_FK_INT,             /* i: signed decimal */
	ITR_FK_STR,             /* s: a word or text; key NULL: a bare word in text form */
	ITR_FK_BYTES,           /* bytes/n: hex digits, a JSON string */
	ITR_FK_BOOL,            /* u: 0 or 1, printed as such, a JSON boolean */
};

struct itr_field {
	const char *key;        /* NULL only for a bare word (the command name) */
	enum itr_field_kind kind;
	uint64_t u;
	int64_t i;
	const char *s;
	const uint8_t *bytes;
	uint32_t n;
};

typedef void (*itr_field_fn)(void *ctx, const struct itr_field *f);

/*
 * Call fn for each field of r, in display order.  Returns 0; ITR_E_SHORT for a known
 * type whose payload is too short (one field "malformed" is emitted), ITR_E_TYPE for
 * an unknown type (fields "type_id" and "len" are emitted).
 */
int itr_rec_fields(const struct itr_rec *r, itr_field_fn fn, void *ctx);

/* The fields of one command (opcode name as a bare word, then its operands). */
void itr_cmd_fields(const struct its_cmd *c, itr_field_fn fn, void *ctx);

/* r as one line of text: "MAPTI dev=0x10 ev=0 lpi=8192 icid=0" for a CMD record.
 * Returns the length it needed (like snprintf). */
int itr_rec_format(const struct itr_rec *r, char *buf, size_t n);

/* Name of an ITS register offset ("CWRITER", "BASER2", "TYPER+4"), or NULL. */
const char *itr_reg_name(uint64_t offset, char *buf, size_t n);

/* Names of ITR_CMDF_* bits set in fields, comma-separated, into buf. */
const char *itr_cmd_field_names(uint32_t fields, char *buf, size_t n);

/* "ok", "skipped", "stalled", "unobserved". */
const char *itr_outcome_name(unsigned outcome);

/* vits_reason_name(), or "unobserved" for ITR_REASON_UNOBSERVED. */
const char *itr_reason_name(unsigned reason);

#ifdef __cplusplus
}
#endif

#endif /* ITR_DECODE_H */
