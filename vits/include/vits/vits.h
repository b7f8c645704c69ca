/*
 * vits.h: the public API of the embeddable virtual GICv3 ITS engine.
 *
 * One struct vits per virtual ITS.  Instances attach to a struct vits_host, which owns
 * the physical side: the physical command sink, physical LPI allocation and the
 * assignment of virtual DeviceIDs to physical ones.
 *
 * Contract with the embedder (docs/embedding.md says more):
 * - Locking: the engine takes no locks.  Calls on one struct vits, and on the
 *   struct vits_host it is attached to, must be serialised by the embedder.
 *   Distinct hosts are independent.
 * - Memory: the engine allocates only through vits_ops.alloc / vits_host_ops.alloc,
 *   and never more than the configured mem_cap bytes per instance.  An allocation the
 *   cap refuses is a guest-command error (VITS_R_NO_MEMORY), never a crash.
 * - Guest memory is read only through vits_ops.read_guest.
 * - Work per call is bounded by vits_config.budget commands (0 = unlimited); the
 *   rest is done by later vits_resume() calls, in order.
 * - The engine never prints; everything it sees and does is reported through the
 *   optional trace hook.
 *
 * Return values: functions return >= 0 on success and a negative VITS_E_* code when
 * the embedder misuses the API; vits_strerror() names them.  What the *guest* does
 * wrong is not an API error: it is a command outcome with a reason (enum
 * vits_reason), reported through the trace hook and the counters.
 */
#ifndef VITS_VITS_H
#define VITS_VITS_H

#include "vits_platform.h"
#include "its_cmd.h"
#include "its_regs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- API errors ---------------------------------------------------------------- */

enum vits_err {
	VITS_OK = 0,
	VITS_E_INVAL = -1,   /* a NULL pointer, a bad size field or a value out of range */
	VITS_E_NOMEM = -2,   /* the allocator or the memory cap refused */
	VITS_E_RANGE = -3,   /* an ID beyond the configured geometry */
	VITS_E_STATE = -4,   /* not allowed in the current state */
	VITS_E_NOENT = -5,   /* nothing mapped there */
	VITS_E_EXIST = -6,   /* already there */
	VITS_E_AGAIN = -7,   /* the physical command queue is full; call again later */
	VITS_E_NOSPC = -8,   /* a fixed-size table (instances, physical LPIs) is full */
	VITS_E_COUNT = 9
};

/* Name and description of a VITS_E_* code; never NULL. */
const char *vits_strerror(int err);

/* ---- Guest command outcomes ------------------------------------------------------ */

/* Why a guest command (or MSI) failed.  Data about the guest, not an engine failure. */
enum vits_reason {
	VITS_R_NONE = 0,
	VITS_R_DEVICE_OOR,        /* DeviceID beyond TYPER.Devbits or the device table */
	VITS_R_DEVICE_UNMAPPED,   /* no valid MAPD for the DeviceID */
	VITS_R_EVENT_OOR,         /* EventID beyond the device's ITT size */
	VITS_R_EVENT_UNMAPPED,    /* no mapping for (DeviceID, EventID) */
	VITS_R_EVENT_MAPPED,      /* MAPTI/MAPI onto an already mapped event */
	VITS_R_ITT_SIZE_OOR,      /* MAPD Size beyond TYPER.ID_bits */
	VITS_R_ITT_OUTSIDE_RAM,   /* MAPD ITT range not inside guest RAM */
	VITS_R_COLLECTION_OOR,    /* ICID beyond TYPER.CIDbits or the collection table */
	VITS_R_COLLECTION_UNMAPPED, /* the collection has no valid MAPC */
	VITS_R_PROCNUM_OOR,       /* RDbase (a PE number) not a vCPU of this ITS */
	VITS_R_INTID_OOR,         /* pINTID not an LPI of the property table */
	VITS_R_DEVICE_TABLE,      /* device/collection table not valid, or its L1 entry invalid */
	VITS_R_NO_MEMORY,         /* the memory cap refused the state this command needs */
	VITS_R_MEM_FAULT,         /* a guest-memory read failed (outside guest RAM) */
	VITS_R_UNSUPPORTED,       /* a GICv4 command: recognised, not supported */
	VITS_R_UNKNOWN_OPCODE,    /* an opcode the architecture does not define */
	VITS_R_ITS_DISABLED,      /* MSI while GITS_CTLR.Enabled = 0 */
	VITS_R_NOT_ASSIGNED,      /* physical LPI or device not assigned to this domain */
	VITS_R_CLEARED,           /* physical LPI of an event whose guest CLEAR is still in
				   * flight: pending from before the CLEAR, which removes it */
	VITS_R_COUNT
};

/* Name of a reason ("EVENT_UNMAPPED"); never NULL. */
const char *vits_reason_name(enum vits_reason r);

/* The E_ITS_* code Linux uses for (opcode, reason), e.g. 0x010a04, or 0 when the
 * architecture's error-code list has none for it. */
uint32_t vits_reason_e_its(enum vits_reason r, unsigned opcode);

enum vits_outcome {
	VITS_CMD_OK = 0,          /* the command ran */
	VITS_CMD_SKIPPED = 1,     /* failed; CREADR advanced past it (skip mode) */
	VITS_CMD_STALLED = 2,     /* failed; the queue stalled on it (stall mode) */
};

/*
 * How guest LPI configuration reaches the physical ITS for assigned devices
 * (DESIGN.md "Policies"; docs/policies.md has what each guarantees and costs).
 * Whatever the policy, an LPI that two or more events of the domain map keeps the
 * host LPIs of its assigned events enabled, as virtual does for every LPI: its
 * pending state lives in the engine, so MSIs through several events merge into one
 * delivery (docs/semantics.md, "Aliased LPIs").
 */
enum vits_policy {
	VITS_POLICY_FORWARD = 0,  /* guest INV/INVALL/SYNC become the same physical commands */
	VITS_POLICY_EAGER,        /* trapped property write -> host byte + physical INV at once */
	VITS_POLICY_LAZY,         /* trapped write marks a per-domain dirty bit; INV/INVALL
				   * reach the physical ITS only for dirty LPIs */
	VITS_POLICY_LAZY_GLOBAL,  /* lazy with one dirty bitmap for the whole host */
	VITS_POLICY_VIRTUAL,      /* host LPIs stay enabled; enable/priority are virtual */
	VITS_POLICY_COUNT
};

/* "forward", "eager", "lazy", "lazy-global", "virtual"; NULL for other values. */
const char *vits_policy_name(enum vits_policy p);
/* The policy of a name, or VITS_E_INVAL. */
int vits_policy_from_name(const char *name);

/* IMPDEF choice: what a command error does to the queue. */
enum vits_error_mode {
	VITS_ERRMODE_SKIP = 0,    /* advance CREADR, as KVM and Xen do */
	VITS_ERRMODE_STALL = 1,   /* set CREADR.Stalled and stop, as hardware may */
};

/* ---- Trace hook -------------------------------------------------------------------- */

enum vits_ev_type {
	VITS_EV_MMIO_READ = 1,    /* a register read: offset, size, value returned */
	VITS_EV_MMIO_WRITE,       /* a register write: offset, size, value written */
	VITS_EV_MEM_READ,         /* a guest-memory read: gpa, len, bytes, result */
	VITS_EV_CMD,              /* a guest command processed: offset, bytes, outcome */
	VITS_EV_INJECT,           /* a vLPI handed to a vCPU */
	VITS_EV_PHYS_CMD,         /* a physical command emitted, with its cause */
	VITS_EV_CREADR,           /* CREADR or Stalled changed */
	VITS_EV_MSI,              /* a device MSI (TRANSLATER write) and its result */
	VITS_EV_PROP_TABLE,       /* the embedder set the property table (PROPBASER) */
	VITS_EV_HOST_LPI,         /* a physical LPI delivered to the host for this domain */
	VITS_EV_ASSIGN,           /* a device assigned (or unassigned) by the embedder */
	VITS_EV_PROP_WRITE,       /* a trapped guest store to the property table */
	VITS_EV_COUNT
};

/* What caused a physical command. */
enum vits_cause {
	VITS_CAUSE_GUEST_CMD = 0, /* the guest command at cause_offset */
	VITS_CAUSE_PROP_WRITE,    /* a trapped property-table write (policies) */
	VITS_CAUSE_TEARDOWN,      /* domain teardown or device unassignment */
};

struct vits_event {
	uint16_t type;            /* enum vits_ev_type */
	uint16_t domain;          /* vits_config.domain_id */
	union {
		struct { uint64_t offset, value; uint8_t size; } mmio;
		struct { uint64_t gpa; const uint8_t *data; uint32_t len; int32_t result; } mem;
		struct {
			uint32_t offset;          /* byte offset in the queue */
			struct its_cmd cmd;
			uint8_t outcome;          /* enum vits_outcome */
			uint8_t reason;           /* enum vits_reason */
			uint32_t e_its;           /* Linux E_ITS_* code, 0 if none */
		} cmd;
		struct { uint32_t vcpu, intid; } inject;
		struct {
			struct its_cmd cmd;
			uint8_t cause;            /* enum vits_cause */
			uint32_t cause_offset;    /* queue offset of the guest command */
			uint32_t cause_opcode;    /* its opcode of the guest command */
		} phys;
		struct { uint32_t creadr; uint8_t stalled; } creadr;
		struct { uint32_t devid, eventid; uint8_t reason; } msi;
		struct { uint64_t gpa; uint8_t id_bits; } prop;
		struct { uint32_t plpi, intid; uint8_t reason; } host_lpi;
		struct { uint32_t vdevid, pdevid; uint8_t assigned; } assign;
		struct { uint64_t gpa, value; uint8_t len; } prop_write;
	} u;
};

/* ---- Configuration and operations -------------------------------------------------- */

struct vits_ops {
	size_t sz;   /* sizeof(struct vits_ops): lets fields be added later */
	/* Required.  Return zeroed memory or NULL; free gets the size allocated. */
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *ptr, size_t size);
	/* Required.  Read guest memory; 0 on success, negative when [gpa, gpa+len) is
	 * not guest RAM (the engine then records VITS_R_MEM_FAULT). */
	int (*read_guest)(void *ctx, uint64_t gpa, void *buf, size_t len);
	/* Optional.  1 when [gpa, gpa+len) is guest RAM, 0 when not; lets MAPD refuse
	 * an ITT outside guest RAM.  Absent: every range is accepted. */
	int (*ram_check)(void *ctx, uint64_t gpa, uint64_t len);
	/* Required.  Hand vLPI intid to vCPU vcpu (the vGIC makes it pending there). */
	void (*inject)(void *ctx, uint32_t vcpu, uint32_t intid);
	/* Optional.  Receives every input and output event, synchronously. */
	void (*trace)(void *ctx, const struct vits_event *ev);
};

struct vits_config {
	size_t sz;              /* sizeof(struct vits_config) */
	uint16_t domain_id;     /* reported in trace events */
	uint32_t nr_vcpus;      /* 1..65535: valid RDbase (PE numbers) are 0..nr_vcpus-1 */
	uint8_t devid_bits;     /* 1..32: TYPER.Devbits + 1 */
	uint8_t eventid_bits;   /* 1..32: TYPER.ID_bits + 1 */
	uint8_t cid_bits;       /* 1..16: TYPER.CIDbits + 1 (CIL = 1) */
	uint8_t intid_bits;     /* 14..24: largest property table the engine will track;
				 * its LPI state (4 bytes per LPI, 6 with a host, 14 under
				 * eager and the lazy policies) is allocated
				 * at create and must fit in mem_cap */
	uint32_t mem_cap;       /* bytes this instance may allocate (0: 16 MiB) */
	uint32_t budget;        /* commands per call, 0 = unlimited */
	uint8_t error_mode;     /* enum vits_error_mode */
	uint32_t xlate_cache;   /* translation-cache entries, power of two (0: 256) */
	uint32_t iidr;          /* GITS_IIDR value (0: the engine's own) */
	uint8_t policy;         /* enum vits_policy (assigned devices only) */
	uint32_t invall_threshold; /* lazy: an INVALL with at most K dirty LPIs becomes K
				    * INVs (0: always INVALL) */
	uint8_t sync_squash;    /* 1: a guest SYNC reaches the physical ITS only when physical
				 * commands went to that target since its last SYNC */
};

/* Fills a config with the defaults: 4 vCPUs, 20 DeviceID bits, 16 EventID bits,
 * 16 collection bits, 16 INTID bits, 16 MiB cap, no budget, skip mode, forward
 * policy, K = 0, no SYNC squashing. */
void vits_config_default(struct vits_config *cfg);

struct vits;
struct vits_host;

/* Create a vITS.  host may be NULL: every device is then purely virtual.
 * Errors: VITS_E_INVAL (bad config or ops), VITS_E_NOMEM, VITS_E_NOSPC (host full). */
int vits_create(const struct vits_config *cfg, const struct vits_ops *ops, void *ctx,
		struct vits_host *host, struct vits **out);

/* Tear the instance down.  With a host: leaves the physical ITS clean (host property
 * bytes wiped, DISCARD of every event it mapped, MAPD V=0 of its devices, SYNC),
 * physical LPIs freed; the commands are counted as teardown cost.  Returns 0 when the
 * instance is gone, or VITS_E_AGAIN when the physical queue filled: the teardown is
 * kept in order and the embedder calls vits_destroy() again once the physical ITS has
 * made room (the instance stays valid, and still serves MSIs, until then). */
int vits_destroy(struct vits *v);

/* Return to the state just after vits_create() without freeing the instance
 * (cheap: fuzzers reset between inputs): registers, mappings, LPI state, counters.
 * With a host, the physical side is cleaned up as destroy does; device assignments
 * (the embedder's, not the guest's) survive.  Returns 0 or VITS_E_AGAIN (as destroy). */
int vits_reset(struct vits *v);

/* ---- Guest-facing entry points ---------------------------------------------------- */

/* A trapped register access at offset (from the ITS base; the translation frame is at
 * 0x10000) of size 4 or 8.  Unknown offsets and other sizes read as zero and ignore
 * writes, as the guest sees them (counted in stats.bad_access).
 * Errors: VITS_E_INVAL (NULL). */
int vits_mmio_read(struct vits *v, uint64_t offset, unsigned size, uint64_t *val);
int vits_mmio_write(struct vits *v, uint64_t offset, unsigned size, uint64_t val);

/* A device wrote EventID to GITS_TRANSLATER; devid is the requester ID from the bus.
 * Returns 0 when the LPI was made pending (and delivered if enabled), or a positive
 * enum vits_reason when the MSI was dropped.  Errors: VITS_E_INVAL. */
int vits_msi(struct vits *v, uint32_t devid, uint32_t eventid);

/* Process queued commands left by a budget.  Returns the number processed (0 when
 * none was waiting).  Errors: VITS_E_INVAL. */
int vits_resume(struct vits *v);

/* 1 when commands wait between CREADR and CWRITER and the queue is neither stalled
 * nor disabled, or physical commands wait for room in the physical queue (the
 * embedder should call vits_resume() later), else 0. */
int vits_work_pending(const struct vits *v);

/* A trapped guest store to its LPI property table (eager, lazy and lazy-global
 * policies trap it; forward and virtual need no trap and ignore the call).  Call it
 * after the store reached guest memory.  len is 1, 2, 4 or 8 bytes, value little-endian.
 * Bytes outside the property table are ignored.  The physical commands it causes
 * are bounded by len and queued in order (see vits_work_pending).
 * Errors: VITS_E_INVAL (NULL, bad len). */
int vits_prop_write(struct vits *v, uint64_t gpa, unsigned len, uint64_t value);

/* The redistributors' GICR_PROPBASER, as the embedder's vGIC holds it: the property
 * table at gpa covers INTIDs below 2^id_bits (id_bits = PROPBASER.IDbits + 1).
 * id_bits above vits_config.intid_bits are clamped to it.  gpa 0 with id_bits 0
 * forgets the table.  Errors: VITS_E_INVAL (id_bits < 14 and not 0, or > 32). */
int vits_set_prop_table(struct vits *v, uint64_t gpa, unsigned id_bits);

/* ---- Physical side ----------------------------------------------------------------- */

struct vits_host_ops {
	size_t sz;              /* sizeof(struct vits_host_ops) */
	void *(*alloc)(void *ctx, size_t size);   /* required, zeroed memory */
	void (*free)(void *ctx, void *ptr, size_t size);
	/* Required.  Queue one command on the physical ITS: 0, or VITS_E_AGAIN when the
	 * physical queue is full. */
	int (*phys_cmd)(void *ctx, const struct its_cmd *cmd);
	/* Required.  Host memory for a physical ITT of bytes bytes (256-byte aligned). */
	int (*itt_alloc)(void *ctx, uint32_t pdevid, uint64_t bytes, uint64_t *pa);
	void (*itt_free)(void *ctx, uint32_t pdevid, uint64_t pa, uint64_t bytes);
	/* Required.  Write the host property-table byte of physical LPI plpi. */
	void (*prop_write)(void *ctx, uint32_t plpi, uint8_t cfg);
	/* Optional.  How many of the commands phys_cmd accepted (counted from host
	 * creation) the physical ITS has completed, e.g. derived from its CREADR.  With
	 * it, a guest command that sent physical commands (and every SYNC, INV and
	 * INVALL) completes only once the physical commands up to it have run, and
	 * physical LPIs and ITT memory return to the host only once the commands that
	 * stop using them have run; the embedder calls vits_resume() when the physical
	 * ITS makes progress.  Absent: commands count as complete when queued (a
	 * physical ITS that keeps up). */
	uint64_t (*phys_done)(void *ctx);
};

struct vits_host_config {
	size_t sz;              /* sizeof(struct vits_host_config) */
	uint32_t nr_pcpus;      /* physical collections 0..nr_pcpus-1 map to PE 0..nr_pcpus-1 */
	uint32_t nr_plpis;      /* physical LPIs 8192..8192+nr_plpis-1 are the host's to give */
	uint32_t max_instances; /* vITS instances that may attach (0: 64) */
	uint8_t pdevid_bits;    /* physical ITS DeviceID bits */
	uint8_t peventid_bits;  /* physical ITS EventID bits */
};

void vits_host_config_default(struct vits_host_config *cfg);

/* Errors: VITS_E_INVAL, VITS_E_NOMEM. */
int vits_host_create(const struct vits_host_config *cfg, const struct vits_host_ops *ops,
		     void *ctx, struct vits_host **out);
/* Every instance must have been destroyed first. */
void vits_host_destroy(struct vits_host *h);

/* A physical LPI fired.  The host finds the domain and vLPI it belongs to and makes it
 * pending there.  Returns 0, or a positive enum vits_reason when dropped (not owned,
 * unmapped, or disabled by the guest).  Errors: VITS_E_INVAL, VITS_E_RANGE. */
int vits_host_plpi(struct vits_host *h, uint32_t plpi);

/* The physical ITS made progress (with vits_host_ops.phys_done): hand back the
 * physical LPIs and ITT memory that its completed commands stopped using.  Call it,
 * with vits_resume() of the instances that have work pending, when the physical
 * queue advances.  Returns how many releases still wait.  Errors: VITS_E_INVAL. */
int vits_host_poll(struct vits_host *h);

/* Assign guest DeviceID vdevid of v to physical DeviceID pdevid: from then on the
 * guest's commands for vdevid are forwarded to the physical ITS.  Must happen while
 * the guest has not mapped vdevid.  Errors: VITS_E_INVAL (no host), VITS_E_RANGE,
 * VITS_E_EXIST (vdevid assigned, or pdevid taken by any instance), VITS_E_STATE
 * (vdevid mapped), VITS_E_NOMEM. */
int vits_assign_device(struct vits *v, uint32_t vdevid, uint32_t pdevid);

/* Undo an assignment: the device's physical mappings are removed (teardown cost).
 * Returns 0 when done, or VITS_E_AGAIN when the physical queue filled first: the
 * physical DeviceID stays taken until a later call (or vits_resume) has queued the
 * teardown and this call is repeated.  Errors: VITS_E_INVAL, VITS_E_NOENT. */
int vits_unassign_device(struct vits *v, uint32_t vdevid);

/* Route vCPU vcpu's physical LPIs to physical CPU pcpu (default: vcpu % nr_pcpus).
 * Takes effect at the next MAPTI/MAPI/MOVI.  Errors: VITS_E_INVAL, VITS_E_RANGE. */
int vits_set_vcpu_pcpu(struct vits *v, uint32_t vcpu, uint32_t pcpu);

/* ---- State queries (tests, oracles, tools) ---------------------------------------- */

struct vits_device_info {
	uint32_t devid;
	uint8_t event_bits;     /* MAPD Size + 1 */
	uint64_t itt_addr;
	uint8_t assigned;
	uint32_t pdevid;
};

struct vits_event_info {
	uint32_t intid;
	uint16_t icid;
	uint32_t plpi;          /* 0 when purely virtual */
};

struct vits_lpi_info {
	uint8_t cfg;            /* property byte as last read at MAPTI/INV/INVALL */
	uint8_t pending;        /* pending in the (virtual) redistributor, not yet injected */
	uint32_t pending_vcpu;  /* where it is pending */
};

/* Errors: VITS_E_INVAL, VITS_E_RANGE, VITS_E_NOENT (not mapped). */
int vits_query_device(const struct vits *v, uint32_t devid, struct vits_device_info *out);
int vits_query_event(const struct vits *v, uint32_t devid, uint32_t eventid,
		     struct vits_event_info *out);
int vits_query_collection(const struct vits *v, uint32_t icid, uint32_t *vcpu);
int vits_query_lpi(const struct vits *v, uint32_t intid, struct vits_lpi_info *out);

/* Call fn for every LPI pending in the engine (made pending, not yet injected), in
 * INTID order; stops early and returns fn's value when it is non-zero.  Costs the
 * range of LPIs the guest has used since the last reset, not 2^intid_bits.  fn must
 * not call back into the engine's mutators. */
int vits_foreach_pending_lpi(const struct vits *v,
			     int (*fn)(void *arg, uint32_t intid, const struct vits_lpi_info *l),
			     void *arg);

/* Call fn for every mapped device in unspecified order; stops early and returns fn's
 * value when it is non-zero.  fn must not call back into the engine's mutators. */
int vits_foreach_device(const struct vits *v,
			int (*fn)(void *arg, const struct vits_device_info *d), void *arg);

/* CREADR and the queue geometry, for oracles. */
struct vits_queue_info {
	uint32_t creadr, cwriter, size;  /* bytes; size 0 when CBASER is not valid */
	uint8_t stalled, enabled;
};
int vits_query_queue(const struct vits *v, struct vits_queue_info *out);

struct vits_stats {
	uint64_t guest_cmds[ITS_IDX_COUNT];     /* processed, by type (errors included) */
	uint64_t guest_cmd_total;
	uint64_t cmd_errors;                    /* commands that failed */
	uint64_t errors_by_reason[VITS_R_COUNT];
	uint64_t unsupported_cmds;              /* GICv4 opcodes */
	uint64_t phys_cmds[ITS_IDX_COUNT];      /* emitted to the physical ITS, by type */
	uint64_t phys_cmd_total;
	uint64_t phys_queue_full;               /* times the physical queue was full */
	uint64_t phys_global_cmds;              /* INVALL and MOVALL among phys_cmds */
	uint64_t phys_by_cause[3];              /* by enum vits_cause */
	uint64_t prop_traps;                    /* vits_prop_write calls */
	uint64_t dirty_lpis;                    /* lazy: dirty LPIs of this domain now */
	uint64_t msis, msis_dropped;
	uint64_t host_lpis, host_lpis_dropped;
	uint64_t host_lpis_spurious;            /* for an LPI the guest had disabled */
	uint64_t injections;
	uint64_t xlate_hits, xlate_misses;
	uint64_t mmio_reads, mmio_writes, bad_access;
	uint64_t ignored_writes;                /* writes refused by the register's state */
	uint64_t stalls;
	uint64_t prop_reads, prop_faults;
	uint64_t mem_used, mem_peak;            /* bytes held through the allocator */
};

/* Errors: VITS_E_INVAL. */
int vits_get_stats(const struct vits *v, struct vits_stats *out);

/* Host-wide accounting: the sum over instances past and present. */
struct vits_host_stats {
	uint64_t phys_cmds[ITS_IDX_COUNT];
	uint64_t phys_cmd_total;
	uint64_t phys_global_cmds;              /* INVALL and MOVALL */
	uint64_t phys_by_cause[3];              /* by enum vits_cause */
	uint64_t phys_queue_full;
	uint64_t host_lpis, host_lpis_dropped, host_lpis_spurious;
	uint64_t plpis_in_use;
	uint32_t instances;
	uint64_t dirty_plpis;                   /* lazy-global: dirty now */
};
int vits_host_get_stats(const struct vits_host *h, struct vits_host_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* VITS_VITS_H */
