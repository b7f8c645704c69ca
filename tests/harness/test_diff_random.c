/*
 * test_diff_random.c: randomised differential test, engine versus reference model.
 *
 * Thousands of seeded, reproducible sequences: random geometry, device table (flat or
 * two-level, 4K/16K/64K pages), property table (none, small, clamped, partly outside
 * RAM), then a biased stream of command batches (all twelve GICv3 commands plus
 * GICv4 and undefined opcodes, small ID spaces so mappings collide, edge values),
 * property-byte writes, MSIs, L1-entry scribbles, BASER0 rewrites and property-table
 * changes.  Commands go to the engine through the harness's guest driver (real queue,
 * real MMIO) and to the model one by one.  Each command's reason (the engine's
 * VITS_EV_CMD trace) must equal the model's; after each batch the oracle compares
 * the whole guest-visible state and the deliveries.
 *
 * Usage: test_harness_diff_random [seed [sequences [first_sequence [ops]]]]
 * About a third of the sequences run with a host, three assigned devices and a random
 * policy: policies change only the physical side (semantics.md), so the guest must
 * see exactly what the model says; the physical commands must name only assigned
 * devices.
 * On a mismatch it prints the seed, the sequence, the failing command's index and
 * the operations that led there; rerun with that seed and first_sequence to
 * reproduce just that sequence.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "oracle.h"
#include "refmodel.h"
#include "tcheck.h"

#define RAM0_BASE  HARNESS_DEFAULT_RAM_BASE
#define RAM0_SIZE  (1ull << 30)
#define RAM1_BASE  0x100000000ull          /* a second region, with a hole below it */
#define RAM1_SIZE  (64ull << 20)
#define QUEUE_GPA  RAM0_BASE
#define DEVT_GPA   (RAM0_BASE + 0x100000)  /* 64 KiB aligned, room for 2 x 64K pages */
#define PROP_GPA   (RAM0_BASE + 0x400000)  /* room for a 2^24-INTID table (16 MiB) */
#define ITT_GPA    (RAM0_BASE + 0x2000000)

#define MAX_BATCH  6
#define LOG_OPS    4096                    /* operations remembered per sequence */

/* ---- PRNG: splitmix64 seeds an xorshift64* stream; no global state. ---------------- */

struct rng {
	uint64_t s;
};

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static bool chance(struct rng *r, unsigned percent)
{
	return below(r, 100) < percent;
}

/* ---- one sequence's world ------------------------------------------------------------- */

enum op_kind { OP_CMD, OP_PROP, OP_MSI, OP_TOGGLE, OP_L1, OP_BASER, OP_PROPTABLE };

struct op_rec {
	uint8_t kind;
	struct its_cmd cmd;       /* OP_CMD */
	uint64_t a, b, c;         /* operands of the others */
};

struct world {
	struct rng rng;
	struct harness *h;
	struct ref *r;
	struct harness_config hc;
	uint64_t baser0;
	uint64_t prop_gpa;
	unsigned prop_bits_req;   /* id_bits as set (0: none) */
	bool indirect;
	uint32_t pdev[4];         /* physical DeviceIDs assigned (with a host) */
	unsigned npdev;
	unsigned page_size, devt_pages;
	/* Log of this sequence, printed on failure. */
	struct op_rec log[LOG_OPS];
	size_t nlog;
	uint64_t ncmds;
	/* Coverage, across sequences. */
	uint64_t *reason_hits;
	uint64_t *deliveries;
};

static void log_op(struct world *w, uint8_t kind, const struct its_cmd *c, uint64_t a, uint64_t b,
		   uint64_t cc)
{
	if (w->nlog >= LOG_OPS)
		return;
	struct op_rec *o = &w->log[w->nlog++];
	o->kind = kind;
	if (c)
		o->cmd = *c;
	o->a = a;
	o->b = b;
	o->c = cc;
}

static void print_cmd(const struct its_cmd *c)
{
	unsigned op = (unsigned)its_cmd_get_opcode(c);
	const char *name = its_cmd_name(op);
	printf("%-8s dev %#" PRIx64 " ev %#" PRIx64 " intid %#" PRIx64 " icid %#" PRIx64
	       " rd %#" PRIx64 " rd2 %#" PRIx64 " size %" PRIu64 " itt %#" PRIx64 " V %" PRIu64
	       "  [%016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64 "]",
	       name ? name : "?", its_cmd_get_devid(c), its_cmd_get_eventid(c),
	       its_cmd_get_pintid(c), its_cmd_get_icid(c), its_cmd_get_rdbase(c),
	       its_cmd_get_rdbase2(c), its_cmd_get_size(c), its_cmd_get_itt_addr(c) << 8,
	       its_cmd_get_valid(c), c->dw[0], c->dw[1], c->dw[2], c->dw[3]);
}

static void dump_world(const struct world *w)
{
	const struct vits_config *vc = &w->hc.vits;
	printf("  geometry: nr_vcpus %u devid_bits %u eventid_bits %u cid_bits %u intid_bits %u\n",
	       vc->nr_vcpus, vc->devid_bits, vc->eventid_bits, vc->cid_bits, vc->intid_bits);
	if (w->hc.with_host)
		printf("  host: %u assigned devices, policy %s, sync_squash %u\n", w->npdev,
		       vits_policy_name((enum vits_policy)vc->policy), vc->sync_squash);
	printf("  RAM regions: %u; device table %s %u x %u bytes; prop table gpa %#" PRIx64
	       " id_bits %u\n", w->hc.nr_ram, w->indirect ? "two-level" : "flat", w->devt_pages,
	       w->page_size, w->prop_gpa, w->prop_bits_req);
	size_t from = w->nlog > 60 ? w->nlog - 60 : 0;
	printf("  last %zu of %zu operations (command indexes count from 0):\n", w->nlog - from, w->nlog);
	uint64_t ci = 0;
	for (size_t i = 0; i < w->nlog; i++) {
		const struct op_rec *o = &w->log[i];
		if (i >= from) {
			printf("   ");
			switch (o->kind) {
			case OP_CMD: printf("cmd #%" PRIu64 ": ", ci); print_cmd(&o->cmd); break;
			case OP_PROP: printf("prop byte intid %" PRIu64 " := %#" PRIx64, o->a, o->b); break;
			case OP_MSI: printf("MSI dev %#" PRIx64 " ev %#" PRIx64 " -> %s", o->a, o->b,
					    ref_reason_name((enum vits_reason)o->c)); break;
			case OP_TOGGLE: printf("disable, MSI dev %#" PRIx64 " ev %#" PRIx64 ", enable", o->a, o->b); break;
			case OP_L1: printf("L1 entry %" PRIu64 " := %#" PRIx64, o->a, o->b); break;
			case OP_BASER: printf("disable, BASER0 := %#" PRIx64 ", enable", o->a); break;
			case OP_PROPTABLE: printf("prop table gpa %#" PRIx64 " id_bits %" PRIu64 " -> %" PRId64,
						  o->a, o->b, (int64_t)o->c); break;
			}
			printf("\n");
		}
		if (o->kind == OP_CMD)
			ci++;
	}
}

/* ---- biased value pickers ------------------------------------------------------------- */

static uint64_t pow2(unsigned bits)
{
	return bits >= 64 ? 0 : (uint64_t)1 << bits;
}

static uint32_t pick_devid(struct world *w)
{
	unsigned db = w->hc.vits.devid_bits;
	if (chance(&w->rng, 80))
		return (uint32_t)(below(&w->rng, 4) % pow2(db));
	if (chance(&w->rng, 60)) {
		static const uint64_t edges[] = { 511, 512, 2047, 2048, 8191, 8192, 0xffffffff };
		uint64_t pick = below(&w->rng, 9);
		if (pick == 7)
			return (uint32_t)(pow2(db) - 1);
		if (pick == 8)
			return (uint32_t)pow2(db);   /* 2^32 wraps to 0: fine */
		return (uint32_t)edges[pick];
	}
	return (uint32_t)rnd(&w->rng);
}

static uint32_t pick_eventid(struct world *w, uint32_t devid)
{
	struct ref_device d;
	unsigned eb = ref_query_device(w->r, devid, &d) == 0 ? d.event_bits : w->hc.vits.eventid_bits;
	if (chance(&w->rng, 80))
		return (uint32_t)below(&w->rng, 4);
	switch (below(&w->rng, 5)) {
	case 0: return (uint32_t)(pow2(eb) - 1);
	case 1: return (uint32_t)pow2(eb);
	case 2: return 8192 + (uint32_t)below(&w->rng, 4);   /* for MAPI */
	case 3: return 0xffffffff;
	default: return (uint32_t)rnd(&w->rng);
	}
}

static unsigned prop_bits_now(const struct world *w)
{
	return ref_prop_bits(w->r);
}

static uint32_t pick_intid(struct world *w)
{
	if (chance(&w->rng, 85))
		return 8192 + (uint32_t)below(&w->rng, 8);
	switch (below(&w->rng, 7)) {
	case 0: return 8191;
	case 1: return 0;
	case 2: return (uint32_t)(pow2(prop_bits_now(w)) - 1);
	case 3: return (uint32_t)pow2(prop_bits_now(w));
	case 4: return (uint32_t)pow2(w->hc.vits.intid_bits);
	case 5: return 0xffffffff;
	default: return 8192 + (uint32_t)below(&w->rng, 0x1000);
	}
}

static uint32_t pick_icid(struct world *w)
{
	unsigned cb = w->hc.vits.cid_bits;
	if (chance(&w->rng, 85))
		return (uint32_t)(below(&w->rng, 4) % pow2(cb));
	switch (below(&w->rng, 3)) {
	case 0: return (uint32_t)(pow2(cb) - 1);
	case 1: return (uint32_t)(pow2(cb) & 0xffff);
	default: return 0xffff;
	}
}

static uint64_t pick_rd(struct world *w)
{
	uint32_t n = w->hc.vits.nr_vcpus;
	if (chance(&w->rng, 88))
		return below(&w->rng, n);
	switch (below(&w->rng, 3)) {
	case 0: return n;
	case 1: return 1ull << 35;
	default: return rnd(&w->rng) & ((1ull << 36) - 1);
	}
}

static uint64_t pick_itt(struct world *w, unsigned size_m1)
{
	uint64_t bytes = pow2(size_m1 + 1) * 8;
	switch (below(&w->rng, 10)) {
	case 0: return 0x1000;                                   /* below RAM */
	case 1: return (RAM0_BASE + RAM0_SIZE - 256) & ~0xffull; /* straddles the end */
	case 2: return RAM1_BASE + below(&w->rng, 4) * 0x100;    /* second region, if any */
	case 3: return bytes < RAM0_SIZE ? RAM0_BASE + RAM0_SIZE - bytes : 0x1000; /* exactly at the end */
	default: return ITT_GPA + below(&w->rng, 8) * 0x10000;
	}
}

static struct its_cmd gen_cmd(struct world *w)
{
	static const struct { unsigned op, weight; } mix[] = {
		{ ITS_OP_MAPD, 12 }, { ITS_OP_MAPC, 8 }, { ITS_OP_MAPTI, 14 }, { ITS_OP_MAPI, 4 },
		{ ITS_OP_MOVI, 8 }, { ITS_OP_DISCARD, 6 }, { ITS_OP_INT, 14 }, { ITS_OP_CLEAR, 5 },
		{ ITS_OP_INV, 9 }, { ITS_OP_INVALL, 6 }, { ITS_OP_SYNC, 3 }, { ITS_OP_MOVALL, 4 },
		{ 0x29 /* VMAPP */, 1 }, { 0x00, 1 },
	};
	unsigned total = 0;
	for (unsigned i = 0; i < sizeof(mix) / sizeof(mix[0]); i++)
		total += mix[i].weight;
	unsigned pick = (unsigned)below(&w->rng, total), op = 0;
	for (unsigned i = 0; i < sizeof(mix) / sizeof(mix[0]); i++) {
		if (pick < mix[i].weight) {
			op = mix[i].op;
			break;
		}
		pick -= mix[i].weight;
	}
	struct its_cmd c;
	uint32_t dev = pick_devid(w);
	switch (op) {
	case ITS_OP_MAPD: {
		unsigned eb = w->hc.vits.eventid_bits;
		unsigned size_m1 = chance(&w->rng, 85) ? (unsigned)below(&w->rng, eb < 4 ? eb : 4)
			: (unsigned[]){ eb - 1, eb, 31 }[below(&w->rng, 3)] & 31;
		c = its_mk_mapd(dev, size_m1, pick_itt(w, size_m1), chance(&w->rng, 85));
		break;
	}
	case ITS_OP_MAPC: c = its_mk_mapc(pick_icid(w), pick_rd(w), chance(&w->rng, 85)); break;
	case ITS_OP_MAPTI: c = its_mk_mapti(dev, pick_eventid(w, dev), pick_intid(w), pick_icid(w)); break;
	case ITS_OP_MAPI: c = its_mk_mapi(dev, pick_eventid(w, dev), pick_icid(w)); break;
	case ITS_OP_MOVI: c = its_mk_movi(dev, pick_eventid(w, dev), pick_icid(w)); break;
	case ITS_OP_DISCARD:
	case ITS_OP_INT:
	case ITS_OP_CLEAR:
	case ITS_OP_INV: c = its_mk_devev(op, dev, pick_eventid(w, dev)); break;
	case ITS_OP_INVALL: c = its_mk_invall(pick_icid(w)); break;
	case ITS_OP_SYNC: c = its_mk_sync(pick_rd(w)); break;
	case ITS_OP_MOVALL: c = its_mk_movall(pick_rd(w), pick_rd(w)); break;
	default:
		c = its_mk(op);
		if (op == 0)
			its_cmd_set_opcode(&c, (unsigned[]){ 0x00, 0x02, 0x10, 0x2f, 0xff }[below(&w->rng, 5)]);
		c.dw[1] = rnd(&w->rng);
		c.dw[2] = rnd(&w->rng);
		break;
	}
	/* Junk in bits no field of these commands uses: must be ignored. */
	if (chance(&w->rng, 5)) {
		c.dw[0] |= (rnd(&w->rng) & 0xffffff00ull) & ~0xffull;
		if (its_cmd_get_opcode(&c) != ITS_OP_MOVALL)
			c.dw[3] = rnd(&w->rng);
	}
	return c;
}

/* ---- setting a sequence up ---------------------------------------------------------- */

static int w_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return harness_read_guest(ctx, gpa, buf, len);
}

static uint64_t make_baser(struct world *w)
{
	static const unsigned psz[] = { 4096, 16384, 65536 };
	w->page_size = psz[below(&w->rng, 3)];
	w->devt_pages = 1 + (unsigned)below(&w->rng, 2);
	w->indirect = chance(&w->rng, 40);
	return harness_baser0_value(DEVT_GPA, w->devt_pages, w->page_size, w->indirect);
}

static int world_setup(struct world *w, uint64_t seq_seed)
{
	static const uint8_t devbits[] = { 1, 2, 3, 4, 8, 10, 12, 16, 20, 32 };
	static const uint8_t evbits[] = { 1, 2, 3, 4, 5, 8, 14, 16, 32 };
	static const uint8_t cidbits[] = { 1, 2, 3, 4, 16 };
	/* 24 is rare: the engine keeps per-INTID arrays (about 100 MiB at 24 bits). */
	static const uint8_t intbits[] = { 14, 14, 15, 16, 16, 16, 20, 14, 15, 16, 16, 16, 20, 24 };

	w->rng.s = splitmix64(seq_seed) | 1;
	w->nlog = 0;
	w->ncmds = 0;
	harness_config_default(&w->hc);
	struct vits_config *vc = &w->hc.vits;
	vc->nr_vcpus = 1 + (uint32_t)below(&w->rng, 4);
	vc->devid_bits = devbits[below(&w->rng, sizeof(devbits))];
	vc->eventid_bits = evbits[below(&w->rng, sizeof(evbits))];
	vc->cid_bits = cidbits[below(&w->rng, sizeof(cidbits))];
	vc->intid_bits = intbits[below(&w->rng, sizeof(intbits))];
	vc->budget = 0;
	vc->error_mode = VITS_ERRMODE_SKIP;
	vc->mem_cap = 256u << 20;  /* generous: the model has no NO_MEMORY */
	w->hc.nr_ram = 1;
	w->hc.ram[0].base = RAM0_BASE;
	w->hc.ram[0].size = RAM0_SIZE;
	if (chance(&w->rng, 30)) {
		w->hc.nr_ram = 2;
		w->hc.ram[1].base = RAM1_BASE;
		w->hc.ram[1].size = RAM1_SIZE;
	}
	/* Some sequences run with a host, a few assigned devices and any policy: none
	 * may change what the guest sees. */
	w->npdev = 0;
	if (chance(&w->rng, 35)) {
		w->hc.with_host = true;
		w->hc.host.nr_plpis = 1u << 16;
		vc->policy = (uint8_t)below(&w->rng, VITS_POLICY_COUNT);
		vc->invall_threshold = (uint32_t)below(&w->rng, 4);
		vc->sync_squash = chance(&w->rng, 50);
	}
	int hrc = harness_create(&w->hc, &w->h);
	if (hrc) {
		printf("  harness_create: %s\n", vits_strerror(hrc));
		return -1;
	}
	if (w->hc.with_host) {
		for (uint32_t d = 0; d < 3 && d < pow2(vc->devid_bits); d++) {
			if (vits_assign_device(w->h->vits, d, 0x100 + d)) {
				printf("  vits_assign_device(%u) failed\n", d);
				return -1;
			}
			w->pdev[w->npdev++] = 0x100 + d;
		}
	}
	struct ref_config rc = {
		.nr_vcpus = vc->nr_vcpus, .devid_bits = vc->devid_bits,
		.eventid_bits = vc->eventid_bits, .cid_bits = vc->cid_bits,
		.intid_bits = vc->intid_bits, .read_guest = w_read, .ram_check = harness_ram_check,
		.ctx = w->h,
	};
	w->r = ref_create(&rc);
	if (!w->r)
		return -1;

	w->baser0 = make_baser(w);
	switch (below(&w->rng, 6)) {
	case 0: w->prop_bits_req = 0; break;
	case 1: w->prop_bits_req = 14; break;
	case 2: w->prop_bits_req = 32; break;   /* clamped to intid_bits */
	default: w->prop_bits_req = 16; break;
	}
	/* Sometimes the table's tail lies beyond RAM, so high INTIDs' reads fault. */
	w->prop_gpa = chance(&w->rng, 15) ? RAM0_BASE + RAM0_SIZE - 0x4 : PROP_GPA;
	if (harness_guest_init(w->h, QUEUE_GPA, 1 + (unsigned)below(&w->rng, 2), DEVT_GPA,
			       w->devt_pages, w->page_size, w->indirect, w->prop_gpa, w->prop_bits_req)) {
		printf("  harness_guest_init failed\n");
		return -1;
	}
	ref_set_device_table(w->r, w->baser0);
	if (w->prop_bits_req && ref_set_prop_table(w->r, w->prop_gpa, w->prop_bits_req))
		return -1;
	ref_set_enabled(w->r, true);
	/* Seed a few property bytes, mostly enabled. */
	for (uint32_t i = 0; i < 8; i++)
		harness_set_prop(w->h, 8192 + i, (uint8_t)(0xa2 | chance(&w->rng, 70)));
	return 0;
}

static int run_batch(struct world *w, const struct its_cmd *cmds, size_t n);

/* What a Linux guest does at boot and probe (ITS-FACTS.md): MAPC + SYNC + INVALL per
 * CPU, MAPD for a couple of devices, MAPTI + INV per vector.  Gives the random phase
 * mapped state to collide with. */
static int world_prologue(struct world *w)
{
	struct its_cmd c[32];
	size_t n = 0;
	uint32_t ncoll = w->hc.vits.cid_bits >= 2 ? 4 : 2;
	for (uint32_t i = 0; i < ncoll; i++) {
		c[n++] = its_mk_mapc(i, i % w->hc.vits.nr_vcpus, 1);
		c[n++] = its_mk_sync(i % w->hc.vits.nr_vcpus);
		c[n++] = its_mk_invall(i);
	}
	unsigned size_m1 = w->hc.vits.eventid_bits >= 2 ? 1 : 0;
	for (uint32_t d = 0; d < 2; d++) {
		c[n++] = its_mk_mapd(d, size_m1, ITT_GPA + d * 0x10000, 1);
		for (uint32_t e = 0; e < 2; e++) {
			c[n++] = its_mk_mapti(d, e, 8192 + d * 2 + e, (d + e) % ncoll);
			c[n++] = its_mk_devev(ITS_OP_INV, d, e);
		}
	}
	return run_batch(w, c, n);
}

static void world_teardown(struct world *w)
{
	ref_destroy(w->r);
	harness_destroy(w->h);
	w->r = NULL;
	w->h = NULL;
}

/* ---- the steps -------------------------------------------------------------------------- */

/* Isolation (DESIGN.md oracles): every physical command that names a device names
 * one assigned to this domain.  The sink is then drained, as the physical ITS would. */
static int check_phys(struct world *w)
{
	size_t n;
	const struct its_cmd *p = harness_phys_cmds(w->h, &n);
	for (size_t i = 0; i < n; i++) {
		unsigned op = (unsigned)its_cmd_get_opcode(&p[i]);
		if (op == ITS_OP_SYNC || op == ITS_OP_MAPC || op == ITS_OP_INVALL || op == ITS_OP_MOVALL)
			continue;
		uint32_t dev = (uint32_t)its_cmd_get_devid(&p[i]);
		bool ok = false;
		for (unsigned k = 0; k < w->npdev; k++)
			ok |= w->pdev[k] == dev;
		if (!ok) {
			printf("FAIL physical command names unassigned device %#x (before command #%" PRIu64 "): ",
			       dev, w->ncmds);
			print_cmd(&p[i]);
			printf("\n");
			return 1;
		}
	}
	harness_phys_drain(w->h);
	return 0;
}

/* Run n commands through the engine (one kick) and the model; compare each
 * command's reason.  0 ok, 1 mismatch (message printed). */
static int run_batch(struct world *w, const struct its_cmd *cmds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		log_op(w, OP_CMD, &cmds[i], 0, 0, 0);
	size_t before;
	harness_cmds(w->h, &before);
	if (harness_submit(w->h, cmds, n)) {
		printf("FAIL harness_submit refused a batch (queue stuck)\n");
		return 1;
	}
	size_t after;
	const struct harness_cmd_rec *log = harness_cmds(w->h, &after);
	if (after - before != n) {
		printf("FAIL engine ran %zu commands of a batch of %zu\n", after - before, n);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		enum vits_reason want = ref_cmd(w->r, &cmds[i]);
		enum vits_reason got = (enum vits_reason)log[before + i].reason;
		w->reason_hits[want]++;
		if (want != got) {
			printf("FAIL command #%" PRIu64 " outcome: model %s, engine %s: ", w->ncmds,
			       ref_reason_name(want), vits_reason_name(got));
			print_cmd(&cmds[i]);
			printf("\n");
			return 1;
		}
		w->ncmds++;
	}
	return check_phys(w);
}

static int step_batch(struct world *w)
{
	struct its_cmd cmds[MAX_BATCH];
	size_t n = 1 + (size_t)below(&w->rng, MAX_BATCH);
	for (size_t i = 0; i < n; i++)
		cmds[i] = gen_cmd(w);
	return run_batch(w, cmds, n);
}

static int step_msi(struct world *w)
{
	uint32_t dev = pick_devid(w), ev = pick_eventid(w, dev);
	enum vits_reason want = ref_msi(w->r, dev, ev);
	int got = vits_msi(w->h->vits, dev, ev);
	log_op(w, OP_MSI, NULL, dev, ev, want);
	if (got < 0 || (enum vits_reason)got != want) {
		printf("FAIL MSI dev %#x ev %#x (before command #%" PRIu64 "): model %s, engine %d (%s)\n",
		       dev, ev, w->ncmds, ref_reason_name(want), got,
		       got >= 0 ? vits_reason_name((enum vits_reason)got) : vits_strerror(got));
		return 1;
	}
	return 0;
}

static int step_toggle(struct world *w)
{
	uint32_t dev = pick_devid(w), ev = pick_eventid(w, dev);
	log_op(w, OP_TOGGLE, NULL, dev, ev, 0);
	harness_enable(w->h, false);
	ref_set_enabled(w->r, false);
	enum vits_reason want = ref_msi(w->r, dev, ev);
	int got = vits_msi(w->h->vits, dev, ev);
	harness_enable(w->h, true);
	ref_set_enabled(w->r, true);
	if (got != (int)want) {
		printf("FAIL MSI while disabled: model %s, engine %d\n", ref_reason_name(want), got);
		return 1;
	}
	return 0;
}

static void step_prop(struct world *w)
{
	uint32_t intid = pick_intid(w);
	uint8_t byte = (uint8_t)(rnd(&w->rng) & 0xff);
	if (chance(&w->rng, 60))
		byte = (uint8_t)(0xa2 | chance(&w->rng, 60));
	if (harness_set_prop_trapped(w->h, intid, byte) == 0)
		log_op(w, OP_PROP, NULL, intid, byte, 0);
}

static void step_l1(struct world *w)
{
	if (!w->indirect)
		return;
	uint64_t entries = (uint64_t)w->devt_pages * w->page_size / 8;
	uint64_t idx = below(&w->rng, entries < 8 ? entries : 8);
	uint64_t val = 0;
	guest_ram_read_u64(w->h->ram, DEVT_GPA + idx * 8, &val);
	val ^= 1ull << 63;
	if (!(val & ~(1ull << 63)))
		val |= ITT_GPA + 0x1000000;   /* an L2 page address for a fresh entry */
	guest_ram_write_u64(w->h->ram, DEVT_GPA + idx * 8, val);
	log_op(w, OP_L1, NULL, idx, val, 0);
}

/* Disable, rewrite BASER0 (sometimes invalid), re-enable: the engine keeps its
 * mappings, only later MAPDs see the new table. */
static void step_baser(struct world *w)
{
	uint64_t b = make_baser(w);
	if (chance(&w->rng, 25))
		b &= ~(1ull << 63);
	/* Noise in PA[15:12]: RES0 below 16K/64K pages, PA[51:48] with 64K pages. */
	if (chance(&w->rng, 20))
		b |= (rnd(&w->rng) & 0xf) << 12;
	/* The reserved Page_Size encoding 3 (engine and model both take 64 KiB). */
	if (w->page_size == 65536 && chance(&w->rng, 30))
		b = GITS_FIELD_SET(b, BASER, PAGE_SIZE, 3);
	if (w->indirect) {
		/* New L1 entries are whatever guest memory holds; make some valid. */
		for (unsigned i = 0; i < 4; i++)
			guest_ram_write_u64(w->h->ram, DEVT_GPA + i * 8,
					    chance(&w->rng, 75) ? (ITT_GPA + 0x1000000) | (1ull << 63) : 0);
	}
	harness_enable(w->h, false);
	harness_mmio_write(w->h, GITS_BASER0, 8, b);
	harness_enable(w->h, true);
	ref_set_device_table(w->r, b);
	w->baser0 = b;
	log_op(w, OP_BASER, NULL, b, 0, 0);
}

static int step_proptable(struct world *w)
{
	static const unsigned bits[] = { 0, 13, 14, 15, 16, 24, 32, 33 };
	unsigned ib = bits[below(&w->rng, sizeof(bits) / sizeof(bits[0]))];
	uint64_t gpa = ib == 0 ? 0 : (chance(&w->rng, 80) ? PROP_GPA : RAM0_BASE + RAM0_SIZE - 0x10);
	int got = harness_set_prop_table(w->h, gpa, ib);
	int want = ref_set_prop_table(w->r, gpa, ib);
	log_op(w, OP_PROPTABLE, NULL, gpa, ib, (uint64_t)(int64_t)got);
	if ((got < 0) != (want < 0)) {
		printf("FAIL vits_set_prop_table(%#" PRIx64 ", %u): engine %d, model %d\n", gpa, ib, got, want);
		return 1;
	}
	if (got >= 0) {
		w->prop_gpa = gpa;
		w->prop_bits_req = ib;
	}
	return 0;
}

static int run_sequence(struct world *w, uint64_t seq_seed, unsigned ops)
{
	if (world_setup(w, seq_seed)) {
		printf("BROKEN sequence setup failed\n");
		return 2;
	}
	/* Cheap checks after every step (the generator's IDs are small), the full
	 * ranges once at the end of the sequence. */
	struct oracle_limits quick = { .max_event_scan = 64, .max_lpi_scan = 64, .max_coll_scan = 64 };
	struct oracle_limits full = { .max_event_scan = 4096, .max_lpi_scan = 1u << 16,
				      .max_coll_scan = 1u << 16 };
	char msg[1024];
	int rc = world_prologue(w);
	for (unsigned i = 0; i < ops && rc == 0; i++) {
		unsigned k = (unsigned)below(&w->rng, 100);
		if (k < 55)
			rc = step_batch(w);
		else if (k < 72)
			step_prop(w);
		else if (k < 88)
			rc = step_msi(w);
		else if (k < 91)
			rc = step_toggle(w);
		else if (k < 94)
			step_l1(w);
		else if (k < 97)
			step_baser(w);
		else
			rc = step_proptable(w);
		if (rc == 0) {
			int orc = oracle_check_harness(w->h, w->r, &quick, msg, sizeof(msg));
			if (orc) {
				printf("FAIL state after command #%" PRIu64 " (the last one run is #%" PRIu64
				       "): %s\n", w->ncmds, w->ncmds ? w->ncmds - 1 : 0, msg);
				rc = 1;
			}
		}
	}
	if (rc == 0) {
		int orc = oracle_check_harness(w->h, w->r, &full, msg, sizeof(msg));
		if (orc) {
			printf("FAIL final state after %" PRIu64 " commands: %s\n", w->ncmds, msg);
			rc = 1;
		}
	}
	size_t nd;
	ref_deliveries(w->r, &nd);
	*w->deliveries += nd;
	if (rc)
		dump_world(w);
	world_teardown(w);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc > 1 && argv[1][0] == '-') {
		printf("usage: test_harness_diff_random [seed [sequences [first_sequence [ops]]]]\n");
		return T_EXIT_BROKEN;
	}
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x5eedull;
	unsigned sequences = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 2000;
	unsigned first = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 0) : 0;
	unsigned ops = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 0) : 80;
	uint64_t reason_hits[VITS_R_COUNT] = { 0 };
	uint64_t deliveries = 0, commands = 0;
	unsigned failed = 0, broken = 0;
	struct world *w = calloc(1, sizeof(*w));
	if (!w)
		t_broken("out of memory");
	w->reason_hits = reason_hits;
	w->deliveries = &deliveries;

	printf("diff_random: seed %#" PRIx64 ", sequences %u..%u, %u operations each\n", seed, first,
	       first + sequences - 1, ops);
	for (unsigned s = first; s < first + sequences; s++) {
		int rc = run_sequence(w, seed ^ splitmix64(s), ops);
		commands += w->ncmds;
		if (rc) {
			printf("  reproduce: test_harness_diff_random %#" PRIx64 " 1 %u %u\n", seed, s, ops);
			if (rc == 2)
				broken++;
			else
				failed++;
			if (failed + broken >= 5)
				break;
		}
	}
	printf("diff_random: %" PRIu64 " commands, %" PRIu64 " model deliveries; outcomes:", commands, deliveries);
	for (unsigned r = 0; r < VITS_R_COUNT; r++)
		if (reason_hits[r])
			printf(" %s=%" PRIu64, ref_reason_name((enum vits_reason)r), reason_hits[r]);
	printf("\n");
	free(w);
	if (broken)
		printf("BROKEN %u sequences could not be set up\n", broken);
	if (failed)
		printf("FAIL %u sequences diverged\n", failed);
	else if (!broken)
		printf("PASS diff_random: engine and model agree on %u sequences\n", sequences);
	return failed ? T_EXIT_FAIL : broken ? T_EXIT_BROKEN : T_EXIT_PASS;
}
