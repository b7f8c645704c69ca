/*
 * rp_internal.h: what the files of the replay library share.  Not installed.
 *
 * One session replays one trace: rp_stream.c holds the records (a look-ahead window
 * over a reader or an in-memory trace), rp_engine.c builds and feeds the engine,
 * rp_memory.c serves guest memory from the recorded bytes, rp_compare.c compares
 * an engine event with a record, rp_effects.c checks QEMU's table effects,
 * rp_report.c writes the divergence report, rp_fingerprint.c hashes engine state,
 * rp_phys.c is the physical side (a sink, or the pits_model queue), rp_run.c is the
 * loop that ties them together.
 */
#ifndef RP_INTERNAL_H
#define RP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "itr_reader.h"
#include "harness.h"
#include "refmodel.h"
#include "replay.h"

/* ---- stream ---------------------------------------------------------------------------- */

struct rp_slot {
	struct itr_rec r;
	uint8_t *buf;
	uint32_t cap;
};

/* Look-ahead window: records are read on demand and kept until popped.  A hostile
 * trace cannot make it grow past RP_WINDOW_MAX records. */
#define RP_WINDOW_MAX (1u << 22)

struct rp_stream {
	struct itr_reader *rd;            /* or */
	const struct rp_memtrace *mt;
	size_t mt_pos;
	struct rp_slot *slot;
	size_t cap, head, count;          /* ring of cap (power of two) slots */
	int eof, err;                     /* err: < 0 a reader error */
	uint64_t read;                    /* records read */
	int overflow;                     /* the window limit was hit */
};

int rp_stream_open_file(struct rp_stream *s, const char *path, struct itr_reader_opts *ro,
			char *msg, size_t msglen);
void rp_stream_open_mem(struct rp_stream *s, const struct rp_memtrace *t);
void rp_stream_close(struct rp_stream *s);
const struct itr_header *rp_stream_header(const struct rp_stream *s);
/* The k-th record from the cursor, or NULL at the end (or on error). */
const struct itr_rec *rp_peek_slow(struct rp_stream *s, size_t k);
static inline const struct itr_rec *rp_peek(struct rp_stream *s, size_t k)
{
	if (k < s->count)
		return &s->slot[(s->head + k) & (s->cap - 1)].r;
	return rp_peek_slow(s, k);
}
void rp_pop(struct rp_stream *s);

/* ---- a small hash map u64 -> u64 (rp_rename.c) ------------------------------------------ */

struct rp_map {
	uint64_t *k, *v;        /* key + 1 (0 empty, ~0 deleted) */
	size_t cap, n;
};
int rp_map_get(const struct rp_map *m, uint64_t key, uint64_t *val);
int rp_map_put(struct rp_map *m, uint64_t key, uint64_t val);
void rp_map_del(struct rp_map *m, uint64_t key);
void rp_map_free(struct rp_map *m);

/* ---- guest memory image ------------------------------------------------------------------ */

struct rp_page;

struct rp_memory {
	struct rp_page **tab;             /* open addressing on the page number */
	size_t cap, n;
	struct rp_page *last;
};

void rp_mem_init(struct rp_memory *m);
void rp_mem_free(struct rp_memory *m);
/* Bytes read by the recorded engine: data (result 0) or a fault (result < 0). */
void rp_mem_record(struct rp_memory *m, uint64_t gpa, const uint8_t *data, uint32_t len,
		   int fault);
/* 0: served; 1: a recorded fault; -1: some byte was never recorded (buf has what is
 * known, zeros elsewhere). */
int rp_mem_read(struct rp_memory *m, uint64_t gpa, uint8_t *buf, size_t len);

/* ---- physical side --------------------------------------------------------------------- */

struct rp_phys;
struct rp_session;

struct rp_phys *rp_phys_create(struct rp_session *s, const struct vits_host_config *hc,
			       uint32_t queue_bytes, uint32_t rate);
void rp_phys_destroy(struct rp_phys *p);
void rp_phys_host_ops(struct rp_phys *p, struct vits_host_ops *ops);
/* The recording's physical ITS had completed done of this domain's commands. */
void rp_phys_set_done(struct rp_phys *p, uint64_t done);
/* Between engine calls: let the physical ITS run (rate, or all), resume the engine
 * while it has work, until nothing moves (bounded). */
void rp_phys_pump(struct rp_phys *p, struct vits *v, struct vits_host *host);
/* A device MSI of an assigned device: goes to the physical ITS. */
void rp_phys_msi(struct rp_phys *p, struct vits_host *host, uint32_t pdevid, uint32_t eventid);
void rp_phys_note_trace(struct rp_phys *p, const struct vits_event *ev);
uint64_t rp_phys_findings(const struct rp_phys *p, char *first, size_t n);
int rp_phys_is_model(const struct rp_phys *p);
void *rp_phys_host_ctx(struct rp_phys *p);
/* 1 when the physical ITS holds plpi pending (not delivered to the host). */
int rp_phys_plpi_pending(const struct rp_phys *p, uint32_t plpi);
/* Built-in sink: the MSI of (vdevid, eventid) of an assigned device as a physical LPI,
 * delivered when the host byte of its pLPI is enabled. */
void rp_phys_msi_sink(struct rp_phys *p, struct vits *v, struct vits_host *host,
		      uint32_t vdevid, uint32_t eventid);

/* ---- session --------------------------------------------------------------------------- */

/* What the trace's source observes (DESIGN.md "Traces with gaps"). */
struct rp_observe {
	bool all_regs;                    /* every register value read (else CREADR, CWRITER) */
	bool all_reads;                   /* every guest-memory read (else command slots) */
	bool injections, creadr, phys, host_lpis;
};

#define RP_HIST 16

/* Engine and host settings the 1.0 header does not carry, from a NOTE record
 * "vits-config k=.. squash=.. ..." before the first input (docs/trace-format.md,
 * "Configuration notes").  A field the note does not give is 0, and its bit in seen
 * is clear (RP_TCFG_HAS). */
struct rp_tcfg {
	uint32_t k, squash, xlate, memcap, pcpus, plpis, peventid, physq;
	uint32_t physdone;                      /* the host reported completion */
	uint32_t policy, budget, errmode;       /* a domain's own, where one trace holds
						 * several (otherwise the header's) */
	uint32_t seen;                          /* bit i: the i-th field above was given */
	bool present;
};
#define RP_TCFG_BIT(field) (1u << (offsetof(struct rp_tcfg, field) / sizeof(uint32_t)))
#define RP_TCFG_HAS(t, field) (((t)->seen & RP_TCFG_BIT(field)) != 0)

struct rp_session {
	struct rp_opts o;
	struct rp_result *res;
	struct rp_stream st;
	struct itr_header h;
	uint16_t domain;
	struct rp_observe obs;
	struct rp_rename *rename;
	struct rp_tcfg tcfg;
	/* Compare mode with a bounded physical queue in the recording (tcfg.physq): the
	 * physical side accepts a command exactly when the trace holds one at the cursor,
	 * so the engine meets a full queue where the recorded one did. */
	bool phys_follows_trace;
	bool last_unassign;               /* the last input unassigned a device */
	bool reset_noted;                 /* a "vits-reset" note: the engine is reset next */

	struct vits *v;
	struct vits_host *host;
	struct rp_phys *phys;
	struct vits_config cfg;
	struct vits_host_config hcfg;
	struct rp_memory mem;
	uint64_t mem_used;

	/* The call in progress. */
	uint64_t input_index;             /* record index of the input (UINT64_MAX: resume) */
	size_t win_end;                   /* window position of the next input (look-ahead) */
	uint8_t win_reasons[64];          /* recorded reasons of the call's first CMD records */
	unsigned nwin_cmds, call_cmds;
	bool in_call;

	/* Guest registers the replay tracks (queue base for command-slot reads, BASER0 for
	 * the device table and the reference model). */
	uint64_t cbaser, baser0;
	bool enabled;

	/* Inferred input: the INFERRED records before the record they qualify. */
	uint16_t pending_rule;
	uint16_t last_inferred_rule;
	uint64_t last_inferred_index;     /* UINT64_MAX: none yet */

	/* History of consumed records (for the report's context). */
	struct rp_mrec hist[RP_HIST];
	uint8_t hist_buf[RP_HIST][64];
	uint64_t hist_index[RP_HIST];
	unsigned hist_n, hist_pos;

	/* Assign-all (whatif on traces without a physical side). */
	uint32_t *assigned, *assigned_pd;   /* guest DeviceID -> physical DeviceID */
	struct rp_map rec_plpi;           /* inputs mode: recorded pLPI -> pdev << 32 | event */
	size_t nassigned, capassigned;

	/* Reference model (whatif --oracle). */
	struct ref *ref;
	struct harness_inject *inj;
	size_t ninj, capinj;
	uint64_t next_oracle;
	uint64_t cmd_events;

	/* Snapshots (rp_snapshot.c). */
	struct rp_snapstate *snap;
	bool synthetic;                   /* restore or capture: events are not compared,
					   * guest memory is the restore's own */
	uint64_t prop_gpa;                /* the property table as last set */
	uint8_t prop_bits;

	int stop;                         /* diverged or fatal */
	int fatal;                        /* < 0: RP_E_* */
	char *msg;
	size_t msglen;
};

/* rp_engine.c */
int rp_engine_build(struct rp_session *s);
void rp_engine_destroy(struct rp_session *s);
/* Feed one input record.  0, 1 when it was skipped as malformed, or an RP_E_*. */
int rp_engine_feed(struct rp_session *s, const struct itr_rec *r);
bool rp_is_input(unsigned type);
bool rp_is_meta(unsigned type);
/* A NOTE saying the recording embedder reset the engine here ("vits-reset"). */
bool rp_is_reset_note(unsigned type, const uint8_t *payload, uint32_t len);
bool rp_is_effect(unsigned type);
/* Assign-all: assign guest device devid (to the same physical number) if not yet. */
void rp_assign_before_map(struct rp_session *s, uint32_t devid);

/* rp_rename.c: physical resource names (pLPIs, host ITT addresses) up to renaming. */
struct rp_rename;
struct rp_rename *rp_rename_new(void);
void rp_rename_free(struct rp_rename *r);
/* 0 when the recorded and the engine's physical commands agree up to renaming. */
int rp_rename_phys(struct rp_rename *r, const struct its_cmd *rec, const struct its_cmd *eng);
/* The engine's pLPI for a recorded one (itself when unbound). */
uint32_t rp_rename_plpi(struct rp_rename *r, uint32_t recorded);

/* rp_compare.c: 0 when ev matches r as far as the source observes, else 1 and why. */
int rp_compare(struct rp_session *s, const struct vits_event *ev, const struct itr_rec *r,
	       char *why, size_t n);
/* Is ev of a kind the source observes (else it is not compared)? */
bool rp_observed(const struct rp_session *s, const struct vits_event *ev);
/* Format an engine event the way its record would print. */
void rp_format_event(const struct vits_event *ev, uint16_t domain, char *buf, size_t n);
void rp_format_rec(const struct itr_rec *r, char *buf, size_t n);

/* rp_effects.c: 0 when the engine state agrees with the EXP_* record r, else 1. */
int rp_check_effect(struct rp_session *s, const struct itr_rec *r, char *exp, char *got,
		    size_t n);

/* rp_equiv.c: guest-visible equivalence of the engine (with its physical side) and
 * the reference model at a quiescent point: 0, or 1 with the first difference. */
int rp_equiv_check(struct rp_session *s, char *msg, size_t n);

/* rp_report.c */
void rp_diverge(struct rp_session *s, enum rp_div_kind kind, const struct itr_rec *at,
		const char *what, const char *expected, const char *got);
void rp_hist_push(struct rp_session *s, const struct itr_rec *r);

/* rp_run.c: the event hook of the session's engine. */
void rp_on_event(struct rp_session *s, const struct vits_event *ev);
int rp_read_guest(struct rp_session *s, uint64_t gpa, void *buf, size_t len);
/* A read the source does not observe, answered by a replay rule: 0, or -1 when the
 * source observes such reads (then an unrecorded read is a finding). */
int rp_gap_fill(struct rp_session *s, uint64_t gpa, void *buf, size_t len);
int rp_ram_check(struct rp_session *s, uint64_t gpa, uint64_t len);
/* Is the next engine output the trace holds here a physical command? */
bool rp_next_is_phys(struct rp_session *s);
void rp_on_inject(struct rp_session *s, uint32_t vcpu, uint32_t intid);

/* rp_snapshot.c */
struct rp_snapstate;
/* Skip to the snapshot the options name, restore the engine to it and verify. */
int rp_snap_start(struct rp_session *s);
/* At a call boundary (r the next input): capture a snapshot when one is due. */
void rp_snap_capture_point(struct rp_session *s, const struct itr_rec *r);
void rp_snap_on_event(struct rp_session *s, const struct vits_event *ev);
int rp_snap_read(struct rp_session *s, uint64_t gpa, void *buf, size_t len);
/* Rebase the counters of a fingerprint v1 / the stats onto the trace's. */
void rp_snap_adjust_fp(const struct rp_session *s, uint8_t *fp);
void rp_snap_adjust_stats(const struct rp_session *s, struct vits_stats *st);
void rp_snap_free(struct rp_session *s);

#endif /* RP_INTERNAL_H */
