/*
 * engine_kut: the scenarios kvm-unit-tests (arm/gic.c, its-trigger and
 * its-pending-migration) checks on real emulators, through the guest driver:
 * delivery to the right PE; disable + INV stops delivery; re-enable + INVALL delivers
 * the pending LPI; an unmapped device delivers nothing; a late MAPC + INVALL restores
 * delivery.  Same layout as kvm-unit-tests: device 2 event 20 -> LPI 8195 on
 * collection 3 (PE 3), device 7 event 255 -> LPI 8196 on collection 2 (PE 2).
 */
#include "eng.h"

#include <string.h>

/* Exactly `n` new injections since `from`, the last being (vcpu, intid). */
static void expect_lpi_at(int line, struct eng *e, size_t from, size_t n, uint32_t vcpu,
			  uint32_t intid, const char *what)
{
	check_u64(__FILE__, line, from + n, eng_ninj(e), "%s: injections", what);
	if (n && eng_ninj(e) == from + n) {
		check_u64(__FILE__, line, vcpu, eng_inj(e, from + n - 1)->vcpu, "%s: PE", what);
		check_u64(__FILE__, line, intid, eng_inj(e, from + n - 1)->intid, "%s: LPI", what);
	}
}
#define EXPECT_LPI(e, from, vcpu, intid, what) expect_lpi_at(__LINE__, e, from, 1, vcpu, intid, what)
#define EXPECT_NO_LPI(e, from, what) expect_lpi_at(__LINE__, e, from, 0, 0, 0, what)

static struct eng *setup(void)
{
	struct eng_opts o;
	eng_opts_default(&o);
	o.hc.vits.nr_vcpus = 4;
	o.hc.vits.eventid_bits = 16;
	o.hc.vits.cid_bits = 16;
	struct eng *e = eng_new(&o);
	if (!e)
		return NULL;
	eng_prop(e, 8195, LPI_ON);
	eng_prop(e, 8196, LPI_ON);
	struct its_cmd boot[] = {
		its_mk_mapd(2, 7, eng_itt(2), 1),       /* 256 events */
		its_mk_mapd(7, 7, eng_itt(7), 1),
		its_mk_mapc(3, 3, 1),
		its_mk_mapc(2, 2, 1),
		its_mk_invall(3), its_mk_invall(2),
		its_mk_mapti(2, 20, 8195, 3),
		its_mk_mapti(7, 255, 8196, 2),
		its_mk_sync(3), its_mk_sync(2),
	};
	CHECK_EQ(0, eng_cmds(e, boot, sizeof(boot) / sizeof(boot[0])), "kut boot sequence: no errors");
	return e;
}

static void int_cmd(struct eng *e, uint32_t dev, uint32_t ev)
{
	struct its_cmd c[2] = { its_mk_devev(ITS_OP_INT, dev, ev), its_mk_sync(0) };
	harness_submit(e->h, c, 2);
}

static void test_trigger(void)
{
	struct eng *e = setup();
	if (!e)
		return;
	size_t n = eng_ninj(e);
	/* Delivery to the right PE. */
	int_cmd(e, 2, 20);
	EXPECT_LPI(e, n, 3, 8195, "int on PE #3");
	n = eng_ninj(e);
	int_cmd(e, 7, 255);
	EXPECT_LPI(e, n, 2, 8196, "int on PE #2");
	n = eng_ninj(e);
	CHECK_EQ(0, vits_msi(e->v, 2, 20), "MSI dev 2 ev 20");
	EXPECT_LPI(e, n, 3, 8195, "MSI on PE #3");
	CHECK_EQ(1, e->h->inject_per_vcpu[2], "one LPI on PE #2 so far");

	/* Disable 8195 + INV: no LPI. */
	eng_prop(e, 8195, LPI_OFF);
	struct its_cmd inv[2] = { its_mk_devev(ITS_OP_INV, 2, 20), its_mk_sync(3) };
	harness_submit(e->h, inv, 2);
	n = eng_ninj(e);
	int_cmd(e, 2, 20);
	EXPECT_NO_LPI(e, n, "no LPI after disable + INV");
	CHECK_EQ(VITS_R_NONE, vits_msi(e->v, 2, 20), "MSI to the disabled LPI still translates");
	EXPECT_NO_LPI(e, n, "no LPI from the MSI either");

	/* Disable 8196 + INVALL: no LPI. */
	eng_prop(e, 8196, LPI_OFF);
	struct its_cmd ia[2] = { its_mk_invall(2), its_mk_sync(2) };
	harness_submit(e->h, ia, 2);
	int_cmd(e, 7, 255);
	EXPECT_NO_LPI(e, n, "no LPI after disable + INVALL");

	/* Re-enable + INVALL delivers the pending LPIs, each on its PE, once. */
	eng_prop(e, 8196, LPI_ON);
	harness_submit(e->h, ia, 2);
	EXPECT_LPI(e, n, 2, 8196, "re-enable + INVALL delivers 8196 on PE #2");
	n = eng_ninj(e);
	eng_prop(e, 8195, LPI_ON);
	struct its_cmd ia3[2] = { its_mk_invall(3), its_mk_sync(3) };
	harness_submit(e->h, ia3, 2);
	EXPECT_LPI(e, n, 3, 8195, "re-enable + INVALL delivers 8195 on PE #3");
	n = eng_ninj(e);
	harness_submit(e->h, ia3, 2);
	EXPECT_NO_LPI(e, n, "a second INVALL delivers nothing more");

	/* An unmapped device delivers nothing. */
	struct its_cmd unmap[2] = { its_mk_mapd(2, 0, 0, 0), its_mk_sync(3) };
	harness_submit(e->h, unmap, 2);
	int_cmd(e, 2, 20);
	EXPECT_NO_LPI(e, n, "no LPI after device unmap (INT)");
	CHECK_REASON(VITS_R_DEVICE_UNMAPPED, vits_msi(e->v, 2, 20), "MSI after device unmap");
	EXPECT_NO_LPI(e, n, "no LPI after device unmap (MSI)");
	/* Device 7 is unaffected. */
	int_cmd(e, 7, 255);
	EXPECT_LPI(e, n, 2, 8196, "device 7 still delivers");
	eng_free(e);
}

/* MAPTI onto a collection that is mapped only later: nothing until MAPC + INVALL. */
static void test_late_mapc(void)
{
	struct eng *e = setup();
	if (!e)
		return;
	eng_prop(e, 8200, LPI_ON);
	struct its_cmd c[2] = { its_mk_mapti(2, 21, 8200, 1), its_mk_sync(0) };
	CHECK_EQ(0, eng_cmds(e, c, 2), "MAPTI onto unmapped collection 1");
	size_t n = eng_ninj(e);
	int_cmd(e, 2, 21);
	EXPECT_NO_LPI(e, n, "INT on an unmapped collection");
	CHECK_REASON(VITS_R_COLLECTION_UNMAPPED, vits_msi(e->v, 2, 21), "MSI on an unmapped collection");
	EXPECT_NO_LPI(e, n, "MSI on an unmapped collection delivers nothing");
	struct its_cmd late[3] = { its_mk_mapc(1, 1, 1), its_mk_invall(1), its_mk_sync(1) };
	CHECK_EQ(0, eng_cmds(e, late, 3), "late MAPC + INVALL");
	EXPECT_NO_LPI(e, n, "nothing was pending to deliver");
	int_cmd(e, 2, 21);
	EXPECT_LPI(e, n, 1, 8200, "late MAPC + INVALL: INT delivered on PE #1");
	n = eng_ninj(e);
	CHECK_EQ(0, vits_msi(e->v, 2, 21), "MSI after late MAPC");
	EXPECT_LPI(e, n, 1, 8200, "late MAPC + INVALL: MSI delivered on PE #1");

	/* Unmap the collection: nothing; remap it to PE 0 + INVALL: delivery on PE 0. */
	n = eng_ninj(e);
	struct its_cmd um[2] = { its_mk_mapc(3, 0, 0), its_mk_sync(0) };
	harness_submit(e->h, um, 2);
	int_cmd(e, 2, 20);
	CHECK_REASON(VITS_R_COLLECTION_UNMAPPED, vits_msi(e->v, 2, 20), "MSI, collection 3 unmapped");
	EXPECT_NO_LPI(e, n, "collection unmapped: no LPI");
	struct its_cmd rm[3] = { its_mk_mapc(3, 0, 1), its_mk_invall(3), its_mk_sync(0) };
	harness_submit(e->h, rm, 3);
	int_cmd(e, 2, 20);
	EXPECT_LPI(e, n, 0, 8195, "collection 3 remapped to PE #0");
	eng_free(e);
}

/* its-pending-migration: LPIs made pending while disabled on two PEs are all
 * delivered, each on its own PE, once enabled and invalidated. */
static void test_pending(void)
{
	struct eng *e = setup();
	if (!e)
		return;
	struct its_cmd c[4] = { its_mk_mapc(0, 0, 1), its_mk_mapc(1, 1, 1), its_mk_mapd(3, 7, eng_itt(3), 1),
				its_mk_sync(0) };
	eng_cmds(e, c, 4);
	for (uint32_t i = 0; i < 64; i++) {
		eng_prop(e, 8300 + i, LPI_OFF);
		EXPECT_OK(e, its_mk_mapti(3, i, 8300 + i, i & 1), "MAPTI pending-migration event");
	}
	size_t n = eng_ninj(e);
	for (uint32_t i = 0; i < 64; i++)
		CHECK_EQ(0, vits_msi(e->v, 3, i), "MSI %u to a disabled LPI", i);
	EXPECT_NO_LPI(e, n, "disabled: nothing delivered");
	for (uint32_t i = 0; i < 64; i++)
		eng_prop(e, 8300 + i, LPI_ON);
	struct its_cmd ia[3] = { its_mk_invall(0), its_mk_invall(1), its_mk_sync(0) };
	harness_submit(e->h, ia, 3);
	CHECK_EQ(n + 64, eng_ninj(e), "every pending LPI delivered");
	unsigned wrong = 0, seen[64] = { 0 };
	for (size_t k = n; k < eng_ninj(e); k++) {
		const struct harness_inject *in = eng_inj(e, k);
		uint32_t i = in->intid - 8300;
		if (i >= 64 || in->vcpu != (i & 1) || seen[i]++)
			wrong++;
	}
	CHECK_EQ(0, wrong, "each LPI once, on its PE");
	eng_free(e);
}

int main(void)
{
	test_trigger();
	test_late_mapc();
	test_pending();
	return check_summary();
}
