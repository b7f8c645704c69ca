/*
 * vits_internal.h: the engine's private state, shared by the files of vits/src only.
 */
#ifndef VITS_INTERNAL_H
#define VITS_INTERNAL_H

#include "vits.h"

#define VITS_INTERNAL __attribute__((visibility("hidden")))

/* ---- capped allocation (alloc.c) ---- */

struct vits_mem {
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *ptr, size_t size);
	void *ctx;
	uint64_t used, peak, cap;
};

VITS_INTERNAL void *vits_mem_alloc(struct vits_mem *m, size_t size);
VITS_INTERNAL void vits_mem_free(struct vits_mem *m, void *p, size_t size);

/* ---- interrupt translation table entry and device ---- */

struct vits_ite {
	uint32_t intid;         /* 0: event not mapped */
	uint16_t icid;
	uint16_t pcpu;          /* physical collection of plpi */
	uint32_t plpi;          /* physical LPI when the device is assigned, else 0 */
};

struct vits_dev {
	uint32_t devid;
	uint8_t valid;          /* guest MAPD V=1 in force */
	uint8_t event_bits;     /* MAPD Size + 1 */
	uint8_t assigned;       /* embedder assigned it to a physical device */
	uint8_t pmapped;        /* a physical MAPD V=1 is in force */
	uint32_t pdevid;
	uint32_t nr_mapped;     /* events mapped */
	uint64_t itt_addr;
	uint64_t pitt;          /* host ITT address (assigned devices) */
	uint64_t pitt_bytes;
	struct vits_ite **itt;  /* ITT shadow directory when valid (vits_itt_dir_len) */
	struct vits_ite *itt_one[1];    /* the directory of an ITT of one chunk */
	uint32_t nr_chunks;     /* chunks of it allocated */
};

/* The ITT shadow is sparse: a directory of chunk pointers, each chunk holding the
 * entries of VITS_ITT_CHUNK consecutive events (fewer when the ITT is smaller), made
 * by the first MAPTI/MAPI into it and freed with the device's mapping.  MAPD costs
 * 8 bytes per VITS_ITT_CHUNK events of its ITT, not 12 per event: a guest cannot make
 * one MAPD zero megabytes, and memory follows the events it maps. */
#define VITS_ITT_CHUNK_SHIFT 6u
#define VITS_ITT_CHUNK (1u << VITS_ITT_CHUNK_SHIFT)

static inline uint64_t vits_itt_dir_len(unsigned event_bits)
{
	if (event_bits <= VITS_ITT_CHUNK_SHIFT)
		return 1;
	return (uint64_t)1 << (event_bits - VITS_ITT_CHUNK_SHIFT);
}

static inline uint32_t vits_itt_chunk_len(unsigned event_bits)
{
	return event_bits >= VITS_ITT_CHUNK_SHIFT ? VITS_ITT_CHUNK : (uint32_t)1 << event_bits;
}

/* Event ev's entry (ev < 2^event_bits), or NULL when nothing in its chunk was ever
 * mapped, which reads as unmapped. */
static inline struct vits_ite *vits_ite_find(const struct vits_dev *d, uint32_t ev)
{
	struct vits_ite *c = d->itt[ev >> VITS_ITT_CHUNK_SHIFT];
	return c != NULL ? &c[ev & (VITS_ITT_CHUNK - 1)] : NULL;
}

/* Event ev's entry when d is a mapped device, ev is in its range and the chunk
 * exists; else NULL.  For DeviceID/EventID pairs that come from outside the ITT. */
static inline struct vits_ite *vits_ite_lookup(const struct vits_dev *d, uint32_t ev)
{
	if (d == NULL || !d->valid || (ev >> (d->event_bits - 1) >> 1))
		return NULL;
	return vits_ite_find(d, ev);
}

/* A mapped event's entry (its chunk exists). */
static inline struct vits_ite *vits_ite(const struct vits_dev *d, uint32_t ev)
{
	return &d->itt[ev >> VITS_ITT_CHUNK_SHIFT][ev & (VITS_ITT_CHUNK - 1)];
}

/* Visit device d's mapped events (ITT entries with an INTID) in EventID order, with
 * e (uint32_t) and ite (a struct vits_ite pointer the caller declares) set; absent
 * chunks are skipped whole and the walk stops after the last mapped event (left_
 * counts those still ahead), so it is O(events mapped + chunks before the last), not
 * O(ITT size).  The body may unmap the event it visits, nothing else. */
#define vits_for_each_mapped_event(d, e, ite)                                          \
	for (uint32_t e = 0, left_ = (d)->nr_mapped;                                   \
	     left_ != 0 && (uint64_t)e < (uint64_t)1 << (d)->event_bits; e++)          \
		if ((d)->itt[e >> VITS_ITT_CHUNK_SHIFT] == NULL)                       \
			e |= VITS_ITT_CHUNK - 1;                                       \
		else if (((ite) = vits_ite(d, e))->intid == 0 || (left_--, 0))         \
			;                                                              \
		else

/* Open-addressing (linear probing) map DeviceID -> struct vits_dev *. */
struct vits_devmap {
	struct vits_dev **slot;
	uint32_t cap;           /* power of two, 0 before the first insert */
	uint32_t count;
};

/* ---- translation cache ---- */

struct vits_xlate {
	uint32_t devid, eventid;
	uint32_t intid, vcpu;
	uint32_t gen;           /* valid iff == vits.xgen */
};

/* ---- physical commands and the reverse map ---- */

/* Something the host may reuse only after a physical command has run. */
enum vits_release {
	VITS_REL_NONE = 0,
	VITS_REL_PLPI,          /* a physical LPI, after its DISCARD */
	VITS_REL_ITT,           /* ITT memory, after its device's MAPD V=0 */
};

struct vits_pcmd {
	struct its_cmd cmd;
	uint32_t cause_offset, cause_opcode;
	uint8_t cause;
	uint8_t release;        /* enum vits_release, once this command is accepted */
	uint32_t rel_id;        /* pLPI or pDeviceID */
	uint64_t rel_pa, rel_bytes;
	uint32_t clears;        /* pLPI whose pending state this CLEAR clears, 0: none */
};

struct vits_retire {
	uint64_t seq;           /* host sequence number of the command it waits for */
	uint8_t kind;           /* enum vits_release */
	uint32_t id;
	uint64_t pa, bytes;
};

#define VITS_SLOT_DEAD 0xffffffffu  /* pLPI retiring from a destroyed instance */

struct vits_rmap {
	uint32_t devid, eventid;  /* validated by lookup: no invalidation needed */
};

/* ---- per-instance state ---- */

#define VITS_COLL_UNMAPPED 0xffffffffu
#define VITS_MAX_PCPUS 4096u

struct vits {
	struct vits_config cfg;
	struct vits_ops ops;
	void *ctx;
	struct vits_mem mem;
	struct vits_host *host;
	uint32_t host_slot;

	/* registers */
	uint32_t ctlr;          /* Enabled only */
	uint64_t typer;
	uint64_t cbaser;
	uint64_t baser[GITS_BASER_COUNT];
	uint32_t cwriter;       /* byte offset */
	uint32_t creadr;        /* byte offset */
	uint8_t stalled;
	uint32_t qsize;         /* bytes; 0 when CBASER invalid */

	/* tables */
	struct vits_devmap devs;
	uint32_t *coll;         /* 2^cid_bits entries: target vCPU or VITS_COLL_UNMAPPED */
	uint32_t nr_coll;

	/* LPIs: index = INTID - 8192 */
	uint32_t nr_lpis;       /* 2^intid_bits - 8192 */
	uint8_t *lpi_cfg;
	uint8_t *lpi_pending;
	uint16_t *lpi_pvcpu;    /* nr_vcpus <= 65535 */
	uint64_t prop_gpa;
	uint8_t prop_bits;      /* 0: no property table */
	/* With a host: events mapping each LPI, so the physical LPIs of every event of
	 * an aliased LPI (mapped by several events) get its configuration. */
	uint16_t *lpi_nmap;     /* saturates at 0xffff, then stays: "aliased" */
	uint32_t nr_aliased;    /* LPIs mapped by more than one event */
	uint64_t *lpi_mark;     /* scratch bitmap over LPIs (INVALL) */
	/* Indices [lpi_lo, lpi_hi) hold every LPI whose state above may be non-zero
	 * since the last reset (empty: lo >= hi).  A guest uses a handful of its 2^16
	 * LPIs: reset clears and vits_foreach_pending_lpi walks only these. */
	uint32_t lpi_lo, lpi_hi;

	/* physical routing */
	uint32_t *vcpu_pcpu;
	uint32_t nr_assigned_mapped;  /* assigned devices with a physical MAPD in force */

	/* MSI translation cache */
	struct vits_xlate *xc;
	uint32_t xc_mask;
	uint32_t xgen;

	/* physical commands waiting for room in the physical queue, in order */
	struct vits_pcmd *ob;
	uint32_t ob_cap, ob_head, ob_count;
	uint8_t inflight;       /* the command at CREADR ran; its physical commands wait
				 * for queue room, or for the physical ITS to run them */
	uint8_t inflight_sync;  /* ... it also waits for phys_done (it sent physical
				 * commands, or is a SYNC, INV or INVALL) */
	uint64_t last_seq;      /* host sequence number of our last accepted command */
	uint8_t tearing_down;   /* vits_destroy() returned VITS_E_AGAIN */

	/* policies */
	struct vits_rmap *rmap; /* vLPI -> (device, event), eager and lazy policies */
	uint64_t sync_dirty[VITS_MAX_PCPUS / 64];  /* pCPUs sent commands since their SYNC */

	/* the guest command being processed (cause of physical commands) */
	uint32_t cur_offset;
	uint32_t cur_opcode;
	uint8_t cur_cause;

	struct vits_stats st;
};

/* ---- host (host.c) ---- */

struct vits_host_plpi {
	uint32_t slot;          /* instance slot + 1; 0 = free */
	uint32_t vdevid, eventid;
	uint32_t intid;         /* the vLPI the event mapped when this pLPI was given */
	uint32_t pcpu;          /* physical collection it is mapped to */
	uint64_t clear_seq;     /* host sequence number of its last physical CLEAR
				 * (UINT64_MAX while that waits in an outbox), 0: none */
};

struct vits_host {
	struct vits_host_config cfg;
	struct vits_host_ops ops;
	void *ctx;
	struct vits_mem mem;
	struct vits **inst;     /* max_instances slots */
	uint64_t *plpi_bitmap;  /* 1 = in use */
	struct vits_host_plpi *plpi;
	uint32_t plpi_hint;
	uint64_t *dirty;        /* lazy policies: host byte written, not yet invalidated */
	uint8_t *hcfg;          /* what the host property table holds, per physical LPI */
	uint64_t seq;           /* physical commands accepted by phys_cmd so far */
	struct vits_retire *retire;     /* FIFO of releases waiting for phys_done */
	uint32_t retire_cap, retire_head, retire_count;
	struct vits_host_stats st;
};

/* ---- trace helpers (vits.c) ---- */

static inline void vits_trace(struct vits *v, struct vits_event *ev)
{
	if (vits_unlikely(v->ops.trace != NULL)) {
		ev->domain = v->cfg.domain_id;
		v->ops.trace(v->ctx, ev);
	}
}

VITS_INTERNAL int vits_read_guest(struct vits *v, uint64_t gpa, void *buf, uint32_t len);

/* ---- device map (devmap.c) ---- */

VITS_INTERNAL struct vits_dev *vits_dev_find(const struct vits *v, uint32_t devid);
VITS_INTERNAL struct vits_dev *vits_dev_get(struct vits *v, uint32_t devid);
VITS_INTERNAL void vits_dev_put(struct vits *v, struct vits_dev *d);
VITS_INTERNAL void vits_devmap_free(struct vits *v);

/* ---- ITT shadow (itt.c) ---- */

/* A directory for 2^event_bits events, every chunk absent, in *dir: allocated when the
 * ITT has more than one chunk, else NULL (the device's own itt_one serves).  Fails
 * (-1) over the cap. */
VITS_INTERNAL int vits_itt_alloc(struct vits *v, unsigned event_bits, struct vits_ite ***dir);
VITS_INTERNAL void vits_itt_free_dir(struct vits *v, struct vits_ite **dir,
				     unsigned event_bits);
/* Gives d the directory (from vits_itt_alloc) of an ITT of 2^event_bits events. */
VITS_INTERNAL void vits_itt_install(struct vits_dev *d, struct vits_ite **dir);
/* Frees d's chunks and directory (d->itt NULL after). */
VITS_INTERNAL void vits_itt_free(struct vits *v, struct vits_dev *d);
/* Event ev's entry, its chunk allocated (zeroed) if absent; NULL over the cap. */
VITS_INTERNAL struct vits_ite *vits_ite_make(struct vits *v, struct vits_dev *d, uint32_t ev);

/* ---- LPIs and delivery (lpi.c) ---- */

VITS_INTERNAL bool vits_intid_valid(const struct vits *v, uint32_t intid);
VITS_INTERNAL void vits_lpi_read_cfg(struct vits *v, uint32_t intid);
VITS_INTERNAL void vits_lpi_set_pending(struct vits *v, uint32_t intid, uint32_t vcpu);
VITS_INTERNAL void vits_lpi_clear_pending(struct vits *v, uint32_t intid);
VITS_INTERNAL bool vits_lpi_try_deliver(struct vits *v, uint32_t intid);
VITS_INTERNAL void vits_lpi_reset(struct vits *v);
VITS_INTERNAL void vits_lpi_mapped(struct vits *v, uint32_t intid);
VITS_INTERNAL void vits_lpi_unmapped(struct vits *v, uint32_t intid);
VITS_INTERNAL bool vits_lpi_aliased(const struct vits *v, uint32_t intid);

/* ---- translation cache (xlate.c) ---- */

VITS_INTERNAL void vits_xlate_flush(struct vits *v);
VITS_INTERNAL void vits_xlate_drop(struct vits *v, uint32_t devid, uint32_t eventid);
VITS_INTERNAL int vits_translate(struct vits *v, uint32_t devid, uint32_t eventid);

/* ---- command queue (cmdq.c) ---- */

VITS_INTERNAL int vits_cmdq_process(struct vits *v);

/* ---- commands (commands.c) ---- */

VITS_INTERNAL enum vits_reason vits_cmd_execute(struct vits *v, const struct its_cmd *c);
VITS_INTERNAL enum vits_reason vits_dev_check_table(struct vits *v, uint32_t devid);
VITS_INTERNAL void vits_dev_unmap(struct vits *v, struct vits_dev *d);

/* ---- registers (regs.c) ---- */

VITS_INTERNAL void vits_regs_reset(struct vits *v);

/* ---- physical command outbox (outbox.c) ---- */

VITS_INTERNAL void vits_phys_emit(struct vits *v, const struct its_cmd *c);
VITS_INTERNAL bool vits_ob_flush(struct vits *v);
VITS_INTERNAL int vits_ob_reserve(struct vits *v, uint64_t n);
VITS_INTERNAL void vits_ob_free(struct vits *v);
VITS_INTERNAL void vits_ob_clears_last(struct vits *v, uint32_t plpi);
VITS_INTERNAL void vits_phys_clear_ite(struct vits *v, const struct vits_dev *d, uint32_t ev);
VITS_INTERNAL void vits_ob_release_last(struct vits *v, enum vits_release kind, uint32_t id,
					uint64_t pa, uint64_t bytes);

/* ---- physical mirror of assigned devices, common to all policies (phys.c) ---- */

VITS_INTERNAL uint32_t vits_phys_pcpu(const struct vits *v, uint32_t vcpu);
VITS_INTERNAL void vits_phys_mapd(struct vits *v, struct vits_dev *d);
VITS_INTERNAL void vits_phys_unmapd(struct vits *v, struct vits_dev *d);
VITS_INTERNAL enum vits_reason vits_phys_mapti(struct vits *v, struct vits_dev *d, uint32_t ev);
VITS_INTERNAL void vits_phys_movi(struct vits *v, struct vits_dev *d, uint32_t ev,
				  uint32_t new_vcpu);
VITS_INTERNAL void vits_phys_discard(struct vits *v, struct vits_dev *d, uint32_t ev);
VITS_INTERNAL void vits_phys_clear(struct vits *v, struct vits_dev *d, uint32_t ev);
VITS_INTERNAL void vits_phys_mark_sync(struct vits *v, uint32_t pcpu);
VITS_INTERNAL void vits_phys_sync_marked(struct vits *v);

/* ---- policies: configuration propagation and SYNC (policy.c) ---- */

VITS_INTERNAL uint8_t vits_policy_host_cfg(const struct vits *v, uint32_t intid);
VITS_INTERNAL void vits_policy_inv(struct vits *v, struct vits_dev *d, uint32_t ev);
VITS_INTERNAL void vits_policy_released(struct vits *v, struct vits_dev *d, uint32_t ev,
					  bool with_own);
VITS_INTERNAL void vits_policy_mapped(struct vits *v, struct vits_dev *d, uint32_t ev);
VITS_INTERNAL void vits_policy_clear_aliases(struct vits *v, uint32_t intid,
					     const struct vits_dev *skip_d, uint32_t skip_ev);
VITS_INTERNAL bool vits_policy_mark_aliased(struct vits *v, const struct vits_dev *dev);
VITS_INTERNAL void vits_policy_clear_marked(struct vits *v, const struct vits_dev *dev);
VITS_INTERNAL void vits_policy_unaliased(struct vits *v, uint32_t intid);
VITS_INTERNAL void vits_policy_invall(struct vits *v, uint32_t icid);
VITS_INTERNAL void vits_policy_sync(struct vits *v, uint32_t vcpu);
VITS_INTERNAL void vits_policy_forget(struct vits *v, uint32_t plpi);
VITS_INTERNAL bool vits_policy_traps(const struct vits *v);

/* ---- host bookkeeping (host.c) ---- */

VITS_INTERNAL int vits_host_attach(struct vits_host *h, struct vits *v);
VITS_INTERNAL void vits_host_detach(struct vits_host *h, struct vits *v);
VITS_INTERNAL uint32_t vits_host_plpi_alloc(struct vits_host *h, struct vits *v,
					    uint32_t vdevid, uint32_t ev, uint32_t intid);
VITS_INTERNAL void vits_host_plpi_free(struct vits_host *h, uint32_t plpi);
VITS_INTERNAL void vits_host_accepted(struct vits_host *h, struct vits *v,
				      const struct vits_pcmd *p);
VITS_INTERNAL void vits_host_reap(struct vits_host *h, bool all);
VITS_INTERNAL bool vits_host_done(const struct vits_host *h, uint64_t seq);
VITS_INTERNAL bool vits_host_pdev_taken(const struct vits_host *h, uint32_t pdevid);
VITS_INTERNAL void vits_host_plpi_move(struct vits_host *h, uint32_t plpi, uint32_t pcpu);
VITS_INTERNAL void vits_host_prop_set(struct vits_host *h, uint32_t plpi, uint8_t cfg);
VITS_INTERNAL uint8_t vits_host_prop_get(const struct vits_host *h, uint32_t plpi);
VITS_INTERNAL bool vits_host_dirty_set(struct vits_host *h, uint32_t plpi);
VITS_INTERNAL bool vits_host_dirty_clear(struct vits_host *h, uint32_t plpi);
VITS_INTERNAL void vits_host_dirty_clear_pcpu(struct vits_host *h, uint32_t pcpu,
					      const struct vits *only);

#endif /* VITS_INTERNAL_H */
