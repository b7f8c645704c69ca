/*
 * refmodel.h: the reference model of a virtual GICv3 ITS, the toolkit's oracle.
 *
 * It states the guest-visible semantics of docs/semantics.md a second time, written
 * independently of the engine: small, slow and obviously right (plain arrays, linear
 * searches).  It shares only the command field decoders (its_cmd.h), the register
 * field helpers (its_regs.h) and the enum vits_reason values with the engine.
 *
 * Inputs are the guest's decoded commands (ref_cmd), device MSIs (ref_msi), what the
 * guest wrote to GITS_BASER0 (ref_set_device_table), GITS_CTLR.Enabled
 * (ref_set_enabled) and the redistributors' property table (ref_set_prop_table).
 * The model reads guest memory (property bytes, device-table L1 entries) through
 * the read_guest callback, exactly where the engine would.
 *
 * The model does not process a queue: the caller feeds it the commands the engine's
 * queue ran, in order.  It never runs out of memory in the engine's sense
 * (VITS_R_NO_MEMORY is never returned); configure the engine's cap so it does not
 * either when comparing.
 */
#ifndef HARNESS_REFMODEL_H
#define HARNESS_REFMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "its_cmd.h"
#include "vits.h"   /* enum vits_reason only */

struct ref_config {
	uint32_t nr_vcpus;      /* valid RDbase (PE numbers) are 0..nr_vcpus-1 */
	uint8_t devid_bits;     /* 1..32 */
	uint8_t eventid_bits;   /* 1..32 */
	uint8_t cid_bits;       /* 1..16 */
	uint8_t intid_bits;     /* 14..24: largest property table tracked */
	/* Required: 0, or negative when [gpa, gpa+len) is not guest RAM. */
	int (*read_guest)(void *ctx, uint64_t gpa, void *buf, size_t len);
	/* Optional: 1 when [gpa, gpa+len) is guest RAM.  NULL: MAPD accepts any ITT. */
	int (*ram_check)(void *ctx, uint64_t gpa, uint64_t len);
	void *ctx;
};

/* A vLPI handed to a vCPU.  seq is the number of commands ref_cmd had run before
 * it (so deliveries of one command share a seq; those of an MSI carry the index
 * of the next command). */
struct ref_delivery {
	uint32_t vcpu, intid;
	uint64_t seq;
};

struct ref_device {
	uint32_t devid;
	uint8_t event_bits;     /* MAPD Size + 1 */
	uint64_t itt_addr;      /* bytes (the command field << 8) */
};

struct ref_event {
	uint32_t devid, eventid;
	uint32_t intid;
	uint16_t icid;
};

struct ref_lpi {
	uint32_t intid;
	uint8_t cfg;            /* property byte as last read (MAPTI/MAPI/INV/INVALL); 0 when
				 * read with no table or beyond the table's id_bits */
	bool pending;
	uint32_t pending_vcpu;  /* meaningful when pending */
	uint32_t mapped;        /* how many events map to this INTID now */
};

struct ref;

/* NULL on a bad config (zero vCPUs, bit counts out of range, no read_guest) or
 * out of memory. */
struct ref *ref_create(const struct ref_config *cfg);
void ref_destroy(struct ref *r);

/* The configuration the model was created with. */
const struct ref_config *ref_get_config(const struct ref *r);

/* Back to the state just after ref_create (tables, enable, mappings and deliveries
 * forgotten; the command count restarts at 0). */
void ref_reset(struct ref *r);

/* The redistributors' property table, with vits_set_prop_table's rules: id_bits 0
 * forgets the table (gpa is then ignored); otherwise id_bits must be 14..32 and is
 * clamped to intid_bits.  0, or -1 (state unchanged) for a bad id_bits. */
int ref_set_prop_table(struct ref *r, uint64_t gpa, unsigned id_bits);

/* INTID bits the ITS accepts for pINTID: the table's (clamped) id_bits, or
 * intid_bits when no table is set. */
unsigned ref_prop_bits(const struct ref *r);

/* The value the guest wrote to GITS_BASER0 while the ITS was disabled (writes while
 * enabled are ignored by the ITS, so do not pass them). */
void ref_set_device_table(struct ref *r, uint64_t baser0);

/* GITS_CTLR.Enabled: MSIs are dropped while disabled. */
void ref_set_enabled(struct ref *r, bool enabled);

/* Apply one command; VITS_R_NONE on success, else why it failed (state unchanged).
 * GICv4 opcodes give VITS_R_UNSUPPORTED, undefined opcodes VITS_R_UNKNOWN_OPCODE. */
enum vits_reason ref_cmd(struct ref *r, const struct its_cmd *cmd);

/* A device MSI; VITS_R_NONE when the LPI became pending (and was delivered if
 * enabled), else why it was dropped. */
enum vits_reason ref_msi(struct ref *r, uint32_t devid, uint32_t eventid);

/* Commands applied since create/reset. */
uint64_t ref_cmd_count(const struct ref *r);

/* Deliveries in the order they happened; the pointer is valid until the next
 * mutating call. */
const struct ref_delivery *ref_deliveries(const struct ref *r, size_t *count);
void ref_clear_deliveries(struct ref *r);

/* Queries: 0 and *out filled, or -1 when nothing is mapped there. */
int ref_query_device(const struct ref *r, uint32_t devid, struct ref_device *out);
int ref_query_event(const struct ref *r, uint32_t devid, uint32_t eventid, struct ref_event *out);
int ref_query_collection(const struct ref *r, uint32_t icid, uint32_t *vcpu);
/* -1 when the model holds no state for intid (never mapped since create/reset). */
int ref_query_lpi(const struct ref *r, uint32_t intid, struct ref_lpi *out);

/* Iterate the mapped state in unspecified order; stop early and return fn's value
 * when it is non-zero.  fn must not mutate the model. */
int ref_foreach_device(const struct ref *r, int (*fn)(void *arg, const struct ref_device *d), void *arg);
int ref_foreach_event(const struct ref *r, int (*fn)(void *arg, const struct ref_event *e), void *arg);
int ref_foreach_collection(const struct ref *r, int (*fn)(void *arg, uint32_t icid, uint32_t vcpu), void *arg);
/* Every LPI the model holds state for, mapped or not. */
int ref_foreach_lpi(const struct ref *r, int (*fn)(void *arg, const struct ref_lpi *l), void *arg);

/* Counts of mapped devices, events and collections. */
size_t ref_device_count(const struct ref *r);
size_t ref_event_count(const struct ref *r);
size_t ref_collection_count(const struct ref *r);

/* The name of a reason ("EVENT_UNMAPPED"), never NULL: vits_reason_name(), since
 * the names are labels shared by everything, not part of the semantics. */
const char *ref_reason_name(enum vits_reason reason);

#endif /* HARNESS_REFMODEL_H */
