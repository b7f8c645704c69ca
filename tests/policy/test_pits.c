/*
 * test_pits.c: the physical ITS model on its own (replay/harness/pits_model.h),
 * driven through its vits_host_ops as an engine would, without an engine.
 *
 * Checks: queue geometry (capacity, full, wrap, CREADR/CWRITER), processing rate,
 * caching of configuration (a host-table write without INV has no effect),
 * delivery at MSI / INV / INVALL, strict error mode (a finding naming the command
 * and its traced cause, the stall, MSIs dropped while stalled, skip), the host's
 * extra checks (MAPD onto a mapped device, pLPI mapped twice, ITT not allocated or
 * shared, MAPC), the ITT allocator (double free, leak) and lost commands.
 */
#include <string.h>

#include "pits_model.h"
#include "tcheck.h"

struct sink {
	uint32_t plpi[64], pcpu[64];
	uint32_t n;
};

static void deliver(void *ctx, uint32_t plpi, uint32_t pcpu, uint32_t sd, uint32_t se)
{
	struct sink *s = ctx;
	if (s->n < 64) {
		s->plpi[s->n] = plpi;
		s->pcpu[s->n] = pcpu;
	}
	s->n++;
}

static struct pits_model *mk(struct sink *s, uint32_t qbytes)
{
	struct pits_config c;
	pits_config_default(&c);
	c.queue_bytes = qbytes;
	c.deliver = deliver;
	c.ctx = s;
	struct pits_model *m = pits_create(&c);
	if (!m)
		t_broken("pits_create");
	return m;
}

static struct vits_host_ops ops;

static int q(struct pits_model *m, struct its_cmd c)
{
	return ops.phys_cmd(m, &c);
}

/* Trace the command just queued as an engine would (domain 3, guest cmd at off). */
static void trace(struct pits_model *m, struct its_cmd c, uint32_t off)
{
	struct vits_event ev = { .type = VITS_EV_PHYS_CMD, .domain = 3 };
	ev.u.phys.cmd = c;
	ev.u.phys.cause = VITS_CAUSE_GUEST_CMD;
	ev.u.phys.cause_offset = off;
	ev.u.phys.cause_opcode = (uint32_t)its_cmd_get_opcode(&c);
	pits_note_trace(m, &ev);
}

static uint64_t mapd(struct pits_model *m, uint32_t dev, unsigned bits)
{
	uint64_t itt = 0;
	ops.itt_alloc(m, dev, (uint64_t)8 << bits, &itt);
	struct its_cmd c = its_mk_mapd(dev, bits - 1, itt, 1);
	q(m, c);
	trace(m, c, 0);
	return itt;
}

static void test_queue(struct tstate *t)
{
	struct sink s = { 0 };
	struct pits_model *m = mk(&s, 4096);
	T_EQ(t, "queue: capacity of a 4 KiB queue is 127 commands", 127, pits_capacity(m));
	int refused = 0;
	for (unsigned i = 0; i < 128; i++)
		if (q(m, its_mk_sync(0)) == VITS_E_AGAIN)
			refused++;
	T_EQ(t, "queue: the 128th command is refused (full: next slot is CREADR)", 1, refused);
	uint32_t rd, wr;
	pits_queue_regs(m, &rd, &wr);
	T_EQ(t, "queue: CWRITER after 127 commands", 127 * 32, wr);
	T_EQ(t, "queue: processing at a rate: 10 of 127", 10, pits_process(m, 10));
	T_EQ(t, "queue: 117 left", 117, pits_queued(m));
	for (unsigned i = 0; i < 10; i++)
		T_EQ(t, "queue: room for 10 more, across the wrap", 0, q(m, its_mk_sync(1)));
	T_EQ(t, "queue: full again", VITS_E_AGAIN, q(m, its_mk_sync(1)));
	pits_queue_regs(m, &rd, &wr);
	T_EQ(t, "queue: CWRITER wrapped to 9 slots", 9 * 32, wr);
	T_EQ(t, "queue: drain runs everything", 127, pits_drain(m));
	pits_queue_regs(m, &rd, &wr);
	T_TRUE(t, "queue: empty means CREADR == CWRITER", rd == wr && pits_queued(m) == 0);
	const struct pits_stats *st = pits_get_stats(m);
	T_EQ(t, "queue: refused count", 2, st->refused);
	T_EQ(t, "queue: max depth", 127, st->max_depth);
	T_EQ(t, "queue: SYNCs executed", 137, st->by_op[ITS_IDX_SYNC]);
	size_t nf;
	pits_findings(m, &nf);
	T_EQ(t, "queue: no findings", 0, nf);
	pits_destroy(m);
}

static void test_caching_and_delivery(struct tstate *t)
{
	struct sink s = { 0 };
	struct pits_model *m = mk(&s, 0);
	mapd(m, 5, 2);
	q(m, its_mk_mapti(5, 0, 8192, 1));
	q(m, its_mk_mapti(5, 1, 8193, 1));
	pits_drain(m);
	T_EQ(t, "msi: disabled LPI becomes pending", VITS_R_NONE, pits_msi(m, 5, 0));
	T_EQ(t, "msi: nothing delivered while disabled", 0, s.n);
	T_EQ(t, "msi: pending per pLPI", 1, pits_lpi_pending(m, 8192));
	ops.prop_write(m, 8192, 0xa3);
	pits_msi(m, 5, 0);
	T_EQ(t, "cache: host-table write without INV has no effect", 0, s.n);
	q(m, its_mk_devev(ITS_OP_INV, 5, 0));
	T_EQ(t, "cache: still nothing before the INV runs", 0, s.n);
	pits_drain(m);
	T_EQ(t, "cache: INV delivers the pending LPI when processed", 1, s.n);
	T_TRUE(t, "cache: delivered pLPI 8192 to PE 1", s.plpi[0] == 8192 && s.pcpu[0] == 1);
	T_EQ(t, "cache: delivery clears physical pending", 0, pits_lpi_pending(m, 8192));
	pits_msi(m, 5, 0);
	T_EQ(t, "msi: enabled LPI delivered at once", 2, s.n);
	/* INVALL of PE 1 delivers the other one once its byte is enabled. */
	pits_msi(m, 5, 1);
	ops.prop_write(m, 8193, 0xa3);
	q(m, its_mk_invall(1));
	pits_drain(m);
	T_TRUE(t, "invall: delivers pending enabled LPIs of that collection",
	       s.n == 3 && s.plpi[2] == 8193);
	T_EQ(t, "msi: unmapped event dropped", VITS_R_EVENT_UNMAPPED, pits_msi(m, 5, 2));
	/* MOVI moves the pending state with the event. */
	ops.prop_write(m, 8193, 0xa2);
	q(m, its_mk_devev(ITS_OP_INV, 5, 1));
	q(m, its_mk_movi(5, 1, 2));
	pits_drain(m);
	pits_msi(m, 5, 1);
	ops.prop_write(m, 8193, 0xa3);
	q(m, its_mk_invall(2));
	pits_drain(m);
	T_TRUE(t, "movi: delivered to the new PE", s.n == 4 && s.pcpu[3] == 2);
	size_t nf;
	pits_findings(m, &nf);
	T_EQ(t, "delivery: no findings", 0, nf);
	pits_destroy(m);
}

static void test_strict(struct tstate *t)
{
	struct sink s = { 0 };
	struct pits_model *m = mk(&s, 0);
	mapd(m, 7, 1);
	struct its_cmd c1 = its_mk_mapti(7, 0, 8200, 0);
	q(m, c1);
	trace(m, c1, 0x40);
	struct its_cmd bad = its_mk_devev(ITS_OP_INV, 7, 1);   /* event 1 never mapped */
	q(m, bad);
	trace(m, bad, 0x60);
	struct its_cmd after = its_mk_sync(0);
	q(m, after);
	trace(m, after, 0x80);
	T_EQ(t, "strict: stops at the erroneous command (it ran, 3rd)", 3, pits_drain(m));
	T_TRUE(t, "strict: stalled", pits_stalled(m));
	T_EQ(t, "strict: the SYNC behind it waits", 1, pits_queued(m) - 1);
	size_t nf;
	const struct pits_finding *f = pits_findings(m, &nf);
	T_EQ(t, "strict: one finding", 1, nf);
	if (nf) {
		T_EQ(t, "strict: reason", VITS_R_EVENT_UNMAPPED, f[0].reason);
		T_TRUE(t, "strict: names the physical command", f[0].seq == 2 &&
		       its_cmd_get_opcode(&f[0].cmd) == ITS_OP_INV);
		T_TRUE(t, "strict: names the guest command", f[0].have_cause &&
		       f[0].domain == 3 && f[0].cause_offset == 0x60 &&
		       f[0].cause_opcode == ITS_OP_INV);
		char buf[400];
		pits_format_finding(&f[0], buf, sizeof(buf));
		T_TRUE(t, "strict: message mentions both", strstr(buf, "INV dev 0x7 ev 0x1") &&
		       strstr(buf, "EVENT_UNMAPPED") && strstr(buf, "queue offset 0x60"));
		printf("  finding: %s\n", buf);
	}
	ops.prop_write(m, 8200, 0xa3);
	T_EQ(t, "strict: MSIs dropped while stalled", VITS_R_ITS_DISABLED, pits_msi(m, 7, 0));
	pits_skip_stalled(m);
	T_EQ(t, "strict: skip resumes after the failed command", 1, pits_drain(m));
	pits_destroy(m);
}

static void expect_check(struct tstate *t, struct pits_model *m, enum pits_check chk,
			 const char *name)
{
	size_t nf;
	const struct pits_finding *f = pits_findings(m, &nf);
	t_ok(t, nf == 1 && f[0].check == chk, name, "expected one finding '%s', got %zu%s%s",
	     pits_check_name(chk), nf, nf ? ", first: " : "",
	     nf ? pits_check_name((enum pits_check)f[0].check) : "");
	pits_clear_findings(m);
	if (pits_stalled(m))
		pits_skip_stalled(m);
}

static void test_host_checks(struct tstate *t)
{
	struct sink s = { 0 };
	struct pits_model *m = mk(&s, 0);
	uint64_t itt = mapd(m, 1, 2);
	pits_drain(m);
	q(m, its_mk_mapd(1, 1, itt, 1));
	pits_drain(m);
	expect_check(t, m, PITS_CHK_DEV_MAPPED, "host: MAPD V=1 onto a mapped device");
	q(m, its_mk_mapd(2, 1, 0x1234500, 1));
	pits_drain(m);
	expect_check(t, m, PITS_CHK_ITT, "host: MAPD with an ITT the host never allocated");
	q(m, its_mk_mapd(3, 1, itt, 1));
	pits_drain(m);
	expect_check(t, m, PITS_CHK_ITT, "host: MAPD with an ITT another device uses");
	q(m, its_mk_mapti(1, 0, 8300, 0));
	q(m, its_mk_mapti(1, 1, 8300, 0));
	pits_drain(m);
	expect_check(t, m, PITS_CHK_PLPI_MAPPED, "host: one pLPI mapped by two events");
	q(m, its_mk_mapti(1, 2, 8192 + 8192, 0));
	pits_drain(m);
	expect_check(t, m, PITS_CHK_PLPI_RANGE, "host: pINTID beyond the host's LPIs");
	q(m, its_mk_mapti(1, 2, 8301, 9));
	pits_drain(m);
	expect_check(t, m, PITS_CHK_COLLECTION, "host: MAPTI to a collection that is no PE");
	q(m, its_mk_mapc(0, 1, 1));
	pits_drain(m);
	expect_check(t, m, PITS_CHK_MAPC, "host: MAPC of a host collection");
	q(m, its_mk_mapd(9, 0, 0, 0));
	pits_drain(m);
	expect_check(t, m, PITS_CHK_DEV_UNMAPPED, "host: MAPD V=0 of an unmapped device");
	q(m, its_mk_mapd(1, 0, 0, 0));
	pits_drain(m);
	T_EQ(t, "host: no finding for a proper unmap", 0, pits_stalled(m));
	ops.itt_free(m, 1, itt, 32);
	ops.itt_free(m, 1, itt, 32);
	expect_check(t, m, PITS_CHK_ITT_FREE, "alloc: double free");
	uint64_t a = 0;
	ops.itt_alloc(m, 4, 64, &a);
	T_EQ(t, "alloc: a freed block is reused", itt, a);
	T_EQ(t, "alloc: one live block", 1, pits_itt_live(m));
	pits_check_leaks(m);
	expect_check(t, m, PITS_CHK_ITT_LEAK, "alloc: leak reported");
	ops.prop_write(m, 100, 1);
	expect_check(t, m, PITS_CHK_PROP, "host: property write of a non-LPI");
	/* A traced command the queue refused is a lost command. */
	struct sink s2 = { 0 };
	struct pits_model *m2 = mk(&s2, 64);
	q(m2, its_mk_sync(0));
	trace(m2, its_mk_sync(0), 0);
	T_EQ(t, "lost: queue of one slot is full", VITS_E_AGAIN, q(m2, its_mk_sync(1)));
	trace(m2, its_mk_sync(1), 0x20);
	expect_check(t, m2, PITS_CHK_TRACE, "lost: accounted but never queued");
	pits_destroy(m2);
	pits_destroy(m);
}

int main(void)
{
	struct tstate t = { 0 };
	pits_host_ops(&ops);
	test_queue(&t);
	test_caching_and_delivery(&t);
	test_strict(&t);
	test_host_checks(&t);
	return t_finish(&t, "policy_pits");
}
