/*
 * harness.h: a complete host-side embedder of the vits engine, for tests,
 * benchmarks, fuzzers and replay.
 *
 * A struct harness owns one engine instance and everything around it:
 * - sparse guest RAM (guest_ram.h) behind ops.read_guest and ops.ram_check;
 * - a counting allocator behind ops.alloc/free and the host's alloc/free;
 * - a recording vCPU sink behind ops.inject: every (vcpu, intid) in order, plus
 *   per-vCPU counts;
 * - a log of every guest command's outcome (from the VITS_EV_CMD trace events),
 *   and an optional user trace callback chained after the harness's own;
 * - optionally a host (vits_host): a recording physical command sink with an
 *   optional capacity (VITS_E_AGAIN when full), a bump allocator of fake host ITT
 *   addresses, and a host property table;
 * - a tiny guest driver that programs the vITS the way Linux does, only through
 *   vits_mmio_write/read and guest RAM.
 *
 * The struct is public so tests read the sinks directly; treat the fields as
 * read-only except the ones marked settable.  Not thread-safe (nor is the engine).
 */
#ifndef HARNESS_HARNESS_H
#define HARNESS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vits.h"
#include "guest_ram.h"

#define HARNESS_DEFAULT_RAM_BASE 0x40000000ull
#define HARNESS_DEFAULT_RAM_SIZE (1ull << 30)
#define HARNESS_FAKE_ITT_BASE    0x8000000000ull   /* first fake host ITT address */
#define HARNESS_MAX_L1_VALID     1024u   /* L1 entries harness_guest_init makes valid */

struct harness_ram_region {
	uint64_t base, size;
};

struct harness_config {
	struct vits_config vits;          /* engine geometry and knobs */
	bool with_host;                   /* create a vits_host and attach the engine */
	struct vits_host_config host;     /* used when with_host */
	/* Attach the engine to this host instead (owned by the caller, who destroys it
	 * after the harness; several harnesses may share one: a multi-domain host).
	 * Takes precedence over with_host; the harness's physical sink, ITT allocator
	 * and host property table are then unused. */
	struct vits_host *attach_host;
	uint32_t phys_capacity;           /* physical sink capacity in commands; 0: unlimited */
	unsigned nr_ram;                  /* 0: one default region */
	struct harness_ram_region ram[GUEST_RAM_MAX_REGIONS];
};

/* Engine defaults (vits_config_default), no host, one RAM region of 1 GiB at
 * 0x40000000. */
void harness_config_default(struct harness_config *cfg);

/* Bytes and calls through one allocator. */
struct harness_alloc_stats {
	uint64_t cur, peak;               /* bytes held now, and at most */
	uint64_t allocs, frees, failed;
};

struct harness_inject {
	uint32_t vcpu, intid;
	uint64_t seq;                     /* guest commands completed before it (see cmd_seq) */
};

struct harness_cmd_rec {
	uint32_t offset;                  /* queue byte offset */
	struct its_cmd cmd;
	uint8_t outcome;                  /* enum vits_outcome */
	uint8_t reason;                   /* enum vits_reason */
};

/* A growable array of records. */
struct harness_vec {
	void *data;
	size_t n, cap;
};

struct harness {
	struct harness_config cfg;
	struct vits *vits;
	struct vits_host *host;           /* the host attached to: NULL without one */
	bool own_host;                    /* the harness created host (with_host) */
	struct guest_ram *ram;

	struct harness_alloc_stats engine_mem, host_mem;

	/* vCPU sink: struct harness_inject in delivery order; counts per vCPU. */
	struct harness_vec injects;
	uint64_t *inject_per_vcpu;        /* cfg.vits.nr_vcpus entries */

	/* Every VITS_EV_CMD seen: struct harness_cmd_rec, in processing order. */
	struct harness_vec cmds;
	uint64_t cmd_seq;                 /* VITS_EV_CMD events seen since create/reset */

	/* Physical side (with a host). */
	struct harness_vec phys;          /* struct its_cmd, in issue order */
	uint64_t phys_refused;            /* phys_cmd calls answered VITS_E_AGAIN */
	uint8_t *host_prop;               /* nr_plpis bytes, index pLPI - 8192 */
	uint64_t host_prop_writes, host_prop_oob;
	uint64_t itt_next;                /* next fake host ITT address */
	uint64_t itt_live, itt_live_bytes;

	/* Settable: called after the harness records each trace event. */
	void (*trace_fn)(void *ctx, const struct vits_event *ev);
	void *trace_ctx;

	/* Guest driver state (harness_guest_init). */
	struct {
		uint64_t queue_gpa, queue_size;  /* bytes */
		uint64_t wptr;                   /* next free slot, bytes */
		uint64_t creadr_seen;            /* CREADR offset as last read */
		uint64_t baser0, cbaser;         /* values written */
		uint64_t prop_gpa;
		unsigned prop_id_bits;
		uint64_t alloc_top;              /* harness_guest_alloc bump pointer (downwards) */
		bool inited;
	} drv;
};

/* Create guest RAM, the optional host and the engine.  0 or a negative VITS_E_*
 * (the engine's, or VITS_E_NOMEM / VITS_E_INVAL from the harness). */
int harness_create(const struct harness_config *cfg, struct harness **out);
/* Destroy the engine (draining the physical sink whenever its teardown answers
 * VITS_E_AGAIN, as a physical ITS consuming its queue would), the host and RAM. */
void harness_destroy(struct harness *h);

/* Clear the recorded sinks (injections, command log, physical commands, counters);
 * cheap, keeps the engine and RAM as they are. */
void harness_reset(struct harness *h);

/* Return to just after harness_create: vits_reset (draining the physical sink on
 * VITS_E_AGAIN), RAM forgotten, host property table zeroed, driver state cleared,
 * sinks cleared.  Returns vits_reset's result. */
int harness_reset_all(struct harness *h);

/* The engine's ops callbacks, also usable by a reference model on the same RAM
 * (ctx is the struct harness). */
int harness_read_guest(void *ctx, uint64_t gpa, void *buf, size_t len);
int harness_ram_check(void *ctx, uint64_t gpa, uint64_t len);

/* Physical sink capacity; 0 unlimited.  harness_phys_drain forgets the commands
 * recorded so far, as if the physical ITS had consumed them. */
void harness_set_phys_capacity(struct harness *h, uint32_t capacity);
void harness_phys_drain(struct harness *h);

/* Record accessors. */
static inline const struct harness_inject *harness_injects(const struct harness *h, size_t *n)
{
	*n = h->injects.n;
	return (const struct harness_inject *)h->injects.data;
}
static inline const struct harness_cmd_rec *harness_cmds(const struct harness *h, size_t *n)
{
	*n = h->cmds.n;
	return (const struct harness_cmd_rec *)h->cmds.data;
}
static inline const struct its_cmd *harness_phys_cmds(const struct harness *h, size_t *n)
{
	*n = h->phys.n;
	return (const struct its_cmd *)h->phys.data;
}

/* ---- guest driver ------------------------------------------------------------------ */

/* Program the vITS like a Linux driver: GITS_BASER0 (device table at devtab_gpa of
 * devtab_pages pages of page_size bytes, 4096/16384/65536; indirect: a two-level
 * table whose first L1 entries, those DeviceIDs below 2^devid_bits can use but at
 * most HARNESS_MAX_L1_VALID, are written Valid and pointing at distinct zeroed L2
 * pages from harness_guest_alloc; the rest stay invalid), then
 * GITS_CBASER (queue_pages 4 KiB pages at queue_gpa), GITS_CWRITER = 0, the property
 * table (vits_set_prop_table; prop_id_bits 0 for none), then GITS_CTLR.Enabled = 1.
 * 0, or -1 on a bad argument or when guest RAM cannot hold the tables. */
int harness_guest_init(struct harness *h, uint64_t queue_gpa, unsigned queue_pages,
		       uint64_t devtab_gpa, unsigned devtab_pages, unsigned page_size,
		       bool indirect, uint64_t prop_gpa, unsigned prop_id_bits);

/* The GITS_BASER0 value harness_guest_init writes for these parameters. */
uint64_t harness_baser0_value(uint64_t devtab_gpa, unsigned devtab_pages, unsigned page_size,
			      bool indirect);

/* Write one command into the guest queue at the driver's write pointer and advance
 * it (wrapping).  -1 when the queue is full (one slot is kept free, as software
 * does: full when wptr + 32 == CREADR) or not initialised. */
int harness_queue_cmd(struct harness *h, const struct its_cmd *cmd);

/* Write GITS_CWRITER with the driver's write pointer: the engine runs the queue. */
int harness_kick(struct harness *h);

/* Queue each command and kick once; when the queue fills, kick first to drain it.
 * 0, or -1 when the queue stays full (a budget, a stall or a disabled ITS). */
int harness_submit(struct harness *h, const struct its_cmd *cmds, size_t n);

/* Write the guest's property byte of intid (>= 8192) at prop_gpa + intid - 8192 in
 * guest RAM, as the guest's store does; the engine is not told.  0 or -1 (no table,
 * intid below 8192, outside RAM). */
int harness_set_prop(struct harness *h, uint32_t intid, uint8_t cfg);

/* harness_set_prop, then vits_prop_write as a hypervisor that traps the property
 * table reports the store (the eager and lazy policies act on it; the others
 * ignore it).  0 or -1. */
int harness_set_prop_trapped(struct harness *h, uint32_t intid, uint8_t cfg);

/* The embedder's vGIC changed GICR_PROPBASER: vits_set_prop_table, and later
 * harness_set_prop calls write the new table.  Returns the engine's result. */
int harness_set_prop_table(struct harness *h, uint64_t gpa, unsigned id_bits);

/* GITS_CTLR.Enabled through MMIO. */
int harness_enable(struct harness *h, bool enabled);

/* Register access helpers (vits_mmio_read/write). */
uint64_t harness_mmio_read(struct harness *h, uint64_t offset, unsigned size);
int harness_mmio_write(struct harness *h, uint64_t offset, unsigned size, uint64_t val);

/* Guest memory writes and a bump allocator for tables (downwards from the top of
 * the first RAM region).  harness_guest_alloc returns 0 when RAM is exhausted. */
int harness_write_guest(struct harness *h, uint64_t gpa, const void *buf, size_t len);
uint64_t harness_guest_alloc(struct harness *h, uint64_t size, uint64_t align);

#endif /* HARNESS_HARNESS_H */
