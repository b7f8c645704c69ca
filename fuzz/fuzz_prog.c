/*
 * fuzz_prog.c: program decoder, executor and oracles shared by the fuzz targets
 * (see fuzz_prog.h and docs/fuzzing.md).
 *
 * Oracles, in the order they run:
 *  - in the engine's trace hook, per guest command (VITS_EV_CMD): the queue model
 *    (the command runs only when the queue is runnable, at the offset the model
 *    expects, with the bytes guest memory holds there, exactly once and in order
 *    across the wrap); the reference model (same reason); the outcome follows the
 *    error mode;
 *  - per physical command (VITS_EV_PHYS_CMD): a physical ITS shadow that errors like
 *    hardware (unmapped device or event, event mapped twice, pLPI out of range or
 *    shared, collection out of range), isolation (only devices assigned to the
 *    domain), the policy's amplification bound per guest command, per trapped byte
 *    and per teardown;
 *  - after every operation: registers and queue state against the queue model, no
 *    lost work (vits_work_pending), budget per call, completion without a budget,
 *    injections to existing vCPUs only, the memory cap, the reference model
 *    (oracle_check_harness), and after a guest SYNC the physical configuration
 *    freshness (storm / lost-interrupt bound) of every invalidated LPI;
 *  - at the end: bounded completion (every resume makes progress), teardown leaves the
 *    physical ITS empty and the host's pLPIs and ITTs freed, no engine memory leaked.
 */
#include "fuzz_prog.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "oracle.h"
#include "refmodel.h"

#ifndef FUZZ_NO_TRACE
#include "itr_writer.h"
#include "replay.h"     /* rp_fingerprint_v1: the CHECKPOINTs of reproducer traces */
#endif

/* ---- guest layout ------------------------------------------------------------------- */

#define RAM_BASE    HARNESS_DEFAULT_RAM_BASE
#define RAM_SIZE    HARNESS_DEFAULT_RAM_SIZE
#define RAM_END     (RAM_BASE + RAM_SIZE)
#define QUEUE_GPA   RAM_BASE
#define QUEUE2_GPA  (RAM_BASE + 0x100000)
#define DEVT_GPA    (RAM_BASE + 0x200000)
#define PROP_GPA    (RAM_BASE + 0x400000)
#define ITT_GPA     (RAM_BASE + 0x2000000)
#define L2_GPA      (RAM_BASE + 0x3000000)

#define PDEV_BASE   0x10u       /* vDeviceID i is assigned to pDeviceID PDEV_BASE + i */
#define NR_PDEV     8u
#define NR_PLPIS    256u
#define MAX_INTIDS  (1u << 16)

#define CBASER_RW (GITS_FIELD_MASK(CBASER, SIZE) | GITS_FIELD_MASK(CBASER, SHAREABILITY) | \
		   GITS_FIELD_MASK(CBASER, PA) | GITS_FIELD_MASK(CBASER, OUTERCACHE) |      \
		   GITS_FIELD_MASK(CBASER, INNERCACHE) | GITS_FIELD_MASK(CBASER, VALID))

static int g_abort = 1;
static int g_verbose;
static int g_last_failed;

int fuzz_target_failed(void);
int fuzz_target_failed(void)
{
	return g_last_failed;
}

void fuzz_set_abort(int on) { g_abort = on; }
void fuzz_set_verbose(int on) { g_verbose = on; }
int fuzz_get_abort(void) { return g_abort; }
int fuzz_get_verbose(void) { return g_verbose; }
void fuzz_set_failed(int failed) { g_last_failed = failed; }

static const char *const target_names[] = { "cmdq", "wrap", "policy" };

const char *fuzz_target_name(enum fz_target t)
{
	return (unsigned)t < sizeof(target_names) / sizeof(target_names[0]) ? target_names[t] : "?";
}

/* ---- ops table ------------------------------------------------------------------------- */

static const struct { const char *name; unsigned len; } op_info[FZ_OP_COUNT] = {
	[FZ_OP_CMD] = { "cmd", 7 },
	[FZ_OP_RAWCMD] = { "rawcmd", 32 },
	[FZ_OP_BURST] = { "burst", 3 },
	[FZ_OP_KICK] = { "kick", 1 },
	[FZ_OP_CWRITER] = { "cwriter", 2 },
	[FZ_OP_CBASER] = { "cbaser", 3 },
	[FZ_OP_CTLR] = { "ctlr", 1 },
	[FZ_OP_BASER] = { "baser", 3 },
	[FZ_OP_L1] = { "l1", 1 },
	[FZ_OP_PROP] = { "prop", 3 },
	[FZ_OP_MSI] = { "msi", 2 },
	[FZ_OP_RESUME] = { "resume", 1 },
	[FZ_OP_DRAIN] = { "drain", 1 },
	[FZ_OP_PROPTABLE] = { "proptable", 2 },
	[FZ_OP_MMIO] = { "mmio", 3 },
	[FZ_OP_HOSTLPI] = { "hostlpi", 1 },
	[FZ_OP_ASSIGN] = { "assign", 2 },
	[FZ_OP_RESET] = { "reset", 1 },
};

unsigned fuzz_op_len(unsigned kind)
{
	return kind < FZ_OP_COUNT ? op_info[kind].len : 0;
}

const char *fuzz_op_name(unsigned kind)
{
	return kind < FZ_OP_COUNT ? op_info[kind].name : "?";
}

size_t fuzz_split_ops(const uint8_t *data, size_t size, size_t *starts, size_t max)
{
	size_t n = 0, off = FZ_HDR_BYTES;
	while (off < size && n < max) {
		starts[n++] = off;
		off += 1 + fuzz_op_len(data[off] % FZ_OP_COUNT);
	}
	return n;
}

void fz_emit(struct fz_buf *b, const void *bytes, size_t n)
{
	if (b->n + n > b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 256;
		while (nc < b->n + n)
			nc *= 2;
		b->p = realloc(b->p, nc);
		if (!b->p)
			abort();
		b->cap = nc;
	}
	memcpy(b->p + b->n, bytes, n);
	b->n += n;
}

void fz_emit_op(struct fz_buf *b, unsigned kind, const uint8_t *payload)
{
	uint8_t k = (uint8_t)kind;
	fz_emit(b, &k, 1);
	fz_emit(b, payload, fuzz_op_len(kind));
}

/* ---- decoded configuration --------------------------------------------------------------- */

struct fz_cfg {
	struct harness_config hc;   /* first: the harness cache key is the whole struct */
	uint32_t phys_cap;          /* physical queue capacity, 0 unlimited */
	uint8_t assigned;           /* vDeviceIDs 0..3 assigned at start (bit mask) */
	uint8_t max_pages;          /* CBASER pages the ops pick from */
	uint8_t init;               /* program the ITS like Linux before the ops */
	uint8_t prop_init;          /* initial property byte pattern */
	uint8_t prop_bits;          /* initial property table id_bits (0 none) */
	uint8_t queue_pages;
	uint8_t indirect;
	uint32_t page_size;
};

static void decode_header(enum fz_target t, const uint8_t *d, size_t n, struct fz_cfg *c)
{
	uint8_t h[FZ_HDR_BYTES] = { 0 };
	memcpy(h, d, n < FZ_HDR_BYTES ? n : FZ_HDR_BYTES);
	static const uint32_t budgets[8] = { 0, 0, 0, 0, 1, 2, 3, 5 };
	static const uint32_t caps[8] = { 0, 0, 1, 2, 3, 4, 8, 16 };
	static const uint8_t devbits[8] = { 1, 2, 3, 4, 8, 16, 20, 32 };
	static const uint8_t evbits[8] = { 1, 2, 3, 4, 5, 8, 16, 32 };
	static const uint8_t propbits[4] = { 16, 14, 0, 32 };
	static const uint32_t psz[4] = { 4096, 16384, 65536, 4096 };
	static const uint32_t xc[4] = { 256, 1, 2, 16 };
	static const uint32_t kth[4] = { 0, 1, 2, 8 };

	memset(c, 0, sizeof(*c));
	harness_config_default(&c->hc);
	struct vits_config *vc = &c->hc.vits;
	vc->nr_vcpus = 1 + (h[0] & 3);
	vc->error_mode = (h[0] >> 2) & 1;
	c->hc.with_host = (h[0] >> 3) & 1;
	vc->policy = (uint8_t)(((h[0] >> 4) & 7) % VITS_POLICY_COUNT);
	vc->budget = budgets[h[1] & 7];
	c->queue_pages = (uint8_t)(1 + ((h[1] >> 3) & 1));
	c->phys_cap = caps[(h[1] >> 4) & 7];
	vc->sync_squash = (h[1] >> 7) & 1;
	vc->devid_bits = devbits[h[2] & 7];
	vc->eventid_bits = evbits[(h[2] >> 3) & 7];
	vc->cid_bits = (uint8_t)(1 + ((h[2] >> 6) & 3));
	vc->intid_bits = (h[3] & 3) == 3 ? 16 : 14;
	c->prop_bits = propbits[(h[3] >> 2) & 3];
	c->indirect = (h[3] >> 4) & 1;
	c->page_size = psz[(h[3] >> 5) & 3];
	/* A small cap (what create needs plus a little) makes NO_MEMORY reachable. */
	vc->mem_cap = (h[3] & 0x80) ? (vc->intid_bits == 14 ? (200u << 10) : (1300u << 10)) : (64u << 20);
	vc->xlate_cache = xc[h[4] & 3];
	vc->invall_threshold = kth[(h[4] >> 2) & 3];
	c->assigned = (uint8_t)((h[5] & 0xf) | 1);
	c->hc.host.nr_pcpus = 1 + ((h[5] >> 4) & 3);
	c->hc.host.nr_plpis = NR_PLPIS;
	c->hc.host.peventid_bits = (h[5] & 0x40) ? 3 : 16;
	c->init = !(h[6] & 1);
	c->prop_init = h[7];
	c->max_pages = 4;

	switch (t) {
	case FZ_T_WRAP:
		/* Tiny queues on both sides: one or two guest pages, a physical queue of a
		 * few commands, always a host, so wrap and queue-full paths run often. */
		c->hc.with_host = true;
		c->max_pages = 2;
		if (c->phys_cap == 0)
			c->phys_cap = 1 + (h[1] >> 4);
		c->init = 1;
		break;
	case FZ_T_POLICY:
		c->hc.with_host = true;
		c->phys_cap = 0;        /* the policy target counts, it does not throttle */
		break;
	default:
		break;
	}
	if (!c->hc.with_host) {
		c->phys_cap = 0;
		c->assigned = 0;
		vc->policy = 0;
		memset(&c->hc.host, 0, sizeof(c->hc.host));
	}
}

/* ---- harness cache: creating a harness costs far more than resetting one --------------- */

struct fz_slot {
	bool used;
	uint64_t hash;              /* of key: the lookup compares it first */
	struct harness_config key;
	struct harness *h;
	struct ref *r;
	uint64_t mem_base;          /* engine bytes held just after create */
	uint8_t assigned;           /* vDeviceIDs assigned now */
	uint64_t last_use;
};

/* Harnesses kept, one per geometry (the whole harness_config).  A cmdq campaign
 * meets more than 64: with 64 slots 4.1% of the inputs re-created a harness (and
 * libFuzzer then ran its leak check on the unbalanced mallocs), with 256 1.6%, for a
 * peak RSS of about 590 MB (500-540 MB with 64).  At 128 commands an input, cmdq runs
 * more inputs and meets more geometries: 4.3% re-created with 256 slots, 2.2% with
 * 512 (peak RSS 633 against 684 MB in 20 s), 2.1% with 1024 (790 MB). */
#ifndef FZ_CACHE
#define FZ_CACHE 512
#endif
static struct fz_slot g_cache[FZ_CACHE];
static uint64_t g_cache_clock;

static int fz_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return harness_read_guest(ctx, gpa, buf, len);
}

/* FNV-1a of n bytes: the harness cache's key hash and the reproducer file names. */
static uint64_t fnv1a(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static struct fz_slot *cache_get(const struct harness_config *hc)
{
	/* Least recently used goes first: a campaign keeps returning to the few
	 * geometries of its corpus while the mutator tries new ones.  The hash keeps
	 * memcmp (which libFuzzer intercepts, and feeds its comparison table with) off
	 * the scan of every slot. */
	uint64_t hash = fnv1a(hc, sizeof(*hc));   /* decode_header zeroed the padding */
	struct fz_slot *s = &g_cache[0];
	for (unsigned i = 0; i < FZ_CACHE; i++) {
		if (g_cache[i].used && g_cache[i].hash == hash &&
		    !memcmp(&g_cache[i].key, hc, sizeof(*hc))) {
			g_cache[i].last_use = ++g_cache_clock;
			return &g_cache[i];
		}
		if (!g_cache[i].used ? s->used : g_cache[i].last_use < s->last_use)
			s = &g_cache[i];
	}
	if (s->used) {
		harness_set_phys_capacity(s->h, 0);
		ref_destroy(s->r);
		harness_destroy(s->h);
		memset(s, 0, sizeof(*s));
	}
	if (harness_create(hc, &s->h)) {
		fprintf(stderr, "fuzz: harness_create failed\n");
		abort();
	}
	struct ref_config rc = {
		.nr_vcpus = hc->vits.nr_vcpus, .devid_bits = hc->vits.devid_bits,
		.eventid_bits = hc->vits.eventid_bits, .cid_bits = hc->vits.cid_bits,
		.intid_bits = hc->vits.intid_bits, .read_guest = fz_read,
		.ram_check = harness_ram_check, .ctx = s->h,
	};
	s->r = ref_create(&rc);
	if (!s->r)
		abort();
	s->key = *hc;
	s->hash = hash;
	s->used = true;
	s->last_use = ++g_cache_clock;
	s->mem_base = s->h->engine_mem.cur;
	return s;
}

/* ---- run state ------------------------------------------------------------------------- */

struct qmodel {                 /* the queue as docs/semantics.md says it behaves */
	bool enabled, stalled;
	uint64_t cbaser;
	uint32_t qsize, next, cwriter;
};

struct pplpi {                  /* the physical ITS shadow, per physical LPI */
	bool mapped;
	uint8_t pdev;               /* index (pDeviceID - PDEV_BASE) */
	uint32_t ev;
	uint32_t pcpu;
	uint8_t cache;              /* configuration as the physical ITS last read it */
};

struct pdev {
	bool mapped;
	uint8_t bits;
	uint32_t nev;               /* physical events mapped */
};

/* The per-op oracle compares only what the op could change (docs/fuzzing.md,
 * "Oracles"); the whole state is compared at the end of every input. */
#define TCH_DEV 8
#define TCH_EV 32
#define TCH_COLL 8
#define TCH_LPI 64
struct touch {
	uint32_t dev[TCH_DEV];
	bool dev_scan[TCH_DEV];     /* also scan the engine's events of the device */
	unsigned ndev;
	struct { uint32_t dev, ev; } ev[TCH_EV];
	unsigned nev;
	uint32_t coll[TCH_COLL];
	unsigned ncoll;
	uint32_t lpi[TCH_LPI];
	unsigned nlpi;
	bool all_lpis;              /* MOVALL: every LPI, and the stray-pending scan */
	bool overflow;              /* too much to list: whole-state check */
};

#define FZ_DIRTY_PAGES 512

struct fz {
	enum fz_target t;
	struct fz_cfg cfg;
	struct fz_slot *slot;
	struct harness *h;
	struct ref *r;
	const uint8_t *data;
	size_t size;
	int policy;

	struct qmodel q;
	uint32_t wptr;              /* the guest driver's write pointer */
	uint32_t slots;             /* command slots written (bounded) */
	uint64_t baser0;            /* BASER0 as the guest last wrote it (while disabled) */
	uint64_t prop_gpa;
	unsigned prop_bits;         /* as the engine holds them (clamped), 0 none */
	bool model_ok;              /* false once the engine ran out of memory */
	bool failed;
	unsigned opi;               /* index of the running op */
	unsigned op_kind;

	bool touched;               /* the op ran commands, MSIs or state changes */
	bool full_check;            /* the op needs the whole-state oracle (reset, assign) */
	struct touch tch;           /* what the op's commands and MSIs could change */
	size_t dl_inj, dl_ref;      /* deliveries compared so far (engine, model) */
	/* guest RAM pages written this input: zeroed (kept backed) at the end */
	uint64_t dirty_pfn[FZ_DIRTY_PAGES];
	unsigned ndirty;
	bool dirty_overflow;
	unsigned input_cmds;        /* guest commands run by this input (FZ_MAX_CMDS*) */
	/* per engine call */
	unsigned call_cmds;
	bool in_call;

	/* physical shadow */
	struct pdev pdev[NR_PDEV];
	struct pplpi plpi[NR_PLPIS];
	uint8_t assigned;           /* vDeviceIDs assigned now */
	int unassigning;            /* pdev index being unassigned, -1 none */

	/* amplification */
	unsigned tally, tally_bound;
	unsigned tally_op;
	uint64_t prop_trap_bytes, prop_phys;
	uint64_t teardown_phys, teardown_bound;
	bool teardown_open;         /* bound taken for the teardown under way */

	/* configuration freshness */
	uint8_t gdirty[MAX_INTIDS / 8];
	bool fresh_check;

	size_t inj_checked;
	uint64_t spurious;

	/* what check_state last compared, to skip what cannot have changed */
	bool regs_written;          /* the op wrote an ITS register */
	uint64_t creadr_seen;       /* GITS_CREADR value last read back */
	uint64_t mem_ops_seen;      /* allocator allocations + frees at the last check */

#ifndef FUZZ_NO_TRACE
	struct itr_writer *itr;
	uint64_t itr_ts;
#endif
};

static void fz_dump_ops(struct fz *f);

#define FAIL_RET(...) do { fz_fail(__VA_ARGS__); return; } while (0)

static void fz_fail(struct fz *f, const char *fmt, ...)
{
	if (f->failed)
		return;
	f->failed = true;
	fprintf(stderr, "==== vits fuzz oracle failure (target %s, policy %s, op #%u %s) ====\n",
		fuzz_target_name(f->t), vits_policy_name((enum vits_policy)f->cfg.hc.vits.policy),
		f->opi, fuzz_op_name(f->op_kind));
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fz_dump_ops(f);
	fflush(stderr);
	if (g_abort)
		abort();
}

static uint64_t pow2(unsigned b)
{
	return b >= 64 ? 0 : (uint64_t)1 << b;
}

static uint32_t qsize_or_page(const struct fz *f)
{
	return f->q.qsize ? f->q.qsize : ITS_CMDQ_PAGE;
}

static uint64_t qbase(const struct fz *f)
{
	return f->q.cbaser & GITS_FIELD_MASK(CBASER, PA);
}

static bool q_runnable(const struct fz *f)
{
	return f->q.enabled && f->q.qsize && !f->q.stalled && f->q.next != f->q.cwriter;
}

/* ---- guest RAM writes: the pages are remembered, and zeroed (not freed) at the end
 * of the input, so the next input finds them backed (no page churn under ASan) ---- */

static void fz_ram_dirty(struct fz *f, uint64_t gpa, size_t len)
{
	if (len == 0)
		return;
	for (uint64_t pfn = gpa >> GUEST_RAM_PAGE_SHIFT;
	     pfn <= (gpa + len - 1) >> GUEST_RAM_PAGE_SHIFT; pfn++) {
		bool have = false;
		for (unsigned i = f->ndirty; i-- > 0 && !have;)
			have = f->dirty_pfn[i] == pfn;
		if (have)
			continue;
		if (f->ndirty == FZ_DIRTY_PAGES) {
			f->dirty_overflow = true;
			return;
		}
		f->dirty_pfn[f->ndirty++] = pfn;
	}
}

static int fz_ram_write(struct fz *f, uint64_t gpa, const void *buf, size_t len)
{
	int rc = guest_ram_write(f->h->ram, gpa, buf, len);
	if (rc == 0)
		fz_ram_dirty(f, gpa, len);
	return rc;
}

static int fz_ram_write_u64(struct fz *f, uint64_t gpa, uint64_t val)
{
	int rc = guest_ram_write_u64(f->h->ram, gpa, val);
	if (rc == 0)
		fz_ram_dirty(f, gpa, 8);
	return rc;
}

/* All of guest RAM reads zero again, as guest_ram_clear leaves it. */
static void fz_ram_clear(struct fz *f)
{
	static const uint8_t zero[GUEST_RAM_PAGE_SIZE];
	if (f->dirty_overflow) {
		guest_ram_clear(f->h->ram);
	} else {
		for (unsigned i = 0; i < f->ndirty; i++)
			guest_ram_write(f->h->ram, f->dirty_pfn[i] << GUEST_RAM_PAGE_SHIFT, zero,
					sizeof(zero));
	}
	f->ndirty = 0;
	f->dirty_overflow = false;
}

/* ---- value pickers: mostly small IDs that collide, sometimes an edge ------------------- */

static uint32_t devt_entries(const struct fz *f)
{
	uint64_t page;
	switch (GITS_FIELD_GET(f->baser0, BASER, PAGE_SIZE)) {
	case 0: page = 4096; break;
	case 1: page = 16384; break;
	default: page = 65536; break;
	}
	uint64_t n = (GITS_FIELD_GET(f->baser0, BASER, SIZE) + 1) * page / 8;
	if (GITS_FIELD_GET(f->baser0, BASER, INDIRECT))
		n = page / 8;
	return (uint32_t)n;
}

static uint32_t sel_dev(const struct fz *f, uint8_t b)
{
	if (b < 0xe0)
		return b % 5;
	unsigned db = f->cfg.hc.vits.devid_bits;
	const uint64_t e[8] = { pow2(db) - 1, pow2(db), 0xffffffffu, devt_entries(f) - 1,
				devt_entries(f), 64, 1u << 16, 0x80000000u };
	return (uint32_t)e[b & 7];
}

static unsigned dev_event_bits(const struct fz *f, uint32_t dev)
{
	struct ref_device d;
	if (ref_query_device(f->r, dev, &d) == 0)
		return d.event_bits;
	return f->cfg.hc.vits.eventid_bits;
}

static uint32_t sel_ev(const struct fz *f, uint8_t b, uint32_t dev)
{
	if (b < 0xe0)
		return b & 7;
	unsigned eb = dev_event_bits(f, dev), peb = f->cfg.hc.host.peventid_bits;
	const uint64_t e[8] = { pow2(eb) - 1, pow2(eb), pow2(f->cfg.hc.vits.eventid_bits) - 1,
				0xffffffffu, 8192, pow2(peb) - 1, pow2(peb), 0x7fffffffu };
	return (uint32_t)e[b & 7];
}

static uint32_t sel_intid(const struct fz *f, uint8_t b)
{
	if (b < 0xe0)
		return 8192 + (b & 15);
	unsigned pb = f->prop_bits ? f->prop_bits : f->cfg.hc.vits.intid_bits;
	const uint64_t e[8] = { 8191, 0, pow2(pb) - 1, pow2(pb), pow2(f->cfg.hc.vits.intid_bits),
				0xffffffffu, 8192 + 255, 8192 + 16 };
	return (uint32_t)e[b & 7];
}

static uint32_t sel_icid(const struct fz *f, uint8_t b)
{
	if (b < 0xf0)
		return b & 3;
	unsigned cb = f->cfg.hc.vits.cid_bits;
	const uint32_t e[4] = { (uint32_t)pow2(cb) - 1, (uint32_t)pow2(cb), 0xffff, 8 };
	return e[b & 3];
}

static uint64_t sel_rd(const struct fz *f, uint8_t b)
{
	if (b < 0xf0)
		return b & 3;
	uint32_t n = f->cfg.hc.vits.nr_vcpus;
	const uint64_t e[4] = { n, n - 1, 1ull << 35, (1ull << 36) - 1 };
	return e[b & 3];
}

static unsigned sel_size(const struct fz *f, uint8_t b)
{
	if (b < 0xf0)
		return b & 3;
	unsigned eb = f->cfg.hc.vits.eventid_bits;
	const unsigned e[4] = { eb - 1, eb, 31, 15 };
	return e[b & 3] & 31;
}

static uint64_t sel_itt(uint8_t b, unsigned size_m1)
{
	if (b < 0xf0)
		return ITT_GPA + (uint64_t)(b & 7) * 0x10000;
	uint64_t bytes = pow2(size_m1 + 1) * 8;
	const uint64_t e[4] = { 0x1000, RAM_END - 256,
				bytes < RAM_SIZE ? RAM_END - bytes : 0x1000, 0 };
	return e[b & 3];
}

static struct its_cmd build_cmd(const struct fz *f, const uint8_t *p)
{
	static const uint8_t ops[16] = {
		ITS_OP_MAPD, ITS_OP_MAPC, ITS_OP_MAPTI, ITS_OP_MAPI, ITS_OP_MOVI, ITS_OP_DISCARD,
		ITS_OP_INT, ITS_OP_CLEAR, ITS_OP_INV, ITS_OP_INVALL, ITS_OP_SYNC, ITS_OP_MOVALL,
		ITS_OP_MAPTI, ITS_OP_INT, ITS_OP_INV, 0,
	};
	unsigned op = ops[p[0] & 15];
	uint8_t a = p[1], b = p[2], c = p[3], d = p[4], fl = p[5], junk = p[6];
	struct its_cmd cmd;
	uint32_t dev = sel_dev(f, a);
	bool v = !(fl & 1);
	switch (op) {
	case ITS_OP_MAPD: {
		unsigned s = sel_size(f, b);
		cmd = its_mk_mapd(dev, s, sel_itt(c, s), v);
		break;
	}
	case ITS_OP_MAPC: cmd = its_mk_mapc(sel_icid(f, a), sel_rd(f, b), v); break;
	case ITS_OP_MAPTI:
		cmd = its_mk_mapti(dev, sel_ev(f, b, dev), sel_intid(f, c), sel_icid(f, d));
		break;
	case ITS_OP_MAPI:
		cmd = its_mk_mapi(dev, b < 0x80 ? sel_intid(f, b) : sel_ev(f, b, dev), sel_icid(f, d));
		break;
	case ITS_OP_MOVI: cmd = its_mk_movi(dev, sel_ev(f, b, dev), sel_icid(f, d)); break;
	case ITS_OP_DISCARD:
	case ITS_OP_INT:
	case ITS_OP_CLEAR:
	case ITS_OP_INV: cmd = its_mk_devev(op, dev, sel_ev(f, b, dev)); break;
	case ITS_OP_INVALL: cmd = its_mk_invall(sel_icid(f, a)); break;
	case ITS_OP_SYNC: cmd = its_mk_sync(sel_rd(f, a)); break;
	case ITS_OP_MOVALL: cmd = its_mk_movall(sel_rd(f, a), sel_rd(f, b)); break;
	default:
		/* Any opcode: GICv4, undefined, and GICv3 ones with raw fields. */
		cmd = its_mk(junk);
		cmd.dw[0] |= (uint64_t)a << 32 | (uint64_t)b << 40;
		cmd.dw[1] = (uint64_t)c | (uint64_t)d << 32;
		cmd.dw[2] = (uint64_t)(a & 3) << 16 | (uint64_t)(fl & 0x80) << 56;
		break;
	}
	if (fl & 4) {
		/* Noise in bits no field of the command uses: must be ignored. */
		cmd.dw[0] |= (uint64_t)junk << 8 | (uint64_t)junk << 24;
		if (op != ITS_OP_MOVALL)
			cmd.dw[3] |= (uint64_t)junk << 1 | (uint64_t)junk << 56;
	}
	return cmd;
}

/* ---- physical ITS shadow ------------------------------------------------------------- */

static int pdev_index(const struct fz *f, uint64_t pdevid)
{
	if (pdevid < PDEV_BASE || pdevid >= PDEV_BASE + NR_PDEV)
		return -1;
	return (int)(pdevid - PDEV_BASE);
}

static struct pplpi *pfind(struct fz *f, int pd, uint32_t ev)
{
	for (unsigned i = 0; i < NR_PLPIS; i++)
		if (f->plpi[i].mapped && f->plpi[i].pdev == pd && f->plpi[i].ev == ev)
			return &f->plpi[i];
	return NULL;
}

static unsigned pcount(const struct fz *f, int pd)
{
	return f->pdev[pd].nev;
}

static uint8_t host_byte(const struct fz *f, uint32_t plpi)
{
	return f->h->host_prop[plpi - LPI_INTID_BASE];
}

static const char *opname(unsigned op)
{
	const char *n = its_cmd_name(op);
	return n ? n : "?";
}

/* Apply a physical command as a physical ITS would, failing on what would make one
 * report an error or stall. */
static void pshadow_apply(struct fz *f, const struct its_cmd *c, unsigned cause)
{
	unsigned op = (unsigned)its_cmd_get_opcode(c);
	uint32_t npc = f->cfg.hc.host.nr_pcpus;
	uint64_t pdevid = its_cmd_get_devid(c);
	int pd = pdev_index(f, pdevid);
	bool names_dev = op == ITS_OP_MAPD || op == ITS_OP_MAPTI || op == ITS_OP_MAPI ||
			 op == ITS_OP_MOVI || op == ITS_OP_DISCARD || op == ITS_OP_INT ||
			 op == ITS_OP_CLEAR || op == ITS_OP_INV;

	if (names_dev) {
		bool mine = pd >= 0 && ((f->assigned >> pd) & 1);
		/* The unassignment's own teardown names the device while it runs. */
		if (pd >= 0 && pd == f->unassigning)
			mine = true;
		if (!mine) {
			fz_fail(f, "isolation: physical %s names pDeviceID %#" PRIx64
				", not assigned to this domain (assigned mask %#x)",
				opname(op), pdevid, f->assigned);
			return;
		}
	}
	struct pdev *d = pd >= 0 ? &f->pdev[pd] : NULL;
	uint32_t ev = (uint32_t)its_cmd_get_eventid(c);
	switch (op) {
	case ITS_OP_MAPD:
		if (its_cmd_get_valid(c)) {
			if (d->mapped && pcount(f, pd))
				fz_fail(f, "physical ITS: MAPD V=1 of pDeviceID %#" PRIx64
					" over a mapping that still has %u events", pdevid, pcount(f, pd));
			d->mapped = true;
			d->bits = (uint8_t)(its_cmd_get_size(c) + 1);
			if (d->bits > f->cfg.hc.host.peventid_bits)
				fz_fail(f, "physical ITS: MAPD Size %u beyond the physical ID bits %u",
					d->bits, f->cfg.hc.host.peventid_bits);
		} else {
			if (pcount(f, pd))
				fz_fail(f, "physical ITS: MAPD V=0 of pDeviceID %#" PRIx64
					" with %u events still mapped (they leak)", pdevid, pcount(f, pd));
			d->mapped = false;
		}
		break;
	case ITS_OP_MAPTI: {
		uint32_t plpi = (uint32_t)its_cmd_get_pintid(c);
		uint64_t icid = its_cmd_get_icid(c);
		if (!d->mapped || (uint64_t)ev >= pow2(d->bits)) {
			fz_fail(f, "physical ITS: MAPTI (%#" PRIx64 ", %u) on an unmapped device "
				"or beyond its ITT", pdevid, ev);
			break;
		}
		if (pfind(f, pd, ev)) {
			fz_fail(f, "physical ITS: MAPTI onto mapped event (%#" PRIx64 ", %u)", pdevid, ev);
			break;
		}
		if (plpi < LPI_INTID_BASE || plpi - LPI_INTID_BASE >= NR_PLPIS) {
			fz_fail(f, "physical ITS: MAPTI pINTID %u outside the host's LPIs", plpi);
			break;
		}
		if (icid >= npc) {
			fz_fail(f, "physical ITS: MAPTI ICID %" PRIu64 " >= %u pCPUs", icid, npc);
			break;
		}
		struct pplpi *p = &f->plpi[plpi - LPI_INTID_BASE];
		if (p->mapped) {
			fz_fail(f, "isolation: pLPI %u mapped twice (already (%#x, %u))", plpi,
				PDEV_BASE + p->pdev, p->ev);
			break;
		}
		p->mapped = true;
		d->nev++;
		p->pdev = (uint8_t)pd;
		p->ev = ev;
		p->pcpu = (uint32_t)icid;
		p->cache = host_byte(f, plpi);
		break;
	}
	case ITS_OP_MOVI:
	case ITS_OP_DISCARD:
	case ITS_OP_CLEAR:
	case ITS_OP_INV:
	case ITS_OP_INT: {
		struct pplpi *p = d->mapped ? pfind(f, pd, ev) : NULL;
		if (!p) {
			fz_fail(f, "physical ITS: %s for unmapped event (%#" PRIx64 ", %u)",
				opname(op), pdevid, ev);
			break;
		}
		if (op == ITS_OP_MOVI) {
			uint64_t icid = its_cmd_get_icid(c);
			if (icid >= npc)
				fz_fail(f, "physical ITS: MOVI ICID %" PRIu64 " >= %u pCPUs", icid, npc);
			p->pcpu = (uint32_t)icid;
		} else if (op == ITS_OP_DISCARD) {
			p->mapped = false;
			d->nev--;
		} else if (op == ITS_OP_INV) {
			p->cache = host_byte(f, (uint32_t)(p - f->plpi) + LPI_INTID_BASE);
		}
		break;
	}
	case ITS_OP_INVALL: {
		uint64_t icid = its_cmd_get_icid(c);
		if (icid >= npc) {
			fz_fail(f, "physical ITS: INVALL ICID %" PRIu64 " >= %u pCPUs", icid, npc);
			break;
		}
		for (unsigned i = 0; i < NR_PLPIS; i++)
			if (f->plpi[i].mapped && f->plpi[i].pcpu == icid)
				f->plpi[i].cache = host_byte(f, i + LPI_INTID_BASE);
		break;
	}
	case ITS_OP_SYNC:
		if (its_cmd_get_rdbase(c) >= npc)
			fz_fail(f, "physical ITS: SYNC RDbase %" PRIu64 " >= %u pCPUs",
				its_cmd_get_rdbase(c), npc);
		break;
	case ITS_OP_MAPC:
	case ITS_OP_MOVALL:
	default:
		fz_fail(f, "physical ITS: unexpected physical command %s (%#x)", opname(op), op);
		break;
	}
}

/* ---- amplification bounds (docs/fuzzing.md "Policy bounds") ---------------------------- */

static bool phys_allowed(unsigned gop, unsigned pop)
{
	switch (gop) {
	/* CLEAR after MAPD V=0 and DISCARD: the pending state of other events mapping
	 * the same LPI (aliases); INV after MAPD and DISCARD: an event left alone on its
	 * LPI gets the guest's byte back (vits_policy_host_cfg); INV after MAPTI: the
	 * aliases' configuration; CLEAR after a re-read (MAPTI, INV, INVALL) that
	 * delivered an LPI the engine held pending: the physical pending state merged
	 * into it (vits_policy_released). */
	case ITS_OP_MAPD:
		return pop == ITS_OP_MAPD || pop == ITS_OP_DISCARD || pop == ITS_OP_CLEAR ||
		       pop == ITS_OP_INV;
	case ITS_OP_MAPTI:
	case ITS_OP_MAPI: return pop == ITS_OP_MAPTI || pop == ITS_OP_INV || pop == ITS_OP_CLEAR;
	case ITS_OP_MOVI: return pop == ITS_OP_MOVI;
	case ITS_OP_DISCARD:
		return pop == ITS_OP_DISCARD || pop == ITS_OP_CLEAR || pop == ITS_OP_INV;
	case ITS_OP_CLEAR: return pop == ITS_OP_CLEAR;
	case ITS_OP_INV: return pop == ITS_OP_INV || pop == ITS_OP_CLEAR;
	case ITS_OP_INVALL:
		return pop == ITS_OP_INVALL || pop == ITS_OP_INV || pop == ITS_OP_CLEAR;
	case ITS_OP_SYNC: return pop == ITS_OP_SYNC;
	default: return false;
	}
}

/* The event counts below once the model no longer follows the engine (it ran out of
 * memory: model_ok false): the physical events mapped (the shadow) plus one, since
 * only events with a physical LPI get INV or CLEAR. */
static unsigned events_without_model(const struct fz *f)
{
	unsigned n = 1;
	for (unsigned i = 0; i < NR_PLPIS; i++)
		n += f->plpi[i].mapped;
	return n;
}

/* Events mapping intid now (the reference model's count). */
static unsigned lpi_events(struct fz *f, uint32_t intid)
{
	struct ref_lpi rl;
	if (!f->model_ok)
		return events_without_model(f);
	return ref_query_lpi(f->r, intid, &rl) == 0 ? rl.mapped : 0;
}

/* Events mapped by the domain (the reference model's count; see events_without_model). */
static unsigned all_events(struct fz *f)
{
	return f->model_ok ? (unsigned)ref_event_count(f->r) : events_without_model(f);
}

/* Events mapping the LPI of the command's (DeviceID, EventID), at least 1. */
static unsigned event_lpi_events(struct fz *f, const struct its_cmd *c)
{
	struct ref_event re;
	if (!f->model_ok)
		return events_without_model(f);
	if (ref_query_event(f->r, (uint32_t)its_cmd_get_devid(c), (uint32_t)its_cmd_get_eventid(c),
			    &re) != 0)
		return 1;
	unsigned n = lpi_events(f, re.intid);
	return n ? n : 1;
}

static unsigned cmd_bound(struct fz *f, const struct its_cmd *c)
{
	unsigned op = (unsigned)its_cmd_get_opcode(c);
	unsigned pol = f->cfg.hc.vits.policy, npc = f->cfg.hc.host.nr_pcpus;
	switch (op) {
	case ITS_OP_MAPD: {
		/* DISCARD per physically mapped event of the device, MAPD V=0, MAPD V=1,
		 * and per event elsewhere sharing an LPI with the device's a CLEAR, and an
		 * INV when it is left alone on its LPI (not under virtual). */
		int pd = pdev_index(f, PDEV_BASE + its_cmd_get_devid(c));
		return 2 + (pd >= 0 ? pcount(f, pd) : 0) + 2 * all_events(f);
	}
	case ITS_OP_MAPTI: case ITS_OP_MAPI:
		/* MAPTI, and an INV for each other event already mapping the LPI (its
		 * configuration was just re-read: aliases follow), and a CLEAR for each when
		 * that delivered the LPI pending through them. */
		return 1 + (pol == VITS_POLICY_VIRTUAL ? 0 :
			    2 * lpi_events(f, op == ITS_OP_MAPTI ? (uint32_t)its_cmd_get_pintid(c)
								 : (uint32_t)its_cmd_get_eventid(c)));
	case ITS_OP_MOVI:
		return 1;
	case ITS_OP_DISCARD: {
		/* its own, a CLEAR per other event mapping the LPI, and when one other
		 * is left, an INV giving it the guest's byte back (not under virtual) */
		unsigned n = event_lpi_events(f, c);
		return n + (pol != VITS_POLICY_VIRTUAL && n == 2);
	}
	case ITS_OP_CLEAR:
		/* its own, and a CLEAR per other event mapping the LPI */
		return event_lpi_events(f, c);
	case ITS_OP_INV:
		/* One INV per event mapping the LPI (1 unless aliased); eager and lazy only
		 * when the host byte went stale, which the bound does not need to know.
		 * A CLEAR per event too when the INV delivered the LPI the engine held. */
		return pol == VITS_POLICY_VIRTUAL ? 0 : 2 * event_lpi_events(f, c);
	case ITS_OP_INVALL:
		/* An INVALL per pCPU, or up to K INVs, plus an INV per alias elsewhere and a
		 * CLEAR per event whose LPI it delivered from the engine's pending state. */
		if (pol == VITS_POLICY_VIRTUAL)
			return 0;
		return (npc > f->cfg.hc.vits.invall_threshold || pol == VITS_POLICY_FORWARD
				? npc : f->cfg.hc.vits.invall_threshold) +
		       2 * all_events(f);
	case ITS_OP_SYNC:
		return npc;
	default:
		return 0;
	}
}

static void teardown_allow(struct fz *f);

static void on_phys(struct fz *f, const struct vits_event *ev)
{
	const struct its_cmd *c = &ev->u.phys.cmd;
	unsigned pop = (unsigned)its_cmd_get_opcode(c);
	if (g_verbose)
		fprintf(stderr, "   phys %s dev %#" PRIx64 " ev %" PRIu64 " (cause %u, guest %s at %#x)\n",
			opname(pop), its_cmd_get_devid(c), its_cmd_get_eventid(c), ev->u.phys.cause,
			opname(ev->u.phys.cause_opcode), ev->u.phys.cause_offset);
	switch (ev->u.phys.cause) {
	case VITS_CAUSE_GUEST_CMD:
		if (!phys_allowed(ev->u.phys.cause_opcode, pop))
			fz_fail(f, "amplification: guest %s caused physical %s",
				opname(ev->u.phys.cause_opcode), opname(pop));
		if (++f->tally > f->tally_bound)
			fz_fail(f, "amplification: guest %s at queue offset %#x caused %u physical "
				"commands, bound %u (policy %s)", opname(ev->u.phys.cause_opcode),
				ev->u.phys.cause_offset, f->tally, f->tally_bound,
				vits_policy_name((enum vits_policy)f->cfg.hc.vits.policy));
		break;
	case VITS_CAUSE_PROP_WRITE:
		f->prop_phys++;
		if (pop != ITS_OP_INV || f->cfg.hc.vits.policy != VITS_POLICY_EAGER)
			fz_fail(f, "amplification: a trapped property write caused physical %s "
				"under %s", opname(pop),
				vits_policy_name((enum vits_policy)f->cfg.hc.vits.policy));
		else if (f->prop_phys > f->prop_trap_bytes)
			fz_fail(f, "amplification: %" PRIu64 " physical INVs for %" PRIu64
				" trapped property bytes (eager bound: 1 per byte and event mapping its LPI)", f->prop_phys,
				f->prop_trap_bytes);
		break;
	case VITS_CAUSE_TEARDOWN:
		if (!f->teardown_open) {
			/* What the physical ITS holds when the teardown starts (the guest
			 * commands still queued before it have been applied by now). */
			teardown_allow(f);
			f->teardown_open = true;
		}
		f->teardown_phys++;
		/* CLEAR: pending state of a virtual event's LPI that an assigned event
		 * also maps (docs/semantics.md, aliased LPIs); INV: an unassignment hands
		 * physically pending LPIs to the host before its DISCARDs. */
		if (pop != ITS_OP_DISCARD && pop != ITS_OP_MAPD && pop != ITS_OP_SYNC &&
		    pop != ITS_OP_CLEAR && pop != ITS_OP_INV)
			fz_fail(f, "teardown sent physical %s", opname(pop));
		if (f->teardown_phys > f->teardown_bound)
			fz_fail(f, "amplification: teardown sent %" PRIu64 " physical commands, "
				"bound %" PRIu64, f->teardown_phys, f->teardown_bound);
		break;
	default:
		fz_fail(f, "physical command with unknown cause %u", ev->u.phys.cause);
	}
	pshadow_apply(f, c, ev->u.phys.cause);
}

/* The teardown of what is mapped now may cost this much. */
static void teardown_allow(struct fz *f)
{
	unsigned n = 0;
	for (unsigned i = 0; i < NR_PLPIS; i++)
		n += f->plpi[i].mapped;
	for (unsigned i = 0; i < NR_PDEV; i++)
		n += f->pdev[i].mapped;
	/* DISCARD (and, when unassigning, an INV) per pLPI, MAPD V=0 per device, a SYNC
	 * per pCPU, and a CLEAR per event sharing an LPI with another. */
	f->teardown_bound += 2 * n + f->cfg.hc.host.nr_pcpus + 2 * all_events(f);
}

/* ---- guest commands, seen through the trace hook ------------------------------------- */

static void gdirty_set(struct fz *f, uint32_t intid, bool on)
{
	if (intid < LPI_INTID_BASE || intid >= MAX_INTIDS)
		return;
	if (on)
		f->gdirty[intid / 8] |= (uint8_t)(1u << (intid % 8));
	else
		f->gdirty[intid / 8] &= (uint8_t)~(1u << (intid % 8));
}

static bool gdirty_get(const struct fz *f, uint32_t intid)
{
	return intid >= MAX_INTIDS || (f->gdirty[intid / 8] >> (intid % 8) & 1);
}

/* ---- what an op could change (the per-op oracle compares only that) -------------- */

static void tch_dev(struct fz *f, uint64_t dev, bool scan)
{
	struct touch *t = &f->tch;
	if (dev > UINT32_MAX)
		return;
	for (unsigned i = 0; i < t->ndev; i++)
		if (t->dev[i] == dev) {
			t->dev_scan[i] |= scan;
			return;
		}
	if (t->ndev == TCH_DEV) {
		t->overflow = true;
		return;
	}
	t->dev_scan[t->ndev] = scan;
	t->dev[t->ndev++] = (uint32_t)dev;
}

static void tch_lpi(struct fz *f, uint64_t intid)
{
	struct touch *t = &f->tch;
	if (intid < LPI_INTID_BASE || intid > UINT32_MAX)
		return;
	for (unsigned i = 0; i < t->nlpi; i++)
		if (t->lpi[i] == intid)
			return;
	if (t->nlpi == TCH_LPI) {
		t->overflow = true;
		return;
	}
	t->lpi[t->nlpi++] = (uint32_t)intid;
}

/* Event (dev, ev) and the LPI the model has it mapped to now. */
static void tch_ev(struct fz *f, uint64_t dev, uint64_t ev)
{
	struct touch *t = &f->tch;
	if (dev > UINT32_MAX || ev > UINT32_MAX)
		return;
	struct ref_event re;
	if (ref_query_event(f->r, (uint32_t)dev, (uint32_t)ev, &re) == 0)
		tch_lpi(f, re.intid);
	for (unsigned i = 0; i < t->nev; i++)
		if (t->ev[i].dev == dev && t->ev[i].ev == ev)
			return;
	if (t->nev == TCH_EV) {
		t->overflow = true;
		return;
	}
	t->ev[t->nev].dev = (uint32_t)dev;
	t->ev[t->nev++].ev = (uint32_t)ev;
}

static void tch_coll(struct fz *f, uint64_t icid)
{
	struct touch *t = &f->tch;
	if (icid > 0xffff)
		return;
	for (unsigned i = 0; i < t->ncoll; i++)
		if (t->coll[i] == icid)
			return;
	if (t->ncoll == TCH_COLL) {
		t->overflow = true;
		return;
	}
	t->coll[t->ncoll++] = (uint32_t)icid;
}

struct tch_arg {
	struct fz *f;
	int mode;                   /* 0: events of device key, 1: of collection key */
	uint32_t key;
};

static int tch_event_fn(void *arg, const struct ref_event *e)
{
	struct tch_arg *a = arg;
	if ((a->mode == 0 ? e->devid : e->icid) == a->key)
		tch_ev(a->f, e->devid, e->eventid);
	return 0;
}

/* Everything guest command c could change, as the model holds it before and after
 * the command (called on both sides of ref_cmd), whatever its outcome: a failing
 * command must leave that state unchanged. */
static void tch_cmd(struct fz *f, const struct its_cmd *c)
{
	unsigned op = (unsigned)its_cmd_get_opcode(c);
	uint64_t dev = its_cmd_get_devid(c), ev = its_cmd_get_eventid(c);
	switch (op) {
	case ITS_OP_MAPD: {
		tch_dev(f, dev, true);
		if (dev <= UINT32_MAX) {
			struct tch_arg a = { f, 0, (uint32_t)dev };
			ref_foreach_event(f->r, tch_event_fn, &a);
		}
		break;
	}
	case ITS_OP_MAPTI:
	case ITS_OP_MAPI:
		tch_dev(f, dev, false);
		tch_ev(f, dev, ev);
		tch_lpi(f, op == ITS_OP_MAPTI ? its_cmd_get_pintid(c) : ev);
		tch_coll(f, its_cmd_get_icid(c));
		break;
	case ITS_OP_MOVI:
		tch_coll(f, its_cmd_get_icid(c));
		/* fall through */
	case ITS_OP_DISCARD:
	case ITS_OP_INT:
	case ITS_OP_CLEAR:
	case ITS_OP_INV:
		tch_dev(f, dev, false);
		tch_ev(f, dev, ev);
		break;
	case ITS_OP_MAPC:
		tch_coll(f, its_cmd_get_icid(c));
		break;
	case ITS_OP_INVALL: {
		tch_coll(f, its_cmd_get_icid(c));
		struct tch_arg a = { f, 1, (uint32_t)its_cmd_get_icid(c) };
		ref_foreach_event(f->r, tch_event_fn, &a);
		break;
	}
	case ITS_OP_SYNC:
		break;
	default:
		/* MOVALL moves every LPI pending on a vCPU; unknown opcodes must change
		 * nothing: look at every LPI. */
		f->tch.all_lpis = true;
		break;
	}
}

struct invall_arg {
	struct fz *f;
	uint16_t icid;
};

static int clean_coll(void *arg, const struct ref_event *e)
{
	struct invall_arg *a = arg;
	if (e->icid == a->icid)
		gdirty_set(a->f, e->intid, false);
	return 0;
}

static void on_cmd(struct fz *f, const struct vits_event *ev)
{
	uint32_t off = ev->u.cmd.offset;
	const struct its_cmd *c = &ev->u.cmd.cmd;
	unsigned why = ev->u.cmd.reason, out = ev->u.cmd.outcome;
	unsigned op = (unsigned)its_cmd_get_opcode(c);

	f->call_cmds++;
	f->input_cmds++;
	f->touched = true;
	if (g_verbose)
		fprintf(stderr, "   guest %s at %#x: %s\n", opname(op), off,
			vits_reason_name((enum vits_reason)why));
	if (!f->in_call)
		fz_fail(f, "queue: command at %#x ran outside a CWRITER write, enable or resume", off);
	if (!q_runnable(f))
		fz_fail(f, "queue: command at %#x ran while the queue model says nothing may run "
			"(enabled %d size %#x stalled %d CREADR %#x CWRITER %#x)", off, f->q.enabled,
			f->q.qsize, f->q.stalled, f->q.next, f->q.cwriter);
	else if (off != f->q.next)
		fz_fail(f, "queue: command ran at offset %#x, expected the one at %#x (each "
			"command between CREADR and CWRITER exactly once, in order)", off, f->q.next);
	if (f->failed)
		return;

	/* The bytes executed are the ones in guest memory at that slot. */
	uint8_t raw[ITS_CMD_BYTES];
	bool readable = guest_ram_read(f->h->ram, qbase(f) + off, raw, sizeof(raw)) == 0;
	struct its_cmd mem = { { 0, 0, 0, 0 } };
	if (readable)
		its_cmd_from_bytes(&mem, raw);
	bool same = mem.dw[0] == c->dw[0] && mem.dw[1] == c->dw[1] && mem.dw[2] == c->dw[2] &&
		    mem.dw[3] == c->dw[3];         /* not memcmp: libFuzzer intercepts it */
	if (readable ? !same : why != VITS_R_MEM_FAULT)
		fz_fail(f, "queue: command at %#x: engine ran %016" PRIx64 " %016" PRIx64
			", guest memory %s %016" PRIx64 " %016" PRIx64, off, c->dw[0], c->dw[1],
			readable ? "holds" : "faults", mem.dw[0], mem.dw[1]);
	if (readable && why == VITS_R_MEM_FAULT && op != ITS_OP_MAPD)
		fz_fail(f, "queue: MEM_FAULT for a readable slot at %#x", off);

	unsigned want_out = why == VITS_R_NONE ? VITS_CMD_OK
			  : f->cfg.hc.vits.error_mode == VITS_ERRMODE_STALL ? VITS_CMD_STALLED
									   : VITS_CMD_SKIPPED;
	if (out != want_out)
		fz_fail(f, "queue: command at %#x reason %s gave outcome %u, error mode %u wants %u",
			off, vits_reason_name((enum vits_reason)why), out,
			f->cfg.hc.vits.error_mode, want_out);

	/* Amplification tally for this command's physical commands (they follow). */
	f->tally = 0;
	f->tally_op = op;
	f->tally_bound = f->h->host ? cmd_bound(f, c) : 0;

	if (f->model_ok) {
		tch_cmd(f, c);
		enum vits_reason want = ref_cmd(f->r, c);
		tch_cmd(f, c);
		if (why == VITS_R_NO_MEMORY && want != VITS_R_NO_MEMORY) {
			/* The model has no memory cap: from here on only the other oracles. */
			f->model_ok = false;
		} else if (why == VITS_R_MEM_FAULT && !readable) {
			/* the model saw a zero command: state unchanged on both sides */
		} else if (want != why) {
			fz_fail(f, "model: command at %#x (%s %016" PRIx64 " %016" PRIx64 " %016"
				PRIx64 " %016" PRIx64 "): model %s, engine %s", off, opname(op),
				c->dw[0], c->dw[1], c->dw[2], c->dw[3], ref_reason_name(want),
				vits_reason_name((enum vits_reason)why));
		}
	}
	if (why == VITS_R_NONE) {
		struct ref_event re;
		switch (op) {
		case ITS_OP_MAPTI:
		case ITS_OP_MAPI:
			gdirty_set(f, op == ITS_OP_MAPTI ? (uint32_t)its_cmd_get_pintid(c)
							 : (uint32_t)its_cmd_get_eventid(c), false);
			break;
		case ITS_OP_INV:
			if (ref_query_event(f->r, (uint32_t)its_cmd_get_devid(c),
					    (uint32_t)its_cmd_get_eventid(c), &re) == 0)
				gdirty_set(f, re.intid, false);
			break;
		case ITS_OP_INVALL: {
			struct invall_arg a = { f, (uint16_t)its_cmd_get_icid(c) };
			ref_foreach_event(f->r, clean_coll, &a);
			break;
		}
		case ITS_OP_SYNC:
			f->fresh_check = true;
			break;
		}
	}
	if (out == VITS_CMD_STALLED) {
		f->q.stalled = true;
	} else {
		f->q.next += ITS_CMD_BYTES;
		if (f->q.next >= f->q.qsize)
			f->q.next = 0;
	}
}

static void fz_trace(void *ctx, const struct vits_event *ev)
{
	struct fz *f = ctx;
#ifndef FUZZ_NO_TRACE
	if (f->itr)
		itr_writer_event(f->itr, f->itr_ts++, 0, 0, ev);
#endif
	switch (ev->type) {
	case VITS_EV_CMD:
		on_cmd(f, ev);
		break;
	case VITS_EV_PHYS_CMD:
		on_phys(f, ev);
		break;
	default:
		break;
	}
}

/* ---- the per-op oracle: engine versus model on what the op touched ---------------- */

static bool tch_fail(char *msg, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool tch_fail(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
	return true;
}

static bool tch_check_lpi(struct fz *f, uint32_t intid, char *msg, size_t len)
{
	struct vits_lpi_info li;
	struct ref_lpi l;
	int erc = vits_query_lpi(f->h->vits, intid, &li);
	if (ref_query_lpi(f->r, intid, &l) != 0 || !l.mapped) {
		bool mpend = ref_query_lpi(f->r, intid, &l) == 0 && l.pending;
		if (erc == 0 && li.pending && !mpend)
			return tch_fail(msg, len, "lpi %u: expected not pending, engine has it "
					"pending on vcpu %u", intid, li.pending_vcpu);
		return false;
	}
	if (erc < 0)
		return tch_fail(msg, len, "lpi %u: expected cfg %#x pending %d, engine has no "
				"state for it", intid, l.cfg, l.pending);
	if (li.cfg != l.cfg)
		return tch_fail(msg, len, "lpi %u: expected cfg %#x, got cfg %#x", intid, l.cfg,
				li.cfg);
	if (!!li.pending != l.pending)
		return tch_fail(msg, len, "lpi %u: expected %s, got %s (vcpu %u)", intid,
				l.pending ? "pending" : "not pending",
				li.pending ? "pending" : "not pending",
				li.pending ? li.pending_vcpu : l.pending_vcpu);
	if (l.pending && li.pending_vcpu != l.pending_vcpu)
		return tch_fail(msg, len, "lpi %u: expected pending on vcpu %u, got vcpu %u",
				intid, l.pending_vcpu, li.pending_vcpu);
	return false;
}

static int tch_lpi_fn(void *arg, const struct ref_lpi *l)
{
	struct fz *f = ((void **)arg)[0];
	char *msg = ((void **)arg)[1];
	return tch_check_lpi(f, l->intid, msg, 512) ? 1 : 0;
}

static int tch_pending_fn(void *arg, uint32_t intid, const struct vits_lpi_info *li)
{
	(void)li;
	struct fz *f = ((void **)arg)[0];
	char *msg = ((void **)arg)[1];
	return tch_check_lpi(f, intid, msg, 512) ? 1 : 0;
}

struct dl_pair {
	uint32_t vcpu, intid;
};

static int dl_cmp(const void *a, const void *b)
{
	const struct dl_pair *x = a, *y = b;
	if (x->vcpu != y->vcpu)
		return x->vcpu < y->vcpu ? -1 : 1;
	return x->intid < y->intid ? -1 : x->intid > y->intid;
}

/* Delivery sequences (as oracle_check_deliveries: per command a multiset, across
 * commands in order), incrementally: the groups of commands that completed since the
 * last check.  The group of the next command may still grow; the end of the input
 * compares everything. */
static bool dl_check(struct fz *f, char *msg, size_t len)
{
	size_t ninj, nref;
	const struct harness_inject *inj = harness_injects(f->h, &ninj);
	const struct ref_delivery *del = ref_deliveries(f->r, &nref);
	uint64_t limit = ref_cmd_count(f->r);
	size_t i = f->dl_inj, j = f->dl_ref;
	while ((i < ninj && inj[i].seq < limit) || (j < nref && del[j].seq < limit)) {
		uint64_t s;
		if (i < ninj && j < nref)
			s = inj[i].seq < del[j].seq ? inj[i].seq : del[j].seq;
		else
			s = i < ninj ? inj[i].seq : del[j].seq;
		struct dl_pair ge[64], gm[64];
		size_t ne = 0, nm = 0, i0 = i, j0 = j;
		bool big = false;
		while (i < ninj && inj[i].seq == s) {
			if (ne < 64) {
				ge[ne].vcpu = inj[i].vcpu;
				ge[ne++].intid = inj[i].intid;
			} else {
				big = true;
			}
			i++;
		}
		while (j < nref && del[j].seq == s) {
			if (nm < 64) {
				gm[nm].vcpu = del[j].vcpu;
				gm[nm++].intid = del[j].intid;
			} else {
				big = true;
			}
			j++;
		}
		if (big)
			continue;       /* a huge group: compared at the end of the input */
		qsort(ge, ne, sizeof(*ge), dl_cmp);
		qsort(gm, nm, sizeof(*gm), dl_cmp);
		if (ne == nm && (ne == 0 || !memcmp(ge, gm, ne * sizeof(*ge))))
			continue;
		f->dl_inj = i;
		f->dl_ref = j;
		return tch_fail(msg, len, "deliveries while command #%" PRIu64 " was the next to "
				"complete (model delivery #%zu, engine injection #%zu): expected "
				"%zu, got %zu (first: model %u/%u, engine %u/%u)", s, j0, i0, nm, ne,
				nm ? gm[0].vcpu : 0, nm ? gm[0].intid : 0, ne ? ge[0].vcpu : 0,
				ne ? ge[0].intid : 0);
	}
	f->dl_inj = i;
	f->dl_ref = j;
	return false;
}

/* 1 and msg on the first difference in what the op touched. */
static bool check_touched(struct fz *f, char *msg, size_t len)
{
	struct touch *t = &f->tch;
	struct vits *v = f->h->vits;
	for (unsigned i = 0; i < t->ndev; i++) {
		struct vits_device_info di;
		struct ref_device rd;
		int erc = vits_query_device(v, t->dev[i], &di);
		int mrc = ref_query_device(f->r, t->dev[i], &rd);
		if ((erc == 0) != (mrc == 0))
			return tch_fail(msg, len, "device %#x: expected %s, engine has it %s",
					t->dev[i], mrc ? "unmapped" : "mapped",
					erc ? "unmapped" : "mapped");
		if (erc)
			continue;
		if (rd.event_bits != di.event_bits || rd.itt_addr != di.itt_addr)
			return tch_fail(msg, len, "device %#x: expected event_bits %u itt %#" PRIx64
					", got event_bits %u itt %#" PRIx64, t->dev[i], rd.event_bits,
					rd.itt_addr, di.event_bits, di.itt_addr);
		if (!t->dev_scan[i])
			continue;
		uint64_t n = pow2(di.event_bits);
		if (n > 8 || n == 0)
			n = 8;
		for (uint64_t e = 0; e < n; e++) {
			struct vits_event_info ei;
			struct ref_event re;
			if (vits_query_event(v, t->dev[i], (uint32_t)e, &ei) == 0 &&
			    ref_query_event(f->r, t->dev[i], (uint32_t)e, &re) != 0)
				return tch_fail(msg, len, "event (dev %#x, ev %#" PRIx64 "): expected "
						"unmapped, engine maps it to intid %u icid %u",
						t->dev[i], e, ei.intid, ei.icid);
		}
	}
	for (unsigned i = 0; i < t->nev; i++) {
		struct vits_event_info ei;
		struct ref_event re;
		int erc = vits_query_event(v, t->ev[i].dev, t->ev[i].ev, &ei);
		int mrc = ref_query_event(f->r, t->ev[i].dev, t->ev[i].ev, &re);
		if (mrc == 0 && erc != 0)
			return tch_fail(msg, len, "event (dev %#x, ev %#x): expected intid %u icid "
					"%u, engine has it unmapped", re.devid, re.eventid, re.intid,
					re.icid);
		if (mrc != 0 && erc == 0)
			return tch_fail(msg, len, "event (dev %#x, ev %#x): expected unmapped, "
					"engine maps it to intid %u icid %u", t->ev[i].dev,
					t->ev[i].ev, ei.intid, ei.icid);
		if (mrc == 0 && (ei.intid != re.intid || ei.icid != re.icid))
			return tch_fail(msg, len, "event (dev %#x, ev %#x): expected intid %u icid "
					"%u, got intid %u icid %u", re.devid, re.eventid, re.intid,
					re.icid, ei.intid, ei.icid);
	}
	for (unsigned i = 0; i < t->ncoll; i++) {
		uint32_t ev = 0, mv = 0;
		int erc = vits_query_collection(v, t->coll[i], &ev);
		int mrc = ref_query_collection(f->r, t->coll[i], &mv);
		if ((erc == 0) != (mrc == 0) || (erc == 0 && ev != mv))
			return tch_fail(msg, len, "collection %u: expected %s%u, engine %s%u",
					t->coll[i], mrc ? "unmapped " : "vcpu ", mv,
					erc ? "unmapped " : "vcpu ", ev);
	}
	for (unsigned i = 0; i < t->nlpi; i++)
		if (tch_check_lpi(f, t->lpi[i], msg, len))
			return true;
	if (t->all_lpis) {
		void *arg[2] = { f, msg };
		if (ref_foreach_lpi(f->r, tch_lpi_fn, arg))
			return true;
		/* Stray pending state anywhere (the model holds none for the LPI). */
		if (vits_foreach_pending_lpi(v, tch_pending_fn, arg))
			return true;
	}
	return dl_check(f, msg, len);
}

/* ---- state checks after each operation --------------------------------------------------- */

static void check_state(struct fz *f, bool final)
{
	struct vits *v = f->h->vits;
	struct vits_queue_info qi;
	vits_query_queue(v, &qi);
	bool throttled = f->h->host && f->cfg.phys_cap;
	uint32_t prev = f->q.next ? f->q.next - ITS_CMD_BYTES
				  : (f->q.qsize ? f->q.qsize - ITS_CMD_BYTES : 0);

	if (qi.size != f->q.qsize || qi.cwriter != f->q.cwriter || qi.stalled != f->q.stalled ||
	    qi.enabled != f->q.enabled)
		FAIL_RET(f, "registers: engine size %#x CWRITER %#x stalled %u enabled %u; "
			       "documented behaviour gives size %#x CWRITER %#x stalled %d enabled %d",
			       qi.size, qi.cwriter, qi.stalled, qi.enabled, f->q.qsize, f->q.cwriter,
			       f->q.stalled, f->q.enabled);
	if ((qi.size ? qi.creadr >= qi.size : qi.creadr != 0) || (qi.creadr & 31))
		FAIL_RET(f, "queue: CREADR %#x out of range or misaligned (size %#x)",
			       qi.creadr, qi.size);
	if (qi.creadr != f->q.next && !(throttled && qi.creadr == prev && vits_work_pending(v)))
		FAIL_RET(f, "queue: CREADR %#x, expected %#x", qi.creadr, f->q.next);
	if (q_runnable(f) && !vits_work_pending(v))
		FAIL_RET(f, "queue: commands wait at %#x..%#x but vits_work_pending() is 0 "
			       "(lost work)", f->q.next, f->q.cwriter);
	if (f->cfg.hc.vits.budget == 0 && !throttled && q_runnable(f))
		FAIL_RET(f, "queue: no budget, yet CREADR %#x != CWRITER %#x and not stalled",
			       f->q.next, f->q.cwriter);
	/* The register read is a function of the queue state: read it again when that
	 * state moved, after an op that wrote registers, and at the end (an MMIO read
	 * through the engine after every op was 9% of an input). */
	uint64_t creadr_state = (uint64_t)qi.creadr | qi.stalled;
	if (final || f->regs_written || creadr_state != f->creadr_seen) {
		uint64_t creadr_mmio = harness_mmio_read(f->h, GITS_CREADR, 8);
		if (creadr_mmio != creadr_state)
			FAIL_RET(f, "registers: GITS_CREADR reads %#" PRIx64 ", state %#x "
				       "stalled %u", creadr_mmio, qi.creadr, qi.stalled);
		f->creadr_seen = creadr_state;
	}

	/* Injections only to this domain's vCPUs. */
	size_t ninj;
	const struct harness_inject *inj = harness_injects(f->h, &ninj);
	for (; f->inj_checked < ninj; f->inj_checked++)
		if (inj[f->inj_checked].vcpu >= f->cfg.hc.vits.nr_vcpus)
			FAIL_RET(f, "isolation: injection to vCPU %u of %u",
				       inj[f->inj_checked].vcpu, f->cfg.hc.vits.nr_vcpus);

	/* Memory cap, and the engine's count against the allocator's: compared when the
	 * allocator saw an allocation or a free since the last comparison, and at the
	 * end (vits_get_stats copies some 900 bytes). */
	uint64_t cap = f->cfg.hc.vits.mem_cap;
	uint64_t mem_ops = f->h->engine_mem.allocs + f->h->engine_mem.frees;
	if (f->h->engine_mem.peak > cap)
		FAIL_RET(f, "memory: peak %" PRIu64 " cap %" PRIu64, f->h->engine_mem.peak, cap);
	if (final || mem_ops != f->mem_ops_seen) {
		struct vits_stats st;
		vits_get_stats(v, &st);
		if (st.mem_used != f->h->engine_mem.cur)
			FAIL_RET(f, "memory: engine says %" PRIu64 " held, allocator %" PRIu64,
				       st.mem_used, f->h->engine_mem.cur);
		f->mem_ops_seen = mem_ops;
	}

	/* Reference model: after each operation that changed guest-visible state (the
	 * per-command reasons are compared as they run), and in full at the end. */
	if (f->model_ok && (final || f->full_check || f->tch.overflow)) {
		char msg[512];
		/* Stray pending LPIs are found through the engine's iterator, whatever
		 * their INTID; only the engine's events are scanned by ID. */
		struct oracle_limits lim = { .max_event_scan = final ? 64 : 8 };
		if (oracle_check_harness(f->h, f->r, &lim, msg, sizeof(msg)))
			FAIL_RET(f, "model: %s", msg);
		size_t nr;
		harness_injects(f->h, &f->dl_inj);   /* compared in full just now */
		ref_deliveries(f->r, &nr);
		f->dl_ref = nr;
	} else if (f->model_ok && f->touched) {
		char msg[512];
		if (check_touched(f, msg, sizeof(msg)))
			FAIL_RET(f, "model: %s", msg);
	}
	memset(&f->tch, 0, sizeof(f->tch));

	/* Physical configuration freshness after a guest SYNC: every LPI the guest has
	 * invalidated since its last store must be configured on the physical ITS as the
	 * engine last read it (virtual: host LPIs stay enabled).  Otherwise a device either
	 * storms the host or loses interrupts the architecture promised.  It needs the
	 * model's mapping counts (an aliased LPI stays enabled), so not once the model
	 * stopped following the engine (model_ok false after VITS_R_NO_MEMORY). */
	if (f->fresh_check && f->h->host && f->model_ok && !vits_work_pending(v)) {
		f->fresh_check = false;
		for (unsigned i = 0; i < NR_PLPIS; i++) {
			const struct pplpi *p = &f->plpi[i];
			if (!p->mapped)
				continue;
			struct vits_event_info ei;
			if (vits_query_event(v, p->pdev, p->ev, &ei) != 0 || ei.plpi != i + LPI_INTID_BASE)
				continue;
			/* An LPI two or more events map stays enabled whatever the guest
			 * wrote: its pending state lives in the engine (vits_policy_host_cfg). */
			struct ref_lpi rl;
			if (ref_query_lpi(f->r, ei.intid, &rl) || rl.mapped == 0)
				continue;
			bool aliased = rl.mapped > 1;
			if (!aliased && gdirty_get(f, ei.intid))
				continue;
			struct vits_lpi_info li;
			vits_query_lpi(v, ei.intid, &li);
			unsigned want = f->cfg.hc.vits.policy == VITS_POLICY_VIRTUAL || aliased ? 1 :
					(li.cfg & 1);
			if ((p->cache & 1) != want)
				FAIL_RET(f, "storm/freshness: after INV+SYNC, pLPI %u of (dev %u, "
					       "ev %u, LPI %u%s) is %s on the physical ITS, the guest has it "
					       "%s (host byte %#x, guest %#x)", i + LPI_INTID_BASE, p->pdev,
					       p->ev, ei.intid, aliased ? ", aliased" : "",
					       (p->cache & 1) ? "enabled" : "disabled",
					       (li.cfg & 1) ? "enabled" : "disabled",
					       host_byte(f, i + LPI_INTID_BASE), li.cfg);
		}
	}
}

/* Every register write of the executor: check_state reads GITS_CREADR back after it. */
static void fz_mmio_write(struct fz *f, uint64_t off, unsigned size, uint64_t val)
{
	f->regs_written = true;
	vits_mmio_write(f->h->vits, off, size, val);
}

/* Calls that may run the queue: the per-call budget and the count returned. */
static void call_begin(struct fz *f)
{
	f->in_call = true;
	f->call_cmds = 0;
}

static void call_end(struct fz *f, int ret, bool is_resume)
{
	f->in_call = false;
	uint32_t budget = f->cfg.hc.vits.budget;
	if (budget && f->call_cmds > budget)
		fz_fail(f, "budget: one call ran %u commands, budget %u (unbounded work per trap)",
			f->call_cmds, budget);
	if (is_resume && ret != (int)f->call_cmds)
		fz_fail(f, "vits_resume returned %d, %u commands ran", ret, f->call_cmds);
}

/* ---- register writes through the queue model ----------------------------------------- */

static void w_ctlr(struct fz *f, uint64_t val, unsigned size)
{
	bool was = f->q.enabled;
	if (size == 4) {
		f->q.enabled = val & 1;
		ref_set_enabled(f->r, f->q.enabled);
	}
	call_begin(f);
	fz_mmio_write(f, GITS_CTLR, size, val);
	call_end(f, 0, false);
	(void)was;
}

/* A write of size 4 (half = 0 low, 1 high) or 8 to CBASER. */
static void w_cbaser(struct fz *f, uint64_t val, unsigned size, unsigned half)
{
	uint64_t full = val;
	if (size == 4) {
		unsigned sh = half * 32;
		uint64_t mask = 0xffffffffull << sh;
		full = (f->q.cbaser & ~mask) | (((uint64_t)(uint32_t)val) << sh);
	}
	if (!f->q.enabled) {
		f->q.cbaser = full & CBASER_RW;
		f->q.qsize = GITS_FIELD_GET(f->q.cbaser, CBASER, VALID)
				     ? (uint32_t)(GITS_FIELD_GET(f->q.cbaser, CBASER, SIZE) + 1) * ITS_CMDQ_PAGE
				     : 0;
		f->q.next = 0;
		f->q.stalled = false;
		if (f->q.cwriter >= f->q.qsize)
			f->q.cwriter = 0;
	}
	call_begin(f);
	fz_mmio_write(f, GITS_CBASER + half * 4, size, size == 4 ? (uint32_t)val : val);
	call_end(f, 0, false);
	f->wptr = f->q.cwriter;
}

static void w_cwriter(struct fz *f, uint64_t val, unsigned size, unsigned half)
{
	uint64_t full = val;
	if (size == 4) {
		unsigned sh = half * 32;
		uint64_t mask = 0xffffffffull << sh;
		full = ((uint64_t)f->q.cwriter & ~mask) | (((uint64_t)(uint32_t)val) << sh);
		if (half)
			full &= ~GITS_FIELD_MASK(CWRITER, RETRY);
	}
	uint32_t target = (uint32_t)(full & GITS_FIELD_MASK(CWRITER, OFFSET));
	if (!(target >= f->q.qsize && !(target == 0 && f->q.qsize == 0))) {
		struct vits_queue_info qi;
		vits_query_queue(f->h->vits, &qi);
		/* docs/semantics.md: while the command at CREADR has run and waits for
		 * physical-queue room, a CWRITER pulled back onto CREADR is ignored. */
		bool in_flight = qi.creadr != f->q.next && f->q.qsize;
		if (!(in_flight && target == qi.creadr)) {
			f->q.cwriter = target;
			if ((full & GITS_FIELD_MASK(CWRITER, RETRY)) && f->q.stalled)
				f->q.stalled = false;
		}
	}
	call_begin(f);
	fz_mmio_write(f, GITS_CWRITER + half * 4, size, size == 4 ? (uint32_t)val : val);
	call_end(f, 0, false);
	f->wptr = f->q.cwriter;
}

static void w_baser0(struct fz *f, uint64_t val, unsigned size, unsigned half)
{
	uint64_t full = val;
	if (size == 4) {
		unsigned sh = half * 32;
		uint64_t mask = 0xffffffffull << sh;
		full = (f->baser0 & ~mask) | (((uint64_t)(uint32_t)val) << sh);
	}
	if (!f->q.enabled) {
		f->baser0 = full;
		ref_set_device_table(f->r, full);
	}
	fz_mmio_write(f, GITS_BASER0 + half * 4, size, size == 4 ? (uint32_t)val : val);
}

static void put_slot(struct fz *f, const struct its_cmd *c)
{
	uint8_t raw[ITS_CMD_BYTES];
	its_cmd_to_bytes(c, raw);
	fz_ram_write(f, qbase(f) + f->wptr, raw, sizeof(raw));
	f->wptr = (f->wptr + ITS_CMD_BYTES) % qsize_or_page(f);
	f->slots++;
}

static void kick(struct fz *f)
{
	w_cwriter(f, f->wptr, 8, 0);
}

/* ---- operations ------------------------------------------------------------------------- */

static void op_cbaser(struct fz *f, const uint8_t *p)
{
	uint8_t fl = p[0];
	unsigned pages = 1 + p[1] % f->cfg.max_pages;
	if ((fl & 0x20) && p[1] == 0xff)
		pages = ITS_CMDQ_MAX_PAGES;
	const uint64_t addr[5] = { QUEUE_GPA, QUEUE2_GPA, 0x1000, RAM_END - 0x800,
				   RAM_END - (uint64_t)pages * ITS_CMDQ_PAGE };
	uint64_t val = (addr[p[2] % 5] & GITS_FIELD_MASK(CBASER, PA)) |
		       GITS_FIELD_MASK(CBASER, VALID) | (uint64_t)(pages - 1) |
		       (uint64_t)1 << GITS_CBASER_SHAREABILITY_SHIFT |
		       (uint64_t)7 << GITS_CBASER_INNERCACHE_SHIFT;
	if (fl & 2)
		val &= ~GITS_FIELD_MASK(CBASER, VALID);
	if (fl & 0x40)
		val |= (uint64_t)p[2] << 8 | (uint64_t)(p[2] & 0xf) << 48;   /* RES0 noise */
	if (fl & 1)
		w_ctlr(f, 0, 4);
	if (fl & 8)
		w_cbaser(f, val, 4, 0);
	else if (fl & 0x10)
		w_cbaser(f, val >> 32, 4, 1);
	else
		w_cbaser(f, val, 8, 0);
	if (fl & 4)
		w_ctlr(f, 1, 4);
}

static void op_cwriter(struct fz *f, const uint8_t *p)
{
	uint32_t qs = f->q.qsize, x = p[1];
	uint32_t prevr = f->q.next ? f->q.next - 32 : (qs ? qs - 32 : 0);
	uint64_t vals[12] = { qs, qs + 32, qs - 32, f->wptr | 1, x * 32, 0, 0xfffe0, f->q.next,
			      prevr, (f->wptr + x * 32) % qsize_or_page(f),
			      (1u << 20) | f->wptr, (uint64_t)x << 37 | f->wptr };
	uint64_t v = vals[(p[0] & 15) % 12];
	switch ((p[0] >> 4) & 3) {
	case 0: w_cwriter(f, v, 8, 0); break;
	case 1: w_cwriter(f, v, 4, 0); break;
	case 2: w_cwriter(f, v >> 32, 4, 1); break;
	default: w_cwriter(f, v | 1, 8, 0); break;
	}
}

static void op_baser(struct fz *f, const uint8_t *p)
{
	uint8_t fl = p[0];
	static const unsigned psz[4] = { 4096, 16384, 65536, 65536 };
	unsigned code = (fl >> 3) & 3, pages = 1 + (p[1] & 1);
	bool indirect = fl & 4;
	uint64_t v = harness_baser0_value(DEVT_GPA, pages, psz[code], indirect);
	v = GITS_FIELD_SET(v, BASER, PAGE_SIZE, code);
	if (fl & 2)
		v &= ~GITS_FIELD_MASK(BASER, VALID);
	if (fl & 0x80)
		v |= (uint64_t)(p[2] & 0xf) << 12;
	if (indirect) {
		for (unsigned i = 0; i < 4; i++) {
			uint64_t e = ((p[2] >> i) & 1) ? (L2_GPA + i * 0x10000) | (1ull << 63) : 0;
			fz_ram_write_u64(f, DEVT_GPA + i * 8, e);
		}
	}
	if (fl & 1)
		w_ctlr(f, 0, 4);
	if (fl & 0x40) {
		w_baser0(f, v, 4, 0);
		w_baser0(f, v >> 32, 4, 1);
	} else {
		w_baser0(f, v, 8, 0);
	}
	if (fl & 0x20)
		w_ctlr(f, 1, 4);
}

static void op_prop(struct fz *f, const uint8_t *p)
{
	uint32_t intid = sel_intid(f, p[0]);
	unsigned len = 1u << (p[2] & 3);
	uint64_t gpa = f->prop_gpa + (uint64_t)intid - LPI_INTID_BASE;
	if (f->prop_bits == 0)
		gpa = PROP_GPA + (uint64_t)intid - LPI_INTID_BASE;
	if (p[2] & 4)
		gpa += (p[2] >> 3) & 7;   /* misaligned stores */
	uint64_t value = 0;
	uint8_t bytes[8];
	for (unsigned k = 0; k < len; k++) {
		bytes[k] = (uint8_t)(p[1] + k * ((p[2] >> 6) + 1) * 0x51);
		value |= (uint64_t)bytes[k] << (8 * k);
	}
	if (fz_ram_write(f, gpa, bytes, len))
		return;                 /* the store faults: nothing to trap */
	uint64_t nbytes = f->prop_bits ? pow2(f->prop_bits) - LPI_INTID_BASE : 0;
	for (unsigned k = 0; k < len; k++) {
		uint64_t a = gpa + k;
		if (f->prop_bits && a >= f->prop_gpa && a - f->prop_gpa < nbytes) {
			uint32_t li = (uint32_t)(a - f->prop_gpa) + LPI_INTID_BASE;
			gdirty_set(f, li, true);
			/* eager: an INV per event mapping the LPI (1 unless aliased) */
			unsigned n = lpi_events(f, li);
			f->prop_trap_bytes += n ? n : 1;
		}
	}
	/* The embedder traps every store to the table: the trapping policies need it. */
	vits_prop_write(f->h->vits, gpa, len, value);
	if (g_verbose) {
		struct vits_stats st;
		vits_get_stats(f->h->vits, &st);
		fprintf(stderr, "   prop store gpa %#" PRIx64 " len %u value %#" PRIx64
			" (table %#" PRIx64 " bits %u) dirty now %" PRIu64 "\n", gpa, len, value,
			f->prop_gpa, f->prop_bits, st.dirty_lpis);
	}
}

static void op_proptable(struct fz *f, const uint8_t *p)
{
	static const unsigned bits[8] = { 0, 13, 14, 15, 16, 24, 32, 33 };
	const uint64_t gpas[4] = { PROP_GPA, RAM_END - 16, PROP_GPA + 0x10000, 0 };
	unsigned ib = bits[p[0] & 7];
	uint64_t gpa = gpas[p[1] & 3];
	int got = vits_set_prop_table(f->h->vits, gpa, ib);
	int want = ref_set_prop_table(f->r, gpa, ib);
	if ((got < 0) != (want < 0))
		FAIL_RET(f, "vits_set_prop_table(%#" PRIx64 ", %u): engine %d, model %d",
			       gpa, ib, got, want);
	if (got >= 0) {
		unsigned cl = ib > f->cfg.hc.vits.intid_bits ? f->cfg.hc.vits.intid_bits : ib;
		f->prop_bits = cl;
		f->prop_gpa = cl ? gpa : 0;
		/* Every LPI's next INV reads from the new table. */
		memset(f->gdirty, 0xff, sizeof(f->gdirty));
	}
}

static void op_msi(struct fz *f, const uint8_t *p)
{
	uint32_t dev = sel_dev(f, p[0]), ev = sel_ev(f, p[1], dev);
	if (f->model_ok) {
		tch_ev(f, dev, ev);
		enum vits_reason want = ref_msi(f->r, dev, ev);
		int got = vits_msi(f->h->vits, dev, ev);
		if (got != (int)want)
			fz_fail(f, "model: MSI (dev %#x, ev %#x): model %s, engine %d (%s)", dev, ev,
				ref_reason_name(want), got,
				got >= 0 ? vits_reason_name((enum vits_reason)got) : vits_strerror(got));
	} else {
		vits_msi(f->h->vits, dev, ev);
	}
}

static void op_mmio(struct fz *f, const uint8_t *p)
{
	static const uint32_t offs[16] = {
		GITS_CTLR, GITS_IIDR, GITS_TYPER, GITS_TYPER + 4, GITS_CBASER, GITS_CBASER + 4,
		GITS_CWRITER, GITS_CWRITER + 4, GITS_CREADR, GITS_CREADR + 4, GITS_BASER0 + 8,
		GITS_BASER0 + 60, 0xffe8, GITS_TRANSLATER, 0x3, 0x20020,
	};
	static const unsigned sizes[4] = { 4, 8, 1, 2 };
	uint32_t off = offs[p[0] & 15];
	unsigned size = sizes[(p[0] >> 4) & 3];
	bool wr = p[0] & 0x40;
	uint64_t val = (uint64_t)p[2] * 0x0101010101010101ull ^ p[1];
	if (!wr) {
		uint64_t got = harness_mmio_read(f->h, off, size);
		if (off == GITS_CWRITER && size == 8 && got != f->q.cwriter)
			fz_fail(f, "registers: CWRITER reads %#" PRIx64 ", expected %#x", got, f->q.cwriter);
		if (off == GITS_CBASER && size == 8 && got != f->q.cbaser)
			fz_fail(f, "registers: CBASER reads %#" PRIx64 ", expected %#" PRIx64, got,
				f->q.cbaser);
		return;
	}
	/* Writes to the queue registers go through the model; the rest must be ignored
	 * (read-only registers, bad sizes, unknown offsets), which the state checks see. */
	bool sz_ok = size == 4 || size == 8;
	if (sz_ok && (off == GITS_CBASER || off == GITS_CBASER + 4) && !(off & 4 && size == 8))
		{ w_cbaser(f, val, size, (off & 4) ? 1 : 0); return; }
	if (sz_ok && (off == GITS_CWRITER || off == GITS_CWRITER + 4) && !(off & 4 && size == 8))
		{ w_cwriter(f, val, size, (off & 4) ? 1 : 0); return; }
	if (off == GITS_CTLR) {
		if (size == 4) {
			w_ctlr(f, val, 4);
			return;
		}
		call_begin(f);
		fz_mmio_write(f, off, size, val);
		call_end(f, 0, false);
		return;
	}
	call_begin(f);
	fz_mmio_write(f, off, size, val);
	call_end(f, 0, false);
	if (f->call_cmds)
		fz_fail(f, "registers: a write to %#x size %u ran %u commands", off, size, f->call_cmds);
}

static void op_hostlpi(struct fz *f, const uint8_t *p)
{
	if (!f->h->host)
		return;
	unsigned n = 0, pick = p[0];
	for (unsigned i = 0; i < NR_PLPIS; i++)
		n += f->plpi[i].mapped;
	if (n == 0)
		return;
	pick %= n;
	for (unsigned i = 0; i < NR_PLPIS; i++) {
		const struct pplpi *pl = &f->plpi[i];
		if (!pl->mapped || pick--)
			continue;
		/* The physical ITS delivers only what its configuration cache enables.  With
		 * the guest's ITS disabled a host LPI is delivered as pending state, not
		 * translated as an MSI (docs/semantics.md), which the model, taking it for
		 * an MSI, cannot follow: not fired then. */
		if (!(pl->cache & 1) || !f->q.enabled)
			return;
		uint32_t vdev = pl->pdev, ev = pl->ev;
		int got = vits_host_plpi(f->h->host, i + LPI_INTID_BASE);
		/* With physical commands still queued the physical ITS may lag the engine
		 * (a DISCARD not yet consumed): only a delivery is then comparable. */
		if (f->model_ok)
			tch_ev(f, vdev, ev);
		if (f->model_ok && (got == VITS_R_NONE || !vits_work_pending(f->h->vits))) {
			enum vits_reason want = ref_msi(f->r, vdev, ev);
			if ((got == VITS_R_NONE) != (want == VITS_R_NONE))
				fz_fail(f, "model: physical LPI %u (dev %u, ev %u): model %s, engine %d",
					i + LPI_INTID_BASE, vdev, ev, ref_reason_name(want), got);
		}
		return;
	}
}

static void op_assign(struct fz *f, const uint8_t *p)
{
	if (!f->h->host)
		return;
	uint32_t vdev = p[0] & 3;
	bool was = (f->assigned >> vdev) & 1;
	if (p[1] & 1) {
		f->unassigning = (int)vdev;
		f->teardown_open = false;
		f->teardown_bound += f->cfg.hc.host.nr_pcpus;
		int rc = vits_unassign_device(f->h->vits, vdev);
		f->unassigning = -1;
		if (rc == VITS_E_AGAIN && was)
			return;         /* the physical queue is full: still assigned, retry later */
		if (rc != (was ? 0 : VITS_E_NOENT))
			FAIL_RET(f, "vits_unassign_device(%u): %d, assigned %d", vdev, rc, was);
		/* From here on no physical command may name the device (isolation). */
		f->assigned &= (uint8_t)~(1u << vdev);
		/* The guest's device stays mapped, purely virtual: its events keep no pLPI. */
		int pd = (int)vdev;
		if (pcount(f, pd) || f->pdev[pd].mapped) {
			if (!vits_work_pending(f->h->vits))
				fz_fail(f, "teardown: unassigned device %u keeps %u physical events "
					"(device mapped %d)", vdev, pcount(f, pd), f->pdev[pd].mapped);
		}
		return;
	}
	struct ref_device rd;
	bool mapped = ref_query_device(f->r, vdev, &rd) == 0;
	int rc = vits_assign_device(f->h->vits, vdev, PDEV_BASE + vdev);
	int want = (uint64_t)vdev >= pow2(f->cfg.hc.vits.devid_bits) ? VITS_E_RANGE
		 : was ? VITS_E_EXIST : !f->model_ok ? rc : mapped ? VITS_E_STATE : 0;
	if (rc != want)
		FAIL_RET(f, "vits_assign_device(%u): %d, expected %d", vdev, rc, want);
	if (rc == 0)
		f->assigned |= (uint8_t)(1u << vdev);
}

/* The guest reboots: the ITS goes back to reset, the physical side must be clean. */
static void do_reset(struct fz *f, bool final)
{
	uint32_t cap = f->cfg.phys_cap;
	harness_set_phys_capacity(f->h, 0);
	if (f->h->host) {
		/* What the physical ITS has queued is consumed first (a real one would). */
		harness_phys_drain(f->h);
		f->teardown_open = false;
		f->teardown_bound += f->cfg.hc.host.nr_pcpus;
	}
#ifndef FUZZ_NO_TRACE
	if (f->itr)
		itr_writer_note(f->itr, f->itr_ts++, f->cfg.hc.vits.domain_id, "vits-reset");
#endif
	int rc = vits_reset(f->h->vits);
	if (rc)
		fz_fail(f, "vits_reset: %s with an unlimited physical queue", vits_strerror(rc));
	if (f->h->host) {
		for (unsigned i = 0; i < NR_PDEV; i++)
			if (f->pdev[i].mapped || pcount(f, (int)i))
				FAIL_RET(f, "teardown: pDeviceID %#x left mapped with %u events",
					       PDEV_BASE + i, pcount(f, (int)i));
		struct vits_host_stats hs;
		vits_host_get_stats(f->h->host, &hs);
		if (hs.plpis_in_use || f->h->itt_live)
			FAIL_RET(f, "teardown: %" PRIu64 " pLPIs and %" PRIu64
				       " host ITTs still allocated", hs.plpis_in_use, f->h->itt_live);
	}
	if (final)
		return;
	harness_set_phys_capacity(f->h, cap);
	harness_reset(f->h);            /* sinks restart with the model's counters */
	f->inj_checked = 0;
	f->dl_inj = f->dl_ref = 0;
	ref_reset(f->r);
	memset(&f->q, 0, sizeof(f->q));
	f->wptr = 0;
	f->baser0 = 0;
	f->prop_bits = 0;
	f->prop_gpa = 0;
	f->model_ok = true;
	memset(f->gdirty, 0xff, sizeof(f->gdirty));
	f->fresh_check = false;
}

static void op_resume(struct fz *f, const uint8_t *p)
{
	for (unsigned i = 0; i <= (p[0] & 3u); i++) {
		call_begin(f);
		int rc = vits_resume(f->h->vits);
		call_end(f, rc, true);
	}
}

static void run_op(struct fz *f, unsigned kind, const uint8_t *p)
{
	struct its_cmd c;
	switch (kind) {
	case FZ_OP_CMD:
		if (f->slots >= FZ_MAX_SLOTS)
			return;
		c = build_cmd(f, p);
		put_slot(f, &c);
		if (p[5] & 2)
			kick(f);
		break;
	case FZ_OP_RAWCMD:
		if (f->slots >= FZ_MAX_SLOTS)
			return;
		its_cmd_from_bytes(&c, p);
		put_slot(f, &c);
		break;
	case FZ_OP_BURST: {
		uint8_t tmpl[7] = { p[1], p[2], p[2], p[2], p[2], 0, 0 };
		for (unsigned i = 0; i <= p[0] && f->slots < FZ_MAX_SLOTS; i++) {
			tmpl[2] = (uint8_t)(p[2] + i);
			c = build_cmd(f, tmpl);
			put_slot(f, &c);
		}
		kick(f);
		break;
	}
	case FZ_OP_KICK:
		if (p[0] & 1)
			w_cwriter(f, f->wptr | ((p[0] & 2) ? 1 : 0), 4, 0);
		else
			w_cwriter(f, f->wptr | ((p[0] & 2) ? 1 : 0), 8, 0);
		break;
	case FZ_OP_CWRITER: op_cwriter(f, p); break;
	case FZ_OP_CBASER: op_cbaser(f, p); break;
	case FZ_OP_CTLR:
		if (p[0] & 0x80) {
			call_begin(f);
			fz_mmio_write(f, GITS_CTLR, 8, p[0]);   /* bad size: ignored */
			call_end(f, 0, false);
		} else {
			w_ctlr(f, p[0] & 0x7f, 4);
		}
		break;
	case FZ_OP_BASER: op_baser(f, p); break;
	case FZ_OP_L1: {
		uint64_t gpa = DEVT_GPA + (p[0] & 7) * 8, e = 0;
		guest_ram_read_u64(f->h->ram, gpa, &e);
		e ^= 1ull << 63;
		if (!(e & ~(1ull << 63)))
			e |= L2_GPA + 0x80000;
		fz_ram_write_u64(f, gpa, e);
		break;
	}
	case FZ_OP_PROP: op_prop(f, p); break;
	case FZ_OP_MSI: op_msi(f, p); break;
	case FZ_OP_RESUME: op_resume(f, p); break;
	case FZ_OP_DRAIN:
		harness_phys_drain(f->h);
		if (p[0] & 1)
			op_resume(f, p);
		break;
	case FZ_OP_PROPTABLE: op_proptable(f, p); break;
	case FZ_OP_MMIO: op_mmio(f, p); break;
	case FZ_OP_HOSTLPI: op_hostlpi(f, p); break;
	case FZ_OP_ASSIGN: op_assign(f, p); break;
	case FZ_OP_RESET: do_reset(f, false); break;
	}
}

static void fz_dump_ops(struct fz *f)
{
	size_t starts[FZ_MAX_OPS];
	size_t n = fuzz_split_ops(f->data, f->size, starts, FZ_MAX_OPS);
	fprintf(stderr, "  header:");
	for (unsigned i = 0; i < FZ_HDR_BYTES; i++)
		fprintf(stderr, " %02x", i < f->size ? f->data[i] : 0);
	const struct vits_config *vc = &f->cfg.hc.vits;
	fprintf(stderr, "  (vcpus %u devbits %u evbits %u cidbits %u intidbits %u budget %u "
		"errmode %u host %d phys_cap %u assigned %#x pcpus %u)\n", vc->nr_vcpus,
		vc->devid_bits, vc->eventid_bits, vc->cid_bits, vc->intid_bits, vc->budget,
		vc->error_mode, f->cfg.hc.with_host, f->cfg.phys_cap, f->cfg.assigned,
		f->cfg.hc.host.nr_pcpus);
	size_t from = f->opi > 40 ? f->opi - 40 : 0;
	for (size_t i = from; i < n && i <= f->opi; i++) {
		unsigned k = f->data[starts[i]] % FZ_OP_COUNT;
		fprintf(stderr, "  op #%zu %-9s", i, fuzz_op_name(k));
		for (unsigned j = 0; j < fuzz_op_len(k) && j < 12; j++)
			fprintf(stderr, " %02x", starts[i] + 1 + j < f->size ? f->data[starts[i] + 1 + j] : 0);
		fprintf(stderr, "%s\n", i == f->opi ? "   <== failed here" : "");
	}
}

/* ---- one run ---------------------------------------------------------------------------- */

static void init_guest(struct fz *f)
{
	struct fz_cfg *c = &f->cfg;
	if (c->init) {
		if (c->indirect)   /* the level-1 entries harness_guest_init writes */
			fz_ram_dirty(f, DEVT_GPA, HARNESS_MAX_L1_VALID * 8);
		if (harness_guest_init(f->h, QUEUE_GPA, c->queue_pages, DEVT_GPA, 1, c->page_size,
				       c->indirect, PROP_GPA, c->prop_bits)) {
			fprintf(stderr, "fuzz: harness_guest_init failed\n");
			abort();
		}
		f->q.enabled = true;
		f->q.cbaser = f->h->drv.cbaser & CBASER_RW;
		f->q.qsize = c->queue_pages * ITS_CMDQ_PAGE;
		f->q.next = f->q.cwriter = 0;
		f->baser0 = f->h->drv.baser0;
		ref_set_device_table(f->r, f->baser0);
		if (c->prop_bits) {
			ref_set_prop_table(f->r, PROP_GPA, c->prop_bits);
			f->prop_bits = c->prop_bits > c->hc.vits.intid_bits ? c->hc.vits.intid_bits
									    : c->prop_bits;
			f->prop_gpa = PROP_GPA;
		}
		ref_set_enabled(f->r, true);
	}
	/* Property bytes of the first LPIs, written before anything maps them. */
	for (unsigned i = 0; i < 16; i++) {
		uint8_t b = (uint8_t)(0xa0 | ((c->prop_init >> (i & 7)) & 1) | 2);
		fz_ram_write(f, PROP_GPA + i, &b, 1);
	}
	/* Devices assigned as the header says (assignments survive vits_reset). */
	if (f->h->host) {
		uint8_t now = f->slot->assigned;
		for (unsigned i = 0; i < 4; i++) {
			bool want = (c->assigned >> i) & 1, have = (now >> i) & 1;
			if (want && (uint64_t)i >= pow2(c->hc.vits.devid_bits))
				want = false;   /* beyond the DeviceID space: VITS_E_RANGE */
			if (have && !want) {
				while (vits_unassign_device(f->h->vits, i) == VITS_E_AGAIN)
					harness_phys_drain(f->h);
				now &= (uint8_t)~(1u << i);
			} else if (want && !have) {
				int rc = vits_assign_device(f->h->vits, i, PDEV_BASE + i);
				if (rc) {
					fprintf(stderr, "fuzz: vits_assign_device(%u): %s\n", i,
						vits_strerror(rc));
					abort();
				}
				now |= (uint8_t)(1u << i);
			}
		}
		f->slot->assigned = now;
		f->assigned = now;
	}
}

#ifndef FUZZ_NO_TRACE
void fuzz_itr_header(struct itr_header *hd, const struct vits_config *vc, int host,
		     const char *target)
{
	itr_header_init(hd);
	hd->source = ITR_SRC_SYNTHETIC;
	hd->flags |= ITR_HF_HAS_OUTCOMES | (host ? ITR_HF_HAS_PHYS : 0u);
	hd->policy = host ? (uint16_t)(ITR_POL_FORWARD + vc->policy) : ITR_POL_NONE;
	hd->error_mode = vc->error_mode;
	hd->nr_vcpus = vc->nr_vcpus;
	hd->devid_bits = vc->devid_bits;
	hd->eventid_bits = vc->eventid_bits;
	hd->cid_bits = vc->cid_bits;
	hd->intid_bits = vc->intid_bits;
	hd->budget = vc->budget;
	hd->iidr = 0x5600043Bu;
	snprintf(hd->source_desc, sizeof(hd->source_desc), "vits fuzz target %s", target);
}

void fuzz_config_note(char *buf, size_t len, const struct vits_config *vc,
		      const struct vits_host_config *host, uint32_t physq, const char *extra)
{
	int k = snprintf(buf, len, "vits-config k=%u squash=%u xlate=%u memcap=%u",
			 vc->invall_threshold, vc->sync_squash,
			 vc->xlate_cache ? vc->xlate_cache : 256u, vc->mem_cap);
	if (host && k > 0 && (size_t)k < len)
		k += snprintf(buf + k, len - (size_t)k, " pcpus=%u plpis=%u peventid=%u physq=%u",
			      host->nr_pcpus, host->nr_plpis, host->peventid_bits, physq);
	if (extra && k > 0 && (size_t)k < len)
		snprintf(buf + k, len - (size_t)k, " %s", extra);
}

/*
 * Start the .itr of this run: the header, the "vits-config" NOTE with what the 1.0
 * header does not carry (docs/trace-format.md: K, SYNC squashing, translation cache,
 * memory cap, host geometry, the physical queue bound), then an ASSIGN record for
 * each device the cached harness has assigned already (a run under an earlier policy
 * assigned it, so the engine will not trace it): its-trace replay then rebuilds the
 * same engine and host.
 */
static void itr_open(struct fz *f, const char *path)
{
	const struct vits_config *vc = &f->cfg.hc.vits;
	bool host = f->cfg.hc.with_host;
	struct itr_header hd;
	fuzz_itr_header(&hd, vc, host, fuzz_target_name(f->t));
	if (itr_writer_open(path, &hd, &f->itr)) {
		f->itr = NULL;
		return;
	}
	char note[256];
	fuzz_config_note(note, sizeof(note), vc, host ? &f->cfg.hc.host : NULL, f->cfg.phys_cap,
			 NULL);
	itr_writer_note(f->itr, f->itr_ts++, vc->domain_id, note);
	for (unsigned i = 0; host && i < 8; i++) {
		if (!((f->slot->assigned >> i) & 1))
			continue;
		struct vits_event ev = { .type = VITS_EV_ASSIGN, .domain = vc->domain_id };
		ev.u.assign.vdevid = i;
		ev.u.assign.pdevid = PDEV_BASE + i;
		ev.u.assign.assigned = 1;
		itr_writer_event(f->itr, f->itr_ts++, 0, 0, &ev);
	}
}
#endif

/* One run at a time (run_one never nests).  Static, not calloc'ed per input: under
 * ASan a freed block goes to quarantine, so each input's 17 KiB would be fresh pages
 * (page faults were 3% of a campaign). */
/* Reproducer traces carry the engine's state after every operation (a CHECKPOINT
 * that replay compares, so a failure seen only through the query API shows there too)
 * and a note where the executor resets the engine (nothing else says so when nothing
 * physical was mapped). */
static void itr_checkpoint(struct fz *f)
{
#ifndef FUZZ_NO_TRACE
	uint8_t fp[RP_FP_V1_LEN];
	if (f->itr && rp_fingerprint_v1(f->h->vits, fp, sizeof(fp)) > 0)
		itr_writer_checkpoint(f->itr, f->itr_ts++, f->cfg.hc.vits.domain_id, 0, f->opi,
				      ITR_FP_VITS_V1, fp, sizeof(fp));
#else
	(void)f;
#endif
}

static struct fz g_fz;

static int run_one(enum fz_target t, const uint8_t *data, size_t size, int policy,
		   const char *itr_path)
{
	struct fz *f = &g_fz;
	memset(f, 0, sizeof(*f));
	f->t = t;
	f->data = data;
	f->size = size;
	f->model_ok = true;
	f->unassigning = -1;
	decode_header(t, data, size, &f->cfg);
	if (policy >= 0 && f->cfg.hc.with_host)
		f->cfg.hc.vits.policy = (uint8_t)policy;
	f->slot = cache_get(&f->cfg.hc);
	f->h = f->slot->h;
	f->r = f->slot->r;
	f->h->trace_fn = fz_trace;
	f->h->trace_ctx = f;
	harness_set_phys_capacity(f->h, f->cfg.phys_cap);

#ifndef FUZZ_NO_TRACE
	if (itr_path)
		itr_open(f, itr_path);
#else
	(void)itr_path;
#endif

	/* gdirty starts clean (zeroed with the run state): the property bytes init_guest
	 * writes are read when an LPI is mapped, so none is a store awaiting its INV. */
	init_guest(f);
	f->regs_written = true;         /* the first check reads the registers back */
	f->mem_ops_seen = UINT64_MAX;

	size_t starts[FZ_MAX_OPS];
	size_t n = fuzz_split_ops(data, size, starts, FZ_MAX_OPS);
	unsigned max_cmds = t == FZ_T_CMDQ ? FZ_MAX_CMDS_CMDQ : FZ_MAX_CMDS;
	for (size_t i = 0; i < n && !f->failed && f->input_cmds < max_cmds; i++) {
		uint8_t payload[32] = { 0 };
		unsigned k = data[starts[i]] % FZ_OP_COUNT, len = fuzz_op_len(k);
		size_t avail = size - starts[i] - 1;
		memcpy(payload, data + starts[i] + 1, avail < len ? avail : len);
		f->opi = (unsigned)i;
		f->op_kind = k;
		if (g_verbose)
			fprintf(stderr, "op #%zu %s\n", i, fuzz_op_name(k));
		f->full_check = k == FZ_OP_PROPTABLE || k == FZ_OP_RESET || k == FZ_OP_ASSIGN;
		f->touched = f->full_check || k == FZ_OP_MSI || k == FZ_OP_HOSTLPI;
		f->regs_written = k == FZ_OP_RESET;
		run_op(f, k, payload);
		if (!f->failed)
			check_state(f, false);
		itr_checkpoint(f);
	}

	/* Settle: the physical ITS drains, the embedder resumes; every call must make
	 * progress until nothing waits. */
	f->op_kind = FZ_OP_RESUME;
	for (unsigned i = 0; i < 64 && !f->failed && vits_work_pending(f->h->vits); i++) {
		size_t before = f->h->phys.n;
		harness_phys_drain(f->h);
		call_begin(f);
		int rc = vits_resume(f->h->vits);
		call_end(f, rc, true);
		if (rc == 0 && f->h->phys.n == 0 && before == 0 && vits_work_pending(f->h->vits))
			fz_fail(f, "queue: work pending but vits_resume makes no progress (hang)");
	}
	if (!f->failed)
		check_state(f, true);
	itr_checkpoint(f);
	if (!f->failed)
		do_reset(f, true);
	else {
		harness_set_phys_capacity(f->h, 0);
		harness_phys_drain(f->h);
		vits_reset(f->h->vits);
	}

	/* Back to just after create for the next input: what harness_reset_all does,
	 * except that the engine was reset just above, and guest RAM pages are zeroed
	 * rather than freed (the next input writes the same ones). */
	f->slot->assigned = f->assigned;
	f->h->trace_fn = NULL;
	harness_set_phys_capacity(f->h, 0);
	if (f->failed) {
		harness_reset_all(f->h);
	} else {
		fz_ram_clear(f);
		if (f->h->host_prop)
			memset(f->h->host_prop, 0, f->h->cfg.host.nr_plpis);
		memset(&f->h->drv, 0, sizeof(f->h->drv));
		f->h->drv.alloc_top = f->h->cfg.ram[0].base + f->h->cfg.ram[0].size;
		harness_reset(f->h);
	}
	ref_reset(f->r);
#ifndef FUZZ_NO_TRACE
	if (f->itr)
		itr_writer_close(f->itr);
#endif
	return f->failed ? 1 : 0;
}

int fuzz_itr_path(char *buf, size_t len, const char *target, const uint8_t *data,
		  size_t size)
{
	const char *dir = getenv("FUZZ_ITR_DIR");
	if (!dir)
		return -1;
	snprintf(buf, len, "%s/fuzz-%s-%016" PRIx64 ".itr", dir, target, fnv1a(data, size));
	return 0;
}

static void save_itr_on_failure(enum fz_target t, const uint8_t *data, size_t size, int policy)
{
	char path[4096];
	if (fuzz_itr_path(path, sizeof(path), fuzz_target_name(t), data, size))
		return;
	int saved = g_abort;
	g_abort = 0;
	run_one(t, data, size, policy, path);
	g_abort = saved;
	fprintf(stderr, "fuzz: reproducer trace written to %s\n", path);
}

int fuzz_run_policy(enum fz_target t, const uint8_t *data, size_t size, int policy)
{
	int saved = g_abort;
	if (getenv("FUZZ_ITR_DIR"))
		g_abort = 0;
	int rc = run_one(t, data, size, policy, NULL);
	g_abort = saved;
	g_last_failed = rc;
	if (rc) {
		save_itr_on_failure(t, data, size, policy);
		if (g_abort)
			abort();
	}
	return rc;
}

int fuzz_run(enum fz_target t, const uint8_t *data, size_t size)
{
	if (t != FZ_T_POLICY)
		return fuzz_run_policy(t, data, size, -1);
	int rc = 0;
	for (int p = 0; p < VITS_POLICY_COUNT && !rc; p++)
		rc = fuzz_run_policy(t, data, size, p);
	return rc;
}

int fuzz_write_itr(enum fz_target t, const uint8_t *data, size_t size, const char *path)
{
#ifndef FUZZ_NO_TRACE
	int saved = g_abort;
	g_abort = 0;
	int rc = 0;
	if (t == FZ_T_POLICY) {
		/* One file: the policies run in turn; the first that fails is recorded. */
		int p;
		for (p = 0; p < VITS_POLICY_COUNT - 1; p++)
			if (run_one(t, data, size, p, NULL))
				break;
		rc = run_one(t, data, size, p, path);
	} else {
		rc = run_one(t, data, size, -1, path);
	}
	g_abort = saved;
	(void)rc;
	return 0;
#else
	(void)t; (void)data; (void)size; (void)path;
	return -1;
#endif
}
