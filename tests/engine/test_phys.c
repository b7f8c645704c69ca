/*
 * engine_phys: the physical side under the forward policy (docs/semantics.md
 * "Physical side").  For an assigned device each guest command produces exactly the
 * documented physical commands (checked against the harness's recording sink, word
 * by word, built with the its_mk_* encoders); unassigned devices produce none;
 * vits_host_plpi delivers to the right domain and vLPI; destroy and unassign leave no
 * physical LPI allocated and emit DISCARD / MAPD V=0 / SYNC; two instances on one
 * host are isolated.
 *
 * Host: 2 pCPUs, 64 pLPIs.  Guest: 4 vCPUs (vCPU v on pCPU v % 2); collections
 * 0,1,2,3 -> vCPUs 1,2,3,0 (pCPUs 1,0,1,0).  Device 5 is assigned to pdev 0x105.
 *
 * The second instance (struct inst) is a minimal local embedder sharing the harness's
 * host and guest RAM: the harness owns exactly one engine instance.
 */
#include "eng.h"

#include <stdlib.h>
#include <string.h>

#define PDEV 0x105u
#define NPLPI 64u

static struct eng *new_engine(uint8_t peventid_bits)
{
	struct eng_opts o;
	eng_opts_default(&o);
	o.hc.with_host = true;
	o.hc.host.nr_pcpus = 2;
	o.hc.host.nr_plpis = NPLPI;
	o.hc.host.pdevid_bits = 16;
	o.hc.host.peventid_bits = peventid_bits;
	struct eng *e = eng_new(&o);
	if (!e)
		return NULL;
	CHECK_EQ(0, vits_assign_device(e->v, 5, PDEV), "assign 5 -> 0x105");
	static const uint32_t target[4] = { 1, 2, 3, 0 };
	for (uint32_t i = 0; i < 4; i++)
		EXPECT_OK(e, its_mk_mapc(i, target[i], 1), "setup MAPC");
	return e;
}

static bool cmd_eq(const struct its_cmd *a, const struct its_cmd *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* The physical commands since `from` are exactly want[0..n). */
static void expect_phys_at(int line, struct eng *e, size_t from, const struct its_cmd *want, size_t n,
			   const char *what)
{
	size_t got = eng_nphys(e) - from;
	check_u64(__FILE__, line, n, got, "%s: number of physical commands", what);
	for (size_t i = 0; i < n && i < got; i++) {
		const struct its_cmd *p = eng_phys(e, from + i);
		if (cmd_eq(p, &want[i])) {
			check_passed++;
			continue;
		}
		check_failed++;
		printf("FAIL %s:%d: %s: physical command %zu: expected %s %016llx %016llx %016llx %016llx"
		       " got %s %016llx %016llx %016llx %016llx\n", "test_phys.c", line, what, i,
		       its_cmd_name((unsigned)its_cmd_get_opcode(&want[i])),
		       (unsigned long long)want[i].dw[0], (unsigned long long)want[i].dw[1],
		       (unsigned long long)want[i].dw[2], (unsigned long long)want[i].dw[3],
		       its_cmd_name((unsigned)its_cmd_get_opcode(p)) ? its_cmd_name((unsigned)its_cmd_get_opcode(p)) : "?",
		       (unsigned long long)p->dw[0], (unsigned long long)p->dw[1],
		       (unsigned long long)p->dw[2], (unsigned long long)p->dw[3]);
	}
}
#define EXPECT_PHYS(e, from, what, ...)                                                  \
	do {                                                                             \
		const struct its_cmd want_[] = { __VA_ARGS__ };                          \
		expect_phys_at(__LINE__, (e), (from), want_, sizeof(want_) / sizeof(want_[0]), (what)); \
	} while (0)
#define EXPECT_NO_PHYS(e, from, what) expect_phys_at(__LINE__, (e), (from), NULL, 0, (what))

/* Run one guest command and check the physical commands it produced. */
#define RUN_PHYS(e, c, what, ...)                                                        \
	do {                                                                             \
		size_t from_ = eng_nphys(e);                                             \
		EXPECT_OK((e), (c), (what));                                             \
		EXPECT_PHYS((e), from_, (what), __VA_ARGS__);                            \
	} while (0)
#define RUN_NO_PHYS(e, c, what)                                                          \
	do {                                                                             \
		size_t from_ = eng_nphys(e);                                             \
		EXPECT_OK((e), (c), (what));                                             \
		EXPECT_NO_PHYS((e), from_, (what));                                      \
	} while (0)

static uint32_t plpi_of(struct eng *e, uint32_t dev, uint32_t ev)
{
	struct vits_event_info ei;
	memset(&ei, 0, sizeof(ei));
	CHECK_EQ(0, vits_query_event(e->v, dev, ev, &ei), "query (%u,%u)", dev, ev);
	return ei.plpi;
}

static uint8_t host_byte(struct eng *e, uint32_t plpi)
{
	return plpi >= 8192 && plpi < 8192 + NPLPI ? e->h->host_prop[plpi - 8192] : 0xee;
}

static void test_forward(void)
{
	struct eng *e = new_engine(16);
	if (!e)
		return;
	size_t mark = e->rec.n;
	RUN_NO_PHYS(e, its_mk_sync(0), "SYNC before any assigned device is mapped");

	uint64_t itt0 = e->h->itt_next;
	RUN_PHYS(e, its_mk_mapd(5, 3, eng_itt(5), 1), "MAPD assigned",
		 its_mk_mapd(PDEV, 3, itt0, 1));
	CHECK_EQ(1, e->h->itt_live, "one host ITT live");
	CHECK_EQ(8u << 4, e->h->itt_live_bytes, "host ITT of 16 events x 8 bytes");
	struct vits_device_info di;
	vits_query_device(e->v, 5, &di);
	CHECK_EQ(1, di.assigned, "device 5 assigned");
	CHECK_EQ(PDEV, di.pdevid, "device 5 pdevid");

	eng_prop(e, 8200, LPI_ON);
	size_t f = eng_nphys(e);
	EXPECT_OK(e, its_mk_mapti(5, 2, 8200, 0), "MAPTI assigned");
	uint32_t p2 = plpi_of(e, 5, 2);
	CHECK(p2 >= 8192 && p2 < 8192 + NPLPI, "pLPI %u in the host's range", p2);
	EXPECT_PHYS(e, f, "MAPTI assigned", its_mk_mapti(PDEV, 2, p2, 1));
	CHECK_EQ(LPI_ON, host_byte(e, p2), "MAPTI copied the guest byte to the host table");

	eng_prop(e, 8200, LPI_OFF);
	RUN_PHYS(e, its_mk_devev(ITS_OP_INV, 5, 2), "INV assigned", its_mk_devev(ITS_OP_INV, PDEV, 2));
	CHECK_EQ(LPI_OFF, host_byte(e, p2), "INV copied the byte");
	eng_prop(e, 8200, LPI_ON);
	RUN_PHYS(e, its_mk_invall(0), "INVALL of the collection with the assigned event", its_mk_invall(1));
	CHECK_EQ(LPI_ON, host_byte(e, p2), "INVALL copied the byte");
	RUN_NO_PHYS(e, its_mk_invall(1), "INVALL of a collection without assigned events");
	RUN_PHYS(e, its_mk_sync(1), "SYNC vCPU 1", its_mk_sync(1));
	RUN_PHYS(e, its_mk_sync(2), "SYNC vCPU 2", its_mk_sync(0));
	RUN_PHYS(e, its_mk_movi(5, 2, 1), "MOVI to vCPU 2 (pCPU 0)", its_mk_movi(PDEV, 2, 0));
	RUN_PHYS(e, its_mk_movi(5, 2, 2), "MOVI to vCPU 3 (pCPU 1)", its_mk_movi(PDEV, 2, 1));
	RUN_NO_PHYS(e, its_mk_movi(5, 2, 0), "MOVI to vCPU 1 (same pCPU 1)");
	RUN_PHYS(e, its_mk_devev(ITS_OP_CLEAR, 5, 2), "CLEAR assigned", its_mk_devev(ITS_OP_CLEAR, PDEV, 2));
	/* The MOVIs touched pCPUs 0 and 1 since the last SYNC: a SYNC covers both. */
	RUN_PHYS(e, its_mk_sync(0), "SYNC covers each pCPU that got commands", its_mk_sync(0), its_mk_sync(1));
	RUN_PHYS(e, its_mk_sync(0), "SYNC again: the vCPU's own pCPU only", its_mk_sync(0));
	RUN_NO_PHYS(e, its_mk_devev(ITS_OP_INT, 5, 2), "INT assigned (pending is virtual)");
	RUN_NO_PHYS(e, its_mk_mapc(3, 2, 1), "MAPC");
	RUN_NO_PHYS(e, its_mk_movall(1, 2), "MOVALL");
	harness_reset(e->h);   /* forget the injection of the INT */

	/* Every PHYS_CMD event names the guest command that caused it. */
	size_t nphys_ev = 0, bad_cause = 0;
	for (size_t i = mark; i < e->rec.n; i++) {
		const struct vits_event *ev = &e->rec.ev[i];
		if (ev->type != VITS_EV_PHYS_CMD)
			continue;
		nphys_ev++;
		/* Physical commands are traced when the outbox hands them over, right after
		 * the guest command that caused them: the latest VITS_EV_CMD before. */
		for (size_t j = i; j-- > mark;) {
			if (e->rec.ev[j].type != VITS_EV_CMD)
				continue;
			bad_cause += ev->u.phys.cause != VITS_CAUSE_GUEST_CMD ||
				     ev->u.phys.cause_offset != e->rec.ev[j].u.cmd.offset ||
				     ev->u.phys.cause_opcode != its_cmd_get_opcode(&e->rec.ev[j].u.cmd.cmd);
			break;
		}
	}
	CHECK_EQ(12, nphys_ev, "PHYS_CMD trace events");
	CHECK_EQ(0, bad_cause, "PHYS_CMD cause, offset and opcode name the guest command");

	/* vits_host_plpi: the event is on ICID 0 -> vCPU 1, INTID 8200. */
	CHECK_EQ(0, vits_host_plpi(e->h->host, p2), "host LPI delivered");
	CHECK_EQ(1, eng_ninj(e), "one injection");
	if (eng_ninj(e) == 1) {
		CHECK_EQ(1, eng_inj(e, 0)->vcpu, "host LPI to vCPU 1");
		CHECK_EQ(8200, eng_inj(e, 0)->intid, "host LPI as vLPI 8200");
	}
	/* A physical LPI for an LPI the guest disabled is counted as spurious and still
	 * becomes pending (not injected). */
	eng_prop(e, 8200, LPI_OFF);
	EXPECT_OK(e, its_mk_devev(ITS_OP_INV, 5, 2), "guest disables 8200");
	struct vits_stats a = eng_stats(e);
	int r = vits_host_plpi(e->h->host, p2);
	struct vits_stats b = eng_stats(e);
	CHECK_REASON(VITS_R_NONE, r, "host LPI for a guest-disabled LPI");
	CHECK_EQ(a.host_lpis_spurious + 1, b.host_lpis_spurious, "counted as spurious");
	CHECK_EQ(a.host_lpis_dropped, b.host_lpis_dropped, "not counted as dropped");
	CHECK_EQ(a.host_lpis + 1, b.host_lpis, "host_lpis counted");
	CHECK_EQ(1, eng_lpi(e, 8200).pending, "pending, as a disabled LPI on a real ITS");
	CHECK_EQ(1, eng_lpi(e, 8200).pending_vcpu, "pending on vCPU 1");
	CHECK_EQ(1, eng_ninj(e), "no injection");
	/* While the guest's ITS is disabled a host LPI is still delivered: the pending
	 * state is the redistributor's, which GITS_CTLR does not gate (docs/semantics.md;
	 * a new MSI in that time is the limit disabled_its_msi of docs/policies.md). */
	EXPECT_OK(e, its_mk_devev(ITS_OP_CLEAR, 5, 2), "CLEAR 8200");
	eng_prop(e, 8200, LPI_ON);
	EXPECT_OK(e, its_mk_devev(ITS_OP_INV, 5, 2), "guest enables 8200");
	harness_enable(e->h, false);
	r = vits_host_plpi(e->h->host, p2);
	CHECK_REASON(VITS_R_NONE, r, "host LPI while the guest ITS is disabled");
	CHECK_EQ(2, eng_ninj(e), "delivered while disabled");
	harness_enable(e->h, true);
	size_t before = eng_ninj(e);
	CHECK_EQ(0, vits_host_plpi(e->h->host, p2), "host LPI after re-enable");
	CHECK_EQ(before + 1, eng_ninj(e), "delivered after re-enable");

	/* DISCARD frees the pLPI and wipes its host byte. */
	eng_prop(e, 8201, LPI_ON);
	f = eng_nphys(e);
	EXPECT_OK(e, its_mk_mapti(5, 3, 8201, 1), "MAPTI (5,3) on vCPU 2");
	uint32_t p3 = plpi_of(e, 5, 3);
	EXPECT_PHYS(e, f, "MAPTI (5,3)", its_mk_mapti(PDEV, 3, p3, 0));
	CHECK(p3 != p2, "distinct pLPIs");
	RUN_PHYS(e, its_mk_devev(ITS_OP_DISCARD, 5, 2), "DISCARD assigned", its_mk_devev(ITS_OP_DISCARD, PDEV, 2));
	CHECK_EQ(0, host_byte(e, p2), "DISCARD wiped the host byte");
	CHECK_REASON(VITS_R_NOT_ASSIGNED, vits_host_plpi(e->h->host, p2), "discarded pLPI is free");

	/* MAPD V=1 remap: DISCARDs, MAPD V=0, then the new MAPD. */
	uint64_t itt1 = e->h->itt_next;
	RUN_PHYS(e, its_mk_mapd(5, 4, eng_itt(6), 1), "MAPD remap assigned",
		 its_mk_devev(ITS_OP_DISCARD, PDEV, 3), its_mk_mapd(PDEV, 0, 0, 0),
		 its_mk_mapd(PDEV, 4, itt1, 1));
	CHECK_REASON(VITS_R_NOT_ASSIGNED, vits_host_plpi(e->h->host, p3), "remap freed the pLPI");
	CHECK_EQ(1, e->h->itt_live, "one host ITT live after remap");
	CHECK_EQ(8u << 5, e->h->itt_live_bytes, "host ITT bytes after remap");

	/* MAPD V=0: DISCARD each mapped event, then MAPD V=0; pLPIs and ITT freed. */
	eng_mapti(e, 5, 1, 8202, 0, LPI_ON);
	eng_mapti(e, 5, 7, 8203, 1, LPI_ON);
	uint32_t p1 = plpi_of(e, 5, 1), p7 = plpi_of(e, 5, 7);
	RUN_PHYS(e, its_mk_mapd(5, 0, 0, 0), "MAPD V=0 assigned",
		 its_mk_devev(ITS_OP_DISCARD, PDEV, 1), its_mk_devev(ITS_OP_DISCARD, PDEV, 7),
		 its_mk_mapd(PDEV, 0, 0, 0));
	CHECK_EQ(0, e->h->itt_live, "no host ITT live");
	CHECK_EQ(0, e->h->itt_live_bytes, "no host ITT bytes live");
	CHECK_REASON(VITS_R_NOT_ASSIGNED, vits_host_plpi(e->h->host, p1), "pLPI of (5,1) freed");
	CHECK_REASON(VITS_R_NOT_ASSIGNED, vits_host_plpi(e->h->host, p7), "pLPI of (5,7) freed");
	/* The DISCARDs went to pCPUs 1 and 0 since their last SYNC: a guest SYNC still
	 * covers them after the last assigned device is gone. */
	RUN_PHYS(e, its_mk_sync(1), "SYNC after the last assigned device is unmapped",
		 its_mk_sync(0), its_mk_sync(1));
	RUN_NO_PHYS(e, its_mk_sync(1), "SYNC with nothing sent since");
	CHECK_EQ(1, vits_query_device(e->v, 5, &di) == VITS_E_NOENT, "device 5 unmapped");

	/* An unassigned device produces nothing physical. */
	size_t f0 = eng_nphys(e);
	eng_prop(e, 8210, LPI_ON);
	struct its_cmd un[] = {
		its_mk_mapd(6, 3, eng_itt(6), 1), its_mk_mapti(6, 0, 8210, 0), its_mk_mapi(6, 1, 0),
		its_mk_devev(ITS_OP_INV, 6, 0), its_mk_invall(0), its_mk_sync(1), its_mk_movi(6, 0, 1),
		its_mk_devev(ITS_OP_INT, 6, 0), its_mk_devev(ITS_OP_CLEAR, 6, 0),
		its_mk_devev(ITS_OP_DISCARD, 6, 0), its_mk_mapd(6, 4, eng_itt(7), 1), its_mk_mapd(6, 0, 0, 0),
	};
	CHECK_EQ(1, eng_cmds(e, un, sizeof(un) / sizeof(un[0])), "unassigned sequence (MAPI 1 < 8192 fails)");
	EXPECT_NO_PHYS(e, f0, "unassigned device: no physical command");
	CHECK_REASON(VITS_R_DEVICE_UNMAPPED, vits_msi(e->v, 5, 0), "MSI to the unmapped assigned device");
	eng_mapd(e, 8, 0);
	CHECK_EQ((uint64_t)(int64_t)VITS_E_STATE, (uint64_t)(int64_t)vits_assign_device(e->v, 8, 0x108),
		 "assign a device the guest has mapped");
	EXPECT_OK(e, its_mk_mapd(8, 0, 0, 0), "unmap 8");
	CHECK_EQ(0, vits_assign_device(e->v, 8, 0x108), "assign once unmapped");
	eng_free(e);
}

/* set_vcpu_pcpu moves the target of later MAPTIs; guest events beyond the physical
 * EventID range stay virtual; host ITT bytes are given back as allocated. */
static void test_routing_and_itt(void)
{
	struct eng *e = new_engine(4);
	if (!e)
		return;
	CHECK_EQ(0, vits_set_vcpu_pcpu(e->v, 1, 0), "vCPU 1 -> pCPU 0");
	uint64_t itt = e->h->itt_next;
	RUN_PHYS(e, its_mk_mapd(5, 7, eng_itt(5), 1), "MAPD 256 events on a 16-event physical ITS",
		 its_mk_mapd(PDEV, 3, itt, 1));
	eng_prop(e, 8200, LPI_ON);
	size_t f = eng_nphys(e);
	EXPECT_OK(e, its_mk_mapti(5, 2, 8200, 0), "MAPTI on vCPU 1");
	EXPECT_PHYS(e, f, "MAPTI follows set_vcpu_pcpu", its_mk_mapti(PDEV, 2, plpi_of(e, 5, 2), 0));
	RUN_NO_PHYS(e, its_mk_mapti(5, 20, 8201, 0), "MAPTI beyond the physical EventIDs stays virtual");
	CHECK_EQ(0, plpi_of(e, 5, 20), "no pLPI for event 20");
	RUN_PHYS(e, its_mk_mapd(5, 0, 0, 0), "MAPD V=0",
		 its_mk_devev(ITS_OP_DISCARD, PDEV, 2), its_mk_mapd(PDEV, 0, 0, 0));
	CHECK_EQ(0, e->h->itt_live, "host ITT freed");
	CHECK_EQ(0, e->h->itt_live_bytes, "itt_free gets the size itt_alloc was asked for");
	eng_free(e);
}

/* INVALL after a MAPC moved the collection: the pLPI still sits on the physical
 * collection it was mapped to (MAPC does not move physical LPIs). */
static void test_invall_after_mapc(void)
{
	struct eng *e = new_engine(16);
	if (!e)
		return;
	eng_mapd(e, 5, 3);
	eng_mapti(e, 5, 0, 8200, 0, LPI_ON);        /* ICID 0 -> vCPU 1 -> pCPU 1 */
	EXPECT_OK(e, its_mk_mapc(0, 2, 1), "MAPC ICID 0 -> vCPU 2 (pCPU 0)");
	RUN_PHYS(e, its_mk_invall(0), "INVALL reaches the pCPU holding the pLPI", its_mk_invall(1));
	RUN_PHYS(e, its_mk_movi(5, 0, 0), "MOVI to the remapped collection moves the pLPI",
		 its_mk_movi(PDEV, 0, 0));
	RUN_PHYS(e, its_mk_invall(0), "INVALL after MOVI", its_mk_invall(0));
	eng_free(e);
}

static void test_unassign(void)
{
	struct eng *e = new_engine(16);
	if (!e)
		return;
	eng_mapd(e, 5, 3);
	eng_mapti(e, 5, 0, 8200, 0, LPI_ON);
	eng_mapti(e, 5, 1, 8201, 1, LPI_ON);
	uint32_t p0 = plpi_of(e, 5, 0), p1 = plpi_of(e, 5, 1);
	size_t f = eng_nphys(e), mark = e->rec.n;
	CHECK_EQ(0, vits_unassign_device(e->v, 5), "unassign 5");
	/* An INV per event first (a physically pending LPI reaches the host before the
	 * DISCARDs clear it), then the teardown.  (5,0) sits on pCPU 1 and (5,1) on pCPU
	 * 0: both got commands, both get a SYNC. */
	EXPECT_PHYS(e, f, "unassign", its_mk_devev(ITS_OP_INV, PDEV, 0),
		    its_mk_devev(ITS_OP_INV, PDEV, 1), its_mk_devev(ITS_OP_DISCARD, PDEV, 0),
		    its_mk_devev(ITS_OP_DISCARD, PDEV, 1), its_mk_mapd(PDEV, 0, 0, 0),
		    its_mk_sync(0), its_mk_sync(1));
	size_t teardown = 0, nph = 0;
	for (size_t i = mark; i < e->rec.n; i++)
		if (e->rec.ev[i].type == VITS_EV_PHYS_CMD) {
			nph++;
			teardown += e->rec.ev[i].u.phys.cause == VITS_CAUSE_TEARDOWN;
		}
	CHECK_EQ(nph, teardown, "unassign commands are caused by TEARDOWN");
	CHECK_REASON(VITS_R_NOT_ASSIGNED, vits_host_plpi(e->h->host, p0), "pLPI 0 freed");
	CHECK_REASON(VITS_R_NOT_ASSIGNED, vits_host_plpi(e->h->host, p1), "pLPI 1 freed");
	CHECK_EQ(0, e->h->itt_live, "host ITT freed");
	CHECK_EQ(0, plpi_of(e, 5, 0), "event stays mapped, virtual");
	CHECK_EQ(0, vits_msi(e->v, 5, 0), "MSI on the now-virtual device");
	RUN_NO_PHYS(e, its_mk_devev(ITS_OP_INV, 5, 0), "INV on the unassigned device");
	eng_free(e);
}

/* ---- a second instance on the same host -------------------------------------------- */

struct inst {
	struct harness *h;            /* guest RAM and host shared with the harness */
	struct vits *v;
	uint64_t qgpa;
	uint32_t wptr;
	uint64_t mem_cur, allocs;
	size_t ninj;
	uint32_t last_vcpu, last_intid;
	size_t nphys_ev, teardown_ev, ncmd;
	uint8_t last_reason;
};

static void *i_alloc(void *ctx, size_t size)
{
	struct inst *in = ctx;
	in->mem_cur += size;
	in->allocs++;
	return calloc(1, size ? size : 1);
}
static void i_free(void *ctx, void *p, size_t size)
{
	struct inst *in = ctx;
	in->mem_cur -= size;
	free(p);
}
static int i_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct inst *in = ctx;
	return harness_read_guest(in->h, gpa, buf, len);
}
static int i_ram_check(void *ctx, uint64_t gpa, uint64_t len)
{
	struct inst *in = ctx;
	return harness_ram_check(in->h, gpa, len);
}
static void i_inject(void *ctx, uint32_t vcpu, uint32_t intid)
{
	struct inst *in = ctx;
	in->ninj++;
	in->last_vcpu = vcpu;
	in->last_intid = intid;
}
static void i_trace(void *ctx, const struct vits_event *ev)
{
	struct inst *in = ctx;
	if (ev->type == VITS_EV_PHYS_CMD) {
		in->nphys_ev++;
		in->teardown_ev += ev->u.phys.cause == VITS_CAUSE_TEARDOWN;
	} else if (ev->type == VITS_EV_CMD) {
		in->ncmd++;
		in->last_reason = ev->u.cmd.reason;
	}
}

static int inst_create(struct inst *in, struct eng *e, uint64_t qgpa, uint64_t devtab, uint64_t prop)
{
	memset(in, 0, sizeof(*in));
	in->h = e->h;
	in->qgpa = qgpa;
	struct vits_ops ops = { sizeof(ops), i_alloc, i_free, i_read, i_ram_check, i_inject, i_trace };
	struct vits_config c = e->h->cfg.vits;
	c.domain_id = 2;
	int rc = vits_create(&c, &ops, in, e->h->host, &in->v);
	if (rc)
		return rc;
	uint64_t cb = GITS_FIELD_SET(GITS_FIELD_SET(qgpa, CBASER, VALID, 1), CBASER, SIZE, 0);
	vits_mmio_write(in->v, GITS_BASERn(0), 8, harness_baser0_value(devtab, 8, 4096, false));
	vits_mmio_write(in->v, GITS_CBASER, 8, cb);
	vits_set_prop_table(in->v, prop, 16);
	vits_mmio_write(in->v, GITS_CTLR, 4, 1);
	return 0;
}

static int inst_cmd(struct inst *in, struct its_cmd c)
{
	uint8_t raw[ITS_CMD_BYTES];
	its_cmd_to_bytes(&c, raw);
	harness_write_guest(in->h, in->qgpa + in->wptr, raw, sizeof(raw));
	in->wptr = (in->wptr + 32) % 4096;
	size_t before = in->ncmd;
	vits_mmio_write(in->v, GITS_CWRITER, 8, in->wptr);
	return in->ncmd == before + 1 ? in->last_reason : -1;
}

#define B_QUEUE  0x40010000ull
#define B_DEVTAB 0x40200000ull
#define B_PROP   0x41400000ull

static void test_two_instances(void)
{
	struct eng *e = new_engine(16);
	if (!e)
		return;
	struct inst b;
	CHECK_EQ(0, inst_create(&b, e, B_QUEUE, B_DEVTAB, B_PROP), "second instance on the host");
	if (!b.v) {
		eng_free(e);
		return;
	}
	/* A owns pdev 0x105: B cannot take it under any vdevid. */
	CHECK_EQ((uint64_t)(int64_t)VITS_E_EXIST, (uint64_t)(int64_t)vits_assign_device(b.v, 5, PDEV),
		 "B assigns A's pdevid under the same vdevid");
	CHECK_EQ((uint64_t)(int64_t)VITS_E_EXIST, (uint64_t)(int64_t)vits_assign_device(b.v, 9, PDEV),
		 "B assigns A's pdevid under another vdevid");
	CHECK_EQ(0, vits_assign_device(b.v, 1, 0x201), "B assigns 1 -> 0x201");
	CHECK_EQ(0, vits_assign_device(b.v, 2, 0x202), "B assigns 2 -> 0x202");
	CHECK_EQ((uint64_t)(int64_t)VITS_E_EXIST, (uint64_t)(int64_t)vits_assign_device(e->v, 7, 0x201),
		 "A assigns B's pdevid");

	/* A maps its device and an event. */
	eng_mapd(e, 5, 3);
	eng_mapti(e, 5, 0, 8200, 0, LPI_ON);
	uint32_t pa = plpi_of(e, 5, 0);

	/* B: collections, devices 1 (two events), 2 (one event), 3 and 5 unassigned. */
	uint8_t on = LPI_ON;
	for (uint32_t i = 0; i < 8; i++)
		harness_write_guest(e->h, B_PROP + i, &on, 1);
	size_t f = eng_nphys(e);
	int bad = 0;
	bad += inst_cmd(&b, its_mk_mapc(0, 2, 1)) != 0;
	bad += inst_cmd(&b, its_mk_mapd(5, 3, eng_itt(5), 1)) != 0;     /* B's vdev 5 is virtual */
	bad += inst_cmd(&b, its_mk_mapti(5, 0, 8199, 0)) != 0;
	bad += inst_cmd(&b, its_mk_devev(ITS_OP_INV, 5, 0)) != 0;
	bad += inst_cmd(&b, its_mk_devev(ITS_OP_DISCARD, 5, 0)) != 0;
	CHECK_EQ(0, bad, "B's virtual device 5 commands succeed");
	EXPECT_NO_PHYS(e, f, "B's unassigned device 5 emits nothing");
	bad += inst_cmd(&b, its_mk_mapd(1, 1, eng_itt(1), 1)) != 0;
	bad += inst_cmd(&b, its_mk_mapd(2, 1, eng_itt(2), 1)) != 0;
	bad += inst_cmd(&b, its_mk_mapd(3, 1, eng_itt(3), 1)) != 0;
	bad += inst_cmd(&b, its_mk_mapti(1, 0, 8192, 0)) != 0;
	bad += inst_cmd(&b, its_mk_mapti(1, 1, 8193, 0)) != 0;
	bad += inst_cmd(&b, its_mk_mapti(2, 0, 8194, 0)) != 0;
	bad += inst_cmd(&b, its_mk_mapti(3, 0, 8195, 0)) != 0;
	CHECK_EQ(0, bad, "B's setup commands succeed");
	struct vits_event_info ei;
	uint32_t pb[3] = { 0, 0, 0 };
	if (vits_query_event(b.v, 1, 0, &ei) == 0) pb[0] = ei.plpi;
	if (vits_query_event(b.v, 1, 1, &ei) == 0) pb[1] = ei.plpi;
	if (vits_query_event(b.v, 2, 0, &ei) == 0) pb[2] = ei.plpi;
	for (int i = 0; i < 3; i++)
		CHECK(pb[i] >= 8192 && pb[i] != pa, "B's pLPI %d (%u) distinct from A's (%u)", i, pb[i], pa);

	/* Host LPIs reach only their own domain. */
	size_t a0 = eng_ninj(e), b0 = b.ninj;
	CHECK_EQ(0, vits_host_plpi(e->h->host, pa), "A's pLPI");
	CHECK_EQ(a0 + 1, eng_ninj(e), "A's pLPI injected in A");
	CHECK_EQ(b0, b.ninj, "A's pLPI not injected in B");
	CHECK_EQ(0, vits_host_plpi(e->h->host, pb[2]), "B's pLPI");
	CHECK_EQ(a0 + 1, eng_ninj(e), "B's pLPI not injected in A");
	CHECK_EQ(b0 + 1, b.ninj, "B's pLPI injected in B");
	CHECK_EQ(2, b.last_vcpu, "on B's vCPU 2");
	CHECK_EQ(8194, b.last_intid, "as B's vLPI 8194");

	/* Physical commands name only assigned pdevids. */
	size_t n;
	const struct its_cmd *pc = harness_phys_cmds(e->h, &n);
	size_t wild = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned op = (unsigned)its_cmd_get_opcode(&pc[i]);
		if (op == ITS_OP_SYNC || op == ITS_OP_INVALL || op == ITS_OP_MOVALL || op == ITS_OP_MAPC)
			continue;
		uint64_t d = its_cmd_get_devid(&pc[i]);
		wild += d != PDEV && d != 0x201 && d != 0x202;
	}
	CHECK_EQ(0, wild, "physical commands for unassigned pdevids");

	/* Destroying B: DISCARD of each event, MAPD V=0 of each device, SYNC; pLPIs freed. */
	f = eng_nphys(e);
	uint64_t live = e->h->itt_live;
	vits_destroy(b.v);
	size_t nd = 0, nm = 0, ns = 0, other = 0, order_bad = 0;
	bool seen_mapd[2] = { false, false };
	pc = harness_phys_cmds(e->h, &n);
	for (size_t i = f; i < n; i++) {
		unsigned op = (unsigned)its_cmd_get_opcode(&pc[i]);
		uint64_t d = its_cmd_get_devid(&pc[i]);
		if (op == ITS_OP_DISCARD && (d == 0x201 || d == 0x202)) {
			nd++;
			order_bad += seen_mapd[d - 0x201];      /* DISCARD after its MAPD V=0 */
			order_bad += ns != 0;
		} else if (op == ITS_OP_MAPD && (d == 0x201 || d == 0x202) && !its_cmd_get_valid(&pc[i])) {
			nm++;
			seen_mapd[d - 0x201] = true;
			order_bad += ns != 0;
		} else if (op == ITS_OP_SYNC) {
			ns++;
		} else {
			other++;
		}
	}
	CHECK_EQ(3, nd, "destroy: one DISCARD per mapped event");
	CHECK_EQ(2, nm, "destroy: one MAPD V=0 per assigned device");
	CHECK_EQ(1, ns, "destroy: SYNC on the one pCPU that got commands");
	CHECK_EQ(0, other, "destroy: nothing else");
	CHECK_EQ(0, order_bad, "destroy: DISCARDs before their MAPD V=0, SYNC last");
	CHECK_EQ(5, b.nphys_ev - b.teardown_ev, "B's guest commands caused 5 physical commands");
	CHECK_EQ(6, b.teardown_ev, "destroy: 3 DISCARD + 2 MAPD V=0 + SYNC(0), cause TEARDOWN");
	for (int i = 0; i < 3; i++)
		CHECK_REASON(VITS_R_NOT_ASSIGNED, vits_host_plpi(e->h->host, pb[i]), "B's pLPI %d freed", i);
	CHECK_EQ(live - 2, e->h->itt_live, "B's host ITTs freed");
	CHECK_EQ(0, b.mem_cur, "B's memory all freed");
	/* A is untouched and B's pdevids are free again. */
	CHECK_EQ(0, vits_host_plpi(e->h->host, pa), "A still served");
	CHECK_EQ(0, vits_assign_device(e->v, 7, 0x201), "B's pdevid assignable after destroy");
	/* With B gone, no pLPI but A's is allocated. */
	size_t owned = 0;
	for (uint32_t p = 8192; p < 8192 + NPLPI; p++)
		owned += vits_host_plpi(e->h->host, p) != VITS_R_NOT_ASSIGNED;
	CHECK_EQ(1, owned, "only A's pLPI allocated");
	eng_free(e);
}

/* Destroying the harness's instance leaves no pLPI allocated: checked through a
 * second instance that outlives it is not possible with one harness, so destroy a
 * second instance that holds everything and count what stays allocated. */
static void test_destroy_all(void)
{
	struct eng *e = new_engine(16);
	if (!e)
		return;
	struct inst b;
	CHECK_EQ(0, inst_create(&b, e, B_QUEUE, B_DEVTAB, B_PROP), "instance");
	if (!b.v) {
		eng_free(e);
		return;
	}
	for (uint32_t d = 0; d < 4; d++)
		CHECK_EQ(0, vits_assign_device(b.v, 10 + d, 0x300 + d), "assign %u", 10 + d);
	inst_cmd(&b, its_mk_mapc(0, 0, 1));
	inst_cmd(&b, its_mk_mapc(1, 1, 1));
	unsigned mapped = 0;
	for (uint32_t d = 0; d < 4; d++) {
		inst_cmd(&b, its_mk_mapd(10 + d, 3, eng_itt(d), 1));
		for (uint32_t ev = 0; ev < 16 && mapped < NPLPI; ev++, mapped++)
			inst_cmd(&b, its_mk_mapti(10 + d, ev, 8192 + mapped, ev & 1));
	}
	size_t owned = 0;
	for (uint32_t p = 8192; p < 8192 + NPLPI; p++)
		owned += vits_host_plpi(e->h->host, p) != VITS_R_NOT_ASSIGNED;
	CHECK_EQ(NPLPI, owned, "every pLPI allocated before destroy");
	/* One more event: the host is out of pLPIs. */
	inst_cmd(&b, its_mk_mapd(20, 0, eng_itt(20), 1));
	vits_assign_device(b.v, 21, 0x321);
	inst_cmd(&b, its_mk_mapd(21, 0, eng_itt(21), 1));
	harness_write_guest(e->h, B_PROP + 9000 - 8192, &(uint8_t){ LPI_ON }, 1);
	int r = inst_cmd(&b, its_mk_mapti(21, 0, 9000, 0));
	CHECK_REASON(VITS_R_NO_MEMORY, r, "MAPTI with no pLPI left");
	struct vits_lpi_info li;
	vits_query_lpi(b.v, 9000, &li);
	CHECK_EQ(0, li.cfg, "a failed MAPTI changes no LPI state (cfg of 9000 not read)");
	size_t f = eng_nphys(e);
	vits_destroy(b.v);
	owned = 0;
	for (uint32_t p = 8192; p < 8192 + NPLPI; p++)
		owned += vits_host_plpi(e->h->host, p) != VITS_R_NOT_ASSIGNED;
	CHECK_EQ(0, owned, "destroy left no pLPI allocated");
	CHECK_EQ(0, e->h->itt_live, "destroy left no host ITT");
	size_t n;
	const struct its_cmd *pc = harness_phys_cmds(e->h, &n);
	size_t nd = 0, nm = 0, ns = 0;
	for (size_t i = f; i < n; i++) {
		unsigned op = (unsigned)its_cmd_get_opcode(&pc[i]);
		nd += op == ITS_OP_DISCARD;
		nm += op == ITS_OP_MAPD && !its_cmd_get_valid(&pc[i]);
		ns += op == ITS_OP_SYNC;
	}
	CHECK_EQ(NPLPI, nd, "destroy: a DISCARD per physical event");
	CHECK_EQ(5, nm, "destroy: a MAPD V=0 per physically mapped device");
	CHECK(ns >= 1, "destroy: SYNC");
	CHECK_EQ(0, b.mem_cur, "destroy freed every byte");
	eng_free(e);
}

/* A full physical queue: the guest command has run, CREADR stays on it until its
 * physical commands are queued; the next call sends them first; nothing is dropped
 * and the order is kept (semantics.md "Physical queue full"). */
static void test_phys_queue_full(void)
{
	struct eng *e = new_engine(16);
	if (!e)
		return;
	eng_mapd(e, 5, 3);
	for (uint32_t i = 0; i < 3; i++)
		eng_prop(e, 8200 + i, LPI_ON);
	size_t base = eng_nphys(e), mark = e->rec.n;
	uint64_t start = eng_rd(e, GITS_CREADR, 8);
	harness_set_phys_capacity(e->h, (uint32_t)base + 1);
	struct its_cmd c[4] = { its_mk_mapti(5, 0, 8200, 0), its_mk_mapti(5, 1, 8201, 0),
				its_mk_mapti(5, 2, 8202, 0), its_mk_sync(1) };
	for (int i = 0; i < 4; i++)
		harness_queue_cmd(e->h, &c[i]);
	harness_kick(e->h);
	CHECK_EQ(base + 1, eng_nphys(e), "one physical command fit");
	CHECK(e->h->phys_refused >= 1, "the sink refused a command");
	CHECK_EQ(start + 0x20, eng_rd(e, GITS_CREADR, 8), "CREADR stays on the command in flight");
	CHECK_EQ(1, vits_work_pending(e->v), "work pending while physical commands wait");
	CHECK(eng_stats(e).phys_queue_full >= 1, "phys_queue_full counted");
	struct vits_event_info ei;
	CHECK_EQ(0, vits_query_event(e->v, 5, 1, &ei), "the command in flight has run in the engine");
	CHECK_EQ(VITS_E_NOENT, vits_query_event(e->v, 5, 2, &ei), "the next one has not");
	/* Still full: resume makes no progress and drops nothing. */
	vits_resume(e->v);
	CHECK_EQ(start + 0x20, eng_rd(e, GITS_CREADR, 8), "still in flight");
	/* Room again: everything goes out, in order, once. */
	harness_set_phys_capacity(e->h, 0);
	vits_resume(e->v);
	while (vits_work_pending(e->v))
		if (vits_resume(e->v) <= 0)
			break;
	uint32_t p0 = plpi_of(e, 5, 0), p1 = plpi_of(e, 5, 1), p2 = plpi_of(e, 5, 2);
	EXPECT_PHYS(e, base, "full queue: every physical command once, in order",
		    its_mk_mapti(PDEV, 0, p0, 1), its_mk_mapti(PDEV, 1, p1, 1),
		    its_mk_mapti(PDEV, 2, p2, 1), its_mk_sync(1));
	CHECK_EQ(start + 0x80, eng_rd(e, GITS_CREADR, 8), "CREADR reached CWRITER");
	CHECK_EQ(4, eng_count_type(e, VITS_EV_CMD, mark), "each guest command ran once");
	CHECK_EQ(0, vits_work_pending(e->v), "nothing pending");
	eng_free(e);
}

/* ---- a shadow physical ITS: every physical command must be valid ----------------- */

#define SH_DEVS 4
#define SH_EVS 64
struct shadow {
	uint32_t pdev[SH_DEVS];
	bool mapped[SH_DEVS];
	unsigned bits[SH_DEVS];
	uint32_t plpi[SH_DEVS][SH_EVS];       /* 0: event not mapped */
	uint8_t owner[NPLPI];                 /* 1 + device index, 0: free */
	unsigned errors;
	char first[160];
};

static void sh_err(struct shadow *sh, size_t i, const char *what, const struct its_cmd *c)
{
	if (sh->errors++ == 0)
		snprintf(sh->first, sizeof(sh->first), "physical command %zu (%s): %s", i,
			 its_cmd_name((unsigned)its_cmd_get_opcode(c)) ? its_cmd_name((unsigned)its_cmd_get_opcode(c)) : "?",
			 what);
}

static void sh_apply(struct shadow *sh, size_t i, const struct its_cmd *c)
{
	unsigned op = (unsigned)its_cmd_get_opcode(c);
	if (op == ITS_OP_SYNC || op == ITS_OP_INVALL) {
		uint64_t t = op == ITS_OP_SYNC ? its_cmd_get_rdbase(c) : its_cmd_get_icid(c);
		if (t >= 2)
			sh_err(sh, i, "target beyond the physical CPUs", c);
		return;
	}
	uint64_t pd = its_cmd_get_devid(c);
	int d = -1;
	for (int k = 0; k < SH_DEVS; k++)
		if (sh->pdev[k] == pd)
			d = k;
	if (d < 0) {
		sh_err(sh, i, "DeviceID not assigned", c);
		return;
	}
	if (op == ITS_OP_MAPD) {
		if (its_cmd_get_valid(c)) {
			if (sh->mapped[d])
				sh_err(sh, i, "MAPD V=1 on a mapped device", c);
			sh->mapped[d] = true;
			sh->bits[d] = (unsigned)its_cmd_get_size(c) + 1;
		} else {
			if (!sh->mapped[d])
				sh_err(sh, i, "MAPD V=0 on an unmapped device", c);
			for (int e = 0; e < SH_EVS; e++)
				if (sh->plpi[d][e])
					sh_err(sh, i, "MAPD V=0 leaves a mapped event (no DISCARD)", c);
			sh->mapped[d] = false;
		}
		return;
	}
	uint64_t ev = its_cmd_get_eventid(c);
	if (!sh->mapped[d]) {
		sh_err(sh, i, "device not mapped", c);
		return;
	}
	if (ev >= SH_EVS || ev >> sh->bits[d]) {
		sh_err(sh, i, "EventID beyond the physical ITT", c);
		return;
	}
	if (op == ITS_OP_MAPTI) {
		uint64_t pl = its_cmd_get_pintid(c);
		if (sh->plpi[d][ev])
			sh_err(sh, i, "MAPTI onto a mapped event", c);
		else if (pl < 8192 || pl >= 8192 + NPLPI)
			sh_err(sh, i, "pLPI outside the host's range", c);
		else if (sh->owner[pl - 8192])
			sh_err(sh, i, "pLPI already mapped", c);
		else if (its_cmd_get_icid(c) >= 2)
			sh_err(sh, i, "ICID beyond the physical CPUs", c);
		else {
			sh->plpi[d][ev] = (uint32_t)pl;
			sh->owner[pl - 8192] = (uint8_t)(d + 1);
		}
		return;
	}
	if (!sh->plpi[d][ev]) {
		sh_err(sh, i, "event not mapped", c);
		return;
	}
	if (op == ITS_OP_DISCARD) {
		sh->owner[sh->plpi[d][ev] - 8192] = 0;
		sh->plpi[d][ev] = 0;
	} else if (op == ITS_OP_MOVI && its_cmd_get_icid(c) >= 2) {
		sh_err(sh, i, "MOVI ICID beyond the physical CPUs", c);
	} else if (op != ITS_OP_MOVI && op != ITS_OP_INV && op != ITS_OP_CLEAR &&
		   op != ITS_OP_INT) {
		sh_err(sh, i, "unexpected opcode", c);
	}
}

static uint64_t prng = 0x853c49e6748fea9bull;
static uint32_t prnd(uint32_t n)
{
	prng ^= prng << 13;
	prng ^= prng >> 7;
	prng ^= prng << 17;
	return (uint32_t)(prng % n);
}

static void test_shadow_walk(void)
{
	struct eng *e = new_engine(5);       /* 32 physical events per device */
	if (!e)
		return;
	e->record = false;
	struct shadow sh;
	memset(&sh, 0, sizeof(sh));
	sh.pdev[0] = PDEV;
	sh.pdev[1] = 0x106;
	sh.pdev[2] = 0x107;
	sh.pdev[3] = 0xffffffffu;           /* never assigned */
	CHECK_EQ(0, vits_assign_device(e->v, 6, 0x106), "assign 6");
	CHECK_EQ(0, vits_assign_device(e->v, 7, 0x107), "assign 7");
	for (uint32_t i = 8192; i < 8192 + 128; i++)
		eng_prop(e, i, prnd(2) ? LPI_ON : LPI_OFF);
	size_t applied = 0, total = 0, peak_events = 0;
	for (int step = 0; step < 4000; step++) {
		uint32_t d = 5 + prnd(4), ev = prnd(40), icid = prnd(5);   /* device 8 is virtual */
		struct its_cmd c;
		switch (prnd(12)) {
		case 0:
			if (prnd(6) == 0)
				c = its_mk_mapd(d, 2 + prnd(4), eng_itt(d), prnd(5) != 0);
			else
				c = its_mk_mapti(d, ev, 8192 + prnd(128), icid);
			break;
		case 1: case 2: c = its_mk_mapti(d, ev, 8192 + prnd(128), icid); break;
		case 3: c = its_mk_devev(ITS_OP_DISCARD, d, ev); break;
		case 4: c = its_mk_movi(d, ev, icid); break;
		case 5: c = its_mk_devev(ITS_OP_INV, d, ev); break;
		case 6: c = its_mk_invall(icid); break;
		case 7: c = its_mk_sync(prnd(4)); break;
		case 8: c = its_mk_devev(ITS_OP_CLEAR, d, ev); break;
		case 9: c = its_mk_mapc(icid, prnd(4), prnd(4) != 0); break;
		case 10: c = its_mk_movall(prnd(4), prnd(4)); break;
		default:
			if (prnd(2))
				vits_set_vcpu_pcpu(e->v, prnd(4), prnd(2));
			else
				vits_host_plpi(e->h->host, 8192 + prnd(NPLPI));
			c = its_mk_devev(ITS_OP_INT, d, ev);
			break;
		}
		eng_cmd(e, c);
		for (; applied < eng_nphys(e); applied++, total++)
			sh_apply(&sh, applied, eng_phys(e, applied));
		if (e->h->injects.n > 100000)
			harness_reset(e->h), applied = 0;
		size_t live = 0;
		for (uint32_t p = 0; p < NPLPI; p++)
			live += sh.owner[p] != 0;
		if (live > peak_events)
			peak_events = live;
	}
	CHECK(total > 1000, "the walk sent many physical commands (%zu)", total);
	CHECK(peak_events > 20, "the walk mapped many physical events at once (%zu)", peak_events);
	/* The engine's physical view matches the shadow's. */
	unsigned mismatch = 0;
	for (int k = 0; k < 3; k++) {
		for (uint32_t ev = 0; ev < SH_EVS; ev++) {
			struct vits_event_info ei;
			uint32_t want = vits_query_event(e->v, 5 + k, ev, &ei) == 0 ? ei.plpi : 0;
			mismatch += want != sh.plpi[k][ev];
		}
	}
	CHECK_EQ(0, mismatch, "engine pLPIs vs the shadow physical ITS");
	/* Teardown: the physical ITS ends empty. */
	CHECK_EQ(0, vits_reset(e->v), "vits_reset");
	for (; applied < eng_nphys(e); applied++)
		sh_apply(&sh, applied, eng_phys(e, applied));
	unsigned left = 0;
	for (int k = 0; k < SH_DEVS; k++)
		left += sh.mapped[k];
	for (uint32_t p = 0; p < NPLPI; p++)
		left += sh.owner[p] != 0;
	CHECK_EQ(0, left, "vits_reset leaves no physical device or LPI mapped");
	for (int k = 0; k < SH_DEVS; k++) {
		if (sh.mapped[k])
			printf("  after reset: pdev 0x%x still mapped (guest dev %d)\n", sh.pdev[k], 5 + k);
		for (uint32_t ev = 0; ev < SH_EVS; ev++)
			if (sh.plpi[k][ev])
				printf("  after reset: pdev 0x%x event %u still maps pLPI %u\n", sh.pdev[k], ev,
				       sh.plpi[k][ev]);
	}
	size_t owned = 0;
	for (uint32_t p = 8192; p < 8192 + NPLPI; p++)
		owned += vits_host_plpi(e->h->host, p) != VITS_R_NOT_ASSIGNED;
	CHECK_EQ(0, owned, "vits_reset freed every pLPI");
	if (sh.errors)
		printf("shadow: %s\n", sh.first);
	CHECK_EQ(0, sh.errors, "invalid physical commands");
	eng_free(e);
}

/* Memory for an assigned device follows the events it maps, not its ITT size: MAPD
 * of 1024 events holds a 16-pointer ITT directory, not a shadow entry (12 bytes) nor a
 * DISCARD's outbox room (72 bytes) per possible event; the MAPTIs allocate and reserve
 * as they map, and MAPD V=0 behind a one-command physical queue still sends every
 * DISCARD. */
static void test_teardown_room(void)
{
	struct eng *e = new_engine(16);
	if (!e)
		return;
	uint64_t before = eng_stats(e).mem_used;
	EXPECT_OK(e, its_mk_mapd(5, 9, eng_itt(5), 1), "MAPD of 1024 events");
	uint64_t held = eng_stats(e).mem_used - before;
	CHECK(held >= 16u * 8 && held < 1024, "MAPD holds %llu bytes (the directory is 128; a "
	      "flat ITT shadow would be 12288, room for a DISCARD per event 73728)",
	      (unsigned long long)held);
	for (uint32_t ev = 0; ev < NPLPI; ev++)
		EXPECT_OK(e, its_mk_mapti(5, ev * 16, 8192 + ev, ev & 3), "MAPTI");
	harness_phys_drain(e->h);
	harness_set_phys_capacity(e->h, 1);
	size_t nd = 0, nm = 0;
	eng_cmd(e, its_mk_mapd(5, 0, 0, 0));
	for (int round = 0; round < 1000 && vits_work_pending(e->v); round++) {
		size_t n;
		const struct its_cmd *pc = harness_phys_cmds(e->h, &n);
		for (size_t i = 0; i < n; i++) {
			nd += its_cmd_get_opcode(&pc[i]) == ITS_OP_DISCARD;
			nm += its_cmd_get_opcode(&pc[i]) == ITS_OP_MAPD;
		}
		harness_phys_drain(e->h);
		vits_resume(e->v);
	}
	size_t n;
	const struct its_cmd *pc = harness_phys_cmds(e->h, &n);
	for (size_t i = 0; i < n; i++) {
		nd += its_cmd_get_opcode(&pc[i]) == ITS_OP_DISCARD;
		nm += its_cmd_get_opcode(&pc[i]) == ITS_OP_MAPD;
	}
	CHECK_EQ(0, vits_work_pending(e->v), "the unmap completed through a 1-command queue");
	CHECK_EQ(NPLPI, nd, "a DISCARD per mapped event");
	CHECK_EQ(1, nm, "then the physical MAPD V=0");
	CHECK_EQ(e->h->engine_mem.cur, eng_stats(e).mem_used, "accounting matches the allocator");
	eng_free(e);
}

int main(void)
{
	test_teardown_room();
	test_shadow_walk();
	test_phys_queue_full();
	test_forward();
	test_routing_and_itt();
	test_invall_after_mapc();
	test_unassign();
	test_two_instances();
	test_destroy_all();
	return check_summary();
}
