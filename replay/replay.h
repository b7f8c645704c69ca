/*
 * replay.h: deterministic replay of .itr traces through the vits engine (library
 * vits_replay; DESIGN.md principle 1, docs/replay.md).
 *
 * A replay builds an engine from the trace header, feeds the recorded inputs in
 * order (register accesses, device MSIs, property-table changes and writes, host
 * LPIs, device assignments), serves guest-memory reads from the recorded bytes and
 * compares every output the engine produces (commands and their outcomes, physical
 * commands, injections, CREADR changes, register values) with the record the trace
 * holds at that point, in order.  Traces imported from QEMU are compared on what QEMU
 * observed: command bytes, register values of the queue, and QEMU's table writes
 * (EXP_* records) taken semantically.  The first difference is a divergence.
 *
 * The same machinery, with comparison off, runs the guest inputs of a trace under
 * another policy (whatif), and backs diff and minimize.
 *
 * The library never prints; results come back in structs, text through callers.
 * Functions return >= 0 or a negative RP_E_* code.
 */
#ifndef VITS_REPLAY_H
#define VITS_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "itr_types.h"
#include "vits.h"

#ifdef __cplusplus
extern "C" {
#endif

enum rp_err {
	RP_OK = 0,
	RP_E_INVAL = -1,        /* a bad argument or option */
	RP_E_NOMEM = -2,
	RP_E_TRACE = -3,        /* the trace cannot be read (msg says why) */
	RP_E_DAMAGED = -4,      /* the trace is damaged: replay stopped at the damage */
	RP_E_ENGINE = -5,       /* the engine refused the trace's configuration */
	RP_E_UNSUPPORTED = -6,  /* the trace needs something replay cannot give */
};

const char *rp_strerror(int err);

/* ---- In-memory traces (minimize, diff, tests, benchmarks) ---------------------------- */

/* One record with its own copy of the payload. */
struct rp_mrec {
	uint8_t type, flags;
	uint16_t domain, cpu;
	uint32_t len;
	uint64_t ts;
	uint8_t *payload;
};

struct rp_memtrace {
	struct itr_header h;
	struct itr_domain *domains;     /* h.domains points here */
	struct rp_mrec *recs;
	size_t n, cap;
	uint64_t damage_events;         /* from the reader when loaded from a file */
};

/* Read a whole trace into memory.  A damaged trace gives RP_E_DAMAGED (msg says what
 * was lost; the records read are still in *out).  Other errors: RP_E_TRACE, RP_E_NOMEM. */
int rp_memtrace_load(const char *path, struct rp_memtrace **out, char *msg, size_t msglen);
/* Write it (a new END is written).  RP_E_TRACE on an I/O error. */
int rp_memtrace_save(const struct rp_memtrace *t, const char *path);
/* Append a copy of r. */
int rp_memtrace_add(struct rp_memtrace *t, const struct itr_rec *r);
/* An empty trace with a copy of header h (and its domains). */
struct rp_memtrace *rp_memtrace_new(const struct itr_header *h);
void rp_memtrace_free(struct rp_memtrace *t);
/* Record i as a reader would return it (index i, payload pointing into t). */
void rp_memtrace_get(const struct rp_memtrace *t, size_t i, struct itr_rec *r);

/* ---- Options and results --------------------------------------------------------------- */

enum rp_mode {
	RP_MODE_COMPARE = 0,    /* replay: compare every observed output */
	RP_MODE_INPUTS = 1,     /* whatif: feed inputs, compare nothing */
};

struct rp_opts {
	size_t sz;                  /* sizeof(struct rp_opts) */
	enum rp_mode mode;
	int policy;                 /* enum vits_policy, or -1: the trace's */
	int64_t budget;             /* commands per call, or -1: the trace's */
	int domain;                 /* domain to replay, or -1: the first of the header */
	unsigned context;           /* records of context around a divergence (0: 4) */
	int with_host;              /* 1 host, 0 none, -1: when the trace has a physical side */
	int assign_all;             /* assign every guest device the trace maps to a
				     * physical device (same number) before it is mapped */
	uint32_t nr_pcpus, nr_plpis;    /* host geometry (0: vits_host_config_default) */
	/* Physical ITS (whatif): 0 an unlimited recording sink; else a physical queue of
	 * phys_queue_bytes that executes phys_rate commands per guest trap (0: it drains
	 * completely between traps).  The queue model is pits_model when built. */
	uint32_t phys_queue_bytes, phys_rate;
	int oracle;                 /* run the reference model beside the engine */
	uint64_t oracle_every;      /* guest commands between oracle checks (0: end only) */
	uint32_t invall_threshold;  /* lazy: K (whatif knob) */
	int sync_squash;
	uint64_t max_records;       /* stop after this many records (0: all) */
	/* Start at a snapshot (SNAPSHOT records, rp_snapshot.c; compare mode, traces with no
	 * physical side): start_snapshot N >= 1 is the Nth snapshot of the domain, else
	 * start_at >= 0 the record index of a snapshot's first record.  The engine is
	 * restored to the snapshot's state and replay goes on from the record after it. */
	uint64_t start_snapshot;
	int64_t start_at;           /* -1: not used */
	/* Capture (rp_snapshot_trace): at the first call boundary at least snapshot_every
	 * records after the last snapshot, on_snapshot gets the snapshot bytes and the
	 * index of the record it goes before. */
	uint64_t snapshot_every;
	void (*on_snapshot)(void *ctx, uint64_t before, const uint8_t *snap, size_t len);
	void *snapshot_ctx;
};

void rp_opts_default(struct rp_opts *o);

enum rp_div_kind {
	RP_DIV_NONE = 0,
	RP_DIV_MISMATCH,        /* the engine produced something other than the record */
	RP_DIV_MISSING,         /* the trace holds an output the engine did not produce */
	RP_DIV_EXTRA,           /* the engine produced an output the trace does not hold */
	RP_DIV_UNRECORDED_READ, /* the engine read guest memory the trace never recorded */
	RP_DIV_EFFECT,          /* QEMU's table effect (EXP_*) differs from the engine state */
	RP_DIV_FINGERPRINT,     /* a checkpoint's state fingerprint differs */
	RP_DIV_INPUT,           /* an input the engine refused (an API error) */
	RP_DIV_ORACLE,          /* the reference model disagrees (whatif --oracle) */
};

const char *rp_div_kind_name(enum rp_div_kind k);

#define RP_CTX_MAX 16
#define RP_TEXT 320

struct rp_ctx_line {
	uint64_t index;
	char text[RP_TEXT];
};

struct rp_divergence {
	enum rp_div_kind kind;
	uint64_t index;             /* record index of the expected record (or the input) */
	uint64_t input_index;       /* the input being replayed (UINT64_MAX: none) */
	char what[RP_TEXT];         /* one line: what differs */
	char expected[RP_TEXT];     /* decoded record, or "nothing" */
	char got[RP_TEXT];          /* decoded engine event, or "nothing" */
	int inferred;               /* the divergence rests on input an importer inferred */
	char inferred_why[RP_TEXT]; /* which rule, when inferred */
	unsigned nctx;
	struct rp_ctx_line ctx[2 * RP_CTX_MAX + 1];
	unsigned ctx_at;            /* position of the divergent record in ctx (nctx: none) */
	char state[1024];           /* engine state summary at the divergence */
};

struct rp_result {
	int diverged;
	struct rp_divergence div;
	uint64_t records;           /* records read */
	uint64_t inputs;            /* inputs fed */
	uint64_t implicit_resumes;  /* vits_resume calls implied by outputs without input */
	uint64_t compared;          /* outputs compared equal */
	uint64_t effects_checked;   /* EXP_* records checked */
	uint64_t checkpoints_checked;
	uint64_t inferred_inputs;   /* inputs (records) marked inferred */
	uint64_t inferred_resets;   /* vits_reset calls replay inferred from teardown
				     * physical commands no input explains (the format
				     * holds no reset record) */
	uint64_t inferred_by_rule[ITR_RULE_COUNT];
	uint64_t gap_reads;         /* reads of memory the source does not observe, served
				     * by a replay rule (QEMU: device-table L1 entries) */
	uint64_t unrecorded_reads;  /* (inputs mode) reads never recorded: answered as a fault */
	uint64_t skipped_domain;    /* records of other domains */
	uint64_t loss_records;      /* LOSS records met (replay past a gap is unreliable) */
	uint64_t guest_commands, physical_commands, global_commands, physical_syncs;
	uint64_t phys_by_cmd[ITS_IDX_COUNT];
	uint64_t guest_by_cmd[ITS_IDX_COUNT];
	uint64_t injections, msis, host_lpis, spurious_host_lpis;
	uint64_t phys_queue_full;   /* times the physical queue was full (engine count) */
	uint64_t phys_errors;       /* physical ITS model findings (pits) */
	int phys_model;             /* 1 when the pits_model queue was used */
	int has_host;
	int oracle_run, oracle_ok;
	char oracle_msg[512];
	uint64_t teardown_commands; /* physical commands of the final teardown */
	int damaged;                /* the trace was damaged */
	char damage_msg[256];
	double amplification;       /* physical per guest command */
	int assigned_all;           /* assign-all was on */
	uint64_t devices_assigned;  /* guest devices assigned to physical ones */
	uint64_t prop_writes;       /* trapped property writes fed */
	/* Start at a snapshot: the record index of the snapshot's first record; the
	 * counters above then count from the record after the snapshot. */
	int started_at_snapshot;
	uint64_t start_index;
	uint64_t snapshot_commands; /* synthetic commands the restore ran (not compared) */
	/* The engine's fingerprint v1 at the end (RP_FP_V1_LEN bytes); after a start at a
	 * snapshot its counters are the trace's (the snapshot's plus those replayed). */
	uint8_t final_fp[56];
};

/* ---- Replay ------------------------------------------------------------------------------ */

/* Replay the trace at path (or t when path is NULL).  Returns 0 with *res filled
 * (res->diverged says whether it diverged), or a negative RP_E_* with msg set:
 * RP_E_TRACE (unreadable), RP_E_ENGINE, RP_E_UNSUPPORTED.  A damaged trace replays
 * up to the damage, then returns RP_E_DAMAGED with *res filled. */
int rp_replay(const char *path, const struct rp_memtrace *t, const struct rp_opts *o,
	      struct rp_result *res, char *msg, size_t msglen);

/* ---- Fingerprint (CHECKPOINT kind ITR_FP_VITS_V1) ------------------------------------ */

#define RP_FP_V1_LEN 56u

/* Write the engine-state fingerprint v1 of v (docs/replay.md) into out; returns its
 * length (RP_FP_V1_LEN) or -1 when cap is too small. */
int rp_fingerprint_v1(const struct vits *v, uint8_t *out, uint32_t cap);
/* Which fields of two v1 fingerprints differ, as text ("mappings hash, CREADR"). */
void rp_fingerprint_diff(const uint8_t *a, const uint8_t *b, char *buf, size_t n);

/* ---- Snapshots (SNAPSHOT records, format 1.1; docs/replay.md) ---------------------- */

/* Replay t (which must not diverge and must have no physical side) and return a copy
 * with a SNAPSHOT of the engine state inserted at the first call boundary every
 * `every` records (existing SNAPSHOT records of the domain are replaced).  *count gets
 * the number inserted.  Errors: RP_E_INVAL (t diverges: msg says where),
 * RP_E_UNSUPPORTED (a physical side), as rp_replay. */
int rp_snapshot_trace(const struct rp_memtrace *t, uint64_t every, int domain,
		      struct rp_memtrace **out, uint64_t *count, char *msg, size_t msglen);

/* ---- whatif -------------------------------------------------------------------------------- */

/* Replay the guest inputs of the trace under policy p (opts mode is forced to
 * RP_MODE_INPUTS).  Results as rp_replay. */
int rp_whatif(const char *path, const struct rp_memtrace *t, int policy,
	      const struct rp_opts *o, struct rp_result *res, char *msg, size_t msglen);

/* ---- diff ------------------------------------------------------------------------------------ */

struct rp_diff_result {
	int differ;
	uint64_t index_a, index_b;      /* first differing outputs (record indexes) */
	char a[RP_TEXT], b[RP_TEXT];    /* decoded, "end of trace" at the end */
	char what[RP_TEXT];
	uint64_t outputs_a, outputs_b;  /* outputs compared */
	uint64_t by_type_a[256], by_type_b[256];
	uint64_t inputs_a, inputs_b;
	int inputs_differ;              /* the two traces do not have the same inputs */
	uint64_t input_index_a, input_index_b;
};

/* Compare two traces output by output (inputs are checked to be the same too).
 * Returns 0, or RP_E_TRACE / RP_E_DAMAGED with msg. */
int rp_diff(const char *a, const char *b, struct rp_diff_result *res, char *msg, size_t msglen);

/* ---- minimize ------------------------------------------------------------------------------- */

/* A check: returns 1 when the candidate trace still fails, 0 when it passes, < 0 on
 * an error (minimization stops). */
typedef int (*rp_check_fn)(void *ctx, const struct rp_memtrace *t);

struct rp_min_stats {
	uint64_t units_before, units_after;     /* guest commands + property writes + MSIs */
	uint64_t commands_before, commands_after;
	uint64_t records_before, records_after;
	uint64_t checks;                        /* candidates tried */
};

/* Delta debugging (ddmin) over the trace's input units: each guest command (its
 * queue slot), property write and MSI; what the rest depends on (register setup, the
 * property table, assignments) is kept.  The result is a rewritten trace: inputs
 * only (outputs are dropped, the check recomputes them when it needs them), the
 * kept commands packed into the queue in order.  check(t) must fail for t itself.
 * Returns 0 with *out, RP_E_INVAL when the original does not fail. */
int rp_minimize(const struct rp_memtrace *t, rp_check_fn check, void *ctx,
		struct rp_memtrace **out, struct rp_min_stats *st);

/* Build the inputs-only trace of a set of units (exposed for tests).  keep[i] != 0
 * keeps unit i; nunits from rp_min_units. */
size_t rp_min_units(const struct rp_memtrace *t);
struct rp_memtrace *rp_min_build(const struct rp_memtrace *t, const uint8_t *keep);

/* Record a trace of the engine's events: an embedder's vits_ops.trace forwards here
 * (tests and benchmarks; ctx is a struct rp_memtrace *). */
void rp_memtrace_record_event(void *ctx, const struct vits_event *ev);

/* ---- synthetic recorded sessions (tests, benchmark, minimize's planted failure) ---- */

struct rp_synth_opts {
	size_t sz;                  /* sizeof(struct rp_synth_opts) */
	int policy;                 /* enum vits_policy of the recorded engine */
	int with_host;              /* an assigned device and a physical side */
	uint32_t rounds;            /* device probe/teardown rounds */
	uint32_t events;            /* events per round (<= 16) */
	uint32_t budget;            /* commands per engine call (0 unlimited) */
	uint32_t checkpoint_every;  /* a CHECKPOINT (fingerprint v1) every N calls (0 none) */
};

void rp_synth_opts_default(struct rp_synth_opts *o);
/* A Linux-like guest session through the harness, every engine event recorded.
 * NULL when out of memory. */
struct rp_memtrace *rp_synth_session(const struct rp_synth_opts *o);

#ifdef __cplusplus
}
#endif

#endif /* VITS_REPLAY_H */
