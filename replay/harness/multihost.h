/*
 * multihost.h: several domains on one host, backed by one physical ITS model.
 *
 * A struct multihost owns one struct vits_host whose ops are a pits_model
 * (pits_model.h), and up to MH_MAX_DOMAINS domains.  Each domain is a struct harness
 * (its own guest RAM, guest driver and injection sink) attached to the shared host,
 * plus its own reference model (refmodel.h) fed with exactly the commands the
 * engine ran (from the VITS_EV_CMD trace events, in order), and the oracle state
 * described below.
 *
 * What the embedder does, and the helpers here do for it:
 * - device assignment (mh_assign): remembered per domain and host-wide (pdevid ->
 *   owner) for the isolation checks;
 * - the device model (mh_fire): an assigned device writes its MSI to the physical
 *   ITS model (which delivers physical LPIs to vits_host_plpi); an unassigned one
 *   calls vits_msi directly.  The domain's reference model gets the MSI at once;
 * - trapped property writes (mh_prop_write): the guest's store lands in guest RAM,
 *   then vits_prop_write is called, as an embedder trapping the property table does
 *   under eager, lazy and lazy-global;
 * - quiescence (mh_quiesce): resume every engine with work and process the physical
 *   queue until nothing is left or the physical model stalled;
 * - the oracles (mh_check), at quiescent points; see multihost.c for the rules.
 *
 * The isolation checks run all the time (they are recorded as findings): physical
 * commands name only devices assigned to the domain that sent them; a physical LPI
 * fired by a device of domain A reaches no other domain; injections go to the
 * domain's own vCPUs.
 */
#ifndef HARNESS_MULTIHOST_H
#define HARNESS_MULTIHOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "pits_model.h"
#include "refmodel.h"

#define MH_MAX_DOMAINS 16u
#define MH_MAX_ASSIGN  64u       /* assigned devices per domain */
#define MH_MAX_OWNERS  512u      /* pdevids ever assigned on the host */

/* Guest layout of every domain (each has its own RAM, so they coincide). */
#define MH_QUEUE_GPA   0x40000000ull   /* up to 1 MiB */
#define MH_DEVTAB_GPA  0x40100000ull   /* flat, 8 pages of 4 KiB */
#define MH_PROP_GPA    0x40400000ull   /* up to 16 MiB */
#define MH_ITT_GPA(devid) (0x48000000ull + ((uint64_t)((devid) & 0xfff) << 16))

struct mh_config {
	struct vits_host_config host;   /* geometry of the host (and of the model) */
	struct pits_config pits;        /* queue_bytes and skip_errors are used; the
					 * geometry is taken from host */
};

/* Host defaults (vits_host_config_default) and a 64 KiB strict physical queue. */
void mh_config_default(struct mh_config *cfg);

/* What the architecture still allows for one LPI since the last check: a set of
 * (pending, deliveries) pairs kept as one delivery-count interval per pending value,
 * and the enable bits written to its property byte since it was last read. */
struct mh_env {
	uint8_t poss;             /* bit p: "pending == p" is possible */
	uint8_t window;           /* bit 0: a disable written, bit 1: an enable written */
	uint32_t lo[2], hi[2];    /* delivery counts possible with pending == p */
};

/* The guest command the engine has run but not completed (CREADR still on it): its
 * physical commands may not have run yet, so an MSI of a device it changes may meet
 * the old or the new state (mh_fire allows both). */
#define MH_RACE_MAX 256u  /* events the oracle follows per command; more are not */
struct mh_race_ent {
	uint32_t eventid, intid;
	uint8_t kind;             /* enum below */
	bool en0;                 /* INV: the LPI enabled as read before the command */
	struct mh_env env0;       /* INV: the envelope in the world where it has not run */
};
enum {
	MH_RACE_MAP = 1,          /* maps (devid, eventid) to intid */
	MH_RACE_UNMAP,            /* unmaps (devid, eventid) from intid (clears its pending) */
	MH_RACE_CLEAR,            /* clears intid's pending state through (devid, eventid) */
	MH_RACE_INV,              /* re-reads intid's configuration (INV, INVALL) */
};
struct mh_race {
	bool active;
	uint32_t offset;          /* queue offset of the command */
	uint32_t devid;
	unsigned n;
	struct mh_race_ent ent[MH_RACE_MAX];
};

struct mh_assign_rec {
	uint32_t vdevid, pdevid;
};

struct multihost;

struct mh_domain {
	struct multihost *mh;
	unsigned index;
	struct harness *h;              /* h->vits is NULL once destroyed */
	struct ref *ref;
	bool alive;                     /* the engine instance exists */
	bool destroying;                /* vits_destroy answered VITS_E_AGAIN */
	uint8_t policy;

	struct mh_assign_rec assign[MH_MAX_ASSIGN];
	unsigned nassign;

	/* Oracle state, per INTID - 8192 (2^intid_bits - 8192 entries). */
	uint32_t nr_lpis;
	struct mh_env *env;
	uint64_t *injected;             /* engine injections per INTID, counted at checks */
	size_t inj_seen;                /* harness injections already counted */
	uint8_t *plpi_used;             /* host nr_plpis: pLPIs its physical MAPTIs named */
	struct mh_race race;            /* the command in flight, if any */
	uint8_t *raced;                 /* per INTID - 8192: an MSI raced a command, so the
					 * model's own choice is one of two (no exact check) */

	/* Trace-derived counters (cumulative; tests take differences around calls). */
	uint64_t ev_cmds, ev_phys, ev_host_lpis, ev_creadr;
	uint64_t reason_mismatches;
	char first_mismatch[256];

	/* Settable: called after the multihost's own handling of each trace event. */
	void (*user_trace)(void *ctx, struct mh_domain *d, const struct vits_event *ev);
	void *user_ctx;
};

struct multihost {
	struct mh_config cfg;
	struct vits_host *host;
	struct pits_model *pits;
	struct mh_domain *dom[MH_MAX_DOMAINS];
	unsigned ndom;

	struct { uint32_t pdevid; int owner; } owners[MH_MAX_OWNERS];
	unsigned nowners;

	/* Isolation and bookkeeping findings (the first one's text is kept). */
	uint64_t findings;
	char first_finding[512];

	/* Physical deliveries: to vits_host_plpi, and those it dropped as not owned. */
	uint64_t plpi_deliveries, plpi_unowned;

	/* Settable: called after the physical ITS ran commands (mh_pump, mh_phys_run,
	 * the drains of mh_destroy), before any engine call sees the progress: a
	 * recorder notes each domain's completed physical commands there
	 * (pits_done_by_domain), the input replay needs to answer phys_done. */
	void (*on_phys_progress)(void *ctx, struct multihost *mh);
	void *progress_ctx;

	/* delivery bookkeeping (internal) */
	int expect_owner;
	struct mh_domain *host_lpi_dom;
};

/* 0 or a negative VITS_E_*. */
int mh_create(const struct mh_config *cfg, struct multihost **out);
/* The physical ITS runs up to n commands (the engines are not resumed). */
unsigned mh_phys_run(struct multihost *mh, unsigned n);
/* Destroys every domain (draining the physical queue as teardown needs), then the
 * host and the model. */
void mh_destroy(struct multihost *mh);

/* Add a domain with hc's engine config (hc->vits; with_host is ignored) and RAM.
 * policy, invall_threshold, sync_squash and budget come from hc->vits.  The
 * domain_id is the index when hc->vits.domain_id is 0.  0 or a negative VITS_E_*. */
int mh_add_domain(struct multihost *mh, const struct harness_config *hc,
		  struct mh_domain **out);

/* Program the domain's vITS like a Linux driver (harness_guest_init with the
 * MH_* layout: queue of queue_pages pages, a flat device table of 8 pages of 4 KiB,
 * the property table with prop_id_bits) and tell the reference model.  0 or -1. */
int mh_guest_init(struct mh_domain *d, unsigned queue_pages, unsigned prop_id_bits);

/* GITS_CTLR.Enabled, for engine and model.  0 or -1. */
int mh_enable(struct mh_domain *d, bool enabled);

/* Device assignment (vits_assign_device / vits_unassign_device).  Engine result. */
int mh_assign(struct mh_domain *d, uint32_t vdevid, uint32_t pdevid);
int mh_unassign(struct mh_domain *d, uint32_t vdevid);
/* The pdevid of an assigned vdevid, or -1. */
int64_t mh_pdevid(const struct mh_domain *d, uint32_t vdevid);

/* Queue commands in the guest queue and kick (harness_submit).  The model follows
 * through the trace.  0 or -1 (queue stayed full). */
int mh_submit(struct mh_domain *d, const struct its_cmd *cmds, size_t n);

/* The guest stores byte to its property table entry of intid; the embedder traps
 * it and calls vits_prop_write.  0 or -1. */
int mh_prop_write(struct mh_domain *d, uint32_t intid, uint8_t byte);

/* Device vdevid of domain d raises eventid.  Returns the reference model's verdict
 * (VITS_R_NONE: the LPI became pending or was delivered, as the guest must see it). */
enum vits_reason mh_fire(struct mh_domain *d, uint32_t vdevid, uint32_t eventid);

/* Resume engines with work (and unfinished teardowns) and drain the physical queue,
 * until nothing moves.  Returns 0, or -1 when the physical model stalled or work
 * remains after the iteration limit. */
int mh_quiesce(struct multihost *mh);

/* One pump step: each engine with work gets one vits_resume (or vits_destroy when
 * tearing down), then the physical model runs up to rate commands.  Returns 1 when
 * anything is left to do, else 0. */
int mh_pump(struct multihost *mh, unsigned rate);

/* Tear a domain down: one vits_destroy call.  0 when gone (the domain stays
 * allocated, alive = false, its harness kept for its records), VITS_E_AGAIN when
 * the physical queue is full (mh_pump / mh_quiesce continue it). */
int mh_destroy_domain(struct mh_domain *d);

/* The oracles at a quiescent point (call mh_quiesce first).  0 when everything
 * holds, else 1 with the first violation in msg. */
int mh_check(struct multihost *mh, char *msg, size_t len);

/* Clean-physical-ITS check for a destroyed domain (or a set of pdevids): no device
 * of d mapped in the model, no physical LPI pending that d used, host property bytes
 * of d's former physical LPIs zero.  0 or 1 with msg. */
int mh_check_clean(struct multihost *mh, const struct mh_domain *d, char *msg, size_t len);

/* Per-domain totals from the engine (vits_get_stats); zeroed after destroy. */
int mh_stats(const struct mh_domain *d, struct vits_stats *out);

#endif /* HARNESS_MULTIHOST_H */
