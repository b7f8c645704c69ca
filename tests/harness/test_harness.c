/*
 * test_harness.c: the harness as an embedder of the engine: guest driver (flat and
 * two-level device tables, queue wrap), vCPU sink, command log, trace chaining,
 * counting allocator, physical sink with capacity, and the oracle on a small
 * scenario.
 */
#include <string.h>

#include "harness.h"
#include "oracle.h"
#include "tcheck.h"

#define RAM   HARNESS_DEFAULT_RAM_BASE
#define QUEUE (RAM + 0x10000)
#define DEVT  (RAM + 0x100000)
#define PROP  (RAM + 0x200000)
#define ITT   (RAM + 0x400000)

static struct harness *mk(const struct harness_config *cfg)
{
	struct harness *h = NULL;
	if (harness_create(cfg, &h))
		t_broken("harness_create");
	return h;
}

static void count_trace(void *ctx, const struct vits_event *ev)
{
	unsigned *n = ctx;
	if (ev->type == VITS_EV_CMD)
		(*n)++;
}

static void t_basic(struct tstate *t)
{
	struct harness_config cfg;
	harness_config_default(&cfg);
	struct harness *h = mk(&cfg);
	unsigned user_cmds = 0;
	h->trace_fn = count_trace;
	h->trace_ctx = &user_cmds;

	T_EQ(t, "guest_init flat", 0, harness_guest_init(h, QUEUE, 1, DEVT, 1, 4096, false, PROP, 16));
	T_EQ(t, "GITS_CTLR.Enabled after init", 1, harness_mmio_read(h, GITS_CTLR, 4) & 1);
	harness_set_prop(h, 8192, 0xa3);
	harness_set_prop(h, 8193, 0xa2);
	struct its_cmd cmds[] = {
		its_mk_mapd(1, 3, ITT, 1),
		its_mk_mapc(0, 2, 1),
		its_mk_mapti(1, 0, 8192, 0),
		its_mk_mapti(1, 1, 8193, 0),
		its_mk_devev(ITS_OP_INT, 1, 0),
		its_mk_devev(ITS_OP_INT, 1, 1),
		its_mk_devev(ITS_OP_INT, 9, 0),   /* unmapped device */
	};
	T_EQ(t, "submit 7 commands", 0, harness_submit(h, cmds, 7));
	size_t n;
	const struct harness_inject *inj = harness_injects(h, &n);
	T_EQ(t, "one injection", 1, n);
	T_EQ(t, "injected on vcpu 2", 2, n ? inj[0].vcpu : 99);
	T_EQ(t, "injected intid 8192", 8192, n ? inj[0].intid : 0);
	T_EQ(t, "injection tagged with the INT's index", 4, n ? inj[0].seq : 99);
	T_EQ(t, "per-vCPU count", 1, h->inject_per_vcpu[2]);
	const struct harness_cmd_rec *log = harness_cmds(h, &n);
	T_EQ(t, "command log has 7 entries", 7, n);
	T_EQ(t, "last command failed DEVICE_UNMAPPED", VITS_R_DEVICE_UNMAPPED, n == 7 ? log[6].reason : 0);
	T_EQ(t, "last command skipped", VITS_CMD_SKIPPED, n == 7 ? log[6].outcome : 0);
	T_EQ(t, "user trace saw 7 commands", 7, user_cmds);
	T_EQ(t, "CREADR == CWRITER after the kick", harness_mmio_read(h, GITS_CWRITER, 8),
	     harness_mmio_read(h, GITS_CREADR, 8));
	T_TRUE(t, "engine allocated through the counting allocator", h->engine_mem.cur > 0);
	T_TRUE(t, "peak >= current", h->engine_mem.peak >= h->engine_mem.cur);

	/* Queue wrap: 300 SYNCs through a 128-slot queue. */
	struct its_cmd syncs[300];
	for (unsigned i = 0; i < 300; i++)
		syncs[i] = its_mk_sync(i % 4);
	T_EQ(t, "300 SYNCs through a one-page queue", 0, harness_submit(h, syncs, 300));
	harness_cmds(h, &n);
	T_EQ(t, "every SYNC ran once", 307, n);
	log = harness_cmds(h, &n);
	int wrapped_ok = 1;
	for (size_t i = 7; i < n; i++)
		wrapped_ok &= log[i].reason == VITS_R_NONE && log[i].offset == ((i * 32) % 4096);
	T_EQ(t, "SYNC offsets advance and wrap in order", 1, wrapped_ok);

	/* Enable 8193 + INV delivers the pending LPI. */
	harness_set_prop(h, 8193, 0xa3);
	struct its_cmd inv = its_mk_devev(ITS_OP_INV, 1, 1);
	T_EQ(t, "INV submit", 0, harness_submit(h, &inv, 1));
	inj = harness_injects(h, &n);
	T_EQ(t, "INV delivered 8193", 8193, n == 2 ? inj[1].intid : 0);

	/* MSI path. */
	T_EQ(t, "MSI 1/0", 0, vits_msi(h->vits, 1, 0));
	T_EQ(t, "MSI to unmapped device dropped", VITS_R_DEVICE_UNMAPPED, vits_msi(h->vits, 5, 0));

	harness_reset(h);
	harness_injects(h, &n);
	T_EQ(t, "harness_reset cleared injections", 0, n);
	harness_cmds(h, &n);
	T_EQ(t, "harness_reset cleared the command log", 0, n);
	T_EQ(t, "harness_reset cleared per-vCPU counts", 0, h->inject_per_vcpu[2]);

	struct guest_ram_stats gs;
	guest_ram_get_stats(h->ram, &gs);
	T_TRUE(t, "guest RAM reads counted", gs.reads >= 300);

	T_EQ(t, "harness_reset_all", 0, harness_reset_all(h));
	T_EQ(t, "after reset_all the ITS is disabled", 0, harness_mmio_read(h, GITS_CTLR, 4) & 1);
	T_EQ(t, "after reset_all no device", VITS_E_NOENT,
	     vits_query_device(h->vits, 1, &(struct vits_device_info){ 0 }));
	harness_destroy(h);
}

static void t_two_level(struct tstate *t)
{
	struct harness_config cfg;
	harness_config_default(&cfg);
	cfg.vits.devid_bits = 12;
	struct harness *h = mk(&cfg);
	T_EQ(t, "guest_init two-level 4K", 0, harness_guest_init(h, QUEUE, 2, DEVT, 1, 4096, true, PROP, 16));
	uint64_t b = harness_mmio_read(h, GITS_BASER0, 8);
	T_EQ(t, "BASER0 Indirect reads back", 1, GITS_FIELD_GET(b, BASER, INDIRECT));
	T_EQ(t, "BASER0 Valid reads back", 1, GITS_FIELD_GET(b, BASER, VALID));
	/* 4096 DeviceIDs need 8 L1 entries of 512. */
	uint64_t l1 = 0;
	guest_ram_read_u64(h->ram, DEVT + 7 * 8, &l1);
	T_EQ(t, "L1 entry 7 valid", 1, l1 >> 63);
	guest_ram_read_u64(h->ram, DEVT + 8 * 8, &l1);
	T_EQ(t, "L1 entry 8 untouched", 0, l1);
	struct its_cmd c[] = { its_mk_mapd(4095, 0, ITT, 1), its_mk_mapd(600, 0, ITT, 1) };
	harness_submit(h, c, 2);
	size_t n;
	const struct harness_cmd_rec *log = harness_cmds(h, &n);
	T_EQ(t, "two-level MAPD 4095 ok", VITS_R_NONE, n > 0 ? log[0].reason : 99);
	T_EQ(t, "two-level MAPD 600 ok", VITS_R_NONE, n > 1 ? log[1].reason : 99);
	/* Invalidate L1 entry 1 (DeviceIDs 512..1023): MAPD there fails. */
	guest_ram_write_u64(h->ram, DEVT + 8, 0);
	struct its_cmd c2 = its_mk_mapd(700, 0, ITT, 1);
	harness_submit(h, &c2, 1);
	log = harness_cmds(h, &n);
	T_EQ(t, "MAPD behind an invalid L1 entry: DEVICE_TABLE", VITS_R_DEVICE_TABLE, log[n - 1].reason);
	harness_destroy(h);

	harness_config_default(&cfg);
	h = mk(&cfg);
	T_EQ(t, "guest_init flat 64K pages", 0, harness_guest_init(h, QUEUE, 1, DEVT, 2, 65536, false, PROP, 16));
	b = harness_mmio_read(h, GITS_BASER0, 8);
	T_EQ(t, "BASER0 page size 64K reads back", 2, GITS_FIELD_GET(b, BASER, PAGE_SIZE));
	T_EQ(t, "guest_init refuses page size 8K", -1, harness_guest_init(h, QUEUE, 1, DEVT, 1, 8192, false, 0, 0));
	harness_destroy(h);
}

static void t_host(struct tstate *t)
{
	struct harness_config cfg;
	harness_config_default(&cfg);
	cfg.with_host = true;
	struct harness *h = mk(&cfg);
	T_TRUE(t, "host created", h->host != NULL);
	T_EQ(t, "assign vdev 1 -> pdev 0x10", 0, vits_assign_device(h->vits, 1, 0x10));
	T_EQ(t, "guest_init", 0, harness_guest_init(h, QUEUE, 1, DEVT, 1, 4096, false, PROP, 16));
	harness_set_prop(h, 8192, 0xa3);
	struct its_cmd cmds[] = {
		its_mk_mapd(1, 1, ITT, 1), its_mk_mapc(0, 0, 1), its_mk_mapti(1, 0, 8192, 0),
		its_mk_devev(ITS_OP_INV, 1, 0), its_mk_sync(0),
	};
	T_EQ(t, "submit", 0, harness_submit(h, cmds, 5));
	size_t n;
	const struct its_cmd *p = harness_phys_cmds(h, &n);
	T_TRUE(t, "physical commands recorded", n >= 2);
	T_EQ(t, "first physical command is MAPD", ITS_OP_MAPD, n ? its_cmd_get_opcode(&p[0]) : 0);
	T_EQ(t, "physical MAPD names pdev 0x10", 0x10, n ? its_cmd_get_devid(&p[0]) : 0);
	T_EQ(t, "physical ITT from the fake allocator", HARNESS_FAKE_ITT_BASE >> 8,
	     n ? its_cmd_get_itt_addr(&p[0]) : 0);
	T_EQ(t, "one live host ITT", 1, h->itt_live);
	T_TRUE(t, "host property table written", h->host_prop_writes > 0);

	/* A full physical queue answers VITS_E_AGAIN. */
	harness_phys_drain(h);
	harness_set_phys_capacity(h, 1);
	struct its_cmd more[] = { its_mk_mapti(1, 1, 8193, 0), its_mk_devev(ITS_OP_INV, 1, 1) };
	harness_submit(h, more, 2);
	harness_phys_cmds(h, &n);
	T_EQ(t, "capacity 1 holds one command", 1, n);
	T_TRUE(t, "refusals counted", h->phys_refused > 0);
	harness_destroy(h);
}

/* The oracle: engine and model agree on a scenario, and each kind of planted
 * difference (applied to one side only) is caught and named. */
static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return harness_read_guest(ctx, gpa, buf, len);
}

struct pair {
	struct harness *h;
	struct ref *r;
};

static void pair_setup(struct pair *p)
{
	struct harness_config cfg;
	harness_config_default(&cfg);
	p->h = mk(&cfg);
	if (harness_guest_init(p->h, QUEUE, 1, DEVT, 1, 4096, false, PROP, 16))
		t_broken("guest_init");
	struct ref_config rc = {
		.nr_vcpus = cfg.vits.nr_vcpus, .devid_bits = cfg.vits.devid_bits,
		.eventid_bits = cfg.vits.eventid_bits, .cid_bits = cfg.vits.cid_bits,
		.intid_bits = cfg.vits.intid_bits, .read_guest = ram_read,
		.ram_check = harness_ram_check, .ctx = p->h,
	};
	p->r = ref_create(&rc);
	if (!p->r)
		t_broken("ref_create");
	ref_set_device_table(p->r, p->h->drv.baser0);
	ref_set_prop_table(p->r, PROP, 16);
	ref_set_enabled(p->r, true);
	harness_set_prop(p->h, 8192, 0xa3);
	harness_set_prop(p->h, 8193, 0xa2);
	struct its_cmd cmds[] = {
		its_mk_mapd(1, 3, ITT, 1), its_mk_mapc(0, 1, 1), its_mk_mapc(2, 3, 1),
		its_mk_mapti(1, 0, 8192, 0), its_mk_mapti(1, 1, 8193, 0), its_mk_devev(ITS_OP_INT, 1, 0),
	};
	harness_submit(p->h, cmds, 6);
	for (unsigned i = 0; i < 6; i++)
		ref_cmd(p->r, &cmds[i]);
}

static void pair_free(struct pair *p)
{
	ref_destroy(p->r);
	harness_destroy(p->h);
}

/* Apply c to the model only (engine_too: to both), then expect the oracle to report
 * a mismatch whose message contains want. */
static void planted(struct tstate *t, const char *name, struct its_cmd c, bool engine_side,
		    const char *want)
{
	struct pair p;
	char msg[512] = "";
	pair_setup(&p);
	if (engine_side)
		harness_submit(p.h, &c, 1);
	else
		ref_cmd(p.r, &c);
	int res = oracle_check_harness(p.h, p.r, NULL, msg, sizeof(msg));
	t_ok(t, res == ORACLE_MISMATCH && strstr(msg, want), name,
	     "expected a mismatch naming \"%s\", got %d: %s", want, res, msg);
	pair_free(&p);
}

static void t_oracle(struct tstate *t)
{
	struct pair p;
	char msg[512] = "";
	pair_setup(&p);
	int res = oracle_check_harness(p.h, p.r, NULL, msg, sizeof(msg));
	t_ok(t, res == ORACLE_OK, "oracle: engine and model agree", "got %d: %s", res, msg);
	size_t n;
	harness_injects(p.h, &n);
	T_EQ(t, "oracle scenario delivered one LPI", 1, n);
	pair_free(&p);

	planted(t, "oracle: model-only MAPC", its_mk_mapc(5, 3, 1), false, "collection 5");
	planted(t, "oracle: engine-only MAPC", its_mk_mapc(5, 3, 1), true, "collection 5");
	planted(t, "oracle: model-only MAPC retarget", its_mk_mapc(0, 2, 1), false, "expected vcpu 2");
	planted(t, "oracle: model-only MAPD", its_mk_mapd(2, 1, ITT, 1), false, "device 0x2");
	planted(t, "oracle: engine-only MAPD", its_mk_mapd(2, 1, ITT, 1), true, "device 0x2");
	planted(t, "oracle: engine-only remap (ITT differs)", its_mk_mapd(1, 3, ITT + 0x1000, 1), true,
		"device 0x1");
	planted(t, "oracle: model-only DISCARD", its_mk_devev(ITS_OP_DISCARD, 1, 1), false, "ev 0x1");
	planted(t, "oracle: engine-only DISCARD", its_mk_devev(ITS_OP_DISCARD, 1, 1), true, "ev 0x1");
	planted(t, "oracle: engine-only MOVI", its_mk_movi(1, 1, 2), true, "icid");
	planted(t, "oracle: model-only INT of a disabled LPI", its_mk_devev(ITS_OP_INT, 1, 1), false,
		"lpi 8193");
	planted(t, "oracle: engine-only INT of a disabled LPI", its_mk_devev(ITS_OP_INT, 1, 1), true,
		"lpi 8193");
	planted(t, "oracle: engine-only delivery", its_mk_devev(ITS_OP_INT, 1, 0), true, "deliveries");
	planted(t, "oracle: model-only delivery", its_mk_devev(ITS_OP_INT, 1, 0), false, "deliveries");
}

int main(void)
{
	struct tstate t = { 0 };
	t_basic(&t);
	t_two_level(&t);
	t_host(&t);
	t_oracle(&t);
	return t_finish(&t, "test_harness");
}
