/*
 * test_refmodel.c: the reference model on its own, against docs/semantics.md:
 * each command's effect, each error reason in the documented check order, MSIs,
 * property-byte rules, and the kvm-unit-tests ITS scenarios (its-trigger,
 * its-migration, its-pending-migration) replayed on the model.
 */
#include <string.h>

#include "guest_ram.h"
#include "its_regs.h"
#include "refmodel.h"
#include "tcheck.h"

#define RAM_BASE  0x40000000ull
#define RAM_SIZE  (256ull << 20)
#define PROP_GPA  (RAM_BASE + 0x100000)
#define DEVTAB    (RAM_BASE + 0x200000)
#define ITT_GPA   (RAM_BASE + 0x400000)
#define L2_GPA    (RAM_BASE + 0x800000)

#define CFG_ON  0xa3u   /* priority 0xa0, Group1, Enable */
#define CFG_OFF 0xa2u

struct fx {
	struct guest_ram *ram;
	struct ref *r;
	struct tstate *t;
};

static int fx_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return guest_ram_read(ctx, gpa, buf, len);
}

static int fx_check(void *ctx, uint64_t gpa, uint64_t len)
{
	return guest_ram_contains(ctx, gpa, len);
}

static uint64_t baser_flat(uint64_t gpa, unsigned pages, unsigned psz_code, bool indirect)
{
	uint64_t b = 0;
	b = GITS_FIELD_SET(b, BASER, VALID, 1);
	b = GITS_FIELD_SET(b, BASER, INDIRECT, indirect);
	b = GITS_FIELD_SET(b, BASER, TYPE, GITS_BASER_TYPE_DEVICE);
	b = GITS_FIELD_SET(b, BASER, ENTRY_SIZE, 7);
	b = GITS_FIELD_SET(b, BASER, PAGE_SIZE, psz_code);
	b = GITS_FIELD_SET(b, BASER, SIZE, pages - 1);
	return b | (gpa & GITS_FIELD_MASK(BASER, PA));
}

/* A fresh model: 4 vCPUs, 8 DeviceID bits, 16 EventID bits, 4 collection bits,
 * 16 INTID bits, a flat one-page device table, a 16-bit property table, enabled. */
static void fx_init(struct fx *f, struct tstate *t, bool with_ram_check, uint8_t devid_bits)
{
	f->t = t;
	f->ram = guest_ram_create();
	if (!f->ram || guest_ram_add_region(f->ram, RAM_BASE, RAM_SIZE))
		t_broken("guest RAM");
	struct ref_config cfg = {
		.nr_vcpus = 4, .devid_bits = devid_bits, .eventid_bits = 16, .cid_bits = 4,
		.intid_bits = 16, .read_guest = fx_read,
		.ram_check = with_ram_check ? fx_check : NULL, .ctx = f->ram,
	};
	f->r = ref_create(&cfg);
	if (!f->r)
		t_broken("ref_create");
	ref_set_device_table(f->r, baser_flat(DEVTAB, 1, 0, false));
	if (ref_set_prop_table(f->r, PROP_GPA, 16))
		t_broken("ref_set_prop_table");
	ref_set_enabled(f->r, true);
}

static void fx_fini(struct fx *f)
{
	ref_destroy(f->r);
	guest_ram_destroy(f->ram);
}

static void fx_prop(struct fx *f, uint32_t intid, uint8_t cfg)
{
	if (guest_ram_write(f->ram, PROP_GPA + intid - 8192, &cfg, 1))
		t_broken("property write");
}

/* Run a command, check its reason. */
static void fx_cmd(struct fx *f, const char *name, struct its_cmd c, enum vits_reason want)
{
	enum vits_reason got = ref_cmd(f->r, &c);
	t_ok(f->t, got == want, name, "expected %s, got %s", ref_reason_name(want),
	     ref_reason_name(got));
}

static void fx_msi(struct fx *f, const char *name, uint32_t dev, uint32_t ev, enum vits_reason want)
{
	enum vits_reason got = ref_msi(f->r, dev, ev);
	t_ok(f->t, got == want, name, "expected %s, got %s", ref_reason_name(want),
	     ref_reason_name(got));
}

/* Check the deliveries since the last check: n (vcpu, intid) pairs, in any order
 * (one INVALL may deliver several, in an order the architecture leaves open). */
static void fx_deliv(struct fx *f, const char *name, size_t n, ...)
{
	size_t got_n;
	const struct ref_delivery *d = ref_deliveries(f->r, &got_n);
	bool ok = got_n == n;
	bool used[16] = { false };
	char want[200] = "", got[200] = "";
	va_list ap;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		uint32_t vcpu = va_arg(ap, uint32_t), intid = va_arg(ap, uint32_t);
		size_t l = strlen(want);
		snprintf(want + l, sizeof(want) - l, "(%u,%u)", vcpu, intid);
		bool found = false;
		for (size_t j = 0; j < got_n && j < 16 && !found; j++) {
			if (!used[j] && d[j].vcpu == vcpu && d[j].intid == intid)
				used[j] = found = true;
		}
		ok = ok && found;
	}
	va_end(ap);
	for (size_t i = 0; i < got_n; i++) {
		size_t l = strlen(got);
		snprintf(got + l, sizeof(got) - l, "(%u,%u)", d[i].vcpu, d[i].intid);
	}
	t_ok(f->t, ok, name, "expected deliveries [%s], got [%s]", want, got);
	ref_clear_deliveries(f->r);
}

static void fx_lpi(struct fx *f, const char *name, uint32_t intid, uint8_t cfg, bool pending,
		   uint32_t vcpu)
{
	struct ref_lpi l;
	if (ref_query_lpi(f->r, intid, &l)) {
		t_ok(f->t, false, name, "expected LPI %u state, model has none", intid);
		return;
	}
	t_ok(f->t, l.cfg == cfg && l.pending == pending && (!pending || l.pending_vcpu == vcpu),
	     name, "expected cfg %#x %s vcpu %u, got cfg %#x %s vcpu %u", cfg,
	     pending ? "pending" : "idle", vcpu, l.cfg, l.pending ? "pending" : "idle",
	     l.pending_vcpu);
}

static uint32_t fx_coll(struct fx *f, uint32_t icid)
{
	uint32_t v;
	return ref_query_collection(f->r, icid, &v) ? UINT32_MAX : v;
}

/* ---- MAPD ------------------------------------------------------------------------ */

static void t_mapd(struct tstate *t)
{
	struct fx f;
	fx_init(&f, t, true, 8);
	fx_cmd(&f, "MAPD devid 2^devid_bits: DEVICE_OOR", its_mk_mapd(256, 3, ITT_GPA, 1), VITS_R_DEVICE_OOR);
	fx_cmd(&f, "MAPD V=0 devid out of range: DEVICE_OOR", its_mk_mapd(0xffffffff, 0, 0, 0), VITS_R_DEVICE_OOR);
	fx_cmd(&f, "MAPD Size+1 > eventid_bits: ITT_SIZE_OOR", its_mk_mapd(1, 16, ITT_GPA, 1), VITS_R_ITT_SIZE_OOR);
	fx_cmd(&f, "MAPD Size 31: ITT_SIZE_OOR", its_mk_mapd(1, 31, ITT_GPA, 1), VITS_R_ITT_SIZE_OOR);
	fx_cmd(&f, "MAPD ITT outside RAM: ITT_OUTSIDE_RAM", its_mk_mapd(1, 3, 0x1000, 1), VITS_R_ITT_OUTSIDE_RAM);
	/* 2^16 events x 8 bytes = 512 KiB, starting 256 bytes before the end of RAM. */
	fx_cmd(&f, "MAPD ITT straddling end of RAM: ITT_OUTSIDE_RAM",
	       its_mk_mapd(1, 15, RAM_BASE + RAM_SIZE - 256, 1), VITS_R_ITT_OUTSIDE_RAM);
	fx_cmd(&f, "MAPD ITT of 32 events exactly at the end of RAM", its_mk_mapd(1, 4, RAM_BASE + RAM_SIZE - 256, 1),
	       VITS_R_NONE);
	fx_cmd(&f, "MAPD ITT size checked before RAM: ITT_SIZE_OOR", its_mk_mapd(1, 20, 0x1000, 1), VITS_R_ITT_SIZE_OOR);
	T_EQ(t, "failed MAPDs left devid 1 as the good MAPD made it", 1, ref_device_count(f.r));

	fx_cmd(&f, "MAPD dev 5 Size 3", its_mk_mapd(5, 3, ITT_GPA, 1), VITS_R_NONE);
	struct ref_device d;
	T_EQ(t, "device 5 mapped", 0, ref_query_device(f.r, 5, &d));
	T_EQ(t, "device 5 event_bits = Size + 1", 4, d.event_bits);
	T_EQ(t, "device 5 itt address in bytes", ITT_GPA, d.itt_addr);
	fx_cmd(&f, "MAPD V=0 of an unmapped device is not an error", its_mk_mapd(9, 0, 0, 0), VITS_R_NONE);

	/* Remap drops events and their pending state (IMPDEF, as KVM). */
	fx_cmd(&f, "MAPC 1 -> vcpu 1", its_mk_mapc(1, 1, 1), VITS_R_NONE);
	fx_prop(&f, 8200, CFG_OFF);
	fx_cmd(&f, "MAPTI 5/2 -> 8200 col 1", its_mk_mapti(5, 2, 8200, 1), VITS_R_NONE);
	fx_cmd(&f, "INT 5/2 (disabled: stays pending)", its_mk_devev(ITS_OP_INT, 5, 2), VITS_R_NONE);
	fx_lpi(&f, "LPI 8200 pending on vcpu 1", 8200, CFG_OFF, true, 1);
	fx_cmd(&f, "MAPD remap dev 5 Size 1", its_mk_mapd(5, 1, ITT_GPA + 0x1000, 1), VITS_R_NONE);
	struct ref_event e;
	T_EQ(t, "remap dropped event 5/2", -1, ref_query_event(f.r, 5, 2, &e));
	fx_lpi(&f, "remap cleared pending of 8200", 8200, CFG_OFF, false, 0);
	T_EQ(t, "remap: event_bits now 2", 0, ref_query_device(f.r, 5, &d));
	T_EQ(t, "remap: event_bits value", 2, d.event_bits);
	T_EQ(t, "remap: new itt", ITT_GPA + 0x1000, d.itt_addr);

	/* MAPD V=0 unmaps events and clears pending. */
	fx_cmd(&f, "MAPTI 5/1 -> 8201 col 1", its_mk_mapti(5, 1, 8201, 1), VITS_R_NONE);
	fx_cmd(&f, "INT 5/1", its_mk_devev(ITS_OP_INT, 5, 1), VITS_R_NONE);
	fx_cmd(&f, "MAPD V=0 dev 5", its_mk_mapd(5, 0, 0, 0), VITS_R_NONE);
	T_EQ(t, "MAPD V=0: device gone", -1, ref_query_device(f.r, 5, &d));
	T_EQ(t, "MAPD V=0: event gone", -1, ref_query_event(f.r, 5, 1, &e));
	fx_lpi(&f, "MAPD V=0 cleared pending of 8201", 8201, 0, false, 0);
	fx_deliv(&f, "MAPD sequence delivered nothing", 0);
	fx_fini(&f);

	/* No ram_check: any ITT accepted. */
	fx_init(&f, t, false, 8);
	fx_cmd(&f, "MAPD ITT outside RAM accepted without ram_check", its_mk_mapd(1, 3, 0x1000, 1), VITS_R_NONE);
	fx_fini(&f);
}

static void t_device_table(struct tstate *t)
{
	struct fx f;
	fx_init(&f, t, true, 16);
	ref_set_device_table(f.r, 0);
	fx_cmd(&f, "MAPD with BASER0 invalid: DEVICE_TABLE", its_mk_mapd(1, 0, ITT_GPA, 1), VITS_R_DEVICE_TABLE);
	fx_cmd(&f, "MAPD V=0 with BASER0 invalid: DEVICE_TABLE", its_mk_mapd(1, 0, 0, 0), VITS_R_DEVICE_TABLE);
	fx_cmd(&f, "DEVICE_OOR precedes DEVICE_TABLE", its_mk_mapd(1u << 16, 0, ITT_GPA, 1), VITS_R_DEVICE_OOR);
	fx_cmd(&f, "DEVICE_TABLE precedes ITT_SIZE_OOR", its_mk_mapd(1, 31, ITT_GPA, 1), VITS_R_DEVICE_TABLE);

	/* Flat, 4 KiB pages, 2 pages: 1024 DeviceIDs. */
	ref_set_device_table(f.r, baser_flat(DEVTAB, 2, 0, false));
	fx_cmd(&f, "flat 2x4K: devid 1023 fits", its_mk_mapd(1023, 0, ITT_GPA, 1), VITS_R_NONE);
	fx_cmd(&f, "flat 2x4K: devid 1024 DEVICE_TABLE", its_mk_mapd(1024, 0, ITT_GPA, 1), VITS_R_DEVICE_TABLE);
	/* 16 KiB pages: 2048 per page. */
	ref_set_device_table(f.r, baser_flat(DEVTAB, 1, 1, false));
	fx_cmd(&f, "flat 1x16K: devid 2047 fits", its_mk_mapd(2047, 0, ITT_GPA, 1), VITS_R_NONE);
	fx_cmd(&f, "flat 1x16K: devid 2048 DEVICE_TABLE", its_mk_mapd(2048, 0, ITT_GPA, 1), VITS_R_DEVICE_TABLE);
	/* 64 KiB pages: 8192 per page. */
	ref_set_device_table(f.r, baser_flat(DEVTAB, 1, 2, false));
	fx_cmd(&f, "flat 1x64K: devid 8191 fits", its_mk_mapd(8191, 0, ITT_GPA, 1), VITS_R_NONE);
	fx_cmd(&f, "flat 1x64K: devid 8192 DEVICE_TABLE", its_mk_mapd(8192, 0, ITT_GPA, 1), VITS_R_DEVICE_TABLE);

	/* Two-level, 4 KiB pages, 1 L1 page: 512 L1 entries x 512 DeviceIDs. */
	ref_set_device_table(f.r, baser_flat(DEVTAB, 1, 0, true));
	fx_cmd(&f, "2-level: L1 entry 0 invalid: DEVICE_TABLE", its_mk_mapd(3, 0, ITT_GPA, 1), VITS_R_DEVICE_TABLE);
	guest_ram_write_u64(f.ram, DEVTAB + 0 * 8, L2_GPA | (1ull << 63));
	guest_ram_write_u64(f.ram, DEVTAB + 2 * 8, (L2_GPA + 0x1000) | (1ull << 63));
	fx_cmd(&f, "2-level: L1 entry 0 valid: devid 3", its_mk_mapd(3, 0, ITT_GPA, 1), VITS_R_NONE);
	fx_cmd(&f, "2-level: devid 511 uses L1 entry 0", its_mk_mapd(511, 0, ITT_GPA, 1), VITS_R_NONE);
	fx_cmd(&f, "2-level: devid 512 uses invalid L1 entry 1", its_mk_mapd(512, 0, ITT_GPA, 1), VITS_R_DEVICE_TABLE);
	fx_cmd(&f, "2-level: devid 1024 uses valid L1 entry 2", its_mk_mapd(1024, 0, ITT_GPA, 1), VITS_R_NONE);
	fx_cmd(&f, "2-level: V=0 also checks L1 (entry 1 invalid)", its_mk_mapd(600, 0, 0, 0), VITS_R_DEVICE_TABLE);
	/* An L1 entry that cannot be read (outside guest RAM) is a guest-memory fault. */
	ref_set_device_table(f.r, baser_flat(0x10000, 1, 2, true));
	fx_cmd(&f, "2-level: L1 outside RAM: MEM_FAULT", its_mk_mapd(5, 0, ITT_GPA, 1), VITS_R_MEM_FAULT);
	/* With 64 KiB pages BASER bits [15:12] are PA[51:48]: the L1 table moves far
	 * beyond RAM.  With 16 KiB pages bits [13:12] are RES0 and ignored. */
	ref_set_device_table(f.r, baser_flat(DEVTAB, 1, 2, true) | (1ull << 12));
	fx_cmd(&f, "2-level 64K: PA[48] set moves L1 outside RAM", its_mk_mapd(3, 0, ITT_GPA, 1), VITS_R_MEM_FAULT);
	ref_set_device_table(f.r, baser_flat(DEVTAB, 1, 1, true) | (3ull << 12));
	fx_cmd(&f, "2-level 16K: RES0 PA[13:12] ignored", its_mk_mapd(3, 0, ITT_GPA, 1), VITS_R_NONE);
	fx_fini(&f);

	/* L1 index bound: 20 DeviceID bits, 4K pages: 512 IDs per L2, 512 L1 entries
	 * per L1 page, so DeviceIDs from 2^18 need an L1 entry beyond one page. */
	fx_init(&f, t, true, 20);
	ref_set_device_table(f.r, baser_flat(DEVTAB, 1, 0, true));
	for (unsigned i = 0; i < 1024; i++)
		guest_ram_write_u64(f.ram, DEVTAB + i * 8, L2_GPA | (1ull << 63));  /* 2nd page too */
	fx_cmd(&f, "2-level: last L1 entry of the table", its_mk_mapd((1u << 18) - 1, 0, ITT_GPA, 1), VITS_R_NONE);
	fx_cmd(&f, "2-level: L1 index beyond the table: DEVICE_TABLE", its_mk_mapd(1u << 18, 0, ITT_GPA, 1),
	       VITS_R_DEVICE_TABLE);
	fx_fini(&f);
}

/* ---- MAPC, SYNC, MOVALL ------------------------------------------------------------ */

static void t_mapc_sync_movall(struct tstate *t)
{
	struct fx f;
	fx_init(&f, t, true, 8);
	fx_cmd(&f, "MAPC icid 16: COLLECTION_OOR", its_mk_mapc(16, 0, 1), VITS_R_COLLECTION_OOR);
	fx_cmd(&f, "MAPC COLLECTION_OOR precedes PROCNUM_OOR", its_mk_mapc(16, 99, 1), VITS_R_COLLECTION_OOR);
	fx_cmd(&f, "MAPC V=0 icid 0xffff: COLLECTION_OOR", its_mk_mapc(0xffff, 0, 0), VITS_R_COLLECTION_OOR);
	fx_cmd(&f, "MAPC rd 4 of 4 vCPUs: PROCNUM_OOR", its_mk_mapc(3, 4, 1), VITS_R_PROCNUM_OOR);
	fx_cmd(&f, "MAPC rd 2^35: PROCNUM_OOR", its_mk_mapc(3, 1ull << 35, 1), VITS_R_PROCNUM_OOR);
	T_EQ(t, "failed MAPCs map nothing", 0, ref_collection_count(f.r));
	fx_cmd(&f, "MAPC V=0 ignores RDbase", its_mk_mapc(3, 99, 0), VITS_R_NONE);
	fx_cmd(&f, "MAPC 15 -> vcpu 3", its_mk_mapc(15, 3, 1), VITS_R_NONE);
	T_EQ(t, "collection 15 on vcpu 3", 3, fx_coll(&f, 15));
	fx_cmd(&f, "MAPC 15 -> vcpu 0 (remap)", its_mk_mapc(15, 0, 1), VITS_R_NONE);
	T_EQ(t, "collection 15 on vcpu 0", 0, fx_coll(&f, 15));
	fx_cmd(&f, "MAPC V=0 15", its_mk_mapc(15, 0, 0), VITS_R_NONE);
	T_EQ(t, "collection 15 unmapped", UINT32_MAX, fx_coll(&f, 15));

	fx_cmd(&f, "SYNC rd 3", its_mk_sync(3), VITS_R_NONE);
	fx_cmd(&f, "SYNC rd 4: PROCNUM_OOR", its_mk_sync(4), VITS_R_PROCNUM_OOR);

	/* Pending LPIs stay where they are pending across MAPC; MOVALL moves them. */
	fx_cmd(&f, "MAPD 1", its_mk_mapd(1, 3, ITT_GPA, 1), VITS_R_NONE);
	fx_cmd(&f, "MAPC 0 -> vcpu 1", its_mk_mapc(0, 1, 1), VITS_R_NONE);
	fx_prop(&f, 8192, CFG_OFF);
	fx_prop(&f, 8193, CFG_OFF);
	fx_cmd(&f, "MAPTI 1/0 -> 8192 col 0", its_mk_mapti(1, 0, 8192, 0), VITS_R_NONE);
	fx_cmd(&f, "MAPTI 1/1 -> 8193 col 0", its_mk_mapti(1, 1, 8193, 0), VITS_R_NONE);
	fx_cmd(&f, "INT 1/0", its_mk_devev(ITS_OP_INT, 1, 0), VITS_R_NONE);
	fx_cmd(&f, "MAPC 0 -> vcpu 2", its_mk_mapc(0, 2, 1), VITS_R_NONE);
	fx_cmd(&f, "INT 1/1", its_mk_devev(ITS_OP_INT, 1, 1), VITS_R_NONE);
	fx_lpi(&f, "8192 still pending on vcpu 1 after MAPC", 8192, CFG_OFF, true, 1);
	fx_lpi(&f, "8193 pending on vcpu 2", 8193, CFG_OFF, true, 2);
	fx_cmd(&f, "MOVALL rd 4 -> 0: PROCNUM_OOR", its_mk_movall(4, 0), VITS_R_PROCNUM_OOR);
	fx_cmd(&f, "MOVALL rd 0 -> 4: PROCNUM_OOR", its_mk_movall(0, 4), VITS_R_PROCNUM_OOR);
	fx_cmd(&f, "MOVALL 1 -> 3", its_mk_movall(1, 3), VITS_R_NONE);
	fx_lpi(&f, "MOVALL moved 8192 to vcpu 3", 8192, CFG_OFF, true, 3);
	fx_lpi(&f, "MOVALL left 8193 on vcpu 2", 8193, CFG_OFF, true, 2);
	fx_cmd(&f, "MOVALL 3 -> 3 is a no-op", its_mk_movall(3, 3), VITS_R_NONE);
	fx_lpi(&f, "8192 still on vcpu 3", 8192, CFG_OFF, true, 3);
	/* Delivery goes to the vCPU the LPI is pending on, not the collection's. */
	fx_prop(&f, 8192, CFG_ON);
	fx_cmd(&f, "INV 1/0 after enabling", its_mk_devev(ITS_OP_INV, 1, 0), VITS_R_NONE);
	fx_deliv(&f, "INV delivers 8192 on vcpu 3 (where MOVALL put it)", 1, 3u, 8192u);
	fx_fini(&f);
}

/* ---- MAPTI / MAPI --------------------------------------------------------------------- */

static void t_mapti(struct tstate *t)
{
	struct fx f;
	fx_init(&f, t, true, 8);
	fx_cmd(&f, "MAPTI devid out of range: DEVICE_OOR", its_mk_mapti(300, 0, 1, 99), VITS_R_DEVICE_OOR);
	fx_cmd(&f, "MAPTI unmapped device: DEVICE_UNMAPPED (before INTID/ICID)", its_mk_mapti(7, 0, 1, 99),
	       VITS_R_DEVICE_UNMAPPED);
	fx_cmd(&f, "MAPD 7 Size 3 (16 events)", its_mk_mapd(7, 3, ITT_GPA, 1), VITS_R_NONE);
	fx_cmd(&f, "MAPTI EventID 16: EVENT_OOR (before INTID)", its_mk_mapti(7, 16, 1, 99), VITS_R_EVENT_OOR);
	fx_cmd(&f, "MAPTI EventID 2^32-1: EVENT_OOR", its_mk_mapti(7, 0xffffffff, 8192, 0), VITS_R_EVENT_OOR);
	fx_cmd(&f, "MAPTI pINTID 8191: INTID_OOR (before ICID)", its_mk_mapti(7, 0, 8191, 99), VITS_R_INTID_OOR);
	fx_cmd(&f, "MAPTI pINTID 2^16 with a 16-bit table: INTID_OOR", its_mk_mapti(7, 0, 65536, 0),
	       VITS_R_INTID_OOR);
	fx_cmd(&f, "MAPTI ICID 16: COLLECTION_OOR", its_mk_mapti(7, 0, 8192, 16), VITS_R_COLLECTION_OOR);
	T_EQ(t, "failed MAPTIs map nothing", 0, ref_event_count(f.r));
	fx_prop(&f, 65535, CFG_ON);
	fx_cmd(&f, "MAPTI pINTID 2^16-1 to unmapped col 2", its_mk_mapti(7, 0, 65535, 2), VITS_R_NONE);
	fx_lpi(&f, "MAPTI read the property byte", 65535, CFG_ON, false, 0);
	fx_cmd(&f, "MAPTI onto a mapped event: EVENT_MAPPED", its_mk_mapti(7, 0, 8192, 0), VITS_R_EVENT_MAPPED);
	fx_cmd(&f, "COLLECTION_OOR precedes EVENT_MAPPED", its_mk_mapti(7, 0, 8192, 16), VITS_R_COLLECTION_OOR);
	fx_cmd(&f, "INTID_OOR precedes EVENT_MAPPED", its_mk_mapti(7, 0, 5, 0), VITS_R_INTID_OOR);
	struct ref_event e;
	T_EQ(t, "event 7/0 mapped", 0, ref_query_event(f.r, 7, 0, &e));
	T_EQ(t, "event 7/0 intid", 65535, e.intid);
	T_EQ(t, "event 7/0 icid", 2, e.icid);
	fx_deliv(&f, "MAPTI delivers nothing", 0);

	/* MAPI: pINTID = EventID. */
	fx_cmd(&f, "MAPD 8 Size 13 (16384 events)", its_mk_mapd(8, 13, ITT_GPA, 1), VITS_R_NONE);
	fx_cmd(&f, "MAPI EventID 5 (< 8192): INTID_OOR", its_mk_mapi(8, 5, 0), VITS_R_INTID_OOR);
	fx_cmd(&f, "MAPI EventID 8300", its_mk_mapi(8, 8300, 1), VITS_R_NONE);
	T_EQ(t, "MAPI event 8/8300 intid = EventID", 0, ref_query_event(f.r, 8, 8300, &e) == 0 ? e.intid - 8300 : 1);
	fx_cmd(&f, "MAPI again: EVENT_MAPPED", its_mk_mapi(8, 8300, 1), VITS_R_EVENT_MAPPED);
	fx_cmd(&f, "MAPI EventID 16384: EVENT_OOR", its_mk_mapi(8, 16384, 1), VITS_R_EVENT_OOR);

	/* Property table geometry: none, smaller, clamped, forgotten. */
	T_EQ(t, "prop table id_bits 13 refused", -1, ref_set_prop_table(f.r, PROP_GPA, 13));
	T_EQ(t, "prop table id_bits 33 refused", -1, ref_set_prop_table(f.r, PROP_GPA, 33));
	T_EQ(t, "refused table kept prop_bits 16", 16, ref_prop_bits(f.r));
	T_EQ(t, "prop table id_bits 14", 0, ref_set_prop_table(f.r, PROP_GPA, 14));
	fx_cmd(&f, "14-bit table: pINTID 16383 fits", its_mk_mapti(7, 1, 16383, 0), VITS_R_NONE);
	fx_cmd(&f, "14-bit table: pINTID 16384 INTID_OOR", its_mk_mapti(7, 2, 16384, 0), VITS_R_INTID_OOR);
	/* 7/0 maps 65535 (read 0xa3 under the 16-bit table); the table shrank to 14
	 * bits, so INV finds no configuration for it: byte 0. */
	fx_cmd(&f, "MAPC 2 -> vcpu 1", its_mk_mapc(2, 1, 1), VITS_R_NONE);
	fx_cmd(&f, "INV 7/0 beyond the shrunken table", its_mk_devev(ITS_OP_INV, 7, 0), VITS_R_NONE);
	fx_lpi(&f, "LPI beyond the table reads as 0", 65535, 0, false, 0);
	T_EQ(t, "prop table back to 16 bits", 0, ref_set_prop_table(f.r, PROP_GPA, 16));
	fx_cmd(&f, "INV 7/0 inside the table again", its_mk_devev(ITS_OP_INV, 7, 0), VITS_R_NONE);
	fx_lpi(&f, "re-read the byte", 65535, CFG_ON, false, 0);
	T_EQ(t, "prop table id_bits 14 again", 0, ref_set_prop_table(f.r, PROP_GPA, 14));
	T_EQ(t, "prop table id_bits 24 clamped to intid_bits 16", 0, ref_set_prop_table(f.r, PROP_GPA, 24));
	T_EQ(t, "clamped prop_bits", 16, ref_prop_bits(f.r));
	fx_cmd(&f, "clamped table: pINTID 65536 INTID_OOR", its_mk_mapti(7, 2, 65536, 0), VITS_R_INTID_OOR);
	T_EQ(t, "forget the table", 0, ref_set_prop_table(f.r, 0, 0));
	T_EQ(t, "no table: prop_bits = intid_bits", 16, ref_prop_bits(f.r));
	fx_prop(&f, 9000, CFG_ON);
	fx_cmd(&f, "no table: MAPTI 7/3 -> 9000", its_mk_mapti(7, 3, 9000, 0), VITS_R_NONE);
	fx_lpi(&f, "no table: cfg is 0 (nothing read)", 9000, 0, false, 0);
	fx_cmd(&f, "MAPC 0 -> vcpu 0", its_mk_mapc(0, 0, 1), VITS_R_NONE);
	fx_cmd(&f, "no table: INV 7/1 (16383 had read a byte)", its_mk_devev(ITS_OP_INV, 7, 1), VITS_R_NONE);
	fx_lpi(&f, "forgotten table: the old byte becomes 0", 16383, 0, false, 0);
	T_EQ(t, "id_bits 0 forgets whatever the gpa", 0, ref_set_prop_table(f.r, PROP_GPA, 0));
	T_EQ(t, "forgotten: prop_bits = intid_bits", 16, ref_prop_bits(f.r));
	/* A property table whose bytes lie outside RAM: reads fault, old byte kept. */
	T_EQ(t, "table back in RAM", 0, ref_set_prop_table(f.r, PROP_GPA, 16));
	fx_cmd(&f, "INV 7/0 inside the table", its_mk_devev(ITS_OP_INV, 7, 0), VITS_R_NONE);
	fx_lpi(&f, "INV read 65535's byte", 65535, CFG_ON, false, 0);
	T_EQ(t, "table moved outside RAM", 0, ref_set_prop_table(f.r, 0x1000, 16));
	fx_cmd(&f, "INV 7/0 with a faulting table", its_mk_devev(ITS_OP_INV, 7, 0), VITS_R_NONE);
	fx_lpi(&f, "faulting INV kept the old cfg of 65535", 65535, CFG_ON, false, 0);
	fx_fini(&f);
}

/* ---- MOVI, DISCARD, INT, CLEAR, INV, INVALL -------------------------------------------- */

static void t_event_cmds(struct tstate *t)
{
	struct fx f;
	static const unsigned ops[] = { ITS_OP_MOVI, ITS_OP_DISCARD, ITS_OP_INT, ITS_OP_CLEAR, ITS_OP_INV };
	static const char *const names[] = { "MOVI", "DISCARD", "INT", "CLEAR", "INV" };
	char name[128];

	fx_init(&f, t, true, 8);
	fx_cmd(&f, "MAPD 4 Size 1 (4 events)", its_mk_mapd(4, 1, ITT_GPA, 1), VITS_R_NONE);
	fx_cmd(&f, "MAPTI 4/0 -> 8192 col 1 (unmapped)", its_mk_mapti(4, 0, 8192, 1), VITS_R_NONE);
	for (unsigned i = 0; i < 5; i++) {
		struct its_cmd c = ops[i] == ITS_OP_MOVI ? its_mk_movi(256, 0, 0) : its_mk_devev(ops[i], 256, 0);
		snprintf(name, sizeof(name), "%s devid 256: DEVICE_OOR", names[i]);
		fx_cmd(&f, name, c, VITS_R_DEVICE_OOR);
		c = ops[i] == ITS_OP_MOVI ? its_mk_movi(3, 9, 99) : its_mk_devev(ops[i], 3, 9);
		snprintf(name, sizeof(name), "%s unmapped device: DEVICE_UNMAPPED", names[i]);
		fx_cmd(&f, name, c, VITS_R_DEVICE_UNMAPPED);
		c = ops[i] == ITS_OP_MOVI ? its_mk_movi(4, 4, 99) : its_mk_devev(ops[i], 4, 4);
		snprintf(name, sizeof(name), "%s EventID 4 of 4: EVENT_OOR", names[i]);
		fx_cmd(&f, name, c, VITS_R_EVENT_OOR);
		c = ops[i] == ITS_OP_MOVI ? its_mk_movi(4, 3, 99) : its_mk_devev(ops[i], 4, 3);
		snprintf(name, sizeof(name), "%s unmapped event: EVENT_UNMAPPED", names[i]);
		fx_cmd(&f, name, c, VITS_R_EVENT_UNMAPPED);
	}
	fx_cmd(&f, "MOVI ICID 16: COLLECTION_OOR", its_mk_movi(4, 0, 16), VITS_R_COLLECTION_OOR);
	fx_cmd(&f, "MOVI to unmapped collection: COLLECTION_UNMAPPED", its_mk_movi(4, 0, 2), VITS_R_COLLECTION_UNMAPPED);
	fx_cmd(&f, "INT with unmapped collection: COLLECTION_UNMAPPED", its_mk_devev(ITS_OP_INT, 4, 0),
	       VITS_R_COLLECTION_UNMAPPED);
	fx_cmd(&f, "CLEAR with unmapped collection: COLLECTION_UNMAPPED", its_mk_devev(ITS_OP_CLEAR, 4, 0),
	       VITS_R_COLLECTION_UNMAPPED);
	fx_cmd(&f, "INV with unmapped collection: COLLECTION_UNMAPPED", its_mk_devev(ITS_OP_INV, 4, 0),
	       VITS_R_COLLECTION_UNMAPPED);
	fx_cmd(&f, "INVALL ICID 16: COLLECTION_OOR", its_mk_invall(16), VITS_R_COLLECTION_OOR);
	fx_cmd(&f, "INVALL unmapped collection: COLLECTION_UNMAPPED", its_mk_invall(1), VITS_R_COLLECTION_UNMAPPED);
	fx_cmd(&f, "DISCARD needs no collection", its_mk_devev(ITS_OP_DISCARD, 4, 0), VITS_R_NONE);
	fx_cmd(&f, "DISCARD twice: EVENT_UNMAPPED", its_mk_devev(ITS_OP_DISCARD, 4, 0), VITS_R_EVENT_UNMAPPED);

	/* Effects. */
	fx_cmd(&f, "MAPC 1 -> vcpu 1", its_mk_mapc(1, 1, 1), VITS_R_NONE);
	fx_cmd(&f, "MAPC 2 -> vcpu 2", its_mk_mapc(2, 2, 1), VITS_R_NONE);
	fx_prop(&f, 8192, CFG_OFF);
	fx_prop(&f, 8193, CFG_ON);
	fx_cmd(&f, "MAPTI 4/0 -> 8192 col 1", its_mk_mapti(4, 0, 8192, 1), VITS_R_NONE);
	fx_cmd(&f, "MAPTI 4/1 -> 8193 col 1", its_mk_mapti(4, 1, 8193, 1), VITS_R_NONE);
	fx_cmd(&f, "INT 4/1 (enabled)", its_mk_devev(ITS_OP_INT, 4, 1), VITS_R_NONE);
	fx_deliv(&f, "INT of an enabled LPI delivers at once", 1, 1u, 8193u);
	fx_lpi(&f, "delivered LPI is not pending in the ITS", 8193, CFG_ON, false, 0);
	fx_cmd(&f, "INT 4/0 (disabled)", its_mk_devev(ITS_OP_INT, 4, 0), VITS_R_NONE);
	fx_deliv(&f, "INT of a disabled LPI delivers nothing", 0);
	fx_lpi(&f, "8192 pending on vcpu 1", 8192, CFG_OFF, true, 1);
	fx_cmd(&f, "CLEAR 4/0", its_mk_devev(ITS_OP_CLEAR, 4, 0), VITS_R_NONE);
	fx_lpi(&f, "CLEAR cleared pending", 8192, CFG_OFF, false, 0);
	fx_cmd(&f, "INT 4/0 again", its_mk_devev(ITS_OP_INT, 4, 0), VITS_R_NONE);
	fx_cmd(&f, "MOVI 4/0 -> col 2", its_mk_movi(4, 0, 2), VITS_R_NONE);
	struct ref_event e;
	ref_query_event(f.r, 4, 0, &e);
	T_EQ(t, "MOVI changed the event's collection", 2, e.icid);
	fx_lpi(&f, "MOVI moved the pending state to vcpu 2", 8192, CFG_OFF, true, 2);
	fx_deliv(&f, "MOVI delivers nothing", 0);
	fx_prop(&f, 8192, CFG_ON);
	fx_deliv(&f, "a property write alone delivers nothing", 0);
	fx_lpi(&f, "cfg is as last read until INV", 8192, CFG_OFF, true, 2);
	fx_cmd(&f, "INV 4/0", its_mk_devev(ITS_OP_INV, 4, 0), VITS_R_NONE);
	fx_deliv(&f, "INV delivers the now-enabled pending LPI on vcpu 2", 1, 2u, 8192u);
	fx_lpi(&f, "INV re-read cfg", 8192, CFG_ON, false, 0);
	fx_cmd(&f, "MOVI of a non-pending event", its_mk_movi(4, 1, 2), VITS_R_NONE);
	fx_lpi(&f, "non-pending LPI stays idle after MOVI", 8193, CFG_ON, false, 0);

	/* DISCARD clears pending. */
	fx_prop(&f, 8192, CFG_OFF);
	fx_cmd(&f, "INV 4/0 (now disabled)", its_mk_devev(ITS_OP_INV, 4, 0), VITS_R_NONE);
	fx_cmd(&f, "INT 4/0 (disabled, pending)", its_mk_devev(ITS_OP_INT, 4, 0), VITS_R_NONE);
	fx_cmd(&f, "DISCARD 4/0", its_mk_devev(ITS_OP_DISCARD, 4, 0), VITS_R_NONE);
	fx_lpi(&f, "DISCARD cleared pending", 8192, CFG_OFF, false, 0);
	T_EQ(t, "DISCARD unmapped the event", -1, ref_query_event(f.r, 4, 0, &e));
	fx_cmd(&f, "INT after DISCARD: EVENT_UNMAPPED", its_mk_devev(ITS_OP_INT, 4, 0), VITS_R_EVENT_UNMAPPED);

	/* INVALL re-reads every LPI of its collection only. */
	fx_cmd(&f, "MAPTI 4/0 -> 8200 col 1", its_mk_mapti(4, 0, 8200, 1), VITS_R_NONE);
	fx_cmd(&f, "MAPTI 4/2 -> 8202 col 1", its_mk_mapti(4, 2, 8202, 1), VITS_R_NONE);
	fx_cmd(&f, "MAPTI 4/3 -> 8203 col 2", its_mk_mapti(4, 3, 8203, 2), VITS_R_NONE);
	fx_cmd(&f, "INT 4/0", its_mk_devev(ITS_OP_INT, 4, 0), VITS_R_NONE);
	fx_cmd(&f, "INT 4/2", its_mk_devev(ITS_OP_INT, 4, 2), VITS_R_NONE);
	fx_cmd(&f, "INT 4/3", its_mk_devev(ITS_OP_INT, 4, 3), VITS_R_NONE);
	fx_deliv(&f, "disabled LPIs: nothing delivered", 0);
	fx_prop(&f, 8200, CFG_ON);
	fx_prop(&f, 8202, CFG_ON);
	fx_prop(&f, 8203, CFG_ON);
	fx_cmd(&f, "INVALL 1", its_mk_invall(1), VITS_R_NONE);
	fx_deliv(&f, "INVALL 1 delivers 8200 and 8202 on vcpu 1", 2, 1u, 8200u, 1u, 8202u);
	fx_lpi(&f, "8203 of collection 2 not re-read", 8203, 0, true, 2);
	fx_cmd(&f, "INVALL 2", its_mk_invall(2), VITS_R_NONE);
	fx_deliv(&f, "INVALL 2 delivers 8203 on vcpu 2", 1, 2u, 8203u);
	fx_fini(&f);
}

/* ---- opcodes and MSIs ------------------------------------------------------------------ */

static void t_opcodes_msi(struct tstate *t)
{
	struct fx f;
	fx_init(&f, t, true, 8);
	static const unsigned v4[] = { 0x21, 0x22, 0x23, 0x25, 0x29, 0x2a, 0x2b, 0x2d, 0x2e };
	static const unsigned unknown[] = { 0x00, 0x02, 0x06, 0x07, 0x10, 0x20, 0x24, 0x2f, 0xff };
	char name[64];
	for (unsigned i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		snprintf(name, sizeof(name), "opcode %#x: UNSUPPORTED", v4[i]);
		fx_cmd(&f, name, its_mk(v4[i]), VITS_R_UNSUPPORTED);
	}
	for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		snprintf(name, sizeof(name), "opcode %#x: UNKNOWN_OPCODE", unknown[i]);
		fx_cmd(&f, name, its_mk(unknown[i]), VITS_R_UNKNOWN_OPCODE);
	}
	T_EQ(t, "every command counted", 18, ref_cmd_count(f.r));

	/* Fields are taken at full width; bits outside them are ignored. */
	struct its_cmd c = its_mk_mapd(1, 3, ITT_GPA, 1);
	c.dw[0] |= 0xffffff00ull;  /* DW0[31:8] is outside every field */
	c.dw[3] = ~0ull;
	fx_cmd(&f, "MAPD with junk in unused bits", c, VITS_R_NONE);

	fx_msi(&f, "MSI devid 256: DEVICE_OOR", 256, 0, VITS_R_DEVICE_OOR);
	fx_msi(&f, "MSI unmapped device: DEVICE_UNMAPPED", 2, 0, VITS_R_DEVICE_UNMAPPED);
	fx_msi(&f, "MSI EventID 16: EVENT_OOR", 1, 16, VITS_R_EVENT_OOR);
	fx_msi(&f, "MSI unmapped event: EVENT_UNMAPPED", 1, 0, VITS_R_EVENT_UNMAPPED);
	fx_prop(&f, 8192, CFG_ON);
	fx_cmd(&f, "MAPTI 1/0 -> 8192 col 3", its_mk_mapti(1, 0, 8192, 3), VITS_R_NONE);
	fx_msi(&f, "MSI unmapped collection: COLLECTION_UNMAPPED", 1, 0, VITS_R_COLLECTION_UNMAPPED);
	fx_cmd(&f, "MAPC 3 -> vcpu 3", its_mk_mapc(3, 3, 1), VITS_R_NONE);
	fx_msi(&f, "MSI 1/0", 1, 0, VITS_R_NONE);
	fx_deliv(&f, "MSI delivered on vcpu 3", 1, 3u, 8192u);
	ref_set_enabled(f.r, false);
	fx_msi(&f, "MSI while disabled: ITS_DISABLED", 1, 0, VITS_R_ITS_DISABLED);
	fx_msi(&f, "ITS_DISABLED precedes DEVICE_OOR", 256, 0, VITS_R_ITS_DISABLED);
	fx_deliv(&f, "dropped MSIs deliver nothing", 0);
	ref_set_enabled(f.r, true);

	/* A faulting property read keeps the old byte. */
	T_EQ(t, "table moved outside RAM", 0, ref_set_prop_table(f.r, 0x1000, 16));
	fx_cmd(&f, "INV 1/0 with faulting read", its_mk_devev(ITS_OP_INV, 1, 0), VITS_R_NONE);
	fx_lpi(&f, "faulting INV kept cfg", 8192, CFG_ON, false, 0);

	/* Reset forgets everything. */
	ref_reset(f.r);
	T_EQ(t, "reset: no device", 0, ref_device_count(f.r));
	T_EQ(t, "reset: command count 0", 0, ref_cmd_count(f.r));
	fx_msi(&f, "reset: disabled again", 1, 0, VITS_R_ITS_DISABLED);
	fx_fini(&f);
}

/* ---- kvm-unit-tests scenarios (arm/gic.c its-trigger and friends) -------------------- */

static void t_kvm_unit_tests(struct tstate *t)
{
	struct fx f;
	fx_init(&f, t, true, 8);
	/* its-trigger set-up: dev 2 event 20 -> LPI 8195 on col 3 (PE 3), dev 7 event
	 * 255 -> LPI 8196 on col 2 (PE 2). */
	fx_prop(&f, 8195, CFG_ON);
	fx_prop(&f, 8196, CFG_ON);
	fx_cmd(&f, "kut: MAPD dev 2", its_mk_mapd(2, 7, ITT_GPA, 1), VITS_R_NONE);
	fx_cmd(&f, "kut: MAPD dev 7", its_mk_mapd(7, 7, ITT_GPA + 0x1000, 1), VITS_R_NONE);
	fx_cmd(&f, "kut: MAPC col 3 -> PE 3", its_mk_mapc(3, 3, 1), VITS_R_NONE);
	fx_cmd(&f, "kut: MAPC col 2 -> PE 2", its_mk_mapc(2, 2, 1), VITS_R_NONE);
	fx_cmd(&f, "kut: INVALL col 3", its_mk_invall(3), VITS_R_NONE);
	fx_cmd(&f, "kut: MAPTI 2/20 -> 8195 col 3", its_mk_mapti(2, 20, 8195, 3), VITS_R_NONE);
	fx_cmd(&f, "kut: MAPTI 7/255 -> 8196 col 2", its_mk_mapti(7, 255, 8196, 2), VITS_R_NONE);

	fx_cmd(&f, "kut: INT 2/20", its_mk_devev(ITS_OP_INT, 2, 20), VITS_R_NONE);
	fx_deliv(&f, "kut its-trigger: 8195 on PE 3", 1, 3u, 8195u);
	fx_cmd(&f, "kut: INT 7/255", its_mk_devev(ITS_OP_INT, 7, 255), VITS_R_NONE);
	fx_deliv(&f, "kut its-trigger: 8196 on PE 2", 1, 2u, 8196u);

	/* Disable 8195 + INV: INT no longer delivers. */
	fx_prop(&f, 8195, CFG_OFF);
	fx_cmd(&f, "kut: INV 2/20", its_mk_devev(ITS_OP_INV, 2, 20), VITS_R_NONE);
	fx_cmd(&f, "kut: INT 2/20 while disabled", its_mk_devev(ITS_OP_INT, 2, 20), VITS_R_NONE);
	fx_deliv(&f, "kut: disable + INV stops delivery", 0);

	/* Re-enable + INVALL: the pending LPI arrives. */
	fx_prop(&f, 8195, CFG_ON);
	fx_cmd(&f, "kut: INVALL col 3", its_mk_invall(3), VITS_R_NONE);
	fx_deliv(&f, "kut: re-enable + INVALL delivers the pending 8195 on PE 3", 1, 3u, 8195u);

	/* Unmapped device: nothing. */
	fx_cmd(&f, "kut: MAPD V=0 dev 2", its_mk_mapd(2, 0, 0, 0), VITS_R_NONE);
	fx_cmd(&f, "kut: INT 2/20 on unmapped device", its_mk_devev(ITS_OP_INT, 2, 20), VITS_R_DEVICE_UNMAPPED);
	fx_deliv(&f, "kut: unmapped device delivers nothing", 0);

	/* Late MAPC: MAPTI onto an unmapped collection, then MAPC + INVALL restores. */
	fx_cmd(&f, "kut: MAPD dev 2 again", its_mk_mapd(2, 7, ITT_GPA, 1), VITS_R_NONE);
	fx_cmd(&f, "kut: MAPC V=0 col 3", its_mk_mapc(3, 0, 0), VITS_R_NONE);
	fx_cmd(&f, "kut: MAPTI 2/20 -> 8195 col 3 (unmapped)", its_mk_mapti(2, 20, 8195, 3), VITS_R_NONE);
	fx_cmd(&f, "kut: INT 2/20 to an unmapped collection", its_mk_devev(ITS_OP_INT, 2, 20),
	       VITS_R_COLLECTION_UNMAPPED);
	fx_deliv(&f, "kut: unmapped collection delivers nothing", 0);
	fx_cmd(&f, "kut: late MAPC col 3 -> PE 3", its_mk_mapc(3, 3, 1), VITS_R_NONE);
	fx_cmd(&f, "kut: INVALL col 3 after late MAPC", its_mk_invall(3), VITS_R_NONE);
	fx_cmd(&f, "kut: INT 2/20 after late MAPC", its_mk_devev(ITS_OP_INT, 2, 20), VITS_R_NONE);
	fx_deliv(&f, "kut: late MAPC + INVALL restores delivery on PE 3", 1, 3u, 8195u);

	/* its-migration: MOVI retargets delivery. */
	fx_cmd(&f, "kut: MOVI 2/20 -> col 2", its_mk_movi(2, 20, 2), VITS_R_NONE);
	fx_cmd(&f, "kut: INT 2/20 after MOVI", its_mk_devev(ITS_OP_INT, 2, 20), VITS_R_NONE);
	fx_deliv(&f, "kut its-migration: 8195 now on PE 2", 1, 2u, 8195u);

	/* its-pending-migration: pending LPIs on PE 2 move with MOVALL to PE 0, then
	 * enabling them (INVALL of their collection) delivers on PE 0. */
	fx_prop(&f, 8195, CFG_OFF);
	fx_prop(&f, 8196, CFG_OFF);
	fx_cmd(&f, "kut: INVALL col 2 (disable both)", its_mk_invall(2), VITS_R_NONE);
	fx_cmd(&f, "kut: INT 2/20", its_mk_devev(ITS_OP_INT, 2, 20), VITS_R_NONE);
	fx_cmd(&f, "kut: INT 7/255", its_mk_devev(ITS_OP_INT, 7, 255), VITS_R_NONE);
	fx_cmd(&f, "kut: MAPC col 2 -> PE 0", its_mk_mapc(2, 0, 1), VITS_R_NONE);
	fx_cmd(&f, "kut: MOVALL PE 2 -> PE 0", its_mk_movall(2, 0), VITS_R_NONE);
	fx_lpi(&f, "kut: 8195 pending on PE 0", 8195, CFG_OFF, true, 0);
	fx_lpi(&f, "kut: 8196 pending on PE 0", 8196, CFG_OFF, true, 0);
	fx_prop(&f, 8195, CFG_ON);
	fx_prop(&f, 8196, CFG_ON);
	fx_cmd(&f, "kut: INVALL col 2 (enable both)", its_mk_invall(2), VITS_R_NONE);
	fx_deliv(&f, "kut its-pending-migration: both delivered on PE 0", 2, 0u, 8195u, 0u, 8196u);
	fx_fini(&f);
}

int main(void)
{
	struct tstate t = { 0 };
	t_mapd(&t);
	t_device_table(&t);
	t_mapc_sync_movall(&t);
	t_mapti(&t);
	t_event_cmds(&t);
	t_opcodes_msi(&t);
	t_kvm_unit_tests(&t);
	return t_finish(&t, "test_refmodel");
}
