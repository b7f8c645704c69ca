/*
 * pits_model.h: a physical GICv3 ITS for the host side of the harness, one that
 * fails like hardware.
 *
 * - A command queue in (fake) host memory of a configurable size (default 64 KiB),
 *   with CWRITER and CREADR byte offsets, wrap, and "full" when the slot after
 *   CWRITER is CREADR (one slot kept free, IHI 0069 6.2).  The engine's phys_cmd
 *   only queues; pits_process() executes queued commands, up to a count per call,
 *   so a test models the physical ITS's speed and can make the queue fill.
 * - Semantics: the reference model (refmodel.h) is the semantic core, one truth for
 *   the virtual and the physical side.  The model's "guest memory" is the host
 *   property table and a flat-enough device table; collections 0..nr_pcpus-1 are
 *   mapped to PEs 0..nr_pcpus-1 at creation, as a host does at boot.  Configuration
 *   is read only at MAPTI/MAPI/INV/INVALL (hardware may cache it), so a host-table
 *   write without INV has no effect.
 * - Strict error mode: any erroneous command (the model's reason, or one of the
 *   extra host checks below) is a finding that names the physical command and what
 *   caused it (the engine's VITS_EV_PHYS_CMD trace events, tied by order through
 *   pits_note_trace()), and stalls the model: it stops processing, as hardware may.
 *   Extra host checks: MAPD V=1 onto a mapped device, MAPD V=0 of an unmapped
 *   device, an ITT that is not a live allocation of the host allocator (or is too
 *   small, or is used by another mapped device), a pINTID outside the host's LPI
 *   range or already mapped by another event, MAPTI to a collection that is not a
 *   host PE, and any MAPC (the host owns the collections).
 * - Devices fire MSIs with pits_msi(); a pending physical LPI that is enabled (as
 *   last read) is delivered through the deliver callback (an embedder passes it to
 *   vits_host_plpi()).  Deliveries that become possible at INV/INVALL happen when
 *   that command is processed.  A delivery clears the physical pending state (the
 *   host acknowledged it).
 * - A fake host-memory allocator for ITTs that detects double and unknown frees,
 *   wrong sizes and leaks, and reuses freed blocks first (so a use after free shows
 *   up as an ITT shared by two devices), except blocks that the physical ITS may
 *   still use (strict_itt says what a MAPD with a freed ITT is).
 *
 * Not thread-safe.  Never call pits_process()/pits_msi() from inside an engine call
 * (the deliver callback re-enters the engine).
 */
#ifndef HARNESS_PITS_MODEL_H
#define HARNESS_PITS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vits.h"
#include "refmodel.h"

#define PITS_DEFAULT_QUEUE_BYTES (64u << 10)
#define PITS_ITT_BASE 0x9000000000ull   /* first fake host ITT address */
#define PITS_MAX_DOMAINS 64u            /* domains pits_done_by_domain() counts */

struct pits_config {
	uint32_t queue_bytes;   /* command queue size: a multiple of 32, >= 64; 0: 64 KiB */
	uint32_t nr_pcpus;      /* PEs, and host collections 0..nr_pcpus-1 (1..4096) */
	uint32_t nr_plpis;      /* host LPIs 8192..8192+nr_plpis-1 */
	uint8_t devid_bits;     /* physical DeviceID bits (1..32) */
	uint8_t eventid_bits;   /* physical EventID bits (1..32) */
	bool skip_errors;       /* false (strict): an erroneous command stalls the model;
				 * true: it is recorded and skipped */
	bool strict_itt;        /* a MAPD V=1 that runs after the host freed its ITT is a
				 * finding; false (default): it is counted in
				 * itt_used_after_free, and freed blocks stay quarantined
				 * (never reused) while a mapped device or a queued command
				 * still names them, as a careful host allocator would */
	/* A physical LPI delivered to PE pcpu; src_* name the event that last made it
	 * pending (for isolation checks).  Optional. */
	void (*deliver)(void *ctx, uint32_t plpi, uint32_t pcpu, uint32_t src_pdevid,
			uint32_t src_eventid);
	void *ctx;
};

/* 64 KiB queue, 4 PEs, 8192 LPIs, 20 DeviceID bits, 16 EventID bits, strict. */
void pits_config_default(struct pits_config *cfg);
/* The same geometry as a vits_host_config (nr_pcpus, nr_plpis, bits). */
void pits_config_from_host(struct pits_config *cfg, const struct vits_host_config *h);

enum pits_check {
	PITS_CHK_REF = 0,         /* the semantic core refused it: see reason */
	PITS_CHK_DEV_MAPPED,      /* MAPD V=1 onto a mapped device */
	PITS_CHK_DEV_UNMAPPED,    /* MAPD V=0 of a device that is not mapped */
	PITS_CHK_ITT,             /* ITT not a live allocation, too small, or shared */
	PITS_CHK_PLPI_RANGE,      /* pINTID outside the host's LPIs */
	PITS_CHK_PLPI_MAPPED,     /* pINTID already mapped by another event */
	PITS_CHK_COLLECTION,      /* MAPTI/MAPI to a collection that is not a host PE */
	PITS_CHK_MAPC,            /* MAPC: the host owns the collections */
	PITS_CHK_TRACE,           /* a traced physical command the queue did not take
				   * (lost), or that differs from the one queued */
	PITS_CHK_ITT_FREE,        /* itt_free of an unknown block, twice, or wrong size */
	PITS_CHK_ITT_LEAK,        /* ITT blocks still allocated at pits_check_leaks() */
	PITS_CHK_PROP,            /* prop_write of a pLPI outside the host's range */
	PITS_CHK_COUNT
};

/* One finding: the physical command (seq: its number in queue order, 0-based) and,
 * when the trace tied it, the guest command, property write or teardown behind it. */
struct pits_finding {
	uint8_t check;            /* enum pits_check */
	uint8_t reason;           /* enum vits_reason (PITS_CHK_REF) */
	uint64_t seq;
	struct its_cmd cmd;
	bool have_cause;
	uint16_t domain;
	uint8_t cause;            /* enum vits_cause */
	uint32_t cause_offset;    /* queue offset (guest command) or INTID (prop write) */
	uint32_t cause_opcode;
	char detail[96];
};

struct pits_stats {
	uint64_t accepted;        /* phys_cmd calls that queued a command */
	uint64_t refused;         /* phys_cmd calls answered VITS_E_AGAIN (queue full) */
	uint64_t processed;       /* commands executed (errors included) */
	uint64_t by_op[ITS_IDX_COUNT];  /* executed, by type */
	uint64_t errors;          /* erroneous commands */
	uint64_t stalls;          /* times the model stalled */
	uint32_t max_depth;       /* most commands queued at once */
	uint64_t msis, msis_dropped;
	uint64_t deliveries;
	uint64_t prop_writes;
	uint64_t itt_allocs, itt_frees;
	uint64_t itt_freed_in_use;  /* itt_free while a mapped device or a queued command
				     * still named the block (its MAPD V=0, or even its
				     * MAPD V=1, queued but not yet executed) */
	uint64_t itt_used_after_free; /* MAPD V=1 executed with an ITT already freed */
	uint64_t traced;          /* VITS_EV_PHYS_CMD events tied to queued commands */
};

struct pits_model;

/* NULL on a bad config or out of memory. */
struct pits_model *pits_create(const struct pits_config *cfg);
void pits_destroy(struct pits_model *m);

/* The vits_host_ops of the model (pass m as the host ctx; alloc/free use malloc). */
void pits_host_ops(struct vits_host_ops *ops);

/* Execute up to max queued commands (stops early when empty or stalled); returns
 * how many ran. */
unsigned pits_process(struct pits_model *m, unsigned max);
/* Execute until the queue is empty or the model stalls; returns how many ran. */
unsigned pits_drain(struct pits_model *m);

/* A device wrote eventid to GITS_TRANSLATER with requester pdevid.  VITS_R_NONE when
 * the physical LPI became pending (and was delivered if enabled), else why the model
 * dropped it. */
enum vits_reason pits_msi(struct pits_model *m, uint32_t pdevid, uint32_t eventid);

/* Feed every trace event of every engine on this host (only VITS_EV_PHYS_CMD is
 * used): ties each queued command to its cause, in order. */
void pits_note_trace(struct pits_model *m, const struct vits_event *ev);

/* Queue state. */
bool pits_stalled(const struct pits_model *m);
/* Commands of domain (as the trace tied them, pits_note_trace) that have left the
 * queue (run or skipped), in queue order: what that domain's engine may count as
 * complete.  0 for untied commands and domains >= PITS_MAX_DOMAINS. */
uint64_t pits_done_by_domain(const struct pits_model *m, uint16_t domain);
uint32_t pits_queued(const struct pits_model *m);      /* commands waiting */
uint32_t pits_capacity(const struct pits_model *m);    /* most that can wait */
void pits_queue_regs(const struct pits_model *m, uint32_t *creadr, uint32_t *cwriter);
/* Change the queue size while it is empty (0, or -1 when not empty / bad size). */
int pits_set_queue_bytes(struct pits_model *m, uint32_t bytes);
/* After a stall: skip the failed command and go on (the host's recovery). */
void pits_skip_stalled(struct pits_model *m);

/* Physical LPI state: 1/0, or -1 when the model never saw plpi mapped. */
int pits_lpi_pending(const struct pits_model *m, uint32_t plpi);
int pits_lpi_cfg(const struct pits_model *m, uint32_t plpi, uint8_t *cfg);
/* Is pdevid mapped / what does (pdevid, eventid) map to: 0, or -1. */
int pits_device_mapped(const struct pits_model *m, uint32_t pdevid);
int pits_query_event(const struct pits_model *m, uint32_t pdevid, uint32_t eventid,
		     uint32_t *plpi, uint32_t *pcpu);
/* The semantic core, for iteration (devices, events, LPIs). */
const struct ref *pits_ref(const struct pits_model *m);

/* Host property table: nr_plpis bytes, index pLPI - 8192 (what prop_write wrote). */
const uint8_t *pits_host_prop(const struct pits_model *m);

/* ITT blocks allocated and not freed. */
uint64_t pits_itt_live(const struct pits_model *m);
/* Record a PITS_CHK_ITT_LEAK finding per live block; returns how many. */
unsigned pits_check_leaks(struct pits_model *m);

const struct pits_stats *pits_get_stats(const struct pits_model *m);
const struct pits_finding *pits_findings(const struct pits_model *m, size_t *n);
/* Forget findings (a test that expects some). */
void pits_clear_findings(struct pits_model *m);

/* "MAPTI dev 0x3 ev 0x1 intid 0x2001 icid 0 (seq 12): EVENT_MAPPED; caused by
 * domain 1 guest MAPTI at queue offset 0x40" */
int pits_format_finding(const struct pits_finding *f, char *buf, size_t len);
const char *pits_check_name(enum pits_check c);

/* A one-line rendering of a physical or guest command. */
int pits_format_cmd(const struct its_cmd *c, char *buf, size_t len);

#endif /* HARNESS_PITS_MODEL_H */
