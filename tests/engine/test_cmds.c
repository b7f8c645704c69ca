/*
 * engine_cmds: every command of docs/semantics.md "Commands": each success effect,
 * each error reason in the documented check order (reason, outcome and Linux E_ITS_*
 * code from the VITS_EV_CMD trace event), and that a failing command changes no
 * guest-visible state.  GICv4 and unknown opcodes.
 *
 * Geometry (eng_opts_default, EventID bits raised to 16): 4 vCPUs, DeviceID 12 bits
 * (flat table of 4096 devices), EventID 16 bits, ICID 4 bits, property table of 16
 * INTID bits.
 */
#include "eng.h"

#include <string.h>

#define E_MOVI_UNMAPPED_INT  0x010107u
#define E_MOVI_UNMAPPED_COLL 0x010109u
#define E_INT_UNMAPPED_INT   0x010307u
#define E_CLEAR_UNMAPPED_INT 0x010507u
#define E_MAPD_DEVICE_OOR    0x010801u
#define E_MAPD_ITTSIZE_OOR   0x010802u
#define E_MAPC_PROCNUM_OOR   0x010902u
#define E_MAPC_COLL_OOR      0x010903u
#define E_MAPTI_UNMAPPED_DEV 0x010a04u
#define E_MAPTI_ID_OOR       0x010a05u
#define E_MAPTI_PHYSID_OOR   0x010a06u
#define E_INV_UNMAPPED_INT   0x010c07u
#define E_INVALL_UNMAPPED_COLL 0x010d09u
#define E_MOVALL_PROCNUM_OOR 0x010e01u
#define E_DISCARD_UNMAPPED_INT 0x010f07u

#define NDEV 4096u
#define BADITT 0x1000ull          /* below guest RAM */

static struct eng *new_engine(unsigned devtab_pages, uint8_t mode)
{
	struct eng_opts o;
	eng_opts_default(&o);
	o.hc.vits.eventid_bits = 16;
	o.hc.vits.error_mode = mode;
	o.devtab_pages = devtab_pages;
	return eng_new(&o);
}

/* Device 1 (16 events): event 0 -> 8192 on ICID 0 (vCPU 0), event 1 -> 8193 on ICID 1
 * (vCPU 1, disabled and pending), event 2 -> 8194 on ICID 5 (never mapped).
 * Collections 0..3 -> vCPUs 0..3. */
static void populate(struct eng *e)
{
	eng_map_colls(e);
	eng_mapd(e, 1, 3);
	eng_mapti(e, 1, 0, 8192, 0, LPI_ON);
	eng_mapti(e, 1, 1, 8193, 1, LPI_OFF);
	eng_mapti(e, 1, 2, 8194, 5, LPI_ON);
	EXPECT_OK(e, its_mk_devev(ITS_OP_INT, 1, 1), "populate: INT pending 8193");
}

static void test_mapd(void)
{
	struct eng *e = new_engine(8, VITS_ERRMODE_SKIP);
	if (!e)
		return;
	populate(e);
	/* Check order: DEVICE_OOR, DEVICE_TABLE, ITT_SIZE_OOR, ITT_OUTSIDE_RAM, NO_MEMORY. */
	EXPECT_FAIL(e, its_mk_mapd(NDEV, 16, BADITT, 1), VITS_R_DEVICE_OOR, E_MAPD_DEVICE_OOR,
		    "MAPD DeviceID 2^12 (all checks failing)");
	EXPECT_FAIL(e, its_mk_mapd(0xffffffffu, 0, eng_itt(0), 1), VITS_R_DEVICE_OOR,
		    E_MAPD_DEVICE_OOR, "MAPD DeviceID 0xffffffff");
	EXPECT_FAIL(e, its_mk_mapd(5, 16, BADITT, 1), VITS_R_ITT_SIZE_OOR, E_MAPD_ITTSIZE_OOR,
		    "MAPD Size 16 (17 bits > 16) with ITT outside RAM");
	EXPECT_FAIL(e, its_mk_mapd(5, 31, eng_itt(5), 1), VITS_R_ITT_SIZE_OOR, E_MAPD_ITTSIZE_OOR,
		    "MAPD Size 31");
	EXPECT_FAIL(e, its_mk_mapd(5, 3, BADITT, 1), VITS_R_ITT_OUTSIDE_RAM, 0, "MAPD ITT below RAM");
	EXPECT_FAIL(e, its_mk_mapd(5, 9, ENG_RAM_END - 0x1000, 1), VITS_R_ITT_OUTSIDE_RAM, 0,
		    "MAPD ITT (8 KiB) straddling the end of RAM");
	EXPECT_FAIL(e, its_mk_mapd(1, 3, BADITT, 1), VITS_R_ITT_OUTSIDE_RAM, 0,
		    "MAPD remap of a mapped device with a bad ITT keeps the old mapping");
	EXPECT_OK(e, its_mk_mapd(5, 9, ENG_RAM_END - 0x2000, 1), "MAPD ITT ending exactly at RAM end");
	EXPECT_OK(e, its_mk_mapd(6, 15, eng_itt(6), 1), "MAPD Size 15 (16 bits = eventid_bits)");

	struct vits_device_info di;
	CHECK_EQ(0, vits_query_device(e->v, 5, &di), "query device 5");
	CHECK_EQ(10, di.event_bits, "device 5 event_bits = Size + 1");
	CHECK_EQ(ENG_RAM_END - 0x2000, di.itt_addr, "device 5 ITT address");
	CHECK_EQ(0, di.assigned, "device 5 not assigned");

	/* Bits outside the MAPD fields are ignored. */
	struct its_cmd c = its_mk_mapd(7, 2, eng_itt(7), 1);
	c.dw[0] |= 0x00000000ffffff00ull;
	c.dw[1] |= 0xffffffffffffffe0ull;
	c.dw[2] |= 0x7ff00000000000ffull;
	c.dw[3] = ~0ull;
	EXPECT_OK(e, c, "MAPD with every non-field bit set");
	CHECK_EQ(0, vits_query_device(e->v, 7, &di), "query device 7");
	CHECK_EQ(3, di.event_bits, "device 7 event_bits");
	CHECK_EQ(eng_itt(7), di.itt_addr, "device 7 ITT address");

	/* MAPD V=1 on a mapped device drops its events (and their pending state). */
	CHECK_EQ(1, eng_lpi(e, 8193).pending, "8193 pending before remap");
	EXPECT_OK(e, its_mk_mapd(1, 5, eng_itt(2), 1), "MAPD remap device 1");
	CHECK_EQ(0, vits_query_device(e->v, 1, &di), "device 1 still mapped");
	CHECK_EQ(6, di.event_bits, "device 1 new size");
	CHECK_EQ(eng_itt(2), di.itt_addr, "device 1 new ITT");
	struct vits_event_info ei;
	for (uint32_t ev = 0; ev < 3; ev++)
		CHECK_EQ(VITS_E_NOENT, vits_query_event(e->v, 1, ev, &ei), "remap dropped event %u", ev);
	CHECK_EQ(0, eng_lpi(e, 8193).pending, "remap cleared the pending state");
	EXPECT_OK(e, its_mk_mapti(1, 40, 8200, 0), "MAPTI on the remapped device (event 40 < 64)");

	/* MAPD V=0: fields other than DeviceID and V are not checked. */
	eng_mapti(e, 1, 1, 8193, 1, LPI_OFF);
	EXPECT_OK(e, its_mk_devev(ITS_OP_INT, 1, 1), "INT 8193 pending");
	EXPECT_FAIL(e, its_mk_mapd(NDEV, 0, 0, 0), VITS_R_DEVICE_OOR, E_MAPD_DEVICE_OOR,
		    "MAPD V=0 DeviceID 2^12");
	EXPECT_OK(e, its_mk_mapd(1, 31, BADITT, 0), "MAPD V=0 with bad Size and ITT");
	CHECK_EQ(VITS_E_NOENT, vits_query_device(e->v, 1, &di), "device 1 unmapped");
	CHECK_EQ(VITS_E_NOENT, vits_query_event(e->v, 1, 40, &ei), "event 40 gone");
	CHECK_EQ(0, eng_lpi(e, 8193).pending, "MAPD V=0 cleared pending state");
	EXPECT_OK(e, its_mk_mapd(1, 0, 0, 0), "MAPD V=0 of an unmapped device is no error");
	EXPECT_OK(e, its_mk_mapd(4095, 0, 0, 0), "MAPD V=0 of the last DeviceID");
	eng_free(e);

	/* A flat table of one 4 KiB page holds DeviceIDs 0..511. */
	e = new_engine(1, VITS_ERRMODE_SKIP);
	if (!e)
		return;
	populate(e);
	EXPECT_OK(e, its_mk_mapd(511, 0, eng_itt(511), 1), "MAPD last DeviceID of the table");
	EXPECT_FAIL(e, its_mk_mapd(512, 16, BADITT, 1), VITS_R_DEVICE_TABLE, E_MAPD_DEVICE_OOR,
		    "MAPD DeviceID beyond the flat table (with later checks failing too)");
	EXPECT_FAIL(e, its_mk_mapd(512, 0, 0, 0), VITS_R_DEVICE_TABLE, E_MAPD_DEVICE_OOR,
		    "MAPD V=0 DeviceID beyond the flat table");
	EXPECT_FAIL(e, its_mk_mapti(512, 0, 8300, 0), VITS_R_DEVICE_UNMAPPED, E_MAPTI_UNMAPPED_DEV,
		    "MAPTI DeviceID beyond the table is unmapped");
	/* BASER0 not valid. */
	harness_enable(e->h, false);
	eng_wr(e, GITS_BASERn(0), 8, 0);
	harness_enable(e->h, true);
	EXPECT_FAIL(e, its_mk_mapd(3, 0, eng_itt(3), 1), VITS_R_DEVICE_TABLE, E_MAPD_DEVICE_OOR,
		    "MAPD with BASER0.Valid = 0");
	EXPECT_FAIL(e, its_mk_mapd(1, 0, 0, 0), VITS_R_DEVICE_TABLE, E_MAPD_DEVICE_OOR,
		    "MAPD V=0 with BASER0.Valid = 0");
	EXPECT_OK(e, its_mk_devev(ITS_OP_INV, 1, 0), "a mapped device keeps working without BASER0");
	eng_free(e);
}

/* NO_MEMORY is the last MAPD check; a refused remap keeps the old mapping. */
static void test_mapd_no_memory(void)
{
	struct eng *e = new_engine(8, VITS_ERRMODE_SKIP);
	if (!e)
		return;
	uint64_t base = eng_stats(e).mem_used;
	eng_free(e);
	struct eng_opts o;
	eng_opts_default(&o);
	o.hc.vits.eventid_bits = 16;
	o.hc.vits.mem_cap = (uint32_t)base + 4096;
	e = eng_new(&o);
	if (!e)
		return;
	populate(e);
	EXPECT_FAIL(e, its_mk_mapd(5, 15, eng_itt(5), 1), VITS_R_NO_MEMORY, 0,
		    "MAPD Size 15 over the memory cap");
	EXPECT_FAIL(e, its_mk_mapd(1, 15, eng_itt(1), 1), VITS_R_NO_MEMORY, 0,
		    "MAPD remap over the cap keeps the old mapping");
	struct vits_event_info ei;
	CHECK_EQ(0, vits_query_event(e->v, 1, 0, &ei), "device 1 event 0 still mapped");
	CHECK_EQ(1, eng_lpi(e, 8193).pending, "8193 still pending");
	EXPECT_FAIL(e, its_mk_mapd(5, 16, eng_itt(5), 1), VITS_R_ITT_SIZE_OOR, E_MAPD_ITTSIZE_OOR,
		    "ITT_SIZE_OOR comes before NO_MEMORY");
	EXPECT_FAIL(e, its_mk_mapd(5, 15, BADITT, 1), VITS_R_ITT_OUTSIDE_RAM, 0,
		    "ITT_OUTSIDE_RAM comes before NO_MEMORY");
	struct vits_stats s = eng_stats(e);
	CHECK(s.mem_used <= o.hc.vits.mem_cap, "mem_used within the cap");
	CHECK(s.mem_peak <= o.hc.vits.mem_cap, "mem_peak within the cap");
	eng_free(e);
}

static void test_mapc(void)
{
	struct eng *e = new_engine(8, VITS_ERRMODE_SKIP);
	if (!e)
		return;
	populate(e);
	EXPECT_FAIL(e, its_mk_mapc(16, 4, 1), VITS_R_COLLECTION_OOR, E_MAPC_COLL_OOR,
		    "MAPC ICID 16 (cid_bits 4) and RDbase 4");
	EXPECT_FAIL(e, its_mk_mapc(0xffff, 0, 1), VITS_R_COLLECTION_OOR, E_MAPC_COLL_OOR, "MAPC ICID 0xffff");
	EXPECT_FAIL(e, its_mk_mapc(16, 0, 0), VITS_R_COLLECTION_OOR, E_MAPC_COLL_OOR, "MAPC V=0 ICID 16");
	EXPECT_FAIL(e, its_mk_mapc(9, 4, 1), VITS_R_PROCNUM_OOR, E_MAPC_PROCNUM_OOR, "MAPC RDbase 4");
	EXPECT_FAIL(e, its_mk_mapc(9, (1ull << 36) - 1, 1), VITS_R_PROCNUM_OOR, E_MAPC_PROCNUM_OOR,
		    "MAPC RDbase 2^36-1");
	EXPECT_FAIL(e, its_mk_mapc(0, 0xffffffffull, 1), VITS_R_PROCNUM_OOR, E_MAPC_PROCNUM_OOR,
		    "remap ICID 0 to RDbase 0xffffffff keeps the old target");

	uint32_t vcpu = 99;
	EXPECT_OK(e, its_mk_mapc(15, 3, 1), "MAPC ICID 15 (last) -> 3");
	CHECK_EQ(0, vits_query_collection(e->v, 15, &vcpu), "query ICID 15");
	CHECK_EQ(3, vcpu, "ICID 15 target");
	EXPECT_OK(e, its_mk_mapc(15, 12345, 0), "MAPC V=0 with RDbase out of range (not checked)");
	CHECK_EQ(VITS_E_NOENT, vits_query_collection(e->v, 15, &vcpu), "ICID 15 unmapped");
	EXPECT_OK(e, its_mk_mapc(15, 0, 0), "MAPC V=0 of an unmapped collection");

	struct its_cmd c = its_mk_mapc(14, 2, 1);
	c.dw[0] |= 0xffffffffffffff00ull;
	c.dw[1] = ~0ull;
	c.dw[2] |= 0x7ff0000000000000ull;
	c.dw[3] = ~0ull;
	EXPECT_OK(e, c, "MAPC with every non-field bit set");
	CHECK_EQ(0, vits_query_collection(e->v, 14, &vcpu), "query ICID 14");
	CHECK_EQ(2, vcpu, "ICID 14 target");

	/* A remap leaves pending LPIs where they are pending. */
	struct vits_lpi_info li = eng_lpi(e, 8193);
	CHECK_EQ(1, li.pending, "8193 pending");
	CHECK_EQ(1, li.pending_vcpu, "8193 pending on vCPU 1");
	EXPECT_OK(e, its_mk_mapc(1, 3, 1), "MAPC remap ICID 1 -> vCPU 3");
	li = eng_lpi(e, 8193);
	CHECK_EQ(1, li.pending, "8193 still pending after remap");
	CHECK_EQ(1, li.pending_vcpu, "8193 still pending on vCPU 1");
	/* Unmapping the collection keeps it pending too. */
	EXPECT_OK(e, its_mk_mapc(1, 0, 0), "MAPC unmap ICID 1");
	CHECK_EQ(1, eng_lpi(e, 8193).pending, "8193 still pending after unmap");
	eng_free(e);
}

/* MAPTI and MAPI: DEVICE_OOR, DEVICE_UNMAPPED, EVENT_OOR, INTID_OOR, COLLECTION_OOR,
 * EVENT_MAPPED. */
static void test_mapti(void)
{
	struct eng *e = new_engine(8, VITS_ERRMODE_SKIP);
	if (!e)
		return;
	populate(e);
	EXPECT_FAIL(e, its_mk_mapti(NDEV, 99999, 5, 16), VITS_R_DEVICE_OOR, E_MAPTI_UNMAPPED_DEV,
		    "MAPTI DeviceID 2^12 (all checks failing)");
	EXPECT_FAIL(e, its_mk_mapti(9, 99999, 5, 16), VITS_R_DEVICE_UNMAPPED, E_MAPTI_UNMAPPED_DEV,
		    "MAPTI unmapped device");
	EXPECT_FAIL(e, its_mk_mapti(1, 16, 5, 16), VITS_R_EVENT_OOR, E_MAPTI_ID_OOR,
		    "MAPTI EventID 16 on a 16-event device");
	EXPECT_FAIL(e, its_mk_mapti(1, 0xffffffffu, 8300, 0), VITS_R_EVENT_OOR, E_MAPTI_ID_OOR,
		    "MAPTI EventID 0xffffffff");
	EXPECT_FAIL(e, its_mk_mapti(1, 0, 8191, 16), VITS_R_INTID_OOR, E_MAPTI_PHYSID_OOR,
		    "MAPTI pINTID 8191 on a mapped event with a bad ICID");
	EXPECT_FAIL(e, its_mk_mapti(1, 5, 65536, 0), VITS_R_INTID_OOR, E_MAPTI_PHYSID_OOR,
		    "MAPTI pINTID 2^16 (property table of 16 bits)");
	EXPECT_FAIL(e, its_mk_mapti(1, 5, 0xffffffffu, 0), VITS_R_INTID_OOR, E_MAPTI_PHYSID_OOR,
		    "MAPTI pINTID 0xffffffff");
	EXPECT_FAIL(e, its_mk_mapti(1, 5, 0, 0), VITS_R_INTID_OOR, E_MAPTI_PHYSID_OOR, "MAPTI pINTID 0");
	/* E_ITS has no MAPTI code for a bad ICID; KVM reports E_ITS_MAPC_COLLECTION_OOR. */
	EXPECT_FAIL(e, its_mk_mapti(1, 0, 8300, 16), VITS_R_COLLECTION_OOR, E_MAPC_COLL_OOR,
		    "MAPTI ICID 16 on a mapped event");
	EXPECT_FAIL(e, its_mk_mapti(1, 0, 8300, 3), VITS_R_EVENT_MAPPED, 0, "MAPTI onto a mapped event");

	struct vits_event_info ei;
	eng_prop(e, 65535, LPI_ON);
	EXPECT_OK(e, its_mk_mapti(1, 15, 65535, 15), "MAPTI last event, last INTID, last ICID (unmapped)");
	CHECK_EQ(0, vits_query_event(e->v, 1, 15, &ei), "query event 15");
	CHECK_EQ(65535, ei.intid, "event 15 INTID");
	CHECK_EQ(15, ei.icid, "event 15 ICID");
	CHECK_EQ(0, ei.plpi, "event 15 is virtual");
	CHECK_EQ(LPI_ON, eng_lpi(e, 65535).cfg, "MAPTI read the property byte");
	CHECK_EQ(0, eng_lpi(e, 65535).pending, "MAPTI makes nothing pending");
	eng_prop(e, 8195, 0xfc);
	EXPECT_OK(e, its_mk_mapti(1, 3, 8195, 0), "MAPTI 8195");
	CHECK_EQ(0xfc, eng_lpi(e, 8195).cfg, "MAPTI read the byte (0xfc)");

	/* MAPI: pINTID = EventID. */
	eng_mapd(e, 2, 13);            /* 16384 events */
	EXPECT_FAIL(e, its_mk_mapi(NDEV, 0, 16), VITS_R_DEVICE_OOR, E_MAPTI_UNMAPPED_DEV, "MAPI DeviceID 2^12");
	EXPECT_FAIL(e, its_mk_mapi(3, 0, 16), VITS_R_DEVICE_UNMAPPED, E_MAPTI_UNMAPPED_DEV, "MAPI unmapped device");
	EXPECT_FAIL(e, its_mk_mapi(2, 16384, 16), VITS_R_EVENT_OOR, E_MAPTI_ID_OOR, "MAPI EventID 16384");
	EXPECT_FAIL(e, its_mk_mapi(2, 8191, 16), VITS_R_INTID_OOR, E_MAPTI_PHYSID_OOR,
		    "MAPI EventID 8191 (not an LPI)");
	EXPECT_FAIL(e, its_mk_mapi(2, 8192, 16), VITS_R_COLLECTION_OOR, E_MAPC_COLL_OOR, "MAPI ICID 16");
	eng_prop(e, 8192 + 100, LPI_ON);
	EXPECT_OK(e, its_mk_mapi(2, 8292, 2), "MAPI EventID 8292");
	CHECK_EQ(0, vits_query_event(e->v, 2, 8292, &ei), "query MAPI event");
	CHECK_EQ(8292, ei.intid, "MAPI INTID = EventID");
	CHECK_EQ(2, ei.icid, "MAPI ICID");
	CHECK_EQ(LPI_ON, eng_lpi(e, 8292).cfg, "MAPI read the byte");
	EXPECT_FAIL(e, its_mk_mapi(2, 8292, 1), VITS_R_EVENT_MAPPED, 0, "MAPI onto a mapped event");
	eng_free(e);

	/* Without a property table the limit is intid_bits; with a smaller table, the table's. */
	struct eng_opts o;
	eng_opts_default(&o);
	o.prop_id_bits = 14;
	e = eng_new(&o);
	if (!e)
		return;
	eng_mapd(e, 1, 3);
	EXPECT_OK(e, its_mk_mapc(0, 0, 1), "MAPC 0");
	eng_prop(e, 16383, LPI_ON);
	EXPECT_OK(e, its_mk_mapti(1, 0, 16383, 0), "MAPTI 16383 with a 14-bit table");
	CHECK_EQ(LPI_ON, eng_lpi(e, 16383).cfg, "16383 read enabled");
	EXPECT_FAIL(e, its_mk_mapti(1, 1, 16384, 0), VITS_R_INTID_OOR, E_MAPTI_PHYSID_OOR,
		    "MAPTI 16384 with a 14-bit table");
	CHECK_EQ(0, vits_set_prop_table(e->v, 0, 0), "forget the property table");
	/* "with no property table set, nothing is read and the byte is 0" (semantics.md, LPIs). */
	EXPECT_OK(e, its_mk_devev(ITS_OP_INV, 1, 0), "INV with no property table");
	CHECK_EQ(0, eng_lpi(e, 16383).cfg, "INV with no property table: the byte is 0");
	EXPECT_OK(e, its_mk_mapti(1, 1, 65535, 0), "MAPTI 65535 without a table (intid_bits 16)");
	CHECK_EQ(0, eng_lpi(e, 65535).cfg, "no table: cfg byte 0");
	EXPECT_FAIL(e, its_mk_mapti(1, 2, 65536, 0), VITS_R_INTID_OOR, E_MAPTI_PHYSID_OOR,
		    "MAPTI 65536 without a table");
	/* id_bits above intid_bits are clamped to it. */
	CHECK_EQ(0, vits_set_prop_table(e->v, ENG_PROP_GPA, 24), "property table of 24 bits");
	EXPECT_FAIL(e, its_mk_mapti(1, 2, 65536, 0), VITS_R_INTID_OOR, E_MAPTI_PHYSID_OOR,
		    "MAPTI 65536 with a 24-bit table clamped to 16");
	EXPECT_OK(e, its_mk_mapti(1, 2, 65534, 0), "MAPTI 65534 with the clamped table");
	eng_free(e);
}

/* The (DeviceID, EventID) commands: DEVICE_OOR, DEVICE_UNMAPPED, EVENT_OOR,
 * EVENT_UNMAPPED and, for INT/CLEAR/INV, COLLECTION_UNMAPPED. */
static void devev_checks(struct eng *e, unsigned op, uint32_t code, bool coll)
{
	const char *n = its_cmd_name(op);
	char what[96];
	snprintf(what, sizeof(what), "%s DeviceID 2^12", n);
	EXPECT_FAIL(e, its_mk_devev(op, NDEV, 0xffffffffu), VITS_R_DEVICE_OOR, code, what);
	snprintf(what, sizeof(what), "%s DeviceID 0xffffffff", n);
	EXPECT_FAIL(e, its_mk_devev(op, 0xffffffffu, 0), VITS_R_DEVICE_OOR, code, what);
	snprintf(what, sizeof(what), "%s unmapped device", n);
	EXPECT_FAIL(e, its_mk_devev(op, 9, 0xffffffffu), VITS_R_DEVICE_UNMAPPED, code, what);
	snprintf(what, sizeof(what), "%s EventID 16", n);
	EXPECT_FAIL(e, its_mk_devev(op, 1, 16), VITS_R_EVENT_OOR, code, what);
	snprintf(what, sizeof(what), "%s EventID 0xffffffff", n);
	EXPECT_FAIL(e, its_mk_devev(op, 1, 0xffffffffu), VITS_R_EVENT_OOR, code, what);
	snprintf(what, sizeof(what), "%s unmapped event", n);
	EXPECT_FAIL(e, its_mk_devev(op, 1, 7), VITS_R_EVENT_UNMAPPED, code, what);
	snprintf(what, sizeof(what), "%s event on an unmapped collection", n);
	if (coll)
		EXPECT_FAIL(e, its_mk_devev(op, 1, 2), VITS_R_COLLECTION_UNMAPPED, code, what);
}

static void test_int_clear_inv_discard(void)
{
	struct eng *e = new_engine(8, VITS_ERRMODE_SKIP);
	if (!e)
		return;
	populate(e);
	devev_checks(e, ITS_OP_INT, E_INT_UNMAPPED_INT, true);
	devev_checks(e, ITS_OP_CLEAR, E_CLEAR_UNMAPPED_INT, true);
	devev_checks(e, ITS_OP_INV, E_INV_UNMAPPED_INT, true);
	devev_checks(e, ITS_OP_DISCARD, E_DISCARD_UNMAPPED_INT, false);

	/* INT: delivered at once when enabled, to the collection's vCPU. */
	size_t n0 = eng_ninj(e);
	EXPECT_OK(e, its_mk_devev(ITS_OP_INT, 1, 0), "INT enabled 8192");
	CHECK_EQ(n0 + 1, eng_ninj(e), "INT delivered");
	if (eng_ninj(e) == n0 + 1) {
		CHECK_EQ(0, eng_inj(e, n0)->vcpu, "INT to vCPU 0");
		CHECK_EQ(8192, eng_inj(e, n0)->intid, "INT INTID");
	}
	CHECK_EQ(0, eng_lpi(e, 8192).pending, "delivered: not pending in the engine");
	/* INT on a disabled LPI: pending on the collection's vCPU, not delivered. */
	EXPECT_OK(e, its_mk_devev(ITS_OP_INT, 1, 1), "INT disabled 8193 again");
	CHECK_EQ(n0 + 1, eng_ninj(e), "disabled LPI not delivered");
	CHECK_EQ(1, eng_lpi(e, 8193).pending, "8193 pending");
	CHECK_EQ(1, eng_lpi(e, 8193).pending_vcpu, "8193 pending on vCPU 1");

	/* CLEAR: pending cleared; a later enable + INV delivers nothing. */
	EXPECT_OK(e, its_mk_devev(ITS_OP_CLEAR, 1, 1), "CLEAR 8193");
	CHECK_EQ(0, eng_lpi(e, 8193).pending, "CLEAR cleared");
	eng_prop(e, 8193, LPI_ON);
	EXPECT_OK(e, its_mk_devev(ITS_OP_INV, 1, 1), "INV 8193 after CLEAR");
	CHECK_EQ(LPI_ON, eng_lpi(e, 8193).cfg, "INV re-read the byte");
	CHECK_EQ(n0 + 1, eng_ninj(e), "nothing delivered after CLEAR");
	EXPECT_OK(e, its_mk_devev(ITS_OP_CLEAR, 1, 1), "CLEAR of a non-pending LPI");

	/* INV: disable, INT (pending), enable + INV delivers once, to the pending vCPU. */
	eng_prop(e, 8193, LPI_OFF);
	EXPECT_OK(e, its_mk_devev(ITS_OP_INV, 1, 1), "INV disables 8193");
	CHECK_EQ(LPI_OFF, eng_lpi(e, 8193).cfg, "INV read the disabled byte");
	EXPECT_OK(e, its_mk_devev(ITS_OP_INT, 1, 1), "INT 8193");
	EXPECT_OK(e, its_mk_devev(ITS_OP_INT, 1, 1), "INT 8193 twice");
	CHECK_EQ(n0 + 1, eng_ninj(e), "disabled: nothing delivered");
	eng_prop(e, 8193, LPI_ON);
	CHECK_EQ(LPI_OFF, eng_lpi(e, 8193).cfg, "a property write alone changes nothing");
	EXPECT_OK(e, its_mk_devev(ITS_OP_INV, 1, 1), "INV enables 8193");
	CHECK_EQ(n0 + 2, eng_ninj(e), "INV delivered the pending LPI once");
	if (eng_ninj(e) == n0 + 2) {
		CHECK_EQ(1, eng_inj(e, n0 + 1)->vcpu, "to vCPU 1");
		CHECK_EQ(8193, eng_inj(e, n0 + 1)->intid, "INTID 8193");
	}
	CHECK_EQ(0, eng_lpi(e, 8193).pending, "no longer pending");

	/* DISCARD: unmaps the event and clears pending; the collection need not be mapped. */
	eng_prop(e, 8193, LPI_OFF);
	EXPECT_OK(e, its_mk_devev(ITS_OP_INV, 1, 1), "INV disables 8193");
	EXPECT_OK(e, its_mk_devev(ITS_OP_INT, 1, 1), "INT 8193");
	EXPECT_OK(e, its_mk_devev(ITS_OP_DISCARD, 1, 1), "DISCARD (1,1)");
	struct vits_event_info ei;
	CHECK_EQ(VITS_E_NOENT, vits_query_event(e->v, 1, 1, &ei), "DISCARD unmapped the event");
	CHECK_EQ(0, eng_lpi(e, 8193).pending, "DISCARD cleared pending");
	EXPECT_OK(e, its_mk_devev(ITS_OP_DISCARD, 1, 2), "DISCARD on an unmapped collection");
	EXPECT_FAIL(e, its_mk_devev(ITS_OP_DISCARD, 1, 1), VITS_R_EVENT_UNMAPPED, E_DISCARD_UNMAPPED_INT,
		    "DISCARD twice");
	EXPECT_OK(e, its_mk_mapti(1, 1, 8193, 1), "event reusable after DISCARD");
	eng_free(e);
}

/* vits_foreach_pending_lpi: every pending LPI once, in INTID order, at the edges of
 * the INTID space too; and vits_reset clears the state of every LPI the guest used
 * (it clears only the window used, so the window must cover the edges). */
struct pending_seen {
	uint32_t intid[8], vcpu[8];
	unsigned n, stop_at;
};

static int pending_fn(void *arg, uint32_t intid, const struct vits_lpi_info *l)
{
	struct pending_seen *s = arg;
	if (s->n < 8) {
		s->intid[s->n] = intid;
		s->vcpu[s->n] = l->pending ? l->pending_vcpu : 0xffffffffu;
	}
	return ++s->n == s->stop_at ? 7 : 0;
}

static void test_pending_iterator(void)
{
	struct eng *e = new_engine(8, VITS_ERRMODE_SKIP);
	if (!e)
		return;
	struct pending_seen s = { .n = 0 };
	CHECK_EQ(0, vits_foreach_pending_lpi(e->v, pending_fn, &s), "empty walk");
	CHECK_EQ(0, s.n, "nothing pending after create");
	populate(e);                    /* 8193 pending on vCPU 1 */
	eng_mapti(e, 1, 3, 65535, 2, LPI_OFF);
	eng_mapti(e, 1, 4, 8200, 3, LPI_OFF);
	eng_mapti(e, 1, 5, 9000, 0, LPI_OFF);   /* mapped, never pending */
	EXPECT_OK(e, its_mk_devev(ITS_OP_INT, 1, 3), "INT 65535");
	EXPECT_OK(e, its_mk_devev(ITS_OP_INT, 1, 4), "INT 8200");
	memset(&s, 0, sizeof(s));
	CHECK_EQ(0, vits_foreach_pending_lpi(e->v, pending_fn, &s), "walk");
	CHECK_EQ(3, s.n, "three pending LPIs");
	const uint32_t want[3] = { 8193, 8200, 65535 }, wvcpu[3] = { 1, 3, 2 };
	for (unsigned i = 0; i < 3 && i < s.n; i++) {
		CHECK_EQ(want[i], s.intid[i], "pending #%u in INTID order", i);
		CHECK_EQ(wvcpu[i], s.vcpu[i], "pending #%u vCPU", i);
	}
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	CHECK_EQ(7, vits_foreach_pending_lpi(e->v, pending_fn, &s), "fn's value stops the walk");
	CHECK_EQ(2, s.n, "stopped after the second");
	CHECK_EQ(VITS_E_INVAL, vits_foreach_pending_lpi(e->v, NULL, NULL), "no fn");

	/* Delivered or cleared: no longer walked. */
	EXPECT_OK(e, its_mk_devev(ITS_OP_CLEAR, 1, 4), "CLEAR 8200");
	memset(&s, 0, sizeof(s));
	vits_foreach_pending_lpi(e->v, pending_fn, &s);
	CHECK_EQ(2, s.n, "CLEAR: two left");

	/* Reset: no state left at either edge of the window. */
	CHECK_EQ(0, vits_reset(e->v), "vits_reset");
	memset(&s, 0, sizeof(s));
	vits_foreach_pending_lpi(e->v, pending_fn, &s);
	CHECK_EQ(0, s.n, "nothing pending after reset");
	const uint32_t used[5] = { 8192, 8193, 8200, 9000, 65535 };
	for (unsigned i = 0; i < 5; i++) {
		struct vits_lpi_info li = eng_lpi(e, used[i]);
		CHECK_EQ(0, li.cfg | li.pending | li.pending_vcpu, "LPI %u cleared by reset",
			 used[i]);
	}
	eng_free(e);
}

static void test_movi(void)
{
	struct eng *e = new_engine(8, VITS_ERRMODE_SKIP);
	if (!e)
		return;
	populate(e);
	EXPECT_FAIL(e, its_mk_movi(NDEV, 99, 16), VITS_R_DEVICE_OOR, E_MOVI_UNMAPPED_INT, "MOVI DeviceID 2^12");
	EXPECT_FAIL(e, its_mk_movi(9, 99, 16), VITS_R_DEVICE_UNMAPPED, E_MOVI_UNMAPPED_INT,
		    "MOVI unmapped device");
	EXPECT_FAIL(e, its_mk_movi(1, 16, 16), VITS_R_EVENT_OOR, E_MOVI_UNMAPPED_INT, "MOVI EventID 16");
	EXPECT_FAIL(e, its_mk_movi(1, 7, 16), VITS_R_EVENT_UNMAPPED, E_MOVI_UNMAPPED_INT,
		    "MOVI unmapped event");
	EXPECT_FAIL(e, its_mk_movi(1, 0, 16), VITS_R_COLLECTION_OOR, E_MOVI_UNMAPPED_COLL, "MOVI ICID 16");
	EXPECT_FAIL(e, its_mk_movi(1, 0, 0xffff), VITS_R_COLLECTION_OOR, E_MOVI_UNMAPPED_COLL,
		    "MOVI ICID 0xffff");
	EXPECT_FAIL(e, its_mk_movi(1, 0, 9), VITS_R_COLLECTION_UNMAPPED, E_MOVI_UNMAPPED_COLL,
		    "MOVI to an unmapped collection");

	/* The pending state follows the event. */
	struct vits_event_info ei;
	EXPECT_OK(e, its_mk_movi(1, 1, 3), "MOVI pending 8193 to ICID 3");
	CHECK_EQ(0, vits_query_event(e->v, 1, 1, &ei), "query (1,1)");
	CHECK_EQ(3, ei.icid, "MOVI changed the ICID");
	CHECK_EQ(1, eng_lpi(e, 8193).pending, "still pending");
	CHECK_EQ(3, eng_lpi(e, 8193).pending_vcpu, "pending moved to vCPU 3");
	size_t n0 = eng_ninj(e);
	eng_prop(e, 8193, LPI_ON);
	EXPECT_OK(e, its_mk_devev(ITS_OP_INV, 1, 1), "INV 8193");
	CHECK_EQ(n0 + 1, eng_ninj(e), "delivered after enable");
	if (eng_ninj(e) == n0 + 1)
		CHECK_EQ(3, eng_inj(e, n0)->vcpu, "delivered on the new vCPU");
	/* An event on an unmapped collection can be moved to a mapped one. */
	EXPECT_OK(e, its_mk_movi(1, 2, 2), "MOVI from unmapped ICID 5 to ICID 2");
	EXPECT_OK(e, its_mk_devev(ITS_OP_INT, 1, 2), "INT (1,2) now routed");
	CHECK_EQ(n0 + 2, eng_ninj(e), "INT after MOVI delivered");
	if (eng_ninj(e) == n0 + 2)
		CHECK_EQ(2, eng_inj(e, n0 + 1)->vcpu, "on vCPU 2");
	/* MOVI of a non-pending event leaves no pending state. */
	EXPECT_OK(e, its_mk_movi(1, 0, 1), "MOVI (1,0) to ICID 1");
	CHECK_EQ(0, eng_lpi(e, 8192).pending, "8192 not pending");
	eng_free(e);
}

static void test_invall(void)
{
	struct eng *e = new_engine(8, VITS_ERRMODE_SKIP);
	if (!e)
		return;
	populate(e);
	EXPECT_FAIL(e, its_mk_invall(16), VITS_R_COLLECTION_OOR, E_INVALL_UNMAPPED_COLL, "INVALL ICID 16");
	EXPECT_FAIL(e, its_mk_invall(0xffff), VITS_R_COLLECTION_OOR, E_INVALL_UNMAPPED_COLL,
		    "INVALL ICID 0xffff");
	EXPECT_FAIL(e, its_mk_invall(5), VITS_R_COLLECTION_UNMAPPED, E_INVALL_UNMAPPED_COLL,
		    "INVALL unmapped collection");

	/* Device 3: events 0..3 -> 8300..8303, ICIDs 1, 1, 2, 1; 8300 and 8302 pending. */
	eng_mapd(e, 3, 3);
	static const uint32_t icid[4] = { 1, 1, 2, 1 };
	for (uint32_t ev = 0; ev < 4; ev++)
		eng_mapti(e, 3, ev, 8300 + ev, icid[ev], LPI_OFF);
	EXPECT_OK(e, its_mk_devev(ITS_OP_INT, 3, 0), "INT 8300");
	EXPECT_OK(e, its_mk_devev(ITS_OP_INT, 3, 2), "INT 8302");
	for (uint32_t ev = 0; ev < 4; ev++)
		eng_prop(e, 8300 + ev, LPI_ON);
	eng_prop(e, 8193, 0xb3);
	size_t n0 = eng_ninj(e);
	EXPECT_OK(e, its_mk_invall(1), "INVALL ICID 1");
	CHECK_EQ(LPI_ON, eng_lpi(e, 8300).cfg, "8300 re-read");
	CHECK_EQ(LPI_ON, eng_lpi(e, 8301).cfg, "8301 re-read");
	CHECK_EQ(LPI_OFF, eng_lpi(e, 8302).cfg, "8302 (ICID 2) not re-read");
	CHECK_EQ(LPI_ON, eng_lpi(e, 8303).cfg, "8303 re-read");
	CHECK_EQ(0xb3, eng_lpi(e, 8193).cfg, "8193 (device 1, ICID 1) re-read");
	/* Pending and now enabled in ICID 1: 8300 and 8193 (pending since populate). */
	CHECK_EQ(n0 + 2, eng_ninj(e), "INVALL delivered two LPIs");
	for (size_t i = n0; i < eng_ninj(e); i++) {
		const struct harness_inject *in = eng_inj(e, i);
		CHECK(in->intid == 8300 || in->intid == 8193, "INVALL delivered %u", in->intid);
		CHECK_EQ(1, in->vcpu, "INVALL delivery of %u on vCPU 1", in->intid);
	}
	CHECK_EQ(1, eng_lpi(e, 8302).pending, "8302 still pending");
	EXPECT_OK(e, its_mk_invall(2), "INVALL ICID 2");
	CHECK_EQ(n0 + 3, eng_ninj(e), "INVALL 2 delivered 8302");
	EXPECT_OK(e, its_mk_invall(3), "INVALL of a collection with no events");
	eng_free(e);
}

static void test_sync_movall(void)
{
	struct eng *e = new_engine(8, VITS_ERRMODE_SKIP);
	if (!e)
		return;
	populate(e);
	EXPECT_FAIL(e, its_mk_sync(4), VITS_R_PROCNUM_OOR, 0, "SYNC RDbase 4");
	EXPECT_FAIL(e, its_mk_sync((1ull << 36) - 1), VITS_R_PROCNUM_OOR, 0, "SYNC RDbase 2^36-1");
	uint64_t h0 = eng_state_hash(e);
	EXPECT_OK(e, its_mk_sync(3), "SYNC RDbase 3");
	CHECK_EQ(h0, eng_state_hash(e), "SYNC changes no state");

	EXPECT_FAIL(e, its_mk_movall(4, 0), VITS_R_PROCNUM_OOR, E_MOVALL_PROCNUM_OOR, "MOVALL RDbase1 4");
	EXPECT_FAIL(e, its_mk_movall(0, 4), VITS_R_PROCNUM_OOR, E_MOVALL_PROCNUM_OOR, "MOVALL RDbase2 4");
	EXPECT_FAIL(e, its_mk_movall((1ull << 36) - 1, (1ull << 36) - 1), VITS_R_PROCNUM_OOR,
		    E_MOVALL_PROCNUM_OOR, "MOVALL both 2^36-1");

	/* 8193 pending on vCPU 1; add 8300 pending on vCPU 1 and 8301 on vCPU 0. */
	eng_mapd(e, 3, 3);
	eng_mapti(e, 3, 0, 8300, 1, LPI_OFF);
	eng_mapti(e, 3, 1, 8301, 0, LPI_OFF);
	EXPECT_OK(e, its_mk_devev(ITS_OP_INT, 3, 0), "INT 8300");
	EXPECT_OK(e, its_mk_devev(ITS_OP_INT, 3, 1), "INT 8301");
	h0 = eng_state_hash(e);
	EXPECT_OK(e, its_mk_movall(2, 2), "MOVALL 2 -> 2");
	CHECK_EQ(h0, eng_state_hash(e), "MOVALL to itself changes nothing");
	EXPECT_OK(e, its_mk_movall(1, 3), "MOVALL 1 -> 3");
	CHECK_EQ(3, eng_lpi(e, 8193).pending_vcpu, "8193 moved to vCPU 3");
	CHECK_EQ(3, eng_lpi(e, 8300).pending_vcpu, "8300 moved to vCPU 3");
	CHECK_EQ(0, eng_lpi(e, 8301).pending_vcpu, "8301 stays on vCPU 0");
	CHECK_EQ(1, eng_lpi(e, 8300).pending, "8300 still pending");
	uint32_t vcpu = 9;
	vits_query_collection(e->v, 1, &vcpu);
	CHECK_EQ(1, vcpu, "MOVALL does not remap collections");
	size_t n0 = eng_ninj(e);
	eng_prop(e, 8300, LPI_ON);
	EXPECT_OK(e, its_mk_devev(ITS_OP_INV, 3, 0), "INV 8300");
	CHECK_EQ(n0 + 1, eng_ninj(e), "8300 delivered");
	if (eng_ninj(e) == n0 + 1)
		CHECK_EQ(3, eng_inj(e, n0)->vcpu, "8300 delivered where MOVALL put it");
	eng_free(e);
}

static void test_opcodes(void)
{
	struct eng *e = new_engine(8, VITS_ERRMODE_SKIP);
	if (!e)
		return;
	populate(e);
	static const unsigned v4[] = { 0x21, 0x22, 0x23, 0x25, 0x29, 0x2a, 0x2b, 0x2d, 0x2e };
	struct vits_stats s0 = eng_stats(e);
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		struct its_cmd c = its_mk(v4[i]);
		its_cmd_set_devid(&c, 1);
		its_cmd_set_eventid(&c, 0);
		c.dw[2] = 0x8000000000010000ull;
		char what[64];
		snprintf(what, sizeof(what), "GICv4 %s (0x%02x)", its_cmd_name(v4[i]), v4[i]);
		EXPECT_FAIL(e, c, VITS_R_UNSUPPORTED, 0, what);
	}
	struct vits_stats s1 = eng_stats(e);
	CHECK_EQ(s0.unsupported_cmds + 9, s1.unsupported_cmds, "unsupported_cmds counts GICv4 opcodes");
	CHECK_EQ(s0.errors_by_reason[VITS_R_UNSUPPORTED] + 9, s1.errors_by_reason[VITS_R_UNSUPPORTED],
		 "errors_by_reason[UNSUPPORTED]");
	static const unsigned unk[] = { 0x00, 0x02, 0x06, 0x07, 0x10, 0x11, 0x20, 0x24, 0x26,
					0x27, 0x28, 0x2c, 0x2f, 0x30, 0x81, 0xff };
	for (size_t i = 0; i < sizeof(unk) / sizeof(unk[0]); i++) {
		char what[64];
		snprintf(what, sizeof(what), "unknown opcode 0x%02x", unk[i]);
		EXPECT_FAIL(e, its_mk(unk[i]), VITS_R_UNKNOWN_OPCODE, 0, what);
	}
	struct vits_stats s2 = eng_stats(e);
	CHECK_EQ(s1.unsupported_cmds, s2.unsupported_cmds, "unknown opcodes are not 'unsupported'");
	CHECK_EQ(s1.errors_by_reason[VITS_R_UNKNOWN_OPCODE] + 16, s2.errors_by_reason[VITS_R_UNKNOWN_OPCODE],
		 "errors_by_reason[UNKNOWN_OPCODE]");
	CHECK_EQ(s1.cmd_errors + 16, s2.cmd_errors, "cmd_errors");
	CHECK_EQ(s1.guest_cmd_total + 16, s2.guest_cmd_total, "guest_cmd_total counts errors");

	/* Per-type counters. */
	struct vits_stats a = eng_stats(e);
	EXPECT_OK(e, its_mk_sync(0), "SYNC");
	EXPECT_FAIL(e, its_mk_sync(9), VITS_R_PROCNUM_OOR, 0, "SYNC 9");
	EXPECT_OK(e, its_mk_invall(0), "INVALL");
	struct vits_stats b = eng_stats(e);
	CHECK_EQ(a.guest_cmds[ITS_IDX_SYNC] + 2, b.guest_cmds[ITS_IDX_SYNC], "guest_cmds[SYNC]");
	CHECK_EQ(a.guest_cmds[ITS_IDX_INVALL] + 1, b.guest_cmds[ITS_IDX_INVALL], "guest_cmds[INVALL]");
	CHECK_EQ(a.errors_by_reason[VITS_R_PROCNUM_OOR] + 1, b.errors_by_reason[VITS_R_PROCNUM_OOR],
		 "errors_by_reason[PROCNUM_OOR]");
	eng_free(e);
}

/* Stall mode: the same failures stall the queue and still change nothing; the
 * stalled slot is replaced by a SYNC and retried. */
static void unstall(struct eng *e)
{
	uint64_t cr = eng_rd(e, GITS_CREADR, 8);
	CHECK_EQ(1, cr & 1, "stalled");
	eng_put_slot(e, ENG_QUEUE_GPA, (uint32_t)(cr & ~1ull), its_mk_sync(0));
	eng_wr(e, GITS_CWRITER, 8, eng_rd(e, GITS_CWRITER, 8) | 1);
	CHECK_EQ(eng_rd(e, GITS_CWRITER, 8), eng_rd(e, GITS_CREADR, 8), "retry drained the queue");
}

static void test_stall_mode(void)
{
	struct eng *e = new_engine(8, VITS_ERRMODE_STALL);
	if (!e)
		return;
	populate(e);
	EXPECT_FAIL(e, its_mk_mapd(NDEV, 0, eng_itt(0), 1), VITS_R_DEVICE_OOR, E_MAPD_DEVICE_OOR,
		    "stall: MAPD DeviceID 2^12");
	unstall(e);
	EXPECT_FAIL(e, its_mk_mapti(1, 0, 8300, 3), VITS_R_EVENT_MAPPED, 0, "stall: MAPTI onto mapped");
	unstall(e);
	EXPECT_FAIL(e, its_mk_movi(1, 0, 9), VITS_R_COLLECTION_UNMAPPED, E_MOVI_UNMAPPED_COLL,
		    "stall: MOVI unmapped collection");
	unstall(e);
	EXPECT_FAIL(e, its_mk(0x29), VITS_R_UNSUPPORTED, 0, "stall: VMAPP");
	unstall(e);
	EXPECT_OK(e, its_mk_sync(1), "stall mode: queue usable after retries");
	eng_free(e);
}

int main(void)
{
	test_mapd();
	test_mapd_no_memory();
	test_mapc();
	test_mapti();
	test_int_clear_inv_discard();
	test_pending_iterator();
	test_movi();
	test_invall();
	test_sync_movall();
	test_opcodes();
	test_stall_mode();
	return check_summary();
}
